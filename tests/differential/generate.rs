//! Random valid cases from a seed: every request type, dates across 2025–2028 with month
//! ends and 2028-02-29, timestamps with and without offsets, options listed and added,
//! requests out of date order, requests on contracts ended or formed by a rejected or later
//! `new_contract`, repeated terminations and stops, and terminations taking effect the day
//! an earlier stop does.
//!
//! And what SPEC's "Settling the case" turns on, often enough to matter: follow-ups on an
//! earlier request of the case — several notices on one contract (some under 一般規程28),
//! several stops of one option, a stop then a terminate, `change_accounts` and `add_option`
//! dated before a pending 解約日 but listed after its notice, outages running past the
//! contract's end, overlapping, touching and duplicate outage claims — claims made before
//! they can be, and timely 附則2 declarations listing a sandbox billed after 2026-04-01.

use chrono::{Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use rust_decimal::Decimal;

use super::case::{Environment, Fees, GCase, GContract, GOption, GRequest, Stamp};

/// splitmix64: tiny, fast, and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// 0..n
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    /// true with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn clamp(d: NaiveDate) -> NaiveDate {
    d.clamp(ymd(2025, 1, 1), ymd(2028, 12, 31))
}

/// Days that matter to the terms' calendar.
fn special(rng: &mut Rng) -> NaiveDate {
    let fixed = [
        ymd(2026, 3, 31),
        ymd(2026, 4, 1),
        ymd(2026, 3, 1),
        ymd(2028, 2, 29),
        ymd(2028, 2, 28),
        ymd(2028, 1, 29),
        ymd(2028, 1, 30),
        ymd(2028, 1, 31),
        ymd(2027, 1, 31),
        ymd(2026, 1, 31),
        ymd(2026, 1, 28),
        ymd(2027, 12, 31),
        ymd(2026, 12, 1),
        ymd(2027, 11, 30),
        ymd(2027, 2, 28),
    ];
    if rng.chance(50) {
        *rng.pick(&fixed)
    } else {
        // a month end somewhere in 2025–2028
        let y = rng.range(2025, 2028) as i32;
        let m = rng.range(1, 12) as u32;
        let next = if m == 12 {
            ymd(y + 1, 1, 1)
        } else {
            ymd(y, m + 1, 1)
        };
        next - Duration::days(1)
    }
}

fn near(rng: &mut Rng, anchor: NaiveDate, lo: i64, hi: i64) -> NaiveDate {
    if rng.chance(12) {
        special(rng)
    } else {
        clamp(anchor + Duration::days(rng.range(lo, hi)))
    }
}

fn fees(rng: &mut Rng) -> Option<Fees> {
    if rng.chance(10) {
        return None;
    }
    let basic = *rng.pick(&[0, 0, 1000, 10000, 20000]);
    let per = *rng.pick(&[0, 100, 255, 300, 1000, 77]);
    Some(Fees {
        basic: Decimal::from(basic),
        per_account: Decimal::from(per),
    })
}

fn sandbox_fees(rng: &mut Rng) -> Option<Fees> {
    if rng.chance(15) {
        None
    } else {
        Some(Fees {
            basic: Decimal::ZERO,
            per_account: Decimal::from(*rng.pick(&[100, 77, 150])),
        })
    }
}

fn item_for(kind: &str) -> Option<String> {
    match kind {
        "private_connect" => Some("1gbps".into()),
        "remote_connect" => Some("type_a".into()),
        _ => None,
    }
}

const KINDS: [&str; 5] = [
    "web_gateway",
    "firewall_type1",
    "firewall_type2",
    "private_connect",
    "remote_connect",
];

fn kind(rng: &mut Rng) -> &'static str {
    match rng.below(100) {
        0..=34 => KINDS[0],
        35..=54 => KINDS[1],
        55..=69 => KINDS[2],
        70..=84 => KINDS[3],
        _ => KINDS[4],
    }
}

fn prefix(kind: &str) -> &'static str {
    match kind {
        "web_gateway" => "WG",
        "firewall_type1" => "FA",
        "firewall_type2" => "FB",
        "private_connect" => "PC",
        "remote_connect" => "RC",
        _ => "XX",
    }
}

fn accounts(rng: &mut Rng) -> Decimal {
    match rng.below(100) {
        0..=7 => Decimal::from(49),
        8..=14 => Decimal::from(50),
        15..=18 => Decimal::new(505, 1),
        _ => Decimal::from(rng.range(51, 400)),
    }
}

