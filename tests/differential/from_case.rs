//! A case file and its `expect:` block, read here from the YAML itself (not through
//! yakkan's reader), so the model can be checked against the hand-derived expectations of
//! `tests/cases/` and `examples/` without sharing any code with yakkan.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use rust_decimal::Decimal;
use serde_yaml::Value;

use super::case::{Environment, Fees, GCase, GContract, GOption, GRequest, Stamp};

/// What a case expects of one request: only what is written is checked.
#[derive(Debug, Default)]
pub struct RequestExpect {
    pub decision: Option<String>,
    pub refs: Vec<String>,
    pub not_refs: Vec<String>,
    pub values: BTreeMap<String, String>,
}

/// What a case expects of one contract.
#[derive(Debug, Default)]
pub struct ContractExpect {
    pub minimum_period_end: Option<String>,
    pub web_sandbox: Option<bool>,
}

#[derive(Debug, Default)]
pub struct Expect {
    pub requests: Vec<RequestExpect>,
    pub contracts: BTreeMap<String, ContractExpect>,
}

type Read<T> = Result<T, String>;

fn text(v: &Value) -> Read<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("not a scalar: {other:?}")),
    }
}

fn date(v: &Value) -> Read<NaiveDate> {
    let t = text(v)?;
    NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|e| format!("{t}: {e}"))
}

fn opt_date(v: &Value) -> Read<Option<NaiveDate>> {
    if v.is_null() {
        Ok(None)
    } else {
        date(v).map(Some)
    }
}

fn decimal(v: &Value) -> Read<Decimal> {
    let t = text(v)?;
    Decimal::from_str(&t).map_err(|e| format!("{t}: {e}"))
}

/// RFC 3339, or without an offset in Japan time (SPEC §1).
fn stamp(v: &Value) -> Read<Stamp> {
    let t = text(v)?;
    if let Ok(at) = DateTime::parse_from_rfc3339(&t) {
        return Ok(Stamp::Offset(at));
    }
    let local = NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.f")
        .map_err(|e| format!("{t}: {e}"))?;
    let jst = FixedOffset::east_opt(9 * 3600).expect("an offset");
    Ok(Stamp::Local(
        jst.from_local_datetime(&local)
            .single()
            .ok_or("no such time")?,
    ))
}

fn flag(v: &Value, default: bool) -> Read<bool> {
    if v.is_null() {
        Ok(default)
    } else {
        v.as_bool().ok_or_else(|| format!("not a bool: {v:?}"))
    }
}

fn fees(v: &Value) -> Read<Option<Fees>> {
    if v.is_null() {
        return Ok(None);
    }
    let money = |f: &Value| {
        if f.is_null() {
            Ok(Decimal::ZERO)
        } else {
            decimal(f)
        }
    };
    Ok(Some(Fees {
        basic: money(&v["basic_monthly"])?,
        per_account: money(&v["per_account_monthly"])?,
    }))
}

fn option(v: &Value) -> Read<GOption> {
    Ok(GOption {
        kind: text(&v["kind"])?,
        billing_start: opt_date(&v["billing_start"])?,
        ended: opt_date(&v["ended"])?,
        fees: fees(&v["fees"])?,
    })
}

fn list(v: &Value) -> &[Value] {
    v.as_sequence().map_or(&[], Vec::as_slice)
}

fn strings(v: &Value) -> Read<Vec<String>> {
    list(v).iter().map(text).collect()
}

fn contract(v: &Value) -> Read<GContract> {
    Ok(GContract {
        id: text(&v["id"])?,
        kind: text(&v["kind"])?,
        item: if v["item"].is_null() {
            None
        } else {
            Some(text(&v["item"])?)
        },
        accounts: decimal(&v["accounts"])?,
        formed: opt_date(&v["formed"])?,
        billing_start: date(&v["billing_start"])?,
        ended: opt_date(&v["ended"])?,
        fees: fees(&v["fees"])?,
        declared: opt_date(&v["sandbox_continuation_declared"])?,
        options: list(&v["options"])
            .iter()
            .map(option)
            .collect::<Read<_>>()?,
    })
}

