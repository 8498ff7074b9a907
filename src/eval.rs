//! Evaluation: a case's requests, in order, against the rule versions in force on each
//! request's date, then every contract on `as_of`.
//!
//! The machine is generic. What a request *does* when accepted is fixed by SPEC §1 (a
//! new contract is formed, accounts change, an option is added, a contract or option ends
//! on the `effective_date` its rules computed); everything the terms decide — whether it is
//! accepted, which dates and amounts follow — comes from the rules.

use chrono::NaiveDate;
use rhai::{Array, Dynamic, Map, Scope};
use rust_decimal::Decimal;
use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::case::{Case, Contract, ContractOption, Customer, Fees, Request};
use crate::engine::{self, Date};
use crate::error::EvalError;
use crate::ruleset::{Rule, RuleSet, Subject, ValueType};
use crate::ruling::{
    ContractRuling, Decision, Explanation, Finding, Message, Outcome, RequestRuling, RuleSetStamp,
    Ruling, Value,
};

/// The value an accepted `terminate` or `stop_option` takes effect on.
const EFFECTIVE_DATE: &str = "effective_date";

/// Evaluates a case against a rule set.
pub fn evaluate(rules: &RuleSet, case: &Case) -> Result<Ruling, EvalError> {
    evaluate_with(rules, case, Settings::default()).map(|(ruling, _)| ruling)
}

/// Evaluates a case, also returning which rules fired.
pub fn evaluate_with(
    rules: &RuleSet,
    case: &Case,
    settings: Settings,
) -> Result<(Ruling, Trace), EvalError> {
    // Rhai is a third-party interpreter: should it panic on some rule, the case gets an
    // error naming the engine, and the process (a server, a batch) carries on.
    let run = || {
        engine::with_deadline(rules.limits.time_budget, || {
            let mut evaluation = Evaluation::new(rules, case, settings)?;
            let ruling = evaluation.run_all()?;
            Ok((ruling, evaluation.trace.into_inner()))
        })
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|panic| {
        let reason = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("unknown");
        Err(EvalError::Rule {
            rule: "(engine)".to_owned(),
            file: String::new(),
            message: format!("the expression engine failed: {reason}"),
        })
    })
}

/// How to evaluate.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    /// Attach an [`Explanation`] to every finding.
    pub explain: bool,
}

/// Which rules were considered, and whether each fired.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// One entry per rule considered for a request or contract, in order.
    pub evaluations: Vec<RuleEvaluation>,
}

/// One rule considered for one request or contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleEvaluation {
    /// Index in [`RuleSet::rules`].
    pub rule: usize,
    /// It made a finding, or (a rule that only computes) its `when` held.
    pub fired: bool,
}

struct Evaluation<'a> {
    rules: &'a RuleSet,
    case: &'a Case,
    settings: Settings,
    contracts: Vec<Contract>,
    customer: Dynamic,
    trace: RefCell<Trace>,
    /// The `contracts` array rules read, built when first needed after each change.
    all: RefCell<Option<Dynamic>>,
}

/// What one subject's rules produced.
#[derive(Default)]
struct Judgement {
    values: Map,
    /// The rule that computed each value, to name it when the value is malformed.
    computed_by: BTreeMap<String, String>,
    findings: Vec<Finding>,
}

impl<'a> Evaluation<'a> {
    fn new(rules: &'a RuleSet, case: &'a Case, settings: Settings) -> Result<Self, EvalError> {
        if let Some(first) = undecided(rules, case.as_of) {
            return Err(EvalError::Case(case.source.error(
                "as_of",
                format!(
                    "{} precedes the rule set's first revision ({first})",
                    case.as_of
                ),
            )));
        }
        Ok(Evaluation {
            rules,
            case,
            settings,
            contracts: case.contracts.clone(),
            customer: customer_map(&case.customer),
            trace: RefCell::default(),
            all: RefCell::default(),
        })
    }

