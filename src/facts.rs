//! The fact model: what rules read about a case, typed and dated.
//!
//! The case's contracts, options, customer and requests become records here, declared
//! once with the macro [`record!`]: the same declaration gives the checker its schema and
//! the evaluator its field readers. Facts that change carry their days — a contract's
//! accounts are a timeline, an option is held from the day it was added, a contract or
//! option ends on a day — so a rule asks for a fact *on a day* (`accounts_on(contract,
//! day)`). An accepted request adds a dated fact; it never rewrites history.

use std::any::Any;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::calendar::Timestamp;
use crate::case::{Contract, ContractOption, Customer, Fees, Network, Request};
use crate::expr::{Field, FunctionSig, Record, RecordType, Schema, Type, Value};

/// Declares a record's fields once: their names, types and meaning, and how each is read.
macro_rules! record {
    ($ty:ty, $name:literal, label: |$me:ident| $label:expr,
     instead: [$(($iname:literal, $ihint:literal)),* $(,)?],
     { $($field:literal : $fty:expr, $doc:literal => |$this:ident| $get:expr;)* }) => {
        impl Record for $ty {
            fn record_name(&self) -> &'static str {
                $name
            }
            fn field(&self, name: &str) -> Value {
                match name {
                    $($field => {
                        let $this = self;
                        $get
                    })*
                    _ => Value::Null,
                }
            }
            fn as_any(&self) -> &dyn Any {
                self
            }
            fn label(&self) -> String {
                let $me = self;
                $label
            }
        }
        impl $ty {
            /// The record's type, for the checker.
            pub fn record_type() -> RecordType {
                RecordType {
                    name: $name,
                    tag: None,
                    fields: vec![$(Field { name: $field, ty: $fty, doc: $doc }),*],
                    instead: vec![$(($iname, $ihint)),*],
                }
            }
        }
    };
}

fn text_or_null(text: &Option<Arc<str>>) -> Value {
    text.clone().map_or(Value::Null, Value::Text)
}

fn maybe(t: Type) -> Type {
    Type::maybe(t)
}

/// The customer.
#[derive(Debug, Clone)]
pub struct CustomerFacts {
    id: Option<Arc<str>>,
    environment: Arc<EnvironmentFacts>,
}

/// The customer's environment (art. 7).
#[derive(Debug, Clone)]
pub struct EnvironmentFacts {
    policy_decided: bool,
    network: Network,
    settings_disclosed: bool,
}

record!(CustomerFacts, "customer", label: |_c| "customer".to_owned(), instead: [], {
    "id": maybe(Type::Text), "the customer's id" => |c| text_or_null(&c.id);
    "environment": Type::Record("environment"), "the operating environment (art. 7)"
        => |c| Value::Record(c.environment.clone());
});

record!(EnvironmentFacts, "environment", label: |_e| "environment".to_owned(), instead: [], {
    "policy_decided": Type::Bool, "7.1(1): the operation policy is decided (absent: true)"
        => |e| Value::Bool(e.policy_decided);
    "network": Type::Text, "7.1(2): `iij` or `other` (absent: iij)"
        => |e| Value::text(e.network.as_str());
    "settings_disclosed": Type::Bool, "7.2: the settings are disclosed (absent: false)"
        => |e| Value::Bool(e.settings_disclosed);
});

impl CustomerFacts {
    /// The customer of a case; an absent environment meets the art. 7 conditions.
    pub fn new(customer: &Customer) -> CustomerFacts {
        let environment = match &customer.environment {
            Some(env) => EnvironmentFacts {
                policy_decided: env.policy_decided,
                network: env.network,
                settings_disclosed: env.settings_disclosed,
            },
            None => EnvironmentFacts {
                policy_decided: true,
                network: Network::Iij,
                settings_disclosed: false,
            },
        };
        CustomerFacts {
            id: customer.id.as_deref().map(Arc::from),
            environment: Arc::new(environment),
        }
    }
}

/// Monthly amounts shown to the customer.
#[derive(Debug, Clone)]
pub struct FeesFacts(Fees);

record!(FeesFacts, "fees", label: |f| format!("fees {} + {}/account", f.0.basic_monthly, f.0.per_account_monthly), instead: [], {
    "basic_monthly": Type::Decimal, "基本料金 per month, in yen" => |f| Value::Decimal(f.0.basic_monthly);
    "per_account_monthly": Type::Decimal, "アカウント使用料 per account per month, in yen"
        => |f| Value::Decimal(f.0.per_account_monthly);
});

