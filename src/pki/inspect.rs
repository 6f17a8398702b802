//! Reading a certificate's facts that PSD2 rules care about (subject, organizationIdentifier,
//! serial, validity, key, EKU, key usage, qcStatements) into a plain struct. Used by
//! `pki show`, by the signature verifier (keyId checks) and by the reference server (QWAC and
//! QSEAL policy). It parses only; it makes no trust decisions.

use std::time::SystemTime;

use x509_parser::prelude::*;

use super::qcstatements::{QcError, QcStatements, QC_STATEMENTS_EXTENSION};

const ORGANIZATION_IDENTIFIER: &str = "2.5.4.97";

/// The facts of one certificate.
#[derive(Debug, Clone)]
pub struct CertInfo {
    pub subject: String,
    /// The subject DN as RFC 4514 writes it, most specific first, `organizationIdentifier` by
    /// its name (`CN=…,organizationIdentifier=…,O=…,C=GB`): what RFC 8705's
    /// `tls_client_auth_subject_dn` is.
    pub subject_rfc4514: String,
    /// The subject DN as DER (what an OCSP CertID hashes for an issuer).
    pub subject_der: Vec<u8>,
    pub issuer: String,
    /// Attributes of the issuer DN as (short type, value), in certificate order.
    pub issuer_attributes: Vec<(String, String)>,
    /// The issuer DN in RFC 4514 order, built once: every SerialAndCa keyId carries it.
    issuer_rfc4514: String,
    pub organization_identifier: Option<String>,
    /// Serial number as big-endian bytes without leading zeros.
    pub serial: Vec<u8>,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    pub key: KeyDescription,
    pub client_auth: bool,
    pub server_auth: bool,
    /// Whether an EKU extension is present at all (absent means any use).
    pub has_eku: bool,
    pub digital_signature: bool,
    pub non_repudiation: bool,
    pub is_ca: bool,
    /// `None` when the certificate has no qcStatements extension.
    pub qc: Option<Result<QcStatements, QcError>>,
    /// SHA-256 of the whole DER, lower-case hex.
    pub fingerprint: String,
    /// The subjectPublicKey bits (PKCS#1 RSAPublicKey, or the EC point), for verifying.
    pub public_key: Vec<u8>,
    /// The DNS names of the subjectAltName extension (RFC 8705 `tls_client_auth_san_dns`).
    pub dns_names: Vec<String>,
    /// Its other names by kind (RFC 8705 `tls_client_auth_san_uri`, `_san_ip`, `_san_email`).
    pub alt_names: AltNames,
}

/// The URIs, IP addresses and email addresses of a certificate's subjectAltName extension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AltNames {
    pub uris: Vec<String>,
    pub ips: Vec<std::net::IpAddr>,
    pub emails: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyDescription {
    Rsa { bits: usize },
    EcdsaP256,
    Other(String),
}

impl std::fmt::Display for KeyDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyDescription::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyDescription::EcdsaP256 => f.write_str("ECDSA P-256"),
            KeyDescription::Other(oid) => write!(f, "unsupported key ({oid})"),
        }
    }
}

/// The URIs, IP addresses and email addresses a certificate's subjectAltName extension holds.
fn alt_names(tbs: &x509_parser::certificate::TbsCertificate<'_>) -> AltNames {
    use x509_parser::extensions::GeneralName;
    let mut names = AltNames::default();
    let Ok(Some(san)) = tbs.subject_alternative_name() else { return names };
    for name in &san.value.general_names {
        match name {
            GeneralName::URI(uri) => names.uris.push(uri.to_string()),
            GeneralName::RFC822Name(email) => names.emails.push(email.to_string()),
            GeneralName::IPAddress(bytes) => {
                let ip = match bytes.len() {
                    4 => <[u8; 4]>::try_from(*bytes).ok().map(std::net::IpAddr::from),
                    16 => <[u8; 16]>::try_from(*bytes).ok().map(std::net::IpAddr::from),
                    _ => None,
                };
                names.ips.extend(ip);
            }
            _ => {}
        }
    }
    names
}

