//! The JSON Schema of a case, derived from a model: what the reader of [`super::read`]
//! accepts, for editors and for services that write cases.

use serde_json::{Map, Value as Json, json};

use super::format::ContractRefFile;
use super::{CONTRACT_FIELD, DATE_FIELD, FieldDef, Kind, Model, TYPE_FIELD};

const NUMBER_TEXT: &str = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$";

/// The schema of a case judged by a rule set called `name` with this model; `owned` are
/// the top-level keys the caller owns beside the case, each with its schema.
pub fn case_schema(
    model: &Model,
    name: &str,
    owned: &[(&str, schemars::Schema)],
) -> schemars::Schema {
    let mut defs = Map::new();
    for (i, record) in model.records.iter().enumerate() {
        defs.insert(record.shape.name.to_string(), record_schema(model, i));
    }
    let contract = model.contract_def();
    let life = contract.shape.life;
    let start = life.map(|l| contract.fields[l.start].name.to_string());
    let listed = match &start {
        Some(start) => json!({
            "$ref": "#/$defs/contract",
            "required": [start],
            "properties": { start: { "type": "string" } }
        }),
        None => json!({ "$ref": "#/$defs/contract" }),
    };
    let proposed = match life {
        Some(l) => {
            let mut none = Map::new();
            for i in [l.start, l.end] {
                none.insert(
                    contract.fields[i].name.to_string(),
                    json!({ "type": "null" }),
                );
            }
            json!({
                "$ref": "#/$defs/contract",
                "description": "The proposed contract; it is formed on the request's date when accepted.",
                "properties": none
            })
        }
        None => json!({ "$ref": "#/$defs/contract" }),
    };
    let requests: Vec<Json> = model
        .requests
        .iter()
        .map(|request| {
            let mut properties = Map::new();
            let mut required = vec![json!("type")];
            properties.insert(
                "type".into(),
                json!({ "const": request.name.as_ref(), "description": "The request's type." }),
            );
            for (i, field) in request.fields.iter().enumerate() {
                if i == TYPE_FIELD || (i == DATE_FIELD && !field.from_case) {
                    continue;
                }
                if i == CONTRACT_FIELD {
                    let schema = match request.contract {
                        ContractRefFile::Id => {
                            json!({ "type": "string", "description": "The contract's id." })
                        }
                        ContractRefFile::New => proposed.clone(),
                    };
                    properties.insert("contract".into(), schema);
                    required.push(json!("contract"));
                    continue;
                }
                if !field.from_case {
                    continue;
                }
                if needed(field) {
                    required.push(json!(field.name.as_ref()));
                }
                properties.insert(field.name.to_string(), field_schema(model, field));
            }
            let mut shape = json!({
                "title": request.name.as_ref(),
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false,
            });
            if !request.description.is_empty() {
                shape["description"] = json!(request.description);
            }
            shape
        })
        .collect();
    // What the caller owns beside the case (a harness's expected results): each its own
    // schema, its definitions merged with the case's.
    let mut extra = serde_json::Map::new();
    for (key, schema) in owned {
        let mut schema = schema.clone().to_value();
        if let Some(Json::Object(more)) = schema.get_mut("$defs").map(Json::take) {
            for (key, value) in more {
                defs.entry(key).or_insert(value);
            }
        }
        if let Json::Object(map) = &mut schema {
            map.remove("$schema");
            map.remove("$defs");
        }
        extra.insert((*key).to_owned(), schema);
    }
    let document = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("yakkan case ({name})"),
        "description": "A case: the customer, the contracts they hold and the requests to decide, judged on `as_of`. Unknown fields are errors.",
        "type": "object",
        "additionalProperties": false,
        "required": ["as_of"],
        "properties": {
            "as_of": date_schema(false),
            "customer": { "$ref": "#/$defs/customer" },
            "contracts": { "type": "array", "items": listed, "description": "The contracts the customer already has." },
            "requests": {
                "type": "array",
                "items": { "oneOf": requests },
                "description": "Requests, decided in order; an accepted request changes the state later ones see."
            },
        },
        "$defs": defs,
    });
    let mut document = document;
    if let Some(Json::Object(properties)) = document.get_mut("properties") {
        properties.extend(extra);
    }
    schemars::Schema::try_from(document).unwrap_or_default()
}

/// A field a document must give.
fn needed(field: &FieldDef) -> bool {
    field.from_case && !field.optional && field.default.is_none() && field.default_from.is_none()
}

fn record_schema(model: &Model, index: usize) -> Json {
    let record = &model.records[index];
    let fields = &record.fields;
    let mut properties = Map::new();
    let mut required = Vec::new();
    let life_start = record.shape.life.map(|l| l.start);
    for (i, field) in fields.iter().enumerate().filter(|(_, f)| f.from_case) {
        if needed(field) && Some(i) != life_start {
            required.push(json!(field.name.as_ref()));
        }
        properties.insert(field.name.to_string(), field_schema(model, field));
    }
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    if !record.description.is_empty() {
        schema["description"] = json!(record.description);
    }
    schema
}

fn field_schema(model: &Model, field: &FieldDef) -> Json {
    let mut schema = kind_schema(model, &field.kind, field.optional);
    if !field.description.is_empty()
        && let Json::Object(map) = &mut schema
    {
        map.insert("description".into(), json!(field.description));
    }
    schema
}

fn date_schema(optional: bool) -> Json {
    json!({
        "type": if optional { json!(["string", "null"]) } else { json!("string") },
        "pattern": r"^\d{4}-\d{2}-\d{2}$",
    })
}

fn kind_schema(model: &Model, kind: &Kind, optional: bool) -> Json {
    let types = |base: &[&str]| {
        let mut all: Vec<&str> = base.to_vec();
        if optional {
            all.push("null");
        }
        json!(all)
    };
    match kind {
        Kind::Bool => json!({ "type": types(&["boolean"]) }),
        Kind::Integer => json!({ "type": types(&["integer"]) }),
        Kind::Count | Kind::Yen | Kind::Decimal => {
            json!({ "type": types(&["string", "number"]), "pattern": NUMBER_TEXT })
        }
        Kind::Text => json!({ "type": types(&["string"]) }),
        Kind::Words(words) => {
            let mut all: Vec<Json> = words.iter().map(|w| json!(w)).collect();
            if optional {
                all.push(Json::Null);
            }
            json!({ "enum": all })
        }
        Kind::Date => date_schema(optional),
        Kind::Timestamp => json!({
            "type": types(&["string"]),
            "pattern": r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}",
        }),
        Kind::Record(i) => {
            let reference = json!({ "$ref": format!("#/$defs/{}", model.records[*i].shape.name) });
            if optional {
                json!({ "anyOf": [reference, { "type": "null" }] })
            } else {
                reference
            }
        }
        Kind::List(inner) => json!({
            "type": types(&["array"]),
            "items": kind_schema(model, inner, false),
        }),
    }
}
