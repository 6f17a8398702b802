//! RFC 9421 HTTP Message Signatures, the dialect beside draft-cavage (FAPI 2.0 Message Signing
//! uses it, with RFC 9530 `Content-Digest`): the covered components and their values (§2), the
//! signature base (§2.5), `Signature-Input` and `Signature` as RFC 8941 dictionaries (read and
//! written with `sfv`), the algorithms of §3.3, and a verifier whose broken rules are the same
//! [`SignatureError`]s the draft-cavage verifier names, so that a scenario's expected rule and a
//! server's answer mean the same in both dialects.
//!
//! Like the rest of `signature`, it works on an in-memory [`Message`]; keys come from `pki`, and
//! whether a certificate is trusted is the caller's to judge. The verifier is `verify`, the
//! mutations' forms in this dialect `mutate`.

use std::time::SystemTime;

use crate::signature::unix_seconds;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sfv::{BareItem, Dictionary, InnerList, Item, ListEntry, Parameters, Parser};

use super::BaseError;
use crate::pki::inspect::KeyDescription;
use crate::pki::{Identity, KeyKind, SigningScheme};
use crate::signature::verify::KeyAlgorithm;
use crate::signature::{headers, Dialect, DigestAlgorithm, Message, SignError, SignatureError, Signed};

mod mutate;
mod verify;

pub(crate) use mutate::apply_mutation;
pub(crate) use verify::verify;

/// The fields RFC 9421 and RFC 9530 add.
pub mod fields {
    pub const SIGNATURE_INPUT: &str = "Signature-Input";
    pub const CONTENT_DIGEST: &str = "Content-Digest";
}

/// The algorithms of RFC 9421 §3.3 (the HTTP Signature Algorithms registry).
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Algorithm {
    /// RSASSA-PSS with SHA-512 (§3.3.1).
    #[serde(rename = "rsa-pss-sha512")]
    RsaPssSha512,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (§3.3.2).
    #[serde(rename = "rsa-v1_5-sha256")]
    RsaV15Sha256,
    /// ECDSA P-256 with SHA-256, the signature as `r || s` (§3.3.4).
    #[serde(rename = "ecdsa-p256-sha256")]
    EcdsaP256Sha256,
    /// Ed25519 (§3.3.6); verified for the RFC's vectors, never made by a QSEAL here.
    #[serde(rename = "ed25519")]
    Ed25519,
    /// HMAC SHA-256 (§3.3.3); verified for the RFC's vectors, never accepted from a TPP.
    #[serde(rename = "hmac-sha256")]
    HmacSha256,
}

impl Algorithm {
    /// The algorithm as the verifier's core knows it.
    pub fn key_algorithm(self) -> KeyAlgorithm {
        match self {
            Algorithm::RsaPssSha512 => KeyAlgorithm::RsaPssSha512,
            Algorithm::RsaV15Sha256 => KeyAlgorithm::RsaPkcs1Sha256,
            Algorithm::EcdsaP256Sha256 => KeyAlgorithm::EcdsaP256Sha256,
            Algorithm::Ed25519 => KeyAlgorithm::Ed25519,
            Algorithm::HmacSha256 => KeyAlgorithm::HmacSha256,
        }
    }

