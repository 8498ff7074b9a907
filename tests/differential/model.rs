//! A second implementation of SPEC's decisions, written from SPEC §1–§3 (the table, "State
//! over time, and requests on things not in force" and "Settling the case: amounts on the
//! whole timeline, once") alone. It shares nothing with yakkan but `chrono` and
//! `rust_decimal`: its own calendar, its own dated state.
//!
//! Two passes, as SPEC reads the terms: the requests are decided in case order, each
//! seeing the accepted requests before it; then, on the settled timeline (every accepted
//! request's facts, each on its own dates), every amount is computed once — the 13.1/13.2
//! amount by the request whose end takes effect, on its own 解約日 — and the outage claims
//! are decided, one outage (overlapping windows) one reduction.
//!
//! The numbers below are SPEC's reading of the terms; they live here because this is an
//! independent oracle, not the evaluator (the evaluator keeps them in `rules/`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime};
use rust_decimal::Decimal;

use super::case::{Fees, GCase, GContract, GRequest};

const KINDS: [&str; 5] = [
    "web_gateway",
    "firewall_type1",
    "firewall_type2",
    "private_connect",
    "remote_connect",
];
const BASE_KINDS: [&str; 3] = ["web_gateway", "firewall_type1", "firewall_type2"];
const CONNECT_KINDS: [&str; 2] = ["private_connect", "remote_connect"];
const SANDBOX: &str = "web_sandbox";
const DEDICATED_IP: &str = "dedicated_ip";
const CAP: usize = 3;
const MIN_ACCOUNTS: i64 = 50;
const NOTICE_DAYS: i64 = 30;
const CLAIM_MONTHS: u32 = 3;

fn r8() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()
}
fn r8_eve() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
}
fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap()
}

// ---- Civil Code calendar, written here from 民法 第140条–第143条 -------------------------

fn last_day(year: i32, month: u32) -> u32 {
    (28..=31)
        .rev()
        .find(|d| NaiveDate::from_ymd_opt(year, month, *d).is_some())
        .unwrap()
}

fn month_plus(year: i32, month: u32, n: u32) -> (i32, u32) {
    let m0 = (month - 1) + n;
    (year + (m0 / 12) as i32, m0 % 12 + 1)
}

/// Last day of an `n`-month period whose first day is `first` (民法 第143条第2項): the day
/// before the corresponding day of the last month, or that month's last day if none.
fn months_end(first: NaiveDate, n: u32) -> NaiveDate {
    let (y, m) = month_plus(first.year(), first.month(), n);
    match NaiveDate::from_ymd_opt(y, m, first.day()) {
        Some(corresponding) => corresponding - Duration::days(1),
        None => NaiveDate::from_ymd_opt(y, m, last_day(y, m)).unwrap(),
    }
}

/// Last day of a one-month period whose start day counts (art. 3, 9.3: the terms name
/// the 起算日).
pub fn one_month_end(start: NaiveDate) -> NaiveDate {
    months_end(start, 1)
}

/// The claim deadline (art. 14, SPEC §3): `n` months from the moment the claim becomes
/// possible. Its Japan-time day is not counted unless the moment is exactly 00:00
/// (民法 第140条 and its ただし書), so the period starts the next day; then 第143条.
pub fn claim_deadline(possible: DateTime<FixedOffset>, n: u32) -> NaiveDate {
    let local = possible.with_timezone(&jst());
    let first = if local.time() == NaiveTime::from_hms_opt(0, 0, 0).unwrap() {
        local.date_naive()
    } else {
        local.date_naive() + Duration::days(1)
    };
    months_end(first, n)
}

fn jst_date(t: DateTime<FixedOffset>) -> NaiveDate {
    t.with_timezone(&jst()).date_naive()
}

/// 別紙2: monthly × remaining ÷ period, floored; nothing once the period has run.
fn remaining_fee(
    monthly: Decimal,
    start: NaiveDate,
    end_of_period: NaiveDate,
    effective: NaiveDate,
) -> Decimal {
    if effective >= end_of_period {
        return Decimal::ZERO;
    }
    let period = (end_of_period - start).num_days() + 1;
    let from = (effective + Duration::days(1)).max(start);
    let remaining = (end_of_period - from).num_days() + 1;
    (monthly * Decimal::from(remaining) / Decimal::from(period)).floor()
}

