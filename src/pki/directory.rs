//! The test directory: a software-statement issuer beside the test QTSP, as an Open Banking UK
//! or FAPI ecosystem's directory would be (RFC 7591 §2.3). Its signing keys (PS256 and ES256,
//! and one no server trusts), its public JWKS, and software statements issued per TPP: a good
//! one per algorithm, and the bad ones, each wrong in exactly one way (the table
//! [`STATEMENTS`]). It writes files under the PKI directory; it sends nothing and judges no
//! statement (that is the reference server's and the scenarios' work).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::jws;
pub use super::jws::{alg_name, published_keys};
use super::{names, write_file, Manifest, PkiError};

/// The directory's issuer name (`iss` of every good statement).
pub const ISSUER: &str = "https://directory.dcr-harness.test";
/// The issuer of statements signed by a key nobody trusts.
pub const UNKNOWN_ISSUER: &str = "https://unknown-directory.example";
/// The redirect URI every good statement allows (the one the scenarios register with).
pub const REDIRECT_URI: &str = "https://tpp.example/cb";
/// The redirect URIs every good statement allows: the one registered, those the suite's
/// updates move a client to (a server bound by statements refuses any other), and one on
/// localhost, which a web client of the implicit grant must not use (OpenID Connect
/// Registration §2): the statement allows it, so that only the server's own rule refuses it.
pub const REDIRECT_URIS: &[&str] = &[
    REDIRECT_URI,
    "https://tpp.example/new",
    "https://tpp.example/changed",
    "https://tpp.example/cb-0",
    "https://tpp.example/cb-1",
    "https://localhost/cb",
];
/// The `scope` of the statements the directory issues per software product, as the CDR
/// Register's SSAs carry it: OpenID Connect's, the registration scope, banking and energy scopes
/// (a data holder of one sector supports the other's no more than a scope it never heard of;
/// it must ignore those, not refuse the registration).
pub const PRODUCT_SCOPE: &str = "openid profile cdr:registration bank:accounts.basic:read bank:transactions:read common:customer.basic:read energy:electricity.servicepoints.basic:read";
/// The `software_version` every statement fixes (RFC 7591 §2 client metadata).
pub const SOFTWARE_VERSION: &str = "1.0";
/// The public keys of the directory, as a server configures its trust in it.
pub const JWKS_FILE: &str = "directory-jwks.json";

/// How long a good statement is valid, and how close to its end it is made anew.
const VALID_DAYS: i64 = 365;
const RENEW_DAYS: i64 = 30;

/// The directory's keys: the key id, the algorithm it signs with, its file, and whether the
/// directory's JWKS publishes it.
const KEYS: &[(&str, Algorithm, &str, bool)] = &[
    ("directory-ps256", Algorithm::PS256, "directory-ps256.key", true),
    ("directory-es256", Algorithm::ES256, "directory-es256.key", true),
    ("unknown-directory", Algorithm::PS256, "unknown-directory.key", false),
];

