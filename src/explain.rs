//! `dcr-harness explain`: why a bank's verifier refused a TPP's signed request. It reads a
//! captured request (raw HTTP, an entry of a HAR file, or the `> ` lines of `curl -v`), runs the
//! signature verifier with the profile's dialect and date window, and says which rule the
//! request breaks, what the request signed, and what the profile's signer would have signed.
//!
//! It reads what it is given and judges the signature only (no network, no certificate trust:
//! whether the QSEAL chains to a QTSP is the server's question); it must not print secrets a
//! capture carries other than the signature fields it explains.

use std::time::{Duration, SystemTime};

use crate::signature::scheme::BaseError;
use crate::signature::{self, Dialect, Message, Scheme, SignatureError, VerifyPolicy};

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{0}")]
    Raw(#[from] signature::RawError),
    #[error("not a HAR file: {0}")]
    HarJson(#[source] serde_json::Error),
    #[error("not a HAR file: no log.entries array (export the request from the browser's network tab as HAR)")]
    HarEntries,
    #[error("not a HAR file: url: {0}")]
    HarUrl(#[source] url::ParseError),
    #[error("the HAR file has {count} entries; pick one with --entry N (0 to {last})", last = count - 1)]
    WhichEntry { count: usize },
    #[error("the HAR file has no entry {0}")]
    NoEntry(usize),
    #[error("a curl trace without a `> ` request line")]
    EmptyTrace,
}

/// Reads a captured request: a HAR file (JSON), a `curl -v` trace (its `> ` lines; curl leaves
/// the body out, so `body` supplies it), or raw HTTP.
pub fn read_capture(text: &[u8], entry: Option<usize>, body: Option<Vec<u8>>) -> Result<Message, CaptureError> {
    let trimmed = text.trim_ascii_start();
    let mut msg = if trimmed.starts_with(b"{") {
        from_har(trimmed, entry)?
    } else if is_curl_trace(trimmed) {
        from_curl_trace(trimmed)?
    } else {
        Message::from_raw(trimmed)?
    };
    if let Some(body) = body {
        msg.body = body;
    }
    Ok(msg)
}

/// Raw HTTP never starts a line with `> `; curl's verbose output marks each request line so.
fn is_curl_trace(text: &[u8]) -> bool {
    String::from_utf8_lossy(text).lines().any(|l| l.starts_with("> "))
}

fn from_curl_trace(text: &[u8]) -> Result<Message, CaptureError> {
    let text = String::from_utf8_lossy(text);
    let head: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("> ").or((l == ">").then_some(""))).collect();
    if head.is_empty() {
        return Err(CaptureError::EmptyTrace);
    }
    let raw = format!("{}\r\n\r\n", head.join("\r\n").trim_end());
    Ok(Message::from_raw(raw.as_bytes())?)
}

fn from_har(text: &[u8], entry: Option<usize>) -> Result<Message, CaptureError> {
    let har: serde_json::Value = serde_json::from_slice(text).map_err(CaptureError::HarJson)?;
    let entries = har.pointer("/log/entries").and_then(|e| e.as_array()).ok_or(CaptureError::HarEntries)?;
    let index = match (entry, entries.len()) {
        (Some(i), _) => i,
        (None, 1) => 0,
        (None, count) => return Err(CaptureError::WhichEntry { count: count.max(1) }),
    };
    let request = entries.get(index).and_then(|e| e.get("request")).ok_or(CaptureError::NoEntry(index))?;
    let text_of = |field: &str| request.get(field).and_then(|v| v.as_str());
    let url = url::Url::parse(text_of("url").unwrap_or_default()).map_err(CaptureError::HarUrl)?;
    let mut msg = Message::new(text_of("method").unwrap_or("GET"), &signature::request_target(&url), Vec::new());
    msg.set_origin(&url.origin().ascii_serialization());
    for h in request.get("headers").and_then(|h| h.as_array()).into_iter().flatten() {
        if let (Some(name), Some(value)) =
            (h.get("name").and_then(|v| v.as_str()), h.get("value").and_then(|v| v.as_str()))
        {
            // HTTP/2 pseudo-headers are the request line, already read from the URL.
            if !name.starts_with(':') {
                msg.add_header(name, value);
            }
        }
    }
    msg.body = request.pointer("/postData/text").and_then(|v| v.as_str()).unwrap_or_default().as_bytes().to_vec();
    Ok(msg)
}

/// What `explain` found.
#[derive(Debug)]
pub struct Explanation {
    pub scheme: Scheme,
    /// The rule the request breaks; `None` if the signature verifies.
    pub broken: Option<SignatureError>,
    /// The signing string (or RFC 9421 signature base) over what the request says it signed.
    pub as_signed: Result<String, BaseError>,
    /// What the profile's signer would have signed for this request.
    pub expected: Result<String, BaseError>,
    /// The digest the body has, as the profile writes it.
    pub expected_digest: String,
}

/// Verifies `msg` as `dialect` and the date window say, at `at`, and explains the verdict.
pub fn explain(msg: &Message, dialect: &Dialect, window: Duration, at: SystemTime) -> Explanation {
    let policy = VerifyPolicy { max_skew: Some(window), ..VerifyPolicy::of(dialect.clone()) };
    let broken = signature::verify(msg, &policy, at).err();
    let (as_signed, expected, expected_digest) = dialect.scheme.explain(msg, dialect);
    Explanation { scheme: dialect.scheme, broken, as_signed, expected, expected_digest }
}

impl Explanation {
    /// The explanation as a person reads it.
    pub fn render(&self, msg: &Message) -> String {
        let mut out = format!("request: {} {}\n", msg.method, msg.target);
        let (dialect, what) = (format!("{} signature", self.scheme.title()), self.scheme.signed_text());
        match &self.broken {
            None => out.push_str(&format!("verdict: the {dialect} verifies\n")),
            Some(e) => out.push_str(&format!("verdict: refused, rule `{}`: {e}\nwhy: {}\n", e.rule(), advice(e))),
        }
        out.push_str(&format!("\nthe {what} over what the request says it signed:\n"));
        out.push_str(&indented(&self.as_signed));
        out.push_str(&format!("\nthe {what} the profile's signer would have signed:\n"));
        out.push_str(&indented(&self.expected));
        out.push_str(&format!("\nthe body's digest, as the profile writes it: {}\n", self.expected_digest));
        out
    }
}

fn indented(text: &Result<String, impl std::fmt::Display>) -> String {
    match text {
        Ok(t) => t.lines().map(|l| format!("  {l}\n")).collect(),
        Err(why) => format!("  (none: {why})\n"),
    }
}

/// What a TPP usually got wrong when a rule breaks: the hint a support desk would give.
fn advice(error: &SignatureError) -> &'static str {
    use SignatureError::*;
    match error {
        SignatureMissing => "POST, PUT and DELETE must carry a Signature header",
        SignatureInputMissing => "an RFC 9421 Signature needs the Signature-Input that names its components",
        DuplicateHeader(_) => "a header the signature depends on appears twice; send it once",
        Malformed(_) | MissingParameter(_) => "the signature header does not parse; compare it with the expected form below",
        UnknownAlgorithm(_) | AlgorithmMismatch { .. } => "the algorithm label must fit the QSEAL's key (rsa-sha256 or hs2019 for RSA)",
        HeaderNotSigned(_) => "a required header or component is not in the signed list",
        SignedHeaderAbsent(_) => "the signed list names a header the request does not carry",
        DigestMissing | DigestMalformed(_) => "the body's digest header is missing or unreadable",
        DigestAlgorithm(_) => "the digest must be SHA-256 (or SHA-512 where the bank allows it)",
        DigestMismatch => "the digest is not that of the body sent: the body changed after signing, or was hashed in another encoding",
        DateMissing | DateFormat(_) => "the Date (or RFC 9421 `created`) is missing or not in the expected form",
        DateSkew { .. } | Expired { .. } => "the signing time is outside the window: check the TPP's clock (or pass --at for an old capture)",
        BadBase64(_) => "the signature (or certificate) is not valid base64",
        CertificateMissing | CertificateUnreadable(_) => "TPP-Signature-Certificate must carry the QSEAL certificate, base64 DER",
        KeyIdMalformed(_) | KeyIdMismatch(_) => "keyId must name the certificate sent (serial number and issuing CA)",
        WeakKey(_) => "the QSEAL key is too weak (RSA under 2048 bits)",
        LabelMismatch { .. } => "Signature and Signature-Input must use the same label",
        TagMismatch { .. } => "the signature's tag must be the one the bank's profile requires",
        RequestIdMissing | RequestIdNotUuid(_) => "Berlin Group requests carry an X-Request-ID that is a UUID, signed",
        BadSignature => "the signature does not match what the request signs: compare the two strings below (method case, path and query, header values)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::rfc9421::Rfc9421;
    use crate::signature::{sign_mutated, Mutation, MutationContext};
    use crate::testing::test_pki;

    fn dialects() -> [Dialect; 4] {
        [
            Dialect::default(),
            crate::signature::tests_support::berlin_group(),
            Dialect { scheme: Scheme::Rfc9421, ..Dialect::default() },
            Dialect {
                scheme: Scheme::Rfc9421,
                rfc9421: Rfc9421 { tag: Some("fapi-2-request".into()), ..Rfc9421::default() },
                ..Dialect::default()
            },
        ]
    }

    /// Each mutation of the catalog, signed, written out as raw HTTP and read back, is explained
    /// by the rule the catalog says it breaks.
    #[test]
    fn explain_names_the_broken_rule_for_every_mutation_of_the_catalog() {
        let pki = test_pki();
        let identity = pki.identity("qseal").expect("qseal");
        let ctx = MutationContext { other_identity: pki.identity("qseal-b").ok(), memo: None };
        let now = SystemTime::now();
        for dialect in dialects() {
            for mutation in Mutation::ALL.iter().filter(|m| m.bends_http_signature()) {
                let Some(rule) = mutation.rejected_in(&dialect) else { continue };
                let mut msg = Message::new("POST", "/client/v1/register", br#"{"client_name":"x"}"#.to_vec());
                msg.set_origin("https://bank.example");
                sign_mutated(identity, &dialect, &mut msg, now, Some(*mutation), &ctx).expect("signs");
                let captured = read_capture(&msg.to_raw(), None, None).expect("reads back");
                let explained = explain(&captured, &dialect, Duration::from_secs(300), now);
                assert_eq!(explained.broken.as_ref().map(SignatureError::rule), Some(rule), "{mutation} {dialect:?}");
                assert!(explained.render(&captured).contains(&format!("rule `{rule}`")), "{mutation}");
            }
        }
    }

    #[test]
    fn a_good_request_verifies_and_both_strings_agree() {
        let identity = test_pki().identity("qseal").expect("qseal");
        let now = SystemTime::now();
        for dialect in dialects() {
            let mut msg = Message::new("PUT", "/client/v1/register/c1?x=1", br#"{"client_id":"c1"}"#.to_vec());
            msg.set_origin("https://bank.example");
            signature::sign(identity, &dialect, &mut msg, now).expect("signs");
            let explained = explain(
                &read_capture(&msg.to_raw(), None, None).expect("reads"),
                &dialect,
                Duration::from_secs(300),
                now,
            );
            assert!(explained.broken.is_none(), "{:?}", explained.broken);
            assert_eq!(explained.as_signed, explained.expected, "{dialect:?}");
        }
    }

    #[test]
    fn a_har_entry_and_a_curl_trace_read_as_the_same_request() {
        let har =
            br#"{"log":{"entries":[{"request":{"method":"POST","url":"https://bank.example/client/v1/register?a=1",
            "headers":[{"name":":authority","value":"bank.example"},{"name":"Date","value":"x"}],
            "postData":{"mimeType":"application/json","text":"{}"}}}]}}"#;
        let from_har = read_capture(har, None, None).expect("HAR");
        let trace = b"*   Trying 127.0.0.1:443...\n> POST /client/v1/register?a=1 HTTP/1.1\n> Host: bank.example\n> Date: x\n>\n< HTTP/1.1 401\n";
        let from_trace = read_capture(trace, None, Some(b"{}".to_vec())).expect("trace");
        for m in [&from_har, &from_trace] {
            assert_eq!(
                (m.method.as_str(), m.target.as_str(), m.body.as_slice()),
                ("POST", "/client/v1/register?a=1", &b"{}"[..])
            );
            assert_eq!(m.target_uri(), "https://bank.example/client/v1/register?a=1");
            assert_eq!(m.header("date"), Some("x"));
        }
        let two = br#"{"log":{"entries":[{"request":{}},{"request":{}}]}}"#;
        assert!(matches!(read_capture(two, None, None), Err(CaptureError::WhichEntry { count: 2 })));
        assert!(matches!(read_capture(b"{\"log\":{}}", None, None), Err(CaptureError::HarEntries)));
    }
}
