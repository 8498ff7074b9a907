//! The type checker: [`Syntax`] in, typed [`Ir`] out, or every problem found with its
//! position and a hint. After one problem in a sub-expression its parents stay silent, so
//! a single mistake gives a single message.

use std::collections::BTreeMap;

use super::syntax::{BinaryOp, Literal, Pos, Syntax};
use super::types::{FunctionSig, Schema, Type};
use super::value::Value;

/// A problem in an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where, inside the expression's text.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
    /// What to write instead, when there is an obvious fix.
    pub hint: Option<String>,
}

impl Problem {
    /// A problem without a hint.
    pub fn new(pos: Pos, message: String) -> Problem {
        Problem {
            pos,
            message,
            hint: None,
        }
    }

    /// The same problem with a hint.
    pub fn hint(mut self, hint: Option<impl Into<String>>) -> Problem {
        self.hint = hint.map(Into::into);
        self
    }
}

/// Arithmetic, chosen by the operands' types when compiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Arith {
    /// Integer `+`, `-`, `*`, checked.
    Int(BinaryOp),
    /// Decimal `+`, `-`, `*`, `/`, checked.
    Decimal(BinaryOp),
}

/// A list function taking a closure of one parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Each {
    /// Any item satisfies the closure.
    Some,
    /// Every item satisfies it.
    All,
    /// The items that satisfy it.
    Filter,
    /// The closure's value for each item.
    Map,
    /// How many items satisfy it.
    Count,
    /// The sum of the closure's values (integer or decimal).
    SumInt,
    /// The sum of the closure's values, as a decimal.
    SumDecimal,
}

/// The evaluable form of an expression.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Ir {
    /// A constant.
    Const(Value),
    /// A param with values by date (`{ dated: … }` in `ruleset.yaml`), a timeline: read
    /// on the day judged.
    Dated(Value),
    /// A context variable, by slot.
    Var(usize),
    /// A `let` or closure parameter, by frame slot.
    Local(usize),
    /// A computed value (`values.NAME`), by slot.
    Value(usize, Pos),
    /// A record's field, with its place in the record's shape when the type has one
    /// shape (a request of one of several types is read by name).
    Field(Box<Ir>, super::Name, Option<usize>),
    /// `map[key]`: the entry, or `()`.
    Index(Box<Ir>, Box<Ir>),
    /// A function of the schema.
    Call(super::builtins::Builtin, Vec<Ir>, Pos),
    /// A fact, by index.
    Fact(usize, Vec<Ir>, Pos),
    /// `!a`
    Not(Box<Ir>),
    /// `-a`
    Negate(Box<Ir>, Pos),
    /// `a && b`, `b` only when `a`.
    And(Box<Ir>, Box<Ir>),
    /// `a || b`, `b` only when not `a`.
    Or(Box<Ir>, Box<Ir>),
    /// Arithmetic.
    Arith(Arith, Box<Ir>, Box<Ir>, Pos),
    /// Lists or texts joined.
    Concat(Box<Ir>, Box<Ir>),
    /// `==` (or `!=` when the flag is false).
    Equal(bool, Box<Ir>, Box<Ir>),
    /// `<`, `<=`, `>`, `>=`.
    Order(BinaryOp, Box<Ir>, Box<Ir>),
    /// `item in list`, `key in map`, `part in text`.
    In(Box<Ir>, Box<Ir>),
    /// `if c { a } else { b }`
    If(Box<Ir>, Box<Ir>, Box<Ir>),
    /// `let slot = value;` then the body.
    Let(usize, Box<Ir>, Box<Ir>),
    /// `[a, b]`
    List(Vec<Ir>),
    /// A list function with a one-parameter closure: list, parameter slot, body.
    Each(Each, Box<Ir>, usize, Box<Ir>, Pos),
    /// `reduce(list, |acc, item| body, init)`: list, acc slot, item slot, body, init.
    Reduce(Box<Ir>, usize, usize, Box<Ir>, Box<Ir>),
    /// `len(list)`
    Len(Box<Ir>),
}

impl Ir {
    /// Whether it reads a `let` or closure parameter (then it cannot be re-read alone).
    fn is_closed(&self) -> bool {
        match self {
            Ir::Local(_) | Ir::Let(..) | Ir::Each(..) | Ir::Reduce(..) => false,
            Ir::Const(_) | Ir::Dated(_) | Ir::Var(_) | Ir::Value(..) => true,
            Ir::Field(a, ..) | Ir::Not(a) | Ir::Negate(a, _) | Ir::Len(a) => a.is_closed(),
            Ir::Index(a, b)
            | Ir::And(a, b)
            | Ir::Or(a, b)
            | Ir::Arith(_, a, b, _)
            | Ir::Concat(a, b)
            | Ir::Equal(_, a, b)
            | Ir::Order(_, a, b)
            | Ir::In(a, b) => a.is_closed() && b.is_closed(),
            Ir::If(a, b, c) => a.is_closed() && b.is_closed() && c.is_closed(),
            Ir::Call(_, args, _) | Ir::Fact(_, args, _) | Ir::List(args) => {
                args.iter().all(Ir::is_closed)
            }
        }
    }
}

