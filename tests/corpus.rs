//! Every case the legal team wrote (`tests/cases/`) and every example (`examples/`) is
//! evaluated against the bundled rules and must give what its `expect:` block says; every
//! rule must matter to some case.

use std::path::{Path, PathBuf};

use yakkan::corpus::{Coverage, case_files, run_case};
use yakkan::{Case, RuleSet};

fn bundled() -> RuleSet {
    RuleSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"))
        .expect("the bundled rules load")
}

fn files(folders: &[&str]) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    case_files(&folders.iter().map(|f| root.join(f)).collect::<Vec<_>>()).unwrap()
}

fn run_all(folder: &str, at_least: usize) {
    let rules = bundled();
    let files = files(&[folder]);
    assert!(
        files.len() >= at_least,
        "{folder} holds {} cases, expected at least {at_least}",
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        for problem in run_case(&rules, file).problems {
            failures.push(format!("{}: {problem}", file.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn examples_give_their_expected_rulings() {
    run_all("examples", 5);
}

#[test]
fn the_case_corpus_gives_its_expected_rulings() {
    run_all("tests/cases", 60);
}

#[test]
fn every_rule_fires_in_some_case() {
    let rules = bundled();
    let mut coverage = Coverage::new(&rules);
    for file in files(&["tests/cases", "examples"]) {
        coverage.add(&run_case(&rules, &file).trace);
    }
    let silent: Vec<String> = coverage
        .never_fired()
        .iter()
        .map(|&i| {
            format!(
                "{} ({}, from {})",
                rules.rules[i].id, rules.rules[i].reference, rules.rules[i].from
            )
        })
        .collect();
    assert!(
        silent.is_empty(),
        "rules no case makes fire:\n{}",
        silent.join("\n")
    );
}

/// Mutation check: taking any one rule version out of the set changes some ruling of the
/// corpus, so no rule is dead weight and no rule goes untested.
#[test]
fn removing_any_rule_changes_some_ruling() {
    let full = bundled();
    let cases: Vec<(PathBuf, Case)> = files(&["tests/cases", "examples"])
        .into_iter()
        .map(|file| {
            let case = yakkan::expect::case_from_str(
                &full,
                &std::fs::read_to_string(&file).unwrap(),
                None,
            )
            .unwrap();
            (file, case)
        })
        .collect();
    let rulings: Vec<_> = cases
        .iter()
        .map(|(_, case)| yakkan::evaluate(&full, case).ok())
        .collect();
    let mut unnoticed = Vec::new();
    for rule in &full.rules {
        // A version is its id and first day: versions of one id never overlap.
        let mut without = bundled();
        without.retain_rules(|r| !(r.id == rule.id && r.from == rule.from));
        assert_eq!(without.rules.len(), full.rules.len() - 1);
        let noticed = cases
            .iter()
            .zip(&rulings)
            .any(|((_, case), before)| yakkan::evaluate(&without, case).ok() != *before);
        if !noticed {
            unnoticed.push(format!(
                "{} ({}, from {})",
                rule.id, rule.reference, rule.from
            ));
        }
    }
    assert!(
        unnoticed.is_empty(),
        "removing these rules changes no ruling:\n{}",
        unnoticed.join("\n")
    );
}
