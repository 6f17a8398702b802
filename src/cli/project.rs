//! The commands about a project and its suite: `init`, `list`, `validate`, `snapshots`,
//! `cleanup` and `matrix`.

use std::path::Path;

use dcr_harness::error::Error;
use dcr_harness::run::Outcome;

use super::args::{CleanupArgs, MatrixArgs, SelectArgs, SnapshotCommand};
use super::config::{filter_of, runtime};
use super::print;

pub fn init(dir: &Path) -> Result<Outcome, Error> {
    let written = dcr_harness::init::init(dir).map_err(|e| Error::input("init", e))?;
    let mut out = String::new();
    for path in &written {
        out.push_str(&format!("wrote {}\n", path.display()));
    }
    out.push_str("next: add your QWAC and QSEAL (dcr-harness pki init, then `external: true` entries in fixtures/pki/manifest.yaml), edit profiles/my-bank.yaml, then: dcr-harness run --profile my-bank\n");
    print(&out)
}

pub fn list(args: &SelectArgs) -> Result<Outcome, Error> {
    let layout = args.layout()?;
    let (profile, scenarios, _) = dcr_harness::suite::load(&layout, &args.profile)?;
    let filter = filter_of(args)?;
    let selected = dcr_harness::suite::select(&scenarios, &filter, &profile)?;
    let mut out = String::new();
    for s in &selected {
        out.push_str(&format!("{:<44} {:<16} {:<6} {}\n", s.id, s.area.name(), s.severity.name(), s.title));
    }
    let not_applicable = dcr_harness::suite::not_applicable(&scenarios, &filter, &profile);
    if !not_applicable.is_empty() {
        out.push_str(&format!("\nnot applicable to profile `{}` ({}):\n", profile.name, not_applicable.len()));
        for n in &not_applicable {
            out.push_str(&format!("{:<44} {}\n", n.id, n.reason));
        }
    }
    print(&out)
}

pub fn validate(args: &SelectArgs) -> Result<Outcome, Error> {
    let layout = args.layout()?;
    let (profile, scenarios, pki) = dcr_harness::suite::load(&layout, &args.profile)?;
    let selected = dcr_harness::suite::select(&scenarios, &filter_of(args)?, &profile)?;
    let problems = dcr_harness::preflight::offline(&profile, &pki, &selected, &layout.fixtures);
    if !problems.is_empty() {
        return Err(Error::input("preflight", problems.join("\n")));
    }
    let applicable = scenarios.iter().filter(|s| profile.applies(s)).count();
    eprintln!("{} scenarios valid; {applicable} apply to profile `{}`", scenarios.len(), profile.name);
    Ok(Outcome::Success)
}

pub fn snapshots(command: SnapshotCommand) -> Result<Outcome, Error> {
    let io = |dir: &Path, e: std::io::Error| Error::output(dir, e);
    match command {
        SnapshotCommand::Review(dir) => {
            let stdin = std::io::stdin();
            let (accepted, rejected) =
                dcr_harness::run::snapshot::review(&dir.snapshots, &mut stdin.lock(), &mut std::io::stderr())
                    .map_err(|e| io(&dir.snapshots, e))?;
            eprintln!("{accepted} accepted, {rejected} rejected");
        }
        SnapshotCommand::Accept { dir, all, scenario } => {
            if !all && scenario.is_none() {
                return Err(Error::input("snapshots accept", "name a scenario, or give --all"));
            }
            let n = dcr_harness::run::snapshot::accept(&dir.snapshots, scenario.as_deref())
                .map_err(|e| io(&dir.snapshots, e))?;
            eprintln!("{n} snapshot(s) accepted");
        }
    }
    Ok(Outcome::Success)
}

pub fn cleanup(args: &CleanupArgs) -> Result<Outcome, Error> {
    let layout = args.place.layout()?;
    let done = runtime()?.block_on(dcr_harness::suite::cleanup(&layout, &args.ledger, args.profile.as_deref()))?;
    let mut out = String::new();
    for r in &done.results {
        let mark = if r.ok { "deleted" } else { "LEFT" };
        out.push_str(&format!("{mark:<8} {} {}\n", r.client, dcr_harness::report::terminal::inert(&r.detail)));
    }
    let left = done.results.iter().filter(|r| !r.ok).count();
    out.push_str(&format!("{} deleted, {left} left", done.results.len() - left));
    match &done.ledger {
        Some(ledger) => out.push_str(&format!("; the ledger {} still names them\n", ledger.display())),
        None => out.push_str("; the ledger is removed\n"),
    }
    print(&out)?;
    Ok(if done.ledger.is_some() { Outcome::ClientsLeft } else { Outcome::Success })
}

pub fn matrix(args: &MatrixArgs) -> Result<Outcome, Error> {
    use dcr_harness::interop;
    let layout = args.place.layout()?;
    let out = args.out.clone().unwrap_or_else(|| layout.root.join("docs/interop"));
    let committed = interop::Matrix::read(&out.join(interop::MATRIX_JSON))?;
    let options = interop::MatrixOptions {
        servers: args.servers.clone(),
        no_install: args.no_install,
        state_dir: layout.root.join("target/interop/state"),
        html_dir: Some(args.html.clone().unwrap_or_else(|| layout.root.join("target/interop/html"))),
    };
    let now = runtime()?.block_on(interop::run(&layout, &options))?;
    let differences = interop::differences(&committed, &now);
    for line in &differences {
        eprintln!("matrix: {line}");
    }
    let cells = now.cells.len();
    if args.check {
        eprintln!("matrix: {cells} cells, {} difference(s) from {}", differences.len(), out.display());
        return Ok(if differences.is_empty() { Outcome::Success } else { Outcome::MustFailed });
    }
    let [json, md] = interop::merged(&committed, now).write(&out)?;
    eprintln!("matrix: {cells} cells run; wrote {} and {}", json.display(), md.display());
    Ok(Outcome::Success)
}
