//! A load report rendered: the text summary (terminal and Markdown) that says first what was
//! measured, then the figures per transaction in microseconds, the unexpected answers, and
//! every threshold with its value and limit; and the self-contained HTML page with its charts
//! (throughput and p50/p99 over time, the HDR percentile curve, the status mix per transaction)
//! drawn as inline SVG, nothing fetched. Pure functions of the report.

use std::fmt::Write;

use serde::Serialize;

use crate::error::Error;
use crate::load::model::{Latency, LoadReport, Signing};
use crate::report::Format;

/// Thousands separated, as people read counts.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The lines that say what was measured, before any figure.
fn what_was_measured(r: &LoadReport) -> Vec<String> {
    let mut out =
        vec![format!("load `{}` against {}", r.profile, r.target), format!("signing: {}", r.signing.describe())];
    if r.signing == Signing::PerSecond {
        out.push(format!("signatures: {} made, {} reused", count(r.signatures_made), count(r.signatures_reused)));
    }
    let shards = if r.shards > 1 { format!(", {} shards merged", r.shards) } else { String::new() };
    out.push(format!("model: {}; {} users; {:.1} s{shards}", r.model, r.users, r.duration_s));
    if let Some(faults) = &r.faults {
        out.push(format!("faults held during the attack: {faults}"));
    }
    if !r.speaking_as.is_empty() {
        out.push(format!("speaking as: {}", r.speaking_as.join("; ")));
    }
    out.push(format!(
        "connections: {} TLS handshakes ({} offering resumption), key exchange {}, {}",
        count(r.tls.handshakes),
        count(r.tls.resumptions_offered),
        r.tls.group.as_deref().unwrap_or("none (plain HTTP)"),
        r.http_version
    ));
    out
}

/// Min, mean, p50, p90, p95, p99, p99.9 and max, as counts.
fn latency_values(l: &Latency) -> Vec<String> {
    [l.min_us, l.mean_us, l.p50_us, l.p90_us, l.p95_us, l.p99_us, l.p999_us, l.max_us]
        .iter()
        .map(|us| count(*us))
        .collect()
}

fn latency_cells(l: &Latency) -> String {
    latency_values(l).join(" | ")
}

/// The terminal (and Markdown) summary.
pub fn render(r: &LoadReport) -> String {
    let mut out = String::new();
    for line in what_was_measured(r) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "requests: {} ({} answered), {:.0} requests/s, {} unexpected",
        count(r.requests),
        count(r.answered),
        r.throughput,
        count(r.unexpected)
    );
    if let Some(cpu) = r.cpu_us_per_request {
        let _ = writeln!(out, "client CPU: {cpu:.0} us per request during the load (the whole process)");
    }
    if let Some(rate) = r.scheduled_rate {
        let _ = writeln!(
            out,
            "schedule: {rate:.0} requests/s asked, {:.0} achieved; {} started late (at most {:.1} ms), latency counted from when each was due",
            r.throughput,
            count(r.late_starts),
            r.max_lag_ms
        );
    }
    let l = &r.latency;
    let _ = writeln!(
        out,
        "latency (us): min {} | mean {} | p50 {} | p90 {} | p95 {} | p99 {} | p99.9 {} | max {}\n",
        count(l.min_us),
        count(l.mean_us),
        count(l.p50_us),
        count(l.p90_us),
        count(l.p95_us),
        count(l.p99_us),
        count(l.p999_us),
        count(l.max_us)
    );
    let _ = writeln!(
        out,
        "| transaction | requests | rate/s | statuses | unexpected | min us | mean | p50 | p90 | p95 | p99 | p99.9 | max |\n| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for t in &r.transactions {
        let statuses: Vec<String> = t.statuses.iter().map(|(s, n)| format!("{s}: {}", count(*n))).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {} |",
            t.name,
            count(t.requests),
            t.rate,
            statuses.join(", "),
            count(t.unexpected),
            latency_cells(&t.latency)
        );
    }
    let unexpected: Vec<String> = r
        .transactions
        .iter()
        .flat_map(|t| t.unexpected_answers.iter().map(move |(what, n)| format!("- {}: {what} x {}", t.name, count(*n))))
        .collect();
    if !unexpected.is_empty() {
        let _ = writeln!(out, "\nunexpected answers:\n{}", unexpected.join("\n"));
    }
    if !r.server_fetches.is_empty() {
        let _ = writeln!(
            out,
            "\nthe server's own fetches during the load (it measured them):\n{}",
            fetch_lines(&r.server_fetches)
        );
    }
    if !r.fault_phases.is_empty() {
        out.push_str(&under_faults(&r.fault_phases));
    }
    for sink in &r.streamed {
        let failure = sink.last_failure.as_deref().map_or(String::new(), |f| format!(" (last: {f})"));
        let _ = writeln!(
            out,
            "\nstreamed to {}: {} pushes accepted, {} failed, {} dropped{failure}",
            sink.sink, sink.accepted, sink.failed, sink.dropped
        );
    }
    if let Some(under_load) = &r.under_load {
        out.push_str(&conformance_under_load(under_load));
    }
    if let Some(comparison) = &r.baseline {
        out.push_str(&against_baseline(comparison));
    }
    if r.interrupted {
        out.push_str("\ninterrupted: the figures above are partial, and no threshold is judged\n");
    } else if r.thresholds.is_empty() {
        out.push_str("\nthresholds: none set\n");
    } else {
        out.push_str("\nthresholds:\n");
        for t in &r.thresholds {
            let mark = if t.met { "met     " } else { "BREACHED" };
            let _ = writeln!(out, "  {mark} {}: {} (limit {})", t.name, t.value, t.limit);
        }
    }
    let _ = writeln!(out, "\n{}", clients_deleted(r));
    if !r.clients_left.is_empty() {
        let how = crate::run::model::cleanup_hint(r.ledger.as_deref());
        let _ = writeln!(out, "{} client(s) left on the target: {how}", r.clients_left.len());
    }
    out
}

