//! The load command: the goose attack built from a load profile ([`LoadProfile`]). Weighted
//! transactions are requests in scenario terms (valid register, read, update, refresh; and
//! broken ones, so that both the accept and the reject paths of signature verification are
//! loaded), planned by the same [`plan`](crate::run::plan) as the scenarios. Each goose user has
//! its own reqwest client with its QWAC (goose's client builder) and its own [`Session`], which
//! registers a client at start; every client a user registered is deleted after the attack.
//! Every request is signed at send time. A transaction's expected statuses decide success: a
//! bad signature correctly refused is a success. Thresholds on latency, unexpected answers and
//! throughput make the outcome `ThresholdsBreached`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use goose::prelude::*;

use crate::error::{chain, Error};
use crate::preflight::{register_client, registration_body, RegistrationError};
use crate::run::model::load::breaches;
pub use crate::run::model::load::{LoadProfile, LoadReport, LoadTransaction, Thresholds, TransactionFigures};
use crate::run::session::{Answer, Lesson, Session};
use crate::run::Target;
use crate::scenario::{Operation, RequestSpec, DEFAULT_CLIENT};
use crate::suite::{self, Layout};

/// Reads a load profile by name (from `dir`) or by path.
pub fn read_profile(name_or_path: &str, dir: &Path) -> Result<LoadProfile, Error> {
    let as_path = Path::new(name_or_path);
    let path =
        if as_path.extension().is_some() { as_path.to_path_buf() } else { dir.join(format!("{name_or_path}.yaml")) };
    let text = crate::diagnostic::read_yaml_text(&path).map_err(|e| Error::input("load profile", e))?;
    let profile: LoadProfile = serde_norway::from_str(&text)
        .map_err(|e| Error::input("load profile", crate::diagnostic::located(&path, &e)))?;
    if profile.transactions.iter().all(|t| t.weight == 0) {
        let line = crate::diagnostic::line_of_key(&text, "transactions").unwrap_or(1);
        return Err(Error::input(
            "load profile",
            format!("{}:{line}:1: needs at least one transaction with a weight above 0", path.display()),
        ));
    }
    Ok(profile)
}

/// A goose user's state: its session (variables, its registered clients). Goose wants session
/// data it can clone; the session itself is shared, not copied.
#[derive(Clone)]
struct UserSession(Arc<tokio::sync::Mutex<Session>>);

/// Every user's session, kept for the cleanup after the attack.
type Sessions = Arc<tokio::sync::Mutex<Vec<UserSession>>>;

/// Exact counts of one transaction. Goose's own counts include the synthetic samples of
/// coordinated-omission mitigation, which are right for latencies and wrong for "how many
/// requests were sent".
#[derive(Default, Debug)]
struct Counts {
    sent: AtomicUsize,
    answered: AtomicUsize,
    unexpected: AtomicUsize,
}

type CountsByName = Arc<BTreeMap<String, Arc<Counts>>>;

/// The name under which a user's extra registrations are kept (each retires the one before,
/// so every one is deleted after the attack).
const EXTRA_CLIENT: &str = "extra";

/// A transaction's request in scenario terms, about the user's own client.
fn request_of(t: &LoadTransaction) -> RequestSpec {
    RequestSpec {
        method: t.method.clone(),
        path: t.path.clone(),
        body: body_of(t.op),
        tls: t.tls.clone(),
        sign: t.sign.clone(),
        ..RequestSpec::of(t.op)
    }
}

fn body_of(op: Operation) -> Option<serde_json::Value> {
    match op {
        Operation::Register => Some(registration_body(LOAD_CLIENT_NAME)),
        Operation::Update => {
            Some(serde_json::json!({"client_id": "{{client.id}}", "redirect_uris": ["https://tpp.example/updated"]}))
        }
        _ => None,
    }
}

/// The name (a template) of every client a load registers.
const LOAD_CLIENT_NAME: &str = "load {{unique}}";

/// Registers the session's own client, as the profile's TPP.
async fn register_own_client(session: &mut Session) -> Result<(), RegistrationError> {
    register_client(session, LOAD_CLIENT_NAME).await
}

fn goose_method(method: &str) -> GooseMethod {
    match method {
        "GET" => GooseMethod::Get,
        "PUT" => GooseMethod::Put,
        "DELETE" => GooseMethod::Delete,
        "PATCH" => GooseMethod::Patch,
        "HEAD" => GooseMethod::Head,
        _ => GooseMethod::Post,
    }
}

fn transaction_error(message: String) -> Box<TransactionError> {
    Box::new(TransactionError::Custom(message))
}

