use std::time::UNIX_EPOCH;

use super::*;

#[test]
fn registration_fields_fill_what_a_body_lacks_and_null_takes_them_out() {
    let fields: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"software_statement":"{{ssa}}"}"#).expect("fields");
    let vars: Vars = [("ssa".to_string(), "eyJ.x.y".to_string())].into();
    let cases = [
        (r#"{"client_name":"a"}"#, r#"{"client_name":"a","software_statement":"eyJ.x.y"}"#),
        (r#"{"software_statement":"mine"}"#, r#"{"software_statement":"mine"}"#),
        (r#"{"software_statement":null}"#, r#"{}"#),
        ("not json", "not json"),
        ("[1]", "[1]"),
    ];
    for (body, sent) in cases {
        let out = with_registration_fields(body.as_bytes().to_vec(), &fields, &vars).expect("filled");
        assert_eq!(String::from_utf8_lossy(&out), sent, "{body}");
    }
    let unbound: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"software_statement":"{{nowhere}}"}"#).expect("fields");
    assert!(with_registration_fields(b"{}".to_vec(), &unbound, &vars).is_err(), "an unbound template is an error");
}
use crate::scenario::{DateOffset, DpopKeyChoice, Who};
use crate::signature::{verify, VerifyPolicy};
use crate::testing::test_pki;

/// 2026-11-24T19:11:14Z, a fixed moment inside the test PKI's validity.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_979_474)
}

/// A profile from YAML, with the secret-refresh path unless the YAML names paths itself.
fn profile(yaml: &str) -> Profile {
    let paths =
        if yaml.contains("paths:") { "" } else { "paths: { secret: '/client/v1/register/{client_id}/secret' }\n" };
    serde_norway::from_str(&format!("name: test\n{paths}{yaml}")).expect("profile")
}

const RFC7592: &str = "management: registration-token\ncredentials: { kind: none }\nsignature: { enabled: false }\nidentities: { tls: none, other_tls: none }";

fn client() -> Client {
    Client {
        id: "c-1".into(),
        secret: "s3cret".into(),
        previous_secret: String::new(),
        rat: "rat-1".into(),
        uri: "https://bank.example/other/c-1?x=1".into(),
        ..Client::default()
    }
}

fn plan_in(profile: &Profile, r: &RequestSpec, dcr_token: Option<&str>) -> Result<Planned, PlanError> {
    let endpoints = Endpoints::of(profile);
    let env = PlanEnv {
        profile,
        pki: test_pki(),
        endpoints: &endpoints,
        fixtures: Box::leak(Box::new(crate::scenario::Fixtures::at(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        ))),
        now: now(),
        memo: None,
    };
    let clients = BTreeMap::from([("client".to_string(), client())]);
    let vars = Vars::from([("x".to_string(), "filled".to_string())]);
    plan(r, None, &env, &SessionView { vars: &vars, clients: &clients, dcr_token, client_token: None, dpop: None })
}

fn header<'a>(p: &'a Planned, name: &str) -> Option<&'a str> {
    p.msg.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// How a planned request authenticates, in a word.
fn auth(p: &Planned) -> String {
    match (header(p, "Authorization"), header(p, crate::protocol::CLIENT_ID_HEADER)) {
        (Some(a), _) if a.starts_with("Basic ") => "basic".into(),
        (Some(a), _) => a.split(' ').map(str::to_lowercase).collect::<Vec<_>>().join(" "),
        (None, Some(id)) => format!("api-key {id}"),
        (None, None) => "none".into(),
    }
}

fn raw(op: Operation) -> RequestSpec {
    let mut r = RequestSpec::of(op);
    if op == Operation::Raw {
        r.method = Some(crate::scenario::HttpMethod(http::Method::PATCH));
        r.path = Some("/raw/{{x}}".into());
    }
    r
}

