//! A load compared with an earlier one (`load --baseline FILE`): the earlier load's JSON report
//! read back, each headline figure (throughput, p50, p95, p99, the share of unexpected answers,
//! client CPU per request) beside the baseline's with the ratio, and the thresholds a load
//! profile sets on the ratios (`p99_ratio: 1.2`) judged, so that CI can fail a release that got
//! slower. It reads one file; it prints nothing and measures nothing.

use std::path::Path;

use super::model::{Compared, Comparison, LoadReport, ThresholdCheck, Thresholds};

/// The most of a baseline file read: a load report with its timeline and percentile curve.
const MAX_BASELINE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a baseline could not be used.
pub type BaselineError = crate::diagnostic::JsonReportError;

/// Reads the JSON report of an earlier load.
pub fn read(path: &Path) -> Result<LoadReport, BaselineError> {
    crate::diagnostic::read_json_report(path, MAX_BASELINE_BYTES, "a load report", "load")
}

/// A figure's value in a report, where the report has it.
type Figure = fn(&LoadReport) -> Option<f64>;

/// The figures a comparison shows, by name: their unit, and their value in a report.
const FIGURES: &[(&str, &str, Figure)] = &[
    ("throughput", "requests/s", |r| Some(r.throughput)),
    ("p50 latency", "ms", |r| Some(r.latency.p50_us as f64 / 1000.0)),
    ("p95 latency", "ms", |r| Some(r.latency.p95_us as f64 / 1000.0)),
    ("p99 latency", "ms", |r| Some(r.latency.p99_us as f64 / 1000.0)),
    ("unexpected answers", "%", |r| Some(share(r.unexpected, r.requests) * 100.0)),
    ("client CPU per request", "us", |r| r.cpu_us_per_request),
];

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// `now`'s headline figures beside `baseline`'s (a figure either lacks is left out).
pub fn compare(now: &LoadReport, baseline: &LoadReport, baseline_path: &Path) -> Comparison {
    let figures = FIGURES
        .iter()
        .filter_map(|(name, unit, value)| {
            let (now, then) = (value(now)?, value(baseline)?);
            let ratio = (then > 0.0).then(|| now / then);
            Some(Compared { name: name.to_string(), unit: unit.to_string(), now, baseline: then, ratio })
        })
        .collect();
    Comparison { baseline: baseline_path.display().to_string(), figures }
}

/// The ratio thresholds `t` sets, judged on the comparison: latencies at most their ratio,
/// throughput at least its own. A figure the baseline has as 0 has no ratio, and fails a
/// threshold set on it (nothing to compare is no evidence of no regression).
pub fn judge(t: &Thresholds, comparison: &Comparison) -> Vec<ThresholdCheck> {
    let limits = [
        ("p50 latency", t.p50_ratio, false),
        ("p95 latency", t.p95_ratio, false),
        ("p99 latency", t.p99_ratio, false),
        ("throughput", t.throughput_ratio, true),
    ];
    limits
        .into_iter()
        .filter_map(|(name, limit, at_least)| {
            let limit = limit?;
            let figure = comparison.figures.iter().find(|f| f.name == name);
            let ratio = figure.and_then(|f| f.ratio);
            let met = ratio.is_some_and(|r| if at_least { r >= limit } else { r <= limit });
            Some(ThresholdCheck {
                name: format!("{name} against the baseline"),
                limit: format!("{} {limit}x the baseline's", if at_least { ">=" } else { "<=" }),
                value: match (ratio, figure) {
                    (Some(r), Some(f)) => format!("{r:.2}x ({:.2} {} against {:.2})", f.now, f.unit, f.baseline),
                    _ => "no baseline figure to compare with".into(),
                },
                met,
            })
        })
        .collect()
}

/// Compares `report` with `baseline` and adds the ratio thresholds' checks (none when the load
/// was interrupted: its figures are partial).
pub fn apply(report: &mut LoadReport, baseline: &LoadReport, baseline_path: &Path, t: &Thresholds) {
    let comparison = compare(report, baseline, baseline_path);
    if !report.interrupted {
        report.thresholds.extend(judge(t, &comparison));
    }
    report.baseline = Some(comparison);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::model::Latency;

    fn report(throughput: f64, p99_us: u64) -> LoadReport {
        let mut r = crate::load::figures::tests::measurement(&[1_000]).report();
        r.throughput = throughput;
        r.requests = 100;
        r.latency = Latency { p50_us: p99_us / 2, p95_us: p99_us, p99_us, ..Latency::default() };
        r
    }

    #[test]
    fn each_figure_is_shown_with_its_ratio_and_none_where_the_baseline_has_zero() {
        let comparison = compare(&report(200.0, 20_000), &report(100.0, 10_000), Path::new("base.json"));
        let ratio = |name: &str| comparison.figures.iter().find(|f| f.name == name).and_then(|f| f.ratio);
        assert_eq!(ratio("throughput"), Some(2.0));
        assert_eq!(ratio("p99 latency"), Some(2.0));
        assert_eq!(ratio("unexpected answers"), None, "0% then: no ratio");
        assert!(comparison.figures.iter().all(|f| f.name != "client CPU per request"), "neither measured it");
    }

    #[test]
    fn a_ratio_threshold_holds_or_is_breached_and_says_by_how_much() {
        let t = Thresholds { p99_ratio: Some(1.2), throughput_ratio: Some(0.9), ..Thresholds::default() };
        let cases = [
            // (now, then): p99 met, throughput met
            ((100.0, 11_000), (100.0, 10_000), [true, true]),
            ((100.0, 13_000), (100.0, 10_000), [false, true]),
            ((80.0, 10_000), (100.0, 10_000), [true, false]),
            ((100.0, 10_000), (0.0, 0), [false, false]),
        ];
        for ((now_rate, now_p99), (then_rate, then_p99), met) in cases {
            let comparison = compare(&report(now_rate, now_p99), &report(then_rate, then_p99), Path::new("base.json"));
            let checks = judge(&t, &comparison);
            let got: Vec<bool> = checks.iter().map(|c| c.met).collect();
            assert_eq!(got, met, "{now_rate} {now_p99} against {then_rate} {then_p99}: {checks:?}");
        }
        assert!(judge(&Thresholds::default(), &compare(&report(1.0, 1), &report(1.0, 1), Path::new("b"))).is_empty());
    }

    #[test]
    fn a_file_that_is_no_load_report_is_named_with_line_and_column() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("base.json");
        std::fs::write(&path, "{\n  \"profile\": 3\n}").expect("written");
        let error = read(&path).expect_err("no load report").to_string();
        assert!(error.contains("base.json:2:"), "{error}");
        assert!(error.contains("hint"), "{error}");
    }
}
