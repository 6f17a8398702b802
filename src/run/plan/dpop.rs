//! How a planned token or resource request proves possession of the session's DPoP key (RFC
//! 9449): a `DPoP` header with a proof for this request's method and URI (and the last nonce the
//! server gave, §8), and at a resource the access token under the `DPoP` scheme with its hash in
//! the proof. It must not send anything.

use std::time::SystemTime;

use super::PlanError;
use crate::scenario::{DpopKeyChoice, Operation, RequestSpec};
use crate::signature::dpop::{DpopError, DpopKey, ProofOf};
use crate::signature::{Message, Mutation};

/// A session's two DPoP keys: its own, and another (the key a thief of its token would hold);
/// and the last nonce the server gave in a `DPoP-Nonce` header (RFC 9449 §8), which its proofs
/// carry from then on.
#[derive(Debug)]
pub struct DpopKeys {
    pub own: DpopKey,
    pub other: DpopKey,
    nonce: std::sync::Mutex<Option<String>>,
}

/// The longest nonce taken from a server: a server's nonce is opaque, not unbounded.
const MAX_NONCE: usize = 1024;

impl DpopKeys {
    pub fn generate() -> Result<DpopKeys, DpopError> {
        Ok(DpopKeys { own: DpopKey::generate()?, other: DpopKey::generate()?, nonce: Default::default() })
    }

    /// Takes the nonce an answer's `DPoP-Nonce` header gives; whether it is a new one.
    pub fn learn_nonce(&self, given: Option<&str>) -> bool {
        let Some(given) = given.map(str::trim).filter(|n| !n.is_empty() && n.len() <= MAX_NONCE) else {
            return false;
        };
        let mut nonce = self.nonce.lock().unwrap_or_else(|p| p.into_inner());
        let new = nonce.as_deref() != Some(given);
        *nonce = Some(given.to_string());
        new
    }

    fn nonce(&self) -> Option<String> {
        self.nonce.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The scheme an access token goes under at a resource: `DPoP` where the step proves a key.
pub(super) fn token_scheme(r: &RequestSpec) -> &'static str {
    match r.dpop {
        Some(_) => "DPoP",
        None => "Bearer",
    }
}

/// Adds the step's DPoP proof to `msg` (its method and URI as they stand, and at a resource the
/// hash of `access_token`), broken as a `dpop-*` mutation says.
pub(super) fn add_proof(
    msg: &mut Message,
    r: &RequestSpec,
    keys: Option<&DpopKeys>,
    access_token: Option<&str>,
    (now, mutation): (SystemTime, Option<Mutation>),
) -> Result<(), PlanError> {
    let Some(choice) = r.dpop else { return Ok(()) };
    if !matches!(r.op, Operation::Token | Operation::Resource) {
        return Err(PlanError::DpopOnlyForTokens { op: r.op.name() });
    }
    let keys = keys.ok_or(PlanError::NoDpopKey)?;
    let (key, other) = match choice {
        DpopKeyChoice::Own => (&keys.own, &keys.other),
        DpopKeyChoice::Other => (&keys.other, &keys.own),
    };
    let (uri, nonce) = (msg.target_uri(), keys.nonce());
    let of = ProofOf { access_token, nonce: nonce.as_deref(), ..ProofOf::request(&msg.method, &uri) };
    let proof = key.proof(&of, now, mutation.filter(|m| m.bends_dpop_proof()), other)?;
    msg.add_header("DPoP", &proof);
    Ok(())
}
