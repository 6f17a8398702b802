//! The suite as shipped: the scenarios, target profiles, load profiles, fixtures and response
//! snapshots of this repository, compiled into the binary and written out once per build to a
//! data directory, so that the tool works from any directory. It owns what is embedded and
//! where it is written; it must not decide which project a command uses (that is `project`).

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};
use sha2::Digest;

static SCENARIOS: Dir = include_dir!("$CARGO_MANIFEST_DIR/scenarios");
static PROFILES: Dir = include_dir!("$CARGO_MANIFEST_DIR/profiles");
static LOAD: Dir = include_dir!("$CARGO_MANIFEST_DIR/load");
static METADATA: Dir = include_dir!("$CARGO_MANIFEST_DIR/fixtures/metadata");
static SCENARIO_FIXTURES: Dir = include_dir!("$CARGO_MANIFEST_DIR/fixtures/scenarios");
static SNAPSHOTS: Dir = include_dir!("$CARGO_MANIFEST_DIR/snapshots");
static CLAUSES: Dir = include_dir!("$CARGO_MANIFEST_DIR/clauses");

/// Each embedded directory and where it goes in a suite directory.
fn parts() -> [(&'static str, &'static Dir<'static>); 7] {
    [
        ("scenarios", &SCENARIOS),
        ("profiles", &PROFILES),
        ("load", &LOAD),
        ("fixtures/metadata", &METADATA),
        ("fixtures/scenarios", &SCENARIO_FIXTURES),
        ("snapshots", &SNAPSHOTS),
        ("clauses", &CLAUSES),
    ]
}

/// Every embedded file as (path in a suite directory, contents), in a stable order.
pub fn files() -> Vec<(PathBuf, &'static [u8])> {
    let mut out = Vec::new();
    for (at, dir) in parts() {
        collect(dir, Path::new(at), &mut out);
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn collect(dir: &'static Dir<'static>, at: &Path, out: &mut Vec<(PathBuf, &'static [u8])>) {
    for file in dir.files() {
        out.push((at.join(file.path().file_name().unwrap_or_default()), file.contents()));
    }
    for sub in dir.dirs() {
        collect(sub, &at.join(sub.path().file_name().unwrap_or_default()), out);
    }
}

/// A short digest of every embedded path and byte: a suite directory is named by it, so that a
/// build with other scenarios never reads an older build's.
fn fingerprint_of(files: &[(PathBuf, &'static [u8])]) -> String {
    let mut hash = sha2::Sha256::new();
    for (path, contents) in files {
        hash.update(path.to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update((contents.len() as u64).to_be_bytes());
        hash.update(contents);
    }
    hex::encode(&hash.finalize()[..6])
}

/// Why the shipped suite could not be written out.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the built-in suite to {}: {source} (set DCR_HARNESS_HOME to a writable directory)", .path.display())]
pub struct MaterializeError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The shipped suite as a directory under `home` (written on first use, then reused): its
/// `scenarios/`, `profiles/`, `load/`, `fixtures/` and `snapshots/`.
pub fn materialize(home: &Path) -> Result<PathBuf, MaterializeError> {
    let files = files();
    let fingerprint = fingerprint_of(&files);
    let dir = home.join(format!("suite-{}-{fingerprint}", env!("CARGO_PKG_VERSION")));
    if dir.join(COMPLETE).exists() {
        return Ok(dir);
    }
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MaterializeError { path, source }
    };
    // Written aside and renamed into place, so that a process stopped half-way, or another
    // writing at the same moment, never leaves a partial suite under the final name.
    let staging = home.join(format!(".suite-staging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    for (path, contents) in files {
        let file = staging.join(&path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(fail(parent))?;
        }
        std::fs::write(&file, contents).map_err(fail(&file))?;
    }
    std::fs::write(staging.join(COMPLETE), fingerprint).map_err(fail(&staging))?;
    match std::fs::rename(&staging, &dir) {
        Ok(()) => Ok(dir),
        // Another process got there first: its copy is as good.
        Err(_) if dir.join(COMPLETE).exists() => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(dir)
        }
        Err(source) => Err(MaterializeError { path: dir, source }),
    }
}

/// Written last into a suite directory: its presence means the copy is whole.
const COMPLETE: &str = ".complete";

/// Where the tool keeps what it writes outside a project (the built-in suite, its PKI, its
/// ledgers): `DCR_HARNESS_HOME`, else `$XDG_DATA_HOME/dcr-harness`, else
/// `~/.local/share/dcr-harness`.
pub fn home() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("DCR_HARNESS_HOME")
        .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("dcr-harness")))
        .or_else(|| var("HOME").map(|h| h.join(".local/share/dcr-harness")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_suite_is_this_repository_s() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let files = files();
        assert!(files.iter().any(|(p, _)| p == Path::new("profiles/reference.yaml")));
        for (path, contents) in &files {
            assert_eq!(std::fs::read(root.join(path)).ok().as_deref(), Some(*contents), "{}", path.display());
        }
    }

    #[test]
    fn a_suite_is_written_once_whole_and_then_reused() {
        let home = tempfile::tempdir().expect("tempdir");
        let dir = materialize(home.path()).expect("materialize");
        assert!(dir.join("scenarios").is_dir() && dir.join("fixtures/metadata/minimal.json").is_file());
        std::fs::write(dir.join("profiles/marker"), "kept").expect("write");
        assert_eq!(materialize(home.path()).expect("again"), dir);
        assert!(dir.join("profiles/marker").exists(), "a whole suite is reused, not rewritten");
        let entries = std::fs::read_dir(home.path()).expect("list").count();
        assert_eq!(entries, 1, "no staging directory is left behind");
    }
}
