//! End-to-end benchmarks (case JSON in, ruling JSON out). `docs/performance.md` has the
//! figures and how to reproduce them.
//!
//! - `typical_case/rules`: the typical case (3 contracts, 4 requests of different types)
//!   through the full bundled rule set;
//! - `typical_case/native`: the same decisions hand-written in Rust — the floor;
//! - `ruleset_load`: loading, checking and compiling the bundled rule set;
//! - `batch`: JSON Lines throughput on every core.

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
    let case = Case::from_str(&text, None).unwrap();
    let interpreted = yakkan::evaluate(&rules, &case).unwrap().to_json();
    assert_eq!(
        native::ruling(&rules, &case).to_json(),
        interpreted,
        "the native floor disagrees"
    );

    let mut group = c.benchmark_group("typical_case");
    group.bench_function("rules", |b| {
        b.iter(|| {
            let case = Case::from_str(&text, None).unwrap();
            serde_json::to_string(&yakkan::evaluate(&rules, &case).unwrap()).unwrap()
        })
    });
    group.bench_function("native", |b| {
        b.iter(|| {
            let case = Case::from_str(&text, None).unwrap();
            serde_json::to_string(&native::ruling(&rules, &case)).unwrap()
        })
    });
    group.finish();
}

fn ruleset_load(c: &mut Criterion) {
    c.bench_function("ruleset_load", |b| {
        b.iter(|| RuleSet::load(&project().join("rules")).unwrap())
    });
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

criterion_group!(benches, typical_case, ruleset_load, batch);
criterion_main!(benches);
