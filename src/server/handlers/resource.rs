//! What a protected resource and its authorization server do with a client's access token:
//! RFC 7662 introspection (the token's client, expiry and, for a certificate-bound token, its
//! `cnf`), and a protected resource that takes the token as a bearer and, for a bound token,
//! only over the certificate it is bound to (RFC 8705 §3).

#![allow(clippy::result_large_err)]

use super::*;

pub(super) const INTROSPECT_PATH: &str = "/oauth/introspect";
pub(super) const RESOURCE_PATH: &str = "/resource/v1/whoami";

/// RFC 8705 §3.4: the client metadata by which a client asks for certificate-bound tokens.
pub(super) const BOUND_TOKENS_FIELD: &str = "tls_client_certificate_bound_access_tokens";

/// The thumbprint a token issued now to `client` over this connection is bound to, if any;
/// an error answer where a bound token is asked for without a certificate to bind it to.
pub(super) fn binding_for(state: &State, peer: &Peer, client: &Client) -> Result<Option<String>, Answer> {
    let asked = client.metadata.get(BOUND_TOKENS_FIELD) == Some(Value::Bool(true));
    let leaf = peer.chain.first();
    if state.config.has(Flaw::UnboundAccessTokens) {
        return Ok(None);
    }
    match (asked, leaf) {
        (true, None) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "a certificate-bound token needs the client's certificate on the connection",
        )),
        (true, Some(leaf)) => Ok(Some(crate::pki::inspect::thumbprint_s256(leaf))),
        (false, Some(leaf)) if state.config.varies(Variant::EveryTokenBound) => {
            Ok(Some(crate::pki::inspect::thumbprint_s256(leaf)))
        }
        (false, _) => Ok(None),
    }
}

/// RFC 7662 §2: the caller proves itself as a registered client (as at the token endpoint); a
/// token it may not see, or that is not active, is `{"active": false}` (§2.2).
pub(super) async fn introspect(state: &State, peer: &Peer, parts: &Parts, body: &Bytes) -> Answer {
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let Some(proof) = Proof::of(basic_credentials(&parts.headers), &field) else {
        return invalid_client("client authentication is required");
    };
    let caller = match authenticate_client(state, peer, &proof).await {
        Ok(client) => client,
        Err(why) => return invalid_client(&why.to_string()),
    };
    let Some(token) = field("token") else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "the token to introspect is missing");
    };
    let held = {
        let tokens = state.client_tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.get(&token).cloned()
    };
    let now = SystemTime::now();
    let answer = match held {
        Some((holder, expires)) if holder == caller.client_id && expires > now => {
            let exp = expires.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            let facts = facts_of(state, &token).unwrap_or_default();
            let mut answer =
                json!({ "active": true, "client_id": holder, "token_type": facts.token_type(), "exp": exp });
            if let Some(thumbprint) = facts.bound_to {
                answer["cnf"]["x5t#S256"] = json!(thumbprint);
            }
            if let Some(jkt) = facts.dpop_jkt {
                answer["cnf"]["jkt"] = json!(jkt);
            }
            answer
        }
        _ => json!({ "active": false }),
    };
    no_store(json(StatusCode::OK, &answer))
}

/// The protected resource: an active token of a client that still exists, and for a bound
/// token the certificate it is bound to (RFC 8705 §3: otherwise 401 `invalid_token`).
pub(super) fn resource(state: &State, peer: &Peer, parts: &Parts) -> Answer {
    let Some((scheme, token)) = super::dpop::presented_token(&parts.headers) else {
        return invalid_token("an access token is required");
    };
    let Some(holder) = client_of_token(state, token).filter(|holder| state.store.get(holder).is_some()) else {
        return invalid_token("the access token is not active");
    };
    let facts = facts_of(state, token).unwrap_or_default();
    if let Some(bound_to) = &facts.bound_to {
        let presented = peer.chain.first().map(|leaf| crate::pki::inspect::thumbprint_s256(leaf));
        if presented.as_deref() != Some(bound_to.as_str()) && !state.config.has(Flaw::ResourceSkipsBinding) {
            return invalid_token("the access token is bound to another certificate than this connection's");
        }
    }
    if let Err(answer) = super::dpop::check_at_resource(state, parts, (scheme, token), facts.dpop_jkt.as_deref()) {
        return answer;
    }
    json(StatusCode::OK, &json!({ "client_id": holder }))
}
