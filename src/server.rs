//! The HTTP service other services call: evaluate cases, list the rules in force, health
//! and Prometheus metrics, its OpenAPI description (`/v1/openapi.json`), and the rulebook
//! (`/`, see [`crate::book`]) with a form to try a case. The rule set is hot-reloaded on
//! SIGHUP or when its folder changes: a new set is loaded and checked in the background
//! and swapped in atomically (with its rulebook); a broken one is refused, its
//! diagnostics logged, and the old set keeps serving.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::extract::{DefaultBodyLimit, MatchedPath, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::net::TcpListener;

use crate::batch::evaluate_all;
use crate::book::Book;
use crate::calendar;
use crate::case::Case;
use crate::error::{EvalError, LoadError};
use crate::eval::evaluate;
use crate::ruleset::RuleSet;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The rule set folder.
    pub rules: PathBuf,
    /// Largest request body, in bytes (larger: 413).
    pub body_limit: usize,
    /// How often the rules folder is checked for changes.
    pub watch_interval: Duration,
    /// The case files the rulebook shows per rule (`/`).
    pub book_cases: Vec<PathBuf>,
    /// The impact review the rulebook's revision pages show, if any.
    pub book_impact: Option<String>,
}

/// The shared state: the rule set in service and the metrics.
pub struct Service {
    rules: ArcSwap<RuleSet>,
    /// The rulebook of the rule set in service, rebuilt after each reload.
    book: ArcSwap<Book>,
    config: Config,
    metrics: Metrics,
    /// The digest of the last folder text a reload was tried with, good or broken, so a
    /// broken set is reported once rather than at every check.
    last_tried: std::sync::Mutex<String>,
}

struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    errors: IntCounterVec,
    latency: HistogramVec,
    ruleset: IntGaugeVec,
    reloads: IntCounterVec,
}

impl Metrics {
    fn new() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("yakkan_requests_total", "HTTP requests by route and status"),
            &["route", "status"],
        )
        .expect("valid metric");
        let errors = IntCounterVec::new(
            Opts::new(
                "yakkan_errors_total",
                "Evaluation errors by kind (input, rule)",
            ),
            &["kind"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "yakkan_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05,
                0.1, 0.25, 1.0,
            ]),
            &["route"],
        )
        .expect("valid metric");
        let ruleset = IntGaugeVec::new(
            Opts::new(
                "yakkan_ruleset_info",
                "The rule set in service (1) by name and digest",
            ),
            &["name", "digest"],
        )
        .expect("valid metric");
        let reloads = IntCounterVec::new(
            Opts::new(
                "yakkan_reloads_total",
                "Rule set reloads by result (ok, refused)",
            ),
            &["result"],
        )
        .expect("valid metric");
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(errors.clone()),
            Box::new(latency.clone()),
            Box::new(ruleset.clone()),
            Box::new(reloads.clone()),
        ] {
            registry.register(metric).expect("metrics register once");
        }
        Metrics {
            registry,
            requests,
            errors,
            latency,
            ruleset,
            reloads,
        }
    }
}

impl Service {
    /// Loads the rule set and prepares the service.
    pub fn new(config: Config) -> Result<Arc<Service>, LoadError> {
        let rules = RuleSet::load(&config.rules)?;
        let metrics = Metrics::new();
        metrics
            .ruleset
            .with_label_values(&[&rules.name, &rules.digest])
            .set(1);
        let book = Book::build(&rules, &config.book_cases, config.book_impact.as_deref());
        Ok(Arc::new(Service {
            last_tried: std::sync::Mutex::new(rules.digest.clone()),
            book: ArcSwap::from_pointee(book),
            rules: ArcSwap::from_pointee(rules),
            config,
            metrics,
        }))
    }

    /// The rule set in service now.
    pub fn rules(&self) -> Arc<RuleSet> {
        self.rules.load_full()
    }

    /// Loads the folder again; swaps the new set in if it checks, keeps the old one if not.
    pub async fn reload(self: &Arc<Self>, why: &str) {
        let dir = self.config.rules.clone();
        let (cases, impact) = (
            self.config.book_cases.clone(),
            self.config.book_impact.clone(),
        );
        // A loaded set carries its digest; for a refused one the folder's digest is read,
        // so that the same broken text is not tried again at every check.
        let loaded = tokio::task::spawn_blocking(move || match RuleSet::load(&dir) {
            Ok(rules) => {
                let book = Book::build(&rules, &cases, impact.as_deref());
                (None, Ok((rules, book)))
            }
            Err(error) => (crate::ruleset::source_digest(&dir).ok(), Err(error)),
        })
        .await;
        match loaded {
            Ok((_, Ok((rules, book)))) => {
                let old = self.rules.load();
                *self.last_tried.lock().expect("not poisoned") = rules.digest.clone();
                self.metrics
                    .ruleset
                    .with_label_values(&[&old.name, &old.digest])
                    .set(0);
                self.metrics
                    .ruleset
                    .with_label_values(&[&rules.name, &rules.digest])
                    .set(1);
                self.metrics.reloads.with_label_values(&["ok"]).inc();
                tracing::info!(reason = why, old = %old.digest, new = %rules.digest, "rule set reloaded");
                self.rules.store(Arc::new(rules));
                self.book.store(Arc::new(book));
            }
            Ok((digest, Err(error))) => {
                if let Some(digest) = digest {
                    *self.last_tried.lock().expect("not poisoned") = digest;
                }
                self.metrics.reloads.with_label_values(&["refused"]).inc();
                tracing::error!(reason = why, serving = %self.rules.load().digest, "rule set refused; the old one keeps serving:\n{error}");
            }
            Err(join) => {
                tracing::error!(reason = why, "rule set reload failed: {join}");
            }
        }
    }

