//! The exit codes: one named table (the README's "Exit codes") from what a command ended with,
//! an [`Outcome`] or an [`ErrorKind`], to the code the process exits with. Only `main` exits; no
//! other code chooses a number.

use crate::error::ErrorKind;
use crate::run::Outcome;

/// The process's exit code, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Every MUST held (warnings allowed).
    Success = 0,
    /// A MUST failed, or a check run by `explain` or `matrix --check` found a fault.
    MustFailed = 1,
    /// Bad input: a file, a flag, a profile or a PKI the user gave.
    BadInput = 2,
    /// The target could not be reached.
    Unreachable = 3,
    /// A load's thresholds were breached.
    ThresholdsBreached = 4,
    /// The harness itself failed (a port, an unwritable file, a panic).
    Internal = 5,
    /// Clients registered on the target could not be deleted.
    ClientsLeft = 6,
    /// Stopped by Ctrl-C or SIGTERM: 128 + SIGINT, as shells report it.
    Interrupted = 130,
}

impl Exit {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Outcome> for Exit {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Success => Exit::Success,
            Outcome::MustFailed => Exit::MustFailed,
            Outcome::ClientsLeft => Exit::ClientsLeft,
            Outcome::SetupError => Exit::BadInput,
            Outcome::ThresholdsBreached => Exit::ThresholdsBreached,
            Outcome::InternalError => Exit::Internal,
            Outcome::Interrupted => Exit::Interrupted,
        }
    }
}

impl From<ErrorKind> for Exit {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::BadInput => Exit::BadInput,
            ErrorKind::Unreachable => Exit::Unreachable,
            ErrorKind::Internal => Exit::Internal,
            ErrorKind::ClientsLeft => Exit::ClientsLeft,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's table, row by row.
    #[test]
    fn the_codes_are_the_readmes() {
        let table = [
            (Exit::Success, 0),
            (Exit::MustFailed, 1),
            (Exit::BadInput, 2),
            (Exit::Unreachable, 3),
            (Exit::ThresholdsBreached, 4),
            (Exit::Internal, 5),
            (Exit::ClientsLeft, 6),
            (Exit::Interrupted, 130),
        ];
        for (exit, code) in table {
            assert_eq!(exit.code(), code, "{exit:?}");
        }
        assert_eq!(Exit::from(Outcome::SetupError), Exit::BadInput);
        assert_eq!(Exit::from(ErrorKind::ClientsLeft), Exit::ClientsLeft);
    }
}
