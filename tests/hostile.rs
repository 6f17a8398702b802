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

/// Every report a run writes, and what it said, for looking for what must not be there.
struct Said {
    exit: Option<i32>,
    texts: Vec<(&'static str, String)>,
}

impl Said {
    fn all(&self) -> String {
        self.texts.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join("\n")
    }

    fn json(&self) -> serde_json::Value {
        let text = &self.texts.iter().find(|(what, _)| *what == "JSON report").expect("json").1;
        serde_json::from_str(text).expect("JSON report parses")
    }

    fn verdict_of(&self, id: &str) -> String {
        let json = self.json();
        let scenarios = json["run"]["scenarios"].as_array().cloned().unwrap_or_default();
        let found = scenarios.iter().find(|s| s["id"] == id);
        found.map(|s| s["verdict"].as_str().unwrap_or_default().to_string()).unwrap_or_else(|| "not run".into())
    }

    fn assert_no_secret_of(&self, target: &FaultTarget) {
        for secret in target.secrets() {
            for (what, text) in &self.texts {
                assert!(!text.contains(&secret), "{secret} leaked into the {what}");
            }
        }
    }
}

/// `run` in a project copy against `target`, with every report written; `profile_extra` is
/// appended to the plain profile.
async fn run_reported(target: &FaultTarget, profile_extra: &str, more: &[&str]) -> (tempfile::TempDir, Said) {
    let dir = project_copy();
    if !profile_extra.is_empty() {
        let profile = dir.path().join("profiles/rfc7591-plain.yaml");
        let text = std::fs::read_to_string(&profile).expect("profile") + profile_extra;
        std::fs::write(&profile, text).expect("write");
    }
    let out = dir.path().join("out");
    let reports = format!(
        "json={},junit={},md={},html={}",
        out.join("run.json").display(),
        out.join("junit.xml").display(),
        out.join("summary.md").display(),
        out.join("run.html").display()
    );
    let mut all = more.to_vec();
    all.extend(["--report", &reports]);
    let run = run_plain(dir.path(), target, &all).await;
    let mut texts = vec![("terminal", text(&run))];
    for (what, file) in [
        ("JSON report", "run.json"),
        ("JUnit report", "junit.xml"),
        ("Markdown report", "summary.md"),
        ("HTML report", "run.html"),
    ] {
        if let Ok(report) = std::fs::read_to_string(out.join(file)) {
            texts.push((what, report));
        }
    }
    (dir, Said { exit: run.status.code(), texts })
}

/// A 201 that cannot be read as JSON (trailing bytes; cut at the 1 MiB limit) is never a PASS,
/// not even for a refusal that accepts a substituted value; its secrets are redacted all the
/// same; and the client it names is found in the raw text and deleted.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_registration_is_no_pass_leaks_nothing_and_is_deleted() {
    for unreadable in [fault::Unreadable::Trailing, fault::Unreadable::Cut] {
        let target = FaultTarget::start(Faults { unreadable: Some(unreadable), ..Faults::default() }).await;
        let (_dir, said) = run_reported(
            &target,
            "",
            &["--scenario", "metadata-redirect-uri-fragment", "--scenario", "metadata-minimal-registration"],
        )
        .await;
        let shown = said.all();
        assert_eq!(said.exit, Some(1), "{unreadable:?}: MUSTs fail on answers they cannot read:\n{shown}");
        for id in ["metadata-redirect-uri-fragment", "metadata-minimal-registration"] {
            assert_eq!(said.verdict_of(id), "fail", "{unreadable:?}: {id}");
        }
        said.assert_no_secret_of(&target);
        assert_eq!(target.registered(), 0, "{unreadable:?}: every client found in the raw answer was deleted");
    }
}

/// A server that answers a registration 200 rather than 201 still created the client: it is
/// ledgered and deleted like any other.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_created_with_a_200_is_deleted_all_the_same() {
    let target = FaultTarget::start(Faults { created_status: 200, ..Faults::default() }).await;
    let (_dir, said) = run_reported(&target, "", &["--scenario", "metadata-minimal-registration"]).await;
    assert_eq!(target.registered(), 0, "every client deleted:\n{}", said.all());
    assert_ne!(said.exit, Some(6), "{}", said.all());
}

