//! JWTs a client signs in a request body. Signed registration requests ("request objects"):
//! the client metadata as the claims of a JWT
//! signed by the TPP's signing key, with `iss`, `aud`, `iat`, `exp` and `jti`, sent as
//! `application/jose` (Open Banking UK DCR v3.x, FAPI ecosystems built on it); and the request-
//! object mutations of the catalog, each breaking exactly one of its properties. The key id is
//! the identity's name, which is how the test directory's statements publish the TPP's key. And
//! `private_key_jwt` client assertions (RFC 7523) with the client-assertion mutations. It signs;
//! it does not send, and does not judge a JWT.

use std::time::{Duration, SystemTime};

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::{unix_seconds, Mutation, SignError};
use crate::pki::{jws, Identity};

/// What a request object says besides the metadata.
#[derive(Debug, Clone)]
pub struct RequestObjectClaims<'a> {
    /// `iss`: the TPP's software id (Open Banking UK), or what the profile says.
    pub issuer: &'a str,
    /// `aud`: the server's issuer.
    pub audience: &'a str,
    /// From `iat` to `exp`.
    pub lifetime: Duration,
}

/// The `software_id` of the software statement `metadata` carries, read without verifying it
/// (the server verifies; the client only names itself as the statement does).
pub fn statement_software_id(metadata: &Map<String, Value>) -> Option<String> {
    let statement = metadata.get("software_statement")?.as_str()?;
    jws::parts(statement)?.claims.get("software_id")?.as_str().map(str::to_string)
}

/// Who signs a client's JWTs, and when: its identity (PS256 for RSA, ES256 for P-256; `kid` its
/// name), and another TPP's, for the mutations that sign with another key.
#[derive(Clone, Copy)]
pub struct JwtSigner<'a> {
    pub identity: &'a Identity,
    pub other: Option<&'a Identity>,
    pub now: SystemTime,
}

/// `metadata` as a compact JWS signed by `signer`, with `mutation` (a request-object one)
/// breaking one thing.
pub fn sign_request_object(
    metadata: &Map<String, Value>,
    claims: &RequestObjectClaims<'_>,
    signer: JwtSigner<'_>,
    mutation: Option<Mutation>,
) -> Result<String, SignError> {
    use Mutation::*;
    let now = unix_seconds(signer.now);
    let hour = 3600;
    let (iat, exp) = match mutation {
        Some(RequestObjectExpired) => (now - 2 * hour, now - hour),
        _ => (now, now + claims.lifetime.as_secs() as i64),
    };
    let mut body = metadata.clone();
    if mutation == Some(RequestObjectWithoutStatement) {
        body.remove("software_statement");
    }
    let issuer = match mutation {
        Some(RequestObjectWrongIssuer) => "not-this-software",
        _ => claims.issuer,
    };
    let audience = match mutation {
        Some(RequestObjectWrongAudience) => "https://another-bank.example",
        _ => claims.audience,
    };
    for (name, value) in [
        ("iss", Value::from(issuer)),
        ("aud", Value::from(audience)),
        ("iat", Value::from(iat)),
        ("exp", Value::from(exp)),
        ("jti", Value::from(crate::pki::generate_token("", 16))),
    ] {
        body.insert(name.into(), value);
    }
    sign_jwt(Value::Object(body), signer, mutation)
}

/// A `private_key_jwt` client assertion (RFC 7523 §2.2 and §3): `iss` and `sub` the client id,
/// `aud` the token endpoint, an `exp` a minute ahead and a fresh `jti`, signed by `signer`
/// (with a client-assertion `mutation` breaking one thing).
pub fn sign_client_assertion(
    client_id: &str,
    audience: &str,
    signer: JwtSigner<'_>,
    mutation: Option<Mutation>,
) -> Result<String, SignError> {
    use Mutation::*;
    let now = unix_seconds(signer.now);
    let (iat, exp) = match mutation {
        Some(ClientAssertionExpired) => (now - 7200, now - 3600),
        _ => (now, now + 60),
    };
    let audience = match mutation {
        Some(ClientAssertionWrongAudience) => "https://another-bank.example/token",
        _ => audience,
    };
    let claims = serde_json::json!({
        "iss": client_id, "sub": client_id, "aud": audience, "iat": iat, "exp": exp,
        "jti": crate::pki::generate_token("", 16),
    });
    let signed_by_other =
        (mutation == Some(ClientAssertionSignedByAnotherKey)).then_some(RequestObjectSignedByAnotherKey);
    sign_jwt(claims, signer, signed_by_other)
}

/// Signs `claims` as the signer's identity, or as a signing mutation says: unsigned, RS256, a
/// broken signature, another TPP's key.
fn sign_jwt(claims: Value, signer: JwtSigner<'_>, mutation: Option<Mutation>) -> Result<String, SignError> {
    use Mutation::*;
    let JwtSigner { identity, other, .. } = signer;
    let key_error = |name: &str, source| SignError::Key { identity: name.to_string(), source };
    let (key, alg) = identity.key().jws_key().map_err(|e| key_error(&identity.name, e))?;
    let kid = identity.name.as_str();
    let encode = |alg: Algorithm, key: &jsonwebtoken::EncodingKey| {
        jws::encode(alg, kid, &claims, key).map_err(|_| key_error(kid, crate::pki::keys::KeyError::SigningFailed))
    };
    match mutation {
        Some(RequestObjectAlgNone) => Ok(jws::unsigned(kid, &claims)),
        Some(RequestObjectBadSignature) => Ok(jws::broken(&encode(alg, &key)?)),
        Some(RequestObjectRs256) if alg == Algorithm::PS256 => encode(Algorithm::RS256, &key),
        Some(RequestObjectRs256) => {
            Err(SignError::MutationNeeds { mutation: "request-object-rs256", needs: "an RSA signing key" })
        }
        Some(RequestObjectSignedByAnotherKey) => {
            let other = other.ok_or(SignError::MutationNeeds {
                mutation: "signed-by-another-key",
                needs: "another TPP's identity (qseal-b)",
            })?;
            let (other_key, other_alg) = other.key().jws_key().map_err(|e| key_error(&other.name, e))?;
            encode(other_alg, &other_key)
        }
        _ => encode(alg, &key),
    }
}
