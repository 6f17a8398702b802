//! The JSON report: the whole run model with a schema version. Its schema is generated from the
//! model (`schemas/report.schema.json`, checked by a test).

use serde::Serialize;

use crate::run::RunResult;

/// Bumped on any change a consumer would notice.
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Serialize, schemars::JsonSchema)]
pub struct JsonReport<'a> {
    pub schema_version: u32,
    pub tool: &'static str,
    pub tool_version: &'static str,
    pub run: &'a RunResult,
}

pub fn render(run: &RunResult) -> String {
    let report = JsonReport {
        schema_version: SCHEMA_VERSION,
        tool: "dcr-harness",
        tool_version: env!("CARGO_PKG_VERSION"),
        run,
    };
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}

/// The JSON Schema of the report.
pub fn schema() -> String {
    serde_json::to_string_pretty(&schemars::schema_for!(JsonReport<'static>)).unwrap_or_default() + "\n"
}
