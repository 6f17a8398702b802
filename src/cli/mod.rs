//! The command line, private to the binary: clap's definitions (`args`), turning them into the
//! library's configuration (`config`), a file per command or family of commands, the live
//! terminal reporter (`live`) and signal handling (`signals`). Each command returns the
//! [`Outcome`] of a completed command or a typed [`Error`]; `main` alone turns them into
//! messages and exit codes. Data goes to stdout, diagnostics to stderr.

mod args;
mod attest;
mod config;
mod coverage;
mod explore;
mod inspect;
mod live;
mod load;
mod load_args;
mod pki;
mod project;
mod run;
mod serve;
mod sign;
mod signals;

use std::io::Write;

use dcr_harness::error::Error;
use dcr_harness::run::Outcome;
use dcr_harness::signature::Mutation;

pub use args::Cli;
use args::{Command, PkiCommand, SchemaKind};

/// Runs a parsed command line; returns the exit code of a command that completed.
pub fn run(cli: Cli) -> Result<Outcome, Error> {
    match cli.command {
        Command::Pki(PkiCommand::Init(args)) => pki::init(&args),
        Command::Pki(PkiCommand::Show(args)) => pki::show(&args.dir()?),
        Command::Sign(args) => sign::sign(&args),
        Command::Explain(args) => inspect::explain(&args),
        Command::Probe(args) => inspect::probe(&args),
        Command::Serve(args) => serve::serve(&args),
        Command::Run(args) => run::run(&args, cli.output),
        Command::Explore(args) => explore::explore(&args),
        Command::Init { dir } => project::init(&dir),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "dcr-harness", &mut script);
            print(&String::from_utf8_lossy(&script))
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page).map_err(Error::Stdout)?;
            print(&String::from_utf8_lossy(&page))
        }
        Command::List(args) => project::list(&args),
        Command::Coverage(args) => coverage::coverage(&args),
        Command::Attest(command) => attest::attest(command),
        Command::Validate(args) => project::validate(&args),
        Command::Snapshots(command) => project::snapshots(command),
        Command::Load(args) => load::load(&args),
        Command::Cleanup(args) => project::cleanup(&args),
        Command::Matrix(args) => project::matrix(&args),
        Command::Schema { kind: SchemaKind::Scenario } => print(&dcr_harness::scenario::scenario_schema()),
        Command::Schema { kind: SchemaKind::Profile } => print(&dcr_harness::scenario::profile_schema()),
        Command::Schema { kind: SchemaKind::Report } => print(&dcr_harness::report::json::schema()),
        Command::Mutations => {
            let mut out = String::new();
            for m in Mutation::ALL {
                out.push_str(&format!("{:<40} {}\n", m.name(), m.description()));
            }
            print(&out)
        }
    }
}

pub(crate) fn print(text: &str) -> Result<Outcome, Error> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        // A closed pipe (`| head`) is the reader's choice, not an error worth a message.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Stdout(e)),
        _ => Ok(Outcome::Success),
    }
}
