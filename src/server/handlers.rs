//! Request handling of the reference server, in the order a bank's gateway applies its rules:
//! client certificate (QWAC), DCR-service credentials, body, signature (POST, PUT, DELETE),
//! QSEAL, then the RFC 7591/7592 operation itself.

// A rule's `Err` is the HTTP answer itself, returned straight to hyper; boxing it buys nothing.
#![allow(clippy::result_large_err)]

use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use http::{request::Parts, HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{json, Map, Value};

use super::certs::{check_qwac_chain, judge_qwac, CertProblem};
use super::client_auth::{self, Proof};
use super::flaw::Flaw;
use super::metadata::{self, MetadataError};
use super::response::{empty, invalid_client, invalid_token, json, no_store, oauth_error, tpp_message, Answer};
use super::store::{constant_time_eq, Client};
use super::{DcrAuth, Peer, Refusal, ServerProfile, State, Variant};
use super::{CLIENT_ID_HEADER, CLIENT_SECRET_HEADER};
use crate::pki::generate_token;
use crate::signature::{Message, SignatureError};

pub const REGISTER_PATH: &str = "/client/v1/register";
pub const TOKEN_PATH: &str = "/oauth/token";

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    WellKnown,
    Token,
    Register,
    Client(String),
    RefreshSecret(String),
    NotFound,
}

impl Route {
    fn of(path: &str) -> Route {
        match path {
            "/.well-known/oauth-authorization-server" | "/.well-known/openid-configuration" => Route::WellKnown,
            TOKEN_PATH => Route::Token,
            REGISTER_PATH => Route::Register,
            _ => {
                let Some(rest) = path.strip_prefix(REGISTER_PATH).and_then(|r| r.strip_prefix('/')) else {
                    return Route::NotFound;
                };
                match rest.split('/').collect::<Vec<_>>().as_slice() {
                    [id] if !id.is_empty() => Route::Client(id.to_string()),
                    [id, "secret"] if !id.is_empty() => Route::RefreshSecret(id.to_string()),
                    _ => Route::NotFound,
                }
            }
        }
    }

    fn allows(&self, method: &Method) -> bool {
        match self {
            Route::WellKnown => method == Method::GET,
            Route::Token | Route::Register | Route::RefreshSecret(_) => method == Method::POST,
            Route::Client(_) => [Method::GET, Method::PUT, Method::DELETE].contains(method),
            Route::NotFound => true,
        }
    }
}

pub(super) async fn handle(state: &State, peer: &Peer, request: Request<Incoming>) -> Answer {
    state.stats.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (parts, body) = request.into_parts();
    let route = Route::of(parts.uri.path());
    if route == Route::NotFound {
        return oauth_error(StatusCode::NOT_FOUND, "not_found", "no such endpoint");
    }
    if !route.allows(&parts.method) {
        return oauth_error(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", "method not allowed here");
    }
    let body = match read_body(state, &parts, body).await {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    learn_revocation_status(state, peer, &parts).await;
    let _claim = match (&route, state.config.varies(Variant::ConcurrentUpdate409)) {
        (Route::Client(id), true) if parts.method == Method::PUT => match UpdateClaim::take(state, id) {
            Some(claim) => {
                // Long enough for a racing update to arrive while this one is in progress.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Some(claim)
            }
            None => {
                return oauth_error(
                    StatusCode::CONFLICT,
                    "invalid_request",
                    "another update of this client is in progress",
                )
            }
        },
        _ => None,
    };
    match (route, state.config.profile) {
        (Route::WellKnown, _) => well_known(state),
        (Route::Token, _) => token(state, peer, &parts, &body).await,
        (route, ServerProfile::Smbc) => smbc(state, peer, &parts, body, route),
        (route, ServerProfile::Plain | ServerProfile::Fapi) => plain(state, &parts, &body, route),
        (route, ServerProfile::Obuk) => obuk(state, peer, &parts, &body, route),
    }
}

/// Asks the QTSP (where the server does) about the certificates this request presents: the
/// client certificate and the signing certificate, so that judging them later needs no wait.
async fn learn_revocation_status(state: &State, peer: &Peer, parts: &Parts) {
    let Some(revocation) = &state.revocation else { return };
    if let Some(leaf) = peer.chain.first() {
        revocation.refresh(leaf.as_ref()).await;
    }
    let signing = header(&parts.headers, crate::signature::headers::CERTIFICATE)
        .and_then(|value| crate::signature::decode_certificate(value).ok());
    if let Some(der) = signing {
        revocation.refresh(&der).await;
    }
}

/// An update of one client in progress; released when dropped.
struct UpdateClaim<'a> {
    state: &'a State,
    id: String,
}

impl<'a> UpdateClaim<'a> {
    fn take(state: &'a State, id: &str) -> Option<Self> {
        let mut updating = state.updating.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        updating.insert(id.to_string()).then(|| UpdateClaim { state, id: id.to_string() })
    }
}

impl Drop for UpdateClaim<'_> {
    fn drop(&mut self) {
        self.state.updating.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.id);
    }
}

