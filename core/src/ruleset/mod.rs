//! A rule set: the terms' articles as data, compiled and checked.
//!
//! A rule set is a folder holding `ruleset.yaml` and one YAML file per article, appendix
//! and supplementary provision (see `rules/README.md`). Loading type-checks and compiles
//! every expression and fact once, so a broken rule is a load error at its file, line
//! and column, never a surprise during evaluation.

mod context;
pub mod format;
pub mod image;
mod load;
mod number;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;

use crate::calendar;
use crate::case::{Case, CaseLimits};
use crate::error::Diagnostic;
use crate::expr::{Compiled, Type, Value};
use crate::model::Model;
use crate::ruling::{Message, Outcome};
use crate::yaml::{LazyLocator, Syntax};
pub use format::ValueType;
pub use number::Number;

/// Params with values by date: each name's type, and its values as a timeline (the first
/// from the rule set's first revision).
pub type DatedParams = BTreeMap<String, (Type, Value)>;

/// What a rule judges: a request type of the model, or `contract` (each contract, on
/// `as_of`).
pub type Subject = String;
pub(crate) use context::slot;
pub(crate) use load::placeholders;
pub use load::{resolve_dir, source_digest};

/// A loaded, compiled rule set.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct RuleSet {
    /// The rule set's name.
    pub name: String,
    /// The terms' title.
    pub title: Message,
    /// `sha256:` over every rule file's name and text.
    pub digest: String,
    /// Revisions, oldest first.
    pub revisions: Vec<Revision>,
    /// Articles, appendices and supplementary provisions, in evaluation order.
    pub parts: Vec<Part>,
    /// Every rule version, in evaluation order.
    pub rules: Vec<Rule>,
    /// The values rules may compute, in declaration order.
    pub values: Vec<ValueDef>,
    /// Every version of every derived fact; [`Fact::index`] names the fact.
    pub facts: Vec<Fact>,
    /// The rule set's constants (`params.NAME`), typed.
    pub params: BTreeMap<String, (Type, Value)>,
    /// The params with values by date, typed: each value from its day on.
    pub dated: DatedParams,
    /// The words of the terms: records, requests and what accepted requests do.
    pub model: Model,
    /// The values' names, in slot order (what `expect:` may name).
    pub value_names: Vec<String>,
    #[serde(skip)]
    by_subject: HashMap<Subject, Vec<usize>>,
}

/// A value rules compute.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ValueDef {
    /// Its name.
    pub name: String,
    /// How a ruling writes it.
    pub ty: ValueType,
    /// What a rejected request shows instead of the computed amount.
    pub rejected: Option<i64>,
    /// Whether a ruling writes it (a value only messages show is not).
    #[serde(default = "yes")]
    pub shown: bool,
    /// Whether a rule may leave it without a value (declared `date?`): written `null`.
    #[serde(default)]
    pub optional: bool,
}

fn yes() -> bool {
    true
}

/// One version of a derived fact.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Fact {
    /// Its name.
    pub name: String,
    /// Which fact it is a version of (its index among the distinct names).
    pub index: usize,
    /// The citation it rests on.
    pub reference: String,
    /// What it means.
    pub description: Message,
    /// Index of its part in [`RuleSet::parts`].
    pub part: usize,
    /// First day in force (by the day the reading rule judges).
    pub from: Option<NaiveDate>,
    /// Last day in force.
    pub until: Option<NaiveDate>,
    /// Its parameters.
    pub params: Vec<(String, Type)>,
    /// Its type.
    pub ty: Type,
    /// The expression.
    pub value: Expression,
}

impl Fact {
    /// Whether this version is in force on `day`.
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|from| from <= day) && self.until.is_none_or(|until| day <= until)
    }
}

/// One revision of the terms.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Revision {
    /// The day it took effect.
    pub date: NaiveDate,
    /// Its name.
    pub title: Message,
    /// Its text is reconstructed rather than published.
    pub reconstructed: bool,
}

/// Which part of the terms a file encodes. Orders as the terms do: articles, then
/// appendices, then supplementary provisions.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum PartLabel {
    /// 第N条, 第N条の2.
    Article(Number),
    /// 別紙N.
    Appendix(u32),
    /// 附則 of the revision of that day.
    Supplementary(NaiveDate),
}

/// An article, appendix or supplementary provision.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Part {
    /// The file that defines it.
    pub file: String,
    /// Which part it is.
    pub label: PartLabel,
    /// Its title.
    pub title: Message,
    /// Its text, one entry per paragraph.
    pub paragraphs: Vec<String>,
    /// Each paragraph's number, as the terms number it (`3の2` for one inserted).
    pub numbers: Vec<Number>,
    /// Each paragraph's texts by revision, oldest first, where a revision changed it: the
    /// text from each day on (`None`: deleted from that day; before the first day, the
    /// paragraph did not exist). Empty for a paragraph of one text; `paragraphs` holds the
    /// latest text of each.
    #[serde(default)]
    pub versions: Vec<Vec<(NaiveDate, Option<String>)>>,
    /// Its file's text and field positions, which its expressions share.
    #[serde(with = "crate::yaml::locator_text")]
    pub(crate) locator: Arc<LazyLocator>,
}