/// A line per service the server fetched from.
fn fetch_lines(fetches: &[super::model::ServiceFetches]) -> String {
    let line = |f: &super::model::ServiceFetches| {
        format!(
            "  {}: {} fetches, mean {} us, max {} us",
            f.service,
            count(f.fetches),
            count(f.mean_us),
            count(f.max_us)
        )
    };
    fetches.iter().map(line).collect::<Vec<_>>().join("\n")
}

/// The load without faults and under each, side by side: the endpoint's latency and what the
/// server spent fetching.
fn under_faults(phases: &[super::model::FaultPhase]) -> String {
    let mut out = String::from(
        "\nunder faults (the same profile, loaded once per line):\n| faults | requests | requests/s | unexpected | p50 us | p95 us | p99 us | max us | server's fetches |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    for p in phases {
        let fetches: Vec<String> = p
            .server_fetches
            .iter()
            .map(|f| format!("{} {} x mean {} us", f.service, count(f.fetches), count(f.mean_us)))
            .collect();
        let l = &p.latency;
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {} | {} | {} | {} |",
            p.faults,
            count(p.requests),
            p.throughput,
            count(p.unexpected),
            count(l.p50_us),
            count(l.p95_us),
            count(l.p99_us),
            count(l.max_us),
            if fetches.is_empty() { "none".to_string() } else { fetches.join(", ") }
        );
    }
    out
}

/// The negative scenarios beside the load: how many ran, which degraded and how.
fn conformance_under_load(u: &super::conformance::UnderLoad) -> String {
    let of = u
        .saturation
        .map_or(String::new(), |s| format!(", {:.0}% of the {s:.0} requests/s measured first", 100.0 * u.rate / s));
    let mut out =
        format!(
        "\nconformance under load: {} negative scenarios beside the load at {:.0} requests/s{of}; {} runs under load\n",
        u.scenarios, u.rate, count(u.runs_under_load as u64)
    );
    if u.held() {
        out.push_str("  every one gave its idle verdict\n");
    }
    for d in &u.degraded {
        let _ =
            writeln!(out, "  DEGRADED {}: {} idle, {} under load: {}", d.id, d.idle, d.under_load, d.how.join("; "));
    }
    if !u.not_reached.is_empty() {
        let _ = writeln!(out, "  not reached under load (the load ended first): {}", u.not_reached.join(", "));
    }
    if !u.not_passing_idle.is_empty() {
        let _ = writeln!(out, "  not passing idle either (compared all the same): {}", u.not_passing_idle.join(", "));
    }
    out
}

/// Each headline figure beside the baseline's, with the ratio.
fn against_baseline(c: &super::model::Comparison) -> String {
    let mut out = format!("\nagainst the baseline ({}):\n", c.baseline);
    for f in &c.figures {
        let ratio = f.ratio.map_or_else(|| "no ratio: the baseline's is 0".to_string(), |r| format!("{r:.2}x"));
        let _ = writeln!(out, "  {}: {:.2} {} against {:.2} ({ratio})", f.name, f.now, f.unit, f.baseline);
    }
    out
}

/// How many clients were deleted during the load (the rolling cleanup) and after it.
fn clients_deleted(r: &LoadReport) -> String {
    let after = count(r.clients_deleted as u64);
    let deleted = match r.transactions.iter().find(|t| t.name == super::engine::ROLLING_CLEANUP) {
        Some(rolling) => {
            format!(
                "clients: {} deleted during the load, {after} after it",
                count(rolling.statuses.iter().filter(|(s, _)| s.starts_with('2')).map(|(_, n)| n).sum())
            )
        }
        None => format!("clients: {after} deleted after the load"),
    };
    match r.clients_stranded {
        0 => deleted,
        n => format!(
            "{deleted}; {} left that no request can delete (the target manages none, RFC 7591 alone; or a request about them got no answer, and the server may have rotated their registration access token then: the ledger names them)",
            count(n as u64)
        ),
    }
}

