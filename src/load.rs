//! Load profiles and the goose attack built from them: weighted transactions made of the same
//! request templates, identities and mutations as the scenarios (valid register, read, update,
//! refresh; and broken ones, so that both the accept and the reject paths of signature
//! verification are loaded). Each goose user has its own reqwest client with its QWAC (goose's
//! client builder), registers a client at start and deletes what it registered at stop; every
//! request is signed at send time. A transaction's expected statuses decide success: a bad
//! signature correctly refused is a success. Thresholds on latency, unexpected answers and
//! throughput turn into exit code 4.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use goose::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::runner::{RunOptions, ScenarioRun, Target};
use crate::scenario::{
    Actor, Area, Expect, OneOrMany, Operation, RequestSpec, Scenario as HarnessScenario, Severity, Step,
};
use crate::signature::Mutation;
use crate::suite::{self, Layout};

/// A load profile (YAML in `load/`).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadProfile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The target profile (how to reach and talk to the target).
    #[serde(default = "reference")]
    pub target_profile: String,
    pub users: usize,
    /// Users started per second.
    pub hatch_rate: f64,
    /// Seconds the full set of users runs.
    pub run_time: u64,
    pub transactions: Vec<LoadTransaction>,
    #[serde(default)]
    pub thresholds: Thresholds,
}

fn reference() -> String {
    "reference".into()
}

/// One weighted transaction.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadTransaction {
    pub name: String,
    /// `register`, `read`, `update` or `refresh-secret` (the user's own client), or `raw`.
    pub op: Operation,
    /// `raw` only: method and path.
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    pub weight: usize,
    #[serde(default)]
    pub mutation: Option<Mutation>,
    /// TLS identity (default the profile's QWAC, the user's own client).
    #[serde(default)]
    pub tls: Option<String>,
    #[serde(default)]
    pub sign: Option<String>,
    /// Statuses that count as the expected answer.
    pub expect: Vec<u16>,
}

/// Limits that fail the run (exit 4).
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Largest share of answers not among a transaction's expected statuses (0.0 to 1.0).
    pub max_unexpected_share: Option<f64>,
    /// Fewest requests per second.
    pub min_throughput: Option<f64>,
}

impl LoadProfile {
    pub fn load(name_or_path: &str, dir: &Path) -> Result<LoadProfile, Error> {
        let as_path = Path::new(name_or_path);
        let path = if as_path.extension().is_some() {
            as_path.to_path_buf()
        } else {
            dir.join(format!("{name_or_path}.yaml"))
        };
        let text = std::fs::read_to_string(&path).map_err(|e| Error::input(path.display().to_string(), e))?;
        let profile: LoadProfile =
            serde_norway::from_str(&text).map_err(|e| Error::input("load profile", crate::yaml::located(&path, &e)))?;
        if profile.transactions.iter().all(|t| t.weight == 0) || profile.users == 0 {
            return Err(Error::input(
                path.display().to_string(),
                "needs at least one user and one transaction with a weight",
            ));
        }
        Ok(profile)
    }
}

/// The figures of one transaction.
#[derive(Debug, Clone, Serialize)]
pub struct TransactionFigures {
    pub name: String,
    pub requests: usize,
    pub unexpected: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// What a load run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub profile: String,
    pub target: String,
    pub duration_s: f64,
    pub users: usize,
    pub requests: usize,
    pub answered: usize,
    pub unexpected: usize,
    pub throughput: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Latency samples goose added for coordinated omission (not requests).
    pub synthetic_samples: usize,
    pub transactions: Vec<TransactionFigures>,
    /// Thresholds breached, one line each.
    pub breaches: Vec<String>,
}

/// A goose user's state: the runner's session (variables, its registered client). Goose wants
/// session data it can clone; the session itself is shared, not copied.
#[derive(Clone)]
struct UserSession {
    run: Arc<tokio::sync::Mutex<ScenarioRun>>,
}

/// Every user's session, kept for the cleanup after the attack.
type Sessions = Arc<tokio::sync::Mutex<Vec<UserSession>>>;

