//! The library's top-level error: every module's typed error, plus what the binary needs to
//! choose an exit code. Messages say what, where, and what to do; `main` prints them.

use crate::pki::PkiError;
use crate::signature::mutation::UnknownMutation;
use crate::signature::SignError;

/// Every way a command can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    UnknownMutation(#[from] UnknownMutation),
    /// Bad input given on the command line or in a file: `what` names it.
    #[error("{what}: {message}")]
    Input { what: String, message: String },
    /// The target could not be reached.
    #[error("cannot reach {target}: {cause}")]
    Unreachable { target: String, cause: String },
    /// Anything else that went wrong while working (I/O on output files, a server that would
    /// not start).
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn input(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Error::Input { what: what.into(), message: message.to_string() }
    }
}

/// Exit codes, as the README documents them.
pub mod exit {
    /// Every MUST passed.
    pub const OK: u8 = 0;
    /// A MUST failed.
    pub const MUST_FAILED: u8 = 1;
    /// Bad input: scenario, profile, config, PEM, command line.
    pub const BAD_INPUT: u8 = 2;
    /// The target is unreachable.
    pub const UNREACHABLE: u8 = 3;
    /// Load thresholds were breached.
    pub const THRESHOLDS: u8 = 4;
}
