//! RFC 7591 §2 client metadata validation for the reference server: redirect URIs (absolute,
//! https, no fragment, required for redirect-based grants), grant and response types that are
//! known and consistent, a supported token endpoint auth method, and the JSON type of each
//! known field. Errors are RFC 7591 §3.2.2 codes. Defaults are filled in as §2 gives them.

use serde_json::{Map, Value};

use super::flaw::Flaw;

/// An RFC 7591 §3.2.2 error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataError {
    pub code: &'static str,
    pub description: String,
    /// The field at fault, where one is.
    pub field: Option<&'static str>,
}

fn invalid_metadata(description: impl Into<String>) -> MetadataError {
    MetadataError { code: "invalid_client_metadata", description: description.into(), field: None }
}

fn invalid_field(field: &'static str, description: impl Into<String>) -> MetadataError {
    MetadataError { field: Some(field), ..invalid_metadata(description) }
}

fn invalid_redirect(description: impl Into<String>) -> MetadataError {
    MetadataError { code: "invalid_redirect_uri", description: description.into(), field: Some("redirect_uris") }
}

const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "implicit",
    "password",
    "client_credentials",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
];
const RESPONSE_TYPES: &[&str] = &["code", "token", "id_token"];
const AUTH_METHODS: &[&str] =
    &["client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"];
const STRING_FIELDS: &[&str] = &[
    "client_name",
    "client_uri",
    "logo_uri",
    "scope",
    "tos_uri",
    "policy_uri",
    "jwks_uri",
    "software_id",
    "software_version",
    "token_endpoint_auth_method",
    "software_statement",
    "tls_client_auth_subject_dn",
    "tls_client_auth_san_dns",
    "tls_client_auth_san_uri",
    "tls_client_auth_san_ip",
    "tls_client_auth_san_email",
    "sector_identifier_uri",
];
const BOOLEAN_FIELDS: &[&str] = &["tls_client_certificate_bound_access_tokens", "dpop_bound_access_tokens"];
const URI_FIELDS: &[&str] = &["client_uri", "logo_uri", "tos_uri", "policy_uri", "jwks_uri", "sector_identifier_uri"];
const ARRAY_FIELDS: &[&str] = &["redirect_uris", "grant_types", "response_types", "contacts"];
/// Known fields that are neither strings nor arrays of strings the checks above name: `jwks`,
/// and what the server sets (which an update may carry, for the handlers to judge).
const OTHER_KNOWN_FIELDS: &[&str] = &[
    "jwks",
    "tls_client_certificate_bound_access_tokens",
    "dpop_bound_access_tokens",
    "client_id",
    "client_secret",
    "client_id_issued_at",
    "client_secret_expires_at",
    "registration_access_token",
    "registration_client_uri",
];

/// Parses and validates a registration (or update) body; returns the metadata with RFC 7591 §2
/// defaults applied.
pub fn validate(body: &[u8], flaws: &impl Fn(Flaw) -> bool) -> Result<Map<String, Value>, MetadataError> {
    validate_metadata(parse(body)?, flaws)
}

/// As `validate`, but a field at fault is replaced with a suitable value, or dropped for its
/// default, instead of refused (RFC 7591 §3.2.1: the server "MAY reject or replace any of the
/// client's requested metadata values"). What has no substitute is still refused.
pub fn validate_substituting(body: &[u8], flaws: &impl Fn(Flaw) -> bool) -> Result<Map<String, Value>, MetadataError> {
    validate_object_substituting(parse(body)?, flaws)
}

/// As `validate`, for metadata already parsed (a request object's claims).
pub fn validate_object(
    metadata: Map<String, Value>,
    flaws: &impl Fn(Flaw) -> bool,
) -> Result<Map<String, Value>, MetadataError> {
    validate_metadata(metadata, flaws)
}

/// As `validate_substituting`, for metadata already parsed.
pub fn validate_object_substituting(
    mut metadata: Map<String, Value>,
    flaws: &impl Fn(Flaw) -> bool,
) -> Result<Map<String, Value>, MetadataError> {
    // Each round removes or repairs one field, so the rounds are bounded by the fields.
    for _ in 0..=metadata.len() {
        match validate_metadata(metadata.clone(), flaws) {
            Err(MetadataError { field: Some(field), .. }) if substitute(&mut metadata, field) => continue,
            other => return other,
        }
    }
    validate_metadata(metadata, flaws)
}

