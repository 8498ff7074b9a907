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
    // Other requests still work.
    let (status, _) = server.post("/v1/evaluate", CASE);
    assert_eq!(status, 200);
    assert_eq!(server.json("/healthz")["status"], "ok");
}
