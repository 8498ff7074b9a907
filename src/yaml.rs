//! The one place that reads and writes YAML (and JSON input).
//!
//! `serde_yaml` is deprecated upstream but stable; everything that touches it lives here,
//! so a maintained serde YAML crate can replace it by changing this module alone.
//! Deserialization errors carry the field path (`requests[2].notice_arrived`) and, through
//! [`Locator`], the line and column of that field even where serde loses them.

use std::collections::HashMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::error::Diagnostic;

/// Where a value starts in a source text (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// Where a scalar's text begins, and how to map positions inside it back to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalarStart {
    at: Position,
    /// Block scalars (`|`, `>`): `at` is their first character, not the indicator.
    block: bool,
    /// Quoted scalars start one column after the quote.
    quoted: bool,
}

/// An index from field paths (`rules[3].when`) to the position of their values.
#[derive(Debug, Default, Clone)]
pub struct Locator {
    starts: HashMap<String, ScalarStart>,
}

impl Locator {
    /// Indexes every value of a YAML (or JSON) text. A text that does not parse yields an
    /// empty index: its parse error is reported by the deserializer instead.
    pub fn new(text: &str) -> Self {
        let mut builder = LocatorBuilder::default();
        let mut parser = Parser::new_from_str(text);
        // A scan error leaves the index partial, which only costs positions.
        let _ = parser.load(&mut builder, false);
        Locator {
            starts: builder.starts,
        }
    }

    /// The position of the value at `path`, or of its nearest indexed ancestor.
    pub fn find(&self, path: &str) -> Option<Position> {
        let mut path = path;
        loop {
            if let Some(start) = self.starts.get(path) {
                return Some(start.at);
            }
            path = parent_path(path)?;
        }
    }

    /// The file position of `line`/`column` (1-based) inside the scalar at `path`.
    /// Used to place an error of an expression in its rule file.
    pub fn inside(&self, path: &str, line: usize, column: usize) -> Option<Position> {
        Some(self.starts.get(path)?.inside(line, column))
    }

    /// Where the scalar at `path` starts, to place positions inside it later.
    pub fn start(&self, path: &str) -> Option<ScalarStart> {
        self.starts.get(path).copied()
    }
}

impl ScalarStart {
    /// The file position of `line`/`column` (1-based) inside this scalar.
    pub fn inside(&self, line: usize, column: usize) -> Position {
        if self.block {
            // The marker is the text's first character; every line shares its indent.
            return Position {
                line: self.at.line + line.saturating_sub(1),
                column: self.at.column + column.saturating_sub(1),
            };
        }
        let first_column = self.at.column + usize::from(self.quoted);
        if line <= 1 {
            Position {
                line: self.at.line,
                column: first_column + column.saturating_sub(1),
            }
        } else {
            Position {
                line: self.at.line + line - 1,
                column,
            }
        }
    }
}

fn parent_path(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

#[derive(Debug)]
enum Frame {
    Map {
        key: Option<String>,
        expect_key: bool,
    },
    Seq {
        index: usize,
    },
}

#[derive(Debug, Default)]
struct LocatorBuilder {
    stack: Vec<(String, Frame)>,
    starts: HashMap<String, ScalarStart>,
}

impl LocatorBuilder {
    /// The path of the value now starting, advancing the parent's key/index state.
    /// `None` while a mapping key (not a value) is being read.
    fn next_value_path(&mut self, scalar: Option<&str>) -> Option<String> {
        let Some((parent, frame)) = self.stack.last_mut() else {
            return Some(String::new());
        };
        match frame {
            Frame::Map { key, expect_key } => {
                if *expect_key {
                    *key = scalar.map(str::to_owned);
                    *expect_key = false;
                    None
                } else {
                    *expect_key = true;
                    let key = key.take().unwrap_or_default();
                    Some(if parent.is_empty() {
                        key
                    } else {
                        format!("{parent}.{key}")
                    })
                }
            }
            Frame::Seq { index } => {
                let path = format!("{parent}[{index}]");
                *index += 1;
                Some(path)
            }
        }
    }

    fn record(&mut self, path: String, mark: Marker, block: bool, quoted: bool) {
        let at = Position {
            line: mark.line(),
            column: mark.col() + 1,
        };
        self.starts
            .entry(path)
            .or_insert(ScalarStart { at, block, quoted });
    }
}

impl MarkedEventReceiver for LocatorBuilder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(text, style, ..) => {
                if let Some(path) = self.next_value_path(Some(&text)) {
                    let block = matches!(style, TScalarStyle::Literal | TScalarStyle::Folded);
                    let quoted = matches!(
                        style,
                        TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted
                    );
                    self.record(path, mark, block, quoted);
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                // A collection used as a mapping key has no path of its own.
                let path = self.next_value_path(None).unwrap_or_default();
                self.record(path.clone(), mark, false, false);
                let frame = if matches!(event, Event::MappingStart(..)) {
                    Frame::Map {
                        key: None,
                        expect_key: true,
                    }
                } else {
                    Frame::Seq { index: 0 }
                };
                self.stack.push((path, frame));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            Event::Alias(_) => {
                let _ = self.next_value_path(None);
            }
            _ => {}
        }
    }
}

