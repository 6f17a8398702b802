//! The reference server over real mTLS with the test PKI: the whole lifecycle in both profiles,
//! each rule's rejection with its status and code, and for every named flaw a probe showing
//! that the rule it names is really off (and on without it).

mod common;

use common::*;
use dcr_harness::qtsp;
use dcr_harness::server::{CertCheck, DcrAuth, Flaw, ServerConfig, ServerProfile, Variant};
use dcr_harness::signature::dpop::DpopKey;
use dcr_harness::signature::request_object::JwtSigner;
use dcr_harness::signature::Mutation;
use dcr_harness::testing::test_pki_shared;
use dcr_harness::transport::TransportError;
use serde_json::{json, Value};

fn str_of<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or_else(|| panic!("`{field}` missing in {v}"))
}

async fn token_status(ctx: &Ctx, id: &str, secret: &str) -> u16 {
    let call = Call::new("POST", "/oauth/token")
        .signer(None)
        .credentials(None)
        .header("Authorization", &basic(id, secret))
        .content_type("application/x-www-form-urlencoded");
    let mut call = call;
    call.body = b"grant_type=client_credentials".to_vec();
    ctx.answer(call).await.status
}

#[tokio::test(flavor = "multi_thread")]
async fn smbc_lifecycle_register_read_update_refresh_delete() {
    let ctx = Ctx::start(ServerConfig::default()).await;
    let response = ctx.answer(Call::post(REGISTER, &registration_body())).await;
    assert_eq!(response.status, 201);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let client = response.json().expect("json");
    for field in ["client_id", "client_secret", "client_id_issued_at", "client_secret_expires_at"] {
        assert!(client.get(field).is_some(), "{field} in {client}");
    }
    assert_eq!(client["redirect_uris"], json!(["https://tpp.example/cb"]));
    let id = str_of(&client, "client_id").to_string();
    let secret = str_of(&client, "client_secret").to_string();
    let path = format!("{REGISTER}/{id}");

    let read = ctx.answer(Call::new("GET", &path)).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json().expect("json")["client_name"], "test client");

    let update = json!({ "client_id": id, "client_name": "renamed", "redirect_uris": ["https://tpp.example/new"] });
    let updated = ctx.answer(Call::put(&path, &update)).await;
    assert_eq!(updated.status, 200, "{}", outcome(&updated));
    let updated = updated.json().expect("json");
    assert_eq!(updated["redirect_uris"], json!(["https://tpp.example/new"]));
    assert_eq!(str_of(&updated, "client_secret"), secret, "PUT keeps the secret");
    let reread = ctx.answer(Call::new("GET", &path)).await.json().expect("json");
    assert_eq!(reread["redirect_uris"], json!(["https://tpp.example/new"]));

    assert_eq!(token_status(&ctx, &id, &secret).await, 200);
    let refreshed = ctx.answer(Call::new("POST", &format!("{path}/secret"))).await;
    assert_eq!(refreshed.status, 200);
    let new_secret = str_of(&refreshed.json().expect("json"), "client_secret").to_string();
    assert_ne!(new_secret, secret);
    assert_eq!(token_status(&ctx, &id, &secret).await, 401, "old secret no longer works");
    assert_eq!(token_status(&ctx, &id, &new_secret).await, 200);

    assert_eq!(ctx.answer(Call::new("DELETE", &path)).await.status, 204);
    assert_eq!(outcome(&ctx.answer(Call::new("GET", &path)).await), "404 RESOURCE_UNKNOWN");
    assert_eq!(ctx.answer(Call::new("DELETE", &path)).await.status, 404, "delete twice");
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_lifecycle_with_registration_access_token() {
    let config = ServerConfig { profile: ServerProfile::Plain, ..ServerConfig::default() };
    let ctx = Ctx::start(config).await;
    let anonymous = |call: Call| call.tls(None).credentials(None).signer(None);
    let created = ctx.answer(anonymous(Call::post(REGISTER, &registration_body()))).await;
    assert_eq!(created.status, 201, "{}", outcome(&created));
    let client = created.json().expect("json");
    let rat = str_of(&client, "registration_access_token").to_string();
    let uri = str_of(&client, "registration_client_uri").to_string();
    let path = uri.strip_prefix(&ctx.server.url()).expect("uri on this server").to_string();
    let bearer = format!("Bearer {rat}");

    assert_eq!(ctx.answer(anonymous(Call::new("GET", &path)).header("Authorization", &bearer)).await.status, 200);
    let wrong = ctx.answer(anonymous(Call::new("GET", &path)).header("Authorization", "Bearer nope")).await;
    assert_eq!(outcome(&wrong), "401 invalid_token");
    assert!(wrong.header("www-authenticate").is_some_and(|v| v.contains("invalid_token")));
    let update = json!({ "client_id": client["client_id"], "redirect_uris": ["https://tpp.example/two"] });
    let put = ctx.answer(anonymous(Call::put(&path, &update)).header("Authorization", &bearer)).await;
    assert_eq!(put.status, 200, "{}", outcome(&put));
    assert_eq!(ctx.answer(anonymous(Call::new("DELETE", &path)).header("Authorization", &bearer)).await.status, 204);
    let gone = ctx.answer(anonymous(Call::new("GET", &path)).header("Authorization", &bearer)).await;
    assert_eq!(outcome(&gone), "401 invalid_token", "RFC 7592: a deleted client's token is invalid");
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_profile_requires_the_initial_access_token_when_configured() {
    let config = ServerConfig {
        profile: ServerProfile::Plain,
        initial_access_token: Some("iat-1".into()),
        ..ServerConfig::default()
    };
    let ctx = Ctx::start(config).await;
    let call = || Call::post(REGISTER, &registration_body()).tls(None).credentials(None).signer(None);
    assert_eq!(outcome(&ctx.answer(call()).await), "401 invalid_token");
    assert_eq!(ctx.answer(call().header("Authorization", "Bearer iat-1")).await.status, 201);
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_well_known_document_names_the_registration_endpoint() {
    let ctx = Ctx::start(ServerConfig::default()).await;
    let doc =
        ctx.answer(Call::new("GET", "/.well-known/oauth-authorization-server").tls(None)).await.json().expect("json");
    assert_eq!(str_of(&doc, "registration_endpoint"), format!("{}{REGISTER}", ctx.server.url()));
    ctx.server.stop().await;
}

/// Each rule of the smbc profile, broken once, with the answer it must get.
#[tokio::test(flavor = "multi_thread")]
async fn each_rule_is_rejected_with_its_status_and_code() {
    let ctx = Ctx::start(ServerConfig::default()).await;
    let body = registration_body();
    let reg = || Call::post(REGISTER, &body);
    let cases: Vec<(&str, Call, &str)> = vec![
        ("no client certificate", reg().tls(None), "401 CERTIFICATE_MISSING"),
        ("untrusted QWAC", reg().tls(Some("qwac-untrusted")), "401 CERTIFICATE_INVALID"),
        ("expired QWAC", reg().tls(Some("qwac-expired")), "401 CERTIFICATE_EXPIRED"),
        ("not yet valid QWAC", reg().tls(Some("qwac-not-yet-valid")), "401 CERTIFICATE_EXPIRED"),
        ("QWAC without PSD2 statement", reg().tls(Some("qwac-no-psd2")), "401 ROLE_INVALID"),
        ("QWAC without the role", reg().tls(Some("qwac-wrong-role")), "401 ROLE_INVALID"),
        ("QSEAL as QWAC", reg().tls(Some("qseal")), "401 CERTIFICATE_INVALID"),
        ("no DCR credentials", reg().credentials(None), "401 invalid_client"),
        ("other TPP's DCR credentials", reg().credentials(Some("tpp-b")), "401 invalid_client"),
        ("unsigned POST", reg().signer(None), "401 SIGNATURE_MISSING"),
        ("QWAC as QSEAL", reg().signer(Some("qwac")), "401 CERTIFICATE_INVALID"),
        ("expired QSEAL", reg().signer(Some("qseal-expired")), "401 CERTIFICATE_EXPIRED"),
        ("untrusted QSEAL", reg().signer(Some("qseal-untrusted")), "401 CERTIFICATE_INVALID"),
        ("QSEAL of another org", reg().signer(Some("qseal-other-org")), "401 CERTIFICATE_INVALID"),
        ("RSA-1024 QSEAL", reg().signer(Some("qseal-rsa1024")), "401 CERTIFICATE_INVALID"),
        ("stale date", reg().mutation(Mutation::DateStale), "400 TIMESTAMP_INVALID"),
        ("digest mismatch", reg().mutation(Mutation::BodyChangedAfterSigning), "401 SIGNATURE_INVALID"),
        ("date not IMF-fixdate", reg().mutation(Mutation::DateNotImfFixdate), "400 FORMAT_ERROR"),
        (
            "http redirect",
            Call::post(REGISTER, &json!({"redirect_uris": ["http://a.example/cb"]})),
            "400 invalid_redirect_uri",
        ),
        ("no redirect", Call::post(REGISTER, &json!({"client_name": "x"})), "400 invalid_redirect_uri"),
        (
            "inconsistent types",
            Call::post(REGISTER, &json!({"redirect_uris": ["https://a.example/cb"], "response_types": ["token"]})),
            "400 invalid_client_metadata",
        ),
        ("malformed JSON", reg().json(&json!("x")).content_type("application/json"), "400 invalid_client_metadata"),
        ("wrong content type", reg().content_type("text/plain"), "415 invalid_request"),
        ("unknown endpoint", Call::new("GET", "/client/v1/nothing"), "404 not_found"),
        ("wrong method", Call::new("GET", REGISTER), "405 invalid_request"),
    ];
    for (what, call, expected) in cases {
        let response = ctx.answer(call).await;
        assert_eq!(outcome(&response), expected, "{what}");
        assert!(response.json().is_some(), "{what}: the body is JSON");
    }
    let mut oversized = reg();
    oversized.body =
        format!(r#"{{"redirect_uris":["https://a.example/cb"],"pad":"{}"}}"#, "x".repeat(70 * 1024)).into_bytes();
    assert_eq!(ctx.answer(oversized).await.status, 413);
    for mutation in Mutation::ALL.iter().filter(|m| m.bends_http_signature() && m.applies_to(&ctx.dialect)) {
        let response = ctx.answer(reg().mutation(*mutation)).await;
        assert!(matches!(response.status, 400 | 401), "{mutation}: {}", outcome(&response));
    }
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn handshake_mode_refuses_bad_certificates_before_http() {
    let ctx = Ctx::start(ServerConfig { cert_check: CertCheck::Handshake, ..ServerConfig::default() }).await;
    for identity in ["qwac-expired", "qwac-untrusted"] {
        let result = ctx.send(Call::post(REGISTER, &registration_body()).tls(Some(identity))).await;
        assert!(matches!(result, Err(TransportError::TlsRefused { .. })), "{identity}: {result:?}");
    }
    let missing = ctx.send(Call::post(REGISTER, &registration_body()).tls(None)).await;
    assert!(matches!(missing, Err(TransportError::TlsRefused { .. })), "no certificate: {missing:?}");
    assert_eq!(ctx.answer(Call::post(REGISTER, &registration_body())).await.status, 201);
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dcr_credentials_travel_as_basic_or_bearer_when_the_profile_says_so() {
    let pki = dcr_harness::testing::test_pki();
    let tpp = pki.tpp("tpp-a").expect("tpp");
    let ctx = Ctx::start(ServerConfig { dcr_auth: DcrAuth::Basic, ..ServerConfig::default() }).await;
    let basic_call = Call::post(REGISTER, &registration_body()).credentials(None);
    assert_eq!(outcome(&ctx.answer(basic_call.clone()).await), "401 invalid_client");
    let with = basic_call.header("Authorization", &basic(&tpp.dcr_client_id, &tpp.dcr_client_secret));
    assert_eq!(ctx.answer(with).await.status, 201);
    ctx.server.stop().await;

    let ctx = Ctx::start(ServerConfig { dcr_auth: DcrAuth::Bearer, ..ServerConfig::default() }).await;
    let mut token_call = Call::new("POST", "/oauth/token")
        .signer(None)
        .credentials(None)
        .header("Authorization", &basic(&tpp.dcr_client_id, &tpp.dcr_client_secret))
        .content_type("application/x-www-form-urlencoded");
    token_call.body = b"grant_type=client_credentials".to_vec();
    let token = ctx.answer(token_call).await.json().expect("json");
    let bearer = format!("Bearer {}", str_of(&token, "access_token"));
    let call = Call::post(REGISTER, &registration_body()).credentials(None);
    assert_eq!(outcome(&ctx.answer(call.clone().header("Authorization", "Bearer forged")).await), "401 invalid_token");
    assert_eq!(ctx.answer(call.header("Authorization", &bearer)).await.status, 201);
    ctx.server.stop().await;
}

/// The decisive observation for a flaw: what the server answered to the request that the
/// flaw's rule forbids, or what it did (kept a secret, leaked a header) where that is the rule.
async fn probe(ctx: &Ctx, flaw: Flaw) -> String {
    let body = registration_body();
    let reg = || Call::post(REGISTER, &body);
    let register_observed = |call: Call| async move { outcome(&ctx.answer(call).await) };
    use Flaw::*;
    match flaw {
        SkipClientCert => register_observed(reg().tls(None)).await,
        AcceptUntrustedCa => register_observed(reg().tls(Some("qwac-untrusted"))).await,
        AcceptExpiredQwac => register_observed(reg().tls(Some("qwac-expired"))).await,
        AcceptNonQwac => register_observed(reg().tls(Some("qseal"))).await,
        SkipPsd2RoleCheck => register_observed(reg().tls(Some("qwac-wrong-role"))).await,
        SkipDcrCredentials => register_observed(reg().credentials(None)).await,
        AcceptOtherTppCredentials => register_observed(reg().credentials(Some("tpp-b"))).await,
        SkipSignature => register_observed(reg().mutation(Mutation::SignatureHeaderMissing)).await,
        AcceptBadSignature => register_observed(reg().mutation(Mutation::SignedByAnotherKey)).await,
        SkipDigestCheck => register_observed(reg().mutation(Mutation::BodyChangedAfterSigning)).await,
        IgnoreDate => register_observed(reg().mutation(Mutation::DateNotImfFixdate)).await,
        UnboundedClockSkew => register_observed(reg().mutation(Mutation::DateStale)).await,
        IgnoreRequestTarget => register_observed(reg().mutation(Mutation::HeadersWithoutRequestTarget)).await,
        AcceptUnsignedHeaders => register_observed(reg().mutation(Mutation::HeadersWithoutDigest)).await,
        SkipKeyidMatch => register_observed(reg().mutation(Mutation::KeyIdSerialWrong)).await,
        AcceptAnySigningCert => register_observed(reg().signer(Some("qwac"))).await,
        AcceptUntrustedQseal => register_observed(reg().signer(Some("qseal-untrusted"))).await,
        AcceptExpiredQseal => register_observed(reg().signer(Some("qseal-expired"))).await,
        SkipOrgMatch => register_observed(reg().signer(Some("qseal-other-org"))).await,
        AcceptWeakKey => register_observed(reg().signer(Some("qseal-rsa1024"))).await,
        AcceptDuplicateHeaders => register_observed(reg().mutation(Mutation::SignatureHeaderDuplicated)).await,
        SkipSignatureTag => register_observed(reg().mutation(Mutation::TagWrong)).await,
        SkipRevocationCheck => register_observed(reg().signer(Some("qseal-revoked"))).await,
        SkipRequestIdCheck => register_observed(reg().mutation(Mutation::RequestIdMissing)).await,
        PresentHeadersNeedNoSignature => {
            register_observed(reg().header("PSU-ID", "psu-1").mutation(Mutation::PresentHeaderNotSigned)).await
        }
        UnsignedReadsAccepted => {
            let id = ctx.register(Tpp::A).await["client_id"].as_str().expect("id").to_string();
            outcome(&ctx.answer(Call::new("GET", &format!("{REGISTER}/{id}")).signer(None)).await)
        }
        RefuseSha512Digest => {
            // The rule here is to accept: every call of this context signs a SHA-512 Digest.
            format!("a SHA-512 Digest: {}", register_observed(reg()).await)
        }
        IgnoreSignatureExpiry => register_observed(reg().mutation(Mutation::SignatureExpired)).await,
        AcceptHttpRedirectUri => {
            register_observed(Call::post(REGISTER, &json!({"redirect_uris": ["http://a.example/cb"]}))).await
        }
        SkipRedirectUriValidation => {
            register_observed(Call::post(REGISTER, &json!({"redirect_uris": ["https://a.example/cb#f"]}))).await
        }
        SkipMetadataValidation => {
            register_observed(Call::post(
                REGISTER,
                &json!({"redirect_uris": ["https://a.example/cb"], "response_types": ["token"]}),
            ))
            .await
        }
        AcceptWrongContentType => register_observed(reg().content_type("text/plain")).await,
        NoBodyLimit => {
            let mut call = reg();
            call.body = format!(r#"{{"redirect_uris":["https://a.example/cb"],"pad":"{}"}}"#, "x".repeat(70 * 1024))
                .into_bytes();
            register_observed(call).await
        }
        OmitNoStore => {
            let response = ctx.answer(reg()).await;
            format!("cache-control {:?}", response.header("cache-control"))
        }
        OmitSecretExpiry => {
            let client = ctx.answer(reg()).await.json().expect("json");
            format!("client_secret_expires_at present: {}", client.get("client_secret_expires_at").is_some())
        }
        IssueExpiredSecret => {
            let client = ctx.answer(reg()).await.json().expect("json");
            let (issued, expires) =
                (client["client_id_issued_at"].as_u64(), client["client_secret_expires_at"].as_u64());
            format!(
                "expires after it is issued: {}",
                matches!((issued, expires), (Some(i), Some(e)) if e == 0 || e > i)
            )
        }
        RefreshKeepsOldSecret => {
            let client = ctx.register(Tpp::A).await;
            let (id, secret) = (str_of(&client, "client_id"), str_of(&client, "client_secret"));
            ctx.answer(Call::new("POST", &format!("{REGISTER}/{id}/secret"))).await;
            format!("old secret: {}", token_status(ctx, id, secret).await)
        }
        UpdateAugmentsMetadata => {
            let client = ctx.register(Tpp::A).await;
            let id = str_of(&client, "client_id");
            let path = format!("{REGISTER}/{id}");
            ctx.answer(Call::put(&path, &json!({"client_id": id, "redirect_uris": ["https://a.example/new"]}))).await;
            let read = ctx.answer(Call::new("GET", &path)).await.json().expect("json");
            format!("redirect_uris after the update: {}", read["redirect_uris"])
        }
        UpdateResurrectsDeleted => {
            let id = ctx.register(Tpp::A).await["client_id"].as_str().expect("id").to_string();
            let path = format!("{REGISTER}/{id}");
            let update =
                ctx.answer(Call::put(&path, &json!({"client_id": id, "redirect_uris": ["https://a.example/new"]})));
            let delete = async {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                ctx.answer(Call::new("DELETE", &path)).await
            };
            let (update, delete) = tokio::join!(update, delete);
            let read = ctx.answer(Call::new("GET", &path)).await.status;
            format!("update {}, delete {}, read after both {read}", update.status, delete.status)
        }
        DeleteKeepsClient => {
            let id = ctx.register(Tpp::A).await["client_id"].as_str().expect("id").to_string();
            ctx.answer(Call::new("DELETE", &format!("{REGISTER}/{id}"))).await;
            format!("read after delete: {}", ctx.answer(Call::new("GET", &format!("{REGISTER}/{id}"))).await.status)
        }
        CrossTppRead | CrossTppUpdate | CrossTppDelete | CrossTppRefresh | LeakExistence => {
            let client = ctx.register(Tpp::A).await;
            let id = str_of(&client, "client_id");
            let path = format!("{REGISTER}/{id}");
            let call = match flaw {
                CrossTppUpdate => {
                    Call::put(&path, &json!({"client_id": id, "redirect_uris": ["https://evil.example/cb"]}))
                }
                CrossTppDelete => Call::new("DELETE", &path),
                CrossTppRefresh => Call::new("POST", &format!("{path}/secret")),
                _ => Call::new("GET", &path),
            };
            outcome(&ctx.answer(call.by_tpp(Tpp::B)).await)
        }
        RefuseObsoleteDateForms => {
            // The rule here is to accept: the clean server takes the RFC 850 Date, the flawed one
            // refuses it.
            let rfc850 = reg().date_form(dcr_harness::signature::DateForm::Rfc850);
            format!("an RFC 850 Date: {}", register_observed(rfc850).await)
        }
        RefuseUnknownMetadata => {
            // The rule here is to ignore: the clean server takes the registration, the flawed one
            // refuses it.
            let unknown = json!({ "redirect_uris": ["https://a.example/cb"], "x_vendor": 1 });
            format!("an unknown field: {}", register_observed(Call::post(REGISTER, &unknown)).await)
        }
        UnknownClientNot404 => outcome(&ctx.answer(Call::new("GET", &format!("{REGISTER}/never-issued"))).await),
        AcceptAnotherClientsRegistrationToken => format!("{}", lend_a_token(ctx).await.0),
        AcceptBadRegistrationToken | AcceptMissingRegistrationToken => {
            let anonymous = |call: Call| call.tls(None).credentials(None).signer(None);
            let client = ctx.answer(anonymous(Call::post(REGISTER, &body))).await.json().expect("json");
            let path = format!("{REGISTER}/{}", str_of(&client, "client_id"));
            let read = anonymous(Call::new("GET", &path));
            let read = match flaw {
                AcceptBadRegistrationToken => read.header("Authorization", "Bearer guessed"),
                _ => read,
            };
            outcome(&ctx.answer(read).await)
        }
        AcceptJsonRegistration => {
            let mut body = registration_body();
            body["software_statement"] = json!(ctx.pki.statement("ssa").expect("ssa"));
            register_observed(Call::post(REGISTER, &body).credentials(None).signer(None)).await
        }
        SkipRequestObjectSignature => {
            register_observed(obuk_registration(ctx, json!({}), Some(Mutation::RequestObjectBadSignature))).await
        }
        AcceptAnyRequestObjectAlg => {
            register_observed(obuk_registration(ctx, json!({}), Some(Mutation::RequestObjectRs256))).await
        }
        AcceptExpiredRequestObject => {
            register_observed(obuk_registration(ctx, json!({}), Some(Mutation::RequestObjectExpired))).await
        }
        SkipRequestObjectAudience => {
            register_observed(obuk_registration(ctx, json!({}), Some(Mutation::RequestObjectWrongAudience))).await
        }
        SkipRequestObjectIssuer => {
            register_observed(obuk_registration(ctx, json!({}), Some(Mutation::RequestObjectWrongIssuer))).await
        }
        AcceptAnyResponseTypes => {
            // DCR-011's response types, consistent with their grant (RFC 7591 §2.1).
            let implicit = json!({ "response_types": ["id_token", "token"], "grant_types": ["implicit"] });
            register_observed(obuk_registration(ctx, implicit, None)).await
        }
        AcceptAnyAuthSigningAlg => {
            register_observed(obuk_registration(ctx, json!({ "token_endpoint_auth_signing_alg": "RS256" }), None)).await
        }
        AcceptAnotherClientsToken => {
            let (path, _) = obuk_client(ctx).await;
            let (_, other_bearer) = obuk_client(ctx).await;
            outcome(&ctx.answer(obuk_call("GET", &path).header("Authorization", &other_bearer)).await)
        }
        AcceptUnsupportedResponseAlg | AcceptEncWithoutAlg | SkipApplicationType => {
            let (field, value) = match flaw {
                AcceptUnsupportedResponseAlg => ("authorization_signed_response_alg", "none"),
                AcceptEncWithoutAlg => ("id_token_encrypted_response_enc", "A128CBC-HS256"),
                _ => ("application_type", "desktop"),
            };
            let mut body = registration_body();
            body[field] = json!(value);
            register_observed(Call::post(REGISTER, &body)).await
        }
        SkipSignatureWhenBusy => {
            // Busy: more signed requests within a second than the flawed server checks.
            let flood = (0..1_200).map(|_| ctx.answer(reg().mutation(Mutation::SignedByAnotherKey)));
            let stream = futures_util::StreamExt::buffer_unordered(futures_util::stream::iter(flood), 64);
            let _: Vec<_> = futures_util::StreamExt::collect(stream).await;
            register_observed(reg().mutation(Mutation::SignedByAnotherKey)).await
        }
        SlowUnderBurst => {
            // The reads need no token: the burst is counted before a read is judged.
            let (id, _) = obuk_client_with(ctx, cdr_fields()).await;
            let started = std::time::Instant::now();
            let path = format!("{REGISTER}/{id}");
            let reads = (0..8).map(|_| ctx.answer(obuk_call("GET", &path)));
            let answers = futures_util::future::join_all(reads).await;
            format!(
                "8 reads at once: {} answered, within a second: {}",
                answers.len(),
                started.elapsed().as_millis() < 1_000
            )
        }
        WidenScope => {
            let mut body = registration_body();
            body["scope"] = json!("accounts");
            let client = ctx.answer(Call::post(REGISTER, &body)).await.json().expect("json");
            format!("scope {}", client["scope"])
        }
        SkipSectorIdentifierCheck => {
            let mut body = registration_body();
            body["sector_identifier_uri"] = json!("https://127.0.0.1:9/nothing-listens-here.json");
            register_observed(Call::post(REGISTER, &body)).await
        }
        WrongDefaultEnc => {
            let mut body = registration_body();
            body["id_token_encrypted_response_alg"] = json!("RSA-OAEP");
            let client = ctx.answer(Call::post(REGISTER, &body)).await.json().expect("json");
            format!("id_token_encrypted_response_enc {}", client["id_token_encrypted_response_enc"])
        }
        UnboundAccessTokens | ResourceSkipsBinding => bound_token_over_another_certificate(ctx, true).await,
        RefuseUnsupportedSsaScopes => {
            // A statement the directory issues for a product names an energy scope a bank ignores.
            let issued = ctx.pki.issue_statements("tpp-a", "probe-app", 1).expect("a statement");
            let mut metadata = cdr_fields();
            metadata["software_statement"] = json!(issued[0]);
            let created = ctx.answer(obuk_registration(ctx, metadata, None)).await;
            match created.json() {
                Some(client) if created.status == 201 => format!("registered with scope {}", client["scope"]),
                _ => outcome(&created),
            }
        }
        AcceptDuplicateRegistration => {
            obuk_client_with(ctx, cdr_fields()).await;
            register_observed(obuk_registration(ctx, cdr_fields(), None)).await
        }
        CdrAnyAuthMethod | CdrRequiredMetadataOptional => {
            let mut fields = cdr_fields();
            match flaw {
                CdrAnyAuthMethod => fields["token_endpoint_auth_method"] = json!("client_secret_basic"),
                _ => drop(fields.as_object_mut().and_then(|f| f.remove("id_token_signed_response_alg"))),
            }
            register_observed(obuk_registration(ctx, fields, None)).await
        }
        SkipRegistrationScopeCheck => {
            let (id, _) = obuk_client_with(ctx, cdr_fields()).await;
            let issued = ctx.answer(token_call(&assertion_form(ctx, &id, None))).await;
            let bearer = format!("Bearer {}", str_of(&issued.json().expect("json"), "access_token"));
            outcome(&ctx.answer(obuk_call("GET", &format!("{REGISTER}/{id}")).header("Authorization", &bearer)).await)
        }
        PermissiveTls12Suites => {
            let chacha = dcr_harness::tls_probe::cipher_suite("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
            handshake_with(ctx, TlsVersion::V1_2, chacha.into_iter().collect()).await
        }
        NoTls13 => handshake_with(ctx, TlsVersion::V1_3, vec![]).await,
        AcceptJwksAndJwksUri | SkipJwksValidation => {
            let jwks = match flaw {
                AcceptJwksAndJwksUri => json!({ "keys": [] }),
                _ => json!({ "keys": "not a list" }),
            };
            let mut body = registration_body();
            body["jwks"] = jwks;
            if flaw == AcceptJwksAndJwksUri {
                body["jwks_uri"] = json!("https://tpp.example/jwks");
            }
            register_observed(Call::post(REGISTER, &body)).await
        }
        SkipSelfSignedKeyMatch => {
            let (id, _) =
                obuk_client_with(ctx, json!({ "token_endpoint_auth_method": "self_signed_tls_client_auth" })).await;
            outcome(&ctx.answer(token_call(&format!("&client_id={id}")).tls(Some("qwac-b"))).await)
        }
        DpopNotRequired | SkipDpopProofChecks | UnboundDpopTokens | ResourceSkipsDpop => dpop(ctx, flaw).await,
        JwksKeptForever | RetiredKeyAccepted => key_rotation(ctx, std::time::Duration::from_millis(1_100)).await,
        AcceptUnreadableJwksUri => {
            let mut body = registration_body();
            body["token_endpoint_auth_method"] = json!("private_key_jwt");
            body["jwks_uri"] = json!("https://127.0.0.1:9/nothing-listens-here.jwks");
            let client = ctx.answer(Call::post(REGISTER, &body)).await.json().expect("json");
            let id = str_of(&client, "client_id");
            outcome(&ctx.answer(token_call(&assertion_form(ctx, id, None))).await)
        }
        TokenAuthMethodNotEnforced => {
            let (id, secret) = obuk_client_with(ctx, tls_client_auth(ctx, "qwac")).await;
            outcome(&ctx.answer(token_call("").header("Authorization", &basic(&id, &secret))).await)
        }
        SkipTlsClientAuthSanMatch => {
            let other =
                ctx.pki.identity("qwac-b").expect("qwac-b").info.dns_names.first().cloned().expect("a DNS name");
            let san = json!({ "token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_san_dns": other });
            let (id, _) = obuk_client_with(ctx, san).await;
            outcome(&ctx.answer(token_call(&format!("&client_id={id}"))).await)
        }
        AcceptUnverifiableRequestObject => {
            // TPP A's statement with its keys at the key store's set of TPP B's key.
            let keystore =
                dcr_harness::keystore::start(ctx.pki, Default::default()).await.expect("the key store starts");
            let endpoint = format!("{}/qseal-b.jwks", keystore.url());
            let issued = ctx.pki.issue_statement_with_keys_at("tpp-a", "tpp-a-app", &endpoint).expect("a statement");
            let answer = ctx.answer(obuk_registration(ctx, json!({ "software_statement": issued }), None)).await;
            keystore.stop().await;
            outcome(&answer)
        }
        SkipSubjectDnForm => {
            // The QWAC's own DN, country first.
            let subject = ctx.pki.identity("qwac").expect("qwac").info.subject.clone();
            let metadata =
                json!({ "token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": subject });
            outcome(&ctx.answer(obuk_registration(ctx, metadata, None)).await)
        }
        SkipTlsClientAuthDnMatch => {
            let (id, _) = obuk_client_with(ctx, tls_client_auth(ctx, "qwac-b")).await;
            outcome(&ctx.answer(token_call(&format!("&client_id={id}"))).await)
        }
        SkipClientAssertionSignature | SkipClientAssertionAudience | AcceptExpiredClientAssertion => {
            let mutation = match flaw {
                SkipClientAssertionSignature => Mutation::ClientAssertionSignedByAnotherKey,
                SkipClientAssertionAudience => Mutation::ClientAssertionWrongAudience,
                _ => Mutation::ClientAssertionExpired,
            };
            let (id, _) = obuk_client_with(ctx, json!({ "token_endpoint_auth_method": "private_key_jwt" })).await;
            outcome(&ctx.answer(token_call(&assertion_form(ctx, &id, Some(mutation)))).await)
        }
        AcceptReplayedClientAssertion => {
            let (id, _) = obuk_client_with(ctx, json!({ "token_endpoint_auth_method": "private_key_jwt" })).await;
            let form = assertion_form(ctx, &id, None);
            let first = ctx.answer(token_call(&form)).await.status;
            format!("first {first}, again {}", outcome(&ctx.answer(token_call(&form)).await))
        }
        StatementSwapOnUpdate => {
            let plain = |call: Call| call.tls(None).credentials(None).signer(None);
            let mut body = json!({ "redirect_uris": ["https://tpp.example/cb"] });
            body["software_statement"] = json!(ctx.pki.statement("ssa").expect("ssa"));
            let client = ctx.answer(plain(Call::post(REGISTER, &body))).await.json().expect("json");
            let (id, rat) = (str_of(&client, "client_id"), str_of(&client, "registration_access_token"));
            body["client_id"] = json!(id);
            body["software_statement"] = json!(ctx.pki.statement("ssa-b").expect("ssa-b"));
            let path = format!("{REGISTER}/{id}");
            let update = plain(Call::put(&path, &body)).header("Authorization", &format!("Bearer {rat}"));
            outcome(&ctx.answer(update).await)
        }
        StatementOptional
        | SkipStatementSignature
        | AcceptAnyStatementAlg
        | AcceptExpiredStatement
        | StatementNotPrecedent
        | SkipStatementRedirectCheck
        | OmitStatementEcho => {
            let statement = match flaw {
                StatementOptional => None,
                SkipStatementSignature => Some("ssa-bad-signature"),
                AcceptAnyStatementAlg => Some("ssa-rs256"),
                AcceptExpiredStatement => Some("ssa-expired"),
                SkipStatementRedirectCheck => Some("ssa-redirect-elsewhere"),
                _ => Some("ssa"),
            };
            let mut body = json!({ "redirect_uris": ["https://tpp.example/cb"], "software_version": "the request's" });
            if let Some(name) = statement {
                body["software_statement"] = json!(ctx.pki.statement(name).expect("a statement of the test directory"));
            }
            let answer = ctx.answer(Call::post(REGISTER, &body).tls(None).credentials(None).signer(None)).await;
            let json = answer.json().unwrap_or_default();
            match flaw {
                StatementNotPrecedent => format!("software_version {}", json["software_version"]),
                OmitStatementEcho => format!("statement returned: {}", json.get("software_statement").is_some()),
                _ => outcome(&answer),
            }
        }
    }
}

/// An `obuk` call: over the QWAC, no DCR credentials, no HTTP signature.
use dcr_harness::tls_probe::TlsVersion;

/// What `observe` sees of a server of `profile` without `variant`, then with it.
async fn without_and_with<T>(
    variant: Variant,
    profile: ServerProfile,
    observe: impl for<'c> Fn(&'c Ctx) -> futures_util::future::BoxFuture<'c, T>,
) -> [T; 2] {
    let mut seen = Vec::with_capacity(2);
    for variants in [vec![], vec![variant]] {
        let ctx =
            Ctx::start(ServerConfig { profile, variants: variants.into_iter().collect(), ..ServerConfig::default() })
                .await;
        seen.push(observe(&ctx).await);
        ctx.server.stop().await;
    }
    match <[T; 2]>::try_from(seen) {
        Ok(pair) => pair,
        Err(_) => unreachable!("two servers, two observations"),
    }
}

/// How the server answers a ClientHello offering `version` (and `suites`).
async fn handshake_with(ctx: &Ctx, version: TlsVersion, suites: Vec<u16>) -> String {
    let addr = ctx.server.url().trim_start_matches("https://").to_string();
    let offer = dcr_harness::tls_probe::Offer { version, cipher_suites: suites };
    let answer = dcr_harness::tls_probe::probe(&addr, None, &offer, std::time::Duration::from_secs(10)).await;
    answer.map_or_else(|e| e.to_string(), |a| a.to_string())
}

/// What the protected resource answers to a token of an `obuk` client (registered asking for
/// certificate-bound tokens, or not) fetched over the QWAC and presented over TPP B's.
async fn bound_token_over_another_certificate(ctx: &Ctx, asks_for_binding: bool) -> String {
    let (id, secret) =
        obuk_client_with(ctx, json!({ "tls_client_certificate_bound_access_tokens": asks_for_binding })).await;
    let issued = ctx.answer(token_call("").header("Authorization", &basic(&id, &secret))).await;
    let bearer = format!("Bearer {}", str_of(&issued.json().expect("json"), "access_token"));
    let own = ctx.answer(obuk_call("GET", "/resource/v1/whoami").header("Authorization", &bearer)).await;
    assert_eq!(own.status, 200, "over its own certificate: {}", outcome(&own));
    let other = obuk_call("GET", "/resource/v1/whoami").header("Authorization", &bearer).tls(Some("qwac-b"));
    outcome(&ctx.answer(other).await)
}

/// A client registered with `dpop_bound_access_tokens`: its HTTP Basic credentials, the token
/// endpoint's URL, and two DPoP keys (its own, and another).
async fn dpop_client(ctx: &Ctx) -> (String, String, (DpopKey, DpopKey)) {
    let mut body = registration_body();
    body["grant_types"] = json!(["authorization_code", "client_credentials"]);
    body["dpop_bound_access_tokens"] = json!(true);
    let client = ctx.answer(Call::post(REGISTER, &body)).await.json().expect("json");
    let basic = basic(str_of(&client, "client_id"), str_of(&client, "client_secret"));
    let keys = (DpopKey::generate().expect("a key"), DpopKey::generate().expect("another"));
    (basic, format!("{}/oauth/token", ctx.server.url()), keys)
}

/// A client registered with `dpop_bound_access_tokens`: what the server answers to the request
/// the flaw's rule is about (RFC 9449 §5.2, §4.3, §5, §7.2).
async fn dpop(ctx: &Ctx, flaw: Flaw) -> String {
    let (basic, token_url, (key, other)) = dpop_client(ctx).await;
    let now = std::time::SystemTime::now();
    let of = dcr_harness::signature::dpop::ProofOf::request("POST", &token_url);
    let proof = |mutation| key.proof(&of, now, mutation, &other).expect("a proof");
    let token = |proof: Option<String>| {
        let call = token_call("").header("Authorization", &basic);
        match proof {
            Some(proof) => call.header("DPoP", &proof),
            None => call,
        }
    };
    match flaw {
        Flaw::DpopNotRequired => outcome(&ctx.answer(token(None)).await),
        Flaw::SkipDpopProofChecks => outcome(&ctx.answer(token(Some(proof(Some(Mutation::DpopStale))))).await),
        Flaw::UnboundDpopTokens => {
            let issued = ctx.answer(token(Some(proof(None)))).await.json().expect("json");
            format!("token_type {}", issued["token_type"])
        }
        _ => {
            let issued = ctx.answer(token(Some(proof(None)))).await.json().expect("json");
            let bearer = format!("Bearer {}", str_of(&issued, "access_token"));
            outcome(&ctx.answer(obuk_call("GET", "/resource/v1/whoami").header("Authorization", &bearer)).await)
        }
    }
}

/// A DPoP client's token request with a proof without a nonce: its answer, and where the answer
/// gave a nonce, the answer to the same request with a proof carrying it.
async fn dpop_nonce_asked(ctx: &Ctx) -> String {
    use dcr_harness::signature::dpop::ProofOf;
    let (basic, token_url, (key, other)) = dpop_client(ctx).await;
    let send = |nonce: Option<String>| {
        let of = ProofOf { nonce: nonce.as_deref(), ..ProofOf::request("POST", &token_url) };
        let proof = key.proof(&of, std::time::SystemTime::now(), None, &other).expect("a proof");
        ctx.answer(token_call("").header("Authorization", &basic).header("DPoP", &proof))
    };
    let first = send(None).await;
    match first.header("dpop-nonce").map(str::to_string) {
        None => outcome(&first),
        Some(nonce) => format!("{}, then {} with it", outcome(&first), outcome(&send(Some(nonce)).await)),
    }
}

/// What the `cdr` mode requires of every registration besides the statement.
fn cdr_fields() -> Value {
    json!({
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "PS256",
        "id_token_signed_response_alg": "PS256",
        "grant_types": ["authorization_code", "client_credentials"],
    })
}

fn obuk_call(method: &'static str, path: &str) -> Call {
    Call::new(method, path).credentials(None).signer(None)
}

/// Metadata with TPP A's statement and `extra`, as a request object signed by its QSEAL (with
/// `mutation`), posted to register.
fn obuk_registration(ctx: &Ctx, extra: Value, mutation: Option<Mutation>) -> Call {
    use dcr_harness::signature::request_object::{sign_request_object, statement_software_id, RequestObjectClaims};
    let mut metadata = json!({ "redirect_uris": ["https://tpp.example/cb"], "software_version": "the request's" });
    metadata["software_statement"] = json!(ctx.pki.statement("ssa").expect("ssa"));
    for (name, value) in extra.as_object().into_iter().flatten() {
        metadata[name] = value.clone();
    }
    let metadata = metadata.as_object().cloned().unwrap_or_default();
    let issuer = statement_software_id(&metadata).expect("the statement names its software");
    let url = ctx.server.url();
    let claims = RequestObjectClaims { issuer: &issuer, audience: &url, lifetime: std::time::Duration::from_secs(300) };
    let jws = sign_request_object(&metadata, &claims, tpp_a(ctx), mutation).expect("a request object");
    let mut call = obuk_call("POST", REGISTER).content_type("application/jose");
    call.body = jws.into_bytes();
    call
}

/// TPP A signing its JWTs now with its QSEAL (TPP B's for the mutations that need another key).
fn tpp_a(ctx: &Ctx) -> dcr_harness::signature::request_object::JwtSigner<'static> {
    let (identity, other) = (ctx.pki.identity("qseal").expect("qseal"), ctx.pki.identity("qseal-b").ok());
    dcr_harness::signature::request_object::JwtSigner { identity, other, now: std::time::SystemTime::now() }
}

/// Registers through the `obuk` mode; returns the client's path and a bearer of its own token.
async fn obuk_client(ctx: &Ctx) -> (String, String) {
    let created = ctx.answer(obuk_registration(ctx, json!({}), None)).await;
    assert_eq!(created.status, 201, "{}", outcome(&created));
    let client = created.json().expect("json");
    let (id, secret) = (str_of(&client, "client_id"), str_of(&client, "client_secret"));
    let mut call = obuk_call("POST", "/oauth/token")
        .header("Authorization", &basic(id, secret))
        .content_type("application/x-www-form-urlencoded");
    call.body = b"grant_type=client_credentials".to_vec();
    let token = ctx.answer(call).await.json().expect("json");
    (format!("{REGISTER}/{id}"), format!("Bearer {}", str_of(&token, "access_token")))
}

/// Registers through the `obuk` mode with `extra` metadata; returns the client's id and secret.
async fn obuk_client_with(ctx: &Ctx, extra: Value) -> (String, String) {
    let created = ctx.answer(obuk_registration(ctx, extra, None)).await;
    assert_eq!(created.status, 201, "{}", outcome(&created));
    let client = created.json().expect("json");
    (str_of(&client, "client_id").to_string(), str_of(&client, "client_secret").to_string())
}

/// Metadata of a tls_client_auth client whose registered subject DN is `identity`'s.
fn tls_client_auth(ctx: &Ctx, identity: &str) -> Value {
    let subject = ctx.pki.identity(identity).expect("identity").info.subject_rfc4514.clone();
    json!({ "token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": subject })
}

/// A client-credentials token request over the QWAC, with `more` form fields (`&k=v...`).
fn token_call(more: &str) -> Call {
    let mut call = obuk_call("POST", "/oauth/token").content_type("application/x-www-form-urlencoded");
    call.body = format!("grant_type=client_credentials{more}").into_bytes();
    call
}

/// The form fields of a private_key_jwt assertion for client `id`, signed by TPP A's QSEAL.
fn assertion_form(ctx: &Ctx, id: &str, mutation: Option<Mutation>) -> String {
    assertion_form_by(ctx, id, tpp_a(ctx), mutation)
}

fn assertion_form_by(ctx: &Ctx, id: &str, signer: JwtSigner<'static>, mutation: Option<Mutation>) -> String {
    let audience = format!("{}/oauth/token", ctx.server.url());
    let jws = dcr_harness::signature::request_object::sign_client_assertion(id, &audience, signer, mutation)
        .expect("an assertion");
    format!("&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion={jws}")
}

/// A `private_key_jwt` client whose `jwks_uri` (the harness's key store) rotates from TPP A's
/// QSEAL key to TPP B's: what the server answers, `after` the rotation, to an assertion signed
/// with the retired key and then to one signed with the new key.
async fn key_rotation(ctx: &Ctx, after: std::time::Duration) -> String {
    let keystore = dcr_harness::keystore::start(ctx.pki, Default::default()).await.expect("the key store starts");
    let handle = keystore.handle();
    let mut body = registration_body();
    body["token_endpoint_auth_method"] = json!("private_key_jwt");
    body["jwks_uri"] = json!(handle.rotating_jwks_uri("qseal", "qseal-b", "probe"));
    let client = ctx.answer(Call::post(REGISTER, &body)).await.json().expect("json");
    let id = str_of(&client, "client_id");
    let first = ctx.answer(token_call(&assertion_form(ctx, id, None))).await;
    assert_eq!(first.status, 200, "the first key: {}", outcome(&first));
    handle.rotate("probe").expect("rotated");
    tokio::time::sleep(after).await;
    let with_retired = outcome(&ctx.answer(token_call(&assertion_form(ctx, id, None))).await);
    let new = JwtSigner { identity: ctx.pki.identity("qseal-b").expect("qseal-b"), ..tpp_a(ctx) };
    let with_new = outcome(&ctx.answer(token_call(&assertion_form_by(ctx, id, new, None))).await);
    keystore.stop().await;
    format!("the retired key: {with_retired}; the new key: {with_new}")
}

#[tokio::test(flavor = "multi_thread")]
async fn obuk_lifecycle_with_request_objects_and_the_clients_own_token() {
    let ctx = Ctx::start(ServerConfig { profile: ServerProfile::Obuk, ..ServerConfig::default() }).await;
    let (path, bearer) = obuk_client(&ctx).await;
    let read = ctx.answer(obuk_call("GET", &path).header("Authorization", &bearer)).await;
    assert_eq!(read.status, 200, "{}", outcome(&read));
    let client = read.json().expect("json");
    assert_eq!(client["software_version"], "1.0", "the statement's claims take precedence");
    assert!(client.get("registration_access_token").is_none(), "managed by access token, not RAT");
    assert_eq!(outcome(&ctx.answer(obuk_call("GET", &path)).await), "401 invalid_token");
    let (other_path, other_bearer) = obuk_client(&ctx).await;
    let borrowed = ctx.answer(obuk_call("GET", &path).header("Authorization", &other_bearer)).await;
    assert_eq!(outcome(&borrowed), "401 invalid_token", "another client's token");
    let json_body = Call::post(REGISTER, &registration_body()).credentials(None).signer(None);
    assert_eq!(ctx.answer(json_body).await.status, 415, "JSON where a request object is required");
    assert_eq!(ctx.answer(obuk_call("DELETE", &path).header("Authorization", &bearer)).await.status, 204);
    let gone = ctx.answer(obuk_call("GET", &path).header("Authorization", &bearer)).await;
    assert_eq!(outcome(&gone), "401 invalid_token", "a deleted client's token manages nothing");
    ctx.answer(obuk_call("DELETE", &other_path).header("Authorization", &other_bearer)).await;
    let (id, _) = obuk_client_with(&ctx, json!({ "token_endpoint_auth_method": "self_signed_tls_client_auth" })).await;
    let own_key = ctx.answer(token_call(&format!("&client_id={id}"))).await;
    assert_eq!(own_key.status, 200, "the QWAC's key is in the statement's jwks: {}", outcome(&own_key));
    let token = format!("Bearer {}", str_of(&own_key.json().expect("json"), "access_token"));
    ctx.answer(obuk_call("DELETE", &format!("{REGISTER}/{id}")).header("Authorization", &token)).await;
    assert_eq!(ctx.server.registered_clients(), 0);
    ctx.server.stop().await;
}

fn profile_for(flaw: Flaw) -> ServerProfile {
    if OBUK_FLAWS.contains(&flaw) {
        return ServerProfile::Obuk;
    }
    if matches!(
        flaw,
        Flaw::AcceptDuplicateRegistration
            | Flaw::CdrAnyAuthMethod
            | Flaw::CdrRequiredMetadataOptional
            | Flaw::SkipRegistrationScopeCheck
            | Flaw::RefuseUnsupportedSsaScopes
            | Flaw::SlowUnderBurst
    ) {
        return ServerProfile::Cdr;
    }
    if matches!(
        flaw,
        Flaw::AcceptBadRegistrationToken
            | Flaw::AcceptMissingRegistrationToken
            | Flaw::AcceptAnotherClientsRegistrationToken
    ) {
        ServerProfile::Plain
    } else if flaw.name().contains("statement") {
        ServerProfile::Fapi
    } else {
        ServerProfile::Smbc
    }
}

/// Flaws of rules only the `obuk` mode has.
const OBUK_FLAWS: &[Flaw] = &[
    Flaw::AcceptJsonRegistration,
    Flaw::SkipRequestObjectSignature,
    Flaw::AcceptAnyRequestObjectAlg,
    Flaw::AcceptExpiredRequestObject,
    Flaw::SkipRequestObjectAudience,
    Flaw::SkipRequestObjectIssuer,
    Flaw::AcceptAnotherClientsToken,
    Flaw::AcceptAnyResponseTypes,
    Flaw::AcceptAnyAuthSigningAlg,
    Flaw::TokenAuthMethodNotEnforced,
    Flaw::SkipTlsClientAuthDnMatch,
    Flaw::SkipClientAssertionSignature,
    Flaw::SkipClientAssertionAudience,
    Flaw::AcceptExpiredClientAssertion,
    Flaw::AcceptReplayedClientAssertion,
    Flaw::SkipSelfSignedKeyMatch,
    Flaw::SkipTlsClientAuthSanMatch,
    Flaw::SkipSubjectDnForm,
    Flaw::AcceptUnverifiableRequestObject,
    Flaw::UnboundAccessTokens,
    Flaw::ResourceSkipsBinding,
];

/// RFC 9421's own rules are probed in RFC 9421, FAPI 2.0 Message Signing's tag included.
fn dialect_for(flaw: Flaw) -> dcr_harness::signature::Dialect {
    use dcr_harness::signature::{rfc9421::Rfc9421, Dialect, DigestAlgorithm, Scheme};
    match flaw {
        Flaw::SkipSignatureTag | Flaw::IgnoreSignatureExpiry => Dialect {
            scheme: Scheme::Rfc9421,
            rfc9421: Rfc9421 { tag: Some("fapi-2-request".into()), ..Rfc9421::default() },
            ..Dialect::default()
        },
        Flaw::SkipRequestIdCheck
        | Flaw::UnsignedReadsAccepted
        | Flaw::PresentHeadersNeedNoSignature
        | Flaw::RefuseSha512Digest => Dialect {
            headers: ["digest", "x-request-id", "date"].map(String::from).to_vec(),
            request_id: true,
            sign_reads: true,
            signed_when_present: vec!["psu-id".into()],
            digest_algorithm: match flaw {
                Flaw::RefuseSha512Digest => DigestAlgorithm::Sha512,
                _ => DigestAlgorithm::Sha256,
            },
            ..Dialect::default()
        },
        _ => Dialect::default(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_flaw_switches_its_rule_off_and_only_with_the_flaw() {
    let mut not_off = Vec::new();
    for flaw in Flaw::ALL {
        let dialect = dialect_for(*flaw);
        // The revocation rule needs the test QTSP's services to ask.
        let qtsp = match *flaw == Flaw::SkipRevocationCheck {
            true => Some(qtsp::start(test_pki_shared(), Default::default()).await.expect("the QTSP's services start")),
            false => None,
        };
        let revocation = qtsp.as_ref().map(|q| q.revocation_config(false));
        let clean = Ctx::start(ServerConfig {
            profile: profile_for(*flaw),
            dialect: dialect.clone(),
            revocation: revocation.clone(),
            ..ServerConfig::default()
        })
        .await;
        let enforced = probe(&clean, *flaw).await;
        clean.server.stop().await;
        let config = ServerConfig {
            profile: profile_for(*flaw),
            flaws: [*flaw].into(),
            dialect,
            revocation,
            ..ServerConfig::default()
        };
        let flawed = Ctx::start(config).await;
        let relaxed = probe(&flawed, *flaw).await;
        flawed.server.stop().await;
        if let Some(qtsp) = qtsp {
            qtsp.stop().await;
        }
        if enforced == relaxed {
            not_off.push(format!("{flaw}: `{enforced}` either way"));
        }
        let rejected_cleanly = enforced.starts_with('4') || !enforced.starts_with('2');
        assert!(rejected_cleanly, "{flaw}: the clean server let it through: {enforced}");
    }
    assert!(not_off.is_empty(), "flaws that change nothing:\n{}", not_off.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_client_is_disconnected_after_the_read_timeout() {
    use tokio::io::AsyncReadExt;
    let pki = dcr_harness::testing::test_pki();
    let config = ServerConfig { read_timeout: std::time::Duration::from_millis(300), ..ServerConfig::default() };
    let server = dcr_harness::server::start(pki, config).await.expect("server");
    let mut tcp = tokio::net::TcpStream::connect(server.addr()).await.expect("connect");
    let started = std::time::Instant::now();
    let mut buf = [0u8; 16];
    // Nothing sent: no TLS ClientHello. The server must hang up rather than wait forever.
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "still connected: {read:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    server.stop().await;
}

/// One plain-profile client's token sent to read another: (the status of that read, the status
/// of the lender's own read with its token afterwards).
async fn lend_a_token(ctx: &Ctx) -> (u16, u16) {
    let anonymous = |call: Call| call.tls(None).credentials(None).signer(None);
    let mut clients = Vec::new();
    for _ in 0..2 {
        let client = ctx.answer(anonymous(Call::post(REGISTER, &registration_body()))).await.json().expect("json");
        let path = format!("{REGISTER}/{}", str_of(&client, "client_id"));
        clients.push((path, format!("Bearer {}", str_of(&client, "registration_access_token"))));
    }
    let [(lender, token), (borrower, _)] = &clients[..] else { unreachable!("two clients") };
    let misuse = ctx.answer(anonymous(Call::new("GET", borrower)).header("Authorization", token)).await.status;
    let own = ctx.answer(anonymous(Call::new("GET", lender)).header("Authorization", token)).await.status;
    (misuse, own)
}

/// What a read and an update do to a plain-profile client's token and secret under a variant:
/// (token after read is new, token after update is new, secret after update is new, the
/// superseded token is refused).
async fn rotation_under(variant: Option<Variant>) -> (bool, bool, bool, bool) {
    let config = ServerConfig {
        profile: ServerProfile::Plain,
        variants: variant.into_iter().collect(),
        ..ServerConfig::default()
    };
    let ctx = Ctx::start(config).await;
    let anonymous = |call: Call| call.tls(None).credentials(None).signer(None);
    let client = ctx.answer(anonymous(Call::post(REGISTER, &registration_body()))).await.json().expect("json");
    let path = str_of(&client, "registration_client_uri").strip_prefix(&ctx.server.url()).expect("here").to_string();
    let (first_rat, first_secret) = (str_of(&client, "registration_access_token"), str_of(&client, "client_secret"));
    let bearer = |rat: &str| format!("Bearer {rat}");
    let read = ctx.answer(anonymous(Call::new("GET", &path)).header("Authorization", &bearer(first_rat))).await;
    let read = read.json().expect("json");
    let read_rat = str_of(&read, "registration_access_token").to_string();
    let update = json!({ "client_id": client["client_id"], "redirect_uris": ["https://tpp.example/two"] });
    let updated = ctx.answer(anonymous(Call::put(&path, &update)).header("Authorization", &bearer(&read_rat))).await;
    assert_eq!(updated.status, 200, "{}", outcome(&updated));
    let updated = updated.json().expect("json");
    let updated_rat = str_of(&updated, "registration_access_token").to_string();
    let old_refused = if updated_rat != first_rat {
        ctx.answer(anonymous(Call::new("GET", &path)).header("Authorization", &bearer(first_rat))).await.status == 401
    } else {
        false
    };
    let delete = ctx.answer(anonymous(Call::new("DELETE", &path)).header("Authorization", &bearer(&updated_rat))).await;
    assert_eq!(delete.status, 204, "the newest token manages the client");
    let result = (
        read_rat != first_rat,
        updated_rat != read_rat,
        str_of(&updated, "client_secret") != first_secret,
        old_refused,
    );
    ctx.server.stop().await;
    result
}

#[tokio::test(flavor = "multi_thread")]
async fn each_variant_really_behaves_as_it_says_and_the_default_does_not() {
    assert_eq!(rotation_under(None).await, (false, false, false, false), "the default rotates nothing");
    assert_eq!(token_grants_under(None).await, (200, 200), "the default grants any registered client");
    let default = answers_under(None).await;
    assert_eq!(default, (404, 400, "400 invalid_client_metadata".to_string()));
    for variant in Variant::ALL.iter().copied() {
        match variant {
            Variant::UnknownClient401 => {
                assert_eq!(answers_under(Some(variant)).await, (401, default.1, default.2.clone()))
            }
            Variant::HttpRedirectsAccepted => {
                assert_eq!(answers_under(Some(variant)).await, (default.0, 201, default.2.clone()))
            }
            Variant::InvalidRequestForClientErrors => {
                assert_eq!(answers_under(Some(variant)).await, (default.0, default.1, "400 invalid_request".into()))
            }
            Variant::RatRotatedOnUpdate => assert_eq!(rotation_under(Some(variant)).await, (false, true, false, true)),
            Variant::RatRotatedOnUse => assert_eq!(rotation_under(Some(variant)).await, (true, true, false, true)),
            Variant::SecretRotatedOnUpdate => {
                assert_eq!(rotation_under(Some(variant)).await, (false, false, true, false))
            }
            Variant::GrantTypesEnforced => assert_eq!(token_grants_under(Some(variant)).await, (400, 200)),
            Variant::ClientIdInUpdateReplaced => {
                // An update naming another client_id: refused by default; with the variant, applied
                // to the client of the URL and answered with its own id.
                for (variants, expected) in [(vec![], "400"), (vec![variant], "200 own id")] {
                    let ctx = Ctx::start(ServerConfig {
                        variants: variants.into_iter().collect(),
                        ..ServerConfig::default()
                    })
                    .await;
                    let client = ctx.register(Tpp::A).await;
                    let id = str_of(&client, "client_id").to_string();
                    let update = json!({ "client_id": "someone-else", "redirect_uris": ["https://tpp.example/x"] });
                    let answer = ctx.answer(Call::put(&format!("{REGISTER}/{id}"), &update)).await;
                    let got = match answer.status {
                        200 if answer.json().is_some_and(|j| j["client_id"] == id.as_str()) => "200 own id".to_string(),
                        status => status.to_string(),
                    };
                    assert_eq!(got, expected, "{}", outcome(&answer));
                    ctx.server.stop().await;
                }
            }
            Variant::StatementRefusalsUnapproved => {
                let expired = |variants: Vec<Variant>| async move {
                    let config = ServerConfig {
                        profile: ServerProfile::Fapi,
                        variants: variants.into_iter().collect(),
                        ..ServerConfig::default()
                    };
                    let ctx = Ctx::start(config).await;
                    let statement = ctx.pki.statement("ssa-expired").expect("the expired statement");
                    let body = json!({ "redirect_uris": ["https://tpp.example/cb"], "software_statement": statement });
                    let answer = ctx.answer(Call::post(REGISTER, &body).tls(None).credentials(None).signer(None)).await;
                    ctx.server.stop().await;
                    outcome(&answer)
                };
                assert_eq!(expired(vec![]).await, "400 invalid_software_statement");
                assert_eq!(expired(vec![variant]).await, "400 unapproved_software_statement");
            }
            Variant::DateWindowWholeSeconds => {
                // Dated exactly the window's seconds before this whole second, a request is past
                // the window by the fraction of the second gone: refused by default, taken by a
                // server that reads its clock in whole seconds; a second more, refused by both.
                for (variants, at_edge) in [(vec![], 400), (vec![variant], 201)] {
                    let ctx = Ctx::start(ServerConfig {
                        variants: variants.into_iter().collect(),
                        ..ServerConfig::default()
                    })
                    .await;
                    let window = ServerConfig::default().max_skew.as_secs();
                    for (extra, expected) in [(0, at_edge), (1, 400)] {
                        let into = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .expect("after the epoch")
                            .subsec_millis();
                        if !(100..800).contains(&into) {
                            tokio::time::sleep(std::time::Duration::from_millis(u64::from((1100 - into) % 1000))).await;
                        }
                        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("epoch");
                        let date =
                            std::time::UNIX_EPOCH + std::time::Duration::from_secs(now.as_secs() - window - extra);
                        let body = json!({ "redirect_uris": ["https://tpp.example/cb"] });
                        let answer = ctx.answer(Call::post(REGISTER, &body).signed_at(date)).await;
                        assert_eq!(answer.status, expected, "{variant:?} {extra} s more: {}", outcome(&answer));
                    }
                    ctx.server.stop().await;
                }
            }
            Variant::SignatureReplayRefused => {
                for (variants, again) in [(vec![], 201), (vec![variant], 401)] {
                    let ctx = Ctx::start(ServerConfig {
                        variants: variants.into_iter().collect(),
                        ..ServerConfig::default()
                    })
                    .await;
                    let call = Call::post(REGISTER, &registration_body());
                    let msg = ctx.message(&call);
                    let url = ctx.server.url();
                    let first = ctx.transport.send(ctx.pki, call.tls, &url, &msg).await.expect("answer");
                    assert_eq!(first.status, 201, "{}", outcome(&first));
                    let replayed = ctx.transport.send(ctx.pki, call.tls, &url, &msg).await.expect("answer");
                    assert_eq!(replayed.status, again, "{}", outcome(&replayed));
                    for answer in [first, replayed].iter().filter(|a| a.status == 201) {
                        let id = str_of(&answer.json().expect("json"), "client_id").to_string();
                        assert_eq!(ctx.answer(Call::new("DELETE", &format!("{REGISTER}/{id}"))).await.status, 204);
                    }
                    ctx.server.stop().await;
                }
            }
            Variant::EncryptionDefaultImplicit => {
                let enc = without_and_with(variant, ServerProfile::Smbc, |ctx| {
                    Box::pin(async move {
                        let mut body = registration_body();
                        body["id_token_encrypted_response_alg"] = json!("RSA-OAEP");
                        let client = ctx.answer(Call::post(REGISTER, &body)).await.json().expect("json");
                        let id = str_of(&client, "client_id");
                        ctx.answer(Call::new("DELETE", &format!("{REGISTER}/{id}"))).await;
                        client["id_token_encrypted_response_enc"].clone()
                    })
                })
                .await;
                assert_eq!(enc, [json!("A128CBC-HS256"), Value::Null], "{variant}");
            }
            Variant::DuplicateRefusedInvalidSoftwareStatement => {
                let code = without_and_with(variant, ServerProfile::Cdr, |ctx| {
                    Box::pin(async move {
                        obuk_client_with(ctx, cdr_fields()).await;
                        outcome(&ctx.answer(obuk_registration(ctx, cdr_fields(), None)).await)
                    })
                })
                .await;
                assert_eq!(code, ["400 invalid_client_metadata", "400 invalid_software_statement"]);
            }
            Variant::Tls12Only => {
                let answers = without_and_with(variant, ServerProfile::Smbc, |ctx| {
                    Box::pin(handshake_with(ctx, TlsVersion::V1_3, vec![]))
                })
                .await;
                let taken = answers.each_ref().map(|answer| answer.starts_with("accepted: TLS 1.3"));
                assert_eq!(taken, [true, false], "{variant}: {answers:?}");
            }
            Variant::EveryTokenBound => {
                let other = without_and_with(variant, ServerProfile::Obuk, |ctx| {
                    Box::pin(bound_token_over_another_certificate(ctx, false))
                })
                .await;
                assert_eq!(other, ["200", "401 invalid_token"], "{variant}");
            }
            Variant::DpopNonceRequired => {
                let answers =
                    without_and_with(variant, ServerProfile::Smbc, |ctx| Box::pin(dpop_nonce_asked(ctx))).await;
                assert_eq!(answers, ["200", "400 use_dpop_nonce, then 200 with it"], "{variant}");
            }
            Variant::JwksRereadOnlyWhenStale | Variant::JwksNeverCached => {
                // At once after the rotation: the default still has the retired key from its
                // cache, and reads the set again for the new kid.
                let expected = match variant {
                    Variant::JwksNeverCached => "the retired key: 401 invalid_client; the new key: 200",
                    _ => "the retired key: 200; the new key: 401 invalid_client",
                };
                let answers = without_and_with(variant, ServerProfile::Smbc, |ctx| {
                    Box::pin(key_rotation(ctx, std::time::Duration::ZERO))
                })
                .await;
                assert_eq!(answers, ["the retired key: 200; the new key: 200", expected], "{variant}");
            }
            Variant::AssertionReplayAllowed => {
                for (variants, again) in [(vec![], "401 invalid_client"), (vec![variant], "200")] {
                    let config = ServerConfig {
                        profile: ServerProfile::Obuk,
                        variants: variants.into_iter().collect(),
                        ..ServerConfig::default()
                    };
                    let ctx = Ctx::start(config).await;
                    let (id, _) =
                        obuk_client_with(&ctx, json!({ "token_endpoint_auth_method": "private_key_jwt" })).await;
                    let form = assertion_form(&ctx, &id, None);
                    assert_eq!(ctx.answer(token_call(&form)).await.status, 200);
                    assert_eq!(
                        outcome(&ctx.answer(token_call(&form)).await),
                        again,
                        "{variant} the same assertion again"
                    );
                    ctx.server.stop().await;
                }
            }
            Variant::ConcurrentUpdate409 => {
                let ctx = Ctx::start(ServerConfig { variants: [variant].into(), ..ServerConfig::default() }).await;
                let client = ctx.register(Tpp::A).await;
                let id = str_of(&client, "client_id");
                let path = format!("{REGISTER}/{id}");
                let update = |n: u32| json!({ "client_id": id, "redirect_uris": [format!("https://tpp.example/{n}")] });
                let (one, two) =
                    tokio::join!(ctx.answer(Call::put(&path, &update(1))), ctx.answer(Call::put(&path, &update(2))));
                let mut statuses = [one.status, two.status];
                statuses.sort_unstable();
                assert_eq!(statuses, [200, 409], "the loser of the race gets 409");
                assert_eq!(ctx.answer(Call::put(&path, &update(3))).await.status, 200, "and the claim is released");
                assert_eq!(ctx.answer(Call::new("DELETE", &path)).await.status, 204);
                ctx.server.stop().await;
            }
            Variant::MetadataSubstituted => {
                let ctx = Ctx::start(ServerConfig { variants: [variant].into(), ..ServerConfig::default() }).await;
                let body = json!({ "redirect_uris": ["https://tpp.example/cb#frag"], "client_name": 42, "grant_types": ["magic"] });
                let answer = ctx.answer(Call::post(REGISTER, &body)).await;
                assert_eq!(answer.status, 201, "{}", outcome(&answer));
                let client = answer.json().expect("json");
                assert_eq!(client["redirect_uris"], json!(["https://tpp.example/cb"]), "the fragment is cut");
                assert_eq!(client.get("client_name"), None, "a name that is no string is dropped");
                assert_eq!(client["grant_types"], json!(["authorization_code"]), "the default replaces `magic`");
                let id = str_of(&client, "client_id");
                assert_eq!(ctx.answer(Call::new("DELETE", &format!("{REGISTER}/{id}"))).await.status, 204);
                let relative = ctx.answer(Call::post(REGISTER, &json!({ "redirect_uris": ["/cb"] }))).await;
                assert_eq!(relative.status, 400, "a relative URI has no substitute: {}", outcome(&relative));
                ctx.server.stop().await;
            }
            Variant::RevocationSoftFail => {
                let faults = dcr_harness::fault::Switchboard::default();
                let qtsp = qtsp::start(test_pki_shared(), faults.clone()).await.expect("the QTSP's services start");
                let down: dcr_harness::fault::Faults = "ocsp:down,crl:error=503".parse().expect("faults");
                for (variants, expected) in [(vec![], "401 CERTIFICATE_INVALID"), (vec![variant], "201")] {
                    let config = ServerConfig {
                        revocation: Some(qtsp.revocation_config(false)),
                        variants: variants.into_iter().collect(),
                        ..ServerConfig::default()
                    };
                    let ctx = Ctx::start(config).await;
                    let unknown = Call::post(REGISTER, &registration_body()).signer(Some("qseal-status-unknown"));
                    assert_eq!(outcome(&ctx.answer(unknown).await), expected, "{variant}");
                    // The QTSP's responder down and its CRL failing: a status that cannot be had.
                    faults.set(&down);
                    let unseen = Call::post(REGISTER, &registration_body()).signer(Some("qseal-unseen"));
                    assert_eq!(outcome(&ctx.answer(unseen).await), expected, "{variant} under {down}");
                    faults.clear();
                    let fetched = ctx.server.stats().fetches.figures();
                    let count =
                        |name: &str| fetched.iter().find(|(s, _)| s.name() == name).map_or(0, |(_, f)| f.fetches);
                    assert!(count("ocsp") >= 2 && count("crl") >= 1, "the server's fetches counted: {fetched:?}");
                    ctx.server.stop().await;
                }
                qtsp.stop().await;
            }
            Variant::RatRevokedOnMisuse => {
                for (variants, expected) in [(vec![], (401, 200)), (vec![variant], (401, 401))] {
                    let config = ServerConfig {
                        profile: ServerProfile::Plain,
                        variants: variants.into_iter().collect(),
                        ..ServerConfig::default()
                    };
                    let ctx = Ctx::start(config).await;
                    assert_eq!(lend_a_token(&ctx).await, expected, "{variant}");
                    ctx.server.stop().await;
                }
            }
            Variant::OpaqueClientUri => {
                let config = ServerConfig {
                    profile: ServerProfile::Plain,
                    variants: [variant].into(),
                    ..ServerConfig::default()
                };
                let ctx = Ctx::start(config).await;
                let anonymous = |call: Call| call.tls(None).credentials(None).signer(None);
                let client =
                    ctx.answer(anonymous(Call::post(REGISTER, &registration_body()))).await.json().expect("json");
                let uri = str_of(&client, "registration_client_uri");
                assert!(uri.contains("://localhost:") && uri.ends_with("?v=2"), "{uri}");
                let bearer = format!("Bearer {}", str_of(&client, "registration_access_token"));
                let path = format!("{REGISTER}/{}", str_of(&client, "client_id"));
                let bare = ctx.answer(anonymous(Call::new("GET", &path)).header("Authorization", &bearer)).await;
                assert_eq!(bare.status, 401, "the URI without its query is not the client's");
                let whole = format!("{path}?v=2");
                let read = ctx.answer(anonymous(Call::new("GET", &whole)).header("Authorization", &bearer)).await;
                assert_eq!(read.status, 200);
                assert_eq!(
                    ctx.answer(anonymous(Call::new("DELETE", &whole)).header("Authorization", &bearer)).await.status,
                    204
                );
                ctx.server.stop().await;
            }
        }
    }
}

/// Under the SMBC profile: the status for an unknown client, for registering an http redirect
/// URI, and the outcome of an update without client_id.
async fn answers_under(variant: Option<Variant>) -> (u16, u16, String) {
    let ctx = Ctx::start(ServerConfig { variants: variant.into_iter().collect(), ..ServerConfig::default() }).await;
    let unknown = ctx.answer(Call::new("GET", &format!("{REGISTER}/never-issued"))).await.status;
    let http = json!({ "redirect_uris": ["http://tpp.example/cb"] });
    let registered = ctx.answer(Call::post(REGISTER, &http)).await;
    if registered.status == 201 {
        let id = str_of(&registered.json().expect("json"), "client_id").to_string();
        ctx.answer(Call::new("DELETE", &format!("{REGISTER}/{id}"))).await;
    }
    let client = ctx.register(Tpp::A).await;
    let id = str_of(&client, "client_id");
    let update = json!({ "redirect_uris": ["https://tpp.example/x"] });
    let refused = outcome(&ctx.answer(Call::put(&format!("{REGISTER}/{id}"), &update)).await);
    ctx.server.stop().await;
    (unknown, registered.status, refused)
}

/// The token endpoint's status for a client registered without, then with, the
/// client_credentials grant.
async fn token_grants_under(variant: Option<Variant>) -> (u16, u16) {
    let config = ServerConfig { variants: variant.into_iter().collect(), ..ServerConfig::default() };
    let ctx = Ctx::start(config).await;
    let mut statuses = Vec::new();
    for body in [registration_body(), json!({ "grant_types": ["client_credentials"], "response_types": [] })] {
        let response = ctx.answer(Call::post(REGISTER, &body)).await;
        assert_eq!(response.status, 201, "{}", outcome(&response));
        let client = response.json().expect("json");
        statuses.push(token_status(&ctx, str_of(&client, "client_id"), str_of(&client, "client_secret")).await);
    }
    ctx.server.stop().await;
    (statuses[0], statuses[1])
}

/// The QTSP's answers as the server uses them, through its OCSP responder and (preferring it)
/// its CRL: a revoked QWAC and QSEAL are refused with CERTIFICATE_REVOKED, a good one passes; a
/// status that cannot be had is refused, unless the server soft-fails, and a revoked
/// certificate is refused even then.
#[tokio::test(flavor = "multi_thread")]
async fn revoked_certificates_are_refused_by_ocsp_and_by_crl_and_soft_fail_lets_only_the_unknown_through() {
    let qtsp = qtsp::start(test_pki_shared(), Default::default()).await.expect("the QTSP's services start");
    let body = registration_body();
    let reg = || Call::post(REGISTER, &body);
    for prefer_crl in [false, true] {
        let config = ServerConfig { revocation: Some(qtsp.revocation_config(prefer_crl)), ..ServerConfig::default() };
        let ctx = Ctx::start(config).await;
        let answers = [
            (reg(), "201"),
            (reg().tls(Some("qwac-revoked")), "401 CERTIFICATE_REVOKED"),
            (reg().signer(Some("qseal-revoked")), "401 CERTIFICATE_REVOKED"),
            (reg().signer(Some("qseal-responder-down")), "401 CERTIFICATE_INVALID"),
        ];
        for (call, expected) in answers {
            assert_eq!(outcome(&ctx.answer(call).await), expected, "prefer_crl {prefer_crl}");
        }
        ctx.server.stop().await;
    }
    let soft = ServerConfig {
        revocation: Some(qtsp.revocation_config(false)),
        variants: [Variant::RevocationSoftFail].into(),
        ..ServerConfig::default()
    };
    let ctx = Ctx::start(soft).await;
    assert_eq!(outcome(&ctx.answer(reg().signer(Some("qseal-status-unknown"))).await), "201");
    assert_eq!(outcome(&ctx.answer(reg().signer(Some("qseal-responder-down"))).await), "201");
    assert_eq!(outcome(&ctx.answer(reg().signer(Some("qseal-revoked"))).await), "401 CERTIFICATE_REVOKED");
    ctx.server.stop().await;
    qtsp.stop().await;
}
