//! The gateways of the server's families, each in the order a bank applies its rules: `smbc`
//! (QWAC, DCR-service credentials, signature, QSEAL), `plain` and `fapi` (registration access
//! tokens, software statements), `obuk` (mTLS, signed request objects, the client's own token).
//! Past its gateway a request goes to the lifecycle.

#![allow(clippy::result_large_err)]

use super::*;

// ---- profile smbc -------------------------------------------------------------------------

pub(super) fn smbc(state: &State, peer: &Peer, parts: &Parts, body: Bytes, route: Route) -> Answer {
    let tpp = match identify_tpp(state, peer, parts) {
        Ok(tpp) => tpp,
        Err(answer) => return answer,
    };
    if state.config.signs(&parts.method) {
        if let Err(answer) = check_signature(state, parts, &body, &tpp) {
            return answer;
        }
    }
    lifecycle(state, parts, &body, route, &tpp)
}

/// The TPP making the request: the QWAC's organisation, confirmed by the DCR credentials.
pub(super) fn identify_tpp(state: &State, peer: &Peer, parts: &Parts) -> Result<String, Answer> {
    let flaws = flaw(state);
    let now = SystemTime::now();
    let from_cert = if peer.chain.is_empty() && flaws(Flaw::SkipClientCert) {
        None
    } else {
        Some(qwac_of(state, peer, now, &flaws).map_err(cert_answer)?)
    };
    let from_credentials =
        if flaws(Flaw::SkipDcrCredentials) { None } else { Some(dcr_credentials(state, &parts.headers)?) };
    match (from_cert, from_credentials) {
        (Some(cert), Some(creds)) if cert != creds && !flaws(Flaw::AcceptOtherTppCredentials) => {
            Err(invalid_client("the DCR-service credentials belong to another TPP than the QWAC"))
        }
        (Some(cert), _) => Ok(cert),
        (None, Some(creds)) => Ok(creds),
        (None, None) => Err(cert_answer(CertProblem::Missing)),
    }
}

/// The TPP of the connection's QWAC: judged once per connection, its validity per request.
pub(super) fn qwac_of(
    state: &State,
    peer: &Peer,
    now: SystemTime,
    flaws: &impl Fn(Flaw) -> bool,
) -> Result<String, CertProblem> {
    if let Some(known) = peer.qwac.get() {
        if known.not_before <= now && now <= known.not_after {
            return Ok(known.organization_identifier.clone());
        }
    }
    let qwac = judge_qwac(&state.trust, &peer.chain, &state.config.required_roles, now, flaws)?;
    if let (Some(revocation), Some(leaf)) = (&state.revocation, peer.chain.first()) {
        let info = crate::pki::CertInfo::from_der(leaf.as_ref()).map_err(|e| CertProblem::Invalid(e.to_string()))?;
        revocation.judge(&info, state.config.varies(Variant::RevocationSoftFail))?;
    }
    let org = qwac.organization_identifier.clone();
    let _ = peer.qwac.set(qwac);
    Ok(org)
}

pub(super) fn cert_answer(problem: CertProblem) -> Answer {
    tpp_message(StatusCode::UNAUTHORIZED, problem.code(), &problem.text())
}

/// The organisation whose DCR-service credentials the request carries.
pub(super) fn dcr_credentials(state: &State, headers: &HeaderMap) -> Result<String, Answer> {
    match state.config.dcr_auth {
        DcrAuth::ApiKey => {
            let id = header(headers, CLIENT_ID_HEADER);
            let secret = header(headers, CLIENT_SECRET_HEADER);
            match (id, secret) {
                (Some(id), Some(secret)) => tpp_by_credentials(state, id, secret)
                    .ok_or_else(|| invalid_client("unknown DCR-service client id or wrong secret")),
                _ => Err(invalid_client("the DCR-service credentials (client id and secret headers) are missing")),
            }
        }
        DcrAuth::Basic => {
            let (id, secret) = basic_credentials(headers)
                .ok_or_else(|| invalid_client("HTTP Basic DCR-service credentials are missing"))?;
            tpp_by_credentials(state, &id, &secret)
                .ok_or_else(|| invalid_client("unknown DCR-service client id or wrong secret"))
        }
        DcrAuth::Bearer => {
            let token =
                bearer(headers).ok_or_else(|| invalid_token("a bearer token for the DCR service is required"))?;
            let tokens = state.tokens.lock().unwrap_or_else(|p| p.into_inner());
            match tokens.get(token) {
                Some((org, expires)) if *expires > SystemTime::now() => Ok(org.clone()),
                _ => Err(invalid_token("the bearer token is unknown or expired")),
            }
        }
    }
}

pub(super) fn tpp_by_credentials(state: &State, id: &str, secret: &str) -> Option<String> {
    state
        .tpps
        .iter()
        .find(|t| t.client_id == id && constant_time_eq(&t.client_secret, secret))
        .map(|t| t.organization_identifier.clone())
}

pub(super) fn check_signature(state: &State, parts: &Parts, body: &Bytes, tpp: &str) -> Result<(), Answer> {
    let msg = message_of(parts, body)?;
    state
        .verifier
        .verify(&msg, tpp, SystemTime::now())
        .map_err(|r| tpp_message(StatusCode::from_u16(r.status).unwrap_or(StatusCode::UNAUTHORIZED), r.code, &r.text))
}

