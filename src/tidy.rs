//! `yakkan fmt`: the canonical layout of rule and case files, kept to what can be changed
//! without touching a comment, a key's place or a value.
//!
//! The formatter works line by line and never reorders anything. Outside block scalars
//! (`|`, `>`), whose lines are text and stay as written, it:
//!
//! - writes line ends as `\n` (no `\r`, no byte-order mark) and ends the file with one;
//! - removes trailing spaces, and blank lines at the start and end of the file;
//! - keeps at most one blank line in a row;
//! - writes one space after a key's colon (`key:   value` → `key: value`);
//! - writes a space after the `#` of a comment line (`#note` → `# note`);
//! - indents a block sequence under its key (`key:` then `- item` at the key's column
//!   becomes `  - item`), as the bundled files are written.
//!
//! Every result is proved before it is used: the formatted text must read as the same
//! YAML documents as the original, with as many comment lines. If it does not (a layout
//! the line rules misjudge), only the line ends are normalised, and if even that changes
//! the meaning, the file is left as it is and reported.

/// What formatting one file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tidied {
    /// The text, formatted (the same text when it already was).
    Text(String),
    /// The text could not be formatted without changing its meaning, or is not YAML.
    Refused(String),
}

/// Formats the YAML `text` (see the module's documentation).
pub fn tidy(text: &str) -> Tidied {
    let original = match documents(text) {
        Ok(documents) => documents,
        Err(error) => return Tidied::Refused(format!("not readable YAML: {error}")),
    };
    let ends = line_ends(text);
    for candidate in [layout(&ends), ends.clone()] {
        if documents(&candidate).is_ok_and(|d| d == original)
            && comment_lines(&candidate) == comment_lines(&ends)
        {
            return Tidied::Text(candidate);
        }
    }
    Tidied::Refused("formatting would change its meaning; left as written".to_owned())
}

/// Every document of a YAML stream, as values.
fn documents(text: &str) -> Result<Vec<serde_yaml::Value>, serde_yaml::Error> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(text)
        .map(serde_yaml::Value::deserialize)
        .collect()
}

/// The comment lines, by their text after the `#`, spaces aside.
fn comment_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.trim_start().strip_prefix('#'))
        .map(|rest| rest.trim().to_owned())
        .collect()
}

