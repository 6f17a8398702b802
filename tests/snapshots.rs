//! The snapshot workflow against the reference server: a new snapshot is pending, accepting it
//! stores it, a flaw that changes the answer fails the check with a diff and leaves a pending
//! version, and review rejects or accepts it. Under CI a missing snapshot fails.

use std::path::Path;

use dcr_harness::run::snapshot::{self, SnapshotOptions};
use dcr_harness::run::{RunOptions, RunResult, Verdict};
use dcr_harness::scenario::Filter;
use dcr_harness::server::Flaw;
use dcr_harness::suite::{self, Embedded, Layout, SuiteOptions};
use dcr_harness::testing::{test_pki, test_pki_dir};

const SCENARIO: &str = "metadata-minimal-registration";

async fn run(dir: &Path, flaws: &[Flaw], update: bool, require_existing: bool) -> RunResult {
    test_pki();
    let layout = Layout { pki: test_pki_dir(), ..Layout::at(Path::new(env!("CARGO_MANIFEST_DIR"))) };
    let options = SuiteOptions {
        profile: "reference".into(),
        filter: Filter { ids: vec![SCENARIO.into()], ..Filter::default() },
        embedded: Embedded { flaws: flaws.iter().copied().collect(), ..Embedded::default() },
        run: RunOptions {
            snapshots: Some(SnapshotOptions { dir: dir.to_path_buf(), update, require_existing }),
            ..RunOptions::default()
        },
        ..SuiteOptions::default()
    };
    suite::run(&layout, &options).await.expect("run").result
}

fn stored(dir: &Path) -> std::path::PathBuf {
    snapshot::path(dir, "reference", SCENARIO, 0)
}

fn pending(dir: &Path) -> std::path::PathBuf {
    let mut p = stored(dir).into_os_string();
    p.push(".new");
    p.into()
}

fn snapshot_check(result: &RunResult) -> dcr_harness::run::check::CheckOutcome {
    result.scenarios[0].steps[0]
        .checks
        .iter()
        .find(|c| matches!(c.check, dcr_harness::run::model::Check::Snapshot(_)))
        .cloned()
        .expect("a snapshot check")
}

#[tokio::test(flavor = "multi_thread")]
async fn create_change_review_accept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();

    let first = run(dir, &[], false, false).await;
    assert_eq!(first.scenarios[0].verdict, Verdict::Pass);
    assert!(pending(dir).exists() && !stored(dir).exists(), "a new snapshot is pending");
    assert_eq!(snapshot::accept(dir, Some(SCENARIO)).expect("accept"), 1);
    assert!(stored(dir).exists() && !pending(dir).exists());
    let accepted = std::fs::read_to_string(stored(dir)).expect("stored");
    assert!(
        accepted.contains("cache-control: no-store") && accepted.contains("\"client_secret\": \"[client_secret]\"")
    );

    let again = run(dir, &[], false, false).await;
    assert_eq!(again.scenarios[0].verdict, Verdict::Pass, "the same answer matches");
    assert!(!pending(dir).exists());

    // A flaw that changes only the headers: the snapshot is what catches it.
    let changed = run(dir, &[Flaw::OmitNoStore], false, false).await;
    assert_eq!(changed.scenarios[0].verdict, Verdict::Fail);
    let check = snapshot_check(&changed);
    assert!(!check.passed && check.got.contains("-  cache-control: no-store"), "a diff: {}", check.got);
    assert!(pending(dir).exists());

    let mut output = Vec::new();
    let (accepted_n, rejected_n) = snapshot::review(dir, &mut "r\n".as_bytes(), &mut output).expect("review");
    assert_eq!((accepted_n, rejected_n), (0, 1));
    assert!(String::from_utf8_lossy(&output).contains("cache-control"), "review shows the diff");
    assert!(!pending(dir).exists());
    assert_eq!(std::fs::read_to_string(stored(dir)).expect("stored"), accepted, "rejecting keeps the stored one");

    run(dir, &[Flaw::OmitNoStore], false, false).await;
    let (accepted_n, _) = snapshot::review(dir, &mut "a\n".as_bytes(), &mut Vec::new()).expect("review");
    assert_eq!(accepted_n, 1);
    assert!(!std::fs::read_to_string(stored(dir)).expect("stored").contains("cache-control"));
}

#[tokio::test(flavor = "multi_thread")]
async fn under_ci_a_missing_snapshot_fails_and_update_writes_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = run(dir.path(), &[], false, true).await;
    assert_eq!(missing.scenarios[0].verdict, Verdict::Fail);
    let updated = run(dir.path(), &[], true, true).await;
    assert_eq!(updated.scenarios[0].verdict, Verdict::Pass);
    assert!(stored(dir.path()).exists());
    assert_eq!(run(dir.path(), &[], false, true).await.scenarios[0].verdict, Verdict::Pass);
}

#[test]
fn the_committed_snapshots_have_no_pending_versions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    assert!(snapshot::pending(&dir, None).is_empty(), "review or accept the pending snapshots before committing");
    assert!(dir.join("reference").join(SCENARIO).join("step-1.snap").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_target_is_never_compared_with_the_embedded_servers_snapshots() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    // The embedded server's stored answer, deliberately unlike anything a server would say.
    std::fs::create_dir_all(stored(dir).parent().expect("parent")).expect("mkdir");
    std::fs::write(stored(dir), "---\nsource: x\n---\nstatus: 999\n").expect("write");
    let foreign = dcr_harness::server::start(test_pki(), dcr_harness::server::ServerConfig::default())
        .await
        .expect("a second server");
    let layout = Layout { pki: test_pki_dir(), ..Layout::at(Path::new(env!("CARGO_MANIFEST_DIR"))) };
    let options = SuiteOptions {
        profile: "reference".into(),
        target: Some(foreign.url()),
        filter: Filter { ids: vec![SCENARIO.into()], ..Filter::default() },
        run: RunOptions {
            snapshots: Some(SnapshotOptions { dir: dir.to_path_buf(), update: false, require_existing: true }),
            ..RunOptions::default()
        },
        ..SuiteOptions::default()
    };
    let result = suite::run(&layout, &options).await.expect("run").result;
    assert_eq!(result.scenarios[0].verdict, Verdict::Pass, "{:?}", snapshot_check(&result));
    let key = format!("reference@127.0.0.1-{}", foreign.addr().port());
    let pending = snapshot::pending(&dir.join(&key), None);
    assert_eq!(pending.len(), 1, "recorded as pending under {key}");
    assert!(std::fs::read_to_string(stored(dir)).expect("kept").contains("status: 999"), "the embedded one untouched");
    foreign.stop().await;
}
