//! What TLS a server offers, asked from outside by the first flight of a handshake: a
//! ClientHello offering one protocol version (TLS 1.0 to 1.3) and a set of cipher suites, and the
//! server's first answer read with tls-parser: a ServerHello (the version and suite it chose), an
//! alert, or a closed connection. The version and suite a server takes are fixed by its
//! ServerHello, before any certificate is asked for, so this is how a server that would speak
//! TLS 1.1 is told from one that would not, whatever TLS library the harness itself uses (rustls
//! speaks neither TLS 1.0 nor 1.1). It must not complete a handshake, send application data or
//! hold a key.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A protocol version a ClientHello offers.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TlsVersion {
    #[serde(rename = "1.0")]
    V1_0,
    #[serde(rename = "1.1")]
    V1_1,
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

impl TlsVersion {
    pub const ALL: [TlsVersion; 4] = [TlsVersion::V1_0, TlsVersion::V1_1, TlsVersion::V1_2, TlsVersion::V1_3];

    /// Its number on the wire (RFC 8446 §4.2.1).
    pub fn wire(self) -> u16 {
        match self {
            TlsVersion::V1_0 => 0x0301,
            TlsVersion::V1_1 => 0x0302,
            TlsVersion::V1_2 => 0x0303,
            TlsVersion::V1_3 => 0x0304,
        }
    }

    pub fn from_wire(wire: u16) -> Option<TlsVersion> {
        TlsVersion::ALL.into_iter().find(|v| v.wire() == wire)
    }

    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::V1_0 => "TLS 1.0",
            TlsVersion::V1_1 => "TLS 1.1",
            TlsVersion::V1_2 => "TLS 1.2",
            TlsVersion::V1_3 => "TLS 1.3",
        }
    }

    /// The suites offered where a step names none: every common one of the version, so that
    /// only the version can be what a server refuses.
    fn default_suites(self) -> &'static [u16] {
        const LEGACY: &[u16] = &[0xC013, 0xC014, 0xC009, 0xC00A, 0x002F, 0x0035, 0x0033, 0x0039, 0x000A];
        const TLS12: &[u16] = &[
            0xC02F, 0xC030, 0xC02B, 0xC02C, 0xCCA8, 0xCCA9, 0x009E, 0x009F, 0x009C, 0x009D, 0xC027, 0xC028, 0xC023,
            0xC024, 0xC013, 0xC014, 0xC009, 0xC00A, 0x002F, 0x0035, 0x003C, 0x003D,
        ];
        const TLS13: &[u16] = &[0x1301, 0x1302, 0x1303];
        match self {
            TlsVersion::V1_0 | TlsVersion::V1_1 => LEGACY,
            TlsVersion::V1_2 => TLS12,
            TlsVersion::V1_3 => TLS13,
        }
    }
}

/// The IANA number of a cipher suite named as the TLS registry names it
/// (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`).
pub fn cipher_suite(name: &str) -> Option<u16> {
    tls_parser::TlsCipherSuite::from_name(name).map(|suite| suite.id.0)
}

/// The registry's name of a cipher suite, or its number.
pub fn cipher_suite_name(id: u16) -> String {
    tls_parser::TlsCipherSuite::from_id(id).map_or_else(|| format!("0x{id:04X}"), |suite| suite.name.to_string())
}

/// What a ClientHello offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub version: TlsVersion,
    /// Empty: the version's common suites.
    pub cipher_suites: Vec<u16>,
}

impl Offer {
    fn suites(&self) -> &[u16] {
        match self.cipher_suites.is_empty() {
            true => self.version.default_suites(),
            false => &self.cipher_suites,
        }
    }
}

/// How a server answered a ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handshake {
    /// Its ServerHello chose this version and suite.
    Accepted { version: u16, cipher_suite: u16 },
    /// An alert (its description, RFC 8446 §6), or the connection closed without one.
    Refused { alert: Option<u8> },
}

impl std::fmt::Display for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handshake::Accepted { version, cipher_suite } => {
                let version =
                    TlsVersion::from_wire(*version).map_or_else(|| format!("0x{version:04X}"), |v| v.name().into());
                write!(f, "accepted: {version}, {}", cipher_suite_name(*cipher_suite))
            }
            Handshake::Refused { alert: Some(alert) } => write!(f, "refused with alert {}", alert_name(*alert)),
            Handshake::Refused { alert: None } => f.write_str("refused: the connection closed without a ServerHello"),
        }
    }
}

fn alert_name(code: u8) -> String {
    let name = match code {
        40 => "handshake_failure",
        47 => "illegal_parameter",
        50 => "decode_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        109 => "missing_extension",
        112 => "unrecognized_name",
        _ => return code.to_string(),
    };
    format!("{name} ({code})")
}

/// Why a server's TLS could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("no answer to the ClientHello within {0:?}")]
    Timeout(Duration),
    #[error("the answer to the ClientHello is not TLS: {0}")]
    NotTls(String),
}

