//! TLS for the reference server: a rustls `ServerConfig` with the server certificate of the
//! test PKI and a client-certificate verifier that either judges validity and chain in the
//! handshake (`--cert-check handshake`, as many gateways do) or accepts any certificate whose
//! holder proves its key, leaving judgement to HTTP so that the answer can name the rule
//! (`--cert-check http`).

use std::sync::Arc;
use std::time::SystemTime;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

use super::certs::{check_qwac_chain, CertProblem, Trust, TrustError};
use super::flaw::Flaw;
use super::{CertCheck, ServerConfig};
use crate::pki::{Pki, PkiError};

/// Why the server's TLS could not be set up: its certificate and its trust in the QTSP, and the
/// HTTPS clients it fetches with (a client's `jwks_uri`, the QTSP's status services).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// An identity of the test PKI it needs (its own, the issuing CA's).
    #[error("{0}")]
    Identity(#[source] PkiError),
    #[error("{0}")]
    Rustls(#[source] rustls::Error),
    #[error("server certificate: {0}")]
    Certificate(#[source] rustls::Error),
    /// An HTTPS client it fetches with.
    #[error("{0}")]
    Client(#[source] reqwest::Error),
}

pub fn server_config(
    pki: &Pki,
    config: &ServerConfig,
    trust: Arc<Trust>,
) -> Result<rustls::ServerConfig, TlsSetupError> {
    let provider = crate::crypto::provider();
    let server = pki.identity(crate::pki::names::SERVER).map_err(TlsSetupError::Identity)?;
    let verifier = Arc::new(QwacVerifier {
        trust,
        mode: config.cert_check,
        flaws: config.flaws.clone(),
        mandatory: config.profile == super::ServerProfile::Smbc
            && config.cert_check == CertCheck::Handshake
            && !config.flaws.contains(&Flaw::SkipClientCert),
        hints: vec![DistinguishedName::from(subject_of(&pki.trust_anchor))],
        algorithms: provider.signature_verification_algorithms,
    });
    let provider = Arc::new(with_fapi_suites(&provider, config.has(Flaw::PermissiveTls12Suites)));
    let versions: &[&rustls::SupportedProtocolVersion] = match config.has(Flaw::NoTls13) {
        true => &[&rustls::version::TLS12],
        false => &[&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(TlsSetupError::Rustls)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(server.chain.clone(), server.key().to_rustls())
        .map_err(TlsSetupError::Certificate)?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

/// TLS 1.2 cipher suites as FAPI has them (FAPI 1.0 Advanced §8.5, FAPI 2.0 Security Profile
/// §5.2.1: "only permit" the ECDHE and DHE suites with AES-GCM; rustls has no DHE), with the
/// ECDSA twins for an EC server key; every TLS 1.3 suite. `permissive` keeps the provider's
/// whole list (ChaCha20-Poly1305 in TLS 1.2 too).
fn with_fapi_suites(provider: &rustls::crypto::CryptoProvider, permissive: bool) -> rustls::crypto::CryptoProvider {
    use rustls::CipherSuite::*;
    const FAPI_TLS12: &[rustls::CipherSuite] = &[
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ];
    let allowed = |suite: &rustls::SupportedCipherSuite| {
        permissive || suite.version() == &rustls::version::TLS13 || FAPI_TLS12.contains(&suite.suite())
    };
    rustls::crypto::CryptoProvider {
        cipher_suites: provider.cipher_suites.iter().copied().filter(allowed).collect(),
        ..provider.clone()
    }
}

fn subject_of(cert: &CertificateDer<'_>) -> Vec<u8> {
    x509_parser::parse_x509_certificate(cert)
        .map(|(_, c)| c.tbs_certificate.subject.as_raw().to_vec())
        .unwrap_or_default()
}

#[derive(Debug)]
struct QwacVerifier {
    trust: Arc<Trust>,
    mode: CertCheck,
    flaws: std::collections::BTreeSet<Flaw>,
    mandatory: bool,
    hints: Vec<DistinguishedName>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Trust")
    }
}

impl ClientCertVerifier for QwacVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if self.mode == CertCheck::Http {
            return Ok(ClientCertVerified::assertion());
        }
        let mut chain = vec![end_entity.clone()];
        chain.extend(intermediates.iter().cloned());
        match check_qwac_chain(&self.trust, &chain, SystemTime::now(), &|f| self.flaws.contains(&f)) {
            Ok(_) => Ok(ClientCertVerified::assertion()),
            Err(CertProblem::Expired(_)) => Err(rustls::Error::InvalidCertificate(CertificateError::Expired)),
            Err(_) => Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
