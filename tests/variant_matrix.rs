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

/// How many suites run at once: each spends most of its time waiting (a replay's Date window, a
/// key cache, a fetch that never answers), not computing.
const AT_ONCE: usize = 4;

#[tokio::test(flavor = "multi_thread")]
async fn the_suite_passes_every_variant_the_rfcs_allow_in_every_profile() {
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
    let mut runs = Vec::new();
    for variant in Variant::ALL.iter().copied() {
        for profile in ["reference", "rfc7591-plain", "fapi-dcr", "obuk", "fapi-message-signing", "berlin-group", "cdr"]
        {
            let permits = permits.clone();
            runs.push(tokio::spawn(async move {
                let _permit = permits.acquire_owned().await;
                problems_under(variant, profile).await
            }));
        }
    }
    let mut problems = Vec::new();
    for run in runs {
        problems.extend(run.await.expect("a variant's run"));
    }
    assert!(problems.is_empty(), "false failures, or clients left:\n{}", problems.join("\n"));
}

/// What is wrong with the suite's run against the reference server with `variant`, in `profile`:
/// a scenario that did not pass (a false failure), a client left behind.
async fn problems_under(variant: Variant, profile: &'static str) -> Vec<String> {
    let options = SuiteOptions {
        profile: profile.into(),
        embedded: Embedded { variants: [variant].into(), ..Embedded::default() },
        ..SuiteOptions::default()
    };
    let run = match suite::run(&layout(), &options).await {
        Ok(run) => run,
        Err(e) => return vec![format!("{variant} {profile}: {e}")],
    };
    let result = run.result;
    let mut problems = Vec::new();
    // A client the server strands by revoking its lent token (RFC 7592 §2.1) stays on it, named
    // as stranded; nothing else may.
    let stranded = result.clients_stranded.len();
    if run.clients_left != Some(stranded) {
        problems.push(format!("{variant} ({profile}): clients left on the server: {:?}", run.clients_left));
    }
    if (variant, profile) == (Variant::RatRevokedOnMisuse, "rfc7591-plain") && stranded < 3 {
        problems.push(format!("the lent-token scenarios strand their lenders: {stranded}"));
    }
    if result.scenarios.len() < 30 {
        problems.push(format!("{variant} {profile}: only {} scenarios", result.scenarios.len()));
    }
    for s in result.scenarios.iter().filter(|s| s.verdict.is_adverse()) {
        problems.push(format!(
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
    if !left.is_empty() {
        problems.push(format!("{variant} ({profile}): clients left behind: {left:?}"));
    }
    if problems.is_empty() && result.outcome() != Outcome::Success {
        problems.push(format!("{variant} ({profile}): outcome {:?}", result.outcome()));
    }
    problems
}