/// Why a part of the test directory (a key, its JWK, a TPP's keys, a statement) could not be
/// made; the part is named by the caller.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// A new key could not be generated.
    #[error("{0}")]
    NewKey(#[source] rcgen::Error),
    /// A key's file could not be written, or a TPP's key read.
    #[error("{0}")]
    KeyFile(#[source] Box<PkiError>),
    /// The key's PEM is not a key jsonwebtoken can sign with.
    #[error("{0}")]
    EncodingKey(#[source] jsonwebtoken::errors::Error),
    #[error("{0}")]
    Pem(#[source] rustls_pki_types::pem::Error),
    #[error("{0}")]
    PrivateKey(#[source] super::keys::KeyError),
    #[error(transparent)]
    Jwk(#[from] JwkError),
    #[error("no identity {0}")]
    NoIdentity(&'static str),
    #[error("no key {0}")]
    NoKey(&'static str),
    #[error("{0}")]
    Sign(#[source] jsonwebtoken::errors::Error),
}

/// Why a key has no public JWK.
#[derive(Debug, thiserror::Error)]
pub enum JwkError {
    #[error("not an uncompressed P-256 point")]
    NotUncompressedP256,
    #[error("{0}")]
    Rsa(#[source] rsa::pkcs1::Error),
}

/// The one way a software statement differs from a good one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatementFlaw {
    /// `exp` in the past.
    Expired,
    /// `iat` and `nbf` a year ahead.
    NotYetValid,
    /// Signed by a key the directory's JWKS does not hold, under another `iss`.
    UnknownIssuer,
    /// The signature's bytes altered after signing.
    BadSignature,
    /// `alg: none` and no signature.
    AlgNone,
    /// RS256 (PKCS#1 v1.5) where PS256 is required.
    Rs256,
    /// `software_redirect_uris` without the URI the scenarios register with.
    RedirectUriNotInStatement,
}

impl StatementFlaw {
    /// Its name as the manifest spells it (`not-yet-valid`).
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }
}

struct StatementSpec {
    name: &'static str,
    tpp: &'static str,
    key: &'static str,
    flaw: Option<StatementFlaw>,
    description: &'static str,
}

const fn statement(
    name: &'static str,
    tpp: &'static str,
    key: &'static str,
    flaw: Option<StatementFlaw>,
    description: &'static str,
) -> StatementSpec {
    StatementSpec { name, tpp, key, flaw, description }
}

use StatementFlaw::*;
const PS: &str = "directory-ps256";
const A: &str = names::TPP_A;
const B: &str = names::TPP_B;

/// Every software statement the test directory issues.
const STATEMENTS: &[StatementSpec] = &[
    statement("ssa", A, PS, None, "software statement of TPP A, PS256"),
    statement("ssa-es256", A, "directory-es256", None, "software statement of TPP A, ES256"),
    statement("ssa-b", B, PS, None, "software statement of TPP B, PS256"),
    statement("ssa-expired", A, PS, Some(Expired), "TPP A's statement, expired"),
    statement("ssa-not-yet-valid", A, PS, Some(NotYetValid), "TPP A's statement, not yet valid"),
    statement(
        "ssa-unknown-issuer",
        A,
        "unknown-directory",
        Some(UnknownIssuer),
        "TPP A's statement from an unknown issuer",
    ),
    statement("ssa-bad-signature", A, PS, Some(BadSignature), "TPP A's statement with a broken signature"),
    statement("ssa-alg-none", A, PS, Some(AlgNone), "TPP A's statement with alg none, unsigned"),
    statement("ssa-rs256", A, PS, Some(Rs256), "TPP A's statement signed RS256 where PS256 is required"),
    statement(
        "ssa-redirect-elsewhere",
        A,
        PS,
        Some(RedirectUriNotInStatement),
        "TPP A's statement whose redirect URIs exclude the one registered",
    ),
];

/// The version of the statements' claims: statements made under another are made again.
const FORMAT: u32 = 4;

/// The directory as the manifest records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DirectoryEntry {
    /// The version of the statements' claims ([`FORMAT`]); 0 for the first ones.
    #[serde(default)]
    pub format: u32,
    pub issuer: String,
    /// The public keys of the directory (a JWKS file).
    pub jwks: PathBuf,
    /// Every software statement, by name.
    pub statements: BTreeMap<String, StatementEntry>,
}

/// One software statement: a compact JWS in its own file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StatementEntry {
    pub file: PathBuf,
    pub tpp: String,
    /// The `alg` of its header.
    pub alg: String,
    /// The one way it is wrong; none for a good statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flaw: Option<StatementFlaw>,
    /// Its `exp` (Unix seconds).
    pub expires: i64,
    #[serde(default)]
    pub description: String,
}

/// The names of every statement, in table order.
pub fn statement_names() -> impl Iterator<Item = &'static str> {
    STATEMENTS.iter().map(|s| s.name)
}

/// Whether the directory must be made (again): absent, a file missing, a good statement near its
/// end, or the identities it vouches for made anew (`identities_changed`).
pub(super) fn stale(dir: &Path, manifest: &Manifest, now: OffsetDateTime, identities_changed: bool) -> bool {
    let Some(directory) = &manifest.directory else { return true };
    let renew_by = (now + time::Duration::days(RENEW_DAYS)).unix_timestamp();
    identities_changed
        || directory.format != FORMAT
        || !dir.join(&directory.jwks).is_file()
        || KEYS.iter().any(|(_, _, file, _)| !dir.join(file).is_file())
        || STATEMENTS.iter().any(|spec| match directory.statements.get(spec.name) {
            None => true,
            Some(entry) => !dir.join(&entry.file).is_file() || (entry.flaw.is_none() && entry.expires < renew_by),
        })
}

/// Makes the directory: its keys (kept where they exist), its JWKS and every statement.
pub(super) fn generate(dir: &Path, manifest: &mut Manifest, now: OffsetDateTime) -> Result<(), PkiError> {
    let fail = |name: &str, cause: DirectoryError| PkiError::Directory { name: name.to_string(), cause };
    let mut public_keys = Vec::new();
    let mut encoding = BTreeMap::new();
    for (kid, alg, file, published) in KEYS {
        let pem = key_pem(dir, file, *alg).map_err(|e| fail(kid, e))?;
        let key = match alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
            _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
        }
        .map_err(|e| fail(kid, DirectoryError::EncodingKey(e)))?;
        encoding.insert(*kid, (key, *alg));
        if *published {
            use rustls_pki_types::pem::PemObject;
            let der = rustls_pki_types::PrivateKeyDer::from_pem_slice(pem.as_bytes())
                .map_err(|e| fail(kid, DirectoryError::Pem(e)))?;
            let private = super::PrivateKey::from_der(der).map_err(|e| fail(kid, DirectoryError::PrivateKey(e)))?;
            public_keys.push(jwk(&private, kid, alg_name(*alg)).map_err(|e| fail(kid, e.into()))?);
        }
    }
    let jwks = serde_json::to_string_pretty(&json!({ "keys": public_keys })).unwrap_or_default();
    write_file(&dir.join(JWKS_FILE), jwks.as_bytes(), false)?;
    // Each TPP's signing key, read once for all its statements.
    let mut tpp_jwks = BTreeMap::new();
    for tpp in STATEMENTS.iter().map(|s| s.tpp) {
        if !tpp_jwks.contains_key(tpp) {
            tpp_jwks.insert(tpp, tpp_keys(dir, manifest, tpp).map_err(|e| fail(tpp, e))?);
        }
    }
    let mut statements = BTreeMap::new();
    for spec in STATEMENTS {
        let tpp = manifest.tpps.get(spec.tpp).ok_or(PkiError::UnknownTpp { name: spec.tpp.into() })?;
        let claims = claims(spec, tpp, tpp_jwks[spec.tpp].clone(), now);
        let expires = claims["exp"].as_i64().unwrap_or_default();
        let (key, alg) = encoding.get(spec.key).ok_or_else(|| fail(spec.name, DirectoryError::NoKey(spec.key)))?;
        let (jws, alg) = sign(spec, &claims, key, *alg).map_err(|e| fail(spec.name, DirectoryError::Sign(e)))?;
        let file = PathBuf::from(format!("{}.jwt", spec.name));
        write_file(&dir.join(&file), jws.as_bytes(), false)?;
        statements.insert(
            spec.name.to_string(),
            StatementEntry {
                file,
                tpp: spec.tpp.to_string(),
                alg: alg.to_string(),
                flaw: spec.flaw,
                expires,
                description: spec.description.to_string(),
            },
        );
    }
    manifest.directory =
        Some(DirectoryEntry { format: FORMAT, issuer: ISSUER.into(), jwks: JWKS_FILE.into(), statements });
    Ok(())
}

/// Statements the directory issues now, as a register issues them on demand (the CDR Register's
/// GetSoftwareStatementAssertion): `count` of TPP `tpp`'s good statements (PS256, each its own
/// `jti`) for the software product `software_id`, so that each scenario can register a product
/// no other has registered.
pub fn issue(
    dir: &Path,
    manifest: &Manifest,
    (tpp, software_id): (&str, &str),
    count: usize,
    keys_at: Option<&str>,
) -> Result<Vec<String>, PkiError> {
    let fail = |cause: DirectoryError| PkiError::Directory { name: software_id.to_string(), cause };
    let spec = STATEMENTS.iter().find(|s| s.tpp == tpp && s.flaw.is_none() && s.key == "directory-ps256");
    let spec = spec.ok_or(PkiError::UnknownTpp { name: tpp.into() })?;
    let entry = manifest.tpps.get(tpp).ok_or(PkiError::UnknownTpp { name: tpp.into() })?;
    let (_, alg, file, _) =
        KEYS.iter().find(|(kid, ..)| *kid == spec.key).ok_or_else(|| fail(DirectoryError::NoKey(spec.key)))?;
    let pem = crate::files::read_to_string(&dir.join(file), crate::files::MAX_PEM_BYTES)
        .map_err(|source| fail(DirectoryError::KeyFile(Box::new(PkiError::Io { path: dir.join(file), source }))))?;
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| fail(DirectoryError::EncodingKey(e)))?;
    let keys = tpp_keys(dir, manifest, tpp).map_err(fail)?;
    let one = || {
        let mut claims = claims_of_product(spec, entry, keys.clone(), OffsetDateTime::now_utc(), software_id);
        claims["scope"] = json!(PRODUCT_SCOPE);
        // Open Banking UK: the keys at a URL the statement names, not in it.
        if let (Some(endpoint), Some(claims)) = (keys_at, claims.as_object_mut()) {
            claims.remove("jwks");
            claims.insert("software_jwks_endpoint".into(), json!(endpoint));
        }
        sign(spec, &claims, &key, *alg).map(|(jws, _)| jws).map_err(|e| fail(DirectoryError::Sign(e)))
    };
    (0..count).map(|_| one()).collect()
}

/// The PEM of a directory key: read if it is there, else generated and written.
fn key_pem(dir: &Path, file: &str, alg: Algorithm) -> Result<String, DirectoryError> {
    let path = dir.join(file);
    if let Ok(pem) = crate::files::read_to_string(&path, crate::files::MAX_PEM_BYTES) {
        return Ok(pem);
    }
    let key = match alg {
        Algorithm::ES256 => rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        _ => rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048),
    }
    .map_err(DirectoryError::NewKey)?;
    let pem = key.serialize_pem();
    write_file(&path, pem.as_bytes(), true).map_err(|e| DirectoryError::KeyFile(Box::new(e)))?;
    Ok(pem)
}

/// The TPP's keys as its statement carries them in `jwks`: its signing key (its QSEAL's,
/// `use: sig`) and its transport key (its QWAC's, `use: tls`, as Open Banking UK statements
/// publish it for `self_signed_tls_client_auth`).
fn tpp_keys(dir: &Path, manifest: &Manifest, tpp: &str) -> Result<Vec<Value>, DirectoryError> {
    let (qseal, qwac) = if tpp == B { (names::QSEAL_B, names::QWAC_B) } else { (names::QSEAL, names::QWAC) };
    [(qseal, "sig"), (qwac, "tls")]
        .into_iter()
        .map(|(name, usage)| {
            let entry = manifest.identities.get(name).ok_or(DirectoryError::NoIdentity(name))?;
            let key = super::read_key(&dir.join(&entry.key)).map_err(|e| DirectoryError::KeyFile(Box::new(e)))?;
            let mut jwk = jwk(&key, name, alg_name(key.jws_alg()))?;
            jwk["use"] = Value::from(usage);
            Ok(jwk)
        })
        .collect()
}

/// The public JWK of a key (RFC 7517; RSA `n`/`e`, EC P-256 `x`/`y`), with its `kid` and `alg`.
pub fn jwk(key: &super::PrivateKey, kid: &str, alg: &str) -> Result<Value, JwkError> {
    let bits = key.public_key_bits();
    match key.kind() {
        super::KeyKind::EcdsaP256 => {
            // The uncompressed point: 0x04, then x and y of 32 bytes each.
            if bits.len() != 65 || bits[0] != 4 {
                return Err(JwkError::NotUncompressedP256);
            }
            Ok(json!({
                "kty": "EC", "crv": "P-256", "kid": kid, "alg": alg, "use": "sig",
                "x": B64URL.encode(&bits[1..33]), "y": B64URL.encode(&bits[33..]),
            }))
        }
        super::KeyKind::Rsa { .. } => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            use rsa::traits::PublicKeyParts;
            let public = rsa::RsaPublicKey::from_pkcs1_der(&bits).map_err(JwkError::Rsa)?;
            Ok(json!({
                "kty": "RSA", "kid": kid, "alg": alg, "use": "sig",
                "n": B64URL.encode(public.n().to_bytes_be()), "e": B64URL.encode(public.e().to_bytes_be()),
            }))
        }
    }
}

