//! Target profiles: where a target differs. Base URL (or the embedded server), operation paths,
//! how DCR-service credentials travel, whether and how requests are signed, how clients are
//! managed (DCR credentials, or RFC 7592 registration access tokens), which statuses count for
//! each kind of rejection, which scenarios apply, and which certificates to use and trust.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::protocol::{CertCheck, Policy, ServerProfile, CLIENT_ID_HEADER, CLIENT_SECRET_HEADER};
use crate::signature::Dialect;

use super::Who;

#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The target; absent means the embedded reference server.
    #[serde(default)]
    pub base_url: Option<String>,
    /// How to start the embedded server when there is no `base_url`.
    #[serde(default)]
    pub embedded: EmbeddedServer,
    #[serde(default)]
    pub paths: Paths,
    /// Find the registration endpoint in `/.well-known/oauth-authorization-server` (or
    /// `/.well-known/openid-configuration`) instead of `paths.register`.
    #[serde(default)]
    pub discover: bool,
    #[serde(default)]
    pub management: Management,
    #[serde(default)]
    pub credentials: Credentials,
    #[serde(default)]
    pub signature: SignatureSettings,
    #[serde(default)]
    pub identities: Identities,
    /// The PKI directory (default: `--pki`).
    #[serde(default)]
    pub pki: Option<PathBuf>,
    /// CA certificates (PEM) to trust for the target's server certificate; default the test PKI.
    #[serde(default)]
    pub server_ca: Vec<PathBuf>,
    /// What the harness accepts from this target: the most of a response body it reads, and
    /// how long one request may take.
    #[serde(default)]
    pub limits: Limits,
    /// Which statuses count for each kind of rejection a scenario may expect.
    #[serde(default = "default_rejections")]
    pub rejections: BTreeMap<String, Rejection>,
    /// The policies this target holds, each at MUST or SHOULD (see `protocol::Policy`); scenarios of
    /// other policies do not apply.
    #[serde(default, deserialize_with = "known_policies")]
    #[schemars(schema_with = "policies_schema")]
    pub policies: BTreeMap<Policy, PolicyLevel>,
    /// Scenarios with any of these tags do not apply to this target.
    #[serde(default)]
    pub exclude_tags: Vec<String>,
    /// Extra template variables.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Fields every registration body gets where it lacks them (templates), as an ecosystem
    /// requires of each registration: `software_statement: "{{directory.ssa}}"`; every update
    /// body too where the profile sends request objects. A scenario's body that sets one to
    /// `null` is sent without it.
    #[serde(default)]
    pub registration_fields: serde_json::Map<String, serde_json::Value>,
    /// The scope a client-credentials token request asks for (`cdr:registration` for a CDR data
    /// holder, whose management tokens must carry it); absent, it asks for none.
    #[serde(default)]
    pub token_scope: Option<String>,
    /// Registration and update bodies go as signed request objects (`application/jose`), as
    /// Open Banking UK requires; absent, they go as JSON.
    #[serde(default)]
    pub request_object: Option<RequestObjectSettings>,
    /// The `aud` of a `private_key_jwt` client assertion: the token endpoint's URL (RFC 7523
    /// §3, OpenID Connect Core §9), or the issuer alone (FAPI 2.0 requires it).
    #[serde(default)]
    pub client_assertion_audience: AssertionAudience,
    /// Seconds the target may keep a client's key set from its `jwks_uri` before it reads it
    /// again (0 to 3,600; default 300): a key rotated there must be taken within it, and the
    /// retired one refused after it (the `jwks-rotation` policy).
    #[serde(default = "five_minutes", deserialize_with = "super::in_range::<_, u64, 0, 3_600>")]
    #[schemars(range(max = 3_600))]
    pub jwks_cache_s: u64,
    /// Client secrets can be checked at the token endpoint (client-credentials grant); without
    /// it, scenarios that ask for a token do not apply.
    #[serde(default = "yes")]
    pub token_endpoint: bool,
    /// How answers are normalised into snapshots for this target.
    #[serde(default)]
    pub snapshot: SnapshotRules,
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

