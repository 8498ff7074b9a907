//! The case: a customer's contracts and requests, as SPEC §1 fixes them.
//!
//! Reading is strict: unknown fields, impossible dates and non-numeric money are errors
//! naming the field path, line and column. Money is read as `Decimal` and never passes
//! through floating point: JSON numbers are read from their text; YAML hands fractions
//! over as floats, so there a fractional yen amount must be written as a string.

use std::collections::HashSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::calendar;
use crate::calendar::Timestamp;
use crate::de::{count, date, optional_count, optional_date, optional_timestamp, yen};
use crate::error::Diagnostic;
use crate::expect::Expectations;
use crate::yaml::{self, Bounds, Locator, Syntax};

/// How large a case may be: what one document may make the reader and the evaluator do
/// is bounded by these, and a case past one is an input error naming the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseLimits {
    /// Bytes of the document.
    pub max_bytes: usize,
    /// Nesting of mappings and sequences.
    pub max_depth: usize,
    /// Contracts the case lists.
    pub max_contracts: usize,
    /// Requests in the case.
    pub max_requests: usize,
    /// Options on one contract.
    pub max_options: usize,
}

impl Default for CaseLimits {
    /// Far above any real customer's case; a case at every limit evaluates in well under
    /// a second (see docs/reliability.md).
    fn default() -> Self {
        CaseLimits {
            max_bytes: 1 << 20,
            max_depth: 32,
            max_contracts: 100,
            max_requests: 100,
            max_options: 10,
        }
    }
}

/// A case: the state to judge and the requests to decide, read from a document.
#[derive(Debug, Clone)]
pub struct Case {
    /// The date the state is judged on.
    pub as_of: NaiveDate,
    /// The customer.
    pub customer: Customer,
    /// The contracts the customer already has.
    pub contracts: Vec<Contract>,
    /// Requests, evaluated in order.
    pub requests: Vec<Request>,
    /// What the legal team expects of the ruling (`yakkan test`); not part of SPEC §1.
    pub expect: Option<Expectations>,
    /// Where each field stands in the source, for errors found after reading.
    pub source: Source,
}

// The document as serde reads it; requests are checked per type afterwards, so that
// every error keeps its full field path and position.
/// A case (SPEC §1): the customer, the contracts they hold and the requests to decide,
/// judged on `as_of`. Unknown fields are errors.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "yakkan case")]
struct CaseFile {
    /// The date the state is judged on.
    #[serde(deserialize_with = "date")]
    #[schemars(schema_with = "crate::schema::date")]
    as_of: NaiveDate,
    /// The customer.
    #[serde(default)]
    customer: Customer,
    /// The contracts the customer already has.
    #[serde(default)]
    #[schemars(schema_with = "listed_contracts_schema")]
    contracts: Vec<Contract>,
    /// Requests, decided in order; an accepted request changes the state later ones see.
    #[serde(default)]
    #[schemars(schema_with = "request_list_schema")]
    requests: Vec<WireRequest>,
    /// What the legal team expects of the ruling (`yakkan test`, `yakkan eval`).
    #[serde(default)]
    expect: Option<Expectations>,
}

/// The origin of a case document.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// The file name, when read from a file.
    pub file: Option<String>,
    /// The document's text.
    text: std::sync::Arc<str>,
    /// Field positions, indexed on the first error: a case that reads cleanly never pays
    /// for the index.
    locator: std::sync::OnceLock<Locator>,
}

impl Source {
    /// A diagnostic about the field at `path` of this document.
    pub fn error(&self, path: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        let path = path.into();
        let position = self
            .locator
            .get_or_init(|| Locator::new(&self.text))
            .find(&path);
        Diagnostic::new(self.file.as_deref(), path, message).at(position)
    }
}

/// The customer.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// The customer's id.
    #[serde(default)]
    pub id: Option<String>,
    /// Art. 7 conditions; absent means they are met.
    #[serde(default)]
    pub environment: Option<Environment>,
}

/// The customer's operating environment (art. 7).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// 7.1(1): the operation policy is decided. Absent = decided.
    #[serde(default = "yes")]
    pub policy_decided: bool,
    /// 7.1(2): whose network the environment runs on. Absent = the provider's.
    #[serde(default)]
    pub network: Network,
    /// 7.2: settings disclosed to the provider. Absent = not disclosed.
    #[serde(default)]
    pub settings_disclosed: bool,
}

fn yes() -> bool {
    true
}

/// Whose network the customer's environment runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// The provider's own service.
    #[default]
    Iij,
    /// Another carrier.
    Other,
}

impl Network {
    /// The name used in cases and rules.
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Iij => "iij",
            Network::Other => "other",
        }
    }
}

