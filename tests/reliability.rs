//! Bounded work and safe reloads (docs/reliability.md): each test here is the proof of a
//! limit that document lists. Servers listen on loopback only; every loop is bounded.

mod common;

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{CASE, Server, project, rules_copy};
use serde_json::{Value, json};

fn yakkan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_yakkan"))
}

/// The folder texts by file name.
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// The digest a rule set with these files carries, loaded through the public API.
fn digest_of(files: &[(String, String)]) -> String {
    let scratch = tempfile::tempdir().unwrap();
    for (name, text) in files {
        fs::write(scratch.path().join(name), text).unwrap();
    }
    yakkan::RuleSet::load(scratch.path()).unwrap().digest
}

/// Rounds of the five edits below. Each edit waits until the server has observed it (the
/// good set served to a client, the bad set counted as refused), so every round proves and
/// refuses the same sets on a fast machine and on a slow one; only how long it takes varies.
const RELOAD_ROUNDS: usize = 3;

#[test]
fn reload_under_load_swaps_only_settled_proven_sets() {
    let _machine = common::exclusive();
    let dir = rules_copy();
    let server = Arc::new(Server::start(
        dir.path(),
        &["--watch-ms", "50", "--settle-ms", "120"],
    ));
    let mut good = snapshot(dir.path());
    // Every set meant to serve: registered before its text reaches the folder.
    let intended = Arc::new(Mutex::new(HashSet::from([digest_of(&good)])));
    assert_eq!(
        server.health()["digest"],
        *intended.lock().unwrap().iter().next().unwrap()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(AtomicUsize::new(0));
    let wrong = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::new(Mutex::new(HashSet::<String>::new()));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (server, stop, answers, wrong, seen, intended) = (
                server.clone(),
                stop.clone(),
                answers.clone(),
                wrong.clone(),
                seen.clone(),
                intended.clone(),
            );
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (status, body) = server.post("/v1/evaluate", CASE);
                    answers.fetch_add(1, Ordering::Relaxed);
                    if status != 200 {
                        wrong.lock().unwrap().push(format!("{status}: {body}"));
                        continue;
                    }
                    let ruling: Value = serde_json::from_str(&body).unwrap();
                    let digest = ruling["ruleset"]["digest"].as_str().unwrap().to_owned();
                    if !intended.lock().unwrap().contains(&digest) {
                        wrong
                            .lock()
                            .unwrap()
                            .push(format!("unintended set {digest}"));
                    }
                    seen.lock().unwrap().insert(digest);
                }
            })
        })
        .collect();

    let write = |files: &[(String, String)]| {
        for (name, text) in files {
            let path = dir.path().join(name);
            if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                fs::write(path, text).unwrap();
            }
        }
    };
    // A good set has been observed: it is in service and a client was answered with it.
    let served = |digest: &str, what: &str| {
        common::wait_until(what, || server.health()["digest"] == digest);
        common::wait_until(&format!("{what}, answered to a client"), || {
            seen.lock().unwrap().contains(digest)
        });
    };
    // A bad set has been observed: one more refusal is counted. Then the good text is put
    // back and the server has read it (the refusal no longer stands). Each bad text is new
    // (the good set under it changes every round), so none is skipped as refused before.
    let refused_then_restored = |refused_before: u64, what: &str, good: &[(String, String)]| {
        common::wait_until(what, || server.reloads("refused") > refused_before);
        write(good);
        common::wait_until(&format!("{what}, then the good text back"), || {
            server.health()["status"] == "ok"
        });
    };
    let mut refusals: u64 = 0;
    for step in 1..=RELOAD_ROUNDS * 5 {
        match step % 5 {
            // A good edit: a comment, so every shipped case still passes. Two per round
            // (steps 5k+2 and 5k+5 edit different files), so every round changes a file
            // other than the one the last step removes.
            0 | 2 => {
                let i = step % good.len();
                good[i].1.push_str(&format!("\n# edit {step}\n"));
                let digest = digest_of(&good);
                intended.lock().unwrap().insert(digest.clone());
                write(&good);
                served(&digest, &format!("step {step}: the good edit served"));
            }
            // A broken edit: the YAML does not parse; then the good text comes back.
            1 => {
                let before = server.reloads("refused");
                let name = "art-05-accounts.yaml";
                let text = fs::read_to_string(dir.path().join(name)).unwrap();
                fs::write(
                    dir.path().join(name),
                    format!("{text}\n  - id: [unclosed\n"),
                )
                .unwrap();
                refused_then_restored(
                    before,
                    &format!("step {step}: the unparsable set refused"),
                    &good,
                );
                refusals += 1;
            }
            // A set that loads and checks but fails its shipped cases; then put back.
            4 => {
                let before = server.reloads("refused");
                let at = good.iter().position(|(n, _)| n == "ruleset.yaml").unwrap();
                let from = "minimum_period_months: 1\n";
                assert!(good[at].1.contains(from));
                let changed = good[at].1.replace(from, "minimum_period_months: 2\n");
                fs::write(dir.path().join("ruleset.yaml"), changed).unwrap();
                refused_then_restored(
                    before,
                    &format!("step {step}: the case-failing set refused"),
                    &good,
                );
                refusals += 1;
            }
            // A file truncated mid-expression, then written whole with a good edit
            // (faster than the settle interval): the good set serves. Then a part file
            // removed (the others read its facts, so the set does not check): refused,
            // and put back.
            _ => {
                let name = "art-11-termination.yaml";
                let at = good.iter().position(|(n, _)| n == name).unwrap();
                let text = good[at].1.clone();
                fs::write(dir.path().join(name), &text[..text.len() / 2]).unwrap();
                thread::sleep(Duration::from_millis(30));
                good[at].1.push_str(&format!("\n# edit {step}\n"));
                let digest = digest_of(&good);
                intended.lock().unwrap().insert(digest.clone());
                write(&good);
                served(
                    &digest,
                    &format!("step {step}: the rewritten truncated file served"),
                );
                let before = server.reloads("refused");
                fs::remove_file(dir.path().join(name)).unwrap();
                refused_then_restored(
                    before,
                    &format!("step {step}: the set without {name} refused"),
                    &good,
                );
                refusals += 1;
            }
        }
    }
    // The last good set serves, and the clients have had enough answers to judge.
    let last = digest_of(&good);
    served(&last, "the last good set served");
    common::wait_until("more than 50 answers", || {
        answers.load(Ordering::Relaxed) > 50
    });
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    let wrong = wrong.lock().unwrap();
    assert!(
        wrong.is_empty(),
        "{} bad answers, first: {:?}",
        wrong.len(),
        wrong.first()
    );
    assert!(
        answers.load(Ordering::Relaxed) > 50,
        "too few answers to judge"
    );
    assert!(
        seen.lock().unwrap().len() >= 3,
        "good sets were swapped in under load"
    );
    assert_eq!(server.health()["digest"], last.as_str());
    let metrics = server.get("/metrics").1;
    let refused = server.reloads("refused");
    assert!(
        refused >= refusals && refusals >= 2,
        "broken, case-failing and incomplete sets are refused ({refusals} made): {metrics}"
    );
}

