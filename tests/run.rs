//! `dcr-harness run`, `list` and `validate` as users meet them: broken scenario files (exit 2,
//! `file:line:col`, every problem at once), an unreachable target (exit 3), known failures,
//! cleanup of every registered client, and a plain RFC 7591 target over http:// found by
//! discovery.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dcr_harness::run::Verdict;
use dcr_harness::scenario::Filter;
use dcr_harness::server::{self, Flaw, ServerConfig, ServerProfile};
use dcr_harness::suite::{self, Embedded, Layout, SuiteOptions};
use dcr_harness::testing::{test_pki, test_pki_dir};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn layout() -> Layout {
    test_pki();
    Layout { pki: test_pki_dir(), ..Layout::at(root()) }
}

fn harness(args: &[&str]) -> Output {
    test_pki();
    dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness")).args(args).output().expect("run dcr-harness")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A copy of the project's scenarios, profiles and fixtures to break.
fn project_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    dcr_harness::testing::copy_project(dir.path());
    dir
}

#[test]
fn a_broken_scenario_file_exits_2_with_file_line_col_and_every_problem() {
    let dir = project_copy();
    let scenarios = dir.path().join("scenarios");
    std::fs::write(
        scenarios.join("zz-broken.yaml"),
        "- id: broken\n  title: x\n  area: transport\n  severity: MUST\n  source: x\n  stepz: []\n",
    )
    .expect("write");
    std::fs::write(scenarios.join("zz-typo.yaml"), "- id: typo\n  title: x\n  area: nowhere\n").expect("write");
    let root = dir.path().display().to_string();
    let out = harness(&["validate", "--root", &root]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("zz-broken.yaml:6:3: .[0]: unknown field `stepz`"), "{text}");
    assert!(text.contains("zz-typo.yaml:3:9: .[0].area: unknown variant `nowhere`"), "{text}");
    assert!(text.contains("2 problem(s)"), "{text}");
}

#[test]
fn a_step_that_cannot_be_built_is_a_harness_error_not_a_server_failure() {
    let dir = project_copy();
    std::fs::write(
        dir.path().join("scenarios/zz-unbuildable.yaml"),
        "- id: unbuildable\n  title: x\n  area: lifecycle\n  severity: MUST\n  source: x\n  steps:\n    - request: { op: register, body_file: metadata/minimal.json }\n    - request: { op: update, body_file: metadata/unbuildable.json }\n",
    )
    .expect("write");
    // A fixture whose template names a variable nothing defines: found only when the step is built.
    std::fs::write(dir.path().join("fixtures/metadata/unbuildable.json"), "{\"client_name\": \"{{never_defined}}\"}")
        .expect("write");
    let root = dir.path().display().to_string();
    let junit = dir.path().join("junit.xml");
    let report = format!("junit={}", junit.display());
    let out = harness(&["run", "--root", &root, "--scenario", "unbuildable", "--report", &report]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(2), "{text}{}", stderr(&out));
    assert!(text.contains("ERROR unbuildable"), "{text}");
    assert!(
        text.contains("step 2: the request could not be built: body_file") && text.contains("never_defined"),
        "{text}"
    );
    assert!(text.contains("verdict: ERROR"), "{text}");
    assert!(!text.contains("FAIL"), "no server failure is claimed: {text}");
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert!(xml.contains("<error ") && !xml.contains("<failure"), "{xml}");
    assert!(!text.contains("cleanup of client"), "the registered client was deleted: {text}");
}

