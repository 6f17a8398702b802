//! Redaction, the one place that knows which values are secrets: JSON fields (client secrets,
//! registration access tokens, access and refresh tokens) and headers (Authorization, any
//! header whose name says secret). Requests and answers are redacted as they are recorded into
//! the run model, so no reporter can leak what it never receives; snapshots and check outcomes
//! use the same lists.

use serde_json::Value;

use super::{RecordedRequest, RecordedResponse};
use crate::signature::Message;
use crate::transport::Response;

/// What reports show in place of a secret.
pub const REDACTED: &str = "[redacted]";

/// JSON fields whose values are secrets.
pub const SECRET_FIELDS: &[&str] = &["client_secret", "registration_access_token", "access_token", "refresh_token"];

/// Header names whose values are secrets, besides any whose name contains `secret`.
pub const SECRET_HEADERS: &[&str] = &["authorization", "proxy-authorization", "x-ibm-client-secret", "x-client-secret"];

/// Whether a header's value is a secret.
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)) || name.to_ascii_lowercase().contains("secret")
}

/// Whether a JSON field's value is a secret.
pub fn is_secret_field(name: &str) -> bool {
    SECRET_FIELDS.contains(&name)
}

/// A secret as a report shows it when two must be told apart: a tag from the first 32 bits of
/// its SHA-256, which says "these differ" without saying anything usable about either.
pub fn redacted_tag(secret: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
    format!("[redacted #{}]", hex::encode(&digest.as_ref()[..4]))
}

/// A header's value as reports show it.
pub fn header_value(name: &str, value: &str) -> String {
    if is_secret_header(name) {
        REDACTED.into()
    } else {
        value.to_string()
    }
}

/// The body as text with secret JSON fields replaced; a non-JSON body is kept as text.
pub fn body(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(mut json) => {
            json_in_place(&mut json);
            json.to_string()
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

/// Replaces every secret field's string value, at any depth.
pub fn json_in_place(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_field(k) && v.is_string() {
                    *v = Value::String(REDACTED.into());
                } else {
                    json_in_place(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(json_in_place),
        _ => {}
    }
}

/// A request as the run model keeps it.
pub fn request(base_url: &str, msg: &Message, tls: Option<&str>) -> RecordedRequest {
    RecordedRequest {
        method: msg.method.clone(),
        url: format!("{base_url}{}", msg.target),
        tls_identity: tls.map(str::to_string),
        headers: msg.headers.iter().map(|(n, v)| (n.clone(), header_value(n, v))).collect(),
        body: body(&msg.body),
    }
}

/// An answer as the run model keeps it.
pub fn response(r: &Response) -> RecordedResponse {
    RecordedResponse {
        status: r.status,
        headers: r.headers.iter().map(|(n, v)| (n.clone(), header_value(n, v))).collect(),
        body: body(&r.body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_headers_are_known_by_name() {
        let cases = [
            ("Authorization", true),
            ("X-IBM-Client-Secret", true),
            ("X-Api-Secret-Key", true),
            ("X-IBM-Client-Id", false),
            ("Content-Type", false),
            ("Digest", false),
        ];
        for (name, secret) in cases {
            assert_eq!(is_secret_header(name), secret, "{name}");
            assert_eq!(header_value(name, "v") == REDACTED, secret, "{name}");
        }
    }

    #[test]
    fn secret_fields_are_redacted_at_any_depth_and_others_kept() {
        let text = body(
            br#"{"client_id":"c1","client_secret":"s","nested":[{"registration_access_token":"r","n":1}],"access_token":7}"#,
        );
        let json: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(json["client_id"], "c1");
        assert_eq!(json["client_secret"], REDACTED);
        assert_eq!(json["nested"][0]["registration_access_token"], REDACTED);
        assert_eq!(json["nested"][0]["n"], 1);
        assert_eq!(json["access_token"], 7, "only string values are secrets");
        assert_eq!(body(b"not json"), "not json");
    }

    #[test]
    fn tags_tell_secrets_apart_without_showing_them() {
        assert_eq!(redacted_tag("a"), redacted_tag("a"));
        assert_ne!(redacted_tag("a"), redacted_tag("b"));
        assert!(!redacted_tag("secret-value").contains("secret-value"));
    }
}
