//! A ruling as text for a lawyer: each decision, the findings with the cited article's
//! words, and the computed values.

use std::fmt::Write;

use crate::ruleset::RuleSet;
use crate::ruling::{Consideration, Decision, Explanation, Finding, Outcome, Ruling, Value};

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
        considered(&mut out, &request.considered, rules);
    }
    for contract in &ruling.contracts {
        let _ = writeln!(out, "\ncontract {}", contract.id);
        for (name, value) in &contract.values {
            let _ = writeln!(out, "    {name} = {}", plain(value));
        }
        findings(&mut out, &contract.findings, rules);
        considered(&mut out, &contract.considered, rules);
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
            // Explaining, the cited paragraph is quoted whole.
            let limit = if finding.explain.is_some() {
                usize::MAX
            } else {
                160
            };
            let excerpt = excerpt(rules.cited_text(rule), limit);
            if !excerpt.is_empty() {
                let _ = writeln!(out, "      「{excerpt}」");
            }
        }
        if let Some(explain) = &finding.explain {
            why(out, explain, rules, "      ");
        }
    }
}

/// The rules that applied but made no finding, and why (`--explain=all`).
fn considered(out: &mut String, considered: &[Consideration], rules: &RuleSet) {
    if considered.is_empty() {
        return;
    }
    let _ = writeln!(out, "  considered, no finding 所見なし:");
    for rule in considered {
        let result = match rule.result.as_str() {
            "not_applicable" => "not applicable 適用なし",
            "held" => "requirement met 要件充足",
            _ => "computed values only 計算のみ",
        };
        let _ = writeln!(out, "  - {} [{}]: {result}", rule.cite, rule.rule);
        why(out, &rule.explain, rules, "      ");
    }
}

/// Why a rule spoke or not: its conditions with what they gave, its computations, and
/// every value and fact it read, each fact with its meaning in the terms' words.
fn why(out: &mut String, explain: &Explanation, rules: &RuleSet, indent: &str) {
    let verdict = |result: Option<bool>| match result {
        Some(true) => " → held",
        Some(false) => " → did not hold",
        None => "",
    };
    if let Some(when) = &explain.when {
        let _ = writeln!(
            out,
            "{indent}when: {}{}",
            one_line(when),
            verdict(explain.when_result)
        );
    }
    for (name, expression) in &explain.values {
        let _ = writeln!(out, "{indent}computes {name} = {}", one_line(expression));
    }
    if let Some(require) = &explain.require {
        let _ = writeln!(
            out,
            "{indent}require: {}{}",
            one_line(require),
            verdict(explain.require_result)
        );
    }
    if !explain.read.is_empty() {
        let _ = writeln!(out, "{indent}read:");
        for (place, value) in &explain.read {
            let _ = writeln!(out, "{indent}  {place} = {}", plain(value));
        }
    }
    if !explain.facts.is_empty() {
        // Innermost first, so each line builds on the ones above it.
        let _ = writeln!(out, "{indent}facts used 使用した事実:");
        for used in &explain.facts {
            let _ = writeln!(out, "{indent}  {} = {}", used.call, plain(&used.value));
            if let Some(fact) = rules.facts.iter().find(|f| f.name == used.fact) {
                let _ = writeln!(
                    out,
                    "{indent}      {} ({})",
                    one_line(&fact.description.ja),
                    fact.reference
                );
                let _ = writeln!(out, "{indent}      {}", one_line(&fact.description.en));
            }
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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
