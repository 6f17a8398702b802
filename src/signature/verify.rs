//! The verifier: parses a `Signature` header strictly, checks that the required headers are
//! signed, the digest, the date and its skew, that keyId and `TPP-Signature-Certificate` agree,
//! the key strength, and the signature itself. Each broken rule is its own typed error, so a
//! server can answer with the right code and a test can name the rule it expects. Certificate
//! trust (chain, QSEAL type, organisation) is the caller's: this module only proves who signed.
//! Each check can be switched off through [`VerifyPolicy`], which is how the reference server's
//! named flaws disable exactly one rule.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use aws_lc_rs::signature::{self as lc, ParsedPublicKey, UnparsedPublicKey};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::{headers, sha256, signing_string, Dialect, DigestAlgorithm, DigestEncoding, KeyIdStyle, Message, Scheme};
use crate::pki::inspect::{parse_dn, same_dn, serial_digits, KeyDescription};
use crate::pki::CertInfo;

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

/// What a successful verification proved.
#[derive(Debug, Clone)]
pub struct Verified {
    pub certificate: Arc<SigningCertificate>,
    pub signing_string: String,
}

/// The parameters of a Signature header.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct SignatureParams {
    pub key_id: String,
    pub algorithm: Option<String>,
    pub headers: Vec<String>,
    pub signature: String,
}

/// Parses `keyId="..",algorithm="..",headers="..",signature=".."`; `, ` between parameters is
/// accepted, anything else out of place is an error.
pub(crate) fn parse_signature_header(value: &str) -> Result<SignatureParams, SignatureError> {
    let malformed = |why: &str| SignatureError::Malformed(why.to_string());
    let mut params = SignatureParams::default();
    let mut seen: Vec<String> = Vec::new();
    let mut rest = value.trim();
    while !rest.is_empty() {
        let eq = rest.find('=').ok_or_else(|| malformed("a parameter without `=`"))?;
        let name = rest[..eq].trim().to_string();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(malformed("a parameter name that is not a token"));
        }
        rest = &rest[eq + 1..];
        let body = rest.strip_prefix('"').ok_or_else(|| malformed("a parameter value not in double quotes"))?;
        let end = body.find('"').ok_or_else(|| malformed("an unterminated quoted value"))?;
        let val = &body[..end];
        rest = body[end + 1..].trim_start();
        if !rest.is_empty() {
            rest = rest.strip_prefix(',').ok_or_else(|| malformed("parameters not separated by `,`"))?.trim_start();
            if rest.is_empty() {
                return Err(malformed("a trailing `,`"));
            }
        }
        if seen.iter().any(|s| s.eq_ignore_ascii_case(&name)) {
            return Err(SignatureError::Malformed(format!("parameter `{name}` given twice")));
        }
        seen.push(name.clone());
        match name.as_str() {
            "keyId" => params.key_id = val.to_string(),
            "algorithm" => params.algorithm = Some(val.to_string()),
            "headers" => params.headers = val.split(' ').filter(|s| !s.is_empty()).map(str::to_string).collect(),
            "signature" => params.signature = val.to_string(),
            "created" | "expires" => {}
            other => return Err(SignatureError::Malformed(format!("unknown parameter `{other}`"))),
        }
    }
    if !seen.iter().any(|s| s == "keyId") {
        return Err(SignatureError::MissingParameter("keyId"));
    }
    if !seen.iter().any(|s| s == "signature") {
        return Err(SignatureError::MissingParameter("signature"));
    }
    if !seen.iter().any(|s| s == "headers") {
        // draft-cavage: absent means `date` only.
        params.headers = vec!["date".into()];
    }
    Ok(params)
}

/// Verifies a signed request against `policy` at time `now`.
pub fn verify(msg: &Message, policy: &VerifyPolicy, now: SystemTime) -> Result<Verified, SignatureError> {
    verify_with_cache(msg, policy, now, &CertificateCache::disabled())
}

