//! Rhai as the syntax: parses an expression with Rhai and reads its parse tree into
//! [`Syntax`]. This is the only module that knows Rhai; it reads Rhai's `internals` tree,
//! which is why `Cargo.toml` pins Rhai to an exact version.
//!
//! Whatever Rhai accepts beyond the rule language (loops, assignment, `return`, map
//! literals, string interpolation…) is refused here with a hint in the legal team's words.

use std::collections::HashMap;
use std::sync::OnceLock;

use rhai::{ASTFlags, ASTNode, Dynamic, Engine, Expr, FnPtr, OptimizationLevel, Position, Stmt};

use super::compile::Problem;
use super::syntax::{BinaryOp, Literal, Pos, Syntax};

use super::syntax::{MAX_EXPRESSION_BYTES, MAX_LETS, MAX_NESTING};

/// Nesting Rhai's parser accepts (expressions, and inside closures).
const MAX_DEPTH: usize = 48;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut engine = Engine::new_raw();
        engine.set_optimization_level(OptimizationLevel::None);
        engine.set_max_expr_depths(MAX_DEPTH, MAX_DEPTH);
        engine
    })
}

/// Parses `text` into the syntax yakkan reads.
pub fn parse(text: &str) -> Result<Syntax, Vec<Problem>> {
    // Parsing is superlinear in the text, and every later pass walks the tree: a bound
    // on the text keeps a saved edit from stalling `check` or a reload.
    if text.len() > MAX_EXPRESSION_BYTES {
        return Err(vec![
            Problem::new(
                Pos { line: 1, column: 1 },
                format!(
                    "the expression is {} bytes long; an expression may have at most {MAX_EXPRESSION_BYTES}",
                    text.len()
                ),
            )
            .hint(Some("name parts of it as facts under `facts:`, and use them here")),
        ]);
    }
    let ast = engine().compile(text).map_err(|error| {
        if matches!(error.err_type(), rhai::ParseErrorType::ExprTooDeep) {
            return vec![
                Problem::new(
                    pos(error.position()),
                    format!("the expression nests more than {MAX_DEPTH} levels deep here"),
                )
                .hint(Some(
                    "name parts of it as facts under `facts:`, and use them here",
                )),
            ];
        }
        let message = error.err_type().to_string();
        let hint = parse_hint(&message);
        vec![Problem::new(pos(error.position()), format!("does not parse: {message}")).hint(hint)]
    })?;
    let mut reader = Reader {
        problems: Vec::new(),
    };
    // Closure bodies are functions of the AST; Rhai exposes their statements only to a
    // walk, which visits the main statements, then each function's, in `iter_fn_def` order.
    let main = ast.statements().len();
    let mut seen = 0usize;
    let mut bodies: Vec<(Pos, Option<Item>)> = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let [ASTNode::Stmt(statement)] = path {
            seen += 1;
            if seen > main {
                bodies.push((pos(statement.position()), reader.item(statement)));
            }
        }
        true
    });
    let mut bodies = bodies.into_iter().peekable();
    let mut closures: HashMap<String, (Vec<String>, Syntax)> = HashMap::new();
    for def in ast.iter_fn_def() {
        let start = pos(def.body.start_position());
        let end = def.body.end_position();
        let mut items = Vec::new();
        if end.is_none() {
            // A body without braces is one statement.
            items.extend(bodies.next().map(|(_, item)| item));
        } else {
            let end = pos(end);
            while let Some((at, _)) = bodies.peek() {
                if *at > end {
                    break;
                }
                items.extend(bodies.next().map(|(_, item)| item));
            }
        }
        let name = def.name.to_string();
        if !name.starts_with("anon$") {
            reader.problems.push(
                Problem::new(start, format!("`fn {name}` defines a function")).hint(Some(
                    "name a derived fact under `facts:` in a rule file instead",
                )),
            );
            continue;
        }
        let items: Option<Vec<Item>> = items.into_iter().collect();
        if let Some(body) = items.and_then(|items| reader.assemble(items, start)) {
            let params = def.params.iter().map(|p| p.to_string()).collect();
            closures.insert(name, (params, body));
        }
    }
    let items: Option<Vec<Item>> = ast.statements().iter().map(|s| reader.item(s)).collect();
    let syntax = items.and_then(|items| reader.assemble(items, Pos { line: 1, column: 1 }));
    match syntax {
        Some(syntax) if reader.problems.is_empty() => {
            resolve(syntax, &closures, 0).ok_or_else(|| {
                vec![
                    Problem::new(
                        Pos { line: 1, column: 1 },
                        format!("the expression nests more than {MAX_NESTING} levels deep"),
                    )
                    .hint(Some(
                        "name parts of it as facts under `facts:`, and use them here",
                    )),
                ]
            })
        }
        _ => Err(reader.problems),
    }
}

