//! The users of a load, on tokio. Each user has its own [`Session`] (and so its own registered
//! client, rotation followed; a client whose management request went unanswered is put aside,
//! its token in doubt, and another registered), picks transactions by weight across every TLS
//! identity (the transport keeps one pooled client per identity, shared by all users), plans
//! and signs each request at send time (or takes the signature of this second from the memo),
//! and tallies the answer in its own figures: no lock on the hot path but its own, which the
//! once-a-second ticker takes for the timeline. Closed model: users loop until the run time is
//! over. Open model: requests fall due on the [`Schedule`]; a user that starts late counts the
//! latency from when the request was due, so a slow server cannot hide behind the users it
//! keeps busy (coordinated omission). It measures; it does not judge thresholds or print.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::figures::{Outcome, Tally, Tick};
use super::pace::{Picker, Schedule};
use super::resend::Resend;
use crate::load::model::{LoadTransaction, Pacing, Signing};
use crate::preflight::registration_body;
use crate::run::options::Interrupt;
use crate::run::plan::{PlanError, Planned};
use crate::run::session::{Answer, Lesson, Session};
use crate::run::Target;
use crate::scenario::{Operation, RequestSpec};
use crate::signature::{unix_seconds, SignatureMemo};
use crate::transport::{Ready, TransportError};

/// The name under which a user's extra registrations are kept (each retires the one before,
/// so every one is deleted after the load, unless a `delete` transaction deleted it first).
pub const EXTRA_CLIENT: &str = "extra";

/// A transaction ready to plan: its requests (registrations have one per body of the pool).
pub struct Prepared {
    pub transaction: LoadTransaction,
    pub requests: Vec<RequestSpec>,
    /// Its requests carry their number (`{{iteration}}`): fresh-signed registrations.
    numbered: bool,
    /// Its request of a second may be sent again within it: per-second registrations, which
    /// are about no client of the session.
    resendable: bool,
}

impl Prepared {
    /// Per-second signing draws registrations from `bodies` distinct bodies (the signatures it
    /// makes each second); fresh signing numbers each one, so that no two carry one signature
    /// (RSA PKCS#1 v1.5 is deterministic, and a server may refuse a repeat as a replay).
    pub fn new(t: &LoadTransaction, bodies: usize, signing: Signing) -> Self {
        let requests = match (t.op, signing) {
            (Operation::Register, Signing::Fresh) => {
                vec![request_of(t, Some(registration_body("load {{unique}} {{iteration}}")))]
            }
            (Operation::Register, Signing::PerSecond) => {
                (0..bodies).map(|i| request_of(t, Some(registration_body(&format!("load {i}"))))).collect()
            }
            (Operation::Update, _) => vec![request_of(
                t,
                Some(t.body.clone().unwrap_or_else(
                    || serde_json::json!({"client_id": "{{client.id}}", "redirect_uris": ["https://tpp.example/updated"]}),
                )),
            )],
            // The user's latest extra registration, never its own client: a profile that pairs
            // registrations with deletions keeps the target's client count flat.
            (Operation::Delete, _) => {
                vec![RequestSpec { client: Some(EXTRA_CLIENT.to_string()), ..request_of(t, None) }]
            }
            _ => vec![request_of(t, t.body.clone())],
        };
        let numbered = (t.op, signing) == (Operation::Register, Signing::Fresh);
        let resendable = (t.op, signing) == (Operation::Register, Signing::PerSecond);
        Prepared { transaction: t.clone(), requests, numbered, resendable }
    }

    /// The `n`th request of this transaction.
    pub(crate) fn request(&self, n: usize) -> &RequestSpec {
        &self.requests[n % self.requests.len()]
    }

    /// Plans the `n`th request of this transaction (numbered `n` where it carries a number),
    /// signed once.
    pub(crate) async fn plan(&self, session: &mut Session, n: usize) -> Result<Planned, PlanError> {
        if self.numbered {
            session.number_request(n as u64);
        }
        session.plan(self.request(n), self.transaction.mutation).await
    }
}

/// A transaction's request in scenario terms, about the user's own client.
fn request_of(t: &LoadTransaction, body: Option<serde_json::Value>) -> RequestSpec {
    RequestSpec {
        method: t.method.clone(),
        path: t.path.clone(),
        body,
        tls: t.tls.clone(),
        sign: t.sign.clone(),
        ..RequestSpec::of(t.op)
    }
}

