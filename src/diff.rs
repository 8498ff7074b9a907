//! The impact of a rule change: every case evaluated under an old and a new rule set, and
//! each request or contract whose ruling changed (decision, value or findings), grouped
//! by the rule whose findings changed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use crate::eval::evaluate;
use crate::ruleset::RuleSet;
use crate::ruling::{Finding, Ruling, Value};

/// One request or contract whose ruling differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The case file.
    pub case: String,
    /// `requests[2]` or `contracts[WG-1]`.
    pub subject: String,
    /// Each difference, in words: `decision accepted -> rejected`, `+ finding …`.
    pub differences: Vec<String>,
    /// The rules whose findings appeared or disappeared, with their citations; the
    /// changed value names (`values.credit`) when no finding changed.
    pub rules: Vec<String>,
    /// The same differences, structured: what changed, and its value before and after.
    pub details: Vec<Detail>,
}

/// One difference of one request or contract, for machines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detail {
    /// `decision`, `values.NAME`, `finding` (a rule's finding appeared or disappeared),
    /// `contract` (formed under one rule set only) or `case` (evaluable under one only).
    pub field: String,
    /// For a finding, the rule's id.
    pub rule: Option<String>,
    /// For a finding, its citation (`ref`).
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// Under the old rules: the decision, the value, the finding's outcome; `null` when
    /// there was none.
    pub before: Option<String>,
    /// Under the new rules, likewise.
    pub after: Option<String>,
}

/// One difference, flat, as `--format json` lists it under `rulings`.
#[derive(Debug, Clone, Serialize)]
pub struct Row<'a> {
    /// The case file.
    pub case: &'a str,
    /// The request's index, for a request.
    pub request: Option<usize>,
    /// The contract's id, for a contract.
    pub contract: Option<&'a str>,
    #[serde(flatten)]
    pub detail: &'a Detail,
}

/// The whole comparison.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Cases compared.
    pub cases: usize,
    /// Requests and contracts compared.
    pub subjects: usize,
    /// Cases with at least one change.
    pub cases_changed: usize,
    /// Every change, case by case.
    pub changes: Vec<Change>,
    /// Cases that could not be evaluated under one of the sets.
    pub errors: Vec<String>,
}

impl Report {
    /// Evaluates each case file under both rule sets and collects the differences.
    pub fn build(old: &RuleSet, new: &RuleSet, files: &[impl AsRef<Path>]) -> Report {
        let mut report = Report::default();
        for file in files {
            let file = file.as_ref();
            let name = file.display().to_string();
            let text = match std::fs::read_to_string(file) {
                Ok(text) => text,
                Err(error) => {
                    report.errors.push(format!("{name}: {error}"));
                    continue;
                }
            };
            // Each set reads the case against its own model: a revision may add words.
            let judge = |rules: &RuleSet| {
                crate::expect::case_from_str(rules, &text, Some(&name))
                    .map_err(crate::EvalError::Case)
                    .and_then(|case| evaluate(rules, &case))
            };
            report.cases += 1;
            let (before, after) = match (judge(old), judge(new)) {
                (Ok(before), Ok(after)) => (before, after),
                (Err(old_error), Err(new_error)) => {
                    report.cases -= 1;
                    report.errors.push(format!(
                        "{name}: old rules: {old_error}; new rules: {new_error}"
                    ));
                    continue;
                }
                // Evaluable under one set only: that itself is the change.
                (before, after) => {
                    let (side, error) = match (before, after) {
                        (Err(error), _) => ("old", error),
                        (_, Err(error)) => ("new", error),
                        _ => unreachable!("one side failed"),
                    };
                    report.cases_changed += 1;
                    let message = format!("cannot be evaluated under the {side} rules: {error}");
                    let (before, after) = if side == "old" {
                        (Some(message.clone()), None)
                    } else {
                        (None, Some(message.clone()))
                    };
                    report.changes.push(Change {
                        case: name.clone(),
                        subject: "case".to_owned(),
                        differences: vec![message],
                        rules: vec![format!(
                            "(evaluable under the {} rules only)",
                            if side == "old" { "new" } else { "old" }
                        )],
                        details: vec![Detail {
                            field: "case".to_owned(),
                            rule: None,
                            reference: None,
                            before,
                            after,
                        }],
                    });
                    continue;
                }
            };
            report.subjects += after.requests.len() + after.contracts.len();
            let changes = compare(&name, &before, &after);
            if !changes.is_empty() {
                report.cases_changed += 1;
            }
            report.changes.extend(changes);
        }
        report
    }

