//! Revisions as data: rule versions chosen by date, the pre-revision rule set kept in
//! `docs/r8-impact/`, the impact diff between the two, and batch evaluation.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

use yakkan::RuleSet;
use yakkan::batch::{LineResult, evaluate_lines};
use yakkan::corpus::case_files;
use yakkan::diff::Report;

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn current() -> RuleSet {
    RuleSet::load(&project().join("rules")).unwrap()
}

fn before_r8() -> RuleSet {
    RuleSet::load(&project().join("docs/r8-impact/rules-before-r8")).unwrap()
}

fn yakkan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yakkan"))
        .args(args)
        .current_dir(project())
        .output()
        .unwrap()
}

/// `yakkan diff` of the rule set before the R8 revision against the current one.
fn r8_diff(args: &[&str]) -> Output {
    let mut all = vec![
        "diff",
        "--old",
        "docs/r8-impact/rules-before-r8",
        "--new",
        "rules",
    ];
    all.extend_from_slice(args);
    yakkan(&all)
}

/// Why loading the set in `dir` is refused (it must be).
fn refusal(dir: &std::path::Path) -> String {
    RuleSet::load(dir).err().expect("refused").to_string()
}

/// The ruling on a Web gateway formed 2026-02-01 whose termination notice arrives on
/// `arrived`.
fn notice_arriving(rules: &RuleSet, arrived: &str) -> yakkan::Ruling {
    let case = common::CASE
        .replace("2026-04-12", arrived)
        .replace("2026-04-10", "2026-02-01")
        .replace("2026-04-15", "2026-02-02");
    let case = yakkan::Case::from_str(rules, &case, Some("case.json")).unwrap();
    yakkan::evaluate(rules, &case).unwrap()
}

