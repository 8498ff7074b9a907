//! Evaluates compiled expressions. Nothing here loops but over a list's items, and facts
//! cannot call themselves (the loader refuses cycles), so every evaluation ends.

use std::cmp::Ordering;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::compile::{Arith, Each, Ir};
use super::syntax::{BinaryOp, Pos};
use super::types::Name;
use super::value::{NULL, Record, Value};

/// Arguments of a call: most functions take two or three.
type Args = smallvec::SmallVec<[Value; 4]>;

/// A data-dependent failure (an overflow, a date out of range), where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunError {
    /// Where, in the expression's text.
    pub pos: Pos,
    /// What happened.
    pub message: String,
}

/// What an expression reads from outside: context variables, computed values, facts.
pub trait Host {
    /// The context variable in `slot`.
    fn var(&self, slot: usize) -> &Value;
    /// The computed value in `slot`, if computed.
    fn value(&self, slot: usize) -> Option<Value>;
    /// The fact `index` for these arguments.
    fn fact(&self, index: usize, args: Vec<Value>) -> Result<Value, RunError>;
    /// The day judged: a dated param reads its value on it.
    fn day(&self) -> chrono::NaiveDate;
}

/// The `let`s and closure parameters of one evaluation.
pub struct Frame {
    slots: Vec<Value>,
}

impl Frame {
    /// A frame of `size` slots, the first ones holding `args`.
    pub fn new(size: usize, args: Vec<Value>) -> Frame {
        let mut slots = args;
        slots.resize(size.max(slots.len()), Value::Null);
        Frame { slots }
    }
}

fn fail(pos: Pos, message: impl Into<String>) -> RunError {
    RunError {
        pos,
        message: message.into(),
    }
}

fn truth(value: Value) -> bool {
    matches!(value, Value::Bool(true))
}

/// A place: a variable, a `let` or parameter, a constant, or a field of one. Reading a
/// place copies nothing, so comparing two of them (`c.kind == kind`, the body of most
/// closures over a list) touches no reference count.
fn is_place(ir: &Ir) -> bool {
    match ir {
        Ir::Const(_) | Ir::Dated(_) | Ir::Var(_) | Ir::Local(_) => true,
        Ir::Field(base, ..) => is_place(base),
        _ => false,
    }
}

/// The value of a place, borrowed; `()` for a field of what is no record, as `eval` gives.
fn place<'v>(ir: &'v Ir, host: &'v dyn Host, frame: &'v Frame) -> &'v Value {
    match ir {
        Ir::Const(value) => value,
        Ir::Dated(values) => values.on_day_ref(host.day()),
        Ir::Var(slot) => host.var(*slot),
        Ir::Local(slot) => &frame.slots[*slot],
        Ir::Field(base, name, at) => match place(base, host, frame) {
            Value::Record(record) => field_of(record, name, *at),
            _ => &NULL,
        },
        _ => &NULL,
    }
}

/// A record's field: at its place in the type's shape, or (a record of another shape,
/// never once checked) by name.
fn field_of<'r>(record: &'r Record, name: &Name, at: Option<usize>) -> &'r Value {
    match at.and_then(|i| record.shape.fields.get(i).map(|f| (i, f))) {
        Some((i, field)) if Arc::ptr_eq(field, name) || field == name => &record.values[i],
        _ => record
            .shape
            .index(name)
            .map_or(&NULL, |i| &record.values[i]),
    }
}

/// Evaluates `a` and `b` and gives both to `f`, borrowing places rather than copying
/// them. Non-places are evaluated first, in order; places read nothing that could fail.
fn both<R>(
    a: &Ir,
    b: &Ir,
    host: &dyn Host,
    frame: &mut Frame,
    f: impl FnOnce(&Value, &Value) -> R,
) -> Result<R, RunError> {
    let a_owned = if is_place(a) {
        None
    } else {
        Some(eval(a, host, frame)?)
    };
    let b_owned = if is_place(b) {
        None
    } else {
        Some(eval(b, host, frame)?)
    };
    let frame = &*frame;
    let x = a_owned.as_ref().unwrap_or_else(|| place(a, host, frame));
    let y = b_owned.as_ref().unwrap_or_else(|| place(b, host, frame));
    Ok(f(x, y))
}

