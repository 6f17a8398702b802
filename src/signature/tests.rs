//! Tests of the signer and verifier together: a known answer computed with openssl, round trips
//! for every key type and dialect, and every mutation rejected for the rule it breaks.

use std::path::Path;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::*;
use crate::pki::{Identity, KeyType};
use crate::testing::{self_signed_identity, test_pki};

fn kat_identity() -> Identity {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kat");
    Identity::load("qseal-kat", &dir.join("qseal-kat.pem"), &dir.join("qseal-kat.key")).expect("KAT identity")
}

fn kat_date() -> SystemTime {
    httpdate::parse_http_date("Tue, 24 Nov 2026 19:11:14 GMT").expect("date")
}

/// The expected values were computed independently of this code, with openssl:
///
/// ```text
/// cd fixtures/kat
/// D=$(openssl dgst -sha256 -binary body.json | base64 -w0)
/// printf '(request-target): post /client/v1/register\ndate: Tue, 24 Nov 2026 19:11:14 GMT\ndigest: SHA-256=%s' "$D" > signing-string.txt
/// openssl dgst -sha256 -sign qseal-kat.key signing-string.txt | base64 -w0 > signature.b64
/// openssl x509 -in qseal-kat.pem -noout -serial -issuer   # 1234ABCD, C=GB, O=KAT TPP Ltd, CN=KAT QSEAL
/// ```
#[test]
fn known_answer_for_the_whole_header_set() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kat");
    let body = std::fs::read(dir.join("body.json")).expect("body");
    let identity = kat_identity();
    let mut msg = Message::new("POST", "/client/v1/register", body);
    let signed = sign(&identity, &Dialect::default(), &mut msg, kat_date()).expect("signs");

    let expected_string = std::fs::read_to_string(dir.join("signing-string.txt")).expect("string");
    assert_eq!(signed.signing_string, expected_string);
    assert_eq!(msg.header("Date"), Some("Tue, 24 Nov 2026 19:11:14 GMT"));
    assert_eq!(msg.header("Digest"), Some("SHA-256=3ZAjGu9zgW+WQ03cuYiWS8fXaF8ODXWPrVptwxZeZlQ="));
    let expected_signature = std::fs::read_to_string(dir.join("signature.b64")).expect("signature");
    assert_eq!(
        msg.header("Signature"),
        Some(
            format!(
                "keyId=\"SN=1234ABCD,CA=CN=KAT QSEAL,O=KAT TPP Ltd,C=GB\",algorithm=\"rsa-sha256\",headers=\"(request-target) date digest\",signature=\"{}\"",
                expected_signature.trim()
            )
            .as_str()
        )
    );
    let cert_pem = std::fs::read(dir.join("qseal-kat.pem")).expect("pem");
    let cert_der = rustls_pki_types::CertificateDer::from_pem_slice(&cert_pem).expect("der");
    assert_eq!(msg.header("TPP-Signature-Certificate"), Some(B64.encode(&cert_der).as_str()));
    verify(&msg, &VerifyPolicy::default(), kat_date()).expect("the verifier accepts the known answer");
}

use rustls_pki_types::pem::PemObject;

