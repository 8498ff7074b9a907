//! The floor for benchmark (b): the decisions the bundled rules make for the request types
//! of the typical case, hand-written in plain Rust over the same case and ruling types.
//! Numbers are written in as constants here on purpose — this is the yardstick, not the
//! product. Message texts are taken from the rule set so the output can be compared byte
//! for byte with the interpreter's.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use input::{Contract, ContractOption, Request};
use rust_decimal::Decimal;
use yakkan::RuleSet;
use yakkan::calendar::Timestamp;
use yakkan::calendar::{
    add_days, days_after, days_inclusive, jst_date, months_elapsed_from, period_end,
};
use yakkan::ruling::{
    ContractRuling, Decision, Finding, Outcome, RequestRuling, RuleSetStamp, Ruling, Value,
};

const KINDS: [&str; 5] = [
    "web_gateway",
    "firewall_type1",
    "firewall_type2",
    "private_connect",
    "remote_connect",
];
const BASE_KINDS: [&str; 3] = ["web_gateway", "firewall_type1", "firewall_type2"];

fn day(text: &str) -> NaiveDate {
    yakkan::calendar::parse_date(text).expect("a valid date")
}

fn in_force(contract: &Contract, on: NaiveDate) -> bool {
    contract.formed.is_some_and(|f| f <= on) && contract.ended.is_none_or(|e| on <= e)
}

/// The options held on `on`, with the 附則 transition (billing or not yet).
fn options_held(contract: &Contract, on: NaiveDate) -> Vec<ContractOption> {
    let r8 = on >= day("2026-04-01");
    let transition =
        contract.kind == "web_gateway" && contract.formed.is_some_and(|f| f <= day("2026-03-31"));
    let declared = contract
        .sandbox_continuation_declared
        .is_some_and(|d| d <= day("2026-03-31"));
    let mut held: Vec<ContractOption> = contract
        .options
        .iter()
        .filter(|o| o.kind == "dedicated_ip" || (r8 && o.kind == "web_sandbox"))
        .filter(|o| o.ended.is_none_or(|e| on <= e))
        .filter(|o| {
            let start = o.billing_start.unwrap_or(contract.billing_start);
            !(o.kind == "web_sandbox" && transition && !declared && start <= day("2026-04-01"))
        })
        .cloned()
        .collect();
    let listed = contract.options.iter().any(|o| o.kind == "web_sandbox");
    if r8 && transition && declared && !listed {
        held.push(ContractOption {
            kind: "web_sandbox".into(),
            billing_start: Some(day("2026-04-01")),
            ended: None,
            fees: None,
        });
    }
    held
}

fn options_in_force(contract: &Contract, on: NaiveDate) -> Vec<ContractOption> {
    if !in_force(contract, on) {
        return Vec::new();
    }
    let mut held = options_held(contract, on);
    held.retain(|o| o.billing_start.unwrap_or(contract.billing_start) <= on);
    held
}

fn accounts_on(contract: &Contract, on: NaiveDate) -> Decimal {
    contract
        .changes
        .iter()
        .rev()
        .find(|(from, _)| *from <= on)
        .map_or(contract.accounts, |(_, n)| *n)
}

fn basic_monthly(contract: &Contract, on: NaiveDate) -> Decimal {
    contract.fees.basic_monthly + contract.fees.per_account_monthly * accounts_on(contract, on)
}

fn option_monthly(option: &ContractOption, contract: &Contract, on: NaiveDate) -> Decimal {
    match (&*option.kind, &option.fees) {
        ("dedicated_ip", _) | (_, None) => Decimal::ZERO,
        (_, Some(fees)) => {
            fees.basic_monthly + fees.per_account_monthly * accounts_on(contract, on)
        }
    }
}

/// The end of a contract's last day in force, 24:00 Japan time.
fn service_end(contract: &Contract) -> Option<yakkan::calendar::Timestamp> {
    contract.ended.and_then(yakkan::calendar::end_of_day_jst)
}

fn remaining_fee(
    monthly: Decimal,
    start: NaiveDate,
    end: NaiveDate,
    effective: NaiveDate,
) -> Decimal {
    if effective >= end {
        return Decimal::ZERO;
    }
    let from = add_days(effective, 1).unwrap().max(start);
    (monthly * Decimal::from(days_inclusive(from, end)) / Decimal::from(days_inclusive(start, end)))
        .floor()
}

struct Native<'a> {
    rules: &'a RuleSet,
}