/// The name Rhai's closure placeholders are read into until their bodies are known.
const CLOSURE: &str = "$closure";

/// Replaces closure placeholders by the closures' parameters and bodies; `None` past
/// [`MAX_NESTING`] levels, so no later pass over the tree recurses further.
fn resolve(
    syntax: Syntax,
    closures: &HashMap<String, (Vec<String>, Syntax)>,
    depth: usize,
) -> Option<Syntax> {
    if depth > MAX_NESTING {
        return None;
    }
    let go = |s: Syntax| resolve(s, closures, depth + 1);
    let boxed = |s: Box<Syntax>| go(*s).map(Box::new);
    Some(match syntax {
        Syntax::Call(name, args, at) if name == CLOSURE => {
            let (
                Some(Syntax::Literal(Literal::Text(fn_name), _)),
                Some(Syntax::Literal(Literal::Int(captured), _)),
            ) = (args.first(), args.get(1))
            else {
                return None;
            };
            let (params, body) = closures.get(fn_name)?;
            Syntax::Closure(
                params.iter().skip(*captured as usize).cloned().collect(),
                Box::new(go(body.clone())?),
                at,
            )
        }
        Syntax::Call(name, args, at) => {
            Syntax::Call(name, args.into_iter().map(go).collect::<Option<_>>()?, at)
        }
        Syntax::List(items, at) => {
            Syntax::List(items.into_iter().map(go).collect::<Option<_>>()?, at)
        }
        Syntax::Field(base, name, at) => Syntax::Field(boxed(base)?, name, at),
        Syntax::Index(base, index, at) => Syntax::Index(boxed(base)?, boxed(index)?, at),
        Syntax::Binary(op, a, b, at) => Syntax::Binary(op, boxed(a)?, boxed(b)?, at),
        Syntax::Not(a, at) => Syntax::Not(boxed(a)?, at),
        Syntax::Negate(a, at) => Syntax::Negate(boxed(a)?, at),
        Syntax::If(c, a, b, at) => Syntax::If(
            boxed(c)?,
            boxed(a)?,
            match b {
                Some(b) => Some(boxed(b)?),
                None => None,
            },
            at,
        ),
        Syntax::Let(name, value, body, at) => Syntax::Let(name, boxed(value)?, boxed(body)?, at),
        Syntax::Closure(params, body, at) => Syntax::Closure(params, boxed(body)?, at),
        leaf @ (Syntax::Literal(..) | Syntax::Name(..)) => leaf,
    })
}

fn parse_hint(message: &str) -> Option<&'static str> {
    if message.contains("'=='") || message.contains("assign") {
        Some("`=` assigns; compare with `==`")
    } else {
        None
    }
}

fn pos(position: Position) -> Pos {
    Pos {
        line: position.line().unwrap_or(1) as u32,
        column: position.position().unwrap_or(1) as u32,
    }
}

/// A statement read: a `let`, or a value.
enum Item {
    Let(String, Syntax, Pos),
    Value(Syntax, Pos),
    /// Bookkeeping Rhai adds (captures, no-ops).
    Skip,
}

struct Reader {
    problems: Vec<Problem>,
}

impl Reader {
    fn refuse(&mut self, at: Position, message: &str, hint: &'static str) -> Option<Syntax> {
        self.problems
            .push(Problem::new(pos(at), message.to_owned()).hint(Some(hint)));
        None
    }

