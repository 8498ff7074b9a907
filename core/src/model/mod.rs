//! The model: the words a rule set speaks, declared as data in its `model.yaml`.
//!
//! The engine knows a case only as a customer, contracts and requests. What a contract
//! holds, which requests there are, what their fields mean, and what an accepted request
//! does are the rule set's: each record and request type is declared once, and the case
//! reader ([`read`]), the type checker's schema, the JSON Schemas ([`json_schema`]) and
//! the evaluator's effects all derive from that declaration.

pub mod format;
pub mod json_schema;
pub mod read;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::expr::builtins::records;
use crate::expr::{
    Field, FunctionSig, Life, Name, Record, RecordType, Schema, Shape, Span, Type, Value,
};
use format::{ContractRefFile, EffectFile, FieldFile, ModelFile, RecordFile, RequestFile};

/// The record type a case's `customer` is.
pub const CUSTOMER: &str = "customer";
/// The record type a case's `contracts` hold and every request names.
pub const CONTRACT: &str = "contract";

/// A rule set's model, checked.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Model {
    /// Record types, in declaration order.
    pub records: Vec<RecordDef>,
    /// Request types, in declaration order.
    pub requests: Vec<RequestDef>,
    /// The customer's record type.
    pub customer: usize,
    /// The contract's record type.
    pub contract: usize,
}

/// A record type.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RecordDef {
    /// Its name and field names, shared by every record of it.
    pub shape: Arc<Shape>,
    /// What it is.
    pub description: String,
    /// Its fields.
    pub fields: Vec<FieldDef>,
    /// The field naming it, unique in a case.
    pub key: Option<usize>,
    /// The fields its maker function takes, in order.
    pub make: Option<Vec<usize>>,
}

/// A JSON value written as its text: compact binary formats cannot read a value whose
/// shape the data decides.
mod json_text {
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

    pub fn serialize<S: Serializer>(
        v: &Option<serde_json::Value>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.as_ref().map(ToString::to_string).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<serde_json::Value>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| serde_json::from_str(&text).map_err(de::Error::custom))
            .transpose()
    }
}

/// A field.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FieldDef {
    /// Its name.
    pub name: Name,
    /// What a document writes.
    pub kind: Kind,
    /// `()` is allowed (`T?`).
    pub optional: bool,
    /// Its value changes over time.
    pub timeline: bool,
    /// A document may give it.
    pub from_case: bool,
    /// Its value when absent, as written in the model.
    #[serde(with = "json_text")]
    pub default: Option<serde_json::Value>,
    /// Where its value comes from when absent.
    pub default_from: Option<DefaultFrom>,
    /// The field of the same record it may not precede.
    pub not_before: Option<usize>,
    /// What it means.
    pub description: String,
}

/// Where an absent field's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DefaultFrom {
    /// Another field of the same record, by index.
    Sibling(usize),
    /// A field of the record holding this one: the holder's record type, by index in
    /// [`Model::records`], and the field's index in it. Held anywhere else (a request's
    /// field), the default does not apply.
    Parent {
        /// The holder's record type.
        record: usize,
        /// The holder's field.
        field: usize,
    },
}

/// What a field holds, as documents write it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    /// `true` or `false`.
    Bool,
    /// A whole number.
    Integer,
    /// A number that counts (accounts); any exact number is read, the rules judge it.
    Count,
    /// An amount of yen: a decimal string, or a number that is exact.
    Yen,
    /// A decimal.
    Decimal,
    /// Text.
    Text,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339; Japan time without an offset.
    Timestamp,
    /// One of the listed words.
    Words(Vec<String>),
    /// A record, by index in [`Model::records`].
    Record(usize),
    /// A list.
    List(Box<Kind>),
}

/// A request type.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RequestDef {
    /// The name a case writes as `type`.
    pub name: Name,
    /// What it asks.
    pub description: String,
    /// The request as rules read it: `type`, `date` (the day selecting rule versions),
    /// `contract`, then its declared fields but `date`.
    pub shape: Arc<Shape>,
    /// The fields of [`RequestDef::shape`]; the first three are the engine's.
    pub fields: Vec<FieldDef>,
    /// The field whose day is `date`.
    pub date_field: usize,
    /// How it names its contract.
    pub contract: ContractRefFile,
    /// The days a case may make it.
    pub in_force: Option<(NaiveDate, Option<NaiveDate>)>,
    /// The record in the contract it is about.
    pub child: Option<ChildDef>,
    /// Decided on the settled timeline, after every request decided in case order.
    pub settled: bool,
    /// What an accepted request does.
    pub effects: Vec<Effect>,
}

/// Fields every request record starts with.
pub const TYPE_FIELD: usize = 0;
/// The day that selects rule versions.
pub const DATE_FIELD: usize = 1;
/// The contract's id, or the proposed contract.
pub const CONTRACT_FIELD: usize = 2;

/// The record a request is about inside its contract.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ChildDef {
    /// The contract's list field.
    pub list: usize,
    /// The record type the list holds.
    pub record: usize,
    /// A proposed record: its fields, each from the request.
    pub new: Option<Vec<(usize, Source)>>,
    /// A held record: the candidates' fact (resolved by the rule-set loader) and the
    /// fields that must match.
    pub select: Option<Select>,
}

/// Which held record a request names.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Select {
    /// The fact listing the candidates, by name; its index once the facts are compiled.
    pub from: Option<(String, Option<usize>)>,
    /// Child field and the request's value it must equal.
    pub matching: Vec<(usize, Source)>,
}

/// Where an effect's day or value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Source {
    /// A field of the request record.
    Request(usize),
    /// A value the rules computed, by slot.
    Value(usize),
}

