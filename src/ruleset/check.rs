//! Static checks of compiled expressions: every property a rule reads must exist in the
//! case model (or the rule set's params and values), and every function it calls must be
//! known. A typo such as `contract.acounts` would otherwise read as `()` and silently
//! change a ruling; here it is a load error at its file and line.

use std::collections::{BTreeSet, HashMap, HashSet};

use rhai::{AST, ASTNode, Engine, Expr, Position};

/// The fields an object of the evaluation context has, and the shape of each.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    /// An object with these fields.
    Object(HashMap<String, Shape>),
    /// A value whose properties are not checked by name (arrays, text, numbers).
    Opaque,
}

impl Shape {
    fn object<'a>(fields: impl IntoIterator<Item = (&'a str, Shape)>) -> Shape {
        Shape::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    fn leaves<'a>(names: impl IntoIterator<Item = &'a str>) -> Shape {
        Shape::object(names.into_iter().map(|n| (n, Shape::Opaque)))
    }

    /// The shape of a JSON value (params).
    pub(crate) fn of_json(value: &serde_json::Value) -> Shape {
        match value {
            serde_json::Value::Object(map) => Shape::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Shape::of_json(v)))
                    .collect(),
            ),
            _ => Shape::Opaque,
        }
    }
}

/// The variables every expression sees, with their shapes.
pub(crate) struct Schema {
    roots: HashMap<String, Shape>,
    /// Every field name of every shape, for properties of values whose shape is unknown
    /// (function parameters, closure arguments).
    known_fields: HashSet<String>,
    known_functions: HashSet<String>,
}

/// The names of the evaluation context's variables, in scope order.
pub(crate) const VARIABLES: [&str; 9] = [
    "date",
    "as_of",
    "params",
    "customer",
    "contracts",
    "request",
    "contract",
    "option",
    "values",
];

impl Schema {
    /// The schema of the case model, with the rule set's params and value names.
    pub(crate) fn new(params: Shape, values: &[String], engine: &Engine) -> Schema {
        let date = Shape::leaves(["year", "month", "day"]);
        let fees = Shape::leaves(["basic_monthly", "per_account_monthly"]);
        let option = Shape::object([
            ("kind", Shape::Opaque),
            ("billing_start", date.clone()),
            ("ended", date.clone()),
            ("fees", fees.clone()),
        ]);
        let contract = Shape::object([
            ("id", Shape::Opaque),
            ("kind", Shape::Opaque),
            ("item", Shape::Opaque),
            ("accounts", Shape::Opaque),
            ("formed", date.clone()),
            ("billing_start", date.clone()),
            ("ended", date.clone()),
            ("fees", fees.clone()),
            ("sandbox_continuation_declared", date.clone()),
            ("options", Shape::Opaque),
        ]);
        let request = Shape::object([
            ("type", Shape::Opaque),
            ("date", date.clone()),
            ("contract", contract.clone()),
            ("accounts", Shape::Opaque),
            ("option", Shape::Opaque),
            ("billing_start", date.clone()),
            ("fees", fees),
            ("notice_arrived", date.clone()),
            ("requested_end", date.clone()),
            ("general_terms_28", Shape::Opaque),
            ("attributable_to_provider", Shape::Opaque),
            ("total", Shape::Opaque),
            ("known_at", Shape::Opaque),
            ("restored_at", Shape::Opaque),
            ("claimed_on", date.clone()),
        ]);
        let customer = Shape::object([
            ("id", Shape::Opaque),
            (
                "environment",
                Shape::leaves(["policy_decided", "network", "settings_disclosed"]),
            ),
        ]);
        let values = Shape::leaves(values.iter().map(String::as_str));
        let roots: HashMap<String, Shape> = [
            ("date", date.clone()),
            ("as_of", date),
            ("params", params),
            ("customer", customer),
            ("contracts", Shape::Opaque),
            ("request", request),
            ("contract", contract),
            ("option", option),
            ("values", values),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();

        let mut known_fields = HashSet::new();
        roots
            .values()
            .for_each(|shape| collect_fields(shape, &mut known_fields));
        let mut known_functions = HashSet::new();
        let names =
            engine.collect_fn_metadata(None, |info| Some(info.metadata.name.to_string()), true);
        for name in names {
            // Property getters are registered as `get$name`.
            if let Some(property) = name.strip_prefix("get$") {
                known_fields.insert(property.to_owned());
            }
            known_functions.insert(name);
        }
        // Built into the language rather than registered.
        for name in [
            "Fn",
            "call",
            "curry",
            "type_of",
            "is_def_var",
            "is_def_fn",
            "is_shared",
        ] {
            known_functions.insert(name.to_owned());
        }
        Schema {
            roots,
            known_fields,
            known_functions,
        }
    }
}

fn collect_fields(shape: &Shape, into: &mut HashSet<String>) {
    if let Shape::Object(fields) = shape {
        for (name, child) in fields {
            into.insert(name.clone());
            collect_fields(child, into);
        }
    }
}

/// A problem found in an expression, at a line and column inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// What an expression reads, and what is wrong with it.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub problems: Vec<Problem>,
    /// `values.NAME` read, by name.
    pub values_read: BTreeSet<String>,
    /// The context paths read (`request.contract.kind`, `date`), for explanations.
    pub paths_read: BTreeSet<String>,
}

