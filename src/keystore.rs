//! The TPPs' key store: a small HTTPS server on 127.0.0.1, with the test PKI's server
//! certificate, that publishes each identity's public key as a JWK Set at `/{identity}.jwks`
//! (`kid` the identity's name), as a TPP's `jwks_uri` (RFC 7591 §2) or an ecosystem's keystore
//! would; `/broken.jwks` serves a document that is no JWK Set; `/sector.json` and
//! `/sector-elsewhere.json` are OpenID Connect sector identifier documents (one listing the
//! redirect URIs scenarios register, one listing none). A run starts it where its profile holds
//! the `jwks-uri` or `sector-identifier` policy, so that a target on this host can read them
//! from there. It serves nothing else, answers only GET, and keeps no state.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

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

/// A running key store: `https://127.0.0.1:PORT`; a key set is at `{url}/{identity}.jwks`.
pub type Keystore = crate::loopback::Service;

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
pub async fn start(pki: &Pki) -> Result<Keystore, KeystoreError> {
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
    let documents = Arc::new(documents(pki));
    Ok(crate::loopback::accept(url, listener, move |tcp| serve_connection(tcp, acceptor.clone(), documents.clone())))
}

/// Serves one connection: the TLS handshake, then HTTP/1.1, within the connection time.
async fn serve_connection(tcp: tokio::net::TcpStream, acceptor: TlsAcceptor, documents: Arc<HashMap<String, Bytes>>) {
    let timeout = crate::loopback::CONNECTION_TIME;
    let Ok(Ok(tls)) = tokio::time::timeout(timeout, acceptor.accept(tcp)).await else { return };
    let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let answer = answer(&documents, request.method(), request.uri().path());
        async move { Ok::<_, Infallible>(answer) }
    });
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service);
    let _ = tokio::time::timeout(timeout, connection).await;
}

fn answer(documents: &HashMap<String, Bytes>, method: &http::Method, path: &str) -> hyper::Response<Full<Bytes>> {
    let (status, body) = match (method, documents.get(path)) {
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
        let documents = documents(crate::testing::test_pki());
        let set: serde_json::Value =
            serde_json::from_slice(&documents["/qseal.jwks"]).expect("the qseal key set is JSON");
        assert_eq!(set["keys"][0]["kid"], "qseal");
        let cases = [
            (http::Method::GET, "/qseal.jwks", http::StatusCode::OK),
            (http::Method::GET, "/broken.jwks", http::StatusCode::OK),
            (http::Method::GET, "/no-such-key.jwks", http::StatusCode::NOT_FOUND),
            (http::Method::POST, "/qseal.jwks", http::StatusCode::METHOD_NOT_ALLOWED),
        ];
        for (method, path, status) in cases {
            assert_eq!(answer(&documents, &method, path).status(), status, "{method} {path}");
        }
    }
}
