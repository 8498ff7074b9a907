//! Evaluation: a case's requests, in order, against the rule versions in force on each
//! request's date, then every contract on `as_of`.
//!
//! The machine is generic. What an accepted request *does* is its type's effects in the
//! rule set's model (`crate::model::Effect`): form the proposed contract, set a timeline
//! field from a day, end the contract, add or end a record inside it — each a dated fact
//! added to the state, never a rewrite of it, and an end never postponed. Everything the
//! terms decide — whether it is accepted, which dates and amounts follow — comes from the
//! rules.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::case::{Case, Request};
use crate::error::EvalError;
use crate::expr::Record;
use crate::expr::Value as Fact;
use crate::expr::run::{self, Frame, Host, RunError};
use crate::model::{CONTRACT, CONTRACT_FIELD, Effect, RequestDef, Source};
use crate::ruleset::{Expression, Rule, RuleSet, ValueType, slot};
use crate::ruling::{
    Consideration, ContractRuling, Decision, Explanation, FactUse, Finding, Message, Outcome,
    RequestRuling, RuleSetStamp, Ruling, SettledFact, Value,
};

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
    let mut evaluation = Evaluation::new(rules, case, settings)?;
    let ruling = evaluation.run_all()?;
    Ok((ruling, evaluation.trace.into_inner()))
}

/// How to evaluate.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    /// Attach an [`Explanation`] to every finding.
    pub explain: bool,
    /// Also list the rules considered that made no finding, and why.
    pub explain_all: bool,
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

/// A fact's arguments as a memo key: records and lists by identity (the memo keeps them
/// alive, so an identity is never reused while its entry exists).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Null,
    Bool(bool),
    Int(i64),
    Decimal(Decimal),
    Text(Arc<str>),
    Date(NaiveDate),
    Stamp(i64, i32),
    Ptr(usize),
}

fn key(value: &Fact) -> Key {
    match value {
        Fact::Null => Key::Null,
        Fact::Bool(b) => Key::Bool(*b),
        Fact::Int(n) => Key::Int(*n),
        Fact::Decimal(d) => Key::Decimal(d.normalize()),
        Fact::Text(t) => Key::Text(t.clone()),
        Fact::Date(d) => Key::Date(*d),
        Fact::Timestamp(t) => Key::Stamp(t.timestamp(), t.offset().local_minus_utc()),
        Fact::List(items) => Key::Ptr(Arc::as_ptr(items) as *const u8 as usize),
        Fact::Map(map) => Key::Ptr(Arc::as_ptr(map) as *const u8 as usize),
        Fact::Record(record) => Key::Ptr(Arc::as_ptr(record) as *const u8 as usize),
        Fact::Timeline(entries) => Key::Ptr(Arc::as_ptr(entries) as *const u8 as usize),
    }
}

type Memo = rustc_hash::FxHashMap<(usize, smallvec::SmallVec<[Key; 4]>), (Vec<Fact>, Fact)>;

struct Evaluation<'a> {
    rules: &'a RuleSet,
    case: &'a Case,
    settings: Settings,
    /// Every contract the case names: listed, then those requests propose, in request
    /// order. A proposal is formed when its request is accepted.
    contracts: Vec<Arc<Record>>,
    /// Each contract's place in `contracts`, by its key (unique: the reader checks).
    by_key: rustc_hash::FxHashMap<Arc<str>, usize>,
    customer: Fact,
    /// The `contracts` list rules read: those formed, built on first read and then kept
    /// up to date in place — an accepted request changes one contract, so replacing one
    /// item keeps a case's cost linear in its contracts plus its requests.
    formed: RefCell<Option<Fact>>,
    /// Each contract's place in `formed`, once it is formed and the list is built.
    formed_at: RefCell<Vec<Option<usize>>>,
    /// Facts computed for the current state, by version and arguments.
    memo: RefCell<Memo>,
    /// While a rule is explained: every fact it uses, computed afresh so that the facts
    /// they use in turn are seen too.
    uses: RefCell<Option<Vec<FactUse>>>,
    /// Explaining: per contract, the facts accepted requests put on it, in case order.
    settled_facts: Vec<Vec<SettledFact>>,
    /// The contract being judged on the settled timeline, to explain its facts.
    settling: RefCell<Option<usize>>,
    trace: RefCell<Trace>,
}

/// Which of a subject's rules a pass runs: those deciding in case order, or those judged
/// on the settled timeline once every request is decided (all, for a request type the
/// model decides there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Decide,
    Settle,
    All,
}

impl Pass {
    fn runs(self, rule: &Rule) -> bool {
        match self {
            Pass::Decide => !rule.settled,
            Pass::Settle => rule.settled,
            Pass::All => true,
        }
    }
}

