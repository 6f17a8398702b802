//! One scenario, start to end: its steps in order through a fresh [`Session`] (plan, send,
//! check, learn), the `unchanged` reads around a step, snapshots, and the cleanup of every client
//! it registered, which runs whatever happened before it, a panic included. A step that cannot
//! be planned ends the scenario as an ERROR, never as the server's failure.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures_util::FutureExt;

use super::model::{
    redact, Check, CheckOutcome, ErrorKind, RecordedRequest, ScenarioError, ScenarioResult, StepResult, Verdict,
};
use super::options::RunOptions;
use super::plan::{PlanError, Planned};
use super::session::{text_field, Answer, Lesson, Session};
use super::target::Target;
use crate::run::check::{self, Observed};
use crate::run::trace::{Timing, Traced, CHECKS, TLS};
use crate::scenario::{DateOffset, Scenario, Step};
use crate::transport::Response;

/// How the steps ended.
enum Ended {
    /// Every step ran, or the first failing one ended the scenario.
    Ran,
    /// A step could not be built.
    Unplannable { step: usize, error: PlanError },
    /// Stopped by an interrupt before its last step.
    Interrupted,
    /// A request failed on the harness's side (it does not trust the server, ...): the step
    /// says nothing about the server.
    SetupFailed { step: usize, error: String },
}

/// Runs `scenario` against `target`; its clients are deleted at the end.
/// `stop_at` is the run's deadline: the scenario stops before a step (or inside a wait) past it.
pub async fn run_scenario(
    target: Arc<Target>,
    scenario: Arc<Scenario>,
    options: Arc<RunOptions>,
    stop_at: Option<Instant>,
) -> ScenarioResult {
    let started = Instant::now();
    // A scenario that names faults runs alone (the schedule sees to it): they hold while its
    // steps run, and the faults before are back for its cleanup.
    let faulted = scenario.faults.as_ref().map(|faults| (target.faults.in_force(), target.hold_faults(faults)));
    if let Some((earlier, Err(why))) = faulted {
        target.faults.restore(earlier);
        let mut result = ScenarioResult::not_run(&scenario);
        result.verdict = Verdict::Error;
        result.error = Some(ScenarioError { kind: ErrorKind::Setup, message: format!("its faults: {why}") });
        return result;
    }
    let mut session = Session::new(target.clone());
    let span = Timing::start(&format!("scenario {}", scenario.id), None);
    session.trace = Some(Traced { parent: span.context, step: String::new(), tracer: options.tracer.clone() });
    let mut steps = Vec::new();
    let ran = std::panic::AssertUnwindSafe(run_steps(&mut session, &scenario, &options, stop_at, &mut steps))
        .catch_unwind()
        .await;
    if let Some((earlier, _)) = faulted {
        target.faults.restore(earlier);
    }
    let cleanup = session.cleanup().await;
    let mut result = ScenarioResult::not_run(&scenario);
    let known = options.known_failures.get(&scenario.id).cloned();
    match ran {
        Ok(Ended::Ran) => {
            let failed = steps.iter().any(|s| !s.passed());
            result.verdict = ScenarioResult::judge(failed, scenario.severity, known.is_some());
        }
        Ok(Ended::Unplannable { step, error }) => {
            result.verdict = Verdict::Error;
            result.error = Some(ScenarioError {
                kind: ErrorKind::Plan,
                message: format!(
                    "step {}: the request could not be built: {}",
                    step + 1,
                    crate::diagnostic::chain(&error)
                ),
            });
        }
        Ok(Ended::SetupFailed { step, error }) => {
            result.verdict = Verdict::Error;
            result.error = Some(ScenarioError {
                kind: ErrorKind::Setup,
                message: format!("step {}: the harness could not test the server: {error}", step + 1),
            });
        }
        Ok(Ended::Interrupted) => result.verdict = Verdict::Skipped,
        Err(panic) => {
            result.verdict = Verdict::Error;
            result.error = Some(panicked(panic.as_ref()));
        }
    }
    result.known_failure_reason = known;
    result.steps = steps;
    let secrets = &session.target().secrets;
    result.cleanup = cleanup
        .into_iter()
        .map(|mut c| {
            c.detail = secrets.scrub(&c.detail);
            c
        })
        .collect();
    if let Some(error) = &mut result.error {
        error.message = secrets.scrub(&error.message);
    }
    result.duration_ms = started.elapsed().as_millis() as u64;
    result.requests = session.requests();
    result.trace_id = span.context.trace_hex();
    if let Some(tracer) = &options.tracer {
        let failed = matches!(result.verdict, Verdict::Fail | Verdict::Warn | Verdict::Error);
        let attributes = [("dcr.scenario", &result.id), ("dcr.verdict", &result.verdict.label().to_string())];
        let attributes = attributes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        tracer
            .record(span.finish(attributes, failed.then(|| format!("{}: {}", result.verdict.label(), result.source))));
    }
    result
}

