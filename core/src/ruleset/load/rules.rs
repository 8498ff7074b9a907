//! One rule version compiled: its citation, days, outcome and message checked, its
//! expressions typed against its context, reading only values ready for it.

use super::*;

/// Versions begin on a revision's day and end the day before one.
pub(super) fn check_dates(
    source: &Source,
    path: &str,
    from: NaiveDate,
    until: Option<NaiveDate>,
    revisions: &[Revision],
    found: &mut Vec<Diagnostic>,
) {
    let is_revision = |day: NaiveDate| revisions.iter().any(|r| r.date == day);
    if !is_revision(from) {
        found.push(source.error(
            &format!("{path}.in_force.from"),
            format!("{from} is not the day of a revision in ruleset.yaml"),
        ));
    }
    if let Some(until) = until {
        if until < from {
            found.push(source.error(&format!("{path}.in_force.until"), "ends before it begins"));
        } else if !until.succ_opt().is_some_and(is_revision) {
            found.push(source.error(
                &format!("{path}.in_force.until"),
                format!("{until} is not the day before a revision in ruleset.yaml"),
            ));
        }
    }
}

pub(super) struct RuleCompiler<'a> {
    pub(super) model: &'a Model,
    pub(super) schema: &'a Schema,
    pub(super) params: &'a BTreeMap<String, (Type, Value)>,
    pub(super) dated: &'a crate::ruleset::DatedParams,
    pub(super) values: &'a [ValueDef],
    pub(super) facts: &'a [FactSig],
    pub(super) source: &'a Source,
    pub(super) path: String,
    pub(super) id: &'a str,
    pub(super) poisoned: &'a [usize],
    /// For each value slot, the earlier rules (indices into `earlier`) computing it: a
    /// rule's readiness looks at those alone, so loading stays linear in the rules.
    pub(super) setters: &'a [Vec<usize>],
}

