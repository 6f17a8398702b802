//! Signature reuse for load: a signature is valid for every request with the same signing
//! string, and a signing string holds the `Date`, which has whole seconds. The memo signs each
//! distinct signing string (so each method, target and body) once and hands the same bytes to
//! every later request that second: "per-second" signing. It never decides whether to reuse;
//! a load profile opts in, and every load report says so.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use crate::pki::keys::KeyError;
use crate::pki::Identity;

/// The signatures of the current second, by signer and signing string.
#[derive(Debug, Default)]
pub struct SignatureMemo {
    memo: Mutex<HashMap<(String, String), Vec<u8>>>,
    made: AtomicU64,
    reused: AtomicU64,
}

/// The most signatures kept: a second of distinct bodies rarely comes near, and past it the
/// memo starts again rather than grow.
const MOST_KEPT: usize = 4096;

impl SignatureMemo {
    pub fn new() -> Self {
        SignatureMemo::default()
    }

    /// The signature of `string` by `identity`: made once, then the same bytes.
    pub fn sign(&self, identity: &Identity, string: &str) -> Result<Vec<u8>, KeyError> {
        let key = (identity.name.clone(), string.to_string());
        if let Some(known) = self.lock().get(&key) {
            self.reused.fetch_add(1, Relaxed);
            return Ok(known.clone());
        }
        // Signed outside the lock: other users go on meanwhile (two may sign the same string at
        // the turn of a second; both signatures are right).
        let signature = identity.key().sign(string.as_bytes())?;
        self.made.fetch_add(1, Relaxed);
        let mut memo = self.lock();
        if memo.len() >= MOST_KEPT {
            // Older seconds' strings can never match again (their Date has passed).
            memo.clear();
        }
        memo.insert(key, signature.clone());
        Ok(signature)
    }

    /// Counts a signature sent again without asking the memo (in a request sent again whole).
    pub fn count_reuse(&self) {
        self.reused.fetch_add(1, Relaxed);
    }

    /// Signatures made, and signatures handed out again.
    pub fn counts(&self) -> (u64, u64) {
        (self.made.load(Relaxed), self.reused.load(Relaxed))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Vec<u8>>> {
        self.memo.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_signature_per_signing_string_and_signer() {
        let pki = crate::testing::test_pki();
        let (a, b) = (pki.identity("qseal").expect("qseal"), pki.identity("qseal-b").expect("qseal-b"));
        let memo = SignatureMemo::new();
        let first = memo.sign(a, "date: one").expect("signs");
        assert_eq!(memo.sign(a, "date: one").expect("signs"), first, "the same bytes again");
        assert_ne!(memo.sign(a, "date: two").expect("signs"), first, "another second, another signature");
        assert_ne!(memo.sign(b, "date: one").expect("signs"), first, "another signer");
        assert_eq!(memo.counts(), (3, 1));
        assert_eq!(first, a.key().sign(b"date: one").expect("signs"), "RSA PKCS#1 v1.5 is deterministic");
    }
}
