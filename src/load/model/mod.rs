//! The models of a load: the load profile (YAML in `load/`) with its weighted transactions,
//! its pacing (closed: users looping; open: an arrival rate, constant or ramped in stages), its
//! signing mode and thresholds; and the report of what was measured, with every threshold's
//! value and limit. Plain data and the pure judgement of thresholds; the rest of `load` reads the
//! files, drives the users and measures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::run::Outcome;
use crate::scenario::{in_range, opt_in_range, HttpMethod, Operation, Who};
use crate::signature::Mutation;
use crate::transport::TlsFigures;

mod keep;
pub use keep::KeepClients;

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
    /// Closed model: users looping. Open model (`rate` or `stages`): the most requests in flight.
    #[serde(deserialize_with = "in_range::<_, usize, 1, 100_000>")]
    #[schemars(range(min = 1, max = 100_000))]
    pub users: usize,
    /// Closed model: users started per second.
    #[serde(default = "one_per_second", deserialize_with = "positive_rate")]
    pub hatch_rate: f64,
    /// Seconds the load runs, ramp included (at least one; at most a day). Not with `stages`.
    #[serde(default, deserialize_with = "opt_in_range::<_, u64, 1, 86_400>")]
    #[schemars(range(min = 1, max = 86_400))]
    pub run_time: Option<u64>,
    /// Open model: requests started per second, whatever the answers' pace (with `run_time`).
    #[serde(default, deserialize_with = "opt_positive_rate")]
    pub rate: Option<f64>,
    /// Open model in stages: from the rate before (0 at first), the rate moves in a straight
    /// line to each stage's `rate` over its `duration_s`.
    #[serde(default)]
    pub stages: Vec<Stage>,
    /// `fresh`: every request signed anew. `per-second`: each distinct signing string (method,
    /// target, body and Date) signed once and reused within its second (every report says so).
    #[serde(default)]
    pub signing: Signing,
    /// Registrations draw their body from this many distinct bodies (the signatures a
    /// per-second load makes each second for registrations).
    #[serde(default = "one_body", deserialize_with = "in_range::<_, usize, 1, 10_000>")]
    #[schemars(range(min = 1, max = 10_000))]
    pub bodies: usize,
    /// Which TPP each shard of a sharded load speaks as: `alternate` (the default) gives odd
    /// shards the target profile's other TPP (`identities.other_*`), so that shards load the
    /// server as different TPPs; `same` keeps the main TPP everywhere.
    #[serde(default)]
    pub shard_tpps: ShardTpps,
    /// How many clients registered by its transactions each user keeps on the target (its own
    /// client aside): beyond this, a user deletes its oldest during the load (a rolling cleanup, measured as its own
    /// line), so the target's client count stays bounded and little is left to delete after
    /// the run time. `all` keeps every one until the load is over (then deleted several at a
    /// time): the register-only figure, at the cost of a cleanup after the run time.
    #[serde(default)]
    pub keep_clients: KeepClients,
    pub transactions: Vec<LoadTransaction>,
    #[serde(default)]
    pub thresholds: Thresholds,
    /// Where `load --with-suite` holds the server while the negative scenarios run beside the
    /// load: `{ share: 0.8 }` of the saturation this profile's own load measures first (the
    /// default), or `{ rate: 300 }` requests per second. A map of one key, as written here (a
    /// YAML enum would otherwise be spelled `!share 0.8`).
    #[serde(default, with = "serde_norway::with::singleton_map")]
    #[schemars(with = "crate::load::conformance::SuiteAt")]
    pub suite_at: crate::load::conformance::SuiteAt,
}

/// Which TPP each shard speaks as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ShardTpps {
    #[default]
    Alternate,
    Same,
}

impl ShardTpps {
    /// Whether shard `index` speaks as the profile's other TPP.
    pub fn as_other(self, index: usize) -> bool {
        self == ShardTpps::Alternate && index % 2 == 1
    }
}

fn reference() -> String {
    "reference".into()
}

