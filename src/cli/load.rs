//! `load` (a load profile against a target, with its live view) and `load merge` (shards'
//! figures combined); both end with the same reports.

use std::path::PathBuf;

use dcr_harness::error::Error;
use dcr_harness::fault::Faults;
use dcr_harness::load::conformance::SuiteAt;
use dcr_harness::load::model::FaultPhase;
use dcr_harness::load::{baseline, Engine, HoldAt, LoadOptions, LoadReport, Measurement, Shard};
use dcr_harness::report::{self, Format, Report};
use dcr_harness::run::Outcome;

use super::args::{EngineArg, LoadArgs, LoadCommand, LoadReportArgs, LoadRunArgs};
use super::config::runtime;
use super::live::LoadView;
use super::{print, signals};

pub fn load(args: &LoadArgs) -> Result<Outcome, Error> {
    match &args.command {
        Some(LoadCommand::Merge(merge)) => {
            let reports = reports_of(&merge.reports)?;
            let baseline = baseline_of(&merge.reports)?;
            let (measurement, mut report) = dcr_harness::load::merge(&merge.files)?;
            if let Some((path, earlier)) = &baseline {
                // The shards carry the profile's thresholds, its ratio thresholds among them.
                baseline::apply(&mut report, earlier, path, &measurement.thresholds);
            }
            write_reports(&report, &reports)
        }
        None => load_run(&args.run),
    }
}

fn load_run(args: &LoadRunArgs) -> Result<Outcome, Error> {
    let layout = args.place.layout()?;
    let reports = reports_of(&args.reports)?;
    let baseline = baseline_of(&args.reports)?;
    let mut profile = dcr_harness::load::read_profile(&args.profile, &layout.load)?;
    if let Some(target_profile) = &args.target_profile {
        profile.target_profile = target_profile.clone();
    }
    let shard = shard_of(args.shard.as_deref())?;
    let faults = args
        .faults
        .iter()
        .map(|f| f.parse::<Faults>().map_err(|e| Error::input("--fault", e)))
        .collect::<Result<Vec<_>, _>>()?;
    if (!faults.is_empty() || args.with_suite) && (shard.count > 1 || args.out.is_some()) {
        let flag = if args.with_suite { "--with-suite" } else { "--fault" };
        return Err(Error::input(flag, "it is one process's load: drop --shard and --out"));
    }
    let start_at = args.start_at.map(|s| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s));
    // What every load of this command shares; each phase adds its own faults or suite.
    let base = LoadOptions {
        target: args.target.clone(),
        shard,
        start_at,
        embedded: embedded_of(args)?,
        streams: streams_of(args)?,
        engine: engine_of(args, &profile)?,
        ..LoadOptions::default()
    };
    if args.with_suite {
        if !matches!(base.engine, Engine::Harness) {
            return Err(Error::input(
                "--with-suite",
                "the suite runs beside an open-model load: use the harness's own engine",
            ));
        }
        return load_with_suite(&base, &layout, &profile, &reports, baseline.as_ref());
    }
    let pacing = profile.pacing().map_err(|p| Error::input("load profile", p))?;
    let shard_note = if shard.count > 1 { format!(" (shard {}/{})", shard.index, shard.count) } else { String::new() };
    eprintln!("load `{}`: {}{shard_note}, signing {:?} ...", profile.name, pacing.describe(), profile.signing);
    // Without faults first: its figures are the load's, its thresholds judged; then the same
    // load again under each fault, its headline figures beside the first's.
    let phases: Vec<Option<Faults>> = std::iter::once(None).chain(faults.into_iter().map(Some)).collect();
    let mut measured = Vec::new();
    for (i, faults) in phases.iter().enumerate() {
        if phases.len() > 1 {
            let under = faults.as_ref().map_or_else(|| "no fault".to_string(), ToString::to_string);
            eprintln!("phase {}/{}: {under}", i + 1, phases.len());
        }
        let options =
            LoadOptions { start_at: if i == 0 { start_at } else { None }, faults: faults.clone(), ..base.clone() };
        match load_once(&layout, &profile, &options)? {
            Ok(done) => {
                let interrupted = done.1.interrupted;
                measured.push(done);
                if interrupted {
                    break;
                }
            }
            Err(abandoned) => return Ok(abandoned),
        }
    }
    let phases: Vec<FaultPhase> = measured.iter().map(|(_, report)| FaultPhase::of(report)).collect();
    let Some((measurement, mut report)) = measured.into_iter().next() else {
        return Err(Error::input("load", "no load ran"));
    };
    if phases.len() > 1 {
        report.fault_phases = phases;
    }
    if let Some((path, earlier)) = &baseline {
        baseline::apply(&mut report, earlier, path, &profile.thresholds);
    }
    if let Some(path) = &args.out {
        let json = serde_json::to_string(&measurement).map_err(|e| Error::output(path, std::io::Error::other(e)))?;
        std::fs::write(path, json).map_err(|e| Error::output(path, e))?;
    }
    write_reports(&report, &reports)
}