fn fees_value(fees: &Option<Arc<FeesFacts>>) -> Value {
    fees.as_ref()
        .map_or(Value::Null, |f| Value::Record(f.clone()))
}

/// An option service on a contract, from the day it was added until it ends.
#[derive(Debug, Clone)]
pub struct OptionFacts {
    /// The option's kind.
    pub kind: Arc<str>,
    /// Its billing start (the contract's when the case gives none).
    pub billing_start: NaiveDate,
    /// The last day it is in force, once an end is set.
    pub ended: Option<NaiveDate>,
    fees: Option<Arc<FeesFacts>>,
    /// The day a request added it; `None` when the case lists it.
    pub added: Option<NaiveDate>,
    /// Its place in the contract's list; `None` for an option a fact derives.
    pub index: Option<usize>,
}

record!(OptionFacts, "option", label: |o| format!("option {} from {}", o.kind, o.billing_start), instead: [], {
    "kind": Type::Text, "the option's kind" => |o| Value::Text(o.kind.clone());
    "billing_start": Type::Date, "its billing start (課金開始日); the contract's when not given"
        => |o| Value::Date(o.billing_start);
    "ended": maybe(Type::Date), "the last day it is in force, once it has ended"
        => |o| Value::maybe_date(o.ended);
    "fees": maybe(Type::Record("fees")), "its fees, when shown separately" => |o| fees_value(&o.fees);
    "added": maybe(Type::Date), "the day a request added it; () for an option the case lists"
        => |o| Value::maybe_date(o.added);
});

impl OptionFacts {
    fn listed(option: &ContractOption, contract_billing: NaiveDate, index: usize) -> Self {
        OptionFacts {
            kind: option.kind.as_str().into(),
            billing_start: option.billing_start.unwrap_or(contract_billing),
            ended: option.ended,
            fees: option.fees.clone().map(|f| Arc::new(FeesFacts(f))),
            added: None,
            index: Some(index),
        }
    }

    /// The option an `add_option` request asks for.
    pub fn requested(
        kind: &str,
        billing_start: NaiveDate,
        fees: &Option<Fees>,
        day: NaiveDate,
    ) -> Self {
        OptionFacts {
            kind: kind.into(),
            billing_start,
            ended: None,
            fees: fees.clone().map(|f| Arc::new(FeesFacts(f))),
            added: Some(day),
            index: None,
        }
    }

    /// A copy with `index` set: the option as the contract's list holds it.
    pub fn at(&self, index: usize) -> Self {
        OptionFacts {
            index: Some(index),
            ..self.clone()
        }
    }

    /// An option a fact builds: `option(kind, billing_start)`.
    fn derived(kind: &str, billing_start: NaiveDate) -> Self {
        OptionFacts {
            kind: kind.into(),
            billing_start,
            ended: None,
            fees: None,
            added: None,
            index: None,
        }
    }

    /// Held on `day`: added by then, not yet ended.
    pub fn held_on(&self, day: NaiveDate) -> bool {
        self.added.is_none_or(|added| added <= day) && self.ended.is_none_or(|end| day <= end)
    }
}

/// A contract: the case's, or one a `new_contract` request proposes.
#[derive(Debug, Clone)]
pub struct ContractFacts {
    /// The contract's id.
    pub id: Arc<str>,
    kind: Arc<str>,
    item: Option<Arc<str>>,
    /// The day it was formed; `None` while only proposed.
    pub formed: Option<NaiveDate>,
    billing_start: NaiveDate,
    /// The last day it is in force, once an end is set.
    pub ended: Option<NaiveDate>,
    fees: Arc<FeesFacts>,
    declared: Option<NaiveDate>,
    /// Its options: listed, then added by requests, in that order.
    pub options: Vec<Arc<OptionFacts>>,
    /// The same options as rules read them, built on first read after a change.
    options_value: std::sync::OnceLock<Value>,
    /// Accounts from each day on, oldest first; the first entry holds from the start.
    accounts: Vec<(NaiveDate, Decimal)>,
}

