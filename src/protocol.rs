//! The vocabulary both ends of the wire share: the DCR-service credential header names, the
//! kinds of DCR server, where client certificates are judged, and how DCR credentials travel.
//! Target profiles (the client side) and the reference server both name these; it sits below
//! both so that neither imports the other. Plain data: no behaviour, no I/O.

use serde::{Deserialize, Serialize};

/// API-key header names for the DCR-service credentials (IBM API Connect's, which SMBC's portal
/// uses).
pub const CLIENT_ID_HEADER: &str = "X-IBM-Client-Id";
pub const CLIENT_SECRET_HEADER: &str = "X-IBM-Client-Secret";

// The policies a profile may hold: choices a bank makes where the texts leave them open.
// Scenarios name them, profiles hold them, and the reference server's variants say which one
// each contradicts. One table: the name profiles and scenarios write, and what it means.
crate::catalog::named_catalog!(Policy, UnknownPolicy, "policy", "the book's Target profiles chapter lists them", {
    HttpsRedirectUris = "https-redirect-uris", "redirect URIs must use https (RFC 6749 §3.1.2.1 says SHOULD; PSD2 banks require it)";
    UnknownClient404 = "unknown-client-404", "an unknown or another TPP's client is a 404 (SMBC's choice; RFC 7592 §2.1 says 401 where a registration access token is used)";
    BerlinGroupCodes = "berlin-group-codes", "refusals carry Berlin Group tppMessages codes (CERTIFICATE_INVALID, SIGNATURE_INVALID, ...)";
    BodySizeLimit = "body-size-limit", "bodies over the server's limit (64 KiB for the reference server) are refused with 413";
    Psd2Roles = "psd2-roles", "only a QWAC with an account-information or payment-initiation role (PSP_AI, PSP_PI) may manage clients";
    SecretRefresh = "secret-refresh", "the bank's secret refresh replaces the secret: a new one with its expiry, and the old one stops working";
    SoftwareStatement = "software-statement", "every registration carries a software statement from the ecosystem's directory (RFC 7591 §2.3 makes it optional; Open Banking UK and FAPI ecosystems require it)";
    RequestObject = "request-object", "registrations and updates are signed request objects (application/jose) carrying the software statement, signed by a key it publishes (Open Banking UK DCR v3.x)";
    ClientTokenManagement = "client-token-management", "clients are managed with their own client-credentials access token, and only their own (Open Banking UK DCR v3.x; RFC 7592 uses a registration access token)";
    ClientSecretPost = "client-secret-post", "clients may register client_secret_post and send their secret in the token request's form (RFC 6749 §2.3.1; RFC 7591 §2)";
    TlsClientAuth = "tls-client-auth", "clients may register tls_client_auth and prove themselves with the certificate whose subject DN they registered (RFC 8705 §2.1; Open Banking UK, FAPI)";
    SelfSignedTlsClientAuth = "self-signed-tls-client-auth", "clients may register self_signed_tls_client_auth and prove themselves with a certificate whose key is in their registered JWKS (RFC 8705 §2.2)";
    PrivateKeyJwt = "private-key-jwt", "clients may register private_key_jwt and prove themselves with a JWT signed by a key of their registered JWKS (RFC 7523 §2.2; Open Banking UK, FAPI)";
    JwksUri = "jwks-uri", "the server reads a private_key_jwt client's keys from its registered jwks_uri (RFC 7591 §2), here the harness's key store on this host (`{{keystore}}`)";
    JwksRotation = "jwks-rotation", "a private_key_jwt client that publishes a new key at its jwks_uri and retires the old gets tokens with the new key within the server's key cache time (the profile's `jwks_cache_s`) and none with the retired one after it (OpenID Connect Core §10.1.1; RFC 7591 §2), here the harness's key store on this host (`{{rotating_jwks_uri}}`)";
    AssertionReplay = "assertion-replay", "a client assertion's jti is accepted once (RFC 7523 §3 leaves it to the server: it MAY refuse a replay)";
    BerlinGroupSigning = "berlin-group-signing", "requests are signed as the Berlin Group NextGenPSD2 guide has it: a UUID X-Request-ID, signed; GET signed too; PSU-ID and TPP-Redirect-URI signed when present; a SHA-512 Digest as good as a SHA-256 one";
    RevocationCheck = "revocation-check", "the server asks the QTSP whether a QWAC or QSEAL is revoked (its OCSP responder or CRL) and refuses a revoked one (RFC 5280 §6.3; the test QTSP's services run on this host)";
    RevocationHardFail = "revocation-hard-fail", "a certificate whose status cannot be had (unknown to the responder, the responder down) is refused, not let through (no text requires it: a soft-failing server is legal)";
    NoStore = "no-store", "an answer carrying a client secret or registration access token says Cache-Control: no-store (RFC 6749 §5.1 MUST for the token endpoint's; RFC 7591 and 7592 show it only in non-normative examples)";
    JsonOnly = "json-only", "a registration or update in another media type than application/json is refused (RFC 7591 §3 says the endpoint MUST accept JSON; no text requires refusing others)";
    OidcClientMetadata = "oidc-client-metadata", "the server judges OpenID Connect client metadata (OIDC Registration 1.0 §2): ID Token, userinfo and request-object algorithms among those its metadata document lists, an _enc only with its _alg and an _alg alone given A128CBC-HS256, application_type web or native";
    Jarm = "jarm", "the server registers JARM clients (JWT Secured Authorization Response Mode §3): authorization_signed_response_alg never none and among those its metadata document lists, authorization_encrypted_response_enc only with its _alg, an _alg alone given A128CBC-HS256";
    MtlsBoundTokens = "mtls-bound-tokens", "a client that registers tls_client_certificate_bound_access_tokens gets access tokens bound to its certificate (RFC 8705 §3: cnf x5t#S256 at introspection), and a protected resource refuses them over another certificate";
    DpopBoundTokens = "dpop-bound-tokens", "a client that registers dpop_bound_access_tokens must prove a DPoP key at the token endpoint, gets tokens bound to it (RFC 9449: token_type DPoP, cnf jkt at introspection), and a protected resource takes them only with a proof of that key";
    TlsPolicy = "tls-policy", "the server's TLS is as RFC 9325 (BCP 195) and FAPI have it, asked from outside by a ClientHello per version: TLS 1.0 and 1.1 refused (RFC 8996), TLS 1.2 taken with the recommended AES-GCM suites and only with the ones FAPI permits";
    Tls13 = "tls13", "the server offers TLS 1.3 (RFC 9325 §3.1.1: SHOULD support it; FAPI 2.0 deployments expect it)";
    CdrDcr = "cdr-dcr", "Australian Consumer Data Right data holder rules beyond RFC 7591 and FAPI: one active registration per software product (the same product after a delete may register again), private_key_jwt only, id_token_signed_response_alg and token_endpoint_auth_signing_alg required, management tokens with the scope cdr:registration";
    StatementRotation = "statement-rotation", "an update may carry a new statement for the same software (the client keeps its id and echoes the new statement), and one for another software is refused (RFC 7591 §2.3; Open Banking UK and CDR updates carry the statement)";
    StatementOnUpdate = "statement-on-update", "every update carries the software statement, and one without it is refused (Open Banking UK DCR v3.x and the CDR: updates are request objects with the statement)";
    SectorIdentifier = "sector-identifier", "the server fetches a client's sector_identifier_uri and registers it only if the document lists every redirect URI (OpenID Connect Registration §5), here the harness's key store on this host (`{{keystore}}/sector.json`)";
    ScopeNotWidened = "scope-not-widened", "a client is registered with no scope value it did not ask for (a bank's or ecosystem's choice: RFC 7591 §3.2.1 lets a server replace any requested value, a wider scope included)";
    SoftwareJwksEndpoint = "software-jwks-endpoint", "a signed registration request whose statement keeps its keys at a software_jwks_endpoint is verified with the keys read from there (Open Banking UK DCR v3.x: \"The registration request MUST be signed with a key contained in the JWKS referenced in the SSA\"), here the harness's key store on this host";
    ObukSubjectDn = "obuk-subject-dn", "a tls_client_auth_subject_dn is an RFC 4514 string that starts with its common name, of at most 512 characters (Open Banking UK DCR 3.4's pattern); one that does not is refused or replaced";
    ObukDcr = "obuk-dcr", "Open Banking UK DCR v3.x rules beyond RFC 7591: the registration endpoint in the OpenID discovery document, response_types code or code id_token, token_endpoint_auth_signing_alg PS256 or ES256 (as its conformance suite checks)";
});

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
    /// An Australian Consumer Data Right data holder: as `obuk` (signed request objects carrying
    /// the register's statement, management with the client's own token), and one registration
    /// per software product, `private_key_jwt` only, management tokens with the scope
    /// `cdr:registration`.
    Cdr,
}

impl ServerProfile {
    /// Whether clients are managed with their RFC 7592 registration access token (and owned by
    /// it), rather than by a TPP's certificate and DCR credentials.
    pub fn manages_by_registration_token(self) -> bool {
        matches!(self, ServerProfile::Plain | ServerProfile::Fapi)
    }

    /// Whether registrations and updates are signed request objects carrying the statement.
    pub fn takes_request_objects(self) -> bool {
        matches!(self, ServerProfile::Obuk | ServerProfile::Cdr)
    }

    /// Whether the server judges the software statements it is sent.
    pub fn judges_statements(self) -> bool {
        self == ServerProfile::Fapi || self.takes_request_objects()
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
