//! HTTP load on the running `st2-oslc --demo` binary: GET one rule, and GET a page of 100 rules, each for a fixed
//! time over keep-alive connections; reports requests per second and latency percentiles.
//!
//! Run with `bash scripts/bench.sh` (or build `st2-oslc` in release mode and `cargo bench -p benches --bench
//! http_load`; `ST2_OSLC_BIN` overrides where the binary is). Under `cargo test` it only says how to run it.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

const TOKEN: &str = "bench-token";
const CONNECTIONS: usize = 32;
const SECONDS: u64 = 10;
/// Rules created before measuring (the demo's own come on top), as the table has them.
const RULES: usize = 1000;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn binary() -> PathBuf {
    std::env::var_os("ST2_OSLC_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/st2-oslc"), PathBuf::from)
}

async fn request(addr: &str, method: &str, path: &str, body: Option<String>) -> (u16, Bytes) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let builder = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr)
        .header("authorization", format!("Bearer {TOKEN}"));
    let response = match body {
        Some(body) => {
            sender
                .send_request(builder.header("content-type", "text/turtle").body(Full::new(Bytes::from(body))).unwrap())
                .await
        }
        None => sender.send_request(builder.body(Full::new(Bytes::new())).unwrap()).await,
    }
    .unwrap();
    let status = response.status().as_u16();
    (status, response.into_body().collect().await.unwrap().to_bytes())
}

/// Sends GET `path` over `CONNECTIONS` keep-alive connections for `SECONDS`; returns (requests, latencies).
async fn load(addr: &str, path: &str) -> (usize, Vec<Duration>) {
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (addr, path) = (addr.to_owned(), path.to_owned());
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await.unwrap();
            tokio::spawn(connection);
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let started = Instant::now();
                let request = hyper::Request::get(&path)
                    .header("host", &addr)
                    .header("accept", "text/turtle")
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                let response = sender.send_request(request).await.unwrap();
                assert_eq!(response.status(), 200);
                response.into_body().collect().await.unwrap();
                latencies.push(started.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort_unstable();
    (all.len(), all)
}

/// A bare hyper HTTP/1 server answering every request with a fixed ~300-byte Turtle body: the ceiling for any Rust
/// HTTP server on this machine, run on its own two-thread runtime so it gets what st2-oslc gets.
fn bare_hyper() -> String {
    const BODY: &str = "@prefix dcterms: <http://purl.org/dc/terms/> .\n@prefix oslc_cm: <http://open-services.net/ns/cm#> .\n\n<http://bench.test/serviceProviders/1/changeRequests/1> a oslc_cm:ChangeRequest ;\n  dcterms:identifier \"1\" ;\n  dcterms:title \"A change request of about the size of a small rule\" ;\n  oslc_cm:status \"open\" .\n";
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap().to_string()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|_request| async {
                        let response = hyper::Response::builder()
                            .header("content-type", "text/turtle")
                            .body(Full::new(Bytes::from_static(BODY.as_bytes())))
                            .unwrap();
                        Ok::<_, std::convert::Infallible>(response)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv().unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted.get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1))).copied().unwrap_or_default()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("http_load: run with `bash scripts/bench.sh` (it builds st2-oslc in release mode first)");
        return;
    }
    let binary = binary();
    assert!(
        binary.exists(),
        "{} not found: build it with cargo build --release -p adapter-stackstorm",
        binary.display()
    );
    let mut child = Command::new(&binary)
        .args(["--demo", "--listen", "127.0.0.1:0", "--api-token", TOKEN])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _server = Server(child);
    let addr = line.trim().strip_prefix("listening on ").unwrap().to_owned();
    // The client gets one core; the server process the other.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    runtime.block_on(async {
        let rules = "/serviceProviders/1/changeRequests";
        let deadline = Instant::now() + Duration::from_secs(20);
        while request(&addr, "GET", rules, None).await.0 != 200 {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for i in 0..RULES {
            let body = format!("<> <http://purl.org/dc/terms/title> \"bench_rule_{i}\" ; <https://w3id.org/st2-oslc/ns#pack> \"bench\" ; <https://w3id.org/st2-oslc/ns#triggerType> \"core.st2.webhook\" ; <https://w3id.org/st2-oslc/ns#triggerParameters> \"{{\\\"url\\\": \\\"b{i}\\\"}}\"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON> ; <https://w3id.org/st2-oslc/ns#actionRef> \"core.local\" .");
            let (status, _) = request(&addr, "POST", rules, Some(body)).await;
            assert_eq!(status, 201);
        }
        let (_, list) = request(&addr, "GET", &format!("{rules}?oslc.select=dcterms:identifier&oslc.where=dcterms:title=%22bench_rule_7%22"), None).await;
        let text = String::from_utf8_lossy(&list).into_owned();
        let id = text.split("changeRequests/").nth(1).and_then(|s| s.get(..24)).unwrap().to_owned();
        let bare = bare_hyper();
        let (baseline, _) = load(&bare, "/").await;
        let baseline = baseline as f64 / SECONDS as f64;
        println!("bare hyper (300-byte Turtle): {baseline:.0} req/s over {CONNECTIONS} connections for {SECONDS} s");
        for (name, path) in [
            ("GET one rule", format!("{rules}/{id}")),
            ("GET the catalog", "/serviceProviders/catalog".to_owned()),
            ("GET the service provider", "/serviceProviders/1".to_owned()),
            (
                "GET a page of 100 of 1,000 rules (oslc.select=*)",
                format!("{rules}?oslc.paging=true&oslc.pageSize=100&oslc.select=*"),
            ),
        ] {
            let (count, latencies) = load(&addr, &path).await;
            let rate = count as f64 / SECONDS as f64;
            println!(
                "{name}: {rate:.0} req/s over {CONNECTIONS} connections for {SECONDS} s (p50 {:?}, p99 {:?}; {:.2}x bare hyper)",
                percentile(&latencies, 0.50),
                percentile(&latencies, 0.99),
                rate / baseline
            );
        }
    });
}
