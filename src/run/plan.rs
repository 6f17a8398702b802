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

use super::address::{opaque, path_segment, with_ids_as_segments, with_other_id};
use crate::pki::{Pki, PkiError};
use crate::scenario::profile::{AssertionAudience, CredentialKind, Management};
use crate::scenario::template::builtin;
use crate::scenario::template::{render, render_value, Unbound};
use crate::scenario::{Actor, Operation, Profile, RequestSpec, Role, Who};
use crate::signature::request_object::{
    sign_client_assertion, sign_request_object, statement_software_id, JwtSigner, RequestObjectClaims,
};
use crate::signature::{sign_mutated, Message, Mutation, MutationContext, SignError};

/// Template variables by name.
pub type Vars = BTreeMap<String, String>;

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
}

impl Endpoints {
    /// The profile's own paths (before any discovery).
    pub fn of(profile: &Profile) -> Self {
        Endpoints {
            origin: String::new(),
            register: profile.paths.register.clone(),
            token: profile.paths.token.clone(),
            issuer: None,
        }
    }
}

/// A client the session registered, as plans need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub secret: String,
    pub previous_secret: String,
    /// RFC 7592 registration access token.
    pub rat: String,
    /// RFC 7592 `registration_client_uri`.
    pub uri: String,
    pub deleted: bool,
    /// Its registration access token was sent for another client: RFC 7592 §2.1 lets the
    /// server revoke it then, and the client may no longer be deletable.
    pub lent: bool,
    /// How it proves itself at the token endpoint, as its registration answer said (empty:
    /// `client_secret_basic`, RFC 7591 §2's default).
    pub auth_method: String,
    /// Why its registration answer could not be read whole (empty: it could).
    pub unreadable: String,
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
    /// The TPP's DCR-service credentials, or none.
    Dcr(Option<String>),
}

fn auth_of(r: &RequestSpec, profile: &Profile) -> Auth {
    let rfc7592_management = !matches!(r.op, Operation::Register | Operation::Raw);
    if r.op == Operation::Token {
        Auth::ClientSecret
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
    let signs = profile.signature.enabled && signed_method && r.op != Operation::Token;
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
    let (body, default_type) = body(r, env.fixtures, view.vars)?;
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
        Auth::Dcr(None) => {}
        Auth::Dcr(Some(tpp)) => add_dcr_credentials(&mut msg, profile, env.pki, &tpp, view.dcr_token)?,
    }
    for (name, value) in &r.headers {
        msg.add_header(name, &fill("headers", value, view.vars)?);
    }
    let mut signing_string = None;
    if let Some(signer) = signer_of(r, &method, profile) {
        let identity = env.pki.identity(&signer)?;
        let other = profile.identities.other_sign.name().and_then(|name| env.pki.identity(name).ok());
        let out_of_range = || PlanError::DateOutOfRange { offset: r.date_offset };
        let seconds = r.date_offset.seconds(profile.signature.date_window_s).ok_or_else(out_of_range)?;
        let date = offset(env.now, seconds).ok_or_else(out_of_range)?;
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
    Ok(Planned { msg, tls: tls_of(r, profile), origin, signing_string })
}

/// A token request proving `client` with the method the step names, else the one it registered
/// (RFC 7591 §2): its secret in Basic or in the form, its TLS certificate (the step's TLS
/// identity) with its id in the form, or a client assertion signed by the step's signer.
fn authenticate_client(
    msg: &mut Message,
    r: &RequestSpec,
    client: &Client,
    mutation: Option<Mutation>,
    env: &PlanEnv<'_>,
    vars: &Vars,
) -> Result<(), PlanError> {
    use crate::protocol::TokenAuthMethod::*;
    let method = r.token_auth.or_else(|| crate::protocol::TokenAuthMethod::from_name(&client.auth_method));
    let secret = match &r.secret {
        Some(s) => fill("secret", s, vars)?,
        None => client.secret.clone(),
    };
    let mut form = form_urlencoded::Serializer::new(String::from_utf8_lossy(&msg.body).into_owned());
    match method.unwrap_or(ClientSecretBasic) {
        ClientSecretBasic => {
            msg.add_header("Authorization", &basic(&client.id, &secret));
            return Ok(());
        }
        ClientSecretPost => form.append_pair("client_id", &client.id).append_pair("client_secret", &secret),
        TlsClientAuth | SelfSignedTlsClientAuth => form.append_pair("client_id", &client.id),
        PrivateKeyJwt => {
            let signer = r.sign.clone().unwrap_or_else(|| actor_identity(r.actor, Role::Sign));
            let name = signer.resolve(&env.profile.identities).ok_or(PlanError::NoRequestObjectSigner)?;
            let identity = env.pki.identity(name)?;
            let other = env.profile.identities.other_sign.name().and_then(|name| env.pki.identity(name).ok());
            let var = |name: &str| vars.get(name).map_or("", String::as_str);
            let audience = match env.profile.client_assertion_audience {
                AssertionAudience::Issuer => var(builtin::ISSUER).to_string(),
                AssertionAudience::TokenEndpoint => format!("{}{}", var(builtin::BASE_URL), env.endpoints.token),
            };
            let signer = JwtSigner { identity, other, now: env.now };
            let assertion = sign_client_assertion(&client.id, &audience, signer, mutation)?;
            form.append_pair("client_assertion_type", crate::protocol::JWT_BEARER)
                .append_pair("client_assertion", &assertion)
        }
    };
    msg.body = form.finish().into_bytes();
    Ok(())
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
        Operation::Raw => {
            let (Some(m), Some(path)) = (&r.method, &r.path) else {
                return Err(PlanError::RawWithoutTarget);
            };
            (here(fill("path", path, &with_ids_as_segments(vars))?), m.0.clone())
        }
    };
    Ok((method, path, origin))
}

