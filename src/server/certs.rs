//! The reference server's certificate rules: is a presented client certificate a valid QWAC of
//! a TPP with an accepted PSD2 role, and is a signing certificate a valid QSEAL of the same TPP.
//! Validity period, chain, type and roles are separate rules (each with its own flaw), judged
//! in that order, each failure with its Berlin Group code.

use std::time::{Duration, SystemTime};

use rustls::pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, KeyUsage};

use super::flaw::Flaw;
use crate::pki::{CertInfo, Pki, PspRole, QcType};
use crate::signature::SigningCertificate;

/// Why a certificate was refused; each maps to a Berlin Group code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    Missing,
    Expired(String),
    Invalid(String),
    Role(String),
    Revoked(String),
}

impl CertProblem {
    pub fn code(&self) -> &'static str {
        match self {
            CertProblem::Missing => "CERTIFICATE_MISSING",
            CertProblem::Expired(_) => "CERTIFICATE_EXPIRED",
            CertProblem::Invalid(_) => "CERTIFICATE_INVALID",
            CertProblem::Role(_) => "ROLE_INVALID",
            CertProblem::Revoked(_) => "CERTIFICATE_REVOKED",
        }
    }

    pub fn text(&self) -> String {
        match self {
            CertProblem::Missing => "a client certificate (QWAC) is required".into(),
            CertProblem::Expired(t) | CertProblem::Invalid(t) | CertProblem::Role(t) | CertProblem::Revoked(t) => {
                t.clone()
            }
        }
    }
}

