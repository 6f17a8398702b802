//! The load run on goose (`load --engine goose`, the `goose` cargo feature): the same profile's
//! closed model as goose users (each hatched at the profile's rate, each with its own reqwest
//! client presenting the profile's QWAC, built by goose's per-user client builder from the
//! transport's TLS), the same weighted transactions planned and signed by the same session and
//! judged by the same expected statuses, sent through goose so that goose times them (to the
//! first byte, as goose does). Goose's figures become the load's tallies, so the summary and the
//! reports are the same as for the harness's own engine; goose's HTML report is written beside
//! them when asked. What goose cannot do (an open model, signatures reused across users within a
//! second) is refused before anything starts.
//!
//! It drives goose; it does not plan, sign or judge thresholds.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use goose::config::GooseConfiguration;
use goose::goose::{GooseRequest, GooseUser, Scenario, Transaction, TransactionFunction, TransactionResult};
use goose::GooseAttack;

use super::engine::{follow_lost_answer, learn_from, Attack, Attacked, Live, Prepared, Progress, Ticker, EXTRA_CLIENT};
use super::figures::{Tally, NO_ANSWER};
use super::model::{LoadProfile, Pacing, Signing};
use crate::run::session::Session;
use crate::scenario::Operation;

/// Why a profile cannot run on goose, if it cannot.
pub fn refuses(profile: &LoadProfile) -> Option<String> {
    if profile.rate.is_some() || !profile.stages.is_empty() {
        return Some(
            "goose runs a closed model only (users looping): this profile has an open model (`rate` or `stages`); run it on the harness's own engine".into(),
        );
    }
    if profile.signing == Signing::PerSecond {
        return Some(
            "goose users do not share signatures within a second (`signing: per-second`): use `signing: fresh`, or the harness's own engine".into(),
        );
    }
    None
}

/// Why goose could not run the load.
#[derive(Debug, thiserror::Error)]
pub enum GooseRunError {
    #[error("goose: {0}")]
    Goose(String),
    #[error("goose runs a closed model only")]
    OpenModel,
}

/// Goose's HTML report's file, where one is asked for.
#[derive(Debug, Clone, Default)]
pub struct GooseOptions {
    pub html_report: Option<PathBuf>,
}

/// Before the process watches for Ctrl-C: goose takes SIGINT with its own handler, which would
/// otherwise replace the harness's (a second Ctrl-C would exit the process with no cleanup).
/// Taking the handler first keeps the harness's and makes Ctrl-C stop goose's users; a logger
/// that says nothing keeps goose's log lines out of the terminal.
pub fn prepare_process() {
    static SILENT: Silent = Silent;
    let _ = log::set_logger(&SILENT);
    let _ = ctrlc::set_handler(|| goose::trigger_killswitch("interrupted"));
}

struct Silent;

impl log::Log for Silent {
    fn enabled(&self, _: &log::Metadata) -> bool {
        false
    }
    fn log(&self, _: &log::Record) {}
    fn flush(&self) {}
}

/// A user's session, as goose keeps per-user data (cloneable).
#[derive(Clone)]
struct UserState(Arc<tokio::sync::Mutex<Session>>);

/// What the goose users share with the harness: the attack, the sessions to clean up after,
/// the setup failures, what goose's own figures do not hold (the unexpected answers by status
/// and code), and the counters the live view reads every second.
struct Shared {
    attack: Attack,
    sessions: Mutex<Vec<Arc<tokio::sync::Mutex<Session>>>>,
    setup_failures: Mutex<Vec<String>>,
    unexpected: Mutex<Vec<BTreeMap<String, u64>>>,
    sent: AtomicU64,
    /// Every goose user's figures of the second, for the live view.
    live: Arc<Live>,
}