impl Native<'_> {
    fn finding(&self, id: &str, outcome: Outcome, values: &[(&str, String)]) -> Finding {
        let rule = self
            .rules
            .rules
            .iter()
            .find(|r| r.id == id)
            .expect("the rule exists");
        let mut message = rule.message.clone().expect("a finding rule has a message");
        for (name, value) in values {
            message.ja = message.ja.replace(&format!("{{{name}}}"), value);
            message.en = message.en.replace(&format!("{{{name}}}"), value);
        }
        Finding {
            rule: id.to_owned(),
            reference: rule.reference.clone(),
            cite: rule.cite.clone(),
            outcome,
            message,
            reconstructed: rule.reconstructed,
            explain: None,
        }
    }
}

/// The ruling of `case` by hand-written decisions (request types of the typical case:
/// new_contract, change_accounts, terminate, outage_credit; from 2026-04-01).
/// The case in the floor's own structs.
pub fn structs(case: &yakkan::Case) -> impl Sized + use<> {
    input::read(case)
}

pub fn ruling(rules: &RuleSet, case: &yakkan::Case) -> Ruling {
    let case = &input::read(case);
    let native = Native { rules };
    let mut contracts = case.contracts.clone();
    let mut decided = Vec::with_capacity(case.requests.len());
    let mut requests = Vec::with_capacity(case.requests.len());
    // Decisions in case order, each seeing the accepted requests before it.
    for (index, request) in case.requests.iter().enumerate() {
        let mut findings = Vec::new();
        let mut values = BTreeMap::new();
        match request {
            Request::NewContract { date, contract } => {
                let c = &contract;
                if !KINDS.contains(&c.kind.as_str()) {
                    findings.push(native.finding("art1-known-kind", Outcome::Reject, &[]));
                } else {
                    let item_ok = match c.kind.as_str() {
                        "private_connect" => c.item.as_deref() == Some("1gbps"),
                        "remote_connect" => c.item.as_deref() == Some("type_a"),
                        _ => c.item.is_none(),
                    };
                    if !item_ok {
                        findings.push(native.finding("art2-item-of-kind", Outcome::Reject, &[]));
                    }
                }
                if contracts
                    .iter()
                    .filter(|x| x.kind == c.kind && in_force(x, *date))
                    .count()
                    >= 3
                {
                    findings.push(native.finding("art4-3-contract-cap", Outcome::Reject, &[]));
                }
                if !c.accounts.fract().is_zero() || c.accounts < Decimal::from(50) {
                    findings.push(native.finding("art5-accounts", Outcome::Reject, &[]));
                }
                let connect = c.kind == "private_connect" || c.kind == "remote_connect";
                if connect
                    && !contracts
                        .iter()
                        .any(|x| BASE_KINDS.contains(&x.kind.as_str()) && in_force(x, *date))
                {
                    findings.push(native.finding(
                        "art6-1-connect-needs-gateway-or-firewall",
                        Outcome::Reject,
                        &[],
                    ));
                }
                let env = case.customer.environment.as_ref();
                let met = env.is_none_or(|e| {
                    e.policy_decided && (e.network.as_str() != "other" || e.settings_disclosed)
                });
                if !met {
                    findings.push(native.finding("art7-3-conditions-not-met", Outcome::Warn, &[]));
                }
                if c.kind == "remote_connect" {
                    findings.push(native.finding("art10-2-software-licence", Outcome::Info, &[]));
                }
                findings.push(native.finding("art12-payment-duties", Outcome::Info, &[]));
                if c.kind == "remote_connect" {
                    findings.push(native.finding("art15-2-2-remote-software", Outcome::Info, &[]));
                }
                if env.is_some_and(|e| e.network.as_str() == "other") {
                    findings.push(native.finding(
                        "art16-2-other-network-limits",
                        Outcome::Info,
                        &[],
                    ));
                }
                if findings.iter().all(|f| f.outcome != Outcome::Reject) {
                    let mut formed = (**c).clone();
                    formed.formed = Some(*date);
                    formed.formed_by = Some(index);
                    contracts.push(formed);
                }
            }
            Request::ChangeAccounts {
                date,
                contract,
                accounts,
            } => {
                if !accounts.fract().is_zero() || *accounts < Decimal::from(50) {
                    findings.push(native.finding("art5-accounts", Outcome::Reject, &[]));
                }
                let target = contracts.iter_mut().find(|c| &c.id == contract).unwrap();
                if !in_force(target, *date) {
                    findings.push(native.finding(
                        "art8-change-needs-contract-in-force",
                        Outcome::Reject,
                        &[],
                    ));
                }
                if findings.is_empty() {
                    let at = target.changes.partition_point(|(from, _)| from <= date);
                    match at.checked_sub(1).filter(|&i| target.changes[i].0 == *date) {
                        Some(i) => target.changes[i].1 = *accounts,
                        None => target.changes.insert(at, (*date, *accounts)),
                    }
                }
            }
            Request::Terminate {
                contract,
                notice_arrived,
                requested_end,
                ..
            } => {
                let target = contracts.iter_mut().find(|c| &c.id == contract).unwrap();
                let elapsed = days_after(*notice_arrived, 30).unwrap();
                let effective = requested_end.map_or(elapsed, |end| end.max(elapsed));
                if !in_force(target, *notice_arrived) {
                    findings.push(native.finding(
                        "art11-contract-not-in-force",
                        Outcome::Reject,
                        &[],
                    ));
                }
                values.insert(
                    "effective_date".to_owned(),
                    Value::Text(effective.to_string()),
                );
                // An end is never postponed; of two on one day, the first set stays.
                let accepted = findings.iter().all(|f| f.outcome != Outcome::Reject);
                if accepted && target.ended.is_none_or(|e| effective < e) {
                    target.ended = Some(effective);
                    target.ended_by = Some(index);
                }
            }
            // Decided on the settled timeline, below.
            Request::OutageCredit { .. } => {}
            _ => unimplemented!("the floor covers the typical case's request types"),
        }
        decided.push((findings, values));
    }
    // The settled timeline: amounts, and outage claims decided in case order.
    let mut credited: BTreeMap<&str, Vec<(Timestamp, Timestamp, i64)>> = BTreeMap::new();
    for (index, (request, (mut findings, mut values))) in
        case.requests.iter().zip(decided).enumerate()
    {
        match request {
            Request::Terminate {
                contract,
                general_terms_28,
                ..
            } => {
                let target = contracts.iter().find(|c| &c.id == contract).unwrap();
                let effective = match &values["effective_date"] {
                    Value::Text(text) => day(text),
                    _ => unreachable!("written above"),
                };
                let owes = target.ended_by == Some(index);
                let end = period_end(target.billing_start, 1).unwrap();
                let basic = if owes {
                    remaining_fee(
                        basic_monthly(target, effective),
                        target.billing_start,
                        end,
                        effective,
                    )
                } else {
                    Decimal::ZERO
                };
                let mut fee = if *general_terms_28 {
                    Decimal::ZERO
                } else {
                    basic
                };
                if !fee.is_zero() {
                    findings.push(native.finding(
                        "art13-1-early-termination-fee",
                        Outcome::Info,
                        &[("early_termination_fee", fee.to_string())],
                    ));
                }
                if *general_terms_28 && !basic.is_zero() {
                    findings.push(native.finding("art13-1-general-terms-28", Outcome::Info, &[]));
                }
                let notice = match request {
                    Request::Terminate { notice_arrived, .. } => *notice_arrived,
                    _ => unreachable!(),
                };
                let superseded =
                    in_force(target, notice) && target.ended.is_some_and(|e| e <= effective);
                match target.ended_by {
                    Some(by) if superseded && by != index => findings.push(native.finding(
                        "art13-1-end-set-by-another-request",
                        Outcome::Info,
                        &[("end_request", by.to_string())],
                    )),
                    None if superseded => findings.push(native.finding(
                        "art13-1-end-set-in-the-case",
                        Outcome::Info,
                        &[],
                    )),
                    _ => {}
                }
                let options: Decimal = if owes {
                    options_held(target, effective)
                        .iter()
                        .filter(|o| o.kind == "web_sandbox")
                        .filter(|o| o.billing_start.unwrap_or(target.billing_start) <= effective)
                        .map(|o| {
                            let start = o.billing_start.unwrap_or(target.billing_start);
                            remaining_fee(
                                option_monthly(o, target, effective),
                                start,
                                period_end(start, 1).unwrap(),
                                effective,
                            )
                        })
                        .sum()
                } else {
                    Decimal::ZERO
                };
                fee += options;
                if !options.is_zero() {
                    findings.push(native.finding(
                        "art13-2-options-end-with-contract",
                        Outcome::Info,
                        &[("early_termination_fee", fee.to_string())],
                    ));
                }
                let rejected = findings.iter().any(|f| f.outcome == Outcome::Reject);
                let owed = if rejected { Decimal::ZERO } else { fee };
                values.insert(
                    "early_termination_fee".to_owned(),
                    Value::Text(owed.to_string()),
                );
            }
            Request::OutageCredit {
                contract,
                attributable_to_provider,
                total,
                known_at,
                restored_at,
                claimed_on,
            } => {
                let target = contracts.iter().find(|c| &c.id == contract).unwrap();
                let began = jst_date(known_at);
                let named = target.formed_by.is_none_or(|by| by < index);
                if !(named && in_force(target, began)) {
                    findings.push(native.finding(
                        "art14-contract-in-force-when-outage-began",
                        Outcome::Reject,
                        &[],
                    ));
                }
                // One outage: the accepted claims whose windows overlap this one's,
                // directly or through one another; hours to the contract's last day.
                let earlier = credited.entry(contract.as_str()).or_default();
                let mut joined = vec![false; earlier.len()];
                let mut reach = vec![(*known_at, *restored_at)];
                while let Some((from, to)) = reach.pop() {
                    for (i, (a, b, _)) in earlier.iter().enumerate() {
                        if !joined[i] && *a < to && from < *b {
                            joined[i] = true;
                            reach.push((*a, *b));
                        }
                    }
                }
                let cut = service_end(target);
                let mut windows: Vec<(i64, i64)> = std::iter::once((*known_at, *restored_at))
                    .chain(
                        earlier
                            .iter()
                            .zip(&joined)
                            .filter(|(_, j)| **j)
                            .map(|(w, _)| (w.0, w.1)),
                    )
                    .map(|(a, b)| (a.timestamp(), cut.map_or(b, |c| b.min(c)).timestamp()))
                    .filter(|(a, b)| a < b)
                    .collect();
                windows.sort_unstable();
                let (mut seconds, mut reached) = (0i64, i64::MIN);
                for (a, b) in windows {
                    let a = a.max(reached);
                    if b > a {
                        seconds += b - a;
                        reached = b;
                    }
                }
                let hours = Decimal::from(seconds) / Decimal::from(3600);
                let before: i64 = earlier
                    .iter()
                    .zip(&joined)
                    .filter(|(_, j)| **j)
                    .map(|(w, _)| w.2)
                    .sum();
                let units =
                    i64::try_from((hours / Decimal::from(24)).floor().mantissa()).unwrap() - before;
                if !(*attributable_to_provider && *total) {
                    findings.push(native.finding(
                        "art14-provider-fault-total-outage",
                        Outcome::Reject,
                        &[],
                    ));
                }
                if hours < Decimal::from(24) {
                    findings.push(native.finding(
                        "art14-outage-24-hours",
                        Outcome::Reject,
                        &[("params.outage_min_hours", "24".to_owned())],
                    ));
                }
                if joined.iter().any(|j| *j) && units <= 0 {
                    findings.push(native.finding(
                        "art14-outage-already-reduced",
                        Outcome::Reject,
                        &[],
                    ));
                }
                let possible = *known_at + chrono::Duration::hours(24);
                if *claimed_on < jst_date(&possible) {
                    findings.push(native.finding(
                        "art14-claim-not-yet-possible",
                        Outcome::Reject,
                        &[("params.outage_min_hours", "24".to_owned())],
                    ));
                }
                let deadline = months_elapsed_from(&possible, 3).unwrap();
                if *claimed_on > deadline {
                    findings.push(native.finding(
                        "art14-claim-deadline",
                        Outcome::Reject,
                        &[("claim_deadline", deadline.to_string())],
                    ));
                }
                findings.push(native.finding(
                    "art15-1-no-availability-warranty",
                    Outcome::Info,
                    &[],
                ));
                let monthly = options_in_force(target, began)
                    .iter()
                    .fold(basic_monthly(target, began), |sum, o| {
                        sum + option_monthly(o, target, began)
                    });
                let valid = findings.iter().all(|f| f.outcome != Outcome::Reject);
                let credit = if valid {
                    (Decimal::from(units) * monthly / Decimal::from(30)).floor()
                } else {
                    Decimal::ZERO
                };
                if !credit.is_zero() {
                    findings.push(native.finding(
                        "appx3-outage-credit",
                        Outcome::Info,
                        &[
                            ("outage_units", units.to_string()),
                            ("credit", credit.to_string()),
                            ("params.credit_divisor", "30".to_owned()),
                        ],
                    ));
                }
                if valid {
                    earlier.push((*known_at, *restored_at, units));
                }
                values.insert(
                    "claim_deadline".to_owned(),
                    Value::Text(deadline.to_string()),
                );
                values.insert("outage_units".to_owned(), Value::Integer(units));
                values.insert("credit".to_owned(), Value::Text(credit.to_string()));
            }
            _ => {}
        }
        let rejected = findings.iter().any(|f| f.outcome == Outcome::Reject);
        requests.push(RequestRuling {
            index,
            kind: request.kind().to_owned(),
            decision: if rejected {
                Decision::Rejected
            } else {
                Decision::Accepted
            },
            values,
            findings,
            considered: Vec::new(),
        });
    }
    let as_of = case.as_of;
    let contract_rulings = contracts
        .iter()
        .map(|c| {
            let end = period_end(c.billing_start, 1).unwrap();
            let mut findings = Vec::new();
            if as_of <= end && in_force(c, as_of) {
                findings.push(native.finding(
                    "art3-minimum-period",
                    Outcome::Info,
                    &[("minimum_period_end", end.to_string())],
                ));
            }
            let sandbox = options_in_force(c, as_of)
                .iter()
                .any(|o| o.kind == "web_sandbox");
            if c.options
                .iter()
                .any(|o| o.kind == "dedicated_ip" && o.fees.is_some())
            {
                findings.push(native.finding("appx1-dedicated-ip-fee-fixed", Outcome::Warn, &[]));
            }
            let transition =
                c.kind == "web_gateway" && c.formed.is_some_and(|f| f <= day("2026-03-31"));
            let declared = c
                .sandbox_continuation_declared
                .is_some_and(|d| d <= day("2026-03-31"));
            if transition && !declared {
                findings.push(native.finding(
                    "suppl-2026-04-01-2-continues-without-sandbox",
                    Outcome::Info,
                    &[],
                ));
            }
            if transition && declared {
                findings.push(native.finding(
                    "suppl-2026-04-01-2-sandbox-carried-over",
                    Outcome::Info,
                    &[],
                ));
            }
            let mut values = BTreeMap::new();
            values.insert(
                "minimum_period_end".to_owned(),
                Value::Text(end.to_string()),
            );
            values.insert("web_sandbox".to_owned(), Value::Bool(sandbox));
            ContractRuling {
                id: c.id.clone(),
                values,
                findings,
                considered: Vec::new(),
            }
        })
        .collect();
    Ruling {
        ruleset: RuleSetStamp {
            name: rules.name.clone(),
            in_force: rules.revision_on(as_of).unwrap().date.to_string(),
            digest: rules.digest.clone(),
        },
        as_of: as_of.to_string(),
        contracts: contract_rulings,
        requests,
    }
}