/// A 201 that names no client at all: nothing can delete it, so the run names it and exits 6,
/// and its ledger keeps it.
#[tokio::test(flavor = "multi_thread")]
async fn a_registration_that_names_no_client_is_named_as_left() {
    let target =
        FaultTarget::start(Faults { unreadable: Some(fault::Unreadable::Anonymous), ..Faults::default() }).await;
    let (dir, said) = run_reported(&target, "", &["--scenario", "metadata-minimal-registration"]).await;
    let shown = said.all();
    assert_eq!(said.exit, Some(6), "{shown}");
    assert!(shown.contains("unidentified client (a 201 whose body is not JSON)"), "{shown}");
    assert_eq!(ledgers(dir.path()).len(), 1, "the ledger keeps what may be there");
}

/// An https target whose configuration endpoint is `http://`: the registration access token is
/// never sent there (RFC 6750 §5.3); the run says why and names the client it could not delete.
#[tokio::test(flavor = "multi_thread")]
async fn a_bearer_token_never_goes_in_cleartext_from_an_https_target() {
    let faults = Faults { config_uri: fault::ConfigUri::Cleartext, ..Faults::default() };
    let target = FaultTarget::start_tls(faults).await;
    let (_dir, said) = run_reported(&target, "", &["--scenario", "lifecycle-read-returns-the-registration"]).await;
    let shown = said.all();
    assert_eq!(target.not_tls.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing sent in cleartext:\n{shown}");
    assert_eq!(said.exit, Some(6), "the client it could not delete is left, named:\n{shown}");
    assert!(shown.contains("without TLS") && shown.contains("RFC 6750 §5.3"), "{shown}");
    said.assert_no_secret_of(&target);
}

/// A configuration endpoint on another origin is used as given (RFC 7592 §3), and every report
/// says the run went there.
#[tokio::test(flavor = "multi_thread")]
async fn a_configuration_endpoint_elsewhere_is_named_in_the_reports() {
    let target = FaultTarget::start(Faults { config_uri: fault::ConfigUri::OtherOrigin, ..Faults::default() }).await;
    let (_dir, said) = run_reported(&target, "", &["--scenario", "lifecycle-read-returns-the-registration"]).await;
    assert_eq!(said.exit, Some(0), "{}", said.all());
    // The host and port (HTML escapes the slashes of a URL).
    let elsewhere = target.url.replace("http://127.0.0.1", "localhost");
    for (what, text) in &said.texts {
        assert!(text.contains(&elsewhere), "the {what} names {elsewhere}:\n{text}");
    }
}

/// Server-issued ids holding `/`, `?`, `#`, `%`, an escape sequence and a CR LF: each goes into
/// the path as one percent-encoded segment (the server finds the client by it), and no report
/// or terminal line carries the raw control characters.
#[tokio::test(flavor = "multi_thread")]
async fn odd_client_ids_are_one_path_segment_and_shown_inert() {
    let faults = Faults { odd_ids: true, config_uri: fault::ConfigUri::Absent, ..Faults::default() };
    // The preflight's probe may be deleted; the scenario's client not: its id is shown.
    faults.allowed_deletes.store(1, std::sync::atomic::Ordering::SeqCst);
    let target = FaultTarget::start(faults).await;
    let client_path = "paths: { client: \"/register/{client_id}\" }\n";
    let (dir, said) =
        run_reported(&target, client_path, &["--scenario", "lifecycle-read-returns-the-registration"]).await;
    let shown = said.all();
    assert_eq!(said.exit, Some(6), "read by its encoded id, then its delete refused:\n{shown}");
    assert_eq!(said.verdict_of("lifecycle-read-returns-the-registration"), "pass", "{shown}");
    for (what, text) in said.texts.iter().filter(|(what, _)| *what == "terminal" || *what == "Markdown report") {
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\r'), "the {what}: {text:?}");
        assert!(!text.contains("\nFORGED LINE"), "a forged line in the {what}: {text}");
    }
    target.faults.allowed_deletes.store(usize::MAX, std::sync::atomic::Ordering::SeqCst);
    let ledger = ledgers(dir.path()).pop().expect("a ledger").display().to_string();
    let root = dir.path().display().to_string();
    let cleanup = harness(args(&["cleanup", &ledger, "--root", &root])).await;
    assert_eq!(cleanup.status.code(), Some(0), "{}", text(&cleanup));
    assert_eq!(target.registered(), 0, "deleted later by the same encoded id");
}

/// A server certificate the harness refuses while discovering the endpoints is a setup mistake
/// (exit 2) that says what is wrong with it, not an unreachable target.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_server_certificate_under_discovery_is_a_setup_mistake() {
    let target = FaultTarget::start_tls(Faults::default()).await;
    let dir = project_copy();
    let other_ca = rcgen::CertificateParams::new(vec!["elsewhere.example".to_string()])
        .expect("params")
        .self_signed(&rcgen::KeyPair::generate().expect("key"))
        .expect("cert");
    let ca = dir.path().join("other-ca.pem");
    std::fs::write(&ca, other_ca.pem()).expect("write");
    let profile = dir.path().join("profiles/rfc7591-plain.yaml");
    let yaml = std::fs::read_to_string(&profile).expect("profile") + &format!("server_ca: [{}]\n", ca.display());
    std::fs::write(&profile, yaml).expect("write");
    let run = run_plain(dir.path(), &target, &["--scenario", "lifecycle-read-returns-the-registration"]).await;
    let said = text(&run);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(said.contains("does not chain to a CA the harness trusts"), "{said}");
}