#[test]
fn a_refused_set_is_reported_remembered_and_the_old_one_serves() {
    let _machine = common::exclusive();
    let dir = rules_copy();
    let server = Server::start(dir.path(), &["--watch-ms", "20", "--settle-ms", "10"]);
    let first = server.health()["digest"].as_str().unwrap().to_owned();
    assert_eq!(server.health()["status"], "ok");
    // It loads and checks, but a longer minimum period fails the shipped art. 3 cases.
    let path = dir.path().join("ruleset.yaml");
    let text = fs::read_to_string(&path).unwrap();
    let from = "minimum_period_months: 1\n";
    assert!(text.contains(from), "ruleset.yaml fixes the minimum period");
    fs::write(&path, text.replace(from, "minimum_period_months: 2\n")).unwrap();
    common::wait_until("the case-failing set refused", || {
        server.health()["status"] != "ok"
    });
    let health = server.health();
    assert_eq!(health["status"], "reload_refused", "{health}");
    assert_eq!(health["digest"], first.as_str(), "the old set serves");
    let report = &health["last_reload"];
    assert_eq!(report["result"], "refused");
    assert_ne!(report["digest"], first.as_str());
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .contains("minimum_period_end: expected"),
        "{report}"
    );
    assert_eq!(server.post("/v1/evaluate", CASE).0, 200);
    // Many ticks later it has been tried once, not at every tick.
    thread::sleep(Duration::from_millis(500));
    let metrics = server.get("/metrics").1;
    assert!(
        metrics.contains("yakkan_reloads_total{result=\"refused\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("yakkan_reload_last_refused 1"),
        "{metrics}"
    );
    // Edited back to the set in service: the refusal no longer stands.
    fs::write(&path, text).unwrap();
    common::wait_until("the folder edited back read", || {
        server.health()["status"] == "ok"
    });
    let health = server.health();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(
        health["last_reload"]["result"], "refused",
        "the history stays"
    );
    assert!(
        server
            .get("/metrics")
            .1
            .contains("yakkan_reload_last_refused 0")
    );
}

