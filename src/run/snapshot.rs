//! Response snapshots: a step with `snapshot: true` stores its answer (status, chosen headers,
//! JSON body) normalised (volatile values such as ids, secrets, tokens and timestamps become
//! placeholders; keys sorted) under `snapshots/<profile>/<scenario-id>/step-<n>.snap`, in insta's
//! format. A later run compares: a difference fails the check with a unified diff and leaves the
//! new version as `.snap.new` (pending) for `dcr-harness snapshots review` or `accept`. A missing
//! snapshot is written as pending, and fails only under CI (`CI` set), as with insta.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::run::model::redact::is_secret_field;
use crate::run::model::{Check, CheckOutcome};
use crate::scenario::profile::SnapshotRules;
use crate::transport::Response;

/// Where snapshots live and how a run treats them.
#[derive(Debug, Clone)]
pub struct SnapshotOptions {
    pub dir: PathBuf,
    /// Write every snapshot as it now is (`run --update-snapshots`).
    pub update: bool,
    /// A missing snapshot fails (as under CI).
    pub require_existing: bool,
}

impl SnapshotOptions {
    pub fn new(dir: PathBuf, update: bool) -> Self {
        SnapshotOptions { dir, update, require_existing: std::env::var_os("CI").is_some() }
    }
}

/// JSON fields whose values change every run, besides the secrets (each secret field becomes
/// `[field]`), and the placeholder each becomes.
const VOLATILE: &[(&str, &str)] = &[
    ("client_id", "[client_id]"),
    ("registration_client_uri", "[registration_client_uri]"),
    ("client_id_issued_at", "[timestamp]"),
    ("client_secret_expires_at", "[timestamp]"),
];

/// The normalised text of an answer, by the target's `rules`. Volatile texts (`unique`, the
/// base URL) are replaced by their placeholders wherever they appear.
pub fn normalise(response: &Response, volatile_text: &BTreeMap<String, String>, rules: &SnapshotRules) -> String {
    let mut out = format!("status: {}\nheaders:\n", response.status);
    let mut headers: Vec<(String, String)> = response
        .headers
        .iter()
        .filter(|(n, _)| rules.headers.iter().any(|kept| kept.eq_ignore_ascii_case(n)))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    headers.sort();
    for (name, value) in headers {
        out.push_str(&format!("  {name}: {value}\n"));
    }
    let body = match serde_json::from_slice::<Value>(&response.body) {
        Ok(mut json) => {
            scrub(&mut json, &rules.volatile);
            serde_json::to_string_pretty(&json).unwrap_or_default()
        }
        Err(_) => String::from_utf8_lossy(&response.body).into_owned(),
    };
    out.push_str("body:\n");
    out.push_str(&body);
    out.push('\n');
    for (placeholder, value) in volatile_text {
        if value.len() >= 4 {
            out = out.replace(value.as_str(), placeholder);
        }
    }
    out
}

fn scrub(value: &mut Value, extra: &[String]) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let placeholder = VOLATILE
                    .iter()
                    .find(|(field, _)| field == key)
                    .map(|(_, p)| p.to_string())
                    .or_else(|| (is_secret_field(key) || extra.contains(key)).then(|| format!("[{key}]")));
                match placeholder {
                    Some(placeholder) if !v.is_null() => *v = Value::String(placeholder),
                    _ => scrub(v, extra),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| scrub(v, extra)),
        _ => {}
    }
}

/// The file of a step's snapshot.
pub fn path(dir: &Path, profile: &str, scenario: &str, step: usize) -> PathBuf {
    dir.join(profile).join(scenario).join(format!("step-{}.snap", step + 1))
}

fn pending_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".new");
    PathBuf::from(p)
}

fn header(source: &str, scenario: &str, step: usize) -> String {
    format!("---\nsource: {source}\nexpression: \"{scenario} step {}\"\n---\n", step + 1)
}

/// The content of a snapshot file, without its header.
fn content(file_text: &str) -> &str {
    match file_text.strip_prefix("---\n").and_then(|rest| rest.find("\n---\n").map(|i| &rest[i + 5..])) {
        Some(body) => body,
        None => file_text,
    }
}

/// A snapshot (or its pending file) that could not be written: its directory, or itself.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", .path.display())]
struct WriteError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// Compares (or records) a step's answer; the outcome is the snapshot check.
pub fn check(
    options: &SnapshotOptions,
    profile: &str,
    scenario: &str,
    source: &str,
    step: usize,
    text: &str,
) -> CheckOutcome {
    let path = path(&options.dir, profile, scenario, step);
    let pending = pending_path(&path);
    let file = format!("{}{text}", header(source, scenario, step));
    let write = |to: &Path| -> Result<(), WriteError> {
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|source| WriteError { path: dir.to_path_buf(), source })?;
        }
        std::fs::write(to, &file).map_err(|source| WriteError { path: to.to_path_buf(), source })
    };
    // The check's text says why a file could not be written.
    let unwritten = |to: &Path| write(to).err().map(|e| e.to_string()).unwrap_or_default();
    let name = Check::Snapshot(path.display().to_string());
    if options.update {
        let _ = std::fs::remove_file(&pending);
        return match write(&path) {
            Ok(()) => CheckOutcome::new(name, true, "written", "written"),
            Err(e) => CheckOutcome::new(name, false, "written", e.to_string()),
        };
    }
    match std::fs::read_to_string(&path) {
        Ok(stored) if content(&stored) == text => {
            let _ = std::fs::remove_file(&pending);
            CheckOutcome::new(name, true, "unchanged", "unchanged")
        }
        Ok(stored) => {
            let written = unwritten(&pending);
            let diff = diff(content(&stored), text);
            CheckOutcome::new(
                name,
                false,
                "unchanged",
                format!("changed (pending in {}){written}\n{diff}", pending.display()),
            )
        }
        Err(_) => {
            let written = unwritten(&pending);
            let passed = !options.require_existing && written.is_empty();
            CheckOutcome::new(
                name,
                passed,
                "a stored snapshot",
                format!("new, pending in {} {written}", pending.display()),
            )
        }
    }
}

