//! The models of a load run: the load profile (YAML in `load/`) with its weighted transactions
//! and thresholds, and the report of what was measured. Plain data; `crate::load` reads the
//! files and drives goose.

use serde::{Deserialize, Serialize};

use super::Outcome;
use crate::scenario::{in_range, HttpMethod, Operation, Who};
use crate::signature::Mutation;

/// A load profile (YAML in `load/`).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadProfile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The target profile (how to reach and talk to the target).
    #[serde(default = "reference")]
    pub target_profile: String,
    #[serde(deserialize_with = "in_range::<_, usize, 1, 100_000>")]
    #[schemars(range(min = 1, max = 100_000))]
    pub users: usize,
    /// Users started per second.
    #[serde(deserialize_with = "positive_rate")]
    pub hatch_rate: f64,
    /// Seconds the full set of users runs (at least one; at most a day).
    #[serde(deserialize_with = "in_range::<_, u64, 1, 86_400>")]
    #[schemars(range(min = 1, max = 86_400))]
    pub run_time: u64,
    pub transactions: Vec<LoadTransaction>,
    #[serde(default)]
    pub thresholds: Thresholds,
}

/// Users started per second: above 0, at most 100,000.
fn positive_rate<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let rate = f64::deserialize(d)?;
    match rate.is_finite() && rate > 0.0 && rate <= 100_000.0 {
        true => Ok(rate),
        false => Err(serde::de::Error::custom(format!(
            "hatch_rate {rate} is out of range: give a number above 0, at most 100000"
        ))),
    }
}

fn reference() -> String {
    "reference".into()
}

/// One weighted transaction.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadTransaction {
    pub name: String,
    /// `register`, `read`, `update` or `refresh-secret` (the user's own client), or `raw`.
    pub op: Operation,
    /// `raw` only: method and path.
    #[serde(default)]
    pub method: Option<HttpMethod>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(deserialize_with = "in_range::<_, usize, 0, 1_000_000>")]
    #[schemars(range(max = 1_000_000))]
    pub weight: usize,
    #[serde(default)]
    pub mutation: Option<Mutation>,
    /// TLS identity, or `none` (default the profile's QWAC, the user's own client).
    #[serde(default)]
    pub tls: Option<Who>,
    /// Signing identity, or `none` (default the profile's QSEAL where the profile signs).
    #[serde(default)]
    pub sign: Option<Who>,
    /// Statuses that count as the expected answer.
    pub expect: Vec<u16>,
}

/// Limits that fail the run (exit 4).
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Largest share of answers not among a transaction's expected statuses (0.0 to 1.0).
    pub max_unexpected_share: Option<f64>,
    /// Fewest requests per second.
    pub min_throughput: Option<f64>,
}

/// The figures of one transaction.
#[derive(Debug, Clone, Serialize)]
pub struct TransactionFigures {
    pub name: String,
    pub requests: usize,
    pub unexpected: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// What a load run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub profile: String,
    pub target: String,
    pub duration_s: f64,
    pub users: usize,
    pub requests: usize,
    pub answered: usize,
    pub unexpected: usize,
    pub throughput: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Latency samples goose added for coordinated omission (not requests).
    pub synthetic_samples: usize,
    pub transactions: Vec<TransactionFigures>,
    /// Thresholds breached, one line each.
    pub breaches: Vec<String>,
    /// Clients the load registered and could not delete, and the ledger naming them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients_left: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// Stopped early by Ctrl-C or SIGTERM: partial figures, no threshold judged.
    pub interrupted: bool,
}

impl LoadReport {
    pub fn outcome(&self) -> Outcome {
        let breached = match (self.interrupted, self.breaches.is_empty()) {
            (true, _) => Outcome::Interrupted,
            (false, true) => Outcome::Success,
            (false, false) => Outcome::ThresholdsBreached,
        };
        let left = if self.clients_left.is_empty() { Outcome::Success } else { Outcome::ClientsLeft };
        breached.worst(left)
    }
}

/// Each threshold `r` breaches, one line each.
pub fn breaches(t: &Thresholds, r: &LoadReport) -> Vec<String> {
    let mut out = Vec::new();
    let mut over = |name: &str, limit: Option<f64>, got: f64| {
        if let Some(limit) = limit.filter(|l| got > *l) {
            out.push(format!("{name} {got:.1} ms is over {limit} ms"));
        }
    };
    over("p50", t.p50_ms, r.p50_ms);
    over("p95", t.p95_ms, r.p95_ms);
    over("p99", t.p99_ms, r.p99_ms);
    let share = if r.requests == 0 { 1.0 } else { r.unexpected as f64 / r.requests as f64 };
    if let Some(max) = t.max_unexpected_share.filter(|m| share > *m) {
        out.push(format!("unexpected answers {:.2}% are over {:.2}%", share * 100.0, max * 100.0));
    }
    if let Some(min) = t.min_throughput.filter(|m| r.throughput < *m) {
        out.push(format!("throughput {:.0} requests/s is under {min}", r.throughput));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(requests: usize, unexpected: usize, p95_ms: f64, throughput: f64) -> LoadReport {
        LoadReport {
            profile: "p".into(),
            target: "t".into(),
            duration_s: 1.0,
            users: 1,
            requests,
            answered: requests,
            unexpected,
            throughput,
            p50_ms: 1.0,
            p95_ms,
            p99_ms: p95_ms,
            synthetic_samples: 0,
            transactions: vec![],
            breaches: vec![],
            clients_left: vec![],
            ledger: None,
            interrupted: false,
        }
    }

    #[test]
    fn each_threshold_can_be_breached_and_met() {
        let t = Thresholds {
            p95_ms: Some(10.0),
            max_unexpected_share: Some(0.01),
            min_throughput: Some(100.0),
            ..Thresholds::default()
        };
        let cases = [
            (report(1000, 0, 5.0, 200.0), 0),
            (report(1000, 0, 11.0, 200.0), 1),
            (report(1000, 20, 5.0, 200.0), 1),
            (report(1000, 0, 5.0, 50.0), 1),
            (report(0, 0, 5.0, 0.0), 2),
        ];
        for (r, n) in cases {
            assert_eq!(breaches(&t, &r).len(), n, "{r:?}");
        }
        assert!(breaches(&Thresholds::default(), &report(0, 0, 1e9, 0.0)).is_empty());
    }
}
