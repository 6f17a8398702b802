//! SARIF 2.1.0 (OASIS), as GitHub code scanning and other review tools read it: one result per
//! failed MUST (`error`) and SHOULD (`warning`), its rule the scenario with the clause it cites,
//! its location the scenario's `file:line`. A harness error is no finding on the server: it is
//! a tool execution notification. Like every reporter it renders the run model and nothing else.

use serde_json::{json, Value};

use super::first_failure;
use crate::run::{RunResult, ScenarioResult, Verdict};

/// Where the format's schema lives (what `$schema` names; the test validates against the
/// OASIS file vendored in `schemas/vendor/`).
const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/dcr-harness/dcr-harness";

pub fn render(run: &RunResult) -> String {
    let findings: Vec<&ScenarioResult> = run.scenarios.iter().filter(|s| level(s.verdict).is_some()).collect();
    let rules: Vec<Value> = findings.iter().map(|s| rule(s)).collect();
    let results: Vec<Value> = findings.iter().enumerate().map(|(i, s)| result(s, i)).collect();
    let errors: Vec<Value> = run.scenarios.iter().filter(|s| s.verdict == Verdict::Error).map(notification).collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "dcr-harness",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "invocations": [{
                // A run that could not judge every scenario did not execute as asked.
                "executionSuccessful": errors.is_empty() && !run.interrupted,
                "toolExecutionNotifications": errors,
            }],
            "properties": { "target": run.target, "profile": run.profile, "startedAt": run.started_at },
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
}

/// A finding's SARIF level: a failed MUST is an error, a failed SHOULD a warning; nothing
/// else is a finding on the server.
fn level(verdict: Verdict) -> Option<&'static str> {
    match verdict {
        Verdict::Fail => Some("error"),
        Verdict::Warn => Some("warning"),
        _ => None,
    }
}

fn rule(s: &ScenarioResult) -> Value {
    json!({
        "id": s.id,
        "shortDescription": { "text": s.title },
        "fullDescription": { "text": s.source },
        "help": { "text": format!("{} ({}): {}", s.title, s.severity.name(), s.source) },
        "properties": { "area": s.area.name(), "severity": s.severity.name(), "tags": s.tags },
    })
}

fn result(s: &ScenarioResult, index: usize) -> Value {
    let check = first_failure(s).unwrap_or_else(|| "failed".to_string());
    json!({
        "ruleId": s.id,
        "ruleIndex": index,
        "level": level(s.verdict),
        "message": { "text": format!("{}: {check} ({})", s.title, s.source) },
        "locations": location(&s.location),
    })
}

fn notification(s: &ScenarioResult) -> Value {
    let why = s.error.as_ref().map(|e| e.message.clone()).unwrap_or_else(|| "the harness could not run it".into());
    json!({
        "level": "error",
        "message": { "text": format!("{}: not judged: {why}", s.id) },
        "locations": location(&s.location),
    })
}

/// `scenarios/digest.yaml:27` as a physical location; none where the scenario has no file.
fn location(location: &str) -> Vec<Value> {
    let (file, line) = match location.rsplit_once(':') {
        Some((file, line)) => (file, line.parse::<u64>().ok().filter(|l| *l >= 1)),
        None => (location, None),
    };
    if file.is_empty() {
        return Vec::new();
    }
    let mut physical = json!({ "artifactLocation": { "uri": uri_reference(file) } });
    if let Some(line) = line {
        physical["region"] = json!({ "startLine": line });
    }
    vec![json!({ "physicalLocation": physical })]
}

/// A file path as a relative URI reference: forward slashes, and what a URI cannot hold
/// percent-encoded.
fn uri_reference(path: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    const PATH: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'<').add(b'>').add(b'?');
    utf8_percent_encode(&path.replace('\\', "/"), PATH).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_becomes_a_file_and_a_line() {
        let cases = [
            (
                "scenarios/digest.yaml:27",
                json!([{"physicalLocation": {"artifactLocation": {"uri": "scenarios/digest.yaml"}, "region": {"startLine": 27}}}]),
            ),
            (
                "my scenarios/a#b.yaml:3",
                json!([{"physicalLocation": {"artifactLocation": {"uri": "my%20scenarios/a%23b.yaml"}, "region": {"startLine": 3}}}]),
            ),
            ("scenarios/x.yaml:0", json!([{"physicalLocation": {"artifactLocation": {"uri": "scenarios/x.yaml"}}}])),
            ("", json!([])),
        ];
        for (location, expected) in cases {
            assert_eq!(Value::from(super::location(location)), expected, "{location}");
        }
    }

    #[test]
    fn only_failed_musts_and_shoulds_are_findings() {
        let cases = [
            (Verdict::Fail, Some("error")),
            (Verdict::Warn, Some("warning")),
            (Verdict::Pass, None),
            (Verdict::KnownFailure, None),
            (Verdict::FixedKnownFailure, None),
            (Verdict::Skipped, None),
            (Verdict::Error, None),
        ];
        for (verdict, expected) in cases {
            assert_eq!(level(verdict), expected, "{verdict:?}");
        }
    }
}
