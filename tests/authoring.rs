//! The tools a rule author reaches for (issue 17): a rule set that is consistent with the
//! cases it names, `yakkan fmt`, `yakkan test` with a filter, coverage per case, accepting
//! a changed ruling, watching, and `yakkan diff` for CI.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

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
fn rules_with_cases(cases: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(project().join("rules/iij-secure-access")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
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

fn place(file: &Path, marker: &str) -> (usize, usize) {
    let text = fs::read_to_string(file).unwrap();
    let offset = text.find(marker).unwrap();
    let line = text[..offset].matches('\n').count() + 1;
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..offset].chars().count() + 1)
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
