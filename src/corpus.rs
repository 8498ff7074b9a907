//! Example cases with expected results: finding them, and running one against its
//! `expect:` block. Shared by `yakkan test` and the integration tests.

use std::fs;
use std::path::{Path, PathBuf};

use crate::case::Case;
use crate::eval::evaluate;
use crate::expect::compare;
use crate::ruleset::RuleSet;
use crate::ruling::Ruling;

/// What running one case gave.
#[derive(Debug)]
pub struct CaseRun {
    /// The ruling, when the case could be evaluated.
    pub ruling: Option<Ruling>,
    /// Every way the ruling differs from what the case expects, or why it could not run.
    pub problems: Vec<String>,
}

/// The case files (`.yaml`, `.yml`, `.json`) under the given files and folders, sorted.
pub fn case_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files)?;
    }
    files.sort();
    Ok(files)
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    if path.is_dir() {
        let entries = fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
            collect(&entry.path(), files)?;
        }
    } else if path.is_file() {
        let is_case = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
        if is_case {
            files.push(path.to_path_buf());
        }
    } else {
        return Err(format!("{}: no such file or folder", path.display()));
    }
    Ok(())
}

/// Reads, evaluates and checks one case file.
pub fn run_case(rules: &RuleSet, file: &Path) -> CaseRun {
    let name = file.display().to_string();
    let failed = |problem: String| CaseRun {
        ruling: None,
        problems: vec![problem],
    };
    let text = match fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) => return failed(format!("{name}: {error}")),
    };
    let case = match Case::from_str(&text, Some(&name)) {
        Ok(case) => case,
        Err(diagnostic) => return failed(diagnostic.to_string()),
    };
    let ruling = match evaluate(rules, &case) {
        Ok(ruling) => ruling,
        Err(error) => return failed(error.to_string()),
    };
    let problems = match &case.expect {
        Some(expect) => compare(expect, &ruling)
            .iter()
            .map(ToString::to_string)
            .collect(),
        None => vec!["the case has no `expect:` block".to_owned()],
    };
    CaseRun {
        ruling: Some(ruling),
        problems,
    }
}
