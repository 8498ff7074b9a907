//! The OpenAPI 3.1 description of `yakkan serve`, served at `GET /v1/openapi.json`. The
//! bodies' schemas are the ones derived from the Rust types (see [`crate::schema`]), so
//! the description follows the code; `tests/openapi.rs` checks it against real responses.

use serde_json::{Map, Value, json};

/// The OpenAPI document of a service judging by `rules`: its case schema is that rule
/// set's model.
pub fn document(rules: &crate::RuleSet) -> Value {
    let mut components = Map::new();
    let mut add = |name: &str, schema: schemars::Schema| {
        let mut schema = schema.to_value();
        if let Some(object) = schema.as_object_mut() {
            object.remove("$schema");
            if let Some(Value::Object(defs)) = object.remove("$defs") {
                for (key, def) in defs {
                    components.insert(key, def);
                }
            }
        }
        components.insert(name.to_owned(), schema);
    };
    add("Case", crate::expect::case_schema(rules));
    add("Ruling", schemars::schema_for!(crate::ruling::Ruling));
    add(
        "Error",
        schemars::schema_for!(crate::server::wire::ErrorBody),
    );
    components.insert("RulesInForce".to_owned(), rules_in_force());
    components.insert(
        "Health".to_owned(),
        json!({
            "type": "object",
            "required": ["status", "ruleset", "digest"],
            "additionalProperties": false,
            "properties": {
                "status": {
                    "enum": ["ok", "reload_refused"],
                    "description": "`reload_refused` while the rules folder holds a set that was refused; the old set keeps serving."
                },
                "ruleset": { "type": "string", "description": "The rule set's name." },
                "digest": { "type": "string", "pattern": "^sha256:[0-9a-f]{64}$" },
                "last_reload": {
                    "description": "The last reload tried, if any.",
                    "oneOf": [
                        { "type": "null" },
                        {
                            "type": "object",
                            "required": ["result", "digest", "trigger", "at"],
                            "additionalProperties": false,
                            "properties": {
                                "result": { "enum": ["ok", "refused"] },
                                "digest": { "type": "string", "description": "The digest of the folder text tried." },
                                "trigger": { "type": "string", "description": "What set it off: SIGHUP, or the folder changing." },
                                "reason": { "type": ["string", "null"], "description": "Why it was refused." },
                                "at": { "type": "string", "description": "When, RFC 3339 (UTC)." }
                            }
                        }
                    ]
                }
            }
        }),
    );
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "yakkan",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Evaluates cases against service terms encoded as rules and returns rulings whose findings cite the articles. The case and ruling formats are described in docs/reference/."
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": {
            "/v1/evaluate": {
                "post": {
                    "summary": "Evaluate one case",
                    "operationId": "evaluate",
                    "parameters": evaluation_parameters(),
                    "requestBody": {
                        "required": true,
                        "description": "A case as JSON (application/json, any +json type, or no Content-Type), or as YAML with a YAML content type (application/yaml, application/x-yaml, text/yaml, text/x-yaml, or any +yaml type).",
                        "content": case_content()
                    },
                    "responses": {
                        "200": json_response("The ruling; with explain, each finding's explanation (and with explain=all the rules considered), as `yakkan eval --explain[=all]` gives.", "Ruling"),
                        "400": json_response("The case cannot be read (the error names the field path, line and column), or a query parameter is unknown or not valid (the error's path names it).", "Error"),
                        "408": json_response("The body did not arrive within --read-timeout-ms.", "Error"),
                        "413": json_response("The body is over --body-limit.", "Error"),
                        "415": json_response("The content type is neither JSON nor YAML: the message names the types accepted.", "Error"),
                        "500": json_response("A rule failed on the case's data (an overflow, a division by zero): the error names the rule, its file, line and column.", "Error"),
                        "503": json_response("Too many evaluations admitted (--queue-per-core), or too many bytes of bodies and answers held (--held-bytes); retry after a second.", "Error")
                    }
                }
            },
            "/v1/evaluate/batch": {
                "post": {
                    "summary": "Evaluate many cases, in order, on every core",
                    "operationId": "evaluateBatch",
                    "parameters": evaluation_parameters(),
                    "requestBody": {
                        "required": true,
                        "description": "A JSON array of cases (application/json, any +json type, or no Content-Type). The query applies to every case.",
                        "content": { "application/json": { "schema": {
                            "type": "array", "items": { "$ref": "#/components/schemas/Case" }
                        } } }
                    },
                    "responses": {
                        "200": {
                            "description": "One entry per case, in order: its ruling (the same bytes /v1/evaluate answers for that case), or the error it gave, with its index in the array.",
                            "content": { "application/json": { "schema": {
                                "type": "array",
                                "items": { "oneOf": [
                                    { "$ref": "#/components/schemas/Ruling" },
                                    { "$ref": "#/components/schemas/Error" }
                                ] }
                            } } }
                        },
                        "400": json_response("The body is not a JSON array, or a query parameter is unknown or not valid.", "Error"),
                        "408": json_response("The body did not arrive within --read-timeout-ms.", "Error"),
                        "413": json_response("The body is over --body-limit, the batch holds more than --max-batch cases (payload_too_large), or its rulings come to more than --answer-limit bytes (answer_too_large).", "Error"),
                        "415": json_response("The content type is not JSON: the message names the types accepted.", "Error"),
                        "503": json_response("Too many evaluations admitted (--queue-per-core), or too many bytes of bodies and answers held (--held-bytes); retry after a second.", "Error")
                    }
                }
            },
            "/v1/rules": {
                "get": {
                    "summary": "The rules in force on a date",
                    "operationId": "rulesInForce",
                    "parameters": [{
                        "name": "as_of", "in": "query", "required": false,
                        "description": "YYYY-MM-DD; today in Japan time when absent.",
                        "schema": { "type": "string", "format": "date", "pattern": "^\\d{4}-\\d{2}-\\d{2}$" }
                    }],
                    "responses": {
                        "200": json_response("The rules in force, with citation, title and file.", "RulesInForce"),
                        "400": json_response("as_of is not a date.", "Error")
                    }
                }
            },
            "/v1/openapi.json": {
                "get": {
                    "summary": "This description",
                    "operationId": "openapi",
                    "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": {} } } }
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Health and the digest of the rule set in service",
                    "operationId": "health",
                    "responses": { "200": json_response("Serving.", "Health") }
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "operationId": "metrics",
                    "responses": { "200": { "description": "Prometheus text format.", "content": { "text/plain": { "schema": { "type": "string" } } } } }
                }
            },
            "/": {
                "get": {
                    "summary": "The rulebook, with a form to try a case",
                    "operationId": "rulebook",
                    "responses": { "200": { "description": "HTML.", "content": { "text/html": { "schema": { "type": "string" } } } } }
                }
            },
            "/{page}": {
                "get": {
                    "summary": "A page of the rulebook",
                    "operationId": "rulebookPage",
                    "parameters": [{ "name": "page", "in": "path", "required": true, "schema": { "type": "string" } }],
                    "responses": {
                        "200": { "description": "HTML.", "content": { "text/html": { "schema": { "type": "string" } } } },
                        "404": json_response("No such page.", "Error")
                    }
                }
            }
        },
        "components": { "schemas": Value::Object(components) }
    });
    rewrite_refs(&mut document);
    document
}

