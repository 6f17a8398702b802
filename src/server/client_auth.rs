//! How a registered client proves itself at the token endpoint, by the method it registered
//! (RFC 7591 §2 `token_endpoint_auth_method`): its secret in HTTP Basic (`client_secret_basic`)
//! or in the form (`client_secret_post`, RFC 6749 §2.3.1); its TLS client certificate, whose
//! subject DN is the one it registered (`tls_client_auth`, RFC 8705 §2.1); or a JWT it signed
//! with a key of its registered JWKS (`private_key_jwt`, RFC 7523 §2.2 and §3: `iss` and `sub`
//! its client id, `aud` this server, unexpired, a `jti` never seen before). Each rule has a flaw.
//! It holds no key, and issues no token.

use std::collections::HashMap;
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::fetch_clock::{FetchError, Fetcher};
use crate::fault::Service;

use super::tls::TlsSetupError;
use super::Flaw;
use crate::pki::inspect::{parse_dn, same_dn, CertInfo};
use crate::pki::jws::{self, published_keys};

/// The furthest ahead a client assertion's `exp` may be, in seconds.
const MAX_ASSERTION_LIFETIME: i64 = 3600;

pub use crate::protocol::JWT_BEARER;

/// Why a client's proof is refused, a variant per rule broken; the refusal's text (on the wire
/// and in the log) is its `Display`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientAuthError {
    #[error("the certificate has no subjectAltName `{value}` of the kind {field} names")]
    NoSuchAltName { field: &'static str, value: String },
    #[error("the client registered neither tls_client_auth_subject_dn nor a tls_client_auth_san_* name")]
    NoRegisteredSubject,
    #[error("the certificate's subject `{subject}` is not the registered `{registered}`")]
    SubjectMismatch { subject: String, registered: String },
    #[error("the certificate's key is not in the client's registered jwks")]
    KeyNotInJwks,
    #[error("the client assertion is not a compact JWS")]
    NotCompactJws,
    #[error("no key `{0}` in the client's jwks")]
    NoSuchKey(String),
    #[error("the client assertion's signature does not verify with the client's key")]
    BadSignature,
    #[error("iss and sub must both be the client id")]
    IssSubNotClient,
    #[error("aud names none of {0:?}")]
    AudienceNotNamed(Vec<String>),
    #[error("the client assertion has no exp")]
    NoExp,
    #[error("the client assertion has expired")]
    Expired,
    #[error("the client assertion's exp is more than {MAX_ASSERTION_LIFETIME} s ahead")]
    ExpTooFarAhead,
    #[error("the client assertion has no jti")]
    NoJti,
    #[error("this client assertion (its jti) was used before")]
    Replayed,
}

/// Why the client's keys could not be had.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("the client registered neither jwks nor jwks_uri")]
    NoKeys,
    #[error("the client's jwks_uri is not https")]
    NotHttps,
    #[error("the client's jwks_uri {uri} could not be read: {cause}")]
    Unreadable {
        uri: String,
        #[source]
        cause: JwksUriError,
    },
}

/// Why what a `jwks_uri` serves is not the client's keys.
#[derive(Debug, thiserror::Error)]
pub enum JwksUriError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{0}")]
    Json(#[source] serde_json::Error),
    #[error("it is not a JWK Set")]
    NotJwkSet,
}

/// What a token request offers as proof of the client's identity.
#[derive(Debug, PartialEq, Eq)]
pub enum Proof {
    /// The secret, in HTTP Basic (`basic`) or in the form.
    Secret { id: String, secret: String, basic: bool },
    /// A JWT the client signed.
    Assertion { id: String, jws: String },
    /// Nothing but the client id: the TLS client certificate is the proof.
    Certificate { id: String },
}

impl Proof {
    /// The proof a token request offers: HTTP Basic, else a client assertion, else the form's
    /// secret, else the client id alone. None without any client id.
    pub fn of(basic: Option<(String, String)>, field: &dyn Fn(&str) -> Option<String>) -> Option<Proof> {
        if let Some((id, secret)) = basic {
            return Some(Proof::Secret { id, secret, basic: true });
        }
        if field("client_assertion_type").as_deref() == Some(JWT_BEARER) {
            let jws = field("client_assertion")?;
            // RFC 7523 §3: the client is the assertion's subject; a client_id, if sent, must agree.
            let subject = jws::parts(&jws)?.claims.get("sub")?.as_str()?.to_string();
            let id = field("client_id").unwrap_or_else(|| subject.clone());
            return (id == subject).then_some(Proof::Assertion { id, jws });
        }
        let id = field("client_id")?;
        Some(match field("client_secret") {
            Some(secret) => Proof::Secret { id, secret, basic: false },
            None => Proof::Certificate { id },
        })
    }

