//! The catalog of mutations: each is a named, documented way to break exactly one thing in an
//! otherwise valid signed request. Scenarios and load profiles refer to them by name; the
//! reference server's verifier must reject each with the rule named in [`Mutation::rejected_as`].
//! A mutation bends the inputs of the signature before signing, or the request after it, never
//! both, so that the broken request is exact.

use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::rfc9421::{self, fields, ContentDigest};
use super::{headers, http_date, key_family, Dialect, Message, Scheme, SignError, SignInputs, Signed};
use crate::pki::Identity;

/// What a mutation may need besides the signer: another TPP's identity, for "signed by another
/// key" and "another certificate".
#[derive(Default, Clone, Copy)]
pub struct MutationContext<'a> {
    pub other_identity: Option<&'a Identity>,
    /// Per-second signature reuse (load only).
    pub memo: Option<&'a super::SignatureMemo>,
}

macro_rules! catalog {
    ($( $variant:ident = $name:literal, $rule:literal, $rule9421:literal, $doc:literal; )*) => {
        /// A named way to break a valid signed request.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
        pub enum Mutation {
            $( #[doc = $doc] #[serde(rename = $name)] $variant, )*
        }

        impl Mutation {
            /// Every mutation, in catalog order.
            pub const ALL: &'static [Mutation] = &[$(Mutation::$variant),*];

            /// The name scenarios use.
            pub fn name(self) -> &'static str {
                match self { $(Mutation::$variant => $name,)* }
            }

            /// What the mutation does, in one line.
            pub fn description(self) -> &'static str {
                match self { $(Mutation::$variant => $doc,)* }
            }

            /// The verifier rule ([`super::SignatureError::rule`]) a strict draft-cavage server
            /// breaks on; `-` where the mutation has no draft-cavage form.
            pub fn rejected_as(self) -> &'static str {
                match self { $(Mutation::$variant => $rule,)* }
            }

            /// The rule a strict RFC 9421 server breaks on; `-` where there is no RFC 9421 form.
            fn rejected_as_rfc9421(self) -> &'static str {
                match self { $(Mutation::$variant => $rule9421,)* }
            }
        }
    };
}

