//! What a load measures and how figures combine: per transaction an HDR histogram of latencies
//! in microseconds, answers by status, unexpected answers by status and error code; per second
//! a histogram for the timeline. A [`Measurement`] is what one process measured; it is also the
//! shard file `--out` writes (histograms in HDR V2 form, base64), so that `load merge` adds
//! shards exactly as one process would have: counts add, histograms merge. The report is made
//! from a measurement in one place, for a single run and a merge alike.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::load::model::{judge, Latency, LoadReport, Signing, Thresholds, TimelinePoint, TransactionFigures};
use crate::transport::TlsFigures;

/// Latencies from 1 µs to an hour at three significant figures.
pub fn histogram() -> Histogram<u64> {
    // Constant bounds that hdrhistogram accepts (low >= 1, high >= 2 * low, sigfig <= 5).
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("constant bounds are valid")
}

/// An HDR histogram that serialises as base64 of its V2 encoding.
#[derive(Debug, Clone)]
pub struct Hdr(pub Histogram<u64>);

impl Default for Hdr {
    fn default() -> Self {
        Hdr(histogram())
    }
}

impl Hdr {
    pub fn record(&mut self, us: u64) {
        self.0.saturating_record(us.max(1));
    }

    pub fn add(&mut self, other: &Hdr) {
        // Both have the same bounds (or came from a file that said so): adding cannot fail for
        // values in range; out-of-range ones are dropped rather than lose the rest.
        let _ = self.0.add(&other.0);
    }

    fn latency(&self) -> Latency {
        let h = &self.0;
        if h.is_empty() {
            return Latency::default();
        }
        let q = |p: f64| h.value_at_quantile(p);
        Latency {
            min_us: h.min(),
            mean_us: h.mean().round() as u64,
            p50_us: q(0.5),
            p90_us: q(0.9),
            p95_us: q(0.95),
            p99_us: q(0.99),
            p999_us: q(0.999),
            max_us: h.max(),
        }
    }
}

impl Serialize for Hdr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::new();
        V2Serializer::new().serialize(&self.0, &mut bytes).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&B64.encode(bytes))
    }
}

impl<'de> Deserialize<'de> for Hdr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = B64.decode(text.as_bytes()).map_err(serde::de::Error::custom)?;
        let read: Histogram<u64> =
            Deserializer::new().deserialize(&mut bytes.as_slice()).map_err(serde::de::Error::custom)?;
        let mut hdr = Hdr::default();
        hdr.0.add(&read).map_err(|e| serde::de::Error::custom(format!("histogram out of range: {e:?}")))?;
        Ok(hdr)
    }
}

/// One transaction's figures so far.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Tally {
    pub name: String,
    pub latency: Hdr,
    pub statuses: BTreeMap<String, u64>,
    pub unexpected: BTreeMap<String, u64>,
}

/// What one request came to.
pub struct Outcome<'a> {
    /// The status, or why there was no answer.
    pub answer: Result<u16, &'a str>,
    pub expected: bool,
    /// For an unexpected answer: its error code (RFC 6749 §5.2 `error`), if it gave one.
    pub code: Option<&'a str>,
    pub latency_us: u64,
}

impl Tally {
    pub fn named(name: &str) -> Self {
        Tally { name: name.to_string(), ..Tally::default() }
    }

    pub fn requests(&self) -> u64 {
        self.statuses.values().sum()
    }

    pub fn record(&mut self, o: &Outcome<'_>) {
        self.latency.record(o.latency_us);
        let status = match o.answer {
            Ok(status) => status.to_string(),
            Err(_) => NO_ANSWER.to_string(),
        };
        if !o.expected {
            let what = match (o.answer, o.code) {
                (Ok(status), Some(code)) => format!("{status} {code}"),
                (Ok(status), None) => status.to_string(),
                (Err(why), _) => format!("{NO_ANSWER}: {why}"),
            };
            *self.unexpected.entry(what).or_default() += 1;
        }
        *self.statuses.entry(status).or_default() += 1;
    }

