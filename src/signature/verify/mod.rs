//! The verifier's shared core: which rules a verification enforces ([`VerifyPolicy`], which
//! is how the reference server's named flaws switch off exactly one rule), what it proved
//! ([`Verified`]), the typed rule a request broke (`error`), the signing certificate and its
//! cache (`certificate`), and the one entry point, which hands a request to its dialect's
//! verifier (`signature::scheme`). Certificate trust (chain, QSEAL type, organisation) is the
//! caller's: a verifier only proves who signed.

mod certificate;
mod error;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub(crate) use certificate::check_key;
#[cfg(test)]
pub(crate) use certificate::check_key_id;
pub use certificate::{decode_certificate, verify_bytes, CertificateCache, KeyAlgorithm, SigningCertificate};
pub use error::SignatureError;

use super::{headers, Dialect, Message};

/// Which rules the verifier enforces. The default enforces all of them.
#[derive(Debug, Clone)]
pub struct VerifyPolicy {
    /// Method case and digest encoding the target expects; keyId style to check against.
    pub dialect: Dialect,
    /// Headers that must be in the `headers` parameter.
    pub required_headers: Vec<String>,
    /// Largest accepted distance between `Date` and now; `None` accepts any.
    pub max_skew: Option<Duration>,
    pub check_date: bool,
    pub check_digest: bool,
    pub check_key_id: bool,
    pub check_signature: bool,
    pub allow_weak_keys: bool,
    pub reject_duplicate_headers: bool,
    /// Refuse the obsolete RFC 850 and asctime forms of `Date` (RFC 7231 §7.1.1.1 says a
    /// recipient MUST accept them: this is a fault, kept for the reference server's flaw).
    pub imf_fixdate_only: bool,
    /// RFC 9421: the `tag` must be the dialect's, where it names one.
    pub check_tag: bool,
    /// RFC 9421: a signature past its `expires` is refused.
    pub check_expires: bool,
    /// A `SHA-512=` Digest is taken as well as `SHA-256=` (the Berlin Group allows both).
    pub sha512_digest: bool,
    /// Where the dialect wants an `X-Request-ID`: it must be there and be a UUID.
    pub check_request_id: bool,
    /// Judge the Date window counting the current second whole (as a server keeping time in
    /// whole seconds does): a Date up to a second past the window is still taken.
    pub whole_seconds: bool,
}

impl Default for VerifyPolicy {
    fn default() -> Self {
        VerifyPolicy {
            dialect: Dialect::default(),
            required_headers: vec![headers::REQUEST_TARGET.into(), "date".into(), "digest".into()],
            max_skew: Some(Duration::from_secs(300)),
            check_date: true,
            check_digest: true,
            check_key_id: true,
            check_signature: true,
            allow_weak_keys: false,
            reject_duplicate_headers: true,
            imf_fixdate_only: false,
            check_tag: true,
            check_expires: true,
            sha512_digest: true,
            check_request_id: true,
            whole_seconds: false,
        }
    }
}

impl VerifyPolicy {
    /// Every rule, with the headers `dialect` signs required signed.
    pub fn of(dialect: Dialect) -> Self {
        let required_headers = dialect.headers.iter().map(|h| h.to_ascii_lowercase()).collect();
        VerifyPolicy { dialect, required_headers, ..VerifyPolicy::default() }
    }
}

/// What a successful verification proved.
#[derive(Debug, Clone)]
pub struct Verified {
    pub certificate: Arc<SigningCertificate>,
    pub signing_string: String,
}

/// Verifies a signed request against `policy` at time `now`.
pub fn verify(msg: &Message, policy: &VerifyPolicy, now: SystemTime) -> Result<Verified, SignatureError> {
    verify_with_cache(msg, policy, now, &CertificateCache::disabled())
}

/// [`verify`], reusing certificates parsed earlier.
pub fn verify_with_cache(
    msg: &Message,
    policy: &VerifyPolicy,
    now: SystemTime,
    cache: &CertificateCache,
) -> Result<Verified, SignatureError> {
    policy.dialect.scheme.verify(msg, policy, now, cache)
}

/// Where the dialect wants an `X-Request-ID` (Berlin Group): present, and a UUID.
pub(crate) fn check_request_id(msg: &Message, policy: &VerifyPolicy) -> Result<(), SignatureError> {
    if !(policy.dialect.request_id && policy.check_request_id) {
        return Ok(());
    }
    let id = msg.header(headers::REQUEST_ID).ok_or(SignatureError::RequestIdMissing)?;
    match uuid::Uuid::try_parse(id.trim()) {
        Ok(_) => Ok(()),
        Err(_) => Err(SignatureError::RequestIdNotUuid(id.to_string())),
    }
}
