//! HTTP transport to the target: one reqwest client per TLS identity (its QWAC, or none), over
//! rustls with the aws-lc-rs provider, with connect and request timeouts. It tells a refused TLS
//! handshake apart from an unreachable target, since a server may rightly refuse a bad
//! certificate either in the handshake or in HTTP. It sends what it is given and reads what
//! comes back; it never signs and never judges.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::pki::{Pki, PkiError};
use crate::signature::Message;
use failure::{classify, connect_tls};

mod failure;

/// Which server certificates to trust.
#[derive(Debug, Clone, Default)]
pub enum ServerTrust {
    /// The test PKI's QTSP root (the reference server's certificate chains to it).
    #[default]
    TestPki,
    /// The CA certificates in these PEM files (a bank's sandbox CA bundle).
    Pem(Vec<PathBuf>),
}

#[derive(Debug, Clone)]
pub struct TransportConfig {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub trust: ServerTrust,
    /// The most of a response body that is read; the rest is left unread and the response
    /// marked truncated. A DCR answer is a few KiB: this bounds what a hostile server costs.
    pub max_body_bytes: usize,
}

/// The default `max_body_bytes`: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            trust: ServerTrust::TestPki,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Names lower-case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub elapsed: Duration,
    /// The body went on past the transport's limit; `body` holds what was read.
    pub truncated: bool,
    /// With a TLS identity: whether the server has asked for its certificate (in this
    /// connection's handshake or an earlier one).
    pub certificate_requested: Option<bool>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is (a UTF-8 byte order mark before it is tolerated, as RFC 8259
    /// §8.1 lets a parser do).
    pub fn json(&self) -> Option<serde_json::Value> {
        parse_json(&self.body)
    }
}

/// JSON from bytes that may start with a UTF-8 byte order mark.
pub fn parse_json(bytes: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_slice(without_bom(bytes)).ok()
}

/// Bytes without the UTF-8 byte order mark they may start with.
pub fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// The TLS handshake was refused by the server (it judged our certificate).
    #[error("TLS handshake with {url} refused: {cause}")]
    TlsRefused { url: String, cause: String },
    /// We refused the server's certificate: a setup matter (the profile's `server_ca`, the URL's
    /// host, a certificate to renew), never evidence about how the server judges clients.
    #[error("the server certificate of {url} is refused: {cause}; {hint}")]
    ServerUntrusted { url: String, cause: String, hint: &'static str },
    /// The target answered TLS with something else: most likely plain HTTP on an `https://` URL.
    #[error("{url} does not speak TLS (is it an http:// target?): {cause}")]
    NotTls { url: String, cause: String },
    /// The TLS conversation broke on the server's side in a way that is no judgement of our
    /// certificate (a message too large to read, a protocol the server got wrong).
    #[error("the TLS handshake with {url} failed: {cause}")]
    TlsBroken { url: String, cause: String },
    #[error("cannot connect to {url}: {cause}")]
    Unreachable { url: String, cause: String },
    #[error("no answer from {url} within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("{url}: {cause}")]
    Other { url: String, cause: String },
    #[error("TLS identity `{identity}`: {cause}")]
    Identity { identity: String, cause: String },
}

impl TransportError {
    /// Whether the failure is the harness's side or its setup (it does not trust the server, the
    /// target does not speak TLS where the URL says, an identity will not load): no evidence of
    /// how the server judges a request.
    pub fn is_setup(&self) -> bool {
        matches!(
            self,
            TransportError::ServerUntrusted { .. } | TransportError::NotTls { .. } | TransportError::Identity { .. }
        )
    }

    /// Whether the request may have reached the server and been acted on, its answer lost (a
    /// timeout, a connection dropped after sending): what it changes may have happened unseen.
    pub fn may_have_arrived(&self) -> bool {
        matches!(self, TransportError::Timeout { .. } | TransportError::Other { .. })
    }
}

impl From<PkiError> for TransportError {
    fn from(e: PkiError) -> Self {
        TransportError::Identity { identity: String::new(), cause: e.to_string() }
    }
}

/// Clients by TLS identity, built on first use and kept (connections are pooled per client).
pub struct Transport {
    config: TransportConfig,
    roots: Arc<rustls::RootCertStore>,
    /// Each with the flag its identity's certificate resolver sets, read on every answer.
    clients: Mutex<HashMap<Option<String>, Pooled>>,
    /// Per TLS identity: whether a server has asked for it in a handshake.
    asked: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// What every client's TLS layer did (handshakes, resumptions offered, the group).
    tls_counts: Arc<TlsCounts>,
}