/// The harness error a panic payload becomes.
pub fn panicked(payload: &(dyn std::any::Any + Send)) -> ScenarioError {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".into());
    ScenarioError { kind: ErrorKind::Panic, message: format!("the harness panicked: {message}") }
}

async fn run_steps(
    session: &mut Session,
    scenario: &Scenario,
    options: &RunOptions,
    stop_at: Option<Instant>,
    results: &mut Vec<StepResult>,
) -> Ended {
    let mut previous = None;
    let mut rotated = None;
    for (index, step) in scenario.steps.iter().enumerate() {
        if options.interrupt.raised() || stop_at.is_some_and(|at| Instant::now() >= at) {
            return Ended::Interrupted;
        }
        let started = Instant::now();
        if let Some(traced) = &mut session.trace {
            traced.step = step.name.clone().unwrap_or_else(|| format!("step {}", index + 1));
        }
        if step.wait_ms > 0 && !pause(Duration::from_millis(step.wait_ms), &options.interrupt, stop_at).await {
            return Ended::Interrupted;
        }
        if matches!(step.request.date_offset, DateOffset::FromWindow { .. }) && !step.replay_previous {
            // A Date has whole seconds, so a request signed late in one is older than its offset
            // says by up to a second; with less of the second left than the target's margin,
            // the next one is waited for, so the margin is left for the journey and its clock.
            let wait = until_next_second(SystemTime::now());
            if wait < session.target().date_margin {
                tokio::time::sleep(wait).await;
            }
        }
        let window_passed = match (step.after_date_window, previous.as_ref().and_then(|p: &Planned| p.signed_at)) {
            (true, Some(at)) => Some(past_the_window(at, session.target().profile.signature.date_window_s)),
            _ => None,
        };
        if let Some(due) = window_passed {
            if !pause(until(due), &options.interrupt, stop_at).await {
                return Ended::Interrupted;
            }
        }
        let key_cache_over = super::rotation::cache_over(&session.target().profile, rotated.unwrap_or(started));
        if step.after_key_cache
            && !pause(key_cache_over.saturating_duration_since(Instant::now()), &options.interrupt, stop_at).await
        {
            return Ended::Interrupted;
        }
        if step.request.op == crate::scenario::Operation::RotateKeys {
            let name = step.name.clone().unwrap_or_else(|| format!("step {}", index + 1));
            let slot = session.vars().get(crate::scenario::template::builtin::UNIQUE).map(String::as_str);
            match super::rotation::rotate(session.target(), slot, name) {
                Ok(result) => {
                    rotated = Some(Instant::now());
                    results.push(result);
                    continue;
                }
                Err(error) => return Ended::SetupFailed { step: index, error: error.to_string() },
            }
        }
        if step.request.op == crate::scenario::Operation::Handshake {
            let name = step.name.clone().unwrap_or_else(|| format!("step {}", index + 1));
            let tls = session.trace.as_ref().and_then(|t| t.span(TLS));
            let handshake = super::handshake::run(session.target(), step, name).await;
            if let (Some(traced), Some(tls)) = (&session.trace, tls) {
                let error = match &handshake {
                    Err(e) => Some(e.to_string()),
                    Ok(result) => (!result.passed()).then(|| "refused".to_string()),
                };
                traced.record(tls, vec![], error);
            }
            match handshake {
                Ok(result) => {
                    let passed = result.passed();
                    results.push(result);
                    if !passed {
                        break;
                    }
                    continue;
                }
                Err(error) => return Ended::SetupFailed { step: index, error: error.to_string() },
            }
        }
        // Read first, then plan: a read may rotate the registration access token the step
        // must then carry (RFC 7592 §2.1).
        let before = match &step.expect.unchanged {
            Some(client) => Some(session.read_client(client).await),
            None => None,
        };
        let copies = match (step.replay_previous, &previous) {
            (true, Some(previous)) => vec![Clone::clone(previous)],
            _ => match session.plan_copies(&step.request, step.mutation, step.concurrent.unwrap_or(1)).await {
                Ok(copies) => copies,
                Err(error) => return Ended::Unplannable { step: index, error },
            },
        };
        let partner = match &step.alongside {
            Some(alongside) => match session.plan(&alongside.request, None).await {
                Ok(planned) => Some(planned),
                Err(error) => return Ended::Unplannable { step: index, error },
            },
            None => None,
        };
        let mut sending = Sending { copies, partner };
        let at = StepAt { scenario, options, index, step, before: before.as_ref(), started };
        let (mut result, mut setup_error) = run_step(session, at, &sending).await;
        if let (Some(due), false, None) = (window_passed, result.passed(), &setup_error) {
            // A server counting the window in whole seconds takes the copy up to a second past
            // it; a second later every server must refuse it.
            if !pause(until(due + Duration::from_secs(1)), &options.interrupt, stop_at).await {
                results.push(result);
                return Ended::Interrupted;
            }
            (result, setup_error) = run_step(session, at, &sending).await;
            result.name = format!(
                "{} (sent again a second later: the first copy was taken, as a server counting whole seconds may)",
                result.name
            );
        }
        // RFC 9449 §8: a server may answer a proof without its nonce by giving one; the client
        // sends the request again with it.
        let nonce_given = session.dpop_nonce_renewed();
        if step.request.dpop.is_some() && nonce_given && !result.passed() && setup_error.is_none() {
            match send_anew(session, at).await {
                Ok((again, error, sent)) => {
                    (result, setup_error, sending) = (again, error, sent);
                    result.name = format!("{} (sent again with the DPoP nonce the server gave)", result.name);
                }
                Err(ended) => {
                    results.push(result);
                    return ended;
                }
            }
        }
        if step.within_key_cache {
            let retried =
                again_within_key_cache(session, at, (key_cache_over, stop_at), (&mut result, &mut setup_error)).await;
            match retried {
                Ok(Some(last)) => sending = last,
                Ok(None) => {}
                Err(ended) => {
                    results.push(result);
                    return ended;
                }
            }
        }
        previous = sending.copies.into_iter().next();
        if let Some(error) = setup_error {
            results.push(result);
            return Ended::SetupFailed { step: index, error };
        }
        let passed = result.passed();
        results.push(result);
        if !passed {
            break;
        }
    }
    Ended::Ran
}