fn one_per_second() -> f64 {
    1.0
}

fn one_body() -> usize {
    1
}

/// How requests are signed under load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Signing {
    #[default]
    Fresh,
    PerSecond,
    /// What a report says of a target profile that signs nothing (`signature.enabled: false`);
    /// a load profile cannot ask for it.
    None,
}

impl Signing {
    /// What the mode means, for the first line of every report.
    pub fn describe(self) -> &'static str {
        match self {
            Signing::Fresh => "fresh (every request signed anew)",
            Signing::None => "none (the target profile signs nothing)",
            Signing::PerSecond => {
                "per-second (each distinct request signed once per Date second and the signature reused: not fresh-signed load)"
            }
        }
    }
}

/// One stage of an open-model ramp.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    #[serde(deserialize_with = "in_range::<_, u64, 1, 86_400>")]
    #[schemars(range(min = 1, max = 86_400))]
    pub duration_s: u64,
    /// Requests per second at the stage's end (0 to 1,000,000).
    #[serde(deserialize_with = "rate_or_zero")]
    pub rate: f64,
}

/// How a profile paces its requests.
#[derive(Debug, Clone, PartialEq)]
pub enum Pacing {
    /// `users` loop, each sending its next request when the last is answered.
    Closed { users: usize, hatch_rate: f64, run_time_s: u64 },
    /// Requests start on a schedule, at most `users` in flight: `stages` are (seconds, rate at
    /// their end), the first of length 0 giving the starting rate; the rate moves in a straight
    /// line through each.
    Open { users: usize, stages: Vec<(u64, f64)> },
}

impl Pacing {
    /// Closed model: the users looping; open model: the most requests in flight.
    pub fn users(&self) -> usize {
        match self {
            Pacing::Closed { users, .. } | Pacing::Open { users, .. } => *users,
        }
    }

    pub fn run_time_s(&self) -> u64 {
        match self {
            Pacing::Closed { run_time_s, .. } => *run_time_s,
            Pacing::Open { stages, .. } => stages.iter().map(|(d, _)| d).sum(),
        }
    }

    /// In a few words, for reports.
    pub fn describe(&self) -> String {
        match self {
            Pacing::Closed { users, .. } => format!("closed model, {users} users looping"),
            Pacing::Open { users, stages } => {
                let rates: Vec<String> = stages
                    .iter()
                    .skip(1)
                    .map(|(d, r)| format!("to {}/s over {d} s", (r * 100.0).round() / 100.0))
                    .collect();
                format!("open model, {} (at most {users} in flight)", rates.join(", then "))
            }
        }
    }

    /// This shard's part of the pacing: users and rates divided among `shards`.
    pub fn share(&self, index: usize, shards: usize) -> Pacing {
        let users_of = |users: usize| users / shards + usize::from(index < users % shards);
        match self {
            Pacing::Closed { users, hatch_rate, run_time_s } => Pacing::Closed {
                users: users_of(*users).max(1),
                hatch_rate: hatch_rate / shards as f64,
                run_time_s: *run_time_s,
            },
            Pacing::Open { users, stages } => Pacing::Open {
                users: users_of(*users).max(1),
                stages: stages.iter().map(|(d, r)| (*d, r / shards as f64)).collect(),
            },
        }
    }
}

impl LoadProfile {
    /// The pacing the profile asks for, or what is inconsistent in it (and the key to point at).
    pub fn pacing(&self) -> Result<Pacing, PacingError> {
        let users = self.users;
        let wrong = |key, problem: &str| Err(PacingError { key, problem: problem.to_string() });
        match (self.rate, self.stages.is_empty(), self.run_time) {
            (None, true, Some(run_time_s)) => Ok(Pacing::Closed { users, hatch_rate: self.hatch_rate, run_time_s }),
            (None, true, None) => wrong("name", "needs `run_time` (seconds), or `stages`"),
            (Some(rate), true, Some(run_time_s)) => {
                Ok(Pacing::Open { users, stages: vec![(0, rate), (run_time_s, rate)] })
            }
            (Some(_), true, None) => wrong("rate", "`rate` needs `run_time` (seconds)"),
            // The ramp starts from nothing: a zero-length first stage at rate 0.
            (None, false, None) => Ok(Pacing::Open {
                users,
                stages: std::iter::once((0, 0.0)).chain(self.stages.iter().map(|s| (s.duration_s, s.rate))).collect(),
            }),
            (Some(_), false, _) => wrong("rate", "give `rate` or `stages`, not both"),
            (None, false, Some(_)) => wrong("run_time", "`stages` set the run time: drop `run_time`"),
        }
    }
}

