//! `sign`: a request signed as a profile (or the test PKI) would sign it, printed as its signing
//! string and headers, raw, as JSON or as a curl command.

use dcr_harness::curl;
use dcr_harness::error::Error;
use dcr_harness::pki;
use dcr_harness::run::Outcome;
use dcr_harness::signature::{self, Message, Mutation, MutationContext};

use super::args::SignArgs;
use super::config::{http_date, signer};
use super::print;

pub fn sign(args: &SignArgs) -> Result<Outcome, Error> {
    let (signer, pki) = signer(args)?;
    let identity = pki.identity(&signer.sign)?;
    let mutation = args.mutation.as_deref().map(str::parse::<Mutation>).transpose()?;
    if let Some(m) = mutation.filter(|m| !m.bends_http_signature()) {
        let why = format!("`{m}` bends a JWT in the body; `sign` signs HTTP requests (a scenario step applies it)");
        return Err(Error::input("--mutation", why));
    }
    let url = reqwest::Url::parse(&args.url).map_err(|e| Error::input(format!("--url {}", args.url), e))?;
    let target = signature::request_target(&url);
    let body = match &args.body {
        Some(path) => dcr_harness::files::read(path, dcr_harness::files::MAX_INPUT_BYTES)
            .map_err(|e| Error::input(path.display().to_string(), e))?,
        None => Vec::new(),
    };
    let date = http_date("--date", args.date.as_deref())?;
    let mut msg = Message::new(&args.method, &target, body);
    msg.set_origin(&url.origin().ascii_serialization());
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| Error::input(format!("--header {header}"), "expected `Name: value`"))?;
        msg.add_header(name.trim(), value.trim());
    }
    let other = pki.identity(pki::names::QSEAL_B).ok();
    let ctx = MutationContext { other_identity: other, memo: None };
    let signed = signature::sign_mutated(identity, &signer.dialect, &mut msg, date, mutation, &ctx)?;
    if args.raw {
        // Exactly the bytes sent: a newline after the body would be part of it.
        return print(&String::from_utf8_lossy(&msg.to_raw()));
    }
    if args.json {
        let headers: serde_json::Map<String, serde_json::Value> =
            msg.headers.iter().map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone()))).collect();
        let out = serde_json::json!({ "signing_string": signed.signing_string, "headers": headers });
        return print(&format!("{out:#}\n"));
    }
    if args.curl {
        let request = curl::Request {
            profile: signer.profile.as_ref(),
            tls: &signer.tls,
            tpp: signer.tpp.as_deref(),
            credentials: args.credentials.map(Into::into),
            show_secrets: args.show_secrets,
            body_file: args.body.as_deref(),
            url: &args.url,
        };
        let curl = curl::command(&pki, &request, &msg)?;
        for note in &curl.notes {
            eprintln!("dcr-harness: {note}");
        }
        return print(&format!("{}\n", curl.command));
    }
    let mut out = format!("{}\n\n", signed.signing_string);
    for (name, value) in &msg.headers {
        out.push_str(&format!("{name}: {value}\n"));
    }
    print(&out)
}
