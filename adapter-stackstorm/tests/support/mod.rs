//! Helpers shared by the adapter's tests.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
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

/// An event log whose writes fail while `failing` is set, as a full disk makes them fail: a fault injected into
/// a real (in-memory) log.
pub struct FailingLog {
    pub inner: oslc_events::MemoryEventLog,
    pub failing: std::sync::atomic::AtomicBool,
}

impl FailingLog {
    pub fn new() -> Self {
        Self { inner: oslc_events::MemoryEventLog::new(), failing: std::sync::atomic::AtomicBool::new(false) }
    }

    pub fn fail(&self, failing: bool) {
        self.failing.store(failing, std::sync::atomic::Ordering::SeqCst);
    }

    fn check(&self) -> oslc_events::Result<()> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            Err(oslc_events::Error::Storage { message: "No space left on device (os error 28)".into(), source: None })
        } else {
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl oslc_events::EventLog for FailingLog {
    async fn append(
        &self,
        events: Vec<oslc_events::Event>,
        checkpoints: Vec<oslc_events::Checkpoint>,
    ) -> oslc_events::Result<Vec<oslc_events::Event>> {
        self.check()?;
        self.inner.append(events, checkpoints).await
    }
    async fn read_forward(&self, after: u64, limit: usize) -> oslc_events::Result<Vec<oslc_events::Event>> {
        self.inner.read_forward(after, limit).await
    }
    async fn read_backward(&self, before: Option<u64>, limit: usize) -> oslc_events::Result<Vec<oslc_events::Event>> {
        self.inner.read_backward(before, limit).await
    }
    async fn head(&self) -> oslc_events::Result<u64> {
        self.inner.head().await
    }
    async fn checkpoint(&self, name: &str) -> oslc_events::Result<Option<Vec<u8>>> {
        self.inner.checkpoint(name).await
    }
    async fn checkpoints(&self, prefix: &str) -> oslc_events::Result<Vec<(String, Vec<u8>)>> {
        self.inner.checkpoints(prefix).await
    }
    async fn set_checkpoint(&self, checkpoint: oslc_events::Checkpoint) -> oslc_events::Result<()> {
        self.check()?;
        self.inner.set_checkpoint(checkpoint).await
    }
    fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.subscribe()
    }
}

/// Polls `done` every 20 ms until it holds; fails after `seconds`.
pub async fn eventually(what: &str, seconds: u64, mut done: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !done().await {
        assert!(std::time::Instant::now() < deadline, "timed out after {seconds} s waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A child process, killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the `st2-oslc` binary with `args` and the API token `token`; returns it and the address its first line
/// names.
pub fn spawn_st2_oslc(args: &[&str], token: &str) -> (Running, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut child = Command::new(env!("CARGO_BIN_EXE_st2-oslc"))
        .args(args)
        .env("ST2_OSLC_API_TOKEN", token)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").expect("a listening line").to_owned();
    (running, addr)
}
