//! `pki init` and `pki show`.

use std::path::Path;

use dcr_harness::error::Error;
use dcr_harness::pki::{self, Pki, PkiOptions};
use dcr_harness::run::Outcome;

use super::args::PkiInitArgs;
use super::config::ensure_pki;
use super::print;

pub fn init(args: &PkiInitArgs) -> Result<Outcome, Error> {
    let dir = &args.dir.dir()?;
    let options = PkiOptions {
        key_type: args.key_type.into(),
        organization_identifier: args.org_id.clone(),
        organization_name: args.org_name.clone(),
        roles: args.roles.clone(),
        nca_name: args.nca_name.clone(),
        nca_id: args.nca_id.clone(),
    };
    let pki = if args.force { Pki::rebuild(dir, &options)? } else { ensure_pki(dir, &options)? };
    eprintln!("test PKI ready in {} ({} identities)", dir.display(), pki.identities().count());
    Ok(Outcome::Success)
}

pub fn show(dir: &Path) -> Result<Outcome, Error> {
    let pki = ensure_pki(dir, &PkiOptions::default())?;
    print(&pki::describe(&pki))
}