/// The case in plain Rust structs, as a hand-written evaluator would hold it: read from
/// yakkan's case (the same reading for both sides of the comparison), field by field.
mod input {
    use chrono::NaiveDate;
    use rust_decimal::Decimal;
    use yakkan::calendar::Timestamp;
    use yakkan::expr::{Record, Value};

    pub struct Case {
        pub as_of: NaiveDate,
        pub customer: Customer,
        pub contracts: Vec<Contract>,
        pub requests: Vec<Request>,
    }

    pub struct Customer {
        pub environment: Option<Environment>,
    }

    pub struct Environment {
        pub policy_decided: bool,
        pub network: String,
        pub settings_disclosed: bool,
    }

    #[derive(Clone)]
    pub struct Contract {
        pub id: String,
        pub kind: String,
        pub item: Option<String>,
        pub accounts: Decimal,
        pub formed: Option<NaiveDate>,
        pub billing_start: NaiveDate,
        pub ended: Option<NaiveDate>,
        pub fees: Fees,
        pub sandbox_continuation_declared: Option<NaiveDate>,
        pub options: Vec<ContractOption>,
        /// Accepted account changes, by day: the settled timeline of `accounts`.
        pub changes: Vec<(NaiveDate, Decimal)>,
        /// The request whose end took effect.
        pub ended_by: Option<usize>,
        /// The request that formed it.
        pub formed_by: Option<usize>,
    }

