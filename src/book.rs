//! The rulebook: a static HTML site a lawyer opens without a server. Per article, the
//! Japanese text paragraph by paragraph beside the rules that encode it; each rule's
//! versions on a revision timeline, the params it reads with their values, and the
//! example cases that exercise it with pass or fail; paragraphs shaded by how much of
//! them the cases exercise; a page per revision; a page per case; and a form that sends
//! a case to `yakkan serve` (`POST /v1/evaluate`) and shows the ruling.
//!
//! Every page is plain HTML with its style inline: no external assets, no build step.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::corpus;
use crate::model::Effect;
use crate::ruleset::format::RuleSetFile;
use crate::ruleset::{Part, PartLabel, Rule, RuleSet};
use crate::ruling::{Finding, Outcome, Ruling};
use crate::yaml::{self, Syntax};

/// The site: every page by file name (all in one folder, so links are plain names).
pub struct Book {
    /// Every page: file name and HTML.
    pub pages: Vec<(String, String)>,
}

/// One case of the corpus, run against the rules.
struct CaseEntry {
    /// The file as given (shown to the reader).
    file: String,
    /// The page it is shown on.
    page: String,
    text: String,
    ruling: Option<Ruling>,
    problems: Vec<String>,
    /// Indices of the rule versions that fired in it.
    fired: BTreeSet<usize>,
}

impl CaseEntry {
    fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What the pages are built from.
struct Site<'a> {
    rules: &'a RuleSet,
    params: BTreeMap<String, serde_json::Value>,
    /// The params each function of the definitions reads, itself or through the
    /// functions it calls.
    functions: BTreeMap<String, BTreeSet<String>>,
    /// The rule versions that use each fact, themselves or through the facts they call.
    fact_users: BTreeMap<String, Vec<usize>>,
    cases: Vec<CaseEntry>,
    /// Page of each part, by index in `rules.parts`.
    part_pages: Vec<String>,
}

impl Book {
    /// Builds the site for a rule set, the case files that exercise it, and, when given,
    /// the impact review of its latest revision (shown on that revision's page).
    pub fn build(rules: &RuleSet, cases: &[PathBuf], impact: Option<&str>) -> Book {
        let site = Site::new(rules, cases);
        let mut pages = vec![("index.html".to_owned(), site.index())];
        for (i, part) in rules.parts.iter().enumerate() {
            pages.push((site.part_pages[i].clone(), site.part(i, part)));
        }
        for revision in &rules.revisions {
            pages.push((
                revision_page(revision.date),
                site.revision(revision.date, impact),
            ));
        }
        for case in &site.cases {
            pages.push((case.page.clone(), site.case(case)));
        }
        pages.push((MODEL_PAGE.to_owned(), site.model()));
        Book { pages }
    }

    /// Writes every page into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (name, html) in &self.pages {
            std::fs::write(dir.join(name), html)?;
        }
        Ok(())
    }

    /// The page called `name`, if the site has it.
    pub fn page(&self, name: &str) -> Option<&str> {
        self.pages
            .iter()
            .find(|(page, _)| page == name)
            .map(|(_, html)| html.as_str())
    }
}

/// The page of the rule set's model (`model.yaml`).
const MODEL_PAGE: &str = "model.html";

fn revision_page(day: NaiveDate) -> String {
    format!("revision-{day}.html")
}

/// The page of a part: its file's name with `.html` (`art-05-accounts.html`).
fn part_page(part: &Part) -> String {
    let stem = Path::new(&part.file)
        .file_stem()
        .map_or_else(|| "part".to_owned(), |s| s.to_string_lossy().into_owned());
    format!("{}.html", slug(&stem))
}

/// A name safe in a file name and an anchor: letters, digits, `-`, `_` and `.`.
fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn rule_anchor(id: &str) -> String {
    format!("rule-{}", slug(id))
}

fn ref_anchor(reference: &str) -> String {
    format!("ref-{}", slug(reference))
}

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The `params.NAME` an expression reads, scanned from its text.
fn params_read(source: &str, into: &mut BTreeSet<String>) {
    let mut rest = source;
    while let Some(at) = rest.find("params.") {
        let before = rest[..at].chars().next_back();
        let tail = &rest[at + "params.".len()..];
        let name: String = tail
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            into.insert(name);
        }
        rest = tail;
    }
}

