//! Runs scenarios against a target: builds each step's request from the scenario and the target
//! profile (path, TLS identity, DCR credentials, management token, signature and mutation),
//! sends it through the transport, checks the answer, captures variables, and deletes every
//! client a scenario registered, even when a step failed. Scenarios run concurrently (bounded);
//! steps within a scenario run in order. The result is the run model that reporters read.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{Mutex, Semaphore};

use crate::check::{self, CheckOutcome, Observed};
use crate::pki::Pki;
use crate::scenario::profile::{CredentialKind, Management};
use crate::scenario::template::{render, render_value};
use crate::scenario::{Actor, Operation, Profile, RequestSpec, Scenario, Severity, Step};
use crate::signature::{sign_mutated, Message, MutationContext};
use crate::transport::{Response, Transport, TransportError};

/// Where and how to run.
pub struct Target {
    pub base_url: String,
    pub pki: Arc<Pki>,
    pub profile: Profile,
    pub transport: Transport,
    pub fixtures: PathBuf,
    /// The registration path, after discovery.
    pub register_path: String,
    dcr_tokens: Mutex<BTreeMap<String, String>>,
}

impl Target {
    pub fn new(base_url: String, pki: Arc<Pki>, profile: Profile, transport: Transport, fixtures: PathBuf) -> Self {
        let register_path = profile.paths.register.clone();
        Target { base_url, pki, profile, transport, fixtures, register_path, dcr_tokens: Mutex::new(BTreeMap::new()) }
    }

    /// Finds the registration endpoint in the target's metadata document.
    pub async fn discover(&mut self) -> Result<(), String> {
        for doc in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
            let msg = Message::new("GET", doc, Vec::new());
            let Ok(response) = self.transport.send(&self.pki, None, &self.base_url, &msg).await else { continue };
            let endpoint = response
                .json()
                .and_then(|j| j.get("registration_endpoint").and_then(Value::as_str).map(str::to_string));
            if let Some(endpoint) = endpoint {
                let url = reqwest::Url::parse(&endpoint)
                    .map_err(|e| format!("{doc}: registration_endpoint `{endpoint}`: {e}"))?;
                self.register_path = url.path().to_string();
                return Ok(());
            }
        }
        Err(format!(
            "{}: no registration_endpoint in /.well-known/oauth-authorization-server or openid-configuration",
            self.base_url
        ))
    }
}

/// A finished scenario, how many are done, and of how many.
pub type ProgressFn = dyn Fn(&ScenarioResult, usize, usize) + Send + Sync;

/// Called as each scenario finishes.
#[derive(Clone)]
pub struct Progress(pub Arc<ProgressFn>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub progress: Option<Progress>,
    pub jobs: usize,
    pub fail_fast: bool,
    /// Scenario id → why it is known to fail.
    pub known_failures: BTreeMap<String, String>,
    /// No scenario starts after this much time; those left are reported as skipped.
    pub deadline: Option<Duration>,
    /// Compare (or record) the answers of steps marked `snapshot: true`.
    pub snapshots: Option<crate::snapshot::SnapshotOptions>,
}

/// A scenario's verdict.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    /// A MUST failed.
    Fail,
    /// A SHOULD failed.
    Warn,
    /// Failed, and listed as a known failure.
    KnownFailure,
    /// Passed, but listed as a known failure: take it off the list.
    FixedKnownFailure,
    /// Not run (fail-fast).
    Skipped,
}

/// A request as sent, with secrets redacted.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    pub tls_identity: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// An answer as received, with secrets redacted.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(schemars::JsonSchema, Debug, Clone, Serialize)]
pub struct StepResult {
    pub name: String,
    pub request: RecordedRequest,
    pub response: Option<RecordedResponse>,
    pub transport_error: Option<String>,
    pub mutations: Vec<String>,
    pub checks: Vec<CheckOutcome>,
    pub duration_ms: u64,
}

impl StepResult {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

#[derive(schemars::JsonSchema, Debug, Clone, Serialize)]
pub struct CleanupResult {
    pub client: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(schemars::JsonSchema, Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub id: String,
    pub title: String,
    pub area: String,
    pub severity: Severity,
    pub source: String,
    pub tags: Vec<String>,
    pub verdict: Verdict,
    pub known_failure_reason: Option<String>,
    pub steps: Vec<StepResult>,
    pub cleanup: Vec<CleanupResult>,
    pub duration_ms: u64,
    pub requests: u64,
}

/// The run model: everything a reporter needs, nothing it must fetch.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize)]
pub struct RunResult {
    pub target: String,
    pub profile: String,
    pub scenarios: Vec<ScenarioResult>,
    pub duration_ms: u64,
    pub requests: u64,
}

impl RunResult {
    pub fn count(&self, verdict: Verdict) -> usize {
        self.scenarios.iter().filter(|s| s.verdict == verdict).count()
    }

