//! One self-contained HTML page an auditor can open and keep: no external assets. A summary by
//! area and severity, a filter by verdict, and each scenario expandable to its steps, checks,
//! request and response (redacted when recorded).

use std::fmt::Write;

use super::{by_area, counts};
use crate::run::{RunResult, ScenarioResult, StepResult, Verdict};
use crate::scenario::Severity;

/// Text made safe inside HTML elements and attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Warn => "warn",
        Verdict::KnownFailure => "known",
        Verdict::FixedKnownFailure => "fixed",
        Verdict::Skipped => "skipped",
        Verdict::Error => "error",
        Verdict::Info => "info",
    }
}

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1d2330;background:#fafbfc}
h1{margin:0 0 .3rem}h2{margin-top:2rem}
.verdict{display:inline-block;padding:.15rem .6rem;border-radius:4px;font-weight:700;color:#fff}
.verdict.PASS{background:#1f883d}.verdict.FAIL{background:#cf222e}.verdict.WARN{background:#9a6700}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f0f3f6}
.tag{display:inline-block;min-width:3.6rem;text-align:center;border-radius:3px;padding:0 .3rem;font-weight:600;font-size:12px;color:#fff}
.tag.pass{background:#1f883d}.tag.fail{background:#cf222e}.tag.warn{background:#bf8700}.tag.known{background:#6e7781}.tag.fixed{background:#8250df}.tag.skipped{background:#afb8c1}.tag.error{background:#82071e}.tag.info{background:#0969da}
details.scenario{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:.35rem 0;padding:.3rem .7rem}
details.scenario>summary{cursor:pointer}
.meta{color:#57606a;font-size:12px}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:12px}
td.ok{color:#1f883d}td.no{color:#cf222e;font-weight:600}
#filters button{margin-right:.3rem;padding:.2rem .7rem;border:1px solid #d0d7de;border-radius:4px;background:#fff;cursor:pointer}
#filters button.on{background:#0969da;color:#fff;border-color:#0969da}
body.only-fail details.scenario:not(.fail){display:none}
body.only-warn details.scenario:not(.warn){display:none}
body.only-pass details.scenario:not(.pass){display:none}
body.only-other details.scenario.pass,body.only-other details.scenario.fail,body.only-other details.scenario.warn{display:none}
"#;

const SCRIPT: &str = r#"
document.querySelectorAll('#filters button').forEach(function(b){b.addEventListener('click',function(){
document.body.className=b.dataset.filter?'only-'+b.dataset.filter:'';
document.querySelectorAll('#filters button').forEach(function(x){x.classList.toggle('on',x===b)});});});
"#;

pub fn render(run: &RunResult) -> String {
    let verdict = run.headline();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>dcr-harness {verdict}: {}</title><style>{STYLE}</style></head><body>\n",
        esc(&run.target)
    );
    let _ = writeln!(out, "<h1>dcr-harness <span class=\"verdict {verdict}\">{verdict}</span></h1>");
    let _ = writeln!(
        out,
        "<p class=\"meta\">target <code>{}</code> · profile <code>{}</code> · started {} · dcr-harness {} · {} scenarios · {} requests · {:.2} s</p>",
        esc(&run.target),
        esc(&run.profile),
        esc(&run.started_at),
        env!("CARGO_PKG_VERSION"),
        run.scenarios.len(),
        run.requests,
        run.duration_ms as f64 / 1000.0
    );
    for c in &run.certificates {
        let _ = writeln!(
            out,
            "<p class=\"meta\">{} <code>{}</code>: {}</p>",
            esc(&c.role),
            esc(&c.identity),
            esc(&c.subject)
        );
    }
    let parts: Vec<String> =
        counts(run).iter().filter(|(_, n)| *n > 0).map(|(what, n)| format!("{n} {what}")).collect();
    let _ = writeln!(out, "<p>{}</p>", esc(&parts.join(", ")));
    if let Some(notice) = super::clients_left_notice(run) {
        let _ = writeln!(out, "<p class=\"verdict FAIL\">{}</p>", esc(&notice));
    }
    if let Some(notice) = super::clients_stranded_notice(run) {
        let _ = writeln!(out, "<p class=\"verdict WARN\">{}</p>", esc(&notice));
    }
    summary_table(&mut out, run);
    let _ = writeln!(
        out,
        "<h2>Scenarios</h2><div id=\"filters\"><button class=\"on\" data-filter=\"\">all</button><button data-filter=\"fail\">failed</button><button data-filter=\"warn\">warnings</button><button data-filter=\"other\">known / skipped</button><button data-filter=\"pass\">passed</button></div>"
    );
    // What needs reading first: failures and errors, then warnings and the rest, each in run order.
    let rank = |s: &&ScenarioResult| match s.verdict {
        Verdict::Fail | Verdict::Error => 0,
        Verdict::Warn | Verdict::FixedKnownFailure => 1,
        _ => 2,
    };
    let mut ordered: Vec<&ScenarioResult> = run.scenarios.iter().collect();
    ordered.sort_by_key(rank);
    for s in ordered {
        scenario(&mut out, s);
    }
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body></html>\n");
    out
}

fn summary_table(out: &mut String, run: &RunResult) {
    let _ = writeln!(out, "<h2>By area and severity</h2><table><tr><th>area</th><th>MUST passed</th><th>MUST failed</th><th>SHOULD passed</th><th>SHOULD not met</th><th>other</th></tr>");
    for (area, scenarios) in by_area(run) {
        let count = |sev: Severity, ok: bool| {
            scenarios
                .iter()
                .filter(|s| s.severity == sev)
                .filter(|s| {
                    if ok {
                        matches!(s.verdict, Verdict::Pass | Verdict::FixedKnownFailure)
                    } else {
                        matches!(s.verdict, Verdict::Fail | Verdict::Warn)
                    }
                })
                .count()
        };
        let other = scenarios
            .iter()
            .filter(|s| matches!(s.verdict, Verdict::KnownFailure | Verdict::Skipped | Verdict::Error))
            .count();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{other}</td></tr>",
            esc(area),
            count(Severity::Must, true),
            count(Severity::Must, false),
            count(Severity::Should, true),
            count(Severity::Should, false)
        );
    }
    out.push_str("</table>\n");
}

fn scenario(out: &mut String, s: &ScenarioResult) {
    let class = verdict_class(s.verdict);
    let open = if matches!(s.verdict, Verdict::Fail | Verdict::Error) { " open" } else { "" };
    let _ = writeln!(
        out,
        "<details class=\"scenario {class}\"{open}><summary><span class=\"tag {class}\">{}</span> <code>{}</code> {} <span class=\"meta\">{} · {} · {} ms</span></summary>",
        class.to_uppercase(),
        esc(&s.id),
        esc(&s.title),
        esc(s.area.name()),
        s.severity.name(),
        s.duration_ms
    );
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} · source: {} · tags: {}</p>",
        esc(&s.location),
        esc(&s.source),
        esc(&s.tags.join(", "))
    );
    if let Some(reason) = &s.known_failure_reason {
        let _ = writeln!(out, "<p>known failure: {}</p>", esc(reason));
    }
    for step in &s.steps {
        self::step(out, step);
    }
    for c in &s.cleanup {
        let _ = writeln!(
            out,
            "<p class=\"meta\">cleanup of client <code>{}</code>: {}</p>",
            esc(&c.client),
            esc(&c.detail)
        );
    }
    out.push_str("</details>\n");
}

fn step(out: &mut String, step: &StepResult) {
    let _ = writeln!(
        out,
        "<h4>{}{}</h4>",
        esc(&step.name),
        if step.mutations.is_empty() {
            String::new()
        } else {
            format!(" — mutation <code>{}</code>", esc(&step.mutations.join(", ")))
        }
    );
    out.push_str("<table><tr><th>check</th><th>expected</th><th>got</th><th></th></tr>");
    for c in &step.checks {
        let (class, mark) = if c.passed { ("ok", "✓") } else { ("no", "✗") };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{mark}</td></tr>",
            esc(&c.check),
            esc(&c.expected),
            esc(&c.got)
        );
    }
    out.push_str("</table>\n");
    let r = &step.request;
    let headers: String = r.headers.iter().map(|(n, v)| format!("{n}: {v}\n")).collect();
    let _ = writeln!(
        out,
        "<pre>{} {}\n(TLS identity: {})\n{}\n{}</pre>",
        esc(&r.method),
        esc(&r.url),
        esc(r.tls_identity.as_deref().unwrap_or("none")),
        esc(&headers),
        esc(&r.body)
    );
    match (&step.response, &step.transport_error) {
        (Some(resp), _) => {
            let headers: String = resp.headers.iter().map(|(n, v)| format!("{n}: {v}\n")).collect();
            let _ = writeln!(out, "<pre>{}\n{}\n{}</pre>", resp.status, esc(&headers), esc(&resp.body));
        }
        (None, Some(e)) => {
            let _ = writeln!(out, "<pre>no answer: {}</pre>", esc(e));
        }
        _ => {}
    }
}
