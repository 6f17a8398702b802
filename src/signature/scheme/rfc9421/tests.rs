//! RFC 9421 against the RFC's own signed examples (Appendix B, in `fixtures/rfc9421`), round
//! trips for each key type and algorithm, and every catalog mutation refused for its rule.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::verify::check_content_digest;
use super::*;
use crate::pki::KeyType;
use crate::signature::tests::assert_every_mutation_rejected;
use crate::signature::VerifyPolicy;
use crate::signature::{sign, verify, Dialect, Scheme};
use crate::testing::{self_signed_identity, test_pki};

#[derive(Deserialize)]
struct Vector {
    name: String,
    request: String,
    key: String,
    alg: String,
    signature_input: String,
    signature: String,
    base: Option<String>,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rfc9421")
}

fn vectors() -> Vec<Vector> {
    let text = std::fs::read_to_string(fixtures().join("vectors.yaml")).expect("vectors");
    serde_norway::from_str(&text).expect("vectors parse")
}

/// The key bits `verify_bytes` takes, from the RFC's PEM public keys (or its base64 secret).
fn key_bits(file: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(fixtures().join(file)).expect("key");
    if file.ends_with(".b64") {
        return B64.decode(text.trim()).expect("secret");
    }
    let der = rustls_pki_types::SubjectPublicKeyInfoDer::from_pem_slice(text.as_bytes()).expect("SPKI PEM");
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(der.as_ref()).expect("SPKI");
    spki.subject_public_key.data.to_vec()
}

use rustls_pki_types::pem::PemObject;
use x509_parser::prelude::FromDer;

fn vector_message(v: &Vector) -> Message {
    let raw = std::fs::read(fixtures().join(&v.request)).expect("request");
    let mut msg = Message::from_raw(&raw).expect("the RFC's request reads");
    msg.add_header("Signature-Input", &v.signature_input);
    msg.add_header("Signature", &v.signature);
    msg
}

#[test]
fn the_rfc_examples_give_the_rfcs_signature_bases_and_verify_with_its_keys() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 7);
    for v in &vectors {
        let msg = vector_message(v);
        let parsed = parse(&msg, None, true).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        if let Some(base) = &v.base {
            assert_eq!(&parsed.base, base, "{}", v.name);
        }
        let alg = Algorithm::from_name(&v.alg).expect("known algorithm");
        let key = key_bits(&v.key);
        assert!(verify_bytes(alg, &key, false, parsed.base.as_bytes(), &parsed.signature), "{}", v.name);
        // ...and the same check fails for one changed byte of the base or the signature.
        let mut bent = parsed.signature.clone();
        bent[0] ^= 1;
        assert!(!verify_bytes(alg, &key, false, parsed.base.as_bytes(), &bent), "{}", v.name);
        assert!(!verify_bytes(alg, &key, false, format!("{} ", parsed.base).as_bytes(), &parsed.signature));
    }
}

#[test]
fn hmac_is_deterministic_so_the_rfc_value_is_made_exactly() {
    let v = vectors().into_iter().find(|v| v.alg == "hmac-sha256").expect("B.2.5");
    let parsed = parse(&vector_message(&v), None, true).expect("parses");
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key_bits(&v.key));
    let tag = aws_lc_rs::hmac::sign(&key, parsed.base.as_bytes());
    assert_eq!(format!("sig-b25=:{}:", B64.encode(tag.as_ref())), v.signature);
}

#[test]
fn the_rfc_examples_content_digest_is_the_one_made_here() {
    let msg = Message::from_raw(&std::fs::read(fixtures().join("test-request.http")).expect("request")).expect("reads");
    assert_eq!(msg.header("Content-Digest"), Some(ContentDigest::Sha512.value(&msg.body).as_str()));
    check_content_digest(&msg).expect("the RFC's digest checks");
}

fn dialect(settings: Rfc9421) -> Dialect {
    Dialect { scheme: Scheme::Rfc9421, rfc9421: settings, ..Dialect::default() }
}