/// Repairs or drops `field`; false if there is nothing to replace.
fn substitute(metadata: &mut Map<String, Value>, field: &str) -> bool {
    let Some(value) = metadata.remove(field) else {
        return false;
    };
    if field == "redirect_uris" {
        let uris = match &value {
            Value::String(uri) => vec![Value::String(uri.clone())],
            Value::Array(uris) => uris.clone(),
            _ => vec![],
        };
        let repaired: Vec<Value> = uris
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|uri| reqwest::Url::parse(uri).ok())
            .filter(|url| url.scheme() == "https")
            .map(|mut url| {
                url.set_fragment(None);
                Value::String(url.to_string())
            })
            .collect();
        // Unchanged, it would fail again: then there is no substitute, and it stays dropped.
        if !repaired.is_empty() && Value::Array(repaired.clone()) != value {
            metadata.insert(field.into(), Value::Array(repaired));
        }
    }
    true
}

/// The body as a JSON object, or the RFC 7591 §3.2.2 error for it.
pub fn parse(body: &[u8]) -> Result<Map<String, Value>, MetadataError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| invalid_metadata(format!("the body is not JSON: {e}")))?;
    match value {
        Value::Object(metadata) => Ok(metadata),
        _ => Err(invalid_metadata("the body is not a JSON object")),
    }
}

fn validate_metadata(
    mut metadata: Map<String, Value>,
    flaws: &impl Fn(Flaw) -> bool,
) -> Result<Map<String, Value>, MetadataError> {
    if !flaws(Flaw::SkipMetadataValidation) {
        check_types(&metadata)?;
    }
    if flaws(Flaw::RefuseUnknownMetadata) {
        let known = |field: &String| {
            [STRING_FIELDS, ARRAY_FIELDS, OTHER_KNOWN_FIELDS].concat().contains(&field.as_str())
                || super::oidc_metadata::fields().any(|f| f == field)
        };
        if let Some(unknown) = metadata.keys().find(|field| !known(field)) {
            return Err(invalid_metadata(format!("unknown field `{unknown}`")));
        }
    }
    let grant_types = string_list(&metadata, "grant_types").unwrap_or_else(|| vec!["authorization_code".into()]);
    let response_types = string_list(&metadata, "response_types").unwrap_or_else(|| {
        if grant_types.iter().any(|g| g == "authorization_code") {
            vec!["code".into()]
        } else {
            vec![]
        }
    });
    if !flaws(Flaw::SkipMetadataValidation) {
        check_grants(&grant_types, &response_types)?;
        super::oidc_metadata::check(&metadata, flaws).map_err(|fault| MetadataError {
            code: fault.code,
            description: fault.description,
            field: Some(fault.field),
        })?;
        let method =
            metadata.get("token_endpoint_auth_method").and_then(Value::as_str).unwrap_or("client_secret_basic");
        if !AUTH_METHODS.contains(&method) {
            return Err(invalid_field(
                "token_endpoint_auth_method",
                format!("token_endpoint_auth_method `{method}` is not supported"),
            ));
        }
    }
    check_jwks(&metadata, flaws)?;
    let redirect_based = grant_types.iter().any(|g| g == "authorization_code" || g == "implicit");
    check_redirect_uris(&metadata, redirect_based, flaws)?;
    metadata.insert("grant_types".into(), Value::from(grant_types));
    metadata.insert("response_types".into(), Value::from(response_types));
    metadata.entry("token_endpoint_auth_method").or_insert_with(|| Value::from("client_secret_basic"));
    Ok(metadata)
}

/// RFC 7591 §2: `jwks` is a JWK Set (RFC 7517 §5: an object whose `keys` is an array of
/// JWKs, each with a `kty`), and `jwks` and `jwks_uri` "MUST NOT both be present".
fn check_jwks(metadata: &Map<String, Value>, flaws: &impl Fn(Flaw) -> bool) -> Result<(), MetadataError> {
    if metadata.contains_key("jwks") && metadata.contains_key("jwks_uri") && !flaws(Flaw::AcceptJwksAndJwksUri) {
        return Err(invalid_field("jwks_uri", "jwks and jwks_uri must not both be present (RFC 7591 §2)"));
    }
    let Some(jwks) = metadata.get("jwks") else { return Ok(()) };
    let is_jwk = |key: &Value| key.get("kty").is_some_and(Value::is_string);
    let is_set = jwks.get("keys").and_then(Value::as_array).is_some_and(|keys| keys.iter().all(is_jwk));
    if !is_set && !flaws(Flaw::SkipJwksValidation) {
        return Err(invalid_field("jwks", "jwks is not a JWK Set: an object whose keys is an array of JWKs with kty"));
    }
    Ok(())
}

fn string_list(metadata: &Map<String, Value>, field: &str) -> Option<Vec<String>> {
    metadata.get(field)?.as_array().map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
}