/// A request as decided in case order, waiting for the case to be settled.
struct Decided {
    index: usize,
    /// Its request record (a proposal's contract as if formed).
    record: Arc<Record>,
    slot: usize,
    /// The record inside the contract it is about, as judged, and its place in the
    /// contract's list once held there (to find it on the settled timeline).
    child: Option<Arc<Record>>,
    child_place: Option<usize>,
    judgement: Judgement,
    rejected: bool,
}

/// What one subject's rules produced.
#[derive(Default)]
struct Judgement {
    values: Vec<Option<Fact>>,
    /// The rule that computed each value, to name it when the value is malformed.
    computed_by: Vec<Option<usize>>,
    /// Each finding with the rule that made it, so two passes list them in rule order.
    findings: Vec<(usize, Finding)>,
    considered: Vec<(usize, Consideration)>,
}

impl Judgement {
    /// Adds what a later pass found: its values replace those computed before, and
    /// findings stay in the rules' order.
    fn join(&mut self, later: Judgement) {
        for (slot, value) in later.values.into_iter().enumerate() {
            if value.is_some() {
                self.values[slot] = value;
                self.computed_by[slot] = later.computed_by[slot];
            }
        }
        self.findings.extend(later.findings);
        self.findings.sort_by_key(|(rule, _)| *rule);
        self.considered.extend(later.considered);
        self.considered.sort_by_key(|(rule, _)| *rule);
    }

    fn rejects(&self) -> bool {
        self.findings
            .iter()
            .any(|(_, f)| f.outcome == Outcome::Reject)
    }

    fn findings(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.findings)
            .into_iter()
            .map(|(_, f)| f)
            .collect()
    }

    fn considered(&mut self) -> Vec<Consideration> {
        std::mem::take(&mut self.considered)
            .into_iter()
            .map(|(_, c)| c)
            .collect()
    }
}

/// What rules judging one subject read: the context variables, and the values computed
/// so far.
struct Scene<'e, 'a> {
    evaluation: &'e Evaluation<'a>,
    day: NaiveDate,
    vars: [Fact; slot::COUNT],
    values: RefCell<Vec<Option<Fact>>>,
}

impl Host for Scene<'_, '_> {
    fn var(&self, slot: usize) -> &Fact {
        &self.vars[slot]
    }

    fn value(&self, slot: usize) -> Option<Fact> {
        self.values.borrow().get(slot).cloned().flatten()
    }

    fn fact(&self, index: usize, args: Vec<Fact>) -> Result<Fact, RunError> {
        self.evaluation.fact(index, args, self.day)
    }

    fn day(&self) -> NaiveDate {
        self.day
    }
}

/// A fact's body reads only its arguments and other facts.
struct FactScene<'e, 'a> {
    evaluation: &'e Evaluation<'a>,
    day: NaiveDate,
}

impl Host for FactScene<'_, '_> {
    fn var(&self, _: usize) -> &Fact {
        &crate::expr::NULL
    }

    fn value(&self, _: usize) -> Option<Fact> {
        None
    }

    fn fact(&self, index: usize, args: Vec<Fact>) -> Result<Fact, RunError> {
        self.evaluation.fact(index, args, self.day)
    }

