//! The test PKI: a test QTSP (root and issuing CA), QWACs and QSEALs for two TPPs with real
//! ETSI PSD2 qcStatements, a server certificate for the reference server, and deliberately bad
//! certificates that each differ from a good one in exactly one way. It generates them with
//! rcgen, writes PEM files and a YAML manifest that names every identity, and loads them back
//! (including identities a user brings: their own PEM certificate, chain and key).
//!
//! This module owns key generation and key files. It must not sign HTTP requests (that is
//! `signature`) nor open connections (that is `transport`).

pub mod directory;
pub mod inspect;
pub mod jws;
pub mod keys;
pub mod qcstatements;
pub mod revocation;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose,
    IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType, SerialNumber,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

pub use inspect::CertInfo;
pub use keys::{KeyKind, PrivateKey, SigningScheme};
pub use qcstatements::{Psd2Statement, PspRole, QcStatements, QcType};

/// The manifest's file name inside a PKI directory.
pub const MANIFEST: &str = "manifest.yaml";
const MANIFEST_VERSION: u32 = 1;

/// Why a PKI could not be created or loaded.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Pem { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("{0}")]
    Yaml(String),
    #[error("identity `{name}`: the key in {key} does not belong to the certificate in {cert}")]
    KeyMismatch { name: String, key: PathBuf, cert: PathBuf },
    #[error("unknown identity `{name}`; the PKI in {dir} has: {known}")]
    UnknownIdentity { name: String, dir: PathBuf, known: String },
    #[error("unknown TPP `{name}` in the PKI manifest")]
    UnknownTpp { name: String },
    #[error("generating `{name}`: {cause}")]
    Generate {
        name: String,
        #[source]
        cause: generate::GenerateError,
    },
    #[error("generating `{name}`: {cause}")]
    Directory {
        name: String,
        #[source]
        cause: directory::DirectoryError,
    },
    /// A generated file is broken; generated files can always be made again.
    #[error("{source}; it was generated, so `dcr-harness pki init --force --dir {}` makes it anew", .dir.display())]
    Generated {
        dir: PathBuf,
        #[source]
        source: Box<PkiError>,
    },
}

/// The kind of key the good identities get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum KeyType {
    #[default]
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EcdsaP256,
}

/// What `pki init` may change about the first TPP; everything else is fixed test data.
#[derive(Debug, Clone)]
pub struct PkiOptions {
    pub key_type: KeyType,
    pub organization_identifier: String,
    pub organization_name: String,
    pub roles: Vec<PspRole>,
    pub nca_name: String,
    pub nca_id: String,
}

impl Default for PkiOptions {
    fn default() -> Self {
        PkiOptions {
            key_type: KeyType::Rsa2048,
            organization_identifier: "PSDGB-FCA-123456".into(),
            organization_name: "Test TPP A Ltd".into(),
            roles: vec![PspRole::Pi, PspRole::Ai],
            nca_name: "Financial Conduct Authority".into(),
            nca_id: "GB-FCA".into(),
        }
    }
}

/// The manifest: every identity and TPP of a PKI directory, by name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub version: u32,
    #[serde(default)]
    pub key_type: KeyType,
    /// The test QTSP's root (PEM), the trust anchor for QWACs and QSEALs.
    pub trust_anchor: PathBuf,
    /// The QTSP's issuing CAs (PEM), which a server needs to chain a bare QSEAL.
    #[serde(default)]
    pub intermediates: Vec<PathBuf>,
    #[serde(default)]
    pub tpps: BTreeMap<String, TppEntry>,
    pub identities: BTreeMap<String, IdentityEntry>,
    /// The test directory: the software-statement issuer and its statements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<directory::DirectoryEntry>,
}

/// A TPP: its organisation and its credentials for the DCR service itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TppEntry {
    pub organization_identifier: String,
    pub organization_name: String,
    pub roles: Vec<PspRole>,
    pub nca_name: String,
    pub nca_id: String,
    pub dcr_client_id: String,
    pub dcr_client_secret: String,
}

