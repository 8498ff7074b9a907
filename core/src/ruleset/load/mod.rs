//! Loading a rule set folder: read, parse, compile and check every file, collecting every
//! problem with its file, line and column rather than stopping at the first.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

mod checks;
mod facts;
mod params;
mod rules;

use facts::compile_expression;
use params::{constant, value_type};
pub(crate) use rules::placeholders;
use rules::{RuleCompiler, check_dates};

use super::context::context;
use super::format::{FactFile, PartFile, RuleFile, RuleSetFile, ValueType};
use super::{
    Expression, Fact, Part, PartLabel, Revision, Rule, RuleSet, ValueDef, parse_reference,
};
use crate::calendar;
use crate::error::{Diagnostic, LoadError};
use crate::expr::compile::{FactSig, Names, ValueSlot};
use crate::expr::{self, Ir, Problem, Schema, Type, Value};
use crate::file;
use crate::model::format::ModelFile;
use crate::model::{CONTRACT, Effect, Model, Source as ModelSource};
use crate::yaml::{self, LazyLocator, Syntax};

/// The file naming a rule set inside its folder.
const RULESET_FILE: &str = "ruleset.yaml";
/// The file declaring a rule set's model: its records and requests.
const MODEL_FILE: &str = "model.yaml";

/// The folder holding `ruleset.yaml`: `dir` itself, or its only subfolder that has one
/// (so `rules/` and `rules/iij-secure-access/` both name the bundled set).
pub fn resolve_dir(dir: &Path) -> Result<PathBuf, LoadError> {
    if dir.join(RULESET_FILE).is_file() {
        return Ok(dir.to_path_buf());
    }
    let io = |source| LoadError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join(RULESET_FILE).is_file())
        .collect();
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(LoadError::Invalid(vec![Diagnostic::new(
            Some(&dir.display().to_string()),
            "",
            format!("no {RULESET_FILE} here or in a subfolder"),
        )])),
        _ => Err(LoadError::Invalid(vec![Diagnostic::new(
            Some(&dir.display().to_string()),
            "",
            "several rule sets here: name one folder with --rules",
        )])),
    }
}

/// A rule file's text, name and field positions.
struct Source {
    name: String,
    display: String,
    text: String,
    locator: std::sync::Arc<LazyLocator>,
}

impl Source {
    fn error(&self, path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Some(&self.display), path, message).at(self.locator.get().find(path))
    }

    /// A diagnostic for a problem inside the expression at `path`.
    fn problem(&self, path: &str, owner: &str, problem: Problem) -> Diagnostic {
        let locator = self.locator.get();
        let at = locator
            .inside(path, problem.pos.line as usize, problem.pos.column as usize)
            .or(locator.find(path));
        let message = format!("{owner}: {}", problem.message);
        Diagnostic::new(Some(&self.display), path, message)
            .at(at)
            .with_hint(problem.hint)
    }
}

impl RuleSet {
    /// Loads the rule set in `dir` (see [`resolve_dir`]).
    pub fn load(dir: &Path) -> Result<RuleSet, LoadError> {
        let dir = resolve_dir(dir)?;
        let sources = read_sources(&dir)?;
        Loader::default().load(&sources)
    }
}

/// The largest rule file read, in bytes: the bundled set's largest is about 20 KB.
pub const MAX_RULE_FILE_BYTES: u64 = 4 << 20;

/// A rule file as read from the folder: its bytes, or why it is not read.
struct RawFile {
    name: String,
    path: PathBuf,
    bytes: Result<Vec<u8>, String>,
}

/// The rule files' names and contents, in name order. Only regular files are read (a
/// FIFO named `*.yaml` would block the reader for good), each at most
/// [`MAX_RULE_FILE_BYTES`]; anything else is kept as a refusal, for [`read_sources`] to
/// report and the digest to cover, so an unreadable file is a refused set, not a hang.
fn read_files(dir: &Path) -> Result<Vec<RawFile>, LoadError> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map_err(|source| LoadError::Io {
            path: dir.display().to_string(),
            source,
        })?
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml") || name.ends_with(".yml"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            let bytes =
                file::read_regular(&path, MAX_RULE_FILE_BYTES).map_err(|source| LoadError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
            Ok(RawFile { name, path, bytes })
        })
        .collect()
}

