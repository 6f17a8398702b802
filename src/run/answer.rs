//! What an answer says about a client: the registration it made (read from its JSON, or from
//! the raw text of one that does not parse), and the new registration access token, URI or
//! secret a read, update or refresh answered with (RFC 7592 §2.1, §2.2). Pure: it holds no
//! session and sends nothing.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use super::plan::Client;
use crate::scenario::Operation;
use crate::transport::Response;

/// An answer as the session learns from it.
pub struct Answer<'a> {
    pub status: u16,
    pub body: &'a [u8],
    /// The body was cut at the transport's limit.
    pub truncated: bool,
}

impl<'a> From<&'a Response> for Answer<'a> {
    fn from(r: &'a Response) -> Self {
        Answer { status: r.status, body: &r.body, truncated: r.truncated }
    }
}

/// What following an answer's rotation changed of a client.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Rotation {
    /// The token or the URI the client is managed with.
    pub relocated: bool,
    /// The client secret (the old one kept as the previous).
    pub secret: bool,
}

/// RFC 7592 §2.1, §2.2: a read or update answer may carry a new registration access token or
/// client secret (and the refresh always does); the client MUST discard the old ones. An
/// answer about another client teaches nothing.
pub(super) fn follow_rotation(client: &mut Client, json: &Value) -> Rotation {
    let field = |name: &str| text_field(json, name);
    let mut rotation = Rotation::default();
    if field("client_id").is_some_and(|id| id != client.id) {
        return rotation;
    }
    if let Some(rat) = field("registration_access_token").filter(|rat| *rat != client.rat) {
        client.rat = rat.to_string();
        rotation.relocated = true;
    }
    if let Some(uri) = field("registration_client_uri").filter(|uri| *uri != client.uri) {
        client.uri = uri.to_string();
        rotation.relocated = true;
    }
    if let Some(secret) = field("client_secret").filter(|s| *s != client.secret) {
        client.previous_secret = std::mem::replace(&mut client.secret, secret.to_string());
        rotation.secret = true;
    }
    rotation
}

/// A non-empty string field of a JSON answer.
pub fn text_field<'a>(json: &'a Value, name: &str) -> Option<&'a str> {
    json.get(name).and_then(Value::as_str).filter(|v| !v.is_empty())
}

/// What a registration answer says the server created.
pub(super) enum Registration {
    /// A client with an id, read from the answer (from its raw text where it does not parse,
    /// in which case `unreadable` says so).
    Client(Client),
    /// A 201 whose answer names no client id that could be read: why.
    Unidentified(String),
}

/// Whether an answer says it created a client: a 201, or any 2xx to a registration (some
/// servers answer 200).
pub(super) fn claims_creation(op: Operation, status: u16) -> bool {
    status == 201 || (op == Operation::Register && (200..300).contains(&status))
}

/// What an answer that claims a creation created: the
/// client it describes, or, where the answer cannot be read as JSON (cut at the body limit, a
/// stray byte) or names no `client_id`, whatever its raw text gives up by field name. A server
/// that says it created something is taken at its word.
pub(super) fn registration_in(answer: &Answer<'_>, json: Option<&Value>) -> Registration {
    if let Some(client) = json.and_then(client_from) {
        return Registration::Client(client);
    }
    let status = answer.status;
    let why = match (json, answer.truncated) {
        (_, true) => format!("a {status} whose body was cut at the harness's body limit"),
        (None, false) => format!("a {status} whose body is not JSON"),
        (Some(_), false) => format!("a {status} whose JSON names no client_id"),
    };
    match client_from_raw(&String::from_utf8_lossy(answer.body)) {
        Some(client) => Registration::Client(Client { unreadable: why, ..client }),
        None => Registration::Unidentified(why),
    }
}

