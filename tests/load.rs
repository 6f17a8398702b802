//! A short, bounded load (a few seconds, 127.0.0.1) against the reference server: the metrics
//! add up, refused bad signatures count as expected answers, every client a user registered is
//! deleted, and a threshold that cannot be met is reported as breached.

use std::path::Path;

use dcr_harness::load::{
    self, KeepClients, LoadOptions, LoadProfile, LoadReport, LoadTransaction, Signing, Thresholds,
};
use dcr_harness::scenario::{Operation, Who};
use dcr_harness::server::{self, ServerConfig, ServerProfile};
use dcr_harness::signature::Mutation;
use dcr_harness::suite::Layout;
use dcr_harness::testing::{test_pki, test_pki_dir};

fn transaction(
    name: &str,
    op: Operation,
    mutation: Option<Mutation>,
    tls: Option<&str>,
    expect: u16,
) -> LoadTransaction {
    LoadTransaction {
        name: name.into(),
        op,
        method: None,
        path: None,
        weight: 1,
        mutation,
        tls: tls.map(|name| Who::Named(name.to_string())),
        sign: None,
        expect: vec![expect],
        body: None,
    }
}

fn profile(thresholds: Thresholds) -> LoadProfile {
    LoadProfile {
        name: "test".into(),
        description: String::new(),
        target_profile: "reference".into(),
        users: 3,
        hatch_rate: 10.0,
        run_time: Some(2),
        rate: None,
        stages: vec![],
        signing: Signing::Fresh,
        bodies: 1,
        shard_tpps: Default::default(),
        keep_clients: KeepClients::All,
        transactions: vec![
            transaction("read", Operation::Read, None, None, 200),
            transaction("refresh", Operation::RefreshSecret, None, None, 200),
            transaction("register", Operation::Register, None, None, 201),
            transaction("bad-signature", Operation::Register, Some(Mutation::SignedByAnotherKey), None, 401),
            transaction("stale-date", Operation::Update, Some(Mutation::DateStale), None, 400),
            transaction("untrusted-qwac", Operation::Register, None, Some("qwac-untrusted"), 401),
        ],
        thresholds,
        suite_at: Default::default(),
    }
}

fn layout() -> Layout {
    test_pki();
    Layout { pki: test_pki_dir(), ..Layout::at(Path::new(env!("CARGO_MANIFEST_DIR"))) }
}

async fn load_against(url: &str, profile: &LoadProfile) -> LoadReport {
    let options = LoadOptions { target: Some(url.to_string()), ..LoadOptions::default() };
    let (_, report) = load::run(&layout(), profile, &options, |_| {}, |_, _| {}).await.expect("load");
    report
}

