//! Scenarios and target profiles: the serde model, the strict loader (unknown keys, wrong
//! types, unknown identities, mutations, clients and captures, duplicate ids, all reported with
//! `file:line:col` and all at once), templates, and the filters that pick what runs.
//! It reads files and checks them; it never sends anything.

pub mod applicability;
pub mod model;
pub mod profile;
pub mod template;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use crate::diagnostic::{yaml_text, YamlTextError};
pub use crate::protocol::Policy;
pub use model::*;
pub use profile::Profile;

/// Everything wrong with the scenario files, one `file:line:col: message` each.
#[derive(Debug, thiserror::Error)]
#[error("{} problem(s) in the scenarios:\n{}", .problems.len(), .problems.join("\n"))]
pub struct LoadError {
    pub problems: Vec<String>,
}

/// Why one scenario file, or a directory of them, could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{}: {source}", .dir.display())]
    Dir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Text(#[from] crate::diagnostic::YamlTextError),
    /// What serde found wrong, located: `file:line:col: message`, the line drawn under it.
    #[error("{0}")]
    Yaml(String),
    #[error("{}:1:1: holds no scenarios (a scenario file is a list of them)", .0.display())]
    Empty(PathBuf),
}

/// Where `body_file` paths are looked up: the first directory holding the file wins (a
/// project's own fixtures, then the built-in suite's).
#[derive(Debug, Clone, Default)]
pub struct Fixtures(pub Vec<PathBuf>);

impl Fixtures {
    pub fn at(dir: PathBuf) -> Fixtures {
        Fixtures(vec![dir])
    }

    /// The file's path in the first directory that has it (in the first directory if none
    /// does, so that the error names where it was expected).
    pub fn path(&self, file: impl AsRef<Path>) -> PathBuf {
        let file = file.as_ref();
        let candidates = || self.0.iter().map(|dir| dir.join(file));
        candidates().find(|p| p.exists()).or_else(|| candidates().next()).unwrap_or_else(|| file.to_path_buf())
    }

    /// Reads a fixture, confined to the fixture directories: the name must be relative and
    /// stay below them (no `..`, no absolute path), and where it resolves (through a symbolic
    /// link, say) must too, so that a scenario cannot send a file of the machine to a target.
    pub fn read(&self, file: impl AsRef<Path>) -> std::io::Result<String> {
        let file = file.as_ref();
        let refuse = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, why);
        if let Some(why) = outside_fixtures(file) {
            return Err(refuse(why));
        }
        let path = self.path(file);
        let resolved = path.canonicalize()?;
        let inside = self.0.iter().filter_map(|dir| dir.canonicalize().ok()).any(|dir| resolved.starts_with(dir));
        if !inside {
            return Err(refuse(format!("{} resolves to {}, outside the fixtures", file.display(), resolved.display())));
        }
        crate::files::read_to_string(&resolved, crate::files::MAX_INPUT_BYTES)
    }
}

/// Why a fixture name would leave the fixture directories, if it would.
pub fn outside_fixtures(file: &Path) -> Option<String> {
    use std::path::Component;
    let escapes = file.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    (escapes || file.as_os_str().is_empty()).then(|| {
        format!(
            "`{}` is not a path inside fixtures/ (relative, without `..`): a body file is a fixture",
            file.display()
        )
    })
}

/// Loads every `*.yaml` of every directory, a later directory's file replacing an earlier
/// one's of the same name (a project overriding the built-in suite file by file).
pub fn load_dirs(dirs: &[PathBuf]) -> Result<Vec<Scenario>, LoadError> {
    let mut by_name: BTreeMap<std::ffi::OsString, PathBuf> = BTreeMap::new();
    let mut problems = Vec::new();
    for dir in dirs {
        match yaml_files(dir) {
            Ok(files) => {
                for file in files {
                    by_name.insert(file.file_name().unwrap_or_default().to_os_string(), file);
                }
            }
            Err(problem) => problems.push(problem.to_string()),
        }
    }
    if !problems.is_empty() {
        return Err(LoadError { problems });
    }
    load_files(&by_name.into_values().collect::<Vec<_>>())
}

fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, FileError> {
    crate::files::yaml_files(dir).map_err(|source| FileError::Dir { dir: dir.to_path_buf(), source })
}

/// Loads every `*.yaml` under `dir` (sorted), each a list of scenarios.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, LoadError> {
    load_dirs(&[dir.to_path_buf()])
}

pub fn load_files(files: &[PathBuf]) -> Result<Vec<Scenario>, LoadError> {
    let mut problems = Vec::new();
    let mut scenarios = Vec::new();
    for file in files {
        match load_file(file) {
            Ok(mut s) => scenarios.append(&mut s),
            Err(p) => problems.push(p.to_string()),
        }
    }
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for s in &scenarios {
        let here = format!("{}:{}:1", s.file.display(), s.line);
        if let Some(first) = seen.insert(s.id.clone(), here.clone()) {
            problems.push(format!("{here}: duplicate scenario id `{}` (first at {first})", s.id));
        }
    }
    if problems.is_empty() {
        Ok(scenarios)
    } else {
        Err(LoadError { problems })
    }
}

fn load_file(path: &Path) -> Result<Vec<Scenario>, FileError> {
    parse_file(path, &crate::diagnostic::read_yaml_text(path)?)
}

/// The scenarios of one file's text (`path` names it in messages and in each scenario).
pub fn parse_file(path: &Path, text: &str) -> Result<Vec<Scenario>, FileError> {
    let mut scenarios: Vec<Scenario> =
        serde_norway::from_str(text).map_err(|e| FileError::Yaml(crate::diagnostic::located(path, text, &e)))?;
    if scenarios.is_empty() {
        return Err(FileError::Empty(path.to_path_buf()));
    }
    let lines = id_lines(text);
    for s in &mut scenarios {
        s.file = path.to_path_buf();
        s.line = lines.get(s.id.as_str()).copied().unwrap_or(1);
    }
    Ok(scenarios)
}

/// The 1-based line of each `id: X` (its first), found in one pass.
fn id_lines(text: &str) -> BTreeMap<&str, usize> {
    let mut lines = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let rest = line.trim_start().trim_start_matches('-').trim_start();
        if let Some(id) = rest.strip_prefix("id:") {
            let id = id.trim().trim_matches(|c| c == '"' || c == '\'');
            lines.entry(id).or_insert(i + 1);
        }
    }
    lines
}