    pub fn add(&mut self, other: &Tally) {
        self.latency.add(&other.latency);
        for (k, n) in &other.statuses {
            *self.statuses.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &other.unexpected {
            *self.unexpected.entry(k.clone()).or_default() += n;
        }
    }
}

/// The status column of requests that got no answer.
pub const NO_ANSWER: &str = "no answer";

/// One second of the load: counts, and the percentiles of that second. Points, not histograms,
/// so that a day-long load's timeline costs bytes per second, not kilobytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    pub requests: u64,
    pub unexpected: u64,
    pub p50_us: u64,
    pub p99_us: u64,
}

impl Tick {
    /// Another shard's same second: counts add; the percentiles are the slower shard's (a
    /// second's histograms are not kept, so this is the conservative reading).
    pub fn add(&mut self, other: &Tick) {
        self.requests += other.requests;
        self.unexpected += other.unexpected;
        self.p50_us = self.p50_us.max(other.p50_us);
        self.p99_us = self.p99_us.max(other.p99_us);
    }
}

/// A histogram for one second of one user: two significant figures up to a minute (what a
/// timeline point needs), reset rather than reallocated every second.
pub fn second_histogram() -> Histogram<u64> {
    // Constant bounds that hdrhistogram accepts.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, 60_000_000, 2).expect("constant bounds are valid")
}

/// What one process measured (or several, merged): the shard file's content.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    /// The shard file format.
    pub format: u32,
    pub profile: String,
    pub target: String,
    pub signing: Signing,
    pub signatures_made: u64,
    pub signatures_reused: u64,
    pub model: String,
    pub users: usize,
    pub shards: usize,
    /// The TPPs the load spoke as, with their QWAC and QSEAL (shards may speak as different ones).
    #[serde(default)]
    pub speaking_as: Vec<String>,
    pub tls: TlsFigures,
    pub duration_s: f64,
    pub scheduled: Option<u64>,
    pub late_starts: u64,
    pub max_lag_us: u64,
    pub transactions: Vec<Tally>,
    /// CPU seconds the process spent during the attack (not the cleanup), where the system says.
    pub cpu_s: Option<f64>,
    /// Second by second, from the start.
    pub timeline: Vec<Tick>,
    pub thresholds: Thresholds,
    pub interrupted: bool,
}

/// The shard file format this build writes and reads.
pub const FORMAT: u32 = 1;

/// Why shard files do not merge.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no shard files")]
    Empty,
    #[error("{file}: {what} differs from the first shard's ({first} vs {this}): merge shards of one load only")]
    Mismatch { file: String, what: &'static str, first: String, this: String },
    #[error("{file}: shard file format {found}, this build reads {FORMAT}")]
    Format { file: String, found: u32 },
}

impl Measurement {
    /// Adds another shard's figures to these: counts add, histograms merge, the longest
    /// duration stands (the shards ran side by side).
    pub fn merge(shards: Vec<(String, Measurement)>) -> Result<Measurement, MergeError> {
        let mut shards = shards.into_iter();
        let (first_file, mut merged) = shards.next().ok_or(MergeError::Empty)?;
        if merged.format != FORMAT {
            return Err(MergeError::Format { file: first_file, found: merged.format });
        }
        for (file, m) in shards {
            if m.format != FORMAT {
                return Err(MergeError::Format { file, found: m.format });
            }
            let names = |m: &Measurement| m.transactions.iter().map(|t| t.name.clone()).collect::<Vec<_>>().join(",");
            for (what, first, this) in [
                ("the load profile", merged.profile.clone(), m.profile.clone()),
                ("the target", merged.target.clone(), m.target.clone()),
                ("the signing mode", format!("{:?}", merged.signing), format!("{:?}", m.signing)),
                ("the transactions", names(&merged), names(&m)),
            ] {
                if first != this {
                    return Err(MergeError::Mismatch { file, what, first, this });
                }
            }
            merged.absorb(&m);
        }
        Ok(merged)
    }

