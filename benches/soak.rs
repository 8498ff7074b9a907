//! `cargo bench --bench soak`: `yakkan serve` under everything at once, for a bounded
//! time, and what it cost. The binary cargo built serves a copy of the bundled rules with
//! a decision log, while, together:
//!
//! - **clients** post the typical case without pause (`YAKKAN_SOAK_CLIENTS`, default 4);
//! - **batches** of 500 cases are posted by 2 more, every other one never reading its
//!   answer (the write timeout must give it up);
//! - **slow clients** (50) send their headers and a few bytes of a body, then stall,
//!   and are replaced as the read timeout cuts them off;
//! - **reloads**: every 300 ms the rules folder is edited, in turn, to a good set, to YAML
//!   that does not parse, and to a set whose own cases fail, so the server swaps, refuses,
//!   and swaps back.
//!
//! Every 200 ms the server's resident memory is read from `/proc`. The log keeps up to
//! 1,000 files of 64 MiB, so none is rotated away within a soak (about 6 KB a line, some
//! hundred MB for 30 s, in a temporary folder removed afterwards). At the end the server
//! gets `SIGTERM`, and the decisions it answered are counted against the log's lines.
//! Reported: answers by status (and every 5xx), peak and last RSS, reloads by result,
//! and decisions answered, logged, dropped (the log's queue full, counted) and lost
//! (answered, yet neither logged nor counted as dropped: must be 0).
//!
//! Settings (environment): `YAKKAN_SOAK_SECONDS` (default 30), `YAKKAN_SOAK_CLIENTS`.
//! Not a test: `cargo test` does not run it; it fails (exits non-zero) on a 5xx or a lost
//! decision.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The bundled rules in a folder of their own, their cases named by absolute paths.
fn rules_copy(into: &Path) {
    for entry in fs::read_dir(project().join("rules/iij-secure-access")).expect("the bundled rules")
    {
        let entry = entry.expect("an entry");
        fs::copy(entry.path(), into.join(entry.file_name())).expect("copied");
    }
    let head = into.join("ruleset.yaml");
    let text = fs::read_to_string(&head).expect("ruleset.yaml");
    let cases = format!(
        "cases: [{}, {}]",
        project().join("tests/cases").display(),
        project().join("examples").display()
    );
    fs::write(
        &head,
        text.replace("cases: [../../tests/cases, ../../examples]", &cases),
    )
    .expect("ruleset.yaml written");
}

