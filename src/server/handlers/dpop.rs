//! RFC 9449 at the embedded server: the DPoP proof a token request carries (checked as §4.3
//! says; required of a client that registered `dpop_bound_access_tokens`, §5.2), the key an
//! issued token is bound to (`cnf.jkt`), and what a protected resource asks of a DPoP-bound
//! token (§7.1: the `DPoP` scheme and a proof of that key; §7.2: never as a bearer). It issues no
//! token and keeps nothing.

#![allow(clippy::result_large_err)]

use super::*;
use crate::signature::dpop::{check_proof, ProofError};

/// RFC 9449 §5.2: the client metadata by which a client says it always uses DPoP.
pub(super) const DPOP_BOUND_FIELD: &str = "dpop_bound_access_tokens";

/// The algorithms the server takes DPoP proofs in (its metadata document's
/// `dpop_signing_alg_values_supported`).
pub(super) const DPOP_ALGS: &[&str] = &["ES256", "PS256"];

/// The one `DPoP` header of a request; `Err` for more than one (§4.3 check 1) or one that is
/// not text.
fn proof_header(parts: &Parts) -> Result<Option<&str>, ProofError> {
    let mut values = parts.headers.get_all("dpop").iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => value.to_str().map(Some).map_err(|_| ProofError::Malformed),
        (Some(_), Some(_)) => Err(ProofError::Malformed),
    }
}

/// The thumbprint of the key a token issued now to `client` is bound to, if any; an error
/// answer where the proof fails, or is missing and the client registered that it always uses
/// DPoP.
pub(super) fn token_binding(state: &State, parts: &Parts, client: &Client) -> Result<Option<String>, Answer> {
    let refused = |why: ProofError| oauth_error(StatusCode::BAD_REQUEST, "invalid_dpop_proof", &why.to_string());
    let required = client.metadata.get(DPOP_BOUND_FIELD) == Some(Value::Bool(true));
    let proof = match proof_header(parts).map_err(refused)? {
        Some(proof) => proof,
        // §5.2 names no error code for it; RFC 6749 §5.2's invalid_request fits a request
        // missing what it must carry.
        None if required && !state.config.has(Flaw::DpopNotRequired) => {
            return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "this client must send a DPoP proof"))
        }
        None => return Ok(None),
    };
    let url = format!("{}{TOKEN_PATH}", state.base_url);
    let jkt = match check_proof(proof, ("POST", &url), None, SystemTime::now()) {
        Ok(proven) if !nonce_taken(state, proven.nonce.as_deref()) => {
            return Err(with_nonce(state, oauth_error(StatusCode::BAD_REQUEST, NONCE_ERROR, "use this DPoP nonce")))
        }
        Ok(proven) => proven.jkt,
        Err(_) if state.config.has(Flaw::SkipDpopProofChecks) => unchecked_thumbprint(proof),
        Err(why) => return Err(refused(why)),
    };
    Ok((!state.config.has(Flaw::UnboundDpopTokens)).then_some(jkt))
}

/// §8: the error that asks for a proof with the server's nonce.
const NONCE_ERROR: &str = "use_dpop_nonce";

/// How long a nonce the server gives is taken: its minute, and the one after.
const NONCE_STEP_S: u64 = 60;

/// The nonce of the minute `step` (the `dpop-nonce-required` variant's): a hash of the
/// server's own secret and the minute, so that the server keeps no list of them.
fn nonce_of(state: &State, step: u64) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
    use sha2::Digest;
    B64URL.encode(sha2::Sha256::digest(format!("{}:{step}", state.nonce_key).as_bytes()))
}

fn minute() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() / NONCE_STEP_S)
}

/// Whether a proof's nonce is one the server takes: any (none included) unless the variant
/// asks for nonces; then this minute's or the last one's.
fn nonce_taken(state: &State, nonce: Option<&str>) -> bool {
    if !state.config.varies(Variant::DpopNonceRequired) {
        return true;
    }
    let now = minute();
    nonce.is_some_and(|nonce| [now, now.saturating_sub(1)].iter().any(|step| nonce_of(state, *step) == nonce))
}

/// The answer with this minute's nonce in a `DPoP-Nonce` header.
fn with_nonce(state: &State, mut answer: Answer) -> Answer {
    if let Ok(value) = http::HeaderValue::from_str(&nonce_of(state, minute())) {
        answer.headers_mut().insert("dpop-nonce", value);
    }
    answer
}

/// The thumbprint of the `jwk` a proof's header carries, nothing checked (the flaw's way).
fn unchecked_thumbprint(proof: &str) -> String {
    let jwk = crate::pki::jws::parts(proof).and_then(|parts| parts.header.get("jwk").cloned());
    jwk.and_then(|jwk| crate::signature::dpop::jwk_thumbprint(&jwk)).unwrap_or_default()
}

/// How a resource request presented its token: `Authorization: Bearer` or `Authorization: DPoP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scheme {
    Bearer,
    Dpop,
}

/// The access token of a resource request, with the scheme it came under.
pub(super) fn presented_token(headers: &HeaderMap) -> Option<(Scheme, &str)> {
    if let Some(token) = bearer(headers) {
        return Some((Scheme::Bearer, token));
    }
    let value = header(headers, "authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("dpop").then_some((Scheme::Dpop, token.trim()))
}

/// §7.1, §7.2: a token bound to the key `jkt` is taken only under the `DPoP` scheme, with a
/// proof of that key for this request and this token; a token bound to no key is no `DPoP` one.
pub(super) fn check_at_resource(
    state: &State,
    parts: &Parts,
    (scheme, token): (Scheme, &str),
    jkt: Option<&str>,
) -> Result<(), Answer> {
    if state.config.has(Flaw::ResourceSkipsDpop) {
        return Ok(());
    }
    let jkt = match (scheme, jkt) {
        (Scheme::Bearer, None) => return Ok(()),
        (Scheme::Dpop, None) => {
            return Err(dpop_challenge("invalid_token", "this access token is bound to no DPoP key"))
        }
        (Scheme::Bearer, Some(_)) => {
            return Err(dpop_challenge("invalid_token", "a DPoP-bound token is not taken as a bearer token"))
        }
        (Scheme::Dpop, Some(jkt)) => jkt,
    };
    let url = format!("{}{RESOURCE_PATH}", state.base_url);
    let proof =
        proof_header(parts).ok().flatten().ok_or_else(|| dpop_challenge("invalid_dpop_proof", "no DPoP proof"))?;
    let proven = check_proof(proof, ("GET", &url), Some(token), SystemTime::now())
        .map_err(|why| dpop_challenge("invalid_dpop_proof", &why.to_string()))?;
    if !nonce_taken(state, proven.nonce.as_deref()) {
        return Err(with_nonce(state, dpop_challenge(NONCE_ERROR, "use this DPoP nonce")));
    }
    match proven.jkt == jkt {
        true => Ok(()),
        false => Err(dpop_challenge("invalid_token", "the DPoP proof is made with another key than the token's")),
    }
}

/// §7.1: 401 with a `DPoP` challenge naming the error and the algorithms taken.
fn dpop_challenge(error: &str, description: &str) -> Answer {
    let mut answer = oauth_error(StatusCode::UNAUTHORIZED, error, description);
    let challenge = format!("DPoP error=\"{error}\", algs=\"{}\"", DPOP_ALGS.join(" "));
    if let Ok(value) = http::HeaderValue::from_str(&challenge) {
        answer.headers_mut().insert(http::header::WWW_AUTHENTICATE, value);
    }
    answer
}
