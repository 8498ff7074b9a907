//! Settling the case: amounts are computed on the settled timeline, so they depend on the
//! case's dates and never on the order its requests are listed in.
//!
//! The property: requests that do not decide each other — account changes and options
//! dated before any end, notices on distinct days, outages apart — listed in any order,
//! give every request the same decision and the same values. The corpus
//! (`tests/cases/settling/`) holds the hand-derived figures; this test holds the order.

use std::sync::OnceLock;

use proptest::prelude::*;
use yakkan::ruling::Ruling;
use yakkan::{RuleSet, evaluate};

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        RuleSet::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap()
    })
}

/// One request of the generated case, on WG-1 (a Web gateway billed from 2026-05-01,
/// minimum period 05-01 .. 05-31), written as a case line.
#[derive(Debug, Clone)]
enum Spec {
    /// A change dated 04-11 + day (before any notice takes effect), to `accounts`.
    Change { day: u32, accounts: u32 },
    /// A Web sandbox applied for on 04-11 + day, billed `later` days after.
    Sandbox { day: u32, later: u32 },
    /// A notice arriving 04-20 + day (each notice on its own day), effective 30 days on.
    Terminate { day: u32 },
    /// An outage known on 04-12 + 4 × slot, 10:00, lasting `hours` (slots never overlap).
    Outage { slot: u32, hours: u32 },
}

fn date(base_day: u32, offset: u32) -> String {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 4, base_day).unwrap()
        + chrono::Duration::days(i64::from(offset));
    day.to_string()
}

impl Spec {
    fn line(&self) -> String {
        match self {
            Spec::Change { day, accounts } => format!(
                "  - {{ type: change_accounts, date: {}, contract: WG-1, accounts: {accounts} }}",
                date(11, *day)
            ),
            Spec::Sandbox { day, later } => format!(
                "  - {{ type: add_option, date: {}, contract: WG-1, option: web_sandbox, billing_start: {}, fees: {{ per_account_monthly: \"90\" }} }}",
                date(11, *day),
                date(11, day + later)
            ),
            Spec::Terminate { day } => format!(
                "  - {{ type: terminate, contract: WG-1, notice_arrived: {} }}",
                date(20, *day)
            ),
            Spec::Outage { slot, hours } => {
                let known = chrono::NaiveDate::from_ymd_opt(2026, 4, 12).unwrap()
                    + chrono::Duration::days(i64::from(4 * slot));
                let known = known.and_hms_opt(10, 0, 0).unwrap();
                let restored = known + chrono::Duration::hours(i64::from(*hours));
                format!(
                    "  - {{ type: outage_credit, contract: WG-1, attributable_to_provider: true, total: true, known_at: \"{}+09:00\", restored_at: \"{}+09:00\", claimed_on: 2026-06-10 }}",
                    known.format("%Y-%m-%dT%H:%M:%S"),
                    restored.format("%Y-%m-%dT%H:%M:%S")
                )
            }
        }
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        (0u32..38, 50u32..400).prop_map(|(day, accounts)| Spec::Change { day, accounts }),
        (0u32..38, 0u32..12).prop_map(|(day, later)| Spec::Sandbox { day, later }),
        (0u32..8).prop_map(|day| Spec::Terminate { day }),
        (0u32..4, 12u32..90).prop_map(|(slot, hours)| Spec::Outage { slot, hours }),
    ]
}

/// Specs that do not decide each other: changes and notices on distinct days (of two on
/// one day, the later listed stands), outages in distinct slots.
fn independent(specs: Vec<Spec>) -> Vec<Spec> {
    let mut changes = Vec::new();
    let mut notices = Vec::new();
    let mut slots = Vec::new();
    specs
        .into_iter()
        .filter(|s| match s {
            Spec::Change { day, .. } if changes.contains(day) => false,
            Spec::Change { day, .. } => {
                changes.push(*day);
                true
            }
            Spec::Terminate { day } if notices.contains(day) => false,
            Spec::Terminate { day } => {
                notices.push(*day);
                true
            }
            Spec::Outage { slot, .. } if slots.contains(slot) => false,
            Spec::Outage { slot, .. } => {
                slots.push(*slot);
                true
            }
            _ => true,
        })
        .collect()
}