/// One version of a rule.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Rule {
    /// The id its versions share.
    pub id: String,
    /// Machine citation, e.g. `"4.3"`.
    pub reference: String,
    /// Japanese citation, e.g. `第4条第3項`.
    pub cite: String,
    /// Index of its part in [`RuleSet::parts`].
    pub part: usize,
    /// First day in force.
    pub from: NaiveDate,
    /// Last day in force, if ended.
    pub until: Option<NaiveDate>,
    /// Reconstructed rather than read from a published text.
    pub reconstructed: bool,
    /// What it judges.
    pub applies_to: Vec<Subject>,
    /// Judged on the settled timeline, once every request is decided.
    pub settled: bool,
    /// When it applies.
    pub when: Option<Expression>,
    /// What it computes, in order, by value slot.
    pub values: Vec<(usize, Expression)>,
    /// What must hold.
    pub require: Option<Expression>,
    /// The outcome of its finding.
    pub outcome: Option<Outcome>,
    /// The message of its finding.
    pub message: Option<Message>,
}

/// A compiled expression with its source text and place.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Expression {
    /// The text as written in the rule file.
    pub source: String,
    /// The field path in its file (`rules[3].require`).
    pub path: String,
    pub(crate) compiled: Compiled,
    /// Where its text starts in the file, to place run-time errors: its part's file,
    /// set again from [`Part::locator`] when a compiled rule set is read back.
    #[serde(skip)]
    pub(crate) file: Arc<LazyLocator>,
}

impl Expression {
    /// `line:column` in its file of a position inside the expression.
    pub fn place(&self, pos: crate::expr::Pos) -> String {
        let at = self.position(pos);
        format!("{}:{}", at.line, at.column)
    }

    /// The line and column in its file of a position inside the expression.
    pub fn position(&self, pos: crate::expr::Pos) -> crate::error::Position {
        match self.file.get().start(&self.path) {
            Some(start) => start.inside(pos.line as usize, pos.column as usize),
            None => crate::error::Position {
                line: pos.line as usize,
                column: pos.column as usize,
            },
        }
    }
}

impl Rule {
    /// Whether this version is in force on `day`.
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.from <= day && self.until.is_none_or(|until| day <= until)
    }
}

impl RuleSet {
    /// The latest revision in force on `day`.
    pub fn revision_on(&self, day: NaiveDate) -> Option<&Revision> {
        self.revisions.iter().rev().find(|r| r.date <= day)
    }

    /// The rule versions that judge `subject` on `day`, in evaluation order, with their
    /// index in [`RuleSet::rules`].
    pub fn rules_for(&self, subject: &str, day: NaiveDate) -> impl Iterator<Item = (usize, &Rule)> {
        self.by_subject
            .get(subject)
            .into_iter()
            .flatten()
            .map(|&i| (i, &self.rules[i]))
            .filter(move |(_, rule)| rule.in_force_on(day))
    }

    /// Keeps only the rules `keep` accepts: a what-if rule set, e.g. to see which rulings
    /// depend on one rule.
    pub fn retain_rules(&mut self, keep: impl Fn(&Rule) -> bool) {
        self.rules.retain(|rule| keep(rule));
        self.by_subject.clear();
        for (i, rule) in self.rules.iter().enumerate() {
            for subject in &rule.applies_to {
                self.by_subject.entry(subject.clone()).or_default().push(i);
            }
        }
    }

    /// The value called `name`, by slot.
    pub fn value_slot(&self, name: &str) -> Option<usize> {
        self.values.iter().position(|v| v.name == name)
    }

    /// A param as a message shows it (`{params.NAME}`, or one entry of a map param,
    /// `{params.NAME.KEY}`), a dated one on `day`; `None` for no such param or entry.
    pub fn param_shown(&self, placeholder: &str, day: NaiveDate) -> Option<String> {
        let (name, key) = match placeholder.split_once('.') {
            Some((name, key)) => (name, Some(key)),
            None => (placeholder, None),
        };
        let value = match self.dated.get(name) {
            Some((_, timeline)) => timeline.on_day_ref(day),
            None => &self.params.get(name)?.1,
        };
        match (key, value) {
            (None, value) => Some(value.to_string()),
            (Some(key), Value::Map(map)) => map.get(key).map(ToString::to_string),
            (Some(_), _) => None,
        }
    }