// ---- the dated state -------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Opt {
    kind: String,
    /// Held (on the contract) from this day.
    held_from: NaiveDate,
    /// In force (billed) from this day.
    start: NaiveDate,
    /// Start of its own minimum period (9.3).
    billing_start: NaiveDate,
    /// Its `ended` as the case lists it.
    listed_end: Option<NaiveDate>,
    /// Its own end as the requests accepted so far set it: the earliest of the listed one
    /// and the accepted stops'. The contract's end is the contract's, and ends it too.
    end: Option<NaiveDate>,
    fees: Fees,
}

impl Opt {
    fn held(&self, d: NaiveDate) -> bool {
        self.held_from <= d && self.end.is_none_or(|e| d <= e)
    }
    fn in_force(&self, d: NaiveDate) -> bool {
        self.start <= d && self.end.is_none_or(|e| d <= e)
    }
    fn monthly(&self, accounts: Decimal) -> Decimal {
        if self.kind == DEDICATED_IP {
            Decimal::ZERO // 別紙1: 0 yen, whatever fees are shown
        } else {
            self.fees.basic + self.fees.per_account * accounts
        }
    }
}

#[derive(Debug, Clone)]
struct K {
    id: String,
    kind: String,
    item: Option<String>,
    formed: Option<NaiveDate>,
    billing_start: NaiveDate,
    /// Its `ended` as the case lists it.
    listed_end: Option<NaiveDate>,
    /// The earliest of the listed end and the accepted terminations' so far.
    end: Option<NaiveDate>,
    initial_accounts: Decimal,
    /// (from, count), in the order the requests added them.
    changes: Vec<(NaiveDate, Decimal)>,
    fees: Fees,
    options: Vec<Opt>,
}

impl K {
    fn in_force(&self, d: NaiveDate) -> bool {
        self.formed.is_some_and(|f| f <= d) && self.end.is_none_or(|e| d <= e)
    }
    fn accounts_on(&self, d: NaiveDate) -> Decimal {
        let mut best: Option<(NaiveDate, Decimal)> = None;
        for &(from, n) in &self.changes {
            if from <= d && best.is_none_or(|(b, _)| from >= b) {
                best = Some((from, n));
            }
        }
        best.map_or(self.initial_accounts, |(_, n)| n)
    }
    fn basic_monthly(&self, d: NaiveDate) -> Decimal {
        self.fees.basic + self.fees.per_account * self.accounts_on(d)
    }
    /// 別紙3's monthly fee on `d`: the basic service and the options in force that day.
    fn monthly_with_options(&self, d: NaiveDate) -> Decimal {
        let accounts = self.accounts_on(d);
        let mut monthly = self.basic_monthly(d);
        for o in &self.options {
            if o.in_force(d) && (o.kind != SANDBOX || d >= r8()) {
                monthly += o.monthly(accounts);
            }
        }
        monthly
    }
    fn sandbox_in_force(&self, d: NaiveDate) -> bool {
        d >= r8()
            && self.in_force(d)
            && self
                .options
                .iter()
                .any(|o| o.kind == SANDBOX && o.in_force(d))
    }
    fn holds(&self, kind: &str, d: NaiveDate) -> Option<usize> {
        self.options
            .iter()
            .rposition(|o| o.kind == kind && o.held(d))
    }
}

fn option_from(o: &super::case::GOption, contract_billing: NaiveDate, held_from: NaiveDate) -> Opt {
    let billing_start = o.billing_start.unwrap_or(contract_billing);
    let (held_from, start) = if o.kind == SANDBOX {
        (held_from.max(r8()), billing_start.max(r8()))
    } else {
        (held_from, billing_start)
    };
    Opt {
        kind: o.kind.clone(),
        held_from,
        start,
        billing_start,
        listed_end: o.ended,
        end: o.ended,
        fees: o.fees.clone().unwrap_or_default(),
    }
}