/// A signing certificate as the verifier uses it: DER, facts and public key, parsed once.
pub struct SigningCertificate {
    pub der: Vec<u8>,
    pub info: CertInfo,
    /// The key ready for its usual algorithm (RSA-2048+ PKCS#1 SHA-256, or ECDSA P-256);
    /// `None` for keys that need the legacy path (RSA under 2048 bits) or are unsupported.
    parsed_key: Option<ParsedPublicKey>,
    /// The verdict on the keyId this certificate was cached under (the cache is keyed by keyId,
    /// so it is always the same one), by keyId style: comparing DNs costs a tenth of a verify.
    key_id_verdict: OnceLock<(KeyIdStyle, Result<(), SignatureError>)>,
    /// The caller's trust verdict (chain to its anchors), reached once per certificate.
    trust_verdict: OnceLock<Result<(), String>>,
    /// The key ready for RFC 9421's other algorithms (RSA-PSS SHA-512, fixed-size ECDSA),
    /// parsed on first use: parsing an RSA key costs half a verification.
    rfc9421_key: OnceLock<Option<(super::rfc9421::Algorithm, ParsedPublicKey)>>,
}

impl std::fmt::Debug for SigningCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningCertificate").field("subject", &self.info.subject).finish_non_exhaustive()
    }
}

impl SigningCertificate {
    fn parse(header: &str) -> Result<Self, SignatureError> {
        let der = decode_certificate(header)?;
        let info = CertInfo::from_der(&der).map_err(|e| SignatureError::CertificateUnreadable(e.to_string()))?;
        let parsed_key = match info.key {
            KeyDescription::Rsa { bits } if bits >= 2048 => {
                ParsedPublicKey::new(&lc::RSA_PKCS1_2048_8192_SHA256, &info.public_key).ok()
            }
            KeyDescription::EcdsaP256 => ParsedPublicKey::new(&lc::ECDSA_P256_SHA256_ASN1, &info.public_key).ok(),
            KeyDescription::Rsa { .. } | KeyDescription::Other(_) => None,
        };
        Ok(SigningCertificate {
            der,
            info,
            parsed_key,
            key_id_verdict: OnceLock::new(),
            trust_verdict: OnceLock::new(),
            rfc9421_key: OnceLock::new(),
        })
    }

    /// The verdict of `judge` on this certificate's chain, computed on first call and kept:
    /// a chain verdict does not change while the certificate and the trust anchors do not,
    /// and it costs more than the signature check itself.
    pub fn trust_verdict(&self, judge: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
        self.trust_verdict.get_or_init(judge).clone()
    }

    pub(super) fn check_key_id(&self, key_id: &str, style: &KeyIdStyle) -> Result<(), SignatureError> {
        if let Some((seen, verdict)) = self.key_id_verdict.get() {
            if seen == style {
                return verdict.clone();
            }
        }
        let verdict = check_key_id(key_id, style, &self.info);
        let _ = self.key_id_verdict.set((style.clone(), verdict.clone()));
        verdict
    }

    /// Verifies an RFC 9421 signature with this certificate's key, the parsed key kept for the
    /// algorithm it was first asked for.
    pub(super) fn verify_rfc9421(
        &self,
        alg: super::rfc9421::Algorithm,
        weak_allowed: bool,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        use super::rfc9421::Algorithm;
        if alg == Algorithm::RsaV15Sha256 {
            return self.verify(weak_allowed, message, signature);
        }
        let cached = self.rfc9421_key.get_or_init(|| {
            let algorithm: &'static dyn lc::VerificationAlgorithm = match (alg, &self.info.key) {
                (Algorithm::RsaPssSha512, KeyDescription::Rsa { bits }) if *bits >= 2048 => {
                    &lc::RSA_PSS_2048_8192_SHA512
                }
                (Algorithm::EcdsaP256Sha256, KeyDescription::EcdsaP256) => &lc::ECDSA_P256_SHA256_FIXED,
                _ => return None,
            };
            ParsedPublicKey::new(algorithm, &self.info.public_key).ok().map(|key| (alg, key))
        });
        match cached {
            Some((cached_alg, key)) if *cached_alg == alg => key.verify_sig(message, signature).is_ok(),
            _ => super::rfc9421::verify_bytes(alg, &self.info.public_key, weak_allowed, message, signature),
        }
    }

    fn verify(&self, weak_allowed: bool, message: &[u8], signature: &[u8]) -> bool {
        match (&self.parsed_key, &self.info.key) {
            (Some(key), _) => key.verify_sig(message, signature).is_ok(),
            (None, KeyDescription::Rsa { .. }) if weak_allowed => {
                UnparsedPublicKey::new(&lc::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, &self.info.public_key)
                    .verify(message, signature)
                    .is_ok()
            }
            _ => false,
        }
    }
}