/// Exact counts of one transaction. Goose's own counts include the synthetic samples of
/// coordinated-omission mitigation, which are right for latencies and wrong for "how many
/// requests were sent".
#[derive(Default, Debug)]
struct Counts {
    sent: std::sync::atomic::AtomicUsize,
    answered: std::sync::atomic::AtomicUsize,
    unexpected: std::sync::atomic::AtomicUsize,
}

type CountsByName = Arc<BTreeMap<String, Arc<Counts>>>;

fn step_of(t: &LoadTransaction) -> Step {
    Step {
        name: Some(t.name.clone()),
        request: RequestSpec {
            op: t.op,
            client: None,
            method: t.method.clone(),
            path: t.path.clone(),
            query: None,
            body: match t.op {
                Operation::Register => Some(
                    serde_json::json!({"client_name": "load {{unique}}", "redirect_uris": ["https://tpp.example/cb"]}),
                ),
                Operation::Update => Some(
                    serde_json::json!({"client_id": "{{client.id}}", "redirect_uris": ["https://tpp.example/updated"]}),
                ),
                _ => None,
            },
            body_file: None,
            body_raw: None,
            content_type: None,
            headers: Default::default(),
            actor: Actor::Tpp,
            tls: t.tls.clone(),
            credentials: None,
            sign: t.sign.clone(),
            date_offset: 0,
            secret: None,
            registration_token: None,
        },
        mutations: t.mutation.into_iter().collect(),
        expect: Expect { status: Some(OneOrMany::Many(t.expect.clone())), ..Expect::default() },
        capture: Default::default(),
        register_as: Some("extra".into()),
        concurrent: None,
        replay_previous: false,
        wait_ms: 0,
        snapshot: false,
    }
}

/// A valid registration whose client becomes the session's `client` (read, update, refresh).
fn own_registration() -> Step {
    let mut register = step_of(&LoadTransaction {
        name: "own client".into(),
        op: Operation::Register,
        method: None,
        path: None,
        weight: 0,
        mutation: None,
        tls: None,
        sign: None,
        expect: vec![201],
    });
    register.register_as = None;
    register
}

fn setup_scenario(name: &str) -> Arc<HarnessScenario> {
    Arc::new(HarnessScenario {
        id: format!("load-{name}"),
        title: "load user".into(),
        area: Area::Lifecycle,
        tags: vec![],
        severity: Severity::Must,
        source: String::new(),
        steps: vec![],
        file: PathBuf::new(),
        line: 0,
    })
}

fn goose_method(method: &str) -> GooseMethod {
    match method {
        "GET" => GooseMethod::Get,
        "PUT" => GooseMethod::Put,
        "DELETE" => GooseMethod::Delete,
        _ => GooseMethod::Post,
    }
}

fn transaction_error(message: String) -> Box<TransactionError> {
    Box::new(TransactionError::InvalidMethod {
        method: reqwest::Method::from_bytes(message.as_bytes()).unwrap_or(reqwest::Method::GET),
    })
}

/// One transaction: build and sign at send time, send through goose (so it measures), judge by
/// the expected statuses, and let the session learn from the answer.
async fn run_transaction(
    user: &mut GooseUser,
    target: Arc<Target>,
    transaction: Arc<LoadTransaction>,
    counts: Arc<Counts>,
) -> TransactionResult {
    use std::sync::atomic::Ordering::Relaxed;
    let step = step_of(&transaction);
    let session =
        user.get_session_data::<UserSession>().cloned().ok_or_else(|| transaction_error("no session".into()))?;
    let prepared = session.run.lock().await.prepare_step(&step).await.map_err(transaction_error)?;
    // Goose sends with the user's own client, whose TLS identity is the transaction group's.
    let builder = crate::transport::Transport::request(&user.client, &target.base_url, &prepared.msg)
        .map_err(|e| transaction_error(e.to_string()))?;
    let path = prepared.msg.path().to_string();
    let mut request = GooseRequest::builder()
        .method(goose_method(&prepared.msg.method))
        .path(path.as_str())
        .name(transaction.name.as_str())
        .set_request_builder(builder);
    if let [only] = transaction.expect.as_slice() {
        // So that goose counts a correct refusal as a success from the start.
        request = request.expect_status_code(*only);
    }
    let request = request.build();
    counts.sent.fetch_add(1, Relaxed);
    let mut goose = user.request(request).await?;
    let response = match goose.response {
        Ok(response) => response,
        Err(e) => {
            counts.unexpected.fetch_add(1, Relaxed);
            return user.set_failure(&format!("no answer: {e}"), &mut goose.request, None, None);
        }
    };
    counts.answered.fetch_add(1, Relaxed);
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    let answer = crate::transport::Response {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body,
        elapsed: std::time::Duration::ZERO,
    };
    session.run.lock().await.absorb(&step, &answer);
    if transaction.expect.contains(&status) {
        user.set_success(&mut goose.request)
    } else {
        counts.unexpected.fetch_add(1, Relaxed);
        let why = format!("{}: {status} is not one of {:?}", transaction.name, transaction.expect);
        user.set_failure(&why, &mut goose.request, Some(&headers), None)
    }
}