#[test]
fn every_operation_under_smbc_management_carries_qwac_credentials_and_signature() {
    let p = profile("");
    let tpp = &test_pki().tpp("tpp-a").expect("tpp-a").dcr_client_id;
    let api_key = format!("api-key {tpp}");
    let cases = [
        (Operation::Register, "POST", "/client/v1/register", api_key.as_str(), true),
        (Operation::Read, "GET", "/client/v1/register/c-1", &api_key, false),
        (Operation::Update, "PUT", "/client/v1/register/c-1", &api_key, true),
        (Operation::Delete, "DELETE", "/client/v1/register/c-1", &api_key, true),
        (Operation::RefreshSecret, "POST", "/client/v1/register/c-1/secret", &api_key, true),
        (Operation::Token, "POST", "/oauth/token", "basic", false),
        (Operation::Raw, "PATCH", "/raw/filled", &api_key, false),
    ];
    for (op, method, path, expected_auth, signed) in cases {
        let planned = plan_in(&p, &raw(op), None).unwrap_or_else(|e| panic!("{op:?}: {e}"));
        assert_eq!((planned.msg.method.as_str(), planned.msg.target.as_str()), (method, path), "{op:?}");
        assert_eq!(auth(&planned), expected_auth, "{op:?}");
        assert_eq!(header(&planned, "Signature").is_some(), signed, "{op:?} signed");
        assert_eq!(planned.tls.as_deref(), Some("qwac"), "{op:?}");
    }
}

#[test]
fn every_operation_under_rfc7592_management_uses_the_registration_uri_and_token() {
    let p = profile(RFC7592);
    let cases = [
        (Operation::Register, "POST", "/client/v1/register", "none"),
        (Operation::Read, "GET", "/other/c-1?x=1", "bearer rat-1"),
        (Operation::Update, "PUT", "/other/c-1?x=1", "bearer rat-1"),
        (Operation::Delete, "DELETE", "/other/c-1?x=1", "bearer rat-1"),
        (Operation::RefreshSecret, "POST", "/client/v1/register/c-1/secret", "bearer rat-1"),
        (Operation::Token, "POST", "/oauth/token", "basic"),
        (Operation::Raw, "PATCH", "/raw/filled", "none"),
    ];
    for (op, method, path, expected_auth) in cases {
        let planned = plan_in(&p, &raw(op), None).unwrap_or_else(|e| panic!("{op:?}: {e}"));
        assert_eq!((planned.msg.method.as_str(), planned.msg.target.as_str()), (method, path), "{op:?}");
        assert_eq!(auth(&planned), expected_auth, "{op:?}");
        assert!(header(&planned, "Signature").is_none(), "{op:?} unsigned");
        assert_eq!(planned.tls, None, "{op:?} presents no certificate");
        let elsewhere = path.starts_with("/other");
        assert_eq!(planned.origin.as_deref(), elsewhere.then_some("https://bank.example"), "{op:?}: the URI whole");
    }
}

const OBUK: &str = "management: client-token\ncredentials: { kind: none }\nsignature: { enabled: false }\nrequest_object: { audience: 'https://bank.example' }\nregistration_fields: { software_statement: '{{statement}}' }";

