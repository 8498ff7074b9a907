//! yakkan (約款): a policy-as-data rule evaluator for service terms.
//!
//! A rule set is a folder of YAML files, one per article of the terms; a case is a
//! customer's contracts and requests; [`evaluate`] decides the requests and returns a
//! [`Ruling`] whose findings cite the articles. The reference is in `docs/reference/`.
//!
//! ```
//! use yakkan::{Case, evaluate};
//! use yakkan::ruling::Decision;
//!
//! // The rule set shipped with yakkan; `RuleSet::load(path)` reads any other folder.
//! let rules = yakkan::bundled::load()?;
//! let case = Case::from_str(
//!     &rules,
//!     r#"
//! as_of: 2026-05-20
//! contracts:
//!   - { id: WG-1, kind: web_gateway, accounts: 50, formed: 2026-04-10,
//!       billing_start: 2026-04-15, fees: { basic_monthly: "35000", per_account_monthly: "500" } }
//! requests:
//!   - { type: terminate, contract: WG-1, notice_arrived: 2026-04-12 }
//! "#,
//!     Some("example.yaml"),
//! )?;
//! let ruling = evaluate(&rules, &case)?;
//! let request = &ruling.requests[0];
//! assert_eq!(request.decision, Decision::Accepted);
//! assert_eq!(request.values["effective_date"].as_text(), "2026-05-12");
//! // 35,000 + 500 × 50 = 60,000 yen a month; 2 of the 30 days of the minimum period left.
//! assert_eq!(request.values["early_termination_fee"].as_text(), "4000");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With `default-features = false` the crate is the evaluator alone; the default feature
//! `server` adds [`server`], the HTTP service (axum, tokio, prometheus).

pub mod batch;
pub mod book;
pub mod bundled;
pub mod calendar;
pub mod case;
pub mod corpus;
mod de;
pub mod decisions;
pub mod diff;
pub mod error;
pub mod eval;
pub mod expect;
pub mod expr;
mod hint;
pub mod model;
#[cfg(feature = "server")]
pub mod openapi;
pub mod report;
pub mod ruleset;
pub mod ruling;
pub mod schema;
#[cfg(feature = "server")]
pub mod server;
pub mod snapshot;
pub mod tidy;
mod yaml;

pub use case::Case;
pub use error::{Diagnostic, EvalError, LoadError};
pub use eval::evaluate;
pub use ruleset::RuleSet;
pub use ruling::Ruling;
pub use yaml::{Position, Syntax};