#[test]
fn serve_flags_out_of_range_are_usage_errors() {
    let _machine = common::exclusive();
    for flags in [
        ["--watch-ms", "0"],
        ["--watch-ms", "99999999999"],
        ["--settle-ms", "0"],
        ["--read-timeout-ms", "0"],
        ["--max-requests", "0"],
        ["--queue-per-core", "0"],
        ["--max-batch", "0"],
        // Less than the answer limit (32 MiB): no such answer could be held.
        ["--held-bytes", "16777216"],
    ] {
        let mut child = yakkan()
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(flags)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A server that starts anyway is stopped, and the test fails.
        let deadline = Instant::now() + Duration::from_secs(5);
        while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
        }
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{flags:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(flags[0]), "{stderr}");
    }
}

/// A case of `n` contracts with 10 options each and `n` requests.
fn heavy_case(n: usize) -> String {
    let kinds = ["web_gateway", "firewall_type1", "firewall_type2"];
    let contracts: Vec<Value> = (0..n)
        .map(|i| {
            json!({"id": format!("C-{i}"), "kind": kinds[i % 3], "accounts": 100,
                "formed": "2026-04-10", "billing_start": "2026-04-15",
                "fees": {"basic_monthly": "20000", "per_account_monthly": "300"},
                "options": vec![json!({"kind": "dedicated_ip"}); 10]})
        })
        .collect();
    let requests: Vec<Value> = (0..n)
        .map(|i| match i % 3 {
            0 => json!({"type": "terminate", "contract": format!("C-{i}"), "notice_arrived": "2026-04-12"}),
            1 => json!({"type": "outage_credit", "contract": format!("C-{i}"), "attributable_to_provider": true,
                "total": true, "known_at": "2026-05-01T00:00:00", "restored_at": "2026-05-03T01:00:00",
                "claimed_on": "2026-05-04"}),
            _ => json!({"type": "add_option", "date": "2026-05-01", "contract": format!("C-{i}"), "option": "web_sandbox"}),
        })
        .collect();
    json!({"as_of": "2026-05-20", "contracts": contracts, "requests": requests}).to_string()
}

#[test]
fn healthz_answers_quickly_while_evaluations_fill_every_core() {
    let _machine = common::exclusive();
    // Evaluation is fast: a case ten times the default limits keeps a core busy long
    // enough that an evaluation in the way of /healthz would show.
    let server = Arc::new(Server::start(
        &project().join("rules"),
        &["--max-contracts", "1000", "--max-requests", "1000"],
    ));
    let heavy = Arc::new(heavy_case(1000));
    let started = Instant::now();
    assert_eq!(server.post("/v1/evaluate", &heavy).0, 200);
    let one = started.elapsed();
    let cores = thread::available_parallelism().map_or(1, usize::from);
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..cores * 2 + 1)
        .map(|_| {
            let (server, heavy, stop) = (server.clone(), heavy.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    assert_eq!(server.post("/v1/evaluate", &heavy).0, 200);
                }
            })
        })
        .collect();
    thread::sleep(one.max(Duration::from_millis(200)));
    let mut times = Vec::new();
    for _ in 0..20 {
        let asked = Instant::now();
        assert_eq!(server.get("/healthz").0, 200);
        times.push(asked.elapsed());
        thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    times.sort();
    // One heavy case takes longer than the bound, so an evaluation in the way would show.
    assert!(
        one > Duration::from_millis(50),
        "the case is not heavy: {one:?}"
    );
    let ninetieth = times[times.len() * 9 / 10 - 1];
    assert!(
        ninetieth < Duration::from_millis(50),
        "healthz took {times:?} while evaluations filled every core"
    );
}

