//! The load command: a load profile ([`LoadProfile`]) driven against a target by the harness's
//! own users ([`engine`]), measured in HDR histograms ([`figures`]), and summarised
//! ([`render`]). Weighted transactions are requests in scenario terms (valid register, read,
//! update, refresh; and broken ones, so that both the accept and the reject paths of signature
//! verification are loaded), planned by the same [`plan`](crate::run::plan) and sent through the
//! same transport as a run's scenarios. A transaction's expected statuses decide success: a bad
//! signature correctly refused is a success. Before the load, the run's preflight; after it,
//! every client the users registered is deleted, concurrently. A load may be one shard of
//! several (`--shard I/N`), each writing its [`Measurement`] for `load merge`.
//!
//! It owns no policy about verdicts: thresholds are the profile's, judged in `run::model::load`.

pub mod baseline;
pub mod conformance;
pub mod engine;
pub mod figures;
#[cfg(feature = "goose")]
pub mod goose_engine;
pub mod model;
pub mod pace;
pub mod render;
mod resend;
pub mod stream;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;

use crate::error::Error;
pub use crate::load::model::{
    KeepClients, LoadProfile, LoadReport, LoadTransaction, Pacing, Signing, Stage, Thresholds, TransactionFigures,
};
use crate::run::options::Interrupt;
use crate::run::session::Session;
use crate::run::Target;
use crate::suite::{self, Layout};
pub use engine::ROLLING_CLEANUP;
pub use figures::Measurement;
pub use render::render;

/// Reads a load profile by path, or by name from the first of `dirs` that has it.
pub fn read_profile(name_or_path: &str, dirs: &[std::path::PathBuf]) -> Result<LoadProfile, Error> {
    let path = crate::scenario::profile::find_named(name_or_path, dirs).map_err(|known| {
        Error::input(
            "load profile",
            format!("unknown load profile {}", crate::scenario::profile::not_one_of(name_or_path, &known)),
        )
    })?;
    let text = crate::diagnostic::read_yaml_text(&path).map_err(|e| Error::input("load profile", e))?;
    let profile: LoadProfile = serde_norway::from_str(&text)
        .map_err(|e| Error::input("load profile", crate::diagnostic::located(&path, &text, &e)))?;
    let at = |key: &str, problem: String| {
        let line = crate::diagnostic::line_of_key(&text, key).unwrap_or(1);
        Error::input("load profile", format!("{}:{line}:1: {problem}", path.display()))
    };
    if profile.transactions.iter().all(|t| t.weight == 0) {
        return Err(at("transactions", "needs at least one transaction with a weight above 0".into()));
    }
    let weight_of = |op| {
        profile.transactions.iter().filter(|t| t.op == op && t.mutation.is_none()).map(|t| t.weight).sum::<usize>()
    };
    let (deletes, registers) =
        (weight_of(crate::scenario::Operation::Delete), weight_of(crate::scenario::Operation::Register));
    if deletes > registers {
        return Err(at(
            "transactions",
            format!("`delete` transactions (weight {deletes}) delete the user's latest registration: give `register` (valid, weight {registers}) at least as much weight"),
        ));
    }
    if let Err(e) = profile.pacing() {
        return Err(at(e.key, e.problem));
    }
    if let Some(problem) = profile.suite_at.problem() {
        return Err(at("suite_at", problem));
    }
    if profile.signing == Signing::None {
        let problem = "`none` is what a report says of a target profile that signs nothing; a load profile \
                       says `fresh` or `per-second`";
        return Err(at("signing", problem.into()));
    }
    Ok(profile)
}

/// One shard of a load run as several processes: `index` of `count`, from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

/// The most shards a load may be split into.
pub const MOST_SHARDS: usize = 1000;