/// A bounded cache of parsed signing certificates, keyed by the `TPP-Signature-Certificate`
/// header as sent: a TPP sends the same certificate on every request, and parsing it costs as
/// much as the RSA verification itself. Only parsing is cached; every check runs every time.
pub struct CertificateCache {
    /// keyId -> (certificate header as sent, parsed certificate). Keyed by the short keyId so
    /// that a lookup hashes a few bytes, then confirms with one comparison of the header.
    entries: Option<Mutex<HashMap<String, CachedCertificate>>>,
}

/// The certificate header as sent, and what it parsed to.
type CachedCertificate = (String, Arc<SigningCertificate>);

const CACHE_LIMIT: usize = 1024;

impl CertificateCache {
    pub fn new() -> Self {
        CertificateCache { entries: Some(Mutex::new(HashMap::new())) }
    }

    pub fn disabled() -> Self {
        CertificateCache { entries: None }
    }

    pub(super) fn get_or_parse(&self, key_id: &str, header: &str) -> Result<Arc<SigningCertificate>, SignatureError> {
        if let Some(entries) = &self.entries {
            let map = entries.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((sent, parsed)) = map.get(key_id) {
                if sent == header {
                    return Ok(parsed.clone());
                }
            }
        }
        let parsed = Arc::new(SigningCertificate::parse(header)?);
        if let Some(entries) = &self.entries {
            let mut map = entries.lock().unwrap_or_else(|p| p.into_inner());
            if map.len() >= CACHE_LIMIT {
                map.clear();
            }
            map.insert(key_id.to_string(), (header.to_string(), parsed.clone()));
        }
        Ok(parsed)
    }
}

impl Default for CertificateCache {
    fn default() -> Self {
        Self::new()
    }
}

/// [`verify`], reusing certificates parsed earlier.
pub fn verify_with_cache(
    msg: &Message,
    policy: &VerifyPolicy,
    now: SystemTime,
    cache: &CertificateCache,
) -> Result<Verified, SignatureError> {
    if policy.dialect.scheme == Scheme::Rfc9421 {
        return super::rfc9421::verify(msg, policy, now, cache);
    }
    let signature_headers = msg.header_values(headers::SIGNATURE);
    let header = match signature_headers.as_slice() {
        [] => return Err(SignatureError::SignatureMissing),
        [one] => *one,
        [first, ..] if !policy.reject_duplicate_headers => *first,
        _ => return Err(SignatureError::DuplicateHeader(headers::SIGNATURE.into())),
    };
    if policy.reject_duplicate_headers {
        for name in [headers::DATE, headers::DIGEST, headers::CERTIFICATE] {
            if msg.header_values(name).len() > 1 {
                return Err(SignatureError::DuplicateHeader(name.into()));
            }
        }
    }
    let params = parse_signature_header(header)?;
    check_request_id(msg, policy)?;
    let algorithm = params.algorithm.clone().ok_or(SignatureError::MissingParameter("algorithm"))?;
    if !matches!(algorithm.as_str(), "rsa-sha256" | "ecdsa-sha256" | "hs2019") {
        return Err(SignatureError::UnknownAlgorithm(algorithm));
    }
    let present = policy.dialect.signed_when_present.iter().filter(|name| msg.header(name).is_some());
    for required in policy.required_headers.iter().chain(present) {
        if !params.headers.iter().any(|h| h.eq_ignore_ascii_case(required)) {
            return Err(SignatureError::HeaderNotSigned(required.clone()));
        }
    }
    if policy.check_digest {
        check_digest(msg, policy.dialect.digest, policy.sha512_digest)?;
    }
    if policy.check_date {
        check_date(msg, policy.max_skew, policy.imf_fixdate_only, now)?;
    }
    let header = msg.header(headers::CERTIFICATE).ok_or(SignatureError::CertificateMissing)?;
    let certificate = cache.get_or_parse(&params.key_id, header)?;
    let info = &certificate.info;
    if policy.check_key_id {
        certificate.check_key_id(&params.key_id, &policy.dialect.key_id)?;
    }
    check_key(&info.key, policy.allow_weak_keys)?;
    match (algorithm.as_str(), &info.key) {
        ("rsa-sha256" | "hs2019", KeyDescription::Rsa { .. })
        | ("ecdsa-sha256" | "hs2019", KeyDescription::EcdsaP256) => {}
        (label, key) => return Err(SignatureError::AlgorithmMismatch { label: label.into(), key: key.to_string() }),
    }
    let string = signing_string(policy.dialect.method_case, &msg.method, &msg.target, &params.headers, |name| {
        msg.header_values(name)
    })
    .map_err(SignatureError::SignedHeaderAbsent)?;
    let signature = B64.decode(params.signature.as_bytes()).map_err(|_| SignatureError::BadBase64("signature"))?;
    if policy.check_signature && !certificate.verify(policy.allow_weak_keys, string.as_bytes(), &signature) {
        return Err(SignatureError::BadSignature);
    }
    Ok(Verified { certificate, signing_string: string })
}

