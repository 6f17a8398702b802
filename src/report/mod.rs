//! Reporters: each renders the run model ([`crate::run::RunResult`]) and nothing else; a
//! reporter never touches the network or the target. The file reports of a run and of a load
//! are one system: one table of formats, one `--report FORMAT=PATH` convention, one writer. Secrets were redacted when the model was
//! recorded, so no reporter can leak one.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod terminal;

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::run::RunResult;

/// A file report's format: the one table of formats, for a run and a load alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Junit,
    Json,
    Html,
    Markdown,
    Sarif,
}

impl Format {
    pub const ALL: &'static [Format] = &[Format::Junit, Format::Json, Format::Html, Format::Markdown, Format::Sarif];

    /// The name in `--report NAME=PATH`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Junit => "junit",
            Format::Json => "json",
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Sarif => "sarif",
        }
    }

    fn parse(name: &str) -> Option<Format> {
        match name {
            "markdown" => Some(Format::Markdown),
            name => Format::ALL.iter().copied().find(|f| f.name() == name),
        }
    }
}

/// What can be written as file reports: a run's result, a load's report.
pub trait Report {
    /// The formats this report has.
    const FORMATS: &'static [Format];
    /// The report in `format` (one of [`Report::FORMATS`]).
    fn render(&self, format: Format) -> Result<String, Error>;
}

impl Report for RunResult {
    const FORMATS: &'static [Format] = Format::ALL;

    fn render(&self, format: Format) -> Result<String, Error> {
        Ok(match format {
            Format::Junit => junit::render(self),
            Format::Json => json::render(self),
            Format::Html => html::render(self).map_err(|source| Error::Template { report: "HTML", source })?,
            Format::Markdown => markdown::render(self),
            Format::Sarif => sarif::render(self),
        })
    }
}

/// Parses `--report junit=PATH,json=PATH,html=PATH,md=PATH` for a report with `formats`.
pub fn parse_specs(spec: &str, formats: &[Format]) -> Result<Vec<(Format, PathBuf)>, Error> {
    let specs = parse_each(spec, formats)?;
    if specs.iter().filter(|(_, path)| path == Path::new("-")).count() > 1 {
        return Err(Error::input(format!("--report {spec}"), "only one report can go to standard output (`-`)"));
    }
    Ok(specs)
}

fn parse_each(spec: &str, formats: &[Format]) -> Result<Vec<(Format, PathBuf)>, Error> {
    let names = formats.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ");
    spec.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|part| {
            let (name, path) = part.split_once('=').ok_or_else(|| {
                Error::input(format!("--report {part}"), format!("expected KIND=PATH, KIND one of {names}"))
            })?;
            match Format::parse(name.trim()).filter(|f| formats.contains(f)) {
                Some(format) => Ok((format, PathBuf::from(path.trim()))),
                None => Err(Error::input(
                    format!("--report {part}"),
                    format!("unknown report kind `{}` ({names})", name.trim()),
                )),
            }
        })
        .collect()
}

/// Writes every report; one that cannot be written does not stop the others. The first error
/// is returned once all were tried. Directories are made as needed.
pub fn write_all<R: Report>(report: &R, specs: &[(Format, PathBuf)]) -> Result<(), Error> {
    let mut first_error = None;
    for (format, path) in specs {
        if let Err(e) = report.render(*format).and_then(|text| write(path, &text)) {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Checks, before a run, that every report path can be written: its directory made and the
/// file opened for writing (a file that was not there is removed again). A run whose reports
/// would be lost is not started.
pub fn check_writable(specs: &[(Format, PathBuf)]) -> Result<(), Error> {
    // A path the user named that cannot be written is bad input (exit 2), found before the run.
    let unwritable = |path: &Path, e: std::io::Error| Error::input(format!("--report {}", path.display()), e);
    for (_, path) in specs.iter().filter(|(_, p)| p != Path::new("-")) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| unwritable(dir, e))?;
        }
        let existed = path.exists();
        std::fs::OpenOptions::new().append(true).create(true).open(path).map_err(|e| unwritable(path, e))?;
        if !existed {
            let _ = std::fs::remove_file(path);
        }
    }
    Ok(())
}

/// `-` is standard output.
fn write(path: &Path, text: &str) -> Result<(), Error> {
    if path == Path::new("-") {
        use std::io::Write;
        return std::io::stdout().lock().write_all(text.as_bytes()).map_err(Error::Stdout);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    }
    std::fs::write(path, text).map_err(|e| Error::output(path, e))
}

/// What every report says when the run left clients on the target: how many, which, and how
/// to delete them.
pub fn clients_left_notice(run: &RunResult) -> Option<String> {
    let hint = crate::run::model::cleanup_hint(run.ledger.as_deref());
    (!run.clients_left.is_empty()).then(|| {
        format!("{} client(s) left on the target ({}): {hint}", run.clients_left.len(), first_ten(&run.clients_left))
    })
}