/// A context variable an expression may read.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// Its slot in the host's variables.
    pub slot: usize,
}

/// A value a rule computes (`values.NAME`).
#[derive(Debug, Clone)]
pub struct ValueSlot {
    /// Its name.
    pub name: String,
    /// Its declared type.
    pub ty: Type,
    /// Why it cannot be read here, if it cannot.
    pub not_ready: Option<String>,
}

/// A fact an expression may call.
#[derive(Debug, Clone)]
pub struct FactSig {
    /// Its name.
    pub name: String,
    /// Its parameters' names and types.
    pub params: Vec<(String, Type)>,
    /// Its value's type.
    pub result: Type,
}

/// Everything an expression may name.
#[derive(Debug, Clone, Default)]
pub struct Names<'a> {
    /// Records and functions.
    pub schema: Option<&'a Schema>,
    /// Context variables.
    pub variables: Vec<Variable>,
    /// Names of the context not in scope here, with why.
    pub absent: Vec<(String, String)>,
    /// `params.NAME`: the rule set's constants, with their types.
    pub params: Option<&'a BTreeMap<String, (Type, Value)>>,
    /// `params.NAME` with values by date, with their types.
    pub dated: Option<&'a crate::ruleset::DatedParams>,
    /// `values.NAME`, by slot.
    pub values: Option<&'a [ValueSlot]>,
    /// Facts, by index.
    pub facts: &'a [FactSig],
    /// Arguments bound in the first frame slots (a fact's parameters).
    pub arguments: Vec<(String, Type)>,
    /// Places known narrower here (what the rule's `when` established).
    pub narrowed: Vec<(String, Type)>,
}

/// A compiled expression.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Compiled {
    /// What runs.
    pub ir: Ir,
    /// Its type.
    pub ty: Type,
    /// Frame slots it needs for `let`s and closure parameters.
    pub frame: usize,
    /// The places and facts it reads, re-readable alone, for explanations.
    pub reads: Vec<(String, Ir)>,
    /// Places known narrower when it is true (for a `when`, in the rest of its rule).
    pub if_true: Vec<(String, Type)>,
}

/// Compiles `syntax` against `names`; `expected` is the type its value must fit.
pub fn compile(
    syntax: &Syntax,
    names: &Names,
    expected: Option<&Type>,
) -> Result<Compiled, Vec<Problem>> {
    let mut compiler = Compiler {
        names,
        locals: names
            .arguments
            .iter()
            .enumerate()
            .map(|(slot, (name, ty))| (name.clone(), ty.clone(), slot))
            .collect(),
        frame: names.arguments.len(),
        narrowed: names.narrowed.clone(),
        problems: Vec::new(),
        reads: Vec::new(),
    };
    let typed = compiler.expr(syntax);
    if let (Some(typed), Some(expected)) = (&typed, expected)
        && !typed.ty.fits(expected)
    {
        let hint = fit_hint(&typed.ty, expected);
        compiler.problems.push(
            Problem::new(
                syntax.start(),
                format!("gives {}, but {} is expected here", typed.ty, expected),
            )
            .hint(hint),
        );
    }
    match typed {
        Some(typed) if compiler.problems.is_empty() => Ok(Compiled {
            ir: typed.ir,
            ty: typed.ty,
            frame: compiler.frame,
            reads: compiler.reads,
            if_true: typed.if_true,
        }),
        _ => {
            let mut problems = compiler.problems;
            problems.sort_by_key(|p| p.pos);
            problems.dedup();
            Err(problems)
        }
    }
}

fn fit_hint(found: &Type, expected: &Type) -> Option<String> {
    match (found, expected) {
        (Type::Decimal, Type::Yen) => Some("round to whole yen with floor_yen(…)".to_owned()),
        (Type::Maybe(_), _) => Some(
            "it may be `()`: give a value for that case with `if x == () { … } else { … }`"
                .to_owned(),
        ),
        (Type::Int, Type::Bool) | (Type::Decimal, Type::Bool) | (Type::Yen, Type::Bool) => {
            Some("a condition is true or false: compare, e.g. `x > 0`".to_owned())
        }
        _ => None,
    }
}

struct Typed {
    ir: Ir,
    ty: Type,
    /// Places known narrower when the expression is true, and when it is false.
    if_true: Vec<(String, Type)>,
    if_false: Vec<(String, Type)>,
}

impl Typed {
    fn new(ir: Ir, ty: Type) -> Typed {
        Typed {
            ir,
            ty,
            if_true: Vec::new(),
            if_false: Vec::new(),
        }
    }
}

struct Compiler<'a, 'n> {
    names: &'a Names<'n>,
    locals: Vec<(String, Type, usize)>,
    frame: usize,
    narrowed: Vec<(String, Type)>,
    problems: Vec<Problem>,
    reads: Vec<(String, Ir)>,
}

/// The list functions that take a closure, and what each gives.
const LIST_FUNCTIONS: [&str; 8] = [
    "some", "all", "filter", "map", "count", "sum", "reduce", "len",
];

