//! `fake-st2`: the fake StackStorm rule API as a process, for local runs and multi-process tests.
//!
//! `fake-st2 --listen 127.0.0.1:9101 [--mongo-uri URI] [--api-key KEY]… [--token TOKEN]…`: rules are kept in
//! memory, or in MongoDB (`st2.rule_d_b`) written as st2 writes them. Prints `listening on ADDR` when ready.

use std::sync::Arc;

use adapter_stackstorm::st2::{RuleStore, SimulatedSt2};
use testkit::fake_st2::{self, Credentials};
use testkit::mongo::MongoBackend;

fn values(flag: &str) -> Vec<String> {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2).filter(|w| w[0] == flag).map(|w| w[1].clone()).collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    adapter_stackstorm::install_crypto_provider();
    let listen = values("--listen").pop().unwrap_or_else(|| "127.0.0.1:9101".to_owned());
    let credentials = Credentials {
        api_keys: values("--api-key").into_iter().collect(),
        tokens: values("--token").into_iter().collect(),
    };
    let store: Arc<dyn RuleStore> = match values("--mongo-uri").pop() {
        Some(uri) => Arc::new(SimulatedSt2::new(MongoBackend::connect(&uri).await?)),
        None => Arc::new(SimulatedSt2::in_memory()),
    };
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on {}", listener.local_addr()?);
    let serving = oslc_core::server::ServeConfig::default();
    oslc_core::server::serve(
        listener,
        fake_st2::router(store, credentials),
        serving,
        adapter_stackstorm::shutdown_signal(),
    )
    .await?;
    Ok(())
}
