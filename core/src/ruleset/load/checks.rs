//! Checks across the set once its rules are compiled: what an effect reads is always
//! computed, and never settled; a selection names a fitting fact; rule versions and
//! parts do not overlap.

use super::*;

impl Loader {
    /// What an accepted request does may not wait on a value no rule computes: every
    /// `values.NAME` an effect reads is computed, on every day a request of that type may
    /// be made, by rule versions that judge it and compute the value without a `when`.
    /// Otherwise a set that passes `check` could fail on a case.
    pub(super) fn effects_computed(
        &mut self,
        sources: &[Source],
        model: &Model,
        rules: &[(Rule, &Source, usize)],
        revisions: &[Revision],
        values: &[ValueDef],
    ) {
        let Some(source) = sources.iter().find(|s| s.name == MODEL_FILE) else {
            return;
        };
        let Some(first) = revisions.first().map(|r| r.date) else {
            return;
        };
        for request in &model.requests {
            let (from, until) = request.in_force.unwrap_or((first, None));
            for (i, effect) in request.effects.iter().enumerate() {
                let read = match effect {
                    Effect::Form(on) | Effect::End(on) | Effect::EndChild(on) => vec![*on],
                    Effect::Set { from, to, .. } => vec![*from, *to],
                    Effect::AddChild => Vec::new(),
                    Effect::Record { fields, .. } => fields.iter().map(|(_, s)| *s).collect(),
                };
                for slot in read.into_iter().filter_map(|s| match s {
                    ModelSource::Value(slot) => Some(slot),
                    ModelSource::Request(_) => None,
                }) {
                    // What a request decided in case order does cannot wait on amounts
                    // computed once every request is decided.
                    let settled = rules.iter().map(|(rule, ..)| rule).find(|rule| {
                        rule.settled
                            && rule.applies_to.iter().any(|s| **s == *request.name)
                            && rule.values.iter().any(|(v, _)| *v == slot)
                    });
                    if let (false, Some(rule)) = (request.settled, settled) {
                        self.diagnostics.push(source.error(
                            &format!("requests.{}.effects[{i}]", request.name),
                            format!(
                                "reads `values.{}`, which the settled rule `{}` computes once every request is decided: what a request decided in case order does cannot depend on later requests",
                                values[slot].name, rule.id
                            ),
                        ));
                        continue;
                    }
                    let mut spans: Vec<(NaiveDate, Option<NaiveDate>)> = rules
                        .iter()
                        .map(|(rule, ..)| rule)
                        .filter(|rule| {
                            rule.when.is_none()
                                && rule.applies_to.iter().any(|s| **s == *request.name)
                                && rule.values.iter().any(|(v, _)| *v == slot)
                        })
                        .map(|rule| (rule.from, rule.until))
                        .collect();
                    spans.sort();
                    if let Some(gap) = first_gap(from.max(first), until, &spans) {
                        self.diagnostics.push(source.error(
                            &format!("requests.{}.effects[{i}]", request.name),
                            format!(
                                "no rule judging every {} request computes `values.{}` on {gap}, so an accepted one could not take effect",
                                request.name, values[slot].name
                            ),
                        ));
                    }
                }
            }
        }
    }

    /// A request's `child: select: from:` names a fact `(contract, date) -> [record]`
    /// listing the candidates.
    pub(super) fn selections(
        &mut self,
        sources: &[Source],
        model: &mut Model,
        signatures: &[FactSig],
    ) {
        let contract = Type::Record(model.contract_def().shape.name.clone());
        let names: Vec<(String, Type)> = model
            .records
            .iter()
            .map(|r| (r.shape.name.to_string(), Type::Record(r.shape.name.clone())))
            .collect();
        let source = sources.iter().find(|s| s.name == MODEL_FILE);
        for request in &mut model.requests {
            let Some(child) = &mut request.child else {
                continue;
            };
            let Some(select) = &mut child.select else {
                continue;
            };
            let Some((name, index)) = &mut select.from else {
                continue;
            };
            let wanted = Type::list(names[child.record].1.clone());
            let found = signatures.iter().position(|f| f.name == *name);
            let fits = found.is_some_and(|i| {
                let f = &signatures[i];
                f.params.iter().map(|(_, t)| t).eq([&contract, &Type::Date]) && f.result == wanted
            });
            if fits {
                *index = found;
            } else if let Some(source) = source {
                self.diagnostics.push(source.error(
                    &format!("requests.{}.child.select.from", request.name),
                    format!("`{name}` is not a fact ({CONTRACT}, date) of type {wanted}"),
                ));
            }
        }
    }