fn yes() -> bool {
    true
}

fn five_minutes() -> u64 {
    300
}

/// What a client assertion names as its audience.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssertionAudience {
    /// The token endpoint's URL.
    #[default]
    TokenEndpoint,
    /// The issuer identifier (`{{issuer}}`).
    Issuer,
}

/// How a registration request is signed as a request object.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RequestObjectSettings {
    /// The media type the signed body is sent as (`application/jose`; some banks say
    /// `application/jwt`).
    pub content_type: String,
    /// `aud` (a template): the server's issuer (default `{{issuer}}`: the one its metadata
    /// document names, else its base URL).
    pub audience: String,
    /// `iss` (a template); absent, the `software_id` of the statement the body carries.
    pub issuer: Option<String>,
    /// Seconds from `iat` to `exp`, 1 to 3600.
    #[serde(deserialize_with = "super::in_range::<_, u32, 1, 3600>")]
    #[schemars(range(min = 1, max = 3600))]
    pub lifetime_s: u32,
}

impl Default for RequestObjectSettings {
    fn default() -> Self {
        RequestObjectSettings {
            content_type: "application/jose".into(),
            audience: "{{issuer}}".into(),
            issuer: None,
            lifetime_s: 300,
        }
    }
}

/// Snapshot normalisation for a target: which headers to keep, and which JSON fields change on
/// every run (their values become `[field]`), besides the built-in ids, secrets, tokens and
/// timestamps.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnapshotRules {
    pub headers: Vec<String>,
    pub volatile: Vec<String>,
}

impl Default for SnapshotRules {
    fn default() -> Self {
        SnapshotRules {
            headers: ["cache-control", "content-type", "pragma", "www-authenticate"].map(String::from).to_vec(),
            volatile: Vec::new(),
        }
    }
}

#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedServer {
    #[serde(default)]
    pub profile: ServerProfile,
    #[serde(default)]
    pub cert_check: CertCheck,
}

#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Paths {
    pub register: String,
    /// `{client_id}` is replaced.
    pub client: String,
    /// The secret refresh (SMBC's, not in RFC 7592; `{client_id}` is replaced). Without it the
    /// target has none, and scenarios tagged `secret-refresh` do not apply.
    pub secret: Option<String>,
    pub token: String,
    /// The RFC 7662 introspection endpoint (discovery's `introspection_endpoint` where the
    /// profile discovers).
    #[serde(default)]
    pub introspection: Option<String>,
    /// A protected resource that takes a client's access token as a bearer (GET): where the
    /// target has one, scenarios show a sender-constrained token refused over another
    /// certificate (RFC 8705 §3). Without it, those scenarios do not apply.
    #[serde(default)]
    pub resource: Option<String>,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            register: "/client/v1/register".into(),
            client: "/client/v1/register/{client_id}".into(),
            secret: None,
            token: "/oauth/token".into(),
            introspection: None,
            resource: None,
        }
    }
}

/// The tag of scenarios about RFC 7592 management (which a profile without it cannot run).
pub const RFC7592_TAG: &str = "rfc7592";
/// The tag of scenarios that need the token endpoint (the client-credentials grant).
pub const TOKEN_ENDPOINT_TAG: &str = "token-endpoint";

/// The tag of scenarios that race a delete with an update, which only management by DCR
/// credentials can judge: an update may rotate the registration access token a racing delete
/// carries (RFC 7592 §2.2), and the delete is then rightly refused.
pub const DCR_MANAGEMENT_TAG: &str = "dcr-management";
/// The tag of scenarios that need the secret-refresh endpoint.
pub const SECRET_REFRESH_TAG: &str = "secret-refresh";

/// Scenarios that send a GET unsigned and expect an answer carry this tag; a profile whose
/// dialect signs reads (the Berlin Group's) runs none of them.
pub const UNSIGNED_READS_TAG: &str = "unsigned-reads";