fn flaw(state: &State) -> impl Fn(Flaw) -> bool + '_ {
    move |f| state.config.has(f)
}

/// Reads the body up to the limit. An oversized body is still drained (up to a bound) so that
/// the client finishes writing and reads the 413, instead of seeing a broken pipe.
async fn read_body(state: &State, parts: &Parts, mut body: Incoming) -> Result<Bytes, Answer> {
    const DRAIN_LIMIT: usize = 4 * 1024 * 1024;
    let limit = if state.config.has(Flaw::NoBodyLimit) { usize::MAX } else { state.config.body_limit };
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let read = async {
        let mut collected = Vec::new();
        let mut seen = 0usize;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "the body could not be read"));
            };
            if let Some(data) = frame.data_ref() {
                seen = seen.saturating_add(data.len());
                if seen <= limit {
                    collected.extend_from_slice(data);
                } else if seen > DRAIN_LIMIT.max(limit) {
                    break;
                }
            }
        }
        if seen > limit || declared.is_some_and(|len| len > limit as u64) {
            let mut answer = oauth_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "the body is larger than the server accepts",
            );
            answer.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
            return Err(answer);
        }
        Ok(Bytes::from(collected))
    };
    match tokio::time::timeout(state.config.read_timeout, read).await {
        Err(_) => Err(oauth_error(StatusCode::REQUEST_TIMEOUT, "invalid_request", "the body was not sent in time")),
        Ok(result) => result,
    }
}

fn well_known(state: &State) -> Answer {
    let mut config = json!({
        "issuer": state.base_url,
        "registration_endpoint": format!("{}{REGISTER_PATH}", state.base_url),
        "token_endpoint": format!("{}{TOKEN_PATH}", state.base_url),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["authorization_code", "implicit", "client_credentials", "refresh_token"],
    });
    if state.config.profile == ServerProfile::Obuk {
        config["request_object_signing_alg_values_supported"] = json!(OBUK_SIGNING_ALGS);
        config["token_endpoint_auth_signing_alg_values_supported"] = json!(OBUK_SIGNING_ALGS);
        config["response_types_supported"] = json!(OBUK_RESPONSE_TYPES);
    }
    json(StatusCode::OK, &config)
}

// ---- profile smbc -------------------------------------------------------------------------

fn smbc(state: &State, peer: &Peer, parts: &Parts, body: Bytes, route: Route) -> Answer {
    let tpp = match identify_tpp(state, peer, parts) {
        Ok(tpp) => tpp,
        Err(answer) => return answer,
    };
    if state.config.signs(&parts.method) {
        if let Err(answer) = check_signature(state, parts, &body, &tpp) {
            return answer;
        }
    }
    lifecycle(state, parts, &body, route, &tpp)
}

/// The TPP making the request: the QWAC's organisation, confirmed by the DCR credentials.
fn identify_tpp(state: &State, peer: &Peer, parts: &Parts) -> Result<String, Answer> {
    let flaws = flaw(state);
    let now = SystemTime::now();
    let from_cert = if peer.chain.is_empty() && flaws(Flaw::SkipClientCert) {
        None
    } else {
        Some(qwac_of(state, peer, now, &flaws).map_err(cert_answer)?)
    };
    let from_credentials =
        if flaws(Flaw::SkipDcrCredentials) { None } else { Some(dcr_credentials(state, &parts.headers)?) };
    match (from_cert, from_credentials) {
        (Some(cert), Some(creds)) if cert != creds && !flaws(Flaw::AcceptOtherTppCredentials) => {
            Err(invalid_client("the DCR-service credentials belong to another TPP than the QWAC"))
        }
        (Some(cert), _) => Ok(cert),
        (None, Some(creds)) => Ok(creds),
        (None, None) => Err(cert_answer(CertProblem::Missing)),
    }
}

/// The TPP of the connection's QWAC: judged once per connection, its validity per request.
fn qwac_of(state: &State, peer: &Peer, now: SystemTime, flaws: &impl Fn(Flaw) -> bool) -> Result<String, CertProblem> {
    if let Some(known) = peer.qwac.get() {
        if known.not_before <= now && now <= known.not_after {
            return Ok(known.organization_identifier.clone());
        }
    }
    let qwac = judge_qwac(&state.trust, &peer.chain, &state.config.required_roles, now, flaws)?;
    if let (Some(revocation), Some(leaf)) = (&state.revocation, peer.chain.first()) {
        let info = crate::pki::CertInfo::from_der(leaf.as_ref()).map_err(|e| CertProblem::Invalid(e.to_string()))?;
        revocation.judge(&info, state.config.varies(Variant::RevocationSoftFail))?;
    }
    let org = qwac.organization_identifier.clone();
    let _ = peer.qwac.set(qwac);
    Ok(org)
}