/// A statement's claims (RFC 7591 §2.3, with the Open Banking UK names for the organisation).
fn claims(spec: &StatementSpec, tpp: &super::TppEntry, keys: Vec<Value>, now: OffsetDateTime) -> Value {
    claims_of_product(spec, tpp, keys, now, &format!("{}-app", spec.tpp))
}

fn claims_of_product(
    spec: &StatementSpec,
    tpp: &super::TppEntry,
    keys: Vec<Value>,
    now: OffsetDateTime,
    software_id: &str,
) -> Value {
    let day = 86_400;
    let now = now.unix_timestamp();
    let (iat, exp) = match spec.flaw {
        Some(Expired) => (now - 2 * VALID_DAYS * day, now - VALID_DAYS * day),
        Some(NotYetValid) => (now + VALID_DAYS * day, now + 2 * VALID_DAYS * day),
        _ => (now, now + VALID_DAYS * day),
    };
    let iss = if spec.flaw == Some(UnknownIssuer) { UNKNOWN_ISSUER } else { ISSUER };
    let redirects = match spec.flaw {
        Some(RedirectUriNotInStatement) => &["https://elsewhere.example/cb"][..],
        _ => REDIRECT_URIS,
    };
    let roles: Vec<&str> = tpp.roles.iter().map(|r| r.name()).collect();
    let client_name = format!("{} app", tpp.organization_name);
    json!({
        "iss": iss,
        "iat": iat,
        "nbf": iat,
        "exp": exp,
        "jti": super::generate_token("", 16),
        "software_id": software_id,
        "software_client_name": client_name,
        // Client metadata (RFC 7591 §2) the statement fixes: it takes precedence over the
        // request's. Not client_name: a client may rename itself in an update.
        "software_version": SOFTWARE_VERSION,
        "software_redirect_uris": redirects,
        "software_roles": roles,
        "org_id": tpp.organization_identifier,
        "org_name": tpp.organization_name,
        "jwks": { "keys": keys },
    })
}

