//! The run model: what a conformance run or a load run produced, as plain data with typed
//! fields, redacted as it is recorded ([`redact`]). Reporters, the JSON schema and `main` read
//! it; nothing here touches the network, the file system or the terminal. [`Outcome`] is what a
//! command came to; only `main` turns it into an exit code.

mod changes;
pub mod redact;

pub use changes::{Change, Changes};

use serde::Serialize;

use crate::scenario::{Area, Severity};

/// What a command came to, for `main` to turn into an exit code (the README's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// The command did its work; every MUST passed.
    Success,
    /// A MUST failed (or a MUST was never run).
    MustFailed,
    /// Load thresholds were breached.
    ThresholdsBreached,
    /// The run could not delete every client it registered: the ledger names them.
    ClientsLeft,
    /// A scenario could not be run as configured (a step the harness could not build).
    SetupError,
    /// The harness itself failed inside a scenario (a panic).
    InternalError,
    /// Stopped by Ctrl-C or SIGTERM before the end: no verdict on what did not run.
    Interrupted,
}

impl Outcome {
    /// The graver of two outcomes: a harness error hides no failure, a failure no success.
    pub fn worst(self, other: Outcome) -> Outcome {
        self.max(other)
    }
}

/// What a check looked at. Reports show it as a label (`status`, `json $.client_id`, ...);
/// code asks the variant, never the label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(into = "String")]
#[schemars(with = "String")]
pub enum Check {
    /// The status (or the kind of rejection, or a refused handshake).
    Status,
    /// The error code of a refusal.
    ErrorCode,
    /// A value at a JSON path of the answer.
    Json(String),
    /// A header of the answer.
    Header(String),
    /// A refusal, or a value of the server's own registered at a JSON path (RFC 7591 §3.2.1).
    RefusedOrSubstituted(String),
    /// A client read before and after the step, unchanged.
    Unchanged(String),
    /// That no client was registered where none was to be.
    NoClientCreated,
    /// A value a later step needs, captured from the answer.
    Capture(String),
    /// The answer's snapshot at a path.
    Snapshot(String),
    /// Whether the server took a `handshake` step's ClientHello.
    Handshake,
    /// The 95th percentile of a step's answer times.
    ResponseTime,
    /// A check of the request a step sent alongside its own (named by its operation).
    Alongside(crate::scenario::Operation, Box<Check>),
}

impl Check {
    /// Whether the value checked is a secret (reports then say whether it held, not what it is).
    pub fn names_a_secret(&self) -> bool {
        match self {
            Check::Json(path) => path.rsplit(['.', '[']).next().is_some_and(redact::is_secret_field),
            Check::Header(name) => redact::is_secret_header(name),
            Check::Alongside(_, check) => check.names_a_secret(),
            _ => false,
        }
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Check::Status => f.write_str("status"),
            Check::ErrorCode => f.write_str("error code"),
            Check::Json(path) => write!(f, "json {path}"),
            Check::Header(name) => write!(f, "header {name}"),
            Check::RefusedOrSubstituted(path) => write!(f, "refused, or json {path} substituted"),
            Check::Unchanged(client) => write!(f, "client `{client}` unchanged"),
            Check::NoClientCreated => f.write_str("no client created"),
            Check::Capture(var) => write!(f, "capture {var}"),
            Check::Snapshot(path) => write!(f, "snapshot {path}"),
            Check::Handshake => f.write_str("handshake"),
            Check::ResponseTime => f.write_str("response time (p95)"),
            Check::Alongside(op, check) => write!(f, "alongside {}: {check}", op.name()),
        }
    }
}

impl From<Check> for String {
    fn from(check: Check) -> String {
        check.to_string()
    }
}

/// One check and how it went.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct CheckOutcome {
    pub check: Check,
    pub passed: bool,
    pub expected: String,
    pub got: String,
}

impl CheckOutcome {
    pub fn new(check: Check, passed: bool, expected: impl Into<String>, got: impl Into<String>) -> Self {
        CheckOutcome { check, passed, expected: expected.into(), got: got.into() }
    }