    /// Statements read as one expression: `let`s, then the value.
    fn block(&mut self, statements: &[Stmt], at: Pos) -> Option<Syntax> {
        let items: Option<Vec<Item>> = statements.iter().map(|s| self.item(s)).collect();
        self.assemble(items?, at)
    }

    /// `let`s, then one value; anything else before the value is refused.
    fn assemble(&mut self, items: Vec<Item>, at: Pos) -> Option<Syntax> {
        if let Some(Item::Let(_, _, at)) = items
            .iter()
            .filter(|item| matches!(item, Item::Let(..)))
            .nth(MAX_LETS)
        {
            self.problems.push(
                Problem::new(
                    *at,
                    format!("more than {MAX_LETS} `let`s in one expression"),
                )
                .hint(Some(
                    "name parts of it as facts under `facts:`, and use them here",
                )),
            );
            return None;
        }
        let mut items = items
            .into_iter()
            .filter(|item| !matches!(item, Item::Skip))
            .rev();
        let mut body = match items.next() {
            Some(Item::Value(value, _)) => value,
            Some(Item::Let(_, _, at)) => {
                self.problems.push(
                    Problem::new(at, "a `let` cannot end an expression".to_owned())
                        .hint(Some("end with the value, e.g. `let x = …; x`")),
                );
                return None;
            }
            Some(Item::Skip) | None => {
                self.problems.push(
                    Problem::new(at, "an empty expression has no value".to_owned())
                        .hint(Some("write the value, e.g. `true` or `yen(0)`")),
                );
                return None;
            }
        };
        for item in items {
            match item {
                Item::Let(name, value, at) => {
                    body = Syntax::Let(name, Box::new(value), Box::new(body), at);
                }
                Item::Skip => {}
                Item::Value(_, at) => {
                    self.problems.push(
                        Problem::new(
                            at,
                            "only `let`s may come before an expression's value".to_owned(),
                        )
                        .hint(Some("bind intermediate values with `let name = …;`")),
                    );
                    return None;
                }
            }
        }
        Some(body)
    }

    /// One statement; `None` when it is refused (its problem recorded) or empty.
    fn item(&mut self, statement: &Stmt) -> Option<Item> {
        let at = statement.position();
        let value = |s: Option<Syntax>| s.map(|s| Item::Value(s, pos(at)));
        match statement {
            Stmt::Var(var, _, at) => {
                let value = self.expr(&var.1)?;
                Some(Item::Let(var.0.name.to_string(), value, pos(*at)))
            }
            Stmt::Expr(e) => value(self.expr(e)),
            Stmt::FnCall(call, at) => value(self.call(call, *at)),
            Stmt::Block(block) => value(self.block(block.statements(), pos(block.position()))),
            Stmt::Noop(_) | Stmt::Share(_) => Some(Item::Skip),
            Stmt::If(flow, at) => {
                let condition = self.expr(&flow.expr)?;
                let then = self.block(flow.body.statements(), pos(flow.body.position()))?;
                let otherwise = if flow.branch.is_empty() {
                    None
                } else {
                    Some(Box::new(self.block(
                        flow.branch.statements(),
                        pos(flow.branch.position()),
                    )?))
                };
                value(Some(Syntax::If(
                    Box::new(condition),
                    Box::new(then),
                    otherwise,
                    pos(*at),
                )))
            }
            Stmt::Assignment(_) => value(self.refuse(
                at,
                "assignment is not part of the rule language",
                "`=` assigns; compare with `==`, or bind a new name with `let`",
            )),
            Stmt::While(..) | Stmt::Do(..) | Stmt::For(..) => value(self.refuse(
                at,
                "loops are not part of the rule language",
                "use the list functions some, all, filter, map, count, sum or reduce",
            )),
            Stmt::Return(..) => value(self.refuse(
                at,
                "`return` is not part of the rule language",
                "write the value as the last expression, with `if … { … } else { … }`",
            )),
            Stmt::Switch(..) => value(self.refuse(
                at,
                "`switch` is not part of the rule language",
                "use `if … { … } else if … { … } else { … }`",
            )),
            _ => value(self.refuse(
                at,
                "this statement is not part of the rule language",
                "an expression is `let`s followed by one value",
            )),
        }
    }

