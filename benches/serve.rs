//! `cargo bench --bench serve`: what users run, paired in one run. `yakkan serve` (the
//! binary cargo built, started on a free loopback port) is driven by a client in this
//! bench, and the same run times the in-process batch, so the figures can be read as
//! ratios whatever else the machine is doing:
//!
//! - `batch`: the typical case (`benches/typical-case.json`) as JSON Lines through
//!   `batch::stream_lines` on every core, rulings written as JSON (what `yakkan eval
//!   --jsonl` does, in process): cases/s;
//! - `evaluate/16`, `evaluate/64`: `POST /v1/evaluate` of the typical case, end to end
//!   over loopback, with 16 and 64 connections kept open: requests/s, p50 and p99, and
//!   the slowest answer to a `GET /healthz` sent every 10 ms meanwhile;
//! - `healthz/16`: `GET /healthz` with 16 connections: what the HTTP layer alone allows;
//! - `process`: one whole `yakkan eval` of the typical case on the bundled rules (run in
//!   a folder with no `rules/`), against `yakkan --version` — process start — run as
//!   many times one after the other: what a script calling the command pays per case.
//!
//! Each round runs all four, one after the other; the summary gives each figure's median
//! over the rounds and the median of the per-round ratios. Every request count is fixed,
//! so the load stops by itself; the client runs on one thread and shares the machine's
//! cores with the server, as `wrk` on the same machine would.
//!
//! Settings (environment): `YAKKAN_BENCH_REQUESTS` (evaluations per run, default
//! 20,000; the batch runs the same count, `/healthz` five times it),
//! `YAKKAN_BENCH_PROCESSES` (processes of each kind, default 200),
//! `YAKKAN_BENCH_ROUNDS` (default 3), `YAKKAN_BIN` (the binary to serve, default the one
//! cargo built) and `YAKKAN_BASELINE_BIN` (a second binary, e.g. an older build, served
//! and measured in the same rounds, for a before/after pairing).
//!
//! Not a test: `cargo test` does not run it, and it asserts only that every answer is a
//! 200 and that the served ruling is byte for byte the in-process one.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use yakkan::RuleSet;
use yakkan::batch::{evaluate_case, stream_lines};
use yakkan::case::{Case, CaseLimits};

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// A `yakkan serve` child on a free loopback port, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    name: String,
}