catalog! {
    BodyChangedAfterSigning = "body-changed-after-signing", "digest-mismatch", "digest-mismatch", "the body is changed after Digest and Signature were computed";
    DigestMissing = "digest-missing", "digest-missing", "digest-missing", "the Digest header is left out";
    DigestWrong = "digest-wrong", "digest-mismatch", "digest-mismatch", "Digest holds the hash of random bytes (and is signed as such)";
    DigestSha1 = "digest-sha1", "digest-algorithm", "digest-algorithm", "Digest is `SHA=` (SHA-1) instead of SHA-256";
    DigestOfOtherBody = "digest-of-other-body", "digest-mismatch", "digest-mismatch", "Digest is the SHA-256 of another body";
    DigestDuplicated = "digest-duplicated", "duplicate-header", "duplicate-header", "a second Digest header with another value";
    DateMissing = "date-missing", "date-missing", "date-missing", "the Date header is left out";
    DateStale = "date-stale", "date-skew", "date-skew", "signed with a Date one hour in the past";
    DateFuture = "date-future", "date-skew", "date-skew", "signed with a Date one hour in the future";
    DateNotImfFixdate = "date-not-imf-fixdate", "date-format", "date-format", "Date in ISO 8601 instead of RFC 7231 IMF-fixdate";
    DateDiffersFromSigned = "date-differs-from-signed", "bad-signature", "bad-signature", "the Date sent is 7 s off the Date signed";
    RequestTargetOtherPath = "request-target-other-path", "bad-signature", "bad-signature", "(request-target) signed for another path";
    RequestTargetOtherMethod = "request-target-other-method", "bad-signature", "bad-signature", "(request-target) signed for another method";
    RequestTargetWithoutQuery = "request-target-without-query", "bad-signature", "bad-signature", "the request has a query, (request-target) was signed without it";
    HeadersWithoutRequestTarget = "headers-without-request-target", "header-not-signed", "header-not-signed", "the `headers` parameter leaves out (request-target)";
    HeadersWithoutDate = "headers-without-date", "header-not-signed", "-", "the `headers` parameter leaves out date";
    HeadersWithoutDigest = "headers-without-digest", "header-not-signed", "header-not-signed", "the `headers` parameter leaves out digest";
    AlgorithmUnknown = "algorithm-unknown", "unknown-algorithm", "unknown-algorithm", "algorithm label `hmac-sha256`, which a QSEAL cannot make";
    AlgorithmMismatch = "algorithm-mismatch", "algorithm-mismatch", "algorithm-mismatch", "algorithm label of the other key family (ecdsa for RSA, rsa for ECDSA)";
    SignedByAnotherKey = "signed-by-another-key", "bad-signature", "bad-signature", "signed with another TPP's key, sent with this certificate and keyId";
    KeyIdSerialWrong = "keyid-serial-wrong", "keyid-mismatch", "keyid-mismatch", "keyId names a serial number one off the certificate's";
    KeyIdCaWrong = "keyid-ca-wrong", "keyid-mismatch", "keyid-mismatch", "keyId names a CA that did not issue the certificate";
    SignatureNotBase64 = "signature-not-base64", "bad-base64", "malformed", "the signature parameter is not base64";
    SignatureTruncated = "signature-truncated", "bad-signature", "bad-signature", "the signature parameter is cut to half its length";
    SignatureEmpty = "signature-empty", "bad-signature", "bad-signature", "the signature parameter is empty";
    SignatureHeaderMissing = "signature-header-missing", "signature-missing", "signature-missing", "the Signature header is left out";
    SignatureHeaderDuplicated = "signature-header-duplicated", "duplicate-header", "duplicate-header", "a second, different Signature header";
    CertificateMissing = "certificate-missing", "certificate-missing", "certificate-missing", "the TPP-Signature-Certificate header is left out";
    CertificateOther = "certificate-other", "keyid-mismatch", "keyid-mismatch", "TPP-Signature-Certificate carries another TPP's certificate";
    SignatureReplayedFromOtherMethod = "signature-replayed-from-other-method", "bad-signature", "bad-signature", "Date, Digest and Signature of the same request with another method, replayed";
    SignatureInputMissing = "signature-input-missing", "-", "signature-input-missing", "RFC 9421: the Signature-Input header is left out";
    LabelMismatch = "label-mismatch", "-", "label-mismatch", "RFC 9421: Signature carries the signature under another label than Signature-Input";
    SignatureExpired = "signature-expired", "-", "signature-expired", "RFC 9421: `expires` a minute past (`created` two minutes past)";
    TagWrong = "tag-wrong", "-", "tag-mismatch", "RFC 9421: the `tag` parameter names another application than the profile's";
    RequestIdMissing = "request-id-missing", "request-id-missing", "-", "Berlin Group: the request carries no X-Request-ID";
    RequestIdNotSigned = "request-id-not-signed", "header-not-signed", "-", "Berlin Group: X-Request-ID is sent but left out of the `headers` parameter";
    RequestIdNotUuid = "request-id-not-uuid", "request-id-not-uuid", "-", "Berlin Group: X-Request-ID is not a UUID (signed as such)";
    PresentHeaderNotSigned = "present-header-not-signed", "header-not-signed", "-", "Berlin Group: a PSU-ID header is sent but not signed, where the profile signs it when present";
    RequestObjectExpired = "request-object-expired", "request-object", "request-object", "the request object's exp is an hour past (iat two hours)";
    RequestObjectWrongAudience = "request-object-wrong-aud", "request-object", "request-object", "the request object's aud names another server";
    RequestObjectWrongIssuer = "request-object-wrong-iss", "request-object", "request-object", "the request object's iss is not the software_id of its statement";
    RequestObjectAlgNone = "request-object-alg-none", "request-object", "request-object", "the request object is `alg: none`, without a signature";
    RequestObjectRs256 = "request-object-rs256", "request-object", "request-object", "the request object is signed RS256 (PKCS#1 v1.5) where PS256 is required";
    RequestObjectBadSignature = "request-object-bad-signature", "request-object", "request-object", "a byte of the request object's signature is changed after signing";
    RequestObjectSignedByAnotherKey = "request-object-signed-by-another-key", "request-object", "request-object", "the request object is signed with another TPP's key under this TPP's kid";
    RequestObjectWithoutStatement = "request-object-without-statement", "request-object", "request-object", "the request object leaves the software statement out";
    ClientAssertionExpired = "client-assertion-expired", "client-assertion", "client-assertion", "the private_key_jwt client assertion's exp is an hour past";
    ClientAssertionWrongAudience = "client-assertion-wrong-aud", "client-assertion", "client-assertion", "the client assertion's aud names another server";
    ClientAssertionSignedByAnotherKey = "client-assertion-signed-by-another-key", "client-assertion", "client-assertion", "the client assertion is signed with another TPP's key under this client's kid";
}