/// What the users share.
pub struct Attack {
    pub target: Arc<Target>,
    pub transactions: Vec<Prepared>,
    pub pacing: Pacing,
    pub memo: Option<Arc<SignatureMemo>>,
    /// The registrations a user keeps (beside its own client) before deleting its oldest; none
    /// keeps all.
    pub keep: Option<usize>,
    pub stop: Interrupt,
}

/// The name of the line that measures the deletions of the rolling cleanup.
pub const ROLLING_CLEANUP: &str = "cleanup (delete beyond keep_clients)";

impl Attack {
    /// The keep limit, where a transaction registers clients to keep in check.
    fn rolling_cleanup(&self) -> Option<usize> {
        // A target that manages no clients (RFC 7591 alone) has no deletion to roll.
        let deletes = self.target.profile.management != crate::scenario::profile::Management::None;
        self.keep.filter(|_| deletes && self.transactions.iter().any(|t| t.transaction.op == Operation::Register))
    }

    /// A user's session: signs each request once, through the memo where signatures are reused.
    pub(crate) fn session(&self) -> Session {
        Session::for_load(self.target.clone(), self.memo.clone())
    }

    /// An empty tally per transaction, and one for the rolling cleanup where there is one.
    fn empty_tallies(&self) -> Vec<Tally> {
        let names = self.transactions.iter().map(|t| t.transaction.name.as_str());
        let cleanup = self.rolling_cleanup().map(|_| ROLLING_CLEANUP);
        names.chain(cleanup).map(Tally::named).collect()
    }
}

/// What the ticker tells the caller every second.
pub struct Progress {
    pub elapsed_s: u64,
    pub run_time_s: u64,
    pub requests: u64,
    pub unexpected: u64,
    pub last_second: u64,
    pub last_p50_us: u64,
    pub last_p99_us: u64,
    /// The last second's latencies: (microseconds, how many), for what streams them.
    pub last_latencies: Vec<(u64, u64)>,
    /// Answers so far by [`STATUS_CLASSES`].
    pub statuses: [u64; STATUS_CLASSES.len()],
}

/// What the attack measured, and the sessions whose clients are to be deleted.
pub struct Attacked {
    pub tallies: Vec<Tally>,
    pub timeline: Vec<Tick>,
    pub sessions: Vec<Session>,
    pub duration_s: f64,
    pub scheduled: Option<u64>,
    pub late_starts: u64,
    pub max_lag_us: u64,
    /// Why users could not register their own client (each user once).
    pub setup_failures: Vec<String>,
    /// CPU seconds of the process during the attack.
    pub cpu_s: Option<f64>,
}

struct Shared {
    attack: Attack,
    start: Instant,
    deadline: Instant,
    schedule: Option<Schedule>,
    next: AtomicU64,
    late: AtomicU64,
    max_lag_us: AtomicU64,
    weights: Vec<usize>,
}

/// One user's figures as it goes (or all goose users'): the ticker reads and resets them every
/// second.
pub(crate) struct Live {
    tick: Mutex<LiveTick>,
}

struct LiveTick {
    requests: u64,
    unexpected: u64,
    statuses: [u64; STATUS_CLASSES.len()],
    latency: hdrhistogram::Histogram<u64>,
}

/// The answers the live view counts apart: by status class, and none.
pub const STATUS_CLASSES: [&str; 5] = ["2xx", "3xx", "4xx", "5xx", "no answer"];

/// Where an answer (or none) is counted in [`STATUS_CLASSES`].
pub(crate) fn status_class(answer: Result<u16, &str>) -> usize {
    match answer {
        Ok(status) => usize::from(status / 100).clamp(2, 5) - 2,
        Err(_) => 4,
    }
}

impl Live {
    pub(crate) fn new() -> Live {
        let latency = super::figures::second_histogram();
        Live { tick: Mutex::new(LiveTick { requests: 0, unexpected: 0, statuses: Default::default(), latency }) }
    }

