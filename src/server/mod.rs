//! The HTTP service other services call: evaluate cases, list the rules in force, health
//! and Prometheus metrics, its OpenAPI description (`/v1/openapi.json`), and the rulebook
//! (`/`, see [`crate::book`]) with a form to try a case.
//!
//! The rule set is hot-reloaded on SIGHUP or when its folder changes, and only a set that
//! is *settled* and *proven* is swapped in: the folder's digest must stay the same across
//! the settle interval and match the text the loader read, and the set must load, check,
//! and pass the example cases it ships (see `corpus::shipped_cases`) with no rule error
//! and no mismatch. Anything else is refused, logged with its diagnostics, counted in
//! `/metrics` and shown by `/healthz`, while the old set keeps serving; a refused digest
//! is remembered so the same text is not tried again at every tick.
//!
//! Every request's work is bounded: header and body read timeouts, a body limit, case
//! limits, and parsing and evaluation at most one per core at a time. A body of at most
//! [`INLINE_BYTES`] is evaluated on the async worker that read it (its work is small and
//! bounded by its size, and a hand-off would cost a good part of it); a larger one on a
//! blocking thread, so a heavy case never keeps `/healthz` and `/metrics` waiting.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::batch::{in_parallel, in_range};
use crate::book::Book;
use crate::calendar;
use crate::case::CaseLimits;
use crate::error::{EvalError, LoadError};
use crate::eval::{Settings, evaluate_with};
use crate::ruleset::RuleSet;
use crate::yaml::Syntax;

pub(crate) mod wire;
pub(crate) use wire::{ErrorBody, YAML_TYPES};
use wire::{ErrorDetail, error_body};

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The rule set folder.
    pub rules: PathBuf,
    /// Bounds on every case.
    pub case_limits: CaseLimits,
    /// Largest request body, in bytes (larger: 413).
    pub body_limit: usize,
    /// How often the rules folder is checked for changes.
    pub watch_interval: Duration,
    /// How long a changed folder must stay unchanged before it is loaded.
    pub settle: Duration,
    /// How long a client may take to send its headers, and then its body.
    pub read_timeout: Duration,
    /// The case files the rulebook shows per rule (`/`).
    pub book_cases: Vec<PathBuf>,
    /// The impact review the rulebook's revision pages show, if any.
    pub book_impact: Option<String>,
    /// Where to log every decision (case, ruling, rule-set digest), if anywhere.
    pub decision_log: Option<crate::decisions::LogConfig>,
}

/// How many refused digests are remembered.
const REMEMBERED_REFUSALS: usize = 64;

/// The last reload tried, for `/healthz`.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadReport {
    /// `ok` or `refused`.
    pub result: &'static str,
    /// The digest of the folder text tried.
    pub digest: String,
    /// What set the reload off (`SIGHUP`, `the rules folder changed`).
    pub trigger: String,
    /// Why it was refused: the diagnostics, the failing cases, or the panic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When, in RFC 3339 (UTC).
    pub at: String,
}

/// The shared state: the rule set in service and the metrics.
pub struct Service {
    rules: ArcSwap<RuleSet>,
    /// The rulebook of the rule set in service, rebuilt after each reload.
    book: ArcSwap<Book>,
    config: Config,
    metrics: Metrics,
    /// Digests of folder texts refused lately, newest last: not tried again on a tick.
    refused: Mutex<VecDeque<String>>,
    last_reload: Mutex<Option<ReloadReport>>,
    /// The folder's digest when last read: a refusal stands while the folder holds it.
    folder: Mutex<String>,
    /// One permit per core: parsing and evaluation wait here, not on an async worker.
    permits: Arc<Semaphore>,
    /// The cores, read once: [`std::thread::available_parallelism`] reads files
    /// (cgroup limits) at every call.
    cores: usize,
    /// Evaluation requests admitted (reading, waiting or running): past
    /// [`ADMITTED_PER_CORE`] a core, new ones get 503 before their body is read, so the
    /// memory held by waiting bodies is bounded too.
    admitted: Arc<std::sync::atomic::AtomicUsize>,
    /// The decision log, when `--decision-log` names a folder.
    decisions: Option<Arc<crate::decisions::DecisionLog>>,
}

