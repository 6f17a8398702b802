//! The vocabulary both ends of the wire share: the DCR-service credential header names, the
//! kinds of DCR server, where client certificates are judged, and how DCR credentials travel.
//! Target profiles (the client side) and the reference server both name these; it sits below
//! both so that neither imports the other. Plain data: no behaviour, no I/O.

use serde::{Deserialize, Serialize};

/// API-key header names for the DCR-service credentials (IBM API Connect's, which SMBC's portal
/// uses).
pub const CLIENT_ID_HEADER: &str = "X-IBM-Client-Id";
pub const CLIENT_SECRET_HEADER: &str = "X-IBM-Client-Secret";

/// The policies a profile may hold: choices a bank makes where the texts leave them open.
/// Scenarios name them, profiles hold them, and the reference server's variants say which one
/// each contradicts.
pub mod policy {
    pub const HTTPS_REDIRECT_URIS: &str = "https-redirect-uris";
    pub const UNKNOWN_CLIENT_404: &str = "unknown-client-404";
    pub const BERLIN_GROUP_CODES: &str = "berlin-group-codes";
    pub const BODY_SIZE_LIMIT: &str = "body-size-limit";
    pub const PSD2_ROLES: &str = "psd2-roles";
    pub const SECRET_REFRESH: &str = "secret-refresh";
    pub const SOFTWARE_STATEMENT: &str = "software-statement";
    pub const REQUEST_OBJECT: &str = "request-object";
    pub const CLIENT_TOKEN_MANAGEMENT: &str = "client-token-management";
    pub const OBUK_DCR: &str = "obuk-dcr";
    pub const CLIENT_SECRET_POST: &str = "client-secret-post";
    pub const TLS_CLIENT_AUTH: &str = "tls-client-auth";
    pub const SELF_SIGNED_TLS_CLIENT_AUTH: &str = "self-signed-tls-client-auth";
    pub const PRIVATE_KEY_JWT: &str = "private-key-jwt";
    pub const ASSERTION_REPLAY: &str = "assertion-replay";
    pub const JWKS_URI: &str = "jwks-uri";
    pub const BERLIN_GROUP_SIGNING: &str = "berlin-group-signing";
    pub const REVOCATION_CHECK: &str = "revocation-check";
    pub const REVOCATION_HARD_FAIL: &str = "revocation-hard-fail";
    pub const NO_STORE: &str = "no-store";
    pub const JSON_ONLY: &str = "json-only";
}

/// Which kind of DCR server to be.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerProfile {
    /// A PSD2 bank as SMBC describes it: mTLS with a QWAC, DCR credentials, QSEAL signatures.
    #[default]
    Smbc,
    /// A plain RFC 7591/7592 server: registration access tokens, no mTLS, no signatures.
    Plain,
    /// An RFC 7591/7592 server of a FAPI or Open Banking ecosystem: registration access tokens,
    /// and a software statement from the test directory in every registration.
    Fapi,
    /// An Open Banking UK DCR server: mTLS, registrations as signed request objects carrying a
    /// statement from the test directory, clients managed with their own client-credentials
    /// access token.
    Obuk,
}

impl ServerProfile {
    /// Whether clients are managed with their RFC 7592 registration access token (and owned by
    /// it), rather than by a TPP's certificate and DCR credentials.
    pub fn manages_by_registration_token(self) -> bool {
        matches!(self, ServerProfile::Plain | ServerProfile::Fapi)
    }
}

/// Where client certificates are judged.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertCheck {
    /// Accept the handshake, judge in HTTP, answer with the rule's code.
    #[default]
    Http,
    /// Refuse an expired or untrusted certificate in the TLS handshake.
    Handshake,
}

/// How the TPP's credentials for the DCR service travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DcrAuth {
    /// `X-IBM-Client-Id` and `X-IBM-Client-Secret` headers (IBM API Connect, SMBC's portal).
    #[default]
    ApiKey,
    /// HTTP Basic with the client id and secret.
    Basic,
    /// `Authorization: Bearer` with a token from the server's client-credentials token endpoint.
    Bearer,
}

/// RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How a registered client proves itself at the token endpoint (RFC 7591 §2
/// `token_endpoint_auth_method`; RFC 8705 §2.1; RFC 7523 §2.2).
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    /// The secret in HTTP Basic (the default).
    ClientSecretBasic,
    /// The secret in the form.
    ClientSecretPost,
    /// The TLS client certificate, whose subject DN the client registered.
    TlsClientAuth,
    /// The TLS client certificate, whose key is in the client's registered JWKS (RFC 8705 §2.2).
    SelfSignedTlsClientAuth,
    /// A JWT the client signs with a key of its registered JWKS.
    PrivateKeyJwt,
}

impl TokenAuthMethod {
    pub const ALL: [TokenAuthMethod; 5] = [
        TokenAuthMethod::ClientSecretBasic,
        TokenAuthMethod::ClientSecretPost,
        TokenAuthMethod::TlsClientAuth,
        TokenAuthMethod::SelfSignedTlsClientAuth,
        TokenAuthMethod::PrivateKeyJwt,
    ];

    /// Its name in client metadata.
    pub fn name(self) -> &'static str {
        match self {
            TokenAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenAuthMethod::ClientSecretPost => "client_secret_post",
            TokenAuthMethod::TlsClientAuth => "tls_client_auth",
            TokenAuthMethod::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
            TokenAuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// The method a name in client metadata names; none for a method the harness cannot use.
    pub fn from_name(name: &str) -> Option<TokenAuthMethod> {
        TokenAuthMethod::ALL.into_iter().find(|m| m.name() == name)
    }
}
