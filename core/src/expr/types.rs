//! Types of the rule language and the schema expressions are checked against.

use std::collections::BTreeMap;
use std::fmt;

use super::value::Value;

pub use super::value::Name;

/// What a function of the schema computes from its arguments; an error is a
/// data-dependent failure (a date out of range).
pub type Run = fn(&[Value]) -> Result<Value, String>;

/// The type of an expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Type {
    /// The element type of `[]`: fits any list.
    Nothing,
    /// `()`: no value.
    Null,
    /// `true` or `false`.
    Bool,
    /// A whole number.
    Int,
    /// Whole yen.
    Yen,
    /// A decimal number (money before rounding, hours, counts that may be fractional).
    Decimal,
    /// In function signatures only: any of integer, yen or decimal.
    Number,
    /// Text.
    Text,
    /// A calendar date.
    Date,
    /// A point in time with its offset.
    Timestamp,
    /// A record of the rule set's model, by name.
    Record(Name),
    /// One of several records told apart by their `type` field (a request).
    OneOf(Vec<Name>),
    /// A value that changes over time: read it on a day with `at(timeline, day)`.
    Timeline(Box<Type>),
    /// A list.
    List(Box<Type>),
    /// A map from text to values (rule-set params).
    Map(Box<Type>),
    /// A value or `()`.
    Maybe(Box<Type>),
}

impl Type {
    /// A list of `element`.
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    /// `inner` or `()`.
    pub fn maybe(inner: Type) -> Type {
        match inner {
            Type::Maybe(_) | Type::Null => inner,
            other => Type::Maybe(Box::new(other)),
        }
    }

    /// Integer, yen or decimal.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Yen | Type::Decimal | Type::Number)
    }

    /// The type both `self` and `other` fit, if any: the type of an `if` with these
    /// branches, or of a list holding both.
    pub fn join(&self, other: &Type) -> Option<Type> {
        use Type::*;
        Some(match (self, other) {
            (a, b) if a == b => a.clone(),
            (Nothing, x) | (x, Nothing) => x.clone(),
            (Null, Maybe(x)) | (Maybe(x), Null) => Maybe(x.clone()),
            (Null, x) | (x, Null) => Type::maybe(x.clone()),
            (Maybe(a), Maybe(b)) => Type::maybe(a.join(b)?),
            (Maybe(a), b) | (b, Maybe(a)) => Type::maybe(a.join(b)?),
            (Int, Yen) | (Yen, Int) => Yen,
            (a, b) if a.is_numeric() && b.is_numeric() => Decimal,
            (List(a), List(b)) => Type::list(a.join(b)?),
            (Map(a), Map(b)) => Map(Box::new(a.join(b)?)),
            (Record(a), Record(b)) => OneOf(vec![a.clone(), b.clone()]),
            (OneOf(a), Record(b)) | (Record(b), OneOf(a)) => {
                let mut all = a.clone();
                if !all.contains(b) {
                    all.push(b.clone());
                }
                OneOf(all)
            }
            _ => return None,
        })
    }

    /// Whether a value of type `self` may stand where `target` is expected.
    pub fn fits(&self, target: &Type) -> bool {
        use Type::*;
        match (self, target) {
            (a, b) if a == b => true,
            (Nothing, _) => true,
            (a, Number) => a.is_numeric(),
            (Int, Yen | Decimal) | (Yen, Decimal) => true,
            (Null, Maybe(_)) => true,
            (Maybe(a), Maybe(b)) => a.fits(b),
            (a, Maybe(b)) => a.fits(b),
            (List(a), List(b)) => a.fits(b),
            (Map(a), Map(b)) => a.fits(b),
            (Record(a), OneOf(all)) => all.contains(a),
            (OneOf(some), OneOf(all)) => some.iter().all(|s| all.contains(s)),
            _ => false,
        }
    }

    /// Reads a type as rule files write it: `bool`, `integer`, `yen`, `decimal`, `text`,
    /// `date`, `timestamp`, a record name, `[T]` for a list, `T?` for T or `()`.
    pub fn parse(text: &str, schema: &Schema) -> Result<Type, String> {
        let text = text.trim();
        if let Some(inner) = text.strip_suffix('?') {
            return Ok(Type::maybe(Type::parse(inner, schema)?));
        }
        if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            return Ok(Type::list(Type::parse(inner, schema)?));
        }
        Ok(match text {
            "bool" => Type::Bool,
            "integer" => Type::Int,
            "yen" => Type::Yen,
            "decimal" => Type::Decimal,
            "text" => Type::Text,
            "date" => Type::Date,
            "timestamp" => Type::Timestamp,
            other => match schema.records.get(other) {
                Some(record) => Type::Record(record.name.clone()),
                None => {
                    let mut known: Vec<&str> = vec![
                        "bool",
                        "integer",
                        "yen",
                        "decimal",
                        "text",
                        "date",
                        "timestamp",
                    ];
                    known.extend(schema.records.keys().map(|k| &**k));
                    return Err(format!(
                        "`{other}` is not a type (types: {}; `[T]` is a list, `T?` may be `()`)",
                        known.join(", ")
                    ));
                }
            },
        })
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Nothing => f.write_str("nothing"),
            Type::Null => f.write_str("()"),
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("integer"),
            Type::Yen => f.write_str("yen"),
            Type::Decimal => f.write_str("decimal"),
            Type::Number => f.write_str("number"),
            Type::Text => f.write_str("text"),
            Type::Date => f.write_str("date"),
            Type::Timestamp => f.write_str("timestamp"),
            Type::Record(name) => f.write_str(name),
            Type::OneOf(names) => write!(f, "{}", names.join(" | ")),
            Type::List(t) => write!(f, "[{t}]"),
            Type::Map(t) => write!(f, "map of {t}"),
            Type::Maybe(t) => write!(f, "{t}?"),
            Type::Timeline(t) => write!(f, "timeline of {t}"),
        }
    }
}