impl Mutation {
    /// Whether it breaks a signed registration request (a request object) rather than the
    /// HTTP signature: it applies where a profile sends request objects, before any signing.
    pub fn bends_request_object(self) -> bool {
        self.rejected_as() == "request-object"
    }

    /// Whether it breaks a `private_key_jwt` client assertion of a token request.
    pub fn bends_client_assertion(self) -> bool {
        self.rejected_as() == "client-assertion"
    }

    /// Whether it breaks the HTTP signature (as the verifier's rule names).
    pub fn bends_http_signature(self) -> bool {
        !self.bends_request_object() && !self.bends_client_assertion()
    }

    /// The verifier rule a strict server breaks on where requests are signed as `dialect` says;
    /// `None` where the mutation has no form in that dialect (`headers-without-date` in RFC 9421,
    /// which signs `created` instead; the RFC 9421 ones in draft-cavage; `tag-wrong` where the
    /// dialect asks for no tag).
    pub fn rejected_in(self, dialect: &Dialect) -> Option<&'static str> {
        let rule = match dialect.scheme {
            Scheme::Cavage if !self.has_cavage_form_in(dialect) => "-",
            Scheme::Cavage => self.rejected_as(),
            Scheme::Rfc9421 if self == Mutation::TagWrong && dialect.rfc9421.tag.is_none() => "-",
            Scheme::Rfc9421 => self.rejected_as_rfc9421(),
        };
        (rule != "-").then_some(rule)
    }

    /// Whether a draft-cavage dialect signs what this mutation breaks: a mutation of
    /// `(request-target)` means nothing where it is not signed (the Berlin Group's list), one of
    /// X-Request-ID nothing where the dialect wants none.
    fn has_cavage_form_in(self, dialect: &Dialect) -> bool {
        use Mutation::*;
        match self {
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

    /// Whether the mutation can be made where requests are signed as `dialect` says.
    pub fn applies_to(self, dialect: &Dialect) -> bool {
        self.rejected_in(dialect).is_some()
    }
}

/// An unknown mutation name.
#[derive(Debug, thiserror::Error)]
#[error("unknown mutation `{name}`; known mutations: {known}")]
pub struct UnknownMutation {
    pub name: String,
    pub known: String,
}

impl std::str::FromStr for Mutation {
    type Err = UnknownMutation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mutation::ALL.iter().copied().find(|m| m.name() == s).ok_or_else(|| UnknownMutation {
            name: s.to_string(),
            known: Mutation::ALL.iter().map(|m| m.name()).collect::<Vec<_>>().join(", "),
        })
    }
}

impl std::fmt::Display for Mutation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

const OTHER_BODY: &[u8] = br#"{"client_name":"another body"}"#;

fn other_method(method: &str) -> &'static str {
    match method {
        "DELETE" => "PUT",
        "PUT" => "DELETE",
        _ => "PUT",
    }
}

