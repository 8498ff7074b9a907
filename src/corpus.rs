//! Example cases with expected results: finding them, and running one against its
//! `expect:` block. Shared by `yakkan test` and the integration tests.

use std::fs;
use std::path::{Path, PathBuf};

use std::fmt::Write;

use crate::eval::{Settings, Trace, evaluate_with};
use crate::ruleset::RuleSet;
use crate::ruling::Ruling;

/// What running one case gave.
#[derive(Debug)]
pub struct CaseRun {
    /// The ruling, when the case could be evaluated.
    pub ruling: Option<Ruling>,
    /// Which rules were considered and fired.
    pub trace: Trace,
    /// Every way the ruling differs from what the case expects, or why it could not run.
    pub problems: Vec<String>,
}

/// For each rule version, in how many cases it fired and in how many it was considered
/// but did not fire.
#[derive(Debug, Clone)]
pub struct Coverage {
    counts: Vec<(usize, usize)>,
    /// Per rule version, the names of the cases in which it fired, as counted by
    /// [`Coverage::add_case`].
    firing: Vec<Vec<String>>,
}

impl Coverage {
    /// No cases yet, for the rules of `rules`.
    pub fn new(rules: &RuleSet) -> Self {
        Coverage {
            counts: vec![(0, 0); rules.rules.len()],
            firing: vec![Vec::new(); rules.rules.len()],
        }
    }

    /// Counts one case, and remembers its name for each rule that fired in it.
    pub fn add_case(&mut self, name: &str, trace: &Trace) {
        self.add(trace);
        let mut fired = vec![false; self.counts.len()];
        for evaluation in trace.evaluations.iter().filter(|e| e.fired) {
            fired[evaluation.rule] = true;
        }
        for (i, names) in self.firing.iter_mut().enumerate() {
            if fired[i] {
                names.push(name.to_owned());
            }
        }
    }

    /// The names of the cases in which rule version `index` fired.
    pub fn cases_firing(&self, index: usize) -> &[String] {
        &self.firing[index]
    }

    /// Counts one case.
    pub fn add(&mut self, trace: &Trace) {
        let mut fired = vec![false; self.counts.len()];
        let mut considered = vec![false; self.counts.len()];
        for evaluation in &trace.evaluations {
            considered[evaluation.rule] = true;
            fired[evaluation.rule] |= evaluation.fired;
        }
        for (i, count) in self.counts.iter_mut().enumerate() {
            if fired[i] {
                count.0 += 1;
            } else if considered[i] {
                count.1 += 1;
            }
        }
    }

    /// The cases in which rule `index` fired, and those in which it did not.
    pub fn of(&self, index: usize) -> (usize, usize) {
        self.counts[index]
    }

    /// The rule versions no case makes fire.
    pub fn never_fired(&self) -> Vec<usize> {
        (0..self.counts.len())
            .filter(|&i| self.counts[i].0 == 0)
            .collect()
    }

    /// A table: rule, citation, first day in force, cases fired, cases not fired.
    pub fn report(&self, rules: &RuleSet) -> String {
        let width = rules.rules.iter().map(|r| r.id.len()).max().unwrap_or(4);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:width$}  {:<20} {:<10}  fired  not fired",
            "rule", "ref", "from"
        );
        for (i, rule) in rules.rules.iter().enumerate() {
            let (fired, quiet) = self.counts[i];
            let mark = if fired == 0 { "  <- never fires" } else { "" };
            let _ = writeln!(
                out,
                "{:width$}  {:<20} {:<10}  {fired:>5}  {quiet:>9}{mark}",
                rule.id,
                rule.reference,
                rule.from.to_string()
            );
        }
        if self.firing.iter().any(|names| !names.is_empty()) {
            out.push_str("\nThe cases in which each rule fires:\n");
            for (i, rule) in rules.rules.iter().enumerate() {
                let _ = writeln!(out, "{} ({}, from {})", rule.id, rule.reference, rule.from);
                for name in &self.firing[i] {
                    let _ = writeln!(out, "    {name}");
                }
                if self.firing[i].is_empty() {
                    out.push_str("    (none)\n");
                }
            }
        }
        out
    }
}

/// The case files (`.yaml`, `.yml`, `.json`) under the given files and folders, sorted.
pub fn case_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files, 0)?;
    }
    files.sort();
    Ok(files)
}

/// How deep case folders may nest: a link back up a folder would otherwise be followed
/// without end.
const MAX_FOLDER_DEPTH: usize = 16;

