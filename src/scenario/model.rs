//! The serde model of a scenario: data that names requests, identities, mutations and
//! expectations. Adding a scenario needs YAML, never Rust.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::policy;
use crate::signature::Mutation;

/// The areas of the suite, one file each in `scenarios/`.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    Transport,
    Auth,
    Signature,
    Digest,
    Date,
    RequestTarget,
    Metadata,
    Lifecycle,
    ManagementAuthz,
    Replay,
    Concurrency,
    SoftwareStatement,
    RequestObject,
    OpenBankingUk,
    TokenAuth,
}

impl Area {
    pub const ALL: [Area; 15] = [
        Area::Transport,
        Area::Auth,
        Area::Signature,
        Area::Digest,
        Area::Date,
        Area::RequestTarget,
        Area::Metadata,
        Area::Lifecycle,
        Area::ManagementAuthz,
        Area::Replay,
        Area::Concurrency,
        Area::SoftwareStatement,
        Area::RequestObject,
        Area::OpenBankingUk,
        Area::TokenAuth,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Area::Transport => "transport",
            Area::Auth => "auth",
            Area::Signature => "signature",
            Area::Digest => "digest",
            Area::Date => "date",
            Area::RequestTarget => "request-target",
            Area::Metadata => "metadata",
            Area::Lifecycle => "lifecycle",
            Area::ManagementAuthz => "management-authz",
            Area::Replay => "replay",
            Area::Concurrency => "concurrency",
            Area::SoftwareStatement => "software-statement",
            Area::RequestObject => "request-object",
            Area::OpenBankingUk => "open-banking-uk",
            Area::TokenAuth => "token-auth",
        }
    }
}

impl std::fmt::Display for Area {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl std::str::FromStr for Area {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Area::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| format!("unknown area `{s}`; areas: {}", Area::ALL.map(|a| a.name()).join(", ")))
    }
}

/// A check's level, from the words of its clause: a spec MUST fails the run, a SHOULD warns, a
/// policy (a choice a bank or profile makes) counts at the level the profile holds it, and
/// information is observed and never fails.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
    /// A profile's choice (`policy:` names it); the profile says MUST or SHOULD.
    #[serde(rename = "policy")]
    Policy,
    /// Observed, never failed: what the text leaves open.
    #[serde(rename = "info")]
    Info,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Must => "MUST",
            Severity::Should => "SHOULD",
            Severity::Policy => "policy",
            Severity::Info => "info",
        }
    }
}

/// RFC 2119's words for an obligation, and for less.
const RFC2119_OBLIGATIONS: &[&str] = &["MUST", "REQUIRED", "SHALL"];
const RFC2119_LESSER: &[&str] = &["SHOULD", "RECOMMENDED", "MAY", "OPTIONAL"];
/// A bank's description is no RFC: its lower-case words oblige where no RFC 2119 word is used.
const PLAIN_OBLIGATIONS: &[&str] = &["must", "required", "require", "shall"];

/// The first quoted passage of `source` ("...") that holds an obligation, if any: what a MUST
/// scenario must cite, so that its level comes from the words of its clause.
pub fn quoted_obligation(source: &str) -> Option<&str> {
    let parts: Vec<&str> = source.split('"').collect();
    // Odd parts lie between quotes; the last part of an odd count of quotes is unclosed.
    let closed = parts.len().saturating_sub(1) / 2;
    parts.into_iter().skip(1).step_by(2).take(closed).find(|quote| {
        let words: Vec<&str> = quote.split(|c: char| !c.is_ascii_alphabetic()).collect();
        let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
        has(RFC2119_OBLIGATIONS) || (!has(RFC2119_LESSER) && has(PLAIN_OBLIGATIONS))
    })
}

impl Scenario {
    /// A MUST scenario without a quoted obligation rates a fault more severely than its text.
    pub fn cites_its_level(&self) -> bool {
        self.severity != Severity::Must || quoted_obligation(&self.source).is_some()
    }
}

