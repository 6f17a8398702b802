//! Sign and verify a 1 KiB request (digest, signing string, RSA-2048 PKCS#1 v1.5), next to the
//! bare RSA operation on the same key, so that the overhead of digest and string building shows;
//! and the same request in RFC 9421 (RSA-PSS SHA-512, Content-Digest, the base and its two RFC
//! 8941 fields), verified with the cached certificate as the server does.
//! Compare with `openssl speed -seconds 5 rsa2048` run in the same session (see README).

use std::time::SystemTime;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dcr_harness::signature::{sign, verify, verify_with_cache, CertificateCache, Dialect, VerifyPolicy};
use dcr_harness::testing::test_pki;

fn bench(c: &mut Criterion) {
    let identity = test_pki().identity("qseal").expect("qseal");
    let dialect = Dialect::default();
    let now = SystemTime::now();
    let mut group = c.benchmark_group("signature");
    group.throughput(Throughput::Elements(1));

    group.bench_function("sign_1kib", |b| {
        b.iter(|| {
            let mut msg = dcr_harness::testing::one_kib_registration();
            sign(identity, &dialect, &mut msg, now).expect("sign")
        })
    });

    let mut signed = dcr_harness::testing::one_kib_registration();
    sign(identity, &dialect, &mut signed, now).expect("sign");
    let policy = VerifyPolicy::default();
    group.bench_function("verify_1kib", |b| b.iter(|| verify(&signed, &policy, now).expect("verify")));
    let cache = CertificateCache::new();
    group.bench_function("verify_1kib_cached_cert", |b| {
        b.iter(|| verify_with_cache(&signed, &policy, now, &cache).expect("verify"))
    });

    let rfc9421 = Dialect { scheme: dcr_harness::signature::Scheme::Rfc9421, ..Dialect::default() };
    group.bench_function("rfc9421_sign_1kib", |b| {
        b.iter(|| {
            let mut msg = dcr_harness::testing::one_kib_registration();
            sign(identity, &rfc9421, &mut msg, now).expect("sign")
        })
    });
    let mut signed_9421 = dcr_harness::testing::one_kib_registration();
    sign(identity, &rfc9421, &mut signed_9421, now).expect("sign");
    let policy_9421 = VerifyPolicy::of(rfc9421.clone());
    group.bench_function("rfc9421_verify_1kib_cached_cert", |b| {
        b.iter(|| verify_with_cache(&signed_9421, &policy_9421, now, &cache).expect("verify"))
    });

    let message = b"(request-target): post /client/v1/register\ndate: Tue, 24 Nov 2026 19:11:14 GMT\ndigest: SHA-256=x";
    group.bench_function("bare_rsa2048_sign", |b| b.iter(|| identity.key().sign(message).expect("sign")));
    let bare = dcr_harness::testing::bare_rsa_verifier(identity);
    group.bench_function("bare_rsa2048_verify", |b| b.iter(&bare));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
