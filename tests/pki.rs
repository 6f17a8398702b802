//! The generated test PKI: chains validate with rustls' webpki client verifier, each bad
//! certificate differs from its good twin in the one way it claims, regeneration keeps what is
//! still good, and users' own certificates load (or are refused with a clear error).

use std::time::SystemTime;

use dcr_harness::pki::{inspect::KeyDescription, Identity, Pki, PkiError, PkiOptions, PspRole, QcType};
use dcr_harness::testing::{test_pki, test_pki_dir};
use rustls::pki_types::UnixTime;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;

fn client_verifier(pki: &Pki) -> std::sync::Arc<dyn ClientCertVerifier> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut roots = RootCertStore::empty();
    roots.add(pki.trust_anchor.clone()).expect("root");
    WebPkiClientVerifier::builder(roots.into()).build().expect("verifier")
}

fn verify_client(pki: &Pki, name: &str) -> Result<(), rustls::Error> {
    let identity = pki.identity(name).expect("identity");
    client_verifier(pki).verify_client_cert(identity.leaf(), &identity.chain[1..], UnixTime::now()).map(|_| ())
}

#[test]
fn good_qwacs_chain_to_the_test_qtsp_for_client_auth() {
    let pki = test_pki();
    for name in ["qwac", "qwac-b", "qwac-no-psd2", "qwac-wrong-role"] {
        verify_client(pki, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn webpki_refuses_the_expired_the_not_yet_valid_and_the_untrusted() {
    let pki = test_pki();
    for (name, expected) in
        [("qwac-expired", "Expired"), ("qwac-not-yet-valid", "NotValidYet"), ("qwac-untrusted", "UnknownIssuer")]
    {
        let err = verify_client(pki, name).expect_err(name);
        assert!(format!("{err:?}").contains(expected), "{name}: {err:?}");
    }
}

#[test]
fn each_certificate_carries_what_it_claims() {
    let pki = test_pki();
    let info = |name: &str| pki.identity(name).expect(name).info.clone();
    let now = SystemTime::now();

    let qwac = info("qwac");
    assert_eq!(qwac.organization_identifier.as_deref(), Some("PSDGB-FCA-123456"));
    assert!(qwac.client_auth && qwac.server_auth);
    let qc = qwac.qc_statements().expect("qwac qcStatements");
    assert!(qc.compliance);
    assert_eq!(qc.qc_types, vec![QcType::Web]);
    let psd2 = qc.psd2.as_ref().expect("psd2");
    assert_eq!(psd2.roles, vec![PspRole::Pi, PspRole::Ai]);
    assert_eq!((psd2.nca_name.as_str(), psd2.nca_id.as_str()), ("Financial Conduct Authority", "GB-FCA"));
    assert_eq!(qwac.key, KeyDescription::Rsa { bits: 2048 });

    let qseal = info("qseal");
    assert!(!qseal.client_auth, "a QSEAL is no QWAC");
    assert!(qseal.digital_signature && qseal.non_repudiation);
    assert_eq!(qseal.qc_statements().expect("qc").qc_types, vec![QcType::Eseal]);
    assert_eq!(qseal.organization_identifier, qwac.organization_identifier);

    assert_eq!(info("qwac-b").organization_identifier.as_deref(), Some("PSDGB-FCA-654321"));
    assert!(info("qwac-no-psd2").qc_statements().expect("qc").psd2.is_none());
    let wrong = info("qwac-wrong-role");
    assert_eq!(wrong.qc_statements().and_then(|q| q.psd2.as_ref()).expect("psd2").roles, vec![PspRole::Ic]);
    assert_eq!(info("qseal-other-org").organization_identifier.as_deref(), Some("PSDGB-FCA-999999"));
    assert_eq!(info("qseal-rsa1024").key, KeyDescription::Rsa { bits: 1024 });
    assert!(info("qwac-expired").not_after < now && info("qseal-expired").not_after < now);
    assert!(info("qwac-not-yet-valid").not_before > now);
    assert!(info("qwac-untrusted").issuer.contains("Self-made Root CA"));
    let server = info("server");
    assert!(server.server_auth && !server.client_auth);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

#[test]
fn ensure_regenerates_only_what_is_missing_and_keeps_credentials() {
    test_pki();
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&test_pki_dir(), dir.path());
    let before = Pki::load(dir.path()).expect("load copy");
    std::fs::remove_file(dir.path().join("qwac.pem")).expect("rm");
    let after = Pki::ensure(dir.path(), &PkiOptions::default()).expect("ensure");
    let serial = |pki: &Pki, name: &str| pki.identity(name).expect(name).info.serial_hex();
    assert_ne!(serial(&before, "qwac"), serial(&after, "qwac"), "qwac regenerated");
    assert_eq!(serial(&before, "qseal"), serial(&after, "qseal"), "qseal kept");
    assert_eq!(before.manifest.tpps, after.manifest.tpps, "DCR credentials kept");
    assert!(after.identity("qwac").expect("qwac").info.is_valid_at(SystemTime::now()));
}

#[test]
fn a_users_own_certificate_loads_and_a_mismatched_key_is_refused() {
    let kat = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kat");
    let identity =
        Identity::load("mine", &kat.join("qseal-kat.pem"), &kat.join("qseal-kat.key")).expect("own identity");
    assert_eq!(identity.info.serial_hex(), "1234ABCD");
    let other_key = test_pki().identity("qseal").expect("qseal").key_path.clone();
    let err = Identity::load("mine", &kat.join("qseal-kat.pem"), &other_key).expect_err("mismatch");
    assert!(matches!(err, PkiError::KeyMismatch { .. }), "{err}");
}

#[test]
fn an_external_manifest_entry_is_never_regenerated() {
    test_pki();
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&test_pki_dir(), dir.path());
    let kat = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kat");
    let manifest_path = dir.path().join("manifest.yaml");
    let mut text = std::fs::read_to_string(&manifest_path).expect("manifest");
    text = text.replace(
        "identities:\n",
        &format!(
            "identities:\n  bank-sandbox-qseal:\n    cert: {}\n    key: {}\n    external: true\n",
            kat.join("qseal-kat.pem").display(),
            kat.join("qseal-kat.key").display()
        ),
    );
    std::fs::write(&manifest_path, text).expect("write manifest");
    let pki = Pki::ensure(dir.path(), &PkiOptions::default()).expect("ensure");
    assert_eq!(pki.identity("bank-sandbox-qseal").expect("external").info.serial_hex(), "1234ABCD");
    let reread = std::fs::read_to_string(&manifest_path).expect("manifest");
    assert!(reread.contains("bank-sandbox-qseal"));
}

#[test]
fn a_broken_manifest_names_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("manifest.yaml"),
        "version: 1\ntrust_anchor: root-ca.pem\nidentities:\n  qwac: [oops\n",
    )
    .expect("write");
    let err = Pki::load(dir.path()).expect_err("broken");
    let text = err.to_string();
    assert!(text.contains("manifest.yaml:4:9: identities.qwac: invalid type"), "{text}");
}