fn check_digest(msg: &Message, encoding: DigestEncoding, sha512: bool) -> Result<(), SignatureError> {
    let value = msg.header(headers::DIGEST).ok_or(SignatureError::DigestMissing)?.trim();
    if encoding == DigestEncoding::Hex {
        return match decode_hex_digest(value)? == sha256(&msg.body).as_ref() {
            true => Ok(()),
            false => Err(SignatureError::DigestMismatch),
        };
    }
    // Every entry of a known algorithm must match; at least one must be there.
    let mut checked = false;
    let mut others = Vec::new();
    for part in value.split(',') {
        let (alg, v) = part.trim().split_once('=').ok_or_else(|| SignatureError::DigestMalformed(value.into()))?;
        let algorithm = match DigestAlgorithm::named(alg) {
            Some(DigestAlgorithm::Sha512) if !sha512 => None,
            known => known,
        };
        let Some(algorithm) = algorithm else {
            others.push(alg.to_string());
            continue;
        };
        let got = match encoding {
            DigestEncoding::Base64 => B64.decode(v).map_err(|_| SignatureError::BadBase64("Digest"))?,
            _ => decode_hex_digest(v)?,
        };
        if got != algorithm.hash(&msg.body) {
            return Err(SignatureError::DigestMismatch);
        }
        checked = true;
    }
    if !checked {
        return Err(SignatureError::DigestAlgorithm(others.join(", ")));
    }
    Ok(())
}

/// Where the dialect wants an `X-Request-ID` (Berlin Group): present, and a UUID.
pub(super) fn check_request_id(msg: &Message, policy: &VerifyPolicy) -> Result<(), SignatureError> {
    if !(policy.dialect.request_id && policy.check_request_id) {
        return Ok(());
    }
    let id = msg.header(headers::REQUEST_ID).ok_or(SignatureError::RequestIdMissing)?;
    match uuid::Uuid::try_parse(id.trim()) {
        Ok(_) => Ok(()),
        Err(_) => Err(SignatureError::RequestIdNotUuid(id.to_string())),
    }
}

fn decode_hex_digest(v: &str) -> Result<Vec<u8>, SignatureError> {
    hex::decode(v).map_err(|_| SignatureError::DigestMalformed(v.into()))
}

