//! What can be checked before the first scenario, so that a setup mistake stops the run with
//! exit 2 and what to fix, instead of turning into dozens of server "failures". Offline: the
//! profile's identities are in the PKI, and every environment variable the profile and the
//! selected scenarios use is set (`validate` runs this part). Online: the target speaks TLS
//! where its URL says so, its certificate is trusted, it accepts the profile's QWAC in the
//! handshake, and one probe shows it accepts the DCR-service credentials. It judges setup only;
//! it never decides a verdict.

use std::collections::{BTreeMap, BTreeSet};

use crate::scenario::Fixtures;
use std::sync::Arc;

use crate::error::Error;
use crate::pki::Pki;
use crate::run::session::{Answer, Lesson, Session};
use crate::run::Target;
use crate::scenario::profile::CredentialKind;
use crate::scenario::{template, Operation, Profile, RequestSpec, Scenario, Who};
use crate::signature::Message;
use crate::transport::TransportError;

/// Every setup problem that needs no network, one line each.
pub fn offline(profile: &Profile, pki: &Pki, scenarios: &[Scenario], fixtures: &Fixtures) -> Vec<String> {
    let text = ProfileText::of(profile);
    let mut problems = identity_problems(profile, pki);
    problems.extend(target_problems(profile, &text));
    problems.extend(body_file_problems(scenarios, fixtures));
    problems.extend(unset_environment(profile, scenarios, fixtures, &text));
    problems
}

/// The profile's file as text, for messages that point at a line in it: read once, and only
/// if a message needs it.
struct ProfileText<'a> {
    profile: &'a Profile,
    text: std::cell::OnceCell<String>,
}

impl<'a> ProfileText<'a> {
    fn of(profile: &'a Profile) -> Self {
        ProfileText { profile, text: std::cell::OnceCell::new() }
    }

    fn get(&self) -> &str {
        self.text.get_or_init(|| {
            self.profile.file.as_deref().and_then(|f| crate::diagnostic::read_yaml_text(f).ok()).unwrap_or_default()
        })
    }
}

/// The profile's target as written, and the CA bundle it trusts: what `run` would refuse
/// before sending anything.
fn target_problems(profile: &Profile, text: &ProfileText<'_>) -> Vec<String> {
    let at = |key: &str| match (&profile.file, crate::diagnostic::line_of_key(text.get(), key)) {
        (Some(file), Some(line)) => format!("{}:{line}:1: profile `{}`: {key}", file.display(), profile.name),
        _ => format!("profile `{}`: {key}", profile.name),
    };
    let mut problems = Vec::new();
    if let Some(problem) = profile.base_url.as_deref().and_then(|url| target_url_problem(url, &profile.paths)) {
        problems.push(format!("{} {problem}", at("base_url")));
    }
    for file in &profile.server_ca {
        if let Err(e) = crate::pki::read_certs(file) {
            problems.push(format!("{}: {e}", at("server_ca")));
        }
    }
    problems
}

/// Every step's `body_file` is a fixture that can be read.
fn body_file_problems(scenarios: &[Scenario], fixtures: &Fixtures) -> Vec<String> {
    let mut problems = Vec::new();
    for s in scenarios {
        for (i, step) in s.steps.iter().enumerate() {
            if let Some(Err(e)) = step.request.body_file.as_ref().map(|file| fixtures.read(file)) {
                problems.push(format!(
                    "{}:{}:1: scenario `{}` step {}: body_file: {e}",
                    s.file.display(),
                    s.line,
                    s.id,
                    i + 1
                ));
            }
        }
    }
    problems
}