/// The tag of scenarios that need a certificate only the test QTSP can issue (expired, wrong
/// role, untrusted twins of the profile's own).
pub const TEST_PKI_ONLY_TAG: &str = "test-pki-only";

#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Management {
    /// Management calls carry the TPP's QWAC, DCR credentials and signature (SMBC).
    #[default]
    Dcr,
    /// RFC 7592: `registration_client_uri` with `Authorization: Bearer <registration_access_token>`.
    RegistrationToken,
    /// Open Banking UK: the client's own access token from the token endpoint
    /// (client-credentials grant), on the profile's client path.
    ClientToken,
    /// None: RFC 7591 registration alone (no RFC 7592). Nothing can read, update or delete a
    /// client: scenarios that do not apply, and clients the run cannot delete (named).
    None,
}

#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Credentials {
    pub kind: CredentialKind,
    pub client_id_header: String,
    pub client_secret_header: String,
    /// For `bearer`: where to get the DCR-service token (client-credentials grant).
    pub token_path: String,
    /// Per TPP name, credentials that override the PKI manifest's (templates; `{{env.X}}`).
    pub overrides: BTreeMap<String, CredentialOverride>,
    /// For `initial-access-token`: the RFC 7591 §3 initial access token registrations carry
    /// (a template; `{{env.X}}`).
    pub initial_access_token: Option<String>,
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            kind: CredentialKind::ApiKey,
            client_id_header: CLIENT_ID_HEADER.into(),
            client_secret_header: CLIENT_SECRET_HEADER.into(),
            token_path: "/oauth/token".into(),
            overrides: BTreeMap::new(),
            initial_access_token: None,
        }
    }
}

#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialOverride {
    pub client_id: String,
    pub client_secret: String,
}

#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    #[default]
    ApiKey,
    Basic,
    Bearer,
    /// RFC 7591 §3: registrations carry `Authorization: Bearer <initial access token>`.
    InitialAccessToken,
    None,
}

#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignatureSettings {
    pub enabled: bool,
    pub dialect: Dialect,
    /// The largest distance between a signed Date and the server's clock that the target
    /// accepts, in seconds. The texts leave it to the bank (Berlin Group and SMBC name none);
    /// replay scenarios sign just inside it (`date_offset: -window+1`). At most a day.
    #[serde(deserialize_with = "super::in_range::<_, u64, 1, 86_400>")]
    #[schemars(range(min = 1, max = 86_400))]
    pub date_window_s: u64,
}

impl Default for SignatureSettings {
    fn default() -> Self {
        SignatureSettings { enabled: true, dialect: Dialect::default(), date_window_s: 300 }
    }
}

#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Identities {
    /// The TPP whose DCR-service credentials requests carry.
    pub tpp: String,
    /// Its QWAC, or `none` (no client certificate).
    pub tls: Who,
    /// Its QSEAL, or `none`.
    pub sign: Who,
    pub other_tpp: String,
    pub other_tls: Who,
    pub other_sign: Who,
}

impl Identities {
    /// The same identities with the main and the other TPP exchanged: a shard that speaks as the
    /// other TPP keeps a third party for its cross-TPP requests.
    pub fn exchanged(&self) -> Identities {
        Identities {
            tpp: self.other_tpp.clone(),
            tls: self.other_tls.clone(),
            sign: self.other_sign.clone(),
            other_tpp: self.tpp.clone(),
            other_tls: self.tls.clone(),
            other_sign: self.sign.clone(),
        }
    }

    /// The TPP and its identities, in words: `tpp-a (QWAC qwac, QSEAL qseal)`; a profile that
    /// signs nothing has no QSEAL in use (`QSEAL none`).
    pub fn describe(&self, signs: bool) -> String {
        let name = |who: &Who| who.name().unwrap_or("none").to_string();
        let seal = if signs { name(&self.sign) } else { "none".into() };
        format!("{} (QWAC {}, QSEAL {seal})", self.tpp, name(&self.tls))
    }
}

