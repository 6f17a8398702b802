//! Software statements (RFC 7591 §2.3) as the reference server's `fapi` mode judges them: a
//! registration carries one; it is signed by a key the test directory publishes, with that
//! key's algorithm (PS256 or ES256), issued by the directory, and within its validity; its
//! claims take precedence over the request's metadata (§2.3: "MUST take precedence"), the
//! request's redirect URIs are among its `software_redirect_uris`, and the response returns it
//! unmodified (§3.2.1). Each rule has a flaw that turns it off. It reads the directory's public
//! keys from the PKI; it holds no private key.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use super::{Flaw, Refusal};
use crate::pki::jws::{self, alg_name, published_keys};
use crate::pki::Pki;

/// RFC 7591 §3.2.2: the statement is not valid.
pub const INVALID: &str = "invalid_software_statement";
/// RFC 7591 §3.2.2: the statement is not approved for use by this server.
pub const UNAPPROVED: &str = "unapproved_software_statement";

/// JWT claims about the token itself, which are no client metadata.
const TOKEN_CLAIMS: &[&str] = &["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

/// The directory the server trusts: its issuer and its published keys by key id.
pub struct Directory {
    issuer: String,
    keys: HashMap<String, (DecodingKey, Algorithm)>,
}

impl Directory {
    /// The directory of the PKI, if it has one whose JWKS can be read.
    pub fn from_pki(pki: &Pki) -> Option<Directory> {
        let entry = pki.manifest.directory.as_ref()?;
        let text = crate::files::read_to_string(&pki.dir.join(&entry.jwks), crate::files::MAX_PEM_BYTES).ok()?;
        let jwks: Value = serde_json::from_str(&text).ok()?;
        Some(Directory { issuer: entry.issuer.clone(), keys: published_keys(&jwks) })
    }
}

fn refuse(code: &'static str, text: impl Into<String>) -> Refusal {
    Refusal::bad_request(code, text)
}

/// A statement the server accepted: as sent, and its claims.
pub struct Admitted {
    statement: String,
    claims: Map<String, Value>,
}

/// Judges the statement a registration's metadata carries; none when the flaw lets a
/// registration go without one.
pub fn admit(
    directory: Option<&Directory>,
    metadata: &Map<String, Value>,
    flaw: &dyn Fn(Flaw) -> bool,
) -> Result<Option<Admitted>, Refusal> {
    let Some(statement) = metadata.get("software_statement").and_then(Value::as_str) else {
        if flaw(Flaw::StatementOptional) {
            return Ok(None);
        }
        return Err(refuse(INVALID, "a software statement from the directory is required"));
    };
    let directory = directory.ok_or_else(|| refuse(UNAPPROVED, "this server trusts no directory"))?;
    let claims = verified_claims(directory, statement, flaw)?;
    Ok(Some(Admitted { statement: statement.to_string(), claims }))
}

/// The statement's claims, once its algorithm, key, signature, issuer and validity are right
/// (as far as the flaws leave the rules on).
fn verified_claims(
    directory: &Directory,
    statement: &str,
    flaw: &dyn Fn(Flaw) -> bool,
) -> Result<Map<String, Value>, Refusal> {
    let parts = jws::parts(statement).ok_or_else(|| refuse(INVALID, "not a compact JWS (header.payload.signature)"))?;
    let (alg, kid) = (parts.alg(), parts.kid());
    let trust_unchecked = flaw(Flaw::SkipStatementSignature);
    match directory.keys.get(kid) {
        None if !trust_unchecked => return Err(refuse(UNAPPROVED, format!("no key `{kid}` in the directory's JWKS"))),
        None => {}
        Some((key, required)) => {
            let any_alg = flaw(Flaw::AcceptAnyStatementAlg);
            if !any_alg && alg != alg_name(*required) {
                return Err(refuse(INVALID, format!("alg `{alg}` where this key signs {}", alg_name(*required))));
            }
            let unsigned_accepted = any_alg && alg == "none";
            if !trust_unchecked && !unsigned_accepted {
                let used: Algorithm =
                    alg.parse().map_err(|_| refuse(INVALID, format!("alg `{alg}` is not supported")))?;
                if !jsonwebtoken::crypto::verify(parts.signature, parts.signed.as_bytes(), key, used).unwrap_or(false) {
                    return Err(refuse(INVALID, "the signature does not verify with the directory's key"));
                }
            }
        }
    }
    let claims = parts.claims;
    if !trust_unchecked && claims.get("iss").and_then(Value::as_str) != Some(directory.issuer.as_str()) {
        return Err(refuse(UNAPPROVED, format!("not issued by {}", directory.issuer)));
    }
    if !flaw(Flaw::AcceptExpiredStatement) {
        within_validity(&claims)?;
    }
    Ok(claims)
}

/// `exp` is ahead and `nbf` (or else `iat`) not, with a minute's leeway for clocks.
pub(super) fn within_validity(claims: &Map<String, Value>) -> Result<(), Refusal> {
    let now = jsonwebtoken::get_current_timestamp() as i64;
    let leeway = 60;
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or_else(|| refuse(INVALID, "no exp"))?;
    if exp + leeway < now {
        return Err(refuse(INVALID, "the software statement has expired"));
    }
    let start = claims.get("nbf").or_else(|| claims.get("iat")).and_then(Value::as_i64).unwrap_or(now);
    if start - leeway > now {
        return Err(refuse(INVALID, "the software statement is not valid yet"));
    }
    Ok(())
}

impl Admitted {
    /// A claim of the statement.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// Applies the statement to the registered metadata: the request's redirect URIs must be
    /// among the statement's, its claims replace the request's, and it is kept to be returned.
    pub fn apply_to(self, metadata: &mut Map<String, Value>, flaw: &dyn Fn(Flaw) -> bool) -> Result<(), Refusal> {
        if !flaw(Flaw::SkipStatementRedirectCheck) {
            if let Some(allowed) = self.claims.get("software_redirect_uris").and_then(Value::as_array) {
                let asked = metadata.get("redirect_uris").and_then(Value::as_array).cloned().unwrap_or_default();
                if let Some(outside) = asked.iter().find(|uri| !allowed.contains(uri)) {
                    return Err(refuse(
                        "invalid_redirect_uri",
                        format!("{outside} is not among the software statement's redirect URIs"),
                    ));
                }
            }
        }
        // RFC 7591 §2: jwks and jwks_uri never both; the statement's keys win.
        if self.claims.contains_key("jwks") && !flaw(Flaw::StatementNotPrecedent) {
            metadata.remove("jwks_uri");
        }
        for (name, value) in self.claims {
            if TOKEN_CLAIMS.contains(&name.as_str()) {
                continue;
            }
            if flaw(Flaw::StatementNotPrecedent) && metadata.contains_key(&name) {
                continue;
            }
            metadata.insert(name, value);
        }
        if flaw(Flaw::OmitStatementEcho) {
            metadata.remove("software_statement");
        } else {
            metadata.insert("software_statement".into(), Value::String(self.statement));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_has_a_minutes_leeway_and_needs_exp() {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let claims = |pairs: &[(&str, i64)]| -> Map<String, Value> {
            pairs.iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect()
        };
        type Case<'a> = (&'a [(&'a str, i64)], Option<&'a str>);
        let cases: [Case; 5] = [
            (&[("exp", now + 600), ("nbf", now)], None),
            (&[("exp", now - 30), ("iat", now - 600)], None),
            (&[("exp", now - 600)], Some("the software statement has expired")),
            (&[("exp", now + 600), ("iat", now + 600)], Some("the software statement is not valid yet")),
            (&[("iat", now)], Some("no exp")),
        ];
        for (pairs, refused) in cases {
            assert_eq!(within_validity(&claims(pairs)).err().map(|r| r.text), refused.map(str::to_string), "{pairs:?}");
        }
    }
}