/// What an accepted request does: a small fixed set of generic effects.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Effect {
    /// Forms the proposed contract on the day.
    Form(Source),
    /// Sets the contract's timeline field from a day on.
    Set {
        /// The field.
        field: usize,
        /// The first day.
        from: Source,
        /// The value.
        to: Source,
    },
    /// Ends the contract on the day, never later than an end already set.
    End(Source),
    /// Adds the proposed child record.
    AddChild,
    /// Ends the named child record on the day, never later than an end already set.
    EndChild(Source),
    /// Keeps a record of the accepted request in the contract's list field `list`.
    Record {
        /// The contract's list field.
        list: usize,
        /// The record type it holds.
        record: usize,
        /// The record's fields, each from the request or a computed value.
        fields: Vec<(usize, Source)>,
    },
}

/// One problem with a model, at a field path of `model.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelProblem {
    /// The path in `model.yaml`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

const BASE_TYPES: [&str; 8] = [
    "bool",
    "integer",
    "count",
    "yen",
    "decimal",
    "text",
    "date",
    "timestamp",
];

impl Kind {
    /// The type expressions see.
    pub fn expr_type(&self, model: &Model) -> Type {
        match self {
            Kind::Bool => Type::Bool,
            Kind::Integer => Type::Int,
            // Amounts shown to a customer may carry a fraction; rules round them.
            Kind::Count | Kind::Yen | Kind::Decimal => Type::Decimal,
            Kind::Text | Kind::Words(_) => Type::Text,
            Kind::Date => Type::Date,
            Kind::Timestamp => Type::Timestamp,
            Kind::Record(i) => Type::Record(model.records[*i].shape.name.clone()),
            Kind::List(inner) => Type::list(inner.expr_type(model)),
        }
    }
}

impl Kind {
    /// As `model.yaml` writes it.
    pub fn written(&self, model: &Model) -> String {
        match self {
            Kind::Bool => "bool".into(),
            Kind::Integer => "integer".into(),
            Kind::Count => "count".into(),
            Kind::Yen => "yen".into(),
            Kind::Decimal => "decimal".into(),
            Kind::Text => "text".into(),
            Kind::Date => "date".into(),
            Kind::Timestamp => "timestamp".into(),
            Kind::Words(words) => format!("one of [{}]", words.join(", ")),
            Kind::Record(i) => model.records[*i].shape.name.to_string(),
            Kind::List(inner) => format!("[{}]", inner.written(model)),
        }
    }
}

impl Source {
    /// As `model.yaml` writes it: `request.FIELD` or `values.NAME`.
    pub fn written(&self, request: &RequestDef, values: &[String]) -> String {
        match self {
            Source::Request(i) => format!("request.{}", request.fields[*i].name),
            Source::Value(slot) => {
                format!("values.{}", values.get(*slot).map_or("?", String::as_str))
            }
        }
    }
}

impl FieldDef {
    /// As `model.yaml` writes its type, with what else it declares.
    pub fn written(&self, model: &Model) -> String {
        let mut text = self.kind.written(model);
        if self.optional {
            text.push('?');
        }
        if self.timeline {
            text = format!("{text}, changes over time");
        }
        if let Some(default) = &self.default {
            text = format!("{text}, default {default}");
        }
        text
    }

    /// The type expressions see.
    pub fn expr_type(&self, model: &Model) -> Type {
        let ty = self.kind.expr_type(model);
        let ty = if self.optional { Type::maybe(ty) } else { ty };
        if self.timeline {
            Type::Timeline(Box::new(ty))
        } else {
            ty
        }
    }
}

impl Model {
    /// The record type called `name`.
    pub fn record(&self, name: &str) -> Option<usize> {
        self.records.iter().position(|r| &*r.shape.name == name)
    }

    /// The request type called `name`.
    pub fn request(&self, name: &str) -> Option<&RequestDef> {
        self.requests.iter().find(|r| &*r.name == name)
    }

    /// The contract's record type.
    pub fn contract_def(&self) -> &RecordDef {
        &self.records[self.contract]
    }

    /// Checks a declaration; `values` are the names and types of the values rules
    /// compute, which effects may read.
    pub fn compile(
        file: &ModelFile,
        values: &[(String, Type)],
    ) -> Result<Model, Vec<ModelProblem>> {
        let mut problems = Vec::new();
        let mut problem = |path: String, message: String| {
            problems.push(ModelProblem { path, message });
        };
        let names: Vec<&str> = file.records.keys().map(String::as_str).collect();
        for (name, _) in &file.records {
            if BASE_TYPES.contains(&name.as_str()) || file.requests.contains_key(name) {
                problem(
                    format!("records.{name}"),
                    format!("`{name}` is a type or request name already"),
                );
            }
        }
        for required in [CUSTOMER, CONTRACT] {
            if !file.records.contains_key(required) {
                problem(
                    "records".to_owned(),
                    format!(
                        "the model declares no `{required}` record: a case has a customer and contracts"
                    ),
                );
            }
        }
        let mut records = Vec::new();
        for (name, record) in &file.records {
            let path = format!("records.{name}");
            let fields = record_fields(&record.fields, &names, &path, &mut problem);
            records.push(record_def(name, record, fields, &path, &mut problem));
        }
        let mut model = Model {
            customer: names.iter().position(|n| *n == CUSTOMER).unwrap_or(0),
            contract: names.iter().position(|n| *n == CONTRACT).unwrap_or(0),
            records,
            requests: Vec::new(),
        };
        resolve_parent_defaults(&file.records, &mut model, &mut problem);
        bounded_defaults(&model, &mut problem);
        let mut requests = Vec::new();
        for (name, request) in &file.requests {
            let path = format!("requests.{name}");
            if let Some(def) = request_def(name, request, &model, values, &path, &mut problem) {
                requests.push(def);
            }
        }
        model.requests = requests;
        if problems.is_empty() {
            Ok(model)
        } else {
            Err(problems)
        }
    }

