//! What the `cdr` mode (an Australian Consumer Data Right data holder) adds to the `obuk` mode
//! it shares its gateway with: one active registration per software product, `private_key_jwt`
//! alone with the metadata the Consumer Data Standards require, and management tokens carrying
//! the scope `cdr:registration`. Each rule has its flaw.

#![allow(clippy::result_large_err)]

use super::*;

/// The scope a client-credentials token must carry to manage its registration.
pub(super) const REGISTRATION_SCOPE: &str = "cdr:registration";

/// The scopes this data holder (a bank) supports; others an SSA names are ignored.
pub(super) const SUPPORTED_SCOPES: &[&str] = &[
    "openid",
    "profile",
    REGISTRATION_SCOPE,
    "bank:accounts.basic:read",
    "bank:accounts.detail:read",
    "bank:transactions:read",
    "bank:payees:read",
    "bank:regular_payments:read",
    "common:customer.basic:read",
    "common:customer.detail:read",
];

/// "Data Holders MUST ignore unsupported authorisation scopes presented in the SSA for the
/// creation and update of client registrations": the registered scope is the statement's less
/// what this data holder does not support.
pub(super) fn ssa_scope_rule(state: &State, metadata: &mut Map<String, Value>) -> Result<(), Answer> {
    if state.config.profile != ServerProfile::Cdr {
        return Ok(());
    }
    let Some(scope) = metadata.get("scope").and_then(Value::as_str).map(str::to_string) else { return Ok(()) };
    let (supported, unsupported): (Vec<&str>, Vec<&str>) =
        scope.split(' ').filter(|s| !s.is_empty()).partition(|s| SUPPORTED_SCOPES.contains(s));
    if !unsupported.is_empty() && state.config.has(Flaw::RefuseUnsupportedSsaScopes) {
        let text = format!("the SSA names scopes this data holder does not support: {}", unsupported.join(" "));
        return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_software_statement", &text));
    }
    metadata.insert("scope".into(), Value::String(supported.join(" ")));
    Ok(())
}

/// "Data Holders MUST NOT allow multiple active registrations for the same software_id": a
/// second registration of a product whose client still exists is refused (400).
pub(super) fn one_registration_per_product(state: &State, metadata: &Map<String, Value>) -> Result<(), Answer> {
    if state.config.profile != ServerProfile::Cdr || state.config.has(Flaw::AcceptDuplicateRegistration) {
        return Ok(());
    }
    let Some(product) = metadata.get("software_id").and_then(Value::as_str) else { return Ok(()) };
    // One field read from each stored client's text, not the whole map parsed.
    let registered =
        |client: &Client| client.metadata.get("software_id").as_ref().and_then(Value::as_str) == Some(product);
    if !state.store.any(registered) {
        return Ok(());
    }
    let code = match state.config.varies(Variant::DuplicateRefusedInvalidSoftwareStatement) {
        true => "invalid_software_statement",
        false => "invalid_client_metadata",
    };
    Err(oauth_error(StatusCode::BAD_REQUEST, code, "Duplicate registrations for a given software_id are not valid"))
}

/// The Consumer Data Standards' registration metadata: `token_endpoint_auth_method` is
/// `private_key_jwt` alone; `id_token_signed_response_alg` and `token_endpoint_auth_signing_alg`
/// are required.
pub(super) fn metadata_rules(state: &State, metadata: &Map<String, Value>) -> Result<(), Answer> {
    let refused = |text: &str| Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_client_metadata", text));
    let method = metadata.get("token_endpoint_auth_method").and_then(Value::as_str);
    if method != Some("private_key_jwt") && !state.config.has(Flaw::CdrAnyAuthMethod) {
        return refused("token_endpoint_auth_method must be private_key_jwt");
    }
    if !state.config.has(Flaw::CdrRequiredMetadataOptional) {
        for field in ["id_token_signed_response_alg", "token_endpoint_auth_signing_alg"] {
            if !metadata.contains_key(field) {
                return refused(&format!("{field} is required"));
            }
        }
    }
    Ok(())
}

/// Whether a management request's token may manage: in the `cdr` mode its scope includes
/// `cdr:registration` ("Data Holders MUST validate that the scope ... includes
/// cdr:registration"); elsewhere any token of the client will do.
pub(super) fn scope_allows_management(state: &State, token: &str) -> bool {
    state.config.profile != ServerProfile::Cdr
        || state.config.has(Flaw::SkipRegistrationScopeCheck)
        || facts_of(state, token)
            .and_then(|facts| facts.scope)
            .is_some_and(|scope| scope.split(' ').any(|s| s == REGISTRATION_SCOPE))
}

/// The scope a client-credentials request is granted: of what it asks, what this server knows
/// (RFC 6749 §3.3: the server may grant less than asked).
pub(super) fn granted_scope(state: &State, asked: Option<&str>) -> Option<String> {
    let known = |s: &&str| state.config.profile == ServerProfile::Cdr && *s == REGISTRATION_SCOPE;
    let granted: Vec<&str> = asked.unwrap_or_default().split(' ').filter(known).collect();
    (!granted.is_empty()).then(|| granted.join(" "))
}
