//! Serde readers for the dates of rule files, and the exact decimal reading the case
//! reader (`crate::model::read`) shares. Money never passes through floating point.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::calendar;

/// A `YYYY-MM-DD` date that exists on the calendar.
pub fn date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    let text = String::deserialize(deserializer)?;
    calendar::parse_date(&text).ok_or_else(|| {
        de::Error::custom(format!(
            "invalid date `{text}`: expected a real calendar day as YYYY-MM-DD"
        ))
    })
}

/// An optional date; `null` or absent is `None`.
pub fn optional_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<NaiveDate>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) => calendar::parse_date(&text).map(Some).ok_or_else(|| {
            de::Error::custom(format!(
                "invalid date `{text}`: expected a real calendar day as YYYY-MM-DD"
            ))
        }),
    }
}

/// Reads `text` as a decimal exactly, or says why it cannot. A string is plain
/// (`-12.50`); a number's text may also carry an exponent (`1e2`). Underscores,
/// `rust_decimal`'s other spellings, and anything needing more than its 28 significant
/// digits are refused rather than rounded.
pub(crate) fn exact_decimal(text: &str, number: bool) -> Result<Decimal, String> {
    let refuse = |why: &str| Err(format!("`{text}` is not a decimal number{why}"));
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) if number => (&text[..at], Some(&text[at + 1..])),
        _ => (text, None),
    };
    let unsigned = mantissa.strip_prefix(['-', '+']).unwrap_or(mantissa);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || unsigned.ends_with('.') {
        return refuse("");
    }
    let negative = mantissa.starts_with('-');
    // An exponent moves the point; past what a Decimal holds it cannot be exact.
    let shift: i64 = match exponent {
        None => 0,
        Some(e) => match e.parse::<i64>() {
            Ok(e) if e.abs() <= 64 => e,
            _ => return refuse(": its exponent is out of range"),
        },
    };
    let mut all: String = format!("{whole}{fraction}");
    let mut point = whole.len() as i64 + shift;
    if point < 0 {
        all.insert_str(0, &"0".repeat(point.unsigned_abs() as usize));
        point = 0;
    }
    while (all.len() as i64) < point {
        all.push('0');
    }
    let (int_part, frac_part) = all.split_at(point as usize);
    let int_part = int_part.trim_start_matches('0');
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let sign = if negative { "-" } else { "" };
    let write = |fraction: &str| match fraction {
        "" => format!("{sign}{int_part}"),
        _ => format!("{sign}{int_part}.{fraction}"),
    };
    // As written (`300.50` keeps its scale); failing that, without the trailing zeros of
    // the fraction, which change no value but may exceed the 28 digits of scale.
    match Decimal::from_str_exact(&write(frac_part))
        .or_else(|_| Decimal::from_str_exact(&write(frac_part.trim_end_matches('0'))))
    {
        Ok(value) => Ok(value),
        Err(_) => refuse(": it has more significant digits than can be read exactly (28)"),
    }
}

// The JSON Schemas of what these readers accept (`schemars(schema_with = …)`).

/// A `YYYY-MM-DD` date.
pub(crate) fn date_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "pattern": r"^\d{4}-\d{2}-\d{2}$",
        "description": "A calendar day, YYYY-MM-DD (a day that exists: not 2026-02-30)."
    })
}

/// A date or `null`.
pub(crate) fn optional_date_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["string", "null"],
        "pattern": r"^\d{4}-\d{2}-\d{2}$",
        "description": "A calendar day, YYYY-MM-DD, or null for none."
    })
}