    fn run_all(&mut self) -> Result<Ruling, EvalError> {
        let mut requests = Vec::with_capacity(self.case.requests.len());
        for (index, request) in self.case.requests.iter().enumerate() {
            requests.push(self.request(index, request)?);
        }
        let as_of = self.case.as_of;
        let mut contracts = Vec::with_capacity(self.contracts.len());
        for contract in &self.contracts {
            let needs = |name: &str| self.rules.reads(Subject::Contract, name);
            let mut scope = self.scope(as_of, &needs, None, contract, None);
            let judgement = self.judge(Subject::Contract, as_of, &mut scope)?;
            contracts.push(ContractRuling {
                id: contract.id.clone(),
                values: self.output_values(&judgement)?,
                findings: judgement.findings,
            });
        }
        let revision = self.rules.revision_on(as_of).expect("checked in new");
        Ok(Ruling {
            ruleset: RuleSetStamp {
                name: self.rules.name.clone(),
                in_force: revision.date.to_string(),
                digest: self.rules.digest.clone(),
            },
            as_of: as_of.to_string(),
            contracts,
            requests,
        })
    }

    fn request(&mut self, index: usize, request: &Request) -> Result<RequestRuling, EvalError> {
        let kind = request.kind();
        let subject = Subject::of_request(kind).expect("every request type is a subject");
        let day = request.date();
        if let Some(first) = undecided(self.rules, day) {
            return Err(EvalError::Case(self.case.source.error(
                format!("requests[{index}]"),
                format!("dated {day}, before the rule set's first revision ({first}): no terms decide it"),
            )));
        }
        let (contract, option) = self.subject_of(index, request)?;
        let needs = |name: &str| self.rules.reads(subject, name);
        let mut scope = self.scope(day, &needs, Some(request), &contract, option.as_ref());
        let judgement = self.judge(subject, day, &mut scope)?;
        let rejected = judgement
            .findings
            .iter()
            .any(|f| f.outcome == Outcome::Reject);
        let values = self.output_values(&judgement)?;
        if !rejected {
            self.apply(request, contract, option, &judgement)?;
        }
        Ok(RequestRuling {
            index,
            kind: kind.to_owned(),
            decision: if rejected {
                Decision::Rejected
            } else {
                Decision::Accepted
            },
            values,
            findings: judgement.findings,
        })
    }

    /// The contract a request is about (as proposed, for a new one) and the option it names.
    fn subject_of(
        &self,
        index: usize,
        request: &Request,
    ) -> Result<(Contract, Option<ContractOption>), EvalError> {
        if let Request::NewContract { date, contract } = request {
            let mut proposed = contract.clone();
            proposed.formed = Some(*date);
            return Ok((proposed, None));
        }
        let id = request.contract_id();
        let Some(contract) = self.contracts.iter().find(|c| c.id == id) else {
            return Err(EvalError::Case(self.case.source.error(
                format!("requests[{index}].contract"),
                format!("contract `{id}` was never formed: its new_contract request was rejected"),
            )));
        };
        let option = match request {
            Request::AddOption {
                date,
                option,
                billing_start,
                fees,
                ..
            } => Some(ContractOption {
                kind: option.clone(),
                // A new option starts billing on the request date unless it says otherwise.
                billing_start: Some(billing_start.unwrap_or(*date)),
                ended: None,
                fees: fees.clone(),
            }),
            Request::StopOption { option, .. } => {
                let listed = contract.options.iter().rev().find(|o| &o.kind == option);
                match listed {
                    Some(listed) => Some(listed.clone()),
                    None => match self.held_option(contract, option, request.date())? {
                        Some(held) => Some(held),
                        None => {
                            return Err(EvalError::Case(self.case.source.error(
                                format!("requests[{index}].option"),
                                format!("contract `{id}` has no `{option}` option"),
                            )));
                        }
                    },
                }
            }
            _ => None,
        };
        Ok((contract.clone(), option))
    }

