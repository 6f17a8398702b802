//! What a step expects of the answer: a status or a kind of rejection, an error code, JSON
//! paths and what must hold of each, headers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::*;

/// A set of allowed values, written as one value or a list.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    pub fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(v) => vec![v.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// What the answer must be.
#[derive(schemars::JsonSchema, Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub status: Option<OneOrMany<u16>>,
    /// A kind of rejection; the profile says which statuses (and whether a refused TLS
    /// handshake) count for it.
    #[serde(default)]
    pub reject: Option<String>,
    /// The error code (`tppMessages[0].code` or `error`) is one of these.
    #[serde(default)]
    pub code: Option<OneOrMany<String>>,
    /// JSON paths and what must hold of them.
    #[serde(default)]
    pub json: BTreeMap<String, Predicate>,
    /// Header values (names case-insensitive; values templates).
    #[serde(default)]
    pub headers: BTreeMap<String, Predicate>,
    /// The named client reads the same before and after this step.
    #[serde(default)]
    pub unchanged: Option<String>,
    /// Instead of refusing, the server may register a value of its own at this JSON path
    /// (RFC 7591 §3.2.1: it "MAY reject or replace any of the client's requested metadata
    /// values"): a 2xx whose value there is not the one sent passes too, and `unchanged` then
    /// does not apply.
    #[serde(default)]
    pub or_substituted: Option<String>,
    /// A registration that sets up what the scenario tests: any 2xx whose answer names a
    /// client will do (RFC 7591 §3.2's 201 is judged where a registration is what a scenario
    /// tests, `metadata-minimal-registration`), so that a server answering 200 is still tested
    /// on everything behind it.
    #[serde(default)]
    pub created: bool,
    /// The 95th percentile of the answer times of the step's copies (`concurrent: N`) is
    /// within this many milliseconds (a response-time requirement such as the CDR's 1,000 ms).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_in_range::<_, u64, 1, MAX_P95_MS>"
    )]
    #[schemars(range(min = 1, max = MAX_P95_MS))]
    pub p95_ms: Option<u64>,
    /// `handshake` steps: whether the server takes the ClientHello (its ServerHello chooses
    /// the version offered) or refuses it (an alert, or the connection closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake: Option<HandshakeExpect>,
}

/// What a `handshake` step expects of the server.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HandshakeExpect {
    Accepted,
    Refused,
}

/// What must hold of a value.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Predicate {
    Test(Test),
    /// Equal to this (strings are templates).
    Equals(Value),
}

#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Test {
    Exists(bool),
    OneOf(Vec<Value>),
    Not(Value),
    Contains(String),
    Type(JsonType),
    AtLeast(f64),
    /// `not_past: true`: a time in seconds since the epoch that is 0 (never) or not past (five
    /// minutes allowed for the two clocks).
    NotPast(bool),
    /// `scopes_within: "a b"`: a space-separated list of scope values (RFC 6749 §3.3) each of
    /// which is among these (a template); absent, no scope was registered, which passes.
    ScopesWithin(String),
    /// `all: [{...}, {...}]`: every one of these tests holds (two rules about one value).
    All(Vec<Test>),
}

#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    String,
    Number,
    Boolean,
    Array,
    Object,
    Null,
}
