//! Faults in the services a run hosts for the server to fetch from: the test QTSP's OCSP
//! responder and CRL, the TPPs' key store, and the sector identifier documents. A fault is
//! spelt `SERVICE:EFFECT` (`ocsp:latency=300`, `crl:error=503`, `keystore:down`); several
//! given together (`ocsp:down,crl:down`) hold at once. The [`Switchboard`] is shared by the
//! services, which ask it before every answer, and by the run or load that sets and clears
//! faults (from `--fault`, or for a scenario that names them).
//!
//! It owns the spelling, the ranges and the switchboard only: it never serves, and what a
//! server does under a fault is that server's.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// A service the run hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// The test QTSP's OCSP responder.
    Ocsp,
    /// The test QTSP's issuing CA's CRL.
    Crl,
    /// The key store: TPPs' key sets at their `jwks_uri` (and `software_jwks_endpoint`).
    Keystore,
    /// The sector identifier documents (served beside the key sets).
    Sector,
}

impl Service {
    pub const ALL: [Service; 4] = [Service::Ocsp, Service::Crl, Service::Keystore, Service::Sector];

    pub fn name(self) -> &'static str {
        match self {
            Service::Ocsp => "ocsp",
            Service::Crl => "crl",
            Service::Keystore => "keystore",
            Service::Sector => "sector",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What a fault does to every request its service receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The answer comes this much later.
    Latency(Duration),
    /// The answer is this status, with no body.
    Error(u16),
    /// The request is read and the connection closed with no answer.
    Down,
}

/// The longest latency a fault may add: a minute (every fetch a server makes times out before).
pub const MOST_LATENCY_MS: u64 = 60_000;

/// One service's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub service: Service,
    pub effect: Effect,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let service = self.service.name();
        match self.effect {
            Effect::Latency(d) => write!(f, "{service}:latency={}", d.as_millis()),
            Effect::Error(status) => write!(f, "{service}:error={status}"),
            Effect::Down => write!(f, "{service}:down"),
        }
    }
}

/// Why a fault was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error("`{0}`: give a fault as SERVICE:EFFECT, with SERVICE one of ocsp, crl, keystore, sector")]
    Service(String),
    #[error("`{0}`: give the effect as latency=MS (1 to {MOST_LATENCY_MS}), error=STATUS (400 to 599) or down")]
    Effect(String),
    #[error("`{0}` names {1} twice: one effect per service")]
    Twice(String, &'static str),
    #[error("give at least one fault")]
    Empty,
}

impl FromStr for Fault {
    type Err = FaultError;

    fn from_str(s: &str) -> Result<Fault, FaultError> {
        let (service, effect) = s.trim().split_once(':').ok_or_else(|| FaultError::Service(s.to_string()))?;
        let service = Service::ALL
            .into_iter()
            .find(|known| known.name() == service.trim())
            .ok_or_else(|| FaultError::Service(s.to_string()))?;
        let bad = || FaultError::Effect(s.to_string());
        let number = |text: &str, range: std::ops::RangeInclusive<u64>| {
            text.trim().parse::<u64>().ok().filter(|n| range.contains(n)).ok_or_else(bad)
        };
        let effect = match effect.trim().split_once('=') {
            None if effect.trim() == "down" => Effect::Down,
            Some(("latency", ms)) => Effect::Latency(Duration::from_millis(number(ms, 1..=MOST_LATENCY_MS)?)),
            Some(("error", status)) => Effect::Error(number(status, 400..=599)? as u16),
            _ => return Err(bad()),
        };
        Ok(Fault { service, effect })
    }
}

/// Faults that hold at once: at most one per service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults(Vec<Fault>);

impl Faults {
    pub fn none() -> Faults {
        Faults(Vec::new())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Fault> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The services these faults touch.
    pub fn services(&self) -> impl Iterator<Item = Service> + '_ {
        self.0.iter().map(|f| f.service)
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.is_empty() {
            true => f.write_str("none"),
            false => f.write_str(&self.0.iter().map(Fault::to_string).collect::<Vec<_>>().join(",")),
        }
    }
}

impl FromStr for Faults {
    type Err = FaultError;

    /// `SERVICE:EFFECT[,SERVICE:EFFECT...]`.
    fn from_str(s: &str) -> Result<Faults, FaultError> {
        let mut faults: Vec<Fault> = Vec::new();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let fault: Fault = part.parse()?;
            if faults.iter().any(|f| f.service == fault.service) {
                return Err(FaultError::Twice(s.to_string(), fault.service.name()));
            }
            faults.push(fault);
        }
        match faults.is_empty() {
            true => Err(FaultError::Empty),
            false => Ok(Faults(faults)),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Faults {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spelled = Vec::<String>::deserialize(d)?;
        spelled.join(",").parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Faults {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Fault::to_string))
    }
}

