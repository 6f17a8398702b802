//! Signed conformance attestations (`run --attest FILE`, `attest verify FILE --ca ROOT`): a
//! run's verdicts as an in-toto Statement v1 in a DSSE envelope, signed with a key the user
//! names (their QSEAL, or any RSA or P-256 PEM key) with its certificate chain beside the
//! signature, and checked offline: the signature over the envelope's pre-authentication
//! encoding, then the chain to a root the reader names (never one taken from the file), at the
//! time of checking. It owns the formats, the signing and the checking; it must not run
//! scenarios or send anything: what the run saw of the target comes in as [`Evidence`].

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::{Deserialize, Serialize};

use crate::pki::inspect::sha256_hex;
use crate::pki::PrivateKey;
use crate::run::RunResult;

/// DSSE's payload type for an in-toto Statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// What the predicate is: a dcr-harness run, version 1 of its shape.
pub const PREDICATE_TYPE: &str = "https://github.com/dcr-harness/dcr-harness/attestation/run/v1";

/// What the run saw of the target and of itself, digested.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// The SHA-256 of the target's TLS certificate (the leaf, DER), hex.
    pub tls_certificate_sha256: Option<String>,
    /// The metadata document's URL and the SHA-256 of its bytes, hex.
    pub metadata: Option<(String, String)>,
    /// The SHA-256 of the scenario catalogue (every scenario file's name and bytes), hex.
    pub catalogue_sha256: String,
    /// The SHA-256 of the target profile's file, hex.
    pub profile_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: Predicate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    pub digest: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predicate {
    pub harness: Harness,
    pub target: String,
    pub profile: Digested,
    pub catalogue: Digested,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// The run's verdict in a word, as the JSON report says it.
    pub verdict: String,
    pub scenarios: Vec<Verdicted>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Harness {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digested {
    pub name: String,
    pub sha256: String,
}

/// A scenario's verdict with its level and the clause it checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdicted {
    pub id: String,
    pub verdict: String,
    pub severity: String,
    pub clause: String,
}

/// The envelope: DSSE's three fields, and the signer's certificate chain (leaf first, no root)
/// as Sigstore names it, outside what is signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub payload: String,
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub signatures: Vec<Signature>,
    #[serde(rename = "x509CertificateChain", default)]
    pub chain: Chain,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    #[serde(default)]
    pub keyid: String,
    pub sig: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Chain {
    pub certificates: Vec<RawCertificate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawCertificate {
    #[serde(rename = "rawBytes")]
    pub raw_bytes: String,
}

/// Why an attestation could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    #[error("the signing key could not sign: {0}")]
    Sign(#[source] crate::pki::keys::KeyError),
    #[error("no certificate to put beside the signature")]
    NoCertificate,
}

/// Why an attestation is refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Refusal {
    #[error("not a DSSE envelope: {0}")]
    NotAnEnvelope(String),
    #[error("its payload type is `{0}`, not {PAYLOAD_TYPE}")]
    PayloadType(String),
    #[error("its {0} is not base64")]
    NotBase64(&'static str),
    #[error("it carries no certificate to check the signature with")]
    NoCertificate,
    #[error("the signer's certificate cannot be read: {0}")]
    BadCertificate(String),
    #[error("no signature verifies with the key of the certificate beside it (a changed byte, or another key)")]
    BadSignature,
    #[error("its payload is not an in-toto Statement v1 of a dcr-harness run: {0}")]
    NotAStatement(String),
    #[error("the signer's certificate expired at {not_after} (checked at {now})")]
    Expired { not_after: String, now: String },
    #[error("the signer's certificate is not valid yet (from {not_before}; checked at {now})")]
    NotYetValid { not_before: String, now: String },
    #[error("the signer's certificate does not chain to the root given: {0}")]
    Untrusted(String),
    #[error("the root given cannot be read: {0}")]
    BadRoot(String),
}

/// The Statement of `run`, with `evidence` of what it ran against.
pub fn statement(run: &RunResult, evidence: &Evidence) -> Statement {
    let sha256 = |hex: &str| BTreeMap::from([("sha256".to_string(), hex.to_string())]);
    let mut subject = Vec::new();
    if let Some(tls) = &evidence.tls_certificate_sha256 {
        subject.push(Subject { name: run.target.clone(), digest: sha256(tls) });
    }
    if let Some((url, digest)) = &evidence.metadata {
        subject.push(Subject { name: url.clone(), digest: sha256(digest) });
    }
    if subject.is_empty() {
        // A target seen neither by its certificate nor by its metadata: named by its URL alone.
        subject.push(Subject { name: run.target.clone(), digest: sha256(&sha256_hex(run.target.as_bytes())) });
    }
    Statement {
        statement_type: STATEMENT_TYPE.into(),
        subject,
        predicate_type: PREDICATE_TYPE.into(),
        predicate: Predicate {
            harness: Harness { name: "dcr-harness".into(), version: env!("CARGO_PKG_VERSION").into() },
            target: run.target.clone(),
            profile: Digested { name: run.profile.clone(), sha256: evidence.profile_sha256.clone() },
            catalogue: Digested { name: "scenarios".into(), sha256: evidence.catalogue_sha256.clone() },
            started_at: run.started_at.clone(),
            verdict: run.headline().to_string(),
            scenarios: run
                .scenarios
                .iter()
                .map(|s| Verdicted {
                    id: s.id.clone(),
                    verdict: s.verdict.name().to_string(),
                    severity: s.severity.name().to_string(),
                    clause: s.source.clone(),
                })
                .collect(),
        },
    }
}

/// DSSE's pre-authentication encoding: `DSSEv1 LEN(type) type LEN(body) body`, lengths in bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Signs `statement` with `key` (RSA: PKCS#1 v1.5 with SHA-256; P-256: ECDSA with SHA-256, DER),
/// the `chain` (leaf first) beside it.
pub fn sign(statement: &Statement, key: &PrivateKey, chain: &[CertificateDer<'_>]) -> Result<Envelope, AttestError> {
    let leaf = chain.first().ok_or(AttestError::NoCertificate)?;
    let payload = serde_json::to_vec(statement).unwrap_or_default();
    let sig = key.sign(&pae(PAYLOAD_TYPE, &payload)).map_err(AttestError::Sign)?;
    Ok(Envelope {
        payload: B64.encode(&payload),
        payload_type: PAYLOAD_TYPE.into(),
        signatures: vec![Signature { keyid: sha256_hex(leaf), sig: B64.encode(sig) }],
        chain: Chain { certificates: chain.iter().map(|c| RawCertificate { raw_bytes: B64.encode(c) }).collect() },
    })
}

/// What a verified attestation says, and who signed it.
#[derive(Debug)]
pub struct Verified {
    pub statement: Statement,
    pub signer: String,
    pub signer_not_after: String,
    /// Checked against a root the reader gave.
    pub anchored: bool,
}

/// DSSE lets a signer write base64 standard or URL-safe, padded or not.
fn decode(text: &str, what: &'static str) -> Result<Vec<u8>, Refusal> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text.trim()).ok())
        .ok_or(Refusal::NotBase64(what))
}

/// Checks an envelope: its payload type, a signature by the leaf of the chain beside it over
/// the pre-authentication encoding, the Statement inside, and (with `roots`) the chain to one of
/// them at `now`.
pub fn verify(envelope: &Envelope, roots: Option<&[CertificateDer<'_>]>, now: SystemTime) -> Result<Verified, Refusal> {
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(Refusal::PayloadType(envelope.payload_type.clone()));
    }
    let payload = decode(&envelope.payload, "payload")?;
    let chain: Vec<CertificateDer<'static>> = envelope
        .chain
        .certificates
        .iter()
        .map(|c| decode(&c.raw_bytes, "certificate").map(CertificateDer::from))
        .collect::<Result<_, _>>()?;
    let leaf = chain.first().ok_or(Refusal::NoCertificate)?;
    let cert = webpki::EndEntityCert::try_from(leaf).map_err(|e| Refusal::BadCertificate(e.to_string()))?;
    let signed = pae(&envelope.payload_type, &payload);
    let algorithms = [webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256, webpki::aws_lc_rs::ECDSA_P256_SHA256];
    let verifies = |sig: &[u8]| algorithms.iter().any(|alg| cert.verify_signature(*alg, &signed, sig).is_ok());
    let signatures: Vec<Vec<u8>> =
        envelope.signatures.iter().map(|s| decode(&s.sig, "signature")).collect::<Result<_, _>>()?;
    if !signatures.iter().any(|sig| verifies(sig)) {
        return Err(Refusal::BadSignature);
    }
    // Read from the bytes that were verified, never from the file again.
    let statement: Statement = serde_json::from_slice(&payload).map_err(|e| Refusal::NotAStatement(e.to_string()))?;
    if statement.statement_type != STATEMENT_TYPE || statement.predicate_type != PREDICATE_TYPE {
        return Err(Refusal::NotAStatement(format!("`{}`, `{}`", statement.statement_type, statement.predicate_type)));
    }
    let info = crate::pki::inspect::CertInfo::from_der(leaf).map_err(|e| Refusal::BadCertificate(e.to_string()))?;
    if let Some(roots) = roots {
        check_chain(&cert, &chain[1..], roots, now)?;
    }
    Ok(Verified {
        statement,
        signer: info.subject_rfc4514.clone(),
        signer_not_after: httpdate::fmt_http_date(info.not_after),
        anchored: roots.is_some(),
    })
}

/// The extended key usages a signing certificate may name (a QSEAL names none, or one of these).
const SIGNING_USAGES: [&[u8]; 4] = [
    &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x24], // id-kp-documentSigning
    &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x04], // id-kp-emailProtection
    &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03], // id-kp-codeSigning
    &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02], // id-kp-clientAuth
];

