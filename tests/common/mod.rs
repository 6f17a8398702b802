//! A small client for the server tests: builds a request the way a TPP would (QWAC, DCR
//! credentials, QSEAL signature, optionally one mutation) and sends it through the harness's
//! own transport to a reference server on 127.0.0.1.
#![allow(dead_code)]

pub mod python;

use std::time::SystemTime;

use dcr_harness::pki::Pki;
use dcr_harness::protocol::{CLIENT_ID_HEADER, CLIENT_SECRET_HEADER};
use dcr_harness::server::{self, RunningServer, ServerConfig};
use dcr_harness::signature::{sign_mutated, DateForm, Dialect, Message, Mutation, MutationContext};
use dcr_harness::testing::test_pki;
use dcr_harness::transport::{Response, Transport, TransportConfig, TransportError};
use serde_json::{json, Value};

pub const REGISTER: &str = "/client/v1/register";

pub struct Ctx {
    pub pki: &'static Pki,
    pub transport: Transport,
    pub server: RunningServer,
    /// How calls are signed: the server's own dialect.
    pub dialect: Dialect,
}

impl Ctx {
    pub async fn start(config: ServerConfig) -> Ctx {
        let pki = test_pki();
        let dialect = config.dialect.clone();
        let server = server::start(pki, config).await.expect("server starts");
        let transport = Transport::new(pki, TransportConfig::default()).expect("transport");
        Ctx { pki, transport, server, dialect }
    }

    pub async fn send(&self, call: Call) -> Result<Response, TransportError> {
        let msg = self.message(&call);
        self.transport.send(self.pki, call.tls, &self.server.url(), &msg).await
    }

    /// The message `call` makes, signed now (to send the same bytes more than once).
    pub fn message(&self, call: &Call) -> Message {
        let mut msg = Message::new(call.method, &call.path, call.body.clone());
        msg.set_origin(&self.server.url());
        if let Some(ct) = call.content_type {
            msg.add_header("Content-Type", ct);
        }
        if let Some(tpp) = call.credentials {
            let tpp = self.pki.tpp(tpp).expect("tpp");
            msg.add_header(CLIENT_ID_HEADER, &tpp.dcr_client_id);
            msg.add_header(CLIENT_SECRET_HEADER, &tpp.dcr_client_secret);
        }
        for (name, value) in &call.headers {
            msg.add_header(name, value);
        }
        if let Some(signer) = call.signer {
            let identity = self.pki.identity(signer).expect("signer");
            let other = self.pki.identity("qseal-b").ok();
            sign_mutated(
                identity,
                &Dialect { date_form: call.date_form, ..self.dialect.clone() },
                &mut msg,
                call.signed_at.unwrap_or_else(SystemTime::now),
                call.mutation,
                &MutationContext { other_identity: other, memo: None },
            )
            .expect("signs");
        }
        msg
    }

    /// Sends and insists on an HTTP answer.
    pub async fn answer(&self, call: Call) -> Response {
        let described = format!("{} {}", call.method, call.path);
        self.send(call).await.unwrap_or_else(|e| panic!("{described}: {e}"))
    }

    /// Registers a client as TPP A (or B); returns the registration response body.
    pub async fn register(&self, tpp: Tpp) -> Value {
        let response = self.answer(Call::post(REGISTER, &registration_body()).by_tpp(tpp)).await;
        assert_eq!(response.status, 201, "{}", String::from_utf8_lossy(&response.body));
        response.json().expect("json")
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tpp {
    A,
    B,
}

pub fn registration_body() -> Value {
    json!({ "client_name": "test client", "redirect_uris": ["https://tpp.example/cb"] })
}

/// One request as a TPP sends it; every part can be changed for a negative case.
#[derive(Clone)]
pub struct Call {
    pub method: &'static str,
    pub path: String,
    pub body: Vec<u8>,
    pub content_type: Option<&'static str>,
    pub tls: Option<&'static str>,
    pub credentials: Option<&'static str>,
    pub signer: Option<&'static str>,
    pub mutation: Option<Mutation>,
    pub headers: Vec<(String, String)>,
    pub date_form: DateForm,
    /// The moment to date the signature (default: now).
    pub signed_at: Option<SystemTime>,
}

impl Call {
    pub fn new(method: &'static str, path: &str) -> Call {
        Call {
            method,
            path: path.to_string(),
            body: Vec::new(),
            content_type: None,
            tls: Some("qwac"),
            credentials: Some("tpp-a"),
            signer: (method != "GET").then_some("qseal"),
            mutation: None,
            headers: Vec::new(),
            date_form: DateForm::ImfFixdate,
            signed_at: None,
        }
    }

    pub fn post(path: &str, body: &Value) -> Call {
        Call::new("POST", path).json(body)
    }

    pub fn put(path: &str, body: &Value) -> Call {
        Call::new("PUT", path).json(body)
    }

    pub fn json(mut self, body: &Value) -> Call {
        self.body = body.to_string().into_bytes();
        self.content_type = Some("application/json");
        self
    }

    pub fn by_tpp(mut self, tpp: Tpp) -> Call {
        if tpp == Tpp::B {
            self.tls = Some("qwac-b");
            self.credentials = Some("tpp-b");
            if self.signer.is_some() {
                self.signer = Some("qseal-b");
            }
        }
        self
    }

    pub fn tls(mut self, identity: Option<&'static str>) -> Call {
        self.tls = identity;
        self
    }

    pub fn credentials(mut self, tpp: Option<&'static str>) -> Call {
        self.credentials = tpp;
        self
    }

    pub fn signer(mut self, identity: Option<&'static str>) -> Call {
        self.signer = identity;
        self
    }

    pub fn signed_at(mut self, at: SystemTime) -> Call {
        self.signed_at = Some(at);
        self
    }

    pub fn date_form(mut self, date_form: DateForm) -> Call {
        self.date_form = date_form;
        self
    }

    pub fn mutation(mut self, mutation: Mutation) -> Call {
        self.mutation = Some(mutation);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Call {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn content_type(mut self, ct: &'static str) -> Call {
        self.content_type = Some(ct);
        self
    }
}

/// `status` and, if the body names one, the error code (`tppMessages[0].code` or `error`).
pub fn outcome(response: &Response) -> String {
    let code = response.json().and_then(|v| {
        v.pointer("/tppMessages/0/code").or_else(|| v.get("error")).and_then(Value::as_str).map(str::to_string)
    });
    match code {
        Some(code) => format!("{} {code}", response.status),
        None => response.status.to_string(),
    }
}

/// Basic authentication header for a registered client.
pub fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}
