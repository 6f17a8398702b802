//! Conformance under load (`load --with-suite`): the profile's negative scenarios (those with a
//! step the server must refuse) run once with the server idle, then again and again, one at a
//! time, while the load holds the server at the rate asked; each must give the verdict it gave
//! idle. A scenario that gives another is degraded, and the summary says how: an answer of 500
//! or more, no answer, a 2xx where a refusal was due, a client created by a refused request.
//!
//! It selects, runs at a trickle and compares; the load itself and its pacing are the engine's,
//! and it judges no threshold but its own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::run::model::{Check, RunResult, ScenarioResult, Verdict};
use crate::run::options::Interrupt;
use crate::run::{RunOptions, Target};
use crate::scenario::{Profile, Scenario};

/// Where the load holds the server while the scenarios run: a share of the rate its own load
/// measured first (saturation, the profile's closed model), or a rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum SuiteAt {
    /// A share of the saturation measured first, above 0 and at most 1 (0.8: 80%).
    Share(f64),
    /// Requests per second, above 0 and at most 1,000,000.
    Rate(f64),
}

impl Default for SuiteAt {
    fn default() -> Self {
        SuiteAt::Share(0.8)
    }
}

impl SuiteAt {
    /// Why the value is out of range, if it is.
    pub fn problem(self) -> Option<String> {
        match self {
            SuiteAt::Share(s) if !(s > 0.0 && s <= 1.0) => {
                Some(format!("suite_at: share {s} is not above 0 and at most 1 (0.8 is 80% of saturation)"))
            }
            SuiteAt::Rate(r) if !(r > 0.0 && r <= 1_000_000.0) => {
                Some(format!("suite_at: rate {r} is not above 0 and at most 1,000,000 requests/s"))
            }
            _ => None,
        }
    }
}

/// What the scenarios came to under load, beside what they came to idle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnderLoad {
    /// The rate the load was asked to hold while the scenarios ran (requests/s).
    pub rate: f64,
    /// The saturation the profile's own load measured first, where the rate is a share of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saturation: Option<f64>,
    pub scenarios: usize,
    /// Scenario runs completed while the load ran (each scenario at least once, in turn).
    pub runs_under_load: usize,
    pub degraded: Vec<Degraded>,
    /// Scenarios the load ended before they completed under it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_reached: Vec<String>,
    /// Scenarios that did not pass with the server idle (compared all the same).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_passing_idle: Vec<String>,
}

impl UnderLoad {
    /// Every scenario ran under load and gave its idle verdict.
    pub fn held(&self) -> bool {
        self.degraded.is_empty() && self.not_reached.is_empty()
    }
}

/// A scenario whose verdict under load was not its idle one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Degraded {
    pub id: String,
    pub idle: String,
    pub under_load: String,
    /// How: `an answer of 500`, `no answer`, `a 2xx where a refusal was due`, `a client created
    /// by a refused request`, or the first check that failed.
    pub how: Vec<String>,
}

/// The scenarios that can run beside a load: they have a step the server must refuse, need no
/// wait, no fault and no concurrency of their own, and apply to the profile.
pub fn negative_scenarios(scenarios: &[Scenario], profile: &Profile) -> Vec<Scenario> {
    scenarios
        .iter()
        .filter(|s| profile.applies(s))
        .filter(|s| s.steps.iter().any(|step| !step.allows_creation()))
        .filter(|s| !s.waits() && s.faults.is_none())
        .filter(|s| s.steps.iter().all(|step| step.concurrent.is_none()))
        .map(|s| Scenario { severity: profile.severity_of(s), ..s.clone() })
        .collect()
}

/// Runs `scenarios` once, one at a time, against `target`, until `stop` is raised.
pub async fn run_once(
    target: &Arc<Target>,
    scenarios: &[Scenario],
    deadline: Option<Duration>,
    stop: &Interrupt,
) -> RunResult {
    let options = RunOptions { jobs: 1, deadline, interrupt: stop.clone(), ..RunOptions::default() };
    crate::run::run(target.clone(), scenarios.to_vec(), options).await
}