    /// 0 when every MUST passed (known failures aside), 1 otherwise; a MUST that was skipped
    /// (fail-fast, deadline) did not pass.
    pub fn exit_code(&self) -> u8 {
        let skipped_must = self.scenarios.iter().any(|s| s.verdict == Verdict::Skipped && s.severity == Severity::Must);
        if self.count(Verdict::Fail) > 0 || skipped_must {
            crate::error::exit::MUST_FAILED
        } else {
            crate::error::exit::OK
        }
    }
}

/// Runs `scenarios` against `target`.
pub async fn run(target: Arc<Target>, scenarios: Vec<Scenario>, options: RunOptions) -> RunResult {
    let started = Instant::now();
    let permits = Arc::new(Semaphore::new(options.jobs.max(1)));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let deadline = options.deadline.map(|d| started + d);
    let options = Arc::new(options);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, scenario) in scenarios.into_iter().enumerate() {
        let (target, permits, stop, options) = (target.clone(), permits.clone(), stop.clone(), options.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let late = deadline.is_some_and(|d| Instant::now() > d);
            if late || stop.load(std::sync::atomic::Ordering::Relaxed) {
                return (index, skipped(&scenario));
            }
            let scenario = Arc::new(scenario);
            let result = run_scenario(target.clone(), scenario.clone(), options.clone()).await;
            if options.fail_fast && result.verdict == Verdict::Fail {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            (index, result)
        });
    }
    let total = tasks.len();
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(pair) = joined {
            if let Some(Progress(progress)) = &options.progress {
                progress(&pair.1, results.len() + 1, total);
            }
            results.push(pair);
        }
    }
    results.sort_by_key(|(i, _)| *i);
    let scenarios: Vec<ScenarioResult> = results.into_iter().map(|(_, r)| r).collect();
    RunResult {
        target: target.base_url.clone(),
        profile: target.profile.name.clone(),
        requests: scenarios.iter().map(|s| s.requests).sum(),
        scenarios,
        duration_ms: started.elapsed().as_millis() as u64,
    }
}

fn skipped(s: &Scenario) -> ScenarioResult {
    ScenarioResult {
        id: s.id.clone(),
        title: s.title.clone(),
        area: s.area.name().into(),
        severity: s.severity,
        source: s.source.clone(),
        tags: s.tags.clone(),
        verdict: Verdict::Skipped,
        known_failure_reason: None,
        steps: vec![],
        cleanup: vec![],
        duration_ms: 0,
        requests: 0,
    }
}

/// A client a scenario registered.
#[derive(Debug, Clone, Default)]
struct Client {
    id: String,
    secret: String,
    previous_secret: String,
    rat: String,
    uri: String,
    deleted: bool,
}

/// The state of one scenario while it runs: its target, variables and registered clients.
/// Owned, so that a load test's users can each keep one.
pub struct ScenarioRun {
    target: Arc<Target>,
    scenario: Arc<Scenario>,
    options: Arc<RunOptions>,
    vars: BTreeMap<String, String>,
    clients: BTreeMap<String, Client>,
    /// Clients no longer known by name (created against expectations, or registered again
    /// under a name in use); deleted at the end.
    retired: Vec<Client>,
    previous: Option<Prepared>,
    requests: u64,
}

/// A request ready to send: the signed message and the TLS identity to present.
#[derive(Clone)]
pub struct Prepared {
    pub msg: Message,
    pub tls: Option<String>,
}

