//! The library's top-level error: every operation's typed error, with its causes kept as
//! sources. Messages say what, where, and what to do; `main` prints them with their chain of
//! causes and is the one place that chooses exit codes (README, "Exit codes").

use std::path::PathBuf;

use crate::pki::PkiError;
use crate::scenario::profile::ProfileError;
use crate::server::ServerError;
use crate::signature::mutation::UnknownMutation;
use crate::signature::SignError;

/// A cause of any type, kept as a source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Every way a command can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    UnknownMutation(#[from] UnknownMutation),
    #[error("profile: {0}")]
    Profile(#[from] ProfileError),
    /// Bad input given on the command line or in a file: `what` names it.
    #[error("{what}: {cause}")]
    Input {
        what: String,
        #[source]
        cause: BoxError,
    },
    /// The target could not be reached (or did not say where its endpoints are).
    #[error("cannot reach {target}: {cause}")]
    Unreachable {
        target: String,
        #[source]
        cause: BoxError,
    },
    /// Clients were registered on the target and could not be deleted before the command
    /// stopped (the preflight's probe, say): they are named, and the ledger keeps them.
    #[error("{what}: {} client(s) left on the target ({}): {hint}", .clients.len(), .clients.join(", "))]
    ClientsLeft { what: String, clients: Vec<String>, hint: String },
    /// The embedded reference server could not start (a port that will not bind, say).
    #[error("the reference server could not start: {0}")]
    Serve(#[source] ServerError),
    /// The harness's key store could not start.
    #[error("the key store could not start: {0}")]
    Keystore(#[source] crate::keystore::KeystoreError),
    /// The test QTSP's status services could not start.
    #[error("the test QTSP's status services could not start: {0}")]
    Qtsp(#[source] crate::qtsp::QtspError),
    /// An output file (report, snapshot, summary) could not be written.
    #[error("cannot write {}: {source}", .path.display())]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Standard output is gone (a full disk, say; a closed pipe is not an error).
    #[error("cannot write to standard output: {0}")]
    Stdout(#[source] std::io::Error),
    /// The async runtime could not start.
    #[error("the async runtime could not start: {0}")]
    Runtime(#[source] std::io::Error),
    /// A report's template failed (a defect of this program: the templates are built in).
    #[error("the {report} report could not be rendered: {source}")]
    Template {
        report: &'static str,
        #[source]
        source: minijinja::Error,
    },
    /// A report could not be encoded as JSON (a defect of this program).
    #[error("the {report} report could not be encoded: {source}")]
    Encode {
        report: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    pub fn input(what: impl Into<String>, cause: impl Into<BoxError>) -> Self {
        Error::Input { what: what.into(), cause: cause.into() }
    }

    pub fn output(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Output { path: path.into(), source }
    }

    /// Whether the error is in what the user gave (exit 2) rather than in the harness's own
    /// work or its environment (exit 5) or the target (exit 3).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Pki(_) | Error::Sign(_) | Error::UnknownMutation(_) | Error::Profile(_) | Error::Input { .. } => {
                ErrorKind::BadInput
            }
            Error::Unreachable { .. } => ErrorKind::Unreachable,
            Error::ClientsLeft { .. } => ErrorKind::ClientsLeft,
            Error::Serve(_)
            | Error::Keystore(_)
            | Error::Qtsp(_)
            | Error::Output { .. }
            | Error::Stdout(_)
            | Error::Runtime(_)
            | Error::Template { .. }
            | Error::Encode { .. } => ErrorKind::Internal,
        }
    }
}

/// The classes of error the exit-code table tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadInput,
    Unreachable,
    /// Clients left on the target (exit 6, as for a run).
    ClientsLeft,
    Internal,
}

pub use crate::diagnostic::chain;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_their_cause_once_and_say_their_kind() {
        let e = Error::input("--report x", "expected KIND=PATH");
        assert_eq!(chain(&e), "--report x: expected KIND=PATH");
        let e = Error::output("r.xml", std::io::Error::other("read-only"));
        assert_eq!(chain(&e), "cannot write r.xml: read-only");
        assert_eq!(e.kind(), ErrorKind::Internal);
    }
}
