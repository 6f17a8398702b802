//! The test directory in the PKI: every good software statement verifies against the
//! directory's published keys, and each bad one fails in exactly its own way (decoded here with
//! jsonwebtoken's validation; `tests/jose_interop.rs` checks them with a library nobody here
//! wrote).

use dcr_harness::pki::directory::{StatementFlaw, ISSUER, REDIRECT_URI};
use std::collections::HashMap;

use dcr_harness::testing::{directory_keys, test_pki, test_pki_dir};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::Value;

/// What a strict verifier makes of a statement: its claims, or why it refused it.
fn verify(keys: &HashMap<String, (DecodingKey, Algorithm)>, jws: &str) -> Result<Value, ErrorKind> {
    let header = decode_header(jws).map_err(|e| e.into_kind())?;
    let (key, alg) = header.kid.as_ref().and_then(|kid| keys.get(kid)).ok_or(ErrorKind::InvalidSignature)?;
    let mut validation = Validation::new(*alg);
    validation.set_issuer(&[ISSUER]);
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["iss", "iat", "exp"]);
    decode::<Value>(jws, key, &validation).map(|d| d.claims).map_err(|e| e.into_kind())
}

/// `{"alg":"none"` in base64url: the header of an unsigned statement, which no verifier parses
/// as an algorithm it knows.
const NONE_HEADER_START: &str = "eyJhbGciOiJub25lIi";

#[test]
fn good_statements_verify_and_each_bad_one_fails_its_own_way() {
    let pki = test_pki();
    let directory = pki.manifest.directory.as_ref().expect("the PKI has a directory");
    assert!(directory.statements.len() >= 10, "{:?}", directory.statements.keys());
    let keys = directory_keys();
    for (name, entry) in &directory.statements {
        let jws = pki.statement(name).expect("the PKI read the statement");
        let verdict = verify(&keys, jws);
        match entry.flaw {
            None => {
                let claims = verdict.unwrap_or_else(|e| panic!("{name}: {e:?}"));
                assert_eq!(claims["software_redirect_uris"][0], REDIRECT_URI, "{name}");
                let org = &pki.tpp(&entry.tpp).expect("tpp").organization_identifier;
                assert_eq!(claims["org_id"].as_str(), Some(org.as_str()), "{name}");
                assert!(claims["jwks"]["keys"][0]["n"].is_string() || claims["jwks"]["keys"][0]["x"].is_string());
            }
            Some(StatementFlaw::RedirectUriNotInStatement) => {
                let claims = verdict.unwrap_or_else(|e| panic!("{name}: {e:?}"));
                assert!(!claims["software_redirect_uris"].to_string().contains(REDIRECT_URI), "{name}");
            }
            Some(flaw) => {
                let refused = verdict.expect_err(name);
                let expected = match flaw {
                    StatementFlaw::Expired => matches!(refused, ErrorKind::ExpiredSignature),
                    StatementFlaw::NotYetValid => matches!(refused, ErrorKind::ImmatureSignature),
                    StatementFlaw::Rs256 => matches!(refused, ErrorKind::InvalidAlgorithm),
                    StatementFlaw::UnknownIssuer | StatementFlaw::BadSignature => {
                        matches!(refused, ErrorKind::InvalidSignature)
                    }
                    StatementFlaw::AlgNone => matches!(refused, ErrorKind::Json(_)) && jws.contains(NONE_HEADER_START),
                    StatementFlaw::RedirectUriNotInStatement => unreachable!(),
                };
                assert!(expected, "{name}: refused for {refused:?}, not for being {flaw:?}");
            }
        }
    }
}

#[test]
fn pki_show_lists_the_directory_and_its_statements() {
    let listing = dcr_harness::pki::describe(test_pki());
    assert!(listing.contains(&format!("directory {ISSUER}")), "{listing}");
    for name in dcr_harness::pki::directory::statement_names() {
        assert!(listing.contains(&format!("  {name} ")), "{name}: {listing}");
    }
    assert!(listing.contains("ssa-expired") && listing.contains("expired — "), "{listing}");
}

/// A PKI made before the directory existed gets one on its next use, and a statement file that
/// went missing is made again; the directory's keys are kept, so its JWKS does not change.
#[test]
fn an_older_pki_gains_the_directory_and_a_lost_statement_is_made_again() {
    test_pki();
    let dir = tempfile::tempdir().expect("tempdir");
    dcr_harness::testing::copy_dir(&test_pki_dir(), dir.path());
    let manifest_path = dir.path().join(dcr_harness::pki::MANIFEST);
    let manifest = std::fs::read_to_string(&manifest_path).expect("manifest");
    let without = &manifest[..manifest.find("\ndirectory:").expect("a directory entry") + 1];
    std::fs::write(&manifest_path, without).expect("an older manifest");
    let jwks_before = std::fs::read_to_string(dir.path().join("directory-jwks.json")).expect("jwks");
    std::fs::remove_file(dir.path().join("ssa-expired.jwt")).expect("lose a statement");
    let options = dcr_harness::pki::PkiOptions::default();
    let pki = dcr_harness::pki::Pki::ensure(dir.path(), &options).expect("the PKI is made whole");
    let directory = pki.manifest.directory.as_ref().expect("the directory is back in the manifest");
    assert_eq!(directory.statements.len(), dcr_harness::pki::directory::statement_names().count());
    assert!(dir.path().join("ssa-expired.jwt").is_file(), "the lost statement is made again");
    let jwks_after = std::fs::read_to_string(dir.path().join("directory-jwks.json")).expect("jwks");
    assert_eq!(jwks_before, jwks_after, "the directory's keys are kept");
}
