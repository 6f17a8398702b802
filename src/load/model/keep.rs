//! How many registered clients a load's user keeps while it runs (`keep_clients` in a load
//! profile): a number within bounds, or `all`, as YAML spells it. Plain data; it deletes nothing.

use serde::{Deserialize, Serialize};

/// How many registered clients a user keeps while the load runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepClients {
    Most(usize),
    All,
}

impl KeepClients {
    /// The most a user keeps by default: a handful per user, not tens of thousands on a target.
    pub const DEFAULT: usize = 8;
    pub const MOST: usize = 100_000;

    /// The number beyond which a user deletes during the load; none keeps all.
    pub fn limit(self) -> Option<usize> {
        match self {
            KeepClients::Most(n) => Some(n),
            KeepClients::All => None,
        }
    }
}

impl Default for KeepClients {
    fn default() -> Self {
        KeepClients::Most(Self::DEFAULT)
    }
}

impl Serialize for KeepClients {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            KeepClients::Most(n) => s.serialize_u64(*n as u64),
            KeepClients::All => s.serialize_str("all"),
        }
    }
}

impl<'de> Deserialize<'de> for KeepClients {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Spelled {
            Number(i64),
            Word(String),
        }
        let wrong =
            || serde::de::Error::custom(format!("keep_clients is a number from 1 to {} or `all`", KeepClients::MOST));
        match Spelled::deserialize(d).map_err(|_| wrong())? {
            Spelled::Number(n) => usize::try_from(n)
                .ok()
                .filter(|n| (1..=KeepClients::MOST).contains(n))
                .map(KeepClients::Most)
                .ok_or_else(wrong),
            Spelled::Word(w) if w == "all" => Ok(KeepClients::All),
            Spelled::Word(_) => Err(wrong()),
        }
    }
}

impl schemars::JsonSchema for KeepClients {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "KeepClients".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "clients a user keeps during the load (default 8; beyond, it deletes its oldest), or `all` to delete after the load",
            "oneOf": [
                { "type": "integer", "minimum": 1, "maximum": KeepClients::MOST },
                { "const": "all" }
            ]
        })
    }
}