/// The policies scenarios may name: choices a bank or profile makes where the texts leave them
/// open. A profile holds each at MUST or SHOULD, or not at all.
pub const POLICIES: &[(&str, &str)] = &[
    (policy::HTTPS_REDIRECT_URIS, "redirect URIs must use https (RFC 6749 §3.1.2.1 says SHOULD; PSD2 banks require it)"),
    (policy::UNKNOWN_CLIENT_404, "an unknown or another TPP's client is a 404 (SMBC's choice; RFC 7592 §2.1 says 401 where a registration access token is used)"),
    (policy::BERLIN_GROUP_CODES, "refusals carry Berlin Group tppMessages codes (CERTIFICATE_INVALID, SIGNATURE_INVALID, ...)"),
    (policy::BODY_SIZE_LIMIT, "bodies over the server's limit (64 KiB for the reference server) are refused with 413"),
    (policy::PSD2_ROLES, "only a QWAC with an account-information or payment-initiation role (PSP_AI, PSP_PI) may manage clients"),
    (policy::SECRET_REFRESH, "the bank's secret refresh replaces the secret: a new one with its expiry, and the old one stops working"),
    (policy::SOFTWARE_STATEMENT, "every registration carries a software statement from the ecosystem's directory (RFC 7591 §2.3 makes it optional; Open Banking UK and FAPI ecosystems require it)"),
    (policy::REQUEST_OBJECT, "registrations and updates are signed request objects (application/jose) carrying the software statement, signed by a key it publishes (Open Banking UK DCR v3.x)"),
    (policy::CLIENT_TOKEN_MANAGEMENT, "clients are managed with their own client-credentials access token, and only their own (Open Banking UK DCR v3.x; RFC 7592 uses a registration access token)"),
    (policy::CLIENT_SECRET_POST, "clients may register client_secret_post and send their secret in the token request's form (RFC 6749 §2.3.1; RFC 7591 §2)"),
    (policy::TLS_CLIENT_AUTH, "clients may register tls_client_auth and prove themselves with the certificate whose subject DN they registered (RFC 8705 §2.1; Open Banking UK, FAPI)"),
    (policy::SELF_SIGNED_TLS_CLIENT_AUTH, "clients may register self_signed_tls_client_auth and prove themselves with a certificate whose key is in their registered JWKS (RFC 8705 §2.2)"),
    (policy::PRIVATE_KEY_JWT, "clients may register private_key_jwt and prove themselves with a JWT signed by a key of their registered JWKS (RFC 7523 §2.2; Open Banking UK, FAPI)"),
    (policy::JWKS_URI, "the server reads a private_key_jwt client's keys from its registered jwks_uri (RFC 7591 §2), here the harness's key store on this host (`{{keystore}}`)"),
    (policy::ASSERTION_REPLAY, "a client assertion's jti is accepted once (RFC 7523 §3 leaves it to the server: it MAY refuse a replay)"),
    (policy::BERLIN_GROUP_SIGNING, "requests are signed as the Berlin Group NextGenPSD2 guide has it: a UUID X-Request-ID, signed; GET signed too; PSU-ID and TPP-Redirect-URI signed when present; a SHA-512 Digest as good as a SHA-256 one"),
    (policy::REVOCATION_CHECK, "the server asks the QTSP whether a QWAC or QSEAL is revoked (its OCSP responder or CRL) and refuses a revoked one (RFC 5280 §6.3; the test QTSP's services run on this host)"),
    (policy::REVOCATION_HARD_FAIL, "a certificate whose status cannot be had (unknown to the responder, the responder down) is refused, not let through (no text requires it: a soft-failing server is legal)"),
    (policy::NO_STORE, "an answer carrying a client secret or registration access token says Cache-Control: no-store (RFC 6749 §5.1 MUST for the token endpoint's; RFC 7591 and 7592 show it only in non-normative examples)"),
    (policy::JSON_ONLY, "a registration or update in another media type than application/json is refused (RFC 7591 §3 says the endpoint MUST accept JSON; no text requires refusing others)"),
    (policy::OBUK_DCR, "Open Banking UK DCR v3.x rules beyond RFC 7591: the registration endpoint in the OpenID discovery document, response_types code or code id_token, token_endpoint_auth_signing_alg PS256 or ES256 (as its conformance suite checks)"),
];

/// The most copies a `concurrent:` step sends at once.
pub const MAX_CONCURRENT: u64 = 64;
/// The longest `wait_ms`: ten minutes.
pub const MAX_WAIT_MS: u64 = 600_000;

/// One scenario.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    pub title: String,
    pub area: Area,
    #[serde(default)]
    pub tags: Vec<String>,
    pub severity: Severity,
    /// With `severity: policy`: which policy (see `POLICIES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The clause it comes from, quoting its normative words briefly:
    /// `RFC 7592 §2.2: "... MUST replace, not augment, ..."`. A MUST scenario quotes a MUST,
    /// REQUIRED or SHALL (a bank's text: its "must" or "require").
    pub source: String,
    pub steps: Vec<Step>,
    #[serde(skip)]
    pub file: PathBuf,
    #[serde(skip)]
    pub line: usize,
}