impl Compiler<'_, '_> {
    fn fail(&mut self, pos: Pos, message: String, hint: Option<String>) -> Option<Typed> {
        // A timeline used as a plain value: the one mistake its type name alone won't explain.
        let hint = hint.or_else(|| {
            message.contains("timeline of").then(|| {
                "it changes over time: read it on a day, `at(record.field, day)`".to_owned()
            })
        });
        self.problems.push(Problem::new(pos, message).hint(hint));
        None
    }

    fn schema(&self) -> &Schema {
        static EMPTY: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
        self.names
            .schema
            .unwrap_or_else(|| EMPTY.get_or_init(Schema::default))
    }

    /// Compiles `syntax` with `facts` known to hold.
    fn narrowed_by(&mut self, facts: &[(String, Type)], syntax: &Syntax) -> Option<Typed> {
        let depth = self.narrowed.len();
        self.narrowed.extend(facts.iter().cloned());
        let typed = self.expr(syntax);
        self.narrowed.truncate(depth);
        typed
    }

    fn narrowing(&self, place: &str) -> Option<&Type> {
        self.narrowed
            .iter()
            .rev()
            .find(|(p, _)| p == place)
            .map(|(_, t)| t)
    }

    /// Records a re-readable place or fact for explanations.
    fn read(&mut self, syntax: &Syntax, ir: &Ir) {
        if let Some(place) = syntax.place()
            && ir.is_closed()
            && !self.reads.iter().any(|(p, _)| *p == place)
        {
            self.reads.push((place, ir.clone()));
        }
    }

    fn expr(&mut self, syntax: &Syntax) -> Option<Typed> {
        let typed = self.expr_inner(syntax)?;
        if matches!(syntax, Syntax::Call(..)) {
            self.read(syntax, &typed.ir);
        }
        // A narrowed place has the narrower type; the IR reads it the same way.
        if let Some(place) = syntax.place()
            && let Some(narrow) = self.narrowing(&place)
        {
            let narrow = narrow.clone();
            return Some(Typed {
                ty: narrow,
                ..typed
            });
        }
        Some(typed)
    }

    fn expr_inner(&mut self, syntax: &Syntax) -> Option<Typed> {
        match syntax {
            Syntax::Literal(literal, _) => Some(match literal {
                Literal::Unit => Typed::new(Ir::Const(Value::Null), Type::Null),
                Literal::Bool(b) => Typed::new(Ir::Const(Value::Bool(*b)), Type::Bool),
                Literal::Int(n) => Typed::new(Ir::Const(Value::Int(*n)), Type::Int),
                Literal::Decimal(d) => Typed::new(Ir::Const(Value::Decimal(*d)), Type::Decimal),
                Literal::Text(t) => Typed::new(Ir::Const(Value::text(t)), Type::Text),
            }),
            Syntax::Name(name, pos) => self.name(name, *pos, syntax),
            Syntax::Field(base, name, pos) => self.field(base, name, *pos, syntax),
            Syntax::Index(base, index, pos) => {
                let map = self.expr(base)?;
                let key = self.expr(index)?;
                match &map.ty {
                    Type::Map(element) if key.ty == Type::Text => {
                        let ty = Type::maybe((**element).clone());
                        let ir = Ir::Index(Box::new(map.ir), Box::new(key.ir));
                        self.read(syntax, &ir);
                        Some(Typed::new(ir, ty))
                    }
                    Type::Map(_) => self.fail(
                        *pos,
                        format!("a map is indexed by text, not {}", key.ty),
                        None,
                    ),
                    other => self.fail(
                        *pos,
                        format!("{other} cannot be indexed with `[…]`"),
                        Some(
                            "only the rule set's maps are indexed, as `params.NAME[key]`"
                                .to_owned(),
                        ),
                    ),
                }
            }
            Syntax::Call(name, args, pos) => self.call(name, args, *pos),
            Syntax::Binary(op, lhs, rhs, pos) => self.binary(*op, lhs, rhs, *pos),
            Syntax::Not(inner, pos) => {
                let inner = self.expr(inner)?;
                if inner.ty != Type::Bool {
                    return self.fail(
                        *pos,
                        format!("`!` needs true or false, not {}", inner.ty),
                        None,
                    );
                }
                Some(Typed {
                    ir: Ir::Not(Box::new(inner.ir)),
                    ty: Type::Bool,
                    if_true: inner.if_false,
                    if_false: inner.if_true,
                })
            }
            Syntax::Negate(inner, pos) => {
                let inner = self.expr(inner)?;
                if !inner.ty.is_numeric() {
                    return self.fail(*pos, format!("`-` needs a number, not {}", inner.ty), None);
                }
                Some(Typed::new(Ir::Negate(Box::new(inner.ir), *pos), inner.ty))
            }
            Syntax::If(condition, then, otherwise, pos) => {
                let condition = self.condition(condition, "`if`")?;
                let Some(otherwise) = otherwise else {
                    return self.fail(
                        *pos,
                        "an `if` without `else` has no value when its condition is false"
                            .to_owned(),
                        Some("add `else { … }` with the value for that case".to_owned()),
                    );
                };
                let a = self.narrowed_by(&condition.if_true, then);
                let b = self.narrowed_by(&condition.if_false, otherwise);
                let (a, b) = (a?, b?);
                let Some(ty) = a.ty.join(&b.ty) else {
                    return self.fail(
                        *pos,
                        format!("the branches of this `if` give {} and {}", a.ty, b.ty),
                        Some("both branches must give the same kind of value".to_owned()),
                    );
                };
                Some(Typed::new(
                    Ir::If(Box::new(condition.ir), Box::new(a.ir), Box::new(b.ir)),
                    ty,
                ))
            }
            Syntax::Let(name, value, body, _) => {
                let value = self.expr(value)?;
                let slot = self.slot();
                self.locals.push((name.clone(), value.ty.clone(), slot));
                // A new binding hides any narrowing of an older one of the same name.
                let body = self.narrowed_by(&[(name.clone(), value.ty)], body);
                self.locals.pop();
                let body = body?;
                Some(Typed::new(
                    Ir::Let(slot, Box::new(value.ir), Box::new(body.ir)),
                    body.ty,
                ))
            }
            Syntax::List(items, pos) => {
                let mut ty = Type::Nothing;
                let mut irs = Vec::with_capacity(items.len());
                let mut failed = false;
                for item in items {
                    let Some(item) = self.expr(item) else {
                        failed = true;
                        continue;
                    };
                    match ty.join(&item.ty) {
                        Some(joined) => ty = joined,
                        None => {
                            return self.fail(
                                *pos,
                                format!("a list holds one kind of value, not {ty} and {}", item.ty),
                                None,
                            );
                        }
                    }
                    irs.push(item.ir);
                }
                if failed {
                    return None;
                }
                Some(Typed::new(Ir::List(irs), Type::list(ty)))
            }
            Syntax::Closure(_, _, pos) => self.fail(
                *pos,
                "a closure can only be an argument of a list function".to_owned(),
                Some(format!(
                    "e.g. `list.some(|o| …)`; the list functions are {}",
                    LIST_FUNCTIONS.join(", ")
                )),
            ),
        }
    }

