//! The terminal report: a verdict line per scenario (verdict, id, area, severity, time, title),
//! for each failure what was expected and what came, with the mutation, the clause, and the
//! (redacted) request and response; then a summary by area and the overall verdict.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::run::{RunResult, ScenarioResult, Verdict};

/// How much to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Failures and the summary.
    Quiet,
    /// A line per scenario, details of failures, the summary.
    #[default]
    Normal,
    /// Also every step's checks of passing scenarios.
    Verbose,
}

/// How to print: colour (a terminal, and `NO_COLOR` unset) and verbosity.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    pub verbosity: Verbosity,
    /// The terminal's width: a scenario line's title is cut to it. None (a pipe, a file, a
    /// CI log) keeps every line whole.
    pub width: Option<usize>,
}

impl Style {
    /// `choice` is `--color always|never`; none (auto) leaves it to anstream: colour on a
    /// terminal unless NO_COLOR, CLICOLOR=0 or TERM=dumb say otherwise (CLICOLOR_FORCE forces it).
    pub fn detect(verbosity: Verbosity, choice: Option<bool>) -> Style {
        let color =
            choice.unwrap_or_else(|| anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never);
        let term = console::Term::stdout();
        let width = term.is_term().then(|| term.size_checked()).flatten().map(|(_, columns)| usize::from(columns));
        Style { color, verbosity, width }
    }

