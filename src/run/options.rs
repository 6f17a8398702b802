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
pub struct Interrupt {
    own: Arc<AtomicBool>,
    /// The interrupt this one also answers to (see [`Interrupt::child`]).
    parent: Option<Box<Interrupt>>,
}

impl Interrupt {
    pub fn raise(&self) {
        self.own.store(true, Ordering::SeqCst);
    }

    pub fn raised(&self) -> bool {
        self.own.load(Ordering::SeqCst) || self.parent.as_ref().is_some_and(|p| p.raised())
    }

    /// An interrupt raised when this one is, and also on its own without raising this one: a
    /// part of a run that may end before the rest (a load beside the suite), and must still end
    /// with it.
    pub fn child(&self) -> Interrupt {
        Interrupt { own: Arc::default(), parent: Some(Box::new(self.clone())) }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_stops_with_its_parent_and_alone_without_stopping_it() {
        let parent = Interrupt::default();
        let (alone, with_parent) = (parent.child(), parent.child());
        alone.raise();
        assert!(alone.raised() && !parent.raised() && !with_parent.raised(), "raised alone");
        parent.raise();
        assert!(with_parent.raised() && with_parent.child().raised(), "raised with its parent");
    }
}
