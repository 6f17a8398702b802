//! The TLS-policy checks (`op: handshake`) against two servers on loopback configured each way:
//! a Python (OpenSSL) server that takes every version, TLS 1.0 and 1.1 included, and the
//! reference server (rustls: TLS 1.2 with FAPI's suites, TLS 1.3). The same probe and the same
//! judgement the scenarios use tell them apart: `tls-1.1-refused` holds for one and fails for the
//! other.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use dcr_harness::run::check::check_handshake;
use dcr_harness::scenario::HandshakeExpect;
use dcr_harness::server::{self, ServerConfig};
use dcr_harness::testing::{test_pki, test_pki_dir};
use dcr_harness::tls_probe::{cipher_suite, probe, Handshake, Offer, TlsVersion};

/// The Python server, killed when dropped.
struct AnyVersionServer {
    child: Child,
    addr: String,
}

impl AnyVersionServer {
    fn start() -> AnyVersionServer {
        test_pki();
        let dir = test_pki_dir();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/tls_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.join("server.pem"))
            .arg(dir.join("server.key"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("its stdout");
        BufReader::new(stdout).read_line(&mut line).expect("it prints its port");
        let port: u16 = line.trim().parse().unwrap_or_else(|_| panic!("a port, not {line:?}"));
        AnyVersionServer { child, addr: format!("127.0.0.1:{port}") }
    }
}

impl Drop for AnyVersionServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn offer(version: TlsVersion) -> Offer {
    Offer { version, cipher_suites: vec![] }
}

async fn took(addr: &str, offer: &Offer) -> bool {
    let answer = probe(addr, None, offer, Duration::from_secs(10)).await.expect("an answer");
    check_handshake(HandshakeExpect::Accepted, offer, &answer).passed
}

#[tokio::test(flavor = "multi_thread")]
async fn the_checks_tell_a_server_that_speaks_tls_1_1_from_one_that_does_not() {
    let permissive = AnyVersionServer::start();
    let reference = server::start(test_pki(), ServerConfig::default()).await.expect("the reference server");
    let strict = reference.url().trim_start_matches("https://").to_string();
    for (version, python, rustls) in [
        (TlsVersion::V1_0, true, false),
        (TlsVersion::V1_1, true, false),
        (TlsVersion::V1_2, true, true),
        (TlsVersion::V1_3, true, true),
    ] {
        assert_eq!(took(&permissive.addr, &offer(version)).await, python, "the Python server, {version:?}");
        assert_eq!(took(&strict, &offer(version)).await, rustls, "the reference server, {version:?}");
    }
    // The scenario tls-1.1-refused's judgement: it holds for the reference server, and fails
    // for the server that takes TLS 1.1, saying what it chose.
    let tls11 = offer(TlsVersion::V1_1);
    let judged = |answer: &Handshake| check_handshake(HandshakeExpect::Refused, &tls11, answer);
    let strict_answer = probe(&strict, None, &tls11, Duration::from_secs(10)).await.expect("an answer");
    assert!(judged(&strict_answer).passed, "{strict_answer}");
    let permissive_answer = probe(&permissive.addr, None, &tls11, Duration::from_secs(10)).await.expect("an answer");
    let failed = judged(&permissive_answer);
    assert!(!failed.passed);
    assert!(failed.got.contains("accepted: TLS 1.1"), "{}", failed.got);
    // FAPI's TLS 1.2 suites: a CBC suite is taken by one and refused by the other.
    let cbc = Offer {
        version: TlsVersion::V1_2,
        cipher_suites: vec![cipher_suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA").expect("known")],
    };
    assert!(took(&permissive.addr, &cbc).await);
    assert!(!took(&strict, &cbc).await);
    reference.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listener_that_is_no_tls_server_is_said_so_and_a_closed_port_is_a_connect_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("its address").to_string();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        if let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n").await;
        }
    });
    let answer = probe(&addr, None, &offer(TlsVersion::V1_2), Duration::from_secs(5)).await;
    assert!(matches!(answer, Err(dcr_harness::tls_probe::ProbeError::NotTls(_))), "{answer:?}");
    let closed = {
        let spare = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        spare.local_addr().expect("its address").to_string()
    };
    let refused = probe(&closed, None, &offer(TlsVersion::V1_2), Duration::from_secs(5)).await;
    assert!(matches!(refused, Err(dcr_harness::tls_probe::ProbeError::Connect { .. })), "{refused:?}");
}