fn listed_contract(rng: &mut Rng, anchor: NaiveDate, n: usize) -> GContract {
    let kind = kind(rng);
    let formed = if rng.chance(25) {
        // formed before the R8 change, so 附則2 decides its sandbox
        clamp(ymd(2026, 3, 31) - Duration::days(rng.range(0, 300)))
    } else {
        near(rng, anchor, -240, 30)
    };
    let billing_start = if rng.chance(15) {
        special(rng).max(formed)
    } else {
        formed + Duration::days(rng.range(0, 20))
    };
    let ended = rng
        .chance(15)
        .then(|| formed + Duration::days(rng.range(0, 300)));
    let pre_r8 = formed <= ymd(2026, 3, 31);
    let declared = (kind == "web_gateway" && pre_r8 && rng.chance(55)).then(|| {
        *rng.pick(&[
            ymd(2026, 3, 20),
            ymd(2026, 3, 31),
            ymd(2026, 4, 1),
            ymd(2026, 2, 1),
        ])
    });
    let mut options = Vec::new();
    if kind == "web_gateway" && rng.chance(45) {
        let timely = declared.is_some_and(|d| d <= ymd(2026, 3, 31));
        let bs = if pre_r8 && timely {
            // The carried-over option, whatever billing_start the case lists for it.
            *rng.pick(&[
                ymd(2026, 4, 1),
                ymd(2026, 4, 1),
                ymd(2026, 3, 1),
                ymd(2026, 4, 15),
                ymd(2026, 5, 10),
                ymd(2026, 6, 1),
            ])
        } else if pre_r8 {
            *rng.pick(&[ymd(2026, 3, 1), ymd(2026, 4, 1), ymd(2026, 4, 15)])
        } else {
            billing_start.max(ymd(2026, 4, 1)) + Duration::days(rng.range(0, 40))
        };
        let ended = rng
            .chance(12)
            .then(|| bs + Duration::days(rng.range(0, 60)));
        options.push(GOption {
            kind: "web_sandbox".into(),
            billing_start: Some(bs),
            ended,
            fees: sandbox_fees(rng),
        });
    }
    if rng.chance(25) {
        let ip = GOption {
            kind: "dedicated_ip".into(),
            billing_start: rng
                .chance(60)
                .then(|| billing_start + Duration::days(rng.range(0, 30))),
            ended: rng
                .chance(10)
                .then(|| billing_start + Duration::days(rng.range(0, 90))),
            fees: rng.chance(10).then(|| Fees {
                basic: Decimal::from(500),
                per_account: Decimal::ZERO,
            }),
        };
        // before or after the sandbox, so "last listed" matters to stops
        if rng.chance(50) {
            options.insert(0, ip);
        } else {
            options.push(ip);
        }
    }
    GContract {
        id: format!("{}-{n}", prefix(kind)),
        kind: kind.into(),
        item: item_for(kind),
        accounts: if rng.chance(30) {
            Decimal::from(50)
        } else {
            Decimal::from(rng.range(50, 400))
        },
        formed: Some(formed),
        billing_start,
        ended,
        fees: fees(rng),
        declared,
        options,
    }
}

fn new_contract(rng: &mut Rng, date: NaiveDate, n: usize) -> GContract {
    let kind: String = if rng.chance(3) {
        "vpn".into()
    } else {
        kind(rng).into()
    };
    let item = if rng.chance(90) {
        item_for(&kind)
    } else {
        rng.pick(&[None, Some("1gbps"), Some("type_a"), Some("10gbps")])
            .map(String::from)
    };
    let mut options = Vec::new();
    if rng.chance(22) {
        options.push(GOption {
            kind: "web_sandbox".into(),
            billing_start: rng
                .chance(50)
                .then(|| date + Duration::days(rng.range(0, 15))),
            ended: None,
            fees: sandbox_fees(rng),
        });
    }
    if rng.chance(15) {
        options.push(GOption {
            kind: "dedicated_ip".into(),
            billing_start: None,
            ended: None,
            fees: None,
        });
    }
    if rng.chance(3) {
        options.push(GOption {
            kind: "static_ip".into(),
            billing_start: None,
            ended: None,
            fees: None,
        });
    }
    GContract {
        id: format!("N{}-{n}", prefix(&kind)),
        kind,
        item,
        accounts: accounts(rng),
        formed: None,
        billing_start: date + Duration::days(rng.range(0, 20)),
        ended: None,
        fees: fees(rng),
        declared: None,
        options,
    }
}

