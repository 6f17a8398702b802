//! Generation of the test PKI: the catalog of identities (data), and `ensure`, which creates
//! what is missing, regenerates what is expired, and keeps what is still good, including the
//! TPPs' DCR-service credentials, so that a harness and a server started later agree.

use super::*;

mod catalog;

pub use catalog::catalog_names;
use catalog::*;
use IssuedBy::*;
use Kind::*;
use Validity::*;
use Variant::*;

const OTHER_ORG_ID: &str = "PSDGB-FCA-999999";
const OTHER_ORG_NAME: &str = "Unrelated Org Ltd";

/// Why an identity could not be generated (its name is the caller's to say).
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("not in the catalog")]
    NotInCatalog,
    #[error("issuer missing from the manifest")]
    IssuerMissing,
    #[error("no randomness")]
    NoRandomness,
    #[error("a QWAC or QSEAL needs a TPP")]
    NoTpp,
    /// rcgen refused a key, a name or a certificate.
    #[error("{0}")]
    Rcgen(#[source] rcgen::Error),
    #[error("{0}")]
    WeakKey(#[source] keys::KeyError),
    #[error("{0}")]
    QcStatements(#[source] qcstatements::QcError),
    /// The AIA extension's DER.
    #[error("{0}")]
    Aia(#[source] der::Error),
}

/// Why the issuing CA could not be loaded to sign with.
#[derive(Debug, thiserror::Error)]
pub enum IssuingCaError {
    #[error("no issuing CA in the catalog")]
    NotInCatalog,
    #[error("the issuing CA is not in the manifest")]
    NotInManifest,
    #[error("{0}")]
    ReadKey(#[source] std::io::Error),
    #[error("{0}")]
    Key(#[source] rcgen::Error),
    #[error("{0}")]
    Params(#[source] Box<PkiError>),
}

/// Generates what is missing or no longer in its intended state; returns the files that were
/// there but broken (`name: why`), which the caller must report.
pub(super) fn ensure(dir: &Path, options: &PkiOptions) -> Result<Vec<String>, PkiError> {
    std::fs::create_dir_all(dir).map_err(|source| PkiError::Io { path: dir.to_path_buf(), source })?;
    let _lock = lock(dir)?;
    let mut manifest = match read_manifest(dir) {
        Ok(m) => m,
        Err(PkiError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => new_manifest(options)?,
        Err(other) => return Err(other),
    };
    let now = OffsetDateTime::now_utc();
    let ca_stale = CATALOG
        .iter()
        .filter(|s| matches!(s.kind, Root | Issuing | UntrustedRoot))
        .any(|s| why_regenerate(dir, &manifest, s, now).is_some());
    let mut repaired = Vec::new();
    let mut due = Vec::new();
    for spec in CATALOG {
        if manifest.identities.get(spec.name).is_some_and(|e| e.external) {
            continue;
        }
        let why = why_regenerate(dir, &manifest, spec, now);
        if let Some(Regenerate::Broken(why)) = &why {
            repaired.push(format!("{}: {why}", spec.name));
        }
        if ca_stale || why.is_some() {
            due.push(spec);
        }
    }
    // Key generation is most of the work (RSA-2048 on one core: 50 ms a key): every core makes
    // keys at once, then the certificates are signed in catalog order, issuers first.
    let mut keys = new_keys(&due, manifest.key_type)?;
    let mut issuers = Issuers::default();
    let mut changed = false;
    for spec in due {
        generate_one(dir, &mut manifest, spec, &mut issuers, now, keys.remove(spec.name))?;
        changed = true;
    }
    if directory::stale(dir, &manifest, now, changed) {
        directory::generate(dir, &mut manifest, now)?;
        changed = true;
    }
    if changed || !dir.join(MANIFEST).exists() {
        write_manifest(dir, &manifest)?;
    }
    Ok(repaired)
}

/// Why a generated identity is made again: never made, or out of its intended validity (the
/// routine), or broken (to be reported).
enum Regenerate {
    Routine,
    Broken(String),
}

pub(super) fn rebuild(dir: &Path, options: &PkiOptions) -> Result<(), PkiError> {
    std::fs::create_dir_all(dir).map_err(|source| PkiError::Io { path: dir.to_path_buf(), source })?;
    {
        let _lock = lock(dir)?;
        let kept = salvage(dir);
        for name in catalog_names() {
            for ext in ["pem", "key"] {
                remove_if_present(&dir.join(format!("{name}.{ext}")))?;
            }
        }
        remove_if_present(&dir.join(MANIFEST))?;
        let mut manifest = new_manifest(options)?;
        for (name, old) in kept.tpps {
            if let Some(tpp) = manifest.tpps.get_mut(&name) {
                tpp.dcr_client_id = old.dcr_client_id;
                tpp.dcr_client_secret = old.dcr_client_secret;
            }
        }
        manifest.identities.extend(kept.external);
        write_manifest(dir, &manifest)?;
    }
    ensure(dir, options).map(|_| ())
}

/// An exclusive lock on the PKI directory for as long as it is held: two processes that make
/// or repair the same PKI at once (two CI jobs in one checkout, parallel tests) take turns,
/// so that neither reads a file the other is half-way through writing.
fn lock(dir: &Path) -> Result<std::fs::File, PkiError> {
    let path = dir.join(".lock");
    let io = |source| PkiError::Io { path: path.clone(), source };
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io)?;
    file.lock().map_err(io)?;
    Ok(file)
}

/// What a rebuild keeps of an old manifest, read entry by entry so that one broken entry (or a
/// manifest of another version) loses nothing else.
#[derive(Default)]
struct Salvage {
    tpps: BTreeMap<String, TppEntry>,
    external: BTreeMap<String, IdentityEntry>,
}

fn salvage(dir: &Path) -> Salvage {
    let Ok(text) = crate::files::read_to_string(&dir.join(MANIFEST), crate::files::MAX_INPUT_BYTES) else {
        return Salvage::default();
    };
    let Ok(value) = serde_norway::from_str::<serde_norway::Value>(&text) else { return Salvage::default() };
    let entries = |key: &str| -> Vec<(String, serde_norway::Value)> {
        match value.get(key) {
            Some(serde_norway::Value::Mapping(map)) => {
                map.iter().filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.clone()))).collect()
            }
            _ => Vec::new(),
        }
    };
    let tpps = entries("tpps")
        .into_iter()
        .filter_map(|(name, v)| Some((name, serde_norway::from_value::<TppEntry>(v).ok()?)))
        .collect();
    let external = entries("identities")
        .into_iter()
        .filter_map(|(name, v)| Some((name, serde_norway::from_value::<IdentityEntry>(v).ok()?)))
        .filter(|(_, entry)| entry.external)
        .collect();
    Salvage { tpps, external }
}

fn remove_if_present(path: &Path) -> Result<(), PkiError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(PkiError::Io { path: path.to_path_buf(), source: e }),
        _ => Ok(()),
    }
}

fn new_manifest(options: &PkiOptions) -> Result<Manifest, PkiError> {
    let mut tpps = BTreeMap::new();
    tpps.insert(
        names::TPP_A.to_string(),
        TppEntry {
            organization_identifier: options.organization_identifier.clone(),
            organization_name: options.organization_name.clone(),
            roles: options.roles.clone(),
            nca_name: options.nca_name.clone(),
            nca_id: options.nca_id.clone(),
            dcr_client_id: generate_token("dcr-a-", 8),
            dcr_client_secret: generate_token("", 24),
        },
    );
    tpps.insert(
        names::TPP_B.to_string(),
        TppEntry {
            organization_identifier: "PSDGB-FCA-654321".into(),
            organization_name: "Test TPP B Ltd".into(),
            roles: vec![PspRole::Pi, PspRole::Ai],
            nca_name: options.nca_name.clone(),
            nca_id: options.nca_id.clone(),
            dcr_client_id: generate_token("dcr-b-", 8),
            dcr_client_secret: generate_token("", 24),
        },
    );
    Ok(Manifest {
        version: MANIFEST_VERSION,
        key_type: options.key_type,
        trust_anchor: "root-ca.pem".into(),
        intermediates: vec!["issuing-ca.pem".into()],
        tpps,
        identities: BTreeMap::new(),
        directory: None,
    })
}

fn why_regenerate(dir: &Path, manifest: &Manifest, spec: &Spec, now: OffsetDateTime) -> Option<Regenerate> {
    let Some(entry) = manifest.identities.get(spec.name) else {
        return Some(Regenerate::Routine);
    };
    if !dir.join(&entry.key).exists() {
        return Some(Regenerate::Broken(format!("its key {} is missing", entry.key.display())));
    }
    let certs = match read_certs(&dir.join(&entry.cert)) {
        Ok(certs) => certs,
        Err(e) => return Some(Regenerate::Broken(format!("its certificate is unreadable ({e})"))),
    };
    let info = match CertInfo::from_der(&certs[0]) {
        Ok(info) => info,
        Err(e) => return Some(Regenerate::Broken(format!("its certificate does not parse ({e})"))),
    };
    // A certificate must keep its intended state for at least a day of test runs.
    let soon = SystemTime::from(now + Duration::days(1));
    let now = SystemTime::from(now);
    let stale = match spec.validity {
        Current => !(info.is_valid_at(now) && info.is_valid_at(soon)),
        Expired => info.not_after >= now,
        NotYetValid => info.not_before <= soon,
    };
    // Leaves made before the QTSP published their status name no responder: made again.
    let unpublished = spec.issued_by == ByQtsp
        && matches!(spec.kind, Qwac | Qseal)
        && revocation::status_urls(certs[0].as_ref()).0.is_none();
    (stale || unpublished).then_some(Regenerate::Routine)
}

#[derive(Default)]
struct Issuers {
    loaded: BTreeMap<&'static str, (CertificateParams, KeyPair, String)>,
}

impl Issuers {
    /// The issuer `which`, generated earlier in this run or loaded from its files.
    fn get(
        &mut self,
        dir: &Path,
        manifest: &Manifest,
        which: &'static str,
    ) -> Result<(Issuer<'_, &KeyPair>, &str), PkiError> {
        if !self.loaded.contains_key(which) {
            let spec = CATALOG
                .iter()
                .find(|s| s.name == which)
                .ok_or_else(|| PkiError::Generate { name: which.into(), cause: GenerateError::NotInCatalog })?;
            let entry = manifest
                .identities
                .get(which)
                .ok_or_else(|| PkiError::Generate { name: which.into(), cause: GenerateError::IssuerMissing })?;
            let key_path = dir.join(&entry.key);
            let key_pem = crate::files::read_to_string(&key_path, crate::files::MAX_PEM_BYTES)
                .map_err(|source| PkiError::Io { path: key_path.clone(), source })?;
            let key =
                KeyPair::from_pem(&key_pem).map_err(|e| PkiError::Pem { path: key_path, message: e.to_string() })?;
            let cert_path = dir.join(&entry.cert);
            let cert_pem = crate::files::read_to_string(&cert_path, crate::files::MAX_PEM_BYTES)
                .map_err(|source| PkiError::Io { path: cert_path, source })?;
            self.loaded.insert(which, (ca_params(spec, OffsetDateTime::now_utc())?, key, cert_pem));
        }
        let (params, key, pem) = &self.loaded[which];
        Ok((Issuer::from_params(params, key), pem.as_str()))
    }
}

fn generate_one(
    dir: &Path,
    manifest: &mut Manifest,
    spec: &'static Spec,
    issuers: &mut Issuers,
    now: OffsetDateTime,
    key: Option<KeyPair>,
) -> Result<(), PkiError> {
    let fail = |cause: GenerateError| PkiError::Generate { name: spec.name.into(), cause };
    let rcgen = |e: rcgen::Error| fail(GenerateError::Rcgen(e));
    let tpp =
        spec.tpp.map(|t| manifest.tpps.get(t).cloned().ok_or(PkiError::UnknownTpp { name: t.into() })).transpose()?;
    let params = match spec.kind {
        Root | Issuing | UntrustedRoot => ca_params(spec, now)?,
        Server | Qwac | Qseal => leaf_params(spec, tpp.as_ref(), now)?,
    };
    let (cert_pem, key_pem, ca_material) = if spec.variant == Rsa1024 {
        let (key_pem, public) = keys::generate_weak_rsa_1024().map_err(|e| fail(GenerateError::WeakKey(e)))?;
        let (issuer, chain) = issuers.get(dir, manifest, issuer_name(spec.issued_by))?;
        let cert = params.signed_by(&WeakRsaPublicKey(public), &issuer).map_err(rcgen)?;
        (format!("{}{chain}", cert.pem()), key_pem, None)
    } else {
        let key = match key {
            Some(key) => key,
            None => new_key(spec, manifest.key_type).map_err(rcgen)?,
        };
        let cert_pem = if spec.issued_by == Itself {
            params.self_signed(&key).map_err(rcgen)?.pem()
        } else {
            let (issuer, chain) = issuers.get(dir, manifest, issuer_name(spec.issued_by))?;
            let cert = params.signed_by(&key, &issuer).map_err(rcgen)?;
            // A leaf's file carries its issuing CA so that a TLS client presents the whole chain.
            if matches!(spec.kind, Issuing) {
                cert.pem()
            } else {
                format!("{}{chain}", cert.pem())
            }
        };
        let key_pem = key.serialize_pem();
        let ca = matches!(spec.kind, Root | Issuing | UntrustedRoot).then(|| (params.clone(), key, cert_pem.clone()));
        (cert_pem, key_pem, ca)
    };
    let cert_file = format!("{}.pem", spec.name);
    let key_file = format!("{}.key", spec.name);
    write_file(&dir.join(&cert_file), cert_pem.as_bytes(), false)?;
    write_file(&dir.join(&key_file), key_pem.as_bytes(), true)?;
    if let Some(material) = ca_material {
        issuers.loaded.insert(spec.name, material);
    }
    manifest.identities.insert(
        spec.name.to_string(),
        IdentityEntry {
            cert: cert_file.into(),
            key: key_file.into(),
            chain: vec![],
            tpp: spec.tpp.map(str::to_string),
            description: spec.description.to_string(),
            external: false,
        },
    );
    Ok(())
}

/// The issuing CA as rcgen signs with it (a CRL): its parameters and key, from its files.
pub(super) fn issuing_ca(dir: &Path, manifest: &Manifest) -> Result<(CertificateParams, KeyPair), IssuingCaError> {
    let spec = CATALOG.iter().find(|s| s.kind == Issuing).ok_or(IssuingCaError::NotInCatalog)?;
    let entry = manifest.identities.get(spec.name).ok_or(IssuingCaError::NotInManifest)?;
    let key_pem = crate::files::read_to_string(&dir.join(&entry.key), crate::files::MAX_PEM_BYTES)
        .map_err(IssuingCaError::ReadKey)?;
    let key = KeyPair::from_pem(&key_pem).map_err(IssuingCaError::Key)?;
    let params = ca_params(spec, OffsetDateTime::now_utc()).map_err(|e| IssuingCaError::Params(Box::new(e)))?;
    Ok((params, key))
}

fn issuer_name(issued_by: IssuedBy) -> &'static str {
    match issued_by {
        ByRoot | Itself => "root-ca",
        ByQtsp => "issuing-ca",
        ByUntrusted => "untrusted-root",
    }
}