    fn paint(&self, style: anstyle::Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    fn verdict(&self, v: Verdict) -> String {
        self.paint(verdict_style(v), &format!("{:<5}", label(v)))
    }

    /// Diff lines in colour: removed red, added green.
    fn diff(&self, text: &str) -> String {
        text.lines()
            .map(|l| match l.chars().next() {
                Some('-') if !l.starts_with("---") => self.paint(REMOVED, l),
                Some('+') if !l.starts_with("+++") => self.paint(ADDED, l),
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

const REMOVED: anstyle::Style = anstyle::AnsiColor::Red.on_default();
const ADDED: anstyle::Style = anstyle::AnsiColor::Green.on_default();

/// The colour of a verdict: failures bold red, warnings yellow, what needs no reading dimmed.
pub fn verdict_style(v: Verdict) -> anstyle::Style {
    use anstyle::AnsiColor::*;
    match v {
        Verdict::Pass | Verdict::FixedKnownFailure => Green.on_default(),
        Verdict::Fail | Verdict::Error => Red.on_default().bold(),
        Verdict::Warn => Yellow.on_default(),
        Verdict::KnownFailure | Verdict::Skipped => anstyle::Style::new().dimmed(),
        Verdict::Info => Blue.on_default(),
    }
}

fn label(v: Verdict) -> &'static str {
    v.label()
}

/// Blocks finished in any order, given out in the plan's: a CI log streams as the run goes and
/// still reads the same from one run to the next (a block waits only for those before it).
#[derive(Debug, Default)]
pub struct InOrder {
    next: usize,
    waiting: BTreeMap<usize, String>,
}

impl InOrder {
    /// Takes the block of plan place `index`; returns every block now due, in order.
    pub fn push(&mut self, index: usize, block: String) -> Vec<String> {
        self.waiting.insert(index, block);
        let mut due = Vec::new();
        while let Some(block) = self.waiting.remove(&self.next) {
            due.push(block);
            self.next += 1;
        }
        due
    }
}

/// One line for a scenario.
pub fn scenario_line(s: &ScenarioResult) -> String {
    styled_line(s, &Style::default())
}

fn styled_line(s: &ScenarioResult, style: &Style) -> String {
    let head = format!("{:<44} {:<16} {:<6} {:>6} ms  ", s.id, s.area, s.severity.name(), s.duration_ms);
    let title = match style.width {
        // The verdict and its space take six columns; a title keeps at least a few words.
        Some(width) => console::truncate_str(&s.title, width.saturating_sub(6 + head.chars().count()).max(16), "…"),
        None => std::borrow::Cow::Borrowed(s.title.as_str()),
    };
    format!("{} {head}{title}", style.verdict(s.verdict)).trim_end().to_string()
}

/// What went wrong in a scenario, indented under its line.
pub fn failure_detail(s: &ScenarioResult) -> String {
    detail(s, &Style::default(), false)
}

pub use crate::diagnostic::{inert, inert_line};

fn detail(s: &ScenarioResult, style: &Style, every_step: bool) -> String {
    let mut out = String::new();
    if !s.location.is_empty() && (every_step || s.verdict.is_adverse()) {
        let _ = writeln!(out, "      written at {}", s.location);
    }
    for step in s.steps.iter().filter(|st| every_step || !st.passed()) {
        let _ = writeln!(out, "      step `{}` ({})", step.name, s.source);
        if !step.mutations.is_empty() {
            let _ = writeln!(out, "        mutation: {}", step.mutations.join(", "));
        }
        for check in step.checks.iter().filter(|c| every_step || !c.passed) {
            let mark = if check.passed { "ok" } else { "FAILED" };
            let got = style.diff(&inert(&check.got)).replace('\n', "\n          ");
            let _ = writeln!(out, "        {mark} {}: expected {}, got {got}", check.check, inert(&check.expected));
        }
        let r = &step.request;
        let _ = writeln!(
            out,
            "        request: {} {} (TLS identity: {})",
            r.method,
            r.url,
            r.tls_identity.as_deref().unwrap_or("none")
        );
        for (name, value) in signed_headers(&r.headers) {
            let _ = writeln!(out, "          {name}: {}", inert(&value));
        }
        if let Some(signed) = &r.signing_string {
            let _ = writeln!(out, "        signing string:");
            for line in signed.lines() {
                let _ = writeln!(out, "          {}", inert(line));
            }
        }
        match (&step.response, &step.transport_error) {
            (Some(resp), _) => {
                let body = inert(&cut_at_token(&resp.body, 300));
                let cut = if resp.truncated { " [body cut at the harness's limit]" } else { "" };
                let _ = writeln!(out, "        response: {} {body}{cut}", resp.status);
            }
            (None, Some(e)) => {
                let _ = writeln!(out, "        no answer: {}", inert(e));
            }
            _ => {}
        }
    }
    if let Some(error) = &s.error {
        let _ = writeln!(out, "      harness error, no verdict on the server: {}", inert(&error.message));
    }
    if let Some(reason) = &s.known_failure_reason {
        let _ = writeln!(out, "      known failure: {reason}");
    }
    for c in s.cleanup.iter().filter(|c| !c.ok) {
        let how = if c.stranded { "stranded" } else { "failed" };
        let _ = writeln!(out, "      cleanup of client {} {how}: {}", inert_line(&c.client), inert_line(&c.detail));
    }
    out
}

/// The headers that decide a signature's fate, as sent: Date, Digest and Signature (its value
/// shortened: keyId, algorithm and the signed header list are what a reader checks).
fn signed_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| ["date", "digest", "signature"].iter().any(|h| name.eq_ignore_ascii_case(h)))
        .map(|(name, value)| {
            let value = match value.find("signature=\"") {
                Some(at) if value.len() > at + 11 + 16 => {
                    let start = at + 11;
                    let length = value[start..].find('"').unwrap_or(value.len() - start);
                    format!("{}{}…\" ({length} characters)", &value[..start], &value[start..start + 16])
                }
                _ => value.clone(),
            };
            (name.clone(), value)
        })
        .collect()
}

/// At most about `limit` characters of a body, cut after a JSON token (a comma, a closing
/// bracket, a space) rather than inside one, saying how long it was.
fn cut_at_token(text: &str, limit: usize) -> String {
    let Some((hard, _)) = text.char_indices().nth(limit) else { return text.to_string() };
    let at = text[..hard].rfind([',', ' ', '}', ']']).map_or(hard, |i| i + 1);
    let at = if at < hard / 2 { hard } else { at };
    format!("{}… ({} bytes in all)", &text[..at], text.len())
}

/// The whole report, plain.
pub fn render(run: &RunResult) -> String {
    render_with(run, &Style::default())
}

/// The whole report in a style.
pub fn render_with(run: &RunResult, style: &Style) -> String {
    let mut out = String::new();
    for s in &run.scenarios {
        out.push_str(&scenario_block(s, style));
    }
    out.push_str(&summary(run));
    out
}

/// A scenario's line and, where it did not simply pass, its details.
pub fn scenario_block(s: &ScenarioResult, style: &Style) -> String {
    let notable = matches!(
        s.verdict,
        Verdict::Fail | Verdict::Warn | Verdict::KnownFailure | Verdict::FixedKnownFailure | Verdict::Error
    ) || s.cleanup.iter().any(|c| !c.ok);
    if style.verbosity == Verbosity::Quiet && !notable {
        return String::new();
    }
    let mut out = format!("{}\n", styled_line(s, style));
    if notable || style.verbosity == Verbosity::Verbose {
        out.push_str(&detail(s, style, style.verbosity == Verbosity::Verbose));
    }
    if s.verdict == Verdict::FixedKnownFailure {
        let _ = writeln!(out, "      passes now: remove it from the known failures");
    }
    out
}

/// What did not pass, one entry each, after all the scenario lines: what failed first, where
/// the scenario is written, and the command that runs it again.
fn recap(run: &RunResult) -> String {
    let notable: Vec<&ScenarioResult> = run
        .scenarios
        .iter()
        .filter(|s| matches!(s.verdict, Verdict::Fail | Verdict::Error | Verdict::Warn | Verdict::FixedKnownFailure))
        .collect();
    if notable.is_empty() {
        return String::new();
    }
    let profile = match run.profile.as_str() {
        "reference" => String::new(),
        other => format!(" --profile {other}"),
    };
    let mut out = format!("\n{} not passed:\n", notable.len());
    for s in notable {
        let what = match s.verdict {
            Verdict::FixedKnownFailure => "passes now: remove it from the known failures".to_string(),
            _ => super::first_failure(s).unwrap_or_default(),
        };
        let _ = writeln!(out, "  {:<5} {}  {}", label(s.verdict), s.id, s.location);
        let _ = writeln!(out, "        {}", inert(&cut(&what, 200)));
        let _ = writeln!(out, "        again: dcr-harness run{profile} --scenario {}", s.id);
    }
    out
}

/// At most `limit` characters, cut at a character boundary, with the length said when cut.
fn cut(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((at, _)) => format!("{}… ({} characters)", &text[..at], text.chars().count()),
        None => text.to_string(),
    }
}

/// The recap of what did not pass, counts by area, then the verdict line.
pub fn summary(run: &RunResult) -> String {
    let mut by_area: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for s in &run.scenarios {
        let entry = by_area.entry(s.area.name()).or_default();
        entry.1 += 1;
        if matches!(s.verdict, Verdict::Pass | Verdict::FixedKnownFailure) {
            entry.0 += 1;
        }
    }
    let mut out = recap(run);
    out.push_str("\nby area:");
    for (area, (passed, total)) in &by_area {
        let _ = write!(out, " {area} {passed}/{total};");
    }
    out.pop();
    let failed = run.count(Verdict::Fail);
    let errors = match run.count(Verdict::Error) {
        0 => String::new(),
        n => format!(", {n} harness errors"),
    };
    // Every scenario is counted somewhere: observations the text allows included.
    let information = match run.count(Verdict::Info) {
        0 => String::new(),
        n => format!(", {n} information"),
    };
    let not_applicable = match run.not_applicable.len() {
        0 => String::new(),
        n => format!(", {n} not applicable"),
    };
    let verdict = run.headline();
    let _ = writeln!(
        out,
        "\n\nverdict: {verdict}: {} scenarios, {} passed, {} failed (MUST), {} warnings (SHOULD), {} known failures, {} skipped{not_applicable}{information}{errors}\n{} requests in {:.2} s against {} (profile {})",
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
    for (_, notice) in super::notices(run) {
        let _ = writeln!(out, "{notice}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_come_out_in_the_plans_order_as_soon_as_those_before_are_done() {
        let cases: [(&[usize], &[&[&str]]); 3] = [
            (&[0, 1, 2], &[&["0"], &["1"], &["2"]]),
            (&[2, 0, 1], &[&[], &["0"], &["1", "2"]]),
            (&[1, 2, 3, 0], &[&[], &[], &[], &["0", "1", "2", "3"]]),
        ];
        for (arrivals, expected) in cases {
            let mut in_order = InOrder::default();
            let given: Vec<Vec<String>> = arrivals.iter().map(|i| in_order.push(*i, i.to_string())).collect();
            assert_eq!(
                given,
                expected.iter().map(|d| d.iter().map(|s| s.to_string()).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "{arrivals:?}"
            );
        }
    }

    #[test]
    fn long_bodies_are_cut_between_tokens_and_say_their_length() {
        let body = format!(r#"{{"client_id":"abc","redirect_uris":["{}"]}}"#, "x".repeat(400));
        let cut = cut_at_token(&body, 300);
        assert!(
            cut.starts_with(r#"{"client_id":"abc","#) && cut.ends_with(&format!("… ({} bytes in all)", body.len()))
        );
        assert_eq!(cut_at_token("short", 300), "short");
        let tokens = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]";
        assert_eq!(cut_at_token(tokens, 10), format!("[1, 2, 3, … ({} bytes in all)", tokens.len()));
    }

    #[test]
    fn a_failure_shows_the_signed_headers_with_the_signature_shortened() {
        let headers = vec![
            ("Date".to_string(), "Wed, 02 Dec 2026 06:10:00 GMT".to_string()),
            ("Content-Type".to_string(), "application/json".to_string()),
            (
                "Signature".to_string(),
                format!(
                    r#"keyId="SN=1,CA=CN=Q",algorithm="rsa-sha256",headers="date",signature="{}""#,
                    "A".repeat(344)
                ),
            ),
        ];
        let shown = signed_headers(&headers);
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert_eq!(
            shown[1].1,
            r#"keyId="SN=1,CA=CN=Q",algorithm="rsa-sha256",headers="date",signature="AAAAAAAAAAAAAAAA…" (344 characters)"#
        );
    }
}
