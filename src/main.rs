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

/// `mi_option_purge_delay` in the bundled mimalloc's `mi_option_e` (v3, as in v2.1): how long
/// freed memory waits before it is given back to the OS, in milliseconds; -1 never.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Memory freed is kept for reuse rather than given back to the OS a second later: a load and
/// the server it measures grow all along (each keeps its clients), and every purged page came
/// back as a fault on a zeroed huge page, a twentieth of their CPU under load (perf, `load
/// signed-post-per-second`: 140 faults a second in `serve`, 19 without the purge). What a run
/// frees it reuses; the process's memory stays at its peak until it exits. A delay the user set
/// in mimalloc's own variable wins.
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one allocator option, which mimalloc reads whenever it would purge.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) }
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
    let exit = match cli::run(cli::Cli::parse()) {
        Ok(outcome) => Exit::from(outcome),
        Err(error) => {
            eprintln!("dcr-harness: error: {}", chain(&error));
            Exit::from(error.kind())
        }
    };
    ExitCode::from(exit.code())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_is_the_option_its_number_names() {
        // SAFETY: reads allocator options.
        let read = || unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        // The bundled mimalloc's default purge delay (ms): another option under this number
        // (after an upgrade that renumbered them) would not have it.
        assert_eq!(read(), 1000, "mi_option_purge_delay's default");
        super::keep_freed_memory();
        assert_eq!(read(), -1);
    }
}