/// The Berlin Group status and code for a broken signature rule.
pub(crate) fn signature_refusal(error: &SignatureError) -> Refusal {
    use SignatureError::*;
    let (status, code) = match error {
        SignatureMissing => (401, "SIGNATURE_MISSING"),
        CertificateMissing => (401, "CERTIFICATE_MISSING"),
        CertificateUnreadable(_) | WeakKey(_) => (401, "CERTIFICATE_INVALID"),
        DateSkew { .. } | Expired { .. } => (400, "TIMESTAMP_INVALID"),
        DuplicateHeader(_)
        | Malformed(_)
        | MissingParameter(_)
        | SignedHeaderAbsent(_)
        | DigestMissing
        | DigestMalformed(_)
        | DigestAlgorithm(_)
        | DateMissing
        | DateFormat(_)
        | BadBase64(_)
        | KeyIdMalformed(_)
        | SignatureInputMissing
        | LabelMismatch { .. }
        | RequestIdMissing
        | RequestIdNotUuid(_) => (400, "FORMAT_ERROR"),
        UnknownAlgorithm(_)
        | AlgorithmMismatch { .. }
        | HeaderNotSigned(_)
        | DigestMismatch
        | KeyIdMismatch(_)
        | TagMismatch { .. }
        | BadSignature => (401, "SIGNATURE_INVALID"),
    };
    Refusal { status, code, text: error.to_string() }
}

// ---- profile plain ------------------------------------------------------------------------

pub(super) fn plain(state: &State, parts: &Parts, body: &Bytes, route: Route) -> Answer {
    if route == Route::Register {
        if let Some(expected) = &state.config.initial_access_token {
            if !bearer(&parts.headers).is_some_and(|t| constant_time_eq(t, expected)) {
                return invalid_token("an initial access token is required to register");
            }
        }
        return lifecycle(state, parts, body, route, "");
    }
    let id = match &route {
        Route::Client(id) | Route::RefreshSecret(id) => id,
        _ => return oauth_error(StatusCode::NOT_FOUND, "not_found", "no such endpoint"),
    };
    if state.config.varies(Variant::OpaqueClientUri) && parts.uri.query() != Some(OPAQUE_QUERY) {
        // Not a client configuration endpoint this server issued: as for an unknown client.
        return invalid_token("use the registration_client_uri as given");
    }
    // RFC 7592 §2: a missing client and a wrong token get the same 401.
    let token = bearer(&parts.headers);
    let missing_accepted = state.config.has(Flaw::AcceptMissingRegistrationToken);
    if token.is_none() && !missing_accepted {
        return invalid_token("a registration access token is required");
    }
    let not_valid = || {
        if let Some(holder) = token.filter(|_| state.config.varies(Variant::RatRevokedOnMisuse)) {
            revoke_registration_token_of(state, holder);
        }
        invalid_token("the registration access token is not valid for this client")
    };
    let Some(client) = state.store.get(id) else {
        return not_valid();
    };
    let valid = match token {
        Some(token) => {
            client.registration_access_token.as_deref().is_some_and(|rat| constant_time_eq(rat, token))
                || (state.config.has(Flaw::AcceptAnotherClientsRegistrationToken)
                    && state.store.holder_of_registration_token(token).is_some())
        }
        None => missing_accepted,
    };
    if !valid && !state.config.has(Flaw::AcceptBadRegistrationToken) {
        return not_valid();
    }
    lifecycle(state, parts, body, route, &client.owner)
}

// ---- profile obuk -------------------------------------------------------------------------

/// Open Banking UK: every call over mTLS with a transport certificate the QTSP issued;
/// registration by signed request object; a client managed with its own access token.
pub(super) fn obuk(state: &State, peer: &Peer, parts: &Parts, body: &Bytes, route: Route) -> Answer {
    let flaws = flaw(state);
    if !(peer.chain.is_empty() && flaws(Flaw::SkipClientCert)) {
        if let Err(problem) = qwac_of(state, peer, SystemTime::now(), &flaws) {
            return cert_answer(problem);
        }
    }
    let id = match &route {
        Route::Register => return lifecycle(state, parts, body, route, ""),
        Route::Client(id) => id.clone(),
        _ => return oauth_error(StatusCode::NOT_FOUND, "not_found", "no such endpoint"),
    };
    // An unknown (or deleted) client and another client's token get the same 401.
    let holder = bearer(&parts.headers).and_then(|token| client_of_token(state, token));
    let allowed = match holder {
        Some(holder) => holder == id || flaws(Flaw::AcceptAnotherClientsToken),
        None => false,
    };
    let scoped = bearer(&parts.headers).is_some_and(|token| super::cdr::scope_allows_management(state, token));
    match state.store.get(&id) {
        Some(_) if allowed && !scoped => insufficient_scope(super::cdr::REGISTRATION_SCOPE),
        Some(client) if allowed => lifecycle(state, parts, body, route, &client.owner),
        _ => invalid_token("an access token of this client, from the token endpoint, is required"),
    }
}

/// The client an unexpired access token was issued to.
pub(super) fn client_of_token(state: &State, token: &str) -> Option<String> {
    let tokens = state.client_tokens.lock().unwrap_or_else(|p| p.into_inner());
    tokens.get(token).filter(|(_, expires)| *expires > SystemTime::now()).map(|(id, _)| id.clone())
}
