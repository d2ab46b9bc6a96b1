//! Helpers shared by the adapter's tests.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use adapter_stackstorm::fake_st2::{self, Credentials};
use adapter_stackstorm::st2::RuleStore;

pub const API_KEY: &str = "test-api-key";
pub const TOKEN: &str = "test-auth-token";

/// Serves the fake st2 over `store` on a free loopback port.
pub async fn spawn_fake(store: Arc<dyn RuleStore>) -> SocketAddr {
    let credentials = Credentials { api_keys: [API_KEY.to_owned()].into(), tokens: [TOKEN.to_owned()].into() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, fake_st2::router(store, credentials)).await });
    addr
}

/// The MongoDB URI of the test services, if `scripts/test.sh` (or the developer) started them.
pub fn mongo_uri() -> Option<String> {
    match std::env::var("MONGO_URI") {
        Ok(uri) if !uri.is_empty() => Some(uri),
        _ => {
            eprintln!("MONGO_URI is not set: skipping (scripts/test.sh starts a MongoDB-wire server and sets it)");
            None
        }
    }
}

/// A rule name no other test uses.
pub fn unique(name: &str) -> String {
    format!("{name}_{}", uuid::Uuid::new_v4().simple())
}
