//! The suite proves it fails only for real faults: against the reference server with each named
//! variant (a behaviour the RFCs allow that differs from the default), every scenario that
//! applies passes, in every mode's profile, and no client is left behind. The flaw matrix proves the
//! opposite half: that every check can fail.

use std::path::Path;

use dcr_harness::run::Outcome;
use dcr_harness::server::Variant;
use dcr_harness::suite::{self, Embedded, Layout, SuiteOptions};
use dcr_harness::testing::{test_pki, test_pki_dir};

fn layout() -> Layout {
    test_pki();
    Layout { pki: test_pki_dir(), ..Layout::at(Path::new(env!("CARGO_MANIFEST_DIR"))) }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_suite_passes_every_variant_the_rfcs_allow_in_every_profile() {
    let mut false_failures = Vec::new();
    for variant in Variant::ALL.iter().copied() {
        for profile in ["reference", "rfc7591-plain", "fapi-dcr", "obuk", "fapi-message-signing", "berlin-group", "cdr"]
        {
            let options = SuiteOptions {
                profile: profile.into(),
                embedded: Embedded { variants: [variant].into(), ..Embedded::default() },
                ..SuiteOptions::default()
            };
            let run = suite::run(&layout(), &options).await.unwrap_or_else(|e| panic!("{variant} {profile}: {e}"));
            let result = run.result;
            // A client the server strands by revoking its lent token (RFC 7592 §2.1) stays on
            // it, named as stranded; nothing else may.
            let stranded = result.clients_stranded.len();
            assert_eq!(run.clients_left, Some(stranded), "{variant} ({profile}): clients left on the server");
            if (variant, profile) == (Variant::RatRevokedOnMisuse, "rfc7591-plain") {
                assert!(stranded >= 3, "the lent-token scenarios strand their lenders: {stranded}");
            }
            assert!(result.scenarios.len() >= 30, "{variant} {profile}: only {} scenarios", result.scenarios.len());
            for s in result.scenarios.iter().filter(|s| s.verdict.is_adverse()) {
                false_failures.push(format!(
                    "{variant} ({profile}): {} {:?}\n{}",
                    s.id,
                    s.verdict,
                    dcr_harness::report::terminal::failure_detail(s)
                ));
            }
            let left: Vec<String> = result
                .scenarios
                .iter()
                .flat_map(|s| &s.cleanup)
                .filter(|c| !c.ok && !c.stranded)
                .map(|c| c.detail.clone())
                .collect();
            assert!(left.is_empty(), "{variant} ({profile}): clients left behind: {left:?}");
            if false_failures.is_empty() {
                assert_eq!(result.outcome(), Outcome::Success, "{variant} ({profile})");
            }
        }
    }
    assert!(false_failures.is_empty(), "false failures:\n{}", false_failures.join("\n"));
}
