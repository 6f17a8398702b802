//! Expectations and their outcomes: status (or a kind of rejection, as the target profile
//! defines it, possibly a refused TLS handshake), error code, JSON paths and headers. Each
//! outcome says what was expected and what came. Severity (MUST fails, SHOULD warns) is the
//! scenario's; this module only says whether each check held.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::run::model::redact::redacted_tag;
pub use crate::run::model::{Check, CheckOutcome};
use crate::scenario::template::{render, render_value};
use crate::scenario::{Expect, JsonType, Predicate, Profile, Test};
use crate::transport::{Response, TransportError};

/// What a request came to: an HTTP answer, or a refused handshake / other transport failure.
pub enum Observed<'a> {
    Answer(&'a Response),
    Failed(&'a TransportError),
}

/// Whether a server took a ClientHello as `expected` says: taking it is a ServerHello with the
/// version offered and one of the suites offered (anything else is no handshake the client
/// could go on with).
pub fn check_handshake(
    expected: crate::scenario::HandshakeExpect,
    offer: &crate::tls_probe::Offer,
    got: &crate::tls_probe::Handshake,
) -> CheckOutcome {
    use crate::scenario::HandshakeExpect;
    use crate::tls_probe::Handshake;
    let took = match got {
        Handshake::Accepted { version, cipher_suite } => {
            *version == offer.version.wire()
                && (offer.cipher_suites.is_empty() || offer.cipher_suites.contains(cipher_suite))
        }
        Handshake::Refused { .. } => false,
    };
    let wanted = match expected {
        HandshakeExpect::Accepted => format!("{} taken", offer.version.name()),
        HandshakeExpect::Refused => format!("{} refused (an alert, or the connection closed)", offer.version.name()),
    };
    CheckOutcome::new(Check::Handshake, took == (expected == HandshakeExpect::Accepted), wanted, got.to_string())
}

/// The 95th percentile (nearest rank) of the answer times of a step's copies, against `limit`
/// milliseconds; a copy that got no answer counts as slower than any limit.
pub fn response_time(limit_ms: u64, sent: &[Result<Response, TransportError>]) -> CheckOutcome {
    let mut times: Vec<u128> =
        sent.iter().map(|r| r.as_ref().map_or(u128::MAX, |response| response.elapsed.as_millis())).collect();
    times.sort_unstable();
    let rank = (times.len() * 95).div_ceil(100).max(1);
    let p95 = times.get(rank - 1).copied().unwrap_or(u128::MAX);
    let shown = |ms: u128| if ms == u128::MAX { "no answer".to_string() } else { format!("{ms} ms") };
    let slowest = shown(times.last().copied().unwrap_or(u128::MAX));
    let mut got = format!("{} over {} answer(s), the slowest {slowest}", shown(p95), times.len());
    // What the server says it spent on its own fetches (W3C Server-Timing `fetch;dur=MS`).
    let fetched = sent
        .iter()
        .flatten()
        .filter_map(|r| r.header("server-timing"))
        .filter_map(fetch_ms)
        .fold(None, |max: Option<f64>, ms| Some(max.map_or(ms, |m| m.max(ms))));
    if let Some(ms) = fetched {
        got.push_str(&format!("; the server's own fetches took up to {ms:.1} ms (Server-Timing)"));
    }
    CheckOutcome::new(Check::ResponseTime, p95 <= u128::from(limit_ms), format!("p95 within {limit_ms} ms"), got)
}

/// The `dur` of a Server-Timing header's `fetch` metric.
fn fetch_ms(header: &str) -> Option<f64> {
    let metric = header.split(',').map(str::trim).find(|m| m.split(';').next() == Some("fetch"))?;
    let dur = metric.split(';').find_map(|p| p.trim().strip_prefix("dur="))?;
    dur.parse::<f64>().ok().filter(|ms| ms.is_finite() && *ms >= 0.0)
}

/// The error code of an answer: `tppMessages[0].code` (Berlin Group) or `error` (OAuth).
pub fn error_code(response: &Response) -> Option<String> {
    let json = response.json()?;
    json.pointer("/tppMessages/0/code").or_else(|| json.get("error")).and_then(Value::as_str).map(str::to_string)
}

/// Checks an observation against a step's expectations. `sent` is the request's JSON body.
pub fn check(
    expect: &Expect,
    observed: &Observed<'_>,
    sent: Option<&Value>,
    profile: &Profile,
    vars: &BTreeMap<String, String>,
) -> Vec<CheckOutcome> {
    if let (Some(path), Observed::Answer(response)) = (&expect.or_substituted, observed) {
        if (200..300).contains(&response.status) {
            return vec![substituted(path, sent, response)];
        }
    }
    let mut out = vec![check_status(expect, observed, profile)];
    let Observed::Answer(response) = observed else {
        return out;
    };
    let berlin_group = |code: &String| code.chars().all(|c| c.is_ascii_uppercase() || c == '_');
    let codes = expect.code.as_ref().filter(|codes| {
        // Berlin Group codes are a bank's choice; OAuth's (RFC 6749, 7591, 7750) are the spec's.
        !codes.to_vec().iter().any(berlin_group) || profile.holds(crate::protocol::Policy::BerlinGroupCodes)
    });
    if let Some(codes) = codes {
        let allowed = codes.to_vec();
        let got = error_code(response);
        let passed = got.as_ref().is_some_and(|c| allowed.contains(c));
        out.push(CheckOutcome::new(
            Check::ErrorCode,
            passed,
            allowed.join(" or "),
            got.unwrap_or_else(|| "no error code".into()),
        ));
    }
    if !expect.json.is_empty() {
        match response.json() {
            Some(body) => {
                for (path, predicate) in &expect.json {
                    out.push(check_predicate(Check::Json(path.clone()), lookup(&body, path), predicate, vars));
                }
            }
            // Nothing can be said of a field of an answer that cannot be read, not even that
            // it is absent: every JSON check fails, saying why.
            None => out.extend(expect.json.keys().map(|path| {
                CheckOutcome::new(Check::Json(path.clone()), false, "a JSON answer to look in", unreadable(response))
            })),
        }
    }
    for (name, predicate) in &expect.headers {
        let value = response.header(name).map(|v| Value::String(v.to_string()));
        out.push(check_predicate(Check::Header(name.clone()), value.as_ref(), predicate, vars));
    }
    out
}

/// A success where a refusal was expected holds only if the server registered a value of its own
/// at `path`: RFC 7591 §3.2.1 lets it replace a requested value, and "MUST return all registered
/// metadata", so a value kept as sent is in the answer.
/// An answer that cannot be read never shows a substitution: only a registered value that can be
/// read, and differs from the one sent, does.
fn substituted(path: &str, sent: Option<&Value>, response: &Response) -> CheckOutcome {
    let asked = sent.and_then(|body| lookup(body, path));
    let show = |v: Option<&Value>| v.map(Value::to_string).unwrap_or_else(|| "absent".into());
    let name = Check::RefusedOrSubstituted(path.to_string());
    let expected = format!("a refusal, or a registered value other than the {} sent", show(asked));
    let Some(body) = response.json().filter(Value::is_object) else {
        return CheckOutcome::new(name, false, expected, format!("{}: {}", response.status, unreadable(response)));
    };
    let registered = lookup(&body, path);
    let passed = asked.is_some() && registered != asked;
    CheckOutcome::new(name, passed, expected, format!("{} registered {}", response.status, show(registered)))
}

/// Why an answer's body cannot be read as JSON, as a check's "got".
fn unreadable(response: &Response) -> String {
    match (response.truncated, response.body.is_empty()) {
        (true, _) => format!("a body cut at the harness's limit after {} bytes, not JSON as read", response.body.len()),
        (false, true) => "an empty body, not JSON".into(),
        (false, false) => "a body that is not JSON (see the answer)".into(),
    }
}

fn check_status(expect: &Expect, observed: &Observed<'_>, profile: &Profile) -> CheckOutcome {
    if expect.created {
        let alternatives = expect.status.as_ref().map(|s| s.to_vec()).unwrap_or_default();
        return check_created(observed, &alternatives);
    }
    let (allowed, handshake, expected) = match (&expect.reject, &expect.status) {
        (Some(kind), _) => match profile.rejection(kind) {
            Some(r) => (r.status.clone(), r.handshake, describe_rejection(kind, &r.status, r.handshake)),
            None => (vec![], false, format!("a `{kind}` rejection (unknown to the profile)")),
        },
        (None, Some(status)) => {
            let s = status.to_vec();
            (s.clone(), false, statuses(&s))
        }
        (None, None) => ((200..300).collect(), false, "a 2xx answer".to_string()),
    };
    match observed {
        // A rejection the handshake could give is one of the certificate: from a server that
        // never asked for a certificate, it is no judgement of one at all.
        Observed::Answer(r) if handshake && r.certificate_requested == Some(false) => CheckOutcome::new(
            Check::Status,
            false,
            expected,
            format!("{}, from a server that never asked for a client certificate", r.status),
        ),
        Observed::Answer(r) => {
            CheckOutcome::new(Check::Status, allowed.contains(&r.status), expected, r.status.to_string())
        }
        Observed::Failed(TransportError::TlsRefused { cause, .. }) => {
            CheckOutcome::new(Check::Status, handshake, expected, format!("TLS handshake refused ({cause})"))
        }
        Observed::Failed(other) => CheckOutcome::new(Check::Status, false, expected, format!("no answer: {other}")),
    }
}

/// A setup registration: a 201, or another 2xx whose answer names the client it made; or one of
/// `alternatives` (a refusal the scenario allows).
fn check_created(observed: &Observed<'_>, alternatives: &[u16]) -> CheckOutcome {
    let mut expected = "a client created: 201, or a 2xx naming its client_id".to_string();
    if !alternatives.is_empty() {
        expected.push_str(&format!(", or {}", statuses(alternatives)));
    }
    match observed {
        Observed::Answer(r) if alternatives.contains(&r.status) => {
            CheckOutcome::new(Check::Status, true, expected, r.status.to_string())
        }
        Observed::Answer(r) => {
            let names_client = || {
                r.json().is_some_and(|j| j.get("client_id").and_then(Value::as_str).is_some_and(|id| !id.is_empty()))
            };
            let passed = r.status == 201 || ((200..300).contains(&r.status) && names_client());
            CheckOutcome::new(Check::Status, passed, expected, r.status.to_string())
        }
        Observed::Failed(e) => CheckOutcome::new(Check::Status, false, expected, format!("no answer: {e}")),
    }
}

fn statuses(s: &[u16]) -> String {
    s.iter().map(u16::to_string).collect::<Vec<_>>().join(" or ")
}

fn describe_rejection(kind: &str, status: &[u16], handshake: bool) -> String {
    let mut text = format!("{kind} rejection: {}", statuses(status));
    if handshake {
        text.push_str(" or a refused TLS handshake");
    }
    text
}

fn check_predicate(
    name: Check,
    value: Option<&Value>,
    predicate: &Predicate,
    vars: &BTreeMap<String, String>,
) -> CheckOutcome {
    let got = value.map(Value::to_string).unwrap_or_else(|| "absent".into());
    let (passed, expected) = match predicate {
        Predicate::Equals(expected) => match render_value(expected, vars) {
            Ok(expected) => (value == Some(&expected), expected.to_string()),
            Err(e) => (false, e.to_string()),
        },
        Predicate::Test(test) => evaluate(test, value, vars),
    };
    if name.names_a_secret() {
        // The outcome is kept in reports: say whether it held, never what the secret is.
        let shown = |text: &str| if text == "absent" { text.to_string() } else { redacted_tag(text) };
        return CheckOutcome::new(name, passed, shown(&expected), shown(&got));
    }
    CheckOutcome::new(name, passed, expected, got)
}

/// Whether a check (`json $.client_secret`, `header authorization`) is about a secret.
fn evaluate(test: &Test, value: Option<&Value>, vars: &BTreeMap<String, String>) -> (bool, String) {
    let rendered = |v: &Value| render_value(v, vars).unwrap_or_else(|e| Value::String(e.to_string()));
    match test {
        Test::Exists(true) => (value.is_some_and(|v| !v.is_null()), "present".into()),
        Test::Exists(false) => (value.is_none_or(Value::is_null), "absent".into()),
        Test::OneOf(options) => {
            let options: Vec<Value> = options.iter().map(rendered).collect();
            // `null` among the options takes an absent field too.
            let held = match value {
                Some(v) => options.contains(v),
                None => options.contains(&Value::Null),
            };
            (held, format!("one of {}", Value::from(options)))
        }
        Test::Not(other) => {
            let other = rendered(other);
            (value.is_some_and(|v| *v != other), format!("present and not {other}"))
        }
        Test::Contains(text) => {
            let text = render(text, vars).unwrap_or_else(|e| e.to_string());
            let passed = match value {
                Some(Value::String(s)) => s.to_ascii_lowercase().contains(&text.to_ascii_lowercase()),
                Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(text.as_str())),
                _ => false,
            };
            (passed, format!("containing {text:?}"))
        }
        Test::Type(ty) => {
            let passed = value.is_some_and(|v| match ty {
                JsonType::String => v.is_string(),
                JsonType::Number => v.is_number(),
                JsonType::Boolean => v.is_boolean(),
                JsonType::Array => v.is_array(),
                JsonType::Object => v.is_object(),
                JsonType::Null => v.is_null(),
            });
            (passed, format!("a {ty:?}").to_lowercase())
        }
        Test::AtLeast(min) => (value.and_then(Value::as_f64).is_some_and(|v| v >= *min), format!("a number >= {min}")),
        Test::ScopesWithin(allowed) => {
            let allowed = render(allowed, vars).unwrap_or_else(|e| e.to_string());
            let allowed: Vec<&str> = allowed.split(' ').filter(|s| !s.is_empty()).collect();
            let within = match value {
                None | Some(Value::Null) => true,
                Some(Value::String(scope)) => scope.split(' ').filter(|s| !s.is_empty()).all(|s| allowed.contains(&s)),
                Some(_) => false,
            };
            (within, format!("absent, or scope values among \"{}\"", allowed.join(" ")))
        }
        Test::All(tests) => {
            let judged: Vec<(bool, String)> = tests.iter().map(|test| evaluate(test, value, vars)).collect();
            let expected = judged.iter().map(|(_, expected)| expected.as_str()).collect::<Vec<_>>().join(", and ");
            (judged.iter().all(|(held, _)| *held), expected)
        }
        Test::NotPast(wanted) => {
            const CLOCKS_APART_S: f64 = 300.0;
            let now =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
            let not_past = value.and_then(Value::as_f64).is_some_and(|t| t == 0.0 || t >= now - CLOCKS_APART_S);
            (not_past == *wanted, "0 (never) or a time not past".to_string())
        }
    }
}

