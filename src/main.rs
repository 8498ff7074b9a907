//! The `yakkan` command: a thin layer over the library (see `yakkan --help`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use yakkan::corpus::Coverage;
use yakkan::diff::Report;
use yakkan::eval::Settings;
use yakkan::{Case, EvalError, RuleSet, Ruling, corpus, report, yaml};
use yakkan::{batch, server};

/// Exit codes (SPEC §4).
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
        /// The rule set folder (default: the project's rules/).
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Evaluate a case and print the ruling.
    Eval {
        /// The rule set folder (default: the project's rules/).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Judge the state on this date instead of the case's `as_of`.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Add to each finding the rule's expressions, the values they read, and the result.
        #[arg(long)]
        explain: bool,
        /// CASE holds one JSON case per line; print one ruling per line, in order, using
        /// every core (implied by a `.jsonl` file name).
        #[arg(long)]
        jsonl: bool,
        /// The case file (YAML or JSON), or - for standard input.
        case: String,
    },
    /// List the rules in force on a date, with citation and title.
    Rules {
        /// The rule set folder (default: the project's rules/).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// The date (default: today, in Japan time).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Also show the file that defines each rule.
        #[arg(long)]
        at_file: bool,
    },
    /// Evaluate cases under two rule sets and report every ruling that changed.
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
    /// Serve the evaluator over HTTP, reloading the rules when they change.
    Serve {
        /// The rule set folder (default: the project's rules/).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Largest request body in bytes; larger gets 413.
        #[arg(long, default_value_t = 1 << 20)]
        body_limit: usize,
        /// How often to check the rules folder for changes, in milliseconds.
        #[arg(long, default_value_t = 1000)]
        watch_ms: u64,
    },
    /// Run example cases against their `expect:` blocks.
    Test {
        /// The rule set folder (default: the project's rules/).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Case files or folders (default: tests/cases/).
        paths: Vec<PathBuf>,
        /// List every rule with the cases in which it fired and did not; fail if a rule
        /// never fires.
        #[arg(long)]
        coverage: bool,
    },
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
        Command::Check { rules } => Ok(check(&rules_dir(rules))),
        Command::Eval {
            rules,
            as_of,
            format,
            explain,
            jsonl,
            case,
        } => {
            if jsonl || case.ends_with(".jsonl") {
                eval_lines(&rules_dir(rules), &case)
            } else {
                eval(&rules_dir(rules), as_of.as_deref(), format, explain, &case)
            }
        }
        Command::Rules {
            rules,
            as_of,
            at_file,
        } => list_rules(&rules_dir(rules), as_of.as_deref(), at_file),
        Command::Serve {
            rules,
            addr,
            body_limit,
            watch_ms,
        } => serve(server::Config {
            addr,
            rules: rules_dir(rules),
            body_limit,
            watch_interval: std::time::Duration::from_millis(watch_ms),
        }),
        Command::Diff {
            old,
            new,
            format,
            cases,
        } => diff(&old, &new, format, cases),
        Command::Test {
            rules,
            paths,
            coverage,
        } => test(&rules_dir(rules), paths, coverage),
    };
    // A command's error is its exit code, the message already printed.
    ExitCode::from(result.unwrap_or_else(|code| code))
}

/// `--rules`, else `rules/` here, else the `rules/` the binary was built with.
fn rules_dir(given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| {
        let here = PathBuf::from("rules");
        if here.is_dir() {
            here
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
        }
    })
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

fn check(dir: &Path) -> u8 {
    match RuleSet::load(dir) {
        Ok(rules) => {
            let revisions: Vec<String> =
                rules.revisions.iter().map(|r| r.date.to_string()).collect();
            println!(
                "{}: {} rules in {} files, revisions {}; {}",
                rules.name,
                rules.rules.len(),
                rules.parts.len() + 1,
                revisions.join(", "),
                rules.digest
            );
            OK
        }
        Err(error) => {
            eprintln!("{error}");
            FAILED
        }
    }
}

