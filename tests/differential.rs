//! Differential test: yakkan against an independent implementation of SPEC's decisions
//! (`differential/model.rs`) on random valid cases (`differential/generate.rs`).
//!
//! Each case is written as YAML (one in five as JSON) and read back with `Case::from_str`,
//! so the reader is part of what is compared. Compared: each request's decision, the refs
//! of its rejecting findings, its `values` (effective_date, early_termination_fee, credit,
//! outage_units, claim_deadline), the contracts listed and each one's
//! `minimum_period_end` and `web_sandbox`, and `ruleset.in_force`.
//!
//! Fixed seed and size by default (bounded for CI); run it long with
//! `YAKKAN_DIFF_CASES=200000 YAKKAN_DIFF_SEED=7 cargo test --release --test differential`.
//! On disagreement it prints, per class, how many cases and the smallest case found
//! (minimised by dropping requests, contracts and options while the class persists).
//!
//! Where SPEC is silent the model takes one reading, said where it is coded: an option is
//! held from its contract's formation (listed) or its `add_option` date until its end; a
//! second option of a kind held is accepted and held beside the first; the new Web gateway
//! of a `new_contract` is the gateway 第6条第2項 asks for; a notice that ends something
//! earlier than an end already set is priced as a first notice.

mod differential {
    pub mod case;
    pub mod from_case;
    pub mod generate;
    pub mod model;
}

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use differential::case::{GCase, GRequest, render, render_json};
use differential::generate::{Rng, case as generate};
use differential::model::{self, Out};
use yakkan::ruling::{Decision, Outcome, Ruling};
use yakkan::{Case, RuleSet};

const DEFAULT_CASES: usize = 20_000;
const DEFAULT_SEED: u64 = 0x5EC_0011;
const VALUE_KEYS: [&str; 5] = [
    "effective_date",
    "early_termination_fee",
    "credit",
    "outage_units",
    "claim_deadline",
];

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// yakkan's ruling in the model's terms, or the input error it gave.
fn yakkan_out(rules: &RuleSet, case: &GCase) -> Result<Out, String> {
    let (text, file) = if case.as_json {
        (render_json(case), "generated.json")
    } else {
        (render(case), "generated.yaml")
    };
    let case = Case::from_str(rules, &text, Some(file)).map_err(|e| e.to_string())?;
    let ruling: Ruling = yakkan::evaluate(rules, &case).map_err(|e| e.to_string())?;
    let requests = ruling
        .requests
        .iter()
        .map(|r| model::RequestOut {
            accepted: r.decision == Decision::Accepted,
            rejects: r
                .findings
                .iter()
                .filter(|f| f.outcome == Outcome::Reject)
                .map(|f| f.reference.clone())
                .collect(),
            values: r
                .values
                .iter()
                .filter(|(k, _)| VALUE_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.as_text()))
                .collect(),
        })
        .collect();
    let contracts = ruling
        .contracts
        .iter()
        .map(|c| model::ContractOut {
            id: c.id.clone(),
            minimum_period_end: c
                .values
                .get("minimum_period_end")
                .map_or("(none)".into(), |v| v.as_text()),
            web_sandbox: c
                .values
                .get("web_sandbox")
                .is_some_and(|v| v.as_text() == "true"),
        })
        .collect();
    Ok(Out {
        in_force: ruling.ruleset.in_force.clone(),
        requests,
        contracts,
    })
}

/// One disagreement: `class` groups disagreements of the same kind across cases.
#[derive(Debug, Clone)]
struct Diff {
    class: String,
    detail: String,
}

fn refs(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "accepted".into()
    } else {
        "rejected".into()
    }
}

/// What else the case does to the request's contract, to tell causes apart in a class.
fn context(case: &GCase, index: usize) -> String {
    let request = &case.requests[index];
    let id = request.target();
    let on_it = |r: &&GRequest| r.target() == id;
    let mut tags = Vec::new();
    let ended_listed = case
        .contracts
        .iter()
        .any(|c| c.id == id && c.ended.is_some());
    let earlier_same = case.requests[..index]
        .iter()
        .filter(on_it)
        .any(|r| r.kind() == request.kind());
    if matches!(request, GRequest::Terminate { .. }) && (ended_listed || earlier_same)
        || matches!(request, GRequest::Stop { .. }) && earlier_same
    {
        tags.push("an end already set or noticed");
    }
    if let GRequest::Terminate { notice, .. } | GRequest::Stop { notice, .. } = request
        && *notice < chrono::NaiveDate::from_ymd_opt(2026, 4, 1).expect("a date")
    {
        tags.push("noticed before 2026-04-01");
    }
    if case
        .requests
        .iter()
        .filter(on_it)
        .any(|r| matches!(r, GRequest::Change { .. }))
    {
        tags.push("accounts changed");
    }
    if case
        .requests
        .iter()
        .filter(on_it)
        .any(|r| matches!(r, GRequest::Add { .. }))
    {
        tags.push("options added");
    }
    if tags.is_empty() {
        String::new()
    } else {
        format!("; {}", tags.join(", "))
    }
}

