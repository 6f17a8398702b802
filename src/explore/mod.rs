//! `dcr-harness explore`: generated lifecycles judged against a model of the RFCs. Each
//! sequence is a program (`explore::model`) written as a scenario and run through the runner
//! the suite uses (the same session, transport, checks, redaction and cleanup, so every client
//! it registers is deleted, and a foreign target's are in the ledger). A finding is a scenario
//! that fails; it is shrunk (steps, then registry fields) to the smallest that fails by the
//! same rule, and written as a YAML scenario `run --scenario FILE` reproduces. Same seed, same
//! sequences. It decides nothing the checks do not: it must not judge answers itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod capabilities;
pub mod generate;
pub mod model;
pub mod registry;
pub mod rules;
mod write;

pub use model::{Action, Capabilities, Unsupported};
pub use rules::Rule;
pub use write::to_yaml;

use crate::run::model::ScenarioResult;
use crate::run::{Interrupt, RunOptions, Target};
use crate::scenario::{Scenario, Severity};

/// The longest program the explorer generates, in actions.
pub const MAX_ACTIONS: usize = 64;
/// The most sequences run side by side.
pub const MAX_JOBS: usize = 64;
/// The most scenario runs one shrink spends.
const SHRINK_RUNS: usize = 120;

/// When the exploration stops: whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub requests: Option<u64>,
    pub seconds: Option<u64>,
}

/// How to explore.
#[derive(Debug, Clone)]
pub struct ExploreOptions {
    pub seed: u64,
    pub budget: Budget,
    /// Actions per program, at most.
    pub max_actions: usize,
    /// Shrink findings (on by default; off, a finding is written as generated).
    pub shrink: bool,
    /// Stop once this many rules are found broken.
    pub max_findings: Option<usize>,
    /// Sequences run side by side (each its own clients; shrinking runs one at a time); none:
    /// four against the embedded server, one against a target elsewhere (which may not take
    /// concurrent registrations well, or rate-limit them).
    pub jobs: Option<usize>,
    pub interrupt: Interrupt,
}

impl Default for ExploreOptions {
    fn default() -> Self {
        ExploreOptions {
            seed: 0,
            budget: Budget { requests: Some(2_000), seconds: None },
            max_actions: 12,
            shrink: true,
            max_findings: None,
            jobs: None,
            interrupt: Interrupt::default(),
        }
    }
}

/// A rule a server broke, with the smallest scenario that shows it.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: Rule,
    /// The check that failed, as reports label it.
    pub check: String,
    pub expected: String,
    pub got: String,
    /// The sequence it was found in, and how many steps that sequence had.
    pub sequence: u64,
    pub steps_found: usize,
    /// The shrunk scenario (its id names rule, seed and sequence) and its run.
    pub scenario: Scenario,
    pub result: ScenarioResult,
    /// How many sequences broke the same rule (the first is the one shrunk).
    pub seen: u64,
}

/// What an exploration did.
#[derive(Debug, Clone)]
pub struct Exploration {
    pub profile: String,
    pub seed: u64,
    pub sequences: u64,
    /// Requests sent, shrinking's included.
    pub requests: u64,
    pub shrink_runs: u64,
    pub findings: Vec<Finding>,
    /// Sequences that ended in a harness error (a step that could not be planned or sent):
    /// never a finding.
    pub errors: Vec<(u64, String)>,
    pub duration: Duration,
    pub interrupted: bool,
}

/// What the explorer reports as it goes.
#[derive(Debug, Clone, Copy)]
pub struct Tick {
    pub sequences: u64,
    pub requests: u64,
    pub findings: usize,
}

/// What a failed scenario broke: the rule of its first failed check.
struct Broken {
    rule: Rule,
    /// The step it failed at (the scenario stops there).
    step: usize,
    check: String,
    expected: String,
    got: String,
}

/// A program that broke a rule, with the run that showed it.
struct Failing {
    program: Vec<Action>,
    result: ScenarioResult,
    broken: Broken,
}

struct Explorer<'a> {
    target: Arc<Target>,
    model: model::Model<'a>,
    options: Arc<RunOptions>,
    requests: u64,
    shrink_runs: u64,
}