/// One named identity: a certificate (leaf first, optionally followed by its chain) and a key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityEntry {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Extra chain certificates, for identities whose cert file holds the leaf only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpp: Option<String>,
    #[serde(default)]
    pub description: String,
    /// Brought by the user: never regenerated or overwritten.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
}

/// A loaded identity: certificate chain and private key.
pub struct Identity {
    pub name: String,
    pub tpp: Option<String>,
    pub description: String,
    /// Leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    /// The leaf's facts, read once at load.
    pub info: CertInfo,
    /// The leaf's DER in standard base64, as certificate headers carry it: encoded once, not
    /// per signed request.
    leaf_base64: String,
    key: PrivateKey,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").field("name", &self.name).field("key", &self.key).finish()
    }
}

impl Identity {
    /// Loads a certificate (leaf first, chain may follow in the same file) and its key, checking
    /// that they belong together.
    pub fn load(name: &str, cert: &Path, key: &Path) -> Result<Identity, PkiError> {
        let entry = IdentityEntry {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            chain: vec![],
            tpp: None,
            description: String::new(),
            external: true,
        };
        load_identity(Path::new(""), name, &entry)
    }

    pub fn leaf(&self) -> &CertificateDer<'static> {
        &self.chain[0]
    }

    pub fn leaf_base64(&self) -> &str {
        &self.leaf_base64
    }

    pub fn key(&self) -> &PrivateKey {
        &self.key
    }
}

/// A loaded PKI.
pub struct Pki {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub trust_anchor: CertificateDer<'static>,
    pub intermediates: Vec<CertificateDer<'static>>,
    identities: BTreeMap<String, Identity>,
    /// The directory's software statements (compact JWS), by name.
    statements: BTreeMap<String, String>,
    /// Generated files `ensure` found broken and regenerated (`name: why`), for the caller to
    /// say: a broken file is never replaced silently.
    pub repaired: Vec<String>,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// The names scenarios and profiles use.
pub mod names {
    pub const SERVER: &str = "server";
    pub const QWAC: &str = "qwac";
    pub const QSEAL: &str = "qseal";
    pub const QWAC_B: &str = "qwac-b";
    pub const QSEAL_B: &str = "qseal-b";
    pub const ISSUING_CA: &str = "issuing-ca";
    pub const TPP_A: &str = "tpp-a";
    pub const TPP_B: &str = "tpp-b";
}

impl Pki {
    /// Loads the PKI in `dir`, creating it on first use and regenerating whatever is missing or
    /// expired (identities the user brought are left alone).
    pub fn ensure(dir: &Path, options: &PkiOptions) -> Result<Pki, PkiError> {
        let repaired = generate::ensure(dir, options)?;
        Ok(Pki { repaired, ..Pki::load(dir)? })
    }

    /// Throws away a PKI that may be broken in any way (manifest unreadable or of another
    /// version, keys or certificates corrupt, keys not matching their certificates, files
    /// missing) and generates it afresh. It keeps what it can read of the old manifest that is
    /// not generated: the identities marked `external` (their files are the user's, never
    /// touched) and the TPPs' DCR-service credentials.
    pub fn rebuild(dir: &Path, options: &PkiOptions) -> Result<Pki, PkiError> {
        generate::rebuild(dir, options)?;
        Pki::load(dir)
    }

