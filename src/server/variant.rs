//! The reference server's named variants: each is a behaviour the RFCs allow that differs from
//! the server's default. A suite that fails the server with a variant on has a false FAIL; the
//! variant matrix (tests/variant_matrix.rs) runs the whole suite against each and requires it to
//! pass and leave no client behind.

use super::Flaw;
use crate::catalog::named_catalog;
use crate::protocol::Policy;

named_catalog!(Variant, UnknownVariant, "variant", "`dcr-harness serve --list-variants` prints them all", {
    OpaqueClientUri = "opaque-client-uri", "(plain profile) registration_client_uri names another host for the same server (localhost) and carries a query the server requires (RFC 7592 §3: the client uses it as given)";
    UnknownClient401 = "unknown-client-401", "an unknown (or another TPP's) client is a 401, as RFC 7592 §2.1-2.3 say, not SMBC's 404";
    HttpRedirectsAccepted = "http-redirects-accepted", "plain http redirect URIs are registered (RFC 6749 §3.1.2.1 says SHOULD use TLS)";
    InvalidRequestForClientErrors = "invalid-request-for-client-errors", "an update that breaks RFC 7592 §2.2's rules for the client is refused with invalid_request (the text names no code)";
    RatRotatedOnUpdate = "rat-rotated-on-update", "(plain profile) every update answers with a new registration access token; the old one stops working (RFC 7592 §2.2: the server MAY issue one, the client MUST discard the old)";
    RatRotatedOnUse = "rat-rotated-on-use", "(plain profile) every read and update answers with a new registration access token; the old one stops working (RFC 7592 §2.1, §2.2)";
    GrantTypesEnforced = "grant-types-enforced", "the token endpoint refuses a grant the client was not registered for (RFC 7591 §2: grant_types defaults to authorization_code; RFC 6749 §5.2 unauthorized_client)";
    MetadataSubstituted = "metadata-substituted", "invalid metadata is replaced with a suitable value, or dropped for its default, and the client registered (RFC 7591 §3.2.1: the server MAY reject or replace any requested value); only what has no substitute is refused";
    SignatureReplayRefused = "signature-replay-refused", "a signature seen before within the Date window is refused (no text requires it; a bank may guard against replays so)";
    ConcurrentUpdate409 = "concurrent-update-409", "an update that arrives while another update of the same client is in progress is refused with 409 Conflict (RFC 9110 §15.5.10); each update takes 50 ms";
    RatRevokedOnMisuse = "rat-revoked-on-misuse", "(plain profile) a registration access token presented for a client it was not issued for (or one that does not exist) is revoked at once, stranding its own client (RFC 7592 §2.1: SHOULD be immediately revoked)";
    StatementRefusalsUnapproved = "statement-refusals-unapproved", "(fapi profile) every refused software statement is answered unapproved_software_statement, never invalid_software_statement (RFC 7591 §3.2.2 defines both and leaves the reading to the server)";
    AssertionReplayAllowed = "assertion-replay-allowed", "a private_key_jwt client assertion may be used again while it is valid (RFC 7523 §3: the server MAY refuse a replayed jti, and need not)";
    RevocationSoftFail = "revocation-soft-fail", "a certificate whose revocation status cannot be had (unknown to the responder, the responder down) is let through; a revoked one is still refused (soft fail, as browsers do)";
    ClientIdInUpdateReplaced = "client-id-in-update-replaced", "an update whose client_id is missing or another's is applied to the client of its URL and answered with that client's own client_id (RFC 7592 §2.2: the server MAY replace invalid values, and MUST return them)";
    DateWindowWholeSeconds = "date-window-whole-seconds", "the Date window is judged with the clock read in whole seconds, so a signature up to a second past the window is still taken (the SMBC text and draft-cavage §2.3 name a window, not its resolution)";
    SecretRotatedOnUpdate = "secret-rotated-on-update", "every update answers with a new client secret; the old one stops working (RFC 7592 §2.2: the client MUST discard the old)";
    EncryptionDefaultImplicit = "encryption-default-implicit", "an _encrypted_response_alg named without its _enc is registered as asked and answered without the _enc, whose default (A128CBC-HS256) the texts give, rather than with it spelt out";
    EveryTokenBound = "every-token-bound", "every access token issued over mutual TLS is bound to the client's certificate, whether or not the client asked (RFC 8705 §3 lets a server bind tokens to the certificate on the connection)";
    Tls12Only = "tls12-only", "the server offers TLS 1.2 alone, not TLS 1.3 (RFC 9325 §3.1.1: implementations SHOULD support TLS 1.3, so a server without it is within the text; a profile that wants it holds the tls13 policy)";
    JwksRereadOnlyWhenStale = "jwks-reread-only-when-stale", "a key set read from a client's jwks_uri is used until its cache time (1 s) is past, even for a JWT naming a kid it lacks (OpenID Connect Core §10.1.1 describes reading again on an unfamiliar kid; no text requires it)";
    JwksNeverCached = "jwks-never-cached", "a client's jwks_uri is read for every JWT it signs, never kept";
    DpopNonceRequired = "dpop-nonce-required", "every DPoP proof must carry a nonce the server gave: one without it (or with an old one) is answered use_dpop_nonce with a DPoP-Nonce header, and taken when sent again with it (RFC 9449 §8, §9)";
    DuplicateRefusedInvalidSoftwareStatement = "duplicate-refused-invalid-software-statement", "(cdr profile) a duplicate registration is refused invalid_software_statement, as the Consumer Data Standards' own example answers, not invalid_client_metadata (the standards require the 400, not its code)";
});

impl Variant {
    /// The flaw whose behaviour this variant is: a fault where the profile holds the policy
    /// that forbids it (`forbidden_by`), legal where it does not.
    pub fn relaxes(self) -> Option<Flaw> {
        match self {
            Variant::HttpRedirectsAccepted => Some(Flaw::AcceptHttpRedirectUri),
            Variant::UnknownClient401 => Some(Flaw::UnknownClientNot404),
            Variant::AssertionReplayAllowed => Some(Flaw::AcceptReplayedClientAssertion),
            Variant::Tls12Only => Some(Flaw::NoTls13),
            _ => None,
        }
    }

    /// The policy a profile holds that forbids this behaviour: a run with the variant turns it
    /// off, since the variant is what a target without that policy may do.
    pub fn forbidden_by(self) -> Option<Policy> {
        match self {
            Variant::UnknownClient401 => Some(Policy::UnknownClient404),
            Variant::HttpRedirectsAccepted => Some(Policy::HttpsRedirectUris),
            Variant::AssertionReplayAllowed => Some(Policy::AssertionReplay),
            Variant::RevocationSoftFail => Some(Policy::RevocationHardFail),
            Variant::Tls12Only => Some(Policy::Tls13),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_round_trip_by_name() {
        for variant in Variant::ALL {
            assert_eq!(variant.name().parse::<Variant>().expect("known"), *variant);
            assert!(!variant.description().is_empty());
        }
        assert!("no-such-variant".parse::<Variant>().is_err());
    }
}
