//! A run compared with an earlier one (`run --baseline FILE`): the earlier run's JSON report read
//! back (its scenarios' ids and verdicts, nothing else, so that a report of an older version
//! still serves), and what changed: scenarios newly failing, newly passing, otherwise changed,
//! new and removed. Every report shows it; the Markdown report leads with it, ready for a pull
//! request. It reads one file and judges nothing: the run's verdict stands as it is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::model::RunResult;
pub use super::model::{Change, Changes};

/// The most of a baseline file read: a whole run's report with its steps.
const MAX_BASELINE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a baseline could not be used.
pub type BaselineError = crate::diagnostic::JsonReportError;

/// What a baseline report holds that a comparison reads: `run.scenarios[].id` and `verdict`.
#[derive(Debug, Deserialize)]
struct Earlier {
    run: EarlierRun,
}

#[derive(Debug, Deserialize)]
struct EarlierRun {
    scenarios: Vec<EarlierScenario>,
}

#[derive(Debug, Deserialize)]
struct EarlierScenario {
    id: String,
    verdict: String,
}

/// An earlier run's verdicts, by scenario id, and the file they came from.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub path: PathBuf,
    verdicts: BTreeMap<String, String>,
}

/// Reads the JSON report of an earlier run.
pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
    let earlier: Earlier = crate::diagnostic::read_json_report(path, MAX_BASELINE_BYTES, "a run report", "run")?;
    let verdicts = earlier.run.scenarios.into_iter().map(|s| (s.id, s.verdict)).collect();
    Ok(Baseline { path: path.to_path_buf(), verdicts })
}

fn failing(verdict: &str) -> bool {
    matches!(verdict, "fail" | "warn")
}

fn passing(verdict: &str) -> bool {
    matches!(verdict, "pass" | "fixed-known-failure")
}

/// What changed from `baseline` to `run`.
pub fn compare(run: &RunResult, baseline: &Baseline) -> Changes {
    let mut changes = Changes { baseline: baseline.path.display().to_string(), ..Changes::default() };
    for s in &run.scenarios {
        let now = s.verdict.name().to_string();
        let change = |before: &str| Change { id: s.id.clone(), before: before.to_string(), now: now.clone() };
        match baseline.verdicts.get(&s.id) {
            None => changes.new.push(change("-")),
            Some(before) if *before == now => {}
            Some(before) if failing(&now) && !failing(before) => changes.newly_failing.push(change(before)),
            Some(before) if passing(&now) && (failing(before) || before == "known-failure") => {
                changes.newly_passing.push(change(before))
            }
            Some(before) => changes.changed.push(change(before)),
        }
    }
    let here: std::collections::BTreeSet<&str> = run.scenarios.iter().map(|s| s.id.as_str()).collect();
    for (id, before) in &baseline.verdicts {
        if !here.contains(id.as_str()) {
            changes.removed.push(Change { id: id.clone(), before: before.clone(), now: "-".into() });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::model::Verdict;

    fn baseline(pairs: &[(&str, &str)]) -> Baseline {
        Baseline {
            path: PathBuf::from("base.json"),
            verdicts: pairs.iter().map(|(id, v)| (id.to_string(), v.to_string())).collect(),
        }
    }

    fn run(pairs: &[(&str, Verdict)]) -> RunResult {
        let scenario =
            |id: &str, verdict| crate::run::model::ScenarioResult::bare(id, verdict, crate::scenario::Severity::Must);
        RunResult { scenarios: pairs.iter().map(|(id, v)| scenario(id, *v)).collect(), ..RunResult::default() }
    }

    #[test]
    fn each_change_goes_to_its_list() {
        let before = baseline(&[
            ("same", "pass"),
            ("broke", "pass"),
            ("mended", "fail"),
            ("known-mended", "known-failure"),
            ("sharper", "warn"),
            ("errs", "pass"),
            ("gone", "fail"),
        ]);
        let now = run(&[
            ("same", Verdict::Pass),
            ("broke", Verdict::Fail),
            ("mended", Verdict::Pass),
            ("known-mended", Verdict::FixedKnownFailure),
            ("sharper", Verdict::Fail),
            ("errs", Verdict::Error),
            ("fresh", Verdict::Warn),
        ]);
        let changes = compare(&now, &before);
        let ids = |list: &[Change]| list.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&changes.newly_failing), ["broke"]);
        assert_eq!(ids(&changes.newly_passing), ["mended", "known-mended"]);
        assert_eq!(ids(&changes.changed), ["sharper", "errs"]);
        assert_eq!(ids(&changes.new), ["fresh"]);
        assert_eq!(ids(&changes.removed), ["gone"]);
        assert_eq!(changes.newly_failing[0], Change { id: "broke".into(), before: "pass".into(), now: "fail".into() });
        assert!(compare(&run(&[("same", Verdict::Pass)]), &baseline(&[("same", "pass")])).is_empty());
    }
}