    fn absorb(&mut self, m: &Measurement) {
        self.signatures_made += m.signatures_made;
        self.signatures_reused += m.signatures_reused;
        self.users += m.users;
        self.shards += m.shards;
        for tpp in &m.speaking_as {
            if !self.speaking_as.contains(tpp) {
                self.speaking_as.push(tpp.clone());
            }
        }
        self.tls.handshakes += m.tls.handshakes;
        self.tls.resumptions_offered += m.tls.resumptions_offered;
        if self.tls.group.is_none() {
            self.tls.group.clone_from(&m.tls.group);
        }
        self.duration_s = self.duration_s.max(m.duration_s);
        self.scheduled = match (self.scheduled, m.scheduled) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.late_starts += m.late_starts;
        self.cpu_s = self.cpu_s.zip(m.cpu_s).map(|(a, b)| a + b);
        self.max_lag_us = self.max_lag_us.max(m.max_lag_us);
        for (mine, theirs) in self.transactions.iter_mut().zip(&m.transactions) {
            mine.add(theirs);
        }
        if self.timeline.len() < m.timeline.len() {
            self.timeline.resize_with(m.timeline.len(), Tick::default);
        }
        for (mine, theirs) in self.timeline.iter_mut().zip(&m.timeline) {
            mine.add(theirs);
        }
        self.interrupted |= m.interrupted;
    }

    /// The report: every figure, every threshold judged (none when interrupted).
    pub fn report(&self) -> LoadReport {
        let duration = self.duration_s.max(1e-3);
        let mut all = Hdr::default();
        let mut transactions = Vec::new();
        let (mut requests, mut answered, mut unexpected) = (0, 0, 0);
        for t in &self.transactions {
            all.add(&t.latency);
            let sent = t.requests();
            let wrong: u64 = t.unexpected.values().sum();
            requests += sent;
            answered += sent - t.statuses.get(NO_ANSWER).copied().unwrap_or(0);
            unexpected += wrong;
            transactions.push(TransactionFigures {
                name: t.name.clone(),
                requests: sent,
                rate: sent as f64 / duration,
                statuses: t.statuses.clone(),
                unexpected: wrong,
                unexpected_answers: t.unexpected.clone(),
                latency: t.latency.latency(),
            });
        }
        let throughput = requests as f64 / duration;
        let latency = all.latency();
        let thresholds = match self.interrupted {
            true => Vec::new(),
            false => judge(&self.thresholds, requests, unexpected, throughput, &latency),
        };
        let timeline = self
            .timeline
            .iter()
            .enumerate()
            .map(|(t, tick)| TimelinePoint {
                t_s: t as u64 + 1,
                requests: tick.requests,
                unexpected: tick.unexpected,
                p50_us: tick.p50_us,
                p99_us: tick.p99_us,
            })
            .collect();
        LoadReport {
            profile: self.profile.clone(),
            target: self.target.clone(),
            signing: self.signing,
            signatures_made: self.signatures_made,
            signatures_reused: self.signatures_reused,
            model: self.model.clone(),
            users: self.users,
            shards: self.shards,
            speaking_as: self.speaking_as.clone(),
            tls: self.tls.clone(),
            http_version: "HTTP/1.1".into(),
            duration_s: self.duration_s,
            requests,
            answered,
            unexpected,
            throughput,
            scheduled_rate: self.scheduled.map(|n| n as f64 / duration),
            late_starts: self.late_starts,
            cpu_us_per_request: self.cpu_s.filter(|_| requests > 0).map(|s| s * 1e6 / requests as f64),
            max_lag_ms: self.max_lag_us as f64 / 1000.0,
            latency,
            transactions,
            thresholds,
            timeline,
            percentiles: percentile_curve(&all),
            clients_left: Vec::new(),
            clients_stranded: 0,
            ledger: None,
            clients_deleted: 0,
            interrupted: self.interrupted,
            baseline: None,
            server_fetches: Vec::new(),
            faults: None,
            fault_phases: Vec::new(),
            under_load: None,
            streamed: Vec::new(),
        }
    }
}

