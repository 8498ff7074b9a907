//! The rule files as written: `ruleset.yaml` and one file per article, appendix or
//! supplementary provision. `rules/README.md` documents this format for the legal team.

use chrono::NaiveDate;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::de::{date, optional_date};
use crate::ruling::{Message, Outcome};

/// `ruleset.yaml`: the set's name, its revisions, the constants the terms fix, and the
/// values rules may compute.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
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
    pub values: IndexMap<String, ValueDecl>,
    /// Folders of example cases with `expect:` blocks that this set must pass before
    /// `serve` swaps it in, relative to this folder (see `corpus::shipped_cases`).
    #[serde(default)]
    pub cases: Option<Vec<String>>,
}

/// A value rules compute: its type, written `yen`, or `{ type: yen, rejected: 0 }`; a type
/// ending in `?` (`date?`) is one a rule may leave without a value (`()`, written `null`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ValueDecl {
    /// Only the type.
    Type(Declared),
    /// The type, and what a rejected request owes or gets instead of the computed amount.
    Full {
        /// The type.
        #[serde(rename = "type")]
        ty: Declared,
        /// The amount a rejected request shows instead of the computed one.
        #[serde(default)]
        rejected: Option<i64>,
        /// Written in the ruling (true when absent); false for a value only messages show.
        #[serde(default = "shown")]
        shown: bool,
    },
}

/// A value's declared type: `yen`, or `yen?` when it may have no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Declared {
    /// The type of its value.
    pub ty: ValueType,
    /// It may have none.
    pub optional: bool,
}

impl TryFrom<String> for Declared {
    type Error = String;

    fn try_from(text: String) -> Result<Declared, String> {
        let (name, optional) = match text.strip_suffix('?') {
            Some(name) => (name, true),
            None => (text.as_str(), false),
        };
        let ty = match name {
            "date" => ValueType::Date,
            "yen" => ValueType::Yen,
            "integer" => ValueType::Integer,
            "decimal" => ValueType::Decimal,
            "bool" => ValueType::Bool,
            "text" => ValueType::Text,
            _ => {
                return Err(format!(
                    "`{text}` is not a value type: date, yen, integer, decimal, bool or text, with `?` for one that may have no value"
                ));
            }
        };
        Ok(Declared { ty, optional })
    }
}

impl JsonSchema for Declared {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Declared".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^(date|yen|integer|decimal|bool|text)[?]?$",
            "description": "A value type; ending in `?` when a rule may leave the value without one (`null`)."
        })
    }
}

fn shown() -> bool {
    true
}

impl ValueDecl {
    /// The value's type.
    pub fn ty(self) -> ValueType {
        self.declared().ty
    }

    /// Whether it may have no value.
    pub fn optional(self) -> bool {
        self.declared().optional
    }

    fn declared(self) -> Declared {
        match self {
            ValueDecl::Type(ty) | ValueDecl::Full { ty, .. } => ty,
        }
    }

    /// What a rejected request shows instead, if anything.
    pub fn rejected(self) -> Option<i64> {
        match self {
            ValueDecl::Type(_) => None,
            ValueDecl::Full { rejected, .. } => rejected,
        }
    }

    /// Whether a ruling writes it.
    pub fn shown(self) -> bool {
        match self {
            ValueDecl::Type(_) => true,
            ValueDecl::Full { shown, .. } => shown,
        }
    }
}

/// One revision of the terms.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisionFile {
    /// The day it took effect.
    #[serde(deserialize_with = "date")]
    #[schemars(schema_with = "crate::de::date_schema")]
    pub date: NaiveDate,
    /// What it is called.
    pub title: Message,
    /// The text is reconstructed, not published.
    #[serde(default)]
    pub reconstructed: bool,
}

/// The type of a computed value, which fixes how it is written in a ruling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
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
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartFile {
    /// The article number, for an article: `8`, or `"8の2"` for one a revision inserted
    /// after 第8条 (枝番).
    #[serde(default, deserialize_with = "super::number::optional")]
    #[schemars(with = "Option<super::number::Written>")]
    pub article: Option<super::Number>,
    /// The appendix number (別紙), for an appendix.
    #[serde(default)]
    pub appendix: Option<u32>,
    /// The day the supplementary provisions (附則) of a revision took effect.
    #[serde(default, deserialize_with = "optional_date")]
    #[schemars(schema_with = "crate::de::optional_date_schema")]
    pub supplementary: Option<NaiveDate>,
    /// The title.
    pub title: Message,
    /// The text, one entry per paragraph (項), in order: each numbered one after the one
    /// before, unless it names its number (`{ number: "3の2", text: … }`, a paragraph a
    /// revision inserted).
    pub paragraphs: Vec<ParagraphFile>,
    /// Derived facts the whole rule set may use, in the terms' words.
    #[serde(default)]
    pub facts: Vec<FactFile>,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<RuleFile>,
}

/// A paragraph of an article's text: its text, numbered after the one before; or an
/// entry with its number, and its text, or its texts by revision.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ParagraphFile {
    /// The text of the next paragraph.
    Text(String),
    /// A paragraph numbered as the terms number it (`3の2`), or whose text a revision
    /// changed.
    Entry(ParagraphEntry),
}

/// A paragraph written as an entry: `{ number: "3の2", text: … }`, or
/// `{ dated: { 2022-09-01: old text, 2027-04-01: new text } }`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParagraphEntry {
    /// Its number: `4`, or `"3の2"`; the one after the paragraph before when absent.
    #[serde(default, deserialize_with = "super::number::optional")]
    #[schemars(with = "Option<super::number::Written>")]
    pub number: Option<super::Number>,
    /// Its text, on every day.
    #[serde(default)]
    pub text: Option<String>,
    /// Its texts by revision: each from a revision's day (`YYYY-MM-DD`) on; `null` from the
    /// day a revision deleted it. A paragraph a revision inserted starts at that day.
    #[serde(default)]
    pub dated: Option<IndexMap<String, Option<String>>>,
}

/// A derived fact: a named, typed value computed from its parameters, e.g. the options a
/// contract holds on a day.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FactFile {
    /// Its name; rules call it as `name(args…)`.
    pub name: String,
    /// The citation it rests on.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The days this version is in force (by the day the rule reading it judges); always
    /// when absent.
    #[serde(default)]
    pub in_force: Option<InForceFile>,
    /// What it means, for lawyers.
    pub description: Message,
    /// Its parameters and their types, in order (`contract: contract`, `day: date`).
    #[serde(default)]
    pub params: IndexMap<String, String>,
    /// The type of its value (`bool`, `yen`, `date`, `[option]`, `date?` …).
    #[serde(rename = "type")]
    pub ty: String,
    /// The expression computing it.
    pub value: String,
}

/// One rule version.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
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
    /// What it judges: request types of the model, or `contract` (each on `as_of`).
    pub applies_to: Vec<String>,
    /// Judged on the settled timeline, once every request is decided: its values (the
    /// amounts the terms fix on a day) see every accepted request's facts, listed before
    /// or after. It may not reject a request decided in case order, and no rule deciding
    /// in case order, nor an effect, may read what it computes.
    #[serde(default)]
    pub settled: bool,
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
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InForceFile {
    /// The first day.
    #[serde(deserialize_with = "date")]
    #[schemars(schema_with = "crate::de::date_schema")]
    pub from: NaiveDate,
    /// The last day, if it has ended.
    #[serde(default, deserialize_with = "optional_date")]
    #[schemars(schema_with = "crate::de::optional_date_schema")]
    pub until: Option<NaiveDate>,
}
