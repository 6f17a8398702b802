//! Planning: one pure function from a request in scenario terms, the target profile, what the
//! session knows (variables, registered clients, a DCR-service token), the PKI and the clock to
//! a signed request ready to send, or a typed [`PlanError`] saying why it cannot be built. A
//! plan error is the harness's or the configuration's fault, never the server's. Nothing here
//! sends, reads files other than a step's `body_file`, or keeps state.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::address::{in_path, opaque, path_segment, with_other_id};
use crate::pki::{Pki, PkiError};
use crate::scenario::profile::{AssertionAudience, CredentialKind, Management};
use crate::scenario::template::builtin;
use crate::scenario::template::{render, render_value, Unbound};
use crate::scenario::{Actor, Operation, Profile, RequestSpec, Role, Who};
use crate::signature::request_object::{
    sign_client_assertion, sign_request_object, statement_software_id, JwtSigner, RequestObjectClaims,
};
use crate::signature::{sign_mutated, Message, Mutation, MutationContext, SignError};

mod client;
mod client_auth;
mod dpop;
pub use client::{Client, Doubt};
use client_auth::authenticate_client;
pub use dpop::DpopKeys;

/// Template variables by name.
pub use crate::scenario::template::Vars;

/// The endpoints of the target, after discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The target's origin (`https://host:port`): where a request goes that names no other,
    /// and what RFC 9421's `@authority` and `@target-uri` sign.
    pub origin: String,
    pub register: String,
    pub token: String,
    /// The issuer the target's metadata document names (RFC 8414 §2), if it was read.
    pub issuer: Option<String>,
    /// The RFC 7662 introspection endpoint: the profile's, else the metadata document's.
    pub introspection: Option<String>,
    /// The profile's protected resource, if the target has one.
    pub resource: Option<String>,
}

impl Endpoints {
    /// The profile's own paths (before any discovery).
    pub fn of(profile: &Profile) -> Self {
        Endpoints {
            origin: String::new(),
            register: profile.paths.register.clone(),
            token: profile.paths.token.clone(),
            issuer: None,
            introspection: profile.paths.introspection.clone(),
            resource: profile.paths.resource.clone(),
        }
    }
}

/// `registration_token: none`: send no registration access token, on purpose.
pub const NO_TOKEN: &str = "none";

/// A request ready to send: the signed message, the TLS identity to present, and where to send
/// it when that is not the target's base URL (a `registration_client_uri` elsewhere).
#[derive(Debug, Clone)]
pub struct Planned {
    pub msg: Message,
    pub tls: Option<String>,
    /// What was signed (none for an unsigned request): a failure shows it.
    pub signing_string: Option<String>,
    /// The origin (`scheme://host:port`) to send to instead of the target's.
    pub origin: Option<String>,
    /// The moment the signature is dated (its Date, `created`), where the request is signed.
    pub signed_at: Option<SystemTime>,
}

/// What a plan is built against that does not change while a run lasts.
pub struct PlanEnv<'a> {
    pub profile: &'a Profile,
    pub pki: &'a Pki,
    pub endpoints: &'a Endpoints,
    /// Where `body_file` paths are relative to.
    pub fixtures: &'a crate::scenario::Fixtures,
    /// The moment to sign at (before `date_offset`).
    pub now: SystemTime,
    /// Per-second signature reuse (load's `signing: per-second`); none signs every request.
    pub memo: Option<&'a crate::signature::SignatureMemo>,
}

/// What the session knows at the moment of planning.
#[derive(Clone, Copy)]
pub struct SessionView<'a> {
    pub vars: &'a Vars,
    pub clients: &'a BTreeMap<String, Client>,
    /// The DCR-service bearer token of the TPP the request speaks for, when the profile's
    /// credentials are `bearer` (see [`dcr_token_needed`]).
    pub dcr_token: Option<&'a str>,
    /// The client's own access token, under `client-token` management (see
    /// [`client_token_needed`]).
    pub client_token: Option<&'a str>,
    /// The session's DPoP keys, where its profile holds the dpop-bound-tokens policy.
    pub dpop: Option<&'a DpopKeys>,
}

