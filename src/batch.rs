//! Many cases at once: JSON Lines in, one ruling per line out, in input order, on every
//! core. One bad case yields an error line for that case and does not stop the rest.

use std::num::NonZeroUsize;
use std::thread;

use serde::Serialize;

use crate::case::Case;
use crate::eval::evaluate;
use crate::ruleset::RuleSet;
use crate::ruling::Ruling;

/// The outcome for one input line.
#[derive(Debug, Clone, PartialEq)]
pub enum LineResult {
    /// The ruling.
    Ruling(Box<Ruling>),
    /// Why the line gave none: unreadable case (`input: true`) or a failing rule.
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

/// Evaluates one case per non-empty line of `text` (JSON Lines), using `threads` workers
/// (all cores when `None`). Results keep the input order; blank lines are skipped.
pub fn evaluate_lines(
    rules: &RuleSet,
    text: &str,
    threads: Option<NonZeroUsize>,
) -> Vec<LineResult> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| (i + 1, line))
        .collect();
    let workers = threads
        .or_else(|| thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get)
        .min(lines.len().max(1));
    let chunk = lines.len().div_ceil(workers).max(1);
    thread::scope(|scope| {
        let handles: Vec<_> = lines
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|&(n, line)| evaluate_line(rules, n, line))
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

fn evaluate_line(rules: &RuleSet, line: usize, text: &str) -> LineResult {
    let name = format!("line {line}");
    let case = match Case::from_str(text, Some(&name)) {
        Ok(case) => case,
        Err(diagnostic) => {
            return LineResult::Error {
                line,
                input: true,
                message: diagnostic.to_string(),
            };
        }
    };
    match evaluate(rules, &case) {
        Ok(ruling) => LineResult::Ruling(Box::new(ruling)),
        Err(error) => LineResult::Error {
            line,
            input: matches!(error, crate::EvalError::Case(_)),
            message: error.to_string(),
        },
    }
}
