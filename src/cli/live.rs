//! The live terminal reporter: what a person watches while a run or a load goes on. On a
//! terminal, a progress bar (a run) or one line kept up to date (a load) on stderr; in a CI log,
//! each scenario's block as soon as it and those before it in the plan are done (so two logs
//! diff), or a load's line every ten seconds. The finished report is `report`'s, not this file's.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use dcr_harness::load::engine::Progress as LoadProgress;
use dcr_harness::report::terminal::{self, InOrder, Style};
use dcr_harness::run::{Done, Progress, ScenarioResult, Verdict};

/// Where the run's terminal text goes: stdout, or stderr when a report holds stdout.
#[derive(Debug, Clone, Copy)]
pub struct Say {
    pub to_stderr: bool,
}

impl Say {
    /// Prints `text`; a closed stdout is the reader's choice (see `print`).
    pub fn say(self, text: &str) -> Result<(), dcr_harness::error::Error> {
        match self.to_stderr {
            true => {
                eprint!("{text}");
                Ok(())
            }
            false => super::print(text).map(drop),
        }
    }
}

/// How a run is shown while it goes on.
pub struct RunView {
    bar: Option<indicatif::ProgressBar>,
    /// Each scenario's block printed as it is due (a CI log), the summary after.
    pub streamed: bool,
}

impl RunView {
    /// A bar when both stdout and stderr are terminals and stdout holds no report; streamed
    /// blocks when stdout is not a terminal; else nothing until the end.
    pub fn new(say: Say) -> Self {
        let bar = (std::io::stderr().is_terminal() && std::io::stdout().is_terminal() && !say.to_stderr).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} scenarios, {elapsed} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        let streamed = bar.is_none() && !std::io::stdout().is_terminal();
        RunView { bar, streamed }
    }

    /// What the run calls as each scenario ends.
    pub fn progress(&self, style: Style, say: Say) -> Progress {
        let (passed, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let in_order = Mutex::new(InOrder::default());
        let (bar, streamed) = (self.bar.clone(), self.streamed);
        Progress(Arc::new(move |scenario: &ScenarioResult, at: Done| match &bar {
            Some(bar) => {
                let failing = matches!(scenario.verdict, Verdict::Fail | Verdict::Error);
                let tally = if failing { &failed } else { &passed };
                tally.fetch_add(1, Ordering::Relaxed);
                bar.set_length(at.total as u64);
                bar.set_position(at.done as u64);
                let (p, f) = (passed.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
                bar.set_message(format!("({p} passed, {f} failed) {}", scenario.id));
            }
            None if streamed => {
                let block = terminal::scenario_block(scenario, &style);
                let due = in_order.lock().unwrap_or_else(PoisonError::into_inner).push(at.index, block);
                for block in due {
                    let _ = say.say(&block);
                }
            }
            None => {}
        }))
    }

    /// Clears the bar before the report is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// How a load is shown while it goes on.
#[derive(Debug, Clone, Copy)]
pub struct LoadView {
    tty: bool,
}

impl LoadView {
    pub fn new() -> Self {
        LoadView { tty: std::io::stderr().is_terminal() }
    }

    /// A second of the load: one line kept up to date on a terminal, a line every 10 s elsewhere.
    pub fn tick(self, p: &LoadProgress) {
        let statuses: Vec<String> = dcr_harness::load::engine::STATUS_CLASSES
            .iter()
            .zip(p.statuses)
            .filter(|(_, n)| *n > 0)
            .map(|(class, n)| format!("{class} {n}"))
            .collect();
        let line = format!(
            "{:>4}/{} s  {} requests  {}/s  p50 {:.1} ms  p99 {:.1} ms  {} unexpected  [{}]",
            p.elapsed_s,
            p.run_time_s,
            p.requests,
            p.last_second,
            p.last_p50_us as f64 / 1000.0,
            p.last_p99_us as f64 / 1000.0,
            p.unexpected,
            statuses.join(", ")
        );
        if self.tty {
            redraw(&line);
        } else if p.elapsed_s.is_multiple_of(10) {
            eprintln!("{line}");
        }
    }

    /// The cleanup after the load, `done` of `total` clients deleted.
    pub fn cleanup(self, done: usize, total: usize) {
        if self.tty {
            redraw(&format!("deleting the clients registered: {done}/{total}"));
        } else if done == total || done.is_multiple_of(1000) {
            eprintln!("deleting the clients registered: {done}/{total}");
        }
    }

    /// Ends the line kept up to date.
    pub fn finish(self) {
        if self.tty {
            eprintln!();
        }
    }
}

/// Replaces the terminal's current line on stderr with `line`.
fn redraw(line: &str) {
    let _ = console::Term::stderr().clear_line();
    eprint!("{line}");
}
