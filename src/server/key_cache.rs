//! The key sets the server read from clients' `jwks_uri`s, each kept for [`KEY_CACHE_TIME`] and
//! read again sooner when a client's JWT names a `kid` the kept set lacks: the client rotated
//! its key (OpenID Connect Core §10.1.1: the verifier "knows to go back to the jwks_uri location
//! to re-retrieve the keys when it sees an unfamiliar kid value"). Bounded. It judges nothing:
//! what a key set proves is `client_auth`'s.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::client_auth::{client_jwks, JwksError};
use super::fetch_clock::Fetcher;

/// How long a key set read from a `jwks_uri` is used before it is read again (the reference
/// profile's `jwks_cache_s`).
pub const KEY_CACHE_TIME: Duration = Duration::from_secs(1);

/// The most key sets kept; past it, the stale ones go, then all.
const MAX_KEPT: usize = 10_000;

/// How a server keeps what it read: the flaws and variants of key rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keeping {
    /// Keep a key set at all (without: read the `jwks_uri` for every JWT).
    pub cache: bool,
    /// Read the set again when a JWT names a `kid` it lacks.
    pub reread_on_unknown_kid: bool,
    /// Keep a set forever (a flaw: a rotated key is never seen).
    pub forever: bool,
    /// Keep the keys a new reading no longer lists (a flaw: a retired key still works).
    pub keep_retired: bool,
}

struct Kept {
    read: Instant,
    jwks: Value,
}

/// The key sets read from `jwks_uri`s, by URI.
#[derive(Default)]
pub struct KeyCache {
    kept: Mutex<HashMap<String, Kept>>,
}

impl KeyCache {
    /// The keys of a client with these `metadata` for a JWT naming `kid`: its registered `jwks`,
    /// else the set at its `jwks_uri` as kept, or as read now.
    pub async fn keys(
        &self,
        fetcher: &Fetcher,
        metadata: &Map<String, Value>,
        kid: &str,
        keeping: Keeping,
    ) -> Result<Value, JwksError> {
        let uri = match (metadata.get("jwks"), metadata.get("jwks_uri").and_then(Value::as_str)) {
            (None, Some(uri)) if keeping.cache => uri,
            _ => return client_jwks(fetcher, metadata).await,
        };
        let kept = self.kept_set(uri, keeping.forever);
        if let Some(jwks) = &kept {
            if !keeping.reread_on_unknown_kid || keeping.forever || names_kid(jwks, kid) {
                return Ok(jwks.clone());
            }
        }
        let mut read = client_jwks(fetcher, metadata).await?;
        if let (true, Some(old)) = (keeping.keep_retired, self.any_kept(uri)) {
            read = with_retired_keys(read, &old);
        }
        self.keep(uri, read.clone());
        Ok(read)
    }

    /// Reads the key set at `uri` unless one read within the cache time is kept: what a rule
    /// that runs later (synchronously) finds with [`KeyCache::kept`]. A set that cannot be read is
    /// not kept.
    pub async fn learn(&self, fetcher: &Fetcher, uri: &str) {
        if self.kept_set(uri, false).is_some() {
            return;
        }
        let metadata: Map<String, Value> = [("jwks_uri".to_string(), Value::from(uri))].into_iter().collect();
        if let Ok(jwks) = client_jwks(fetcher, &metadata).await {
            self.keep(uri, jwks);
        }
    }

    /// The key set read from `uri` within the cache time, if any.
    pub fn kept(&self, uri: &str) -> Option<Value> {
        self.kept_set(uri, false)
    }

    /// The set kept for `uri` and still within the cache time (any age, `forever`).
    fn kept_set(&self, uri: &str, forever: bool) -> Option<Value> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.get(uri).filter(|k| forever || k.read.elapsed() < KEY_CACHE_TIME).map(|k| k.jwks.clone())
    }

    fn any_kept(&self, uri: &str) -> Option<Value> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner()).get(uri).map(|k| k.jwks.clone())
    }

    fn keep(&self, uri: &str, jwks: Value) {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() >= MAX_KEPT {
            kept.retain(|_, k| k.read.elapsed() < KEY_CACHE_TIME);
            if kept.len() >= MAX_KEPT {
                kept.clear();
            }
        }
        kept.insert(uri.to_string(), Kept { read: Instant::now(), jwks });
    }
}

/// Whether the set lists a key with this `kid`.
fn names_kid(jwks: &Value, kid: &str) -> bool {
    jwks["keys"].as_array().into_iter().flatten().any(|key| key["kid"].as_str() == Some(kid))
}

/// `read`, with the keys of `old` it no longer lists added back.
fn with_retired_keys(mut read: Value, old: &Value) -> Value {
    let retired: Vec<Value> = old["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|key| key["kid"].as_str().is_some_and(|kid| !names_kid(&read, kid)))
        .cloned()
        .collect();
    if let Some(keys) = read.get_mut("keys").and_then(Value::as_array_mut) {
        keys.extend(retired);
    }
    read
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_kid_is_looked_for_among_the_keys() {
        let set = json!({ "keys": [{ "kid": "a" }, { "kid": "b" }] });
        let cases = [("a", true), ("b", true), ("c", false), ("", false)];
        for (kid, named) in cases {
            assert_eq!(names_kid(&set, kid), named, "{kid}");
        }
        assert!(!names_kid(&json!({ "keys": "no list" }), "a"));
    }

    #[test]
    fn retired_keys_are_added_back_once() {
        let read = json!({ "keys": [{ "kid": "b" }] });
        let old = json!({ "keys": [{ "kid": "a" }, { "kid": "b" }] });
        assert_eq!(with_retired_keys(read, &old), json!({ "keys": [{ "kid": "b" }, { "kid": "a" }] }));
    }
}