    /// Loads an existing PKI without generating anything.
    pub fn load(dir: &Path) -> Result<Pki, PkiError> {
        let manifest = read_manifest(dir)?;
        let trust_anchor = read_certs(&dir.join(&manifest.trust_anchor))?.remove(0);
        let mut intermediates = Vec::new();
        for path in &manifest.intermediates {
            intermediates.extend(read_certs(&dir.join(path))?);
        }
        let mut identities = BTreeMap::new();
        for (name, entry) in &manifest.identities {
            let identity = load_identity(dir, name, entry).map_err(|source| match entry.external {
                true => source,
                false => PkiError::Generated { dir: dir.to_path_buf(), source: Box::new(source) },
            })?;
            identities.insert(name.clone(), identity);
        }
        let mut statements = BTreeMap::new();
        for (name, entry) in manifest.directory.iter().flat_map(|d| &d.statements) {
            let path = dir.join(&entry.file);
            let jws = crate::files::read_to_string(&path, crate::files::MAX_PEM_BYTES)
                .map_err(|source| PkiError::Io { path, source })?;
            statements.insert(name.clone(), jws.trim().to_string());
        }
        Ok(Pki {
            dir: dir.to_path_buf(),
            manifest,
            trust_anchor,
            intermediates,
            identities,
            statements,
            repaired: Vec::new(),
        })
    }

    pub fn identity(&self, name: &str) -> Result<&Identity, PkiError> {
        self.identities.get(name).ok_or_else(|| PkiError::UnknownIdentity {
            name: name.to_string(),
            dir: self.dir.clone(),
            known: self.identities.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }

    /// The directory's software statement of this name (compact JWS).
    pub fn statement(&self, name: &str) -> Option<&str> {
        self.statements.get(name).map(String::as_str)
    }

    /// `count` good statements of TPP `tpp` for the software product `software_id`, issued now
    /// by the test directory (as the CDR Register issues them on demand), its key read once.
    pub fn issue_statements(&self, tpp: &str, software_id: &str, count: usize) -> Result<Vec<String>, PkiError> {
        directory::issue(&self.dir, &self.manifest, (tpp, software_id), count, None)
    }

    /// A statement the directory issues now for `tpp`'s software `software_id` that carries no
    /// keys but names where they are (Open Banking UK's `software_jwks_endpoint`).
    pub fn issue_statement_with_keys_at(
        &self,
        tpp: &str,
        software_id: &str,
        endpoint: &str,
    ) -> Result<String, PkiError> {
        let mut issued = directory::issue(&self.dir, &self.manifest, (tpp, software_id), 1, Some(endpoint))?;
        issued.pop().ok_or_else(|| PkiError::UnknownTpp { name: tpp.into() })
    }

    /// The directory's software statements (name, compact JWS).
    pub fn statements(&self) -> impl Iterator<Item = (&String, &String)> {
        self.statements.iter()
    }

    pub fn identities(&self) -> impl Iterator<Item = &Identity> {
        self.identities.values()
    }

    pub fn has_identity(&self, name: &str) -> bool {
        self.identities.contains_key(name)
    }

    pub fn tpp(&self, name: &str) -> Result<&TppEntry, PkiError> {
        self.manifest.tpps.get(name).ok_or_else(|| PkiError::UnknownTpp { name: name.to_string() })
    }

    pub fn tpps(&self) -> impl Iterator<Item = (&String, &TppEntry)> {
        self.manifest.tpps.iter()
    }

    /// Path of a file of this PKI, as the manifest names it (for `--cacert`, `--cert`, ...).
    pub fn path_of(&self, relative: &Path) -> PathBuf {
        self.dir.join(relative)
    }
}

fn read_manifest(dir: &Path) -> Result<Manifest, PkiError> {
    let path = dir.join(MANIFEST);
    let text = crate::files::read_to_string(&path, crate::files::MAX_INPUT_BYTES)
        .map_err(|source| PkiError::Io { path: path.clone(), source })?;
    let manifest: Manifest =
        serde_norway::from_str(&text).map_err(|e| PkiError::Yaml(crate::diagnostic::located(&path, &text, &e)))?;
    if manifest.version != MANIFEST_VERSION {
        return Err(PkiError::Manifest {
            path,
            message: format!(
                "manifest version {} is not {MANIFEST_VERSION}; `dcr-harness pki init --force --dir {}` makes it anew",
                manifest.version,
                dir.display()
            ),
        });
    }
    Ok(manifest)
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), PkiError> {
    let path = dir.join(MANIFEST);
    let yaml = serde_norway::to_string(manifest)
        .map_err(|e| PkiError::Manifest { path: path.clone(), message: e.to_string() })?;
    let text = format!(
        "# dcr-harness test PKI. Identities are referred to by name from scenarios and profiles.\n\
         # Entries marked `external: true` are your own certificates and are never regenerated.\n{yaml}"
    );
    write_file(&path, text.as_bytes(), false)
}

/// Reads every certificate of a PEM file; at least one must be there.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let bytes = crate::files::read(path, crate::files::MAX_PEM_BYTES)
        .map_err(|source| PkiError::Io { path: path.to_path_buf(), source })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PkiError::Pem { path: path.to_path_buf(), message: format!("unreadable PEM: {e}") })?;
    if certs.is_empty() {
        return Err(PkiError::Pem { path: path.to_path_buf(), message: "no CERTIFICATE block found".into() });
    }
    for cert in &certs {
        CertInfo::from_der(cert).map_err(|e| PkiError::Pem { path: path.to_path_buf(), message: e.to_string() })?;
    }
    Ok(certs)
}

/// Reads a PEM private key (PKCS#8, PKCS#1 or SEC1).
pub fn read_key(path: &Path) -> Result<PrivateKey, PkiError> {
    let bytes = crate::files::read(path, crate::files::MAX_PEM_BYTES)
        .map_err(|source| PkiError::Io { path: path.to_path_buf(), source })?;
    if is_encrypted_pem(&bytes) {
        return Err(PkiError::Pem {
            path: path.to_path_buf(),
            message: "the private key is encrypted; give the harness a decrypted copy (`openssl pkey -in KEY -out KEY.plain`), kept out of version control".into(),
        });
    }
    let der = PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| PkiError::Pem {
        path: path.to_path_buf(),
        message: format!("no usable PRIVATE KEY block (PKCS#8, PKCS#1 or SEC1): {e}"),
    })?;
    PrivateKey::from_der(der).map_err(|e| PkiError::Pem { path: path.to_path_buf(), message: e.to_string() })
}