#[test]
fn every_http_error_answers_the_json_error_body() {
    let _machine = common::exclusive();
    let server = Server::start(&project().join("rules"), &["--body-limit", "4096"]);
    let kind_of = |(status, body): (u16, String)| -> (u16, String) {
        let error: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{status} answered {body:?}, not JSON: {e}"));
        assert!(error["error"]["message"].is_string(), "{body}");
        assert!(error["digest"].is_string(), "{body}");
        (status, error["error"]["kind"].as_str().unwrap().to_owned())
    };
    let pair = |status: u16, kind: &str| (status, kind.to_owned());
    assert_eq!(kind_of(server.get("/nowhere")), pair(404, "not_found"));
    assert_eq!(
        kind_of(server.get("/v1/evaluate")),
        pair(405, "method_not_allowed")
    );
    assert_eq!(
        kind_of(server.post("/v1/evaluate", &" ".repeat(5000))),
        pair(413, "payload_too_large")
    );
    let yaml = "as_of: 2026-05-01\n";
    assert_eq!(
        kind_of(server.send("/v1/evaluate", Some("text/plain"), yaml.as_bytes())),
        pair(415, "unsupported_media_type")
    );
    assert_eq!(
        kind_of(server.send("/v1/evaluate/batch", Some("application/yaml"), b"[]")),
        pair(415, "unsupported_media_type")
    );
    assert_eq!(
        kind_of(server.send(
            "/v1/evaluate",
            Some("application/json"),
            b"{\"as_of\": \"\xff\"}"
        )),
        pair(400, "input")
    );
    // YAML is read when the content type says so, and only then.
    let (status, body) = server.send("/v1/evaluate", Some("application/yaml"), yaml.as_bytes());
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        kind_of(server.post("/v1/evaluate", yaml)),
        pair(400, "input")
    );
    let (status, body) = server.send("/v1/evaluate", None, CASE.as_bytes());
    assert_eq!(status, 200, "no content type: JSON, {body}");
    // Text after the case is an error, as it is for a batch.
    let (status, body) = server.post("/v1/evaluate", &format!("{CASE}\n{CASE}"));
    assert_eq!(kind_of((status, body.clone())), pair(400, "input"));
    assert!(body.contains("text after the document"), "{body}");
    assert_eq!(
        kind_of(server.post("/v1/evaluate/batch", &format!("[{CASE}] []"))),
        pair(400, "input")
    );
    assert_eq!(
        kind_of(server.get("/v1/rules?when=today")),
        pair(400, "input")
    );
    // Aliases are refused in YAML bodies.
    let alias = "as_of: &d 2026-05-01\ncustomer: { id: *d }\n";
    let (status, body) = server.send("/v1/evaluate", Some("application/yaml"), alias.as_bytes());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("anchor"), "{body}");
    // A path that does not decode is the JSON 404, not text.
    assert_eq!(kind_of(server.get("/%ff")), pair(404, "not_found"));
    // An empty body says so, at line 1, column 1.
    for route in ["/v1/evaluate", "/v1/evaluate/batch"] {
        let (status, body) = server.post(route, "");
        assert_eq!(kind_of((status, body.clone())), pair(400, "input"));
        let error: Value = serde_json::from_str(&body).unwrap();
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains("empty"),
            "{body}"
        );
        assert_eq!(
            (
                error["error"]["line"].clone(),
                error["error"]["column"].clone()
            ),
            (json!(1), json!(1)),
            "{body}"
        );
    }
}

/// Query values are percent-decoded, as any HTTP client may encode them.
#[test]
fn query_values_are_percent_decoded() {
    let server = Server::start(&project().join("rules"), &[]);
    let (status, body) = server.post("/v1/evaluate?explain=%74rue&as_of=2026%2D06%2D30", CASE);
    assert_eq!(status, 200, "{body}");
    let ruling: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ruling["as_of"], "2026-06-30");
    assert!(body.contains("\"explain\":{"), "explained: {body}");
    let rules = server.json("/v1/rules?as_of=2026%2D05%2D01");
    assert_eq!(rules["as_of"], "2026-05-01");
}

