//! The interop matrix (`dcr-harness matrix`): the suite against every server of the fleet in
//! `foreign/` (each described by `foreign/NAME/server.yaml` and started by
//! `scripts/foreign/NAME.sh install|start|stop|version` on 127.0.0.1), every configuration and
//! every profile it names, as one table of cells: server × configuration × profile × scenario,
//! each with its verdict and how a person classified it. The classification is data: a
//! known-failures entry (quoting the clause the server breaks) makes a failure a *violation*;
//! a scenario the profile cannot run is *not applicable* with its reason; any other failure is
//! *unreviewed*, which `--check` refuses, as it refuses any cell that moved since the matrix
//! was committed. It starts and stops servers and runs suites; it must not judge answers.

mod fleet;
pub mod render;
pub mod under_load;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::run::{RunResult, Verdict};
use crate::suite::{Layout, SuiteOptions};

pub use fleet::{fleet, Configuration, Manifest};
use fleet::{free_port, launcher, LauncherError};

/// The matrix as committed (`docs/interop/matrix.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Matrix {
    pub servers: Vec<ServerEntry>,
    pub cells: Vec<Cell>,
}

/// A server, its version as its launcher says, and how each of its runs went.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServerEntry {
    pub name: String,
    pub package: String,
    pub version: String,
    pub homepage: String,
    pub management: String,
    pub runs: Vec<RunEntry>,
    /// Why nothing could be run against it (it would not install or start), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One profile against one configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunEntry {
    pub configuration: String,
    pub description: String,
    pub profile: String,
    /// Cells by classification.
    pub totals: BTreeMap<String, usize>,
    pub clients_left: usize,
    pub clients_stranded: usize,
    /// The load profile, where the run is a load with the negative scenarios beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<String>,
    /// Why the run could not be made (a preflight refusal, say), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One scenario against one server, configuration and profile.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cell {
    pub server: String,
    pub configuration: String,
    pub profile: String,
    pub scenario: String,
    /// `pass`, `fail`, `warn`, `info`, `error`, `skipped`, `n/a`.
    pub verdict: String,
    /// `pass`, `violation` (a reviewed failure of the server), `not applicable`, `unreviewed`
    /// (a failure nobody has classified: `--check` refuses it), `harness error`, `info`.
    pub classification: String,
    /// The clause and what the server did (a violation), or why it does not apply.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// What was sent and what came back, for a cell that is not a pass.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub evidence: String,
}

impl RunEntry {
    /// A run of `profile` against `configuration`, nothing counted yet.
    fn of(configuration: &Configuration, profile: &str) -> RunEntry {
        RunEntry {
            configuration: configuration.name.clone(),
            description: configuration.description.clone(),
            profile: profile.to_string(),
            totals: BTreeMap::new(),
            clients_left: 0,
            clients_stranded: 0,
            load: None,
            error: None,
        }
    }
}

impl Cell {
    /// A cell of the run `[server, configuration, profile]`, with no evidence.
    fn of(run: [&str; 3], scenario: &str, (verdict, classification): (&str, &str), note: String) -> Cell {
        let [server, configuration, profile] = run;
        Cell {
            server: server.into(),
            configuration: configuration.into(),
            profile: profile.into(),
            scenario: scenario.into(),
            verdict: verdict.into(),
            classification: classification.into(),
            note,
            evidence: String::new(),
        }
    }

    fn key(&self) -> (String, String, String, String) {
        (self.server.clone(), self.configuration.clone(), self.profile.clone(), self.scenario.clone())
    }
}

/// Scenarios at once against a server of the fleet.
const MATRIX_JOBS: usize = 2;

/// How a known-failures reason starts for a violation a server shows on some runs only.
pub const INTERMITTENT: &str = "intermittent";

/// The classification of a cell nobody has reviewed.
pub const UNREVIEWED: &str = "unreviewed";

