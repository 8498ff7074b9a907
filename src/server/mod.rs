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

mod handlers;
mod metrics;
mod reload;
pub(crate) mod wire;

use handlers::*;
use metrics::*;
pub use reload::ReloadReport;
use reload::*;
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
    /// How long a client may take to send its headers, and then its body; and how long a
    /// write of the answer may wait on a client that does not read.
    pub read_timeout: Duration,
    /// Evaluation requests admitted per core, waiting for a core or evaluating.
    pub queue_per_core: usize,
    /// Bytes held at once by all requests: bodies received (while they are received,
    /// wait and are evaluated) and answers not yet sent.
    pub held_bytes: usize,
    /// Cases in one batch.
    pub max_batch: usize,
    /// Bytes of one batch's answer.
    pub answer_limit: usize,
    /// The case files the rulebook shows per rule (`/`).
    pub book_cases: Vec<PathBuf>,
    /// The impact review the rulebook's revision pages show, if any.
    pub book_impact: Option<String>,
    /// Where to log every decision (case, ruling, rule-set digest), if anywhere.
    pub decision_log: Option<crate::decisions::LogConfig>,
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
    /// Evaluation requests admitted (their body in, waiting for a core or evaluating):
    /// past [`Config::queue_per_core`] a core, new ones get 503. A body being received
    /// holds no place: places are for evaluation, not for waiting on clients.
    admitted: Arc<std::sync::atomic::AtomicUsize>,
    /// The bytes requests may hold ([`Config::held_bytes`]), a permit a byte: bodies take
    /// them as they arrive, answers until they are sent.
    held: Arc<Semaphore>,
    /// The decision log, when `--decision-log` names a folder.
    decisions: Option<Arc<crate::decisions::DecisionLog>>,
}