    /// The changes grouped by rule (a change naming several rules is under each).
    pub fn by_rule(&self) -> BTreeMap<&str, Vec<&Change>> {
        let mut groups: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
        for change in &self.changes {
            for rule in &change.rules {
                groups.entry(rule.as_str()).or_default().push(change);
            }
        }
        groups
    }

    /// The report as Markdown-friendly text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} of {} cases changed: {} of {} rulings (requests and contracts) differ.",
            self.cases_changed,
            self.cases,
            self.changes.len(),
            self.subjects
        );
        for (rule, changes) in self.by_rule() {
            let _ = writeln!(out, "\n## {rule} — {} changed", changes.len());
            for change in changes {
                let _ = writeln!(out, "- {} {}", change.case, change.subject);
                for difference in &change.differences {
                    let _ = writeln!(out, "  - {difference}");
                }
            }
        }
        for error in &self.errors {
            let _ = writeln!(out, "\nerror: {error}");
        }
        out
    }

    /// Every difference, one row each: case, request or contract, what changed, before
    /// and after.
    pub fn rows(&self) -> Vec<Row<'_>> {
        let mut rows = Vec::new();
        for change in &self.changes {
            let request = change
                .subject
                .strip_prefix("requests[")
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|i| i.parse().ok());
            let contract = change
                .subject
                .strip_prefix("contracts[")
                .and_then(|rest| rest.strip_suffix(']'));
            for detail in &change.details {
                rows.push(Row {
                    case: &change.case,
                    request,
                    contract,
                    detail,
                });
            }
        }
        rows
    }

    /// The report as JSON: `rulings` lists every difference (case, request or contract,
    /// field, rule, before, after); `changes` the same per request or contract, also
    /// grouped `by_rule`.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Grouped<'a> {
            summary: Summary,
            rulings: Vec<Row<'a>>,
            by_rule: BTreeMap<&'a str, Vec<&'a Change>>,
            changes: &'a [Change],
            errors: &'a [String],
        }
        #[derive(Serialize)]
        struct Summary {
            cases: usize,
            cases_changed: usize,
            subjects: usize,
            subjects_changed: usize,
        }
        let grouped = Grouped {
            summary: Summary {
                cases: self.cases,
                cases_changed: self.cases_changed,
                subjects: self.subjects,
                subjects_changed: self.changes.len(),
            },
            rulings: self.rows(),
            by_rule: self.by_rule(),
            changes: &self.changes,
            errors: &self.errors,
        };
        serde_json::to_string_pretty(&grouped).expect("reports serialize")
    }
}

