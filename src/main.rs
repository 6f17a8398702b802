//! The `dcr-harness` binary: parses the command line, runs it, and is the one place that turns
//! an outcome or an error into a message on stderr and a process exit (the codes are the
//! library's table, `dcr_harness::exit`).

mod cli;

use std::process::ExitCode;

use clap::Parser;
use dcr_harness::error::chain;
use dcr_harness::exit::Exit;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let exit = match cli::run(cli::Cli::parse()) {
        Ok(outcome) => Exit::from(outcome),
        Err(error) => {
            eprintln!("dcr-harness: error: {}", chain(&error));
            Exit::from(error.kind())
        }
    };
    ExitCode::from(exit.code())
}
