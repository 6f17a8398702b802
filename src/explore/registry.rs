//! The metadata the explorer draws from: valid values of fields of the IANA "OAuth Dynamic
//! Client Registration Metadata" registry and the profiles' extensions (OpenID Connect
//! Registration, RFC 8705, FAPI), as a table; and the invalid forms, which are not a second
//! table but the fixed suite's own metadata scenarios (a one-step registration refused as
//! `metadata`), so that the explorer and the suite judge a value alike, at the level and with
//! the clause that scenario quotes. It must not send anything.

use serde_json::{Map, Value};

use super::rules::Rule;
use crate::scenario::{Expect, Operation, Scenario, Severity};

/// A field of the registry with a valid value, and the document that registers it.
pub struct Extension {
    pub field: &'static str,
    /// The value, as JSON.
    pub value: &'static str,
    pub registered_by: &'static str,
}

/// Valid values of registry fields that leave the client's way of authenticating alone (no
/// grant, response type, authentication method or key): a server may take them, or refuse them
/// (RFC 7591 §3.2.1), and must ignore those it does not understand (§2). Not here:
/// `tls_client_certificate_bound_access_tokens`, which asks for tokens bound to a certificate,
/// and a token request without one may then be refused (RFC 8705 §3 leaves it to the server).
pub const EXTENSIONS: &[Extension] = &[
    Extension { field: "client_uri", value: r#""https://tpp.example/about""#, registered_by: "RFC 7591" },
    Extension { field: "logo_uri", value: r#""https://tpp.example/logo.png""#, registered_by: "RFC 7591" },
    Extension { field: "tos_uri", value: r#""https://tpp.example/tos""#, registered_by: "RFC 7591" },
    Extension { field: "policy_uri", value: r#""https://tpp.example/policy""#, registered_by: "RFC 7591" },
    Extension { field: "contacts", value: r#"["ops@tpp.example", "security@tpp.example"]"#, registered_by: "RFC 7591" },
    Extension { field: "scope", value: r#""accounts payments""#, registered_by: "RFC 7591" },
    Extension { field: "software_id", value: r#""4NRB1-0XZABZI9E6-5SM3R""#, registered_by: "RFC 7591" },
    Extension { field: "software_version", value: r#""2.1.0""#, registered_by: "RFC 7591" },
    Extension { field: "application_type", value: r#""web""#, registered_by: "OpenID Connect Registration" },
    Extension { field: "default_max_age", value: "3600", registered_by: "OpenID Connect Registration" },
    Extension { field: "require_auth_time", value: "true", registered_by: "OpenID Connect Registration" },
    Extension {
        field: "id_token_signed_response_alg",
        value: r#""PS256""#,
        registered_by: "OpenID Connect Registration",
    },
    Extension {
        field: "post_logout_redirect_uris",
        value: r#"["https://tpp.example/logged-out"]"#,
        registered_by: "OpenID Connect RP-Initiated Logout",
    },
    Extension { field: "authorization_signed_response_alg", value: r#""PS256""#, registered_by: "JARM (FAPI)" },
];

/// A field no registry defines, which a server must ignore (RFC 7591 §2), with a value of a
/// shape no registered field has.
pub const UNKNOWN_FIELD: (&str, &str) = ("x_dcr_harness_vendor_field", r#"{"nested": [1, 2]}"#);

impl Extension {
    pub fn json(&self) -> Value {
        serde_json::from_str(self.value).unwrap_or(Value::Null)
    }
}

/// A registration that breaks one rule of metadata: the fields to lay over a valid document,
/// what the answer must be, and the rule (the fixed scenario's clause and level).
#[derive(Debug, Clone)]
pub struct InvalidForm {
    pub fields: Map<String, Value>,
    pub expect: Expect,
    pub rule: Rule,
}

/// The valid document the fixed scenarios' bodies start from: what is theirs is what they break.
const BASELINE_REDIRECT: &str = "https://tpp.example/cb";

/// The invalid forms the fixed suite's scenarios make: each scenario of one inline registration
/// refused (as `metadata`, or with a 4xx), at MUST, SHOULD or a policy level (information is
/// observed, never judged): the metadata rules, a profile's own (Open Banking UK's), and the
/// software statements the test directory breaks.
pub fn invalid_forms(scenarios: &[Scenario]) -> Vec<InvalidForm> {
    scenarios.iter().filter_map(invalid_form).collect()
}

fn invalid_form(s: &Scenario) -> Option<InvalidForm> {
    let [step] = &s.steps[..] else { return None };
    let r = &step.request;
    let plain = step.mutation.is_none()
        && r.headers.is_empty()
        && r.content_type.is_none()
        && r.tls.is_none()
        && r.credentials.is_none()
        && r.sign.is_none()
        && r.actor == crate::scenario::Actor::Tpp
        && r.query.is_none()
        && r.registration_token.is_none()
        && r.date_offset == crate::scenario::DateOffset::Seconds(0)
        && r.date_form.is_none()
        && r.digest_algorithm.is_none()
        && step.concurrent.is_none()
        && step.alongside.is_none();
    if r.op != Operation::Register || !plain || s.severity == Severity::Info {
        return None;
    }
    let refused = step.expect.reject.as_deref() == Some("metadata")
        || step.expect.status.as_ref().is_some_and(|s| s.to_vec().iter().all(|code| (400..500).contains(code)));
    if !refused || step.expect.created {
        return None;
    }
    let body = r.body.as_ref()?.as_object()?;
    let baseline = serde_json::json!([BASELINE_REDIRECT]);
    let fields: Map<String, Value> = body
        .iter()
        .filter(|(field, value)| !(field.as_str() == "redirect_uris" && **value == baseline))
        .filter(|(field, _)| field.as_str() != "client_name" || !body[*field].is_string())
        .map(|(field, value)| (field.clone(), value.clone()))
        .collect();
    if fields.is_empty() {
        return None;
    }
    let rule = Rule {
        id: s.id.clone().into(),
        title: s.title.clone().into(),
        area: s.area,
        severity: s.severity,
        policy: s.policy.as_ref().and_then(|p| p.known()),
        source: s.source.clone().into(),
    };
    Some(InvalidForm { fields, expect: step.expect.clone(), rule })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_extension_value_is_json() {
        for extension in EXTENSIONS {
            assert!(serde_json::from_str::<Value>(extension.value).is_ok(), "{}", extension.field);
        }
    }

    #[test]
    fn the_fixed_metadata_scenarios_give_the_invalid_forms() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let scenarios = crate::scenario::load_dir(&dir).expect("the suite loads");
        let forms = invalid_forms(&scenarios);
        let ids: Vec<&str> = forms.iter().map(|f| f.rule.id.as_ref()).collect();
        for expected in ["metadata-redirect-uri-fragment", "metadata-http-redirect-uri", "metadata-jwks-and-jwks-uri"] {
            assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
        }
        assert!(!ids.contains(&"metadata-redirect-uris-missing"), "information is not judged");
        let fragment = forms.iter().find(|f| f.rule.id == "metadata-redirect-uri-fragment").expect("fragment");
        assert_eq!(fragment.fields.keys().collect::<Vec<_>>(), ["redirect_uris"]);
        let inconsistent = forms.iter().find(|f| f.rule.id == "metadata-inconsistent-response-type").expect("form");
        assert_eq!(inconsistent.fields.keys().collect::<Vec<_>>(), ["grant_types", "response_types"]);
    }
}
