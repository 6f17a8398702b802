//! What changed since a baseline run, as the run model holds it for reports (`run::baseline`
//! works it out).

use serde::Serialize;

/// What changed since the baseline, each list in scenario order.
#[derive(schemars::JsonSchema, Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// The baseline report's path, as given.
    pub baseline: String,
    /// Failing now (a MUST or a SHOULD), not before.
    pub newly_failing: Vec<Change>,
    /// Passing now, failing before.
    pub newly_passing: Vec<Change>,
    /// Any other change of verdict (a FAIL now a WARN, a PASS now an ERROR, ...).
    pub changed: Vec<Change>,
    /// In this run, not in the baseline.
    pub new: Vec<Change>,
    /// In the baseline, not in this run.
    pub removed: Vec<Change>,
}

/// A scenario's verdict before and now (`-` where it had none).
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub id: String,
    pub before: String,
    pub now: String,
}

impl Changes {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        [&self.newly_failing, &self.newly_passing, &self.changed, &self.new, &self.removed].iter().all(|l| l.is_empty())
    }

    /// The lists by heading, for reports.
    pub fn sections(&self) -> [(&'static str, &[Change]); 5] {
        [
            ("newly failing", &self.newly_failing),
            ("newly passing", &self.newly_passing),
            ("changed", &self.changed),
            ("new", &self.new),
            ("removed", &self.removed),
        ]
    }
}
