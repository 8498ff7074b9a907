//! The constants of `ruleset.yaml` (`params`), typed as expressions read them, and the
//! declared values' types.

use super::*;

/// Rule-set constants are JSON-like data; text that reads as `YYYY-MM-DD` is a date, and
/// text that looks like a date in another way (`2026/03/31`, `2026-3-31`, `2026-02-30`)
/// is an error where it is written, not a text that fails far away where a rule compares
/// it with a date. `path` is the param's place (`params.NAME[1]`), for the error.
pub(super) fn constant(
    value: &serde_json::Value,
    path: &str,
) -> Result<(Type, Value), (String, String)> {
    Ok(match value {
        serde_json::Value::Null => (Type::Null, Value::Null),
        serde_json::Value::Bool(b) => (Type::Bool, Value::Bool(*b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => (Type::Int, Value::Int(i)),
            None => {
                return Err((
                    path.to_owned(),
                    format!("{n} is not a whole number: write a decimal as text, e.g. \"0.5\""),
                ));
            }
        },
        serde_json::Value::String(text) => match calendar::parse_date(text) {
            Some(day) => (Type::Date, Value::Date(day)),
            None if looks_like_date(text) => {
                return Err((path.to_owned(), not_a_date(text)));
            }
            None => match text.parse::<rust_decimal::Decimal>() {
                Ok(d) if text.contains('.') => (Type::Decimal, Value::Decimal(d)),
                _ => (Type::Text, Value::text(text)),
            },
        },
        serde_json::Value::Array(items) => {
            let mut ty = Type::Nothing;
            let mut values = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let (t, v) = constant(item, &format!("{path}[{i}]"))?;
                ty = ty.join(&t).ok_or_else(|| {
                    (
                        format!("{path}[{i}]"),
                        format!("a list holds one kind of value, not {ty} and {t}"),
                    )
                })?;
                values.push(v);
            }
            (Type::list(ty), Value::list(values))
        }
        serde_json::Value::Object(map) => {
            let mut ty = Type::Nothing;
            let mut values = BTreeMap::new();
            for (key, item) in map {
                let (t, v) = constant(item, &format!("{path}.{key}"))?;
                ty = ty.join(&t).ok_or_else(|| {
                    (
                        format!("{path}.{key}"),
                        format!("a map holds one kind of value, not {ty} and {t} (at `{key}`)"),
                    )
                })?;
                values.insert(key.clone(), v);
            }
            (
                Type::Map(Box::new(ty)),
                Value::Map(std::sync::Arc::new(values)),
            )
        }
    })
}

/// The values by day of a param written `{ dated: { YYYY-MM-DD: value, … } }`, if it is
/// written so.
pub(super) fn dated_values(
    value: &serde_json::Value,
) -> Option<&serde_json::Map<String, serde_json::Value>> {
    match value {
        serde_json::Value::Object(map) if map.len() == 1 => map.get("dated")?.as_object(),
        _ => None,
    }
}

/// A dated param's values, each from its day, oldest first.
pub(super) type ByDay = Vec<(NaiveDate, Value)>;

/// A param's values by date, typed alike: each from a revision's day on, the first from
/// the first revision's, oldest first. `path` is the param's place, for errors.
pub(super) fn dated(
    by_day: &serde_json::Map<String, serde_json::Value>,
    path: &str,
    revisions: &[Revision],
) -> Result<(Type, ByDay), (String, String)> {
    let days: Vec<String> = revisions.iter().map(|r| r.date.to_string()).collect();
    let mut ty = Type::Nothing;
    let mut values = Vec::with_capacity(by_day.len());
    for (day, value) in by_day {
        let at = format!("{path}.dated.{day}");
        let Some(from) =
            calendar::parse_date(day).filter(|d| revisions.iter().any(|r| r.date == *d))
        else {
            return Err((
                at,
                format!(
                    "`{day}` is not a revision's day: a value changes when the terms do ({})",
                    days.join(", ")
                ),
            ));
        };
        let (t, v) = constant(value, &at)?;
        ty = ty.join(&t).ok_or_else(|| {
            (
                at.clone(),
                format!("a param keeps one kind of value on every day, not {ty} and {t}"),
            )
        })?;
        values.push((from, v));
    }
    values.sort_by_key(|(from, _)| *from);
    match (values.first(), revisions.first()) {
        (Some((first, _)), Some(revision)) if *first == revision.date => Ok((ty, values)),
        _ => Err((
            format!("{path}.dated"),
            format!(
                "give the value from the first revision's day ({}) on, then each day it changes",
                days.first().map_or("", String::as_str)
            ),
        )),
    }
}

/// Whether a text param reads as a date written some other way than `YYYY-MM-DD`: four
/// digits, then two groups of one or two digits, separated alike by `-`, `/` or `.`.
pub(super) fn looks_like_date(text: &str) -> bool {
    let Some(separator) = text.chars().find(|c| matches!(c, '-' | '/' | '.')) else {
        return false;
    };
    let groups: Vec<&str> = text.split(separator).collect();
    groups.len() == 3
        && groups[0].len() == 4
        && groups[1..].iter().all(|g| (1..=2).contains(&g.len()))
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
}

/// Why a date-like text is not a date, with the way to write it.
pub(super) fn not_a_date(text: &str) -> String {
    let numbers: Vec<u32> = text
        .split(['-', '/', '.'])
        .filter_map(|g| g.parse().ok())
        .collect();
    match numbers[..] {
        [y, m, d] if NaiveDate::from_ymd_opt(y as i32, m, d).is_some() => format!(
            "`{text}` looks like a date but is not written YYYY-MM-DD, so it would be text: write {y:04}-{m:02}-{d:02}"
        ),
        _ => format!(
            "`{text}` looks like a date but there is no such day: write a real day as YYYY-MM-DD"
        ),
    }
}

/// The type a declared value has in expressions.
pub(super) fn value_type(value: &ValueDef) -> Type {
    let ty = match value.ty {
        ValueType::Date => Type::Date,
        ValueType::Yen => Type::Yen,
        ValueType::Integer => Type::Int,
        ValueType::Decimal => Type::Decimal,
        ValueType::Bool => Type::Bool,
        ValueType::Text => Type::Text,
    };
    if value.optional { Type::maybe(ty) } else { ty }
}