/// Checks one compiled (unoptimized) expression or definitions script.
pub(crate) fn check(ast: &AST, schema: &Schema, local_functions: &HashSet<String>) -> Findings {
    let mut findings = Findings::default();
    let mut typed: HashSet<Position> = HashSet::new();
    // Typed chains first, so their more precise message wins for a position.
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::Dot(binary, ..))) => {
                if let Expr::Variable(variable, ..) = &binary.lhs
                    && let Some(shape) = schema.roots.get(variable.1.as_str())
                {
                    check_chain(&variable.1, shape, &binary.rhs, &mut findings, &mut typed);
                }
            }
            Some(ASTNode::Expr(Expr::Variable(variable, ..))) => {
                // A bare context variable; one heading a chain is read as that chain.
                let heads_chain = matches!(
                    path.len().checked_sub(2).map(|i| &path[i]),
                    Some(ASTNode::Expr(Expr::Dot(binary, ..))) if matches!(&binary.lhs, Expr::Variable(v, ..) if v.1 == variable.1)
                );
                if !heads_chain && schema.roots.contains_key(variable.1.as_str()) {
                    findings.paths_read.insert(variable.1.to_string());
                }
            }
            _ => {}
        }
        true
    });
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::Property(property, position))) => {
                let name = property.2.as_str();
                if !typed.contains(position) && !schema.known_fields.contains(name) {
                    findings.problems.push(problem(
                        *position,
                        format!("unknown property `{name}`: no field of the case or rule set has this name"),
                    ));
                }
            }
            Some(ASTNode::Expr(Expr::FnCall(call, position) | Expr::MethodCall(call, position))) => {
                let name = call.name.as_str();
                let is_name = name.starts_with(|c: char| c.is_alphabetic() || c == '_');
                if is_name
                    && call.op_token.is_none()
                    && !schema.known_functions.contains(name)
                    && !local_functions.contains(name)
                {
                    findings
                        .problems
                        .push(problem(*position, format!("unknown function `{name}`")));
                }
            }
            _ => {}
        }
        true
    });
    findings.problems.sort_by_key(|p| (p.line, p.column));
    findings.problems.dedup();
    findings
}

/// Follows `root.a.b.c` through the shapes, reporting the first field that is not there.
fn check_chain(
    root: &str,
    shape: &Shape,
    rhs: &Expr,
    findings: &mut Findings,
    typed: &mut HashSet<Position>,
) {
    let mut shape = shape;
    let mut path = root.to_owned();
    let mut next = Some(rhs);
    while let Some(expr) = next {
        let (head, rest) = match expr {
            Expr::Dot(binary, ..) => (&binary.lhs, Some(&binary.rhs)),
            other => (other, None),
        };
        let Expr::Property(property, position) = head else {
            // A method call or index: its result's shape is not tracked.
            findings.paths_read.insert(path);
            return;
        };
        let name = property.2.as_str();
        typed.insert(*position);
        let Shape::Object(fields) = shape else {
            findings.paths_read.insert(path);
            return;
        };
        if root == "values" && path == "values" {
            findings.values_read.insert(name.to_owned());
        }
        match fields.get(name) {
            Some(child) => shape = child,
            None => {
                findings.paths_read.insert(path.clone());
                let mut known: Vec<&str> = fields.keys().map(String::as_str).collect();
                known.sort_unstable();
                findings.problems.push(problem(
                    *position,
                    format!(
                        "`{path}` has no field `{name}` (it has: {})",
                        known.join(", ")
                    ),
                ));
                return;
            }
        }
        path = format!("{path}.{name}");
        next = rest;
    }
    findings.paths_read.insert(path);
}

fn problem(position: Position, message: String) -> Problem {
    Problem {
        line: position.line().unwrap_or(1),
        column: position.position().unwrap_or(1),
        message,
    }
}