/// Whether a PEM key is password-protected: PKCS#8 `ENCRYPTED PRIVATE KEY`, or the legacy
/// OpenSSL `Proc-Type: 4,ENCRYPTED` header.
fn is_encrypted_pem(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || text.contains("Proc-Type: 4,ENCRYPTED")
}

fn load_identity(dir: &Path, name: &str, entry: &IdentityEntry) -> Result<Identity, PkiError> {
    let cert_path = dir.join(&entry.cert);
    let key_path = dir.join(&entry.key);
    let mut chain = read_certs(&cert_path)?;
    for extra in &entry.chain {
        chain.extend(read_certs(&dir.join(extra))?);
    }
    let key = read_key(&key_path)?;
    let leaf =
        CertInfo::from_der(&chain[0]).map_err(|e| PkiError::Pem { path: cert_path.clone(), message: e.to_string() })?;
    if leaf.public_key != key.public_key_bits() {
        return Err(PkiError::KeyMismatch { name: name.to_string(), key: key_path, cert: cert_path });
    }
    use base64::Engine;
    let leaf_base64 = base64::engine::general_purpose::STANDARD.encode(&chain[0]);
    Ok(Identity {
        info: leaf,
        leaf_base64,
        name: name.to_string(),
        tpp: entry.tpp.clone(),
        description: entry.description.clone(),
        chain,
        cert_path,
        key_path,
        key,
    })
}

fn write_file(path: &Path, bytes: &[u8], secret: bool) -> Result<(), PkiError> {
    std::fs::write(path, bytes).map_err(|source| PkiError::Io { path: path.to_path_buf(), source })?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|source| PkiError::Io { path: path.to_path_buf(), source })?;
    }
    let _ = secret;
    Ok(())
}

mod generate;
pub use generate::{catalog_names, GenerateError, IssuingCaError};