impl Explorer<'_> {
    /// Runs `program` as a scenario; what it broke, if it failed.
    async fn try_program(&mut self, program: &[Action]) -> (ScenarioResult, Option<Broken>) {
        let (result, broken) = self.run_program(program).await;
        self.requests += result.requests;
        (result, broken)
    }

    /// Runs `program` as a scenario; what it broke, if it failed. Counts nothing, so that
    /// sequences can run side by side.
    async fn run_program(&self, program: &[Action]) -> (ScenarioResult, Option<Broken>) {
        let written = self.model.write(program);
        let scenario = Arc::new(scenario_of(&written, "explore-sequence", &rules::REGISTERED));
        let result =
            crate::run::scenario::run_scenario(self.target.clone(), scenario, self.options.clone(), None).await;
        let broken = broken(&result, &written.rules);
        (result, broken)
    }

    /// The smallest part of a failing program that still breaks its rule: parts of actions
    /// left out, halving the part each round, then registry fields left out; with the run of
    /// the last program that broke it.
    async fn shrink(&mut self, found: Failing) -> Failing {
        let mut current = found;
        let mut runs = 0;
        let mut chunk = current.program.len().div_ceil(2);
        while chunk >= 1 && runs < SHRINK_RUNS {
            let mut at = 0;
            while at < current.program.len() && runs < SHRINK_RUNS {
                let mut candidate = current.program.clone();
                candidate.drain(at..(at + chunk).min(current.program.len()));
                runs += 1;
                match self.still_breaks(candidate, &current.broken.rule).await {
                    Some(smaller) => current = smaller,
                    None => at += chunk,
                }
            }
            chunk /= 2;
        }
        for index in 0..current.program.len() {
            while let Some(simpler) = simpler(&current.program[index]).filter(|_| runs < SHRINK_RUNS) {
                let mut candidate = current.program.clone();
                candidate[index] = simpler;
                runs += 1;
                match self.still_breaks(candidate, &current.broken.rule).await {
                    Some(smaller) => current = smaller,
                    None => break,
                }
            }
        }
        self.shrink_runs += runs as u64;
        current
    }

    /// `candidate` with the run that shows it breaking `rule`, if it does; a program with a race
    /// is given three tries, as a race need not be lost every time.
    async fn still_breaks(&mut self, candidate: Vec<Action>, rule: &Rule) -> Option<Failing> {
        if candidate.is_empty() {
            return None;
        }
        let tries = if candidate.iter().any(races) { 3 } else { 1 };
        for _ in 0..tries {
            if let (result, Some(broken)) = self.try_program(&candidate).await {
                if broken.rule.id == rule.id {
                    return Some(Failing { program: candidate, result, broken });
                }
            }
        }
        None
    }
}

fn races(action: &Action) -> bool {
    matches!(action, Action::RaceDelete { .. } | Action::RaceUpdates { .. })
}

/// The action with one registry field fewer, if it has any.
fn simpler(action: &Action) -> Option<Action> {
    let fewer = |extras: &Vec<usize>| extras[1..].to_vec();
    match action {
        Action::RegisterExtended { extras } if extras.len() > 1 => {
            Some(Action::RegisterExtended { extras: fewer(extras) })
        }
        Action::Update { client, extras } if !extras.is_empty() => {
            Some(Action::Update { client: *client, extras: fewer(extras) })
        }
        _ => None,
    }
}

/// The rule of the first failed check of the first failed step.
fn broken(result: &ScenarioResult, rules: &[model::StepRules]) -> Option<Broken> {
    if !result.verdict.is_adverse() || result.error.is_some() {
        return None;
    }
    let (index, step) = result.steps.iter().enumerate().find(|(_, s)| !s.passed())?;
    let check = step.checks.iter().find(|c| !c.passed)?;
    let rule = rules.get(index)?.rule_for(&check.check).clone();
    Some(Broken {
        rule,
        step: index,
        check: check.check.to_string(),
        expected: check.expected.clone(),
        got: check.got.clone(),
    })
}

/// A written program as a scenario: with the rule's level and clause where it is a finding.
fn scenario_of(written: &model::Written, id: &str, rule: &Rule) -> Scenario {
    Scenario {
        id: id.to_string(),
        title: rule.title.to_string(),
        area: rule.area,
        tags: written.tags.clone(),
        severity: rule.severity,
        policy: rule.policy.map(crate::scenario::PolicyRef::Known),
        source: rule.source.to_string(),
        faults: None,
        steps: written.steps.clone(),
        file: Default::default(),
        line: 0,
    }
}

