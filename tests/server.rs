#![cfg(feature = "server")]
//! `yakkan serve` over a real socket on loopback: evaluate, bad input, body limit, batch,
//! rules, metrics, hot reload (good and broken sets, under concurrent requests, and on
//! SIGHUP), and a looping rule that is stopped while the server keeps serving.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use common::{CASE, SIXTY_ACCOUNTS, Server, edit, failing_rules, project, rules_copy, wait_until};

#[test]
fn evaluates_and_reports_bad_input() {
    let server = Server::start(&project().join("rules"), &["--body-limit", "4096"]);
    let (status, body) = server.post("/v1/evaluate", CASE);
    assert_eq!(status, 200, "{body}");
    let ruling: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        ruling["requests"][0]["values"]["early_termination_fee"],
        "3333"
    );
    assert_eq!(ruling["ruleset"]["digest"], server.digest().as_str());

    let bad = CASE.replace(
        "\"notice_arrived\": \"2026-04-12\"",
        "\"notice_arrived\": \"2026-04-31\"",
    );
    let (status, body) = server.post("/v1/evaluate", &bad);
    assert_eq!(status, 400, "{body}");
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["kind"], "input");
    assert_eq!(error["error"]["path"], "requests[0].notice_arrived");
    assert_eq!(error["error"]["line"], 3);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2026-04-31")
    );

    let (status, _) = server.post("/v1/evaluate", &" ".repeat(5000));
    assert_eq!(status, 413);
    let (status, _) = server.post("/v1/evaluate", "not a case");
    assert_eq!(status, 400);
}

#[test]
fn batches_rules_health_and_metrics() {
    let server = Server::start(&project().join("rules"), &[]);
    let batch = format!("[{CASE}, {{\"as_of\": \"nope\"}}, {CASE}]");
    let (status, body) = server.post("/v1/evaluate/batch", &batch);
    assert_eq!(status, 200, "{body}");
    let results: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["requests"][0]["decision"], "accepted");
    assert_eq!(results[1]["error"]["path"], "as_of");
    assert_eq!(results[2], results[0]);
    assert_eq!(server.post("/v1/evaluate/batch", "{}").0, 400);

    let before = server.json("/v1/rules?as_of=2026-03-31");
    let after = server.json("/v1/rules?as_of=2026-04-01");
    assert_eq!(before["ruleset"]["in_force"], "2022-09-01");
    assert_eq!(after["ruleset"]["in_force"], "2026-04-01");
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(!ids(&before).contains(&"art6-2-sandbox-needs-gateway".to_owned()));
    assert!(ids(&after).contains(&"art6-2-sandbox-needs-gateway".to_owned()));
    assert_eq!(server.get("/v1/rules?as_of=2026-02-30").0, 400);

    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("yakkan_requests_total{route=\"/v1/evaluate/batch\",status=\"200\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("yakkan_errors_total{kind=\"input\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("yakkan_request_duration_seconds_bucket{route=\"/v1/rules\""),
        "{metrics}"
    );
    let digest = server.digest();
    assert!(
        metrics.contains(&format!(
            "yakkan_ruleset_info{{digest=\"{digest}\",name=\"iij-secure-access\"}} 1"
        )),
        "{metrics}"
    );
}

