//! Many cases at once, on every core, in input order: JSON Lines for the command line and
//! arrays for the HTTP service. One bad case yields an error for that case alone.
//! [`stream_lines`] holds only a bounded window of lines in memory, whatever the input's
//! length.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read, Write};
use std::num::NonZeroUsize;
use std::sync::mpsc::{self, TryRecvError};
use std::sync::{Condvar, Mutex};
use std::thread;

use serde::Serialize;

use crate::case::{Case, CaseLimits};
use crate::error::EvalError;
use crate::eval::evaluate;
use crate::ruleset::RuleSet;
use crate::ruling::Ruling;

/// A scoped thread with yakkan's stack ([`crate::THREAD_STACK`]), not the platform's
/// default: it evaluates cases.
fn spawn_in<'scope, T: Send + 'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    work: impl FnOnce() -> T + Send + 'scope,
) -> thread::ScopedJoinHandle<'scope, T> {
    thread::Builder::new()
        .stack_size(crate::THREAD_STACK)
        .spawn_scoped(scope, work)
        // As `Scope::spawn` does: a thread that cannot start is the machine's failure.
        .expect("a thread starts")
}

/// Evaluates each document (a case as JSON or YAML) with `threads` workers (all cores
/// when `None`); `name` names document `i` in error messages. Results keep the order.
pub fn evaluate_all(
    rules: &RuleSet,
    documents: &[&str],
    name: impl Fn(usize) -> String + Sync,
    threads: Option<NonZeroUsize>,
    limits: &CaseLimits,
) -> Vec<Result<Ruling, EvalError>> {
    in_parallel(documents, threads, |i, text| {
        evaluate_text(rules, text, &name(i), limits)
    })
}

