//! Values expressions compute with. Records are shared, never copied: a contract read
//! by a hundred rules is one allocation.

use std::any::Any;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;

/// A record of the fact model, read field by field.
pub trait Record: Any + Send + Sync + fmt::Debug {
    /// The record type's name in the schema.
    fn record_name(&self) -> &'static str;
    /// The field `name`; the compiler has checked that it exists.
    fn field(&self, name: &str) -> Value;
    /// For domain functions that need the concrete record.
    fn as_any(&self) -> &dyn Any;
    /// How explanations show it (`contract WG-1`).
    fn label(&self) -> String {
        self.record_name().to_owned()
    }
}

/// A value.
#[derive(Debug, Clone, Default)]
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
    Record(Arc<dyn Record>),
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

    /// The record, as its concrete type.
    pub fn as_record<R: Record>(&self) -> Option<&R> {
        match self {
            Value::Record(record) => record.as_any().downcast_ref::<R>(),
            _ => None,
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
        }
    }
}