impl Scenario {
    /// The mutations its steps make.
    pub fn mutations(&self) -> impl Iterator<Item = Mutation> + '_ {
        self.steps.iter().filter_map(|s| s.mutation)
    }
}

/// One request and what must come of it.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(default)]
    pub name: Option<String>,
    pub request: RequestSpec,
    /// Applied to the otherwise valid signed request: one, so that each negative case breaks
    /// exactly one thing.
    #[serde(default)]
    pub mutation: Option<Mutation>,
    #[serde(default)]
    pub expect: Expect,
    /// Variables taken from the JSON answer: `name: $.path`.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
    /// The name under which a registration's client is known to later steps (default `client`).
    #[serde(default)]
    pub register_as: Option<String>,
    /// Send this many copies at once; each must meet the expectation.
    #[serde(default, deserialize_with = "opt_in_range::<_, u32, 1, MAX_CONCURRENT>")]
    #[schemars(range(min = 1, max = MAX_CONCURRENT))]
    pub concurrent: Option<u32>,
    /// Send the previous step's request again, byte for byte (after `wait_ms`).
    #[serde(default)]
    pub replay_previous: bool,
    /// Milliseconds to wait before the step (at most ten minutes; the run's deadline and an
    /// interrupt cut it short).
    #[serde(default, deserialize_with = "in_range::<_, u64, 0, MAX_WAIT_MS>")]
    #[schemars(range(max = MAX_WAIT_MS))]
    pub wait_ms: u64,
    /// Store the (normalised, redacted) answer as a snapshot.
    #[serde(default)]
    pub snapshot: bool,
}

impl Step {
    /// The name a registration's client gets.
    pub fn client_registered(&self) -> &str {
        self.register_as.as_deref().unwrap_or(DEFAULT_CLIENT)
    }

    /// Whether the step expects a 201 (a client created) to be possible: a registration with a
    /// substituted value creates one too.
    pub fn allows_creation(&self) -> bool {
        let expected =
            self.expect.reject.is_none() && self.expect.status.as_ref().is_none_or(|s| s.to_vec().contains(&201));
        expected || self.expect.created || self.expect.or_substituted.is_some()
    }
}

/// What a step does; the target profile turns it into a method, a path and credentials.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    Register,
    Read,
    Update,
    Delete,
    RefreshSecret,
    /// The client-credentials grant at the token endpoint, authenticated as a registered client.
    Token,
    /// Method and path as written.
    Raw,
}

/// Who sends the request: the profile's TPP (default), its second TPP, or nobody in particular.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Actor {
    #[default]
    Tpp,
    OtherTpp,
}

/// A request in scenario terms.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    pub op: Operation,
    /// The registered client a management operation is about (default `client`).
    #[serde(default)]
    pub client: Option<String>,
    /// `raw` only.
    #[serde(default)]
    pub method: Option<HttpMethod>,
    /// `raw` only (a template); other operations take their path from the profile.
    #[serde(default)]
    pub path: Option<String>,
    /// Appended to the path as written, e.g. `?x=1`.
    #[serde(default)]
    pub query: Option<String>,
    /// JSON body; strings in it are templates.
    #[serde(default)]
    pub body: Option<Value>,
    /// A body file under `fixtures/`.
    #[serde(default)]
    pub body_file: Option<PathBuf>,
    /// A body sent as written (a template), e.g. malformed JSON.
    #[serde(default)]
    pub body_raw: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default, rename = "as")]
    pub actor: Actor,
    /// TLS identity, or `none`; default the actor's QWAC.
    #[serde(default)]
    pub tls: Option<Who>,
    /// DCR-service credentials of a TPP, or `none`; default the actor's.
    #[serde(default)]
    pub credentials: Option<Who>,
    /// Signing identity, or `none`; default the actor's QSEAL where the profile signs.
    #[serde(default)]
    pub sign: Option<Who>,
    /// Seconds added to the signed Date: a number, or `-window+N` (N seconds inside the edge
    /// of the Date window the profile names), `window+N`.
    #[serde(default)]
    pub date_offset: DateOffset,
    /// The form of the signed Date (default: the profile's dialect, IMF-fixdate).
    #[serde(default)]
    pub date_form: Option<crate::signature::DateForm>,
    /// The hash of the Digest (`SHA-256` or `SHA-512`; default: the profile's dialect).
    #[serde(default)]
    pub digest_algorithm: Option<crate::signature::DigestAlgorithm>,
    /// `token` only: the secret to authenticate with (a template; default the client's current).
    #[serde(default)]
    pub secret: Option<String>,
    /// `token` only: how the client proves itself (default the method it registered).
    #[serde(default)]
    pub token_auth: Option<crate::protocol::TokenAuthMethod>,
    /// Registration-token profiles: the bearer to manage with (a template; default the client's),
    /// or `none` to send no token at all.
    #[serde(default)]
    pub registration_token: Option<String>,
    /// Read, update, delete or refresh a client id that is not the client's (a template, e.g.
    /// `never-issued-{{unique}}`), at the client's own configuration endpoint with its id
    /// replaced there (in the `registration_client_uri` the server gave, wherever the id
    /// stands: a path segment or a query value), authenticated as the client. This is how a
    /// never-issued client is addressed where the server chooses its URLs (RFC 7592 §3).
    #[serde(default)]
    pub other_id: Option<String>,
}

