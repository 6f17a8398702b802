//! `run`: the suite against the embedded reference server or a target, with its live view,
//! its reports and the verdict's outcome.

use std::path::Path;

use dcr_harness::error::Error;
use dcr_harness::pki::PkiOptions;
use dcr_harness::report::terminal::{self, Style, Verbosity};
use dcr_harness::report::Report;
use dcr_harness::run::{Outcome, RunResult};
use dcr_harness::suite::{Embedded, SuiteOptions};

use super::args::{ColorChoice, OutputArgs, RunArgs};
use super::config::{ensure_pki, filter_of, parse_flaws, parse_variants, runtime};
use super::live::{RunView, Say};
use super::signals;

pub fn run(args: &RunArgs, output: OutputArgs) -> Result<Outcome, Error> {
    let layout = args.select.layout()?;
    let pki = ensure_pki(&layout.pki, &PkiOptions::default())?;
    // What the attestation will be signed with is found before the run, not after it.
    let qseal = match &args.attest {
        Some(_) => dcr_harness::scenario::Profile::load(&args.select.profile, &layout.profiles)?
            .identities
            .sign
            .name()
            .map(str::to_string),
        None => None,
    };
    let reports = match &args.report {
        Some(spec) => dcr_harness::report::parse_specs(spec, RunResult::FORMATS)?,
        None => Vec::new(),
    };
    dcr_harness::report::check_writable(&reports)?;
    // A report on stdout (`json=-`) is the only data there: the terminal report goes to stderr.
    let say = Say { to_stderr: reports.iter().any(|(_, path)| path == Path::new("-")) };
    // A baseline that cannot be read is found before the run, not after it.
    let baseline = match &args.baseline {
        Some(path) => Some(dcr_harness::run::baseline::read(path).map_err(|e| Error::input("--baseline", e))?),
        None => None,
    };
    let mut options = suite_options(args, &layout)?;
    let style = Style::detect(verbosity(output), color(output));
    let view = RunView::new(say);
    options.run.progress = Some(view.progress(style, say));
    let interrupt = options.run.interrupt.clone();
    let message =
        "dcr-harness: interrupted: finishing the running steps and deleting their clients (again to stop now)";
    let mut run =
        match signals::run_until_abandoned(runtime()?, dcr_harness::suite::run(&layout, &options), message, move || {
            interrupt.raise()
        }) {
            Ok(run) => run?,
            Err(abandoned) => return Ok(abandoned),
        };
    run.result.since_baseline = baseline.as_ref().map(|b| dcr_harness::run::baseline::compare(&run.result, b));
    view.finish();
    match view.streamed {
        true => say.say(&terminal::summary(&run.result))?,
        false => say.say(&terminal::render_with(&run.result, &style))?,
    }
    if let Some(handshakes) = run.handshakes {
        eprintln!("embedded server: {handshakes} TLS handshakes for {} requests", run.result.requests);
    }
    let fetched: Vec<String> = run
        .fetches
        .iter()
        .filter(|(_, f)| f.fetches > 0)
        .map(|(service, f)| format!("{} {} x mean {} us (max {})", service.name(), f.fetches, f.mean_us(), f.max_us))
        .collect();
    if !fetched.is_empty() {
        eprintln!("embedded server's own fetches: {}", fetched.join(", "));
    }
    if let (Some(url), Some(tracer)) = (&args.otlp, &options.run.tracer) {
        export_traces(url, tracer);
    }
    if let Some(evidence) = &run.evidence {
        super::attest::write(args, &pki, qseal.as_deref(), &run.result, evidence)?;
    }
    let outcome = run.result.outcome();
    match dcr_harness::report::write_all(&run.result, &reports) {
        // A report lost after the run does not hide its verdict: the verdict's code stands.
        Err(e) if outcome != Outcome::Success => {
            eprintln!("dcr-harness: error: {}", dcr_harness::error::chain(&e));
            Ok(outcome)
        }
        written => written.map(|()| outcome),
    }
}

/// The suite's options as the flags say.
fn suite_options(args: &RunArgs, layout: &dcr_harness::suite::Layout) -> Result<SuiteOptions, Error> {
    if let Some(url) = &args.otlp {
        let parsed = url::Url::parse(url).map_err(|e| Error::input(format!("--otlp {url}"), e))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::input(format!("--otlp {url}"), "an http:// or https:// URL of an OTLP/HTTP receiver"));
        }
    }
    let known_failures = match &args.known_failures {
        Some(path) => dcr_harness::suite::load_known_failures(path)?,
        None => Default::default(),
    };
    Ok(SuiteOptions {
        profile: args.select.profile.clone(),
        target: args.target.clone(),
        filter: filter_of(&args.select)?,
        run: dcr_harness::run::RunOptions {
            interrupt: Default::default(),
            progress: None,
            jobs: args.jobs.map_or(0, usize::from),
            fail_fast: args.fail_fast,
            known_failures,
            deadline: args.timeout.map(std::time::Duration::from_secs),
            tracer: args.otlp.as_ref().map(|_| Default::default()),
            snapshots: (!args.no_snapshots).then(|| {
                dcr_harness::run::snapshot::SnapshotOptions::new(
                    layout.snapshots_for(&args.select.profile),
                    args.update_snapshots,
                )
            }),
        },
        embedded: Embedded { flaws: parse_flaws(&args.flaws)?, variants: parse_variants(&args.variants)? },
        known_failures_file: args.known_failures.clone(),
        faults: faults_of(&args.faults)?,
        evidence: args.attest.is_some(),
    })
}

/// `--fault` given once or more: every fault holds for the whole run.
fn faults_of(given: &[String]) -> Result<Option<dcr_harness::fault::Faults>, Error> {
    match given.is_empty() {
        true => Ok(None),
        false => {
            given.join(",").parse().map(Some).map_err(|e: dcr_harness::fault::FaultError| Error::input("--fault", e))
        }
    }
}

fn verbosity(output: OutputArgs) -> Verbosity {
    match (output.verbose, output.quiet) {
        (true, _) => Verbosity::Verbose,
        (_, true) => Verbosity::Quiet,
        _ => Verbosity::Normal,
    }
}

fn color(output: OutputArgs) -> Option<bool> {
    match output.color {
        ColorChoice::Auto => None,
        ColorChoice::Always => Some(true),
        ColorChoice::Never => Some(false),
    }
}

/// The run's spans to the OTLP receiver at `url`: what it took, or why not, on stderr. A
/// receiver's refusal is no verdict on the server.
fn export_traces(url: &str, tracer: &dcr_harness::run::trace::Tracer) {
    let (spans, dropped) = tracer.take();
    let exported = runtime()
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(dcr_harness::run::trace::export(url, &spans)).map_err(|e| e.to_string()));
    let url = dcr_harness::run::trace::traces_url(url);
    match exported {
        Ok(n) if dropped > 0 => {
            eprintln!("traces: {n} spans exported to {url} ({dropped} more than the run keeps were dropped)")
        }
        Ok(n) => eprintln!("traces: {n} spans exported to {url}"),
        Err(why) => eprintln!("dcr-harness: warning: traces not exported: {why}"),
    }
}