/// Why a request could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("no client `{name}` is registered at this point")]
    NoClient { name: String },
    #[error(
        "client `{name}` has no registration access token (its registration answer gave none), so it cannot be managed"
    )]
    NoRegistrationToken { name: String },
    #[error("{field}: {source}")]
    Template {
        field: &'static str,
        #[source]
        source: Unbound,
    },
    #[error("body file {}: {source}", path.display())]
    BodyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("a raw request needs `method` and `path`")]
    RawWithoutTarget,
    #[error("a handshake step sends no HTTP request")]
    NotHttp,
    #[error("{op} needs the step's `token`: the access token it is about")]
    NoToken { op: &'static str },
    #[error("`dpop` is for token and resource requests, not {op}")]
    DpopOnlyForTokens { op: &'static str },
    #[error("the session has no DPoP key (one is made where the profile holds dpop-bound-tokens)")]
    NoDpopKey,
    #[error(transparent)]
    Dpop(#[from] crate::signature::dpop::DpopError),
    #[error("the profile sets no `{field}`, which {op} needs")]
    NoEndpoint { op: &'static str, field: &'static str },
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("the DCR-service credentials of `{tpp}`: {source}")]
    Credentials {
        tpp: String,
        #[source]
        source: Unbound,
    },
    #[error("no DCR-service bearer token for `{tpp}` was fetched")]
    NoDcrToken { tpp: String },
    #[error("the DCR-service token for `{tpp}` could not be had: {message}")]
    DcrToken { tpp: String, message: String },
    #[error("date_offset {offset:?} takes the signed Date out of range")]
    DateOutOfRange { offset: crate::scenario::DateOffset },
    #[error("signing: {0}")]
    Sign(#[from] SignError),
    #[error("this request needs a signed JWT (a request object or a client assertion), and has no signing identity to sign one (`sign: none`, or the profile's `identities.sign` is none)")]
    NoRequestObjectSigner,
    #[error("no access token for client `{name}`: {message}")]
    ClientToken { name: String, message: String },
    #[error("client `{name}`'s configuration endpoint is `{uri}`, without TLS, on a target reached over https: its registration access token is not sent in cleartext (RFC 6750 §5.3)")]
    CleartextEndpoint { name: String, uri: String },
    #[error("client `{name}`'s configuration endpoint `{uri}` holds its client id nowhere (no path segment, no query value): another id cannot be put in its place")]
    IdNotInUri { name: String, uri: String },
    #[error("client `{name}`'s configuration endpoint is `{uri}`, which is not an http(s) URL (RFC 7592 §3): nothing is sent there")]
    BadConfigurationUri { name: String, uri: String },
}

/// How a request authenticates besides its TLS certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Auth {
    /// `token`: HTTP Basic as the registered client.
    ClientSecret,
    /// RFC 7592 management: the registration access token as a bearer.
    RegistrationToken,
    /// Open Banking UK management: the client's own access token as a bearer.
    ClientToken,
    /// `resource`: the step's `token` as a bearer.
    AccessToken,
    /// The TPP's DCR-service credentials, or none.
    Dcr(Option<String>),
}

fn auth_of(r: &RequestSpec, profile: &Profile) -> Auth {
    let rfc7592_management =
        matches!(r.op, Operation::Read | Operation::Update | Operation::Delete | Operation::RefreshSecret);
    if matches!(r.op, Operation::Token | Operation::Introspect) {
        Auth::ClientSecret
    } else if r.op == Operation::Resource {
        Auth::AccessToken
    } else if profile.management == Management::RegistrationToken && rfc7592_management {
        Auth::RegistrationToken
    } else if profile.management == Management::ClientToken && rfc7592_management {
        Auth::ClientToken
    } else {
        let ids = &profile.identities;
        let actor_tpp = match r.actor {
            Actor::Tpp => &ids.tpp,
            Actor::OtherTpp => &ids.other_tpp,
        };
        Auth::Dcr(match &r.credentials {
            Some(who) => who.name().map(str::to_string),
            None => Some(actor_tpp.clone()),
        })
    }
}

/// The TPP (and TLS identity) whose DCR-service bearer token the request needs, if any: the
/// session fetches it before planning.
pub fn dcr_token_needed(r: &RequestSpec, profile: &Profile) -> Option<(String, Option<String>)> {
    match (auth_of(r, profile), profile.credentials.kind) {
        (Auth::Dcr(Some(tpp)), CredentialKind::Bearer) => Some((tpp, tls_of(r, profile))),
        _ => None,
    }
}

/// The client whose own access token the request needs (`client-token` management, a
/// management request that names no token of its own): the session gets it before planning.
pub fn client_token_needed<'r>(r: &'r RequestSpec, profile: &Profile) -> Option<&'r str> {
    (auth_of(r, profile) == Auth::ClientToken && r.registration_token.is_none()).then(|| r.client_name())
}