fn stamp(rng: &mut Rng, jst_time: chrono::NaiveDateTime) -> Stamp {
    let jst = FixedOffset::east_opt(9 * 3600).unwrap();
    let instant = jst.from_local_datetime(&jst_time).unwrap();
    match rng.below(4) {
        0 => Stamp::Local(instant),
        1 => Stamp::Offset(instant.with_timezone(&FixedOffset::east_opt(0).unwrap())),
        2 => Stamp::Offset(instant.with_timezone(&FixedOffset::west_opt(5 * 3600).unwrap())),
        _ => Stamp::Offset(instant),
    }
}

fn jst_naive(s: Stamp) -> NaiveDateTime {
    s.instant()
        .with_timezone(&FixedOffset::east_opt(9 * 3600).unwrap())
        .naive_local()
}

fn effective(notice: NaiveDate, requested_end: Option<NaiveDate>) -> NaiveDate {
    let earliest = notice + Duration::days(30);
    requested_end.map_or(earliest, |e| e.max(earliest))
}

/// An outage claim on `contract` for the window `known` → `restored` (Japan time), claimed
/// on the deadline, a day late, the day the claim becomes possible, a day or two before it
/// can be made, or somewhere in between.
fn outage(
    rng: &mut Rng,
    contract: String,
    known: NaiveDateTime,
    restored: NaiveDateTime,
) -> GRequest {
    let possible_at = known + Duration::hours(24);
    let possible = possible_at.date();
    let jst = FixedOffset::east_opt(9 * 3600).unwrap();
    let deadline = super::model::claim_deadline(jst.from_local_datetime(&possible_at).unwrap(), 3);
    let claimed_on = match rng.below(10) {
        0 => deadline,
        1 => deadline + Duration::days(1),
        2 => possible,
        // The same day number three months on (month end when none): the count that
        // took the possible day itself as the first.
        3 => possible
            .checked_add_months(chrono::Months::new(3))
            .unwrap_or(deadline),
        // Before the claim can be made: the day the outage became known, or the day
        // before it becomes possible.
        4 if rng.chance(50) => known.date(),
        4 => possible - Duration::days(1),
        _ => possible + Duration::days(rng.range(-1, 110)),
    };
    GRequest::Outage {
        contract,
        attributable: rng.chance(92),
        total: rng.chance(92),
        known_at: stamp(rng, known),
        restored_at: stamp(rng, restored),
        claimed_on,
    }
}