fn body(
    r: &RequestSpec,
    fixtures: &crate::scenario::Fixtures,
    vars: &Vars,
) -> Result<(Vec<u8>, Option<String>), PlanError> {
    let json = Some("application/json".to_string());
    if r.op == Operation::Token {
        return Ok((b"grant_type=client_credentials".to_vec(), Some("application/x-www-form-urlencoded".into())));
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
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn registration_fields_fill_what_a_body_lacks_and_null_takes_them_out() {
        let fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"software_statement":"{{ssa}}"}"#).expect("fields");
        let vars: Vars = [("ssa".to_string(), "eyJ.x.y".to_string())].into();
        let cases = [
            (r#"{"client_name":"a"}"#, r#"{"client_name":"a","software_statement":"eyJ.x.y"}"#),
            (r#"{"software_statement":"mine"}"#, r#"{"software_statement":"mine"}"#),
            (r#"{"software_statement":null}"#, r#"{}"#),
            ("not json", "not json"),
            ("[1]", "[1]"),
        ];
        for (body, sent) in cases {
            let out = with_registration_fields(body.as_bytes().to_vec(), &fields, &vars).expect("filled");
            assert_eq!(String::from_utf8_lossy(&out), sent, "{body}");
        }
        let unbound: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"software_statement":"{{nowhere}}"}"#).expect("fields");
        assert!(with_registration_fields(b"{}".to_vec(), &unbound, &vars).is_err(), "an unbound template is an error");
    }
    use crate::scenario::{DateOffset, Who};
    use crate::signature::{verify, VerifyPolicy};
    use crate::testing::test_pki;

    /// 2026-11-24T19:11:14Z, a fixed moment inside the test PKI's validity.
    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_795_979_474)
    }

    /// A profile from YAML, with the secret-refresh path unless the YAML names paths itself.
    fn profile(yaml: &str) -> Profile {
        let paths =
            if yaml.contains("paths:") { "" } else { "paths: { secret: '/client/v1/register/{client_id}/secret' }\n" };
        serde_norway::from_str(&format!("name: test\n{paths}{yaml}")).expect("profile")
    }

    const RFC7592: &str = "management: registration-token\ncredentials: { kind: none }\nsignature: { enabled: false }\nidentities: { tls: none, other_tls: none }";

    fn client() -> Client {
        Client {
            id: "c-1".into(),
            secret: "s3cret".into(),
            previous_secret: String::new(),
            rat: "rat-1".into(),
            uri: "https://bank.example/other/c-1?x=1".into(),
            ..Client::default()
        }
    }

    fn plan_in(profile: &Profile, r: &RequestSpec, dcr_token: Option<&str>) -> Result<Planned, PlanError> {
        let endpoints = Endpoints::of(profile);
        let env = PlanEnv {
            profile,
            pki: test_pki(),
            endpoints: &endpoints,
            fixtures: Box::leak(Box::new(crate::scenario::Fixtures::at(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
            ))),
            now: now(),
            memo: None,
        };
        let clients = BTreeMap::from([("client".to_string(), client())]);
        let vars = Vars::from([("x".to_string(), "filled".to_string())]);
        plan(r, None, &env, &SessionView { vars: &vars, clients: &clients, dcr_token, client_token: None })
    }

    fn header<'a>(p: &'a Planned, name: &str) -> Option<&'a str> {
        p.msg.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// How a planned request authenticates, in a word.
    fn auth(p: &Planned) -> String {
        match (header(p, "Authorization"), header(p, crate::protocol::CLIENT_ID_HEADER)) {
            (Some(a), _) if a.starts_with("Basic ") => "basic".into(),
            (Some(a), _) => a.split(' ').map(str::to_lowercase).collect::<Vec<_>>().join(" "),
            (None, Some(id)) => format!("api-key {id}"),
            (None, None) => "none".into(),
        }
    }

    fn raw(op: Operation) -> RequestSpec {
        let mut r = RequestSpec::of(op);
        if op == Operation::Raw {
            r.method = Some(crate::scenario::HttpMethod(http::Method::PATCH));
            r.path = Some("/raw/{{x}}".into());
        }
        r
    }

    #[test]
    fn every_operation_under_smbc_management_carries_qwac_credentials_and_signature() {
        let p = profile("");
        let tpp = &test_pki().tpp("tpp-a").expect("tpp-a").dcr_client_id;
        let api_key = format!("api-key {tpp}");
        let cases = [
            (Operation::Register, "POST", "/client/v1/register", api_key.as_str(), true),
            (Operation::Read, "GET", "/client/v1/register/c-1", &api_key, false),
            (Operation::Update, "PUT", "/client/v1/register/c-1", &api_key, true),
            (Operation::Delete, "DELETE", "/client/v1/register/c-1", &api_key, true),
            (Operation::RefreshSecret, "POST", "/client/v1/register/c-1/secret", &api_key, true),
            (Operation::Token, "POST", "/oauth/token", "basic", false),
            (Operation::Raw, "PATCH", "/raw/filled", &api_key, false),
        ];
        for (op, method, path, expected_auth, signed) in cases {
            let planned = plan_in(&p, &raw(op), None).unwrap_or_else(|e| panic!("{op:?}: {e}"));
            assert_eq!((planned.msg.method.as_str(), planned.msg.target.as_str()), (method, path), "{op:?}");
            assert_eq!(auth(&planned), expected_auth, "{op:?}");
            assert_eq!(header(&planned, "Signature").is_some(), signed, "{op:?} signed");
            assert_eq!(planned.tls.as_deref(), Some("qwac"), "{op:?}");
        }
    }

    #[test]
    fn every_operation_under_rfc7592_management_uses_the_registration_uri_and_token() {
        let p = profile(RFC7592);
        let cases = [
            (Operation::Register, "POST", "/client/v1/register", "none"),
            (Operation::Read, "GET", "/other/c-1?x=1", "bearer rat-1"),
            (Operation::Update, "PUT", "/other/c-1?x=1", "bearer rat-1"),
            (Operation::Delete, "DELETE", "/other/c-1?x=1", "bearer rat-1"),
            (Operation::RefreshSecret, "POST", "/client/v1/register/c-1/secret", "bearer rat-1"),
            (Operation::Token, "POST", "/oauth/token", "basic"),
            (Operation::Raw, "PATCH", "/raw/filled", "none"),
        ];
        for (op, method, path, expected_auth) in cases {
            let planned = plan_in(&p, &raw(op), None).unwrap_or_else(|e| panic!("{op:?}: {e}"));
            assert_eq!((planned.msg.method.as_str(), planned.msg.target.as_str()), (method, path), "{op:?}");
            assert_eq!(auth(&planned), expected_auth, "{op:?}");
            assert!(header(&planned, "Signature").is_none(), "{op:?} unsigned");
            assert_eq!(planned.tls, None, "{op:?} presents no certificate");
            let elsewhere = path.starts_with("/other");
            assert_eq!(planned.origin.as_deref(), elsewhere.then_some("https://bank.example"), "{op:?}: the URI whole");
        }
    }

    const OBUK: &str = "management: client-token\ncredentials: { kind: none }\nsignature: { enabled: false }\nrequest_object: { audience: 'https://bank.example' }\nregistration_fields: { software_statement: '{{statement}}' }";

    /// Plans `r` under `p` for the session view these parts make.
    fn plan_as(
        p: &Profile,
        r: &RequestSpec,
        mutation: Option<Mutation>,
        registered: Client,
        vars: &Vars,
        client_token: Option<&str>,
    ) -> Planned {
        let endpoints = Endpoints::of(p);
        let fixtures = crate::scenario::Fixtures::at(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
        let env =
            PlanEnv { profile: p, pki: test_pki(), endpoints: &endpoints, fixtures: &fixtures, now: now(), memo: None };
        let clients = BTreeMap::from([("client".to_string(), registered)]);
        let view = SessionView { vars, clients: &clients, dcr_token: None, client_token };
        plan(r, mutation, &env, &view).expect("plans")
    }

    /// Plans `r` under `p` with the test directory's statement bound and `mutation`.
    fn plan_obuk(p: &Profile, r: &RequestSpec, mutation: Option<Mutation>, client_token: Option<&str>) -> Planned {
        let statement = test_pki().statement("ssa").expect("ssa").to_string();
        let vars = Vars::from([("statement".to_string(), statement)]);
        plan_as(p, r, mutation, client(), &vars, client_token)
    }

    #[test]
    fn request_objects_carry_the_metadata_signed_and_management_the_clients_own_token() {
        let p = profile(OBUK);
        let mut register = RequestSpec::of(Operation::Register);
        register.body = Some(serde_json::json!({ "redirect_uris": ["https://tpp.example/cb"] }));
        let planned = plan_obuk(&p, &register, None, None);
        assert_eq!(header(&planned, "Content-Type"), Some("application/jose"));
        let jws = String::from_utf8(planned.msg.body.clone()).expect("text");
        let parts = crate::pki::jws::parts(&jws).expect("a compact JWS");
        assert_eq!((parts.alg(), parts.kid()), ("PS256", "qseal"));
        for (claim, expected) in [("iss", "tpp-a-app"), ("aud", "https://bank.example")] {
            assert_eq!(parts.claims[claim], expected, "{claim}");
        }
        assert!(parts.claims["software_statement"].is_string(), "the profile's registration field is inside");
        assert_eq!(
            sent_metadata(&planned.msg.body).map(|m| m["redirect_uris"].clone()),
            Some(register.body.clone().unwrap_or_default()["redirect_uris"].clone())
        );
        assert!(header(&planned, "Signature").is_none(), "no HTTP signature in this profile");

        let unsigned = plan_obuk(&p, &register, Some(Mutation::RequestObjectAlgNone), None);
        let jws = String::from_utf8(unsigned.msg.body.clone()).expect("text");
        assert_eq!(crate::pki::jws::parts(&jws).map(|p| p.alg().to_string()).as_deref(), Some("none"));

        let mut update = RequestSpec::of(Operation::Update);
        update.body = Some(serde_json::json!({ "client_id": "c-1" }));
        let planned = plan_obuk(&p, &update, None, Some("at-1"));
        assert_eq!(auth(&planned), "bearer at-1");
        assert_eq!((planned.msg.method.as_str(), planned.msg.target.as_str()), ("PUT", "/client/v1/register/c-1"));
        assert_eq!(header(&planned, "Content-Type"), Some("application/jose"), "an update is a request object too");
        assert_eq!(client_token_needed(&update, &p), Some("client"));
        update.registration_token = Some("chosen".into());
        assert_eq!(client_token_needed(&update, &p), None, "a step's own token needs none fetched");
    }

    #[test]
    fn a_token_request_proves_the_client_by_the_method_it_registered() {
        let p = profile(OBUK);
        let cases = [
            ("", "basic", &[][..]),
            ("client_secret_post", "none", &["client_id=c-1", "client_secret=s3cret"][..]),
            ("tls_client_auth", "none", &["client_id=c-1"][..]),
            ("private_key_jwt", "none", &["client_assertion_type=urn%3Aietf", "client_assertion=ey"][..]),
        ];
        for (method, expected_auth, in_form) in cases {
            let registered = Client { auth_method: method.into(), ..client() };
            let planned = plan_as(&p, &RequestSpec::of(Operation::Token), None, registered, &Vars::new(), None);
            let form = String::from_utf8_lossy(&planned.msg.body).to_string();
            assert_eq!(auth(&planned), expected_auth, "{method}");
            assert!(form.starts_with("grant_type=client_credentials"), "{method}: {form}");
            for field in in_form {
                assert!(form.contains(field), "{method}: {field} in {form}");
            }
            assert!(
                !form.contains("client_secret=") || method == "client_secret_post",
                "{method}: no secret in the form"
            );
        }
    }

    #[test]
    fn a_client_assertion_names_the_token_endpoint_or_the_issuer_as_the_profile_says() {
        for (setting, expected) in [
            ("", "https://bank.example/oauth/token"),
            ("client_assertion_audience: issuer\n", "https://issuer.example"),
        ] {
            let p = profile(&format!("{setting}{OBUK}"));
            let vars = Vars::from([
                (builtin::BASE_URL.to_string(), "https://bank.example".to_string()),
                (builtin::ISSUER.to_string(), "https://issuer.example".to_string()),
            ]);
            let registered = Client { auth_method: "private_key_jwt".into(), ..client() };
            let planned = plan_as(&p, &RequestSpec::of(Operation::Token), None, registered, &vars, None);
            let form: BTreeMap<String, String> = form_urlencoded::parse(&planned.msg.body).into_owned().collect();
            let assertion = form.get("client_assertion").expect("an assertion");
            let parts = crate::pki::jws::parts(assertion).expect("a JWS");
            assert_eq!(parts.claims["aud"], expected, "{setting}");
            assert_eq!((parts.claims["iss"].as_str(), parts.claims["sub"].as_str()), (Some("c-1"), Some("c-1")));
        }
    }

    #[test]
    fn what_a_request_sends_is_its_json_or_its_request_objects_claims() {
        let jws = crate::pki::jws::unsigned("k", &serde_json::json!({ "client_name": "x" }));
        let cases: [(&[u8], Option<serde_json::Value>); 4] = [
            (br#"{"a":1}"#, Some(serde_json::json!({ "a": 1 }))),
            (jws.as_bytes(), Some(serde_json::json!({ "client_name": "x" }))),
            (b"not json, no jws", None),
            (b"", None),
        ];
        for (body, expected) in cases {
            assert_eq!(sent_metadata(body), expected, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn each_credential_kind_travels_its_own_way() {
        let entry = test_pki().tpp("tpp-a").expect("tpp-a");
        let basic = basic(&entry.dcr_client_id, &entry.dcr_client_secret);
        let cases = [
            ("api-key", None, Some(crate::protocol::CLIENT_ID_HEADER), None),
            ("basic", None, None, Some(basic.as_str())),
            ("bearer", Some("tok-1"), None, Some("Bearer tok-1")),
            ("none", None, None, None),
            ("initial-access-token, initial_access_token: iat-1", None, None, Some("Bearer iat-1")),
        ];
        for (kind, token, id_header, authorization) in cases {
            let p = profile(&format!("credentials: {{ kind: {kind} }}"));
            let planned = plan_in(&p, &RequestSpec::of(Operation::Register), token).expect(kind);
            assert_eq!(header(&planned, "Authorization"), authorization, "{kind}");
            assert_eq!(id_header.and_then(|h| header(&planned, h)).is_some(), id_header.is_some(), "{kind}");
            let needs_token = dcr_token_needed(&RequestSpec::of(Operation::Register), &p);
            assert_eq!(needs_token.is_some(), kind == "bearer", "{kind}");
        }
        let bearer = profile("credentials: { kind: bearer }");
        assert!(matches!(
            plan_in(&bearer, &RequestSpec::of(Operation::Register), None),
            Err(PlanError::NoDcrToken { .. })
        ));
        let nobody = RequestSpec { credentials: Some(Who::Nobody), ..RequestSpec::of(Operation::Register) };
        assert_eq!(dcr_token_needed(&nobody, &bearer), None, "`credentials: none` needs no token");
    }

    #[test]
    fn each_dialect_signs_what_its_own_verifier_accepts_and_another_refuses() {
        let dialects = [
            ("{}", "SHA-256="),
            ("{ method_case: upper, digest: hex }", ""),
            ("{ digest: prefixed-hex, key_id: fingerprint, algorithm: hs2019, header_case: canonical }", "SHA-256="),
        ];
        for (dialect, digest_prefix) in dialects {
            let p = profile(&format!("signature: {{ enabled: true, dialect: {dialect} }}"));
            let r = RequestSpec {
                body: Some(serde_json::json!({"client_name": "{{x}}"})),
                ..RequestSpec::of(Operation::Register)
            };
            let planned = plan_in(&p, &r, None).expect(dialect);
            assert!(header(&planned, "Digest").is_some_and(|d| d.starts_with(digest_prefix)), "{dialect}");
            let own = VerifyPolicy::of(p.signature.dialect.clone());
            verify(&planned.msg, &own, now()).unwrap_or_else(|e| panic!("{dialect}: {e}"));
            let other = profile("signature: { dialect: { method_case: upper, digest: hex } }").signature.dialect;
            let other = if other == p.signature.dialect { crate::signature::Dialect::default() } else { other };
            assert!(verify(&planned.msg, &VerifyPolicy::of(other), now()).is_err());
        }
    }

    #[test]
    fn the_actor_and_explicit_choices_pick_certificates_credentials_and_signers() {
        let p = profile("");
        let other = RequestSpec { actor: Actor::OtherTpp, ..RequestSpec::of(Operation::Register) };
        let planned = plan_in(&p, &other, None).expect("other tpp");
        assert_eq!(planned.tls.as_deref(), Some("qwac-b"));
        let tpp_b = &test_pki().tpp("tpp-b").expect("tpp-b").dcr_client_id;
        assert_eq!(header(&planned, crate::protocol::CLIENT_ID_HEADER), Some(tpp_b.as_str()));
        let bare = RequestSpec {
            tls: Some(Who::Nobody),
            credentials: Some(Who::Nobody),
            sign: Some(Who::Nobody),
            ..RequestSpec::of(Operation::Register)
        };
        let planned = plan_in(&p, &bare, None).expect("bare");
        assert_eq!((planned.tls.as_deref(), auth(&planned).as_str()), (None, "none"));
        assert!(header(&planned, "Signature").is_none());
        // Roles resolve to the profile's own identities: the user's certificates in the wrong role.
        let users = profile("identities: { tls: qwac-b, sign: qseal-b }");
        let swapped = RequestSpec {
            tls: Some(Who::Role(crate::scenario::Role::Sign)),
            sign: Some(Who::Role(crate::scenario::Role::Tls)),
            ..RequestSpec::of(Operation::Register)
        };
        let planned = plan_in(&users, &swapped, None).expect("swapped");
        assert_eq!(planned.tls.as_deref(), Some("qseal-b"));
        let b_serial = test_pki().identity("qwac-b").expect("qwac-b").info.serial_hex();
        assert!(header(&planned, "Signature").is_some_and(|s| s.contains(&format!("SN={b_serial}"))), "signed by $tls");
        let signed_get = RequestSpec { sign: Some(Who::Named("qseal".into())), ..RequestSpec::of(Operation::Read) };
        assert!(header(&plan_in(&p, &signed_get, None).expect("signed read"), "Signature").is_some());
    }

    #[test]
    fn what_cannot_be_built_is_a_typed_error() {
        let p = profile("");
        let named = |name: &str| Some(Who::Named(name.to_string()));
        type Expected = fn(&PlanError) -> bool;
        let cases: Vec<(&str, RequestSpec, Expected)> = vec![
            (
                "an unknown client",
                RequestSpec { client: Some("nobody".into()), ..RequestSpec::of(Operation::Read) },
                |e| matches!(e, PlanError::NoClient { name } if name == "nobody"),
            ),
            (
                "an unbound template",
                RequestSpec { query: Some("?q={{missing}}".into()), ..RequestSpec::of(Operation::Register) },
                |e| matches!(e, PlanError::Template { field: "query", .. }),
            ),
            (
                "an unset environment variable",
                RequestSpec {
                    body_raw: Some("{{env.DCR_HARNESS_SURELY_UNSET}}".into()),
                    ..RequestSpec::of(Operation::Register)
                },
                |e| matches!(e, PlanError::Template { field: "body_raw", .. }),
            ),
            ("a raw step without a path", RequestSpec::of(Operation::Raw), |e| {
                matches!(e, PlanError::RawWithoutTarget)
            }),
            (
                "a date out of the clock's range",
                RequestSpec { date_offset: DateOffset::Seconds(i64::MAX), ..RequestSpec::of(Operation::Register) },
                |e| matches!(e, PlanError::DateOutOfRange { .. }),
            ),
            (
                "an unknown signer",
                RequestSpec { sign: named("no-such-seal"), ..RequestSpec::of(Operation::Register) },
                |e| matches!(e, PlanError::Pki(PkiError::UnknownIdentity { .. })),
            ),
            (
                "a missing body file",
                RequestSpec { body_file: Some("no/such.json".into()), ..RequestSpec::of(Operation::Register) },
                |e| matches!(e, PlanError::BodyFile { .. }),
            ),
            (
                "unknown DCR credentials",
                RequestSpec { credentials: named("tpp-z"), ..RequestSpec::of(Operation::Register) },
                |e| matches!(e, PlanError::Pki(PkiError::UnknownTpp { .. })),
            ),
        ];
        for (what, r, is_expected) in cases {
            match plan_in(&p, &r, None) {
                Err(e) => assert!(is_expected(&e), "{what}: {e:?}"),
                Ok(_) => panic!("{what}: planned"),
            }
        }
        let without_refresh = profile("paths: { register: /r }");
        let e = plan_in(&without_refresh, &RequestSpec::of(Operation::RefreshSecret), None).expect_err("no path");
        assert!(matches!(e, PlanError::NoEndpoint { field: "paths.secret", .. }), "{e:?}");
        let iat = profile("credentials: { kind: initial-access-token }");
        let e = plan_in(&iat, &RequestSpec::of(Operation::Register), None).expect_err("no token");
        assert!(matches!(e, PlanError::NoEndpoint { field: "credentials.initial_access_token", .. }), "{e:?}");
        let overridden = profile(
            "credentials: { overrides: { tpp-a: { client_id: '{{env.DCR_HARNESS_SURELY_UNSET}}', client_secret: s } } }",
        );
        let e = plan_in(&overridden, &RequestSpec::of(Operation::Register), None).expect_err("unset credential");
        assert!(matches!(e, PlanError::Credentials { .. }), "{e:?}");
    }

    #[test]
    fn the_signed_date_follows_the_clock_and_the_offset() {
        let p = profile("signature: { date_window_s: 30 }");
        let cases = [
            (DateOffset::Seconds(0), 0),
            (DateOffset::Seconds(-400), -400),
            (DateOffset::Seconds(3600), 3600),
            (DateOffset::FromWindow { sign: -1, seconds: 1 }, -29),
            (DateOffset::FromWindow { sign: 1, seconds: -2 }, 28),
        ];
        for (date_offset, seconds) in cases {
            let r = RequestSpec { date_offset, ..RequestSpec::of(Operation::Register) };
            let planned = plan_in(&p, &r, None).expect("planned");
            let expected = crate::signature::http_date(offset_or_panic(now(), seconds));
            assert_eq!(header(&planned, "Date"), Some(expected.as_str()), "{date_offset:?}");
        }
    }

    fn offset_or_panic(at: SystemTime, seconds: i64) -> SystemTime {
        offset(at, seconds).expect("in range")
    }

    #[test]
    fn a_registration_token_is_left_out_only_on_purpose() {
        let p = profile(RFC7592);
        let read = |token: Option<&str>| RequestSpec {
            registration_token: token.map(str::to_string),
            ..RequestSpec::of(Operation::Read)
        };
        let on_purpose = plan_in(&p, &read(Some(NO_TOKEN)), None).expect("plans");
        assert_eq!(header(&on_purpose, "Authorization"), None);
        let guessed = plan_in(&p, &read(Some("guessed")), None).expect("plans");
        assert_eq!(header(&guessed, "Authorization"), Some("Bearer guessed"));
        // A client whose registration gave no token: never an empty bearer.
        let endpoints = Endpoints::of(&p);
        let env = PlanEnv {
            profile: &p,
            pki: test_pki(),
            endpoints: &endpoints,
            fixtures: &crate::scenario::Fixtures::at(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).into()),
            now: now(),
            memo: None,
        };
        let clients = BTreeMap::from([("client".to_string(), Client { rat: String::new(), ..client() })]);
        let view = SessionView { vars: &Vars::new(), clients: &clients, dcr_token: None, client_token: None };
        assert!(matches!(plan(&read(None), None, &env, &view), Err(PlanError::NoRegistrationToken { .. })));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Any offset, body and header a scenario may hold plans to a signed request the
        /// verifier takes, or to a typed error; never a panic.
        #[test]
        fn any_request_plans_or_is_a_typed_error(
            offset in -400i64..400,
            body in "\\PC{0,60}",
            header in "[!-~]{0,20}",
        ) {
            let p = profile("signature: { enabled: true }");
            let r = RequestSpec {
                date_offset: DateOffset::Seconds(offset),
                body_raw: Some(body),
                headers: BTreeMap::from([("X-Extra".to_string(), header)]),
                ..RequestSpec::of(Operation::Register)
            };
            if let Ok(planned) = plan_in(&p, &r, None) {
                let policy = VerifyPolicy { max_skew: None, ..VerifyPolicy::default() };
                proptest::prop_assert!(verify(&planned.msg, &policy, now()).is_ok());
            }
        }
    }
}
