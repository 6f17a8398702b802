//! `explore`: generated lifecycles against the embedded server or a target, a progress line on
//! stderr, each finding written as a scenario file, a summary (sequences, requests, findings
//! by clause), the reports a run has, and the outcome: a MUST broken fails, a harness error is
//! an error, a client left behind is said.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dcr_harness::error::Error;
use dcr_harness::explore::{Budget, Exploration, ExploreOptions, Tick};
use dcr_harness::pki::PkiOptions;
use dcr_harness::report::Report;
use dcr_harness::run::{Outcome, RunResult};
use dcr_harness::scenario::Severity;
use dcr_harness::suite::{Embedded, ExploreRun};

use super::args::ExploreArgs;
use super::config::{ensure_pki, parse_flaws, parse_variants, runtime};
use super::signals;

pub fn explore(args: &ExploreArgs) -> Result<Outcome, Error> {
    let layout = args.place.layout()?;
    ensure_pki(&layout.pki, &PkiOptions::default())?;
    let reports = match &args.report {
        Some(spec) => dcr_harness::report::parse_specs(spec, RunResult::FORMATS)?,
        None => Vec::new(),
    };
    dcr_harness::report::check_writable(&reports)?;
    let embedded = Embedded { flaws: parse_flaws(&args.flaws)?, variants: parse_variants(&args.variants)? };
    let seed = args.seed.unwrap_or_else(seed_from_the_clock);
    let options = ExploreOptions {
        seed,
        budget: Budget { requests: args.requests.or(args.seconds.is_none().then_some(2_000)), seconds: args.seconds },
        max_actions: usize::try_from(args.max_actions).unwrap_or(12),
        shrink: !args.no_shrink,
        max_findings: args.max_findings.and_then(|n| usize::try_from(n).ok()),
        jobs: args.jobs.map(usize::from),
        interrupt: Default::default(),
    };
    eprintln!("dcr-harness explore: profile {}, seed {seed}", args.profile);
    let interrupt = options.interrupt.clone();
    let mut last = Instant::now();
    let tick = move |t: Tick| {
        if last.elapsed() >= Duration::from_secs(2) {
            last = Instant::now();
            eprintln!("  {} sequences, {} requests, {} findings", t.sequences, t.requests, t.findings);
        }
    };
    let run = dcr_harness::suite::explore(&layout, &args.profile, args.target.clone(), &embedded, &options, tick);
    let message = "dcr-harness: interrupted: finishing the sequence and deleting its clients (again to stop now)";
    let mut explored = match signals::run_until_abandoned(runtime()?, run, message, move || interrupt.raise()) {
        Ok(explored) => explored?,
        Err(abandoned) => return Ok(abandoned),
    };
    let written = write_findings(&mut explored.exploration, &args.out, &args.profile)?;
    let reproduce = Reproduce { profile: &args.profile, flaws: &args.flaws, variants: &args.variants };
    print!("{}", summary(&explored, &written, &reproduce));
    let mut result = explored.exploration.run_result(&explored.profile, &explored.target);
    result.clients_left = explored.clients_outstanding.clone();
    result.clients_stranded = explored.clients_stranded.clone();
    result.ledger = explored.ledger.as_ref().map(|p| p.display().to_string());
    dcr_harness::report::write_all(&result, &reports)?;
    Ok(outcome(&explored))
}

fn seed_from_the_clock() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    now.as_secs() ^ u64::from(now.subsec_nanos())
}

/// Writes each finding's scenario under `out`; the paths, in the findings' order.
fn write_findings(exploration: &mut Exploration, out: &Path, profile: &str) -> Result<Vec<PathBuf>, Error> {
    if exploration.findings.is_empty() {
        return Ok(vec![]);
    }
    std::fs::create_dir_all(out).map_err(|e| Error::input(format!("--out {}", out.display()), e))?;
    let mut written = Vec::new();
    for finding in &mut exploration.findings {
        let path = out.join(format!("{}.yaml", finding.scenario.id));
        let text = dcr_harness::explore::to_yaml(&finding.scenario, profile)
            .map_err(|e| Error::input(format!("finding {}", finding.scenario.id), e))?;
        std::fs::write(&path, text).map_err(|e| Error::input(format!("--out {}", path.display()), e))?;
        finding.scenario.file = path.clone();
        written.push(path);
    }
    Ok(written)
}

