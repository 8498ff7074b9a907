//! A few seconds of generated inputs through the readers the fuzzers cover (`fuzz/`), so
//! `cargo test` keeps a smoke test of them: no input panics, and numbers are read exactly
//! or refused, never rounded.

mod common;

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use rust_decimal::Decimal;
use yakkan::Syntax;
use yakkan::case::CaseLimits;
use yakkan::{RuleSet, evaluate};

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::load(&project().join("rules")).unwrap())
}

/// The example cases, as seeds to mutate.
fn seeds() -> &'static Vec<String> {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut files: Vec<_> = fs::read_dir(project().join("examples"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| fs::read_to_string(p).unwrap())
            .collect()
    })
}

/// An edit of a text: at a fraction of its length, delete some characters and insert
/// some of the characters YAML and JSON give meaning to.
fn edit() -> impl Strategy<Value = (f64, usize, String)> {
    (
        0.0..1.0f64,
        0usize..8,
        proptest::string::string_regex(r##"[\[\]{}:,&*!|>'"#\- \n0-9.eE_a-z]{0,12}"##).unwrap(),
    )
}

fn apply(text: &str, edits: &[(f64, usize, String)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for (at, delete, insert) in edits {
        let at = ((chars.len() as f64) * at) as usize;
        let end = (at + delete).min(chars.len());
        chars.splice(at..end, insert.chars());
    }
    chars.into_iter().collect()
}

fn read_and_evaluate(text: &str, syntax: Syntax) {
    if let Ok(case) = yakkan::expect::read_case(
        rules(),
        text,
        Some("generated"),
        syntax,
        &CaseLimits::default(),
    ) {
        let _ = evaluate(rules(), &case);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn edited_cases_never_panic(seed in 0usize..5, edits in proptest::collection::vec(edit(), 1..4)) {
        let seeds = seeds();
        let text = apply(&seeds[seed % seeds.len()], &edits);
        read_and_evaluate(&text, Syntax::Yaml);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        read_and_evaluate(&text, Syntax::Yaml);
        read_and_evaluate(&text, Syntax::Json);
    }

    /// A count written with up to 30 digits is read as exactly that number, or refused.
    #[test]
    fn counts_are_exact_or_refused(int in "[1-9][0-9]{0,15}", frac in "[0-9]{0,15}", quoted in any::<bool>(), json in any::<bool>()) {
        let written = if frac.is_empty() { int.clone() } else { format!("{int}.{frac}") };
        let value = if quoted { format!("\"{written}\"") } else { written.clone() };
        let text = if json {
            format!(r#"{{"as_of": "2026-05-01", "contracts": [{{"id": "A", "kind": "web_gateway", "accounts": {value}, "formed": "2026-04-01", "billing_start": "2026-04-10"}}]}}"#)
        } else {
            format!("as_of: 2026-05-01\ncontracts:\n  - {{ id: A, kind: web_gateway, accounts: {value}, formed: 2026-04-01, billing_start: 2026-04-10 }}\n")
        };
        let syntax = if json { Syntax::Json } else { Syntax::Yaml };
        match yakkan::expect::read_case(rules(), &text, None, syntax, &CaseLimits::default()) {
            Ok(case) => {
                let exact: Decimal = written.parse().unwrap();
                let accounts = case.contracts[0].field("accounts").on_day(chrono::NaiveDate::MIN);
                prop_assert_eq!(accounts.as_decimal(), Some(exact), "{}", text);
            }
            Err(error) => prop_assert!(error.path.starts_with("contracts[0].accounts"), "{}", error),
        }
    }
}

proptest! {
    // Each case loads a rule set: a handful is seconds.
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn edited_rule_files_load_or_are_refused(edits in proptest::collection::vec(edit(), 1..3)) {
        let dir = common::bare_rules_copy();
        let file = dir.path().join("art-05-accounts.yaml");
        let text = fs::read_to_string(&file).unwrap();
        fs::write(&file, apply(&text, &edits)).unwrap();
        let _ = RuleSet::load(dir.path());
    }
}