    /// An option the rules say the contract holds on `day` though the case does not list
    /// it ([`crate::ruleset::HELD_OPTIONS`]).
    fn held_option(
        &self,
        contract: &Contract,
        kind: &str,
        day: NaiveDate,
    ) -> Result<Option<ContractOption>, EvalError> {
        let Some(ast) = &self.rules.held_options else {
            return Ok(None);
        };
        let fail = |message: String| EvalError::Rule {
            rule: crate::ruleset::HELD_OPTIONS.to_owned(),
            file: "definitions".to_owned(),
            message,
        };
        // Only `contract` and `date` are read: `options_held(contract, date)`.
        let needs = |name: &str| name == "contract";
        let mut scope = self.scope(day, &needs, None, contract, None);
        let held = engine::run(&self.rules.engine, &mut scope, ast).map_err(fail)?;
        let held = held
            .try_cast::<Array>()
            .ok_or_else(|| fail("must give an array of options".to_owned()))?;
        for option in held {
            let Some(map) = option.try_cast::<Map>() else {
                return Err(fail("must give options as maps".to_owned()));
            };
            if map.get("kind").is_some_and(|k| k.to_string() == kind) {
                let date = |field: &str| map.get(field).and_then(|d| d.clone().try_cast::<Date>());
                return Ok(Some(ContractOption {
                    kind: kind.to_owned(),
                    billing_start: date("billing_start"),
                    ended: date("ended"),
                    fees: None,
                }));
            }
        }
        Ok(None)
    }

    /// Changes the state as an accepted request does (SPEC §1). `proposed` and `named` are
    /// the contract and option [`Self::subject_of`] found or built for the request.
    fn apply(
        &mut self,
        request: &Request,
        proposed: Contract,
        named: Option<ContractOption>,
        judgement: &Judgement,
    ) -> Result<(), EvalError> {
        // The `contracts` array rules read is rebuilt from the new state when next needed.
        self.all.replace(None);
        if let Request::NewContract { .. } = request {
            self.contracts.push(proposed);
            return Ok(());
        }
        let effective = || -> Result<NaiveDate, EvalError> {
            judgement
                .values
                .get(EFFECTIVE_DATE)
                .and_then(|v| v.clone().try_cast::<Date>())
                .ok_or_else(|| EvalError::Rule {
                    rule: "(none)".to_owned(),
                    file: String::new(),
                    message: format!("no rule computed the date `{EFFECTIVE_DATE}` that a {} request takes effect on", request.kind()),
                })
        };
        let id = request.contract_id().to_owned();
        let contract = self
            .contracts
            .iter_mut()
            .find(|c| c.id == id)
            .expect("subject_of found it");
        match request {
            Request::ChangeAccounts { accounts, .. } => contract.accounts = *accounts,
            Request::AddOption { .. } => contract.options.extend(named),
            Request::Terminate { .. } => contract.ended = Some(effective()?),
            Request::StopOption { option, .. } => {
                let end = effective()?;
                let listed = contract
                    .options
                    .iter_mut()
                    .rev()
                    .find(|o| &o.kind == option);
                match (listed, named) {
                    (Some(listed), _) => listed.ended = Some(end),
                    // A held but unlisted option is listed from now on, with its end.
                    (None, Some(mut held)) => {
                        held.ended = Some(end);
                        contract.options.push(held);
                    }
                    (None, None) => {}
                }
            }
            Request::OutageCredit { .. } | Request::NewContract { .. } => {}
        }
        Ok(())
    }

    /// The `contracts` array of the current state, shared so that each scope holds a
    /// reference to it rather than a copy.
    fn contracts_array(&self) -> Dynamic {
        self.all
            .borrow_mut()
            .get_or_insert_with(|| {
                let maps: Array = self.contracts.iter().map(contract_map).collect();
                Dynamic::from(maps).into_shared()
            })
            .clone()
    }