/// The differences between two rulings of one case.
pub fn compare(case: &str, before: &Ruling, after: &Ruling) -> Vec<Change> {
    let mut changes = Vec::new();
    let requests = before.requests.len().max(after.requests.len());
    for i in 0..requests {
        let (old, new) = (before.requests.get(i), after.requests.get(i));
        let mut differences = Vec::new();
        let mut details = Vec::new();
        let mut values = BTreeSet::new();
        if let (Some(old), Some(new)) = (old, new) {
            if old.decision != new.decision {
                differences.push(
                    format!("decision {:?} -> {:?}", old.decision, new.decision).to_lowercase(),
                );
                details.push(Detail {
                    field: "decision".to_owned(),
                    rule: None,
                    reference: None,
                    before: Some(format!("{:?}", old.decision).to_lowercase()),
                    after: Some(format!("{:?}", new.decision).to_lowercase()),
                });
            }
            compare_values(
                &old.values,
                &new.values,
                &mut differences,
                &mut details,
                &mut values,
            );
        }
        let empty = Vec::new();
        let (old_findings, new_findings) = (
            old.map_or(&empty, |r| &r.findings),
            new.map_or(&empty, |r| &r.findings),
        );
        let rules = compare_findings(old_findings, new_findings, &mut differences, &mut details);
        push(
            &mut changes,
            case,
            format!("requests[{i}]"),
            (differences, details),
            rules,
            values,
        );
    }
    let ids: BTreeSet<&str> = before
        .contracts
        .iter()
        .chain(&after.contracts)
        .map(|c| c.id.as_str())
        .collect();
    for id in ids {
        let old = before.contracts.iter().find(|c| c.id == id);
        let new = after.contracts.iter().find(|c| c.id == id);
        let mut differences = Vec::new();
        let mut details = Vec::new();
        let mut values = BTreeSet::new();
        let formed = |before: bool, after: bool| Detail {
            field: "contract".to_owned(),
            rule: None,
            reference: None,
            before: Some(if before { "formed" } else { "not formed" }.to_owned()),
            after: Some(if after { "formed" } else { "not formed" }.to_owned()),
        };
        match (old, new) {
            (Some(old), Some(new)) => compare_values(
                &old.values,
                &new.values,
                &mut differences,
                &mut details,
                &mut values,
            ),
            (None, Some(_)) => {
                differences.push("contract formed only under the new rules".to_owned());
                details.push(formed(false, true));
            }
            (Some(_), None) => {
                differences.push("contract formed only under the old rules".to_owned());
                details.push(formed(true, false));
            }
            (None, None) => {}
        }
        let empty = Vec::new();
        let rules = compare_findings(
            old.map_or(&empty, |c| &c.findings),
            new.map_or(&empty, |c| &c.findings),
            &mut differences,
            &mut details,
        );
        push(
            &mut changes,
            case,
            format!("contracts[{id}]"),
            (differences, details),
            rules,
            values,
        );
    }
    changes
}

fn push(
    changes: &mut Vec<Change>,
    case: &str,
    subject: String,
    (differences, details): (Vec<String>, Vec<Detail>),
    rules: BTreeSet<String>,
    values: BTreeSet<String>,
) {
    if differences.is_empty() {
        return;
    }
    let rules = if rules.is_empty() { values } else { rules };
    changes.push(Change {
        case: case.to_owned(),
        subject,
        differences,
        rules: rules.into_iter().collect(),
        details,
    });
}

fn compare_values(
    old: &BTreeMap<String, Value>,
    new: &BTreeMap<String, Value>,
    differences: &mut Vec<String>,
    details: &mut Vec<Detail>,
    names: &mut BTreeSet<String>,
) {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let (a, b) = (old.get(key), new.get(key));
        if a != b {
            let show = |v: Option<&Value>| v.map_or("(none)".to_owned(), |v| v.to_string());
            differences.push(format!("{key} {} -> {}", show(a), show(b)));
            names.insert(format!("values.{key}"));
            let plain = |v: Option<&Value>| {
                v.map(|v| match serde_json::to_value(v) {
                    Ok(serde_json::Value::String(text)) => text,
                    _ => v.to_string(),
                })
            };
            details.push(Detail {
                field: format!("values.{key}"),
                rule: None,
                reference: None,
                before: plain(a),
                after: plain(b),
            });
        }
    }
}

fn compare_findings(
    old: &[Finding],
    new: &[Finding],
    differences: &mut Vec<String>,
    details: &mut Vec<Detail>,
) -> BTreeSet<String> {
    let key = |f: &Finding| (f.rule.clone(), f.outcome);
    let old_keys: BTreeSet<_> = old.iter().map(key).collect();
    let new_keys: BTreeSet<_> = new.iter().map(key).collect();
    let mut rules = BTreeSet::new();
    // Findings only the old ruling has (-), then those only the new one has (+).
    for (sign, findings, other) in [("-", old, &new_keys), ("+", new, &old_keys)] {
        for finding in findings.iter().filter(|f| !other.contains(&key(f))) {
            let outcome = format!("{:?}", finding.outcome).to_lowercase();
            differences.push(format!(
                "{sign} {outcome} {} ({})",
                finding.rule, finding.cite
            ));
            rules.insert(format!("{} ({})", finding.rule, finding.reference));
            let (before, after) = if sign == "-" {
                (Some(outcome), None)
            } else {
                (None, Some(outcome))
            };
            details.push(Detail {
                field: "finding".to_owned(),
                rule: Some(finding.rule.clone()),
                reference: Some(finding.reference.clone()),
                before,
                after,
            });
        }
    }
    rules
}