/// `load --with-suite`: the saturation the profile's own load reaches first (where the rate is
/// a share of it), then the load at that rate with the negative scenarios beside it.
fn load_with_suite(
    base: &LoadOptions,
    layout: &dcr_harness::suite::Layout,
    profile: &dcr_harness::load::LoadProfile,
    reports: &[(Format, PathBuf)],
    baseline: Option<&(&PathBuf, LoadReport)>,
) -> Result<Outcome, Error> {
    let options = |with_suite| LoadOptions { start_at: None, with_suite, ..base.clone() };
    let saturation = match profile.suite_at {
        SuiteAt::Share(_) => {
            eprintln!("saturation: the profile's own load first");
            match load_once(layout, profile, &options(None))? {
                Ok((_, report)) if !report.interrupted => Some(HoldAt::saturation_of(&report)),
                Ok((_, report)) => return write_reports(&report, reports),
                Err(abandoned) => return Ok(abandoned),
            }
        }
        SuiteAt::Rate(_) => None,
    };
    let hold = HoldAt::of(profile.suite_at, saturation);
    let of_saturation = saturation.map_or(String::new(), |s| format!(" ({:.0}% of {s:.0})", 100.0 * hold.rate / s));
    eprintln!("the negative scenarios idle, then beside the load at {:.0} requests/s{of_saturation}", hold.rate);
    let (_, mut report) = match load_once(layout, profile, &options(Some(hold)))? {
        Ok(done) => done,
        Err(abandoned) => return Ok(abandoned),
    };
    if let Some((path, earlier)) = baseline {
        baseline::apply(&mut report, earlier, path, &profile.thresholds);
    }
    write_reports(&report, reports)
}

/// One load, with its live view; the outcome instead where it was abandoned (a second Ctrl-C).
fn load_once(
    layout: &dcr_harness::suite::Layout,
    profile: &dcr_harness::load::LoadProfile,
    options: &LoadOptions,
) -> Result<Result<(Measurement, LoadReport), Outcome>, Error> {
    #[cfg(feature = "goose")]
    if matches!(options.engine, Engine::Goose(_)) {
        dcr_harness::load::goose_engine::prepare_process();
    }
    let stop = options.stop.clone();
    let view = LoadView::new();
    let message = "\ndcr-harness: interrupted: stopping the users and deleting their clients (again to stop now)";
    let load = dcr_harness::load::run(layout, profile, options, move |p| view.tick(p), move |d, t| view.cleanup(d, t));
    match signals::run_until_abandoned(runtime()?, load, message, move || stop.raise()) {
        Ok(done) => {
            let done = done?;
            view.finish();
            Ok(Ok(done))
        }
        Err(abandoned) => Ok(Err(abandoned)),
    }
}

/// The embedded server as `--flaw` asks.
fn embedded_of(args: &LoadRunArgs) -> Result<dcr_harness::suite::Embedded, Error> {
    Ok(dcr_harness::suite::Embedded { flaws: super::config::parse_flaws(&args.flaws)?, ..Default::default() })
}

/// The engine `--engine` names, refused (exit 2) where the profile asks what it cannot do.
fn engine_of(args: &LoadRunArgs, profile: &dcr_harness::load::LoadProfile) -> Result<Engine, Error> {
    match args.engine {
        EngineArg::Harness if args.goose_report.is_some() => {
            Err(Error::input("--goose-report", "goose's report needs `--engine goose`"))
        }
        EngineArg::Harness => Ok(Engine::Harness),
        EngineArg::Goose => goose_engine(args, profile),
    }
}

