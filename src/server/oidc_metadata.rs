//! The OpenID Connect and JARM client metadata the reference server judges beyond RFC 7591:
//! how its answers to a client are signed and encrypted (ID Tokens, userinfo, JARM authorization
//! responses) and how the client's request objects are signed, each among the algorithms the
//! server's metadata document lists (one table serves both); an `_enc` only with its `_alg`, and
//! an `_alg` alone given the default `_enc` (OpenID Connect Registration 1.0 §2, JARM §3); and
//! `application_type` with the redirect URIs each kind allows. Pure: it must not know the
//! server's state or modes.

use serde_json::{Map, Value};

use super::flaw::Flaw;

/// What is wrong with a field: its RFC 7591 §3.2.2 code and text (the metadata rules turn it
/// into their own error, so that this module stays below them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: &'static str,
    pub description: String,
    pub field: &'static str,
}

/// What `_enc` is where a client names only the `_alg` (OIDC Registration §2, JARM §3: "the
/// default for this value is A128CBC-HS256").
pub const DEFAULT_ENC: &str = "A128CBC-HS256";

/// JWS algorithms the server signs with, and accepts request objects in.
const SIGNING: &[&str] = &["PS256", "ES256", "RS256"];
/// JWE key-management algorithms the server encrypts with.
const KEY_MANAGEMENT: &[&str] = &["RSA-OAEP", "RSA-OAEP-256", "ECDH-ES"];
/// JWE content-encryption algorithms the server encrypts with.
const CONTENT: &[&str] = &["A128CBC-HS256", "A256GCM"];

/// A signing field, the metadata document's name for what it supports, and whether `none` is
/// forbidden whatever the server supports (JARM §3: "The algorithm none is not allowed").
struct Signing {
    field: &'static str,
    supported: &'static str,
}

const SIGNING_FIELDS: &[Signing] = &[
    Signing { field: "id_token_signed_response_alg", supported: "id_token_signing_alg_values_supported" },
    Signing { field: "userinfo_signed_response_alg", supported: "userinfo_signing_alg_values_supported" },
    Signing { field: "authorization_signed_response_alg", supported: "authorization_signing_alg_values_supported" },
    Signing { field: "request_object_signing_alg", supported: "request_object_signing_alg_values_supported" },
];

/// An encryption pair: the `_alg` and `_enc` fields and the metadata document's names.
struct Encryption {
    alg: &'static str,
    enc: &'static str,
    supported_alg: &'static str,
    supported_enc: &'static str,
}

const ENCRYPTION_FIELDS: &[Encryption] = &[
    Encryption {
        alg: "id_token_encrypted_response_alg",
        enc: "id_token_encrypted_response_enc",
        supported_alg: "id_token_encryption_alg_values_supported",
        supported_enc: "id_token_encryption_enc_values_supported",
    },
    Encryption {
        alg: "userinfo_encrypted_response_alg",
        enc: "userinfo_encrypted_response_enc",
        supported_alg: "userinfo_encryption_alg_values_supported",
        supported_enc: "userinfo_encryption_enc_values_supported",
    },
    Encryption {
        alg: "authorization_encrypted_response_alg",
        enc: "authorization_encrypted_response_enc",
        supported_alg: "authorization_encryption_alg_values_supported",
        supported_enc: "authorization_encryption_enc_values_supported",
    },
];

/// The kinds of application (OIDC Registration §2: "The defined values are native or web").
const APPLICATION_TYPES: &[&str] = &["web", "native"];

/// Every field this module judges, for the metadata rules' list of known fields.
pub fn fields() -> impl Iterator<Item = &'static str> {
    SIGNING_FIELDS
        .iter()
        .map(|s| s.field)
        .chain(ENCRYPTION_FIELDS.iter().flat_map(|e| [e.alg, e.enc]))
        .chain(["application_type"])
}

/// What the server's metadata document says it supports, from the same tables the checks read.
pub fn discovery() -> Map<String, Value> {
    let mut doc = Map::new();
    for signing in SIGNING_FIELDS {
        doc.insert(signing.supported.into(), Value::from(SIGNING));
    }
    for pair in ENCRYPTION_FIELDS {
        doc.insert(pair.supported_alg.into(), Value::from(KEY_MANAGEMENT));
        doc.insert(pair.supported_enc.into(), Value::from(CONTENT));
    }
    doc
}