/// The DNS names a certificate's subjectAltName extension holds.
fn dns_names(tbs: &x509_parser::certificate::TbsCertificate<'_>) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok(Some(san)) = tbs.subject_alternative_name() else { return Vec::new() };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(dns.to_string()),
            _ => None,
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
#[error("not a readable X.509 certificate: {0}")]
pub struct CertParseError(pub String);

impl CertInfo {
    pub fn from_der(der: &[u8]) -> Result<Self, CertParseError> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| CertParseError(e.to_string()))?;
        if !rest.is_empty() {
            return Err(CertParseError("trailing bytes after the certificate".into()));
        }
        let tbs = &cert.tbs_certificate;
        let eku = tbs.extended_key_usage().ok().flatten();
        let ku = tbs.key_usage().ok().flatten();
        let qc = tbs
            .extensions()
            .iter()
            .find(|ext| ext.oid.iter().is_some_and(|arcs| arcs.eq(QC_STATEMENTS_EXTENSION.iter().copied())))
            .map(|ext| QcStatements::from_der(ext.value));
        let issuer_attributes = name_attributes(&tbs.issuer);
        Ok(CertInfo {
            subject: tbs.subject.to_string(),
            subject_rfc4514: rfc4514(&name_attributes(&tbs.subject)),
            subject_der: tbs.subject.as_raw().to_vec(),
            issuer: tbs.issuer.to_string(),
            issuer_rfc4514: rfc4514(&issuer_attributes),
            issuer_attributes,
            organization_identifier: name_attributes(&tbs.subject)
                .into_iter()
                .find(|(ty, _)| ty == ORGANIZATION_IDENTIFIER || ty == "organizationIdentifier")
                .map(|(_, v)| v),
            serial: serial_digits(tbs.raw_serial()).to_vec(),
            not_before: to_system_time(tbs.validity.not_before),
            not_after: to_system_time(tbs.validity.not_after),
            key: describe_key(tbs.public_key()),
            client_auth: eku.as_ref().is_some_and(|e| e.value.client_auth || e.value.any),
            server_auth: eku.as_ref().is_some_and(|e| e.value.server_auth || e.value.any),
            has_eku: eku.is_some(),
            digital_signature: ku.as_ref().is_some_and(|k| k.value.digital_signature()),
            non_repudiation: ku.as_ref().is_some_and(|k| k.value.non_repudiation()),
            is_ca: tbs.is_ca(),
            qc,
            fingerprint: sha256_hex(der),
            public_key: tbs.subject_pki.subject_public_key.data.to_vec(),
            dns_names: dns_names(tbs),
            alt_names: alt_names(tbs),
        })
    }

    pub fn is_valid_at(&self, now: SystemTime) -> bool {
        self.not_before <= now && now <= self.not_after
    }

    /// The serial as upper-case hex, the way keyIds carry it.
    pub fn serial_hex(&self) -> String {
        if self.serial.is_empty() {
            "0".into()
        } else {
            hex::encode_upper(&self.serial)
        }
    }

    /// The issuer DN in RFC 4514 order (most specific first), as Berlin Group keyIds carry it:
    /// `CN=Test QTSP Issuing CA,O=Test QTSP,C=GB`.
    pub fn issuer_rfc4514(&self) -> &str {
        &self.issuer_rfc4514
    }

    /// The qcStatements, if present and well-formed.
    pub fn qc_statements(&self) -> Option<&QcStatements> {
        self.qc.as_ref().and_then(|r| r.as_ref().ok())
    }
}

fn escape_dn_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A DN's attributes (certificate order) in RFC 4514 order, most specific first.
fn rfc4514(attributes: &[(String, String)]) -> String {
    attributes.iter().rev().map(|(ty, value)| format!("{ty}={}", escape_dn_value(value))).collect::<Vec<_>>().join(",")
}

/// A serial number's bytes without leading zeros: how `CertInfo` holds it, and how serials from
/// a keyId, an OCSP CertID or a CRL entry compare with it.
/// SHA-256 of `bytes`, in lowercase hex: a certificate's fingerprint, a document's digest.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// RFC 8705 §3.1: a certificate's SHA-256 thumbprint, base64url without padding, as
/// `cnf.x5t#S256` binds a token to it.
pub fn thumbprint_s256(der: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(der))
}

pub fn serial_digits(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

fn to_system_time(t: ASN1Time) -> SystemTime {
    let secs = t.timestamp();
    if secs >= 0 {
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64)
    } else {
        SystemTime::UNIX_EPOCH - std::time::Duration::from_secs(secs.unsigned_abs())
    }
}

/// Attribute (short type name or dotted OID, value) pairs of a name, in order.
pub fn name_attributes(name: &X509Name<'_>) -> Vec<(String, String)> {
    name.iter_attributes()
        .map(|attr| {
            let oid = attr.attr_type().to_id_string();
            let ty = short_name(&oid).map(str::to_string).unwrap_or(oid);
            let value = attr.as_str().map(str::to_string).unwrap_or_else(|_| hex::encode(attr.attr_value().data));
            (ty, value)
        })
        .collect()
}

fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.97" => "organizationIdentifier",
        _ => return None,
    })
}

fn describe_key(spki: &SubjectPublicKeyInfo<'_>) -> KeyDescription {
    match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => KeyDescription::Rsa { bits: rsa.key_size() },
        Ok(x509_parser::public_key::PublicKey::EC(_)) => {
            let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
            if curve.as_deref() == Some("1.2.840.10045.3.1.7") {
                KeyDescription::EcdsaP256
            } else {
                KeyDescription::Other(curve.unwrap_or_else(|| "EC".into()))
            }
        }
        _ => KeyDescription::Other(spki.algorithm.algorithm.to_id_string()),
    }
}

/// Parses an RFC 4514-style DN string (`CN=x,O=y,C=GB`, `, ` also accepted, `\,` escapes)
/// into (type, value) pairs, types upper-cased, for comparing a keyId's CA with an issuer.
pub fn parse_dn(dn: &str) -> Option<Vec<(String, String)>> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.push(chars.next()?),
            ',' => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|part| {
            let (ty, value) = part.split_once('=')?;
            let ty = ty.trim();
            if ty.is_empty() {
                return None;
            }
            Some((ty.to_ascii_uppercase(), value.trim().to_string()))
        })
        .collect()
}

/// Whether two DNs name the same entity: same attributes, order and type case aside.
pub fn same_dn(a: &[(String, String)], b: &[(String, String)]) -> bool {
    let normalise = |dn: &[(String, String)]| {
        let mut v: Vec<(String, String)> = dn.iter().map(|(t, v)| (canonical_type(t), v.trim().to_string())).collect();
        v.sort();
        v
    };
    normalise(a) == normalise(b)
}

fn canonical_type(ty: &str) -> String {
    match ty.to_ascii_uppercase().as_str() {
        "2.5.4.3" | "COMMONNAME" => "CN".into(),
        "2.5.4.10" | "ORGANIZATIONNAME" => "O".into(),
        "2.5.4.6" | "COUNTRYNAME" => "C".into(),
        // x509-parser writes an attribute it has no name for as `OID(2.5.4.97)`.
        "2.5.4.97" | "OID(2.5.4.97)" | "ORGANIZATIONIDENTIFIER" => "ORGANIZATIONIDENTIFIER".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dns_names_of_a_certificate_are_read_and_none_where_it_has_none() {
        let pki = crate::testing::test_pki();
        let names = |identity: &str| pki.identity(identity).expect("identity").info.dns_names.clone();
        assert_eq!(names("qwac"), vec!["psdgb-fca-123456.tpp.example".to_string()]);
        assert!(names("server").contains(&"localhost".to_string()));
        assert!(names("qseal").is_empty(), "a seal names no host");
    }

    #[test]
    fn dn_comparison_ignores_order_spacing_and_type_case() {
        let a = parse_dn("CN=Test QTSP Issuing CA,O=Test QTSP,C=GB").expect("dn");
        let b = parse_dn("c=GB, o=Test QTSP, cn=Test QTSP Issuing CA").expect("dn");
        assert!(same_dn(&a, &b));
        let c = parse_dn("CN=Other CA,O=Test QTSP,C=GB").expect("dn");
        assert!(!same_dn(&a, &c));
    }

    #[test]
    fn a_subject_in_rfc_4514_names_the_same_entity_as_the_certificate_says_it() {
        let info = &crate::testing::test_pki().identity("qwac").expect("qwac").info;
        assert_eq!(
            info.subject_rfc4514,
            "CN=Test TPP A Ltd QWAC,organizationIdentifier=PSDGB-FCA-123456,O=Test TPP A Ltd,C=GB"
        );
        let (rfc4514, display) = (parse_dn(&info.subject_rfc4514), parse_dn(&info.subject));
        assert!(same_dn(&rfc4514.expect("dn"), &display.expect("dn")), "{}", info.subject);
    }

    #[test]
    fn dn_parser_handles_escapes_and_rejects_garbage() {
        let dn = parse_dn(r"CN=Acme\, Inc,C=GB").expect("dn");
        assert_eq!(dn[0], ("CN".into(), "Acme, Inc".into()));
        assert!(parse_dn("no equals sign").is_none());
        assert!(parse_dn("=value").is_none());
    }
}
