//! The R8 (2026-04-01) Web sandbox transition over a portfolio of Web gateway contracts:
//! how many keep the sandbox, and why.
//!
//! ```sh
//! cargo run --release --example r8_portfolio                 # 10,000 contracts
//! cargo run --release --example r8_portfolio -- 50000 out.jsonl
//! ```
//!
//! The portfolio is generated deterministically (the same every run): formation dates
//! from 2025-01 to 2026-06, declarations on time, late or never, and Web sandbox options
//! listed from before or after the revision. Each contract is one case judged on
//! 2026-05-01; the cases go through the same JSON Lines batch path as `yakkan eval`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use chrono::{Days, NaiveDate};
use yakkan::RuleSet;
use yakkan::batch::{LineResult, evaluate_lines};

/// A small deterministic generator (64-bit LCG), so the portfolio needs no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

fn day(year: i32, month: u32, date: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, date).expect("a valid date")
}

fn case(i: usize, rng: &mut Lcg) -> String {
    let formed = day(2025, 1, 1) + Days::new(rng.next(540));
    let billing_start = formed + Days::new(rng.next(15));
    let declared = match rng.next(10) {
        0..=3 => format!("\"{}\"", day(2026, 1, 5) + Days::new(rng.next(85))), // by 03-31
        4 => format!("\"{}\"", day(2026, 4, 1) + Days::new(rng.next(20))),     // late
        _ => "null".to_owned(),
    };
    let option = match rng.next(4) {
        0 => String::new(),
        1 => format!(
            r#"{{"kind": "web_sandbox", "billing_start": "{}", "fees": {{"per_account_monthly": "100"}}}}"#,
            billing_start.max(day(2026, 4, 1))
        ),
        2 => format!(
            r#"{{"kind": "web_sandbox", "billing_start": "{}", "fees": {{"per_account_monthly": "100"}}}}"#,
            day(2026, 4, 2) + Days::new(rng.next(25))
        ),
        _ => r#"{"kind": "dedicated_ip"}"#.to_owned(),
    };
    let accounts = 50 + rng.next(450);
    format!(
        r#"{{"as_of": "2026-05-01", "customer": {{"id": "P-{i:05}"}}, "contracts": [{{"id": "WG-{i:05}", "kind": "web_gateway", "accounts": {accounts}, "formed": "{formed}", "billing_start": "{billing_start}", "sandbox_continuation_declared": {declared}, "fees": {{"per_account_monthly": "300"}}, "options": [{option}]}}], "requests": []}}"#
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args
        .next()
        .map_or(10_000, |n| n.parse().expect("a number of contracts"));
    let out = args.next();
    let rules = RuleSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"))
        .expect("the bundled rules load");
    // Seeded with the revision day, so every run generates the same portfolio.
    let mut rng = Lcg(20260401);
    let portfolio: String = (0..count).map(|i| case(i, &mut rng) + "\n").collect();
    if let Some(path) = &out {
        std::fs::write(path, &portfolio).expect("the portfolio is written");
        println!("wrote {count} cases to {path}");
    }

    let started = Instant::now();
    let results = evaluate_lines(&rules, &portfolio, None);
    let elapsed = started.elapsed();

    // Why: whether the sandbox is in force on 2026-05-01, and the transition findings.
    let mut reasons: BTreeMap<(bool, String), usize> = BTreeMap::new();
    for result in &results {
        let LineResult::Ruling(ruling) = result else {
            panic!("every generated case evaluates: {result:?}");
        };
        let contract = &ruling.contracts[0];
        let keeps = contract.values["web_sandbox"] == yakkan::ruling::Value::Bool(true);
        let cited = |rule: &str| contract.findings.iter().any(|f| f.rule == rule);
        let why = match (
            cited("suppl-2026-04-01-2-sandbox-carried-over"),
            cited("suppl-2026-04-01-2-continues-without-sandbox"),
            keeps,
        ) {
            (true, _, _) => "declared by 2026-03-31: carried over (附則第2項)",
            (_, true, true) => {
                "no timely declaration, but a new option billed after 2026-04-01 (第9条)"
            }
            (_, true, false) => "no timely declaration: continues without it (附則第2項)",
            (false, false, true) => "formed after 2026-03-31: option taken under 第9条",
            (false, false, false) => "formed after 2026-03-31: no sandbox option",
        }
        .to_owned();
        *reasons.entry((keeps, why)).or_default() += 1;
    }

    let kept: usize = reasons
        .iter()
        .filter(|((keeps, _), _)| *keeps)
        .map(|(_, n)| n)
        .sum();
    println!("R8 Web sandbox transition, {count} Web gateway contracts judged on 2026-05-01");
    println!("keep the sandbox: {kept}; without it: {}", count - kept);
    println!("\n{:>6}  {:<8}  why", "count", "sandbox");
    for ((keeps, why), n) in &reasons {
        println!("{n:>6}  {:<8}  {why}", if *keeps { "yes" } else { "no" });
    }
    println!(
        "\nevaluated in {:.1} ms ({:.0} cases/s)",
        elapsed.as_secs_f64() * 1e3,
        count as f64 / elapsed.as_secs_f64()
    );
}