    pub fn client_id(&self) -> &str {
        match self {
            Proof::Secret { id, .. } | Proof::Assertion { id, .. } | Proof::Certificate { id } => id,
        }
    }

    /// Whether this proof is the method a client registered: a certificate proves either
    /// certificate-bound method (RFC 8705 §2.1 and §2.2).
    pub fn is_method(&self, registered: &str) -> bool {
        match self {
            Proof::Certificate { .. } => ["tls_client_auth", "self_signed_tls_client_auth"].contains(&registered),
            _ => self.method() == registered,
        }
    }

    /// The `token_endpoint_auth_method` this proof is.
    pub fn method(&self) -> &'static str {
        match self {
            Proof::Secret { basic: true, .. } => "client_secret_basic",
            Proof::Secret { basic: false, .. } => "client_secret_post",
            Proof::Assertion { .. } => "private_key_jwt",
            Proof::Certificate { .. } => "tls_client_auth",
        }
    }
}

/// The method a client registered (RFC 7591 §2: `client_secret_basic` when it named none).
pub fn registered_method(metadata: &Map<String, Value>) -> &str {
    metadata.get("token_endpoint_auth_method").and_then(Value::as_str).unwrap_or("client_secret_basic")
}

/// RFC 8705 §2.1.2: the certificate is the one the client registered, by its subject DN or
/// a DNS subjectAltName. (Its chain is the caller's to judge.)
/// RFC 8705 §2.1.2: the subjectAltName a `tls_client_auth` client may register instead of its
/// subject DN, one of each kind.
const SAN_FIELDS: [&str; 4] =
    ["tls_client_auth_san_dns", "tls_client_auth_san_uri", "tls_client_auth_san_ip", "tls_client_auth_san_email"];

pub fn check_subject(
    metadata: &Map<String, Value>,
    leaf: &CertInfo,
    flaw: &dyn Fn(Flaw) -> bool,
) -> Result<(), ClientAuthError> {
    let registered_name = SAN_FIELDS.iter().find_map(|f| metadata.get(*f).and_then(Value::as_str).map(|v| (*f, v)));
    if let Some((field, value)) = registered_name {
        let names = &leaf.alt_names;
        let held = match field {
            "tls_client_auth_san_dns" => leaf.dns_names.iter().any(|name| name.eq_ignore_ascii_case(value)),
            "tls_client_auth_san_uri" => names.uris.iter().any(|uri| uri == value),
            // RFC 8705 §2.1.2 (after RFC 5952 §8): addresses compared as binary values.
            "tls_client_auth_san_ip" => value.parse::<std::net::IpAddr>().is_ok_and(|ip| names.ips.contains(&ip)),
            _ => names.emails.iter().any(|email| email.eq_ignore_ascii_case(value)),
        };
        return match held || flaw(Flaw::SkipTlsClientAuthSanMatch) {
            true => Ok(()),
            false => Err(ClientAuthError::NoSuchAltName { field, value: value.to_string() }),
        };
    }
    if flaw(Flaw::SkipTlsClientAuthDnMatch) {
        return Ok(());
    }
    let registered = metadata
        .get("tls_client_auth_subject_dn")
        .and_then(Value::as_str)
        .ok_or(ClientAuthError::NoRegisteredSubject)?;
    let matches = parse_dn(registered).zip(parse_dn(&leaf.subject)).is_some_and(|(a, b)| same_dn(&a, &b));
    match matches {
        true => Ok(()),
        false => {
            Err(ClientAuthError::SubjectMismatch { subject: leaf.subject.clone(), registered: registered.to_string() })
        }
    }
}

/// RFC 8705 §2.2: the certificate's key is one of the client's registered JWKS (its chain is
/// not judged: the certificate may be self-signed).
pub fn check_key_in_jwks(
    metadata: &Map<String, Value>,
    leaf: &CertInfo,
    flaw: &dyn Fn(Flaw) -> bool,
) -> Result<(), ClientAuthError> {
    let keys = metadata.get("jwks").and_then(|j| j.get("keys")).and_then(Value::as_array);
    let held = keys.is_some_and(|keys| keys.iter().any(|jwk| jws::jwk_holds_key(jwk, &leaf.public_key)));
    match held || flaw(Flaw::SkipSelfSignedKeyMatch) {
        true => Ok(()),
        false => Err(ClientAuthError::KeyNotInJwks),
    }
}

/// The `jti`s of accepted client assertions, each until its `exp` (RFC 7523 §3: the server
/// may refuse a replay); bounded by what unexpired assertions there are.
#[derive(Default)]
pub struct SeenAssertions {
    seen: std::sync::Mutex<HashMap<String, i64>>,
}

