//! `yakkan check` proves what it can: each mistake a lawyer makes in a rule file is
//! refused with exit 1, at its file, line and column, naming the rule. A rule set that
//! passes `check` then fails at evaluation only on data-dependent arithmetic, and that
//! failure names the rule and its place too.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use yakkan::{EvalError, RuleSet};

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/iij-secure-access")
}

/// A copy of the bundled rule set with `old` replaced by `new` in `file`.
fn with_mistake(file: &str, old: &str, new: &str) -> tempfile::TempDir {
    let dir = common::rules_copy();
    let path = dir.path().join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(old), "{file} has no `{old}`");
    fs::write(&path, text.replacen(old, new, 1)).unwrap();
    dir
}

/// Line and column (1-based) of `marker` in `file` of `dir`.
fn place(dir: &Path, file: &str, marker: &str) -> (usize, usize) {
    common::place(&dir.join(file), marker)
}

struct Mistake {
    what: &'static str,
    file: &'static str,
    old: &'static str,
    new: &'static str,
    /// Where the error must point: the text at that place.
    at: &'static str,
    rule: &'static str,
    says: &'static str,
}

fn check(dir: &Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_yakkan"))
        .args(["check", "--rules"])
        .arg(dir)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned()
            + String::from_utf8_lossy(&output.stdout).as_ref(),
    )
}

/// Each diagnostic with its hint line, as one text.
fn diagnostics(output: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for line in output.lines() {
        match (line.trim_start().strip_prefix("hint:"), found.last_mut()) {
            (Some(hint), Some(last)) => last.push_str(&format!(" (hint:{hint})")),
            _ => found.push(line.to_owned()),
        }
    }
    found
}