/// The query both evaluation endpoints take, as `eval` takes `--explain[=all]` and
/// `--as-of`.
fn evaluation_parameters() -> Value {
    json!([
        {
            "name": "explain", "in": "query", "required": false,
            "description": "true: each finding carries its explanation (the cited text, the rule's expressions, the values and facts they read), as `yakkan eval --explain`; all: also the rules considered that made no finding, and why, as `--explain=all`; false (the default): neither.",
            "schema": { "enum": ["true", "all", "false"] }
        },
        {
            "name": "as_of", "in": "query", "required": false,
            "description": "YYYY-MM-DD: judge the state on this date instead of the case's as_of, as `yakkan eval --as-of`.",
            "schema": { "type": "string", "format": "date", "pattern": "^\\d{4}-\\d{2}-\\d{2}$" }
        }
    ])
}

/// The request body of `/v1/evaluate`: the same case schema under JSON and every YAML
/// content type the service reads.
fn case_content() -> Value {
    let case = json!({ "schema": { "$ref": "#/components/schemas/Case" } });
    let mut content = Map::new();
    content.insert("application/json".to_owned(), case.clone());
    for kind in crate::server::wire::YAML_TYPES {
        content.insert(kind.to_owned(), case.clone());
    }
    Value::Object(content)
}

fn json_response(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
    })
}

/// `GET /v1/rules`.
fn rules_in_force() -> Value {
    json!({
        "type": "object",
        "required": ["ruleset", "as_of", "rules"],
        "additionalProperties": false,
        "properties": {
            "ruleset": {
                "type": "object",
                "required": ["name", "digest", "in_force"],
                "additionalProperties": false,
                "properties": {
                    "name": { "type": "string" },
                    "digest": { "type": "string" },
                    "in_force": { "type": ["string", "null"], "description": "The latest revision in force on as_of." }
                }
            },
            "as_of": { "type": "string" },
            "rules": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "ref", "cite", "title", "file", "from", "until", "reconstructed"],
                    "additionalProperties": false,
                    "properties": {
                        "id": { "type": "string" },
                        "ref": { "type": "string" },
                        "cite": { "type": "string" },
                        "title": { "$ref": "#/components/schemas/Message" },
                        "file": { "type": "string" },
                        "from": { "type": "string" },
                        "until": { "type": ["string", "null"] },
                        "reconstructed": { "type": "boolean" }
                    }
                }
            }
        }
    })
}

/// Points the derived schemas' `#/$defs/NAME` references at `#/components/schemas/NAME`.
fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, entry) in map.iter_mut() {
                if key == "$ref"
                    && let Value::String(target) = entry
                    && let Some(name) = target.strip_prefix("#/$defs/")
                {
                    *target = format!("#/components/schemas/{name}");
                } else {
                    rewrite_refs(entry);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}