/// The ClientHello record offering `offer`, naming `server_name` (a host name; none for an IP).
pub fn client_hello(offer: &Offer, server_name: Option<&str>) -> Vec<u8> {
    let tls13 = offer.version == TlsVersion::V1_3;
    let mut body = Vec::new();
    put_u16(&mut body, if tls13 { 0x0303 } else { offer.version.wire() });
    body.extend(random_bytes(32));
    // A TLS 1.3 ClientHello carries a legacy session id (RFC 8446 §4.1.2, middlebox mode).
    let session = if tls13 { random_bytes(32) } else { Vec::new() };
    body.push(session.len() as u8);
    body.extend(session);
    let mut suites: Vec<u16> = offer.suites().to_vec();
    if !tls13 {
        suites.push(0x00FF); // TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746)
    }
    put_u16(&mut body, (suites.len() * 2) as u16);
    suites.iter().for_each(|suite| put_u16(&mut body, *suite));
    body.extend([1, 0]); // compression: null only
    let extensions = extensions(offer.version, server_name);
    put_u16(&mut body, extensions.len() as u16);
    body.extend(extensions);
    let mut handshake = vec![1]; // client_hello
    put_u24(&mut handshake, body.len());
    handshake.extend(body);
    let mut record = vec![22, 0x03, 0x01]; // handshake, record version TLS 1.0 (RFC 8446 §5.1)
    put_u16(&mut record, handshake.len() as u16);
    record.extend(handshake);
    record
}

fn extensions(version: TlsVersion, server_name: Option<&str>) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(name) = server_name.filter(|name| name.parse::<std::net::IpAddr>().is_err()) {
        let mut list = vec![0]; // host_name
        put_u16(&mut list, name.len() as u16);
        list.extend(name.as_bytes());
        let mut data = Vec::new();
        put_u16(&mut data, list.len() as u16);
        data.extend(list);
        extension(&mut out, 0x0000, &data);
    }
    extension(&mut out, 0x000a, &[0, 6, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]); // x25519, P-256, P-384
    extension(&mut out, 0x000b, &[1, 0]); // ec_point_formats: uncompressed
    if version >= TlsVersion::V1_2 {
        let schemes: [u16; 9] = [0x0804, 0x0805, 0x0806, 0x0403, 0x0503, 0x0401, 0x0501, 0x0601, 0x0201];
        let mut data = Vec::new();
        put_u16(&mut data, (schemes.len() * 2) as u16);
        schemes.iter().for_each(|s| put_u16(&mut data, *s));
        extension(&mut out, 0x000d, &data);
    }
    extension(&mut out, 0xff01, &[0]); // renegotiation_info, empty
    if version == TlsVersion::V1_3 {
        extension(&mut out, 0x002b, &[2, 0x03, 0x04]); // supported_versions: TLS 1.3 only
                                                       // A key share the server can use to answer (any 32 bytes are an X25519 public key);
                                                       // the handshake never goes past the ServerHello.
        let mut share = vec![0x00, 0x1d, 0x00, 0x20];
        share.extend(random_bytes(32));
        let mut data = Vec::new();
        put_u16(&mut data, share.len() as u16);
        data.extend(share);
        extension(&mut out, 0x0033, &data);
        extension(&mut out, 0x002d, &[1, 1]); // psk_key_exchange_modes: psk_dhe_ke
    }
    out
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    put_u16(out, kind);
    put_u16(out, data.len() as u16);
    out.extend(data);
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend(value.to_be_bytes());
}

fn put_u24(out: &mut Vec<u8>, value: usize) {
    out.extend(&(value as u32).to_be_bytes()[1..]);
}

/// Random bytes for the hello's random, session id and key share: nothing secret rests on them
/// (the handshake stops at the ServerHello), so zeros would do where the system has none.
fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0; n];
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    bytes
}

/// The server's answer in `bytes` (what has come so far): the handshake's verdict, or `None`
/// while its first record is incomplete.
pub fn read_answer(bytes: &[u8]) -> Result<Option<Handshake>, ProbeError> {
    use tls_parser::{TlsMessage, TlsMessageHandshake};
    let record = match tls_parser::parse_tls_plaintext(bytes) {
        Ok((_, record)) => record,
        Err(tls_parser::nom::Err::Incomplete(_)) => return Ok(None),
        Err(e) => return Err(ProbeError::NotTls(format!("{e:?}").chars().take(120).collect())),
    };
    let Some(first) = record.msg.first() else {
        return Err(ProbeError::NotTls("an empty record".into()));
    };
    Ok(Some(match first {
        TlsMessage::Alert(alert) => Handshake::Refused { alert: Some(alert.code.0) },
        TlsMessage::Handshake(TlsMessageHandshake::ServerHello(hello)) => {
            let chosen = hello.ext.and_then(selected_version).unwrap_or(hello.version.0);
            Handshake::Accepted { version: chosen, cipher_suite: hello.cipher.0 }
        }
        TlsMessage::Handshake(TlsMessageHandshake::HelloRetryRequest(retry)) => {
            Handshake::Accepted { version: TlsVersion::V1_3.wire(), cipher_suite: retry.cipher.0 }
        }
        other => return Err(ProbeError::NotTls(format!("{other:?}").chars().take(120).collect())),
    }))
}