/// A field of a record, as expressions see it.
#[derive(Debug, Clone)]
pub struct Field {
    /// Its name.
    pub name: Name,
    /// Its type.
    pub ty: Type,
    /// What it means.
    pub doc: String,
}

/// A record type of the fact model: its fields, and hints for names it does not have.
#[derive(Debug, Clone)]
pub struct RecordType {
    /// Its name, as the rule set's model declares it.
    pub name: Name,
    /// The value of its `type` field, for records that are one of several (requests).
    pub tag: Option<Name>,
    /// Its fields.
    pub fields: Vec<Field>,
}

impl RecordType {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| &*f.name == name)
    }
}

/// A function expressions may call: its parameter and result types, and what it does.
#[derive(Clone)]
pub struct FunctionSig {
    /// Its name.
    pub name: &'static str,
    /// Its stable id (see [`super::builtins::Builtin`]).
    pub id: &'static str,
    /// Its parameters' types.
    pub params: Vec<Type>,
    /// Its result's type.
    pub result: Type,
    /// Computes the result; an error is a data-dependent failure (a date out of range).
    pub run: Run,
    /// Values passed before the written arguments: what a function the model declares
    /// (a record's maker) knows of its declaration.
    pub bound: Vec<Value>,
    /// The argument, if any, that names a text field of the records the first argument
    /// lists: the checker requires a quoted name the record type has.
    pub names_field: Option<usize>,
    /// What it means, for the reference.
    pub doc: &'static str,
}

impl fmt::Debug for FunctionSig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.signature())
    }
}

impl FunctionSig {
    /// `name(type, …) -> type`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self.params.iter().map(ToString::to_string).collect();
        format!("{}({}) -> {}", self.name, params.join(", "), self.result)
    }
}

/// What expressions may use: records, functions (several signatures per name), and for
/// each expression the names in scope, given when it is compiled.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Record types by name.
    pub records: BTreeMap<Name, RecordType>,
    /// Functions by name; a name may have several signatures.
    pub functions: BTreeMap<&'static str, Vec<FunctionSig>>,
}

impl Schema {
    /// Adds a record type.
    pub fn record(&mut self, record: RecordType) {
        self.records.insert(record.name.clone(), record);
    }

    /// Adds a function signature.
    pub fn function(&mut self, function: FunctionSig) {
        self.functions
            .entry(function.name)
            .or_default()
            .push(function);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_fits() {
        assert_eq!(Type::Null.join(&Type::Date), Some(Type::maybe(Type::Date)));
        assert_eq!(Type::Int.join(&Type::Yen), Some(Type::Yen));
        assert_eq!(Type::Yen.join(&Type::Decimal), Some(Type::Decimal));
        assert_eq!(Type::Text.join(&Type::Int), None);
        assert!(Type::Int.fits(&Type::Yen));
        assert!(!Type::Decimal.fits(&Type::Yen));
        assert!(!Type::maybe(Type::Date).fits(&Type::Date));
        assert!(Type::list(Type::Nothing).fits(&Type::list(Type::Text)));
        let schema = Schema::default();
        assert_eq!(
            Type::parse("[date?]", &schema),
            Ok(Type::list(Type::maybe(Type::Date)))
        );
        assert!(Type::parse("money", &schema).unwrap_err().contains("yen"));
    }
}