/// Counts shared by the session stores of all of a transport's clients.
#[derive(Debug, Default)]
struct TlsCounts {
    handshakes: std::sync::atomic::AtomicU64,
    resumptions_offered: std::sync::atomic::AtomicU64,
    group: Mutex<Option<rustls::NamedGroup>>,
}

/// What the TLS layer did so far, for every client of a transport.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TlsFigures {
    /// Handshakes started (one per connection opened).
    pub handshakes: u64,
    /// Of those, how many offered a session ticket to resume (TLS 1.3 PSK or a TLS 1.2 session).
    pub resumptions_offered: u64,
    /// The key-exchange group the server chose last (`X25519MLKEM768`, say).
    pub group: Option<String>,
}

/// rustls's in-memory session cache, one per client (so per TLS identity: a session is never
/// offered under another certificate), counting how it is used: rustls asks it for a ticket at
/// the start of every handshake and tells it the group the server chose at the end.
#[derive(Debug)]
struct CountingSessionStore {
    inner: rustls::client::ClientSessionMemoryCache,
    counts: Arc<TlsCounts>,
}

impl CountingSessionStore {
    fn new(counts: Arc<TlsCounts>) -> Self {
        CountingSessionStore { inner: rustls::client::ClientSessionMemoryCache::new(256), counts }
    }
}

impl rustls::client::ClientSessionStore for CountingSessionStore {
    fn set_kx_hint(&self, server_name: rustls_pki_types::ServerName<'static>, group: rustls::NamedGroup) {
        *self.counts.group.lock().unwrap_or_else(|p| p.into_inner()) = Some(group);
        self.inner.set_kx_hint(server_name, group)
    }

    fn kx_hint(&self, server_name: &rustls_pki_types::ServerName<'_>) -> Option<rustls::NamedGroup> {
        self.inner.kx_hint(server_name)
    }

    fn set_tls12_session(
        &self,
        server_name: rustls_pki_types::ServerName<'static>,
        value: rustls::client::Tls12ClientSessionValue,
    ) {
        self.inner.set_tls12_session(server_name, value)
    }