fn invalid(field: &'static str, description: String) -> Fault {
    Fault { code: "invalid_client_metadata", description, field }
}

/// Judges the fields against the supported algorithms and each other; the field at fault is
/// named, so that a substituting server can drop it.
pub fn check(metadata: &Map<String, Value>, flaws: &impl Fn(Flaw) -> bool) -> Result<(), Fault> {
    let text = |field: &str| metadata.get(field).map(|v| v.as_str().ok_or(v));
    for signing in SIGNING_FIELDS {
        match text(signing.field) {
            None => {}
            Some(Err(_)) => return Err(invalid(signing.field, format!("`{}` must be a string", signing.field))),
            Some(Ok(alg)) if !SIGNING.contains(&alg) && !flaws(Flaw::AcceptUnsupportedResponseAlg) => {
                return Err(invalid(signing.field, format!("`{}` {alg} is not one of {SIGNING:?}", signing.field)))
            }
            Some(Ok(_)) => {}
        }
    }
    for pair in ENCRYPTION_FIELDS {
        let (alg, enc) = (text(pair.alg), text(pair.enc));
        for (field, value, supported) in [(pair.alg, &alg, KEY_MANAGEMENT), (pair.enc, &enc, CONTENT)] {
            match value {
                None => {}
                Some(Err(_)) => return Err(invalid(field, format!("`{field}` must be a string"))),
                Some(Ok(v)) if !supported.contains(v) && !flaws(Flaw::AcceptUnsupportedResponseAlg) => {
                    return Err(invalid(field, format!("`{field}` {v} is not one of {supported:?}")))
                }
                Some(Ok(_)) => {}
            }
        }
        if enc.is_some() && alg.is_none() && !flaws(Flaw::AcceptEncWithoutAlg) {
            return Err(invalid(pair.enc, format!("`{}` is given without `{}`", pair.enc, pair.alg)));
        }
    }
    check_application_type(metadata, flaws)
}

/// OIDC Registration §2: `application_type` is web (the default) or native, and "Web Clients
/// using the OAuth Implicit Grant Type MUST only register URLs using the https scheme as
/// redirect_uris; they MUST NOT use localhost as the hostname".
fn check_application_type(metadata: &Map<String, Value>, flaws: &impl Fn(Flaw) -> bool) -> Result<(), Fault> {
    if flaws(Flaw::SkipApplicationType) {
        return Ok(());
    }
    let kind = match metadata.get("application_type") {
        None => "web",
        Some(Value::String(kind)) if APPLICATION_TYPES.contains(&kind.as_str()) => kind.as_str(),
        Some(other) => {
            return Err(invalid("application_type", format!("application_type {other} is not one of web, native")))
        }
    };
    let implicit = metadata
        .get("grant_types")
        .and_then(Value::as_array)
        .is_some_and(|grants| grants.iter().any(|g| g.as_str() == Some("implicit")));
    if kind != "web" || !implicit {
        return Ok(());
    }
    let uris = metadata.get("redirect_uris").and_then(Value::as_array).into_iter().flatten();
    let on_localhost = |uri: &str| {
        reqwest::Url::parse(uri).ok().and_then(|url| url.host_str().map(str::to_ascii_lowercase)).is_some_and(|host| {
            host == "localhost" || host.ends_with(".localhost") || host == "127.0.0.1" || host == "[::1]"
        })
    };
    match uris.filter_map(Value::as_str).find(|uri| on_localhost(uri)) {
        Some(uri) => Err(Fault {
            code: "invalid_redirect_uri",
            description: format!("a web client using the implicit grant must not use localhost (`{uri}`)"),
            field: "redirect_uris",
        }),
        None => Ok(()),
    }
}