fn transaction_named<'a>(report: &'a LoadReport, name: &str) -> &'a load::TransactionFigures {
    report.transactions.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("{name} ran"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_load_adds_up_honours_weights_across_identities_and_cleans_up() {
    let server = server::start(test_pki(), ServerConfig::default()).await.expect("server");
    let report =
        load_against(&server.url(), &profile(Thresholds { max_unexpected_share: Some(0.0), ..Thresholds::default() }))
            .await;
    assert!(report.requests > 50, "{report:?}");
    assert_eq!(report.requests, report.answered, "every request was answered");
    assert_eq!(report.transactions.iter().map(|t| t.requests).sum::<u64>(), report.requests, "transactions add up");
    assert_eq!(report.unexpected, 0, "{}", load::render(&report));
    for t in &report.transactions {
        // Six transactions of weight 1, one of them under another TLS identity: a sixth each,
        // to within the users' unfinished cycles.
        let share = t.requests as f64 / report.requests as f64;
        assert!((share - 1.0 / 6.0).abs() < 0.02, "{}: {share:.3} of the requests", t.name);
        let statuses: u64 = t.statuses.values().sum();
        assert_eq!(statuses, t.requests, "{}: every request has a status", t.name);
    }
    assert_eq!(transaction_named(&report, "untrusted-qwac").statuses.keys().collect::<Vec<_>>(), vec!["401"]);
    assert!(report.thresholds.iter().all(|t| t.met), "{:?}", report.thresholds);
    let l = &report.latency;
    assert!(l.min_us > 0 && l.min_us <= l.p50_us && l.p50_us <= l.p99_us && l.p99_us <= l.max_us, "{l:?}");
    assert!(report.tls.handshakes >= 2, "two identities, at least two connections: {:?}", report.tls);
    assert!(report.tls.group.is_some(), "the key-exchange group is named");
    assert_eq!(
        report.clients_deleted as u64,
        transaction_named(&report, "register").requests + 3,
        "every registration and each user's own client"
    );
    assert_eq!(server.registered_clients(), 0, "users delete what they registered");
    assert!(server.stats().requests.load(std::sync::atomic::Ordering::Relaxed) as u64 >= report.requests);

    let impossible = Thresholds { min_throughput: Some(1e9), p99_ms: Some(0.0), ..Thresholds::default() };
    let mut short = profile(impossible);
    short.run_time = Some(1);
    let breached = load_against(&server.url(), &short).await;
    let shown: Vec<(&str, bool)> = breached.thresholds.iter().map(|t| (t.name.as_str(), t.met)).collect();
    assert_eq!(shown, vec![("p99 latency", false), ("throughput", false)]);
    assert!(load::render(&breached).contains("BREACHED throughput:"), "{}", load::render(&breached));
    server.stop().await;
}

fn registrations(signing: Signing, seconds: u64) -> LoadProfile {
    LoadProfile {
        signing,
        bodies: 2,
        run_time: Some(seconds),
        users: 4,
        transactions: vec![transaction("register", Operation::Register, None, None, 201)],
        ..profile(Thresholds::default())
    }
}

/// Per-second signing makes each distinct registration's signature once per Date second (two
/// bodies here) and reuses it; a target that refuses a repeated signature shows up as unexpected
/// answers, named.
#[tokio::test(flavor = "multi_thread")]
async fn per_second_signing_reuses_signatures_and_a_replay_guard_is_a_finding() {
    let server = server::start(test_pki(), ServerConfig::default()).await.expect("server");
    let report = load_against(&server.url(), &registrations(Signing::PerSecond, 2)).await;
    assert_eq!(report.unexpected, 0, "{}", load::render(&report));
    let users_own_clients = 4;
    assert_eq!(
        report.signatures_made + report.signatures_reused,
        report.requests + users_own_clients,
        "one signature per request"
    );
    // Two bodies over two or three Date seconds (and a few made twice at a second's turn).
    assert!(report.signatures_made <= 2 * 3 * 4, "{} made", report.signatures_made);
    assert!(report.signatures_reused > report.signatures_made * 5, "{} reused", report.signatures_reused);
    assert!(load::render(&report).contains("signing: per-second"), "the mode is in the first lines");
    server.stop().await;

    let guarded = ServerConfig {
        variants: [dcr_harness::server::Variant::SignatureReplayRefused].into(),
        ..ServerConfig::default()
    };
    let server = server::start(test_pki(), guarded).await.expect("server");
    let report = load_against(&server.url(), &registrations(Signing::PerSecond, 1)).await;
    let register = transaction_named(&report, "register");
    assert!(register.unexpected > 0, "{}", load::render(&report));
    assert!(register.unexpected_answers.keys().all(|k| k.starts_with("401")), "{:?}", register.unexpected_answers);
    assert_eq!(server.registered_clients(), 0);
    server.stop().await;
}

/// The open model starts requests on schedule whatever the answers' pace: 150/s for 2 s is 300
/// requests, and the achieved rate is reported beside the one asked for.
#[tokio::test(flavor = "multi_thread")]
async fn an_open_model_load_keeps_its_schedule() {
    let server = server::start(test_pki(), ServerConfig::default()).await.expect("server");
    let open = LoadProfile {
        rate: Some(150.0),
        transactions: vec![transaction("read", Operation::Read, None, None, 200)],
        ..profile(Thresholds::default())
    };
    let report = load_against(&server.url(), &open).await;
    assert_eq!(report.requests, 300, "{}", load::render(&report));
    let asked = report.scheduled_rate.expect("scheduled");
    assert!((asked - 150.0).abs() < 20.0 && (report.throughput - 150.0).abs() < 20.0, "{}", load::render(&report));
    assert!(report.model.starts_with("open model"), "{}", report.model);
    server.stop().await;
}

/// The plain profile: no TLS identity, no signature, registration access tokens.
#[tokio::test(flavor = "multi_thread")]
async fn the_plain_profile_loads_an_rfc7592_server() {
    let config = ServerConfig { profile: ServerProfile::Plain, ..ServerConfig::default() };
    let server = server::start(test_pki(), config).await.expect("server");
    let plain = LoadProfile {
        target_profile: "rfc7591-plain".into(),
        run_time: Some(1),
        transactions: vec![
            transaction("register", Operation::Register, None, None, 201),
            transaction("read", Operation::Read, None, None, 200),
            transaction("update", Operation::Update, None, None, 200),
        ],
        ..profile(Thresholds::default())
    };
    let report = load_against(&server.url(), &plain).await;
    assert!(report.requests > 30 && report.unexpected == 0, "{}", load::render(&report));
    assert_eq!(server.registered_clients(), 0);
    // Nothing was signed, and the summary does not say otherwise.
    let summary = load::render(&report);
    assert!(summary.contains("signing: none (the target profile signs nothing)"), "{summary}");
    assert!(summary.contains("QSEAL none)"), "{summary}");
    // RFC 7591 alone (`management: none`): reads and updates are refused before anything is
    // sent; registrations alone run, with no rolling cleanup to fail, each client named.
    let dir = tempfile::tempdir().expect("dir");
    let plain_text = std::fs::read_to_string(layout().root.join("profiles/rfc7591-plain.yaml")).expect("profile");
    let unmanaged = dir.path().join("unmanaged.yaml");
    std::fs::write(&unmanaged, plain_text.replace("management: registration-token", "management: none"))
        .expect("write");
    let unmanaged_plain =
        LoadProfile { target_profile: unmanaged.display().to_string(), keep_clients: KeepClients::Most(2), ..plain };
    let options = LoadOptions { target: Some(server.url()), ..LoadOptions::default() };
    let error =
        load::run(&layout(), &unmanaged_plain, &options, |_| {}, |_, _| {}).await.expect_err("refused").to_string();
    assert!(
        error.contains("transaction `read`: `read` needs RFC 7592 management") && !error.contains("`register`"),
        "{error}"
    );
    let register_only = LoadProfile { transactions: unmanaged_plain.transactions[..1].to_vec(), ..unmanaged_plain };
    let report = load_against(&server.url(), &register_only).await;
    assert!(report.unexpected == 0 && report.transactions.len() == 1, "no cleanup line: {}", load::render(&report));
    // Each registration counted, the preflight's and the users' own clients too.
    assert!(report.clients_stranded as u64 > report.requests, "each counted: {}", load::render(&report));
    assert!(load::render(&report).contains("left that no request can delete"), "{}", load::render(&report));
    server.stop().await;
}

#[test]
fn a_broken_load_profile_names_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("bad.yaml"), "name: bad\nusers: lots\n").expect("write");
    let err = load::read_profile("bad", &[dir.path().to_path_buf()]).expect_err("broken").to_string();
    assert!(err.contains("bad.yaml:2:8"), "{err}");
    assert!(load::read_profile("smoke", &[Path::new(env!("CARGO_MANIFEST_DIR")).join("load")]).is_ok());
}