#[test]
fn reloads_under_load_and_refuses_a_broken_set() {
    let dir = rules_copy();
    let server = Arc::new(Server::start(dir.path(), &["--watch-ms", "100"]));
    let first = server.digest();

    // Clients keep evaluating throughout both reloads; none may fail.
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (server, stop, failures, served) = (
                server.clone(),
                stop.clone(),
                failures.clone(),
                served.clone(),
            );
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (status, _) = server.post("/v1/evaluate", CASE);
                    if status == 200 {
                        served.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();

    // A good change: the fee message changes wording, so the digest changes.
    edit(
        dir.path(),
        "art-13-early-termination.yaml",
        "の金額 {early_termination_fee} 円を",
        "の金額 {early_termination_fee} 円を、",
    );
    assert!(
        server.wait_for_change(&first, common::STEP_BOUND),
        "the good set was not reloaded"
    );
    let second = server.digest();
    let (_, body) = server.post("/v1/evaluate", CASE);
    assert!(
        body.contains(&second),
        "rulings name the digest they were made with"
    );

    // A broken change: refused, the second set keeps serving.
    edit(
        dir.path(),
        "art-05-accounts.yaml",
        "is_whole(accounts)",
        "is_whole(accounts",
    );
    // Waited for until the server has refused it, however long that takes here.
    wait_until("the broken set refused", || server.reloads("refused") >= 1);
    assert_eq!(
        server.digest(),
        second,
        "a broken set must not replace a good one"
    );

    // Enough answers to judge, counted rather than timed.
    wait_until("more than 20 answers served", || {
        served.load(Ordering::Relaxed) + failures.load(Ordering::Relaxed) > 20
    });
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    assert_eq!(failures.load(Ordering::Relaxed), 0);
    assert!(
        served.load(Ordering::Relaxed) > 20,
        "only {} served",
        served.load(Ordering::Relaxed)
    );
}

#[cfg(unix)]
#[test]
fn reloads_on_sighup() {
    let dir = rules_copy();
    // The folder watch is slowed right down: only the signal can cause this reload.
    let server = Server::start(dir.path(), &["--watch-ms", "600000"]);
    let first = server.digest();
    edit(dir.path(), "art-05-accounts.yaml", "1 単位", "1単位");
    thread::sleep(Duration::from_millis(300));
    assert_eq!(server.digest(), first);
    let killed = Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(
        server.wait_for_change(&first, common::STEP_BOUND),
        "SIGHUP did not reload"
    );
}

#[test]
fn a_failing_rule_is_named_and_the_server_keeps_serving() {
    let dir = failing_rules();
    let server = Server::start(dir.path(), &[]);
    let case = SIXTY_ACCOUNTS;
    let (status, body) = server.post("/v1/evaluate", case);
    assert_eq!(status, 500, "{body}");
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["kind"], "rule");
    assert_eq!(error["error"]["rule"], "art12-payment-duties");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("division by zero"),
        "{body}"
    );
    // Its place as fields, as a 400 body gives an input error's: the `/` that divides.
    let (line, column) = common::place(&dir.path().join("art-12-charges.yaml"), "/ (accounts_on");
    assert_eq!(error["error"]["line"], line, "{body}");
    assert_eq!(error["error"]["column"], column, "{body}");
    // Other requests still work.
    let (status, _) = server.post("/v1/evaluate", CASE);
    assert_eq!(status, 200);
    assert_eq!(server.json("/healthz")["status"], "ok");
}

/// `yakkan eval --format json` of `file` with `flags`, as JSON, judged by the rules the
/// servers here serve (named by the same path, which explanations show).
fn cli_ruling(file: &str, flags: &[&str]) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_yakkan"))
        .args(["eval", "--format", "json", "--rules"])
        .arg(project().join("rules"))
        .args(flags)
        .arg(file)
        .current_dir(project())
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("eval {flags:?} {file}: {e}: {output:?}"))
}

#[test]
fn explain_and_as_of_give_what_the_command_line_gives() {
    let server = Server::start(&project().join("rules"), &[]);
    let file = "examples/02-early-termination-fee.yaml";
    let yaml = std::fs::read_to_string(project().join(file)).unwrap();
    let cases: [(&str, &[&str]); 5] = [
        ("", &[]),
        ("?explain=true", &["--explain"]),
        ("?explain=all", &["--explain=all"]),
        ("?as_of=2026-03-31", &["--as-of", "2026-03-31"]),
        (
            "?explain=all&as_of=2027-01-05",
            &["--explain=all", "--as-of", "2027-01-05"],
        ),
    ];
    for (query, flags) in cases {
        let (status, body) = server.send(
            &format!("/v1/evaluate{query}"),
            Some("application/yaml"),
            yaml.as_bytes(),
        );
        assert_eq!(status, 200, "{query}: {body}");
        let served: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(served, cli_ruling(file, flags), "{query}");
    }
    // The explanations are there (not both sides empty), and only when asked.
    let (_, plain) = server.send("/v1/evaluate", Some("application/yaml"), yaml.as_bytes());
    let (_, all) = server.send(
        "/v1/evaluate?explain=all",
        Some("application/yaml"),
        yaml.as_bytes(),
    );
    assert!(!plain.contains("\"considered\""), "{plain}");
    assert!(all.contains("\"considered\""), "{all}");

    for (query, path, named) in [
        ("?as_of=2026-02-30", "as_of", "2026-02-30"),
        ("?as_of=tomorrow", "as_of", "tomorrow"),
        ("?explain=yes", "explain", "yes"),
        ("?explain=true&verbose=1", "", "verbose"),
        ("?asof=2026-01-01", "", "asof"),
    ] {
        for route in ["/v1/evaluate", "/v1/evaluate/batch"] {
            let body = if route.ends_with("batch") {
                format!("[{CASE}]")
            } else {
                CASE.to_owned()
            };
            let (status, text) = server.post(&format!("{route}{query}"), &body);
            assert_eq!(status, 400, "{route}{query}: {text}");
            let error: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(error["error"]["kind"], "input", "{text}");
            assert_eq!(error["error"]["path"], path, "{text}");
            assert!(
                error["error"]["message"].as_str().unwrap().contains(named),
                "{route}{query}: {text}"
            );
        }
    }
}

