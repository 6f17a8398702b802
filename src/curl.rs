//! A signed request as a ready curl command (`dcr-harness sign --curl`): the mTLS flags of an
//! identity, the DCR-service credentials as the profile sends them (as environment-variable
//! references unless shown), the signed body byte for byte from a file. It renders; it does not
//! sign, send or print.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;
use crate::pki::Pki;
use crate::protocol::{CLIENT_ID_HEADER, CLIENT_SECRET_HEADER};
use crate::scenario::profile::CredentialKind;
use crate::scenario::Profile;
use crate::signature::{self, Message};

/// How the DCR-service credentials go into the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Credentials {
    /// The profile's client-id and client-secret headers.
    ApiKey,
    /// `--user id:secret`.
    Basic,
    /// None.
    None,
}

/// What the command is made of besides the signed message.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The target profile, whose credential headers and kinds the command follows.
    pub profile: Option<&'a Profile>,
    /// The identity whose certificate and key go into `--cert` and `--key`.
    pub tls: &'a str,
    /// The TPP whose DCR-service credentials the command carries.
    pub tpp: Option<&'a str>,
    /// How they go (default: as the profile says, else API-key headers).
    pub credentials: Option<Credentials>,
    /// The credentials themselves instead of `${VAR}` references.
    pub show_secrets: bool,
    /// The file the body was read from, used as is when it holds the signed bytes.
    pub body_file: Option<&'a Path>,
    /// The URL as the user wrote it.
    pub url: &'a str,
}

/// The command, and what the user should know about it (a line each, `note:` or `warning:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Curl {
    pub command: String,
    pub notes: Vec<String>,
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The environment variables a printed command refers to for the DCR-service credentials (they
/// are secrets): the profile's own where it reads them from one (`{{env.NAME}}`), else
/// `DCR_CLIENT_ID` and `DCR_CLIENT_SECRET`.
fn credential_variables(profile: Option<&Profile>, tpp: &str) -> (String, String) {
    let from_env = |template: &str| {
        let name = template.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim().strip_prefix("env.")?;
        Some(name.to_string())
    };
    let overrides = profile.and_then(|p| p.credentials.overrides.get(tpp));
    (
        overrides.and_then(|o| from_env(&o.client_id)).unwrap_or_else(|| "DCR_CLIENT_ID".into()),
        overrides.and_then(|o| from_env(&o.client_secret)).unwrap_or_else(|| "DCR_CLIENT_SECRET".into()),
    )
}

/// Quotes for the shell, keeping `${VAR}` references live (double quotes) when there are any.
fn shell_quote_expanding(s: &str, expands: bool) -> String {
    match expands {
        true => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"").replace('`', "\\`")),
        false => shell_quote(s),
    }
}

pub fn command(pki: &Pki, request: &Request, msg: &Message) -> Result<Curl, Error> {
    let mut notes = Vec::new();
    let tls = pki.identity(request.tls)?;
    let mut parts = vec![
        "curl".to_string(),
        "-sS".into(),
        "--cert".into(),
        shell_quote(&tls.cert_path.display().to_string()),
        "--key".into(),
        shell_quote(&tls.key_path.display().to_string()),
        "--cacert".into(),
        shell_quote(&pki.path_of(&pki.manifest.trust_anchor).display().to_string()),
        "-X".into(),
        msg.method.clone(),
    ];
    let mut headers: Vec<(String, String, bool)> =
        msg.headers.iter().map(|(n, v)| (n.clone(), v.clone(), false)).collect();
    let kind = request.credentials.unwrap_or(match request.profile.map(|p| p.credentials.kind) {
        Some(CredentialKind::Basic) => Credentials::Basic,
        Some(CredentialKind::ApiKey) | None => Credentials::ApiKey,
        Some(_) => Credentials::None,
    });
    let (id_header, secret_header) = match request.profile {
        Some(p) => (p.credentials.client_id_header.clone(), p.credentials.client_secret_header.clone()),
        None => (CLIENT_ID_HEADER.to_string(), CLIENT_SECRET_HEADER.to_string()),
    };
    let show = request.show_secrets;
    match (kind, request.tpp) {
        (Credentials::None, _) => {}
        (_, None) => notes.push(format!(
            "warning: identity `{}` belongs to no TPP in the PKI manifest, so the command carries no DCR-service credentials",
            request.tls
        )),
        (kind, Some(tpp)) => {
            let (id_var, secret_var) = credential_variables(request.profile, tpp);
            let (id, secret) = match (show, request.profile) {
                (false, _) => (format!("${{{id_var}}}"), format!("${{{secret_var}}}")),
                (true, Some(p)) => {
                    crate::run::plan::credentials_of(p, pki, tpp).map_err(|e| Error::input("--profile", e))?
                }
                (true, None) => pki.tpp(tpp).map(|t| (t.dcr_client_id.clone(), t.dcr_client_secret.clone()))?,
            };
            if !show {
                notes.push(format!("note: the DCR-service credentials are ${id_var} and ${secret_var} in the command: export them, or add --show-secrets"));
            }
            match kind {
                Credentials::Basic => {
                    parts.extend(["--user".into(), shell_quote_expanding(&format!("{id}:{secret}"), !show)])
                }
                _ => {
                    headers.push((id_header, id, !show));
                    headers.push((secret_header, secret, !show));
                }
            }
        }
    }
    if !msg.body.is_empty() {
        headers.push(("Content-Type".into(), "application/json".into(), false));
    }
    for (name, value, expands) in headers {
        parts.push("-H".into());
        parts.push(shell_quote_expanding(&format!("{name}: {value}"), expands));
    }
    if !msg.body.is_empty() {
        // The signed bytes exactly, from a file: inlined, a non-UTF-8 byte would change (and the
        // Digest no longer match), and a large body would make a command line of its size.
        parts.push("--data-binary".into());
        parts.push(shell_quote(&format!("@{}", body_file(request.body_file, &msg.body, &mut notes)?.display())));
    }
    parts.push(shell_quote(&request.url.replace(&url_target(request.url).unwrap_or_default(), &msg.target)));
    Ok(Curl { command: parts.join(" "), notes })
}

/// A file holding exactly `body`: the `--body` file where the signed body is its bytes, else
/// one written under the temporary directory, named by the body's digest.
fn body_file(given: Option<&Path>, body: &[u8], notes: &mut Vec<String>) -> Result<PathBuf, Error> {
    if let Some(path) = given {
        if crate::files::read(path, crate::files::MAX_INPUT_BYTES).is_ok_and(|bytes| bytes == body) {
            return Ok(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
        }
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
    let path = std::env::temp_dir().join(format!("dcr-harness-body-{}.bin", hex::encode(&digest.as_ref()[..8])));
    std::fs::write(&path, body).map_err(|e| Error::output(&path, e))?;
    notes.push(format!("note: the signed body is in {} (the command sends it from there)", path.display()));
    Ok(path)
}

/// The path and query of a URL as written, so a mutation that changes the target shows in curl.
fn url_target(url: &str) -> Option<String> {
    reqwest::Url::parse(url).ok().map(|url| signature::request_target(&url))
}