/// Sends a `within_key_cache` step whose answer did not meet its expectation again, planned
/// anew each time, until one does or the key cache time is over: the last answer is judged.
/// What was sent last, where the step was sent again.
async fn again_within_key_cache(
    session: &mut Session,
    at: StepAt<'_>,
    (over, stop_at): (Instant, Option<Instant>),
    (result, setup_error): (&mut StepResult, &mut Option<String>),
) -> Result<Option<Sending>, Ended> {
    let pace = super::rotation::retry_pause(&session.target().profile);
    let mut sends = 1;
    let mut last = None;
    while !result.passed() && setup_error.is_none() && Instant::now() + pace < over {
        if !pause(pace, &at.options.interrupt, stop_at).await {
            return Err(Ended::Interrupted);
        }
        let sending;
        (*result, *setup_error, sending) = send_anew(session, at).await?;
        sends += 1;
        last = Some(sending);
    }
    if sends > 1 {
        result.name = format!("{} (sent {sends} times within the key cache time)", result.name);
    }
    Ok(last)
}

/// The step planned afresh (a new proof, a new assertion, the nonce last given) and sent again,
/// without its `alongside` partner: its result, a harness error, and what was sent.
async fn send_anew(session: &mut Session, at: StepAt<'_>) -> Result<(StepResult, Option<String>, Sending), Ended> {
    let step = at.step;
    let copies = match session.plan_copies(&step.request, step.mutation, step.concurrent.unwrap_or(1)).await {
        Ok(copies) => copies,
        Err(error) => return Err(Ended::Unplannable { step: at.index, error }),
    };
    let sending = Sending { copies, partner: None };
    let (result, setup_error) = run_step(session, at, &sending).await;
    Ok((result, setup_error, sending))
}