/// Why a profile's pacing is inconsistent, and the key to point at.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{problem}")]
pub struct PacingError {
    pub key: &'static str,
    pub problem: String,
}

/// Users started per second: above 0, at most 100,000.
fn positive_rate<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    checked_rate("hatch_rate", f64::deserialize(d)?, false, 100_000.0).map_err(serde::de::Error::custom)
}

/// Requests started per second: above 0, at most 1,000,000.
fn opt_positive_rate<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    checked_rate("rate", f64::deserialize(d)?, false, 1_000_000.0).map(Some).map_err(serde::de::Error::custom)
}

/// A stage's rate: 0 (a ramp down to nothing) to 1,000,000.
fn rate_or_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    checked_rate("rate", f64::deserialize(d)?, true, 1_000_000.0).map_err(serde::de::Error::custom)
}

/// A rate out of its range, as a load profile's reader says it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{name} {rate} is out of range: give a number {}, at most {most}", if *.zero_allowed { "from 0" } else { "above 0" })]
pub struct RateError {
    name: &'static str,
    rate: f64,
    zero_allowed: bool,
    most: f64,
}

fn checked_rate(name: &'static str, rate: f64, zero_allowed: bool, most: f64) -> Result<f64, RateError> {
    let low_ok = if zero_allowed { rate >= 0.0 } else { rate > 0.0 };
    match rate.is_finite() && low_ok && rate <= most {
        true => Ok(rate),
        false => Err(RateError { name, rate, zero_allowed, most }),
    }
}

/// One weighted transaction.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadTransaction {
    pub name: String,
    /// `register`, `read`, `update` or `refresh-secret` (the user's own client), `delete` (the
    /// user's latest registration), or `raw`.
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
    /// `update` and `raw`: the JSON body, templates filled as in scenarios (`{{client.id}}`),
    /// instead of the default update (a new redirect URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

/// Limits that fail the load (exit 4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Latency limits in milliseconds (above 0, at most a day): percentiles, and the slowest
    /// answer (`max_ms`; the Australian CDR holds a data holder's DCR endpoint to 1,000 ms).
    #[serde(default, deserialize_with = "opt_ms")]
    pub p50_ms: Option<f64>,
    #[serde(default, deserialize_with = "opt_ms")]
    pub p95_ms: Option<f64>,
    #[serde(default, deserialize_with = "opt_ms")]
    pub p99_ms: Option<f64>,
    #[serde(default, deserialize_with = "opt_ms")]
    pub max_ms: Option<f64>,
    /// Largest share of answers not among a transaction's expected statuses (0.0 to 1.0).
    pub max_unexpected_share: Option<f64>,
    /// Fewest requests per second.
    pub min_throughput: Option<f64>,
    /// Against a baseline (`load --baseline FILE`): the most a latency may be as a multiple of
    /// the baseline's (`p99_ratio: 1.2`, at most 20% slower), and the least the throughput may
    /// be (`throughput_ratio: 0.9`). Each above 0 and at most 1,000.
    #[serde(default, deserialize_with = "opt_ratio")]
    pub p50_ratio: Option<f64>,
    #[serde(default, deserialize_with = "opt_ratio")]
    pub p95_ratio: Option<f64>,
    #[serde(default, deserialize_with = "opt_ratio")]
    pub p99_ratio: Option<f64>,
    #[serde(default, deserialize_with = "opt_ratio")]
    pub throughput_ratio: Option<f64>,
}