impl SeenAssertions {
    /// False if `jti` was accepted before and has not expired.
    fn first_use(&self, jti: &str, exp: i64, now: i64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.retain(|_, until| *until >= now);
        seen.insert(jti.to_string(), exp).is_none()
    }
}

/// The most of a `jwks_uri` document the server reads.
const JWKS_LIMIT: usize = 64 * 1024;

/// How long the server waits for a document it fetches (a `jwks_uri`, a sector identifier)
/// before it gives up on it.
pub const FETCH_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// The HTTPS client that reads `jwks_uri` documents: the test PKI's root trusted, short
/// timeouts, no redirects.
pub fn fetcher(
    pki: &crate::pki::Pki,
    clock: std::sync::Arc<super::fetch_clock::FetchClock>,
) -> Result<Fetcher, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.trust_anchor.clone()).map_err(TlsSetupError::Rustls)?;
    let mut tls = rustls::ClientConfig::builder_with_provider(crate::crypto::provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsSetupError::Rustls)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .http1_only()
        .no_gzip()
        .connect_timeout(FETCH_TIME)
        .timeout(FETCH_TIME)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map(|client| Fetcher { client, clock })
        .map_err(TlsSetupError::Client)
}

/// The client's keys: its registered `jwks`, or else the JWK Set its `jwks_uri` serves (RFC
/// 7591 §2), read now over HTTPS, up to a limit.
pub async fn client_jwks(fetcher: &Fetcher, metadata: &Map<String, Value>) -> Result<Value, JwksError> {
    if let Some(jwks) = metadata.get("jwks") {
        return Ok(jwks.clone());
    }
    let Some(uri) = metadata.get("jwks_uri").and_then(Value::as_str) else {
        return Err(JwksError::NoKeys);
    };
    if !uri.starts_with("https://") {
        return Err(JwksError::NotHttps);
    }
    let unreadable = |cause: JwksUriError| JwksError::Unreadable { uri: uri.to_string(), cause };
    let body = fetcher
        .fetch(Service::Keystore, fetcher.client.get(uri), JWKS_LIMIT)
        .await
        .map_err(|e| unreadable(e.into()))?;
    let jwks: Value = serde_json::from_slice(&body).map_err(|e| unreadable(JwksUriError::Json(e)))?;
    match jwks.get("keys").is_some_and(Value::is_array) {
        true => Ok(jwks),
        false => Err(unreadable(JwksUriError::NotJwkSet)),
    }
}