/// Whether `source` calls the function `name`: `name(` not inside a longer identifier.
fn calls(source: &str, name: &str) -> bool {
    let pattern = format!("{name}(");
    source.match_indices(&pattern).any(|(at, _)| {
        !source[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Per derived fact, the params it reads, directly or through the facts it calls (read
/// from the text of their values).
fn definitions_params(rules: &RuleSet) -> BTreeMap<String, BTreeSet<String>> {
    let mut bodies: BTreeMap<String, String> = BTreeMap::new();
    for fact in &rules.facts {
        let body = bodies.entry(fact.name.clone()).or_default();
        body.push_str(&fact.value.source);
        body.push('\n');
    }
    let mut read: BTreeMap<String, BTreeSet<String>> = bodies
        .iter()
        .map(|(name, body)| {
            let mut names = BTreeSet::new();
            params_read(body, &mut names);
            (name.clone(), names)
        })
        .collect();
    // Through the calls, until nothing more is learnt.
    loop {
        let mut grew = false;
        for (name, body) in &bodies {
            let mut more = BTreeSet::new();
            for (callee, callee_reads) in &read {
                if callee != name && calls(body, callee) {
                    more.extend(callee_reads.iter().cloned());
                }
            }
            let own = read.get_mut(name).expect("every body has an entry");
            let before = own.len();
            own.extend(more);
            grew |= own.len() > before;
        }
        if !grew {
            return read;
        }
    }
}

/// Per fact, the rule versions that call it, directly or through the facts they call
/// (read from the text of their expressions), in the rule set's order.
fn fact_users(rules: &RuleSet) -> BTreeMap<String, Vec<usize>> {
    let mut bodies: BTreeMap<&str, String> = BTreeMap::new();
    for fact in &rules.facts {
        let body = bodies.entry(fact.name.as_str()).or_default();
        body.push_str(&fact.value.source);
        body.push('\n');
    }
    let names: Vec<&str> = bodies.keys().copied().collect();
    let mut users: BTreeMap<String, Vec<usize>> = names
        .iter()
        .map(|n| ((*n).to_owned(), Vec::new()))
        .collect();
    for (index, rule) in rules.rules.iter().enumerate() {
        let text: String = rule
            .when
            .iter()
            .chain(rule.values.iter().map(|(_, e)| e))
            .chain(&rule.require)
            .map(|e| e.source.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let mut reached: BTreeSet<&str> =
            names.iter().copied().filter(|n| calls(&text, n)).collect();
        let mut queue: Vec<&str> = reached.iter().copied().collect();
        while let Some(name) = queue.pop() {
            for callee in &names {
                if !reached.contains(callee) && calls(&bodies[name], callee) {
                    reached.insert(callee);
                    queue.push(callee);
                }
            }
        }
        for name in reached {
            users.get_mut(name).expect("a known fact").push(index);
        }
    }
    users
}

fn label(part: &Part) -> String {
    match part.label {
        PartLabel::Article(n) => n.cite("条"),
        PartLabel::Appendix(n) => format!("別紙{n}"),
        PartLabel::Supplementary(day) => format!("附則 ({day})"),
    }
}

/// The old and new texts, escaped, with what the revision removed marked `<del>` in the
/// old and what it added `<ins>` in the new, character by character.
fn marked(old: &str, new: &str) -> (String, String) {
    use similar::{ChangeTag, TextDiff};
    let (mut before, mut after) = (String::new(), String::new());
    for change in TextDiff::from_chars(old, new).iter_all_changes() {
        let text = esc(change.value());
        match change.tag() {
            ChangeTag::Equal => {
                before.push_str(&text);
                after.push_str(&text);
            }
            ChangeTag::Delete => {
                let _ = write!(before, "<del>{text}</del>");
            }
            ChangeTag::Insert => {
                let _ = write!(after, "<ins>{text}</ins>");
            }
        }
    }
    // Adjacent marks read as one change.
    (
        before.replace("</del><del>", ""),
        after.replace("</ins><ins>", ""),
    )
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Reject => "reject",
        Outcome::Warn => "warn",
        Outcome::Info => "info",
    }
}

const STYLE: &str = r#"
table.comparison td { vertical-align: top; border-top: 1px solid #ddd; padding: .3em .5em; }
table.comparison del { background: #fdd; text-decoration: line-through; }
table.comparison ins { background: #dfd; text-decoration: none; }
body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif; margin: 0; color: #1d1d1f; line-height: 1.6; }
header { background: #1f3a5f; color: #fff; padding: .8em 1.5em; }
header a { color: #fff; margin-right: 1.2em; }
main { padding: 1em 1.5em; max-width: 1300px; }
h1 { font-size: 1.5em; margin: .3em 0; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccd; }
.paragraph { display: grid; grid-template-columns: minmax(18em, 1fr) minmax(22em, 1.3fr); gap: 1.2em; padding: .8em; margin: .8em 0; border-radius: 6px; border-left: 6px solid #bbb; }
.paragraph .text { white-space: pre-wrap; position: sticky; top: .5em; align-self: start; }
.cov-full { background: #e7f6e7; border-left-color: #2e8b57; }
.cov-part { background: #fff6dc; border-left-color: #d4a017; }
.cov-none { background: #fde8e8; border-left-color: #c0392b; }
.cov-uncoded { background: #f2f2f5; border-left-color: #999; }
.legend span { display: inline-block; padding: .1em .6em; margin-right: .5em; border-radius: 4px; }
.rule { border: 1px solid #ccd; border-radius: 6px; padding: .5em .8em; margin-bottom: .8em; background: #fff; }
.rule h3 { font-size: 1em; margin: 0 0 .3em 0; font-family: monospace; }
.tag { display: inline-block; font-size: .8em; padding: 0 .5em; border-radius: 4px; background: #e3e8f0; margin-right: .3em; }
.reject { background: #f8d0d0; } .warn { background: #fbe7b5; } .info { background: #d6e6f7; }
.pass { color: #1e7b34; font-weight: bold; } .fail { color: #b0261b; font-weight: bold; }
.timeline { display: flex; gap: 2px; margin: .3em 0; }
.timeline div { flex: 1; font-size: .8em; padding: .15em .4em; border-radius: 3px; background: #eee; color: #777; }
.timeline div.on { background: #1f3a5f; color: #fff; }
.timeline div.recon { background: #7f8fa6; color: #fff; }
pre { background: #f6f8fa; padding: .5em; overflow-x: auto; font-size: .85em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccd; padding: .2em .6em; text-align: left; vertical-align: top; }
textarea { width: 100%; font-family: monospace; }
#ruling .request, #ruling .contract { border: 1px solid #ccd; border-radius: 6px; padding: .5em .8em; margin: .5em 0; }
.accepted { color: #1e7b34; font-weight: bold; } .rejected { color: #b0261b; font-weight: bold; }
"#;

impl<'a> Site<'a> {
    fn new(rules: &'a RuleSet, files: &[PathBuf]) -> Site<'a> {
        let part_pages = rules.parts.iter().map(part_page).collect();
        let params = read_params(rules);
        let mut used = BTreeSet::new();
        let cases = files
            .iter()
            .map(|file| {
                let run = corpus::run_case(rules, file);
                let shown = file.display().to_string();
                let mut page = format!("case-{}.html", slug(&shown.replace(['/', '\\'], "--")));
                while !used.insert(page.clone()) {
                    page.insert(0, '_');
                }
                CaseEntry {
                    text: std::fs::read_to_string(file).unwrap_or_default(),
                    file: shown,
                    page,
                    fired: run
                        .trace
                        .evaluations
                        .iter()
                        .filter(|e| e.fired)
                        .map(|e| e.rule)
                        .collect(),
                    ruling: run.ruling,
                    problems: run.problems,
                }
            })
            .collect();
        Site {
            rules,
            params,
            functions: definitions_params(rules),
            fact_users: fact_users(rules),
            cases,
            part_pages,
        }
    }

    fn page(&self, title: &str, body: &str) -> String {
        let mut nav = String::from(
            "<a href=\"index.html\">目次 Contents</a><a href=\"index.html#try\">事例を試す Try a case</a>",
        );
        for revision in &self.rules.revisions {
            let _ = write!(
                nav,
                "<a href=\"{}\">改定 {}</a>",
                revision_page(revision.date),
                revision.date
            );
        }
        format!(
            "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{} — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
             <header><strong>{}</strong> · {nav}</header>\n<main>\n{body}\n</main>\n</body>\n</html>\n",
            esc(title),
            esc(&self.rules.title.ja),
            esc(&self.rules.title.ja),
        )
    }

    /// The cases in which rule version `index` fired.
    fn cases_firing(&self, index: usize) -> impl Iterator<Item = &CaseEntry> {
        self.cases.iter().filter(move |c| c.fired.contains(&index))
    }

    /// The page and anchor of a rule id (its latest version's part).
    fn rule_link(&self, id: &str) -> Option<String> {
        let rule = self.rules.rules.iter().rev().find(|r| r.id == id)?;
        Some(format!(
            "{}#{}",
            self.part_pages[rule.part],
            rule_anchor(&rule.id)
        ))
    }

    /// Coverage class of a set of rule versions: all fire in some case, some, none.
    fn coverage(&self, versions: &[usize]) -> &'static str {
        if versions.is_empty() {
            return "cov-uncoded";
        }
        let fired = versions
            .iter()
            .filter(|&&i| self.cases.iter().any(|c| c.fired.contains(&i)))
            .count();
        if fired == versions.len() {
            "cov-full"
        } else if fired > 0 {
            "cov-part"
        } else {
            "cov-none"
        }
    }

    fn legend() -> &'static str {
        "<p class=\"legend\">Shading: <span class=\"cov-full\">every rule fires in a case</span>\
         <span class=\"cov-part\">some rules fire in no case</span>\
         <span class=\"cov-none\">no rule fires in any case</span>\
         <span class=\"cov-uncoded\">no rule encodes it</span></p>"
    }

    fn index(&self) -> String {
        let rules = self.rules;
        let mut body = format!(
            "<h1>{}</h1>\n<p>{}</p>\n<p>Rule set <code>{}</code>, {} rule versions, digest <code>{}</code>.</p>\n",
            esc(&rules.title.ja),
            esc(&rules.title.en),
            esc(&rules.name),
            rules.rules.len(),
            esc(&rules.digest)
        );
        body.push_str("<h2>改定 Revisions</h2>\n<ul>\n");
        for revision in &rules.revisions {
            let _ = writeln!(
                body,
                "<li><a href=\"{}\">{} {}</a> — {}{}</li>",
                revision_page(revision.date),
                revision.date,
                esc(&revision.title.ja),
                esc(&revision.title.en),
                if revision.reconstructed {
                    " (reconstructed text)"
                } else {
                    ""
                }
            );
        }
        body.push_str("</ul>\n");
        let _ = writeln!(
            body,
            "<p><a href=\"{MODEL_PAGE}\">語彙 The model</a>: what a case of these terms holds, the requests a customer makes, and what an accepted request does.</p>"
        );
        body.push_str("<h2>条項 Articles</h2>\n");
        body.push_str(Self::legend());
        body.push_str("<table>\n<tr><th>part</th><th>title</th><th>rules</th><th>facts</th><th>firing in a case</th></tr>\n");
        for (i, part) in rules.parts.iter().enumerate() {
            let versions: Vec<usize> = (0..rules.rules.len())
                .filter(|&r| rules.rules[r].part == i)
                .collect();
            let fired = versions
                .iter()
                .filter(|&&r| self.cases_firing(r).next().is_some())
                .count();
            let facts: BTreeSet<&str> = rules
                .facts
                .iter()
                .filter(|f| f.part == i)
                .map(|f| f.name.as_str())
                .collect();
            let facts: Vec<&str> = facts.into_iter().collect();
            let _ = writeln!(
                body,
                "<tr class=\"{}\"><td><a href=\"{}\">{}</a></td><td>{} — {}</td><td>{}</td><td>{}</td><td>{fired}</td></tr>",
                self.coverage(
                    &self
                        .versions_encoding(&[], &facts)
                        .into_iter()
                        .chain(versions.iter().copied())
                        .collect::<Vec<_>>()
                ),
                self.part_pages[i],
                esc(&label(part)),
                esc(&part.title.ja),
                esc(&part.title.en),
                versions.len(),
                facts.len()
            );
        }
        body.push_str("</table>\n");
        let passed = self.cases.iter().filter(|c| c.passed()).count();
        let _ = writeln!(
            body,
            "<h2>事例 Cases</h2>\n<p>{passed} of {} cases give the ruling they expect.</p>\n<ul>",
            self.cases.len()
        );
        case_items(&mut body, &self.cases);
        body.push_str("</ul>\n");
        body.push_str(&self.form());
        self.page("目次 Contents", &body)
    }

    /// The model: each record with its fields, each request type with its fields, the
    /// record it is about and what an accepted one does.
    fn model(&self) -> String {
        let model = &self.rules.model;
        let mut body = String::from(
            "<h1>語彙 The model</h1>\n<p>The words of these terms, as <code>model.yaml</code> declares them: a case is read against them, and the rules speak them.</p>\n<h2>記録 Records</h2>\n",
        );
        for record in &model.records {
            let _ = writeln!(
                body,
                "<h3 id=\"record-{}\">{}</h3>\n<p>{}</p>\n<table>\n<tr><th>field</th><th>type</th><th>meaning</th></tr>",
                slug(&record.shape.name),
                esc(&record.shape.name),
                esc(&record.description)
            );
            field_rows(&mut body, model, &record.fields);
            body.push_str("</table>\n");
        }
        body.push_str("<h2>申込 Requests</h2>\n");
        for request in &model.requests {
            let _ = writeln!(
                body,
                "<h3 id=\"request-{}\">{}</h3>\n<p>{}</p>\n<p>Its rule versions are those in force on <code>{}</code>.{}</p>\n<table>\n<tr><th>field</th><th>type</th><th>meaning</th></tr>",
                slug(&request.name),
                esc(&request.name),
                esc(&request.description),
                esc(&request.fields[request.date_field].name),
                request.in_force.map_or(String::new(), |(from, _)| format!(
                    " A case may make it from {from}."
                ))
            );
            field_rows(
                &mut body,
                model,
                &request.fields[crate::model::CONTRACT_FIELD..],
            );
            body.push_str("</table>\n<ul>\n");
            if request.settled {
                body.push_str("<li>Decided on the settled timeline, once every other request is decided: its decision rests on the case's settled ends and on earlier requests of its type.</li>\n");
            }
            for effect in &request.effects {
                let shown = match effect {
                    Effect::Form(on) => format!(
                        "forms the contract on {}",
                        on.written(request, &self.rules.value_names)
                    ),
                    Effect::Set { field, from, to } => format!(
                        "sets the contract's {} to {} from {} on",
                        model.contract_def().fields[*field].name,
                        to.written(request, &self.rules.value_names),
                        from.written(request, &self.rules.value_names)
                    ),
                    Effect::End(on) => format!(
                        "ends the contract on {}",
                        on.written(request, &self.rules.value_names)
                    ),
                    Effect::AddChild => "adds the record it proposes to the contract".to_owned(),
                    Effect::EndChild(on) => format!(
                        "ends the record it names on {}",
                        on.written(request, &self.rules.value_names)
                    ),
                    Effect::Record { list, fields, .. } => format!(
                        "keeps a record of it in the contract's {} ({})",
                        model.contract_def().fields[*list].name,
                        fields
                            .iter()
                            .map(|(_, s)| s.written(request, &self.rules.value_names))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let _ = writeln!(body, "<li>Accepted, it {}.</li>", esc(&shown));
            }
            body.push_str("</ul>\n");
        }
        self.page("語彙 The model", &body)
    }

    /// The form that sends a case to `yakkan serve` and shows the ruling, with each
    /// finding linked to the rule and article it cites.
    fn form(&self) -> String {
        let links: BTreeMap<&str, String> = self
            .rules
            .rules
            .iter()
            .filter_map(|r| Some((r.id.as_str(), self.rule_link(&r.id)?)))
            .collect();
        let links = serde_json::to_string(&links)
            .unwrap_or_else(|_| "{}".to_owned())
            .replace("</", "<\\/");
        let example = self
            .cases
            .iter()
            .find(|c| c.passed())
            .map(|c| c.text.clone())
            .unwrap_or_default();
        format!(
            r#"<h2 id="try">事例を試す Try a case</h2>
<p>Paste a case (YAML or JSON) and press <em>Evaluate</em>. The page asks the
<code>yakkan serve</code> that serves it; opened from files, start <code>yakkan serve</code>
and open its address instead.</p>
<form id="case-form">
<textarea id="case-text" name="case" rows="16" spellcheck="false">{}</textarea>
<p><button type="submit" id="evaluate">Evaluate</button></p>
</form>
<div id="ruling" aria-live="polite"></div>
<script id="rule-links" type="application/json">{links}</script>
<script>
(function () {{
  var links = JSON.parse(document.getElementById('rule-links').textContent);
  var out = document.getElementById('ruling');
  function el(tag, cls, text) {{
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }}
  function findings(list, into) {{
    var ul = el('ul');
    list.forEach(function (f) {{
      var li = el('li', 'finding');
      li.appendChild(el('span', 'tag ' + f.outcome, f.outcome));
      var a = el('a', 'cite', f.cite + ' (' + f.ref + ')');
      a.href = links[f.rule] || '#';
      li.appendChild(a);
      li.appendChild(document.createTextNode(' ' + f.message.ja + ' / ' + f.message.en));
      ul.appendChild(li);
    }});
    into.appendChild(ul);
  }}
  function values(map, into) {{
    Object.keys(map).forEach(function (k) {{
      if (k === 'id' || k === 'findings') return;
      into.appendChild(el('div', 'value', k + ' = ' + JSON.stringify(map[k])));
    }});
  }}
  function show(ruling) {{
    out.textContent = '';
    out.appendChild(el('p', 'stamp', 'rule set ' + ruling.ruleset.name + ', revision ' +
      ruling.ruleset.in_force + ', as of ' + ruling.as_of));
    ruling.requests.forEach(function (r) {{
      var box = el('div', 'request');
      var head = el('div', '', '[' + r.index + '] ' + r.type + ': ');
      head.appendChild(el('span', 'decision ' + r.decision, r.decision));
      box.appendChild(head);
      values(r.values, box);
      findings(r.findings, box);
      out.appendChild(box);
    }});
    ruling.contracts.forEach(function (c) {{
      var box = el('div', 'contract');
      box.appendChild(el('div', '', 'contract ' + c.id));
      values(c, box);
      findings(c.findings, box);
      out.appendChild(box);
    }});
  }}
  document.getElementById('case-form').addEventListener('submit', function (event) {{
    event.preventDefault();
    out.textContent = 'evaluating…';
    // The service reads the syntax from the content type: JSON when it looks like JSON.
    var text = document.getElementById('case-text').value;
    var syntax = /^\s*[{{[]/.test(text) ? 'application/json' : 'application/yaml';
    fetch('/v1/evaluate', {{ method: 'POST', headers: {{ 'Content-Type': syntax }}, body: text }})
      .then(function (response) {{
        return response.json().then(function (body) {{ return [response.ok, body]; }});
      }})
      .then(function (result) {{
        if (result[0]) {{ show(result[1]); return; }}
        var e = result[1].error || {{}};
        var place = e.line ? ' (line ' + e.line + ', column ' + e.column + ')' : '';
        out.textContent = '';
        out.appendChild(el('p', 'error', (e.path || e.rule || '') + place + ': ' + e.message));
        if (e.hint) out.appendChild(el('p', 'hint', 'hint: ' + e.hint));
      }})
      .catch(function () {{
        out.textContent = 'This form needs yakkan serve: run `yakkan serve` and open its address.';
      }});
  }});
}})();
</script>
"#,
            esc(&example)
        )
    }

    fn part(&self, index: usize, part: &Part) -> String {
        let rules = self.rules;
        // Rule ids grouped by the paragraph they cite (0: the whole part).
        let mut by_paragraph: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        // A rule's card stands once, under the paragraph its latest version cites.
        let mut placed = BTreeSet::new();
        for rule in rules.rules.iter().rev().filter(|r| r.part == index) {
            if !placed.insert(rule.id.as_str()) {
                continue;
            }
            // The cited paragraph's place from 1; 0 for the whole part.
            let mut paragraph = part.paragraph_cited(&rule.reference).map_or(0, |i| i + 1);
            if part.paragraphs.len() == 1 {
                paragraph = 1;
            }
            by_paragraph.entry(paragraph).or_default().push(&rule.id);
        }
        // Back in the order of the file.
        for ids in by_paragraph.values_mut() {
            ids.reverse();
        }
        // The facts of this part, by the paragraph they cite, in the order of the file.
        let mut facts_by_paragraph: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        let mut placed_facts = BTreeSet::new();
        for fact in rules.facts.iter().filter(|f| f.part == index) {
            if !placed_facts.insert(fact.name.as_str()) {
                continue;
            }
            // The cited paragraph's place from 1; 0 for the whole part.
            let mut paragraph = part.paragraph_cited(&fact.reference).map_or(0, |i| i + 1);
            if part.paragraphs.len() == 1 {
                paragraph = 1;
            }
            facts_by_paragraph
                .entry(paragraph)
                .or_default()
                .push(&fact.name);
        }
        let mut body = format!(
            "<h1>{} {}</h1>\n<p>{} · <code>{}</code></p>\n{}",
            esc(&label(part)),
            esc(&part.title.ja),
            esc(&part.title.en),
            esc(&part.file),
            Self::legend()
        );
        let no_facts = Vec::new();
        if by_paragraph.contains_key(&0) || facts_by_paragraph.contains_key(&0) {
            let ids = by_paragraph.get(&0).cloned().unwrap_or_default();
            let facts = facts_by_paragraph.get(&0).unwrap_or(&no_facts);
            let _ = writeln!(
                body,
                "<section class=\"paragraph {}\" id=\"whole\"><div class=\"text\"><strong>{} as a whole</strong></div><div>{}{}</div></section>",
                self.coverage(&self.versions_encoding(&ids, facts)),
                esc(&label(part)),
                self.rule_cards(&ids),
                self.fact_cards(facts, "whole")
            );
        }
        for (i, (text, shown)) in part.paragraphs.iter().zip(&part.numbers).enumerate() {
            // Anchored by place (`#p4`), shown as the terms number it (`3の2`).
            let number = i + 1;
            let ids = by_paragraph.get(&number).cloned().unwrap_or_default();
            let facts = facts_by_paragraph.get(&number).unwrap_or(&no_facts);
            let cards = match (ids.is_empty(), facts.is_empty()) {
                (true, true) => "<p><em>No rule encodes this paragraph.</em></p>".to_owned(),
                (true, false) => format!(
                    "<p><em>No rule cites this paragraph: the facts below encode it, and the rules they name use them.</em></p>{}",
                    self.fact_cards(facts, &format!("p{number}"))
                ),
                _ => format!(
                    "{}{}",
                    self.rule_cards(&ids),
                    self.fact_cards(facts, &format!("p{number}"))
                ),
            };
            let _ = writeln!(
                body,
                "<section class=\"paragraph {}\" id=\"p{number}\"><div class=\"text\"><strong>{shown}</strong> {}</div><div>{cards}</div></section>",
                self.coverage(&self.versions_encoding(&ids, facts)),
                esc(text.trim_end()),
            );
        }
        self.page(&format!("{} {}", label(part), part.title.ja), &body)
    }

    /// The rule versions a paragraph's coverage is judged by: its own rules', and those
    /// of the rules using its facts.
    fn versions_encoding(&self, ids: &[&str], facts: &[&str]) -> Vec<usize> {
        let mut versions: BTreeSet<usize> = self.versions_of(ids).into_iter().collect();
        for fact in facts {
            versions.extend(self.fact_users.get(*fact).into_iter().flatten().copied());
        }
        versions.into_iter().collect()
    }

    /// A card per fact: its signature and type, citation, description, versions, the
    /// params it reads, its value, the rules that use it and the cases they fire in.
    /// `section` is the anchor of the paragraph it stands under.
    fn fact_cards(&self, names: &[&str], section: &str) -> String {
        let mut out = String::new();
        for name in names {
            let versions: Vec<&crate::ruleset::Fact> = self
                .rules
                .facts
                .iter()
                .filter(|f| f.name == *name)
                .collect();
            let Some(latest) = versions.last() else {
                continue;
            };
            let signature: Vec<String> = latest
                .params
                .iter()
                .map(|(param, ty)| format!("{param}: {ty}"))
                .collect();
            let _ = write!(
                out,
                "<div class=\"rule fact\" id=\"fact-{}\"><h3>{}({}): {}</h3><div><span class=\"tag\">fact</span><a class=\"tag\" href=\"#{section}\">{}</a></div>",
                slug(name),
                esc(name),
                esc(&signature.join(", ")),
                esc(&latest.ty.to_string()),
                esc(&latest.reference)
            );
            let _ = write!(
                out,
                "<p>{}<br><span lang=\"en\">{}</span></p>",
                esc(&latest.description.ja),
                esc(&latest.description.en)
            );
            out.push_str("<ul class=\"versions\">");
            for fact in &versions {
                let from = fact
                    .from
                    .map_or("always".to_owned(), |d| format!("from {d}"));
                let until = fact
                    .until
                    .map_or("in force".to_owned(), |d| format!("until {d}"));
                let _ = write!(out, "<li>version {from} {until}</li>");
            }
            out.push_str("</ul>");
            if let Some(read) = self.functions.get(*name).filter(|r| !r.is_empty()) {
                out.push_str(&self.params_table(read));
            }
            out.push_str("<details><summary>value</summary>");
            for fact in &versions {
                let _ = write!(out, "<pre>{}</pre>", esc(fact.value.source.trim()));
            }
            out.push_str("</details>");
            let users = self.fact_users.get(*name).cloned().unwrap_or_default();
            let mut ids: Vec<&str> = Vec::new();
            for &i in &users {
                let id = self.rules.rules[i].id.as_str();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            if ids.is_empty() {
                out.push_str("<p class=\"fail\">No rule uses this fact.</p>");
            } else {
                out.push_str("<p>Used by:</p><ul class=\"users\">");
                for id in &ids {
                    let rule = self.rules.rules.iter().rev().find(|r| r.id == *id);
                    let cite = rule.map_or(String::new(), |r| format!(" {}", r.cite));
                    match self.rule_link(id) {
                        Some(link) => {
                            let _ = write!(
                                out,
                                "<li><a href=\"{link}\">{}</a>{}</li>",
                                esc(id),
                                esc(&cite)
                            );
                        }
                        None => {
                            let _ = write!(out, "<li>{}{}</li>", esc(id), esc(&cite));
                        }
                    }
                }
                out.push_str("</ul>");
                let items = self.firing_items(users.iter().copied());
                if items.is_empty() {
                    out.push_str("<p class=\"fail\">No case makes a rule using it fire.</p>");
                } else {
                    let _ = write!(
                        out,
                        "<p>Cases in which a rule using it fires:</p><ul class=\"cases\">{items}</ul>"
                    );
                }
            }
            out.push_str("</div>\n");
        }
        out
    }

    fn versions_of(&self, ids: &[&str]) -> Vec<usize> {
        (0..self.rules.rules.len())
            .filter(|&i| ids.contains(&self.rules.rules[i].id.as_str()))
            .collect()
    }

    fn rule_cards(&self, ids: &[&str]) -> String {
        let mut out = String::new();
        let mut anchored = BTreeSet::new();
        for id in ids {
            let versions: Vec<(usize, &Rule)> = self
                .rules
                .rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.id == *id)
                .collect();
            let Some(&(_, latest)) = versions.last() else {
                continue;
            };
            // One anchor per citation: the first rule citing it carries it.
            let ref_anchor_html = if anchored.insert(latest.reference.clone()) {
                format!(" <span id=\"{}\"></span>", ref_anchor(&latest.reference))
            } else {
                String::new()
            };
            let _ = write!(
                out,
                "<div class=\"rule\" id=\"{}\">{ref_anchor_html}<h3>{}</h3><div>",
                rule_anchor(id),
                esc(id)
            );
            let _ = write!(
                out,
                "<a class=\"tag\" href=\"#{}\">{} ({})</a>",
                ref_anchor(&latest.reference),
                esc(&latest.cite),
                esc(&latest.reference)
            );
            if let Some(outcome) = latest.outcome {
                let name = outcome_name(outcome);
                let _ = write!(out, "<span class=\"tag {name}\">{name}</span>");
            }
            for subject in &latest.applies_to {
                let _ = write!(out, "<span class=\"tag\">{}</span>", esc(subject));
            }
            out.push_str("</div>");
            if let Some(message) = &latest.message {
                let _ = write!(
                    out,
                    "<p>{}<br><span lang=\"en\">{}</span></p>",
                    esc(&message.ja),
                    esc(&message.en)
                );
            }
            out.push_str(&self.timeline(&versions));
            out.push_str(&self.params_of(&versions));
            out.push_str(&self.expressions(&versions));
            out.push_str(&self.case_list(&versions));
            out.push_str("</div>\n");
        }
        out
    }

    /// The versions of a rule against the rule set's revisions.
    fn timeline(&self, versions: &[(usize, &Rule)]) -> String {
        let mut out = String::from("<div class=\"timeline\" title=\"revisions\">");
        let revisions = &self.rules.revisions;
        for (i, revision) in revisions.iter().enumerate() {
            let next = revisions.get(i + 1).map(|r| r.date);
            // In force during this revision's span: from <= its last day, until >= its first.
            let version = versions.iter().find(|(_, r)| {
                r.from < next.unwrap_or(NaiveDate::MAX)
                    && r.until.is_none_or(|u| u >= revision.date)
            });
            let (class, text) = match version {
                Some((_, r)) if r.reconstructed => {
                    ("recon", format!("{} reconstructed", revision.date))
                }
                Some(_) => ("on", format!("{} in force", revision.date)),
                None => ("", format!("{} —", revision.date)),
            };
            let _ = write!(
                out,
                "<div class=\"{class}\"><a href=\"{}\" style=\"color:inherit\">{}</a></div>",
                revision_page(revision.date),
                esc(&text)
            );
        }
        out.push_str("</div><ul class=\"versions\">");
        for (_, rule) in versions {
            let until = rule
                .until
                .map_or("in force".to_owned(), |u| format!("until {u}"));
            let _ = write!(
                out,
                "<li id=\"{}-{}\">version from {} {until}{}</li>",
                rule_anchor(&rule.id),
                rule.from,
                rule.from,
                match (rule.reconstructed, rule.settled) {
                    (true, true) => " (reconstructed; judged once the case is settled)",
                    (true, false) => " (reconstructed)",
                    // The words rules/README.md gives the settling, for a lawyer.
                    (false, true) => {
                        " (judged once the case is settled: on the accounts, options and ends the whole case leaves on the day the terms name)"
                    }
                    (false, false) => "",
                }
            );
        }
        out.push_str("</ul>");
        out
    }

    fn params_of(&self, versions: &[(usize, &Rule)]) -> String {
        let mut names = BTreeSet::new();
        for (_, rule) in versions {
            for expression in rule
                .when
                .iter()
                .chain(rule.values.iter().map(|(_, e)| e))
                .chain(&rule.require)
            {
                params_read(&expression.source, &mut names);
                for (function, read) in &self.functions {
                    if calls(&expression.source, function) {
                        names.extend(read.iter().cloned());
                    }
                }
            }
        }
        if names.is_empty() {
            return String::new();
        }
        self.params_table(&names)
    }

    /// The params named, with their values from `ruleset.yaml`.
    fn params_table(&self, names: &BTreeSet<String>) -> String {
        let mut out = String::from("<table class=\"params\"><tr><th>param</th><th>value</th></tr>");
        for name in names {
            // A dated param: each value with the day it holds from.
            let value =
                self.params
                    .get(name)
                    .map_or("(not in ruleset.yaml)".to_owned(), |v| {
                        match v.get("dated").and_then(|d| d.as_object()) {
                            Some(by_day) => by_day
                                .iter()
                                .map(|(day, value)| format!("{value} from {day}"))
                                .collect::<Vec<_>>()
                                .join("; "),
                            None => v.to_string(),
                        }
                    });
            let _ = write!(
                out,
                "<tr><td><code>params.{}</code></td><td><code>{}</code></td></tr>",
                esc(name),
                esc(&value)
            );
        }
        out.push_str("</table>");
        out
    }

    fn expressions(&self, versions: &[(usize, &Rule)]) -> String {
        let mut out = String::from("<details><summary>expressions</summary>");
        for (_, rule) in versions {
            let _ = write!(out, "<p>version from {}</p>", rule.from);
            let mut lines = Vec::new();
            if let Some(when) = &rule.when {
                lines.push(format!("when: {}", when.source.trim()));
            }
            // By the value's name: `rule.values` holds slots.
            for (slot, expression) in &rule.values {
                let name = self
                    .rules
                    .values
                    .get(*slot)
                    .map_or("?", |v| v.name.as_str());
                lines.push(format!("values.{name}: {}", expression.source.trim()));
            }
            if let Some(require) = &rule.require {
                lines.push(format!("require: {}", require.source.trim()));
            }
            let _ = write!(out, "<pre>{}</pre>", esc(&lines.join("\n")));
        }
        out.push_str("</details>");
        out
    }

    /// A list item per case in which any of the rule versions fires, each case once.
    fn firing_items(&self, versions: impl Iterator<Item = usize>) -> String {
        let mut seen = BTreeSet::new();
        let mut items = String::new();
        for index in versions {
            for case in self.cases_firing(index) {
                if seen.insert(case.page.as_str()) {
                    let _ = write!(
                        items,
                        "<li><a href=\"{}\">{}</a> {}</li>",
                        case.page,
                        esc(&case.file),
                        pass_mark(case)
                    );
                }
            }
        }
        items
    }

    fn case_list(&self, versions: &[(usize, &Rule)]) -> String {
        let items = self.firing_items(versions.iter().map(|(index, _)| *index));
        if items.is_empty() {
            return "<p class=\"fail\">No case makes this rule fire.</p>".to_owned();
        }
        format!("<p>Cases in which it fires:</p><ul class=\"cases\">{items}</ul>")
    }

    fn revision(&self, day: NaiveDate, impact: Option<&str>) -> String {
        let rules = self.rules;
        let revision = rules.revisions.iter().find(|r| r.date == day);
        let title = revision.map_or(String::new(), |r| r.title.ja.clone());
        let mut body = format!("<h1>改定 {day} {}</h1>\n", esc(&title));
        if let Some(revision) = revision {
            let _ = writeln!(body, "<p>{}</p>", esc(&revision.title.en));
        }
        let day_before = day.pred_opt();
        let started: Vec<usize> = (0..rules.rules.len())
            .filter(|&i| rules.rules[i].from == day)
            .collect();
        let ended: Vec<usize> = (0..rules.rules.len())
            .filter(|&i| rules.rules[i].until.is_some() && rules.rules[i].until == day_before)
            .collect();
        for (heading, list) in [
            ("Rule versions that start on this day", &started),
            ("Rule versions that end the day before", &ended),
        ] {
            let _ = writeln!(body, "<h2>{heading}</h2>");
            if list.is_empty() {
                body.push_str("<p>None.</p>\n");
                continue;
            }
            body.push_str("<ul>\n");
            for &i in list.iter() {
                let rule = &rules.rules[i];
                // The version itself, on its rule's timeline.
                let _ = writeln!(
                    body,
                    "<li><a href=\"{}#{}-{}\">{}</a> {} ({}){}</li>",
                    self.part_pages[rule.part],
                    rule_anchor(&rule.id),
                    rule.from,
                    esc(&rule.id),
                    esc(&rule.cite),
                    esc(&rule.reference),
                    if rule.reconstructed {
                        " (reconstructed)"
                    } else {
                        ""
                    }
                );
            }
            body.push_str("</ul>\n");
        }
        body.push_str(&self.comparison_table(day));
        let changed: Vec<usize> = started.iter().chain(&ended).copied().collect();
        let touched: Vec<&CaseEntry> = self
            .cases
            .iter()
            .filter(|c| changed.iter().any(|i| c.fired.contains(i)))
            .collect();
        let _ = writeln!(
            body,
            "<h2>Impact over the cases</h2>\n<p>{} of {} cases have a finding or value from a rule version that starts or ends with this revision.</p>\n<ul>",
            touched.len(),
            self.cases.len()
        );
        case_items(&mut body, touched);
        body.push_str("</ul>\n");
        // The project's impact review is of its latest revision.
        let latest =
            rules.revisions.len() > 1 && rules.revisions.last().map(|r| r.date) == Some(day);
        if let Some(text) = impact.filter(|_| latest) {
            let _ = writeln!(
                body,
                "<h2>Impact review (docs/r8-impact/README.md)</h2>\n<pre>{}</pre>",
                esc(text)
            );
        }
        self.page(&format!("改定 {day}"), &body)
    }

    /// The 新旧対照表 of a revision: each paragraph whose text it changed, inserted or
    /// deleted, the text before (旧) beside the text from that day (新), what changed
    /// marked; with the rules citing the paragraph and the cases in which they speak.
    fn comparison_table(&self, day: NaiveDate) -> String {
        let rules = self.rules;
        let Some(before) = day.pred_opt() else {
            return String::new();
        };
        let mut rows = String::new();
        for (index, part) in rules.parts.iter().enumerate() {
            for (i, number) in part.numbers.iter().enumerate() {
                let (old, new) = (part.text_on(i, before), part.text_on(i, day));
                if old == new {
                    continue;
                }
                let (old_marked, new_marked) = marked(old.unwrap_or(""), new.unwrap_or(""));
                let citing: Vec<usize> = (0..rules.rules.len())
                    .filter(|&r| {
                        let rule = &rules.rules[r];
                        rule.part == index && part.paragraph_cited(&rule.reference) == Some(i)
                    })
                    .collect();
                let mut ids: Vec<&str> =
                    citing.iter().map(|&r| rules.rules[r].id.as_str()).collect();
                ids.dedup();
                let cases = self
                    .cases
                    .iter()
                    .filter(|c| citing.iter().any(|r| c.fired.contains(r)))
                    .count();
                let paragraph = number.cite("項");
                let _ = writeln!(
                    rows,
                    "<tr><td><a href=\"{}#p{}\">{} {paragraph}</a></td><td class=\"old\">{}</td><td class=\"new\">{}</td><td>{}</td><td>{cases}</td></tr>",
                    self.part_pages[index],
                    i + 1,
                    esc(&label(part)),
                    if old.is_none() {
                        "<em>(新設)</em>".to_owned()
                    } else {
                        old_marked
                    },
                    if new.is_none() {
                        "<em>(削除)</em>".to_owned()
                    } else {
                        new_marked
                    },
                    esc(&ids.join(", ")),
                );
            }
        }
        if rows.is_empty() {
            return "<h2>新旧対照表</h2>\n<p>This revision changes no text the rule set holds by date.</p>\n".to_owned();
        }
        format!(
            "<h2>新旧対照表</h2>\n<table class=\"comparison\"><tr><th>条項</th><th>旧 (to {before})</th><th>新 (from {day})</th><th>rules citing it</th><th>cases they speak in</th></tr>\n{rows}</table>\n"
        )
    }

    fn case(&self, case: &CaseEntry) -> String {
        let mut body = format!("<h1>{}</h1>\n<p>{}</p>\n", esc(&case.file), pass_mark(case));
        if !case.problems.is_empty() {
            body.push_str("<ul class=\"problems\">");
            for problem in &case.problems {
                let _ = write!(body, "<li>{}</li>", esc(problem));
            }
            body.push_str("</ul>\n");
        }
        if let Some(ruling) = &case.ruling {
            let _ = writeln!(
                body,
                "<h2>Ruling</h2>\n<p>rule set {} · revision in force {} · as of {}</p>",
                esc(&ruling.ruleset.name),
                esc(&ruling.ruleset.in_force),
                esc(&ruling.as_of)
            );
            for request in &ruling.requests {
                let decision = format!("{:?}", request.decision).to_lowercase();
                let _ = write!(
                    body,
                    "<div class=\"rule\"><strong>[{}] {}</strong>: <span class=\"{decision}\">{decision}</span>",
                    request.index,
                    esc(&request.kind)
                );
                for (name, value) in &request.values {
                    let _ = write!(body, "<div>{} = {}</div>", esc(name), esc(&value.as_text()));
                }
                body.push_str(&self.finding_list(&request.findings));
                body.push_str("</div>\n");
            }
            for contract in &ruling.contracts {
                let _ = write!(
                    body,
                    "<div class=\"rule\"><strong>contract {}</strong>",
                    esc(&contract.id)
                );
                for (name, value) in &contract.values {
                    let _ = write!(body, "<div>{} = {}</div>", esc(name), esc(&value.as_text()));
                }
                body.push_str(&self.finding_list(&contract.findings));
                body.push_str("</div>\n");
            }
        }
        let _ = writeln!(body, "<h2>Case</h2>\n<pre>{}</pre>", esc(&case.text));
        self.page(&case.file, &body)
    }

    fn finding_list(&self, findings: &[Finding]) -> String {
        let mut out = String::from("<ul>");
        for finding in findings {
            let name = outcome_name(finding.outcome);
            let cite = match self.rule_link(&finding.rule) {
                Some(link) => format!("<a href=\"{link}\">{}</a>", esc(&finding.cite)),
                None => esc(&finding.cite),
            };
            let _ = write!(
                out,
                "<li><span class=\"tag {name}\">{name}</span>{cite} <code>{}</code> {}</li>",
                esc(&finding.rule),
                esc(&finding.message.ja)
            );
        }
        out.push_str("</ul>");
        out
    }
}

/// One list item per case: a link to its page, and whether it passes.
/// A table row per field: its name, its type as `model.yaml` writes it, its meaning.
fn field_rows(body: &mut String, model: &crate::model::Model, fields: &[crate::model::FieldDef]) {
    for field in fields {
        let _ = writeln!(
            body,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&field.name),
            esc(&field.written(model)),
            esc(&field.description)
        );
    }
}

fn case_items<'a>(body: &mut String, cases: impl IntoIterator<Item = &'a CaseEntry>) {
    for case in cases {
        let _ = writeln!(
            body,
            "<li><a href=\"{}\">{}</a> {}</li>",
            case.page,
            esc(&case.file),
            pass_mark(case)
        );
    }
}

fn pass_mark(case: &CaseEntry) -> &'static str {
    if case.passed() {
        "<span class=\"pass\">pass</span>"
    } else {
        "<span class=\"fail\">fail</span>"
    }
}

/// The params of `ruleset.yaml` beside the rule set's files.
fn read_params(rules: &RuleSet) -> BTreeMap<String, serde_json::Value> {
    let Some(dir) = rules
        .parts
        .first()
        .and_then(|part| Path::new(&part.file).parent())
    else {
        return BTreeMap::new();
    };
    let path = dir.join("ruleset.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return BTreeMap::new();
    };
    match yaml::from_str::<RuleSetFile>(&text, Syntax::Yaml, None) {
        Ok(file) => file.params.into_iter().collect(),
        Err(_) => BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_scanned_from_expression_text() {
        let mut names = BTreeSet::new();
        params_read(
            "x >= params.min_accounts && myparams.no && params.items[kind] + params.",
            &mut names,
        );
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["items", "min_accounts"]
        );
    }

    #[test]
    fn calls_are_whole_names() {
        assert!(calls("x + remaining_fee(a, b)", "remaining_fee"));
        assert!(!calls("x + my_remaining_fee(a)", "remaining_fee"));
        assert!(!calls("remaining_fee + 1", "remaining_fee"));
    }

    #[test]
    fn names_are_escaped() {
        assert_eq!(
            esc("<a href='x'>&</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"
        );
    }
}
