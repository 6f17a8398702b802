//! Private key material: parsing PEM keys (PKCS#8, PKCS#1, SEC1), signing, and exposing the
//! public half for comparison with a certificate. Together with `signature` this is the only
//! code that reads private key bytes; nothing here writes files or knows about HTTP.
//!
//! RSA-2048 and up and ECDSA P-256 sign with aws-lc-rs. aws-lc-rs refuses RSA keys under 2048
//! bits, so the one deliberately weak test key (RSA-1024) signs with the `rsa` crate; its speed
//! does not matter there.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::DecodePrivateKey;
use rustls_pki_types::PrivateKeyDer;

/// What kind of key a private key is, for display and algorithm selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa { bits: usize },
    EcdsaP256,
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyKind::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyKind::EcdsaP256 => f.write_str("ECDSA P-256"),
        }
    }
}

/// A private key able to sign with RSASSA-PKCS1-v1_5/SHA-256 or ECDSA P-256/SHA-256, and with
/// the other forms RFC 9421 names ([`SigningScheme`]).
pub struct PrivateKey {
    inner: Inner,
    der: PrivateKeyDer<'static>,
    /// The same ECDSA key signing in the fixed `r || s` form RFC 9421 asks for, made when first
    /// needed (the ASN.1 form is what draft-cavage and TLS use).
    ecdsa_fixed: std::sync::OnceLock<Option<EcdsaKeyPair>>,
}

/// How a key signs: the padding and hash of an RSA signature, the encoding of an ECDSA one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningScheme {
    /// RSASSA-PKCS1-v1_5 with SHA-256 for RSA; ECDSA P-256 SHA-256 in ASN.1 DER for EC keys.
    Classic,
    /// RSASSA-PSS with SHA-512 (RFC 9421 `rsa-pss-sha512`).
    RsaPssSha512,
    /// ECDSA P-256 SHA-256 as the 64-byte `r || s` (RFC 9421 `ecdsa-p256-sha256`).
    EcdsaFixed,
}

enum Inner {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    WeakRsa(Box<rsa::RsaPrivateKey>),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({}, redacted)", self.kind())
    }
}

/// Why key bytes could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not an RSA or ECDSA P-256 private key in PKCS#8, PKCS#1 or SEC1 form")]
    Unsupported,
    #[error("signing failed")]
    SigningFailed,
}

impl PrivateKey {
    pub fn from_der(der: PrivateKeyDer<'static>) -> Result<Self, KeyError> {
        let inner = match &der {
            PrivateKeyDer::Pkcs8(p) => parse_pkcs8(p.secret_pkcs8_der())?,
            PrivateKeyDer::Pkcs1(p) => parse_pkcs1(p.secret_pkcs1_der())?,
            PrivateKeyDer::Sec1(p) => Inner::Ecdsa(
                EcdsaKeyPair::from_private_key_der(&lc::ECDSA_P256_SHA256_ASN1_SIGNING, p.secret_sec1_der())
                    .map_err(|_| KeyError::Unsupported)?,
            ),
            _ => return Err(KeyError::Unsupported),
        };
        Ok(PrivateKey { inner, der, ecdsa_fixed: std::sync::OnceLock::new() })
    }