/// Checks what serde cannot: identities exist, clients and captures are defined before use,
/// rejection kinds are known to the profile, mutations only where there is a signature.
pub fn validate(
    scenarios: &[Scenario],
    identities: &BTreeSet<String>,
    tpps: &BTreeSet<String>,
    profile: &Profile,
) -> Vec<String> {
    let mut problems = Vec::new();
    for s in scenarios {
        let at = |step: usize, message: String| {
            format!("{}:{}:1: scenario `{}` step {}: {message}", s.file.display(), s.line, s.id, step + 1)
        };
        let mut clients: BTreeSet<String> = BTreeSet::new();
        let mut vars: BTreeSet<String> = template::builtin_names(profile);
        if s.steps.is_empty() {
            problems.push(format!("{}:{}:1: scenario `{}` has no steps", s.file.display(), s.line, s.id));
        }
        problems.extend(policy_problem(s));
        for (i, step) in s.steps.iter().enumerate() {
            let r = &step.request;
            for (what, who) in [("TLS identity", &r.tls), ("signing identity", &r.sign)] {
                if let Some(name) = who.as_ref().and_then(Who::name) {
                    if !identities.contains(name) {
                        problems.push(at(i, format!("unknown {what} `{name}`; known: {}", join(identities))));
                    }
                }
            }
            if matches!(r.credentials, Some(Who::Role(_))) {
                problems.push(at(i, "`credentials` names a TPP or `none`, not a role".into()));
            }
            if let Some(tpp) = r.credentials.as_ref().and_then(Who::name) {
                if !tpps.contains(tpp) {
                    problems.push(at(i, format!("unknown TPP `{tpp}` for credentials; known: {}", join(tpps))));
                }
            }
            let needs_client =
                !matches!(r.op, Operation::Register | Operation::Raw | Operation::Resource | Operation::Handshake);
            let handshake = r.op == Operation::Handshake;
            if handshake != r.tls_version.is_some() || handshake != step.expect.handshake.is_some() {
                problems.push(at(
                    i,
                    "`tls_version` and `expect: { handshake: ... }` go with `handshake`, and only with it".into(),
                ));
            }
            if !r.cipher_suites.is_empty() && !handshake {
                problems.push(at(i, "`cipher_suites` goes with `handshake` only".into()));
            }
            for suite in r.cipher_suites.iter().filter(|s| crate::tls_probe::cipher_suite(s).is_none()) {
                problems.push(at(i, format!("unknown cipher suite `{suite}` (a name of the TLS registry, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)")));
            }
            let about_a_token = matches!(r.op, Operation::Introspect | Operation::Resource);
            if about_a_token != r.token.is_some() {
                problems.push(at(
                    i,
                    "`token` (the access token asked about) goes with `introspect` and `resource`, and only with them"
                        .into(),
                ));
            }
            let client = r.client_name();
            if needs_client && !clients.contains(client) {
                problems.push(at(
                    i,
                    format!("operation {:?} on client `{client}`, which no earlier step registered", r.op),
                ));
            }
            if r.other_id.is_some()
                && !matches!(r.op, Operation::Read | Operation::Update | Operation::Delete | Operation::RefreshSecret)
            {
                problems.push(at(i, "`other_id` is for read, update, delete and refresh-secret".into()));
            }
            if r.op == Operation::Raw && (r.method.is_none() || r.path.is_none()) {
                problems.push(at(i, "a raw request needs `method` and `path`".into()));
            }
            if r.op != Operation::Raw && r.path.is_some() {
                problems.push(at(i, "`path` is for raw requests; other operations take it from the profile".into()));
            }
            if let Some(why) = r.body_file.as_deref().and_then(outside_fixtures) {
                problems.push(at(i, format!("body_file: {why}")));
            }
            if [r.body.is_some(), r.body_file.is_some(), r.body_raw.is_some()].iter().filter(|b| **b).count() > 1 {
                problems.push(at(i, "give one of `body`, `body_file`, `body_raw`".into()));
            }
            if let Some(kind) = &step.expect.reject {
                if profile.rejection(kind).is_none() {
                    let kinds: BTreeSet<String> = profile.rejections.keys().cloned().collect();
                    problems
                        .push(at(i, format!("unknown rejection kind `{kind}`; the profile knows: {}", join(&kinds))));
                }
            }
            if let Some(partner) = &step.alongside {
                problems.extend(alongside_problems(partner, &clients, profile).into_iter().map(|p| at(i, p)));
            }
            if let Some(name) = &step.expect.unchanged {
                if !clients.contains(name) {
                    problems.push(at(i, format!("`unchanged: {name}` names no registered client")));
                }
            }
            for (name, predicate) in step.expect.json.iter().chain(&step.expect.headers) {
                if let Some(problem) = predicate_problem(predicate) {
                    problems.push(at(i, format!("`{name}`: {problem}")));
                }
            }
            let bends_body = step.mutation.is_some_and(|m| m.bends_request_object());
            if bends_body && !matches!(r.op, Operation::Register | Operation::Update) {
                problems.push(at(i, "a request-object mutation bends a registration or update body".into()));
            }
            if step.mutation.is_some_and(|m| m.bends_client_assertion()) && r.op != Operation::Token {
                problems.push(at(i, "a client-assertion mutation bends a token request".into()));
            }
            if step.mutation.is_some_and(|m| m.bends_http_signature()) && matches!(r.sign, Some(Who::Nobody)) {
                problems.push(at(i, "a mutation bends a signature, and `sign: none` makes none".into()));
            }
            if step.expect.created && (r.op != Operation::Register || step.expect.reject.is_some()) {
                problems.push(at(
                    i,
                    "`created: true` is for a register step, without `reject` (a `status` list is what else may come)"
                        .into(),
                ));
            }
            if let Some(path) = &step.expect.or_substituted {
                let refusal = step.expect.reject.is_some()
                    || step.expect.status.as_ref().is_some_and(|s| s.to_vec().iter().all(|c| *c >= 400));
                if !refusal || !path.starts_with('$') {
                    problems.push(at(i, format!("`or_substituted: {path}` needs a refusal (`reject:`, or `status:` of 4xx and 5xx) and a path starting `$`")));
                }
            }
            if step.replay_previous && i == 0 {
                problems.push(at(i, "`replay_previous` on the first step".into()));
            }
            let rotated = s.steps[..i].iter().any(|s| s.request.op == Operation::RotateKeys);
            if (step.within_key_cache || step.after_key_cache) && !rotated {
                problems.push(at(
                    i,
                    "`within_key_cache` and `after_key_cache` count from a `rotate-keys` step before it; there is none"
                        .into(),
                ));
            }
            for name in template::names_in_step(step) {
                let known = vars.contains(&name)
                    || name.starts_with("env.")
                    || template::is_directory_statement(&name)
                    || name
                        .split_once('.')
                        .is_some_and(|(c, field)| clients.contains(c) && template::CLIENT_FIELDS.contains(&field));
                if !known {
                    problems.push(at(i, format!("template `{{{{{name}}}}}` names nothing defined before this step")));
                }
            }
            if r.op == Operation::Register {
                clients.insert(step.client_registered().to_string());
            }
            vars.extend(step.capture.keys().cloned());
        }
    }
    problems
}