    pub const ALL: &'static [Algorithm] = &[
        Algorithm::RsaPssSha512,
        Algorithm::RsaV15Sha256,
        Algorithm::EcdsaP256Sha256,
        Algorithm::Ed25519,
        Algorithm::HmacSha256,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RsaPssSha512 => "rsa-pss-sha512",
            Algorithm::RsaV15Sha256 => "rsa-v1_5-sha256",
            Algorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Algorithm::Ed25519 => "ed25519",
            Algorithm::HmacSha256 => "hmac-sha256",
        }
    }

    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// The algorithm a key signs with when the dialect names none: PSS for RSA (the only RSA
    /// scheme FAPI 2.0 allows), the fixed-size ECDSA for P-256.
    pub fn for_key(kind: KeyKind) -> Algorithm {
        match kind {
            // RSASSA-PSS with SHA-512 and its 64-byte salt needs a modulus over 1040 bits: the
            // deliberately weak RSA-1024 test key signs PKCS#1 v1.5 (and says so in `alg`).
            KeyKind::Rsa { bits } if bits < 1048 => Algorithm::RsaV15Sha256,
            KeyKind::Rsa { .. } => Algorithm::RsaPssSha512,
            KeyKind::EcdsaP256 => Algorithm::EcdsaP256Sha256,
        }
    }

    /// Whether a certificate's key can make this algorithm's signatures.
    pub(crate) fn fits(self, key: &KeyDescription) -> bool {
        matches!(
            (self, key),
            (Algorithm::RsaPssSha512 | Algorithm::RsaV15Sha256, KeyDescription::Rsa { .. })
                | (Algorithm::EcdsaP256Sha256, KeyDescription::EcdsaP256)
        )
    }

    /// How a private key signs for this algorithm; `None` for the ones a QSEAL cannot make.
    pub(crate) fn signing_scheme(self) -> Option<SigningScheme> {
        match self {
            Algorithm::RsaPssSha512 => Some(SigningScheme::RsaPssSha512),
            Algorithm::RsaV15Sha256 => Some(SigningScheme::Classic),
            Algorithm::EcdsaP256Sha256 => Some(SigningScheme::EcdsaFixed),
            Algorithm::Ed25519 | Algorithm::HmacSha256 => None,
        }
    }
}

/// The `Content-Digest` algorithms of RFC 9530 a signer may use.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ContentDigest {
    #[default]
    #[serde(rename = "sha-256")]
    Sha256,
    #[serde(rename = "sha-512")]
    Sha512,
}

impl ContentDigest {
    pub fn key(self) -> &'static str {
        match self {
            ContentDigest::Sha256 => "sha-256",
            ContentDigest::Sha512 => "sha-512",
        }
    }

    /// The same hash as the draft-cavage `Digest` names it (RFC 9530 spells it in lower case).
    fn hash(self, body: &[u8]) -> Vec<u8> {
        match self {
            ContentDigest::Sha256 => DigestAlgorithm::Sha256.hash(body),
            ContentDigest::Sha512 => DigestAlgorithm::Sha512.hash(body),
        }
    }

    /// The `Content-Digest` field value of `body`: `sha-256=:<base64>:`.
    pub fn value(self, body: &[u8]) -> String {
        format!("{}=:{}:", self.key(), B64.encode(self.hash(body)))
    }
}

/// How a target signs in RFC 9421. Every field has FAPI 2.0 Message Signing's choice.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rfc9421 {
    /// The signature's label in `Signature-Input` and `Signature`.
    pub label: String,
    /// The covered components in order: derived ones (`@method`, `@target-uri`, `@authority`,
    /// `@path`, `@query`, `@scheme`, `@request-target`, or `"@query-param";name="x"` in RFC
    /// 8941 form) and field names. A verifier requires `content-digest` only where there is a
    /// body; the signer covers it where it is listed, an empty body included (RFC 9530 §2).
    pub components: Vec<String>,
    /// The algorithm; none signs `rsa-pss-sha512` with RSA keys and `ecdsa-p256-sha256` with
    /// P-256 keys.
    pub alg: Option<Algorithm>,
    /// Whether the `alg` parameter is written (RFC 9421 leaves it optional).
    pub include_alg: bool,
    /// The `tag` parameter; a verifier with one requires it (FAPI: `fapi-2-request`).
    pub tag: Option<String>,
    pub digest: ContentDigest,
    /// Seconds from `created` to `expires`; none writes no `expires`.
    pub expires_s: Option<u64>,
    /// Whether a random `nonce` parameter is written.
    pub nonce: bool,
}

impl Default for Rfc9421 {
    fn default() -> Self {
        Rfc9421 {
            label: "sig1".into(),
            components: vec!["@method".into(), "@target-uri".into(), "content-digest".into()],
            alg: None,
            include_alg: true,
            tag: None,
            digest: ContentDigest::Sha256,
            expires_s: None,
            nonce: false,
        }
    }
}

impl Rfc9421 {
    /// The components to cover, as RFC 8941 items.
    fn component_items(&self) -> Result<Vec<Item>, ComponentError> {
        self.components.iter().map(|c| component_id(c)).collect()
    }
}

const CONTENT_DIGEST: &str = "content-digest";

/// A component identifier of a profile that is none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComponentError {
    /// Not an RFC 8941 item (the parser's reason).
    #[error("`{text}`: {reason}")]
    Unparsable { text: String, reason: String },
    #[error("`{0}`: a component identifier is a string")]
    NotAString(String),
    #[error("`{0}` is not a field name or a derived component (`@method`, ...)")]
    NotAName(String),
}