/// The syntax of an input document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// YAML (the default).
    Yaml,
    /// JSON.
    Json,
}

impl Syntax {
    /// JSON when the file name says so or the text opens with `{` or `[`.
    pub fn detect(file: Option<&str>, text: &str) -> Syntax {
        let named_json = file.is_some_and(|name| name.ends_with(".json"));
        let looks_json = text.trim_start().starts_with(['{', '[']);
        if named_json || looks_json {
            Syntax::Json
        } else {
            Syntax::Yaml
        }
    }
}

/// Deserializes a document, naming file, field path, line and column on error.
pub fn from_str<T: DeserializeOwned>(
    text: &str,
    syntax: Syntax,
    file: Option<&str>,
) -> Result<T, Diagnostic> {
    let error = match syntax {
        Syntax::Yaml => {
            let deserializer = serde_yaml::Deserializer::from_str(text);
            match serde_path_to_error::deserialize(deserializer) {
                Ok(value) => return Ok(value),
                Err(error) => {
                    let path = error.path().to_string();
                    let inner = error.into_inner();
                    let location = inner.location().map(|at| Position {
                        line: at.line(),
                        column: at.column(),
                    });
                    let message = strip_path(&strip_location(&inner.to_string()), &path);
                    (path, message, location)
                }
            }
        }
        Syntax::Json => {
            let mut deserializer = serde_json::Deserializer::from_str(text);
            match serde_path_to_error::deserialize(&mut deserializer) {
                Ok(value) => return Ok(value),
                Err(error) => {
                    let path = error.path().to_string();
                    let inner = error.into_inner();
                    let location = (inner.line() > 0).then(|| Position {
                        line: inner.line(),
                        column: inner.column(),
                    });
                    (path, strip_location(&inner.to_string()), location)
                }
            }
        }
    };
    let (path, message, location) = error;
    // `?` marks a segment serde could not name (a syntax error): keep what it could.
    let path = match path.find('?') {
        Some(cut) => path[..cut].trim_end_matches('.').to_owned(),
        None if path == "." => String::new(),
        None => path,
    };
    // Serde loses positions inside internally tagged enums; the locator does not.
    let location = location.or_else(|| Locator::new(text).find(&path));
    let hint = crate::hint::for_message(&message);
    Err(Diagnostic {
        file: file.map(str::to_owned),
        path,
        position: location,
        message,
        notes: None,
    }
    .with_hint(hint))
}

/// Drops every ` at line N column M` that serde_yaml and serde_json put in messages (at
/// the end, and before a `, while parsing …` tail): the diagnostic has the position.
fn strip_location(message: &str) -> String {
    let mut text = message.to_owned();
    loop {
        let stripped = strip_one_location(&text);
        if stripped == text {
            return text;
        }
        text = stripped;
    }
}

