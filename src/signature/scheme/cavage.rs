//! draft-cavage-http-signatures as the Berlin Group NextGenPSD2 guide (and SMBC) use it: the
//! `Digest` of the body, the RFC 7231 `Date`, the signing string over `(request-target)`, `date`
//! and `digest`, the `Signature` header with keyId, algorithm and headers. The signer, the
//! verifier, the mutations' forms in this dialect and what `explain` shows live side by side, so
//! that the harness and the reference server cannot drift apart. Shared rules (the certificate,
//! the typed errors) are `signature::verify`'s.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::{BaseError, Signer};
use crate::pki::inspect::KeyDescription;
use crate::pki::Identity;
use crate::signature::mutation::{bent_key_id, change_body, iso8601, other_method, OTHER_BODY};
use crate::signature::verify::{check_key, check_request_id};
use crate::signature::{
    headers, http_date, key_family, sha256, CertificateCache, Dialect, DigestAlgorithm, DigestEncoding, Message,
    MethodCase, Mutation, SignError, SignatureError, SignatureMemo, Signed, Verified, VerifyPolicy,
};

/// The signing string: one `name: value` line per entry of `names`, joined by `\n`. Shared by
/// the signer and the verifier; `lookup` returns every value of a header, in order.
pub fn signing_string<'a>(
    method_case: MethodCase,
    method: &str,
    target: &str,
    names: &[String],
    lookup: impl Fn(&str) -> Vec<&'a str>,
) -> Result<String, AbsentHeader> {
    let mut lines = Vec::with_capacity(names.len());
    for name in names {
        if name.eq_ignore_ascii_case(headers::REQUEST_TARGET) {
            lines.push(format!("{name}: {} {target}", method_case.apply(method)));
        } else {
            let values = lookup(name);
            if values.is_empty() {
                return Err(AbsentHeader(name.clone()));
            }
            lines.push(format!("{name}: {}", values.join(", ")));
        }
    }
    Ok(lines.join("\n"))
}

/// A header the signed list names that the request does not carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is absent")]
pub struct AbsentHeader(pub String);

/// The inputs of one signature, each of which a mutation may bend before signing.
pub(crate) struct SignInputs<'a> {
    pub key_identity: &'a Identity,
    pub cert_identity: &'a Identity,
    pub date_text: String,
    pub digest_text: String,
    pub signed_method: String,
    pub signed_target: String,
    pub headers: Vec<String>,
    pub algorithm: String,
    pub key_id: String,
    /// Where a signature made this second may be taken again (load's per-second signing).
    pub memo: Option<&'a SignatureMemo>,
}

impl<'a> SignInputs<'a> {
    /// The inputs of a correct signature of `msg` at `date` by `identity`.
    pub(crate) fn correct(identity: &'a Identity, dialect: &Dialect, msg: &Message, date: SystemTime) -> Self {
        SignInputs {
            key_identity: identity,
            cert_identity: identity,
            date_text: dialect.date_form.format(date),
            digest_text: dialect.digest_of(&msg.body),
            signed_method: msg.method.clone(),
            signed_target: msg.target.clone(),
            headers: dialect.header_names_for(msg),
            algorithm: dialect.algorithm.label(identity.key().kind()).to_string(),
            key_id: dialect.key_id_for(&identity.info),
            memo: None,
        }
    }