/// The keys of `specs` (but the weak RSA-1024 one, which is made apart), made on every core.
fn new_keys(specs: &[&'static Spec], key_type: KeyType) -> Result<BTreeMap<&'static str, KeyPair>, PkiError> {
    let wanted: Vec<&'static Spec> = specs.iter().copied().filter(|s| s.variant != Rsa1024).collect();
    let workers = std::thread::available_parallelism().map_or(1, usize::from).clamp(1, wanted.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let made = std::sync::Mutex::new(Vec::with_capacity(wanted.len()));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(spec) = wanted.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                    let key = new_key(spec, key_type);
                    made.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((spec.name, key));
                }
            });
        }
    });
    made.into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .map(|(name, key)| {
            key.map(|key| (name, key))
                .map_err(|e| PkiError::Generate { name: name.into(), cause: GenerateError::Rcgen(e) })
        })
        .collect()
}

fn new_key(spec: &Spec, key_type: KeyType) -> Result<KeyPair, rcgen::Error> {
    use rcgen::{RsaKeySize, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256};
    let key_type = match spec.kind {
        Qwac | Qseal => key_type,
        Root | Issuing | UntrustedRoot | Server => KeyType::Rsa2048,
    };
    match key_type {
        KeyType::Rsa2048 => KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048),
        KeyType::Rsa3072 => KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_3072),
        KeyType::Rsa4096 => KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_4096),
        KeyType::EcdsaP256 => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256),
    }
}

