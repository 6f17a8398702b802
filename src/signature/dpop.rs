//! DPoP (RFC 9449): a client's proof-of-possession key and the proofs it signs with it (§4.2: a
//! JWT of `typ` `dpop+jwt`, ES256, the public key as `jwk`, a fresh `jti`, the request's `htm`
//! and `htu` (without query and fragment), `iat`, and at a protected resource `ath`, the hash of
//! the access token), the JWK SHA-256 thumbprint a bound token names (RFC 7638, `cnf.jkt`), and
//! the checks a server makes of a proof (§4.3). Nothing here sends or remembers: whether a
//! proof's `jti` was seen before is the caller's to know.

use std::time::SystemTime;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::Mutation;
use crate::pki::jws::{self, published_keys};
use crate::pki::keys::{KeyError, PrivateKey, SigningScheme};

/// The `typ` of a DPoP proof (§4.2).
pub const PROOF_TYPE: &str = "dpop+jwt";

/// How far a proof's `iat` may be behind the server's clock, and ahead of it, in seconds (§4.3
/// leaves the window to the server; §11.1: "a limited time").
pub const PAST_LEEWAY_S: i64 = 300;
pub const FUTURE_LEEWAY_S: i64 = 60;

/// Why a proof could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DpopError {
    #[error("the DPoP key: {0}")]
    Key(#[source] KeyError),
    #[error("the DPoP key's public half makes no JWK")]
    Jwk,
}

/// A client's DPoP key: an ECDSA P-256 key made for the session, and its public JWK.
pub struct DpopKey {
    key: PrivateKey,
    jwk: Value,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DpopKey({})", self.thumbprint())
    }
}

impl DpopKey {
    pub fn generate() -> Result<DpopKey, DpopError> {
        let key = PrivateKey::generate_p256().map_err(DpopError::Key)?;
        let mut jwk = crate::pki::directory::jwk(&key, "", "ES256").map_err(|_| DpopError::Jwk)?;
        if let Some(members) = jwk.as_object_mut() {
            members.retain(|name, _| ["kty", "crv", "x", "y"].contains(&name.as_str()));
        }
        Ok(DpopKey { key, jwk })
    }

    /// RFC 7638: what a token bound to this key names as `cnf.jkt`.
    pub fn thumbprint(&self) -> String {
        jwk_thumbprint(&self.jwk).unwrap_or_default()
    }

    /// A proof for `request`, made at `at`; `mutation` (a `dpop-*` one) breaks one thing in it,
    /// with `other` the key that signs where the mutation says another does.
    pub fn proof(
        &self,
        request: &ProofOf<'_>,
        at: SystemTime,
        mutation: Option<Mutation>,
        other: &DpopKey,
    ) -> Result<String, DpopError> {
        let ProofOf { method, url, access_token, nonce } = *request;
        let now = at.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let htu = match mutation {
            Some(Mutation::DpopOtherUri) => "https://another-bank.example/token".to_string(),
            _ => without_query(url),
        };
        let iat = match mutation {
            Some(Mutation::DpopStale) => now - 3_600,
            _ => now,
        };
        let mut claims = json!({ "jti": crate::pki::generate_token("", 16), "htm": method, "htu": htu, "iat": iat });
        if let Some(token) = access_token {
            claims["ath"] = json!(token_hash(token));
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        let header = json!({ "typ": PROOF_TYPE, "alg": "ES256", "jwk": self.jwk });
        let part = |v: &Value| B64URL.encode(v.to_string());
        let signed = format!("{}.{}", part(&header), part(&claims));
        let signer = match mutation {
            Some(Mutation::DpopSignedByAnotherKey) => &other.key,
            _ => &self.key,
        };
        let signature = signer.sign_as(SigningScheme::EcdsaFixed, signed.as_bytes()).map_err(DpopError::Key)?;
        Ok(format!("{signed}.{}", B64URL.encode(signature)))
    }
}

/// What a proof is for: a `method` request to `url`, with the access token it presents (at a
/// resource) and the nonce the server gave (§8), where there are.
#[derive(Debug, Clone, Copy)]
pub struct ProofOf<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub access_token: Option<&'a str>,
    pub nonce: Option<&'a str>,
}

impl<'a> ProofOf<'a> {
    pub fn request(method: &'a str, url: &'a str) -> Self {
        ProofOf { method, url, access_token: None, nonce: None }
    }
}

/// RFC 7638 §3: the base64url SHA-256 of the JWK's required members, in lexical order, without
/// whitespace; `None` for a key type without a thumbprint here.
pub fn jwk_thumbprint(jwk: &Value) -> Option<String> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    // serde_json's map is ordered by key, which is the lexical order RFC 7638 asks for.
    let members = match text("kty")? {
        "EC" => json!({ "crv": text("crv")?, "kty": "EC", "x": text("x")?, "y": text("y")? }),
        "RSA" => json!({ "e": text("e")?, "kty": "RSA", "n": text("n")? }),
        "OKP" => json!({ "crv": text("crv")?, "kty": "OKP", "x": text("x")? }),
        _ => return None,
    };
    Some(B64URL.encode(Sha256::digest(members.to_string().as_bytes())))
}

/// §4.2 `ath`: the base64url SHA-256 of the access token's ASCII.
pub fn token_hash(access_token: &str) -> String {
    B64URL.encode(Sha256::digest(access_token.as_bytes()))
}

/// The URI without its query and fragment (§4.2 `htu`).
fn without_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_string()
}

