//! The `yakkan` command: a thin layer over the library (see `yakkan --help`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use yakkan::corpus::Coverage;
use yakkan::diff::Report;
use yakkan::eval::Settings;
#[cfg(feature = "server")]
use yakkan::server;
use yakkan::{Case, EvalError, LoadError, RuleSet, Ruling, corpus, report};
use yakkan::{batch, book, bundled, expect, schema};

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
    /// Print or write the JSON Schemas of cases, rulings and rule files.
    Schema {
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
        #[arg(long, default_value_t = 1 << 20)]
        body_limit: usize,
        /// How often to check the rules folder for changes, in milliseconds.
        #[arg(long, default_value_t = 1000)]
        watch_ms: u64,
    },
    /// Run example cases against their `expect:` blocks.
    Test {
        /// The rule set folder (default: rules/ here, else the bundled rule set).
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
        Command::Check { rules, format } => rules_dir(rules).map(|dir| check(&dir, format)),
        Command::Eval {
            rules,
            as_of,
            format,
            explain,
            jsonl,
            case,
        } => rules_dir(rules).and_then(|dir| {
            if jsonl || case.ends_with(".jsonl") {
                eval_lines(&dir, &case)
            } else {
                eval(&dir, as_of.as_deref(), format, explain, &case)
            }
        }),
        Command::Rules {
            rules,
            as_of,
            at_file,
        } => rules_dir(rules).and_then(|dir| list_rules(&dir, as_of.as_deref(), at_file)),
        Command::Book { rules, out, cases } => {
            rules_dir(rules).and_then(|dir| write_book(&dir, &out, cases))
        }
        Command::Schema { out, name } => write_schema(out.as_deref(), name.as_deref()),
        #[cfg(feature = "server")]
        Command::Serve {
            rules,
            addr,
            body_limit,
            watch_ms,
        } => rules_dir(rules).and_then(|rules| {
            serve(server::Config {
                addr,
                rules,
                body_limit,
                watch_interval: std::time::Duration::from_millis(watch_ms),
                book_cases: default_book_cases(),
                book_impact: std::fs::read_to_string("docs/r8-impact/README.md").ok(),
            })
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
        } => rules_dir(rules).and_then(|dir| test(&dir, paths, coverage)),
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

/// Prints an input problem and gives exit code 2.
fn input_error(message: impl std::fmt::Display) -> u8 {
    eprintln!("{message}");
    BAD_INPUT
}

/// The rule set, or exit code 2 with its diagnostics printed.
fn load(dir: &Path) -> Result<RuleSet, u8> {
    RuleSet::load(dir).map_err(input_error)
}

fn check(dir: &Path, format: ReportFormat) -> u8 {
    match (RuleSet::load(dir), format) {
        (Ok(_), ReportFormat::Json) => {
            println!("[]");
            OK
        }
        (Err(error), ReportFormat::Json) => {
            let objects: Vec<String> = diagnostics_of(error).iter().map(|d| d.to_json()).collect();
            println!("[\n{}\n]", objects.join(",\n"));
            FAILED
        }
        (Ok(rules), ReportFormat::Text) => {
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
        (Err(error), ReportFormat::Text) => {
            for diagnostic in diagnostics_of(error) {
                eprintln!("{diagnostic}");
            }
            FAILED
        }
    }
}

/// Every diagnostic of a load error, each naming the rule it lies in.
fn diagnostics_of(error: LoadError) -> Vec<yakkan::Diagnostic> {
    let mut diagnostics = match error {
        LoadError::Invalid(diagnostics) => diagnostics,
        LoadError::Io { path, source } => {
            vec![yakkan::Diagnostic::new(Some(&path), "", source.to_string())]
        }
    };
    for diagnostic in &mut diagnostics {
        if let Some(text) = diagnostic
            .file
            .as_ref()
            .and_then(|file| std::fs::read_to_string(file).ok())
        {
            diagnostic.locate_rule(&text);
        }
    }
    diagnostics
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
            let mut out = render(&ruling, &rules, format);
            let (verdict, code) = expect_verdict(&case, &ruling, as_of.is_some());
            // In text the verdict closes the report; JSON and YAML stay one document on
            // standard output, the verdict going to standard error.
            if let Some(verdict) = verdict {
                match format {
                    Format::Text => {
                        out.push('\n');
                        out.push_str(&verdict);
                    }
                    Format::Json | Format::Yaml => eprint!("{verdict}"),
                }
            }
            print!("{out}");
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
fn expect_verdict(case: &Case, ruling: &Ruling, as_of_moved: bool) -> (Option<String>, u8) {
    let Some(wanted) = &case.expect else {
        return (None, OK);
    };
    if as_of_moved {
        let note = "expect: not compared: --as-of moves the case from the date its expect: block was written for\n";
        return (Some(note.to_owned()), OK);
    }
    let mismatches = expect::compare(wanted, ruling);
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

fn write_book(dir: &Path, out: &Path, cases: Vec<PathBuf>) -> Result<u8, u8> {
    let rules = load(dir)?;
    let files = if cases.is_empty() {
        default_book_cases()
    } else {
        corpus::case_files(&cases).map_err(input_error)?
    };
    // The project's review of the 2026-04-01 revision, when run in the project.
    let impact = std::fs::read_to_string("docs/r8-impact/README.md").ok();
    let site = book::Book::build(&rules, &files, impact.as_deref());
    site.write(out)
        .map_err(|error| input_error(format!("{}: {error}", out.display())))?;
    println!(
        "wrote {} pages to {} (open {})",
        site.pages.len(),
        out.display(),
        out.join("index.html").display()
    );
    Ok(OK)
}

/// The case files of the project, when run in it: `tests/cases/` and `examples/`.
fn default_book_cases() -> Vec<PathBuf> {
    let folders: Vec<PathBuf> = ["tests/cases", "examples"]
        .iter()
        .map(PathBuf::from)
        .filter(|path| path.is_dir())
        .collect();
    corpus::case_files(&folders).unwrap_or_default()
}

fn write_schema(out: Option<&Path>, name: Option<&str>) -> Result<u8, u8> {
    if let Some(dir) = out {
        schema::write_all(dir)
            .map_err(|error| input_error(format!("{}: {error}", dir.display())))?;
        return Ok(OK);
    }
    let all = schema::all();
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
            print!("{}", schema::to_text(found));
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
