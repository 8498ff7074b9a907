//! The generated case, as plain data: the generator builds it, `render` writes it as the
//! YAML a user would write, and the model reads it directly (not through yakkan's reader),
//! so a reader bug shows up as a disagreement too.

use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;

#[derive(Debug, Clone, Default)]
pub struct Fees {
    pub basic: Decimal,
    pub per_account: Decimal,
}

#[derive(Debug, Clone)]
pub struct GOption {
    pub kind: String,
    pub billing_start: Option<NaiveDate>,
    pub ended: Option<NaiveDate>,
    pub fees: Option<Fees>,
}

#[derive(Debug, Clone)]
pub struct GContract {
    pub id: String,
    pub kind: String,
    pub item: Option<String>,
    /// Text as written: "50", "50.5".
    pub accounts: Decimal,
    /// Listed contracts only; a `new_contract` is formed on its request date.
    pub formed: Option<NaiveDate>,
    pub billing_start: NaiveDate,
    pub ended: Option<NaiveDate>,
    pub fees: Option<Fees>,
    pub declared: Option<NaiveDate>,
    pub options: Vec<GOption>,
}

/// How a timestamp is written: the model always works from the instant itself.
#[derive(Debug, Clone, Copy)]
pub enum Stamp {
    /// `2026-06-01T10:00:00+09:00` (or another offset).
    Offset(DateTime<FixedOffset>),
    /// `2026-06-01T10:00:00`: Japan time.
    Local(DateTime<FixedOffset>),
}

impl Stamp {
    pub fn instant(self) -> DateTime<FixedOffset> {
        match self {
            Stamp::Offset(t) | Stamp::Local(t) => t,
        }
    }
}

#[derive(Debug, Clone)]
pub enum GRequest {
    New {
        date: NaiveDate,
        contract: GContract,
    },
    Change {
        date: NaiveDate,
        contract: String,
        accounts: Decimal,
    },
    Add {
        date: NaiveDate,
        contract: String,
        option: String,
        billing_start: Option<NaiveDate>,
        fees: Option<Fees>,
    },
    Terminate {
        contract: String,
        notice: NaiveDate,
        requested_end: Option<NaiveDate>,
        gt28: bool,
    },
    Stop {
        contract: String,
        option: String,
        notice: NaiveDate,
        requested_end: Option<NaiveDate>,
    },
    Outage {
        contract: String,
        attributable: bool,
        total: bool,
        known_at: Stamp,
        restored_at: Stamp,
        claimed_on: NaiveDate,
    },
}