/// What the matrix run is asked for.
#[derive(Debug, Clone, Default)]
pub struct MatrixOptions {
    /// Only these servers (all, when empty).
    pub servers: Vec<String>,
    /// Skip each launcher's `install` (already installed).
    pub no_install: bool,
    /// Where the launchers keep their state.
    pub state_dir: PathBuf,
    /// Where each run's HTML report goes (`SERVER-CONFIGURATION-PROFILE.html`), if anywhere.
    pub html_dir: Option<PathBuf>,
}

/// Runs every profile of every configuration of every server (or those asked for).
pub async fn run(layout: &Layout, options: &MatrixOptions) -> Result<Matrix, Error> {
    let root = layout.root.clone();
    let mut matrix = Matrix::default();
    let manifests = fleet(&root)?;
    for name in &options.servers {
        if !manifests.iter().any(|m| &m.name == name) {
            let hint = crate::scenario::did_you_mean(name, manifests.iter().map(|m| m.name.as_str()));
            return Err(Error::input("--server", format!("`{name}` is not in foreign/*/server.yaml{hint}")));
        }
    }
    let jwks = layout.pki.join(crate::pki::directory::JWKS_FILE).display().to_string();
    // A server over TLS presents the PKI's server certificate (and trusts its CAs).
    let pki_dir = layout.pki.display().to_string();
    // The test directory's keys must exist before a server that trusts them starts.
    crate::pki::Pki::ensure(&layout.pki, &crate::pki::PkiOptions::default())?;
    for manifest in manifests {
        if !options.servers.is_empty() && !options.servers.contains(&manifest.name) {
            continue;
        }
        let name = manifest.name.clone();
        let run_launcher = |args: Vec<String>| {
            let (root, name, jwks, pki_dir) = (root.clone(), name.clone(), jwks.clone(), pki_dir.clone());
            async move {
                tokio::task::spawn_blocking(move || {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    launcher(&root, &name, &args, &[("DCR_DIRECTORY_JWKS", jwks), ("DCR_PKI_DIR", pki_dir)])
                })
                .await
                .unwrap_or_else(|e| Err(LauncherError::Task(e)))
            }
        };
        let mut entry = ServerEntry {
            name: name.clone(),
            package: manifest.package.clone(),
            version: String::new(),
            homepage: manifest.homepage.clone(),
            management: manifest.management.clone().unwrap_or_else(|| "registration-token".into()),
            runs: Vec::new(),
            problem: None,
        };
        let installed = match options.no_install {
            true => Ok(String::new()),
            false => run_launcher(vec!["install".into()]).await,
        };
        if let Err(problem) = installed {
            entry.problem = Some(problem.to_string());
            matrix.servers.push(entry);
            continue;
        }
        entry.version = run_launcher(vec!["version".into()]).await.unwrap_or_else(|e| e.to_string());
        for configuration in &manifest.configurations {
            let state = options.state_dir.join(format!("{name}-{}", configuration.name));
            let _ = std::fs::remove_dir_all(&state);
            let state_arg = state.display().to_string();
            let start =
                |port: u16| vec!["start".into(), port.to_string(), state_arg.clone(), configuration.name.clone()];
            let mut started = run_launcher(start(free_port()?)).await;
            if started.is_err() {
                // A server that did not come up is given one more start, on another port: the
                // fleet has been seen (rarely, and not understood) to miss one start in a whole
                // matrix, and a cell that moved for that would be no news of the server.
                let _ = run_launcher(vec!["stop".into(), state_arg.clone()]).await;
                started = run_launcher(start(free_port()?)).await;
            }
            match started {
                Ok(base_url) => {
                    for (var, file) in &configuration.env_from_state {
                        let value = std::fs::read_to_string(state.join(file)).unwrap_or_default();
                        // The suite reads `{{env.X}}` from the process; runs are one at a time.
                        std::env::set_var(var, value.trim());
                    }
                    for profile in &configuration.profiles {
                        let (run, cells) =
                            run_one(layout, &manifest, configuration, profile, &base_url, options.html_dir.as_deref())
                                .await;
                        entry.runs.push(run);
                        matrix.cells.extend(cells);
                    }
                    let first_profile = configuration.profiles.first();
                    for (profile, load) in
                        first_profile.into_iter().flat_map(|p| configuration.load.iter().map(move |l| (p, l)))
                    {
                        let (run, cells) =
                            under_load::run_one(layout, &name, configuration, profile, &base_url, load).await;
                        entry.runs.push(run);
                        matrix.cells.extend(cells);
                    }
                }
                Err(problem) => {
                    entry.runs.push(RunEntry { error: Some(problem.to_string()), ..RunEntry::of(configuration, "") })
                }
            }
            let _ = run_launcher(vec!["stop".into(), state_arg]).await;
        }
        matrix.servers.push(entry);
    }
    Ok(matrix)
}

