//! Shared fixtures for the crate's own tests and benchmarks: one test PKI per process,
//! generated on first use under `target/test-pki/` and reused by later runs (RSA key generation
//! is the slow part of a cold test run). Not part of the supported API.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::pki::{Identity, KeyType, Pki, PkiOptions};

/// Where the shared test PKI lives.
pub fn test_pki_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("test-pki")
}

/// The home the binary keeps its built-in suite, PKI and ledgers in when tests run it: under the
/// target directory, never the user's own (which another version of the tool may be using).
pub fn test_home() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("test-home")
}

/// The binary at `path` (a test's `CARGO_BIN_EXE_dcr-harness`) with its home set to [`test_home`].
pub fn binary(path: &str) -> std::process::Command {
    let mut command = std::process::Command::new(path);
    command.env("DCR_HARNESS_HOME", test_home());
    command
}

/// The test directory's published keys (its JWKS), by key id, each with its algorithm.
pub fn directory_keys() -> std::collections::HashMap<String, (jsonwebtoken::DecodingKey, jsonwebtoken::Algorithm)> {
    test_pki();
    let text = std::fs::read_to_string(test_pki_dir().join(crate::pki::directory::JWKS_FILE)).expect("the JWKS");
    crate::pki::directory::published_keys(&serde_json::from_str(&text).expect("JSON"))
}

/// Copies the files (not the folders) of `from` into `to`, made if need be.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read").map(|e| e.expect("entry")) {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
}

/// A copy of the project into `into`: profiles, scenarios, load profiles, fixtures, and the
/// shared test PKI as `fixtures/pki`. Tests that break files, keep ledgers or run processes in
/// parallel work in one, never in the checkout.
pub fn copy_project(into: &Path) {
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["profiles", "scenarios", "load", "fixtures/metadata", "fixtures/scenarios"] {
        copy_dir(&project.join(sub), &into.join(sub));
    }
    // The marker, so that a command run inside the copy finds it as its project.
    let _ = std::fs::copy(project.join(crate::project::MARKER), into.join(crate::project::MARKER));
    test_pki();
    copy_dir(&test_pki_dir(), &into.join("fixtures/pki"));
}

/// The shared test PKI, created or refreshed once per process.
pub fn test_pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| match Pki::ensure(&test_pki_dir(), &PkiOptions::default()) {
        Ok(pki) => pki,
        Err(e) => panic!("cannot create the test PKI in {}: {e}", test_pki_dir().display()),
    })
}

/// The test PKI shared, as the services that keep it (the QTSP's) take it.
pub fn test_pki_shared() -> std::sync::Arc<Pki> {
    static PKI: OnceLock<std::sync::Arc<Pki>> = OnceLock::new();
    PKI.get_or_init(|| {
        test_pki();
        std::sync::Arc::new(Pki::load(&test_pki_dir()).expect("the test PKI loads"))
    })
    .clone()
}

/// A self-signed identity with a fresh key of `key_type`, written under `target/test-keys/`.
pub fn self_signed_identity(key_type: KeyType) -> Identity {
    use rcgen::{CertificateParams, KeyPair, RsaKeySize, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256};
    let key = match key_type {
        KeyType::Rsa2048 => KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048),
        KeyType::Rsa3072 => KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_3072),
        KeyType::Rsa4096 => KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_4096),
        KeyType::EcdsaP256 => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256),
    }
    .expect("key generation");
    let mut params = CertificateParams::new(vec!["signer.test".to_string()]).expect("params");
    params.distinguished_name.push(rcgen::DnType::CommonName, format!("{key_type:?} signer"));
    let cert = params.self_signed(&key).expect("self-signed");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("test-keys");
    std::fs::create_dir_all(&dir).expect("key dir");
    let tag = format!("{key_type:?}-{}", std::process::id());
    let (cert_path, key_path) = (dir.join(format!("{tag}.pem")), dir.join(format!("{tag}.key")));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    Identity::load(&tag, &cert_path, &key_path).expect("load identity")
}

/// A registration of exactly 1 KiB, the request size the benchmarks sign and verify.
pub fn one_kib_registration() -> crate::signature::Message {
    let mut body = br#"{"client_name":"bench","redirect_uris":["https://tpp.example/cb"],"padding":""#.to_vec();
    body.resize(1024 - 2, b'x');
    body.extend_from_slice(b"\"}");
    crate::signature::Message::new("POST", "/client/v1/register", body)
}

/// The reference point of the verify benchmarks: a bare RSA-2048 PKCS#1 verification with
/// aws-lc, of a signature made by `identity`.
pub fn bare_rsa_verifier(identity: &Identity) -> impl Fn() {
    let message = b"(request-target): post /client/v1/register\ndate: Tue, 24 Nov 2026 19:11:14 GMT\ndigest: SHA-256=x";
    let signature = identity.key().sign(message).expect("sign");
    let public = identity.key().public_key_bits();
    move || {
        aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256, &public)
            .verify(message, &signature)
            .expect("verify")
    }
}
