//! The serde model of a scenario: data that names requests, identities, mutations and
//! expectations. Adding a scenario needs YAML, never Rust.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::policy;
use crate::signature::Mutation;

mod expect;
mod values;

pub use expect::{Expect, JsonType, OneOrMany, Predicate, Test};
pub use values::{in_range, opt_in_range, DateOffset, HttpMethod, Role, Who, MAX_DATE_OFFSET_S};

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
    /// Whether a step waits before it is sent.
    pub fn waits(&self) -> bool {
        self.steps.iter().any(|step| step.wait_ms > 0 || step.after_date_window)
    }
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
    /// Send the step once the previous request's Date is past the profile's window (a tenth
    /// of a second past its last whole second); where the answer does not meet the expectation,
    /// send it once more a second later and judge that answer, as a server that counts the
    /// window in whole seconds rightly takes a request up to a second past it.
    #[serde(default)]
    pub after_date_window: bool,
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

#[cfg(test)]
mod tests;