/// Evaluates `ir` as a condition, borrowing a place.
fn holds(ir: &Ir, host: &dyn Host, frame: &mut Frame) -> Result<bool, RunError> {
    if is_place(ir) {
        return Ok(matches!(place(ir, host, frame), Value::Bool(true)));
    }
    Ok(truth(eval(ir, host, frame)?))
}

/// Evaluates `ir`.
pub fn eval(ir: &Ir, host: &dyn Host, frame: &mut Frame) -> Result<Value, RunError> {
    Ok(match ir {
        Ir::Const(value) => value.clone(),
        Ir::Dated(values) => values.on_day(host.day()),
        Ir::Var(slot) => host.var(*slot).clone(),
        Ir::Local(slot) => frame.slots[*slot].clone(),
        Ir::Value(slot, pos) => host
            .value(*slot)
            .ok_or_else(|| fail(*pos, "this value was not computed for this request"))?,
        Ir::Field(base, name, at) => {
            if is_place(base) {
                place(ir, host, frame).clone()
            } else {
                match eval(base, host, frame)? {
                    Value::Record(record) => field_of(&record, name, *at).clone(),
                    // Narrowed away by the compiler; `()` is the honest answer if reached.
                    _ => Value::Null,
                }
            }
        }
        Ir::Index(map, key) => both(map, key, host, frame, |map, key| {
            match (map, key.as_text()) {
                (Value::Map(map), Some(key)) => map.get(key).cloned().unwrap_or(Value::Null),
                _ => Value::Null,
            }
        })?,
        Ir::Call(builtin, args, pos) => {
            let args = args
                .iter()
                .map(|a| eval(a, host, frame))
                .collect::<Result<Args, _>>()?;
            (builtin.run)(&args).map_err(|message| fail(*pos, message))?
        }
        Ir::Fact(index, args, _) => {
            let args = args
                .iter()
                .map(|a| eval(a, host, frame))
                .collect::<Result<Vec<_>, _>>()?;
            host.fact(*index, args)?
        }
        Ir::Not(a) => Value::Bool(!holds(a, host, frame)?),
        Ir::Negate(a, pos) => match eval(a, host, frame)? {
            Value::Int(n) => Value::Int(n.checked_neg().ok_or_else(|| fail(*pos, "overflow"))?),
            Value::Decimal(d) => Value::Decimal(-d),
            _ => Value::Null,
        },
        Ir::And(a, b) => Value::Bool(holds(a, host, frame)? && holds(b, host, frame)?),
        Ir::Or(a, b) => Value::Bool(holds(a, host, frame)? || holds(b, host, frame)?),
        Ir::Arith(arith, a, b, pos) => {
            let a = eval(a, host, frame)?;
            let b = eval(b, host, frame)?;
            arithmetic(*arith, &a, &b).map_err(|m| fail(*pos, m))?
        }
        Ir::Concat(a, b) => match (eval(a, host, frame)?, eval(b, host, frame)?) {
            (Value::List(x), Value::List(y)) => {
                let mut items = Vec::with_capacity(x.len() + y.len());
                items.extend(x.iter().cloned());
                items.extend(y.iter().cloned());
                Value::list(items)
            }
            (Value::Text(x), Value::Text(y)) => Value::Text(format!("{x}{y}").into()),
            _ => Value::Null,
        },
        Ir::Equal(equal, a, b) => {
            let same = both(a, b, host, frame, |x, y| x.same(y))?;
            Value::Bool(same == *equal)
        }
        Ir::Order(op, a, b) => {
            let order = both(a, b, host, frame, |x, y| x.order(y))?;
            Value::Bool(match (op, order) {
                (BinaryOp::Lt, Some(o)) => o == Ordering::Less,
                (BinaryOp::Le, Some(o)) => o != Ordering::Greater,
                (BinaryOp::Gt, Some(o)) => o == Ordering::Greater,
                (BinaryOp::Ge, Some(o)) => o != Ordering::Less,
                _ => false,
            })
        }
        Ir::In(item, collection) => {
            Value::Bool(both(item, collection, host, frame, |item, c| match c {
                Value::List(items) => items.iter().any(|i| i.same(item)),
                Value::Map(map) => item.as_text().is_some_and(|k| map.contains_key(k)),
                Value::Text(text) => item.as_text().is_some_and(|k| text.contains(k)),
                _ => false,
            })?)
        }
        Ir::If(c, a, b) => {
            if holds(c, host, frame)? {
                eval(a, host, frame)?
            } else {
                eval(b, host, frame)?
            }
        }
        Ir::Let(slot, value, body) => {
            frame.slots[*slot] = eval(value, host, frame)?;
            eval(body, host, frame)?
        }
        Ir::List(items) => Value::list(
            items
                .iter()
                .map(|i| eval(i, host, frame))
                .collect::<Result<_, _>>()?,
        ),
        Ir::Len(list) => match eval(list, host, frame)? {
            Value::List(items) => Value::Int(items.len() as i64),
            _ => Value::Int(0),
        },
        Ir::Each(each, list, slot, body, pos) => {
            let list = eval(list, host, frame)?;
            let items: &[Value] = list.as_list().unwrap_or_default();
            each_item(*each, items, *slot, body, *pos, host, frame)?
        }
        Ir::Reduce(list, acc, item, body, init) => {
            let list = eval(list, host, frame)?;
            let mut total = eval(init, host, frame)?;
            for value in list.as_list().unwrap_or_default() {
                frame.slots[*acc] = total;
                frame.slots[*item] = value.clone();
                // An error inside the closure keeps its own position.
                total = eval(body, host, frame)?;
            }
            total
        }
    })
}