fn case(specs: &[&Spec]) -> String {
    let mut text = String::from(
        "as_of: 2026-06-15\ncustomer: { id: C-SETTLE }\ncontracts:\n  - { id: WG-1, kind: web_gateway, accounts: 100, formed: 2026-04-10, billing_start: 2026-05-01,\n      fees: { basic_monthly: \"20000\", per_account_monthly: \"300\" } }\nrequests:\n",
    );
    for spec in specs {
        text.push_str(&spec.line());
        text.push('\n');
    }
    text
}

fn ruling(text: &str) -> Ruling {
    let case = yakkan::expect::case_from_str(rules(), text, Some("settling.yaml")).unwrap();
    evaluate(rules(), &case).unwrap()
}

/// Each request's decision and values, by its place in `order`.
fn by_request(ruling: &Ruling, order: &[usize]) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = ruling
        .requests
        .iter()
        .map(|r| {
            let shown = format!("{:?} {:?}", r.decision, r.values);
            (order[r.index], shown)
        })
        .collect();
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn permuting_independent_requests_never_changes_an_amount(
        (specs, order) in prop::collection::vec(spec(), 1..9)
            .prop_map(independent)
            .prop_flat_map(|specs| {
                let order: Vec<usize> = (0..specs.len()).collect();
                (Just(specs), Just(order).prop_shuffle())
            })
    ) {
        let listed: Vec<&Spec> = specs.iter().collect();
        let shuffled: Vec<&Spec> = order.iter().map(|&i| &specs[i]).collect();
        let identity: Vec<usize> = (0..specs.len()).collect();
        let first = ruling(&case(&listed));
        let second = ruling(&case(&shuffled));
        prop_assert_eq!(by_request(&first, &identity), by_request(&second, &order));
    }
}

/// The example, both ways round: a terminate listed before the change and the
/// option that stand on its 解約日 owes what it owes when listed after them.
#[test]
fn a_terminate_listed_first_owes_what_it_owes_listed_last() {
    let terminate = Spec::Terminate { day: 0 };
    let change = Spec::Change {
        day: 9,
        accounts: 300,
    };
    let sandbox = Spec::Sandbox { day: 14, later: 0 };
    let first = ruling(&case(&[&terminate, &change, &sandbox]));
    let last = ruling(&case(&[&change, &sandbox, &terminate]));
    let fee = |r: &Ruling, i: usize| r.requests[i].values["early_termination_fee"].to_string();
    assert_eq!(fee(&first, 0), fee(&last, 2));
    // 05-20 effective; 13.1: (20000 + 300 × 300) × 11 / 31 = 39032 (floored);
    // 13.2: sandbox billed 04-25, period 04-25 .. 05-24: 90 × 300 × 4 / 30 = 3600.
    assert_eq!(fee(&first, 0), "\"42632\"");
}

/// `--explain` shows, for a settled amount, which request put each fact it read there.
#[test]
fn explain_names_the_requests_behind_a_settled_amount() {
    let terminate = Spec::Terminate { day: 0 };
    let change = Spec::Change {
        day: 9,
        accounts: 300,
    };
    let text = case(&[&terminate, &change]);
    let case = yakkan::expect::case_from_str(rules(), &text, Some("settling.yaml")).unwrap();
    let settings = yakkan::eval::Settings {
        explain: true,
        explain_all: false,
    };
    let (ruling, _) = yakkan::eval::evaluate_with(rules(), &case, settings).unwrap();
    let finding = ruling.requests[0]
        .findings
        .iter()
        .find(|f| f.rule == "art13-1-early-termination-fee")
        .expect("the 13.1 amount is due");
    let explain = finding.explain.as_ref().unwrap();
    let facts: Vec<String> = explain
        .settled
        .iter()
        .map(|s| format!("{} {} {}", s.request, s.kind, s.fact))
        .collect();
    assert!(
        facts.contains(&"1 change_accounts accounts = 300 from 2026-04-20".to_owned()),
        "{facts:?}"
    );
    assert!(
        facts.contains(&"0 terminate ended on 2026-05-20".to_owned()),
        "{facts:?}"
    );
}
