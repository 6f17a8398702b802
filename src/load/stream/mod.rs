//! Load figures streamed while the load runs, where teams look: Prometheus remote write
//! ([`prometheus`], classic histogram buckets, and native ones where the receiver takes them)
//! and OpenTelemetry metrics over OTLP/HTTP ([`otlp`], protobuf). Once a second the engine's
//! figures are added to cumulative ones (requests, unexpected answers, the latency histogram)
//! and pushed to every sink from a task of their own, so that a slow or failing receiver never
//! slows the load: a push that cannot keep up is dropped and counted, and what each sink took or
//! refused is in the report.
//!
//! It encodes and sends; it measures nothing itself and judges nothing.

pub mod otlp;
pub mod prometheus;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// Where figures go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// Prometheus remote write 1.0: classic histogram buckets.
    Prometheus(String),
    /// The same, with a native histogram beside the classic buckets.
    PrometheusNative(String),
    /// OTLP/HTTP metrics, protobuf (`.../v1/metrics`).
    Otlp(String),
}

/// Why a sink was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}`: give a sink as prometheus=URL, prometheus-native=URL or otlp=URL, the URL http:// or https://")]
pub struct SinkError(String);

impl std::str::FromStr for Sink {
    type Err = SinkError;

    fn from_str(s: &str) -> Result<Sink, SinkError> {
        let bad = || SinkError(s.to_string());
        let (kind, url) = s.split_once('=').ok_or_else(bad)?;
        let parsed = url::Url::parse(url.trim()).map_err(|_| bad())?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(bad());
        }
        let url = url.trim().to_string();
        match kind.trim() {
            "prometheus" => Ok(Sink::Prometheus(url)),
            "prometheus-native" => Ok(Sink::PrometheusNative(url)),
            "otlp" => Ok(Sink::Otlp(url)),
            _ => Err(bad()),
        }
    }
}

impl Sink {
    fn url(&self) -> &str {
        match self {
            Sink::Prometheus(url) | Sink::PrometheusNative(url) | Sink::Otlp(url) => url,
        }
    }

    fn describe(&self) -> String {
        match self {
            Sink::Prometheus(url) => format!("prometheus {url}"),
            Sink::PrometheusNative(url) => format!("prometheus (native histograms) {url}"),
            Sink::Otlp(url) => format!("otlp {url}"),
        }
    }
}

/// The classic histogram's upper bounds, in seconds (the last bucket, `+Inf`, is implied).
pub const BOUNDS_S: [f64; 13] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// The native histogram's schema: 2^3 buckets per power of two (a growth of about 9% a bucket).
pub const NATIVE_SCHEMA: i32 = 3;

/// The load's figures since it started, as of one second.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub started: SystemTime,
    pub at: SystemTime,
    pub profile: String,
    pub requests: u64,
    pub unexpected: u64,
    pub latency: Cumulative,
}

/// A latency histogram since the load started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cumulative {
    pub count: u64,
    pub sum_s: f64,
    /// Per classic bucket (`BOUNDS_S`, then `+Inf`), not cumulative.
    pub buckets: [u64; BOUNDS_S.len() + 1],
    /// Native bucket index at [`NATIVE_SCHEMA`] to count.
    pub native: BTreeMap<i32, u64>,
}

impl Cumulative {
    /// Adds `count` latencies of `us` microseconds.
    pub fn add(&mut self, us: u64, count: u64) {
        let s = us as f64 / 1e6;
        self.count += count;
        self.sum_s += s * count as f64;
        let classic = BOUNDS_S.iter().position(|b| s <= *b).unwrap_or(BOUNDS_S.len());
        self.buckets[classic] += count;
        *self.native.entry(native_index(s)).or_default() += count;
    }
}

/// The native bucket of a positive value: bucket `i` holds (base^(i-1), base^i], with base
/// 2^(2^-schema).
pub fn native_index(s: f64) -> i32 {
    let scale = f64::from(1u32 << NATIVE_SCHEMA);
    (s.log2() * scale).ceil().clamp(f64::from(i32::MIN / 2), f64::from(i32::MAX / 2)) as i32
}

/// What one sink took.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SinkReport {
    pub sink: String,
    /// Pushes the receiver accepted (2xx).
    pub accepted: u64,
    /// Pushes it refused, or that found no receiver.
    pub failed: u64,
    /// Pushes dropped because the one before had not finished.
    pub dropped: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<String>,
}

/// The most of a receiver's refusal that is read.
const REFUSAL_BYTES: usize = 200;

/// The most a push may take before it counts as failed.
const PUSH_TIME: Duration = Duration::from_secs(5);

/// Streams snapshots to the sinks from a task of its own.
pub struct Streamer {
    sender: tokio::sync::mpsc::Sender<Snapshot>,
    task: tokio::task::JoinHandle<Vec<SinkReport>>,
    dropped: std::sync::Arc<std::sync::atomic::AtomicU64>,
    totals: Cumulative,
    started: SystemTime,
    profile: String,
}