#[test]
fn semantic_problems_are_located_and_reported_together() {
    let dir = project_copy();
    std::fs::write(
        dir.path().join("scenarios/zz-semantic.yaml"),
        "- id: transport-no-client-cert\n  title: duplicate id\n  area: transport\n  severity: MUST\n  source: x\n  steps:\n    - request: { op: read }\n\n\
         - id: unknown-things\n  title: x\n  area: auth\n  severity: MUST\n  source: x\n  steps:\n    - request: { op: register, tls: qwac-nobody, body: { a: \"{{nothing}}\" } }\n      expect: { reject: teapot }\n",
    )
    .expect("write");
    let root = dir.path().display().to_string();
    let out = harness(&["run", "--root", &root]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("zz-semantic.yaml:1:1: duplicate scenario id `transport-no-client-cert`"), "{text}");
    let out = {
        std::fs::write(
            dir.path().join("scenarios/zz-semantic.yaml"),
            "- id: unknown-things\n  title: x\n  area: auth\n  severity: MUST\n  source: x\n  steps:\n    - request: { op: read }\n    - request: { op: register, tls: qwac-nobody, body: { a: \"{{nothing}}\" } }\n      expect: { reject: teapot }\n\n\
             - id: bad-policy\n  title: x\n  area: auth\n  severity: policy\n  policy: https-redirect-uri\n  source: x\n  steps:\n    - request: { op: register }\n",
        )
        .expect("write");
        harness(&["validate", "--root", &root])
    };
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    for expected in [
        "zz-semantic.yaml:1:1: scenario `unknown-things` step 1: operation Read on client `client`, which no earlier step registered",
        "step 2: unknown TLS identity `qwac-nobody`",
        "step 2: unknown rejection kind `teapot`",
        "step 2: template `{{nothing}}` names nothing defined before this step",
        "scenario `bad-policy`: unknown policy `https-redirect-uri`; did you mean `https-redirect-uris`?",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in {text}");
    }
}

#[test]
fn an_unreachable_target_exits_3_naming_it() {
    let out = harness(&["run", "--root", env!("CARGO_MANIFEST_DIR"), "--target", "https://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot reach https://127.0.0.1:1"), "{}", stderr(&out));
}