    fn slot(&mut self) -> usize {
        self.frame += 1;
        self.frame - 1
    }

    fn condition(&mut self, syntax: &Syntax, what: &str) -> Option<Typed> {
        let typed = self.expr(syntax)?;
        if typed.ty != Type::Bool {
            let hint = fit_hint(&typed.ty, &Type::Bool);
            return self.fail(
                syntax.start(),
                format!(
                    "the condition of {what} gives {}, not true or false",
                    typed.ty
                ),
                hint,
            );
        }
        Some(typed)
    }

    fn name(&mut self, name: &str, pos: Pos, syntax: &Syntax) -> Option<Typed> {
        if let Some((_, ty, slot)) = self.locals.iter().rev().find(|(n, ..)| n == name) {
            return Some(Typed::new(Ir::Local(*slot), ty.clone()));
        }
        if let Some(variable) = self.names.variables.iter().find(|v| v.name == name) {
            let ir = Ir::Var(variable.slot);
            self.read(syntax, &ir);
            return Some(Typed::new(ir, variable.ty.clone()));
        }
        if name == "params" || name == "values" {
            return self.fail(
                pos,
                format!("`{name}` is read by field, as `{name}.NAME`"),
                None,
            );
        }
        if let Some((_, why)) = self.names.absent.iter().find(|(n, _)| *n == name) {
            let why = why.clone();
            return self.fail(pos, format!("`{name}` is not available here: {why}"), None);
        }
        let mut known: Vec<&str> = self.locals.iter().map(|(n, ..)| n.as_str()).collect();
        known.extend(self.names.variables.iter().map(|v| v.name.as_str()));
        known.extend(["params", "values"]);
        let hint = did_you_mean(name, known.iter().copied());
        self.fail(pos, format!("unknown name `{name}`"), hint)
    }