fn strip_one_location(message: &str) -> String {
    let Some(at) = message.rfind(" at line ") else {
        return message.to_owned();
    };
    let rest = &message[at + " at line ".len()..];
    let digits = |text: &str| text.chars().take_while(char::is_ascii_digit).count();
    let line_len = digits(rest);
    let Some(after_line) = rest[line_len..].strip_prefix(" column ") else {
        return message.to_owned();
    };
    if line_len == 0 || digits(after_line) == 0 {
        return message.to_owned();
    }
    let tail = &after_line[digits(after_line)..];
    format!("{}{tail}", &message[..at])
}

/// Drops the `path: ` head serde_yaml puts before messages; the diagnostic names the path.
fn strip_path(message: &str, path: &str) -> String {
    match message.split_once(": ") {
        Some((head, rest)) if !head.is_empty() && path.starts_with(head) => rest.to_owned(),
        _ => message.to_owned(),
    }
}

/// The `id` of the rule at `rules[N]` that `path` lies in, read from a rule file's text.
pub(crate) fn rule_id(text: &str, path: &str) -> Option<String> {
    let index: usize = path
        .strip_prefix("rules[")?
        .split(']')
        .next()?
        .parse()
        .ok()?;
    let document: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
    document
        .get("rules")?
        .get(index)?
        .get("id")?
        .as_str()
        .map(str::to_owned)
}

/// Writes a value as YAML.
pub fn to_string<T: Serialize>(value: &T) -> String {
    serde_yaml::to_string(value).expect("rulings serialize to YAML")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
name: demo
rules:
  - id: a
    when: 'x > 1'
  - id: b
    when: |
      let y = 2;
      y > 1
list: [1, {k: v}]
";

    #[test]
    fn finds_values_by_path() {
        let locator = Locator::new(TEXT);
        assert_eq!(locator.find("name"), Some(Position { line: 1, column: 7 }));
        assert_eq!(
            locator.find("rules[1].id"),
            Some(Position { line: 5, column: 9 })
        );
        assert_eq!(
            locator.find("list[1].k"),
            Some(Position {
                line: 9,
                column: 15
            })
        );
        // An unknown child falls back to its parent.
        assert_eq!(locator.find("rules[0].nope"), locator.find("rules[0]"));
    }

    #[test]
    fn maps_expression_positions_into_the_file() {
        let locator = Locator::new(TEXT);
        // Quoted: column 11 holds the quote, so `x` is column 12.
        assert_eq!(
            locator.inside("rules[0].when", 1, 1),
            Some(Position {
                line: 4,
                column: 12
            })
        );
        // Block: the text starts on the next line, after its indentation.
        assert_eq!(
            locator.inside("rules[1].when", 2, 3),
            Some(Position { line: 8, column: 9 })
        );
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        name: String,
        items: Vec<Item>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        count: u32,
    }

    #[test]
    fn positions_leave_the_message() {
        assert_eq!(
            strip_location(
                "did not find expected '-' indicator at line 13 column 4, while parsing a block collection at line 11 column 3"
            ),
            "did not find expected '-' indicator, while parsing a block collection"
        );
        assert_eq!(
            strip_location("unknown field `x` at line 2 column 9"),
            "unknown field `x`"
        );
        assert_eq!(strip_location("seen at line one"), "seen at line one");
    }

    #[test]
    fn errors_name_path_line_and_column() {
        let text = "name: x\nitems:\n  - count: 1\n  - count: many\n";
        let error = from_str::<Doc>(text, Syntax::Yaml, Some("doc.yaml")).unwrap_err();
        assert_eq!(error.path, "items[1].count");
        assert_eq!(
            error.position,
            Some(Position {
                line: 4,
                column: 12
            })
        );
        assert!(
            error
                .to_string()
                .starts_with("doc.yaml:4:12: items[1].count: "),
            "{error}"
        );

        let json = "{\"name\": \"x\",\n \"items\": [{\"count\": 1, \"extra\": 2}]}";
        let error = from_str::<Doc>(json, Syntax::Json, None).unwrap_err();
        assert_eq!(error.path, "items[0].extra");
        assert!(
            error.message.contains("unknown field `extra`"),
            "{}",
            error.message
        );
        assert_eq!(error.position.map(|at| at.line), Some(2));
    }
}
