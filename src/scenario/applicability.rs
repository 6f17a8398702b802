//! Whether a scenario applies to a target profile, and why not: a tag the profile excludes, a
//! policy it does not hold, a mutation with no form in its signature dialect, or a capability
//! the target lacks (RFC 7592 management, the secret refresh, the token endpoint, DCR-service
//! credentials where the profile sends none). It judges scenarios against a profile; it must
//! not run anything.

use super::profile::{
    CredentialKind, Management, Profile, DCR_MANAGEMENT_TAG, RFC7592_TAG, SECRET_REFRESH_TAG, TOKEN_ENDPOINT_TAG,
    UNSIGNED_READS_TAG,
};

impl Profile {
    /// Whether a scenario with `tags` applies: none of its tags is excluded, and the target has
    /// every endpoint it needs.
    pub fn applies_to(&self, tags: &[String]) -> bool {
        tags.iter().all(|t| self.tag_excludes(t).is_none())
    }

    /// Why a scenario's tag keeps it from applying, if it does.
    fn tag_excludes(&self, tag: &str) -> Option<String> {
        if self.exclude_tags.iter().any(|t| t == tag) {
            return Some(format!("tag `{tag}` is in the profile's exclude_tags"));
        }
        if tag == SECRET_REFRESH_TAG && self.paths.secret.is_none() {
            return Some("it needs the secret refresh, and the profile sets no `paths.secret`".into());
        }
        if tag == RFC7592_TAG && self.management == Management::None {
            return Some("it is RFC 7592 management, and the profile has `management: none` (RFC 7591 alone)".into());
        }
        if tag == TOKEN_ENDPOINT_TAG && !self.token_endpoint {
            return Some(
                "it needs the client-credentials grant at the token endpoint, which the profile says the target does not offer (`token_endpoint: false`)"
                    .into(),
            );
        }
        if tag == DCR_MANAGEMENT_TAG && self.management != Management::Dcr {
            return Some(
                "it races a delete with an update, judged only where DCR credentials manage clients (an update may rotate the registration access token the delete carries)"
                    .into(),
            );
        }
        if tag == UNSIGNED_READS_TAG && self.signature.dialect.sign_reads {
            return Some("it sends unsigned reads, and the profile's dialect signs reads".into());
        }
        None
    }

    /// Whether `scenario` applies: see [`Profile::inapplicable`].
    pub fn applies(&self, scenario: &super::Scenario) -> bool {
        self.inapplicable(scenario).is_none()
    }

    /// Why `scenario` does not apply to this target, if it does not: a tag the profile
    /// excludes, a policy it does not hold, a mutation with no form in its signature dialect, or
    /// a capability the target lacks (an operation it does not offer: RFC 7592 management, the
    /// secret refresh, the token endpoint; DCR-service credentials a step changes where the
    /// profile sends none, so that the step would test nothing).
    pub fn inapplicable(&self, scenario: &super::Scenario) -> Option<String> {
        if let Some(why) = scenario.tags.iter().find_map(|t| self.tag_excludes(t)) {
            return Some(why);
        }
        if let Some(policy) = scenario.policy.as_ref().filter(|p| !p.known().is_some_and(|p| self.holds(p))) {
            return Some(format!("the profile does not hold policy `{policy}`"));
        }
        let dialect = &self.signature.dialect;
        if let Some(m) = scenario.mutations().find(|m| m.bends_http_signature() && !m.applies_to(dialect)) {
            return Some(format!("mutation `{m}` has no form in the profile's signature dialect"));
        }
        scenario.steps.iter().find_map(|step| self.lacks_for(&step.request, step.expect.unchanged.is_some()))
    }