/// Runs `attack` (closed model) on goose, calling `on_tick` every second.
pub async fn attack(
    attack: Attack,
    options: &GooseOptions,
    mut on_tick: impl FnMut(&Progress) + Send,
) -> Result<Attacked, GooseRunError> {
    let Pacing::Closed { users, hatch_rate, run_time_s } = attack.pacing.clone() else {
        return Err(GooseRunError::OpenModel);
    };
    let transactions = attack.transactions.len();
    let shared = Arc::new(Shared {
        attack,
        sessions: Mutex::default(),
        setup_failures: Mutex::default(),
        unexpected: Mutex::new(vec![BTreeMap::new(); transactions]),
        sent: AtomicU64::new(0),
        live: Arc::new(Live::new()),
    });
    let goose = GooseAttack::initialize_with_config(configuration(&shared, users, hatch_rate, run_time_s, options))
        .map_err(|e| GooseRunError::Goose(e.to_string()))?
        .register_scenario(scenario(&shared)?);
    let cpu_at_start = super::engine::process_cpu_s();
    let started = Instant::now();
    // Goose hears of a stop through its killswitch.
    let stop = shared.attack.stop.clone();
    let watcher = tokio::spawn(async move {
        while !stop.raised() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        goose::trigger_killswitch("interrupted");
    });
    let run = goose.execute();
    tokio::pin!(run);
    let mut ticker = Ticker::new(started, run_time_s);
    let mut interval = ticker.interval();
    let mut timeline = Vec::new();
    let metrics = loop {
        tokio::select! {
            done = &mut run => break done,
            _ = interval.tick() => {
                let (tick, progress) = ticker.tick(std::slice::from_ref(&shared.live));
                on_tick(&progress);
                timeline.push(tick);
            }
        }
    };
    watcher.abort();
    let metrics = metrics.map_err(|e| GooseRunError::Goose(e.to_string()))?;
    let duration_s = started.elapsed().as_secs_f64();
    let cpu_s = super::engine::process_cpu_s().zip(cpu_at_start).map(|(end, start)| end - start);
    let tallies = tallies(&shared, &metrics);
    let sessions = std::mem::take(&mut *shared.sessions.lock().unwrap_or_else(|p| p.into_inner()));
    let mut owned = Vec::new();
    for session in sessions {
        // Goose has dropped its users, so each session is held here alone; were one still
        // shared, it is taken out all the same, for its clients to be deleted.
        match Arc::try_unwrap(session) {
            Ok(session) => owned.push(session.into_inner()),
            Err(still_shared) => {
                let fresh = shared.attack.session();
                owned.push(std::mem::replace(&mut *still_shared.lock().await, fresh));
            }
        }
    }
    let setup_failures = std::mem::take(&mut *shared.setup_failures.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(Attacked {
        tallies,
        timeline,
        sessions: owned,
        duration_s,
        scheduled: None,
        late_starts: 0,
        max_lag_us: 0,
        setup_failures,
        cpu_s,
    })
}

/// Goose's configuration: the profile's users, hatch rate and run time (goose holds its run
/// time after the ramp, the harness counts the ramp in it), no controllers, nothing printed,
/// the ramp's figures kept.
fn configuration(
    shared: &Shared,
    users: usize,
    hatch_rate: f64,
    run_time_s: u64,
    options: &GooseOptions,
) -> GooseConfiguration {
    let mut config = GooseConfiguration::default();
    config.host = Some(shared.attack.target.base_url.clone());
    config.users = Some(users.max(1));
    config.increase_rate = Some(hatch_rate.to_string());
    let ramp_s = (users as f64 / hatch_rate).floor() as u64;
    config.run_time = Some(run_time_s.saturating_sub(ramp_s).max(1).to_string());
    config.no_reset_metrics = true;
    config.no_print_metrics = true;
    config.no_telnet = true;
    config.quiet = 1;
    if let Some(path) = &options.html_report {
        config.report_file = vec![path.display().to_string()];
    }
    config
}

/// The goose scenario: a user's setup (its client, its registration), then the profile's
/// transactions by weight.
fn scenario(shared: &Arc<Shared>) -> Result<Scenario, GooseRunError> {
    let setup: TransactionFunction = {
        let shared = shared.clone();
        Arc::new(move |user| {
            let shared = shared.clone();
            Box::pin(async move { set_up(&shared, user).await })
        })
    };
    let mut scenario =
        Scenario::new("dcr-harness").register_transaction(Transaction::new(setup).set_name("setup").set_on_start());
    for (i, prepared) in shared.attack.transactions.iter().enumerate() {
        if prepared.transaction.weight == 0 {
            continue;
        }
        let work: TransactionFunction = {
            let shared = shared.clone();
            Arc::new(move |user| {
                let shared = shared.clone();
                Box::pin(async move { transact(&shared, i, user).await })
            })
        };
        let transaction = Transaction::new(work)
            .set_name(&prepared.transaction.name)
            .set_weight(prepared.transaction.weight)
            .map_err(|e| GooseRunError::Goose(e.to_string()))?;
        scenario = scenario.register_transaction(transaction);
    }
    Ok(scenario)
}

/// A user's start: its own client presenting the profile's QWAC (goose's per-user client
/// builder), and its own registration.
async fn set_up(shared: &Shared, user: &mut GooseUser) -> TransactionResult {
    let target = &shared.attack.target;
    let identity = target.profile.identities.tls.name().map(str::to_string);
    let builder = target.transport.client_builder(&target.pki, identity.as_deref()).map_err(|e| e.to_string())?;
    user.set_client_builder(builder).await?;
    let session = Arc::new(tokio::sync::Mutex::new(shared.attack.session()));
    shared.sessions.lock().unwrap_or_else(|p| p.into_inner()).push(session.clone());
    let registered = crate::preflight::register_client(&mut *session.lock().await, "load {{unique}}").await;
    match registered {
        Ok(()) => user.set_session_data(UserState(session)),
        Err(e) => shared.setup_failures.lock().unwrap_or_else(|p| p.into_inner()).push(e.to_string()),
    }
    Ok(())
}

/// One transaction: planned and signed by the user's session, sent through goose on the
/// user's client (or, for a transaction presenting another identity, on the transport's client
/// for it), the answer learnt by the session and judged by the transaction's expected statuses.
async fn transact(shared: &Shared, i: usize, user: &mut GooseUser) -> TransactionResult {
    let Some(UserState(session)) = user.get_session_data::<UserState>().cloned() else {
        // A user whose registration failed measures nothing (the setup failure says why).
        tokio::time::sleep(Duration::from_millis(100)).await;
        return Ok(());
    };
    let mut session = session.lock().await;
    let prepared: &Prepared = &shared.attack.transactions[i];
    let t = &prepared.transaction;
    if t.op == Operation::Delete && session.client(EXTRA_CLIENT).is_none_or(|c| c.deleted) {
        // Nothing of the user's own to delete yet: goose's weights run the list in turn.
        return Ok(());
    }
    let n = shared.sent.fetch_add(1, Relaxed) as usize;
    let request = prepared.request(n);
    let planned = prepared.plan(&mut session, n).await.map_err(|e| e.to_string())?;
    let target = session.target().clone();
    let own = target.profile.identities.tls.name();
    let borrowed = match planned.tls.as_deref() != own {
        true => Some(target.transport.client(&target.pki, planned.tls.as_deref()).map_err(|e| e.to_string())?),
        false => None,
    };
    let origin = planned.origin.clone().unwrap_or_else(|| target.base_url.clone());
    let url = crate::transport::url_of(&origin, &planned.msg);
    let started = Instant::now();
    let mut answer = {
        let client = borrowed.as_ref().unwrap_or(&user.client);
        let builder = crate::transport::Transport::request_to(client, &url, &planned.msg).map_err(|e| e.to_string())?;
        let request = GooseRequest::builder().name(t.name.as_str()).set_request_builder(builder).build();
        match borrowed.clone() {
            // Goose sends on the user's client: lend it the other identity's for this request.
            Some(other) => {
                let own_client = std::mem::replace(&mut user.client, other);
                let answer = user.request(request).await;
                user.client = own_client;
                answer?
            }
            None => user.request(request).await?,
        }
    };
    let unanswered = |e: crate::transport::TransportError| (Err(e.to_string()), false, None, e.may_have_arrived());
    let (status, expected, code, lost) = match answer.response {
        Ok(response) => match target.transport.read_response(&url, response, started).await {
            Ok(response) => {
                let (code, expected) = learn_from(&mut session, t, request, &response);
                (Ok(response.status), expected, code, false)
            }
            Err(e) => unanswered(e),
        },
        Err(ref e) => unanswered(target.transport.failure(&url, e)),
    };
    let latency_us = started.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
    shared.live.count(latency_us, expected, status.as_ref().map(|s| *s).map_err(String::as_str));
    if lost {
        if let Err(why) = follow_lost_answer(&mut session, t.op, request.client_name()).await {
            shared.setup_failures.lock().unwrap_or_else(|p| p.into_inner()).push(why);
        }
    }
    if !expected {
        let what = match (&status, &code) {
            (Ok(s), Some(code)) => format!("{s} {code}"),
            (Ok(s), None) => s.to_string(),
            (Err(why), _) => format!("{NO_ANSWER}: {why}"),
        };
        *shared.unexpected.lock().unwrap_or_else(|p| p.into_inner())[i].entry(what).or_default() += 1;
    }
    drop(session);
    match (expected, answer.request.success) {
        (true, false) => user.set_success(&mut answer.request),
        (false, true) => user.set_failure("not among the expected statuses", &mut answer.request, None, None),
        _ => Ok(()),
    }
}

/// Goose's figures as the load's tallies: each transaction's latencies (goose's buckets, a
/// percent wide) and statuses from goose, its unexpected answers as the users judged them.
fn tallies(shared: &Shared, metrics: &goose::metrics::GooseMetrics) -> Vec<Tally> {
    let unexpected = shared.unexpected.lock().unwrap_or_else(|p| p.into_inner());
    shared
        .attack
        .transactions
        .iter()
        .enumerate()
        .map(|(i, prepared)| {
            let mut tally = Tally::named(&prepared.transaction.name);
            for aggregate in metrics.requests.values().filter(|a| a.path == prepared.transaction.name) {
                for (floor_us, count) in aggregate.raw_data.times_us.iter() {
                    let _ = tally.latency.0.record_n((*floor_us).max(1), *count as u64);
                }
                for (status, count) in &aggregate.status_code_counts {
                    let key = if *status == 0 { NO_ANSWER.to_string() } else { status.to_string() };
                    *tally.statuses.entry(key).or_default() += *count as u64;
                }
            }
            tally.unexpected = unexpected.get(i).cloned().unwrap_or_default();
            tally
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goose_refuses_an_open_model_and_per_second_signatures_only() {
        let profile = |extra: &str| -> LoadProfile {
            serde_norway::from_str(&format!(
                "name: p\nusers: 2\ntransactions: [{{ name: read, op: read, weight: 1, expect: [200] }}]\n{extra}"
            ))
            .expect("a load profile")
        };
        let cases = [
            ("run_time: 5", None),
            ("run_time: 5\nrate: 100", Some("closed model only")),
            ("stages: [{ duration_s: 5, rate: 10 }]", Some("closed model only")),
            ("run_time: 5\nsigning: per-second", Some("per-second")),
        ];
        for (extra, refusal) in cases {
            let why = refuses(&profile(extra));
            match refusal {
                Some(words) => assert!(why.as_deref().is_some_and(|w| w.contains(words)), "{extra}: {why:?}"),
                None => assert_eq!(why, None, "{extra}"),
            }
        }
    }
}