/// A component identifier from the profile's text: a bare name, or an RFC 8941 string item
/// with its parameters (`"@query-param";name="Pet"`).
pub fn component_id(text: &str) -> Result<Item, ComponentError> {
    let unparsable = |reason: String| ComponentError::Unparsable { text: text.to_string(), reason };
    if text.starts_with('"') {
        let item: Item = Parser::new(text).parse().map_err(|e| unparsable(e.to_string()))?;
        if item.bare_item.as_string().is_none() {
            return Err(ComponentError::NotAString(text.to_string()));
        }
        return Ok(item);
    }
    let name = text.to_ascii_lowercase();
    let token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let derived = name.strip_prefix('@').unwrap_or(&name);
    if derived.is_empty() || !derived.chars().all(token_char) {
        return Err(ComponentError::NotAName(text.to_string()));
    }
    let name = sfv::String::from_string(name).map_err(|(e, _)| unparsable(e.to_string()))?;
    Ok(Item::new(name))
}

/// A parameter key; every caller passes a constant that is a valid RFC 8941 key (checked at
/// compile time by `KeyRef::constant`).
fn key(name: &'static str) -> sfv::Key {
    sfv::KeyRef::constant(name).to_owned()
}

fn sf_string(text: &str) -> Result<sfv::String, SignatureError> {
    sfv::String::from_string(text.to_string())
        .map_err(|_| SignatureError::Malformed(format!("`{text}` cannot be an RFC 8941 string")))
}

// ---- components and the signature base ---------------------------------------------------

/// The value of one covered component of `msg` (§2.1, §2.2).
fn component_value(msg: &Message, id: &Item) -> Result<String, SignatureError> {
    let name = id.bare_item.as_string().map(|s| s.as_str()).unwrap_or_default();
    for (param, _) in &id.params {
        if !(param.as_str() == "name" && name == "@query-param") {
            return Err(SignatureError::Malformed(format!(
                "component parameter `{}` is not supported",
                param.as_str()
            )));
        }
    }
    let query = msg.target.split_once('?').map(|(_, q)| q);
    Ok(match name {
        "@method" => msg.method.clone(),
        "@target-uri" => msg.target_uri(),
        "@authority" => msg.authority.to_ascii_lowercase(),
        "@scheme" => msg.scheme.to_ascii_lowercase(),
        "@request-target" => msg.target.clone(),
        "@path" => match msg.path() {
            "" => "/".to_string(),
            path => path.to_string(),
        },
        "@query" => format!("?{}", query.unwrap_or_default()),
        "@query-param" => {
            let wanted = id
                .params
                .get("name")
                .and_then(|v| v.as_string())
                .map(|s| s.as_str())
                .ok_or_else(|| SignatureError::Malformed("`@query-param` without a `name` parameter".into()))?;
            let mut values = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .filter(|(n, _)| n == wanted)
                .map(|(_, v)| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>());
            match (values.next(), values.next()) {
                (Some(v), None) => v,
                (None, _) => return Err(SignatureError::SignedHeaderAbsent(format!("@query-param;name=\"{wanted}\""))),
                (Some(_), Some(_)) => {
                    return Err(SignatureError::Malformed(format!("query parameter `{wanted}` appears more than once")))
                }
            }
        }
        derived if derived.starts_with('@') => {
            return Err(SignatureError::Malformed(format!("derived component `{derived}` is not one of a request's")))
        }
        field => {
            let values = msg.header_values(field);
            if values.is_empty() {
                return Err(SignatureError::SignedHeaderAbsent(field.to_string()));
            }
            values.iter().map(|v| v.trim()).collect::<Vec<_>>().join(", ")
        }
    })
}

fn serialize_item(item: &Item) -> String {
    sfv::ItemSerializer::new().bare_item(&item.bare_item).parameters(&item.params).finish()
}

/// The `@signature-params` value: the inner list of components with the parameters.
fn serialize_params(components: &[Item], params: &Parameters) -> String {
    let mut list = sfv::ListSerializer::new();
    {
        let mut inner = list.inner_list();
        inner.items(components);
        let _ = inner.finish().parameters(params);
    }
    list.finish().unwrap_or_else(|| "()".into())
}