/// Evaluation requests admitted at once, per core.
const ADMITTED_PER_CORE: usize = 64;

/// A place among the admitted evaluation requests, given back when dropped.
struct Admission(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    errors: IntCounterVec,
    latency: HistogramVec,
    ruleset: IntGaugeVec,
    reloads: IntCounterVec,
    last_refused: IntGauge,
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
        let last_refused = IntGauge::new(
            "yakkan_reload_last_refused",
            "1 while the rules folder holds a set that was refused (the old set serves), else 0",
        )
        .expect("valid metric");
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(errors.clone()),
            Box::new(latency.clone()),
            Box::new(ruleset.clone()),
            Box::new(reloads.clone()),
            Box::new(last_refused.clone()),
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
            last_refused,
        }
    }
}

/// Why a reload did not swap a set in.
enum NoSwap {
    /// The folder changed meanwhile: tried again at the next tick, not refused.
    Unsettled,
    /// The set is refused, for this reason.
    Refused(String),
}

impl Service {
    /// Loads the rule set and prepares the service.
    pub fn new(config: Config) -> Result<Arc<Service>, LoadError> {
        let rules = RuleSet::load(&config.rules)?;
        let decisions = match &config.decision_log {
            Some(log) => Some(Arc::new(
                crate::decisions::DecisionLog::open(log.clone()).map_err(|source| {
                    LoadError::Io {
                        path: log.dir.display().to_string(),
                        source,
                    }
                })?,
            )),
            None => None,
        };
        let metrics = Metrics::new();
        metrics
            .ruleset
            .with_label_values(&[&rules.name, &rules.digest])
            .set(1);
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let book = Book::build(&rules, &config.book_cases, config.book_impact.as_deref());
        Ok(Arc::new(Service {
            book: ArcSwap::from_pointee(book),
            rules: ArcSwap::from_pointee(rules),
            config,
            metrics,
            refused: Mutex::new(VecDeque::new()),
            last_reload: Mutex::new(None),
            folder: Mutex::new(String::new()),
            permits: Arc::new(Semaphore::new(cores)),
            cores,
            admitted: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            decisions,
        }))
    }

    /// The rule set in service now.
    pub fn rules(&self) -> Arc<RuleSet> {
        self.rules.load_full()
    }

    /// The last reload tried, if any.
    pub fn last_reload(&self) -> Option<ReloadReport> {
        self.last_reload.lock().expect("not poisoned").clone()
    }

    /// The last reload was refused and the folder still holds that text (once it is
    /// edited back to the set in service, or to a good one, the refusal no longer stands).
    fn refusal_stands(&self) -> bool {
        let folder = self.folder.lock().expect("not poisoned").clone();
        self.last_reload()
            .is_some_and(|report| report.result == "refused" && report.digest == folder)
    }

    /// How many evaluations may run at once: one per core.
    fn permits_total(&self) -> usize {
        self.cores
    }

    /// The folder's digest now, off the async workers.
    async fn folder_digest(&self) -> Result<String, String> {
        let dir = self.config.rules.clone();
        tokio::task::spawn_blocking(move || crate::ruleset::source_digest(&dir))
            .await
            .map_err(|join| join.to_string())
            .and_then(|digest| digest.map_err(|error| error.to_string()))
    }

