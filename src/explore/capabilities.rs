//! What a target offers that a generated program may use (the secret refresh, the token
//! endpoint, another TPP, how clients are managed, the policies that change an expectation),
//! read from its profile once; and the profiles the model cannot follow, as a typed error.

use crate::protocol::Policy;
use crate::scenario::Profile;

/// What the target offers that a program may use, read from the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub refresh: bool,
    pub token: bool,
    pub other_tpp: bool,
    pub registration_token: bool,
    /// Clients are managed with their own access token (Open Banking UK).
    pub client_token: bool,
    /// Registrations name their grants (a profile's `registration_fields` may fix them).
    pub own_grants: bool,
    /// An update racing a delete: where the DCR credentials manage clients (a registration
    /// access token an update rotates would rightly refuse the racing delete).
    pub race_delete: bool,
    pub no_store: bool,
    /// An unknown client is a 404 (a bank's choice, `unknown-client-404`).
    pub unknown_client_404: bool,
}

/// Why the explorer cannot model a profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    #[error("profile `{0}` has no RFC 7592 management (`management: none`): there is no lifecycle to explore")]
    NoManagement(String),
    #[error("profile `{0}` registers with software statement `{1}`, which names no software_redirect_uris to register with (the statement's metadata wins over the request's)")]
    Statement(String, String),
    #[error("profile `{0}` holds the cdr-dcr policy: one registration per software product, which the model does not follow (a program registers up to three clients); its rules are the fixed suite's (`run --profile {0}`)")]
    OnePerProduct(String),
}

impl Capabilities {
    /// What the model's own tests start from: everything but the token kinds and the policies.
    #[cfg(test)]
    pub fn for_tests() -> Capabilities {
        Capabilities {
            refresh: true,
            token: true,
            other_tpp: true,
            registration_token: false,
            client_token: false,
            own_grants: true,
            race_delete: true,
            no_store: false,
            unknown_client_404: false,
        }
    }

    pub fn of(profile: &Profile) -> Result<Capabilities, Unsupported> {
        use crate::scenario::profile::Management;
        if profile.management == Management::None {
            return Err(Unsupported::NoManagement(profile.name.clone()));
        }
        let applies = |tag: &str| profile.applies_to(&[tag.to_string()]);
        Ok(Capabilities {
            refresh: applies("secret-refresh") && profile.holds(Policy::SecretRefresh),
            token: applies("token-endpoint"),
            other_tpp: applies("tpp-isolation"),
            registration_token: profile.management == Management::RegistrationToken,
            client_token: profile.management == Management::ClientToken,
            own_grants: !profile.registration_fields.contains_key("grant_types"),
            race_delete: applies(crate::scenario::profile::DCR_MANAGEMENT_TAG),
            no_store: profile.holds(Policy::NoStore),
            unknown_client_404: profile.holds(Policy::UnknownClient404),
        })
    }
}
