//! The ETSI qcStatements certificate extension (RFC 3739, ETSI EN 319 412-5, ETSI TS 119 495):
//! a typed model, its DER encoder (used to write test certificates) and decoder (used by the
//! reference server to read the PSD2 roles of a presented certificate, and by `pki show`).
//! x509-parser reports this extension as unsupported, hence this small codec built on `der`.
//! It knows nothing of files, keys or HTTP.

use der::asn1::{Any, ObjectIdentifier};
use der::{Decode, Encode, Sequence};
use serde::{Deserialize, Serialize};

/// OID of the qcStatements extension itself (id-pe-qcStatements).
pub const QC_STATEMENTS_EXTENSION: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 3];

const QC_COMPLIANCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.1862.1.1");
const QC_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.1862.1.6");
const QC_TYPE_ESIGN: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.1862.1.6.1");
const QC_TYPE_ESEAL: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.1862.1.6.2");
const QC_TYPE_WEB: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.1862.1.6.3");
const PSD2_STATEMENT: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.19495.2");

/// A PSD2 role of a payment service provider (ETSI TS 119 495 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum PspRole {
    /// Account servicing (the bank itself).
    #[serde(rename = "PSP_AS")]
    As,
    /// Payment initiation.
    #[serde(rename = "PSP_PI")]
    Pi,
    /// Account information.
    #[serde(rename = "PSP_AI")]
    Ai,
    /// Issuing of card-based payment instruments.
    #[serde(rename = "PSP_IC")]
    Ic,
}

impl PspRole {
    pub const ALL: [PspRole; 4] = [PspRole::As, PspRole::Pi, PspRole::Ai, PspRole::Ic];

    /// The role's name as ETSI TS 119 495 spells it in the certificate.
    pub fn name(self) -> &'static str {
        match self {
            PspRole::As => "PSP_AS",
            PspRole::Pi => "PSP_PI",
            PspRole::Ai => "PSP_AI",
            PspRole::Ic => "PSP_IC",
        }
    }

    fn oid(self) -> ObjectIdentifier {
        match self {
            PspRole::As => ObjectIdentifier::new_unwrap("0.4.0.19495.1.1"),
            PspRole::Pi => ObjectIdentifier::new_unwrap("0.4.0.19495.1.2"),
            PspRole::Ai => ObjectIdentifier::new_unwrap("0.4.0.19495.1.3"),
            PspRole::Ic => ObjectIdentifier::new_unwrap("0.4.0.19495.1.4"),
        }
    }

    fn from_oid(oid: &ObjectIdentifier) -> Option<PspRole> {
        PspRole::ALL.into_iter().find(|role| &role.oid() == oid)
    }
}

impl std::str::FromStr for PspRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PspRole::ALL
            .into_iter()
            .find(|role| role.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown PSD2 role `{s}` (expected PSP_AS, PSP_PI, PSP_AI or PSP_IC)"))
    }
}

impl std::fmt::Display for PspRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The type of a qualified certificate (ETSI EN 319 412-5 §4.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QcType {
    Esign,
    Eseal,
    Web,
}

impl QcType {
    fn oid(self) -> ObjectIdentifier {
        match self {
            QcType::Esign => QC_TYPE_ESIGN,
            QcType::Eseal => QC_TYPE_ESEAL,
            QcType::Web => QC_TYPE_WEB,
        }
    }
}

/// The PSD2 QCStatement: roles and the national competent authority that authorised them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Psd2Statement {
    pub roles: Vec<PspRole>,
    pub nca_name: String,
    pub nca_id: String,
}

/// The qcStatements of one certificate, as far as PSD2 cares.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QcStatements {
    pub compliance: bool,
    pub qc_types: Vec<QcType>,
    pub psd2: Option<Psd2Statement>,
    /// Statements this codec does not interpret, by OID, kept so that nothing is silently lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<String>,
}

