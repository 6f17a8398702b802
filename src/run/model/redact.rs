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
    match crate::transport::parse_json(body) {
        Some(mut json) => {
            json_in_place(&mut json);
            json.to_string()
        }
        None => String::from_utf8_lossy(body).into_owned(),
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

/// The shortest value redacted wherever it appears: shorter ones would hide ordinary text.
pub const MIN_SECRET_LEN: usize = 8;

/// Every secret value the run has sent or been given (client secrets, registration access
/// tokens, DCR credentials, access tokens), so that one is redacted wherever it turns up,
/// not only under a field or header name known as secret: in a body that is not JSON, in an
/// error text, under a profile's own header name. Shared by the sessions of a run.
#[derive(Debug, Clone, Default)]
pub struct SecretBook(std::sync::Arc<std::sync::RwLock<std::collections::BTreeSet<String>>>);

impl SecretBook {
    pub fn learn(&self, secret: &str) {
        if secret.len() >= MIN_SECRET_LEN {
            self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(secret.to_string());
        }
    }

    /// Learns the value of every secret field in `json`, at any depth.
    pub fn learn_json(&self, json: &Value) {
        match json {
            Value::Object(map) => {
                for (k, v) in map {
                    match v.as_str() {
                        Some(secret) if is_secret_field(k) => self.learn(secret),
                        _ => self.learn_json(v),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.learn_json(v)),
            _ => {}
        }
    }

    /// Learns the secrets a request carries: under a secret header name or one of `also`
    /// (the profile's credential headers), the bearer token, and secret JSON fields.
    pub fn learn_request(&self, msg: &Message, also: &[&str]) {
        for (name, value) in &msg.headers {
            if is_secret_header(name) || also.iter().any(|a| a.eq_ignore_ascii_case(name)) {
                // The credential itself: scrubbing it scrubs any header value that carries it.
                self.learn(value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("Basic ")).unwrap_or(value));
            }
        }
        if let Some(json) = crate::transport::parse_json(&msg.body) {
            self.learn_json(&json);
        }
    }

    /// `text` with every known secret replaced.
    pub fn scrub(&self, text: &str) -> String {
        let secrets = self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Longest first, so that a secret containing another is replaced whole.
        let mut ordered: Vec<&String> = secrets.iter().filter(|s| text.contains(s.as_str())).collect();
        ordered.sort_by_key(|s| std::cmp::Reverse(s.len()));
        ordered.into_iter().fold(text.to_string(), |text, secret| text.replace(secret.as_str(), REDACTED))
    }

    /// A recorded request with every known secret scrubbed.
    pub fn scrub_request(&self, mut r: RecordedRequest) -> RecordedRequest {
        r.url = self.scrub(&r.url);
        r.headers.iter_mut().for_each(|(_, v)| *v = self.scrub(v));
        r.signing_string = r.signing_string.map(|s| self.scrub(&s));
        r.body = self.scrub(&r.body);
        r
    }

    /// A check outcome with every known secret scrubbed from what was expected and what came.
    pub fn scrub_check(&self, mut c: super::CheckOutcome) -> super::CheckOutcome {
        c.expected = self.scrub(&c.expected);
        c.got = self.scrub(&c.got);
        c
    }

    /// A recorded answer with every known secret scrubbed.
    pub fn scrub_response(&self, mut r: RecordedResponse) -> RecordedResponse {
        r.headers.iter_mut().for_each(|(_, v)| *v = self.scrub(v));
        r.body = self.scrub(&r.body);
        r
    }
}

/// A request as the run model keeps it.
pub fn request(base_url: &str, msg: &Message, tls: Option<&str>, signing_string: Option<&str>) -> RecordedRequest {
    RecordedRequest {
        method: msg.method.clone(),
        url: format!("{base_url}{}", msg.target),
        tls_identity: tls.map(str::to_string),
        headers: msg.headers.iter().map(|(n, v)| (n.clone(), header_value(n, v))).collect(),
        body: body(&msg.body),
        signing_string: signing_string.map(signing_string_redacted),
    }
}

/// A signing string with each line's value redacted as its header's would be (a profile may
/// sign a credential header).
fn signing_string_redacted(text: &str) -> String {
    text.lines()
        .map(|line| match line.split_once(": ") {
            Some((name, value)) => format!("{name}: {}", header_value(name, value)),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// An answer as the run model keeps it.
pub fn response(r: &Response) -> RecordedResponse {
    RecordedResponse {
        status: r.status,
        headers: r.headers.iter().map(|(n, v)| (n.clone(), header_value(n, v))).collect(),
        body: body(&r.body),
        truncated: r.truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_once_seen_is_redacted_wherever_it_turns_up() {
        let book = SecretBook::default();
        let mut msg = Message::new("POST", "/register", br#"{"client_secret":"sent-secret-1"}"#.to_vec());
        msg.add_header("X-Api-Key", "profile-header-secret");
        msg.add_header("Authorization", "Bearer rat-0123456789");
        book.learn_request(&msg, &["x-api-key"]);
        book.learn_json(&serde_json::json!({ "nested": [{ "registration_access_token": "rat-abcdefgh" }] }));
        book.learn("short");
        let text = "\u{feff}{bad json client_secret=sent-secret-1, key profile-header-secret, rat-0123456789, rat-abcdefgh, short}";
        let scrubbed = book.scrub(text);
        for secret in ["sent-secret-1", "profile-header-secret", "rat-0123456789", "rat-abcdefgh"] {
            assert!(!scrubbed.contains(secret), "{secret} in {scrubbed}");
        }
        assert!(scrubbed.contains("short"), "values under the minimum length are ordinary text");
        assert_eq!(book.scrub("nothing secret here"), "nothing secret here");
    }

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
