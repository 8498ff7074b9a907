//! The decision log: every case a service decided, with its ruling and the digest of the
//! rule set that decided it, as JSON Lines — and the replay of such a log against another
//! rule set, which reports the rulings it would change: a revision's impact on real
//! traffic.
//!
//! Writing never blocks a request: entries go through a bounded queue to a thread of their
//! own, and an entry that finds the queue full is dropped and counted. Files are bounded
//! in size and number: `decisions-NNNNNN.jsonl` rotates past `max_file_bytes`, and only the
//! newest `max_files` are kept.
//!
//! The log recovers by itself: a folder or file removed under it is created again, and a
//! folder that cannot be written is tried again at every entry and every idle tick. Each
//! entry is written whole or counted as failed, and [`DecisionLog::health`] says which
//! state the log is in (for `/healthz` and `/metrics`).

use std::fs;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::case::CaseLimits;
use crate::diff::{Report, compare};
use crate::ruleset::RuleSet;
use crate::ruling::Ruling;
use crate::yaml::Syntax;

/// Where and how much the log writes.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// The folder of the log files (created if missing).
    pub dir: PathBuf,
    /// A file is closed and the next one begun once it holds this many bytes.
    pub max_file_bytes: u64,
    /// The newest files kept; older ones are removed.
    pub max_files: usize,
    /// Entries waiting to be written; past it, new ones are dropped and counted.
    pub queue: usize,
}

impl LogConfig {
    /// 64 MiB a file, 8 files, 4096 entries waiting.
    pub fn new(dir: PathBuf) -> LogConfig {
        LogConfig {
            dir,
            max_file_bytes: 64 << 20,
            max_files: 8,
            queue: 4096,
        }
    }
}

/// One decision, as a line of the log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The rule set's name.
    pub ruleset: String,
    /// The digest of the rule set text that decided it.
    pub digest: String,
    /// `json` or `yaml`: how the case is written.
    pub syntax: String,
    /// The case as received.
    pub case: String,
    /// The day it was judged on, when the request set one (`as_of=`) over the case's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// The ruling given.
    pub ruling: Box<serde_json::value::RawValue>,
}

/// A running decision log.
pub struct DecisionLog {
    sender: Option<SyncSender<Queued>>,
    status: Arc<Status>,
    writer: Option<std::thread::JoinHandle<()>>,
}

/// What the log's thread and its callers count, shared.
#[derive(Default)]
struct Status {
    written: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    recovered: AtomicU64,
    /// Why the log cannot write now; `None` while it can.
    error: Mutex<Option<String>>,
}

