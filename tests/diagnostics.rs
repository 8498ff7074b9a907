//! What a slip in a case or rule file is told (issue 17, point 8): where it is, what was
//! meant, and how to write it.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use common::{place, project};

fn yakkan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yakkan"))
        .args(args)
        .current_dir(project())
        .output()
        .expect("the binary runs")
}

/// The diagnostic `eval` prints for the case `text` (exit 2 expected).
fn case_error(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.yaml");
    fs::write(&path, text).unwrap();
    let output = yakkan(&["eval", &path.display().to_string()]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    stderr.replace(&format!("{}:", path.display()), "case.yaml:")
}

const CONTRACT: &str = "as_of: 2026-05-20
contracts:
  - id: WG-1
    kind: web_gateway
    accounts: 100
    formed: 2026-04-10
    billing_start: 2026-04-15
    fees: { basic_monthly: \"20000\", per_account_monthly: \"300\" }
  - id: FW1-1
    kind: firewall_type1
    accounts: 80
    formed: 2026-01-05
    billing_start: 2026-01-10
requests:
  - type: terminate
    contract: WG-1
    notice_arrived: 2026-04-12
";

#[test]
fn a_dedented_key_is_reported_where_it_is() {
    // Made a list entry of its own.
    let text = CONTRACT.replace(
        "    notice_arrived: 2026-04-12",
        "  - notice_arrived: 2026-04-12",
    );
    let error = case_error(&text);
    assert!(
        error.starts_with("case.yaml:17:5: requests[0]: missing field `notice_arrived`")
            && error.contains("is written here, as a new entry of the list"),
        "{error}"
    );
    // Indented into the fees of the contract above it.
    let text = CONTRACT
        .replace("    billing_start: 2026-04-15\n    fees: { basic_monthly: \"20000\", per_account_monthly: \"300\" }",
                 "    fees:\n      basic_monthly: \"20000\"\n      billing_start: 2026-04-15");
    let error = case_error(&text);
    assert!(
        error.starts_with("case.yaml:9:7: contracts[0]: missing field `billing_start`")
            && error.contains("dedent it to column 5"),
        "{error}"
    );
    assert!(!error.contains("hint: add the field"), "{error}");
}

#[test]
fn an_unknown_request_field_lists_only_that_types_fields() {
    let error =
        case_error(&CONTRACT.replace("notice_arrived: 2026-04-12", "notice_arived: 2026-04-12"));
    assert!(
        error.contains(
            "a terminate request takes contract, notice_arrived, requested_end, general_terms_28"
        ) && error.contains("did you mean `notice_arrived`?"),
        "{error}"
    );
    assert!(!error.contains("accounts"), "another type's field: {error}");
}

#[test]
fn money_written_as_people_write_yen_gets_the_plain_number() {
    for written in ["\"20,000\"", "¥20000", "\"20000円\"", "\"２００００\""] {
        let error = case_error(&CONTRACT.replace("\"20000\"", written));
        assert!(
            error.contains("contracts[0].fees.basic_monthly")
                && error.contains("hint: write 20000: an amount is a plain number of yen"),
            "{written}: {error}"
        );
    }
}

#[test]
fn an_unknown_contract_id_gets_a_did_you_mean_among_the_cases_ids() {
    let error = case_error(&CONTRACT.replace("contract: WG-1", "contract: WG-l"));
    assert!(
        error.starts_with(
            "case.yaml:16:15: requests[0].contract: the case names no contract `WG-l`"
        ) && error.contains("hint: did you mean `WG-1`?"),
        "{error}"
    );
    let error = case_error(&CONTRACT.replace("contract: WG-1", "contract: ZZ-9"));
    assert!(
        error.contains("hint: the contracts of this case are `FW1-1`, `WG-1`"),
        "{error}"
    );
}

/// A copy of the bundled rules with `old` replaced by `new` in `file`.
fn rules_with(file: &str, old: &str, new: &str) -> tempfile::TempDir {
    let dir = common::bare_rules_copy();
    common::edit(dir.path(), file, old, new);
    dir
}

fn check(dir: &Path) -> String {
    let output = yakkan(&["check", "--rules", &dir.display().to_string()]);
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_wrong_message_placeholder_is_placed_and_gets_a_did_you_mean() {
    let file = "art-13-early-termination.yaml";
    let dir = rules_with(
        file,
        "別紙2の金額 {early_termination_fee} 円",
        "別紙2の金額 {efective_date} 円",
    );
    let (line, column) = place(&dir.path().join(file), "{efective_date}");
    let output = check(dir.path());
    assert!(
        output.contains(&format!("{file}:{line}:{column}: rules[0].message.ja: art13-1-early-termination-fee: `{{efective_date}}` names no declared value or param"))
            && output.contains("hint: did you mean `effective_date`?"),
        "{output}"
    );
    let file = "art-05-accounts.yaml";
    let dir = rules_with(file, "{params.min_accounts}", "{params.min_acounts}");
    let output = check(dir.path());
    assert!(
        output.contains("hint: did you mean `params.min_accounts`?"),
        "{output}"
    );
}

#[test]
fn a_dedented_key_in_a_rule_file_is_reported_where_it_is() {
    let file = "art-05-accounts.yaml";
    let dir = rules_with(file, "    ref: \"5\"", "  - ref: \"5\"");
    let (line, column) = place(&dir.path().join(file), "ref: \"5\"");
    let output = check(dir.path());
    assert!(
        output.contains(&format!(
            "{file}:{line}:{column}: rules[0]: missing field `ref`: `ref:` is written here"
        )),
        "{output}"
    );
}

/// The documents cite what the repository holds: no "SPEC" (a document outside it); the
/// reference in docs/reference/ says what a case and a ruling are.
#[test]
fn the_documents_cite_no_spec_outside_the_repository() {
    let mut documents = vec![
        project().join("README.md"),
        project().join("rules/README.md"),
    ];
    let mut folders = vec![project().join("docs")];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                documents.push(path);
            }
        }
    }
    let project_has_spec = project().join("SPEC.md").exists();
    for document in documents {
        let text = fs::read_to_string(&document).unwrap();
        let cites = text
            .lines()
            .filter(|line| line.contains("SPEC"))
            .collect::<Vec<_>>();
        assert!(
            project_has_spec || cites.is_empty(),
            "{} cites SPEC, which is not in the repository: {cites:?}",
            document.display()
        );
    }
}