/// The rule files as texts; every file that is not read, or is not UTF-8, is a
/// diagnostic at its place, all of them together.
fn read_sources(dir: &Path) -> Result<Vec<Source>, LoadError> {
    let mut sources = Vec::new();
    let mut refused = Vec::new();
    for file in read_files(dir)? {
        let display = file.path.display().to_string();
        match file.bytes.map(yaml::document_text) {
            Ok(Ok(text)) => sources.push(Source::new(file.name, display, text)),
            Ok(Err(error)) => refused.push(
                Diagnostic::new(Some(&display), "", format!("the file is {error}"))
                    .at(Some(error.position)),
            ),
            Err(why) => refused.push(Diagnostic::new(
                Some(&display),
                "",
                format!("the file {why}"),
            )),
        }
    }
    if refused.is_empty() {
        Ok(sources)
    } else {
        Err(LoadError::Invalid(refused))
    }
}

impl Source {
    fn new(name: String, display: String, text: String) -> Source {
        // Rule files come from editors: a leading byte order mark is dropped.
        let text = yaml::owned_without_bom(text);
        Source {
            locator: std::sync::Arc::new(LazyLocator::new(&text)),
            display,
            name,
            text,
        }
    }
}

impl RuleSet {
    /// Loads a rule set from its files' names and texts, as if read from the folder
    /// `folder` (which names them in diagnostics and rulings).
    pub fn load_texts(folder: &str, files: &[(&str, &str)]) -> Result<RuleSet, LoadError> {
        let mut sources: Vec<Source> = files
            .iter()
            .map(|&(name, text)| {
                Source::new(name.to_owned(), format!("{folder}/{name}"), text.to_owned())
            })
            .collect();
        sources.sort_by(|a, b| a.name.cmp(&b.name));
        Loader::default().load(&sources)
    }
}

/// The digest a rule set loaded from `dir` would carry, without compiling it: cheap
/// enough to tell every second whether the folder changed.
pub fn source_digest(dir: &Path) -> Result<String, LoadError> {
    let files = read_files(&resolve_dir(dir)?)?;
    Ok(digest(files.iter().map(|file| {
        // The bytes the loader reads as text: without a byte order mark (`Source::new`).
        let content = match &file.bytes {
            Ok(bytes) => bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes),
            Err(why) => why.as_bytes(),
        };
        (file.name.as_str(), content)
    })))
}

/// `sha256:` over each file's name and bytes, in name order, so a ruling names exactly
/// the text that made it wherever the folder lies. A file that is not read counts by why.
fn digest<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut hasher = Sha256::new();
    for (name, content) in files {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(content);
        hasher.update([0]);
    }
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

#[derive(Default)]
struct Loader {
    diagnostics: Vec<Diagnostic>,
}

/// A rule file's part with its source.
struct PartSource<'a> {
    source: &'a Source,
    file: PartFile,
}

