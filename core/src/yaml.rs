//! The one place that reads and writes YAML (and JSON input).
//!
//! `serde_yaml` is deprecated upstream but stable; everything that touches it lives here,
//! so a maintained serde YAML crate can replace it by changing this module alone.
//! Deserialization errors carry the field path (`requests[2].date`) and, through
//! [`Locator`], the line and column of that field even where serde loses them.

use std::collections::HashMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::error::Diagnostic;

pub use crate::error::Position;

/// The byte order mark some editors write at the start of a UTF-8 file. YAML allows it;
/// it is no part of the document, so readers drop it rather than refuse the first key.
pub const BYTE_ORDER_MARK: char = '\u{feff}';

/// A document's text without a leading [`BYTE_ORDER_MARK`].
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix(BYTE_ORDER_MARK).unwrap_or(text)
}

/// As [`without_bom`], for a text owned: copied only when there is a mark to drop.
pub fn owned_without_bom(text: String) -> String {
    match text.strip_prefix(BYTE_ORDER_MARK) {
        Some(rest) => rest.to_owned(),
        None => text,
    }
}

/// Bytes that are not UTF-8, at the first byte that is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not UTF-8 at line {}, column {} (byte {byte})", .position.line, .position.column)]
pub struct NotUtf8 {
    /// The first byte that is not UTF-8, from 1.
    pub byte: usize,
    /// Its line and column, counting the characters before it on its line.
    pub position: Position,
}

/// A document's bytes (a file, an HTTP body, a line) as text: UTF-8, its byte order mark
/// dropped, or where it first is not UTF-8. The one way every reader turns bytes to text.
pub fn document_text(bytes: Vec<u8>) -> Result<String, NotUtf8> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(owned_without_bom(text)),
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let before = &error.as_bytes()[..at];
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            // Valid up to `at`, so the line's text before the byte is whole characters.
            let column = String::from_utf8_lossy(&before[line_start..])
                .chars()
                .count()
                + 1;
            Err(NotUtf8 {
                byte: at + 1,
                position: Position {
                    line: before.iter().filter(|&&b| b == b'\n').count() + 1,
                    column,
                },
            })
        }
    }
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

/// A file's field positions, indexed on first use: a rule set that loads cleanly and
/// never fails at run time never pays for the index (it is an eighth of a load).
#[derive(Debug, Default)]
pub struct LazyLocator {
    text: String,
    index: std::sync::OnceLock<Locator>,
}

impl LazyLocator {
    /// The positions of `text`, indexed when first asked for.
    pub fn new(text: &str) -> Self {
        LazyLocator {
            text: text.to_owned(),
            index: std::sync::OnceLock::new(),
        }
    }

    /// The index.
    pub fn get(&self) -> &Locator {
        self.index.get_or_init(|| Locator::new(&self.text))
    }
}

/// Writes a file's positions as its text, and reads them back indexed on first use.
pub(crate) mod locator_text {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::LazyLocator;

