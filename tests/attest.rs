//! Signed attestations end to end: a run against the embedded server writes one, `attest
//! verify` checks it offline against the test PKI's root, and so do securesystemslib (DSSE),
//! in-toto-attestation (Statement v1) and openssl (the chain); one changed byte, another key
//! and an expired certificate are each refused, by both sides, with the reason.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dcr_harness::testing::{test_pki, test_pki_dir};

fn harness(args: &[&str]) -> Output {
    test_pki();
    dcr_harness::testing::binary(env!("CARGO_BIN_EXE_dcr-harness")).args(args).output().expect("run dcr-harness")
}

fn pki(file: &str) -> String {
    test_pki_dir().join(file).display().to_string()
}

/// A run of two scenarios against the embedded server, attested by `key` (the profile's QSEAL
/// when none) into `dir/name`.
fn attested(dir: &Path, name: &str, key: Option<&str>) -> PathBuf {
    let out = dir.join(name);
    let (pki_dir, file) = (test_pki_dir().display().to_string(), out.display().to_string());
    let mut args =
        vec!["run", "--pki", &pki_dir, "--scenario", "digest-wrong", "--scenario", "digest-sha1", "--attest", &file];
    let (key_file, cert_file) = key.map(|k| (pki(&format!("{k}.key")), pki(&format!("{k}.pem")))).unzip();
    if let (Some(key), Some(cert)) = (&key_file, &cert_file) {
        args.extend(["--attest-key", key, "--attest-cert", cert]);
    }
    let run = harness(&args);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    out
}

fn verify(file: &Path) -> Output {
    harness(&["attest", "verify", &file.display().to_string(), "--ca", &pki("root-ca.pem")])
}

/// securesystemslib and in-toto-attestation on the envelope; openssl on its chain.
fn independent(file: &Path) -> (Output, Output) {
    let dir = file.parent().expect("dir");
    let (leaf, intermediates) = (dir.join("leaf.pem"), dir.join("intermediates.pem"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/attest_verify.py");
    let python = Command::new(common::python::python())
        .arg(script)
        .args([file, &leaf, &intermediates])
        .output()
        .expect("python");
    let openssl = Command::new("openssl")
        .args(["verify", "-x509_strict", "-CAfile", &pki("root-ca.pem"), "-untrusted"])
        .args([&intermediates, &leaf])
        .output()
        .expect("openssl is installed");
    (python, openssl)
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn an_attested_run_verifies_here_and_in_independent_verifiers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = attested(dir.path(), "run.dsse.json", None);
    let ours = verify(&file);
    assert_eq!(ours.status.code(), Some(0), "{}", text(&ours));
    let said = text(&ours);
    for words in [
        "VERIFIED: signed by CN=Test TPP A Ltd QSEAL",
        "/.well-known/oauth-authorization-server sha256:",
        "catalogue sha256:",
        "2 scenarios: 2 pass",
    ] {
        assert!(said.contains(words), "{words} in {said}");
    }
    let (python, openssl) = independent(&file);
    assert!(python.status.success(), "securesystemslib and in-toto-attestation: {}", text(&python));
    assert!(
        text(&python).contains("https://github.com/dcr-harness/dcr-harness/attestation/run/v1"),
        "{}",
        text(&python)
    );
    assert!(openssl.status.success(), "openssl: {}", text(&openssl));
    // Without a root, nothing says who signed: not verified.
    let unanchored = harness(&["attest", "verify", &file.display().to_string()]);
    assert_eq!(unanchored.status.code(), Some(1), "{}", text(&unanchored));
    assert!(text(&unanchored).contains("--ca"), "{}", text(&unanchored));
}

/// The envelope of `file`, changed by `change`, written beside it as `name`.
fn changed(file: &Path, name: &str, change: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut envelope: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("read")).expect("json");
    change(&mut envelope);
    let out = file.with_file_name(name);
    std::fs::write(&out, envelope.to_string()).expect("write");
    out
}

#[test]
fn a_changed_byte_another_key_and_an_expired_certificate_are_each_refused_with_the_reason() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let dir = tempfile::tempdir().expect("tempdir");
    let good = attested(dir.path(), "good.json", None);
    let tampered = changed(&good, "tampered.json", |e| {
        let mut payload = b64.decode(e["payload"].as_str().expect("payload")).expect("b64");
        let middle = payload.len() / 2;
        payload[middle] ^= 0x01;
        e["payload"] = b64.encode(payload).into();
    });
    let other = attested(dir.path(), "other.json", Some("qseal-b"));
    let swapped = changed(&good, "swapped.json", |e| {
        let other: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&other).expect("read")).expect("json");
        e["x509CertificateChain"] = other["x509CertificateChain"].clone();
    });
    let expired = attested(dir.path(), "expired.json", Some("qseal-expired"));
    let cases = [
        (&tampered, "no signature verifies", true),
        (&swapped, "no signature verifies", true),
        (&expired, "expired at", false),
    ];
    for (file, reason, signature_broken) in cases {
        let ours = verify(file);
        assert_eq!(ours.status.code(), Some(1), "{}: {}", file.display(), text(&ours));
        assert!(text(&ours).contains("REFUSED") && text(&ours).contains(reason), "{}: {}", file.display(), text(&ours));
        let (python, openssl) = independent(file);
        // The signature of an expired signer still holds: only the chain's check refuses it.
        assert_eq!(
            !python.status.success(),
            signature_broken,
            "securesystemslib on {}: {}",
            file.display(),
            text(&python)
        );
        if !signature_broken {
            assert!(text(&openssl).contains("expired"), "openssl on {}: {}", file.display(), text(&openssl));
        }
    }
}

#[test]
fn a_file_that_is_no_envelope_is_bad_input_with_its_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("broken.json");
    std::fs::write(&file, "{\n  \"payload\": 1\n}").expect("write");
    let out = verify(&file);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("broken.json:2:"), "{}", text(&out));
}