fn cert_answer(problem: CertProblem) -> Answer {
    tpp_message(StatusCode::UNAUTHORIZED, problem.code(), &problem.text())
}

/// The organisation whose DCR-service credentials the request carries.
fn dcr_credentials(state: &State, headers: &HeaderMap) -> Result<String, Answer> {
    match state.config.dcr_auth {
        DcrAuth::ApiKey => {
            let id = header(headers, CLIENT_ID_HEADER);
            let secret = header(headers, CLIENT_SECRET_HEADER);
            match (id, secret) {
                (Some(id), Some(secret)) => tpp_by_credentials(state, id, secret)
                    .ok_or_else(|| invalid_client("unknown DCR-service client id or wrong secret")),
                _ => Err(invalid_client("the DCR-service credentials (client id and secret headers) are missing")),
            }
        }
        DcrAuth::Basic => {
            let (id, secret) = basic_credentials(headers)
                .ok_or_else(|| invalid_client("HTTP Basic DCR-service credentials are missing"))?;
            tpp_by_credentials(state, &id, &secret)
                .ok_or_else(|| invalid_client("unknown DCR-service client id or wrong secret"))
        }
        DcrAuth::Bearer => {
            let token =
                bearer(headers).ok_or_else(|| invalid_token("a bearer token for the DCR service is required"))?;
            let tokens = state.tokens.lock().unwrap_or_else(|p| p.into_inner());
            match tokens.get(token) {
                Some((org, expires)) if *expires > SystemTime::now() => Ok(org.clone()),
                _ => Err(invalid_token("the bearer token is unknown or expired")),
            }
        }
    }
}

fn tpp_by_credentials(state: &State, id: &str, secret: &str) -> Option<String> {
    state
        .tpps
        .iter()
        .find(|t| t.client_id == id && constant_time_eq(&t.client_secret, secret))
        .map(|t| t.organization_identifier.clone())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = header(headers, "authorization")?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(B64.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = header(headers, "authorization")?;
    value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).map(str::trim)
}

/// The request as the verifier sees it. Header values that are not text are a format error.
fn message_of(parts: &Parts, body: &Bytes) -> Result<Message, Answer> {
    let target = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut msg = Message::new(parts.method.as_str(), target, body.to_vec());
    // What RFC 9421's `@authority` signs: the Host of an HTTP/1.1 request.
    msg.authority = parts
        .uri
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| header(&parts.headers, "host").map(str::to_string))
        .unwrap_or_default()
        .to_ascii_lowercase();
    for (name, value) in &parts.headers {
        let value = value.to_str().map_err(|_| {
            tpp_message(StatusCode::BAD_REQUEST, "FORMAT_ERROR", &format!("header `{name}` is not text"))
        })?;
        msg.add_header(name.as_str(), value);
    }
    Ok(msg)
}

fn check_signature(state: &State, parts: &Parts, body: &Bytes, tpp: &str) -> Result<(), Answer> {
    let msg = message_of(parts, body)?;
    state
        .verifier
        .verify(&msg, tpp, SystemTime::now())
        .map_err(|r| tpp_message(StatusCode::from_u16(r.status).unwrap_or(StatusCode::UNAUTHORIZED), r.code, &r.text))
}

/// The Berlin Group status and code for a broken signature rule.
pub(super) fn signature_refusal(error: &SignatureError) -> Refusal {
    use SignatureError::*;
    let (status, code) = match error {
        SignatureMissing => (401, "SIGNATURE_MISSING"),
        CertificateMissing => (401, "CERTIFICATE_MISSING"),
        CertificateUnreadable(_) | WeakKey(_) => (401, "CERTIFICATE_INVALID"),
        DateSkew { .. } | Expired { .. } => (400, "TIMESTAMP_INVALID"),
        DuplicateHeader(_)
        | Malformed(_)
        | MissingParameter(_)
        | SignedHeaderAbsent(_)
        | DigestMissing
        | DigestMalformed(_)
        | DigestAlgorithm(_)
        | DateMissing
        | DateFormat(_)
        | BadBase64(_)
        | KeyIdMalformed(_)
        | SignatureInputMissing
        | LabelMismatch { .. }
        | RequestIdMissing
        | RequestIdNotUuid(_) => (400, "FORMAT_ERROR"),
        UnknownAlgorithm(_)
        | AlgorithmMismatch { .. }
        | HeaderNotSigned(_)
        | DigestMismatch
        | KeyIdMismatch(_)
        | TagMismatch { .. }
        | BadSignature => (401, "SIGNATURE_INVALID"),
    };
    Refusal { status, code, text: error.to_string() }
}

// ---- profile plain ------------------------------------------------------------------------