    /// The variables rules see for `contract` (and the request and option, if any). Only
    /// those some rule reads (`needs`) are built; the rest are `()`. The contract map is
    /// shared: functions it is passed to take a reference.
    fn scope(
        &self,
        day: NaiveDate,
        needs: &dyn Fn(&str) -> bool,
        request: Option<&Request>,
        contract: &Contract,
        option: Option<&ContractOption>,
    ) -> Scope<'static> {
        let built = |name: &str, build: &dyn Fn() -> Dynamic| {
            if needs(name) { build() } else { Dynamic::UNIT }
        };
        let mut scope = Scope::new();
        scope.push_constant("date", day);
        scope.push_constant("as_of", self.case.as_of);
        scope.push_constant_dynamic("params", self.rules.params.clone());
        scope.push_constant_dynamic("customer", built("customer", &|| self.customer.clone()));
        scope.push_constant_dynamic("contracts", built("contracts", &|| self.contracts_array()));
        let request = request.map_or(Dynamic::UNIT, |r| built("request", &|| request_map(r, day)));
        scope.push_constant_dynamic("request", request);
        scope.push_constant_dynamic(
            "contract",
            built("contract", &|| contract_map(contract).into_shared()),
        );
        let option = option.map_or(Dynamic::UNIT, |o| {
            built("option", &|| option_map(o, contract))
        });
        scope.push_constant_dynamic("option", option);
        scope.push_constant_dynamic("values", Dynamic::UNIT);
        scope
    }

    /// Runs the rules judging `subject` on `day`, in order.
    fn judge(
        &self,
        subject: Subject,
        day: NaiveDate,
        scope: &mut Scope,
    ) -> Result<Judgement, EvalError> {
        let mut judgement = Judgement::default();
        // One shared map, filled in place as rules compute values.
        let mut values = Dynamic::from(Map::new()).into_shared();
        let values_slot = scope.len() - 1;
        scope.rewind(values_slot);
        scope.push_constant_dynamic("values", values.clone());
        for (index, rule) in self.rules.rules_for(subject, day) {
            let fail = |message: String| EvalError::Rule {
                rule: rule.id.clone(),
                file: self.rules.part_of(rule).file.clone(),
                message,
            };
            let test = |field: &str, scope: &mut Scope, e: &crate::ruleset::Expression| {
                let value = engine::run(&self.rules.engine, scope, &e.ast)
                    .map_err(|m| fail(format!("{field}: {m}")))?;
                value
                    .as_bool()
                    .map_err(|t| fail(format!("{field} must be true or false, not {t}")))
            };
            let record = |fired: bool| {
                let evaluation = RuleEvaluation { rule: index, fired };
                self.trace.borrow_mut().evaluations.push(evaluation);
            };
            if let Some(when) = &rule.when
                && !test("when", scope, when)?
            {
                record(false);
                continue;
            }
            for (name, expression) in &rule.values {
                let value = engine::run(&self.rules.engine, scope, &expression.ast)
                    .map_err(|m| fail(format!("values.{name}: {m}")))?;
                if let Some(mut shared) = values.write_lock::<Map>() {
                    shared.insert(name.into(), value.clone());
                }
                judgement.values.insert(name.into(), value);
                judgement.computed_by.insert(name.clone(), rule.id.clone());
            }
            let holds = match &rule.require {
                Some(require) => test("require", scope, require)?,
                None => false,
            };
            match (rule.outcome, &rule.message, holds) {
                (Some(outcome), Some(message), false) => {
                    let mut finding = self.finding(rule, outcome, message, &judgement.values);
                    if self.settings.explain {
                        finding.explain = Some(self.explain(rule, scope));
                    }
                    judgement.findings.push(finding);
                    record(true);
                }
                (Some(_), _, _) => record(false),
                // A rule that only computes has fired once its `when` held.
                (None, _, _) => record(true),
            }
        }
        Ok(judgement)
    }

    fn finding(&self, rule: &Rule, outcome: Outcome, message: &Message, values: &Map) -> Finding {
        let fill = |text: &str| {
            let mut text = text.to_owned();
            for (name, value) in values {
                let kind = self
                    .rules
                    .value_types
                    .get(name.as_str())
                    .copied()
                    .unwrap_or(ValueType::Text);
                let shown = match write_value(kind, value) {
                    Ok(Value::Text(plain)) => plain,
                    Ok(other) => other.to_string(),
                    Err(_) => value.to_string(),
                };
                text = text.replace(&format!("{{{name}}}"), &shown);
            }
            text
        };
        Finding {
            rule: rule.id.clone(),
            reference: rule.reference.clone(),
            cite: rule.cite.clone(),
            outcome,
            message: Message {
                ja: fill(&message.ja),
                en: fill(&message.en),
            },
            reconstructed: rule.reconstructed,
            explain: None,
        }
    }

    /// The rule's expressions and the values they read, re-read in `scope`.
    fn explain(&self, rule: &Rule, scope: &mut Scope) -> Explanation {
        let expressions = rule
            .when
            .iter()
            .chain(rule.values.iter().map(|(_, e)| e))
            .chain(&rule.require);
        let mut read = BTreeMap::new();
        for path in expressions.flat_map(|e| &e.paths_read) {
            let value = self
                .rules
                .engine
                .compile_expression_with_scope(scope, path)
                .map_err(|e| e.to_string())
                .and_then(|ast| engine::run(&self.rules.engine, scope, &ast));
            let shown = match value {
                Ok(value) => engine::to_value(&value),
                Err(message) => Value::Text(format!("(unreadable: {message})")),
            };
            read.insert(path.clone(), shown);
        }
        let source = |e: &crate::ruleset::Expression| e.source.trim().to_owned();
        Explanation {
            file: self.rules.part_of(rule).file.clone(),
            when: rule.when.as_ref().map(source),
            values: rule
                .values
                .iter()
                .map(|(name, e)| (name.clone(), source(e)))
                .collect(),
            require: rule.require.as_ref().map(source),
            require_result: rule.require.as_ref().map(|_| false),
            read,
        }
    }

    /// The computed values as the ruling writes them, checked against their declared types.
    fn output_values(&self, judgement: &Judgement) -> Result<BTreeMap<String, Value>, EvalError> {
        let mut out = BTreeMap::new();
        for (name, value) in &judgement.values {
            let name = name.to_string();
            let kind = self
                .rules
                .value_types
                .get(&name)
                .copied()
                .unwrap_or(ValueType::Text);
            let written = write_value(kind, value).map_err(|message| {
                let rule = judgement
                    .computed_by
                    .get(&name)
                    .cloned()
                    .unwrap_or_default();
                let file = self
                    .rules
                    .rules
                    .iter()
                    .find(|r| r.id == rule)
                    .map(|r| self.rules.part_of(r).file.clone())
                    .unwrap_or_default();
                EvalError::Rule {
                    rule,
                    file,
                    message: format!("values.{name}: {message}"),
                }
            })?;
            out.insert(name, written);
        }
        Ok(out)
    }
}

