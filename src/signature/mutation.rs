//! The catalog of mutations: each is a named, documented way to break exactly one thing in an
//! otherwise valid signed request. Scenarios and load profiles refer to them by name; the
//! reference server's verifier must reject each with the rule named in [`Mutation::rejected_as`].
//! A mutation bends the inputs of the signature before signing, or the request after it, never
//! both, so that the broken request is exact.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::scheme::Signer;
use super::{Dialect, Message, SignError, Signed};
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
            pub(crate) fn rejected_as_rfc9421(self) -> &'static str {
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
    DpopOtherUri = "dpop-other-uri", "dpop", "dpop", "the DPoP proof's htu names another server's URI (RFC 9449 §4.3: it must be the request's)";
    DpopStale = "dpop-stale", "dpop", "dpop", "the DPoP proof's iat is an hour past";
    DpopSignedByAnotherKey = "dpop-signed-by-another-key", "dpop", "dpop", "the DPoP proof is signed with another key than the jwk it carries";
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

    /// Whether it breaks the DPoP proof (RFC 9449) of a token or resource request.
    pub fn bends_dpop_proof(self) -> bool {
        self.rejected_as() == "dpop"
    }

    /// Whether it breaks the HTTP signature (as the verifier's rule names).
    pub fn bends_http_signature(self) -> bool {
        !self.bends_request_object() && !self.bends_client_assertion() && !self.bends_dpop_proof()
    }

    /// The verifier rule a strict server breaks on where requests are signed as `dialect` says;
    /// `None` where the mutation has no form in that dialect (`headers-without-date` in RFC 9421,
    /// which signs `created` instead; the RFC 9421 ones in draft-cavage; `tag-wrong` where the
    /// dialect asks for no tag).
    pub fn rejected_in(self, dialect: &Dialect) -> Option<&'static str> {
        dialect.scheme.rejected_as(self, dialect)
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

pub(crate) const OTHER_BODY: &[u8] = br#"{"client_name":"another body"}"#;

pub(crate) fn other_method(method: &str) -> &'static str {
    match method {
        "DELETE" => "PUT",
        "PUT" => "DELETE",
        _ => "PUT",
    }
}

impl Mutation {
    pub(crate) fn needs_other<'a>(self, ctx: &MutationContext<'a>) -> Result<&'a Identity, SignError> {
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
        Signer { identity, dialect, date, ctx }.sign_broken(self, msg)
    }
}
/// The keyId of `identity` bent as `mutation` says: a serial one off, or another CA.
pub(crate) fn bent_key_id(mutation: Mutation, identity: &Identity, dialect: &Dialect) -> String {
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

pub(crate) fn change_body(msg: &mut Message) {
    if msg.body.is_empty() {
        msg.body = b"{}".to_vec();
    } else {
        msg.body.push(b' ');
    }
}

pub(crate) fn iso8601(at: SystemTime) -> String {
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
