//! The reference DCR server: the embedded default target, and a readable reference
//! implementation of every rule the suite checks. HTTPS on hyper over tokio-rustls (so that
//! handlers see the peer's certificate chain), mTLS with QWAC and PSD2-role checks, DCR-service
//! credentials (API-key headers, HTTP Basic, or a bearer token from its own token endpoint),
//! QSEAL signature verification with a bounded clock skew, RFC 7591/7592 validation and the
//! whole client lifecycle with secret refresh. Other modes play other families: `plain` (RFC
//! 7592 registration access tokens), `fapi` (a software statement in every registration),
//! `obuk` (Open Banking UK: signed request objects, management with the client's own token).
//! Named flaws ([`Flaw`]) each switch off one rule.
//!
//! It owns no key material of its own beyond the server certificate it is handed, and must not
//! be used by the harness's client side except as a target.

mod certs;
mod client_auth;
pub mod fetch_clock;
pub mod flaw;
mod handlers;
mod key_cache;
pub mod metadata;
mod oidc_metadata;
mod request_object;
mod response;
mod revocation;
mod sector;
mod statement;
mod store;
mod tls;
pub mod variant;

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

pub use crate::protocol::{CertCheck, DcrAuth, ServerProfile, CLIENT_ID_HEADER, CLIENT_SECRET_HEADER};
pub use certs::TrustError;
pub use flaw::Flaw;
pub use revocation::RevocationConfig;
pub use tls::TlsSetupError;
pub use variant::Variant;

use crate::pki::{Pki, PspRole};
use crate::signature::{CertificateCache, Dialect, VerifyPolicy};

/// How the reference server behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub profile: ServerProfile,
    pub flaws: BTreeSet<Flaw>,
    /// Behaviours the RFCs allow that differ from the default.
    pub variants: BTreeSet<Variant>,
    pub cert_check: CertCheck,
    pub dcr_auth: DcrAuth,
    /// Accepted distance between a request's Date and the server's clock.
    pub max_skew: Duration,
    /// A QWAC needs at least one of these roles.
    pub required_roles: Vec<PspRole>,
    pub body_limit: usize,
    /// Time allowed for a request's headers, and separately for its body.
    pub read_timeout: Duration,
    pub dialect: Dialect,
    /// Plain profile: the initial access token registration requires, if any.
    pub initial_access_token: Option<String>,
    /// Lifetime of an issued client secret (`client_secret_expires_at`).
    pub secret_lifetime: Duration,
    /// Serve plain HTTP instead of HTTPS (a plain RFC 7591 server on loopback; no mTLS).
    pub plain_http: bool,
    /// Ask the test QTSP whether certificates are revoked (its services on loopback); none asks
    /// nothing.
    pub revocation: Option<RevocationConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            profile: ServerProfile::Smbc,
            flaws: BTreeSet::new(),
            variants: BTreeSet::new(),
            cert_check: CertCheck::Http,
            dcr_auth: DcrAuth::ApiKey,
            max_skew: Duration::from_secs(300),
            required_roles: vec![PspRole::Ai, PspRole::Pi],
            body_limit: 64 * 1024,
            read_timeout: Duration::from_secs(10),
            dialect: Dialect::default(),
            initial_access_token: None,
            secret_lifetime: Duration::from_secs(90 * 24 * 3600),
            plain_http: false,
            revocation: None,
        }
    }
}

impl ServerConfig {
    /// Whether a rule is off: by its flaw, or by a variant that allows what the rule forbids.
    pub fn has(&self, flaw: Flaw) -> bool {
        self.flaws.contains(&flaw) || self.variants.iter().any(|v| v.relaxes() == Some(flaw))
    }

    pub fn varies(&self, variant: Variant) -> bool {
        self.variants.contains(&variant)
    }

    /// The verifier's policy: every signature rule, less the ones a flaw switches off. The
    /// headers it requires signed are the ones its dialect signs.
    fn verify_policy(&self) -> VerifyPolicy {
        let relaxed = |name: &str| match name {
            "(request-target)" => self.has(Flaw::IgnoreRequestTarget),
            "date" | "digest" => self.has(Flaw::AcceptUnsignedHeaders),
            "x-request-id" => self.has(Flaw::SkipRequestIdCheck),
            _ => false,
        };
        let mut policy = VerifyPolicy::of(self.dialect.clone());
        policy.required_headers.retain(|h| !relaxed(h));
        if self.has(Flaw::PresentHeadersNeedNoSignature) {
            policy.dialect.signed_when_present.clear();
        }
        VerifyPolicy {
            max_skew: (!self.has(Flaw::UnboundedClockSkew)).then_some(self.max_skew),
            check_date: !self.has(Flaw::IgnoreDate),
            check_digest: !self.has(Flaw::SkipDigestCheck),
            check_key_id: !self.has(Flaw::SkipKeyidMatch),
            check_signature: !self.has(Flaw::AcceptBadSignature),
            allow_weak_keys: self.has(Flaw::AcceptWeakKey),
            reject_duplicate_headers: !self.has(Flaw::AcceptDuplicateHeaders),
            imf_fixdate_only: self.has(Flaw::RefuseObsoleteDateForms),
            check_tag: !self.has(Flaw::SkipSignatureTag),
            check_expires: !self.has(Flaw::IgnoreSignatureExpiry),
            sha512_digest: !self.has(Flaw::RefuseSha512Digest),
            check_request_id: !self.has(Flaw::SkipRequestIdCheck),
            whole_seconds: self.varies(Variant::DateWindowWholeSeconds),
            ..policy
        }
    }

