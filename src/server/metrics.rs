//! The service's Prometheus metrics: requests by route and status, errors by kind,
//! latency, reloads; measured around every request and served at `/metrics`.

use super::*;

pub(super) struct Metrics {
    pub(super) registry: Registry,
    pub(super) requests: IntCounterVec,
    pub(super) errors: IntCounterVec,
    pub(super) latency: HistogramVec,
    pub(super) ruleset: IntGaugeVec,
    pub(super) reloads: IntCounterVec,
    pub(super) last_refused: IntGauge,
    pub(super) decisions: IntCounterVec,
    pub(super) decision_log_failing: IntGauge,
    pub(super) held_bytes: IntGauge,
}

impl Metrics {
    pub(super) fn new() -> Metrics {
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
        let decisions = IntCounterVec::new(
            Opts::new(
                "yakkan_decisions_total",
                "Decision log entries by result (written, dropped: the queue was full, failed: could not be written)",
            ),
            &["result"],
        )
        .expect("valid metric");
        let decision_log_failing = IntGauge::new(
            "yakkan_decision_log_failing",
            "1 while the decision log cannot write (entries are counted as failed), else 0",
        )
        .expect("valid metric");
        let held_bytes = IntGauge::new(
            "yakkan_held_bytes",
            "Bytes held now by request bodies and unsent answers (at most --held-bytes)",
        )
        .expect("valid metric");
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(errors.clone()),
            Box::new(latency.clone()),
            Box::new(ruleset.clone()),
            Box::new(reloads.clone()),
            Box::new(last_refused.clone()),
            Box::new(decisions.clone()),
            Box::new(decision_log_failing.clone()),
            Box::new(held_bytes.clone()),
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
            decisions,
            decision_log_failing,
            held_bytes,
        }
    }
}

pub(super) async fn measure(
    State(service): State<Arc<Service>>,
    request: Request,
    next: Next,
) -> Response {
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

pub(super) async fn metrics(State(service): State<Arc<Service>>) -> Response {
    let held = i64::try_from(service.bytes_held()).unwrap_or(i64::MAX);
    service.metrics.held_bytes.set(held);
    // The log counts on its own thread; its counters are brought up to date when read.
    if let Some(log) = &service.decisions {
        let health = log.health();
        let metrics = &service.metrics;
        for (result, now) in [
            ("written", health.written),
            ("dropped", health.dropped),
            ("failed", health.failed),
        ] {
            let counter = metrics.decisions.with_label_values(&[result]);
            counter.inc_by(now.saturating_sub(counter.get()));
        }
        metrics
            .decision_log_failing
            .set(i64::from(health.status == "failing"));
    }
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