/// The public half of the RSA-1024 key, which rcgen cannot generate but can certify.
struct WeakRsaPublicKey(Vec<u8>);

impl PublicKeyData for WeakRsaPublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| PkiError::Generate { name: "serial".into(), cause: GenerateError::NoRandomness })?;
    // Positive and of full length, so that its hex form has no leading zero to argue about.
    bytes[0] = (bytes[0] & 0x7f) | 0x10;
    Ok(SerialNumber::from_slice(&bytes))
}

fn ca_params(spec: &Spec, now: OffsetDateTime) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::default();
    let (org, cn) = match spec.kind {
        UntrustedRoot => ("Untrusted Test Root", "Self-made Root CA"),
        Issuing => ("Test QTSP", "Test QTSP Issuing CA"),
        _ => ("Test QTSP", "Test QTSP Root CA"),
    };
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CountryName, "GB");
    params.distinguished_name.push(DnType::OrganizationName, org);
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    // Wide enough to cover the expired and not-yet-valid leaves, so that a verifier can judge
    // a leaf's chain apart from its validity period (each is its own rule).
    params.not_before = now - Duration::days(3650);
    params.not_after = now + Duration::days(3650);
    params.serial_number = Some(random_serial()?);
    params.use_authority_key_identifier_extension = spec.kind == Issuing;
    Ok(params)
}

