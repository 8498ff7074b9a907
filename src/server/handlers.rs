//! The endpoints: evaluation (one case, a batch), the rules in force, health, the
//! OpenAPI description, the rulebook, and the answers to routes and methods not served.

use super::*;

pub(super) async fn not_found(State(service): State<Arc<Service>>, request: Request) -> Response {
    let message = format!(
        "no route {}: the routes are POST /v1/evaluate, POST /v1/evaluate/batch, GET /v1/rules, GET /healthz, GET /metrics",
        request.uri().path()
    );
    http_error(&service, StatusCode::NOT_FOUND, "not_found", message)
}

pub(super) async fn method_not_allowed(
    State(service): State<Arc<Service>>,
    request: Request,
) -> Response {
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

/// The body as UTF-8 text, within the body limit and the read timeout, its bytes taken
/// into `held` as they arrive (503 once the service holds its most).
pub(super) async fn read_body(
    service: &Service,
    headers: &HeaderMap,
    body: Body,
    held: &mut Held,
) -> Result<String, Response> {
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
    /// Why a body was not read whole.
    enum Short {
        TooLarge,
        Full,
        Failed(String),
    }
    let collect = async {
        let mut body = body;
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|error| Short::Failed(error.to_string()))?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > limit {
                    return Err(Short::TooLarge);
                }
                if !held.take(service, data.len()) {
                    return Err(Short::Full);
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(bytes)
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
        Ok(Err(Short::Failed(error))) => {
            return Err(input_error(
                service,
                None,
                None,
                format!("cannot read the body: {error}"),
            ));
        }
        Ok(Err(Short::TooLarge)) => return Err(too_large()),
        Ok(Err(Short::Full)) => return Err(full(service)),
        Ok(Ok(bytes)) => bytes,
    };
    crate::yaml::document_text(bytes).map_err(|error| {
        input_error(
            service,
            Some(error.position.line),
            Some(error.position.column),
            format!("the body is {error}"),
        )
    })
}

/// What a received request holds until it is answered: a place among the admitted and
/// its body's bytes of the budget.
pub(super) struct Holding {
    _admission: Admission,
    _held: Held,
}

/// What every evaluation request does first: its syntax from the content type (415 if
/// neither), its body within the limits (its bytes held), then a place among the
/// admitted (503 if none). Receiving the body holds no place: a slow client cannot keep
/// others from evaluating.
pub(super) async fn admitted_body(
    service: &Service,
    headers: &HeaderMap,
    body: Body,
    yaml_allowed: bool,
) -> Result<(Syntax, String, Holding), Response> {
    let syntax = body_syntax(headers, yaml_allowed).map_err(|message| {
        http_error(
            service,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    })?;
    let mut held = Held::default();
    let text = read_body(service, headers, body, &mut held).await?;
    let admission = admit(service).ok_or_else(|| busy(service))?;
    let holding = Holding {
        _admission: admission,
        _held: held,
    };
    Ok((syntax, text, holding))
}

/// What an evaluation's query asks, as `eval` takes it: `explain=true|all` (or `false`)
/// as `--explain[=all]`, and `as_of=YYYY-MM-DD` as `--as-of`, judging the state on that
/// date instead of the case's `as_of`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Asked {
    pub(super) settings: Settings,
    pub(super) as_of: Option<chrono::NaiveDate>,
}

/// The query of `/v1/evaluate` and `/v1/evaluate/batch`; an unknown parameter or a bad
/// value is refused with the path and message of its 400, naming it.
pub(super) fn evaluation_query(query: Option<&str>) -> Result<Asked, (&'static str, String)> {
    let mut asked = Asked::default();
    for (name, value) in query_pairs(query) {
        match (name.as_str(), value.as_str()) {
            ("explain", value) => {
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
            ("as_of", value) => match calendar::parse_date(value) {
                Some(day) => asked.as_of = Some(day),
                None => {
                    return Err(("as_of", format!("`{value}` is not a YYYY-MM-DD date")));
                }
            },
            _ => {
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

/// A query's parameters, names and values percent-decoded (`+` is a space), in order; a
/// parameter without `=` has the empty value.
pub(super) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// A 400 about the query: `path` names the parameter (empty for an unknown one).
pub(super) fn query_error(digest: &str, path: &str, message: String) -> Response {
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
pub(super) fn rule_on(
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

pub(super) async fn evaluate_one(
    State(service): State<Arc<Service>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let asked = match evaluation_query(uri.query()) {
        Ok(asked) => asked,
        Err((path, message)) => return query_error(&service.rules().digest, path, message),
    };
    let (syntax, text, holding) = match admitted_body(&service, &headers, body, true).await {
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
    // The body's bytes are given back before the answer's are taken.
    drop(holding);
    match result {
        Err(response) => response,
        Ok(Ok(json)) => answer(&service, json),
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
pub(super) async fn evaluate_batch(
    State(service): State<Arc<Service>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let asked = match evaluation_query(uri.query()) {
        Ok(asked) => asked,
        Err((path, message)) => return query_error(&service.rules().digest, path, message),
    };
    let (_, text, holding) = match admitted_body(&service, &headers, body, false).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let rules = service.rules();
    let worker = service.clone();
    let limits = service.config.case_limits;
    let decisions = service.decisions.clone();
    let (max_batch, answer_limit) = (service.config.max_batch, service.config.answer_limit);
    let results = on_cores(&service, move |cores| {
        if text.trim().is_empty() {
            return Err(BatchRefused::Input(
                1,
                1,
                "the body is empty: send a JSON array of cases".to_owned(),
            ));
        }
        let cases: Vec<&RawValue> = serde_json::from_str(&text).map_err(|error| {
            BatchRefused::Input(
                error.line(),
                // serde_json counts a place before the first character as column 0.
                error.column().max(1),
                format!("expected a JSON array of cases: {error}"),
            )
        })?;
        if cases.len() > max_batch {
            return Err(BatchRefused::TooMany(cases.len()));
        }
        let results = in_parallel(&cases, std::num::NonZeroUsize::new(cores), |i, case| {
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
        let mut json = Vec::with_capacity((results.len() * 8 * 1024 + 2).min(answer_limit));
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
            if json.len() + 1 > answer_limit {
                return Err(BatchRefused::AnswerTooLarge(i + 1));
            }
        }
        json.push(b']');
        Ok(json)
    })
    .await;
    drop(holding);
    match results {
        Err(response) => response,
        Ok(Ok(json)) => answer(&service, json),
        Ok(Err(BatchRefused::Input(line, column, message))) => {
            input_error(&service, Some(line), Some(column), message)
        }
        Ok(Err(BatchRefused::TooMany(n))) => http_error(
            &service,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the batch holds {n} cases; at most {} are taken (--max-batch): send fewer",
                service.config.max_batch
            ),
        ),
        Ok(Err(BatchRefused::AnswerTooLarge(n))) => http_error(
            &service,
            StatusCode::PAYLOAD_TOO_LARGE,
            "answer_too_large",
            format!(
                "the rulings of the first {n} cases already come to more than {} bytes (--answer-limit): send fewer cases a batch",
                service.config.answer_limit
            ),
        ),
    }
}

/// Why a batch is not answered with its rulings.
pub(super) enum BatchRefused {
    /// The body is not a JSON array: line, column, message.
    Input(usize, usize, String),
    /// More cases than `--max-batch`.
    TooMany(usize),
    /// The answer would pass `--answer-limit` by the case numbered (from 1).
    AnswerTooLarge(usize),
}

#[derive(Serialize)]
pub(super) struct RuleEntry<'a> {
    pub(super) id: &'a str,
    #[serde(rename = "ref")]
    pub(super) reference: &'a str,
    pub(super) cite: &'a str,
    pub(super) title: &'a crate::ruling::Message,
    pub(super) file: &'a str,
    pub(super) from: String,
    pub(super) until: Option<String>,
    pub(super) reconstructed: bool,
}

pub(super) async fn rules_in_force(
    State(service): State<Arc<Service>>,
    request: Request,
) -> Response {
    let rules = service.rules();
    // The query read by hand: a malformed one answers the JSON error body too.
    let mut as_of = None;
    for (name, value) in query_pairs(request.uri().query()) {
        match name.as_str() {
            "as_of" => as_of = Some(value),
            _ => {
                return query_error(
                    &rules.digest,
                    "",
                    format!(
                        "unknown query parameter `{name}`: the one parameter is as_of=YYYY-MM-DD"
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

/// `status` is `ok`; `reload_refused` while the folder holds a set that was refused (the
/// set in service is still the one named); else `decision_log_failing` while the decision
/// log cannot write. `last_reload` says what was last tried, and why it was refused;
/// `decision_log`, when there is one, its state and counts.
pub(super) async fn health(State(service): State<Arc<Service>>) -> Response {
    let rules = service.rules();
    let last = service.last_reload();
    let log = service.decisions.as_ref().map(|log| log.health());
    let status = if service.refusal_stands() {
        "reload_refused"
    } else if log.as_ref().is_some_and(|log| log.status == "failing") {
        "decision_log_failing"
    } else {
        "ok"
    };
    let mut body = serde_json::json!({
        "status": status,
        "ruleset": rules.name,
        "digest": rules.digest,
        "last_reload": last,
    });
    if let Some(log) = log {
        body["decision_log"] = serde_json::json!(log);
    }
    Json(body).into_response()
}

pub(super) async fn openapi(State(service): State<Arc<Service>>) -> Response {
    Json(crate::openapi::document(&service.rules())).into_response()
}

pub(super) fn html(page: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page.to_owned(),
    )
        .into_response()
}

pub(super) async fn book_index(State(service): State<Arc<Service>>) -> Response {
    book_page(
        State(service),
        Ok(axum::extract::Path("index.html".to_owned())),
    )
    .await
}

pub(super) async fn book_page(
    State(service): State<Arc<Service>>,
    page: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    // A path that does not decode (`/%ff`) names no page: the JSON 404, not axum's text.
    let Ok(axum::extract::Path(name)) = page else {
        return http_error(
            &service,
            StatusCode::NOT_FOUND,
            "not_found",
            "no such page: the path is not percent-encoded UTF-8".to_owned(),
        );
    };
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