/// Explores `target` as `options` say. `fixed` is the suite (its metadata scenarios are the
/// invalid forms); `tick` hears of each sequence.
pub async fn explore(
    target: Arc<Target>,
    fixed: &[Scenario],
    options: &ExploreOptions,
    mut tick: impl FnMut(Tick),
) -> Result<Exploration, Unsupported> {
    let started = Instant::now();
    let caps = Capabilities::of(&target.profile)?;
    let applicable: Vec<Scenario> = fixed.iter().filter(|s| target.profile.applies(s)).cloned().collect();
    let redirects = statement_redirects(&target)?;
    let mut forms = registry::invalid_forms(&applicable);
    if !redirects.is_empty() {
        // Where a statement fixes the redirect URIs, a broken one is refused by the statement's
        // rule too, with whatever code the server gives it: not a judgement of the URI.
        forms.retain(|form| !form.fields.contains_key("redirect_uris"));
    }
    let run_options = Arc::new(RunOptions { interrupt: options.interrupt.clone(), ..RunOptions::default() });
    let mut explorer = Explorer {
        target: target.clone(),
        model: model::Model { caps, forms: &forms, redirects: &redirects, found: Default::default() },
        options: run_options,
        requests: 0,
        shrink_runs: 0,
    };
    let mut exploration = Exploration {
        profile: target.profile.name.clone(),
        seed: options.seed,
        sequences: 0,
        requests: 0,
        shrink_runs: 0,
        findings: vec![],
        errors: vec![],
        duration: Duration::ZERO,
        interrupted: false,
    };
    let max_actions = options.max_actions.clamp(2, MAX_ACTIONS);
    let jobs = options.jobs.unwrap_or(1).clamp(1, MAX_JOBS) as u64;
    let spent = |explorer: &Explorer<'_>, found: usize| {
        options.budget.requests.is_some_and(|r| explorer.requests >= r)
            || options.budget.seconds.is_some_and(|s| started.elapsed() >= Duration::from_secs(s))
            || options.max_findings.is_some_and(|most| found >= most)
    };
    while !spent(&explorer, exploration.findings.len()) {
        if options.interrupt.raised() {
            exploration.interrupted = true;
            break;
        }
        // A batch of sequences side by side; their results taken in sequence order, so that the
        // same seed and jobs give the same findings from the same sequences.
        let first = exploration.sequences;
        let batch: Vec<(u64, Vec<Action>)> = (first..first + jobs)
            .map(|sequence| (sequence, program_of(options.seed, sequence, caps, forms.len(), max_actions)))
            .collect();
        let runs = futures_util::future::join_all(batch.iter().map(|(_, p)| explorer.run_program(p))).await;
        for ((sequence, program), (result, broken)) in batch.into_iter().zip(runs) {
            explorer.requests += result.requests;
            exploration.sequences += 1;
            if let Some(error) = &result.error {
                exploration.errors.push((sequence, error.message.clone()));
            }
            let Some(broken) = broken else { continue };
            let full = options.max_findings.is_some_and(|most| exploration.findings.len() >= most);
            match exploration.findings.iter_mut().find(|f| f.rule.id == broken.rule.id) {
                Some(known) => known.seen += 1,
                None if full => {}
                None => {
                    let finding = explorer.finding(options, sequence, Failing { program, result, broken }).await;
                    // Found once: its checks are dropped from later sequences where that lets them
                    // go on (a registration's secret checked, a delete's 204), so that one fault
                    // does not end every sequence at the same step.
                    explorer.model.found.insert(finding.rule.id.to_string());
                    exploration.findings.push(finding);
                }
            }
        }
        tick(Tick {
            sequences: exploration.sequences,
            requests: explorer.requests,
            findings: exploration.findings.len(),
        });
    }
    exploration.requests = explorer.requests;
    exploration.shrink_runs = explorer.shrink_runs;
    exploration.duration = started.elapsed();
    Ok(exploration)
}

