//! Ctrl-C and SIGTERM: the first asks a run or a load to stop cleanly (finish the running steps,
//! delete the clients, write the reports); a second abandons it. Nothing here exits the
//! process: an abandoned command returns [`Outcome::Interrupted`] like an interrupted one, and
//! `main` turns that into the exit code.

use std::future::Future;

use dcr_harness::run::Outcome;
use tokio::runtime::Runtime;

/// Waits for Ctrl-C or (on Unix) SIGTERM.
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs `work` on `runtime` to its end; the first stop signal says `message` and calls `first`
/// (which asks the work to stop cleanly), a second abandons the work: the runtime is shut down
/// without waiting for it and the outcome is [`Outcome::Interrupted`].
pub fn run_until_abandoned<T>(
    runtime: Runtime,
    work: impl Future<Output = T>,
    message: &'static str,
    first: impl FnOnce() + Send + 'static,
) -> Result<T, Outcome> {
    let (abandon, abandoned) = tokio::sync::oneshot::channel::<()>();
    let finished = runtime.block_on(async {
        // On a worker thread of its own, so that a signal is heard while the work is busy.
        tokio::spawn(async move {
            stop_signal().await;
            eprintln!("{message}");
            first();
            stop_signal().await;
            let _ = abandon.send(());
        });
        tokio::select! {
            done = work => Some(done),
            _ = abandoned => None,
        }
    });
    match finished {
        Some(done) => Ok(done),
        None => {
            runtime.shutdown_background();
            Err(Outcome::Interrupted)
        }
    }
}