/// `\n` line ends, no byte-order mark, one final `\n`.
fn line_ends(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = text.replace("\r\n", "\n");
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Whether `line` opens a block scalar: its value (before any comment) is `|` or `>`
/// with optional chomping and indentation indicators.
fn opens_block(line: &str) -> bool {
    let code = match line.find(" #") {
        Some(at) => &line[..at],
        None => line,
    };
    let code = code.trim_end();
    let Some(last) = code.rsplit([' ', '\t']).next() else {
        return false;
    };
    let mut chars = last.chars();
    let indicator = matches!(chars.next(), Some('|' | '>'));
    let rest: String = chars.collect();
    let indicators_only = rest.len() <= 2
        && rest.chars().all(|c| matches!(c, '+' | '-' | '1'..='9'))
        && rest.chars().filter(|c| matches!(c, '+' | '-')).count() <= 1;
    let preceded = code.len() > last.len() && {
        let before = code[..code.len() - last.len()].trim_end();
        before.ends_with(':') || before.ends_with('-') || before.ends_with("---")
    };
    indicator && indicators_only && (preceded || code.trim_start() == last)
}

/// The line rules, on text with `\n` line ends.
fn layout(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    // Pass 1: each line, and whether it is block-scalar text (left as written).
    let mut marked: Vec<(String, bool)> = Vec::with_capacity(lines.len());
    let mut block: Option<usize> = None;
    for line in &lines {
        if let Some(parent) = block {
            if line.trim().is_empty() || indent_of(line) > parent {
                marked.push(((*line).to_owned(), true));
                continue;
            }
            block = None;
        }
        let mut line = line.trim_end().to_owned();
        if opens_block(&line) {
            block = Some(indent_of(&line));
        }
        line = one_space_after_key(&line);
        line = space_after_hash(&line);
        marked.push((line, false));
    }
    // Pass 2: block sequences under their keys.
    indent_sequences(&mut marked);
    // Pass 3: blank lines.
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    let mut started = false;
    for (line, in_block) in &marked {
        if !in_block && line.is_empty() {
            blank_run += 1;
            continue;
        }
        if started && blank_run > 0 {
            out.push('\n');
        }
        blank_run = 0;
        started = true;
        out.push_str(line);
        out.push('\n');
    }
    // Blank lines of a block scalar at the end of the file.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// `key:   value` → `key: value`, for a plain key at the start of a line (after a
/// sequence's `- `). Other lines are left as written.
fn one_space_after_key(line: &str) -> String {
    let indent = indent_of(line);
    let mut rest = &line[indent..];
    let mut head = " ".repeat(indent);
    if let Some(after) = rest.strip_prefix("- ") {
        head.push_str("- ");
        rest = after;
    }
    let key_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    if key_len == 0 {
        return line.to_owned();
    }
    let Some(after) = rest[key_len..].strip_prefix(':') else {
        return line.to_owned();
    };
    let value = after.trim_start_matches(' ');
    if after.len() - value.len() < 2 || value.is_empty() || value.starts_with('#') {
        return line.to_owned();
    }
    format!("{head}{}: {value}", &rest[..key_len])
}

/// `#note` → `# note` on a comment line (not `#!`, `##` or `#-` rules).
fn space_after_hash(line: &str) -> String {
    let indent = indent_of(line);
    match line[indent..].strip_prefix('#') {
        Some(rest)
            if rest
                .chars()
                .next()
                .is_some_and(|c| !c.is_whitespace() && !matches!(c, '#' | '!' | '-' | '=')) =>
        {
            format!("{}# {rest}", &line[..indent])
        }
        _ => line.to_owned(),
    }
}

/// A `key:` line followed by `- ` items at the key's own column: the items, and all they
/// hold, move two columns right.
fn indent_sequences(lines: &mut [(String, bool)]) {
    let mut i = 0;
    while i < lines.len() {
        let (line, in_block) = &lines[i];
        let column = indent_of(line);
        let is_key = !in_block
            && !line.trim_start().starts_with('#')
            && line.trim_end().ends_with(':')
            && !line.trim_start().starts_with("- ");
        let next = (i + 1..lines.len()).find(|&j| !lines[j].0.trim().is_empty());
        let indentless = is_key
            && next.is_some_and(|j| {
                let (n, b) = &lines[j];
                !b && indent_of(n) == column && n[column..].starts_with("- ")
            });
        if !indentless {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < lines.len() {
            let (n, b) = &lines[j];
            let blank = n.trim().is_empty();
            let inside = *b
                || blank
                || indent_of(n) > column
                || (indent_of(n) == column && n[column..].starts_with("- "))
                || (indent_of(n) == column && n[column..].starts_with('#'));
            if !inside {
                break;
            }
            j += 1;
        }
        // Blank lines (and comments at the key's column) that end the run stay where they are.
        while j > i + 1 && {
            let n = &lines[j - 1].0;
            n.trim().is_empty() || (indent_of(n) == column && n[column..].starts_with('#'))
        } {
            j -= 1;
        }
        for line in &mut lines[i + 1..j] {
            if !line.0.is_empty() {
                line.0.insert_str(0, "  ");
            }
        }
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tidied(text: &str) -> String {
        match tidy(text) {
            Tidied::Text(text) => text,
            Tidied::Refused(why) => panic!("{why}"),
        }
    }

    #[test]
    fn normalises_whitespace_and_keeps_comments_and_order() {
        let text = "\u{feff}# head\r\nb:   2   \r\n\r\n\r\n#note\r\na: [1, 2]\r\nlist:\r\n- x: 1\r\n  y: 2\r\n- z\r\nafter: 1";
        assert_eq!(
            tidied(text),
            "# head\nb: 2\n\n# note\na: [1, 2]\nlist:\n  - x: 1\n    y: 2\n  - z\nafter: 1\n"
        );
    }

    #[test]
    fn leaves_block_scalars_as_written() {
        let text = "text: |\n  line one   \n\n\n  #not a comment\nnext:  1\n";
        assert_eq!(
            tidied(text),
            "text: |\n  line one   \n\n\n  #not a comment\nnext: 1\n"
        );
    }

    #[test]
    fn is_idempotent() {
        let text = "a:\n- b: |\n    x\n  c:    3\n\n\n\nd: 1   # c\n";
        let once = tidied(text);
        assert_eq!(tidied(&once), once);
    }

    #[test]
    fn refuses_what_is_not_yaml() {
        assert!(matches!(tidy("a: [1,\n"), Tidied::Refused(_)));
    }
}
