//! Answers of the reference server: JSON bodies with the right status, RFC 7591 §3.2.2 errors,
//! RFC 6750 bearer errors with `WWW-Authenticate`, and Berlin Group `tppMessages` bodies for
//! certificate and signature failures.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Value};

pub type Answer = Response<Full<Bytes>>;

pub fn json(status: StatusCode, body: &impl Serialize) -> Answer {
    // Serialised straight into bytes: `to_string` goes through the formatter, which costs more.
    let mut response = Response::new(Full::new(Bytes::from(serde_json::to_vec(body).unwrap_or_default())));
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

/// A JSON object: `base` with the `added` fields put in (each replacing a field of its name),
/// written in key order as the same `Value::Object` would be, without copying `base`: a
/// registration's answer is the client's metadata and a handful of fields, on every request.
/// `base` is any map in key order: the parsed metadata, or its fields' unparsed text.
pub struct Merged<'a, B> {
    pub base: &'a B,
    /// Distinct names.
    pub added: Vec<(&'static str, Value)>,
}

impl<B, K, V> Serialize for Merged<'_, B>
where
    for<'b> &'b B: IntoIterator<Item = (&'b K, &'b V)>,
    K: AsRef<str>,
    V: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut added: Vec<&(&str, Value)> = self.added.iter().collect();
        added.sort_by_key(|(name, _)| *name);
        // No length: a wrong one (two added fields of one name) would write a broken object.
        let mut map = serializer.serialize_map(None)?;
        let mut base = self.base.into_iter().map(|(name, value)| (name.as_ref(), value)).peekable();
        let mut added = added.into_iter().peekable();
        loop {
            match (base.peek(), added.peek()) {
                (Some((name, _)), Some((new, _))) if name == new => {
                    base.next();
                }
                (Some((name, value)), Some((new, _))) if name < new => {
                    map.serialize_entry(name, value)?;
                    base.next();
                }
                (_, Some((new, value))) => {
                    map.serialize_entry(new, value)?;
                    added.next();
                }
                (Some((name, value)), None) => {
                    map.serialize_entry(name, value)?;
                    base.next();
                }
                (None, None) => break,
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merged_object_is_written_as_the_object_with_its_fields_inserted() {
        let object = |v: Value| match v {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        };
        let cases = [
            (json!({}), vec![]),
            (json!({}), vec![("b", json!(1)), ("a", json!("x"))]),
            (json!({"m": 1, "z": [1, 2]}), vec![]),
            (json!({"b": 1, "d": 2}), vec![("a", json!(0)), ("c", json!(0)), ("e", json!(0))]),
            (json!({"client_id": "old", "scope": "a b"}), vec![("client_id", json!("new")), ("zz", json!(null))]),
        ];
        for (base, added) in cases {
            let base = object(base);
            let mut expected = base.clone();
            for (name, value) in &added {
                expected.insert(name.to_string(), value.clone());
            }
            let text = Value::Object(base.clone()).to_string();
            let fields: std::collections::BTreeMap<&str, &serde_json::value::RawValue> =
                serde_json::from_str(&text).expect("fields of an object");
            let parsed = serde_json::to_string(&Merged { base: &base, added: added.clone() }).expect("serialises");
            let unparsed = serde_json::to_string(&Merged { base: &fields, added }).expect("serialises");
            assert_eq!(parsed, Value::Object(expected).to_string(), "{base:?}");
            assert_eq!(unparsed, parsed, "{base:?}");
        }
    }
}