fn listed(day: &str) -> String {
    let output = yakkan(&["rules", "--as-of", day, "--at-file"]);
    assert_eq!(output.status.code(), Some(0));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn rules_in_force_change_on_the_revision_day() {
    let before = listed("2026-03-31");
    assert!(before.contains("revision in force: 2022-09-01"), "{before}");
    assert!(!before.contains("art6-2-sandbox-needs-gateway"), "{before}");
    assert!(!before.contains("suppl-2026-04-01-2"), "{before}");
    let line = before
        .lines()
        .find(|l| l.starts_with("art9-2-known-option "))
        .unwrap();
    assert!(
        line.contains("(reconstructed)") && line.contains("art-09-options.yaml"),
        "{line}"
    );

    let after = listed("2026-04-01");
    assert!(after.contains("revision in force: 2026-04-01"), "{after}");
    assert!(after.contains("art6-2-sandbox-needs-gateway"), "{after}");
    assert!(
        after.contains("suppl-2026-04-01-2-continues-without-sandbox"),
        "{after}"
    );
    let line = after
        .lines()
        .find(|l| l.starts_with("art9-2-known-option "))
        .unwrap();
    assert!(!line.contains("(reconstructed)"), "{line}");
}

#[test]
fn versions_are_selected_by_the_request_date() {
    let rules = current();
    let case = |day: &str| {
        format!(
            "as_of: 2026-05-01\ncontracts:\n  - {{ id: WG-1, kind: web_gateway, accounts: 60, formed: 2026-01-05, billing_start: 2026-01-10 }}\nrequests:\n  - {{ type: add_option, date: {day}, contract: WG-1, option: web_sandbox }}\n"
        )
    };
    let decide = |day: &str| {
        let ruling = yakkan::evaluate(
            &rules,
            &yakkan::expect::case_from_str(&rules, &case(day), None).unwrap(),
        )
        .unwrap();
        let request = ruling.requests[0].clone();
        (
            request.decision,
            request
                .findings
                .iter()
                .map(|f| f.rule.clone())
                .collect::<Vec<_>>(),
        )
    };
    let (decision, rules_before) = decide("2026-03-31");
    assert_eq!(decision, yakkan::ruling::Decision::Rejected);
    assert!(
        rules_before.contains(&"art9-2-known-option".to_owned()),
        "{rules_before:?}"
    );
    let (decision, rules_after) = decide("2026-04-01");
    assert_eq!(
        decision,
        yakkan::ruling::Decision::Accepted,
        "{rules_after:?}"
    );
}

#[test]
fn overlapping_versions_are_a_check_error() {
    let dir = common::bare_rules_copy();
    // The reconstructed version no longer ends the day before the revision.
    common::edit(
        dir.path(),
        "art-09-options.yaml",
        "in_force: { from: 2022-09-01, until: 2026-03-31 }",
        "in_force: { from: 2022-09-01 }",
    );
    let output = yakkan(&["check", "--rules", &dir.path().display().to_string()]);
    let message = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(
        message.contains("rule `art9-2-known-option` is already in force on some of these days"),
        "{message}"
    );
    assert!(message.contains("art-09-options.yaml:"), "{message}");
}

/// Every case, judged on the eve of the revision with only its requests dated before it,
/// gets the same ruling with or without the revision in the rule set.
#[test]
fn removing_the_revision_changes_nothing_before_it() {
    let (old, new) = (before_r8(), current());
    let eve = yakkan::calendar::parse_date("2026-03-31").unwrap();
    let files = case_files(&[project().join("tests/cases"), project().join("examples")]).unwrap();
    let mut requests = 0;
    for file in &files {
        let mut case =
            yakkan::expect::case_from_str(&new, &fs::read_to_string(file).unwrap(), None).unwrap();
        case.as_of = case.as_of.min(eve);
        case.requests.retain(|r| r.date() <= eve);
        requests += case.requests.len();
        let judge = |rules: &RuleSet| {
            yakkan::evaluate(rules, &case)
                .map_err(|e| e.to_string())
                .map(|mut ruling| {
                    ruling.ruleset.digest.clear();
                    ruling
                })
        };
        assert_eq!(
            judge(&old),
            judge(&new),
            "{} differs before the revision",
            file.display()
        );
    }
    // Most requests of the corpus fall after the revision; every case's contracts count.
    assert!(
        files.len() >= 60 && requests >= 8,
        "{} cases, {requests} requests compared",
        files.len()
    );
}

#[test]
fn the_diff_reports_changed_rulings_by_rule() {
    let files = case_files(&[project().join("examples")]).unwrap();
    let report = Report::build(&before_r8(), &current(), &files);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.cases, 5);
    let fee = report
        .changes
        .iter()
        .find(|c| c.case.ends_with("02-early-termination-fee.yaml") && c.subject == "requests[0]")
        .expect("the 13.2 part is new with the revision");
    assert!(
        fee.differences
            .contains(&"early_termination_fee \"3333\" -> \"3999\"".to_owned()),
        "{fee:?}"
    );
    assert_eq!(fee.rules, ["art13-2-options-end-with-contract (13.2)"]);
    let groups = report.by_rule();
    assert!(
        groups.contains_key("suppl-2026-04-01-2-sandbox-carried-over (suppl.2026-04-01.2)"),
        "{:?}",
        groups.keys()
    );
    // The fourth-contract example is untouched by the revision.
    assert!(
        !report
            .changes
            .iter()
            .any(|c| c.case.ends_with("05-fourth-contract.yaml"))
    );
}

#[test]
fn the_diff_command_writes_json_for_machines() {
    let output = r8_diff(&["--format", "json", "examples"]);
    // Rulings changed: exit 1, as `test` on a mismatch.
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["cases"], 5);
    assert!(
        report["summary"]["subjects_changed"].as_u64().unwrap() >= 4,
        "{}",
        report["summary"]
    );
    assert!(report["by_rule"]["art13-2-options-end-with-contract (13.2)"].is_array());
}

#[test]
fn the_committed_impact_review_is_current() {
    let review = fs::read_to_string(project().join("docs/r8-impact/README.md")).unwrap();
    let output = r8_diff(&["tests/cases", "examples"]);
    let report = String::from_utf8(output.stdout).unwrap();
    assert!(
        review.contains(&report),
        "docs/r8-impact/README.md is out of date: regenerate its report with\n  cargo run -- diff --old docs/r8-impact/rules-before-r8 --new rules tests/cases examples"
    );
}