/// SIGTERM in the middle of a load against a target of its own (so the load keeps a ledger):
/// the users stop, every client is deleted, the partial summary says it was interrupted, exit 130.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_load_cleans_up_and_exits_130() {
    let server = server::start(test_pki(), ServerConfig::default()).await.expect("server");
    let root = tempfile::tempdir().expect("tempdir");
    dcr_harness::testing::copy_project(root.path());
    let child = dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness"))
        .args(["load", "load/steady.yaml", "--root", &root.path().display().to_string(), "--target", &server.url()])
        .current_dir(root.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(server.registered_clients() > 0, "the users registered their clients");
    let killed = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().expect("wait")).await.expect("join");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(130), "{said}");
    assert!(said.contains("interrupted"), "{said}");
    assert_eq!(server.registered_clients(), 0, "every client the load registered was deleted");
    let ledgers = root.path().join(".dcr-harness/ledgers");
    let left = std::fs::read_dir(&ledgers).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "nothing left, so no ledger");
    server.stop().await;
}

/// A target that goes away in the middle of a load: the clients its users registered cannot
/// be deleted, and the load says so, names the ledger that lists them, and exits 6 (not 0, and
/// not hidden behind the thresholds its errors also breach).
#[tokio::test(flavor = "multi_thread")]
async fn a_target_that_dies_mid_load_leaves_a_ledger_and_exit_6() {
    let server = server::start(test_pki(), ServerConfig::default()).await.expect("server");
    let root = tempfile::tempdir().expect("tempdir");
    dcr_harness::testing::copy_project(root.path());
    let url = server.url();
    let dir = root.path().display().to_string();
    let child = tokio::task::spawn_blocking(move || {
        dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness"))
            .args(["load", "load/smoke.yaml", "--root", &dir, "--target", &url])
            .output()
            .expect("run")
    });
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(server.registered_clients() > 0, "the users registered their clients");
    server.stop().await;
    let out = child.await.expect("join");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(6), "{said}");
    assert!(said.contains("client(s) left on the target: delete them with `dcr-harness cleanup"), "{said}");
    let ledgers: Vec<_> = std::fs::read_dir(root.path().join(".dcr-harness/ledgers")).expect("ledgers").collect();
    assert_eq!(ledgers.len(), 1, "one ledger names what is left");
}

