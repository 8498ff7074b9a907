//! Loading a rule set folder: read, parse, compile and check every file, collecting every
//! problem with its file, line and column rather than stopping at the first.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::format::{FactFile, PartFile, RuleFile, RuleSetFile, ValueType};
use super::{
    Expression, Fact, Part, PartLabel, Revision, Rule, RuleSet, ValueDef, parse_reference,
};
use crate::calendar;
use crate::error::{Diagnostic, LoadError};
use crate::expr::compile::{FactSig, Names, ValueSlot, Variable};
use crate::expr::{self, Ir, Problem, Schema, Type, Value};
use crate::model::format::ModelFile;
use crate::model::{
    CONTRACT, CUSTOMER, ChildDef, Effect, Model, RequestDef, Source as ModelSource,
};
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

/// The rule files' names and texts, in name order.
fn read_texts(dir: &Path) -> Result<Vec<(String, PathBuf, String)>, LoadError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| LoadError::Io { path, source }
    };
    let mut names: Vec<String> = fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml") || name.ends_with(".yml"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            let text = fs::read_to_string(&path).map_err(io(&path))?;
            Ok((name, path, text))
        })
        .collect()
}

fn read_sources(dir: &Path) -> Result<Vec<Source>, LoadError> {
    Ok(read_texts(dir)?
        .into_iter()
        .map(|(name, path, text)| Source::new(name, path.display().to_string(), text))
        .collect())
}

