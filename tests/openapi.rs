#![cfg(feature = "server")]
//! `GET /v1/openapi.json` describes the service as it answers: every status code a real
//! request gets is documented for its route, and every JSON body is valid against the
//! schema the description gives for it. The rulebook is served at `/`.

mod common;

use common::{SIXTY_ACCOUNTS, Server, failing_rules, project};
use serde_json::Value;

/// A JSON Pointer segment, as it goes in a URI fragment (`{` and `}` percent-encoded).
fn pointer(segment: &str) -> String {
    segment
        .replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

/// Checks one real answer against the description: its status is documented for the
/// route, and a JSON body is valid against the documented schema.
fn conforms(document: &Value, route: &str, method: &str, status: u16, kind: &str, body: &str) {
    let operation = &document["paths"][route][method];
    assert!(operation.is_object(), "{method} {route} is not described");
    let response = &operation["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {route} answered {status}, which the description does not list"
    );
    if !kind.starts_with("application/json") {
        return;
    }
    let schema_path = format!(
        "#/paths/{}/{method}/responses/{status}/content/{}/schema",
        pointer(route),
        pointer("application/json")
    );
    assert!(
        response["content"]["application/json"]["schema"].is_object(),
        "{method} {route} {status}: no JSON schema described"
    );
    // The whole document, validated from the response's schema, so its references resolve.
    let mut root = document.clone();
    root["$ref"] = Value::String(schema_path);
    let validator = jsonschema::validator_for(&root).unwrap();
    let instance: Value = serde_json::from_str(body).unwrap();
    let problems: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "{method} {route} {status}:\n{}",
        problems.join("\n")
    );
}

fn example(name: &str) -> String {
    std::fs::read_to_string(project().join("examples").join(name)).unwrap()
}

/// The example as JSON, as other services send it.
fn example_json(name: &str) -> String {
    let value: Value = serde_yaml::from_str(&example(name)).unwrap();
    value.to_string()
}

#[test]
fn the_description_matches_real_answers() {
    let server = Server::start(&project().join("rules"), &[]);
    let (status, _, text) = server.call("get", "/v1/openapi.json", None);
    assert_eq!(status, 200);
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    // Every reference points inside the document.
    assert!(
        !text.contains("#/$defs/"),
        "a schema reference escaped its rewrite"
    );

    let good = example_json("02-early-termination-fee.yaml");
    let bad_date = good.replace("2026-04-12", "2026-02-30");
    let calls: Vec<(&str, &str, &str, Option<String>, u16)> = vec![
        (
            "/v1/evaluate",
            "/v1/evaluate",
            "post",
            Some(good.clone()),
            200,
        ),
        (
            "/v1/evaluate",
            "/v1/evaluate",
            "post",
            Some(example_json("05-fourth-contract.yaml")),
            200,
        ),
        (
            "/v1/evaluate",
            "/v1/evaluate",
            "post",
            Some(bad_date.clone()),
            400,
        ),
        (
            "/v1/evaluate",
            "/v1/evaluate",
            "post",
            Some("{\"as_of\": 1".to_owned()),
            400,
        ),
        (
            "/v1/evaluate/batch",
            "/v1/evaluate/batch",
            "post",
            Some(format!("[{good}, {bad_date}]")),
            200,
        ),
        (
            "/v1/evaluate/batch",
            "/v1/evaluate/batch",
            "post",
            Some("{}".to_owned()),
            400,
        ),
        ("/v1/rules", "/v1/rules?as_of=2026-04-01", "get", None, 200),
        ("/v1/rules", "/v1/rules?as_of=2026-02-30", "get", None, 400),
        ("/healthz", "/healthz", "get", None, 200),
        ("/metrics", "/metrics", "get", None, 200),
        ("/", "/", "get", None, 200),
        ("/{page}", "/art-05-accounts.html", "get", None, 200),
        ("/{page}", "/no-such-page.html", "get", None, 404),
    ];
    for (route, path, method, body, expected) in calls {
        let (status, kind, text) = server.call(method, path, body.as_deref());
        assert_eq!(status, expected, "{method} {path}: {text}");
        conforms(&document, route, method, status, &kind, &text);
    }
    // An input error carries the hint the command line shows.
    let (_, _, text) = server.call(
        "post",
        "/v1/evaluate",
        Some(&good.replace("\"terminate\"", "\"terminated\"")),
    );
    let error: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        error["error"]["hint"], "did you mean `terminate`? (write it exactly as shown)",
        "{text}"
    );
    let (_, kind, page) = server.call("get", "/", None);
    assert!(kind.starts_with("text/html"));
    assert!(
        page.contains("id=\"case-form\""),
        "the rulebook index has the form"
    );
}

#[test]
fn a_rule_error_is_described_too() {
    let dir = failing_rules();
    let server = Server::start(dir.path(), &[]);
    let (_, _, text) = server.call("get", "/v1/openapi.json", None);
    let document: Value = serde_json::from_str(&text).unwrap();
    let body = SIXTY_ACCOUNTS;
    let (status, kind, text) = server.call("post", "/v1/evaluate", Some(body));
    assert_eq!(status, 500, "{text}");
    conforms(&document, "/v1/evaluate", "post", status, &kind, &text);
    let error: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(error["error"]["kind"], "rule");
    assert_eq!(error["error"]["rule"], "art12-payment-duties");
}