/// One transaction: plan and sign at send time, send through goose (so it measures), judge by
/// the expected statuses, and let the session learn from the answer.
async fn run_transaction(
    user: &mut GooseUser,
    base_url: &str,
    (transaction, request): &(LoadTransaction, RequestSpec),
    counts: &Counts,
) -> TransactionResult {
    let session =
        user.get_session_data::<UserSession>().cloned().ok_or_else(|| transaction_error("no session".into()))?;
    let planned =
        session.0.lock().await.plan(request, transaction.mutation).await.map_err(|e| transaction_error(chain(&e)))?;
    // Goose sends with the user's own client, whose TLS identity is the transaction group's.
    let builder =
        crate::transport::Transport::request(&user.client, planned.origin.as_deref().unwrap_or(base_url), &planned.msg)
            .map_err(|e| transaction_error(chain(&e)))?;
    let path = planned.msg.path().to_string();
    let mut request = GooseRequest::builder()
        .method(goose_method(&planned.msg.method))
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
    let lesson =
        Lesson::without_capture(transaction.op, DEFAULT_CLIENT, EXTRA_CLIENT, transaction.expect.contains(&201));
    session.0.lock().await.absorb(&lesson, Answer { status, body: &body });
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
    preflight(&target).await?;

    // A goose user has one client, so one TLS identity: transactions that need another identity
    // (an untrusted QWAC, say) form their own goose scenario, weighted by their transactions.
    let mut groups: BTreeMap<Option<String>, Vec<&LoadTransaction>> = BTreeMap::new();
    for t in profile.transactions.iter().filter(|t| t.weight > 0) {
        let identity = match &t.tls {
            Some(who) => who.resolve(&target.profile.identities).map(str::to_string),
            None => target.profile.identities.tls.name().map(str::to_string),
        };
        groups.entry(identity).or_default().push(t);
    }
    let config = goose_configuration(profile, &target.base_url, report_file.as_deref())?;
    let mut attack = GooseAttack::initialize_with_config(config).map_err(|e| Error::Goose(Box::new(e)))?;
    let sessions: Sessions = Default::default();
    let counts: CountsByName =
        Arc::new(profile.transactions.iter().map(|t| (t.name.clone(), Arc::new(Counts::default()))).collect());
    for (identity, transactions) in &groups {
        let weight = transactions.iter().map(|t| t.weight).sum();
        let shared = Shared { target: target.clone(), sessions: sessions.clone(), counts: counts.clone() };
        attack = attack.register_scenario(goose_scenario(&shared, identity.as_deref(), transactions, weight)?);
    }
    // goose stops gracefully on Ctrl-C by itself; SIGTERM (a CI runner's or Kubernetes' stop)
    // is made to do the same, so that the clean-up below still runs.
    let sigterm = tokio::spawn(async {
        #[cfg(unix)]
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            term.recv().await;
            goose::trigger_killswitch("SIGTERM received");
        }
    });
    let metrics = attack.execute().await.map_err(|e| Error::Goose(Box::new(e)));
    sigterm.abort();
    let metrics = metrics?;
    let interrupted = goose::is_killswitch_triggered();
    // Cleanup after the attack, not in goose's on-stop: deleting thousands of clients inside a
    // user's last iteration would stretch its cadence and feed coordinated-omission mitigation
    // a huge synthetic backlog.
    let all: Vec<UserSession> = std::mem::take(&mut *sessions.lock().await);
    futures_util::future::join_all(all.iter().map(|s| async move { s.0.lock().await.cleanup().await })).await;
    let mut report = summarise(profile, &target.base_url, &metrics, &counts);
    report.interrupted = interrupted;
    report.clients_left = target.ledger.outstanding().into_iter().map(|e| e.client_id).collect();
    report.ledger = target.ledger.finish().map(|p| p.display().to_string());
    if let Some(server) = prepared.embedded {
        server.stop().await;
    }
    Ok(report)
}

/// One registration and its deletion before goose starts, so that a target that refuses the
/// profile's identities or credentials fails the load at once, with the reason.
async fn preflight(target: &Arc<Target>) -> Result<(), Error> {
    let mut session = Session::new(target.clone());
    let registered = register_own_client(&mut session).await;
    session.cleanup().await;
    let what = || format!("load against {}", target.base_url);
    match registered {
        Ok(()) => Ok(()),
        Err(RegistrationError::NoAnswer(e)) => {
            Err(Error::Unreachable { target: target.base_url.clone(), cause: e.into() })
        }
        Err(e) => Err(Error::input(what(), format!("{e}, so the load would measure nothing"))),
    }
}

/// What every goose scenario of one load run shares.
struct Shared {
    target: Arc<Target>,
    sessions: Sessions,
    counts: CountsByName,
}

