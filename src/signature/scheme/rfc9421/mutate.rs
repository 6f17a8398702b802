//! The catalog's mutations in RFC 9421: the same idea as the draft-cavage form, on RFC 9421's
//! fields (`created` for Date, `Content-Digest` for Digest, covered components for the `headers`
//! list, `Signature-Input` parameters for the rest).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::{fields, ContentDigest};
use crate::signature::mutation::{bent_key_id, change_body, iso8601, other_method, OTHER_BODY};
use crate::signature::scheme::Signer;
use crate::signature::{headers, Message, Mutation, SignError, Signed};

/// Signs `msg` in RFC 9421 with `mutation`'s one thing broken.
pub(crate) fn apply_mutation(
    mutation: Mutation,
    signer: &Signer<'_, '_>,
    msg: &mut Message,
) -> Result<Signed, SignError> {
    use Mutation::*;
    let Signer { identity, dialect, date, ctx } = *signer;
    let mut inputs = super::inputs(identity, dialect, msg, date)?;
    let digest = dialect.rfc9421.digest;
    let now = crate::signature::unix_seconds(date);
    let hour = 3600;
    match mutation {
        DigestWrong => {
            let mut noise = [0u8; 32];
            aws_lc_rs::rand::fill(&mut noise)
                .map_err(|_| SignError::MutationNeeds { mutation: mutation.name(), needs: "randomness" })?;
            inputs.digest_text = Some(digest.value(&noise));
        }
        DigestSha1 => {
            let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &msg.body);
            inputs.digest_text = Some(format!("sha=:{}:", B64.encode(sha1.as_ref())));
        }
        DigestOfOtherBody => inputs.digest_text = Some(digest.value(OTHER_BODY)),
        DateMissing => {
            inputs.params.shift_remove("created");
        }
        DateStale => super::set_integer(&mut inputs.params, "created", now - hour),
        DateFuture => super::set_integer(&mut inputs.params, "created", now + hour),
        DateNotImfFixdate => super::set_string(&mut inputs.params, "created", &iso8601(date)),
        RequestTargetOtherPath => inputs.signed_target = format!("{}/other", msg.path().trim_end_matches('/')),
        RequestTargetOtherMethod => inputs.signed_method = other_method(&msg.method).to_string(),
        RequestTargetWithoutQuery => inputs.signed_target = msg.path().to_string(),
        HeadersWithoutRequestTarget => inputs.components.retain(|c| {
            !matches!(
                c.bare_item.as_string().map(|s| s.as_str()),
                Some("@method" | "@target-uri" | "@authority" | "@path" | "@query" | "@request-target")
            )
        }),
        HeadersWithoutDigest => {
            inputs.components.retain(|c| c.bare_item.as_string().is_none_or(|s| s.as_str() != "content-digest"))
        }
        AlgorithmUnknown => super::set_string(&mut inputs.params, "alg", "hmac-sha256"),
        AlgorithmMismatch => {
            let other = match inputs.algorithm {
                super::Algorithm::EcdsaP256Sha256 => super::Algorithm::RsaPssSha512,
                _ => super::Algorithm::EcdsaP256Sha256,
            };
            super::set_string(&mut inputs.params, "alg", other.name());
        }
        SignedByAnotherKey => inputs.key_identity = mutation.needs_other(ctx)?,
        KeyIdSerialWrong | KeyIdCaWrong => {
            super::set_string(&mut inputs.params, "keyid", &bent_key_id(mutation, identity, dialect))
        }
        CertificateOther => inputs.cert_identity = mutation.needs_other(ctx)?,
        LabelMismatch => inputs.signature_label = format!("{}-other", inputs.input_label),
        SignatureExpired => {
            super::set_integer(&mut inputs.params, "created", now - 120);
            super::set_integer(&mut inputs.params, "expires", now - 60);
        }
        TagWrong => super::set_string(&mut inputs.params, "tag", "another-application"),
        _ => {}
    }
    let label = inputs.signature_label.clone();
    let signed = inputs.apply(msg)?;
    match mutation {
        BodyChangedAfterSigning => change_body(msg),
        DigestMissing => msg.remove_header(fields::CONTENT_DIGEST),
        DigestDuplicated => msg.add_header(fields::CONTENT_DIGEST, &ContentDigest::Sha256.value(OTHER_BODY)),
        DateDiffersFromSigned => {
            let input = msg.header(fields::SIGNATURE_INPUT).unwrap_or_default().to_string();
            let bent = input.replace(&format!("created={now}"), &format!("created={}", now - 7));
            msg.set_header(fields::SIGNATURE_INPUT, &bent);
        }
        SignatureNotBase64 => msg.set_header(headers::SIGNATURE, &format!("{label}=:not*base64!:")),
        SignatureTruncated => rewrite_rfc9421_signature(msg, &label, |s| s[..s.len() / 2].to_vec()),
        SignatureEmpty => rewrite_rfc9421_signature(msg, &label, |_| Vec::new()),
        SignatureHeaderMissing => msg.remove_header(headers::SIGNATURE),
        SignatureHeaderDuplicated => {
            let mut copy = msg.clone();
            rewrite_rfc9421_signature(&mut copy, &label, |s| s[..s.len() / 2].to_vec());
            if let Some(second) = copy.header(headers::SIGNATURE) {
                msg.add_header(headers::SIGNATURE, second);
            }
        }
        CertificateMissing => msg.remove_header(headers::CERTIFICATE),
        SignatureInputMissing => msg.remove_header(fields::SIGNATURE_INPUT),
        SignatureReplayedFromOtherMethod => {
            let mut other = msg.clone();
            other.method = other_method(&msg.method).to_string();
            crate::signature::sign(identity, dialect, &mut other, date)?;
            for name in [fields::CONTENT_DIGEST, fields::SIGNATURE_INPUT, headers::SIGNATURE, headers::CERTIFICATE] {
                if let Some(value) = other.header(name) {
                    msg.set_header(name, value);
                }
            }
        }
        _ => {}
    }
    Ok(Signed { signing_string: signed.signing_string, headers: super::written_headers(msg) })
}

/// Replaces the bytes of the RFC 9421 signature labelled `label`.
fn rewrite_rfc9421_signature(msg: &mut Message, label: &str, f: impl Fn(&[u8]) -> Vec<u8>) {
    let Some(value) = msg.header(headers::SIGNATURE) else {
        return;
    };
    let Some(encoded) = value.strip_prefix(&format!("{label}=:")).and_then(|v| v.strip_suffix(':')) else {
        return;
    };
    let Ok(bytes) = B64.decode(encoded) else {
        return;
    };
    msg.set_header(headers::SIGNATURE, &format!("{label}=:{}:", B64.encode(f(&bytes))));
}
