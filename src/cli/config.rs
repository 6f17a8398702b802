//! From what clap read to what the library takes: the project's layout, the PKI made or
//! brought up to date, filters, flaw and variant names, dates, the signer a profile implies.
//! Every value from the command line is checked here and a bad one is bad input naming its
//! flag; nothing here runs a command.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use dcr_harness::error::Error;
use dcr_harness::pki::{self, Pki, PkiOptions};
use dcr_harness::server::{Flaw, Variant};
use dcr_harness::signature::Dialect;

use super::args::{PkiDirArg, Place, SelectArgs, SignArgs};

impl Place {
    /// The project's directories, with `--pki` in place of its PKI.
    pub fn layout(&self) -> Result<dcr_harness::suite::Layout, Error> {
        let mut layout = layout_of(self.root.as_deref())?;
        if let Some(pki) = &self.pki {
            layout.pki = pki.clone();
        }
        Ok(layout)
    }
}

impl PkiDirArg {
    pub fn dir(&self) -> Result<PathBuf, Error> {
        match &self.dir {
            Some(dir) => Ok(dir.clone()),
            None => Ok(layout_of(self.root.as_deref())?.pki),
        }
    }
}

impl SelectArgs {
    /// The project's directories, with the scenario files `--scenario` names beside them.
    pub fn layout(&self) -> Result<dcr_harness::suite::Layout, Error> {
        let mut layout = self.place.layout()?;
        layout.scenario_files = self.scenario.iter().filter(|s| names_a_file(s)).map(PathBuf::from).collect();
        Ok(layout)
    }
}