    pub fn serialize<S: Serializer>(file: &Arc<LazyLocator>, s: S) -> Result<S::Ok, S::Error> {
        file.text.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<LazyLocator>, D::Error> {
        Ok(Arc::new(LazyLocator::new(&String::deserialize(d)?)))
    }
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

/// How far an input document may go before any parser reads it (see [`screen`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Bytes of text.
    pub max_bytes: usize,
    /// Nesting of collections (mappings, sequences, JSON objects and arrays).
    pub max_depth: usize,
}

/// Refuses an input document that could make a parser work out of proportion to what a
/// case needs, before serde sees it: a text over `max_bytes`, nesting deeper than
/// `max_depth` (YAML parsers slow down with depth), and in YAML anchors and aliases
/// (an alias repeats a node, so a small text could stand for a huge case) and numbers
/// that a float cannot hold exactly (`49.99999999999999999` would be read as 50).
pub fn screen(
    text: &str,
    syntax: Syntax,
    file: Option<&str>,
    bounds: Bounds,
) -> Result<(), Diagnostic> {
    let refuse = |path: &str, at: Option<Position>, message: String| {
        Err(Diagnostic::new(file, path, message).at(at))
    };
    if text.len() > bounds.max_bytes {
        return refuse(
            "",
            None,
            format!(
                "the document is {} bytes; at most {} are read (limit max_bytes)",
                text.len(),
                bounds.max_bytes
            ),
        );
    }
    if let Some(at) = too_deep(text, bounds.max_depth) {
        return refuse(
            "",
            Some(at),
            format!(
                "the document nests deeper than {} levels (limit max_depth)",
                bounds.max_depth
            ),
        );
    }
    if syntax == Syntax::Yaml
        && let Some((path, at, message)) = yaml_hazard(text)
    {
        return refuse(&path, Some(at), message);
    }
    Ok(())
}

/// Where nesting first passes `max`, by a single pass over the characters that no YAML
/// or JSON parser needs to see first. It counts flow brackets outside quotes and
/// comments, block indentation levels and compact `- `/`? ` entries; it may count a
/// level more than a parser would, never fewer, so it refuses early rather than late.
fn too_deep(text: &str, max: usize) -> Option<Position> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    // Inside a quoted scalar that spans lines: the closing quote.
    let mut quote: Option<char> = None;
    // Inside a block scalar (`|`, `>`): the indentation of the line that opened it.
    let mut block_scalar: Option<usize> = None;
    for (number, line) in text.lines().enumerate() {
        let at = |column: usize| Position {
            line: number + 1,
            column: column + 1,
        };
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(opener) = block_scalar {
            if line.trim().is_empty() || indent > opener {
                continue;
            }
            block_scalar = None;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        let mut depth_here = 0;
        if quote.is_none() && flow == 0 {
            let rest = line.trim_start();
            if rest.is_empty() || rest.starts_with('#') {
                continue;
            }
            while indents.last().is_some_and(|&top| top > indent) {
                indents.pop();
            }
            if indents.last().is_none_or(|&top| top < indent) {
                indents.push(indent);
            }
            i = chars.len() - rest.chars().count();
            // Compact entries: `- - x` and `? ? x` open a level each.
            while i < chars.len()
                && matches!(chars[i], '-' | '?')
                && chars.get(i + 1).is_none_or(|c| *c == ' ')
            {
                depth_here += 1;
                i = (i + 2).min(chars.len());
            }
            if indents.len() + depth_here > max {
                return Some(at(i.min(chars.len())));
            }
        }
        let mut previous = if i == 0 { ' ' } else { chars[i - 1] };
        while i < chars.len() {
            let c = chars[i];
            match quote {
                Some('"') if c == '\\' => i += 1,
                Some(close) if c == close => {
                    // `''` inside single quotes is an escaped quote.
                    if close == '\'' && chars.get(i + 1) == Some(&'\'') {
                        i += 1;
                    } else {
                        quote = None;
                    }
                }
                Some(_) => {}
                None => {
                    let token_start = matches!(previous, ' ' | '\t' | '[' | '{' | ',' | ':');
                    match c {
                        '"' | '\'' if token_start => quote = Some(c),
                        '#' if matches!(previous, ' ' | '\t') || i == 0 => break,
                        '[' | '{' => {
                            flow += 1;
                            if indents.len() + depth_here + flow > max {
                                return Some(at(i));
                            }
                        }
                        ']' | '}' => flow = flow.saturating_sub(1),
                        '|' | '>' if flow == 0 && token_start => {
                            let tail = &line[line
                                .len()
                                .min(line.char_indices().nth(i).map_or(line.len(), |(b, _)| b))..];
                            let header = tail.split('#').next().unwrap_or("").trim_end();
                            if header[1..]
                                .chars()
                                .all(|h| h.is_ascii_digit() || h == '-' || h == '+')
                            {
                                block_scalar = Some(indent);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            previous = c;
            i += 1;
        }
    }
    None
}

/// The first anchor, alias or inexact float of a YAML text, with its path and place.
/// Run after the depth check, so the event parser it uses sees bounded nesting.
fn yaml_hazard(text: &str) -> Option<(String, Position, String)> {
    let mut parser = Parser::new_from_str(text);
    let mut paths = LocatorBuilder::default();
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(next) => next,
            // A syntax error is serde's to report, unless it could hide an alias.
            Err(error) if text.contains(['&', '*']) => {
                let at = error.marker();
                return Some((
                    String::new(),
                    Position {
                        line: at.line(),
                        column: at.col() + 1,
                    },
                    format!("the document is not valid YAML: {}", error.info()),
                ));
            }
            Err(_) => return None,
        };
        let at = Position {
            line: mark.line(),
            column: mark.col() + 1,
        };
        let hazard = match &event {
            Event::StreamEnd => return None,
            Event::Alias(_) => {
                Some("an alias (`*name`) is not read in a case: write the value out".to_owned())
            }
            Event::Scalar(_, _, anchor, _)
            | Event::SequenceStart(anchor, _)
            | Event::MappingStart(anchor, _)
                if *anchor > 0 =>
            {
                Some("an anchor (`&name`) is not read in a case: write each value out".to_owned())
            }
            Event::Scalar(value, TScalarStyle::Plain, _, None) => inexact_float(value),
            _ => None,
        };
        // The path of a mapping key is its mapping's; values get their own.
        let before = paths.stack.last().map(|(path, _)| path.clone());
        paths.on_event(event, mark);
        if let Some(message) = hazard {
            let path = paths
                .starts
                .iter()
                .find(|(_, start)| start.at == at)
                .map(|(path, _)| path.clone())
                .or(before)
                .unwrap_or_default();
            return Some((path, at, message));
        }
    }
}

/// Why a plain YAML scalar that serde_yaml would read as a float is not the number
/// written, if it is not: its shortest round-trip text must have the written value.
fn inexact_float(text: &str) -> Option<String> {
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    let is_int = unsigned.parse::<i128>().is_ok() || unsigned.parse::<u128>().is_ok();
    let float = unsigned.parse::<f64>().ok().filter(|f| f.is_finite());
    let float = float.filter(|_| !is_int)?;
    let written = crate::de::exact_decimal(unsigned, true);
    let read = crate::de::exact_decimal(&float.to_string(), true);
    match (written, read) {
        (Ok(written), Ok(read)) if written == read => None,
        // The field's type is not known here: the advice fits an amount and a count alike.
        _ => Some(format!(
            "`{text}` cannot be read exactly as a number (YAML reads it as a float): write an amount as a string (\"{text}\"), a count as a whole number"
        )),
    }
}

/// Deserializes a document, naming file, field path, line and column on error.
/// Where a key missing from the entry at `entry` is written after all: in the lines of
/// the entry or right after it, at another column than the entry's fields — dedented
/// out of it, indented into a field beneath, or made a new list entry with its own `- `.
/// The place, and in words what happened and how to fix it.
pub(crate) fn misplaced(text: &str, entry: Position, key: &str) -> Option<(Position, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let first = lines.get(entry.line.checked_sub(1)?)?;
    let item_indent = first.len() - first.trim_start_matches(' ').len();
    // The entry's fields start after its `- `, or else on the lines beneath its key.
    let field_column = match first.trim_start_matches(' ').strip_prefix("- ") {
        Some(body) => first.len() - body.trim_start_matches(' ').len() + 1,
        None => {
            let next = lines[entry.line..]
                .iter()
                .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))?;
            next.len() - next.trim_start_matches(' ').len() + 1
        }
    };
    for (i, line) in lines.iter().enumerate().skip(entry.line) {
        let trimmed = line.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let body = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        let column = line[..line.len() - body.len()].chars().count() + 1;
        let is_key = body
            .strip_prefix(key)
            .is_some_and(|rest| rest == ":" || rest.starts_with(": ") || rest.starts_with(":\t"));
        let new_entry = trimmed.starts_with("- ") && indent <= item_indent;
        if is_key && (column != field_column || new_entry) {
            let (how, fix) = if new_entry {
                (
                    "as a new entry of the list, after",
                    "remove its `- ` and start it at",
                )
            } else if column < field_column {
                ("dedented out of", "indent it to")
            } else {
                ("indented into a field of", "dedent it to")
            };
            let why = format!(
                "`{key}:` is written here, {how} the entry at line {} (whose fields start at column {field_column}); {fix} column {field_column} to make it the entry's",
                entry.line
            );
            return Some((
                Position {
                    line: i + 1,
                    column,
                },
                why,
            ));
        }
        if indent <= item_indent {
            return None;
        }
    }
    None
}

/// Reads a document of `syntax` into `T`; an error names the field, line and column.
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
                    let mut message = strip_path(&strip_location(&inner.to_string()), &path);
                    let mut location = location;
                    // A missing field written after all, but dedented or indented out of
                    // its entry: said where it is.
                    let missing = message
                        .strip_prefix("missing field `")
                        .and_then(|rest| rest.split_once('`'))
                        .map(|(key, _)| key.to_owned());
                    if let (Some(key), Some(entry)) = (missing, location)
                        && let Some((at, why)) = misplaced(text, entry, &key)
                    {
                        message = format!("{message}: {why}");
                        location = Some(at);
                    }
                    (path, message, location)
                }
            }
        }
        Syntax::Json => {
            let mut deserializer = serde_json::Deserializer::from_str(text);
            // Text after the document is an error, not ignored: it may be a second case.
            match serde_path_to_error::deserialize(&mut deserializer) {
                Ok(value) => match deserializer.end() {
                    Ok(()) => return Ok(value),
                    Err(error) => (
                        String::new(),
                        format!(
                            "text after the document: {}",
                            strip_location(&error.to_string())
                        ),
                        // serde_json counts a place before a line's first character as 0.
                        Some(Position {
                            line: error.line(),
                            column: error.column().max(1),
                        }),
                    ),
                },
                Err(error) => {
                    let path = error.path().to_string();
                    let inner = error.into_inner();
                    let location = (inner.line() > 0).then(|| Position {
                        line: inner.line(),
                        column: inner.column().max(1),
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

/// The `id` of each rule under `rules:` of a rule file's text, in order; `None` when the
/// text does not parse.
pub(crate) fn rule_ids(text: &str) -> Option<Vec<Option<String>>> {
    let document: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
    let rules = document.get("rules")?.as_sequence()?;
    Some(
        rules
            .iter()
            .map(|rule| rule.get("id")?.as_str().map(str::to_owned))
            .collect(),
    )
}

/// Writes a value as YAML.
pub fn to_string<T: Serialize>(value: &T) -> String {
    serde_yaml::to_string(value).expect("rulings serialize to YAML")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_not_utf8_are_placed_by_line_and_character() {
        let error = document_text(b"a: 1\nb: \xe3\x81\x82\xff\n".to_vec()).unwrap_err();
        // The 3-byte あ is one column; the bad byte is the 12th of the text.
        assert_eq!(error.position, Position { line: 2, column: 5 });
        assert_eq!(error.byte, 12);
        assert_eq!(error.to_string(), "not UTF-8 at line 2, column 5 (byte 12)");
        assert_eq!(document_text(b"\xef\xbb\xbfa: 1".to_vec()).unwrap(), "a: 1");
    }

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