/// The client-credentials request that gets a TPP a DCR-service bearer token.
pub fn dcr_token_request(profile: &Profile, pki: &Pki, tpp: &str) -> Result<Message, PlanError> {
    let (id, secret) = credentials_of(profile, pki, tpp)?;
    let mut msg = Message::new("POST", &profile.credentials.token_path, b"grant_type=client_credentials".to_vec());
    msg.add_header("Content-Type", "application/x-www-form-urlencoded");
    msg.add_header("Authorization", &basic(&id, &secret));
    Ok(msg)
}

/// A TPP's DCR-service credentials: the profile's override, else the PKI manifest's.
pub fn credentials_of(profile: &Profile, pki: &Pki, tpp: &str) -> Result<(String, String), PlanError> {
    if let Some(o) = profile.credentials.overrides.get(tpp) {
        return Ok((credential(tpp, &o.client_id)?, credential(tpp, &o.client_secret)?));
    }
    let entry = pki.tpp(tpp)?;
    Ok((entry.dcr_client_id.clone(), entry.dcr_client_secret.clone()))
}

/// A credential from the profile (a template: `{{env.X}}`), filled.
fn credential(tpp: &str, template: &str) -> Result<String, PlanError> {
    render(template, &Vars::new()).map_err(|source| PlanError::Credentials { tpp: tpp.to_string(), source })
}

/// The actor's own identity in `role`: the profile's TPP's, or its second TPP's.
fn actor_identity(actor: Actor, role: Role) -> Who {
    Who::Role(match (actor, role) {
        (Actor::OtherTpp, Role::Tls) => Role::OtherTls,
        (Actor::OtherTpp, Role::Sign) => Role::OtherSign,
        (_, role) => role,
    })
}

/// The TLS identity a request presents: its own choice, else its actor's QWAC.
fn tls_of(r: &RequestSpec, profile: &Profile) -> Option<String> {
    let who = r.tls.clone().unwrap_or_else(|| actor_identity(r.actor, Role::Tls));
    who.resolve(&profile.identities).map(str::to_string)
}

/// The signing identity: its own choice, else its actor's QSEAL where the profile signs the
/// method (POST, PUT, DELETE, and GET where the dialect signs reads; never the token endpoint).
fn signer_of(r: &RequestSpec, method: &http::Method, profile: &Profile) -> Option<String> {
    let signed_methods = [http::Method::POST, http::Method::PUT, http::Method::DELETE];
    let signed_method =
        signed_methods.contains(method) || (*method == http::Method::GET && profile.signature.dialect.sign_reads);
    let oauth_endpoint = matches!(r.op, Operation::Token | Operation::Introspect | Operation::Resource);
    let signs = profile.signature.enabled && signed_method && !oauth_endpoint;
    let who = match &r.sign {
        Some(who) => who.clone(),
        None if signs => actor_identity(r.actor, Role::Sign),
        None => Who::Nobody,
    };
    who.resolve(&profile.identities).map(str::to_string)
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", B64.encode(format!("{id}:{secret}")))
}

