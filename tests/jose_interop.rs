//! Software statements made here against a JOSE library nobody here wrote: PyJWT (with
//! `cryptography`), installed into `target/python-interop` from the hash-pinned
//! `tests/python/requirements.txt`. PyJWT verifies every good statement with the directory's
//! published keys and refuses each bad one for its own reason; a statement PyJWT signs with the
//! directory's key verifies here and registers a client with the reference server's `fapi` mode.
//! The same both ways for request objects: PyJWT verifies the harness's and refuses each of its
//! request-object mutations for its own reason; the `obuk` mode accepts one PyJWT signed.
//! Needs python3 with venv and pip (CI has them).

mod common;

use dcr_harness::pki::directory::{StatementFlaw, ISSUER, REDIRECT_URIS};
use dcr_harness::testing::{test_pki, test_pki_dir};
use serde_json::Value;

fn pyjwt(command: &str) -> String {
    pyjwt_with(&[command], "")
}

/// The script with `args` after its command's PKI directory, `stdin` on its standard input.
fn pyjwt_with(args: &[&str], stdin: &str) -> String {
    let pki = test_pki_dir().display().to_string();
    let mut all = vec![args[0], pki.as_str()];
    all.extend_from_slice(&args[1..]);
    common::python::run_script("verify_statements.py", &all, stdin)
}

#[test]
fn pyjwt_verifies_the_good_statements_and_refuses_each_bad_one_for_its_reason() {
    let pki = test_pki();
    let directory = pki.manifest.directory.as_ref().expect("a directory");
    let verdicts: Value = serde_json::from_str(&pyjwt("verify")).expect("PyJWT's verdicts as JSON");
    for (name, entry) in &directory.statements {
        let verdict = verdicts[name.as_str()].as_str().unwrap_or_else(|| panic!("{name}: no verdict in {verdicts}"));
        let expected = match entry.flaw {
            None => &format!("ok {REDIRECT_URIS:?}"),
            Some(StatementFlaw::RedirectUriNotInStatement) => "ok [\"https://elsewhere.example/cb\"]",
            Some(StatementFlaw::Expired) => "refused: ExpiredSignatureError",
            Some(StatementFlaw::NotYetValid) => "refused: ImmatureSignatureError",
            Some(StatementFlaw::BadSignature) => "refused: InvalidSignatureError",
            Some(StatementFlaw::AlgNone) | Some(StatementFlaw::Rs256) => "refused: InvalidAlgorithmError",
            Some(StatementFlaw::UnknownIssuer) => "refused: LookupError",
        };
        assert_eq!(verdict, expected, "{name}");
    }
}

/// The audience the request objects of these tests name.
const AUDIENCE: &str = "https://bank.example";

/// Request objects the harness signs (as the `obuk` profile sends them) against PyJWT: the good
/// one verifies with the key TPP A's statement publishes, and each mutation is refused for its
/// own reason.
#[test]
fn pyjwt_verifies_the_harness_request_objects_and_refuses_each_mutation_for_its_reason() {
    use dcr_harness::signature::request_object::{
        sign_request_object, statement_software_id, JwtSigner, RequestObjectClaims,
    };
    use dcr_harness::signature::Mutation::{self, *};
    let pki = test_pki();
    let mut metadata = serde_json::Map::new();
    metadata.insert("redirect_uris".into(), serde_json::json!(["https://tpp.example/cb"]));
    metadata.insert("software_statement".into(), Value::from(pki.statement("ssa").expect("ssa")));
    let issuer = statement_software_id(&metadata).expect("software_id");
    let claims =
        RequestObjectClaims { issuer: &issuer, audience: AUDIENCE, lifetime: std::time::Duration::from_secs(300) };
    let (signer, other) = (pki.identity("qseal").expect("qseal"), pki.identity("qseal-b").ok());
    let cases: [(Option<Mutation>, &str); 8] = [
        (None, "ok tpp-a-app [\"https://tpp.example/cb\"]"),
        (Some(RequestObjectExpired), "refused: ExpiredSignatureError"),
        (Some(RequestObjectWrongAudience), "refused: InvalidAudienceError"),
        (Some(RequestObjectWrongIssuer), "refused: InvalidIssuerError"),
        (Some(RequestObjectAlgNone), "refused: InvalidAlgorithmError"),
        (Some(RequestObjectRs256), "refused: InvalidAlgorithmError"),
        (Some(RequestObjectBadSignature), "refused: InvalidSignatureError"),
        (Some(RequestObjectSignedByAnotherKey), "refused: InvalidSignatureError"),
    ];
    let name = |m: Option<Mutation>| m.map_or("good".to_string(), |m| m.name().to_string());
    let tokens: serde_json::Map<String, Value> = cases
        .iter()
        .map(|(m, _)| {
            let signer = JwtSigner { identity: signer, other, now: std::time::SystemTime::now() };
            let jws = sign_request_object(&metadata, &claims, signer, *m).expect("a request object");
            (name(*m), Value::from(jws))
        })
        .collect();
    let verdicts: Value =
        serde_json::from_str(&pyjwt_with(&["verify-requests", AUDIENCE], &Value::Object(tokens).to_string()))
            .expect("PyJWT's verdicts as JSON");
    for (m, expected) in cases {
        assert_eq!(verdicts[name(m).as_str()], expected, "{}", name(m));
    }
}