    /// What a step needs that the target does not offer.
    fn lacks_for(&self, r: &super::RequestSpec, reads_back: bool) -> Option<String> {
        use super::Operation::*;
        let managed = r.op.manages() || reads_back;
        if managed && self.management == Management::None {
            return Some(
                "it reads, updates or deletes a client, and the profile has `management: none` (RFC 7591 alone)".into(),
            );
        }
        if r.op == RefreshSecret && self.paths.secret.is_none() {
            return Some("it refreshes a secret, and the profile sets no `paths.secret`".into());
        }
        if r.op == Token && !self.token_endpoint {
            return Some(
                "it asks for a token by the client-credentials grant, which the profile says the target does not offer (`token_endpoint: false`)".into(),
            );
        }
        if r.op == Resource && self.paths.resource.is_none() {
            return Some(
                "it presents an access token at a protected resource, and the profile sets no `paths.resource`".into(),
            );
        }
        if r.op == Introspect && self.paths.introspection.is_none() && !self.discover {
            return Some(
                "it introspects a token, and the profile neither sets `paths.introspection` nor discovers the endpoint"
                    .into(),
            );
        }
        let dcr_credentials_sent = match r.op {
            Register => self.credentials.kind != CredentialKind::None,
            Read | Update | Delete | RefreshSecret => self.management == Management::Dcr,
            Token | Introspect | Resource | Handshake | RotateKeys | Raw => r.op == Raw,
        };
        if r.credentials.is_some() && !dcr_credentials_sent {
            return Some(format!(
                "it changes the DCR-service credentials of a {:?}, where the profile sends none (credentials `{:?}`, management `{:?}`)",
                r.op, self.credentials.kind, self.management
            )
            .to_lowercase());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    /// A scenario applies only where the target offers what it needs; each refusal says why.
    #[test]
    fn what_a_profile_lacks_keeps_a_scenario_out_with_the_reason() {
        let with_steps = |tags: &str, steps: &str| -> Scenario {
            serde_norway::from_str(&format!(
                "{{ id: s, title: t, area: auth, severity: MUST, tags: [{tags}], source: x, steps: [{steps}] }}"
            ))
            .expect("scenario")
        };
        let profile = |yaml: &str| -> Profile { serde_norway::from_str(&format!("name: p\n{yaml}")).expect("profile") };
        let rfc7591_only = profile("management: none\ntoken_endpoint: false\ncredentials: { kind: none }");
        let rat = profile(
            "management: registration-token\ncredentials: { kind: initial-access-token, initial_access_token: x }",
        );
        let smbc = profile("paths: { secret: \"/s/{client_id}\" }");
        let register = "{ request: { op: register } }";
        let cases: &[(&Profile, Scenario, Option<&str>)] = &[
            (&rfc7591_only, with_steps("rfc7591", register), None),
            (&rfc7591_only, with_steps("", "{ request: { op: read } }"), Some("management: none")),
            (
                &rfc7591_only,
                with_steps("", "{ request: { op: register }, expect: { unchanged: client } }"),
                Some("management: none"),
            ),
            (
                &rfc7591_only,
                with_steps("rfc7592", "{ request: { op: raw, method: GET, path: /x } }"),
                Some("RFC 7592 management"),
            ),
            (&rfc7591_only, with_steps("", "{ request: { op: token } }"), Some("token_endpoint: false")),
            (&rfc7591_only, with_steps("token-endpoint", register), Some("token_endpoint: false")),
            (
                &rfc7591_only,
                with_steps("", "{ request: { op: register, credentials: none } }"),
                Some("where the profile sends none"),
            ),
            (&rat, with_steps("", "{ request: { op: register, credentials: none } }"), None),
            (
                &rat,
                with_steps("", "{ request: { op: read, credentials: none } }"),
                Some("where the profile sends none"),
            ),
            (&rat, with_steps("", "{ request: { op: refresh-secret } }"), Some("no `paths.secret`")),
            (&smbc, with_steps("", "{ request: { op: read, credentials: none } }"), None),
            (&smbc, with_steps("", "{ request: { op: refresh-secret } }"), None),
        ];
        for (profile, scenario, why) in cases {
            let got = profile.inapplicable(scenario);
            match why {
                None => assert_eq!(got, None, "{:?}", scenario.steps.first().map(|s| &s.request.op)),
                Some(why) => assert!(got.as_deref().is_some_and(|g| g.contains(why)), "{got:?}, expected {why}"),
            }
        }
    }
}