/// RFC 7523 §3: the assertion is signed by a key of the client's registered JWKS with that
/// key's algorithm, `iss` and `sub` are the client, `aud` names this server (its issuer or
/// token endpoint), it has not expired, and its `jti` is new.
pub fn check_assertion(
    client_id: &str,
    jwks: &Value,
    assertion: &str,
    audiences: &[&str],
    seen: &SeenAssertions,
    flaw: &dyn Fn(Flaw) -> bool,
) -> Result<(), ClientAuthError> {
    let parts = jws::parts(assertion).ok_or(ClientAuthError::NotCompactJws)?;
    if !flaw(Flaw::SkipClientAssertionSignature) {
        let keys = published_keys(jwks);
        let (key, alg) = keys.get(parts.kid()).ok_or_else(|| ClientAuthError::NoSuchKey(parts.kid().to_string()))?;
        if !parts.verifies_with(key, *alg) {
            return Err(ClientAuthError::BadSignature);
        }
    }
    let claim = |name: &str| parts.claims.get(name).and_then(Value::as_str);
    if claim("iss") != Some(client_id) || claim("sub") != Some(client_id) {
        return Err(ClientAuthError::IssSubNotClient);
    }
    let aud_named = match parts.claims.get("aud") {
        Some(Value::String(aud)) => audiences.contains(&aud.as_str()),
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str().is_some_and(|a| audiences.contains(&a))),
        _ => false,
    };
    if !aud_named && !flaw(Flaw::SkipClientAssertionAudience) {
        return Err(ClientAuthError::AudienceNotNamed(audiences.iter().map(|a| a.to_string()).collect()));
    }
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let exp = parts.claims.get("exp").and_then(Value::as_i64).ok_or(ClientAuthError::NoExp)?;
    if exp + 60 < now && !flaw(Flaw::AcceptExpiredClientAssertion) {
        return Err(ClientAuthError::Expired);
    }
    // RFC 7523 §3: a server may refuse an exp unreasonably far ahead; it also bounds how long a
    // jti is remembered.
    if exp > now + MAX_ASSERTION_LIFETIME {
        return Err(ClientAuthError::ExpTooFarAhead);
    }
    let jti = claim("jti").ok_or(ClientAuthError::NoJti)?;
    if !seen.first_use(jti, exp.max(now), now) && !flaw(Flaw::AcceptReplayedClientAssertion) {
        return Err(ClientAuthError::Replayed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_registered_name_is_matched_in_its_own_way() {
        let pki = crate::testing::test_pki();
        let (own, other) = (&pki.identity("qwac").expect("qwac").info, &pki.identity("qwac-b").expect("qwac-b").info);
        let names = |info: &CertInfo| {
            [
                ("tls_client_auth_san_dns", info.dns_names[0].to_ascii_uppercase()),
                ("tls_client_auth_san_uri", info.alt_names.uris[0].clone()),
                ("tls_client_auth_san_ip", info.alt_names.ips[0].to_string()),
                ("tls_client_auth_san_email", info.alt_names.emails[0].clone()),
            ]
        };
        assert_ne!(own.alt_names.ips, other.alt_names.ips, "two TPPs, two addresses");
        for (field, value) in names(own) {
            let metadata: Map<String, Value> = [(field.to_string(), Value::from(value.clone()))].into_iter().collect();
            assert_eq!(check_subject(&metadata, own, &|_| false), Ok(()), "{field} {value}");
            let refused = check_subject(&metadata, other, &|_| false);
            assert!(matches!(refused, Err(ClientAuthError::NoSuchAltName { .. })), "{field}: {refused:?}");
            assert_eq!(check_subject(&metadata, other, &|f| f == Flaw::SkipTlsClientAuthSanMatch), Ok(()));
        }
    }

    #[test]
    fn a_token_request_offers_one_proof() {
        let assertion = jws::unsigned("k", &serde_json::json!({ "sub": "c1" }));
        type Case<'a> = (Option<(&'a str, &'a str)>, &'a [(&'a str, &'a str)], Option<&'a str>);
        let cases: [Case; 6] = [
            (Some(("c1", "s")), &[], Some("client_secret_basic")),
            (None, &[("client_id", "c1"), ("client_secret", "s")], Some("client_secret_post")),
            (None, &[("client_id", "c1")], Some("tls_client_auth")),
            (None, &[("client_assertion_type", JWT_BEARER), ("client_assertion", &assertion)], Some("private_key_jwt")),
            (
                None,
                &[("client_assertion_type", JWT_BEARER), ("client_assertion", &assertion), ("client_id", "c2")],
                None,
            ),
            (None, &[], None),
        ];
        for (basic, form, expected) in cases {
            let field = |name: &str| form.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
            let basic = basic.map(|(i, s)| (i.to_string(), s.to_string()));
            assert_eq!(Proof::of(basic, &field).map(|p| p.method()), expected, "{form:?}");
        }
    }

    #[test]
    fn an_assertion_is_judged_by_each_claim_rule() {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let assertion = |iss: &str, aud: &str, exp: i64, jti: &str| {
            jws::unsigned("k", &serde_json::json!({ "iss": iss, "sub": "c1", "aud": aud, "exp": exp, "jti": jti }))
        };
        // The signature rule is off here: each case is about one claim.
        let unsigned_ok = |f: Flaw| f == Flaw::SkipClientAssertionSignature;
        let cases = [
            (assertion("c1", "https://as", now + 60, "j1"), None),
            (assertion("c2", "https://as", now + 60, "j2"), Some("iss and sub")),
            (assertion("c1", "https://elsewhere", now + 60, "j3"), Some("aud names none")),
            (assertion("c1", "https://as", now - 600, "j4"), Some("expired")),
            (assertion("c1", "https://as", now + 86_400, "j5"), Some("s ahead")),
            (assertion("c1", "https://as", now + 60, "j1"), Some("used before")),
        ];
        let seen = SeenAssertions::default();
        for (jws, refused) in cases {
            let got = check_assertion("c1", &Value::Null, &jws, &["https://as"], &seen, &unsigned_ok);
            match refused {
                None => assert_eq!(got, Ok(()), "{jws}"),
                Some(why) => assert!(got.as_ref().is_err_and(|e| e.to_string().contains(why)), "{why}: {got:?}"),
            }
        }
        let signed_needed = check_assertion(
            "c1",
            &Value::Null,
            &assertion("c1", "https://as", now + 60, "j9"),
            &["https://as"],
            &seen,
            &|_| false,
        );
        assert!(
            signed_needed.is_err_and(|e| e.to_string().contains("no key")),
            "without the flaw a key from the jwks is needed"
        );
    }

    #[test]
    fn a_jti_is_refused_again_until_it_expires() {
        let seen = SeenAssertions::default();
        assert!(seen.first_use("a", 100, 50));
        assert!(!seen.first_use("a", 100, 60), "a replay");
        assert!(seen.first_use("a", 200, 150), "after its exp it is forgotten");
    }
}