impl Source {
    fn new(name: String, display: String, text: String) -> Source {
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
    let texts = read_texts(&resolve_dir(dir)?)?;
    Ok(digest(
        texts
            .iter()
            .map(|(name, _, text)| (name.as_str(), text.as_str())),
    ))
}

/// `sha256:` over each file's name and text, in name order, so a ruling names exactly
/// the text that made it wherever the folder lies.
fn digest<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut hasher = Sha256::new();
    for (name, text) in files {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// Rule-set constants are JSON-like data; text that reads as `YYYY-MM-DD` is a date, and
/// text that looks like a date in another way (`2026/03/31`, `2026-3-31`, `2026-02-30`)
/// is an error where it is written, not a text that fails far away where a rule compares
/// it with a date. `path` is the param's place (`params.NAME[1]`), for the error.
fn constant(value: &serde_json::Value, path: &str) -> Result<(Type, Value), (String, String)> {
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

/// Whether a text param reads as a date written some other way than `YYYY-MM-DD`: four
/// digits, then two groups of one or two digits, separated alike by `-`, `/` or `.`.
fn looks_like_date(text: &str) -> bool {
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
fn not_a_date(text: &str) -> String {
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
fn value_type(ty: ValueType) -> Type {
    match ty {
        ValueType::Date => Type::Date,
        ValueType::Yen => Type::Yen,
        ValueType::Integer => Type::Int,
        ValueType::Decimal => Type::Decimal,
        ValueType::Bool => Type::Bool,
        ValueType::Text => Type::Text,
    }
}

/// Slots of the context variables, as the evaluator fills them.
pub(crate) mod slot {
    pub const DATE: usize = 0;
    pub const AS_OF: usize = 1;
    pub const CUSTOMER: usize = 2;
    pub const CONTRACTS: usize = 3;
    pub const REQUEST: usize = 4;
    pub const CONTRACT: usize = 5;
    pub const CHILD: usize = 6;
    pub const REQUEST_INDEX: usize = 7;
    pub const COUNT: usize = 8;
}

/// The context variables a rule judging `subjects` may read, and why others are absent:
/// `date`, `as_of`, the customer, the contracts formed and the contract judged; a
/// request's rules also read `request`, and the record inside the contract it is about
/// by that record type's name when every subject has one of the same type.
fn context(model: &Model, subjects: &[String]) -> (Vec<Variable>, Vec<(String, String)>) {
    let var = |name: &str, ty, slot| Variable {
        name: name.to_owned(),
        ty,
        slot,
    };
    let record = |i: usize| Type::Record(model.records[i].shape.name.clone());
    let mut variables = vec![
        var("date", Type::Date, slot::DATE),
        var("as_of", Type::Date, slot::AS_OF),
        var(CUSTOMER, record(model.customer), slot::CUSTOMER),
        var(
            "contracts",
            Type::list(record(model.contract)),
            slot::CONTRACTS,
        ),
        var(CONTRACT, record(model.contract), slot::CONTRACT),
    ];
    let mut absent = Vec::new();
    let requests: Vec<&RequestDef> = subjects.iter().filter_map(|s| model.request(s)).collect();
    if requests.len() == subjects.len() {
        let ty = match requests.as_slice() {
            [one] => Type::Record(one.name.clone()),
            _ => Type::OneOf(requests.iter().map(|r| r.name.clone()).collect()),
        };
        variables.push(var("request", ty, slot::REQUEST));
        // Its place in the case's requests, as an end's `ended_by` names it.
        variables.push(var("request_index", Type::Int, slot::REQUEST_INDEX));
    } else {
        absent.push((
            "request".to_owned(),
            "a rule that judges contracts on `as_of` has no request".to_owned(),
        ));
    }
    let children: Vec<Option<&ChildDef>> = requests.iter().map(|r| r.child.as_ref()).collect();
    let first = children.first().copied().flatten();
    let shared = requests.len() == subjects.len()
        && first.is_some_and(|c| {
            children
                .iter()
                .all(|o| o.is_some_and(|o| o.record == c.record))
        });
    match first {
        Some(child) if shared => {
            // A held record may be missing: then there is none.
            let ty = if children.iter().flatten().any(|c| c.select.is_some()) {
                Type::maybe(record(child.record))
            } else {
                record(child.record)
            };
            variables.push(var(
                &model.records[child.record].shape.name,
                ty,
                slot::CHILD,
            ));
        }
        _ => {
            for child in model.requests.iter().filter_map(|r| r.child.as_ref()) {
                let name = model.records[child.record].shape.name.to_string();
                if !absent.iter().any(|(n, _)| *n == name) {
                    let why = format!(
                        "only rules judging requests that are all about a {name} have a `{name}`"
                    );
                    absent.push((name, why));
                }
            }
        }
    }
    (variables, absent)
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
        for (name, value) in &set.params {
            match constant(value, &format!("params.{name}")) {
                Ok(typed) => {
                    params.insert(name.clone(), typed);
                }
                Err((path, message)) => {
                    self.diagnostics.push(head.error(&path, message));
                    broken_params.push(format!("has no param `{name}`"));
                }
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
                    if let Some(label) = self.label(source, &file) {
                        parts.push(Part {
                            file: source.display.clone(),
                            label,
                            title: file.title.clone(),
                            paragraphs: file.paragraphs.clone(),
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
        let (facts, signatures) = self.facts(&files, &parts, &schema, &params, &revisions);

        let mut rules = Vec::new();
        // Values of rules that did not compile: reading them is not another mistake.
        let mut poisoned: Vec<usize> = Vec::new();
        for (part_index, part) in files.iter().enumerate() {
            for (i, rule) in part.file.rules.iter().enumerate() {
                let compiler = RuleCompiler {
                    model: &model,
                    schema: &schema,
                    params: &params,
                    values: &values,
                    facts: &signatures,
                    source: part.source,
                    path: format!("rules[{i}]"),
                    id: &rule.id,
                    poisoned: &poisoned,
                };
                match compiler.compile(
                    rule,
                    part_index,
                    &parts[part_index],
                    &set,
                    &revisions,
                    &rules,
                ) {
                    Ok(rule) => rules.push((rule, part.source, i)),
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
            digest: digest(sources.iter().map(|s| (s.name.as_str(), s.text.as_str()))),
            revisions,
            parts,
            rules: rules.into_iter().map(|(rule, ..)| rule).collect(),
            value_names: values.iter().map(|v| v.name.clone()).collect(),
            values,
            facts,
            params,
            model,
            by_subject: HashMap::new(),
        };
        set.retain_rules(|_| true);
        Ok(set)
    }

    /// Every diagnostic, by file and place, each naming the rule it lies in.
    fn sorted(&mut self, sources: &[Source]) -> Vec<Diagnostic> {
        let mut all: Vec<Diagnostic> = std::mem::take(&mut self.diagnostics)
            .into_iter()
            .map(|d| {
                let text = sources.iter().find(|s| Some(&s.display) == d.file.as_ref());
                let rule = text.and_then(|s| rule_of(&d, &s.text));
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
            .map(|v| (v.name.clone(), value_type(v.ty)))
            .collect();
        match Model::compile(&file, &typed) {
            Ok(model) => Some(model),
            Err(problems) => {
                for problem in problems {
                    self.diagnostics
                        .push(source.error(&problem.path, problem.message));
                }
                None
            }
        }
    }

    /// What an accepted request does may not wait on a value no rule computes: every
    /// `values.NAME` an effect reads is computed, on every day a request of that type may
    /// be made, by rule versions that judge it and compute the value without a `when`.
    /// Otherwise a set that passes `check` could fail on a case.
    fn effects_computed(
        &mut self,
        sources: &[Source],
        model: &Model,
        rules: &[(Rule, &Source, usize)],
        revisions: &[Revision],
        values: &[ValueDef],
    ) {
        let Some(source) = sources.iter().find(|s| s.name == MODEL_FILE) else {
            return;
        };
        let Some(first) = revisions.first().map(|r| r.date) else {
            return;
        };
        for request in &model.requests {
            let (from, until) = request.in_force.unwrap_or((first, None));
            for (i, effect) in request.effects.iter().enumerate() {
                let read = match effect {
                    Effect::Form(on) | Effect::End(on) | Effect::EndChild(on) => vec![*on],
                    Effect::Set { from, to, .. } => vec![*from, *to],
                    Effect::AddChild => Vec::new(),
                    Effect::Record { fields, .. } => fields.iter().map(|(_, s)| *s).collect(),
                };
                for slot in read.into_iter().filter_map(|s| match s {
                    ModelSource::Value(slot) => Some(slot),
                    ModelSource::Request(_) => None,
                }) {
                    // What a request decided in case order does cannot wait on amounts
                    // computed once every request is decided.
                    let settled = rules.iter().map(|(rule, ..)| rule).find(|rule| {
                        rule.settled
                            && rule.applies_to.iter().any(|s| **s == *request.name)
                            && rule.values.iter().any(|(v, _)| *v == slot)
                    });
                    if let (false, Some(rule)) = (request.settled, settled) {
                        self.diagnostics.push(source.error(
                            &format!("requests.{}.effects[{i}]", request.name),
                            format!(
                                "reads `values.{}`, which the settled rule `{}` computes once every request is decided: what a request decided in case order does cannot depend on later requests",
                                values[slot].name, rule.id
                            ),
                        ));
                        continue;
                    }
                    let mut spans: Vec<(NaiveDate, Option<NaiveDate>)> = rules
                        .iter()
                        .map(|(rule, ..)| rule)
                        .filter(|rule| {
                            rule.when.is_none()
                                && rule.applies_to.iter().any(|s| **s == *request.name)
                                && rule.values.iter().any(|(v, _)| *v == slot)
                        })
                        .map(|rule| (rule.from, rule.until))
                        .collect();
                    spans.sort();
                    if let Some(gap) = first_gap(from.max(first), until, &spans) {
                        self.diagnostics.push(source.error(
                            &format!("requests.{}.effects[{i}]", request.name),
                            format!(
                                "no rule judging every {} request computes `values.{}` on {gap}, so an accepted one could not take effect",
                                request.name, values[slot].name
                            ),
                        ));
                    }
                }
            }
        }
    }

    /// A request's `child: select: from:` names a fact `(contract, date) -> [record]`
    /// listing the candidates.
    fn selections(&mut self, sources: &[Source], model: &mut Model, signatures: &[FactSig]) {
        let contract = Type::Record(model.contract_def().shape.name.clone());
        let names: Vec<(String, Type)> = model
            .records
            .iter()
            .map(|r| (r.shape.name.to_string(), Type::Record(r.shape.name.clone())))
            .collect();
        let source = sources.iter().find(|s| s.name == MODEL_FILE);
        for request in &mut model.requests {
            let Some(child) = &mut request.child else {
                continue;
            };
            let Some(select) = &mut child.select else {
                continue;
            };
            let Some((name, index)) = &mut select.from else {
                continue;
            };
            let wanted = Type::list(names[child.record].1.clone());
            let found = signatures.iter().position(|f| f.name == *name);
            let fits = found.is_some_and(|i| {
                let f = &signatures[i];
                f.params.iter().map(|(_, t)| t).eq([&contract, &Type::Date]) && f.result == wanted
            });
            if fits {
                *index = found;
            } else if let Some(source) = source {
                self.diagnostics.push(source.error(
                    &format!("requests.{}.child.select.from", request.name),
                    format!("`{name}` is not a fact ({CONTRACT}, date) of type {wanted}"),
                ));
            }
        }
    }

    /// Compiles every file's facts. Versions of one fact share its name and signature and
    /// are in force on separate days; facts may use each other but never in a cycle.
    fn facts(
        &mut self,
        files: &[PartSource],
        parts: &[Part],
        schema: &Schema,
        params: &BTreeMap<String, (Type, Value)>,
        revisions: &[Revision],
    ) -> (Vec<Fact>, Vec<FactSig>) {
        let mut signatures: Vec<FactSig> = Vec::new();
        // Each version: its file, path, and signature index.
        let mut declared: Vec<(usize, &PartSource, String, &FactFile)> = Vec::new();
        for (part_index, part) in files.iter().enumerate() {
            for (i, fact) in part.file.facts.iter().enumerate() {
                let path = format!("facts[{i}]");
                let source = part.source;
                let mut params_typed = Vec::new();
                let mut ok = true;
                for (name, ty) in &fact.params {
                    match Type::parse(ty, schema) {
                        Ok(t) => params_typed.push((name.clone(), t)),
                        Err(message) => {
                            ok = false;
                            self.diagnostics
                                .push(source.error(&format!("{path}.params.{name}"), message));
                        }
                    }
                }
                let result = match Type::parse(&fact.ty, schema) {
                    Ok(t) => t,
                    Err(message) => {
                        self.diagnostics
                            .push(source.error(&format!("{path}.type"), message));
                        continue;
                    }
                };
                if !ok {
                    continue;
                }
                if let Some(dates) = &fact.in_force {
                    check_dates(
                        source,
                        &path,
                        dates.from,
                        dates.until,
                        revisions,
                        &mut self.diagnostics,
                    );
                }
                let sig = FactSig {
                    name: fact.name.clone(),
                    params: params_typed,
                    result,
                };
                match signatures.iter().position(|s| s.name == fact.name) {
                    Some(index) => {
                        let same = signatures[index].params == sig.params
                            && signatures[index].result == sig.result;
                        if !same {
                            self.diagnostics.push(source.error(
                                &format!("{path}.name"),
                                format!(
                                    "another version of `{}` has other parameters or another type",
                                    fact.name
                                ),
                            ));
                            continue;
                        }
                    }
                    None => signatures.push(sig),
                }
                match parse_reference(&fact.reference) {
                    Some((cited, _)) if cited == parts[part_index].label => {}
                    _ => self.diagnostics.push(source.error(
                        &format!("{path}.ref"),
                        format!(
                            "`{}` is not a citation of this file's part, like \"9.2\" or \"appx2\"",
                            fact.reference
                        ),
                    )),
                }
                declared.push((part_index, part, path, fact));
            }
        }
        let mut facts = Vec::new();
        for (part_index, part, path, fact) in declared {
            let index = signatures
                .iter()
                .position(|s| s.name == fact.name)
                .unwrap_or_default();
            let sig = &signatures[index];
            let names = Names {
                schema: Some(schema),
                variables: Vec::new(),
                absent: ["date", "as_of", "contracts", "request"]
                    .into_iter()
                    .chain(schema.records.keys().map(|k| &**k))
                    .filter(|n| !sig.params.iter().any(|(p, _)| p == n))
                    .map(|n| {
                        let why =
                            "a fact reads only its parameters and params: pass it what it needs";
                        (n.to_owned(), why.to_owned())
                    })
                    .collect(),
                params: Some(params),
                values: None,
                facts: &signatures,
                arguments: sig.params.clone(),
                narrowed: Vec::new(),
            };
            let owner = format!("fact {}", fact.name);
            let value = compile_expression(
                part.source,
                &format!("{path}.value"),
                &owner,
                &fact.value,
                &names,
                &sig.result,
                &mut self.diagnostics,
            );
            let Some(value) = value else { continue };
            let (from, until) = fact
                .in_force
                .map_or((None, None), |d| (Some(d.from), d.until));
            let overlapping = facts.iter().any(|other: &Fact| {
                other.index == index
                    && other.from.zip(until).is_none_or(|(f, u)| f <= u)
                    && from.zip(other.until).is_none_or(|(f, u)| f <= u)
            });
            if overlapping {
                self.diagnostics.push(part.source.error(
                    &format!("{path}.in_force"),
                    format!(
                        "another version of `{}` is in force on some of these days",
                        fact.name
                    ),
                ));
            }
            facts.push(Fact {
                name: fact.name.clone(),
                index,
                reference: fact.reference.clone(),
                description: fact.description.clone(),
                part: part_index,
                from,
                until,
                params: sig.params.clone(),
                ty: sig.result.clone(),
                value,
            });
        }
        self.fact_cycles(&facts, &signatures);
        (facts, signatures)
    }

    /// Facts may call facts, but never back to themselves: evaluation must end.
    fn fact_cycles(&mut self, facts: &[Fact], signatures: &[FactSig]) {
        let mut calls: Vec<Vec<usize>> = vec![Vec::new(); signatures.len()];
        for fact in facts {
            fact_calls(&fact.value.compiled.ir, &mut calls[fact.index]);
        }
        for (start, sig) in signatures.iter().enumerate() {
            let mut seen = vec![false; signatures.len()];
            let mut stack = calls[start].clone();
            while let Some(next) = stack.pop() {
                if next == start {
                    self.diagnostics.push(Diagnostic::new(
                        None,
                        format!("facts.{}", sig.name),
                        format!(
                            "the fact `{}` depends on itself: facts may not be circular",
                            sig.name
                        ),
                    ));
                    break;
                }
                if !std::mem::replace(&mut seen[next], true) {
                    stack.extend(calls[next].iter().copied());
                }
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

    fn duplicate_parts(&mut self, parts: &[Part], files: &[PartSource]) {
        for (i, pair) in parts.windows(2).enumerate() {
            if pair[0].label == pair[1].label {
                self.diagnostics.push(files[i + 1].source.error(
                    "",
                    format!("{} encodes the same part as {}", pair[1].file, pair[0].file),
                ));
            }
        }
    }

    /// Two versions of one rule must not be in force on the same day.
    fn overlapping_versions(&mut self, rules: &[(Rule, &Source, usize)]) {
        for (j, (later, source, i)) in rules.iter().enumerate() {
            for (earlier, other, k) in &rules[..j] {
                let overlap = earlier.id == later.id
                    && earlier.until.is_none_or(|until| later.from <= until)
                    && later.until.is_none_or(|until| earlier.from <= until);
                if overlap {
                    let place = other
                        .locator
                        .get()
                        .find(&format!("rules[{k}].id"))
                        .map_or(String::new(), |at| format!(":{}:{}", at.line, at.column));
                    self.diagnostics.push(source.error(
                        &format!("rules[{i}].id"),
                        format!(
                            "rule `{}` is already in force on some of these days ({}{place}): its versions must not overlap",
                            later.id, other.display
                        ),
                    ));
                }
            }
        }
    }
}

/// The facts an expression calls.
fn fact_calls(ir: &Ir, into: &mut Vec<usize>) {
    use Ir::*;
    match ir {
        Fact(index, args, _) => {
            into.push(*index);
            args.iter().for_each(|a| fact_calls(a, into));
        }
        Const(_) | Var(_) | Local(_) | Value(..) => {}
        Field(a, ..) | Not(a) | Negate(a, _) | Len(a) => fact_calls(a, into),
        Index(a, b)
        | And(a, b)
        | Or(a, b)
        | Arith(_, a, b, _)
        | Concat(a, b)
        | Equal(_, a, b)
        | Order(_, a, b)
        | In(a, b)
        | Let(_, a, b)
        | Each(_, a, _, b, _) => {
            fact_calls(a, into);
            fact_calls(b, into);
        }
        If(a, b, c) | Reduce(a, _, _, b, c) => {
            fact_calls(a, into);
            fact_calls(b, into);
            fact_calls(c, into);
        }
        Call(_, args, _) | List(args) => args.iter().for_each(|a| fact_calls(a, into)),
    }
}

/// Parses and type-checks the expression at `path`; problems become diagnostics at their
/// file, line and column, naming `owner` (the rule id or fact).
fn compile_expression(
    source: &Source,
    path: &str,
    owner: &str,
    text: &str,
    names: &Names,
    expected: &Type,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Expression> {
    let compiled = expr::rhai_front::parse(text)
        .and_then(|syntax| expr::compile::compile(&syntax, names, Some(expected)));
    match compiled {
        Ok(compiled) => Some(Expression {
            source: text.to_owned(),
            path: path.to_owned(),
            compiled,
            file: source.locator.clone(),
        }),
        Err(problems) => {
            diagnostics.extend(problems.into_iter().map(|p| source.problem(path, owner, p)));
            None
        }
    }
}

/// Versions begin on a revision's day and end the day before one.
fn check_dates(
    source: &Source,
    path: &str,
    from: NaiveDate,
    until: Option<NaiveDate>,
    revisions: &[Revision],
    found: &mut Vec<Diagnostic>,
) {
    let is_revision = |day: NaiveDate| revisions.iter().any(|r| r.date == day);
    if !is_revision(from) {
        found.push(source.error(
            &format!("{path}.in_force.from"),
            format!("{from} is not the day of a revision in ruleset.yaml"),
        ));
    }
    if let Some(until) = until {
        if until < from {
            found.push(source.error(&format!("{path}.in_force.until"), "ends before it begins"));
        } else if !until.succ_opt().is_some_and(is_revision) {
            found.push(source.error(
                &format!("{path}.in_force.until"),
                format!("{until} is not the day before a revision in ruleset.yaml"),
            ));
        }
    }
}

struct RuleCompiler<'a> {
    model: &'a Model,
    schema: &'a Schema,
    params: &'a BTreeMap<String, (Type, Value)>,
    values: &'a [ValueDef],
    facts: &'a [FactSig],
    source: &'a Source,
    path: String,
    id: &'a str,
    poisoned: &'a [usize],
}

impl RuleCompiler<'_> {
    fn error(&self, field: &str, message: impl Into<String>) -> Diagnostic {
        let path = if field.is_empty() {
            self.path.clone()
        } else {
            format!("{}.{field}", self.path)
        };
        self.source
            .error(&path, format!("{}: {}", self.id, message.into()))
    }

    /// Which values a rule's expression may read: those an earlier rule judging every one
    /// of its subjects computes on every day it is in force, or that this rule computed
    /// before; each other one says why not.
    fn readiness(
        &self,
        rule: &RuleFile,
        earlier: &[(Rule, &Source, usize)],
        own: &[usize],
    ) -> Vec<ValueSlot> {
        self.values
            .iter()
            .enumerate()
            .map(|(slot, value)| {
                let ready = own.contains(&slot)
                    || self.poisoned.contains(&slot)
                    || rule.applies_to.iter().all(|subject| {
                        earlier.iter().any(|(r, ..)| {
                            r.when.is_none()
                                && r.applies_to.contains(subject)
                                && r.values.iter().any(|(s, _)| *s == slot)
                                && r.from <= rule.in_force.from
                                && r.until.is_none_or(|u| {
                                    rule.in_force.until.is_some_and(|until| until <= u)
                                })
                        })
                    });
                let conditional = earlier.iter().find(|(r, ..)| {
                    r.values.iter().any(|(s, _)| *s == slot)
                        && r.applies_to.iter().any(|s| rule.applies_to.contains(s))
                });
                // A rule deciding in case order cannot wait on the settled timeline.
                let settled_by = (!self.judged_settled(rule.settled, &rule.applies_to))
                    .then(|| {
                        earlier.iter().find(|(r, ..)| {
                            r.settled
                                && r.values.iter().any(|(s, _)| *s == slot)
                                && r.applies_to.iter().any(|s| rule.applies_to.contains(s))
                        })
                    })
                    .flatten();
                if let Some((r, ..)) = settled_by {
                    return ValueSlot {
                        name: value.name.clone(),
                        ty: value_type(value.ty),
                        not_ready: Some(format!(
                            "which the settled rule `{}` computes once every request is decided: a rule deciding in case order cannot read it (mark this rule `settled: true`)",
                            r.id
                        )),
                    };
                }
                ValueSlot {
                    name: value.name.clone(),
                    ty: value_type(value.ty),
                    not_ready: (!ready).then(|| match conditional {
                        Some((r, ..)) if r.when.is_some() => format!(
                            "which rule `{}` computes only when its `when` holds",
                            r.id
                        ),
                        _ => "before a rule judging every one of this rule's subjects computes it on all of its days".to_owned(),
                    }),
                }
            })
            .collect()
    }

    /// Whether a rule is judged on the settled timeline: marked so, or judging only
    /// request types the model decides there.
    fn judged_settled(&self, settled: bool, subjects: &[String]) -> bool {
        settled
            || subjects
                .iter()
                .all(|s| self.model.request(s).is_some_and(|r| r.settled))
    }

    fn compile(
        &self,
        rule: &RuleFile,
        part_index: usize,
        part: &Part,
        set: &RuleSetFile,
        revisions: &[Revision],
        earlier: &[(Rule, &Source, usize)],
    ) -> Result<Rule, Vec<Diagnostic>> {
        let mut found = Vec::new();
        let cite = match parse_reference(&rule.reference) {
            Some((cited, cite)) if cited == part.label => {
                let paragraph = super::paragraph_of(&rule.reference).unwrap_or(1);
                if paragraph == 0 || paragraph > part.paragraphs.len() {
                    found.push(self.error(
                        "ref",
                        format!(
                            "cites paragraph {paragraph}, but the text has {}",
                            part.paragraphs.len()
                        ),
                    ));
                }
                cite
            }
            Some(_) => {
                found.push(self.error(
                    "ref",
                    format!("`{}` cites another part than this file's", rule.reference),
                ));
                String::new()
            }
            None => {
                found.push(self.error(
                    "ref",
                    format!("`{}` is not a citation like \"6.1\", \"9.2.2\", \"appx2\" or \"suppl.YYYY-MM-DD.2\"", rule.reference),
                ));
                String::new()
            }
        };
        check_dates(
            self.source,
            &self.path,
            rule.in_force.from,
            rule.in_force.until,
            revisions,
            &mut found,
        );
        if rule.applies_to.is_empty() {
            found.push(self.error("applies_to", "name at least one request type or `contract`"));
        }
        match (rule.outcome.is_some(), rule.message.is_some()) {
            (true, false) => {
                found.push(self.error("message", "a rule with an outcome needs a message"))
            }
            (false, true) => {
                found.push(self.error("outcome", "a rule with a message needs an outcome"))
            }
            _ => {}
        }
        if rule.require.is_some() && rule.outcome.is_none() {
            found.push(self.error(
                "outcome",
                "a rule with `require` needs the outcome of its finding",
            ));
        }
        if rule.outcome.is_none() && rule.values.is_empty() {
            found.push(self.error("", "the rule neither computes values nor makes a finding"));
        }
        if rule.settled {
            if rule.applies_to.iter().any(|s| s == CONTRACT) {
                found.push(self.error(
                    "settled",
                    "contracts are judged on `as_of` once the case is settled; `settled` is for rules judging requests",
                ));
            }
            let decided: Vec<&str> = rule
                .applies_to
                .iter()
                .filter(|s| self.model.request(s).is_some_and(|r| !r.settled))
                .map(String::as_str)
                .collect();
            if rule.outcome == Some(crate::ruling::Outcome::Reject) && !decided.is_empty() {
                found.push(self.error(
                    "outcome",
                    format!(
                        "a settled rule cannot reject a {} request: it is decided in case order before the case is settled (give `warn` or `info`, or mark the request type `settled` in model.yaml)",
                        decided.join(" or ")
                    ),
                ));
            }
        }
        if let Some(message) = &rule.message {
            for (language, text) in [("ja", &message.ja), ("en", &message.en)] {
                for (offset, name) in placeholder_offsets(text) {
                    let known = match name.strip_prefix("params.") {
                        Some(param) => self.params.contains_key(param),
                        None => set.values.contains_key(name),
                    };
                    if known {
                        continue;
                    }
                    // At the placeholder itself, with the nearest name it may have meant.
                    let field = format!("message.{language}");
                    let before = &text[..offset];
                    let line = before.matches('\n').count() + 1;
                    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
                        .chars()
                        .count()
                        + 1;
                    let path = format!("{}.{field}", self.path);
                    let at = self.source.locator.get().inside(&path, line, column);
                    let hint = match name.strip_prefix("params.") {
                        Some(param) => crate::expr::compile::did_you_mean(
                            param,
                            self.params.keys().map(String::as_str),
                        )
                        .map(|hint| hint.replacen('`', "`params.", 1)),
                        None => crate::expr::compile::did_you_mean(
                            name,
                            set.values.keys().map(String::as_str),
                        ),
                    };
                    found.push(
                        self.error(
                            &field,
                            format!("`{{{name}}}` names no declared value or param"),
                        )
                        .at(at)
                        .with_hint(hint),
                    );
                }
            }
        }
        for (i, subject) in rule.applies_to.iter().enumerate() {
            if subject != CONTRACT && self.model.request(subject).is_none() {
                let mut known: Vec<&str> = self.model.requests.iter().map(|r| &*r.name).collect();
                known.push(CONTRACT);
                found.push(
                    self.error(
                        &format!("applies_to[{i}]"),
                        format!(
                            "`{subject}` is neither a request type of model.yaml nor `{CONTRACT}` (they are: {})",
                            known.join(", ")
                        ),
                    )
                    .with_hint(crate::expr::compile::did_you_mean(subject, known.iter().copied())),
                );
            }
        }
        if !found.is_empty()
            && rule
                .applies_to
                .iter()
                .any(|s| s != CONTRACT && self.model.request(s).is_none())
        {
            // What its expressions may read depends on what it judges: not another mistake.
            return Err(found);
        }
        let (variables, absent) = context(self.model, &rule.applies_to);
        let mut own: Vec<usize> = Vec::new();
        let names = |own: &[usize]| -> Vec<ValueSlot> { self.readiness(rule, earlier, own) };
        let compile = |field: &str,
                       text: &str,
                       expected: &Type,
                       values: &[ValueSlot],
                       narrowed: &[(String, Type)],
                       found: &mut Vec<Diagnostic>| {
            let names = Names {
                narrowed: narrowed.to_vec(),
                schema: Some(self.schema),
                variables: variables.clone(),
                absent: absent.clone(),
                params: Some(self.params),
                values: Some(values),
                facts: self.facts,
                arguments: Vec::new(),
            };
            compile_expression(
                self.source,
                &format!("{}.{field}", self.path),
                self.id,
                text,
                &names,
                expected,
                found,
            )
        };
        let when = rule
            .when
            .as_ref()
            .and_then(|t| compile("when", t, &Type::Bool, &names(&own), &[], &mut found));
        // What the `when` establishes holds in the rest of the rule.
        let narrowed = when
            .as_ref()
            .map(|w| w.compiled.if_true.clone())
            .unwrap_or_default();
        let mut values = Vec::new();
        for (name, text) in &rule.values {
            let Some(slot) = self.values.iter().position(|v| v.name == *name) else {
                found.push(self.error(
                    &format!("values.{name}"),
                    format!("`{name}` is not among the values declared in ruleset.yaml"),
                ));
                continue;
            };
            let expected = value_type(self.values[slot].ty);
            if let Some(e) = compile(
                &format!("values.{name}"),
                text,
                &expected,
                &names(&own),
                &narrowed,
                &mut found,
            ) {
                values.push((slot, e));
            }
            own.push(slot);
        }
        let require = rule.require.as_ref().and_then(|t| {
            compile(
                "require",
                t,
                &Type::Bool,
                &names(&own),
                &narrowed,
                &mut found,
            )
        });
        if !found.is_empty() {
            return Err(found);
        }
        Ok(Rule {
            id: rule.id.clone(),
            reference: rule.reference.clone(),
            cite,
            part: part_index,
            from: rule.in_force.from,
            until: rule.in_force.until,
            reconstructed: rule.reconstructed,
            applies_to: rule.applies_to.clone(),
            settled: rule.settled,
            when,
            values,
            require,
            outcome: rule.outcome,
            message: rule.message.clone(),
        })
    }
}

/// The id of the rule a diagnostic lies in, when its path lies in `rules[N]` of a rule
/// file whose text is `text`. A file that does not parse has no field paths to go by:
/// then the rule is the last `- id:` entry above the diagnostic's line.
fn rule_of(diagnostic: &Diagnostic, text: &str) -> Option<String> {
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
    crate::yaml::rule_id(text, path).or_else(|| {
        (path == "rules" || path.starts_with("rules["))
            .then(by_line)
            .flatten()
    })
}

/// The `{name}` placeholders of a message, each with the byte offset of its `{`.
fn placeholder_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('{').map(|i| from + i) {
        let Some(close) = text[open + 1..].find('}').map(|i| open + 1 + i) else {
            break;
        };
        let name = &text[open + 1..close];
        // A `{` inside the name starts the next placeholder instead.
        if let Some(inner) = name.rfind('{') {
            from = open + 1 + inner;
            continue;
        }
        found.push((open, name));
        from = close + 1;
    }
    found
}

/// The first day from `from` through `until` (or on) that no span covers, if any.
fn first_gap(
    from: NaiveDate,
    until: Option<NaiveDate>,
    spans: &[(NaiveDate, Option<NaiveDate>)],
) -> Option<NaiveDate> {
    let mut day = from;
    for &(start, end) in spans {
        if until.is_some_and(|u| day > u) {
            return None;
        }
        if start > day {
            return Some(day);
        }
        match end {
            None => return None,
            Some(end) if end >= day => day = end.succ_opt()?,
            Some(_) => {}
        }
    }
    (until.is_none_or(|u| day <= u)).then_some(day)
}

/// The `{name}` placeholders of a message.
pub(crate) fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{')
        .skip(1)
        .filter_map(|piece| piece.split_once('}').map(|(name, _)| name))
}

#[cfg(test)]
mod gap_tests {
    use super::first_gap;
    use chrono::NaiveDate;

    fn day(text: &str) -> NaiveDate {
        crate::calendar::parse_date(text).unwrap()
    }

    #[test]
    fn spans_cover_from_a_day_on_or_leave_a_gap() {
        let open = [(day("2022-09-01"), None)];
        assert_eq!(first_gap(day("2022-09-01"), None, &open), None);
        let split = [
            (day("2022-09-01"), Some(day("2026-03-31"))),
            (day("2026-04-01"), None),
        ];
        assert_eq!(first_gap(day("2022-09-01"), None, &split), None);
        let ended = [(day("2022-09-01"), Some(day("2026-03-31")))];
        assert_eq!(
            first_gap(day("2022-09-01"), None, &ended),
            Some(day("2026-04-01"))
        );
        assert_eq!(
            first_gap(day("2022-09-01"), Some(day("2026-03-31")), &ended),
            None
        );
        let late = [(day("2026-04-01"), None)];
        assert_eq!(
            first_gap(day("2022-09-01"), None, &late),
            Some(day("2022-09-01"))
        );
        assert_eq!(
            first_gap(day("2022-09-01"), None, &[]),
            Some(day("2022-09-01"))
        );
    }
}