impl Server {
    fn start(binary: &Path, name: &str) -> Server {
        let mut child = Command::new(binary)
            .args(["serve", "--addr", "127.0.0.1:0", "--rules"])
            .arg(project().join("rules"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("the server's first line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .expect("an address");
        Server {
            child,
            addr,
            name: name.to_owned(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one HTTP run measured.
struct Run {
    rate: f64,
    p50: Duration,
    p99: Duration,
    /// The slowest of the `/healthz` probes sent while the run went on (every 10 ms, on
    /// a connection of their own).
    probe_max: Duration,
}

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads one response: its status and body. `buffer` is reused between requests.
async fn read_response(
    stream: &TcpStream,
    buffer: &mut Vec<u8>,
) -> std::io::Result<(u16, Vec<u8>)> {
    buffer.clear();
    let mut chunk = [0u8; 16 * 1024];
    let mut need: Option<(usize, usize)> = None; // (end of head, body length)
    loop {
        if let Some((head, length)) = need
            && buffer.len() >= head + length
        {
            let status = std::str::from_utf8(&buffer[9..12])
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            return Ok((status, buffer[head..head + length].to_vec()));
        }
        stream.readable().await?;
        match stream.try_read(&mut chunk) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
        if need.is_none()
            && let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n")
        {
            let head = std::str::from_utf8(&buffer[..at]).expect("ASCII headers");
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .expect("a Content-Length");
            need = Some((at + 4, length));
        }
    }
}

/// Sends `total` copies of `request` over `connections` connections kept open, each
/// sending its next request once the last is answered. Every answer must be a 200.
fn drive(addr: SocketAddr, request: &[u8], connections: usize, total: usize) -> Run {
    const PROBE: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let next = Rc::new(AtomicUsize::new(0));
        let request: Rc<[u8]> = request.into();
        let set = tokio::task::LocalSet::new();
        let mut streams = Vec::new();
        for _ in 0..connections {
            let stream = TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            streams.push(stream);
        }
        let started = Instant::now();
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|stream| {
                let (next, request) = (next.clone(), request.clone());
                set.spawn_local(async move {
                    let mut times = Vec::new();
                    let mut buffer = Vec::with_capacity(16 * 1024);
                    while next.fetch_add(1, Ordering::Relaxed) < total {
                        let sent = Instant::now();
                        write_all(&stream, &request).await.expect("send");
                        let (status, body) =
                            read_response(&stream, &mut buffer).await.expect("answer");
                        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                        times.push(sent.elapsed());
                    }
                    times
                })
            })
            .collect();
        let probe = TcpStream::connect(addr).await.expect("connect");
        let left = next.clone();
        let prober = set.spawn_local(async move {
            let (mut slowest, mut buffer) = (Duration::ZERO, Vec::new());
            while left.load(Ordering::Relaxed) < total {
                let sent = Instant::now();
                write_all(&probe, PROBE).await.expect("send");
                let (status, _) = read_response(&probe, &mut buffer).await.expect("answer");
                assert_eq!(status, 200);
                slowest = slowest.max(sent.elapsed());
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            slowest
        });
        let mut times = Vec::with_capacity(total);
        let probe_max = set
            .run_until(async {
                for task in tasks {
                    times.extend(task.await.expect("a client task"));
                }
                prober.await.expect("the prober")
            })
            .await;
        let elapsed = started.elapsed();
        times.sort();
        Run {
            rate: total as f64 / elapsed.as_secs_f64(),
            p50: times[times.len() / 2],
            p99: times[times.len() * 99 / 100],
            probe_max,
        }
    })
}

/// One request and its answer, for the byte-for-byte check.
fn answer(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let stream = TcpStream::connect(addr).await.expect("connect");
        write_all(&stream, request).await.expect("send");
        let (status, body) = read_response(&stream, &mut Vec::new())
            .await
            .expect("answer");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        body
    })
}

/// The in-process batch: `cases` lines through `stream_lines` on every core; cases/s.
fn batch(rules: &RuleSet, lines: &str, cases: usize) -> f64 {
    let started = Instant::now();
    let summary = stream_lines(
        rules,
        lines.as_bytes(),
        std::io::sink(),
        None,
        &CaseLimits::default(),
        |_| {},
    )
    .expect("a sink takes everything");
    let elapsed = started.elapsed();
    assert_eq!(summary.ruled, cases);
    cases as f64 / elapsed.as_secs_f64()
}

/// CPU seconds a process has used (all its threads, live or ended), from `/proc`; `None`
/// where there is no `/proc`. Linux counts in ticks of 1/100 s.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// CPU microseconds a process used per item while `work` ran.
fn cpu_per<T>(pid: &str, items: usize, work: impl FnOnce() -> T) -> (T, Option<f64>) {
    let before = cpu_seconds(pid);
    let done = work();
    let used = cpu_seconds(pid)
        .zip(before)
        .map(|(a, b)| (a - b) * 1e6 / items as f64);
    (done, used)
}

fn micros(value: Option<f64>) -> String {
    value.map_or_else(|| "?".to_owned(), |v| format!("{v:.0} µs"))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// One measured HTTP run, with the CPU each side used per request.
struct Measured {
    run: Run,
    ratio: f64,
    server_cpu: Option<f64>,
    client_cpu: Option<f64>,
}

/// The runs of one server: `(label, connections, request)` → one entry per round.
type Runs = Vec<(&'static str, usize, Vec<Measured>)>;

fn median_of(runs: &[Measured], value: impl Fn(&Measured) -> Option<f64>) -> Option<f64> {
    let values: Vec<f64> = runs.iter().filter_map(value).collect();
    (!values.is_empty()).then(|| median(values))
}

/// The mean wall time of `runs` processes `binary args`, one after the other, in `dir`.
fn process_time(binary: &Path, args: &[&str], dir: &Path, runs: usize) -> Duration {
    let started = Instant::now();
    for _ in 0..runs {
        let status = Command::new(binary)
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .status()
            .expect("the binary runs");
        assert!(status.success(), "{} {args:?}: {status}", binary.display());
    }
    started.elapsed() / runs as u32
}

/// One `yakkan eval` of the typical case on the bundled rules against process start,
/// interleaved so both see the same machine.
fn processes(binary: &Path, name: &str, runs: usize) {
    let empty = tempfile::tempdir().expect("a folder with no rules/");
    let case = project().join("benches/typical-case.json");
    let case = case.to_str().expect("a UTF-8 path");
    let (mut start, mut eval) = (Vec::new(), Vec::new());
    for _ in 0..4 {
        start.push(process_time(binary, &["--version"], empty.path(), runs / 4).as_secs_f64());
        eval.push(process_time(binary, &["eval", case], empty.path(), runs / 4).as_secs_f64());
    }
    let (start, eval) = (median(start), median(eval));
    println!(
        "{name}: process (end to end) `yakkan eval` of the typical case {}, process start \
         (`--version`) {}: {:.2}x process start",
        ms(Duration::from_secs_f64(eval)),
        ms(Duration::from_secs_f64(start)),
        eval / start
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and gets nothing.
    if !std::env::args().any(|a| a == "--bench") {
        println!("serve: a benchmark; run it with `cargo bench --bench serve`");
        return;
    }
    let requests = setting("YAKKAN_BENCH_REQUESTS", 20_000);
    let rounds = setting("YAKKAN_BENCH_ROUNDS", 3).max(1);
    let binary = std::env::var_os("YAKKAN_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_yakkan")),
        PathBuf::from,
    );

    let text = std::fs::read_to_string(project().join("benches/typical-case.json"))
        .expect("the typical case");
    let rules = RuleSet::load(&project().join("rules")).expect("the project's rules");
    let case = Case::from_str(&rules, &text, None).expect("the typical case reads");
    let ruling = serde_json::to_vec(&evaluate_case(&rules, &case).expect("a ruling")).unwrap();
    let line =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&text).unwrap()).unwrap();
    let lines = format!("{line}\n").repeat(requests);
    let post = format!(
        "POST /v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{text}",
        text.len()
    )
    .into_bytes();
    let health = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec();

    let mut servers = vec![Server::start(&binary, "serve")];
    if let Some(baseline) = std::env::var_os("YAKKAN_BASELINE_BIN") {
        servers.push(Server::start(Path::new(&baseline), "baseline"));
    }
    for server in &servers {
        assert_eq!(
            answer(server.addr, &post),
            ruling,
            "{}: the served ruling differs from the in-process one",
            server.name
        );
        // Warm up: connections, allocator, caches.
        drive(server.addr, &post, 16, requests / 10);
    }
    println!(
        "serve bench: {} ({} rounds; {requests} evaluations a run; {} cores)",
        binary.display(),
        rounds,
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    let routes: [(&'static str, usize, &[u8], usize); 3] = [
        ("evaluate/16", 16, &post, requests),
        ("evaluate/64", 64, &post, requests),
        ("healthz/16 ", 16, &health, requests * 5),
    ];
    let mut batches = Vec::new();
    let mut batch_cpus = Vec::new();
    let mut all: Vec<Runs> = servers
        .iter()
        .map(|_| {
            routes
                .iter()
                .map(|&(label, connections, _, _)| (label, connections, Vec::new()))
                .collect()
        })
        .collect();
    for round in 1..=rounds {
        let (rate, cpu) = cpu_per("self", requests, || batch(&rules, &lines, requests));
        println!(
            "round {round}: batch (in process)                 {rate:>7.0} cases/s                     \
             CPU {}/case",
            micros(cpu)
        );
        batches.push(rate);
        batch_cpus.extend(cpu);
        for (server, runs) in servers.iter().zip(&mut all) {
            let pid = server.child.id().to_string();
            for (&(label, connections, request, total), (_, _, measured)) in
                routes.iter().zip(runs.iter_mut())
            {
                let ((run, client_cpu), server_cpu) = cpu_per(&pid, total, || {
                    cpu_per("self", total, || {
                        drive(server.addr, request, connections, total)
                    })
                });
                println!(
                    "round {round}: {} {label} (end to end) {:>7.0} req/s  p50 {}  p99 {}  \
                     {:.2}x batch  CPU {}/req server, {}/req client  /healthz meanwhile ≤ {}",
                    server.name,
                    run.rate,
                    ms(run.p50),
                    ms(run.p99),
                    run.rate / rate,
                    micros(server_cpu),
                    micros(client_cpu),
                    ms(run.probe_max)
                );
                measured.push(Measured {
                    ratio: run.rate / rate,
                    run,
                    server_cpu,
                    client_cpu,
                });
            }
        }
    }
    let batch_rate = median(batches);
    let batch_cpu = (!batch_cpus.is_empty()).then(|| median(batch_cpus));
    println!("\nmedians over {rounds} rounds");
    println!(
        "batch (in process, every core, JSON in and out): {batch_rate:.0} cases/s, CPU {}/case",
        micros(batch_cpu)
    );
    for (server, runs) in servers.iter().zip(&all) {
        let rate_of = |label: &str| {
            runs.iter()
                .find(|(l, _, _)| *l == label)
                .map(|(_, _, m)| median(m.iter().map(|m| m.run.rate).collect()))
                .expect("a route")
        };
        for (label, _, measured) in runs {
            let p50 = median_of(measured, |m| Some(m.run.p50.as_secs_f64())).expect("runs");
            let p99 = median_of(measured, |m| Some(m.run.p99.as_secs_f64())).expect("runs");
            println!(
                "{}: {label} (end to end) {:>7.0} req/s = {:.2}x batch  p50 {}  p99 {} \
                 (p99/p50 {:.1})  CPU {}/req server, {}/req client  /healthz meanwhile ≤ {}",
                server.name,
                median(measured.iter().map(|m| m.run.rate).collect()),
                median_of(measured, |m| Some(m.ratio)).expect("runs"),
                ms(Duration::from_secs_f64(p50)),
                ms(Duration::from_secs_f64(p99)),
                median(
                    measured
                        .iter()
                        .map(|m| m.run.p99.as_secs_f64() / m.run.p50.as_secs_f64())
                        .collect()
                ),
                micros(median_of(measured, |m| m.server_cpu)),
                micros(median_of(measured, |m| m.client_cpu)),
                ms(Duration::from_secs_f64(
                    median_of(measured, |m| Some(m.run.probe_max.as_secs_f64())).expect("runs")
                )),
            );
        }
        println!(
            "{}: evaluate at 64 connections vs 16: {:.2}x",
            server.name,
            rate_of("evaluate/64") / rate_of("evaluate/16")
        );
    }
    let runs = setting("YAKKAN_BENCH_PROCESSES", 200).max(4);
    processes(&binary, "serve", runs);
    if let Some(baseline) = std::env::var_os("YAKKAN_BASELINE_BIN") {
        processes(Path::new(&baseline), "baseline", runs);
    }
}
