//! The process's one rustls crypto provider (aws-lc-rs), shared by the transport (the client
//! side) and the reference server. It sits below both so that neither imports the other; it
//! owns no keys and opens nothing.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// The aws-lc-rs provider, installed once per process (two compiled-in providers would make
/// `ServerConfig::builder()` panic).
pub fn provider() -> Arc<CryptoProvider> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    CryptoProvider::get_default().cloned().unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}