    pub(super) fn duplicate_parts(&mut self, parts: &[Part], files: &[PartSource]) {
        for (i, pair) in parts.windows(2).enumerate() {
            if pair[0].label == pair[1].label {
                self.diagnostics.push(files[i + 1].source.error(
                    "",
                    format!("{} encodes the same part as {}", pair[1].file, pair[0].file),
                ));
            }
        }
    }

    /// Two versions of one rule must not be in force on the same day.
    pub(super) fn overlapping_versions(&mut self, rules: &[(Rule, &Source, usize)]) {
        // Versions share an id: only rules of one id are compared, so this stays linear.
        let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
        for (j, (rule, ..)) in rules.iter().enumerate() {
            by_id.entry(rule.id.as_str()).or_default().push(j);
        }
        for (j, (later, source, i)) in rules.iter().enumerate() {
            let versions = by_id.get(later.id.as_str()).into_iter().flatten();
            for (earlier, other, k) in versions.take_while(|&&v| v < j).map(|&v| &rules[v]) {
                let overlap = earlier.until.is_none_or(|until| later.from <= until)
                    && later.until.is_none_or(|until| earlier.from <= until);
                if overlap {
                    let place = other
                        .locator
                        .get()
                        .find(&format!("rules[{k}].id"))
                        .map_or(String::new(), |at| format!(":{}:{}", at.line, at.column));
                    self.diagnostics.push(source.error(
                        &format!("rules[{i}].id"),
                        format!(
                            "rule `{}` is already in force on some of these days ({}{place}): its versions must not overlap",
                            later.id, other.display
                        ),
                    ));
                }
            }
        }
    }
}

/// The first day from `from` through `until` (or on) that no span covers, if any.
pub(super) fn first_gap(
    from: NaiveDate,
    until: Option<NaiveDate>,
    spans: &[(NaiveDate, Option<NaiveDate>)],
) -> Option<NaiveDate> {
    let mut day = from;
    for &(start, end) in spans {
        if until.is_some_and(|u| day > u) {
            return None;
        }
        if start > day {
            return Some(day);
        }
        match end {
            None => return None,
            Some(end) if end >= day => day = end.succ_opt()?,
            Some(_) => {}
        }
    }
    (until.is_none_or(|u| day <= u)).then_some(day)
}

#[cfg(test)]
mod gap_tests {
    use super::first_gap;
    use chrono::NaiveDate;

    fn day(text: &str) -> NaiveDate {
        crate::calendar::parse_date(text).unwrap()
    }

    #[test]
    fn spans_cover_from_a_day_on_or_leave_a_gap() {
        let open = [(day("2022-09-01"), None)];
        assert_eq!(first_gap(day("2022-09-01"), None, &open), None);
        let split = [
            (day("2022-09-01"), Some(day("2026-03-31"))),
            (day("2026-04-01"), None),
        ];
        assert_eq!(first_gap(day("2022-09-01"), None, &split), None);
        let ended = [(day("2022-09-01"), Some(day("2026-03-31")))];
        assert_eq!(
            first_gap(day("2022-09-01"), None, &ended),
            Some(day("2026-04-01"))
        );
        assert_eq!(
            first_gap(day("2022-09-01"), Some(day("2026-03-31")), &ended),
            None
        );
        let late = [(day("2026-04-01"), None)];
        assert_eq!(
            first_gap(day("2022-09-01"), None, &late),
            Some(day("2022-09-01"))
        );
        assert_eq!(
            first_gap(day("2022-09-01"), None, &[]),
            Some(day("2022-09-01"))
        );
    }
}
