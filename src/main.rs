//! The `yakkan` command: a thin layer over the library (see `yakkan --help`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use yakkan::case::CaseLimits;
use yakkan::corpus::Coverage;
use yakkan::diff::Report;
use yakkan::eval::Settings;
#[cfg(feature = "server")]
use yakkan::server;
use yakkan::{EvalError, LoadError, RuleSet, Ruling, corpus, report};
use yakkan::{batch, book, bundled, expect, schema};

/// Exit codes (docs/reference/cli.md).
const OK: u8 = 0;
const FAILED: u8 = 1;
const BAD_INPUT: u8 = 2;
/// A rule failed while evaluating (a sandbox limit, a type error in a rule).
const RULE_FAILED: u8 = 3;

/// yakkan (約款): evaluates service terms encoded as rule files.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate every rule file; print file:line:col diagnostics.
    Check {
        /// The rule set folder (default: rules/ here, else the bundled rule set).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Output format: text lines, or a JSON array with one object per diagnostic
        /// (file, line, column, rule, field, message, hint).
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// Evaluate a case and print the ruling.
    Eval {
        /// The rule set folder (default: rules/ here, else the bundled rule set).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Judge the state on this date instead of the case's `as_of`.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Add to each finding the cited text, the rule's expressions and every value and
        /// fact they read; `--explain=all` also lists the rules that applied but made no
        /// finding, and why.
        #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "findings")]
        explain: Option<Explain>,
        /// CASE holds one JSON case per line; print one ruling per line, in order, using
        /// every core (implied by a `.jsonl` file name).
        #[arg(long)]
        jsonl: bool,
        #[command(flatten)]
        limits: LimitArgs,
        /// The case file (YAML or JSON), or - for standard input.
        case: String,
    },
    /// List the rules in force on a date, with citation and title.
    Rules {
        /// The rule set folder (default: rules/ here, else the bundled rule set).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// The date (default: today, in Japan time).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Also show the file that defines each rule.
        #[arg(long)]
        at_file: bool,
    },
    /// Evaluate cases under two rule sets and report every ruling that changed; exit 1
    /// when one did.
    Diff {
        /// The rule set before the change.
        #[arg(long)]
        old: PathBuf,
        /// The rule set after the change.
        #[arg(long)]
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Case files or folders (default: tests/cases/).
        cases: Vec<PathBuf>,
    },
    /// Decide again, under another rule set, the cases a decision log recorded (`serve
    /// --decision-log`), and report every ruling that would change: a revision's impact
    /// on real traffic. Exit 1 when a ruling changes.
    Replay {
        /// The rule set to decide them by (default: rules/ here, else the bundled one).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Decision log files, or folders of them.
        #[arg(required = true)]
        logs: Vec<PathBuf>,
    },
    /// Format rule and case files (YAML) in the canonical layout, keeping comments and
    /// the order of keys.
    Fmt {
        /// Change nothing: list the files that would change, and exit 1 if any would.
        #[arg(long)]
        check: bool,
        /// Files or folders (default: rules/, tests/cases/ and examples/ here).
        paths: Vec<PathBuf>,
    },
    /// Write the rulebook: a static HTML site of the articles and the rules encoding them.
    Book {
        /// The rule set folder (default: rules/ here, else the bundled rule set).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Where to write the site (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Case files or folders to show per rule (default: tests/cases/ and examples/).
        cases: Vec<PathBuf>,
    },
    /// Print or write the JSON Schemas of cases, rulings and rule files; the case schema
    /// is the rule set's (its model declares the records and requests).
    Schema {
        /// The rule set folder (default: rules/ here, else the bundled rule set).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Write every schema into this folder (the project keeps them in schemas/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The schema to print: case, ruling, ruleset or rule-file.
        name: Option<String>,
    },
    /// Serve the evaluator over HTTP, reloading the rules when they change.
    #[cfg(feature = "server")]
    Serve {
        /// The rule set folder (default: rules/ here, else the bundled rule set).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Largest request body in bytes; larger gets 413.
        #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
        body_limit: u64,
        /// How often to check the rules folder for changes, in milliseconds (10 to 3600000).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
        watch_ms: u64,
        /// How long a changed rules folder must stay unchanged before it is loaded, in
        /// milliseconds (1 to 60000).
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=60_000))]
        settle_ms: u64,
        /// How long a client may take to send a request's headers, and then its body, in
        /// milliseconds (1 to 600000); slower gets 408 or the connection closed.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
        read_timeout_ms: u64,
        /// Evaluation requests admitted per core: waiting for a core or evaluating (1 to
        /// 4096); past it, 503. A body being received does not count.
        #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
        queue_per_core: u64,
        /// Bytes held at once by requests: bodies being received, waiting or evaluated,
        /// and answers not yet sent (1 MiB to 64 GiB, at least --body-limit); past it, 503.
        #[arg(long, default_value_t = 256 << 20, value_parser = clap::value_parser!(u64).range(1 << 20..=64 << 30))]
        held_bytes: u64,
        /// Cases in one batch (1 to 100000); more gets 413.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        max_batch: u64,
        /// Bytes of one batch's answer (64 KiB to 4 GiB, at most --held-bytes); a batch
        /// whose rulings come to more gets 413.
        #[arg(long, default_value_t = 32 << 20, value_parser = clap::value_parser!(u64).range(64 << 10..=4 << 30))]
        answer_limit: u64,
        /// Log every decision (case, ruling, rule-set digest) as JSON Lines in this folder,
        /// for `yakkan replay`; off the request path, bounded and rotated.
        #[arg(long, value_name = "DIR")]
        decision_log: Option<PathBuf>,
        /// The decision log's file size before it rotates, in bytes (1 KiB to 1 GiB).
        #[arg(long, default_value_t = 64 << 20, value_parser = clap::value_parser!(u64).range(1024..=1 << 30))]
        decision_log_bytes: u64,
        /// How many decision log files are kept (1 to 1000).
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1000))]
        decision_log_files: u64,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Run example cases against their `expect:` blocks.
    Test {
        /// The rule set folder (default: rules/ here, else the bundled rule set).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Case files or folders (default: with --rules, the set's own cases, its
        /// `cases:` folders; else tests/cases/).
        paths: Vec<PathBuf>,
        /// List every rule with the cases in which it fired and did not, and the names
        /// of the cases firing each; fail if a rule never fires.
        #[arg(long)]
        coverage: bool,
        /// Run only the cases whose path contains this text.
        #[arg(long, value_name = "SUBSTR")]
        filter: Option<String>,
        /// Accept the rulings: write each case's snapshot under --snapshots as
        /// tests/snapshots.rs writes it (for cases under tests/cases/ and examples/).
        #[arg(long)]
        accept: bool,
        /// The snapshot folder --accept writes and the run compares with.
        #[arg(long, value_name = "DIR", default_value = "snapshots")]
        snapshots: PathBuf,
        /// Run again whenever a rule file or case changes (polling), until interrupted.
        #[arg(long)]
        watch: bool,
        /// How often --watch looks for changes, in milliseconds (10 to 60000).
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..=60_000))]
        watch_ms: u64,
        /// Stop watching after this many runs (for scripts and tests).
        #[arg(long, hide = true)]
        watch_runs: Option<u64>,
    },
}