    pub(crate) fn count(&self, latency_us: u64, expected: bool, answer: Result<u16, &str>) {
        let mut tick = self.tick.lock().unwrap_or_else(|p| p.into_inner());
        tick.requests += 1;
        tick.unexpected += u64::from(!expected);
        tick.statuses[status_class(answer)] += 1;
        tick.latency.saturating_record(latency_us.max(1));
    }
}

/// Runs the attack to its end (or the stop), calling `on_tick` every second.
pub async fn attack(attack: Attack, mut on_tick: impl FnMut(&Progress) + Send) -> Attacked {
    let run_time = Duration::from_secs(attack.pacing.run_time_s());
    let start = Instant::now();
    let (users, schedule) = match &attack.pacing {
        Pacing::Closed { users, .. } => (*users, None),
        Pacing::Open { users, stages } => (*users, Some(Schedule::new(stages))),
    };
    let weights = attack.transactions.iter().map(|t| t.transaction.weight).collect();
    let shared = Arc::new(Shared {
        attack,
        start,
        deadline: start + run_time,
        schedule,
        next: AtomicU64::new(0),
        late: AtomicU64::new(0),
        max_lag_us: AtomicU64::new(0),
        weights,
    });
    let lives: Vec<Arc<Live>> = (0..users).map(|_| Arc::new(Live::new())).collect();
    let cpu_at_start = process_cpu_s();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, live) in lives.iter().enumerate() {
        let delay = match &shared.attack.pacing {
            Pacing::Closed { hatch_rate, .. } => Duration::from_secs_f64(index as f64 / hatch_rate),
            Pacing::Open { .. } => Duration::ZERO,
        };
        tasks.spawn(user(shared.clone(), index, delay, live.clone()));
    }
    let mut timeline = Vec::new();
    let mut ticker = Ticker::new(start, run_time.as_secs());
    let mut users_done = Vec::new();
    let mut interval = ticker.interval();
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(Ok(done)) => users_done.push(done),
                Some(Err(_)) => {} // a user that panicked; its session is lost, its clients in the ledger
                None => break,
            },
            _ = interval.tick() => {
                let (tick, progress) = ticker.tick(&lives);
                on_tick(&progress);
                timeline.push(tick);
            }
        }
    }
    let duration_s = start.elapsed().as_secs_f64();
    // What was due while the load ran (all of the schedule, unless it was stopped early).
    let scheduled = shared.schedule.as_ref().map(|s| s.due_by(duration_s));
    let cpu_s = process_cpu_s().zip(cpu_at_start).map(|(end, start)| end - start);
    // The part-second after the last tick is counted in the totals, not drawn as a second of
    // its own (it would show as a collapse of throughput at the end).
    ticker.tick(&lives);
    let mut tallies = shared.attack.empty_tallies();
    let mut sessions = Vec::new();
    let mut setup_failures = Vec::new();
    for done in users_done {
        for (mine, theirs) in tallies.iter_mut().zip(&done.tallies) {
            mine.add(theirs);
        }
        sessions.push(done.session);
        setup_failures.extend(done.setup_failure);
    }
    Attacked {
        tallies,
        timeline,
        sessions,
        duration_s,
        scheduled,
        late_starts: shared.late.load(Relaxed),
        max_lag_us: shared.max_lag_us.load(Relaxed),
        setup_failures,
        cpu_s,
    }
}

/// Every user's last second, summed, and each user's figures reset for the next.
/// The once-a-second reading of the users' figures that both engines tell their caller: the
/// second's requests, answers and latencies taken from the users, the totals kept.
pub(crate) struct Ticker {
    started: Instant,
    run_time_s: u64,
    second: hdrhistogram::Histogram<u64>,
    requests: u64,
    unexpected: u64,
    statuses: [u64; STATUS_CLASSES.len()],
}

impl Ticker {
    pub(crate) fn new(started: Instant, run_time_s: u64) -> Ticker {
        let second = super::figures::second_histogram();
        Ticker { started, run_time_s, second, requests: 0, unexpected: 0, statuses: Default::default() }
    }

    /// Every second from the start.
    pub(crate) fn interval(&self) -> tokio::time::Interval {
        let first = tokio::time::Instant::from_std(self.started) + Duration::from_secs(1);
        tokio::time::interval_at(first, Duration::from_secs(1))
    }