/// The version a TLS 1.3 ServerHello chose in its supported_versions extension.
fn selected_version(extensions: &[u8]) -> Option<u16> {
    let (_, extensions) = tls_parser::parse_tls_server_hello_extensions(extensions).ok()?;
    extensions.iter().find_map(|e| match e {
        tls_parser::TlsExtension::SupportedVersions(versions) => versions.first().map(|v| v.0),
        _ => None,
    })
}

/// The longest first record read: a TLS record is at most 2^14 bytes and its header.
const MAX_RECORD: usize = (1 << 14) + 2048 + 5;

/// Sends a ClientHello offering `offer` to `addr` (`host:port`) and reads the server's first
/// answer, within `timeout`.
pub async fn probe(
    addr: &str,
    server_name: Option<&str>,
    offer: &Offer,
    timeout: Duration,
) -> Result<Handshake, ProbeError> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|source| ProbeError::Connect { addr: addr.to_string(), source })?;
        let closed = |_| Ok(Handshake::Refused { alert: None });
        if let Err(e) = stream.write_all(&client_hello(offer, server_name)).await {
            return closed(e);
        }
        let mut answer = Vec::new();
        let mut chunk = [0u8; 4096];
        while answer.len() < MAX_RECORD {
            let read = match stream.read(&mut chunk).await {
                Ok(0) | Err(_) if answer.is_empty() => return Ok(Handshake::Refused { alert: None }),
                Ok(0) => return Err(ProbeError::NotTls("the connection closed inside a record".into())),
                Err(e) => return closed(e),
                Ok(read) => read,
            };
            answer.extend_from_slice(&chunk[..read]);
            if let Some(handshake) = read_answer(&answer)? {
                return Ok(handshake);
            }
        }
        Err(ProbeError::NotTls("a first record longer than TLS allows".into()))
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| ProbeError::Timeout(timeout))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_are_named_as_the_registry_names_them() {
        assert_eq!(cipher_suite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), Some(0xC02F));
        assert_eq!(cipher_suite("TLS_AES_128_GCM_SHA256"), Some(0x1301));
        assert_eq!(cipher_suite("TLS_NO_SUCH_SUITE"), None);
        assert_eq!(cipher_suite_name(0xC030), "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
        assert_eq!(cipher_suite_name(0xFAFA), "0xFAFA");
    }

    #[test]
    fn a_client_hello_offers_what_it_says_and_tls_parser_reads_it_back() {
        use tls_parser::{TlsMessage, TlsMessageHandshake};
        for version in TlsVersion::ALL {
            let offer = Offer { version, cipher_suites: vec![] };
            let record = client_hello(&offer, Some("bank.example"));
            let (rest, parsed) = tls_parser::parse_tls_plaintext(&record).expect("a record");
            assert!(rest.is_empty(), "{version:?}");
            let Some(TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello))) = parsed.msg.first() else {
                panic!("{version:?}: not a ClientHello")
            };
            let legacy = if version == TlsVersion::V1_3 { 0x0303 } else { version.wire() };
            assert_eq!(hello.version.0, legacy);
            assert!(hello.ciphers.iter().any(|c| version.default_suites().contains(&c.0)));
            let (_, extensions) =
                tls_parser::parse_tls_client_hello_extensions(hello.ext.unwrap_or_default()).expect("extensions");
            let offers_13 = extensions.iter().any(
                |e| matches!(e, tls_parser::TlsExtension::SupportedVersions(v) if v.iter().any(|v| v.0 == 0x0304)),
            );
            assert_eq!(offers_13, version == TlsVersion::V1_3);
        }
    }

    #[test]
    fn answers_are_read_as_accepted_refused_incomplete_or_not_tls() {
        // An alert record: fatal protocol_version.
        assert_eq!(read_answer(&[21, 3, 3, 0, 2, 2, 70]).ok().flatten(), Some(Handshake::Refused { alert: Some(70) }));
        // A TLS 1.2 ServerHello choosing ECDHE-RSA-AES128-GCM-SHA256.
        let mut hello = vec![0x03, 0x03];
        hello.extend([7u8; 32]);
        hello.extend([0, 0xC0, 0x2F, 0]);
        let mut handshake = vec![2, 0, 0, hello.len() as u8];
        handshake.extend(&hello);
        let mut record = vec![22, 3, 3, 0, handshake.len() as u8];
        record.extend(&handshake);
        assert_eq!(
            read_answer(&record).ok().flatten(),
            Some(Handshake::Accepted { version: 0x0303, cipher_suite: 0xC02F })
        );
        assert!(matches!(read_answer(&record[..record.len() - 3]), Ok(None)));
        assert!(matches!(read_answer(b"HTTP/1.1 400 Bad Request\r\n\r\n"), Err(ProbeError::NotTls(_))));
        assert_eq!(
            Handshake::Accepted { version: 0x0302, cipher_suite: 0xC014 }.to_string(),
            "accepted: TLS 1.1, TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"
        );
    }
}