/// One goose scenario: users presenting `identity`, each with its own registered client.
fn goose_scenario(
    shared: &Shared,
    identity: Option<&str>,
    transactions: &[&LoadTransaction],
    weight: usize,
) -> Result<goose::goose::Scenario, Error> {
    let Shared { target, sessions, counts } = shared;
    let bad = |e: GooseError| Error::input("load profile", e);
    let name = format!("as {}", identity.unwrap_or("no certificate"));
    let mut group = goose::goose::Scenario::new(&name).set_weight(weight).map_err(bad)?;
    let start: TransactionFunction = {
        let (target, sessions, identity) = (target.clone(), sessions.clone(), identity.map(str::to_string));
        Arc::new(move |user| {
            let (target, sessions, identity) = (target.clone(), sessions.clone(), identity.clone());
            Box::pin(async move {
                let builder = target
                    .transport
                    .builder(&target.pki, identity.as_deref())
                    .map_err(|e| transaction_error(chain(&e)))?;
                user.set_client_builder(builder).await?;
                // The user's own client for read, update and refresh, registered as the profile's TPP.
                let mut session = Session::new(target);
                let registered = register_own_client(&mut session).await;
                let session = UserSession(Arc::new(tokio::sync::Mutex::new(session)));
                // Kept even when the registration failed: whatever it created is deleted after.
                sessions.lock().await.push(session.clone());
                registered.map_err(|e| transaction_error(format!("the user could not register its client: {e}")))?;
                user.set_session_data(session);
                Ok(())
            })
        })
    };
    group = group.register_transaction(Transaction::new(start).set_name("setup").set_on_start());
    for t in transactions {
        // Built once; planned (and signed) afresh for every request.
        let (base_url, transaction) = (target.base_url.clone(), Arc::new(((*t).clone(), request_of(t))));
        let count = counts.get(&t.name).cloned().unwrap_or_default();
        let function: TransactionFunction = Arc::new(move |user| {
            let (base_url, transaction, count) = (base_url.clone(), transaction.clone(), count.clone());
            Box::pin(async move { run_transaction(user, &base_url, &transaction, &count).await })
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
        .map_err(|e| Error::input("load profile", format!("goose refused its configuration: {e}")))
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
        clients_left: vec![],
        ledger: None,
        interrupted: false,
    };
    report.breaches = breaches(&profile.thresholds, &report);
    report
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
    if r.interrupted {
        out.push_str("\ninterrupted: the figures above are partial, and no threshold is judged\n");
    } else if r.breaches.is_empty() {
        out.push_str("\nthresholds: all met\n");
    } else {
        let _ = writeln!(out, "\nthresholds breached:\n- {}", r.breaches.join("\n- "));
    }
    if !r.clients_left.is_empty() {
        let how = crate::run::model::cleanup_hint(r.ledger.as_deref());
        let _ = writeln!(out, "\n{} client(s) left on the target: {how}", r.clients_left.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Who;

    #[test]
    fn merged_percentiles_rank_across_buckets() {
        let buckets = BTreeMap::from([(1_000, 50), (2_000, 45), (9_000, 5)]);
        let cases = [(0.0, 1.0), (0.5, 1.0), (0.51, 2.0), (0.95, 2.0), (0.96, 9.0), (1.0, 9.0)];
        for (p, ms) in cases {
            assert_eq!(merged_percentile_ms(&buckets, p), ms, "p{p}");
        }
        assert_eq!(merged_percentile_ms(&BTreeMap::new(), 0.99), 0.0, "no samples");
    }

    #[test]
    fn a_transaction_is_a_request_about_the_users_own_client() {
        let t = LoadTransaction {
            name: "t".into(),
            op: Operation::Update,
            method: None,
            path: None,
            weight: 1,
            mutation: None,
            tls: Some(Who::Named("qwac-untrusted".into())),
            sign: Some(Who::Nobody),
            expect: vec![200],
        };
        let r = request_of(&t);
        assert_eq!((r.op, r.client_name()), (Operation::Update, DEFAULT_CLIENT));
        assert_eq!(r.body.as_ref().and_then(|b| b.get("client_id")), Some(&serde_json::json!("{{client.id}}")));
        assert_eq!((r.tls, r.sign), (t.tls.clone(), Some(Who::Nobody)));
        let register = request_of(&LoadTransaction { op: Operation::Register, ..t.clone() });
        assert!(register.body.as_ref().and_then(|b| b.get("redirect_uris")).is_some());
        assert_eq!(request_of(&LoadTransaction { op: Operation::Read, ..t }).body, None);
    }

    #[test]
    fn goose_gets_the_method_of_the_planned_request() {
        let cases = [
            ("GET", GooseMethod::Get),
            ("PUT", GooseMethod::Put),
            ("DELETE", GooseMethod::Delete),
            ("POST", GooseMethod::Post),
        ];
        for (method, goose) in cases {
            assert_eq!(format!("{:?}", goose_method(method)), format!("{goose:?}"), "{method}");
        }
    }

    #[test]
    fn a_load_profile_without_users_or_weight_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write =
            |name: &str, text: &str| std::fs::write(dir.path().join(format!("{name}.yaml")), text).expect("write");
        let transaction = "transactions: [{ name: r, op: read, weight: 1, expect: [200] }]";
        write("no-users", &format!("name: x\nusers: 0\nhatch_rate: 1\nrun_time: 1\n{transaction}\n"));
        write("no-weight", "name: x\nusers: 1\nhatch_rate: 1\nrun_time: 1\ntransactions: [{ name: r, op: read, weight: 0, expect: [200] }]\n");
        write("fine", &format!("name: x\nusers: 1\nhatch_rate: 1\nrun_time: 1\n{transaction}\n"));
        for bad in ["no-users", "no-weight"] {
            let err = read_profile(bad, dir.path()).expect_err(bad).to_string();
            let said = ["needs at least one transaction", "out of range: give a whole number from 1"];
            assert!(said.iter().any(|s| err.contains(s)), "{bad}: {err}");
        }
        assert!(read_profile("fine", dir.path()).is_ok());
    }
}