    /// Tries the folder: if it is settled and proven, swaps it in. `forced` (SIGHUP) tries
    /// a digest even if it was refused before.
    pub async fn reload(self: &Arc<Self>, trigger: &str, forced: bool) {
        let Ok(before) = self.folder_digest().await else {
            // An unreadable folder (mid-rename, say) is looked at again next tick.
            return;
        };
        before.clone_into(&mut self.folder.lock().expect("not poisoned"));
        if !self.refusal_stands() {
            self.metrics.last_refused.set(0);
        }
        if before == self.rules.load().digest && !forced {
            return;
        }
        if !forced && self.refused.lock().expect("not poisoned").contains(&before) {
            return;
        }
        // Settled: unchanged across the settle interval.
        tokio::time::sleep(self.config.settle).await;
        // Reading and proving the set is parsing and evaluation like a request's: it takes
        // a core's permit, so it has a core of its own while requests fill the others, and
        // a set is proven within its settle window however busy the service is.
        let Ok(_core) = self.permits.acquire().await else {
            return;
        };
        if self.folder_digest().await.as_ref() != Ok(&before) {
            tracing::debug!(trigger, "the rules folder is still changing");
            return;
        }
        let dir = self.config.rules.clone();
        let expected = before.clone();
        let tried = tokio::task::spawn_blocking(move || prove(&dir, &expected)).await;
        let outcome = match tried {
            Ok(outcome) => outcome,
            Err(join) if join.is_panic() => Err(NoSwap::Refused(format!(
                "loading or proving panicked: {}",
                panic_text(join)
            ))),
            Err(join) => Err(NoSwap::Refused(join.to_string())),
        };
        let after = self.folder_digest().await;
        // Read once more: the text proven (or refused) must still be the folder's.
        let outcome = match outcome {
            _ if after.as_ref() != Ok(&before) => Err(NoSwap::Unsettled),
            other => other,
        };
        match outcome {
            Ok(rules) => {
                let rules = Arc::new(rules);
                self.swap(rules.clone(), trigger);
                // The rulebook follows the set in service; rulings need not wait for it.
                let (cases, impact) = (
                    self.config.book_cases.clone(),
                    self.config.book_impact.clone(),
                );
                let built = tokio::task::spawn_blocking(move || {
                    Book::build(&rules, &cases, impact.as_deref())
                })
                .await;
                match built {
                    Ok(book) => self.book.store(Arc::new(book)),
                    Err(join) => tracing::error!("the rulebook could not be built: {join}"),
                }
            }
            Err(NoSwap::Unsettled) => {
                tracing::debug!(trigger, "the rules folder changed while loading");
            }
            Err(NoSwap::Refused(reason)) => self.refuse(before, trigger, reason),
        }
    }

    fn swap(&self, rules: Arc<RuleSet>, trigger: &str) {
        let old = self.rules.load();
        self.metrics
            .ruleset
            .with_label_values(&[&old.name, &old.digest])
            .set(0);
        self.metrics
            .ruleset
            .with_label_values(&[&rules.name, &rules.digest])
            .set(1);
        self.metrics.reloads.with_label_values(&["ok"]).inc();
        self.metrics.last_refused.set(0);
        tracing::info!(trigger, old = %old.digest, new = %rules.digest, "rule set reloaded");
        *self.last_reload.lock().expect("not poisoned") = Some(ReloadReport {
            result: "ok",
            digest: rules.digest.clone(),
            trigger: trigger.to_owned(),
            reason: None,
            at: chrono::Utc::now().to_rfc3339(),
        });
        self.rules.store(rules);
    }

    fn refuse(&self, digest: String, trigger: &str, reason: String) {
        self.metrics.reloads.with_label_values(&["refused"]).inc();
        self.metrics.last_refused.set(1);
        tracing::error!(trigger, refused = %digest, serving = %self.rules.load().digest,
            "rule set refused; the old one keeps serving:\n{reason}");
        {
            let mut refused = self.refused.lock().expect("not poisoned");
            if !refused.contains(&digest) {
                refused.push_back(digest.clone());
            }
            while refused.len() > REMEMBERED_REFUSALS {
                refused.pop_front();
            }
        }
        *self.last_reload.lock().expect("not poisoned") = Some(ReloadReport {
            result: "refused",
            digest,
            trigger: trigger.to_owned(),
            reason: Some(reason),
            at: chrono::Utc::now().to_rfc3339(),
        });
    }
}

