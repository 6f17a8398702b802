//! The serde model of a scenario: data that names requests, identities, mutations and
//! expectations. Adding a scenario needs YAML, never Rust.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::Policy;
use crate::signature::Mutation;

mod expect;
mod values;

pub use expect::{Expect, HandshakeExpect, JsonType, OneOrMany, Predicate, Test};
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
    ConsumerDataRight,
    TokenAuth,
}

impl Area {
    pub const ALL: [Area; 16] = [
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
        Area::ConsumerDataRight,
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
            Area::ConsumerDataRight => "consumer-data-right",
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

/// The policy a scenario names: one of the catalog's ([`Policy`]), or a name the loader
/// reports as unknown (with every other problem of the file, rather than stopping at it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(from = "String", into = "String")]
#[schemars(with = "Policy")]
pub enum PolicyRef {
    Known(Policy),
    Unknown(String),
}

impl PolicyRef {
    /// The catalog's policy, if the name is one.
    pub fn known(&self) -> Option<Policy> {
        match self {
            PolicyRef::Known(policy) => Some(*policy),
            PolicyRef::Unknown(_) => None,
        }
    }
}

impl From<String> for PolicyRef {
    fn from(name: String) -> Self {
        name.parse::<Policy>().map_or(PolicyRef::Unknown(name), PolicyRef::Known)
    }
}

impl From<PolicyRef> for String {
    fn from(policy: PolicyRef) -> Self {
        policy.to_string()
    }
}

impl std::fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyRef::Known(policy) => f.write_str(policy.name()),
            PolicyRef::Unknown(name) => f.write_str(name),
        }
    }
}

/// The most copies a `concurrent:` step sends at once.
pub const MAX_CONCURRENT: u64 = 64;
/// The longest `wait_ms`: ten minutes.
pub const MAX_WAIT_MS: u64 = 600_000;
/// The longest `p95_ms`: a minute.
pub const MAX_P95_MS: u64 = 60_000;

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
    /// With `severity: policy`: which policy (see `protocol::Policy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyRef>,
    /// The clause it comes from, quoting its normative words briefly:
    /// `RFC 7592 §2.2: "... MUST replace, not augment, ..."`. A MUST scenario quotes a MUST,
    /// REQUIRED or SHALL (a bank's text: its "must" or "require").
    pub source: String,
    /// Faults in the services the run hosts, held while this scenario runs (alone):
    /// `SERVICE:EFFECT` (`ocsp:down`, `crl:error=503`, `keystore:latency=300`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<crate::fault::Faults>,
    pub steps: Vec<Step>,
    #[serde(skip)]
    pub file: PathBuf,
    #[serde(skip)]
    pub line: usize,
}

impl Scenario {
    /// Whether a step waits before it is sent.
    pub fn waits(&self) -> bool {
        self.steps.iter().any(|step| step.wait_ms > 0 || step.after_date_window || step.after_key_cache)
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
    /// Send the step again, a little later each time, until its answer meets the expectation or
    /// the profile's key cache time (`jwks_cache_s`, and a second for the two clocks) is past
    /// since the scenario's `rotate-keys` step: a server may go on using the key set it read
    /// before for that long.
    #[serde(default)]
    pub within_key_cache: bool,
    /// Send the step once the profile's key cache time (and a second) is past since the
    /// scenario's `rotate-keys` step: by then the server has read the rotated key set.
    #[serde(default)]
    pub after_key_cache: bool,
    /// Milliseconds to wait before the step (at most ten minutes; the run's deadline and an
    /// interrupt cut it short).
    #[serde(default, deserialize_with = "in_range::<_, u64, 0, MAX_WAIT_MS>")]
    #[schemars(range(max = MAX_WAIT_MS))]
    pub wait_ms: u64,
    /// Store the (normalised, redacted) answer as a snapshot.
    #[serde(default)]
    pub snapshot: bool,
    /// Another request sent while this one is in flight, judged by its own expectation: how a
    /// race between two different operations on a client (an update and a delete) is written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alongside: Option<Box<Alongside>>,
}

/// The longest `alongside.delay_ms`: a second.
pub const MAX_ALONGSIDE_DELAY_MS: u64 = 1_000;

/// A request sent beside a step's own, `delay_ms` after it leaves.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alongside {
    pub request: RequestSpec,
    #[serde(default)]
    pub expect: Expect,
    /// Milliseconds after the step's own request leaves (at most a second): a partner sent a
    /// little later reaches the server while the first is being handled.
    #[serde(default, deserialize_with = "in_range::<_, u64, 0, MAX_ALONGSIDE_DELAY_MS>")]
    #[schemars(range(max = MAX_ALONGSIDE_DELAY_MS))]
    pub delay_ms: u64,
}