/// The percentile curve at the points an HDR plot shows: 0, 50, 90, 99, 99.9, ... up to the
/// precision the sample count supports.
fn percentile_curve(h: &Hdr) -> Vec<(f64, u64)> {
    if h.0.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut tail = 1.0f64;
    // Steps of the "number of nines", ten per decade.
    while tail > 1.0 / h.0.len().max(1) as f64 / 10.0 && out.len() < 80 {
        let p = 1.0 - tail;
        out.push((p * 100.0, h.0.value_at_quantile(p)));
        tail /= 10f64.powf(0.1);
    }
    out.push((100.0, h.0.max()));
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn outcome(
        answer: Result<u16, &'static str>,
        expected: bool,
        code: Option<&'static str>,
        us: u64,
    ) -> Outcome<'static> {
        Outcome { answer, expected, code, latency_us: us }
    }

    #[test]
    fn a_tally_counts_statuses_and_names_what_was_unexpected() {
        let mut t = Tally::named("register");
        t.record(&outcome(Ok(201), true, None, 900));
        t.record(&outcome(Ok(201), true, None, 1100));
        t.record(&outcome(Ok(401), false, Some("invalid_signature"), 500));
        t.record(&outcome(Err("timeout"), false, None, 15_000_000));
        assert_eq!(t.requests(), 4);
        assert_eq!(t.statuses, BTreeMap::from([("201".into(), 2), ("401".into(), 1), (NO_ANSWER.into(), 1)]));
        assert_eq!(
            t.unexpected,
            BTreeMap::from([("401 invalid_signature".into(), 1), ("no answer: timeout".into(), 1)])
        );
        assert_eq!(t.latency.0.len(), 4);
    }

    pub(crate) fn measurement(samples: &[u64]) -> Measurement {
        let mut t = Tally::named("read");
        for us in samples {
            t.record(&outcome(Ok(200), true, None, *us));
        }
        Measurement {
            format: FORMAT,
            profile: "p".into(),
            target: "t".into(),
            signing: Signing::Fresh,
            signatures_made: 0,
            signatures_reused: 0,
            model: "m".into(),
            users: 1,
            shards: 1,
            speaking_as: vec![],
            tls: TlsFigures::default(),
            duration_s: 1.0,
            scheduled: None,
            late_starts: 0,
            max_lag_us: 0,
            cpu_s: None,
            transactions: vec![t],
            timeline: vec![],
            thresholds: Thresholds::default(),
            interrupted: false,
        }
    }

    #[test]
    fn shards_merged_through_their_files_equal_one_histogram_fed_everything() {
        let parts: [Vec<u64>; 3] = [(1..1000).collect(), (500..3000).step_by(3).collect(), vec![7, 70_000, 7_000_000]];
        let files: Vec<(String, Measurement)> = parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let json = serde_json::to_string(&measurement(p)).expect("serialise");
                (format!("shard-{i}"), serde_json::from_str(&json).expect("read back"))
            })
            .collect();
        let merged = Measurement::merge(files).expect("merge").report();
        let everything: Vec<u64> = parts.concat();
        let one = measurement(&everything).report();
        assert_eq!(merged.requests, everything.len() as u64);
        assert_eq!(merged.latency, one.latency, "merged percentiles are one histogram's");
        assert_eq!(merged.shards, 3);
    }

    #[test]
    fn shards_of_different_loads_do_not_merge() {
        let mut other = measurement(&[1]);
        other.profile = "another".into();
        let error = Measurement::merge(vec![("a".into(), measurement(&[1])), ("b".into(), other)]).expect_err("differ");
        assert!(error.to_string().starts_with("b: the load profile differs"), "{error}");
        assert!(matches!(Measurement::merge(vec![]), Err(MergeError::Empty)));
    }
}