fn fill(field: &'static str, text: &str, vars: &Vars) -> Result<String, PlanError> {
    render(text, vars).map_err(|source| PlanError::Template { field, source })
}

/// Builds and signs the request `r` (with `mutation`, if any) describes.
pub fn plan(
    r: &RequestSpec,
    mutation: Option<Mutation>,
    env: &PlanEnv<'_>,
    view: &SessionView<'_>,
) -> Result<Planned, PlanError> {
    let profile = env.profile;
    let client = view.clients.get(r.client_name());
    let (method, mut target, origin) = method_and_path(r, client, env, view.vars)?;
    if let Some(query) = &r.query {
        target.push_str(&fill("query", query, view.vars)?);
    }
    let (body, default_type) = body(r, env.fixtures, view.vars, profile.token_scope.as_deref())?;
    // Request objects carry the registration fields (the statement) in updates too.
    let body = match (r.op, &profile.request_object) {
        (Operation::Register, _) | (Operation::Update, Some(_)) => {
            with_registration_fields(body, &profile.registration_fields, view.vars)?
        }
        _ => body,
    };
    let (body, default_type) = match as_request_object(&body, r, mutation, env, view.vars)? {
        Some((jws, content_type)) => (jws.into_bytes(), Some(content_type)),
        None => (body, default_type),
    };
    // A request-object mutation was spent on the body; the HTTP signature stays whole.
    let dpop_mutation = mutation.filter(|m| m.bends_dpop_proof());
    let (assertion_mutation, mutation) =
        (mutation.filter(|m| m.bends_client_assertion()), mutation.filter(|m| m.bends_http_signature()));
    let mut msg = Message::new(method.as_str(), &target, body);
    msg.set_origin(origin.as_deref().unwrap_or(&env.endpoints.origin));
    if let Some(ct) = r.content_type.clone().or(default_type) {
        msg.add_header("Content-Type", &ct);
    }
    match auth_of(r, profile) {
        Auth::ClientSecret => {
            let client = client.ok_or_else(|| PlanError::NoClient { name: r.client_name().to_string() })?;
            authenticate_client(&mut msg, r, client, assertion_mutation, env, view.vars)?;
            dpop::add_proof(&mut msg, r, view.dpop, None, (env.now, dpop_mutation))?;
        }
        Auth::RegistrationToken | Auth::ClientToken => {
            let token = match r.registration_token.as_deref() {
                // On purpose: the request carries no token at all.
                Some(NO_TOKEN) => None,
                Some(t) => Some(fill("registration_token", t, view.vars)?),
                None => Some(own_token(r, client, view)?),
            };
            if let Some(token) = token {
                msg.add_header("Authorization", &format!("Bearer {token}"));
            }
        }
        Auth::AccessToken => {
            let token = fill("token", r.token.as_deref().ok_or(PlanError::NoToken { op: r.op.name() })?, view.vars)?;
            msg.add_header("Authorization", &format!("{} {token}", dpop::token_scheme(r)));
            dpop::add_proof(&mut msg, r, view.dpop, Some(&token), (env.now, dpop_mutation))?;
        }
        Auth::Dcr(None) => {}
        Auth::Dcr(Some(tpp)) => add_dcr_credentials(&mut msg, profile, env.pki, &tpp, view.dcr_token)?,
    }
    for (name, value) in &r.headers {
        msg.add_header(name, &fill("headers", value, view.vars)?);
    }
    let mut signing_string = None;
    let mut signed_at = None;
    if let Some(signer) = signer_of(r, &method, profile) {
        let identity = env.pki.identity(&signer)?;
        let other = profile.identities.other_sign.name().and_then(|name| env.pki.identity(name).ok());
        let out_of_range = || PlanError::DateOutOfRange { offset: r.date_offset };
        let seconds = r.date_offset.seconds(profile.signature.date_window_s).ok_or_else(out_of_range)?;
        let date = offset(env.now, seconds).ok_or_else(out_of_range)?;
        signed_at = Some(date);
        let dialect = match (r.date_form, r.digest_algorithm) {
            (None, None) => &profile.signature.dialect,
            (date_form, digest_algorithm) => {
                let d = &profile.signature.dialect;
                &crate::signature::Dialect {
                    date_form: date_form.unwrap_or(d.date_form),
                    digest_algorithm: digest_algorithm.unwrap_or(d.digest_algorithm),
                    ..d.clone()
                }
            }
        };
        let signed = sign_mutated(
            identity,
            dialect,
            &mut msg,
            date,
            mutation,
            &MutationContext { other_identity: other, memo: env.memo },
        )?;
        signing_string = Some(signed.signing_string);
    }
    Ok(Planned { msg, tls: tls_of(r, profile), origin, signing_string, signed_at })
}

