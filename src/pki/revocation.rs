//! Revocation in the test PKI: which identities the test QTSP has revoked (data), the URLs its
//! certificates name for their status (AIA OCSP and CRL distribution point, on hosts under
//! `qtsp.dcr-harness.test` that a server maps to the harness's loopback services), and the
//! codecs both ends share: an OCSP request for a certificate and the reading of a signed
//! response (RFC 6960, with `x509-ocsp`), the responder's signed answer, the issuing CA's CRL
//! (signed with rcgen) and its reading.
//!
//! It works on bytes; serving and fetching over HTTP are the `qtsp` room's and the server's.

use std::time::SystemTime;

use der::asn1::{BitString, Null, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use x509_cert::serial_number::SerialNumber as X509Serial;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    ResponderId, ResponseData, RevokedInfo, SingleResponse, TbsRequest, Version,
};

use super::inspect::serial_digits;
use super::{CertInfo, Pki};

/// Where the test QTSP's certificates say their status is: the OCSP responder, a responder that
/// never answers (for `qseal-responder-down`), and the issuing CA's CRL.
pub const OCSP_URL: &str = "http://ocsp.qtsp.dcr-harness.test/";
pub const OCSP_DOWN_URL: &str = "http://ocsp-down.qtsp.dcr-harness.test/";
pub const CRL_URL: &str = "http://crl.qtsp.dcr-harness.test/issuing-ca.crl";
/// The hosts of those URLs end so: a server maps them to the harness's loopback services.
pub const QTSP_HOST_SUFFIX: &str = ".qtsp.dcr-harness.test";
pub const OCSP_HOST: &str = "ocsp.qtsp.dcr-harness.test";
pub const CRL_HOST: &str = "crl.qtsp.dcr-harness.test";

/// The identities the test QTSP has revoked.
pub const REVOKED: &[&str] = &["qwac-revoked", "qseal-revoked"];
/// Identities the QTSP issued but its responder has no record of: OCSP says `unknown`.
pub const UNKNOWN_TO_RESPONDER: &[&str] = &["qseal-status-unknown"];

const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// A certificate's status, as a responder or CRL says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Good,
    Revoked,
    Unknown,
}

/// Why a status could not be had from a response or CRL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevocationError {
    #[error("not DER of the expected structure: {0}")]
    Malformed(String),
    #[error("the responder answered {0:?}")]
    NotSuccessful(String),
    #[error("the signature is not the issuing CA's")]
    BadSignature,
    #[error("it says nothing of this certificate")]
    NotCovered,
    #[error("it is out of date")]
    Stale,
}

/// Why the issuing CA's CRL could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CrlError {
    #[error(transparent)]
    IssuingCa(#[from] super::IssuingCaError),
    #[error("{0}")]
    Sign(#[source] rcgen::Error),
}

fn malformed(e: impl std::fmt::Display) -> RevocationError {
    RevocationError::Malformed(e.to_string())
}

/// The AIA extension naming `ocsp_url` (RFC 5280 §4.2.2.1), DER, as a certificate carries it.
pub(crate) fn aia_extension(ocsp_url: &str) -> Result<Vec<u8>, der::Error> {
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax};
    const ID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
    let location = der::asn1::Ia5String::new(ocsp_url)?;
    let aia = AuthorityInfoAccessSyntax(vec![AccessDescription {
        access_method: ID_AD_OCSP,
        access_location: GeneralName::UniformResourceIdentifier(location),
    }]);
    aia.to_der()
}

