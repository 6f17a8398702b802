//! The rules a signed request can break, one typed error each, with the stable names scenarios
//! and reports use. Every dialect's verifier answers with these, so that a scenario's expected
//! rule means the same in each; nothing here verifies anything.

/// The rule a signed request broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Signature header")]
    SignatureMissing,
    #[error("header `{0}` appears more than once")]
    DuplicateHeader(String),
    #[error("Signature header is malformed: {0}")]
    Malformed(String),
    #[error("Signature header lacks the `{0}` parameter")]
    MissingParameter(&'static str),
    #[error("algorithm `{0}` is not accepted (rsa-sha256, ecdsa-sha256 or hs2019)")]
    UnknownAlgorithm(String),
    #[error("algorithm `{label}` does not fit the certificate's {key} key")]
    AlgorithmMismatch { label: String, key: String },
    #[error("`{0}` is not among the signed headers")]
    HeaderNotSigned(String),
    #[error("`{0}` is signed but absent from the request")]
    SignedHeaderAbsent(String),
    #[error("no Digest header")]
    DigestMissing,
    #[error("Digest header is malformed: {0}")]
    DigestMalformed(String),
    #[error("Digest algorithm `{0}` is not SHA-256")]
    DigestAlgorithm(String),
    #[error("Digest does not match the body")]
    DigestMismatch,
    #[error("no Date header")]
    DateMissing,
    #[error("Date `{0}` is not an RFC 7231 IMF-fixdate")]
    DateFormat(String),
    #[error("Date is {seconds} s away from the server's clock (at most {max} s allowed)")]
    DateSkew { seconds: u64, max: u64 },
    #[error("{0} is not valid base64")]
    BadBase64(&'static str),
    #[error("no TPP-Signature-Certificate header")]
    CertificateMissing,
    #[error("TPP-Signature-Certificate is not a certificate: {0}")]
    CertificateUnreadable(String),
    #[error("keyId `{0}` is not of the expected form")]
    KeyIdMalformed(String),
    #[error("keyId does not match the certificate: {0}")]
    KeyIdMismatch(String),
    #[error("signing key is too weak: {0}")]
    WeakKey(String),
    #[error("signature does not verify with the certificate's key")]
    BadSignature,
    #[error("a Signature header without the Signature-Input that describes it")]
    SignatureInputMissing,
    #[error("Signature-Input labels the signature `{input}`, Signature carries `{signature}`")]
    LabelMismatch { input: String, signature: String },
    #[error("the signature's tag is `{got}`, `{expected}` is required")]
    TagMismatch { expected: String, got: String },
    #[error("the signature expired {seconds} s ago")]
    Expired { seconds: u64 },
    #[error("no X-Request-ID header")]
    RequestIdMissing,
    #[error("X-Request-ID `{0}` is not a UUID")]
    RequestIdNotUuid(String),
}

impl SignatureError {
    /// A stable name for the rule, used in scenario expectations and reports.
    pub fn rule(&self) -> &'static str {
        match self {
            SignatureError::SignatureMissing => "signature-missing",
            SignatureError::DuplicateHeader(_) => "duplicate-header",
            SignatureError::Malformed(_) => "malformed",
            SignatureError::MissingParameter(_) => "missing-parameter",
            SignatureError::UnknownAlgorithm(_) => "unknown-algorithm",
            SignatureError::AlgorithmMismatch { .. } => "algorithm-mismatch",
            SignatureError::HeaderNotSigned(_) => "header-not-signed",
            SignatureError::SignedHeaderAbsent(_) => "signed-header-absent",
            SignatureError::DigestMissing => "digest-missing",
            SignatureError::DigestMalformed(_) => "digest-malformed",
            SignatureError::DigestAlgorithm(_) => "digest-algorithm",
            SignatureError::DigestMismatch => "digest-mismatch",
            SignatureError::DateMissing => "date-missing",
            SignatureError::DateFormat(_) => "date-format",
            SignatureError::DateSkew { .. } => "date-skew",
            SignatureError::BadBase64(_) => "bad-base64",
            SignatureError::CertificateMissing => "certificate-missing",
            SignatureError::CertificateUnreadable(_) => "certificate-unreadable",
            SignatureError::KeyIdMalformed(_) => "keyid-malformed",
            SignatureError::KeyIdMismatch(_) => "keyid-mismatch",
            SignatureError::WeakKey(_) => "weak-key",
            SignatureError::BadSignature => "bad-signature",
            SignatureError::SignatureInputMissing => "signature-input-missing",
            SignatureError::LabelMismatch { .. } => "label-mismatch",
            SignatureError::TagMismatch { .. } => "tag-mismatch",
            SignatureError::Expired { .. } => "signature-expired",
            SignatureError::RequestIdMissing => "request-id-missing",
            SignatureError::RequestIdNotUuid(_) => "request-id-not-uuid",
        }
    }
}
