//! The schedule: scenarios run concurrently (at most `jobs` at once), each scenario's steps in
//! order; fail-fast stops starting scenarios after a MUST fails; no scenario starts after the
//! deadline (those left are reported skipped). A scenario whose task panics is reported as an
//! ERROR carrying the panic message, never dropped from the results.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use tokio::sync::Semaphore;

use super::model::{RunResult, ScenarioResult, Verdict};
use super::options::{Done, Progress, RunOptions};
use super::scenario::{panicked, run_scenario};
use super::target::Target;
use crate::scenario::Scenario;

/// Runs `scenarios` against `target`.
pub async fn run(target: Arc<Target>, scenarios: Vec<Scenario>, options: RunOptions) -> RunResult {
    let started = Instant::now();
    let started_at = crate::run::model::rfc3339(std::time::SystemTime::now());
    let options = Arc::new(options);
    let run_one = {
        let (target, options) = (target.clone(), options.clone());
        move |scenario: Arc<Scenario>, stop_at| run_scenario(target.clone(), scenario, options.clone(), stop_at)
    };
    let scenarios = schedule(scenarios, &options, run_one).await;
    RunResult {
        interrupted: options.interrupt.raised(),
        target: target.base_url.clone(),
        profile: target.profile.name.clone(),
        started_at,
        requests: scenarios.iter().map(|s| s.requests).sum(),
        scenarios,
        duration_ms: started.elapsed().as_millis() as u64,
        clients_left: target.ledger.outstanding().iter().map(crate::run::ledger::Entry::label).collect(),
        ledger: target.ledger.path().map(|p| p.display().to_string()),
        clients_stranded: target.ledger.stranded_clients(),
        certificates: certificates(&target),
        origins_elsewhere: target.origins_elsewhere(),
        not_applicable: Vec::new(),
        faults: None,
        since_baseline: None,
    }
}

/// The profile's QWAC and QSEAL, by subject.
fn certificates(target: &Target) -> Vec<crate::run::model::CertificateNote> {
    let ids = &target.profile.identities;
    [("QWAC", &ids.tls), ("QSEAL", &ids.sign)]
        .into_iter()
        .filter_map(|(role, who)| {
            let identity = target.pki.identity(who.name()?).ok()?;
            Some(crate::run::model::CertificateNote {
                role: role.to_string(),
                identity: identity.name.clone(),
                subject: identity.info.subject.clone(),
            })
        })
        .collect()
}