    /// Writes Date, Digest (and a fresh X-Request-ID where the dialect wants one and the
    /// request has none) into `msg`, signs, and writes Signature and the certificate.
    pub(crate) fn apply(self, dialect: &Dialect, msg: &mut Message) -> Result<Signed, SignError> {
        msg.set_header(headers::DATE, &self.date_text);
        msg.set_header(headers::DIGEST, &self.digest_text);
        if dialect.request_id && msg.header(headers::REQUEST_ID).is_none() {
            msg.set_header(headers::REQUEST_ID, &uuid::Uuid::new_v4().to_string());
        }
        let string =
            signing_string(dialect.method_case, &self.signed_method, &self.signed_target, &self.headers, |name| {
                msg.header_values(name)
            })
            .map_err(|absent| SignError::HeaderAbsent(absent.0))?;
        let signature = match self.memo {
            Some(memo) => memo.sign(self.key_identity, &string),
            None => self.key_identity.key().sign(string.as_bytes()),
        }
        .map_err(|source| SignError::Key { identity: self.key_identity.name.clone(), source })?;
        let value = format!(
            "keyId=\"{}\",algorithm=\"{}\",headers=\"{}\",signature=\"{}\"",
            self.key_id,
            self.algorithm,
            self.headers.join(" "),
            B64.encode(signature)
        );
        msg.set_header(headers::SIGNATURE, &value);
        msg.set_header(headers::CERTIFICATE, self.cert_identity.leaf_base64());
        let written = [headers::DATE, headers::DIGEST, headers::REQUEST_ID, headers::SIGNATURE, headers::CERTIFICATE]
            .iter()
            .filter_map(|name| msg.header(name).map(|value| (name.to_string(), value.to_string())))
            .collect();
        Ok(Signed { signing_string: string, headers: written })
    }
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

/// Verifies a draft-cavage signature of `msg` as `policy` says, at `now`.
pub(crate) fn verify(
    msg: &Message,
    policy: &VerifyPolicy,
    now: SystemTime,
    cache: &CertificateCache,
) -> Result<Verified, SignatureError> {
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
        let now = match policy.whole_seconds {
            // The current second counted whole: a Date up to a second past the window is taken.
            true => now.duration_since(UNIX_EPOCH).map_or(now, |d| UNIX_EPOCH + Duration::from_secs(d.as_secs())),
            false => now,
        };
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
    .map_err(|absent| SignatureError::SignedHeaderAbsent(absent.0))?;
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

/// Whether a draft-cavage dialect signs what this mutation breaks: a mutation of
/// `(request-target)` means nothing where it is not signed (the Berlin Group's list), one of
/// X-Request-ID nothing where the dialect wants none.
pub(crate) fn has_form(mutation: Mutation, dialect: &Dialect) -> bool {
    use Mutation::*;
    match mutation {
        RequestTargetOtherPath
        | RequestTargetOtherMethod
        | RequestTargetWithoutQuery
        | HeadersWithoutRequestTarget
        | SignatureReplayedFromOtherMethod => dialect.signs(headers::REQUEST_TARGET),
        HeadersWithoutDate | DateDiffersFromSigned => dialect.signs("date"),
        HeadersWithoutDigest => dialect.signs("digest"),
        RequestIdMissing | RequestIdNotUuid => dialect.request_id,
        RequestIdNotSigned => dialect.request_id && dialect.signs("x-request-id"),
        PresentHeaderNotSigned => !dialect.signed_when_present.is_empty(),
        _ => true,
    }
}

/// Signs `msg` in draft-cavage with `mutation`'s one thing broken.
pub(crate) fn apply_mutation(
    mutation: Mutation,
    signer: &Signer<'_, '_>,
    msg: &mut Message,
) -> Result<Signed, SignError> {
    use Mutation::*;
    let Signer { identity, dialect, date, ctx } = *signer;
    let mut inputs = SignInputs { memo: ctx.memo, ..SignInputs::correct(identity, dialect, msg, date) };
    let hour = Duration::from_secs(3600);
    match mutation {
        DigestWrong => {
            let mut noise = [0u8; 32];
            aws_lc_rs::rand::fill(&mut noise)
                .map_err(|_| SignError::MutationNeeds { mutation: mutation.name(), needs: "randomness" })?;
            inputs.digest_text = dialect.digest_of(&noise);
        }
        DigestSha1 => {
            let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &msg.body);
            inputs.digest_text = format!("SHA={}", B64.encode(sha1.as_ref()));
        }
        DigestOfOtherBody => inputs.digest_text = dialect.digest_of(OTHER_BODY),
        DateStale => inputs.date_text = http_date(date - hour),
        DateFuture => inputs.date_text = http_date(date + hour),
        DateNotImfFixdate => inputs.date_text = iso8601(date),
        RequestTargetOtherPath => inputs.signed_target = format!("{}/other", msg.path().trim_end_matches('/')),
        RequestTargetOtherMethod => inputs.signed_method = other_method(&msg.method).to_string(),
        RequestTargetWithoutQuery => inputs.signed_target = msg.path().to_string(),
        HeadersWithoutRequestTarget => inputs.headers.retain(|h| !h.eq_ignore_ascii_case(headers::REQUEST_TARGET)),
        HeadersWithoutDate => inputs.headers.retain(|h| !h.eq_ignore_ascii_case("date")),
        HeadersWithoutDigest => inputs.headers.retain(|h| !h.eq_ignore_ascii_case("digest")),
        AlgorithmUnknown => inputs.algorithm = "hmac-sha256".into(),
        AlgorithmMismatch => {
            inputs.algorithm =
                if key_family(identity.key().kind()) == "rsa" { "ecdsa-sha256" } else { "rsa-sha256" }.into()
        }
        SignedByAnotherKey => inputs.key_identity = mutation.needs_other(ctx)?,
        KeyIdSerialWrong | KeyIdCaWrong => inputs.key_id = bent_key_id(mutation, identity, dialect),
        RequestIdMissing => inputs.headers.retain(|h| !h.eq_ignore_ascii_case(headers::REQUEST_ID)),
        RequestIdNotSigned => inputs.headers.retain(|h| !h.eq_ignore_ascii_case(headers::REQUEST_ID)),
        RequestIdNotUuid => msg.set_header(headers::REQUEST_ID, "dcr-harness-not-a-uuid"),
        PresentHeaderNotSigned => {
            let name = dialect.signed_when_present.first().map(String::as_str).unwrap_or("psu-id");
            if msg.header(name).is_none() {
                msg.set_header(name, "psu-dcr-harness");
            }
            inputs.headers.retain(|h| !h.eq_ignore_ascii_case(name));
        }
        CertificateOther => inputs.cert_identity = mutation.needs_other(ctx)?,
        _ => {}
    }
    let signed = inputs.apply(dialect, msg)?;
    match mutation {
        RequestIdMissing => msg.remove_header(headers::REQUEST_ID),
        BodyChangedAfterSigning => change_body(msg),
        DigestMissing => msg.remove_header(headers::DIGEST),
        DigestDuplicated => msg.add_header(headers::DIGEST, &dialect.digest_of(OTHER_BODY)),
        DateMissing => msg.remove_header(headers::DATE),
        DateDiffersFromSigned => msg.set_header(headers::DATE, &http_date(date - Duration::from_secs(7))),
        SignatureNotBase64 => rewrite_signature(msg, |_| "not*base64!".into()),
        SignatureTruncated => rewrite_signature(msg, |s| s[..(s.len() / 2) / 4 * 4].to_string()),
        SignatureEmpty => rewrite_signature(msg, |_| String::new()),
        SignatureHeaderMissing => msg.remove_header(headers::SIGNATURE),
        SignatureHeaderDuplicated => {
            let mut copy = msg.clone();
            rewrite_signature(&mut copy, |s| s[..(s.len() / 2) / 4 * 4].to_string());
            if let Some(second) = copy.header(headers::SIGNATURE) {
                msg.add_header(headers::SIGNATURE, second);
            }
        }
        CertificateMissing => msg.remove_header(headers::CERTIFICATE),
        SignatureReplayedFromOtherMethod => {
            let mut other = msg.clone();
            other.method = other_method(&msg.method).to_string();
            SignInputs::correct(identity, dialect, &other, date).apply(dialect, &mut other)?;
            for name in [headers::DATE, headers::DIGEST, headers::SIGNATURE, headers::CERTIFICATE] {
                msg.set_header(name, other.header(name).unwrap_or_default());
            }
        }
        _ => {}
    }
    Ok(Signed { signing_string: signed.signing_string, headers: current_signature_headers(msg) })
}

/// The signature-related headers as they now stand in `msg` (after a mutation).
fn current_signature_headers(msg: &Message) -> Vec<(String, String)> {
    msg.headers
        .iter()
        .filter(|(n, _)| {
            [headers::DATE, headers::DIGEST, headers::SIGNATURE, headers::CERTIFICATE]
                .iter()
                .any(|h| h.eq_ignore_ascii_case(n))
        })
        .cloned()
        .collect()
}

fn rewrite_signature(msg: &mut Message, f: impl Fn(&str) -> String) {
    let Some(value) = msg.header(headers::SIGNATURE).map(str::to_string) else {
        return;
    };
    let Some(start) = value.find("signature=\"").map(|i| i + "signature=\"".len()) else {
        return;
    };
    let end = value[start..].find('"').map(|i| start + i).unwrap_or(value.len());
    let rewritten = format!("{}{}{}", &value[..start], f(&value[start..end]), &value[end..]);
    msg.set_header(headers::SIGNATURE, &rewritten);
}

/// The signing string over the request's own `headers` parameter (what `explain` shows).
pub(crate) fn as_signed(msg: &Message, dialect: &Dialect) -> Result<String, BaseError> {
    let header = msg.header(headers::SIGNATURE).ok_or(BaseError::NoSignature)?;
    let params = parse_signature_header(header)?;
    signing_string(dialect.method_case, &msg.method, &msg.target, &params.headers, |n| msg.header_values(n))
        .map_err(|absent| BaseError::SignedButAbsent(absent.0))
}

/// The signing string over the profile's header list, with the request's own Date and the
/// Digest its body has.
pub(crate) fn expected(msg: &Message, dialect: &Dialect) -> Result<String, BaseError> {
    let mut fixed = msg.clone();
    fixed.set_header(headers::DIGEST, &dialect.digest_of(&msg.body));
    signing_string(dialect.method_case, &msg.method, &msg.target, &dialect.header_names_for(msg), |n| {
        fixed.header_values(n)
    })
    .map_err(|absent| BaseError::ProfileSignsAbsent(absent.0))
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
    use crate::pki::CertInfo;
    use crate::signature::verify::check_key_id;
    use crate::signature::{verify, KeyIdStyle};
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
