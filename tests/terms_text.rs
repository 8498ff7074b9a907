//! The rule files carry the published text of the terms, word for word
//! (`rules/iij-secure-access/terms.txt` is the published document, as the seed gives it).
//!
//! Compared line by line after normalising: spaces of any width, tabs and the `|` that
//! separates table cells in the rule files are dropped, and so is the Markdown of the
//! published document (`#` headings, `**` emphasis, `- ` list marks). A paragraph number
//! (`2 …`) may be left out, since the rule files hold paragraphs as a list. Both ways must
//! hold: every line of the document is in the rule files (no sentence, table row or cell
//! lost), and every line of the rule files is in the document (nothing retyped or added).

use std::collections::BTreeSet;
use std::path::Path;

use yakkan::RuleSet;
use yakkan::ruleset::PartLabel;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '|')
        .collect()
}

/// A line of the published document without its Markdown.
fn unmarked(line: &str) -> &str {
    let line = line.trim().trim_start_matches('#').trim();
    let line = line
        .strip_prefix("**")
        .and_then(|l| l.strip_suffix("**"))
        .unwrap_or(line);
    line.strip_prefix("- ").unwrap_or(line)
}

/// The line without a leading paragraph number (`2 一の種類の…`), if it has one.
fn without_number(line: &str) -> Option<&str> {
    let (number, rest) = line.split_once(' ')?;
    (!number.is_empty() && number.chars().all(|c| c.is_ascii_digit())).then_some(rest)
}

struct Terms {
    /// Each line of the published document, normalised, in order.
    lines: Vec<String>,
    /// The same, and each without its paragraph number.
    accepted: BTreeSet<String>,
}

fn published() -> Terms {
    let text = std::fs::read_to_string(root().join("rules/iij-secure-access/terms.txt"))
        .expect("the published text is kept beside the rules");
    let mut lines = Vec::new();
    let mut accepted = BTreeSet::new();
    for line in text.lines().map(unmarked).filter(|l| !l.is_empty()) {
        lines.push(line.to_owned());
        accepted.insert(normalise(line));
        if let Some(rest) = without_number(line) {
            accepted.insert(normalise(rest));
        }
    }
    Terms { lines, accepted }
}

/// Every line the rule files hold, normalised, with where it comes from; the headings the
/// titles make (`第1条(種類)`, `別紙1…`, `附則`, the revision's heading); and the front
/// matter of the rule set (its title and `source`).
struct Encoded {
    lines: Vec<(String, String)>,
    headings: BTreeSet<String>,
    front: String,
}

fn encoded() -> Encoded {
    let rules = RuleSet::load(&root().join("rules")).expect("the bundled rules load");
    let mut lines = Vec::new();
    let mut headings = BTreeSet::new();
    for part in &rules.parts {
        let title = &part.title.ja;
        match part.label {
            PartLabel::Article(n) => {
                headings.insert(normalise(&format!("第{n}条({title})")));
            }
            PartLabel::Appendix(n) => {
                headings.insert(normalise(&format!("別紙{n}{title}")));
            }
            PartLabel::Supplementary(_) => {
                let heading = title.strip_prefix("附則").unwrap_or(title);
                headings.insert("附則".to_owned());
                headings.insert(normalise(heading));
            }
        }
        for (p, paragraph) in part.paragraphs.iter().enumerate() {
            for line in paragraph.lines().filter(|l| !l.trim().is_empty()) {
                let file = Path::new(&part.file);
                let file = file.strip_prefix(root()).unwrap_or(file).display();
                lines.push((format!("{file} ¶{}", p + 1), line.to_owned()));
            }
        }
    }
    let ruleset = std::fs::read_to_string(root().join("rules/iij-secure-access/ruleset.yaml"))
        .expect("ruleset.yaml");
    let ruleset: serde_yaml::Value = serde_yaml::from_str(&ruleset).expect("ruleset.yaml parses");
    let field = |v: &serde_yaml::Value| v.as_str().unwrap_or_default().to_owned();
    let front = normalise(&format!(
        "{}{}",
        field(&ruleset["title"]["ja"]),
        field(&ruleset["source"])
    ));
    Encoded {
        lines,
        headings,
        front,
    }
}

#[test]
fn every_line_of_the_published_text_is_in_the_rule_files() {
    let terms = published();
    let encoded = encoded();
    let held: BTreeSet<String> = encoded.lines.iter().map(|(_, l)| normalise(l)).collect();
    let missing: Vec<&String> = terms
        .lines
        .iter()
        .filter(|line| {
            let whole = normalise(line);
            let found = held.contains(&whole)
                || without_number(line).is_some_and(|rest| held.contains(&normalise(rest)))
                || encoded.headings.contains(&whole)
                || encoded.front.contains(&whole);
            !found
        })
        .collect();
    assert!(
        terms.lines.len() > 100,
        "the published text has {} lines",
        terms.lines.len()
    );
    assert!(
        missing.is_empty(),
        "{} lines of terms.txt are not in the rule files:\n{}",
        missing.len(),
        missing
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn every_line_of_the_rule_files_is_in_the_published_text() {
    let terms = published();
    let encoded = encoded();
    let extra: Vec<String> = encoded
        .lines
        .iter()
        .filter(|(_, line)| !terms.accepted.contains(&normalise(line)))
        .map(|(place, line)| format!("{place}: {line}"))
        .collect();
    let headings: Vec<&String> = encoded
        .headings
        .iter()
        .filter(|h| !terms.accepted.contains(*h))
        .collect();
    assert!(
        extra.is_empty() && headings.is_empty(),
        "not in terms.txt:\n{}\ntitles: {headings:?}",
        extra.join("\n")
    );
}

/// The normalising itself: it must not make different texts equal beyond spacing.
#[test]
fn normalising_drops_only_spacing_markup_and_cell_separators() {
    assert_eq!(normalise("第 1 条\t(種類)"), "第1条(種類)");
    assert_eq!(normalise("種類 | 内容"), normalise("種類\t内容"));
    assert_ne!(normalise("といいます。))"), normalise("といいます。)"));
    assert_eq!(
        unmarked("#### **第 11 条(解除の効力が生ずる日)**"),
        "第 11 条(解除の効力が生ずる日)"
    );
    assert_eq!(unmarked("- (1) 契約アカウント数"), "(1) 契約アカウント数");
    assert_eq!(without_number("2 一の種類の"), Some("一の種類の"));
    assert_eq!(without_number("(1) 基本サービス"), None);
}
