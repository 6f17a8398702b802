//! A run's traces in a real trace store on 127.0.0.1: Arize Phoenix from PyPI
//! (`scripts/traces-receiver.sh`; this test installs it when it is missing). Every request
//! carries a W3C `traceparent`; `run --otlp URL` exports a span per scenario and, per step, its
//! signing, its requests and its checks; what Phoenix stored is read back by trace id through
//! its own query API, and the request spans are the ones the `traceparent`s named.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use dcr_harness::testing::{test_pki, test_pki_dir};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn script(args: &[&str]) -> std::process::Output {
    Command::new("bash").arg(root().join("scripts/traces-receiver.sh")).args(args).output().expect("bash runs")
}

/// Phoenix, installed and started in a directory of its own; stopped when dropped.
struct Phoenix {
    dir: PathBuf,
    url: String,
}

impl Phoenix {
    fn start() -> Phoenix {
        let home = root().join("target/receivers/phoenix");
        let installed = script(&["install", &home.display().to_string()]);
        assert!(installed.status.success(), "install: {}", String::from_utf8_lossy(&installed.stderr));
        // Phoenix binds its gRPC port (PORT+1) seconds after it starts: within the ephemeral
        // range an outgoing connection can take it first, so the pair is picked below that
        // range, and a start that lost the race anyway is tried on another pair (three at most).
        let mut failures = Vec::new();
        for attempt in 0..3 {
            let port = free_pair_below_ephemeral(attempt);
            let started = script(&["start", &home.display().to_string(), &port.to_string()]);
            if started.status.success() {
                return Phoenix { dir: home, url: String::from_utf8_lossy(&started.stdout).trim().to_string() };
            }
            failures.push(String::from_utf8_lossy(&started.stderr).into_owned());
        }
        panic!("start, three times: {}", failures.join("\n---\n"));
    }

    /// The spans of a trace, waiting (5 s at most) for as many as `least`.
    fn spans(&self, trace_id: &str, least: usize) -> Vec<serde_json::Value> {
        let url = format!("{}/v1/projects/default/spans?trace_id={trace_id}&limit=1000", self.url);
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let out = Command::new("curl").args(["-fsS", &url]).output().expect("curl");
            let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            let spans = body["data"].as_array().cloned().unwrap_or_default();
            if spans.len() >= least || Instant::now() > until {
                return spans;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A port whose successor is free too, both between 20000 and 32000 (below Linux's ephemeral
/// range, 32768 and up), spread by process and attempt.
fn free_pair_below_ephemeral(attempt: u32) -> u16 {
    let seed = std::process::id().wrapping_mul(7919).wrapping_add(attempt.wrapping_mul(104_729));
    (0..200u32)
        .map(|i| 20_000 + (seed.wrapping_add(i * 61) % 12_000) as u16)
        .find(|p| {
            let bound = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
            bound(*p) && bound(p + 1)
        })
        .expect("a free pair of ports below 32000")
}

impl Drop for Phoenix {
    fn drop(&mut self) {
        let _ = script(&["stop", &self.dir.display().to_string()]);
    }
}

#[test]
fn a_runs_spans_reach_a_real_trace_store_joined_by_the_traceparent_of_each_request() {
    let phoenix = Phoenix::start();
    test_pki();
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.json");
    let run = dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness"))
        .args(["run", "--pki", &test_pki_dir().display().to_string(), "--scenario", "digest-wrong"])
        .args(["--scenario", "lifecycle-read-returns-the-registration", "--otlp", &phoenix.url])
        .args(["--report", &format!("json={}", report.display())])
        .output()
        .expect("run");
    let said = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{said}");
    assert!(said.contains("spans exported"), "{said}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    for scenario in report["run"]["scenarios"].as_array().expect("scenarios") {
        let trace_id = scenario["trace_id"].as_str().expect("each scenario names its trace");
        let steps = scenario["steps"].as_array().expect("steps");
        let spans = phoenix.spans(trace_id, 1 + 3 * steps.len());
        let named = |name: &str| spans.iter().filter(|s| s["name"] == name).collect::<Vec<_>>();
        let root = format!("scenario {}", scenario["id"].as_str().unwrap_or_default());
        let [root_span] = named(&root)[..] else { panic!("one {root} span in {spans:#?}") };
        assert!(root_span["parent_id"].is_null(), "the scenario starts its trace");
        let root_id = root_span["context"]["span_id"].as_str().expect("span id");
        for kind in ["sign", "request", "checks"] {
            let spans = named(kind);
            assert!(spans.len() >= steps.len(), "a {kind} span per step: {spans:#?}");
            assert!(spans.iter().all(|s| s["parent_id"] == root_id), "{kind} spans are the scenario's");
        }
        // Each request's traceparent names its request span.
        let request_ids: Vec<&str> = named("request").iter().filter_map(|s| s["context"]["span_id"].as_str()).collect();
        for step in steps {
            let traceparent = step["request"]["headers"]
                .as_array()
                .and_then(|h| h.iter().find(|h| h[0] == "traceparent"))
                .and_then(|h| h[1].as_str())
                .unwrap_or_else(|| panic!("a traceparent on {step:#}"));
            let parts: Vec<&str> = traceparent.split('-').collect();
            assert_eq!(parts[1], trace_id, "{traceparent}");
            assert!(request_ids.contains(&parts[2]), "{traceparent} names a request span: {request_ids:?}");
        }
    }
}
