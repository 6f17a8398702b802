//! The `dcr-harness` binary: parses the command line, runs it, and is the one place that turns
//! an error into a message on stderr and an exit code (see README, "Exit codes").

use std::process::ExitCode;

use clap::Parser;
use dcr_harness::cli::{run, Cli};
use dcr_harness::error::{exit, Error};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("dcr-harness: error: {error}");
            ExitCode::from(exit_code(&error))
        }
    }
}

fn exit_code(error: &Error) -> u8 {
    match error {
        Error::Pki(_) | Error::Sign(_) | Error::UnknownMutation(_) | Error::Input { .. } | Error::Internal(_) => {
            exit::BAD_INPUT
        }
        Error::Unreachable { .. } => exit::UNREACHABLE,
    }
}