/// The client a registration answer describes, read without building the whole JSON: a load's
/// registrations come thousands a second, and their answers teach nothing else. `None` where
/// the answer is not a plain object of those fields as text (then [`registration_in`] reads it).
pub(super) fn registration_at_once(body: &[u8]) -> Option<Client> {
    #[derive(serde::Deserialize)]
    struct Fields<'a> {
        #[serde(borrow)]
        client_id: Option<Cow<'a, str>>,
        #[serde(borrow)]
        client_secret: Option<Cow<'a, str>>,
        #[serde(borrow)]
        registration_access_token: Option<Cow<'a, str>>,
        #[serde(borrow)]
        registration_client_uri: Option<Cow<'a, str>>,
        #[serde(borrow)]
        token_endpoint_auth_method: Option<Cow<'a, str>>,
    }
    let fields: Fields<'_> = serde_json::from_slice(crate::transport::without_bom(body)).ok()?;
    client_of(|name| match name {
        "client_id" => fields.client_id.as_deref(),
        "client_secret" => fields.client_secret.as_deref(),
        "registration_access_token" => fields.registration_access_token.as_deref(),
        "registration_client_uri" => fields.registration_client_uri.as_deref(),
        "token_endpoint_auth_method" => fields.token_endpoint_auth_method.as_deref(),
        _ => None,
    })
}

/// The client named by the fields of text that does not parse as JSON.
fn client_from_raw(text: &str) -> Option<Client> {
    let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
    for field in crate::run::model::redact::raw_fields(text) {
        fields.entry(field.name).or_insert(&text[field.value]);
    }
    client_of(|name| fields.get(name).copied())
}

/// The client a registration answer describes, if it names one.
fn client_from(json: &Value) -> Option<Client> {
    client_of(|name| text_field(json, name))
}

/// The client whose registration fields `field` gives by name, if it names an id: however an
/// answer was read, one rule for what it says.
fn client_of<'a>(field: impl Fn(&str) -> Option<&'a str>) -> Option<Client> {
    let text = |name: &str| field(name).unwrap_or_default().to_string();
    Some(Client {
        id: field("client_id").filter(|id| !id.is_empty())?.to_string(),
        secret: text("client_secret"),
        rat: text("registration_access_token"),
        uri: text("registration_client_uri"),
        auth_method: text("token_endpoint_auth_method"),
        ..Client::default()
    })
}

/// Fields a server may replace on any read or update (RFC 7592 §2.1, §2.2), which therefore
/// say nothing about whether a client changed.
const ROTATED_ON_USE: &[&str] = &["registration_access_token"];

/// A read's body as `unchanged` compares it: redacted, and without the fields a read may rotate.
pub(super) fn comparable(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut map)) => {
            for field in ROTATED_ON_USE {
                map.remove(*field);
            }
            let mut json = Value::Object(map);
            super::model::redact::json_in_place(&mut json);
            json.to_string()
        }
        _ => super::model::redact::body(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_read_at_once_is_the_client_the_whole_json_gives_or_none() {
        let full = r#"{"client_id":"c1","client_secret":"s","registration_access_token":"t","registration_client_uri":"https://as/c1","token_endpoint_auth_method":"tls_client_auth","redirect_uris":["https://x"],"n":{"deep":[1]}}"#;
        let cases: [(&[u8], bool); 9] = [
            (full.as_bytes(), true),
            (format!("\u{feff}{full}").as_bytes().to_vec().leak(), true),
            (br#"{"client_id":"c\/2","client_secret":null}"#, true),
            (br#"{"client_id":"c3"}"#, true),
            // Left to the whole JSON, which reads them by its own rules.
            (br#"{"client_id":""}"#, false),
            (br#"{"client_id":7,"client_secret":"s"}"#, false),
            (br#"{"client_id":"c4","client_secret":12}"#, false),
            (br#"{"client_id":"c5","client_id":"c6"}"#, false),
            (b"[1, 2]", false),
        ];
        for (body, read_at_once) in cases {
            let text = String::from_utf8_lossy(body);
            let at_once = registration_at_once(body);
            assert_eq!(at_once.is_some(), read_at_once, "{text}");
            if let Some(client) = at_once {
                let whole = crate::transport::parse_json(body).and_then(|json| client_from(&json));
                assert_eq!(Some(client), whole, "{text}");
            }
        }
    }
}
