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
//! The engine is the crate `yakkan-core` (`core/`), re-exported here under the same paths;
//! this crate is the layers over it: the command line, the HTTP service (the default
//! feature `server`, with axum, tokio and prometheus), the decision log, the rulebook,
//! diff, the case corpus with its `expect:` blocks, snapshots and fmt.

// The engine, `yakkan-core`, under the paths the layers over it have always used.
pub use yakkan_core::{
    calendar, case, error, eval, expr, file, hint, model, ruleset, ruling, yaml,
};

/// The stack of every thread yakkan loads rules or evaluates cases on (the HTTP service's
/// workers, its reload thread, batch workers): a main thread's 8 MiB, not a spawned
/// thread's 2 MiB. The bounds on expressions, model defaults and case nesting are proven
/// to fit half of it in a debug build (`tests/check.rs`).
pub const THREAD_STACK: usize = 8 << 20;

pub mod batch;
pub mod book;
pub mod bundled;
pub mod corpus;
pub mod decisions;
pub mod diff;
pub mod expect;
#[cfg(feature = "server")]
pub mod openapi;
pub mod report;
pub mod schema;
#[cfg(feature = "server")]
pub mod server;
pub mod snapshot;
pub mod tidy;

pub use yakkan_core::{
    Case, Diagnostic, EvalError, LoadError, Position, RuleSet, Ruling, Syntax, evaluate,
};
