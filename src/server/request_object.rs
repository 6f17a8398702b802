//! Signed registration requests as the reference server's `obuk` mode judges them (Open
//! Banking UK DCR v3.x): the body is a JWS (`application/jose`, or `application/jwt` as some
//! banks spell it) whose claims are the client metadata; it carries the TPP's software
//! statement, which the directory signed (judged by [`super::statement`]); it is signed by a key
//! the statement publishes (in its `jwks`, or at its `software_jwks_endpoint`, read before and
//! handed in), with that key's algorithm (PS256 or ES256; never `none`, never RS256); its `iss`
//! is the statement's `software_id`, its `aud` this server's issuer, and it is within
//! `iat`..`exp`. Each rule has a flaw that turns it off. It holds no private key and fetches
//! nothing.

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::statement::{self, Admitted, Directory};
use super::{Flaw, Refusal};
use crate::pki::jws::{self, alg_name, published_keys};

/// The media types a request object may be sent as.
pub const MEDIA_TYPES: &[&str] = &["application/jose", "application/jwt"];

/// JWT claims about the request object itself, which are no client metadata.
const TOKEN_CLAIMS: &[&str] = &["iss", "aud", "exp", "nbf", "iat", "jti"];

fn refuse(code: &'static str, text: impl Into<String>) -> Refusal {
    Refusal::bad_request(code, text)
}

const INVALID: &str = "invalid_client_metadata";

/// Whether a Content-Type header names a request object.
pub fn is_request_object(content_type: Option<&str>) -> bool {
    let essence = content_type.and_then(|v| v.split(';').next()).map(str::trim).unwrap_or_default();
    MEDIA_TYPES.iter().any(|t| essence.eq_ignore_ascii_case(t))
}

/// Where a request object's keys may come from besides its statement's `jwks`: the keys the
/// client registered (an update that carries no statement), and the key sets read from the URLs
/// statements name (`software_jwks_endpoint`), by URL.
pub struct OtherKeys<'a> {
    pub registered: Option<&'a Value>,
    pub read_at: &'a dyn Fn(&str) -> Option<Value>,
}

/// The claim by which an Open Banking UK statement names where its software's keys are.
pub const JWKS_ENDPOINT: &str = "software_jwks_endpoint";

/// Opens a request object: the metadata it carries, and the statement it was admitted with.
/// It is verified with the key its statement publishes (in `jwks`, or at its
/// `software_jwks_endpoint`), else (an update that carries none, which only a flaw lets
/// through) with the keys the client registered.
pub fn open(
    directory: Option<&Directory>,
    body: &[u8],
    issuer: &str,
    keys: &OtherKeys<'_>,
    flaw: &dyn Fn(Flaw) -> bool,
) -> Result<(Map<String, Value>, Option<Admitted>), Refusal> {
    let text = std::str::from_utf8(body).map_err(|_| refuse(INVALID, "the request object is not text"))?;
    let parts = jws::parts(text.trim())
        .ok_or_else(|| refuse(INVALID, "the body is not a compact JWS (header.payload.signature)"))?;
    let admitted = statement::admit(directory, &parts.claims, flaw)?;
    if !flaw(Flaw::SkipRequestObjectSignature) {
        verify_signature(&parts, admitted.as_ref(), keys, flaw)?;
    }
    let software_id = admitted.as_ref().and_then(|a| a.claim("software_id")).and_then(Value::as_str);
    let iss = parts.claims.get("iss").and_then(Value::as_str);
    if !flaw(Flaw::SkipRequestObjectIssuer) && software_id.is_some() && iss != software_id {
        return Err(refuse(INVALID, "iss is not the software_id of the statement"));
    }
    if !flaw(Flaw::SkipRequestObjectAudience) && !audience_names(&parts.claims, issuer) {
        return Err(refuse(INVALID, format!("aud does not name this server ({issuer})")));
    }
    if !flaw(Flaw::AcceptExpiredRequestObject) {
        statement::within_validity(&parts.claims)
            .map_err(|r| refuse(INVALID, format!("request object: {}", r.text)))?;
    }
    let mut metadata = parts.claims;
    metadata.retain(|name, _| !TOKEN_CLAIMS.contains(&name.as_str()));
    Ok((metadata, admitted))
}

/// The signature verifies with the key of the statement's JWKS that the header's `kid` names,
/// under that key's algorithm (RS256 only with the flaw).
fn verify_signature(
    parts: &jws::Parts<'_>,
    admitted: Option<&Admitted>,
    other: &OtherKeys<'_>,
    flaw: &dyn Fn(Flaw) -> bool,
) -> Result<(), Refusal> {
    let endpoint = admitted.and_then(|a| a.claim(JWKS_ENDPOINT)).and_then(Value::as_str);
    let jwks = match (admitted.and_then(|a| a.claim("jwks")), endpoint) {
        (Some(jwks), _) => jwks.clone(),
        (None, Some(endpoint)) => match (other.read_at)(endpoint) {
            Some(jwks) => jwks,
            None if flaw(Flaw::AcceptUnverifiableRequestObject) => return Ok(()),
            None => {
                return Err(refuse(
                    INVALID,
                    format!("the keys at the statement's {JWKS_ENDPOINT} {endpoint} could not be read"),
                ))
            }
        },
        (None, None) => other.registered.cloned().unwrap_or(Value::Null),
    };
    let keys = published_keys(&jwks);
    let kid = parts.kid();
    let Some((key, required)) = keys.get(kid) else {
        if endpoint.is_some() && flaw(Flaw::AcceptUnverifiableRequestObject) {
            return Ok(());
        }
        return Err(refuse(INVALID, format!("the statement publishes no key `{kid}` to sign with")));
    };
    let rs256_allowed = flaw(Flaw::AcceptAnyRequestObjectAlg) && *required == Algorithm::PS256;
    let verified = parts.verifies_with(key, *required) || (rs256_allowed && parts.verifies_with(key, Algorithm::RS256));
    match verified {
        true => Ok(()),
        false if parts.alg() != alg_name(*required) => {
            Err(refuse(INVALID, format!("alg `{}` where this key signs {}", parts.alg(), alg_name(*required))))
        }
        false => Err(refuse(INVALID, "the request object's signature does not verify with the statement's key")),
    }
}

/// `aud` is the issuer, or an array holding it (RFC 7519 §4.1.3).
fn audience_names(claims: &Map<String, Value>, issuer: &str) -> bool {
    match claims.get("aud") {
        Some(Value::String(aud)) => aud == issuer,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(issuer)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_media_types_name_a_request_object_and_json_does_not() {
        let cases = [
            (Some("application/jose"), true),
            (Some("application/JWT; charset=utf-8"), true),
            (Some("application/json"), false),
            (None, false),
        ];
        for (content_type, expected) in cases {
            assert_eq!(is_request_object(content_type), expected, "{content_type:?}");
        }
    }

    #[test]
    fn the_audience_is_the_issuer_or_holds_it() {
        let claims = |aud: Value| -> Map<String, Value> { [("aud".to_string(), aud)].into_iter().collect() };
        let issuer = "https://127.0.0.1:1";
        assert!(audience_names(&claims(Value::from(issuer)), issuer));
        assert!(audience_names(&claims(serde_json::json!(["x", issuer])), issuer));
        assert!(!audience_names(&claims(Value::from("https://another-bank.example")), issuer));
        assert!(!audience_names(&Map::new(), issuer));
    }
}