/// Why a shard was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// What was given, which is not `I/N` in range.
    #[error("`{0}`: give the shard as I/N, with 0 <= I < N <= {MOST_SHARDS} (0/3, 1/3, 2/3)")]
    NotIOfN(String),
    #[error("JOB_COMPLETION_INDEX is set but DCR_HARNESS_SHARDS is not: set it to the Job's completions")]
    IndexWithoutCount,
}

impl std::str::FromStr for Shard {
    type Err = ShardError;

    /// `I/N`, with 0 <= I < N <= 1000.
    fn from_str(s: &str) -> Result<Self, ShardError> {
        let bad = || ShardError::NotIOfN(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) =
            (i.trim().parse::<usize>().map_err(|_| bad())?, n.trim().parse::<usize>().map_err(|_| bad())?);
        match index < count && count <= MOST_SHARDS {
            true => Ok(Shard { index, count }),
            false => Err(bad()),
        }
    }
}

impl Shard {
    /// From a Kubernetes Indexed Job: the pod's `JOB_COMPLETION_INDEX` and the completions count.
    pub fn from_job(index: Option<&str>, count: Option<&str>) -> Result<Option<Shard>, ShardError> {
        match (index, count) {
            (Some(i), Some(n)) => format!("{i}/{n}").parse().map(Some),
            (Some(_), None) => Err(ShardError::IndexWithoutCount),
            _ => Ok(None),
        }
    }
}

/// How to run a load besides its profile.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub target: Option<String>,
    pub shard: Shard,
    /// Start the attack at this moment (shards start together), after the preflight.
    pub start_at: Option<SystemTime>,
    pub stop: Interrupt,
    /// Faults held in the services the run hosts while the users attack (not during the
    /// preflight, nor the cleanup after).
    pub faults: Option<crate::fault::Faults>,
    /// The profile's negative scenarios run at a trickle while the load holds this rate.
    pub with_suite: Option<HoldAt>,
    /// How the embedded server deviates from its default (flaws, variants), when it is the target.
    pub embedded: suite::Embedded,
    /// Where the figures stream once a second while the load runs.
    pub streams: Vec<stream::Sink>,
    /// Which engine runs the users.
    pub engine: Engine,
}

/// The engine that runs a load's users.
#[derive(Debug, Clone, Default)]
pub enum Engine {
    /// The harness's own (closed and open models, per-second signatures, shards).
    #[default]
    Harness,
    /// goose (closed model), its HTML report written where asked.
    #[cfg(feature = "goose")]
    Goose(goose_engine::GooseOptions),
}

/// The rate a load holds while the negative scenarios run beside it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HoldAt {
    pub rate: f64,
    /// The saturation it is a share of, where it is one.
    pub saturation: Option<f64>,
}

impl HoldAt {
    /// The rate `at` names: a share of `saturation` (the throughput the profile's own load
    /// measured), or a rate as given.
    pub fn of(at: conformance::SuiteAt, saturation: Option<f64>) -> HoldAt {
        match (at, saturation) {
            (conformance::SuiteAt::Share(share), Some(s)) => {
                HoldAt { rate: (share * s).round().max(1.0), saturation: Some(s.round()) }
            }
            (conformance::SuiteAt::Rate(rate), _) => HoldAt { rate, saturation: None },
            // No saturation measured: hold the share of one request a second (a caller's slip).
            (conformance::SuiteAt::Share(_), None) => HoldAt { rate: 1.0, saturation: None },
        }
    }

    /// The saturation a load measured: the rate of the profile's own transactions. The rolling
    /// cleanup's deletions are left out: they come on top of whatever rate is held, in the same
    /// proportion, so a share of the whole would hold the server at more than that share.
    pub fn saturation_of(report: &LoadReport) -> f64 {
        report.transactions.iter().filter(|t| t.name != engine::ROLLING_CLEANUP).map(|t| t.rate).sum()
    }
}

/// The furthest ahead `--start-at` may be.
pub const MOST_START_DELAY: Duration = Duration::from_secs(3600);