fn check_types(metadata: &Map<String, Value>) -> Result<(), MetadataError> {
    for field in STRING_FIELDS {
        if metadata.get(*field).is_some_and(|v| !v.is_string()) {
            return Err(invalid_field(field, format!("`{field}` must be a string")));
        }
    }
    for field in ARRAY_FIELDS {
        if let Some(v) = metadata.get(*field) {
            let ok = v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
            if !ok {
                let message = format!("`{field}` must be an array of strings");
                return Err(if *field == "redirect_uris" {
                    invalid_redirect(message)
                } else {
                    invalid_field(field, message)
                });
            }
        }
    }
    // RFC 8705 §3.4: "Boolean value".
    for field in BOOLEAN_FIELDS {
        if metadata.get(*field).is_some_and(|v| !v.is_boolean()) {
            return Err(invalid_field(field, format!("`{field}` must be true or false")));
        }
    }
    for field in URI_FIELDS {
        if let Some(uri) = metadata.get(*field).and_then(Value::as_str) {
            if reqwest::Url::parse(uri).is_err() {
                return Err(invalid_field(field, format!("`{field}` is not an absolute URI")));
            }
        }
    }
    Ok(())
}

fn check_grants(grant_types: &[String], response_types: &[String]) -> Result<(), MetadataError> {
    if let Some(unknown) = grant_types.iter().find(|g| !GRANT_TYPES.contains(&g.as_str())) {
        return Err(invalid_field("grant_types", format!("grant type `{unknown}` is not supported")));
    }
    // A response type is a space-separated set (OAuth 2.0 Multiple Response Type Encoding
    // Practices: `code id_token`), each part known.
    let parts = |r: &String| r.split(' ').map(str::to_string).collect::<Vec<_>>();
    if let Some(unknown) =
        response_types.iter().find(|r| !parts(r).iter().all(|p| RESPONSE_TYPES.contains(&p.as_str())))
    {
        return Err(invalid_field("response_types", format!("response type `{unknown}` is not supported")));
    }
    // RFC 7591 §2.1: code goes with authorization_code, token with implicit.
    let response_types: Vec<String> = response_types.iter().flat_map(parts).collect();
    let response_types = response_types.as_slice();
    let has = |list: &[String], x: &str| list.iter().any(|v| v == x);
    if has(response_types, "code") != has(grant_types, "authorization_code") {
        return Err(invalid_field(
            "response_types",
            "response type `code` and grant type `authorization_code` must come together",
        ));
    }
    if has(response_types, "token") != has(grant_types, "implicit") {
        return Err(invalid_field(
            "response_types",
            "response type `token` and grant type `implicit` must come together",
        ));
    }
    Ok(())
}