impl Mutation {
    fn needs_other<'a>(self, ctx: &MutationContext<'a>) -> Result<&'a Identity, SignError> {
        ctx.other_identity
            .ok_or(SignError::MutationNeeds { mutation: self.name(), needs: "another TPP's identity (qseal-b)" })
    }

    /// Signs `msg` with this one thing broken.
    pub(crate) fn apply<'a>(
        self,
        identity: &'a Identity,
        dialect: &Dialect,
        msg: &mut Message,
        date: SystemTime,
        ctx: &MutationContext<'a>,
    ) -> Result<Signed, SignError> {
        use Mutation::*;
        if !self.applies_to(dialect) {
            return Err(SignError::MutationNeeds {
                mutation: self.name(),
                needs: "a signature dialect it has a form in",
            });
        }
        if self == RequestTargetWithoutQuery && !msg.target.contains('?') {
            msg.target.push_str("?dcr-harness=query");
        }
        if dialect.scheme == Scheme::Rfc9421 {
            return self.apply_rfc9421(identity, dialect, msg, date, ctx);
        }
        let mut inputs = SignInputs { memo: ctx.memo, ..SignInputs::correct(identity, dialect, msg, date) };
        let hour = Duration::from_secs(3600);
        match self {
            DigestWrong => {
                let mut noise = [0u8; 32];
                aws_lc_rs::rand::fill(&mut noise)
                    .map_err(|_| SignError::MutationNeeds { mutation: self.name(), needs: "randomness" })?;
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
            SignedByAnotherKey => inputs.key_identity = self.needs_other(ctx)?,
            KeyIdSerialWrong | KeyIdCaWrong => inputs.key_id = bent_key_id(self, identity, dialect),
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
            CertificateOther => inputs.cert_identity = self.needs_other(ctx)?,
            _ => {}
        }
        let signed = inputs.apply(dialect, msg)?;
        match self {
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
}

impl Mutation {
    /// Signs `msg` in RFC 9421 with this one thing broken: the same idea as the draft-cavage
    /// form, on RFC 9421's fields (`created` for Date, `Content-Digest` for Digest, covered
    /// components for the `headers` list, `Signature-Input` parameters for the rest).
    fn apply_rfc9421<'a>(
        self,
        identity: &'a Identity,
        dialect: &Dialect,
        msg: &mut Message,
        date: SystemTime,
        ctx: &MutationContext<'a>,
    ) -> Result<Signed, SignError> {
        use Mutation::*;
        let mut inputs = super::rfc9421_inputs(identity, dialect, msg, date)?;
        let digest = dialect.rfc9421.digest;
        let now = rfc9421::unix_seconds(date);
        let hour = 3600;
        match self {
            DigestWrong => {
                let mut noise = [0u8; 32];
                aws_lc_rs::rand::fill(&mut noise)
                    .map_err(|_| SignError::MutationNeeds { mutation: self.name(), needs: "randomness" })?;
                inputs.digest_text = Some(digest.value(&noise));
            }
            DigestSha1 => {
                let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &msg.body);
                inputs.digest_text = Some(format!("sha=:{}:", B64.encode(sha1.as_ref())));
            }
            DigestOfOtherBody => inputs.digest_text = Some(digest.value(OTHER_BODY)),
            DateMissing => {
                inputs.params.shift_remove("created");
            }
            DateStale => rfc9421::set_integer(&mut inputs.params, "created", now - hour),
            DateFuture => rfc9421::set_integer(&mut inputs.params, "created", now + hour),
            DateNotImfFixdate => rfc9421::set_string(&mut inputs.params, "created", &iso8601(date)),
            RequestTargetOtherPath => inputs.signed_target = format!("{}/other", msg.path().trim_end_matches('/')),
            RequestTargetOtherMethod => inputs.signed_method = other_method(&msg.method).to_string(),
            RequestTargetWithoutQuery => inputs.signed_target = msg.path().to_string(),
            HeadersWithoutRequestTarget => inputs.components.retain(|c| {
                !matches!(
                    c.bare_item.as_string().map(|s| s.as_str()),
                    Some("@method" | "@target-uri" | "@authority" | "@path" | "@query" | "@request-target")
                )
            }),
            HeadersWithoutDigest => {
                inputs.components.retain(|c| c.bare_item.as_string().is_none_or(|s| s.as_str() != "content-digest"))
            }
            AlgorithmUnknown => rfc9421::set_string(&mut inputs.params, "alg", "hmac-sha256"),
            AlgorithmMismatch => {
                let other = match inputs.algorithm {
                    rfc9421::Algorithm::EcdsaP256Sha256 => rfc9421::Algorithm::RsaPssSha512,
                    _ => rfc9421::Algorithm::EcdsaP256Sha256,
                };
                rfc9421::set_string(&mut inputs.params, "alg", other.name());
            }
            SignedByAnotherKey => inputs.key_identity = self.needs_other(ctx)?,
            KeyIdSerialWrong | KeyIdCaWrong => {
                rfc9421::set_string(&mut inputs.params, "keyid", &bent_key_id(self, identity, dialect))
            }
            CertificateOther => inputs.cert_identity = self.needs_other(ctx)?,
            LabelMismatch => inputs.signature_label = format!("{}-other", inputs.input_label),
            SignatureExpired => {
                rfc9421::set_integer(&mut inputs.params, "created", now - 120);
                rfc9421::set_integer(&mut inputs.params, "expires", now - 60);
            }
            TagWrong => rfc9421::set_string(&mut inputs.params, "tag", "another-application"),
            _ => {}
        }
        let label = inputs.signature_label.clone();
        let signed = inputs.apply(msg)?;
        match self {
            BodyChangedAfterSigning => change_body(msg),
            DigestMissing => msg.remove_header(fields::CONTENT_DIGEST),
            DigestDuplicated => msg.add_header(fields::CONTENT_DIGEST, &ContentDigest::Sha256.value(OTHER_BODY)),
            DateDiffersFromSigned => {
                let input = msg.header(fields::SIGNATURE_INPUT).unwrap_or_default().to_string();
                let bent = input.replace(&format!("created={now}"), &format!("created={}", now - 7));
                msg.set_header(fields::SIGNATURE_INPUT, &bent);
            }
            SignatureNotBase64 => msg.set_header(headers::SIGNATURE, &format!("{label}=:not*base64!:")),
            SignatureTruncated => rewrite_rfc9421_signature(msg, &label, |s| s[..s.len() / 2].to_vec()),
            SignatureEmpty => rewrite_rfc9421_signature(msg, &label, |_| Vec::new()),
            SignatureHeaderMissing => msg.remove_header(headers::SIGNATURE),
            SignatureHeaderDuplicated => {
                let mut copy = msg.clone();
                rewrite_rfc9421_signature(&mut copy, &label, |s| s[..s.len() / 2].to_vec());
                if let Some(second) = copy.header(headers::SIGNATURE) {
                    msg.add_header(headers::SIGNATURE, second);
                }
            }
            CertificateMissing => msg.remove_header(headers::CERTIFICATE),
            SignatureInputMissing => msg.remove_header(fields::SIGNATURE_INPUT),
            SignatureReplayedFromOtherMethod => {
                let mut other = msg.clone();
                other.method = other_method(&msg.method).to_string();
                super::sign(identity, dialect, &mut other, date)?;
                for name in [fields::CONTENT_DIGEST, fields::SIGNATURE_INPUT, headers::SIGNATURE, headers::CERTIFICATE]
                {
                    if let Some(value) = other.header(name) {
                        msg.set_header(name, value);
                    }
                }
            }
            _ => {}
        }
        Ok(Signed { signing_string: signed.signing_string, headers: rfc9421::written_headers(msg) })
    }
}