/// Loads the set in `dir` and runs the cases it ships; the set, if it is the text of
/// digest `expected` and every case passes.
fn prove(dir: &std::path::Path, expected: &str) -> Result<RuleSet, NoSwap> {
    // A file that cannot be read is the folder changing under the loader (one removed
    // mid-read), not a verdict on its text: tried again at the next tick.
    let rules = RuleSet::load(dir).map_err(|e| match e {
        LoadError::Io { .. } => NoSwap::Unsettled,
        invalid => NoSwap::Refused(invalid.to_string()),
    })?;
    if rules.digest != expected {
        return Err(NoSwap::Unsettled);
    }
    let files = crate::corpus::shipped_cases(dir).map_err(NoSwap::Refused)?;
    if files.is_empty() {
        tracing::warn!(digest = %rules.digest, "the rule set ships no example cases: proven by its checks alone");
    }
    let mut problems = Vec::new();
    for file in &files {
        let run = crate::corpus::run_case(&rules, file);
        problems.extend(
            run.problems
                .into_iter()
                .map(|p| format!("{}: {p}", file.display())),
        );
    }
    if problems.is_empty() {
        Ok(rules)
    } else {
        let shown = problems.len().min(10);
        let mut reason = format!(
            "{} problem(s) in the {} example case(s) the set ships:\n{}",
            problems.len(),
            files.len(),
            problems[..shown].join("\n")
        );
        if problems.len() > shown {
            reason.push_str("\n…");
        }
        Err(NoSwap::Refused(reason))
    }
}

fn panic_text(join: tokio::task::JoinError) -> String {
    panic_payload(&*join.into_panic())
}

fn panic_payload(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

/// The routes, with metrics; unknown routes and methods answer the JSON error body.
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
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
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
    // Listened for before anyone is told the address: a SIGHUP never finds it unhandled.
    start_watching(service.clone()).map_err(ServeError::Watch)?;
    println!("listening on {addr}");
    let app = router(service);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, say: back off rather than spin.
                    tracing::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        // Headers must arrive within the read timeout; the body is timed by the handlers.
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(config.read_timeout)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!("connection closed: {error}");
            }
        });
    }
    // In-flight requests finish; new ones are not taken.
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
    Ok(())
}

/// Watches the rules folder and SIGHUP on a thread and runtime of their own, returning
/// once SIGHUP is listened for. Small cases are evaluated on the async workers, so the
/// settle and proof timings of a reload must not wait for a turn between evaluations.
fn start_watching(service: Arc<Service>) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("yakkan-reload")
        .build()?;
    let (ready, listening) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("yakkan-reload".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                #[cfg(unix)]
                let hangup =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
                #[cfg(not(unix))]
                let hangup = None::<()>;
                let _ = ready.send(());
                watch(service, hangup).await;
            });
        })?;
    listening
        .recv()
        .map_err(|_| std::io::Error::other("the reload thread stopped at its start"))
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
    /// The thread that watches the rules folder could not start.
    #[error("cannot watch the rules folder: {0}")]
    Watch(std::io::Error),
}

/// Reloads on SIGHUP, and when the folder changes.
#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = Option<()>;

async fn watch(service: Arc<Service>, hangup: Hangup) {
    // The set was just loaded: the first check is one interval away, not immediate.
    let period = service.config.watch_interval;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    #[cfg(unix)]
    let mut hangup = hangup;
    #[cfg(not(unix))]
    let _ = hangup;
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
                _ = hup => service.reload("SIGHUP", true).await,
                _ = tick.tick() => service.reload("the rules folder changed", false).await,
            }
        }
        #[cfg(not(unix))]
        {
            tick.tick().await;
            service.reload("the rules folder changed", false).await;
        }
    }
}

async fn measure(State(service): State<Arc<Service>>, request: Request, next: Next) -> Response {
    // The route is shared text: no copy per request.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let started = Instant::now();
    let response = next.run(request).await;
    let metrics = &service.metrics;
    metrics
        .latency
        .with_label_values(&[route])
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .with_label_values(&[route, response.status().as_str()])
        .inc();
    tracing::debug!(%route, status = %response.status(), elapsed_us = started.elapsed().as_micros() as u64, "request");
    response
}

