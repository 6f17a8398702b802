//! The target of a run: its base URL, the profile that says how to talk to it, the PKI, the
//! transport, its endpoints (after discovery) and the DCR-service bearer tokens fetched for it
//! (once per run and TPP). Sessions share one target; it holds no per-scenario state.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Mutex;

use super::plan::{self, Endpoints, PlanError};
use crate::pki::Pki;
use crate::scenario::Profile;
use crate::signature::Message;
use crate::transport::{Transport, TransportError};

/// Where and how to run.
pub struct Target {
    pub base_url: String,
    pub pki: Arc<Pki>,
    pub profile: Profile,
    pub transport: Transport,
    pub fixtures: crate::scenario::Fixtures,
    /// The endpoints, after discovery.
    pub endpoints: Endpoints,
    /// Whose answers the stored snapshots are: the embedded server's are kept under the
    /// profile's name; a foreign target's under the profile and its host, never compared with
    /// another target's.
    pub snapshot_key: String,
    /// Every secret the run has sent or been given, redacted wherever it turns up.
    pub secrets: crate::run::model::redact::SecretBook,
    /// Every client registered and not yet deleted (a file for a foreign target).
    pub ledger: crate::run::ledger::Ledger,
    /// The harness's key store, where one was started (`{{keystore}}`).
    pub keystore: Option<crate::keystore::Handle>,
    /// The faults in force in the services the run hosts, and which it hosts.
    pub faults: crate::fault::Switchboard,
    pub hosted: Vec<crate::fault::Service>,
    /// How much of a Date window's edge a request signed against it keeps for its journey and
    /// the target's clock: [`DATE_MARGIN`] for a target elsewhere; the embedded server, on
    /// loopback with this process's clock, needs only [`DATE_MARGIN_EMBEDDED`].
    pub date_margin: std::time::Duration,
    dcr_tokens: Mutex<BTreeMap<String, String>>,
    /// Origins other than the target's that requests went to (a `registration_client_uri`
    /// elsewhere, RFC 7592 §3): every report names them.
    elsewhere: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// Statements whose keys are at the key store, issued once per run where used.
    keys_at_statements: std::sync::OnceLock<Vec<(&'static str, String)>>,
}

/// Why the target's metadata document did not give its endpoints.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("{document}: endpoint `{endpoint}`: {source}")]
    BadEndpoint {
        document: &'static str,
        endpoint: String,
        #[source]
        source: url::ParseError,
    },
    #[error("no registration_endpoint in {} (tried: {})", .base_url, .tried.join("; "))]
    NotFound { base_url: String, tried: Vec<String> },
    /// The metadata document could not be asked for because of the setup (the server's
    /// certificate refused, no TLS where the URL says).
    #[error(transparent)]
    Setup(TransportError),
}

/// `path` below `base` (a base URL's path without its trailing `/`), as the part after it; a
/// path elsewhere is kept whole.
fn relative_to(path: &str, base: &str) -> String {
    match path.strip_prefix(base) {
        Some(rest) if !base.is_empty() && (rest.is_empty() || rest.starts_with('/')) => rest.to_string(),
        _ => path.to_string(),
    }
}

/// The metadata documents a target may publish (RFC 8414, then OpenID Connect Discovery).
const METADATA_DOCUMENTS: [&str; 2] = ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"];

/// The margin a request signed against the window's edge keeps for a target elsewhere.
pub const DATE_MARGIN: std::time::Duration = std::time::Duration::from_millis(400);
/// The margin it keeps for the embedded server (the same clock, a loopback journey).
pub const DATE_MARGIN_EMBEDDED: std::time::Duration = std::time::Duration::from_millis(50);

impl Target {
    pub fn new(
        base_url: String,
        pki: Arc<Pki>,
        profile: Profile,
        transport: Transport,
        fixtures: crate::scenario::Fixtures,
    ) -> Self {
        let endpoints = Endpoints {
            origin: reqwest::Url::parse(&base_url).map(|u| u.origin().ascii_serialization()).unwrap_or_default(),
            ..Endpoints::of(&profile)
        };
        let snapshot_key = profile.name.clone();
        Target {
            base_url,
            pki,
            profile,
            transport,
            fixtures,
            endpoints,
            snapshot_key,
            secrets: Default::default(),
            ledger: crate::run::ledger::Ledger::in_memory(),
            keystore: None,
            faults: Default::default(),
            hosted: Vec::new(),
            date_margin: DATE_MARGIN,
            dcr_tokens: Mutex::new(BTreeMap::new()),
            elsewhere: Default::default(),
            keys_at_statements: Default::default(),
        }
    }