impl GRequest {
    pub fn kind(&self) -> &'static str {
        match self {
            GRequest::New { .. } => "new_contract",
            GRequest::Change { .. } => "change_accounts",
            GRequest::Add { .. } => "add_option",
            GRequest::Terminate { .. } => "terminate",
            GRequest::Stop { .. } => "stop_option",
            GRequest::Outage { .. } => "outage_credit",
        }
    }

    pub fn target(&self) -> &str {
        match self {
            GRequest::New { contract, .. } => &contract.id,
            GRequest::Change { contract, .. }
            | GRequest::Add { contract, .. }
            | GRequest::Terminate { contract, .. }
            | GRequest::Stop { contract, .. }
            | GRequest::Outage { contract, .. } => contract,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Environment {
    pub policy_decided: bool,
    pub other_network: bool,
    pub settings_disclosed: bool,
}

#[derive(Debug, Clone)]
pub struct GCase {
    /// Hand it to yakkan as JSON rather than YAML (SPEC §1 takes both).
    pub as_json: bool,
    pub as_of: NaiveDate,
    pub environment: Option<Environment>,
    pub contracts: Vec<GContract>,
    pub requests: Vec<GRequest>,
}

impl GCase {
    /// Every id a request names is listed or formed by some `new_contract` of the case,
    /// and no id is introduced twice: what SPEC §2 requires of a readable case.
    pub fn is_valid(&self) -> bool {
        let mut ids: Vec<&str> = self.contracts.iter().map(|c| c.id.as_str()).collect();
        for r in &self.requests {
            if let GRequest::New { contract, .. } = r {
                if ids.contains(&contract.id.as_str()) {
                    return false;
                }
                ids.push(&contract.id);
            }
        }
        self.requests.iter().all(|r| ids.contains(&r.target()))
    }
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn fees(f: &Fees) -> String {
    let mut parts = Vec::new();
    if !f.basic.is_zero() {
        parts.push(format!("basic_monthly: \"{}\"", f.basic));
    }
    if !f.per_account.is_zero() || parts.is_empty() {
        // Half the time as a number, half as text: both are money (SPEC §1).
        if f.per_account.is_zero() || f.per_account.to_string().len().is_multiple_of(2) {
            parts.push(format!("per_account_monthly: \"{}\"", f.per_account));
        } else {
            parts.push(format!("per_account_monthly: {}", f.per_account));
        }
    }
    format!("{{ {} }}", parts.join(", "))
}

fn option(o: &GOption) -> String {
    let mut parts = vec![format!("kind: {}", o.kind)];
    if let Some(b) = o.billing_start {
        parts.push(format!("billing_start: {}", date(b)));
    }
    if let Some(e) = o.ended {
        parts.push(format!("ended: {}", date(e)));
    }
    if let Some(f) = &o.fees {
        parts.push(format!("fees: {}", fees(f)));
    }
    format!("{{ {} }}", parts.join(", "))
}

fn contract(c: &GContract) -> String {
    let mut parts = vec![format!("id: {}", c.id), format!("kind: {}", c.kind)];
    if let Some(item) = &c.item {
        parts.push(format!("item: {item}"));
    }
    parts.push(format!("accounts: {}", c.accounts));
    if let Some(f) = c.formed {
        parts.push(format!("formed: {}", date(f)));
    }
    parts.push(format!("billing_start: {}", date(c.billing_start)));
    if let Some(e) = c.ended {
        parts.push(format!("ended: {}", date(e)));
    }
    if let Some(f) = &c.fees {
        parts.push(format!("fees: {}", fees(f)));
    }
    if let Some(d) = c.declared {
        parts.push(format!("sandbox_continuation_declared: {}", date(d)));
    }
    if !c.options.is_empty() {
        let opts: Vec<String> = c.options.iter().map(option).collect();
        parts.push(format!("options: [{}]", opts.join(", ")));
    }
    format!("{{ {} }}", parts.join(", "))
}

fn stamp(s: Stamp) -> String {
    match s {
        Stamp::Offset(t) => {
            if t.offset().local_minus_utc() == 0 && t.timestamp() % 2 == 0 {
                t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            } else {
                t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
            }
        }
        Stamp::Local(t) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
    }
}

/// The case as JSON, from its YAML: the same document in the other syntax SPEC §1 takes.
pub fn render_json(case: &GCase) -> String {
    let doc: serde_json::Value =
        serde_yaml::from_str(&render(case)).expect("the rendered YAML reads back");
    serde_json::to_string_pretty(&doc).expect("JSON writes")
}

/// The case as YAML, one flow mapping per request.
pub fn render(case: &GCase) -> String {
    let mut out = format!("as_of: {}\ncustomer:\n  id: C-DIFF\n", date(case.as_of));
    if let Some(env) = &case.environment {
        out += &format!(
            "  environment: {{ policy_decided: {}, network: {}, settings_disclosed: {} }}\n",
            env.policy_decided,
            if env.other_network { "other" } else { "iij" },
            env.settings_disclosed
        );
    }
    out += "contracts:\n";
    if case.contracts.is_empty() {
        out.pop();
        out += " []\n";
    }
    for c in &case.contracts {
        out += &format!("  - {}\n", contract(c));
    }
    out += "requests:\n";
    if case.requests.is_empty() {
        out.pop();
        out += " []\n";
    }
    for r in &case.requests {
        let body = match r {
            GRequest::New {
                date: d,
                contract: c,
            } => {
                format!(
                    "type: new_contract, date: {}, contract: {}",
                    date(*d),
                    contract(c)
                )
            }
            GRequest::Change {
                date: d,
                contract,
                accounts,
            } => format!(
                "type: change_accounts, date: {}, contract: {contract}, accounts: {accounts}",
                date(*d)
            ),
            GRequest::Add {
                date: d,
                contract,
                option,
                billing_start,
                fees: f,
            } => {
                let mut s = format!(
                    "type: add_option, date: {}, contract: {contract}, option: {option}",
                    date(*d)
                );
                if let Some(b) = billing_start {
                    s += &format!(", billing_start: {}", date(*b));
                }
                if let Some(f) = f {
                    s += &format!(", fees: {}", fees(f));
                }
                s
            }
            GRequest::Terminate {
                contract,
                notice,
                requested_end,
                gt28,
            } => {
                let mut s = format!(
                    "type: terminate, contract: {contract}, notice_arrived: {}",
                    date(*notice)
                );
                match requested_end {
                    Some(e) => s += &format!(", requested_end: {}", date(*e)),
                    None if notice.day() % 2 == 0 => s += ", requested_end: null",
                    None => {}
                }
                if *gt28 || notice.day() % 3 == 0 {
                    s += &format!(", general_terms_28: {gt28}");
                }
                s
            }
            GRequest::Stop {
                contract,
                option,
                notice,
                requested_end,
            } => {
                let mut s = format!(
                    "type: stop_option, contract: {contract}, option: {option}, notice_arrived: {}",
                    date(*notice)
                );
                if let Some(e) = requested_end {
                    s += &format!(", requested_end: {}", date(*e));
                }
                s
            }
            GRequest::Outage {
                contract,
                attributable,
                total,
                known_at,
                restored_at,
                claimed_on,
            } => format!(
                "type: outage_credit, contract: {contract}, attributable_to_provider: {attributable}, \
                 total: {total}, known_at: \"{}\", restored_at: \"{}\", claimed_on: {}",
                stamp(*known_at),
                stamp(*restored_at),
                date(*claimed_on)
            ),
        };
        out += &format!("  - {{ {body} }}\n");
    }
    out
}

use chrono::Datelike;
