//! The ruling: what the evaluator decides for a case (docs/reference/ruling.md).
//!
//! Field names are fixed by docs/reference/ruling.md; serialization is deterministic, so the same case and
//! rule set always give byte-identical output.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The ruling for one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleSetStamp {
    /// The rule set's name.
    pub name: String,
    /// The latest revision in force on `as_of`.
    pub in_force: String,
    /// `sha256:` of the exact rule text.
    pub digest: String,
}

/// The state of one contract on `as_of`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContractRuling {
    /// The contract's id.
    pub id: String,
    /// What the contract rules computed (the values the rule set declares).
    #[serde(flatten)]
    pub values: BTreeMap<String, Value>,
    /// Findings about the contract.
    pub findings: Vec<Finding>,
    /// The contract rules considered that made no finding, and why (`--explain=all`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub considered: Vec<Consideration>,
}

/// The decision on one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestRuling {
    /// The request's position in the case.
    pub index: usize,
    /// The request's `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Accepted unless a finding rejects it.
    pub decision: Decision,
    /// What the request computes (`values` in docs/reference/ruling.md).
    pub values: BTreeMap<String, Value>,
    /// Every rule that applied and spoke.
    pub findings: Vec<Finding>,
    /// The rules in force that were considered but made no finding, and why
    /// (`yakkan eval --explain=all` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub considered: Vec<Consideration>,
}

/// A rule considered for a request or contract that made no finding: its `when` did not
/// hold, its `require` held, or it only computes values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Consideration {
    /// The rule's id.
    pub rule: String,
    /// Machine citation.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Citation in Japanese.
    pub cite: String,
    /// `not_applicable` (its `when` did not hold), `held` (its `require` held), or
    /// `computed` (it computes values and makes no finding).
    pub result: String,
    /// Its expressions and what they read.
    pub explain: Explanation,
}

/// A request's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// No finding rejects the request.
    Accepted,
    /// At least one finding rejects it.
    Rejected,
}

/// What a rule says about a request or contract.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reconstructed: bool,
    /// Why the rule spoke (`yakkan eval --explain` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explanation>,
}

/// How a finding came about: the rule's expressions as written, what they read, and the
/// result of its requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Explanation {
    /// The file that defines the rule.
    pub file: String,
    /// The `when` condition, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// The computed values' expressions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
    /// The `require` condition, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require: Option<String>,
    /// What `when` gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_result: Option<bool>,
    /// What `require` gave (false: the finding is made because it failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_result: Option<bool>,
    /// Every case and rule-set value the expressions read, with its value.
    pub read: BTreeMap<String, Value>,
    /// Every derived fact the rule used, directly or through other facts, innermost
    /// first: the call as the terms' facts name it, and its value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<FactUse>,
    /// For a rule judged on the settled timeline: each fact the case's accepted requests
    /// put on its contract, in case order, with the request that put it there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settled: Vec<SettledFact>,
}

/// A fact an accepted request put on the settled timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SettledFact {
    /// The request's place in the case's requests.
    pub request: usize,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// What it put there, and from which day: `accounts = 300 from 2026-05-20`.
    pub fact: String,
}

/// One use of a derived fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FactUse {
    /// The fact's name.
    pub fact: String,
    /// The call with its arguments' values, e.g. `remaining_fee(56000, 2026-04-15, …)`.
    pub call: String,
    /// What it gave.
    pub value: Value,
}

/// A message in Japanese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
/// Read back by hand rather than derived: serde's untagged reading loses JSON numbers
/// read with `arbitrary_precision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
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

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

/// The key serde_json's `arbitrary_precision` wraps a number's text in.
const JSON_NUMBER: &str = "$serde_json::private::Number";

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("text, a whole number, true or false, a list, a map or null")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Value, E> {
        Ok(Value::Text(text.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Value, E> {
        Ok(Value::Text(text))
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Integer(n))
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Value, E> {
        i64::try_from(n)
            .map(Value::Integer)
            .map_err(|_| E::custom(format!("{n} is too large for a ruling's whole number")))
    }

    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Value, E> {
        Err(E::custom(format!(
            "{n}: a ruling writes fractions as text, never as a number"
        )))
    }

    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == JSON_NUMBER {
                // A JSON number, as its exact text.
                let text: String = map.next_value()?;
                return text.parse::<i64>().map(Value::Integer).map_err(|_| {
                    serde::de::Error::custom(format!(
                        "{text}: a ruling writes fractions as text, never as a number"
                    ))
                });
            }
            entries.insert(key, map.next_value()?);
        }
        Ok(Value::Map(entries))
    }
}

impl Ruling {
    /// The first computed date outside 0001-01-01..=9999-12-31, as `(path, text)`: such a
    /// date has no `YYYY-MM-DD` form (it would be written `+10000-01-11`, `-0164-01-22` or
    /// `0000-12-31`), so a case whose dates lead off the calendar is an input error
    /// rather than a ruling.
    pub fn date_out_of_range(&self) -> Option<(String, String)> {
        let outside = |value: &Value| match value {
            Value::Text(text) => off_the_calendar(text).then(|| text.clone()),
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

    /// The ruling as YAML.
    pub fn to_yaml(&self) -> String {
        crate::yaml::to_string(self)
    }

    /// Reads a ruling back from its JSON (as `yakkan eval` and `POST /v1/evaluate` write it).
    pub fn from_json(text: &str) -> Result<Ruling, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Whether `text` is a date as chrono writes one outside years 1–9999: signed, or year 0.
fn off_the_calendar(text: &str) -> bool {
    let (signed, rest) = match text.strip_prefix(['+', '-']) {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut parts = rest.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let shaped = year.len() >= 4
        && month.len() == 2
        && day.len() == 2
        && digits(year)
        && digits(month)
        && digits(day);
    shaped && (signed || year == "0000")
}

#[cfg(test)]
mod tests {
    use super::off_the_calendar;

    #[test]
    fn dates_off_the_calendar_are_told_from_dates_and_other_text() {
        for off in ["+10000-01-11", "-0164-01-22", "0000-12-31", "-262143-01-01"] {
            assert!(off_the_calendar(off), "{off}");
        }
        for on in [
            "0001-01-01",
            "9999-12-31",
            "2026-04-01",
            "-5",
            "WG-1",
            "+81-3-1234",
        ] {
            assert!(!off_the_calendar(on), "{on}");
        }
    }
}