/// Bounds on one case (see docs/reliability.md); a case past one is an input error.
#[derive(Args, Clone, Copy)]
struct LimitArgs {
    /// Contracts one case may list.
    #[arg(long, default_value_t = CaseLimits::default().max_contracts as u64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_contracts: u64,
    /// Requests one case may hold.
    #[arg(long, default_value_t = CaseLimits::default().max_requests as u64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_requests: u64,
    /// Options one contract may list.
    #[arg(long, default_value_t = CaseLimits::default().max_options as u64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_options: u64,
    /// Nesting depth of a case document.
    #[arg(long, default_value_t = CaseLimits::default().max_depth as u64, value_parser = clap::value_parser!(u64).range(4..=1_000))]
    max_depth: u64,
    /// Bytes of one case document (for `serve`, `--body-limit` also bounds it).
    #[arg(long, default_value_t = CaseLimits::default().max_bytes as u64, value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    max_case_bytes: u64,
}

impl LimitArgs {
    fn limits(self) -> CaseLimits {
        CaseLimits {
            max_bytes: self.max_case_bytes as usize,
            max_depth: self.max_depth as usize,
            max_contracts: self.max_contracts as usize,
            max_requests: self.max_requests as usize,
            max_options: self.max_options as usize,
        }
    }
}