    /// This outcome as one of the request sent alongside a step's own.
    pub fn alongside(self, op: crate::scenario::Operation) -> Self {
        CheckOutcome { check: Check::Alongside(op, Box::new(self.check)), ..self }
    }
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
    /// Not run (fail-fast, deadline).
    Skipped,
    /// The harness could not run it (a step it could not build, a panic): no verdict on the
    /// server either way.
    Error,
    /// Information: the answer was not what the default expects, which the text allows.
    Info,
}

/// How clients a run or a load left on the target are deleted, as every report says it.
pub fn cleanup_hint(ledger: Option<&str>) -> String {
    match ledger {
        Some(ledger) => format!("delete them with `dcr-harness cleanup {ledger}`"),
        None => "they end with the embedded server".to_string(),
    }
}

impl Verdict {
    /// The verdict as the JSON report spells it (`pass`, `known-failure`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Warn => "warn",
            Verdict::KnownFailure => "known-failure",
            Verdict::FixedKnownFailure => "fixed-known-failure",
            Verdict::Skipped => "skipped",
            Verdict::Error => "error",
            Verdict::Info => "info",
        }
    }

    /// The verdict as the terminal prints it: PASS, FAIL, WARN, KNOWN, FIXED, SKIP, ERROR, INFO.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Warn => "WARN",
            Verdict::KnownFailure => "KNOWN",
            Verdict::FixedKnownFailure => "FIXED",
            Verdict::Skipped => "SKIP",
            Verdict::Error => "ERROR",
            Verdict::Info => "INFO",
        }
    }

    /// A verdict against the server, or no verdict at all: anything but a pass or an
    /// observation the text allows.
    pub fn is_adverse(self) -> bool {
        !matches!(self, Verdict::Pass | Verdict::Info)
    }
}

/// Why a scenario ended in [`Verdict::Error`].
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// A step could not be built from the scenario, the profile and the session.
    Plan,
    /// The harness panicked.
    Panic,
    /// A request failed on the harness's side or its setup's (the server's certificate not
    /// trusted, no TLS where the URL says, an identity that will not load).
    Setup,
}

/// What stopped the harness in a scenario.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioError {
    pub kind: ErrorKind,
    pub message: String,
}

/// A request as sent, with secrets redacted.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    pub tls_identity: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The signing string the harness signed, a line per signed header (values redacted as the
    /// headers are); absent for an unsigned request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_string: Option<String>,
}

/// An answer as received, with secrets redacted.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body went on past the harness's limit and was cut there (`body` is what was read).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
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
    /// Not deleted because the server revoked its token as RFC 7592 §2.1 allows (not a fault,
    /// and not counted among the clients left).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stranded: bool,
    pub detail: String,
}

#[derive(schemars::JsonSchema, Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub id: String,
    pub title: String,
    /// Where it is written: `scenarios/digest.yaml:27` (relative to the working directory when
    /// it is below it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub location: String,
    pub area: Area,
    /// The level it counted at (a policy's, as the profile holds it).
    pub severity: Severity,
    /// The policy it checks, if it is a profile's choice rather than the spec's.
    pub policy: Option<String>,
    pub source: String,
    pub tags: Vec<String>,
    pub verdict: Verdict,
    pub known_failure_reason: Option<String>,
    /// Set when the verdict is `error`.
    pub error: Option<ScenarioError>,
    pub steps: Vec<StepResult>,
    pub cleanup: Vec<CleanupResult>,
    pub duration_ms: u64,
    pub requests: u64,
    /// The W3C trace its spans and requests' `traceparent`s belong to (hex), for a bank's
    /// tracing to find the server's handling of them.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub trace_id: String,
}

impl ScenarioResult {
    /// A scenario's result before anything ran (its verdict `skipped` until told otherwise).
    pub fn not_run(s: &crate::scenario::Scenario) -> Self {
        let cwd = std::env::current_dir().unwrap_or_default();
        let file = s.file.strip_prefix(&cwd).unwrap_or(&s.file);
        ScenarioResult {
            title: s.title.clone(),
            location: format!("{}:{}", file.display(), s.line),
            area: s.area,
            policy: s.policy.as_ref().map(ToString::to_string),
            source: s.source.clone(),
            tags: s.tags.clone(),
            ..ScenarioResult::bare(&s.id, Verdict::Skipped, s.severity)
        }
    }