/// Runs `scenarios` in turn, pass after pass, until `at_least` is past and every scenario has
/// run to its end beside the load (past `at_least`, a pass runs only those that have not), or
/// until `at_most` is past or `stop` is raised. A server that stalls for a while leaves no
/// scenario unreached: the load beside them lasts as long as they need, within its bound.
pub async fn trickle(
    target: Arc<Target>,
    scenarios: Vec<Scenario>,
    at_least: Instant,
    at_most: Instant,
    stop: Interrupt,
) -> Vec<RunResult> {
    let mut passes: Vec<RunResult> = Vec::new();
    let mut unfinished = scenarios.clone();
    while let Some(time) = at_most.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) {
        let past_least = Instant::now() >= at_least;
        if stop.raised() || (past_least && unfinished.is_empty()) {
            break;
        }
        let this_pass = if past_least { &unfinished } else { &scenarios };
        let pass = run_once(&target, this_pass, Some(time), &stop).await;
        unfinished.retain(|s| !pass.scenarios.iter().any(|r| r.id == s.id && r.verdict != Verdict::Skipped));
        passes.push(pass);
    }
    passes
}

/// Each scenario's runs under load against its idle run.
pub fn compare(idle: &RunResult, under_load: &[RunResult], rate: f64, saturation: Option<f64>) -> UnderLoad {
    let completed = |r: &&ScenarioResult| r.verdict != Verdict::Skipped;
    let mut report = UnderLoad {
        rate,
        saturation,
        scenarios: idle.scenarios.len(),
        runs_under_load: under_load.iter().flat_map(|p| &p.scenarios).filter(completed).count(),
        ..UnderLoad::default()
    };
    for quiet in &idle.scenarios {
        if quiet.verdict.is_adverse() {
            report.not_passing_idle.push(quiet.id.clone());
        }
        let busy: Vec<&ScenarioResult> =
            under_load.iter().flat_map(|p| &p.scenarios).filter(|r| r.id == quiet.id).filter(completed).collect();
        if busy.is_empty() {
            report.not_reached.push(quiet.id.clone());
            continue;
        }
        if let Some(other) = busy.iter().find(|r| r.verdict != quiet.verdict) {
            report.degraded.push(Degraded {
                id: quiet.id.clone(),
                idle: quiet.verdict.label().to_string(),
                under_load: other.verdict.label().to_string(),
                how: how_degraded(other),
            });
        }
    }
    report
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// What went otherwise in a scenario's run, in the words the summary uses.
fn how_degraded(result: &ScenarioResult) -> Vec<String> {
    let mut how = Vec::new();
    let mut say = |what: String| {
        if !how.contains(&what) {
            how.push(what);
        }
    };
    for step in &result.steps {
        if let Some(error) = &step.transport_error {
            say(format!("no answer ({error})"));
        }
        let status = step.response.as_ref().map(|r| r.status);
        if let Some(status) = status.filter(|s| *s >= 500) {
            say(format!("an answer of {status}"));
        }
        for check in step.checks.iter().filter(|c| !c.passed) {
            match (&check.check, status) {
                (Check::NoClientCreated, _) => say("a client created by a refused request".into()),
                (Check::Status, Some(s)) if (200..300).contains(&s) => {
                    say(format!("a 2xx where a refusal was due ({s}; expected {})", check.expected))
                }
                // The first line only: a diff of the client before and after says more than a
                // summary line can hold.
                _ => say(format!(
                    "{}: expected {}, got {}",
                    check.check,
                    first_line(&check.expected),
                    first_line(&check.got)
                )),
            }
        }
    }
    if let Some(error) = &result.error {
        say(error.message.clone());
    }
    how
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::model::{CheckOutcome, RecordedRequest, RecordedResponse, StepResult};

    fn result(id: &str, verdict: Verdict, steps: Vec<StepResult>) -> ScenarioResult {
        let scenario: Scenario = serde_norway::from_str(&format!(
            "{{id: {id}, title: t, area: signature, severity: MUST, source: s, steps: []}}"
        ))
        .expect("a scenario");
        let mut r = ScenarioResult::not_run(&scenario);
        r.verdict = verdict;
        r.steps = steps;
        r
    }

    fn step(status: Option<u16>, checks: Vec<CheckOutcome>) -> StepResult {
        StepResult {
            name: "step".into(),
            request: RecordedRequest {
                method: "POST".into(),
                url: String::new(),
                tls_identity: None,
                headers: vec![],
                body: String::new(),
                signing_string: None,
            },
            response: status.map(|status| RecordedResponse {
                status,
                headers: vec![],
                body: String::new(),
                truncated: false,
            }),
            transport_error: status.is_none().then(|| "timed out".to_string()),
            mutations: vec![],
            checks,
            duration_ms: 1,
        }
    }

    fn run_of(results: Vec<ScenarioResult>) -> RunResult {
        RunResult { scenarios: results, ..RunResult::empty("https://127.0.0.1:1", "reference") }
    }

    #[test]
    fn each_way_of_degrading_is_named_and_the_same_verdict_is_not_degraded() {
        let idle = run_of(vec![
            result("accepted-refusal", Verdict::Pass, vec![]),
            result("created", Verdict::Pass, vec![]),
            result("overloaded", Verdict::Pass, vec![]),
            result("silent", Verdict::Pass, vec![]),
            result("failing-anyway", Verdict::Fail, vec![]),
            result("never-reached", Verdict::Pass, vec![]),
        ]);
        let status = CheckOutcome::new(Check::Status, false, "401", "201");
        let created = CheckOutcome::new(Check::NoClientCreated, false, "no client", "a client");
        let busy = run_of(vec![
            result("accepted-refusal", Verdict::Fail, vec![step(Some(201), vec![status])]),
            result("created", Verdict::Fail, vec![step(Some(400), vec![created])]),
            result("overloaded", Verdict::Error, vec![step(Some(503), vec![])]),
            result("silent", Verdict::Error, vec![step(None, vec![])]),
            result("failing-anyway", Verdict::Fail, vec![]),
            result("never-reached", Verdict::Skipped, vec![]),
        ]);
        let compared = compare(&idle, &[busy], 100.0, Some(125.0));
        let how: Vec<(&str, String)> = compared.degraded.iter().map(|d| (d.id.as_str(), d.how.join("; "))).collect();
        assert_eq!(
            how,
            [
                ("accepted-refusal", "a 2xx where a refusal was due (201; expected 401)".to_string()),
                ("created", "a client created by a refused request".to_string()),
                ("overloaded", "an answer of 503".to_string()),
                ("silent", "no answer (timed out)".to_string()),
            ]
        );
        assert_eq!(compared.not_reached, ["never-reached"]);
        assert_eq!(compared.not_passing_idle, ["failing-anyway"]);
        assert_eq!(compared.runs_under_load, 5);
        assert!(!compared.held());
        let same = compare(&idle, std::slice::from_ref(&idle), 100.0, None);
        assert!(same.held(), "{same:?}");
    }

    #[test]
    fn a_share_or_rate_out_of_range_is_named() {
        let cases = [
            (SuiteAt::Share(0.8), true),
            (SuiteAt::Share(1.0), true),
            (SuiteAt::Share(0.0), false),
            (SuiteAt::Share(1.5), false),
            (SuiteAt::Share(f64::NAN), false),
            (SuiteAt::Rate(250.0), true),
            (SuiteAt::Rate(-1.0), false),
        ];
        for (at, fine) in cases {
            assert_eq!(at.problem().is_none(), fine, "{at:?}");
        }
    }
}
