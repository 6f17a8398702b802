//! `dcr-harness probe`: what a target's signature verifier accepts, found by trying it, as
//! information (never pass or fail): the clock skew it allows either way (a binary search on the
//! signed Date), and which spellings of the same signature it takes (digest algorithm and case,
//! algorithm labels, keyId forms, header-name case, an extra signed header, PEM or DER in
//! `TPP-Signature-Certificate`, `Authorization: Signature` instead of `Signature`). Each attempt
//! is a valid registration that differs in that one thing; what it registers the session
//! deletes. The report is Markdown, the page a bank can put on its developer portal.
//!
//! It drives sessions and plans as a scenario does; it must not judge a verdict.

use std::sync::Arc;
use std::time::SystemTime;

use crate::error::Error;
use crate::run::session::{Answer, Lesson, Session};
use crate::run::Target;
use crate::scenario::{DateOffset, Operation, RequestSpec};
use crate::signature::{self, headers, Dialect, DigestEncoding, Message, Scheme, SignInputs};

/// The header an extra signed header is.
const EXTRA_HEADER: &str = "X-DCR-Harness-Probe";

/// The largest skew searched for, either way: a day.
pub const MAX_SKEW_S: i64 = 86_400;

/// One spelling of an otherwise valid signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    DigestLowerCase,
    DigestSha512,
    DigestHex,
    AlgorithmHs2019,
    KeyIdSerialLowerCaseWithZeros,
    KeyIdCaWithSpaces,
    KeyIdCaReversed,
    HeaderNamesCanonical,
    ExtraSignedHeader,
    CertificatePem,
    AuthorizationSignature,
}

impl Spelling {
    pub const ALL: &'static [Spelling] = &[
        Spelling::DigestLowerCase,
        Spelling::DigestSha512,
        Spelling::DigestHex,
        Spelling::AlgorithmHs2019,
        Spelling::KeyIdSerialLowerCaseWithZeros,
        Spelling::KeyIdCaWithSpaces,
        Spelling::KeyIdCaReversed,
        Spelling::HeaderNamesCanonical,
        Spelling::ExtraSignedHeader,
        Spelling::CertificatePem,
        Spelling::AuthorizationSignature,
    ];

    /// What differs from the profile's own signature, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Spelling::DigestLowerCase => "Digest algorithm in lower case (`sha-256=`)",
            Spelling::DigestSha512 => "Digest as SHA-512 only (`SHA-512=`)",
            Spelling::DigestHex => "Digest value in hex instead of base64",
            Spelling::AlgorithmHs2019 => "algorithm label `hs2019`",
            Spelling::KeyIdSerialLowerCaseWithZeros => "keyId serial in lower case with leading zeros",
            Spelling::KeyIdCaWithSpaces => "keyId CA with `, ` between RDNs",
            Spelling::KeyIdCaReversed => "keyId CA in reversed RDN order",
            Spelling::HeaderNamesCanonical => "header names in `headers` capitalised (`Date`, `Digest`)",
            Spelling::ExtraSignedHeader => "an extra signed header (`x-dcr-harness-probe`)",
            Spelling::CertificatePem => "TPP-Signature-Certificate as PEM with its armour",
            Spelling::AuthorizationSignature => {
                "the signature in `Authorization: Signature ...` instead of `Signature`"
            }
        }
    }

    /// Signs `msg` afresh as the profile would, but for this one thing.
    pub fn apply(
        self,
        identity: &crate::pki::Identity,
        dialect: &Dialect,
        msg: &mut Message,
        at: SystemTime,
    ) -> Result<(), Error> {
        let mut d = dialect.clone();
        match self {
            Spelling::HeaderNamesCanonical => d.header_case = signature::HeaderCase::Canonical,
            Spelling::ExtraSignedHeader => {
                msg.set_header(EXTRA_HEADER, "1");
                d.headers.push(EXTRA_HEADER.to_ascii_lowercase());
            }
            _ => {}
        }
        let mut inputs = SignInputs::correct(identity, &d, msg, at);
        let info = &identity.info;
        match self {
            Spelling::DigestLowerCase => inputs.digest_text = inputs.digest_text.replacen("SHA-256=", "sha-256=", 1),
            Spelling::DigestSha512 => {
                let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, &msg.body);
                inputs.digest_text = format!("SHA-512={}", base64_of(hash.as_ref()));
            }
            Spelling::DigestHex => inputs.digest_text = signature::digest_value(DigestEncoding::PrefixedHex, &msg.body),
            Spelling::AlgorithmHs2019 => inputs.algorithm = "hs2019".into(),
            Spelling::KeyIdSerialLowerCaseWithZeros => {
                inputs.key_id = format!("SN=00{},CA={}", info.serial_hex().to_lowercase(), info.issuer_rfc4514())
            }
            Spelling::KeyIdCaWithSpaces => {
                inputs.key_id = format!("SN={},CA={}", info.serial_hex(), info.issuer_rfc4514().replace(',', ", "))
            }
            Spelling::KeyIdCaReversed => {
                let reversed: Vec<&str> = info.issuer_rfc4514().split(',').rev().collect();
                inputs.key_id = format!("SN={},CA={}", info.serial_hex(), reversed.join(","))
            }
            _ => {}
        }
        inputs.apply(&d, msg)?;
        match self {
            Spelling::CertificatePem => {
                let body = identity.leaf_base64();
                let lines: Vec<&str> = body.as_bytes().chunks(64).filter_map(|c| std::str::from_utf8(c).ok()).collect();
                let pem = format!("-----BEGIN CERTIFICATE-----{}-----END CERTIFICATE-----", lines.join(""));
                msg.set_header(headers::CERTIFICATE, &pem);
            }
            Spelling::AuthorizationSignature => {
                let value = msg.header(headers::SIGNATURE).unwrap_or_default().to_string();
                msg.remove_header(headers::SIGNATURE);
                msg.set_header("Authorization", &format!("Signature {value}"));
            }
            _ => {}
        }
        Ok(())
    }
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// How far the signed time may be from the target's clock, as found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skew {
    /// The largest offset found accepted (seconds).
    pub accepted: i64,
    /// The smallest offset found refused; `None` if even the search's end was accepted.
    pub refused: Option<i64>,
}