const MISTAKES: &[Mistake] = &[
    Mistake {
        what: "`=` for `==`",
        file: "art-06-eligibility.yaml",
        old: "when: request.option == params.sandbox_option",
        new: "when: request.option = params.sandbox_option",
        at: "= params.sandbox_option",
        rule: "art6-2-sandbox-needs-gateway",
        says: "`=` assigns; compare with `==`",
    },
    Mistake {
        what: "an argument missing",
        file: "art-06-eligibility.yaml",
        old: "require: holds_any(contracts, params.base_kinds, date)",
        new: "require: holds_any(contracts, params.base_kinds)",
        at: "holds_any(contracts, params.base_kinds)",
        rule: "art6-1-connect-needs-gateway-or-firewall",
        says: "the fact `holds_any` takes (contracts: [contract], kinds: [text], day: date), not ([contract], [text])",
    },
    Mistake {
        what: "a contract rule reading `request`",
        file: "art-03-minimum-period.yaml",
        old: "require: date > values.minimum_period_end",
        new: "require: request.date > values.minimum_period_end",
        at: "request.date > values",
        rule: "art3-minimum-period",
        says: "`request` is not available here",
    },
    Mistake {
        what: "`option` in a new_contract rule",
        file: "art-10-software.yaml",
        old: "when: request.contract.kind == \"remote_connect\"",
        new: "when: option.kind == \"remote_connect\"",
        at: "option.kind == \"remote",
        rule: "art10-2-software-licence",
        says: "`option` is not available here",
    },
    Mistake {
        what: "assigning a param",
        file: "art-05-accounts.yaml",
        old: "is_whole(accounts) && accounts >= params.min_accounts",
        new: "params.min_accounts = 0",
        at: "= 0",
        rule: "art5-accounts",
        says: "assignment is not part of the rule language",
    },
    Mistake {
        what: "reading the clock",
        file: "art-11-termination.yaml",
        old: "let elapsed = days_after(request.notice_arrived, params.notice_days);",
        new: "let elapsed = timestamp();",
        at: "timestamp()",
        rule: "art11-effective-date",
        says: "rules cannot read the clock",
    },
    Mistake {
        what: "a half-written value",
        file: "art-11-termination.yaml",
        old: "      effective_date: |\n        let elapsed = days_after(request.notice_arrived, params.notice_days);\n        if request.requested_end == () { elapsed } else { later(elapsed, request.requested_end) }",
        new: "      effective_date: ()  # half-written",
        at: "()  # half",
        rule: "art11-effective-date",
        says: "gives (), but date is expected",
    },
    Mistake {
        what: "a require giving a number",
        file: "art-08-changes.yaml",
        old: "require: in_force(contract, date)",
        new: "require: params.min_accounts",
        at: "params.min_accounts",
        rule: "art8-change-needs-contract-in-force",
        says: "gives integer, but bool is expected",
    },
    Mistake {
        what: "a number compared with text",
        file: "art-05-accounts.yaml",
        old: "is_whole(accounts) && accounts >= params.min_accounts",
        new: "accounts == \"many\"",
        at: "== \"many\"",
        rule: "art5-accounts",
        says: "compares decimal with text: they are never equal",
    },
    Mistake {
        what: "a misspelt field",
        file: "art-03-minimum-period.yaml",
        old: "period_end(contract.billing_start,",
        new: "period_end(contract.biling_start,",
        at: "biling_start",
        rule: "art3-minimum-period",
        says: "did you mean `billing_start`?",
    },
    Mistake {
        what: "accounts read without a day",
        file: "art-05-accounts.yaml",
        old: "accounts_on(contract, date)",
        new: "contract.accounts",
        at: "if request.type",
        rule: "art5-accounts",
        says: "give timeline of decimal and decimal",
    },
    Mistake {
        what: "a value that may be () used as a date",
        file: "art-11-termination.yaml",
        old: "if request.requested_end == () { elapsed } else { later(elapsed, request.requested_end) }",
        new: "later(elapsed, request.requested_end)",
        at: "later(elapsed, request.requested_end)",
        rule: "art11-effective-date",
        says: "`request.requested_end` may be `()`",
    },
    Mistake {
        what: "a loop",
        file: "art-08-changes.yaml",
        old: "require: in_force(contract, date)",
        new: "require: \"{ let i = 0; loop { i += 1; } }\"",
        at: "loop {",
        rule: "art8-change-needs-contract-in-force",
        says: "loops are not part of the rule language",
    },
    Mistake {
        what: "a sort with a comparator (no loop may hide in a closure)",
        file: "art-08-changes.yaml",
        old: "require: in_force(contract, date)",
        new: "require: \"len(contract.options.sort(|a, b| a.billing_start < b.billing_start)) > 0\"",
        at: "sort(|a, b|",
        rule: "art8-change-needs-contract-in-force",
        says: "unknown function `sort`",
    },
    Mistake {
        what: "a value read before any rule computes it",
        file: "art-11-termination.yaml",
        old: "require: in_force(contract, date)",
        new: "require: values.early_termination_fee == 0",
        at: "early_termination_fee == 0",
        rule: "art11-contract-not-in-force",
        says: "reads `values.early_termination_fee` before",
    },
    Mistake {
        what: "a decision waiting on a settled amount",
        file: "art-13-early-termination.yaml",
        old: "    settled: true\n    when: end_takes_effect(contract, request_index) && defined_service(contract)",
        new: "    when: end_takes_effect(contract, request_index) && defined_service(contract)",
        at: "early_termination_fee + options_early_fee",
        rule: "art13-2-options-end-with-contract",
        says: "which the settled rule `art13-1-early-termination-fee` computes once every request is decided",
    },
    Mistake {
        what: "a settled rule rejecting a request decided in case order",
        file: "art-13-early-termination.yaml",
        old: "    require: values.early_termination_fee == 0\n    outcome: info",
        new: "    require: values.early_termination_fee == 0\n    outcome: reject  # on the settled timeline",
        at: "reject  # on the settled",
        rule: "art13-1-early-termination-fee",
        says: "a settled rule cannot reject a terminate request",
    },
];

