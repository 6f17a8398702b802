//! HTTP message signatures as the Berlin Group NextGenPSD2 guide uses draft-cavage: the
//! `Digest` of the body, the RFC 7231 `Date`, the signing string over `(request-target)`,
//! `date` and `digest`, the `Signature` header with its keyId, and `TPP-Signature-Certificate`.
//! `sign` and `verify` live side by side and share the signing-string code, so that the harness
//! and the reference server cannot drift apart. The catalog of mutations (`mutation`) turns a
//! valid signed request into a precisely broken one.
//!
//! This module works on an in-memory [`Message`]; it must not open connections or read files
//! (keys come from `pki`).

mod dialect;
mod memo;
mod message;
pub mod mutation;
pub mod request_object;
pub mod rfc9421;
mod verify;

use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

pub use dialect::{
    AlgorithmLabel, DateForm, Dialect, DigestAlgorithm, DigestEncoding, HeaderCase, KeyIdStyle, MethodCase, Scheme,
};
pub use memo::SignatureMemo;
pub use message::{request_target, Message, RawError};
pub use mutation::{Mutation, MutationContext};
pub(crate) use verify::parse_signature_header;
pub use verify::{
    decode_certificate, verify, verify_with_cache, CertificateCache, SignatureError, SigningCertificate, Verified,
    VerifyPolicy,
};

use crate::pki::{Identity, KeyKind};

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

/// The SHA-256 `Digest` header value of `body` in the given encoding.
pub fn digest_value(encoding: DigestEncoding, body: &[u8]) -> String {
    Dialect { digest: encoding, ..Dialect::default() }.digest_of(body)
}

/// SHA-256 with aws-lc-rs (the `sha2` crate is several times slower on a 1 KiB body here).
pub(crate) fn sha256(bytes: &[u8]) -> aws_lc_rs::digest::Digest {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
}

/// The signing string: one `name: value` line per entry of `names`, joined by `\n`. Shared by
/// the signer and the verifier; `lookup` returns every value of a header, in order.
pub fn signing_string<'a>(
    method_case: MethodCase,
    method: &str,
    target: &str,
    names: &[String],
    lookup: impl Fn(&str) -> Vec<&'a str>,
) -> Result<String, String> {
    let mut lines = Vec::with_capacity(names.len());
    for name in names {
        if name.eq_ignore_ascii_case(headers::REQUEST_TARGET) {
            lines.push(format!("{name}: {} {target}", method_case.apply(method)));
        } else {
            let values = lookup(name);
            if values.is_empty() {
                return Err(name.clone());
            }
            lines.push(format!("{name}: {}", values.join(", ")));
        }
    }
    Ok(lines.join("\n"))
}

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
            .map_err(SignError::HeaderAbsent)?;
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

/// Signs `msg` in place with `identity`'s key and certificate, as `dialect` says, dated `date`.
pub fn sign(identity: &Identity, dialect: &Dialect, msg: &mut Message, date: SystemTime) -> Result<Signed, SignError> {
    match dialect.scheme {
        Scheme::Cavage => SignInputs::correct(identity, dialect, msg, date).apply(dialect, msg),
        Scheme::Rfc9421 => rfc9421_inputs(identity, dialect, msg, date)?.apply(msg),
    }
}

/// The inputs of a correct RFC 9421 signature of `msg`, its keyid written in the dialect's style.
pub(crate) fn rfc9421_inputs<'a>(
    identity: &'a Identity,
    dialect: &Dialect,
    msg: &Message,
    date: SystemTime,
) -> Result<rfc9421::Inputs<'a>, SignError> {
    rfc9421::Inputs::correct(identity, &dialect.rfc9421, dialect.key_id_for(&identity.info), msg, date)
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
    match (mutation, dialect.scheme) {
        (None, Scheme::Cavage) => {
            SignInputs { memo: ctx.memo, ..SignInputs::correct(identity, dialect, msg, date) }.apply(dialect, msg)
        }
        (None, Scheme::Rfc9421) => sign(identity, dialect, msg, date),
        (Some(m), _) => m.apply(identity, dialect, msg, date, ctx),
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