    /// Takes the second's figures from `lives` (and resets them): the second, for the timeline,
    /// and the progress so far.
    pub(crate) fn tick(&mut self, lives: &[Arc<Live>]) -> (Tick, Progress) {
        let mut tick = Tick::default();
        let mut statuses = [0u64; STATUS_CLASSES.len()];
        self.second.reset();
        for live in lives {
            let mut mine = live.tick.lock().unwrap_or_else(|p| p.into_inner());
            tick.requests += std::mem::take(&mut mine.requests);
            tick.unexpected += std::mem::take(&mut mine.unexpected);
            for (all, one) in statuses.iter_mut().zip(&mut mine.statuses) {
                *all += std::mem::take(one);
            }
            let _ = self.second.add(&mine.latency);
            mine.latency.reset();
        }
        if !self.second.is_empty() {
            tick.p50_us = self.second.value_at_quantile(0.5);
            tick.p99_us = self.second.value_at_quantile(0.99);
        }
        self.requests += tick.requests;
        self.unexpected += tick.unexpected;
        for (all, second) in self.statuses.iter_mut().zip(statuses) {
            *all += second;
        }
        let progress = Progress {
            elapsed_s: self.started.elapsed().as_secs(),
            run_time_s: self.run_time_s,
            requests: self.requests,
            unexpected: self.unexpected,
            last_second: tick.requests,
            last_p50_us: tick.p50_us,
            last_p99_us: tick.p99_us,
            last_latencies: self.second.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect(),
            statuses: self.statuses,
        };
        (tick, progress)
    }
}

/// CPU seconds this process has used (user and system), from /proc on Linux; none elsewhere.
pub(crate) fn process_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses: utime and stime are
    // the 12th and 13th, in clock ticks of 1/100 s on Linux.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

struct UserDone {
    tallies: Vec<Tally>,
    session: Session,
    setup_failure: Option<String>,
}

async fn user(shared: Arc<Shared>, index: usize, delay: Duration, live: Arc<Live>) -> UserDone {
    let attack = &shared.attack;
    let mut session = attack.session();
    let mut tallies = attack.empty_tallies();
    let keep = attack.rolling_cleanup();
    if !sleep_unless_stopped(Instant::now() + delay, &attack.stop).await || Instant::now() >= shared.deadline {
        return UserDone { tallies, session, setup_failure: None };
    }
    if let Err(e) = crate::preflight::register_client(&mut session, "load {{unique}}").await {
        return UserDone { tallies, session, setup_failure: Some(e.to_string()) };
    }
    let mut picker = Picker::new(&shared.weights);
    // Users start at different places of the cycle, so that they do not all send the same.
    for _ in 0..index % shared.weights.iter().sum::<usize>().max(1) {
        picker.next_index();
    }
    let mut sent = index;
    let mut resend = Resend::default();
    loop {
        let Some(due) = next_due(&shared).await else { break };
        let i = next_sendable(&mut picker, &attack.transactions, &session);
        let prepared = &attack.transactions[i];
        let again = prepared.resendable.then_some((&mut resend, attack.memo.as_deref()));
        let (answer, code, expected) = send_one(&mut session, (i, prepared), sent, again).await;
        let lost = matches!(&answer, Err(Unanswered::Transport(e)) if e.may_have_arrived());
        let n = sent;
        sent += 1;
        let latency_us = due.elapsed().as_micros().min(u64::MAX.into()) as u64;
        // The tally counts an unanswered transaction under the words of its reason.
        let answer = answer.map_err(|why| why.to_string());
        let outcome = Outcome {
            answer: answer.as_ref().map(|s| *s).map_err(String::as_str),
            expected,
            code: code.as_deref(),
            latency_us,
        };
        tallies[i].record(&outcome);
        live.count(latency_us, expected, outcome.answer);
        if lost {
            let prepared = &attack.transactions[i];
            let about = prepared.request(n).client_name();
            if let Err(why) = follow_lost_answer(&mut session, prepared.transaction.op, about).await {
                return UserDone { tallies, session, setup_failure: Some(why) };
            }
        }
        // The current registration and the retired ones: beyond `keep`, the oldest goes.
        if keep.is_some_and(|keep| session.retired_count() >= keep) {
            let started = Instant::now();
            if let Some((deleted, status)) = session.delete_oldest_retired().await {
                let latency_us = started.elapsed().as_micros().min(u64::MAX.into()) as u64;
                let status = status.map_err(|why| why.to_string());
                let answer = status.as_ref().map(|s| *s).map_err(String::as_str);
                // A client whose token may have rotated unseen is expected to be refused.
                let expected = deleted.ok || deleted.stranded;
                tallies[attack.transactions.len()].record(&Outcome { answer, expected, code: None, latency_us });
                live.count(latency_us, expected, answer);
            }
        }
    }
    UserDone { tallies, session, setup_failure: None }
}