    /// Whether a request with `method` must be signed: POST, PUT and DELETE always, GET where
    /// the dialect signs reads (the Berlin Group).
    pub fn signs(&self, method: &http::Method) -> bool {
        [http::Method::POST, http::Method::PUT, http::Method::DELETE].contains(method)
            || (*method == http::Method::GET && self.dialect.sign_reads && !self.has(Flaw::UnsignedReadsAccepted))
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("TLS setup: {0}")]
    Tls(#[source] TlsSetupError),
}

/// A TPP as the server knows it: its organisation and DCR-service credentials.
#[derive(Debug, Clone)]
struct KnownTpp {
    organization_identifier: String,
    client_id: String,
    client_secret: String,
}

/// Counters a run reports (how many handshakes and requests it cost).
#[derive(Debug, Default)]
pub struct Stats {
    pub handshakes: AtomicU64,
    pub requests: AtomicU64,
    /// The time the server spent fetching from others (key sets, sector documents, OCSP, CRLs).
    pub fetches: Arc<fetch_clock::FetchClock>,
    /// Registrations by owner (the TPP's organizationIdentifier; the client itself on a plain
    /// server): which TPPs a load spoke as.
    registrations: std::sync::Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    pub(crate) fn registered_by(&self, owner: &str) {
        let mut by = self.registrations.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match by.get_mut(owner) {
            Some(count) => *count += 1,
            None => {
                by.insert(owner.to_string(), 1);
            }
        }
    }

    /// How many registrations each owner made.
    pub fn registrations_by_owner(&self) -> BTreeMap<String, u64> {
        self.registrations.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// The server's signature rules in one piece: the verifier with the policy its flaws leave,
/// then the QSEAL judgement. Public so that benchmarks measure exactly what the server does.
pub struct SignatureVerifier {
    policy: VerifyPolicy,
    trust: Arc<certs::Trust>,
    certificates: CertificateCache,
    flaws: BTreeSet<Flaw>,
    /// With the variant: signatures seen within the Date window, refused if seen again.
    replays: Option<ReplayGuard>,
    /// With the `skip-signature-when-busy` flaw: how many signed requests arrive.
    busy: Option<(flaw::BusyMeter, std::time::Instant)>,
    /// The signing certificate's revocation status, where the server asks.
    revocation: Option<Arc<revocation::Revocation>>,
    soft_fail: bool,
}

/// The signatures accepted in the last `span` (twice the Date skew: as long as a copy could
/// pass the Date check), so that a repeat is refused. Bounded by what that span admits.
struct ReplayGuard {
    span: std::time::Duration,
    seen: std::sync::Mutex<std::collections::HashMap<String, std::time::SystemTime>>,
}

impl ReplayGuard {
    /// False if `signature` was accepted within the span before `now`.
    fn first_use(&self, signature: &str, now: std::time::SystemTime) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let span = self.span;
        seen.retain(|_, at| now.duration_since(*at).map_or(true, |age| age <= span));
        seen.insert(signature.to_string(), now).is_none()
    }
}

/// Why the server refuses a request, whatever rule it broke: the HTTP status, the code (a
/// Berlin Group `tppMessages` code, or an RFC 7591 §3.2.2 / RFC 6749 error code) and the text.
/// Every rule's check answers with one; the handlers turn it into the family's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub text: String,
}

impl Refusal {
    /// A 400 with an OAuth error code, as RFC 7591 §3.2.2 answers a registration.
    pub fn bad_request(code: &'static str, text: impl Into<String>) -> Refusal {
        Refusal { status: 400, code, text: text.into() }
    }
}

impl SignatureVerifier {
    pub fn new(pki: &Pki, config: &ServerConfig) -> Result<Self, ServerError> {
        let trust = Arc::new(certs::Trust::from_pki(pki).map_err(|e| ServerError::Tls(e.into()))?);
        Ok(Self::with_trust(trust, config))
    }

