use super::failure::handshake_refusal;
use super::*;
use crate::server::{self, CertCheck, ServerConfig};

/// A TLS server on loopback presenting `cert` (with `key`), answering nothing.
async fn tls_server(cert: rcgen::Certificate, key: rcgen::KeyPair) -> (String, tokio::task::JoinHandle<()>) {
    let der = rustls_pki_types::PrivateKeyDer::try_from(key.serialize_der()).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(crate::crypto::provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], der)
        .expect("config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(tcp).await;
            });
        }
    });
    (format!("https://127.0.0.1:{port}"), task)
}

/// Failures are sorted by what failed, not by the words of the URL: a path full of TLS words
/// to a port nothing listens on is unreachable; a server certificate the harness refuses is
/// a setup matter that names what is wrong with it (expired, another host, an unknown CA).
#[tokio::test(flavor = "multi_thread")]
async fn failures_are_classified_by_type_and_certificate_problems_named() {
    let pki = crate::testing::test_pki();
    let dir = tempfile::tempdir().expect("tempdir");
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let transport = Transport::new(pki, TransportConfig::default()).expect("transport");
    let words = "/tls/certificate/handshake/alert/CertificateRequired/UnknownCA/BadCertificate";
    for base in [format!("http://127.0.0.1:{closed}"), format!("https://127.0.0.1:{closed}")] {
        let error = transport.send(pki, None, &base, &Message::new("GET", words, vec![])).await.expect_err("closed");
        assert!(matches!(error, TransportError::Unreachable { .. }), "{base}{words}: {error:?}");
    }
    let make = |names: Vec<String>, past: bool| {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(names).expect("params");
        if past {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = params.self_signed(&key).expect("cert");
        (cert, key)
    };
    let cases = [
        ("expired", make(vec!["127.0.0.1".into()], true), true, "outside its validity period"),
        ("another host", make(vec!["bank.example".into()], false), true, "does not name the URL's host"),
        ("an unknown CA", make(vec!["127.0.0.1".into()], false), false, "does not chain to a CA"),
    ];
    for (what, (cert, key), trusted, hint) in cases {
        let pem = dir.path().join(format!("{}.pem", what.replace(' ', "-")));
        std::fs::write(&pem, cert.pem()).expect("write");
        let trust = if trusted { ServerTrust::Pem(vec![pem]) } else { ServerTrust::TestPki };
        let transport =
            Transport::new(pki, TransportConfig { trust, ..TransportConfig::default() }).expect("transport");
        let (url, task) = tls_server(cert, key).await;
        let error = transport.send(pki, None, &url, &Message::new("GET", "/", vec![])).await.expect_err(what);
        assert!(error.is_setup(), "{what}: a setup matter: {error:?}");
        assert!(error.to_string().contains(hint), "{what}: {error}");
        task.abort();
    }
}

/// The probe behind [`Transport::diagnose`], against a server that judges certificates in
/// the handshake: it hears the refusal of an expired QWAC and of no certificate at all, and
/// nothing from an accepted one.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_handshake_hears_the_alert_of_a_refused_certificate() {
    let pki = crate::testing::test_pki();
    let config = ServerConfig { cert_check: CertCheck::Handshake, ..ServerConfig::default() };
    let server = server::start(pki, config).await.expect("server");
    let transport = Transport::new(pki, TransportConfig::default()).expect("transport");
    let url = format!("{}/client/v1/register", server.url());
    let wait = Duration::from_secs(1);
    for (identity, refused) in [(Some("qwac-expired"), true), (None, true), (Some("qwac"), false)] {
        let tls = transport.client_and_flag(pki, identity).expect("client").tls;
        let heard = handshake_refusal(&url, tls, wait).await;
        assert_eq!(heard.is_some(), refused, "{identity:?}: {heard:?}");
    }
    server.stop().await;
}
