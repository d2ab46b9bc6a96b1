//! Test infrastructure for the st2-oslc workspace (not published): what every test package used to copy.
//!
//! - [`fake_st2`]: the fake StackStorm rule API (CONTRACT.md §1) over any rule store, and the `fake-st2` binary;
//! - [`mongo`]: a simulated StackStorm's storage in MongoDB, written exactly as st2 writes it (CONTRACT.md §2.4);
//! - [`process`]: child processes killed on drop, started and waited on by their ready line;
//! - [`wait`]: polling with a deadline, never a fixed sleep;
//! - [`services`]: the test services `scripts/test.sh` starts (MongoDB-wire server, Kafka-protocol broker);
//! - [`FailingLog`]: an event log whose writes fail on demand, as a full disk makes them fail.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let store = std::sync::Arc::new(adapter_stackstorm::st2::SimulatedSt2::in_memory());
//! let base = testkit::fake_st2::spawn(store, testkit::fake_st2::Credentials::api_key("k")).await;
//! testkit::wait::until("the fake st2 accepts connections", 10, async || {
//!     tokio::net::TcpStream::connect(base.trim_start_matches("http://")).await.is_ok()
//! })
//! .await;
//! # }
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod fake_st2;
pub mod mongo;

/// Child processes for multi-process tests.
///
/// ```
/// let mut command = std::process::Command::new("sh");
/// command.args(["-c", "echo starting; echo listening on 127.0.0.1:9; sleep 30"]);
/// let (running, addr) = testkit::process::start_listening(command);
/// assert_eq!(addr, "127.0.0.1:9");
/// drop(running); // killed and reaped
/// ```
pub mod process {
    use std::io::{BufRead, BufReader};
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};

    /// A child process, killed and reaped when dropped.
    #[derive(Debug)]
    pub struct Running(pub Child);

    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// Starts `command` with stdout piped, waits for the first line starting with `ready` and returns the process
    /// and the rest of that line (trimmed); later output is read and dropped so the child never blocks on a full
    /// pipe.
    ///
    /// # Panics
    /// When the process cannot start or ends before printing the line.
    pub fn start(mut command: Command, ready: &str) -> (Running, String) {
        let mut child = command.stdout(Stdio::piped()).spawn().expect("the process starts");
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let running = Running(child);
        let found = lines
            .by_ref()
            .map_while(Result::ok)
            .find(|l| l.starts_with(ready))
            .unwrap_or_else(|| panic!("the process ended before printing {ready:?}"));
        std::thread::spawn(move || lines.for_each(drop));
        (running, found[ready.len()..].trim().to_owned())
    }

    /// Starts `command` and returns it with the address of its `listening on ADDR` line.
    pub fn start_listening(command: Command) -> (Running, String) {
        start(command, "listening on ")
    }

    /// A binary of the workspace built beside the running test (`target/<profile>/<name>`), as `cargo test
    /// --workspace` builds them.
    ///
    /// # Panics
    /// When it has not been built.
    pub fn sibling_binary(name: &str) -> PathBuf {
        let exe = std::env::current_exe().expect("the test's path");
        let path = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps").join(name);
        assert!(path.exists(), "{} not built: run cargo test --workspace (or build it first)", path.display());
        path
    }
}

/// Waiting on a condition with a deadline.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let started = std::time::Instant::now();
/// testkit::wait::until("50 ms to pass", 5, async || started.elapsed().as_millis() >= 50).await;
/// # }
/// ```
pub mod wait {
    use std::time::{Duration, Instant};

    /// Polls `done` every 20 ms until it holds.
    ///
    /// # Panics
    /// After `seconds` without it holding, naming `what`.
    pub async fn until(what: &str, seconds: u64, mut done: impl AsyncFnMut() -> bool) {
        for_value(what, seconds, async || done().await.then_some(())).await;
    }

    /// Polls `check` every 20 ms until it gives a value, and returns it.
    ///
    /// # Panics
    /// After `seconds` without a value, naming `what`.
    pub async fn for_value<T>(what: &str, seconds: u64, mut check: impl AsyncFnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            if let Some(value) = check().await {
                return value;
            }
            assert!(Instant::now() < deadline, "timed out after {seconds} s waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The services `scripts/test.sh` starts, found through the environment.
///
/// ```
/// let uri = testkit::services::fresh_database("mongodb://127.0.0.1:27017/?directConnection=true");
/// assert!(uri.starts_with("mongodb://127.0.0.1:27017/st2_") && uri.ends_with("?directConnection=true"));
/// ```
pub mod services {
    fn var(name: &str, what: &str) -> Option<String> {
        match std::env::var(name) {
            Ok(value) if !value.is_empty() => Some(value),
            _ => {
                eprintln!("{name} is not set: skipping (scripts/test.sh starts {what} and sets it)");
                None
            }
        }
    }

    /// The MongoDB URI of the MongoDB-wire server (`MONGO_URI`), or `None` (and a note) when it is not running.
    pub fn mongo_uri() -> Option<String> {
        var("MONGO_URI", "a MongoDB-wire server")
    }

    /// The Kafka bootstrap servers (`KAFKA_BROKERS`), or `None` (and a note) when no broker runs.
    pub fn kafka_brokers() -> Option<String> {
        var("KAFKA_BROKERS", "a Kafka-protocol broker")
    }

    /// `uri` naming a database of its own (`st2_<random>`), so tests sharing a server never see each other's data.
    pub fn fresh_database(uri: &str) -> String {
        let database = unique("st2");
        match uri.find("/?") {
            Some(at) => format!("{}/{database}{}", &uri[..at], &uri[at + 1..]),
            None => format!("{}/{database}", uri.trim_end_matches('/')),
        }
    }

    /// `name` with a random suffix no other test uses.
    pub fn unique(name: &str) -> String {
        format!("{name}_{}", uuid::Uuid::new_v4().simple())
    }
}

/// Serves `router` on a free loopback port; returns its base URL (`http://127.0.0.1:PORT`).
///
/// # Panics
/// When no loopback port can be bound.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("its address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

/// An event log whose writes fail while [`FailingLog::fail`] is on, as a full disk makes them fail: a fault injected
/// into a real (in-memory) log. It also counts the appends that went through ([`FailingLog::appends`]), so a test can
/// see how many transactions a writer used.
#[derive(Debug, Default)]
pub struct FailingLog {
    inner: oslc_events::MemoryEventLog,
    failing: std::sync::atomic::AtomicBool,
    appends: std::sync::atomic::AtomicUsize,
}

impl FailingLog {
    /// A log that works until told otherwise.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes writes fail (`true`) or work again.
    pub fn fail(&self, failing: bool) {
        self.failing.store(failing, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many appends (each one transaction) succeeded.
    pub fn appends(&self) -> usize {
        self.appends.load(std::sync::atomic::Ordering::SeqCst)
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
        let appended = self.inner.append(events, checkpoints).await?;
        self.appends.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(appended)
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
