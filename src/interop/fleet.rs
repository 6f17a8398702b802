//! The fleet: the servers in `foreign/` as their `server.yaml` manifests describe them, and their
//! launchers (`scripts/foreign/NAME.sh`), run as child processes from the project root on
//! 127.0.0.1. It starts and stops; it never judges.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;

/// A server of the fleet, as its `server.yaml` describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub package: String,
    #[serde(default)]
    pub homepage: String,
    #[serde(default)]
    pub management: Option<String>,
    pub configurations: Vec<Configuration>,
}

/// One way a server is configured, and the profiles run against it.
#[derive(Debug, Clone, Deserialize)]
pub struct Configuration {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub profiles: Vec<PathBuf>,
    #[serde(default)]
    pub known_failures: Option<PathBuf>,
    /// Environment variables the suite needs, each read from a file the launcher's `start`
    /// wrote in its state directory (a token the server made at start, say).
    #[serde(default)]
    pub env_from_state: BTreeMap<String, String>,
    /// Scenarios at once (default 2; 1 for a server whose answers depend on how many requests
    /// it serves together, such as one with a registration race).
    #[serde(default)]
    pub jobs: Option<usize>,
    /// Load profiles run against it with the negative scenarios of its first profile beside
    /// them (`load --with-suite`), each a run of its own in the matrix (`NAME under load`).
    #[serde(default)]
    pub load: Vec<PathBuf>,
}

/// The fleet: every `foreign/*/server.yaml` under `root`, by name.
pub fn fleet(root: &Path) -> Result<Vec<Manifest>, Error> {
    let dir = root.join("foreign");
    let entries = std::fs::read_dir(&dir).map_err(|e| Error::input(dir.display().to_string(), e))?;
    let mut paths: Vec<PathBuf> =
        entries.filter_map(|e| e.ok()).map(|e| e.path().join("server.yaml")).filter(|p| p.is_file()).collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = crate::diagnostic::read_yaml_text(path).map_err(|e| Error::input("fleet", e))?;
            serde_norway::from_str(&text)
                .map_err(|e| Error::input("fleet", crate::diagnostic::located(path, &text, &e)))
        })
        .collect()
}

/// Why a launcher did not do what it was asked; the matrix keeps its `Display` as the server's
/// or the run's problem.
#[derive(Debug, thiserror::Error)]
pub(super) enum LauncherError {
    #[error("{}: {source}", .script.display())]
    Spawn {
        script: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The launcher ran and failed: the last lines of what it wrote to standard error.
    #[error("`{name}.sh {args}` failed ({status}): {tail}")]
    Failed { name: String, args: String, status: std::process::ExitStatus, tail: String },
    /// The task that ran it panicked or was cancelled.
    #[error("{0}")]
    Task(#[source] tokio::task::JoinError),
}

/// A launcher (`scripts/foreign/NAME.sh`) run with `args` from the project root: its first line
/// of output, or what went wrong.
pub(super) fn launcher(
    root: &Path,
    name: &str,
    args: &[&str],
    env: &[(&str, String)],
) -> Result<String, LauncherError> {
    let script = root.join("scripts/foreign").join(format!("{name}.sh"));
    let output = std::process::Command::new("bash")
        .arg(&script)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| LauncherError::Spawn { script: script.clone(), source })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    match output.status.success() {
        true => Ok(stdout.lines().next().unwrap_or_default().trim().to_string()),
        false => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            Err(LauncherError::Failed {
                name: name.to_string(),
                args: args.join(" "),
                status: output.status,
                tail: tail.join(" / "),
            })
        }
    }
}

/// A free port on 127.0.0.1 (free when asked: the server binds it a moment later).
pub(super) fn free_port() -> Result<u16, Error> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| Error::input("a free port", e))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| Error::input("a free port", e))
}