#[test]
fn batches_keep_order_and_report_bad_lines() {
    let rules = current();
    let good = |day: &str| {
        format!(
            r#"{{"as_of": "{day}", "requests": [{{"type": "new_contract", "date": "2026-05-01", "contract": {{"id": "X", "kind": "remote_connect", "item": "type_a", "accounts": 60, "billing_start": "2026-05-10"}}}}]}}"#
        )
    };
    let text = format!(
        "{}\n\n{}\n{{\"as_of\": \"2026-02-30\"}}\n{}\n",
        good("2026-07-01"),
        good("2026-05-01"),
        good("2026-06-01")
    );
    let results = evaluate_lines(&rules, &text, std::num::NonZeroUsize::new(2));
    assert_eq!(results.len(), 4, "the blank line is skipped");
    let days: Vec<&str> = results
        .iter()
        .filter_map(|r| match r {
            LineResult::Ruling(ruling) => Some(ruling.as_of.as_str()),
            LineResult::Error { .. } => None,
        })
        .collect();
    assert_eq!(days, ["2026-07-01", "2026-05-01", "2026-06-01"]);
    match &results[2] {
        LineResult::Error {
            line,
            input,
            message,
        } => {
            assert_eq!(*line, 4);
            assert!(*input);
            assert!(
                message.contains("as_of") && message.contains("2026-02-30"),
                "{message}"
            );
        }
        other => panic!("line 4 is bad: {other:?}"),
    }
    assert!(
        results[2]
            .to_json_line()
            .starts_with("{\"line\":4,\"error\":")
    );
}

