//! The harness against a target that misbehaves (tests/fault): it recognises and deletes a
//! client whose registration answer is odd, redacts its secrets by value everywhere, keeps a
//! ledger of what it could not delete and fails the run for it, deletes it later with
//! `cleanup`, and survives endless, silent and reset answers without ballooning or hanging.

mod fault;

use std::path::{Path, PathBuf};
use std::process::Output;

use dcr_harness::testing::test_pki;
use fault::{FaultTarget, Faults};

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A project copy whose ledgers land in a temp dir.
fn project_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    dcr_harness::testing::copy_project(dir.path());
    dir
}

/// Runs the binary off the async runtime (the fault target lives on it).
async fn harness(args: Vec<String>) -> Output {
    test_pki();
    tokio::task::spawn_blocking(move || {
        dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness"))
            .args(&args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run dcr-harness")
    })
    .await
    .expect("join")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// `run` of the plain profile in the project copy `root` against the fault target, with more
/// arguments.
async fn run_plain(root: &Path, target: &FaultTarget, more: &[&str]) -> Output {
    let root = root.display().to_string();
    let mut all = args(&["run", "--root", &root, "--profile", "rfc7591-plain", "--target", &target.url]);
    all.extend(args(more));
    harness(all).await
}

fn ledgers(root: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(root.join(".dcr-harness/ledgers"))
        .map(|d| d.map(|e| e.expect("entry").path()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_odd_answer_is_recognised_redacted_and_what_cannot_be_deleted_is_ledgered_and_cleaned_up() {
    let faults = Faults { bom: true, ..Faults::default() };
    // The preflight's probe may be deleted; nothing after it.
    faults.allowed_deletes.store(1, std::sync::atomic::Ordering::SeqCst);
    let target = FaultTarget::start(faults).await;
    let dir = project_copy();
    let root = dir.path().display().to_string();
    let report = dir.path().join("out/run.json");
    let junit = dir.path().join("out/junit.xml");
    let reports = format!("json={},junit={}", report.display(), junit.display());
    let run = run_plain(
        dir.path(),
        &target,
        &[
            "--scenario",
            "metadata-minimal-registration",
            "--scenario",
            "lifecycle-read-returns-the-registration",
            "--report",
            &reports,
        ],
    )
    .await;
    let said = text(&run);
    assert_eq!(run.status.code(), Some(6), "clients left fail the run:\n{said}");
    assert_eq!(target.registered(), 2, "both scenarios' clients are still there: the deletes were refused");
    let ledger = ledgers(dir.path());
    assert_eq!(ledger.len(), 1, "one ledger names them");
    let ledger = ledger[0].display().to_string();
    assert!(said.contains(&format!("dcr-harness cleanup {ledger}")), "the run says how to delete them:\n{said}");
    let json = std::fs::read_to_string(&report).expect("json report");
    let xml = std::fs::read_to_string(&junit).expect("junit report");
    assert!(xml.contains("<error") && xml.contains("clients left"), "JUnit carries an error: {xml}");
    for secret in target.secrets() {
        for (what, output) in [("terminal", &said), ("JSON report", &json), ("JUnit report", &xml)] {
            assert!(!output.contains(&secret), "{secret} leaked into the {what}");
        }
    }
    let passed = json.matches("\"verdict\": \"pass\"").count() + json.matches("\"verdict\":\"pass\"").count();
    assert_eq!(passed, 2, "a BOM before JSON is still the registration: {json}");

    target.faults.allowed_deletes.store(usize::MAX, std::sync::atomic::Ordering::SeqCst);
    let cleanup = harness(args(&["cleanup", &ledger, "--root", &root])).await;
    assert_eq!(cleanup.status.code(), Some(0), "{}", text(&cleanup));
    assert_eq!(target.registered(), 0, "cleanup deleted what the ledger named");
    assert!(ledgers(dir.path()).is_empty(), "and removed the ledger");
}

#[tokio::test(flavor = "multi_thread")]
async fn endless_silent_and_reset_reads_end_the_scenario_not_the_harness() {
    for faults in [
        Faults { endless_reads: true, ..Faults::default() },
        Faults { silent_reads: true, ..Faults::default() },
        Faults { reset_reads: true, ..Faults::default() },
    ] {
        let described = format!("{faults:?}");
        let target = FaultTarget::start(faults).await;
        let dir = project_copy();
        let report = dir.path().join("run.json");
        let started = std::time::Instant::now();
        let json = format!("json={}", report.display());
        let run = run_plain(
            dir.path(),
            &target,
            &["--scenario", "lifecycle-read-returns-the-registration", "--report", &json],
        )
        .await;
        let said = text(&run);
        assert_eq!(run.status.code(), Some(1), "{described}: the read fails its MUST:\n{said}");
        assert!(!said.contains("panicked"), "{described}: {said}");
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "{described}: took {:?}", started.elapsed());
        assert_eq!(target.registered(), 0, "{described}: the client was deleted all the same");
        let size = std::fs::metadata(&report).expect("report").len();
        assert!(size < 2 * 1024 * 1024, "{described}: a {size}-byte report from an endless body");
    }
}

/// SIGTERM in the middle of a scenario: the running step ends, the client is deleted, the
/// run exits 130, and no ledger is left because nothing is left on the target.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_mid_scenario_deletes_what_was_registered() {
    let target = FaultTarget::start(Faults::default()).await;
    let dir = project_copy();
    std::fs::copy(project().join("fixtures/scenarios/long-wait.yaml"), dir.path().join("scenarios/zz-long-wait.yaml"))
        .expect("copy");
    test_pki();
    let root = dir.path().display().to_string();
    let url = target.url.clone();
    let child = dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness"))
        .args(["run", "--root", &root, "--profile", "rfc7591-plain", "--target", &url, "--scenario", "long-wait"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Registered (the preflight's probe is deleted at once), then waiting.
    let started = std::time::Instant::now();
    while target.registered() == 0 && started.elapsed() < std::time::Duration::from_secs(20) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(target.registered(), 1, "the scenario registered its client");
    // Into its wait (the probe's client of the preflight, if that was the one seen, is gone).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let killed = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().expect("wait")).await.expect("join");
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert_eq!(target.registered(), 0, "the interrupted scenario deleted its client");
    assert!(ledgers(dir.path()).is_empty(), "nothing left, so no ledger");
}

/// The profile's limits reach the transport: with `response_body_kib: 16` an endless body is
/// cut at 16 KiB and the step says so.
#[tokio::test(flavor = "multi_thread")]
async fn the_profiles_body_limit_cuts_an_endless_body() {
    let target = FaultTarget::start(Faults { endless_reads: true, ..Faults::default() }).await;
    let dir = project_copy();
    let profile = dir.path().join("profiles/rfc7591-plain.yaml");
    let limited = std::fs::read_to_string(&profile).expect("profile") + "limits: { response_body_kib: 16 }\n";
    std::fs::write(&profile, limited).expect("write");
    let report = dir.path().join("run.json");
    let json = format!("json={}", report.display());
    let run =
        run_plain(dir.path(), &target, &["--scenario", "lifecycle-read-returns-the-registration", "--report", &json])
            .await;
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let written = std::fs::read_to_string(&report).expect("report");
    assert!(written.contains("\"truncated\": true"), "the cut is recorded");
    assert!(written.len() < 64 * 1024, "a {}-byte report from a 16 KiB limit", written.len());
}
