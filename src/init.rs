//! `dcr-harness init`: the starter project a bank team edits (settings, a target profile, a
//! known-failures file, a CI workflow, the JSON Schemas for editors). It writes files; it never
//! overwrites one that exists and never runs anything.

use std::path::{Path, PathBuf};

/// Each file of the starter project: where it goes, and what it holds.
fn files() -> Vec<(&'static str, String)> {
    vec![
        (crate::project::MARKER, include_str!("../templates/init/dcr-harness.toml").into()),
        ("profiles/my-bank.yaml", include_str!("../templates/init/profiles/my-bank.yaml").into()),
        ("known-failures.yaml", include_str!("../templates/init/known-failures.yaml").into()),
        (
            ".github/workflows/dcr-harness.yml",
            include_str!("../templates/init/.github/workflows/dcr-harness.yml").into(),
        ),
        (".gitignore", include_str!("../templates/init/gitignore").into()),
        ("schemas/profile.schema.json", crate::scenario::profile_schema()),
        ("schemas/scenario.schema.json", crate::scenario::scenario_schema()),
    ]
}

/// Why the starter project was not written.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{} already exist(s) in {}: nothing written (move them aside, or init another directory)", .existing.join(", "), .dir.display())]
    Exists { dir: PathBuf, existing: Vec<String> },
    #[error("cannot write {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes the starter project into `dir` (created if needed); returns the files written. When
/// any of them exists already, writes none.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, InitError> {
    let files = files();
    let existing: Vec<String> =
        files.iter().filter(|(path, _)| dir.join(path).exists()).map(|(path, _)| path.to_string()).collect();
    if !existing.is_empty() {
        return Err(InitError::Exists { dir: dir.to_path_buf(), existing });
    }
    let mut written = Vec::new();
    for (path, contents) in files {
        let path = dir.join(path);
        let io = |source| InitError::Io { path: path.clone(), source };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, contents).map_err(io)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_project_is_written_once_and_its_profile_loads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let written = init(dir.path()).expect("init");
        assert_eq!(written.len(), files().len());
        let profile = crate::scenario::Profile::load("my-bank", &[dir.path().join("profiles")]).expect("profile");
        assert_eq!(profile.name, "my-bank");
        for yaml in [".github/workflows/dcr-harness.yml", "known-failures.yaml"] {
            let text = std::fs::read_to_string(dir.path().join(yaml)).expect("read");
            serde_norway::from_str::<serde_norway::Value>(&text).unwrap_or_else(|e| panic!("{yaml}: {e}"));
        }
        let settings = std::fs::read_to_string(dir.path().join(crate::project::MARKER)).expect("read");
        assert!(toml::from_str::<crate::project::Settings>(&settings).expect("settings").builtin);
        let again = init(dir.path()).expect_err("exists").to_string();
        assert!(again.contains("dcr-harness.toml") && again.contains("nothing written"), "{again}");
    }
}