fn compare(case: &GCase, spec: &Out, got: &Result<Out, String>) -> Vec<Diff> {
    let got = match got {
        Ok(out) => out,
        Err(message) => {
            // Keep the class independent of place and ids: no position, no digits, and
            // the message only up to its first backquote.
            let after = message
                .find("requests[")
                .map_or(message.as_str(), |i| &message[i..]);
            let head: String = after
                .split('`')
                .next()
                .unwrap_or(after)
                .chars()
                .filter(|c| !c.is_ascii_digit())
                .collect();
            let head = head.trim_start_matches([':', ' ']).trim();
            return vec![Diff {
                class: format!("input error (exit 2) on a valid case: {head}…"),
                detail: message.clone(),
            }];
        }
    };
    let mut diffs = Vec::new();
    for (i, (s, y)) in spec.requests.iter().zip(&got.requests).enumerate() {
        let kind = case.requests[i].kind();
        if s.rejects != y.rejects || s.accepted != y.accepted {
            // Classed by what differs, so one cause is one class whatever else rejects.
            let missing: Vec<&String> = s.rejects.difference(&y.rejects).collect();
            let extra: Vec<&String> = y.rejects.difference(&s.rejects).collect();
            let mut class = format!("{kind}:");
            if !missing.is_empty() {
                class += &format!(" yakkan lacks reject {missing:?}");
            }
            if !extra.is_empty() {
                class += &format!(" yakkan adds reject {extra:?}");
            }
            let decisions =
                |o: &model::RequestOut| if o.accepted { "accepted" } else { "rejected" };
            if s.accepted != y.accepted {
                class += &format!(" (spec {}, yakkan {})", decisions(s), decisions(y));
            }
            diffs.push(Diff {
                class,
                detail: format!("requests[{i}] {kind}: spec {s:?}\n    yakkan {y:?}"),
            });
        }
        for key in VALUE_KEYS {
            let (a, b) = (s.values.get(key), y.values.get(key));
            if a != b {
                diffs.push(Diff {
                    class: format!(
                        "{kind}: values.{key} differs (spec {}{})",
                        refs(&s.rejects),
                        // A rejected request owing something is one cause, whatever else.
                        if s.accepted {
                            context(case, i)
                        } else {
                            String::new()
                        }
                    ),
                    detail: format!("requests[{i}] {kind} values.{key}: spec {a:?}, yakkan {b:?}"),
                });
            }
        }
    }
    if spec.in_force != got.in_force {
        diffs.push(Diff {
            class: "ruleset.in_force differs".into(),
            detail: format!("spec {}, yakkan {}", spec.in_force, got.in_force),
        });
    }
    if spec.requests.len() != got.requests.len() {
        diffs.push(Diff {
            class: "number of request rulings".into(),
            detail: format!("{} vs {}", spec.requests.len(), got.requests.len()),
        });
    }
    let spec_ids: Vec<&str> = spec.contracts.iter().map(|c| c.id.as_str()).collect();
    let got_ids: Vec<&str> = got.contracts.iter().map(|c| c.id.as_str()).collect();
    if spec_ids != got_ids {
        diffs.push(Diff {
            class: "contracts[] lists other contracts".into(),
            detail: format!("spec {spec_ids:?}, yakkan {got_ids:?}"),
        });
    }
    for s in &spec.contracts {
        let Some(y) = got.contracts.iter().find(|c| c.id == s.id) else {
            continue;
        };
        if s.minimum_period_end != y.minimum_period_end {
            diffs.push(Diff {
                class: "contract minimum_period_end differs".into(),
                detail: format!(
                    "{}: spec {}, yakkan {}",
                    s.id, s.minimum_period_end, y.minimum_period_end
                ),
            });
        }
        if s.web_sandbox != y.web_sandbox {
            diffs.push(Diff {
                class: format!(
                    "contract web_sandbox: spec {} / yakkan {}",
                    s.web_sandbox, y.web_sandbox
                ),
                detail: format!("{}: spec {}, yakkan {}", s.id, s.web_sandbox, y.web_sandbox),
            });
        }
    }
    diffs
}