/// A contract, as the case lists it or a `new_contract` request proposes it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// The contract's id, unique in the case.
    pub id: String,
    /// The kind (種類); checked by the rules, so any text is read.
    pub kind: String,
    /// The item (品目), if any.
    #[serde(default)]
    pub item: Option<String>,
    /// The number of accounts (契約アカウント数); checked by the rules, so any number is read.
    #[serde(deserialize_with = "count")]
    #[schemars(schema_with = "crate::schema::count")]
    pub accounts: Decimal,
    /// The day the contract was formed; set by the request date for a new contract.
    #[serde(default, deserialize_with = "optional_date")]
    #[schemars(schema_with = "crate::schema::optional_date")]
    pub formed: Option<NaiveDate>,
    /// The day billing starts (課金開始日).
    #[serde(deserialize_with = "date")]
    #[schemars(schema_with = "crate::schema::date")]
    pub billing_start: NaiveDate,
    /// The day termination took effect; in force through that day.
    #[serde(default, deserialize_with = "optional_date")]
    #[schemars(schema_with = "crate::schema::optional_date")]
    pub ended: Option<NaiveDate>,
    /// The amounts shown to the customer.
    #[serde(default)]
    pub fees: Fees,
    /// The day of the 附則 (2026-04-01) ¶2 declaration, if any.
    #[serde(default, deserialize_with = "optional_date")]
    #[schemars(schema_with = "crate::schema::optional_date")]
    pub sandbox_continuation_declared: Option<NaiveDate>,
    /// Option services on this contract.
    #[serde(default)]
    pub options: Vec<ContractOption>,
}

/// An option service on a contract.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractOption {
    /// The option's kind; checked by the rules.
    pub kind: String,
    /// Its billing start; the contract's when absent.
    #[serde(default, deserialize_with = "optional_date")]
    #[schemars(schema_with = "crate::schema::optional_date")]
    pub billing_start: Option<NaiveDate>,
    /// The day it stopped; in force through that day.
    #[serde(default, deserialize_with = "optional_date")]
    #[schemars(schema_with = "crate::schema::optional_date")]
    pub ended: Option<NaiveDate>,
    /// Its fees, when shown separately.
    #[serde(default)]
    pub fees: Option<Fees>,
}

/// Monthly amounts "shown separately" (別途契約者に示す金額), in yen excluding tax.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fees {
    /// 基本料金 per month.
    #[serde(default, deserialize_with = "yen")]
    #[schemars(schema_with = "crate::schema::yen")]
    pub basic_monthly: Decimal,
    /// アカウント使用料 per account per month.
    #[serde(default, deserialize_with = "yen")]
    #[schemars(schema_with = "crate::schema::yen")]
    pub per_account_monthly: Decimal,
}

/// A request (SPEC §1), by its `type`.
#[derive(Debug, Clone)]
pub enum Request {
    /// Apply for a new contract.
    NewContract {
        /// The application date; the contract is formed on it when accepted.
        date: NaiveDate,
        /// The proposed contract.
        contract: Contract,
    },
    /// Change a contract's number of accounts (art. 8).
    ChangeAccounts {
        /// The request date.
        date: NaiveDate,
        /// The contract's id.
        contract: String,
        /// The new number of accounts.
        accounts: Decimal,
    },
    /// Add an option service (art. 9).
    AddOption {
        /// The request date.
        date: NaiveDate,
        /// The contract's id.
        contract: String,
        /// The option's kind.
        option: String,
        /// Its billing start; the request date when absent.
        billing_start: Option<NaiveDate>,
        /// Its fees, when shown separately.
        fees: Option<Fees>,
    },
    /// Terminate a contract (art. 11).
    Terminate {
        /// The contract's id.
        contract: String,
        /// The day the notice reached the provider.
        notice_arrived: NaiveDate,
        /// The end the customer asked for, if any.
        requested_end: Option<NaiveDate>,
        /// Terminated under 一般規程 第28条第2項/第3項.
        general_terms_28: bool,
    },
    /// Stop an option service (art. 9.4).
    StopOption {
        /// The contract's id.
        contract: String,
        /// The option's kind.
        option: String,
        /// The day the notice reached the provider.
        notice_arrived: NaiveDate,
        /// The end the customer asked for, if any.
        requested_end: Option<NaiveDate>,
    },
    /// Claim a fee reduction for an outage (art. 14).
    OutageCredit {
        /// The contract's id.
        contract: String,
        /// The outage is the provider's fault.
        attributable_to_provider: bool,
        /// The service was wholly unusable.
        total: bool,
        /// When the provider learned of the outage.
        known_at: Timestamp,
        /// When service was restored.
        restored_at: Timestamp,
        /// The day the customer claimed.
        claimed_on: NaiveDate,
    },
}