/// A value by a small JSONPath: `$`, `.name`, `[n]` (`$.redirect_uris[0]`).
pub fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = value;
    let mut rest = path.strip_prefix('$')?;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            current = current.get(&after[..end])?;
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            current = current.get(after[..end].parse::<usize>().ok()?)?;
            rest = &after[end + 1..];
        } else {
            return None;
        }
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_follows_names_and_indexes() {
        let v = json!({"a": {"b": [10, {"c": "x"}]}});
        assert_eq!(lookup(&v, "$.a.b[0]"), Some(&json!(10)));
        assert_eq!(lookup(&v, "$.a.b[1].c"), Some(&json!("x")));
        assert_eq!(lookup(&v, "$"), Some(&v));
        assert_eq!(lookup(&v, "$.a.z"), None);
        assert_eq!(lookup(&v, "a.b"), None);
        assert_eq!(lookup(&v, "$.a.b[9]"), None);
    }

    fn answered_in(ms: u64, server_timing: Option<&str>) -> Result<Response, TransportError> {
        Ok(Response {
            status: 200,
            headers: server_timing.map(|v| ("server-timing".to_string(), v.to_string())).into_iter().collect(),
            body: vec![],
            elapsed: std::time::Duration::from_millis(ms),
            truncated: false,
            certificate_requested: None,
        })
    }

    #[test]
    fn the_response_time_is_the_95th_percentile_of_the_copies() {
        let twenty: Vec<_> = (1..=20).map(|i| answered_in(i * 10, None)).collect();
        // Nearest rank: the 19th of 20 (190 ms), not the slowest (200 ms).
        assert!(response_time(190, &twenty).passed);
        assert!(!response_time(189, &twenty).passed);
        let one = [answered_in(1_200, Some("fetch;dur=1100.5;desc=\"own\", db;dur=3"))];
        let judged = response_time(1_000, &one);
        assert!(!judged.passed);
        assert!(judged.got.contains("up to 1100.5 ms (Server-Timing)"), "{}", judged.got);
        assert_eq!(fetch_ms("db;dur=3, fetch;dur=12"), Some(12.0));
        assert_eq!(fetch_ms("fetch;desc=x"), None);
        assert_eq!(fetch_ms("fetch;dur=-1"), None);
    }

    #[test]
    fn a_handshake_is_taken_only_with_the_version_and_a_suite_offered() {
        use crate::scenario::HandshakeExpect::{Accepted, Refused};
        use crate::tls_probe::{Handshake, Offer, TlsVersion};
        let offer = Offer { version: TlsVersion::V1_2, cipher_suites: vec![0xC02F] };
        let taken = Handshake::Accepted { version: 0x0303, cipher_suite: 0xC02F };
        let other_suite = Handshake::Accepted { version: 0x0303, cipher_suite: 0xC030 };
        let other_version = Handshake::Accepted { version: 0x0304, cipher_suite: 0xC02F };
        let refused = Handshake::Refused { alert: Some(70) };
        let cases = [
            (Accepted, &taken, true),
            (Accepted, &other_suite, false),
            (Accepted, &other_version, false),
            (Accepted, &refused, false),
            (Refused, &refused, true),
            (Refused, &taken, false),
            (Refused, &other_suite, true),
        ];
        for (expected, got, passed) in cases {
            assert_eq!(check_handshake(expected, &offer, got).passed, passed, "{expected:?} {got}");
        }
    }

    #[test]
    fn predicates_can_fail() {
        let vars = BTreeMap::from([("x".to_string(), "abc".to_string())]);
        let v = json!("abc");
        assert!(evaluate(&Test::Exists(true), Some(&v), &vars).0);
        assert!(!evaluate(&Test::Exists(true), None, &vars).0);
        assert!(!evaluate(&Test::Not(json!("{{x}}")), Some(&v), &vars).0);
        assert!(evaluate(&Test::OneOf(vec![json!("{{x}}"), json!(1)]), Some(&v), &vars).0);
        assert!(!evaluate(&Test::OneOf(vec![json!("{{x}}"), json!(1)]), None, &vars).0);
        assert!(evaluate(&Test::OneOf(vec![json!(null), json!(["code"])]), None, &vars).0, "null takes absent");
        assert!(!evaluate(&Test::OneOf(vec![json!(null), json!(["code"])]), Some(&json!(["token"])), &vars).0);
        let within = Test::ScopesWithin("accounts payments".into());
        assert!(evaluate(&within, Some(&json!("payments accounts")), &vars).0);
        assert!(evaluate(&within, Some(&json!("accounts")), &vars).0, "a narrower scope");
        assert!(evaluate(&within, None, &vars).0, "no scope registered");
        assert!(!evaluate(&within, Some(&json!("accounts admin")), &vars).0);
        assert!(!evaluate(&within, Some(&json!(["accounts"])), &vars).0, "a scope is a string");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        assert!(evaluate(&Test::NotPast(true), Some(&json!(0)), &vars).0, "0: never expires");
        assert!(evaluate(&Test::NotPast(true), Some(&json!(now + 3600)), &vars).0);
        assert!(!evaluate(&Test::NotPast(true), Some(&json!(now - 3600)), &vars).0);
        assert!(!evaluate(&Test::NotPast(true), None, &vars).0);
        assert!(!evaluate(&Test::Type(JsonType::Number), Some(&v), &vars).0);
        assert!(!evaluate(&Test::AtLeast(1.0), Some(&json!(0)), &vars).0);
        let both = Test::All(vec![Test::ScopesWithin("a b".into()), Test::Contains("a".into())]);
        assert!(evaluate(&both, Some(&json!("a b")), &vars).0);
        assert!(!evaluate(&both, Some(&json!("b")), &vars).0, "the second fails");
        assert!(!evaluate(&both, Some(&json!("a c")), &vars).0, "the first fails");
        assert!(
            !check_predicate(Check::Json("x".into()), Some(&json!("b")), &Predicate::Equals(json!("{{x}}")), &vars)
                .passed
        );
    }

    #[test]
    fn a_success_passes_for_a_refusal_only_with_a_value_of_the_servers() {
        let answer = |status: u16, body: Value| Response {
            status,
            headers: vec![],
            body: body.to_string().into_bytes(),
            elapsed: std::time::Duration::ZERO,
            truncated: false,
            certificate_requested: None,
        };
        let sent = json!({ "redirect_uris": ["https://x/cb#f"], "client_name": 42 });
        let cases = [
            ("$.redirect_uris", json!({ "redirect_uris": ["https://x/cb"] }), true),
            ("$.client_name", json!({ "client_name": "42" }), true),
            ("$.client_name", json!({}), true),
            ("$.redirect_uris", json!({ "redirect_uris": ["https://x/cb#f"] }), false),
            ("$.client_name", json!({ "client_name": 42 }), false),
            ("$.grant_types", json!({ "grant_types": ["x"] }), false),
        ];
        for (path, registered, passes) in cases {
            let outcome = substituted(path, Some(&sent), &answer(201, registered.clone()));
            assert_eq!(outcome.passed, passes, "{path} {registered}");
        }
        assert!(!substituted("$.client_name", None, &answer(201, json!({}))).passed, "nothing sent, nothing judged");
        // An answer that cannot be read shows no substitution, whatever it holds.
        let raw = |body: &[u8], truncated: bool| Response { body: body.to_vec(), truncated, ..answer(201, json!({})) };
        let sent_back = br#"{"redirect_uris":["https://x/cb#f"],"client_id":"c1""#;
        for (body, truncated) in [(&sent_back[..], true), (&sent_back[..], false), (b"", false), (b"[1,2]", false)] {
            let outcome = substituted("$.redirect_uris", Some(&sent), &raw(body, truncated));
            assert!(!outcome.passed, "{}: {outcome:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn a_setup_registration_takes_any_2xx_that_names_its_client() {
        let answer = |status: u16, body: &str| Response {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
            elapsed: std::time::Duration::ZERO,
            truncated: false,
            certificate_requested: None,
        };
        let cases = [
            (201, "", true),
            (200, r#"{"client_id":"c1"}"#, true),
            (200, r#"{"client_id":""}"#, false),
            (200, "not json", false),
            (204, "", false),
            (400, r#"{"client_id":"c1"}"#, false),
        ];
        for (status, body, passes) in cases {
            let response = answer(status, body);
            assert_eq!(check_created(&Observed::Answer(&response), &[]).passed, passes, "{status} {body}");
        }
        let refused = answer(409, "");
        assert!(check_created(&Observed::Answer(&refused), &[400, 409]).passed, "an allowed refusal");
        assert!(!check_created(&Observed::Answer(&refused), &[400]).passed);
    }

    #[test]
    fn no_json_check_holds_on_an_answer_that_cannot_be_read() {
        let expect: Expect = serde_norway::from_str(
            "status: 201\njson:\n  $.client_id: { exists: true }\n  $.software_statement: { exists: false }\n",
        )
        .expect("expect");
        let response = Response {
            status: 201,
            headers: vec![],
            body: br#"{"client_id":"c1","client_secret":"cut-he"#.to_vec(),
            elapsed: std::time::Duration::ZERO,
            truncated: true,
            certificate_requested: None,
        };
        let profile: Profile = serde_norway::from_str("name: p\n").expect("profile");
        let outcomes = check(&expect, &Observed::Answer(&response), None, &profile, &BTreeMap::new());
        let json: Vec<&CheckOutcome> = outcomes.iter().filter(|c| matches!(c.check, Check::Json(_))).collect();
        assert_eq!(json.len(), 2);
        for outcome in json {
            assert!(!outcome.passed && outcome.got.contains("cut at the harness's limit"), "{outcome:?}");
        }
    }

    #[test]
    fn checks_about_secrets_are_known() {
        let json = |path: &str| Check::Json(path.into());
        let header = |name: &str| Check::Header(name.into());
        let cases = [
            (json("$.client_secret"), true),
            (json("$.nested.registration_access_token"), true),
            (json("$.client_id"), false),
            (json("$.client_secret_expires_at"), false),
            (header("Authorization"), true),
            (header("X-IBM-Client-Secret"), true),
            (header("content-type"), false),
            (Check::Status, false),
            (Check::Capture("client_secret".into()), false),
        ];
        for (check, secret) in cases {
            assert_eq!(check.names_a_secret(), secret, "{check}");
        }
    }
}
