//! Requests per second the reference server sustains for signed, valid registration POSTs over
//! kept-alive mTLS connections, on 127.0.0.1, driven by a bounded loop: `CONNECTIONS` tasks
//! (default 8), each with its own client, signing every request afresh, for `SECONDS` (default
//! 10). Client and server share the machine, so on 2 cores this is bound by signing.
//!
//! cargo bench --bench server_throughput            (SECONDS=5 CONNECTIONS=4 to change;
//!                                                    TARGET=https://127.0.0.1:18443 for a server
//!                                                    started with `serve --pki target/test-pki`)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use dcr_harness::protocol::{CLIENT_ID_HEADER, CLIENT_SECRET_HEADER};
use dcr_harness::server::{self, ServerConfig};
use dcr_harness::signature::{sign, Dialect, Message};
use dcr_harness::testing::test_pki;
use dcr_harness::transport::{Transport, TransportConfig};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` and `--list` probe bench binaries; nothing to do here.
    }
    let seconds = env_or("SECONDS", 10);
    let connections = env_or("CONNECTIONS", 8);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let pki = test_pki();
        let server = match std::env::var("TARGET") {
            Ok(_) => None,
            Err(_) => Some(server::start(pki, ServerConfig::default()).await.expect("server")),
        };
        let url = std::env::var("TARGET").unwrap_or_else(|_| server.as_ref().map(|s| s.url()).unwrap_or_default());
        let transport = Arc::new(Transport::new(pki, TransportConfig::default()).expect("transport"));
        let tpp = pki.tpp("tpp-a").expect("tpp");
        let body = br#"{"client_name":"load","redirect_uris":["https://tpp.example/cb"]}"#.to_vec();
        let ok = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let (transport, url, body, ok, failed) =
                (transport.clone(), url.clone(), body.clone(), ok.clone(), failed.clone());
            let (id, secret) = (tpp.dcr_client_id.clone(), tpp.dcr_client_secret.clone());
            tasks.push(tokio::spawn(async move {
                let identity = pki.identity("qseal").expect("qseal");
                while Instant::now() < deadline {
                    let mut msg = Message::new("POST", "/client/v1/register", body.clone());
                    msg.add_header("Content-Type", "application/json");
                    msg.add_header(CLIENT_ID_HEADER, &id);
                    msg.add_header(CLIENT_SECRET_HEADER, &secret);
                    sign(identity, &Dialect::default(), &mut msg, SystemTime::now()).expect("sign");
                    match transport.send(pki, Some("qwac"), &url, &msg).await {
                        Ok(r) if r.status == 201 => ok.fetch_add(1, Ordering::Relaxed),
                        _ => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
        println!(
            "signed mTLS POST /client/v1/register: {ok} ok, {failed} failed in {elapsed:.1} s = {:.0} requests/s \
             ({connections} keep-alive connections)",
            ok as f64 / elapsed
        );
        if let Some(server) = server {
            server.stop().await;
        }
    });
}
