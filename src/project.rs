//! Which project a command works in, and the directories that follow from it. A project is a
//! directory with a `dcr-harness.toml` (found by walking up from the working directory, or
//! given with `--root` / `DCR_HARNESS_ROOT`); its `scenarios/`, `profiles/`, `load/` and
//! `fixtures/` add to or override the built-in suite's, file by file. Without a project the
//! built-in suite runs alone. It decides where things are; it never reads a scenario.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::scenario::Fixtures;
use crate::suite::Layout;

/// The file that marks a project's directory.
pub const MARKER: &str = "dcr-harness.toml";

/// A project's settings (`dcr-harness.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Build on the built-in suite (true), or use only this project's files (false).
    #[serde(default = "yes")]
    pub builtin: bool,
    /// The PKI directory, relative to the project (default `fixtures/pki`).
    #[serde(default)]
    pub pki: Option<PathBuf>,
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        Settings { builtin: true, pki: None }
    }
}

/// Why the project could not be settled.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{}: {message}", .path.display())]
    Settings { path: PathBuf, message: String },
    #[error("--root {}: not a directory", .0.display())]
    NoDirectory(PathBuf),
    #[error(transparent)]
    Builtin(#[from] crate::assets::MaterializeError),
    #[error("no project here (no {MARKER} in this directory or above) and nowhere to keep the built-in suite: set DCR_HARNESS_HOME or HOME")]
    NoHome,
}

/// The project a command works in.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project's directory; none when the built-in suite runs alone.
    pub dir: Option<PathBuf>,
    /// The built-in suite written out, when the project builds on it.
    pub builtin: Option<PathBuf>,
    /// Where the PKI is.
    pub pki: PathBuf,
    /// Where run state is kept (ledgers).
    pub state: PathBuf,
}

impl Project {
    /// `explicit` (`--root`), else the nearest directory above `cwd` with a [`MARKER`], else none;
    /// the built-in suite is written under `home` ([`crate::assets::home`]).
    /// The project for a command run in `cwd`, with `DCR_HARNESS_HOME` (or the default home)
    /// for the built-in suite.
    pub fn find_here(explicit: Option<&Path>, cwd: &Path) -> Result<Project, ProjectError> {
        Project::find(explicit, cwd, crate::assets::home().as_deref())
    }

    pub fn find(explicit: Option<&Path>, cwd: &Path, home: Option<&Path>) -> Result<Project, ProjectError> {
        let dir = match explicit {
            Some(dir) if !dir.is_dir() => return Err(ProjectError::NoDirectory(dir.to_path_buf())),
            Some(dir) => Some(dir.to_path_buf()),
            None => cwd.ancestors().find(|d| d.join(MARKER).is_file()).map(Path::to_path_buf),
        };
        let Some(dir) = dir else {
            let home = home.ok_or(ProjectError::NoHome)?;
            let builtin = crate::assets::materialize(home)?;
            return Ok(Project { dir: None, builtin: Some(builtin), pki: home.join("pki"), state: home.to_path_buf() });
        };
        let settings = settings(&dir)?;
        let builtin = match settings.builtin {
            true => Some(crate::assets::materialize(home.ok_or(ProjectError::NoHome)?)?),
            false => None,
        };
        let pki = dir.join(settings.pki.as_deref().unwrap_or(Path::new("fixtures/pki")));
        Ok(Project { builtin, pki, state: dir.join(".dcr-harness"), dir: Some(dir) })
    }

