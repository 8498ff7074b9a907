//! The tools a rule author reaches for (issue 17): a rule set that is consistent with the
//! cases it names, `yakkan fmt`, `yakkan test` with a filter, coverage per case, accepting
//! a changed ruling, watching, and `yakkan diff` for CI.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use common::{place, project};

fn yakkan_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yakkan"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn yakkan(args: &[&str]) -> Output {
    yakkan_in(&project(), args)
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
        + String::from_utf8_lossy(&output.stderr).as_ref()
}

/// A copy of the bundled rule set with `cases:` replaced by `cases` (None: left out).
/// A copy without case folders whose 第11条 notice period is a day longer: a rule change
/// that changes the examples' rulings.
fn rules_with_longer_notice() -> tempfile::TempDir {
    let dir = rules_with_cases(None);
    let notice = ("params.notice_days", "(params.notice_days + 1)");
    common::edit(dir.path(), "art-11-termination.yaml", notice.0, notice.1);
    dir
}

fn rules_with_cases(cases: Option<&str>) -> tempfile::TempDir {
    let dir = common::bare_rules_copy();
    let head = dir.path().join("ruleset.yaml");
    let old = fs::read_to_string(&head).unwrap();
    let line = "cases: [../../tests/cases, ../../examples]";
    assert!(old.contains(line));
    let new = match cases {
        Some(cases) => old.replace(line, &format!("cases: {cases}")),
        None => old.replace(line, ""),
    };
    fs::write(&head, new).unwrap();
    dir
}

#[test]
fn check_refuses_a_cases_folder_that_does_not_exist() {
    let examples = project().join("examples");
    let dir = rules_with_cases(Some(&format!("[{}, no-such-cases]", examples.display())));
    let output = yakkan(&["check", "--rules", &dir.path().display().to_string()]);
    let (line, column) = place(&dir.path().join("ruleset.yaml"), "no-such-cases");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains(&format!("ruleset.yaml:{line}:{column}: cases[1]"))
            && text(&output).contains("does not exist"),
        "{}",
        text(&output)
    );
    // The bundled set, checked in the project, has its folders.
    assert_eq!(yakkan(&["check"]).status.code(), Some(0));
}

#[test]
fn test_with_rules_and_no_paths_runs_the_sets_own_cases() {
    let examples = project().join("examples");
    let dir = rules_with_cases(Some(&format!("[{}]", examples.display())));
    let output = yakkan(&["test", "--rules", &dir.path().display().to_string()]);
    let count = yakkan::corpus::case_files(&[examples]).unwrap().len();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        text(&output).contains(&format!("{count} passed, 0 failed")),
        "{}",
        text(&output)
    );
}

