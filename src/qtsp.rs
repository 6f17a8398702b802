//! The test QTSP's online services, as a run hosts them on 127.0.0.1 over plain HTTP (as OCSP
//! and CRLs are served): the OCSP responder (RFC 6960: `POST` an `application/ocsp-request`,
//! answered and signed by the issuing CA) and the issuing CA's CRL (`GET /issuing-ca.crl`). The
//! test PKI's certificates name them on hosts under `qtsp.dcr-harness.test`; a server maps those
//! hosts here. What it says of each certificate is `pki::revocation`'s data.
//!
//! It answers only these two, keeps no state, and reads at most 64 KiB of a request. Before
//! each answer it asks the run's [`Switchboard`] whether a fault holds (slow, failing, down).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::fault::{Down, Service, Switchboard};
use crate::pki::{revocation, Pki};

/// The largest OCSP request read.
const REQUEST_LIMIT: usize = 64 * 1024;

/// Why the QTSP's services could not start.
#[derive(Debug, thiserror::Error)]
pub enum QtspError {
    #[error("the test QTSP's status services cannot listen on 127.0.0.1: {0}")]
    Bind(std::io::Error),
}

/// The running services.
pub struct Qtsp {
    service: crate::loopback::Service,
    unanswered: String,
}

impl Qtsp {
    /// `http://127.0.0.1:PORT`: the responder at `/`, the CRL at `/issuing-ca.crl`.
    pub fn url(&self) -> &str {
        self.service.url()
    }

    /// `http://127.0.0.1:PORT` where nothing listens: the responder that never answers.
    pub fn unanswered(&self) -> &str {
        &self.unanswered
    }

    /// What a server needs to ask these services.
    pub fn revocation_config(&self, prefer_crl: bool) -> crate::server::RevocationConfig {
        crate::server::RevocationConfig {
            qtsp: self.url().to_string(),
            unanswered: self.unanswered.clone(),
            prefer_crl,
        }
    }

    pub async fn stop(self) {
        self.service.stop().await;
    }
}

/// Starts the services on an ephemeral port of 127.0.0.1, answering for `pki`.
pub async fn start(pki: Arc<Pki>, faults: Switchboard) -> Result<Qtsp, QtspError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(QtspError::Bind)?;
    let url = format!("http://{}", listener.local_addr().map_err(QtspError::Bind)?);
    // A port that was free a moment ago and is closed again: connecting to it is refused.
    let closed = TcpListener::bind(("127.0.0.1", 0)).await.map_err(QtspError::Bind)?;
    let unanswered = format!("http://{}", closed.local_addr().map_err(QtspError::Bind)?);
    drop(closed);
    let service = crate::loopback::accept(url, listener, move |tcp| serve_connection(tcp, pki.clone(), faults.clone()));
    Ok(Qtsp { service, unanswered })
}

/// Serves one connection (plain HTTP/1.1) within the connection time.
async fn serve_connection(tcp: tokio::net::TcpStream, pki: Arc<Pki>, faults: Switchboard) {
    let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let (pki, faults) = (pki.clone(), faults.clone());
        async move {
            let service = match request.uri().path() {
                "/issuing-ca.crl" => Service::Crl,
                _ => Service::Ocsp,
            };
            match faults.before_answering(service).await? {
                Some(status) => Ok(reply(status, "text/plain", Vec::new())),
                None => Ok::<_, Down>(answer(&pki, request).await),
            }
        }
    });
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), service);
    let _ = tokio::time::timeout(crate::loopback::CONNECTION_TIME, connection).await;
}

async fn answer(pki: &Pki, request: hyper::Request<hyper::body::Incoming>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    match (&parts.method, parts.uri.path()) {
        (&http::Method::GET, "/issuing-ca.crl") => match revocation::crl(pki, std::time::SystemTime::now()) {
            Ok(crl) => reply(http::StatusCode::OK, "application/pkix-crl", crl),
            Err(_) => reply(http::StatusCode::INTERNAL_SERVER_ERROR, "text/plain", Vec::new()),
        },
        (&http::Method::POST, _) => {
            let request = match Limited::new(body, REQUEST_LIMIT).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => return reply(http::StatusCode::PAYLOAD_TOO_LARGE, "text/plain", Vec::new()),
            };
            let response = revocation::answer_ocsp_request(pki, &request, std::time::SystemTime::now());
            reply(http::StatusCode::OK, "application/ocsp-response", response)
        }
        (&http::Method::GET, _) => reply(http::StatusCode::NOT_FOUND, "text/plain", Vec::new()),
        _ => reply(http::StatusCode::METHOD_NOT_ALLOWED, "text/plain", Vec::new()),
    }
}

fn reply(status: http::StatusCode, content_type: &'static str, body: Vec<u8>) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    response
}