impl Streamer {
    /// Starts the task that pushes to `sinks` (on the current runtime).
    pub fn start(sinks: Vec<Sink>, profile: &str) -> Streamer {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Snapshot>(2);
        let task = tokio::spawn(async move {
            let client = reqwest::Client::builder().timeout(PUSH_TIME).build().ok();
            let mut reports: Vec<SinkReport> =
                sinks.iter().map(|s| SinkReport { sink: s.describe(), ..SinkReport::default() }).collect();
            while let Some(snapshot) = receiver.recv().await {
                for (sink, report) in sinks.iter().zip(reports.iter_mut()) {
                    match push(client.as_ref(), sink, &snapshot).await {
                        Ok(()) => report.accepted += 1,
                        Err(why) => {
                            report.failed += 1;
                            report.last_failure = Some(why);
                        }
                    }
                }
            }
            reports
        });
        Streamer {
            sender,
            task,
            dropped: Default::default(),
            totals: Cumulative::default(),
            started: SystemTime::now(),
            profile: profile.to_string(),
        }
    }

    /// A second of the load: its latencies added to the totals, the totals offered to the sinks.
    pub fn second(&mut self, requests: u64, unexpected: u64, latencies: &[(u64, u64)]) {
        for (us, count) in latencies {
            self.totals.add(*us, *count);
        }
        let snapshot = Snapshot {
            started: self.started,
            at: SystemTime::now(),
            profile: self.profile.clone(),
            requests,
            unexpected,
            latency: self.totals.clone(),
        };
        if self.sender.try_send(snapshot).is_err() {
            self.dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Waits for the last pushes; what each sink took.
    pub async fn finish(self) -> Vec<SinkReport> {
        let dropped = self.dropped.load(std::sync::atomic::Ordering::Relaxed);
        drop(self.sender);
        let mut reports = self.task.await.unwrap_or_default();
        for report in &mut reports {
            report.dropped = dropped;
        }
        reports
    }
}

/// Sends one snapshot to one sink.
async fn push(client: Option<&reqwest::Client>, sink: &Sink, snapshot: &Snapshot) -> Result<(), String> {
    let client = client.ok_or("no HTTP client could be built")?;
    let request = match sink {
        Sink::Prometheus(url) | Sink::PrometheusNative(url) => {
            let native = matches!(sink, Sink::PrometheusNative(_));
            let body = prometheus::write_request(snapshot, native);
            client
                .post(url)
                .header(http::header::CONTENT_TYPE, "application/x-protobuf")
                .header(http::header::CONTENT_ENCODING, "snappy")
                .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                .body(body)
        }
        Sink::Otlp(url) => client
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/x-protobuf")
            .body(otlp::export_request(snapshot)),
    };
    let response = request.send().await.map_err(|e| format!("{}: {}", sink.url(), crate::diagnostic::chain(&e)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    // A receiver's refusal says why in a line or two; more is not read.
    let mut response = response;
    let mut said = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        said.extend_from_slice(&chunk[..chunk.len().min(REFUSAL_BYTES - said.len())]);
        if said.len() >= REFUSAL_BYTES {
            break;
        }
    }
    let text = String::from_utf8_lossy(&said);
    Err(format!("{}: {status} {}", sink.url(), text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinks_are_read_as_spelt_and_others_refused() {
        let cases: &[(&str, Option<Sink>)] = &[
            (
                "prometheus=http://127.0.0.1:9090/api/v1/write",
                Some(Sink::Prometheus("http://127.0.0.1:9090/api/v1/write".into())),
            ),
            ("prometheus-native=https://p.example/w", Some(Sink::PrometheusNative("https://p.example/w".into()))),
            ("otlp=http://127.0.0.1:4318/v1/metrics", Some(Sink::Otlp("http://127.0.0.1:4318/v1/metrics".into()))),
            ("otlp=ftp://127.0.0.1/x", None),
            ("statsd=http://127.0.0.1:8125", None),
            ("prometheus", None),
            ("prometheus=not a url", None),
        ];
        for (spelt, expected) in cases {
            assert_eq!(spelt.parse::<Sink>().ok(), *expected, "{spelt}");
        }
    }

    #[test]
    fn latencies_land_in_their_classic_and_native_buckets() {
        let mut totals = Cumulative::default();
        totals.add(1_000, 2); // 1 ms: the 0.001 bucket (upper bounds are inclusive)
        totals.add(1_001, 1); // just above: the next
        totals.add(7_000_000, 1); // 7 s: +Inf
        assert_eq!(totals.count, 4);
        assert_eq!(&totals.buckets[..3], &[0, 2, 1]);
        assert_eq!(totals.buckets[BOUNDS_S.len()], 1);
        assert!((totals.sum_s - 7.003001).abs() < 1e-9, "{}", totals.sum_s);
        // Schema 3: bucket i holds (2^((i-1)/8), 2^(i/8)]; 1 s is 2^0, the top of bucket 0.
        let cases = [(1.0, 0), (1.05, 1), (2.0, 8), (0.5, -8), (0.001, -79)];
        for (s, index) in cases {
            assert_eq!(native_index(s), index, "{s}");
        }
    }
}
