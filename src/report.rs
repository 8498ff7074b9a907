//! A ruling as text for a lawyer: each decision, the findings with the cited article's
//! words, and the computed values.

use std::fmt::Write;

use crate::ruleset::RuleSet;
use crate::ruling::{Decision, Finding, Outcome, Ruling, Value};

/// Renders a ruling as readable text, quoting the cited paragraphs from `rules`.
pub fn text(ruling: &Ruling, rules: &RuleSet) -> String {
    let mut out = String::new();
    let stamp = &ruling.ruleset;
    let _ = writeln!(out, "{} — 判断日 as of {}", rules.title.ja, ruling.as_of);
    let _ = writeln!(
        out,
        "rule set {} (revision in force {}), {}",
        stamp.name, stamp.in_force, stamp.digest
    );
    for request in &ruling.requests {
        let decision = match request.decision {
            Decision::Accepted => "ACCEPTED 承諾",
            Decision::Rejected => "REJECTED 不承諾",
        };
        let _ = writeln!(out, "\n[{}] {}: {decision}", request.index, request.kind);
        for (name, value) in &request.values {
            let _ = writeln!(out, "    {name} = {}", plain(value));
        }
        findings(&mut out, &request.findings, rules);
    }
    for contract in &ruling.contracts {
        let _ = writeln!(out, "\ncontract {}", contract.id);
        for (name, value) in &contract.values {
            let _ = writeln!(out, "    {name} = {}", plain(value));
        }
        findings(&mut out, &contract.findings, rules);
    }
    out
}

fn findings(out: &mut String, findings: &[Finding], rules: &RuleSet) {
    for finding in findings {
        let outcome = match finding.outcome {
            Outcome::Reject => "reject",
            Outcome::Warn => "warn",
            Outcome::Info => "info",
        };
        let reconstructed = if finding.reconstructed {
            " (reconstructed text)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  - {outcome} {} [{}]{reconstructed}",
            finding.cite, finding.rule
        );
        let _ = writeln!(out, "      {}", finding.message.ja);
        let _ = writeln!(out, "      {}", finding.message.en);
        if let Some(rule) = rules.rules.iter().find(|r| r.id == finding.rule) {
            let excerpt = excerpt(rules.cited_text(rule), 160);
            if !excerpt.is_empty() {
                let _ = writeln!(out, "      「{excerpt}」");
            }
        }
    }
}

fn plain(value: &Value) -> String {
    value.as_text()
}

/// The first `limit` characters of a paragraph, on one line.
fn excerpt(text: &str, limit: usize) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= limit {
        return line;
    }
    let cut: String = line.chars().take(limit).collect();
    format!("{cut}…")
}