/// How much `eval --explain` says.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Explain {
    /// Why each finding was made.
    Findings,
    /// And every rule considered that made none.
    All,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Yaml,
    Text,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { rules, format } => rules_dir(rules).and_then(|dir| check(&dir, format)),
        Command::Eval {
            rules,
            as_of,
            format,
            explain,
            jsonl,
            limits,
            case,
        } => {
            let limits = limits.limits();
            load_rules(rules).and_then(|rules| {
                if jsonl || case.ends_with(".jsonl") {
                    // One JSON ruling a line, as decided: what applies to one case's
                    // output is refused rather than silently ignored.
                    let given = [
                        as_of.as_ref().map(|_| "--as-of"),
                        explain.as_ref().map(|_| "--explain"),
                        (!matches!(format, Format::Json)).then_some("--format"),
                    ];
                    let given: Vec<&str> = given.into_iter().flatten().collect();
                    if !given.is_empty() {
                        eprintln!(
                            "{} cannot be given with JSON Lines (--jsonl or a .jsonl case), which writes each ruling as one JSON line as decided; give it for one case",
                            given.join(", ")
                        );
                        return Err(BAD_INPUT);
                    }
                    eval_lines(&rules, &case, &limits)
                } else {
                    let how = How {
                        as_of: as_of.as_deref(),
                        format,
                        explain,
                        limits: &limits,
                    };
                    eval(&rules, how, &case)
                }
            })
        }
        Command::Rules {
            rules,
            as_of,
            at_file,
        } => load_rules(rules).and_then(|rules| list_rules(&rules, as_of.as_deref(), at_file)),
        Command::Book { rules, out, cases } => {
            rules_dir(rules).and_then(|dir| write_book(&dir, &out, cases))
        }
        Command::Schema { rules, out, name } => load_rules(rules)
            .and_then(|rules| write_schema(&rules, out.as_deref(), name.as_deref())),
        #[cfg(feature = "server")]
        Command::Serve {
            rules,
            addr,
            body_limit,
            watch_ms,
            settle_ms,
            read_timeout_ms,
            queue_per_core,
            held_bytes,
            max_batch,
            answer_limit,
            decision_log,
            decision_log_bytes,
            decision_log_files,
            limits,
        } => {
            let body_limit = body_limit as usize;
            let case_limits = CaseLimits {
                max_bytes: body_limit.min(limits.max_case_bytes as usize),
                ..limits.limits()
            };
            let fits = held_bytes >= body_limit as u64 && held_bytes >= answer_limit;
            let held = if fits {
                Ok(())
            } else {
                Err(input_error(format!(
                    "--held-bytes {held_bytes} is less than --body-limit {body_limit} or --answer-limit {answer_limit}: no such body or answer could ever be held"
                )))
            };
            held.and_then(|()| rules_dir(rules)).and_then(|rules| {
                let book_cases = default_book_cases(&rules);
                serve(server::Config {
                    addr,
                    rules,
                    case_limits,
                    body_limit,
                    watch_interval: std::time::Duration::from_millis(watch_ms),
                    settle: std::time::Duration::from_millis(settle_ms),
                    read_timeout: std::time::Duration::from_millis(read_timeout_ms),
                    queue_per_core: queue_per_core as usize,
                    held_bytes: held_bytes as usize,
                    max_batch: max_batch as usize,
                    answer_limit: answer_limit as usize,
                    book_cases,
                    book_impact: std::fs::read_to_string("docs/r8-impact/README.md").ok(),
                    decision_log: decision_log.map(|dir| yakkan::decisions::LogConfig {
                        max_file_bytes: decision_log_bytes,
                        max_files: decision_log_files as usize,
                        ..yakkan::decisions::LogConfig::new(dir)
                    }),
                })
            })
        }
        Command::Diff {
            old,
            new,
            format,
            cases,
        } => diff(&old, &new, format, cases),
        Command::Replay {
            rules,
            format,
            logs,
        } => rules_dir(rules).and_then(|dir| replay(&dir, format, &logs)),
        Command::Fmt { check, paths } => format_files(check, paths),
        Command::Test {
            rules,
            paths,
            coverage,
            filter,
            accept,
            snapshots,
            watch,
            watch_ms,
            watch_runs,
        } => {
            let own = rules.is_some() && paths.is_empty();
            rules_dir(rules).and_then(|dir| {
                let run = TestRun {
                    dir: &dir,
                    own,
                    paths: &paths,
                    filter: filter.as_deref(),
                    coverage,
                    accept: accept.then_some(snapshots.as_path()),
                    snapshots: &snapshots,
                };
                if watch {
                    watch_tests(&run, watch_ms, watch_runs)
                } else {
                    run.once()
                }
            })
        }
    };
    // A command's error is its exit code, the message already printed.
    ExitCode::from(result.unwrap_or_else(|code| code))
}

