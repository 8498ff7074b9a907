//! Expected results the legal team writes into a case (`expect:`), and the comparison of
//! a ruling against them for `yakkan test`.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::case::{Case, CaseLimits};
use crate::error::Diagnostic;
use crate::ruleset::RuleSet;
use crate::ruling::{Decision, Finding, Ruling, Value};
use crate::yaml::Syntax;

/// The top-level key of a case document that holds its expected results: the test
/// harness's, not part of the case format, so the engine hands it back unread.
pub const KEY: &str = "expect";

/// The case's JSON Schema, with its `expect:` block.
pub fn case_schema(rules: &RuleSet) -> schemars::Schema {
    let expect = schemars::schema_for!(Expectations);
    crate::model::json_schema::case_schema(&rules.model, &rules.name, &[(KEY, expect)])
}

/// Reads a case that may carry an `expect:` block, as [`Case::from_str`] reads one, and
/// checks the block against `rules` (what it may name).
pub fn case_from_str(rules: &RuleSet, text: &str, file: Option<&str>) -> Result<Case, Diagnostic> {
    from_str_with(rules, text, file, &CaseLimits::default())
}

/// As [`case_from_str`], refusing a case past `limits`.
pub fn from_str_with(
    rules: &RuleSet,
    text: &str,
    file: Option<&str>,
    limits: &CaseLimits,
) -> Result<Case, Diagnostic> {
    read_case(rules, text, file, Syntax::detect(file, text), limits)
}

/// Reads a case that may carry an `expect:` block, refusing one past `limits`; a
/// malformed block is an input error at its place, as any field of the case.
pub fn read_case(
    rules: &RuleSet,
    text: &str,
    file: Option<&str>,
    syntax: Syntax,
    limits: &CaseLimits,
) -> Result<Case, Diagnostic> {
    let case = Case::read_owning(&rules.model, text, file, syntax, limits, &[KEY])?;
    of(&case, rules)?;
    Ok(case)
}

/// The `expect:` block of a case read with [`read_case`], if it has one.
pub fn of(case: &Case, rules: &RuleSet) -> Result<Option<Expectations>, Diagnostic> {
    let Some((_, block)) = case.owned.iter().find(|(key, _)| key == KEY) else {
        return Ok(None);
    };
    let error = |path: String, message: String| {
        let hint = crate::hint::for_message(&message);
        case.source.error(path, message).with_hint(hint)
    };
    let expect: Expectations = serde_path_to_error::deserialize(block).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." {
            KEY.to_owned()
        } else {
            format!("{KEY}.{path}")
        };
        error(path, e.into_inner().to_string())
    })?;
    let values = &rules.value_names;
    for (id, contract) in &expect.contracts {
        if let Some(name) = contract.values.keys().find(|n| !values.contains(n)) {
            let known: Vec<&str> = values.iter().map(String::as_str).collect();
            return Err(error(
                format!("{KEY}.contracts.{id}.{name}"),
                format!(
                    "`{name}` is not a value the rule set computes (values: {})",
                    known.join(", ")
                ),
            )
            .with_hint(crate::expr::compile::did_you_mean(
                name,
                known.iter().copied(),
            )));
        }
    }
    Ok(Some(expect))
}

/// What a case expects of its ruling. Every field is optional; only what is written is
/// checked.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// The revision expected in force on `as_of` (`ruleset.in_force`).
    #[serde(default)]
    pub in_force: Option<String>,
    /// Per request, in order; `{}` checks nothing for that request.
    #[serde(default)]
    pub requests: Vec<RequestExpectation>,
    /// Per contract id.
    #[serde(default)]
    pub contracts: BTreeMap<String, ContractExpectation>,
}

/// What one request's ruling should hold.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestExpectation {
    /// The decision.
    #[serde(default)]
    pub decision: Option<Decision>,
    /// Citations that must appear among the findings.
    #[serde(default)]
    pub refs: Vec<String>,
    /// Citations that must not appear.
    #[serde(default)]
    pub not_refs: Vec<String>,
    /// Values and what they must be (compared as text: `"1234"` and `1234` agree).
    #[serde(default)]
    pub values: BTreeMap<String, serde_json::Value>,
}

/// What one contract's ruling should hold: citations, and any value the rule set
/// computes for contracts, by name (`NAME: value`). The case reader
/// refuses a name the rule set does not declare.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct ContractExpectation {
    /// Values and what they must be (compared as text).
    #[serde(flatten)]
    pub values: BTreeMap<String, serde_json::Value>,
    /// Citations that must appear among the contract's findings.
    #[serde(default)]
    pub refs: Vec<String>,
    /// Citations that must not appear.
    #[serde(default)]
    pub not_refs: Vec<String>,
}

/// One difference between what a case expects and what the ruling says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// `requests[2]`, `contracts[WG-1]` or `ruleset`.
    pub subject: String,
    /// The field that differs.
    pub field: String,
    /// What the case expects.
    pub expected: String,
    /// What the ruling says.
    pub actual: String,
    /// The rules whose findings decided the subject (rejecting ones first).
    pub decided_by: Vec<String>,
    /// For a value: the rule versions in force that compute it for the subject (see
    /// [`compare_in`]), in the order they compute it.
    pub computed_by: Vec<String>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: expected {}, got {}",
            self.subject, self.field, self.expected, self.actual
        )?;
        if !self.computed_by.is_empty() {
            write!(f, " (computed by {})", self.computed_by.join(", then "))?;
        } else if !self.decided_by.is_empty() {
            write!(f, " (rules: {})", self.decided_by.join(", "))?;
        }
        Ok(())
    }
}

