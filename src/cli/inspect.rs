//! `explain` (why a captured request is refused) and `probe` (what a target's verifier accepts).

use std::path::Path;

use dcr_harness::error::Error;
use dcr_harness::run::Outcome;

use super::args::{ExplainArgs, ProbeArgs};
use super::config::{http_date, layout_of, runtime};
use super::print;

pub fn probe(args: &ProbeArgs) -> Result<Outcome, Error> {
    let layout = args.place.layout()?;
    let report = runtime()?.block_on(dcr_harness::suite::probe(&layout, &args.profile, args.target.clone()))?;
    let markdown = report.markdown();
    if let Some(path) = &args.output {
        std::fs::write(path, &markdown).map_err(|source| Error::Output { path: path.clone(), source })?;
    }
    print(&markdown)
}

pub fn explain(args: &ExplainArgs) -> Result<Outcome, Error> {
    let layout = layout_of(args.place.root.as_deref())?;
    let profile =
        dcr_harness::scenario::Profile::load(args.profile.as_deref().unwrap_or("reference"), &layout.profiles)?;
    let at = http_date("--at", args.at.as_deref())?;
    let read = |path: &Path| -> Result<Vec<u8>, Error> {
        let limit = dcr_harness::files::MAX_INPUT_BYTES;
        let bytes = if path == Path::new("-") {
            let mut bytes = Vec::new();
            let stdin = std::io::Read::take(std::io::stdin().lock(), limit + 1);
            std::io::Read::read_to_end(&mut { stdin }, &mut bytes).map_err(|e| Error::input("standard input", e))?;
            if bytes.len() as u64 > limit {
                return Err(Error::input("standard input", format!("over the {limit}-byte limit for a capture")));
            }
            bytes
        } else {
            dcr_harness::files::read(path, limit).map_err(|e| Error::input(path.display().to_string(), e))?
        };
        Ok(bytes)
    };
    let body = args.body.as_deref().map(read).transpose()?;
    let capture = args.capture.display().to_string();
    let msg = dcr_harness::explain::read_capture(&read(&args.capture)?, args.entry, body)
        .map_err(|e| Error::input(&capture, e))?;
    let window = std::time::Duration::from_secs(profile.signature.date_window_s);
    let explained = dcr_harness::explain::explain(&msg, &profile.signature.dialect, window, at);
    print(&format!("profile: {}\n{}", profile.name, explained.render(&msg)))?;
    Ok(if explained.broken.is_some() { Outcome::MustFailed } else { Outcome::Success })
}