/// The notices every report carries above its scenarios, each with its level (`FAIL`, `WARN`,
/// `NOTE`): clients left, clients stranded, origins elsewhere.
pub fn notices(run: &RunResult) -> Vec<(&'static str, String)> {
    [
        ("FAIL", clients_left_notice(run)),
        ("WARN", clients_stranded_notice(run)),
        ("NOTE", origins_elsewhere_notice(run)),
        ("NOTE", faults_notice(run)),
        (if newly_failing(run) { "FAIL" } else { "NOTE" }, baseline_notice(run)),
    ]
    .into_iter()
    .filter_map(|(level, text)| Some((level, text?)))
    .collect()
}

fn newly_failing(run: &RunResult) -> bool {
    run.since_baseline.as_ref().is_some_and(|c| !c.newly_failing.is_empty())
}

/// What changed since the baseline run, in one line (`run --baseline`).
pub fn baseline_notice(run: &RunResult) -> Option<String> {
    let changes = run.since_baseline.as_ref()?;
    let baseline = crate::diagnostic::inert_line(&changes.baseline);
    if changes.is_empty() {
        return Some(format!("nothing changed since the baseline {baseline}"));
    }
    let parts: Vec<String> = changes
        .sections()
        .iter()
        .filter(|(_, list)| !list.is_empty())
        .map(|(heading, list)| {
            let ids: Vec<String> = list.iter().map(|c| format!("{} ({} -> {})", c.id, c.before, c.now)).collect();
            format!("{} {heading}: {}", list.len(), first_ten(&ids))
        })
        .collect();
    Some(format!("since the baseline {baseline}: {}", parts.join("; ")))
}

/// The faults the whole run was held under (`run --fault`): every verdict is the server's under
/// them.
pub fn faults_notice(run: &RunResult) -> Option<String> {
    run.faults.as_ref().map(|faults| {
        format!("the run held these faults in the services it hosts throughout: {faults} (every verdict above is the server's under them)")
    })
}

/// The origins other than the target's that the run sent requests to: where a server placed a
/// client's configuration endpoint (RFC 7592 §3 has the client use it as given), the tokens
/// for that client went there, and the reader must know.
pub fn origins_elsewhere_notice(run: &RunResult) -> Option<String> {
    (!run.origins_elsewhere.is_empty()).then(|| {
        format!(
            "requests went to {} origin(s) other than the target's, where the server placed configuration endpoints (RFC 7592 §3: used as given): {}",
            run.origins_elsewhere.len(),
            first_ten(&run.origins_elsewhere)
        )
    })
}

/// The clients the server itself made undeletable (RFC 7592 §2.1's revocation): not a fault,
/// but the user must know they are there.
pub fn clients_stranded_notice(run: &RunResult) -> Option<String> {
    (!run.clients_stranded.is_empty()).then(|| {
        format!(
            "{} client(s) stranded on the target ({}), through no fault of the server's: each scenario's cleanup says why (a registration access token the server revoked after it was used for another client, as RFC 7592 §2.1 asks; or a profile without management, RFC 7591 alone)",
            run.clients_stranded.len(),
            first_ten(&run.clients_stranded),
        )
    })
}

/// Up to ten ids, and how many more.
fn first_ten(ids: &[String]) -> String {
    // Server-issued ids: on one line, never driving a terminal.
    let shown: Vec<String> = ids.iter().take(10).map(|id| crate::diagnostic::inert_line(id)).collect();
    match ids.len() - shown.len() {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// Counts per verdict, shared by the summaries.
pub(crate) fn counts(run: &RunResult) -> [(&'static str, usize); 8] {
    use crate::run::Verdict::*;
    [
        ("passed", run.count(Pass)),
        ("failed", run.count(Fail)),
        ("warnings", run.count(Warn)),
        ("known failures", run.count(KnownFailure)),
        ("fixed known failures", run.count(FixedKnownFailure)),
        ("skipped", run.count(Skipped)),
        ("errors", run.count(Error)),
        ("information", run.count(Info)),
    ]
}

/// Scenarios grouped by area, in area order of first appearance.
pub(crate) fn by_area(run: &RunResult) -> Vec<(&str, Vec<&crate::run::ScenarioResult>)> {
    let mut groups: Vec<(&str, Vec<&crate::run::ScenarioResult>)> = Vec::new();
    for s in &run.scenarios {
        match groups.iter_mut().find(|(a, _)| *a == s.area.name()) {
            Some((_, list)) => list.push(s),
            None => groups.push((s.area.name(), vec![s])),
        }
    }
    groups
}

/// The first failing check of a scenario (or the harness error that stopped it), in one line.
pub(crate) fn first_failure(s: &crate::run::ScenarioResult) -> Option<String> {
    if let Some(error) = &s.error {
        return Some(error.message.clone());
    }
    s.steps
        .iter()
        .flat_map(|st| st.checks.iter().map(move |c| (st, c)))
        .find(|(_, c)| !c.passed)
        .map(|(st, c)| format!("{}: {}: expected {}, got {}", st.name, c.check, c.expected, c.got))
}
