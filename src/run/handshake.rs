//! A `handshake` step: the ClientHello it offers sent to the target's host and port by
//! `tls_probe`, and the server's first answer judged against the step's expectation. It must
//! not send HTTP or hold state: a handshake step learns nothing a later step needs.

use std::time::Duration;

use super::check::check_handshake;
use super::model::{RecordedRequest, StepResult};
use super::target::Target;
use crate::scenario::Step;
use crate::tls_probe::{self, Offer, ProbeError};

/// How long a server has to answer a ClientHello.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// Why a handshake step could not be made (an ERROR, never the server's failure).
#[derive(Debug, thiserror::Error)]
pub enum HandshakeStepError {
    #[error("the target `{0}` is not reached over TLS (https), so its TLS cannot be asked")]
    NotTls(String),
    #[error("the step names no tls_version")]
    NoVersion,
    #[error(transparent)]
    Probe(ProbeError),
}

/// Sends the step's ClientHello and judges the answer.
pub async fn run(target: &Target, step: &Step, name: String) -> Result<StepResult, HandshakeStepError> {
    let started = std::time::Instant::now();
    let url = reqwest::Url::parse(&target.base_url).map_err(|_| HandshakeStepError::NotTls(target.base_url.clone()))?;
    let (Some(host), "https") = (url.host_str(), url.scheme()) else {
        return Err(HandshakeStepError::NotTls(target.base_url.clone()));
    };
    let addr = format!("{host}:{}", url.port_or_known_default().unwrap_or(443));
    let version = step.request.tls_version.ok_or(HandshakeStepError::NoVersion)?;
    let suites = step.request.cipher_suites.iter().filter_map(|name| tls_probe::cipher_suite(name)).collect();
    let offer = Offer { version, cipher_suites: suites };
    let expected = step.expect.handshake.unwrap_or(crate::scenario::HandshakeExpect::Accepted);
    let got = match tls_probe::probe(&addr, Some(host), &offer, ANSWER_WITHIN).await {
        Ok(got) => got,
        Err(error @ ProbeError::NotTls(_)) => {
            let outcome = super::model::CheckOutcome::new(
                super::model::Check::Handshake,
                false,
                "a ServerHello or an alert",
                error.to_string(),
            );
            return Ok(result(name, &addr, &offer, vec![outcome], started));
        }
        Err(error) => return Err(HandshakeStepError::Probe(error)),
    };
    Ok(result(name, &addr, &offer, vec![check_handshake(expected, &offer, &got)], started))
}

fn result(
    name: String,
    addr: &str,
    offer: &Offer,
    checks: Vec<super::model::CheckOutcome>,
    started: std::time::Instant,
) -> StepResult {
    let suites = match offer.cipher_suites.is_empty() {
        true => "the version's common suites".to_string(),
        false => offer.cipher_suites.iter().map(|id| tls_probe::cipher_suite_name(*id)).collect::<Vec<_>>().join(", "),
    };
    StepResult {
        name,
        request: RecordedRequest {
            method: "TLS".into(),
            url: format!("tls://{addr}"),
            tls_identity: None,
            headers: vec![],
            body: format!("ClientHello offering {} alone; cipher suites: {suites}", offer.version.name()),
            signing_string: None,
        },
        response: None,
        transport_error: None,
        mutations: vec![],
        checks,
        duration_ms: started.elapsed().as_millis() as u64,
    }
}