    fn field(&mut self, base: &Syntax, name: &str, pos: Pos, syntax: &Syntax) -> Option<Typed> {
        let shadowed = |n: &str| self.locals.iter().any(|(l, ..)| l == n);
        if let Syntax::Name(root, _) = base {
            if root == "params" && !shadowed("params") {
                let params = self.names.params;
                let dated = self.names.dated.and_then(|d| d.get(name));
                if let Some((ty, values)) = dated {
                    let ir = Ir::Dated(values.clone());
                    self.read(syntax, &ir);
                    return Some(Typed::new(ir, ty.clone()));
                }
                return match params.and_then(|p| p.get(name)) {
                    Some((ty, value)) => {
                        let ir = Ir::Const(value.clone());
                        self.read(syntax, &ir);
                        Some(Typed::new(ir, ty.clone()))
                    }
                    None => {
                        let hint = did_you_mean(
                            name,
                            params
                                .into_iter()
                                .flat_map(|p| p.keys().map(String::as_str))
                                .chain(
                                    self.names
                                        .dated
                                        .into_iter()
                                        .flat_map(|d| d.keys().map(String::as_str)),
                                ),
                        );
                        self.fail(pos, format!("the rule set has no param `{name}`"), hint)
                    }
                };
            }
            if root == "values" && !shadowed("values") {
                let values = self.names.values.unwrap_or_default();
                return match values.iter().position(|v| v.name == name) {
                    Some(slot) => {
                        if let Some(why) = &values[slot].not_ready {
                            let why = why.clone();
                            return self.fail(pos, format!("reads `values.{name}` {why}"), None);
                        }
                        let ir = Ir::Value(slot, pos);
                        self.read(syntax, &ir);
                        Some(Typed::new(ir, values[slot].ty.clone()))
                    }
                    None => {
                        let hint = did_you_mean(name, values.iter().map(|v| v.name.as_str()));
                        self.fail(
                            pos,
                            format!("`{name}` is not among the values declared in ruleset.yaml"),
                            hint,
                        )
                    }
                };
            }
        }
        let base_typed = self.expr(base)?;
        let records: Vec<super::Name> = match &base_typed.ty {
            Type::Record(r) => vec![r.clone()],
            Type::OneOf(rs) => rs.clone(),
            Type::Maybe(inner) if matches!(**inner, Type::Record(_) | Type::OneOf(_)) => {
                let place = base.place().unwrap_or_else(|| "it".to_owned());
                return self.fail(
                    pos,
                    format!("`{place}` may be `()`, so `.{name}` cannot be read"),
                    Some(format!(
                        "test it first: `if {place} == () {{ … }} else {{ {place}.{name} … }}`"
                    )),
                );
            }
            other => {
                return self.fail(pos, format!("{other} has no field `{name}`"), None);
            }
        };
        let schema = self.schema();
        let mut ty: Option<Type> = None;
        let mut lacking = Vec::new();
        for record in &records {
            let Some(record_type) = schema.records.get(record) else {
                continue;
            };
            match record_type.field(name) {
                Some(field) => match &ty {
                    None => ty = Some(field.ty.clone()),
                    Some(t) if *t == field.ty => {}
                    Some(t) => {
                        let message = format!(
                            "`.{name}` is {t} in some of this rule's subjects and {} in {record}",
                            field.ty
                        );
                        return self.fail(
                            pos,
                            message,
                            Some("tell them apart first with `if request.type == \"…\" { … } else { … }`".to_owned()),
                        );
                    }
                },
                None => lacking.push(&**record),
            }
        }
        if !lacking.is_empty() {
            let known: Vec<&str> = records
                .iter()
                .filter_map(|r| schema.records.get(r))
                .flat_map(|r| r.fields.iter().map(|f| &*f.name))
                .collect();
            let hint = did_you_mean(name, known.iter().copied());
            let message = if records.len() == 1 {
                let mut fields: Vec<&str> = known.clone();
                fields.sort_unstable();
                fields.dedup();
                format!(
                    "a {} has no field `{name}` (it has: {})",
                    records[0],
                    fields.join(", ")
                )
            } else {
                format!("`.{name}` is not a field of {}", lacking.join(", "))
            };
            return self.fail(pos, message, hint);
        }
        let ty = ty?;
        let field_name = schema
            .records
            .get(&records[0])
            .and_then(|r| r.field(name))
            .map(|f| f.name.clone())?;
        let place = match records.as_slice() {
            [one] => schema
                .records
                .get(one)
                .and_then(|r| r.fields.iter().position(|f| f.name == field_name)),
            _ => None,
        };
        let ir = Ir::Field(Box::new(base_typed.ir), field_name, place);
        let typed = Typed::new(ir, ty);
        self.read(syntax, &typed.ir);
        Some(typed)
    }

