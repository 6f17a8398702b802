//! The RFC 7591/7592 lifecycle every family shares once its gateway let a request through:
//! register, read, update, delete and refresh a secret, with the metadata rules, the
//! registration access token's rotation, and the flaws and variants that bend them.

#![allow(clippy::result_large_err)]

use super::*;

// ---- the lifecycle, shared by all profiles -------------------------------------------------

pub(super) fn lifecycle(state: &State, parts: &Parts, body: &Bytes, route: Route, owner: &str) -> Answer {
    match (route, &parts.method) {
        (Route::Register, _) => register(state, parts, body, owner),
        (Route::Client(id), &Method::GET) => with_client(state, &id, owner, Flaw::CrossTppRead, |c| {
            let c = match state.config.varies(Variant::RatRotatedOnUse) {
                true => state.store.update(&c.client_id, rotate_registration_token).unwrap_or(c),
                false => c,
            };
            secret_answer(state, StatusCode::OK, &c)
        }),
        (Route::Client(id), &Method::PUT) => {
            with_client(state, &id, owner, Flaw::CrossTppUpdate, |c| update(state, parts, body, c))
        }
        (Route::Client(id), &Method::DELETE) => with_client(state, &id, owner, Flaw::CrossTppDelete, |c| {
            if !state.config.has(Flaw::DeleteKeepsClient) {
                state.store.remove(&c.client_id);
            }
            empty(StatusCode::NO_CONTENT)
        }),
        (Route::RefreshSecret(id), _) => with_client(state, &id, owner, Flaw::CrossTppRefresh, |c| refresh(state, c)),
        _ => oauth_error(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", "method not allowed here"),
    }
}

/// Runs `then` on the client if `owner` may touch it. An unknown client and another owner's
/// client get the same answer, so that client ids cannot be probed.
pub(super) fn with_client(
    state: &State,
    id: &str,
    owner: &str,
    cross: Flaw,
    then: impl FnOnce(Client) -> Answer,
) -> Answer {
    let not_found = || match state.config.has(Flaw::UnknownClientNot404) {
        true => tpp_message(StatusCode::UNAUTHORIZED, "RESOURCE_UNKNOWN", "no client with this id for this TPP"),
        false => tpp_message(StatusCode::NOT_FOUND, "RESOURCE_UNKNOWN", "no client with this id"),
    };
    match state.store.get(id) {
        None => not_found(),
        Some(client) if client.owner == owner || state.config.has(cross) => then(client),
        Some(_) if state.config.has(Flaw::LeakExistence) => {
            tpp_message(StatusCode::FORBIDDEN, "RESOURCE_BLOCKED", "this client belongs to another TPP")
        }
        Some(_) => not_found(),
    }
}

pub(super) fn json_content_type(state: &State, parts: &Parts) -> Result<(), Answer> {
    let ok = header(&parts.headers, "content-type")
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if ok || state.config.has(Flaw::AcceptWrongContentType) {
        Ok(())
    } else {
        Err(oauth_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request", "the body must be application/json"))
    }
}

pub(super) fn metadata_answer(error: MetadataError) -> Answer {
    oauth_error(StatusCode::BAD_REQUEST, error.code, &error.description)
}

pub(super) fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs()
}

pub(super) fn new_secret() -> String {
    generate_token("", 32)
}

pub(super) fn new_registration_token() -> String {
    generate_token("rat-", 32)
}

/// Issues the client a new registration access token (if it has one: the plain profile's).
/// RFC 7592 §2.1: a token presented where it does not belong "SHOULD be immediately revoked";
/// its client keeps no token that works.
pub(super) fn revoke_registration_token_of(state: &State, token: &str) {
    if let Some(holder) = state.store.holder_of_registration_token(token) {
        state.store.update(&holder, |c| c.registration_access_token = Some(new_registration_token()));
    }
}

pub(super) fn rotate_registration_token(c: &mut Client) {
    if c.registration_access_token.is_some() {
        c.registration_access_token = Some(new_registration_token());
    }
}

/// RFC 7591 §2 validation of parsed metadata, refusing or (with the variant) substituting what
/// is invalid.
pub(super) fn validate_metadata(
    state: &State,
    requested: Map<String, Value>,
) -> Result<Map<String, Value>, MetadataError> {
    let mut metadata = match state.config.varies(Variant::MetadataSubstituted) {
        true => metadata::validate_object_substituting(requested, &flaw(state)),
        false => metadata::validate_object(requested, &flaw(state)),
    }?;
    if !state.config.varies(Variant::EncryptionDefaultImplicit) {
        crate::server::oidc_metadata::fill_default_enc(&mut metadata, &flaw(state));
    }
    Ok(metadata)
}

/// The metadata a registration (or update) asks for, as the server's mode reads its body: JSON,
/// with a software statement in the `fapi` mode's registrations; a signed request object
/// carrying one in the `obuk` mode.
pub(super) fn requested_metadata(
    state: &State,
    parts: &Parts,
    body: &Bytes,
    updated: Option<&Client>,
) -> Result<Map<String, Value>, Answer> {
    let registering = updated.is_none();
    let profile = state.config.profile;
    let sends_request_object = crate::server::request_object::is_request_object(header(&parts.headers, "content-type"));
    // With the flaw, the obuk mode takes a JSON body as the fapi mode does.
    let json_let_through = state.config.has(Flaw::AcceptJsonRegistration) && !sends_request_object;
    let signed = profile.takes_request_objects() && !json_let_through;
    if !signed {
        json_content_type(state, parts)?;
        let mut metadata = metadata::parse(body).and_then(|m| validate_metadata(state, m)).map_err(metadata_answer)?;
        // The fapi mode judges a statement an update carries too (and requires one only at
        // registration).
        let carries = metadata.contains_key("software_statement");
        if profile == ServerProfile::Fapi && (registering || carries) || profile.takes_request_objects() {
            // The body is well-formed metadata first (its own error codes), then the statement.
            crate::server::statement::admit(state.directory.as_ref(), &metadata, &flaw(state))
                .and_then(|admitted| admitted.map_or(Ok(()), |a| a.apply_to(&mut metadata, &flaw(state))))
                .map_err(|refusal| statement_answer(state, refusal))?;
        }
        return Ok(metadata);
    }
    if !sends_request_object {
        let text = format!(
            "the body must be a signed request object ({})",
            crate::server::request_object::MEDIA_TYPES.join(" or ")
        );
        return Err(oauth_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request", &text));
    }
    let registered_keys = updated.and_then(|client| client.metadata.get("jwks"));
    let keys = crate::server::request_object::OtherKeys {
        registered: registered_keys.as_ref(),
        read_at: &|uri| state.keys.kept(uri),
    };
    let (claims, admitted) =
        crate::server::request_object::open(state.directory.as_ref(), body, &state.base_url, &keys, &flaw(state))
            .map_err(|refusal| statement_answer(state, refusal))?;
    let mut metadata = validate_metadata(state, claims).map_err(metadata_answer)?;
    obuk_metadata_rules(state, &metadata)?;
    if profile == ServerProfile::Cdr {
        super::cdr::metadata_rules(state, &metadata)?;
    }
    if let Some(admitted) = admitted {
        admitted.apply_to(&mut metadata, &flaw(state)).map_err(|refusal| statement_answer(state, refusal))?;
    }
    super::cdr::ssa_scope_rule(state, &mut metadata)?;
    Ok(metadata)
}

/// A refused statement or request object: 400 with its code, which the variant may read as
/// unapproved.
pub(super) fn statement_answer(state: &State, refusal: Refusal) -> Answer {
    let code = match state.config.varies(Variant::StatementRefusalsUnapproved) {
        true if refusal.code == crate::server::statement::INVALID => crate::server::statement::UNAPPROVED,
        _ => refusal.code,
    };
    oauth_error(StatusCode::BAD_REQUEST, code, &refusal.text)
}

pub(super) fn register(state: &State, parts: &Parts, body: &Bytes, owner: &str) -> Answer {
    let metadata = match requested_metadata(state, parts, body, None) {
        Ok(metadata) => metadata,
        Err(answer) => return answer,
    };
    if let Err(answer) = sector_rule(state, &metadata) {
        return answer;
    }
    if let Err(answer) = super::cdr::one_registration_per_product(state, &metadata) {
        return answer;
    }
    let metadata = widened(state, metadata);
    let owned_by_itself = state.config.profile != ServerProfile::Smbc;
    let client_id = generate_token("", 16);
    let issued_at = now_secs();
    let client = Client {
        owner: if owned_by_itself { client_id.clone() } else { owner.to_string() },
        client_id,
        metadata: Metadata::new(&strip_server_fields(metadata)),
        secret: new_secret(),
        old_secrets: vec![],
        issued_at,
        secret_expires_at: issued_at + state.config.secret_lifetime.as_secs(),
        registration_access_token: state.config.profile.manages_by_registration_token().then(new_registration_token),
    };
    state.store.insert(client.clone());
    if !owned_by_itself {
        state.stats.registered_by(owner);
    }
    secret_answer(state, StatusCode::CREATED, &client)
}

/// The `widen-scope` flaw: a scope asked for is registered with one more value than asked.
fn widened(state: &State, mut metadata: Map<String, Value>) -> Map<String, Value> {
    if let (true, Some(Value::String(scope))) = (state.config.has(Flaw::WidenScope), metadata.get_mut("scope")) {
        scope.push_str(" admin");
    }
    metadata
}

/// Fields the server sets; a client cannot choose them.
pub(super) fn strip_server_fields(mut metadata: Map<String, Value>) -> Map<String, Value> {
    for (field, _) in SERVER_FIELDS {
        metadata.remove(*field);
    }
    metadata
}

/// What RFC 7592 §2.2 says of a server-set field in an update request.
#[derive(PartialEq, Eq)]
pub(super) enum InUpdate {
    /// `client_id`: MUST be sent, and match.
    MustMatch,
    /// `client_secret`: MAY be sent; if it is, it must match.
    MayMatch,
    /// MUST NOT be sent.
    Forbidden,
}

/// The fields the server sets, and what an update may say of each.
pub(super) const SERVER_FIELDS: &[(&str, InUpdate)] = &[
    ("client_id", InUpdate::MustMatch),
    ("client_secret", InUpdate::MayMatch),
    ("client_id_issued_at", InUpdate::Forbidden),
    ("client_secret_expires_at", InUpdate::Forbidden),
    ("registration_access_token", InUpdate::Forbidden),
    ("registration_client_uri", InUpdate::Forbidden),
];

pub(super) fn update(state: &State, parts: &Parts, body: &Bytes, client: Client) -> Answer {
    let metadata = match requested_metadata(state, parts, body, Some(&client)) {
        Ok(metadata) => metadata,
        Err(answer) => return answer,
    };
    if let Err(answer) = sector_rule(state, &metadata) {
        return answer;
    }
    // RFC 7592 §2.2: client_id must be there and match; server-set fields must not be sent. The
    // text puts these MUSTs on the client and names no error, so any client error code will do.
    let refused = match state.config.varies(Variant::InvalidRequestForClientErrors) {
        true => "invalid_request",
        false => "invalid_client_metadata",
    };
    if !state.config.varies(Variant::ClientIdInUpdateReplaced)
        && metadata.get("client_id").and_then(Value::as_str) != Some(client.client_id.as_str())
    {
        return oauth_error(StatusCode::BAD_REQUEST, refused, "client_id must be sent and match the client");
    }
    // With substitution the server ignores them "just as any other value" (RFC 7592 §2.2).
    let ignores_server_fields = state.config.varies(Variant::MetadataSubstituted);
    for (field, _) in SERVER_FIELDS.iter().filter(|(_, rule)| *rule == InUpdate::Forbidden) {
        if metadata.contains_key(*field) && !ignores_server_fields {
            return oauth_error(StatusCode::BAD_REQUEST, refused, &format!("`{field}` must not be sent in an update"));
        }
    }
    // A statement for another software is no rotation of this client's (its software_id is
    // the product the client was registered for).
    let software = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let (now, before) = (software(metadata.get("software_id")), software(client.metadata.get("software_id").as_ref()));
    let rotated = state.config.profile.judges_statements() && metadata.contains_key("software_statement");
    if rotated && now.is_some() && now != before && !state.config.has(Flaw::StatementSwapOnUpdate) {
        let text = "the update's software statement is for another software than the client's";
        return oauth_error(StatusCode::BAD_REQUEST, crate::server::statement::INVALID, text);
    }
    if let Some(secret) = metadata.get("client_secret").and_then(Value::as_str) {
        if !constant_time_eq(secret, &client.secret) {
            return oauth_error(StatusCode::BAD_REQUEST, refused, "client_secret does not match the current one");
        }
    }
    let new_secret_too = state.config.varies(Variant::SecretRotatedOnUpdate);
    let new_token_too =
        state.config.varies(Variant::RatRotatedOnUpdate) || state.config.varies(Variant::RatRotatedOnUse);
    let augments = state.config.has(Flaw::UpdateAugmentsMetadata);
    let updated = state.store.update(&client.client_id, |c| {
        let sent = strip_server_fields(metadata);
        c.metadata = match augments {
            true => Metadata::new(&augmented(c.metadata.map(), sent)),
            false => Metadata::new(&sent),
        };
        if new_secret_too {
            c.secret = new_secret();
        }
        if new_token_too {
            rotate_registration_token(c);
        }
    });
    match updated {
        Some(c) => secret_answer(state, StatusCode::OK, &c),
        None => tpp_message(StatusCode::NOT_FOUND, "RESOURCE_UNKNOWN", "no client with this id"),
    }
}

/// The `update-augments-metadata` flaw: an update merged into the registration (lists joined,
/// fields left out kept) where RFC 7592 §2.2 says its values "MUST replace, not augment" them.
fn augmented(mut registered: Map<String, Value>, sent: Map<String, Value>) -> Map<String, Value> {
    for (field, value) in sent {
        let joined = match (registered.remove(&field), value) {
            (Some(Value::Array(mut old)), Value::Array(new)) => {
                old.extend(new.into_iter().filter(|v| !old.contains(v)).collect::<Vec<_>>());
                Value::Array(old)
            }
            (_, value) => value,
        };
        registered.insert(field, joined);
    }
    registered
}

pub(super) fn refresh(state: &State, client: Client) -> Answer {
    let keep_old = state.config.has(Flaw::RefreshKeepsOldSecret);
    let lifetime = state.config.secret_lifetime.as_secs();
    let refreshed = state.store.update(&client.client_id, |c| {
        let old = std::mem::replace(&mut c.secret, new_secret());
        if keep_old {
            c.old_secrets.push(old);
        }
        c.secret_expires_at = now_secs() + lifetime;
    });
    match refreshed {
        Some(c) => secret_answer(state, StatusCode::OK, &c),
        None => tpp_message(StatusCode::NOT_FOUND, "RESOURCE_UNKNOWN", "no client with this id"),
    }
}

/// The client information response (RFC 7591 §3.2.1, RFC 7592 §3), which carries the secret.
pub(super) fn secret_answer(state: &State, status: StatusCode, client: &Client) -> Answer {
    let mut added = vec![
        ("client_id", Value::from(client.client_id.clone())),
        ("client_secret", Value::from(client.secret.clone())),
        ("client_id_issued_at", Value::from(client.issued_at)),
    ];
    if !state.config.has(Flaw::OmitSecretExpiry) {
        // With the flaw, the secret is said to have expired an hour before it was issued.
        let expires = match state.config.has(Flaw::IssueExpiredSecret) {
            true => client.issued_at.saturating_sub(3600),
            false => client.secret_expires_at,
        };
        added.push(("client_secret_expires_at", Value::from(expires)));
    }
    if let Some(rat) = &client.registration_access_token {
        added.push(("registration_access_token", Value::from(rat.clone())));
        added.push(("registration_client_uri", Value::from(client_uri(state, &client.client_id))));
    }
    // The stored fields are written back as they are, unless a name cannot be borrowed.
    let answer = match client.metadata.fields() {
        Some(fields) => json(status, &Merged { base: &fields, added }),
        None => json(status, &Merged { base: &client.metadata.map(), added }),
    };
    if state.config.has(Flaw::OmitNoStore) {
        answer
    } else {
        no_store(answer)
    }
}

/// The configuration endpoint of a client, as the server hands it out (RFC 7592 §3).
pub(super) fn client_uri(state: &State, client_id: &str) -> String {
    match state.config.varies(Variant::OpaqueClientUri) {
        true => {
            format!("{}{REGISTER_PATH}/{client_id}?{OPAQUE_QUERY}", state.base_url.replace("127.0.0.1", "localhost"))
        }
        false => format!("{}{REGISTER_PATH}/{client_id}", state.base_url),
    }
}

/// The query the `opaque-client-uri` variant's client URIs carry and require.
pub(super) const OPAQUE_QUERY: &str = "v=2";

/// The algorithms Open Banking UK allows for request objects and client assertions.
pub(super) const OBUK_SIGNING_ALGS: &[&str] = &["PS256", "ES256"];
/// The response types Open Banking UK allows.
pub(super) const OBUK_RESPONSE_TYPES: &[&str] = &["code", "code id_token"];

/// The longest `tls_client_auth_subject_dn` Open Banking UK DCR 3.4 takes.
pub(super) const OBUK_SUBJECT_DN_MAX: usize = 512;

/// What is wrong with a `tls_client_auth_subject_dn` under Open Banking UK DCR 3.4's pattern
/// (`^[Cc][Nn]=[^,]+(?:,[^,\s]+=[^,]+)*$`, at most 512 characters): the common name first, then
/// `type=value` pairs with no space in a type and no comma in a value.
pub(super) fn obuk_subject_dn_problem(dn: &str) -> Option<String> {
    if dn.chars().count() > OBUK_SUBJECT_DN_MAX {
        return Some(format!("is longer than {OBUK_SUBJECT_DN_MAX} characters"));
    }
    let mut pairs = dn.split(',');
    let first = pairs.next().unwrap_or_default();
    if !first.get(..3).is_some_and(|cn| cn.eq_ignore_ascii_case("CN=")) || first.len() == 3 {
        return Some("does not start with its common name (CN=...)".into());
    }
    let well_formed = |pair: &str| {
        pair.split_once('=')
            .is_some_and(|(ty, value)| !ty.is_empty() && !ty.contains(char::is_whitespace) && !value.is_empty())
    };
    pairs.find(|pair| !well_formed(pair)).map(|pair| format!("has `{pair}`, which is no type=value pair"))
}

/// Open Banking UK's metadata rules beyond RFC 7591: response types, the signing algorithm
/// of client assertions, and (DCR 3.4) the form of a subject DN.
pub(super) fn obuk_metadata_rules(state: &State, metadata: &Map<String, Value>) -> Result<(), Answer> {
    let refused = |text: String| Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_client_metadata", &text));
    if !state.config.has(Flaw::AcceptAnyResponseTypes) {
        let types = metadata.get("response_types").and_then(Value::as_array).cloned().unwrap_or_default();
        if let Some(other) = types.iter().find(|t| !t.as_str().is_some_and(|t| OBUK_RESPONSE_TYPES.contains(&t))) {
            return refused(format!("response_types {other} is not one of {OBUK_RESPONSE_TYPES:?}"));
        }
    }
    if !state.config.has(Flaw::AcceptAnyAuthSigningAlg) {
        if let Some(alg) = metadata.get("token_endpoint_auth_signing_alg") {
            if !alg.as_str().is_some_and(|a| OBUK_SIGNING_ALGS.contains(&a)) {
                return refused(format!("token_endpoint_auth_signing_alg {alg} is not one of {OBUK_SIGNING_ALGS:?}"));
            }
        }
    }
    let dn = metadata.get("tls_client_auth_subject_dn").and_then(Value::as_str);
    if let (Some(problem), false) = (dn.and_then(obuk_subject_dn_problem), state.config.has(Flaw::SkipSubjectDnForm)) {
        return refused(format!("tls_client_auth_subject_dn {problem} (Open Banking UK DCR 3.4)"));
    }
    Ok(())
}
