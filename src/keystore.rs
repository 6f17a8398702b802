//! The TPPs' key store: a small HTTPS server on 127.0.0.1, with the test PKI's server
//! certificate, that publishes each identity's public key as a JWK Set at `/{identity}.jwks`
//! (`kid` the identity's name), as a TPP's `jwks_uri` (RFC 7591 §2) or an ecosystem's keystore
//! would; `/broken.jwks` serves a document that is no JWK Set; `/sector.json` and
//! `/sector-elsewhere.json` are OpenID Connect sector identifier documents (one listing the
//! redirect URIs scenarios register, one listing none); `/rotating/{old}/{new}/{slot}.jwks` is a
//! client's key set in rotation: `old`'s key until the run rotates `slot`, then `new`'s alone (a
//! TPP that published a new key and retired the old, OpenID Connect Core §10.1.1); under
//! `/stalled/` nothing answers: the request is read and the connection held until it times out
//! (a URI a server must fetch that hangs). A run starts
//! it where its profile holds the `jwks-uri`, `jwks-rotation` or `sector-identifier` policy, so
//! that a target on this host can read them from there. It serves nothing else and answers only
//! GET; its one state is which slots the run has rotated, bounded. Before each answer it asks
//! the run's [`Switchboard`] whether a fault holds for key sets or sector documents.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::fault::{Down, Service, Switchboard};
use crate::pki::Pki;

/// The document `/broken.jwks` serves: JSON, and no JWK Set.
const BROKEN: &str = r#"{"keys":"not a list"}"#;

/// Why the key store could not start.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    #[error("the key store cannot listen on 127.0.0.1: {0}")]
    Bind(std::io::Error),
    #[error("the key store's TLS: {0}")]
    Tls(String),
}

/// The most slots a run may rotate: one per scenario run is plenty.
const MAX_ROTATIONS: usize = 100_000;

/// Why a slot could not be rotated.
#[derive(Debug, thiserror::Error)]
#[error("the key store has rotated {MAX_ROTATIONS} key sets already")]
pub struct TooManyRotations;

/// A running key store: `https://127.0.0.1:PORT`; a key set is at `{url}/{identity}.jwks`.
pub struct Keystore {
    service: crate::loopback::Service,
    handle: Handle,
}

impl Keystore {
    pub fn url(&self) -> &str {
        self.service.url()
    }

    /// What a run keeps of the key store: its URL, and the means to rotate a key set.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    pub async fn stop(self) {
        self.service.stop().await
    }
}

/// A running key store as a run sees it.
#[derive(Debug, Clone)]
pub struct Handle {
    url: String,
    rotated: Arc<Mutex<HashSet<String>>>,
}

impl Handle {
    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL of a key set in rotation: `old`'s key until `slot` is rotated, then `new`'s.
    pub fn rotating_jwks_uri(&self, old: &str, new: &str, slot: &str) -> String {
        format!("{}{ROTATING}{old}/{new}/{slot}.jwks", self.url)
    }

    /// From now on, the key sets of `slot` publish their new key alone.
    pub fn rotate(&self, slot: &str) -> Result<(), TooManyRotations> {
        let mut rotated = self.rotated.lock().unwrap_or_else(|p| p.into_inner());
        if rotated.len() >= MAX_ROTATIONS && !rotated.contains(slot) {
            return Err(TooManyRotations);
        }
        rotated.insert(slot.to_string());
        Ok(())
    }
}

/// Where key sets in rotation are.
const ROTATING: &str = "/rotating/";
/// Where nothing answers.
pub const STALLED: &str = "/stalled/";

