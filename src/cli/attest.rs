//! `run --attest FILE` (writing) and `attest verify FILE --ca ROOT` (checking): the command-line
//! side of `dcr_harness::attest`, reading keys, certificates and envelopes from files.

use std::path::Path;

use dcr_harness::attest::{self, Envelope, Evidence, Refusal};
use dcr_harness::error::Error;
use dcr_harness::pki::{Identity, Pki};
use dcr_harness::run::{Outcome, RunResult};

use super::args::{AttestCommand, RunArgs};

/// The most of an envelope file read: a whole suite's verdicts with their clauses, in base64.
const MAX_ENVELOPE_BYTES: u64 = 16 * 1024 * 1024;

pub fn attest(command: AttestCommand) -> Result<Outcome, Error> {
    match command {
        AttestCommand::Verify { file, ca } => verify(&file, ca.as_deref()),
    }
}

/// Signs the run's Statement and writes the envelope to `path`.
pub fn write(
    args: &RunArgs,
    pki: &Pki,
    qseal: Option<&str>,
    run: &RunResult,
    evidence: &Evidence,
) -> Result<(), Error> {
    let Some(path) = &args.attest else { return Ok(()) };
    // The key `--attest-key` and `--attest-cert` name, else the profile's QSEAL in the PKI.
    let loaded;
    let signer = match (&args.attest_key, &args.attest_cert) {
        (Some(key), Some(cert)) => {
            loaded = Identity::load("attestation signer", cert, key).map_err(|e| Error::input("--attest-key", e))?;
            &loaded
        }
        _ => {
            let name = qseal.ok_or_else(|| {
                Error::input(
                    "--attest",
                    "the profile signs with no QSEAL: name a key with --attest-key and --attest-cert",
                )
            })?;
            pki.identity(name).map_err(|e| Error::input("--attest", e))?
        }
    };
    let envelope = attest::sign(&attest::statement(run, evidence), signer.key(), &signer.chain)
        .map_err(|e| Error::input("--attest", e))?;
    let text = serde_json::to_string_pretty(&envelope).unwrap_or_default() + "\n";
    std::fs::write(path, text).map_err(|e| Error::output(path, e))?;
    eprintln!("attestation written to {} (signed by {})", path.display(), signer.info.subject_rfc4514);
    Ok(())
}

fn verify(file: &Path, ca: Option<&Path>) -> Result<Outcome, Error> {
    let text = dcr_harness::files::read_to_string(file, MAX_ENVELOPE_BYTES)
        .map_err(|e| Error::input(file.display().to_string(), e))?;
    let envelope: Envelope = serde_json::from_str(&text).map_err(|e| {
        let at = format!("{}:{}:{}", file.display(), e.line(), e.column());
        Error::input(at, format!("{e} (hint: give the file `run --attest` wrote)"))
    })?;
    let roots = match ca {
        Some(ca) => Some(dcr_harness::pki::read_certs(ca).map_err(|e| Error::input("--ca", e))?),
        None => None,
    };
    match attest::verify(&envelope, roots.as_deref(), std::time::SystemTime::now()) {
        Ok(verified) => {
            super::print(&describe(&verified))?;
            if !verified.anchored {
                eprintln!("dcr-harness: attest verify: NOT VERIFIED: the signature holds for the certificate in the file, and nothing says who that is: give the root it must chain to with --ca");
                return Ok(Outcome::MustFailed);
            }
            Ok(Outcome::Success)
        }
        Err(refusal) => {
            eprintln!("dcr-harness: attest verify: REFUSED: {}: {refusal}", file.display());
            Ok(match refusal {
                Refusal::BadRoot(_) => return Err(Error::input("--ca", refusal)),
                _ => Outcome::MustFailed,
            })
        }
    }
}

/// What a verified attestation says, for a person.
fn describe(verified: &attest::Verified) -> String {
    let p = &verified.statement.predicate;
    let head = if verified.anchored { "VERIFIED" } else { "SIGNATURE ONLY (no root given)" };
    let mut out = format!(
        "{head}: signed by {} (certificate valid to {})\n{} {} ran profile `{}` against {} at {}: {}\n",
        verified.signer,
        verified.signer_not_after,
        p.harness.name,
        p.harness.version,
        p.profile.name,
        p.target,
        p.started_at,
        p.verdict
    );
    for subject in &verified.statement.subject {
        let digests: Vec<String> = subject.digest.iter().map(|(alg, d)| format!("{alg}:{d}")).collect();
        out.push_str(&format!("  subject {} {}\n", subject.name, digests.join(" ")));
    }
    out.push_str(&format!("  profile sha256:{}\n  catalogue sha256:{}\n", p.profile.sha256, p.catalogue.sha256));
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for s in &p.scenarios {
        *counts.entry(s.verdict.as_str()).or_default() += 1;
    }
    let counts: Vec<String> = counts.iter().map(|(v, n)| format!("{n} {v}")).collect();
    out.push_str(&format!("  {} scenarios: {}\n", p.scenarios.len(), counts.join(", ")));
    out
}