impl Default for Identities {
    fn default() -> Self {
        let named = |name: &str| Who::Named(name.into());
        Identities {
            tpp: "tpp-a".into(),
            tls: named("qwac"),
            sign: named("qseal"),
            other_tpp: "tpp-b".into(),
            other_tls: named("qwac-b"),
            other_sign: named("qseal-b"),
        }
    }
}

#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub status: Vec<u16>,
    /// A refused TLS handshake also counts.
    #[serde(default)]
    pub handshake: bool,
}

fn rejection(status: &[u16], handshake: bool) -> Rejection {
    Rejection { status: status.to_vec(), handshake }
}

/// The rejection kinds and the statuses a strict server may use for them.
pub fn default_rejections() -> BTreeMap<String, Rejection> {
    [
        ("certificate", rejection(&[400, 401, 403], true)),
        ("credentials", rejection(&[401, 403], false)),
        ("signature", rejection(&[400, 401], false)),
        ("metadata", rejection(&[400], false)),
        ("content-type", rejection(&[400, 415], false)),
        // RFC 7592 §2.1-2.3: 401 where a registration access token manages clients; 404 is a
        // bank's choice (the `unknown-client-404` policy checks it exactly).
        ("not-found", rejection(&[401, 404], false)),
        ("forbidden", rejection(&[401, 403, 404], false)),
        ("too-large", rejection(&[413], false)),
        ("token", rejection(&[400, 401], false)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The level at which a profile holds a policy.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyLevel {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
}

/// Why a profile could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The file's text was refused before it was parsed.
    #[error(transparent)]
    Text(#[from] crate::diagnostic::YamlTextError),
    #[error("{0}")]
    Yaml(String),
    #[error("unknown profile {why}")]
    Unknown { why: String },
}

/// The `policies:` map's schema: each policy a key an editor can complete, and no other.
fn policies_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let level = generator.subschema_for::<PolicyLevel>();
    let properties: serde_json::Map<String, serde_json::Value> =
        Policy::ALL.iter().map(|p| (p.name().to_string(), level.clone().to_value())).collect();
    schemars::json_schema!({ "type": "object", "properties": properties, "additionalProperties": false })
}

/// The `policies:` map, every name one of `Policy::ALL` (a misspelt policy would silently hold
/// nothing).
fn known_policies<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<Policy, PolicyLevel>, D::Error> {
    let policies = BTreeMap::<String, PolicyLevel>::deserialize(d)?;
    let known = || Policy::ALL.iter().map(|p| p.name());
    policies
        .into_iter()
        .map(|(name, level)| match name.parse::<Policy>() {
            Ok(policy) => Ok((policy, level)),
            Err(_) => Err(serde::de::Error::custom(format!(
                "unknown policy `{name}`{}; known: {}",
                super::did_you_mean(&name, known()),
                known().collect::<Vec<_>>().join(", ")
            ))),
        })
        .collect()
}

/// What the harness accepts from a target, each bounded.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The most of a response body read, in KiB (1 to 65,536; default 1,024). The rest is
    /// dropped and the step says the body was cut.
    #[serde(deserialize_with = "super::in_range::<_, usize, 1, 65_536>")]
    #[schemars(range(min = 1, max = 65_536))]
    pub response_body_kib: usize,
    /// Seconds one request may take, answer included (1 to 600; default 15).
    #[serde(deserialize_with = "super::in_range::<_, u64, 1, 600>")]
    #[schemars(range(min = 1, max = 600))]
    pub request_timeout_s: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { response_body_kib: 1024, request_timeout_s: 15 }
    }
}

/// ``name`: not a file, and not one of a, b; did you mean `a`?`: what an unknown name is told.
pub fn not_one_of(name: &str, known: &[String]) -> String {
    format!(
        "`{name}`: not a file, and not one of {}{}",
        known.join(", "),
        crate::scenario::did_you_mean(name, known.iter().map(String::as_str))
    )
}

