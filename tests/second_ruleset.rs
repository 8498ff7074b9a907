//! A second service of another shape, encoded as data alone: the sample terms in
//! `rules/samples/managed-network/` (parent and child contracts, a one-year minimum
//! period, addresses and a data centre that change over time). Everything the bundled
//! set has, it has too: `check`, its own cases, coverage, snapshots, a JSON Schema of its
//! cases, a rulebook, and `yakkan serve --rules`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Server;
use serde_json::Value;
use yakkan::RuleSet;

fn sample() -> PathBuf {
    common::project().join("rules/samples/managed-network")
}

fn rules() -> RuleSet {
    RuleSet::load(&sample()).expect("the sample rule set loads")
}

fn cases() -> Vec<PathBuf> {
    yakkan::corpus::case_files(&[sample().join("cases")]).unwrap()
}

fn yakkan(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_yakkan"))
        .args(args)
        .current_dir(common::project())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn it_checks_and_passes_its_own_cases_with_every_rule_firing() {
    let dir = sample().display().to_string();
    let (code, out) = yakkan(&["check", "--rules", &dir]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("managed-network-sample:"), "{out}");
    let cases = sample().join("cases").display().to_string();
    let (code, out) = yakkan(&["test", "--coverage", "--rules", &dir, &cases]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("4 passed, 0 failed"), "{out}");
}

#[test]
fn its_rulings_are_snapshots() {
    let rules = rules();
    for file in cases() {
        let text = std::fs::read_to_string(&file).unwrap();
        let case = yakkan::expect::case_from_str(&rules, &text, Some(&file.display().to_string()))
            .unwrap();
        let ruling = yakkan::evaluate(&rules, &case).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_yaml_snapshot!(format!("sample-managed-network@{name}"), ruling, { ".ruleset.digest" => "[digest]" });
        });
    }
}

#[test]
fn a_case_of_one_set_is_refused_by_the_other_in_its_own_words() {
    let bundled = RuleSet::load(&common::project().join("rules")).unwrap();
    let text = std::fs::read_to_string(sample().join("cases/cancellation.yaml")).unwrap();
    let error =
        yakkan::expect::case_from_str(&bundled, &text, Some("cancellation.yaml")).unwrap_err();
    assert_eq!(error.path, "contracts[0].role", "{error}");
    assert!(error.message.contains("unknown field `role`"), "{error}");
    let other = r#"{"as_of": "2026-12-01", "requests": [{"type": "terminate", "contract": "P-1", "notice_arrived": "2026-11-01"}]}"#;
    let error = yakkan::expect::case_from_str(&rules(), other, None).unwrap_err();
    assert_eq!(error.path, "requests[0].type");
    assert!(error.message.contains("`cancel`"), "{error}");
}

#[test]
fn its_case_schema_is_committed_and_accepts_its_cases() {
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(
            common::project().join("schemas/managed-network-sample.case.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let rules = rules();
    let derived = yakkan::expect::case_schema(&rules).to_value();
    assert_eq!(
        committed, derived,
        "schemas/managed-network-sample.case.schema.json is out of date: run `cargo run -- schema --rules rules/samples/managed-network case > schemas/managed-network-sample.case.schema.json`"
    );
    let validator = jsonschema::validator_for(&committed).unwrap();
    for file in cases() {
        let document: Value =
            serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert!(validator.is_valid(&document), "{}", file.display());
    }
    let child = r#"{"as_of": "2026-12-01", "contracts": [{"id": "C", "role": "uncle", "formed": "2026-10-01", "billing_start": "2026-10-01"}]}"#;
    assert!(!validator.is_valid(&serde_json::from_str(child).unwrap()));
}

#[test]
fn its_rulebook_shows_its_articles_and_cases() {
    let rules = rules();
    let book = yakkan::book::Book::build(&rules, &cases(), None);
    let all: String = book.pages.iter().map(|(_, html)| html.as_str()).collect();
    for text in [
        "親たる契約",
        "art5-2-parent-with-children",
        "cancellation.yaml",
    ] {
        assert!(all.contains(text), "the rulebook does not show {text}");
    }
}

#[test]
fn it_is_served_by_yakkan_serve() {
    let server = Server::start(Path::new("rules/samples/managed-network"), &[]);
    let health = server.health();
    assert_eq!(health["ruleset"], "managed-network-sample");
    let case = std::fs::read_to_string(sample().join("cases/cancellation.yaml")).unwrap();
    let (status, body) = server.send("/v1/evaluate", Some("application/yaml"), case.as_bytes());
    assert_eq!(status, 200, "{body}");
    let ruling: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        ruling["requests"][1]["values"]["early_termination_fee"],
        "316000"
    );
    assert_eq!(ruling["requests"][0]["findings"][0]["ref"], "5.2");
    let openapi = server.json("/v1/openapi.json");
    let case_schema = openapi["components"]["schemas"]["Case"].to_string();
    assert!(case_schema.contains("move_data_centre"), "{case_schema}");
}

/// An effect may not wait on a value no rule computes on some day: `check` says so at the
/// effect, so a set that passes it never fails to apply an accepted request.
#[test]
fn check_refuses_an_effect_on_a_value_no_rule_computes() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(sample()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::create_dir(dir.path().join("cases")).unwrap();
    let rules = dir.path().display().to_string();
    let edit = |file: &str, from: &str, to: &str| {
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no `{from}`");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    };
    // Computed for contracts only, never for a cancel.
    edit(
        "model.yaml",
        "      - end: values.effective_date",
        "      - end: values.minimum_period_end",
    );
    let (code, out) = yakkan(&["check", "--rules", &rules]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("model.yaml:63:12: requests.cancel.effects[0]"),
        "{out}"
    );
    assert!(
        out.contains("`values.minimum_period_end` on 2026-10-01"),
        "{out}"
    );
    // Computed only under a `when`: not on every day a cancel may be made either.
    edit(
        "model.yaml",
        "      - end: values.minimum_period_end",
        "      - end: values.effective_date",
    );
    edit(
        "art-05-cancellation.yaml",
        "    applies_to: [cancel]\n    # The day of arrival",
        "    applies_to: [cancel]\n    when: contract.role == \"parent\"\n    # The day of arrival",
    );
    let (code, out) = yakkan(&["check", "--rules", &rules]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("requests.cancel.effects[0]"), "{out}");
}

/// `yakkan book` without case files shows the set's own cases (its `cases/`), not the
/// bundled set's folders.
#[test]
fn its_rulebook_uses_its_own_cases_by_default() {
    let out = tempfile::tempdir().unwrap();
    let (code, output) = yakkan(&[
        "book",
        "--rules",
        &sample().display().to_string(),
        "--out",
        &out.path().display().to_string(),
    ]);
    assert_eq!(code, 0, "{output}");
    let all: String = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .collect();
    for case in ["applications.yaml", "cancellation.yaml", "settling.yaml"] {
        assert!(all.contains(case), "the rulebook does not show {case}");
    }
    assert!(
        !all.contains("general-terms-28-waives-13-1-only"),
        "it shows the bundled set's cases"
    );
}
