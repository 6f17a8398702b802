//! The signing certificate as every dialect's verifier uses it: decoded from
//! `TPP-Signature-Certificate`, parsed once and kept in a bounded cache, its key checked for
//! strength and against the keyId, and signatures verified with its key by algorithm. It knows
//! no dialect: a dialect names a [`KeyAlgorithm`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use aws_lc_rs::signature::{self as lc, ParsedPublicKey, UnparsedPublicKey};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::SignatureError;
use crate::pki::inspect::{parse_dn, same_dn, serial_digits, KeyDescription};
use crate::pki::CertInfo;
use crate::signature::KeyIdStyle;

/// A caller's verdict on a certificate's chain, kept with the certificate: its own error, shared.
pub type TrustVerdict = Result<(), Arc<dyn std::error::Error + Send + Sync>>;

/// The algorithms a signature can be verified with, whatever its dialect calls them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSASSA-PSS with SHA-512.
    RsaPssSha512,
    /// ECDSA on P-256 with SHA-256, the signature as two fixed-size integers.
    EcdsaP256Sha256,
    Ed25519,
    HmacSha256,
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
    trust_verdict: OnceLock<TrustVerdict>,
    /// The key ready for the other algorithm a dialect names (RSA-PSS SHA-512, fixed-size
    /// ECDSA), parsed on first use: parsing an RSA key costs half a verification.
    other_key: OnceLock<Option<(KeyAlgorithm, ParsedPublicKey)>>,
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
            other_key: OnceLock::new(),
        })
    }

    /// The verdict of `judge` on this certificate's chain, computed on first call and kept:
    /// a chain verdict does not change while the certificate and the trust anchors do not,
    /// and it costs more than the signature check itself.
    pub fn trust_verdict<E>(&self, judge: impl FnOnce() -> Result<(), E>) -> TrustVerdict
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let judge = || judge().map_err(|e| Arc::new(e) as Arc<dyn std::error::Error + Send + Sync>);
        self.trust_verdict.get_or_init(judge).clone()
    }

    pub(crate) fn check_key_id(&self, key_id: &str, style: &KeyIdStyle) -> Result<(), SignatureError> {
        if let Some((seen, verdict)) = self.key_id_verdict.get() {
            if seen == style {
                return verdict.clone();
            }
        }
        let verdict = check_key_id(key_id, style, &self.info);
        let _ = self.key_id_verdict.set((style.clone(), verdict.clone()));
        verdict
    }

    /// Verifies `signature` over `message` with this certificate's key as `alg`, the parsed key
    /// kept for the algorithm it was first asked for.
    pub fn verify_as(&self, alg: KeyAlgorithm, weak_allowed: bool, message: &[u8], signature: &[u8]) -> bool {
        if alg == KeyAlgorithm::RsaPkcs1Sha256 {
            return self.verify(weak_allowed, message, signature);
        }
        let cached = self.other_key.get_or_init(|| {
            let algorithm: &'static dyn lc::VerificationAlgorithm = match (alg, &self.info.key) {
                (KeyAlgorithm::RsaPssSha512, KeyDescription::Rsa { bits }) if *bits >= 2048 => {
                    &lc::RSA_PSS_2048_8192_SHA512
                }
                (KeyAlgorithm::EcdsaP256Sha256, KeyDescription::EcdsaP256) => &lc::ECDSA_P256_SHA256_FIXED,
                _ => return None,
            };
            ParsedPublicKey::new(algorithm, &self.info.public_key).ok().map(|key| (alg, key))
        });
        match cached {
            Some((cached_alg, key)) if *cached_alg == alg => key.verify_sig(message, signature).is_ok(),
            _ => verify_bytes(alg, &self.info.public_key, weak_allowed, message, signature),
        }
    }

    /// Verifies with the certificate's usual algorithm (RSA PKCS#1 SHA-256, or ASN.1 ECDSA).
    pub fn verify(&self, weak_allowed: bool, message: &[u8], signature: &[u8]) -> bool {
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

    pub(crate) fn get_or_parse(&self, key_id: &str, header: &str) -> Result<Arc<SigningCertificate>, SignatureError> {
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

/// The DER of a `TPP-Signature-Certificate` value: base64, with or without PEM armour.
pub fn decode_certificate(value: &str) -> Result<Vec<u8>, SignatureError> {
    // The common form, bare base64, is decoded as it is: a server pays for this on every request.
    if !value.contains(|c: char| c == '-' || c.is_whitespace()) {
        return B64.decode(value.as_bytes()).map_err(|_| SignatureError::BadBase64("TPP-Signature-Certificate"));
    }
    // Some TPPs send the PEM body with its armour; accept both.
    let body: String = value
        .replace("-----BEGIN CERTIFICATE-----", "")
        .replace("-----END CERTIFICATE-----", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    B64.decode(body.as_bytes()).map_err(|_| SignatureError::BadBase64("TPP-Signature-Certificate"))
}

pub(crate) fn check_key_id(key_id: &str, style: &KeyIdStyle, cert: &CertInfo) -> Result<(), SignatureError> {
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

pub(crate) fn check_key(key: &KeyDescription, allow_weak: bool) -> Result<(), SignatureError> {
    match key {
        KeyDescription::Rsa { bits } if *bits < 2048 && !allow_weak => Err(SignatureError::WeakKey(key.to_string())),
        KeyDescription::Other(_) => Err(SignatureError::WeakKey(key.to_string())),
        _ => Ok(()),
    }
}

/// Verifies `signature` over `base` with `alg` and the key's bits: PKCS#1 RSAPublicKey for RSA,
/// the uncompressed point for P-256, the 32 raw bytes for Ed25519, the secret for HMAC. RSA
/// under 2048 bits verifies only where `weak_allowed`.
pub fn verify_bytes(alg: KeyAlgorithm, key_bits: &[u8], weak_allowed: bool, base: &[u8], signature: &[u8]) -> bool {
    let with = |algorithm: &'static dyn lc::VerificationAlgorithm| {
        UnparsedPublicKey::new(algorithm, key_bits).verify(base, signature).is_ok()
    };
    match alg {
        KeyAlgorithm::RsaPssSha512 => {
            with(&lc::RSA_PSS_2048_8192_SHA512) || (weak_allowed && weak_pss_verifies(key_bits, base, signature))
        }
        KeyAlgorithm::RsaPkcs1Sha256 => {
            with(&lc::RSA_PKCS1_2048_8192_SHA256)
                || (weak_allowed && with(&lc::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY))
        }
        KeyAlgorithm::EcdsaP256Sha256 => with(&lc::ECDSA_P256_SHA256_FIXED),
        KeyAlgorithm::Ed25519 => with(&lc::ED25519),
        KeyAlgorithm::HmacSha256 => {
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key_bits);
            aws_lc_rs::hmac::verify(&key, base, signature).is_ok()
        }
    }
}

/// aws-lc-rs refuses RSA keys under 2048 bits; the reference server's `accept-weak-key` flaw
/// still has to verify one, with the `rsa` crate.
fn weak_pss_verifies(key_bits: &[u8], base: &[u8], signature: &[u8]) -> bool {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use sha2::Digest;
    let Ok(key) = rsa::RsaPublicKey::from_pkcs1_der(key_bits) else {
        return false;
    };
    key.verify(rsa::Pss::new::<sha2::Sha512>(), &sha2::Sha512::digest(base), signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_header_is_read_bare_folded_or_in_pem_armour() {
        let der = vec![0x30, 0x82, 0x01, 0x0a, 0xff, 0x00, 0x7e];
        let bare = B64.encode(&der);
        let cases = [
            (bare.clone(), Ok(der.clone())),
            (format!("{} {}", &bare[..4], &bare[4..]), Ok(der.clone())),
            (format!("-----BEGIN CERTIFICATE-----\n{bare}\n-----END CERTIFICATE-----\n"), Ok(der.clone())),
            ("not base64!".to_string(), Err(SignatureError::BadBase64("TPP-Signature-Certificate"))),
        ];
        for (header, expected) in cases {
            assert_eq!(decode_certificate(&header), expected, "{header}");
        }
    }
}