/// Gives every `_alg` named without its `_enc` the default `_enc`, as the texts say the client
/// gets it (a server may also leave it implicit: the `encryption-default-implicit` variant).
pub fn fill_default_enc(metadata: &mut Map<String, Value>, flaws: &impl Fn(Flaw) -> bool) {
    let default = if flaws(Flaw::WrongDefaultEnc) { "A256GCM" } else { DEFAULT_ENC };
    for pair in ENCRYPTION_FIELDS {
        if metadata.contains_key(pair.alg) && !metadata.contains_key(pair.enc) {
            metadata.insert(pair.enc.into(), Value::from(default));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn judged(metadata: Value, flaws: &impl Fn(Flaw) -> bool) -> Result<(), (&'static str, &'static str)> {
        let Value::Object(metadata) = metadata else { unreachable!("tests give objects") };
        check(&metadata, flaws).map_err(|e| (e.code, e.field))
    }

    #[test]
    fn each_rule_refuses_and_its_flaw_lets_through() {
        let bad = "invalid_client_metadata";
        type Case = (Value, Result<(), (&'static str, &'static str)>, Flaw);
        let cases: &[Case] = &[
            (
                json!({"authorization_signed_response_alg": "none"}),
                Err((bad, "authorization_signed_response_alg")),
                Flaw::AcceptUnsupportedResponseAlg,
            ),
            (
                json!({"id_token_signed_response_alg": "XS512"}),
                Err((bad, "id_token_signed_response_alg")),
                Flaw::AcceptUnsupportedResponseAlg,
            ),
            (
                json!({"id_token_encrypted_response_alg": "A128KW-NONE"}),
                Err((bad, "id_token_encrypted_response_alg")),
                Flaw::AcceptUnsupportedResponseAlg,
            ),
            (
                json!({"authorization_encrypted_response_enc": "A128CBC-HS256"}),
                Err((bad, "authorization_encrypted_response_enc")),
                Flaw::AcceptEncWithoutAlg,
            ),
            (json!({"application_type": "desktop"}), Err((bad, "application_type")), Flaw::SkipApplicationType),
            (
                json!({"grant_types": ["implicit"], "redirect_uris": ["https://localhost/cb"]}),
                Err(("invalid_redirect_uri", "redirect_uris")),
                Flaw::SkipApplicationType,
            ),
        ];
        for (metadata, refused, flaw) in cases {
            assert_eq!(judged(metadata.clone(), &|_| false), *refused, "{metadata}");
            assert_eq!(judged(metadata.clone(), &|f| f == *flaw), Ok(()), "{metadata} with {flaw:?}");
        }
        let fine = [
            json!({"id_token_signed_response_alg": "PS256", "request_object_signing_alg": "ES256"}),
            json!({"id_token_encrypted_response_alg": "RSA-OAEP"}),
            json!({"application_type": "native", "grant_types": ["implicit"], "redirect_uris": ["http://localhost/cb"]}),
            json!({"grant_types": ["authorization_code"], "redirect_uris": ["https://localhost/cb"]}),
        ];
        for metadata in fine {
            assert_eq!(judged(metadata.clone(), &|_| false), Ok(()), "{metadata}");
        }
    }

    #[test]
    fn an_alg_alone_gets_the_default_enc_and_a_given_enc_is_kept() {
        let Value::Object(mut m) = json!({
            "id_token_encrypted_response_alg": "RSA-OAEP",
            "authorization_encrypted_response_alg": "RSA-OAEP",
            "authorization_encrypted_response_enc": "A256GCM",
        }) else {
            unreachable!()
        };
        fill_default_enc(&mut m, &|_| false);
        assert_eq!(m["id_token_encrypted_response_enc"], DEFAULT_ENC);
        assert_eq!(m["authorization_encrypted_response_enc"], "A256GCM");
        assert!(!m.contains_key("userinfo_encrypted_response_enc"));
    }

    #[test]
    fn the_metadata_document_lists_what_the_checks_take() {
        let doc = discovery();
        assert_eq!(doc["authorization_signing_alg_values_supported"], json!(SIGNING));
        assert_eq!(doc["id_token_encryption_enc_values_supported"], json!(CONTENT));
        assert!(fields().any(|f| f == "application_type"));
    }
}