impl schemars::JsonSchema for Faults {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Faults".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "faults in the services the run hosts, held while the scenario runs: SERVICE:EFFECT, SERVICE one of ocsp, crl, keystore, sector; EFFECT latency=MS, error=STATUS or down",
            "type": "array",
            "items": { "type": "string", "pattern": "^(ocsp|crl|keystore|sector):(latency=[0-9]+|error=[45][0-9][0-9]|down)$" },
            "minItems": 1
        })
    }
}

/// The faults in force, shared by the hosted services and whoever sets them.
#[derive(Debug, Clone, Default)]
pub struct Switchboard(Arc<RwLock<[Option<Effect>; 4]>>);

/// The faults in force at a moment.
#[derive(Debug, Clone, Copy)]
pub struct InForce([Option<Effect>; 4]);

/// The connection is to close with no answer (the service is down).
#[derive(Debug, thiserror::Error)]
#[error("the service is down (a fault the run set)")]
pub struct Down;

impl Switchboard {
    /// Puts `faults` in force, in place of any before.
    pub fn set(&self, faults: &Faults) {
        let mut now = [None; 4];
        for fault in faults.iter() {
            now[fault.service.index()] = Some(fault.effect);
        }
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = now;
    }

    /// The faults in force now, to [`restore`](Self::restore) later.
    pub fn in_force(&self) -> InForce {
        InForce(*self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Puts back the faults that were in force.
    pub fn restore(&self, earlier: InForce) {
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = earlier.0;
    }

    /// No fault any more.
    pub fn clear(&self) {
        self.set(&Faults::none());
    }

    pub fn effect(&self, service: Service) -> Option<Effect> {
        self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner)[service.index()]
    }

    /// What the service does before answering a request: waits out a latency and answers
    /// (`Ok(None)`), answers with an error status instead (`Ok(Some)`), or answers nothing
    /// (`Err(Down)`).
    pub async fn before_answering(&self, service: Service) -> Result<Option<http::StatusCode>, Down> {
        match self.effect(service) {
            None => Ok(None),
            Some(Effect::Latency(d)) => {
                tokio::time::sleep(d).await;
                Ok(None)
            }
            Some(Effect::Error(status)) => {
                Ok(Some(http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)))
            }
            Some(Effect::Down) => Err(Down),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_read_as_spelt_and_refused_out_of_range() {
        let ms = Duration::from_millis;
        let cases: &[(&str, Option<Fault>)] = &[
            ("ocsp:latency=300", Some(Fault { service: Service::Ocsp, effect: Effect::Latency(ms(300)) })),
            ("crl:error=503", Some(Fault { service: Service::Crl, effect: Effect::Error(503) })),
            ("keystore:down", Some(Fault { service: Service::Keystore, effect: Effect::Down })),
            (" sector : down ", Some(Fault { service: Service::Sector, effect: Effect::Down })),
            ("ocsp:latency=0", None),
            ("ocsp:latency=60001", None),
            ("ocsp:latency=-1", None),
            ("crl:error=200", None),
            ("crl:error=600", None),
            ("dns:down", None),
            ("ocsp", None),
            ("ocsp:slow", None),
        ];
        for (spelt, expected) in cases {
            assert_eq!(spelt.parse::<Fault>().ok(), *expected, "{spelt}");
        }
    }

    #[test]
    fn several_faults_hold_at_once_one_per_service() {
        let faults: Faults = "ocsp:down,crl:error=500".parse().expect("two services");
        assert_eq!(faults.to_string(), "ocsp:down,crl:error=500");
        assert_eq!(
            "ocsp:down,ocsp:latency=5".parse::<Faults>(),
            Err(FaultError::Twice("ocsp:down,ocsp:latency=5".into(), "ocsp"))
        );
        assert_eq!("".parse::<Faults>(), Err(FaultError::Empty));
    }

    #[tokio::test]
    async fn the_switchboard_says_what_each_service_does_until_cleared() {
        let board = Switchboard::default();
        board.set(&"ocsp:down,crl:error=503,keystore:latency=20".parse().expect("faults"));
        assert!(board.before_answering(Service::Ocsp).await.is_err());
        assert_eq!(board.before_answering(Service::Crl).await.ok(), Some(Some(http::StatusCode::SERVICE_UNAVAILABLE)));
        let started = std::time::Instant::now();
        assert_eq!(board.before_answering(Service::Keystore).await.ok(), Some(None));
        assert!(started.elapsed() >= Duration::from_millis(20), "the latency was waited out");
        assert_eq!(board.before_answering(Service::Sector).await.ok(), Some(None));
        board.clear();
        assert!(Service::ALL.iter().all(|s| board.effect(*s).is_none()));
    }
}
