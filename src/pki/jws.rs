//! Compact JWS (RFC 7515) as the test directory, the request objects and the reference server
//! use it: encoding with a key's one algorithm, the deliberately broken forms (`alg: none`, a
//! flipped signature byte), reading a JWS's header and claims before trusting it, verifying it
//! with a published key, and the keys a JWKS publishes. What a JWS must contain is the caller's
//! business; nothing here sends or judges.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{json, Map, Value};

/// A JSON object, as a JWS header or claims set.
pub type Object = Map<String, Value>;

/// Signs `claims` with `alg` under `kid` (`typ: JWT`).
pub fn encode(
    alg: Algorithm,
    kid: &str,
    claims: &Value,
    key: &EncodingKey,
) -> Result<String, jsonwebtoken::errors::Error> {
    let header = Header { kid: Some(kid.to_string()), typ: Some("JWT".into()), ..Header::new(alg) };
    jsonwebtoken::encode(&header, claims, key)
}

/// An unsecured JWS (RFC 7515 §A.5, `alg: none`): header and claims, an empty signature.
pub fn unsigned(kid: &str, claims: &Value) -> String {
    let header = json!({ "alg": "none", "typ": "JWT", "kid": kid });
    let part = |v: &Value| B64URL.encode(v.to_string());
    format!("{}.{}.", part(&header), part(claims))
}

/// The JWS with the first byte of its signature changed: still well-formed, no longer valid.
pub fn broken(jws: &str) -> String {
    let Some((signed, signature)) = jws.rsplit_once('.') else { return jws.to_string() };
    let mut bytes = B64URL.decode(signature).unwrap_or_default();
    if let Some(first) = bytes.first_mut() {
        *first ^= 0x01;
    }
    format!("{signed}.{}", B64URL.encode(bytes))
}

/// The `alg` a JWS header names for `alg` (RFC 7518 §3.1).
pub fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::PS256 => "PS256",
        Algorithm::ES256 => "ES256",
        Algorithm::RS256 => "RS256",
        _ => "other",
    }
}

/// A compact JWS taken apart, nothing verified yet.
pub struct Parts<'a> {
    pub header: Object,
    pub claims: Object,
    /// `header.payload`, what the signature covers.
    pub signed: &'a str,
    pub signature: &'a str,
}

impl Parts<'_> {
    pub fn alg(&self) -> &str {
        self.header.get("alg").and_then(Value::as_str).unwrap_or_default()
    }

    pub fn kid(&self) -> &str {
        self.header.get("kid").and_then(Value::as_str).unwrap_or_default()
    }

    /// Whether the signature verifies with `key` under the algorithm the header names, which
    /// must be `required` (a header cannot choose a weaker algorithm for the key).
    pub fn verifies_with(&self, key: &DecodingKey, required: Algorithm) -> bool {
        self.alg() == alg_name(required)
            && jsonwebtoken::crypto::verify(self.signature, self.signed.as_bytes(), key, required).unwrap_or(false)
    }
}

/// Takes a compact JWS apart: three base64url parts, a JSON object header and claims set.
pub fn parts(jws: &str) -> Option<Parts<'_>> {
    let (signed, signature) = jws.rsplit_once('.')?;
    let (header, payload) = signed.split_once('.')?;
    if payload.contains('.') {
        return None;
    }
    let object = |part: &str| -> Option<Object> {
        serde_json::from_slice::<Value>(&B64URL.decode(part).ok()?).ok()?.as_object().cloned()
    };
    Some(Parts { header: object(header)?, claims: object(payload)?, signed, signature })
}

/// The keys of a JWKS by key id, each with the one algorithm it signs with: PS256 for RSA,
/// ES256 for P-256. Keys of other types are left out.
pub fn published_keys(jwks: &Value) -> HashMap<String, (DecodingKey, Algorithm)> {
    let key = |jwk: &Value| -> Option<(String, (DecodingKey, Algorithm))> {
        let text = |name: &str| jwk[name].as_str();
        let key = match text("kty")? {
            "RSA" => (DecodingKey::from_rsa_components(text("n")?, text("e")?).ok()?, Algorithm::PS256),
            "EC" => (DecodingKey::from_ec_components(text("x")?, text("y")?).ok()?, Algorithm::ES256),
            _ => return None,
        };
        Some((text("kid")?.to_string(), key))
    };
    jwks["keys"].as_array().into_iter().flatten().filter_map(key).collect()
}

/// Whether `jwk` is the public key whose subjectPublicKey bits (as a certificate carries them:
/// PKCS#1 RSAPublicKey, or the uncompressed P-256 point) are `public_key`.
pub fn jwk_holds_key(jwk: &Value, public_key: &[u8]) -> bool {
    let part = |name: &str| jwk[name].as_str().and_then(|v| B64URL.decode(v).ok());
    match jwk["kty"].as_str() {
        Some("RSA") => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            use rsa::traits::PublicKeyParts;
            let Ok(key) = rsa::RsaPublicKey::from_pkcs1_der(public_key) else { return false };
            part("n") == Some(key.n().to_bytes_be()) && part("e") == Some(key.e().to_bytes_be())
        }
        Some("EC") => {
            let (Some(x), Some(y)) = (part("x"), part("y")) else { return false };
            public_key.len() == 65 && public_key[0] == 4 && public_key[1..33] == x[..] && public_key[33..] == y[..]
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_signature_is_still_base64url_and_differs() {
        let jws = "aGVhZA.Ym9keQ.AAECAw";
        let bad = broken(jws);
        assert_ne!(bad, jws);
        assert!(bad.starts_with("aGVhZA.Ym9keQ."));
        assert_eq!(B64URL.decode(bad.rsplit_once('.').map(|p| p.1).unwrap_or_default()).map(|b| b.len()), Ok(4));
    }

    #[test]
    fn a_jwk_holds_its_own_key_and_no_other() {
        let pki = crate::testing::test_pki();
        let key_of = |name: &str| pki.identity(name).expect("identity").info.public_key.clone();
        let jwk_of = |name: &str| -> Value {
            let identity = pki.identity(name).expect("identity");
            crate::pki::directory::jwk(identity.key(), name, "PS256").expect("a JWK")
        };
        assert!(jwk_holds_key(&jwk_of("qwac"), &key_of("qwac")));
        assert!(!jwk_holds_key(&jwk_of("qwac"), &key_of("qseal")));
        assert!(!jwk_holds_key(&json!({ "kty": "oct", "k": "c2VjcmV0" }), &key_of("qwac")));
        assert!(!jwk_holds_key(&json!({ "kty": "EC", "x": "AA", "y": "AA" }), &key_of("qwac")));
    }

    #[test]
    fn only_three_parts_of_json_objects_come_apart() {
        let object = |v: &str| B64URL.encode(v);
        let (h, c) = (object(r#"{"alg":"none","kid":"k"}"#), object(r#"{"iss":"x"}"#));
        let cases = [
            (format!("{h}.{c}."), true),
            (format!("{h}.{c}.c2ln"), true),
            (format!("{h}.{c}"), false),
            (format!("{h}.{c}.a.b"), false),
            (format!("{}.{c}.", object("[1]")), false),
            (format!("{h}.not-base64!.x"), false),
        ];
        for (jws, ok) in cases {
            assert_eq!(parts(&jws).is_some(), ok, "{jws}");
        }
        let jws = unsigned("k", &json!({"iss": "x"}));
        let p = parts(&jws).expect("unsigned parts");
        assert_eq!((p.alg(), p.kid(), p.signature), ("none", "k", ""));
    }
}