impl Request {
    /// The request's `type` as written in cases and rules.
    pub fn kind(&self) -> &'static str {
        match self {
            Request::NewContract { .. } => "new_contract",
            Request::ChangeAccounts { .. } => "change_accounts",
            Request::AddOption { .. } => "add_option",
            Request::Terminate { .. } => "terminate",
            Request::StopOption { .. } => "stop_option",
            Request::OutageCredit { .. } => "outage_credit",
        }
    }

    /// Every request type, in SPEC order.
    pub const KINDS: [&'static str; 6] = [
        "new_contract",
        "change_accounts",
        "add_option",
        "terminate",
        "stop_option",
        "outage_credit",
    ];

    /// The fields a request of type `kind` takes besides `type`, in SPEC order.
    pub fn fields(kind: &str) -> &'static [&'static str] {
        RequestType::ALL
            .iter()
            .find(|t| t.name() == kind)
            .map_or(&[], |t| t.fields().0)
    }

    /// The date that selects the rule versions for this request (SPEC §1).
    pub fn date(&self) -> NaiveDate {
        match self {
            Request::NewContract { date, .. }
            | Request::ChangeAccounts { date, .. }
            | Request::AddOption { date, .. } => *date,
            Request::Terminate { notice_arrived, .. }
            | Request::StopOption { notice_arrived, .. } => *notice_arrived,
            Request::OutageCredit { known_at, .. } => calendar::jst_date(known_at),
        }
    }

    /// The id of the contract the request is about.
    pub fn contract_id(&self) -> &str {
        match self {
            Request::NewContract { contract, .. } => &contract.id,
            Request::ChangeAccounts { contract, .. }
            | Request::AddOption { contract, .. }
            | Request::Terminate { contract, .. }
            | Request::StopOption { contract, .. }
            | Request::OutageCredit { contract, .. } => contract,
        }
    }
}

/// A request as written: every field of every type, typed but optional. Which fields a
/// type takes is checked when it becomes a [`Request`].
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WireRequest {
    /// The request's type.
    #[serde(rename = "type")]
    kind: RequestType,
    /// The request date (new_contract, change_accounts, add_option).
    #[serde(default, deserialize_with = "optional_date")]
    #[schemars(schema_with = "crate::schema::optional_date")]
    date: Option<NaiveDate>,
    /// The contract's id; for new_contract, the whole proposed contract.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    contract: Option<ContractRef>,
    /// The new number of accounts (change_accounts).
    #[serde(default, deserialize_with = "optional_count")]
    #[schemars(schema_with = "crate::schema::optional_count")]
    accounts: Option<Decimal>,
    /// The option's kind: web_sandbox or dedicated_ip (add_option, stop_option).
    #[serde(default)]
    option: Option<String>,
    /// The option's billing start; the request date when absent (add_option).
    #[serde(default, deserialize_with = "optional_date")]
    #[schemars(schema_with = "crate::schema::optional_date")]
    billing_start: Option<NaiveDate>,
    /// The option's fees, when shown separately (add_option).
    #[serde(default)]
    fees: Option<Fees>,
    /// The day the notice reached the provider (terminate, stop_option).
    #[serde(default, deserialize_with = "optional_date")]
    #[schemars(schema_with = "crate::schema::optional_date")]
    notice_arrived: Option<NaiveDate>,
    /// The end the customer asked for, if any (terminate, stop_option).
    #[serde(default, deserialize_with = "optional_date")]
    #[schemars(schema_with = "crate::schema::optional_date")]
    requested_end: Option<NaiveDate>,
    /// Terminated under 一般規程 第28条第2項/第3項 (terminate; false when absent).
    #[serde(default)]
    general_terms_28: Option<bool>,
    /// The outage is attributable to the provider (outage_credit).
    #[serde(default)]
    attributable_to_provider: Option<bool>,
    /// The service was wholly unusable (outage_credit).
    #[serde(default)]
    total: Option<bool>,
    /// When the provider learned of the outage (outage_credit).
    #[serde(default, deserialize_with = "optional_timestamp")]
    #[schemars(schema_with = "crate::schema::optional_timestamp")]
    known_at: Option<Timestamp>,
    /// When service was restored (outage_credit).
    #[serde(default, deserialize_with = "optional_timestamp")]
    #[schemars(schema_with = "crate::schema::optional_timestamp")]
    restored_at: Option<Timestamp>,
    /// The day the customer claimed the credit (outage_credit).
    #[serde(default, deserialize_with = "optional_date")]
    #[schemars(schema_with = "crate::schema::optional_date")]
    claimed_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum RequestType {
    NewContract,
    ChangeAccounts,
    AddOption,
    Terminate,
    StopOption,
    OutageCredit,
}

impl RequestType {
    const ALL: [RequestType; 6] = [
        RequestType::NewContract,
        RequestType::ChangeAccounts,
        RequestType::AddOption,
        RequestType::Terminate,
        RequestType::StopOption,
        RequestType::OutageCredit,
    ];

    fn name(self) -> &'static str {
        match self {
            RequestType::NewContract => "new_contract",
            RequestType::ChangeAccounts => "change_accounts",
            RequestType::AddOption => "add_option",
            RequestType::Terminate => "terminate",
            RequestType::StopOption => "stop_option",
            RequestType::OutageCredit => "outage_credit",
        }
    }

    /// The fields a request of this type takes (besides `type`), and those it needs.
    fn fields(self) -> (&'static [&'static str], &'static [&'static str]) {
        use RequestType as T;
        match self {
            T::NewContract => (&["date", "contract"], &["date", "contract"]),
            T::ChangeAccounts => (
                &["date", "contract", "accounts"],
                &["date", "contract", "accounts"],
            ),
            T::AddOption => (
                &["date", "contract", "option", "billing_start", "fees"],
                &["date", "contract", "option"],
            ),
            T::Terminate => (
                &[
                    "contract",
                    "notice_arrived",
                    "requested_end",
                    "general_terms_28",
                ],
                &["contract", "notice_arrived"],
            ),
            T::StopOption => (
                &["contract", "option", "notice_arrived", "requested_end"],
                &["contract", "option", "notice_arrived"],
            ),
            T::OutageCredit => {
                const ALL: &[&str] = &[
                    "contract",
                    "attributable_to_provider",
                    "total",
                    "known_at",
                    "restored_at",
                    "claimed_on",
                ];
                (ALL, ALL)
            }
        }
    }
}