    /// A result with only an id, a verdict and a level: nothing ran, nothing is said of it.
    pub(crate) fn bare(id: &str, verdict: Verdict, severity: Severity) -> Self {
        ScenarioResult {
            id: id.into(),
            title: String::new(),
            location: String::new(),
            area: Area::Lifecycle,
            severity,
            policy: None,
            source: String::new(),
            tags: vec![],
            verdict,
            known_failure_reason: None,
            error: None,
            steps: vec![],
            cleanup: vec![],
            duration_ms: 0,
            requests: 0,
            trace_id: String::new(),
        }
    }

    /// The verdict of steps that ran to the end or to their first failure.
    pub fn judge(failed: bool, severity: Severity, known: bool) -> Verdict {
        match (failed, severity, known) {
            (true, Severity::Info, _) => Verdict::Info,
            (true, _, true) => Verdict::KnownFailure,
            // A policy's scenario counts at the profile's level, resolved when it was selected;
            // one that was not resolved counts as a MUST.
            (true, Severity::Must | Severity::Policy, false) => Verdict::Fail,
            (true, Severity::Should, false) => Verdict::Warn,
            (false, _, true) => Verdict::FixedKnownFailure,
            (false, _, false) => Verdict::Pass,
        }
    }
}

/// The run model: everything a reporter needs, nothing it must fetch.
#[derive(schemars::JsonSchema, Debug, Clone, Default, Serialize)]
pub struct RunResult {
    /// Stopped early by Ctrl-C or SIGTERM: scenarios not run are `skipped`.
    pub interrupted: bool,
    pub target: String,
    pub profile: String,
    /// When the run started: RFC 3339, UTC, to the second.
    #[serde(default)]
    pub started_at: String,
    pub scenarios: Vec<ScenarioResult>,
    pub duration_ms: u64,
    pub requests: u64,
    /// Clients the run registered and could not delete (their ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients_left: Vec<String>,
    /// The ledger file naming them, for `dcr-harness cleanup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// Clients the server made undeletable by revoking their token as RFC 7592 §2.1 allows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients_stranded: Vec<String>,
    /// The certificates the run presented and signed with (subjects only: no key, no secret).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<CertificateNote>,
    /// Origins other than the target's that the run sent requests to: configuration endpoints
    /// a server placed elsewhere (RFC 7592 §3 has the client use the URI as given).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins_elsewhere: Vec<String>,
    /// Scenarios the selection picked that do not apply to the profile, each with why: not
    /// run, and no verdict either way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_applicable: Vec<NotApplicable>,
    /// The faults held in the services the run hosts throughout (`run --fault`), as spelt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<String>,
    /// What changed since an earlier run (`run --baseline FILE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_baseline: Option<Changes>,
}

/// A scenario that does not apply to the target, and why (a capability it lacks, a policy it
/// does not hold, a tag the profile excludes).
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotApplicable {
    pub id: String,
    pub reason: String,
}

/// A certificate the run used, as a report names it.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateNote {
    /// `QWAC` (mutual TLS) or `QSEAL` (signatures).
    pub role: String,
    /// The identity's name in the PKI manifest.
    pub identity: String,
    pub subject: String,
}

