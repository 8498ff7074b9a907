//! The engine is generic: the words of the bundled terms live in `rules/`, never in
//! `src/`. Each rule set declares its own vocabulary in its `model.yaml`, so a revision
//! or a second service ships as data. Unit tests and documentation examples may name the
//! bundled terms; the code may not.

use std::fs;
use std::path::{Path, PathBuf};

/// Words only the bundled terms use: kinds, options, request types, fields and values.
const TERMS_WORDS: &[&str] = &[
    "web_gateway",
    "web_sandbox",
    "dedicated_ip",
    "firewall_type",
    "private_connect",
    "remote_connect",
    "new_contract",
    "change_accounts",
    "add_option",
    "stop_option",
    "outage_credit",
    "general_terms_28",
    "sandbox_continuation",
    "notice_arrived",
    "requested_end",
    "known_at",
    "restored_at",
    "claimed_on",
    "billing_start",
    "effective_date",
    "early_termination_fee",
    "minimum_period_end",
    "claim_deadline",
    "outage_units",
    "options_held",
    "accounts_on",
    "policy_decided",
    "settings_disclosed",
];

fn sources(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The lines of a source file that are code or its docs, without unit tests (after
/// `#[cfg(test)]`) and doc-example code blocks.
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    let mut lines = Vec::new();
    let mut in_example = false;
    for (number, line) in text.lines().enumerate() {
        if line.trim_start() == "#[cfg(test)]" {
            break;
        }
        let doc = line.trim_start();
        if doc.starts_with("//!") || doc.starts_with("///") {
            if doc.contains("```") {
                in_example = !in_example;
                continue;
            }
            if in_example {
                continue;
            }
        }
        lines.push((number + 1, line));
    }
    lines
}

#[test]
fn src_names_no_word_of_the_bundled_terms() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    // The layers and the engine (`core/`) alike.
    sources(&root.join("src"), &mut files);
    sources(&root.join("core/src"), &mut files);
    assert!(files.len() > 20, "the sources were not found");
    let mut found = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        for (number, line) in code_lines(&text) {
            for word in TERMS_WORDS.iter().filter(|w| line.contains(*w)) {
                let shown = file.strip_prefix(root).unwrap_or(file).display();
                found.push(format!("{shown}:{number}: `{word}`: {}", line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the terms' words belong in rules/ (model.yaml), not in src/ or core/src/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_word_where_it_stands() {
    let text = "fn a() {}\n/// ```\n/// web_gateway\n/// ```\nlet x = \"stop_option\";\n#[cfg(test)]\nweb_sandbox";
    let lines = code_lines(text);
    assert!(
        lines
            .iter()
            .any(|(n, l)| *n == 5 && l.contains("stop_option"))
    );
    assert!(
        !lines
            .iter()
            .any(|(_, l)| l.contains("web_gateway") || l.contains("web_sandbox"))
    );
}

#[test]
fn the_bundled_model_declares_the_words_the_engine_does_not() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = fs::read_to_string(root.join("rules/iij-secure-access/model.yaml")).unwrap();
    for word in [
        "new_contract",
        "stop_option",
        "outage_credit",
        "general_terms_28",
        "sandbox_continuation_declared",
    ] {
        assert!(model.contains(word), "model.yaml does not declare `{word}`");
    }
}
