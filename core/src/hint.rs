//! Hints for the legal team: what a YAML or serde error usually means in a rule or case
//! file, and how to fix it, in plain words. Each hint is chosen from the parser's own
//! message (the mapping below); the message itself is kept for engineers.

/// A hint for a parser or reader message, if one of the common mistakes explains it.
pub fn for_message(message: &str) -> Option<String> {
    let has = |needle: &str| message.contains(needle);
    if has("mapping values are not allowed") {
        return Some(
            "the text on this line contains a colon followed by a space (\": \"), which YAML \
             reads as the start of a new field: quote the text, e.g. en: 'Note: …' (write a \
             ' inside the text as ''), or put it on the next lines after \"|\""
                .to_owned(),
        );
    }
    if has("found a tab character") || has("found character that cannot start any token") {
        return Some(
            "indent with spaces, never tabs; and if the text starts with a character such as \
             @, ` or %, quote it"
                .to_owned(),
        );
    }
    if has("did not find expected key")
        || has("did not find expected '-' indicator")
        || has("block sequence entries are not allowed")
        || has("did not find expected <document start>")
    {
        return Some(
            "check the indentation: fields of one entry start in the same column, a field \
             inside another is indented two more spaces, and list entries (\"- \") line up"
                .to_owned(),
        );
    }
    if has("while scanning a quoted scalar") || has("found unexpected end of stream") {
        return Some(
            "a quotation mark is not closed: each text that opens with ' or \" must close with \
             the same mark on the same text"
                .to_owned(),
        );
    }
    if has("duplicate entry") || has("duplicate field") {
        return Some("the same field is written twice in one entry: keep one of them".to_owned());
    }
    if let Some(name) = quoted_after(message, "unknown field `") {
        let allowed = expected_names(message);
        return Some(match closest(&name, &allowed) {
            Some(near) => format!("did you mean `{near}`? (field names are exact, in lower case)"),
            None if allowed.is_empty() => format!("`{name}` is not a field here: remove it"),
            None => format!(
                "`{name}` is not a field here; the fields allowed are {}",
                list(&allowed)
            ),
        });
    }
    if let Some(name) = quoted_after(message, "unknown variant `") {
        let allowed = expected_names(message);
        return Some(match closest(&name, &allowed) {
            Some(near) => format!("did you mean `{near}`? (write it exactly as shown)"),
            None => format!("write one of {}", list(&allowed)),
        });
    }
    if has("missing field `") && has("is written here") {
        // The message says where the field is and how to move it.
        return None;
    }
    if let Some(name) = quoted_after(message, "missing field `") {
        return Some(format!(
            "add the field `{name}:` to this entry, at the same indentation as its other fields"
        ));
    }
    if has("invalid type") && has("expected a boolean") {
        return Some("write true or false, without quotes".to_owned());
    }
    if has("invalid type") && has("expected a sequence") {
        return Some(
            "this field takes a list: write each entry on its own line starting with \"- \", \
             or [first, second] on one line"
                .to_owned(),
        );
    }
    if has("invalid type") && (has("expected struct") || has("expected a map")) {
        return Some(
            "this field takes named fields beneath it (name: value, one per line, indented), \
             not a single value"
                .to_owned(),
        );
    }
    if has("is not a decimal number")
        && let Some(text) = quoted_after(message, "`")
        && let Some(plain) = plain_amount(&text)
    {
        return Some(format!(
            "write {plain}: an amount is a plain number of yen, without commas, ¥ or 円 (\"{plain}\" or {plain})"
        ));
    }
    if has("invalid date") {
        return Some(
            "write the date as YYYY-MM-DD with a day that exists, e.g. 2026-04-01".to_owned(),
        );
    }
    None
}

/// An amount written as people write yen (`20,000`, `¥20000`, `20000円`, full-width
/// digits), as the plain number the reader takes, if it is one.
fn plain_amount(text: &str) -> Option<String> {
    let plain: String = text
        .trim()
        .trim_start_matches(['¥', '￥', '\\'])
        .trim_end_matches(['円'])
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | '_' | ' '))
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            other => other,
        })
        .collect();
    let digits = plain.strip_prefix('-').unwrap_or(&plain);
    let valid = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1
        && !digits.starts_with('.')
        && !digits.ends_with('.');
    (valid && plain != text).then_some(plain)
}

/// The name in backquotes right after `head`: `unknown field `x`` → `x`.
fn quoted_after(message: &str, head: &str) -> Option<String> {
    let rest = &message[message.find(head)? + head.len()..];
    Some(rest[..rest.find('`')?].to_owned())
}