/// One profile against one running configuration: its run entry and its cells.
async fn run_one(
    layout: &Layout,
    manifest: &Manifest,
    configuration: &Configuration,
    profile: &Path,
    base_url: &str,
    html_dir: Option<&Path>,
) -> (RunEntry, Vec<Cell>) {
    let profile_name = profile.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut entry = RunEntry::of(configuration, &profile_name);
    let known_failures_file = configuration.known_failures.as_ref().map(|f| layout.root.join(f));
    let known = match &known_failures_file {
        Some(file) => crate::suite::load_known_failures(file),
        None => Ok(BTreeMap::new()),
    };
    let options = known.map(|known_failures| SuiteOptions {
        profile: layout.root.join(profile).display().to_string(),
        target: Some(base_url.to_string()),
        // Two scenarios at a time: the fleet's servers are small (one worker, sqlite), and a
        // verdict must not depend on how loaded the machine was (a racing scenario still races
        // its own copies).
        run: crate::run::RunOptions {
            known_failures,
            jobs: configuration.jobs.unwrap_or(MATRIX_JOBS).clamp(1, 64),
            ..Default::default()
        },
        known_failures_file,
        ..Default::default()
    });
    let result = match options {
        Ok(options) => crate::suite::run(layout, &options).await.map(|run| run.result),
        Err(e) => Err(e),
    };
    let run = match result {
        Ok(run) => run,
        Err(e) => {
            entry.error = Some(crate::diagnostic::chain(&e).replace(base_url, "{base}"));
            return (entry, Vec::new());
        }
    };
    // The profile as it names itself (several servers' files are all `profile.yaml`).
    entry.profile = run.profile.clone();
    if let Some(dir) = html_dir {
        // The page a person reads for this run: the run report's own, every step in it.
        let page = dir.join(format!("{}-{}-{}.html", manifest.name, configuration.name, run.profile));
        let written = crate::report::html::render(&run).map_err(|e| e.to_string()).and_then(|html| {
            std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&page, html)).map_err(|e| e.to_string())
        });
        if let Err(e) = written {
            entry.error = Some(format!("the HTML page {}: {e}", page.display()));
        }
    }
    let cells = cells_of(&run, &manifest.name, &configuration.name, &run.profile, base_url);
    for cell in &cells {
        *entry.totals.entry(cell.classification.clone()).or_default() += 1;
    }
    entry.clients_left = run.clients_left.len();
    entry.clients_stranded = run.clients_stranded.len();
    (entry, cells)
}

