//! The RFC 9421 verifier: the covered components a policy requires, `Content-Digest`, `created`
//! and `expires`, the tag, keyid against the certificate, the algorithm against its key, and the
//! signature over the base. Its broken rules are the shared [`SignatureError`]s.

use std::time::SystemTime;

use sfv::{Dictionary, ListEntry, Parser};

use super::{fields, parse_fields, signature_base, Algorithm, ContentDigest, Parsed, CONTENT_DIGEST};
use crate::pki::inspect::KeyDescription;
use crate::signature::unix_seconds;
use crate::signature::verify::check_key;
use crate::signature::{headers, CertificateCache, Message, SignatureError, Verified, VerifyPolicy};

/// The required components a policy's signed-header list stands for in RFC 9421: the request
/// line (`@method` and `@target-uri`, or `@authority` and `@path`), the body (`content-digest`
/// where there is one), and the moment (`created`).
fn check_coverage(parsed: &Parsed, policy: &VerifyPolicy, msg: &Message) -> Result<(), SignatureError> {
    let requires = |name: &str| policy.required_headers.iter().any(|h| h.eq_ignore_ascii_case(name));
    if requires(headers::REQUEST_TARGET) {
        if !parsed.covers("@method") {
            return Err(SignatureError::HeaderNotSigned("@method".into()));
        }
        let split_form = parsed.covers("@authority")
            && parsed.covers("@path")
            && (parsed.covers("@query") || !msg.target.contains('?'));
        if !parsed.covers("@target-uri") && !split_form {
            return Err(SignatureError::HeaderNotSigned("@target-uri".into()));
        }
    }
    if requires("digest") && !msg.body.is_empty() && !parsed.covers(CONTENT_DIGEST) {
        return Err(SignatureError::HeaderNotSigned(CONTENT_DIGEST.into()));
    }
    if requires("date") && !parsed.params.contains_key("created") {
        return Err(SignatureError::DateMissing);
    }
    Ok(())
}

pub(super) fn check_content_digest(msg: &Message) -> Result<(), SignatureError> {
    let value = msg.header(fields::CONTENT_DIGEST).ok_or(SignatureError::DigestMissing)?;
    let dict: Dictionary =
        Parser::new(value).parse().map_err(|e| SignatureError::DigestMalformed(format!("{value}: {e}")))?;
    let mut others = Vec::new();
    for (name, entry) in &dict {
        let algorithm = match name.as_str() {
            "sha-256" => ContentDigest::Sha256,
            "sha-512" => ContentDigest::Sha512,
            other => {
                others.push(other.to_string());
                continue;
            }
        };
        let ListEntry::Item(item) = entry else {
            return Err(SignatureError::DigestMalformed(value.into()));
        };
        let got = item.bare_item.as_byte_sequence().ok_or_else(|| SignatureError::DigestMalformed(value.into()))?;
        return if got == algorithm.hash(&msg.body).as_slice() { Ok(()) } else { Err(SignatureError::DigestMismatch) };
    }
    Err(SignatureError::DigestAlgorithm(others.join(", ")))
}

fn check_times(parsed: &Parsed, policy: &VerifyPolicy, now: SystemTime) -> Result<(), SignatureError> {
    let now_s = unix_seconds(now);
    if let (true, Some(created), Some(max)) = (policy.check_date, parsed.integer("created")?, policy.max_skew) {
        let distance = now_s.abs_diff(created);
        if distance > max.as_secs() {
            return Err(SignatureError::DateSkew { seconds: distance, max: max.as_secs() });
        }
    }
    if let Some(expires) = parsed.integer("expires")? {
        if policy.check_expires && expires < now_s {
            return Err(SignatureError::Expired { seconds: now_s.abs_diff(expires) });
        }
    }
    Ok(())
}

/// Verifies an RFC 9421 signature of `msg` as `policy` says, at `now`. The key is the one of the
/// `TPP-Signature-Certificate`, tied to `keyid` as the dialect's keyId style says.
pub(crate) fn verify(
    msg: &Message,
    policy: &VerifyPolicy,
    now: SystemTime,
    cache: &CertificateCache,
) -> Result<Verified, SignatureError> {
    let settings = &policy.dialect.rfc9421;
    if policy.reject_duplicate_headers {
        for name in [fields::CONTENT_DIGEST, headers::CERTIFICATE] {
            if msg.header_values(name).len() > 1 {
                return Err(SignatureError::DuplicateHeader(name.into()));
            }
        }
    }
    let mut parsed = parse_fields(msg, Some(&settings.label), policy.reject_duplicate_headers)?;
    let label = parsed.string("alg")?.map(str::to_string);
    let named = match &label {
        Some(name) => Some(Algorithm::from_name(name).ok_or_else(|| SignatureError::UnknownAlgorithm(name.clone()))?),
        None => None,
    };
    if named.is_some_and(|a| a.signing_scheme().is_none()) {
        return Err(SignatureError::UnknownAlgorithm(label.unwrap_or_default()));
    }
    check_coverage(&parsed, policy, msg)?;
    if let (true, Some(expected)) = (policy.check_tag, &settings.tag) {
        let got = parsed.string("tag")?;
        if got != Some(expected.as_str()) {
            return Err(SignatureError::TagMismatch { expected: expected.clone(), got: got.unwrap_or("none").into() });
        }
    }
    if policy.check_digest && (parsed.covers(CONTENT_DIGEST) || !msg.body.is_empty()) {
        check_content_digest(msg)?;
    }
    check_times(&parsed, policy, now)?;
    let key_id = parsed.string("keyid")?.ok_or(SignatureError::MissingParameter("keyid"))?;
    let header = msg.header(headers::CERTIFICATE).ok_or(SignatureError::CertificateMissing)?;
    let certificate = cache.get_or_parse(key_id, header)?;
    if policy.check_key_id {
        certificate.check_key_id(key_id, &policy.dialect.key_id)?;
    }
    check_key(&certificate.info.key, policy.allow_weak_keys)?;
    let algorithm = named.or(settings.alg).unwrap_or(match certificate.info.key {
        KeyDescription::EcdsaP256 => Algorithm::EcdsaP256Sha256,
        _ => Algorithm::RsaPssSha512,
    });
    if !algorithm.fits(&certificate.info.key) {
        return Err(SignatureError::AlgorithmMismatch {
            label: algorithm.name().into(),
            key: certificate.info.key.to_string(),
        });
    }
    parsed.base = signature_base(msg, &parsed.components, &parsed.params)?;
    if policy.check_signature
        && !certificate.verify_as(
            algorithm.key_algorithm(),
            policy.allow_weak_keys,
            parsed.base.as_bytes(),
            &parsed.signature,
        )
    {
        return Err(SignatureError::BadSignature);
    }
    Ok(Verified { certificate, signing_string: parsed.base })
}