fn plain(state: &State, parts: &Parts, body: &Bytes, route: Route) -> Answer {
    if route == Route::Register {
        if let Some(expected) = &state.config.initial_access_token {
            if !bearer(&parts.headers).is_some_and(|t| constant_time_eq(t, expected)) {
                return invalid_token("an initial access token is required to register");
            }
        }
        return lifecycle(state, parts, body, route, "");
    }
    let id = match &route {
        Route::Client(id) | Route::RefreshSecret(id) => id,
        _ => return oauth_error(StatusCode::NOT_FOUND, "not_found", "no such endpoint"),
    };
    if state.config.varies(Variant::OpaqueClientUri) && parts.uri.query() != Some(OPAQUE_QUERY) {
        // Not a client configuration endpoint this server issued: as for an unknown client.
        return invalid_token("use the registration_client_uri as given");
    }
    // RFC 7592 §2: a missing client and a wrong token get the same 401.
    let token = bearer(&parts.headers);
    let missing_accepted = state.config.has(Flaw::AcceptMissingRegistrationToken);
    if token.is_none() && !missing_accepted {
        return invalid_token("a registration access token is required");
    }
    let not_valid = || {
        if let Some(holder) = token.filter(|_| state.config.varies(Variant::RatRevokedOnMisuse)) {
            revoke_registration_token_of(state, holder);
        }
        invalid_token("the registration access token is not valid for this client")
    };
    let Some(client) = state.store.get(id) else {
        return not_valid();
    };
    let valid = match token {
        Some(token) => {
            client.registration_access_token.as_deref().is_some_and(|rat| constant_time_eq(rat, token))
                || (state.config.has(Flaw::AcceptAnotherClientsRegistrationToken)
                    && state.store.holder_of_registration_token(token).is_some())
        }
        None => missing_accepted,
    };
    if !valid && !state.config.has(Flaw::AcceptBadRegistrationToken) {
        return not_valid();
    }
    lifecycle(state, parts, body, route, &client.owner)
}

// ---- profile obuk -------------------------------------------------------------------------

/// The algorithms Open Banking UK allows for request objects and client assertions.
const OBUK_SIGNING_ALGS: &[&str] = &["PS256", "ES256"];
/// The response types Open Banking UK allows.
const OBUK_RESPONSE_TYPES: &[&str] = &["code", "code id_token"];

/// Open Banking UK: every call over mTLS with a transport certificate the QTSP issued;
/// registration by signed request object; a client managed with its own access token.
fn obuk(state: &State, peer: &Peer, parts: &Parts, body: &Bytes, route: Route) -> Answer {
    let flaws = flaw(state);
    if !(peer.chain.is_empty() && flaws(Flaw::SkipClientCert)) {
        if let Err(problem) = qwac_of(state, peer, SystemTime::now(), &flaws) {
            return cert_answer(problem);
        }
    }
    let id = match &route {
        Route::Register => return lifecycle(state, parts, body, route, ""),
        Route::Client(id) => id.clone(),
        _ => return oauth_error(StatusCode::NOT_FOUND, "not_found", "no such endpoint"),
    };
    // An unknown (or deleted) client and another client's token get the same 401.
    let holder = bearer(&parts.headers).and_then(|token| client_of_token(state, token));
    let allowed = match holder {
        Some(holder) => holder == id || flaws(Flaw::AcceptAnotherClientsToken),
        None => false,
    };
    match state.store.get(&id) {
        Some(client) if allowed => lifecycle(state, parts, body, route, &client.owner),
        _ => invalid_token("an access token of this client, from the token endpoint, is required"),
    }
}

/// The client an unexpired access token was issued to.
fn client_of_token(state: &State, token: &str) -> Option<String> {
    let tokens = state.client_tokens.lock().unwrap_or_else(|p| p.into_inner());
    tokens.get(token).filter(|(_, expires)| *expires > SystemTime::now()).map(|(id, _)| id.clone())
}

/// Open Banking UK's metadata rules beyond RFC 7591: response types and the signing algorithm
/// of client assertions.
fn obuk_metadata_rules(state: &State, metadata: &Map<String, Value>) -> Result<(), Answer> {
    let refused = |text: String| Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_client_metadata", &text));
    if !state.config.has(Flaw::AcceptAnyResponseTypes) {
        let types = metadata.get("response_types").and_then(Value::as_array).cloned().unwrap_or_default();
        if let Some(other) = types.iter().find(|t| !t.as_str().is_some_and(|t| OBUK_RESPONSE_TYPES.contains(&t))) {
            return refused(format!("response_types {other} is not one of {OBUK_RESPONSE_TYPES:?}"));
        }
    }
    if !state.config.has(Flaw::AcceptAnyAuthSigningAlg) {
        if let Some(alg) = metadata.get("token_endpoint_auth_signing_alg") {
            if !alg.as_str().is_some_and(|a| OBUK_SIGNING_ALGS.contains(&a)) {
                return refused(format!("token_endpoint_auth_signing_alg {alg} is not one of {OBUK_SIGNING_ALGS:?}"));
            }
        }
    }
    Ok(())
}

