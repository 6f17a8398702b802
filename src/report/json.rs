//! The JSON report: the whole run model with a schema version. Its schema is generated from the
//! model (`schemas/report.schema.json`, checked by a test).

use serde::Serialize;

use crate::run::RunResult;

/// Bumped on any change a consumer would notice.
pub const SCHEMA_VERSION: u32 = 3;

#[derive(Serialize, schemars::JsonSchema)]
pub struct JsonReport<'a> {
    pub schema_version: u32,
    pub tool: &'static str,
    pub tool_version: &'static str,
    /// The run's verdict in a word: PASS, FAIL, ERROR or INTERRUPTED (as the exit code says).
    pub verdict: &'static str,
    /// Scenarios by verdict.
    pub counts: Counts,
    pub run: &'a RunResult,
}

/// Scenarios by verdict, for a dashboard that reads no further.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Counts {
    pub scenarios: usize,
    pub passed: usize,
    pub failed: usize,
    pub warnings: usize,
    pub known_failures: usize,
    pub fixed_known_failures: usize,
    pub skipped: usize,
    pub errors: usize,
    pub information: usize,
}

impl Counts {
    fn of(run: &RunResult) -> Counts {
        let [passed, failed, warnings, known_failures, fixed_known_failures, skipped, errors, information] =
            super::counts(run).map(|(_, n)| n);
        Counts {
            scenarios: run.scenarios.len(),
            passed,
            failed,
            warnings,
            known_failures,
            fixed_known_failures,
            skipped,
            errors,
            information,
        }
    }
}

pub fn render(run: &RunResult) -> String {
    let report = JsonReport {
        schema_version: SCHEMA_VERSION,
        tool: "dcr-harness",
        tool_version: env!("CARGO_PKG_VERSION"),
        verdict: run.headline(),
        counts: Counts::of(run),
        run,
    };
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}

/// The JSON Schema of the report.
pub fn schema() -> String {
    serde_json::to_string_pretty(&schemars::schema_for!(JsonReport<'static>)).unwrap_or_default() + "\n"
}