/// `yakkan test --accept` writes what `tests/snapshots.rs` writes: for every case of the
/// corpus, the snapshot text is the committed file, byte for byte.
#[test]
fn snapshot_text_is_what_the_snapshot_test_writes() {
    let rules = yakkan::RuleSet::load(&project().join("rules")).unwrap();
    let files =
        yakkan::corpus::case_files(&[project().join("tests/cases"), project().join("examples")])
            .unwrap();
    let mut checked = 0;
    for file in files {
        let relative = file.strip_prefix(project()).unwrap().display().to_string();
        let Some(name) = yakkan::snapshot::file_name(&relative) else {
            continue;
        };
        let run = yakkan::corpus::run_case(&rules, &file);
        let ruling = run.ruling.expect("the case evaluates");
        let committed = fs::read_to_string(project().join("snapshots").join(&name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // The header's metadata may differ (older files carry `assertion_line:`); insta
        // compares what follows it.
        assert_eq!(
            yakkan::snapshot::body(&yakkan::snapshot::text(&ruling, &relative)),
            yakkan::snapshot::body(&committed),
            "{name}"
        );
        checked += 1;
    }
    assert!(checked > 100, "{checked}");
}

/// `yakkan diff` gates CI: exit 0 when no ruling changed, 1 when one did; its JSON lists
/// each difference with its case, request, rule, and what it was before and after.
#[test]
fn diff_exits_1_on_a_changed_ruling_and_its_json_is_structured() {
    let same = yakkan(&["diff", "--old", "rules", "--new", "rules", "examples"]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));

    let dir = rules_with_longer_notice();
    let changed = yakkan(&[
        "diff",
        "--old",
        "rules",
        "--new",
        &dir.path().display().to_string(),
        "--format",
        "json",
        "examples/02-early-termination-fee.yaml",
    ]);
    assert_eq!(changed.status.code(), Some(1), "{}", text(&changed));
    let report: serde_json::Value = serde_json::from_slice(&changed.stdout).unwrap();
    let rows = report["rulings"].as_array().unwrap();
    let effective = rows
        .iter()
        .find(|r| r["field"] == "values.effective_date")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(effective["case"], "examples/02-early-termination-fee.yaml");
    assert_eq!(effective["request"], 0);
    assert!(effective["contract"].is_null());
    assert_ne!(effective["before"], effective["after"]);
    assert!(
        effective["before"].as_str().unwrap().starts_with("20"),
        "a plain date: {effective}"
    );
    // The fee follows the later effective date.
    assert!(
        rows.iter()
            .any(|r| r["field"] == "values.early_termination_fee")
    );
}

#[test]
fn test_filters_cases_by_name_and_coverage_names_the_cases_firing_each_rule() {
    let output = yakkan(&["test", "--filter", "art01/", "tests/cases"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let art01 = yakkan::corpus::case_files(&[project().join("tests/cases/art01")])
        .unwrap()
        .len();
    assert!(
        text(&output).ends_with(&format!("{art01} passed, 0 failed\n")),
        "{}",
        text(&output)
    );

    let output = yakkan(&["test", "--coverage", "tests/cases", "examples"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report = text(&output);
    let (_, listing) = report
        .split_once("The cases in which each rule fires:")
        .expect("a listing of cases per rule");
    let (_, art1) = listing
        .split_once("art1-known-kind (1, from 2022-09-01)\n")
        .unwrap();
    assert!(
        art1.lines()
            .next()
            .unwrap()
            .starts_with("    tests/cases/art01/unknown-kind-rejected.yaml"),
        "{art1}"
    );
}

#[test]
fn test_accept_writes_the_snapshots_the_snapshot_test_reads() {
    let snapshots = tempfile::tempdir().unwrap();
    let folder = snapshots.path().display().to_string();
    // Into an empty folder: every example's snapshot, as committed.
    let output = yakkan(&["test", "--accept", "--snapshots", &folder, "examples"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        text(&output).contains("5 snapshots written, 0 unchanged"),
        "{}",
        text(&output)
    );
    for entry in fs::read_dir(snapshots.path()).unwrap() {
        let entry = entry.unwrap();
        let written = fs::read_to_string(entry.path()).unwrap();
        let committed =
            fs::read_to_string(project().join("snapshots").join(entry.file_name())).unwrap();
        assert_eq!(
            yakkan::snapshot::body(&written),
            yakkan::snapshot::body(&committed)
        );
    }
    // A changed rule: the run reports the changed ruling; --accept writes it.
    let dir = rules_with_longer_notice();
    let rules = dir.path().display().to_string();
    let case = "examples/02-early-termination-fee.yaml";
    let output = yakkan(&["test", "--rules", &rules, "--snapshots", &folder, case]);
    assert!(
        text(&output).contains("changed ruling examples/02-early-termination-fee.yaml"),
        "{}",
        text(&output)
    );
    let output = yakkan(&[
        "test",
        "--rules",
        &rules,
        "--accept",
        "--snapshots",
        &folder,
        case,
    ]);
    assert!(
        text(&output).contains("1 snapshots written, 0 unchanged"),
        "{}",
        text(&output)
    );
    let written = fs::read_to_string(
        snapshots
            .path()
            .join("example@02-early-termination-fee.yaml.snap"),
    )
    .unwrap();
    assert!(written.starts_with(
        "---\nsource: tests/snapshots.rs\ninput_file: examples/02-early-termination-fee.yaml\n---\n"
    ));
    assert!(written.contains("effective_date: 2026-05-13"), "{written}");
    let output = yakkan(&["test", "--rules", &rules, "--snapshots", &folder, case]);
    assert!(
        !text(&output).contains("changed ruling"),
        "{}",
        text(&output)
    );
}

#[test]
fn test_watch_runs_again_when_a_case_changes() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let scratch = tempfile::tempdir().unwrap();
    let case = scratch.path().join("case.yaml");
    fs::copy(
        project().join("examples/02-early-termination-fee.yaml"),
        &case,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_yakkan"))
        .args(["test", "--watch", "--watch-ms", "20", "--watch-runs", "2"])
        .arg(&case)
        .current_dir(project())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut first = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let watching = line.starts_with("watching ");
        first.push(line);
        if watching {
            break;
        }
    }
    assert!(first.iter().any(|l| l == "1 passed, 0 failed"), "{first:?}");
    // Step 2: break the case's expectation; the watcher runs again and ends.
    let written = fs::read_to_string(&case).unwrap();
    fs::write(
        &case,
        written.replace(
            "early_termination_fee: \"3999\"",
            "early_termination_fee: \"4000\"",
        ),
    )
    .unwrap();
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert!(rest.iter().any(|l| l == "0 passed, 1 failed"), "{rest:?}");
    assert_eq!(status.code(), Some(1));
}

/// Copies every file under `from` into `to`, keeping the tree.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `yakkan fmt` on the whole corpus, roughened first (CRLF line ends, trailing spaces,
/// runs of blank lines, a sequence not indented under its key): afterwards `fmt --check`
/// passes, a second `fmt` changes nothing, every comment is kept, and the formatted rule
/// set gives every case the same ruling as the original (digest aside).
#[test]
fn fmt_is_canonical_idempotent_and_keeps_meaning() {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&project().join("rules"), &root.path().join("rules"));
    copy_tree(
        &project().join("tests/cases"),
        &root.path().join("tests/cases"),
    );
    let ruleset = root.path().join("rules/iij-secure-access/ruleset.yaml");
    let written = fs::read_to_string(&ruleset).unwrap();
    let rough = written
        .replace("contract_kinds: [web_gateway, firewall_type1, firewall_type2, private_connect, remote_connect]",
                 "contract_kinds:\n  - web_gateway\n  - firewall_type1\n  - firewall_type2\n  - private_connect\n  - remote_connect")
        .replace("params:\n", "params:   \n\n\n")
        .replace("min_accounts: 50", "min_accounts:    50   ")
        .replace('\n', "\r\n");
    fs::write(&ruleset, &rough).unwrap();
    let case = root
        .path()
        .join("tests/cases/art01/unknown-kind-rejected.yaml");
    let written = fs::read_to_string(&case).unwrap();
    fs::write(
        &case,
        written
            .replace("requests:\n", "requests:\n\n\n\n")
            .replace("# 第1条", "#第1条"),
    )
    .unwrap();

    let files =
        yakkan::corpus::case_files(&[root.path().join("rules"), root.path().join("tests/cases")])
            .unwrap();
    let comments = || -> Vec<usize> {
        files
            .iter()
            .map(|f| {
                fs::read_to_string(f)
                    .unwrap()
                    .lines()
                    .filter(|l| l.trim_start().starts_with('#'))
                    .count()
            })
            .collect()
    };
    let comments_before = comments();

    let check = yakkan_in(root.path(), &["fmt", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(
        text(&check).contains("would reformat rules/iij-secure-access/ruleset.yaml"),
        "{}",
        text(&check)
    );
    let first = yakkan_in(root.path(), &["fmt"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let check = yakkan_in(root.path(), &["fmt", "--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    let again = yakkan_in(root.path(), &["fmt"]);
    assert!(
        text(&again).starts_with(&format!("0 of {} files reformatted", files.len())),
        "{}",
        text(&again)
    );

    let formatted = fs::read_to_string(&ruleset).unwrap();
    assert!(!formatted.contains('\r'));
    assert!(
        formatted.contains("contract_kinds:\n    - web_gateway\n"),
        "{formatted}"
    );
    assert!(formatted.contains("min_accounts: 50\n"));
    assert!(fs::read_to_string(&case).unwrap().contains("# 第1条"));
    let comments_after = comments();
    assert_eq!(comments_before, comments_after, "every comment kept");

    // The same rulings, case by case.
    let original = yakkan::RuleSet::load(&project().join("rules")).unwrap();
    let tidied = yakkan::RuleSet::load(&root.path().join("rules")).unwrap();
    let originals = yakkan::corpus::case_files(&[project().join("tests/cases")]).unwrap();
    for file in &originals {
        let relative = file.strip_prefix(project()).unwrap();
        let before = yakkan::corpus::run_case(&original, file).ruling.unwrap();
        let after = yakkan::corpus::run_case(&tidied, &root.path().join(relative))
            .ruling
            .unwrap();
        let strip = |r: &yakkan::Ruling| {
            let mut json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
            json["ruleset"]["digest"] = serde_json::Value::Null;
            json
        };
        assert_eq!(strip(&before), strip(&after), "{}", relative.display());
    }
}

/// The project's own rule and case files are in the canonical layout (`yakkan fmt --check`
/// is what CI runs).
#[test]
fn the_project_files_are_formatted() {
    let output = yakkan(&["fmt", "--check"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}
