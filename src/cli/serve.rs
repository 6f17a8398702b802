//! `serve`: the reference DCR server (and the test QTSP's status services) until Ctrl-C or
//! SIGTERM; `--list-flaws` and `--list-variants`.

use dcr_harness::error::Error;
use dcr_harness::pki::PkiOptions;
use dcr_harness::run::Outcome;
use dcr_harness::server::{Flaw, ServerConfig, Variant};
use dcr_harness::signature::Dialect;

use super::args::ServeArgs;
use super::config::{ensure_pki, parse_flaws, parse_variants, runtime};
use super::{print, signals};

/// A catalog's entries, a line each: name and description.
fn listing<T: Copy>(all: &[T], name: fn(T) -> &'static str, description: fn(T) -> &'static str) -> String {
    all.iter().map(|e| format!("{:<30} {}\n", name(*e), description(*e))).collect()
}

pub fn serve(args: &ServeArgs) -> Result<Outcome, Error> {
    if args.list_flaws {
        return print(&listing(Flaw::ALL, Flaw::name, Flaw::description));
    }
    if args.list_variants {
        return print(&listing(Variant::ALL, Variant::name, Variant::description));
    }
    let layout = args.place.layout()?;
    let pki = std::sync::Arc::new(ensure_pki(&layout.pki, &PkiOptions::default())?);
    let dialect = match &args.dialect_of {
        Some(name) => dcr_harness::scenario::Profile::load(name, &layout.profiles)?.signature.dialect,
        None => Dialect::default(),
    };
    let mut config = ServerConfig {
        listen: args.listen,
        dialect,
        profile: args.mode.into(),
        flaws: parse_flaws(&args.flaws)?,
        variants: parse_variants(&args.variants)?,
        cert_check: args.cert_check.into(),
        dcr_auth: args.dcr_auth.into(),
        max_skew: std::time::Duration::from_secs(args.max_skew),
        initial_access_token: args.initial_access_token.clone(),
        plain_http: args.http,
        ..ServerConfig::default()
    };
    let played = match &args.profile {
        Some(name) => {
            let profile = dcr_harness::scenario::Profile::load(name, &layout.profiles)?;
            config.profile = profile.embedded.profile;
            config.cert_check = profile.embedded.cert_check;
            config.max_skew = std::time::Duration::from_secs(profile.signature.date_window_s);
            config.dialect = profile.signature.dialect.clone();
            Some(profile.name)
        }
        None => None,
    };
    let deviations: Vec<String> = config
        .flaws
        .iter()
        .map(|f| format!("flaw {f}"))
        .chain(config.variants.iter().map(|v| format!("variant {v}")))
        .collect();
    runtime()?.block_on(async {
        // The test QTSP's OCSP responder and CRL, which the server asks about certificates.
        let qtsp = match args.no_revocation {
            true => None,
            false => Some(dcr_harness::qtsp::start(pki.clone(), Default::default()).await.map_err(Error::Qtsp)?),
        };
        config.revocation = qtsp.as_ref().map(|q| q.revocation_config(false));
        let server = dcr_harness::server::start(&pki, config).await.map_err(Error::Serve)?;
        print(&format!("{}\n", server.url()))?;
        let mode = match &played {
            Some(profile) => format!("as profile {profile} expects"),
            None => clap::ValueEnum::to_possible_value(&args.mode)
                .map(|v| v.get_name().to_string() + " mode")
                .unwrap_or_default(),
        };
        eprintln!(
            "reference DCR server ({}{}) on {}; Ctrl-C stops it",
            mode,
            if deviations.is_empty() { String::new() } else { format!(", {}", deviations.join(", ")) },
            server.url()
        );
        signals::stop_signal().await;
        server.stop().await;
        if let Some(qtsp) = qtsp {
            qtsp.stop().await;
        }
        Ok(Outcome::Success)
    })
}
