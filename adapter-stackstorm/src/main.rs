//! `st2-oslc`: parse the configuration, set up logging (to stderr), bind, and run the library's adapter.
//! Standard output carries only `listening on ADDR` (and the demo's generated API token).

use adapter_stackstorm::{Config, LogFormat, run, shutdown_signal};
use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match config.log_format {
        LogFormat::Json => tracing_subscriber::fmt().json().with_writer(std::io::stderr).with_env_filter(filter).init(),
        LogFormat::Text => tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).init(),
    }
    tracing::debug!(?config, "configuration");
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    println!("listening on {}", listener.local_addr()?);
    run(config, listener, shutdown_signal()).await
}
