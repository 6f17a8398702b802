//! A service the harness hosts on 127.0.0.1 for as long as a run needs it (the key store, the
//! test QTSP's status services): its URL, the signal that stops its accept loop, and its task.
//! It owns the lifecycle only; what a service answers is its own room's.

use std::future::Future;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How long one connection may last, handshake included.
pub const CONNECTION_TIME: Duration = Duration::from_secs(10);

/// A running loopback service.
pub struct Service {
    url: String,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Service {
    /// Runs `serve` (an accept loop that ends when the receiver changes) on the runtime, as the
    /// service at `url`.
    pub fn spawn<F>(url: String, serve: impl FnOnce(watch::Receiver<bool>) -> F) -> Service
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (shutdown, watcher) = watch::channel(false);
        let task = tokio::spawn(serve(watcher));
        Service { url, shutdown, task }
    }

    /// `scheme://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops the accept loop and waits for it.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// The service at `url` that accepts connections on `listener` until stopped, each handled by
/// `handle` on a task of its own.
pub fn accept<H, F>(url: String, listener: TcpListener, handle: H) -> Service
where
    H: Fn(TcpStream) -> F + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    Service::spawn(url, move |mut shutdown| async move {
        loop {
            let accepted = tokio::select! {
                _ = shutdown.changed() => break,
                accepted = listener.accept() => accepted,
            };
            let Ok((tcp, _)) = accepted else { continue };
            // Small answers on kept-alive connections: without it, delayed ACKs cost 40 ms each.
            let _ = tcp.set_nodelay(true);
            tokio::spawn(handle(tcp));
        }
    })
}
