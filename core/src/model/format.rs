//! `model.yaml` as written: the records a case of these terms holds, the requests a
//! customer makes, and what an accepted request does. `rules/README.md` teaches it.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::ruleset::format::InForceFile;

/// The model of a rule set: its records and its requests.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// Record types by name. `customer` and `contract` are the case's own; the others are
    /// held in their fields.
    pub records: IndexMap<String, RecordFile>,
    /// Request types by the name a case writes as `type`.
    pub requests: IndexMap<String, RequestFile>,
}

/// A record type.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordFile {
    /// What it is, for lawyers and the schemas.
    #[serde(default)]
    pub description: Option<String>,
    /// How explanations show one: `contract {id}`.
    #[serde(default)]
    pub label: Option<String>,
    /// The field that names it, unique in the case (a contract's `id`).
    #[serde(default)]
    pub key: Option<String>,
    /// The date fields that bound its life, if it has one.
    #[serde(default)]
    pub life: Option<LifeFile>,
    /// Declares a function named after the record that makes one from these fields (the
    /// others take their defaults), for facts that derive a record.
    #[serde(default)]
    pub make: Option<Vec<String>>,
    /// The timestamp fields bounding the window of time it covers, if it covers one.
    #[serde(default)]
    pub span: Option<SpanFile>,
    /// Its fields, in order.
    pub fields: IndexMap<String, FieldFile>,
}

/// The fields bounding the window of time `[from, to)` a record covers (an outage's).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpanFile {
    /// The window's first moment (`timestamp`).
    pub from: String,
    /// The moment it ends (`timestamp`).
    pub to: String,
}

/// The fields bounding a record's life.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifeFile {
    /// In force from this day (`date` or `date?`; never while `()`). A record a request
    /// forms gets it from the request; one the case lists must give it.
    pub start: String,
    /// In force through this day, once set (`date?`); an end is never postponed.
    pub end: String,
    /// Held from this day (`date?`; always while `()`): the day a request added it.
    #[serde(default)]
    pub held_from: Option<String>,
    /// Set by the engine to the request that formed it (`integer?`, `from_case: false`):
    /// its place in the case's requests. A listed record leaves it `()`.
    #[serde(default)]
    pub started_by: Option<String>,
    /// Set by the engine to the request whose end took effect (`integer?`, `from_case:
    /// false`): its place in the case's requests. A listed end leaves it `()`.
    #[serde(default)]
    pub ended_by: Option<String>,
}

/// A field: its type alone (`date?`), or the type with what else it needs.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum FieldFile {
    /// Only the type.
    Type(String),
    /// The type and more.
    Full(FieldSpec),
}

/// A field with more than its type.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// `bool`, `integer`, `count`, `yen`, `decimal`, `text`, `date`, `timestamp`,
    /// `one of [a, b]`, a record name, `[T]` for a list, `T?` for optional.
    #[serde(rename = "type")]
    pub ty: String,
    /// What it means.
    #[serde(default)]
    pub description: Option<String>,
    /// Its value when a document does not give it.
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// When a document does not give it: another field of the same record (`date`), or
    /// of the record holding this one (`record.field`).
    #[serde(default)]
    pub default_from: Option<String>,
    /// The value changes over time: an accepted request sets it from a day on, and rules
    /// read it on a day with `at(record.field, day)`.
    #[serde(default)]
    pub timeline: bool,
    /// A document may give it (true when absent); false for a field only requests set.
    #[serde(default = "yes")]
    pub from_case: bool,
    /// A field of the same record this one may not precede (a restoration after the
    /// outage began).
    #[serde(default)]
    pub not_before: Option<String>,
}

fn yes() -> bool {
    true
}

/// A request type.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestFile {
    /// What it asks, for lawyers and the schemas.
    #[serde(default)]
    pub description: Option<String>,
    /// The days a case may make it; always when absent.
    #[serde(default)]
    pub in_force: Option<InForceFile>,
    /// The field whose day selects the rule versions (a timestamp's Japan-time date).
    pub date: String,
    /// Its `contract`: `id` names one of the case (default), `new` gives a whole contract
    /// that an accepted request forms.
    #[serde(default)]
    pub contract: ContractRefFile,
    /// Its other fields, in order.
    #[serde(default)]
    pub fields: IndexMap<String, FieldFile>,
    /// The record inside the contract that the request is about, if any.
    #[serde(default)]
    pub child: Option<ChildFile>,
    /// Decided on the settled timeline, after every other request (its decision rests on
    /// the case's settled ends and on earlier requests of its type): no other request
    /// sees what it does.
    #[serde(default)]
    pub settled: bool,
    /// What an accepted request does, in order (`- form: request.date`).
    #[serde(
        default,
        deserialize_with = "serde_yaml::with::singleton_map_recursive::deserialize"
    )]
    pub effects: Vec<EffectFile>,
}

/// How a request names its contract.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractRefFile {
    /// By id: a contract the case lists or a `new` request of it proposes.
    #[default]
    Id,
    /// The whole contract, formed when the request is accepted.
    New,
}

/// The record in a contract's list that a request is about; rules read it by its record
/// type's name.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChildFile {
    /// The contract's list field holding such records.
    pub list: String,
    /// A record the request proposes: each field from `request.FIELD`.
    #[serde(default)]
    pub new: Option<IndexMap<String, String>>,
    /// A record the contract holds: the last one matching.
    #[serde(default)]
    pub select: Option<SelectFile>,
}

/// Which held record a request names.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectFile {
    /// A fact `(contract, date) -> [record]` listing the candidates on the request's day;
    /// without it, the records of the list held on that day.
    #[serde(default)]
    pub from: Option<String>,
    /// Fields that must equal the request's: `{ kind: request.option }`.
    #[serde(rename = "where")]
    pub matching: IndexMap<String, String>,
}

/// What an accepted request does. Each names where its day or value comes from:
/// `request.FIELD` or `values.NAME`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum EffectFile {
    /// Forms the proposed contract on the day.
    Form(String),
    /// Sets a timeline field of the contract from a day on.
    Set {
        /// The timeline field.
        field: String,
        /// The first day.
        from: String,
        /// The value.
        to: String,
    },
    /// Ends the contract on the day, unless an earlier end is set.
    End(String),
    /// Adds the record the request proposes to the contract's list.
    AddChild,
    /// Ends the record the request names on the day, unless an earlier end is set.
    EndChild(String),
    /// Keeps a record of the accepted request in a list of the contract, each field from
    /// `request.FIELD` or `values.NAME` (a claim already credited).
    Record {
        /// The contract's list field.
        list: String,
        /// The record's fields.
        fields: IndexMap<String, String>,
    },
}