/// A request `op` about the client `name` got no answer. Where `op` manages the client, it may
/// have rotated its token or deleted it unseen: the client is put aside for cleanup, and where
/// it was the user's own, the user registers another to go on with (or says why it could not).
pub(crate) async fn follow_lost_answer(session: &mut Session, op: Operation, name: &str) -> Result<(), String> {
    if !op.manages() {
        return Ok(());
    }
    session.put_aside_unanswered(name);
    if name != crate::scenario::DEFAULT_CLIENT {
        return Ok(());
    }
    crate::preflight::register_client(session, "load {{unique}}")
        .await
        .map_err(|e| format!("a new client after an answer lost: {e}"))
}

/// The next transaction by weight that has something to act on: a `delete` waits for a
/// registration to delete (the profile gives registrations at least as much weight).
fn next_sendable(picker: &mut Picker, transactions: &[Prepared], session: &Session) -> usize {
    let nothing_to_delete = || session.client(EXTRA_CLIENT).is_none_or(|c| c.deleted);
    let mut i = picker.next_index();
    for _ in 0..transactions.len() {
        if transactions[i].transaction.op != Operation::Delete || !nothing_to_delete() {
            break;
        }
        i = picker.next_index();
    }
    i
}

/// When the user's next request is due: now (closed model, before the run time is over), or
/// the next slot of the schedule (open model); none when the load is over or stopped.
async fn next_due(shared: &Shared) -> Option<Instant> {
    let stop = &shared.attack.stop;
    if stop.raised() {
        return None;
    }
    let Some(schedule) = &shared.schedule else {
        return (Instant::now() < shared.deadline).then(Instant::now);
    };
    let k = shared.next.fetch_add(1, Relaxed);
    let due = shared.start + Duration::from_secs_f64(schedule.due(k)?);
    if !sleep_unless_stopped(due, stop).await {
        return None;
    }
    let lag = Instant::now().saturating_duration_since(due);
    if lag > Duration::from_millis(1) {
        shared.late.fetch_add(1, Relaxed);
        shared.max_lag_us.fetch_max(lag.as_micros() as u64, Relaxed);
    }
    Some(due)
}

