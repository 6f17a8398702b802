//! The suite proves itself: against the clean reference server every scenario passes (every
//! mode's profile), and for every named flaw at least one scenario fails. A flaw no scenario catches
//! is named in the failure message.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use dcr_harness::run::RunResult;
use dcr_harness::server::Flaw;
use dcr_harness::suite::{self, Embedded, Layout, SuiteOptions};
use dcr_harness::testing::{test_pki, test_pki_dir};
use tokio::sync::Semaphore;

fn layout() -> Layout {
    test_pki();
    Layout { pki: test_pki_dir(), ..Layout::at(Path::new(env!("CARGO_MANIFEST_DIR"))) }
}

/// Flaws of rules only the plain profile has.
fn profile_for(flaw: Flaw) -> &'static str {
    match flaw {
        Flaw::AcceptBadRegistrationToken
        | Flaw::AcceptMissingRegistrationToken
        | Flaw::AcceptAnotherClientsRegistrationToken => "rfc7591-plain",
        Flaw::StatementOptional
        | Flaw::SkipStatementSignature
        | Flaw::AcceptAnyStatementAlg
        | Flaw::AcceptExpiredStatement
        | Flaw::StatementNotPrecedent
        | Flaw::SkipStatementRedirectCheck
        | Flaw::OmitStatementEcho
        | Flaw::StatementSwapOnUpdate
        | Flaw::SkipSectorIdentifierCheck
        | Flaw::AcceptUnsupportedResponseAlg
        | Flaw::AcceptEncWithoutAlg
        | Flaw::WrongDefaultEnc
        | Flaw::SkipApplicationType
        | Flaw::DpopNotRequired
        | Flaw::SkipDpopProofChecks
        | Flaw::UnboundDpopTokens
        | Flaw::ResourceSkipsDpop => "fapi-dcr",
        Flaw::AcceptJsonRegistration
        | Flaw::SkipRequestObjectSignature
        | Flaw::AcceptAnyRequestObjectAlg
        | Flaw::AcceptExpiredRequestObject
        | Flaw::SkipRequestObjectAudience
        | Flaw::SkipRequestObjectIssuer
        | Flaw::AcceptAnotherClientsToken
        | Flaw::AcceptAnyResponseTypes
        | Flaw::AcceptAnyAuthSigningAlg
        | Flaw::TokenAuthMethodNotEnforced
        | Flaw::SkipTlsClientAuthDnMatch
        | Flaw::SkipClientAssertionSignature
        | Flaw::SkipClientAssertionAudience
        | Flaw::AcceptExpiredClientAssertion
        | Flaw::AcceptReplayedClientAssertion
        | Flaw::SkipSelfSignedKeyMatch
        | Flaw::SkipTlsClientAuthSanMatch
        | Flaw::SkipSubjectDnForm
        | Flaw::AcceptUnverifiableRequestObject
        | Flaw::UnboundAccessTokens
        | Flaw::ResourceSkipsBinding => "obuk",
        Flaw::SkipSignatureTag | Flaw::IgnoreSignatureExpiry => "fapi-message-signing",
        Flaw::AcceptDuplicateRegistration
        | Flaw::CdrAnyAuthMethod
        | Flaw::CdrRequiredMetadataOptional
        | Flaw::SkipRegistrationScopeCheck
        | Flaw::RefuseUnsupportedSsaScopes
        | Flaw::SlowUnderBurst => "cdr",
        Flaw::SkipRequestIdCheck
        | Flaw::UnsignedReadsAccepted
        | Flaw::PresentHeadersNeedNoSignature
        | Flaw::RefuseSha512Digest => "berlin-group",
        _ => "reference",
    }
}

async fn run(profile: &str, flaws: &[Flaw]) -> RunResult {
    let options = SuiteOptions {
        profile: profile.into(),
        embedded: Embedded { flaws: flaws.iter().copied().collect(), ..Embedded::default() },
        ..SuiteOptions::default()
    };
    suite::run(&layout(), &options).await.unwrap_or_else(|e| panic!("{profile} {flaws:?}: {e}")).result
}

fn not_passed(result: &RunResult) -> Vec<String> {
    result.scenarios.iter().filter(|s| s.verdict.is_adverse()).map(|s| s.id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_clean_reference_server_passes_every_scenario_in_both_profiles() {
    for profile in ["reference", "rfc7591-plain", "fapi-dcr", "obuk", "fapi-message-signing", "berlin-group", "cdr"] {
        let result = run(profile, &[]).await;
        assert!(result.scenarios.len() >= 30, "{profile}: only {} scenarios ran", result.scenarios.len());
        let failing = not_passed(&result);
        let detail: Vec<String> = result
            .scenarios
            .iter()
            .filter(|s| s.verdict.is_adverse())
            .map(dcr_harness::report::terminal::failure_detail)
            .collect();
        assert!(failing.is_empty(), "{profile}: {failing:?}\n{}", detail.join("\n"));
        assert_eq!(result.outcome(), dcr_harness::run::Outcome::Success);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_flaw_is_caught_by_at_least_one_scenario() {
    let permits = Arc::new(Semaphore::new(8));
    let mut tasks = Vec::new();
    // A flaw that shows only under load is caught beside one (tests/load.rs, `--with-suite`).
    for flaw in Flaw::ALL.iter().copied().filter(|f| *f != Flaw::SkipSignatureWhenBusy) {
        let permits = permits.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await;
            (flaw, not_passed(&run(profile_for(flaw), &[flaw]).await))
        }));
    }
    let mut matrix: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for task in tasks {
        let (flaw, caught_by) = task.await.expect("flaw run");
        matrix.insert(flaw.name(), caught_by);
    }
    for (flaw, caught_by) in &matrix {
        println!("{flaw:<30} caught by {}: {}", caught_by.len(), caught_by.join(", "));
    }
    let uncaught: Vec<&&str> = matrix.iter().filter(|(_, by)| by.is_empty()).map(|(f, _)| f).collect();
    assert!(uncaught.is_empty(), "flaws no scenario catches: {uncaught:?}");
}

/// The verifier's flaws, each caught again where requests are signed in RFC 9421: the same rules
/// on RFC 9421's fields (`created`, `Content-Digest`, covered components, `keyid`). Not
/// `accept-duplicate-headers`: RFC 9421 combines repeated field lines (RFC 9110 §5.3) into the
/// value it signs, so a duplicate breaks the signature whether or not the server looks for it.
#[tokio::test(flavor = "multi_thread")]
async fn every_verifier_flaw_is_caught_in_rfc9421_too() {
    let verifier_flaws = [
        Flaw::SkipSignature,
        Flaw::AcceptBadSignature,
        Flaw::SkipDigestCheck,
        Flaw::IgnoreDate,
        Flaw::UnboundedClockSkew,
        Flaw::IgnoreRequestTarget,
        Flaw::AcceptUnsignedHeaders,
        Flaw::SkipKeyidMatch,
        Flaw::AcceptAnySigningCert,
        Flaw::AcceptUntrustedQseal,
        Flaw::AcceptExpiredQseal,
        Flaw::SkipOrgMatch,
        Flaw::AcceptWeakKey,
    ];
    let mut uncaught = Vec::new();
    for flaw in verifier_flaws {
        let caught_by = not_passed(&run("fapi-message-signing", &[flaw]).await);
        println!("{:<30} caught by {}: {}", flaw.name(), caught_by.len(), caught_by.join(", "));
        if caught_by.is_empty() {
            uncaught.push(flaw.name());
        }
    }
    assert!(uncaught.is_empty(), "verifier flaws no RFC 9421 scenario catches: {uncaught:?}");
}