fn collect(path: &Path, files: &mut Vec<PathBuf>, depth: usize) -> Result<(), String> {
    if path.is_dir() {
        if depth >= MAX_FOLDER_DEPTH {
            return Err(format!(
                "{}: case folders nest more than {MAX_FOLDER_DEPTH} deep (a link back up?)",
                path.display()
            ));
        }
        let entries = fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
            collect(&entry.path(), files, depth + 1)?;
        }
    } else if path.exists() && !path.is_file() {
        return Err(format!(
            "{}: not a regular file (a FIFO, socket or device)",
            path.display()
        ));
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

/// The example cases a rule set ships, by which `serve` proves a new set before swapping
/// it in: the folders listed under `cases:` in its `ruleset.yaml`, relative to the rule
/// set's folder (`[../../tests/cases, ../../examples]` for the bundled set), else its
/// `cases/` subfolder if there is one, else none. A listed folder that is missing is an
/// error: the set promised cases it does not have.
pub fn shipped_cases(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let declared = declared_case_folders(dir)?;
    if let Some(missing) = declared.missing.first() {
        return Err(missing.to_string());
    }
    case_files(&declared.folders)
}

/// The case folders a rule set declares, and a diagnostic at its place in `ruleset.yaml`
/// for each listed folder that does not exist.
pub struct CaseFolders {
    /// The folders, resolved against the rule set's folder.
    pub folders: Vec<PathBuf>,
    /// Whether `ruleset.yaml` lists them (`cases:`), rather than a `cases/` subfolder
    /// being found or none.
    pub listed: bool,
    /// One per listed folder that does not exist.
    pub missing: Vec<crate::error::Diagnostic>,
}

/// Reads the `cases:` of the rule set in `dir` (see [`shipped_cases`]).
pub fn declared_case_folders(dir: &Path) -> Result<CaseFolders, String> {
    #[derive(serde::Deserialize)]
    struct Declared {
        #[serde(default)]
        cases: Option<Vec<String>>,
    }
    let dir = crate::ruleset::resolve_dir(dir).map_err(|e| e.to_string())?;
    let head = dir.join("ruleset.yaml");
    let text = fs::read_to_string(&head).map_err(|e| format!("{}: {e}", head.display()))?;
    let name = head.display().to_string();
    let declared: Declared = crate::yaml::from_str(&text, crate::yaml::Syntax::Yaml, Some(&name))
        .map_err(|e| e.to_string())?;
    let locator = crate::yaml::Locator::new(&text);
    let Some(listed) = declared.cases else {
        let folders = if dir.join("cases").is_dir() {
            vec![dir.join("cases")]
        } else {
            Vec::new()
        };
        return Ok(CaseFolders {
            folders,
            listed: false,
            missing: Vec::new(),
        });
    };
    let folders: Vec<PathBuf> = listed.iter().map(|folder| dir.join(folder)).collect();
    let missing = folders
        .iter()
        .enumerate()
        .filter(|(_, folder)| !folder.exists())
        .map(|(i, folder)| {
            let path = format!("cases[{i}]");
            crate::error::Diagnostic::new(
                Some(&name),
                &path,
                format!(
                    "the case folder {} does not exist (a folder is relative to the rule set's)",
                    folder.display()
                ),
            )
            .at(locator.find(&path))
        })
        .collect();
    Ok(CaseFolders {
        folders,
        listed: true,
        missing,
    })
}

/// Reads, evaluates and checks one case file.
pub fn run_case(rules: &RuleSet, file: &Path) -> CaseRun {
    let name = file.display().to_string();
    let failed = |problem: String| CaseRun {
        ruling: None,
        trace: Trace::default(),
        problems: vec![problem],
    };
    // A case file is bounded as a case is (`CaseLimits::max_bytes`); only a regular file
    // is read, so a FIFO among the shipped cases cannot stall a reload's proof.
    let max = crate::case::CaseLimits::default().max_bytes as u64;
    let text = match crate::file::read_text(file, max) {
        Ok(text) => text,
        Err(problem) => return failed(problem),
    };
    let case = match crate::expect::case_from_str(rules, &text, Some(&name)) {
        Ok(case) => case,
        Err(diagnostic) => return failed(diagnostic.to_string()),
    };
    let (ruling, trace) = match evaluate_with(rules, &case, Settings::default()) {
        Ok(done) => done,
        Err(error) => return failed(error.to_string()),
    };
    let expect = match crate::expect::of(&case, rules) {
        Ok(expect) => expect,
        Err(diagnostic) => return failed(diagnostic.to_string()),
    };
    let problems = match &expect {
        Some(expect) => crate::expect::compare_in(expect, &ruling, rules, &case)
            .iter()
            .map(ToString::to_string)
            .collect(),
        None => vec!["the case has no `expect:` block".to_owned()],
    };
    CaseRun {
        ruling: Some(ruling),
        trace,
        problems,
    }
}