/// Signs the claims as the spec says (or, for `alg: none`, does not); returns the compact JWS
/// and the `alg` of its header.
fn sign(
    spec: &StatementSpec,
    claims: &Value,
    key: &EncodingKey,
    alg: Algorithm,
) -> Result<(String, &'static str), jsonwebtoken::errors::Error> {
    let kid = spec.key;
    match spec.flaw {
        Some(AlgNone) => Ok((jws::unsigned(kid, claims), "none")),
        Some(Rs256) => Ok((jws::encode(Algorithm::RS256, kid, claims, key)?, "RS256")),
        Some(BadSignature) => Ok((jws::broken(&jws::encode(alg, kid, claims, key)?), alg_name(alg))),
        _ => Ok((jws::encode(alg, kid, claims, key)?, alg_name(alg))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_names_are_unique_and_each_bad_one_is_wrong_one_way() {
        let mut names: Vec<&str> = statement_names().collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), STATEMENTS.len());
        let flaws: Vec<StatementFlaw> = STATEMENTS.iter().filter_map(|s| s.flaw).collect();
        let mut distinct = flaws.clone();
        distinct.dedup();
        assert_eq!(flaws, distinct, "one statement per flaw");
        assert!(STATEMENTS.iter().all(|s| KEYS.iter().any(|(kid, ..)| *kid == s.key)), "every key exists");
    }
}
