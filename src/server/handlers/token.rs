//! The token endpoint: client credentials by the method a client registered (secret, TLS
//! certificate, `private_key_jwt`), and the DCR-service bearer tokens; a bounded store of the
//! tokens it issued.

#![allow(clippy::result_large_err)]

use super::*;

// ---- token endpoint -----------------------------------------------------------------------

/// How many access tokens (of clients, and of the DCR service) the server keeps before it
/// forgets expired ones.
pub(super) const MAX_CLIENT_TOKENS: usize = 100_000;

/// RFC 6749 client-credentials grant, for the DCR service's own credentials (a bearer token for
/// `--dcr-auth bearer`) and for registered clients (which is how a suite proves a secret works).
pub(super) async fn token(state: &State, peer: &Peer, parts: &Parts, body: &Bytes) -> Answer {
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if field("grant_type").as_deref() != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "only client_credentials is offered");
    }
    let Some(proof) = Proof::of(basic_credentials(&parts.headers), &field) else {
        return invalid_client("client authentication is required");
    };
    let token = generate_token("at-", 32);
    let expires = SystemTime::now() + Duration::from_secs(3600);
    if let Proof::Secret { id, secret, .. } = &proof {
        if let Some(org) = tpp_by_credentials(state, id, secret) {
            keep_token(&state.tokens, &token, (org, expires), |_| true);
            return token_answer(&token);
        }
    }
    let client = match authenticate_client(state, peer, &proof).await {
        Ok(client) => client,
        Err(why) => return invalid_client(&why.to_string()),
    };
    let granted = || {
        let grants = client.metadata.get("grant_types");
        let grants = grants.as_ref().and_then(Value::as_array);
        grants.is_some_and(|grants| grants.iter().any(|g| g.as_str() == Some("client_credentials")))
    };
    if state.config.varies(Variant::GrantTypesEnforced) && !granted() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "this client was not registered for the client_credentials grant",
        );
    }
    let bound_to = match binding_for(state, peer, &client) {
        Ok(binding) => binding,
        Err(answer) => return answer,
    };
    let dpop_jkt = match super::dpop::token_binding(state, parts, &client) {
        Ok(jkt) => jkt,
        Err(answer) => return answer,
    };
    let scope = super::cdr::granted_scope(state, field("scope").as_deref());
    // A deleted client's tokens can go too.
    keep_token(&state.client_tokens, &token, (client.client_id.clone(), expires), |holder| {
        state.store.get(holder).is_some()
    });
    let facts = TokenFacts { bound_to, dpop_jkt, scope };
    let answer = token_answer_with(&token, &facts);
    if facts != TokenFacts::default() {
        keep_facts(state, &token, facts);
    }
    answer
}

/// Keeps an issued token with its holder and expiry. Bounded under load: past the bound, the
/// expired ones go, and those whose holder `still_counts` says no longer does.
pub(super) fn keep_token(
    tokens: &std::sync::Mutex<std::collections::HashMap<String, (String, SystemTime)>>,
    token: &str,
    held: (String, SystemTime),
    still_counts: impl Fn(&str) -> bool,
) {
    let mut tokens = tokens.lock().unwrap_or_else(|p| p.into_inner());
    if tokens.len() >= MAX_CLIENT_TOKENS {
        let now = SystemTime::now();
        tokens.retain(|_, (holder, until)| *until > now && still_counts(holder));
    }
    tokens.insert(token.to_string(), held);
}

pub(super) fn token_answer(token: &str) -> Answer {
    token_answer_with(token, &TokenFacts::default())
}

fn token_answer_with(token: &str, facts: &TokenFacts) -> Answer {
    let mut body = json!({ "access_token": token, "token_type": facts.token_type(), "expires_in": 3600 });
    if let Some(scope) = &facts.scope {
        body["scope"] = json!(scope);
    }
    no_store(json(StatusCode::OK, &body))
}

/// What is known of an issued client token beyond its holder and expiry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFacts {
    /// RFC 8705 §3.1: the thumbprint of the certificate it is bound to.
    pub bound_to: Option<String>,
    /// RFC 9449 §6: the JWK thumbprint of the DPoP key it is bound to.
    pub dpop_jkt: Option<String>,
    /// The scope granted (RFC 6749 §3.3).
    pub scope: Option<String>,
}

impl TokenFacts {
    /// RFC 9449 §5: `DPoP` for a DPoP-bound token, else `Bearer`.
    pub fn token_type(&self) -> &'static str {
        match self.dpop_jkt {
            Some(_) => "DPoP",
            None => "Bearer",
        }
    }
}