/// What the probe found.
#[derive(Debug, Clone)]
pub struct Report {
    pub target: String,
    pub profile: String,
    pub scheme: Scheme,
    pub past: Skew,
    pub future: Skew,
    /// Each spelling and the status the target answered (none where the dialect has no such
    /// spelling).
    pub spellings: Vec<(Spelling, u16)>,
    pub attempts: usize,
}

/// Probes the target's verifier through `session`'s target.
pub async fn probe(target: Arc<Target>) -> Result<Report, Error> {
    let mut prober = Prober { session: Session::new(target.clone()), attempts: 0 };
    let outcome = prober.everything(&target).await;
    prober.session.cleanup().await;
    outcome
}

struct Prober {
    session: Session,
    attempts: usize,
}

impl Prober {
    async fn everything(&mut self, target: &Target) -> Result<Report, Error> {
        if self.attempt(0, None).await? != 201 {
            return Err(Error::input(
                "probe",
                "a valid signed registration is refused, so nothing can be learnt by varying it; run `dcr-harness run --scenario lifecycle-register-read-delete` to see why",
            ));
        }
        let past = self.skew(-1).await?;
        let future = self.skew(1).await?;
        let dialect = &target.profile.signature.dialect;
        let mut spellings = Vec::new();
        if dialect.scheme == Scheme::Cavage {
            for spelling in Spelling::ALL {
                spellings.push((*spelling, self.attempt(0, Some(*spelling)).await?));
            }
        }
        Ok(Report {
            target: target.base_url.clone(),
            profile: target.profile.name.clone(),
            scheme: dialect.scheme,
            past,
            future,
            spellings,
            attempts: self.attempts,
        })
    }

    /// The skew in one `direction` (-1 past, +1 future): the edge between an accepted and a
    /// refused offset, to the second, by doubling and then halving.
    async fn skew(&mut self, direction: i64) -> Result<Skew, Error> {
        let (mut accepted, mut refused) = (0i64, None);
        let mut step = 1i64;
        while refused.is_none() && accepted < MAX_SKEW_S {
            let offset = (accepted + step).min(MAX_SKEW_S);
            if self.attempt(direction * offset, None).await? == 201 {
                accepted = offset;
                step *= 2;
            } else {
                refused = Some(offset);
            }
        }
        while let Some(r) = refused.filter(|r| r - accepted > 1) {
            let middle = accepted + (r - accepted) / 2;
            if self.attempt(direction * middle, None).await? == 201 {
                accepted = middle;
            } else {
                refused = Some(middle);
            }
        }
        Ok(Skew { accepted, refused })
    }

    /// One registration, `offset` seconds off the clock, spelt as `spelling` says; the status.
    async fn attempt(&mut self, offset: i64, spelling: Option<Spelling>) -> Result<u16, Error> {
        self.attempts += 1;
        let name = format!("probe-{}", self.attempts);
        let request = RequestSpec {
            client: Some(name.clone()),
            body: Some(crate::preflight::registration_body("dcr-harness probe")),
            date_offset: DateOffset::Seconds(offset),
            ..RequestSpec::of(Operation::Register)
        };
        let mut planned = self.session.plan(&request, None).await.map_err(|e| Error::input("probe", e))?;
        if let Some(spelling) = spelling {
            let target = self.session.target().clone();
            let who = target.profile.identities.sign.name().unwrap_or(crate::pki::names::QSEAL).to_string();
            let identity = target.pki.identity(&who)?;
            spelling.apply(identity, &target.profile.signature.dialect, &mut planned.msg, SystemTime::now())?;
        }
        let response = self.session.send(&planned).await.map_err(|e| Error::input("probe", e))?;
        let lesson = Lesson::without_capture(Operation::Register, &name, &name, true);
        self.session.absorb(&lesson, Answer::from(&response));
        Ok(response.status)
    }
}

impl Report {
    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let edge = |s: &Skew, word: &str| match s.refused {
            Some(r) => format!("up to **{} s** {word} (refused at {r} s)", s.accepted),
            None => format!("at least **{} s** {word} (the search's end)", s.accepted),
        };
        let mut out = format!(
            "# What the signature verifier of {} accepts\n\nFound by `dcr-harness probe` with profile `{}` ({} signatures), in {} signed registrations, each valid but for the one thing tried; every client it registered was deleted. This is information, not a verdict.\n\n",
            self.target,
            self.profile,
            self.scheme.title(),
            self.attempts
        );
        out.push_str("## Clock skew\n\n");
        out.push_str(&format!(
            "- a signed time {}\n- a signed time {}\n\n",
            edge(&self.past, "in the past"),
            edge(&self.future, "in the future")
        ));
        if !self.spellings.is_empty() {
            out.push_str("## Spellings\n\n| spelling | answer |\n| --- | --- |\n");
            for (spelling, status) in &self.spellings {
                let verdict = if *status == 201 { "accepted".to_string() } else { format!("refused ({status})") };
                out.push_str(&format!("| {} | {verdict} |\n", spelling.describe()));
            }
        }
        out
    }
}