/// The JWK Set of every identity of `pki` whose key makes a JWK, by request path.
fn documents(pki: &Pki) -> HashMap<String, Bytes> {
    let mut documents: HashMap<String, Bytes> = pki
        .identities()
        .filter_map(|identity| {
            let alg = crate::pki::jws::alg_name(identity.key().jws_alg());
            let jwk = crate::pki::directory::jwk(identity.key(), &identity.name, alg).ok()?;
            let set = serde_json::json!({ "keys": [jwk] }).to_string();
            Some((format!("/{}.jwks", identity.name), Bytes::from(set)))
        })
        .collect();
    documents.insert("/broken.jwks".into(), Bytes::from_static(BROKEN.as_bytes()));
    // OpenID Connect Registration §5: a sector identifier document, a JSON array of redirect
    // URIs: one listing those the test directory's statements allow, one listing none of them.
    let sector = serde_json::Value::from(crate::pki::directory::REDIRECT_URIS).to_string();
    documents.insert(SECTOR.into(), Bytes::from(sector));
    documents.insert(SECTOR_ELSEWHERE.into(), Bytes::from_static(br#"["https://elsewhere.example/cb"]"#));
    documents
}

/// The sector identifier document listing the redirect URIs scenarios register.
pub const SECTOR: &str = "/sector.json";
/// A sector identifier document that lists none of them.
pub const SECTOR_ELSEWHERE: &str = "/sector-elsewhere.json";

/// Starts the key store on an ephemeral port of 127.0.0.1.
pub async fn start(pki: &Pki, faults: Switchboard) -> Result<Keystore, KeystoreError> {
    let server = pki.identity(crate::pki::names::SERVER).map_err(|e| KeystoreError::Tls(e.to_string()))?;
    let mut tls = rustls::ServerConfig::builder_with_provider(crate::crypto::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| KeystoreError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(server.chain.clone(), server.key().to_rustls())
        .map_err(|e| KeystoreError::Tls(e.to_string()))?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(KeystoreError::Bind)?;
    let url = format!("https://{}", listener.local_addr().map_err(KeystoreError::Bind)?);
    let handle = Handle { url: url.clone(), rotated: Arc::default() };
    let served = Arc::new(Served { documents: documents(pki), rotated: handle.rotated.clone(), faults });
    let service =
        crate::loopback::accept(url, listener, move |tcp| serve_connection(tcp, acceptor.clone(), served.clone()));
    Ok(Keystore { service, handle })
}

/// What the key store serves: its fixed documents, and the key sets in rotation.
struct Served {
    documents: HashMap<String, Bytes>,
    rotated: Arc<Mutex<HashSet<String>>>,
    faults: Switchboard,
}

impl Served {
    /// The document at `path`: a fixed one, or a key set in rotation (`/rotating/{old}/{new}/
    /// {slot}.jwks`) as it stands now.
    fn document(&self, path: &str) -> Option<Bytes> {
        if let Some(document) = self.documents.get(path) {
            return Some(document.clone());
        }
        let rest = path.strip_prefix(ROTATING)?.strip_suffix(".jwks")?;
        let mut parts = rest.splitn(3, '/');
        let (old, new, slot) = (parts.next()?, parts.next()?, parts.next()?);
        let rotated = self.rotated.lock().unwrap_or_else(|p| p.into_inner()).contains(slot);
        let published = if rotated { new } else { old };
        self.documents.get(&format!("/{published}.jwks")).cloned()
    }
}

/// Serves one connection: the TLS handshake, then HTTP/1.1, within the connection time.
async fn serve_connection(tcp: tokio::net::TcpStream, acceptor: TlsAcceptor, served: Arc<Served>) {
    let timeout = crate::loopback::CONNECTION_TIME;
    let Ok(Ok(tls)) = tokio::time::timeout(timeout, acceptor.accept(tcp)).await else { return };
    let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let path = request.uri().path();
        let stalled = path.starts_with(STALLED);
        let service = if [SECTOR, SECTOR_ELSEWHERE].contains(&path) { Service::Sector } else { Service::Keystore };
        let answer = answer(&served, request.method(), path);
        let faults = served.faults.clone();
        async move {
            if let Some(status) = faults.before_answering(service).await? {
                let mut refused = hyper::Response::new(Full::new(Bytes::new()));
                *refused.status_mut() = status;
                return Ok(refused);
            }
            if stalled {
                // Longer than the connection may last: the connection ends with no answer.
                tokio::time::sleep(crate::loopback::CONNECTION_TIME * 2).await;
            }
            Ok::<_, Down>(answer)
        }
    });
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service);
    let _ = tokio::time::timeout(timeout, connection).await;
}

fn answer(served: &Served, method: &http::Method, path: &str) -> hyper::Response<Full<Bytes>> {
    let (status, body) = match (method, served.document(path)) {
        (&http::Method::GET, Some(document)) => (http::StatusCode::OK, document.clone()),
        (&http::Method::GET, None) => (http::StatusCode::NOT_FOUND, Bytes::new()),
        _ => (http::StatusCode::METHOD_NOT_ALLOWED, Bytes::new()),
    };
    let mut response = hyper::Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_identity_has_its_key_set_and_nothing_else_is_served() {
        let served = Served {
            documents: documents(crate::testing::test_pki()),
            rotated: Arc::default(),
            faults: Switchboard::default(),
        };
        let set: serde_json::Value =
            serde_json::from_slice(&served.documents["/qseal.jwks"]).expect("the qseal key set is JSON");
        assert_eq!(set["keys"][0]["kid"], "qseal");
        let cases = [
            (http::Method::GET, "/qseal.jwks", http::StatusCode::OK),
            (http::Method::GET, "/broken.jwks", http::StatusCode::OK),
            (http::Method::GET, "/no-such-key.jwks", http::StatusCode::NOT_FOUND),
            (http::Method::POST, "/qseal.jwks", http::StatusCode::METHOD_NOT_ALLOWED),
            (http::Method::GET, "/rotating/qseal/qseal-b/s1.jwks", http::StatusCode::OK),
            (http::Method::GET, "/rotating/qseal.jwks", http::StatusCode::NOT_FOUND),
        ];
        for (method, path, status) in cases {
            assert_eq!(answer(&served, &method, path).status(), status, "{method} {path}");
        }
    }

    #[test]
    fn a_key_set_in_rotation_publishes_the_new_key_alone_once_its_slot_is_rotated() {
        let served = Served {
            documents: documents(crate::testing::test_pki()),
            rotated: Arc::default(),
            faults: Switchboard::default(),
        };
        let handle = Handle { url: "https://127.0.0.1:1".into(), rotated: served.rotated.clone() };
        let uri = handle.rotating_jwks_uri("qseal", "qseal-b", "s1");
        let path = uri.strip_prefix(handle.url()).expect("under the key store");
        let other = "/rotating/qseal/qseal-b/s2.jwks";
        let kid = |path: &str| {
            let set: serde_json::Value = serde_json::from_slice(&served.document(path).expect("served")).expect("JSON");
            set["keys"].as_array().map(|keys| keys.iter().map(|k| k["kid"].clone()).collect::<Vec<_>>())
        };
        assert_eq!(kid(path), Some(vec!["qseal".into()]));
        handle.rotate("s1").expect("rotated");
        assert_eq!(kid(path), Some(vec!["qseal-b".into()]), "the old key retired");
        assert_eq!(kid(other), Some(vec!["qseal".into()]), "another slot is its own");
        assert!(served.document("/rotating/qseal/no-such-key/s1.jwks").is_none(), "no key to rotate to");
    }
}
