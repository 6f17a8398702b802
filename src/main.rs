//! The `dcr-harness` binary: parses the command line, runs it, and is the one place that turns
//! an outcome or an error into a message on stderr and an exit code (README, "Exit codes").

use std::process::ExitCode;

use clap::Parser;
use dcr_harness::cli::{run, Cli};
use dcr_harness::error::{chain, ErrorKind};
use dcr_harness::run::Outcome;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(match run(cli) {
        Ok(outcome) => outcome_code(outcome),
        Err(error) => {
            eprintln!("dcr-harness: error: {}", chain(&error));
            error_code(error.kind())
        }
    })
}

/// The exit-code table, as the README documents it.
fn outcome_code(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Success => 0,
        Outcome::MustFailed => 1,
        Outcome::ClientsLeft => 6,
        Outcome::SetupError => 2,
        Outcome::ThresholdsBreached => 4,
        Outcome::InternalError => 5,
        // 128 + SIGINT, as shells report a process Ctrl-C stopped.
        Outcome::Interrupted => 130,
    }
}

fn error_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::BadInput => 2,
        ErrorKind::Unreachable => 3,
        ErrorKind::Internal => 5,
        ErrorKind::ClientsLeft => 6,
    }
}
