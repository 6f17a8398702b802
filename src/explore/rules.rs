//! The rules the explorer's model judges by, as data: each with the clause it comes from and
//! the level its words give (MUST fails, SHOULD warns, a policy counts as the profile holds
//! it). A finding names one; the scenario written for it carries its clause and level. The
//! metadata rules are not here: they are the fixed suite's own metadata scenarios
//! (`explore::registry`), so that both judge a value alike.

use std::borrow::Cow;

use crate::protocol::Policy;
use crate::run::model::Check;
use crate::scenario::{Area, Severity};

/// One rule of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: Cow<'static, str>,
    pub title: Cow<'static, str>,
    pub area: Area,
    pub severity: Severity,
    pub policy: Option<Policy>,
    pub source: Cow<'static, str>,
}

const fn rule(id: &'static str, title: &'static str, area: Area, severity: Severity, source: &'static str) -> Rule {
    Rule {
        id: Cow::Borrowed(id),
        title: Cow::Borrowed(title),
        area,
        severity,
        policy: None,
        source: Cow::Borrowed(source),
    }
}

const fn policy_rule(id: &'static str, title: &'static str, area: Area, policy: Policy, source: &'static str) -> Rule {
    Rule {
        id: Cow::Borrowed(id),
        title: Cow::Borrowed(title),
        area,
        severity: Severity::Policy,
        policy: Some(policy),
        source: Cow::Borrowed(source),
    }
}

use Area::*;
use Severity::*;