/// Why a server refuses a proof (§4.3), a variant per check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the DPoP proof is not a compact JWS with JSON header and claims")]
    Malformed,
    #[error("the DPoP proof's typ is not dpop+jwt")]
    Type,
    #[error("the DPoP proof's jwk is missing, private, or of an algorithm not taken (ES256, PS256)")]
    Key,
    #[error("the DPoP proof's signature does not verify with its jwk")]
    Signature,
    #[error("the DPoP proof lacks {0}")]
    Missing(&'static str),
    #[error("the DPoP proof's htm or htu is not this request's")]
    OtherRequest,
    #[error("the DPoP proof's iat is outside the server's window")]
    Time,
    #[error("the DPoP proof's ath is not the hash of the access token it came with")]
    TokenHash,
}

/// What a proof that passed says: the key's thumbprint, its `jti` (for the caller's replay
/// memory) and the nonce it carries (for the caller to judge, §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    pub jkt: String,
    pub jti: String,
    pub nonce: Option<String>,
}

/// §4.3: the checks of a proof that came with a `method` request to `url` (and with
/// `access_token`, at a resource), at `now`.
pub fn check_proof(
    proof: &str,
    (method, url): (&str, &str),
    access_token: Option<&str>,
    now: SystemTime,
) -> Result<Proven, ProofError> {
    let parts = jws::parts(proof).ok_or(ProofError::Malformed)?;
    if parts.header.get("typ").and_then(Value::as_str) != Some(PROOF_TYPE) {
        return Err(ProofError::Type);
    }
    let jwk = parts.header.get("jwk").filter(|jwk| jwk.get("d").is_none()).ok_or(ProofError::Key)?;
    let mut named = jwk.clone();
    named["kid"] = json!("dpop");
    let keys = published_keys(&json!({ "keys": [named] }));
    let (key, alg) = keys.get("dpop").ok_or(ProofError::Key)?;
    if parts.alg() != jws::alg_name(*alg) {
        return Err(ProofError::Key);
    }
    if !parts.verifies_with(key, *alg) {
        return Err(ProofError::Signature);
    }
    let claim = |name: &'static str| parts.claims.get(name).ok_or(ProofError::Missing(name));
    let jti = claim("jti")?.as_str().ok_or(ProofError::Missing("jti"))?.to_string();
    let (htm, htu) = (claim("htm")?.as_str(), claim("htu")?.as_str());
    if htm != Some(method) || htu.map(without_query).as_deref() != Some(without_query(url).as_str()) {
        return Err(ProofError::OtherRequest);
    }
    let iat = claim("iat")?.as_i64().ok_or(ProofError::Missing("iat"))?;
    let now = now.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    if iat < now - PAST_LEEWAY_S || iat > now + FUTURE_LEEWAY_S {
        return Err(ProofError::Time);
    }
    if let Some(token) = access_token {
        if claim("ath")?.as_str() != Some(token_hash(token).as_str()) {
            return Err(ProofError::TokenHash);
        }
    }
    let nonce = parts.claims.get("nonce").and_then(Value::as_str).map(str::to_string);
    Ok(Proven { jkt: jwk_thumbprint(jwk).ok_or(ProofError::Key)?, jti, nonce })
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://127.0.0.1:8443/oauth/token";

    #[test]
    fn the_rfc_7638_example_thumbprint() {
        // RFC 7638 §3.1's RSA key and its thumbprint.
        let jwk = json!({
            "kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        });
        assert_eq!(jwk_thumbprint(&jwk).as_deref(), Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"));
        assert_eq!(jwk_thumbprint(&json!({ "kty": "oct", "k": "x" })), None);
    }

    #[test]
    fn a_proof_passes_its_checks_and_each_break_is_caught_by_its_own() {
        let (key, other) = (DpopKey::generate().expect("a key"), DpopKey::generate().expect("another"));
        let now = SystemTime::now();
        let proof = |mutation| key.proof(&ProofOf::request("POST", URL), now, mutation, &other).expect("a proof");
        let proven = check_proof(&proof(None), ("POST", URL), None, now).expect("a good proof");
        assert_eq!(proven.jkt, key.thumbprint());
        let cases = [
            (Some(Mutation::DpopOtherUri), ProofError::OtherRequest),
            (Some(Mutation::DpopStale), ProofError::Time),
            (Some(Mutation::DpopSignedByAnotherKey), ProofError::Signature),
        ];
        for (mutation, error) in cases {
            assert_eq!(check_proof(&proof(mutation), ("POST", URL), None, now), Err(error), "{mutation:?}");
        }
        assert_eq!(check_proof(&proof(None), ("GET", URL), None, now), Err(ProofError::OtherRequest));
        let query = format!("{URL}?x=1");
        assert!(check_proof(&proof(None), ("POST", &query), None, now).is_ok(), "query and fragment left out");
        assert_eq!(check_proof("not.a.jws", ("POST", URL), None, now), Err(ProofError::Malformed));
    }

    #[test]
    fn at_a_resource_the_proof_carries_the_hash_of_its_token() {
        let (key, other) = (DpopKey::generate().expect("a key"), DpopKey::generate().expect("another"));
        let now = SystemTime::now();
        let of = ProofOf { access_token: Some("at-1"), nonce: Some("n-1"), ..ProofOf::request("GET", URL) };
        let proof = key.proof(&of, now, None, &other).expect("a proof");
        let proven = check_proof(&proof, ("GET", URL), Some("at-1"), now).expect("a good proof");
        assert_eq!(proven.nonce.as_deref(), Some("n-1"));
        assert_eq!(check_proof(&proof, ("GET", URL), Some("at-2"), now), Err(ProofError::TokenHash));
        let without = key.proof(&ProofOf::request("GET", URL), now, None, &other).expect("a proof");
        assert_eq!(check_proof(&without, ("GET", URL), Some("at-1"), now), Err(ProofError::Missing("ath")));
    }
}
