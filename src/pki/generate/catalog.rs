//! The catalog of the test PKI's identities: data, one row an identity (its kind, validity,
//! how it is broken, who issued it, its TPP), CAs first so that issuers come before what they
//! issue.

use super::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Root,
    Issuing,
    UntrustedRoot,
    Server,
    Qwac,
    Qseal,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Validity {
    Current,
    Expired,
    NotYetValid,
}

/// The one way in which a bad certificate differs from its good twin.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Variant {
    Normal,
    NoPsd2,
    WrongRole,
    OtherOrg,
    Rsa1024,
    /// Revoked by the QTSP: its OCSP responder says so and its CRL lists it.
    Revoked,
    /// Issued, but unknown to the QTSP's OCSP responder.
    StatusUnknown,
    /// Its AIA names a responder that never answers, and it names no CRL.
    ResponderDown,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum IssuedBy {
    Itself,
    ByRoot,
    ByQtsp,
    ByUntrusted,
}

pub(super) struct Spec {
    pub(super) name: &'static str,
    pub(super) kind: Kind,
    pub(super) tpp: Option<&'static str>,
    pub(super) issued_by: IssuedBy,
    pub(super) validity: Validity,
    pub(super) variant: Variant,
    pub(super) description: &'static str,
}

pub(super) const fn spec(
    name: &'static str,
    kind: Kind,
    tpp: Option<&'static str>,
    issued_by: IssuedBy,
    validity: Validity,
    variant: Variant,
    description: &'static str,
) -> Spec {
    Spec { name, kind, tpp, issued_by, validity, variant, description }
}

use IssuedBy::*;
use Kind::*;
use Validity::*;
use Variant::*;

pub(super) const A: Option<&str> = Some(names::TPP_A);
pub(super) const B: Option<&str> = Some(names::TPP_B);

/// Every identity the test PKI holds. Order matters: issuers come before what they issue.
pub(super) const CATALOG: &[Spec] = &[
    spec("root-ca", Root, None, Itself, Current, Normal, "test QTSP root CA (the trust anchor)"),
    spec("issuing-ca", Issuing, None, ByRoot, Current, Normal, "test QTSP issuing CA"),
    spec("untrusted-root", UntrustedRoot, None, Itself, Current, Normal, "a self-made root no server trusts"),
    spec("server", Server, None, ByQtsp, Current, Normal, "reference server (localhost, 127.0.0.1, ::1)"),
    spec("qwac", Qwac, A, ByQtsp, Current, Normal, "QWAC of TPP A"),
    spec("qseal", Qseal, A, ByQtsp, Current, Normal, "QSEAL of TPP A"),
    spec("qwac-b", Qwac, B, ByQtsp, Current, Normal, "QWAC of TPP B (cross-TPP tests)"),
    spec("qseal-b", Qseal, B, ByQtsp, Current, Normal, "QSEAL of TPP B (cross-TPP tests)"),
    spec("qwac-expired", Qwac, A, ByQtsp, Expired, Normal, "QWAC of TPP A, expired"),
    spec("qwac-not-yet-valid", Qwac, A, ByQtsp, NotYetValid, Normal, "QWAC of TPP A, not yet valid"),
    spec("qwac-untrusted", Qwac, A, ByUntrusted, Current, Normal, "QWAC of TPP A from an untrusted CA"),
    spec("qwac-no-psd2", Qwac, A, ByQtsp, Current, NoPsd2, "QWAC of TPP A without the PSD2 statement"),
    spec("qwac-wrong-role", Qwac, A, ByQtsp, Current, WrongRole, "QWAC of TPP A whose only role is PSP_IC"),
    spec("qseal-expired", Qseal, A, ByQtsp, Expired, Normal, "QSEAL of TPP A, expired"),
    spec("qseal-not-yet-valid", Qseal, A, ByQtsp, NotYetValid, Normal, "QSEAL of TPP A, not yet valid"),
    spec("qseal-untrusted", Qseal, A, ByUntrusted, Current, Normal, "QSEAL of TPP A from an untrusted CA"),
    spec("qseal-other-org", Qseal, A, ByQtsp, Current, OtherOrg, "QSEAL of another organisation"),
    spec("qseal-rsa1024", Qseal, A, ByQtsp, Current, Rsa1024, "QSEAL of TPP A with a weak RSA-1024 key"),
    spec("qwac-revoked", Qwac, A, ByQtsp, Current, Revoked, "QWAC of TPP A, revoked by the QTSP (OCSP and CRL)"),
    spec("qseal-revoked", Qseal, A, ByQtsp, Current, Revoked, "QSEAL of TPP A, revoked by the QTSP (OCSP and CRL)"),
    spec(
        "qseal-status-unknown",
        Qseal,
        A,
        ByQtsp,
        Current,
        StatusUnknown,
        "QSEAL of TPP A that the QTSP's OCSP responder does not know",
    ),
    spec(
        "qseal-responder-down",
        Qseal,
        A,
        ByQtsp,
        Current,
        ResponderDown,
        "QSEAL of TPP A whose OCSP responder never answers (and no CRL)",
    ),
    spec(
        "qseal-unseen",
        Qseal,
        A,
        ByQtsp,
        Current,
        Normal,
        "QSEAL of TPP A that only a scenario with faults presents (its status not yet known to the server)",
    ),
];

/// The names of every generated identity, in catalog order.
pub fn catalog_names() -> impl Iterator<Item = &'static str> {
    CATALOG.iter().map(|s| s.name)
}