/// A chart's series: name, colour, (x, y) points.
type Series<'a> = (&'a str, &'a str, Vec<(f64, f64)>);

/// A line chart's geometry, drawn by the template: linear axes from 0.
#[derive(Debug, Serialize)]
struct Chart {
    title: String,
    x_label: String,
    y_label: String,
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    top: f64,
    floor: f64,
    middle: f64,
    x_label_at: f64,
    y_ticks: Vec<Tick>,
    x_ticks: Vec<Tick>,
    series: Vec<Line>,
}

#[derive(Debug, Serialize)]
struct Tick {
    at: String,
    label_at: String,
    label: String,
}

#[derive(Debug, Serialize)]
struct Line {
    name: String,
    color: String,
    points: String,
    legend_at: f64,
}

/// Lays out one chart: series of (x, y) points in a 640 x 260 box.
fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series<'_>], x_ticks: &[(f64, String)]) -> Chart {
    let (w, h, left, bottom, top, right) = (640.0, 260.0, 60.0, 40.0, 24.0, 16.0);
    let points = series.iter().flat_map(|(_, _, p)| p.iter());
    let x_max = points.clone().map(|p| p.0).fold(0.0f64, f64::max).max(1e-9);
    let y_max = points.map(|p| p.1).fold(0.0f64, f64::max).max(1e-9) * 1.1;
    let x = |v: f64| left + v / x_max * (w - left - right);
    let y = |v: f64| h - bottom - v / y_max * (h - bottom - top);
    let y_ticks = (0..=4)
        .map(|i| y_max / 4.0 * i as f64)
        .map(|v| Tick { at: format!("{:.1}", y(v)), label_at: format!("{:.1}", y(v) + 4.0), label: short(v) })
        .collect();
    let x_ticks: Vec<(f64, String)> = match x_ticks.is_empty() {
        true => (0..=4).map(|i| (x_max / 4.0 * i as f64, short(x_max / 4.0 * i as f64))).collect(),
        false => x_ticks.to_vec(),
    };
    Chart {
        title: title.to_string(),
        x_label: x_label.to_string(),
        y_label: y_label.to_string(),
        width: w,
        height: h,
        left,
        right: w - right,
        top,
        floor: h - bottom,
        middle: h / 2.0,
        x_label_at: (left + w - right) / 2.0,
        y_ticks,
        x_ticks: x_ticks
            .into_iter()
            .map(|(v, label)| Tick { at: format!("{:.1}", x(v)), label_at: format!("{}", h - bottom + 16.0), label })
            .collect(),
        series: series
            .iter()
            .enumerate()
            .map(|(i, (name, color, points))| Line {
                name: name.to_string(),
                color: color.to_string(),
                points: points.iter().map(|(a, b)| format!("{:.1},{:.1}", x(*a), y(*b))).collect::<Vec<_>>().join(" "),
                legend_at: left + 8.0 + 120.0 * i as f64,
            })
            .collect(),
    }
}

/// A number in a few characters.
fn short(v: f64) -> String {
    match v {
        v if v >= 10_000.0 => format!("{:.0}k", v / 1000.0),
        v if v >= 100.0 => format!("{v:.0}"),
        v if v >= 1.0 => format!("{v:.1}"),
        v => format!("{v:.2}"),
    }
}

#[derive(Serialize)]
struct BarRow {
    name: String,
    segments: Vec<Segment>,
}

#[derive(Serialize)]
struct Segment {
    status: String,
    n: u64,
    share: String,
    class: &'static str,
}

/// Each transaction's answers as a bar: expected statuses green, the rest red, by share.
fn status_bars(r: &LoadReport) -> Vec<BarRow> {
    r.transactions
        .iter()
        .map(|t| {
            let total = t.requests.max(1) as f64;
            let unexpected: std::collections::BTreeSet<&str> =
                t.unexpected_answers.keys().filter_map(|k| k.split(' ').next()).collect();
            let segments = t
                .statuses
                .iter()
                .map(|(status, n)| Segment {
                    status: status.clone(),
                    n: *n,
                    share: format!("{:.2}", *n as f64 / total * 100.0),
                    class: if unexpected.contains(status.split(' ').next().unwrap_or_default()) {
                        "bad"
                    } else {
                        "good"
                    },
                })
                .collect();
            BarRow { name: t.name.clone(), segments }
        })
        .collect()
}