/// `--rules`, else `rules/` here, else beside the executable, else the bundled rules
/// (see [`bundled::default_dir`]).
fn rules_dir(given: Option<PathBuf>) -> Result<PathBuf, u8> {
    match given {
        Some(dir) => Ok(dir),
        None => bundled::default_dir()
            .map_err(|error| input_error(format!("cannot unpack the bundled rules: {error}"))),
    }
}

/// The rule set in `given`, else in the default folder, else the bundled one as the
/// build compiled it (see [`bundled::default_rules`]).
fn load_rules(given: Option<PathBuf>) -> Result<RuleSet, u8> {
    match given
        .map(bundled::DefaultRules::Folder)
        .unwrap_or_else(bundled::default_rules)
    {
        bundled::DefaultRules::Folder(dir) => load(&dir),
        bundled::DefaultRules::Bundled => bundled::load().map_err(input_error),
    }
}

/// Prints an input problem and gives exit code 2.
fn input_error(message: impl std::fmt::Display) -> u8 {
    eprintln!("{message}");
    BAD_INPUT
}

/// The rule set, or exit code 2 with its diagnostics printed.
fn load(dir: &Path) -> Result<RuleSet, u8> {
    RuleSet::load(dir).map_err(input_error)
}

/// Writes to standard output. A closed pipe (`yakkan rules | head -1`) ends the command
/// quietly with exit code 0: the reader has what it wanted.
fn emit(text: &str) -> Result<(), u8> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Err(OK),
        Err(error) => {
            eprintln!("cannot write the output: {error}");
            Err(FAILED)
        }
    }
}

/// `println!` through [`emit`], returning early on a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        emit(&format!("{}\n", format_args!($($arg)*)))?
    };
}

/// Exit 0 when the set checks, 1 when its files have errors, 2 when the folder itself
/// cannot be read (a usage error, as for every command).
fn check(dir: &Path, format: ReportFormat) -> Result<u8, u8> {
    if !dir.is_dir() {
        return Err(input_error(format!("{}: no such folder", dir.display())));
    }
    // A listed `cases:` folder that does not exist is a mistake of the set, like any other
    // (the bundled copy unpacked from the binary ships no cases, so is not held to it).
    let missing = if bundled::is_unpacked(dir) {
        Vec::new()
    } else {
        corpus::declared_case_folders(dir)
            .map(|declared| declared.missing)
            .unwrap_or_default()
    };
    let loaded = match (RuleSet::load(dir), missing.is_empty()) {
        (Ok(_), false) => Err(LoadError::Invalid(missing)),
        (Err(LoadError::Invalid(mut found)), false) => {
            found.extend(missing);
            Err(LoadError::Invalid(found))
        }
        (other, _) => other,
    };
    match (loaded, format) {
        (Err(error @ LoadError::Io { .. }), _) => Err(input_error(error)),
        (Ok(_), ReportFormat::Json) => {
            out!("[]");
            Ok(OK)
        }
        (Err(error), ReportFormat::Json) => {
            let objects: Vec<String> = diagnostics_of(error).iter().map(|d| d.to_json()).collect();
            out!("[\n{}\n]", objects.join(",\n"));
            Ok(FAILED)
        }
        (Ok(rules), ReportFormat::Text) => {
            let revisions: Vec<String> =
                rules.revisions.iter().map(|r| r.date.to_string()).collect();
            out!(
                "{}: {} rules in {} files, revisions {}; {}",
                rules.name,
                rules.rules.len(),
                rules.parts.len() + 1,
                revisions.join(", "),
                rules.digest
            );
            Ok(OK)
        }
        (Err(error), ReportFormat::Text) => {
            for diagnostic in diagnostics_of(error) {
                eprintln!("{diagnostic}");
            }
            Ok(FAILED)
        }
    }
}

/// Every diagnostic of a load error (the loader names the rule each lies in).
fn diagnostics_of(error: LoadError) -> Vec<yakkan::Diagnostic> {
    match error {
        LoadError::Invalid(diagnostics) => diagnostics,
        LoadError::Io { path, source } => {
            vec![yakkan::Diagnostic::new(Some(&path), "", source.to_string())]
        }
    }
}

/// How `eval` reads and writes one case.
struct How<'a> {
    as_of: Option<&'a str>,
    format: Format,
    explain: Option<Explain>,
    limits: &'a CaseLimits,
}