fn check_redirect_uris(
    metadata: &Map<String, Value>,
    redirect_based: bool,
    flaws: &impl Fn(Flaw) -> bool,
) -> Result<(), MetadataError> {
    let uris = string_list(metadata, "redirect_uris").unwrap_or_default();
    let structural = !flaws(Flaw::SkipRedirectUriValidation);
    if uris.is_empty() && redirect_based && structural {
        return Err(invalid_redirect("redirect_uris is required for the authorization_code and implicit grants"));
    }
    for uri in &uris {
        match reqwest::Url::parse(uri) {
            Err(_) if structural => return Err(invalid_redirect(format!("`{uri}` is not an absolute URI"))),
            Err(_) => {}
            Ok(url) => {
                if url.fragment().is_some() && structural {
                    return Err(invalid_redirect(format!("`{uri}` has a fragment")));
                }
                let secure = url.scheme() == "https" || (url.scheme() == "http" && flaws(Flaw::AcceptHttpRedirectUri));
                if !secure {
                    return Err(invalid_redirect(format!("`{uri}` is not an https URI")));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(_: Flaw) -> bool {
        false
    }

    fn code_of(body: &str) -> Result<(), &'static str> {
        validate(body.as_bytes(), &strict).map(|_| ()).map_err(|e| e.code)
    }

    #[test]
    fn substitution_replaces_what_has_a_substitute_and_refuses_the_rest() {
        let cases: &[(&str, Option<serde_json::Value>)] = &[
            (r#"{"redirect_uris":["https://tpp.example/cb#f"]}"#, Some(serde_json::json!(["https://tpp.example/cb"]))),
            (r#"{"redirect_uris":"https://tpp.example/cb"}"#, Some(serde_json::json!(["https://tpp.example/cb"]))),
            (
                r#"{"redirect_uris":["https://tpp.example/cb"],"grant_types":["magic"]}"#,
                Some(serde_json::json!(["https://tpp.example/cb"])),
            ),
            (r#"{"redirect_uris":["/cb"]}"#, None),
            (r#"{"redirect_uris":["http://tpp.example/cb"]}"#, None),
            (r#"{"client_name":"no redirect"}"#, None),
            ("[]", None),
        ];
        for (body, redirect_uris) in cases {
            let got = validate_substituting(body.as_bytes(), &strict).ok().map(|m| m["redirect_uris"].clone());
            assert_eq!(&got, redirect_uris, "{body}");
        }
        let m = validate_substituting(
            br#"{"redirect_uris":["https://tpp.example/cb"],"grant_types":["magic"],"response_types":["token"],"client_name":42,"jwks_uri":"x","token_endpoint_auth_method":"none-such"}"#,
            &strict,
        )
        .expect("every field has a substitute");
        assert_eq!(m["grant_types"], serde_json::json!(["authorization_code"]));
        assert_eq!(m["response_types"], serde_json::json!(["code"]));
        assert_eq!(m["token_endpoint_auth_method"], "client_secret_basic");
        assert!(m.get("client_name").is_none() && m.get("jwks_uri").is_none());
    }

    #[test]
    fn a_minimal_registration_gets_rfc_7591_defaults() {
        let m = validate(br#"{"redirect_uris":["https://tpp.example/cb"]}"#, &strict).expect("valid");
        assert_eq!(m["grant_types"], serde_json::json!(["authorization_code"]));
        assert_eq!(m["response_types"], serde_json::json!(["code"]));
        assert_eq!(m["token_endpoint_auth_method"], "client_secret_basic");
    }

    #[test]
    fn each_rule_has_its_error_code() {
        assert_eq!(code_of("{}"), Err("invalid_redirect_uri"));
        assert_eq!(code_of(r#"{"redirect_uris":["http://tpp.example/cb"]}"#), Err("invalid_redirect_uri"));
        assert_eq!(code_of(r#"{"redirect_uris":["https://tpp.example/cb#frag"]}"#), Err("invalid_redirect_uri"));
        assert_eq!(code_of(r#"{"redirect_uris":["/relative"]}"#), Err("invalid_redirect_uri"));
        assert_eq!(code_of(r#"{"redirect_uris":"https://tpp.example/cb"}"#), Err("invalid_redirect_uri"));
        assert_eq!(
            code_of(
                r#"{"redirect_uris":["https://a.example/cb"],"grant_types":["authorization_code"],"response_types":["token"]}"#
            ),
            Err("invalid_client_metadata")
        );
        assert_eq!(
            code_of(r#"{"redirect_uris":["https://a.example/cb"],"grant_types":["magic"]}"#),
            Err("invalid_client_metadata")
        );
        assert_eq!(
            code_of(r#"{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"none"}"#),
            Err("invalid_client_metadata")
        );
        assert_eq!(
            code_of(r#"{"redirect_uris":["https://a.example/cb"],"client_name":7}"#),
            Err("invalid_client_metadata")
        );
        assert_eq!(code_of("not json"), Err("invalid_client_metadata"));
        assert_eq!(code_of("[]"), Err("invalid_client_metadata"));
        assert_eq!(code_of(r#"{"grant_types":["client_credentials"],"response_types":[]}"#), Ok(()));
    }

    #[test]
    fn flaws_switch_off_exactly_their_rule() {
        let http = br#"{"redirect_uris":["http://tpp.example/cb"]}"#;
        assert!(validate(http, &|f| f == Flaw::AcceptHttpRedirectUri).is_ok());
        assert!(validate(http, &|f| f == Flaw::SkipRedirectUriValidation).is_err());
        let fragment = br#"{"redirect_uris":["https://tpp.example/cb#x"]}"#;
        assert!(validate(fragment, &|f| f == Flaw::SkipRedirectUriValidation).is_ok());
        let inconsistent = br#"{"redirect_uris":["https://a.example/cb"],"response_types":["token"]}"#;
        assert!(validate(inconsistent, &|f| f == Flaw::SkipMetadataValidation).is_ok());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            ".*".prop_map(Value::from),
            "(https?|ftp)://[a-z.]{0,10}(/[a-z]{0,5})?(#[a-z]{0,3})?".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("redirect_uris".to_string()),
                        Just("grant_types".to_string()),
                        Just("response_types".to_string()),
                        Just("token_endpoint_auth_method".to_string()),
                        Just("client_name".to_string()),
                        Just("jwks_uri".to_string()),
                        "[a-z_]{1,8}",
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_give_a_typed_error_or_metadata(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = validate(&body, &|_| false);
        }

        #[test]
        fn arbitrary_json_gives_a_typed_error_or_metadata(value in json_value()) {
            let body = value.to_string();
            match validate(body.as_bytes(), &|_| false) {
                Ok(m) => prop_assert!(m.contains_key("grant_types")),
                Err(e) => prop_assert!(e.code == "invalid_client_metadata" || e.code == "invalid_redirect_uri"),
            }
            let _ = validate(body.as_bytes(), &|_| true);
        }
    }
}
