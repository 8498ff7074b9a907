//! The container image: built from the `Dockerfile` and run, it serves the bundled rules.
//! Runs only where a Docker daemon answers and the base images are at hand (this
//! project's machines reach no image registry); otherwise it says that it skipped.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const BASE_IMAGES: [&str; 2] = ["rust:1.88-slim-bookworm", "debian:bookworm-slim"];

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn docker(args: &[&str]) -> Option<String> {
    let output = Command::new("docker").args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Why the test cannot run here, if it cannot.
fn unavailable() -> Option<String> {
    if docker(&["info", "--format", "{{.ServerVersion}}"]).is_none() {
        return Some("no Docker daemon answers".to_owned());
    }
    let missing: Vec<&str> = BASE_IMAGES
        .iter()
        .copied()
        .filter(|image| docker(&["image", "inspect", image]).is_none())
        .collect();
    let may_pull = std::env::var_os("YAKKAN_DOCKER_PULL").is_some();
    (!missing.is_empty() && !may_pull).then(|| {
        format!(
            "base images {} are not present (set YAKKAN_DOCKER_PULL=1 to pull them)",
            missing.join(", ")
        )
    })
}

#[test]
fn the_image_serves_the_bundled_rules() {
    if let Some(reason) = unavailable() {
        // Written past the test harness's capture, so the run's log says it skipped.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the Docker image test did not run: {reason}"
        );
        return;
    }
    let tag = format!("yakkan-test:{}", std::process::id());
    let dir = project().display().to_string();
    assert!(
        Command::new("docker")
            .args(["build", "-t", &tag, &dir])
            .status()
            .unwrap()
            .success(),
        "docker build failed"
    );
    let container = docker(&["run", "-d", "-p", "127.0.0.1::8080", &tag]).expect("docker run");
    let stop = || {
        let _ = docker(&["rm", "-f", &container]);
        let _ = docker(&["rmi", "-f", &tag]);
    };
    let port = docker(&["port", &container, "8080/tcp"]).unwrap_or_default();
    let address = port.lines().next().unwrap_or_default().to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let started = Instant::now();
    let health = loop {
        let answer = agent
            .get(format!("http://{address}/healthz"))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok());
        if let Some(body) = answer {
            break body;
        }
        if started.elapsed() > Duration::from_secs(60) {
            stop();
            panic!("the container did not answer on {address} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    stop();
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    let digest = yakkan::RuleSet::load(&project().join("rules"))
        .unwrap()
        .digest;
    assert_eq!(
        health["digest"],
        digest.as_str(),
        "the image serves the bundled rules"
    );
}
