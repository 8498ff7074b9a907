//! The wire format of the HTTP service, which its OpenAPI description declares too: the
//! error body every failure answers, and the content types an evaluation reads.

use axum::http::StatusCode;
use serde::Serialize;

use crate::EvalError;

/// Every error answer: `{"error": {"kind", "message", …}, "digest"}`. An input error
/// names the field; a rule error names the rule; the others name what the request lacks.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ErrorBody {
    pub(super) error: ErrorDetail,
    /// The rule set in service when the request was answered.
    pub(super) digest: String,
    /// In a batch's answer: the case's place in the array, from 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) index: Option<usize>,
}

/// What went wrong: `input` (the case; HTTP 400), `rule` (a rule failed; HTTP 500), or
/// what the request itself lacks (404, 405, 408, 413, 415, 503).
#[derive(Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum ErrorDetail {
    /// 400: the case (or the query) cannot be read, or refers to something it does not have.
    Input {
        /// The field path, e.g. `requests[2].date`; empty for the whole body.
        path: String,
        /// The line of the field in the body, when known.
        line: Option<usize>,
        /// The column of the field in the body, when known.
        column: Option<usize>,
        /// What is wrong.
        message: String,
        /// How to fix it, in plain words, for the common mistakes.
        #[serde(skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
    },
    /// 500: a rule failed on this case's data (an overflow, a division by zero).
    Rule {
        /// The rule's id.
        rule: String,
        /// The rule file that defines it.
        file: String,
        /// The line in that file of the expression that failed, when one did.
        line: Option<usize>,
        /// Its column.
        column: Option<usize>,
        /// What went wrong, at which line and column of the file.
        message: String,
    },
    /// 404, 405, 408, 413, 415, 503: the request itself, not its case.
    #[serde(untagged)]
    Http {
        /// `not_found`, `method_not_allowed`, `timeout`, `payload_too_large`, `answer_too_large`,
        /// `unsupported_media_type` or `unavailable`.
        kind: &'static str,
        /// What is wrong.
        message: String,
    },
}

pub(super) fn error_body(error: &EvalError, digest: &str) -> (StatusCode, ErrorBody) {
    let (status, error) = match error {
        EvalError::Case(diagnostic) => (
            StatusCode::BAD_REQUEST,
            ErrorDetail::Input {
                path: diagnostic.path.clone(),
                line: diagnostic.position.map(|at| at.line),
                column: diagnostic.position.map(|at| at.column),
                message: diagnostic.message.clone(),
                hint: diagnostic.hint().map(str::to_owned),
            },
        ),
        EvalError::Rule {
            rule,
            file,
            position,
            message,
        } => (
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorDetail::Rule {
                rule: rule.clone(),
                file: file.clone(),
                line: position.map(|at| at.line),
                column: position.map(|at| at.column),
                message: message.clone(),
            },
        ),
    };
    (
        status,
        ErrorBody {
            error,
            digest: digest.to_owned(),
            index: None,
        },
    )
}

/// The YAML content types `/v1/evaluate` reads (and any `+yaml` type).
pub(crate) const YAML_TYPES: [&str; 4] = [
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "text/x-yaml",
];