/// An error answer about the request rather than its case.
fn http_error(
    service: &Service,
    status: StatusCode,
    kind: &'static str,
    message: String,
) -> Response {
    let body = ErrorBody {
        error: ErrorDetail::Http { kind, message },
        digest: service.rules().digest.clone(),
        index: None,
    };
    (status, Json(body)).into_response()
}

/// A 400 about the body as a whole (not UTF-8, not a JSON array).
fn input_error(
    service: &Service,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
) -> Response {
    service.metrics.errors.with_label_values(&["input"]).inc();
    let body = ErrorBody {
        error: ErrorDetail::Input {
            path: String::new(),
            line,
            column,
            message,
            hint: None,
        },
        digest: service.rules().digest.clone(),
        index: None,
    };
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn count_error(service: &Service, error: &EvalError) {
    let kind = match error {
        EvalError::Case(_) => "input",
        EvalError::Rule { .. } => "rule",
    };
    service.metrics.errors.with_label_values(&[kind]).inc();
}

async fn not_found(State(service): State<Arc<Service>>, request: Request) -> Response {
    let message = format!(
        "no route {}: the routes are POST /v1/evaluate, POST /v1/evaluate/batch, GET /v1/rules, GET /healthz, GET /metrics",
        request.uri().path()
    );
    http_error(&service, StatusCode::NOT_FOUND, "not_found", message)
}

async fn method_not_allowed(State(service): State<Arc<Service>>, request: Request) -> Response {
    let message = format!(
        "{} does not take {}",
        request.uri().path(),
        request.method()
    );
    http_error(
        &service,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        message,
    )
}

/// The content types an evaluation endpoint reads, in words, for a 415's message.
fn accepted_types(yaml_allowed: bool) -> String {
    let json = "application/json (or any +json type, or no Content-Type) for JSON";
    if yaml_allowed {
        format!(
            "{json}, or {} (or any +yaml type) for YAML",
            YAML_TYPES.join(", ")
        )
    } else {
        format!("{json}: a batch is a JSON array of cases")
    }
}

/// The syntax a body's `Content-Type` names: JSON for `application/json` (or any
/// `+json` type) and when none is given; YAML for the [`YAML_TYPES`] (or any `+yaml`
/// type) where `yaml_allowed`. A charset, if given, must be UTF-8. Anything else is
/// refused, its message naming the types accepted, so no text is read as YAML unless it
/// says it is.
fn body_syntax(headers: &HeaderMap, yaml_allowed: bool) -> Result<Syntax, String> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(Syntax::Json);
    };
    let text = value.to_str().unwrap_or("").to_ascii_lowercase();
    let mut parts = text.split(';').map(str::trim);
    let essence = parts.next().unwrap_or("");
    let accepted = accepted_types(yaml_allowed);
    for parameter in parts {
        if let Some(charset) = parameter.strip_prefix("charset=")
            && !matches!(charset.trim_matches('"'), "utf-8" | "utf8")
        {
            return Err(format!(
                "charset {charset} is not read: send UTF-8, as {accepted}"
            ));
        }
    }
    let is_json = essence == "application/json" || essence.ends_with("+json");
    let is_yaml = YAML_TYPES.contains(&essence) || essence.ends_with("+yaml");
    match (is_json, is_yaml) {
        (true, _) => Ok(Syntax::Json),
        (_, true) if yaml_allowed => Ok(Syntax::Yaml),
        _ => Err(format!(
            "content type {essence} is not read here: send {accepted}"
        )),
    }
}