fn eval(rules: &RuleSet, how: How, case_path: &str) -> Result<u8, u8> {
    let (text, name) = read_case(case_path, how.limits.max_bytes).map_err(input_error)?;
    let mut case =
        expect::from_str_with(rules, &text, name.as_deref(), how.limits).map_err(input_error)?;
    if let Some(day) = how.as_of {
        case.as_of = parse_day("--as-of", day)?;
    }
    let settings = Settings {
        explain: how.explain.is_some(),
        explain_all: how.explain == Some(Explain::All),
    };
    let result = yakkan::eval::evaluate_with(rules, &case, settings)
        .and_then(|(ruling, _)| batch::in_range(&case, ruling));
    match result {
        Ok(ruling) => {
            let mut out = render(&ruling, rules, how.format);
            let wanted = expect::of(&case, rules).map_err(input_error)?;
            let (verdict, code) = expect_verdict(
                wanted.as_ref(),
                &ruling,
                (rules, &case),
                how.as_of.is_some(),
            );
            // In text the verdict closes the report; JSON and YAML stay one document on
            // standard output, the verdict going to standard error.
            if let Some(verdict) = verdict {
                match how.format {
                    Format::Text => {
                        out.push('\n');
                        out.push_str(&verdict);
                    }
                    Format::Json | Format::Yaml => eprint!("{verdict}"),
                }
            }
            emit(&out)?;
            Ok(code)
        }
        Err(EvalError::Case(diagnostic)) => Err(input_error(diagnostic)),
        Err(error @ EvalError::Rule { .. }) => {
            eprintln!("{error}");
            Err(RULE_FAILED)
        }
    }
}

/// What `eval` says of a case's `expect:` block, and the exit code: 1 on a mismatch, as
/// `test` gives. Not compared when `--as-of` moved the case off the date it was written for.
fn expect_verdict(
    wanted: Option<&expect::Expectations>,
    ruling: &Ruling,
    (rules, case): (&RuleSet, &yakkan::Case),
    as_of_moved: bool,
) -> (Option<String>, u8) {
    let Some(wanted) = wanted else {
        return (None, OK);
    };
    if as_of_moved {
        let note = "expect: not compared: --as-of moves the case from the date its expect: block was written for\n";
        return (Some(note.to_owned()), OK);
    }
    let mismatches = expect::compare_in(wanted, ruling, rules, case);
    if mismatches.is_empty() {
        let note = "expect: the ruling matches the case's expect: block\n";
        return (Some(note.to_owned()), OK);
    }
    let mut text = format!(
        "expect: the ruling does NOT match the case's expect: block ({} difference{})\n",
        mismatches.len(),
        if mismatches.len() == 1 { "" } else { "s" }
    );
    for mismatch in &mismatches {
        text.push_str(&format!("  {mismatch}\n"));
    }
    (Some(text), FAILED)
}

/// JSON Lines, streamed: each ruling is written as soon as the lines before it are, and
/// memory holds a bounded window of lines whatever the input's length.
fn eval_lines(rules: &RuleSet, path: &str, limits: &CaseLimits) -> Result<u8, u8> {
    let input: Box<dyn Read + Send> = if path == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(path).map_err(|e| input_error(format!("{path}: {e}")))?)
    };
    let output = std::io::BufWriter::new(std::io::stdout().lock());
    let report = |result: &batch::LineResult| {
        if let batch::LineResult::Error { message, .. } = result {
            eprintln!("{path}: {message}");
        }
    };
    match batch::stream_lines(rules, input, output, None, limits, report) {
        Ok(summary) if summary.rule_errors > 0 => Ok(RULE_FAILED),
        Ok(summary) if summary.input_errors > 0 => Ok(BAD_INPUT),
        Ok(_) => Ok(OK),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(OK),
        Err(error) => Err(input_error(format!("{path}: {error}"))),
    }
}

fn parse_day(flag: &str, text: &str) -> Result<chrono::NaiveDate, u8> {
    yakkan::calendar::parse_date(text)
        .ok_or_else(|| input_error(format!("{flag}: `{text}` is not a YYYY-MM-DD date")))
}