#[cfg(feature = "goose")]
fn goose_engine(args: &LoadRunArgs, profile: &dcr_harness::load::LoadProfile) -> Result<Engine, Error> {
    use dcr_harness::load::goose_engine;
    if let Some(why) = goose_engine::refuses(profile) {
        return Err(Error::input("--engine goose", format!("load profile `{}`: {why}", profile.name)));
    }
    if let Some(path) = &args.goose_report {
        let html = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
        if !html {
            return Err(Error::input(
                "--goose-report",
                format!("{}: goose writes its report as HTML: name a .html file", path.display()),
            ));
        }
        dcr_harness::report::check_writable(&[(Format::Html, path.clone())])?;
    }
    Ok(Engine::Goose(goose_engine::GooseOptions { html_report: args.goose_report.clone() }))
}

#[cfg(not(feature = "goose"))]
fn goose_engine(_: &LoadRunArgs, _: &dcr_harness::load::LoadProfile) -> Result<Engine, Error> {
    Err(Error::input("--engine goose", "this dcr-harness was built without the `goose` feature"))
}

/// The sinks `--stream` names.
fn streams_of(args: &LoadRunArgs) -> Result<Vec<dcr_harness::load::stream::Sink>, Error> {
    args.streams
        .iter()
        .map(|s| s.parse().map_err(|e: dcr_harness::load::stream::SinkError| Error::input("--stream", e)))
        .collect()
}

/// This process's shard: `--shard I/N`, else a Kubernetes Indexed Job's environment, else the
/// whole load.
fn shard_of(flag: Option<&str>) -> Result<Shard, Error> {
    match flag {
        Some(text) => text.parse().map_err(|e: dcr_harness::load::ShardError| Error::input("--shard", e)),
        None => {
            let env = |name| std::env::var(name).ok();
            Shard::from_job(env("JOB_COMPLETION_INDEX").as_deref(), env("DCR_HARNESS_SHARDS").as_deref())
                .map(Option::unwrap_or_default)
                .map_err(|e| Error::input("--shard", e))
        }
    }
}

/// The earlier load's report `--baseline` names, read before the load: a baseline that cannot
/// be used stops it before it starts.
fn baseline_of(args: &LoadReportArgs) -> Result<Option<(&PathBuf, LoadReport)>, Error> {
    match &args.baseline {
        Some(path) => Ok(Some((path, baseline::read(path).map_err(|e| Error::input("--baseline", e))?))),
        None => Ok(None),
    }
}

/// The reports asked for, by `--report` and by the older `--md`, `--json`, `--html`; checked
/// writable before the load starts.
fn reports_of(args: &LoadReportArgs) -> Result<Vec<(Format, PathBuf)>, Error> {
    let mut reports = match &args.report {
        Some(spec) => report::parse_specs(spec, LoadReport::FORMATS)?,
        None => Vec::new(),
    };
    let older = [(Format::Markdown, &args.md), (Format::Json, &args.json), (Format::Html, &args.html)];
    reports.extend(older.into_iter().filter_map(|(format, path)| Some((format, path.clone()?))));
    report::check_writable(&reports)?;
    Ok(reports)
}

/// Prints the summary and writes the reports asked for; the outcome is the report's.
fn write_reports(report: &LoadReport, to: &[(Format, PathBuf)]) -> Result<Outcome, Error> {
    print(&dcr_harness::load::render(report))?;
    report::write_all(report, to)?;
    Ok(report.outcome())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> LoadReportArgs {
        LoadReportArgs { report: None, md: None, json: None, html: None, baseline: None }
    }

    /// `--report` and the older `--md`, `--json`, `--html` name the same reports.
    #[test]
    fn the_older_report_flags_are_the_same_reports() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let at = |name: &str| dir.path().join(name);
        let older =
            LoadReportArgs { md: Some(at("a.md")), json: Some(at("a.json")), html: Some(at("a.html")), ..none() };
        let spec =
            format!("md={},json={},html={}", at("a.md").display(), at("a.json").display(), at("a.html").display());
        let newer = LoadReportArgs { report: Some(spec), ..none() };
        let sorted = |mut v: Vec<(Format, PathBuf)>| {
            v.sort_by_key(|(f, _)| f.name());
            v
        };
        assert_eq!(sorted(reports_of(&older).expect("older")), sorted(reports_of(&newer).expect("newer")));
        let junit = LoadReportArgs { report: Some(format!("junit={}", at("a.xml").display())), ..none() };
        assert!(reports_of(&junit).is_err(), "a load has no JUnit report");
    }
}