record!(ContractFacts, "contract", label: |c| format!("contract {}", c.id), instead: [
    ("accounts", "accounts change over time: read them on a day, `accounts_on(contract, day)`"),
], {
    "id": Type::Text, "the contract's id" => |c| Value::Text(c.id.clone());
    "kind": Type::Text, "its kind (種類)" => |c| Value::Text(c.kind.clone());
    "item": maybe(Type::Text), "its item (品目), if any" => |c| text_or_null(&c.item);
    "formed": maybe(Type::Date), "the day it was formed; () while a new contract is only proposed elsewhere"
        => |c| Value::maybe_date(c.formed);
    "billing_start": Type::Date, "its billing start (課金開始日)" => |c| Value::Date(c.billing_start);
    "ended": maybe(Type::Date), "the last day it is in force, once an end is set"
        => |c| Value::maybe_date(c.ended);
    "fees": Type::Record("fees"), "the amounts shown to the customer" => |c| Value::Record(c.fees.clone());
    "sandbox_continuation_declared": maybe(Type::Date), "附則(令和8年4月1日)第2項: the day of the declaration, if any"
        => |c| Value::maybe_date(c.declared);
    "options": Type::list(Type::Record("option")), "its options, listed and added, each with its days"
        => |c| c.options_value.get_or_init(|| {
            Value::list(c.options.iter().map(|o| Value::Record(o.clone())).collect())
        }).clone();
});

impl ContractFacts {
    /// A contract as the case lists it or a request proposes it (then `formed` is `None`).
    pub fn new(contract: &Contract) -> ContractFacts {
        ContractFacts {
            id: contract.id.as_str().into(),
            kind: contract.kind.as_str().into(),
            item: contract.item.as_deref().map(Arc::from),
            formed: contract.formed,
            billing_start: contract.billing_start,
            ended: contract.ended,
            fees: Arc::new(FeesFacts(contract.fees.clone())),
            declared: contract.sandbox_continuation_declared,
            options: contract
                .options
                .iter()
                .enumerate()
                .map(|(i, o)| Arc::new(OptionFacts::listed(o, contract.billing_start, i)))
                .collect(),
            options_value: std::sync::OnceLock::new(),
            accounts: vec![(NaiveDate::MIN, contract.accounts)],
        }
    }

    /// In force on `day` (SPEC §1): formed by then and not yet ended.
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.formed.is_some_and(|formed| formed <= day) && self.ended.is_none_or(|end| day <= end)
    }

    /// The accounts on `day`.
    pub fn accounts_on(&self, day: NaiveDate) -> Decimal {
        self.accounts
            .iter()
            .rev()
            .find(|(from, _)| *from <= day)
            .map_or(self.accounts[0].1, |(_, n)| *n)
    }

    /// From `day` on, `accounts`; a later change on the same day replaces an earlier one.
    pub fn change_accounts(&mut self, day: NaiveDate, accounts: Decimal) {
        let at = self.accounts.partition_point(|(from, _)| *from <= day);
        if at > 0 && self.accounts[at - 1].0 == day {
            self.accounts[at - 1].1 = accounts;
        } else {
            self.accounts.insert(at, (day, accounts));
        }
    }

    /// Ends it on `day`, unless an earlier end is set: an end is never postponed.
    pub fn end(&mut self, day: NaiveDate) {
        self.ended = Some(self.ended.map_or(day, |end| end.min(day)));
    }

    /// Adds an option from its request's day on.
    pub fn add_option(&mut self, option: &OptionFacts) {
        self.options_value = std::sync::OnceLock::new();
        let index = self.options.len();
        self.options.push(Arc::new(option.at(index)));
    }

    /// Ends the option at `index` (or, for one a fact derived, lists it from now on) on
    /// `day`, unless an earlier end is set.
    pub fn end_option(&mut self, option: &OptionFacts, day: NaiveDate) {
        self.options_value = std::sync::OnceLock::new();
        match option.index {
            Some(index) => {
                let listed = Arc::make_mut(&mut self.options[index]);
                listed.ended = Some(listed.ended.map_or(day, |end| end.min(day)));
            }
            None => {
                let index = self.options.len();
                let mut ended = option.at(index);
                ended.ended = Some(day);
                self.options.push(Arc::new(ended));
            }
        }
    }

    /// The same contract, formed on `day` (a proposal judged as if accepted).
    pub fn formed_on(&self, day: NaiveDate) -> ContractFacts {
        ContractFacts {
            formed: Some(day),
            ..self.clone()
        }
    }

    /// The contract's kind.
    pub fn kind(&self) -> &str {
        &self.kind
    }
}

/// A request, with the day that selects its rule versions.
#[derive(Debug, Clone)]
pub struct RequestFacts {
    request: Request,
    day: NaiveDate,
    /// For `new_contract`: the proposed contract.
    proposal: Option<Arc<ContractFacts>>,
}

impl RequestFacts {
    /// The request as rules read it.
    pub fn new(request: &Request, proposal: Option<Arc<ContractFacts>>) -> RequestFacts {
        RequestFacts {
            request: request.clone(),
            day: request.date(),
            proposal,
        }
    }
}