/// The reference server's `obuk` mode registers a client from a request object PyJWT signed
/// with TPP A's key, and refuses it once a signature byte is changed.
#[tokio::test(flavor = "multi_thread")]
async fn the_reference_server_accepts_a_request_object_pyjwt_signed() {
    use dcr_harness::server::{self, ServerConfig, ServerProfile};
    use dcr_harness::transport::{Transport, TransportConfig};
    let pki = test_pki();
    let config = ServerConfig { profile: ServerProfile::Obuk, ..ServerConfig::default() };
    let server = server::start(pki, config).await.expect("server");
    let url = server.url();
    let jws = tokio::task::spawn_blocking(move || pyjwt_with(&["sign-request", &url], "")).await.expect("PyJWT");
    let transport = Transport::new(pki, TransportConfig::default()).expect("transport");
    let send = |body: String| {
        let mut msg = dcr_harness::signature::Message::new("POST", "/client/v1/register", body.into_bytes());
        msg.add_header("Content-Type", "application/jose");
        msg
    };
    let answer = transport.send(pki, Some("qwac"), &server.url(), &send(jws.clone())).await.expect("an answer");
    let text = String::from_utf8_lossy(&answer.body).to_string();
    assert_eq!(answer.status, 201, "{text}");
    let json: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(json["software_id"], "tpp-a-app", "the statement's claims are the client's");
    let forged = dcr_harness::pki::jws::broken(&jws);
    let refused = transport.send(pki, Some("qwac"), &server.url(), &send(forged)).await.expect("an answer");
    assert_eq!(refused.status, 400, "a request object altered after PyJWT signed it is refused");
    server.stop().await;
}

#[test]
fn a_statement_pyjwt_signs_with_the_directory_key_verifies_here() {
    test_pki();
    let jws = pyjwt("sign");
    let keys = dcr_harness::testing::directory_keys();
    let (decoding, _) = keys.get("directory-ps256").expect("the directory's PS256 key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::PS256);
    validation.set_issuer(&[ISSUER]);
    let claims = jsonwebtoken::decode::<Value>(&jws, decoding, &validation).expect("PyJWT's statement verifies");
    assert_eq!(claims.claims["jti"], "signed-by-pyjwt");
}

/// The reference server's `fapi` mode registers a client with a statement PyJWT signed, over
/// the harness's own transport, and returns the statement unmodified (RFC 7591 §3.2.1).
#[tokio::test(flavor = "multi_thread")]
async fn the_reference_server_accepts_a_statement_pyjwt_signed() {
    use dcr_harness::server::{self, ServerConfig, ServerProfile};
    use dcr_harness::transport::{Transport, TransportConfig};
    let pki = test_pki();
    let jws = tokio::task::spawn_blocking(|| pyjwt("sign")).await.expect("PyJWT");
    let config = ServerConfig { profile: ServerProfile::Fapi, ..ServerConfig::default() };
    let server = server::start(pki, config).await.expect("server");
    let transport = Transport::new(pki, TransportConfig::default()).expect("transport");
    let body = serde_json::json!({ "redirect_uris": ["https://tpp.example/cb"], "software_statement": jws });
    let mut msg = dcr_harness::signature::Message::new("POST", "/client/v1/register", body.to_string().into_bytes());
    msg.add_header("Content-Type", "application/json");
    let answer = transport.send(pki, None, &server.url(), &msg).await.expect("an answer");
    let text = String::from_utf8_lossy(&answer.body).to_string();
    assert_eq!(answer.status, 201, "{text}");
    let json: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(json["software_statement"].as_str(), Some(jws.as_str()), "returned unmodified");
    assert_eq!(json["software_id"], "pyjwt-app", "the statement's claims are the client's");
    // One character in the middle of the signature changed: whole bytes differ, not padding.
    let at = jws.len() - 20;
    let swapped = if jws.as_bytes()[at] == b'A' { "B" } else { "A" };
    let forged = format!("{}{swapped}{}", &jws[..at], &jws[at + 1..]);
    let body = serde_json::json!({ "redirect_uris": ["https://tpp.example/cb"], "software_statement": forged });
    let mut msg = dcr_harness::signature::Message::new("POST", "/client/v1/register", body.to_string().into_bytes());
    msg.add_header("Content-Type", "application/json");
    let refused = transport.send(pki, None, &server.url(), &msg).await.expect("an answer");
    assert_eq!(refused.status, 400, "a statement altered after PyJWT signed it is refused");
    server.stop().await;
}
