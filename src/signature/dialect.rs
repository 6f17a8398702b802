//! Signature dialects: the ways real banks differ in signing the same idea (method case in
//! `(request-target)`, digest encoding, signed header list, keyId style, algorithm label,
//! header-name case). A target profile picks one; the default is draft-cavage as the Berlin
//! Group guide writes it.

use serde::{Deserialize, Serialize};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::key_family;
use super::rfc9421::Rfc9421;
use super::Scheme;
use crate::pki::{CertInfo, KeyKind};

#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MethodCase {
    /// `post /client/v1/register` (draft-cavage).
    #[default]
    Lower,
    /// `POST /client/v1/register` (as SMBC's DCR tutorial shows it).
    Upper,
}

impl MethodCase {
    pub fn apply(self, method: &str) -> String {
        match self {
            MethodCase::Lower => method.to_ascii_lowercase(),
            MethodCase::Upper => method.to_ascii_uppercase(),
        }
    }
}

#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DigestEncoding {
    /// `SHA-256=<base64>` (RFC 3230, Berlin Group).
    #[default]
    Base64,
    /// Bare lower-case hex, no algorithm prefix (SMBC's DCR tutorial).
    Hex,
    /// `SHA-256=<hex>`.
    PrefixedHex,
}

/// The hash of the `Digest` header (RFC 3230; the Berlin Group allows SHA-256 and SHA-512).
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DigestAlgorithm {
    #[default]
    #[serde(rename = "SHA-256")]
    Sha256,
    #[serde(rename = "SHA-512")]
    Sha512,
}

impl DigestAlgorithm {
    /// The name the header carries before `=`.
    pub fn label(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha512 => "SHA-512",
        }
    }

    pub fn hash(self, body: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            DigestAlgorithm::Sha256 => &aws_lc_rs::digest::SHA256,
            DigestAlgorithm::Sha512 => &aws_lc_rs::digest::SHA512,
        };
        aws_lc_rs::digest::digest(algorithm, body).as_ref().to_vec()
    }

    /// The algorithm a `Digest` entry names (case-insensitive), if it is one of these.
    pub fn named(label: &str) -> Option<DigestAlgorithm> {
        [DigestAlgorithm::Sha256, DigestAlgorithm::Sha512].into_iter().find(|a| a.label().eq_ignore_ascii_case(label))
    }
}

#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyIdStyle {
    /// `SN=<serial hex>,CA=<issuer DN>` (Berlin Group).
    #[default]
    SerialAndCa,
    /// `SN=<serial hex>`.
    Serial,
    /// The certificate's SHA-256 fingerprint, lower-case hex.
    Fingerprint,
    /// A fixed name agreed with the bank; the verifier cannot tie it to the certificate.
    Name(String),
    /// STET: the URL where the certificate is published, written as this prefix followed by the
    /// certificate's SHA-256 fingerprint (`https://tpp.example/certs/qseal_<fingerprint>`). The
    /// verifier ties it to the certificate by that fingerprint; it does not fetch the URL.
    Url(String),
}

#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlgorithmLabel {
    /// `rsa-sha256` for RSA keys, `ecdsa-sha256` for ECDSA keys.
    #[default]
    Auto,
    /// `hs2019`: the key decides.
    Hs2019,
}

impl AlgorithmLabel {
    pub fn label(&self, key: KeyKind) -> &'static str {
        match self {
            AlgorithmLabel::Auto if key_family(key) == "rsa" => "rsa-sha256",
            AlgorithmLabel::Auto => "ecdsa-sha256",
            AlgorithmLabel::Hs2019 => "hs2019",
        }
    }
}

#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeaderCase {
    /// `date`, `digest` (draft-cavage).
    #[default]
    Lower,
    /// `Date`, `Digest`, `X-Request-ID`.
    Canonical,
}

/// The form of the `Date` the harness sends: RFC 7231 §7.1.1.1 has senders use IMF-fixdate and
/// recipients "MUST accept all three HTTP-date formats".
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateForm {
    /// `Sun, 06 Nov 1994 08:49:37 GMT`
    #[default]
    ImfFixdate,
    /// `Sunday, 06-Nov-94 08:49:37 GMT` (obsolete)
    Rfc850,
    /// `Sun Nov  6 08:49:37 1994` (obsolete)
    Asctime,
}

impl DateForm {
    /// `at` written in this form (whole seconds, GMT).
    pub fn format(self, at: std::time::SystemTime) -> String {
        let t = time::OffsetDateTime::from(at);
        let weekday = t.weekday().to_string();
        let month: String = t.month().to_string().chars().take(3).collect();
        let clock = format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
        match self {
            DateForm::ImfFixdate => httpdate::fmt_http_date(at),
            DateForm::Rfc850 => {
                format!("{weekday}, {:02}-{month}-{:02} {clock} GMT", t.day(), t.year().rem_euclid(100))
            }
            DateForm::Asctime => format!("{} {month} {:>2} {clock} {}", &weekday[..3], t.day(), t.year()),
        }
    }
}

