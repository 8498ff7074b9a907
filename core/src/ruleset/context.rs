//! What a rule reads: the context variables — `date`, `as_of`, the customer, the
//! contracts, the contract judged, and for a request's rules the request, its place and
//! the record it is about — and the slot each has. One declaration: the checker types
//! expressions against it and the evaluator fills the slots.

use crate::expr::Type;
use crate::expr::compile::Variable;
use crate::model::{CONTRACT, CUSTOMER, ChildDef, Model, RequestDef};

/// Slots of the context variables, as the evaluator fills them.
pub mod slot {
    /// `date`: the day that selects the rule versions.
    pub const DATE: usize = 0;
    /// `as_of`: the case's judging day.
    pub const AS_OF: usize = 1;
    /// `customer`.
    pub const CUSTOMER: usize = 2;
    /// `contracts`: those formed.
    pub const CONTRACTS: usize = 3;
    /// `request`.
    pub const REQUEST: usize = 4;
    /// `contract`: the one judged.
    pub const CONTRACT: usize = 5;
    /// The record inside the contract a request is about, by its type's name.
    pub const CHILD: usize = 6;
    /// `request_index`: the request's place in the case.
    pub const REQUEST_INDEX: usize = 7;
    /// How many there are.
    pub const COUNT: usize = 8;
}

/// The context variables a rule judging `subjects` may read, and why others are absent:
/// `date`, `as_of`, the customer, the contracts formed and the contract judged; a
/// request's rules also read `request`, and the record inside the contract it is about
/// by that record type's name when every subject has one of the same type.
pub(crate) fn context(
    model: &Model,
    subjects: &[String],
) -> (Vec<Variable>, Vec<(String, String)>) {
    let var = |name: &str, ty, slot| Variable {
        name: name.to_owned(),
        ty,
        slot,
    };
    let record = |i: usize| Type::Record(model.records[i].shape.name.clone());
    let mut variables = vec![
        var("date", Type::Date, slot::DATE),
        var("as_of", Type::Date, slot::AS_OF),
        var(CUSTOMER, record(model.customer), slot::CUSTOMER),
        var(
            "contracts",
            Type::list(record(model.contract)),
            slot::CONTRACTS,
        ),
        var(CONTRACT, record(model.contract), slot::CONTRACT),
    ];
    let mut absent = Vec::new();
    let requests: Vec<&RequestDef> = subjects.iter().filter_map(|s| model.request(s)).collect();
    if requests.len() == subjects.len() {
        let ty = match requests.as_slice() {
            [one] => Type::Record(one.name.clone()),
            _ => Type::OneOf(requests.iter().map(|r| r.name.clone()).collect()),
        };
        variables.push(var("request", ty, slot::REQUEST));
        // Its place in the case's requests, as an end's `ended_by` names it.
        variables.push(var("request_index", Type::Int, slot::REQUEST_INDEX));
    } else {
        absent.push((
            "request".to_owned(),
            "a rule that judges contracts on `as_of` has no request".to_owned(),
        ));
    }
    let children: Vec<Option<&ChildDef>> = requests.iter().map(|r| r.child.as_ref()).collect();
    let first = children.first().copied().flatten();
    let shared = requests.len() == subjects.len()
        && first.is_some_and(|c| {
            children
                .iter()
                .all(|o| o.is_some_and(|o| o.record == c.record))
        });
    match first {
        Some(child) if shared => {
            // A held record may be missing: then there is none.
            let ty = if children.iter().flatten().any(|c| c.select.is_some()) {
                Type::maybe(record(child.record))
            } else {
                record(child.record)
            };
            variables.push(var(
                &model.records[child.record].shape.name,
                ty,
                slot::CHILD,
            ));
        }
        _ => {
            for child in model.requests.iter().filter_map(|r| r.child.as_ref()) {
                let name = model.records[child.record].shape.name.to_string();
                if !absent.iter().any(|(n, _)| *n == name) {
                    let why = format!(
                        "only rules judging requests that are all about a {name} have a `{name}`"
                    );
                    absent.push((name, why));
                }
            }
        }
    }
    (variables, absent)
}