    /// Puts `faults` in force, where the run hosts every service they name; else says which
    /// it does not host.
    pub fn hold_faults(&self, faults: &crate::fault::Faults) -> Result<(), String> {
        let missing: Vec<_> = faults.services().filter(|s| !self.hosted.contains(s)).map(|s| s.name()).collect();
        if !missing.is_empty() {
            let hosted: Vec<_> = self.hosted.iter().map(|s| s.name()).collect();
            return Err(format!(
                "this run hosts no {} service (it hosts {}): the QTSP's services run for the embedded server where the profile holds revocation-check, the key store where it holds jwks-uri, jwks-rotation, sector-identifier or software-jwks-endpoint",
                missing.join(" or "),
                if hosted.is_empty() { "none".to_string() } else { hosted.join(", ") }
            ));
        }
        self.faults.set(faults);
        Ok(())
    }

    /// Whose keys a key set in rotation publishes (`{{rotating_jwks_uri}}`): the profile's
    /// signing identity's until the scenario rotates it, then its other signing identity's.
    pub fn rotating_keys(&self) -> Option<(&str, &str)> {
        let ids = &self.profile.identities;
        Some((ids.sign.name()?, ids.other_sign.name()?))
    }

    /// Statements of the profile's TPP that carry no keys but name where they are (Open Banking
    /// UK's `software_jwks_endpoint`), by the variable scenarios use: at the key store's key set
    /// of the profile's signing identity, of its other signing identity, and under `/stalled/`.
    /// Issued once per run (each costs a signature); none without a key store.
    pub fn keys_at_statements(&self) -> &[(&'static str, String)] {
        use crate::scenario::template::builtin;
        self.keys_at_statements.get_or_init(|| {
            let ids = &self.profile.identities;
            let (Some(keystore), Some(sign), Some(other)) = (&self.keystore, ids.sign.name(), ids.other_sign.name())
            else {
                return Vec::new();
            };
            let software = format!("{}-app", ids.tpp);
            let at = [
                (builtin::KEYS_AT_STATEMENT, format!("{}/{sign}.jwks", keystore.url())),
                (builtin::KEYS_AT_OTHER_KEY_STATEMENT, format!("{}/{other}.jwks", keystore.url())),
                (
                    builtin::KEYS_AT_STALLED_STATEMENT,
                    format!("{}{}{sign}.jwks", keystore.url(), crate::keystore::STALLED),
                ),
            ];
            let issue = |endpoint: &str| self.pki.issue_statement_with_keys_at(&ids.tpp, &software, endpoint).ok();
            at.into_iter().filter_map(|(var, endpoint)| Some((var, issue(&endpoint)?))).collect()
        })
    }

    /// Learns the secrets `msg` carries, under the profile's own credential header names too.
    pub fn learn_secrets(&self, msg: &crate::signature::Message) {
        let credentials = &self.profile.credentials;
        self.secrets.learn_request(msg, &[&credentials.client_id_header, &credentials.client_secret_header]);
    }

    /// The snapshot key of a foreign target: the profile and the target's host and port, in
    /// characters any file system takes.
    pub fn foreign_snapshot_key(profile: &str, base_url: &str) -> String {
        let host = reqwest::Url::parse(base_url)
            .ok()
            .and_then(|u| Some(format!("{}-{}", u.host_str()?, u.port_or_known_default()?)))
            .unwrap_or_else(|| base_url.to_string());
        let safe: String =
            host.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
        format!("{profile}@{safe}")
    }

    /// Finds the registration endpoint (and the token endpoint, where there is one) in the
    /// target's metadata document (RFC 8414 §2).
    pub async fn discover(&mut self) -> Result<(), DiscoveryError> {
        let mut tried = Vec::new();
        for document in METADATA_DOCUMENTS {
            let msg = Message::new("GET", document, Vec::new());
            let response = match self.transport.send(&self.pki, None, &self.base_url, &msg).await {
                Ok(response) => response,
                Err(e) if e.is_setup() => return Err(DiscoveryError::Setup(e)),
                Err(e) => {
                    tried.push(format!("{document}: {e}"));
                    continue;
                }
            };
            let json = response.json();
            let endpoint =
                |field: &str| json.as_ref().and_then(|j| j.get(field)).and_then(Value::as_str).map(str::to_string);
            // Requests go to the base URL followed by a path: an endpoint under the base URL's
            // own path (`https://h/api/oidc` and `https://h/api/oidc/register`) keeps only the
            // rest, so that the prefix is not sent twice.
            let base_path = reqwest::Url::parse(&self.base_url).map(|u| u.path().trim_end_matches('/').to_string());
            let base_path = base_path.unwrap_or_default();
            let path_of = |endpoint: String| {
                reqwest::Url::parse(&endpoint)
                    .map(|url| relative_to(url.path(), &base_path))
                    .map_err(|source| DiscoveryError::BadEndpoint { document, endpoint, source })
            };
            match endpoint("registration_endpoint") {
                Some(registration) => {
                    self.endpoints.register = path_of(registration)?;
                    if let Some(token) = endpoint("token_endpoint") {
                        self.endpoints.token = path_of(token)?;
                    }
                    if let (None, Some(introspection)) =
                        (&self.endpoints.introspection, endpoint("introspection_endpoint"))
                    {
                        self.endpoints.introspection = Some(path_of(introspection)?);
                    }
                    self.endpoints.issuer = endpoint("issuer");
                    return Ok(());
                }
                None => tried.push(format!("{document}: {} without registration_endpoint", response.status)),
            }
        }
        Err(DiscoveryError::NotFound { base_url: self.base_url.clone(), tried })
    }

    /// What the target shows of itself, each as SHA-256 in hex, for an attestation: its TLS
    /// certificate (the leaf it presents), and its metadata document (the first of the
    /// well-known documents that answers 200 whole) with the document's URL.
    pub async fn fingerprints(&self) -> (Option<String>, Option<(String, String)>) {
        let identity = self.profile.identities.tls.name();
        let certificate = self.transport.server_certificate(&self.pki, identity, &self.base_url).await;
        let mut metadata = None;
        for document in METADATA_DOCUMENTS {
            let answer = self.send(None, &Message::new("GET", document, Vec::new())).await;
            if let Some(response) = answer.ok().filter(|r| r.status == 200 && !r.truncated) {
                let url = format!("{}{document}", self.base_url.trim_end_matches('/'));
                metadata = Some((url, crate::pki::inspect::sha256_hex(&response.body)));
                break;
            }
        }
        (certificate.ok().map(|der| crate::pki::inspect::sha256_hex(&der)), metadata)
    }

    /// Sends `msg` presenting the TLS identity `tls`.
    pub async fn send(&self, tls: Option<&str>, msg: &Message) -> Result<crate::transport::Response, TransportError> {
        self.transport.send(&self.pki, tls, &self.base_url, msg).await
    }

    /// Sends a planned request: to its own origin where it has one; as the span its
    /// `traceparent` names, where the scenario is traced.
    pub async fn send_planned(
        &self,
        planned: &super::plan::Planned,
        traced: Option<&super::trace::Traced>,
    ) -> Result<crate::transport::Response, TransportError> {
        let origin = self.origin_of(planned);
        let span = traced.and_then(|t| t.request(planned.msg.header(super::trace::TRACEPARENT)));
        let answer = self.transport.send(&self.pki, planned.tls.as_deref(), origin, &planned.msg).await;
        if let (Some(traced), Some(span)) = (traced, span) {
            let status = answer.as_ref().map(|r| r.status).map_err(ToString::to_string);
            traced.record_request(span, &planned.msg.method, &planned.msg.target, status);
        }
        answer
    }

    /// `planned` built to be sent as often as wanted, untraced (a load's).
    pub fn ready(&self, planned: &super::plan::Planned) -> Result<crate::transport::Ready, TransportError> {
        self.transport.ready(&self.pki, planned.tls.as_deref(), self.origin_of(planned), &planned.msg)
    }

    /// Where `planned` goes (noted where that is not the target's origin).
    fn origin_of<'a>(&'a self, planned: &'a super::plan::Planned) -> &'a str {
        let origin = planned.origin.as_deref().unwrap_or(&self.base_url);
        if planned.origin.as_deref().is_some_and(|o| o != self.endpoints.origin) {
            self.elsewhere.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(origin.to_string());
        }
        origin
    }

    /// The origins other than the target's that requests went to.
    pub fn origins_elsewhere(&self) -> Vec<String> {
        self.elsewhere.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().cloned().collect()
    }

    /// A DCR-service bearer token for `tpp`, fetched once per run.
    pub async fn dcr_token(&self, tpp: &str, tls: Option<&str>) -> Result<String, PlanError> {
        let mut tokens = self.dcr_tokens.lock().await;
        if let Some(token) = tokens.get(tpp) {
            return Ok(token.clone());
        }
        let msg = plan::dcr_token_request(&self.profile, &self.pki, tpp)?;
        let failed = |message: String| PlanError::DcrToken { tpp: tpp.to_string(), message };
        let response = self.send(tls, &msg).await.map_err(|e| failed(e.to_string()))?;
        let token = response
            .json()
            .and_then(|j| j.get("access_token").and_then(Value::as_str).map(str::to_string))
            .ok_or_else(|| {
                failed(format!("the token endpoint answered {} without an access_token", response.status))
            })?;
        tokens.insert(tpp.to_string(), token.clone());
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::relative_to;

    #[test]
    fn a_discovered_endpoint_under_the_base_path_keeps_only_the_rest() {
        let cases = [
            ("/register", "", "/register"),
            ("/api/oidc/register", "/api/oidc", "/register"),
            ("/api/oidc", "/api/oidc", ""),
            ("/api/oidcx/register", "/api/oidc", "/api/oidcx/register"),
            ("/elsewhere/register", "/api/oidc", "/elsewhere/register"),
        ];
        for (path, base, expected) in cases {
            assert_eq!(relative_to(path, base), expected, "{path} under {base}");
        }
    }
}