/// The signature base of §2.5: a line per component, then `@signature-params`.
pub fn signature_base(msg: &Message, components: &[Item], params: &Parameters) -> Result<String, SignatureError> {
    let mut lines = Vec::with_capacity(components.len() + 1);
    let mut seen = Vec::with_capacity(components.len());
    for id in components {
        let serialized = serialize_item(id);
        if seen.contains(&serialized) {
            return Err(SignatureError::Malformed(format!("component {serialized} is covered twice")));
        }
        let value = component_value(msg, id)?;
        lines.push(format!("{serialized}: {value}"));
        seen.push(serialized);
    }
    lines.push(format!("\"@signature-params\": {}", serialize_params(components, params)));
    Ok(lines.join("\n"))
}

// ---- reading the two fields ---------------------------------------------------------------

/// One signature as `Signature-Input` and `Signature` carry it, with its base.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub label: String,
    pub components: Vec<Item>,
    pub params: Parameters,
    pub signature: Vec<u8>,
    pub base: String,
}

impl Parsed {
    fn integer(&self, name: &str) -> Result<Option<i64>, SignatureError> {
        match self.params.get(name) {
            None => Ok(None),
            Some(v) => v.as_integer().map(|i| Some(i64::from(i))).ok_or_else(|| match name {
                "created" => SignatureError::DateFormat(format!("created={}", bare_text(v))),
                _ => SignatureError::Malformed(format!("parameter `{name}` is not an integer")),
            }),
        }
    }

    fn string(&self, name: &str) -> Result<Option<&str>, SignatureError> {
        match self.params.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_string()
                .map(|s| Some(s.as_str()))
                .ok_or_else(|| SignatureError::Malformed(format!("parameter `{name}` is not a string"))),
        }
    }

    /// Whether the component named `name` (without parameters) is covered.
    fn covers(&self, name: &str) -> bool {
        self.components.iter().any(|c| c.bare_item.as_string().is_some_and(|s| s.as_str() == name))
    }
}

fn bare_text(v: &BareItem) -> String {
    sfv::ItemSerializer::new().bare_item(v).finish()
}

/// A dictionary field of `msg`: its field lines parsed one by one (so that a label given twice
/// is seen), then as one.
fn dictionary(msg: &Message, name: &'static str, strict: bool) -> Result<Option<Dictionary>, SignatureError> {
    let lines = msg.header_values(name);
    if lines.is_empty() {
        return Ok(None);
    }
    let malformed = |e: sfv::Error| SignatureError::Malformed(format!("{name}: {e}"));
    if strict && lines.len() > 1 {
        let mut labels = std::collections::BTreeSet::new();
        for line in &lines {
            let dict: Dictionary = Parser::new(line).parse().map_err(malformed)?;
            for label in dict.keys() {
                if !labels.insert(label.as_str().to_string()) {
                    return Err(SignatureError::DuplicateHeader(format!("{name} label `{}`", label.as_str())));
                }
            }
        }
    }
    // Field lines combine as RFC 9110 §5.3 says: joined by commas.
    Parser::new(&lines.join(", ")).parse().map(Some).map_err(malformed)
}

/// The signature labelled `label` (or the only one), read from `msg` with its base. Rules
/// broken on the way are the verifier's errors.
pub fn parse(msg: &Message, label: Option<&str>, strict: bool) -> Result<Parsed, SignatureError> {
    let mut parsed = parse_fields(msg, label, strict)?;
    parsed.base = signature_base(msg, &parsed.components, &parsed.params)?;
    Ok(parsed)
}