/// The OCSP responder and CRL URLs a certificate names.
pub fn status_urls(der: &[u8]) -> (Option<String>, Option<String>) {
    use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return (None, None);
    };
    let (mut ocsp, mut crl) = (None, None);
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for desc in &aia.accessdescs {
                    if desc.access_method.to_id_string() == "1.3.6.1.5.5.7.48.1" {
                        if let GeneralName::URI(uri) = desc.access_location {
                            ocsp.get_or_insert(uri.to_string());
                        }
                    }
                }
            }
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &point.distribution_point {
                        for name in names {
                            if let GeneralName::URI(uri) = name {
                                crl.get_or_insert(uri.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    (ocsp, crl)
}

fn sha1(bytes: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes).as_ref().to_vec()
}

/// The CertID of a certificate with `serial` issued by `issuer` (RFC 6960 §4.1.1, SHA-1 as
/// responders expect).
fn cert_id(serial: &[u8], issuer: &CertInfo) -> Result<CertId, RevocationError> {
    let octets = |bytes: Vec<u8>| OctetString::new(bytes).map_err(malformed);
    Ok(CertId {
        hash_algorithm: spki::AlgorithmIdentifierOwned { oid: SHA1, parameters: Some(Null.into()) },
        issuer_name_hash: octets(sha1(&issuer.subject_der))?,
        issuer_key_hash: octets(sha1(&issuer.public_key))?,
        serial_number: X509Serial::new(serial).map_err(malformed)?,
    })
}

/// An OCSP request (DER) for the certificate with `serial` issued by `issuer`.
pub fn ocsp_request(serial: &[u8], issuer: &CertInfo) -> Result<Vec<u8>, RevocationError> {
    let request = OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![Request { req_cert: cert_id(serial, issuer)?, single_request_extensions: None }],
            request_extensions: None,
        },
        optional_signature: None,
    };
    request.to_der().map_err(malformed)
}

/// Whether `serial` (big-endian, as `CertInfo` holds it) is the serial `candidate` carries.
fn same_serial(candidate: &X509Serial, serial: &[u8]) -> bool {
    serial_digits(candidate.as_bytes()) == serial
}

/// Reads a signed OCSP response: the status of `serial`, if the issuing CA `issuer` signed it
/// and it is current at `now`.
pub fn read_ocsp_response(
    der: &[u8],
    serial: &[u8],
    issuer: &CertInfo,
    now: SystemTime,
) -> Result<Status, RevocationError> {
    let response = OcspResponse::from_der(der).map_err(malformed)?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(RevocationError::NotSuccessful(format!("{:?}", response.response_status)));
    }
    let bytes = response.response_bytes.ok_or_else(|| malformed("a successful response without its bytes"))?;
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(malformed)?;
    let tbs = basic.tbs_response_data.to_der().map_err(malformed)?;
    if !signed_by(issuer, &basic.signature_algorithm.oid, &tbs, basic.signature.raw_bytes()) {
        return Err(RevocationError::BadSignature);
    }
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| same_serial(&r.cert_id.serial_number, serial))
        .ok_or(RevocationError::NotCovered)?;
    let this_update = single.this_update.0.to_system_time();
    let fresh = this_update <= now + std::time::Duration::from_secs(300)
        && single.next_update.is_none_or(|next| now <= next.0.to_system_time());
    if !fresh {
        return Err(RevocationError::Stale);
    }
    Ok(match single.cert_status {
        CertStatus::Good(_) => Status::Good,
        CertStatus::Revoked(_) => Status::Revoked,
        CertStatus::Unknown(_) => Status::Unknown,
    })
}

fn signed_by(issuer: &CertInfo, algorithm: &ObjectIdentifier, message: &[u8], signature: &[u8]) -> bool {
    use aws_lc_rs::signature::{self as lc, UnparsedPublicKey};
    let verification: &'static dyn lc::VerificationAlgorithm = match *algorithm {
        SHA256_WITH_RSA => &lc::RSA_PKCS1_2048_8192_SHA256,
        ECDSA_WITH_SHA256 => &lc::ECDSA_P256_SHA256_ASN1,
        _ => return false,
    };
    UnparsedPublicKey::new(verification, &issuer.public_key).verify(message, signature).is_ok()
}

/// What the test QTSP says of the certificate with `serial`: revoked, unknown to its responder,
/// or good; unknown for a serial it never issued.
pub fn status_in(pki: &Pki, serial: &[u8]) -> Status {
    let ca = issuing_ca_subject(pki);
    let issued = pki.identities().find(|id| id.info.serial == serial && id.info.issuer == ca);
    match issued.map(|id| id.name.as_str()) {
        Some(name) if REVOKED.contains(&name) => Status::Revoked,
        Some(name) if UNKNOWN_TO_RESPONDER.contains(&name) => Status::Unknown,
        Some(_) => Status::Good,
        None => Status::Unknown,
    }
}

