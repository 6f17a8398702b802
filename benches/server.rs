//! The reference server's whole verification path for one signed request (signature header
//! parse, digest, signing string, keyId, RSA verify, QSEAL chain and policy), exactly as the
//! server runs it, next to the bare RSA-2048 verify of the same key. Compare with
//! `openssl speed rsa2048` run in the same session (see README).

use std::time::SystemTime;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use dcr_harness::server::{ServerConfig, SignatureVerifier};
use dcr_harness::signature::{sign, Dialect, Message};
use dcr_harness::testing::test_pki;

fn bench(c: &mut Criterion) {
    let pki = test_pki();
    let identity = pki.identity("qseal").expect("qseal");
    let org = identity.info.organization_identifier.clone().expect("org");
    let verifier = SignatureVerifier::new(pki, &ServerConfig::default()).expect("verifier");
    let now = SystemTime::now();
    let mut body = br#"{"client_name":"bench","redirect_uris":["https://tpp.example/cb"],"padding":""#.to_vec();
    body.resize(1022, b'x');
    body.extend_from_slice(b"\"}");
    let mut msg = Message::new("POST", "/client/v1/register", body);
    msg.add_header("Content-Type", "application/json");
    sign(identity, &Dialect::default(), &mut msg, now).expect("sign");

    let mut group = c.benchmark_group("server");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verification_path_1kib", |b| b.iter(|| verifier.verify(&msg, &org, now).expect("valid")));
    // The first request with a certificate: parse it and check its chain, then verify.
    group.bench_function("verification_path_1kib_first_sight", |b| {
        b.iter_batched(
            || SignatureVerifier::new(pki, &ServerConfig::default()).expect("verifier"),
            |fresh| fresh.verify(&msg, &org, now).expect("valid"),
            BatchSize::SmallInput,
        )
    });
    let message = b"(request-target): post /client/v1/register\ndate: Tue, 24 Nov 2026 19:11:14 GMT\ndigest: SHA-256=x";
    let signature = identity.key().sign(message).expect("sign");
    let public = identity.key().public_key_bits();
    group.bench_function("bare_rsa2048_verify", |b| {
        b.iter(|| {
            aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256, &public)
                .verify(message, &signature)
                .expect("verify")
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