/// The cases under `tests/cases/DIR`, as JSON, as other services send them.
fn cases_as_json(dirs: &[&str]) -> Vec<String> {
    let mut cases = Vec::new();
    for dir in dirs {
        let mut files: Vec<_> = std::fs::read_dir(project().join("tests/cases").join(dir))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        for file in files {
            let value: serde_json::Value =
                serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            cases.push(value.to_string());
        }
    }
    cases
}

#[test]
fn batch_rulings_are_the_single_endpoints_bytes_and_errors_carry_their_index() {
    let server = Server::start(&project().join("rules"), &[]);
    let mut cases = cases_as_json(&["art05", "art13", "appx1"]);
    assert!(cases.len() >= 6, "{} cases", cases.len());
    // A bad case among them: its error carries its place.
    let bad_at = 3;
    cases.insert(bad_at, "{\"as_of\": \"nope\"}".to_owned());
    for query in ["", "?explain=all", "?as_of=2026-06-30&explain=true"] {
        let batch = format!("[{}]", cases.join(","));
        let (status, body) = server.post(&format!("/v1/evaluate/batch{query}"), &batch);
        assert_eq!(status, 200, "{body}");
        let results: Vec<Box<serde_json::value::RawValue>> = serde_json::from_str(&body).unwrap();
        assert_eq!(results.len(), cases.len());
        for (i, (case, result)) in cases.iter().zip(&results).enumerate() {
            let (status, single) = server.post(&format!("/v1/evaluate{query}"), case);
            if i == bad_at {
                assert_eq!(status, 400, "{single}");
                let error: serde_json::Value = serde_json::from_str(result.get()).unwrap();
                assert_eq!(error["index"], bad_at, "{}", result.get());
                assert_eq!(error["error"]["path"], "as_of", "{}", result.get());
                let single: serde_json::Value = serde_json::from_str(&single).unwrap();
                assert!(single.get("index").is_none(), "{single}");
            } else {
                assert_eq!(status, 200, "case {i}{query}: {single}");
                assert_eq!(result.get(), single, "case {i}{query}: not the same bytes");
            }
        }
    }
}

#[test]
fn a_415_names_the_content_types_accepted() {
    let server = Server::start(&project().join("rules"), &[]);
    let (status, body) = server.send("/v1/evaluate", Some("text/plain"), CASE.as_bytes());
    assert_eq!(status, 415, "{body}");
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["kind"], "unsupported_media_type");
    let message = error["error"]["message"].as_str().unwrap();
    for kind in [
        "text/plain",
        "application/json",
        "application/yaml",
        "application/x-yaml",
        "text/yaml",
        "text/x-yaml",
    ] {
        assert!(message.contains(kind), "{kind} not in: {message}");
    }
    let (status, body) = server.send(
        "/v1/evaluate/batch",
        Some("application/yaml"),
        b"- as_of: 2026-01-01",
    );
    assert_eq!(status, 415, "{body}");
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("application/json"), "{message}");
    assert!(message.contains("JSON array"), "{message}");
    let (status, body) = server.send(
        "/v1/evaluate",
        Some("application/json; charset=latin1"),
        CASE.as_bytes(),
    );
    assert_eq!(status, 415, "{body}");
    assert!(
        body.contains("UTF-8") && body.contains("text/yaml"),
        "{body}"
    );
}