fn list_rules(rules: &RuleSet, as_of: Option<&str>, at_file: bool) -> Result<u8, u8> {
    let day = match as_of {
        Some(text) => parse_day("--as-of", text)?,
        None => chrono::Utc::now()
            .with_timezone(&yakkan::calendar::jst())
            .date_naive(),
    };
    let revision = rules
        .revision_on(day)
        .map_or("none".to_owned(), |r| format!("{} {}", r.date, r.title.ja));
    out!("{} on {day} (revision in force: {revision})", rules.name);
    for rule in rules.rules.iter().filter(|r| r.in_force_on(day)) {
        let part = rules.part_of(rule);
        let mut line = format!(
            "{:<46} {:<20} {} {}",
            rule.id, rule.reference, rule.cite, part.title.ja
        );
        if rule.reconstructed {
            line.push_str(" (reconstructed)");
        }
        if at_file {
            line.push_str(&format!("  [{}]", part.file));
        }
        out!("{line}");
    }
    Ok(OK)
}

/// The case files under `paths`, or under `tests/cases/` when none are given.
fn case_files(paths: Vec<PathBuf>) -> Result<Vec<PathBuf>, u8> {
    let paths = if paths.is_empty() {
        vec![PathBuf::from("tests/cases")]
    } else {
        paths
    };
    corpus::case_files(&paths).map_err(input_error)
}

fn diff(old: &Path, new: &Path, format: ReportFormat, cases: Vec<PathBuf>) -> Result<u8, u8> {
    let (old_rules, new_rules) = (load(old)?, load(new)?);
    let files = case_files(cases)?;
    let report = Report::build(&old_rules, &new_rules, &files);
    report_exit(&report, format)
}

fn replay(dir: &Path, format: ReportFormat, logs: &[PathBuf]) -> Result<u8, u8> {
    let rules = load(dir)?;
    let report = yakkan::decisions::replay(&rules, logs).map_err(input_error)?;
    report_exit(&report, format)
}

/// Prints a comparison; 1 when a ruling changed, so CI can gate on it; 2 when a case
/// could not be read or decided on either side.
fn report_exit(report: &Report, format: ReportFormat) -> Result<u8, u8> {
    match format {
        ReportFormat::Text => emit(&report.to_text())?,
        ReportFormat::Json => out!("{}", report.to_json()),
    }
    if !report.errors.is_empty() {
        Err(BAD_INPUT)
    } else if report.changes.is_empty() {
        Ok(OK)
    } else {
        Ok(FAILED)
    }
}

/// `yakkan fmt`: each YAML file under `paths` in the canonical layout (see
/// [`yakkan::tidy`]). Exit 1 with `--check` when a file would change; 2 when a file is not
/// readable YAML.
fn format_files(check: bool, paths: Vec<PathBuf>) -> Result<u8, u8> {
    let paths = if paths.is_empty() {
        ["rules", "tests/cases", "examples"]
            .iter()
            .map(PathBuf::from)
            .filter(|path| path.is_dir())
            .collect()
    } else {
        paths
    };
    let mut files = corpus::case_files(&paths).map_err(input_error)?;
    files.retain(|file| file.extension().is_some_and(|e| e != "json"));
    let (mut changed, mut unreadable) = (0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file)
            .map_err(|error| input_error(format!("{}: {error}", file.display())))?;
        match yakkan::tidy::tidy(&text) {
            yakkan::tidy::Tidied::Text(tidied) if tidied == text => {}
            yakkan::tidy::Tidied::Text(tidied) => {
                changed += 1;
                if check {
                    out!("would reformat {}", file.display());
                } else {
                    std::fs::write(file, tidied)
                        .map_err(|error| input_error(format!("{}: {error}", file.display())))?;
                    out!("formatted {}", file.display());
                }
            }
            yakkan::tidy::Tidied::Refused(why) => {
                if why.starts_with("not readable") {
                    unreadable += 1;
                }
                eprintln!("{}: {why}", file.display());
            }
        }
    }
    let verb = if check {
        "would be reformatted"
    } else {
        "reformatted"
    };
    out!("{changed} of {} files {verb}", files.len());
    if unreadable > 0 {
        Err(BAD_INPUT)
    } else if check && changed > 0 {
        Ok(FAILED)
    } else {
        Ok(OK)
    }
}

#[cfg(feature = "server")]
fn serve(config: server::Config) -> Result<u8, u8> {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(yakkan::THREAD_STACK)
        .build()
        .map_err(|error| {
            eprintln!("cannot start the runtime: {error}");
            FAILED
        })?;
    match runtime.block_on(server::serve(config)) {
        Ok(()) => Ok(OK),
        Err(error @ server::ServeError::Rules(_)) => Err(input_error(error)),
        Err(error) => {
            eprintln!("{error}");
            Err(FAILED)
        }
    }
}