/// What `run` needs to reproduce a finding against the same server.
struct Reproduce<'a> {
    profile: &'a str,
    flaws: &'a [String],
    variants: &'a [String],
}

impl Reproduce<'_> {
    fn command(&self, file: &Path) -> String {
        let mut command = format!("dcr-harness run --profile {} --scenario {}", self.profile, file.display());
        for flaw in self.flaws {
            command.push_str(&format!(" --flaw {flaw}"));
        }
        for variant in self.variants {
            command.push_str(&format!(" --variant {variant}"));
        }
        command
    }
}

fn summary(explored: &ExploreRun, written: &[PathBuf], reproduce: &Reproduce<'_>) -> String {
    let e = &explored.exploration;
    let (failures, warnings) = e.by_level(&explored.profile);
    let mut out = format!(
        "explored {} (profile {}, seed {}): {} sequences, {} requests in {:.1} s ({:.0} requests/s; {} runs shrinking)\n",
        explored.target,
        e.profile,
        e.seed,
        e.sequences,
        e.requests,
        e.duration.as_secs_f64(),
        e.rate(),
        e.shrink_runs
    );
    out.push_str(&format!("findings: {} ({failures} failing, {warnings} warning)\n", e.findings.len()));
    for (finding, path) in e.findings.iter().zip(written) {
        let level = explored.profile.severity_of(&finding.scenario);
        let word = if level == Severity::Must { "FAIL" } else { "WARN" };
        out.push_str(&format!("\n  {word} {} ({}): {}\n", finding.rule.id, level.name(), finding.rule.title));
        out.push_str(&format!("       {}\n", finding.rule.source));
        out.push_str(&format!("       {}: expected {}, got {}\n", finding.check, finding.expected, finding.got));
        out.push_str(&format!(
            "       sequence {} of {} steps, shrunk to {}; seen in {} sequence(s)\n",
            finding.sequence,
            finding.steps_found,
            finding.scenario.steps.len(),
            finding.seen
        ));
        out.push_str(&format!("       reproduce: {}\n", reproduce.command(path)));
    }
    for (sequence, error) in e.errors.iter().take(5) {
        out.push_str(&format!("\n  ERROR in sequence {sequence} (the harness's, not a verdict): {error}\n"));
    }
    if e.errors.len() > 5 {
        out.push_str(&format!("  ... and {} more harness errors\n", e.errors.len() - 5));
    }
    if !explored.clients_stranded.is_empty() {
        out.push_str(&format!(
            "\n{} client(s) stranded: the server revoked their tokens, as RFC 7592 §2.1 allows\n",
            explored.clients_stranded.len()
        ));
    }
    if !explored.clients_outstanding.is_empty() {
        out.push_str(&format!("\nclients not deleted: {}\n", explored.clients_outstanding.join(", ")));
    }
    let deleted_but_held = explored.clients_left.unwrap_or(0).saturating_sub(explored.clients_stranded.len());
    if deleted_but_held > 0 {
        out.push_str(&format!(
            "\nthe embedded server still holds {deleted_but_held} client(s) it answered as deleted (its flaw)\n"
        ));
    }
    if let Some(ledger) = &explored.ledger {
        out.push_str(&format!("\nclients left: see the ledger {} (dcr-harness cleanup)\n", ledger.display()));
    }
    out
}

fn outcome(explored: &ExploreRun) -> Outcome {
    let e = &explored.exploration;
    let (failures, _) = e.by_level(&explored.profile);
    let found = if failures > 0 { Outcome::MustFailed } else { Outcome::Success };
    let errors = if e.errors.is_empty() { Outcome::Success } else { Outcome::SetupError };
    let left = match explored.clients_outstanding.is_empty() {
        true => Outcome::Success,
        false => Outcome::ClientsLeft,
    };
    let interrupted = if e.interrupted { Outcome::Interrupted } else { Outcome::Success };
    [found, errors, left, interrupted].into_iter().fold(Outcome::Success, Outcome::worst)
}
