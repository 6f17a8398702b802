//! Planning: one pure function from a request in scenario terms, the target profile, what the
//! session knows (variables, registered clients, a DCR-service token), the PKI and the clock to
//! a signed request ready to send, or a typed [`PlanError`] saying why it cannot be built. A
//! plan error is the harness's or the configuration's fault, never the server's. Nothing here
//! sends, reads files other than a step's `body_file`, or keeps state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::pki::{Pki, PkiError};
use crate::scenario::profile::{CredentialKind, Management};
use crate::scenario::template::{render, render_value, Unbound};
use crate::scenario::{Actor, Operation, Profile, RequestSpec};
use crate::signature::{sign_mutated, Message, Mutation, MutationContext, SignError};

/// Template variables by name.
pub type Vars = BTreeMap<String, String>;

/// The endpoints of the target, after discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub register: String,
    pub token: String,
}

impl Endpoints {
    /// The profile's own paths (before any discovery).
    pub fn of(profile: &Profile) -> Self {
        Endpoints { register: profile.paths.register.clone(), token: profile.paths.token.clone() }
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
}

/// A request ready to send: the signed message and the TLS identity to present.
#[derive(Debug, Clone)]
pub struct Planned {
    pub msg: Message,
    pub tls: Option<String>,
}

/// What a plan is built against that does not change while a run lasts.
pub struct PlanEnv<'a> {
    pub profile: &'a Profile,
    pub pki: &'a Pki,
    pub endpoints: &'a Endpoints,
    /// Where `body_file` paths are relative to.
    pub fixtures: &'a Path,
    /// The moment to sign at (before `date_offset`).
    pub now: SystemTime,
}

/// What the session knows at the moment of planning.
#[derive(Clone, Copy)]
pub struct SessionView<'a> {
    pub vars: &'a Vars,
    pub clients: &'a BTreeMap<String, Client>,
    /// The DCR-service bearer token of the TPP the request speaks for, when the profile's
    /// credentials are `bearer` (see [`dcr_token_needed`]).
    pub dcr_token: Option<&'a str>,
}

/// Why a request could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("no client `{name}` is registered at this point")]
    NoClient { name: String },
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
    #[error("date_offset {offset} s takes the signed Date out of range")]
    DateOutOfRange { offset: i64 },
    #[error("signing: {0}")]
    Sign(#[from] SignError),
}

/// How a request authenticates besides its TLS certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Auth {
    /// `token`: HTTP Basic as the registered client.
    ClientSecret,
    /// RFC 7592 management: the registration access token as a bearer.
    RegistrationToken,
    /// The TPP's DCR-service credentials, or none.
    Dcr(Option<String>),
}

fn auth_of(r: &RequestSpec, profile: &Profile) -> Auth {
    let rfc7592_management = !matches!(r.op, Operation::Register | Operation::Raw);
    if r.op == Operation::Token {
        Auth::ClientSecret
    } else if profile.management == Management::RegistrationToken && rfc7592_management {
        Auth::RegistrationToken
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
        let fill = |text: &str| {
            render(text, &Vars::new()).map_err(|source| PlanError::Credentials { tpp: tpp.to_string(), source })
        };
        return Ok((fill(&o.client_id)?, fill(&o.client_secret)?));
    }
    let entry = pki.tpp(tpp)?;
    Ok((entry.dcr_client_id.clone(), entry.dcr_client_secret.clone()))
}

/// The TLS identity a request presents: its own choice, else its actor's QWAC.
fn tls_of(r: &RequestSpec, profile: &Profile) -> Option<String> {
    let ids = &profile.identities;
    match &r.tls {
        Some(who) => who.name().map(str::to_string),
        None => match r.actor {
            Actor::Tpp => ids.tls.name().map(str::to_string),
            Actor::OtherTpp => ids.other_tls.name().map(str::to_string),
        },
    }
}