#[test]
fn slow_clients_are_cut_off() {
    let _machine = common::exclusive();
    let server = Server::start(&project().join("rules"), &["--read-timeout-ms", "300"]);
    // Headers that never end: the connection is closed, not held.
    let mut slow = TcpStream::connect(&server.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    slow.write_all(b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a slow header was held {:?}",
        started.elapsed()
    );
    // A body that stops short: 408 with the JSON error body.
    let mut short = TcpStream::connect(&server.addr).unwrap();
    short
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    short
        .write_all(b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"as_of\"")
        .unwrap();
    let started = Instant::now();
    let mut answer = String::new();
    let _ = short.read_to_string(&mut answer);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"kind\":\"timeout\""), "{answer}");
}

#[test]
fn case_sizes_are_capped_over_http_and_on_the_command_line() {
    let _machine = common::exclusive();
    let server = Server::start(&project().join("rules"), &["--max-requests", "1"]);
    let two = CASE.replace(
        r#""requests": [{"type": "terminate", "contract": "WG-1", "notice_arrived": "2026-04-12"}]"#,
        r#""requests": [{"type": "terminate", "contract": "WG-1", "notice_arrived": "2026-04-12"},
            {"type": "terminate", "contract": "WG-1", "notice_arrived": "2026-04-13"}]"#,
    );
    let (status, body) = server.post("/v1/evaluate", &two);
    assert_eq!(status, 400, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["path"], "requests");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_requests")
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two.json");
    fs::write(&file, &two).unwrap();
    let output = yakkan()
        .args(["eval", "--max-requests", "1"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("requests: 2 requests; at most 1"),
        "{stderr}"
    );
}