/// What is wrong with a target URL as written, with what was likely meant: a missing scheme or
/// `//`, another scheme, an endpoint's path where the base URL belongs, a query or fragment.
pub fn target_url_problem(text: &str, paths: &crate::scenario::profile::Paths) -> Option<String> {
    let text = text.trim();
    let url = match reqwest::Url::parse(text) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            return Some(format!("`{text}` has no scheme: did you mean https://{text}?"))
        }
        Err(e) => return Some(format!("`{text}` is not a URL: {e}")),
    };
    if !matches!(url.scheme(), "https" | "http") {
        return Some(format!("`{text}`: the scheme must be https (or http for a plain server on loopback)"));
    }
    let after_scheme = &text[url.scheme().len() + 1..];
    if !after_scheme.starts_with("//") {
        let rest = after_scheme.trim_start_matches('/');
        return Some(format!(
            "`{text}` lacks the `//` after `{}:`: did you mean {}://{rest}?",
            url.scheme(),
            url.scheme()
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Some(format!("`{text}`: a target is a base URL, without query or fragment"));
    }
    let path = url.path().trim_end_matches('/');
    let endpoint = [Some(&paths.register), Some(&paths.client), paths.secret.as_ref(), Some(&paths.token)]
        .into_iter()
        .flatten()
        .map(|p| p.split("/{").next().unwrap_or(p).trim_end_matches('/'))
        .filter(|p| !p.is_empty())
        .find(|p| path.ends_with(p));
    if let Some(endpoint) = endpoint {
        let base = format!("{}{}", url.origin().ascii_serialization(), &path[..path.len() - endpoint.len()]);
        return Some(format!(
            "`{text}` ends with the endpoint path `{endpoint}`, which the profile adds itself: give the base URL, {base}"
        ));
    }
    None
}

fn identity_problems(profile: &Profile, pki: &Pki) -> Vec<String> {
    let ids = &profile.identities;
    let known = || pki.identities().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ");
    let mut problems = Vec::new();
    for (field, who) in [
        ("identities.tls", &ids.tls),
        ("identities.sign", &ids.sign),
        ("identities.other_tls", &ids.other_tls),
        ("identities.other_sign", &ids.other_sign),
    ] {
        if let Who::Named(name) = who {
            if !pki.has_identity(name) {
                problems.push(format!(
                    "profile `{}`: {field} is `{name}`, which the PKI in {} does not have{}; known: {}",
                    profile.name,
                    pki.dir.display(),
                    crate::scenario::did_you_mean(name, pki.identities().map(|i| i.name.as_str())),
                    known()
                ));
            }
        }
    }
    let credentials_needed = profile.credentials.kind != CredentialKind::None;
    for (field, tpp) in [("identities.tpp", &ids.tpp), ("identities.other_tpp", &ids.other_tpp)] {
        let known_tpp = pki.tpp(tpp).is_ok() || profile.credentials.overrides.contains_key(tpp);
        if credentials_needed && !known_tpp {
            problems.push(format!(
                "profile `{}`: {field} is `{tpp}`, which neither the PKI manifest nor credentials.overrides names",
                profile.name
            ));
        }
    }
    problems
}

/// `env.X` names used by the profile and the scenarios, each with where it is used.
fn unset_environment(
    profile: &Profile,
    scenarios: &[Scenario],
    fixtures: &Fixtures,
    text: &ProfileText<'_>,
) -> Vec<String> {
    let mut users: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut note = |names: Vec<String>, by: &str| {
        for name in names {
            if let Some(var) = name.strip_prefix("env.") {
                users.entry(var.to_string()).or_default().insert(by.to_string());
            }
        }
    };
    // Where in the profile file a template is, so that the message points at a line.
    let in_profile =
        |template: &str, what: String| match (&profile.file, text.get().lines().position(|l| l.contains(template))) {
            (Some(file), Some(i)) => format!("{}:{}:1: profile {what}", file.display(), i + 1),
            _ => format!("profile {what}"),
        };
    for (tpp, o) in &profile.credentials.overrides {
        for value in [&o.client_id, &o.client_secret] {
            note(template::names(value), &in_profile(value, format!("credentials.overrides.{tpp}")));
        }
    }
    if let Some(iat) = &profile.credentials.initial_access_token {
        note(template::names(iat), &in_profile(iat, "credentials.initial_access_token".into()));
    }
    for s in scenarios {
        for (i, step) in s.steps.iter().enumerate() {
            let by = format!("{}:{}:1: scenario `{}` step {}", s.file.display(), s.line, s.id, i + 1);
            note(template::names_in_step(step), &by);
            if let Some(file) = &step.request.body_file {
                if let Ok(text) = fixtures.read(file) {
                    note(template::names(&text), &by);
                }
            }
        }
    }
    users
        .into_iter()
        .filter(|(var, _)| std::env::var_os(var).is_none())
        .map(|(var, by)| {
            let shown: Vec<&str> = by.iter().map(String::as_str).take(3).collect();
            let more = by.len().saturating_sub(shown.len());
            let more = if more > 0 { format!(" and {more} more") } else { String::new() };
            format!("environment variable {var} is not set (used by {}{more})", shown.join(", "))
        })
        .collect()
}

/// The checks that need the target: TLS as the URL says, trust both ways, credentials.
pub async fn online(target: &Arc<Target>) -> Result<(), Error> {
    reachable_and_trusted(target).await?;
    probe_credentials(target).await
}

/// The target answers over TLS as the URL says, trusts the profile's QWAC and is trusted.
pub async fn reachable_and_trusted(target: &Arc<Target>) -> Result<(), Error> {
    let tls = target.profile.identities.tls.name();
    let probe = Message::new("GET", "/.well-known/oauth-authorization-server", Vec::new());
    match target.send(tls, &probe).await {
        Ok(_) => {}
        Err(e @ (TransportError::Unreachable { .. } | TransportError::Timeout { .. } | TransportError::Other { .. })) => {
            return Err(Error::Unreachable { target: target.base_url.clone(), cause: e.into() })
        }
        Err(TransportError::TlsRefused { cause, .. }) => {
            return Err(Error::input(
                "preflight",
                format!(
                    "{} refused the profile's QWAC `{}` in the TLS handshake: check that it trusts the QTSP that issued it ({cause})",
                    target.base_url,
                    tls.unwrap_or("none")
                ),
            ))
        }
        Err(other) => return Err(Error::input("preflight", other)),
    }
    Ok(())
}

/// One valid registration (deleted at once) with the profile's identities and credentials: a
/// 401 or 403 shows the target refuses them. Any other answer is left to the scenarios to
/// judge; a refusal of a valid registration is their business, not setup's.
async fn probe_credentials(target: &Arc<Target>) -> Result<(), Error> {
    let mut session = Session::new(target.clone());
    let registered = register_client(&mut session, "dcr-harness preflight {{unique}}").await;
    let cleanup = session.cleanup().await;
    let profile = &target.profile;
    match registered {
        Err(RegistrationError::Refused { status: status @ (401 | 403), code }) => Err(Error::input(
            "preflight",
            format!(
                "a valid registration with the DCR-service credentials of `{}` and the QWAC `{}` answered {status} {code}: the target refuses them; check credentials and identities in profile `{}`",
                profile.identities.tpp,
                profile.identities.tls.name().unwrap_or("none"),
                profile.name
            ),
        )),
        Err(RegistrationError::Plan(e)) => Err(Error::input("preflight: the probe registration", e)),
        Err(RegistrationError::NoAnswer(e)) if e.is_setup() => Err(Error::input("preflight", e)),
        // A target that does not answer is unreachable (exit 3), not a mistake in the setup.
        Err(RegistrationError::NoAnswer(e)) => {
            Err(Error::Unreachable { target: target.base_url.clone(), cause: format!("the probe registration: {e}").into() })
        }
        // Whatever the registration came to, a client it left is named (and ledgered).
        _ if cleanup.iter().any(|c| !c.ok && !c.stranded) => Err(Error::ClientsLeft {
            what: "preflight: the probe registration".into(),
            clients: cleanup.iter().filter(|c| !c.ok && !c.stranded).map(|c| format!("{} ({})", c.client, c.detail)).collect(),
            hint: crate::run::model::cleanup_hint(target.ledger.path().map(|l| l.display().to_string()).as_deref()),
        }),
        _ => Ok(()),
    }
}

/// Why a registration did not give the session a client.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error("the registration could not be built: {0}")]
    Plan(#[from] crate::run::plan::PlanError),
    #[error("no answer: {0}")]
    NoAnswer(#[from] TransportError),
    #[error("a valid registration was answered {status} {code}, not 201")]
    Refused { status: u16, code: String },
}

/// The body of a valid, minimal registration named `client_name` (a template).
pub fn registration_body(client_name: &str) -> serde_json::Value {
    serde_json::json!({ "client_name": client_name, "redirect_uris": ["https://tpp.example/cb"] })
}

/// Registers a client named `client_name` (a template) as the profile's TPP; the session
/// knows it as its default client from then on.
pub async fn register_client(session: &mut Session, client_name: &str) -> Result<(), RegistrationError> {
    let request = RequestSpec { body: Some(registration_body(client_name)), ..RequestSpec::of(Operation::Register) };
    let planned = session.plan(&request, None).await?;
    let response = session.send(&planned).await?;
    session.target().secrets.learn_body(&response.body);
    let client = crate::scenario::DEFAULT_CLIENT;
    let lesson = Lesson::without_capture(Operation::Register, client, client, true);
    session.absorb(&lesson, Answer::from(&response));
    match response.status {
        201 => Ok(()),
        status => Err(RegistrationError::Refused {
            status,
            code: crate::run::check::error_code(&response).unwrap_or_default(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::test_pki;

    fn profile(yaml: &str) -> Profile {
        serde_norway::from_str(&format!("name: p\n{yaml}")).expect("profile")
    }

    #[test]
    fn unknown_identities_and_unset_variables_are_named_with_their_users() {
        let fixtures = Fixtures::at(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
        let p = profile(
            "identities: { tls: qwack }\ncredentials: { overrides: { tpp-a: { client_id: '{{env.DCR_HARNESS_UNSET_A}}', client_secret: s } } }",
        );
        let scenarios: Vec<Scenario> = serde_norway::from_str(
            "- { id: s1, title: t, area: auth, severity: MUST, source: x, steps: [ { request: { op: register, query: '?a={{env.DCR_HARNESS_UNSET_B}}' } } ] }",
        )
        .expect("scenarios");
        let problems = offline(&p, test_pki(), &scenarios, &fixtures);
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].contains("identities.tls is `qwack`") && problems[0].contains("did you mean `qwac`"));
        assert!(problems[1].contains("DCR_HARNESS_UNSET_A") && problems[1].contains("credentials.overrides.tpp-a"));
        assert!(problems[2].contains("DCR_HARNESS_UNSET_B") && problems[2].contains("scenario `s1` step 1"));
        assert!(offline(&profile(""), test_pki(), &[], &fixtures).is_empty(), "the defaults are all there");
    }
}