/// What is wrong with a step's `alongside` request: it manages a registered client (a race
/// between two operations on one), and its rejection kind is the profile's.
fn alongside_problems(partner: &Alongside, clients: &BTreeSet<String>, profile: &Profile) -> Vec<String> {
    let r = &partner.request;
    let mut problems = Vec::new();
    if !matches!(r.op, Operation::Read | Operation::Update | Operation::Delete | Operation::RefreshSecret) {
        problems.push(format!("`alongside` is for read, update, delete and refresh-secret, not {:?}", r.op));
    }
    if !clients.contains(r.client_name()) {
        problems.push(format!("`alongside` names client `{}`, which no earlier step registered", r.client_name()));
    }
    if let Some(kind) = partner.expect.reject.as_ref().filter(|kind| profile.rejection(kind).is_none()) {
        problems.push(format!("`alongside` expects an unknown rejection kind `{kind}`"));
    }
    problems
}

/// The names of the tests a predicate may use.
const TESTS: &[&str] = &["exists", "one_of", "not", "contains", "type", "at_least", "not_past", "scopes_within", "all"];

/// A predicate that reads as a test but is not one: `{exist: true}` or `{type: integer}` would
/// otherwise be taken as a value to compare with, and fail at run time for no fault.
fn predicate_problem(predicate: &Predicate) -> Option<String> {
    let Predicate::Equals(serde_json::Value::Object(map)) = predicate else { return None };
    let (key, value) = map.iter().next().filter(|_| map.len() == 1)?;
    if TESTS.contains(&key.as_str()) {
        return Some(format!("`{key}: {value}` is not a valid `{key}` test"));
    }
    let hint = did_you_mean(key, TESTS.iter().copied());
    (!hint.is_empty()).then(|| format!("`{key}` is not a test{hint}"))
}

