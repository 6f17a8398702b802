//! A fault target: a plain RFC 7591/7592 server on loopback (plain HTTP, or TLS with the test
//! PKI's server certificate) that misbehaves as told, for the harness to survive: registration
//! answers with a byte order mark, that cannot be read (cut past the body limit, trailing bytes,
//! no client id), client ids that are not one path segment or carry control characters,
//! configuration endpoints in cleartext or on another origin, deletes refused, reads that never
//! end, reads never answered, connections reset, updates that rotate the token unseen. Written
//! on raw TCP so that it can break HTTP as no well-behaved server library would.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the target gets wrong.
#[derive(Debug)]
pub struct Faults {
    /// Registration answers start with a UTF-8 byte order mark.
    pub bom: bool,
    /// How many deletes are allowed; those after are answered 500 (`usize::MAX`: all).
    pub allowed_deletes: AtomicUsize,
    /// A read of a client answers 200 with a body that never ends.
    pub endless_reads: bool,
    /// A read of a client is never answered.
    pub silent_reads: bool,
    /// A read of a client gets its connection closed without an answer.
    pub reset_reads: bool,
    /// How registration answers cannot be read, if they cannot.
    pub unreadable: Option<Unreadable>,
    /// Client ids that hold `/`, `?`, `#`, `%`, an escape sequence and a CR LF.
    pub odd_ids: bool,
    /// Where `registration_client_uri` points (none: no URI, the profile's path is used).
    pub config_uri: ConfigUri,
    /// The status of a registration's answer (201, or 200 as some servers send).
    pub created_status: u16,
    /// How many updates rotate the client's registration access token (as RFC 7592 §2.2 lets
    /// a server) and then close their connection without an answer; those after answer 200.
    pub lost_updates: AtomicUsize,
}

/// How a 201 registration answer is made unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// The JSON, then bytes that are not JSON.
    Trailing,
    /// The JSON with a 2 MiB field last: cut at the harness's 1 MiB limit.
    Cut,
    /// Text that names no client.
    Anonymous,
}

/// Where a client's configuration endpoint is said to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigUri {
    /// On the target itself.
    Same,
    /// No `registration_client_uri` at all.
    Absent,
    /// `http://` on the same host and port, whatever the target's scheme.
    Cleartext,
    /// `localhost` for `127.0.0.1`: another origin, the same server.
    OtherOrigin,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            bom: false,
            allowed_deletes: AtomicUsize::new(usize::MAX),
            endless_reads: false,
            silent_reads: false,
            reset_reads: false,
            unreadable: None,
            odd_ids: false,
            config_uri: ConfigUri::Same,
            created_status: 201,
            lost_updates: AtomicUsize::new(0),
        }
    }
}

/// A running fault target.
pub struct FaultTarget {
    pub url: String,
    pub faults: Arc<Faults>,
    /// Registered clients: id to (secret, registration access token).
    pub clients: Arc<Mutex<BTreeMap<String, (String, String)>>>,
    /// Connections to a TLS target that did not speak TLS (a request sent in cleartext).
    pub not_tls: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultTarget {
    pub async fn start(faults: Faults) -> FaultTarget {
        FaultTarget::start_with(faults, None).await
    }

    /// The same over TLS, with the test PKI's `server` certificate (the harness trusts it).
    pub async fn start_tls(faults: Faults) -> FaultTarget {
        let pki = dcr_harness::testing::test_pki();
        let server = pki.identity("server").expect("server identity");
        let key =
            <rustls_pki_types::PrivateKeyDer as rustls_pki_types::pem::PemObject>::from_pem_file(&server.key_path)
                .expect("key");
        let config = rustls::ServerConfig::builder_with_provider(dcr_harness::crypto::provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(server.chain.clone(), key)
            .expect("config");
        FaultTarget::start_with(faults, Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))).await
    }

    async fn start_with(faults: Faults, tls: Option<tokio_rustls::TlsAcceptor>) -> FaultTarget {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", listener.local_addr().expect("addr"));
        let faults = Arc::new(faults);
        let clients = Arc::new(Mutex::new(BTreeMap::new()));
        let not_tls = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn({
            let (url, faults, clients, not_tls) = (url.clone(), faults.clone(), clients.clone(), not_tls.clone());
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (url, faults, clients, tls) = (url.clone(), faults.clone(), clients.clone(), tls.clone());
                    let not_tls = not_tls.clone();
                    tokio::spawn(async move {
                        match tls {
                            Some(tls) => {
                                // An HTTP request where a TLS handshake belongs: sent in cleartext.
                                let mut first = [0u8; 4];
                                let peeked = stream.peek(&mut first).await.unwrap_or(0);
                                if [&b"GET "[..], b"POST", b"PUT ", b"DELE"].contains(&&first[..peeked.min(4)]) {
                                    not_tls.fetch_add(1, Ordering::SeqCst);
                                    return;
                                }
                                if let Ok(stream) = tls.accept(stream).await {
                                    serve(stream, &url, &faults, &clients).await
                                }
                            }
                            None => serve(stream, &url, &faults, &clients).await,
                        }
                    });
                }
            }
        });
        FaultTarget { url, faults, clients, not_tls, task }
    }

    pub fn registered(&self) -> usize {
        self.clients.lock().expect("lock").len()
    }

    /// Every secret the target issued, to look for in the harness's output.
    pub fn secrets(&self) -> Vec<String> {
        self.clients.lock().expect("lock").values().flat_map(|(s, r)| [s.clone(), r.clone()]).collect()
    }
}

