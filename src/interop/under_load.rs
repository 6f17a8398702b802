//! The matrix's loads: each load profile a configuration names (`load:` in its `server.yaml`) run
//! against it as `load --with-suite` does (the profile's own load first, for the saturation;
//! the negative scenarios once idle; then again beside the load at the profile's `suite_at`),
//! turned into cells under the profile `NAME under load`: one for the load's own answers, one for
//! the negative scenarios as a whole, and one per scenario that did not give its idle verdict.
//! It runs loads and reads their reports; it must not judge answers (the load does).

use std::path::Path;

use super::{Cell, Configuration, RunEntry, UNREVIEWED};
use crate::load::{HoldAt, LoadOptions, LoadReport};
use crate::suite::Layout;

/// The cell for the load's own transactions.
pub const OWN_ANSWERS: &str = "the load's own transactions answered as expected";
/// The cell for the negative scenarios as a whole.
pub const IDLE_VERDICTS: &str = "negative scenarios give their idle verdicts under load";

/// One load profile against one running configuration, its target profile `profile`.
pub(super) async fn run_one(
    layout: &Layout,
    server: &str,
    configuration: &Configuration,
    profile: &Path,
    base_url: &str,
    load: &Path,
) -> (RunEntry, Vec<Cell>) {
    let mut entry = RunEntry { load: Some(stem(load)), ..RunEntry::of(configuration, "") };
    let loaded = load_with_suite(layout, profile, base_url, load).await;
    let (name, report) = match loaded {
        Ok(done) => done,
        Err(e) => {
            entry.profile = format!("{} under load", stem(profile));
            entry.error = Some(crate::diagnostic::chain(&e).replace(base_url, "{base}"));
            return (entry, Vec::new());
        }
    };
    entry.profile = format!("{name} under load");
    let cells = cells_of(&report, server, &configuration.name, &entry.profile);
    for cell in &cells {
        *entry.totals.entry(cell.classification.clone()).or_default() += 1;
    }
    entry.clients_left = report.clients_left.len();
    (entry, cells)
}

/// The saturation load, then the load with the suite beside it; the target profile's name and
/// the second load's report.
async fn load_with_suite(
    layout: &Layout,
    profile: &Path,
    base_url: &str,
    load: &Path,
) -> Result<(String, LoadReport), crate::error::Error> {
    let mut load_profile = crate::load::read_profile(&layout.root.join(load).display().to_string(), &layout.load)?;
    load_profile.target_profile = layout.root.join(profile).display().to_string();
    let options = LoadOptions { target: Some(base_url.to_string()), ..LoadOptions::default() };
    let (_, saturated) = crate::load::run(layout, &load_profile, &options, |_| {}, |_, _| {}).await?;
    let hold = HoldAt::of(load_profile.suite_at, Some(HoldAt::saturation_of(&saturated)));
    let options = LoadOptions { with_suite: Some(hold), ..options };
    let (_, report) = crate::load::run(layout, &load_profile, &options, |_| {}, |_, _| {}).await?;
    // The name the profile gives itself (several servers' files are all `profile.yaml`).
    let named = crate::scenario::profile::Profile::load(&load_profile.target_profile, &layout.profiles);
    Ok((named.map(|p| p.name).unwrap_or_else(|_| stem(profile)), report))
}

fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The cells of one load with the suite beside it.
pub(super) fn cells_of(report: &LoadReport, server: &str, configuration: &str, profile: &str) -> Vec<Cell> {
    let judged = |scenario: &str, outcome: (&str, &str), note: String| {
        Cell::of([server, configuration, profile], scenario, outcome, note)
    };
    let cell = |scenario: &str, passed: bool, note: String| {
        judged(scenario, if passed { ("pass", "pass") } else { ("fail", UNREVIEWED) }, note)
    };
    // What the harness did not do (a scenario it never ran under load, a load without the
    // suite) is its own error, never the server's failure.
    const HARNESS_ERROR: (&str, &str) = ("error", "harness error");
    let statuses: Vec<String> = report
        .transactions
        .iter()
        .map(|t| {
            let answers: Vec<String> = t.statuses.iter().map(|(s, n)| format!("{s}: {n}")).collect();
            format!("{} ({})", t.name, answers.join(", "))
        })
        .collect();
    // No clause sets a time to answer in, so a request unanswered within the harness's timeout
    // is counted, not judged; an answer is judged by the statuses its transaction expects.
    let unanswered = report.requests.saturating_sub(report.answered);
    let wrong = report.unexpected.saturating_sub(unanswered);
    let mut cells = vec![cell(
        OWN_ANSWERS,
        wrong == 0,
        format!(
            "{wrong} of {} answers unexpected, {unanswered} requests unanswered within the timeout (not judged): {}",
            report.answered,
            statuses.join("; ")
        ),
    )];
    let Some(under) = &report.under_load else {
        cells.push(judged(IDLE_VERDICTS, HARNESS_ERROR, "the load ran without the suite beside it".into()));
        return cells;
    };
    let at = match under.saturation {
        Some(s) => format!("{:.0} requests/s, {:.0}% of the {s:.0} measured first", under.rate, 100.0 * under.rate / s),
        None => format!("{:.0} requests/s", under.rate),
    };
    let not_reached = if under.not_reached.is_empty() {
        String::new()
    } else {
        format!("; not reached: {}", under.not_reached.join(", "))
    };
    let outcome = match (under.degraded.is_empty(), under.not_reached.is_empty()) {
        (false, _) => ("fail", UNREVIEWED),
        (true, false) => HARNESS_ERROR,
        (true, true) => ("pass", "pass"),
    };
    cells.push(judged(
        IDLE_VERDICTS,
        outcome,
        format!(
            "{} of {} degraded, {} runs beside the load at {at}{not_reached}",
            under.degraded.len(),
            under.scenarios,
            under.runs_under_load
        ),
    ));
    for degraded in &under.degraded {
        cells.push(cell(
            &degraded.id,
            false,
            format!("{} idle, {} under load: {}", degraded.idle, degraded.under_load, degraded.how.join("; ")),
        ));
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::conformance::{Degraded, UnderLoad};

    fn report(unexpected: u64, under_load: Option<UnderLoad>) -> LoadReport {
        let mut r = crate::load::figures::tests::measurement(&[1_000, 2_000]).report();
        r.unexpected = unexpected;
        r.answered = r.requests;
        r.under_load = under_load;
        r
    }

    fn verdicts(cells: &[Cell]) -> Vec<(String, String, String)> {
        cells.iter().map(|c| (c.scenario.clone(), c.verdict.clone(), c.classification.clone())).collect()
    }

    #[test]
    fn a_load_is_a_pass_only_where_its_answers_and_every_negative_scenario_held_and_no_answer_is_not_judged() {
        let held =
            UnderLoad { rate: 80.0, saturation: Some(100.0), scenarios: 3, runs_under_load: 9, ..UnderLoad::default() };
        let degraded = UnderLoad {
            degraded: vec![Degraded {
                id: "date-missing".into(),
                idle: "PASS".into(),
                under_load: "FAIL".into(),
                how: vec!["an answer of 500".into()],
            }],
            ..held.clone()
        };
        let unreached = UnderLoad { not_reached: vec!["digest-wrong".into()], ..held.clone() };
        let pass = |name: &str| (name.to_string(), "pass".to_string(), "pass".to_string());
        let fail = |name: &str| (name.to_string(), "fail".to_string(), UNREVIEWED.to_string());
        let error = |name: &str| (name.to_string(), "error".to_string(), "harness error".to_string());
        let cases = [
            (report(0, Some(held.clone())), vec![pass(OWN_ANSWERS), pass(IDLE_VERDICTS)]),
            (report(1, Some(held.clone())), vec![fail(OWN_ANSWERS), pass(IDLE_VERDICTS)]),
            (LoadReport { answered: 1, ..report(1, Some(held.clone())) }, vec![pass(OWN_ANSWERS), pass(IDLE_VERDICTS)]),
            (LoadReport { answered: 1, ..report(2, Some(held)) }, vec![fail(OWN_ANSWERS), pass(IDLE_VERDICTS)]),
            (report(0, Some(degraded)), vec![pass(OWN_ANSWERS), fail(IDLE_VERDICTS), fail("date-missing")]),
            (report(0, Some(unreached)), vec![pass(OWN_ANSWERS), error(IDLE_VERDICTS)]),
            (report(0, None), vec![pass(OWN_ANSWERS), error(IDLE_VERDICTS)]),
        ];
        for (report, expected) in cases {
            let cells = cells_of(&report, "s", "c", "p under load");
            assert_eq!(verdicts(&cells), expected, "{:?}", report.under_load);
        }
        let cells = cells_of(
            &report(0, Some(UnderLoad { rate: 80.0, saturation: Some(100.0), scenarios: 3, ..UnderLoad::default() })),
            "s",
            "c",
            "p",
        );
        assert!(cells[1].note.contains("80 requests/s, 80% of the 100 measured first"), "{}", cells[1].note);
    }
}