/// Keeps what is known of a token; past the bound, the facts of forgotten tokens go.
pub(super) fn keep_facts(state: &State, token: &str, facts: TokenFacts) {
    let mut known = state.token_facts.lock().unwrap_or_else(|p| p.into_inner());
    if known.len() >= MAX_CLIENT_TOKENS {
        let issued = state.client_tokens.lock().unwrap_or_else(|p| p.into_inner());
        known.retain(|token, _| issued.contains_key(token));
    }
    known.insert(token.to_string(), facts);
}

pub(super) fn facts_of(state: &State, token: &str) -> Option<TokenFacts> {
    state.token_facts.lock().unwrap_or_else(|p| p.into_inner()).get(token).cloned()
}

/// Why a token request's client is not taken (the text of the `invalid_client` answer).
#[derive(Debug, thiserror::Error)]
pub(super) enum Unauthenticated {
    #[error("unknown client or wrong credentials")]
    Unknown,
    #[error("this client authenticates with {registered}, not {used}")]
    OtherMethod { registered: String, used: &'static str },
    #[error("a client certificate is required")]
    NoCertificate,
    #[error("{0}")]
    Unreadable(#[source] crate::pki::inspect::CertParseError),
    #[error("{0}")]
    Certificate(String),
    #[error("{0}")]
    Rule(#[source] client_auth::ClientAuthError),
    #[error("{0}")]
    Keys(#[source] client_auth::JwksError),
}

/// The registered client a token request proves itself as, with the method it registered.
pub(super) async fn authenticate_client(state: &State, peer: &Peer, proof: &Proof) -> Result<Client, Unauthenticated> {
    let client = state.store.get(proof.client_id()).ok_or(Unauthenticated::Unknown)?;
    let metadata = client.metadata.map();
    let registered = client_auth::registered_method(&metadata).to_string();
    let secret_allowed = state.config.has(Flaw::TokenAuthMethodNotEnforced) && matches!(proof, Proof::Secret { .. });
    if !proof.is_method(&registered) && !secret_allowed {
        return Err(Unauthenticated::OtherMethod { registered, used: proof.method() });
    }
    let flaws = flaw(state);
    match proof {
        Proof::Secret { id, secret, .. } => state.store.authenticate(id, secret).ok_or(Unauthenticated::Unknown),
        Proof::Certificate { .. } if registered == "self_signed_tls_client_auth" => {
            let leaf = peer.chain.first().ok_or(Unauthenticated::NoCertificate)?;
            let leaf = crate::pki::CertInfo::from_der(leaf).map_err(Unauthenticated::Unreadable)?;
            client_auth::check_key_in_jwks(&metadata, &leaf, &flaws).map_err(Unauthenticated::Rule)?;
            Ok(client)
        }
        Proof::Certificate { .. } => {
            let leaf = check_qwac_chain(&state.trust, &peer.chain, SystemTime::now(), &flaws)
                .map_err(|p| Unauthenticated::Certificate(p.text()))?;
            client_auth::check_subject(&metadata, &leaf, &flaws).map_err(Unauthenticated::Rule)?;
            Ok(client)
        }
        Proof::Assertion { id, jws } => {
            let endpoint = format!("{}{TOKEN_PATH}", state.base_url);
            let audiences = [state.base_url.as_str(), endpoint.as_str()];
            let kid = crate::pki::jws::parts(jws).map(|parts| parts.kid().to_string()).unwrap_or_default();
            let keeping = super::super::key_cache::Keeping {
                cache: !state.config.varies(Variant::JwksNeverCached),
                reread_on_unknown_kid: !state.config.varies(Variant::JwksRereadOnlyWhenStale),
                forever: flaws(Flaw::JwksKeptForever),
                keep_retired: flaws(Flaw::RetiredKeyAccepted),
            };
            let (jwks, unread) = match state.keys.keys(&state.fetcher, &metadata, &kid, keeping).await {
                Ok(jwks) => (jwks, false),
                Err(_) if flaws(Flaw::AcceptUnreadableJwksUri) => (Value::Null, true),
                Err(why) => return Err(Unauthenticated::Keys(why)),
            };
            // With the flaw, keys that could not be read are not asked for.
            let rules = |f: Flaw| flaws(f) || (unread && f == Flaw::SkipClientAssertionSignature);
            client_auth::check_assertion(id, &jwks, jws, &audiences, &state.seen_assertions, &rules)
                .map_err(Unauthenticated::Rule)?;
            Ok(client)
        }
    }
}