impl Drop for FaultTarget {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    url: &str,
    faults: &Faults,
    clients: &Mutex<BTreeMap<String, (String, String)>>,
) {
    loop {
        let Some((method, path, headers, body)) = read_request(&mut stream).await else { return };
        let bearer = headers.get("authorization").and_then(|v| v.strip_prefix("Bearer ")).map(str::to_string);
        // The id is one segment, percent-decoded; a path with more segments, a query or a
        // fragment names no client.
        let client_of = |path: &str| {
            let segment = path.strip_prefix("/register/")?;
            (!segment.contains(['/', '?', '#']))
                .then(|| percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned())
        };
        let answer = match (method.as_str(), path.as_str()) {
            ("GET", "/.well-known/oauth-authorization-server") => json(
                200,
                &format!(
                    r#"{{"issuer":"{url}","registration_endpoint":"{url}/register","token_endpoint":"{url}/token"}}"#
                ),
            ),
            ("POST", "/register") => match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(serde_json::Value::Object(metadata)) => {
                    let n = clients.lock().expect("lock").len() + rand_suffix();
                    let id = match faults.odd_ids {
                        true => format!("c{n}/..%2F?q=1#f\u{1b}]0;owned\u{7}\r\nFORGED LINE"),
                        false => format!("c{n}"),
                    };
                    let (secret, rat) = (format!("secret-{n}-xyzzy-plugh"), format!("rat-{n}-frobozz-magic"));
                    clients.lock().expect("lock").insert(id.clone(), (secret.clone(), rat.clone()));
                    let mut answer = serde_json::Map::new();
                    // The client first: what a cut keeps.
                    for (k, v) in
                        [("client_id", id.clone()), ("client_secret", secret), ("registration_access_token", rat)]
                    {
                        answer.insert(k.into(), v.into());
                    }
                    let host_port = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
                    let segment = percent_encoding::utf8_percent_encode(&id, percent_encoding::NON_ALPHANUMERIC);
                    let uri = match faults.config_uri {
                        ConfigUri::Same => Some(format!("{url}/register/{segment}")),
                        ConfigUri::Absent => None,
                        ConfigUri::Cleartext => Some(format!("http://{host_port}/register/{segment}")),
                        ConfigUri::OtherOrigin => {
                            Some(format!("{}/register/{segment}", url.replace("127.0.0.1", "localhost")))
                        }
                    };
                    if let Some(uri) = uri {
                        answer.insert("registration_client_uri".into(), uri.into());
                    }
                    answer.insert("client_secret_expires_at".into(), 0.into());
                    answer.extend(metadata.clone());
                    let text = serde_json::Value::Object(answer).to_string();
                    let text = match faults.unreadable {
                        None => text,
                        Some(Unreadable::Trailing) => format!("{text}\u{0}<!-- trailing -->"),
                        Some(Unreadable::Cut) => {
                            format!("{},\"padding\":\"{}\"}}", text.trim_end_matches('}'), "x".repeat(2 << 20))
                        }
                        Some(Unreadable::Anonymous) => "created".to_string(),
                    };
                    json(faults.created_status, &if faults.bom { format!("\u{feff}{text}") } else { text })
                }
                _ => json(400, r#"{"error":"invalid_client_metadata"}"#),
            },
            (method, path) if client_of(path).is_some() => {
                let id = client_of(path).unwrap_or_default();
                let known = clients.lock().expect("lock").get(&id).cloned();
                match (known, method) {
                    (Some((_, rat)), _) if bearer.as_deref() != Some(rat.as_str()) => {
                        json(401, r#"{"error":"invalid_token"}"#)
                    }
                    (None, _) => json(401, r#"{"error":"invalid_token"}"#),
                    (Some(_), "GET") if faults.silent_reads => {
                        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                        return;
                    }
                    (Some(_), "GET") if faults.reset_reads => return,
                    (Some(_), "GET") if faults.endless_reads => {
                        let head =
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                        if stream.write_all(head.as_bytes()).await.is_err() {
                            return;
                        }
                        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
                        while stream.write_all(chunk.as_bytes()).await.is_ok() {}
                        return;
                    }
                    (Some((secret, rat)), "GET") => json(
                        200,
                        &serde_json::json!({
                            "client_id": id,
                            "client_secret": secret,
                            "registration_access_token": rat,
                            "redirect_uris": ["https://tpp.example/cb"],
                        })
                        .to_string(),
                    ),
                    (Some((secret, _)), "PUT")
                        if faults
                            .lost_updates
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok() =>
                    {
                        let rotated = format!("rat-{}-rotated-frobozz", rand_suffix());
                        clients.lock().expect("lock").insert(id.clone(), (secret, rotated));
                        return;
                    }
                    (Some((secret, rat)), "PUT") => {
                        let mut answer = serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default();
                        answer["client_id"] = id.into();
                        answer["client_secret"] = secret.into();
                        answer["registration_access_token"] = rat.into();
                        json(200, &answer.to_string())
                    }
                    (Some(_), "DELETE")
                        if faults
                            .allowed_deletes
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| match n {
                                usize::MAX => Some(n),
                                0 => None,
                                n => Some(n - 1),
                            })
                            .is_err() =>
                    {
                        json(500, r#"{"error":"server_error"}"#)
                    }
                    (Some(_), "DELETE") => {
                        clients.lock().expect("lock").remove(&id);
                        "HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n".to_string()
                    }
                    _ => json(400, r#"{"error":"invalid_request"}"#),
                }
            }
            _ => json(404, r#"{"error":"not_found"}"#),
        };
        if stream.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Distinct ids across deletes.
fn rand_suffix() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1000);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

fn json(status: u16, body: &str) -> String {
    format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len())
}

/// One request: method, path, lower-case headers, body (by Content-Length).
async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Option<(String, String, BTreeMap<String, String>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; length.min(1024 * 1024)];
    stream.read_exact(&mut body).await.ok()?;
    Some((method, path, headers, body))
}
