//! The committed JSON Schemas (`schemas/`) match the types, and every example, case and
//! rule file of the project is valid against them; the schemas refuse what the readers
//! refuse for the common mistakes.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use yakkan::{RuleSet, corpus, evaluate, schema};

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn committed(name: &str) -> Value {
    let text = fs::read_to_string(project().join("schemas").join(name))
        .unwrap_or_else(|e| panic!("schemas/{name}: {e}; run `cargo run -- schema --out schemas`"));
    serde_json::from_str(&text).unwrap()
}

fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&committed(name)).unwrap()
}

fn yaml_file(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every problem the validator finds, one line each, for a failure message.
fn problems(validator: &jsonschema::Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect()
}

fn yaml_files_under(dir: &Path) -> Vec<PathBuf> {
    corpus::case_files(&[dir.to_path_buf()])
        .unwrap()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect()
}

#[test]
fn committed_schemas_match_the_types() {
    for (name, schema) in schema::all(&RuleSet::load(&project().join("rules")).unwrap()) {
        let on_disk = fs::read_to_string(project().join("schemas").join(name)).unwrap_or_default();
        assert!(
            on_disk == schema::to_text(&schema),
            "schemas/{name} is out of date with the Rust types: run `cargo run -- schema --out schemas` and commit it"
        );
    }
}

#[test]
fn every_example_and_case_is_valid() {
    let validator = validator("case.schema.json");
    let mut files = yaml_files_under(&project().join("examples"));
    files.extend(yaml_files_under(&project().join("tests/cases")));
    assert!(files.len() > 80, "found only {} cases", files.len());
    for file in files {
        let found = problems(&validator, &yaml_file(&file));
        assert!(
            found.is_empty(),
            "{}:\n{}",
            file.display(),
            found.join("\n")
        );
    }
}

#[test]
fn every_rule_file_is_valid() {
    let head = validator("ruleset.schema.json");
    let part = validator("rule-file.schema.json");
    let model = validator("model.schema.json");
    let mut files = yaml_files_under(&project().join("rules"));
    files.extend(yaml_files_under(
        &project().join("docs/r8-impact/rules-before-r8"),
    ));
    assert!(files.len() > 30, "found only {} rule files", files.len());
    // A rule set's own example cases are cases, not rule files.
    files.retain(|f| !f.components().any(|c| c.as_os_str() == "cases"));
    for file in files {
        let validator = if file.ends_with("ruleset.yaml") {
            &head
        } else if file.ends_with("model.yaml") {
            &model
        } else {
            &part
        };
        let found = problems(validator, &yaml_file(&file));
        assert!(
            found.is_empty(),
            "{}:\n{}",
            file.display(),
            found.join("\n")
        );
    }
}

#[test]
fn rulings_are_valid_and_read_back() {
    let validator = validator("ruling.schema.json");
    let rules = RuleSet::load(&project().join("rules")).unwrap();
    for file in yaml_files_under(&project().join("examples")) {
        let text = fs::read_to_string(&file).unwrap();
        let case = yakkan::expect::case_from_str(&rules, &text, Some(&file.display().to_string()))
            .unwrap();
        let ruling = evaluate(&rules, &case).unwrap();
        let json = ruling.to_json();
        let found = problems(&validator, &serde_json::from_str(&json).unwrap());
        assert!(
            found.is_empty(),
            "{}:\n{}",
            file.display(),
            found.join("\n")
        );
        // A Rust client reads the ruling back, equal field for field, explanations too;
        // so does a reviewer's tool from the YAML of a snapshot.
        assert_eq!(yakkan::Ruling::from_json(&json).unwrap(), ruling);
        assert_eq!(
            serde_yaml::from_str::<yakkan::Ruling>(&ruling.to_yaml()).unwrap(),
            ruling
        );
        let (explained, _) = yakkan::eval::evaluate_with(
            &rules,
            &case,
            yakkan::eval::Settings {
                explain: true,
                explain_all: true,
            },
        )
        .unwrap();
        let json = explained.to_json();
        assert!(json.contains("\"explain\""));
        assert!(problems(&validator, &serde_json::from_str(&json).unwrap()).is_empty());
        assert_eq!(yakkan::Ruling::from_json(&json).unwrap(), explained);
    }
}

/// The schemas are no rubber stamp: the mistakes the readers refuse, they refuse too.
#[test]
fn schemas_refuse_what_the_readers_refuse() {
    let rules = RuleSet::load(&project().join("rules")).unwrap();
    let case = validator("case.schema.json");
    let base =
        fs::read_to_string(project().join("examples/02-early-termination-fee.yaml")).unwrap();
    for (what, from, to) in [
        (
            "unknown field",
            "    kind: web_gateway",
            "    kind: web_gateway\n    colour: red",
        ),
        (
            "impossible date shape",
            "as_of: 2026-05-20",
            "as_of: 20-05-2026",
        ),
        (
            "field of another request type",
            "requested_end: null",
            "requested_end: null, accounts: 3",
        ),
        ("missing required field", "notice_arrived: 2026-04-12, ", ""),
        ("unknown request type", "type: terminate", "type: cancel"),
        (
            "contract object outside new_contract",
            "contract: WG-1,",
            "contract: {id: X},",
        ),
        (
            "money as a list",
            "basic_monthly: \"20000\"",
            "basic_monthly: [20000]",
        ),
        (
            "listed contract without formed",
            "    formed: 2026-04-10\n",
            "",
        ),
        (
            "listed contract formed null",
            "formed: 2026-04-10",
            "formed: null",
        ),
    ] {
        assert!(base.contains(from), "{what}: no `{from}`");
        let text = base.replace(from, to);
        assert!(
            yakkan::expect::case_from_str(&rules, &text, None).is_err(),
            "{what}: the reader accepts it"
        );
        let document: Value = serde_yaml::from_str(&text).unwrap();
        assert!(!case.is_valid(&document), "{what}: the schema accepts it");
    }
    // A new contract is formed by its request: it has no `formed` yet.
    let new_contract = "as_of: 2026-05-01\nrequests:\n  - { type: new_contract, date: 2026-05-01, contract: { id: N, kind: web_gateway, accounts: 50, billing_start: 2026-05-01, formed: 2026-05-01 } }\n";
    assert!(yakkan::expect::case_from_str(&rules, new_contract, None).is_err());
    assert!(!case.is_valid(&serde_yaml::from_str(new_contract).unwrap()));
    let fine = new_contract.replace(", formed: 2026-05-01", "");
    yakkan::expect::case_from_str(&rules, &fine, None).unwrap();
    assert!(case.is_valid(&serde_yaml::from_str(&fine).unwrap()));
    let part = validator("rule-file.schema.json");
    let text =
        fs::read_to_string(project().join("rules/iij-secure-access/art-05-accounts.yaml")).unwrap();
    for (what, from, to) in [
        ("near-miss outcome", "outcome: reject", "outcome: rejected"),
        ("misspelt field", "applies_to:", "applys_to:"),
    ] {
        assert!(text.contains(from), "{what}: no `{from}`");
        let document: Value = serde_yaml::from_str(&text.replacen(from, to, 1)).unwrap();
        assert!(!part.is_valid(&document), "{what}: the schema accepts it");
    }
}