    fn with_trust(trust: Arc<certs::Trust>, config: &ServerConfig) -> Self {
        SignatureVerifier {
            policy: config.verify_policy(),
            trust,
            certificates: CertificateCache::new(),
            flaws: config.flaws.clone(),
            replays: config
                .varies(Variant::SignatureReplayRefused)
                .then(|| ReplayGuard { span: config.max_skew.saturating_mul(2), seen: Default::default() }),
            busy: config.has(Flaw::SkipSignatureWhenBusy).then(|| (Default::default(), std::time::Instant::now())),
            revocation: None,
            soft_fail: config.varies(Variant::RevocationSoftFail),
        }
    }

    fn with_revocation(mut self, revocation: Option<Arc<revocation::Revocation>>) -> Self {
        self.revocation = revocation;
        self
    }

    /// Verifies `msg` as signed by a QSEAL of the organisation `tpp` at `now`.
    pub fn verify(
        &self,
        msg: &crate::signature::Message,
        tpp: &str,
        now: std::time::SystemTime,
    ) -> Result<(), Refusal> {
        if self.flaws.contains(&Flaw::SkipSignature) {
            return Ok(());
        }
        if let Some((meter, started)) = &self.busy {
            if meter.arrive(started.elapsed().as_secs()) {
                return Ok(());
            }
        }
        let verified = crate::signature::verify_with_cache(msg, &self.policy, now, &self.certificates)
            .map_err(|e| handlers::signature_refusal(&e))?;
        let cert = &verified.certificate;
        let refusal = |p: certs::CertProblem| Refusal { status: 401, code: p.code(), text: p.text() };
        certs::judge_qseal(&self.trust, cert, tpp, now, &|f| self.flaws.contains(&f)).map_err(refusal)?;
        if let Some(revocation) = &self.revocation {
            revocation.judge(&cert.info, self.soft_fail).map_err(refusal)?;
        }
        let signature = msg.header(crate::signature::headers::SIGNATURE).unwrap_or_default();
        match &self.replays {
            Some(guard) if !guard.first_use(signature, now) => {
                Err(Refusal { status: 401, code: "SIGNATURE_INVALID", text: "this signature was used before".into() })
            }
            _ => Ok(()),
        }
    }
}

/// Everything the handlers share.
struct State {
    config: ServerConfig,
    verifier: SignatureVerifier,
    trust: Arc<certs::Trust>,
    tpps: Vec<KnownTpp>,
    store: store::Store,
    tokens: std::sync::Mutex<std::collections::HashMap<String, (String, std::time::SystemTime)>>,
    /// Access tokens issued to registered clients (client-credentials grant): the client id and
    /// expiry of each; the `obuk` mode manages clients with them.
    client_tokens: std::sync::Mutex<std::collections::HashMap<String, (String, std::time::SystemTime)>>,
    /// What is known of an issued access token beyond its holder: the certificate it is bound
    /// to (RFC 8705 §3.1 `x5t#S256`), the scope it was granted.
    token_facts: std::sync::Mutex<std::collections::HashMap<String, handlers::TokenFacts>>,
    /// When each client was last read (the `slow-under-burst` flaw's bursts).
    recent_reads: std::sync::Mutex<std::collections::HashMap<String, Vec<std::time::Instant>>>,
    /// Sector identifier documents fetched for registrations (OpenID Connect Registration §5).
    sectors: sector::SectorDocuments,
    /// The secret the `dpop-nonce-required` variant's nonces are made from.
    nonce_key: String,
    /// Key sets read from clients' `jwks_uri`s, kept for a second.
    keys: key_cache::KeyCache,
    /// The jti of every client assertion accepted and not yet expired.
    seen_assertions: client_auth::SeenAssertions,
    /// Reads a client's `jwks_uri` (trusting the test PKI's root), timed.
    fetcher: fetch_clock::Fetcher,
    /// Clients with an update in progress (the concurrent-update-409 variant).
    updating: std::sync::Mutex<std::collections::HashSet<String>>,
    base_url: String,
    stats: Arc<Stats>,
    /// The test directory whose software statements the `fapi` mode accepts.
    directory: Option<statement::Directory>,
    /// Asks the QTSP whether certificates are revoked, where the config says so.
    revocation: Option<Arc<revocation::Revocation>>,
}

/// A running reference server.
pub struct RunningServer {
    addr: SocketAddr,
    url: String,
    state: Arc<State>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    stats: Arc<Stats>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT` (or `http://` when serving plain HTTP).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// How many clients are registered now (a suite must leave none behind).
    pub fn registered_clients(&self) -> usize {
        self.state.store.len()
    }

