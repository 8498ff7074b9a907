//! A service that embeds the engine alone: no command line, no HTTP layer, no test
//! harness. It loads a rule set folder once, then decides cases against it.
//!
//! `cargo run -p yakkan-core --example embed -- rules examples/02-early-termination-fee.yaml`
//! (a case with an `expect:` block is the test harness's: the engine reads only cases, so
//! this example hands that key back unread, as any caller may own keys of its own).

use std::path::Path;
use std::process::ExitCode;

use yakkan_core::case::{Case, CaseLimits};
use yakkan_core::{RuleSet, Syntax, evaluate};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(rules), Some(case)) = (args.next(), args.next()) else {
        eprintln!("usage: embed RULES_DIR CASE");
        return ExitCode::from(2);
    };
    match run(Path::new(&rules), Path::new(&case)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

fn run(rules: &Path, case: &Path) -> Result<(), String> {
    // Loaded, checked and compiled once; a service keeps it for every case.
    let rules = RuleSet::load(rules).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(case).map_err(|e| format!("{}: {e}", case.display()))?;
    let name = case.display().to_string();
    let case = Case::read_owning(
        &rules.model,
        &text,
        Some(&name),
        Syntax::detect(Some(&name), &text),
        &CaseLimits::default(),
        &["expect"],
    )
    .map_err(|d| d.to_string())?;
    let ruling = evaluate(&rules, &case).map_err(|e| e.to_string())?;
    for request in &ruling.requests {
        let values: Vec<String> = request
            .values
            .iter()
            .map(|(name, value)| format!("{name} {}", value.as_text()))
            .collect();
        println!(
            "requests[{}] {} {:?} {}",
            request.index,
            request.kind,
            request.decision,
            values.join(", ")
        );
        for finding in &request.findings {
            println!("  {} {} {}", finding.cite, finding.rule, finding.message.en);
        }
    }
    Ok(())
}