    fn tls12_session(
        &self,
        server_name: &rustls_pki_types::ServerName<'_>,
    ) -> Option<rustls::client::Tls12ClientSessionValue> {
        let found = self.inner.tls12_session(server_name);
        if found.is_some() {
            self.counts.resumptions_offered.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    fn remove_tls12_session(&self, server_name: &rustls_pki_types::ServerName<'static>) {
        self.inner.remove_tls12_session(server_name)
    }

    fn insert_tls13_ticket(
        &self,
        server_name: rustls_pki_types::ServerName<'static>,
        value: rustls::client::Tls13ClientSessionValue,
    ) {
        self.inner.insert_tls13_ticket(server_name, value)
    }

    fn take_tls13_ticket(
        &self,
        server_name: &rustls_pki_types::ServerName<'static>,
    ) -> Option<rustls::client::Tls13ClientSessionValue> {
        // rustls looks for a ticket first thing in every handshake.
        self.counts.handshakes.fetch_add(1, Ordering::Relaxed);
        let found = self.inner.take_tls13_ticket(server_name);
        if found.is_some() {
            self.counts.resumptions_offered.fetch_add(1, Ordering::Relaxed);
        }
        found
    }
}

/// A client for one TLS identity, its TLS configuration (for a handshake probe), and, with an
/// identity, the flag its certificate resolver sets when a server asks for the certificate.
#[derive(Clone, Debug)]
struct Pooled {
    client: reqwest::Client,
    tls: Arc<rustls::ClientConfig>,
    asked: Option<Arc<AtomicBool>>,
}

/// Presents an identity's certificate when a server asks, and remembers that one did: a
/// server that never asks for a client certificate cannot have judged the one offered.
#[derive(Debug)]
struct RememberingResolver {
    key: Arc<rustls::sign::CertifiedKey>,
    asked: Arc<AtomicBool>,
}

impl rustls::client::ResolvesClientCert for RememberingResolver {
    fn resolve(
        &self,
        _hints: &[&[u8]],
        _schemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.asked.store(true, Ordering::SeqCst);
        Some(self.key.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

impl Transport {
    pub fn new(pki: &Pki, config: TransportConfig) -> Result<Self, TransportError> {
        let mut roots = rustls::RootCertStore::empty();
        let bad = |cause: String| TransportError::Identity { identity: "server trust".into(), cause };
        match &config.trust {
            ServerTrust::TestPki => roots.add(pki.trust_anchor.clone()).map_err(|e| bad(e.to_string()))?,
            ServerTrust::Pem(paths) => {
                for path in paths {
                    for cert in crate::pki::read_certs(path)? {
                        roots.add(cert).map_err(|e| bad(e.to_string()))?;
                    }
                }
            }
        }
        Ok(Transport {
            config,
            roots: Arc::new(roots),
            clients: Mutex::new(HashMap::new()),
            asked: Default::default(),
            tls_counts: Default::default(),
        })
    }

    /// What the TLS layer of every client has done so far.
    pub fn tls_figures(&self) -> TlsFigures {
        let counts = &self.tls_counts;
        let group = *counts.group.lock().unwrap_or_else(|p| p.into_inner());
        TlsFigures {
            handshakes: counts.handshakes.load(Ordering::Relaxed),
            resumptions_offered: counts.resumptions_offered.load(Ordering::Relaxed),
            group: group.map(|g| format!("{g:?}")),
        }
    }

    /// The client presenting `identity`'s certificate (or none).
    pub fn client(&self, pki: &Pki, identity: Option<&str>) -> Result<reqwest::Client, TransportError> {
        self.client_and_flag(pki, identity).map(|pooled| pooled.client)
    }

    /// The client for `identity`, and whether a server has asked for its certificate so far.
    fn client_and_flag(&self, pki: &Pki, identity: Option<&str>) -> Result<Pooled, TransportError> {
        let key = identity.map(str::to_string);
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cached) = clients.get(&key) {
            return Ok(cached.clone());
        }
        let tls = Arc::new(self.tls_config(pki, identity)?);
        let client = self.builder_with(&tls).build().map_err(|e| TransportError::Identity {
            identity: identity.unwrap_or("none").into(),
            cause: e.to_string(),
        })?;
        let built = Pooled { client, tls, asked: identity.map(|name| self.asked_flag(name)) };
        clients.insert(key, built.clone());
        Ok(built)
    }

    /// The TLS configuration presenting `identity`.
    fn tls_config(&self, pki: &Pki, identity: Option<&str>) -> Result<rustls::ClientConfig, TransportError> {
        let name = identity.unwrap_or("none").to_string();
        let fail = |cause: String| TransportError::Identity { identity: name.clone(), cause };
        let builder = rustls::ClientConfig::builder_with_provider(crate::crypto::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| fail(e.to_string()))?
            .with_root_certificates(self.roots.clone());
        let mut tls = match identity {
            None => builder.with_no_client_auth(),
            Some(name) => {
                let id = pki.identity(name).map_err(|e| fail(e.to_string()))?;
                let signing = crate::crypto::provider()
                    .key_provider
                    .load_private_key(id.key().to_rustls())
                    .map_err(|e| fail(e.to_string()))?;
                let key = Arc::new(rustls::sign::CertifiedKey::new(id.chain.clone(), signing));
                let asked = self.asked_flag(name);
                builder.with_client_cert_resolver(Arc::new(RememberingResolver { key, asked }))
            }
        };
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        tls.resumption =
            rustls::client::Resumption::store(Arc::new(CountingSessionStore::new(self.tls_counts.clone())));
        Ok(tls)
    }

    fn asked_flag(&self, identity: &str) -> Arc<AtomicBool> {
        let mut asked = self.asked.lock().unwrap_or_else(|p| p.into_inner());
        asked.entry(identity.to_string()).or_default().clone()
    }

    /// A client builder presenting `identity` as the transport's own clients do (its TLS, no
    /// redirects, its timeouts), for a load engine that builds a client per user.
    pub fn client_builder(&self, pki: &Pki, identity: Option<&str>) -> Result<reqwest::ClientBuilder, TransportError> {
        Ok(self.builder_with(&self.tls_config(pki, identity)?))
    }

    fn builder_with(&self, tls: &rustls::ClientConfig) -> reqwest::ClientBuilder {
        // No gzip: a build with the `goose` feature compiles reqwest's gzip in, which would
        // otherwise ask every server for compressed answers.
        reqwest::Client::builder()
            .tls_backend_preconfigured(tls.clone())
            .http1_only()
            .no_gzip()
            .connect_timeout(self.config.connect_timeout)
            .timeout(self.config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
    }

    /// An answer another client received, read as `send` reads its own (the body bounded).
    pub async fn read_response(
        &self,
        url: &str,
        response: reqwest::Response,
        started: Instant,
    ) -> Result<Response, TransportError> {
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let (body, truncated) = read_bounded(response, self.config.max_body_bytes)
            .await
            .map_err(|e| classify(url, &e, self.config.request_timeout))?;
        Ok(Response { status, headers, body, elapsed: started.elapsed(), truncated, certificate_requested: None })
    }

    /// A request that got no answer, sorted as `send` sorts its own.
    pub fn failure(&self, url: &str, error: &reqwest::Error) -> TransportError {
        classify(url, error, self.config.request_timeout)
    }

    /// The reqwest request for `msg` on `client`, headers and body as given.
    pub fn request(
        client: &reqwest::Client,
        base_url: &str,
        msg: &Message,
    ) -> Result<reqwest::RequestBuilder, TransportError> {
        Self::request_to(client, &url_of(base_url, msg), msg)
    }

    /// The reqwest request for `msg` to `url` (its base URL and target joined, [`url_of`]).
    pub fn request_to(
        client: &reqwest::Client,
        url: &str,
        msg: &Message,
    ) -> Result<reqwest::RequestBuilder, TransportError> {
        let method = reqwest::Method::from_bytes(msg.method.as_bytes())
            .map_err(|e| TransportError::Other { url: url.to_string(), cause: e.to_string() })?;
        let mut request = client.request(method, url);
        for (name, value) in &msg.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        Ok(request.body(msg.body.clone()))
    }

    /// Sends `msg` to `base_url` + its target, presenting `identity`.
    pub async fn send(
        &self,
        pki: &Pki,
        identity: Option<&str>,
        base_url: &str,
        msg: &Message,
    ) -> Result<Response, TransportError> {
        let Ready { pooled, request, url } = self.ready(pki, identity, base_url, msg)?;
        self.execute(&pooled, request, &url).await
    }

    /// The request for `msg` to `base_url` + its target, presenting `identity`, built to be
    /// sent (as often as wanted) by [`Transport::send_ready`].
    pub fn ready(
        &self,
        pki: &Pki,
        identity: Option<&str>,
        base_url: &str,
        msg: &Message,
    ) -> Result<Ready, TransportError> {
        let pooled = self.client_and_flag(pki, identity)?;
        let url = url_of(base_url, msg);
        let request = Self::request_to(&pooled.client, &url, msg)?
            .build()
            .map_err(|e| classify(&url, &e, self.config.request_timeout))?;
        Ok(Ready { pooled, request, url })
    }

    /// Sends a request built before, the same bytes again.
    pub async fn send_ready(&self, ready: &Ready) -> Result<Response, TransportError> {
        // A body from bytes (every body the harness sends) always clones.
        let request = ready.request.try_clone().ok_or_else(|| TransportError::Other {
            url: ready.url.clone(),
            cause: "a streamed body cannot be sent again".into(),
        })?;
        self.execute(&ready.pooled, request, &ready.url).await
    }

    async fn execute(&self, pooled: &Pooled, request: reqwest::Request, url: &str) -> Result<Response, TransportError> {
        let started = Instant::now();
        let response = match pooled.client.execute(request).await {
            Ok(response) => response,
            Err(e) => return Err(self.diagnose(url, &e, pooled.tls.clone()).await),
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let (body, truncated) = read_bounded(response, self.config.max_body_bytes)
            .await
            .map_err(|e| classify(url, &e, self.config.request_timeout))?;
        let certificate_requested = pooled.asked.as_ref().map(|flag| flag.load(Ordering::SeqCst));
        Ok(Response { status, headers, body, elapsed: started.elapsed(), truncated, certificate_requested })
    }
}

/// A request built once, with the pooled client that sends it: what a load sends again within
/// the second its signature is valid for (see `load::resend`).
#[derive(Debug)]
pub struct Ready {
    pooled: Pooled,
    request: reqwest::Request,
    /// The URL, for the words of an error.
    url: String,
}

impl Transport {
    /// The certificate the server at `url` presents (its leaf, DER), read from a handshake of
    /// its own presenting `identity`, under the transport's trust and timeouts.
    pub async fn server_certificate(
        &self,
        pki: &Pki,
        identity: Option<&str>,
        url: &str,
    ) -> Result<rustls::pki_types::CertificateDer<'static>, TransportError> {
        let tls = Arc::new(self.tls_config(pki, identity)?);
        let unreachable = |cause: String| TransportError::Unreachable { url: url.to_string(), cause };
        let stream = tokio::time::timeout(self.config.connect_timeout * 2, connect_tls(url, tls))
            .await
            .map_err(|_| unreachable("no handshake within the connect timeout".into()))?
            .map_err(|e| unreachable(e.to_string()))?;
        let leaf = stream.get_ref().1.peer_certificates().and_then(|chain| chain.first().cloned());
        leaf.ok_or_else(|| unreachable("the server presented no certificate".into()))
    }
}

/// Where `msg` goes: `base_url` (without a trailing slash) and its target.
pub fn url_of(base_url: &str, msg: &Message) -> String {
    format!("{}{}", base_url.trim_end_matches('/'), msg.target)
}

/// Reads at most `limit` bytes of the body, chunk by chunk; true if there was more. What is
/// left unread is dropped with the connection, so an endless body costs `limit`, no more.
async fn read_bounded(mut response: reqwest::Response, limit: usize) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(body.len());
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

#[cfg(test)]
mod tests;
