//! Hostile requests against the running `st2-oslc` (issue "Hostile input and faults"), all in one run:
//! - the 64 KB `oslc.where=* in [9300 numbers]` query over 10,000 rules (target: answered or refused in < 50 ms);
//! - a hostile 1 MiB body, a Turtle list of 150,000 numbers (target: refused in < 100 ms, RSS growth < 50 MB);
//! - `/healthz` p99 alone, and while four clients send the most expensive queries the budgets allow (target
//!   < 50 ms);
//! - RSS with 10,000 rules in polling mode (`--demo`) and, when `MONGO_URI` is set, in change-stream mode
//!   (`--st2-url` to the fake st2 over MongoDB, `--mongo-uri`) (target < 100 MB).
//!
//! Run with `bash scripts/bench.sh` (it builds the binaries in release mode first); under `cargo test` it only
//! says how to run it.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

const TOKEN: &str = "bench-token";
const RULES: usize = 10_000;
const COLLECTION: &str = "/serviceProviders/1/changeRequests";

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn binary(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release").join(name)
}

/// Starts a binary that prints `listening on ADDR` first; returns it and the address.
fn start(name: &str, args: &[&str]) -> (Process, String) {
    let mut child = Command::new(binary(name))
        .args(args)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: {e} (build it with cargo build --release)"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").unwrap().to_owned();
    (Process(child), addr)
}

/// RSS sampled every 100 ms for 6 s (three polling intervals, so the poller's listings are in it), the server
/// otherwise idle: `(median, max)` in MB. One sample would land on whatever the last request or poll left for the
/// allocator to return.
async fn rss_steady(process: &Process) -> (f64, f64) {
    let mut samples = Vec::new();
    for _ in 0..60 {
        samples.push(rss_mb(process));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], samples[samples.len() - 1])
}

fn rss_mb(process: &Process) -> f64 {
    benches::rss_mb(process.0.id())
}

/// One request on its own connection: (status, body, time taken).
async fn request(addr: &str, method: &str, path: &str, body: Option<Vec<u8>>) -> (u16, Bytes, Duration) {
    let started = Instant::now();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr)
        .header("accept", "text/turtle")
        .header("content-type", "text/turtle")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body, started.elapsed())
}

fn rule_body(i: usize) -> Vec<u8> {
    benches::rule_turtle(&format!("bench_{i}")).into_bytes()
}

