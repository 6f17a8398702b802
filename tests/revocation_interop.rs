//! The test QTSP's OCSP responder and CRL against an implementation nobody here wrote: pyca's
//! `cryptography` (hash-pinned in `tests/python/requirements.txt`) builds the OCSP requests,
//! reads the responses and the CRL, and checks both are signed by the issuing CA; and it reads
//! the AIA and CRL distribution point the test PKI's certificates carry.

mod common;

use dcr_harness::pki::revocation::{CRL_URL, OCSP_DOWN_URL, OCSP_URL};
use dcr_harness::testing::{test_pki_dir, test_pki_shared};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn cryptography_reads_the_responders_answers_and_the_crl_as_signed_by_the_issuing_ca() {
    let qtsp =
        dcr_harness::qtsp::start(test_pki_shared(), Default::default()).await.expect("the QTSP's services start");
    let (dir, url) = (test_pki_dir().display().to_string(), qtsp.url().to_string());
    let names = ["qseal", "qwac", "qseal-revoked", "qwac-revoked", "qseal-status-unknown", "qseal-responder-down"];
    let out = tokio::task::spawn_blocking(move || {
        let mut args = vec!["check", dir.as_str(), url.as_str()];
        args.extend(names);
        common::python::run_script("revocation.py", &args, "")
    })
    .await
    .expect("the script runs");
    let verdicts: Value = serde_json::from_str(&out).expect("verdicts as JSON");
    let published = format!("{OCSP_URL} {CRL_URL}");
    let expected = [
        ("qseal", format!("{published}: ocsp GOOD, crl not listed")),
        ("qwac", format!("{published}: ocsp GOOD, crl not listed")),
        ("qseal-revoked", format!("{published}: ocsp REVOKED, crl listed")),
        ("qwac-revoked", format!("{published}: ocsp REVOKED, crl listed")),
        ("qseal-status-unknown", format!("{published}: ocsp UNKNOWN, crl not listed")),
        ("qseal-responder-down", format!("{OCSP_DOWN_URL} none: ocsp GOOD, crl not listed")),
    ];
    for (name, verdict) in expected {
        assert_eq!(verdicts[name].as_str(), Some(verdict.as_str()), "{name}: {verdicts}");
    }
    qtsp.stop().await;
}
