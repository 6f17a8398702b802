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
    let mut msg = dcr_harness::testing::one_kib_registration();
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
    let bare = dcr_harness::testing::bare_rsa_verifier(identity);
    group.bench_function("bare_rsa2048_verify", |b| b.iter(&bare));
    group.finish();
    round_trips(c);
}

/// One request at a time over a kept-alive mTLS connection to the in-process server, signed or
/// not: with the sign and verify figures above, this splits a signed request's time into
/// signing, verification, and TLS + HTTP + handler.
fn round_trips(c: &mut Criterion) {
    use dcr_harness::protocol::{CLIENT_ID_HEADER, CLIENT_SECRET_HEADER};
    use dcr_harness::transport::{Transport, TransportConfig};
    let pki = test_pki();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let server = runtime.block_on(dcr_harness::server::start(pki, ServerConfig::default())).expect("server");
    let transport = Transport::new(pki, TransportConfig::default()).expect("transport");
    let url = server.url();
    let tpp = pki.tpp("tpp-a").expect("tpp");
    let identity = pki.identity("qseal").expect("qseal");
    let mut group = c.benchmark_group("round_trip");
    group.throughput(Throughput::Elements(1));
    group.bench_function("unsigned_get", |b| {
        let msg = Message::new("GET", "/.well-known/oauth-authorization-server", Vec::new());
        b.iter(|| runtime.block_on(transport.send(pki, Some("qwac"), &url, &msg)).expect("answer"))
    });
    group.bench_function("signed_post_register", |b| {
        b.iter(|| {
            let mut msg = Message::new(
                "POST",
                "/client/v1/register",
                br#"{"redirect_uris":["https://tpp.example/cb"]}"#.to_vec(),
            );
            msg.add_header("Content-Type", "application/json");
            msg.add_header(CLIENT_ID_HEADER, &tpp.dcr_client_id);
            msg.add_header(CLIENT_SECRET_HEADER, &tpp.dcr_client_secret);
            sign(identity, &Dialect::default(), &mut msg, SystemTime::now()).expect("sign");
            let answer = runtime.block_on(transport.send(pki, Some("qwac"), &url, &msg)).expect("answer");
            assert_eq!(answer.status, 201);
        })
    });
    group.finish();
    runtime.block_on(server.stop());
}

criterion_group!(benches, bench);
criterion_main!(benches);