    /// The directories of everything a command reads and writes.
    pub fn layout(&self) -> Layout {
        // Lookups by name: the project's first. Scenarios: the built-in first, so that the
        // project's file of the same name replaces it.
        let looked_up = |sub: &str| -> Vec<PathBuf> {
            self.dir.iter().chain(&self.builtin).map(|d| d.join(sub)).filter(|d| d.is_dir()).collect()
        };
        let mut scenarios: Vec<PathBuf> = self.builtin.iter().chain(&self.dir).map(|d| d.join("scenarios")).collect();
        scenarios.retain(|d| d.is_dir());
        if scenarios.is_empty() {
            // Nothing to read: let the loader say where it looked.
            scenarios = self.dir.iter().map(|d| d.join("scenarios")).collect();
        }
        let clauses = self.builtin.iter().chain(&self.dir).map(|d| d.join("clauses")).filter(|d| d.is_dir()).collect();
        let writable = self.dir.as_ref().or(self.builtin.as_ref()).cloned().unwrap_or_default();
        Layout {
            scenarios,
            scenario_files: vec![],
            profiles: looked_up("profiles"),
            load: looked_up("load"),
            clauses,
            fixtures: Fixtures(looked_up("fixtures")),
            snapshots: self.dir.iter().chain(&self.builtin).map(|d| d.join("snapshots")).collect(),
            pki: self.pki.clone(),
            ledgers: self.state.join("ledgers"),
            root: writable,
        }
    }
}

/// A project directory's settings: its `dcr-harness.toml`, or, for a directory without one
/// given by `--root`, a whole suite of its own if it has `scenarios/` (a copy of this
/// repository), else the built-in suite with its additions.
fn settings(dir: &Path) -> Result<Settings, ProjectError> {
    let path = dir.join(MARKER);
    match crate::files::read_to_string(&path, crate::files::MAX_INPUT_BYTES) {
        Ok(text) => toml::from_str(&text).map_err(|e| ProjectError::Settings { path, message: located(&text, &e) }),
        Err(_) => Ok(Settings { builtin: !dir.join("scenarios").is_dir(), pki: None }),
    }
}

/// A TOML error as `line:col: message`.
fn located(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().to_string();
    match e.span() {
        Some(span) => {
            let (line, col) = crate::diagnostic::line_col(&text.as_bytes()[..span.start.min(text.len())]);
            format!("{line}:{col}: {message}")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_home<T>(f: impl FnOnce(&Path) -> T) -> T {
        let home = tempfile::tempdir().expect("tempdir");
        f(home.path())
    }

    #[test]
    fn outside_any_project_the_built_in_suite_runs_alone() {
        with_home(|home| {
            let empty = tempfile::tempdir().expect("tempdir");
            let p = Project::find(None, empty.path(), Some(home)).expect("project");
            let layout = p.layout();
            assert_eq!(p.dir, None);
            assert!(layout.scenarios[0].starts_with(home) && layout.scenarios.len() == 1, "{:?}", layout.scenarios);
            assert_eq!(layout.pki, home.join("pki"));
            assert_eq!(layout.ledgers, home.join("ledgers"));
        })
    }

    #[test]
    fn a_project_is_found_above_and_layers_over_the_built_in_suite() {
        with_home(|home| {
            let project = tempfile::tempdir().expect("tempdir");
            std::fs::write(project.path().join(MARKER), "builtin = true\n").expect("write");
            std::fs::create_dir_all(project.path().join("profiles")).expect("mkdir");
            std::fs::create_dir_all(project.path().join("deep/er")).expect("mkdir");
            let p = Project::find(None, &project.path().join("deep/er"), Some(home)).expect("project");
            assert_eq!(p.dir.as_deref(), Some(project.path()));
            let layout = p.layout();
            assert_eq!(layout.profiles[0], project.path().join("profiles"), "the project's profiles first");
            assert_eq!(layout.profiles.len(), 2);
            assert_eq!(layout.pki, project.path().join("fixtures/pki"));
        })
    }

    #[test]
    fn a_broken_settings_file_names_line_and_column() {
        let project = tempfile::tempdir().expect("tempdir");
        std::fs::write(project.path().join(MARKER), "builtin = true\nbuiltins = false\n").expect("write");
        let e = Project::find(Some(project.path()), project.path(), None).expect_err("unknown key");
        assert!(e.to_string().contains("dcr-harness.toml: 2:1: unknown field `builtins`"), "{e}");
    }
}