    /// The part a rule belongs to.
    pub fn part_of(&self, rule: &Rule) -> &Part {
        &self.parts[rule.part]
    }

    /// The text of the paragraph a rule cites (the whole part for a one-paragraph cite),
    /// as it read on the first day of the rule's version: a finding under the rules before
    /// a revision quotes the words before it.
    pub fn cited_text(&self, rule: &Rule) -> &str {
        let part = self.part_of(rule);
        let index = part.paragraph_cited(&rule.reference).unwrap_or(0);
        part.text_on(index, rule.from).unwrap_or("")
    }
}

impl Part {
    /// The place in [`Part::paragraphs`] of the paragraph `reference` cites (`"9.2.2"` →
    /// the one numbered 2), if it cites one this part has.
    pub fn paragraph_cited(&self, reference: &str) -> Option<usize> {
        let number = paragraph_of(reference)?;
        self.numbers.iter().position(|n| *n == number)
    }

    /// The paragraphs as `paragraphs:` gives them: their latest texts, their numbers (each
    /// the one after the one before, unless it names its own), and their texts by revision
    /// (see [`Part::versions`]); `Err((index, why))` at the first that is wrong.
    pub fn number_paragraphs(
        paragraphs: &[format::ParagraphFile],
    ) -> Result<Numbered, (usize, String)> {
        let mut numbered = Numbered::default();
        for (i, paragraph) in paragraphs.iter().enumerate() {
            let next = Number::plain(numbered.numbers.last().map_or(1, |n| n.main() + 1));
            let (number, text, versions) = match paragraph {
                format::ParagraphFile::Text(text) => (next, text.clone(), Vec::new()),
                format::ParagraphFile::Entry(entry) => {
                    let versions = match (&entry.text, &entry.dated) {
                        (Some(_), None) => Vec::new(),
                        (None, Some(dated)) if !dated.is_empty() => {
                            let mut versions = Vec::new();
                            for (day, text) in dated {
                                let day = calendar::parse_date(day).ok_or_else(|| {
                                    (i, format!("`{day}` is not a YYYY-MM-DD date"))
                                })?;
                                versions.push((day, text.clone()));
                            }
                            versions.sort_by_key(|(day, _)| *day);
                            versions
                        }
                        _ => {
                            return Err((
                                i,
                                "give the paragraph's `text`, or its texts by revision under `dated`"
                                    .to_owned(),
                            ));
                        }
                    };
                    let latest = entry.text.clone().unwrap_or_else(|| {
                        versions
                            .iter()
                            .rev()
                            .find_map(|(_, text)| text.clone())
                            .unwrap_or_default()
                    });
                    (entry.number.unwrap_or(next), latest, versions)
                }
            };
            if numbered
                .numbers
                .last()
                .is_some_and(|before| *before >= number)
            {
                return Err((
                    i,
                    "this paragraph's number does not come after the one before it".to_owned(),
                ));
            }
            numbered.numbers.push(number);
            numbered.texts.push(text);
            numbered.versions.push(versions);
        }
        Ok(numbered)
    }

    /// The text of paragraph `index` on `day`: its version in force then, `None` if it
    /// did not exist (or was deleted) on that day.
    pub fn text_on(&self, index: usize, day: NaiveDate) -> Option<&str> {
        let versions = self.versions.get(index).filter(|v| !v.is_empty());
        match versions {
            None => self.paragraphs.get(index).map(String::as_str),
            Some(versions) => calendar::version_on(versions, day)?.as_deref(),
        }
    }

    /// The days a revision changed this part's text on, oldest first.
    pub fn text_changes(&self) -> Vec<NaiveDate> {
        let mut days: Vec<NaiveDate> = self
            .versions
            .iter()
            .flatten()
            .map(|(day, _)| *day)
            .collect();
        days.sort();
        days.dedup();
        days
    }
}

/// A part's paragraphs as read from its file (see [`Part::number_paragraphs`]).
#[derive(Debug, Default)]
pub struct Numbered {
    /// Each paragraph's latest text.
    pub texts: Vec<String>,
    /// Each paragraph's number.
    pub numbers: Vec<Number>,
    /// Each paragraph's texts by revision (empty for one text).
    pub versions: Vec<Vec<(NaiveDate, Option<String>)>>,
}

/// The paragraph number a citation names (`"9.2.2"` → 2, `"8の2.3の2"` → 3の2, `"5"` →
/// none).
fn paragraph_of(reference: &str) -> Option<Number> {
    let rest = match reference.strip_prefix("suppl.") {
        Some(rest) => rest.split_once('.').map(|(_, paragraph)| paragraph)?,
        None => reference.split_once('.').map(|(_, rest)| rest)?,
    };
    Number::parse(rest.split('.').next()?)
}

