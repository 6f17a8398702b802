//! `{{name}}` templates in paths, headers and bodies: profile variables, `env.NAME`, captures,
//! and the fields of registered clients (`client.id`, `client.secret`, ...).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Profile, Step};

/// The variables every scenario can use; the run's session sets them.
pub mod builtin {
    pub const BASE_URL: &str = "base_url";
    pub const REGISTER_PATH: &str = "register_path";
    pub const TOKEN_PATH: &str = "token_path";
    /// A short random text, new for every session (client names that do not collide).
    pub const UNIQUE: &str = "unique";
    pub const DCR_CLIENT_ID: &str = "dcr_client_id";
    /// 0..N-1 across the copies of a `concurrent: N` step.
    pub const ITERATION: &str = "iteration";
    /// The subject DN of the profile's TLS identity, and of its other TPP's (RFC 8705
    /// `tls_client_auth_subject_dn`).
    pub const TLS_SUBJECT_DN: &str = "tls_subject_dn";
    pub const OTHER_TLS_SUBJECT_DN: &str = "other_tls_subject_dn";
    /// The first DNS subjectAltName of the profile's TLS identity (`tls_client_auth_san_dns`).
    pub const TLS_SAN_DNS: &str = "tls_san_dns";
    /// Its first URI, IP address and email subjectAltName (`tls_client_auth_san_uri`, `_ip`,
    /// `_email`).
    pub const TLS_SAN_URI: &str = "tls_san_uri";
    pub const TLS_SAN_IP: &str = "tls_san_ip";
    pub const TLS_SAN_EMAIL: &str = "tls_san_email";
    /// The issuer the target's metadata document names, else its base URL (`aud` of the JWTs
    /// a client signs for it).
    pub const ISSUER: &str = "issuer";
    /// The harness's key store (`{{keystore}}/qseal.jwks`), where the profile holds the
    /// jwks-uri policy.
    pub const KEYSTORE: &str = "keystore";
    /// A key set at the harness's key store that publishes the profile's signing identity's key
    /// until a `rotate-keys` step of the scenario, then its other signing identity's alone.
    pub const ROTATING_JWKS_URI: &str = "rotating_jwks_uri";
    /// RFC 8705 §3.1: the base64url SHA-256 of the DER of the profile's TLS identity's
    /// certificate (`cnf.x5t#S256` of a token bound to it).
    pub const TLS_X5T_S256: &str = "tls_x5t_s256";
    /// RFC 9449 §6: the JWK SHA-256 thumbprint (RFC 7638) of the session's own DPoP key
    /// (`cnf.jkt` of a token bound to it), where the profile holds dpop-bound-tokens.
    pub const DPOP_JKT: &str = "dpop_jkt";
    /// A statement the test directory issues for this session alone: TPP A's, for a software
    /// product no other session registers (as the CDR Register issues one per product), where
    /// the profile's registration fields name it.
    pub const PRODUCT_STATEMENT: &str = "directory.product";
    /// The software statement the profile's registrations carry (its `registration_fields`'
    /// `software_statement`, filled): what a server must echo unmodified.
    pub const REGISTRATION_STATEMENT: &str = "registration_statement";
    /// Another statement the directory issued for the same software as the registration
    /// statement (TPP A's ES256 twin of `ssa`, or the session's product's second): what an update
    /// rotating the statement carries.
    pub const ROTATED_STATEMENT: &str = "rotated_statement";
    /// Statements of the profile's TPP that name where its keys are (`software_jwks_endpoint`)
    /// instead of carrying them: at the key store's set of its signing identity, of its other
    /// signing identity (which does not publish the key its requests are signed with), and at
    /// one that never answers; where the profile holds software-jwks-endpoint.
    pub const KEYS_AT_STATEMENT: &str = "keys_at_statement";
    pub const KEYS_AT_OTHER_KEY_STATEMENT: &str = "keys_at_other_key_statement";
    pub const KEYS_AT_STALLED_STATEMENT: &str = "keys_at_stalled_statement";
    /// The `scope` the statements the directory issues per software product carry (CDR SSAs).
    pub const PRODUCT_SCOPE: &str = "product_scope";
    pub const ALL: &[&str] = &[
        BASE_URL,
        REGISTER_PATH,
        TOKEN_PATH,
        UNIQUE,
        DCR_CLIENT_ID,
        ITERATION,
        TLS_SUBJECT_DN,
        OTHER_TLS_SUBJECT_DN,
        TLS_SAN_DNS,
        TLS_SAN_URI,
        TLS_SAN_IP,
        TLS_SAN_EMAIL,
        ISSUER,
        KEYSTORE,
        ROTATING_JWKS_URI,
        TLS_X5T_S256,
        DPOP_JKT,
        PRODUCT_STATEMENT,
        REGISTRATION_STATEMENT,
        ROTATED_STATEMENT,
        PRODUCT_SCOPE,
        KEYS_AT_STATEMENT,
        KEYS_AT_OTHER_KEY_STATEMENT,
        KEYS_AT_STALLED_STATEMENT,
    ];
}

/// The fields every registered client has (`{{client.id}}`, ...).
pub mod client_field {
    pub const ID: &str = "id";
    pub const SECRET: &str = "secret";
    pub const PREVIOUS_SECRET: &str = "previous_secret";
    pub const RAT: &str = "rat";
    pub const URI: &str = "uri";
}