fn contract_from(c: &GContract, formed: Option<NaiveDate>) -> K {
    let held_from = formed.unwrap_or(c.billing_start);
    let mut options: Vec<Opt> = Vec::new();
    let pre_r8_gateway = c.kind == "web_gateway" && formed.is_some_and(|f| f <= r8_eve());
    let timely = c.declared.is_some_and(|d| d <= r8_eve());
    let mut carried = false;
    for o in &c.options {
        if pre_r8_gateway && o.kind == SANDBOX {
            if timely {
                // 附則2 and "Settling the case": a Web sandbox listed on a contract with a
                // timely declaration, whatever its billing_start, is the carried-over
                // option (billed from its listed billing_start, with its listed fees).
                carried = true;
            } else if o.billing_start.unwrap_or(c.billing_start) <= r8() {
                continue; // 附則2: not continued without a timely declaration
            }
            // (no timely declaration, billing after 2026-04-01: a new option, art. 9)
        }
        options.push(option_from(o, c.billing_start, held_from));
    }
    if pre_r8_gateway && timely && !carried {
        // 附則2: held from 2026-04-01 whether or not the case lists it; no fee is shown.
        options.insert(
            0,
            Opt {
                kind: SANDBOX.into(),
                held_from: r8(),
                start: r8(),
                billing_start: r8(),
                listed_end: None,
                end: None,
                fees: Fees::default(),
            },
        );
    }
    K {
        id: c.id.clone(),
        kind: c.kind.clone(),
        item: c.item.clone(),
        formed,
        billing_start: c.billing_start,
        listed_end: c.ended,
        end: c.ended,
        initial_accounts: c.accounts,
        changes: Vec::new(),
        fees: c.fees.clone().unwrap_or_default(),
        options,
    }
}

// ---- results ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub struct RequestOut {
    pub accepted: bool,
    pub rejects: BTreeSet<String>,
    pub values: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContractOut {
    pub id: String,
    pub minimum_period_end: String,
    pub web_sandbox: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Out {
    /// The latest revision in force on `as_of`.
    pub in_force: String,
    pub requests: Vec<RequestOut>,
    pub contracts: Vec<ContractOut>,
}

fn whole_at_least(n: Decimal, min: i64) -> bool {
    n.fract().is_zero() && n >= Decimal::from(min)
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

struct State {
    contracts: Vec<K>,
    /// Index into `contracts` of every id the case knows; `None` until formed.
    known: BTreeMap<String, Option<usize>>,
}

impl State {
    fn index(&self, id: &str) -> Option<usize> {
        self.known.get(id).copied().flatten()
    }
    fn get(&self, id: &str) -> Option<&K> {
        self.index(id).map(|i| &self.contracts[i])
    }
    fn get_mut(&mut self, id: &str) -> Option<&mut K> {
        let i = self.index(id)?;
        Some(&mut self.contracts[i])
    }
    fn in_force(&self, id: &str, d: NaiveDate) -> bool {
        self.get(id).is_some_and(|k| k.in_force(d))
    }
    fn holds_kind(&self, kinds: &[&str], d: NaiveDate) -> bool {
        self.contracts
            .iter()
            .any(|k| kinds.contains(&k.kind.as_str()) && k.in_force(d))
    }
    /// 9.2, 9.2.2 and 6.2 for an option of `kind` on a contract of `contract_kind`;
    /// `forming` when the contract is the `new_contract` itself (a new Web gateway is the
    /// gateway 6.2 asks for).
    fn judge_option(
        &self,
        rejects: &mut BTreeSet<String>,
        kind: &str,
        contract_kind: &str,
        forming: bool,
        d: NaiveDate,
    ) {
        if kind == DEDICATED_IP {
            return;
        }
        if kind != SANDBOX || d < r8() {
            rejects.insert("9.2".into());
            return;
        }
        if contract_kind != "web_gateway" {
            rejects.insert("9.2.2".into());
        }
        let itself = forming && contract_kind == "web_gateway";
        if !itself && !self.holds_kind(&["web_gateway"], d) {
            rejects.insert("6.2".into());
        }
    }
}

// ---- the settled timeline --------------------------------------------------------------

/// Who set an end: a listed `ended`, or the accepted request at that index. On one day the
/// end set first takes effect, so the derived order (listed, then case order) is the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Setter {
    Listed,
    Request(usize),
}

/// An accepted termination: the fact it adds to the timeline.
struct Terminated {
    index: usize,
    contract: usize,
    effective: NaiveDate,
    notice: NaiveDate,
    gt28: bool,
}

/// An accepted option stop: the option it names is fixed when it is decided (the
/// last-listed one of that kind held on its notice date, as the requests before it left
/// the contract).
struct Stopped {
    index: usize,
    contract: usize,
    option: usize,
    effective: NaiveDate,
}

/// Every accepted request's facts, each on its own dates: the state after the last request,
/// with who set each end.
struct Settled<'a> {
    st: &'a State,
    terminated: Vec<Terminated>,
    stopped: Vec<Stopped>,
}