fn check_chain(
    cert: &webpki::EndEntityCert<'_>,
    intermediates: &[CertificateDer<'_>],
    roots: &[CertificateDer<'_>],
    now: SystemTime,
) -> Result<(), Refusal> {
    let anchors: Vec<_> = roots
        .iter()
        .map(|r| webpki::anchor_from_trusted_cert(r).map(|a| a.to_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| Refusal::BadRoot(e.to_string()))?;
    let at = UnixTime::since_unix_epoch(now.duration_since(SystemTime::UNIX_EPOCH).unwrap_or(Duration::ZERO));
    let stamp = |t: UnixTime| httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(t.as_secs()));
    let mut last = None;
    for usage in SIGNING_USAGES {
        let checked = cert.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            intermediates,
            at,
            webpki::KeyUsage::required_if_present(usage),
            None,
            None,
        );
        match checked {
            Ok(_) => return Ok(()),
            Err(webpki::Error::CertExpired { not_after, time }) => {
                return Err(Refusal::Expired { not_after: stamp(not_after), now: stamp(time) })
            }
            Err(webpki::Error::CertNotValidYet { not_before, time }) => {
                return Err(Refusal::NotYetValid { not_before: stamp(not_before), now: stamp(time) })
            }
            Err(e) => last = Some(e),
        }
    }
    Err(Refusal::Untrusted(last.map(|e| e.to_string()).unwrap_or_default()))
}

#[cfg(test)]
mod tests;