#[derive(Serialize)]
struct TransactionRow {
    name: String,
    cells: Vec<String>,
}

#[derive(Serialize)]
struct Page {
    measured: Vec<String>,
    charts: Vec<Chart>,
    bars: Vec<BarRow>,
    transactions: Vec<TransactionRow>,
    unexpected: Vec<String>,
    clients: String,
    cleanup_hint: String,
}

/// The self-contained HTML load report; an error is the template's (a defect of this program,
/// which the tests catch), never the load's.
pub fn html(r: &LoadReport) -> Result<String, minijinja::Error> {
    let mut measured: Vec<String> = what_was_measured(r).into_iter().skip(1).collect();
    measured.push(format!(
        "requests: {} ({} answered), {:.0} requests/s, {} unexpected",
        count(r.requests),
        count(r.answered),
        r.throughput,
        count(r.unexpected)
    ));
    let page = Page {
        measured,
        charts: charts(r),
        bars: status_bars(r),
        transactions: r
            .transactions
            .iter()
            .map(|t| {
                let head = [count(t.requests), format!("{:.0}", t.rate), count(t.unexpected)];
                let cells = head.into_iter().chain(latency_values(&t.latency));
                TransactionRow { name: t.name.clone(), cells: cells.collect() }
            })
            .collect(),
        unexpected: r
            .transactions
            .iter()
            .flat_map(|t| {
                t.unexpected_answers.iter().map(move |(what, n)| format!("{}: {what} x {}", t.name, count(*n)))
            })
            .collect(),
        clients: clients_deleted(r),
        cleanup_hint: crate::run::model::cleanup_hint(r.ledger.as_deref()),
    };
    use minijinja::value::{Serde, Value};
    crate::report::html::render_template(
        "load.html",
        minijinja::context! { r => Value::from(Serde(r)), page => Value::from(Serde(&page)) },
    )
}

/// Throughput and p50/p99 over time, and the HDR percentile curve.
fn charts(r: &LoadReport) -> Vec<Chart> {
    let per_second: Vec<(f64, f64)> = r.timeline.iter().map(|p| (p.t_s as f64, p.requests as f64)).collect();
    let ms = |us: u64| us as f64 / 1000.0;
    let p50: Vec<(f64, f64)> = r.timeline.iter().map(|p| (p.t_s as f64, ms(p.p50_us))).collect();
    let p99: Vec<(f64, f64)> = r.timeline.iter().map(|p| (p.t_s as f64, ms(p.p99_us))).collect();
    // The HDR percentile curve: x is the number of nines, so the tail gets the room it needs.
    let nines = |p: f64| -(1.0 - (p / 100.0).min(0.999_999_9)).log10();
    let curve: Vec<(f64, f64)> = r.percentiles.iter().map(|(p, us)| (nines(*p), ms(*us))).collect();
    let ticks: Vec<(f64, String)> = [0.0, 90.0, 99.0, 99.9, 99.99, 99.999]
        .iter()
        .filter(|p| curve.last().is_some_and(|(x, _)| nines(**p) <= *x))
        .map(|p| (nines(*p), format!("{p}%")))
        .collect();
    vec![
        line_chart("Throughput", "seconds", "requests/s", &[("requests/s", "#0969da", per_second)], &[]),
        line_chart("Latency over time", "seconds", "ms", &[("p50", "#1f883d", p50), ("p99", "#cf222e", p99)], &[]),
        line_chart("Latency by percentile (HDR)", "percentile", "ms", &[("latency", "#8250df", curve)], &ticks),
    ]
}

impl crate::report::Report for LoadReport {
    const FORMATS: &'static [Format] = &[Format::Json, Format::Html, Format::Markdown];

    fn render(&self, format: Format) -> Result<String, Error> {
        match format {
            Format::Html => html(self).map_err(|source| Error::Template { report: "HTML load", source }),
            Format::Json => {
                serde_json::to_string_pretty(self).map_err(|source| Error::Encode { report: "JSON load", source })
            }
            Format::Markdown | Format::Junit | Format::Sarif => Ok(render(self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        for (n, text) in [(0, "0"), (999, "999"), (1000, "1,000"), (1234567, "1,234,567")] {
            assert_eq!(count(n), text);
        }
    }

    #[test]
    fn a_chart_scales_into_its_box() {
        let chart = line_chart("a <b>", "x", "y", &[("s&t", "#000", vec![(0.0, 0.0), (10.0, 5.0)])], &[]);
        assert!(chart.series[0].points.starts_with("60.0,220.0 624.0,"), "{chart:?}");
        assert_eq!(chart.y_ticks.len(), 5);
        assert_eq!(chart.x_ticks.first().map(|t| t.at.as_str()), Some("60.0"));
    }
}
