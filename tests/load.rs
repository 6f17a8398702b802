//! A short, bounded load (a few seconds, 127.0.0.1) against the reference server: the metrics
//! add up, refused bad signatures count as expected answers, every client a user registered is
//! deleted, and a threshold that cannot be met is reported as breached.

use std::path::Path;

use dcr_harness::load::{self, LoadProfile, LoadTransaction, Thresholds};
use dcr_harness::scenario::{Operation, Who};
use dcr_harness::server::{self, ServerConfig};
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
    }
}

fn profile(thresholds: Thresholds) -> LoadProfile {
    LoadProfile {
        name: "test".into(),
        description: String::new(),
        target_profile: "reference".into(),
        users: 3,
        hatch_rate: 10.0,
        run_time: 2,
        transactions: vec![
            transaction("read", Operation::Read, None, None, 200),
            transaction("refresh", Operation::RefreshSecret, None, None, 200),
            transaction("register", Operation::Register, None, None, 201),
            transaction("bad-signature", Operation::Register, Some(Mutation::SignedByAnotherKey), None, 401),
            transaction("stale-date", Operation::Update, Some(Mutation::DateStale), None, 400),
            transaction("untrusted-qwac", Operation::Register, None, Some("qwac-untrusted"), 401),
        ],
        thresholds,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_load_adds_up_and_cleans_up() {
    let pki = test_pki();
    let layout = Layout { pki: test_pki_dir(), ..Layout::at(Path::new(env!("CARGO_MANIFEST_DIR"))) };
    let server = server::start(pki, ServerConfig::default()).await.expect("server");
    let report = load::run(
        &layout,
        &profile(Thresholds { max_unexpected_share: Some(0.0), ..Thresholds::default() }),
        Some(server.url()),
        None,
    )
    .await
    .expect("load");
    assert!(report.requests > 50, "{report:?}");
    assert_eq!(report.requests, report.answered, "every request was answered");
    assert_eq!(report.transactions.iter().map(|t| t.requests).sum::<usize>(), report.requests, "transactions add up");
    assert_eq!(report.unexpected, 0, "{}", load::render(&report));
    for name in ["bad-signature", "stale-date", "untrusted-qwac", "read", "refresh", "register"] {
        let t = report.transactions.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("{name} ran"));
        assert!(t.requests > 0, "{name} ran");
    }
    assert!(report.breaches.is_empty(), "{:?}", report.breaches);
    assert!(report.p50_ms > 0.0 && report.p50_ms <= report.p99_ms);
    assert_eq!(server.registered_clients(), 0, "users delete what they registered");
    assert!(server.stats().requests.load(std::sync::atomic::Ordering::Relaxed) as usize >= report.requests);

    let impossible = Thresholds { min_throughput: Some(1e9), p99_ms: Some(0.0), ..Thresholds::default() };
    let mut short = profile(impossible);
    short.run_time = 1;
    let breached = load::run(&layout, &short, Some(server.url()), None).await.expect("load");
    assert_eq!(breached.breaches.len(), 2, "{:?}", breached.breaches);
    server.stop().await;
}

#[test]
fn a_broken_load_profile_names_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("bad.yaml"), "name: bad\nusers: lots\n").expect("write");
    let err = load::read_profile("bad", dir.path()).expect_err("broken").to_string();
    assert!(err.contains("bad.yaml:2:8"), "{err}");
    assert!(load::read_profile("smoke", &Path::new(env!("CARGO_MANIFEST_DIR")).join("load")).is_ok());
}

/// SIGTERM in the middle of a load against a target of its own (so the load keeps a ledger):
/// goose stops, every client is deleted, the partial summary says it was interrupted, exit 130.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_load_cleans_up_and_exits_130() {
    let server = server::start(test_pki(), ServerConfig::default()).await.expect("server");
    let root = tempfile::tempdir().expect("tempdir");
    dcr_harness::testing::copy_project(root.path());
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_dcr-harness"))
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
        std::process::Command::new(env!("CARGO_BIN_EXE_dcr-harness"))
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