/// The cells of one run: a scenario that ran, or did not apply.
fn cells_of(run: &RunResult, server: &str, configuration: &str, profile: &str, base_url: &str) -> Vec<Cell> {
    let cell = |scenario: &str, verdict: &str, classification: &str, note: String, evidence: String| Cell {
        evidence: evidence.replace(base_url, "{base}"),
        ..Cell::of([server, configuration, profile], scenario, (verdict, classification), note)
    };
    let mut cells: Vec<Cell> = run
        .scenarios
        .iter()
        .map(|s| {
            // A violation the server shows on some runs only (a race): reviewed as such, so its
            // cell does not move with the luck of a run.
            let intermittent =
                s.known_failure_reason.as_deref().is_some_and(|r| r.to_ascii_lowercase().starts_with(INTERMITTENT));
            let (verdict, classification, note) = match s.verdict {
                Verdict::KnownFailure | Verdict::FixedKnownFailure if intermittent => {
                    ("intermittent", "violation", s.known_failure_reason.clone().unwrap_or_default())
                }
                Verdict::Pass => ("pass", "pass", String::new()),
                Verdict::FixedKnownFailure => ("pass", UNREVIEWED, "passes, yet listed as a known failure".into()),
                // A listed SHOULD keeps its level: a warning, reviewed.
                Verdict::KnownFailure if s.severity == crate::scenario::Severity::Should => {
                    ("warn", "violation", s.known_failure_reason.clone().unwrap_or_default())
                }
                Verdict::KnownFailure => ("fail", "violation", s.known_failure_reason.clone().unwrap_or_default()),
                Verdict::Fail => ("fail", UNREVIEWED, s.source.clone()),
                Verdict::Warn => ("warn", UNREVIEWED, s.source.clone()),
                Verdict::Info => ("info", "info", s.source.clone()),
                Verdict::Skipped => ("skipped", UNREVIEWED, "not run".into()),
                Verdict::Error => {
                    ("error", "harness error", s.error.as_ref().map(|e| e.message.clone()).unwrap_or_default())
                }
            };
            let evidence = if verdict == "pass" { String::new() } else { evidence(s) };
            cell(&s.id, verdict, classification, note, evidence)
        })
        .collect();
    cells.extend(
        run.not_applicable.iter().map(|n| cell(&n.id, "n/a", "not applicable", n.reason.clone(), String::new())),
    );
    cells.sort_by(|a, b| a.scenario.cmp(&b.scenario));
    cells
}

/// The first failing step of a scenario, in a line: what was sent, what came back, which check.
fn evidence(s: &crate::run::ScenarioResult) -> String {
    let Some(step) = s.steps.iter().find(|st| !st.passed()).or(s.steps.last()) else {
        return String::new();
    };
    let answer = match (&step.response, &step.transport_error) {
        (Some(r), _) => {
            let body: String = crate::diagnostic::inert_line(&r.body).chars().take(160).collect();
            format!("{} {body}", r.status)
        }
        (None, Some(e)) => format!("no answer: {e}"),
        (None, None) => "nothing sent".into(),
    };
    let check = step
        .checks
        .iter()
        .find(|c| !c.passed)
        .map(|c| format!("; {}: expected {}, got {}", c.check, c.expected, c.got))
        .unwrap_or_default();
    let path = step.request.url.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]));
    format!("{}: {} {} → {answer}{check}", step.name, step.request.method, path.unwrap_or(""))
}

impl Matrix {
    /// The committed matrix at `path` (an empty one where there is none yet).
    pub fn read(path: &Path) -> Result<Matrix, Error> {
        match crate::files::read_to_string(path, crate::files::MAX_LEDGER_BYTES) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| Error::input(path.display().to_string(), format!("{}:{}: {e}", e.line(), e.column()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Matrix::default()),
            Err(e) => Err(Error::input(path.display().to_string(), e)),
        }
    }

    /// Writes the matrix into `out` as `matrix.json` and `matrix.md`; returns both paths.
    pub fn write(&self, out: &Path) -> Result<[PathBuf; 2], Error> {
        std::fs::create_dir_all(out).map_err(|e| Error::output(out, e))?;
        let (json, md) = (out.join(MATRIX_JSON), out.join("matrix.md"));
        let text = serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        std::fs::write(&json, text).map_err(|e| Error::output(&json, e))?;
        std::fs::write(&md, render::markdown(self)).map_err(|e| Error::output(&md, e))?;
        Ok([json, md])
    }
}

/// The matrix's file name in its directory.
pub const MATRIX_JSON: &str = "matrix.json";