#[test]
fn dates_past_9999_are_input_errors() {
    let _machine = common::exclusive();
    let far = CASE
        .replace("2026-05-20", "9999-12-20")
        .replace("2026-04-10", "9999-12-01")
        .replace("2026-04-15", "9999-12-15")
        .replace("2026-04-12", "9999-12-12");
    let mut child = yakkan()
        .args(["eval", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(far.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&output.stdout).contains("+10000"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("off the calendar"), "{stderr}");
}

/// Runs a command whose reader has gone: it must end quietly, with exit code 0.
fn with_closed_stdout(args: &[&str]) {
    let mut child = yakkan()
        .args(args)
        .current_dir(project())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

#[test]
fn a_closed_pipe_ends_commands_quietly() {
    let _machine = common::exclusive();
    with_closed_stdout(&["rules"]);
    with_closed_stdout(&["test", "--coverage", "tests/cases", "examples"]);
    with_closed_stdout(&["eval", "examples/02-early-termination-fee.yaml"]);
    with_closed_stdout(&["check"]);
}

#[test]
fn check_of_a_missing_folder_is_a_usage_error() {
    let _machine = common::exclusive();
    let output = yakkan()
        .args(["check", "--rules", "/no/such/rules"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/no/such/rules"));
}

/// `yakkan eval --jsonl -`, reading standard input as it comes.
fn jsonl_child() -> std::process::Child {
    yakkan()
        .args(["eval", "--jsonl", "-"])
        .current_dir(project())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn jsonl_streams_in_order_with_bad_lines_in_place() {
    let _machine = common::exclusive();
    let mut child = jsonl_child();
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());
    let line = CASE.replace('\n', " ");
    // The first ruling comes out while the input is still open.
    writeln!(input, "{line}").unwrap();
    input.flush().unwrap();
    let (first, output) = {
        let (sender, receiver) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let mut first = String::new();
            output.read_line(&mut first).unwrap();
            sender.send((first, output)).unwrap();
        });
        match receiver.recv_timeout(Duration::from_secs(10)) {
            Ok(read) => read,
            Err(_) => {
                child.kill().unwrap();
                panic!("no ruling while the input was open: the lines are not streamed");
            }
        }
    };
    let ruling: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(ruling["requests"][0]["decision"], "accepted");
    // Order is kept and a bad line answers in its place.
    writeln!(
        input,
        "{{\"as_of\": \"nope\"}}\n\n{}",
        line.replace("2026-05-20", "2026-05-21")
    )
    .unwrap();
    drop(input);
    let rest: Vec<Value> = output
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[0]["line"], 2);
    assert!(rest[0]["error"].as_str().unwrap().contains("as_of"));
    assert_eq!(rest[1]["as_of"], "2026-05-21");
    assert_eq!(child.wait().unwrap().code(), Some(2));
}

/// Peak resident memory of a process, from /proc (Linux).
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn jsonl_memory_stays_flat_however_long_the_input() {
    let _machine = common::exclusive();
    let mut child = jsonl_child();
    let pid = child.id();
    let mut input = child.stdin.take().unwrap();
    let output = child.stdout.take().unwrap();
    let counted = thread::spawn(move || BufReader::new(output).lines().count());
    // 100,000 lines of ~1.2 kB (120 MB): mostly unreadable cases, which cost the
    // reader little time, and a ruled one every 500 lines.
    let bad = format!(
        "{{\"as_of\": \"2026-05-01\", \"customer\": {{\"id\": \"{}\"}}, \"oops\": 1}}\n",
        "x".repeat(1150)
    );
    let good = format!("{}\n", CASE.replace('\n', " "));
    let lines = 100_000;
    for i in 0..lines {
        let line = if i % 500 == 0 { &good } else { &bad };
        input.write_all(line.as_bytes()).unwrap();
    }
    let peak = peak_rss_kb(pid);
    drop(input);
    assert_eq!(counted.join().unwrap(), lines);
    assert_eq!(child.wait().unwrap().code(), Some(2));
    if let Some(peak) = peak {
        assert!(peak < 100 * 1024, "peak RSS {peak} kB for {lines} lines");
    }
}

/// Places among the admitted are for evaluation: with one place a core, a burst of heavy
/// cases gets 503 `unavailable` for those past the places, and 200 once they are free.
#[test]
fn evaluations_past_the_admission_bound_get_503() {
    let _machine = common::exclusive();
    let server = Arc::new(Server::start(
        &project().join("rules"),
        &["--queue-per-core", "1"],
    ));
    let heavy = Arc::new(heavy_case(60));
    let cores = thread::available_parallelism().map_or(1, usize::from);
    let statuses: Vec<(u16, String)> = (0..cores * 6)
        .map(|_| {
            let (server, heavy) = (server.clone(), heavy.clone());
            thread::spawn(move || server.post("/v1/evaluate", &heavy))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let refused: Vec<&String> = statuses
        .iter()
        .filter(|(status, _)| *status == 503)
        .map(|(_, body)| body)
        .collect();
    assert!(
        !refused.is_empty(),
        "no 503 among {} heavy cases",
        statuses.len()
    );
    let error: Value = serde_json::from_str(refused[0]).unwrap();
    assert_eq!(error["error"]["kind"], "unavailable");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--queue-per-core")
    );
    assert!(statuses.iter().any(|(status, _)| *status == 200));
    assert!(
        statuses
            .iter()
            .all(|(status, _)| matches!(status, 200 | 503))
    );
    // Health is not an evaluation; and the places are given back.
    assert_eq!(server.get("/healthz").0, 200);
    assert_eq!(server.post("/v1/evaluate", CASE).0, 200);
}

/// A body being received holds no place: 40 clients that send their headers and never
/// finish their bodies, with one place a core, keep no evaluation waiting (128 such
/// clients once shut out every evaluation for the read timeout, 10 s).
#[test]
fn slow_bodies_hold_no_place_among_the_admitted() {
    let _machine = common::exclusive();
    let server = Server::start(&project().join("rules"), &["--queue-per-core", "1"]);
    let slow: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut stream = TcpStream::connect(&server.addr).unwrap();
            stream
                .write_all(b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"as")
                .unwrap();
            stream
        })
        .collect();
    // Every slow client's headers are in (each has taken its first bytes).
    common::wait_until("the slow bodies held", || held_bytes(&server) >= 40 * 4);
    for _ in 0..5 {
        let (status, body) = server.post("/v1/evaluate", CASE);
        assert_eq!(status, 200, "{body}");
    }
    drop(slow);
}

/// `yakkan_held_bytes` from `/metrics`.
fn held_bytes(server: &Server) -> u64 {
    server
        .get("/metrics")
        .1
        .lines()
        .find_map(|l| l.strip_prefix("yakkan_held_bytes "))
        .map_or(0, |n| n.trim().parse().unwrap())
}

/// Bodies being received take their bytes from `--held-bytes` as they arrive: once they
/// hold it, another body gets 503; the bytes come back when the slow body is cut off.
#[test]
fn bodies_in_flight_are_bounded_by_held_bytes() {
    let _machine = common::exclusive();
    let server = Server::start(
        &project().join("rules"),
        &[
            "--held-bytes",
            "1048576",
            "--answer-limit",
            "524288",
            "--read-timeout-ms",
            "3000",
        ],
    );
    let mut slow = TcpStream::connect(&server.addr).unwrap();
    slow.write_all(b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
        .unwrap();
    slow.write_all(&vec![b' '; 700_000]).unwrap();
    common::wait_until("700 kB of a body held", || held_bytes(&server) >= 700_000);
    let padded = format!("{CASE}{}", " ".repeat(500_000));
    let (status, body) = server.post("/v1/evaluate", &padded);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("--held-bytes"), "{body}");
    // The slow body is cut off at the read timeout, and its bytes are given back.
    common::wait_until("the slow body's bytes given back", || {
        held_bytes(&server) == 0
    });
    let (status, body) = server.post("/v1/evaluate", &padded);
    assert_eq!(status, 200, "{body}");
    drop(slow);
}

/// A batch's work out is bounded as its work in: at most `--max-batch` cases, and an
/// answer of at most `--answer-limit` bytes (a 1 MiB batch of `{}` once got a 98 MB
/// answer).
#[test]
fn a_batch_is_bounded_by_its_cases_and_its_answer_bytes() {
    let server = Server::start(
        &project().join("rules"),
        &["--max-batch", "10", "--answer-limit", "65536"],
    );
    let batch = |n: usize, case: &str| format!("[{}]", vec![case; n].join(","));
    let (status, body) = server.post("/v1/evaluate/batch", &batch(11, "{}"));
    assert_eq!(status, 413, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["kind"], "payload_too_large");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("holds 11 cases")
    );
    // Ten rulings of about 0.7 kB each fit; with every rule explained, about 12.7 kB each,
    // they do not.
    let (status, body) = server.post("/v1/evaluate/batch", &batch(10, CASE));
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.post("/v1/evaluate/batch?explain=all", &batch(10, CASE));
    assert_eq!(status, 413, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["kind"], "answer_too_large");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--answer-limit")
    );
}