/// The signing identity: its own choice, else its actor's QSEAL where the profile signs the
/// method (POST, PUT, DELETE; never the token endpoint).
fn signer_of(r: &RequestSpec, method: &str, profile: &Profile) -> Option<String> {
    let signs = profile.signature.enabled && ["POST", "PUT", "DELETE"].contains(&method) && r.op != Operation::Token;
    match &r.sign {
        Some(who) => who.name().map(str::to_string),
        None => signs
            .then(|| match r.actor {
                Actor::Tpp => profile.identities.sign.name().map(str::to_string),
                Actor::OtherTpp => profile.identities.other_sign.name().map(str::to_string),
            })
            .flatten(),
    }
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
    let (method, mut target) = method_and_path(r, client, env, view.vars)?;
    if let Some(query) = &r.query {
        target.push_str(&fill("query", query, view.vars)?);
    }
    let (body, default_type) = body(r, env.fixtures, view.vars)?;
    let mut msg = Message::new(&method, &target, body);
    if let Some(ct) = r.content_type.clone().or(default_type) {
        msg.add_header("Content-Type", &ct);
    }
    match auth_of(r, profile) {
        Auth::ClientSecret => {
            let client = client.ok_or_else(|| PlanError::NoClient { name: r.client_name().to_string() })?;
            let secret = match &r.secret {
                Some(s) => fill("secret", s, view.vars)?,
                None => client.secret.clone(),
            };
            msg.add_header("Authorization", &basic(&client.id, &secret));
        }
        Auth::RegistrationToken => {
            let token = match &r.registration_token {
                Some(t) => fill("registration_token", t, view.vars)?,
                None => client.map(|c| c.rat.clone()).unwrap_or_default(),
            };
            msg.add_header("Authorization", &format!("Bearer {token}"));
        }
        Auth::Dcr(None) => {}
        Auth::Dcr(Some(tpp)) => add_dcr_credentials(&mut msg, profile, env.pki, &tpp, view.dcr_token)?,
    }
    for (name, value) in &r.headers {
        msg.add_header(name, &fill("headers", value, view.vars)?);
    }
    if let Some(signer) = signer_of(r, &method, profile) {
        let identity = env.pki.identity(&signer)?;
        let other = profile.identities.other_sign.name().and_then(|name| env.pki.identity(name).ok());
        let date = offset(env.now, r.date_offset).ok_or(PlanError::DateOutOfRange { offset: r.date_offset })?;
        sign_mutated(
            identity,
            &profile.signature.dialect,
            &mut msg,
            date,
            mutation,
            &MutationContext { other_identity: other },
        )?;
    }
    Ok(Planned { msg, tls: tls_of(r, profile) })
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
        CredentialKind::None => {}
    }
    Ok(())
}

fn method_and_path(
    r: &RequestSpec,
    client: Option<&Client>,
    env: &PlanEnv<'_>,
    vars: &Vars,
) -> Result<(String, String), PlanError> {
    let paths = &env.profile.paths;
    let client_path = |template: &str| -> Result<String, PlanError> {
        let c = client.ok_or_else(|| PlanError::NoClient { name: r.client_name().to_string() })?;
        if env.profile.management == Management::RegistrationToken && !c.uri.is_empty() && template == paths.client {
            return Ok(reqwest::Url::parse(&c.uri).map(|u| u.path().to_string()).unwrap_or_else(|_| c.uri.clone()));
        }
        Ok(template.replace("{client_id}", &c.id))
    };
    let method = |m: &http::Method| m.as_str().to_string();
    Ok(match r.op {
        Operation::Register => (method(&http::Method::POST), env.endpoints.register.clone()),
        Operation::Read => (method(&http::Method::GET), client_path(&paths.client)?),
        Operation::Update => (method(&http::Method::PUT), client_path(&paths.client)?),
        Operation::Delete => (method(&http::Method::DELETE), client_path(&paths.client)?),
        Operation::RefreshSecret => (method(&http::Method::POST), client_path(&paths.secret)?),
        Operation::Token => (method(&http::Method::POST), env.endpoints.token.clone()),
        Operation::Raw => {
            let (Some(m), Some(path)) = (&r.method, &r.path) else {
                return Err(PlanError::RawWithoutTarget);
            };
            (m.as_str().to_string(), fill("path", path, vars)?)
        }
    })
}

fn body(r: &RequestSpec, fixtures: &Path, vars: &Vars) -> Result<(Vec<u8>, Option<String>), PlanError> {
    let json = Some("application/json".to_string());
    if r.op == Operation::Token {
        return Ok((b"grant_type=client_credentials".to_vec(), Some("application/x-www-form-urlencoded".into())));
    }
    if let Some(body) = &r.body {
        let value = render_value(body, vars).map_err(|source| PlanError::Template { field: "body", source })?;
        return Ok((value.to_string().into_bytes(), json));
    }
    if let Some(file) = &r.body_file {
        let path = fixtures.join(file);
        let text = std::fs::read_to_string(&path).map_err(|source| PlanError::BodyFile { path, source })?;
        return Ok((fill("body_file", &text, vars)?.into_bytes(), json));
    }
    if let Some(raw) = &r.body_raw {
        return Ok((fill("body_raw", raw, vars)?.into_bytes(), json));
    }
    Ok((Vec::new(), None))
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