/// Every cell that differs between `committed` and `now` (verdict or classification), and
/// every unreviewed cell of `now`, one line each.
pub fn differences(committed: &Matrix, now: &Matrix) -> Vec<String> {
    let before: BTreeMap<_, &Cell> = committed.cells.iter().map(|c| (c.key(), c)).collect();
    let after: BTreeMap<_, &Cell> = now.cells.iter().map(|c| (c.key(), c)).collect();
    let name = |k: &(String, String, String, String)| format!("{} {} {} {}", k.0, k.1, k.2, k.3);
    let shown = |c: &Cell| format!("{} ({})", c.verdict, c.classification);
    let mut out = Vec::new();
    let servers_now: Vec<&str> = now.servers.iter().map(|s| s.name.as_str()).collect();
    for (key, old) in &before {
        match after.get(key) {
            Some(new) if new.verdict != old.verdict || new.classification != old.classification => {
                out.push(format!("changed: {}: {} -> {}", name(key), shown(old), shown(new)))
            }
            None if servers_now.contains(&key.0.as_str()) => {
                out.push(format!("gone: {}: was {}", name(key), shown(old)))
            }
            _ => {}
        }
    }
    let servers_before: Vec<&str> = committed.servers.iter().map(|s| s.name.as_str()).collect();
    for server in servers_now.iter().filter(|s| !servers_before.contains(s)) {
        let cells = now.cells.iter().filter(|c| c.server == *server).count();
        out.push(format!("new: server {server}: {cells} cells"));
    }
    for (key, new) in &after {
        if !before.contains_key(key) && servers_before.contains(&key.0.as_str()) {
            out.push(format!("new: {}: {}", name(key), shown(new)));
        }
        if new.classification == UNREVIEWED {
            out.push(format!("unreviewed: {}: {} ({})", name(key), new.verdict, new.note));
        }
    }
    for server in &now.servers {
        let was = committed.servers.iter().find(|s| s.name == server.name);
        for run in server.runs.iter().filter(|r| r.error.is_some()) {
            let committed_error = was.and_then(|w| {
                w.runs.iter().find(|r2| r2.configuration == run.configuration && r2.profile == run.profile)
            });
            if committed_error.and_then(|r| r.error.as_ref()).is_none() {
                out.push(format!(
                    "run error: {} {} {}: {}",
                    server.name,
                    run.configuration,
                    run.profile,
                    run.error.clone().unwrap_or_default()
                ));
            }
        }
        if server.problem.is_some() && was.and_then(|w| w.problem.as_ref()).is_none() {
            out.push(format!("server problem: {}: {}", server.name, server.problem.clone().unwrap_or_default()));
        }
        for run in &server.runs {
            if run.clients_left > 0 {
                out.push(format!(
                    "clients left: {} {} {}: {}",
                    server.name, run.configuration, run.profile, run.clients_left
                ));
            }
        }
    }
    out
}

