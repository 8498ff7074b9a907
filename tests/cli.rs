//! The `yakkan` command as users and other services call it: output fields, exit codes,
//! and error messages that name file, line, column and field.

mod common;

use common::rules_copy;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yakkan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yakkan"))
        .args(args)
        .current_dir(project())
        .output()
        .expect("the binary runs")
}

fn yakkan_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_yakkan"))
        .args(args)
        .current_dir(project())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const CASE: &str = "\
as_of: 2026-05-20
contracts:
  - id: WG-1
    kind: web_gateway
    accounts: 100
    formed: 2026-04-10
    billing_start: 2026-04-15
    fees: { basic_monthly: \"20000\", per_account_monthly: \"300\" }
requests:
  - { type: terminate, contract: WG-1, notice_arrived: 2026-04-12 }
";

fn write_case(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn eval_prints_the_spec_fields() {
    let output = yakkan(&["eval", "examples/02-early-termination-fee.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let ruling: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(ruling["ruleset"]["name"], "iij-secure-access");
    assert_eq!(ruling["ruleset"]["in_force"], "2026-04-01");
    assert!(
        ruling["ruleset"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(ruling["as_of"], "2026-05-20");
    let contract = &ruling["contracts"][0];
    assert_eq!(contract["id"], "WG-1");
    assert_eq!(contract["minimum_period_end"], "2026-05-14");
    assert_eq!(contract["web_sandbox"], false);
    let request = &ruling["requests"][0];
    assert_eq!(request["index"], 0);
    assert_eq!(request["type"], "terminate");
    assert_eq!(request["decision"], "accepted");
    assert_eq!(request["values"]["effective_date"], "2026-05-12");
    assert_eq!(request["values"]["early_termination_fee"], "3999");
    let finding = &request["findings"][0];
    for field in ["rule", "ref", "cite", "outcome", "message"] {
        assert!(
            !finding[field].is_null(),
            "finding lacks {field}: {finding}"
        );
    }
    assert_eq!(finding["ref"], "13.1");
    assert_eq!(finding["cite"], "第13条第1項");
    assert!(finding["message"]["ja"].is_string() && finding["message"]["en"].is_string());
}

#[test]
fn outage_units_are_a_json_integer() {
    let output = yakkan(&["eval", "examples/03-outage-credit-late-claim.yaml"]);
    let ruling: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        ruling["requests"][0]["values"]["outage_units"],
        serde_json::json!(2)
    );
    assert_eq!(ruling["requests"][1]["values"]["credit"], "0");
}

#[test]
fn the_same_case_gives_byte_identical_output() {
    let first = yakkan(&["eval", "examples/04-r8-sandbox-transition.yaml"]);
    let second = yakkan(&["eval", "examples/04-r8-sandbox-transition.yaml"]);
    assert_eq!(first.status.code(), Some(0));
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn eval_reads_json_and_stdin() {
    let json = r#"{"as_of": "2026-05-01", "contracts": [], "requests": [
        {"type": "new_contract", "date": "2026-05-01",
         "contract": {"id": "RC-1", "kind": "remote_connect", "item": "type_a", "accounts": 60,
                      "billing_start": "2026-05-10"}}]}"#;
    let output = yakkan_stdin(&["eval", "-"], json);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let ruling: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(ruling["requests"][0]["decision"], "rejected");
    assert_eq!(ruling["requests"][0]["findings"][0]["ref"], "6.1");
}

#[test]
fn as_of_can_be_set_on_the_command_line() {
    let output = yakkan(&[
        "eval",
        "--as-of",
        "2026-03-31",
        "examples/04-r8-sandbox-transition.yaml",
    ]);
    let ruling: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(ruling["as_of"], "2026-03-31");
    assert_eq!(ruling["ruleset"]["in_force"], "2022-09-01");
    // Before the revision the Web sandbox is no option at all.
    assert_eq!(ruling["contracts"][0]["web_sandbox"], false);
}

#[test]
fn yaml_and_text_formats() {
    let yaml = yakkan(&[
        "eval",
        "--format",
        "yaml",
        "examples/02-early-termination-fee.yaml",
    ]);
    assert_eq!(yaml.status.code(), Some(0));
    assert!(
        stdout(&yaml).contains("early_termination_fee: '3999'"),
        "{}",
        stdout(&yaml)
    );
    let text = yakkan(&[
        "eval",
        "--format",
        "text",
        "examples/02-early-termination-fee.yaml",
    ]);
    let text = stdout(&text);
    assert!(text.contains("第13条第1項"), "{text}");
    assert!(text.contains("early_termination_fee = 3999"), "{text}");
    // The cited paragraph is quoted for the reader.
    assert!(
        text.contains("最低利用期間の経過する日前に解除された場合"),
        "{text}"
    );
}

/// Each malformed case: what to change, the field path and the line the error must name.
#[test]
fn bad_cases_exit_2_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "unknown field",
            "notice_arrived: 2026-04-12 }",
            "notice_arrived: 2026-04-12, reason: x }",
            "requests[0].reason",
        ),
        (
            "impossible date",
            "notice_arrived: 2026-04-12",
            "notice_arrived: 2026-02-30",
            "requests[0].notice_arrived",
        ),
        (
            "wrong type",
            "accounts: 100",
            "accounts: many",
            "contracts[0].accounts",
        ),
        (
            "non-numeric money",
            "\"20000\"",
            "\"20,000 yen\"",
            "contracts[0].fees.basic_monthly",
        ),
        (
            "fractional money as a number",
            "\"20000\"",
            "20000.5",
            "contracts[0].fees.basic_monthly",
        ),
        (
            "unknown request type",
            "type: terminate",
            "type: cancel",
            "requests[0].type",
        ),
        (
            "unknown contract",
            "contract: WG-1,",
            "contract: WG-9,",
            "requests[0].contract",
        ),
        (
            "missing field",
            "    billing_start: 2026-04-15\n",
            "",
            "contracts[0]",
        ),
        ("bad as_of", "as_of: 2026-05-20", "as_of: 20260520", "as_of"),
    ];
    for (what, from, to, path) in cases {
        assert!(CASE.contains(from), "{what}: the base case has no `{from}`");
        let file = write_case(dir.path(), "case.yaml", &CASE.replacen(from, to, 1));
        let output = yakkan(&["eval", &file]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{what}: {message}");
        assert!(
            message.starts_with(&format!("{file}:")),
            "{what}: no file:line:col in {message}"
        );
        assert!(
            message.contains(&format!(": {path}: ")),
            "{what}: no path {path} in {message}"
        );
        assert!(!message.contains("panicked"), "{what}: {message}");
        let line_col = message[file.len() + 1..]
            .split(':')
            .take(2)
            .collect::<Vec<_>>();
        assert!(
            line_col.iter().all(|n| n.parse::<usize>().is_ok()),
            "{what}: {message}"
        );
    }
}

#[test]
fn unreadable_documents_exit_2_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("broken.yaml", "as_of: [2026"),
        ("broken.json", "{\"as_of\": "),
        ("empty.yaml", ""),
        ("list.yaml", "- 1\n- 2\n"),
        ("binary.yaml", "\u{0}\u{1}"),
    ] {
        let file = write_case(dir.path(), name, text);
        let output = yakkan(&["eval", &file]);
        assert_eq!(output.status.code(), Some(2), "{name}: {}", stderr(&output));
        assert!(
            stderr(&output).starts_with(&file),
            "{name}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("panicked"));
    }
    let missing = yakkan(&["eval", "no/such/case.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    let usage = yakkan(&["eval"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn inconsistent_or_undecidable_requests_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let contract = "contracts:\n  - {id: WG-1, kind: web_gateway, accounts: 60, formed: 2021-01-05, billing_start: 2021-01-10}\n";
    let restored_first = format!(
        "as_of: 2026-07-01\n{contract}requests:\n  - {{type: outage_credit, contract: WG-1, attributable_to_provider: true, total: true, known_at: \"2026-06-03T10:00:00+09:00\", restored_at: \"2026-06-01T10:00:00+09:00\", claimed_on: 2026-06-10}}\n"
    );
    let file = write_case(dir.path(), "restored.yaml", &restored_first);
    let output = yakkan(&["eval", &file]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(": requests[0].restored_at: `restored_at` (2026-06-01T10:00:00+09:00) cannot precede `known_at`"),
        "{}",
        stderr(&output)
    );

    let too_old = format!(
        "as_of: 2026-07-01\n{contract}requests:\n  - {{type: terminate, contract: WG-1, notice_arrived: 2021-06-01}}\n"
    );
    let file = write_case(dir.path(), "old.yaml", &too_old);
    let output = yakkan(&["eval", &file]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(
            ": requests[0]: dated 2021-06-01, before the rule set's first revision (2022-09-01)"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_case_before_the_first_revision_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_case(dir.path(), "old.yaml", "as_of: 2021-01-01\n");
    let output = yakkan(&["eval", &file]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("as_of: 2021-01-01 precedes"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn check_accepts_the_bundled_rules() {
    let output = yakkan(&["check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("iij-secure-access:"),
        "{}",
        stdout(&output)
    );
}

fn break_rule(file: &str, from: &str, to: &str) -> (tempfile::TempDir, Output) {
    let dir = rules_copy();
    let path = dir.path().join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
    let output = yakkan(&["check", "--rules", &dir.path().display().to_string()]);
    (dir, output)
}

#[test]
fn check_reports_a_broken_expression_at_its_line() {
    let (dir, output) = break_rule(
        "art-04-contract-unit.yaml",
        "< params.contracts_per_kind_max",
        "< (params.contracts_per_kind_max",
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    // The expression sits on line 12; the parser stops at its end, column 101.
    let place = format!(
        "{}:12:101:",
        dir.path().join("art-04-contract-unit.yaml").display()
    );
    assert!(message.starts_with(&place), "expected {place} in {message}");
    assert!(message.contains("rules[0].require"), "{message}");
}

#[test]
fn check_reports_a_misspelt_field_or_function() {
    let (_dir, output) = break_rule(
        "art-02-items.yaml",
        "request.contract.item == ()",
        "request.contract.iten == ()",
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    // Line 21, column 26: the misspelt property itself inside the block expression.
    assert!(message.contains("art-02-items.yaml:21:26:"), "{message}");
    assert!(message.contains("has no field `iten`"), "{message}");
    assert!(message.contains("did you mean `item`?"), "{message}");

    let (_dir, output) = break_rule(
        "art-05-accounts.yaml",
        "is_whole(accounts)",
        "is_hole(accounts)",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("unknown function `is_hole`"),
        "{}",
        stderr(&output)
    );

    let (_dir, output) = break_rule(
        "art-04-contract-unit.yaml",
        "params.contracts_per_kind_max",
        "params.contracts_max",
    );
    assert!(
        stderr(&output).contains("the rule set has no param `contracts_max`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn check_reports_unknown_fields_bad_dates_and_duplicate_ids() {
    let (_dir, output) = break_rule(
        "art-05-accounts.yaml",
        "    outcome: reject",
        "    outcom: reject",
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        message.contains("art-05-accounts.yaml:") && message.contains("unknown field `outcom`"),
        "{message}"
    );

    let (_dir, output) = break_rule(
        "art-05-accounts.yaml",
        "from: 2022-09-01",
        "from: 2022-09-31",
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        message.contains("rules[0].in_force.from") && message.contains("2022-09-31"),
        "{message}"
    );

    let (_dir, output) = break_rule(
        "art-05-accounts.yaml",
        "id: art5-accounts",
        "id: art4-3-contract-cap",
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        message.contains("art-05-accounts.yaml:") && message.contains("must not overlap"),
        "{message}"
    );
}

#[test]
fn check_reports_a_citation_outside_its_article() {
    let (_dir, output) = break_rule("art-05-accounts.yaml", "ref: \"5\"", "ref: \"6.1\"");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("cites another part"),
        "{}",
        stderr(&output)
    );
    let (_dir, output) = break_rule("art-04-contract-unit.yaml", "ref: \"4.3\"", "ref: \"4.4\"");
    assert!(
        stderr(&output)
            .contains("cites a paragraph the text does not have (its paragraphs are 1, 2, 3)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn eval_refuses_a_broken_rule_set() {
    let dir = rules_copy();
    let path = dir.path().join("art-05-accounts.yaml");
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("is_whole(accounts)", "is_whole(accounts");
    fs::write(&path, text).unwrap();
    let rules = dir.path().display().to_string();
    let output = yakkan(&[
        "eval",
        "--rules",
        &rules,
        "examples/01-remote-connect-needs-gateway.yaml",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("art-05-accounts.yaml:"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn test_runs_the_examples_and_fails_on_a_mismatch() {
    let output = yakkan(&["test", "examples"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).ends_with("5 passed, 0 failed\n"),
        "{}",
        stdout(&output)
    );

    let dir = tempfile::tempdir().unwrap();
    let wrong = fs::read_to_string(project().join("examples/02-early-termination-fee.yaml"))
        .unwrap()
        .replace(
            "early_termination_fee: \"3999\"",
            "early_termination_fee: \"4000\"",
        );
    let file = write_case(dir.path(), "wrong.yaml", &wrong);
    let output = yakkan(&["test", &file]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("requests[0] values.early_termination_fee: expected 4000, got 3999"),
        "{out}"
    );
    // The rule that computes the value is named, not only the rules that spoke.
    assert!(
        out.contains("expected 4000, got 3999 (computed by art13-1-early-termination-fee (13.1), then art13-2-options-end-with-contract (13.2))"),
        "{out}"
    );
    assert!(out.ends_with("0 passed, 1 failed\n"), "{out}");
}

#[test]
fn explain_shows_the_cited_text_the_facts_in_words_and_what_did_not_fire() {
    let output = yakkan(&[
        "eval",
        "--format",
        "text",
        "--explain",
        "examples/02-early-termination-fee.yaml",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    // The whole cited paragraph, the requirement that failed, and the fact it read with
    // its value and its meaning in the terms' words.
    assert!(text.contains("一般規程第 28 条(契約者の解除)第 2 項又は第 3 項の規定に基づき解除された場合を除きます。)には、契約者は、別紙 2 に定める金額を支払うものとします。"), "{text}");
    assert!(
        text.contains("require: values.early_termination_fee == 0 → did not hold"),
        "{text}"
    );
    assert!(
        text.contains("contract_early_fee(contract, values.effective_date) = 3333"),
        "{text}"
    );
    assert!(text.contains("13.1: the basic service's part, with the accounts on the day the termination takes effect."), "{text}");
    // The facts used inside it too, innermost first: the arithmetic in the terms' words.
    let basic = text
        .find("basic_monthly_fee(contract WG-1, 2026-05-12) = 50000")
        .expect("the monthly fee on the effective date");
    let remaining = text
        .find("remaining_fee(50000, 2026-04-15, 2026-05-14, 2026-05-12) = 3333")
        .expect("the remaining-period fee with its inputs");
    assert!(basic < remaining, "{text}");
    // A value read by a computation is shown as the computation saw it.
    assert!(
        text.contains("values.early_termination_fee = 3333"),
        "{text}"
    );
    assert!(!text.contains("considered, no finding"), "{text}");

    let output = yakkan(&[
        "eval",
        "--format",
        "text",
        "--explain=all",
        "examples/02-early-termination-fee.yaml",
    ]);
    let text = stdout(&output);
    assert!(text.contains("considered, no finding"), "{text}");
    assert!(
        text.contains("第11条 [art11-contract-not-in-force]: requirement met"),
        "{text}"
    );
    assert!(text.contains("in_force(contract, date) → held"), "{text}");

    // In JSON the same: explanations on findings, `considered` with --explain=all only.
    let output = yakkan(&[
        "eval",
        "--explain=all",
        "examples/02-early-termination-fee.yaml",
    ]);
    let ruling: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let considered = ruling["requests"][0]["considered"].as_array().unwrap();
    assert!(
        considered
            .iter()
            .any(|c| c["rule"] == "art11-contract-not-in-force"
                && c["result"] == "held"
                && c["explain"]["require_result"] == true)
    );
    let output = yakkan(&["eval", "examples/02-early-termination-fee.yaml"]);
    let ruling: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(ruling["requests"][0].get("considered").is_none());
}

/// JSON Lines write each ruling as decided: the options of one case's output are refused
/// with exit 2 naming them, never silently ignored (a wrong date with exit 0).
#[test]
fn jsonl_refuses_the_options_of_one_case() {
    for (flag, named) in [
        (&["--as-of", "2026-06-01"][..], "--as-of"),
        (&["--explain"][..], "--explain"),
        (&["--format", "yaml"][..], "--format"),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_yakkan"))
            .args(["eval", "--jsonl"])
            .args(flag)
            .arg("examples/02-early-termination-fee.yaml")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{named}: {stderr}");
        assert!(
            stderr.contains(named) && stderr.contains("JSON Lines"),
            "{stderr}"
        );
        assert!(output.stdout.is_empty(), "{named}: no ruling is written");
    }
}
