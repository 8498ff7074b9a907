//! Loading a rule set folder: read, parse, compile and check every file, collecting every
//! problem with its file, line and column rather than stopping at the first.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rhai::{AST, Array, Dynamic, INT, Map, Module, OptimizationLevel, Scope};
use sha2::{Digest, Sha256};

use super::check::{self, Schema, Shape, VARIABLES};
use super::format::{PartFile, RuleFile, RuleSetFile};
use super::{Expression, Part, PartLabel, Revision, Rule, RuleSet, Subject, parse_reference};
use crate::calendar;
use crate::engine::{self, Limits};
use crate::error::{Diagnostic, LoadError};
use crate::yaml::{self, Locator, Syntax};

/// The file naming a rule set inside its folder.
const RULESET_FILE: &str = "ruleset.yaml";

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
    locator: Locator,
}

impl Source {
    fn error(&self, path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Some(&self.display), path, message).at(self.locator.find(path))
    }

    /// A diagnostic at `line`/`column` inside the expression at `path`.
    fn error_inside(&self, path: &str, line: usize, column: usize, message: String) -> Diagnostic {
        let at = self
            .locator
            .inside(path, line, column)
            .or(self.locator.find(path));
        Diagnostic::new(Some(&self.display), path, message).at(at)
    }
}

impl RuleSet {
    /// Loads the rule set in `dir` (see [`resolve_dir`]) with the default limits.
    pub fn load(dir: &Path) -> Result<RuleSet, LoadError> {
        RuleSet::load_with(dir, Limits::default())
    }

    /// Loads the rule set in `dir`, its engine bounded by `limits`.
    pub fn load_with(dir: &Path, limits: Limits) -> Result<RuleSet, LoadError> {
        let dir = resolve_dir(dir)?;
        let sources = read_sources(&dir)?;
        Loader::default().load(&sources, limits)
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
        .map(|(name, path, text)| Source {
            locator: Locator::new(&text),
            display: path.display().to_string(),
            name,
            text,
        })
        .collect())
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

/// Rule-set values are JSON-like data; dates (`YYYY-MM-DD`) become `Date`s.
fn to_dynamic(value: &serde_json::Value) -> Result<Dynamic, String> {
    Ok(match value {
        serde_json::Value::Null => Dynamic::UNIT,
        serde_json::Value::Bool(b) => Dynamic::from(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Dynamic::from(i as INT),
            None => {
                return Err(format!(
                    "{n} is not a whole number: write decimals as text and convert in the rule"
                ));
            }
        },
        serde_json::Value::String(text) => match calendar::parse_date(text) {
            Some(day) => Dynamic::from(day),
            None => Dynamic::from(text.clone()),
        },
        serde_json::Value::Array(items) => {
            Dynamic::from(items.iter().map(to_dynamic).collect::<Result<Array, _>>()?)
        }
        serde_json::Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(k.into(), to_dynamic(v)?);
            }
            Dynamic::from(out)
        }
    })
}

/// The scope expressions compile in: the context variables, with params as constants.
fn compile_scope(params: &Dynamic) -> Scope<'static> {
    let mut scope = Scope::new();
    for name in VARIABLES {
        if name == "params" {
            scope.push_constant_dynamic(name, params.clone());
        } else {
            scope.push_dynamic(name, Dynamic::UNIT);
        }
    }
    scope
}

#[derive(Default)]
struct Loader {
    diagnostics: Vec<Diagnostic>,
}