/// The JSON a request body sends: the body itself, or the claims of a request object.
pub fn sent_metadata(body: &[u8]) -> Option<serde_json::Value> {
    if let Ok(json) = serde_json::from_slice(body) {
        return Some(json);
    }
    let text = std::str::from_utf8(body).ok()?;
    Some(serde_json::Value::Object(crate::pki::jws::parts(text.trim())?.claims))
}

/// The bearer a management request carries by default: the client's registration access
/// token, or under `client-token` management its access token. Never an empty bearer by
/// accident: without one the step cannot be built.
fn own_token(r: &RequestSpec, client: Option<&Client>, view: &SessionView<'_>) -> Result<String, PlanError> {
    let name = || r.client_name().to_string();
    match view.client_token {
        Some(token) => Ok(token.to_string()),
        None => match client.map(|c| c.rat.clone()) {
            Some(rat) if !rat.is_empty() => Ok(rat),
            _ => Err(PlanError::NoRegistrationToken { name: name() }),
        },
    }
}

/// A registration or update body as the signed request object the profile asks for (with a
/// request-object mutation, if the step has one), and its media type; none where the profile
/// sends JSON, the operation sends no metadata, or the body is no JSON object (sent as written).
fn as_request_object(
    body: &[u8],
    r: &RequestSpec,
    mutation: Option<Mutation>,
    env: &PlanEnv<'_>,
    vars: &Vars,
) -> Result<Option<(String, String)>, PlanError> {
    let profile = env.profile;
    let Some(settings) = &profile.request_object else { return Ok(None) };
    if !matches!(r.op, Operation::Register | Operation::Update) || r.body_raw.is_some() {
        return Ok(None);
    }
    let Ok(serde_json::Value::Object(metadata)) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(None);
    };
    let signer = r.sign.clone().unwrap_or_else(|| actor_identity(r.actor, Role::Sign));
    let name = signer.resolve(&profile.identities).ok_or(PlanError::NoRequestObjectSigner)?;
    let identity = env.pki.identity(name)?;
    let other = profile.identities.other_sign.name().and_then(|name| env.pki.identity(name).ok());
    // The statement names the software; without one (a body that leaves it out on purpose) the
    // TPP's name stands in, and the server refuses the missing statement first.
    let issuer = match &settings.issuer {
        Some(template) => fill("request_object.issuer", template, vars)?,
        None => statement_software_id(&metadata).or_else(|| identity.tpp.clone()).unwrap_or_default(),
    };
    let claims = RequestObjectClaims {
        issuer: &issuer,
        audience: &fill("request_object.audience", &settings.audience, vars)?,
        lifetime: Duration::from_secs(settings.lifetime_s.into()),
    };
    let mutation = mutation.filter(|m| m.bends_request_object());
    let jws = sign_request_object(&metadata, &claims, JwtSigner { identity, other, now: env.now }, mutation)?;
    Ok(Some((jws, settings.content_type.clone())))
}