fn eval(
    dir: &Path,
    as_of: Option<&str>,
    format: Format,
    explain: bool,
    case_path: &str,
) -> Result<u8, u8> {
    let rules = load(dir)?;
    let (text, name) = read_case(case_path).map_err(input_error)?;
    let mut case = Case::from_str(&text, name.as_deref()).map_err(input_error)?;
    if let Some(day) = as_of {
        case.as_of = parse_day("--as-of", day)?;
    }
    match yakkan::eval::evaluate_with(&rules, &case, Settings { explain }) {
        Ok((ruling, _)) => {
            print!("{}", render(&ruling, &rules, format));
            Ok(OK)
        }
        Err(EvalError::Case(diagnostic)) => Err(input_error(diagnostic)),
        Err(error @ EvalError::Rule { .. }) => {
            eprintln!("{error}");
            Err(RULE_FAILED)
        }
    }
}

fn eval_lines(dir: &Path, path: &str) -> Result<u8, u8> {
    let rules = load(dir)?;
    let (text, _) = read_case(path).map_err(input_error)?;
    let mut code = OK;
    let mut out = String::new();
    for result in batch::evaluate_lines(&rules, &text, None) {
        if let batch::LineResult::Error { input, message, .. } = &result {
            eprintln!("{path}: {message}");
            code = code.max(if *input { BAD_INPUT } else { RULE_FAILED });
        }
        out.push_str(&result.to_json_line());
        out.push('\n');
    }
    print!("{out}");
    Ok(code)
}

fn parse_day(flag: &str, text: &str) -> Result<chrono::NaiveDate, u8> {
    yakkan::calendar::parse_date(text)
        .ok_or_else(|| input_error(format!("{flag}: `{text}` is not a YYYY-MM-DD date")))
}

fn list_rules(dir: &Path, as_of: Option<&str>, at_file: bool) -> Result<u8, u8> {
    let rules = load(dir)?;
    let day = match as_of {
        Some(text) => parse_day("--as-of", text)?,
        None => chrono::Utc::now()
            .with_timezone(&yakkan::calendar::jst())
            .date_naive(),
    };
    let revision = rules
        .revision_on(day)
        .map_or("none".to_owned(), |r| format!("{} {}", r.date, r.title.ja));
    println!("{} on {day} (revision in force: {revision})", rules.name);
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
        println!("{line}");
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
    match format {
        ReportFormat::Text => print!("{}", report.to_text()),
        ReportFormat::Json => println!("{}", report.to_json()),
    }
    if report.errors.is_empty() {
        Ok(OK)
    } else {
        Err(BAD_INPUT)
    }
}

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
    let runtime = tokio::runtime::Runtime::new().map_err(|error| {
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

fn render(ruling: &Ruling, rules: &RuleSet, format: Format) -> String {
    match format {
        Format::Json => format!("{}\n", ruling.to_json()),
        Format::Yaml => yaml::to_string(ruling),
        Format::Text => report::text(ruling, rules),
    }
}

fn read_case(path: &str) -> Result<(String, Option<String>), String> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("<stdin>: {e}"))?;
        return Ok((text, Some("<stdin>".to_owned())));
    }
    std::fs::read_to_string(path)
        .map(|text| (text, Some(path.to_owned())))
        .map_err(|e| format!("{path}: {e}"))
}

fn test(dir: &Path, paths: Vec<PathBuf>, coverage: bool) -> Result<u8, u8> {
    let rules = load(dir)?;
    let files = case_files(paths)?;
    let mut passed = 0;
    let mut failed = 0;
    let mut covered = Coverage::new(&rules);
    for file in &files {
        let outcome = corpus::run_case(&rules, file);
        covered.add(&outcome.trace);
        if outcome.problems.is_empty() {
            passed += 1;
        } else {
            failed += 1;
            for problem in &outcome.problems {
                println!("FAIL {}: {problem}", file.display());
            }
        }
    }
    let mut silent = Vec::new();
    if coverage {
        print!("\n{}", covered.report(&rules));
        silent = covered.never_fired();
        for &i in &silent {
            let rule = &rules.rules[i];
            let file = &rules.part_of(rule).file;
            println!(
                "FAIL {file}: rule {} ({}) fires in no case",
                rule.id, rule.reference
            );
        }
        println!();
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 && silent.is_empty() {
        OK
    } else {
        FAILED
    })
}
