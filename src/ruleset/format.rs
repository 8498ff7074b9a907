//! The rule files as written: `ruleset.yaml` and one file per article, appendix or
//! supplementary provision. `rules/README.md` documents this format for the legal team.

use chrono::NaiveDate;
use indexmap::IndexMap;
use serde::Deserialize;

use crate::de::{date, optional_date};
use crate::ruling::{Message, Outcome};

/// `ruleset.yaml`: the set's name, its revisions, the constants the terms fix, and the
/// values rules may compute.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetFile {
    /// The rule set's name, e.g. `iij-secure-access`.
    pub name: String,
    /// The terms' title.
    pub title: Message,
    /// Where the encoded text comes from.
    #[serde(default)]
    pub source: Option<String>,
    /// Every revision of the terms, oldest first.
    pub revisions: Vec<RevisionFile>,
    /// Constants the terms fix, readable in rules as `params.NAME`.
    #[serde(default)]
    pub params: IndexMap<String, serde_json::Value>,
    /// Names and types of the values rules compute (`values.NAME`).
    pub values: IndexMap<String, ValueType>,
    /// Folders of example cases with `expect:` blocks that this set must pass before
    /// `serve` swaps it in, relative to this folder (see `corpus::shipped_cases`).
    #[serde(default)]
    pub cases: Option<Vec<String>>,
}

/// One revision of the terms.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionFile {
    /// The day it took effect.
    #[serde(deserialize_with = "date")]
    pub date: NaiveDate,
    /// What it is called.
    pub title: Message,
    /// The text is reconstructed, not published.
    #[serde(default)]
    pub reconstructed: bool,
}

/// The type of a computed value, which fixes how it is written in a ruling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// A calendar date, written `YYYY-MM-DD`.
    Date,
    /// Whole yen, written as a string (`"12345"`); a fraction is an error, never rounded here.
    Yen,
    /// A whole number, written as a JSON integer.
    Integer,
    /// A decimal, written as a string.
    Decimal,
    /// `true` or `false`.
    Bool,
    /// Text.
    Text,
}

/// An article, appendix or supplementary provision, with its rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartFile {
    /// The article number, for an article.
    #[serde(default)]
    pub article: Option<u32>,
    /// The appendix number (別紙), for an appendix.
    #[serde(default)]
    pub appendix: Option<u32>,
    /// The day the supplementary provisions (附則) of a revision took effect.
    #[serde(default, deserialize_with = "optional_date")]
    pub supplementary: Option<NaiveDate>,
    /// The title.
    pub title: Message,
    /// The text, one entry per paragraph (項), in order.
    pub paragraphs: Vec<String>,
    /// Rhai functions the whole rule set may call.
    #[serde(default)]
    pub definitions: Option<String>,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<RuleFile>,
}

/// One rule version.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// The rule's id; versions of one rule share it.
    pub id: String,
    /// The citation: `"6.1"`, `"9.2.2"`, `"appx2"`, `"suppl.2026-04-01.2"`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The days this version is in force.
    pub in_force: InForceFile,
    /// This version is reconstructed rather than read from a published text.
    #[serde(default)]
    pub reconstructed: bool,
    /// What it judges: request types, or `contract`.
    pub applies_to: Vec<Subject>,
    /// When the rule applies (Rhai, true/false); always when absent.
    #[serde(default)]
    pub when: Option<String>,
    /// Values it computes (Rhai), in order; each can read the ones before.
    #[serde(default)]
    pub values: IndexMap<String, String>,
    /// What must hold (Rhai, true/false); the finding is made when it does not.
    #[serde(default)]
    pub require: Option<String>,
    /// The finding's outcome.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// The finding's message; `{name}` shows a computed value.
    #[serde(default)]
    pub message: Option<Message>,
}

/// The days a rule version is in force, both ends included.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InForceFile {
    /// The first day.
    #[serde(deserialize_with = "date")]
    pub from: NaiveDate,
    /// The last day, if it has ended.
    #[serde(default, deserialize_with = "optional_date")]
    pub until: Option<NaiveDate>,
}

/// What a rule judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A `new_contract` request.
    NewContract,
    /// A `change_accounts` request.
    ChangeAccounts,
    /// An `add_option` request.
    AddOption,
    /// A `terminate` request.
    Terminate,
    /// A `stop_option` request.
    StopOption,
    /// An `outage_credit` request.
    OutageCredit,
    /// Each contract, on `as_of`.
    Contract,
}

impl Subject {
    /// The subject judging a request of this `type`.
    pub fn of_request(kind: &str) -> Option<Subject> {
        Some(match kind {
            "new_contract" => Subject::NewContract,
            "change_accounts" => Subject::ChangeAccounts,
            "add_option" => Subject::AddOption,
            "terminate" => Subject::Terminate,
            "stop_option" => Subject::StopOption,
            "outage_credit" => Subject::OutageCredit,
            _ => return None,
        })
    }
}