/// Runs each scenario through `run_one` as the options say, telling it the moment the run's
/// deadline passes; results come back in the order of `scenarios`, one for each.
pub async fn schedule<F, Fut>(scenarios: Vec<Scenario>, options: &RunOptions, run_one: F) -> Vec<ScenarioResult>
where
    F: Fn(Arc<Scenario>, Option<Instant>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ScenarioResult> + Send + 'static,
{
    let started = Instant::now();
    let permits = Arc::new(Semaphore::new(options.jobs.max(1)));
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = options.deadline.and_then(|d| started.checked_add(d));
    let fail_fast = options.fail_fast;
    let interrupt = options.interrupt.clone();
    // A scenario with faults of its own runs alone: the faults touch every scenario in flight.
    let alone = Arc::new(tokio::sync::RwLock::new(()));
    let mut results: Vec<ScenarioResult> = scenarios.iter().map(ScenarioResult::not_run).collect();
    let mut tasks = tokio::task::JoinSet::new();
    // Scenarios that wait (for a signature's Date to age, say) take their permits first, so
    // that the others run while they wait; those with faults last, so that running alone they
    // hold up nobody; results keep the plan's order all the same.
    let mut launch: Vec<(usize, Scenario)> = scenarios.into_iter().enumerate().collect();
    launch.sort_by_key(|(_, scenario)| (scenario.faults.is_some(), !scenario.waits()));
    for (index, scenario) in launch {
        let (permits, stop, run_one, interrupt) = (permits.clone(), stop.clone(), run_one.clone(), interrupt.clone());
        let alone = alone.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let (_shared, _alone) = match scenario.faults.is_some() {
                true => (None, Some(alone.write_owned().await)),
                false => (Some(alone.read_owned().await), None),
            };
            let late = deadline.is_some_and(|d| Instant::now() > d);
            if late || stop.load(Ordering::Relaxed) || interrupt.raised() {
                return (index, None);
            }
            // A panic inside the scenario's own task would lose its index; caught here, it
            // becomes that scenario's ERROR.
            let outcome = std::panic::AssertUnwindSafe(run_one(Arc::new(scenario), deadline)).catch_unwind().await;
            let result = match outcome {
                Ok(result) => Ok(result),
                Err(payload) => Err(panicked(payload.as_ref())),
            };
            if fail_fast && result.as_ref().is_ok_and(|r| r.verdict == Verdict::Fail) {
                stop.store(true, Ordering::Relaxed);
            }
            (index, Some(result))
        });
    }
    let total = tasks.len();
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        // The task body cannot panic outside `catch_unwind`; were it cancelled, its scenario
        // keeps the `skipped` it started with.
        let Ok((index, ran)) = joined else { continue };
        let Some(slot) = results.get_mut(index) else { continue };
        match ran {
            Some(Ok(result)) => *slot = result,
            Some(Err(error)) => {
                slot.verdict = Verdict::Error;
                slot.error = Some(error);
            }
            None => {}
        }
        done += 1;
        if let Some(Progress(progress)) = &options.progress {
            progress(slot, Done { index, done, total });
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::model::ErrorKind;
    use crate::scenario::{Area, Severity};

    fn scenario(id: &str, severity: Severity) -> Scenario {
        Scenario {
            id: id.into(),
            title: id.into(),
            area: Area::Lifecycle,
            tags: vec![],
            severity,
            policy: None,
            source: "test".into(),
            faults: None,
            steps: vec![],
            file: Default::default(),
            line: 1,
        }
    }

    async fn verdict_of(s: Arc<Scenario>, _stop_at: Option<Instant>) -> ScenarioResult {
        if s.id.starts_with("boom") {
            panic!("scenario {} blew up", s.id);
        }
        let mut r = ScenarioResult::not_run(&s);
        r.verdict = if s.id.starts_with("fail") { Verdict::Fail } else { Verdict::Pass };
        r
    }

    #[tokio::test]
    async fn a_panicking_scenario_is_an_error_with_its_message_and_the_others_still_run() {
        let scenarios =
            vec![scenario("a", Severity::Must), scenario("boom-1", Severity::Must), scenario("c", Severity::Should)];
        let options = RunOptions { jobs: 2, ..RunOptions::default() };
        let results = schedule(scenarios, &options, verdict_of).await;
        let verdicts: Vec<(&str, Verdict)> = results.iter().map(|r| (r.id.as_str(), r.verdict)).collect();
        assert_eq!(verdicts, [("a", Verdict::Pass), ("boom-1", Verdict::Error), ("c", Verdict::Pass)]);
        let error = results[1].error.as_ref().expect("an error");
        assert_eq!(error.kind, ErrorKind::Panic);
        assert!(error.message.contains("scenario boom-1 blew up"), "{}", error.message);
    }

    #[tokio::test]
    async fn fail_fast_and_the_deadline_leave_later_scenarios_skipped() {
        let ids = ["fail-1", "b", "c"];
        let make = || ids.iter().map(|id| scenario(id, Severity::Must)).collect::<Vec<_>>();
        let options = RunOptions { jobs: 1, fail_fast: true, ..RunOptions::default() };
        let results = schedule(make(), &options, verdict_of).await;
        let verdicts: Vec<Verdict> = results.iter().map(|r| r.verdict).collect();
        assert_eq!(verdicts, [Verdict::Fail, Verdict::Skipped, Verdict::Skipped]);

        let options = RunOptions { deadline: Some(std::time::Duration::ZERO), ..RunOptions::default() };
        let results = schedule(make(), &options, verdict_of).await;
        assert!(results.iter().all(|r| r.verdict == Verdict::Skipped));
    }

    #[tokio::test]
    async fn a_scenario_with_faults_runs_alone() {
        let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let alone_seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let run_one = {
            let (in_flight, alone_seen) = (in_flight.clone(), alone_seen.clone());
            move |s: Arc<Scenario>, stop_at| {
                let (in_flight, alone_seen) = (in_flight.clone(), alone_seen.clone());
                async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    if s.faults.is_some() {
                        alone_seen.lock().expect("lock").push(now);
                    }
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    verdict_of(s, stop_at).await
                }
            }
        };
        let mut scenarios: Vec<Scenario> = (0..6).map(|i| scenario(&format!("s{i}"), Severity::Must)).collect();
        scenarios[2].faults = Some("ocsp:down".parse().expect("faults"));
        let options = RunOptions { jobs: 4, ..RunOptions::default() };
        let results = schedule(scenarios, &options, run_one).await;
        assert!(results.iter().all(|r| r.verdict == Verdict::Pass));
        assert_eq!(*alone_seen.lock().expect("lock"), vec![1], "nothing else ran beside it");
    }

    #[tokio::test]
    async fn after_an_interrupt_no_scenario_starts() {
        let options = RunOptions { jobs: 1, ..RunOptions::default() };
        let interrupt = options.interrupt.clone();
        let run_one = move |s: Arc<Scenario>, stop_at| {
            let interrupt = interrupt.clone();
            async move {
                interrupt.raise();
                verdict_of(s, stop_at).await
            }
        };
        let scenarios =
            vec![scenario("a", Severity::Must), scenario("b", Severity::Must), scenario("c", Severity::Must)];
        let results = schedule(scenarios, &options, run_one).await;
        let verdicts: Vec<Verdict> = results.iter().map(|r| r.verdict).collect();
        assert_eq!(verdicts, [Verdict::Pass, Verdict::Skipped, Verdict::Skipped]);
    }

    #[tokio::test]
    async fn progress_counts_every_scenario_once() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let progress = {
            let seen = seen.clone();
            Progress(Arc::new(move |r: &ScenarioResult, d: Done| {
                seen.lock().expect("lock").push((r.id.clone(), d.done, d.total));
            }))
        };
        let scenarios = vec![scenario("a", Severity::Must), scenario("boom", Severity::Must)];
        let options = RunOptions { progress: Some(progress), jobs: 1, ..RunOptions::default() };
        schedule(scenarios, &options, verdict_of).await;
        let seen = seen.lock().expect("lock");
        assert_eq!(seen.len(), 2);
        assert_eq!(seen.iter().map(|(_, done, _)| *done).collect::<Vec<_>>(), [1, 2]);
        assert!(seen.iter().all(|(_, _, total)| *total == 2));
    }
}