    fn expr(&mut self, expr: &Expr) -> Option<Syntax> {
        let at = pos(expr.position());
        Some(match expr {
            Expr::BoolConstant(b, _) => Syntax::Literal(Literal::Bool(*b), at),
            Expr::IntegerConstant(n, _) => Syntax::Literal(Literal::Int(*n), at),
            Expr::StringConstant(s, _) => Syntax::Literal(Literal::Text(s.to_string()), at),
            Expr::Unit(_) => Syntax::Literal(Literal::Unit, at),
            Expr::DynamicConstant(value, p) => return self.constant(value, *p),
            Expr::Array(items, _) => Syntax::List(
                items
                    .iter()
                    .map(|item| self.expr(item))
                    .collect::<Option<_>>()?,
                at,
            ),
            Expr::Variable(variable, _, _) => Syntax::Name(variable.1.to_string(), at),
            Expr::Stmt(block) => self.block(block.statements(), at)?,
            Expr::FnCall(call, p) => self.call(call, *p)?,
            Expr::Dot(binary, _, _) => {
                let base = self.expr(&binary.lhs)?;
                self.chain(base, &binary.rhs)?
            }
            Expr::Index(binary, flags, p) => {
                let base = self.expr(&binary.lhs)?;
                self.index(base, &binary.rhs, *flags, *p)?
            }
            Expr::And(items, _) | Expr::Or(items, _) => {
                let op = if matches!(expr, Expr::And(..)) {
                    BinaryOp::And
                } else {
                    BinaryOp::Or
                };
                let mut items = items.iter();
                let first = self.expr(items.next()?)?;
                items.try_fold(first, |lhs, rhs| {
                    let rhs = self.expr(rhs)?;
                    let at = rhs.pos();
                    Some(Syntax::Binary(op, Box::new(lhs), Box::new(rhs), at))
                })?
            }
            Expr::Map(..) => {
                return self.refuse(
                    expr.position(),
                    "map literals are not part of the rule language",
                    "name the values in ruleset.yaml params, or compute a fact",
                );
            }
            Expr::InterpolatedString(..) | Expr::CharConstant(..) => {
                return self.refuse(
                    expr.position(),
                    "only plain text in double quotes is part of the rule language",
                    "write text as \"…\"",
                );
            }
            Expr::Coalesce(..) => {
                return self.refuse(
                    expr.position(),
                    "`??` is not part of the rule language",
                    "test for no value with `x == ()` inside `if … else …`",
                );
            }
            _ => {
                return self.refuse(
                    expr.position(),
                    "this is not part of the rule language",
                    "rules use names, fields, calls, operators, `if`, `let` and lists",
                );
            }
        })
    }

    fn constant(&mut self, value: &Dynamic, at: Position) -> Option<Syntax> {
        if let Some(pointer) = value.read_lock::<FnPtr>() {
            let name = pointer.fn_name().to_owned();
            return self.closure(&name, 0, at);
        }
        if let Ok(decimal) = value.as_decimal() {
            return Some(Syntax::Literal(Literal::Decimal(decimal), pos(at)));
        }
        self.refuse(
            at,
            "this constant is not part of the rule language",
            "rules use numbers, text, true/false, () and lists",
        )
    }

    /// A closure, as a placeholder until the closures' bodies are read: the parameters
    /// after the `captured` ones Rhai prepends.
    fn closure(&mut self, name: &str, captured: usize, at: Position) -> Option<Syntax> {
        let p = pos(at);
        Some(Syntax::Call(
            CLOSURE.to_owned(),
            vec![
                Syntax::Literal(Literal::Text(name.to_owned()), p),
                Syntax::Literal(Literal::Int(captured as i64), p),
            ],
            p,
        ))
    }