pub const REGISTERED: Rule = rule(
    "registration-answered",
    "A valid registration is answered with the client it made",
    Metadata,
    Must,
    r#"RFC 7591 §3.2.1: the server answers 201 Created with the client information, in which "the authorization server MUST return all registered metadata about this client""#,
);
pub const EXTENSION_ACCEPTED_OR_REFUSED: Rule = rule(
    "registration-with-registry-metadata",
    "A registration with metadata from the IANA registry is taken, or refused with a metadata error",
    Metadata,
    Must,
    r#"RFC 7591 §2: "The authorization server MUST ignore any client metadata sent by the client that it does not understand"; §3.2.1: it "MAY reject or replace any of the client's requested metadata values", refusing with §3.2.2's invalid_client_metadata or invalid_redirect_uri"#,
);
pub const READ_RETURNS_REGISTRATION: Rule = rule(
    "read-returns-the-registration",
    "A read returns the client as it was last registered or updated",
    Lifecycle,
    Must,
    r#"RFC 7592 §2.1 answers a read with the client information response of §3, in which, as RFC 7591 §3.2.1 says, "the authorization server MUST return all registered metadata about this client""#,
);
pub const UPDATE_REPLACES: Rule = rule(
    "update-replaces",
    "An update replaces the client's metadata with the values sent",
    Lifecycle,
    Must,
    r#"RFC 7592 §2.2: "Valid values of client metadata fields in this request MUST replace, not augment, the values previously associated with this client""#,
);
pub const DELETE_ANSWERED: Rule = rule(
    "delete-answered-204",
    "A delete of one's own client is answered 204",
    Lifecycle,
    Must,
    r#"RFC 7592 §2.3: "If a client has been successfully deprovisioned, the authorization server MUST respond with an HTTP 204 No Content message""#,
);
pub const DELETED_IS_GONE: Rule = rule(
    "deleted-client-is-gone",
    "A deleted client is unknown to every later request",
    Lifecycle,
    Must,
    r#"RFC 7592 §2.3: "A successful delete action will invalidate the client_id, client_secret, and registration_access_token for this client"; §2.1: "If the client does not exist on this server, the server MUST respond with HTTP 401 Unauthorized" (the unknown-client-404 policy accepts 404)"#,
);
pub const DELETED_SECRET_REFUSED: Rule = rule(
    "deleted-secret-refused",
    "A deleted client's secret no longer authenticates",
    Lifecycle,
    Must,
    r#"RFC 7592 §2.3: "A successful delete action will invalidate the client_id, client_secret, and registration_access_token for this client", and the server "MUST respond with an HTTP 204 No Content message" only once the client "has been successfully deprovisioned""#,
);
pub const NEVER_ISSUED_UNKNOWN: Rule = rule(
    "never-issued-client-unknown",
    "A client id that was never issued gets the not-found answer",
    Lifecycle,
    Must,
    r#"RFC 7592 §2.1: "If the client does not exist on this server, the server MUST respond with HTTP 401 Unauthorized" (the unknown-client-404 policy accepts 404)"#,
);
pub const ISSUED_SECRET: Rule = rule(
    "issued-secret-has-expiry",
    "A registration that asks for client_secret_basic gets its secret with client_secret_expires_at",
    Metadata,
    Must,
    r#"RFC 7591 §3.2.1: client_secret_expires_at "REQUIRED if client_secret is issued"; §2: client_secret_basic denotes HTTP Basic "as specified in Section 2.3.1 of OAuth 2.0", whose credential is the client secret"#,
);
pub const UNKNOWN_CLIENT_404: Rule = policy_rule(
    "unknown-client-is-404",
    "A client id that was never issued is a 404",
    Lifecycle,
    crate::protocol::Policy::UnknownClient404,
    "SMBC's choice: an unknown client is RESOURCE_UNKNOWN, 404 (RFC 7592 §2.1: the server MUST respond with 401 where a registration access token is used)",
);
pub const UNKNOWN_FIELD_IGNORED: Rule = rule(
    "unknown-field-ignored",
    "A registration with a field no registry defines is taken, the field ignored",
    Metadata,
    Must,
    r#"RFC 7591 §2: "The authorization server MUST ignore any client metadata sent by the client that it does not understand""#,
);
pub const TOKEN_WITH_SECRET: Rule = rule(
    "current-secret-authenticates",
    "A registered client's current secret gets a token by the client-credentials grant",
    Lifecycle,
    Must,
    r#"RFC 6749 §2.3.1: "The authorization server MUST support the HTTP Basic authentication scheme for authenticating clients that were issued a client password"; §4.4.3: a valid client-credentials request is answered with an access token"#,
);
pub const REFRESH_ISSUES_SECRET: Rule = policy_rule(
    "refresh-issues-a-new-secret",
    "A secret refresh issues a new secret with its expiry",
    Lifecycle,
    crate::protocol::Policy::SecretRefresh,
    r#"the bank's operation: SMBC's service "enables the TPP to manage the lifecycle of the client application including obtaining the client credentials, refreshing the client secret"; RFC 7591 §3.2.1: "client_secret_expires_at REQUIRED if client_secret is issued""#,
);
pub const REFRESHED_SECRET_RETIRED: Rule = policy_rule(
    "refreshed-secret-retired",
    "After a refresh the old secret no longer authenticates",
    Lifecycle,
    crate::protocol::Policy::SecretRefresh,
    r#"the bank's operation: SMBC's service "enables the TPP to manage the lifecycle of the client application including obtaining the client credentials, refreshing the client secret""#,
);
pub const OTHER_TPP_REFUSED: Rule = rule(
    "other-tpp-refused",
    "Another TPP can neither read nor change a client, and nothing changes",
    ManagementAuthz,
    Must,
    r#"RFC 7592 §2.1: "If the client does not have permission to read its record, the server MUST return an HTTP 403 Forbidden"; a 401 or 404 that reveals nothing refuses too, and the refused request changes nothing"#,
);
pub const NO_EXISTENCE_LEAK: Rule = rule(
    "no-existence-leak",
    "Another TPP's client answers as an unknown one does",
    ManagementAuthz,
    Should,
    "RFC 7592 §2.1 (no information about clients of others): another TPP's client answers as one that does not exist",
);
pub const WRONG_TOKEN_REFUSED: Rule = rule(
    "wrong-registration-token-refused",
    "A request with a wrong, missing or another client's registration access token is refused",
    ManagementAuthz,
    Must,
    r#"RFC 7592 §2.1: "If the registration access token used to make this request is not valid, the server MUST respond with an error as described in the OAuth Bearer Token Usage specification"; RFC 6750 §3: "the resource server MUST include the HTTP WWW-Authenticate response header field""#,
);
pub const REFUSED_UPDATE_CHANGES_NOTHING: Rule = rule(
    "refused-update-changes-nothing",
    "A refused update leaves the client as it was",
    Lifecycle,
    Must,
    r#"RFC 7592 §2.2: the values of an update "MUST replace, not augment, the values previously associated with this client" when it is taken; one refused (RFC 7591 §3.2.2's error response) leaves the client as it was"#,
);
pub const ANOTHER_CLIENTS_TOKEN: Rule = policy_rule(
    "another-clients-token-refused",
    "A client's access token does not manage another client, nor does a wrong one",
    ManagementAuthz,
    crate::protocol::Policy::ClientTokenManagement,
    "Open Banking UK DCR v3.2, GET/PUT/DELETE /register/{ClientId}: the access token must have been issued to that ClientId (RFC 6749 §7: the resource server MUST validate the access token)",
);
pub const RACE_LEAVES_SERIAL_STATE: Rule = rule(
    "race-leaves-a-serial-state",
    "Racing operations on one client leave a state some serial order gives",
    Concurrency,
    Must,
    r#"RFC 7592 §2.3: "A successful delete action will invalidate the client_id, client_secret, and registration_access_token for this client"; §2.2: an update's values "MUST replace, not augment" the client's: whatever the order, the result is one a serial order gives"#,
);
pub const RACING_UPDATES: Rule = rule(
    "racing-updates-leave-one",
    "Two concurrent updates leave one of the two states",
    Concurrency,
    Must,
    r#"RFC 7592 §2.2: "Valid values of client metadata fields in this request MUST replace, not augment, the values previously associated with this client"; a loser of the race may be refused with 409 (RFC 9110 §15.5.10)"#,
);
pub const NO_STORE: Rule = policy_rule(
    "no-store",
    "Answers carrying secrets are not cached",
    Metadata,
    crate::protocol::Policy::NoStore,
    r#"RFC 6749 §5.1 (for answers with credentials): "The authorization server MUST include the HTTP "Cache-Control" response header field with a value of "no-store""#,
);