    /// The most clients that were registered at once since the server started.
    pub fn peak_registered_clients(&self) -> usize {
        self.state.store.peak()
    }

    /// Stops accepting, closes open connections, and waits for the accept loop to end.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Starts the server on `config.listen` with the server certificate and trust of `pki`.
pub async fn start(pki: &Pki, config: ServerConfig) -> Result<RunningServer, ServerError> {
    let trust = Arc::new(certs::Trust::from_pki(pki).map_err(|e| ServerError::Tls(e.into()))?);
    let tls = tls::server_config(pki, &config, trust.clone()).map_err(ServerError::Tls)?;
    let listener =
        TcpListener::bind(config.listen).await.map_err(|source| ServerError::Bind { addr: config.listen, source })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind { addr: config.listen, source })?;
    let tpps = pki
        .tpps()
        .map(|(_, t)| KnownTpp {
            organization_identifier: t.organization_identifier.clone(),
            client_id: t.dcr_client_id.clone(),
            client_secret: t.dcr_client_secret.clone(),
        })
        .collect();
    let stats = Arc::new(Stats::default());
    let url = format!("{}://{addr}", if config.plain_http { "http" } else { "https" });
    let acceptor = (!config.plain_http).then(|| TlsAcceptor::from(Arc::new(tls)));
    let revocation = match &config.revocation {
        Some(r) if !config.has(Flaw::SkipRevocationCheck) => Some(Arc::new(
            revocation::Revocation::new(pki, r.clone(), stats.fetches.clone()).map_err(ServerError::Tls)?,
        )),
        _ => None,
    };
    let state = Arc::new(State {
        verifier: SignatureVerifier::with_trust(trust.clone(), &config).with_revocation(revocation.clone()),
        revocation,
        config,
        trust,
        tpps,
        store: store::Store::default(),
        tokens: Default::default(),
        client_tokens: Default::default(),
        token_facts: Default::default(),
        sectors: Default::default(),
        keys: Default::default(),
        nonce_key: crate::pki::generate_token("", 24),
        recent_reads: Default::default(),
        seen_assertions: Default::default(),
        fetcher: client_auth::fetcher(pki, stats.fetches.clone()).map_err(ServerError::Tls)?,
        updating: Default::default(),
        base_url: url.clone(),
        stats: stats.clone(),
        directory: statement::Directory::from_pki(pki),
    });
    let (shutdown, watcher) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, acceptor, state.clone(), watcher));
    Ok(RunningServer { addr, url, state, shutdown, task, stats })
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                // A failed accept (out of file descriptors, a reset) concerns one connection only.
                if let Ok((tcp, _)) = accepted {
                    tokio::spawn(serve_connection(tcp, acceptor.clone(), state.clone(), shutdown.clone()));
                }
            }
        }
    }
}

/// What a connection knows about its peer.
pub(crate) struct Peer {
    pub chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// The QWAC verdict, reached on the connection's first request: the certificate cannot
    /// change within a connection, and judging it (parse, chain) is the costliest part of a
    /// request after the signature. Only its validity period is checked again per request.
    pub qwac: std::sync::OnceLock<certs::Qwac>,
}

impl Peer {
    fn new(chain: Vec<rustls::pki_types::CertificateDer<'static>>) -> Self {
        Peer { chain, qwac: std::sync::OnceLock::new() }
    }
}

async fn serve_connection(
    tcp: TcpStream,
    acceptor: Option<TlsAcceptor>,
    state: Arc<State>,
    shutdown: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let Some(acceptor) = acceptor else {
        return serve_http(TokioIo::new(tcp), Peer::new(Vec::new()), state, shutdown).await;
    };
    let tls = match tokio::time::timeout(state.config.read_timeout, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        // A refused or abandoned handshake ends here; the client has its TLS alert.
        _ => return,
    };
    state.stats.handshakes.fetch_add(1, Ordering::Relaxed);
    let chain = tls
        .get_ref()
        .1
        .peer_certificates()
        .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    serve_http(TokioIo::new(tls), Peer::new(chain), state, shutdown).await
}

/// HTTP/1.1 with keep-alive over an established connection, until it closes or the server stops.
async fn serve_http<I>(io: I, peer: Peer, state: Arc<State>, mut shutdown: watch::Receiver<bool>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let peer = Arc::new(peer);
    let timeout = state.config.read_timeout;
    let service = service_fn(move |request| {
        let state = state.clone();
        let peer = peer.clone();
        async move { Ok::<_, Infallible>(handlers::handle(&state, &peer, request).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(Some(timeout)).keep_alive(true);
    let connection = builder.serve_connection(io, service);
    tokio::select! {
        _ = connection => {}
        _ = shutdown.changed() => {}
    }
}