/// Plans `r` under `p` for the session view these parts make.
fn plan_as(
    p: &Profile,
    r: &RequestSpec,
    mutation: Option<Mutation>,
    registered: Client,
    vars: &Vars,
    client_token: Option<&str>,
) -> Planned {
    let endpoints = Endpoints::of(p);
    let fixtures = crate::scenario::Fixtures::at(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
    let env =
        PlanEnv { profile: p, pki: test_pki(), endpoints: &endpoints, fixtures: &fixtures, now: now(), memo: None };
    let clients = BTreeMap::from([("client".to_string(), registered)]);
    let view = SessionView { vars, clients: &clients, dcr_token: None, client_token, dpop: None };
    plan(r, mutation, &env, &view).expect("plans")
}

/// Plans `r` under `p` with the test directory's statement bound and `mutation`.
fn plan_obuk(p: &Profile, r: &RequestSpec, mutation: Option<Mutation>, client_token: Option<&str>) -> Planned {
    let statement = test_pki().statement("ssa").expect("ssa").to_string();
    let vars = Vars::from([("statement".to_string(), statement)]);
    plan_as(p, r, mutation, client(), &vars, client_token)
}

#[test]
fn request_objects_carry_the_metadata_signed_and_management_the_clients_own_token() {
    let p = profile(OBUK);
    let mut register = RequestSpec::of(Operation::Register);
    register.body = Some(serde_json::json!({ "redirect_uris": ["https://tpp.example/cb"] }));
    let planned = plan_obuk(&p, &register, None, None);
    assert_eq!(header(&planned, "Content-Type"), Some("application/jose"));
    let jws = String::from_utf8(planned.msg.body.clone()).expect("text");
    let parts = crate::pki::jws::parts(&jws).expect("a compact JWS");
    assert_eq!((parts.alg(), parts.kid()), ("PS256", "qseal"));
    for (claim, expected) in [("iss", "tpp-a-app"), ("aud", "https://bank.example")] {
        assert_eq!(parts.claims[claim], expected, "{claim}");
    }
    assert!(parts.claims["software_statement"].is_string(), "the profile's registration field is inside");
    assert_eq!(
        sent_metadata(&planned.msg.body).map(|m| m["redirect_uris"].clone()),
        Some(register.body.clone().unwrap_or_default()["redirect_uris"].clone())
    );
    assert!(header(&planned, "Signature").is_none(), "no HTTP signature in this profile");

    let unsigned = plan_obuk(&p, &register, Some(Mutation::RequestObjectAlgNone), None);
    let jws = String::from_utf8(unsigned.msg.body.clone()).expect("text");
    assert_eq!(crate::pki::jws::parts(&jws).map(|p| p.alg().to_string()).as_deref(), Some("none"));

    let mut update = RequestSpec::of(Operation::Update);
    update.body = Some(serde_json::json!({ "client_id": "c-1" }));
    let planned = plan_obuk(&p, &update, None, Some("at-1"));
    assert_eq!(auth(&planned), "bearer at-1");
    assert_eq!((planned.msg.method.as_str(), planned.msg.target.as_str()), ("PUT", "/client/v1/register/c-1"));
    assert_eq!(header(&planned, "Content-Type"), Some("application/jose"), "an update is a request object too");
    assert_eq!(client_token_needed(&update, &p), Some("client"));
    update.registration_token = Some("chosen".into());
    assert_eq!(client_token_needed(&update, &p), None, "a step's own token needs none fetched");
}

#[test]
fn a_token_request_proves_the_client_by_the_method_it_registered() {
    let p = profile(OBUK);
    let cases = [
        ("", "basic", &[][..]),
        ("client_secret_post", "none", &["client_id=c-1", "client_secret=s3cret"][..]),
        ("tls_client_auth", "none", &["client_id=c-1"][..]),
        ("private_key_jwt", "none", &["client_assertion_type=urn%3Aietf", "client_assertion=ey"][..]),
    ];
    for (method, expected_auth, in_form) in cases {
        let registered = Client { auth_method: method.into(), ..client() };
        let planned = plan_as(&p, &RequestSpec::of(Operation::Token), None, registered, &Vars::new(), None);
        let form = String::from_utf8_lossy(&planned.msg.body).to_string();
        assert_eq!(auth(&planned), expected_auth, "{method}");
        assert!(form.starts_with("grant_type=client_credentials"), "{method}: {form}");
        for field in in_form {
            assert!(form.contains(field), "{method}: {field} in {form}");
        }
        assert!(!form.contains("client_secret=") || method == "client_secret_post", "{method}: no secret in the form");
    }
}

#[test]
fn a_client_assertion_names_the_token_endpoint_or_the_issuer_as_the_profile_says() {
    for (setting, expected) in
        [("", "https://bank.example/oauth/token"), ("client_assertion_audience: issuer\n", "https://issuer.example")]
    {
        let p = profile(&format!("{setting}{OBUK}"));
        let vars = Vars::from([
            (builtin::BASE_URL.to_string(), "https://bank.example".to_string()),
            (builtin::ISSUER.to_string(), "https://issuer.example".to_string()),
        ]);
        let registered = Client { auth_method: "private_key_jwt".into(), ..client() };
        let planned = plan_as(&p, &RequestSpec::of(Operation::Token), None, registered, &vars, None);
        let form: BTreeMap<String, String> = form_urlencoded::parse(&planned.msg.body).into_owned().collect();
        let assertion = form.get("client_assertion").expect("an assertion");
        let parts = crate::pki::jws::parts(assertion).expect("a JWS");
        assert_eq!(parts.claims["aud"], expected, "{setting}");
        assert_eq!((parts.claims["iss"].as_str(), parts.claims["sub"].as_str()), (Some("c-1"), Some("c-1")));
    }
}

#[test]
fn what_a_request_sends_is_its_json_or_its_request_objects_claims() {
    let jws = crate::pki::jws::unsigned("k", &serde_json::json!({ "client_name": "x" }));
    let cases: [(&[u8], Option<serde_json::Value>); 4] = [
        (br#"{"a":1}"#, Some(serde_json::json!({ "a": 1 }))),
        (jws.as_bytes(), Some(serde_json::json!({ "client_name": "x" }))),
        (b"not json, no jws", None),
        (b"", None),
    ];
    for (body, expected) in cases {
        assert_eq!(sent_metadata(body), expected, "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn each_credential_kind_travels_its_own_way() {
    let entry = test_pki().tpp("tpp-a").expect("tpp-a");
    let basic = basic(&entry.dcr_client_id, &entry.dcr_client_secret);
    let cases = [
        ("api-key", None, Some(crate::protocol::CLIENT_ID_HEADER), None),
        ("basic", None, None, Some(basic.as_str())),
        ("bearer", Some("tok-1"), None, Some("Bearer tok-1")),
        ("none", None, None, None),
        ("initial-access-token, initial_access_token: iat-1", None, None, Some("Bearer iat-1")),
    ];
    for (kind, token, id_header, authorization) in cases {
        let p = profile(&format!("credentials: {{ kind: {kind} }}"));
        let planned = plan_in(&p, &RequestSpec::of(Operation::Register), token).expect(kind);
        assert_eq!(header(&planned, "Authorization"), authorization, "{kind}");
        assert_eq!(id_header.and_then(|h| header(&planned, h)).is_some(), id_header.is_some(), "{kind}");
        let needs_token = dcr_token_needed(&RequestSpec::of(Operation::Register), &p);
        assert_eq!(needs_token.is_some(), kind == "bearer", "{kind}");
    }
    let bearer = profile("credentials: { kind: bearer }");
    assert!(matches!(plan_in(&bearer, &RequestSpec::of(Operation::Register), None), Err(PlanError::NoDcrToken { .. })));
    let nobody = RequestSpec { credentials: Some(Who::Nobody), ..RequestSpec::of(Operation::Register) };
    assert_eq!(dcr_token_needed(&nobody, &bearer), None, "`credentials: none` needs no token");
}

#[test]
fn each_dialect_signs_what_its_own_verifier_accepts_and_another_refuses() {
    let dialects = [
        ("{}", "SHA-256="),
        ("{ method_case: upper, digest: hex }", ""),
        ("{ digest: prefixed-hex, key_id: fingerprint, algorithm: hs2019, header_case: canonical }", "SHA-256="),
    ];
    for (dialect, digest_prefix) in dialects {
        let p = profile(&format!("signature: {{ enabled: true, dialect: {dialect} }}"));
        let r = RequestSpec {
            body: Some(serde_json::json!({"client_name": "{{x}}"})),
            ..RequestSpec::of(Operation::Register)
        };
        let planned = plan_in(&p, &r, None).expect(dialect);
        assert!(header(&planned, "Digest").is_some_and(|d| d.starts_with(digest_prefix)), "{dialect}");
        let own = VerifyPolicy::of(p.signature.dialect.clone());
        verify(&planned.msg, &own, now()).unwrap_or_else(|e| panic!("{dialect}: {e}"));
        let other = profile("signature: { dialect: { method_case: upper, digest: hex } }").signature.dialect;
        let other = if other == p.signature.dialect { crate::signature::Dialect::default() } else { other };
        assert!(verify(&planned.msg, &VerifyPolicy::of(other), now()).is_err());
    }
}

#[test]
fn the_actor_and_explicit_choices_pick_certificates_credentials_and_signers() {
    let p = profile("");
    let other = RequestSpec { actor: Actor::OtherTpp, ..RequestSpec::of(Operation::Register) };
    let planned = plan_in(&p, &other, None).expect("other tpp");
    assert_eq!(planned.tls.as_deref(), Some("qwac-b"));
    let tpp_b = &test_pki().tpp("tpp-b").expect("tpp-b").dcr_client_id;
    assert_eq!(header(&planned, crate::protocol::CLIENT_ID_HEADER), Some(tpp_b.as_str()));
    let bare = RequestSpec {
        tls: Some(Who::Nobody),
        credentials: Some(Who::Nobody),
        sign: Some(Who::Nobody),
        ..RequestSpec::of(Operation::Register)
    };
    let planned = plan_in(&p, &bare, None).expect("bare");
    assert_eq!((planned.tls.as_deref(), auth(&planned).as_str()), (None, "none"));
    assert!(header(&planned, "Signature").is_none());
    // Roles resolve to the profile's own identities: the user's certificates in the wrong role.
    let users = profile("identities: { tls: qwac-b, sign: qseal-b }");
    let swapped = RequestSpec {
        tls: Some(Who::Role(crate::scenario::Role::Sign)),
        sign: Some(Who::Role(crate::scenario::Role::Tls)),
        ..RequestSpec::of(Operation::Register)
    };
    let planned = plan_in(&users, &swapped, None).expect("swapped");
    assert_eq!(planned.tls.as_deref(), Some("qseal-b"));
    let b_serial = test_pki().identity("qwac-b").expect("qwac-b").info.serial_hex();
    assert!(header(&planned, "Signature").is_some_and(|s| s.contains(&format!("SN={b_serial}"))), "signed by $tls");
    let signed_get = RequestSpec { sign: Some(Who::Named("qseal".into())), ..RequestSpec::of(Operation::Read) };
    assert!(header(&plan_in(&p, &signed_get, None).expect("signed read"), "Signature").is_some());
}

#[test]
fn what_cannot_be_built_is_a_typed_error() {
    let p = profile("");
    let named = |name: &str| Some(Who::Named(name.to_string()));
    type Expected = fn(&PlanError) -> bool;
    let cases: Vec<(&str, RequestSpec, Expected)> = vec![
        (
            "an unknown client",
            RequestSpec { client: Some("nobody".into()), ..RequestSpec::of(Operation::Read) },
            |e| matches!(e, PlanError::NoClient { name } if name == "nobody"),
        ),
        (
            "an unbound template",
            RequestSpec { query: Some("?q={{missing}}".into()), ..RequestSpec::of(Operation::Register) },
            |e| matches!(e, PlanError::Template { field: "query", .. }),
        ),
        (
            "an unset environment variable",
            RequestSpec {
                body_raw: Some("{{env.DCR_HARNESS_SURELY_UNSET}}".into()),
                ..RequestSpec::of(Operation::Register)
            },
            |e| matches!(e, PlanError::Template { field: "body_raw", .. }),
        ),
        ("a raw step without a path", RequestSpec::of(Operation::Raw), |e| matches!(e, PlanError::RawWithoutTarget)),
        (
            "a date out of the clock's range",
            RequestSpec { date_offset: DateOffset::Seconds(i64::MAX), ..RequestSpec::of(Operation::Register) },
            |e| matches!(e, PlanError::DateOutOfRange { .. }),
        ),
        (
            "an unknown signer",
            RequestSpec { sign: named("no-such-seal"), ..RequestSpec::of(Operation::Register) },
            |e| matches!(e, PlanError::Pki(PkiError::UnknownIdentity { .. })),
        ),
        (
            "a missing body file",
            RequestSpec { body_file: Some("no/such.json".into()), ..RequestSpec::of(Operation::Register) },
            |e| matches!(e, PlanError::BodyFile { .. }),
        ),
        (
            "unknown DCR credentials",
            RequestSpec { credentials: named("tpp-z"), ..RequestSpec::of(Operation::Register) },
            |e| matches!(e, PlanError::Pki(PkiError::UnknownTpp { .. })),
        ),
    ];
    for (what, r, is_expected) in cases {
        match plan_in(&p, &r, None) {
            Err(e) => assert!(is_expected(&e), "{what}: {e:?}"),
            Ok(_) => panic!("{what}: planned"),
        }
    }
    let without_refresh = profile("paths: { register: /r }");
    let e = plan_in(&without_refresh, &RequestSpec::of(Operation::RefreshSecret), None).expect_err("no path");
    assert!(matches!(e, PlanError::NoEndpoint { field: "paths.secret", .. }), "{e:?}");
    let iat = profile("credentials: { kind: initial-access-token }");
    let e = plan_in(&iat, &RequestSpec::of(Operation::Register), None).expect_err("no token");
    assert!(matches!(e, PlanError::NoEndpoint { field: "credentials.initial_access_token", .. }), "{e:?}");
    let overridden = profile(
        "credentials: { overrides: { tpp-a: { client_id: '{{env.DCR_HARNESS_SURELY_UNSET}}', client_secret: s } } }",
    );
    let e = plan_in(&overridden, &RequestSpec::of(Operation::Register), None).expect_err("unset credential");
    assert!(matches!(e, PlanError::Credentials { .. }), "{e:?}");
}

#[test]
fn the_signed_date_follows_the_clock_and_the_offset() {
    let p = profile("signature: { date_window_s: 30 }");
    let cases = [
        (DateOffset::Seconds(0), 0),
        (DateOffset::Seconds(-400), -400),
        (DateOffset::Seconds(3600), 3600),
        (DateOffset::FromWindow { sign: -1, seconds: 1 }, -29),
        (DateOffset::FromWindow { sign: 1, seconds: -2 }, 28),
    ];
    for (date_offset, seconds) in cases {
        let r = RequestSpec { date_offset, ..RequestSpec::of(Operation::Register) };
        let planned = plan_in(&p, &r, None).expect("planned");
        let expected = crate::signature::http_date(offset_or_panic(now(), seconds));
        assert_eq!(header(&planned, "Date"), Some(expected.as_str()), "{date_offset:?}");
    }
}

fn offset_or_panic(at: SystemTime, seconds: i64) -> SystemTime {
    offset(at, seconds).expect("in range")
}

#[test]
fn a_registration_token_is_left_out_only_on_purpose() {
    let p = profile(RFC7592);
    let read = |token: Option<&str>| RequestSpec {
        registration_token: token.map(str::to_string),
        ..RequestSpec::of(Operation::Read)
    };
    let on_purpose = plan_in(&p, &read(Some(NO_TOKEN)), None).expect("plans");
    assert_eq!(header(&on_purpose, "Authorization"), None);
    let guessed = plan_in(&p, &read(Some("guessed")), None).expect("plans");
    assert_eq!(header(&guessed, "Authorization"), Some("Bearer guessed"));
    // A client whose registration gave no token: never an empty bearer.
    let endpoints = Endpoints::of(&p);
    let env = PlanEnv {
        profile: &p,
        pki: test_pki(),
        endpoints: &endpoints,
        fixtures: &crate::scenario::Fixtures::at(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).into()),
        now: now(),
        memo: None,
    };
    let clients = BTreeMap::from([("client".to_string(), Client { rat: String::new(), ..client() })]);
    let view = SessionView { vars: &Vars::new(), clients: &clients, dcr_token: None, client_token: None, dpop: None };
    assert!(matches!(plan(&read(None), None, &env, &view), Err(PlanError::NoRegistrationToken { .. })));
}

#[test]
fn a_dpop_step_carries_a_proof_of_the_chosen_key_for_its_request_and_token() {
    use crate::signature::dpop::check_proof;
    let p = profile(&format!("{RFC7592}\npaths: {{ resource: /resource/v1/whoami }}"));
    let keys = DpopKeys::generate().expect("keys");
    let endpoints = Endpoints::of(&p);
    let fixtures = crate::scenario::Fixtures::at(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).into());
    let env =
        PlanEnv { profile: &p, pki: test_pki(), endpoints: &endpoints, fixtures: &fixtures, now: now(), memo: None };
    let clients = BTreeMap::from([("client".to_string(), client())]);
    let view =
        SessionView { vars: &Vars::new(), clients: &clients, dcr_token: None, client_token: None, dpop: Some(&keys) };
    let at = |op, choice, token: Option<&str>| {
        let r = RequestSpec { dpop: Some(choice), token: token.map(str::to_string), ..RequestSpec::of(op) };
        let planned = plan(&r, None, &env, &view).expect("plans");
        let proof = header(&planned, "DPoP").expect("a proof").to_string();
        let proven = check_proof(&proof, (&planned.msg.method, &planned.msg.target_uri()), token, now());
        (proven.map(|p| p.jkt), header(&planned, "Authorization").map(str::to_string))
    };
    let (jkt, _) = at(Operation::Token, DpopKeyChoice::Own, None);
    assert_eq!(jkt, Ok(keys.own.thumbprint()));
    let (jkt, authorization) = at(Operation::Resource, DpopKeyChoice::Other, Some("at-1"));
    assert_eq!(jkt, Ok(keys.other.thumbprint()));
    assert_eq!(authorization.as_deref(), Some("DPoP at-1"));
    let introspect = RequestSpec { dpop: Some(DpopKeyChoice::Own), ..RequestSpec::of(Operation::Introspect) };
    assert!(plan(&introspect, None, &env, &view).is_err(), "no DPoP at introspection");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Any offset, body and header a scenario may hold plans to a signed request the
    /// verifier takes, or to a typed error; never a panic.
    #[test]
    fn any_request_plans_or_is_a_typed_error(
        offset in -400i64..400,
        body in "\\PC{0,60}",
        header in "[!-~]{0,20}",
    ) {
        let p = profile("signature: { enabled: true }");
        let r = RequestSpec {
            date_offset: DateOffset::Seconds(offset),
            body_raw: Some(body),
            headers: BTreeMap::from([("X-Extra".to_string(), header)]),
            ..RequestSpec::of(Operation::Register)
        };
        if let Ok(planned) = plan_in(&p, &r, None) {
            let policy = VerifyPolicy { max_skew: None, ..VerifyPolicy::default() };
            proptest::prop_assert!(verify(&planned.msg, &policy, now()).is_ok());
        }
    }
}
