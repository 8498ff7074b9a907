//! Numbers as the terms number their articles, paragraphs and items: `8`, and `8の2` for
//! one a revision inserted after 8 without renumbering the rest (枝番), up to `8の2の3`.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An article, paragraph or item number: the main number, then up to two branch numbers
/// (0 where there is none). Orders as the terms do: 8 < 8の2 < 8の2の1 < 8の3 < 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Number([u32; 3]);

impl Number {
    /// A plain number, without branches.
    pub fn plain(main: u32) -> Number {
        Number([main, 0, 0])
    }

    /// Reads `8`, `8の2` or `8の2の3` (every part from 1, without leading zeros).
    pub fn parse(text: &str) -> Option<Number> {
        let mut parts = [0u32; 3];
        for (count, part) in text.split('の').enumerate() {
            let valid = !part.is_empty()
                && !part.starts_with('0')
                && part.bytes().all(|b| b.is_ascii_digit());
            if !valid || count == parts.len() {
                return None;
            }
            parts[count] = part.parse().ok()?;
        }
        Some(Number(parts))
    }

    /// The main number: 8 of `8の2`.
    pub fn main(self) -> u32 {
        self.0[0]
    }

    /// Cited with its unit as the terms cite it: 第8条の2, 第3項の2, 第2号.
    pub fn cite(self, unit: &str) -> String {
        let mut cite = format!("第{}{unit}", self.0[0]);
        for branch in self.0[1..].iter().take_while(|&&b| b > 0) {
            cite.push_str(&format!("の{branch}"));
        }
        cite
    }
}

impl fmt::Display for Number {
    /// `8`, `8の2`: as written in a citation (`ref: "8の2.1"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0[0])?;
        for branch in self.0[1..].iter().take_while(|&&b| b > 0) {
            write!(f, "の{branch}")?;
        }
        Ok(())
    }
}

/// A number as a rule file writes it: `8`, or `"8の2"`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Written {
    /// A plain number.
    Plain(u32),
    /// A number with branches, as text: `"8の2"`.
    Branched(#[schemars(pattern(r"^[1-9][0-9]*(の[1-9][0-9]*){0,2}$"))] String),
}

impl TryFrom<Written> for Number {
    type Error = String;

    fn try_from(written: Written) -> Result<Number, String> {
        match written {
            Written::Plain(0) => Err("numbers start at 1".to_owned()),
            Written::Plain(n) => Ok(Number::plain(n)),
            Written::Branched(text) => Number::parse(&text).ok_or_else(|| {
                format!("`{text}` is not a number like 8 or \"8の2\" (枝番: up to \"8の2の3\")")
            }),
        }
    }
}

/// Reads an optional number written as [`Written`] (serde's `deserialize_with`).
pub(crate) fn optional<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Number>, D::Error> {
    Option::<Written>::deserialize(deserializer)?
        .map(Number::try_from)
        .transpose()
        .map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::Number;

    #[test]
    fn branch_numbers_read_order_and_cite_as_the_terms_do() {
        let n = |text: &str| Number::parse(text).expect(text);
        assert!(n("8") < n("8の2") && n("8の2") < n("8の2の1") && n("8の2の1") < n("8の3"));
        assert!(n("8の3") < n("9") && n("9") < n("10"));
        assert_eq!(n("8の2").cite("条"), "第8条の2");
        assert_eq!(n("3の2").cite("項"), "第3項の2");
        assert_eq!(n("12").cite("号"), "第12号");
        assert_eq!(n("8の2の3").to_string(), "8の2の3");
        for bad in [
            "",
            "0",
            "08",
            "8の",
            "の2",
            "8の0",
            "8の2の3の4",
            "8-2",
            "八",
        ] {
            assert_eq!(Number::parse(bad), None, "{bad}");
        }
    }
}