impl Settled<'_> {
    /// The contract's end that takes effect: the earliest set in the case, and on one day
    /// the one set first.
    fn contract_end(&self, k: usize) -> Option<(NaiveDate, Setter)> {
        let listed = self.st.contracts[k].listed_end.map(|e| (e, Setter::Listed));
        let requested = self
            .terminated
            .iter()
            .filter(|t| t.contract == k)
            .map(|t| (t.effective, Setter::Request(t.index)));
        listed.into_iter().chain(requested).min()
    }

    /// The option's end that takes effect: its own listed end and stops, and its
    /// contract's end (an option ends with its contract).
    fn option_end(&self, k: usize, j: usize) -> Option<(NaiveDate, Setter)> {
        let listed = self.st.contracts[k].options[j]
            .listed_end
            .map(|e| (e, Setter::Listed));
        let stops = self
            .stopped
            .iter()
            .filter(|s| s.contract == k && s.option == j)
            .map(|s| (s.effective, Setter::Request(s.index)));
        listed
            .into_iter()
            .chain(stops)
            .chain(self.contract_end(k))
            .min()
    }

    /// 13.1 and 13.2, owed once by the termination whose end takes effect, computed on its
    /// own 解約日: the accounts that day, and the options held that day that end with the
    /// contract (an option billing only after the 解約日 is not held then and owes nothing;
    /// one ended earlier, or on that day by an end set first, owed its part then). A notice
    /// before 2026-04-01 is judged under the original text, which knows no Web sandbox
    /// option (SPEC §1: the rule versions of the notice date), so it prices none.
    fn termination_fee(&self, t: &Terminated) -> Decimal {
        let eff = t.effective;
        if self.contract_end(t.contract) != Some((eff, Setter::Request(t.index))) {
            return Decimal::ZERO; // another end takes effect: this notice owes nothing
        }
        let k = &self.st.contracts[t.contract];
        let mut fee = Decimal::ZERO;
        if !t.gt28 {
            let end = one_month_end(k.billing_start);
            fee += remaining_fee(k.basic_monthly(eff), k.billing_start, end, eff);
        }
        if t.notice >= r8() {
            let accounts = k.accounts_on(eff);
            for (j, o) in k.options.iter().enumerate() {
                let held_then = o.held_from <= eff && o.start <= eff;
                let ends_with_it =
                    self.option_end(t.contract, j) == Some((eff, Setter::Request(t.index)));
                if o.kind == SANDBOX && held_then && ends_with_it {
                    let end = one_month_end(o.billing_start);
                    fee += remaining_fee(o.monthly(accounts), o.billing_start, end, eff);
                }
            }
        }
        fee
    }

    /// 13.2, owed by the stop whose end takes effect, on its own 解約日.
    fn stop_fee(&self, s: &Stopped) -> Decimal {
        let eff = s.effective;
        if self.option_end(s.contract, s.option) != Some((eff, Setter::Request(s.index))) {
            return Decimal::ZERO;
        }
        let k = &self.st.contracts[s.contract];
        let o = &k.options[s.option];
        if o.kind != SANDBOX {
            return Decimal::ZERO; // dedicated_ip has no minimum period
        }
        let end = one_month_end(o.billing_start);
        remaining_fee(o.monthly(k.accounts_on(eff)), o.billing_start, end, eff)
    }

    /// The end of the contract's last day in force, 24:00 Japan time of its settled end.
    fn service_end(&self, k: usize) -> Option<DateTime<FixedOffset>> {
        self.contract_end(k).map(|(e, _)| {
            let midnight = (e + Duration::days(1)).and_time(NaiveTime::MIN);
            midnight
                .and_local_timezone(jst())
                .single()
                .expect("Japan time has no gaps")
        })
    }
}

/// One outage of a contract: the union of the accepted claims' windows that overlap
/// (an interval, as overlapping intervals make), and the units credited to them so far.
#[derive(Debug, Clone, Copy)]
struct Outage {
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
    credited: i64,
}

fn whole_units(from: DateTime<FixedOffset>, to: DateTime<FixedOffset>) -> i64 {
    (to - from).num_seconds().max(0).div_euclid(24 * 3600)
}