fn add_dcr_credentials(
    msg: &mut Message,
    profile: &Profile,
    pki: &Pki,
    tpp: &str,
    token: Option<&str>,
) -> Result<(), PlanError> {
    let creds = &profile.credentials;
    match creds.kind {
        CredentialKind::ApiKey => {
            let (id, secret) = credentials_of(profile, pki, tpp)?;
            msg.add_header(&creds.client_id_header, &id);
            msg.add_header(&creds.client_secret_header, &secret);
        }
        CredentialKind::Basic => {
            let (id, secret) = credentials_of(profile, pki, tpp)?;
            msg.add_header("Authorization", &basic(&id, &secret));
        }
        CredentialKind::Bearer => {
            let token = token.ok_or_else(|| PlanError::NoDcrToken { tpp: tpp.to_string() })?;
            msg.add_header("Authorization", &format!("Bearer {token}"));
        }
        CredentialKind::InitialAccessToken => {
            let template = creds.initial_access_token.as_deref().ok_or(PlanError::NoEndpoint {
                op: "the initial-access-token credential kind",
                field: "credentials.initial_access_token",
            })?;
            msg.add_header("Authorization", &format!("Bearer {}", credential(tpp, template)?));
        }
        CredentialKind::None => {}
    }
    Ok(())
}

fn method_and_path(
    r: &RequestSpec,
    client: Option<&Client>,
    env: &PlanEnv<'_>,
    vars: &Vars,
) -> Result<(http::Method, String, Option<String>), PlanError> {
    let paths = &env.profile.paths;
    let here = |path: String| (path, None);
    // RFC 7592 §3: `registration_client_uri` is the client's configuration endpoint, used whole
    // as the server gave it: path, query and, where it points elsewhere, host.
    let client_path = |template: &str| -> Result<(String, Option<String>), PlanError> {
        let c = client.ok_or_else(|| PlanError::NoClient { name: r.client_name().to_string() })?;
        let other_id = r.other_id.as_deref().map(|t| fill("other_id", t, vars)).transpose()?;
        if env.profile.management == Management::RegistrationToken && !c.uri.is_empty() && template == paths.client {
            let uri = match &other_id {
                Some(other) => with_other_id(&c.uri, &c.id, other)
                    .ok_or_else(|| PlanError::IdNotInUri { name: r.client_name().to_string(), uri: c.uri.clone() })?,
                None => c.uri.clone(),
            };
            let (path, origin) = opaque(&uri);
            let scheme = origin.as_deref().and_then(|o| o.split_once("://")).map(|(scheme, _)| scheme);
            if origin.as_deref() == Some("null") || scheme.is_some_and(|s| s != "http" && s != "https") {
                return Err(PlanError::BadConfigurationUri { name: r.client_name().to_string(), uri: c.uri.clone() });
            }
            // RFC 6750 §5.3: a bearer token MUST NOT travel without TLS; a target reached over
            // https that names a cleartext configuration endpoint does not get its token there.
            if origin.as_deref().is_some_and(|o| o.starts_with("http://"))
                && env.endpoints.origin.starts_with("https://")
            {
                return Err(PlanError::CleartextEndpoint { name: r.client_name().to_string(), uri: c.uri.clone() });
            }
            return Ok((path, origin));
        }
        let id = other_id.as_deref().unwrap_or(&c.id);
        Ok(here(template.replace("{client_id}", &path_segment(id))))
    };
    let ((path, origin), method) = match r.op {
        Operation::Register => (here(env.endpoints.register.clone()), http::Method::POST),
        Operation::Read => (client_path(&paths.client)?, http::Method::GET),
        Operation::Update => (client_path(&paths.client)?, http::Method::PUT),
        Operation::Delete => (client_path(&paths.client)?, http::Method::DELETE),
        Operation::RefreshSecret => {
            let path =
                paths.secret.as_deref().ok_or(PlanError::NoEndpoint { op: "refresh-secret", field: "paths.secret" })?;
            (client_path(path)?, http::Method::POST)
        }
        Operation::Token => (here(env.endpoints.token.clone()), http::Method::POST),
        Operation::Introspect => {
            let path = env.endpoints.introspection.clone().ok_or(PlanError::NoEndpoint {
                op: "introspect",
                field: "paths.introspection (or introspection_endpoint in the metadata document)",
            })?;
            (here(path), http::Method::POST)
        }
        Operation::Handshake | Operation::RotateKeys => return Err(PlanError::NotHttp),
        Operation::Resource => {
            let path = env.endpoints.resource.clone();
            (here(path.ok_or(PlanError::NoEndpoint { op: "resource", field: "paths.resource" })?), http::Method::GET)
        }
        Operation::Raw => {
            let (Some(m), Some(path)) = (&r.method, &r.path) else {
                return Err(PlanError::RawWithoutTarget);
            };
            let path = crate::scenario::template::render_by(path, |name| in_path(vars, name))
                .map_err(|source| PlanError::Template { field: "path", source })?;
            (here(path), m.0.clone())
        }
    };
    Ok((method, path, origin))
}