/// The schema of `requests`: one shape per `type`, each with exactly the fields that type
/// takes, as [`WireRequest::into_request`] checks them.
fn request_list_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let wire = WireRequest::json_schema(generator);
    let properties = wire
        .get("properties")
        .and_then(serde_json::Value::as_object)
        .cloned()
        .unwrap_or_default();
    let contract = generator.subschema_for::<Contract>().to_value();
    let shapes: Vec<serde_json::Value> = RequestType::ALL
        .iter()
        .map(|&kind| {
            let (takes, needs) = kind.fields();
            let mut shape = serde_json::Map::new();
            shape.insert(
                "type".to_owned(),
                serde_json::json!({ "const": kind.name(), "description": "The request's type." }),
            );
            for &field in takes {
                let schema = if field == "contract" {
                    if kind == RequestType::NewContract {
                        // A new contract is formed on the request's date: no `formed`, no `ended`.
                        serde_json::json!({
                            "$ref": contract["$ref"],
                            "description": "The proposed contract; it is formed on the request's date when accepted.",
                            "properties": { "formed": { "type": "null" }, "ended": { "type": "null" } }
                        })
                    } else {
                        serde_json::json!({ "type": "string", "description": "The contract's id." })
                    }
                } else {
                    let mut schema = properties
                        .get(field)
                        .cloned()
                        .unwrap_or(serde_json::Value::Bool(true));
                    // A field the type needs cannot be null: null reads as absent.
                    if needs.contains(&field) {
                        if let Some(types) = schema.get_mut("type").and_then(|t| t.as_array_mut()) {
                            types.retain(|t| t != "null");
                        }
                        if let Some(object) = schema.as_object_mut() {
                            object.remove("default");
                        }
                    }
                    schema
                };
                shape.insert(field.to_owned(), schema);
            }
            let mut required = vec!["type"];
            required.extend_from_slice(needs);
            serde_json::json!({
                "title": kind.name(),
                "type": "object",
                "properties": shape,
                "required": required,
                "additionalProperties": false,
            })
        })
        .collect();
    schemars::json_schema!({
        "type": "array",
        "items": { "oneOf": shapes }
    })
}

/// The schema of `contracts`: a listed contract names the day it was formed.
fn listed_contracts_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let contract = generator.subschema_for::<Contract>().to_value();
    schemars::json_schema!({
        "type": "array",
        "items": {
            "$ref": contract["$ref"],
            "required": ["formed"],
            "properties": { "formed": { "type": "string" } }
        }
    })
}

/// The JSON Schema of a case document (SPEC §1, with `expect:`).
pub fn json_schema() -> schemars::Schema {
    schemars::schema_for!(CaseFile)
}

/// A request's `contract`: an id, or a whole contract for `new_contract`.
#[derive(Debug)]
enum ContractRef {
    Id(String),
    New(Box<Contract>),
}

impl<'de> Deserialize<'de> for ContractRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RefVisitor;
        impl<'de> serde::de::Visitor<'de> for RefVisitor {
            type Value = ContractRef;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a contract id, or a contract for new_contract")
            }
            fn visit_str<E: serde::de::Error>(self, id: &str) -> Result<ContractRef, E> {
                Ok(ContractRef::Id(id.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ContractRef, A::Error> {
                // Reading through the same map access keeps the field path.
                Contract::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|c| ContractRef::New(Box::new(c)))
            }
        }
        deserializer.deserialize_any(RefVisitor)
    }
}

