//! Values expressions compute with. Records are shared, never copied: a contract read
//! by a hundred rules is one allocation.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;

/// A name the rule set declares (a record type, a field): shared, cheap to clone.
pub type Name = Arc<str>;

/// The shape of a record: its type's name and field names, as the rule set's model
/// declares them, and the fields that give it a life on days, if it has one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shape {
    /// The record type's name.
    pub name: Name,
    /// Its fields' names, in declaration order.
    pub fields: Vec<Name>,
    /// How explanations show a record: `{field}` places show its fields.
    pub label: Option<String>,
    /// The field that names a record of it, unique in a case.
    pub key: Option<usize>,
    /// The fields that bound its life, when it has one.
    pub life: Option<Life>,
    /// The moments bounding the window it covers (an outage's), when it has one.
    #[serde(default)]
    pub span: Option<Span>,
}

/// The fields of a record that bound a window of time `[from, to)`, both timestamps:
/// records whose windows overlap are one occurrence (`connected`, `span_hours`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Span {
    /// Index of the window's first moment.
    pub from: usize,
    /// Index of the moment it ends.
    pub to: usize,
}

/// The fields of a record that bound its life: in force from `start` (never while it is
/// `()`) through `end`; held from `held_from` (always, while it is `()`) through `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Life {
    /// Index of the first day's field.
    pub start: usize,
    /// Index of the last day's field.
    pub end: usize,
    /// Index of the field naming the day it was added, if any.
    pub held_from: Option<usize>,
    /// Index of the field naming the request that formed it (its place in the case's
    /// requests), if the model keeps it: `()` for one the case lists.
    #[serde(default)]
    pub started_by: Option<usize>,
    /// Index of the field naming the request whose end took effect (its place in the
    /// case's requests), if the model keeps it: `()` while no request has ended it.
    #[serde(default)]
    pub ended_by: Option<usize>,
}

impl Shape {
    /// The index of the field `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| &**f == name)
    }
}

/// A record: a shape and a value per field. Records are shared, never copied.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// Its shape.
    pub shape: Arc<Shape>,
    /// A value per field of the shape, in its order.
    pub values: Vec<Value>,
    /// Its place in the list that holds it, when it is held in one.
    pub place: Option<usize>,
}

impl Record {
    /// The field `name`; `()` for a field the shape does not have (the compiler has
    /// checked that it does).
    pub fn field(&self, name: &str) -> Value {
        self.shape
            .index(name)
            .map_or(Value::Null, |i| self.values[i].clone())
    }

    /// The field at `index` of the shape.
    pub fn at(&self, index: usize) -> &Value {
        &self.values[index]
    }

    /// The text of its key field (a contract's id); empty for a record without one.
    pub fn key(&self) -> &str {
        self.shape
            .key
            .and_then(|k| self.values[k].as_text())
            .unwrap_or_default()
    }

    /// The record type's name.
    pub fn record_name(&self) -> &str {
        &self.shape.name
    }

    /// In force on `day`: started by then (never, while its start is `()`) and not ended
    /// before it. A record without a life is always in force.
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        let Some(life) = self.shape.life else {
            return true;
        };
        self.values[life.start].as_date().is_some_and(|s| s <= day) && self.not_ended(life, day)
    }

    /// Held on `day`: added by then (records the case lists always are) and not ended
    /// before it.
    pub fn held_on(&self, day: NaiveDate) -> bool {
        let Some(life) = self.shape.life else {
            return true;
        };
        let added = life.held_from.and_then(|i| self.values[i].as_date());
        added.is_none_or(|added| added <= day) && self.not_ended(life, day)
    }

    fn not_ended(&self, life: Life, day: NaiveDate) -> bool {
        self.values[life.end].as_date().is_none_or(|end| day <= end)
    }

    /// How explanations show it (`contract WG-1`).
    pub fn label(&self) -> String {
        let Some(template) = &self.shape.label else {
            return self.shape.name.to_string();
        };
        let mut shown = template.clone();
        for (name, value) in self.shape.fields.iter().zip(&self.values) {
            let place = format!("{{{name}}}");
            if shown.contains(&place) {
                shown = shown.replace(&place, &value.to_string());
            }
        }
        shown
    }
}