fn body(
    r: &RequestSpec,
    fixtures: &crate::scenario::Fixtures,
    vars: &Vars,
    token_scope: Option<&str>,
) -> Result<(Vec<u8>, Option<String>), PlanError> {
    let json = Some("application/json".to_string());
    let form = Some("application/x-www-form-urlencoded".to_string());
    if r.op == Operation::Token {
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.append_pair("grant_type", "client_credentials");
        let scope = match r.scope.as_deref() {
            Some(NO_TOKEN) => None,
            Some(scope) => Some(fill("scope", scope, vars)?),
            None => token_scope.map(str::to_string),
        };
        if let Some(scope) = scope {
            body.append_pair("scope", &scope);
        }
        return Ok((body.finish().into_bytes(), form));
    }
    if r.op == Operation::Introspect {
        let token = fill("token", r.token.as_deref().ok_or(PlanError::NoToken { op: "introspect" })?, vars)?;
        let body = form_urlencoded::Serializer::new(String::new()).append_pair("token", &token).finish();
        return Ok((body.into_bytes(), form));
    }
    if let Some(body) = &r.body {
        let value = render_value(body, vars).map_err(|source| PlanError::Template { field: "body", source })?;
        return Ok((value.to_string().into_bytes(), json));
    }
    if let Some(file) = &r.body_file {
        let text = fixtures.read(file).map_err(|source| PlanError::BodyFile { path: fixtures.path(file), source })?;
        return Ok((fill("body_file", &text, vars)?.into_bytes(), json));
    }
    if let Some(raw) = &r.body_raw {
        return Ok((fill("body_raw", raw, vars)?.into_bytes(), json));
    }
    Ok((Vec::new(), None))
}

/// A registration body with the profile's registration fields added where it lacks them, and
/// taken out where it sets them to `null`; a body that is no JSON object is left as it is.
fn with_registration_fields(
    body: Vec<u8>,
    fields: &serde_json::Map<String, serde_json::Value>,
    vars: &Vars,
) -> Result<Vec<u8>, PlanError> {
    if fields.is_empty() {
        return Ok(body);
    }
    let Ok(serde_json::Value::Object(mut object)) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return Ok(body);
    };
    for (name, value) in fields {
        match object.get(name) {
            Some(serde_json::Value::Null) => {
                object.remove(name);
            }
            Some(_) => {}
            None => {
                let value = render_value(value, vars)
                    .map_err(|source| PlanError::Template { field: "registration_fields", source })?;
                object.insert(name.clone(), value);
            }
        }
    }
    Ok(serde_json::Value::Object(object).to_string().into_bytes())
}

/// `at` moved by `seconds`, or `None` where that leaves the clock's range.
fn offset(at: SystemTime, seconds: i64) -> Option<SystemTime> {
    let by = Duration::from_secs(seconds.unsigned_abs());
    if seconds >= 0 {
        at.checked_add(by)
    } else {
        at.checked_sub(by)
    }
}

#[cfg(test)]
mod tests;