fn each_item(
    each: Each,
    items: &[Value],
    slot: usize,
    body: &Ir,
    pos: Pos,
    host: &dyn Host,
    frame: &mut Frame,
) -> Result<Value, RunError> {
    let run = |item: &Value, frame: &mut Frame| {
        frame.slots[slot] = item.clone();
        eval(body, host, frame)
    };
    Ok(match each {
        Each::Some => {
            for item in items {
                if truth(run(item, frame)?) {
                    return Ok(Value::Bool(true));
                }
            }
            Value::Bool(false)
        }
        Each::All => {
            for item in items {
                if !truth(run(item, frame)?) {
                    return Ok(Value::Bool(false));
                }
            }
            Value::Bool(true)
        }
        Each::Filter => {
            let mut kept = Vec::new();
            for item in items {
                if truth(run(item, frame)?) {
                    kept.push(item.clone());
                }
            }
            Value::List(Arc::new(kept))
        }
        Each::Map => Value::list(
            items
                .iter()
                .map(|item| run(item, frame))
                .collect::<Result<_, _>>()?,
        ),
        Each::Count => {
            let mut count = 0i64;
            for item in items {
                if truth(run(item, frame)?) {
                    count += 1;
                }
            }
            Value::Int(count)
        }
        Each::SumInt => {
            let mut total = 0i64;
            for item in items {
                let n = match run(item, frame)? {
                    Value::Int(n) => n,
                    _ => 0,
                };
                total = total
                    .checked_add(n)
                    .ok_or_else(|| fail(pos, "the sum overflows"))?;
            }
            Value::Int(total)
        }
        Each::SumDecimal => {
            let mut total = Decimal::ZERO;
            for item in items {
                let n = run(item, frame)?.as_decimal().unwrap_or_default();
                total = total
                    .checked_add(n)
                    .ok_or_else(|| fail(pos, "the sum overflows"))?;
            }
            Value::Decimal(total)
        }
    })
}

fn arithmetic(arith: Arith, a: &Value, b: &Value) -> Result<Value, String> {
    let overflow = || "the result is too large".to_owned();
    match arith {
        Arith::Int(op) => {
            let (Value::Int(x), Value::Int(y)) = (a, b) else {
                return Err("expected whole numbers".to_owned());
            };
            let result = match op {
                BinaryOp::Add => x.checked_add(*y),
                BinaryOp::Sub => x.checked_sub(*y),
                _ => x.checked_mul(*y),
            };
            result.map(Value::Int).ok_or_else(overflow)
        }
        Arith::Decimal(op) => {
            let (Some(x), Some(y)) = (a.as_decimal(), b.as_decimal()) else {
                return Err("expected numbers".to_owned());
            };
            let result = match op {
                BinaryOp::Add => x.checked_add(y),
                BinaryOp::Sub => x.checked_sub(y),
                BinaryOp::Mul => x.checked_mul(y),
                _ => {
                    if y.is_zero() {
                        return Err("division by zero".to_owned());
                    }
                    x.checked_div(y)
                }
            };
            result.map(Value::Decimal).ok_or_else(overflow)
        }
    }
}
