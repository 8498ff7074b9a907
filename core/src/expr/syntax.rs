//! The parse tree yakkan reads, whatever parser produced it.

use rust_decimal::Decimal;

/// The longest expression text, in bytes. The longest in the bundled rules is about 600;
/// the bound keeps parsing (superlinear in the text) and every pass over the tree short.
pub const MAX_EXPRESSION_BYTES: usize = 16 * 1024;

/// The most `let`s one block may bind before its value: each nests the rest of the block.
pub const MAX_LETS: usize = 64;

/// The deepest tree an expression may read into (lets, calls, closures and operators
/// all count), so no pass over it recurses without bound.
pub const MAX_NESTING: usize = 128;

/// A line and column inside an expression's text, both from 1.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Pos {
    /// The line.
    pub line: u32,
    /// The column.
    pub column: u32,
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `()`: no value.
    Unit,
    /// `true`, `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Decimal(Decimal),
    /// Text in quotes.
    Text(String),
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `x in list`, `key in map`
    In,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "&&",
            BinaryOp::Or => "||",
            BinaryOp::In => "in",
        }
    }
}

/// An expression as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Syntax {
    /// A literal.
    Literal(Literal, Pos),
    /// A name: a context variable, a `let`, a closure parameter.
    Name(String, Pos),
    /// `base.name`
    Field(Box<Syntax>, String, Pos),
    /// `base[index]`
    Index(Box<Syntax>, Box<Syntax>, Pos),
    /// `f(a, b)`, and `a.f(b)` with `a` first.
    Call(String, Vec<Syntax>, Pos),
    /// `a op b`
    Binary(BinaryOp, Box<Syntax>, Box<Syntax>, Pos),
    /// `!a`
    Not(Box<Syntax>, Pos),
    /// `-a`
    Negate(Box<Syntax>, Pos),
    /// `if c { a } else { b }`; without `else` it has no value.
    If(Box<Syntax>, Box<Syntax>, Option<Box<Syntax>>, Pos),
    /// `let name = value;` then `body`.
    Let(String, Box<Syntax>, Box<Syntax>, Pos),
    /// `[a, b]`
    List(Vec<Syntax>, Pos),
    /// `|a, b| body`, only as an argument of a list function.
    Closure(Vec<String>, Box<Syntax>, Pos),
}

impl Syntax {
    /// Where it starts.
    pub fn pos(&self) -> Pos {
        match self {
            Syntax::Literal(_, p)
            | Syntax::Name(_, p)
            | Syntax::Field(_, _, p)
            | Syntax::Index(_, _, p)
            | Syntax::Call(_, _, p)
            | Syntax::Binary(_, _, _, p)
            | Syntax::Not(_, p)
            | Syntax::Negate(_, p)
            | Syntax::If(_, _, _, p)
            | Syntax::Let(_, _, _, p)
            | Syntax::List(_, p)
            | Syntax::Closure(_, _, p) => *p,
        }
    }

    /// Where the whole expression starts: Rhai places operators and fields at their own
    /// token, so the leftmost part is found by descending.
    pub fn start(&self) -> Pos {
        match self {
            Syntax::Field(base, _, p) | Syntax::Index(base, _, p) => base.start().min(*p),
            Syntax::Binary(_, lhs, _, p) => lhs.start().min(*p),
            Syntax::Call(_, args, p) => args.first().map_or(*p, |a| a.start().min(*p)),
            other => other.pos(),
        }
    }

    /// The text of a place (`request.contract.kind`, `m[k]`, and calls of functions and
    /// facts on places, which give one value while a subject is judged), which narrowing
    /// and explanations key on; `None` for anything else.
    pub fn place(&self) -> Option<String> {
        match self {
            Syntax::Call(name, args, _) => {
                let args: Option<Vec<String>> = args.iter().map(Syntax::place).collect();
                Some(format!("{name}({})", args?.join(", ")))
            }
            Syntax::Name(name, _) => Some(name.clone()),
            Syntax::Field(base, name, _) => Some(format!("{}.{name}", base.place()?)),
            Syntax::Index(base, index, _) => {
                let key = match &**index {
                    Syntax::Literal(Literal::Text(t), _) => format!("{t:?}"),
                    other => other.place()?,
                };
                Some(format!("{}[{key}]", base.place()?))
            }
            _ => None,
        }
    }
}
