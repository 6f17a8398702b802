//! The time the server spends fetching what it does not hold (key sets at `jwks_uri`s, sector
//! identifier documents, OCSP answers and CRLs), by service, as the server itself measured it:
//! how many fetches, their total and their longest. A load shows it apart from the endpoint's
//! latency (an external fetch is time the server waits, not works).
//!
//! It counts, and gives the server the one way it fetches ([`Fetcher::fetch`]: sent, read up to
//! a limit, timed); it judges nothing.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use crate::fault::Service;

/// Fetch counters per service, shared by every fetch the server makes.
#[derive(Debug, Default)]
pub struct FetchClock {
    counters: [Counter; 4],
}

#[derive(Debug, Default)]
struct Counter {
    fetches: AtomicU64,
    total_us: AtomicU64,
    max_us: AtomicU64,
}

/// What one service's fetches cost, as of a moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct FetchFigures {
    pub fetches: u64,
    pub total_us: u64,
    pub max_us: u64,
}

impl FetchFigures {
    /// What was fetched since `earlier` (the longest is the whole's: no finer is kept).
    pub fn since(self, earlier: FetchFigures) -> FetchFigures {
        FetchFigures {
            fetches: self.fetches.saturating_sub(earlier.fetches),
            total_us: self.total_us.saturating_sub(earlier.total_us),
            max_us: self.max_us,
        }
    }

    /// The mean fetch, in microseconds.
    pub fn mean_us(self) -> u64 {
        self.total_us.checked_div(self.fetches).unwrap_or(0)
    }
}

impl FetchClock {
    /// Runs `fetch` (a request and the reading of its answer), counting its time against
    /// `service`, whatever its outcome.
    pub async fn timed<T>(&self, service: Service, fetch: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let outcome = fetch.await;
        let took = started.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
        let counter = &self.counters[service as usize];
        counter.fetches.fetch_add(1, Relaxed);
        counter.total_us.fetch_add(took, Relaxed);
        counter.max_us.fetch_max(took, Relaxed);
        outcome
    }

    /// Every service's figures now.
    pub fn figures(&self) -> Vec<(Service, FetchFigures)> {
        Service::ALL
            .into_iter()
            .map(|service| {
                let c = &self.counters[service as usize];
                let figures = FetchFigures {
                    fetches: c.fetches.load(Relaxed),
                    total_us: c.total_us.load(Relaxed),
                    max_us: c.max_us.load(Relaxed),
                };
                (service, figures)
            })
            .collect()
    }
}

/// The reqwest client the server fetches with, and the clock its fetches count against.
#[derive(Debug, Clone)]
pub struct Fetcher {
    pub client: reqwest::Client,
    pub clock: std::sync::Arc<FetchClock>,
}

impl Fetcher {
    /// Sends `request` (made on this fetcher's client) and reads at most `limit` bytes of a
    /// successful answer, its time counted against `service`.
    pub async fn fetch(
        &self,
        service: Service,
        request: reqwest::RequestBuilder,
        limit: usize,
    ) -> Result<Vec<u8>, FetchError> {
        self.clock
            .timed(service, async {
                let response = request.send().await.map_err(FetchError::Send)?;
                read_limited(response, limit).await
            })
            .await
    }
}

/// Why a document the server fetched (a JWK Set, an OCSP response, a CRL) was not had.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No answer: the request could not be sent, or timed out.
    #[error("{0}")]
    Send(#[source] reqwest::Error),
    #[error("status {0}")]
    Status(reqwest::StatusCode),
    #[error("{0}")]
    Body(#[source] reqwest::Error),
    #[error("more than {0} bytes")]
    TooLarge(usize),
}

/// The body of a successful answer the server fetched, up to `limit` bytes.
async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, FetchError> {
    if !response.status().is_success() {
        return Err(FetchError::Status(response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(FetchError::Body)? {
        if body.len() + chunk.len() > limit {
            return Err(FetchError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_fetch_counts_against_its_service_only() {
        let clock = FetchClock::default();
        clock.timed(Service::Ocsp, tokio::time::sleep(std::time::Duration::from_millis(5))).await;
        clock.timed(Service::Ocsp, async {}).await;
        let figures = clock.figures();
        let ocsp = figures.iter().find(|(s, _)| *s == Service::Ocsp).map(|(_, f)| *f).unwrap_or_default();
        assert_eq!(ocsp.fetches, 2);
        assert!(ocsp.max_us >= 5_000 && ocsp.total_us >= ocsp.max_us, "{ocsp:?}");
        assert!(figures.iter().filter(|(s, _)| *s != Service::Ocsp).all(|(_, f)| f.fetches == 0));
        let later = FetchFigures { fetches: 5, total_us: 900, max_us: 400 };
        assert_eq!(later.since(FetchFigures { fetches: 2, total_us: 300, max_us: 100 }).mean_us(), 200);
    }
}