fn diffs_of(rules: &RuleSet, case: &GCase) -> Vec<Diff> {
    let spec = model::evaluate(case);
    compare(case, &spec, &yakkan_out(rules, case))
}

/// Smaller valid cases that still show `class`: drop requests, contracts and options one
/// at a time while the disagreement persists.
fn minimise(rules: &RuleSet, case: &GCase, class: &str) -> GCase {
    let still = |c: &GCase| c.is_valid() && diffs_of(rules, c).iter().any(|d| d.class == class);
    let mut best = case.clone();
    loop {
        let mut candidates: Vec<GCase> = Vec::new();
        for i in 0..best.requests.len() {
            let mut c = best.clone();
            c.requests.remove(i);
            candidates.push(c);
        }
        for i in 0..best.contracts.len() {
            let mut c = best.clone();
            c.contracts.remove(i);
            candidates.push(c);
            for j in 0..best.contracts[i].options.len() {
                let mut c = best.clone();
                c.contracts[i].options.remove(j);
                candidates.push(c);
            }
        }
        for (i, r) in best.requests.iter().enumerate() {
            if let GRequest::New { contract, .. } = r {
                for j in 0..contract.options.len() {
                    let mut c = best.clone();
                    if let GRequest::New { contract, .. } = &mut c.requests[i] {
                        contract.options.remove(j);
                    }
                    candidates.push(c);
                }
            }
        }
        if best.environment.is_some() {
            let mut c = best.clone();
            c.environment = None;
            candidates.push(c);
        }
        match candidates.into_iter().find(|c| still(c)) {
            Some(smaller) => best = smaller,
            None => return best,
        }
    }
}

