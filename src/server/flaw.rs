//! The reference server's named flaws: each disables exactly one rule, so that the suite can
//! show that every check it makes is able to fail. (Its variants, behaviours the RFCs allow,
//! show the opposite: that a check fails only for a real fault.)

use crate::catalog::named_catalog;

named_catalog!(Flaw, UnknownFlaw, "flaw", "`dcr-harness serve --list-flaws` prints them all", {
    SkipClientCert = "skip-client-cert", "no client certificate is required";
    AcceptUntrustedCa = "accept-untrusted-ca", "a QWAC need not chain to the QTSP";
    AcceptExpiredQwac = "accept-expired-qwac", "a QWAC's validity period is not checked";
    AcceptNonQwac = "accept-non-qwac", "a client certificate need not be a QWAC (clientAuth, QcType web)";
    SkipPsd2RoleCheck = "skip-psd2-role-check", "the PSD2 statement and its roles are not checked";
    SkipDcrCredentials = "skip-dcr-credentials", "DCR-service credentials are not checked";
    AcceptOtherTppCredentials = "accept-other-tpp-credentials", "DCR-service credentials of another TPP than the QWAC's are accepted";
    SkipSignature = "skip-signature", "POST, PUT and DELETE need no signature";
    AcceptBadSignature = "accept-bad-signature", "the signature value itself is not verified";
    SkipDigestCheck = "skip-digest-check", "Digest is not compared with the body";
    IgnoreDate = "ignore-date", "Date is neither parsed nor checked";
    UnboundedClockSkew = "unbounded-clock-skew", "Date may be any distance from the server's clock";
    RefuseObsoleteDateForms = "refuse-obsolete-date-forms", "a Date in the RFC 850 or asctime form is refused (RFC 7231 §7.1.1.1: a recipient MUST accept all three)";
    IgnoreRequestTarget = "ignore-request-target", "(request-target) need not be signed";
    AcceptUnsignedHeaders = "accept-unsigned-headers", "date and digest need not be signed";
    SkipKeyidMatch = "skip-keyid-match", "keyId need not name the signing certificate";
    AcceptAnySigningCert = "accept-any-signing-cert", "the signing certificate need not be a QSEAL";
    AcceptUntrustedQseal = "accept-untrusted-qseal", "the signing certificate need not chain to the QTSP";
    AcceptExpiredQseal = "accept-expired-qseal", "the signing certificate's validity period is not checked";
    SkipOrgMatch = "skip-org-match", "the QSEAL's organisation need not be the QWAC's";
    SkipRevocationCheck = "skip-revocation-check", "no QTSP is asked whether a QWAC or QSEAL is revoked";
    AcceptWeakKey = "accept-weak-key", "RSA keys under 2048 bits may sign";
    AcceptDuplicateHeaders = "accept-duplicate-headers", "a duplicated Signature, Digest or Date header is resolved by taking the first";
    SkipRequestIdCheck = "skip-request-id-check", "(Berlin Group) X-Request-ID need not be there or be a UUID";
    UnsignedReadsAccepted = "unsigned-reads-accepted", "(Berlin Group) a GET needs no signature where the profile signs reads";
    PresentHeadersNeedNoSignature = "present-headers-need-no-signature", "(Berlin Group) PSU-ID and TPP-Redirect-URI need not be signed when present";
    RefuseSha512Digest = "refuse-sha512-digest", "(Berlin Group) a SHA-512 Digest is refused (the Berlin Group allows SHA-256 and SHA-512)";
    SkipSignatureTag = "skip-signature-tag", "(RFC 9421) the signature's tag need not be the one the profile requires";
    IgnoreSignatureExpiry = "ignore-signature-expiry", "(RFC 9421) a signature past its expires is accepted";
    PermissiveTls12Suites = "permissive-tls12-suites", "TLS 1.2 takes cipher suites outside the AES-GCM ones FAPI permits (ChaCha20-Poly1305)";
    NoTls13 = "no-tls13", "TLS 1.3 is not offered, where the profile holds tls13";
    AcceptHttpRedirectUri = "accept-http-redirect-uri", "redirect URIs may be plain http";
    SkipRedirectUriValidation = "skip-redirect-uri-validation", "redirect URIs may be relative, carry a fragment, or be missing";
    SkipMetadataValidation = "skip-metadata-validation", "grant types, response types, auth method and field types are not validated";
    AcceptWrongContentType = "accept-wrong-content-type", "a body of any content type is read as JSON";
    RefreshKeepsOldSecret = "refresh-keeps-old-secret", "after a secret refresh the old secret still works";
    DeleteKeepsClient = "delete-keeps-client", "DELETE answers 204 but the client remains";
    UpdateAugmentsMetadata = "update-augments-metadata", "an update is merged into the registration (lists joined, fields left out kept) instead of replacing it (RFC 7592 §2.2: MUST replace, not augment)";
    UpdateResurrectsDeleted = "update-resurrects-deleted", "an update reads the client, waits 250 ms and writes it back whole, so a delete that lands meanwhile is undone (a state no serial order gives)";
    CrossTppRead = "cross-tpp-read", "a TPP can read another TPP's client";
    CrossTppUpdate = "cross-tpp-update", "a TPP can update another TPP's client";
    CrossTppDelete = "cross-tpp-delete", "a TPP can delete another TPP's client";
    CrossTppRefresh = "cross-tpp-refresh", "a TPP can refresh another TPP's client secret";
    LeakExistence = "leak-existence", "another TPP's client answers 403 where an unknown one answers 404";
    OmitNoStore = "omit-no-store", "responses carrying secrets lack Cache-Control: no-store";
    OmitSecretExpiry = "omit-secret-expiry", "client_secret_expires_at is left out";
    IssueExpiredSecret = "issue-expired-secret", "client_secret_expires_at names a time already past: the secret is issued expired";
    NoBodyLimit = "no-body-limit", "bodies of any size are read";
    RefuseUnknownMetadata = "refuse-unknown-metadata", "metadata fields the server does not know are refused instead of ignored (RFC 7591 §2: MUST ignore)";
    UnknownClientNot404 = "unknown-client-not-404", "an unknown or another TPP's client is a 401, against the unknown-client-404 policy a profile may hold";
    AcceptBadRegistrationToken = "accept-bad-registration-token", "(plain profile) any bearer token manages any client";
    AcceptMissingRegistrationToken = "accept-missing-registration-token", "(plain profile) a request without a registration access token manages the client";
    AcceptAnotherClientsRegistrationToken = "accept-another-clients-registration-token", "(plain profile) a registration access token manages every client, not only the one it was issued for";
    StatementOptional = "statement-optional", "(fapi profile) a registration without a software statement is accepted";
    SkipStatementSignature = "skip-statement-signature", "(fapi profile) a software statement's signature and issuer are not checked";
    AcceptAnyStatementAlg = "accept-any-statement-alg", "(fapi profile) a software statement may be signed with any algorithm, none included";
    AcceptExpiredStatement = "accept-expired-statement", "(fapi profile) a software statement's exp and nbf are not checked";
    StatementSwapOnUpdate = "statement-swap-on-update", "(fapi profile) an update carrying another software's statement is applied, moving the client to that software";
    StatementNotPrecedent = "statement-not-precedent", "(fapi profile) the request's metadata wins over the software statement's";
    SkipStatementRedirectCheck = "skip-statement-redirect-check", "(fapi profile) redirect URIs need not be among the software statement's";
    OmitStatementEcho = "omit-statement-echo", "(fapi profile) the registration response leaves out the software statement";
    AcceptJsonRegistration = "accept-json-registration", "(obuk profile) a plain JSON registration is accepted where a signed request object is required";
    SkipRequestObjectSignature = "skip-request-object-signature", "(obuk profile) a request object's signature is not verified (alg none, a broken signature or another TPP's key pass)";
    AcceptUnverifiableRequestObject = "accept-unverifiable-request-object", "(obuk profile) a request object whose statement keeps its keys at a software_jwks_endpoint that cannot be read, or does not publish the signing key, is taken unverified";
    AcceptAnyRequestObjectAlg = "accept-any-request-object-alg", "(obuk profile) a request object may be signed RS256 where PS256 is required";
    AcceptExpiredRequestObject = "accept-expired-request-object", "(obuk profile) a request object's exp is not checked";
    SkipRequestObjectAudience = "skip-request-object-audience", "(obuk profile) a request object's aud need not name this server";
    SkipRequestObjectIssuer = "skip-request-object-issuer", "(obuk profile) a request object's iss need not be its statement's software_id";
    AcceptAnotherClientsToken = "accept-another-clients-token", "(obuk profile) any registered client's access token manages every client";
    AcceptAnyResponseTypes = "accept-any-response-types", "(obuk profile) response_types other than code and code id_token are registered";
    SkipSubjectDnForm = "skip-subject-dn-form", "(obuk profile) a tls_client_auth_subject_dn that does not start with CN=, or is longer than 512 characters, is registered";
    AcceptAnyAuthSigningAlg = "accept-any-auth-signing-alg", "(obuk profile) token_endpoint_auth_signing_alg other than PS256 and ES256 is registered";
    AcceptUnsupportedResponseAlg = "accept-unsupported-response-alg", "a signing or encryption algorithm for ID Tokens, userinfo, JARM responses or request objects is registered though the metadata document does not list it (none included, which JARM forbids)";
    AcceptEncWithoutAlg = "accept-enc-without-alg", "an _encrypted_response_enc is registered without its _encrypted_response_alg (OIDC Registration §2, JARM §3: the _alg MUST also be provided)";
    WrongDefaultEnc = "wrong-default-enc", "an _encrypted_response_alg named alone is registered with A256GCM as its _enc, not the A128CBC-HS256 the texts give as the default";
    SkipApplicationType = "skip-application-type", "application_type is not judged: any value is registered, and a web client using the implicit grant may use localhost";
    UnboundAccessTokens = "unbound-access-tokens", "a client that registered tls_client_certificate_bound_access_tokens gets tokens bound to nothing (no cnf at introspection, taken over any certificate)";
    DpopNotRequired = "dpop-not-required", "a client that registered dpop_bound_access_tokens gets a token without a DPoP proof";
    SkipDpopProofChecks = "skip-dpop-proof-checks", "a DPoP proof's signature, htm, htu and iat are not checked: the token is bound to whatever jwk it carries";
    UnboundDpopTokens = "unbound-dpop-tokens", "a token request with a good DPoP proof gets a Bearer token bound to nothing";
    ResourceSkipsDpop = "resource-skips-dpop", "the protected resource takes a DPoP-bound token as a bearer token, or with a proof of another key";
    ResourceSkipsBinding = "resource-skips-binding", "the protected resource takes a certificate-bound token over any certificate, or none";
    AcceptDuplicateRegistration = "accept-duplicate-registration", "(cdr profile) a software product already registered registers again";
    CdrAnyAuthMethod = "cdr-any-auth-method", "(cdr profile) a token_endpoint_auth_method other than private_key_jwt is registered";
    CdrRequiredMetadataOptional = "cdr-required-metadata-optional", "(cdr profile) a registration without id_token_signed_response_alg or token_endpoint_auth_signing_alg is taken";
    RefuseUnsupportedSsaScopes = "refuse-unsupported-ssa-scopes", "(cdr profile) a registration whose SSA names a scope the data holder does not support is refused, where it must be registered with the others";
    SkipRegistrationScopeCheck = "skip-registration-scope-check", "(cdr profile) a client's token without the scope cdr:registration manages it";
    SkipSectorIdentifierCheck = "skip-sector-identifier-check", "a sector_identifier_uri is registered without its document being read or its redirect URIs compared";
    WidenScope = "widen-scope", "a registration that asks for a scope is registered with a value more than it asked (admin)";
    SkipSignatureWhenBusy = "skip-signature-when-busy", "a request's signature is not checked while more than 500 signed requests arrived within the last second (a server shedding work under load: only a load shows it)";
    SlowUnderBurst = "slow-under-burst", "a read of a client takes 1.5 s more when it is the fifth or later read of that client within 100 ms (a burst)";
    AcceptJwksAndJwksUri = "accept-jwks-and-jwks-uri", "a client may register both jwks and jwks_uri";
    SkipJwksValidation = "skip-jwks-validation", "jwks need not be a JWK Set";
    SkipSelfSignedKeyMatch = "skip-self-signed-key-match", "a self_signed_tls_client_auth client's certificate key need not be in its registered jwks";
    TokenAuthMethodNotEnforced = "token-auth-method-not-enforced", "a client may prove itself at the token endpoint with its secret whatever method it registered";
    SkipTlsClientAuthDnMatch = "skip-tls-client-auth-dn-match", "a tls_client_auth client's certificate need not have the subject DN it registered";
    SkipTlsClientAuthSanMatch = "skip-tls-client-auth-san-match", "a tls_client_auth client's certificate need not have the DNS name it registered (tls_client_auth_san_dns)";
    AcceptUnreadableJwksUri = "accept-unreadable-jwks-uri", "a private_key_jwt client whose jwks_uri cannot be read (or serves no JWK Set) gets a token on its assertion's word";
    JwksKeptForever = "jwks-kept-forever", "a key set read from a client's jwks_uri is used for ever: a key the client rotated in is never seen, even for a kid the set lacks";
    RetiredKeyAccepted = "retired-key-accepted", "a key a client's jwks_uri no longer lists still verifies its JWTs (the server adds each new reading to what it kept)";
    SkipClientAssertionSignature = "skip-client-assertion-signature", "a private_key_jwt client assertion's signature is not verified";
    SkipClientAssertionAudience = "skip-client-assertion-audience", "a client assertion's aud need not name this server";
    AcceptExpiredClientAssertion = "accept-expired-client-assertion", "a client assertion's exp is not checked";
    AcceptReplayedClientAssertion = "accept-replayed-client-assertion", "a client assertion's jti may be used again";
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_twenty_named_flaws_that_round_trip() {
        assert!(Flaw::ALL.len() >= 20);
        for flaw in Flaw::ALL {
            assert_eq!(flaw.name().parse::<Flaw>().expect("known"), *flaw);
        }
        assert!("no-such-flaw".parse::<Flaw>().is_err());
    }
}

/// The `skip-signature-when-busy` flaw's measure of load: signed requests that arrived in this
/// second and the one before.
#[derive(Debug, Default)]
pub struct BusyMeter(std::sync::Mutex<(u64, u64, u64)>);

/// More signed requests than this within a second, and the flawed server is busy.
pub const BUSY_PER_SECOND: u64 = 500;

impl BusyMeter {
    /// Counts one arrival at `second` (any monotonic count of seconds) and says whether the
    /// server is busy: more than [`BUSY_PER_SECOND`] in this second so far, or in the last.
    pub fn arrive(&self, second: u64) -> bool {
        let mut counts = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (at, this, last) = &mut *counts;
        if second != *at {
            *last = if second == *at + 1 { *this } else { 0 };
            *this = 0;
            *at = second;
        }
        *this += 1;
        (*this).max(*last) > BUSY_PER_SECOND
    }
}

#[cfg(test)]
mod busy_tests {
    use super::*;

    #[test]
    fn busy_after_more_than_the_limit_within_a_second_and_for_the_second_after() {
        let meter = BusyMeter::default();
        assert!(!(0..BUSY_PER_SECOND).any(|_| meter.arrive(7)), "up to the limit: not busy");
        assert!(meter.arrive(7), "one more within the second: busy");
        assert!(meter.arrive(8), "the second after a busy one is busy too");
        assert!(!meter.arrive(10), "a quiet second in between: not busy");
    }
}