async fn run_scenario(target: Arc<Target>, scenario: Arc<Scenario>, options: Arc<RunOptions>) -> ScenarioResult {
    let started = Instant::now();
    let mut run = ScenarioRun::new(target, scenario.clone(), options.clone());
    let scenario = &*scenario;
    let mut steps = Vec::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        let result = run.step(i, step).await;
        let passed = result.passed();
        steps.push(result);
        if !passed {
            break;
        }
    }
    let cleanup = run.cleanup().await;
    let failed = steps.iter().any(|s| !s.passed());
    let known = options.known_failures.get(&scenario.id).cloned();
    let verdict = match (failed, scenario.severity, known.is_some()) {
        (true, _, true) => Verdict::KnownFailure,
        (true, Severity::Must, false) => Verdict::Fail,
        (true, Severity::Should, false) => Verdict::Warn,
        (false, _, true) => Verdict::FixedKnownFailure,
        (false, _, false) => Verdict::Pass,
    };
    let mut result = skipped(scenario);
    result.verdict = verdict;
    result.known_failure_reason = known;
    result.steps = steps;
    result.cleanup = cleanup;
    result.duration_ms = started.elapsed().as_millis() as u64;
    result.requests = run.requests;
    result
}

impl ScenarioRun {
    pub fn new(target: Arc<Target>, scenario: Arc<Scenario>, options: Arc<RunOptions>) -> Self {
        let mut vars: BTreeMap<String, String> = target.profile.vars.clone();
        vars.insert("base_url".into(), target.base_url.clone());
        vars.insert("register_path".into(), target.register_path.clone());
        vars.insert("token_path".into(), target.profile.paths.token.clone());
        vars.insert("unique".into(), crate::pki::generate_token("", 6));
        let (dcr_client_id, _) = credentials_of(&target, &target.profile.identities.tpp).unwrap_or_default();
        vars.insert("dcr_client_id".into(), dcr_client_id);
        ScenarioRun {
            target,
            scenario,
            options,
            vars,
            clients: BTreeMap::new(),
            retired: Vec::new(),
            previous: None,
            requests: 0,
        }
    }

    /// Runs one step: builds, sends, checks, absorbs what the answer teaches.
    pub async fn step(&mut self, index: usize, step: &Step) -> StepResult {
        let name = step.name.clone().unwrap_or_else(|| format!("step {}", index + 1));
        let started = Instant::now();
        if step.wait_ms > 0 {
            tokio::time::sleep(Duration::from_millis(step.wait_ms)).await;
        }
        let prepared = match (step.replay_previous, &self.previous) {
            (true, Some(previous)) => Ok(vec![previous.clone()]),
            _ => self.prepare_copies(step).await,
        };
        let copies = match prepared {
            Ok(copies) => copies,
            Err(e) => return self.broken_step(name, step, e, started),
        };
        let before = match &step.expect.unchanged {
            Some(client) => {
                self.requests += 2; // this read and the one after the step
                Some(self.read_client(client).await)
            }
            None => None,
        };
        // Copies of a concurrent step race each other: all start at once.
        let sent =
            futures_util::future::join_all(copies.iter().map(|p| {
                self.target.transport.send(&self.target.pki, p.tls.as_deref(), &self.target.base_url, &p.msg)
            }))
            .await;
        self.requests += sent.len() as u64;
        let mut checks = Vec::new();
        for result in &sent {
            let observed = match result {
                Ok(r) => Observed::Answer(r),
                Err(e) => Observed::Failed(e),
            };
            checks.extend(check::check(&step.expect, &observed, &self.target.profile, &self.vars));
            if let Ok(response) = result {
                checks.extend(self.absorb(step, response));
            }
        }
        if let (Some(client), Some(before)) = (&step.expect.unchanged, before) {
            let after = self.read_client(client).await;
            let show = |(status, body): &(String, Vec<u8>)| format!("{status} {}", redact_body(body));
            let outcome =
                CheckOutcome::new(format!("client `{client}` unchanged"), before == after, show(&before), show(&after));
            checks.push(outcome);
        }
        if let (true, Some(snapshots), Some(Ok(response))) = (step.snapshot, &self.options.snapshots, sent.first()) {
            checks.push(self.snapshot(snapshots, index, response));
        }
        self.previous = copies.first().cloned();
        let first = copies.first().map(|p| (&p.msg, p.tls.clone()));
        StepResult {
            name,
            request: first.map(|(m, t)| record_request(&self.target.base_url, m, t)).unwrap_or_else(empty_request),
            response: sent.first().and_then(|r| r.as_ref().ok()).map(record_response),
            transport_error: sent.first().and_then(|r| r.as_ref().err()).map(|e| e.to_string()),
            mutations: step.mutations.iter().map(|m| m.name().to_string()).collect(),
            checks,
            duration_ms: started.elapsed().as_millis() as u64,
        }
    }

