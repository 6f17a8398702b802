//! How a run is asked to go: its options (concurrency, fail-fast, deadline, known failures,
//! snapshots), the interrupt a signal raises, and the progress callback. Both the schedule and a
//! scenario read these; neither owns them, and nothing here runs anything.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::model::ScenarioResult;

/// A finished scenario, and where it stands.
pub type ProgressFn = dyn Fn(&ScenarioResult, Done) + Send + Sync;

/// Called as each scenario finishes.
#[derive(Clone)]
pub struct Progress(pub Arc<ProgressFn>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// A request to stop (Ctrl-C, SIGTERM): no scenario starts after it, and running ones end
/// after their current step, deleting what they registered.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    pub fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Raised to stop the run early.
    pub interrupt: Interrupt,
    pub progress: Option<Progress>,
    /// Scenarios at once (0 or 1: one at a time).
    pub jobs: usize,
    pub fail_fast: bool,
    /// Scenario id → why it is known to fail.
    pub known_failures: BTreeMap<String, String>,
    /// No scenario starts after this much time; those left are reported as skipped, and one
    /// still running stops before its next step (or wait) and cleans up.
    pub deadline: Option<Duration>,
    /// Compare (or record) the answers of steps marked `snapshot: true`.
    pub snapshots: Option<crate::run::snapshot::SnapshotOptions>,
    /// Where every scenario's spans are kept, for `run --otlp` (requests carry a `traceparent`
    /// all the same).
    pub tracer: Option<std::sync::Arc<crate::run::trace::Tracer>>,
}

/// Where a finished scenario stands: its place in the plan, and how many of how many are done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    pub index: usize,
    pub done: usize,
    pub total: usize,
}
