//! What the integration tests share: a `yakkan serve` on loopback (stopped when dropped), a
//! copy of the bundled rules to edit under it, and a case to send. Each test file uses
//! a part of it.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A terminate within the minimum period: accepted, with a fee.
pub const CASE: &str = r#"{"as_of": "2026-05-20", "contracts": [{"id": "WG-1", "kind": "web_gateway", "accounts": 100,
  "formed": "2026-04-10", "billing_start": "2026-04-15", "fees": {"basic_monthly": "20000", "per_account_monthly": "300"}}],
  "requests": [{"type": "terminate", "contract": "WG-1", "notice_arrived": "2026-04-12"}]}"#;

/// A running `yakkan serve` on loopback, stopped when dropped.
pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    agent: ureq::Agent,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Sends the server `signal` (`TERM`, `INT`) and waits for it to end, at most `bound`;
    /// its exit status, or `None` if it did not end in time.
    pub fn signal_and_wait(
        &mut self,
        signal: &str,
        bound: Duration,
    ) -> Option<std::process::ExitStatus> {
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{signal} failed");
        let started = std::time::Instant::now();
        while started.elapsed() < bound {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Serves the rule set in `rules`, from the project's folder, with `extra` flags;
    /// returns once it says where it listens.
    pub fn start(rules: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_yakkan"))
            .args(["serve", "--addr", "127.0.0.1:0", "--rules"])
            .arg(rules)
            .args(extra)
            .current_dir(project())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        Server { child, addr, agent }
    }

    /// The server's own process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A POST of `body` with `content_type` (none: no header): status and body.
    pub fn send(&self, path: &str, content_type: Option<&str>, body: &[u8]) -> (u16, String) {
        let mut request = self.agent.post(self.url(path));
        if let Some(kind) = content_type {
            request = request.header("content-type", kind);
        }
        let mut response = request.send(body).expect("the server answers");
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap(),
        )
    }

    /// A POST of JSON.
    pub fn post(&self, path: &str, body: &str) -> (u16, String) {
        self.send(path, Some("application/json"), body.as_bytes())
    }

    /// A GET or a JSON POST: status, content type and body.
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String, String) {
        let mut response = match body {
            Some(body) => self
                .agent
                .post(self.url(path))
                .header("content-type", "application/json")
                .send(body),
            None => self.agent.get(self.url(path)).call(),
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            response.status().as_u16(),
            kind,
            response.body_mut().read_to_string().unwrap(),
        )
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        let (status, _, body) = self.call("get", path, None);
        (status, body)
    }

    pub fn json(&self, path: &str) -> Value {
        serde_json::from_str(&self.get(path).1).unwrap()
    }

    pub fn health(&self) -> Value {
        self.json("/healthz")
    }

    pub fn digest(&self) -> String {
        self.health()["digest"].as_str().unwrap().to_owned()
    }

    /// Waits until the digest in service is not `old`, or gives up.
    pub fn wait_for_change(&self, old: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.digest() != old {
                return true;
            }
            thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// `yakkan_reloads_total{result="…"}` from `/metrics` (0 before the first).
    pub fn reloads(&self, result: &str) -> u64 {
        let prefix = format!("yakkan_reloads_total{{result=\"{result}\"}} ");
        self.get("/metrics")
            .1
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .map_or(0, |n| n.trim().parse().unwrap())
    }
}

/// How long a test waits for the server to observe one step (a reload proven or refused,
/// answers counted) before it fails. Only a failure bound: the tests are driven by what
/// the server has done, not by how much wall time passed, so a slow or loaded machine
/// takes longer but reaches the same counts.
pub const STEP_BOUND: Duration = Duration::from_secs(120);

/// Polls `done` until it holds; fails the test, naming `what`, if it has not within
/// [`STEP_BOUND`].
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < STEP_BOUND,
            "{what}: not observed within {STEP_BOUND:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// A copy of the bundled rule set's files as they are (its `cases:` then name folders
/// that are not beside the copy).
pub fn bare_rules_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(project().join("rules/iij-secure-access")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

/// A copy of the bundled rule set to change while a server runs; the cases it ships are
/// named by absolute paths, since the copy lies outside the project.
pub fn rules_copy() -> tempfile::TempDir {
    let dir = bare_rules_copy();
    let cases = format!(
        "cases: [{}, {}]",
        project().join("tests/cases").display(),
        project().join("examples").display()
    );
    edit(
        dir.path(),
        "ruleset.yaml",
        "cases: [../../tests/cases, ../../examples]",
        &cases,
    );
    dir
}

/// Replaces `from` by `to` once in `file` of `dir`.
pub fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// Holds the machine for one timing-sensitive test at a time: tests of one file run in
/// parallel, and a test measuring latency or swaps under load must not share the cores
/// with another one's load.
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static MACHINE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    MACHINE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A new 60-account Web gateway: with [`failing_rules`], a rule fails on its data.
pub const SIXTY_ACCOUNTS: &str = r#"{"as_of": "2026-05-01", "requests": [{"type": "new_contract", "date": "2026-05-01",
  "contract": {"id": "WG-1", "kind": "web_gateway", "accounts": 60, "billing_start": "2026-05-10"}}]}"#;

/// A copy of the bundled rules that passes `check` but fails on data: article 12, which
/// speaks on every new contract, divides by zero at 60 accounts ([`SIXTY_ACCOUNTS`]).
/// Loops cannot pass `check`; data-dependent arithmetic is what can still fail. Some of
/// the shipped cases have 60 accounts, so the copy ships none: `serve` proves a set by
/// its cases before serving it.
pub fn failing_rules() -> tempfile::TempDir {
    let dir = bare_rules_copy();
    edit(
        dir.path(),
        "ruleset.yaml",
        "cases: [../../tests/cases, ../../examples]",
        "cases: []",
    );
    edit(
        dir.path(),
        "art-12-charges.yaml",
        "    applies_to: [new_contract, add_option]\n",
        "    applies_to: [new_contract, add_option]\n    when: yen(1) / (accounts_on(contract, date) - 60) > 0\n",
    );
    dir
}

/// Line and column (1-based) of the first `marker` in `file`.
pub fn place(file: &Path, marker: &str) -> (usize, usize) {
    let text = fs::read_to_string(file).unwrap();
    let offset = text
        .find(marker)
        .unwrap_or_else(|| panic!("no `{marker}` in {}", file.display()));
    let line = text[..offset].matches('\n').count() + 1;
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..offset].chars().count() + 1)
}