    fn snapshot(&self, options: &crate::snapshot::SnapshotOptions, index: usize, response: &Response) -> CheckOutcome {
        let volatile = BTreeMap::from([
            ("[unique]".to_string(), self.vars.get("unique").cloned().unwrap_or_default()),
            ("[base_url]".to_string(), self.target.base_url.clone()),
        ]);
        let text = crate::snapshot::normalise(response, &volatile, &self.target.profile.snapshot);
        let file = self.scenario.file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let source = format!("scenarios/{file}");
        crate::snapshot::check(options, &self.target.profile.name, &self.scenario.id, &source, index, &text)
    }

    fn broken_step(&self, name: String, step: &Step, error: String, started: Instant) -> StepResult {
        StepResult {
            name,
            request: empty_request(),
            response: None,
            transport_error: None,
            mutations: step.mutations.iter().map(|m| m.name().to_string()).collect(),
            checks: vec![CheckOutcome::new("request built", false, "a request", error)],
            duration_ms: started.elapsed().as_millis() as u64,
        }
    }

    /// What an answer teaches: registered clients, refreshed secrets, deletions, captures.
    /// Returns a failed check where a server created a client that the step expected refused.
    pub fn absorb(&mut self, step: &Step, response: &Response) -> Vec<CheckOutcome> {
        let json = response.json();
        let op = step.request.op;
        let name = step.request.client.clone().unwrap_or_else(|| "client".into());
        let allows_created =
            step.expect.reject.is_none() && step.expect.status.as_ref().is_none_or(|s| s.to_vec().contains(&201));
        let mut out = Vec::new();
        if let Some(created) = json.as_ref().filter(|_| response.status == 201).and_then(client_from) {
            if op == Operation::Register && allows_created {
                let key = step.register_as.clone().unwrap_or_else(|| "client".into());
                for (field, value) in client_vars(&key, &created) {
                    self.vars.insert(field, value);
                }
                // A concurrent or repeated registration under the same name: keep the earlier
                // client for cleanup.
                if let Some(earlier) = self.clients.insert(key, created) {
                    self.retired.push(earlier);
                }
            } else {
                out.push(CheckOutcome::new(
                    "no client created",
                    false,
                    "no client",
                    format!("client {} was created", created.id),
                ));
                self.retired.push(created);
            }
        }
        if let Some(client) = self.clients.get_mut(&name) {
            match (op, response.status) {
                (Operation::RefreshSecret, 200) => {
                    if let Some(new) = json.as_ref().and_then(|j| j.get("client_secret")).and_then(Value::as_str) {
                        client.previous_secret = std::mem::replace(&mut client.secret, new.to_string());
                    }
                }
                (Operation::Delete, 200 | 204) => client.deleted = true,
                _ => {}
            }
            let snapshot = client.clone();
            for (field, value) in client_vars(&name, &snapshot) {
                self.vars.insert(field, value);
            }
        }
        for (var, path) in &step.capture {
            match json.as_ref().and_then(|j| check::lookup(j, path)) {
                Some(Value::String(s)) => {
                    self.vars.insert(var.clone(), s.clone());
                }
                Some(other) => {
                    self.vars.insert(var.clone(), other.to_string());
                }
                None => {
                    out.push(CheckOutcome::new(format!("capture {var}"), false, format!("a value at {path}"), "absent"))
                }
            }
        }
        out
    }

    async fn prepare_copies(&self, step: &Step) -> Result<Vec<Prepared>, String> {
        let n = step.concurrent.unwrap_or(1).max(1);
        let mut copies = Vec::new();
        for i in 0..n {
            let mut vars = self.vars.clone();
            vars.insert("iteration".into(), i.to_string());
            copies.push(self.prepare(step, &vars).await?);
        }
        Ok(copies)
    }

    /// Builds one request as the scenario and profile say.
    /// Builds (and signs, at this moment) a step's request with the session's variables.
    pub async fn prepare_step(&self, step: &Step) -> Result<Prepared, String> {
        self.prepare(step, &self.vars).await
    }

