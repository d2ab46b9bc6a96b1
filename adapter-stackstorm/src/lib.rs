#![doc = include_str!("../README.md")]

pub mod app;
pub mod config;
pub mod demo;
pub mod fake_st2;
pub mod oslc;
pub mod st2;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use app::{AppConfig, app};
pub use config::{Config, LogFormat};

/// The adapter's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Makes ring rustls's process-wide crypto provider (reqwest and the MongoDB driver both use rustls); idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Serves the adapter on `listener` until `shutdown` completes, then finishes the requests in flight.
///
/// # Errors
/// A StackStorm URL that is not http(s), a public URL that is not absolute, or a failure to serve.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    install_crypto_provider();
    let bound = listener.local_addr()?;
    let public_url = config.public_url(bound);
    let (store, api_token): (Arc<dyn st2::RuleStore>, Option<String>) = match (&config.st2_url, config.demo) {
        (Some(url), false) => {
            let auth = match (&config.st2_api_key, &config.st2_token) {
                (Some(key), _) => st2::St2Auth::ApiKey(key.clone()),
                (None, Some(token)) => st2::St2Auth::Token(token.clone()),
                (None, None) => st2::St2Auth::None,
            };
            tracing::info!(st2_url = %url, auth = ?auth, "using StackStorm's REST API");
            (Arc::new(st2::St2Client::new(url, auth)?), config.api_token.clone())
        }
        (_, demo) => {
            if !demo {
                tracing::warn!("no --st2-url given: running the embedded demo StackStorm");
            }
            let token = config.api_token.clone().unwrap_or_else(|| {
                let token = random_token();
                // Printed, not logged: the person who started the demo needs it to write.
                println!("demo API token (Authorization: Bearer …): {token}");
                token
            });
            (Arc::new(demo::demo_store().await?), Some(token))
        }
    };
    if api_token.is_none() {
        tracing::warn!("no --api-token: every write will be refused with 401");
    }
    if let Some(dir) = &config.data_dir {
        std::fs::create_dir_all(dir)?;
    }
    let app_config = AppConfig {
        public_url: public_url.clone(),
        api_token,
        protect_reads: config.protect_reads,
        body_limit: 1024 * 1024,
    };
    let router = app(store, &app_config)?;
    tracing::info!(%bound, %public_url, version = VERSION, "st2-oslc serving");
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await?;
    tracing::info!("st2-oslc stopped");
    Ok(())
}

fn random_token() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..32).map(|_| char::from(b"abcdefghijkmnpqrstuvwxyz23456789"[rng.random_range(0..32)])).collect()
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