/// Runs a load profile against the target (the embedded server when there is none).
pub async fn run(
    layout: &Layout,
    profile: &LoadProfile,
    target: Option<String>,
    report_file: Option<PathBuf>,
) -> Result<LoadReport, Error> {
    let prepared = suite::prepare(layout, &profile.target_profile, target, &Default::default()).await?;
    let target = prepared.target.clone();
    let scenario = setup_scenario(&profile.name);
    let options = Arc::new(RunOptions::default());
    preflight(&target, &scenario, &options).await?;

    // A goose user has one client, so one TLS identity: transactions that need another identity
    // (an untrusted QWAC, say) form their own goose scenario, weighted by their transactions.
    let mut groups: BTreeMap<String, Vec<&LoadTransaction>> = BTreeMap::new();
    for t in profile.transactions.iter().filter(|t| t.weight > 0) {
        let identity = t.tls.clone().unwrap_or_else(|| target.profile.identities.tls.clone());
        groups.entry(identity).or_default().push(t);
    }
    let mut attack =
        GooseAttack::initialize_with_config(goose_configuration(profile, &target.base_url, report_file.as_deref())?)
            .map_err(|e| Error::Internal(format!("goose: {e}")))?;
    let sessions: Sessions = Default::default();
    let counts: CountsByName =
        Arc::new(profile.transactions.iter().map(|t| (t.name.clone(), Arc::new(Counts::default()))).collect());
    for (identity, transactions) in &groups {
        let weight = transactions.iter().map(|t| t.weight).sum();
        let shared = Shared {
            target: target.clone(),
            scenario: scenario.clone(),
            options: options.clone(),
            sessions: sessions.clone(),
            counts: counts.clone(),
        };
        let group = goose_scenario(&shared, identity, transactions, weight)?;
        attack = attack.register_scenario(group);
    }
    let metrics = attack.execute().await.map_err(|e| Error::Internal(format!("goose: {e}")))?;
    // Cleanup after the attack, not in goose's on-stop: deleting thousands of clients inside a
    // user's last iteration would stretch its cadence and feed coordinated-omission mitigation
    // a huge synthetic backlog.
    let all: Vec<UserSession> = std::mem::take(&mut *sessions.lock().await);
    futures_util::future::join_all(all.iter().map(|s| async move { s.run.lock().await.cleanup().await })).await;
    if let Some(server) = prepared.embedded {
        server.stop().await;
    }
    Ok(summarise(profile, &target.base_url, &metrics, &counts))
}

/// One registration and its deletion before goose starts, so that a target that refuses the
/// profile's identities or credentials fails the load at once, with the reason.
async fn preflight(
    target: &Arc<Target>,
    scenario: &Arc<HarnessScenario>,
    options: &Arc<RunOptions>,
) -> Result<(), Error> {
    let mut run = ScenarioRun::new(target.clone(), scenario.clone(), options.clone());
    let register = own_registration();
    let result = run.step(0, &register).await;
    run.cleanup().await;
    if result.passed() {
        return Ok(());
    }
    let why: Vec<String> = result
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{}: expected {}, got {}", c.check, c.expected, c.got))
        .collect();
    Err(Error::Input {
        what: format!("load against {}", target.base_url),
        message: format!("a valid registration was refused, so the load would measure nothing: {}", why.join("; ")),
    })
}

/// One goose scenario: users presenting `identity`, each with its own registered client.
/// What every goose scenario of one load run shares.
struct Shared {
    target: Arc<Target>,
    scenario: Arc<HarnessScenario>,
    options: Arc<RunOptions>,
    sessions: Sessions,
    counts: CountsByName,
}

