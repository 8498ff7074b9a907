//! Error types. Every error names where it comes from: a file, a field path, a line and
//! column, or the rule that failed.

use std::fmt;

use thiserror::Error;

/// Where a value starts in a source text (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A problem with an input document (a case or a rule file) at a known place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, when the document came from one.
    pub file: Option<String>,
    /// The field path, e.g. `requests[2].date`; empty for the whole document.
    pub path: String,
    /// Line and column of the field, when known.
    pub position: Option<Position>,
    /// What is wrong.
    pub message: String,
    /// A hint and the rule the problem lies in, when known (see [`Diagnostic::hint`]);
    /// boxed, so that a `Result` carrying a diagnostic stays small.
    pub notes: Option<Box<Notes>>,
}

/// What a diagnostic may add to its message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notes {
    /// How to fix it, in plain words, for the common mistakes (see `src/hint.rs`).
    pub hint: Option<String>,
    /// The id of the rule the problem lies in, for a rule file.
    pub rule: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with no position yet.
    pub fn new(file: Option<&str>, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.map(str::to_owned),
            path: path.into(),
            position: None,
            message: message.into(),
            notes: None,
        }
    }

    /// The same diagnostic naming the rule it lies in (the loader's, when it makes it).
    pub fn in_rule(mut self, rule: Option<String>) -> Self {
        if rule.is_some() {
            self.notes.get_or_insert_default().rule = rule;
        }
        self
    }

    /// The same diagnostic with a hint.
    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        if hint.is_some() {
            self.notes.get_or_insert_default().hint = hint;
        }
        self
    }

    /// How to fix the problem, in plain words, for the common mistakes.
    pub fn hint(&self) -> Option<&str> {
        self.notes.as_ref()?.hint.as_deref()
    }

    /// The id of the rule the problem lies in.
    pub fn rule(&self) -> Option<&str> {
        self.notes.as_ref()?.rule.as_deref()
    }

    /// One JSON object for editors and CI annotations: `file`, `line`, `column`, `rule`,
    /// `field`, `message`, `hint` (absent ones are `null`).
    pub fn to_json(&self) -> String {
        /// The fields in the order a reader expects them.
        #[derive(serde::Serialize)]
        struct Json<'a> {
            file: Option<&'a str>,
            line: Option<usize>,
            column: Option<usize>,
            rule: Option<&'a str>,
            field: Option<&'a str>,
            message: &'a str,
            hint: Option<&'a str>,
        }
        let json = Json {
            file: self.file.as_deref(),
            line: self.position.map(|at| at.line),
            column: self.position.map(|at| at.column),
            rule: self.rule(),
            field: (!self.path.is_empty()).then_some(self.path.as_str()),
            message: &self.message,
            hint: self.hint(),
        };
        serde_json::to_string(&json).expect("diagnostics serialize")
    }

    /// The same diagnostic placed at `position`.
    pub fn at(mut self, position: Option<Position>) -> Self {
        self.position = position.or(self.position);
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut place = self.file.clone().unwrap_or_default();
        if let Some(at) = self.position {
            if !place.is_empty() {
                place.push(':');
            }
            place.push_str(&format!("{}:{}", at.line, at.column));
        }
        if !place.is_empty() {
            write!(f, "{place}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = self.hint() {
            write!(f, "\n    hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Why a rule set could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    /// A file or folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The rule files have errors; every one found is listed.
    #[error("{}", join_lines(.0))]
    Invalid(Vec<Diagnostic>),
}

/// Why a case could not be evaluated.
#[derive(Debug, Error)]
pub enum EvalError {
    /// The case is malformed or refers to something it does not have (exit code 2).
    #[error("{0}")]
    Case(Diagnostic),
    /// A rule failed while running on the case's data (an overflow, a division by zero).
    #[error("rule {rule} ({file}): {message}")]
    Rule {
        /// The rule's id.
        rule: String,
        /// The rule file that defines it.
        file: String,
        /// The line and column in that file of the expression that failed, when one did.
        position: Option<Position>,
        /// What went wrong.
        message: String,
    },
}

fn join_lines(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