/// The test PKI's root is not a trust anchor webpki can use.
#[derive(Debug, thiserror::Error)]
#[error("trust anchor unusable: {0:?}")]
pub struct TrustError(#[source] webpki::Error);

/// Why a certificate does not chain to the trusted QTSP; the refusal's text is its `Display`
/// after the certificate's name (`the QWAC does not chain ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("unparseable certificate: {0:?}")]
    Unparseable(#[source] webpki::Error),
    #[error("has a validity period that ends before it begins")]
    ValidityInverted,
    #[error("does not chain to the trusted QTSP ({0:?})")]
    Untrusted(#[source] webpki::Error),
}

/// The QTSP the server trusts: root(s) and the issuing CAs that a bare QSEAL chains through.
pub struct Trust {
    anchors: Vec<TrustAnchor<'static>>,
    intermediates: Vec<CertificateDer<'static>>,
}

impl Trust {
    pub fn from_pki(pki: &Pki) -> Result<Self, TrustError> {
        let anchor = webpki::anchor_from_trusted_cert(&pki.trust_anchor).map_err(TrustError)?.to_owned();
        Ok(Trust { anchors: vec![anchor], intermediates: pki.intermediates.clone() })
    }

    /// Whether `leaf` chains to the QTSP through `presented` or the known intermediates. The
    /// time is clamped into the leaf's own validity so that an expired leaf is judged by the
    /// validity rule alone, not twice.
    fn chains(
        &self,
        leaf: &CertificateDer<'_>,
        presented: &[CertificateDer<'_>],
        info: &CertInfo,
        now: SystemTime,
    ) -> Result<(), ChainError> {
        let cert = EndEntityCert::try_from(leaf).map_err(ChainError::Unparseable)?;
        if info.not_before > info.not_after {
            return Err(ChainError::ValidityInverted);
        }
        let at = now.clamp(info.not_before, info.not_after);
        let secs = at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs();
        let mut intermediates: Vec<CertificateDer<'_>> = presented.to_vec();
        intermediates.extend(self.intermediates.iter().cloned());
        cert.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &self.anchors,
            &intermediates,
            UnixTime::since_unix_epoch(Duration::from_secs(secs)),
            KeyUsage::client_auth(),
            None,
            None,
        )
        .map(|_| ())
        .map_err(ChainError::Untrusted)
    }
}

/// Validity and chain of a client certificate: the part of the QWAC rules that a TLS stack
/// can judge during the handshake.
pub fn check_qwac_chain(
    trust: &Trust,
    chain: &[CertificateDer<'_>],
    now: SystemTime,
    flaws: &impl Fn(Flaw) -> bool,
) -> Result<CertInfo, CertProblem> {
    let leaf = chain.first().ok_or(CertProblem::Missing)?;
    let info = CertInfo::from_der(leaf).map_err(|e| CertProblem::Invalid(e.to_string()))?;
    if !info.is_valid_at(now) && !flaws(Flaw::AcceptExpiredQwac) {
        return Err(CertProblem::Expired("the QWAC is outside its validity period".into()));
    }
    if !flaws(Flaw::AcceptUntrustedCa) {
        trust.chains(leaf, &chain[1..], &info, now).map_err(|e| CertProblem::Invalid(format!("the QWAC {e}")))?;
    }
    Ok(info)
}

/// A client certificate judged to be a QWAC of a TPP with an accepted role.
#[derive(Debug, Clone)]
pub struct Qwac {
    pub organization_identifier: String,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
}

/// The full QWAC judgement.
pub fn judge_qwac(
    trust: &Trust,
    chain: &[CertificateDer<'_>],
    required_roles: &[PspRole],
    now: SystemTime,
    flaws: &impl Fn(Flaw) -> bool,
) -> Result<Qwac, CertProblem> {
    let info = check_qwac_chain(trust, chain, now, flaws)?;
    let qc = info.qc_statements();
    if !flaws(Flaw::AcceptNonQwac) {
        if !info.client_auth {
            return Err(CertProblem::Invalid(
                "the client certificate is not a QWAC: no clientAuth extended key usage".into(),
            ));
        }
        if !qc.is_some_and(|q| q.qc_types.contains(&QcType::Web)) {
            return Err(CertProblem::Invalid("the client certificate is not a QWAC: no QcType web statement".into()));
        }
    }
    if !flaws(Flaw::SkipPsd2RoleCheck) {
        let psd2 = qc
            .and_then(|q| q.psd2.as_ref())
            .ok_or_else(|| CertProblem::Role("the QWAC carries no PSD2 statement".into()))?;
        if !psd2.roles.iter().any(|r| required_roles.contains(r)) {
            let wanted: Vec<&str> = required_roles.iter().map(|r| r.name()).collect();
            return Err(CertProblem::Role(format!("the QWAC's PSD2 roles lack one of {}", wanted.join(", "))));
        }
    }
    let organization_identifier = info
        .organization_identifier
        .ok_or_else(|| CertProblem::Invalid("the QWAC has no organizationIdentifier".into()))?;
    Ok(Qwac { organization_identifier, not_before: info.not_before, not_after: info.not_after })
}

/// The QSEAL judgement of a signing certificate already proven to have signed the request.
pub fn judge_qseal(
    trust: &Trust,
    cert: &SigningCertificate,
    tpp: &str,
    now: SystemTime,
    flaws: &impl Fn(Flaw) -> bool,
) -> Result<(), CertProblem> {
    let info = &cert.info;
    if !info.is_valid_at(now) && !flaws(Flaw::AcceptExpiredQseal) {
        return Err(CertProblem::Expired("the signing certificate is outside its validity period".into()));
    }
    if !flaws(Flaw::AcceptUntrustedQseal) {
        // The verdict is kept with the cached certificate; `chains` clamps the time into the
        // certificate's validity, so it does not depend on when it was reached.
        cert.trust_verdict(|| trust.chains(&CertificateDer::from(cert.der.as_slice()), &[], info, now))
            .map_err(|e| CertProblem::Invalid(format!("the signing certificate {e}")))?;
    }
    if !flaws(Flaw::AcceptAnySigningCert) {
        let eseal = info.qc_statements().is_some_and(|q| q.qc_types.contains(&QcType::Eseal));
        if !eseal || !info.non_repudiation {
            return Err(CertProblem::Invalid(
                "the signing certificate is not a QSEAL (QcType eseal, nonRepudiation)".into(),
            ));
        }
    }
    if !flaws(Flaw::SkipOrgMatch) && info.organization_identifier.as_deref() != Some(tpp) {
        return Err(CertProblem::Invalid(format!(
            "the signing certificate belongs to {}, not to the TPP of the QWAC ({tpp})",
            info.organization_identifier.as_deref().unwrap_or("no organisation")
        )));
    }
    Ok(())
}