fn issuing_ca_subject(pki: &Pki) -> String {
    pki.identity(super::names::ISSUING_CA).map(|ca| ca.info.subject.clone()).unwrap_or_default()
}

/// The responder's answer to an OCSP request (DER), signed with the issuing CA's key: each
/// certificate asked about, with its status. A request that does not parse gets
/// `malformedRequest`, as RFC 6960 §2.3 says.
pub fn answer_ocsp_request(pki: &Pki, request: &[u8], now: SystemTime) -> Vec<u8> {
    let answer = match OcspRequest::from_der(request) {
        Ok(request) => signed_answer(pki, &request, now).unwrap_or_else(|_| OcspResponse::internal_error()),
        Err(_) => OcspResponse::malformed_request(),
    };
    answer.to_der().unwrap_or_default()
}

fn signed_answer(pki: &Pki, request: &OcspRequest, now: SystemTime) -> Result<OcspResponse, RevocationError> {
    let ca = pki.identity(super::names::ISSUING_CA).map_err(malformed)?;
    let at = OcspGeneralizedTime::try_from(now).map_err(malformed)?;
    let next = OcspGeneralizedTime::try_from(now + std::time::Duration::from_secs(3600)).map_err(malformed)?;
    let responses = request
        .tbs_request
        .request_list
        .iter()
        .map(|r| {
            let status = match status_in(pki, serial_digits(r.req_cert.serial_number.as_bytes())) {
                Status::Good => CertStatus::good(),
                Status::Unknown => CertStatus::unknown(),
                Status::Revoked => CertStatus::revoked(RevokedInfo { revocation_time: at, revocation_reason: None }),
            };
            SingleResponse {
                cert_id: r.req_cert.clone(),
                cert_status: status,
                this_update: at,
                next_update: Some(next),
                single_extensions: None,
            }
        })
        .collect();
    let data = ResponseData {
        version: Version::V1,
        responder_id: ResponderId::ByKey(OctetString::new(sha1(&ca.info.public_key)).map_err(malformed)?),
        produced_at: at,
        responses,
        response_extensions: None,
    };
    let tbs = data.to_der().map_err(malformed)?;
    let signature = ca.key().sign(&tbs).map_err(malformed)?;
    let oid = match ca.key().kind() {
        super::KeyKind::EcdsaP256 => ECDSA_WITH_SHA256,
        super::KeyKind::Rsa { .. } => SHA256_WITH_RSA,
    };
    let parameters = (oid == SHA256_WITH_RSA).then(|| Null.into());
    let basic = BasicOcspResponse {
        tbs_response_data: data,
        signature_algorithm: spki::AlgorithmIdentifierOwned { oid, parameters },
        signature: BitString::from_bytes(&signature).map_err(malformed)?,
        certs: None,
    };
    OcspResponse::successful(basic).map_err(malformed)
}

