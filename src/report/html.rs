//! One self-contained HTML page an auditor can open and keep: no external assets. A summary by
//! area and severity, a filter by verdict, and each scenario expandable to its steps, checks,
//! request and response (redacted when recorded), failures first. The markup is a template
//! (`templates/report/run.html`) that the engine escapes; this module only shapes the data.

use serde::Serialize;

use super::{by_area, counts};
use crate::run::{RunResult, ScenarioResult, Verdict};
use crate::scenario::Severity;

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
.verdict.PASS{background:#1f883d}.verdict.FAIL{background:#cf222e}.verdict.WARN{background:#9a6700}.verdict.NOTE{background:#0969da}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f0f3f6}
.tag{display:inline-block;min-width:3.6rem;text-align:center;border-radius:3px;padding:0 .3rem;font-weight:600;font-size:12px;color:#fff}
.tag.pass{background:#1f883d}.tag.fail{background:#cf222e}.tag.warn{background:#bf8700}.tag.known{background:#6e7781}.tag.fixed{background:#8250df}.tag.skipped{background:#afb8c1}.tag.error{background:#82071e}.tag.info{background:#0969da}
details.scenario{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:.35rem 0;padding:.3rem .7rem}
details.scenario>summary{cursor:pointer}
.meta{color:#57606a;font-size:12px}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:12px}
td.ok{color:#1f883d}td.no{color:#cf222e;font-weight:600}
.http{background:#f6f8fa;padding:.5rem;margin:.4rem 0;font:12px ui-monospace,monospace;word-break:break-all}
.http pre{padding:0;margin:.4rem 0 0}.header{padding-left:1em;text-indent:-1em}
details.long{display:inline}details.long>summary{display:inline;cursor:pointer}details.long[open]>summary{display:none}
p.error{color:#82071e;font-weight:600}
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

/// Values longer than this fold to their first `FOLD_KEEP` characters (a certificate header,
/// a signature); bodies longer than `FOLD_BODY_AT` fold whole.
const FOLD_AT: usize = 160;
const FOLD_KEEP: usize = 72;
const FOLD_BODY_AT: usize = 2_000;

#[derive(Serialize)]
struct Page<'a> {
    headline: &'a str,
    version: &'static str,
    seconds: String,
    counts: String,
    notices: Vec<Notice>,
    areas: Vec<AreaRow<'a>>,
    scenarios: Vec<ScenarioView<'a>>,
    style: &'static str,
    script: &'static str,
}

#[derive(Serialize)]
struct Notice {
    class: &'static str,
    text: String,
}

#[derive(Serialize)]
struct AreaRow<'a> {
    area: &'a str,
    must_passed: usize,
    must_failed: usize,
    should_passed: usize,
    should_not_met: usize,
    other: usize,
}

#[derive(Serialize)]
struct ScenarioView<'a> {
    scenario: &'a ScenarioResult,
    class: &'static str,
    open: bool,
    /// Long values kept whole (folded) rather than cut: what a reader must be able to read.
    whole: bool,
    area: &'static str,
    severity: &'static str,
}

/// The templates of every HTML report, runs' and loads', built in.
const TEMPLATES: &[(&str, &str)] = &[
    ("run.html", include_str!("../../templates/report/run.html")),
    ("load.html", include_str!("../../templates/report/load.html")),
];

/// Renders the built-in template `name` with `context`, in the one environment every HTML
/// report shares (runs and loads alike: the same escaping, the same filters).
pub fn render_template(name: &str, context: minijinja::Value) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    for (template, source) in TEMPLATES {
        env.add_template(template, source)?;
    }
    env.get_template(name)?.render(context)
}

/// Renders the page; an error is the template's (a defect of this program, which the report
/// tests catch), never the run's.
pub fn render(run: &RunResult) -> Result<String, minijinja::Error> {
    let page = Page {
        headline: run.headline(),
        version: env!("CARGO_PKG_VERSION"),
        seconds: format!("{:.2}", run.duration_ms as f64 / 1000.0),
        counts: counts(run)
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(what, n)| format!("{n} {what}"))
            .collect::<Vec<_>>()
            .join(", "),
        notices: super::notices(run).into_iter().map(|(class, text)| Notice { class, text }).collect(),
        areas: by_area(run).into_iter().map(|(area, scenarios)| area_row(area, &scenarios)).collect(),
        scenarios: failures_first(run).into_iter().map(scenario_view).collect(),
        style: STYLE,
        script: SCRIPT,
    };
    use minijinja::value::{Serde, Value};
    render_template(
        "run.html",
        minijinja::context! {
            page => Value::from(Serde(&page)),
            run => Value::from(Serde(run)),
            fold_at => FOLD_AT,
            fold_keep => FOLD_KEEP,
            fold_body_at => FOLD_BODY_AT,
        },
    )
}

/// What needs reading first: failures and errors, then warnings and the rest, each in run order.
fn failures_first(run: &RunResult) -> Vec<&ScenarioResult> {
    let rank = |s: &&ScenarioResult| match s.verdict {
        Verdict::Fail | Verdict::Error => 0,
        Verdict::Warn | Verdict::FixedKnownFailure => 1,
        _ => 2,
    };
    let mut ordered: Vec<&ScenarioResult> = run.scenarios.iter().collect();
    ordered.sort_by_key(rank);
    ordered
}

fn area_row<'a>(area: &'a str, scenarios: &[&ScenarioResult]) -> AreaRow<'a> {
    let count = |sev: Severity, verdicts: &[Verdict]| {
        scenarios.iter().filter(|s| s.severity == sev && verdicts.contains(&s.verdict)).count()
    };
    let (passed, not_met) = ([Verdict::Pass, Verdict::FixedKnownFailure], [Verdict::Fail, Verdict::Warn]);
    AreaRow {
        area,
        must_passed: count(Severity::Must, &passed),
        must_failed: count(Severity::Must, &not_met),
        should_passed: count(Severity::Should, &passed),
        should_not_met: count(Severity::Should, &not_met),
        other: scenarios
            .iter()
            .filter(|s| matches!(s.verdict, Verdict::KnownFailure | Verdict::Skipped | Verdict::Error))
            .count(),
    }
}

fn scenario_view(s: &ScenarioResult) -> ScenarioView<'_> {
    ScenarioView {
        scenario: s,
        class: verdict_class(s.verdict),
        open: matches!(s.verdict, Verdict::Fail | Verdict::Error),
        whole: s.verdict.is_adverse(),
        area: s.area.name(),
        severity: s.severity.name(),
    }
}
