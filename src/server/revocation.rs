//! Whether the QTSP has revoked a client or signing certificate: asked of the OCSP responder
//! its AIA names (or read from the CRL its distribution point names, where the responder cannot
//! answer or the server prefers CRLs), before the request is judged, and kept a while per
//! certificate. The test QTSP's hosts (`*.qtsp.dcr-harness.test`) map to the harness's loopback
//! services; no other host is ever asked. A revoked certificate is refused; one whose status
//! cannot be had is refused too (hard fail) unless the `revocation-soft-fail` variant says
//! otherwise; the `skip-revocation-check` flaw asks nothing.
//!
//! It holds no key: responses and CRLs are verified with the issuing CA's public key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::pki::revocation::{self, RevocationError, Status};
use crate::pki::{CertInfo, Pki};

use super::certs::CertProblem;
use super::fetch_clock::{FetchClock, FetchError, Fetcher};
use super::tls::TlsSetupError;
use crate::fault::Service;

/// Where the server asks, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationConfig {
    /// The harness's loopback QTSP services (`http://127.0.0.1:PORT`) that the test QTSP's
    /// hosts map to.
    pub qtsp: String,
    /// Where the test QTSP's other hosts (its responder that never answers) map: a loopback
    /// port nothing listens on.
    pub unanswered: String,
    /// Read the CRL first, the responder only where there is none.
    pub prefer_crl: bool,
}

/// How long a status is kept: a good or revoked one two seconds, one that could not be had one
/// second. Short on purpose: the reference server asks its QTSP on loopback, where asking is
/// cheap, and a fault the run puts in the QTSP's services (`--fault ocsp:...`) must show within
/// a load's phase rather than hide behind a status learnt before it.
const KEEP: Duration = Duration::from_secs(2);
const KEEP_FAILURE: Duration = Duration::from_secs(1);
/// The most of a response or CRL read.
const LIMIT: usize = 256 * 1024;
/// The most certificates whose status is kept.
const CACHE_LIMIT: usize = 4096;

/// The last bytes of a certificate as presented: the tail of its signature (or of the base64
/// text of it), which no two certificates share; a match is confirmed by comparing the whole.
type Fingerprint = [u8; 32];

/// A certificate as it was presented, and its serial.
type Presented = (Vec<u8>, Vec<u8>);

fn fingerprint(presented: &[u8]) -> Fingerprint {
    let mut tail = [0u8; 32];
    let take = presented.len().min(tail.len());
    tail[..take].copy_from_slice(&presented[presented.len() - take..]);
    tail
}