/// The body as UTF-8 text, within the body limit and the read timeout.
async fn read_body(service: &Service, headers: &HeaderMap, body: Body) -> Result<String, Response> {
    let limit = service.config.body_limit;
    let too_large = || {
        http_error(
            service,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is over {limit} bytes (--body-limit)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let collect = async {
        let mut body = body;
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|error| error.to_string())?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > limit {
                    return Ok(None);
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok::<_, String>(Some(bytes))
    };
    let bytes = match tokio::time::timeout(service.config.read_timeout, collect).await {
        Err(_) => {
            return Err(http_error(
                service,
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                format!(
                    "the body did not arrive within {} ms",
                    service.config.read_timeout.as_millis()
                ),
            ));
        }
        Ok(Err(error)) => {
            return Err(input_error(
                service,
                None,
                None,
                format!("cannot read the body: {error}"),
            ));
        }
        Ok(Ok(None)) => return Err(too_large()),
        Ok(Ok(Some(bytes))) => bytes,
    };
    String::from_utf8(bytes).map_err(|error| {
        let at = error.utf8_error().valid_up_to();
        let before = &error.as_bytes()[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = at
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        input_error(
            service,
            Some(line),
            Some(column),
            format!("the body is not UTF-8 (byte {})", at + 1),
        )
    })
}

/// A place for one more evaluation request, if one is free.
fn admit(service: &Service) -> Option<Admission> {
    use std::sync::atomic::Ordering;
    let admitted = service.admitted.fetch_add(1, Ordering::SeqCst);
    let admission = Admission(service.admitted.clone());
    (admitted < service.permits_total() * ADMITTED_PER_CORE).then_some(admission)
}

/// 503: every place for an evaluation request is taken.
fn busy(service: &Service) -> Response {
    let most = service.permits_total() * ADMITTED_PER_CORE;
    let mut response = http_error(
        service,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        format!("{most} evaluations are already admitted: try again shortly"),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}

/// Bodies of at most this many bytes are parsed and evaluated on the async worker that
/// read them, holding a core's permit: their work is bounded by their size (the slowest
/// 4 KiB case known takes about 2 ms in a release build, the typical case 0.1 ms), and a
/// hand-off to a blocking thread and back would cost a good part of the evaluation.
/// Larger bodies go to a blocking thread, so a heavy case never holds an async worker.
pub const INLINE_BYTES: usize = 4096;

/// Runs `work` once a core is free: on this async worker when `small` (a body within
/// [`INLINE_BYTES`]), else on a blocking thread, so async workers never run a heavy case
/// and `/healthz` answers while every core evaluates. A panic is a 500, either way.
async fn on_a_core<T: Send + 'static>(
    service: &Service,
    small: bool,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    let permit = service.permits.clone().acquire_owned().await.map_err(|_| {
        http_error(
            service,
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service is stopping".to_owned(),
        )
    })?;
    let failed = |why: String| {
        http_error(
            service,
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the evaluation failed: {why}"),
        )
    };
    if small {
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        drop(permit);
        return done.map_err(|payload| failed(format!("panicked: {}", panic_payload(&*payload))));
    }
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(|join| failed(join.to_string()))
}

/// What every evaluation request does first: its syntax from the content type (415 if
/// neither), a place among the admitted (503 if none), then its body within the limits.
async fn admitted_body(
    service: &Service,
    headers: &HeaderMap,
    body: Body,
    yaml_allowed: bool,
) -> Result<(Syntax, Admission, String), Response> {
    let syntax = body_syntax(headers, yaml_allowed).map_err(|message| {
        http_error(
            service,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    })?;
    let admission = admit(service).ok_or_else(|| busy(service))?;
    let text = read_body(service, headers, body).await?;
    Ok((syntax, admission, text))
}

/// What an evaluation's query asks, as `eval` takes it: `explain=true|all` (or `false`)
/// as `--explain[=all]`, and `as_of=YYYY-MM-DD` as `--as-of`, judging the state on that
/// date instead of the case's `as_of`.
#[derive(Debug, Clone, Copy, Default)]
struct Asked {
    settings: Settings,
    as_of: Option<chrono::NaiveDate>,
}

/// The query of `/v1/evaluate` and `/v1/evaluate/batch`; an unknown parameter or a bad
/// value is refused with the path and message of its 400, naming it.
fn evaluation_query(query: Option<&str>) -> Result<Asked, (&'static str, String)> {
    let mut asked = Asked::default();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("explain", value)) => {
                let (explain, all) = match value {
                    "true" => (true, false),
                    "all" => (true, true),
                    "false" => (false, false),
                    _ => {
                        return Err((
                            "explain",
                            format!(
                                "`{value}` is not an explain level: explain=true, explain=all or explain=false"
                            ),
                        ));
                    }
                };
                asked.settings = Settings {
                    explain,
                    explain_all: all,
                };
            }
            Some(("as_of", value)) => match calendar::parse_date(value) {
                Some(day) => asked.as_of = Some(day),
                None => {
                    return Err(("as_of", format!("`{value}` is not a YYYY-MM-DD date")));
                }
            },
            _ => {
                let name = pair.split('=').next().unwrap_or(pair);
                return Err((
                    "",
                    format!(
                        "unknown query parameter `{name}`: the parameters are explain=true|all and as_of=YYYY-MM-DD"
                    ),
                ));
            }
        }
    }
    Ok(asked)
}

/// A 400 about the query: `path` names the parameter (empty for an unknown one).
fn query_error(digest: &str, path: &str, message: String) -> Response {
    let body = ErrorBody {
        error: ErrorDetail::Input {
            path: path.to_owned(),
            line: None,
            column: None,
            message,
            hint: None,
        },
        digest: digest.to_owned(),
        index: None,
    };
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Reads and evaluates one case as asked, as `eval` does, and writes its ruling as JSON:
/// the one way both evaluation endpoints make a ruling, so a batch's rulings are the
/// single endpoint's, byte for byte.
fn rule_on(
    rules: &RuleSet,
    text: &str,
    file: &str,
    syntax: Syntax,
    limits: &CaseLimits,
    asked: Asked,
    log: Option<&crate::decisions::DecisionLog>,
) -> Result<Vec<u8>, EvalError> {
    let mut case = crate::expect::read_case(rules, text, Some(file), syntax, limits)
        .map_err(EvalError::Case)?;
    if let Some(day) = asked.as_of {
        case.as_of = day;
    }
    let (ruling, _) = evaluate_with(rules, &case, asked.settings)?;
    let ruling = in_range(&case, ruling)?;
    // Sized for a typical ruling, so writing it seldom grows the buffer.
    let mut json = Vec::with_capacity(8 * 1024);
    serde_json::to_writer(&mut json, &ruling).expect("rulings serialize");
    if let Some(log) = log {
        // Queued for the log's own thread; never waits.
        log.record(rules, syntax, text, asked.as_of, &json);
    }
    Ok(json)
}

async fn evaluate_one(
    State(service): State<Arc<Service>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let asked = match evaluation_query(uri.query()) {
        Ok(asked) => asked,
        Err((path, message)) => return query_error(&service.rules().digest, path, message),
    };
    let (syntax, _admission, text) = match admitted_body(&service, &headers, body, true).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let rules = service.rules();
    let limits = service.config.case_limits;
    let worker_rules = rules.clone();
    let small = text.len() <= INLINE_BYTES;
    let decisions = service.decisions.clone();
    let result = on_a_core(&service, small, move || {
        rule_on(
            &worker_rules,
            &text,
            "request body",
            syntax,
            &limits,
            asked,
            decisions.as_deref(),
        )
    })
    .await;
    match result {
        Err(response) => response,
        Ok(Ok(json)) => (
            [(header::CONTENT_TYPE, "application/json")],
            Bytes::from(json),
        )
            .into_response(),
        Ok(Err(error)) => {
            count_error(&service, &error);
            if let EvalError::Rule { rule, message, .. } = &error {
                tracing::warn!(%rule, %message, "rule failed");
            }
            let (status, body) = error_body(&error, &rules.digest);
            (status, Json(body)).into_response()
        }
    }
}

/// A JSON array of cases: each evaluated as `/v1/evaluate` would (its ruling the same
/// bytes), on every core, answered in order; a case's error carries its `index`.
async fn evaluate_batch(
    State(service): State<Arc<Service>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let asked = match evaluation_query(uri.query()) {
        Ok(asked) => asked,
        Err((path, message)) => return query_error(&service.rules().digest, path, message),
    };
    let (_, _admission, text) = match admitted_body(&service, &headers, body, false).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let rules = service.rules();
    let worker = service.clone();
    let limits = service.config.case_limits;
    let decisions = service.decisions.clone();
    let results = on_a_core(&service, false, move || {
        let cases: Vec<Box<RawValue>> = serde_json::from_str(&text).map_err(|error| {
            (
                error.line(),
                error.column(),
                format!("expected a JSON array of cases: {error}"),
            )
        })?;
        let results = in_parallel(&cases, None, |i, case| {
            rule_on(
                &rules,
                case.get(),
                &format!("cases[{i}]"),
                Syntax::Json,
                &limits,
                asked,
                decisions.as_deref(),
            )
        });
        let mut json = Vec::with_capacity(results.len() * 8 * 1024 + 2);
        json.push(b'[');
        for (i, result) in results.into_iter().enumerate() {
            if i > 0 {
                json.push(b',');
            }
            match result {
                Ok(ruling) => json.extend_from_slice(&ruling),
                Err(error) => {
                    count_error(&worker, &error);
                    let (_, mut body) = error_body(&error, &rules.digest);
                    body.index = Some(i);
                    serde_json::to_writer(&mut json, &body).expect("errors serialize");
                }
            }
        }
        json.push(b']');
        Ok(json)
    })
    .await;
    match results {
        Err(response) => response,
        Ok(Ok(json)) => (
            [(header::CONTENT_TYPE, "application/json")],
            Bytes::from(json),
        )
            .into_response(),
        Ok(Err((line, column, message))) => {
            input_error(&service, Some(line), Some(column), message)
        }
    }
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

async fn rules_in_force(State(service): State<Arc<Service>>, request: Request) -> Response {
    let rules = service.rules();
    // The query read by hand: a malformed one answers the JSON error body too.
    let mut as_of = None;
    for pair in request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        match pair.split_once('=') {
            Some(("as_of", value)) => as_of = Some(value.to_owned()),
            _ => {
                return query_error(
                    &rules.digest,
                    "",
                    format!(
                        "unknown query parameter `{pair}`: the one parameter is as_of=YYYY-MM-DD"
                    ),
                );
            }
        }
    }
    let day = match as_of.as_deref() {
        None => chrono::Utc::now()
            .with_timezone(&calendar::jst())
            .date_naive(),
        Some(text) => match calendar::parse_date(text) {
            Some(day) => day,
            None => {
                return query_error(
                    &rules.digest,
                    "as_of",
                    format!("`{text}` is not a YYYY-MM-DD date"),
                );
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

/// `status` is `ok`, or `reload_refused` while the folder holds a set that was refused
/// (the set in service is still the one named); `last_reload` says what was last tried,
/// and why it was refused.
async fn health(State(service): State<Arc<Service>>) -> Response {
    let rules = service.rules();
    let last = service.last_reload();
    let status = if service.refusal_stands() {
        "reload_refused"
    } else {
        "ok"
    };
    Json(serde_json::json!({
        "status": status,
        "ruleset": rules.name,
        "digest": rules.digest,
        "last_reload": last,
    }))
    .into_response()
}

async fn openapi(State(service): State<Arc<Service>>) -> Response {
    Json(crate::openapi::document(&service.rules())).into_response()
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
        None => http_error(
            &service,
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no page {name}"),
        ),
    }
}

async fn metrics(State(service): State<Arc<Service>>) -> Response {
    let mut text = Vec::new();
    let families = service.metrics.registry.gather();
    if let Err(error) = TextEncoder::new().encode(&families, &mut text) {
        return http_error(
            &service,
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            error.to_string(),
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