/// Three shards as processes, started together, against one server: `load merge` gives counts
/// equal to the sum of the shards' and percentiles equal to one histogram fed every sample.
#[tokio::test(flavor = "multi_thread")]
async fn three_shards_merge_into_the_figures_of_one_load() {
    use dcr_harness::load::figures::Hdr;
    let server = server::start(test_pki(), ServerConfig::default()).await.expect("server");
    let root = tempfile::tempdir().expect("tempdir");
    dcr_harness::testing::copy_project(root.path());
    let profile = "name: sharded\nusers: 3\nhatch_rate: 30\nrun_time: 2\nthresholds: { max_unexpected_share: 0.0 }\ntransactions:\n  - { name: read, op: read, weight: 2, expect: [200] }\n  - { name: bad, op: register, mutation: signed-by-another-key, weight: 1, expect: [401] }\n";
    std::fs::write(root.path().join("load/sharded.yaml"), profile).expect("write");
    let dir = root.path().display().to_string();
    let start_at =
        (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() + 3).to_string();
    let shards: Vec<_> = (0..3)
        .map(|i| {
            let args = [
                "load",
                "sharded",
                "--root",
                &dir,
                "--target",
                &server.url(),
                "--shard",
                &format!("{i}/3"),
                "--start-at",
                &start_at,
                "--out",
                &format!("{dir}/shard-{i}.json"),
            ]
            .map(str::to_string);
            tokio::task::spawn_blocking(move || {
                dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness")).args(args).output().expect("run")
            })
        })
        .collect();
    for shard in shards {
        let out = shard.await.expect("join");
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let files: Vec<String> = (0..3).map(|i| format!("{dir}/shard-{i}.json")).collect();
    let merged_json = format!("{dir}/merged.json");
    let mut args = vec!["load".to_string(), "merge".into()];
    args.extend(files.iter().cloned());
    args.extend(["--report".into(), format!("json={merged_json}")]);
    let out = dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness")).args(&args).output().expect("merge");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{printed}{}", String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains("3 shards merged"), "{printed}");
    let merged: LoadReport = serde_json::from_str(&std::fs::read_to_string(&merged_json).expect("read")).expect("json");
    let shards: Vec<load::Measurement> = files
        .iter()
        .map(|f| serde_json::from_str(&std::fs::read_to_string(f).expect("read")).expect("shard"))
        .collect();
    let sum: u64 = shards.iter().map(|s| s.report().requests).sum();
    assert_eq!((merged.requests, merged.users, merged.shards), (sum, 3, 3));
    let mut one = Hdr::default();
    for t in shards.iter().flat_map(|s| &s.transactions) {
        one.add(&t.latency);
    }
    let q = |p: f64| one.0.value_at_quantile(p);
    assert_eq!((merged.latency.p50_us, merged.latency.p99_us, merged.latency.max_us), (q(0.5), q(0.99), one.0.max()));
    // Odd shards speak as the profile's other TPP: the server saw both organisations register
    // (each user its client, the preflight one more), and the merged report names both.
    let speakers: Vec<&str> = shards.iter().flat_map(|s| &s.speaking_as).map(String::as_str).collect();
    assert_eq!(
        speakers,
        ["tpp-a (QWAC qwac, QSEAL qseal)", "tpp-b (QWAC qwac-b, QSEAL qseal-b)", "tpp-a (QWAC qwac, QSEAL qseal)"]
    );
    assert_eq!(merged.speaking_as.len(), 2, "{:?}", merged.speaking_as);
    let by_owner = server.stats().registrations_by_owner();
    assert_eq!(
        (by_owner.get("PSDGB-FCA-123456"), by_owner.get("PSDGB-FCA-654321")),
        (Some(&(2 + 2)), Some(&(1 + 1))),
        "{by_owner:?}"
    );
    assert_eq!(server.registered_clients(), 0);
    server.stop().await;
}