pub fn evaluate(case: &GCase) -> Out {
    let mut st = State {
        contracts: Vec::new(),
        known: BTreeMap::new(),
    };
    for c in &case.contracts {
        st.known.insert(c.id.clone(), Some(st.contracts.len()));
        st.contracts.push(contract_from(c, c.formed));
    }
    // The kind a contract named by a new_contract has, formed or not: 9.2.2 asks whether
    // the option attaches to a Web gateway, whatever its state (9.1 speaks to that).
    let mut proposed_kind: BTreeMap<String, String> = BTreeMap::new();
    for r in &case.requests {
        if let GRequest::New { contract, .. } = r {
            st.known.insert(contract.id.clone(), None);
            proposed_kind
                .entry(contract.id.clone())
                .or_insert_with(|| contract.kind.clone());
        }
    }
    // The request that formed each contract a new_contract formed: a claim names only
    // what the requests before it formed.
    let mut formed_by: BTreeMap<usize, usize> = BTreeMap::new();
    let mut terminated = Vec::new();
    let mut stopped = Vec::new();
    // Decisions in case order, each seeing the accepted requests before it. Amounts wait
    // for the settled timeline; outage claims are decided there (nothing depends on them).
    let mut requests = Vec::new();
    for (index, r) in case.requests.iter().enumerate() {
        let mut rejects = BTreeSet::new();
        let mut values = BTreeMap::new();
        // A request about a formed contract of no known kind or item (a listed one: a
        // new_contract of one is rejected) is refused citing 1 or 2, and changes nothing.
        let wrong = match r {
            GRequest::New { .. } | GRequest::Outage { .. } => None,
            _ => st
                .get(r.target())
                .filter(|k| k.formed.is_some())
                .and_then(|k| kind_or_item_wrong(&k.kind, k.item.as_deref())),
        };
        if let Some(article) = wrong {
            rejects.insert(article.into());
        }
        match r {
            GRequest::New { date, contract: c } => {
                let d = *date;
                if let Some(article) = kind_or_item_wrong(&c.kind, c.item.as_deref()) {
                    rejects.insert(article.into());
                }
                let same_kind = st
                    .contracts
                    .iter()
                    .filter(|k| k.kind == c.kind && k.in_force(d))
                    .count();
                if same_kind >= CAP {
                    rejects.insert("4.3".into());
                }
                if !whole_at_least(c.accounts, MIN_ACCOUNTS) {
                    rejects.insert("5".into());
                }
                // 6.1 on the request date; no base contract in force on its billing_start
                // is a warn (a condition of use), not compared here.
                if CONNECT_KINDS.contains(&c.kind.as_str()) && !st.holds_kind(&BASE_KINDS, d) {
                    rejects.insert("6.1".into());
                }
                for o in &c.options {
                    st.judge_option(&mut rejects, &o.kind, &c.kind, true, d);
                }
                if rejects.is_empty() {
                    formed_by.insert(st.contracts.len(), index);
                    st.known.insert(c.id.clone(), Some(st.contracts.len()));
                    st.contracts.push(contract_from(c, Some(d)));
                }
            }
            GRequest::Change {
                date,
                contract,
                accounts,
            } => {
                // On a connect contract with no base contract in force that day: a warn
                // citing 6.1 (not compared here), never a refusal.
                if !st.in_force(contract, *date) {
                    rejects.insert("8".into());
                }
                if !whole_at_least(*accounts, MIN_ACCOUNTS) {
                    rejects.insert("5".into());
                }
                if rejects.is_empty() {
                    st.get_mut(contract)
                        .unwrap()
                        .changes
                        .push((*date, *accounts));
                }
            }
            GRequest::Add {
                date,
                contract,
                option,
                billing_start,
                fees,
            } => {
                let d = *date;
                if !st.in_force(contract, d) {
                    rejects.insert("9.1".into());
                }
                let kind = st
                    .get(contract)
                    .map(|k| k.kind.clone())
                    .or_else(|| proposed_kind.get(contract).cloned())
                    .unwrap_or_default();
                st.judge_option(&mut rejects, option, &kind, false, d);
                if rejects.is_empty() {
                    // A second option of a kind already held is accepted with a caution
                    // (warn 9.2, not compared here) and held beside the first: adding never
                    // removes an option.
                    let k = st.get_mut(contract).unwrap();
                    let o = super::case::GOption {
                        kind: option.clone(),
                        billing_start: Some(billing_start.unwrap_or(d)),
                        ended: None,
                        fees: fees.clone(),
                    };
                    k.options.push(option_from(&o, k.billing_start, d));
                }
            }
            GRequest::Terminate {
                contract,
                notice,
                requested_end,
                gt28,
            } => {
                let eff = later(*notice + Duration::days(NOTICE_DAYS), *requested_end);
                values.insert("effective_date".into(), ymd(eff));
                if !st.in_force(contract, *notice) {
                    rejects.insert("11".into());
                }
                if rejects.is_empty() {
                    // Never postponed: the end is the earliest set.
                    let k = st.index(contract).unwrap();
                    let end = &mut st.contracts[k].end;
                    *end = Some(end.map_or(eff, |e| e.min(eff)));
                    terminated.push(Terminated {
                        index,
                        contract: k,
                        effective: eff,
                        notice: *notice,
                        gt28: *gt28,
                    });
                }
            }
            GRequest::Stop {
                contract,
                option,
                notice,
                requested_end,
            } => {
                let eff = later(*notice + Duration::days(NOTICE_DAYS), *requested_end);
                values.insert("effective_date".into(), ymd(eff));
                let held = st
                    .get(contract)
                    .filter(|k| k.in_force(*notice))
                    .and_then(|k| k.holds(option, *notice));
                if held.is_none() {
                    rejects.insert("9.4".into());
                }
                if let Some(j) = held
                    && rejects.is_empty()
                {
                    let k = st.index(contract).unwrap();
                    let end = &mut st.contracts[k].options[j].end;
                    *end = Some(end.map_or(eff, |e| e.min(eff)));
                    stopped.push(Stopped {
                        index,
                        contract: k,
                        option: j,
                        effective: eff,
                    });
                }
            }
            GRequest::Outage { .. } => {}
        }
        requests.push(RequestOut {
            accepted: rejects.is_empty(),
            rejects,
            values,
        });
    }

    // The settled timeline: every amount on it, once.
    let settled = Settled {
        st: &st,
        terminated,
        stopped,
    };
    for t in &settled.terminated {
        let fee = settled.termination_fee(t);
        requests[t.index]
            .values
            .insert("early_termination_fee".into(), fee.to_string());
    }
    for s in &settled.stopped {
        let fee = settled.stop_fee(s);
        requests[s.index]
            .values
            .insert("early_termination_fee".into(), fee.to_string());
    }
    for (r, out) in case.requests.iter().zip(&mut requests) {
        if matches!(r, GRequest::Terminate { .. } | GRequest::Stop { .. }) {
            out.values
                .entry("early_termination_fee".into())
                .or_insert_with(|| "0".into());
        }
    }

    // Outage claims, in case order on the settled timeline: one outage (overlapping
    // windows of accepted claims on one contract), one reduction.
    let mut outages: BTreeMap<usize, Vec<Outage>> = BTreeMap::new();
    for (index, (r, out)) in case.requests.iter().zip(&mut requests).enumerate() {
        let GRequest::Outage {
            contract,
            attributable,
            total,
            known_at,
            restored_at,
            claimed_on,
        } = r
        else {
            continue;
        };
        let rejects = &mut out.rejects;
        let k = st.index(contract);
        if let Some(article) = k.and_then(|k| {
            let k = &st.contracts[k];
            kind_or_item_wrong(&k.kind, k.item.as_deref())
        }) {
            rejects.insert(article.into());
        }
        let known = known_at.instant();
        let began = jst_date(known);
        let possible = known + Duration::hours(24);
        let deadline = claim_deadline(possible, CLAIM_MONTHS);
        if !attributable || !total {
            rejects.insert("14".into());
        }
        if *claimed_on > deadline || *claimed_on < jst_date(possible) {
            rejects.insert("14".into()); // lapsed, or not yet possible
        }
        let named = k.is_some_and(|k| formed_by.get(&k).is_none_or(|by| *by < index));
        if !named || !k.is_some_and(|k| st.contracts[k].in_force(began)) {
            rejects.insert("14".into());
        }
        // 利用不能時間 runs only while the contract is in force: to 24:00 of its last day.
        let restored = match k.and_then(|k| settled.service_end(k)) {
            Some(end) => restored_at.instant().min(end),
            None => restored_at.instant(),
        };
        let mut window = Outage {
            from: known,
            to: restored,
            credited: 0,
        };
        let same = outages.entry(k.unwrap_or(usize::MAX)).or_default();
        let (joined, apart): (Vec<Outage>, Vec<Outage>) = same
            .iter()
            .partition(|o| o.from.max(known) < o.to.min(restored));
        for o in &joined {
            window.from = window.from.min(o.from);
            window.to = window.to.max(o.to);
        }
        let before: i64 = joined.iter().map(|o| o.credited).sum();
        let units = whole_units(window.from, window.to);
        let added = units - before;
        if added < 1 {
            rejects.insert("14".into()); // under 24 hours, or this outage is reduced already
        }
        let mut credit = Decimal::ZERO;
        if rejects.is_empty() {
            let monthly = st.contracts[k.unwrap()].monthly_with_options(began);
            credit = (Decimal::from(added) * monthly / Decimal::from(30)).floor();
            window.credited = units;
            *same = apart;
            same.push(window);
        }
        out.accepted = rejects.is_empty();
        out.values.insert("credit".into(), credit.to_string());
        out.values
            .insert("outage_units".into(), added.max(0).to_string());
        out.values.insert("claim_deadline".into(), ymd(deadline));
    }

    let contracts = st
        .contracts
        .iter()
        .map(|k| ContractOut {
            id: k.id.clone(),
            minimum_period_end: ymd(one_month_end(k.billing_start)),
            web_sandbox: k.sandbox_in_force(case.as_of),
        })
        .collect();
    Out {
        in_force: if case.as_of >= r8() {
            "2026-04-01"
        } else {
            "2022-09-01"
        }
        .into(),
        requests,
        contracts,
    }
}