impl RuleCompiler<'_> {
    pub(super) fn error(&self, field: &str, message: impl Into<String>) -> Diagnostic {
        let path = if field.is_empty() {
            self.path.clone()
        } else {
            format!("{}.{field}", self.path)
        };
        self.source
            .error(&path, format!("{}: {}", self.id, message.into()))
    }

    /// Which values a rule's expression may read: those an earlier rule judging every one
    /// of its subjects computes on every day it is in force, or that this rule computed
    /// before; each other one says why not.
    pub(super) fn readiness(
        &self,
        rule: &RuleFile,
        earlier: &[(Rule, &Source, usize)],
        own: &[usize],
    ) -> Vec<ValueSlot> {
        self.values
            .iter()
            .enumerate()
            .map(|(slot, value)| {
                // The earlier rules computing this value, in order.
                let setting = || {
                    self.setters
                        .get(slot)
                        .into_iter()
                        .flatten()
                        .map(|&i| &earlier[i])
                };
                // The first day of this rule's days on which, for some subject it judges, no
                // earlier version computes the value unconditionally: versions of one rule
                // split at a revision cover the days together, so a reader need not split.
                let gap = rule.applies_to.iter().find_map(|subject| {
                    let mut spans: Vec<(NaiveDate, Option<NaiveDate>)> = setting()
                        .filter(|(r, ..)| r.when.is_none() && r.applies_to.contains(subject))
                        .map(|(r, ..)| (r.from, r.until))
                        .collect();
                    spans.sort();
                    super::checks::first_gap(rule.in_force.from, rule.in_force.until, &spans)
                        .map(|day| (subject, day))
                });
                let ready =
                    own.contains(&slot) || self.poisoned.contains(&slot) || gap.is_none();
                let conditional = setting()
                    .find(|(r, ..)| r.applies_to.iter().any(|s| rule.applies_to.contains(s)));
                // A rule deciding in case order cannot wait on the settled timeline.
                let settled_by = (!self.judged_settled(rule.settled, &rule.applies_to))
                    .then(|| {
                        setting().find(|(r, ..)| {
                            r.settled && r.applies_to.iter().any(|s| rule.applies_to.contains(s))
                        })
                    })
                    .flatten();
                if let Some((r, ..)) = settled_by {
                    return ValueSlot {
                        name: value.name.clone(),
                        ty: value_type(value),
                        not_ready: Some(format!(
                            "which the settled rule `{}` computes once every request is decided: a rule deciding in case order cannot read it (mark this rule `settled: true`)",
                            r.id
                        )),
                    };
                }
                ValueSlot {
                    name: value.name.clone(),
                    ty: value_type(value),
                    not_ready: (!ready).then(|| match (conditional, gap) {
                        (Some((r, ..)), _) if r.when.is_some() => format!(
                            "which rule `{}` computes only when its `when` holds",
                            r.id
                        ),
                        (_, Some((subject, day))) if day > rule.in_force.from => format!(
                            "which no earlier rule computes for `{subject}` from {day} on: split this rule there (`until:` the day before, and a version `from: {day}`), or compute the value on those days too"
                        ),
                        _ => "before a rule judging every one of this rule's subjects computes it on all of its days".to_owned(),
                    }),
                }
            })
            .collect()
    }

    /// Whether a rule is judged on the settled timeline: marked so, or judging only
    /// request types the model decides there.
    pub(super) fn judged_settled(&self, settled: bool, subjects: &[String]) -> bool {
        settled
            || subjects
                .iter()
                .all(|s| self.model.request(s).is_some_and(|r| r.settled))
    }

    pub(super) fn compile(
        &self,
        rule: &RuleFile,
        part_index: usize,
        part: &Part,
        set: &RuleSetFile,
        revisions: &[Revision],
        earlier: &[(Rule, &Source, usize)],
    ) -> Result<Rule, Vec<Diagnostic>> {
        let mut found = Vec::new();
        let cite = match parse_reference(&rule.reference) {
            Some((cited, cite)) if cited == part.label => {
                let names_one = rule.reference.contains('.')
                    && !(rule.reference.starts_with("suppl.")
                        && rule.reference.matches('.').count() == 1);
                if names_one && part.paragraph_cited(&rule.reference).is_none() {
                    let numbers: Vec<String> =
                        part.numbers.iter().map(ToString::to_string).collect();
                    found.push(self.error(
                        "ref",
                        format!(
                            "cites a paragraph the text does not have (its paragraphs are {})",
                            numbers.join(", ")
                        ),
                    ));
                }
                cite
            }
            Some(_) => {
                found.push(self.error(
                    "ref",
                    format!("`{}` cites another part than this file's", rule.reference),
                ));
                String::new()
            }
            None => {
                found.push(self.error(
                    "ref",
                    format!("`{}` is not a citation like \"6.1\", \"9.2.2\", \"appx2\" or \"suppl.YYYY-MM-DD.2\"", rule.reference),
                ));
                String::new()
            }
        };
        check_dates(
            self.source,
            &self.path,
            rule.in_force.from,
            rule.in_force.until,
            revisions,
            &mut found,
        );
        if rule.applies_to.is_empty() {
            found.push(self.error("applies_to", "name at least one request type or `contract`"));
        }
        match (rule.outcome.is_some(), rule.message.is_some()) {
            (true, false) => {
                found.push(self.error("message", "a rule with an outcome needs a message"))
            }
            (false, true) => {
                found.push(self.error("outcome", "a rule with a message needs an outcome"))
            }
            _ => {}
        }
        if rule.require.is_some() && rule.outcome.is_none() {
            found.push(self.error(
                "outcome",
                "a rule with `require` needs the outcome of its finding",
            ));
        }
        if rule.outcome.is_none() && rule.values.is_empty() {
            found.push(self.error("", "the rule neither computes values nor makes a finding"));
        }
        if rule.settled {
            if rule.applies_to.iter().any(|s| s == CONTRACT) {
                found.push(self.error(
                    "settled",
                    "contracts are judged on `as_of` once the case is settled; `settled` is for rules judging requests",
                ));
            }
            let decided: Vec<&str> = rule
                .applies_to
                .iter()
                .filter(|s| self.model.request(s).is_some_and(|r| !r.settled))
                .map(String::as_str)
                .collect();
            if rule.outcome == Some(crate::ruling::Outcome::Reject) && !decided.is_empty() {
                found.push(self.error(
                    "outcome",
                    format!(
                        "a settled rule cannot reject a {} request: it is decided in case order before the case is settled (give `warn` or `info`, or mark the request type `settled` in model.yaml)",
                        decided.join(" or ")
                    ),
                ));
            }
        }
        if let Some(message) = &rule.message {
            for (language, text) in [("ja", &message.ja), ("en", &message.en)] {
                for (offset, name) in placeholder_offsets(text) {
                    let known = match name.strip_prefix("params.") {
                        // A param, dated or not, or one entry of a map param.
                        Some(param) => {
                            let (param, key) = match param.split_once('.') {
                                Some((param, key)) => (param, Some(key)),
                                None => (param, None),
                            };
                            // A dated one by its first value: all are of one kind.
                            let value = self.params.get(param).map(|(_, v)| v).or_else(|| {
                                self.dated
                                    .get(param)
                                    .map(|(_, v)| v.on_day_ref(NaiveDate::MIN))
                            });
                            match (value, key) {
                                (Some(_), None) => true,
                                (Some(Value::Map(map)), Some(key)) => map.contains_key(key),
                                _ => false,
                            }
                        }
                        None => set.values.contains_key(name),
                    };
                    if known {
                        continue;
                    }
                    // At the placeholder itself, with the nearest name it may have meant.
                    let field = format!("message.{language}");
                    let before = &text[..offset];
                    let line = before.matches('\n').count() + 1;
                    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
                        .chars()
                        .count()
                        + 1;
                    let path = format!("{}.{field}", self.path);
                    let at = self.source.locator.get().inside(&path, line, column);
                    let hint = match name.strip_prefix("params.") {
                        Some(param) => crate::expr::compile::did_you_mean(
                            param,
                            self.params.keys().map(String::as_str),
                        )
                        .map(|hint| hint.replacen('`', "`params.", 1)),
                        None => crate::expr::compile::did_you_mean(
                            name,
                            set.values.keys().map(String::as_str),
                        ),
                    };
                    found.push(
                        self.error(
                            &field,
                            format!("`{{{name}}}` names no declared value or param"),
                        )
                        .at(at)
                        .with_hint(hint),
                    );
                }
            }
        }
        for (i, subject) in rule.applies_to.iter().enumerate() {
            if subject != CONTRACT && self.model.request(subject).is_none() {
                let mut known: Vec<&str> = self.model.requests.iter().map(|r| &*r.name).collect();
                known.push(CONTRACT);
                found.push(
                    self.error(
                        &format!("applies_to[{i}]"),
                        format!(
                            "`{subject}` is neither a request type of model.yaml nor `{CONTRACT}` (they are: {})",
                            known.join(", ")
                        ),
                    )
                    .with_hint(crate::expr::compile::did_you_mean(subject, known.iter().copied())),
                );
            }
        }
        if !found.is_empty()
            && rule
                .applies_to
                .iter()
                .any(|s| s != CONTRACT && self.model.request(s).is_none())
        {
            // What its expressions may read depends on what it judges: not another mistake.
            return Err(found);
        }
        let (variables, absent) = context(self.model, &rule.applies_to);
        let mut own: Vec<usize> = Vec::new();
        let names = |own: &[usize]| -> Vec<ValueSlot> { self.readiness(rule, earlier, own) };
        let compile = |field: &str,
                       text: &str,
                       expected: &Type,
                       values: &[ValueSlot],
                       narrowed: &[(String, Type)],
                       found: &mut Vec<Diagnostic>| {
            let names = Names {
                narrowed: narrowed.to_vec(),
                schema: Some(self.schema),
                variables: variables.clone(),
                absent: absent.clone(),
                params: Some(self.params),
                dated: Some(self.dated),
                values: Some(values),
                facts: self.facts,
                arguments: Vec::new(),
            };
            compile_expression(
                self.source,
                &format!("{}.{field}", self.path),
                self.id,
                text,
                &names,
                expected,
                found,
            )
        };
        let when = rule
            .when
            .as_ref()
            .and_then(|t| compile("when", t, &Type::Bool, &names(&own), &[], &mut found));
        // What the `when` establishes holds in the rest of the rule.
        let narrowed = when
            .as_ref()
            .map(|w| w.compiled.if_true.clone())
            .unwrap_or_default();
        let mut values = Vec::new();
        for (name, text) in &rule.values {
            let Some(slot) = self.values.iter().position(|v| v.name == *name) else {
                found.push(self.error(
                    &format!("values.{name}"),
                    format!("`{name}` is not among the values declared in ruleset.yaml"),
                ));
                continue;
            };
            let expected = value_type(&self.values[slot]);
            if let Some(e) = compile(
                &format!("values.{name}"),
                text,
                &expected,
                &names(&own),
                &narrowed,
                &mut found,
            ) {
                values.push((slot, e));
            }
            own.push(slot);
        }
        let require = rule.require.as_ref().and_then(|t| {
            compile(
                "require",
                t,
                &Type::Bool,
                &names(&own),
                &narrowed,
                &mut found,
            )
        });
        if !found.is_empty() {
            return Err(found);
        }
        Ok(Rule {
            id: rule.id.clone(),
            reference: rule.reference.clone(),
            cite,
            part: part_index,
            from: rule.in_force.from,
            until: rule.in_force.until,
            reconstructed: rule.reconstructed,
            applies_to: rule.applies_to.clone(),
            settled: rule.settled,
            when,
            values,
            require,
            outcome: rule.outcome,
            message: rule.message.clone(),
        })
    }
}

/// The `{name}` placeholders of a message, each with the byte offset of its `{`.
pub(super) fn placeholder_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('{').map(|i| from + i) {
        let Some(close) = text[open + 1..].find('}').map(|i| open + 1 + i) else {
            break;
        };
        let name = &text[open + 1..close];
        // A `{` inside the name starts the next placeholder instead.
        if let Some(inner) = name.rfind('{') {
            from = open + 1 + inner;
            continue;
        }
        found.push((open, name));
        from = close + 1;
    }
    found
}

/// The `{name}` placeholders of a message.
pub(crate) fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{')
        .skip(1)
        .filter_map(|piece| piece.split_once('}').map(|(name, _)| name))
}