impl Loader {
    fn load(mut self, sources: &[Source]) -> Result<RuleSet, LoadError> {
        // Checked by `resolve_dir`, but the folder may change in between (a hot reload).
        let Some(head) = sources.iter().find(|s| s.name == RULESET_FILE) else {
            return Err(LoadError::Invalid(vec![Diagnostic::new(
                None,
                "",
                format!("{RULESET_FILE} is missing"),
            )]));
        };
        let set: RuleSetFile = yaml::from_str(&head.text, Syntax::Yaml, Some(&head.display))
            .map_err(|d| LoadError::Invalid(vec![d]))?;
        let revisions = self.revisions(head, &set);
        let mut params = BTreeMap::new();
        // A param refused where it is written is not, again, missing where it is read.
        let mut broken_params: Vec<String> = Vec::new();
        let mut dated = crate::ruleset::DatedParams::new();
        for (name, value) in &set.params {
            let path = format!("params.{name}");
            let read = match params::dated_values(value) {
                Some(by_day) => params::dated(by_day, &path, &revisions).map(|(ty, values)| {
                    let timeline = Value::Timeline(std::sync::Arc::new(values));
                    dated.insert(name.clone(), (ty, timeline));
                }),
                None => constant(value, &path).map(|typed| {
                    params.insert(name.clone(), typed);
                }),
            };
            if let Err((path, message)) = read {
                self.diagnostics.push(head.error(&path, message));
                broken_params.push(format!("has no param `{name}`"));
            }
        }
        let values: Vec<ValueDef> = set
            .values
            .iter()
            .map(|(name, decl)| ValueDef {
                name: name.clone(),
                ty: decl.ty(),
                rejected: decl.rejected(),
                shown: decl.shown(),
                optional: decl.optional(),
            })
            .collect();
        for value in &values {
            if value.rejected.is_some()
                && !matches!(
                    value.ty,
                    ValueType::Yen | ValueType::Integer | ValueType::Decimal
                )
            {
                self.diagnostics.push(head.error(
                    &format!("values.{}.rejected", value.name),
                    "only an amount has a value for rejected requests",
                ));
            }
        }

        let mut parts = Vec::new();
        let mut files: Vec<PartSource> = Vec::new();
        let model = self.model(sources, &values);
        for source in sources
            .iter()
            .filter(|s| s.name != RULESET_FILE && s.name != MODEL_FILE)
        {
            match yaml::from_str::<PartFile>(&source.text, Syntax::Yaml, Some(&source.display)) {
                Ok(file) => {
                    let numbered = Part::number_paragraphs(&file.paragraphs);
                    if let Err((at, why)) = &numbered {
                        self.diagnostics
                            .push(source.error(&format!("paragraphs[{at}]"), why.clone()));
                    }
                    if let Ok(numbered) = &numbered {
                        // A text changes when the terms do: on a revision's day.
                        for (at, versions) in numbered.versions.iter().enumerate() {
                            for (day, _) in versions {
                                if !revisions.iter().any(|r| r.date == *day) {
                                    self.diagnostics.push(source.error(
                                        &format!("paragraphs[{at}].dated"),
                                        format!("{day} is not a revision's day: a text changes when the terms do"),
                                    ));
                                }
                            }
                        }
                    }
                    if let (Some(label), Ok(numbered)) = (self.label(source, &file), numbered) {
                        parts.push(Part {
                            file: source.display.clone(),
                            label,
                            title: file.title.clone(),
                            paragraphs: numbered.texts,
                            numbers: numbered.numbers,
                            versions: numbered.versions,
                            locator: source.locator.clone(),
                        });
                        files.push(PartSource { source, file });
                    }
                }
                Err(diagnostic) => self.diagnostics.push(diagnostic),
            }
        }
        // Evaluation order is the terms' order: articles, appendices, supplementary.
        let mut order: Vec<usize> = (0..parts.len()).collect();
        order.sort_by_key(|&i| parts[i].label);
        let parts: Vec<Part> = order.iter().map(|&i| parts[i].clone()).collect();
        let mut files: Vec<Option<PartSource>> = files.into_iter().map(Some).collect();
        let files: Vec<PartSource> = order.iter().filter_map(|&i| files[i].take()).collect();
        self.duplicate_parts(&parts, &files);

        let Some(mut model) = model else {
            return Err(LoadError::Invalid(self.sorted(sources)));
        };
        let mut schema = Schema::default();
        expr::builtins::register(&mut schema);
        model.register(&mut schema);
        let (facts, signatures) = self.facts(&files, &parts, &schema, &params, &dated, &revisions);

        let mut rules = Vec::new();
        // Values of rules that did not compile: reading them is not another mistake.
        let mut poisoned: Vec<usize> = Vec::new();
        let mut setters: Vec<Vec<usize>> = vec![Vec::new(); values.len()];
        for (part_index, part) in files.iter().enumerate() {
            for (i, rule) in part.file.rules.iter().enumerate() {
                let compiler = RuleCompiler {
                    model: &model,
                    schema: &schema,
                    params: &params,
                    dated: &dated,
                    values: &values,
                    facts: &signatures,
                    source: part.source,
                    path: format!("rules[{i}]"),
                    id: &rule.id,
                    poisoned: &poisoned,
                    setters: &setters,
                };
                match compiler.compile(
                    rule,
                    part_index,
                    &parts[part_index],
                    &set,
                    &revisions,
                    &rules,
                ) {
                    Ok(rule) => {
                        for (slot, _) in &rule.values {
                            if let Some(setting) = setters.get_mut(*slot) {
                                setting.push(rules.len());
                            }
                        }
                        rules.push((rule, part.source, i));
                    }
                    Err(mut found) => {
                        self.diagnostics.append(&mut found);
                        poisoned.extend(
                            rule.values
                                .keys()
                                .filter_map(|name| values.iter().position(|v| v.name == *name)),
                        );
                    }
                }
            }
        }
        self.overlapping_versions(&rules);
        self.selections(sources, &mut model, &signatures);
        self.effects_computed(sources, &model, &rules, &revisions, &values);
        self.diagnostics.retain(|d| {
            !broken_params
                .iter()
                .any(|b| d.message.ends_with(b.as_str()))
        });

        if !self.diagnostics.is_empty() {
            return Err(LoadError::Invalid(self.sorted(sources)));
        }
        let mut set = RuleSet {
            name: set.name,
            title: set.title,
            digest: digest(sources.iter().map(|s| (s.name.as_str(), s.text.as_bytes()))),
            revisions,
            parts,
            rules: rules.into_iter().map(|(rule, ..)| rule).collect(),
            value_names: values.iter().map(|v| v.name.clone()).collect(),
            values,
            facts,
            params,
            dated,
            model,
            by_subject: HashMap::new(),
        };
        set.retain_rules(|_| true);
        Ok(set)
    }