fn later(a: NaiveDate, b: Option<NaiveDate>) -> NaiveDate {
    b.map_or(a, |b| a.max(b))
}

/// The article a contract's kind or item breaks: 1 for a kind outside the five, 2 for an
/// item its kind does not take.
fn kind_or_item_wrong(kind: &str, item: Option<&str>) -> Option<&'static str> {
    if !KINDS.contains(&kind) {
        return Some("1");
    }
    let want = match kind {
        "private_connect" => Some("1gbps"),
        "remote_connect" => Some("type_a"),
        _ => None,
    };
    (item != want).then_some("2")
}

#[cfg(test)]
mod calendar_checks {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn spec_examples_of_the_minimum_period() {
        // SPEC §3, art. 3 row.
        for (start, end) in [
            ("2026-04-15", "2026-05-14"),
            ("2026-04-01", "2026-04-30"),
            ("2026-01-31", "2026-02-28"),
            ("2026-01-28", "2026-02-27"),
            ("2028-01-30", "2028-02-29"),
            ("2028-01-29", "2028-02-28"),
            ("2026-12-15", "2027-01-14"),
        ] {
            assert_eq!(one_month_end(d(start)), d(end), "{start}");
        }
    }

    fn jst_at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(&format!("{s}+09:00")).unwrap()
    }

    #[test]
    fn claim_deadline_counts_as_the_civil_code() {
        // SPEC §3, art. 14 row, and the issue's table: the moment the claim becomes possible.
        for (possible, deadline) in [
            ("2026-04-15T10:00:00", "2026-07-15"),
            ("2026-04-30T10:00:00", "2026-07-31"),
            ("2027-02-28T10:00:00", "2027-05-31"),
            ("2026-09-30T10:00:00", "2026-12-31"),
            ("2026-06-02T00:00:00", "2026-09-01"),
            ("2026-06-02T00:00:01", "2026-09-02"),
            ("2027-11-30T10:00:00", "2028-02-29"),
            ("2026-11-30T10:00:00", "2027-02-28"),
            ("2026-08-30T10:00:00", "2026-11-30"),
        ] {
            assert_eq!(
                claim_deadline(jst_at(possible), 3),
                d(deadline),
                "{possible}"
            );
        }
        // Midnight is Japan's: 15:00 UTC is 00:00 the next day in Japan.
        let utc = DateTime::parse_from_rfc3339("2026-06-01T15:00:00Z").unwrap();
        assert_eq!(claim_deadline(utc, 3), d("2026-09-01"));
    }

    #[test]
    fn remaining_fee_of_the_issue_example() {
        // Sandbox 5000/month from 2026-05-10 (period to 06-09, 31 days), ended 05-31.
        let fee = remaining_fee(
            Decimal::from(5000),
            d("2026-05-10"),
            d("2026-06-09"),
            d("2026-05-31"),
        );
        assert_eq!(fee, Decimal::from(1451));
    }
}
