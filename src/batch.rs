//! Many cases at once, on every core, in input order: JSON Lines for the command line and
//! arrays for the HTTP service. One bad case yields an error for that case alone.

use std::num::NonZeroUsize;
use std::thread;

use serde::Serialize;

use crate::case::Case;
use crate::error::EvalError;
use crate::eval::evaluate;
use crate::ruleset::RuleSet;
use crate::ruling::Ruling;

/// Evaluates each document (a case as JSON or YAML) with `threads` workers (all cores
/// when `None`); `name` names document `i` in error messages. Results keep the order.
pub fn evaluate_all(
    rules: &RuleSet,
    documents: &[&str],
    name: impl Fn(usize) -> String + Sync,
    threads: Option<NonZeroUsize>,
) -> Vec<Result<Ruling, EvalError>> {
    let workers = threads
        .or_else(|| thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get)
        .min(documents.len().max(1));
    let chunk = documents.len().div_ceil(workers).max(1);
    let name = &name;
    thread::scope(|scope| {
        let handles: Vec<_> = documents
            .chunks(chunk)
            .enumerate()
            .map(|(part, texts)| {
                scope.spawn(move || {
                    texts
                        .iter()
                        .enumerate()
                        .map(|(i, text)| evaluate_text(rules, text, &name(part * chunk + i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("a worker does not panic"))
            .collect()
    })
}

fn evaluate_text(rules: &RuleSet, text: &str, name: &str) -> Result<Ruling, EvalError> {
    let case = Case::from_str(text, Some(name)).map_err(EvalError::Case)?;
    evaluate(rules, &case)
}

/// The outcome for one line of JSON Lines input.
#[derive(Debug, Clone, PartialEq)]
pub enum LineResult {
    /// The ruling.
    Ruling(Box<Ruling>),
    /// Why the line gave none.
    Error {
        /// 1-based line number in the input.
        line: usize,
        /// The case was unreadable (exit code 2) rather than a rule failing (3).
        input: bool,
        /// What went wrong.
        message: String,
    },
}

#[derive(Serialize)]
struct ErrorLine<'a> {
    line: usize,
    error: &'a str,
}

impl LineResult {
    /// The line as compact JSON: the ruling, or `{"line": N, "error": "…"}`.
    pub fn to_json_line(&self) -> String {
        match self {
            LineResult::Ruling(ruling) => serde_json::to_string(ruling).expect("rulings serialize"),
            LineResult::Error { line, message, .. } => serde_json::to_string(&ErrorLine {
                line: *line,
                error: message,
            })
            .expect("errors serialize"),
        }
    }
}

/// Evaluates one case per non-empty line of `text` (JSON Lines). Blank lines are skipped.
pub fn evaluate_lines(
    rules: &RuleSet,
    text: &str,
    threads: Option<NonZeroUsize>,
) -> Vec<LineResult> {
    let (numbers, lines): (Vec<usize>, Vec<&str>) = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| (i + 1, line))
        .unzip();
    let results = evaluate_all(rules, &lines, |i| format!("line {}", numbers[i]), threads);
    results
        .into_iter()
        .zip(numbers)
        .map(|(result, line)| match result {
            Ok(ruling) => LineResult::Ruling(Box::new(ruling)),
            Err(error) => LineResult::Error {
                line,
                input: matches!(error, EvalError::Case(_)),
                message: error.to_string(),
            },
        })
        .collect()
}