/// [`parse`] without the base, which the verifier builds last: a covered field that is absent
/// is a rule of its own (a missing `Content-Digest` is `digest-missing`) before it is a base
/// that cannot be built.
fn parse_fields(msg: &Message, label: Option<&str>, strict: bool) -> Result<Parsed, SignatureError> {
    let inputs = dictionary(msg, fields::SIGNATURE_INPUT, strict)?;
    let signatures = dictionary(msg, headers::SIGNATURE, strict)?;
    let (inputs, signatures) = match (inputs, signatures) {
        (_, None) => return Err(SignatureError::SignatureMissing),
        (None, Some(_)) => return Err(SignatureError::SignatureInputMissing),
        (Some(i), Some(s)) => (i, s),
    };
    let chosen = match label {
        Some(l) if inputs.contains_key(l) => l.to_string(),
        _ if inputs.len() == 1 => inputs.keys().next().map(|k| k.as_str().to_string()).unwrap_or_default(),
        Some(l) => return Err(SignatureError::Malformed(format!("Signature-Input has no signature labelled `{l}`"))),
        None => return Err(SignatureError::Malformed("Signature-Input holds more than one signature".into())),
    };
    let Some(ListEntry::InnerList(InnerList { items, params })) = inputs.get(chosen.as_str()) else {
        return Err(SignatureError::Malformed(format!("Signature-Input `{chosen}` is not an inner list")));
    };
    let signature = match signatures.get(chosen.as_str()) {
        Some(ListEntry::Item(item)) => item
            .bare_item
            .as_byte_sequence()
            .map(<[u8]>::to_vec)
            .ok_or(SignatureError::BadBase64("signature (not an RFC 8941 byte sequence)"))?,
        Some(ListEntry::InnerList(_)) => {
            return Err(SignatureError::Malformed(format!("Signature `{chosen}` is not a byte sequence")))
        }
        None => {
            let found: Vec<&str> = signatures.keys().map(|k| k.as_str()).collect();
            return Err(SignatureError::LabelMismatch { input: chosen, signature: found.join(", ") });
        }
    };
    for item in items {
        if item.bare_item.as_string().is_none() {
            return Err(SignatureError::Malformed("a covered component that is not a string".into()));
        }
    }
    Ok(Parsed { label: chosen, components: items.clone(), params: params.clone(), signature, base: String::new() })
}

// ---- signing ------------------------------------------------------------------------------

/// The inputs of one RFC 9421 signature, each of which a mutation may bend before signing.
pub(crate) struct Inputs<'a> {
    pub key_identity: &'a Identity,
    pub cert_identity: &'a Identity,
    pub components: Vec<Item>,
    pub params: Parameters,
    pub algorithm: Algorithm,
    /// The `Content-Digest` to write, if any.
    pub digest_text: Option<String>,
    /// What the base is computed over where it differs from what is sent.
    pub signed_method: String,
    pub signed_target: String,
    pub input_label: String,
    pub signature_label: String,
}

impl<'a> Inputs<'a> {
    pub(crate) fn correct(
        identity: &'a Identity,
        settings: &Rfc9421,
        key_id: String,
        msg: &Message,
        date: SystemTime,
    ) -> Result<Self, SignError> {
        let malformed = |why: String| SignError::Dialect(why);
        let components = settings.component_items().map_err(|e| malformed(e.to_string()))?;
        let algorithm = settings.alg.unwrap_or_else(|| Algorithm::for_key(identity.key().kind()));
        let created = unix_seconds(date);
        let mut params = Parameters::new();
        set_integer(&mut params, "created", created);
        if let Some(s) = settings.expires_s {
            set_integer(&mut params, "expires", created.saturating_add(i64::try_from(s).unwrap_or(i64::MAX)));
        }
        params.insert(key("keyid"), BareItem::String(sf_string(&key_id).map_err(|e| malformed(e.to_string()))?));
        if settings.include_alg {
            params.insert(
                key("alg"),
                BareItem::String(sf_string(algorithm.name()).map_err(|e| malformed(e.to_string()))?),
            );
        }
        if settings.nonce {
            let nonce = crate::pki::generate_token("", 16);
            params.insert(key("nonce"), BareItem::String(sf_string(&nonce).map_err(|e| malformed(e.to_string()))?));
        }
        if let Some(tag) = &settings.tag {
            params.insert(key("tag"), BareItem::String(sf_string(tag).map_err(|e| malformed(e.to_string()))?));
        }
        let covers_digest =
            components.iter().any(|c| c.bare_item.as_string().is_some_and(|s| s.as_str() == CONTENT_DIGEST));
        Ok(Inputs {
            key_identity: identity,
            cert_identity: identity,
            components,
            params,
            algorithm,
            digest_text: covers_digest.then(|| settings.digest.value(&msg.body)),
            signed_method: msg.method.clone(),
            signed_target: msg.target.clone(),
            input_label: settings.label.clone(),
            signature_label: settings.label.clone(),
        })
    }