/// A file named `name` (by path, or `NAME.yaml` in the first directory that has it), or the
/// names the directories offer.
pub fn find_named(name: &str, dirs: &[PathBuf]) -> Result<PathBuf, Vec<String>> {
    let as_path = Path::new(name);
    if as_path.extension().is_some() || as_path.components().count() > 1 {
        return Ok(as_path.to_path_buf());
    }
    if let Some(found) = dirs.iter().map(|d| d.join(format!("{name}.yaml"))).find(|p| p.exists()) {
        return Ok(found);
    }
    let mut known: Vec<String> = dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(str::to_string))
        .filter(|n| !n.starts_with('.'))
        .collect();
    known.sort();
    known.dedup();
    Err(known)
}

impl Profile {
    /// Loads a profile by path, or by name from the first of `dirs` that has it.
    pub fn load(name_or_path: &str, dirs: &[PathBuf]) -> Result<Profile, ProfileError> {
        let path = find_named(name_or_path, dirs)
            .map_err(|known| ProfileError::Unknown { why: not_one_of(name_or_path, &known) })?;
        let text = crate::diagnostic::read_yaml_text(&path)?;
        let mut profile: Profile = serde_norway::from_str(&text)
            .map_err(|e| ProfileError::Yaml(crate::diagnostic::located(&path, &text, &e)))?;
        profile.file = Some(path);
        Ok(profile)
    }

    pub fn rejection(&self, kind: &str) -> Option<&Rejection> {
        self.rejections.get(kind)
    }

    /// The level a scenario counts at against this target: a policy's is the profile's.
    pub fn severity_of(&self, scenario: &super::Scenario) -> super::Severity {
        match (scenario.severity, scenario.policy.as_ref().and_then(|p| self.policies.get(&p.known()?))) {
            (super::Severity::Policy, Some(PolicyLevel::Should)) => super::Severity::Should,
            (super::Severity::Policy, _) => super::Severity::Must,
            (other, _) => other,
        }
    }

    /// Whether the profile holds `policy` (at any level).
    pub fn holds(&self, policy: Policy) -> bool {
        self.policies.contains_key(&policy)
    }

    /// The template of the software statement its registrations carry
    /// (`registration_fields.software_statement`: `{{directory.ssa}}`), if they carry one.
    pub fn statement_template(&self) -> Option<&str> {
        self.registration_fields.get("software_statement")?.as_str()
    }

    /// The variable that template names (`directory.ssa`), if it names one.
    pub fn statement_variable(&self) -> Option<String> {
        super::template::names(self.statement_template()?).into_iter().next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Scenario, Severity};

    fn scenario(severity: &str, policy: Option<&str>, tags: &str) -> Scenario {
        let policy = policy.map(|p| format!(", policy: {p}")).unwrap_or_default();
        serde_norway::from_str(&format!(
            "{{ id: s, title: t, area: auth, severity: {severity}{policy}, tags: [{tags}], source: x, steps: [] }}"
        ))
        .expect("scenario")
    }

    #[test]
    fn a_policy_applies_only_where_held_and_counts_at_the_profiles_level() {
        let profile: Profile =
            serde_norway::from_str("name: p\npolicies: { https-redirect-uris: SHOULD, unknown-client-404: MUST }")
                .expect("profile");
        let cases = [
            (scenario("policy", Some("https-redirect-uris"), ""), true, Severity::Should),
            (scenario("policy", Some("unknown-client-404"), ""), true, Severity::Must),
            (scenario("policy", Some("berlin-group-codes"), ""), false, Severity::Must),
            (scenario("MUST", None, ""), true, Severity::Must),
            (scenario("info", None, ""), true, Severity::Info),
            (scenario("MUST", None, "secret-refresh"), false, Severity::Must),
        ];
        for (s, applies, severity) in cases {
            assert_eq!(profile.applies(&s), applies, "{:?} {:?} {:?}", s.severity, s.policy, s.tags);
            if applies {
                assert_eq!(profile.severity_of(&s), severity, "{:?}", s.policy);
            }
        }
    }
}
