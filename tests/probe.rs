//! `dcr-harness probe` against the reference server: the clock skew it reports is the one the
//! server was started with (to the second, either way), each spelling it calls accepted the
//! server's own verifier accepts and each it calls refused it refuses, and no client is left.

use std::path::Path;
use std::time::{Duration, SystemTime};

use dcr_harness::probe::Spelling;
use dcr_harness::server::{self, ServerConfig};
use dcr_harness::signature::{self, Dialect, Message, VerifyPolicy};
use dcr_harness::suite::{self, Layout};
use dcr_harness::testing::{test_pki, test_pki_dir};

#[tokio::test(flavor = "multi_thread")]
async fn probe_reports_the_servers_skew_and_only_spellings_its_verifier_accepts() {
    let pki = test_pki();
    let ledgers = tempfile::tempdir().expect("tempdir");
    let layout = Layout {
        pki: test_pki_dir(),
        ledgers: ledgers.path().to_path_buf(),
        ..Layout::at(Path::new(env!("CARGO_MANIFEST_DIR")))
    };
    let max_skew = 137;
    let config = ServerConfig { max_skew: Duration::from_secs(max_skew), ..ServerConfig::default() };
    let server = server::start(pki, config).await.expect("starts");
    let report = suite::probe(&layout, "reference", Some(server.url())).await.expect("the probe runs");
    let max = max_skew as i64;
    for (direction, skew) in [("past", report.past), ("future", report.future)] {
        // The signed Date counts whole seconds, so the edge may show one second early.
        assert!((max - 1..=max).contains(&skew.accepted), "{direction}: {skew:?}");
        assert!(skew.refused.is_some_and(|r| r <= max + 1), "{direction}: {skew:?}");
    }
    assert_eq!(server.registered_clients(), 0, "every client the probe registered is deleted");

    let identity = pki.identity("qseal").expect("qseal");
    let policy = VerifyPolicy { max_skew: Some(Duration::from_secs(max_skew)), ..VerifyPolicy::default() };
    assert_eq!(report.spellings.len(), Spelling::ALL.len());
    for (spelling, status) in &report.spellings {
        let mut msg = Message::new("POST", "/client/v1/register", br#"{"client_name":"x"}"#.to_vec());
        spelling.apply(identity, &Dialect::default(), &mut msg, SystemTime::now()).expect("spelt");
        let verdict = signature::verify(&msg, &policy, SystemTime::now());
        assert_eq!(
            *status == 201,
            verdict.is_ok(),
            "{spelling:?}: the probe saw {status}, the verifier says {verdict:?}"
        );
    }
    let accepted = report.spellings.iter().filter(|(_, s)| *s == 201).count();
    assert!(accepted >= 5 && accepted < report.spellings.len(), "both kinds found: {:?}", report.spellings);
    let markdown = report.markdown();
    assert!(markdown.contains(&format!("up to **{} s** in the future", report.future.accepted)), "{markdown}");
    server.stop().await;
}
