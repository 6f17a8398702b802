//! dcr-harness: proves that an OAuth 2.0 Dynamic Client Registration server (RFC 7591/7592,
//! PSD2 flavour: mTLS with an eIDAS QWAC, DCR-service credentials, QSEAL-signed requests) is
//! right, keeps proving it in CI, and loads it before go-live.
//!
//! The library holds everything but the command line, which is the binary's (`src/cli/`):
//! `main.rs` parses arguments and turns outcomes and errors into exit codes (`exit`).
//! See `docs/architecture.md` for the code map and the invariants.
//!
//! What an embedder uses: [`pki`] (a test PKI, or one's own certificates), [`signature`] (the
//! signer, the verifier, the mutations), [`transport`] (mTLS clients), [`suite`] (running a suite
//! against a target or the embedded server, with [`scenario`], [`run`] and [`report`]), [`load`],
//! and [`server`] (the reference server). The engines of the other commands (`explain`, `probe`,
//! `interop`, `init`, `project`, `preflight`, `qtsp`, `curl`) and the key store a run hosts
//! (`keystore`) are public for the binary and the tests; the rooms under them (`assets`,
//! `diagnostic`, `loopback`) are the crate's own.

pub(crate) mod assets;
pub mod attest;
pub(crate) mod catalog;
pub mod clause;
pub mod crypto;
pub mod curl;
pub(crate) mod diagnostic;
pub mod error;
pub mod exit;
pub mod explain;
pub mod explore;
pub mod fault;
pub mod files;
pub mod init;
pub mod interop;
pub mod keystore;
pub mod load;
pub(crate) mod loopback;
pub mod otlp;
pub mod pki;
pub mod preflight;
pub mod probe;
pub mod project;
pub mod protocol;
pub mod qtsp;
pub mod report;
pub mod run;
pub mod scenario;
pub mod server;
pub mod signature;
pub mod suite;
pub mod tls_probe;
pub mod transport;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::Error;