#[test]
fn eval_reads_json_lines_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cases.jsonl");
    let lines: Vec<String> = ["2026-05-01", "2026-03-01", "2026-06-01"]
        .iter()
        .map(|day| format!(r#"{{"as_of": "{day}"}}"#))
        .collect();
    fs::write(&path, lines.join("\n")).unwrap();
    let output = yakkan(&["eval", &path.display().to_string()]);
    assert_eq!(output.status.code(), Some(0));
    let days: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["as_of"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(days, ["2026-05-01", "2026-03-01", "2026-06-01"]);
    fs::write(&path, "{\"as_of\": \"nope\"}\n").unwrap();
    assert_eq!(
        yakkan(&["eval", &path.display().to_string()]).status.code(),
        Some(2)
    );
}

/// An article a revision inserts without renumbering (第8条の2), and a paragraph inserted
/// into it (第1項の2), are numbered, cited and found as the terms number them.
#[test]
fn branch_numbered_articles_and_paragraphs_are_cited_as_the_terms_cite_them() {
    let dir = common::rules_copy();
    fs::write(
        dir.path().join("art-08-2-notices.yaml"),
        r#"article: "8の2"
title: { ja: 通知の方法, en: How notices are given }
paragraphs:
  - 契約者は、当社所定の方法により通知するものとします。
  - { number: "1の2", text: "前項の通知は、書面によることができます。" }
  - 当社は、通知の到達を確認します。
rules:
  - id: art8-2-1-2-written-notice
    ref: "8の2.1の2"
    in_force: { from: 2022-09-01 }
    applies_to: [terminate]
    outcome: info
    message:
      ja: 通知は書面によることができます。
      en: A notice may be given in writing.
"#,
    )
    .unwrap();
    let rules = RuleSet::load(dir.path()).unwrap();
    let case = yakkan::Case::from_str(&rules, common::CASE, Some("case.json")).unwrap();
    let ruling = yakkan::evaluate(&rules, &case).unwrap();
    let finding = ruling.requests[0]
        .findings
        .iter()
        .find(|f| f.rule == "art8-2-1-2-written-notice")
        .expect("the inserted article's rule speaks");
    assert_eq!(finding.cite, "第8条の2第1項の2");
    assert_eq!(finding.reference, "8の2.1の2");
    // The part sorts after 第8条 and before 第9条; its third paragraph is numbered 2.
    let labels: Vec<String> = rules.parts.iter().map(|p| p.file.clone()).collect();
    let at = |name: &str| labels.iter().position(|f| f.ends_with(name)).unwrap();
    assert!(at("art-08-changes.yaml") < at("art-08-2-notices.yaml"));
    assert!(at("art-08-2-notices.yaml") < at("art-09-options.yaml"));
    let part = &rules.parts[at("art-08-2-notices.yaml")];
    let numbers: Vec<String> = part.numbers.iter().map(ToString::to_string).collect();
    assert_eq!(numbers, ["1", "1の2", "2"]);
    let rule = rules
        .rules
        .iter()
        .find(|r| r.id == "art8-2-1-2-written-notice")
        .unwrap();
    assert_eq!(
        rules.cited_text(rule),
        "前項の通知は、書面によることができます。"
    );

    // A paragraph the text does not have, and a number not written as the terms write
    // one, are refused at their places.
    let path = dir.path().join("art-08-2-notices.yaml");
    let text = fs::read_to_string(&path).unwrap();
    for (from, to, says) in [
        (
            "ref: \"8の2.1の2\"",
            "ref: \"8の2.1の3\"",
            "cites a paragraph the text does not have (its paragraphs are 1, 1の2, 2)",
        ),
        (
            "article: \"8の2\"",
            "article: \"8-2\"",
            "`8-2` is not a number like 8 or \"8の2\"",
        ),
        (
            "{ number: \"1の2\",",
            "{ number: \"1\",",
            "this paragraph's number does not come after the one before it",
        ),
    ] {
        fs::write(&path, text.replace(from, to)).unwrap();
        let refused = refusal(dir.path());
        assert!(refused.contains(says), "{to}: {refused}");
    }
}

/// A number the terms change from a day on is written once, by date: the rule version in
/// force reads the value in force on the day it judges, with no new param and no new
/// version of any rule reading it. Here 第11条's 30 days' notice becomes 45 from
/// 2026-04-01 (made up): a notice arriving 2026-03-01 ends the contract 30 days later,
/// 2026-03-31; one arriving 2026-04-12, 45 days later, 2026-05-27 (民法 第140条: the day
/// of arrival is not counted).
#[test]
fn a_dated_param_is_read_on_the_day_judged() {
    let dir = common::rules_copy();
    common::edit(
        dir.path(),
        "ruleset.yaml",
        "  notice_days: 30\n",
        "  notice_days: { dated: { 2022-09-01: 30, 2026-04-01: 45 } }\n",
    );
    let rules = RuleSet::load(dir.path()).unwrap();
    let effective = |arrived: &str| {
        notice_arriving(&rules, arrived).requests[0].values["effective_date"].as_text()
    };
    assert_eq!(effective("2026-03-01"), "2026-03-31");
    assert_eq!(effective("2026-04-12"), "2026-05-27");

    // Each value from a revision's day, the first from the first revision's, of one kind.
    for (dated, says) in [
        (
            "{ dated: { 2022-09-01: 30, 2026-04-02: 45 } }",
            "`2026-04-02` is not a revision's day",
        ),
        (
            "{ dated: { 2026-04-01: 45 } }",
            "give the value from the first revision's day (2022-09-01) on",
        ),
        (
            "{ dated: { 2022-09-01: 30, 2026-04-01: \"45\" } }",
            "a param keeps one kind of value on every day",
        ),
    ] {
        let text = fs::read_to_string(dir.path().join("ruleset.yaml")).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("  notice_days:"))
            .unwrap();
        fs::write(
            dir.path().join("ruleset.yaml"),
            text.replace(line, &format!("  notice_days: {dated}")),
        )
        .unwrap();
        let refused = refusal(dir.path());
        assert!(refused.contains(says), "{dated}: {refused}");
        assert!(refused.contains("ruleset.yaml:"), "placed: {refused}");
    }
}

/// A reported value declared `date?` may be left without one (`()`), and is written
/// `null`; declared `date`, the same rule is refused by `check` at its expression.
#[test]
fn an_optional_value_is_written_null_and_a_required_one_is_checked() {
    let dir = common::rules_copy();
    common::edit(
        dir.path(),
        "ruleset.yaml",
        "values:\n",
        "values:\n  requested_day: date?\n",
    );
    fs::write(
        dir.path().join("art-11-2-requested.yaml"),
        r#"article: "11の2"
title: { ja: 指定日, en: The day asked for }
paragraphs: [契約者は、解除の効力が生じる日を指定することができます。]
rules:
  - id: art11-2-requested-day
    ref: "11の2"
    in_force: { from: 2022-09-01 }
    applies_to: [terminate]
    values:
      requested_day: if request.requested_end == () { () } else { request.requested_end }
"#,
    )
    .unwrap();
    let rules = RuleSet::load(dir.path()).unwrap();
    let ruling = |case: &str| {
        let case = yakkan::Case::from_str(&rules, case, Some("case.json")).unwrap();
        yakkan::evaluate(&rules, &case).unwrap().requests[0].values["requested_day"].clone()
    };
    assert!(
        matches!(ruling(common::CASE), yakkan::ruling::Value::Null),
        "no day asked for: null"
    );
    let asked = common::CASE.replace(
        "\"notice_arrived\": \"2026-04-12\"",
        "\"notice_arrived\": \"2026-04-12\", \"requested_end\": \"2026-06-30\"",
    );
    assert_eq!(ruling(&asked).as_text(), "2026-06-30");

    common::edit(
        dir.path(),
        "ruleset.yaml",
        "requested_day: date?",
        "requested_day: date",
    );
    let refused = refusal(dir.path());
    assert!(
        refused.contains("art-11-2-requested.yaml:") && refused.contains("but date is expected"),
        "{refused}"
    );
}

/// A message shows one entry of a map param (`{params.items.remote_connect}`) and a
/// dated param's value on the day judged; an entry the map lacks is refused.
#[test]
fn a_message_shows_a_map_entry_and_a_dated_value_on_its_day() {
    let dir = common::rules_copy();
    common::edit(
        dir.path(),
        "ruleset.yaml",
        "  notice_days: 30\n",
        "  notice_days: { dated: { 2022-09-01: 30, 2026-04-01: 45 } }\n",
    );
    fs::write(
        dir.path().join("art-11-2-notice.yaml"),
        r#"article: "11の2"
title: { ja: 通知期間, en: Notice period }
paragraphs: [解除の通知は、所定の日数前までに行うものとします。]
rules:
  - id: art11-2-notice-days
    ref: "11の2"
    in_force: { from: 2022-09-01 }
    applies_to: [terminate]
    outcome: info
    message:
      ja: 通知期間は {params.notice_days} 日です(品目 {params.items.remote_connect})。
      en: The notice period is {params.notice_days} days (item {params.items.remote_connect}).
"#,
    )
    .unwrap();
    let rules = RuleSet::load(dir.path()).unwrap();
    let message = |arrived: &str| {
        let ruling = notice_arriving(&rules, arrived);
        let finding = ruling.requests[0]
            .findings
            .iter()
            .find(|f| f.rule == "art11-2-notice-days")
            .unwrap()
            .clone();
        finding.message.en
    };
    assert_eq!(
        message("2026-03-01"),
        "The notice period is 30 days (item type_a)."
    );
    assert_eq!(
        message("2026-04-12"),
        "The notice period is 45 days (item type_a)."
    );
    common::edit(
        dir.path(),
        "art-11-2-notice.yaml",
        "(item {params.items.remote_connect})",
        "(item {params.items.web_gateway})",
    );
    let refused = refusal(dir.path());
    assert!(
        refused.contains("`{params.items.web_gateway}` names no declared value or param"),
        "{refused}"
    );
}

/// An article's text is kept by revision: a finding's rule version quotes the paragraph
/// as it read from the version's first day, and the rulebook's revision page shows the
/// 新旧対照表, the old text beside the new with the changes marked, a paragraph inserted
/// and one deleted.
#[test]
fn texts_by_revision_are_quoted_on_their_day_and_compared_in_the_rulebook() {
    let dir = common::rules_copy();
    fs::write(
        dir.path().join("art-11-2-notices.yaml"),
        r#"article: "11の2"
title: { ja: 通知の方法, en: How notices are given }
paragraphs:
  - dated:
      2022-09-01: 契約者は、書面により通知するものとします。
      2026-04-01: 契約者は、書面又は電子メールにより通知するものとします。
  - dated:
      2022-09-01: 当社は、通知の到達を確認します。
      2026-04-01: null
  - dated:
      2026-04-01: 当社は、通知の受領を電子メールで知らせます。
rules:
  - id: art11-2-1-how
    ref: "11の2.1"
    in_force: { from: 2022-09-01, until: 2026-03-31 }
    applies_to: [terminate]
    outcome: info
    message: { ja: 書面により通知します。, en: Notices are given in writing. }
  - id: art11-2-1-how
    ref: "11の2.1"
    in_force: { from: 2026-04-01 }
    applies_to: [terminate]
    outcome: info
    message: { ja: 書面又は電子メールにより通知します。, en: Notices are given in writing or by email. }
"#,
    )
    .unwrap();
    let rules = RuleSet::load(dir.path()).unwrap();
    let versions: Vec<&yakkan::ruleset::Rule> = rules
        .rules
        .iter()
        .filter(|r| r.id == "art11-2-1-how")
        .collect();
    assert_eq!(
        rules.cited_text(versions[0]),
        "契約者は、書面により通知するものとします。"
    );
    assert_eq!(
        rules.cited_text(versions[1]),
        "契約者は、書面又は電子メールにより通知するものとします。"
    );
    let part = rules.part_of(versions[0]);
    let day = |d: &str| yakkan::calendar::parse_date(d).unwrap();
    assert_eq!(
        part.text_on(1, day("2026-03-31")),
        Some("当社は、通知の到達を確認します。")
    );
    assert_eq!(part.text_on(1, day("2026-04-01")), None, "deleted");
    assert_eq!(part.text_on(2, day("2026-03-31")), None, "not yet inserted");

    let cases = yakkan::corpus::case_files(&[project().join("examples")]).unwrap();
    let book = yakkan::book::Book::build(&rules, &cases, None);
    let (_, page) = book
        .pages
        .iter()
        .find(|(name, _)| name == "revision-2026-04-01.html")
        .expect("the revision's page");
    assert!(page.contains("新旧対照表"), "no comparison table");
    assert!(
        page.contains("書面<ins>又は電子メール</ins>により"),
        "the change is not marked"
    );
    assert!(
        page.contains("(削除)") && page.contains("(新設)"),
        "deleted and inserted"
    );
    assert!(
        page.contains("art11-2-1-how"),
        "the rule citing the paragraph"
    );

    // A text changes only on a revision's day.
    common::edit(
        dir.path(),
        "art-11-2-notices.yaml",
        "      2026-04-01: null",
        "      2026-04-02: null",
    );
    let refused = refusal(dir.path());
    assert!(
        refused.contains("2026-04-02 is not a revision's day"),
        "{refused}"
    );
}

/// A rule reading a value that a rule split at a revision computes needs no split of its
/// own: the versions cover its days together. Where they stop, `check` names the day
/// and says to split the reader there.
#[test]
fn a_reader_spans_the_versions_of_what_it_reads_and_check_names_the_day_to_split() {
    let dir = common::rules_copy();
    common::edit(
        dir.path(),
        "ruleset.yaml",
        "values:\n",
        "values:\n  channel: text\n",
    );
    let file = r#"article: "11の2"
title: { ja: 通知の方法, en: How notices are given }
paragraphs: [契約者は、当社所定の方法により通知するものとします。]
rules:
  - id: art11-2-channel
    ref: "11の2"
    in_force: { from: 2022-09-01, until: 2026-03-31 }
    applies_to: [terminate]
    values: { channel: "\"書面\"" }
  - id: art11-2-channel
    ref: "11の2"
    in_force: { from: 2026-04-01 }
    applies_to: [terminate]
    values: { channel: "\"書面又は電子メール\"" }
  - id: art11-2-channel-said
    ref: "11の2"
    in_force: { from: 2022-09-01 }
    applies_to: [terminate]
    outcome: info
    message: { ja: "{channel}により通知します。", en: "Notice by {channel}." }
    require: values.channel != ""
"#;
    fs::write(dir.path().join("art-11-2-channel.yaml"), file).unwrap();
    let rules = RuleSet::load(dir.path()).unwrap();
    let case = yakkan::Case::from_str(&rules, common::CASE, Some("case.json")).unwrap();
    let ruling = yakkan::evaluate(&rules, &case).unwrap();
    assert_eq!(
        ruling.requests[0].values["channel"].as_text(),
        "書面又は電子メール"
    );

    // Without the version from 2026-04-01, the reader is refused, told where to split.
    let cut = file.replace(
        "  - id: art11-2-channel\n    ref: \"11の2\"\n    in_force: { from: 2026-04-01 }\n    applies_to: [terminate]\n    values: { channel: \"\\\"書面又は電子メール\\\"\" }\n",
        "",
    );
    assert_ne!(cut, file);
    fs::write(dir.path().join("art-11-2-channel.yaml"), cut).unwrap();
    let refused = refusal(dir.path());
    assert!(
        refused.contains(
            "which no earlier rule computes for `terminate` from 2026-04-01 on: split this rule there"
        ),
        "{refused}"
    );
}