/// A request that follows up an earlier one of the case (or a listed contract's end), or
/// `None` when there is nothing to follow.
fn follow_up(rng: &mut Rng, earlier: &[GRequest], listed: &[GContract]) -> Option<GRequest> {
    // An outage running past a listed contract's end.
    if rng.chance(12)
        && let Some((id, end)) = {
            let ended: Vec<(String, NaiveDate)> = listed
                .iter()
                .filter_map(|c| c.ended.map(|e| (c.id.clone(), e)))
                .collect();
            (!ended.is_empty()).then(|| rng.pick(&ended).clone())
        }
    {
        return Some(past_the_end(rng, id, end));
    }
    let followed: Vec<&GRequest> = earlier
        .iter()
        .filter(|r| {
            matches!(
                r,
                GRequest::Terminate { .. } | GRequest::Stop { .. } | GRequest::Outage { .. }
            )
        })
        .collect();
    if followed.is_empty() {
        return None;
    }
    Some(match *rng.pick(&followed) {
        GRequest::Terminate {
            contract,
            notice,
            requested_end,
            gt28,
        } => {
            let eff = effective(*notice, *requested_end);
            // A day before the 解約日, on or after the notice.
            let pending = |rng: &mut Rng| {
                let span = (eff - *notice).num_days().max(1);
                *notice + Duration::days(rng.range(0, span - 1))
            };
            match rng.below(7) {
                // Another notice on the contract, ending it earlier or later, some under
                // 一般規程28.
                0..=2 => {
                    let notice = *notice + Duration::days(rng.range(-12, 12));
                    GRequest::Terminate {
                        contract: contract.clone(),
                        notice,
                        requested_end: rng
                            .chance(50)
                            .then(|| eff + Duration::days(rng.range(-20, 20))),
                        gt28: if rng.chance(50) {
                            !gt28
                        } else {
                            rng.chance(30)
                        },
                    }
                }
                // Listed after the notice, dated before its 解約日.
                3 => GRequest::Change {
                    date: pending(rng),
                    contract: contract.clone(),
                    accounts: Decimal::from(rng.range(50, 400)),
                },
                4 | 5 => {
                    let date = pending(rng);
                    let sandbox = rng.chance(80);
                    GRequest::Add {
                        date,
                        contract: contract.clone(),
                        option: if sandbox {
                            "web_sandbox"
                        } else {
                            "dedicated_ip"
                        }
                        .into(),
                        // Now and then billed only after the 解約日.
                        billing_start: rng
                            .chance(60)
                            .then(|| date + Duration::days(rng.range(0, 40))),
                        fees: if sandbox { sandbox_fees(rng) } else { None },
                    }
                }
                _ => past_the_end(rng, contract.clone(), eff),
            }
        }
        GRequest::Stop {
            contract,
            option,
            notice,
            requested_end,
        } => {
            let eff = effective(*notice, *requested_end);
            let notice = *notice + Duration::days(rng.range(-15, 12));
            let requested_end = rng
                .chance(50)
                .then(|| eff + Duration::days(rng.range(-20, 20)));
            if rng.chance(50) {
                // Another stop of the option.
                GRequest::Stop {
                    contract: contract.clone(),
                    option: option.clone(),
                    notice,
                    requested_end,
                }
            } else {
                // A stop, then a terminate ending the contract earlier or later.
                GRequest::Terminate {
                    contract: contract.clone(),
                    notice,
                    requested_end,
                    gt28: rng.chance(15),
                }
            }
        }
        GRequest::Outage {
            contract,
            known_at,
            restored_at,
            ..
        } => {
            let (known, restored) = (jst_naive(*known_at), jst_naive(*restored_at));
            let span = (restored - known).num_minutes().max(1);
            match rng.below(4) {
                // The same outage claimed again.
                0 => outage(rng, contract.clone(), known, restored),
                // Overlapping: beginning inside it (or a little before), ending anywhere.
                1 => {
                    let from = known + Duration::minutes(rng.range(-24 * 60, span - 1));
                    let minutes = *rng.pick(&[12 * 60, 18 * 60, 24 * 60, 30 * 60, 48 * 60]);
                    outage(
                        rng,
                        contract.clone(),
                        from,
                        from + Duration::minutes(minutes),
                    )
                }
                // Overlapping its last hours and running on, so the outage grows.
                2 => {
                    let from = restored - Duration::minutes(rng.range(1, span.min(12 * 60)));
                    let minutes = *rng.pick(&[18 * 60, 24 * 60, 36 * 60, 48 * 60, 72 * 60]);
                    outage(
                        rng,
                        contract.clone(),
                        from,
                        from + Duration::minutes(minutes),
                    )
                }
                // Touching: beginning the moment it was restored.
                _ => {
                    let minutes = *rng.pick(&[18 * 60, 24 * 60, 36 * 60]);
                    outage(
                        rng,
                        contract.clone(),
                        restored,
                        restored + Duration::minutes(minutes),
                    )
                }
            }
        }
        _ => unreachable!("only terminations, stops and outages are followed"),
    })
}

/// An outage known a day or three before a contract's last day `end`, restored after it.
fn past_the_end(rng: &mut Rng, contract: String, end: NaiveDate) -> GRequest {
    let day = end - Duration::days(rng.range(0, 3));
    let known = day
        .and_hms_opt(rng.range(0, 23) as u32, *rng.pick(&[0, 30]) as u32, 0)
        .unwrap();
    let restored = known + Duration::hours(rng.range(24, 110));
    outage(rng, contract, known, restored)
}