fn write_book(dir: &Path, out: &Path, cases: Vec<PathBuf>) -> Result<u8, u8> {
    let rules = load(dir)?;
    let files = if cases.is_empty() {
        default_book_cases(dir)
    } else {
        corpus::case_files(&cases).map_err(input_error)?
    };
    // The project's review of the 2026-04-01 revision, when run in the project.
    let impact = std::fs::read_to_string("docs/r8-impact/README.md").ok();
    let site = book::Book::build(&rules, &files, impact.as_deref());
    site.write(out)
        .map_err(|error| input_error(format!("{}: {error}", out.display())))?;
    out!(
        "wrote {} pages to {} (open {})",
        site.pages.len(),
        out.display(),
        out.join("index.html").display()
    );
    Ok(OK)
}

/// The cases the rulebook shows by default: the rule set's own (`cases:` in its
/// `ruleset.yaml`, else its `cases/` folder), as `serve` proves it by.
fn default_book_cases(rules: &Path) -> Vec<PathBuf> {
    yakkan::ruleset::resolve_dir(rules)
        .ok()
        .and_then(|dir| corpus::shipped_cases(&dir).ok())
        .unwrap_or_default()
}

fn write_schema(rules: &RuleSet, out: Option<&Path>, name: Option<&str>) -> Result<u8, u8> {
    if let Some(dir) = out {
        schema::write_all(rules, dir)
            .map_err(|error| input_error(format!("{}: {error}", dir.display())))?;
        return Ok(OK);
    }
    let all = schema::all(rules);
    let names: Vec<&str> = all
        .iter()
        .map(|(file, _)| file.trim_end_matches(".schema.json"))
        .collect();
    let Some(name) = name else {
        return Err(input_error(format!(
            "name a schema ({}) or give --out DIR",
            names.join(", ")
        )));
    };
    match all
        .iter()
        .find(|(file, _)| file.trim_end_matches(".schema.json") == name)
    {
        Some((_, found)) => {
            emit(&schema::to_text(found))?;
            Ok(OK)
        }
        None => Err(input_error(format!(
            "no schema `{name}`: the schemas are {}",
            names.join(", ")
        ))),
    }
}

fn render(ruling: &Ruling, rules: &RuleSet, format: Format) -> String {
    match format {
        Format::Json => format!("{}\n", ruling.to_json()),
        Format::Yaml => ruling.to_yaml(),
        Format::Text => report::text(ruling, rules),
    }
}

/// The case text, reading at most one byte past `max`: a larger document is refused by
/// the reader without being held whole.
fn read_case(path: &str, max: usize) -> Result<(String, Option<String>), String> {
    let (input, name): (Box<dyn Read>, &str) = if path == "-" {
        (Box::new(std::io::stdin()), "<stdin>")
    } else {
        let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
        (Box::new(file), path)
    };
    let mut bytes = Vec::new();
    input
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name}: {e}"))?;
    let text = yakkan::yaml::document_text(bytes).map_err(|e| {
        format!(
            "{name}:{}:{}: the document is {e}",
            e.position.line, e.position.column
        )
    })?;
    Ok((text, Some(name.to_owned())))
}

/// The cases a rule set names in its `ruleset.yaml` (`cases:`, else its `cases/`).
fn own_cases(dir: &Path) -> Result<Vec<PathBuf>, u8> {
    let files = corpus::shipped_cases(dir).map_err(input_error)?;
    if files.is_empty() {
        return Err(input_error(format!(
            "{}: the rule set names no cases (`cases:` in ruleset.yaml, or a cases/ folder): give case files or folders",
            dir.display()
        )));
    }
    Ok(files)
}

/// What one `yakkan test` run covers.
struct TestRun<'a> {
    dir: &'a Path,
    /// No paths with --rules: the set's own cases.
    own: bool,
    paths: &'a [PathBuf],
    filter: Option<&'a str>,
    coverage: bool,
    /// --accept: the folder to write snapshots into.
    accept: Option<&'a Path>,
    /// The folder whose snapshots a run compares with (a note, not a failure).
    snapshots: &'a Path,
}