/// One request on a new connection: the status, or 0 when the connection failed. The
/// answer is read whole unless `read` is false.
fn post(addr: &str, path: &str, body: &str, read: bool) -> u16 {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return 0;
    }
    if !read {
        // Holds the connection, never reading, until the server gives up on it.
        let mut byte = [0u8; 1];
        thread::sleep(Duration::from_secs(15));
        let _ = stream.read(&mut byte);
        return 0;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let head = String::from_utf8_lossy(&answer[..answer.len().min(20)]).into_owned();
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn get(addr: &str, path: &str) -> String {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return String::new();
    };
    let _ = write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n"
    );
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn rss_kb(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn lines_in(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| fs::read_to_string(e.path()).map_or(0, |t| t.lines().count() as u64))
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that does not name this bench skips it.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if filter.is_some_and(|f| !"soak".contains(&f)) {
        return;
    }
    let seconds = setting("YAKKAN_SOAK_SECONDS", 30);
    let clients = setting("YAKKAN_SOAK_CLIENTS", 4);
    let work = tempfile::tempdir().expect("a folder");
    let rules = work.path().join("rules");
    let log = work.path().join("decisions");
    fs::create_dir(&rules).expect("the rules folder");
    rules_copy(&rules);
    let mut server: Child = Command::new(env!("CARGO_BIN_EXE_yakkan"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--watch-ms",
            "50",
            "--settle-ms",
            "20",
        ])
        // No log file is rotated away within a soak, so every line can be counted.
        .args([
            "--read-timeout-ms",
            "2000",
            "--decision-log-files",
            "1000",
            "--decision-log",
        ])
        .arg(&log)
        .arg("--rules")
        .arg(&rules)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("its first line");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening")
        .to_owned();
    let pid = server.id();
    let case = fs::read_to_string(project().join("benches/typical-case.json")).expect("the case");
    let case = case.trim().to_owned();
    let batch = format!("[{}]", vec![case.as_str(); 500].join(","));

    let stop = Arc::new(AtomicBool::new(false));
    let statuses: Arc<Mutex<BTreeMap<u16, u64>>> = Arc::default();
    // Decisions the server answered with a ruling: one a 200 case, 500 a 200 batch.
    let answered = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    let count = |statuses: &Mutex<BTreeMap<u16, u64>>, status: u16| {
        *statuses
            .lock()
            .expect("not poisoned")
            .entry(status)
            .or_default() += 1;
    };
    for _ in 0..clients {
        let (stop, statuses, answered, addr, case) = (
            stop.clone(),
            statuses.clone(),
            answered.clone(),
            addr.clone(),
            case.clone(),
        );
        workers.push(thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let status = post(&addr, "/v1/evaluate", &case, true);
                if status == 200 {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                count(&statuses, status);
            }
        }));
    }
    for reads in [true, false] {
        let (stop, statuses, answered, addr, batch) = (
            stop.clone(),
            statuses.clone(),
            answered.clone(),
            addr.clone(),
            batch.clone(),
        );
        workers.push(thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let status = post(&addr, "/v1/evaluate/batch", &batch, reads);
                if status == 200 {
                    answered.fetch_add(500, Ordering::Relaxed);
                }
                if reads {
                    count(&statuses, status);
                }
            }
        }));
    }
    {
        let (stop, addr) = (stop.clone(), addr.clone());
        workers.push(thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let slow: Vec<TcpStream> = (0..50)
                    .filter_map(|_| {
                        let mut s = TcpStream::connect(&addr).ok()?;
                        s.write_all(b"POST /v1/evaluate HTTP/1.1\r\nHost: soak\r\nContent-Length: 1000\r\n\r\n{\"as_of")
                            .ok()?;
                        Some(s)
                    })
                    .collect();
                // Cut off at the read timeout (2 s); then replaced.
                for _ in 0..25 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    thread::sleep(Duration::from_millis(100));
                }
                drop(slow);
            }
        }));
    }
    {
        let (stop, rules) = (stop.clone(), rules.clone());
        workers.push(thread::spawn(move || {
            let head = rules.join("ruleset.yaml");
            let good = fs::read_to_string(&head).expect("ruleset.yaml");
            let broken = format!("{good}\n  : : not yaml [\n");
            let failing = good.replace("minimum_period_months: 1\n", "minimum_period_months: 2\n");
            let edited = good.replace("name: iij-secure-access", "name: iij-secure-access # soak");
            let texts = [&edited, &broken, &good, &failing];
            let mut turn = 0;
            while !stop.load(Ordering::Relaxed) {
                fs::write(&head, texts[turn % texts.len()]).expect("written");
                turn += 1;
                thread::sleep(Duration::from_millis(300));
            }
            fs::write(&head, &good).expect("written back");
        }));
    }
    let started = Instant::now();
    let (mut peak, mut last) = (0u64, 0u64);
    while started.elapsed() < Duration::from_secs(seconds) {
        thread::sleep(Duration::from_millis(200));
        last = rss_kb(pid);
        peak = peak.max(last);
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let _ = worker.join();
    }
    let metrics = get(&addr, "/metrics");
    let reloads_ok = metric(&metrics, "yakkan_reloads_total{result=\"ok\"} ");
    let reloads_refused = metric(&metrics, "yakkan_reloads_total{result=\"refused\"} ");
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let exit = server.wait().expect("the server ends");
    let logged = lines_in(&log);
    let dropped = metric(&metrics, "yakkan_decisions_total{result=\"dropped\"} ")
        + metric(&metrics, "yakkan_decisions_total{result=\"failed\"} ");
    let written = metric(&metrics, "yakkan_decisions_total{result=\"written\"} ");
    let answered = answered.load(Ordering::Relaxed);
    // Batches never read are decided and logged though nobody saw them: counted as
    // logged, so lost is what was answered and neither logged nor counted.
    let lost = answered.saturating_sub(logged + dropped);
    let statuses = statuses.lock().expect("not poisoned").clone();
    let errors: u64 = statuses
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, n)| n)
        .sum();
    println!(
        "soak: {seconds} s, {clients} clients, 2 batch posters (one never reading), 50 slow clients, a reload edit every 300 ms"
    );
    println!("  answers by status: {statuses:?} (0: connection closed or failed)");
    println!("  5xx: {errors}");
    println!("  rss: peak {} MB, last {} MB", peak / 1024, last / 1024);
    println!("  reloads: {reloads_ok} swapped, {reloads_refused} refused");
    println!(
        "  decisions: {answered} answered, {logged} logged ({written} written by the last /metrics), {dropped} dropped or failed (counted), {lost} lost"
    );
    println!("  serve exited: {exit}");
    let code = i32::from(errors > 0 || lost > 0 || !exit.success());
    std::process::exit(code);
}