/// A step as it is sent: its scenario, the run's options, its place, the client read before it
/// (for `unchanged`), and when it started.
#[derive(Clone, Copy)]
struct StepAt<'a> {
    scenario: &'a Scenario,
    options: &'a RunOptions,
    index: usize,
    step: &'a Step,
    before: Option<&'a (String, String)>,
    started: Instant,
}

/// What a step sends: its copies, and the request sent alongside them.
struct Sending {
    copies: Vec<Planned>,
    partner: Option<Planned>,
}

async fn run_step(session: &mut Session, at: StepAt<'_>, sending: &Sending) -> (StepResult, Option<String>) {
    let StepAt { scenario, options, index, step, before, started } = at;
    let secrets = session.target().secrets.clone();
    let copies = &sending.copies[..];
    for copy in copies {
        session.target().learn_secrets(&copy.msg);
        session.note_lent_tokens(&step.request, copy);
    }
    let alongside = step.alongside.as_deref().zip(sending.partner.as_ref());
    if let Some((partner, planned)) = alongside {
        session.target().learn_secrets(&planned.msg);
        session.note_lent_tokens(&partner.request, planned);
    }
    let delay = |partner: &crate::scenario::Alongside| Duration::from_millis(partner.delay_ms);
    let (sent, partner_sent) =
        session.send_with_partner(copies, alongside.map(|(partner, planned)| (planned, delay(partner)))).await;
    let setup_error = sent
        .iter()
        .chain(&partner_sent)
        .find_map(|r| r.as_ref().err().filter(|e| e.is_setup()))
        .map(|e| secrets.scrub(&e.to_string()));
    for response in sent.iter().flatten() {
        if let Some(json) = response.json() {
            secrets.learn_json(&json);
        }
        session.learn_dpop_nonce(response);
    }
    let lesson = Lesson {
        op: step.request.op,
        client: step.request.client_name(),
        register_as: step.client_registered(),
        creation_expected: step.allows_creation(),
        capture: &step.capture,
    };
    let checks_span = session.trace.as_ref().and_then(|t| t.span(CHECKS));
    let mut checks = Vec::new();
    // RFC 7592 §2.2: a copy whose answer issued a new registration access token makes the
    // client discard the old one at once, so a copy that raced it carrying the old token may
    // rightly be refused.
    let issued = issued_tokens(&sent);
    let rotated = sent.len() > 1
        && session.client(step.request.client_name()).is_some_and(|c| issued.iter().any(|t| *t != c.rat));
    for (result, copy) in sent.iter().zip(copies) {
        let body = super::plan::sent_metadata(&copy.msg.body);
        let observed = match result {
            Ok(r) => Observed::Answer(r),
            Err(e) => Observed::Failed(e),
        };
        match result {
            Ok(r) if rotated && r.status == 401 => checks.push(CheckOutcome::new(
                Check::Status,
                true,
                "the step's answer, or a 401 for a copy that raced a token rotation",
                "401: a racing copy's answer issued a new registration access token (RFC 7592 §2.2)",
            )),
            _ => checks.extend(check::check(
                &step.expect,
                &observed,
                body.as_ref(),
                &session.target().profile,
                session.vars(),
            )),
        }
        if let Ok(response) = result {
            checks.extend(session.absorb(&lesson, Answer::from(response)));
        }
    }
    if let Some(limit) = step.expect.p95_ms {
        checks.push(check::response_time(limit, &sent));
    }
    if let (Some((partner, planned)), Some(result)) = (alongside, &partner_sent) {
        checks.extend(judge_partner(session, partner, planned, result));
    }
    if rotated && issued.len() > 1 {
        // Racing copies each issued a token; only the last the server applied still works.
        session.settle_registration_token(step.request.client_name(), issued).await;
    }
    // A server that took the request with a value of its own changed the client, as it may.
    let substituted = step.expect.or_substituted.is_some()
        && sent.iter().any(|r| r.as_ref().is_ok_and(|r| (200..300).contains(&r.status)));
    if let (Some(client), Some(before), false) = (&step.expect.unchanged, before, substituted) {
        let after = session.read_client(client).await;
        let unchanged = *before == after;
        let got = match unchanged {
            true => format!("{} {}", after.0, after.1),
            false => what_changed(before, &after),
        };
        checks.push(CheckOutcome::new(Check::Unchanged(client.to_string()), unchanged, "as before the step", got));
    }
    if let (true, Some(snapshots), Some(Ok(response))) = (step.snapshot, &options.snapshots, sent.first()) {
        checks.push(snapshot(session, scenario, snapshots, index, response));
    }
    if let Some(traced) = &session.trace {
        traced.record_checks(checks_span, &checks);
    }
    let first = copies.first();
    let base_url = first.and_then(|p| p.origin.as_deref()).unwrap_or(&session.target().base_url);
    let result = StepResult {
        name: step.name.clone().unwrap_or_else(|| format!("step {}", index + 1)),
        request: secrets.scrub_request(
            first
                .map(|p| redact::request(base_url, &p.msg, p.tls.as_deref(), p.signing_string.as_deref()))
                .unwrap_or_else(nothing_sent),
        ),
        response: sent.first().and_then(|r| r.as_ref().ok()).map(|r| secrets.scrub_response(redact::response(r))),
        transport_error: sent.first().and_then(|r| r.as_ref().err()).map(|e| secrets.scrub(&e.to_string())),
        mutations: step.mutation.iter().map(|m| m.name().to_string()).collect(),
        checks: checks.into_iter().map(|c| secrets.scrub_check(c)).collect(),
        duration_ms: started.elapsed().as_millis() as u64,
    };
    (result, setup_error)
}