#[test]
fn every_mistake_is_refused_at_its_place_naming_the_rule() {
    let mut failures = Vec::new();
    for mistake in MISTAKES {
        let dir = with_mistake(mistake.file, mistake.old, mistake.new);
        let (code, output) = check(dir.path());
        let (line, column) = place(dir.path(), mistake.file, mistake.at);
        let at = format!("{}:{line}:{column}", mistake.file);
        let found = diagnostics(&output)
            .iter()
            .any(|l| l.contains(&at) && l.contains(mistake.rule) && l.contains(mistake.says));
        if code != 1 || !found {
            failures.push(format!(
                "{}: exit {code}, expected a line with `{at}`, `{}` and `{}`:\n{output}",
                mistake.what, mistake.rule, mistake.says
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_value_computed_only_under_a_when_cannot_be_read_later() {
    let dir = with_mistake(
        "art-11-termination.yaml",
        "    # The day of arrival is not counted",
        "    when: request.general_terms_28\n    # The day of arrival is not counted",
    );
    let (code, output) = check(dir.path());
    assert_eq!(code, 1, "{output}");
    let (line, column) = place(
        dir.path(),
        "art-13-early-termination.yaml",
        "effective_date)\n",
    );
    let at = format!("art-13-early-termination.yaml:{line}:{column}");
    assert!(
        diagnostics(&output).iter().any(|l| l.contains(&at)
            && l.contains("art13-1-early-termination-fee")
            && l.contains("which rule `art11-effective-date` computes only when its `when` holds")),
        "expected {at}:\n{output}"
    );
}

/// What an accepted request does cannot wait on the settled timeline: an effect reading
/// a value a settled rule computes would make a decision depend on later requests.
#[test]
fn an_effect_cannot_read_a_settled_value() {
    let dir = with_mistake(
        "art-11-termination.yaml",
        "  - id: art11-effective-date\n    ref: \"11\"\n    in_force: { from: 2022-09-01 }\n    applies_to: [terminate]",
        "  - id: art11-effective-date\n    ref: \"11\"\n    in_force: { from: 2022-09-01 }\n    applies_to: [terminate]\n    settled: true",
    );
    let (code, output) = check(dir.path());
    assert_eq!(code, 1, "{output}");
    assert!(
        diagnostics(&output).iter().any(|l| l.contains("model.yaml:")
            && l.contains("requests.terminate.effects[0]")
            && l.contains("reads `values.effective_date`, which the settled rule `art11-effective-date` computes")),
        "expected the terminate effect refused:\n{output}"
    );
}

/// A record whose field defaults to the record itself would make reading any case
/// recurse without end (a stack overflow, not a diagnostic): `check` refuses it at its
/// place in `model.yaml`, and the process exits 1, not by a signal.
#[test]
fn a_default_that_holds_itself_is_refused_not_overflowed() {
    let dir = with_mistake(
        "model.yaml",
        "      per_account_monthly: { type: yen, default: \"0\", description: \"アカウント使用料 per account per month, in yen\" }",
        "      per_account_monthly: { type: yen, default: \"0\", description: \"アカウント使用料 per account per month, in yen\" }\n      more: { type: fees, default: {} }",
    );
    let (code, output) = check(dir.path());
    assert_eq!(code, 1, "{output}");
    assert!(
        diagnostics(&output)
            .iter()
            .any(|l| l.contains("model.yaml:")
                && l.contains("records.fees.fields.more.default")
                && l.contains("reading a case would never end")),
        "{output}"
    );
}

/// A default the reader would refuse for its field's type would fail every case that
/// leaves the field out, blamed on the case file: `check` refuses it in `model.yaml`.
#[test]
fn a_default_not_of_its_type_is_refused_in_the_model() {
    let dir = with_mistake(
        "model.yaml",
        "policy_decided: { type: bool, default: true,",
        "policy_decided: { type: bool, default: \"abc\",",
    );
    let (code, output) = check(dir.path());
    assert_eq!(code, 1, "{output}");
    assert!(
        diagnostics(&output)
            .iter()
            .any(|l| l.contains("model.yaml:")
                && l.contains("records.environment.fields.policy_decided.default")
                && l.contains("this default is not a value of its field")),
        "{output}"
    );
}

#[test]
fn the_bundled_rules_pass_check() {
    let (code, output) = check(&bundled());
    assert_eq!(code, 0, "{output}");
}

#[test]
fn diagnostics_are_sorted_by_place() {
    let dir = with_mistake(
        "art-05-accounts.yaml",
        "is_whole(accounts) && accounts >= params.min_accounts",
        "is_whol(accounts) && acounts >= params.min_acounts",
    );
    let (code, output) = check(dir.path());
    assert_eq!(code, 1, "{output}");
    let columns: Vec<usize> = output
        .lines()
        .filter(|l| l.contains("art-05-accounts.yaml:"))
        .filter_map(|l| l.split(':').nth(2)?.parse().ok())
        .collect();
    assert!(columns.len() >= 2, "{output}");
    assert!(columns.windows(2).all(|w| w[0] <= w[1]), "{output}");
}

#[test]
fn facts_are_checked_and_may_not_be_circular() {
    let dir = with_mistake(
        "art-09-options.yaml",
        "options_held(contract, day).filter(|o| in_force(o, day))",
        "options_in_force(contract, day).filter(|o| in_force(o, day))",
    );
    let (code, output) = check(dir.path());
    assert_eq!(code, 1, "{output}");
    // At the value of each fact on the cycle, naming the way round.
    let (line, column) = place(
        dir.path(),
        "art-09-options.yaml",
        "if in_force(contract, day) {\n        options_in_force",
    );
    let at = format!(
        "art-09-options.yaml:{line}:{column}: facts[2].value: the fact `options_in_force` depends on itself (options_in_force → options_in_force)"
    );
    assert!(
        diagnostics(&output).iter().any(|l| l.contains(&at)),
        "no `{at}` in\n{output}"
    );
    let dir = with_mistake("art-09-options.yaml", "type: \"[text]\"", "type: \"[txt]\"");
    let (code, output) = check(dir.path());
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("`txt` is not a type"), "{output}");
}

/// Passing `check` leaves only data-dependent failures, which name the rule and place.
#[test]
fn arithmetic_failures_name_the_rule_and_its_place() {
    let dir = with_mistake(
        "art-05-accounts.yaml",
        "is_whole(accounts) && accounts >= params.min_accounts",
        "yen(1) / (accounts - 60) > 0",
    );
    let (code, output) = check(dir.path());
    assert_eq!(code, 0, "{output}");
    let rules = RuleSet::load(dir.path()).unwrap();
    let case = yakkan::expect::case_from_str(
        &rules,
        "as_of: 2026-05-01\nrequests:\n  - { type: new_contract, date: 2026-05-01,\n      contract: { id: X-1, kind: web_gateway, accounts: 60, billing_start: 2026-05-10 } }\n",
        None,
    )
    .unwrap();
    let (line, column) = place(dir.path(), "art-05-accounts.yaml", "/ (accounts - 60)");
    match yakkan::evaluate(&rules, &case) {
        Err(EvalError::Rule {
            rule,
            file,
            position,
            message,
        }) => {
            assert_eq!(rule, "art5-accounts");
            assert!(file.ends_with("art-05-accounts.yaml"), "{file}");
            assert!(message.contains("division by zero"), "{message}");
            // The place is a field too, as an HTTP 500 body gives it.
            let at = position.expect("the failing expression's place");
            assert_eq!(at.line, line, "{message}");
            assert!(
                message.contains(&format!("{line}:")),
                "{message} (line {line}, column {column})"
            );
        }
        other => panic!("expected a rule failure, got {other:?}"),
    }
}

/// A param that looks like a date but is not written `YYYY-MM-DD` would be read as text,
/// and the error would surface where a rule compares it with a date, in another file. It
/// is refused where it is written, in `ruleset.yaml`, with the way to write it.
#[test]
fn a_date_param_written_otherwise_is_refused_in_ruleset_yaml() {
    for (written, says) in [
        ("2026/03/31", "write 2026-03-31"),
        ("2026-3-31", "write 2026-03-31"),
        ("2026-02-30", "no such day"),
    ] {
        let dir = with_mistake(
            "ruleset.yaml",
            "sandbox_transition_cutoff: 2026-03-31",
            &format!("sandbox_transition_cutoff: {written}"),
        );
        let (code, output) = check(dir.path());
        let (line, column) = place(dir.path(), "ruleset.yaml", written);
        let at = format!("ruleset.yaml:{line}:{column}");
        let lines = diagnostics(&output);
        assert_eq!(code, 1, "{written}: {output}");
        assert!(
            lines.iter().any(|l| l.contains(&at)
                && l.contains("params.sandbox_transition_cutoff")
                && l.contains(says)),
            "{written}: expected `{at}` and `{says}`:\n{output}"
        );
        assert!(
            !output.contains("suppl-2026-04-01.yaml"),
            "{written}: blamed on the rule that reads it:\n{output}"
        );
    }
    // Inside a list too, at the item.
    let dir = with_mistake(
        "ruleset.yaml",
        "sandbox_option_from: 2026-04-01",
        "sandbox_option_from: 2026-04-01\n  some_days: [2026-04-01, 2026/4/2]",
    );
    let (code, output) = check(dir.path());
    let (line, column) = place(dir.path(), "ruleset.yaml", "2026/4/2");
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains(&format!("ruleset.yaml:{line}:{column}"))
            && output.contains("params.some_days[1]"),
        "{output}"
    );
}

/// A rule file holding `facts` (name → expression), each a bool fact of article 99.
fn facts_file(facts: &[(&str, String)]) -> String {
    let mut text =
        "article: 99\ntitle: { ja: 限度, en: Bounds }\nparagraphs: [限度]\nfacts:\n".to_owned();
    for (name, value) in facts {
        text.push_str(&format!(
            "  - name: {name}\n    type: bool\n    ref: \"99\"\n    description: {{ ja: x, en: x }}\n    value: {}\n",
            serde_json::to_string(value).unwrap()
        ));
    }
    text
}

/// Loads the bundled set plus `extra` as `art-99-bounds.yaml` on a thread with a 4 MiB
/// stack (half of what yakkan gives each of its threads, `yakkan::THREAD_STACK`), in this
/// debug build, whose frames are several times a release build's: a recursion past its
/// bound would overflow and abort.
fn load_on_a_small_stack(extra: String) -> Result<(), String> {
    let dir = common::rules_copy();
    fs::write(dir.path().join("art-99-bounds.yaml"), extra).unwrap();
    let path = dir.path().to_owned();
    std::thread::Builder::new()
        .stack_size(4 << 20)
        .spawn(move || RuleSet::load(&path).map(drop).map_err(|e| e.to_string()))
        .unwrap()
        .join()
        .unwrap()
}

fn lets(n: usize) -> String {
    (0..n).map(|i| format!("let v{i} = {i}; ")).collect()
}

/// Every recursion over an expression has a bound, refused as a diagnostic at its place:
/// its text (16 KiB), Rhai's nesting (48), `let`s per block (64) and the tree read
/// (128 levels). Expressions at the bounds load on a small stack; past them, each is
/// refused with its own message, never overflowing (a 40,000-`let` expression used to).
#[test]
fn expressions_at_their_bounds_load_and_past_them_are_refused() {
    let nested_blocks = format!("{}{}true{}", "{ ".repeat(3), lets(60), " }".repeat(3));
    // Two blocks of 60 `let`s: 122 levels, within the tree's 128.
    let deepest = format!(
        "{}true{}",
        format!("{{ {}", lets(60)).repeat(2),
        " }".repeat(2)
    );
    let closures = format!(
        "[1]{}.some(|z| true){}",
        (0..5)
            .map(|i| format!(".some(|a{i}| [1]"))
            .collect::<String>(),
        ")".repeat(5)
    );
    let at_bounds = [
        ("at_lets", format!("{}v63 > 0", lets(64))),
        ("at_blocks", nested_blocks),
        ("at_deepest", deepest),
        (
            "at_parens",
            format!("{}true{}", "(".repeat(23), ")".repeat(23)),
        ),
        ("at_closures", closures),
    ];
    assert_eq!(load_on_a_small_stack(facts_file(&at_bounds)), Ok(()));

    let past = [
        ("past_bytes", format!("{}v39999 > 0", lets(40_000))),
        ("past_lets", format!("{}v64 > 0", lets(65))),
        (
            "past_parens",
            format!("{}true{}", "(".repeat(60), ")".repeat(60)),
        ),
        ("past_nots", format!("{}true", "!".repeat(8000))),
        ("past_fields", format!("params{} == 1", ".x".repeat(5000))),
        (
            "past_tree",
            format!(
                "{}true{}",
                format!("{{ {}", lets(60)).repeat(3),
                " }".repeat(3)
            ),
        ),
    ];
    let refused = load_on_a_small_stack(facts_file(&past)).unwrap_err();
    for (fact, says) in [
        (
            "past_bytes",
            "bytes long; an expression may have at most 16384",
        ),
        ("past_lets", "more than 64 `let`s in one expression"),
        ("past_parens", "nests more than 48 levels deep here"),
        ("past_nots", "nests more than 48 levels deep here"),
        ("past_fields", "nests more than 48 levels deep here"),
        (
            "past_tree",
            "the expression nests more than 128 levels deep",
        ),
    ] {
        assert!(
            refused
                .lines()
                .any(|l| l.contains("art-99-bounds.yaml:") && l.contains(fact) && l.contains(says)),
            "{fact}: no `{says}` in\n{refused}"
        );
    }
}
