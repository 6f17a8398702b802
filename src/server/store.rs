//! The reference server's client store: in memory, safe under concurrent requests. Each client
//! belongs to one owner (a TPP's organizationIdentifier, or the registration access token's
//! holder in the plain profile); ownership checks are the handlers', not the store's.

use std::collections::HashMap;
use std::sync::RwLock;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A registered client.
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub owner: String,
    pub metadata: Metadata,
    pub secret: String,
    /// Secrets that still authenticate (only with the `refresh-keeps-old-secret` flaw).
    pub old_secrets: Vec<String>,
    pub issued_at: u64,
    pub secret_expires_at: u64,
    pub registration_access_token: Option<String>,
}

/// A client's registered metadata, kept as the JSON text of its map. A load registers hundreds
/// of thousands of clients: the text takes a fifth of the parsed map's memory, and on the virtual
/// machines this runs on, memory touched for the first time costs the server more than parsing
/// what the few requests that read a client's metadata read.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata(Box<str>);

impl Metadata {
    pub fn new(map: &Map<String, Value>) -> Self {
        // A map of JSON values always serialises; "{}" keeps the type's promise regardless.
        Metadata(serde_json::to_string(map).unwrap_or_else(|_| "{}".into()).into_boxed_str())
    }

    /// The metadata as a map.
    pub fn map(&self) -> Map<String, Value> {
        serde_json::from_str(&self.0).unwrap_or_default()
    }

    /// One field's value.
    pub fn get(&self, field: &str) -> Option<Value> {
        match self.fields() {
            Some(fields) => fields.get(field).and_then(|raw| serde_json::from_str(raw.get()).ok()),
            None => self.map().remove(field),
        }
    }

    /// The fields in key order with their values unparsed (what an answer writes back as it is);
    /// none where a name has an escape in it and cannot be borrowed from the text.
    pub fn fields(&self) -> Option<std::collections::BTreeMap<&str, &RawValue>> {
        serde_json::from_str(&self.0).ok()
    }
}

#[derive(Default)]
pub struct Store {
    /// Boxed: a load registers hundreds of thousands, and each time the table grows it moves
    /// every slot; a pointer moves faster than a client.
    clients: RwLock<HashMap<String, Box<Client>>>,
    /// The most clients registered at once (what a load's rolling cleanup keeps bounded).
    peak: std::sync::atomic::AtomicUsize,
}

impl Store {
    pub fn insert(&self, client: Client) {
        let mut clients = self.write();
        clients.insert(client.client_id.clone(), Box::new(client));
        self.peak.fetch_max(clients.len(), std::sync::atomic::Ordering::Relaxed);
    }

    /// The most clients that were registered at once.
    pub fn peak(&self) -> usize {
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn get(&self, client_id: &str) -> Option<Client> {
        self.read().get(client_id).map(|c| Client::clone(c))
    }

    /// Applies `change` to the client atomically; returns the client as it is afterwards.
    pub fn update(&self, client_id: &str, change: impl FnOnce(&mut Client)) -> Option<Client> {
        let mut clients = self.write();
        let client = clients.get_mut(client_id)?;
        change(client);
        Some(Client::clone(client))
    }

    /// Whether some client meets `test`.
    pub fn any(&self, test: impl Fn(&Client) -> bool) -> bool {
        self.clients.read().unwrap_or_else(|p| p.into_inner()).values().any(|c| test(c))
    }

    pub fn remove(&self, client_id: &str) -> Option<Client> {
        self.write().remove(client_id).map(|c| *c)
    }

    /// The client whose id and (current or still-accepted old) secret these are.
    pub fn authenticate(&self, client_id: &str, secret: &str) -> Option<Client> {
        let clients = self.read();
        let client = clients.get(client_id)?;
        let ok =
            constant_time_eq(&client.secret, secret) || client.old_secrets.iter().any(|s| constant_time_eq(s, secret));
        ok.then(|| Client::clone(client))
    }

    /// The id of the client whose registration access token this is.
    pub fn holder_of_registration_token(&self, token: &str) -> Option<String> {
        let clients = self.read();
        let holds =
            |c: &&Client| c.registration_access_token.as_deref().is_some_and(|rat| constant_time_eq(rat, token));
        clients.values().map(|c| &**c).find(holds).map(|c| c.client_id.clone())
    }

    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.read().len()
    }

    // A panic while holding the lock leaves consistent data (every change is one assignment),
    // so a poisoned lock is still usable.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Box<Client>>> {
        self.clients.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Box<Client>>> {
        self.clients.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// Compares secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kept_metadata_gives_back_what_was_registered() {
        let cases = [
            json!({}),
            json!({ "client_name": "a", "redirect_uris": ["https://a/cb"], "n": 1.5, "jwks": { "keys": [] } }),
            // A name with an escape cannot be borrowed from the text: the fields give way to the map.
            json!({ "a\"b": true, "client_name": "é\n" }),
        ];
        for case in cases {
            let Value::Object(map) = case else { unreachable!("objects") };
            let kept = Metadata::new(&map);
            assert_eq!(kept.map(), map);
            for (name, value) in &map {
                assert_eq!(kept.get(name).as_ref(), Some(value), "{name}");
            }
            assert_eq!(kept.get("absent"), None);
            let borrowable = map.keys().all(|name| !name.contains('"'));
            assert_eq!(kept.fields().is_some(), borrowable, "{map:?}");
            if let Some(fields) = kept.fields() {
                let names: Vec<&str> = fields.keys().copied().collect();
                assert_eq!(names, map.keys().map(String::as_str).collect::<Vec<_>>(), "in key order");
            }
        }
    }
}
