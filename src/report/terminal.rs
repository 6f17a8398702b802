//! The terminal report: a verdict line per scenario (verdict, id, area, severity, time, title),
//! for each failure what was expected and what came, with the mutation, the clause, and the
//! (redacted) request and response; then a summary by area and the overall verdict.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::runner::{RunResult, ScenarioResult, Verdict};

fn label(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Warn => "WARN",
        Verdict::KnownFailure => "KNOWN",
        Verdict::FixedKnownFailure => "FIXED",
        Verdict::Skipped => "SKIP",
    }
}

/// One line for a scenario.
pub fn scenario_line(s: &ScenarioResult) -> String {
    format!(
        "{:<5} {:<44} {:<16} {:<6} {:>6} ms  {}",
        label(s.verdict),
        s.id,
        s.area,
        s.severity.name(),
        s.duration_ms,
        s.title
    )
}

/// What went wrong in a scenario, indented under its line.
pub fn failure_detail(s: &ScenarioResult) -> String {
    let mut out = String::new();
    for step in s.steps.iter().filter(|st| !st.passed()) {
        let _ = writeln!(out, "      step `{}` ({})", step.name, s.source);
        if !step.mutations.is_empty() {
            let _ = writeln!(out, "        mutation: {}", step.mutations.join(", "));
        }
        for check in step.checks.iter().filter(|c| !c.passed) {
            let _ = writeln!(out, "        {}: expected {}, got {}", check.check, check.expected, check.got);
        }
        let r = &step.request;
        let _ = writeln!(
            out,
            "        request: {} {} (TLS identity: {})",
            r.method,
            r.url,
            r.tls_identity.as_deref().unwrap_or("none")
        );
        match (&step.response, &step.transport_error) {
            (Some(resp), _) => {
                let body: String = resp.body.chars().take(300).collect();
                let _ = writeln!(out, "        response: {} {body}", resp.status);
            }
            (None, Some(e)) => {
                let _ = writeln!(out, "        no answer: {e}");
            }
            _ => {}
        }
    }
    if let Some(reason) = &s.known_failure_reason {
        let _ = writeln!(out, "      known failure: {reason}");
    }
    for c in s.cleanup.iter().filter(|c| !c.ok) {
        let _ = writeln!(out, "      cleanup of client {} failed: {}", c.client, c.detail);
    }
    out
}

/// The whole report.
pub fn render(run: &RunResult) -> String {
    let mut out = String::new();
    for s in &run.scenarios {
        let _ = writeln!(out, "{}", scenario_line(s));
        if matches!(s.verdict, Verdict::Fail | Verdict::Warn | Verdict::KnownFailure) || s.cleanup.iter().any(|c| !c.ok)
        {
            out.push_str(&failure_detail(s));
        }
        if s.verdict == Verdict::FixedKnownFailure {
            let _ = writeln!(out, "      passes now: remove it from the known failures");
        }
    }
    out.push_str(&summary(run));
    out
}

/// Counts by area, then the verdict line.
pub fn summary(run: &RunResult) -> String {
    let mut by_area: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for s in &run.scenarios {
        let entry = by_area.entry(s.area.as_str()).or_default();
        entry.1 += 1;
        if matches!(s.verdict, Verdict::Pass | Verdict::FixedKnownFailure) {
            entry.0 += 1;
        }
    }
    let mut out = String::from("\nby area:");
    for (area, (passed, total)) in &by_area {
        let _ = write!(out, " {area} {passed}/{total};");
    }
    out.pop();
    let failed = run.count(Verdict::Fail);
    let verdict = if run.exit_code() == 0 { "PASS" } else { "FAIL" };
    let _ = writeln!(
        out,
        "\n\nverdict: {verdict}: {} scenarios, {} passed, {} failed (MUST), {} warnings (SHOULD), {} known failures, {} skipped; {} requests in {:.2} s against {} (profile {})",
        run.scenarios.len(),
        run.count(Verdict::Pass) + run.count(Verdict::FixedKnownFailure),
        failed,
        run.count(Verdict::Warn),
        run.count(Verdict::KnownFailure),
        run.count(Verdict::Skipped),
        run.requests,
        run.duration_ms as f64 / 1000.0,
        run.target,
        run.profile
    );
    out
}