    fn day(&self) -> NaiveDate {
        self.day
    }
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
        let mut contracts = case.contracts.clone();
        contracts.extend(case.requests.iter().filter_map(|r| r.proposal().cloned()));
        let by_key = contracts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                // The key's own shared text: no copy per contract and evaluation.
                let key = match c.shape.key.map(|k| c.at(k)) {
                    Some(Fact::Text(text)) => text.clone(),
                    _ => Arc::from(c.key()),
                };
                (key, i)
            })
            .collect();
        Ok(Evaluation {
            rules,
            case,
            settings,
            contracts,
            by_key,
            customer: Fact::Record(case.customer.clone()),
            formed: RefCell::default(),
            formed_at: RefCell::default(),
            memo: RefCell::default(),
            uses: RefCell::default(),
            settled_facts: vec![Vec::new(); case.contracts.len() + case.requests.len()],
            settling: RefCell::default(),
            trace: RefCell::default(),
        })
    }

    /// Decides every request in case order, each seeing the facts of those accepted
    /// before it; then settles the case: the amounts (rules marked `settled`) and the
    /// requests the model decides on the settled timeline are judged, in case order,
    /// against every accepted request's facts; then every contract on `as_of`.
    fn run_all(&mut self) -> Result<Ruling, EvalError> {
        let mut decided = Vec::with_capacity(self.case.requests.len());
        for (index, request) in self.case.requests.iter().enumerate() {
            decided.push(self.decide(index, request)?);
        }
        let mut requests = Vec::with_capacity(decided.len());
        for (request, decided) in self.case.requests.iter().zip(decided) {
            requests.push(self.settle(request, decided)?);
        }
        let as_of = self.case.as_of;
        let mut contracts = Vec::new();
        for contract in self.contracts.iter().filter(|c| formed(c)) {
            let mut vars = self.vars(as_of);
            vars[slot::CONTRACT] = Fact::Record(contract.clone());
            let mut judgement = self.judge(CONTRACT, as_of, vars, Pass::All, None)?;
            contracts.push(ContractRuling {
                id: contract.key().to_owned(),
                values: self.output_values(&judgement)?,
                findings: judgement.findings(),
                considered: judgement.considered(),
            });
        }
        let revision = self.rules.revision_on(as_of).ok_or_else(|| {
            EvalError::Case(self.case.source.error("as_of", "no revision in force"))
        })?;
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

    /// The context every subject shares on `day`.
    fn vars(&self, day: NaiveDate) -> [Fact; slot::COUNT] {
        let mut vars: [Fact; slot::COUNT] = Default::default();
        vars[slot::DATE] = Fact::Date(day);
        vars[slot::AS_OF] = Fact::Date(self.case.as_of);
        vars[slot::CUSTOMER] = self.customer.clone();
        vars[slot::CONTRACTS] = self
            .formed
            .borrow_mut()
            .get_or_insert_with(|| {
                let mut at = self.formed_at.borrow_mut();
                at.clear();
                let mut items = Vec::with_capacity(self.contracts.len());
                for contract in &self.contracts {
                    at.push(formed(contract).then_some(items.len()));
                    if formed(contract) {
                        items.push(Fact::Record(contract.clone()));
                    }
                }
                Fact::list(items)
            })
            .clone();
        vars
    }

    /// The slot of the contract `id` names: ids are unique across the contracts listed and
    /// proposed (the case reader checks), so a proposal is found by its own id too.
    fn slot_of(&self, index: usize, id: &str) -> Result<usize, EvalError> {
        self.by_key.get(id).copied().ok_or_else(|| {
            EvalError::Case(self.case.source.error(
                format!("requests[{index}].contract"),
                format!("the case names no contract `{id}`"),
            ))
        })
    }

    /// Decides a request in case order (a request type decided on the settled timeline
    /// waits for it): its rules but the settled ones, and its effects once accepted.
    fn decide(&mut self, index: usize, request: &Request) -> Result<Decided, EvalError> {
        let def = &self.rules.model.requests[request.kind];
        let day = request.date();
        if let Some(first) = undecided(self.rules, day) {
            return Err(EvalError::Case(self.case.source.error(
                format!("requests[{index}]"),
                format!("dated {day}, before the rule set's first revision ({first}): no terms decide it"),
            )));
        }
        let slot_index = self.slot_of(index, request.contract_id())?;
        let mut record = request.record.clone();
        let contract = match request.proposal() {
            // Judged as the contract it would be: formed on the request's date.
            Some(_) => {
                let formed = Arc::new(started_on(&self.contracts[slot_index], day));
                Arc::make_mut(&mut record).values[CONTRACT_FIELD] = Fact::Record(formed.clone());
                formed
            }
            None => self.contracts[slot_index].clone(),
        };
        let mut decided = Decided {
            index,
            record,
            slot: slot_index,
            child: None,
            child_place: None,
            judgement: Judgement::default(),
            rejected: false,
        };
        if def.settled {
            return Ok(decided);
        }
        let child = self.child_of(def, &decided.record, &contract, day)?;
        let vars = self.request_vars(&decided, contract, child.as_ref(), day);
        let judgement = self.judge(&def.name, day, vars, Pass::Decide, None)?;
        decided.rejected = judgement.rejects();
        decided.child_place = child.as_ref().and_then(|c| c.place);
        if !decided.rejected {
            let added = self.apply(
                index,
                def,
                &decided.record,
                slot_index,
                child.as_deref(),
                &judgement,
            )?;
            decided.child_place = decided.child_place.or(added);
        }
        decided.child = child;
        decided.judgement = judgement;
        Ok(decided)
    }

    /// The context of a request's rules.
    fn request_vars(
        &self,
        decided: &Decided,
        contract: Arc<Record>,
        child: Option<&Arc<Record>>,
        day: NaiveDate,
    ) -> [Fact; slot::COUNT] {
        let mut vars = self.vars(day);
        vars[slot::REQUEST] = Fact::Record(decided.record.clone());
        vars[slot::CONTRACT] = Fact::Record(contract);
        vars[slot::REQUEST_INDEX] = Fact::Int(decided.index as i64);
        if let Some(child) = child {
            vars[slot::CHILD] = Fact::Record(child.clone());
        }
        vars
    }

    /// Judges a decided request's settled rules on the settled timeline — or, for a type
    /// decided there, the whole request, in case order — and writes its ruling.
    fn settle(
        &mut self,
        request: &Request,
        mut decided: Decided,
    ) -> Result<RequestRuling, EvalError> {
        let def = &self.rules.model.requests[request.kind];
        let day = request.date();
        let slot_index = decided.slot;
        let settled = &self.contracts[slot_index];
        let contract = if request.proposal().is_some() && !formed(settled) {
            // A proposal never formed is judged as it was: as if formed on its day.
            match decided.record.at(CONTRACT_FIELD) {
                Fact::Record(proposed) => proposed.clone(),
                _ => settled.clone(),
            }
        } else {
            settled.clone()
        };
        let pass = if def.settled { Pass::All } else { Pass::Settle };
        let has_rules = self
            .rules
            .rules_for(&def.name, day)
            .any(|(_, rule)| pass.runs(rule));
        // A type decided here is decided (and takes effect) even with no rule.
        if has_rules || def.settled {
            let child = match (def.settled, decided.child_place, &def.child) {
                (true, ..) => self.child_of(def, &decided.record, &contract, day)?,
                // The record it is about as the settled timeline holds it.
                (false, Some(place), Some(list)) => contract
                    .at(list.list)
                    .as_list()
                    .and_then(|items| items.get(place))
                    .and_then(Fact::as_record)
                    .cloned()
                    .or(decided.child.clone()),
                _ => decided.child.clone(),
            };
            let vars = self.request_vars(&decided, contract, child.as_ref(), day);
            let before = (!def.settled).then(|| decided.judgement.values.clone());
            self.settling.replace(Some(slot_index));
            let later = self.judge(&def.name, day, vars, pass, before);
            self.settling.replace(None);
            let later = later?;
            if def.settled {
                decided.rejected = later.rejects();
                decided.judgement = later;
                if !decided.rejected {
                    self.apply(
                        decided.index,
                        def,
                        &decided.record,
                        slot_index,
                        child.as_deref(),
                        &decided.judgement,
                    )?;
                }
            } else {
                decided.judgement.join(later);
            }
        }
        let mut judgement = decided.judgement;
        if decided.rejected {
            // A rejected request owes and earns nothing (the values declare what it shows).
            for (slot, def) in self.rules.values.iter().enumerate() {
                if let (Some(amount), Some(Some(value))) =
                    (def.rejected, judgement.values.get_mut(slot))
                {
                    *value = Fact::Decimal(Decimal::from(amount));
                }
            }
        }
        Ok(RequestRuling {
            index: decided.index,
            kind: def.name.to_string(),
            decision: if decided.rejected {
                Decision::Rejected
            } else {
                Decision::Accepted
            },
            values: self.output_values(&judgement)?,
            findings: judgement.findings(),
            considered: judgement.considered(),
        })
    }

    /// The record inside the contract a request is about: the one it proposes, or the
    /// last matching one the contract holds on the request's day (none if it holds none).
    fn child_of(
        &self,
        def: &RequestDef,
        request: &Record,
        contract: &Arc<Record>,
        day: NaiveDate,
    ) -> Result<Option<Arc<Record>>, EvalError> {
        let Some(child) = &def.child else {
            return Ok(None);
        };
        let record = &self.rules.model.records[child.record];
        let read = |source: &Source| match source {
            Source::Request(i) => request.at(*i).clone(),
            Source::Value(_) => Fact::Null,
        };
        if let Some(fields) = &child.new {
            let mut values = vec![Fact::Null; record.fields.len()];
            for (field, source) in fields {
                values[*field] = read(source);
            }
            return Ok(Some(Arc::new(Record {
                shape: record.shape.clone(),
                values,
                place: None,
            })));
        }
        let Some(select) = &child.select else {
            return Ok(None);
        };
        let held: Vec<Fact> = match select.from.as_ref().and_then(|(_, index)| *index) {
            Some(fact) => {
                let args = vec![Fact::Record(contract.clone()), Fact::Date(day)];
                let held = self.fact(fact, args, day).map_err(|error| {
                    // The fact's own message names it and its line and column.
                    let version = self.rules.facts.iter().find(|f| f.index == fact);
                    EvalError::Rule {
                        rule: version.map_or_else(String::new, |f| f.name.clone()),
                        file: version
                            .map_or_else(String::new, |f| self.rules.parts[f.part].file.clone()),
                        position: None,
                        message: error.message,
                    }
                })?;
                held.as_list().unwrap_or_default().to_vec()
            }
            None => contract
                .at(child.list)
                .as_list()
                .unwrap_or_default()
                .iter()
                .filter(|o| o.as_record().is_some_and(|o| o.held_on(day)))
                .cloned()
                .collect(),
        };
        Ok(held.iter().rev().find_map(|candidate| {
            let record = candidate.as_record()?;
            let matches = select
                .matching
                .iter()
                .all(|(field, source)| record.at(*field).same(&read(source)));
            matches.then(|| record.clone())
        }))
    }

    /// Adds the facts an accepted request establishes: its model's effects, in order.
    /// Returns the place of the child it added, if it added one.
    fn apply(
        &mut self,
        index: usize,
        def: &RequestDef,
        request: &Record,
        slot_index: usize,
        child: Option<&Record>,
        judgement: &Judgement,
    ) -> Result<Option<usize>, EvalError> {
        let read =
            |source: &Source| -> Result<Fact, EvalError> {
                match source {
                    Source::Request(i) => Ok(request.at(*i).clone()),
                    Source::Value(slot) => judgement.values[*slot].clone().ok_or_else(|| {
                        EvalError::Rule {
                            rule: format!("(model.requests.{})", def.name),
                            file: String::new(),
                            position: None,
                            message: format!(
                                "no rule computed values.{}, which an accepted {} request needs",
                                self.rules.values[*slot].name, def.name
                            ),
                        }
                    }),
                }
            };
        let day = |source: &Source| -> Result<NaiveDate, EvalError> {
            read(source)?.as_date().ok_or_else(|| EvalError::Rule {
                rule: format!("(model.requests.{})", def.name),
                file: String::new(),
                position: None,
                message: "an effect's day is not a date".to_owned(),
            })
        };
        let explaining = self.settings.explain || self.settings.explain_all;
        let mut log = Vec::new();
        let mut added_at = None;
        let contract = Arc::make_mut(&mut self.contracts[slot_index]);
        let life = contract.shape.life;
        for effect in &def.effects {
            match effect {
                Effect::Form(on) => {
                    if let Some(life) = life {
                        let on = day(on)?;
                        contract.values[life.start] = Fact::Date(on);
                        if let Some(by) = life.started_by {
                            contract.values[by] = Fact::Int(index as i64);
                        }
                        if explaining {
                            log.push(format!("formed on {on}"));
                        }
                    }
                }
                Effect::Set { field, from, to } => {
                    let (from, to) = (day(from)?, read(to)?);
                    if explaining {
                        let name = &contract.shape.fields[*field];
                        log.push(format!("{name} = {to} from {from}"));
                    }
                    set_from(&mut contract.values[*field], from, to);
                }
                Effect::End(on) => {
                    if let Some(life) = life {
                        let on = day(on)?;
                        if end_on(contract, life, on, index) && explaining {
                            log.push(format!("ended on {on}"));
                        }
                    }
                }
                Effect::AddChild => {
                    if let (Some(child), Some(list)) = (child, &def.child) {
                        let items = list_mut(&mut contract.values[list.list]);
                        let mut added = child.clone();
                        added.place = Some(items.len());
                        added_at = added.place;
                        if explaining {
                            log.push(format!("added {}", added.label()));
                        }
                        items.push(Fact::Record(Arc::new(added)));
                    }
                }
                Effect::EndChild(on) => {
                    if let (Some(child), Some(list)) = (child, &def.child) {
                        let on = day(on)?;
                        let items = list_mut(&mut contract.values[list.list]);
                        let ended = match child.place {
                            Some(place) => match items.get_mut(place) {
                                Some(Fact::Record(held)) => {
                                    let held = Arc::make_mut(held);
                                    held.shape.life.is_some_and(|l| end_on(held, l, on, index))
                                }
                                _ => false,
                            },
                            // A record a fact derived: listed from now on, ended.
                            None => {
                                let mut ended = child.clone();
                                ended.place = Some(items.len());
                                added_at = ended.place;
                                let set = ended
                                    .shape
                                    .life
                                    .is_some_and(|l| end_on(&mut ended, l, on, index));
                                items.push(Fact::Record(Arc::new(ended)));
                                set
                            }
                        };
                        if ended && explaining {
                            log.push(format!("{} ended on {on}", child.label()));
                        }
                    }
                }
                Effect::Record {
                    list,
                    record,
                    fields,
                } => {
                    let def = &self.rules.model.records[*record];
                    let mut values = vec![Fact::Null; def.fields.len()];
                    for (field, source) in fields {
                        values[*field] = read(source)?;
                    }
                    let items = list_mut(&mut contract.values[*list]);
                    let kept = Record {
                        shape: def.shape.clone(),
                        values,
                        place: Some(items.len()),
                    };
                    if explaining {
                        log.push(format!("kept {}", kept.label()));
                    }
                    items.push(Fact::Record(Arc::new(kept)));
                }
            }
        }
        if explaining {
            let kind = def.name.to_string();
            self.settled_facts[slot_index].extend(log.into_iter().map(|fact| SettledFact {
                request: index,
                kind: kind.clone(),
                fact,
            }));
        }
        // The state changed: facts computed before may not hold.
        self.memo.borrow_mut().clear();
        self.reform(slot_index);
        Ok(added_at)
    }

    /// Brings the formed list up to date after contract `slot` changed: its item replaced,
    /// or appended once it is formed (requests form their proposals in the contracts'
    /// order, so a newly formed one comes last). The list is no longer shared once the
    /// memo is cleared, so this copies nothing.
    fn reform(&self, slot: usize) {
        let mut list = self.formed.borrow_mut();
        let Some(Fact::List(items)) = list.as_mut() else {
            return;
        };
        let mut at = self.formed_at.borrow_mut();
        let contract = &self.contracts[slot];
        let items = Arc::make_mut(items);
        match at[slot] {
            Some(place) => items[place] = Fact::Record(contract.clone()),
            None if formed(contract) => {
                if at[slot + 1..].iter().any(Option::is_some) {
                    // Out of the contracts' order (never, as requests go): build anew.
                    *list = None;
                    return;
                }
                at[slot] = Some(items.len());
                items.push(Fact::Record(contract.clone()));
            }
            None => {}
        }
    }

    /// The fact `index` for `args`, by the version in force on `day`; computed once per
    /// state.
    fn fact(&self, index: usize, args: Vec<Fact>, day: NaiveDate) -> Result<Fact, RunError> {
        let Some((version, fact)) = self
            .rules
            .facts
            .iter()
            .enumerate()
            .find(|(_, f)| f.index == index && f.in_force_on(day))
        else {
            return Err(RunError {
                pos: Default::default(),
                message: format!("no version of this fact is in force on {day}"),
            });
        };
        let memo_key = (version, args.iter().map(key).collect());
        let explaining = self.uses.borrow().is_some();
        if !explaining && let Some((_, value)) = self.memo.borrow().get(&memo_key) {
            return Ok(value.clone());
        }
        let scene = FactScene {
            evaluation: self,
            day,
        };
        let mut frame = Frame::new(fact.value.compiled.frame, args.clone());
        let value =
            run::eval(&fact.value.compiled.ir, &scene, &mut frame).map_err(|e| RunError {
                message: format!(
                    "fact {} at {}: {}",
                    fact.name,
                    fact.value.place(e.pos),
                    e.message
                ),
                ..e
            })?;
        if let Some(uses) = self.uses.borrow_mut().as_mut() {
            let shown: Vec<String> = args.iter().map(ToString::to_string).collect();
            let call = format!("{}({})", fact.name, shown.join(", "));
            if !uses.iter().any(|u| u.call == call) {
                uses.push(FactUse {
                    fact: fact.name.clone(),
                    call,
                    value: explained(&value),
                });
            }
        }
        self.memo
            .borrow_mut()
            .insert(memo_key, (args, value.clone()));
        Ok(value)
    }

    /// Runs the rules of `pass` judging `subject` on `day`, in order; they read the
    /// values an earlier pass computed (`before`).
    fn judge(
        &self,
        subject: &str,
        day: NaiveDate,
        vars: [Fact; slot::COUNT],
        pass: Pass,
        before: Option<Vec<Option<Fact>>>,
    ) -> Result<Judgement, EvalError> {
        let count = self.rules.values.len();
        let scene = Scene {
            evaluation: self,
            day,
            vars,
            values: RefCell::new(before.unwrap_or_else(|| vec![None; count])),
        };
        let mut judgement = Judgement {
            values: Vec::new(),
            computed_by: vec![None; count],
            findings: Vec::new(),
            considered: Vec::new(),
        };
        let rules = self.rules.rules_for(subject, day);
        for (index, rule) in rules.filter(|(_, rule)| pass.runs(rule)) {
            let fail = |e: &Expression, error: RunError| EvalError::Rule {
                rule: rule.id.clone(),
                file: self.rules.part_of(rule).file.clone(),
                position: Some(e.position(error.pos)),
                message: format!("{} at {}: {}", e.path, e.place(error.pos), error.message),
            };
            let run = |e: &Expression| {
                let mut frame = Frame::new(e.compiled.frame, Vec::new());
                run::eval(&e.compiled.ir, &scene, &mut frame).map_err(|error| fail(e, error))
            };
            let record = |fired: bool| {
                let evaluation = RuleEvaluation { rule: index, fired };
                self.trace.borrow_mut().evaluations.push(evaluation);
            };
            let explaining = self.settings.explain || self.settings.explain_all;
            // Explaining, every fact this rule uses is gathered as it is computed.
            self.uses.replace(explaining.then(Vec::new));
            let before = || {
                let expressions = rule.when.iter().chain(rule.values.iter().map(|(_, e)| e));
                self.reads(expressions, &scene)
            };
            let consider = |judgement: &mut Judgement,
                            result: &str,
                            before: BTreeMap<String, Value>,
                            when: Option<bool>,
                            held: Option<bool>| {
                if self.settings.explain_all {
                    judgement.considered.push((
                        index,
                        Consideration {
                            rule: rule.id.clone(),
                            reference: rule.reference.clone(),
                            cite: rule.cite.clone(),
                            result: result.to_owned(),
                            explain: self.explain(rule, &scene, before, when, held),
                        },
                    ));
                }
            };
            if let Some(when) = &rule.when
                && run(when)?.as_bool() != Some(true)
            {
                let read = if self.settings.explain_all {
                    before()
                } else {
                    BTreeMap::new()
                };
                consider(&mut judgement, "not_applicable", read, Some(false), None);
                record(false);
                continue;
            }
            let when = rule.when.as_ref().map(|_| true);
            let read_before = if explaining {
                before()
            } else {
                BTreeMap::new()
            };
            for (slot, expression) in &rule.values {
                let value = run(expression)?;
                scene.values.borrow_mut()[*slot] = Some(value);
                judgement.computed_by[*slot] = Some(index);
            }
            let holds = match &rule.require {
                Some(require) => run(require)?.as_bool() == Some(true),
                None => false,
            };
            match (rule.outcome, &rule.message, holds) {
                (Some(outcome), Some(message), false) => {
                    let mut finding =
                        self.finding(rule, outcome, message, &scene.values.borrow(), day);
                    if self.settings.explain {
                        let held = rule.require.as_ref().map(|_| false);
                        finding.explain = Some(self.explain(rule, &scene, read_before, when, held));
                    }
                    judgement.findings.push((index, finding));
                    record(true);
                }
                (Some(_), _, _) => {
                    consider(&mut judgement, "held", read_before, when, Some(true));
                    record(false)
                }
                // A rule that only computes has fired once its `when` held.
                (None, _, _) => {
                    consider(&mut judgement, "computed", read_before, when, None);
                    record(true)
                }
            }
        }
        // Only what this pass computed: a later pass joins it to the earlier values.
        let mut values = scene.values.into_inner();
        for (slot, value) in values.iter_mut().enumerate() {
            if judgement.computed_by[slot].is_none() && pass == Pass::Settle {
                *value = None;
            }
        }
        judgement.values = values;
        Ok(judgement)
    }

    fn finding(
        &self,
        rule: &Rule,
        outcome: Outcome,
        message: &Message,
        values: &[Option<Fact>],
        day: NaiveDate,
    ) -> Finding {
        let fill = |text: &str| {
            let mut text = text.to_owned();
            for name in crate::ruleset::placeholders(&text.clone()) {
                let shown = match name.strip_prefix("params.") {
                    Some(param) => self.rules.param_shown(param, day),
                    None => self.rules.value_slot(name).and_then(|slot| {
                        let value = values[slot].as_ref()?;
                        Some(match write_value(&self.rules.values[slot], value) {
                            Ok(Value::Text(plain)) => plain,
                            Ok(other) => other.to_string(),
                            Err(_) => value.to_string(),
                        })
                    }),
                };
                if let Some(shown) = shown {
                    text = text.replace(&format!("{{{name}}}"), &shown);
                }
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

    /// The rule's expressions and every place and fact they read, re-read in `scene`.
    fn explain(
        &self,
        rule: &Rule,
        scene: &Scene,
        before: BTreeMap<String, Value>,
        when_result: Option<bool>,
        require_result: Option<bool>,
    ) -> Explanation {
        // What `when` and `values` read was taken before the values were computed;
        // `require` reads them as computed.
        let mut read = before;
        for (text, shown) in self.reads(rule.require.iter(), scene) {
            read.entry(text).or_insert(shown);
        }
        let source = |e: &Expression| e.source.trim().to_owned();
        Explanation {
            file: self.rules.part_of(rule).file.clone(),
            when: rule.when.as_ref().map(source),
            values: rule
                .values
                .iter()
                .map(|(slot, e)| (self.rules.values[*slot].name.clone(), source(e)))
                .collect(),
            require: rule.require.as_ref().map(source),
            when_result,
            require_result,
            read,
            facts: self.uses.borrow_mut().take().unwrap_or_default(),
            settled: match *self.settling.borrow() {
                Some(contract) => self.settled_facts[contract].clone(),
                _ => Vec::new(),
            },
        }
    }

    /// Every place and fact `expressions` read, re-read in `scene`.
    fn reads<'e>(
        &self,
        expressions: impl Iterator<Item = &'e Expression>,
        scene: &Scene,
    ) -> BTreeMap<String, Value> {
        let mut read = BTreeMap::new();
        for expression in expressions {
            for (text, ir) in &expression.compiled.reads {
                let mut frame = Frame::new(0, Vec::new());
                let shown = match run::eval(ir, scene, &mut frame) {
                    Ok(value) => explained(&value),
                    Err(error) => Value::Text(format!("(unreadable: {})", error.message)),
                };
                read.insert(text.clone(), shown);
            }
        }
        read
    }

    /// The computed values as the ruling writes them.
    fn output_values(&self, judgement: &Judgement) -> Result<BTreeMap<String, Value>, EvalError> {
        let mut out = BTreeMap::new();
        for (slot, value) in judgement.values.iter().enumerate() {
            let Some(value) = value else { continue };
            let def = &self.rules.values[slot];
            if !def.shown {
                continue;
            }
            let written = write_value(def, value).map_err(|message| {
                let rule = judgement.computed_by[slot].map(|i| &self.rules.rules[i]);
                EvalError::Rule {
                    rule: rule.map(|r| r.id.clone()).unwrap_or_default(),
                    file: rule
                        .map(|r| self.rules.part_of(r).file.clone())
                        .unwrap_or_default(),
                    position: None,
                    message: format!("values.{}: {message}", def.name),
                }
            })?;
            out.insert(def.name.clone(), written);
        }
        Ok(out)
    }
}

/// Whether a contract has begun its life (a proposal has not, until its request is
/// accepted); a record without a life always has.
fn formed(contract: &Record) -> bool {
    contract
        .shape
        .life
        .is_none_or(|life| !matches!(contract.at(life.start), Fact::Null))
}

/// The same record, its life starting on `day` (a proposal judged as if accepted).
fn started_on(record: &Record, day: NaiveDate) -> Record {
    let mut started = record.clone();
    if let Some(life) = started.shape.life {
        started.values[life.start] = Fact::Date(day);
    }
    started
}

/// Ends the record on `day`, unless an end is set on or before it: an end is never
/// postponed, and one set first on the same day stays. The request whose end takes
/// effect is kept where the model asks (`life.ended_by`). Returns whether it ended it.
fn end_on(record: &mut Record, life: crate::expr::Life, day: NaiveDate, request: usize) -> bool {
    if record.values[life.end]
        .as_date()
        .is_some_and(|set| set <= day)
    {
        return false;
    }
    record.values[life.end] = Fact::Date(day);
    if let Some(by) = life.ended_by {
        record.values[by] = Fact::Int(request as i64);
    }
    true
}

/// From `day` on, `value`; a later change on the same day replaces an earlier one.
fn set_from(timeline: &mut Fact, day: NaiveDate, value: Fact) {
    let Fact::Timeline(entries) = timeline else {
        *timeline = Fact::Timeline(Arc::new(vec![(NaiveDate::MIN, value)]));
        return;
    };
    let entries = Arc::make_mut(entries);
    let at = entries.partition_point(|(from, _)| *from <= day);
    if at > 0 && entries[at - 1].0 == day {
        entries[at - 1].1 = value;
    } else {
        entries.insert(at, (day, value));
    }
}

/// The items of a list value, to change.
fn list_mut(list: &mut Fact) -> &mut Vec<Fact> {
    if !matches!(list, Fact::List(_)) {
        *list = Fact::list(Vec::new());
    }
    match list {
        Fact::List(items) => Arc::make_mut(items),
        _ => unreachable!("made a list above"),
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

/// A value as explanations show it.
fn explained(value: &Fact) -> Value {
    match value {
        Fact::Null => Value::Null,
        Fact::Bool(b) => Value::Bool(*b),
        Fact::Int(n) => Value::Integer(*n),
        Fact::List(items) => Value::List(items.iter().map(explained).collect()),
        Fact::Map(map) => Value::Map(map.iter().map(|(k, v)| (k.clone(), explained(v))).collect()),
        other => Value::Text(other.to_string()),
    }
}

/// Writes a computed value in its declared type's form (docs/reference/ruling.md). The checker has proved
/// the type; a fraction of a yen can still only come from the data, and is refused.
fn write_value(def: &crate::ruleset::ValueDef, value: &Fact) -> Result<Value, String> {
    let kind = def.ty;
    if def.optional && matches!(value, Fact::Null) {
        return Ok(Value::Null);
    }
    let wrong = || format!("expected {kind:?}, got `{value}`");
    Ok(match kind {
        ValueType::Date => Value::Text(value.as_date().ok_or_else(wrong)?.to_string()),
        ValueType::Yen => {
            let amount = value.as_decimal().ok_or_else(wrong)?;
            if !amount.fract().is_zero() {
                return Err(format!(
                    "{amount} is not whole yen: round it in the rule (floor_yen)"
                ));
            }
            Value::Text(amount.trunc().normalize().to_string())
        }
        ValueType::Integer => match value {
            Fact::Int(n) => Value::Integer(*n),
            _ => return Err(wrong()),
        },
        ValueType::Decimal => Value::Text(
            value
                .as_decimal()
                .ok_or_else(wrong)?
                .normalize()
                .to_string(),
        ),
        ValueType::Bool => Value::Bool(value.as_bool().ok_or_else(wrong)?),
        ValueType::Text => match value {
            Fact::Null => Value::Null,
            other => Value::Text(other.to_string()),
        },
    })
}