/// A policy named where the severity is not `policy`, missing where it is, or unknown.
fn policy_problem(s: &Scenario) -> Option<String> {
    let at = format!("{}:{}:1: scenario `{}`", s.file.display(), s.line, s.id);
    let known = || Policy::ALL.iter().map(|p| p.name());
    match (s.severity, &s.policy) {
        (Severity::Policy, None) => Some(format!(
            "{at}: `severity: policy` needs `policy:` naming one of: {}",
            known().collect::<Vec<_>>().join(", ")
        )),
        (Severity::Policy, Some(PolicyRef::Unknown(p))) => {
            Some(format!("{at}: unknown policy `{p}`{}", did_you_mean(p, known())))
        }
        (Severity::Policy, Some(_)) => None,
        (_, Some(p)) => Some(format!("{at}: `policy: {p}` needs `severity: policy`")),
        (_, None) => None,
    }
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// Which scenarios to run.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub tags: Vec<String>,
    pub areas: Vec<Area>,
    pub ids: Vec<String>,
    pub skip: Vec<String>,
}

impl Filter {
    pub fn admits(&self, s: &Scenario, profile: &Profile) -> bool {
        profile.applies(s) && self.admits_whatever_the_profile(s)
    }

    /// Whether the filters pick `s`, leaving aside whether it applies to a profile.
    pub fn admits_whatever_the_profile(&self, s: &Scenario) -> bool {
        (self.tags.is_empty() || s.tags.iter().any(|t| self.tags.contains(t)))
            && (self.areas.is_empty() || self.areas.contains(&s.area))
            && (self.ids.is_empty() || self.ids.contains(&s.id))
            && !self.skip.contains(&s.id)
    }
}

impl Filter {
    /// Each name in the filter that matches nothing among `scenarios`, as a problem that says
    /// which option named it and what was probably meant.
    pub fn unknown_names(&self, scenarios: &[Scenario]) -> Vec<String> {
        let ids: BTreeSet<&str> = scenarios.iter().map(|s| s.id.as_str()).collect();
        let tags: BTreeSet<&str> = scenarios.iter().flat_map(|s| s.tags.iter().map(String::as_str)).collect();
        let mut problems = Vec::new();
        for (option, names, known, what) in [
            ("--scenario", &self.ids, &ids, "scenario"),
            ("--skip", &self.skip, &ids, "scenario"),
            ("--tag", &self.tags, &tags, "tag"),
        ] {
            for name in names.iter().filter(|n| !known.contains(n.as_str())) {
                problems.push(format!("{option} {name}: no such {what}{}", did_you_mean(name, known.iter().copied())));
            }
        }
        problems
    }
}

/// `; did you mean `x`?` for the known name closest to `name`, if one is close.
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let best = known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(name, k).max(if k.contains(name) { 0.9 } else { 0.0 }), k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    best.map(|(_, k)| format!("; did you mean `{k}`?")).unwrap_or_default()
}

/// The JSON Schema of a scenario file (a list of scenarios), for editors.
pub fn scenario_schema() -> String {
    let schema = schemars::schema_for!(Vec<Scenario>);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

/// The JSON Schema of a target profile.
pub fn profile_schema() -> String {
    let schema = schemars::schema_for!(Profile);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Whatever a scenario file holds, loading it ends in scenarios or located problems,
        /// never a panic; lines of YAML-ish text stress the parser, bytes the UTF-8 check.
        #[test]
        fn any_file_loads_or_is_refused_with_a_location(
            lines in proptest::collection::vec("[ -~]{0,40}", 0..12),
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
        ) {
            let dir = tempfile::tempdir().expect("tempdir");
            for (name, content) in [("text.yaml", lines.join("\n").into_bytes()), ("bytes.yaml", bytes)] {
                let path = dir.path().join(name);
                std::fs::write(&path, &content).expect("write");
                if let Err(e) = load_files(std::slice::from_ref(&path)) {
                    for problem in &e.problems {
                        proptest::prop_assert!(problem.contains(name), "{problem}");
                    }
                }
            }
        }
    }
}