/// An answer holds its bytes until it is sent; a client that never reads it is cut off
/// once a write has waited the read timeout, and the bytes come back (20 such clients
/// once grew the server from 500 MB to 2.45 GB).
#[test]
fn an_answer_never_read_is_given_up_at_the_write_timeout() {
    let _machine = common::exclusive();
    let server = Server::start(
        &project().join("rules"),
        &["--max-batch", "2000", "--read-timeout-ms", "1000"],
    );
    // About 25 MB of rulings: more than loopback's socket buffers take.
    let body = format!("[{}]", vec![CASE; 2000].join(","));
    let mut reader = TcpStream::connect(&server.addr).unwrap();
    write!(
        reader,
        "POST /v1/evaluate/batch?explain=all HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    common::wait_until("the answer held", || held_bytes(&server) > 10_000_000);
    common::wait_until("the unread answer given up", || held_bytes(&server) == 0);
    // The connection was closed under it: reading ends short of the whole answer.
    reader
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = reader.read_to_end(&mut answer);
    assert!(answer.len() < 20_000_000, "{} bytes read", answer.len());
    assert_eq!(server.post("/v1/evaluate", CASE).0, 200);
}

/// Rule edits that once killed the server or stopped hot reload for good: each is refused
/// with its reason in `/healthz`, the last good set keeps serving, and once the edit is
/// undone the folder is read again. The expression and the self-holding default
/// overflowed the reload thread's stack (exit 134); a file that is not UTF-8 was never
/// reported; a FIFO named `*.yaml` hung `check` and the reload thread.
#[test]
fn hostile_rule_edits_are_refused_and_the_last_good_set_serves() {
    let _machine = common::exclusive();
    let dir = rules_copy();
    let server = Server::start(dir.path(), &["--watch-ms", "20", "--settle-ms", "10"]);
    let good = server.digest();
    let lets: String = (0..40_000).map(|i| format!("let v{i} = {i}; ")).collect();
    let expression = format!(
        "article: 99\ntitle: {{ ja: x, en: x }}\nparagraphs: [x]\nfacts:\n  - {{ name: huge, type: bool, ref: \"99\", description: {{ ja: x, en: x }}, value: \"{lets}v1 > 0\" }}\n"
    );
    let model = fs::read_to_string(dir.path().join("model.yaml")).unwrap();
    let own_default = "      per_account_monthly: { type: yen, default: \"0\", description: \"アカウント使用料 per account per month, in yen\" }";
    assert!(model.contains(own_default));
    let holds_itself = model.replacen(
        own_default,
        &format!("{own_default}\n      more: {{ type: fees, default: {{}} }}"),
        1,
    );
    let fifo = dir.path().join("art-97-fifo.yaml");
    type Edit = Box<dyn Fn(&Path)>;
    let edits: Vec<(&str, Edit, Edit, &str)> = vec![
        (
            "a 0.74 MB expression",
            Box::new(move |d| fs::write(d.join("art-99-huge.yaml"), &expression).unwrap()),
            Box::new(|d| fs::remove_file(d.join("art-99-huge.yaml")).unwrap()),
            "an expression may have at most 16384",
        ),
        (
            "a default holding its own record",
            Box::new(move |d| fs::write(d.join("model.yaml"), &holds_itself).unwrap()),
            Box::new(move |d| fs::write(d.join("model.yaml"), &model).unwrap()),
            "reading a case would never end",
        ),
        (
            "a file not UTF-8",
            Box::new(|d| {
                fs::write(d.join("art-98-latin1.yaml"), b"article: 98\ntitle: \xe9\n").unwrap()
            }),
            Box::new(|d| fs::remove_file(d.join("art-98-latin1.yaml")).unwrap()),
            "art-98-latin1.yaml:2:8: the file is not UTF-8 at line 2, column 8 (byte 20)",
        ),
        (
            "a FIFO named like a rule file",
            Box::new(move |_| {
                let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
                assert!(made.success());
            }),
            Box::new(|d| fs::remove_file(d.join("art-97-fifo.yaml")).unwrap()),
            "art-97-fifo.yaml: the file is not a regular file",
        ),
    ];
    for (what, edit, undo, reason) in &edits {
        edit(dir.path());
        common::wait_until(what, || server.health()["status"] == "reload_refused");
        let health = server.health();
        assert_eq!(
            health["digest"],
            good.as_str(),
            "{what}: the good set serves"
        );
        let said = health["last_reload"]["reason"].as_str().unwrap().to_owned();
        assert!(said.contains(reason), "{what}: `{reason}` not in\n{said}");
        let (status, body) = server.post("/v1/evaluate", CASE);
        assert_eq!(status, 200, "{what}: {body}");
        assert!(body.contains(&good), "{what}: ruled by the good set");
        // `check` says the same and ends, rather than hanging or overflowing.
        let checked = yakkan()
            .args(["check", "--rules"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(checked.status.code(), Some(1), "{what}");
        assert!(
            String::from_utf8_lossy(&checked.stdout).contains(reason)
                || String::from_utf8_lossy(&checked.stderr).contains(reason),
            "{what}: check does not say `{reason}`"
        );
        undo(dir.path());
        common::wait_until(what, || server.health()["status"] == "ok");
    }
    assert_eq!(server.digest(), good);
}

/// `serve` proves the set it starts with as a reload proves a new one: a set whose own
/// example cases fail is not served at all (it used to be, until the first reload).
#[test]
fn serve_refuses_to_start_with_a_set_its_cases_fail() {
    let dir = rules_copy();
    common::edit(
        dir.path(),
        "ruleset.yaml",
        "minimum_period_months: 1\n",
        "minimum_period_months: 2\n",
    );
    let output = yakkan()
        .args(["serve", "--addr", "127.0.0.1:0", "--rules"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the rule set is not served"), "{stderr}");
    assert!(stderr.contains("minimum_period_end: expected"), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("listening on"));
}
