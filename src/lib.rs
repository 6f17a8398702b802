//! dcr-harness: proves that an OAuth 2.0 Dynamic Client Registration server (RFC 7591/7592,
//! PSD2 flavour: mTLS with an eIDAS QWAC, DCR-service credentials, QSEAL-signed requests) is
//! right, keeps proving it in CI, and loads it before go-live.
//!
//! The library holds everything but the command line, which is the binary's (`src/cli/`):
//! `main.rs` parses arguments and turns outcomes and errors into exit codes (`exit`).
//! See `docs/architecture.md` for the code map and the invariants.

pub mod assets;
pub mod crypto;
pub mod curl;
pub mod diagnostic;
pub mod error;
pub mod exit;
pub mod explain;
pub mod files;
pub mod init;
pub mod interop;
pub mod keystore;
pub mod load;
pub mod loopback;
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
pub mod transport;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::Error;