/// An update the server acts on (rotating the registration access token, as RFC 7592 §2.2 lets
/// it) but whose answer never arrives: the load, on either engine, puts that client aside and
/// registers another, so no later read is refused for a token the harness never saw (no false
/// unexpected answer), and the client it can no longer delete is named stranded, not left,
/// every other deleted.
#[tokio::test(flavor = "multi_thread")]
async fn a_load_whose_update_answer_is_lost_goes_on_with_a_new_client_and_strands_the_old() {
    for engine in ["harness", "goose"] {
        let faults = Faults::default();
        faults.lost_updates.store(1, std::sync::atomic::Ordering::SeqCst);
        let target = FaultTarget::start(faults).await;
        let dir = project_copy();
        let profile = dir.path().join("load/lost-update.yaml");
        let yaml = "name: lost-update\ntarget_profile: rfc7591-plain\nusers: 1\nhatch_rate: 1\nrun_time: 2\ntransactions:\n  - { name: read, op: read, weight: 2, expect: [200] }\n  - { name: update, op: update, weight: 1, expect: [200] }\n";
        std::fs::write(&profile, yaml).expect("write");
        let report = dir.path().join("load.json");
        let (root, json) = (dir.path().display().to_string(), format!("json={}", report.display()));
        let profile = profile.display().to_string();
        let load = harness(args(&[
            "load",
            &profile,
            "--root",
            &root,
            "--target",
            &target.url,
            "--report",
            &json,
            "--engine",
            engine,
        ]))
        .await;
        let said = text(&load);
        let figures: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
        let statuses = |name: &str| {
            let t = figures["transactions"].as_array().and_then(|t| t.iter().find(|t| t["name"] == name).cloned());
            t.map(|t| t["statuses"].clone()).unwrap_or_default()
        };
        assert_eq!(statuses("update")["no answer"], 1, "{engine}: the lost answer is counted:\n{said}");
        for name in ["read", "update"] {
            let refused = statuses(name).get("401").cloned();
            assert!(refused.is_none(), "{engine}: {name} refused for a token never seen: {refused:?}\n{said}");
        }
        assert!(statuses("read")["200"].as_u64().unwrap_or(0) > 1, "{engine}: the user went on:\n{said}");
        assert_eq!(figures["clients_stranded"], 1, "{engine}: {said}");
        assert_eq!(target.registered(), 1, "{engine}: only the client whose token rotated unseen is left:\n{said}");
        assert!(said.contains("a request about them got no answer"), "{engine}: the summary says why:\n{said}");
        assert!(!said.contains("panicked"), "{engine}: {said}");
    }
}