    fn call(&mut self, call: &rhai::FnCallExpr, at: Position) -> Option<Syntax> {
        let name = call.name.as_str();
        let p = pos(at);
        if call.capture_parent_scope {
            return self.refuse(
                at,
                "`f!(…)` is not part of the rule language",
                "call `f(…)`",
            );
        }
        // A closure that reads names around it: `curry(Fn, captured…)`.
        if name == "curry"
            && let Some(Expr::DynamicConstant(value, p)) = call.args.first()
            && let Some(pointer) = value.read_lock::<FnPtr>()
        {
            let name = pointer.fn_name().to_owned();
            return self.closure(&name, call.args.len() - 1, *p);
        }
        if name == CLOSURE {
            return self.refuse(at, "an unknown function", "call a function by its name");
        }
        let mut args: Vec<Syntax> = call
            .args
            .iter()
            .map(|a| self.expr(a))
            .collect::<Option<_>>()?;
        let binary = |op| Some(op);
        let op = match (name, args.len()) {
            ("contains", 2) => {
                // `a in b` arrives as `contains(b, a)`.
                args.swap(0, 1);
                binary(BinaryOp::In)
            }
            ("+", 2) => binary(BinaryOp::Add),
            ("-", 2) => binary(BinaryOp::Sub),
            ("*", 2) => binary(BinaryOp::Mul),
            ("/", 2) => binary(BinaryOp::Div),
            ("==", 2) => binary(BinaryOp::Eq),
            ("!=", 2) => binary(BinaryOp::Ne),
            ("<", 2) => binary(BinaryOp::Lt),
            ("<=", 2) => binary(BinaryOp::Le),
            (">", 2) => binary(BinaryOp::Gt),
            (">=", 2) => binary(BinaryOp::Ge),
            ("!", 1) => return Some(Syntax::Not(Box::new(args.remove(0)), p)),
            ("-", 1) => return Some(Syntax::Negate(Box::new(args.remove(0)), p)),
            ("+", 1) => return Some(args.remove(0)),
            _ if !name.starts_with(|c: char| c.is_alphabetic() || c == '_') => {
                return self.refuse(
                    at,
                    &format!("the operator `{name}` is not part of the rule language"),
                    "rules use + - * / == != < <= > >= && || ! and `in`",
                );
            }
            _ => None,
        };
        Some(match op {
            Some(op) => {
                let rhs = args.pop()?;
                let lhs = args.pop()?;
                Syntax::Binary(op, Box::new(lhs), Box::new(rhs), p)
            }
            None => Syntax::Call(name.to_owned(), args, p),
        })
    }

    /// Applies one step of a Rhai chain (`.name`, `.f(…)`, nested chains) to `base`.
    fn chain(&mut self, base: Syntax, step: &Expr) -> Option<Syntax> {
        match step {
            Expr::Property(property, at) => Some(Syntax::Field(
                Box::new(base),
                property.2.to_string(),
                pos(*at),
            )),
            Expr::MethodCall(call, at) => {
                let mut args = vec![base];
                for arg in &call.args {
                    args.push(self.expr(arg)?);
                }
                Some(Syntax::Call(call.name.to_string(), args, pos(*at)))
            }
            Expr::Dot(binary, _, _) => {
                let base = self.chain(base, &binary.lhs)?;
                self.chain(base, &binary.rhs)
            }
            Expr::Index(binary, flags, at) => {
                let base = self.chain(base, &binary.lhs)?;
                self.index(base, &binary.rhs, *flags, *at)
            }
            other => self.refuse(
                other.position(),
                "this chain is not part of the rule language",
                "read fields as `a.b.c` and call functions as `f(a)` or `a.f()`",
            ),
        }
    }