// ---- the lifecycle, shared by all profiles -------------------------------------------------

fn lifecycle(state: &State, parts: &Parts, body: &Bytes, route: Route, owner: &str) -> Answer {
    match (route, &parts.method) {
        (Route::Register, _) => register(state, parts, body, owner),
        (Route::Client(id), &Method::GET) => with_client(state, &id, owner, Flaw::CrossTppRead, |c| {
            let c = match state.config.varies(Variant::RatRotatedOnUse) {
                true => state.store.update(&c.client_id, rotate_registration_token).unwrap_or(c),
                false => c,
            };
            secret_answer(state, StatusCode::OK, &c)
        }),
        (Route::Client(id), &Method::PUT) => {
            with_client(state, &id, owner, Flaw::CrossTppUpdate, |c| update(state, parts, body, c))
        }
        (Route::Client(id), &Method::DELETE) => with_client(state, &id, owner, Flaw::CrossTppDelete, |c| {
            if !state.config.has(Flaw::DeleteKeepsClient) {
                state.store.remove(&c.client_id);
            }
            empty(StatusCode::NO_CONTENT)
        }),
        (Route::RefreshSecret(id), _) => with_client(state, &id, owner, Flaw::CrossTppRefresh, |c| refresh(state, c)),
        _ => oauth_error(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", "method not allowed here"),
    }
}

/// Runs `then` on the client if `owner` may touch it. An unknown client and another owner's
/// client get the same answer, so that client ids cannot be probed.
fn with_client(state: &State, id: &str, owner: &str, cross: Flaw, then: impl FnOnce(Client) -> Answer) -> Answer {
    let not_found = || match state.config.has(Flaw::UnknownClientNot404) {
        true => tpp_message(StatusCode::UNAUTHORIZED, "RESOURCE_UNKNOWN", "no client with this id for this TPP"),
        false => tpp_message(StatusCode::NOT_FOUND, "RESOURCE_UNKNOWN", "no client with this id"),
    };
    match state.store.get(id) {
        None => not_found(),
        Some(client) if client.owner == owner || state.config.has(cross) => then(client),
        Some(_) if state.config.has(Flaw::LeakExistence) => {
            tpp_message(StatusCode::FORBIDDEN, "RESOURCE_BLOCKED", "this client belongs to another TPP")
        }
        Some(_) => not_found(),
    }
}

fn json_content_type(state: &State, parts: &Parts) -> Result<(), Answer> {
    let ok = header(&parts.headers, "content-type")
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if ok || state.config.has(Flaw::AcceptWrongContentType) {
        Ok(())
    } else {
        Err(oauth_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request", "the body must be application/json"))
    }
}

fn metadata_answer(error: MetadataError) -> Answer {
    oauth_error(StatusCode::BAD_REQUEST, error.code, &error.description)
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs()
}

fn new_secret() -> String {
    generate_token("", 32)
}

fn new_registration_token() -> String {
    generate_token("rat-", 32)
}

/// Issues the client a new registration access token (if it has one: the plain profile's).
/// RFC 7592 §2.1: a token presented where it does not belong "SHOULD be immediately revoked";
/// its client keeps no token that works.
fn revoke_registration_token_of(state: &State, token: &str) {
    if let Some(holder) = state.store.holder_of_registration_token(token) {
        state.store.update(&holder, |c| c.registration_access_token = Some(new_registration_token()));
    }
}

fn rotate_registration_token(c: &mut Client) {
    if c.registration_access_token.is_some() {
        c.registration_access_token = Some(new_registration_token());
    }
}

/// RFC 7591 §2 validation of parsed metadata, refusing or (with the variant) substituting what
/// is invalid.
fn validate_metadata(state: &State, requested: Map<String, Value>) -> Result<Map<String, Value>, MetadataError> {
    match state.config.varies(Variant::MetadataSubstituted) {
        true => metadata::validate_object_substituting(requested, &flaw(state)),
        false => metadata::validate_object(requested, &flaw(state)),
    }
}

/// The metadata a registration (or update) asks for, as the server's mode reads its body: JSON,
/// with a software statement in the `fapi` mode's registrations; a signed request object
/// carrying one in the `obuk` mode.
fn requested_metadata(
    state: &State,
    parts: &Parts,
    body: &Bytes,
    registering: bool,
) -> Result<Map<String, Value>, Answer> {
    let profile = state.config.profile;
    let sends_request_object = super::request_object::is_request_object(header(&parts.headers, "content-type"));
    // With the flaw, the obuk mode takes a JSON body as the fapi mode does.
    let json_let_through = state.config.has(Flaw::AcceptJsonRegistration) && !sends_request_object;
    let signed = profile == ServerProfile::Obuk && !json_let_through;
    if !signed {
        json_content_type(state, parts)?;
        let mut metadata = metadata::parse(body).and_then(|m| validate_metadata(state, m)).map_err(metadata_answer)?;
        if profile == ServerProfile::Fapi && registering || profile == ServerProfile::Obuk {
            // The body is well-formed metadata first (its own error codes), then the statement.
            super::statement::admit(state.directory.as_ref(), &metadata, &flaw(state))
                .and_then(|admitted| admitted.map_or(Ok(()), |a| a.apply_to(&mut metadata, &flaw(state))))
                .map_err(|refusal| statement_answer(state, refusal))?;
        }
        return Ok(metadata);
    }
    if !sends_request_object {
        let text =
            format!("the body must be a signed request object ({})", super::request_object::MEDIA_TYPES.join(" or "));
        return Err(oauth_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request", &text));
    }
    let (claims, admitted) = super::request_object::open(state.directory.as_ref(), body, &state.base_url, &flaw(state))
        .map_err(|refusal| statement_answer(state, refusal))?;
    let mut metadata = validate_metadata(state, claims).map_err(metadata_answer)?;
    obuk_metadata_rules(state, &metadata)?;
    if let Some(admitted) = admitted {
        admitted.apply_to(&mut metadata, &flaw(state)).map_err(|refusal| statement_answer(state, refusal))?;
    }
    Ok(metadata)
}

/// A refused statement or request object: 400 with its code, which the variant may read as
/// unapproved.
fn statement_answer(state: &State, refusal: super::statement::Refusal) -> Answer {
    let code = match state.config.varies(Variant::StatementRefusalsUnapproved) {
        true if refusal.code == super::statement::INVALID => super::statement::UNAPPROVED,
        _ => refusal.code,
    };
    oauth_error(StatusCode::BAD_REQUEST, code, &refusal.text)
}

fn register(state: &State, parts: &Parts, body: &Bytes, owner: &str) -> Answer {
    let metadata = match requested_metadata(state, parts, body, true) {
        Ok(metadata) => metadata,
        Err(answer) => return answer,
    };
    let owned_by_itself = state.config.profile != ServerProfile::Smbc;
    let client_id = generate_token("", 16);
    let issued_at = now_secs();
    let client = Client {
        owner: if owned_by_itself { client_id.clone() } else { owner.to_string() },
        client_id,
        metadata: strip_server_fields(metadata),
        secret: new_secret(),
        old_secrets: vec![],
        issued_at,
        secret_expires_at: issued_at + state.config.secret_lifetime.as_secs(),
        registration_access_token: state.config.profile.manages_by_registration_token().then(new_registration_token),
    };
    state.store.insert(client.clone());
    if !owned_by_itself {
        state.stats.registered_by(owner);
    }
    secret_answer(state, StatusCode::CREATED, &client)
}

/// Fields the server sets; a client cannot choose them.
fn strip_server_fields(mut metadata: Map<String, Value>) -> Map<String, Value> {
    for (field, _) in SERVER_FIELDS {
        metadata.remove(*field);
    }
    metadata
}

/// What RFC 7592 §2.2 says of a server-set field in an update request.
#[derive(PartialEq, Eq)]
enum InUpdate {
    /// `client_id`: MUST be sent, and match.
    MustMatch,
    /// `client_secret`: MAY be sent; if it is, it must match.
    MayMatch,
    /// MUST NOT be sent.
    Forbidden,
}

/// The fields the server sets, and what an update may say of each.
const SERVER_FIELDS: &[(&str, InUpdate)] = &[
    ("client_id", InUpdate::MustMatch),
    ("client_secret", InUpdate::MayMatch),
    ("client_id_issued_at", InUpdate::Forbidden),
    ("client_secret_expires_at", InUpdate::Forbidden),
    ("registration_access_token", InUpdate::Forbidden),
    ("registration_client_uri", InUpdate::Forbidden),
];

fn update(state: &State, parts: &Parts, body: &Bytes, client: Client) -> Answer {
    let metadata = match requested_metadata(state, parts, body, false) {
        Ok(metadata) => metadata,
        Err(answer) => return answer,
    };
    // RFC 7592 §2.2: client_id must be there and match; server-set fields must not be sent. The
    // text puts these MUSTs on the client and names no error, so any client error code will do.
    let refused = match state.config.varies(Variant::InvalidRequestForClientErrors) {
        true => "invalid_request",
        false => "invalid_client_metadata",
    };
    if !state.config.varies(Variant::ClientIdInUpdateReplaced)
        && metadata.get("client_id").and_then(Value::as_str) != Some(client.client_id.as_str())
    {
        return oauth_error(StatusCode::BAD_REQUEST, refused, "client_id must be sent and match the client");
    }
    // With substitution the server ignores them "just as any other value" (RFC 7592 §2.2).
    let ignores_server_fields = state.config.varies(Variant::MetadataSubstituted);
    for (field, _) in SERVER_FIELDS.iter().filter(|(_, rule)| *rule == InUpdate::Forbidden) {
        if metadata.contains_key(*field) && !ignores_server_fields {
            return oauth_error(StatusCode::BAD_REQUEST, refused, &format!("`{field}` must not be sent in an update"));
        }
    }
    if let Some(secret) = metadata.get("client_secret").and_then(Value::as_str) {
        if !constant_time_eq(secret, &client.secret) {
            return oauth_error(StatusCode::BAD_REQUEST, refused, "client_secret does not match the current one");
        }
    }
    let new_secret_too = state.config.varies(Variant::SecretRotatedOnUpdate);
    let new_token_too =
        state.config.varies(Variant::RatRotatedOnUpdate) || state.config.varies(Variant::RatRotatedOnUse);
    let updated = state.store.update(&client.client_id, |c| {
        c.metadata = strip_server_fields(metadata);
        if new_secret_too {
            c.secret = new_secret();
        }
        if new_token_too {
            rotate_registration_token(c);
        }
    });
    match updated {
        Some(c) => secret_answer(state, StatusCode::OK, &c),
        None => tpp_message(StatusCode::NOT_FOUND, "RESOURCE_UNKNOWN", "no client with this id"),
    }
}

fn refresh(state: &State, client: Client) -> Answer {
    let keep_old = state.config.has(Flaw::RefreshKeepsOldSecret);
    let lifetime = state.config.secret_lifetime.as_secs();
    let refreshed = state.store.update(&client.client_id, |c| {
        let old = std::mem::replace(&mut c.secret, new_secret());
        if keep_old {
            c.old_secrets.push(old);
        }
        c.secret_expires_at = now_secs() + lifetime;
    });
    match refreshed {
        Some(c) => secret_answer(state, StatusCode::OK, &c),
        None => tpp_message(StatusCode::NOT_FOUND, "RESOURCE_UNKNOWN", "no client with this id"),
    }
}

/// The client information response (RFC 7591 §3.2.1, RFC 7592 §3), which carries the secret.
fn secret_answer(state: &State, status: StatusCode, client: &Client) -> Answer {
    let mut body = client.metadata.clone();
    body.insert("client_id".into(), Value::from(client.client_id.clone()));
    body.insert("client_secret".into(), Value::from(client.secret.clone()));
    body.insert("client_id_issued_at".into(), Value::from(client.issued_at));
    if !state.config.has(Flaw::OmitSecretExpiry) {
        body.insert("client_secret_expires_at".into(), Value::from(client.secret_expires_at));
    }
    if let Some(rat) = &client.registration_access_token {
        body.insert("registration_access_token".into(), Value::from(rat.clone()));
        body.insert("registration_client_uri".into(), Value::from(client_uri(state, &client.client_id)));
    }
    let answer = json(status, &Value::Object(body));
    if state.config.has(Flaw::OmitNoStore) {
        answer
    } else {
        no_store(answer)
    }
}

/// The configuration endpoint of a client, as the server hands it out (RFC 7592 §3).
fn client_uri(state: &State, client_id: &str) -> String {
    match state.config.varies(Variant::OpaqueClientUri) {
        true => {
            format!("{}{REGISTER_PATH}/{client_id}?{OPAQUE_QUERY}", state.base_url.replace("127.0.0.1", "localhost"))
        }
        false => format!("{}{REGISTER_PATH}/{client_id}", state.base_url),
    }
}

/// The query the `opaque-client-uri` variant's client URIs carry and require.
const OPAQUE_QUERY: &str = "v=2";

// ---- token endpoint -----------------------------------------------------------------------

/// How many access tokens (of clients, and of the DCR service) the server keeps before it
/// forgets expired ones.
const MAX_CLIENT_TOKENS: usize = 100_000;

/// RFC 6749 client-credentials grant, for the DCR service's own credentials (a bearer token for
/// `--dcr-auth bearer`) and for registered clients (which is how a suite proves a secret works).
async fn token(state: &State, peer: &Peer, parts: &Parts, body: &Bytes) -> Answer {
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if field("grant_type").as_deref() != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "only client_credentials is offered");
    }
    let Some(proof) = Proof::of(basic_credentials(&parts.headers), &field) else {
        return invalid_client("client authentication is required");
    };
    let token = generate_token("at-", 32);
    let expires = SystemTime::now() + Duration::from_secs(3600);
    if let Proof::Secret { id, secret, .. } = &proof {
        if let Some(org) = tpp_by_credentials(state, id, secret) {
            keep_token(&state.tokens, &token, (org, expires), |_| true);
            return token_answer(&token);
        }
    }
    let client = match authenticate_client(state, peer, &proof).await {
        Ok(client) => client,
        Err(why) => return invalid_client(&why),
    };
    let granted = || {
        let grants = client.metadata.get("grant_types").and_then(Value::as_array);
        grants.is_some_and(|grants| grants.iter().any(|g| g.as_str() == Some("client_credentials")))
    };
    if state.config.varies(Variant::GrantTypesEnforced) && !granted() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "this client was not registered for the client_credentials grant",
        );
    }
    // A deleted client's tokens can go too.
    keep_token(&state.client_tokens, &token, (client.client_id.clone(), expires), |holder| {
        state.store.get(holder).is_some()
    });
    token_answer(&token)
}