    /// Reloads when the folder's text differs from what was last tried.
    async fn reload_if_changed(self: &Arc<Self>) {
        let dir = self.config.rules.clone();
        let digest = tokio::task::spawn_blocking(move || crate::ruleset::source_digest(&dir)).await;
        let Ok(Ok(digest)) = digest else {
            return;
        };
        let changed = *self.last_tried.lock().expect("not poisoned") != digest;
        if changed {
            self.reload("the rules folder changed").await;
        }
    }
}

/// The routes, with metrics and the body limit.
pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/v1/evaluate", post(evaluate_one))
        .route("/v1/evaluate/batch", post(evaluate_batch))
        .route("/v1/rules", get(rules_in_force))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi))
        .route("/", get(book_index))
        .route("/{page}", get(book_page))
        .layer(DefaultBodyLimit::max(service.config.body_limit))
        .layer(middleware::from_fn_with_state(service.clone(), measure))
        .with_state(service)
}

/// Serves until Ctrl-C, printing `listening on ADDR` once the socket is bound.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let service = Service::new(config.clone())?;
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(ServeError::Bind)?;
    let addr = listener.local_addr().map_err(ServeError::Bind)?;
    tracing::info!(%addr, digest = %service.rules().digest, "serving");
    println!("listening on {addr}");
    tokio::spawn(watch(service.clone()));
    axum::serve(listener, router(service))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(ServeError::Bind)
}

/// Why the service could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The rule set did not load.
    #[error("{0}")]
    Rules(#[from] LoadError),
    /// The address could not be bound or served.
    #[error("cannot serve: {0}")]
    Bind(std::io::Error),
}

/// Reloads on SIGHUP, and when the folder changes.
async fn watch(service: Arc<Service>) {
    // The set was just loaded: the first check is one interval away, not immediate.
    let period = service.config.watch_interval;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        #[cfg(unix)]
        {
            let hup = async {
                match hangup.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = hup => { service.reload("SIGHUP").await; }
                _ = tick.tick() => service.reload_if_changed().await,
            }
        }
        #[cfg(not(unix))]
        {
            tick.tick().await;
            service.reload_if_changed().await;
        }
    }
}

async fn measure(State(service): State<Arc<Service>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let metrics = &service.metrics;
    metrics
        .latency
        .with_label_values(&[&route])
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .with_label_values(&[&route, response.status().as_str()])
        .inc();
    tracing::debug!(%route, status = %response.status(), elapsed_us = started.elapsed().as_micros() as u64, "request");
    response
}

/// An evaluation error as JSON: an input error names the field; a rule error names the rule.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
    /// The rule set the attempt was made with.
    digest: String,
}

/// What went wrong: `input` (the case; HTTP 400) or `rule` (a rule failed; HTTP 500).
#[derive(Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ErrorDetail {
    /// The case cannot be read, or refers to something it does not have.
    Input {
        /// The field path, e.g. `requests[2].notice_arrived`; empty for the whole body.
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
    /// A rule failed while evaluating (for example it exceeded the operation budget).
    Rule {
        /// The rule's id.
        rule: String,
        /// The rule file that defines it.
        file: String,
        /// What went wrong.
        message: String,
    },
}

fn error_body(error: &EvalError, digest: &str) -> (StatusCode, ErrorBody) {
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
            message,
        } => (
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorDetail::Rule {
                rule: rule.clone(),
                file: file.clone(),
                message: message.clone(),
            },
        ),
    };
    (
        status,
        ErrorBody {
            error,
            digest: digest.to_owned(),
        },
    )
}

fn count_error(service: &Service, error: &EvalError) {
    let kind = match error {
        EvalError::Case(_) => "input",
        EvalError::Rule { .. } => "rule",
    };
    service.metrics.errors.with_label_values(&[kind]).inc();
}