    fn binary(&mut self, op: BinaryOp, lhs: &Syntax, rhs: &Syntax, pos: Pos) -> Option<Typed> {
        use BinaryOp as B;
        if matches!(op, B::And | B::Or) {
            let a = self.condition(lhs, &format!("`{}`", op.symbol()));
            let facts = match &a {
                Some(a) if op == B::And => a.if_true.clone(),
                Some(a) => a.if_false.clone(),
                None => Vec::new(),
            };
            let depth = self.narrowed.len();
            self.narrowed.extend(facts);
            let b = self.condition(rhs, &format!("`{}`", op.symbol()));
            self.narrowed.truncate(depth);
            let (a, b) = (a?, b?);
            let (if_true, if_false) = if op == B::And {
                ([a.if_true, b.if_true].concat(), Vec::new())
            } else {
                (Vec::new(), [a.if_false, b.if_false].concat())
            };
            let ir = if op == B::And {
                Ir::And(Box::new(a.ir), Box::new(b.ir))
            } else {
                Ir::Or(Box::new(a.ir), Box::new(b.ir))
            };
            return Some(Typed {
                ir,
                ty: Type::Bool,
                if_true,
                if_false,
            });
        }
        let a = self.expr(lhs);
        let b = self.expr(rhs);
        let (a, b) = (a?, b?);
        let maybe_hint = |t: &Type, s: &Syntax| -> Option<String> {
            matches!(t, Type::Maybe(_) | Type::Null).then(|| {
                let place = s.place().unwrap_or_else(|| "the value".to_owned());
                format!(
                    "`{place}` may be `()`: test `{place} != ()` first (e.g. `{place} != () && …`)"
                )
            })
        };
        match op {
            B::Eq | B::Ne => {
                if matches!(a.ty, Type::Record(_) | Type::OneOf(_))
                    || matches!(b.ty, Type::Record(_) | Type::OneOf(_))
                {
                    return self.fail(
                        pos,
                        format!(
                            "{} and {} are records: compare a field such as `.id`",
                            a.ty, b.ty
                        ),
                        None,
                    );
                }
                if a.ty.join(&b.ty).is_none() {
                    return self.fail(
                        pos,
                        format!("compares {} with {}: they are never equal", a.ty, b.ty),
                        Some("compare values of one kind, e.g. a number with a number".to_owned()),
                    );
                }
                let (mut if_true, mut if_false) = (Vec::new(), Vec::new());
                // `x == ()` / `x != ()` narrows `x`; `request.type == "t"` narrows `request`.
                for (place_side, place_ty, other) in [(lhs, &a.ty, rhs), (rhs, &b.ty, lhs)] {
                    if let (Some(place), Type::Maybe(inner), Syntax::Literal(Literal::Unit, _)) =
                        (place_side.place(), place_ty, other)
                    {
                        if_false.push((place, (**inner).clone()));
                    }
                    if let (Syntax::Field(base, field, _), Syntax::Literal(Literal::Text(tag), _)) =
                        (place_side, other)
                        && field == "type"
                        && let Some(base_place) = base.place()
                    {
                        self.tag_narrowing(&base_place, tag, &mut if_true, &mut if_false);
                    }
                }
                if op == B::Ne {
                    std::mem::swap(&mut if_true, &mut if_false);
                }
                Some(Typed {
                    ir: Ir::Equal(op == B::Eq, Box::new(a.ir), Box::new(b.ir)),
                    ty: Type::Bool,
                    if_true,
                    if_false,
                })
            }
            B::Lt | B::Le | B::Gt | B::Ge => {
                for (t, s) in [(&a.ty, lhs), (&b.ty, rhs)] {
                    if let Some(hint) = maybe_hint(t, s) {
                        return self.fail(
                            s.pos(),
                            format!("`{}` cannot order a value that may be `()`", op.symbol()),
                            Some(hint),
                        );
                    }
                }
                let ordered = (a.ty.is_numeric() && b.ty.is_numeric())
                    || (a.ty == b.ty && matches!(a.ty, Type::Date | Type::Timestamp | Type::Text));
                if !ordered {
                    return self.fail(
                        pos,
                        format!("`{}` cannot order {} and {}", op.symbol(), a.ty, b.ty),
                        None,
                    );
                }
                Some(Typed::new(
                    Ir::Order(op, Box::new(a.ir), Box::new(b.ir)),
                    Type::Bool,
                ))
            }
            B::In => {
                let fits = match &b.ty {
                    Type::List(element) => a.ty.join(element).is_some(),
                    Type::Map(_) | Type::Text => a.ty == Type::Text,
                    _ => false,
                };
                if !fits {
                    let hint = maybe_hint(&b.ty, rhs);
                    return self.fail(
                        pos,
                        format!("`in` looks for {} in {}: it is never there", a.ty, b.ty),
                        hint,
                    );
                }
                Some(Typed::new(
                    Ir::In(Box::new(a.ir), Box::new(b.ir)),
                    Type::Bool,
                ))
            }
            B::Add | B::Sub | B::Mul | B::Div => {
                if op == B::Add
                    && let (Type::List(x), Type::List(y)) = (&a.ty, &b.ty)
                {
                    let Some(element) = x.join(y) else {
                        return self.fail(pos, format!("joins [{x}] and [{y}]"), None);
                    };
                    return Some(Typed::new(
                        Ir::Concat(Box::new(a.ir), Box::new(b.ir)),
                        Type::list(element),
                    ));
                }
                for (t, s) in [(&a.ty, lhs), (&b.ty, rhs)] {
                    if !t.is_numeric() {
                        let hint = maybe_hint(t, s).or_else(|| match t {
                            Type::Date => Some(
                                "count days with add_days(date, n) or days_after(date, n)"
                                    .to_owned(),
                            ),
                            _ => None,
                        });
                        return self.fail(
                            s.pos(),
                            format!("`{}` needs numbers, not {t}", op.symbol()),
                            hint,
                        );
                    }
                }
                let (arith, ty) = match (op, &a.ty, &b.ty) {
                    (B::Div, ..) => (Arith::Decimal(op), Type::Decimal),
                    (_, Type::Int, Type::Int) => (Arith::Int(op), Type::Int),
                    (B::Add | B::Sub, Type::Yen | Type::Int, Type::Yen | Type::Int) => {
                        (Arith::Decimal(op), Type::Yen)
                    }
                    (B::Mul, Type::Yen, Type::Int) | (B::Mul, Type::Int, Type::Yen) => {
                        (Arith::Decimal(op), Type::Yen)
                    }
                    _ => (Arith::Decimal(op), Type::Decimal),
                };
                Some(Typed::new(
                    Ir::Arith(arith, Box::new(a.ir), Box::new(b.ir), pos),
                    ty,
                ))
            }
            B::And | B::Or => unreachable!("handled above"),
        }
    }