    #[derive(Clone)]
    pub struct ContractOption {
        pub kind: String,
        pub billing_start: Option<NaiveDate>,
        pub ended: Option<NaiveDate>,
        pub fees: Option<Fees>,
    }

    #[derive(Clone, Default)]
    pub struct Fees {
        pub basic_monthly: Decimal,
        pub per_account_monthly: Decimal,
    }

    #[allow(dead_code)]
    pub enum Request {
        NewContract {
            date: NaiveDate,
            contract: Contract,
        },
        ChangeAccounts {
            date: NaiveDate,
            contract: String,
            accounts: Decimal,
        },
        Terminate {
            contract: String,
            notice_arrived: NaiveDate,
            requested_end: Option<NaiveDate>,
            general_terms_28: bool,
        },
        OutageCredit {
            contract: String,
            attributable_to_provider: bool,
            total: bool,
            known_at: Timestamp,
            restored_at: Timestamp,
            claimed_on: NaiveDate,
        },
        Other,
    }

    impl Request {
        pub fn kind(&self) -> &'static str {
            match self {
                Request::NewContract { .. } => "new_contract",
                Request::ChangeAccounts { .. } => "change_accounts",
                Request::Terminate { .. } => "terminate",
                Request::OutageCredit { .. } => "outage_credit",
                Request::Other => "other",
            }
        }
    }

    fn get(r: &Record, field: &str) -> Value {
        r.field(field).on_day(NaiveDate::MIN)
    }
    fn text(r: &Record, field: &str) -> String {
        get(r, field).as_text().unwrap_or_default().to_owned()
    }
    fn maybe_text(r: &Record, field: &str) -> Option<String> {
        get(r, field).as_text().map(str::to_owned)
    }
    fn date(r: &Record, field: &str) -> Option<NaiveDate> {
        get(r, field).as_date()
    }
    fn number(r: &Record, field: &str) -> Decimal {
        get(r, field).as_decimal().unwrap_or_default()
    }
    fn flag(r: &Record, field: &str) -> bool {
        get(r, field).as_bool().unwrap_or_default()
    }
    fn stamp(r: &Record, field: &str) -> Timestamp {
        match get(r, field) {
            Value::Timestamp(t) => t,
            _ => Timestamp::default(),
        }
    }
    fn fees(value: &Value) -> Option<Fees> {
        value.as_record().map(|f| Fees {
            basic_monthly: number(f, "basic_monthly"),
            per_account_monthly: number(f, "per_account_monthly"),
        })
    }
    fn contract(r: &Record) -> Contract {
        let billing_start = date(r, "billing_start").unwrap_or_default();
        Contract {
            id: text(r, "id"),
            kind: text(r, "kind"),
            item: maybe_text(r, "item"),
            accounts: number(r, "accounts"),
            formed: date(r, "formed"),
            billing_start,
            ended: date(r, "ended"),
            fees: fees(&get(r, "fees")).unwrap_or_default(),
            sandbox_continuation_declared: date(r, "sandbox_continuation_declared"),
            options: get(r, "options")
                .as_list()
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_record)
                .map(|o| ContractOption {
                    kind: text(o, "kind"),
                    billing_start: date(o, "billing_start"),
                    ended: date(o, "ended"),
                    fees: fees(&get(o, "fees")),
                })
                .collect(),
            changes: Vec::new(),
            ended_by: None,
            formed_by: None,
        }
    }

    pub fn read(case: &yakkan::Case) -> Case {
        let environment = get(&case.customer, "environment");
        let environment = environment.as_record().map(|e| Environment {
            policy_decided: flag(e, "policy_decided"),
            network: text(e, "network"),
            settings_disclosed: flag(e, "settings_disclosed"),
        });
        let requests = case
            .requests
            .iter()
            .map(|request| {
                let r = &request.record;
                match request.kind() {
                    "new_contract" => Request::NewContract {
                        date: request.date(),
                        contract: contract(request.proposal().expect("a proposal")),
                    },
                    "change_accounts" => Request::ChangeAccounts {
                        date: request.date(),
                        contract: text(r, "contract"),
                        accounts: number(r, "accounts"),
                    },
                    "terminate" => Request::Terminate {
                        contract: text(r, "contract"),
                        notice_arrived: request.date(),
                        requested_end: date(r, "requested_end"),
                        general_terms_28: flag(r, "general_terms_28"),
                    },
                    "outage_credit" => Request::OutageCredit {
                        contract: text(r, "contract"),
                        attributable_to_provider: flag(r, "attributable_to_provider"),
                        total: flag(r, "total"),
                        known_at: stamp(r, "known_at"),
                        restored_at: stamp(r, "restored_at"),
                        claimed_on: date(r, "claimed_on").unwrap_or_default(),
                    },
                    _ => Request::Other,
                }
            })
            .collect();
        Case {
            as_of: case.as_of,
            customer: Customer { environment },
            contracts: case.contracts.iter().map(|c| contract(c)).collect(),
            requests,
        }
    }
}