impl WireRequest {
    /// The typed request, or an error naming the field that is missing or does not belong.
    fn into_request(self, index: usize, source: &Source) -> Result<Request, Diagnostic> {
        use RequestType as T;
        let kind = self.kind;
        let name = kind.name();
        let (takes, _) = kind.fields();
        let present = [
            ("date", self.date.is_some()),
            ("contract", self.contract.is_some()),
            ("accounts", self.accounts.is_some()),
            ("option", self.option.is_some()),
            ("billing_start", self.billing_start.is_some()),
            ("fees", self.fees.is_some()),
            ("notice_arrived", self.notice_arrived.is_some()),
            ("requested_end", self.requested_end.is_some()),
            ("general_terms_28", self.general_terms_28.is_some()),
            (
                "attributable_to_provider",
                self.attributable_to_provider.is_some(),
            ),
            ("total", self.total.is_some()),
            ("known_at", self.known_at.is_some()),
            ("restored_at", self.restored_at.is_some()),
            ("claimed_on", self.claimed_on.is_some()),
        ];
        if let Some((field, _)) = present.iter().find(|(f, set)| *set && !takes.contains(f)) {
            return Err(source.error(
                format!("requests[{index}].{field}"),
                format!(
                    "unknown field `{field}`: a {name} request takes {}",
                    takes.join(", ")
                ),
            ));
        }
        let path = format!("requests[{index}]");
        let missing = |field: &str| {
            source.error(
                &path,
                format!("missing field `{field}` of a {name} request"),
            )
        };
        fn need<V>(value: Option<V>, missing: impl Fn() -> Diagnostic) -> Result<V, Diagnostic> {
            value.ok_or_else(missing)
        }
        let id = |contract: Option<ContractRef>| match contract {
            Some(ContractRef::Id(id)) => Ok(id),
            Some(ContractRef::New(_)) => Err(source.error(
                format!("{path}.contract"),
                format!("a {name} request names its contract by id"),
            )),
            None => Err(missing("contract")),
        };
        Ok(match kind {
            T::NewContract => Request::NewContract {
                date: need(self.date, || missing("date"))?,
                contract: match self.contract {
                    Some(ContractRef::New(contract)) => *contract,
                    Some(ContractRef::Id(_)) => {
                        return Err(source.error(
                            format!("{path}.contract"),
                            "a new_contract request gives the whole contract, not an id",
                        ));
                    }
                    None => return Err(missing("contract")),
                },
            },
            T::ChangeAccounts => Request::ChangeAccounts {
                date: need(self.date, || missing("date"))?,
                contract: id(self.contract)?,
                accounts: need(self.accounts, || missing("accounts"))?,
            },
            T::AddOption => Request::AddOption {
                date: need(self.date, || missing("date"))?,
                contract: id(self.contract)?,
                option: need(self.option, || missing("option"))?,
                billing_start: self.billing_start,
                fees: self.fees,
            },
            T::Terminate => Request::Terminate {
                contract: id(self.contract)?,
                notice_arrived: need(self.notice_arrived, || missing("notice_arrived"))?,
                requested_end: self.requested_end,
                general_terms_28: self.general_terms_28.unwrap_or(false),
            },
            T::StopOption => Request::StopOption {
                contract: id(self.contract)?,
                option: need(self.option, || missing("option"))?,
                notice_arrived: need(self.notice_arrived, || missing("notice_arrived"))?,
                requested_end: self.requested_end,
            },
            T::OutageCredit => Request::OutageCredit {
                contract: id(self.contract)?,
                attributable_to_provider: need(self.attributable_to_provider, || {
                    missing("attributable_to_provider")
                })?,
                total: need(self.total, || missing("total"))?,
                known_at: need(self.known_at, || missing("known_at"))?,
                restored_at: need(self.restored_at, || missing("restored_at"))?,
                claimed_on: need(self.claimed_on, || missing("claimed_on"))?,
            },
        })
    }
}

impl Case {
    /// Reads a case from YAML or JSON text within the default [`CaseLimits`]; `file`
    /// names it in errors.
    pub fn from_str(text: &str, file: Option<&str>) -> Result<Case, Diagnostic> {
        Case::from_str_with(text, file, &CaseLimits::default())
    }

    /// Reads a case from YAML or JSON text, refusing one past `limits`.
    pub fn from_str_with(
        text: &str,
        file: Option<&str>,
        limits: &CaseLimits,
    ) -> Result<Case, Diagnostic> {
        Case::read(text, file, Syntax::detect(file, text), limits)
    }

    /// Reads a case in the given syntax (an HTTP body's content type decides it), refusing
    /// one past `limits`.
    pub fn read(
        text: &str,
        file: Option<&str>,
        syntax: Syntax,
        limits: &CaseLimits,
    ) -> Result<Case, Diagnostic> {
        let bounds = Bounds {
            max_bytes: limits.max_bytes,
            max_depth: limits.max_depth,
        };
        yaml::screen(text, syntax, file, bounds)?;
        let read: CaseFile = yaml::from_str(text, syntax, file)?;
        let source = Source {
            file: file.map(str::to_owned),
            text: text.into(),
            locator: std::sync::OnceLock::new(),
        };
        let requests = read
            .requests
            .into_iter()
            .enumerate()
            .map(|(i, wire)| wire.into_request(i, &source))
            .collect::<Result<_, _>>()?;
        let case = Case {
            as_of: read.as_of,
            customer: read.customer,
            contracts: read.contracts,
            requests,
            expect: read.expect,
            source,
        };
        case.within(limits)?;
        case.validate()?;
        Ok(case)
    }

