//! The expression layer: what the legal team writes in `when`, `require`, `values` and
//! `facts`, compiled at load into a typed form yakkan owns.
//!
//! Rhai is the *syntax*: [`rhai_front`] (the only module that knows Rhai) turns its parse
//! tree into [`syntax::Syntax`]. [`compile`] type-checks that tree against a [`Schema`] —
//! the records, functions and constants a rule may use — and produces [`Ir`], which
//! [`run`] evaluates over [`Value`]s. The language is a deliberate subset: no loops, no
//! assignment but `let`, no clock, no randomness, closures only as arguments of list
//! functions, and no recursion between facts, so every expression terminates and the same
//! inputs always give the same value.

pub mod builtins;
pub mod compile;
pub mod rhai_front;
pub mod run;
pub mod syntax;
mod types;
mod value;

pub use compile::{Compiled, Problem};
pub use run::{Frame, Host, RunError};
pub use syntax::Pos;
pub use types::{Field, FunctionSig, Name, RecordType, Schema, Type};
pub use value::{Life, NULL, Record, Shape, Span, Value};

pub use compile::Ir;