#[test]
fn empty_body_digest_is_the_sha256_of_nothing() {
    assert_eq!(digest_value(DigestEncoding::Base64, b""), "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    assert_eq!(
        digest_value(DigestEncoding::Hex, b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        digest_value(DigestEncoding::PrefixedHex, b""),
        "SHA-256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

fn round_trip(identity: &Identity, dialect: &Dialect) {
    let now = SystemTime::now();
    let mut msg = Message::new("PUT", "/client/v1/register/abc?x=1", br#"{"a":1}"#.to_vec());
    msg.add_header("X-Request-ID", "99391c7e-ad88-49ec-a2ad-99ddcb1f7721");
    sign(identity, dialect, &mut msg, now).expect("signs");
    let policy = VerifyPolicy::of(dialect.clone());
    verify(&msg, &policy, now).unwrap_or_else(|e| panic!("{} with {dialect:?}: {e}", identity.name));
}

#[test]
fn round_trip_for_every_key_type() {
    for key_type in [KeyType::Rsa2048, KeyType::Rsa3072, KeyType::Rsa4096, KeyType::EcdsaP256] {
        let identity = self_signed_identity(key_type);
        round_trip(&identity, &Dialect::default());
        round_trip(&identity, &Dialect { algorithm: AlgorithmLabel::Hs2019, ..Dialect::default() });
    }
}

#[test]
fn round_trip_for_every_dialect_setting() {
    let identity = test_pki().identity("qseal").expect("qseal");
    let dialects = [
        Dialect { method_case: MethodCase::Upper, ..Dialect::default() },
        Dialect { digest: DigestEncoding::Hex, ..Dialect::default() },
        Dialect { digest: DigestEncoding::PrefixedHex, ..Dialect::default() },
        Dialect {
            headers: vec!["(request-target)".into(), "date".into(), "digest".into(), "x-request-id".into()],
            header_case: HeaderCase::Canonical,
            ..Dialect::default()
        },
        Dialect { key_id: KeyIdStyle::Serial, ..Dialect::default() },
        Dialect { key_id: KeyIdStyle::Fingerprint, ..Dialect::default() },
        Dialect { key_id: KeyIdStyle::Name("tpp-a-seal".into()), ..Dialect::default() },
        Dialect { algorithm: AlgorithmLabel::Hs2019, ..Dialect::default() },
    ];
    for dialect in &dialects {
        round_trip(identity, dialect);
    }
}

#[test]
fn a_dialect_mismatch_between_signer_and_verifier_is_caught() {
    let identity = test_pki().identity("qseal").expect("qseal");
    let now = SystemTime::now();
    let mut msg = Message::new("POST", "/client/v1/register", b"{}".to_vec());
    sign(identity, &Dialect { method_case: MethodCase::Upper, ..Dialect::default() }, &mut msg, now).expect("signs");
    assert_eq!(verify(&msg, &VerifyPolicy::default(), now).map(|_| ()), Err(SignatureError::BadSignature));
}

#[test]
fn verifier_accepts_comma_space_between_parameters() {
    let identity = test_pki().identity("qseal").expect("qseal");
    let now = SystemTime::now();
    let mut msg = Message::new("POST", "/client/v1/register", b"{}".to_vec());
    sign(identity, &Dialect::default(), &mut msg, now).expect("signs");
    let spaced = msg.header("Signature").expect("sig").replace("\",", "\", ");
    msg.set_header("Signature", &spaced);
    verify(&msg, &VerifyPolicy::default(), now).expect("`, ` accepted");
}

#[test]
fn keyid_serial_with_leading_zeros_and_lower_case_still_matches() {
    let identity = test_pki().identity("qseal").expect("qseal");
    let now = SystemTime::now();
    let mut msg = Message::new("POST", "/client/v1/register", b"{}".to_vec());
    let info = &identity.info;
    let mut inputs = SignInputs::correct(identity, &Dialect::default(), &msg, now);
    inputs.key_id =
        format!("SN=00{},CA={}", info.serial_hex().to_lowercase(), info.issuer_rfc4514().replace(',', ", "));
    inputs.apply(&Dialect::default(), &mut msg).expect("signs");
    verify(&msg, &VerifyPolicy::default(), now).expect("serial compared as an integer, CA as a DN");
}

/// Each mutation with a form in `dialect` is refused for the rule the catalog names, and none
/// without one can be made.
pub(super) fn assert_every_mutation_rejected(identity: &str, dialect: &Dialect) {
    let pki = test_pki();
    let identity = pki.identity(identity).expect("identity");
    let ctx = MutationContext { other_identity: Some(pki.identity("qseal-b").expect("qseal-b")), memo: None };
    let now = SystemTime::now();
    let policy = VerifyPolicy::of(dialect.clone());
    for (method, target, body) in [
        ("POST", "/client/v1/register", br#"{"client_name":"x"}"#.to_vec()),
        ("PUT", "/client/v1/register/c1", br#"{"client_id":"c1"}"#.to_vec()),
        ("DELETE", "/client/v1/register/c1", Vec::new()),
    ] {
        for mutation in Mutation::ALL.iter().filter(|m| m.bends_http_signature()) {
            let mut msg = Message::new(method, target, body.clone());
            msg.set_origin("https://bank.example:8443");
            let signed = sign_mutated(identity, dialect, &mut msg, now, Some(*mutation), &ctx);
            let Some(rule) = mutation.rejected_in(dialect) else {
                assert!(signed.is_err(), "{mutation} has no form in {:?} and was made", dialect.scheme);
                continue;
            };
            signed.unwrap_or_else(|e| panic!("{method} {mutation}: {e}"));
            let got = verify(&msg, &policy, now).map(|_| ());
            // An empty body needs no digest coverage in RFC 9421: leaving it out breaks nothing.
            if dialect.scheme == Scheme::Rfc9421 && body.is_empty() && *mutation == Mutation::HeadersWithoutDigest {
                assert_eq!(got, Ok(()), "{method} {mutation}");
                continue;
            }
            assert_eq!(got.as_ref().map_err(SignatureError::rule), Err(rule), "{method} {mutation}: {got:?}");
        }
    }
}

#[test]
fn every_mutation_is_rejected_for_the_rule_it_breaks() {
    assert_every_mutation_rejected("qseal", &Dialect::default());
}

#[test]
fn unmutated_requests_pass_so_the_mutation_test_means_something() {
    let identity = test_pki().identity("qseal").expect("qseal");
    let now = SystemTime::now();
    let mut msg = Message::new("DELETE", "/client/v1/register/c1", Vec::new());
    sign_mutated(identity, &Dialect::default(), &mut msg, now, None, &MutationContext::default()).expect("signs");
    verify(&msg, &VerifyPolicy::default(), now).expect("valid");
    assert_eq!(msg.header("Digest"), Some("SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
}

#[test]
fn skew_is_bounded_both_ways_and_configurable() {
    let identity = test_pki().identity("qseal").expect("qseal");
    let now = SystemTime::now();
    let mut msg = Message::new("POST", "/client/v1/register", b"{}".to_vec());
    sign(identity, &Dialect::default(), &mut msg, now - Duration::from_secs(240)).expect("signs");
    verify(&msg, &VerifyPolicy::default(), now).expect("4 minutes is inside 5");
    let strict = VerifyPolicy { max_skew: Some(Duration::from_secs(60)), ..VerifyPolicy::default() };
    assert_eq!(verify(&msg, &strict, now).map_err(|e| e.rule()).map(|_| ()), Err("date-skew"));
    let unbounded = VerifyPolicy { max_skew: None, ..VerifyPolicy::default() };
    verify(&msg, &unbounded, now + Duration::from_secs(86400)).expect("unbounded");
}

#[test]
fn weak_keys_are_refused_unless_allowed() {
    let identity = test_pki().identity("qseal-rsa1024").expect("weak");
    let now = SystemTime::now();
    let mut msg = Message::new("POST", "/client/v1/register", b"{}".to_vec());
    sign(identity, &Dialect::default(), &mut msg, now).expect("signs");
    assert_eq!(verify(&msg, &VerifyPolicy::default(), now).map_err(|e| e.rule()).map(|_| ()), Err("weak-key"));
    let lax = VerifyPolicy { allow_weak_keys: true, ..VerifyPolicy::default() };
    verify(&msg, &lax, now).expect("a really signed RSA-1024 request verifies when allowed");
}

#[test]
fn berlin_group_signing_round_trips_and_every_mutation_is_refused_for_its_rule() {
    let bg = super::tests_support::berlin_group();
    let identity = test_pki().identity("qseal").expect("qseal");
    round_trip(identity, &bg);
    round_trip(identity, &Dialect { digest_algorithm: DigestAlgorithm::Sha512, ..bg.clone() });
    assert_every_mutation_rejected("qseal", &bg);
    // The Berlin Group signs no (request-target): its mutations have no form there.
    assert!(!Mutation::RequestTargetOtherPath.applies_to(&bg));
    assert!(Mutation::RequestIdNotUuid.applies_to(&bg) && !Mutation::RequestIdNotUuid.applies_to(&Dialect::default()));
}

#[test]
fn the_signer_adds_a_uuid_request_id_and_signs_present_psu_headers() {
    let bg = super::tests_support::berlin_group();
    let identity = test_pki().identity("qseal").expect("qseal");
    let now = SystemTime::now();
    let mut msg = Message::new("GET", "/client/v1/register/c1", Vec::new());
    msg.add_header("PSU-ID", "psu-1");
    let signed = sign(identity, &bg, &mut msg, now).expect("signs");
    let id = msg.header("X-Request-ID").expect("an X-Request-ID");
    assert!(uuid::Uuid::try_parse(id).is_ok(), "{id}");
    assert!(signed.signing_string.contains(&format!("x-request-id: {id}")), "{}", signed.signing_string);
    assert!(signed.signing_string.ends_with("psu-id: psu-1"), "{}", signed.signing_string);
    let policy = VerifyPolicy::of(bg.clone());
    verify(&msg, &policy, now).expect("verifies");
}

#[test]
fn a_sha512_digest_is_taken_unless_refused_and_each_known_entry_must_match() {
    let identity = test_pki().identity("qseal").expect("qseal");
    let now = SystemTime::now();
    let sha512 = Dialect { digest_algorithm: DigestAlgorithm::Sha512, ..Dialect::default() };
    let mut msg = Message::new("POST", "/client/v1/register", b"{}".to_vec());
    sign(identity, &sha512, &mut msg, now).expect("signs");
    assert!(msg.header("Digest").is_some_and(|d| d.starts_with("SHA-512=")));
    verify(&msg, &VerifyPolicy::default(), now).expect("SHA-512 taken");
    let refusing = VerifyPolicy { sha512_digest: false, ..VerifyPolicy::default() };
    assert_eq!(verify(&msg, &refusing, now).map(|_| ()).map_err(|e| e.rule()), Err("digest-algorithm"));
}

#[test]
fn a_stet_keyid_url_must_end_in_the_certificates_fingerprint() {
    let identity = test_pki().identity("qseal").expect("qseal");
    let now = SystemTime::now();
    let stet = Dialect { key_id: KeyIdStyle::Url("https://tpp.example/certs/qseal_".into()), ..Dialect::default() };
    let mut msg = Message::new("POST", "/client/v1/register", b"{}".to_vec());
    sign(identity, &stet, &mut msg, now).expect("signs");
    let policy = VerifyPolicy::of(stet.clone());
    verify(&msg, &policy, now).expect("the URL ends in the fingerprint");
    let other = test_pki().identity("qseal-b").expect("qseal-b");
    let mut wrong = Message::new("POST", "/client/v1/register", b"{}".to_vec());
    let mut inputs = SignInputs::correct(identity, &stet, &wrong, now);
    inputs.key_id = stet.key_id_for(&other.info);
    inputs.apply(&stet, &mut wrong).expect("signs");
    assert_eq!(verify(&wrong, &policy, now).map(|_| ()).map_err(|e| e.rule()), Err("keyid-mismatch"));
}