/// `work(i, item)` for every item, with `threads` workers (all cores when `None`), each
/// taking a contiguous share; the results keep the items' order.
pub fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    threads: Option<NonZeroUsize>,
    work: impl Fn(usize, &T) -> R + Sync,
) -> Vec<R> {
    let workers = threads
        .or_else(|| thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get)
        .min(items.len().max(1));
    let chunk = items.len().div_ceil(workers).max(1);
    let work = &work;
    thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(part, share)| {
                spawn_in(scope, move || {
                    share
                        .iter()
                        .enumerate()
                        .map(|(i, item)| work(part * chunk + i, item))
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

fn evaluate_text(
    rules: &RuleSet,
    text: &str,
    name: &str,
    limits: &CaseLimits,
) -> Result<Ruling, EvalError> {
    let case =
        crate::expect::from_str_with(rules, text, Some(name), limits).map_err(EvalError::Case)?;
    evaluate_case(rules, &case)
}

/// Evaluates a case, and refuses a ruling whose dates run off the calendar (past 9999-12-31, before 0001-01-01) (see
/// [`Ruling::date_out_of_range`]) as an input error.
pub fn evaluate_case(rules: &RuleSet, case: &Case) -> Result<Ruling, EvalError> {
    evaluate(rules, case).and_then(|ruling| in_range(case, ruling))
}

/// The ruling, unless one of its dates has no `YYYY-MM-DD` form.
pub fn in_range(case: &Case, ruling: Ruling) -> Result<Ruling, EvalError> {
    match ruling.date_out_of_range() {
        None => Ok(ruling),
        Some((path, text)) => {
            // The request or contract whose dates led there, where the case has it.
            let place = path.split('.').next().unwrap_or_default();
            let field = path.rsplit('.').next().unwrap_or_default();
            Err(EvalError::Case(case.source.error(
                place,
                format!(
                    "the case's dates lead off the calendar (`{field}` would be {text}); \
                     only dates from 0001-01-01 to 9999-12-31 are written"
                ),
            )))
        }
    }
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
    let name = |i: usize| format!("line {}", numbers[i]);
    let results = evaluate_all(rules, &lines, name, threads, &CaseLimits::default());
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

/// What [`stream_lines`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamSummary {
    /// Cases ruled.
    pub ruled: usize,
    /// Lines that were unreadable cases (exit code 2).
    pub input_errors: usize,
    /// Lines on which a rule failed (exit code 3).
    pub rule_errors: usize,
}

/// Lines in flight per worker: enough to keep every worker busy while the writer waits
/// for the oldest line, few enough that memory stays bounded by the window, not the input.
const WINDOW_PER_WORKER: usize = 16;

/// Reads JSON Lines from `input` and writes one line per non-blank input line to
/// `output`, in input order, as each becomes ready: the ruling, or `{"line": N,
/// "error": …}`. At most a window of lines (a few per worker) is held at once, so memory
/// does not grow with the input; a line longer than `limits.max_bytes` is an error line
/// and is never held whole. `report` sees each error line's message as it is written.
/// An error writing `output` (a closed pipe) stops the run and is returned.
pub fn stream_lines<R: Read + Send, W: Write>(
    rules: &RuleSet,
    input: R,
    mut output: W,
    threads: Option<NonZeroUsize>,
    limits: &CaseLimits,
    mut report: impl FnMut(&LineResult),
) -> io::Result<StreamSummary> {
    let workers = threads
        .or_else(|| thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let window = workers * WINDOW_PER_WORKER;
    // How many lines the writer has written; the reader stays within `window` of it.
    let written = (Mutex::new(0usize), Condvar::new());
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (jobs_in, jobs_out) = mpsc::sync_channel::<(usize, usize, Result<String, String>)>(window);
    let jobs_out = Mutex::new(jobs_out);
    let (done_in, done_out) = mpsc::channel::<(usize, LineResult)>();
    let mut summary = StreamSummary::default();
    thread::scope(|scope| -> io::Result<()> {
        let (written, stop, jobs_out) = (&written, &stop, &jobs_out);
        spawn_in(scope, move || {
            let mut reader = io::BufReader::new(input);
            let mut sequence = 0;
            let mut number = 0;
            loop {
                number += 1;
                let line = match read_line(&mut reader, limits.max_bytes) {
                    Ok(None) => break,
                    Ok(Some(Line::Text(text))) if text.trim().is_empty() => continue,
                    Ok(Some(line)) => line,
                    Err(error) => Line::Unreadable(format!("cannot read the input: {error}")),
                };
                let (lock, turn) = written;
                let mut done = lock.lock().expect("not poisoned");
                while sequence >= *done + window && !stop.load(std::sync::atomic::Ordering::Relaxed)
                {
                    done = turn.wait(done).expect("not poisoned");
                }
                drop(done);
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let job = match line {
                    Line::Text(text) => Ok(text),
                    Line::Unreadable(why) => Err(why),
                };
                if jobs_in.send((sequence, number, job)).is_err() {
                    break;
                }
                sequence += 1;
            }
        });
        for _ in 0..workers {
            let done_in = done_in.clone();
            spawn_in(scope, move || {
                loop {
                    let job = jobs_out.lock().expect("not poisoned").recv();
                    let Ok((sequence, line, text)) = job else {
                        break;
                    };
                    let result = match text {
                        Ok(text) => {
                            let name = format!("line {line}");
                            let case =
                                crate::expect::from_str_with(rules, &text, Some(&name), limits)
                                    .map_err(EvalError::Case);
                            line_result(line, case.and_then(|case| evaluate_case(rules, &case)))
                        }
                        Err(message) => LineResult::Error {
                            line,
                            input: true,
                            message: format!("line {line}: {message}"),
                        },
                    };
                    if done_in.send((sequence, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_in);
        let mut pending = BTreeMap::new();
        let mut next = 0;
        let outcome = (|| -> io::Result<()> {
            loop {
                let (sequence, result) = match done_out.try_recv() {
                    Ok(done) => done,
                    Err(TryRecvError::Empty) => {
                        // Nothing more ready: what is written so far goes out now.
                        output.flush()?;
                        match done_out.recv() {
                            Ok(done) => done,
                            Err(_) => break,
                        }
                    }
                    Err(TryRecvError::Disconnected) => break,
                };
                pending.insert(sequence, result);
                while let Some(result) = pending.remove(&next) {
                    match &result {
                        LineResult::Ruling(_) => summary.ruled += 1,
                        LineResult::Error { input: true, .. } => summary.input_errors += 1,
                        LineResult::Error { .. } => summary.rule_errors += 1,
                    }
                    if matches!(result, LineResult::Error { .. }) {
                        report(&result);
                    }
                    let mut text = result.to_json_line();
                    text.push('\n');
                    output.write_all(text.as_bytes())?;
                    next += 1;
                    let (lock, turn) = written;
                    *lock.lock().expect("not poisoned") = next;
                    turn.notify_all();
                }
            }
            output.flush()
        })();
        if outcome.is_err() {
            // Stop the reader and let the workers drain: nothing more can be written.
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            written.1.notify_all();
            drop(done_out);
        }
        outcome
    })?;
    Ok(summary)
}

fn line_result(line: usize, result: Result<Ruling, EvalError>) -> LineResult {
    match result {
        Ok(ruling) => LineResult::Ruling(Box::new(ruling)),
        Err(error) => LineResult::Error {
            line,
            input: matches!(error, EvalError::Case(_)),
            message: error.to_string(),
        },
    }
}

enum Line {
    Text(String),
    /// Too long, or not UTF-8: the reason.
    Unreadable(String),
}

/// The next line without its end, reading at most `max` bytes of it into memory.
fn read_line(reader: &mut impl BufRead, max: usize) -> io::Result<Option<Line>> {
    let mut bytes = Vec::new();
    let read = reader
        .by_ref()
        .take(max as u64 + 1)
        .read_until(b'\n', &mut bytes)?;
    if read == 0 {
        return Ok(None);
    }
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    } else if bytes.len() > max {
        // Skip the rest of the line without keeping it.
        let mut skipped = bytes.len();
        loop {
            let buffer = reader.fill_buf()?;
            if buffer.is_empty() {
                break;
            }
            match buffer.iter().position(|&b| b == b'\n') {
                Some(at) => {
                    skipped += at;
                    reader.consume(at + 1);
                    break;
                }
                None => {
                    let n = buffer.len();
                    skipped += n;
                    reader.consume(n);
                }
            }
        }
        return Ok(Some(Line::Unreadable(format!(
            "the line is {skipped} bytes or more; at most {max} are read (limit max_bytes)"
        ))));
    }
    Ok(Some(match crate::yaml::document_text(bytes) {
        Ok(text) => Line::Text(text),
        Err(error) => Line::Unreadable(format!("the line is {error}")),
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Serves `lines` lines, one a read at most, counting the lines handed out.
    struct Lines {
        left: usize,
        served: Arc<AtomicUsize>,
    }

    impl Read for Lines {
        fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
            if self.left == 0 {
                return Ok(0);
            }
            // A line every reader can tell is not a case, so the test is quick.
            let line = format!("{{\"as_of\": \"2026-05-01\", \"n\": {}}}\n", self.left);
            let n = line.len().min(buffer.len());
            buffer[..n].copy_from_slice(&line.as_bytes()[..n]);
            if n == line.len() {
                self.left -= 1;
                self.served.fetch_add(1, Ordering::Relaxed);
            }
            Ok(n)
        }
    }

    /// Records, at each output line, how far the input had run ahead of the output.
    struct Lag {
        written: usize,
        served: Arc<AtomicUsize>,
        most: usize,
        numbers: Vec<usize>,
    }

    impl Write for Lag {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            for line in String::from_utf8_lossy(bytes).lines() {
                self.written += 1;
                let ahead = self.served.load(Ordering::Relaxed) - self.written;
                self.most = self.most.max(ahead);
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                self.numbers.push(value["line"].as_u64().unwrap() as usize);
            }
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn streaming_holds_a_bounded_window_in_input_order() {
        let rules =
            RuleSet::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap();
        let served = Arc::new(AtomicUsize::new(0));
        let lines = 20_000;
        let input = Lines {
            left: lines,
            served: served.clone(),
        };
        let mut lag = Lag {
            written: 0,
            served,
            most: 0,
            numbers: Vec::new(),
        };
        let workers = NonZeroUsize::new(2);
        let summary = stream_lines(
            &rules,
            input,
            &mut lag,
            workers,
            &CaseLimits::default(),
            |_| {},
        )
        .unwrap();
        assert_eq!(summary.input_errors, lines);
        assert_eq!(lag.numbers, (1..=lines).collect::<Vec<_>>(), "input order");
        // The window, the workers' lines, and what one buffered read holds; never the input.
        let bound = 2 * WINDOW_PER_WORKER + 2 + 8192 / 30;
        assert!(
            lag.most <= bound,
            "{} lines held at once (bound {bound})",
            lag.most
        );
    }
}
