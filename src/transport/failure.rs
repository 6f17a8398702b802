//! Why a request failed, in the run's words: a failure sorted by the type of what failed (a
//! refused handshake, an untrusted server, not TLS, a dead connection, a timeout), with a second
//! handshake where a connection closed unanswered, to tell a TLS 1.3 refusal apart. It sorts and
//! probes; it never retries a request or decides a verdict.

use std::sync::Arc;
use std::time::Duration;

use super::{Transport, TransportError};

impl Transport {
    /// Sorts a failed request, asking the server again when the connection closed before any
    /// answer: a TLS 1.3 server judges the client certificate after the client's handshake is
    /// over, so its refusal (an alert) may arrive after the request was already given up, and
    /// the error then says only that the connection closed. A second handshake, reading the
    /// server's first word, tells a refusal apart from a connection that merely died.
    pub(super) async fn diagnose(
        &self,
        url: &str,
        error: &reqwest::Error,
        tls: Arc<rustls::ClientConfig>,
    ) -> TransportError {
        let first = classify(url, error, self.config.request_timeout);
        let closed_unanswered = matches!(&first, TransportError::Other { .. }) && closed_before_answer(error);
        // A cleartext target has no handshake to judge a certificate in.
        if !closed_unanswered || !url.starts_with("https://") {
            return first;
        }
        let wait = self.config.connect_timeout.min(Duration::from_secs(1));
        match handshake_refusal(url, tls, wait).await {
            Some(alert) => TransportError::TlsRefused {
                url: url.to_string(),
                cause: format!("the server closed the connection unanswered; a second handshake shows why: {alert}"),
            },
            None => first,
        }
    }
}

/// Whether the connection closed before any answer came: hyper's incomplete message or closed
/// connection, found by type (or, for the pool's "not ready", in the words of the causes under
/// reqwest's own message, which alone holds the URL).
pub(super) fn closed_before_answer(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            if hyper.is_incomplete_message() || hyper.is_closed() || hyper.is_canceled() {
                return true;
            }
        }
        if cause.to_string().contains("connection was not ready") {
            return true;
        }
        source = cause.source();
    }
    false
}

/// A TLS connection to `url`'s host and port under `tls`, no session resumed (so that every
/// certificate is sent again).
pub(super) async fn connect_tls(
    url: &str,
    tls: Arc<rustls::ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let invalid = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{url}: {why}"));
    let parsed = reqwest::Url::parse(url).map_err(|_| invalid("not a URL"))?;
    let host = parsed.host_str().ok_or_else(|| invalid("no host"))?.trim_start_matches('[').trim_end_matches(']');
    let port = parsed.port_or_known_default().ok_or_else(|| invalid("no port"))?;
    let mut config = (*tls).clone();
    config.resumption = rustls::client::Resumption::disabled();
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|_| invalid("not a server name"))?;
    let tcp = tokio::net::TcpStream::connect((host, port)).await?;
    tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await
}

/// Connects to `url`'s host with `tls` (no session resumed, so the certificate is sent) and
/// reads the server's first bytes: the TLS alert of a refused handshake, or `None` if the server
/// accepted it, said nothing within the wait, or could not be reached at all.
pub(super) async fn handshake_refusal(url: &str, tls: Arc<rustls::ClientConfig>, wait: Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let probe = async {
        // Only an alert from the server is its refusal; our refusal of its certificate is not.
        let alert = |e: std::io::Error| match tls_error(&e) {
            Some(tls @ rustls::Error::AlertReceived(_)) => Some(tls.to_string()),
            _ => None,
        };
        let mut stream = match connect_tls(url, tls).await {
            Ok(stream) => stream,
            Err(e) => return alert(e),
        };
        // An HTTP server says nothing until asked; a refusing TLS 1.3 server sends its alert.
        let mut byte = [0u8; 1];
        match tokio::time::timeout(wait, stream.read(&mut byte)).await {
            Ok(Err(e)) => alert(e),
            _ => None,
        }
    };
    tokio::time::timeout(wait * 2, probe).await.ok().flatten()
}

/// Sorts a failed request by the type of what failed, never by the words of its message (which
/// hold the URL, and a host or path may say "tls" or "certificate"): a TLS alert from the server
/// is a refused handshake; our refusal of its certificate, a setup matter; a non-TLS answer on
/// an https URL; another TLS failure; a failed connection; a timeout; anything else.
pub(super) fn classify(url: &str, error: &reqwest::Error, timeout: Duration) -> TransportError {
    let chain = crate::diagnostic::chain(error);
    if error.is_timeout() {
        return TransportError::Timeout { url: url.to_string(), seconds: timeout.as_secs() };
    }
    match tls_error(error) {
        Some(tls) => classify_tls(url, tls, chain),
        None if error.is_connect() => TransportError::Unreachable { url: url.to_string(), cause: chain },
        None => TransportError::Other { url: url.to_string(), cause: chain },
    }
}

/// What a TLS failure means for the run.
pub(super) fn classify_tls(url: &str, tls: &rustls::Error, cause: String) -> TransportError {
    let url = url.to_string();
    match tls {
        rustls::Error::AlertReceived(_) => TransportError::TlsRefused { url, cause },
        rustls::Error::InvalidCertificate(problem) => {
            TransportError::ServerUntrusted { url, cause: tls.to_string(), hint: certificate_hint(problem) }
        }
        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => {
            TransportError::NotTls { url, cause }
        }
        _ => TransportError::TlsBroken { url, cause: tls.to_string() },
    }
}

/// What to do about a server certificate the harness refused.
pub(super) fn certificate_hint(problem: &rustls::CertificateError) -> &'static str {
    use rustls::CertificateError::*;
    match problem {
        Expired | ExpiredContext { .. } | NotValidYet | NotValidYetContext { .. } => {
            "the server's certificate is outside its validity period: the server must renew it (or the clock here is wrong)"
        }
        NotValidForName | NotValidForNameContext { .. } => {
            "the certificate does not name the URL's host: target the host it names"
        }
        UnknownIssuer => "it does not chain to a CA the harness trusts: set `server_ca` in the profile to the server's CA bundle",
        Revoked => "the server's certificate is revoked: the server must replace it",
        _ => "check the server's certificate, and `server_ca` in the profile",
    }
}

/// The rustls error behind a failed request, found by type along its sources (an I/O error
/// carries it inside, where `source` does not look).
pub(super) fn tls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current: Option<&'a (dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            if let Some(tls) = tls_error(inner) {
                return Some(tls);
            }
        }
        current = e.source();
    }
    None
}
