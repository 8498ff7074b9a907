//! Hot reload: the rules folder watched and re-read on `SIGHUP`, a new set swapped in
//! only once it is settled and proven, a refused one reported and not tried again.

use super::*;

/// How many refused digests are remembered.
pub(super) const REMEMBERED_REFUSALS: usize = 64;

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

/// Why a reload did not swap a set in.
pub(super) enum NoSwap {
    /// The folder changed meanwhile: tried again at the next tick, not refused.
    Unsettled,
    /// The set is refused, for this reason.
    Refused(String),
}

/// Loads the set in `dir` and runs the cases it ships; the set, if it is the text of
/// digest `expected` and every case passes.
pub(super) fn prove(dir: &std::path::Path, expected: &str) -> Result<RuleSet, NoSwap> {
    // A file that cannot be read is the folder changing under the loader (one removed
    // mid-read), not a verdict on its text: tried again at the next tick.
    let rules = RuleSet::load(dir).map_err(|e| match e {
        LoadError::Io { .. } => NoSwap::Unsettled,
        invalid => NoSwap::Refused(invalid.to_string()),
    })?;
    if rules.digest != expected {
        return Err(NoSwap::Unsettled);
    }
    run_shipped_cases(dir, &rules).map_err(NoSwap::Refused)?;
    Ok(rules)
}

/// Runs the example cases the set in `dir` ships against `rules`: every one must evaluate
/// with no rule error and no `expect:` mismatch. What is wrong, the first 10 problems,
/// otherwise. At startup as at every reload, so no set is served that a reload would
/// refuse.
pub(super) fn run_shipped_cases(dir: &std::path::Path, rules: &RuleSet) -> Result<(), String> {
    let files = crate::corpus::shipped_cases(dir)?;
    if files.is_empty() {
        tracing::warn!(digest = %rules.digest, "the rule set ships no example cases: proven by its checks alone");
    }
    let problems: Vec<Vec<String>> = in_parallel(&files, None, |_, file| {
        let run = crate::corpus::run_case(rules, file);
        run.problems
            .into_iter()
            .map(|p| format!("{}: {p}", file.display()))
            .collect()
    });
    let problems: Vec<String> = problems.into_iter().flatten().collect();
    if problems.is_empty() {
        Ok(())
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
        Err(reason)
    }
}

/// Watches the rules folder and SIGHUP on a thread and runtime of their own, returning
/// once SIGHUP is listened for. Small cases are evaluated on the async workers, so the
/// settle and proof timings of a reload must not wait for a turn between evaluations.
pub(super) fn start_watching(service: Arc<Service>) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("yakkan-reload")
        .thread_stack_size(crate::THREAD_STACK)
        .build()?;
    let (ready, listening) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("yakkan-reload".to_owned())
        .stack_size(crate::THREAD_STACK)
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

pub(super) async fn watch(service: Arc<Service>, hangup: Hangup) {
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

impl Service {
    /// The last reload was refused and the folder still holds that text (once it is
    /// edited back to the set in service, or to a good one, the refusal no longer stands).
    pub(super) fn refusal_stands(&self) -> bool {
        let folder = self.folder.lock().expect("not poisoned").clone();
        self.last_reload()
            .is_some_and(|report| report.result == "refused" && report.digest == folder)
    }

    /// The folder's digest now, off the async workers.
    pub(super) async fn folder_digest(&self) -> Result<String, String> {
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

    pub(super) fn swap(&self, rules: Arc<RuleSet>, trigger: &str) {
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

    pub(super) fn refuse(&self, digest: String, trigger: &str, reason: String) {
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