async fn evaluate_one(State(service): State<Arc<Service>>, body: String) -> Response {
    let rules = service.rules();
    // Evaluation runs in place: a typical case takes a fraction of a millisecond, and a rule
    // cannot hold the worker longer than its operation budget allows.
    let result = Case::from_str(&body, Some("request body"))
        .map_err(EvalError::Case)
        .and_then(|case| evaluate(&rules, &case));
    match result {
        Ok(ruling) => Json(ruling).into_response(),
        Err(error) => {
            count_error(&service, &error);
            if let EvalError::Rule { rule, message, .. } = &error {
                tracing::warn!(%rule, %message, "rule failed");
            }
            let (status, body) = error_body(&error, &rules.digest);
            (status, Json(body)).into_response()
        }
    }
}

async fn evaluate_batch(State(service): State<Arc<Service>>, body: String) -> Response {
    let rules = service.rules();
    let cases: Vec<Box<RawValue>> = match serde_json::from_str(&body) {
        Ok(cases) => cases,
        Err(error) => {
            service.metrics.errors.with_label_values(&["input"]).inc();
            let detail = ErrorDetail::Input {
                path: String::new(),
                line: Some(error.line()),
                column: Some(error.column()),
                message: format!("expected a JSON array of cases: {error}"),
                hint: None,
            };
            let body = ErrorBody {
                error: detail,
                digest: rules.digest.clone(),
            };
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    let worker = service.clone();
    let results = tokio::task::spawn_blocking(move || {
        let texts: Vec<&str> = cases.iter().map(|c| c.get()).collect();
        evaluate_all(&rules, &texts, |i| format!("cases[{i}]"), None)
            .into_iter()
            .map(|result| match result {
                Ok(ruling) => serde_json::to_value(ruling).expect("rulings serialize"),
                Err(error) => {
                    count_error(&worker, &error);
                    serde_json::to_value(error_body(&error, &rules.digest).1)
                        .expect("errors serialize")
                }
            })
            .collect::<Vec<_>>()
    })
    .await;
    match results {
        Ok(results) => Json(results).into_response(),
        Err(join) => (StatusCode::INTERNAL_SERVER_ERROR, join.to_string()).into_response(),
    }
}

#[derive(Deserialize)]
struct RulesQuery {
    as_of: Option<String>,
}

#[derive(Serialize)]
struct RuleEntry<'a> {
    id: &'a str,
    #[serde(rename = "ref")]
    reference: &'a str,
    cite: &'a str,
    title: &'a crate::ruling::Message,
    file: &'a str,
    from: String,
    until: Option<String>,
    reconstructed: bool,
}

async fn rules_in_force(
    State(service): State<Arc<Service>>,
    Query(query): Query<RulesQuery>,
) -> Response {
    let rules = service.rules();
    let day = match query.as_of.as_deref() {
        None => chrono::Utc::now()
            .with_timezone(&calendar::jst())
            .date_naive(),
        Some(text) => match calendar::parse_date(text) {
            Some(day) => day,
            None => {
                let detail = ErrorDetail::Input {
                    path: "as_of".to_owned(),
                    line: None,
                    column: None,
                    message: format!("`{text}` is not a YYYY-MM-DD date"),
                    hint: None,
                };
                let body = ErrorBody {
                    error: detail,
                    digest: rules.digest.clone(),
                };
                return (StatusCode::BAD_REQUEST, Json(body)).into_response();
            }
        },
    };
    let entries: Vec<RuleEntry> = rules
        .rules
        .iter()
        .filter(|rule| rule.in_force_on(day))
        .map(|rule| {
            let part = rules.part_of(rule);
            RuleEntry {
                id: &rule.id,
                reference: &rule.reference,
                cite: &rule.cite,
                title: &part.title,
                file: &part.file,
                from: rule.from.to_string(),
                until: rule.until.map(|d| d.to_string()),
                reconstructed: rule.reconstructed,
            }
        })
        .collect();
    let body = serde_json::json!({
        "ruleset": {
            "name": rules.name,
            "digest": rules.digest,
            "in_force": rules.revision_on(day).map(|r| r.date.to_string()),
        },
        "as_of": day.to_string(),
        "rules": entries,
    });
    Json(body).into_response()
}

async fn health(State(service): State<Arc<Service>>) -> Response {
    let rules = service.rules();
    Json(serde_json::json!({ "status": "ok", "ruleset": rules.name, "digest": rules.digest }))
        .into_response()
}

async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}

fn html(page: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page.to_owned(),
    )
        .into_response()
}

async fn book_index(State(service): State<Arc<Service>>) -> Response {
    book_page(State(service), axum::extract::Path("index.html".to_owned())).await
}

async fn book_page(
    State(service): State<Arc<Service>>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    let book = service.book.load();
    match book.page(&name) {
        Some(page) => html(page),
        None => (StatusCode::NOT_FOUND, format!("no page {name}")).into_response(),
    }
}

async fn metrics(State(service): State<Arc<Service>>) -> Response {
    let mut text = Vec::new();
    let families = service.metrics.registry.gather();
    if let Err(error) = TextEncoder::new().encode(&families, &mut text) {
        return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response();
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
