//! The values a scenario writes in its own terms: who acts (`Who`, `Role`), a Date offset
//! against the profile's window, an HTTP method, numbers kept in range as they are read.

use serde::{Deserialize, Serialize};

/// An identity (or a TPP's credentials) named in a scenario, `none` (deliberately nothing), or
/// one of the profile's own identities by its role (`$tls`, `$sign`, `$other_tls`,
/// `$other_sign`), so that a scenario can use the user's certificates in the wrong role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Nobody,
    Named(String),
    Role(Role),
}

/// The profile's identities by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Tls,
    Sign,
    OtherTls,
    OtherSign,
}

impl Role {
    const ALL: [(Role, &'static str); 4] =
        [(Role::Tls, "$tls"), (Role::Sign, "$sign"), (Role::OtherTls, "$other_tls"), (Role::OtherSign, "$other_sign")];

    fn spelling(self) -> &'static str {
        Role::ALL.iter().find(|(r, _)| *r == self).map(|(_, s)| *s).unwrap_or("$tls")
    }
}

impl Who {
    /// The name as written, or `None` for `none` and for a role (which only a profile resolves).
    pub fn name(&self) -> Option<&str> {
        match self {
            Who::Named(name) => Some(name),
            Who::Nobody | Who::Role(_) => None,
        }
    }

    /// The identity's name against a profile's identities, or `None` for nobody.
    pub fn resolve<'a>(&'a self, ids: &'a crate::scenario::profile::Identities) -> Option<&'a str> {
        match self {
            Who::Nobody => None,
            Who::Named(name) => Some(name),
            Who::Role(Role::Tls) => ids.tls.name(),
            Who::Role(Role::Sign) => ids.sign.name(),
            Who::Role(Role::OtherTls) => ids.other_tls.name(),
            Who::Role(Role::OtherSign) => ids.other_sign.name(),
        }
    }
}

impl Serialize for Who {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Who::Role(role) => s.serialize_str(role.spelling()),
            other => s.serialize_str(other.name().unwrap_or("none")),
        }
    }
}

impl<'de> Deserialize<'de> for Who {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        if name == "none" {
            return Ok(Who::Nobody);
        }
        if name.starts_with('$') {
            return Role::ALL.iter().find(|(_, s)| *s == name).map(|(r, _)| Who::Role(*r)).ok_or_else(|| {
                serde::de::Error::custom(format!("unknown role `{name}`; roles: $tls, $sign, $other_tls, $other_sign"))
            });
        }
        Ok(Who::Named(name))
    }
}

impl schemars::JsonSchema for Who {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Who".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "description": "a name from the PKI manifest, `none`, or a role of the profile's identities: $tls, $sign, $other_tls, $other_sign" })
    }
}

/// Seconds added to a signed Date: fixed, or counted from the edge of the target's Date window
/// (which the profile names: the text leaves it to the bank).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOffset {
    Seconds(i64),
    /// `sign * window + seconds`: `-window+1` is one second inside the past edge.
    FromWindow {
        sign: i64,
        seconds: i64,
    },
}

impl Default for DateOffset {
    fn default() -> Self {
        DateOffset::Seconds(0)
    }
}

impl DateOffset {
    /// The offset in seconds against a window of `window` seconds, if it fits an `i64`.
    pub fn seconds(self, window: u64) -> Option<i64> {
        match self {
            DateOffset::Seconds(s) => Some(s),
            DateOffset::FromWindow { sign, seconds } => {
                i64::try_from(window).ok()?.checked_mul(sign)?.checked_add(seconds)
            }
        }
    }

    fn parse(text: &str) -> Option<DateOffset> {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let (sign, rest) = match text.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, text.strip_prefix('+').unwrap_or(&text)),
        };
        let rest = rest.strip_prefix("window")?;
        let seconds = match rest {
            "" => 0,
            _ => rest.strip_prefix('+').unwrap_or(rest).parse().ok()?,
        };
        Some(DateOffset::FromWindow { sign, seconds })
    }
}

impl Serialize for DateOffset {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DateOffset::Seconds(n) => s.serialize_i64(*n),
            DateOffset::FromWindow { sign, seconds } => {
                s.serialize_str(&format!("{}window{seconds:+}", if *sign < 0 { "-" } else { "" }))
            }
        }
    }
}

/// The largest `date_offset`, either way: ten years.
pub const MAX_DATE_OFFSET_S: u64 = 10 * 366 * 24 * 3600;

impl DateOffset {
    fn within_bounds(&self) -> bool {
        match self {
            DateOffset::Seconds(n) => n.unsigned_abs() <= MAX_DATE_OFFSET_S,
            DateOffset::FromWindow { seconds, .. } => seconds.unsigned_abs() <= MAX_DATE_OFFSET_S,
        }
    }
}

impl<'de> Deserialize<'de> for DateOffset {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(i64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Seconds(n) if n.unsigned_abs() <= MAX_DATE_OFFSET_S => Ok(DateOffset::Seconds(n)),
            Raw::Seconds(n) => Err(serde::de::Error::custom(format!(
                "date_offset {n} is out of range: give seconds from -{MAX_DATE_OFFSET_S} to {MAX_DATE_OFFSET_S} (ten years)"
            ))),
            Raw::Text(text) => DateOffset::parse(&text).filter(|o| o.within_bounds()).ok_or_else(|| {
                serde::de::Error::custom(format!("`{text}` is neither seconds nor `-window+N` / `window-N`"))
            }),
        }
    }
}

impl schemars::JsonSchema for DateOffset {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DateOffset".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "oneOf": [{ "type": "integer" }, { "type": "string", "pattern": "^[-+]?window([-+][0-9]+)?$" }]
        })
    }
}

/// Deserializes a whole number in `LO..=HI`, or says which range it must be in (the YAML
/// loader puts the `file:line:col` in front): every number from outside is range-checked as it
/// is read, so no later arithmetic can overflow and no wait or loop can run unbounded.
pub fn in_range<'de, D, T, const LO: u64, const HI: u64>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    let n = u64::deserialize(d)?;
    checked_range::<T, D::Error, LO, HI>(n)
}

/// As [`in_range`], for an optional field.
pub fn opt_in_range<'de, D, T, const LO: u64, const HI: u64>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    Option::<u64>::deserialize(d)?.map(checked_range::<T, D::Error, LO, HI>).transpose()
}

fn checked_range<T: TryFrom<u64>, E: serde::de::Error, const LO: u64, const HI: u64>(n: u64) -> Result<T, E> {
    if !(LO..=HI).contains(&n) {
        return Err(E::custom(format!("{n} is out of range: give a whole number from {LO} to {HI}")));
    }
    T::try_from(n).map_err(|_| E::custom(format!("{n} is too large for this machine")))
}

/// An HTTP method as a raw step writes it (upper-cased; any RFC 9110 token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpMethod(pub http::Method);

impl HttpMethod {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Serialize for HttpMethod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for HttpMethod {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        http::Method::from_bytes(text.to_ascii_uppercase().as_bytes())
            .map(HttpMethod)
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not an HTTP method")))
    }
}

impl schemars::JsonSchema for HttpMethod {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HttpMethod".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" })
    }
}
