//! JUnit XML (quick-junit), as Jenkins and GitLab read it: one testsuite per area, one testcase
//! per scenario. A MUST failure is a `<failure>`. A SHOULD failure, a known failure and a skipped
//! scenario are `<skipped>` with a message: CI tools count skipped tests as not failing, which
//! is what a warning and an accepted known failure mean, while the message keeps them visible.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::{by_area, first_failure, terminal};
use crate::run::{RunResult, Verdict};

pub fn render(run: &RunResult) -> String {
    let mut report = Report::new("dcr-harness");
    report.set_time(Duration::from_millis(run.duration_ms));
    let started = chrono::DateTime::parse_from_rfc3339(&run.started_at).ok();
    if let Some(at) = started {
        report.set_timestamp(at);
    }
    for (area, scenarios) in by_area(run) {
        let mut suite = TestSuite::new(area);
        // Scenarios run concurrently: a suite's time is the sum of its cases', and every suite
        // started with the run.
        suite.set_time(scenarios.iter().map(|s| Duration::from_millis(s.duration_ms)).sum());
        if let Some(at) = started {
            suite.set_timestamp(at);
        }
        suite.add_property(Property::new("target", run.target.as_str()));
        suite.add_property(Property::new("profile", run.profile.as_str()));
        for s in scenarios {
            let detail = terminal::failure_detail(s);
            let message = first_failure(s).unwrap_or_default();
            let status = match s.verdict {
                Verdict::Pass => TestCaseStatus::success(),
                Verdict::Info => {
                    let mut status = TestCaseStatus::success();
                    status.set_message(format!("information, not a requirement: {message}"));
                    status
                }
                Verdict::FixedKnownFailure => {
                    let mut status = TestCaseStatus::success();
                    status.set_message("passes now: remove it from the known failures");
                    status
                }
                Verdict::Fail => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(message).set_type("MUST").set_description(detail);
                    status
                }
                Verdict::Error => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                    let kind = s.error.as_ref().map(|e| format!("{:?}", e.kind).to_lowercase()).unwrap_or_default();
                    status.set_message(message).set_type(format!("harness error ({kind})")).set_description(detail);
                    status
                }
                Verdict::Warn | Verdict::KnownFailure | Verdict::Skipped => {
                    let why = match s.verdict {
                        Verdict::Warn => format!("SHOULD not met: {message}"),
                        Verdict::KnownFailure => {
                            format!("known failure ({}): {message}", s.known_failure_reason.clone().unwrap_or_default())
                        }
                        _ => "not run".to_string(),
                    };
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(why).set_description(detail);
                    status
                }
            };
            let mut case = TestCase::new(s.id.as_str(), status);
            case.set_classname(format!("{}.{}", run.profile, s.area));
            case.set_time(Duration::from_millis(s.duration_ms));
            // The xUnit plugin's JUnit schema allows no properties on a testcase: say it in
            // system-out, which every reader shows.
            case.set_system_out(format!("{}\nseverity: {}\nsource: {}", s.title, s.severity.name(), s.source));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    if let Some(notice) = super::clients_left_notice(run) {
        // Not a scenario's verdict but the run's own: an error a CI gate cannot miss.
        let mut suite = TestSuite::new("cleanup");
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(notice).set_type("clients left");
        let mut case = TestCase::new("every-registered-client-deleted", status);
        case.set_classname(format!("{}.cleanup", run.profile));
        suite.add_test_case(case);
        report.add_test_suite(suite);
    }
    let notes: Vec<String> =
        super::notices(run).into_iter().filter(|(level, _)| *level != "FAIL").map(|(_, n)| n).collect();
    if !notes.is_empty() {
        // What the run noticed that is no scenario's verdict (clients stranded, origins
        // elsewhere): a passing case that says it, where every reader shows it.
        let mut suite = TestSuite::new("notices");
        let mut case = TestCase::new("run-notices", TestCaseStatus::success());
        case.set_classname(format!("{}.notices", run.profile));
        case.set_system_out(notes.join("\n"));
        suite.add_test_case(case);
        report.add_test_suite(suite);
    }
    zoneless_timestamps(&without_suites_skipped(&report.to_string().unwrap_or_default()))
}

/// The JUnit schema's timestamps carry no fraction and no zone (`2026-12-02T06:10:00`); ours are
/// UTC, which quick-junit writes as `.000+00:00`.
fn zoneless_timestamps(xml: &str) -> String {
    xml.replace(".000+00:00\"", "\"")
}

/// quick-junit counts skipped tests on `<testsuites>` too, which the xUnit plugin's JUnit schema
/// (the strictest of the readers) does not allow; the per-suite counts stay.
fn without_suites_skipped(xml: &str) -> String {
    let Some(start) = xml.find("<testsuites ") else { return xml.to_string() };
    let end = xml[start..].find('>').map(|e| start + e).unwrap_or(xml.len());
    let tag = &xml[start..end];
    let Some(attr) = tag.find(" skipped=\"") else { return xml.to_string() };
    let close = tag[attr + 10..].find('"').map(|c| attr + 10 + c + 1).unwrap_or(tag.len());
    format!("{}{}{}", &xml[..start + attr], &tag[close..], &xml[end..])
}