/// How a target signs. Every field has the Berlin Group default.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dialect {
    pub scheme: Scheme,
    /// The RFC 9421 settings, where `scheme` is `rfc9421`.
    pub rfc9421: Rfc9421,
    pub method_case: MethodCase,
    pub digest: DigestEncoding,
    /// The signed headers, in signing-string order.
    pub headers: Vec<String>,
    pub key_id: KeyIdStyle,
    pub algorithm: AlgorithmLabel,
    pub header_case: HeaderCase,
    pub date_form: DateForm,
    /// The `Digest` hash (Berlin Group: SHA-256 or SHA-512).
    pub digest_algorithm: DigestAlgorithm,
    /// Berlin Group: every request carries a fresh `X-Request-ID` (a UUID) the signer adds, and
    /// a verifier requires one that is a UUID. List `x-request-id` in `headers` to sign it.
    pub request_id: bool,
    /// Berlin Group: GET requests are signed too (over the digest of the empty body).
    pub sign_reads: bool,
    /// Headers signed whenever a request carries them (Berlin Group: `psu-id`,
    /// `psu-corporate-id`, `tpp-redirect-uri`); a verifier requires them signed when present.
    pub signed_when_present: Vec<String>,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect {
            scheme: Scheme::Cavage,
            rfc9421: Rfc9421::default(),
            method_case: MethodCase::Lower,
            digest: DigestEncoding::Base64,
            headers: vec!["(request-target)".into(), "date".into(), "digest".into()],
            key_id: KeyIdStyle::SerialAndCa,
            algorithm: AlgorithmLabel::Auto,
            header_case: HeaderCase::Lower,
            date_form: DateForm::ImfFixdate,
            digest_algorithm: DigestAlgorithm::Sha256,
            request_id: false,
            sign_reads: false,
            signed_when_present: Vec::new(),
        }
    }
}

impl Dialect {
    /// The header names as the `headers` parameter carries them, in this dialect's case.
    pub fn header_names(&self) -> Vec<String> {
        self.headers.iter().map(|h| self.cased(h)).collect()
    }

    /// The header names a signature of `msg` lists: the dialect's, then each of
    /// `signed_when_present` that `msg` carries.
    pub fn header_names_for(&self, msg: &super::Message) -> Vec<String> {
        let mut names = self.header_names();
        for name in &self.signed_when_present {
            if msg.header(name).is_some() && !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                names.push(self.cased(name));
            }
        }
        names
    }

    /// Whether the dialect signs header (or pseudo-header) `name`.
    pub fn signs(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    /// The `Digest` header value of `body` in this dialect's algorithm and encoding.
    pub fn digest_of(&self, body: &[u8]) -> String {
        let hash = self.digest_algorithm.hash(body);
        let label = self.digest_algorithm.label();
        match self.digest {
            DigestEncoding::Base64 => format!("{label}={}", B64.encode(hash)),
            DigestEncoding::Hex => hex::encode(hash),
            DigestEncoding::PrefixedHex => format!("{label}={}", hex::encode(hash)),
        }
    }

    fn cased(&self, name: &str) -> String {
        if name.starts_with('(') {
            return name.to_ascii_lowercase();
        }
        match self.header_case {
            HeaderCase::Lower => name.to_ascii_lowercase(),
            HeaderCase::Canonical => name
                .split('-')
                .map(|part| {
                    let mut chars = part.chars();
                    match chars.next() {
                        Some(first) => first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase(),
                        None => String::new(),
                    }
                })
                .collect::<Vec<_>>()
                .join("-"),
        }
    }

    /// The keyId this dialect writes for a certificate.
    pub fn key_id_for(&self, cert: &CertInfo) -> String {
        match &self.key_id {
            KeyIdStyle::SerialAndCa => format!("SN={},CA={}", cert.serial_hex(), cert.issuer_rfc4514()),
            KeyIdStyle::Serial => format!("SN={}", cert.serial_hex()),
            KeyIdStyle::Fingerprint => cert.fingerprint.clone(),
            KeyIdStyle::Name(name) => name.clone(),
            KeyIdStyle::Url(prefix) => format!("{prefix}{}", cert.fingerprint),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_case_capitalises_each_dash_separated_word_but_not_pseudo_headers() {
        let d = Dialect {
            header_case: HeaderCase::Canonical,
            headers: vec!["(request-target)".into(), "x-request-id".into(), "DATE".into()],
            ..Dialect::default()
        };
        assert_eq!(d.header_names(), vec!["(request-target)", "X-Request-Id", "Date"]);
    }

    #[test]
    fn method_case_is_applied_to_request_target() {
        assert_eq!(MethodCase::Lower.apply("POST"), "post");
        assert_eq!(MethodCase::Upper.apply("post"), "POST");
    }
}
