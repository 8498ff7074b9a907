//! The decision log of `yakkan serve --decision-log`, and `yakkan replay`: what a new rule
//! set would change in the decisions a service made.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{CASE, Server, edit, project, rules_copy, wait_until};
use yakkan::RuleSet;
use yakkan::decisions::{DecisionLog, Entry, LogConfig};

/// The lines of the log files in `dir`, oldest first; none while `dir` is not a folder.
fn lines_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            fs::read_to_string(f)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_log_rotates_keeps_its_newest_files_and_counts_every_entry() {
    let rules = RuleSet::load(&project().join("rules")).unwrap();
    let case = yakkan::expect::case_from_str(&rules, CASE, None).unwrap();
    let ruling = yakkan::evaluate(&rules, &case).unwrap().to_json();
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        max_file_bytes: 4096,
        max_files: 3,
        queue: 8,
        ..LogConfig::new(dir.path().to_path_buf())
    };
    let log = DecisionLog::open(config).unwrap();
    for _ in 0..200 {
        log.record(&rules, yakkan::Syntax::Json, CASE, None, ruling.as_bytes());
    }
    let dropped = log.dropped();
    drop(log);
    let files: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert!(files.len() <= 3, "{} files kept", files.len());
    for file in &files {
        let size = file.as_ref().unwrap().metadata().unwrap().len();
        assert!(size <= 4096 + 4096, "a file of {size} bytes");
    }
    let lines = lines_in(dir.path());
    assert!(!lines.is_empty());
    // Rotation removed whole old files: what is kept is whole, parseable lines.
    for line in &lines {
        let entry: Entry = serde_json::from_str(line).unwrap();
        assert_eq!(entry.digest, rules.digest);
        assert_eq!(entry.case, CASE);
        let logged = yakkan::Ruling::from_json(entry.ruling.get()).unwrap();
        assert_eq!(logged.to_json(), ruling);
    }
    assert!(dropped <= 200);
}

/// A rollout's SIGTERM (and Ctrl-C's SIGINT) stops `serve` gracefully: every decision
/// answered before it is in the log, synced, and the process exits 0.
#[test]
fn a_terminated_server_loses_no_decision_and_exits_0() {
    let _machine = common::exclusive();
    for signal in ["TERM", "INT"] {
        let log = tempfile::tempdir().unwrap();
        let log_dir = log.path().display().to_string();
        let mut server = Server::start(Path::new("rules"), &["--decision-log", &log_dir]);
        for _ in 0..10 {
            let (status, answer) =
                server.send("/v1/evaluate", Some("application/json"), CASE.as_bytes());
            assert_eq!(status, 200, "{answer}");
        }
        // At once: no time for the log's idle flush.
        let status = server
            .signal_and_wait(signal, Duration::from_secs(20))
            .unwrap_or_else(|| panic!("serve did not stop on SIG{signal}"));
        assert_eq!(status.code(), Some(0), "SIG{signal}: {status}");
        assert_eq!(lines_in(log.path()).len(), 10, "SIG{signal}");
    }
}

#[test]
fn serve_logs_its_decisions_and_replay_reports_what_a_new_set_changes() {
    let _machine = common::exclusive();
    let log = tempfile::tempdir().unwrap();
    let log_dir = log.path().display().to_string();
    let server = Server::start(Path::new("rules"), &["--decision-log", &log_dir]);
    let yaml =
        fs::read_to_string(project().join("examples/02-early-termination-fee.yaml")).unwrap();
    for (content_type, body) in [
        ("application/json", CASE),
        ("application/yaml", yaml.as_str()),
    ] {
        let (status, answer) = server.send("/v1/evaluate", Some(content_type), body.as_bytes());
        assert_eq!(status, 200, "{answer}");
    }
    let (status, answer) = server.send(
        "/v1/evaluate?as_of=2026-06-30",
        Some("application/json"),
        CASE.as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    // The log's thread writes what is queued within a fraction of a second of idling.
    wait_until("three decisions logged", || lines_in(log.path()).len() >= 3);
    drop(server);
    let lines = lines_in(log.path());
    assert_eq!(lines.len(), 3);
    let third: Entry = serde_json::from_str(&lines[2]).unwrap();
    assert_eq!(third.as_of.as_deref(), Some("2026-06-30"));

    let replay = |rules: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_yakkan"))
            .args(["replay", "--rules", rules, "--format", "json", &log_dir])
            .current_dir(project())
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
        (output.status.code(), report)
    };
    // The same rules decide the same: nothing changes, exit 0.
    let (code, report) = replay("rules");
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["summary"]["cases"], 3);
    assert_eq!(report["summary"]["cases_changed"], 0);
    // Notices take 31 days instead of 30: every termination's effective date moves.
    let changed = rules_copy();
    edit(
        changed.path(),
        "ruleset.yaml",
        "notice_days: 30",
        "notice_days: 31",
    );
    let (code, report) = replay(&changed.path().display().to_string());
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["summary"]["cases_changed"], 3, "{report}");
    let rows = report["rulings"].as_array().unwrap();
    assert!(
        rows.iter().any(|r| r["field"] == "values.effective_date"
            && r["before"] == "2026-05-12"
            && r["after"] == "2026-05-13"),
        "{report}"
    );
}

/// The log's folder removed under a running server is created again, and writing goes
/// on; a folder that cannot be made (a file in its place) fails the log, visibly in
/// `/healthz` and `/metrics`, with every entry counted, until it can write again.
#[test]
fn the_log_recovers_its_folder_and_says_when_it_cannot_write() {
    let _machine = common::exclusive();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("decisions");
    let server = Server::start(
        Path::new("rules"),
        &["--decision-log", &dir.display().to_string()],
    );
    let decide = |n: usize| {
        for _ in 0..n {
            let (status, answer) = server.post("/v1/evaluate", CASE);
            assert_eq!(status, 200, "{answer}");
        }
    };
    let log = |field: &str| server.health()["decision_log"][field].clone();
    decide(2);
    wait_until("two decisions logged", || lines_in(&dir).len() == 2);
    assert_eq!(log("status"), "ok");

    fs::remove_dir_all(&dir).unwrap();
    decide(3);
    wait_until("the folder made again", || lines_in(&dir).len() == 3);
    assert_eq!(log("recovered"), 1, "{}", server.health());
    assert_eq!(server.health()["status"], "ok");

    // A file where the folder was: nothing can be written.
    fs::remove_dir_all(&dir).unwrap();
    fs::write(&dir, "not a folder").unwrap();
    decide(4);
    wait_until("the log failing", || log("failed") == 4);
    let health = server.health();
    assert_eq!(health["status"], "decision_log_failing", "{health}");
    assert_eq!(health["decision_log"]["status"], "failing");
    assert!(
        health["decision_log"]["error"]
            .as_str()
            .unwrap()
            .contains("cannot write to"),
        "{health}"
    );
    let metrics = server.get("/metrics").1;
    assert!(
        metrics.contains("yakkan_decisions_total{result=\"failed\"} 4\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("yakkan_decision_log_failing 1\n"),
        "{metrics}"
    );

    // The folder can be made again: the log says so, and writes.
    fs::remove_file(&dir).unwrap();
    wait_until("the log writing again", || log("status") == "ok");
    decide(1);
    wait_until("the next decision logged", || lines_in(&dir).len() == 1);
    assert_eq!(log("recovered"), 2);
    assert_eq!(log("written"), 6);
    assert_eq!(server.health()["status"], "ok");
    assert!(
        server
            .get("/metrics")
            .1
            .contains("yakkan_decisions_total{result=\"written\"} 6\n")
    );
}