    /// `place.type == tag`: when true the place is the record with that tag, when false
    /// one of the others.
    fn tag_narrowing(
        &self,
        place: &str,
        tag: &str,
        if_true: &mut Vec<(String, Type)>,
        if_false: &mut Vec<(String, Type)>,
    ) {
        let current = self.narrowing(place).cloned().or_else(|| {
            self.names
                .variables
                .iter()
                .find(|v| v.name == place)
                .map(|v| v.ty.clone())
        });
        let Some(Type::OneOf(records)) = current else {
            return;
        };
        let schema = self.schema();
        let (hit, rest): (Vec<super::Name>, Vec<super::Name>) = records
            .iter()
            .cloned()
            .partition(|r| schema.records.get(r).and_then(|t| t.tag.as_deref()) == Some(tag));
        let as_type = |rs: Vec<super::Name>| match rs.as_slice() {
            [one] => Type::Record(one.clone()),
            _ => Type::OneOf(rs),
        };
        if !hit.is_empty() {
            if_true.push((place.to_owned(), as_type(hit)));
        }
        if !rest.is_empty() {
            if_false.push((place.to_owned(), as_type(rest)));
        }
    }

    fn call(&mut self, name: &str, args: &[Syntax], pos: Pos) -> Option<Typed> {
        if LIST_FUNCTIONS.contains(&name) {
            return self.list_function(name, args, pos);
        }
        // An unknown name is the mistake to report, not what its arguments hold.
        let known = self.names.facts.iter().any(|f| f.name == name)
            || self.schema().functions.contains_key(name);
        if !known {
            let hint = match name {
                "timestamp" | "now" | "today" | "elapsed" => Some(
                    "rules cannot read the clock: the same case must always give the same ruling; read `date` or `as_of`".to_owned(),
                ),
                "rand" | "random" | "shuffle" => Some("rules cannot use randomness".to_owned()),
                "print" | "debug" => Some("rules cannot print; `yakkan eval --explain` shows what a rule read".to_owned()),
                _ => {
                    let mut known: Vec<&str> = self.schema().functions.keys().copied().collect();
                    known.extend(self.names.facts.iter().map(|f| f.name.as_str()));
                    known.extend(LIST_FUNCTIONS);
                    did_you_mean(name, known.into_iter())
                }
            };
            return self.fail(pos, format!("unknown function `{name}`"), hint);
        }
        let mut typed_args = Vec::with_capacity(args.len());
        let mut failed = false;
        for arg in args {
            match self.expr(arg) {
                Some(t) => typed_args.push(t),
                None => failed = true,
            }
        }
        if failed {
            return None;
        }
        let types: Vec<Type> = typed_args.iter().map(|t| t.ty.clone()).collect();
        let shown = types
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        if let Some(index) = self.names.facts.iter().position(|f| f.name == name) {
            let fact = &self.names.facts[index];
            let params: Vec<Type> = fact.params.iter().map(|(_, t)| t.clone()).collect();
            if !fits_all(&types, &params) {
                let wanted = fact
                    .params
                    .iter()
                    .map(|(n, t)| format!("{n}: {t}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                return self.fail(
                    pos,
                    format!("the fact `{name}` takes ({wanted}), not ({shown})"),
                    None,
                );
            }
            let result = fact.result.clone();
            let ir = Ir::Fact(index, typed_args.into_iter().map(|t| t.ir).collect(), pos);
            return Some(Typed::new(ir, result));
        }
        let signatures: Vec<FunctionSig> = self
            .schema()
            .functions
            .get(name)
            .cloned()
            .unwrap_or_default();
        let Some(signature) = signatures.iter().find(|s| fits_all(&types, &s.params)) else {
            let wanted: Vec<String> = signatures.iter().map(FunctionSig::signature).collect();
            let hint = types
                .iter()
                .zip(args)
                .find_map(|(t, s)| matches!(t, Type::Maybe(_)).then(|| s.place()).flatten())
                .map(|place| format!("`{place}` may be `()`: test `{place} != ()` first"));
            return self.fail(
                pos,
                format!("`{name}` takes {}, not ({shown})", wanted.join(" or ")),
                hint,
            );
        };
        if let Some(at) = signature.names_field {
            let record = match &types[0] {
                Type::List(inner) => match &**inner {
                    Type::Record(r) => self.schema().records.get(r),
                    _ => None,
                },
                _ => None,
            };
            let named = match &args[at] {
                Syntax::Literal(Literal::Text(field), _) => Some(field.as_str()),
                _ => None,
            };
            let fits = match (record, named) {
                (Some(record), Some(field)) => {
                    record.field(field).is_some_and(|f| f.ty == Type::Text)
                }
                _ => false,
            };
            if !fits {
                let fields: Vec<String> = record
                    .map(|r| {
                        r.fields
                            .iter()
                            .filter(|f| f.ty == Type::Text)
                            .map(|f| format!("\"{}\"", f.name))
                            .collect()
                    })
                    .unwrap_or_default();
                return self.fail(
                    args[at].pos(),
                    format!(
                        "`{name}` names a text field of the records, quoted: one of {}",
                        fields.join(", ")
                    ),
                    None,
                );
            }
        }
        let bound = signature.bound.iter().cloned().map(Ir::Const);
        let ir = Ir::Call(
            super::builtins::Builtin {
                id: signature.id,
                run: signature.run,
            },
            bound.chain(typed_args.into_iter().map(|t| t.ir)).collect(),
            pos,
        );
        Some(Typed::new(ir, signature.result.clone()))
    }

    fn list_function(&mut self, name: &str, args: &[Syntax], pos: Pos) -> Option<Typed> {
        let arity = match name {
            "len" => 1,
            "reduce" => 3,
            _ => 2,
        };
        if args.len() != arity {
            let usage = match name {
                "len" => "len(list)",
                "reduce" => "list.reduce(|total, item| …, start)",
                _ => "list.NAME(|item| …)",
            };
            return self.fail(
                pos,
                format!("`{name}` takes {arity} argument(s), not {}", args.len()),
                Some(format!("write {}", usage.replace("NAME", name))),
            );
        }
        let list = self.expr(&args[0])?;
        let element = match &list.ty {
            Type::List(element) => (**element).clone(),
            other => {
                let hint = matches!(other, Type::Maybe(_))
                    .then(|| "it may be `()`: test it first".to_owned());
                return self.fail(
                    args[0].pos(),
                    format!("`{name}` needs a list, not {other}"),
                    hint,
                );
            }
        };
        if name == "len" {
            return Some(Typed::new(Ir::Len(Box::new(list.ir)), Type::Int));
        }
        let Syntax::Closure(params, body, closure_pos) = &args[1] else {
            return self.fail(
                args[1].pos(),
                format!("the second argument of `{name}` is a closure such as `|item| …`"),
                None,
            );
        };
        let wanted = if name == "reduce" { 2 } else { 1 };
        if params.len() != wanted {
            return self.fail(
                *closure_pos,
                format!("the closure of `{name}` takes {wanted} parameter(s)"),
                None,
            );
        }
        if name == "reduce" {
            let init = self.expr(&args[2])?;
            let acc = self.slot();
            let item = self.slot();
            self.locals.push((params[0].clone(), init.ty.clone(), acc));
            self.locals.push((params[1].clone(), element, item));
            let body = self.expr(body);
            self.locals.truncate(self.locals.len() - 2);
            let body = body?;
            if !body.ty.fits(&init.ty) {
                return self.fail(
                    *closure_pos,
                    format!(
                        "the closure gives {}, but the total starts as {}",
                        body.ty, init.ty
                    ),
                    (init.ty == Type::Int && body.ty == Type::Yen)
                        .then(|| "start the total from yen(0)".to_owned()),
                );
            }
            return Some(Typed::new(
                Ir::Reduce(
                    Box::new(list.ir),
                    acc,
                    item,
                    Box::new(body.ir),
                    Box::new(init.ir),
                ),
                init.ty,
            ));
        }
        let slot = self.slot();
        self.locals.push((params[0].clone(), element.clone(), slot));
        let body = self.expr(body);
        self.locals.pop();
        let body = body?;
        let needs_bool = matches!(name, "some" | "all" | "filter" | "count");
        if needs_bool && body.ty != Type::Bool {
            return self.fail(
                body_pos(args),
                format!(
                    "the closure of `{name}` must give true or false, not {}",
                    body.ty
                ),
                None,
            );
        }
        let (each, ty) = match name {
            "some" => (Each::Some, Type::Bool),
            "all" => (Each::All, Type::Bool),
            "filter" => (Each::Filter, list.ty.clone()),
            "map" => (Each::Map, Type::list(body.ty)),
            "count" => (Each::Count, Type::Int),
            "sum" => match body.ty {
                Type::Int => (Each::SumInt, Type::Int),
                Type::Yen => (Each::SumDecimal, Type::Yen),
                Type::Decimal => (Each::SumDecimal, Type::Decimal),
                other => {
                    return self.fail(
                        body_pos(args),
                        format!("the closure of `sum` must give a number, not {other}"),
                        None,
                    );
                }
            },
            _ => unreachable!("LIST_FUNCTIONS"),
        };
        Some(Typed::new(
            Ir::Each(each, Box::new(list.ir), slot, Box::new(body.ir), pos),
            ty,
        ))
    }
}

fn body_pos(args: &[Syntax]) -> Pos {
    match &args[1] {
        Syntax::Closure(_, body, _) => body.pos(),
        other => other.pos(),
    }
}

fn fits_all(types: &[Type], params: &[Type]) -> bool {
    types.len() == params.len() && types.iter().zip(params).all(|(t, p)| t.fits(p))
}

/// "did you mean `x`?" for the nearest known name within two edits.
pub fn did_you_mean<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<String> {
    known
        .map(|k| (crate::hint::edit_distance(name, k), k))
        .filter(|(d, k)| *d <= 2.max(name.len() / 4) && *d < name.len().max(k.len()))
        .min()
        .map(|(_, k)| format!("did you mean `{k}`?"))
}
