//! Fuzzes what the reference server reads from the network: the Signature header and the
//! whole verifier (Digest, Date, keyId, TPP-Signature-Certificate), the same in RFC 9421
//! (Signature-Input, Signature, Content-Digest as RFC 8941 dictionaries), the RFC 7591 metadata
//! validator, the qcStatements decoder, and what `explain` reads (raw HTTP, HAR, curl traces).
//! Input: up to four newline-separated header values, the whole input also serving as body,
//! metadata, DER and capture.
//!
//! RUSTC_BOOTSTRAP=1 cargo fuzz run parsers fuzz/corpus/parsers fuzz/corpus/seeds -- -max_total_time=240
#![no_main]

use std::time::{Duration, SystemTime};

use dcr_harness::pki::QcStatements;
use dcr_harness::server::metadata::validate;
use dcr_harness::signature::{verify, Dialect, Message, Scheme, VerifyPolicy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.splitn(4, '\n');
    let mut msg = Message::new("POST", "/client/v1/register", data.to_vec());
    for name in ["Signature", "Digest", "Date", "TPP-Signature-Certificate"] {
        msg.add_header(name, fields.next().unwrap_or_default());
    }
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let _ = verify(&msg, &VerifyPolicy::default(), now);
    let _ = verify(&msg, &VerifyPolicy { max_skew: None, reject_duplicate_headers: false, ..VerifyPolicy::default() }, now);
    let mut fields = text.splitn(4, '\n');
    let mut msg = Message::new("POST", "/client/v1/register", data.to_vec());
    for name in ["Signature-Input", "Signature", "Content-Digest", "TPP-Signature-Certificate"] {
        msg.add_header(name, fields.next().unwrap_or_default());
    }
    let rfc9421 = VerifyPolicy::of(Dialect { scheme: Scheme::Rfc9421, ..Dialect::default() });
    let _ = verify(&msg, &rfc9421, now);
    let _ = dcr_harness::explain::read_capture(data, None, None);
    let _ = validate(data, &|_| false);
    let _ = QcStatements::from_der(data);
});