impl RequestSpec {
    /// `op` as the profile's TPP does it by default, on the client named `client`.
    pub fn of(op: Operation) -> Self {
        RequestSpec {
            op,
            client: None,
            method: None,
            path: None,
            query: None,
            body: None,
            body_file: None,
            body_raw: None,
            content_type: None,
            headers: BTreeMap::new(),
            actor: Actor::Tpp,
            tls: None,
            credentials: None,
            sign: None,
            date_offset: DateOffset::Seconds(0),
            date_form: None,
            digest_algorithm: None,
            secret: None,
            token_auth: None,
            registration_token: None,
            other_id: None,
        }
    }

    /// The registered client a management operation is about.
    pub fn client_name(&self) -> &str {
        self.client.as_deref().unwrap_or(DEFAULT_CLIENT)
    }
}

/// The name of the client a scenario registers and manages when it names none.
pub const DEFAULT_CLIENT: &str = "client";

/// An identity (or a TPP's credentials) named in a scenario, `none` (deliberately nothing), or
/// one of the profile's own identities by its role (`$tls`, `$sign`, `$other_tls`,
/// `$other_sign`), so that a scenario can use the user's certificates in the wrong role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Nobody,
    Named(String),
    Role(Role),
}

/// The profile's identities by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Tls,
    Sign,
    OtherTls,
    OtherSign,
}

impl Role {
    const ALL: [(Role, &'static str); 4] =
        [(Role::Tls, "$tls"), (Role::Sign, "$sign"), (Role::OtherTls, "$other_tls"), (Role::OtherSign, "$other_sign")];

    fn spelling(self) -> &'static str {
        Role::ALL.iter().find(|(r, _)| *r == self).map(|(_, s)| *s).unwrap_or("$tls")
    }
}

impl Who {
    /// The name as written, or `None` for `none` and for a role (which only a profile resolves).
    pub fn name(&self) -> Option<&str> {
        match self {
            Who::Named(name) => Some(name),
            Who::Nobody | Who::Role(_) => None,
        }
    }

    /// The identity's name against a profile's identities, or `None` for nobody.
    pub fn resolve<'a>(&'a self, ids: &'a super::profile::Identities) -> Option<&'a str> {
        match self {
            Who::Nobody => None,
            Who::Named(name) => Some(name),
            Who::Role(Role::Tls) => ids.tls.name(),
            Who::Role(Role::Sign) => ids.sign.name(),
            Who::Role(Role::OtherTls) => ids.other_tls.name(),
            Who::Role(Role::OtherSign) => ids.other_sign.name(),
        }
    }
}

impl Serialize for Who {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Who::Role(role) => s.serialize_str(role.spelling()),
            other => s.serialize_str(other.name().unwrap_or("none")),
        }
    }
}

impl<'de> Deserialize<'de> for Who {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        if name == "none" {
            return Ok(Who::Nobody);
        }
        if name.starts_with('$') {
            return Role::ALL.iter().find(|(_, s)| *s == name).map(|(r, _)| Who::Role(*r)).ok_or_else(|| {
                serde::de::Error::custom(format!("unknown role `{name}`; roles: $tls, $sign, $other_tls, $other_sign"))
            });
        }
        Ok(Who::Named(name))
    }
}