/// Whether a `--scenario` value is a scenario file (`.yaml` or `.yml`) rather than an id.
fn names_a_file(value: &str) -> bool {
    let path = Path::new(value);
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

/// The scenario ids `--scenario` picks: each id, and every scenario of each file it names.
fn scenario_ids(select: &SelectArgs) -> Result<Vec<String>, Error> {
    let mut ids = Vec::new();
    for value in &select.scenario {
        match names_a_file(value) {
            true => {
                let scenarios = dcr_harness::scenario::load_files(&[PathBuf::from(value)])
                    .map_err(|e| Error::input(format!("--scenario {value}"), e))?;
                ids.extend(scenarios.into_iter().map(|s| s.id));
            }
            false => ids.push(value.clone()),
        }
    }
    Ok(ids)
}

pub fn filter_of(select: &SelectArgs) -> Result<dcr_harness::scenario::Filter, Error> {
    let areas = select
        .area
        .iter()
        .map(|a| a.parse::<dcr_harness::scenario::Area>().map_err(|e| Error::input(format!("--area {a}"), e)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(dcr_harness::scenario::Filter {
        tags: select.tag.clone(),
        areas,
        ids: scenario_ids(select)?,
        skip: select.skip.clone(),
    })
}

/// The directories of the project a command works in (see `project`).
pub fn layout_of(root: Option<&Path>) -> Result<dcr_harness::suite::Layout, Error> {
    let cwd = std::env::current_dir().map_err(|e| Error::input("the working directory", e))?;
    let project = dcr_harness::project::Project::find_here(root, &cwd).map_err(|e| Error::input("project", e))?;
    Ok(project.layout())
}

/// The PKI in `dir`, made or brought up to date; a generated file found broken and made again
/// is said on stderr, never replaced silently.
pub fn ensure_pki(dir: &Path, options: &PkiOptions) -> Result<Pki, Error> {
    let pki = Pki::ensure(dir, options)?;
    for note in &pki.repaired {
        eprintln!("dcr-harness: note: in the test PKI {}, {note}: made again", dir.display());
    }
    Ok(pki)
}

pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(Error::Runtime)
}

pub fn parse_flaws(names: &[String]) -> Result<std::collections::BTreeSet<Flaw>, Error> {
    parse_named(names, "flaw")
}

/// Parses variant names, all errors at once.
pub fn parse_variants(names: &[String]) -> Result<std::collections::BTreeSet<Variant>, Error> {
    parse_named(names, "variant")
}

fn parse_named<T: std::str::FromStr + Ord>(
    names: &[String],
    what: &str,
) -> Result<std::collections::BTreeSet<T>, Error> {
    let mut known = std::collections::BTreeSet::new();
    let mut unknown = Vec::new();
    for name in names {
        match name.parse::<T>() {
            Ok(entry) => {
                known.insert(entry);
            }
            Err(_) => unknown.push(name.as_str()),
        }
    }
    if unknown.is_empty() {
        Ok(known)
    } else {
        Err(Error::input(
            format!("--{what} {}", unknown.join(", ")),
            format!("unknown {what}; `dcr-harness serve --list-{what}s` prints them"),
        ))
    }
}

/// An RFC 7231 date given to `flag`, or now.
pub fn http_date(flag: &str, text: Option<&str>) -> Result<SystemTime, Error> {
    match text {
        Some(text) => httpdate::parse_http_date(text).map_err(|_| {
            Error::input(flag, format!("`{text}` is not an RFC 7231 date like `Tue, 24 Nov 2026 19:11:14 GMT`"))
        }),
        None => Ok(SystemTime::now()),
    }
}

pub struct Signer {
    pub profile: Option<dcr_harness::scenario::Profile>,
    pub dialect: Dialect,
    pub sign: String,
    pub tls: String,
    /// The TPP whose DCR-service credentials go into `--curl`.
    pub tpp: Option<String>,
}

pub fn signer(args: &SignArgs) -> Result<(Signer, Pki), Error> {
    let layout = layout_of(args.place.root.as_deref())?;
    let profile =
        args.profile.as_deref().map(|name| dcr_harness::scenario::Profile::load(name, &layout.profiles)).transpose()?;
    let pki_dir = args
        .place
        .pki
        .clone()
        .or_else(|| profile.as_ref().and_then(|p| p.pki.clone()))
        .unwrap_or_else(|| layout.pki.clone());
    let pki = ensure_pki(&pki_dir, &PkiOptions::default())?;
    let named = |who: &dcr_harness::scenario::Who, fallback: &str| who.name().unwrap_or(fallback).to_string();
    let (dialect, sign, tls) = match &profile {
        Some(p) => (
            p.signature.dialect.clone(),
            named(&p.identities.sign, pki::names::QSEAL),
            named(&p.identities.tls, pki::names::QWAC),
        ),
        None => (Dialect::default(), pki::names::QSEAL.to_string(), pki::names::QWAC.to_string()),
    };
    let sign = args.identity.clone().unwrap_or(sign);
    let tls = args.tls_identity.clone().unwrap_or(tls);
    let tpp = match &profile {
        Some(p) => Some(p.identities.tpp.clone()),
        None => pki.identity(&tls)?.tpp.clone(),
    };
    Ok((Signer { profile, dialect, sign, tls, tpp }, pki))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_flaws_are_named_all_at_once() {
        let names = ["skip-client-cert", "nope", "nada"].map(String::from);
        let err = parse_flaws(&names).expect_err("unknown").to_string();
        assert!(err.contains("nope, nada") && err.contains("--list-flaws"), "{err}");
        assert_eq!(parse_flaws(&names[..1]).expect("known").len(), 1);
    }

    #[test]
    fn an_unknown_area_is_bad_input_naming_the_areas() {
        let select = SelectArgs {
            profile: "reference".into(),
            tag: vec![],
            area: vec!["digest".into(), "nowhere".into()],
            scenario: vec![],
            skip: vec![],
            place: Place::default(),
        };
        let err = filter_of(&select).expect_err("unknown area");
        assert_eq!(err.kind(), dcr_harness::error::ErrorKind::BadInput);
        assert!(err.to_string().contains("--area nowhere") && err.to_string().contains("request-target"), "{err}");
    }
}