/// Keeps the committed entries of servers that were not run this time (`--server` picked
/// others), so that a partial run updates only what it ran.
pub fn merged(committed: &Matrix, now: Matrix) -> Matrix {
    let ran: Vec<String> = now.servers.iter().map(|s| s.name.clone()).collect();
    let mut servers: Vec<ServerEntry> =
        committed.servers.iter().filter(|s| !ran.contains(&s.name)).cloned().chain(now.servers).collect();
    servers.sort_by(|a, b| a.name.cmp(&b.name));
    let mut cells: Vec<Cell> =
        committed.cells.iter().filter(|c| !ran.contains(&c.server)).cloned().chain(now.cells).collect();
    cells.sort_by_key(Cell::key);
    Matrix { servers, cells }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(server: &str, scenario: &str, verdict: &str, classification: &str) -> Cell {
        Cell {
            server: server.into(),
            configuration: "default".into(),
            profile: "profile".into(),
            scenario: scenario.into(),
            verdict: verdict.into(),
            classification: classification.into(),
            note: String::new(),
            evidence: String::new(),
        }
    }

    fn server(name: &str) -> ServerEntry {
        ServerEntry {
            name: name.into(),
            package: String::new(),
            version: String::new(),
            homepage: String::new(),
            management: String::new(),
            runs: vec![],
            problem: None,
        }
    }

    fn scenario(
        id: &str,
        verdict: Verdict,
        severity: crate::scenario::Severity,
        reason: Option<&str>,
    ) -> crate::run::ScenarioResult {
        crate::run::ScenarioResult {
            area: crate::scenario::Area::Metadata,
            source: "RFC 7591 §3.2.1".into(),
            known_failure_reason: reason.map(str::to_string),
            ..crate::run::ScenarioResult::bare(id, verdict, severity)
        }
    }

    /// Each verdict of a run becomes the cell a reviewer expects: a listed failure a violation
    /// (a SHOULD's a warning), an unlisted one unreviewed, a listed pass unreviewed (take it
    /// off the list), an intermittent one the same whichever way the run went.
    #[test]
    fn run_verdicts_become_classified_cells() {
        use crate::scenario::Severity::{Must, Should};
        let cases = [
            (scenario("a", Verdict::Pass, Must, None), "pass", "pass"),
            (scenario("b", Verdict::KnownFailure, Must, Some("RFC x")), "fail", "violation"),
            (scenario("c", Verdict::KnownFailure, Should, Some("RFC x")), "warn", "violation"),
            (scenario("d", Verdict::Fail, Must, None), "fail", UNREVIEWED),
            (scenario("e", Verdict::Warn, Should, None), "warn", UNREVIEWED),
            (scenario("f", Verdict::FixedKnownFailure, Must, Some("RFC x")), "pass", UNREVIEWED),
            (scenario("g", Verdict::KnownFailure, Must, Some("Intermittent: a race")), "intermittent", "violation"),
            (
                scenario("h", Verdict::FixedKnownFailure, Must, Some("intermittent: a race")),
                "intermittent",
                "violation",
            ),
        ];
        let mut run = empty_run();
        run.scenarios = cases.iter().map(|(s, _, _)| s.clone()).collect();
        run.not_applicable = vec![crate::run::model::NotApplicable { id: "z".into(), reason: "why".into() }];
        let cells = cells_of(&run, "srv", "default", "p", "http://127.0.0.1:1");
        for (s, verdict, classification) in &cases {
            let cell = cells.iter().find(|c| c.scenario == s.id).expect("a cell per scenario");
            assert_eq!((cell.verdict.as_str(), cell.classification.as_str()), (*verdict, *classification), "{}", s.id);
        }
        let na = cells.iter().find(|c| c.scenario == "z").expect("n/a cell");
        assert_eq!(
            (na.verdict.as_str(), na.classification.as_str(), na.note.as_str()),
            ("n/a", "not applicable", "why")
        );
    }

    fn empty_run() -> RunResult {
        RunResult::empty("", "")
    }

    #[test]
    fn a_moved_new_gone_or_unreviewed_cell_is_a_difference_and_nothing_else_is() {
        let committed = Matrix {
            servers: vec![server("a"), server("b")],
            cells: vec![
                cell("a", "s1", "pass", "pass"),
                cell("a", "s2", "fail", "violation"),
                cell("a", "s3", "pass", "pass"),
                cell("b", "s1", "pass", "pass"),
            ],
        };
        let same = Matrix { servers: vec![server("a")], cells: committed.cells[..3].to_vec() };
        assert!(differences(&committed, &same).is_empty(), "b was not run: nothing of it is gone");
        let mut moved = same.clone();
        moved.cells[0].verdict = "fail".into();
        moved.cells[0].classification = UNREVIEWED.into();
        moved.cells.remove(2);
        moved.cells.push(cell("a", "s4", "n/a", "not applicable"));
        let found = differences(&committed, &moved);
        let kinds: Vec<&str> = found.iter().map(|d| d.split(':').next().unwrap_or_default()).collect();
        assert_eq!(kinds, ["changed", "gone", "unreviewed", "new"], "{found:?}");
        let merged = merged(&committed, same);
        assert_eq!(merged.cells.len(), 4, "b's cells are kept");
    }
}