/// A fixed measurement rendered: the summary says first what was measured (the signing mode
/// above all), then figures in microseconds, the unexpected answers by code, and every
/// threshold with its value and limit; the HTML page draws its four charts inline.
#[test]
fn a_summary_says_first_what_was_measured() {
    use dcr_harness::load::figures::{Measurement, Outcome, Tally, Tick, FORMAT};
    let mut register = Tally::named("register");
    let mut read = Tally::named("read");
    let tick = Tick { requests: 1000, unexpected: 4, p50_us: 1700, p99_us: 2700 };
    for i in 0..1000u64 {
        let us = 800 + (i * 37) % 2000;
        let refused = i % 250 == 0;
        let answer = if refused { Ok(401) } else { Ok(201) };
        let code = refused.then_some("invalid_signature");
        register.record(&Outcome { answer, expected: !refused, code, latency_us: us });
        read.record(&Outcome { answer: Ok(200), expected: true, code: None, latency_us: us / 2 });
    }
    read.record(&Outcome { answer: Err("timeout"), expected: false, code: None, latency_us: 15_000_000 });
    let measurement = Measurement {
        format: FORMAT,
        profile: "fixed".into(),
        target: "https://127.0.0.1:8443".into(),
        signing: Signing::PerSecond,
        signatures_made: 10,
        signatures_reused: 990,
        model: "open model, to 200/s over 10 s (at most 8 in flight)".into(),
        users: 8,
        shards: 1,
        speaking_as: vec!["tpp-a (QWAC qwac, QSEAL qseal)".into()],
        tls: dcr_harness::transport::TlsFigures {
            handshakes: 9,
            resumptions_offered: 1,
            group: Some("X25519MLKEM768".into()),
        },
        duration_s: 10.0,
        scheduled: Some(2000),
        late_starts: 3,
        max_lag_us: 4200,
        cpu_s: Some(0.5),
        transactions: vec![register, read],
        timeline: vec![tick.clone(), tick],
        thresholds: Thresholds { p99_ms: Some(2.0), max_unexpected_share: Some(0.001), ..Thresholds::default() },
        interrupted: false,
    };
    let report = measurement.report();
    insta::assert_snapshot!("load_summary", load::render(&report));
    let page = load::render::html(&report).expect("rendered");
    assert_eq!(page.matches("<svg").count(), 3, "throughput, latency over time, percentile curve");
    for part in ["Status mix per transaction", "class=\"seg bad\"", "BREACHED", "per-second", "X25519MLKEM768"] {
        assert!(page.contains(part), "{part}");
    }
    assert!(!page.contains("<script src") && !page.contains("href=\"http"), "self-contained");
}

/// The run's preflight comes before the load: a transaction naming an identity the PKI does not
/// have stops it with what to fix, before any user registers anything.
#[tokio::test(flavor = "multi_thread")]
async fn a_load_with_an_unknown_identity_stops_before_it_starts() {
    let server = server::start(test_pki(), ServerConfig::default()).await.expect("server");
    let typo = LoadProfile {
        transactions: vec![transaction("read", Operation::Read, None, Some("qwac-nowhere"), 200)],
        ..profile(Thresholds::default())
    };
    let options = LoadOptions { target: Some(server.url()), ..LoadOptions::default() };
    let error = load::run(&layout(), &typo, &options, |_| {}, |_, _| {}).await.expect_err("refused").to_string();
    assert!(error.contains("transaction `read`: identity `qwac-nowhere` is not in the PKI"), "{error}");
    assert_eq!(server.stats().requests.load(std::sync::atomic::Ordering::Relaxed), 0, "no request sent");
    server.stop().await;
}

/// By default a user keeps a few registrations and deletes its oldest beyond them while the load
/// runs, measured on a line of its own: the target's client count stays bounded, and only what
/// the users keep is left to delete after the run time.
#[tokio::test(flavor = "multi_thread")]
async fn a_rolling_cleanup_keeps_the_targets_clients_bounded() {
    let server = server::start(test_pki(), ServerConfig::default()).await.expect("server");
    let keep = 5;
    let rolling = LoadProfile { keep_clients: KeepClients::Most(keep), ..registrations(Signing::Fresh, 2) };
    let report = load_against(&server.url(), &rolling).await;
    assert_eq!(report.unexpected, 0, "{}", load::render(&report));
    let registered = transaction_named(&report, "register").requests;
    let rolled = transaction_named(&report, load::ROLLING_CLEANUP).requests;
    let users = rolling.users as u64;
    assert!(registered > 10 * users * keep as u64, "enough registrations to roll: {registered}");
    assert!(registered - rolled <= users * (keep as u64 + 1), "{registered} registered, {rolled} deleted during");
    assert!(report.clients_deleted as u64 <= users * (keep as u64 + 2), "left for after: {}", report.clients_deleted);
    let bound = rolling.users * (keep + 2) + 1;
    assert!(server.peak_registered_clients() <= bound, "peak {} > {bound}", server.peak_registered_clients());
    assert_eq!(server.registered_clients(), 0);
    let rendered = load::render(&report);
    assert!(rendered.contains(load::ROLLING_CLEANUP), "{rendered}");
    server.stop().await;
}