/// Why a qcStatements extension could not be encoded or decoded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QcError {
    #[error("qcStatements DER: {0}")]
    Der(#[from] der::Error),
    #[error("PSD2 statement names an unknown role OID {0}")]
    UnknownRole(String),
    #[error("PSD2 role {oid} is named `{name}`, expected `{expected}`")]
    RoleNameMismatch { oid: String, name: String, expected: &'static str },
}

#[derive(Sequence)]
struct StatementDer {
    id: ObjectIdentifier,
    #[asn1(optional = "true")]
    info: Option<Any>,
}

#[derive(Sequence)]
struct RoleDer {
    oid: ObjectIdentifier,
    name: String,
}

#[derive(Sequence)]
struct Psd2Der {
    roles: Vec<RoleDer>,
    nca_name: String,
    nca_id: String,
}

impl QcStatements {
    /// DER of the extension value (`QCStatements ::= SEQUENCE OF QCStatement`).
    pub fn to_der(&self) -> Result<Vec<u8>, QcError> {
        let mut statements = Vec::new();
        if self.compliance {
            statements.push(StatementDer { id: QC_COMPLIANCE, info: None });
        }
        if !self.qc_types.is_empty() {
            let types: Vec<ObjectIdentifier> = self.qc_types.iter().map(|t| t.oid()).collect();
            statements.push(StatementDer { id: QC_TYPE, info: Some(Any::encode_from(&types)?) });
        }
        if let Some(psd2) = &self.psd2 {
            let value = Psd2Der {
                roles: psd2
                    .roles
                    .iter()
                    .map(|role| RoleDer { oid: role.oid(), name: role.name().to_string() })
                    .collect(),
                nca_name: psd2.nca_name.clone(),
                nca_id: psd2.nca_id.clone(),
            };
            statements.push(StatementDer { id: PSD2_STATEMENT, info: Some(Any::encode_from(&value)?) });
        }
        Ok(statements.to_der()?)
    }

    /// Reads the extension value. Unknown statements are kept by OID; a malformed known one is an
    /// error, since a server must not guess at a TPP's roles.
    pub fn from_der(bytes: &[u8]) -> Result<Self, QcError> {
        let statements = Vec::<StatementDer>::from_der(bytes)?;
        let mut out = QcStatements::default();
        for statement in statements {
            match statement.id {
                id if id == QC_COMPLIANCE => out.compliance = true,
                id if id == QC_TYPE => {
                    let oids: Vec<ObjectIdentifier> = match &statement.info {
                        Some(info) => info.decode_as()?,
                        None => Vec::new(),
                    };
                    for oid in oids {
                        match oid {
                            o if o == QC_TYPE_ESIGN => out.qc_types.push(QcType::Esign),
                            o if o == QC_TYPE_ESEAL => out.qc_types.push(QcType::Eseal),
                            o if o == QC_TYPE_WEB => out.qc_types.push(QcType::Web),
                            other => out.other.push(format!("qcType {other}")),
                        }
                    }
                }
                id if id == PSD2_STATEMENT => {
                    let info =
                        statement.info.ok_or(der::Error::from(der::ErrorKind::Length { tag: der::Tag::Sequence }))?;
                    out.psd2 = Some(decode_psd2(info.decode_as()?)?);
                }
                other => out.other.push(other.to_string()),
            }
        }
        Ok(out)
    }
}

fn decode_psd2(value: Psd2Der) -> Result<Psd2Statement, QcError> {
    let roles = value
        .roles
        .into_iter()
        .map(|role| {
            let known = PspRole::from_oid(&role.oid).ok_or_else(|| QcError::UnknownRole(role.oid.to_string()))?;
            if known.name() != role.name {
                return Err(QcError::RoleNameMismatch {
                    oid: role.oid.to_string(),
                    name: role.name,
                    expected: known.name(),
                });
            }
            Ok(known)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Psd2Statement { roles, nca_name: value.nca_name, nca_id: value.nca_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector of the foundation issue: QcCompliance + QcType web + PSD2 roles PSP_PI and
    /// PSP_AI, NCA "Financial Conduct Authority" / "GB-FCA"; 122 bytes.
    fn issue_vector() -> Vec<u8> {
        let mut v = hex::decode(
            concat!(
                "3078",
                "3008060604008e460101",
                "3013060604008e460106300906070400 8e46010603",
                "30570606040081982702",
                "304d3026",
                "3011060704008198270102 0c06"
            )
            .replace(' ', ""),
        )
        .expect("hex");
        v.extend_from_slice(b"PSP_PI");
        v.extend(hex::decode("3011060704008198270103 0c06".replace(' ', "")).expect("hex"));
        v.extend_from_slice(b"PSP_AI");
        v.extend(hex::decode("0c1b").expect("hex"));
        v.extend_from_slice(b"Financial Conduct Authority");
        v.extend(hex::decode("0c06").expect("hex"));
        v.extend_from_slice(b"GB-FCA");
        v
    }

    fn fca_statements() -> QcStatements {
        QcStatements {
            compliance: true,
            qc_types: vec![QcType::Web],
            psd2: Some(Psd2Statement {
                roles: vec![PspRole::Pi, PspRole::Ai],
                nca_name: "Financial Conduct Authority".into(),
                nca_id: "GB-FCA".into(),
            }),
            other: vec![],
        }
    }

    #[test]
    fn encoder_matches_the_issue_vector_byte_for_byte() {
        let expected = issue_vector();
        assert_eq!(expected.len(), 122);
        assert_eq!(fca_statements().to_der().expect("encode"), expected);
    }

    #[test]
    fn decoder_reads_the_issue_vector_field_by_field() {
        let decoded = QcStatements::from_der(&issue_vector()).expect("decode");
        assert!(decoded.compliance);
        assert_eq!(decoded.qc_types, vec![QcType::Web]);
        let psd2 = decoded.psd2.expect("psd2 statement");
        assert_eq!(psd2.roles, vec![PspRole::Pi, PspRole::Ai]);
        assert_eq!(psd2.nca_name, "Financial Conduct Authority");
        assert_eq!(psd2.nca_id, "GB-FCA");
        assert!(decoded.other.is_empty());
    }

    #[test]
    fn a_role_whose_name_contradicts_its_oid_is_refused() {
        let mut bytes = issue_vector();
        let at = bytes.windows(6).position(|w| w == b"PSP_PI").expect("role name");
        bytes[at..at + 6].copy_from_slice(b"PSP_IC");
        assert!(matches!(QcStatements::from_der(&bytes), Err(QcError::RoleNameMismatch { .. })));
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let bytes = issue_vector();
        for len in 0..bytes.len() {
            assert!(QcStatements::from_der(&bytes[..len]).is_err(), "prefix of {len} bytes");
        }
    }

    #[test]
    fn role_names_parse_case_insensitively() {
        assert_eq!("psp_ai".parse::<PspRole>(), Ok(PspRole::Ai));
        assert!("PSP_XX".parse::<PspRole>().is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_der_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = QcStatements::from_der(&bytes);
        }

        #[test]
        fn encode_then_decode_is_the_identity(roles in proptest::sample::subsequence(PspRole::ALL.to_vec(), 0..=4), name in "[ -~]{0,40}", id in "[A-Z]{2}-[A-Z]{0,6}") {
            let qc = QcStatements {
                compliance: true,
                qc_types: vec![QcType::Eseal],
                psd2: Some(Psd2Statement { roles, nca_name: name, nca_id: id }),
                other: vec![],
            };
            prop_assert_eq!(QcStatements::from_der(&qc.to_der().expect("encode")).expect("decode"), qc);
        }
    }
}
