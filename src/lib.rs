//! yakkan (約款): a policy-as-data rule evaluator for service terms.

pub mod batch;
pub mod calendar;
pub mod case;
pub mod corpus;
mod de;
pub mod diff;
pub mod error;
pub mod eval;
pub mod expect;
pub mod expr;
pub mod facts;
pub mod report;
pub mod ruleset;
pub mod ruling;
pub mod server;
pub mod yaml;

pub use case::Case;
pub use error::{Diagnostic, EvalError, LoadError};
pub use eval::evaluate;
pub use ruleset::RuleSet;
pub use ruling::Ruling;