/// The checks of the request sent alongside a step, labelled as its own, and what the session
/// learns from its answer.
fn judge_partner(
    session: &mut Session,
    partner: &crate::scenario::Alongside,
    planned: &Planned,
    result: &Result<Response, crate::transport::TransportError>,
) -> Vec<CheckOutcome> {
    let body = super::plan::sent_metadata(&planned.msg.body);
    let observed = match result {
        Ok(r) => Observed::Answer(r),
        Err(e) => Observed::Failed(e),
    };
    let r = &partner.request;
    let mut checks: Vec<CheckOutcome> =
        check::check(&partner.expect, &observed, body.as_ref(), &session.target().profile, session.vars())
            .into_iter()
            .map(|c| c.alongside(r.op))
            .collect();
    if let Ok(response) = result {
        let lesson = Lesson::without_capture(r.op, r.client_name(), r.client_name(), false);
        checks.extend(session.absorb(&lesson, Answer::from(response)));
    }
    checks
}

/// Waits `total`, in slices, so that an interrupt or the run's deadline cuts the wait short;
/// false if one did.
async fn pause(total: Duration, interrupt: &super::options::Interrupt, stop_at: Option<Instant>) -> bool {
    let slice = Duration::from_millis(100);
    let until = Instant::now() + total;
    while !interrupt.raised() {
        if stop_at.is_some_and(|at| Instant::now() >= at) {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        tokio::time::sleep(left.min(slice)).await;
    }
    false
}

/// How long until the clock's next whole second, and a little more.
/// When a request dated `signed_at` is past a window of `window_s` seconds however a server
/// counts: a tenth of a second after the window's end, counted from the Date's whole second.
fn past_the_window(signed_at: SystemTime, window_s: u64) -> SystemTime {
    let whole =
        signed_at.duration_since(std::time::UNIX_EPOCH).map(|d| Duration::from_secs(d.as_secs())).unwrap_or_default();
    std::time::UNIX_EPOCH + whole + Duration::from_secs(window_s) + Duration::from_millis(100)
}

/// How long until `due` (nothing if it has passed).
fn until(due: SystemTime) -> Duration {
    due.duration_since(SystemTime::now()).unwrap_or_default()
}

fn until_next_second(now: std::time::SystemTime) -> Duration {
    let into = now.duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    Duration::from_nanos(u64::from(1_000_000_000 - into)) + Duration::from_millis(5)
}

/// The distinct registration access tokens the 2xx answers issued, in answer order.
fn issued_tokens(sent: &[Result<Response, crate::transport::TransportError>]) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for response in sent.iter().filter_map(|r| r.as_ref().ok()).filter(|r| (200..300).contains(&r.status)) {
        let json = response.json();
        let token = json.as_ref().and_then(|j| text_field(j, "registration_access_token")).map(str::to_string);
        if let Some(token) = token.filter(|t| !tokens.contains(t)) {
            tokens.push(token);
        }
    }
    tokens
}