/// Parses a citation into its part and the Japanese citation, if it is well formed.
fn parse_reference(reference: &str) -> Option<(PartLabel, String)> {
    if let Some(number) = reference.strip_prefix("appx") {
        let number: u32 = number.parse().ok()?;
        return Some((PartLabel::Appendix(number), format!("別紙{number}")));
    }
    if let Some(rest) = reference.strip_prefix("suppl.") {
        let (day, paragraph) = match rest.split_once('.') {
            Some((day, paragraph)) => (day, Some(Number::parse(paragraph)?)),
            None => (rest, None),
        };
        let day = calendar::parse_date(day)?;
        let (era, year) = calendar::japanese_era(day);
        use chrono::Datelike;
        let mut cite = format!("附則({era}{year}年{}月{}日)", day.month(), day.day());
        if let Some(paragraph) = paragraph {
            cite.push_str(&paragraph.cite("項"));
        }
        return Some((PartLabel::Supplementary(day), cite));
    }
    let mut numbers = reference.split('.').map(Number::parse);
    let article = numbers.next()??;
    let paragraph = numbers.next().map(|n| n.ok_or(())).transpose().ok()?;
    let item = numbers.next().map(|n| n.ok_or(())).transpose().ok()?;
    if numbers.next().is_some() {
        return None;
    }
    let mut cite = article.cite("条");
    if let Some(paragraph) = paragraph {
        cite.push_str(&paragraph.cite("項"));
    }
    if let Some(item) = item {
        cite.push_str(&item.cite("号"));
    }
    Some((PartLabel::Article(article), cite))
}

// Beside the rule set whose model a case is read against (the reader itself is
// `model::read`, beside the case).
impl Case {
    /// Reads a case from YAML or JSON text within the default [`CaseLimits`], against the
    /// model of `rules`; `file` names it in errors.
    pub fn from_str(rules: &RuleSet, text: &str, file: Option<&str>) -> Result<Case, Diagnostic> {
        Case::from_str_with(rules, text, file, &CaseLimits::default())
    }

    /// Reads a case from YAML or JSON text, refusing one past `limits`.
    pub fn from_str_with(
        rules: &RuleSet,
        text: &str,
        file: Option<&str>,
        limits: &CaseLimits,
    ) -> Result<Case, Diagnostic> {
        Case::read(&rules.model, text, file, Syntax::detect(file, text), limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_read_as_the_terms_cite() {
        let cite = |r: &str| parse_reference(r).map(|(_, cite)| cite);
        assert_eq!(cite("4.3").as_deref(), Some("第4条第3項"));
        assert_eq!(cite("9.2.2").as_deref(), Some("第9条第2項第2号"));
        assert_eq!(cite("5").as_deref(), Some("第5条"));
        assert_eq!(cite("appx2").as_deref(), Some("別紙2"));
        assert_eq!(
            cite("suppl.2026-04-01.2").as_deref(),
            Some("附則(令和8年4月1日)第2項")
        );
        assert_eq!(cite("8の2.1").as_deref(), Some("第8条の2第1項"));
        assert_eq!(
            cite("6.3の2.2の2").as_deref(),
            Some("第6条第3項の2第2号の2")
        );
        assert_eq!(cite("8-2.1"), None);
        assert_eq!(cite("4.x"), None);
        assert_eq!(cite("suppl.2026-02-30.2"), None);
    }

    #[test]
    fn paragraphs_of_citations() {
        let n = |text| Number::parse(text);
        assert_eq!(paragraph_of("9.2.2"), n("2"));
        assert_eq!(paragraph_of("8の2.3の2"), n("3の2"));
        assert_eq!(paragraph_of("5"), None);
        assert_eq!(paragraph_of("suppl.2026-04-01.2"), n("2"));
        assert_eq!(paragraph_of("appx2"), None);
    }

    #[test]
    fn paragraphs_are_numbered_after_the_one_before_unless_they_say() {
        use format::{ParagraphEntry, ParagraphFile};
        let text = |t: &str| ParagraphFile::Text(t.to_owned());
        let numbered = |n: &str, t: &str| {
            ParagraphFile::Entry(ParagraphEntry {
                number: Number::parse(n),
                text: Some(t.to_owned()),
                dated: None,
            })
        };
        let read = Part::number_paragraphs(&[
            text("1"),
            text("2"),
            text("3"),
            numbered("3の2", "inserted"),
            text("4"),
        ])
        .expect("in order");
        let shown: Vec<String> = read.numbers.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["1", "2", "3", "3の2", "4"]);
        // A number that does not come after the one before is refused, at its place.
        let refused = Part::number_paragraphs(&[text("1"), text("2"), numbered("2", "again")]);
        assert_eq!(refused.map(|_| ()).map_err(|(at, _)| at), Err(2));
    }
}
