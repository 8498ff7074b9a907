//! The tools around the evaluator: `check --format json` with hints for the legal team,
//! `eval` comparing a case's `expect:` block, `schema`, and the bundled rules found by a
//! binary copied away from the project.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(binary: &Path, dir: &Path, args: &[&str]) -> Output {
    // A freshly copied binary can be briefly "busy": a process another test forks at the
    // moment of the copy inherits its open write handle until it execs. Try again.
    let mut tries = 0;
    loop {
        match Command::new(binary).args(args).current_dir(dir).output() {
            Err(error) if error.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => return result.expect("the binary runs"),
        }
    }
}

fn yakkan(args: &[&str]) -> Output {
    run(Path::new(env!("CARGO_BIN_EXE_yakkan")), &project(), args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A copy of the bundled rule set with `from` replaced by `to` in `file`.
fn broken_rules(file: &str, from: &str, to: &str) -> tempfile::TempDir {
    let dir = common::rules_copy();
    let path = dir.path().join(file);
    let original = fs::read_to_string(&path).unwrap();
    assert!(original.contains(from), "{file} has no `{from}`");
    fs::write(&path, original.replacen(from, to, 1)).unwrap();
    dir
}

fn check_json(dir: &Path) -> (Option<i32>, Vec<serde_json::Value>) {
    let output = yakkan(&[
        "check",
        "--format",
        "json",
        "--rules",
        &dir.display().to_string(),
    ]);
    let list: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&output.stdout)));
    (output.status.code(), list)
}

#[test]
fn check_json_is_empty_for_good_rules() {
    let (code, list) = check_json(&project().join("rules"));
    assert_eq!(code, Some(0));
    assert!(list.is_empty());
}

#[test]
fn check_json_names_place_rule_field_and_hint() {
    let dir = broken_rules(
        "art-05-accounts.yaml",
        "outcome: reject",
        "outcome: rejected",
    );
    let (code, list) = check_json(dir.path());
    assert_eq!(code, Some(1));
    assert_eq!(list.len(), 1, "{list:?}");
    let d = &list[0];
    assert!(
        d["file"]
            .as_str()
            .unwrap()
            .ends_with("art-05-accounts.yaml")
    );
    assert_eq!(d["line"], 13);
    assert_eq!(d["column"], 14);
    assert_eq!(d["rule"], "art5-accounts");
    assert_eq!(d["field"], "rules[0].outcome");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("unknown variant `rejected`")
    );
    assert_eq!(
        d["hint"],
        "did you mean `reject`? (write it exactly as shown)"
    );

    // A colon in the English prose: the parser's words, and the hint to quote the text.
    let dir = broken_rules(
        "art-05-accounts.yaml",
        "en: The number",
        "en: Note: the number",
    );
    let (code, list) = check_json(dir.path());
    assert_eq!(code, Some(1));
    let d = &list[0];
    assert_eq!(d["line"], 16);
    assert!(
        d["hint"].as_str().unwrap().contains("quote the text"),
        "{d}"
    );
}

#[test]
fn check_text_shows_the_hint_under_the_diagnostic() {
    let dir = broken_rules("art-05-accounts.yaml", "applies_to:", "applys_to:");
    let output = yakkan(&["check", "--rules", &dir.path().display().to_string()]);
    assert_eq!(output.status.code(), Some(1));
    let message = text(&output.stderr);
    assert!(message.contains("art-05-accounts.yaml:9:"), "{message}");
    assert!(
        message.contains("\n    hint: did you mean `applies_to`?"),
        "{message}"
    );
}

#[test]
fn eval_says_whether_the_ruling_matches_the_expect_block() {
    let output = yakkan(&[
        "eval",
        "--format",
        "text",
        "examples/02-early-termination-fee.yaml",
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        text(&output.stdout).ends_with("expect: the ruling matches the case's expect: block\n"),
        "{}",
        text(&output.stdout)
    );

    let dir = tempfile::tempdir().unwrap();
    let case = fs::read_to_string(project().join("examples/02-early-termination-fee.yaml"))
        .unwrap()
        .replace(
            "early_termination_fee: \"3999\"",
            "early_termination_fee: \"4000\"",
        );
    let path = dir.path().join("wrong.yaml");
    fs::write(&path, case).unwrap();
    let path = path.display().to_string();

    let output = yakkan(&["eval", "--format", "text", &path]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a mismatch fails like `test`"
    );
    let out = text(&output.stdout);
    assert!(out.contains("does NOT match"), "{out}");
    assert!(
        out.contains("requests[0] values.early_termination_fee: expected 4000, got 3999"),
        "{out}"
    );

    // JSON stays one document on stdout; the verdict goes to stderr.
    let output = yakkan(&["eval", &path]);
    assert_eq!(output.status.code(), Some(1));
    serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap();
    assert!(text(&output.stderr).contains("expected 4000, got 3999"));

    // Another date than the one the expectations were written for: not compared.
    let output = yakkan(&["eval", "--format", "text", "--as-of", "2026-06-01", &path]);
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).contains("expect: not compared"));
}

#[test]
fn schema_prints_one_schema_by_name() {
    let output = yakkan(&["schema", "case"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        text(&output.stdout),
        fs::read_to_string(project().join("schemas/case.schema.json")).unwrap()
    );
    let output = yakkan(&["schema", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("case, ruling, ruleset, rule-file"));
}

/// A binary copied away from the project, run where there is no `rules/`, still judges
/// with the bundled rules: they are embedded, not looked up where it was built.
#[test]
fn a_copied_binary_carries_the_bundled_rules() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("yakkan");
    fs::copy(env!("CARGO_BIN_EXE_yakkan"), &binary).unwrap();
    fs::copy(
        project().join("examples/02-early-termination-fee.yaml"),
        dir.path().join("case.yaml"),
    )
    .unwrap();
    let output = run(&binary, dir.path(), &["eval", "case.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let ruling: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        ruling["requests"][0]["values"]["early_termination_fee"],
        "3999"
    );
    let project_digest = yakkan::RuleSet::load(&project().join("rules"))
        .unwrap()
        .digest;
    assert_eq!(ruling["ruleset"]["digest"], project_digest.as_str());
    // The set the build compiled rules, explanations and the files they name included,
    // byte for byte as the project's folder does.
    let explained = ["eval", "case.yaml", "--explain=all"];
    let copied = run(&binary, dir.path(), &explained);
    assert_eq!(copied.status.code(), Some(0), "{}", text(&copied.stderr));
    let case = project().join("examples/02-early-termination-fee.yaml");
    let in_project = run(
        Path::new(env!("CARGO_BIN_EXE_yakkan")),
        &project(),
        &["eval", case.to_str().unwrap(), "--explain=all"],
    );
    assert_eq!(text(&copied.stdout), text(&in_project.stdout));
    assert!(text(&copied.stdout).contains("rules/iij-secure-access/"));

    // An installed layout: rules in ../share/yakkan/rules beside the binary win.
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("bin")).unwrap();
    let installed = root.path().join("bin/yakkan");
    fs::copy(env!("CARGO_BIN_EXE_yakkan"), &installed).unwrap();
    let share = root.path().join("share/yakkan/rules");
    fs::create_dir_all(&share).unwrap();
    fs::write(share.join("ruleset.yaml"), "name: [broken\n").unwrap();
    let output = run(&installed, dir.path(), &["check"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the installed rules are the ones checked"
    );
    assert!(
        text(&output.stderr).contains("share/yakkan/rules"),
        "{}",
        text(&output.stderr)
    );
}