#[test]
fn the_description_is_a_valid_openapi_31_document() {
    let document =
        yakkan::openapi::document(&yakkan::RuleSet::load(&project().join("rules")).unwrap());
    // Each schema is a valid JSON Schema (2020-12) and each reference resolves.
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for name in [
        "Case",
        "Ruling",
        "Error",
        "RulesInForce",
        "Health",
        "Message",
    ] {
        assert!(schemas.contains_key(name), "no component {name}");
    }
    let mut root = document.clone();
    for name in schemas.keys() {
        root["$ref"] = Value::String(format!("#/components/schemas/{name}"));
        jsonschema::validator_for(&root)
            .unwrap_or_else(|e| panic!("components.schemas.{name}: {e}"));
    }
    // No rubber stamp: a ruling is no error body, and an error body no ruling.
    let rules = yakkan::RuleSet::load(&project().join("rules")).unwrap();
    let case =
        yakkan::expect::case_from_str(&rules, &example("02-early-termination-fee.yaml"), None)
            .unwrap();
    let ruling: Value =
        serde_json::from_str(&yakkan::evaluate(&rules, &case).unwrap().to_json()).unwrap();
    let error = serde_json::json!({"error": {"kind": "input", "path": "as_of", "line": 1, "column": 2, "message": "x"}, "digest": "sha256:0"});
    let mut valid = |name: &str, instance: &Value| {
        root["$ref"] = Value::String(format!("#/components/schemas/{name}"));
        jsonschema::validator_for(&root).unwrap().is_valid(instance)
    };
    assert!(valid("Ruling", &ruling) && valid("Error", &error));
    assert!(!valid("Error", &ruling) && !valid("Ruling", &error));
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
        }
    }
}

#[test]
fn yaml_bodies_and_the_evaluation_query_are_described_and_answered_as_described() {
    let server = Server::start(&project().join("rules"), &[]);
    let (_, _, text) = server.call("get", "/v1/openapi.json", None);
    let document: Value = serde_json::from_str(&text).unwrap();
    let evaluate = &document["paths"]["/v1/evaluate"]["post"];
    let content = &evaluate["requestBody"]["content"];
    for kind in [
        "application/json",
        "application/yaml",
        "application/x-yaml",
        "text/yaml",
        "text/x-yaml",
    ] {
        assert_eq!(
            content[kind]["schema"]["$ref"], "#/components/schemas/Case",
            "{kind} is not described as a case"
        );
    }
    for route in ["/v1/evaluate", "/v1/evaluate/batch"] {
        let parameters = document["paths"][route]["post"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{route} describes no query"));
        let names: Vec<&str> = parameters
            .iter()
            .map(|p| {
                assert_eq!(p["in"], "query");
                p["name"].as_str().unwrap()
            })
            .collect();
        assert_eq!(names, ["explain", "as_of"], "{route}");
        // A date, as a generator of requests from the description must know.
        assert_eq!(parameters[1]["schema"]["format"], "date", "{route}");
    }
    let rules_query = &document["paths"]["/v1/rules"]["get"]["parameters"][0];
    assert_eq!(rules_query["schema"]["format"], "date");

    // Real answers to a YAML body and to the query conform.
    let yaml = example("02-early-termination-fee.yaml");
    for (path, kind, expected) in [
        ("/v1/evaluate", "application/yaml", 200),
        ("/v1/evaluate?explain=true", "text/yaml", 200),
        (
            "/v1/evaluate?explain=all&as_of=2026-06-01",
            "text/x-yaml",
            200,
        ),
        ("/v1/evaluate?as_of=2026-13-01", "application/yaml", 400),
        ("/v1/evaluate?nope=1", "application/yaml", 400),
        ("/v1/evaluate", "text/plain", 415),
    ] {
        let (status, body) = server.send(path, Some(kind), yaml.as_bytes());
        assert_eq!(status, expected, "{path} as {kind}: {body}");
        conforms(
            &document,
            "/v1/evaluate",
            "post",
            status,
            "application/json",
            &body,
        );
    }
    let good = example_json("02-early-termination-fee.yaml");
    for (path, kind, body, expected) in [
        (
            "/v1/evaluate/batch?explain=all",
            "application/json",
            format!("[{good}, {{\"as_of\": 1}}]"),
            200,
        ),
        (
            "/v1/evaluate/batch?as_of=x",
            "application/json",
            "[]".to_owned(),
            400,
        ),
        (
            "/v1/evaluate/batch",
            "application/yaml",
            "[]".to_owned(),
            415,
        ),
    ] {
        let (status, text) = server.send(path, Some(kind), body.as_bytes());
        assert_eq!(status, expected, "{path} as {kind}: {text}");
        conforms(
            &document,
            "/v1/evaluate/batch",
            "post",
            status,
            "application/json",
            &text,
        );
    }
}