pub fn case(rng: &mut Rng) -> GCase {
    let anchor = if rng.chance(30) {
        ymd(2026, 4, 1) + Duration::days(rng.range(-60, 60))
    } else {
        ymd(2025, 3, 1) + Duration::days(rng.range(0, 1200))
    };
    let contracts: Vec<GContract> = (0..rng.below(5))
        .map(|n| listed_contract(rng, anchor, n as usize + 1))
        .collect();
    let count = 1 + rng.below(8) as usize;
    let types: Vec<u64> = (0..count).map(|_| rng.below(6)).collect();
    // Ids first, so a request may name a contract a later `new_contract` forms.
    let mut new_ids = Vec::new();
    let mut requests: Vec<GRequest> = Vec::new();
    let mut new_contracts = Vec::new();
    for (i, t) in types.iter().enumerate() {
        if *t == 0 {
            let date = near(rng, anchor, -30, 200);
            let c = new_contract(rng, date, i + 1);
            new_ids.push(c.id.clone());
            new_contracts.push((i, date, c));
        }
    }
    let mut ids: Vec<String> = contracts.iter().map(|c| c.id.clone()).collect();
    ids.extend(new_ids);
    let mut pending = new_contracts.into_iter().peekable();
    for (i, t) in types.iter().enumerate() {
        if pending.peek().is_some_and(|(j, _, _)| *j == i) {
            let (_, date, contract) = pending.next().unwrap();
            requests.push(GRequest::New { date, contract });
            continue;
        }
        if ids.is_empty() {
            continue;
        }
        let target = rng.pick(&ids).clone();
        // A repeated notice: the same terminate or stop again.
        if rng.chance(15)
            && let Some(prev) = requests
                .iter()
                .rev()
                .find(|r| matches!(r, GRequest::Terminate { .. } | GRequest::Stop { .. }))
        {
            requests.push(prev.clone());
            continue;
        }
        // A follow-up on an earlier request: what SPEC's "Settling the case" decides.
        if rng.chance(35)
            && let Some(follow) = follow_up(rng, &requests, &contracts)
        {
            requests.push(follow);
            continue;
        }
        let date = near(rng, anchor, -30, 240);
        let request = match t {
            1 => GRequest::Change {
                date,
                contract: target,
                accounts: accounts(rng),
            },
            2 => {
                let option = match rng.below(20) {
                    0 => "static_ip",
                    1..=11 => "web_sandbox",
                    _ => "dedicated_ip",
                };
                GRequest::Add {
                    date,
                    contract: target,
                    option: option.into(),
                    billing_start: rng
                        .chance(50)
                        .then(|| date + Duration::days(rng.range(0, 30))),
                    fees: match option {
                        "web_sandbox" => sandbox_fees(rng),
                        _ if rng.chance(10) => Some(Fees {
                            basic: Decimal::from(500),
                            per_account: Decimal::ZERO,
                        }),
                        _ => None,
                    },
                }
            }
            3 => {
                // Now and then a termination with an earlier stop's contract and dates: it
                // takes effect the day the stop ended the option, whose 13.2 amount the stop
                // already owes.
                let stopped = if rng.chance(30) {
                    requests.iter().rev().find_map(|r| match r {
                        GRequest::Stop {
                            contract,
                            notice,
                            requested_end,
                            ..
                        } => Some((contract.clone(), *notice, *requested_end)),
                        _ => None,
                    })
                } else {
                    None
                };
                match stopped {
                    Some((contract, notice, requested_end)) => GRequest::Terminate {
                        contract,
                        notice,
                        requested_end,
                        gt28: rng.chance(10),
                    },
                    None => GRequest::Terminate {
                        contract: target,
                        notice: date,
                        requested_end: rng
                            .chance(40)
                            .then(|| date + Duration::days(rng.range(0, 90))),
                        gt28: rng.chance(10),
                    },
                }
            }
            4 => GRequest::Stop {
                contract: target,
                option: if rng.chance(60) {
                    "web_sandbox"
                } else {
                    "dedicated_ip"
                }
                .into(),
                notice: date,
                requested_end: rng
                    .chance(30)
                    .then(|| date + Duration::days(rng.range(0, 90))),
            },
            _ => {
                // Often the day before a month's end, so the claim becomes possible on
                // its last day (art. 14 counts from the next day); sometimes at 00:00,
                // when that day itself counts (民法 第140条ただし書).
                let date = if rng.chance(20) {
                    clamp(special(rng) - Duration::days(1))
                } else {
                    date
                };
                let (hour, minute) = if rng.chance(10) {
                    (0, 0)
                } else {
                    (rng.range(0, 23) as u32, *rng.pick(&[0, 0, 30, 59]) as u32)
                };
                let known = date.and_hms_opt(hour, minute, 0).unwrap();
                let minutes = match rng.below(10) {
                    0 => 23 * 60 + 30,
                    1 => 24 * 60,
                    2 => 24 * 60 - 1,
                    3 => 48 * 60,
                    4 => 84 * 60,
                    5 => 2 * 24 * 60 + 2 * 60 + 30,
                    _ => rng.range(1, 240 * 60),
                };
                outage(rng, target, known, known + Duration::minutes(minutes))
            }
        };
        requests.push(request);
    }
    let environment = rng.chance(15).then(|| Environment {
        policy_decided: rng.chance(70),
        other_network: rng.chance(50),
        settings_disclosed: rng.chance(50),
    });
    GCase {
        as_json: rng.chance(20),
        as_of: near(rng, anchor, -10, 300),
        environment,
        contracts,
        requests,
    }
}
