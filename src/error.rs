//! Error types. Every error names where it comes from: a file, a field path, a line and
//! column, or the rule that failed.

use std::fmt;

use thiserror::Error;

use crate::yaml::Position;

/// A problem with an input document (a case or a rule file) at a known place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, when the document came from one.
    pub file: Option<String>,
    /// The field path, e.g. `requests[2].notice_arrived`; empty for the whole document.
    pub path: String,
    /// Line and column of the field, when known.
    pub position: Option<Position>,
    /// What is wrong.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic with no position yet.
    pub fn new(file: Option<&str>, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.map(str::to_owned),
            path: path.into(),
            position: None,
            message: message.into(),
        }
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
        f.write_str(&self.message)
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
    /// A rule failed while running: a type error, or a sandbox limit reached.
    #[error("rule {rule} ({file}): {message}")]
    Rule {
        /// The rule's id.
        rule: String,
        /// The rule file that defines it.
        file: String,
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
