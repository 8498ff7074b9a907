//! The ruling: what the evaluator decides for a case (SPEC §2).
//!
//! Field names are fixed by SPEC §2; serialization is deterministic, so the same case and
//! rule set always give byte-identical output.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The ruling for one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ruling {
    /// Which rule set, and which revision of it, decided.
    pub ruleset: RuleSetStamp,
    /// The date the state was judged on.
    pub as_of: String,
    /// Every contract of the case and those formed by accepted requests, in that order.
    pub contracts: Vec<ContractRuling>,
    /// One entry per request, in order.
    pub requests: Vec<RequestRuling>,
}

/// Names the rule set a ruling was made with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleSetStamp {
    /// The rule set's name.
    pub name: String,
    /// The latest revision in force on `as_of`.
    pub in_force: String,
    /// `sha256:` of the exact rule text.
    pub digest: String,
}

/// The state of one contract on `as_of`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContractRuling {
    /// The contract's id.
    pub id: String,
    /// What the contract rules computed (`minimum_period_end`, `web_sandbox`, …).
    #[serde(flatten)]
    pub values: BTreeMap<String, Value>,
    /// Findings about the contract.
    pub findings: Vec<Finding>,
}

/// The decision on one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRuling {
    /// The request's position in the case.
    pub index: usize,
    /// The request's `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Accepted unless a finding rejects it.
    pub decision: Decision,
    /// What the request computes (SPEC §2 `values`).
    pub values: BTreeMap<String, Value>,
    /// Every rule that applied and spoke.
    pub findings: Vec<Finding>,
}

/// A request's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// No finding rejects the request.
    Accepted,
    /// At least one finding rejects it.
    Rejected,
}

/// What a rule says about a request or contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The request is refused.
    Reject,
    /// Accepted, with a caution.
    Warn,
    /// For information.
    Info,
}

/// One finding, citing the article it comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule's id.
    pub rule: String,
    /// Machine citation: `"4.3"`, `"9.2.2"`, `"appx2"`, `"suppl.2026-04-01.2"`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Citation in Japanese: `第4条第3項`.
    pub cite: String,
    /// What the finding means for the request.
    pub outcome: Outcome,
    /// The rule's message.
    pub message: Message,
    /// Set when the rule version is reconstructed rather than read from a published text.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reconstructed: bool,
    /// Why the rule spoke (`yakkan eval --explain` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explanation>,
}

/// How a finding came about: the rule's expressions as written, what they read, and the
/// result of its requirement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The file that defines the rule.
    pub file: String,
    /// The `when` condition, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// The computed values' expressions.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
    /// The `require` condition, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require: Option<String>,
    /// What `require` gave (false: the finding is made because it failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_result: Option<bool>,
    /// Every case and rule-set value the expressions read, with its value.
    pub read: BTreeMap<String, Value>,
}

/// A message in Japanese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// Japanese.
    pub ja: String,
    /// English.
    pub en: String,
}

/// A value as a ruling writes it: dates, yen and decimals as text, whole numbers as
/// integers. Its own type rather than `serde_json::Value`, so that JSON, YAML and
/// snapshots all write it the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// Text: dates, yen amounts, decimals, names.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// True or false.
    Bool(bool),
    /// A list (explanations only).
    List(Vec<Value>),
    /// A map (explanations only).
    Map(BTreeMap<String, Value>),
    /// No value.
    Null,
}

impl Value {
    /// The value as plain text: text as itself, anything else as JSON.
    pub fn as_text(&self) -> String {
        match self {
            Value::Text(text) => text.clone(),
            other => other.to_string(),
        }
    }
}

impl std::fmt::Display for Value {
    /// As JSON.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| std::fmt::Error)?)
    }
}

impl Ruling {
    /// The first computed date outside 0001-01-01..=9999-12-31, as `(path, text)`: such a
    /// date has no `YYYY-MM-DD` form (it would be written `+10000-01-11`), so a case whose
    /// dates lead past the calendar's end is an input error rather than a ruling.
    pub fn date_out_of_range(&self) -> Option<(String, String)> {
        let outside = |value: &Value| match value {
            Value::Text(text) => {
                let digits = text.strip_prefix(['+', '-'])?;
                let shaped = digits.len() > 10
                    && digits.split('-').count() == 3
                    && digits.bytes().all(|b| b.is_ascii_digit() || b == b'-');
                shaped.then(|| text.clone())
            }
            _ => None,
        };
        let contracts = self.contracts.iter().enumerate().flat_map(|(i, c)| {
            c.values
                .iter()
                .map(move |(k, v)| (format!("contracts[{i}].{k}"), v))
        });
        let requests = self.requests.iter().flat_map(|r| {
            r.values
                .iter()
                .map(move |(k, v)| (format!("requests[{}].{k}", r.index), v))
        });
        contracts
            .chain(requests)
            .find_map(|(path, value)| outside(value).map(|text| (path, text)))
    }

    /// The ruling as pretty JSON, the default output.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("rulings serialize to JSON")
    }
}