impl schemars::JsonSchema for Who {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Who".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "description": "a name from the PKI manifest, `none`, or a role of the profile's identities: $tls, $sign, $other_tls, $other_sign" })
    }
}

/// Seconds added to a signed Date: fixed, or counted from the edge of the target's Date window
/// (which the profile names: the text leaves it to the bank).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOffset {
    Seconds(i64),
    /// `sign * window + seconds`: `-window+1` is one second inside the past edge.
    FromWindow {
        sign: i64,
        seconds: i64,
    },
}

impl Default for DateOffset {
    fn default() -> Self {
        DateOffset::Seconds(0)
    }
}

impl DateOffset {
    /// The offset in seconds against a window of `window` seconds, if it fits an `i64`.
    pub fn seconds(self, window: u64) -> Option<i64> {
        match self {
            DateOffset::Seconds(s) => Some(s),
            DateOffset::FromWindow { sign, seconds } => {
                i64::try_from(window).ok()?.checked_mul(sign)?.checked_add(seconds)
            }
        }
    }

    fn parse(text: &str) -> Option<DateOffset> {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let (sign, rest) = match text.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, text.strip_prefix('+').unwrap_or(&text)),
        };
        let rest = rest.strip_prefix("window")?;
        let seconds = match rest {
            "" => 0,
            _ => rest.strip_prefix('+').unwrap_or(rest).parse().ok()?,
        };
        Some(DateOffset::FromWindow { sign, seconds })
    }
}

impl Serialize for DateOffset {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DateOffset::Seconds(n) => s.serialize_i64(*n),
            DateOffset::FromWindow { sign, seconds } => {
                s.serialize_str(&format!("{}window{seconds:+}", if *sign < 0 { "-" } else { "" }))
            }
        }
    }
}

/// The largest `date_offset`, either way: ten years.
pub const MAX_DATE_OFFSET_S: u64 = 10 * 366 * 24 * 3600;

impl DateOffset {
    fn within_bounds(&self) -> bool {
        match self {
            DateOffset::Seconds(n) => n.unsigned_abs() <= MAX_DATE_OFFSET_S,
            DateOffset::FromWindow { seconds, .. } => seconds.unsigned_abs() <= MAX_DATE_OFFSET_S,
        }
    }
}

impl<'de> Deserialize<'de> for DateOffset {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(i64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Seconds(n) if n.unsigned_abs() <= MAX_DATE_OFFSET_S => Ok(DateOffset::Seconds(n)),
            Raw::Seconds(n) => Err(serde::de::Error::custom(format!(
                "date_offset {n} is out of range: give seconds from -{MAX_DATE_OFFSET_S} to {MAX_DATE_OFFSET_S} (ten years)"
            ))),
            Raw::Text(text) => DateOffset::parse(&text).filter(|o| o.within_bounds()).ok_or_else(|| {
                serde::de::Error::custom(format!("`{text}` is neither seconds nor `-window+N` / `window-N`"))
            }),
        }
    }
}