/// The first revision's day, when none is in force on `day`: no terms decide that day.
fn undecided(rules: &RuleSet, day: NaiveDate) -> Option<String> {
    rules.revision_on(day).is_none().then(|| {
        rules
            .revisions
            .first()
            .map_or(String::new(), |r| r.date.to_string())
    })
}

/// Writes a computed value in its declared type's form (SPEC §2).
fn write_value(kind: ValueType, value: &Dynamic) -> Result<Value, String> {
    let wrong = || format!("expected {kind:?}, got {} `{value}`", value.type_name());
    let decimal = || {
        value
            .as_decimal()
            .ok()
            .or_else(|| value.as_int().ok().map(Decimal::from))
    };
    Ok(match kind {
        ValueType::Date => Value::Text(
            value
                .clone()
                .try_cast::<Date>()
                .ok_or_else(wrong)?
                .to_string(),
        ),
        ValueType::Yen => {
            let amount = decimal().ok_or_else(wrong)?;
            if !amount.fract().is_zero() {
                return Err(format!(
                    "{amount} is not whole yen: round it in the rule (floor_yen)"
                ));
            }
            Value::Text(amount.trunc().normalize().to_string())
        }
        ValueType::Integer => Value::Integer(value.as_int().map_err(|_| wrong())?),
        ValueType::Decimal => Value::Text(decimal().ok_or_else(wrong)?.normalize().to_string()),
        ValueType::Bool => Value::Bool(value.as_bool().map_err(|_| wrong())?),
        ValueType::Text => {
            if value.is_unit() {
                Value::Null
            } else {
                Value::Text(value.to_string())
            }
        }
    })
}

fn unit_or<T: Clone + Send + Sync + 'static>(value: Option<T>) -> Dynamic {
    value.map_or(Dynamic::UNIT, Dynamic::from)
}

fn fees_map(fees: &Fees) -> Dynamic {
    let mut map = Map::new();
    map.insert(
        "basic_monthly".into(),
        Dynamic::from_decimal(fees.basic_monthly),
    );
    map.insert(
        "per_account_monthly".into(),
        Dynamic::from_decimal(fees.per_account_monthly),
    );
    Dynamic::from(map)
}

fn option_map(option: &ContractOption, contract: &Contract) -> Dynamic {
    let mut map = Map::new();
    map.insert("kind".into(), option.kind.clone().into());
    map.insert(
        "billing_start".into(),
        Dynamic::from(option.billing_start.unwrap_or(contract.billing_start)),
    );
    map.insert("ended".into(), unit_or(option.ended));
    // Absent fees stay `()`: rules can tell "none shown" from "shown as zero".
    map.insert(
        "fees".into(),
        option.fees.as_ref().map_or(Dynamic::UNIT, fees_map),
    );
    Dynamic::from(map)
}