    /// A new ECDSA P-256 key, held in memory only (a client's DPoP key, RFC 9449).
    pub fn generate_p256() -> Result<Self, KeyError> {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&lc::ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
            .map_err(|_| KeyError::SigningFailed)?;
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8.as_ref().to_vec());
        PrivateKey::from_der(PrivateKeyDer::Pkcs8(der))
    }

    pub fn kind(&self) -> KeyKind {
        match &self.inner {
            Inner::Rsa(k) => KeyKind::Rsa { bits: k.public_modulus_len() * 8 },
            Inner::Ecdsa(_) => KeyKind::EcdsaP256,
            Inner::WeakRsa(k) => KeyKind::Rsa { bits: rsa::traits::PublicKeyParts::size(k.as_ref()) * 8 },
        }
    }

    /// The subjectPublicKey bits as a certificate carries them (PKCS#1 RSAPublicKey for RSA, the
    /// uncompressed point for ECDSA), to check that a key belongs to a certificate.
    pub fn public_key_bits(&self) -> Vec<u8> {
        match &self.inner {
            Inner::Rsa(k) => k.public_key().as_ref().to_vec(),
            Inner::Ecdsa(k) => k.public_key().as_ref().to_vec(),
            Inner::WeakRsa(k) => k.to_public_key().to_pkcs1_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default(),
        }
    }

    /// Signs `message` (SHA-256 is applied here).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.inner {
            Inner::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&lc::RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut sig)
                    .map_err(|_| KeyError::SigningFailed)?;
                Ok(sig)
            }
            Inner::Ecdsa(k) => {
                k.sign(&SystemRandom::new(), message).map(|s| s.as_ref().to_vec()).map_err(|_| KeyError::SigningFailed)
            }
            Inner::WeakRsa(k) => {
                use sha2::Digest;
                let hashed = sha2::Sha256::digest(message);
                k.sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed).map_err(|_| KeyError::SigningFailed)
            }
        }
    }

    /// Signs `message` as `scheme` says (the hash is applied here). A scheme that does not fit
    /// the key (PSS for an EC key, fixed ECDSA for RSA) is `Unsupported`.
    pub fn sign_as(&self, scheme: SigningScheme, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match (scheme, &self.inner) {
            (SigningScheme::Classic, _) => self.sign(message),
            (SigningScheme::RsaPssSha512, Inner::Rsa(k)) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&lc::RSA_PSS_SHA512, &SystemRandom::new(), message, &mut sig)
                    .map_err(|_| KeyError::SigningFailed)?;
                Ok(sig)
            }
            (SigningScheme::RsaPssSha512, Inner::WeakRsa(k)) => {
                use sha2::Digest;
                let hashed = sha2::Sha512::digest(message);
                k.sign_with_rng(&mut rsa::rand_core::OsRng, rsa::Pss::new::<sha2::Sha512>(), &hashed)
                    .map_err(|_| KeyError::SigningFailed)
            }
            (SigningScheme::EcdsaFixed, Inner::Ecdsa(_)) => {
                let fixed =
                    self.ecdsa_fixed.get_or_init(|| self.fixed_ecdsa_pair()).as_ref().ok_or(KeyError::Unsupported)?;
                fixed
                    .sign(&SystemRandom::new(), message)
                    .map(|s| s.as_ref().to_vec())
                    .map_err(|_| KeyError::SigningFailed)
            }
            _ => Err(KeyError::Unsupported),
        }
    }

    fn fixed_ecdsa_pair(&self) -> Option<EcdsaKeyPair> {
        let alg = &lc::ECDSA_P256_SHA256_FIXED_SIGNING;
        match &self.der {
            PrivateKeyDer::Pkcs8(p) => EcdsaKeyPair::from_pkcs8(alg, p.secret_pkcs8_der()).ok(),
            PrivateKeyDer::Sec1(p) => EcdsaKeyPair::from_private_key_der(alg, p.secret_sec1_der()).ok(),
            _ => None,
        }
    }

    /// The JWS algorithm the key signs with: PS256 for RSA (a caller may choose RS256 with the
    /// same key), ES256 for P-256.
    pub fn jws_alg(&self) -> jsonwebtoken::Algorithm {
        match self.kind() {
            KeyKind::EcdsaP256 => jsonwebtoken::Algorithm::ES256,
            KeyKind::Rsa { .. } => jsonwebtoken::Algorithm::PS256,
        }
    }

    /// The key as jsonwebtoken signs with it, and its [`Self::jws_alg`].
    pub fn jws_key(&self) -> Result<(jsonwebtoken::EncodingKey, jsonwebtoken::Algorithm), KeyError> {
        use jsonwebtoken::EncodingKey;
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let rsa_key = |k: &rsa::RsaPrivateKey| {
            k.to_pkcs1_der().map(|d| EncodingKey::from_rsa_der(d.as_bytes())).map_err(|_| KeyError::Unsupported)
        };
        let key = match (&self.inner, &self.der) {
            (Inner::Ecdsa(_), PrivateKeyDer::Pkcs8(p)) => EncodingKey::from_ec_der(p.secret_pkcs8_der()),
            (Inner::WeakRsa(k), _) => rsa_key(k)?,
            (Inner::Rsa(_), PrivateKeyDer::Pkcs1(p)) => EncodingKey::from_rsa_der(p.secret_pkcs1_der()),
            (Inner::Rsa(_), PrivateKeyDer::Pkcs8(p)) => {
                rsa_key(&rsa::RsaPrivateKey::from_pkcs8_der(p.secret_pkcs8_der()).map_err(|_| KeyError::Unsupported)?)?
            }
            _ => return Err(KeyError::Unsupported),
        };
        Ok((key, self.jws_alg()))
    }

    /// The key as rustls wants it for a TLS client identity.
    pub fn to_rustls(&self) -> PrivateKeyDer<'static> {
        self.der.clone_key()
    }
}

fn parse_pkcs8(der: &[u8]) -> Result<Inner, KeyError> {
    if let Ok(k) = RsaKeyPair::from_pkcs8(der) {
        return Ok(Inner::Rsa(k));
    }
    if let Ok(k) = EcdsaKeyPair::from_pkcs8(&lc::ECDSA_P256_SHA256_ASN1_SIGNING, der) {
        return Ok(Inner::Ecdsa(k));
    }
    rsa::RsaPrivateKey::from_pkcs8_der(der).map(|k| Inner::WeakRsa(Box::new(k))).map_err(|_| KeyError::Unsupported)
}

fn parse_pkcs1(der: &[u8]) -> Result<Inner, KeyError> {
    if let Ok(k) = RsaKeyPair::from_der(der) {
        return Ok(Inner::Rsa(k));
    }
    rsa::RsaPrivateKey::from_pkcs1_der(der).map(|k| Inner::WeakRsa(Box::new(k))).map_err(|_| KeyError::Unsupported)
}

/// A freshly generated RSA-1024 key: PKCS#8 PEM of the private key and the PKCS#1 public key.
/// Only for the deliberately weak test certificate.
pub(crate) fn generate_weak_rsa_1024() -> Result<(String, Vec<u8>), KeyError> {
    use rsa::pkcs8::EncodePrivateKey;
    let mut rng = rsa::rand_core::OsRng;
    let key = rsa::RsaPrivateKey::new(&mut rng, 1024).map_err(|_| KeyError::Unsupported)?;
    let pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).map_err(|_| KeyError::Unsupported)?.to_string();
    let public = key.to_public_key().to_pkcs1_der().map_err(|_| KeyError::Unsupported)?.as_bytes().to_vec();
    Ok((pem, public))
}