fn check_date(
    msg: &Message,
    max_skew: Option<Duration>,
    imf_fixdate_only: bool,
    now: SystemTime,
) -> Result<(), SignatureError> {
    let value = msg.header(headers::DATE).ok_or(SignatureError::DateMissing)?;
    // httpdate reads the three HTTP-date forms RFC 7231 §7.1.1.1 has a recipient accept.
    let date = httpdate::parse_http_date(value).map_err(|_| SignatureError::DateFormat(value.into()))?;
    // IMF-fixdate is the one form that formats back to itself.
    if imf_fixdate_only && httpdate::fmt_http_date(date) != value {
        return Err(SignatureError::DateFormat(value.into()));
    }
    if let Some(max) = max_skew {
        let distance = now.duration_since(date).or_else(|e| Ok::<_, ()>(e.duration())).unwrap_or_default();
        if distance > max {
            return Err(SignatureError::DateSkew { seconds: distance.as_secs(), max: max.as_secs() });
        }
    }
    Ok(())
}

/// The DER of a `TPP-Signature-Certificate` value: base64, with or without PEM armour.
pub fn decode_certificate(value: &str) -> Result<Vec<u8>, SignatureError> {
    // Some TPPs send the PEM body with its armour; accept both.
    let body: String = value
        .replace("-----BEGIN CERTIFICATE-----", "")
        .replace("-----END CERTIFICATE-----", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    B64.decode(body.as_bytes()).map_err(|_| SignatureError::BadBase64("TPP-Signature-Certificate"))
}

fn check_key_id(key_id: &str, style: &KeyIdStyle, cert: &CertInfo) -> Result<(), SignatureError> {
    let malformed = || SignatureError::KeyIdMalformed(key_id.into());
    match style {
        KeyIdStyle::SerialAndCa | KeyIdStyle::Serial => {
            let rest = strip_prefix_ignore_case(key_id, "SN=").ok_or_else(malformed)?;
            let (serial, ca) = match style {
                KeyIdStyle::SerialAndCa => {
                    let at = rest.to_ascii_uppercase().find(",CA=").ok_or_else(malformed)?;
                    (&rest[..at], Some(&rest[at + 4..]))
                }
                _ => (rest, None),
            };
            let serial = hex::decode(if serial.len() % 2 == 1 { format!("0{serial}") } else { serial.to_string() })
                .map_err(|_| malformed())?;
            let serial = serial_digits(&serial);
            if serial != cert.serial {
                return Err(SignatureError::KeyIdMismatch(format!(
                    "serial {} is not the certificate's {}",
                    hex::encode_upper(serial),
                    cert.serial_hex()
                )));
            }
            if let Some(ca) = ca {
                let dn = parse_dn(ca).ok_or_else(malformed)?;
                if !same_dn(&dn, &cert.issuer_attributes) {
                    return Err(SignatureError::KeyIdMismatch(format!(
                        "CA `{ca}` is not the certificate's issuer `{}`",
                        cert.issuer
                    )));
                }
            }
            Ok(())
        }
        KeyIdStyle::Fingerprint => {
            if key_id.eq_ignore_ascii_case(&cert.fingerprint) {
                Ok(())
            } else {
                Err(SignatureError::KeyIdMismatch("fingerprint differs".into()))
            }
        }
        KeyIdStyle::Name(_) => Ok(()),
        KeyIdStyle::Url(_) => {
            let url = url::Url::parse(key_id).map_err(|_| malformed())?;
            if url.scheme() != "https" {
                return Err(malformed());
            }
            let tail = url.path().rsplit('/').next().unwrap_or_default().to_ascii_lowercase();
            if tail.ends_with(&cert.fingerprint) {
                Ok(())
            } else {
                Err(SignatureError::KeyIdMismatch(
                    "the URL does not end in the certificate's SHA-256 fingerprint".into(),
                ))
            }
        }
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    // `get` rather than indexing: a keyId is untrusted text and may not split at a char boundary.
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

pub(super) fn check_key(key: &KeyDescription, allow_weak: bool) -> Result<(), SignatureError> {
    match key {
        KeyDescription::Rsa { bits } if *bits < 2048 && !allow_weak => Err(SignatureError::WeakKey(key.to_string())),
        KeyDescription::Other(_) => Err(SignatureError::WeakKey(key.to_string())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_accepts_comma_space_and_the_four_parameters() {
        let p = parse_signature_header(
            r#"keyId="SN=1,CA=CN=x", algorithm="rsa-sha256", headers="(request-target) date digest", signature="AAAA""#,
        )
        .expect("parses");
        assert_eq!(p.key_id, "SN=1,CA=CN=x");
        assert_eq!(p.algorithm.as_deref(), Some("rsa-sha256"));
        assert_eq!(p.headers, vec!["(request-target)", "date", "digest"]);
        assert_eq!(p.signature, "AAAA");
    }

    #[test]
    fn parser_rejects_what_is_out_of_place() {
        for bad in [
            r#"keyId="a",signature="b","#,
            r#"keyId=a,signature="b""#,
            r#"keyId="a" signature="b""#,
            r#"keyId="a",keyId="b",signature="c""#,
            r#"keyId="a",signature="b",extra="c""#,
            r#"keyId="a,signature="b"#,
            r#"="a""#,
        ] {
            assert!(matches!(parse_signature_header(bad), Err(SignatureError::Malformed(_))), "{bad}");
        }
        assert_eq!(parse_signature_header(r#"signature="b""#), Err(SignatureError::MissingParameter("keyId")));
        assert_eq!(parse_signature_header(r#"keyId="a""#), Err(SignatureError::MissingParameter("signature")));
    }

    #[test]
    fn absent_headers_parameter_means_date_only() {
        let p = parse_signature_header(r#"keyId="a",signature="b""#).expect("parses");
        assert_eq!(p.headers, vec!["date"]);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    const VALID: &str = r#"keyId="SN=1A2B,CA=CN=Test QTSP Issuing CA,O=Test QTSP,C=GB",algorithm="rsa-sha256",headers="(request-target) date digest",signature="c2lnbmF0dXJl""#;

    /// A valid header with one byte replaced, inserted or removed.
    fn near_valid() -> impl Strategy<Value = String> {
        (0..VALID.len(), any::<u8>(), 0..3u8).prop_map(|(at, byte, op)| {
            let mut bytes = VALID.as_bytes().to_vec();
            match op {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => {
                    bytes.remove(at);
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    }

    fn message(signature: String, digest: String, date: String, cert: String, body: Vec<u8>) -> Message {
        let mut msg = Message::new("POST", "/client/v1/register", body);
        msg.add_header("Signature", &signature);
        msg.add_header("Digest", &digest);
        msg.add_header("Date", &date);
        msg.add_header("TPP-Signature-Certificate", &cert);
        msg
    }

    proptest! {
        #[test]
        fn the_signature_header_parser_never_panics(s in ".*") {
            let _ = parse_signature_header(&s);
        }

        #[test]
        fn near_valid_signature_headers_give_typed_errors(s in near_valid()) {
            let _ = parse_signature_header(&s);
        }

        #[test]
        fn digest_and_date_parsers_never_panic(digest in ".*", date in ".*", body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let msg = message(VALID.into(), digest, date, String::new(), body);
            for encoding in [DigestEncoding::Base64, DigestEncoding::Hex, DigestEncoding::PrefixedHex] {
                let _ = check_digest(&msg, encoding, true);
            }
            let _ = check_date(&msg, Some(Duration::from_secs(300)), true, SystemTime::now());
            let _ = check_date(&msg, None, false, SystemTime::UNIX_EPOCH);
        }

        #[test]
        fn verify_never_panics_on_arbitrary_headers(
            signature in prop_oneof![".*", near_valid()],
            cert in prop_oneof![".*", "[A-Za-z0-9+/]{0,200}={0,2}"],
            key_id in ".*",
        ) {
            let msg = message(signature, "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".into(), httpdate::fmt_http_date(SystemTime::now()), cert, Vec::new());
            let _ = verify(&msg, &VerifyPolicy::default(), SystemTime::now());
            for style in [KeyIdStyle::SerialAndCa, KeyIdStyle::Serial, KeyIdStyle::Fingerprint] {
                if let Ok(info) = CertInfo::from_der(&crate::testing::test_pki().identity("qseal").expect("qseal").leaf()[..]) {
                    let _ = check_key_id(&key_id, &style, &info);
                }
            }
        }
    }
}