    async fn prepare(&self, step: &Step, vars: &BTreeMap<String, String>) -> Result<Prepared, String> {
        let r = &step.request;
        let profile = &self.target.profile;
        let ids = &profile.identities;
        let (actor_tls, actor_tpp, actor_sign) = match r.actor {
            Actor::Tpp => (&ids.tls, &ids.tpp, &ids.sign),
            Actor::OtherTpp => (&ids.other_tls, &ids.other_tpp, &ids.other_sign),
        };
        let client = self.clients.get(r.client.as_deref().unwrap_or("client"));
        let (method, mut target) = self.method_and_path(r, client, vars)?;
        if let Some(query) = &r.query {
            target.push_str(&render(query, vars).map_err(|e| e.to_string())?);
        }
        let (body, default_type) = self.body(step, vars)?;
        let mut msg = Message::new(&method, &target, body);
        if let Some(ct) = r.content_type.clone().or(default_type) {
            msg.add_header("Content-Type", &ct);
        }
        let none = |s: &str| s == "none";
        let tls = r.tls.clone().unwrap_or_else(|| actor_tls.clone());
        let tls = (!none(&tls)).then_some(tls);
        if r.op == Operation::Token {
            let client = client.ok_or("a token request needs a registered client")?;
            let secret = match &r.secret {
                Some(s) => render(s, vars).map_err(|e| e.to_string())?,
                None => client.secret.clone(),
            };
            msg.add_header("Authorization", &format!("Basic {}", B64.encode(format!("{}:{secret}", client.id))));
        } else if profile.management == Management::RegistrationToken
            && r.op != Operation::Register
            && r.op != Operation::Raw
        {
            let token = match &r.registration_token {
                Some(t) => render(t, vars).map_err(|e| e.to_string())?,
                None => client.map(|c| c.rat.clone()).unwrap_or_default(),
            };
            msg.add_header("Authorization", &format!("Bearer {token}"));
        } else {
            let tpp = r.credentials.clone().unwrap_or_else(|| actor_tpp.clone());
            if !none(&tpp) {
                self.add_credentials(&mut msg, &tpp, tls.as_deref()).await?;
            }
        }
        for (name, value) in &r.headers {
            msg.add_header(name, &render(value, vars).map_err(|e| e.to_string())?);
        }
        let signs = profile.signature.enabled
            && ["POST", "PUT", "DELETE"].contains(&method.as_str())
            && r.op != Operation::Token;
        let signer = r.sign.clone().or_else(|| signs.then(|| actor_sign.clone())).filter(|s| !none(s));
        if let Some(signer) = signer {
            let pki = &self.target.pki;
            let identity = pki.identity(&signer).map_err(|e| e.to_string())?;
            let other = pki.identity(&ids.other_sign).ok();
            let date = offset(SystemTime::now(), r.date_offset);
            let mutation = step.mutations.first().copied();
            sign_mutated(
                identity,
                &profile.signature.dialect,
                &mut msg,
                date,
                mutation,
                &MutationContext { other_identity: other },
            )
            .map_err(|e| e.to_string())?;
        }
        Ok(Prepared { msg, tls })
    }

    fn method_and_path(
        &self,
        r: &RequestSpec,
        client: Option<&Client>,
        vars: &BTreeMap<String, String>,
    ) -> Result<(String, String), String> {
        let paths = &self.target.profile.paths;
        let client_path = |template: &str| -> Result<String, String> {
            let c =
                client.ok_or_else(|| format!("no client `{}` registered", r.client.as_deref().unwrap_or("client")))?;
            if self.target.profile.management == Management::RegistrationToken
                && !c.uri.is_empty()
                && template == paths.client
            {
                return Ok(reqwest::Url::parse(&c.uri).map(|u| u.path().to_string()).unwrap_or_else(|_| c.uri.clone()));
            }
            Ok(template.replace("{client_id}", &c.id))
        };
        Ok(match r.op {
            Operation::Register => ("POST".into(), self.target.register_path.clone()),
            Operation::Read => ("GET".into(), client_path(&paths.client)?),
            Operation::Update => ("PUT".into(), client_path(&paths.client)?),
            Operation::Delete => ("DELETE".into(), client_path(&paths.client)?),
            Operation::RefreshSecret => ("POST".into(), client_path(&paths.secret)?),
            Operation::Token => ("POST".into(), paths.token.clone()),
            Operation::Raw => (
                r.method.clone().unwrap_or_else(|| "GET".into()).to_ascii_uppercase(),
                render(r.path.as_deref().unwrap_or("/"), vars).map_err(|e| e.to_string())?,
            ),
        })
    }