impl Status {
    /// Why the log cannot write now, to read or set; a panic elsewhere does not hide it.
    fn error(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The log's state, as `/healthz` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogHealth {
    /// `ok`, or `failing` while entries cannot be written (see `error`).
    pub status: &'static str,
    /// Entries written to a file.
    pub written: u64,
    /// Entries dropped because the queue was full.
    pub dropped: u64,
    /// Entries that could not be written (the folder could not be created, say).
    pub failed: u64,
    /// Times the log found its folder or file gone, or unwritable, and wrote again.
    pub recovered: u64,
    /// Why it is failing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What the log's thread is sent: a line, or a request to write out everything queued
/// before it, synced to disk, and stop (a shutdown), acknowledged when done.
enum Queued {
    Line(String),
    Finish(SyncSender<()>),
}

impl DecisionLog {
    /// Opens the log in `config.dir`, starting a new file after any already there.
    pub fn open(config: LogConfig) -> io::Result<DecisionLog> {
        fs::create_dir_all(&config.dir)?;
        let next = log_files(&config.dir)?
            .last()
            .and_then(|(n, _)| n.checked_add(1))
            .unwrap_or(1);
        let (sender, receiver) = mpsc::sync_channel(config.queue.max(1));
        let status = Arc::new(Status::default());
        let mut writer = Writer {
            config,
            next,
            file: None,
            size: 0,
            status: status.clone(),
        };
        // The first file is opened now, so a folder that cannot be written is an error
        // at startup rather than a failing log.
        writer.open()?;
        let writer = std::thread::Builder::new()
            .name("decision-log".into())
            .spawn(move || writer.run(&receiver))?;
        Ok(DecisionLog {
            sender: Some(sender),
            status,
            writer: Some(writer),
        })
    }

    /// Queues one decision; never waits. `ruling` is the ruling's JSON as sent.
    pub fn record(
        &self,
        rules: &RuleSet,
        syntax: Syntax,
        case: &str,
        as_of: Option<chrono::NaiveDate>,
        ruling: &[u8],
    ) {
        let Some(sender) = &self.sender else { return };
        let Ok(ruling) = std::str::from_utf8(ruling) else {
            return;
        };
        // One line an entry: a ruling written with newlines (never `serve`'s) is compacted.
        let ruling = if ruling.contains('\n') {
            match serde_json::from_str::<serde_json::Value>(ruling) {
                Ok(value) => value.to_string(),
                Err(_) => return,
            }
        } else {
            ruling.to_owned()
        };
        let Ok(ruling) = serde_json::value::RawValue::from_string(ruling) else {
            return;
        };
        let entry = Entry {
            ruleset: rules.name.clone(),
            digest: rules.digest.clone(),
            syntax: match syntax {
                Syntax::Json => "json",
                Syntax::Yaml => "yaml",
            }
            .to_owned(),
            case: case.to_owned(),
            as_of: as_of.map(|day| day.to_string()),
            ruling,
        };
        let Ok(line) = serde_json::to_string(&entry) else {
            return;
        };
        match sender.try_send(Queued::Line(line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.status.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Entries dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.status.dropped.load(Ordering::Relaxed)
    }

    /// Entries written so far.
    pub fn written(&self) -> u64 {
        self.status.written.load(Ordering::Relaxed)
    }

    /// The log's state and counts.
    pub fn health(&self) -> LogHealth {
        let error = self.status.error().clone();
        let count = |n: &AtomicU64| n.load(Ordering::Relaxed);
        LogHealth {
            status: if error.is_some() { "failing" } else { "ok" },
            written: count(&self.status.written),
            dropped: count(&self.status.dropped),
            failed: count(&self.status.failed),
            recovered: count(&self.status.recovered),
            error,
        }
    }

    /// Writes every entry queued so far to the file, syncs it to disk and stops the log's
    /// thread, waiting up to `wait` (a shutdown: no decision queued before it is lost).
    /// Entries recorded afterwards are dropped and counted.
    pub fn finish(&self, wait: Duration) -> bool {
        let Some(sender) = &self.sender else {
            return true;
        };
        let (done, finished) = mpsc::sync_channel(1);
        // Behind whatever is queued: a full queue is waited on, within `wait`.
        let deadline = std::time::Instant::now() + wait;
        let mut message = Queued::Finish(done);
        loop {
            match sender.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) if std::time::Instant::now() < deadline => {
                    message = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return false,
            }
        }
        finished
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .is_ok()
    }
}

impl Drop for DecisionLog {
    /// Writes what is queued, then stops the writer.
    fn drop(&mut self) {
        self.sender.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// The log files in `dir`, oldest first, with their numbers.
fn log_files(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut files: Vec<(u64, PathBuf)> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let number = name
                .strip_prefix("decisions-")?
                .strip_suffix(".jsonl")?
                .parse()
                .ok()?;
            Some((number, entry.path()))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The log's thread: writes each entry to the current file, rotating and recovering.
struct Writer {
    config: LogConfig,
    /// The number of the next file to open.
    next: u64,
    /// The file written, and its path.
    file: Option<(PathBuf, fs::File)>,
    size: u64,
    status: Arc<Status>,
}

impl Writer {
    fn run(mut self, entries: &Receiver<Queued>) {
        loop {
            match entries.recv_timeout(Duration::from_millis(200)) {
                Ok(Queued::Line(line)) => self.write(&line),
                Ok(Queued::Finish(done)) => {
                    self.sync();
                    let _ = done.send(());
                    return;
                }
                // Idle: a folder removed, or one that could not be written, is looked at.
                Err(RecvTimeoutError::Timeout) => {
                    self.ready();
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.sync();
    }

    /// Writes one entry whole (one `write` of the line), or counts it as failed.
    fn write(&mut self, line: &str) {
        if !self.ready() {
            self.status.failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let bytes = line.len() as u64 + 1;
        if self.size > 0 && self.size + bytes > self.config.max_file_bytes {
            if let Err(error) = self.open() {
                self.failing(format!("cannot begin the next log file: {error}"));
                self.status.failed.fetch_add(1, Ordering::Relaxed);
                return;
            }
            self.remove_old();
        }
        let mut text = String::with_capacity(line.len() + 1);
        text.push_str(line);
        text.push('\n');
        let Some((_, file)) = &mut self.file else {
            return;
        };
        match file.write_all(text.as_bytes()) {
            Ok(()) => {
                self.size += bytes;
                self.status.written.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                self.failing(format!("cannot write the log file: {error}"));
                self.file = None;
                self.status.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Whether there is a file to write to: the one open if it is still in the folder,
    /// else a new one in the folder, created again if it was removed.
    fn ready(&mut self) -> bool {
        if let Some((path, _)) = &self.file {
            if fs::metadata(path).is_ok() {
                return true;
            }
            self.failing(format!("{} was removed", path.display()));
            self.file = None;
        }
        match self.open() {
            Ok(()) => true,
            Err(error) => {
                self.failing(format!(
                    "cannot write to {}: {error}",
                    self.config.dir.display()
                ));
                false
            }
        }
    }

    /// Opens the next file, creating the folder if it is missing; a log that was failing
    /// says it has recovered.
    fn open(&mut self) -> io::Result<()> {
        self.sync();
        fs::create_dir_all(&self.config.dir)?;
        let path = self
            .config
            .dir
            .join(format!("decisions-{:06}.jsonl", self.next));
        let file = fs::File::create(&path)?;
        self.next += 1;
        self.size = 0;
        let mut error = self.status.error();
        if let Some(was) = error.take() {
            self.status.recovered.fetch_add(1, Ordering::Relaxed);
            #[cfg(feature = "server")]
            tracing::warn!(file = %path.display(), "the decision log writes again, after: {was}");
            #[cfg(not(feature = "server"))]
            let _ = was;
        }
        self.file = Some((path, file));
        Ok(())
    }

    fn failing(&self, why: String) {
        let mut error = self.status.error();
        // Said once as it begins to fail; `health` says it for as long as it lasts.
        #[cfg(feature = "server")]
        if error.is_none() {
            tracing::error!("the decision log cannot write: {why}");
        }
        *error = Some(why);
    }

    /// Keeps the newest `max_files`.
    fn remove_old(&self) {
        if let Ok(files) = log_files(&self.config.dir) {
            let excess = files.len().saturating_sub(self.config.max_files.max(1));
            for (_, old) in files.into_iter().take(excess) {
                let _ = fs::remove_file(old);
            }
        }
    }

    fn sync(&self) {
        if let Some((_, file)) = &self.file {
            let _ = file.sync_all();
        }
    }
}

/// Replays logged decisions against `rules`: each logged case is read against that set's
/// model and decided again, and every ruling that differs from the logged one is reported,
/// as `yakkan diff` reports a revision's impact on a corpus. `files` are log files or
/// folders of them.
pub fn replay(rules: &RuleSet, files: &[PathBuf]) -> io::Result<Report> {
    let mut report = Report::default();
    let mut logs = Vec::new();
    for path in files {
        if path.is_dir() {
            logs.extend(log_files(path)?.into_iter().map(|(_, p)| p));
        } else {
            logs.push(path.clone());
        }
    }
    for log in logs {
        let reader = io::BufReader::new(fs::File::open(&log)?);
        for (number, line) in reader.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let name = format!("{}:{}", log.display(), number + 1);
            let entry: Entry = match serde_json::from_str(&line) {
                Ok(entry) => entry,
                Err(error) => {
                    report
                        .errors
                        .push(format!("{name}: not a decision: {error}"));
                    continue;
                }
            };
            let logged = match Ruling::from_json(entry.ruling.get()) {
                Ok(ruling) => ruling,
                Err(error) => {
                    report.errors.push(format!("{name}: its ruling: {error}"));
                    continue;
                }
            };
            report.cases += 1;
            report.subjects += logged.requests.len() + logged.contracts.len();
            let syntax = if entry.syntax == "yaml" {
                Syntax::Yaml
            } else {
                Syntax::Json
            };
            let as_of = entry.as_of.as_deref().map(crate::calendar::parse_date);
            let limits = CaseLimits::default();
            let again = crate::expect::read_case(rules, &entry.case, Some(&name), syntax, &limits)
                .map_err(|d| d.to_string())
                .and_then(|mut case| {
                    if let Some(day) = as_of {
                        case.as_of = day.ok_or("its as_of is not a date")?;
                    }
                    crate::evaluate(rules, &case).map_err(|e| e.to_string())
                });
            let changes = match again {
                Ok(ruling) => compare(&name, &logged, &ruling),
                Err(error) => vec![crate::diff::Change {
                    case: name.clone(),
                    subject: "case".to_owned(),
                    differences: vec![format!("cannot be evaluated under the new rules: {error}")],
                    rules: vec!["(evaluable under the logged rules only)".to_owned()],
                    details: Vec::new(),
                }],
            };
            if !changes.is_empty() {
                report.cases_changed += 1;
            }
            report.changes.extend(changes);
        }
    }
    Ok(report)
}
