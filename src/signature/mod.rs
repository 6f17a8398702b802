//! HTTP message signatures: the dialects (`scheme`: draft-cavage as the Berlin Group
//! NextGenPSD2 guide and SMBC use it, RFC 9421), each signer beside its verifier so that the
//! harness and the reference server cannot drift apart; the verifier's shared core (`verify`:
//! policy, typed rules, the signing certificate); the catalog of mutations (`mutation`), which
//! turns a valid signed request into a precisely broken one; signed request objects.
//!
//! This module works on an in-memory [`Message`]; it must not open connections or read files
//! (keys come from `pki`).

mod dialect;
pub mod dpop;
mod memo;
mod message;
pub mod mutation;
pub mod request_object;
pub mod scheme;
mod verify;

use std::time::SystemTime;

pub use dialect::{
    AlgorithmLabel, DateForm, Dialect, DigestAlgorithm, DigestEncoding, HeaderCase, KeyIdStyle, MethodCase,
};
pub use memo::SignatureMemo;
pub use message::{request_target, Message, RawError};
pub use mutation::{Mutation, MutationContext};
pub use scheme::cavage::signing_string;
pub(crate) use scheme::cavage::SignInputs;
pub use scheme::{rfc9421, Scheme};
pub use verify::{
    decode_certificate, verify, verify_bytes, verify_with_cache, CertificateCache, KeyAlgorithm, SignatureError,
    SigningCertificate, Verified, VerifyPolicy,
};

use crate::pki::{Identity, KeyKind};
use scheme::Signer;

/// Header names the signer writes.
pub mod headers {
    pub const SIGNATURE: &str = "Signature";
    pub const DIGEST: &str = "Digest";
    pub const DATE: &str = "Date";
    pub const CERTIFICATE: &str = "TPP-Signature-Certificate";
    pub const REQUEST_ID: &str = "X-Request-ID";
    pub const REQUEST_TARGET: &str = "(request-target)";
}

/// Why a request could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("header `{0}` is in the signed header list but not in the request; add it or remove it from the profile's `headers`")]
    HeaderAbsent(String),
    #[error("mutation `{mutation}` needs {needs}")]
    MutationNeeds { mutation: &'static str, needs: &'static str },
    #[error("the signature dialect cannot sign this request: {0}")]
    Dialect(String),
    #[error("signing with identity `{identity}` failed: {source}")]
    Key { identity: String, source: crate::pki::keys::KeyError },
}

/// What signing produced, for `dcr-harness sign` and for reports.
#[derive(Debug, Clone)]
pub struct Signed {
    pub signing_string: String,
    /// The headers the signer added or replaced, in the order it wrote them.
    pub headers: Vec<(String, String)>,
}

/// The RFC 7231 IMF-fixdate of a moment (`Tue, 24 Nov 2026 19:11:14 GMT`).
pub fn http_date(at: SystemTime) -> String {
    httpdate::fmt_http_date(at)
}

/// Seconds since the epoch (negative before it): what JWT times (RFC 7519 §2 NumericDate),
/// RFC 9421's `created` and `expires`, and a `Date` header's second count.
pub fn unix_seconds(at: SystemTime) -> i64 {
    match at.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The SHA-256 `Digest` header value of `body` in the given encoding.
pub fn digest_value(encoding: DigestEncoding, body: &[u8]) -> String {
    Dialect { digest: encoding, ..Dialect::default() }.digest_of(body)
}

/// SHA-256 with aws-lc-rs (the `sha2` crate is several times slower on a 1 KiB body here).
pub(crate) fn sha256(bytes: &[u8]) -> aws_lc_rs::digest::Digest {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
}

/// Signs `msg` in place with `identity`'s key and certificate, as `dialect` says, dated `date`.
pub fn sign(identity: &Identity, dialect: &Dialect, msg: &mut Message, date: SystemTime) -> Result<Signed, SignError> {
    Signer { identity, dialect, date, ctx: &MutationContext::default() }.sign(msg)
}

/// Signs `msg` and then applies `mutation` (if any), so that the request is valid but for
/// exactly that one thing.
pub fn sign_mutated(
    identity: &Identity,
    dialect: &Dialect,
    msg: &mut Message,
    date: SystemTime,
    mutation: Option<Mutation>,
    ctx: &MutationContext<'_>,
) -> Result<Signed, SignError> {
    match mutation {
        None => Signer { identity, dialect, date, ctx }.sign(msg),
        Some(m) => m.apply(identity, dialect, msg, date, ctx),
    }
}

/// The algorithm a key signs with, for matching against a label.
pub(crate) fn key_family(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Rsa { .. } => "rsa",
        KeyKind::EcdsaP256 => "ecdsa",
    }
}

#[cfg(test)]
mod tests;

/// Dialects the crate's tests share.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::{Dialect, DigestAlgorithm};

    /// The Berlin Group's: X-Request-ID, signed reads, PSU headers signed when present, no
    /// `(request-target)`.
    pub(crate) fn berlin_group() -> Dialect {
        Dialect {
            headers: ["digest", "x-request-id", "date"].map(String::from).to_vec(),
            request_id: true,
            sign_reads: true,
            signed_when_present: vec!["psu-id".into(), "tpp-redirect-uri".into()],
            digest_algorithm: DigestAlgorithm::Sha256,
            ..Dialect::default()
        }
    }
}