    fn body(&self, step: &Step, vars: &BTreeMap<String, String>) -> Result<(Vec<u8>, Option<String>), String> {
        let r = &step.request;
        let json = Some("application/json".to_string());
        if r.op == Operation::Token {
            return Ok((b"grant_type=client_credentials".to_vec(), Some("application/x-www-form-urlencoded".into())));
        }
        if let Some(body) = &r.body {
            return Ok((render_value(body, vars).map_err(|e| e.to_string())?.to_string().into_bytes(), json));
        }
        if let Some(file) = &r.body_file {
            let path = self.target.fixtures.join(file);
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            return Ok((render(&text, vars).map_err(|e| e.to_string())?.into_bytes(), json));
        }
        if let Some(raw) = &r.body_raw {
            return Ok((render(raw, vars).map_err(|e| e.to_string())?.into_bytes(), json));
        }
        Ok((Vec::new(), None))
    }

    async fn add_credentials(&self, msg: &mut Message, tpp: &str, tls: Option<&str>) -> Result<(), String> {
        let creds = &self.target.profile.credentials;
        let (id, secret) = credentials_of(&self.target, tpp)?;
        match creds.kind {
            CredentialKind::ApiKey => {
                msg.add_header(&creds.client_id_header, &id);
                msg.add_header(&creds.client_secret_header, &secret);
            }
            CredentialKind::Basic => {
                msg.add_header("Authorization", &format!("Basic {}", B64.encode(format!("{id}:{secret}"))))
            }
            CredentialKind::Bearer => {
                let token = self.dcr_token(tpp, &id, &secret, tls).await?;
                msg.add_header("Authorization", &format!("Bearer {token}"));
            }
            CredentialKind::None => {}
        }
        Ok(())
    }

    /// A DCR-service bearer token for `tpp`, fetched once per run.
    async fn dcr_token(&self, tpp: &str, id: &str, secret: &str, tls: Option<&str>) -> Result<String, String> {
        let mut tokens = self.target.dcr_tokens.lock().await;
        if let Some(token) = tokens.get(tpp) {
            return Ok(token.clone());
        }
        let mut msg = Message::new(
            "POST",
            &self.target.profile.credentials.token_path,
            b"grant_type=client_credentials".to_vec(),
        );
        msg.add_header("Content-Type", "application/x-www-form-urlencoded");
        msg.add_header("Authorization", &format!("Basic {}", B64.encode(format!("{id}:{secret}"))));
        let response = self
            .target
            .transport
            .send(&self.target.pki, tls, &self.target.base_url, &msg)
            .await
            .map_err(|e| e.to_string())?;
        let token = response
            .json()
            .and_then(|j| j.get("access_token").and_then(Value::as_str).map(str::to_string))
            .ok_or_else(|| format!("the DCR token endpoint answered {} without an access_token", response.status))?;
        tokens.insert(tpp.to_string(), token.clone());
        Ok(token)
    }

    /// The client as its owner reads it (status and raw body), for `unchanged`.
    async fn read_client(&self, name: &str) -> (String, Vec<u8>) {
        let step = owner_step(Operation::Read, name);
        let prepared = match self.prepare(&step, &self.vars).await {
            Ok(p) => p,
            Err(e) => return (format!("cannot read: {e}"), Vec::new()),
        };
        match self
            .target
            .transport
            .send(&self.target.pki, prepared.tls.as_deref(), &self.target.base_url, &prepared.msg)
            .await
        {
            Ok(r) => (r.status.to_string(), r.body),
            Err(e) => (format!("no answer: {e}"), Vec::new()),
        }
    }

    /// Deletes every client the scenario created and did not delete itself.
    pub async fn cleanup(&mut self) -> Vec<CleanupResult> {
        let mut pending: Vec<(String, Client)> =
            self.clients.iter().filter(|(_, c)| !c.deleted).map(|(n, c)| (n.clone(), c.clone())).collect();
        pending.extend(
            self.retired.drain(..).filter(|c| !c.deleted).enumerate().map(|(i, c)| (format!("retired-{i}"), c)),
        );
        let mut out = Vec::new();
        for (name, client) in pending {
            self.clients.insert(name.clone(), client.clone());
            let step = owner_step(Operation::Delete, &name);
            let result = match self.prepare(&step, &self.vars).await {
                Ok(p) => {
                    self.target.transport.send(&self.target.pki, p.tls.as_deref(), &self.target.base_url, &p.msg).await
                }
                Err(e) => Err(TransportError::Other { url: String::new(), cause: e }),
            };
            self.requests += 1;
            let (ok, detail) = match result {
                Ok(r) if (200..300).contains(&r.status) => (true, format!("deleted ({})", r.status)),
                Ok(r) => (false, format!("delete answered {}", r.status)),
                Err(e) => (false, e.to_string()),
            };
            out.push(CleanupResult { client: client.id, ok, detail });
        }
        out
    }
}