fn leaf_params(spec: &Spec, tpp: Option<&TppEntry>, now: OffsetDateTime) -> Result<CertificateParams, PkiError> {
    let fail = |cause: GenerateError| PkiError::Generate { name: spec.name.into(), cause };
    let rcgen = |e: rcgen::Error| fail(GenerateError::Rcgen(e));
    let mut params = CertificateParams::default();
    params.serial_number = Some(random_serial()?);
    params.use_authority_key_identifier_extension = true;
    (params.not_before, params.not_after) = match spec.validity {
        Current => (now - Duration::hours(1), now + Duration::days(365)),
        Expired => (now - Duration::days(400), now - Duration::days(2)),
        NotYetValid => (now + Duration::days(30), now + Duration::days(400)),
    };
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CountryName, "GB");
    if spec.kind == Server {
        params.distinguished_name.push(DnType::OrganizationName, "dcr-harness reference server");
        params.distinguished_name.push(DnType::CommonName, "localhost");
        params.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().map_err(rcgen)?),
            SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()),
            SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        return Ok(params);
    }
    let tpp = tpp.ok_or_else(|| fail(GenerateError::NoTpp))?;
    let (org_id, org_name) = if spec.variant == OtherOrg {
        (OTHER_ORG_ID, OTHER_ORG_NAME)
    } else {
        (tpp.organization_identifier.as_str(), tpp.organization_name.as_str())
    };
    params.distinguished_name.push(DnType::OrganizationName, org_name);
    params.distinguished_name.push(DnType::CustomDnType(vec![2, 5, 4, 97]), DnValue::Utf8String(org_id.to_string()));
    let suffix = if spec.kind == Qwac { "QWAC" } else { "QSEAL" };
    params.distinguished_name.push(DnType::CommonName, format!("{org_name} {suffix}"));
    let roles = if spec.variant == WrongRole { vec![PspRole::Ic] } else { tpp.roles.clone() };
    let psd2 = (spec.variant != NoPsd2).then(|| Psd2Statement {
        roles,
        nca_name: tpp.nca_name.clone(),
        nca_id: tpp.nca_id.clone(),
    });
    let qc_type = if spec.kind == Qwac {
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth, ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        let host = format!("{}.tpp.example", org_id.to_ascii_lowercase());
        // A name of each kind RFC 8705 §2.1.2 lets a client register: DNS, URI, IP, email. The
        // IP is in TEST-NET-1 (RFC 5737), one per organisation.
        let ip = std::net::Ipv4Addr::new(192, 0, 2, tpp_octet(org_id));
        params.subject_alt_names = vec![
            SanType::DnsName(host.clone().try_into().map_err(rcgen)?),
            SanType::URI(format!("https://{host}/tpp").try_into().map_err(rcgen)?),
            SanType::IpAddress(ip.into()),
            SanType::Rfc822Name(format!("ops@{host}").try_into().map_err(rcgen)?),
        ];
        QcType::Web
    } else {
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
        QcType::Eseal
    };
    let qc = QcStatements { compliance: true, qc_types: vec![qc_type], psd2, other: vec![] };
    let der = qc.to_der().map_err(|e| fail(GenerateError::QcStatements(e)))?;
    params.custom_extensions.push(CustomExtension::from_oid_content(qcstatements::QC_STATEMENTS_EXTENSION, der));
    if spec.issued_by == ByQtsp {
        // Where the QTSP publishes the status of what it issued (RFC 5280 §4.2.2.1, §4.2.1.13).
        let ocsp = if spec.variant == ResponderDown { revocation::OCSP_DOWN_URL } else { revocation::OCSP_URL };
        let aia = revocation::aia_extension(ocsp).map_err(|e| fail(GenerateError::Aia(e)))?;
        params.custom_extensions.push(CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], aia));
        if spec.variant != ResponderDown {
            params.crl_distribution_points =
                vec![rcgen::CrlDistributionPoint { uris: vec![revocation::CRL_URL.to_string()] }];
        }
    }
    Ok(params)
}

/// The last octet of an organisation's TEST-NET-1 address: from its identifier, 1 to 254.
fn tpp_octet(org_id: &str) -> u8 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(org_id.as_bytes());
    1 + digest[0] % 254
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_identity_names_a_good_twin_of_the_same_kind_and_tpp() {
        for bad in CATALOG.iter().filter(|s| s.validity != Current || s.variant != Normal || s.issued_by == ByUntrusted)
        {
            let twin = CATALOG.iter().find(|g| {
                g.kind == bad.kind
                    && g.tpp == bad.tpp
                    && g.validity == Current
                    && g.variant == Normal
                    && g.issued_by == ByQtsp
            });
            assert!(twin.is_some(), "{} has no good twin", bad.name);
        }
    }

    #[test]
    fn catalog_names_are_unique_and_issuers_come_first() {
        let mut seen = std::collections::BTreeSet::new();
        for spec in CATALOG {
            if spec.issued_by != Itself {
                assert!(seen.contains(issuer_name(spec.issued_by)), "{} before its issuer", spec.name);
            }
            assert!(seen.insert(spec.name), "duplicate {}", spec.name);
        }
    }
}
