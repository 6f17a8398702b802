//! Answers of the reference server: JSON bodies with the right status, RFC 7591 §3.2.2 errors,
//! RFC 6750 bearer errors with `WWW-Authenticate`, and Berlin Group `tppMessages` bodies for
//! certificate and signature failures.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Value};

pub type Answer = Response<Full<Bytes>>;

pub fn json(status: StatusCode, body: &Value) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub fn empty(status: StatusCode) -> Answer {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// A Berlin Group error: `{"tppMessages":[{"category":"ERROR","code":..,"text":..}]}`.
pub fn tpp_message(status: StatusCode, code: &str, text: &str) -> Answer {
    json(status, &json!({ "tppMessages": [{ "category": "ERROR", "code": code, "text": text }] }))
}

/// An OAuth error body (RFC 6749 §5.2, RFC 7591 §3.2.2).
pub fn oauth_error(status: StatusCode, error: &str, description: &str) -> Answer {
    json(status, &json!({ "error": error, "error_description": description }))
}

/// RFC 6750 §3.1: 401 with `WWW-Authenticate: Bearer error="invalid_token"`.
pub fn invalid_token(description: &str) -> Answer {
    let mut answer = oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", description);
    answer
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"dcr\", error=\"invalid_token\""));
    answer
}

/// RFC 6750 §3.1: 403 `insufficient_scope`, naming the scope the request needs.
pub fn insufficient_scope(scope: &str) -> Answer {
    let mut answer =
        oauth_error(StatusCode::FORBIDDEN, "insufficient_scope", &format!("the access token lacks the scope {scope}"));
    let challenge = format!("Bearer realm=\"dcr\", error=\"insufficient_scope\", scope=\"{scope}\"");
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        answer.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    answer
}

/// 401 invalid_client for missing or wrong client credentials (RFC 6749 §5.2).
pub fn invalid_client(description: &str) -> Answer {
    let mut answer = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    answer.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"dcr\""));
    answer
}

/// Marks a response that carries a secret as not cacheable (RFC 7591 §3.2.1 via RFC 6749 §5.1).
pub fn no_store(mut answer: Answer) -> Answer {
    answer.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    answer.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    answer
}
