//! The rulebook (`yakkan book`): every page linked, every link and anchor resolving, and
//! what a lawyer reads on it taken from the rules and the cases.

use std::collections::BTreeMap;
use std::path::PathBuf;

use yakkan::RuleSet;
use yakkan::book::Book;

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn book() -> Book {
    let rules = RuleSet::load(&project().join("rules")).unwrap();
    let cases =
        yakkan::corpus::case_files(&[project().join("tests/cases"), project().join("examples")])
            .unwrap();
    Book::build(&rules, &cases, Some("IMPACT REVIEW TEXT"))
}

/// Every `href="…"` and `id="…"` of a page.
fn attributes<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!("{name}=\"");
    html.match_indices(&needle)
        .map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

#[test]
fn every_link_resolves_to_a_page_and_an_anchor() {
    let book = book();
    let pages: BTreeMap<&str, &str> = book
        .pages
        .iter()
        .map(|(name, html)| (name.as_str(), html.as_str()))
        .collect();
    let mut reached = std::collections::BTreeSet::from(["index.html"]);
    for (name, html) in &pages {
        let ids = attributes(html, "id");
        let unique: std::collections::BTreeSet<&&str> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{name} repeats an id");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{name} links outside"
        );
        for href in attributes(html, "href") {
            let (page, anchor) = href.split_once('#').unwrap_or((href, ""));
            let page = if page.is_empty() { name } else { page };
            let target = pages
                .get(page)
                .unwrap_or_else(|| panic!("{name} links to missing page {href}"));
            reached.insert(page);
            if !anchor.is_empty() {
                assert!(
                    attributes(target, "id").contains(&anchor),
                    "{name} links to missing anchor {href}"
                );
            }
        }
    }
    assert_eq!(reached.len(), pages.len(), "pages nothing links to");
}

#[test]
fn an_article_page_shows_text_rules_params_cases_and_shading() {
    let book = book();
    let page = book.page("art-05-accounts.html").unwrap();
    assert!(
        page.contains("契約アカウント数は 50 からとし"),
        "the article text"
    );
    assert!(page.contains("id=\"rule-art5-accounts\""));
    assert!(page.contains("id=\"ref-5\""), "an anchor per citation");
    assert!(page.contains("<code>params.min_accounts</code></td><td><code>50</code>"));
    assert!(page.contains(
        "tests/cases/art05/accounts-49-rejected.yaml</a> <span class=\"pass\">pass</span>"
    ));
    assert!(page.contains("class=\"paragraph cov-full\""));
    // Params read through the functions of the definitions count too: article 13's
    // rules call functions that read the minimum period.
    let page = book.page("art-13-early-termination.html").unwrap();
    assert!(page.contains("<code>params.minimum_period_months</code></td><td><code>1</code>"));
    // Article 9: a paragraph whose rules do not all fire is shaded apart, and the
    // reconstructed version shows on the timeline.
    let page = book.page("art-09-options.html").unwrap();
    assert!(page.contains("2022-09-01 reconstructed"));
    assert!(page.contains("version from 2022-09-01 until 2026-03-31 (reconstructed)"));
}

#[test]
fn the_revision_page_lists_what_changed_and_its_impact() {
    let book = book();
    let page = book.page("revision-2026-04-01.html").unwrap();
    let (started, ended) = page.split_once("end the day before").unwrap();
    assert!(started.contains(">art9-2-2-sandbox-on-gateway-only<"));
    assert!(ended.contains(">art9-2-known-option<"));
    assert!(!ended.contains(">art9-2-2-sandbox-on-gateway-only<"));
    assert!(page.contains("tests/cases/suppl-2026-04-01/"));
    assert!(page.contains("IMPACT REVIEW TEXT"));
    let original = book.page("revision-2022-09-01.html").unwrap();
    assert!(!original.contains("IMPACT REVIEW TEXT"));
}

#[test]
fn case_pages_show_the_ruling_with_findings_linked_to_articles() {
    let book = book();
    let page = book
        .page("case-tests--cases--art13--sandbox-part-only.yaml.html")
        .or_else(|| {
            book.pages
                .iter()
                .find(|(name, _)| name.contains("sandbox-part-only"))
                .map(|(_, html)| html.as_str())
        })
        .unwrap();
    assert!(page.contains("<span class=\"pass\">pass</span>"));
    assert!(page.contains("href=\"art-13-early-termination.html#rule-"));
}

#[test]
fn the_model_page_shows_the_words_of_the_terms() {
    let book = book();
    let page = book.page("model.html").expect("a model page");
    for text in [
        "record-contract",
        "<code>sandbox_continuation_declared</code>",
        "count, changes over time",
        "request-stop_option",
        "Its rule versions are those in force on <code>notice_arrived</code>.",
        "ends the record it names on values.effective_date",
        "sets the contract&#39;s accounts to request.accounts from request.date on",
    ] {
        assert!(page.contains(text), "the model page lacks {text}");
    }
    assert!(
        book.page("index.html")
            .unwrap()
            .contains("href=\"model.html\"")
    );
}

/// 別紙2 has no rule of its own: four facts compute its amounts. Its page shows each
/// fact with its description, its parameters and the params it reads, the rules that use
/// it (linked) and the cases in which they fire; the paragraph is not "encoded by no rule".
#[test]
fn a_part_encoded_by_facts_shows_them_with_their_rules_and_cases() {
    let book = book();
    let page = book.page("appx-2-early-termination.html").unwrap();
    assert!(
        !page.contains("No rule encodes this paragraph"),
        "the facts encode it"
    );
    for fact in [
        "remaining_fee",
        "contract_early_fee",
        "option_early_fee",
        "options_early_fee",
    ] {
        assert!(page.contains(&format!("id=\"fact-{fact}\"")), "{fact}");
    }
    assert!(
        page.contains("最低利用期間の残余期間に対応する月額費用"),
        "description"
    );
    assert!(page.contains("monthly: decimal, start: date, end: date, effective: date"));
    assert!(page.contains("<code>params.minimum_period_months</code></td><td><code>1</code>"));
    // Used by article 13's rules, linked, with the cases in which they fire.
    assert!(
        page.contains("href=\"art-13-early-termination.html#rule-art13-1-early-termination-fee\"")
    );
    assert!(page.contains("tests/cases/appx2/rounding-down.yaml</a>"));
    assert!(page.contains("class=\"paragraph cov-full\""));
    // The contents count the facts of each part.
    let index = book.page("index.html").unwrap();
    assert!(index.contains("<th>facts</th>"));
}

/// A rule's expressions name the values it computes, as the rule file does
/// (`values.claim_deadline:`), never by their slot.
#[test]
fn expressions_name_their_values() {
    let book = book();
    assert!(
        book.pages
            .iter()
            .any(|(_, html)| html.contains("values.claim_deadline:")),
        "article 14's claim deadline is not shown by name"
    );
    for (name, html) in &book.pages {
        let slot = (0..40).find(|n| html.contains(&format!("values.{n}:")));
        assert!(slot.is_none(), "{name} shows a value by slot");
    }
}