impl schemars::JsonSchema for DateOffset {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DateOffset".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "oneOf": [{ "type": "integer" }, { "type": "string", "pattern": "^[-+]?window([-+][0-9]+)?$" }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_cites_an_obligation_only_inside_quotes() {
        let cases = [
            (r#"RFC 7592 §2.2: "values ... MUST replace, not augment""#, true),
            (r#"SMBC: "all operations ... must be signed""#, true),
            (r#"SMBC: "All operations require the TPP to authenticate""#, true),
            (r#"RFC 7591 §3.2.1: client_id "REQUIRED""#, true),
            (r#"ETSI: "shall include""#, true),
            ("RFC 7592 §2.2 (the server MUST replace the metadata)", false),
            (r#"RFC 6749 §3.1.2.1: "SHOULD require the use of TLS""#, false),
            (r#"RFC 6749 §3.1.2.1: "SHOULD use TLS"; MUST elsewhere"#, false),
            (r#"a "mustard" word is no obligation"#, false),
            (r#"an unclosed "MUST"#, false),
            ("", false),
        ];
        for (source, cites) in cases {
            assert_eq!(quoted_obligation(source).is_some(), cites, "{source}");
        }
    }

    #[test]
    fn date_offsets_are_seconds_or_counted_from_the_window() {
        let cases = [
            ("-298", Some(-298)),
            ("'-window+1'", Some(-299)),
            ("window", Some(300)),
            ("'+window-2'", Some(298)),
            ("'- window + 1'", Some(-299)),
            ("'window+x'", None),
            ("'windows'", None),
            ("'-1'", None),
        ];
        for (yaml, expected) in cases {
            let parsed = serde_norway::from_str::<DateOffset>(yaml).ok();
            assert_eq!(parsed.and_then(|d| d.seconds(300)), expected, "{yaml}");
        }
        let round_trip = serde_norway::to_string(&DateOffset::FromWindow { sign: -1, seconds: 1 }).expect("yaml");
        assert_eq!(
            serde_norway::from_str::<DateOffset>(&round_trip).ok(),
            Some(DateOffset::FromWindow { sign: -1, seconds: 1 })
        );
        assert_eq!(DateOffset::FromWindow { sign: 1, seconds: 0 }.seconds(u64::MAX), None, "out of range, no panic");
    }
}

/// Deserializes a whole number in `LO..=HI`, or says which range it must be in (the YAML
/// loader puts the `file:line:col` in front): every number from outside is range-checked as it
/// is read, so no later arithmetic can overflow and no wait or loop can run unbounded.
pub fn in_range<'de, D, T, const LO: u64, const HI: u64>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    let n = u64::deserialize(d)?;
    checked_range::<T, D::Error, LO, HI>(n)
}

/// As [`in_range`], for an optional field.
pub fn opt_in_range<'de, D, T, const LO: u64, const HI: u64>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    Option::<u64>::deserialize(d)?.map(checked_range::<T, D::Error, LO, HI>).transpose()
}

fn checked_range<T: TryFrom<u64>, E: serde::de::Error, const LO: u64, const HI: u64>(n: u64) -> Result<T, E> {
    if !(LO..=HI).contains(&n) {
        return Err(E::custom(format!("{n} is out of range: give a whole number from {LO} to {HI}")));
    }
    T::try_from(n).map_err(|_| E::custom(format!("{n} is too large for this machine")))
}

/// An HTTP method as a raw step writes it (upper-cased; any RFC 9110 token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpMethod(pub http::Method);

impl HttpMethod {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Serialize for HttpMethod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for HttpMethod {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        http::Method::from_bytes(text.to_ascii_uppercase().as_bytes())
            .map(HttpMethod)
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not an HTTP method")))
    }
}

impl schemars::JsonSchema for HttpMethod {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HttpMethod".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" })
    }
}

/// A set of allowed values, written as one value or a list.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    pub fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(v) => vec![v.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// What the answer must be.
#[derive(schemars::JsonSchema, Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub status: Option<OneOrMany<u16>>,
    /// A kind of rejection; the profile says which statuses (and whether a refused TLS
    /// handshake) count for it.
    #[serde(default)]
    pub reject: Option<String>,
    /// The error code (`tppMessages[0].code` or `error`) is one of these.
    #[serde(default)]
    pub code: Option<OneOrMany<String>>,
    /// JSON paths and what must hold of them.
    #[serde(default)]
    pub json: BTreeMap<String, Predicate>,
    /// Header values (names case-insensitive; values templates).
    #[serde(default)]
    pub headers: BTreeMap<String, Predicate>,
    /// The named client reads the same before and after this step.
    #[serde(default)]
    pub unchanged: Option<String>,
    /// Instead of refusing, the server may register a value of its own at this JSON path
    /// (RFC 7591 §3.2.1: it "MAY reject or replace any of the client's requested metadata
    /// values"): a 2xx whose value there is not the one sent passes too, and `unchanged` then
    /// does not apply.
    #[serde(default)]
    pub or_substituted: Option<String>,
    /// A registration that sets up what the scenario tests: any 2xx whose answer names a
    /// client will do (RFC 7591 §3.2's 201 is judged where a registration is what a scenario
    /// tests, `metadata-minimal-registration`), so that a server answering 200 is still tested
    /// on everything behind it.
    #[serde(default)]
    pub created: bool,
}

/// What must hold of a value.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Predicate {
    Test(Test),
    /// Equal to this (strings are templates).
    Equals(Value),
}

#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Test {
    Exists(bool),
    OneOf(Vec<Value>),
    Not(Value),
    Contains(String),
    Type(JsonType),
    AtLeast(f64),
}

#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    String,
    Number,
    Boolean,
    Array,
    Object,
    Null,
}