/// Keeps an issued token with its holder and expiry. Bounded under load: past the bound, the
/// expired ones go, and those whose holder `still_counts` says no longer does.
fn keep_token(
    tokens: &std::sync::Mutex<std::collections::HashMap<String, (String, SystemTime)>>,
    token: &str,
    held: (String, SystemTime),
    still_counts: impl Fn(&str) -> bool,
) {
    let mut tokens = tokens.lock().unwrap_or_else(|p| p.into_inner());
    if tokens.len() >= MAX_CLIENT_TOKENS {
        let now = SystemTime::now();
        tokens.retain(|_, (holder, until)| *until > now && still_counts(holder));
    }
    tokens.insert(token.to_string(), held);
}

fn token_answer(token: &str) -> Answer {
    no_store(json(StatusCode::OK, &json!({ "access_token": token, "token_type": "Bearer", "expires_in": 3600 })))
}

/// The registered client a token request proves itself as, with the method it registered.
async fn authenticate_client(state: &State, peer: &Peer, proof: &Proof) -> Result<Client, String> {
    let unknown = || "unknown client or wrong credentials".to_string();
    let client = state.store.get(proof.client_id()).ok_or_else(unknown)?;
    let registered = client_auth::registered_method(&client.metadata).to_string();
    let secret_allowed = state.config.has(Flaw::TokenAuthMethodNotEnforced) && matches!(proof, Proof::Secret { .. });
    if !proof.is_method(&registered) && !secret_allowed {
        return Err(format!("this client authenticates with {registered}, not {}", proof.method()));
    }
    let flaws = flaw(state);
    match proof {
        Proof::Secret { id, secret, .. } => state.store.authenticate(id, secret).ok_or_else(unknown),
        Proof::Certificate { .. } if registered == "self_signed_tls_client_auth" => {
            let leaf = peer.chain.first().ok_or("a client certificate is required")?;
            let leaf = crate::pki::CertInfo::from_der(leaf).map_err(|e| e.to_string())?;
            client_auth::check_key_in_jwks(&client.metadata, &leaf, &flaws)?;
            Ok(client)
        }
        Proof::Certificate { .. } => {
            let leaf = check_qwac_chain(&state.trust, &peer.chain, SystemTime::now(), &flaws).map_err(|p| p.text())?;
            client_auth::check_subject(&client.metadata, &leaf, &flaws)?;
            Ok(client)
        }
        Proof::Assertion { id, jws } => {
            let endpoint = format!("{}{TOKEN_PATH}", state.base_url);
            let audiences = [state.base_url.as_str(), endpoint.as_str()];
            let (jwks, unread) = match client_auth::client_jwks(&state.fetcher, &client.metadata).await {
                Ok(jwks) => (jwks, false),
                Err(_) if flaws(Flaw::AcceptUnreadableJwksUri) => (Value::Null, true),
                Err(why) => return Err(why),
            };
            // With the flaw, keys that could not be read are not asked for.
            let rules = |f: Flaw| flaws(f) || (unread && f == Flaw::SkipClientAssertionSignature);
            client_auth::check_assertion(id, &jwks, jws, &audiences, &state.seen_assertions, &rules)?;
            Ok(client)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_recognised_and_everything_else_is_not_found() {
        assert_eq!(Route::of("/client/v1/register"), Route::Register);
        assert_eq!(Route::of("/client/v1/register/abc"), Route::Client("abc".into()));
        assert_eq!(Route::of("/client/v1/register/abc/secret"), Route::RefreshSecret("abc".into()));
        assert_eq!(Route::of("/client/v1/register/"), Route::NotFound);
        assert_eq!(Route::of("/client/v1/register/a/b/c"), Route::NotFound);
        assert_eq!(Route::of("/client/v1/registerx"), Route::NotFound);
        assert_eq!(Route::of("/oauth/token"), Route::Token);
        assert!(!Route::Register.allows(&Method::GET));
        assert!(Route::Client("x".into()).allows(&Method::DELETE));
    }

    #[test]
    fn every_signature_rule_maps_to_a_berlin_group_code() {
        let skew = signature_refusal(&SignatureError::DateSkew { seconds: 3600, max: 300 });
        assert_eq!((skew.status, skew.code), (400, "TIMESTAMP_INVALID"));
        assert_eq!(signature_refusal(&SignatureError::BadSignature).code, "SIGNATURE_INVALID");
        assert_eq!(signature_refusal(&SignatureError::SignatureMissing).code, "SIGNATURE_MISSING");
    }
}