fn nothing_sent() -> RecordedRequest {
    RecordedRequest {
        method: String::new(),
        url: String::new(),
        tls_identity: None,
        headers: vec![],
        body: String::new(),
        signing_string: None,
    }
}

fn snapshot(
    session: &Session,
    scenario: &Scenario,
    options: &crate::run::snapshot::SnapshotOptions,
    index: usize,
    response: &Response,
) -> CheckOutcome {
    let target = session.target();
    let unique = session.vars().get(crate::scenario::template::builtin::UNIQUE).cloned().unwrap_or_default();
    let volatile =
        BTreeMap::from([("[unique]".to_string(), unique), ("[base_url]".to_string(), target.base_url.clone())]);
    let text = target.secrets.scrub(&crate::run::snapshot::normalise(response, &volatile, &target.profile.snapshot));
    let file = scenario.file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let source = format!("scenarios/{file}");
    crate::run::snapshot::check(options, &target.snapshot_key, &scenario.id, &source, index, &text)
}

/// How a client's read differs from the one before the step: the status if it moved, and a
/// unified diff of the bodies pretty-printed (a JSON body field by field).
fn what_changed(before: &(String, String), after: &(String, String)) -> String {
    let pretty = |body: &str| match serde_json::from_str::<serde_json::Value>(body) {
        Ok(json) => serde_json::to_string_pretty(&json).unwrap_or_else(|_| body.to_string()) + "\n",
        Err(_) => format!("{body}\n"),
    };
    let status = match before.0 == after.0 {
        true => String::new(),
        false => format!("read answered {} before, {} after\n", before.0, after.0),
    };
    let body = crate::run::snapshot::diff_of("before the step", &pretty(&before.1), "after", &pretty(&after.1));
    format!("{status}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_client_is_shown_as_a_diff_of_its_fields() {
        let before = ("200".to_string(), r#"{"client_name":"a","redirect_uris":["https://a/cb"]}"#.to_string());
        let after = ("200".to_string(), r#"{"client_name":"b","redirect_uris":["https://a/cb"]}"#.to_string());
        let shown = what_changed(&before, &after);
        assert!(shown.starts_with("--- before the step\n+++ after\n"), "{shown}");
        assert!(shown.contains("-  \"client_name\": \"a\",\n+  \"client_name\": \"b\","), "{shown}");
        let gone = what_changed(&before, &("404".to_string(), "not found".to_string()));
        assert!(gone.starts_with("read answered 200 before, 404 after\n"), "{gone}");
    }
}
