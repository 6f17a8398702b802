//! Sign and verify a 1 KiB request (digest, signing string, RSA-2048 PKCS#1 v1.5), next to the
//! bare RSA operation on the same key, so that the overhead of digest and string building shows.
//! Compare with `openssl speed -seconds 5 rsa2048` run in the same session (see README).

use std::time::SystemTime;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dcr_harness::signature::{sign, verify, verify_with_cache, CertificateCache, Dialect, Message, VerifyPolicy};
use dcr_harness::testing::test_pki;

fn one_kib_request() -> Message {
    let mut body = br#"{"client_name":"bench","redirect_uris":["https://tpp.example/cb"],"padding":""#.to_vec();
    body.resize(1024 - 2, b'x');
    body.extend_from_slice(b"\"}");
    Message::new("POST", "/client/v1/register", body)
}

fn bench(c: &mut Criterion) {
    let identity = test_pki().identity("qseal").expect("qseal");
    let dialect = Dialect::default();
    let now = SystemTime::now();
    let mut group = c.benchmark_group("signature");
    group.throughput(Throughput::Elements(1));

    group.bench_function("sign_1kib", |b| {
        b.iter(|| {
            let mut msg = one_kib_request();
            sign(identity, &dialect, &mut msg, now).expect("sign")
        })
    });

    let mut signed = one_kib_request();
    sign(identity, &dialect, &mut signed, now).expect("sign");
    let policy = VerifyPolicy::default();
    group.bench_function("verify_1kib", |b| b.iter(|| verify(&signed, &policy, now).expect("verify")));
    let cache = CertificateCache::new();
    group.bench_function("verify_1kib_cached_cert", |b| {
        b.iter(|| verify_with_cache(&signed, &policy, now, &cache).expect("verify"))
    });

    let message = b"(request-target): post /client/v1/register\ndate: Tue, 24 Nov 2026 19:11:14 GMT\ndigest: SHA-256=x";
    group.bench_function("bare_rsa2048_sign", |b| b.iter(|| identity.key().sign(message).expect("sign")));
    let sig = identity.key().sign(message).expect("sign");
    let public = identity.key().public_key_bits();
    group.bench_function("bare_rsa2048_verify", |b| {
        b.iter(|| {
            aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256, &public)
                .verify(message, &sig)
                .expect("verify")
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