    /// Adds the model's records and functions to `schema`: a record type per record and
    /// per request; `in_force` and `held_on` for records with a life; `at` for every
    /// timeline; a maker per record that declares one.
    pub fn register(&self, schema: &mut Schema) {
        let field = |f: &FieldDef| Field {
            name: f.name.clone(),
            ty: f.expr_type(self),
            doc: f.description.clone(),
        };
        let mut timelines = BTreeSet::new();
        for record in &self.records {
            let name = record.shape.name.clone();
            schema.record(RecordType {
                name: name.clone(),
                tag: None,
                fields: record.fields.iter().map(field).collect(),
            });
            for f in record.fields.iter().filter(|f| f.timeline) {
                let ty = f.expr_type(self);
                if !timelines.insert(ty.to_string()) {
                    continue;
                }
                if let Type::Timeline(inner) = ty {
                    schema.function(FunctionSig {
                        name: "at",
                        params: vec![Type::Timeline(inner.clone()), Type::Date],
                        result: *inner,
                        id: "record:at",
                        run: records::at,
                        bound: Vec::new(),
                        names_field: None,
                        doc: "a value that changes over time, on the day",
                    });
                }
            }
            if record.shape.life.is_some() {
                let this = Type::Record(name.clone());
                schema.function(FunctionSig {
                    name: "in_force",
                    params: vec![this.clone(), Type::Date],
                    result: Type::Bool,
                    id: "record:in_force",
                    run: records::in_force,
                    bound: Vec::new(),
                    names_field: None,
                    doc: "started on or before the day (never while its start is ()) and not ended before it",
                });
                schema.function(FunctionSig {
                    name: "held_on",
                    params: vec![this, Type::Date],
                    result: Type::Bool,
                    id: "record:held_on",
                    run: records::held_on,
                    bound: Vec::new(),
                    names_field: None,
                    doc: "added on or before the day (a record the case lists always is) and not ended before it",
                });
            }
            if record.shape.life.is_some() {
                // Native scans of a list of records, which facts over all contracts run
                // once per state: `count_in_force_where(contracts, "kind", kind, day)`.
                let list = Type::list(Type::Record(name.clone()));
                schema.function(FunctionSig {
                    name: "count_in_force_where",
                    params: vec![list.clone(), Type::Text, Type::Text, Type::Date],
                    result: Type::Int,
                    id: "record:count_in_force_where",
                    run: records::count_in_force_where,
                    bound: Vec::new(),
                    names_field: Some(1),
                    doc: "how many of the records are in force on the day with the field equal to the value",
                });
                schema.function(FunctionSig {
                    name: "any_in_force_where",
                    params: vec![list, Type::Text, Type::list(Type::Text), Type::Date],
                    result: Type::Bool,
                    id: "record:any_in_force_where",
                    run: records::any_in_force_where,
                    bound: Vec::new(),
                    names_field: Some(1),
                    doc: "whether any of the records is in force on the day with the field among the values",
                });
            }
            if record.shape.span.is_some() {
                let list = Type::list(Type::Record(name.clone()));
                schema.function(FunctionSig {
                    name: "connected",
                    params: vec![list.clone(), Type::Timestamp, Type::Timestamp],
                    result: list.clone(),
                    id: "record:connected",
                    run: records::connected,
                    bound: Vec::new(),
                    names_field: None,
                    doc: "the records whose windows overlap [from, to), directly or through one another",
                });
                schema.function(FunctionSig {
                    name: "span_hours",
                    params: vec![
                        list,
                        Type::Timestamp,
                        Type::Timestamp,
                        Type::maybe(Type::Timestamp),
                    ],
                    result: Type::Decimal,
                    id: "record:span_hours",
                    run: records::span_hours,
                    bound: Vec::new(),
                    names_field: None,
                    doc: "the hours the union of [from, to) and the records' windows covers, each cut at the last moment (none when ())",
                });
            }
            if let Some(make) = &record.make {
                let prototype = Record {
                    shape: record.shape.clone(),
                    values: record.fields.iter().map(|_| Value::Null).collect(),
                    place: None,
                };
                let places: Vec<Value> = make.iter().map(|&i| Value::Int(i as i64)).collect();
                schema.function(FunctionSig {
                    name: maker_name(&name),
                    params: make.iter().map(|&i| field(&record.fields[i]).ty).collect(),
                    result: Type::Record(name.clone()),
                    id: "record:make",
                    run: records::make,
                    bound: vec![Value::Record(Arc::new(prototype)), Value::list(places)],
                    names_field: None,
                    doc: "a record no request added, made from the fields the model names",
                });
            }
        }
        for request in &self.requests {
            schema.record(RecordType {
                name: request.name.clone(),
                tag: Some(request.name.clone()),
                fields: request.fields.iter().map(field).collect(),
            });
        }
    }
}

