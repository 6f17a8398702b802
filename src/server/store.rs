//! The reference server's client store: in memory, safe under concurrent requests. Each client
//! belongs to one owner (a TPP's organizationIdentifier, or the registration access token's
//! holder in the plain profile); ownership checks are the handlers', not the store's.

use std::collections::HashMap;
use std::sync::RwLock;

use serde_json::{Map, Value};

/// A registered client.
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub owner: String,
    pub metadata: Map<String, Value>,
    pub secret: String,
    /// Secrets that still authenticate (only with the `refresh-keeps-old-secret` flaw).
    pub old_secrets: Vec<String>,
    pub issued_at: u64,
    pub secret_expires_at: u64,
    pub registration_access_token: Option<String>,
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
