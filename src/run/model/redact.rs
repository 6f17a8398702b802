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

/// The body as text with secret JSON fields replaced; a body that is not JSON (cut short, say)
/// is kept as text with the values of secret fields found by name replaced all the same.
pub fn body(body: &[u8]) -> String {
    match crate::transport::parse_json(body) {
        Some(mut json) => {
            json_in_place(&mut json);
            json.to_string()
        }
        None => raw_in_place(&String::from_utf8_lossy(body)),
    }
}

/// `text` with the value of every secret field found by name ([`raw_fields`]) replaced.
pub fn raw_in_place(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for field in raw_fields(text).filter(|f| is_secret_field(f.name)) {
        out.push_str(&text[from..field.value.start]);
        out.push_str(REDACTED);
        from = field.value.end;
    }
    out.push_str(&text[from..]);
    out
}

/// A `name: value` (or `name=value`) found in text that may not parse: where its value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawField<'a> {
    pub name: &'a str,
    pub value: std::ops::Range<usize>,
}

/// The fields of text that may not parse as JSON (cut at a limit, with a stray byte, a
/// form): every known field name (secret or client metadata, [`RAW_FIELD_NAMES`]) followed by
/// `:` or `=`, and its value, quoted (to the closing quote, or the end of the text when it was
/// cut) or bare (to the next `,`, `}`, `&`, `;` or space). In order, not overlapping.
pub fn raw_fields(text: &str) -> impl Iterator<Item = RawField<'_>> {
    let bytes = text.as_bytes();
    let mut at = 0;
    // Each name's next occurrence at or after `at`, found again only once passed: the text is
    // scanned once per name, however many fields it holds.
    let find = move |name: &str, from: usize| {
        let hay = bytes.get(from..)?;
        hay.windows(name.len()).position(|w| w == name.as_bytes()).map(|n| n + from)
    };
    let mut next: Vec<Option<usize>> = RAW_FIELD_NAMES.iter().map(|name| find(name, 0)).collect();
    std::iter::from_fn(move || loop {
        for (i, name) in RAW_FIELD_NAMES.iter().enumerate() {
            if next[i].is_some_and(|n| n < at) {
                next[i] = find(name, at);
            }
        }
        let (i, start) = next
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.map(|n| (i, n)))
            .min_by_key(|(i, n)| (*n, std::cmp::Reverse(RAW_FIELD_NAMES[*i].len())))?;
        let name = RAW_FIELD_NAMES[i];
        let after = start + name.len();
        at = start + 1;
        let part_of_a_word = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if part_of_a_word(start.checked_sub(1).and_then(|i| bytes.get(i))) || part_of_a_word(bytes.get(after)) {
            continue;
        }
        let Some(value) = value_after(bytes, after) else { continue };
        at = value.end;
        return Some(RawField { name, value });
    })
}

/// Names [`raw_fields`] looks for: the secrets, and what identifies a client.
pub const RAW_FIELD_NAMES: &[&str] = &[
    "client_secret",
    "registration_access_token",
    "access_token",
    "refresh_token",
    "client_id",
    "registration_client_uri",
    "token_endpoint_auth_method",
];

/// The value after a field name ending at `at`: past a closing quote, spaces, and `:` or `=`.
fn value_after(bytes: &[u8], mut at: usize) -> Option<std::ops::Range<usize>> {
    let skip = |at: &mut usize, what: &[u8]| {
        while *at < bytes.len() && what.contains(&bytes[*at]) {
            *at += 1;
        }
    };
    skip(&mut at, b"\"\\");
    skip(&mut at, b" \t\r\n");
    if !matches!(bytes.get(at), Some(b':' | b'=')) {
        return None;
    }
    at += 1;
    skip(&mut at, b" \t\r\n");
    let quoted = bytes.get(at) == Some(&b'"');
    if quoted {
        at += 1;
    }
    let start = at;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' if quoted => at += 1,
            b'"' if quoted => break,
            b',' | b'}' | b'&' | b';' | b' ' | b'\t' | b'\r' | b'\n' | b'"' if !quoted => break,
            _ => {}
        }
        at += 1;
    }
    let end = at.min(bytes.len());
    (end > start).then_some(start..end)
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

    /// Learns the values of secret fields in text that may not parse ([`raw_fields`]): an
    /// answer cut at the body limit still gives up the secrets in what was read.
    pub fn learn_raw(&self, text: &str) {
        for field in raw_fields(text).filter(|f| is_secret_field(f.name)) {
            self.learn(&text[field.value]);
        }
    }

    /// Learns every secret of an answer's body, whether or not it parses.
    pub fn learn_body(&self, body: &[u8]) {
        match crate::transport::parse_json(body) {
            Some(json) => self.learn_json(&json),
            None => self.learn_raw(&String::from_utf8_lossy(body)),
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
    fn secrets_in_text_that_does_not_parse_are_found_by_field_name() {
        let cases: &[(&str, &[&str])] = &[
            (
                r#"{"client_id":"c1","client_secret":"s3cret-value-1","registration_access_token":"rat-value-2""#,
                &["s3cret-value-1", "rat-value-2"],
            ),
            // Cut in the middle of the secret: the part read is still secret.
            (r#"{"client_secret": "s3cret-val"#, &["s3cret-val"]),
            (r#"\u{feff}garbage{"client_secret" : "escaped\"quote-value", x"#, &[r#"escaped\"quote-value"#]),
            ("client_secret=form-encoded-secret&client_id=c2", &["form-encoded-secret"]),
            (r#"{"not_client_secret":"ordinary-value-123","my_access_token_x":"also-ordinary"}"#, &[]),
        ];
        for (text, secrets) in cases {
            let book = SecretBook::default();
            book.learn_raw(text);
            let scrubbed = book.scrub(text);
            let redacted = raw_in_place(text);
            for secret in *secrets {
                assert!(!scrubbed.contains(secret), "{text}: {secret} learned and scrubbed: {scrubbed}");
                assert!(!redacted.contains(secret), "{text}: {secret} redacted by name: {redacted}");
            }
            if secrets.is_empty() {
                assert_eq!(redacted, *text, "nothing secret by name in {text}");
            }
        }
        let fields: Vec<(&str, &str)> = {
            let text = r#"{"client_id":"odd/id?x", "registration_client_uri":"https://h/r/1"#;
            raw_fields(text).map(|f| (f.name, &text[f.value])).collect()
        };
        assert_eq!(fields, [("client_id", "odd/id?x"), ("registration_client_uri", "https://h/r/1")]);
    }

    #[test]
    fn tags_tell_secrets_apart_without_showing_them() {
        assert_eq!(redacted_tag("a"), redacted_tag("a"));
        assert_ne!(redacted_tag("a"), redacted_tag("b"));
        assert!(!redacted_tag("secret-value").contains("secret-value"));
    }
}
