//! What the adapter's tests share beyond the workspace's `testkit`: the fake st2's credentials and starting the
//! `st2-oslc` binary of this package.
#![allow(dead_code, unused_imports, unreachable_pub, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;

use adapter_stackstorm::st2::RuleStore;
pub use testkit::FailingLog;
pub use testkit::process::Running;
pub use testkit::services::{mongo_uri, unique};
pub use testkit::wait::for_value as wait_for_value;
pub use testkit::wait::until as eventually;

pub const API_KEY: &str = "test-api-key";
pub const TOKEN: &str = "test-auth-token";

/// Serves the fake st2 over `store` on a free loopback port, accepting [`API_KEY`] and [`TOKEN`].
pub async fn spawn_fake(store: Arc<dyn RuleStore>) -> SocketAddr {
    let credentials = testkit::fake_st2::Credentials::api_key(API_KEY).with_token(TOKEN);
    let base = testkit::fake_st2::spawn(store, credentials).await;
    base.trim_start_matches("http://").parse().unwrap()
}

/// Starts the `st2-oslc` binary with `args` and the API token `token`; returns it and the address its first line
/// names.
pub fn spawn_st2_oslc(args: &[&str], token: &str) -> (Running, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut command = Command::new(env!("CARGO_BIN_EXE_st2-oslc"));
    command.args(args).env("ST2_OSLC_API_TOKEN", token).stderr(Stdio::null());
    testkit::process::start_listening(command)
}
