//! `st2-oslc`: parse the configuration, set up logging (to stderr), bind, and run the library's adapter.
//! Standard output carries only `listening on ADDR` (and the demo's generated API token); a failure to start is
//! one `error:` line on stderr (with its causes) and exit status 1.

use std::process::ExitCode;

use adapter_stackstorm::{AdapterError, Config, LogFormat, run, shutdown_signal};
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// jemalloc rather than the system allocator: the server's memory is many small, short-lived allocations from
/// several threads, which glibc's per-thread arenas keep long after they are freed (RSS with 10,000 rules: 135 MB
/// with glibc's allocator, see the hostile bench). Tuned at build time (`.cargo/config.toml`) and at run time through
/// `_RJEM_MALLOC_CONF`; built without the `jemalloc` feature, `st2-oslc` uses the system allocator.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match config.log_format {
        LogFormat::Json => tracing_subscriber::fmt().json().with_writer(std::io::stderr).with_env_filter(filter).init(),
        LogFormat::Text => tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).init(),
    }
    tracing::debug!(?config, "configuration");
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = format!("error: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), AdapterError> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    println!("listening on {}", listener.local_addr()?);
    run(config, listener, shutdown_signal()).await
}