fn contract_map(contract: &Contract) -> Dynamic {
    let mut map = Map::new();
    map.insert("id".into(), contract.id.clone().into());
    map.insert("kind".into(), contract.kind.clone().into());
    map.insert("item".into(), unit_or(contract.item.clone()));
    map.insert("accounts".into(), Dynamic::from_decimal(contract.accounts));
    map.insert("formed".into(), unit_or(contract.formed));
    map.insert(
        "billing_start".into(),
        Dynamic::from(contract.billing_start),
    );
    map.insert("ended".into(), unit_or(contract.ended));
    map.insert("fees".into(), fees_map(&contract.fees));
    map.insert(
        "sandbox_continuation_declared".into(),
        unit_or(contract.sandbox_continuation_declared),
    );
    let options: Array = contract
        .options
        .iter()
        .map(|o| option_map(o, contract))
        .collect();
    map.insert("options".into(), Dynamic::from(options));
    // Plain: it also goes inside `contracts`, and Rhai allows shared values only at the
    // top of a scope (its size checks panic on nested ones).
    Dynamic::from(map)
}

fn customer_map(customer: &Customer) -> Dynamic {
    let mut environment = Map::new();
    let (policy_decided, network, settings_disclosed) = match &customer.environment {
        Some(env) => (
            env.policy_decided,
            env.network.as_str(),
            env.settings_disclosed,
        ),
        // SPEC §1: an absent environment means the art. 7 conditions are met.
        None => (true, crate::case::Network::Iij.as_str(), false),
    };
    environment.insert("policy_decided".into(), policy_decided.into());
    environment.insert("network".into(), network.into());
    environment.insert("settings_disclosed".into(), settings_disclosed.into());
    let mut map = Map::new();
    map.insert("id".into(), unit_or(customer.id.clone()));
    map.insert("environment".into(), Dynamic::from(environment));
    Dynamic::from(map).into_shared()
}

fn request_map(request: &Request, day: NaiveDate) -> Dynamic {
    let mut map = Map::new();
    map.insert("type".into(), request.kind().into());
    map.insert("date".into(), Dynamic::from(day));
    let mut put = |key: &str, value: Dynamic| {
        map.insert(key.into(), value);
    };
    match request {
        Request::NewContract { contract, date } => {
            let mut proposed = contract.clone();
            proposed.formed = Some(*date);
            put("contract", contract_map(&proposed));
        }
        Request::ChangeAccounts {
            contract, accounts, ..
        } => {
            put("contract", contract.clone().into());
            put("accounts", Dynamic::from_decimal(*accounts));
        }
        Request::AddOption {
            contract,
            option,
            billing_start,
            fees,
            date,
        } => {
            put("contract", contract.clone().into());
            put("option", option.clone().into());
            put(
                "billing_start",
                Dynamic::from(billing_start.unwrap_or(*date)),
            );
            put("fees", fees.as_ref().map_or(Dynamic::UNIT, fees_map));
        }
        Request::Terminate {
            contract,
            notice_arrived,
            requested_end,
            general_terms_28,
        } => {
            put("contract", contract.clone().into());
            put("notice_arrived", Dynamic::from(*notice_arrived));
            put("requested_end", unit_or(*requested_end));
            put("general_terms_28", (*general_terms_28).into());
        }
        Request::StopOption {
            contract,
            option,
            notice_arrived,
            requested_end,
        } => {
            put("contract", contract.clone().into());
            put("option", option.clone().into());
            put("notice_arrived", Dynamic::from(*notice_arrived));
            put("requested_end", unit_or(*requested_end));
        }
        Request::OutageCredit {
            contract,
            attributable_to_provider,
            total,
            known_at,
            restored_at,
            claimed_on,
        } => {
            put("contract", contract.clone().into());
            put(
                "attributable_to_provider",
                (*attributable_to_provider).into(),
            );
            put("total", (*total).into());
            put("known_at", Dynamic::from(*known_at));
            put("restored_at", Dynamic::from(*restored_at));
            put("claimed_on", Dynamic::from(*claimed_on));
        }
    }
    Dynamic::from(map)
}