    /// `base[rhs]`: Rhai marks the last index of a chain with `BREAK`; otherwise `rhs`
    /// carries the index and the rest of the chain.
    fn index(&mut self, base: Syntax, rhs: &Expr, flags: ASTFlags, at: Position) -> Option<Syntax> {
        if flags.contains(ASTFlags::BREAK) {
            let index = self.expr(rhs)?;
            return Some(Syntax::Index(Box::new(base), Box::new(index), pos(at)));
        }
        match rhs {
            Expr::Dot(binary, _, _) => {
                let index = self.expr(&binary.lhs)?;
                let base = Syntax::Index(Box::new(base), Box::new(index), pos(at));
                self.chain(base, &binary.rhs)
            }
            Expr::Index(binary, flags, inner) => {
                let index = self.expr(&binary.lhs)?;
                let base = Syntax::Index(Box::new(base), Box::new(index), pos(at));
                self.index(base, &binary.rhs, *flags, *inner)
            }
            other => {
                let index = self.expr(other)?;
                Some(Syntax::Index(Box::new(base), Box::new(index), pos(at)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(text: &str) -> String {
        format!("{:?}", strip(parse(text).unwrap()))
    }

    /// The tree without positions, to compare shapes.
    fn strip(s: Syntax) -> String {
        match s {
            Syntax::Literal(l, _) => format!("{l:?}"),
            Syntax::Name(n, _) => n,
            Syntax::Field(b, n, _) => format!("{}.{n}", strip(*b)),
            Syntax::Index(b, i, _) => format!("{}[{}]", strip(*b), strip(*i)),
            Syntax::Call(f, args, _) => format!(
                "{f}({})",
                args.into_iter().map(strip).collect::<Vec<_>>().join(", ")
            ),
            Syntax::Binary(op, a, b, _) => {
                format!("({} {} {})", strip(*a), op.symbol(), strip(*b))
            }
            Syntax::Not(a, _) => format!("!{}", strip(*a)),
            Syntax::Negate(a, _) => format!("-{}", strip(*a)),
            Syntax::If(c, a, b, _) => format!(
                "if {} {{ {} }} else {{ {} }}",
                strip(*c),
                strip(*a),
                b.map(|b| strip(*b)).unwrap_or_default()
            ),
            Syntax::Let(n, v, b, _) => format!("let {n} = {}; {}", strip(*v), strip(*b)),
            Syntax::List(items, _) => format!(
                "[{}]",
                items.into_iter().map(strip).collect::<Vec<_>>().join(", ")
            ),
            Syntax::Closure(params, body, _) => {
                format!("|{}| {}", params.join(", "), strip(*body))
            }
        }
    }

    #[test]
    fn reads_chains_calls_and_operators() {
        assert_eq!(
            show("request.contract.kind in params.kinds"),
            "\"(request.contract.kind in params.kinds)\""
        );
        assert_eq!(show("params.items[kind]"), "\"params.items[kind]\"");
        assert_eq!(show("a[b].c"), "\"a[b].c\"");
        assert_eq!(show("a.b[c].d"), "\"a.b[c].d\"");
        assert_eq!(show("x.f(1).g"), "\"f(x, Int(1)).g\"");
        assert_eq!(show("!(a && b || c)"), "\"!((a && b) || c)\"");
        assert_eq!(show("-x + 1.5"), "\"(-x + Decimal(1.5))\"");
    }

    #[test]
    fn reads_lets_ifs_and_closures() {
        assert_eq!(
            show("let k = 1; if a { k } else if b { 2 } else { () }"),
            "\"let k = Int(1); if a { k } else { if b { Int(2) } else { Unit } }\""
        );
        assert_eq!(
            show("let ks = [1]; xs.filter(|o| o.kind in ks)"),
            "\"let ks = [Int(1)]; filter(xs, |o| (o.kind in ks))\""
        );
        assert_eq!(
            show("xs.reduce(|s, o| s + o, 0)"),
            "\"reduce(xs, |s, o| (s + o), Int(0))\""
        );
    }

    #[test]
    fn refuses_what_the_rule_language_lacks_with_a_hint() {
        let problem = |text: &str| parse(text).unwrap_err().remove(0);
        let assign = problem("request.option = params.sandbox_option");
        assert!(assign.message.contains("assignment"), "{assign:?}");
        assert_eq!(
            assign.hint.as_deref(),
            Some("`=` assigns; compare with `==`, or bind a new name with `let`")
        );
        assert!(problem("loop { }").message.contains("loops"));
        assert!(
            problem("let i = 0; while i < 3 { i += 1 }; i")
                .message
                .contains("not part")
        );
        assert!(problem("if a { return 1; } 2").message.contains("return"));
        assert!(problem("#{a: 1}").message.contains("map literals"));
        assert!(problem("`x${a}`").message.contains("plain text"));
        assert!(problem("fn f() { 1 } f()").message.contains("fn f"));
        let position = problem("1 +\n  (a = 2)");
        assert_eq!(position.pos.line, 2, "{position:?}");
    }
}
