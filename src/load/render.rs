//! A load report rendered: the text summary (terminal and Markdown) that says first what was
//! measured, then the figures per transaction in microseconds, the unexpected answers, and
//! every threshold with its value and limit; and the self-contained HTML page with its charts
//! (throughput and p50/p99 over time, the HDR percentile curve, the status mix per transaction)
//! drawn as inline SVG, nothing fetched. Pure functions of the report.

use std::fmt::Write;

use crate::report::html::esc;
use crate::run::model::load::{Latency, LoadReport, Signing};

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

fn latency_cells(l: &Latency) -> String {
    [l.min_us, l.mean_us, l.p50_us, l.p90_us, l.p95_us, l.p99_us, l.p999_us, l.max_us]
        .iter()
        .map(|us| count(*us))
        .collect::<Vec<_>>()
        .join(" | ")
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

/// How many clients were deleted during the load (the rolling cleanup) and after it.
fn clients_deleted(r: &LoadReport) -> String {
    let after = count(r.clients_deleted as u64);
    match r.transactions.iter().find(|t| t.name == super::engine::ROLLING_CLEANUP) {
        Some(rolling) => {
            format!(
                "clients: {} deleted during the load, {after} after it",
                count(rolling.requests - rolling.unexpected)
            )
        }
        None => format!("clients: {after} deleted after the load"),
    }
}

/// A chart's series: name, colour, (x, y) points.
type Series<'a> = (&'a str, &'a str, Vec<(f64, f64)>);

/// One line chart as inline SVG: series of (x, y) points, linear axes from 0.
fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series<'_>], x_ticks: &[(f64, String)]) -> String {
    let (w, h, left, bottom, top, right) = (640.0, 260.0, 60.0, 40.0, 24.0, 16.0);
    let points = series.iter().flat_map(|(_, _, p)| p.iter());
    let x_max = points.clone().map(|p| p.0).fold(0.0f64, f64::max).max(1e-9);
    let y_max = points.map(|p| p.1).fold(0.0f64, f64::max).max(1e-9) * 1.1;
    let x = |v: f64| left + v / x_max * (w - left - right);
    let y = |v: f64| h - bottom - v / y_max * (h - bottom - top);
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        esc(title)
    );
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"axis\"/>",
        h - bottom,
        w - right,
        h - bottom
    );
    let _ = write!(svg, "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" class=\"axis\"/>", h - bottom);
    for i in 0..=4 {
        let v = y_max / 4.0 * i as f64;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            y(v) + 4.0,
            short(v)
        );
        let _ = write!(
            svg,
            "<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{}\" y2=\"{:.1}\" class=\"grid\"/>",
            y(v),
            w - right,
            y(v)
        );
    }
    let ticks: Vec<(f64, String)> = match x_ticks.is_empty() {
        true => (0..=4).map(|i| (x_max / 4.0 * i as f64, short(x_max / 4.0 * i as f64))).collect(),
        false => x_ticks.to_vec(),
    };
    for (v, label) in ticks {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
            x(v),
            h - bottom + 16.0,
            esc(&label)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" class=\"label\" text-anchor=\"middle\">{}</text>",
        (left + w - right) / 2.0,
        h - 4.0,
        esc(x_label)
    );
    let _ = write!(
        svg,
        "<text x=\"12\" y=\"{}\" class=\"label\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">{}</text>",
        h / 2.0,
        h / 2.0,
        esc(y_label)
    );
    for (i, (name, color, points)) in series.iter().enumerate() {
        let path: Vec<String> = points.iter().map(|(a, b)| format!("{:.1},{:.1}", x(*a), y(*b))).collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            path.join(" ")
        );
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" fill=\"{color}\" class=\"legend\">{}</text>",
            left + 8.0 + 120.0 * i as f64,
            top - 8.0,
            esc(name)
        );
    }
    svg.push_str("</svg></figure>");
    svg
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

/// Each transaction's answers as a bar: expected statuses green, the rest red, by share.
fn status_bars(r: &LoadReport) -> String {
    let mut out = String::from("<figure><figcaption>Status mix per transaction</figcaption><div class=\"bars\">");
    for t in &r.transactions {
        let _ =
            write!(out, "<div class=\"bar-row\"><span class=\"bar-name\">{}</span><span class=\"bar\">", esc(&t.name));
        let total = t.requests.max(1) as f64;
        let unexpected_statuses: std::collections::BTreeSet<&str> =
            t.unexpected_answers.keys().filter_map(|k| k.split(' ').next()).collect();
        for (status, n) in &t.statuses {
            let share = *n as f64 / total * 100.0;
            let class =
                if unexpected_statuses.contains(status.split(' ').next().unwrap_or_default()) { "bad" } else { "good" };
            let _ = write!(
                out,
                "<span class=\"seg {class}\" style=\"width:{share:.2}%\" title=\"{}: {n}\">{}</span>",
                esc(status),
                esc(status)
            );
        }
        out.push_str("</span></div>");
    }
    out.push_str("</div></figure>");
    out
}

