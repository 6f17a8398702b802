//! A short Markdown summary for a CI job page (`$GITHUB_STEP_SUMMARY`): the verdict, a table by
//! area, and the failures with their first failing check.

use std::fmt::Write;

use super::{by_area, counts, first_failure};
use crate::run::{RunResult, Verdict};

/// Text for a table cell or a line: on one line, control characters escaped, and nothing
/// Markdown or the HTML it may hold would read as markup (a server's id or answer is in it).
pub(crate) fn cell(text: &str) -> String {
    crate::diagnostic::inert_line(&text.replace('\n', " "))
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('`', "\\`")
}

/// A code fence no run of backticks in `text` can close: one longer than the longest.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

pub fn render(run: &RunResult) -> String {
    let mut out = String::new();
    let verdict = run.headline();
    let _ = writeln!(out, "## dcr-harness: {verdict}\n");
    if let Some(changes) = &run.since_baseline {
        since_baseline(&mut out, changes);
    }
    let _ = writeln!(
        out,
        "Target `{}`, profile `{}`: {} scenarios, {} requests, {:.2} s.\n",
        run.target,
        run.profile,
        run.scenarios.len(),
        run.requests,
        run.duration_ms as f64 / 1000.0
    );
    let parts: Vec<String> =
        counts(run).iter().filter(|(_, n)| *n > 0).map(|(what, n)| format!("{n} {what}")).collect();
    let _ = writeln!(out, "{}\n", parts.join(", "));
    let baseline = super::baseline_notice(run);
    for (level, notice) in super::notices(run).into_iter().filter(|(_, n)| Some(n) != baseline.as_ref()) {
        let notice = cell(&notice);
        let _ = match level {
            "FAIL" => writeln!(out, "**{notice}**\n"),
            _ => writeln!(out, "{notice}\n"),
        };
    }
    let _ = writeln!(
        out,
        "| area | passed | failed (MUST) | warnings (SHOULD) | other |\n| --- | ---: | ---: | ---: | ---: |"
    );
    for (area, scenarios) in by_area(run) {
        let count = |v: Verdict| scenarios.iter().filter(|s| s.verdict == v).count();
        let passed = count(Verdict::Pass) + count(Verdict::FixedKnownFailure);
        let other = scenarios.len() - passed - count(Verdict::Fail) - count(Verdict::Warn);
        let _ = writeln!(out, "| {area} | {passed} | {} | {} | {other} |", count(Verdict::Fail), count(Verdict::Warn));
    }
    let notable: Vec<_> = run
        .scenarios
        .iter()
        .filter(|s| {
            matches!(
                s.verdict,
                Verdict::Fail | Verdict::Warn | Verdict::KnownFailure | Verdict::FixedKnownFailure | Verdict::Error
            )
        })
        .collect();
    if !notable.is_empty() {
        let _ = writeln!(
            out,
            "\n| verdict | scenario | severity | first failing check | source |\n| --- | --- | --- | --- | --- |"
        );
        for s in &notable {
            let check = first_failure(s).unwrap_or_else(|| "passes now: remove from known failures".into());
            let verdict = match s.verdict {
                Verdict::Fail => "FAIL",
                Verdict::Warn => "WARN",
                Verdict::KnownFailure => "KNOWN",
                Verdict::Error => "ERROR",
                _ => "FIXED",
            };
            let _ = writeln!(
                out,
                "| {verdict} | `{}` {} | {} | {} | {} |",
                s.id,
                cell(&s.title),
                s.severity.name(),
                cell(&check),
                cell(&s.source)
            );
        }
        // The whole of each failure (diffs included) folded under its scenario: a table cell
        // cannot hold a diff.
        for s in notable.iter().filter(|s| matches!(s.verdict, Verdict::Fail | Verdict::Warn | Verdict::Error)) {
            let detail = super::terminal::failure_detail(s);
            let fence = fence_for(&detail);
            let lang = if detail.lines().any(|l| l.starts_with(['+', '-'])) { "diff" } else { "text" };
            let _ = writeln!(
                out,
                "\n<details><summary><code>{}</code> ({})</summary>\n\n{fence}{lang}\n{}\n{fence}\n\n</details>",
                cell(&s.id),
                cell(&s.location),
                detail.trim_end()
            );
        }
    }
    out
}

/// What changed since the baseline, first: what a pull request's reviewer wants to see.
fn since_baseline(out: &mut String, changes: &crate::run::baseline::Changes) {
    let _ = writeln!(out, "### Since the baseline (`{}`)\n", cell(&changes.baseline));
    if changes.is_empty() {
        let _ = writeln!(out, "Nothing changed: every scenario has the verdict it had.\n");
        return;
    }
    let _ = writeln!(out, "| change | scenario | before | now |\n| --- | --- | --- | --- |");
    for (heading, list) in changes.sections() {
        for c in list {
            let _ = writeln!(out, "| {heading} | `{}` | {} | {} |", cell(&c.id), cell(&c.before), cell(&c.now));
        }
    }
    out.push('\n');
}
