//! RFC 9421 signatures made here against an implementation nobody here wrote: pyauth's
//! `http-message-signatures` (PyPI, with `http-sf` and `cryptography`), installed from the
//! hash-pinned `tests/python/requirements.txt`. It verifies what the harness signs in each
//! setting (PSS and PKCS#1 v1.5, SHA-256 and SHA-512 digests, a tag) and refuses each mutation
//! that breaks what it checks; a request it signs with TPP A's QSEAL key registers a client with
//! the reference server verifying RFC 9421, and is refused once a byte changes.

mod common;

use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use dcr_harness::server::{self, ServerConfig};
use dcr_harness::signature::rfc9421::{Algorithm, ContentDigest, Rfc9421};
use dcr_harness::signature::{sign_mutated, Dialect, Message, Mutation, MutationContext, Scheme};
use dcr_harness::testing::{test_pki, test_pki_dir};
use dcr_harness::transport::{Transport, TransportConfig};
use serde_json::{json, Value};

const ORIGIN: &str = "https://127.0.0.1:8443";
const TAG: &str = "fapi-2-request";

fn dialect(settings: Rfc9421) -> Dialect {
    Dialect { scheme: Scheme::Rfc9421, rfc9421: settings, ..Dialect::default() }
}

fn tagged() -> Rfc9421 {
    Rfc9421 { tag: Some(TAG.into()), ..Rfc9421::default() }
}

/// A registration signed as `d` says, with `mutation`, as the library's verifier reads it.
fn signed(d: &Dialect, mutation: Option<Mutation>) -> Value {
    let pki = test_pki();
    let mut msg =
        Message::new("POST", "/client/v1/register", br#"{"redirect_uris":["https://tpp.example/cb"]}"#.to_vec());
    msg.set_origin(ORIGIN);
    msg.add_header("Content-Type", "application/json");
    let ctx = MutationContext { other_identity: pki.identity("qseal-b").ok(), memo: None };
    let identity = pki.identity("qseal").expect("qseal");
    sign_mutated(identity, d, &mut msg, SystemTime::now(), mutation, &ctx).expect("signs");
    json!({
        "method": msg.method,
        "url": msg.target_uri(),
        "headers": msg.headers,
        "body": B64.encode(&msg.body),
        "tag": d.rfc9421.tag,
    })
}

fn verdicts(requests: &serde_json::Map<String, Value>) -> Value {
    let pki = test_pki_dir().display().to_string();
    let out = common::python::run_script(
        "message_signatures.py",
        &["verify", &pki],
        &Value::Object(requests.clone()).to_string(),
    );
    serde_json::from_str(&out).expect("the verdicts as JSON")
}

#[test]
fn the_python_library_verifies_what_the_harness_signs_in_each_setting() {
    let settings = [
        ("pss, sha-256, tag", tagged()),
        ("pkcs1 v1.5", Rfc9421 { alg: Some(Algorithm::RsaV15Sha256), ..tagged() }),
        ("sha-512 digest", Rfc9421 { digest: ContentDigest::Sha512, ..tagged() }),
        ("nonce and expires", Rfc9421 { nonce: true, expires_s: Some(60), ..tagged() }),
        ("no tag, label only", Rfc9421::default()),
    ];
    let requests = settings.iter().map(|(name, s)| (name.to_string(), signed(&dialect(s.clone()), None))).collect();
    let verdicts = verdicts(&requests);
    for (name, _) in &settings {
        assert_eq!(
            verdicts[*name].as_str(),
            Some("ok \"@method\" \"@target-uri\" \"content-digest\""),
            "{name}: {verdicts}"
        );
    }
}

#[test]
fn the_python_library_refuses_each_mutation_that_breaks_what_it_checks() {
    use Mutation::*;
    // What the library checks of a request: the signature over the base, the digest of the
    // body, `created` (and `expires`), the tag, the covered @method and @target-uri. keyId
    // styles, the certificate header and duplicated fields are the bank's own rules.
    let mutations = [
        BodyChangedAfterSigning,
        DigestWrong,
        DigestOfOtherBody,
        DateStale,
        DateFuture,
        DateDiffersFromSigned,
        RequestTargetOtherPath,
        RequestTargetOtherMethod,
        HeadersWithoutRequestTarget,
        SignedByAnotherKey,
        SignatureTruncated,
        SignatureEmpty,
        SignatureHeaderMissing,
        SignatureInputMissing,
        LabelMismatch,
        SignatureExpired,
        TagWrong,
    ];
    let d = dialect(tagged());
    let requests = mutations.iter().map(|m| (m.name().to_string(), signed(&d, Some(*m)))).collect();
    let verdicts = verdicts(&requests);
    for m in mutations {
        let verdict = verdicts[m.name()].as_str().unwrap_or_default();
        assert!(verdict.starts_with("refused: "), "{m}: the library accepted it: {verdict}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_server_accepts_a_registration_the_python_library_signed() {
    let pki = test_pki();
    let d = dialect(tagged());
    let server =
        server::start(pki, ServerConfig { dialect: d.clone(), ..ServerConfig::default() }).await.expect("starts");
    let url = format!("{}/client/v1/register", server.url());
    let qseal = pki.identity("qseal").expect("qseal");
    let key_id = d.key_id_for(&qseal.info);
    let body = r#"{"redirect_uris":["https://tpp.example/cb"]}"#;
    let dir = test_pki_dir().display().to_string();
    let fields = {
        let (url, key_id) = (url.clone(), key_id.clone());
        tokio::task::spawn_blocking(move || {
            common::python::run_script("message_signatures.py", &["sign", &dir, &url, &key_id], body)
        })
        .await
        .expect("the library signs")
    };
    let fields: Vec<(String, String)> = serde_json::from_str(&fields).expect("fields as JSON");
    let tpp = pki.tpp("tpp-a").expect("tpp-a");
    let message = |body: &str| {
        let mut msg = Message::new("POST", "/client/v1/register", body.as_bytes().to_vec());
        for (name, value) in &fields {
            msg.add_header(name, value);
        }
        msg.add_header("TPP-Signature-Certificate", qseal.leaf_base64());
        msg.add_header(dcr_harness::protocol::CLIENT_ID_HEADER, &tpp.dcr_client_id);
        msg.add_header(dcr_harness::protocol::CLIENT_SECRET_HEADER, &tpp.dcr_client_secret);
        msg
    };
    let transport = Transport::new(pki, TransportConfig::default()).expect("transport");
    let answer = transport.send(pki, Some("qwac"), &server.url(), &message(body)).await.expect("an answer");
    assert_eq!(answer.status, 201, "{}", String::from_utf8_lossy(&answer.body));
    let altered = body.replace("cb", "cc");
    let refused = transport.send(pki, Some("qwac"), &server.url(), &message(&altered)).await.expect("an answer");
    assert_eq!(
        refused.status,
        401,
        "a body changed after the library signed it: {}",
        String::from_utf8_lossy(&refused.body)
    );
    server.stop().await;
}
