//! Ruling snapshots as `tests/snapshots.rs` writes them (with `insta`), so that
//! `yakkan test --accept` can accept a changed ruling without cargo: the same file name
//! under `snapshots/`, the same header, and the same YAML, byte for byte. The digest is
//! redacted, so a snapshot changes only when a ruling does.
//!
//! The YAML is insta's: its emitter (vendored from yaml-rust) writes block mappings and
//! sequences indented by two, `~` for null, and double-quotes a string only when it could
//! read as something else. This module writes the same for a ruling.

use std::fmt::Write;
use std::path::Path;

use crate::ruling::Ruling;

/// The folders whose cases `tests/snapshots.rs` snapshots, and the snapshot kind of each.
pub const SNAPSHOTTED: &[(&str, &str)] = &[("tests/cases", "case"), ("examples", "example")];

/// The snapshot file name of the case at `file` (a path relative to the project, with
/// `/`), if `tests/snapshots.rs` snapshots it: `case@art01__unknown-kind-rejected.yaml.snap`
/// for `tests/cases/art01/unknown-kind-rejected.yaml`.
pub fn file_name(file: &str) -> Option<String> {
    let file = file.replace('\\', "/");
    let file = file.strip_prefix("./").unwrap_or(&file);
    SNAPSHOTTED.iter().find_map(|(folder, kind)| {
        let rest = file.strip_prefix(folder)?.strip_prefix('/')?;
        let is_yaml = Path::new(rest).extension().is_some_and(|e| e == "yaml");
        is_yaml.then(|| format!("{kind}@{}.snap", rest.replace('/', "__")))
    })
}

/// The snapshot file's whole text for the ruling of the case at `file`.
pub fn text(ruling: &Ruling, file: &str) -> String {
    let mut value = serde_yaml::to_value(ruling).expect("a ruling serializes");
    if let Some(set) = value
        .get_mut("ruleset")
        .and_then(serde_yaml::Value::as_mapping_mut)
    {
        set.insert("digest".into(), "[digest]".into());
    }
    let mut out = format!(
        "---\nsource: tests/snapshots.rs\ninput_file: {}\n---\n",
        file.replace('\\', "/")
    );
    emit_node(&mut out, &value, -1);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// What follows a snapshot file's header: the YAML insta compares.
pub fn body(text: &str) -> &str {
    text.strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(text, |(_, body)| body)
}

/// Writes the snapshot of the ruling of the case at `file` (relative to the project) into
/// `dir`, keeping the header of a file already there. Returns the file's name and whether
/// its YAML changed, or `None` when `tests/snapshots.rs` does not snapshot the case.
pub fn accept(dir: &Path, ruling: &Ruling, file: &str) -> std::io::Result<Option<(String, bool)>> {
    let Some(name) = file_name(file) else {
        return Ok(None);
    };
    let path = dir.join(&name);
    let new = text(ruling, file);
    let old = std::fs::read_to_string(&path).ok();
    if old.as_deref().is_some_and(|old| body(old) == body(&new)) {
        return Ok(Some((name, false)));
    }
    let written = match &old {
        Some(old) if old.starts_with("---\n") && old.len() > body(old).len() => {
            let header = &old[..old.len() - body(old).len()];
            format!("{header}{}", body(&new))
        }
        _ => new,
    };
    std::fs::create_dir_all(dir)?;
    std::fs::write(&path, written)?;
    Ok(Some((name, true)))
}

fn indent(out: &mut String, level: isize) {
    for _ in 0..level.max(0) * 2 {
        out.push(' ');
    }
}

fn emit_node(out: &mut String, node: &serde_yaml::Value, level: isize) {
    use serde_yaml::Value;
    match node {
        Value::Sequence(items) => emit_sequence(out, items, level),
        Value::Mapping(map) => emit_mapping(out, map, level),
        Value::String(text) => emit_string(out, text),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Null => out.push('~'),
        Value::Tagged(tagged) => emit_node(out, &tagged.value, level),
    }
}

fn emit_sequence(out: &mut String, items: &[serde_yaml::Value], level: isize) {
    if items.is_empty() {
        out.push_str("[]");
        return;
    }
    let level = level + 1;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push('\n');
            indent(out, level);
        }
        out.push('-');
        emit_value(out, true, item, level);
    }
}

fn emit_mapping(out: &mut String, map: &serde_yaml::Mapping, level: isize) {
    if map.is_empty() {
        out.push_str("{}");
        return;
    }
    let level = level + 1;
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push('\n');
            indent(out, level);
        }
        emit_node(out, key, level);
        out.push(':');
        emit_value(out, false, value, level);
    }
}

fn emit_value(out: &mut String, inline: bool, value: &serde_yaml::Value, level: isize) {
    use serde_yaml::Value;
    let empty = match value {
        Value::Sequence(items) => Some(items.is_empty()),
        Value::Mapping(map) => Some(map.is_empty()),
        _ => None,
    };
    match empty {
        Some(empty) if !inline && !empty => {
            out.push('\n');
            indent(out, level + 1);
        }
        _ => out.push(' '),
    }
    emit_node(out, value, level);
}

fn emit_string(out: &mut String, text: &str) {
    if !needs_quotes(text) {
        out.push_str(text);
        return;
    }
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// insta's rule: quote what a YAML reader would take for another type or syntax.
fn needs_quotes(text: &str) -> bool {
    const WORDS: &[&str] = &[
        "yes", "Yes", "YES", "no", "No", "NO", "True", "TRUE", "true", "False", "FALSE", "false",
        "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
    ];
    text.is_empty()
        || text.starts_with(' ')
        || text.ends_with(' ')
        || text.starts_with(['&', '*', '?', '|', '-', '<', '>', '=', '!', '%', '@'])
        || text.contains(|c: char| {
            matches!(c, ':' | '{' | '}' | '[' | ']' | ',' | '#' | '`' | '"' | '\'' | '\\'
                | '\0'..='\x06' | '\t' | '\n' | '\r' | '\x0e'..='\x1a' | '\x1c'..='\x1f')
        })
        || WORDS.contains(&text)
        || text.starts_with('.')
        || text.starts_with("0x")
        || text.parse::<i64>().is_ok()
        || text.parse::<f64>().is_ok()
}