/// Function names are `'static`: a maker's is kept for the life of the process, once per
/// distinct record name (a handful per rule set, whatever the reloads).
fn maker_name(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<BTreeSet<&'static str>> = std::sync::Mutex::new(BTreeSet::new());
    let mut names = NAMES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// Reads a field type: `T?`, `[T]`, `one of [a, b]`, a base type or a record name.
fn parse_kind(text: &str, records: &[&str]) -> Result<(Kind, bool), String> {
    let text = text.trim();
    if let Some(inner) = text.strip_suffix('?') {
        let (kind, _) = parse_kind(inner, records)?;
        return Ok((kind, true));
    }
    if let Some(words) = text.strip_prefix("one of") {
        let words = words.trim();
        let inner = words
            .strip_prefix('[')
            .and_then(|w| w.strip_suffix(']'))
            .ok_or_else(|| format!("write the words as `one of [a, b]`, not `{text}`"))?;
        let words: Vec<String> = inner
            .split(',')
            .map(|w| w.trim().to_owned())
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            return Err("`one of` lists at least one word".to_owned());
        }
        return Ok((Kind::Words(words), false));
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        let (kind, optional) = parse_kind(inner, records)?;
        if optional {
            return Err("a list holds values, not `()`: write `[T]`".to_owned());
        }
        return Ok((Kind::List(Box::new(kind)), false));
    }
    Ok((
        match text {
            "bool" => Kind::Bool,
            "integer" => Kind::Integer,
            "count" => Kind::Count,
            "yen" => Kind::Yen,
            "decimal" => Kind::Decimal,
            "text" => Kind::Text,
            "date" => Kind::Date,
            "timestamp" => Kind::Timestamp,
            other => match records.iter().position(|r| *r == other) {
                Some(i) => Kind::Record(i),
                None => {
                    let mut known: Vec<&str> = BASE_TYPES.to_vec();
                    known.extend(records);
                    let hint = crate::expr::compile::did_you_mean(other, known.iter().copied())
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default();
                    return Err(format!(
                        "`{other}` is not a type{hint}: types are {}, `one of [a, b]`, `[T]` and `T?`",
                        known.join(", ")
                    ));
                }
            },
        },
        false,
    ))
}

fn record_fields(
    fields: &indexmap::IndexMap<String, FieldFile>,
    records: &[&str],
    path: &str,
    problem: &mut impl FnMut(String, String),
) -> Vec<FieldDef> {
    let names: Vec<&str> = fields.keys().map(String::as_str).collect();
    let mut out = Vec::new();
    for (name, field) in fields {
        let path = format!("{path}.fields.{name}");
        let spec = match field {
            FieldFile::Type(ty) => format::FieldSpec {
                ty: ty.clone(),
                description: None,
                default: None,
                default_from: None,
                timeline: false,
                from_case: true,
                not_before: None,
            },
            FieldFile::Full(spec) => spec.clone(),
        };
        let (kind, optional) = match parse_kind(&spec.ty, records) {
            Ok(parsed) => parsed,
            Err(message) => {
                problem(path.clone(), message);
                (Kind::Text, true)
            }
        };
        let sibling = |field: &str, key: &str, problem: &mut dyn FnMut(String, String)| {
            let at = names.iter().position(|n| *n == field);
            if at.is_none() {
                problem(
                    format!("{path}.{key}"),
                    format!(
                        "`{field}` is not a field here (fields: {})",
                        names.join(", ")
                    ),
                );
            }
            at
        };
        let default_from = match &spec.default_from {
            // `parent.field` is resolved once every record is known.
            Some(from) if from.contains('.') => Some(DefaultFrom::Parent {
                record: usize::MAX,
                field: usize::MAX,
            }),
            Some(from) => sibling(from, "default_from", problem).map(DefaultFrom::Sibling),
            None => None,
        };
        let not_before = spec
            .not_before
            .as_deref()
            .and_then(|f| sibling(f, "not_before", problem));
        if spec.default.is_some() && spec.default_from.is_some() {
            problem(
                path.clone(),
                "give `default` or `default_from`, not both".to_owned(),
            );
        }
        out.push(FieldDef {
            name: name.as_str().into(),
            kind,
            optional,
            timeline: spec.timeline,
            from_case: spec.from_case,
            default: spec.default.clone(),
            default_from,
            not_before,
            description: spec.description.clone().unwrap_or_default(),
        });
    }
    out
}

fn record_def(
    name: &str,
    record: &RecordFile,
    fields: Vec<FieldDef>,
    path: &str,
    problem: &mut impl FnMut(String, String),
) -> RecordDef {
    let index_of = |field: &str, key: &str, problem: &mut dyn FnMut(String, String)| {
        let at = fields.iter().position(|f| &*f.name == field);
        if at.is_none() {
            problem(
                format!("{path}.{key}"),
                format!("`{field}` is not a field of {name}"),
            );
        }
        at
    };
    let key = record
        .key
        .as_deref()
        .and_then(|k| index_of(k, "key", problem));
    let life = record.life.as_ref().and_then(|life| {
        let start = index_of(&life.start, "life.start", problem)?;
        let end = index_of(&life.end, "life.end", problem)?;
        let held_from = match &life.held_from {
            Some(f) => Some(index_of(f, "life.held_from", problem)?),
            None => None,
        };
        for i in [Some(start), Some(end), held_from].into_iter().flatten() {
            if fields[i].kind != Kind::Date || fields[i].timeline {
                problem(
                    format!("{path}.life"),
                    format!("`{}` bounds a life, so it is a date", fields[i].name),
                );
            }
        }
        // Fields the engine keeps: the request that formed the record, and the one whose
        // end took effect.
        let mut by = |field: &Option<String>, key: &str, what: &str| {
            let i = index_of(field.as_deref()?, &format!("life.{key}"), problem)?;
            if fields[i].kind != Kind::Integer || !fields[i].optional || fields[i].from_case {
                problem(
                    format!("{path}.life.{key}"),
                    format!(
                        "`{}` names the request {what}: an `integer?` with `from_case: false`",
                        fields[i].name
                    ),
                );
            }
            Some(i)
        };
        let started_by = by(&life.started_by, "started_by", "that formed it");
        let ended_by = by(&life.ended_by, "ended_by", "whose end took effect");
        Some(Life {
            start,
            end,
            held_from,
            started_by,
            ended_by,
        })
    });
    let span = record.span.as_ref().and_then(|span| {
        let from = index_of(&span.from, "span.from", problem)?;
        let to = index_of(&span.to, "span.to", problem)?;
        for i in [from, to] {
            if fields[i].kind != Kind::Timestamp || fields[i].optional || fields[i].timeline {
                problem(
                    format!("{path}.span"),
                    format!(
                        "`{}` bounds a window of time, so it is a timestamp",
                        fields[i].name
                    ),
                );
            }
        }
        Some(Span { from, to })
    });
    let make = record.make.as_ref().map(|make| {
        make.iter()
            .filter_map(|f| index_of(f, "make", problem))
            .collect()
    });
    if name == CONTRACT && key.is_none() {
        problem(
            path.to_owned(),
            "a contract has a `key`: the field requests name it by".to_owned(),
        );
    }
    RecordDef {
        shape: Arc::new(Shape {
            name: name.into(),
            fields: fields.iter().map(|f| f.name.clone()).collect(),
            label: record.label.clone(),
            key,
            life,
            span,
        }),
        description: record.description.clone().unwrap_or_default(),
        fields,
        key,
        make,
    }
}