impl Loader {
    fn load(mut self, sources: &[Source], limits: Limits) -> Result<RuleSet, LoadError> {
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
        let mut param_map = Map::new();
        for (name, value) in &set.params {
            match to_dynamic(value) {
                Ok(v) => {
                    param_map.insert(name.into(), v);
                }
                Err(message) => self
                    .diagnostics
                    .push(head.error(&format!("params.{name}"), message)),
            }
        }
        let params = Dynamic::from(param_map);

        let mut engine = engine::new_engine(&limits);
        // Checks read the AST as written; constants are folded after they pass.
        engine.set_optimization_level(OptimizationLevel::None);

        let mut parts = Vec::new();
        let mut files: Vec<(&Source, PartFile)> = Vec::new();
        for source in sources.iter().filter(|s| s.name != RULESET_FILE) {
            match yaml::from_str::<PartFile>(&source.text, Syntax::Yaml, Some(&source.display)) {
                Ok(file) => match self.label(source, &file) {
                    Some(label) => {
                        parts.push(Part {
                            file: source.display.clone(),
                            label,
                            title: file.title.clone(),
                            paragraphs: file.paragraphs.clone(),
                        });
                        files.push((source, file));
                    }
                    None => continue,
                },
                Err(diagnostic) => self.diagnostics.push(diagnostic),
            }
        }
        // Evaluation order is the terms' order: articles, appendices, supplementary.
        let mut order: Vec<usize> = (0..parts.len()).collect();
        order.sort_by_key(|&i| parts[i].label);
        let parts: Vec<Part> = order.iter().map(|&i| parts[i].clone()).collect();
        let files: Vec<&(&Source, PartFile)> = order.iter().map(|&i| &files[i]).collect();
        self.duplicate_parts(&parts, &files);

        let params_scope = {
            let mut scope = Scope::new();
            scope.push_constant_dynamic("params", params.clone());
            scope
        };
        let value_names: Vec<String> = set.values.keys().cloned().collect();
        let params_shape = Shape::of_json(&serde_json::Value::Object(
            set.params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ));
        let defined = self.definitions(
            &mut engine,
            &files,
            &params_scope,
            &params_shape,
            &value_names,
        );
        let compile_scope = compile_scope(&params);
        let held_options = defined
            .contains(&(super::HELD_OPTIONS.to_owned(), 2))
            .then(|| {
                let call = format!("{}(contract, date)", super::HELD_OPTIONS);
                engine
                    .compile_expression_with_scope(&compile_scope, call)
                    .ok()
            })
            .flatten();
        let schema = Schema::new(params_shape, &value_names, &engine);

        let mut rules = Vec::new();
        for (part_index, (source, file)) in files.iter().enumerate() {
            for (i, rule) in file.rules.iter().enumerate() {
                let compiled = RuleCompiler {
                    engine: &engine,
                    scope: &compile_scope,
                    schema: &schema,
                    source,
                    path: format!("rules[{i}]"),
                }
                .compile(
                    rule,
                    part_index,
                    parts[part_index].label,
                    &parts[part_index],
                    &set,
                    &revisions,
                );
                match compiled {
                    Ok(rule) => rules.push((rule, *source, i)),
                    Err(mut found) => self.diagnostics.append(&mut found),
                }
            }
        }
        self.overlapping_versions(&rules);
        self.values_order(&rules);

        if !self.diagnostics.is_empty() {
            return Err(LoadError::Invalid(self.diagnostics));
        }
        engine.set_optimization_level(OptimizationLevel::Simple);
        let rules: Vec<Rule> = rules
            .into_iter()
            .map(|(mut rule, ..)| {
                let optimize = |e: &mut Expression| {
                    let ast = std::mem::take(&mut e.ast);
                    e.ast = engine.optimize_ast(&compile_scope, ast, OptimizationLevel::Simple);
                };
                rule.when.iter_mut().for_each(optimize);
                rule.values.iter_mut().for_each(|(_, e)| optimize(e));
                rule.require.iter_mut().for_each(optimize);
                rule
            })
            .collect();
        let mut set = RuleSet {
            name: set.name,
            title: set.title,
            digest: digest(sources.iter().map(|s| (s.name.as_str(), s.text.as_str()))),
            revisions,
            parts,
            rules,
            value_types: set.values,
            limits,
            engine,
            // Shared: every evaluation's scope holds it, and a shared value clones cheaply.
            params: params.into_shared(),
            held_options,
            by_subject: HashMap::new(),
            reads: HashMap::new(),
        };
        set.retain_rules(|_| true);
        Ok(set)
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

    fn duplicate_parts(&mut self, parts: &[Part], files: &[&(&Source, PartFile)]) {
        for (i, pair) in parts.windows(2).enumerate() {
            if pair[0].label == pair[1].label {
                let (source, _) = files[i + 1];
                self.diagnostics.push(source.error(
                    "",
                    format!("{} encodes the same part as {}", pair[1].file, pair[0].file),
                ));
            }
        }
    }

    /// Compiles every file's `definitions` into one module of functions for all rules, and
    /// gives the name and arity of each function defined.
    fn definitions(
        &mut self,
        engine: &mut rhai::Engine,
        files: &[&(&Source, PartFile)],
        scope: &Scope,
        params_shape: &Shape,
        value_names: &[String],
    ) -> HashSet<(String, usize)> {
        let mut compiled: Vec<(&Source, AST)> = Vec::new();
        // Each function's name and arity, with the file that defines it.
        let mut defined: HashMap<(String, usize), String> = HashMap::new();
        for (source, file) in files {
            let Some(text) = &file.definitions else {
                continue;
            };
            match engine.compile_with_scope(scope, text) {
                Ok(ast) => {
                    for function in ast.iter_functions() {
                        let key = (function.name.to_owned(), function.params.len());
                        if let Some(other) = defined.insert(key, source.display.clone()) {
                            self.diagnostics.push(source.error(
                                "definitions",
                                format!("function `{}` is also defined in {other}", function.name),
                            ));
                        }
                    }
                    compiled.push((source, ast));
                }
                Err(error) => self
                    .diagnostics
                    .push(parse_error(source, "definitions", &error)),
            }
        }
        let local: HashSet<String> = defined.keys().map(|(name, _)| name.clone()).collect();
        let schema = Schema::new(params_shape.clone(), value_names, engine);
        let mut all = AST::empty();
        for (source, ast) in &compiled {
            for problem in check::check(ast, &schema, &local).problems {
                self.diagnostics.push(source.error_inside(
                    "definitions",
                    problem.line,
                    problem.column,
                    problem.message,
                ));
            }
            // Functions cannot see the caller's scope: the rule set's params are folded
            // into their bodies as the constants they are; a use left unfolded is refused.
            let ast = engine.optimize_ast(scope, ast.clone(), OptimizationLevel::Simple);
            for at in variable_uses(&ast, "params") {
                self.diagnostics.push(source.error_inside(
                    "definitions",
                    at.line().unwrap_or(1),
                    at.position().unwrap_or(1),
                    "`params` here cannot be resolved when the rule set loads: bind the field first (let fees = params.NAME; fees[key])".to_owned(),
                ));
            }
            all += ast;
        }
        match Module::eval_ast_as_new(scope.clone(), &all, engine) {
            Ok(module) => {
                engine.register_global_module(module.into());
            }
            Err(error) => self.diagnostics.push(Diagnostic::new(
                None,
                "definitions",
                format!("the definitions do not load: {}", engine::describe(&error)),
            )),
        }
        defined.into_keys().collect()
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

    /// A rule may read `values.X` only after a rule judging the same subject computed it.
    fn values_order(&mut self, rules: &[(Rule, &Source, usize)]) {
        let mut computed: HashMap<Subject, HashSet<&str>> = HashMap::new();
        for (rule, source, i) in rules {
            let mut own: HashSet<&str> = HashSet::new();
            let mut check_reads = |reads: &[String], path: String, own: &HashSet<&str>| {
                for name in reads {
                    for subject in &rule.applies_to {
                        let ready = own.contains(name.as_str())
                            || computed
                                .get(subject)
                                .is_some_and(|set| set.contains(name.as_str()));
                        if !ready {
                            self.diagnostics.push(source.error(
                                &path,
                                format!(
                                    "reads `values.{name}` before any rule judging {subject:?} computes it"
                                ),
                            ));
                            break;
                        }
                    }
                }
            };
            if let Some(when) = &rule.when {
                check_reads(&when.values_read, format!("rules[{i}].when"), &own);
            }
            for (name, expression) in &rule.values {
                check_reads(
                    &expression.values_read,
                    format!("rules[{i}].values.{name}"),
                    &own,
                );
                own.insert(name);
            }
            if let Some(require) = &rule.require {
                check_reads(&require.values_read, format!("rules[{i}].require"), &own);
            }
            for subject in &rule.applies_to {
                computed
                    .entry(*subject)
                    .or_default()
                    .extend(own.iter().copied());
            }
        }
    }
}

/// Where `ast` (functions included) reads the variable `name`.
fn variable_uses(ast: &AST, name: &str) -> Vec<rhai::Position> {
    let mut found = Vec::new();
    ast.walk(&mut |path: &[rhai::ASTNode]| {
        if let Some(rhai::ASTNode::Expr(rhai::Expr::Variable(variable, _, at))) = path.last()
            && variable.1 == name
        {
            found.push(*at);
        }
        true
    });
    found
}

fn parse_error(source: &Source, path: &str, error: &rhai::ParseError) -> Diagnostic {
    let position = error.position();
    source.error_inside(
        path,
        position.line().unwrap_or(1),
        position.position().unwrap_or(1),
        format!("does not compile: {}", error.err_type()),
    )
}

struct RuleCompiler<'a> {
    engine: &'a rhai::Engine,
    scope: &'a Scope<'static>,
    schema: &'a Schema,
    source: &'a Source,
    path: String,
}

impl RuleCompiler<'_> {
    fn expression(
        &self,
        field: &str,
        text: &str,
        found: &mut Vec<Diagnostic>,
    ) -> Option<Expression> {
        let path = format!("{}.{field}", self.path);
        match self.engine.compile_with_scope(self.scope, text) {
            Ok(ast) => {
                let checked = check::check(&ast, self.schema, &HashSet::new());
                for problem in &checked.problems {
                    found.push(self.source.error_inside(
                        &path,
                        problem.line,
                        problem.column,
                        problem.message.clone(),
                    ));
                }
                Some(Expression {
                    source: text.to_owned(),
                    ast,
                    values_read: checked.values_read.into_iter().collect(),
                    paths_read: checked.paths_read.into_iter().collect(),
                })
            }
            Err(error) => {
                found.push(parse_error(self.source, &path, &error));
                None
            }
        }
    }