/// A latency limit in milliseconds, range-checked; `null` is none.
fn opt_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Option::<f64>::deserialize(d)? {
        Some(ms) => {
            checked_rate("latency limit (ms)", ms, false, 86_400_000.0).map(Some).map_err(serde::de::Error::custom)
        }
        None => Ok(None),
    }
}

/// A ratio threshold, range-checked; `null` (as a shard file writes one not set) is none.
fn opt_ratio<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Option::<f64>::deserialize(d)? {
        Some(ratio) => checked_rate("ratio", ratio, false, 1_000.0).map(Some).map_err(serde::de::Error::custom),
        None => Ok(None),
    }
}

/// Latencies in microseconds, from an HDR histogram.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub min_us: u64,
    pub mean_us: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p95_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

/// The figures of one transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransactionFigures {
    pub name: String,
    pub requests: u64,
    /// Requests per second.
    pub rate: f64,
    /// Answers by status (`201`), and `no answer` for requests that got none.
    pub statuses: BTreeMap<String, u64>,
    pub unexpected: u64,
    /// The unexpected answers by status and error code (`401 invalid_token`).
    pub unexpected_answers: BTreeMap<String, u64>,
    pub latency: Latency,
}

/// One threshold: its limit, the value measured, and whether it held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdCheck {
    pub name: String,
    pub limit: String,
    pub value: String,
    pub met: bool,
}

/// One second of the load, for the charts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    pub t_s: u64,
    pub requests: u64,
    pub unexpected: u64,
    pub p50_us: u64,
    pub p99_us: u64,
}

/// What a load measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadReport {
    pub profile: String,
    pub target: String,
    pub signing: Signing,
    /// Signatures made, and signatures reused (per-second signing).
    pub signatures_made: u64,
    pub signatures_reused: u64,
    /// The pacing in words (closed or open model, users, rates).
    pub model: String,
    pub users: usize,
    /// Processes whose figures this report merges (1 for a single run).
    pub shards: usize,
    /// The TPPs the load spoke as, each with its QWAC and QSEAL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub speaking_as: Vec<String>,
    pub tls: TlsFigures,
    pub http_version: String,
    pub duration_s: f64,
    pub requests: u64,
    pub answered: u64,
    pub unexpected: u64,
    pub throughput: f64,
    /// Open model: the rate asked for on average, and how many requests started late (more than
    /// a millisecond behind their schedule, every user being busy) and by how much at most.
    /// Their latency counts from the moment they were due (coordinated omission corrected).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_rate: Option<f64>,
    pub late_starts: u64,
    pub max_lag_ms: f64,
    /// CPU time of the load process per request during the attack (the embedded server's too,
    /// when it runs in the same process).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_us_per_request: Option<f64>,
    pub latency: Latency,
    pub transactions: Vec<TransactionFigures>,
    pub thresholds: Vec<ThresholdCheck>,
    pub timeline: Vec<TimelinePoint>,
    /// The latency distribution: (percentile, microseconds), for the percentile curve.
    pub percentiles: Vec<(f64, u64)>,
    /// Clients the load registered and could not delete, and the ledger naming them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients_left: Vec<String>,
    /// Clients no request can delete (a target with `management: none`, RFC 7591 alone; or one
    /// whose token may have rotated in an answer lost, refused 401 at its deletion).
    #[serde(default)]
    pub clients_stranded: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// Clients deleted after the load.
    pub clients_deleted: usize,
    /// Stopped early by Ctrl-C or SIGTERM: partial figures, no threshold judged.
    pub interrupted: bool,
    /// The headline figures beside a baseline's (`load --baseline FILE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Comparison>,
    /// What the embedded server spent fetching from the services the run hosts while the load
    /// ran, as it measured it (none for a foreign target: only it knows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_fetches: Vec<ServiceFetches>,
    /// The faults held during the attack (`load --fault`), spelt as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<String>,
    /// The same profile loaded again under each `--fault`, beside this load without: each
    /// phase's headline figures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fault_phases: Vec<FaultPhase>,
    /// The negative scenarios beside the load (`load --with-suite`), against their idle run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub under_load: Option<crate::load::conformance::UnderLoad>,
    /// What each sink the figures streamed to took (`load --stream`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub streamed: Vec<crate::load::stream::SinkReport>,
}