/// The names serde lists after "expected": `expected one of `a`, `b``, `expected `a``.
fn expected_names(message: &str) -> Vec<String> {
    let Some(at) = message.find("expected") else {
        return Vec::new();
    };
    message[at..]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The allowed name nearest to `name`, when it is near enough to be a slip: a few letters
/// off (by edit distance), a different case, or one a prefix of the other
/// (`rejected` → `reject`).
fn closest<'a>(name: &str, allowed: &'a [String]) -> Option<&'a str> {
    let lower = name.to_lowercase().replace('-', "_");
    allowed
        .iter()
        .map(|candidate| {
            let distance = if candidate.starts_with(&lower) || lower.starts_with(candidate.as_str())
            {
                1
            } else {
                edit_distance(&lower, candidate)
            };
            (distance, candidate)
        })
        .filter(|(distance, candidate)| *distance <= (candidate.chars().count() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate.as_str())
}

/// Levenshtein distance over characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(current)
            };
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruleset::format::{PartFile, RuleSetFile};
    use crate::yaml::{Syntax, from_str};

    /// A part file with one rule, for breaking in the ways a person would.
    const PART: &str = "\
article: 5
title: { ja: 契約アカウント数, en: Accounts }
paragraphs:
  - 契約アカウント数は、50以上とします。
rules:
  - id: art5-min-accounts
    ref: \"5\"
    in_force: { from: 2022-09-01 }
    applies_to: [new_contract]
    require: 'true'
    outcome: reject
    message:
      ja: 契約アカウント数は50以上です。
      en: At least 50 accounts.
";

    fn hint_of(text: &str) -> (String, Option<String>) {
        let error = from_str::<PartFile>(text, Syntax::Yaml, Some("art-05.yaml")).unwrap_err();
        (error.message.clone(), error.hint().map(str::to_owned))
    }

    #[test]
    fn the_base_file_reads() {
        from_str::<PartFile>(PART, Syntax::Yaml, None).unwrap();
    }

    #[test]
    fn a_colon_in_prose_says_quote_the_text() {
        let (message, hint) = hint_of(&PART.replace("At least 50", "Note: at least 50"));
        assert!(
            message.contains("mapping values are not allowed"),
            "{message}"
        );
        assert!(hint.unwrap().contains("quote the text"));
    }

    #[test]
    fn a_misindented_field_says_check_the_indentation() {
        let (message, hint) = hint_of(&PART.replace("    outcome: reject", "   outcome: reject"));
        let hint = hint.unwrap_or_else(|| panic!("no hint for {message}"));
        assert!(hint.contains("indentation"), "{message}: {hint}");
    }

    #[test]
    fn a_near_miss_outcome_says_did_you_mean() {
        let (message, hint) = hint_of(&PART.replace("outcome: reject", "outcome: rejected"));
        assert!(message.contains("unknown variant `rejected`"), "{message}");
        assert_eq!(
            hint.as_deref(),
            Some("did you mean `reject`? (write it exactly as shown)")
        );
        let (_, hint) = hint_of(&PART.replace("outcome: reject", "outcome: warning"));
        assert!(hint.unwrap().contains("`warn`"));
        let (_, hint) = hint_of(&PART.replace("outcome: reject", "outcome: maybe"));
        assert_eq!(
            hint.as_deref(),
            Some("write one of `reject`, `warn`, `info`")
        );
    }

    #[test]
    fn a_near_miss_field_name_says_did_you_mean() {
        let (message, hint) = hint_of(&PART.replace("applies_to:", "applys_to:"));
        assert!(message.contains("unknown field `applys_to`"), "{message}");
        assert!(hint.unwrap().starts_with("did you mean `applies_to`?"));
        let (_, hint) = hint_of(&PART.replace("paragraphs:", "Paragraphs:"));
        assert!(hint.unwrap().starts_with("did you mean `paragraphs`?"));
        let (_, hint) = hint_of(&PART.replace("    require:", "    flavour:"));
        assert!(hint.unwrap().contains("the fields allowed are `id`"));
    }

    #[test]
    fn other_common_mistakes() {
        let (_, hint) = hint_of(&PART.replace("    ref: \"5\"\n", ""));
        assert!(hint.unwrap().contains("add the field `ref:`"));
        let (_, hint) = hint_of(&PART.replace("en: At least 50 accounts.", "en: 'At least"));
        assert!(hint.unwrap().contains("not closed"));
        let (_, hint) = hint_of(&PART.replace("from: 2022-09-01", "from: 2022-09-31"));
        assert!(hint.unwrap().contains("YYYY-MM-DD"));
        let (_, hint) =
            hint_of(&PART.replace("applies_to: [new_contract]", "applies_to: new_contract"));
        assert!(hint.unwrap().contains("takes a list"));
        let error = from_str::<RuleSetFile>("name: x\nname: y\n", Syntax::Yaml, None).unwrap_err();
        assert!(
            error.hint().unwrap_or("").contains("twice"),
            "{}",
            error.message
        );
    }

    #[test]
    fn no_hint_when_none_fits() {
        assert_eq!(for_message("something else entirely"), None);
        assert_eq!(closest("zzzzzz", &["reject".to_owned()]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