#[test]
fn list_prints_the_filtered_scenarios() {
    let out = harness(&["list", "--root", env!("CARGO_MANIFEST_DIR"), "--area", "digest"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().count() >= 5);
    assert!(text.lines().all(|l| l.contains(" digest ")), "{text}");
    let bad = harness(&["list", "--root", env!("CARGO_MANIFEST_DIR"), "--area", "nowhere"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn known_failures_do_not_fail_the_run_and_fixed_ones_are_reported() {
    let known = [
        ("digest-body-changed-after-signing".to_string(), "ticket 12".to_string()),
        ("digest-wrong".to_string(), "ticket 12".to_string()),
        ("digest-sha1".to_string(), "ticket 12".to_string()),
        ("digest-of-other-body".to_string(), "ticket 12".to_string()),
        ("digest-put-body-changed".to_string(), "ticket 12".to_string()),
        ("digest-missing".to_string(), "fixed long ago".to_string()),
    ];
    let options = SuiteOptions {
        profile: "reference".into(),
        filter: Filter { areas: vec![dcr_harness::scenario::Area::Digest], ..Filter::default() },
        embedded: Embedded { flaws: [Flaw::SkipDigestCheck].into(), ..Embedded::default() },
        run: dcr_harness::run::RunOptions { known_failures: known.into_iter().collect(), ..Default::default() },
        ..SuiteOptions::default()
    };
    let result = suite::run(&layout(), &options).await.expect("run").result;
    assert_eq!(result.count(Verdict::KnownFailure), 5);
    assert_eq!(result.count(Verdict::FixedKnownFailure), 1);
    assert_eq!(result.count(Verdict::Fail), 0);
    assert_eq!(result.outcome(), dcr_harness::run::Outcome::Success);
    let text = dcr_harness::report::terminal::render(&result);
    assert!(text.contains("passes now: remove it from the known failures"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_registered_client_is_deleted_even_when_steps_fail() {
    let pki = test_pki();
    for flaws in [vec![], vec![Flaw::OmitSecretExpiry, Flaw::CrossTppDelete]] {
        let server =
            server::start(pki, ServerConfig { flaws: flaws.iter().copied().collect(), ..ServerConfig::default() })
                .await
                .expect("server");
        let options =
            SuiteOptions { profile: "reference".into(), target: Some(server.url()), ..SuiteOptions::default() };
        let result = suite::run(&layout(), &options).await.expect("run").result;
        assert!(result.scenarios.iter().all(|s| s.cleanup.iter().all(|c| c.ok)), "cleanup failed");
        assert_eq!(server.registered_clients(), 0, "with flaws {flaws:?}, clients were left behind");
        if !flaws.is_empty() {
            assert!(result.count(Verdict::Fail) > 0);
        }
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_rfc7591_target_over_http_is_found_by_discovery() {
    let pki = test_pki();
    let config = ServerConfig { profile: ServerProfile::Plain, plain_http: true, ..ServerConfig::default() };
    let server = server::start(pki, config).await.expect("server");
    assert!(server.url().starts_with("http://127.0.0.1:"));
    let dir = tempfile::tempdir().expect("tempdir");
    let profile: PathBuf = dir.path().join("discovering.yaml");
    let text = std::fs::read_to_string(root().join("profiles/rfc7591-plain.yaml")).expect("profile");
    std::fs::write(
        &profile,
        text.replace(
            "management: registration-token",
            "management: registration-token\npaths:\n  register: /not-used\n  token: /not-used-either",
        ),
    )
    .expect("write");
    let options =
        SuiteOptions { profile: profile.display().to_string(), target: Some(server.url()), ..SuiteOptions::default() };
    let result = suite::run(&layout(), &options).await.expect("run").result;
    assert!(result.scenarios.len() >= 30);
    let failing: Vec<&str> =
        result.scenarios.iter().filter(|s| s.verdict.is_adverse()).map(|s| s.id.as_str()).collect();
    assert!(failing.is_empty(), "{failing:?}");
    assert_eq!(server.registered_clients(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_fast_and_the_run_deadline_skip_what_is_left() {
    let run = |options: dcr_harness::run::RunOptions, flaws: Vec<Flaw>| {
        let options = SuiteOptions {
            profile: "reference".into(),
            run: options,
            embedded: Embedded { flaws: flaws.into_iter().collect(), ..Embedded::default() },
            ..SuiteOptions::default()
        };
        async move { suite::run(&layout(), &options).await.expect("run").result }
    };
    let fast = run(
        dcr_harness::run::RunOptions { jobs: 1, fail_fast: true, ..Default::default() },
        vec![Flaw::SkipDigestCheck],
    )
    .await;
    assert_eq!(fast.count(Verdict::Fail), 1, "one failure, then nothing new starts");
    assert!(fast.count(Verdict::Skipped) > 0);
    let late =
        run(dcr_harness::run::RunOptions { deadline: Some(std::time::Duration::ZERO), ..Default::default() }, vec![])
            .await;
    assert_eq!(late.count(Verdict::Skipped), late.scenarios.len());
    assert_eq!(late.outcome(), dcr_harness::run::Outcome::MustFailed, "MUSTs that never ran did not pass");
}

#[test]
fn a_selection_that_names_nothing_is_bad_input_with_a_suggestion() {
    let root = env!("CARGO_MANIFEST_DIR");
    let known = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(known.path(), "digest-missin: typo in the id\n").expect("write");
    let known = known.path().display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["run", "--scenario", "digest-missin"],
            "--scenario digest-missin: no such scenario; did you mean `digest-missing`?",
        ),
        (vec!["run", "--skip", "nothing-like-this"], "--skip nothing-like-this: no such scenario"),
        (vec!["run", "--tag", "rfc7951"], "--tag rfc7951: no such tag; did you mean `rfc7591`?"),
        (vec!["run", "--area", "digests"], "--area digests"),
        (vec!["run", "--known-failures", &known], "`digest-missin`: no such scenario; did you mean `digest-missing`?"),
        (vec!["run", "--profile", "rfc7591-plain", "--area", "digest"], "no scenario selected"),
        (vec!["list", "--scenario", "digest-missin"], "did you mean `digest-missing`?"),
    ];
    for (args, expected) in cases {
        let mut args = args;
        args.extend(["--root", root]);
        let out = harness(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{args:?}: {}", stderr(&out));
        assert!(!String::from_utf8_lossy(&out.stdout).contains("PASS"), "{args:?}");
    }
}

#[test]
fn the_replay_window_is_the_profiles_not_an_assumed_five_minutes() {
    let dir = project_copy();
    let reference = std::fs::read_to_string(dir.path().join("profiles/reference.yaml")).expect("profile");
    let short = reference
        .replace("name: reference", "name: short-window")
        .replace("  enabled: true\n", "  enabled: true\n  date_window_s: 5\n");
    assert!(short.contains("date_window_s: 5"));
    std::fs::write(dir.path().join("profiles/short-window.yaml"), short).expect("write");
    let root = dir.path().display().to_string();
    let args = [
        "run",
        "--root",
        &root,
        "--profile",
        "short-window",
        "--scenario",
        "replay-after-the-date-window",
        "--no-snapshots",
    ];
    let out = harness(&args);
    assert_eq!(out.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    let mut flawed = args.to_vec();
    flawed.extend(["--flaw", "unbounded-clock-skew"]);
    let out = harness(&flawed);
    assert_eq!(out.status.code(), Some(1), "the replay is caught: {}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_initial_access_token_from_the_environment_registers_with_a_plain_server() {
    let pki = test_pki();
    let config = ServerConfig {
        profile: ServerProfile::Plain,
        plain_http: true,
        initial_access_token: Some("iat-for-the-test".into()),
        ..ServerConfig::default()
    };
    let server = server::start(pki, config).await.expect("server");
    let dir = project_copy();
    let plain = std::fs::read_to_string(dir.path().join("profiles/rfc7591-plain.yaml")).expect("profile");
    let with_iat = plain.replace(
        "credentials:\n  kind: none",
        "credentials:\n  kind: initial-access-token\n  initial_access_token: \"{{env.DCR_HARNESS_TEST_IAT}}\"",
    );
    assert!(with_iat.contains("initial-access-token"), "{with_iat}");
    std::fs::write(dir.path().join("profiles/iat.yaml"), with_iat).expect("write");
    let root = dir.path().display().to_string();
    let url = server.url();
    let run = |iat: Option<&str>| {
        let mut command = dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness"));
        command.args([
            "run",
            "--root",
            &root,
            "--profile",
            "iat",
            "--target",
            &url,
            "--no-snapshots",
            "--area",
            "lifecycle",
        ]);
        match iat {
            Some(token) => command.env("DCR_HARNESS_TEST_IAT", token),
            None => command.env_remove("DCR_HARNESS_TEST_IAT"),
        };
        command.output().expect("run")
    };
    let out = run(Some("iat-for-the-test"));
    assert_eq!(out.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    let out = run(Some("a-wrong-token"));
    assert_eq!(out.status.code(), Some(2), "a wrong token is a setup mistake: {}", stderr(&out));
    assert!(stderr(&out).contains("answered 401"), "{}", stderr(&out));
    let out = run(None);
    assert_eq!(out.status.code(), Some(2), "an unset variable is the harness's setup: {}", stderr(&out));
    assert!(stderr(&out).contains("environment variable DCR_HARNESS_TEST_IAT is not set"), "{}", stderr(&out));
    assert_eq!(server.registered_clients(), 0);
    server.stop().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_run_deletes_its_clients_writes_its_reports_and_exits_130() {
    let pki = test_pki();
    let server = server::start(pki, ServerConfig::default()).await.expect("server");
    let dir = project_copy();
    let root = dir.path().display().to_string();
    let json = dir.path().join("report.json");
    let report = format!("json={}", json.display());
    let url = server.url();
    // The replay scenario holds its client for about three seconds: long enough to interrupt.
    let args = [
        "run",
        "--root",
        &root,
        "--target",
        &url,
        "--no-snapshots",
        "--jobs",
        "1",
        "--scenario",
        "replay-after-the-date-window",
        "--scenario",
        "lifecycle-read-returns-the-registration",
        "--report",
        &report,
    ];
    let child = dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut registered = false;
    for _ in 0..250 {
        if server.registered_clients() > 0 {
            registered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(registered, "the replay scenario registered its client");
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.expect("join").expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}{}", stderr(&out));
    assert!(stdout.contains("verdict: INTERRUPTED"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("report")).expect("json");
    assert_eq!(report["run"]["interrupted"], true);
    assert_eq!(server.registered_clients(), 0, "the interrupted scenario deleted its client");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn setup_mistakes_stop_the_run_before_it_starts_with_exit_2() {
    let pki = test_pki();
    let server = server::start(pki, ServerConfig::default()).await.expect("server");
    let plain_http =
        server::start(pki, ServerConfig { profile: ServerProfile::Plain, plain_http: true, ..ServerConfig::default() })
            .await
            .expect("server");
    let dir = project_copy();
    let reference = std::fs::read_to_string(dir.path().join("profiles/reference.yaml")).expect("profile");
    let write = |name: &str, text: String| {
        std::fs::write(dir.path().join(format!("profiles/{name}.yaml")), text).expect("write")
    };
    write("typo", reference.replace("management: dcr", "management: dcr\nidentities: { tls: qwack }"));
    write(
        "wrong-credentials",
        reference.replace(
            "  client_secret_header: X-IBM-Client-Secret",
            "  client_secret_header: X-IBM-Client-Secret\n  overrides: { tpp-a: { client_id: nobody, client_secret: nothing } }",
        ),
    );
    write(
        "unset-env",
        reference.replace(
            "  client_secret_header: X-IBM-Client-Secret",
            "  client_secret_header: X-IBM-Client-Secret\n  overrides: { tpp-a: { client_id: \"{{env.DCR_HARNESS_NEVER_SET}}\", client_secret: s } }",
        ),
    );
    let untrusted = dir.path().join("untrusted-ca.pem");
    std::fs::copy(test_pki_dir().join("untrusted-root.pem"), &untrusted).expect("copy");
    write(
        "no-server-ca",
        reference.replace("management: dcr", &format!("management: dcr\nserver_ca: [{}]", untrusted.display())),
    );
    let root = dir.path().display().to_string();
    let https_on_http = plain_http.url().replace("http://", "https://");
    let url = server.url();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--profile", "typo", "--target", &url], "identities.tls is `qwack`"),
        (vec!["--profile", "wrong-credentials", "--target", &url], "answered 401"),
        (vec!["--profile", "unset-env", "--target", &url], "environment variable DCR_HARNESS_NEVER_SET is not set"),
        (
            vec!["--profile", "no-server-ca", "--target", &url],
            "does not chain to a CA the harness trusts: set `server_ca`",
        ),
        (vec!["--profile", "reference", "--target", &https_on_http], "does not speak TLS"),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["run", "--root", &root, "--no-snapshots"];
        args.extend(extra);
        let out = harness(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(stderr(&out).contains(expected), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}: nothing ran: {}", String::from_utf8_lossy(&out.stdout));
    }
    let flaw_elsewhere = harness(&["run", "--root", &root, "--target", &url, "--flaw", "skip-digest-check"]);
    assert_eq!(
        flaw_elsewhere.status.code(),
        Some(2),
        "a flaw cannot apply to a foreign target: {}",
        stderr(&flaw_elsewhere)
    );
    assert!(stderr(&flaw_elsewhere).contains("embedded reference server"), "{}", stderr(&flaw_elsewhere));
    let out = harness(&["validate", "--root", &root, "--profile", "typo"]);
    assert_eq!(out.status.code(), Some(2), "validate runs the offline preflight: {}", stderr(&out));
    assert_eq!(server.registered_clients(), 0);
    server.stop().await;
    plain_http.stop().await;
}

#[test]
fn with_the_users_own_certificates_role_confusion_uses_them_and_test_pki_only_scenarios_drop_out() {
    let dir = project_copy();
    let pki = dir.path().join("fixtures/pki");
    std::fs::copy(pki.join("qwac.pem"), pki.join("mine.pem")).expect("copy");
    std::fs::copy(pki.join("qwac.key"), pki.join("mine.key")).expect("copy");
    let manifest = std::fs::read_to_string(pki.join("manifest.yaml")).expect("manifest");
    let manifest = manifest.replace(
        "identities:\n",
        "identities:\n  mine:\n    cert: mine.pem\n    key: mine.key\n    tpp: tpp-a\n    external: true\n",
    );
    std::fs::write(pki.join("manifest.yaml"), manifest).expect("write");
    let reference = std::fs::read_to_string(dir.path().join("profiles/reference.yaml")).expect("profile");
    std::fs::write(
        dir.path().join("profiles/mine.yaml"),
        reference
            .replace("name: reference", "name: mine")
            .replace("exclude_tags:", "identities: { tls: mine }\nexclude_tags:"),
    )
    .expect("write");
    let root = dir.path().display().to_string();
    let listed = |profile: &str| {
        let out = harness(&["list", "--root", &root, "--profile", profile]);
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (own_listing, test_pki_listing) = (listed("mine"), listed("reference"));
    // What applies comes first; what does not follows, each with why.
    let applicable =
        |listing: &str| listing.split("\nnot applicable to profile").next().unwrap_or_default().to_string();
    let (own, test_pki) = (applicable(&own_listing), applicable(&test_pki_listing));
    for needs_the_test_qtsp in ["transport-expired-qwac", "sig-expired-qseal"] {
        assert!(test_pki.contains(needs_the_test_qtsp) && !own.contains(needs_the_test_qtsp), "{needs_the_test_qtsp}");
        let why = own_listing.lines().find(|l| l.starts_with(needs_the_test_qtsp)).unwrap_or_default();
        assert!(why.contains("test-pki-only"), "the listing says why it does not apply: {why}");
    }
    assert!(own.contains("transport-qseal-as-qwac") && own.contains("sig-qwac-as-qseal"), "role confusion still runs");
    let scenarios = std::fs::read_to_string(dir.path().join("scenarios/transport.yaml")).expect("scenarios");
    assert!(scenarios.contains("tls: $sign"), "the QSEAL presented as QWAC is the profile's own");
}

/// A harness that does not trust the server learns nothing about how the server judges a
/// client certificate: the scenario is an ERROR of the setup, never a PASS or a FAIL.
#[tokio::test(flavor = "multi_thread")]
async fn the_harness_refusing_the_server_is_an_error_not_a_verdict() {
    use dcr_harness::transport::{ServerTrust, Transport, TransportConfig};
    let (profile, scenarios, pki) = suite::load(&layout(), "reference").expect("load");
    let server = server::start(test_pki(), ServerConfig::default()).await.expect("server");
    let trust = ServerTrust::Pem(vec![test_pki_dir().join("untrusted-root.pem")]);
    let transport = Transport::new(&pki, TransportConfig { trust, ..TransportConfig::default() }).expect("transport");
    let target = dcr_harness::run::Target::new(
        server.url(),
        std::sync::Arc::new(pki),
        profile,
        transport,
        dcr_harness::scenario::Fixtures::at(root().join("fixtures")),
    );
    let picked: Vec<_> = scenarios
        .into_iter()
        .filter(|s| {
            ["transport-expired-qwac", "transport-no-client-cert", "metadata-minimal-registration"]
                .contains(&s.id.as_str())
        })
        .collect();
    assert_eq!(picked.len(), 3);
    let result = dcr_harness::run::run(std::sync::Arc::new(target), picked, Default::default()).await;
    for s in &result.scenarios {
        assert_eq!(s.verdict, Verdict::Error, "{}: {:?}", s.id, s.steps.first().map(|st| &st.checks));
        let error = s.error.as_ref().expect("the error says why");
        assert_eq!(error.kind, dcr_harness::run::model::ErrorKind::Setup);
        assert!(error.message.contains("does not chain to a CA the harness trusts"), "{}", error.message);
    }
    assert_eq!(result.outcome(), dcr_harness::run::Outcome::SetupError);
    server.stop().await;
}

/// A TLS server that never asks for a client certificate and refuses every request with 401:
/// a refusal that looks like a judged certificate but is not one.
async fn refuses_without_asking() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = test_pki().identity("server").expect("server identity");
    let tls = rustls::ServerConfig::builder_with_provider(dcr_harness::crypto::provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(server.chain.clone(), server.key().to_rustls())
        .expect("certificate");
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("https://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && tls.read(&mut byte).await.is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                let body = r#"{"tppMessages":[{"category":"ERROR","code":"CERTIFICATE_INVALID"}]}"#;
                let answer = format!("HTTP/1.1 401 X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    url
}

/// A refusal "for the certificate" from a server that never asked for one is no evidence: the
/// step fails instead of passing.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_never_asks_for_a_client_certificate_has_not_refused_one() {
    use dcr_harness::transport::{Transport, TransportConfig};
    let (profile, scenarios, pki) = suite::load(&layout(), "reference").expect("load");
    let url = refuses_without_asking().await;
    let transport = Transport::new(&pki, TransportConfig::default()).expect("transport");
    let target = dcr_harness::run::Target::new(
        url,
        std::sync::Arc::new(pki),
        profile,
        transport,
        dcr_harness::scenario::Fixtures::at(root().join("fixtures")),
    );
    let picked: Vec<_> = scenarios.into_iter().filter(|s| s.id == "transport-expired-qwac").collect();
    let result = dcr_harness::run::run(std::sync::Arc::new(target), picked, Default::default()).await;
    let scenario = &result.scenarios[0];
    let said: Vec<&str> = scenario.steps.iter().flat_map(|s| &s.checks).map(|c| c.got.as_str()).collect();
    assert_eq!(scenario.verdict, Verdict::Fail, "{said:?}");
    assert!(said.iter().any(|g| g.contains("never asked for a client certificate")), "{said:?}");
}

/// `--timeout` bounds the run, a long `wait_ms` included: the waiting scenario stops, deletes
/// its client, and counts as a MUST that never ran (exit 1).
#[test]
fn the_deadline_cuts_a_long_wait_short() {
    let dir = project_copy();
    std::fs::copy(root().join("fixtures/scenarios/long-wait.yaml"), dir.path().join("scenarios/zz-long-wait.yaml"))
        .expect("copy");
    let started = std::time::Instant::now();
    let out =
        harness(&["run", "--root", &dir.path().display().to_string(), "--scenario", "long-wait", "--timeout", "2"]);
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "took {:?}", started.elapsed());
    assert!(said.contains("skipped") || said.contains("SKIP"), "{said}");
}

/// Against a foreign target whose clients are managed with their own token (`obuk`), the
/// ledger keeps what the owner needs to get one, and `cleanup` deletes the client later.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_managed_by_its_own_token_is_deleted_from_the_ledger_later() {
    use dcr_harness::run::session::{Answer, Lesson, Session};
    use dcr_harness::scenario::{Operation, RequestSpec};
    let pki = test_pki();
    let config = ServerConfig { profile: ServerProfile::Obuk, ..ServerConfig::default() };
    let server = server::start(pki, config).await.expect("server");
    let scratch = tempfile::tempdir().expect("tempdir");
    let layout = Layout { ledgers: scratch.path().to_path_buf(), ..layout() };
    let prepared =
        suite::prepare(&layout, "obuk", Some(server.url()), &Embedded::default(), |_| {}).await.expect("prepared");
    let mut session = Session::new(prepared.target.clone());
    let register =
        RequestSpec { body_file: Some("metadata/minimal.json".into()), ..RequestSpec::of(Operation::Register) };
    let planned = session.plan(&register, None).await.expect("plans");
    let answer = session.send(&planned).await.expect("an answer");
    assert_eq!(answer.status, 201, "{}", String::from_utf8_lossy(&answer.body));
    session.absorb(&Lesson::without_capture(Operation::Register, "client", "client", true), Answer::from(&answer));
    let ledger = prepared.target.ledger.finish().expect("the ledger names the client");
    suite::Prepared::stop(prepared.embedded, prepared.keystore, prepared.qtsp).await;
    assert_eq!(server.registered_clients(), 1, "a run killed before its cleanup");
    let kept = std::fs::read_to_string(&ledger).expect("the ledger");
    assert!(kept.contains("\"secret\"") && kept.contains("client_secret_basic"), "what a token needs: {kept}");
    let cleaned = suite::cleanup(&layout, &ledger, None).await.expect("cleanup");
    assert!(
        cleaned.results.iter().all(|r| r.ok),
        "{:?}",
        cleaned.results.iter().map(|r| &r.detail).collect::<Vec<_>>()
    );
    assert_eq!(server.registered_clients(), 0, "cleanup got the client's token and deleted it");
    server.stop().await;
}