/// A moment as RFC 3339 in UTC, to the second (`2026-12-02T06:10:00Z`).
pub fn rfc3339(at: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl RunResult {
    /// A run of nothing yet against `target` under `profile`: what a result made elsewhere (the
    /// explorer's findings) starts from.
    pub fn empty(target: &str, profile: &str) -> Self {
        RunResult { target: target.to_string(), profile: profile.to_string(), ..RunResult::default() }
    }

    pub fn count(&self, verdict: Verdict) -> usize {
        self.scenarios.iter().filter(|s| s.verdict == verdict).count()
    }

    /// The run's verdict in a word, for headlines.
    pub fn headline(&self) -> &'static str {
        match self.outcome() {
            Outcome::Success => "PASS",
            Outcome::MustFailed | Outcome::ThresholdsBreached | Outcome::ClientsLeft => "FAIL",
            Outcome::SetupError | Outcome::InternalError => "ERROR",
            Outcome::Interrupted => "INTERRUPTED",
        }
    }

    /// What the run came to: a harness error is graver than any verdict, since the verdicts
    /// around it cannot be trusted whole; a MUST that failed or never ran (fail-fast, deadline)
    /// fails the run.
    pub fn outcome(&self) -> Outcome {
        let start = if self.interrupted { Outcome::Interrupted } else { Outcome::Success };
        let left = if self.clients_left.is_empty() { Outcome::Success } else { Outcome::ClientsLeft };
        self.scenarios.iter().map(scenario_outcome).fold(start.worst(left), Outcome::worst)
    }
}

fn scenario_outcome(s: &ScenarioResult) -> Outcome {
    match (s.verdict, s.severity, &s.error) {
        (Verdict::Error, _, Some(ScenarioError { kind: ErrorKind::Plan | ErrorKind::Setup, .. })) => {
            Outcome::SetupError
        }
        (Verdict::Error, _, _) => Outcome::InternalError,
        (Verdict::Fail, _, _) | (Verdict::Skipped, Severity::Must, _) => Outcome::MustFailed,
        _ => Outcome::Success,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(verdict: Verdict, severity: Severity, error: Option<ErrorKind>) -> ScenarioResult {
        let error = error.map(|kind| ScenarioError { kind, message: "why".into() });
        ScenarioResult { error, ..ScenarioResult::bare("s", verdict, severity) }
    }

    #[test]
    fn the_worst_scenario_decides_the_outcome() {
        use Severity::{Must, Should};
        use Verdict::*;
        type Row = (Verdict, Severity, Option<ErrorKind>);
        let cases: &[(&[Row], Outcome)] = &[
            (&[], Outcome::Success),
            (&[(Pass, Must, None), (Warn, Should, None)], Outcome::Success),
            (&[(KnownFailure, Must, None), (FixedKnownFailure, Must, None)], Outcome::Success),
            (&[(Skipped, Should, None)], Outcome::Success),
            (&[(Skipped, Must, None)], Outcome::MustFailed),
            (&[(Pass, Must, None), (Fail, Must, None)], Outcome::MustFailed),
            (&[(Fail, Must, None), (Error, Must, Some(ErrorKind::Plan))], Outcome::SetupError),
            (&[(Pass, Must, None), (Error, Must, Some(ErrorKind::Setup))], Outcome::SetupError),
            (&[(Error, Must, Some(ErrorKind::Plan)), (Error, Should, Some(ErrorKind::Panic))], Outcome::InternalError),
        ];
        for (scenarios, expected) in cases {
            let run = RunResult {
                scenarios: scenarios.iter().map(|(v, s, e)| scenario(*v, *s, *e)).collect(),
                ..RunResult::default()
            };
            assert_eq!(run.outcome(), *expected, "{scenarios:?}");
        }
    }

    #[test]
    fn a_verdicts_name_is_how_the_json_report_spells_it() {
        use Verdict::*;
        for verdict in [Pass, Fail, Warn, KnownFailure, FixedKnownFailure, Skipped, Error, Info] {
            assert_eq!(serde_json::to_value(verdict).ok(), Some(verdict.name().into()), "{verdict:?}");
        }
    }

    #[test]
    fn verdicts_follow_failure_severity_and_the_known_list() {
        use Severity::{Must, Should};
        let cases = [
            (true, Must, false, Verdict::Fail),
            (true, Should, false, Verdict::Warn),
            (true, Must, true, Verdict::KnownFailure),
            (false, Must, true, Verdict::FixedKnownFailure),
            (false, Should, false, Verdict::Pass),
        ];
        for (failed, severity, known, verdict) in cases {
            assert_eq!(ScenarioResult::judge(failed, severity, known), verdict, "{failed} {severity:?} {known}");
        }
    }
}