/// The issuing CA's CRL (DER), made now and good for a day, listing the revoked identities.
pub fn crl(pki: &Pki, now: SystemTime) -> Result<Vec<u8>, CrlError> {
    use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
    let now = time::OffsetDateTime::from(now);
    let revoked_certs = REVOKED
        .iter()
        .filter_map(|name| pki.identity(name).ok())
        .map(|id| RevokedCertParams {
            serial_number: SerialNumber::from_slice(&id.info.serial),
            revocation_time: now - time::Duration::hours(1),
            reason_code: None,
            invalidity_date: None,
        })
        .collect();
    let params = CertificateRevocationListParams {
        this_update: now - time::Duration::minutes(5),
        next_update: now + time::Duration::days(1),
        crl_number: SerialNumber::from_slice(&now.unix_timestamp().to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let (ca_params, key) = super::generate::issuing_ca(&pki.dir, &pki.manifest)?;
    let issuer = rcgen::Issuer::from_params(&ca_params, &key);
    params.signed_by(&issuer).map(|crl| crl.der().to_vec()).map_err(CrlError::Sign)
}

/// Reads a CRL: whether it lists `serial`, if the issuing CA `issuer` signed it and it is
/// current at `now`.
pub fn read_crl(der: &[u8], serial: &[u8], issuer: &CertInfo, now: SystemTime) -> Result<Status, RevocationError> {
    use x509_parser::prelude::FromDer;
    let (_, crl) = x509_parser::revocation_list::CertificateRevocationList::from_der(der).map_err(malformed)?;
    if !signed_by_oid_text(
        issuer,
        &crl.signature_algorithm.algorithm.to_id_string(),
        crl.tbs_cert_list.as_ref(),
        &crl.signature_value.data,
    ) {
        return Err(RevocationError::BadSignature);
    }
    let now_s = now.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default();
    if crl.next_update().is_some_and(|next| next.timestamp() < now_s) {
        return Err(RevocationError::Stale);
    }
    let listed = crl.iter_revoked_certificates().any(|r| serial_digits(r.raw_serial()) == serial);
    Ok(if listed { Status::Revoked } else { Status::Good })
}

fn signed_by_oid_text(issuer: &CertInfo, oid: &str, message: &[u8], signature: &[u8]) -> bool {
    match oid.parse::<ObjectIdentifier>() {
        Ok(oid) => signed_by(issuer, &oid, message, signature),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::test_pki;

    fn issuer() -> CertInfo {
        test_pki().identity(crate::pki::names::ISSUING_CA).expect("issuing CA").info.clone()
    }

    #[test]
    fn the_responder_says_good_revoked_and_unknown_and_the_reader_checks_its_signature() {
        let pki = test_pki();
        let now = SystemTime::now();
        for (name, expected) in [
            ("qseal", Status::Good),
            ("qseal-revoked", Status::Revoked),
            ("qwac-revoked", Status::Revoked),
            ("qseal-status-unknown", Status::Unknown),
        ] {
            let serial = pki.identity(name).expect(name).info.serial.clone();
            let request = ocsp_request(&serial, &issuer()).expect("a request");
            let answer = answer_ocsp_request(pki, &request, now);
            assert_eq!(read_ocsp_response(&answer, &serial, &issuer(), now), Ok(expected), "{name}");
            // Signed by another key (the untrusted root's subject and key): refused.
            let other = pki.identity("untrusted-root").expect("untrusted").info.clone();
            assert_eq!(read_ocsp_response(&answer, &serial, &other, now), Err(RevocationError::BadSignature), "{name}");
        }
        let answer = answer_ocsp_request(pki, b"not DER", now);
        assert!(matches!(read_ocsp_response(&answer, &[1], &issuer(), now), Err(RevocationError::NotSuccessful(_))));
        let later = now + std::time::Duration::from_secs(7200);
        let serial = pki.identity("qseal").expect("qseal").info.serial.clone();
        let answer = answer_ocsp_request(pki, &ocsp_request(&serial, &issuer()).expect("request"), now);
        assert_eq!(read_ocsp_response(&answer, &serial, &issuer(), later), Err(RevocationError::Stale));
    }

    #[test]
    fn the_crl_lists_the_revoked_identities_and_no_other() {
        let pki = test_pki();
        let now = SystemTime::now();
        let crl = crl(pki, now).expect("a CRL");
        for (name, expected) in
            [("qseal", Status::Good), ("qseal-revoked", Status::Revoked), ("qwac-revoked", Status::Revoked)]
        {
            let serial = &pki.identity(name).expect(name).info.serial;
            assert_eq!(read_crl(&crl, serial, &issuer(), now), Ok(expected), "{name}");
        }
        let other = pki.identity("untrusted-root").expect("untrusted").info.clone();
        assert_eq!(read_crl(&crl, &[1], &other, now), Err(RevocationError::BadSignature));
    }

    #[test]
    fn the_qtsps_leaves_name_their_status_services() {
        let pki = test_pki();
        let urls = |name: &str| status_urls(pki.identity(name).expect(name).chain[0].as_ref());
        assert_eq!(urls("qseal"), (Some(OCSP_URL.to_string()), Some(CRL_URL.to_string())));
        assert_eq!(urls("qseal-responder-down"), (Some(OCSP_DOWN_URL.to_string()), None));
        assert_eq!(urls("qseal-untrusted"), (None, None), "the untrusted CA names none");
    }
}