/// Why a certificate's status could not be had; the refusal's text is its `Display` after
/// `the certificate's status cannot be had: `.
#[derive(Debug, thiserror::Error)]
pub(super) enum StatusError {
    #[error("the certificate names no OCSP responder and no CRL")]
    NoService,
    /// The service asked first, then the other: why each could not say.
    #[error("{first}; then {then}")]
    Neither { first: Box<StatusError>, then: Box<StatusError> },
    #[error("`{url}`: {source}")]
    Url {
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error("{0} is not the test QTSP's: the reference server asks no other")]
    NotTheQtsps(String),
    /// The OCSP request could not be made.
    #[error("{0}")]
    OcspRequest(#[source] RevocationError),
    #[error("the OCSP responder {url}: {source}")]
    OcspUnanswered {
        url: String,
        #[source]
        source: FetchError,
    },
    #[error("the OCSP responder's answer: {0}")]
    OcspAnswer(#[source] RevocationError),
    #[error("the CRL at {url}: {source}")]
    CrlUnread {
        url: String,
        #[source]
        source: FetchError,
    },
    #[error("the CRL at {url}: {source}")]
    Crl {
        url: String,
        #[source]
        source: RevocationError,
    },
}

/// A status learnt, or why none could be (shared by every request that asks within its time).
type Verdict = Result<Status, Arc<StatusError>>;

pub(super) struct Revocation {
    config: RevocationConfig,
    issuer: CertInfo,
    fetcher: Fetcher,
    /// Verdicts by serial number, with when they were learnt.
    cache: Mutex<HashMap<Vec<u8>, (Verdict, Instant)>>,
    /// Certificates asked about lately, as they were presented (DER, or the text of a signing
    /// certificate's header), with their serial: a TPP presents the same certificates on every
    /// request, and comparing what it sent costs less than hashing, decoding or parsing it.
    seen: Mutex<HashMap<Fingerprint, Presented>>,
}

impl Revocation {
    pub(super) fn new(pki: &Pki, config: RevocationConfig, clock: Arc<FetchClock>) -> Result<Self, TlsSetupError> {
        let issuer = pki.identity(crate::pki::names::ISSUING_CA).map_err(TlsSetupError::Identity)?.info.clone();
        let client = reqwest::Client::builder()
            .http1_only()
            .no_gzip()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(TlsSetupError::Client)?;
        Ok(Revocation {
            config,
            issuer,
            fetcher: Fetcher { client, clock },
            cache: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashMap::new()),
        })
    }

    /// Learns the status of the certificate `der` unless it was learnt lately.
    pub(super) async fn refresh(&self, der: &[u8]) {
        self.refresh_as_presented(der, |der| Some(der.to_vec())).await
    }

    /// Learns the status of the signing certificate a header carries (base64, with or without
    /// PEM armour) unless it was learnt lately: decoded only when it was not.
    pub(super) async fn refresh_header(&self, value: &[u8]) {
        let decode = |value: &[u8]| crate::signature::decode_certificate(std::str::from_utf8(value).ok()?).ok();
        self.refresh_as_presented(value, decode).await
    }

    async fn refresh_as_presented(&self, presented: &[u8], der_of: impl FnOnce(&[u8]) -> Option<Vec<u8>>) {
        if self.serial_seen(presented).is_some_and(|serial| self.fresh(&serial)) {
            return;
        }
        let Some(der) = der_of(presented) else { return };
        let Ok(info) = CertInfo::from_der(&der) else { return };
        if info.issuer != self.issuer.subject {
            return;
        }
        {
            let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if seen.len() >= CACHE_LIMIT {
                seen.clear();
            }
            seen.insert(fingerprint(presented), (presented.to_vec(), info.serial.clone()));
        }
        if self.fresh(&info.serial) {
            return;
        }
        let verdict = self.ask(&der, &info).await.map_err(Arc::new);
        let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(info.serial.clone(), (verdict, Instant::now()));
    }

    /// The serial of a certificate presented lately exactly as `presented`.
    fn serial_seen(&self, presented: &[u8]) -> Option<Vec<u8>> {
        let seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (sent, serial) = seen.get(&fingerprint(presented))?;
        (sent.as_slice() == presented).then(|| serial.clone())
    }

    fn fresh(&self, serial: &[u8]) -> bool {
        let cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.get(serial).is_some_and(|(verdict, at)| at.elapsed() < if verdict.is_ok() { KEEP } else { KEEP_FAILURE })
    }

    async fn ask(&self, der: &[u8], info: &CertInfo) -> Result<Status, StatusError> {
        let (ocsp, crl) = revocation::status_urls(der);
        let from_ocsp = |url: String| async move { self.ocsp(&url, info).await };
        let from_crl = |url: String| async move { self.crl(&url, info).await };
        let neither = |first, then| StatusError::Neither { first: Box::new(first), then: Box::new(then) };
        match (ocsp, crl, self.config.prefer_crl) {
            (None, None, _) => Err(StatusError::NoService),
            (Some(o), None, _) => from_ocsp(o).await,
            (None, Some(c), _) => from_crl(c).await,
            (Some(o), Some(c), false) => match from_ocsp(o).await {
                Err(why) => from_crl(c).await.map_err(|then| neither(why, then)),
                status => status,
            },
            (Some(o), Some(c), true) => match from_crl(c).await {
                Err(why) => from_ocsp(o).await.map_err(|then| neither(why, then)),
                status => status,
            },
        }
    }

    /// The URL to use for one the certificate names: the test QTSP's hosts map to its loopback
    /// services; any other is not asked.
    fn local(&self, url: &str) -> Result<String, StatusError> {
        let parsed = url::Url::parse(url).map_err(|source| StatusError::Url { url: url.to_string(), source })?;
        match parsed.host_str() {
            Some(revocation::OCSP_HOST) | Some(revocation::CRL_HOST) => {
                Ok(format!("{}{}", self.config.qtsp.trim_end_matches('/'), parsed.path()))
            }
            Some(host) if host.ends_with(revocation::QTSP_HOST_SUFFIX) => {
                Ok(format!("{}{}", self.config.unanswered.trim_end_matches('/'), parsed.path()))
            }
            _ => Err(StatusError::NotTheQtsps(url.to_string())),
        }
    }

    async fn ocsp(&self, url: &str, info: &CertInfo) -> Result<Status, StatusError> {
        let request = revocation::ocsp_request(&info.serial, &self.issuer).map_err(StatusError::OcspRequest)?;
        let unanswered = |source| StatusError::OcspUnanswered { url: url.to_string(), source };
        let post = self.fetcher.client.post(self.local(url)?);
        let post = post.header(http::header::CONTENT_TYPE, "application/ocsp-request").body(request);
        let body = self.fetcher.fetch(Service::Ocsp, post, LIMIT).await.map_err(unanswered)?;
        revocation::read_ocsp_response(&body, &info.serial, &self.issuer, SystemTime::now())
            .map_err(StatusError::OcspAnswer)
    }

    async fn crl(&self, url: &str, info: &CertInfo) -> Result<Status, StatusError> {
        let unread = |source| StatusError::CrlUnread { url: url.to_string(), source };
        let get = self.fetcher.client.get(self.local(url)?);
        let body = self.fetcher.fetch(Service::Crl, get, LIMIT).await.map_err(unread)?;
        revocation::read_crl(&body, &info.serial, &self.issuer, SystemTime::now())
            .map_err(|source| StatusError::Crl { url: url.to_string(), source })
    }

    /// The verdict on a certificate whose status `refresh` learnt: revoked is refused; unknown
    /// or not to be had is refused unless `soft_fail`.
    pub(super) fn judge(&self, info: &CertInfo, soft_fail: bool) -> Result<(), CertProblem> {
        if info.issuer != self.issuer.subject {
            return Ok(());
        }
        let verdict = {
            let cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            cache.get(&info.serial).map(|(verdict, _)| verdict.clone())
        };
        match verdict {
            Some(Ok(Status::Good)) => Ok(()),
            Some(Ok(Status::Revoked)) => Err(CertProblem::Revoked("the certificate is revoked by its QTSP".into())),
            _ if soft_fail => Ok(()),
            Some(Ok(Status::Unknown)) => {
                Err(CertProblem::Invalid("the certificate's status is unknown to its QTSP's responder".into()))
            }
            Some(Err(why)) => Err(CertProblem::Invalid(format!("the certificate's status cannot be had: {why}"))),
            None => Err(CertProblem::Invalid("the certificate's status was not asked".into())),
        }
    }
}