    /// Every diagnostic, by file and place, each naming the rule it lies in.
    fn sorted(&mut self, sources: &[Source]) -> Vec<Diagnostic> {
        // Each file's rule ids, read once however many diagnostics it has.
        let mut ids: HashMap<usize, Option<Vec<Option<String>>>> = HashMap::new();
        let mut all: Vec<Diagnostic> = std::mem::take(&mut self.diagnostics)
            .into_iter()
            .map(|d| {
                let found = sources
                    .iter()
                    .position(|s| Some(&s.display) == d.file.as_ref());
                let rule = found.and_then(|i| {
                    let text = &sources[i].text;
                    let ids = ids.entry(i).or_insert_with(|| crate::yaml::rule_ids(text));
                    rule_of(&d, text, ids.as_deref())
                });
                d.in_rule(rule)
            })
            .collect();
        all.sort_by(|a, b| {
            (&a.file, a.position.map(|p| (p.line, p.column)))
                .cmp(&(&b.file, b.position.map(|p| (p.line, p.column))))
        });
        all
    }

    /// The model of `model.yaml`, checked against the declared values.
    fn model(&mut self, sources: &[Source], values: &[ValueDef]) -> Option<Model> {
        let Some(source) = sources.iter().find(|s| s.name == MODEL_FILE) else {
            self.diagnostics.push(Diagnostic::new(
                None,
                "",
                format!("{MODEL_FILE} is missing: a rule set declares the records and requests of its cases"),
            ));
            return None;
        };
        let file: ModelFile =
            match yaml::from_str(&source.text, Syntax::Yaml, Some(&source.display)) {
                Ok(file) => file,
                Err(diagnostic) => {
                    self.diagnostics.push(diagnostic);
                    return None;
                }
            };
        let typed: Vec<(String, Type)> = values
            .iter()
            .map(|v| (v.name.clone(), value_type(v)))
            .collect();
        match Model::compile(&file, &typed) {
            // Its defaults bounded, each is read as a case's value of its field would be.
            Ok(model) => {
                let refused = crate::model::read::default_problems(&model);
                for (path, message) in &refused {
                    self.diagnostics.push(source.error(
                        path,
                        format!("this default is not a value of its field: {message}"),
                    ));
                }
                refused.is_empty().then_some(model)
            }
            Err(problems) => {
                for problem in problems {
                    self.diagnostics
                        .push(source.error(&problem.path, problem.message));
                }
                None
            }
        }
    }

    fn revisions(&mut self, head: &Source, set: &RuleSetFile) -> Vec<Revision> {
        if set.revisions.is_empty() {
            self.diagnostics
                .push(head.error("revisions", "a rule set needs at least one revision"));
        }
        for (i, pair) in set.revisions.windows(2).enumerate() {
            if pair[1].date <= pair[0].date {
                self.diagnostics.push(head.error(
                    &format!("revisions[{}].date", i + 1),
                    "revisions must be listed oldest first, each on its own day",
                ));
            }
        }
        set.revisions
            .iter()
            .map(|r| Revision {
                date: r.date,
                title: r.title.clone(),
                reconstructed: r.reconstructed,
            })
            .collect()
    }

    fn label(&mut self, source: &Source, file: &PartFile) -> Option<PartLabel> {
        let labels: Vec<PartLabel> = [
            file.article.map(PartLabel::Article),
            file.appendix.map(PartLabel::Appendix),
            file.supplementary.map(PartLabel::Supplementary),
        ]
        .into_iter()
        .flatten()
        .collect();
        if labels.len() != 1 {
            self.diagnostics.push(source.error(
                "",
                "a rule file names exactly one of `article`, `appendix` or `supplementary`",
            ));
            return None;
        }
        Some(labels[0])
    }
}

/// The id of the rule a diagnostic lies in, when its path lies in `rules[N]` of a rule
/// file whose text is `text` and whose rule ids are `ids`. A file that does not parse has
/// no field paths to go by: then the rule is the last `- id:` entry above the
/// diagnostic's line.
fn rule_of(diagnostic: &Diagnostic, text: &str, ids: Option<&[Option<String>]>) -> Option<String> {
    if let Some(rule) = diagnostic.rule() {
        return Some(rule.to_owned());
    }
    let by_line = || {
        let line = diagnostic.position?.line;
        text.lines()
            .take(line)
            .filter_map(|l| l.trim_start().strip_prefix("- id:"))
            .last()
            .map(|id| id.trim().trim_matches(['"', '\'']).to_owned())
            .filter(|id| !id.is_empty())
    };
    let path = &diagnostic.path;
    let index: Option<usize> = path
        .strip_prefix("rules[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|n| n.parse().ok());
    let by_path = index.and_then(|i| ids?.get(i)?.clone());
    by_path.or_else(|| {
        (path == "rules" || path.starts_with("rules["))
            .then(by_line)
            .flatten()
    })
}