/// A unified diff of two snapshot texts.
pub fn diff(old: &str, new: &str) -> String {
    diff_of("stored", old, "now", new)
}

/// A unified diff of two texts under the names given for each.
pub fn diff_of(old_name: &str, old: &str, new_name: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}

/// Every pending snapshot under `dir` (optionally of one scenario), sorted.
pub fn pending(dir: &Path, scenario: Option<&str>) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(".snap.new") {
                let of_scenario =
                    scenario.is_none_or(|id| p.parent().and_then(|d| d.file_name()).is_some_and(|n| n == id));
                if of_scenario {
                    found.push(p);
                }
            }
        }
    }
    found.sort();
    found
}

fn accept_one(pending: &Path) -> std::io::Result<()> {
    let target = PathBuf::from(pending.to_string_lossy().trim_end_matches(".new").to_string());
    std::fs::rename(pending, target)
}

/// Accepts pending snapshots (all, or one scenario's); returns how many.
pub fn accept(dir: &Path, scenario: Option<&str>) -> std::io::Result<usize> {
    let list = pending(dir, scenario);
    for p in &list {
        accept_one(p)?;
    }
    Ok(list.len())
}

/// Walks the pending snapshots, shows each diff, and asks: accept, reject or skip.
pub fn review(dir: &Path, input: &mut impl BufRead, output: &mut impl Write) -> std::io::Result<(usize, usize)> {
    let (mut accepted, mut rejected) = (0, 0);
    for p in pending(dir, None) {
        let new = std::fs::read_to_string(&p)?;
        let stored_path = PathBuf::from(p.to_string_lossy().trim_end_matches(".new").to_string());
        let old = std::fs::read_to_string(&stored_path).unwrap_or_default();
        writeln!(output, "\n{}", stored_path.display())?;
        writeln!(output, "{}", diff(content(&old), content(&new)))?;
        write!(output, "[a]ccept, [r]eject, [s]kip? ")?;
        output.flush()?;
        let mut answer = String::new();
        input.read_line(&mut answer)?;
        match answer.trim() {
            "a" | "accept" => {
                accept_one(&p)?;
                accepted += 1;
            }
            "r" | "reject" => {
                std::fs::remove_file(&p)?;
                rejected += 1;
            }
            _ => {}
        }
    }
    Ok((accepted, rejected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_hides_what_changes_and_keeps_what_matters() {
        let response = Response {
            status: 201,
            headers: vec![
                ("Cache-Control".into(), "no-store".into()),
                ("date".into(), "Tue, 24 Nov 2026 19:11:14 GMT".into()),
                ("content-type".into(), "application/json".into()),
            ],
            body: br#"{"client_secret":"s3cr3t-value","client_id":"abc123","client_name":"dcr-harness Zx81q","nested":{"registration_access_token":"rat-x"},"client_secret_expires_at":1799999999}"#.to_vec(),
            elapsed: std::time::Duration::ZERO,
            truncated: false,
            certificate_requested: None,
        };
        let vars = BTreeMap::from([("[unique]".to_string(), "Zx81q".to_string())]);
        let text = normalise(&response, &vars, &SnapshotRules::default());
        assert!(
            !text.contains("s3cr3t") && !text.contains("abc123") && !text.contains("rat-x") && !text.contains("Zx81q"),
            "{text}"
        );
        assert!(text.contains("\"client_name\": \"dcr-harness [unique]\""), "{text}");
        assert!(text.contains("cache-control: no-store") && !text.contains("date:"), "{text}");
        assert!(text.find("\"client_id\"") < text.find("\"client_name\""), "keys sorted: {text}");
    }

    #[test]
    fn profile_rules_choose_headers_and_extra_volatile_fields() {
        let response = Response {
            status: 200,
            headers: vec![("x-request-id".into(), "r-1".into()), ("cache-control".into(), "no-store".into())],
            body: br#"{"software_statement_id":"ss-991","client_name":"x"}"#.to_vec(),
            elapsed: std::time::Duration::ZERO,
            truncated: false,
            certificate_requested: None,
        };
        let rules =
            SnapshotRules { headers: vec!["X-Request-ID".into()], volatile: vec!["software_statement_id".into()] };
        let text = normalise(&response, &BTreeMap::new(), &rules);
        assert!(text.contains("x-request-id: r-1") && !text.contains("cache-control"), "{text}");
        assert!(text.contains("\"software_statement_id\": \"[software_statement_id]\""), "{text}");
    }

    #[test]
    fn the_header_is_not_part_of_the_comparison() {
        let file = format!("{}status: 201\n", header("scenarios/x.yaml", "x", 0));
        assert_eq!(content(&file), "status: 201\n");
    }
}
