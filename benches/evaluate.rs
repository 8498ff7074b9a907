//! End-to-end benchmarks (case JSON in, ruling JSON out). `docs/performance.md` has the
//! figures and how to reproduce them.
//!
//! - `typical_case/rules`: the typical case (3 contracts, 4 requests of different types)
//!   through the full bundled rule set;
//! - `typical_case/native`: the same decisions hand-written in Rust — the floor;
//! - `typical_case/read`: reading the typical case against the model, which both share;
//!   `typical_case/native_structs`: the floor taking the case's records into its structs;
//! - `ruleset_load/yaml`: loading, checking and compiling the bundled rule set;
//!   `ruleset_load/compiled`: reading it back from the bytes the build embeds;
//! - `batch`: JSON Lines throughput on every core;
//! - `scaling`: contracts × requests (1000 × 1000 against the additive model of
//!   1000 × 1 plus 1 × 1000), and options per contract (10 and 100).

mod native;

use std::path::Path;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use yakkan::{Case, RuleSet};

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn typical() -> String {
    std::fs::read_to_string(project().join("benches/typical-case.json")).expect("the typical case")
}

fn typical_case(c: &mut Criterion) {
    let rules = RuleSet::load(&project().join("rules")).unwrap();
    let text = typical();
    // The floor must decide exactly as the rules do, or the comparison means nothing.
    let case = Case::from_str(&rules, &text, None).unwrap();
    let interpreted = yakkan::evaluate(&rules, &case).unwrap().to_json();
    assert_eq!(
        native::ruling(&rules, &case).to_json(),
        interpreted,
        "the native floor disagrees"
    );

    let mut group = c.benchmark_group("typical_case");
    group.bench_function("rules", |b| {
        b.iter(|| {
            let case = Case::from_str(&rules, &text, None).unwrap();
            serde_json::to_string(&yakkan::evaluate(&rules, &case).unwrap()).unwrap()
        })
    });
    group.bench_function("native", |b| {
        b.iter(|| {
            let case = Case::from_str(&rules, &text, None).unwrap();
            serde_json::to_string(&native::ruling(&rules, &case)).unwrap()
        })
    });
    // What both of the above spend reading the case against the model, and what the floor
    // spends taking the generic records into its own structs.
    group.bench_function("read", |b| {
        b.iter(|| Case::from_str(&rules, &text, None).unwrap())
    });
    group.bench_function("native_structs", |b| {
        b.iter_batched(
            || Case::from_str(&rules, &text, None).unwrap(),
            |case| native::structs(&case),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn ruleset_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("ruleset_load");
    group.bench_function("yaml", |b| {
        b.iter(|| RuleSet::load(&project().join("rules")).unwrap())
    });
    let bytes =
        yakkan::ruleset::image::write(&RuleSet::load(&project().join("rules")).unwrap()).unwrap();
    group.bench_function("compiled", |b| {
        b.iter(|| yakkan::ruleset::image::read(&bytes).unwrap())
    });
    // The bundled set with N more rules: loading must stay linear in the rules (20,000
    // once took 13.7 s, quadratic). Compare the per-rule time of the two sizes.
    for n in [2_000, 8_000] {
        let mut files: Vec<(String, String)> =
            std::fs::read_dir(project().join("rules/iij-secure-access"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                .map(|p| {
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    (name, std::fs::read_to_string(&p).unwrap())
                })
                .collect();
        let mut many =
            "article: 99\ntitle: { ja: 多数, en: Many }\nparagraphs: [x]\nrules:\n".to_owned();
        for i in 0..n {
            many.push_str(&format!(
                "  - {{ id: r99-{i}, ref: \"99\", in_force: {{ from: 2022-09-01 }}, applies_to: [terminate], when: contract.kind == \"remote_connect\", outcome: info, message: {{ ja: x, en: x }} }}\n"
            ));
        }
        files.push(("art-99-many.yaml".to_owned(), many));
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        group.bench_function(format!("plus_{n}_rules"), |b| {
            b.iter(|| RuleSet::load_texts("many", &files).unwrap())
        });
    }
    group.finish();
}

fn batch(c: &mut Criterion) {
    let rules = RuleSet::load(&project().join("rules")).unwrap();
    let line =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&typical()).unwrap())
            .unwrap();
    let cases = 2_000;
    let lines = format!("{line}\n").repeat(cases);
    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(cases as u64));
    group.sample_size(20);
    group.bench_function("jsonl_all_cores", |b| {
        b.iter_batched(
            || (),
            |()| yakkan::batch::evaluate_lines(&rules, &lines, None),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// A case of `contracts` contracts with `options` options each and `requests` requests
/// of every type, each on a contract picked in turn, dated in 2026.
fn sized_case(rules: &RuleSet, contracts: usize, options: usize, requests: usize) -> Case {
    use serde_json::json;
    let kinds = ["web_gateway", "firewall_type1", "firewall_type2"];
    let listed: Vec<serde_json::Value> = (0..contracts)
        .map(|i| {
            let mut options: Vec<serde_json::Value> = (0..options)
                .map(|k| json!({"kind": "dedicated_ip", "billing_start": format!("2026-04-{:02}", 10 + k % 15)}))
                .collect();
            if i % 3 == 0 && !options.is_empty() {
                options[0] = json!({"kind": "web_sandbox", "billing_start": "2026-04-20",
                    "fees": {"per_account_monthly": "100"}});
            }
            json!({"id": format!("C-{i}"), "kind": kinds[i % 3], "accounts": 100,
                "formed": "2026-04-01", "billing_start": "2026-04-10",
                "fees": {"basic_monthly": "20000", "per_account_monthly": "300"},
                "options": options})
        })
        .collect();
    let asked: Vec<serde_json::Value> = (0..requests)
        .map(|i| {
            let id = format!("C-{}", (i * 7) % contracts.max(1));
            let day = format!("2026-05-{:02}", 1 + i % 28);
            match i % 6 {
                0 => json!({"type": "change_accounts", "date": day, "contract": id, "accounts": 60 + i % 40}),
                1 => json!({"type": "add_option", "date": day, "contract": id, "option": "dedicated_ip"}),
                2 => json!({"type": "outage_credit", "contract": id, "attributable_to_provider": true,
                    "total": true, "known_at": format!("{day}T10:00:00+09:00"),
                    "restored_at": format!("{day}T23:00:00+09:00"), "claimed_on": "2026-06-01"}),
                3 => json!({"type": "new_contract", "date": day, "contract": {"id": format!("N-{i}"),
                    "kind": kinds[i % 3], "accounts": 50, "billing_start": "2026-06-01"}}),
                4 => json!({"type": "stop_option", "contract": id, "option": "dedicated_ip", "notice_arrived": day}),
                _ => json!({"type": "terminate", "contract": id, "notice_arrived": day}),
            }
        })
        .collect();
    let text = json!({"as_of": "2026-06-30", "contracts": listed, "requests": asked}).to_string();
    let limits = yakkan::case::CaseLimits {
        max_contracts: 10_000,
        max_requests: 10_000,
        max_options: 1_000,
        max_bytes: 1 << 28,
        ..yakkan::case::CaseLimits::default()
    };
    Case::from_str_with(rules, &text, None, &limits).expect("a valid sized case")
}

fn scaling(c: &mut Criterion) {
    let rules = RuleSet::load(&project().join("rules")).unwrap();
    let mut group = c.benchmark_group("scaling");
    group.sample_size(10);
    for (contracts, options, requests) in [
        (1000, 2, 1000),
        (1000, 2, 1),
        (1, 2, 1000),
        (1, 2, 1),
        (100, 10, 100),
        (100, 100, 100),
    ] {
        let case = sized_case(&rules, contracts, options, requests);
        let id = format!("c{contracts}_o{options}_r{requests}");
        group.bench_function(&id, |b| b.iter(|| yakkan::evaluate(&rules, &case).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, typical_case, ruleset_load, batch, scaling);
criterion_main!(benches);