/// The self-contained HTML load report.
pub fn html(r: &LoadReport) -> String {
    let mut out = String::from("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">");
    let _ = write!(out, "<title>load {} - dcr-harness</title>", esc(&r.profile));
    out.push_str("<style>body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1f2328}h1{font-size:1.4rem}table{border-collapse:collapse;margin:1rem 0;font-variant-numeric:tabular-nums}td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:right}td:first-child,th:first-child{text-align:left}.measured{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem}.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(28rem,1fr));gap:1rem}figure{margin:0}figcaption{font-weight:600}svg{width:100%;height:auto}.axis{stroke:#57606a}.grid{stroke:#eaeef2}.tick{font-size:10px;fill:#57606a}.label{font-size:11px;fill:#57606a}.legend{font-size:12px;font-weight:600}.bar-row{display:flex;align-items:center;margin:.2rem 0}.bar-name{width:16rem;overflow:hidden;text-overflow:ellipsis}.bar{display:flex;flex:1;height:1.2rem;background:#eaeef2;border-radius:3px;overflow:hidden}.seg{font-size:10px;color:#fff;overflow:hidden;white-space:nowrap;padding-left:2px}.good{background:#1f883d}.bad{background:#cf222e}.met{color:#1f883d}.breached{color:#cf222e;font-weight:700}</style></head><body>");
    let _ = write!(
        out,
        "<h1>load <code>{}</code> against {}</h1><div class=\"measured\">",
        esc(&r.profile),
        esc(&r.target)
    );
    for line in what_was_measured(r).iter().skip(1) {
        let _ = write!(out, "<div>{}</div>", esc(line));
    }
    let _ = write!(
        out,
        "<div>requests: {} ({} answered), {:.0} requests/s, {} unexpected</div></div>",
        count(r.requests),
        count(r.answered),
        r.throughput,
        count(r.unexpected)
    );
    if r.interrupted {
        out.push_str("<p class=\"breached\">Interrupted: the figures are partial, and no threshold is judged.</p>");
    }
    out.push_str("<div class=\"charts\">");
    let per_second: Vec<(f64, f64)> = r.timeline.iter().map(|p| (p.t_s as f64, p.requests as f64)).collect();
    out.push_str(&line_chart("Throughput", "seconds", "requests/s", &[("requests/s", "#0969da", per_second)], &[]));
    let ms = |us: u64| us as f64 / 1000.0;
    let p50: Vec<(f64, f64)> = r.timeline.iter().map(|p| (p.t_s as f64, ms(p.p50_us))).collect();
    let p99: Vec<(f64, f64)> = r.timeline.iter().map(|p| (p.t_s as f64, ms(p.p99_us))).collect();
    out.push_str(&line_chart(
        "Latency over time",
        "seconds",
        "ms",
        &[("p50", "#1f883d", p50), ("p99", "#cf222e", p99)],
        &[],
    ));
    // The HDR percentile curve: x is the number of nines, so the tail gets the room it needs.
    let nines = |p: f64| -(1.0 - (p / 100.0).min(0.999_999_9)).log10();
    let curve: Vec<(f64, f64)> = r.percentiles.iter().map(|(p, us)| (nines(*p), ms(*us))).collect();
    let ticks: Vec<(f64, String)> = [0.0, 90.0, 99.0, 99.9, 99.99, 99.999]
        .iter()
        .filter(|p| curve.last().is_some_and(|(x, _)| nines(**p) <= *x))
        .map(|p| (nines(*p), format!("{p}%")))
        .collect();
    out.push_str(&line_chart(
        "Latency by percentile (HDR)",
        "percentile",
        "ms",
        &[("latency", "#8250df", curve)],
        &ticks,
    ));
    out.push_str(&status_bars(r));
    out.push_str("</div><h2>Transactions (latency in microseconds)</h2><table><tr><th>transaction</th><th>requests</th><th>rate/s</th><th>unexpected</th><th>min</th><th>mean</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>");
    for t in &r.transactions {
        let cells: String = latency_cells(&t.latency).split(" | ").map(|c| format!("<td>{c}</td>")).collect();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.0}</td><td>{}</td>{cells}</tr>",
            esc(&t.name),
            count(t.requests),
            t.rate,
            count(t.unexpected)
        );
    }
    out.push_str("</table>");
    let unexpected: Vec<String> = r
        .transactions
        .iter()
        .flat_map(|t| {
            t.unexpected_answers
                .iter()
                .map(move |(what, n)| format!("<li>{}: {} x {}</li>", esc(&t.name), esc(what), count(*n)))
        })
        .collect();
    if !unexpected.is_empty() {
        let _ = write!(out, "<h2>Unexpected answers</h2><ul>{}</ul>", unexpected.concat());
    }
    out.push_str("<h2>Thresholds</h2>");
    if r.thresholds.is_empty() {
        out.push_str("<p>none judged</p>");
    } else {
        out.push_str("<table><tr><th>threshold</th><th>measured</th><th>limit</th><th>result</th></tr>");
        for t in &r.thresholds {
            let (class, word) = if t.met { ("met", "met") } else { ("breached", "BREACHED") };
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{word}</td></tr>",
                esc(&t.name),
                esc(&t.value),
                esc(&t.limit)
            );
        }
        out.push_str("</table>");
    }
    let _ = write!(out, "<p>{}", esc(&clients_deleted(r)));
    if !r.clients_left.is_empty() {
        let _ = write!(
            out,
            "; <strong class=\"breached\">{} left on the target</strong>: {}",
            r.clients_left.len(),
            esc(&crate::run::model::cleanup_hint(r.ledger.as_deref()))
        );
    }
    out.push_str("</p></body></html>\n");
    out
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
    fn a_chart_escapes_what_it_is_given_and_scales_into_its_box() {
        let svg = line_chart("a <b>", "x", "y", &[("s&t", "#000", vec![(0.0, 0.0), (10.0, 5.0)])], &[]);
        assert!(svg.contains("a &lt;b&gt;") && svg.contains("s&amp;t") && !svg.contains("<b>"));
        assert!(svg.contains("points=\"60.0,220.0 624.0,"), "{svg}");
    }
}