/// Runs a load profile against the target (the embedded server when there is none); every
/// second `on_tick` hears how it goes, and `on_cleanup` how the deletion goes.
pub async fn run(
    layout: &Layout,
    profile: &LoadProfile,
    options: &LoadOptions,
    on_tick: impl FnMut(&engine::Progress) + Send,
    on_cleanup: impl FnMut(usize, usize),
) -> Result<(Measurement, LoadReport), Error> {
    let pacing = profile.pacing().map_err(|p| Error::input("load profile", p))?;
    let pacing = pacing.share(options.shard.index, options.shard.count);
    let as_other = profile.shard_tpps.as_other(options.shard.index);
    let prepared =
        suite::prepare(layout, &profile.target_profile, options.target.clone(), &options.embedded, |target| {
            if as_other {
                target.identities = target.identities.exchanged();
            }
        })
        .await?;
    let target = prepared.target.clone();
    run_preflight(profile, &target).await?;
    preflight(&target).await?;
    if let Some(at) = options.start_at {
        wait_until(at, &options.stop).await?;
    }
    // With the suite: its negative scenarios once with the server idle, then the load at the
    // rate asked: at least ten idle passes' time, then until every scenario has run beside it.
    let beside = match options.with_suite {
        Some(hold) => {
            let scenarios = conformance::negative_scenarios(&prepared.scenarios, &target.profile);
            let idle = conformance::run_once(&target, &scenarios, None, &Interrupt::default()).await;
            let enough =
                Duration::from_millis(idle.duration_ms.saturating_mul(IDLE_PASSES)).as_secs() + SUITE_RAMP_S + 2;
            let run_time_s = pacing.run_time_s().max(enough).min(MOST_SUITE_RUN_TIME_S);
            Some((hold, scenarios, idle, run_time_s))
        }
        None => None,
    };
    // Beside the suite, the load is scheduled to its bound (MOST_SUITE_RUN_TIME_S) and lasts
    // until every scenario has run beside it: its own stop, raised then or with the user's.
    let (pacing, attack_pacing) = match &beside {
        Some((hold, _, _, run_time_s)) => {
            // Room in flight for the queue a busy server builds: latency counts from when each
            // request was due, whatever the room.
            let users = (pacing.users() * 4).max(16);
            let held_for = |s| Pacing::Open { users, stages: vec![(0, hold.rate), (s, hold.rate)] };
            (held_for(*run_time_s), held_for(MOST_SUITE_RUN_TIME_S))
        }
        None => (pacing.clone(), pacing),
    };
    let load_stop = options.stop.child();
    let memo = (profile.signing == Signing::PerSecond).then(|| Arc::new(crate::signature::SignatureMemo::new()));
    let attack = engine::Attack {
        target: target.clone(),
        transactions: profile
            .transactions
            .iter()
            .map(|t| engine::Prepared::new(t, profile.bodies, profile.signing))
            .collect(),
        pacing: attack_pacing,
        memo: memo.clone(),
        keep: profile.keep_clients.limit(),
        stop: load_stop.clone(),
    };
    let users = pacing.users();
    if let Some(faults) = &options.faults {
        if let Err(why) = target.hold_faults(faults) {
            suite::Prepared::stop(prepared.embedded, prepared.keystore, prepared.qtsp).await;
            return Err(Error::input("--fault", why));
        }
    }
    let fetches_before = server_fetches(prepared.embedded.as_ref());
    let trickle = beside.as_ref().map(|(_, scenarios, _, run_time_s)| {
        // From a second in (the load at its rate) until the scenarios are done, then the load
        // stops; the user's stop stops both.
        let (target, scenarios) = (target.clone(), scenarios.clone());
        let started = std::time::Instant::now();
        let at_least = started + Duration::from_secs(*run_time_s) - Duration::from_millis(500);
        let at_most = started + Duration::from_secs(MOST_SUITE_RUN_TIME_S) - Duration::from_millis(500);
        let (user_stop, load_stop) = (options.stop.clone(), load_stop.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(SUITE_RAMP_S)).await;
            let passes = conformance::trickle(target, scenarios, at_least, at_most, user_stop).await;
            load_stop.raise();
            passes
        })
    });
    let mut streamer =
        (!options.streams.is_empty()).then(|| stream::Streamer::start(options.streams.clone(), &profile.name));
    let mut on_tick = on_tick;
    let tick = |p: &engine::Progress| {
        if let Some(streamer) = streamer.as_mut() {
            streamer.second(p.requests, p.unexpected, &p.last_latencies);
        }
        on_tick(p)
    };
    let attacked = match &options.engine {
        Engine::Harness => engine::attack(attack, tick).await,
        #[cfg(feature = "goose")]
        Engine::Goose(goose) => match goose_engine::attack(attack, goose, tick).await {
            Ok(attacked) => attacked,
            Err(e) => {
                target.faults.clear();
                suite::Prepared::stop(prepared.embedded, prepared.keystore, prepared.qtsp).await;
                return Err(Error::input("--engine goose", e));
            }
        },
    };
    let streamed = match streamer {
        Some(streamer) => streamer.finish().await,
        None => Vec::new(),
    };
    let under_load = match trickle {
        Some(task) => task.await.unwrap_or_default(),
        None => Vec::new(),
    };
    let fetched = server_fetches(prepared.embedded.as_ref());
    target.faults.clear();
    let interrupted = options.stop.raised();
    let deleted = cleanup(&target, attacked.sessions, users, on_cleanup).await;
    let (made, reused) = memo.map_or((0, 0), |m| m.counts());
    let measurement = Measurement {
        format: figures::FORMAT,
        profile: profile.name.clone(),
        target: target.base_url.clone(),
        signing: if target.profile.signature.enabled { profile.signing } else { Signing::None },
        signatures_made: made,
        signatures_reused: reused,
        model: match &options.engine {
            Engine::Harness if beside.is_some() => format!(
                "{}, held until every negative scenario has run beside it (at most {MOST_SUITE_RUN_TIME_S} s)",
                pacing.describe()
            ),
            Engine::Harness => pacing.describe(),
            #[cfg(feature = "goose")]
            Engine::Goose(_) => format!("{} (on goose 0.19.0)", pacing.describe()),
        },
        users,
        shards: 1,
        speaking_as: vec![target.profile.identities.describe(target.profile.signature.enabled)],
        tls: target.transport.tls_figures(),
        duration_s: attacked.duration_s,
        scheduled: attacked.scheduled,
        late_starts: attacked.late_starts,
        max_lag_us: attacked.max_lag_us,
        cpu_s: attacked.cpu_s,
        transactions: attacked.tallies,
        timeline: attacked.timeline,
        thresholds: profile.thresholds.clone(),
        interrupted,
    };
    let mut report = measurement.report();
    report.faults = options.faults.as_ref().map(ToString::to_string);
    report.streamed = streamed;
    if let Some((hold, _, idle, _)) = &beside {
        let compared = conformance::compare(idle, &under_load, hold.rate, hold.saturation);
        report.thresholds.push(crate::load::model::ThresholdCheck {
            name: "negative scenarios give their idle verdicts under load".into(),
            limit: "all".into(),
            value: format!(
                "{} of {} degraded, {} not reached",
                compared.degraded.len(),
                compared.scenarios,
                compared.not_reached.len()
            ),
            met: compared.held(),
        });
        report.under_load = Some(compared);
    }
    report.server_fetches = fetches_during(&fetches_before, &fetched);
    report.clients_deleted = deleted;
    report.clients_left = target.ledger.outstanding().iter().map(crate::run::ledger::Entry::label).collect();
    report.clients_stranded = target.ledger.stranded_clients().len();
    report.ledger = target.ledger.finish().map(|p| p.display().to_string());
    if let Some(failure) = attacked.setup_failures.first() {
        // Users without a client measured nothing of what the profile asked: not a threshold
        // matter but a setup one (the preflight's registration worked, so the target changed).
        report.thresholds.push(crate::load::model::ThresholdCheck {
            name: "every user registered its client".into(),
            limit: "all".into(),
            value: format!("{} could not: {failure}", attacked.setup_failures.len()),
            met: false,
        });
    }
    suite::Prepared::stop(prepared.embedded, prepared.keystore, prepared.qtsp).await;
    Ok((measurement, report))
}