fn goose_scenario(
    shared: &Shared,
    identity: &str,
    transactions: &[&LoadTransaction],
    weight: usize,
) -> Result<goose::goose::Scenario, Error> {
    let Shared { target, scenario, options, sessions, counts } = shared;
    let bad = |e: GooseError| Error::input("load profile", e);
    let mut group = goose::goose::Scenario::new(&format!("as {identity}")).set_weight(weight).map_err(bad)?;
    let start: TransactionFunction = {
        let (target, scenario, options, identity) =
            (target.clone(), scenario.clone(), options.clone(), identity.to_string());
        let sessions = sessions.clone();
        Arc::new(move |user| {
            let (target, scenario, options, identity) =
                (target.clone(), scenario.clone(), options.clone(), identity.clone());
            let sessions = sessions.clone();
            Box::pin(async move {
                let builder = target
                    .transport
                    .builder(&target.pki, Some(&identity))
                    .map_err(|e| transaction_error(e.to_string()))?;
                user.set_client_builder(builder).await?;
                // The user's own client for read, update and refresh, registered as the profile's TPP.
                let mut run = ScenarioRun::new(target, scenario, options);
                let register = own_registration();
                if !run.step(0, &register).await.passed() {
                    return Err(transaction_error("the user could not register its client".into()));
                }
                let session = UserSession { run: Arc::new(tokio::sync::Mutex::new(run)) };
                sessions.lock().await.push(session.clone());
                user.set_session_data(session);
                Ok(())
            })
        })
    };
    group = group.register_transaction(Transaction::new(start).set_name("setup").set_on_start());
    for t in transactions {
        let (target, transaction) = (target.clone(), Arc::new((*t).clone()));
        let count = counts.get(&t.name).cloned().unwrap_or_default();
        let function: TransactionFunction = Arc::new(move |user| {
            let (target, transaction, count) = (target.clone(), transaction.clone(), count.clone());
            Box::pin(async move { run_transaction(user, target, transaction, count).await })
        });
        group =
            group.register_transaction(Transaction::new(function).set_name(&t.name).set_weight(t.weight).map_err(bad)?);
    }
    Ok(group)
}

fn goose_configuration(
    profile: &LoadProfile,
    base_url: &str,
    report_file: Option<&Path>,
) -> Result<goose::config::GooseConfiguration, Error> {
    let mut args: Vec<String> = vec![
        "--host".into(),
        base_url.to_string(),
        "--users".into(),
        profile.users.to_string(),
        "--increase-rate".into(),
        profile.hatch_rate.to_string(),
        "--run-time".into(),
        format!("{}s", profile.run_time),
        "--co-mitigation".into(),
        "average".into(),
        "--no-reset-metrics".into(),
        "--no-telnet".into(),
        "--no-print-metrics".into(),
        "--quiet".into(),
    ];
    if let Some(file) = report_file {
        args.extend(["--report-file".into(), file.display().to_string()]);
    }
    goose::config::GooseConfiguration::parse_args_default(&args)
        .map_err(|e| Error::Internal(format!("goose configuration: {e}")))
}

fn percentile_ms(data: &goose::metrics::GooseRequestMetricTimingData, p: f32) -> f64 {
    data.percentile_us(p) as f64 / 1000.0
}

/// A percentile over goose's time buckets of several transactions together.
fn merged_percentile_ms(buckets: &BTreeMap<u64, usize>, p: f64) -> f64 {
    let total: usize = buckets.values().sum();
    let rank = ((total as f64) * p).ceil().max(1.0) as usize;
    let mut seen = 0;
    for (bucket_us, n) in buckets {
        seen += n;
        if seen >= rank {
            return *bucket_us as f64 / 1000.0;
        }
    }
    0.0
}