/// Sleeps until `until`, looking at the stop flag every 100 ms; false if stopped.
async fn sleep_unless_stopped(until: Instant, stop: &Interrupt) -> bool {
    loop {
        if stop.raised() {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        tokio::time::sleep((until - now).min(Duration::from_millis(100))).await;
    }
}

/// Why a transaction got no status: its `Display` is a few words, so that failures of a kind
/// count together.
#[derive(Debug, thiserror::Error)]
enum Unanswered {
    #[error("not sent: {}", crate::diagnostic::chain(.0))]
    NotSent(#[source] PlanError),
    #[error("{}", short_reason(.0))]
    Transport(#[source] TransportError),
}

/// Plans, signs, sends, learns: the status (or why there was none), the error code of an
/// unexpected answer, and whether the answer was expected. Where it is given the user's
/// requests of the second (and the memo that counts their signatures), the `n`th request of
/// transaction `i` is sent again as built, where a request of this second was.
async fn send_one(
    session: &mut Session,
    (i, prepared): (usize, &Prepared),
    n: usize,
    again: Option<(&mut Resend<Ready>, Option<&SignatureMemo>)>,
) -> (Result<u16, Unanswered>, Option<String>, bool) {
    let key = (i, n % prepared.requests.len());
    if let Some((resend, memo)) = &again {
        if let Some(ready) = resend.ready(key, unix_seconds(SystemTime::now())) {
            memo.inspect(|m| m.count_reuse());
            let sent = session.send_ready(ready).await;
            return judged(session, prepared, n, sent);
        }
    }
    let planned = match prepared.plan(session, n).await {
        Ok(planned) => planned,
        Err(e) => return (Err(Unanswered::NotSent(e)), None, false),
    };
    // A plan kept for the rest of its second is sent as kept, not built again.
    let kept = again.and_then(|(resend, _)| resend.learn(key, &planned, |p| session.target().ready(p).ok()));
    let sent = match kept {
        Some(ready) => session.send_ready(ready).await,
        None => session.send(&planned).await,
    };
    judged(session, prepared, n, sent)
}

/// The status of the `n`th request of `prepared` (or why there was none), what the session
/// learns from its answer, the error code of an unexpected one, and whether it was expected.
fn judged(
    session: &mut Session,
    prepared: &Prepared,
    n: usize,
    sent: Result<crate::transport::Response, TransportError>,
) -> (Result<u16, Unanswered>, Option<String>, bool) {
    match sent {
        Ok(response) => {
            let (code, expected) = learn_from(session, &prepared.transaction, prepared.request(n), &response);
            (Ok(response.status), code, expected)
        }
        Err(e) => (Err(Unanswered::Transport(e)), None, false),
    }
}

/// What the session learns from a transaction's answer (a client registered, a secret
/// rotated), and whether the answer was expected, with its error code where it was not.
pub(crate) fn learn_from(
    session: &mut Session,
    t: &LoadTransaction,
    request: &RequestSpec,
    response: &crate::transport::Response,
) -> (Option<String>, bool) {
    let lesson = Lesson::without_capture(t.op, request.client_name(), EXTRA_CLIENT, t.expect.contains(&201));
    session.absorb(&lesson, Answer::from(response));
    let expected = t.expect.contains(&response.status);
    let code = if expected { None } else { crate::run::check::error_code(response) };
    (code, expected)
}

/// A transport failure in a few words, so that failures of a kind count together.
fn short_reason(e: &TransportError) -> &'static str {
    use crate::transport::TransportError::*;
    match e {
        TlsRefused { .. } => "TLS handshake refused",
        ServerUntrusted { .. } => "server certificate not trusted",
        NotTls { .. } => "not TLS",
        TlsBroken { .. } => "TLS handshake failed",
        Unreachable { .. } => "cannot connect",
        Timeout { .. } => "timeout",
        Other { .. } => "connection error",
        Identity { .. } => "TLS identity would not load",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Who, DEFAULT_CLIENT};

    #[test]
    fn each_answer_is_counted_in_its_status_class() {
        let cases: &[(Result<u16, &str>, &str)] = &[
            (Ok(201), "2xx"),
            (Ok(302), "3xx"),
            (Ok(401), "4xx"),
            (Ok(503), "5xx"),
            (Ok(700), "5xx"),
            (Err("timed out"), "no answer"),
        ];
        for (answer, class) in cases {
            assert_eq!(STATUS_CLASSES[status_class(*answer)], *class, "{answer:?}");
        }
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
            body: None,
        };
        let update = Prepared::new(&t, 5, Signing::Fresh);
        let [r] = &update.requests[..] else { panic!("one update request") };
        assert_eq!((r.op, r.client_name()), (Operation::Update, DEFAULT_CLIENT));
        assert_eq!(r.body.as_ref().and_then(|b| b.get("client_id")), Some(&serde_json::json!("{{client.id}}")));
        assert_eq!((&r.tls, &r.sign), (&t.tls, &Some(Who::Nobody)));
        let register = LoadTransaction { op: Operation::Register, ..t.clone() };
        let names = |signing| {
            let prepared = Prepared::new(&register, 3, signing);
            prepared.requests.iter().filter_map(|r| r.body.as_ref()?.get("client_name").cloned()).collect::<Vec<_>>()
        };
        assert_eq!(names(Signing::PerSecond), ["load 0", "load 1", "load 2"], "one body per body of the pool");
        assert_eq!(names(Signing::Fresh), ["load {{unique}} {{iteration}}"], "each registration numbered");
        let read = Prepared::new(&LoadTransaction { op: Operation::Read, ..t }, 3, Signing::Fresh);
        assert_eq!(read.requests[0].body, None);
    }
}
