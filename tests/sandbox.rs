//! Rules run sandboxed: a rule that loops, or builds a huge value, is stopped and named;
//! it never hangs the evaluator or takes the process down.

use std::fs;
use std::time::{Duration, Instant};

use yakkan::engine::Limits;
use yakkan::{Case, EvalError, LoadError, RuleSet};

const RULESET: &str = "\
name: sandbox-test
title: { ja: 試験, en: Test }
revisions:
  - { date: 2022-09-01, title: { ja: 施行, en: Original } }
params: { limit: 50 }
values: { effective_date: date }
";

/// A one-article rule set whose only rule requires `require`.
fn rule_set(require: &str, limits: Limits) -> Result<RuleSet, LoadError> {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ruleset.yaml"), RULESET).unwrap();
    let article = format!(
        "article: 1\ntitle: {{ ja: 試験, en: Test }}\nparagraphs: [本文]\nrules:\n  - id: art1-test\n    ref: \"1\"\n    in_force: {{ from: 2022-09-01 }}\n    applies_to: [new_contract]\n    require: '{require}'\n    outcome: reject\n    message: {{ ja: 拒否, en: Refused }}\n"
    );
    fs::write(dir.path().join("art-01.yaml"), article).unwrap();
    RuleSet::load_with(dir.path(), limits)
}

const CASE: &str = "\
as_of: 2026-05-01
requests:
  - { type: new_contract, date: 2026-05-01,
      contract: { id: X-1, kind: web_gateway, accounts: 60, billing_start: 2026-05-10 } }
";

fn evaluate(rules: &RuleSet) -> Result<yakkan::Ruling, EvalError> {
    yakkan::evaluate(rules, &Case::from_str(CASE, None).unwrap())
}

fn rule_failure(result: Result<yakkan::Ruling, EvalError>) -> (String, String) {
    match result {
        Err(EvalError::Rule { rule, message, .. }) => (rule, message),
        other => panic!("expected a rule failure, got {other:?}"),
    }
}

#[test]
fn a_plain_rule_decides() {
    let rules = rule_set(
        "request.contract.accounts >= params.limit",
        Limits::default(),
    )
    .unwrap();
    let ruling = evaluate(&rules).unwrap();
    assert_eq!(ruling.requests[0].findings.len(), 0);
    let rules = rule_set("request.contract.accounts > 100", Limits::default()).unwrap();
    assert_eq!(
        evaluate(&rules).unwrap().requests[0].findings[0].rule,
        "art1-test"
    );
}

#[test]
fn a_looping_rule_is_stopped_and_named() {
    let rules = rule_set("{ let i = 0; loop { i += 1; } }", Limits::default()).unwrap();
    let started = Instant::now();
    let (rule, message) = rule_failure(evaluate(&rules));
    assert_eq!(rule, "art1-test");
    assert!(message.contains("Too many operations"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_loop_inside_a_closure_is_stopped_by_the_clock() {
    let limits = Limits {
        max_operations: 0,
        time_budget: Duration::from_millis(100),
        ..Limits::default()
    };
    let rules = rule_set("[1, 2].map(|x| { loop { x += 1; } }).len() > 0", limits).unwrap();
    let started = Instant::now();
    let (rule, message) = rule_failure(evaluate(&rules));
    assert_eq!(rule, "art1-test");
    assert!(message.contains("time budget"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_huge_string_is_refused() {
    let rules = rule_set(r#"{ let s = "x"; loop { s += s; } }"#, Limits::default()).unwrap();
    let (_, message) = rule_failure(evaluate(&rules));
    assert!(message.contains("Length of string"), "{message}");
}

#[test]
fn a_condition_that_is_not_true_or_false_is_an_error() {
    let rules = rule_set("request.contract.accounts", Limits::default()).unwrap();
    let (_, message) = rule_failure(evaluate(&rules));
    assert!(message.contains("must be true or false"), "{message}");
}

#[test]
fn rules_cannot_reach_files_or_eval() {
    for script in [r#"{ import "/etc/passwd" as p; true }"#, r#"eval("true")"#] {
        let Err(LoadError::Invalid(diagnostics)) = rule_set(script, Limits::default()) else {
            panic!("`{script}` must not compile");
        };
        assert!(
            diagnostics[0].message.contains("does not compile"),
            "{diagnostics:?}"
        );
    }
}

#[test]
fn reading_a_value_before_it_is_computed_is_a_load_error() {
    let Err(LoadError::Invalid(diagnostics)) =
        rule_set("values.effective_date == ()", Limits::default())
    else {
        panic!("expected a load error");
    };
    assert!(
        diagnostics[0].message.contains("before any rule"),
        "{:?}",
        diagnostics
    );
}
