//! Serde readers for the field types of cases and rule files: dates, timestamps, yen
//! amounts and counts. Money never passes through floating point.

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::calendar;
use crate::calendar::Timestamp;

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

/// An RFC 3339 timestamp; without offset it is Japan time.
pub fn timestamp<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
    let text = String::deserialize(deserializer)?;
    calendar::parse_timestamp(&text).ok_or_else(|| {
        de::Error::custom(format!(
            "invalid timestamp `{text}`: expected RFC 3339, e.g. YYYY-MM-DDThh:mm:ss+09:00"
        ))
    })
}

/// Reads a decimal from a string or a number. `exact_only` refuses non-integer numbers,
/// which YAML and JSON readers hand over as floats: money never passes through `f64`.
struct DecimalVisitor {
    exact_only: bool,
}

/// The key serde_json's `arbitrary_precision` wraps a number's text in.
const JSON_NUMBER: &str = "$serde_json::private::Number";

impl<'de> Visitor<'de> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal number or a string holding one")
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(n))
    }

    fn visit_i128<E: de::Error>(self, n: i128) -> Result<Decimal, E> {
        Decimal::try_from_i128_with_scale(n, 0)
            .map_err(|_| E::custom(format!("{n} is too large to be read exactly")))
    }

    fn visit_u128<E: de::Error>(self, n: u128) -> Result<Decimal, E> {
        i128::try_from(n)
            .map_err(|_| E::custom(format!("{n} is too large to be read exactly")))
            .and_then(|n| self.visit_i128(n))
    }

    /// Only YAML hands over floats, and the YAML reader has already refused every float
    /// whose shortest text is not the number written (`49.99999999999999999`), so the
    /// float here is exactly what the document says.
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Decimal, E> {
        // A float with no fraction below 2^53 is an exact integer: `20000.0` is 20000.
        if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
            return Ok(Decimal::from(n as i64));
        }
        if self.exact_only {
            return Err(E::custom(format!(
                "write the yen amount {n} as a string (\"{n}\"): fractional numbers are not read as money"
            )));
        }
        // Not money: the shortest text that round-trips is what was written.
        exact_decimal(&n.to_string(), true).map_err(E::custom)
    }

    /// JSON numbers arrive as their exact text (serde_json's `arbitrary_precision`), so a
    /// JSON `300.5` is read as the decimal 300.5 without passing through a float.
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Decimal, A::Error> {
        match map.next_key::<String>()? {
            Some(key) if key == JSON_NUMBER => {
                let text: String = map.next_value()?;
                exact_decimal(&text, true).map_err(de::Error::custom)
            }
            _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
        }
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Decimal, E> {
        exact_decimal(text.trim(), false).map_err(E::custom)
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

/// A yen amount: a decimal string, an integer, or a JSON number (read from its text). A
/// fractional YAML number, which arrives as a float, is refused.
pub fn yen<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    deserializer.deserialize_any(DecimalVisitor { exact_only: true })
}

/// A count such as accounts: any number or decimal string, checked later by the rules.
pub fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    deserializer.deserialize_any(DecimalVisitor { exact_only: false })
}

/// An optional timestamp.
pub fn optional_timestamp<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Timestamp>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "timestamp")] Timestamp);
    Option::<Wrapped>::deserialize(deserializer).map(|w| w.map(|Wrapped(t)| t))
}

/// An optional count.
pub fn optional_count<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Decimal>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "count")] Decimal);
    Option::<Wrapped>::deserialize(deserializer).map(|w| w.map(|Wrapped(n)| n))
}
