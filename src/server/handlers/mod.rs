//! Request handling of the reference server, in the order a bank's gateway applies its rules:
//! client certificate (QWAC), DCR-service credentials, body, signature (POST, PUT, DELETE),
//! QSEAL, then the RFC 7591/7592 operation itself. This file routes a request and holds what
//! every route shares; each family's gateway (`gateway`), the lifecycle behind it (`lifecycle`)
//! and the token endpoint (`token`) are files of their own.

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
use super::response::{
    empty, insufficient_scope, invalid_client, invalid_token, json, no_store, oauth_error, tpp_message, Answer, Merged,
};
use super::store::{constant_time_eq, Client, Metadata};
use super::{DcrAuth, Peer, Refusal, ServerProfile, State, Variant};
use super::{CLIENT_ID_HEADER, CLIENT_SECRET_HEADER};
use crate::pki::generate_token;
use crate::signature::{Message, SignatureError};

mod cdr;
mod dpop;
mod gateway;
mod lifecycle;
mod resource;
mod token;

pub(super) use gateway::signature_refusal;
use gateway::*;
use lifecycle::*;
use resource::*;
pub(super) use token::TokenFacts;
use token::*;

pub const REGISTER_PATH: &str = "/client/v1/register";
pub const TOKEN_PATH: &str = "/oauth/token";

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    WellKnown,
    Token,
    Introspect,
    Resource,
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
            INTROSPECT_PATH => Route::Introspect,
            RESOURCE_PATH => Route::Resource,
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
            Route::WellKnown | Route::Resource => method == Method::GET,
            Route::Token | Route::Introspect | Route::Register | Route::RefreshSecret(_) => method == Method::POST,
            Route::Client(_) => [Method::GET, Method::PUT, Method::DELETE].contains(method),
            Route::NotFound => true,
        }
    }
}

/// The `update-resurrects-deleted` flaw: an update reads the client's record, takes its time,
/// and writes the record back whole, re-creating a client deleted meanwhile (a read, modify and
/// write without a lock).
async fn write_back_after_a_while(state: &State, id: &str) {
    let read = state.store.get(id);
    // Long enough for a delete sent 10 ms after the update to land inside it on a busy machine
    // (the flaw matrix runs eight servers at once on two cores; 50 ms once missed it).
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    if let Some(client) = read.filter(|_| state.store.get(id).is_none()) {
        state.store.insert(client);
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
    // What the server fetches on its own behalf (the QTSP's status, a sector document), timed
    // apart so that the answer can say it (Server-Timing).
    let fetching = std::time::Instant::now();
    learn_revocation_status(state, peer, &parts).await;
    let registers = route == Route::Register || matches!(route, Route::Client(_)) && parts.method == Method::PUT;
    if registers {
        learn_fetched_documents(state, &body).await;
    }
    let fetched = fetching.elapsed();
    if let (Route::Client(id), true) = (&route, state.config.has(Flaw::SlowUnderBurst)) {
        if parts.method == Method::GET && in_a_burst(state, id) {
            tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
        }
    }
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
    if let (Route::Client(id), true) = (&route, state.config.has(Flaw::UpdateResurrectsDeleted)) {
        if parts.method == Method::PUT {
            write_back_after_a_while(state, id).await;
        }
    }
    let mut answer = match (route, state.config.profile) {
        (Route::WellKnown, _) => well_known(state),
        (Route::Token, _) => token(state, peer, &parts, &body).await,
        (Route::Introspect, _) => introspect(state, peer, &parts, &body).await,
        (Route::Resource, _) => resource(state, peer, &parts),
        (route, ServerProfile::Smbc) => smbc(state, peer, &parts, body, route),
        (route, ServerProfile::Plain | ServerProfile::Fapi) => plain(state, &parts, &body, route),
        (route, ServerProfile::Obuk | ServerProfile::Cdr) => obuk(state, peer, &parts, &body, route),
    };
    server_timing(&mut answer, fetched);
    answer
}

/// W3C Server-Timing: the milliseconds this request's own fetches took (`fetch;dur=...`), so that
/// a client measuring the answer can tell the server's dependencies from the server.
fn server_timing(answer: &mut Answer, fetched: std::time::Duration) {
    let value = format!("fetch;dur={:.1};desc=\"the server's own fetches\"", fetched.as_secs_f64() * 1000.0);
    if let Ok(value) = http::HeaderValue::from_str(&value) {
        answer.headers_mut().insert("server-timing", value);
    }
}

/// The `slow-under-burst` flaw's burst: this read of the client is the fifth or later within
/// 100 ms (no scenario reads one client so often but a burst).
fn in_a_burst(state: &State, id: &str) -> bool {
    const WINDOW: std::time::Duration = std::time::Duration::from_millis(100);
    let mut reads = state.recent_reads.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if reads.len() > 10_000 {
        reads.clear();
    }
    let now = std::time::Instant::now();
    let times = reads.entry(id.to_string()).or_default();
    times.retain(|at| now.duration_since(*at) < WINDOW);
    times.push(now);
    times.len() > 4
}

/// Asks the QTSP (where the server does) about the certificates this request presents: the
/// client certificate and the signing certificate, so that judging them later needs no wait.
async fn learn_revocation_status(state: &State, peer: &Peer, parts: &Parts) {
    let Some(revocation) = &state.revocation else { return };
    if let Some(leaf) = peer.chain.first() {
        revocation.refresh(leaf.as_ref()).await;
    }
    // As bytes: the header is compared with what was seen, and read as text only when new.
    if let Some(value) = parts.headers.get(crate::signature::headers::CERTIFICATE) {
        revocation.refresh_header(value.as_bytes()).await;
    }
}

/// Fetches what a registration or update names for the server to read (in its JSON, or in its
/// request object's claims, read before anything is verified): the sector identifier document,
/// the key set at its statement's `software_jwks_endpoint`; so that the rules that judge them
/// later only read.
async fn learn_fetched_documents(state: &State, body: &Bytes) {
    // Every registration passes here: a JSON body that does not name the field is not parsed
    // twice (a request object's claims are encoded, so it is read to tell).
    const FIELD: &[u8] = b"sector_identifier_uri";
    let json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if json && !body.windows(FIELD.len()).any(|w| w == FIELD) {
        return;
    }
    let claims = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(metadata)) => Some(metadata),
        _ => std::str::from_utf8(body).ok().and_then(|text| crate::pki::jws::parts(text.trim())).map(|p| p.claims),
    };
    if let Some(metadata) = claims {
        if !state.config.has(Flaw::SkipSectorIdentifierCheck) {
            state.sectors.learn(&state.fetcher, &metadata).await;
        }
        learn_statement_keys(state, &metadata).await;
    }
}