impl Step {
    /// A step that sends `request` once, at once, and judges its answer by `expect` alone.
    pub fn of(request: RequestSpec, expect: Expect) -> Self {
        Step {
            name: None,
            request,
            mutation: None,
            expect,
            capture: BTreeMap::new(),
            register_as: None,
            concurrent: None,
            replay_previous: false,
            after_date_window: false,
            within_key_cache: false,
            after_key_cache: false,
            wait_ms: 0,
            snapshot: false,
            alongside: None,
        }
    }

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
    /// RFC 7662 introspection of `token` at the target's introspection endpoint, authenticated
    /// as a registered client the way `token` is.
    Introspect,
    /// A GET of the profile's protected resource (`paths.resource`) with `token` as the bearer
    /// (RFC 6750 §2.1): how a sender-constrained token is shown to work, or not, over a TLS
    /// identity.
    Resource,
    /// A TLS handshake's first flight alone, to the target's host and port: a ClientHello
    /// offering `tls_version` (and `cipher_suites`), judged by whether the server's ServerHello
    /// takes it (`expect: { handshake: accepted | refused }`).
    Handshake,
    /// Nothing is sent to the target: the harness's key store publishes the next key at the
    /// scenario's `{{rotating_jwks_uri}}` and retires the first (a client rotating its key,
    /// OpenID Connect Core §10.1.1).
    RotateKeys,
    /// Method and path as written.
    Raw,
}

impl Operation {
    /// The name scenarios write.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Register => "register",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::RefreshSecret => "refresh-secret",
            Operation::Token => "token",
            Operation::Introspect => "introspect",
            Operation::Resource => "resource",
            Operation::Handshake => "handshake",
            Operation::RotateKeys => "rotate-keys",
            Operation::Raw => "raw",
        }
    }

    /// Whether it calls RFC 7592's management of a registered client.
    pub fn manages(self) -> bool {
        matches!(self, Operation::Read | Operation::Update | Operation::Delete | Operation::RefreshSecret)
    }
}

/// Which of a session's two DPoP keys proves a request.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DpopKeyChoice {
    /// The key the session's tokens are bound to (`{{dpop_jkt}}`).
    Own,
    /// Another key: what a thief of the token would hold.
    Other,
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
    /// `token` only: the scope asked for (a template; default the profile's `token_scope`),
    /// or `none` to ask for none.
    #[serde(default)]
    pub scope: Option<String>,
    /// `token` only: how the client proves itself (default the method it registered).
    #[serde(default)]
    pub token_auth: Option<crate::protocol::TokenAuthMethod>,
    /// `handshake` only: the one protocol version the ClientHello offers.
    #[serde(default)]
    pub tls_version: Option<crate::tls_probe::TlsVersion>,
    /// `handshake` only: the cipher suites it offers, named as the TLS registry names them
    /// (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`); none: every common one of the version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cipher_suites: Vec<String>,
    /// `token` and `resource` only: send a DPoP proof (RFC 9449) made with the session's DPoP key
    /// (`own`) or with a second key of the session (`other`); at a resource, the token then goes
    /// as `Authorization: DPoP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop: Option<DpopKeyChoice>,
    /// `introspect` and `resource` only: the access token asked about or presented (a template,
    /// e.g. a token captured from a `token` step's answer).
    #[serde(default)]
    pub token: Option<String>,
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
            scope: None,
            token_auth: None,
            token: None,
            dpop: None,
            tls_version: None,
            cipher_suites: Vec::new(),
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
