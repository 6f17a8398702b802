//! `dcr-harness coverage`: per text the suite cites, which of its normative sentences some
//! scenario's `source` quotes, at which level, and the share covered; `--text ID` lists every
//! sentence of one text. A source that quotes what its text does not say is bad input.

use dcr_harness::clause::{shares, Force, Library};
use dcr_harness::error::Error;
use dcr_harness::run::Outcome;
use dcr_harness::scenario::Scenario;

use super::args::CoverageArgs;
use super::print;

pub fn coverage(args: &CoverageArgs) -> Result<Outcome, Error> {
    let layout = super::config::layout_of(args.place.root.as_deref())?;
    let library = Library::load(&layout.clauses).map_err(|e| Error::input("clauses", e))?;
    let scenarios = dcr_harness::scenario::load_dirs(&layout.scenarios).map_err(|e| Error::input("scenarios", e))?;
    let coverage = library.coverage(scenarios.iter().map(|s| (s.id.as_str(), s.severity.name(), s.source.as_str())));
    let text = match &args.text {
        Some(id) => {
            let Some(t) = library.texts.iter().position(|t| &t.id == id) else {
                let ids: Vec<&str> = library.texts.iter().map(|t| t.id.as_str()).collect();
                return Err(Error::input(format!("--text {id}"), format!("no such text; one of {}", ids.join(", "))));
            };
            sentences(&library, &coverage, t)
        }
        None => table(&library, &coverage, scenarios.len()),
    };
    print(&text)?;
    let written_at = |s: &Scenario| format!("{}:{}:1", s.file.display(), s.line);
    let misquotes = library.misquotes(scenarios.iter().map(|s| (written_at(s), s.id.as_str(), s.source.as_str())));
    match misquotes.is_empty() {
        true => Ok(Outcome::Success),
        false => Err(Error::input("scenario sources", misquotes.join("\n"))),
    }
}

/// Each text's share of MUST-level and SHOULD-level sentences quoted by some scenario.
fn table(library: &Library, coverage: &dcr_harness::clause::Coverage, scenarios: usize) -> String {
    let mut out = format!(
        "clause coverage: the sources of {scenarios} scenarios against {} texts\n\n\
         | text | id | sentences | MUST covered | SHOULD covered | MAY covered |\n\
         | --- | --- | --- | ---: | ---: | ---: |\n",
        library.texts.len()
    );
    for (i, text) in library.texts.iter().enumerate() {
        let figures = shares(library, coverage, i);
        let cell = |force: Force| match figures.get(&force) {
            Some((all, covered)) if text.complete => format!("{covered}/{all} ({:.0}%)", share(*covered, *all)),
            Some((_, covered)) => format!("{covered} quoted"),
            None => "-".into(),
        };
        let kind = if text.complete { "all normative" } else { "quoted only" };
        out.push_str(&format!(
            "| {} | {} | {kind} | {} | {} | {} |\n",
            text.title,
            text.id,
            cell(Force::Must),
            cell(Force::Should),
            cell(Force::May)
        ));
    }
    out.push_str("\n`quoted only`: the file holds the sentences the suite quotes, not the whole text: no share.\n");
    out
}

fn share(covered: usize, all: usize) -> f64 {
    if all == 0 {
        return 0.0;
    }
    covered as f64 * 100.0 / all as f64
}

/// Every sentence of one text: covered or not, and by which scenarios at which level.
fn sentences(library: &Library, coverage: &dcr_harness::clause::Coverage, t: usize) -> String {
    let text = &library.texts[t];
    let mut out = format!("{} ({})\n\n", text.title, text.id);
    for (i, s) in text.sentences.iter().enumerate() {
        let by = coverage.by.get(&(t, i));
        let mark = if by.is_some() { "x" } else { " " };
        out.push_str(&format!("[{mark}] {:<10} {:<15} {}\n", s.id, s.level.name(), s.text));
        for (scenario, level) in by.into_iter().flatten() {
            out.push_str(&format!("      checked by {scenario} ({level})\n"));
        }
    }
    out
}
