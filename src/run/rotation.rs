//! The clock of a client's key rotation: a `rotate-keys` step (the harness's key store publishes
//! the scenario's next key at its `{{rotating_jwks_uri}}` and retires the first), and when the
//! steps that follow it are due: `after_key_cache` once the profile's key cache time is past,
//! `within_key_cache` again and again until then. It must not send anything to the target.

use std::time::{Duration, Instant};

use super::model::{RecordedRequest, StepResult};
use super::target::Target;
use crate::scenario::Profile;

/// What a server's clock and the harness's may differ by, added to the profile's cache time.
const CLOCKS: Duration = Duration::from_secs(1);

/// The shortest and longest pause between two sends of a `within_key_cache` step.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LONGEST_RETRY: Duration = Duration::from_secs(5);

/// Why a `rotate-keys` step could not be made (an ERROR, never the server's failure).
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("no key store runs for this profile (it starts where the profile holds jwks-uri or jwks-rotation)")]
    NoKeystore,
    #[error("the session has no slot to rotate (`unique` is unset)")]
    NoSlot,
    #[error("the profile names no signing identity, or no other one, whose keys to rotate between")]
    NoIdentities,
    #[error(transparent)]
    Full(#[from] crate::keystore::TooManyRotations),
}

/// Rotates the scenario's key set at the key store, and says so as a step that sent nothing.
pub fn rotate(target: &Target, slot: Option<&str>, name: String) -> Result<StepResult, RotationError> {
    let keystore = target.keystore.as_ref().ok_or(RotationError::NoKeystore)?;
    let slot = slot.ok_or(RotationError::NoSlot)?;
    let (old, new) = target.rotating_keys().ok_or(RotationError::NoIdentities)?;
    keystore.rotate(slot)?;
    Ok(StepResult {
        name,
        request: RecordedRequest {
            method: "ROTATE".into(),
            url: keystore.rotating_jwks_uri(old, new, slot),
            tls_identity: None,
            headers: vec![],
            body: format!("the harness's key store now publishes `{new}`'s key alone, and no longer `{old}`'s"),
            signing_string: None,
        },
        response: None,
        transport_error: None,
        mutations: vec![],
        checks: vec![],
        duration_ms: 0,
    })
}

/// When the target has read a key set rotated at `rotated`, however it caches it.
pub fn cache_over(profile: &Profile, rotated: Instant) -> Instant {
    rotated + Duration::from_secs(profile.jwks_cache_s) + CLOCKS
}

/// The pause before sending a `within_key_cache` step again: a twentieth of the cache time,
/// within a quarter of a second and five seconds.
pub fn retry_pause(profile: &Profile) -> Duration {
    (Duration::from_secs(profile.jwks_cache_s) / 20).clamp(FIRST_RETRY, LONGEST_RETRY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_time_sets_the_deadline_and_the_pace_of_retries() {
        let profile = |cache: u64| {
            let yaml = format!("name: p\njwks_cache_s: {cache}\n");
            serde_norway::from_str::<Profile>(&yaml).expect("a profile")
        };
        let now = Instant::now();
        let cases = [(0, 1_000, 250), (1, 2_000, 250), (60, 61_000, 3_000), (3_600, 3_601_000, 5_000)];
        for (cache, over_ms, pause_ms) in cases {
            let profile = profile(cache);
            assert_eq!(cache_over(&profile, now) - now, Duration::from_millis(over_ms), "{cache} s");
            assert_eq!(retry_pause(&profile), Duration::from_millis(pause_ms), "{cache} s");
        }
    }
}