/// A copy of the shared test PKI, with one identity of the user's own (`mine`, external).
fn pki_copy_with_external() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(test_pki_dir()).expect("dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
    }
    std::fs::copy(test_pki_dir().join("qwac.pem"), dir.path().join("mine.pem")).expect("copy");
    std::fs::copy(test_pki_dir().join("qwac.key"), dir.path().join("mine.key")).expect("copy");
    let manifest = dir.path().join("manifest.yaml");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let text = text.replace(
        "identities:\n",
        "identities:\n  mine:\n    cert: mine.pem\n    key: mine.key\n    description: the user's own\n    external: true\n",
    );
    std::fs::write(&manifest, text).expect("write");
    dir
}

#[test]
fn pki_init_force_rebuilds_a_pki_broken_in_any_way_keeping_what_is_not_generated() {
    let original = test_pki().tpp("tpp-a").expect("tpp-a").clone();
    fn write(path: &std::path::Path, text: &str) {
        std::fs::write(path, text).expect("write")
    }
    fn edit_manifest(dir: &std::path::Path, from: &str, to: &str) {
        let path = dir.join("manifest.yaml");
        let text = std::fs::read_to_string(&path).expect("manifest");
        assert!(text.contains(from), "{from} not in the manifest");
        write(&path, &text.replacen(from, to, 1));
    }
    type Break = Box<dyn Fn(&std::path::Path)>;
    // What breaks, and whether the DCR credentials can still be read from the manifest.
    let cases: Vec<(&str, Break, bool)> = vec![
        ("manifest not YAML", Box::new(|d| write(&d.join("manifest.yaml"), "{{{ not yaml")), false),
        ("manifest missing", Box::new(|d| std::fs::remove_file(d.join("manifest.yaml")).expect("rm")), false),
        ("manifest of another version", Box::new(|d| edit_manifest(d, "version: 1", "version: 99")), true),
        ("a key corrupt", Box::new(|d| write(&d.join("qseal.key"), "-----BEGIN PRIVATE KEY-----\nnot base64\n")), true),
        ("a certificate corrupt", Box::new(|d| write(&d.join("qwac.pem"), "garbage")), true),
        (
            "a key of another certificate",
            Box::new(|d| {
                std::fs::copy(d.join("qwac-b.key"), d.join("qwac.key")).expect("copy");
            }),
            true,
        ),
        ("the issuing CA's key corrupt", Box::new(|d| write(&d.join("issuing-ca.key"), "")), true),
        ("a file missing", Box::new(|d| std::fs::remove_file(d.join("qseal-b.pem")).expect("rm")), true),
        ("another TPP's entry broken", Box::new(|d| edit_manifest(d, "  tpp-b:\n", "  tpp-b: 7\n  tpp-z:\n")), true),
    ];
    let options = PkiOptions { key_type: dcr_harness::pki::KeyType::EcdsaP256, ..PkiOptions::default() };
    for (what, break_it, credentials_readable) in cases {
        let dir = pki_copy_with_external();
        break_it(dir.path());
        let rebuilt = Pki::rebuild(dir.path(), &options).unwrap_or_else(|e| panic!("{what}: {e}"));
        for name in ["qwac", "qseal", "qwac-b", "qseal-b", "issuing-ca"] {
            assert!(rebuilt.has_identity(name), "{what}: {name} missing after the rebuild");
        }
        // What an unreadable manifest named is lost with it; a readable one keeps it.
        assert_eq!(rebuilt.has_identity("mine"), credentials_readable, "{what}: the external identity");
        verify_client(&rebuilt, "qwac").unwrap_or_else(|e| panic!("{what}: the new QWAC does not chain: {e}"));
        let tpp = rebuilt.tpp("tpp-a").expect("tpp-a");
        assert_eq!(
            (tpp.dcr_client_id == original.dcr_client_id, tpp.dcr_client_secret == original.dcr_client_secret),
            (credentials_readable, credentials_readable),
            "{what}: DCR credentials kept where readable"
        );
        if credentials_readable {
            let mine = rebuilt.identity("mine").expect("mine");
            assert_eq!(mine.leaf(), test_pki().identity("qwac").expect("qwac").leaf(), "{what}: external untouched");
        }
        assert!(Pki::load(dir.path()).is_ok(), "{what}: loads after the rebuild");
    }
}

#[test]
fn a_broken_generated_file_names_the_repair() {
    let dir = pki_copy_with_external();
    std::fs::write(dir.path().join("qseal.key"), "-----BEGIN PRIVATE KEY-----\nnot base64\n").expect("write");
    let err = Pki::load(dir.path()).expect_err("broken").to_string();
    assert!(err.contains("qseal.key") && err.contains("pki init --force --dir"), "{err}");
    std::fs::write(dir.path().join("mine.key"), "garbage").expect("write");
    std::fs::copy(test_pki_dir().join("qseal.key"), dir.path().join("qseal.key")).expect("copy");
    let err = Pki::load(dir.path()).expect_err("broken").to_string();
    assert!(err.contains("mine.key") && !err.contains("--force"), "the user's own file is theirs to fix: {err}");
}