/// Compares a ruling with what its case expects.
pub fn compare(expect: &Expectations, ruling: &Ruling) -> Vec<Mismatch> {
    let mut found = Vec::new();
    if let Some(in_force) = &expect.in_force {
        differ(
            &mut found,
            "ruleset",
            "in_force",
            in_force,
            &ruling.ruleset.in_force,
            &[],
        );
    }
    for (index, wanted) in expect.requests.iter().enumerate() {
        let subject = format!("requests[{index}]");
        let Some(actual) = ruling.requests.get(index) else {
            differ(&mut found, &subject, "request", "a request", "none", &[]);
            continue;
        };
        let findings = &actual.findings;
        if let Some(decision) = wanted.decision {
            let show = |d: Decision| format!("{d:?}").to_lowercase();
            differ(
                &mut found,
                &subject,
                "decision",
                &show(decision),
                &show(actual.decision),
                findings,
            );
        }
        check_refs(
            &mut found,
            &subject,
            &wanted.refs,
            &wanted.not_refs,
            findings,
        );
        for (name, value) in &wanted.values {
            let got = actual
                .values
                .get(name)
                .map_or("(none)".to_owned(), Value::as_text);
            differ(
                &mut found,
                &subject,
                &format!("values.{name}"),
                &as_text(value),
                &got,
                findings,
            );
        }
    }
    for (id, wanted) in &expect.contracts {
        let subject = format!("contracts[{id}]");
        let Some(actual) = ruling.contracts.iter().find(|c| &c.id == id) else {
            differ(&mut found, &subject, "contract", "a contract", "none", &[]);
            continue;
        };
        let findings = &actual.findings;
        for (name, value) in &wanted.values {
            let got = actual
                .values
                .get(name)
                .map_or("(none)".to_owned(), Value::as_text);
            differ(&mut found, &subject, name, &as_text(value), &got, findings);
        }
        check_refs(
            &mut found,
            &subject,
            &wanted.refs,
            &wanted.not_refs,
            findings,
        );
    }
    found
}

fn check_refs(
    found: &mut Vec<Mismatch>,
    subject: &str,
    wanted: &[String],
    unwanted: &[String],
    findings: &[Finding],
) {
    let cited = |r: &String| findings.iter().any(|f| &f.reference == r);
    let all = findings
        .iter()
        .map(|f| f.reference.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let all = if all.is_empty() {
        "no findings".to_owned()
    } else {
        all
    };
    for r in wanted.iter().filter(|r| !cited(r)) {
        differ(
            found,
            subject,
            "refs",
            &format!("a finding citing {r}"),
            &all,
            findings,
        );
    }
    for r in unwanted.iter().filter(|r| cited(r)) {
        differ(
            found,
            subject,
            "not_refs",
            &format!("no finding citing {r}"),
            &all,
            findings,
        );
    }
}

fn differ(
    found: &mut Vec<Mismatch>,
    subject: &str,
    field: &str,
    expected: &str,
    actual: &str,
    findings: &[Finding],
) {
    if expected == actual {
        return;
    }
    let mut deciders: Vec<&Finding> = findings.iter().collect();
    deciders.sort_by_key(|f| f.outcome != crate::ruling::Outcome::Reject);
    found.push(Mismatch {
        subject: subject.to_owned(),
        field: field.to_owned(),
        expected: expected.to_owned(),
        actual: actual.to_owned(),
        decided_by: deciders
            .iter()
            .map(|f| format!("{} ({})", f.rule, f.reference))
            .collect(),
        computed_by: Vec::new(),
    });
}

/// As [`compare`], each mismatching value naming the rule versions that compute it: those
/// in force on the request's date (on `as_of`, for a contract) that judge its type and
/// compute the value, rather than the rules whose findings happened to speak.
pub fn compare_in(
    expect: &Expectations,
    ruling: &Ruling,
    rules: &crate::RuleSet,
    case: &crate::Case,
) -> Vec<Mismatch> {
    let mut found = compare(expect, ruling);
    for mismatch in &mut found {
        let name = mismatch
            .field
            .strip_prefix("values.")
            .unwrap_or(&mismatch.field);
        let Some(slot) = rules.value_slot(name) else {
            continue;
        };
        let subject = match mismatch
            .subject
            .strip_prefix("requests[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(index) => case
                .requests
                .get(index)
                .map(|r| (r.kind().to_owned(), r.date())),
            None if mismatch.subject.starts_with("contracts[") => {
                Some((crate::model::CONTRACT.to_owned(), case.as_of))
            }
            None => None,
        };
        let Some((kind, day)) = subject else { continue };
        mismatch.computed_by = rules
            .rules
            .iter()
            .filter(|rule| {
                rule.in_force_on(day)
                    && rule.applies_to.contains(&kind)
                    && rule.values.iter().any(|(s, _)| *s == slot)
            })
            .map(|rule| format!("{} ({})", rule.id, rule.reference))
            .collect();
    }
    found
}

/// An expected value as text, to compare with [`Value::as_text`].
fn as_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => "null".to_owned(),
        other => other.to_string(),
    }
}