/// `()`, for places that borrow a value that is not there.
pub static NULL: Value = Value::Null;

/// A value.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub enum Value {
    /// `()`: no value.
    #[default]
    Null,
    /// A truth value.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A decimal (yen are decimals with no fraction).
    Decimal(Decimal),
    /// Text.
    Text(Arc<str>),
    /// A calendar date.
    Date(NaiveDate),
    /// A point in time.
    Timestamp(DateTime<FixedOffset>),
    /// A list.
    List(Arc<Vec<Value>>),
    /// A map from text (params).
    Map(Arc<BTreeMap<String, Value>>),
    /// A record.
    Record(Arc<Record>),
    /// A value from each day on, oldest first; the first holds from the start of time.
    Timeline(Arc<Vec<(NaiveDate, Value)>>),
}

impl Value {
    /// Text.
    pub fn text(text: &str) -> Value {
        Value::Text(text.into())
    }

    /// A date, or `()`.
    pub fn maybe_date(day: Option<NaiveDate>) -> Value {
        day.map_or(Value::Null, Value::Date)
    }

    /// A list.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    /// The number, for integers and decimals.
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Value::Int(n) => Some(Decimal::from(*n)),
            Value::Decimal(d) => Some(*d),
            _ => None,
        }
    }

    /// The truth value.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The date.
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// The text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The list's items.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The record.
    pub fn as_record(&self) -> Option<&Arc<Record>> {
        match self {
            Value::Record(record) => Some(record),
            _ => None,
        }
    }

    /// A timeline's value on `day`.
    pub fn on_day(&self, day: NaiveDate) -> Value {
        self.on_day_ref(day).clone()
    }

    /// A timeline's value on `day`, borrowed: the entry in force then, the first before
    /// all of them (entries are kept in day order); any other value is itself.
    pub fn on_day_ref(&self, day: NaiveDate) -> &Value {
        match self {
            Value::Timeline(entries) => crate::calendar::version_on(entries, day)
                .or(entries.first().map(|(_, value)| value))
                .unwrap_or(&NULL),
            other => other,
        }
    }

    /// Equality as `==` means it: numbers by value, records by identity.
    pub fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Text(a), Value::Text(b)) => a == b,
            (Value::Date(a), Value::Date(b)) => a == b,
            (Value::Timestamp(a), Value::Timestamp(b)) => a == b,
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.same(y))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|((k, x), (l, y))| k == l && x.same(y))
            }
            (Value::Record(a), Value::Record(b)) => Arc::ptr_eq(a, b),
            (Value::Timeline(a), Value::Timeline(b)) => Arc::ptr_eq(a, b),
            (a, b) => match (a.as_decimal(), b.as_decimal()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        }
    }

    /// Order as `<` means it; the compiler only orders values of one ordered type.
    pub fn order(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Text(a), Value::Text(b)) => Some(a.cmp(b)),
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::Timestamp(a), Value::Timestamp(b)) => Some(a.cmp(b)),
            (a, b) => Some(a.as_decimal()?.cmp(&b.as_decimal()?)),
        }
    }
}

impl fmt::Display for Value {
    /// As a lawyer reads it: dates `YYYY-MM-DD`, numbers without trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("()"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Decimal(d) => write!(f, "{}", d.normalize()),
            Value::Text(t) => f.write_str(t),
            Value::Date(d) => write!(f, "{d}"),
            Value::Timestamp(t) => f.write_str(&t.to_rfc3339()),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            Value::Record(record) => f.write_str(&record.label()),
            Value::Timeline(entries) => {
                f.write_str("[")?;
                for (i, (from, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", from {from}: ")?;
                    }
                    write!(f, "{value}")?;
                }
                f.write_str("]")
            }
        }
    }
}