/// Our figures from goose's metrics (coordinated-omission-corrected where goose has them).
fn summarise(
    profile: &LoadProfile,
    target: &str,
    metrics: &goose::metrics::GooseMetrics,
    counts: &CountsByName,
) -> LoadReport {
    use std::sync::atomic::Ordering::Relaxed;
    let names: BTreeMap<&str, &LoadTransaction> = profile.transactions.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut transactions = Vec::new();
    let mut all: BTreeMap<u64, usize> = BTreeMap::new();
    let (mut requests, mut unexpected, mut answered, mut samples) = (0, 0, 0, 0);
    for (key, aggregate) in &metrics.requests {
        let name = key.split_once(' ').map(|(_, n)| n).unwrap_or(key);
        if !names.contains_key(name) {
            continue;
        }
        let data = aggregate.coordinated_omission_data.as_ref().unwrap_or(&aggregate.raw_data);
        let Some(count) = counts.get(name) else { continue };
        let (sent, got, wrong) =
            (count.sent.load(Relaxed), count.answered.load(Relaxed), count.unexpected.load(Relaxed));
        requests += sent;
        answered += got;
        unexpected += wrong;
        samples += aggregate.success_count + aggregate.fail_count;
        for (bucket, n) in data.times_us.iter() {
            *all.entry(*bucket).or_default() += n;
        }
        transactions.push(TransactionFigures {
            name: name.to_string(),
            requests: sent,
            unexpected: wrong,
            p50_ms: percentile_ms(data, 0.5),
            p95_ms: percentile_ms(data, 0.95),
            p99_ms: percentile_ms(data, 0.99),
        });
    }
    transactions.sort_by(|a, b| a.name.cmp(&b.name));
    let duration_s = metrics.duration.max(1) as f64;
    let mut report = LoadReport {
        profile: profile.name.clone(),
        target: target.to_string(),
        duration_s,
        users: metrics.maximum_users,
        requests,
        answered,
        unexpected,
        throughput: requests as f64 / duration_s,
        synthetic_samples: samples.saturating_sub(requests),
        p50_ms: merged_percentile_ms(&all, 0.5),
        p95_ms: merged_percentile_ms(&all, 0.95),
        p99_ms: merged_percentile_ms(&all, 0.99),
        transactions,
        breaches: vec![],
    };
    report.breaches = breaches(&profile.thresholds, &report);
    report
}

fn breaches(t: &Thresholds, r: &LoadReport) -> Vec<String> {
    let mut out = Vec::new();
    let mut over = |name: &str, limit: Option<f64>, got: f64| {
        if let Some(limit) = limit.filter(|l| got > *l) {
            out.push(format!("{name} {got:.1} ms is over {limit} ms"));
        }
    };
    over("p50", t.p50_ms, r.p50_ms);
    over("p95", t.p95_ms, r.p95_ms);
    over("p99", t.p99_ms, r.p99_ms);
    let share = if r.requests == 0 { 1.0 } else { r.unexpected as f64 / r.requests as f64 };
    if let Some(max) = t.max_unexpected_share.filter(|m| share > *m) {
        out.push(format!("unexpected answers {:.2}% are over {:.2}%", share * 100.0, max * 100.0));
    }
    if let Some(min) = t.min_throughput.filter(|m| r.throughput < *m) {
        out.push(format!("throughput {:.0} requests/s is under {min}", r.throughput));
    }
    out
}

/// The terminal (and Markdown) summary.
pub fn render(r: &LoadReport) -> String {
    use std::fmt::Write;
    let mut out = format!(
        "load `{}` against {}: {} users, {:.0} s, {} requests ({} answered), {:.0} requests/s, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, {} unexpected, {} coordinated-omission samples\n\n",
        r.profile, r.target, r.users, r.duration_s, r.requests, r.answered, r.throughput, r.p50_ms, r.p95_ms, r.p99_ms, r.unexpected, r.synthetic_samples
    );
    let _ = writeln!(out, "| transaction | requests | unexpected | share | p50 ms | p95 ms | p99 ms |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for t in &r.transactions {
        let share = if t.requests == 0 { 0.0 } else { t.unexpected as f64 * 100.0 / t.requests as f64 };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {share:.2}% | {:.1} | {:.1} | {:.1} |",
            t.name, t.requests, t.unexpected, t.p50_ms, t.p95_ms, t.p99_ms
        );
    }
    if r.breaches.is_empty() {
        out.push_str("\nthresholds: all met\n");
    } else {
        let _ = writeln!(out, "\nthresholds breached:\n- {}", r.breaches.join("\n- "));
    }
    out
}