/// The keyId of `identity` bent as `mutation` says: a serial one off, or another CA.
fn bent_key_id(mutation: Mutation, identity: &Identity, dialect: &Dialect) -> String {
    match mutation {
        Mutation::KeyIdCaWrong => {
            format!("SN={},CA=CN=Some Other QTSP CA,O=Elsewhere,C=DE", identity.info.serial_hex())
        }
        _ => {
            let mut info = identity.info.clone();
            if let Some(last) = info.serial.last_mut() {
                *last ^= 0x01;
            }
            info.fingerprint = info.fingerprint.chars().rev().collect();
            dialect.key_id_for(&info)
        }
    }
}

fn change_body(msg: &mut Message) {
    if msg.body.is_empty() {
        msg.body = b"{}".to_vec();
    } else {
        msg.body.push(b' ');
    }
}

/// Replaces the bytes of the RFC 9421 signature labelled `label`.
fn rewrite_rfc9421_signature(msg: &mut Message, label: &str, f: impl Fn(&[u8]) -> Vec<u8>) {
    let Some(value) = msg.header(headers::SIGNATURE) else {
        return;
    };
    let Some(encoded) = value.strip_prefix(&format!("{label}=:")).and_then(|v| v.strip_suffix(':')) else {
        return;
    };
    let Ok(bytes) = B64.decode(encoded) else {
        return;
    };
    msg.set_header(headers::SIGNATURE, &format!("{label}=:{}:", B64.encode(f(&bytes))));
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

fn iso8601(at: SystemTime) -> String {
    let t = time::OffsetDateTime::from(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_catalog() {
        for m in Mutation::ALL {
            assert_eq!(m.name().parse::<Mutation>().expect("known"), *m);
            assert!(!m.description().is_empty());
        }
        let err = "no-such-thing".parse::<Mutation>().expect_err("unknown");
        assert!(err.to_string().contains("body-changed-after-signing"));
    }

    #[test]
    fn the_catalog_covers_the_design() {
        assert!(Mutation::ALL.len() >= 30, "{}", Mutation::ALL.len());
    }
}