    fn error(&self, field: &str, message: impl Into<String>) -> Diagnostic {
        let path = if field.is_empty() {
            self.path.clone()
        } else {
            format!("{}.{field}", self.path)
        };
        self.source.error(&path, message)
    }

    #[allow(clippy::too_many_arguments)]
    fn compile(
        &self,
        rule: &RuleFile,
        part_index: usize,
        label: PartLabel,
        part: &Part,
        set: &RuleSetFile,
        revisions: &[Revision],
    ) -> Result<Rule, Vec<Diagnostic>> {
        let mut found = Vec::new();
        let cite = match parse_reference(&rule.reference) {
            Some((cited, cite)) if cited == label => {
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
        self.check_dates(rule, revisions, &mut found);
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
        for name in rule.values.keys() {
            if !set.values.contains_key(name) {
                found.push(self.error(
                    &format!("values.{name}"),
                    format!("`{name}` is not among the values declared in ruleset.yaml"),
                ));
            }
        }
        if let Some(message) = &rule.message {
            for name in placeholders(&message.ja).chain(placeholders(&message.en)) {
                if !set.values.contains_key(name) {
                    found.push(
                        self.error("message", format!("`{{{name}}}` names no declared value")),
                    );
                }
            }
        }
        let when = rule
            .when
            .as_ref()
            .and_then(|t| self.expression("when", t, &mut found));
        let values = rule
            .values
            .iter()
            .filter_map(|(name, t)| {
                self.expression(&format!("values.{name}"), t, &mut found)
                    .map(|e| (name.clone(), e))
            })
            .collect();
        let require = rule
            .require
            .as_ref()
            .and_then(|t| self.expression("require", t, &mut found));
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
            when,
            values,
            require,
            outcome: rule.outcome,
            message: rule.message.clone(),
        })
    }

    /// Versions begin on a revision's day and end the day before one.
    fn check_dates(&self, rule: &RuleFile, revisions: &[Revision], found: &mut Vec<Diagnostic>) {
        let is_revision = |day: NaiveDate| revisions.iter().any(|r| r.date == day);
        if !is_revision(rule.in_force.from) {
            found.push(self.error(
                "in_force.from",
                format!(
                    "{} is not the day of a revision in ruleset.yaml",
                    rule.in_force.from
                ),
            ));
        }
        if let Some(until) = rule.in_force.until {
            if until < rule.in_force.from {
                found.push(self.error("in_force.until", "ends before it begins"));
            } else if !until.succ_opt().is_some_and(is_revision) {
                found.push(self.error(
                    "in_force.until",
                    format!("{until} is not the day before a revision in ruleset.yaml"),
                ));
            }
        }
    }
}

/// The `{name}` placeholders of a message.
fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{')
        .skip(1)
        .filter_map(|piece| piece.split_once('}').map(|(name, _)| name))
}