/// One service's fetches by the server under test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceFetches {
    pub service: String,
    pub fetches: u64,
    pub mean_us: u64,
    pub max_us: u64,
}

/// A load's headline figures under one set of faults (`none` for the load without).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultPhase {
    pub faults: String,
    pub requests: u64,
    pub unexpected: u64,
    pub throughput: f64,
    pub latency: Latency,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_fetches: Vec<ServiceFetches>,
}

impl FaultPhase {
    /// The phase `report` measured.
    pub fn of(report: &LoadReport) -> FaultPhase {
        FaultPhase {
            faults: report.faults.clone().unwrap_or_else(|| "none".into()),
            requests: report.requests,
            unexpected: report.unexpected,
            throughput: report.throughput,
            latency: report.latency.clone(),
            server_fetches: report.server_fetches.clone(),
        }
    }
}

/// The headline figures of a load beside a baseline's (`load::baseline` makes it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The baseline's file, as given.
    pub baseline: String,
    pub figures: Vec<Compared>,
}

/// One figure now and in the baseline, and now as a multiple of then (none where the baseline's
/// is 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compared {
    pub name: String,
    pub unit: String,
    pub now: f64,
    pub baseline: f64,
    pub ratio: Option<f64>,
}

impl LoadReport {
    pub fn outcome(&self) -> Outcome {
        let breached = match (self.interrupted, self.thresholds.iter().all(|t| t.met)) {
            (true, _) => Outcome::Interrupted,
            (false, true) => Outcome::Success,
            (false, false) => Outcome::ThresholdsBreached,
        };
        let left = if self.clients_left.is_empty() { Outcome::Success } else { Outcome::ClientsLeft };
        breached.worst(left)
    }

    /// The thresholds breached.
    pub fn breaches(&self) -> Vec<&ThresholdCheck> {
        self.thresholds.iter().filter(|t| !t.met).collect()
    }
}

/// Every threshold `t` sets, judged on the figures.
pub fn judge(
    t: &Thresholds,
    requests: u64,
    unexpected: u64,
    throughput: f64,
    latency: &Latency,
) -> Vec<ThresholdCheck> {
    let mut out = Vec::new();
    let ms = |us: u64| us as f64 / 1000.0;
    for (name, limit, got) in [
        ("p50", t.p50_ms, ms(latency.p50_us)),
        ("p95", t.p95_ms, ms(latency.p95_us)),
        ("p99", t.p99_ms, ms(latency.p99_us)),
        ("max", t.max_ms, ms(latency.max_us)),
    ] {
        if let Some(limit) = limit {
            out.push(ThresholdCheck {
                name: format!("{name} latency"),
                limit: format!("<= {limit} ms"),
                value: format!("{got:.2} ms"),
                met: got <= limit,
            });
        }
    }
    if let Some(max) = t.max_unexpected_share {
        // No request at all is no evidence that the answers were right.
        let share = if requests == 0 { 1.0 } else { unexpected as f64 / requests as f64 };
        out.push(ThresholdCheck {
            name: "unexpected answers".into(),
            limit: format!("<= {:.2}%", max * 100.0),
            value: format!("{:.2}%", share * 100.0),
            met: share <= max,
        });
    }
    if let Some(min) = t.min_throughput {
        out.push(ThresholdCheck {
            name: "throughput".into(),
            limit: format!(">= {min} requests/s"),
            value: format!("{throughput:.0} requests/s"),
            met: throughput >= min,
        });
    }
    out
}

#[cfg(test)]
mod tests;