    /// Checks the counts `limits` bound, naming the first list that is too long.
    fn within(&self, limits: &CaseLimits) -> Result<(), Diagnostic> {
        let too_many = |path: String, what: &str, count: usize, max: usize, limit: &str| {
            Err(self.source.error(
                path,
                format!("{count} {what}; at most {max} are read (limit {limit})"),
            ))
        };
        if self.contracts.len() > limits.max_contracts {
            let n = self.contracts.len();
            return too_many(
                "contracts".into(),
                "contracts",
                n,
                limits.max_contracts,
                "max_contracts",
            );
        }
        if self.requests.len() > limits.max_requests {
            let n = self.requests.len();
            return too_many(
                "requests".into(),
                "requests",
                n,
                limits.max_requests,
                "max_requests",
            );
        }
        let listed = self
            .contracts
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("contracts[{i}].options"), c));
        let proposed = self
            .requests
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match r {
                Request::NewContract { contract, .. } => {
                    Some((format!("requests[{i}].contract.options"), contract))
                }
                _ => None,
            });
        for (path, contract) in listed.chain(proposed) {
            if contract.options.len() > limits.max_options {
                let n = contract.options.len();
                return too_many(
                    path,
                    "options on one contract",
                    n,
                    limits.max_options,
                    "max_options",
                );
            }
        }
        Ok(())
    }

    /// Checks what serde cannot: formation dates, and that every id a request names is
    /// named somewhere in the document (a contract listed or proposed by any
    /// `new_contract`). Whether it is in force when the request needs it is for the rules.
    fn validate(&self) -> Result<(), Diagnostic> {
        let mut ids = HashSet::new();
        for (i, contract) in self.contracts.iter().enumerate() {
            if contract.formed.is_none() {
                return Err(self.source.error(
                    format!("contracts[{i}].formed"),
                    "missing field `formed` (the day the contract was formed)",
                ));
            }
            if !ids.insert(contract.id.as_str()) {
                return Err(self.source.error(
                    format!("contracts[{i}].id"),
                    format!("contract id `{}` is listed twice", contract.id),
                ));
            }
        }
        for (i, request) in self.requests.iter().enumerate() {
            if let Request::NewContract { contract, .. } = request {
                for (field, set) in [("formed", contract.formed), ("ended", contract.ended)] {
                    if set.is_some() {
                        return Err(self.source.error(
                            format!("requests[{i}].contract.{field}"),
                            format!("a new contract has no `{field}` yet: it is formed on the request's date"),
                        ));
                    }
                }
                if !ids.insert(contract.id.as_str()) {
                    return Err(self.source.error(
                        format!("requests[{i}].contract.id"),
                        format!("contract id `{}` already exists", contract.id),
                    ));
                }
            }
        }
        for (i, request) in self.requests.iter().enumerate() {
            match request {
                Request::NewContract { .. } => {}
                Request::OutageCredit {
                    known_at,
                    restored_at,
                    ..
                } if restored_at < known_at => {
                    return Err(self.source.error(
                        format!("requests[{i}].restored_at"),
                        format!("service cannot be restored ({restored_at}) before the outage was known ({known_at})"),
                    ));
                }
                other => {
                    let id = other.contract_id();
                    if !ids.contains(id) {
                        return Err(self.source.error(
                            format!("requests[{i}].contract"),
                            format!("the case names no contract `{id}`: neither listed nor proposed by a new_contract"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "\
as_of: 2026-05-01
contracts:
  - id: WG-1
    kind: web_gateway
    accounts: 120
    formed: 2026-03-01
    billing_start: 2026-03-10
    fees: { basic_monthly: \"20000\", per_account_monthly: 300 }
requests:
  - { type: change_accounts, date: 2026-05-02, contract: WG-1, accounts: 40 }
  - { type: terminate, contract: WG-1, notice_arrived: 2026-05-10, requested_end: null }
";

    fn error_of(text: &str) -> Diagnostic {
        Case::from_str(text, Some("case.yaml")).unwrap_err()
    }

    #[test]
    fn reads_a_case_with_money_as_decimal() {
        let case = Case::from_str(MINIMAL, None).unwrap();
        assert_eq!(case.contracts[0].fees.basic_monthly, Decimal::from(20000));
        assert_eq!(
            case.contracts[0].fees.per_account_monthly,
            Decimal::from(300)
        );
        assert_eq!(
            case.requests[1].date(),
            calendar::parse_date("2026-05-10").unwrap()
        );
    }

    #[test]
    fn unknown_fields_are_errors_with_their_place() {
        let text = MINIMAL.replace("requested_end: null", "requested_end: null, reason: x");
        let error = error_of(&text);
        assert_eq!(error.path, "requests[1].reason");
        assert!(error.message.contains("unknown field `reason`"), "{error}");
        assert_eq!(error.position.map(|at| at.line), Some(11));
    }

    #[test]
    fn invalid_dates_name_the_field() {
        let error =
            error_of(&MINIMAL.replace("notice_arrived: 2026-05-10", "notice_arrived: 2026-02-30"));
        assert_eq!(error.path, "requests[1].notice_arrived");
        assert!(error.message.contains("2026-02-30"), "{error}");
        assert!(error.to_string().starts_with("case.yaml:11:"), "{error}");
    }

    #[test]
    fn money_must_be_numeric_and_never_a_float() {
        let error = error_of(&MINIMAL.replace("\"20000\"", "\"twenty\""));
        assert_eq!(error.path, "contracts[0].fees.basic_monthly");
        assert_eq!(error.position.map(|at| at.line), Some(8));
        let error = error_of(&MINIMAL.replace("\"20000\"", "20000.5"));
        assert!(error.message.contains("as a string"), "{error}");
        let case = Case::from_str(&MINIMAL.replace("\"20000\"", "\"20000.5\""), None).unwrap();
        assert_eq!(
            case.contracts[0].fees.basic_monthly,
            Decimal::new(200005, 1)
        );
    }

    #[test]
    fn json_money_is_exact_and_whole_floats_are_whole() {
        let json = r#"{"as_of": "2026-05-01", "contracts": [{"id": "WG-1", "kind": "web_gateway",
            "accounts": 50.5, "formed": "2026-04-01", "billing_start": "2026-04-10",
            "fees": {"basic_monthly": 20000.15, "per_account_monthly": 1e2}}]}"#;
        let case = Case::from_str(json, Some("c.json")).unwrap();
        let contract = &case.contracts[0];
        // Read from the text, not through a float: 20000.15 is not representable in binary.
        assert_eq!(
            contract.fees.basic_monthly,
            "20000.15".parse::<Decimal>().unwrap()
        );
        assert_eq!(contract.fees.per_account_monthly, Decimal::from(100));
        assert_eq!(contract.accounts, Decimal::new(505, 1));
        let yaml = MINIMAL.replace("\"20000\"", "20000.0");
        let case = Case::from_str(&yaml, None).unwrap();
        assert_eq!(case.contracts[0].fees.basic_monthly, Decimal::from(20000));
    }

    #[test]
    fn references_must_exist() {
        let error =
            error_of(&MINIMAL.replace("contract: WG-1, accounts", "contract: WG-9, accounts"));
        assert_eq!(error.path, "requests[0].contract");
        assert!(error.message.contains("WG-9"));
        let error = error_of(&MINIMAL.replace("    formed: 2026-03-01\n", ""));
        assert_eq!(error.path, "contracts[0].formed");
    }

    #[test]
    fn json_cases_read_the_same() {
        let json = r#"{"as_of": "2026-05-01", "contracts": [], "requests": [
            {"type": "terminate", "contract": "X", "notice_arrived": "2026-05-01"}]}"#;
        let error = Case::from_str(json, Some("c.json")).unwrap_err();
        assert_eq!(error.path, "requests[0].contract");
        let error = Case::from_str(r#"{"as_of": "2026-13-01"}"#, Some("c.json")).unwrap_err();
        assert_eq!(error.path, "as_of");
        assert_eq!(error.position.map(|at| at.line), Some(1));
    }

    #[test]
    fn numbers_a_float_cannot_hold_are_refused_not_rounded() {
        // YAML hands these over as floats: 50 and 20000 after rounding.
        let accounts =
            error_of(&MINIMAL.replace("accounts: 120", "accounts: 49.99999999999999999"));
        assert_eq!(accounts.path, "contracts[0].accounts");
        assert!(
            accounts.message.contains("cannot be read exactly"),
            "{accounts}"
        );
        assert_eq!(accounts.position.map(|at| at.line), Some(5));
        let yen = error_of(&MINIMAL.replace(
            "per_account_monthly: 300",
            "per_account_monthly: 19999.999999999999",
        ));
        assert_eq!(yen.path, "contracts[0].fees.per_account_monthly");
        // Integers past 64 bits are still integers, read exactly.
        let case = Case::from_str(
            &MINIMAL.replace("accounts: 120", "accounts: 99999999999999999999"),
            None,
        )
        .unwrap();
        assert_eq!(
            case.contracts[0].accounts.to_string(),
            "99999999999999999999"
        );
        // What a float holds exactly is still read: 50.5 accounts (refused by the rules).
        let case =
            Case::from_str(&MINIMAL.replace("accounts: 120", "accounts: 50.5"), None).unwrap();
        assert_eq!(case.contracts[0].accounts, Decimal::new(505, 1));
        // JSON numbers are read from their text, but not past 28 significant digits.
        let json = |accounts: &str| {
            format!(
                r#"{{"as_of": "2026-05-01", "contracts": [{{"id": "WG-1", "kind": "web_gateway",
            "accounts": {accounts}, "formed": "2026-04-01", "billing_start": "2026-04-10"}}]}}"#
            )
        };
        let error = Case::from_str(&json("50.00000000000000000000000000001"), None).unwrap_err();
        assert_eq!(error.path, "contracts[0].accounts");
        assert!(error.message.contains("28"), "{error}");
        let case = Case::from_str(&json("5.000000000000000000000000000000e1"), None).unwrap();
        assert_eq!(case.contracts[0].accounts, Decimal::from(50));
        assert!(Case::from_str(&json("1e999999"), None).is_err());
    }

    #[test]
    fn money_strings_are_plain_decimals() {
        for bad in [
            "\"1__0\"",
            "\"1_000\"",
            "\"1e3\"",
            "\"0x10\"",
            "\".5\"",
            "\"5.\"",
            "\"\"",
        ] {
            let error = error_of(&MINIMAL.replace("\"20000\"", bad));
            assert_eq!(error.path, "contracts[0].fees.basic_monthly", "{bad}");
        }
        let case = Case::from_str(&MINIMAL.replace("\"20000\"", "\"-0.50\""), None).unwrap();
        assert_eq!(case.contracts[0].fees.basic_monthly, Decimal::new(-50, 2));
    }

    #[test]
    fn anchors_aliases_depth_and_size_are_refused_before_parsing() {
        let alias = MINIMAL.replace("fees: {", "fees: &f {")
            + "  - { type: add_option, date: 2026-05-02, contract: WG-1, option: dedicated_ip, fees: *f }\n";
        let error = error_of(&alias);
        assert!(error.message.contains("anchor"), "{error}");
        assert_eq!(error.path, "contracts[0].fees");
        let error = error_of(
            &MINIMAL
                .replace("fees: {", "fees: !!map {")
                .replace("    accounts: 120", "    accounts: *a"),
        );
        assert!(error.message.contains("anchor"), "{error}");
        let twice = MINIMAL
            .replace("per_account_monthly: 300", "per_account_monthly: &p 300")
            .replace("accounts: 40", "accounts: *p");
        let error = error_of(&twice);
        assert!(error.message.contains("anchor"), "{error}");
        assert_eq!(error.path, "contracts[0].fees.per_account_monthly");

        let deep = format!(
            "as_of: 2026-05-01\ncustomer: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let started = std::time::Instant::now();
        let error = error_of(&deep);
        assert!(error.message.contains("max_depth"), "{error}");
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
        let compact = format!("as_of: 2026-05-01\ncontracts:\n{}x\n", "- ".repeat(40));
        assert!(error_of(&compact).message.contains("max_depth"));
        let json = format!(
            "{{\"as_of\": \"2026-05-01\", \"customer\": {}1{}}}",
            "[".repeat(40),
            "]".repeat(40)
        );
        assert!(
            Case::from_str(&json, None)
                .unwrap_err()
                .message
                .contains("max_depth")
        );
        // Brackets inside quotes and comments are text, not nesting.
        let quoted = MINIMAL
            .replace(
                "as_of: 2026-05-01",
                &format!("as_of: 2026-05-01 # {}", "[".repeat(50)),
            )
            .replace(
                "id: WG-1\n",
                &format!("id: \"WG-1\"\n    item: '{}'\n", "{".repeat(50)),
            );
        assert!(Case::from_str(&quoted, None).is_ok());

        // A compact entry that ends its line (found by tests/readers_proptest.rs).
        assert!(Case::from_str("as_of: 2026-05-01\ncontracts:\n -", None).is_err());

        let limits = CaseLimits {
            max_bytes: 100,
            ..CaseLimits::default()
        };
        let error = Case::from_str_with(MINIMAL, None, &limits).unwrap_err();
        assert!(error.message.contains("max_bytes"), "{error}");
    }

    #[test]
    fn case_sizes_are_capped_naming_the_field() {
        let limits = CaseLimits {
            max_requests: 1,
            ..CaseLimits::default()
        };
        let error = Case::from_str_with(MINIMAL, None, &limits).unwrap_err();
        assert_eq!(error.path, "requests");
        assert!(error.message.contains("max_requests"), "{error}");
        let limits = CaseLimits {
            max_contracts: 0,
            ..CaseLimits::default()
        };
        assert_eq!(
            Case::from_str_with(MINIMAL, None, &limits)
                .unwrap_err()
                .path,
            "contracts"
        );
        let options = MINIMAL.replace(
            "    fees: {",
            "    options: [{kind: dedicated_ip}, {kind: dedicated_ip}]\n    fees: {",
        );
        let limits = CaseLimits {
            max_options: 1,
            ..CaseLimits::default()
        };
        let error = Case::from_str_with(&options, None, &limits).unwrap_err();
        assert_eq!(error.path, "contracts[0].options");
        assert!(error.message.contains("max_options"), "{error}");
        assert!(Case::from_str(&options, None).is_ok());
    }

    #[test]
    fn text_after_a_json_case_is_an_error() {
        let json = r#"{"as_of": "2026-05-01"} {"as_of": "2026-05-02"}"#;
        let error = Case::from_str(json, None).unwrap_err();
        assert!(error.message.contains("text after the document"), "{error}");
        assert_eq!(error.position.map(|at| at.column), Some(25));
        assert!(Case::from_str("{\"as_of\": \"2026-05-01\"}\n  \n", None).is_ok());
    }
}