    /// Writes Content-Digest, signs, and writes Signature-Input, Signature and the certificate.
    pub(crate) fn apply(self, msg: &mut Message) -> Result<Signed, SignError> {
        if let Some(digest) = &self.digest_text {
            msg.set_header(fields::CONTENT_DIGEST, digest);
        }
        let mut signed_view = msg.clone();
        signed_view.method = self.signed_method.clone();
        signed_view.target = self.signed_target.clone();
        let base = signature_base(&signed_view, &self.components, &self.params)
            .map_err(|e| SignError::Dialect(e.to_string()))?;
        let scheme = self.algorithm.signing_scheme().ok_or(SignError::Dialect(format!(
            "a QSEAL cannot sign `{}`; choose rsa-pss-sha512, rsa-v1_5-sha256 or ecdsa-p256-sha256",
            self.algorithm.name()
        )))?;
        let signature = self
            .key_identity
            .key()
            .sign_as(scheme, base.as_bytes())
            .map_err(|source| SignError::Key { identity: self.key_identity.name.clone(), source })?;
        msg.set_header(
            fields::SIGNATURE_INPUT,
            &format!("{}={}", self.input_label, serialize_params(&self.components, &self.params)),
        );
        msg.set_header(headers::SIGNATURE, &format!("{}=:{}:", self.signature_label, B64.encode(signature)));
        msg.set_header(headers::CERTIFICATE, self.cert_identity.leaf_base64());
        Ok(Signed { signing_string: base, headers: written_headers(msg) })
    }
}

/// The fields an RFC 9421 signer writes, as they now stand in `msg`.
pub(crate) fn written_headers(msg: &Message) -> Vec<(String, String)> {
    let names = [fields::CONTENT_DIGEST, fields::SIGNATURE_INPUT, headers::SIGNATURE, headers::CERTIFICATE];
    msg.headers.iter().filter(|(n, _)| names.iter().any(|h| h.eq_ignore_ascii_case(n))).cloned().collect()
}

pub(crate) fn set_integer(params: &mut Parameters, name: &'static str, value: i64) {
    if let Ok(i) = sfv::Integer::try_from(value) {
        params.insert(key(name), BareItem::Integer(i));
    }
}

pub(crate) fn set_string(params: &mut Parameters, name: &'static str, value: &str) {
    if let Ok(s) = sfv::String::from_string(value.to_string()) {
        params.insert(key(name), BareItem::String(s));
    }
}

/// Verifies `signature` over `base` with `alg` and the key's bits: PKCS#1 RSAPublicKey for RSA,
/// the uncompressed point for P-256, the 32 raw bytes for Ed25519, the secret for HMAC. RSA
/// under 2048 bits verifies only where `weak_allowed`.
pub fn verify_bytes(alg: Algorithm, key_bits: &[u8], weak_allowed: bool, base: &[u8], signature: &[u8]) -> bool {
    crate::signature::verify_bytes(alg.key_algorithm(), key_bits, weak_allowed, base, signature)
}

/// The inputs of a correct RFC 9421 signature of `msg`, its keyid written in the dialect's style.
pub(crate) fn inputs<'a>(
    identity: &'a Identity,
    dialect: &Dialect,
    msg: &Message,
    date: SystemTime,
) -> Result<Inputs<'a>, SignError> {
    Inputs::correct(identity, &dialect.rfc9421, dialect.key_id_for(&identity.info), msg, date)
}

/// The signature base over what the request says it signed (what `explain` shows).
pub(crate) fn as_signed(msg: &Message, dialect: &Dialect) -> Result<String, BaseError> {
    Ok(parse(msg, Some(&dialect.rfc9421.label), false).map(|p| p.base)?)
}

/// The signature base over the profile's components, with the request's own parameters.
pub(crate) fn expected(msg: &Message, dialect: &Dialect) -> Result<String, BaseError> {
    let settings = &dialect.rfc9421;
    let components: Vec<Item> = settings.components.iter().map(|c| component_id(c)).collect::<Result<_, _>>()?;
    let params = parse(msg, Some(&settings.label), false).map(|p| p.params).unwrap_or_default();
    let mut fixed = msg.clone();
    fixed.set_header(fields::CONTENT_DIGEST, &settings.digest.value(&msg.body));
    Ok(signature_base(&fixed, &components, &params)?)
}

#[cfg(test)]
mod tests;