/// The fields a request of each type has, with their types: one list for the checker and
/// the reader below.
fn request_field_type(field: &str) -> Option<(Type, &'static str)> {
    Some(match field {
        "type" => (Type::Text, "the request's type"),
        "date" => (
            Type::Date,
            "the day that selects the rule versions: the request date, the notice's arrival, or the outage's Japan-time date",
        ),
        "contract" => (Type::Text, "the id of the contract it is about"),
        "accounts" => (Type::Decimal, "the new number of accounts"),
        "option" => (Type::Text, "the option's kind"),
        "billing_start" => (
            Type::Date,
            "the option's billing start (the request date when not given)",
        ),
        "fees" => (
            maybe(Type::Record("fees")),
            "the option's fees, when shown separately",
        ),
        "notice_arrived" => (Type::Date, "the day the notice reached the provider"),
        "requested_end" => (maybe(Type::Date), "the end the customer asked for, if any"),
        "general_terms_28" => (Type::Bool, "terminated under 一般規程 第28条第2項/第3項"),
        "attributable_to_provider" => (Type::Bool, "the outage is the provider's fault"),
        "total" => (Type::Bool, "the service was wholly unusable"),
        "known_at" => (Type::Timestamp, "when the provider learned of the outage"),
        "restored_at" => (Type::Timestamp, "when service was restored"),
        "claimed_on" => (Type::Date, "the day the customer claimed"),
        _ => return None,
    })
}