/// Registrations paired with deletions: each `delete` removes the user's latest registration, so
/// the target's client count stays flat and only each user's last clients remain for cleanup.
#[tokio::test(flavor = "multi_thread")]
async fn deletions_paired_with_registrations_leave_almost_nothing_to_clean_up() {
    let server = server::start(test_pki(), ServerConfig::default()).await.expect("server");
    let paired = LoadProfile {
        transactions: vec![
            transaction("register", Operation::Register, None, None, 201),
            transaction("delete", Operation::Delete, None, None, 204),
        ],
        ..profile(Thresholds::default())
    };
    let report = load_against(&server.url(), &paired).await;
    assert_eq!(report.unexpected, 0, "{}", load::render(&report));
    let (registered, deleted) =
        (transaction_named(&report, "register").requests, transaction_named(&report, "delete").requests);
    assert!(registered > 20 && registered - deleted <= 3, "{registered} registered, {deleted} deleted");
    assert!(
        report.clients_deleted <= 2 * 3,
        "each user's own client and its last registration: {}",
        report.clients_deleted
    );
    assert_eq!(server.registered_clients(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_load_against_a_baseline_fails_on_a_regression_and_passes_otherwise() {
    let server = server::start(test_pki(), ServerConfig::default()).await.expect("server");
    let ratios = Thresholds { p99_ratio: Some(1.2), throughput_ratio: Some(0.5), ..Thresholds::default() };
    let mut short = profile(ratios.clone());
    short.run_time = Some(1);
    let measured = load_against(&server.url(), &short).await;
    server.stop().await;
    assert!(measured.thresholds.iter().all(|t| t.met), "no ratio is judged without a baseline");
    let dir = tempfile::tempdir().expect("a temporary directory");
    // The baseline as the JSON report writes it, doctored: a regression injected by a baseline
    // far faster than this load, and none by one far slower.
    let judged_against = |p99_us: u64, throughput: f64| {
        let mut baseline = measured.clone();
        baseline.latency.p99_us = p99_us;
        baseline.throughput = throughput;
        let path = dir.path().join(format!("baseline-{p99_us}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&baseline).expect("JSON")).expect("written");
        let earlier = load::baseline::read(&path).expect("a load report");
        let mut now = measured.clone();
        load::baseline::apply(&mut now, &earlier, &path, &ratios);
        now
    };
    let regressed = judged_against(1, measured.throughput);
    let breached: Vec<&str> = regressed.breaches().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(breached, vec!["p99 latency against the baseline"], "{}", load::render(&regressed));
    assert_eq!(regressed.outcome(), dcr_harness::run::Outcome::ThresholdsBreached);
    let summary = load::render(&regressed);
    assert!(summary.contains("against the baseline (") && summary.contains("p99 latency:"), "{summary}");
    let slower_before = judged_against(60_000_000, 1.0);
    assert!(slower_before.breaches().is_empty(), "{}", load::render(&slower_before));
    assert_eq!(slower_before.outcome(), dcr_harness::run::Outcome::Success);
}

/// `load --fault`: the QTSP's services made slow, then failing, while the embedded server is
/// loaded; its own fetch figures and the load's answers show each fault, and the hard-failing
/// server refuses what it cannot prove current.
#[tokio::test(flavor = "multi_thread")]
async fn each_fault_in_the_qtsps_services_changes_what_the_load_shows() {
    let mut short = profile(Thresholds::default());
    short.run_time = Some(3);
    let under = |faults: Option<&str>| {
        let short = short.clone();
        let faults = faults.map(|f| f.parse::<dcr_harness::fault::Faults>().expect("faults"));
        async move {
            let options = LoadOptions { faults, ..LoadOptions::default() };
            let (_, report) = load::run(&layout(), &short, &options, |_| {}, |_, _| {}).await.expect("load");
            report
        }
    };
    let fetches = |report: &LoadReport, service: &str| {
        report.server_fetches.iter().find(|f| f.service == service).map_or((0, 0), |f| (f.fetches, f.mean_us))
    };
    let clean = under(None).await;
    assert_eq!(clean.unexpected, 0, "{}", load::render(&clean));
    assert!(fetches(&clean, "ocsp").0 > 0, "the server asks its QTSP: {:?}", clean.server_fetches);
    let slow = under(Some("ocsp:latency=250")).await;
    assert_eq!(slow.faults.as_deref(), Some("ocsp:latency=250"));
    assert!(fetches(&slow, "ocsp").1 >= 250_000, "each answer waited out: {:?}", slow.server_fetches);
    assert!(slow.latency.max_us >= 250_000, "a request waited for its status: {}", load::render(&slow));
    let crl_only = under(Some("ocsp:down")).await;
    assert_eq!(crl_only.unexpected, 0, "the CRL answers for the responder: {}", load::render(&crl_only));
    assert!(fetches(&crl_only, "crl").0 > 0, "{:?}", crl_only.server_fetches);
    let neither = under(Some("ocsp:down,crl:error=503")).await;
    assert!(neither.unexpected > 0, "hard fail: signed requests refused: {}", load::render(&neither));
    let bad_signature = transaction_named(&neither, "bad-signature");
    assert_eq!(bad_signature.unexpected, 0, "a refusal is still a refusal under faults");
}

#[test]
fn a_fault_in_a_service_the_run_does_not_host_stops_the_load_with_exit_2() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dcr-harness"))
        .args(["load", "smoke", "--profile", "rfc7591-plain", "--fault", "ocsp:down"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("hosts no ocsp service"), "{stderr}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dcr-harness"))
        .args(["load", "smoke", "--fault", "ocsp:latency=0"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("latency=MS (1 to 60000)"), "{stderr}");
}

/// `load --with-suite`: the reference profile's negative scenarios idle, then beside the load at
/// 80% of the saturation the profile's own load measured: the clean server gives every idle
/// verdict again; one that skips signature checks when busy is caught, by name and how.
#[tokio::test(flavor = "multi_thread")]
async fn the_negative_scenarios_beside_a_load_catch_a_flaw_only_a_load_shows() {
    let mut short = profile(Thresholds::default());
    short.users = 8;
    short.run_time = Some(2);
    let with_suite = |flaws: Vec<dcr_harness::server::Flaw>| {
        let short = short.clone();
        async move {
            let embedded = dcr_harness::suite::Embedded { flaws: flaws.into_iter().collect(), ..Default::default() };
            let options = LoadOptions { embedded: embedded.clone(), ..LoadOptions::default() };
            let (_, saturated) = load::run(&layout(), &short, &options, |_| {}, |_, _| {}).await.expect("saturation");
            let hold = load::HoldAt::of(short.suite_at, Some(load::HoldAt::saturation_of(&saturated)));
            let options = LoadOptions { with_suite: Some(hold), embedded, ..LoadOptions::default() };
            let (_, report) = load::run(&layout(), &short, &options, |_| {}, |_, _| {}).await.expect("load");
            report
        }
    };
    let clean = with_suite(vec![]).await;
    let held = clean.under_load.as_ref().expect("the scenarios ran beside the load");
    assert!(held.scenarios >= 50, "the reference profile's negative scenarios: {}", held.scenarios);
    assert!(held.runs_under_load >= held.scenarios, "each ran under load: {held:?}");
    assert!(held.held(), "{}", load::render(&clean));
    assert_eq!(clean.outcome(), dcr_harness::run::Outcome::Success, "{}", load::render(&clean));
    // The load ends when every scenario has run beside it, not at its ten-minute bound, and
    // what it says was scheduled is what fell due while it ran.
    assert!(clean.duration_s < 300.0, "{} s", clean.duration_s);
    let scheduled = clean.scheduled_rate.expect("an open model");
    assert!((0.8..1.2).contains(&(scheduled / held.rate)), "scheduled {scheduled}/s, held at {}/s", held.rate);
    let flawed = with_suite(vec![dcr_harness::server::Flaw::SkipSignatureWhenBusy]).await;
    let caught = flawed.under_load.as_ref().expect("the scenarios ran beside the load");
    assert!(caught.not_passing_idle.is_empty(), "idle, the flaw does not show: {caught:?}");
    let refused_then_taken =
        caught.degraded.iter().filter(|d| d.how.iter().any(|h| h.starts_with("a 2xx where a refusal was due")));
    assert!(refused_then_taken.count() >= 3, "{}", load::render(&flawed));
    let summary = load::render(&flawed);
    assert!(summary.contains("DEGRADED sig-") && summary.contains("PASS idle, FAIL under load"), "{summary}");
    assert_eq!(flawed.outcome(), dcr_harness::run::Outcome::ThresholdsBreached);
}

/// The shipped `cdr-dcr` profile holds the CDR's 1,000 ms on the DCR endpoint: the embedded data
/// holder meets it, and one that slows a client's reads in a burst breaches its `max_ms`.
#[tokio::test(flavor = "multi_thread")]
async fn the_cdr_limit_is_met_by_the_data_holder_and_breached_by_a_slow_one() {
    let mut cdr = load::read_profile("cdr-dcr", &layout().load).expect("the shipped cdr-dcr profile");
    cdr.run_time = Some(2);
    let under = |flaws: Vec<dcr_harness::server::Flaw>| {
        let cdr = cdr.clone();
        async move {
            let embedded = dcr_harness::suite::Embedded { flaws: flaws.into_iter().collect(), ..Default::default() };
            let options = LoadOptions { embedded, ..LoadOptions::default() };
            load::run(&layout(), &cdr, &options, |_| {}, |_, _| {}).await.expect("load").1
        }
    };
    let limit = |report: &LoadReport, name: &str| {
        report.thresholds.iter().find(|t| t.name == name).map(|t| t.met).unwrap_or_else(|| panic!("{name} judged"))
    };
    let clean = under(vec![]).await;
    assert!(limit(&clean, "max latency") && limit(&clean, "p95 latency"), "{}", load::render(&clean));
    assert_eq!(clean.unexpected, 0, "{}", load::render(&clean));
    let slow = under(vec![dcr_harness::server::Flaw::SlowUnderBurst]).await;
    assert!(!limit(&slow, "max latency"), "a read 1.5 s late: {}", load::render(&slow));
    assert_eq!(slow.outcome(), dcr_harness::run::Outcome::ThresholdsBreached);
}

/// `load --engine goose` runs every shipped load profile goose can run (closed model, fresh
/// signatures) into the same summary: goose's users, the harness's plans, signatures and
/// expected statuses, every client deleted. The one it cannot run is refused, saying why.
#[cfg(feature = "goose")]
#[tokio::test(flavor = "multi_thread")]
async fn goose_runs_every_shipped_closed_model_profile_into_the_same_summary() {
    use dcr_harness::load::goose_engine::{self, GooseOptions};
    let layout = layout();
    let mut ran = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&layout.load[0]).expect("load/").flatten().map(|e| e.path()).collect();
    files.sort();
    let report_dir = tempfile::tempdir().expect("a temporary directory");
    for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "yaml")) {
        let mut profile = load::read_profile(&file.display().to_string(), &layout.load).expect("a shipped profile");
        if let Some(why) = goose_engine::refuses(&profile) {
            assert!(why.contains("per-second"), "{}: {why}", profile.name);
            continue;
        }
        profile.run_time = Some(2);
        let html_report = report_dir.path().join(format!("{}.html", profile.name));
        let options = LoadOptions {
            engine: load::Engine::Goose(GooseOptions { html_report: Some(html_report.clone()) }),
            ..LoadOptions::default()
        };
        let (_, report) = load::run(&layout, &profile, &options, |_| {}, |_, _| {}).await.expect("a goose load");
        let summary = load::render(&report);
        assert!(report.model.contains("on goose"), "{summary}");
        assert!(report.requests > 0 && report.unexpected == 0, "{}: {summary}", profile.name);
        assert!(report.transactions.iter().all(|t| t.requests > 0 || t.name.contains("delete")), "{summary}");
        assert!(report.clients_left.is_empty(), "{}: {:?}", profile.name, report.clients_left);
        let html = std::fs::read_to_string(&html_report).expect("goose wrote its report");
        assert!(html.contains("Goose"), "goose's own HTML report");
        ran.push(profile.name);
    }
    assert!(ran.len() >= 5, "the closed-model profiles: {ran:?}");
}

#[test]
fn what_goose_cannot_run_is_refused_with_exit_2() {
    let refused = |args: &[&str], says: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dcr-harness"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    };
    refused(&["load", "signed-post-per-second", "--engine", "goose"], "per-second");
    refused(&["load", "smoke", "--engine", "goose", "--goose-report", "/tmp/report.txt"], "name a .html file");
    refused(&["load", "smoke", "--goose-report", "/tmp/report.html"], "needs `--engine goose`");
}