/// Seconds the load runs at its rate before the scenarios start beside it.
const SUITE_RAMP_S: u64 = 1;
/// How many idle passes' time the load beside the scenarios lasts at least: at 80% of its
/// saturation a server's queue makes each request several times slower (five times, for one
/// queue at that load), and every scenario must still run under load, twice on a fast server.
/// django-oauth-toolkit at ten registrations a second left two of 22 unreached at four.
const IDLE_PASSES: u64 = 10;
/// The longest a load beside the suite runs, however slow the scenarios.
const MOST_SUITE_RUN_TIME_S: u64 = 600;

/// The embedded server's fetch figures now, by service (none for a foreign target).
fn server_fetches(
    embedded: Option<&crate::server::RunningServer>,
) -> Vec<(crate::fault::Service, crate::server::fetch_clock::FetchFigures)> {
    embedded.map(|s| s.stats().fetches.figures()).unwrap_or_default()
}

/// What was fetched between two readings, for the services fetched from at all.
fn fetches_during(
    before: &[(crate::fault::Service, crate::server::fetch_clock::FetchFigures)],
    after: &[(crate::fault::Service, crate::server::fetch_clock::FetchFigures)],
) -> Vec<model::ServiceFetches> {
    after
        .iter()
        .filter_map(|(service, now)| {
            let earlier = before.iter().find(|(s, _)| s == service).map(|(_, f)| *f).unwrap_or_default();
            let during = now.since(earlier);
            (during.fetches > 0).then(|| model::ServiceFetches {
                service: service.name().to_string(),
                fetches: during.fetches,
                mean_us: during.mean_us(),
                max_us: during.max_us,
            })
        })
        .collect()
}