fn request(v: &Value) -> Read<GRequest> {
    let id = || text(&v["contract"]);
    Ok(match text(&v["type"])?.as_str() {
        "new_contract" => GRequest::New {
            date: date(&v["date"])?,
            contract: contract(&v["contract"])?,
        },
        "change_accounts" => GRequest::Change {
            date: date(&v["date"])?,
            contract: id()?,
            accounts: decimal(&v["accounts"])?,
        },
        "add_option" => GRequest::Add {
            date: date(&v["date"])?,
            contract: id()?,
            option: text(&v["option"])?,
            billing_start: opt_date(&v["billing_start"])?,
            fees: fees(&v["fees"])?,
        },
        "terminate" => GRequest::Terminate {
            contract: id()?,
            notice: date(&v["notice_arrived"])?,
            requested_end: opt_date(&v["requested_end"])?,
            gt28: flag(&v["general_terms_28"], false)?,
        },
        "stop_option" => GRequest::Stop {
            contract: id()?,
            option: text(&v["option"])?,
            notice: date(&v["notice_arrived"])?,
            requested_end: opt_date(&v["requested_end"])?,
        },
        "outage_credit" => GRequest::Outage {
            contract: id()?,
            attributable: flag(&v["attributable_to_provider"], false)?,
            total: flag(&v["total"], false)?,
            known_at: stamp(&v["known_at"])?,
            restored_at: stamp(&v["restored_at"])?,
            claimed_on: date(&v["claimed_on"])?,
        },
        other => return Err(format!("unknown request type {other}")),
    })
}

fn expectations(v: &Value) -> Read<Expect> {
    let requests = list(&v["requests"])
        .iter()
        .map(|r| {
            Ok(RequestExpect {
                decision: if r["decision"].is_null() {
                    None
                } else {
                    Some(text(&r["decision"])?)
                },
                refs: strings(&r["refs"])?,
                not_refs: strings(&r["not_refs"])?,
                values: match r["values"].as_mapping() {
                    Some(map) => map
                        .iter()
                        .map(|(k, v)| Ok((text(k)?, text(v)?)))
                        .collect::<Read<_>>()?,
                    None => BTreeMap::new(),
                },
            })
        })
        .collect::<Read<_>>()?;
    let mut contracts = BTreeMap::new();
    if let Some(map) = v["contracts"].as_mapping() {
        for (id, c) in map {
            contracts.insert(
                text(id)?,
                ContractExpect {
                    minimum_period_end: if c["minimum_period_end"].is_null() {
                        None
                    } else {
                        Some(text(&c["minimum_period_end"])?)
                    },
                    web_sandbox: c["web_sandbox"].as_bool(),
                },
            );
        }
    }
    Ok(Expect {
        requests,
        contracts,
    })
}

/// The case and what it expects, or why it cannot be read.
pub fn read(source: &str) -> Read<(GCase, Option<Expect>)> {
    let doc: Value = serde_yaml::from_str(source).map_err(|e| e.to_string())?;
    let env = &doc["customer"]["environment"];
    let environment = if env.is_null() {
        None
    } else {
        Some(Environment {
            policy_decided: flag(&env["policy_decided"], true)?,
            other_network: env["network"].as_str() == Some("other"),
            settings_disclosed: flag(&env["settings_disclosed"], false)?,
        })
    };
    let case = GCase {
        as_json: false,
        as_of: date(&doc["as_of"])?,
        environment,
        contracts: list(&doc["contracts"])
            .iter()
            .map(contract)
            .collect::<Read<_>>()?,
        requests: list(&doc["requests"])
            .iter()
            .map(request)
            .collect::<Read<_>>()?,
    };
    let expect = if doc["expect"].is_null() {
        None
    } else {
        Some(expectations(&doc["expect"])?)
    };
    Ok((case, expect))
}