#[test]
fn yakkan_agrees_with_an_independent_reading_of_spec() {
    let cases = env_number("YAKKAN_DIFF_CASES").map_or(DEFAULT_CASES, |n| n as usize);
    let seed = env_number("YAKKAN_DIFF_SEED").unwrap_or(DEFAULT_SEED);
    let rules = RuleSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"))
        .expect("the bundled rules load");
    let mut rng = Rng::new(seed);
    // class → (cases whose first disagreement it is, all occurrences, smallest example)
    let mut classes: BTreeMap<String, (usize, usize, Option<GCase>)> = BTreeMap::new();
    let mut failing = 0;
    let mut kinds_seen: BTreeSet<&str> = BTreeSet::new();
    for _ in 0..cases {
        let case = generate(&mut rng);
        assert!(case.is_valid(), "the generator made an invalid case");
        kinds_seen.extend(case.requests.iter().map(GRequest::kind));
        let diffs = diffs_of(&rules, &case);
        if diffs.is_empty() {
            continue;
        }
        failing += 1;
        for (n, d) in diffs.iter().enumerate() {
            let entry = classes.entry(d.class.clone()).or_default();
            entry.1 += 1;
            if n == 0 {
                entry.0 += 1;
            }
            let size = |c: &GCase| render(c).len();
            if entry.2.as_ref().is_none_or(|e| size(&case) < size(e)) {
                entry.2 = Some(case.clone());
            }
        }
    }
    assert_eq!(kinds_seen.len(), 6, "every request type generated");
    if failing == 0 {
        return;
    }
    let mut report = format!(
        "{failing} of {cases} cases disagree (seed {seed:#x}); classes by cases where it is the first disagreement:\n"
    );
    let mut ordered: Vec<_> = classes.into_iter().collect();
    ordered.sort_by_key(|(_, (first, all, _))| std::cmp::Reverse((*first, *all)));
    for (class, (first, all, example)) in &ordered {
        let example = example.as_ref().expect("each class keeps an example");
        let small = minimise(&rules, example, class);
        let detail: Vec<String> = diffs_of(&rules, &small)
            .into_iter()
            .filter(|d| &d.class == class)
            .map(|d| d.detail)
            .collect();
        report += &format!(
            "\n=== {class}\n    first in {first} cases, {all} occurrences{}\n{}\n  {}\n",
            if small.as_json {
                " (given to yakkan as JSON)"
            } else {
                ""
            },
            render(&small)
                .lines()
                .map(|l| format!("    | {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
            detail.join("\n  ")
        );
    }
    panic!("{report}");
}

/// The generator reaches what the test is meant to exercise, so a green run means
/// something: a fixed sample covers every request type, both decisions per type, a leap
/// day, timestamps with and without offsets, requests out of date order, requests on
/// contracts not in force, and a termination with an earlier stop's dates.
#[test]
fn the_generator_covers_what_it_should() {
    let mut rng = Rng::new(DEFAULT_SEED);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for _ in 0..600 {
        let case = generate(&mut rng);
        let text = render(&case);
        if text.contains("2028-02-29") {
            seen.insert("leap day".into());
        }
        if case.as_json {
            seen.insert("json".into());
        }
        if text.contains("+09:00\"") {
            seen.insert("offset".into());
        }
        if text
            .lines()
            .any(|l| l.contains("known_at: \"") && l.contains(":00\", restored"))
        {
            seen.insert("no offset".into());
        }
        let out = model::evaluate(&case);
        for r in &case.requests {
            if let GRequest::Outage { known_at, .. } = r {
                let jst = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
                let possible =
                    (known_at.instant() + chrono::Duration::hours(24)).with_timezone(&jst);
                if possible.time() == chrono::NaiveTime::MIN {
                    seen.insert("claim possible at 00:00".into());
                }
                if chrono::Datelike::day(&possible.date_naive().succ_opt().unwrap()) == 1 {
                    seen.insert("claim possible on a month's last day".into());
                }
            }
        }
        let dates: Vec<chrono::NaiveDate> = case
            .requests
            .iter()
            .filter_map(|r| match r {
                GRequest::Change { date, .. } | GRequest::Add { date, .. } => Some(*date),
                _ => None,
            })
            .collect();
        if dates.windows(2).any(|w| w[0] > w[1]) {
            seen.insert("out of order".into());
        }
        for (i, r) in case.requests.iter().enumerate() {
            if let GRequest::Terminate {
                contract,
                notice,
                requested_end,
                ..
            } = r
                && case.requests[..i].iter().any(|s| {
                    matches!(s, GRequest::Stop { contract: c, notice: n, requested_end: e, .. }
                        if c == contract && n == notice && e == requested_end)
                })
            {
                seen.insert("terminate with a stop's dates".into());
            }
        }
        for (r, o) in case.requests.iter().zip(&out.requests) {
            let decision = if o.accepted { "accepted" } else { "rejected" };
            seen.insert(format!("{} {decision}", r.kind()));
            for reference in &o.rejects {
                seen.insert(format!("{} {reference}", r.kind()));
            }
        }
    }
    let want = [
        "json",
        "leap day",
        "offset",
        "no offset",
        "out of order",
        "terminate with a stop's dates",
        "new_contract accepted",
        "new_contract rejected",
        "change_accounts accepted",
        "change_accounts 8",
        "add_option accepted",
        "add_option 9.1",
        "add_option 9.2.2",
        "terminate accepted",
        "terminate 11",
        "stop_option accepted",
        "stop_option 9.4",
        "outage_credit accepted",
        "outage_credit 14",
        "new_contract 4.3",
        "new_contract 6.1",
        "claim possible at 00:00",
        "claim possible on a month's last day",
    ];
    let missing: Vec<&str> = want
        .iter()
        .copied()
        .filter(|w| !seen.contains(*w))
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

/// Case files under `dir`, recursively, in name order.
fn case_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("a case folder")
        .map(|e| e.expect("an entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            case_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(path);
        }
    }
}

/// The model against the hand-derived expectations of the case corpus and the examples:
/// decisions, values, the rejecting refs the model knows, and contract fields. A check of
/// the model itself (its arithmetic and readings), sharing no code with yakkan: the files
/// are read by `differential/from_case.rs`. Fails on any difference, each named by file
/// and field.
#[test]
fn the_model_agrees_with_the_hand_derived_corpus() {
    const KNOWN: [&str; 13] = [
        "1", "2", "4.3", "5", "6.1", "6.2", "8", "9.1", "9.2", "9.2.2", "9.4", "11", "14",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    case_files(&root.join("tests/cases"), &mut files);
    case_files(&root.join("examples"), &mut files);
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in &files {
        let name = file
            .strip_prefix(root)
            .unwrap_or(file)
            .display()
            .to_string();
        let text = std::fs::read_to_string(file).expect("a case file");
        let (case, expect) = match differential::from_case::read(&text) {
            Ok((case, Some(expect))) if case.is_valid() => (case, expect),
            Ok(_) => continue,
            Err(e) => {
                problems.push(format!("{name}: unreadable here: {e}"));
                continue;
            }
        };
        let out = model::evaluate(&case);
        checked += 1;
        for (i, want) in expect.requests.iter().enumerate() {
            let Some(got) = out.requests.get(i) else {
                problems.push(format!("{name} requests[{i}]: no such request"));
                continue;
            };
            let decision = if got.accepted { "accepted" } else { "rejected" };
            if let Some(d) = &want.decision
                && d != decision
            {
                problems.push(format!(
                    "{name} requests[{i}]: expects {d}, model {decision} {:?}",
                    got.rejects
                ));
            }
            for r in &want.refs {
                if KNOWN.contains(&r.as_str()) && !got.accepted && !got.rejects.contains(r) {
                    problems.push(format!(
                        "{name} requests[{i}]: expects ref {r}, model {:?}",
                        got.rejects
                    ));
                }
            }
            for r in &want.not_refs {
                if got.rejects.contains(r) {
                    problems.push(format!(
                        "{name} requests[{i}]: expects no {r}, model {:?}",
                        got.rejects
                    ));
                }
            }
            for (key, want_text) in &want.values {
                if let Some(have) = got.values.get(key)
                    && have != want_text
                {
                    problems.push(format!(
                        "{name} requests[{i}] values.{key}: expects {want_text}, model {have}"
                    ));
                }
            }
        }
        for (id, want) in &expect.contracts {
            let Some(got) = out.contracts.iter().find(|c| &c.id == id) else {
                problems.push(format!(
                    "{name} contracts[{id}]: not among the model's contracts"
                ));
                continue;
            };
            if let Some(m) = &want.minimum_period_end
                && m != &got.minimum_period_end
            {
                problems.push(format!(
                    "{name} contracts[{id}].minimum_period_end: expects {m}, model {}",
                    got.minimum_period_end
                ));
            }
            if let Some(w) = want.web_sandbox
                && w != got.web_sandbox
            {
                problems.push(format!(
                    "{name} contracts[{id}].web_sandbox: expects {w}, model {}",
                    got.web_sandbox
                ));
            }
        }
    }
    assert!(checked >= 95, "only {checked} cases checked");
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn bundled_twice() -> &'static (RuleSet, RuleSet) {
    static RULES: std::sync::OnceLock<(RuleSet, RuleSet)> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        (RuleSet::load(&dir).unwrap(), RuleSet::load(&dir).unwrap())
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// The same case and rule set always give byte-identical output — evaluated twice,
    /// and under a second load of the same rules — and the compiled rules agree with the
    /// reference reading of SPEC in `differential/model.rs`.
    #[test]
    fn rulings_are_byte_identical_and_agree_with_the_reference(seed in proptest::prelude::any::<u64>()) {
        let (rules, again) = bundled_twice();
        let case = generate(&mut Rng::new(seed));
        let text = render(&case);
        let read = Case::from_str(rules, &text, Some("generated.yaml"));
        let read = read.map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
        let first = yakkan::evaluate(rules, &read).map(|r| r.to_json());
        let second = yakkan::evaluate(rules, &read).map(|r| r.to_json());
        let other = yakkan::evaluate(again, &read).map(|r| r.to_json());
        match (first, second, other) {
            (Ok(a), Ok(b), Ok(c)) => {
                proptest::prop_assert_eq!(&a, &b);
                proptest::prop_assert_eq!(&a, &c);
            }
            (Err(a), Err(b), Err(c)) => {
                proptest::prop_assert_eq!(a.to_string(), b.to_string());
                proptest::prop_assert_eq!(a.to_string(), c.to_string());
            }
            (a, b, c) => proptest::prop_assert!(false, "the evaluations differ: {a:?} / {b:?} / {c:?}"),
        }
        let diffs = diffs_of(rules, &case);
        proptest::prop_assert!(diffs.is_empty(), "{} disagreements on\n{text}", diffs.len());
    }
}
