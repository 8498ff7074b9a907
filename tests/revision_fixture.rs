//! A revision of the bundled terms that ships as data alone: `tests/fixtures/
//! revision-2027-04-01/` holds only the files it changes or adds (a made-up 令和9年
//! revision, not the provider's). Laid over a copy of `rules/iij-secure-access/`, it adds
//! a request type (`suspend`, 第17条, known from its revision day), a declaration with a
//! 附則 transition (`log_retention_declared`), an option kind with its own minimum period
//! (`log_archive`, 3 months) and per-contract values (`suspended`, `log_retention_days`).
//! No Rust changes: the same binary checks it, judges its cases and reports its impact.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn copy_into(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            fs::create_dir_all(&target).unwrap();
            copy_into(&path, &target);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}

/// The bundled set with the fixture's files laid over it.
fn revised() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let project = common::project();
    copy_into(&project.join("rules/iij-secure-access"), dir.path());
    copy_into(
        &project.join("tests/fixtures/revision-2027-04-01"),
        dir.path(),
    );
    dir
}

fn yakkan(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_yakkan"))
        .args(args)
        .current_dir(common::project())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_fixture_is_data_only() {
    let dir = common::project().join("tests/fixtures/revision-2027-04-01");
    let mut names = Vec::new();
    for entry in fs::read_dir(&dir).unwrap() {
        names.push(entry.unwrap().file_name().to_string_lossy().into_owned());
    }
    assert!(
        names
            .iter()
            .all(|n| n.ends_with(".yaml") || n == "cases" || n == "README.md"),
        "{names:?}"
    );
}

#[test]
fn the_revised_set_checks_and_judges_its_cases() {
    let dir = revised();
    let rules = dir.path().display().to_string();
    let (code, out, err) = yakkan(&["check", "--rules", &rules]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2027-04-01"), "{out}");
    let cases = dir.path().join("cases").display().to_string();
    let (code, out, err) = yakkan(&["test", "--rules", &rules, &cases]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");
}

#[test]
fn the_new_request_type_is_known_from_its_revision_day_only() {
    let dir = revised();
    let scratch = tempfile::tempdir().unwrap();
    let case = scratch.path().join("early.yaml");
    fs::write(
        &case,
        "as_of: 2027-03-31\ncontracts:\n  - { id: WG-1, kind: web_gateway, accounts: 60, formed: 2026-06-01, billing_start: 2026-06-01 }\nrequests:\n  - { type: suspend, date: 2027-03-20, contract: WG-1 }\n",
    )
    .unwrap();
    let rules = dir.path().display().to_string();
    let (code, _, err) = yakkan(&["eval", "--rules", &rules, &case.display().to_string()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("requests[0].type"), "{err}");
    assert!(err.contains("from 2027-04-01"), "{err}");
    // The bundled set does not know it at all.
    let (code, _, err) = yakkan(&["eval", &case.display().to_string()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown variant `suspend`"), "{err}");
}

#[test]
fn diff_reports_the_revisions_impact_on_the_corpus() {
    let dir = revised();
    let new = dir.path().display().to_string();
    let cases = dir.path().join("cases").display().to_string();
    let (code, out, err) = yakkan(&[
        "diff",
        "--old",
        "rules",
        "--new",
        &new,
        "--format",
        "json",
        "tests/cases",
        "examples",
        &cases,
    ]);
    // Rulings change: diff says so by its exit code.
    assert_eq!(code, 1, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let by_rule = report["by_rule"].as_object().unwrap();
    // The fixture's own case speaks words the bundled model does not have.
    let new_only = by_rule["(evaluable under the new rules only)"]
        .as_array()
        .unwrap();
    assert!(
        new_only
            .iter()
            .any(|c| c["case"].as_str().unwrap().ends_with("revision.yaml")),
        "{new_only:?}"
    );
    // Corpus contracts judged on or after the revision day gain the new values.
    let retention = by_rule["values.log_retention_days"].as_array().unwrap();
    assert!(
        retention
            .iter()
            .any(|c| c["case"].as_str().unwrap().starts_with("tests/cases/")),
        "{retention:?}"
    );
    // Nothing judged before it changes.
    assert!(report["summary"]["cases_changed"].as_u64().unwrap() < 20);
}