/// The fields every registered client has.
pub const CLIENT_FIELDS: &[&str] =
    &[client_field::ID, client_field::SECRET, client_field::PREVIOUS_SECRET, client_field::RAT, client_field::URI];

/// Where the test directory's software statements are: `{{directory.ssa}}` is the statement
/// named `ssa` (compact JWS).
pub const DIRECTORY: &str = "directory.";

/// Whether `name` is one of the directory's statements (`directory.ssa-expired`).
pub fn is_directory_statement(name: &str) -> bool {
    name.strip_prefix(DIRECTORY).is_some_and(|s| crate::pki::directory::statement_names().any(|n| n == s))
}

/// The template variable of a registered client's field: `client.id`.
pub fn client_var(client: &str, field: &str) -> String {
    [client, ".", field].concat()
}

/// Variables every scenario can use.
pub fn builtin_names(profile: &Profile) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = builtin::ALL.iter().map(|s| s.to_string()).collect();
    names.extend(profile.vars.keys().cloned());
    names
}

/// The `{{...}}` names in `text`.
pub fn names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start + 2..].find("}}") else { break };
        out.push(rest[start + 2..start + 2 + end].trim().to_string());
        rest = &rest[start + 2 + end + 2..];
    }
    out
}

fn names_in_value(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.extend(names(s)),
        Value::Array(a) => a.iter().for_each(|v| names_in_value(v, out)),
        Value::Object(o) => o.values().for_each(|v| names_in_value(v, out)),
        _ => {}
    }
}

/// Every template name a step uses, its `alongside` request's included.
pub fn names_in_step(step: &Step) -> Vec<String> {
    let mut out = names_in_request(&step.request, &step.expect);
    if let Some(partner) = &step.alongside {
        out.extend(names_in_request(&partner.request, &partner.expect));
    }
    out
}

fn names_in_request(r: &super::RequestSpec, expect: &super::Expect) -> Vec<String> {
    let mut out = Vec::new();
    let texts = [&r.path, &r.query, &r.body_raw, &r.secret, &r.registration_token, &r.token, &r.scope];
    for text in texts.into_iter().flatten() {
        out.extend(names(text));
    }
    r.headers.values().for_each(|v| out.extend(names(v)));
    if let Some(body) = &r.body {
        names_in_value(body, &mut out);
    }
    for p in expect.json.values().chain(expect.headers.values()) {
        if let super::Predicate::Equals(v) = p {
            names_in_value(v, &mut out);
        }
    }
    out
}

/// Why a template could not be filled.
#[derive(Debug, thiserror::Error)]
#[error("template `{{{{{0}}}}}` has no value here")]
pub struct Unbound(pub String);

/// Fills `{{name}}` from `vars` (and `env.NAME` from the environment).
/// A scenario's variables by name, as templates read them.
pub type Vars = BTreeMap<String, String>;

pub fn render(text: &str, vars: &Vars) -> Result<String, Unbound> {
    render_by(text, |name| vars.get(name).cloned())
}

/// Fills `{{name}}` placeholders with what `lookup` gives for each name (`env.` names from the
/// environment).
pub fn render_by(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, Unbound> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start + 2..].find("}}") else { break };
        out.push_str(&rest[..start]);
        let name = rest[start + 2..start + 2 + end].trim();
        let value = match name.strip_prefix("env.") {
            Some(var) => std::env::var(var).map_err(|_| Unbound(name.to_string()))?,
            None => lookup(name).ok_or_else(|| Unbound(name.to_string()))?,
        };
        out.push_str(&value);
        rest = &rest[start + 2 + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Fills every string of a JSON value.
pub fn render_value(value: &Value, vars: &BTreeMap<String, String>) -> Result<Value, Unbound> {
    Ok(match value {
        Value::String(s) => Value::String(render(s, vars)?),
        Value::Array(a) => Value::Array(a.iter().map(|v| render_value(v, vars)).collect::<Result<_, _>>()?),
        Value::Object(o) => Value::Object(
            o.iter().map(|(k, v)| Ok((k.clone(), render_value(v, vars)?))).collect::<Result<_, Unbound>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_and_refuses_unbound_names() {
        let vars: BTreeMap<String, String> = [("client.id".to_string(), "abc".to_string())].into();
        assert_eq!(render("/r/{{client.id}}/x", &vars).expect("bound"), "/r/abc/x");
        assert_eq!(render("{{ client.id }}", &vars).expect("bound"), "abc");
        assert!(render("{{nope}}", &vars).is_err());
        assert_eq!(names("a {{x}} b {{y.z}}"), vec!["x", "y.z"]);
        assert_eq!(render("no templates", &vars).expect("plain"), "no templates");
    }

    proptest::proptest! {
        /// Any text renders or names what is unbound; it never panics, and text without a
        /// template renders to itself.
        #[test]
        fn rendering_any_text_ends_in_text_or_an_unbound_name(text in "\\PC{0,80}", value in "\\PC{0,12}") {
            let vars = BTreeMap::from([("x".to_string(), value.clone())]);
            let rendered = render(&text, &vars);
            if !text.contains("{{") {
                proptest::prop_assert_eq!(rendered.ok(), Some(text.clone()));
            }
            let _ = names(&text);
            let filled = render(&format!("a{{{{x}}}}b{text}"), &vars);
            if let Ok(filled) = filled {
                let expected = format!("a{value}b");
                proptest::prop_assert!(filled.starts_with(&expected));
            }
        }
    }
}
