//! Facts: each file's derived facts compiled, their versions checked, cycles refused;
//! and the compiling of one expression, which rules share.

use super::*;

impl Loader {
    /// Compiles every file's facts. Versions of one fact share its name and signature and
    /// are in force on separate days; facts may use each other but never in a cycle.
    pub(super) fn facts(
        &mut self,
        files: &[PartSource],
        parts: &[Part],
        schema: &Schema,
        params: &BTreeMap<String, (Type, Value)>,
        dated: &crate::ruleset::DatedParams,
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
                dated: Some(dated),
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
        self.fact_cycles(files, &facts, &signatures);
        (facts, signatures)
    }

    /// Facts may call facts, but never back to themselves: evaluation must end. A cycle is
    /// refused at the value of each fact on it, naming the facts it goes through.
    pub(super) fn fact_cycles(
        &mut self,
        files: &[PartSource],
        facts: &[Fact],
        signatures: &[FactSig],
    ) {
        let mut calls: Vec<Vec<usize>> = vec![Vec::new(); signatures.len()];
        for fact in facts {
            fact_calls(&fact.value.compiled.ir, &mut calls[fact.index]);
        }
        for (start, sig) in signatures.iter().enumerate() {
            // Depth first, each fact once, with the way it was reached.
            let mut seen = vec![false; signatures.len()];
            let mut stack: Vec<(usize, Vec<usize>)> = calls[start]
                .iter()
                .map(|&next| (next, vec![start]))
                .collect();
            while let Some((next, way)) = stack.pop() {
                if next == start {
                    let names: Vec<&str> = way
                        .iter()
                        .chain([&start])
                        .map(|&i| signatures[i].name.as_str())
                        .collect();
                    let message = format!(
                        "the fact `{}` depends on itself ({}): facts may not be circular",
                        sig.name,
                        names.join(" → ")
                    );
                    let at = facts.iter().find(|fact| fact.index == start);
                    self.diagnostics.push(match at {
                        Some(fact) => files[fact.part].source.error(&fact.value.path, message),
                        None => Diagnostic::new(None, format!("facts.{}", sig.name), message),
                    });
                    break;
                }
                if !std::mem::replace(&mut seen[next], true) {
                    let mut further = way.clone();
                    further.push(next);
                    stack.extend(calls[next].iter().map(|&after| (after, further.clone())));
                }
            }
        }
    }
}

/// The facts an expression calls.
pub(super) fn fact_calls(ir: &Ir, into: &mut Vec<usize>) {
    use Ir::*;
    match ir {
        Fact(index, args, _) => {
            into.push(*index);
            args.iter().for_each(|a| fact_calls(a, into));
        }
        Const(_) | Dated(_) | Var(_) | Local(_) | Value(..) => {}
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
pub(super) fn compile_expression(
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
