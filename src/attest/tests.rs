use super::*;
use crate::testing::test_pki;

fn run() -> RunResult {
    RunResult {
        target: "https://127.0.0.1:8443".into(),
        profile: "reference".into(),
        started_at: "2026-12-07T08:00:00Z".into(),
        ..RunResult::default()
    }
}

fn evidence() -> Evidence {
    Evidence {
        tls_certificate_sha256: Some("aa".repeat(32)),
        metadata: Some(("https://127.0.0.1:8443/.well-known/oauth-authorization-server".into(), "bb".repeat(32))),
        catalogue_sha256: "cc".repeat(32),
        profile_sha256: "dd".repeat(32),
    }
}

/// An envelope signed by `identity` of the test PKI.
fn signed_by(identity: &str) -> Envelope {
    let id = test_pki().identity(identity).expect("identity");
    sign(&statement(&run(), &evidence()), id.key(), &id.chain).expect("signed")
}

fn root(name: &str) -> Vec<CertificateDer<'static>> {
    test_pki();
    crate::pki::read_certs(&crate::testing::test_pki_dir().join(format!("{name}.pem"))).expect("root")
}

#[test]
fn pae_is_dsses_test_vector() {
    assert_eq!(
        pae("http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
    assert_eq!(pae("t", "é".as_bytes()), "DSSEv1 1 t 2 é".as_bytes(), "lengths count bytes");
}

#[test]
fn a_signed_run_verifies_against_its_root_and_says_what_it_binds() {
    let envelope = signed_by("qseal");
    let verified = verify(&envelope, Some(&root("root-ca")), SystemTime::now()).expect("verifies");
    assert!(verified.anchored);
    let subjects: Vec<&str> = verified.statement.subject.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(subjects, ["https://127.0.0.1:8443", "https://127.0.0.1:8443/.well-known/oauth-authorization-server"]);
    assert_eq!(verified.statement.predicate.catalogue.sha256, "cc".repeat(32));
    assert!(verified.signer.contains("CN="), "{}", verified.signer);
}

#[test]
fn a_changed_byte_another_key_an_expired_or_untrusted_signer_are_each_refused() {
    let now = SystemTime::now();
    let roots = root("root-ca");
    // One byte of the payload changed (its base64 decodes to other bytes).
    let mut tampered = signed_by("qseal");
    let mut bytes = B64.decode(&tampered.payload).expect("b64");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    tampered.payload = B64.encode(&bytes);
    assert_eq!(verify(&tampered, Some(&roots), now).err(), Some(Refusal::BadSignature));
    // Signed by one key, another's certificate beside it.
    let mut swapped = signed_by("qseal");
    swapped.chain = signed_by("qseal-b").chain;
    assert_eq!(verify(&swapped, Some(&roots), now).err(), Some(Refusal::BadSignature));
    // A signer whose certificate expired.
    assert!(
        matches!(verify(&signed_by("qseal-expired"), Some(&roots), now), Err(Refusal::Expired { .. })),
        "an expired signer is refused as expired"
    );
    // A signer of another root.
    assert!(matches!(verify(&signed_by("qseal-untrusted"), Some(&roots), now), Err(Refusal::Untrusted(_))));
    // The payload type is part of what is signed.
    let mut retyped = signed_by("qseal");
    retyped.payload_type = "application/json".into();
    assert!(matches!(verify(&retyped, Some(&roots), now), Err(Refusal::PayloadType(_))));
    // Without a root the signature still holds, and the result says it is not anchored.
    assert!(!verify(&signed_by("qseal"), None, now).expect("signature holds").anchored);
}

#[test]
fn base64_in_any_form_dsse_allows_is_read() {
    let mut envelope = signed_by("qseal");
    let bytes = B64.decode(&envelope.payload).expect("b64");
    envelope.payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    assert!(verify(&envelope, Some(&root("root-ca")), SystemTime::now()).is_ok());
}