/// A TPP's DCR-service credentials: the profile's override, else the PKI manifest's.
fn credentials_of(target: &Target, tpp: &str) -> Result<(String, String), String> {
    if let Some(o) = target.profile.credentials.overrides.get(tpp) {
        let empty = BTreeMap::new();
        let id = render(&o.client_id, &empty).map_err(|e| e.to_string())?;
        return Ok((id, render(&o.client_secret, &empty).map_err(|e| e.to_string())?));
    }
    let entry = target.pki.tpp(tpp).map_err(|e| e.to_string())?;
    Ok((entry.dcr_client_id.clone(), entry.dcr_client_secret.clone()))
}

/// A step in which the client's owner does `op` on it, expecting nothing in particular.
fn owner_step(op: Operation, client: &str) -> Step {
    Step {
        name: None,
        request: owner_request(op, client),
        mutations: vec![],
        expect: Default::default(),
        capture: Default::default(),
        register_as: None,
        concurrent: None,
        replay_previous: false,
        wait_ms: 0,
        snapshot: false,
    }
}

fn owner_request(op: Operation, client: &str) -> RequestSpec {
    RequestSpec {
        op,
        client: Some(client.to_string()),
        method: None,
        path: None,
        query: None,
        body: None,
        body_file: None,
        body_raw: None,
        content_type: None,
        headers: Default::default(),
        actor: Actor::Tpp,
        tls: None,
        credentials: None,
        sign: None,
        date_offset: 0,
        secret: None,
        registration_token: None,
    }
}

fn client_from(json: &Value) -> Option<Client> {
    let field = |name: &str| json.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    let id = field("client_id");
    (!id.is_empty()).then(|| Client {
        id,
        secret: field("client_secret"),
        previous_secret: String::new(),
        rat: field("registration_access_token"),
        uri: field("registration_client_uri"),
        deleted: false,
    })
}

fn client_vars(name: &str, c: &Client) -> Vec<(String, String)> {
    vec![
        (format!("{name}.id"), c.id.clone()),
        (format!("{name}.secret"), c.secret.clone()),
        (format!("{name}.previous_secret"), c.previous_secret.clone()),
        (format!("{name}.rat"), c.rat.clone()),
        (format!("{name}.uri"), c.uri.clone()),
    ]
}

fn offset(at: SystemTime, seconds: i64) -> SystemTime {
    if seconds >= 0 {
        at + Duration::from_secs(seconds as u64)
    } else {
        at - Duration::from_secs(seconds.unsigned_abs())
    }
}

fn empty_request() -> RecordedRequest {
    RecordedRequest {
        method: String::new(),
        url: String::new(),
        tls_identity: None,
        headers: vec![],
        body: String::new(),
    }
}

/// Header names whose values are secrets.
const SECRET_HEADERS: &[&str] = &["authorization", "x-ibm-client-secret", "x-client-secret"];
use crate::check::{REDACTED, SECRET_FIELDS};

fn record_request(base: &str, msg: &Message, tls: Option<String>) -> RecordedRequest {
    RecordedRequest {
        method: msg.method.clone(),
        url: format!("{base}{}", msg.target),
        tls_identity: tls,
        headers: msg.headers.iter().map(|(n, v)| (n.clone(), redact_header(n, v))).collect(),
        body: redact_body(&msg.body),
    }
}

fn record_response(r: &Response) -> RecordedResponse {
    RecordedResponse {
        status: r.status,
        headers: r.headers.iter().map(|(n, v)| (n.clone(), redact_header(n, v))).collect(),
        body: redact_body(&r.body),
    }
}

fn redact_header(name: &str, value: &str) -> String {
    if SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)) || name.to_ascii_lowercase().contains("secret") {
        REDACTED.into()
    } else {
        value.to_string()
    }
}

/// The body as text with secret JSON fields replaced; a non-JSON body is kept as text.
pub fn redact_body(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(mut json) => {
            redact_json(&mut json);
            json.to_string()
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if SECRET_FIELDS.contains(&k.as_str()) && v.is_string() {
                    *v = Value::String(REDACTED.into());
                } else {
                    redact_json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}