fn signed_request(identity: &crate::pki::Identity, d: &Dialect, at: SystemTime) -> Message {
    let mut msg = Message::new("POST", "/client/v1/register?x=1", br#"{"client_name":"x"}"#.to_vec());
    msg.set_origin("https://127.0.0.1:8443");
    msg.add_header("Content-Type", "application/json");
    sign(identity, d, &mut msg, at).expect("signs");
    msg
}

fn policy(d: &Dialect) -> VerifyPolicy {
    VerifyPolicy::of(d.clone())
}

#[test]
fn each_key_type_and_algorithm_round_trips() {
    let now = SystemTime::now();
    let settings = [
        Rfc9421::default(),
        Rfc9421 { alg: Some(Algorithm::RsaV15Sha256), ..Rfc9421::default() },
        Rfc9421 { include_alg: false, digest: ContentDigest::Sha512, ..Rfc9421::default() },
        Rfc9421 { tag: Some("fapi-2-request".into()), nonce: true, expires_s: Some(60), ..Rfc9421::default() },
        Rfc9421 {
            components: ["@method", "@authority", "@path", "@query", "content-digest", "content-type"]
                .map(String::from)
                .to_vec(),
            ..Rfc9421::default()
        },
    ];
    for key_type in [KeyType::Rsa2048, KeyType::Rsa3072, KeyType::EcdsaP256] {
        let identity = self_signed_identity(key_type);
        for s in &settings {
            if key_type == KeyType::EcdsaP256 && s.alg.is_some() {
                continue;
            }
            let d = dialect(s.clone());
            let msg = signed_request(&identity, &d, now);
            verify(&msg, &policy(&d), now).unwrap_or_else(|e| panic!("{key_type:?} {s:?}: {e}\n{msg:?}"));
        }
    }
}

#[test]
fn what_the_signer_writes_has_the_rfcs_shape() {
    let identity = test_pki().identity("qseal").expect("qseal");
    let d = dialect(Rfc9421 { tag: Some("fapi-2-request".into()), ..Rfc9421::default() });
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_618_884_473);
    let msg = signed_request(identity, &d, at);
    let input = msg.header("Signature-Input").expect("Signature-Input");
    let key_id = d.key_id_for(&identity.info).replace('"', "\\\"");
    assert_eq!(
        input,
        format!(
            "sig1=(\"@method\" \"@target-uri\" \"content-digest\");created=1618884473;keyid=\"{key_id}\";alg=\"rsa-pss-sha512\";tag=\"fapi-2-request\""
        )
    );
    assert!(msg.header("Signature").is_some_and(|s| s.starts_with("sig1=:") && s.ends_with(':')));
    assert_eq!(msg.header("Content-Digest"), Some("sha-256=:NRHcsfy0cETo7+1YxkIvA1uWfTjGEEB5mjc5LFEGAOk=:"));
}

#[test]
fn an_empty_body_needs_no_digest_but_its_digest_is_signed_where_listed() {
    let identity = test_pki().identity("qseal").expect("qseal");
    let now = SystemTime::now();
    let listed = dialect(Rfc9421::default());
    let mut msg = Message::new("DELETE", "/client/v1/register/c1", Vec::new());
    sign(identity, &listed, &mut msg, now).expect("signs");
    assert_eq!(msg.header("Content-Digest"), Some(ContentDigest::Sha256.value(b"").as_str()));
    verify(&msg, &policy(&listed), now).expect("verifies");
    let unlisted = dialect(Rfc9421 { components: vec!["@method".into(), "@target-uri".into()], ..Rfc9421::default() });
    let mut msg = Message::new("DELETE", "/client/v1/register/c1", Vec::new());
    sign(identity, &unlisted, &mut msg, now).expect("signs");
    assert_eq!(msg.header("Content-Digest"), None);
    verify(&msg, &policy(&listed), now).expect("no body, no digest needed");
}

#[test]
fn every_mutation_has_its_rfc9421_form_refused_for_its_rule() {
    assert_every_mutation_rejected("qseal", &dialect(Rfc9421::default()));
    assert_every_mutation_rejected(
        "qseal",
        &dialect(Rfc9421 { tag: Some("fapi-2-request".into()), ..Rfc9421::default() }),
    );
}

#[test]
fn created_is_bounded_both_ways_and_expires_is_honoured() {
    let identity = test_pki().identity("qseal").expect("qseal");
    let d = dialect(Rfc9421 { expires_s: Some(30), ..Rfc9421::default() });
    let now = SystemTime::now();
    let msg = signed_request(identity, &d, now - Duration::from_secs(20));
    verify(&msg, &policy(&d), now).expect("inside both");
    let rule = |at: SystemTime| verify(&msg, &policy(&d), at).map(|_| ()).map_err(|e| e.rule());
    assert_eq!(rule(now + Duration::from_secs(60)), Err("signature-expired"));
    let strict = VerifyPolicy { max_skew: Some(Duration::from_secs(10)), ..policy(&d) };
    assert_eq!(verify(&msg, &strict, now).map(|_| ()).map_err(|e| e.rule()), Err("date-skew"));
}

#[test]
fn a_wrong_digest_algorithm_name_and_a_non_dictionary_are_told_apart() {
    let mut msg = Message::new("POST", "/x", b"{}".to_vec());
    msg.set_header("Content-Digest", "md5=:AAAA:");
    assert_eq!(check_content_digest(&msg).map_err(|e| e.rule()), Err("digest-algorithm"));
    msg.set_header("Content-Digest", "sha-256");
    assert_eq!(check_content_digest(&msg).map_err(|e| e.rule()), Err("digest-malformed"));
    msg.set_header("Content-Digest", "not a dictionary (");
    assert_eq!(check_content_digest(&msg).map_err(|e| e.rule()), Err("digest-malformed"));
}

#[test]
fn component_identifiers_are_read_from_names_or_rfc8941_items() {
    assert_eq!(serialize_item(&component_id("@Method").expect("name")), "\"@method\"");
    assert_eq!(
        serialize_item(&component_id("\"@query-param\";name=\"Pet\"").expect("item")),
        "\"@query-param\";name=\"Pet\""
    );
    assert!(component_id("\"unterminated").is_err());
    assert!(component_id("12;a").is_err());
}