/// Reads the key set at the `software_jwks_endpoint` a request object's statement names (read
/// before anything is verified), so that the request object's check later only reads it.
async fn learn_statement_keys(state: &State, metadata: &Map<String, Value>) {
    let statement = metadata.get("software_statement").and_then(Value::as_str);
    let claims = statement.and_then(crate::pki::jws::parts).map(|parts| parts.claims);
    let endpoint = claims.as_ref().and_then(|c| c.get(crate::server::request_object::JWKS_ENDPOINT));
    if let Some(uri) = endpoint.and_then(Value::as_str) {
        state.keys.learn(&state.fetcher, uri).await;
    }
}

/// OpenID Connect Registration §5: the redirect URIs are in the sector identifier document, or
/// the registration fails.
fn sector_rule(state: &State, metadata: &Map<String, Value>) -> Result<(), Answer> {
    if state.config.has(Flaw::SkipSectorIdentifierCheck) {
        return Ok(());
    }
    state.sectors.judge(metadata).map_err(|why| {
        let code = match why {
            super::sector::SectorError::NotListed { .. } => "invalid_redirect_uri",
            _ => "invalid_client_metadata",
        };
        oauth_error(StatusCode::BAD_REQUEST, code, &why.to_string())
    })
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
        "introspection_endpoint": format!("{}{INTROSPECT_PATH}", state.base_url),
        // RFC 8705 §3.3: the server issues certificate-bound tokens to clients that ask.
        "tls_client_certificate_bound_access_tokens": true,
        // RFC 9449 §5.1.
        "dpop_signing_alg_values_supported": dpop::DPOP_ALGS,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["authorization_code", "implicit", "client_credentials", "refresh_token"],
    });
    if let Value::Object(doc) = &mut config {
        doc.extend(crate::server::oidc_metadata::discovery());
    }
    if state.config.profile == ServerProfile::Cdr {
        config["token_endpoint_auth_methods_supported"] = json!(["private_key_jwt"]);
        config["scopes_supported"] = json!(cdr::SUPPORTED_SCOPES);
    }
    if state.config.profile.takes_request_objects() {
        config["request_object_signing_alg_values_supported"] = json!(OBUK_SIGNING_ALGS);
        config["token_endpoint_auth_signing_alg_values_supported"] = json!(OBUK_SIGNING_ALGS);
        config["response_types_supported"] = json!(OBUK_RESPONSE_TYPES);
    }
    json(StatusCode::OK, &config)
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
    fn a_subject_dn_takes_open_banking_uk_3_4s_form_or_says_why_not() {
        let long = format!("CN=x,O={}", "y".repeat(OBUK_SUBJECT_DN_MAX));
        let cases = [
            ("CN=Test TPP A Ltd QWAC,organizationIdentifier=PSDGB-FCA-123456,O=Test TPP A Ltd,C=GB", None),
            ("cn=a", None),
            ("CN=a,2.5.4.97=PSDGB-FCA-1", None),
            ("C=GB,O=Test TPP A Ltd,CN=Test TPP A Ltd QWAC", Some("does not start")),
            ("CN=", Some("does not start")),
            ("", Some("does not start")),
            ("CN=a, O=b", Some("no type=value")),
            ("CN=a,O=", Some("no type=value")),
            ("CN=a,,C=GB", Some("no type=value")),
            (long.as_str(), Some("longer than 512")),
        ];
        for (dn, problem) in cases {
            let got = obuk_subject_dn_problem(dn);
            match problem {
                None => assert_eq!(got, None, "{dn}"),
                Some(part) => assert!(got.as_deref().is_some_and(|g| g.contains(part)), "{dn}: {got:?}"),
            }
        }
    }

    #[test]
    fn every_signature_rule_maps_to_a_berlin_group_code() {
        let skew = signature_refusal(&SignatureError::DateSkew { seconds: 3600, max: 300 });
        assert_eq!((skew.status, skew.code), (400, "TIMESTAMP_INVALID"));
        assert_eq!(signature_refusal(&SignatureError::BadSignature).code, "SIGNATURE_INVALID");
        assert_eq!(signature_refusal(&SignatureError::SignatureMissing).code, "SIGNATURE_MISSING");
    }
}