/// Random URL-safe text: `prefix` followed by `bytes` random bytes (ids, secrets, tokens, the
/// DCR-service credentials of the test PKI).
/// The system RNG does not fail on the platforms we run on; should it, zeros would be a
/// silent disaster, so this aborts loudly instead.
pub fn generate_token(prefix: &str, bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    if aws_lc_rs::rand::fill(&mut buf).is_err() {
        panic!("the system random number generator failed");
    }
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// A human-readable listing of every identity of `pki`, for `dcr-harness pki show`.
pub fn describe(pki: &Pki) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "test PKI in {} (trust anchor {})", pki.dir.display(), pki.manifest.trust_anchor.display());
    for (name, tpp) in pki.tpps() {
        let roles: Vec<&str> = tpp.roles.iter().map(|r| r.name()).collect();
        let _ = writeln!(
            out,
            "tpp {name}: {} ({}), roles {}, DCR client id {} (secret redacted)",
            tpp.organization_name,
            tpp.organization_identifier,
            roles.join(", "),
            tpp.dcr_client_id
        );
    }
    if let Some(directory) = &pki.manifest.directory {
        let _ = writeln!(
            out,
            "directory {} (public keys in {}), software statements:",
            directory.issuer,
            directory.jwks.display()
        );
        for (name, s) in &directory.statements {
            let flaw = s.flaw.map(|f| format!(", {}", f.name())).unwrap_or_default();
            let _ =
                writeln!(out, "  {name:<24} {} for {}, {}{flaw} — {}", s.file.display(), s.tpp, s.alg, s.description);
        }
    }
    for identity in pki.identities() {
        let info = &identity.info;
        let _ = writeln!(
            out,
            "\n{}{}",
            identity.name,
            if identity.description.is_empty() { String::new() } else { format!(" — {}", identity.description) }
        );
        let _ = writeln!(out, "  subject   {}", info.subject);
        let _ = writeln!(out, "  issuer    {}", info.issuer);
        let _ = writeln!(out, "  serial    {}", info.serial_hex());
        let _ = writeln!(
            out,
            "  validity  {} .. {}",
            httpdate::fmt_http_date(info.not_before),
            httpdate::fmt_http_date(info.not_after)
        );
        let _ = writeln!(out, "  key       {}", info.key);
        let mut usage = Vec::new();
        if info.client_auth {
            usage.push("clientAuth");
        }
        if info.server_auth {
            usage.push("serverAuth");
        }
        if info.digital_signature {
            usage.push("digitalSignature");
        }
        if info.non_repudiation {
            usage.push("nonRepudiation");
        }
        if info.is_ca {
            usage.push("CA");
        }
        let _ = writeln!(out, "  usage     {}", usage.join(", "));
        match &info.qc {
            None => {}
            Some(Err(e)) => {
                let _ = writeln!(out, "  qc        unreadable: {e}");
            }
            Some(Ok(qc)) => {
                let types: Vec<String> = qc.qc_types.iter().map(|t| format!("{t:?}").to_lowercase()).collect();
                let _ = writeln!(out, "  qc        compliance {}, type {}", qc.compliance, types.join(", "));
                match &qc.psd2 {
                    Some(p) => {
                        let roles: Vec<&str> = p.roles.iter().map(|r| r.name()).collect();
                        let _ =
                            writeln!(out, "  psd2      roles {}; NCA {} ({})", roles.join(", "), p.nca_name, p.nca_id);
                    }
                    None => {
                        let _ = writeln!(out, "  psd2      none");
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encrypted_key_is_named_as_such() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cases = [
            ("pkcs8.pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n", true),
            ("legacy.pem", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n", true),
            ("garbage.pem", "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n", false),
        ];
        for (name, text, encrypted) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write");
            let error = read_key(&path).expect_err(name).to_string();
            assert_eq!(error.contains("the private key is encrypted"), encrypted, "{name}: {error}");
            assert!(error.contains(name), "{name}: the message names the file: {error}");
        }
    }
}