/// A place among the admitted evaluation requests, given back when dropped.
struct Admission(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Service {
    /// Loads the rule set and prepares the service.
    pub fn new(config: Config) -> Result<Arc<Service>, ServeError> {
        let rules = RuleSet::load(&config.rules)?;
        // Proven as a reload would prove it: a set whose own cases fail is not served.
        run_shipped_cases(&crate::ruleset::resolve_dir(&config.rules)?, &rules)
            .map_err(ServeError::Unproven)?;
        let decisions = match &config.decision_log {
            Some(log) => Some(Arc::new(
                crate::decisions::DecisionLog::open(log.clone()).map_err(|source| {
                    ServeError::Rules(LoadError::Io {
                        path: log.dir.display().to_string(),
                        source,
                    })
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
        let held = Arc::new(Semaphore::new(
            config.held_bytes.min(Semaphore::MAX_PERMITS),
        ));
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
            held,
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

    /// How many evaluations may run at once: one per core.
    fn permits_total(&self) -> usize {
        self.cores
    }

    /// Bytes held now by bodies and answers.
    fn bytes_held(&self) -> usize {
        self.config
            .held_bytes
            .min(Semaphore::MAX_PERMITS)
            .saturating_sub(self.held.available_permits())
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

/// Serves until SIGTERM or Ctrl-C, printing `listening on ADDR` once the socket is bound;
/// then stops accepting, lets the requests in flight finish (up to 10 s), writes out and
/// syncs the decision log, and returns.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let service = Service::new(config.clone())?;
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(ServeError::Bind)?;
    let addr = listener.local_addr().map_err(ServeError::Bind)?;
    tracing::info!(%addr, digest = %service.rules().digest, "serving");
    // Listened for before anyone is told the address: a SIGHUP or SIGTERM never finds it
    // unhandled.
    start_watching(service.clone()).map_err(ServeError::Watch)?;
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(not(unix))]
    let terminate = None::<()>;
    println!("listening on {addr}");
    let app = router(service.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop_signal(terminate));
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
        // A write that waits on the client for the read timeout ends the connection: an
        // answer a client never reads is not held for good.
        let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
        stream.set_write_timeout(Some(config.read_timeout));
        // Headers must arrive within the read timeout; the body is timed by the handlers.
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(config.read_timeout)
            .serve_connection(hyper_util::rt::TokioIo::new(Box::pin(stream)), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!("connection closed: {error}");
            }
        });
    }
    // In-flight requests finish; new ones are not taken.
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
    if let Some(log) = &service.decisions {
        let done = log.finish(Duration::from_secs(10));
        tracing::info!(
            written = log.written(),
            dropped = log.dropped(),
            done,
            "decision log closed"
        );
    }
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM (a rollout, `kill`; listened for by `terminate`) or SIGINT (Ctrl-C),
/// whichever comes first.
#[cfg(unix)]
async fn stop_signal(terminate: Option<tokio::signal::unix::Signal>) {
    match terminate {
        Some(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn stop_signal(_: Option<()>) {
    let _ = tokio::signal::ctrl_c().await;
}

/// Why the service could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The rule set did not load.
    #[error("{0}")]
    Rules(#[from] LoadError),
    /// The example cases the rule set ships do not pass: a reload would refuse it too.
    #[error("the rule set is not served: {0}")]
    Unproven(String),
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

/// A place for one more evaluation request, if one is free.
fn admit(service: &Service) -> Option<Admission> {
    use std::sync::atomic::Ordering;
    let admitted = service.admitted.fetch_add(1, Ordering::SeqCst);
    let admission = Admission(service.admitted.clone());
    (admitted < service.permits_total() * service.config.queue_per_core).then_some(admission)
}

/// 503 with `Retry-After: 1`: the service is at a bound; `why` says which.
fn unavailable(service: &Service, why: String) -> Response {
    let mut response = http_error(service, StatusCode::SERVICE_UNAVAILABLE, "unavailable", why);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}

/// 503: every place for an evaluation request is taken.
fn busy(service: &Service) -> Response {
    let most = service.permits_total() * service.config.queue_per_core;
    unavailable(
        service,
        format!("{most} evaluations are already admitted (--queue-per-core): try again shortly"),
    )
}

/// Bytes a request holds of the service's budget ([`Config::held_bytes`]), given back
/// when dropped.
#[derive(Default)]
struct Held(Option<tokio::sync::OwnedSemaphorePermit>);

impl Held {
    /// Takes `bytes` more, if the budget has them; never waits.
    fn take(&mut self, service: &Service, bytes: usize) -> bool {
        if bytes == 0 {
            return true;
        }
        let Ok(bytes) = u32::try_from(bytes) else {
            return false;
        };
        match service.held.clone().try_acquire_many_owned(bytes) {
            Ok(permit) => {
                match &mut self.0 {
                    Some(held) => held.merge(permit),
                    None => self.0 = Some(permit),
                }
                true
            }
            Err(_) => false,
        }
    }
}

/// 503: the bytes held by bodies and answers are at their bound.
fn full(service: &Service) -> Response {
    unavailable(
        service,
        format!(
            "requests hold {} bytes of bodies and answers, the most (--held-bytes): try again shortly",
            service.config.held_bytes
        ),
    )
}

/// A JSON answer that holds its bytes of the budget until it is sent: it is handed over
/// in 64 KiB frames, so the connection asks for the last only once the rest is nearly
/// written, and a client that does not read is cut off by the write timeout.
fn answer(service: &Service, json: Vec<u8>) -> Response {
    let mut held = Held::default();
    if !held.take(service, json.len()) {
        return full(service);
    }
    let body = HeldBody {
        rest: Bytes::from(json),
        _held: held,
    };
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::new(body),
    )
        .into_response()
}

struct HeldBody {
    rest: Bytes,
    _held: Held,
}

impl http_body::Body for HeldBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        const FRAME: usize = 64 * 1024;
        if self.rest.is_empty() {
            return std::task::Poll::Ready(None);
        }
        let at = self.rest.len().min(FRAME);
        let frame = self.rest.split_to(at);
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.rest.len() as u64)
    }
}

/// Bodies of at most this many bytes are parsed and evaluated on the async worker that
/// read them, holding a core's permit: their work is bounded by their size (the slowest
/// 4 KiB case known takes about 2 ms in a release build, the typical case 0.1 ms), and a
/// hand-off to a blocking thread and back would cost a good part of the evaluation.
/// Larger bodies go to a blocking thread, so a heavy case never holds an async worker.
pub const INLINE_BYTES: usize = 4096;

/// A core's permit, once one is free; 503 when the service is stopping.
async fn a_core(service: &Service) -> Result<tokio::sync::OwnedSemaphorePermit, Response> {
    service.permits.clone().acquire_owned().await.map_err(|_| {
        http_error(
            service,
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service is stopping".to_owned(),
        )
    })
}

/// 500: the evaluation itself failed (a panic), for `why`.
fn evaluation_failed(service: &Service, why: String) -> Response {
    http_error(
        service,
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        format!("the evaluation failed: {why}"),
    )
}

/// Runs `work` on a blocking thread, holding `permit` until it is done.
async fn on_blocking<T: Send + 'static>(
    service: &Service,
    permit: tokio::sync::OwnedSemaphorePermit,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(|join| evaluation_failed(service, join.to_string()))
}

/// Runs `work` once a core is free: on this async worker when `small` (a body within
/// [`INLINE_BYTES`]), else on a blocking thread, so async workers never run a heavy case
/// and `/healthz` answers while every core evaluates. A panic is a 500, either way.
async fn on_a_core<T: Send + 'static>(
    service: &Service,
    small: bool,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    let permit = a_core(service).await?;
    if small {
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        drop(permit);
        return done.map_err(|payload| {
            evaluation_failed(service, format!("panicked: {}", panic_payload(&*payload)))
        });
    }
    on_blocking(service, permit, work).await
}

/// Runs `work` on a blocking thread once a core is free, with as many more cores as are
/// free then: `work` is told how many it holds, and runs on no more (a batch).
async fn on_cores<T: Send + 'static>(
    service: &Service,
    work: impl FnOnce(usize) -> T + Send + 'static,
) -> Result<T, Response> {
    let mut permit = a_core(service).await?;
    let mut cores = 1;
    while cores < service.cores {
        match service.permits.clone().try_acquire_owned() {
            Ok(more) => permit.merge(more),
            Err(_) => break,
        }
        cores += 1;
    }
    on_blocking(service, permit, move || work(cores)).await
}