impl TestRun<'_> {
    /// The case files of this run, filtered.
    fn files(&self) -> Result<Vec<PathBuf>, u8> {
        let mut files = if self.own {
            own_cases(self.dir)?
        } else {
            case_files(self.paths.to_vec())?
        };
        if let Some(filter) = self.filter {
            files.retain(|file| file.display().to_string().contains(filter));
        }
        Ok(files)
    }

    fn once(&self) -> Result<u8, u8> {
        let files = self.files()?;
        test(self, &files)
    }
}

/// The name a snapshot knows a case by: its path relative to the current folder.
fn project_relative(file: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|here| file.strip_prefix(here).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| file.to_path_buf());
    relative.display().to_string().replace('\\', "/")
}

fn test(run: &TestRun, files: &[PathBuf]) -> Result<u8, u8> {
    let rules = load(run.dir)?;
    let mut passed = 0;
    let mut failed = 0;
    let mut covered = Coverage::new(&rules);
    let (mut accepted, mut unchanged, mut drifted) = (0, 0, 0);
    for file in files {
        let outcome = corpus::run_case(&rules, file);
        covered.add_case(&file.display().to_string(), &outcome.trace);
        if outcome.problems.is_empty() {
            passed += 1;
        } else {
            failed += 1;
            for problem in &outcome.problems {
                out!("FAIL {}: {problem}", file.display());
            }
        }
        let Some(ruling) = &outcome.ruling else {
            continue;
        };
        let relative = project_relative(file);
        if let Some(dir) = run.accept {
            match yakkan::snapshot::accept(dir, ruling, &relative) {
                Ok(Some((name, true))) => {
                    accepted += 1;
                    out!("accepted {}", dir.join(name).display());
                }
                Ok(Some((_, false))) => unchanged += 1,
                Ok(None) => {}
                Err(error) => {
                    eprintln!("{}: {error}", dir.display());
                    return Err(FAILED);
                }
            }
        } else if let Some(name) = yakkan::snapshot::file_name(&relative) {
            let path = run.snapshots.join(name);
            if let Ok(old) = std::fs::read_to_string(&path) {
                let new = yakkan::snapshot::text(ruling, &relative);
                if yakkan::snapshot::body(&old) != yakkan::snapshot::body(&new) {
                    drifted += 1;
                    out!(
                        "changed ruling {}: {} differs",
                        file.display(),
                        path.display()
                    );
                }
            }
        }
    }
    let mut silent = Vec::new();
    if run.coverage {
        emit(&format!("\n{}", covered.report(&rules)))?;
        silent = covered.never_fired();
        for &i in &silent {
            let rule = &rules.rules[i];
            let file = &rules.part_of(rule).file;
            out!(
                "FAIL {file}: rule {} ({}) fires in no case",
                rule.id,
                rule.reference
            );
        }
        out!("");
    }
    if run.accept.is_some() {
        out!("{accepted} snapshots written, {unchanged} unchanged");
    } else if drifted > 0 {
        out!(
            "{drifted} rulings differ from their snapshots: review them, then accept with `yakkan test --accept`"
        );
    }
    out!("{passed} passed, {failed} failed");
    Ok(if failed == 0 && silent.is_empty() {
        OK
    } else {
        FAILED
    })
}

/// What a watched run depends on: the rule files and the case files, by content.
fn watched_state(run: &TestRun) -> String {
    let rules = yakkan::ruleset::source_digest(run.dir).unwrap_or_else(|e| e.to_string());
    let mut cases = String::new();
    for file in run.files().unwrap_or_default() {
        let text = std::fs::read(&file).unwrap_or_default();
        cases.push_str(&format!(
            "{}:{}:{:x}\n",
            file.display(),
            text.len(),
            fnv(&text)
        ));
    }
    format!("{rules}\n{cases}")
}

/// A cheap fingerprint of a file's bytes (FNV-1a): a watched edit changes it.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `test --watch`: a run now, and another whenever a rule file or case changes, polled
/// every `every_ms`; a broken rule set or case is reported and watched on. Ends after
/// `runs` runs when given, with the last run's code.
fn watch_tests(run: &TestRun, every_ms: u64, runs: Option<u64>) -> Result<u8, u8> {
    let mut seen: Option<String> = None;
    let mut done = 0;
    loop {
        let state = watched_state(run);
        if seen.as_ref() != Some(&state) {
            seen = Some(state);
            let code = run.once().unwrap_or_else(|code| code);
            done += 1;
            if runs.is_some_and(|runs| done >= runs) {
                return Ok(code);
            }
            out!(
                "watching {} and the cases for changes (Ctrl-C to stop)",
                run.dir.display()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(every_ms));
    }
}
