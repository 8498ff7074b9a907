//! The impact of a rule change: every case evaluated under an old and a new rule set, and
//! each request or contract whose ruling changed (decision, value or findings), grouped
//! by the rule whose findings changed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use crate::case::Case;
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
                Case::from_str(rules, &text, Some(&name))
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
                    report.changes.push(Change {
                        case: name.clone(),
                        subject: "case".to_owned(),
                        differences: vec![format!(
                            "cannot be evaluated under the {side} rules: {error}"
                        )],
                        rules: vec![format!(
                            "(evaluable under the {} rules only)",
                            if side == "old" { "new" } else { "old" }
                        )],
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

    /// The report as JSON, with the changes also grouped by rule.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Grouped<'a> {
            summary: Summary,
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
        let mut values = BTreeSet::new();
        if let (Some(old), Some(new)) = (old, new) {
            if old.decision != new.decision {
                differences.push(
                    format!("decision {:?} -> {:?}", old.decision, new.decision).to_lowercase(),
                );
            }
            compare_values(&old.values, &new.values, &mut differences, &mut values);
        }
        let empty = Vec::new();
        let (old_findings, new_findings) = (
            old.map_or(&empty, |r| &r.findings),
            new.map_or(&empty, |r| &r.findings),
        );
        let rules = compare_findings(old_findings, new_findings, &mut differences);
        push(
            &mut changes,
            case,
            format!("requests[{i}]"),
            differences,
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
        let mut values = BTreeSet::new();
        match (old, new) {
            (Some(old), Some(new)) => {
                compare_values(&old.values, &new.values, &mut differences, &mut values)
            }
            (None, Some(_)) => {
                differences.push("contract formed only under the new rules".to_owned())
            }
            (Some(_), None) => {
                differences.push("contract formed only under the old rules".to_owned())
            }
            (None, None) => {}
        }
        let empty = Vec::new();
        let rules = compare_findings(
            old.map_or(&empty, |c| &c.findings),
            new.map_or(&empty, |c| &c.findings),
            &mut differences,
        );
        push(
            &mut changes,
            case,
            format!("contracts[{id}]"),
            differences,
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
    differences: Vec<String>,
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
    });
}

fn compare_values(
    old: &BTreeMap<String, Value>,
    new: &BTreeMap<String, Value>,
    differences: &mut Vec<String>,
    names: &mut BTreeSet<String>,
) {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let (a, b) = (old.get(key), new.get(key));
        if a != b {
            let show = |v: Option<&Value>| v.map_or("(none)".to_owned(), |v| v.to_string());
            differences.push(format!("{key} {} -> {}", show(a), show(b)));
            names.insert(format!("values.{key}"));
        }
    }
}

fn compare_findings(
    old: &[Finding],
    new: &[Finding],
    differences: &mut Vec<String>,
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
        }
    }
    rules
}