async fn wait_ready(addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while request(addr, "GET", "/readyz", None).await.0 != 200 {
        assert!(Instant::now() < deadline, "not ready within 10 minutes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!("{name}: n={} p50 {:?} p99 {:?} max {:?}", samples.len(), at(0.5), at(0.99), at(1.0));
}

/// `/healthz` latencies for `seconds`, one request after another on fresh connections.
async fn healthz(addr: &str, seconds: u64) -> Vec<Duration> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut samples = Vec::new();
    while Instant::now() < deadline {
        let (status, _, took) = request(addr, "GET", "/healthz", None).await;
        assert_eq!(status, 200);
        samples.push(took);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    samples
}

async fn hostile_phase(addr: &str, server: &Process) {
    // The 64 KB `in` query.
    let numbers: Vec<String> = (0..9300).map(|i| i.to_string()).collect();
    let query = format!("{COLLECTION}?oslc.where=*%20in%20[{}]", numbers.join(","));
    println!("the `in` query URL is {} bytes", query.len());
    let mut samples = Vec::new();
    let mut statuses = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let (status, _, took) = request(addr, "GET", &query, None).await;
        statuses.insert(status);
        samples.push(took);
    }
    summary(&format!("64 KB `in` query over {RULES} rules (statuses {statuses:?})"), samples);

    // The largest `in` list the budgets allow, evaluated: 100 values over every rule.
    let allowed = format!("{COLLECTION}?oslc.where=*%20in%20[{}]", numbers[..100].join(","));
    let mut samples = Vec::new();
    for _ in 0..20 {
        let (status, _, took) = request(addr, "GET", &allowed, None).await;
        assert_eq!(status, 200);
        samples.push(took);
    }
    summary(&format!("100-value `in` query evaluated over {RULES} rules"), samples);

    // A hostile 1 MiB body.
    let numbers: String = (0..150_000).map(|i| format!("{} ", i % 10)).collect();
    let mut body = format!("<> <http://e.com/p> ( {numbers}) .").into_bytes();
    body.resize(1024 * 1024 - 16, b' ');
    let before = rss_mb(server);
    let mut samples = Vec::new();
    for _ in 0..50 {
        let (status, _, took) = request(addr, "POST", COLLECTION, Some(body.clone())).await;
        assert_eq!(status, 400);
        samples.push(took);
    }
    let after = rss_mb(server);
    summary("hostile 1 MiB Turtle body (refused, 400)", samples);
    println!("RSS around 50 hostile bodies: {before:.1} MB -> {after:.1} MB (growth {:.1} MB)", after - before);

    // /healthz alone, then with four clients sending expensive (allowed) queries in a loop.
    summary("/healthz alone", healthz(addr, 5).await);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut hogs = Vec::new();
    let heavy = [
        allowed.clone(),
        format!("{COLLECTION}?oslc.select=*%7B*%7B*%7B*%7D%7D%7D"),
        format!("{COLLECTION}?oslc.searchTerms=%22bench%22&oslc.select=*"),
        format!("{COLLECTION}?oslc.orderBy=-dcterms:title&oslc.select=*"),
    ];
    for path in heavy {
        let (addr, stop) = (addr.to_owned(), stop.clone());
        hogs.push(tokio::spawn(async move {
            let mut count = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                request(&addr, "GET", &path, None).await;
                count += 1;
            }
            count
        }));
    }
    let under_load = healthz(addr, 10).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut hostile = 0;
    for hog in hogs {
        hostile += hog.await.unwrap();
    }
    summary(&format!("/healthz while 4 clients ran {hostile} expensive queries"), under_load);
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("hostile: run with `bash scripts/bench.sh` (it builds st2-oslc in release mode first)");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    runtime.block_on(async {
        // Polling mode: the embedded demo StackStorm.
        let (server, addr) = start(
            "st2-oslc",
            &["--demo", "--listen", "127.0.0.1:0", "--api-token", TOKEN, "--poll-interval-ms", "2000"],
        );
        wait_ready(&addr).await;
        let idle = rss_mb(&server);
        let started = Instant::now();
        for i in 0..RULES {
            assert_eq!(request(&addr, "POST", COLLECTION, Some(rule_body(i))).await.0, 201);
        }
        println!("created {RULES} rules in {:?}", started.elapsed());
        // Let the poller see them all (two intervals), and serve the whole collection once.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let (status, _, took) = request(&addr, "GET", COLLECTION, None).await;
        assert_eq!(status, 200);
        println!("first page of the collection (1,000 of {RULES}) in {took:?}");
        let (median, max) = rss_steady(&server).await;
        println!("RSS, polling mode: {idle:.1} MB idle; with {RULES} rules: median {median:.1} MB, max {max:.1} MB");
        hostile_phase(&addr, &server).await;
        drop(server);

        // Change-stream mode, when the test services run.
        let Ok(mongo) = std::env::var("MONGO_URI") else {
            println!("MONGO_URI not set: change-stream mode not measured");
            return;
        };
        let uri = mongo.replacen("/?", &format!("/st2_hostile_{}?", std::process::id()), 1);
        seed_mongo(&uri).await;
        let (fake, st2) = start("fake-st2", &["--listen", "127.0.0.1:0", "--mongo-uri", &uri, "--api-key", "k"]);
        let st2_url = format!("http://{st2}");
        let (server, addr) = start(
            "st2-oslc",
            &[
                "--listen",
                "127.0.0.1:0",
                "--api-token",
                TOKEN,
                "--st2-url",
                &st2_url,
                "--st2-api-key",
                "k",
                "--mongo-uri",
                &uri,
            ],
        );
        wait_ready(&addr).await;
        let (status, _, _) = request(&addr, "GET", COLLECTION, None).await;
        assert_eq!(status, 200);
        let (median, max) = rss_steady(&server).await;
        println!(
            "RSS, change-stream mode with {RULES} rules (cache filled, monitor watching): median {median:.1} MB, max {max:.1} MB"
        );
        drop(server);
        drop(fake);
    });
}

/// Writes `RULES` rules straight into `rule_d_b` (and their triggers) as st2 stores them.
async fn seed_mongo(uri: &str) {
    use adapter_stackstorm::st2::document::{RULES as RULE_COLLECTION, rule_to_document};
    adapter_stackstorm::install_crypto_provider();
    let client = mongodb::Client::with_uri_str(uri).await.unwrap();
    let database = client.database(&adapter_stackstorm::st2::document::database_of(uri));
    let mut documents = Vec::new();
    for i in 0..RULES {
        let mut rule =
            adapter_stackstorm::st2::Rule::new("bench", &format!("bench_{i}"), "core.st2.IntervalTimer", "core.local");
        rule.id = Some(bson::oid::ObjectId::new().to_hex());
        rule.trigger.parameters = serde_json::json!({"unit": "minutes", "delta": 5}).as_object().unwrap().clone();
        documents.push(rule_to_document(&rule).unwrap());
    }
    let started = Instant::now();
    for chunk in documents.chunks(1000) {
        database.collection::<bson::Document>(RULE_COLLECTION).insert_many(chunk.to_vec()).await.unwrap();
    }
    println!("seeded {RULES} rules into MongoDB in {:?}", started.elapsed());
}