/// The most records a default may build inside one another: a case's own nesting bound.
const MAX_DEFAULT_DEPTH: usize = 32;

/// A record field's default builds the record with its own defaults, which may hold
/// records in turn: that must end, and within [`MAX_DEFAULT_DEPTH`]. A default that holds
/// its own record, directly or through others, never would (reading a case would not end).
fn bounded_defaults(model: &Model, problem: &mut impl FnMut(String, String)) {
    // The records a record's defaults build: its fields of a record type with a default.
    let builds = |r: usize| {
        model.records[r]
            .fields
            .iter()
            .filter(|f| f.default.as_ref().is_some_and(|d| !d.is_null()))
            .filter_map(|f| match f.kind {
                Kind::Record(inner) => Some((inner, f.name.clone())),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    // Depth-first, each record's deepest chain once; `on_path` finds a cycle.
    fn depth(
        r: usize,
        builds: &dyn Fn(usize) -> Vec<(usize, Name)>,
        memo: &mut Vec<Option<usize>>,
        on_path: &mut Vec<usize>,
    ) -> Result<usize, Vec<usize>> {
        if let Some(known) = memo[r] {
            return Ok(known);
        }
        if let Some(at) = on_path.iter().position(|&o| o == r) {
            return Err(on_path[at..].to_vec());
        }
        on_path.push(r);
        let mut deepest = 0;
        for (inner, _) in builds(r) {
            deepest = deepest.max(depth(inner, builds, memo, on_path)? + 1);
        }
        on_path.pop();
        memo[r] = Some(deepest);
        Ok(deepest)
    }
    let mut memo = vec![None; model.records.len()];
    for r in 0..model.records.len() {
        let name = &model.records[r].shape.name;
        match depth(r, &builds, &mut memo, &mut Vec::new()) {
            Err(cycle) if cycle[0] == r => {
                let (_, field) = builds(r)
                    .into_iter()
                    .find(|(inner, _)| cycle.contains(inner))
                    .unwrap_or((r, Name::from("")));
                let through: Vec<&str> = cycle
                    .iter()
                    .map(|&c| &*model.records[c].shape.name)
                    .collect();
                problem(
                    format!("records.{name}.fields.{field}.default"),
                    format!(
                        "this default builds a {name} that holds its own default again ({} -> {name}): reading a case would never end; make the field optional (`?`) without a default",
                        through.join(" -> ")
                    ),
                );
                return;
            }
            Err(_) => {}
            Ok(deep) if deep > MAX_DEFAULT_DEPTH => {
                problem(
                    format!("records.{name}"),
                    format!(
                        "its defaults build records {deep} deep, past the bound of {MAX_DEFAULT_DEPTH}"
                    ),
                );
                return;
            }
            Ok(_) => {}
        }
    }
}

/// `default_from: parent.field`: the parent is a record whose list holds this one.
fn resolve_parent_defaults(
    files: &indexmap::IndexMap<String, RecordFile>,
    model: &mut Model,
    problem: &mut impl FnMut(String, String),
) {
    for (r, (name, record)) in files.iter().enumerate() {
        for (f, (field, spec)) in record.fields.iter().enumerate() {
            let FieldFile::Full(spec) = spec else {
                continue;
            };
            let Some((parent, parent_field)) =
                spec.default_from.as_deref().and_then(|d| d.split_once('.'))
            else {
                continue;
            };
            let holds_this = model.record(parent).is_some_and(|p| {
                model.records[p].fields.iter().any(|pf| {
                    matches!(&pf.kind, Kind::List(inner) if **inner == Kind::Record(r))
                        || pf.kind == Kind::Record(r)
                })
            });
            let index = model.record(parent).and_then(|p| {
                let field = model.records[p].shape.index(parent_field)?;
                Some(DefaultFrom::Parent { record: p, field })
            });
            match index {
                Some(from) if holds_this => {
                    model.records[r].fields[f].default_from = Some(from);
                }
                _ => problem(
                    format!("records.{name}.fields.{field}.default_from"),
                    format!("`{parent}.{parent_field}` is not a field of a record holding {name}"),
                ),
            }
        }
    }
}

fn request_def(
    name: &str,
    request: &RequestFile,
    model: &Model,
    values: &[(String, Type)],
    path: &str,
    problem: &mut impl FnMut(String, String),
) -> Option<RequestDef> {
    let records: Vec<&str> = model.records.iter().map(|r| &*r.shape.name).collect();
    if request.fields.contains_key("type") || request.fields.contains_key("contract") {
        problem(
            format!("{path}.fields"),
            "`type` and `contract` are every request's own: declare the contract with `contract: id` or `contract: new`".to_owned(),
        );
    }
    if request.fields.contains_key("date") && request.date != "date" {
        problem(
            format!("{path}.fields.date"),
            "`date` is the day that selects the rule versions: name this field otherwise, or make it the request's `date:`".to_owned(),
        );
    }
    let declared = record_fields(&request.fields, &records, path, problem);
    let engine = |name: &str, kind: Kind, description: &str| FieldDef {
        name: name.into(),
        kind,
        optional: false,
        timeline: false,
        from_case: false,
        default: None,
        default_from: None,
        not_before: None,
        description: description.to_owned(),
    };
    let contract_kind = match request.contract {
        ContractRefFile::Id => Kind::Text,
        ContractRefFile::New => Kind::Record(model.contract),
    };
    let mut fields = vec![
        engine("type", Kind::Text, "the request's type"),
        engine("date", Kind::Date, "the day that selects the rule versions"),
        engine(
            "contract",
            contract_kind,
            match request.contract {
                ContractRefFile::Id => "the id of the contract it is about",
                ContractRefFile::New => "the proposed contract, as if formed on the request's date",
            },
        ),
    ];
    let offset = fields.len();
    let mut date_field = None;
    for mut field in declared {
        let shift = |d: &mut Option<DefaultFrom>| {
            if let Some(DefaultFrom::Sibling(s)) = d {
                *s = remap(*s, request, offset);
            }
        };
        shift(&mut field.default_from);
        field.not_before = field.not_before.map(|s| remap(s, request, offset));
        if *field.name == *request.date {
            if !matches!(field.kind, Kind::Date | Kind::Timestamp) || field.optional {
                problem(
                    format!("{path}.date"),
                    format!(
                        "`{}` selects rule versions, so it is a date or timestamp the request always gives",
                        field.name
                    ),
                );
            }
            if &*field.name == "date" {
                // The declared `date` is the engine's: one field, read from the case.
                fields[DATE_FIELD].from_case = true;
                fields[DATE_FIELD].description = field.description.clone();
                date_field = Some(DATE_FIELD);
                continue;
            }
            date_field = Some(fields.len());
        }
        fields.push(field);
    }
    let Some(date_field) = date_field else {
        problem(
            format!("{path}.date"),
            format!("`{}` is not a field of this request", request.date),
        );
        return None;
    };
    let shape = Arc::new(Shape {
        name: name.into(),
        fields: fields.iter().map(|f| f.name.clone()).collect(),
        label: None,
        key: None,
        life: None,
        span: None,
    });
    let source = |text: &str, at: &str, problem: &mut dyn FnMut(String, String)| {
        let found = match text.split_once('.') {
            Some(("request", field)) => shape
                .index(field)
                .map(|i| (Source::Request(i), fields[i].expr_type(model))),
            Some(("values", value)) => values
                .iter()
                .position(|(n, _)| n == value)
                .map(|i| (Source::Value(i), values[i].1.clone())),
            _ => None,
        };
        if found.is_none() {
            problem(
                format!("{path}.{at}"),
                format!(
                    "`{text}` is neither `request.FIELD` of this request nor `values.NAME` of ruleset.yaml"
                ),
            );
        }
        found
    };
    let contract = model.contract_def();
    // A list field of the contract holding records: its place and the record type.
    let list_of = |list: &str| {
        let place = contract.shape.index(list)?;
        match &contract.fields[place].kind {
            Kind::List(inner) => match **inner {
                Kind::Record(r) => Some((place, r)),
                _ => None,
            },
            _ => None,
        }
    };
    // A record's fields, each from `request.FIELD` or `values.NAME` and of the field's type.
    let fields_from = |def: &RecordDef,
                       map: &indexmap::IndexMap<String, String>,
                       prefix: &str,
                       problem: &mut dyn FnMut(String, String)| {
        let mut out = Vec::new();
        for (field, text) in map {
            let at = format!("{prefix}.{field}");
            let Some(index) = def.shape.index(field) else {
                problem(
                    format!("{path}.{at}"),
                    format!("`{field}` is not a field of {}", def.shape.name),
                );
                continue;
            };
            if let Some((source, ty)) = source(text, &at, problem) {
                let wanted = def.fields[index].expr_type(model);
                if !ty.fits(&wanted) {
                    problem(
                        format!("{path}.{at}"),
                        format!("`{text}` is {ty}; `{field}` is {wanted}"),
                    );
                }
                out.push((index, source, at, text.clone()));
            }
        }
        out
    };
    let child = request.child.as_ref().and_then(|child| {
        let Some((list, record)) = list_of(&child.list) else {
            problem(
                format!("{path}.child.list"),
                format!("`{}` is not a list of records of the contract", child.list),
            );
            return None;
        };
        let def = &model.records[record];
        let mut field_sources = |map: &indexmap::IndexMap<String, String>, key: &str| {
            let found = fields_from(def, map, &format!("child.{key}"), problem);
            for (_, source, at, text) in &found {
                if matches!(source, Source::Value(_)) {
                    // Bound before any rule runs: only the request's own fields exist.
                    problem(
                        format!("{path}.{at}"),
                        format!("`{text}`: a child is taken from `request.FIELD`, before rules compute values"),
                    );
                }
            }
            found.into_iter().map(|(i, s, ..)| (i, s)).collect::<Vec<_>>()
        };
        let new = child.new.as_ref().map(|m| field_sources(m, "new"));
        let select = child.select.as_ref().map(|s| Select {
            from: s.from.clone().map(|f| (f, None)),
            matching: field_sources(&s.matching, "select.where"),
        });
        if new.is_some() == select.is_some() {
            problem(
                format!("{path}.child"),
                "a child is either `new` (proposed by the request) or `select`ed (held)".to_owned(),
            );
        }
        Some(ChildDef {
            list,
            record,
            new,
            select,
        })
    });
    let mut effects = Vec::new();
    for (i, effect) in request.effects.iter().enumerate() {
        let at = format!("effects[{i}]");
        let day = |text: &str, problem: &mut dyn FnMut(String, String)| {
            let (source, ty) = source(text, &at, problem)?;
            if ty != Type::Date {
                problem(
                    format!("{path}.{at}"),
                    format!("`{text}` is {ty}, not a date that is always there"),
                );
            }
            Some(source)
        };
        let effect = match effect {
            EffectFile::Form(on) => {
                if request.contract != ContractRefFile::New {
                    problem(
                        format!("{path}.{at}"),
                        "only a request with `contract: new` forms one".to_owned(),
                    );
                }
                day(on, problem).map(Effect::Form)
            }
            EffectFile::End(on) => day(on, problem).map(Effect::End),
            EffectFile::Set { field, from, to } => {
                let index = contract.shape.index(field);
                let timeline = index.filter(|&i| contract.fields[i].timeline);
                let Some(index) = timeline else {
                    problem(
                        format!("{path}.{at}.field"),
                        format!("`{field}` is not a timeline field of the contract"),
                    );
                    continue;
                };
                let from = day(from, problem);
                let value = source(to, &at, problem);
                match (from, value) {
                    (Some(from), Some((to, ty))) => {
                        let wanted = contract.fields[index].kind.expr_type(model);
                        if !ty.fits(&wanted) {
                            problem(
                                format!("{path}.{at}.to"),
                                format!("`{field}` holds {wanted}, not {ty}"),
                            );
                        }
                        Some(Effect::Set {
                            field: index,
                            from,
                            to,
                        })
                    }
                    _ => None,
                }
            }
            EffectFile::AddChild => {
                if child.as_ref().is_none_or(|c| c.new.is_none()) {
                    problem(
                        format!("{path}.{at}"),
                        "`add_child` adds the `child: new` the request proposes; declare it"
                            .to_owned(),
                    );
                }
                Some(Effect::AddChild)
            }
            EffectFile::EndChild(on) => {
                if child.as_ref().is_none_or(|c| c.select.is_none()) {
                    problem(
                        format!("{path}.{at}"),
                        "`end_child` ends the `child: select` the request names; declare it"
                            .to_owned(),
                    );
                }
                day(on, problem).map(Effect::EndChild)
            }
            EffectFile::Record { list, fields } => {
                let Some((place, record)) = list_of(list) else {
                    problem(
                        format!("{path}.{at}.list"),
                        format!("`{list}` is not a list of records of the contract"),
                    );
                    continue;
                };
                let def = &model.records[record];
                let found = fields_from(def, fields, &format!("{at}.fields"), problem);
                let out = found.into_iter().map(|(i, s, ..)| (i, s)).collect();
                Some(Effect::Record {
                    list: place,
                    record,
                    fields: out,
                })
            }
        };
        effects.extend(effect);
    }
    let in_force = request.in_force.map(|f| (f.from, f.until));
    Some(RequestDef {
        name: name.into(),
        description: request.description.clone().unwrap_or_default(),
        shape: shape.clone(),
        fields,
        date_field,
        contract: request.contract,
        in_force,
        child,
        settled: request.settled,
        effects,
    })
}

/// A declared field's index once the engine's fields come first (`date` is one of them).
fn remap(declared: usize, request: &RequestFile, offset: usize) -> usize {
    let name = request.fields.get_index(declared).map(|(n, _)| n.as_str());
    if name == Some("date") {
        return DATE_FIELD;
    }
    let before_date = request
        .fields
        .get_index_of("date")
        .is_some_and(|d| d < declared);
    offset + declared - usize::from(before_date)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "
records:
  customer: { fields: { id: text? } }
  item: { life: { start: from, end: until }, fields: { kind: text, from: date, until: date? } }
  contract:
    key: id
    life: { start: formed, end: ended }
    fields:
      id: text
      formed: date?
      ended: date?
      seats: { type: count, timeline: true }
      items: { type: '[item]', default: [] }
requests:
  open: { date: date, contract: new, fields: { date: date }, effects: [ { form: request.date } ] }
  resize:
    date: date
    fields: { date: date, seats: count }
    effects: [ { set: { field: seats, from: request.date, to: request.seats } } ]
  add:
    date: date
    fields: { date: date, kind: text }
    child: { list: items, new: { kind: request.kind, from: request.date } }
    effects: [ add_child ]
  close:
    date: date
    fields: { date: date }
    effects: [ { end: values.end } ]
";

    fn compile(text: &str) -> Result<Model, Vec<ModelProblem>> {
        let file: ModelFile = serde_yaml::with::singleton_map_recursive::deserialize(
            serde_yaml::Deserializer::from_str(text),
        )
        .expect("the model parses");
        Model::compile(
            &file,
            &[
                ("end".to_owned(), Type::Date),
                ("fee".to_owned(), Type::Yen),
            ],
        )
    }

    fn problem(from: &str, to: &str) -> ModelProblem {
        assert!(BASE.contains(from), "no `{from}`");
        let problems = compile(&BASE.replace(from, to)).expect_err("a mistake");
        problems.into_iter().next().expect("one problem")
    }

    #[test]
    fn a_sound_model_compiles_with_its_effects() {
        let model = compile(BASE).unwrap();
        let resize = model.request("resize").unwrap();
        assert_eq!(resize.date_field, DATE_FIELD);
        assert!(matches!(resize.effects[0], Effect::Set { .. }));
        let close = model.request("close").unwrap();
        assert_eq!(close.effects, vec![Effect::End(Source::Value(0))]);
        assert!(!close.settled);
        let mut schema = Schema::default();
        model.register(&mut schema);
        assert!(schema.functions.contains_key("in_force"));
        assert!(schema.functions.contains_key("at"));
        assert!(schema.records.contains_key("open"));
    }

    #[test]
    fn a_default_from_the_holder_applies_only_inside_that_holder() {
        let text = BASE
            .replace(
                "item: { life: { start: from, end: until }, fields: { kind: text, from: date, until: date? } }",
                "item: { life: { start: from, end: until }, fields: { kind: text, from: { type: date, default_from: contract.formed }, until: date? } }",
            )
            .replace(
                "fields: { date: date, kind: text }",
                "fields: { date: date, kind: text, spare: item? }",
            );
        let model = compile(&text).unwrap();
        let read = |case: &str| {
            crate::case::Case::read(
                &model,
                case,
                None,
                crate::yaml::Syntax::Yaml,
                &crate::case::CaseLimits::default(),
            )
        };
        let listed = "as_of: 2026-05-01\ncontracts:\n  - { id: A, formed: 2026-04-01, seats: 5, items: [ { kind: x } ] }\n";
        let case = read(listed).unwrap();
        let items = case.contracts[0].field("items");
        let item = items.as_list().unwrap()[0].as_record().unwrap().clone();
        assert_eq!(item.field("from").to_string(), "2026-04-01");
        // Held by a request, not a contract: no default, so the field is missing.
        let asked = format!(
            "{listed}requests:\n  - {{ type: add, date: 2026-04-02, contract: A, kind: y, spare: {{ kind: z }} }}\n"
        );
        let error = read(&asked).unwrap_err();
        assert_eq!(error.path, "requests[0].spare");
        assert!(error.message.contains("missing field `from`"), "{error}");
    }

    /// Reading a case builds a record field's default with its own defaults: a default
    /// that holds itself, through another record, or a chain past the bound is refused.
    #[test]
    fn defaults_that_never_end_or_nest_too_deep_are_refused() {
        let cycle = BASE.replace(
            "records:\n",
            "records:\n  a: { fields: { b: { type: b, default: {} } } }\n  b: { fields: { a: { type: a, default: {} } } }\n",
        );
        let problems = compile(&cycle).expect_err("a cycle of defaults");
        assert!(
            problems.iter().any(
                |p| p.path == "records.a.fields.b.default" && p.message.contains("a -> b -> a")
            ),
            "{problems:?}"
        );
        let mut chain = String::from("records:\n");
        for i in 0..40 {
            chain.push_str(&format!(
                "  r{i}: {{ fields: {{ next: {{ type: r{}, default: {{}} }} }} }}\n",
                i + 1
            ));
        }
        chain.push_str("  r40: { fields: { end: text? } }\n");
        let deep = BASE.replace("records:\n", &chain);
        let problems = compile(&deep).expect_err("a chain too deep");
        assert!(
            problems
                .iter()
                .any(|p| p.path == "records.r0" && p.message.contains("40 deep")),
            "{problems:?}"
        );
        // Within the bound, and optional without a default: fine.
        let fine = BASE.replace(
            "records:\n",
            "records:\n  a: { fields: { b: { type: b, default: {} } } }\n  b: { fields: { a: a? } }\n",
        );
        assert!(compile(&fine).is_ok(), "{:?}", compile(&fine).err());
    }

    #[test]
    fn mistakes_are_named_at_their_path() {
        let cases = [
            (
                "seats: { type: count",
                "seats: { type: cuont",
                "records.contract.fields.seats",
                "did you mean `count`",
            ),
            (
                "to: request.seats",
                "to: request.date",
                "requests.resize.effects[0].to",
                "holds decimal, not date",
            ),
            (
                "{ end: values.end }",
                "{ end: values.fee }",
                "requests.close.effects[0]",
                "not a date",
            ),
            (
                "from: request.date } }",
                "from: values.end } }",
                "requests.add.child.new.from",
                "before rules compute",
            ),
            (
                "field: seats,",
                "field: id,",
                "requests.resize.effects[0].field",
                "not a timeline field",
            ),
            (
                "key: id",
                "key: name",
                "records.contract.key",
                "not a field of contract",
            ),
            (
                "[ add_child ]",
                "[ { end_child: request.date } ]",
                "requests.add.effects[0]",
                "end_child",
            ),
            (
                "[ { end: values.end } ]",
                "[ { record: { list: seats, fields: {} } } ]",
                "requests.close.effects[0].list",
                "not a list of records",
            ),
            (
                "[ { end: values.end } ]",
                "[ { record: { list: items, fields: { kind: values.fee } } } ]",
                "requests.close.effects[0].fields.kind",
                "is yen; `kind` is text",
            ),
            (
                "life: { start: formed, end: ended }",
                "life: { start: formed, end: ended, ended_by: ended }",
                "records.contract.life.ended_by",
                "an `integer?` with `from_case: false`",
            ),
            (
                "item: { life: { start: from, end: until },",
                "item: { span: { from: from, to: until }, life: { start: from, end: until },",
                "records.item.span",
                "so it is a timestamp",
            ),
            (
                "fields: { kind: text, from: date, until: date? } }",
                "fields: { kind: text, from: date, until: date?, next: { type: item, default: {} } } }",
                "records.item.fields.next.default",
                "reading a case would never end",
            ),
        ];
        for (from, to, path, says) in cases {
            let found = problem(from, to);
            assert_eq!(found.path, path, "{to}: {}", found.message);
            assert!(found.message.contains(says), "{to}: {}", found.message);
        }
    }
}
