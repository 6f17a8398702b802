//! The signature dialects, one file each (`cavage`, `rfc9421`), and the one table that routes
//! to them: signing, verifying, a mutation's form, and what `explain` and `probe` say. A new
//! dialect is a file here, a variant of [`Scheme`] and its row in each `match` below (of
//! `impl Scheme` and `impl Signer`), plus its settings in `Dialect` if it has any; nothing
//! outside `signature` names a dialect.

pub mod cavage;
pub mod rfc9421;

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::pki::Identity;
use crate::signature::{
    CertificateCache, Dialect, Message, Mutation, MutationContext, SignError, SignatureError, Signed, Verified,
    VerifyPolicy,
};

/// Which specification the signature follows.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// draft-cavage-http-signatures as the Berlin Group guide (and SMBC) use it: `Signature`
    /// with keyId, algorithm, headers; `Digest`; `Date`.
    #[default]
    Cavage,
    /// RFC 9421 HTTP Message Signatures: `Signature-Input` and `Signature`, `Content-Digest`
    /// (RFC 9530), `created`; its settings are `rfc9421`.
    Rfc9421,
}

/// Why the text a signature covers cannot be shown (by `explain`).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BaseError {
    #[error("the request has no Signature header")]
    NoSignature,
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("`{0}` is signed but absent from the request")]
    SignedButAbsent(String),
    #[error("the profile signs `{0}`, which the request lacks")]
    ProfileSignsAbsent(String),
    #[error(transparent)]
    Component(#[from] rfc9421::ComponentError),
}

impl Scheme {
    /// The dialect's name, as reports say it.
    pub fn title(self) -> &'static str {
        match self {
            Scheme::Cavage => "draft-cavage",
            Scheme::Rfc9421 => "RFC 9421",
        }
    }

    /// What the dialect calls the text it signs.
    pub fn signed_text(self) -> &'static str {
        match self {
            Scheme::Cavage => "signing string",
            Scheme::Rfc9421 => "signature base",
        }
    }

    /// Verifies `msg` as this dialect signs.
    pub(crate) fn verify(
        self,
        msg: &Message,
        policy: &VerifyPolicy,
        now: SystemTime,
        cache: &CertificateCache,
    ) -> Result<Verified, SignatureError> {
        match self {
            Scheme::Cavage => cavage::verify(msg, policy, now, cache),
            Scheme::Rfc9421 => rfc9421::verify(msg, policy, now, cache),
        }
    }

    /// The rule a strict server breaks on for `mutation` in this dialect; `None` where the
    /// mutation has no form in it.
    pub(crate) fn rejected_as(self, mutation: Mutation, dialect: &Dialect) -> Option<&'static str> {
        let rule = match self {
            Scheme::Cavage if !cavage::has_form(mutation, dialect) => "-",
            Scheme::Cavage => mutation.rejected_as(),
            Scheme::Rfc9421 if mutation == Mutation::TagWrong && dialect.rfc9421.tag.is_none() => "-",
            Scheme::Rfc9421 => mutation.rejected_as_rfc9421(),
        };
        (rule != "-").then_some(rule)
    }

    /// What `explain` shows: the text signed over what the request says it signed, the text
    /// the profile's signer would have signed, and the body's digest as the profile writes it.
    pub fn explain(
        self,
        msg: &Message,
        dialect: &Dialect,
    ) -> (Result<String, BaseError>, Result<String, BaseError>, String) {
        match self {
            Scheme::Cavage => {
                (cavage::as_signed(msg, dialect), cavage::expected(msg, dialect), dialect.digest_of(&msg.body))
            }
            Scheme::Rfc9421 => (
                rfc9421::as_signed(msg, dialect),
                rfc9421::expected(msg, dialect),
                dialect.rfc9421.digest.value(&msg.body),
            ),
        }
    }
}

/// Who signs, as which dialect says, dated when: what every signing in a dialect takes, the
/// dialect chosen by `dialect.scheme`.
#[derive(Clone, Copy)]
pub(crate) struct Signer<'a, 'c> {
    pub identity: &'a Identity,
    pub dialect: &'c Dialect,
    pub date: SystemTime,
    /// Another TPP's identity for the mutations that need one; a load's per-second memo.
    pub ctx: &'c MutationContext<'a>,
}

impl Signer<'_, '_> {
    /// Signs `msg` correctly (a load's per-second memo reused where the dialect can).
    pub(crate) fn sign(&self, msg: &mut Message) -> Result<Signed, SignError> {
        let Signer { identity, dialect, date, ctx } = *self;
        match dialect.scheme {
            Scheme::Cavage => {
                cavage::SignInputs { memo: ctx.memo, ..cavage::SignInputs::correct(identity, dialect, msg, date) }
                    .apply(dialect, msg)
            }
            Scheme::Rfc9421 => rfc9421::inputs(identity, dialect, msg, date)?.apply(msg),
        }
    }

    /// Signs `msg` with `mutation`'s one thing broken, in the dialect's form.
    pub(crate) fn sign_broken(&self, mutation: Mutation, msg: &mut Message) -> Result<Signed, SignError> {
        match self.dialect.scheme {
            Scheme::Cavage => cavage::apply_mutation(mutation, self, msg),
            Scheme::Rfc9421 => rfc9421::apply_mutation(mutation, self, msg),
        }
    }
}
