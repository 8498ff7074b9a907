//! yakkan-core: the engine of yakkan (約款), a policy-as-data rule evaluator for service
//! terms, and nothing else — no command line, no HTTP service, no test harness.
//!
//! A rule set ([`RuleSet`]) is a folder of YAML files, one per article of the terms, with
//! a `model.yaml` declaring the records and requests of its cases; a [`Case`] is a
//! customer's contracts and requests, read against that model; [`evaluate`] decides the
//! requests in the case's order, settles the case, and returns a [`Ruling`] whose
//! findings cite the articles. Embedding it alone: `docs/reference/library.md`.
//!
//! The modules are the domain's: the case and its reader ([`case`], [`model`]), the rule
//! set — its format, loading, checking and compiled image ([`ruleset`]), the expression
//! layer, the only place that knows Rhai ([`expr`]), evaluation ([`eval`]), the ruling
//! ([`ruling`]), and what they share: errors, YAML reading with positions, bounded file
//! reading ([`file`]), the calendar of the Civil Code, plain-word hints.

pub mod calendar;
pub mod case;
mod de;
pub mod error;
pub mod eval;
pub mod expr;
pub mod file;
pub mod hint;
pub mod model;
pub mod ruleset;
pub mod ruling;
pub mod yaml;

pub use case::Case;
pub use error::{Diagnostic, EvalError, LoadError};
pub use eval::evaluate;
pub use ruleset::RuleSet;
pub use ruling::Ruling;
pub use yaml::{Position, Syntax};