impl Record for RequestFacts {
    fn record_name(&self) -> &'static str {
        self.request.kind()
    }

    fn field(&self, name: &str) -> Value {
        let date = |d: &NaiveDate| Value::Date(*d);
        let stamp = |t: &Timestamp| Value::Timestamp(*t);
        match (name, &self.request) {
            ("type", r) => Value::text(r.kind()),
            ("date", _) => Value::Date(self.day),
            ("contract", Request::NewContract { .. }) => self
                .proposal
                .as_ref()
                .map_or(Value::Null, |c| Value::Record(c.clone())),
            ("contract", r) => Value::text(r.contract_id()),
            ("accounts", Request::ChangeAccounts { accounts, .. }) => Value::Decimal(*accounts),
            ("option", Request::AddOption { option, .. } | Request::StopOption { option, .. }) => {
                Value::text(option)
            }
            (
                "billing_start",
                Request::AddOption {
                    billing_start,
                    date,
                    ..
                },
            ) => Value::Date(billing_start.unwrap_or(*date)),
            ("fees", Request::AddOption { fees, .. }) => fees
                .clone()
                .map_or(Value::Null, |f| Value::Record(Arc::new(FeesFacts(f)))),
            (
                "notice_arrived",
                Request::Terminate { notice_arrived, .. }
                | Request::StopOption { notice_arrived, .. },
            ) => date(notice_arrived),
            (
                "requested_end",
                Request::Terminate { requested_end, .. }
                | Request::StopOption { requested_end, .. },
            ) => Value::maybe_date(*requested_end),
            (
                "general_terms_28",
                Request::Terminate {
                    general_terms_28, ..
                },
            ) => Value::Bool(*general_terms_28),
            (
                "attributable_to_provider",
                Request::OutageCredit {
                    attributable_to_provider,
                    ..
                },
            ) => Value::Bool(*attributable_to_provider),
            ("total", Request::OutageCredit { total, .. }) => Value::Bool(*total),
            ("known_at", Request::OutageCredit { known_at, .. }) => stamp(known_at),
            ("restored_at", Request::OutageCredit { restored_at, .. }) => stamp(restored_at),
            ("claimed_on", Request::OutageCredit { claimed_on, .. }) => date(claimed_on),
            _ => Value::Null,
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The record types of the requests, one per `type`.
fn request_types() -> Vec<RecordType> {
    Request::KINDS
        .iter()
        .map(|&kind| {
            let mut fields = vec!["type", "date"];
            fields.extend(Request::fields(kind));
            RecordType {
                name: kind,
                tag: Some(kind),
                fields: fields
                    .into_iter()
                    .filter_map(|name| {
                        let (mut ty, doc) = request_field_type(name)?;
                        if kind == "new_contract" && name == "contract" {
                            ty = Type::Record("contract");
                        }
                        Some(Field { name, ty, doc })
                    })
                    .collect(),
                instead: Vec::new(),
            }
        })
        .collect()
}

fn contract_arg(v: &Value) -> Result<&ContractFacts, String> {
    v.as_record::<ContractFacts>()
        .ok_or_else(|| "expected a contract".to_owned())
}

fn option_arg(v: &Value) -> Result<&OptionFacts, String> {
    v.as_record::<OptionFacts>()
        .ok_or_else(|| "expected an option".to_owned())
}

fn day_arg(v: &Value) -> Result<NaiveDate, String> {
    v.as_date().ok_or_else(|| "expected a date".to_owned())
}

fn contracts_arg(v: &Value) -> Result<impl Iterator<Item = &ContractFacts>, String> {
    let items = v
        .as_list()
        .ok_or_else(|| "expected a list of contracts".to_owned())?;
    Ok(items.iter().filter_map(|c| c.as_record::<ContractFacts>()))
}

/// The schema of the fact model: its records, the generic functions, and the functions
/// that read facts on a day.
pub fn schema() -> Schema {
    let mut schema = Schema::default();
    for record in [
        CustomerFacts::record_type(),
        EnvironmentFacts::record_type(),
        FeesFacts::record_type(),
        OptionFacts::record_type(),
        ContractFacts::record_type(),
    ]
    .into_iter()
    .chain(request_types())
    {
        schema.record(record);
    }
    crate::expr::builtins::register(&mut schema);
    let contract = || Type::Record("contract");
    let option = || Type::Record("option");
    let contracts = || Type::list(contract());
    for function in [
        FunctionSig {
            name: "contract_in_force",
            params: vec![contract(), Type::Date],
            result: Type::Bool,
            run: |a| {
                Ok(Value::Bool(
                    contract_arg(&a[0])?.in_force_on(day_arg(&a[1])?),
                ))
            },
            doc: "formed on or before the day and not ended before it (SPEC §1)",
        },
        FunctionSig {
            name: "option_in_force",
            params: vec![option(), Type::Date],
            result: Type::Bool,
            run: |a| {
                let (option, day) = (option_arg(&a[0])?, day_arg(&a[1])?);
                Ok(Value::Bool(
                    option.billing_start <= day && option.ended.is_none_or(|end| day <= end),
                ))
            },
            doc: "billing started on or before the day and not ended before it (SPEC §1)",
        },
        FunctionSig {
            name: "option_held_on",
            params: vec![option(), Type::Date],
            result: Type::Bool,
            run: |a| Ok(Value::Bool(option_arg(&a[0])?.held_on(day_arg(&a[1])?))),
            doc: "added by the day (listed options always are) and not ended before it",
        },
        FunctionSig {
            name: "option",
            params: vec![Type::Text, Type::Date],
            result: option(),
            run: |a| {
                let kind = a[0].as_text().ok_or_else(|| "expected text".to_owned())?;
                Ok(Value::Record(Arc::new(OptionFacts::derived(
                    kind,
                    day_arg(&a[1])?,
                ))))
            },
            doc: "an option of a kind billing from a day, that no request added (a transition's)",
        },
        FunctionSig {
            name: "accounts_on",
            params: vec![contract(), Type::Date],
            result: Type::Decimal,
            run: |a| {
                Ok(Value::Decimal(
                    contract_arg(&a[0])?.accounts_on(day_arg(&a[1])?),
                ))
            },
            doc: "the contract's accounts on the day, after every accepted change dated by then",
        },
        FunctionSig {
            name: "count_in_force",
            params: vec![contracts(), Type::Text, Type::Date],
            result: Type::Int,
            run: |a| {
                let kind = a[1].as_text().ok_or_else(|| "expected text".to_owned())?;
                let day = day_arg(&a[2])?;
                let count = contracts_arg(&a[0])?
                    .filter(|c| &*c.kind == kind && c.in_force_on(day))
                    .count();
                Ok(Value::Int(count as i64))
            },
            doc: "how many of the contracts are of the kind and in force on the day",
        },
        FunctionSig {
            name: "holds_any",
            params: vec![contracts(), Type::list(Type::Text), Type::Date],
            result: Type::Bool,
            run: |a| {
                let kinds = a[1].as_list().ok_or_else(|| "expected a list".to_owned())?;
                let day = day_arg(&a[2])?;
                let held = contracts_arg(&a[0])?.any(|c| {
                    c.in_force_on(day) && kinds.iter().any(|k| k.as_text() == Some(&*c.kind))
                });
                Ok(Value::Bool(held))
            },
            doc: "whether any contract of one of the kinds is in force on the day",
        },
    ] {
        schema.function(function);
    }
    schema
}
