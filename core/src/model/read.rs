//! Reading a case against a model: every field typed as the model declares it, unknown
//! fields refused, numbers exact, every error naming its field path, line and column.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::format::ContractRefFile;
use super::{CONTRACT_FIELD, DATE_FIELD, DefaultFrom, FieldDef, Kind, Model, TYPE_FIELD};
use crate::calendar;
use crate::case::{Case, CaseLimits, Request, Source};
use crate::de::exact_decimal;
use crate::error::Diagnostic;
use crate::expr::{Record, Value};
use crate::yaml::{self, Bounds, Syntax};

/// A document as read, before the model types it. Numbers keep what makes them exact:
/// integers whole, JSON numbers their text.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `null`, or `~`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Int(i128),
    /// A YAML number with a fraction (already screened: its text is its value).
    Float(f64),
    /// A JSON number, as written.
    Number(String),
    /// Text.
    Text(String),
    /// A sequence.
    List(Vec<Node>),
    /// A mapping, in order; keys are unique.
    Map(Vec<(String, Node)>),
}

/// The key serde_json's `arbitrary_precision` wraps a number's text in.
const JSON_NUMBER: &str = "$serde_json::private::Number";

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Node, E> {
        Ok(Node::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Node, E> {
        Ok(Node::Int(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Node, E> {
        Ok(Node::Int(n.into()))
    }
    fn visit_i128<E>(self, n: i128) -> Result<Node, E> {
        Ok(Node::Int(n))
    }
    fn visit_u128<E: de::Error>(self, n: u128) -> Result<Node, E> {
        i128::try_from(n)
            .map(Node::Int)
            .map_err(|_| E::custom(format!("{n} is too large to be read exactly")))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Node, E> {
        Ok(Node::Float(n))
    }
    fn visit_str<E>(self, text: &str) -> Result<Node, E> {
        Ok(Node::Text(text.to_owned()))
    }
    fn visit_string<E>(self, text: String) -> Result<Node, E> {
        Ok(Node::Text(text))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries: Vec<(String, Node)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == JSON_NUMBER {
                let text: String = map.next_value()?;
                return Ok(Node::Number(text));
            }
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom(format!("duplicate field `{key}`")));
            }
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

impl Node {
    fn shown(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Int(_) | Node::Float(_) | Node::Number(_) => "a number",
            Node::Text(_) => "a string",
            Node::List(_) => "a sequence",
            Node::Map(_) => "a mapping",
        }
    }

    /// As JSON, for the parts of a case the caller owns.
    fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Node::Null => J::Null,
            Node::Bool(b) => J::Bool(*b),
            Node::Int(n) => n
                .to_string()
                .parse::<serde_json::Number>()
                .map_or(J::Null, J::Number),
            Node::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Node::Number(text) => text
                .parse::<serde_json::Number>()
                .map_or(J::Null, J::Number),
            Node::Text(text) => J::String(text.clone()),
            Node::List(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    fn from_json(value: &serde_json::Value) -> Node {
        use serde_json::Value as J;
        match value {
            J::Null => Node::Null,
            J::Bool(b) => Node::Bool(*b),
            J::Number(n) => Node::Number(n.to_string()),
            J::String(s) => Node::Text(s.clone()),
            J::Array(items) => Node::List(items.iter().map(Node::from_json).collect()),
            J::Object(map) => Node::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Node::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// The record type and the values (read so far) of the record holding what is being
/// read, for a default it takes from there; `None` at the top or in a request.
type Holder<'v> = Option<(usize, &'v [Value])>;

/// How a contract stands in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// Any record but a contract.
    Plain,
    /// A contract the case lists: it names the first day of its life.
    Listed,
    /// A contract a request proposes: its life starts when the request is accepted.
    Proposed,
}

struct Reader<'a> {
    model: &'a Model,
    /// Top-level keys the caller owns: handed back unread.
    owned: &'a [&'a str],
    source: &'a Source,
    limits: &'a CaseLimits,
}

/// Each declared default that the reader would refuse for its field's type (`default:
/// "abc"` on an integer), with its path in `model.yaml` and the reader's own message: a
/// set whose model passes never fails a case for its own defaults' sake. Defaults are
/// read as a case's value would be, by the same reader.
pub(crate) fn default_problems(model: &Model) -> Vec<(String, String)> {
    let source = Source::new(None, "");
    let limits = CaseLimits::default();
    let reader = Reader {
        model,
        owned: &[],
        source: &source,
        limits: &limits,
    };
    let records = model
        .records
        .iter()
        .map(|r| (format!("records.{}", r.shape.name), &r.fields));
    let requests = model
        .requests
        .iter()
        .map(|r| (format!("requests.{}", r.name), &r.fields));
    let mut found = Vec::new();
    for (owner, fields) in records.chain(requests) {
        for field in fields.iter() {
            let Some(default) = &field.default else {
                continue;
            };
            let path = format!("{owner}.fields.{}.default", field.name);
            if let Err(refused) = reader.value(&field.kind, &Node::from_json(default), &path, None)
            {
                found.push((path, refused.message));
            }
        }
    }
    found
}

impl Case {
    /// Reads a case in the given syntax (an HTTP body's content type decides it) against
    /// a rule set's `model`, refusing one past `limits`.
    pub fn read(
        model: &Model,
        text: &str,
        file: Option<&str>,
        syntax: Syntax,
        limits: &CaseLimits,
    ) -> Result<Case, Diagnostic> {
        Case::read_owning(model, text, file, syntax, limits, &[])
    }

    /// As [`Case::read`], the top-level keys in `owned` belonging to the caller: they are
    /// not part of the case, and come back unread in [`Case::owned`] (a test harness's
    /// block of expected results, say). Any other unknown key is an error.
    pub fn read_owning(
        model: &Model,
        text: &str,
        file: Option<&str>,
        syntax: Syntax,
        limits: &CaseLimits,
        owned: &[&str],
    ) -> Result<Case, Diagnostic> {
        read_case(model, owned, text, file, syntax, limits)
    }
}

const CASE_FIELDS: [&str; 4] = ["as_of", "customer", "contracts", "requests"];

/// Reads a case in `syntax` against `model`, refusing one past `limits`. The top-level
/// keys in `owned` belong to the caller (a test harness's expectations): they are handed
/// back as JSON in [`Case::owned`], unread.
fn read_case(
    model: &Model,
    owned: &[&str],
    text: &str,
    file: Option<&str>,
    syntax: Syntax,
    limits: &CaseLimits,
) -> Result<Case, Diagnostic> {
    let bounds = Bounds {
        max_bytes: limits.max_bytes,
        max_depth: limits.max_depth,
    };
    let text = yaml::without_bom(text);
    if text.trim().is_empty() {
        return Err(Diagnostic::new(
            file,
            "",
            "the document is empty: a case is a map of as_of, contracts and requests",
        )
        .at(Some(yaml::Position { line: 1, column: 1 })));
    }
    yaml::screen(text, syntax, file, bounds)?;
    let document: Node = yaml::from_str(text, syntax, file)?;
    let source = Source::new(file, text);
    let reader = Reader {
        model,
        owned,
        source: &source,
        limits,
    };
    let (as_of, customer, contracts, requests, owned) = reader.case(&document)?;
    let case = Case {
        as_of,
        customer,
        contracts,
        requests,
        owned,
        source,
    };
    validate(model, &case)?;
    Ok(case)
}

type Parts = (
    NaiveDate,
    Arc<Record>,
    Vec<Arc<Record>>,
    Vec<Request>,
    Vec<(String, serde_json::Value)>,
);

impl Reader<'_> {
    /// A diagnostic at `path`, with the hint its message calls for (a near miss).
    fn error(&self, path: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        let message = message.into();
        let hint = crate::hint::for_message(&message);
        self.source.error(path, message).with_hint(hint)
    }

    fn map<'n>(
        &self,
        node: &'n Node,
        path: &str,
        what: &str,
    ) -> Result<&'n [(String, Node)], Diagnostic> {
        match node {
            Node::Map(entries) => Ok(entries),
            other => Err(self.error(
                path,
                format!("invalid type: {}, expected {what}", other.shown()),
            )),
        }
    }

    fn unknown(&self, path: &str, key: &str, known: &[&str]) -> Diagnostic {
        let listed: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        let at = join(path, key);
        self.error(
            at,
            format!(
                "unknown field `{key}`, expected one of {}",
                listed.join(", ")
            ),
        )
    }

    fn case(&self, document: &Node) -> Result<Parts, Diagnostic> {
        let entries = self.map(document, "", "a case (a mapping)")?;
        let get = |key: &str| entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let known = |k: &str| CASE_FIELDS.contains(&k) || self.owned.contains(&k);
        if let Some((key, _)) = entries.iter().find(|(k, _)| !known(k)) {
            let fields: Vec<&str> = CASE_FIELDS.iter().chain(self.owned).copied().collect();
            return Err(self.unknown("", key, &fields));
        }
        let as_of = match get("as_of") {
            None | Some(Node::Null) => return Err(self.error("", "missing field `as_of`")),
            Some(node) => match self.value(&Kind::Date, node, "as_of", None)? {
                Value::Date(day) => day,
                _ => return Err(self.error("as_of", "expected a date")),
            },
        };
        let empty = Node::Map(Vec::new());
        let customer = match get("customer") {
            None | Some(Node::Null) => &empty,
            Some(node) => node,
        };
        let customer = self.record(
            self.model.customer,
            customer,
            "customer",
            None,
            Standing::Plain,
        )?;
        let contracts = match get("contracts") {
            None | Some(Node::Null) => Vec::new(),
            Some(node) => {
                let items = self.list(
                    node,
                    "contracts",
                    self.limits.max_contracts,
                    "max_contracts",
                    "contracts",
                )?;
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let path = format!("contracts[{i}]");
                        self.record(self.model.contract, item, &path, None, Standing::Listed)
                    })
                    .collect::<Result<_, _>>()?
            }
        };
        let requests = match get("requests") {
            None | Some(Node::Null) => Vec::new(),
            Some(node) => {
                let items = self.list(
                    node,
                    "requests",
                    self.limits.max_requests,
                    "max_requests",
                    "requests",
                )?;
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.request(i, item))
                    .collect::<Result<_, _>>()?
            }
        };
        let owned = entries
            .iter()
            .filter(|(k, v)| self.owned.contains(&k.as_str()) && !matches!(v, Node::Null))
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        Ok((
            as_of,
            Arc::new(customer),
            contracts.into_iter().map(Arc::new).collect(),
            requests,
            owned,
        ))
    }

    fn list<'n>(
        &self,
        node: &'n Node,
        path: &str,
        max: usize,
        limit: &str,
        what: &str,
    ) -> Result<&'n [Node], Diagnostic> {
        match node {
            Node::List(items) if items.len() > max => Err(self.error(
                path,
                format!(
                    "{} {what}; at most {max} are read (limit {limit})",
                    items.len()
                ),
            )),
            Node::List(items) => Ok(items),
            other => Err(self.error(
                path,
                format!("invalid type: {}, expected a sequence", other.shown()),
            )),
        }
    }

    /// A record of type `index` from a mapping, held by `parent`.
    fn record(
        &self,
        index: usize,
        node: &Node,
        path: &str,
        parent: Holder,
        standing: Standing,
    ) -> Result<Record, Diagnostic> {
        let def = &self.model.records[index];
        let entries = self.map(node, path, &format!("a {} (a mapping)", def.shape.name))?;
        let readable: Vec<&str> = def
            .fields
            .iter()
            .filter(|f| f.from_case)
            .map(|f| &*f.name)
            .collect();
        let mut given: Vec<Option<&Node>> = vec![None; def.fields.len()];
        for (key, value) in entries {
            match def
                .fields
                .iter()
                .position(|f| f.from_case && *f.name == **key)
            {
                Some(i) => given[i] = Some(value).filter(|v| **v != Node::Null),
                None => return Err(self.unknown(path, key, &readable)),
            }
        }
        if let (Some(life), Standing::Proposed) = (def.shape.life, standing) {
            for i in [life.start, life.end] {
                if given[i].is_some() {
                    let field = &def.fields[i].name;
                    return Err(self.error(
                        join(path, field),
                        format!(
                            "a new {} has no `{field}` yet: it is formed on the request's date",
                            def.shape.name
                        ),
                    ));
                }
            }
        }
        if let (Some(life), Standing::Listed) = (def.shape.life, standing)
            && given[life.start].is_none()
        {
            let field = &def.fields[life.start].name;
            return Err(self.error(
                join(path, field),
                format!(
                    "missing field `{field}` (the day the {} began)",
                    def.shape.name
                ),
            ));
        }
        let mut values = vec![Value::Null; def.fields.len()];
        let nested = |f: &FieldDef| matches!(f.kind, Kind::Record(_) | Kind::List(_));
        // Scalars first, then what defaults to a sibling, then nested records, which may
        // take a default from this one.
        for (i, field) in def.fields.iter().enumerate() {
            if !nested(field) && !matches!(field.default_from, Some(DefaultFrom::Sibling(_))) {
                values[i] = self.field(field, given[i], path, parent, &values, Some(index))?;
            }
        }
        for (i, field) in def.fields.iter().enumerate() {
            if matches!(field.default_from, Some(DefaultFrom::Sibling(_))) {
                values[i] = self.field(field, given[i], path, parent, &values, Some(index))?;
            }
        }
        for (i, field) in def.fields.iter().enumerate() {
            if nested(field) {
                values[i] = self.field(field, given[i], path, parent, &values, Some(index))?;
            }
        }
        self.order(&def.fields, &values, path)?;
        for (i, field) in def.fields.iter().enumerate() {
            if field.timeline {
                let value = std::mem::take(&mut values[i]);
                values[i] = Value::Timeline(Arc::new(vec![(NaiveDate::MIN, value)]));
            }
        }
        Ok(Record {
            shape: def.shape.clone(),
            values,
            place: None,
        })
    }

    /// `not_before`: a field that may not precede another of the same record.
    fn order(&self, fields: &[FieldDef], values: &[Value], path: &str) -> Result<(), Diagnostic> {
        for (i, field) in fields.iter().enumerate() {
            let Some(earlier) = field.not_before else {
                continue;
            };
            if let Some(std::cmp::Ordering::Less) = values[i].order(&values[earlier])
                && !matches!(values[earlier], Value::Null)
            {
                return Err(self.error(
                    join(path, &field.name),
                    format!(
                        "`{}` ({}) cannot precede `{}` ({})",
                        field.name, values[i], fields[earlier].name, values[earlier]
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A field's value: as given, or its default, or `()` when it may be absent.
    /// `siblings` are the values read so far of the record it belongs to, of type `this`
    /// (`None` for a request).
    fn field(
        &self,
        field: &FieldDef,
        given: Option<&Node>,
        path: &str,
        parent: Holder,
        siblings: &[Value],
        this: Option<usize>,
    ) -> Result<Value, Diagnostic> {
        let at = join(path, &field.name);
        let holder = this.map(|record| (record, siblings));
        if let Some(node) = given {
            return self.value(&field.kind, node, &at, holder);
        }
        match (field.default_from, &field.default) {
            (Some(DefaultFrom::Sibling(i)), _) => return Ok(siblings[i].clone()),
            (Some(DefaultFrom::Parent { record, field: i }), _) => {
                if let Some((held_by, values)) = parent
                    && held_by == record
                {
                    return Ok(values[i].on_day(NaiveDate::MIN));
                }
            }
            (None, Some(default)) => {
                return self.value(&field.kind, &Node::from_json(default), &at, holder);
            }
            (None, None) => {}
        }
        if field.optional || !field.from_case {
            Ok(Value::Null)
        } else {
            let message = format!("missing field `{}`", field.name);
            Err(self
                .source
                .misplaced(path, &field.name, &message)
                .unwrap_or_else(|| self.error(path, message)))
        }
    }

    fn value(
        &self,
        kind: &Kind,
        node: &Node,
        path: &str,
        holder: Holder,
    ) -> Result<Value, Diagnostic> {
        let wrong = |expected: &str| {
            Err(self.error(
                path,
                format!("invalid type: {}, expected {expected}", node.shown()),
            ))
        };
        Ok(match (kind, node) {
            (Kind::Bool, Node::Bool(b)) => Value::Bool(*b),
            (Kind::Bool, _) => return wrong("a boolean"),
            (Kind::Integer, Node::Int(n)) => match i64::try_from(*n) {
                Ok(n) => Value::Int(n),
                Err(_) => return Err(self.error(path, format!("{n} is too large"))),
            },
            (Kind::Integer, Node::Number(text)) => match text.parse::<i64>() {
                Ok(n) => Value::Int(n),
                Err(_) => return wrong("a whole number"),
            },
            (Kind::Integer, _) => return wrong("a whole number"),
            (Kind::Count | Kind::Yen | Kind::Decimal, node) => {
                Value::Decimal(self.decimal(node, path, *kind == Kind::Yen)?)
            }
            (Kind::Text, Node::Text(text)) => Value::text(text),
            (Kind::Text, _) => return wrong("a string"),
            (Kind::Words(words), Node::Text(text)) if words.contains(text) => Value::text(text),
            (Kind::Words(words), Node::Text(text)) => {
                let listed: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
                return Err(self.error(
                    path,
                    format!(
                        "unknown variant `{text}`, expected one of {}",
                        listed.join(", ")
                    ),
                ));
            }
            (Kind::Words(_), _) => return wrong("a string"),
            (Kind::Date, Node::Text(text)) => match calendar::parse_date(text) {
                Some(day) => Value::Date(day),
                None => {
                    return Err(self.error(
                        path,
                        format!(
                            "invalid date `{text}`: expected a real calendar day as YYYY-MM-DD"
                        ),
                    ));
                }
            },
            (Kind::Date, _) => return wrong("a date as YYYY-MM-DD"),
            (Kind::Timestamp, Node::Text(text)) => match calendar::parse_timestamp(text) {
                Some(t) => Value::Timestamp(t),
                None => {
                    return Err(self.error(
                        path,
                        format!("invalid timestamp `{text}`: expected RFC 3339, e.g. YYYY-MM-DDThh:mm:ss+09:00"),
                    ));
                }
            },
            (Kind::Timestamp, _) => return wrong("a timestamp"),
            (Kind::Record(i), node) => Value::Record(Arc::new(self.record(
                *i,
                node,
                path,
                holder,
                Standing::Plain,
            )?)),
            (Kind::List(inner), node) => {
                let items = self.list(
                    node,
                    path,
                    self.limits.max_options,
                    "max_options",
                    "items in one list",
                )?;
                let mut values = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let mut value = self.value(inner, item, &format!("{path}[{i}]"), holder)?;
                    if let Value::Record(record) = &mut value {
                        Arc::make_mut(record).place = Some(i);
                    }
                    values.push(value);
                }
                Value::list(values)
            }
        })
    }

    /// A decimal exactly: from a string, an integer, a JSON number's text, or a YAML
    /// float whose text is its value (`exact_only`: money, where only whole floats are).
    fn decimal(&self, node: &Node, path: &str, exact_only: bool) -> Result<Decimal, Diagnostic> {
        let read = match node {
            Node::Int(n) => Decimal::try_from_i128_with_scale(*n, 0)
                .map_err(|_| format!("{n} is too large to be read exactly")),
            Node::Float(n) if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 => {
                Ok(Decimal::from(*n as i64))
            }
            Node::Float(n) if exact_only => Err(format!(
                "write the yen amount {n} as a string (\"{n}\"): fractional numbers are not read as money"
            )),
            Node::Float(n) => exact_decimal(&n.to_string(), true),
            Node::Number(text) => exact_decimal(text, true),
            Node::Text(text) => exact_decimal(text.trim(), false),
            other => Err(format!(
                "invalid type: {}, expected a decimal number or a string holding one",
                other.shown()
            )),
        };
        read.map_err(|message| self.error(path, message))
    }

    fn request(&self, index: usize, node: &Node) -> Result<Request, Diagnostic> {
        let path = format!("requests[{index}]");
        let entries = self.map(node, &path, "a request (a mapping)")?;
        let names: Vec<&str> = self.model.requests.iter().map(|r| &*r.name).collect();
        let kind = match entries.iter().find(|(k, _)| k == "type").map(|(_, v)| v) {
            None | Some(Node::Null) => return Err(self.error(&path, "missing field `type`")),
            Some(Node::Text(name)) => match names.iter().position(|n| n == name) {
                Some(kind) => kind,
                None => {
                    let listed: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                    return Err(self.error(
                        format!("{path}.type"),
                        format!(
                            "unknown variant `{name}`, expected one of {}",
                            listed.join(", ")
                        ),
                    ));
                }
            },
            Some(other) => {
                return Err(self.error(
                    format!("{path}.type"),
                    format!("invalid type: {}, expected a request type", other.shown()),
                ));
            }
        };
        let def = &self.model.requests[kind];
        let name = &*def.name;
        let takes: Vec<&str> = def
            .fields
            .iter()
            .enumerate()
            .filter(|(i, f)| f.from_case || *i == CONTRACT_FIELD)
            .map(|(_, f)| &*f.name)
            .collect();
        let mut given: Vec<Option<&Node>> = vec![None; def.fields.len()];
        for (key, value) in entries.iter().filter(|(k, _)| k != "type") {
            match def
                .fields
                .iter()
                .enumerate()
                .position(|(i, f)| (f.from_case || i == CONTRACT_FIELD) && *f.name == **key)
            {
                Some(i) => given[i] = Some(value).filter(|v| **v != Node::Null),
                None => {
                    let known: Vec<&str> = takes.clone();
                    return Err(self
                        .error(
                            format!("{path}.{key}"),
                            format!(
                                "unknown field `{key}`: a {name} request takes {}",
                                takes.join(", ")
                            ),
                        )
                        .with_hint(crate::expr::compile::did_you_mean(
                            key,
                            known.iter().copied(),
                        )));
                }
            }
        }
        let missing = |field: &str| {
            let message = format!("missing field `{field}` of a {name} request");
            self.source
                .misplaced(&path, field, &message)
                .unwrap_or_else(|| self.error(&path, message))
        };
        let mut values = vec![Value::Null; def.fields.len()];
        values[TYPE_FIELD] = Value::text(name);
        let contract_path = format!("{path}.contract");
        values[CONTRACT_FIELD] = match (def.contract, given[CONTRACT_FIELD]) {
            (_, None) => return Err(missing("contract")),
            (ContractRefFile::Id, Some(Node::Text(id))) => Value::text(id),
            (ContractRefFile::Id, Some(_)) => {
                return Err(self.error(
                    contract_path,
                    format!("a {name} request names its contract by id"),
                ));
            }
            (ContractRefFile::New, Some(node @ Node::Map(_))) => {
                Value::Record(Arc::new(self.record(
                    self.model.contract,
                    node,
                    &contract_path,
                    None,
                    Standing::Proposed,
                )?))
            }
            (ContractRefFile::New, Some(_)) => {
                return Err(self.error(
                    contract_path,
                    format!("a {name} request gives the whole contract, not an id"),
                ));
            }
        };
        let sibling_default =
            |f: &FieldDef| matches!(f.default_from, Some(DefaultFrom::Sibling(_)));
        for pass in [false, true] {
            for (i, field) in def.fields.iter().enumerate() {
                if i == TYPE_FIELD || i == CONTRACT_FIELD || sibling_default(field) != pass {
                    continue;
                }
                if i == DATE_FIELD && !field.from_case {
                    continue;
                }
                let defaulted = field.default.is_some() || field.default_from.is_some();
                if given[i].is_none() && !defaulted && !field.optional {
                    return Err(missing(&field.name));
                }
                values[i] = self.field(field, given[i], &path, None, &values, None)?;
            }
        }
        self.order(&def.fields, &values, &path)?;
        let day = match &values[def.date_field] {
            Value::Date(day) => *day,
            Value::Timestamp(t) => calendar::jst_date(t),
            _ => return Err(missing(&def.fields[def.date_field].name)),
        };
        values[DATE_FIELD] = Value::Date(day);
        if let Some((from, until)) = def.in_force
            && (day < from || until.is_some_and(|u| u < day))
        {
            let until = until.map_or(String::new(), |u| format!(" through {u}"));
            return Err(self.error(
                format!("{path}.type"),
                format!("dated {day}, but the terms know a {name} request from {from}{until} only"),
            ));
        }
        Ok(Request {
            kind,
            record: Arc::new(Record {
                shape: def.shape.clone(),
                values,
                place: None,
            }),
        })
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// What the model cannot say field by field: keys unique among the contracts listed and
/// proposed, and every id a request names named somewhere in the document. Whether it is
/// in force when the request needs it is for the rules.
fn validate(model: &Model, case: &Case) -> Result<(), Diagnostic> {
    let key = model.contract_def().key.unwrap_or(0);
    let key_name = &model.contract_def().fields[key].name;
    let id_of = |record: &Record| record.key().to_owned();
    let mut ids = HashSet::new();
    for (i, contract) in case.contracts.iter().enumerate() {
        let id = id_of(contract);
        if !ids.insert(id.clone()) {
            return Err(case.source.error(
                format!("contracts[{i}].{key_name}"),
                format!("contract id `{id}` is listed twice"),
            ));
        }
    }
    for (i, request) in case.requests.iter().enumerate() {
        if let Some(proposal) = request.proposal() {
            let id = id_of(proposal);
            if !ids.insert(id.clone()) {
                return Err(case.source.error(
                    format!("requests[{i}].contract.{key_name}"),
                    format!("contract id `{id}` already exists"),
                ));
            }
        }
    }
    for (i, request) in case.requests.iter().enumerate() {
        if request.proposal().is_none() {
            let id = request.contract_id();
            if !ids.contains(id) {
                let mut known: Vec<&str> = ids.iter().map(String::as_str).collect();
                known.sort_unstable();
                let hint =
                    crate::expr::compile::did_you_mean(id, known.iter().copied()).or_else(|| {
                        (!known.is_empty()).then(|| {
                            let listed: Vec<String> =
                                known.iter().map(|k| format!("`{k}`")).collect();
                            format!("the contracts of this case are {}", listed.join(", "))
                        })
                    });
                return Err(case
                    .source
                    .error(
                        format!("requests[{i}].contract"),
                        format!("the case names no contract `{id}`: neither listed nor proposed by a request"),
                    )
                    .with_hint(hint));
            }
        }
    }
    Ok(())
}