/// The rules a step's checks are judged by: its answer's status, its JSON, its headers, the
/// `unchanged` read after it.
#[derive(Debug, Clone)]
pub struct StepRules {
    pub main: Rule,
    pub json: Option<Rule>,
    pub header: Option<Rule>,
    pub unchanged: Option<Rule>,
    /// Rules of particular JSON paths, before `json`.
    pub paths: Vec<(String, Rule)>,
}

impl StepRules {
    pub fn of(main: Rule) -> Self {
        StepRules { main, json: None, header: None, unchanged: None, paths: vec![] }
    }

    /// The rule a failed check breaks.
    pub fn rule_for(&self, check: &Check) -> &Rule {
        if let Check::Json(path) = check {
            if let Some((_, rule)) = self.paths.iter().find(|(p, _)| p == path) {
                return rule;
            }
        }
        let chosen = match check {
            Check::Json(_) | Check::ErrorCode | Check::RefusedOrSubstituted(_) => self.json.as_ref(),
            Check::Header(_) => self.header.as_ref(),
            Check::Unchanged(_) => self.unchanged.as_ref(),
            _ => None,
        };
        chosen.unwrap_or(&self.main)
    }
}

/// Every rule, for the summary's order and the documentation.
pub const ALL: &[Rule] = &[
    REGISTERED,
    EXTENSION_ACCEPTED_OR_REFUSED,
    READ_RETURNS_REGISTRATION,
    UPDATE_REPLACES,
    DELETE_ANSWERED,
    DELETED_IS_GONE,
    DELETED_SECRET_REFUSED,
    NEVER_ISSUED_UNKNOWN,
    ISSUED_SECRET,
    UNKNOWN_CLIENT_404,
    UNKNOWN_FIELD_IGNORED,
    TOKEN_WITH_SECRET,
    REFRESH_ISSUES_SECRET,
    REFRESHED_SECRET_RETIRED,
    OTHER_TPP_REFUSED,
    NO_EXISTENCE_LEAK,
    WRONG_TOKEN_REFUSED,
    ANOTHER_CLIENTS_TOKEN,
    REFUSED_UPDATE_CHANGES_NOTHING,
    RACE_LEAVES_SERIAL_STATE,
    RACING_UPDATES,
    NO_STORE,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_must_quotes_an_obligation_and_ids_are_unique() {
        let mut ids = std::collections::BTreeSet::new();
        for r in ALL {
            assert!(ids.insert(r.id.clone()), "{} twice", r.id);
            if r.severity == Severity::Must {
                assert!(crate::scenario::quoted_obligation(&r.source).is_some(), "{}: {}", r.id, r.source);
            }
            assert_eq!(r.severity == Severity::Policy, r.policy.is_some(), "{}", r.id);
        }
    }
}