/// The redirect URIs the profile's software statement lets a client register (RFC 7591 §2.3:
/// the statement's values take precedence), or none where registrations carry no statement.
fn statement_redirects(target: &Target) -> Result<Vec<String>, Unsupported> {
    if target.profile.holds(crate::protocol::Policy::CdrDcr) {
        return Err(Unsupported::OnePerProduct(target.profile.name.clone()));
    }
    let Some(template) = target.profile.statement_template() else {
        return Ok(vec![]);
    };
    let variable = target.profile.statement_variable().unwrap_or_default();
    let name = variable.strip_prefix(crate::scenario::template::DIRECTORY).unwrap_or_default();
    let claims = target.pki.statement(name).and_then(crate::pki::jws::parts).map(|parts| parts.claims);
    let redirects: Vec<String> = claims
        .as_ref()
        .and_then(|claims| claims.get("software_redirect_uris")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        // A web client of the implicit grant may not use localhost (OpenID Connect Registration
        // §2): a rule the model does not follow, so its programs keep off such URIs.
        .filter(|uri| {
            reqwest::Url::parse(uri).ok().and_then(|u| u.host_str().map(str::to_string)).as_deref() != Some("localhost")
        })
        .collect();
    match redirects.is_empty() {
        true => Err(Unsupported::Statement(target.profile.name.clone(), template.to_string())),
        false => Ok(redirects),
    }
}

/// The program of sequence `sequence` of seed `seed`: its own stream of the seed's generator,
/// so that a sequence is the same whatever came before it.
pub fn program_of(seed: u64, sequence: u64, caps: Capabilities, forms: usize, max_actions: usize) -> Vec<Action> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(sequence);
    let len = rng.random_range(2..=max_actions.max(2));
    generate::generate(&mut rng, caps, forms, len)
}

impl Explorer<'_> {
    async fn finding(&mut self, options: &ExploreOptions, sequence: u64, found: Failing) -> Finding {
        let steps_found = found.broken.step + 1;
        let Failing { program, result, broken } = match options.shrink {
            true => self.shrink(found).await,
            false => found,
        };
        let id = format!("explore-{}-seed-{}-sequence-{sequence}", broken.rule.id, options.seed);
        // The steps up to the one that failed, judged by the finding's rule alone: another rule's
        // check (a SHOULD in a MUST finding) must not fail the scenario written for this one.
        let mut written = self.model.write(&program);
        let refusals = self.target.profile.rejection("metadata").map(|r| r.status.clone()).unwrap_or_default();
        write::focus(&mut written, broken.step, &broken.rule, &refusals);
        let mut scenario = scenario_of(&written, &id, &broken.rule);
        scenario.source = format!(
            "{} (found by `dcr-harness explore --seed {}`, sequence {sequence}, shrunk from {steps_found} steps to {})",
            broken.rule.source,
            options.seed,
            written.steps.len()
        );
        Finding {
            rule: broken.rule,
            check: broken.check,
            expected: broken.expected,
            got: broken.got,
            sequence,
            steps_found,
            scenario,
            result,
            seen: 1,
        }
    }
}

impl Exploration {
    /// Findings by the level their rule has under `profile`: (failures, warnings).
    pub fn by_level(&self, profile: &crate::scenario::Profile) -> (usize, usize) {
        let level = |f: &&Finding| profile.severity_of(&f.scenario);
        let failures = self.findings.iter().filter(|f| level(f) == Severity::Must).count();
        (failures, self.findings.len() - failures)
    }

    /// Requests per second over the whole exploration.
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.duration.as_secs_f64().max(1e-9)
    }
}

impl Finding {
    /// The shrunk scenario's run as a report shows it: under its own id, level and clause.
    pub fn result_for(&self, profile: &crate::scenario::Profile) -> ScenarioResult {
        let mut result = ScenarioResult::not_run(&self.scenario);
        result.severity = profile.severity_of(&self.scenario);
        // The run that showed the rule broken, of the program written.
        result.verdict = ScenarioResult::judge(true, result.severity, false);
        result.steps = self.result.steps.clone();
        result.cleanup = self.result.cleanup.clone();
        result.duration_ms = self.result.duration_ms;
        result.requests = self.result.requests;
        result
    }
}

impl Exploration {
    /// The findings as a run's result, for the reports a run has.
    pub fn run_result(&self, profile: &crate::scenario::Profile, target: &str) -> crate::run::RunResult {
        crate::run::RunResult {
            interrupted: self.interrupted,
            scenarios: self.findings.iter().map(|f| f.result_for(profile)).collect(),
            duration_ms: self.duration.as_millis() as u64,
            requests: self.requests,
            ..crate::run::RunResult::empty(target, &self.profile)
        }
    }
}