/// Waits for `--start-at`, refusing a moment too far ahead (a typo) and starting at once for one
/// just past (a slow pod).
async fn wait_until(at: SystemTime, stop: &Interrupt) -> Result<(), Error> {
    let now = SystemTime::now();
    let Ok(ahead) = at.duration_since(now) else { return Ok(()) };
    if ahead > MOST_START_DELAY {
        return Err(Error::input(
            "--start-at",
            format!("{} s from now is more than an hour ahead: give a moment within the hour", ahead.as_secs()),
        ));
    }
    let until = std::time::Instant::now() + ahead;
    while std::time::Instant::now() < until && !stop.raised() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// The rest of the run's preflight (`suite::prepare` checked the profile's identities and
/// environment): every identity a transaction names exists, the target's certificate is
/// trusted and the scheme right.
async fn run_preflight(profile: &LoadProfile, target: &Arc<Target>) -> Result<(), Error> {
    let mut problems = Vec::new();
    let unmanaged = target.profile.management == crate::scenario::profile::Management::None;
    for t in &profile.transactions {
        if unmanaged && t.op.manages() {
            problems.push(format!(
                "transaction `{}`: `{}` needs RFC 7592 management, and target profile `{}` has none \
                 (management: none); hint: register only, or a profile whose server manages clients",
                t.name,
                t.op.name(),
                target.profile.name
            ));
        }
        for who in [&t.tls, &t.sign].into_iter().flatten() {
            if let crate::scenario::Who::Named(name) = who {
                if target.pki.identity(name).is_err() {
                    problems.push(format!("transaction `{}`: identity `{name}` is not in the PKI", t.name));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::input("preflight", problems.join("\n")));
    }
    // The credentials are probed by the load's own registration (stricter: any refusal stops
    // it), not registered twice.
    crate::preflight::reachable_and_trusted(target).await
}

/// One registration and its deletion before the load, so that a target that refuses the
/// profile's identities or credentials fails the load at once, with the reason.
async fn preflight(target: &Arc<Target>) -> Result<(), Error> {
    use crate::preflight::RegistrationError;
    let mut session = Session::new(target.clone());
    let registered = crate::preflight::register_client(&mut session, "load preflight {{unique}}").await;
    session.cleanup().await;
    let what = || format!("load against {}", target.base_url);
    match registered {
        Ok(()) => Ok(()),
        Err(RegistrationError::NoAnswer(e)) => {
            Err(Error::Unreachable { target: target.base_url.clone(), cause: e.into() })
        }
        Err(e) => Err(Error::input(what(), format!("{e}, so the load would measure nothing"))),
    }
}

/// Deletes every client the users registered, several at a time (each delete is signed, and
/// signing is the client's bound); returns how many were deleted.
async fn cleanup(
    target: &Arc<Target>,
    sessions: Vec<Session>,
    users: usize,
    mut on_progress: impl FnMut(usize, usize),
) -> usize {
    let clients: Vec<_> = sessions.into_iter().flat_map(|mut s| s.take_clients()).collect();
    let total = clients.len();
    let at_once = users.clamp(4, 64);
    let mut deletions = futures_util::stream::iter(clients.into_iter().enumerate().map(|(i, client)| {
        let target = target.clone();
        async move {
            let mut session = Session::new(target);
            session.adopt(&format!("load-{i}"), client);
            session.cleanup().await.iter().filter(|c| c.ok).count()
        }
    }))
    .buffer_unordered(at_once);
    let (mut done, mut deleted) = (0usize, 0);
    while let Some(n) = deletions.next().await {
        done += 1;
        deleted += n;
        if done.is_multiple_of(100) || done == total {
            on_progress(done, total);
        }
    }
    deleted
}

/// Merges shard files into one measurement and its report (thresholds judged on the whole).
pub fn merge(files: &[std::path::PathBuf]) -> Result<(Measurement, LoadReport), Error> {
    let mut shards = Vec::new();
    for file in files {
        let text = crate::files::read_to_string(file, crate::files::MAX_LEDGER_BYTES)
            .map_err(|e| Error::input("load merge", format!("{}: {e}", file.display())))?;
        let m: Measurement = serde_json::from_str(&text).map_err(|e| {
            Error::input("load merge", format!("{}:{}:{}: not a shard file: {e}", file.display(), e.line(), e.column()))
        })?;
        shards.push((file.display().to_string(), m));
    }
    let merged = Measurement::merge(shards).map_err(|e| Error::input("load merge", e))?;
    let report = merged.report();
    Ok((merged, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_held_beside_the_suite_is_a_whole_share_of_the_profiles_own_transactions() {
        let mut report = figures::tests::measurement(&[1_000, 1_000, 1_000]).report();
        let cleanup = TransactionFigures {
            name: engine::ROLLING_CLEANUP.into(),
            rate: 1_000.0,
            ..report.transactions[0].clone()
        };
        report.transactions.push(cleanup);
        assert_eq!(HoldAt::saturation_of(&report), 3.0, "the rolling cleanup's deletions are not the profile's rate");
        let cases = [
            (conformance::SuiteAt::Share(0.8), Some(3549.0), HoldAt { rate: 2839.0, saturation: Some(3549.0) }),
            (conformance::SuiteAt::Share(0.8), Some(0.5), HoldAt { rate: 1.0, saturation: Some(1.0) }),
            (conformance::SuiteAt::Share(0.8), None, HoldAt { rate: 1.0, saturation: None }),
            (conformance::SuiteAt::Rate(300.0), Some(3549.0), HoldAt { rate: 300.0, saturation: None }),
        ];
        for (at, saturation, held) in cases {
            assert_eq!(HoldAt::of(at, saturation), held, "{at:?} of {saturation:?}");
        }
    }
}
