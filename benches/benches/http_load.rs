//! HTTP load on the running `st2-oslc`, in `--demo` and with `--st2-url` against the fake st2 (every rule then comes
//! from StackStorm's API, through the rule cache), side by side with a bare hyper server (a process of its own, as
//! `st2-oslc` is) in the same run: each row is
//! GET over keep-alive connections for a fixed time, reported as requests per second, latency percentiles, the
//! server's CPU per request and the ratio to the bare server: the median over one-second rounds, each measured right
//! after a second of the bare server (the machine's speed drifts over a run). Beside the catalog row, the bare server
//! answering with the catalog's own bytes and headers (and hyper's header-read timer, as `serve` runs) is measured
//! the same way: the ceiling for that answer, so what is left between the two rows is `st2-oslc`'s own work.
//!
//! Run with `bash scripts/bench.sh` (or build `st2-oslc` and `fake-st2` in release mode and `cargo bench -p benches
//! --bench http_load`; `ST2_OSLC_BIN` and `FAKE_ST2_BIN` override where the binaries are). `HTTP_LOAD_ROWS` keeps
//! the rows whose name contains one of its comma-separated words (`HTTP_LOAD_ROWS=page,catalog`) and
//! `HTTP_LOAD_SECONDS` sets each row's time (default 8). Then, on a fresh `--demo` server, it measures how a list's
//! cost grows with its size: a page of 100 over 100 rules and over `HTTP_LOAD_SCALE` (default 10,000), the first
//! byte of the unpaged list, and RSS (`HTTP_LOAD_ROWS=scale` runs that alone). Under `cargo test` it only says how
//! to run it.
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
const ST2_API_KEY: &str = "bench-st2-key";
const CONNECTIONS: usize = 32;
/// Rules created before measuring (the demo's own come on top), as the table has them.
const RULES: usize = 1000;
const RULES_PATH: &str = "/serviceProviders/1/changeRequests";

struct Server(Child, u32);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    /// Starts `binary` with `args`; returns it and the address of its "listening on" line.
    fn start(binary: &PathBuf, args: &[&str]) -> (Self, String) {
        assert!(
            binary.exists(),
            "{} not found: build it with cargo build --release (scripts/bench.sh does)",
            binary.display()
        );
        let mut child = Command::new(binary)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on ").unwrap().to_owned();
        let pid = child.id();
        (Self(child, pid), addr)
    }

    /// User and system CPU time the process has used so far (Linux `/proc`; zero elsewhere).
    fn cpu(&self) -> Duration {
        cpu_of(self.1)
    }
}

/// User and system CPU time process `pid` has used so far.
fn cpu_of(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return Duration::ZERO };
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks: u64 = fields.get(11..13).map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

fn binary(env: &str, name: &str) -> PathBuf {
    std::env::var_os(env)
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release").join(name), PathBuf::from)
}

async fn request(
    addr: &str,
    method: &str,
    path: &str,
    accept: &str,
    body: Option<String>,
) -> (u16, Bytes, hyper::HeaderMap) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let builder = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr)
        .header("accept", accept)
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
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, response.into_body().collect().await.unwrap().to_bytes(), headers)
}

/// Sends GET `path` asking for `accept` over `CONNECTIONS` keep-alive connections for `seconds`; returns
/// (requests, sorted latencies).
async fn load(addr: &str, path: &str, accept: &'static str, seconds: u64) -> (usize, Vec<Duration>) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
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
                    .header("accept", accept)
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

const BARE_BODY: &str = "@prefix dcterms: <http://purl.org/dc/terms/> .\n@prefix oslc_cm: <http://open-services.net/ns/cm#> .\n\n<http://bench.test/serviceProviders/1/changeRequests/1> a oslc_cm:ChangeRequest ;\n  dcterms:identifier \"1\" ;\n  dcterms:title \"A change request of about the size of a small rule\" ;\n  oslc_cm:status \"open\" .\n";

/// The argument that makes this binary the bare server instead of the bench (`--bare-hyper-server [FILE [HEADERS]]`).
const BARE_SERVER: &str = "--bare-hyper-server";

/// A bare hyper HTTP/1 server answering every request with a fixed ~300-byte Turtle body (or the bytes of `body`):
/// the ceiling for any Rust HTTP server on this machine. It is this binary run again as a process of its own, with
/// a two-thread runtime, so that it gets what `st2-oslc` gets: its own address space (switching between the
/// client's threads and the server's then costs what it costs with `st2-oslc`) and its CPU read from `/proc`.
/// With `headers` (a file of `name: value` lines), it adds those to each answer and runs hyper's header-read timer,
/// as `oslc_core::server::serve` does: the ceiling for an answer with exactly what `st2-oslc` sends.
fn bare_hyper(body: Option<&std::path::Path>, headers: Option<&std::path::Path>) -> (Server, String) {
    let exe = std::env::current_exe().unwrap();
    let mut args = vec![BARE_SERVER.to_owned()];
    args.extend(body.map(|b| b.display().to_string()));
    args.extend(headers.map(|h| h.display().to_string()));
    Server::start(&exe, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The bare server's process: prints `listening on ADDR` and serves until killed.
fn bare_server_main(body: Option<String>, headers: Option<String>) {
    let body =
        body.map_or_else(|| Bytes::from_static(BARE_BODY.as_bytes()), |file| std::fs::read(file).unwrap().into());
    let headers = headers.map(|file| {
        let mut map = hyper::HeaderMap::new();
        for line in std::fs::read_to_string(file).unwrap().lines() {
            let (name, value) = line.split_once(": ").unwrap();
            map.append(hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        map
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("listening on {}", listener.local_addr().unwrap());
        serve_bare(listener, body, headers).await;
    });
}

/// The same server inside this process, on its own two-thread runtime beside the client's: how earlier runs of this
/// bench measured the ceiling, printed for comparison.
fn bare_hyper_in_process() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap().to_string()).unwrap();
            serve_bare(listener, Bytes::from_static(BARE_BODY.as_bytes()), None).await;
        });
    });
    rx.recv().unwrap()
}

async fn serve_bare(listener: tokio::net::TcpListener, body: Bytes, headers: Option<hyper::HeaderMap>) {
    let mut http1 = hyper::server::conn::http1::Builder::new();
    if headers.is_some() {
        // `serve`'s default header-read timeout.
        http1.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(Duration::from_secs(10));
    }
    let headers = std::sync::Arc::new(headers.unwrap_or_default());
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (body, headers, http1) = (body.clone(), headers.clone(), http1.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |_request| {
                let (body, headers) = (body.clone(), headers.clone());
                async move {
                    let mut response =
                        hyper::Response::builder().header("content-type", "text/turtle").body(Full::new(body)).unwrap();
                    response.headers_mut().extend(headers.iter().map(|(name, value)| (name.clone(), value.clone())));
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            let _ = http1.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted.get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1))).copied().unwrap_or_default()
}

/// Waits until `st2-oslc` at `addr` answers a query.
async fn wait_answering(addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while request(addr, "GET", RULES_PATH, "text/turtle", None).await.0 != 200 {
        assert!(Instant::now() < deadline, "st2-oslc at {addr} did not answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Creates `RULES` rules through `addr`; returns the id of one of them.
async fn create_rules(addr: &str) -> String {
    wait_answering(addr).await;
    create_range(addr, 0, RULES).await;
    let query = format!("{RULES_PATH}?oslc.select=dcterms:identifier&oslc.where=dcterms:title=%22bench_rule_7%22");
    let (_, list, _) = request(addr, "GET", &query, "text/turtle", None).await;
    let text = String::from_utf8_lossy(&list).into_owned();
    text.split("changeRequests/").nth(1).and_then(|s| s.get(..24)).unwrap().to_owned()
}

/// Creates rules `bench_rule_{from}` to `bench_rule_{to - 1}` through `addr`, eight requests at a time.
async fn create_range(addr: &str, from: usize, to: usize) {
    let mut tasks = Vec::new();
    for lane in 0..8 {
        let addr = addr.to_owned();
        tasks.push(tokio::spawn(async move {
            for i in (from + lane..to).step_by(8) {
                let body = benches::rule_turtle(&format!("bench_rule_{i}"));
                let (status, _, _) = request(&addr, "POST", RULES_PATH, "text/turtle", Some(body)).await;
                assert_eq!(status, 201);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// Time to the first byte of the body and to the whole of it, for GET `path` on a fresh connection: the medians of
/// 20 requests.
async fn first_byte(addr: &str, path: &str) -> (Duration, Duration, usize) {
    let mut first = Vec::new();
    let mut whole = Vec::new();
    let mut size = 0;
    for _ in 0..20 {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await.unwrap();
        tokio::spawn(connection);
        let request = hyper::Request::get(path)
            .header("host", addr)
            .header("accept", "text/turtle")
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Empty::<Bytes>::new())
            .unwrap();
        let started = Instant::now();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        let mut got = 0;
        let mut at_first = None;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                got += data.len();
                at_first.get_or_insert_with(|| started.elapsed());
            }
        }
        first.push(at_first.unwrap_or_else(|| started.elapsed()));
        whole.push(started.elapsed());
        size = got;
    }
    first.sort_unstable();
    whole.sort_unstable();
    (first[first.len() / 2], whole[whole.len() / 2], size)
}

/// How a list's cost grows with its size: on a fresh `--demo` server, a page of 100 rules with every property over
/// 100 rules and over `large`, the first byte of the unpaged list (its first page) and the server's RSS.
async fn scale(st2_oslc: &PathBuf, large: usize, seconds: u64) {
    let (server, addr) = Server::start(st2_oslc, &["--demo", "--listen", "127.0.0.1:0", "--api-token", TOKEN]);
    wait_answering(&addr).await;
    let page = format!("{RULES_PATH}?oslc.paging=true&oslc.pageSize=100&oslc.select=*");
    let unpaged = format!("{RULES_PATH}?oslc.select=*");
    println!();
    println!(
        "| rules | page of 100, every property | its CPU | first byte of the list (1,000 a page), every property | whole | body | RSS |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut created = 0;
    for size in [100, large] {
        create_range(&addr, created, size).await;
        created = size;
        let _ = load(&addr, &page, "text/turtle", 1).await;
        let cpu = server.cpu();
        let (count, _) = load(&addr, &page, "text/turtle", seconds).await;
        let cpu = server.cpu().saturating_sub(cpu);
        let (first, whole, body) = first_byte(&addr, &unpaged).await;
        println!(
            "| {size} | {:.0} req/s | {:.0} µs | {:.1} ms | {:.1} ms | {} KB | {:.0} MB |",
            count as f64 / seconds as f64,
            cpu.as_secs_f64() * 1e6 / count.max(1) as f64,
            first.as_secs_f64() * 1e3,
            whole.as_secs_f64() * 1e3,
            body / 1024,
            benches::rss_mb(server.1),
        );
    }
}

/// One measured row: its name, path, `Accept`, and whether it is also measured with `--st2-url`.
struct Row {
    name: &'static str,
    path: String,
    accept: &'static str,
    st2: bool,
}

fn main() {
    let mut args = std::env::args().skip_while(|a| a != BARE_SERVER);
    if args.next().is_some() {
        bare_server_main(args.next(), args.next());
        return;
    }
    if !std::env::args().any(|a| a == "--bench") {
        println!("http_load: run with `bash scripts/bench.sh` (it builds st2-oslc and fake-st2 in release mode first)");
        return;
    }
    // At least one second: a row is measured in one-second rounds.
    let seconds: u64 = std::env::var("HTTP_LOAD_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(8).max(1);
    let wanted: Vec<String> = std::env::var("HTTP_LOAD_ROWS")
        .map(|rows| rows.split(',').map(|w| w.trim().to_lowercase()).filter(|w| !w.is_empty()).collect())
        .unwrap_or_default();
    let st2_oslc = binary("ST2_OSLC_BIN", "st2-oslc");
    let rows = [
        Row { name: "one rule, Turtle", path: String::new(), accept: "text/turtle", st2: true },
        Row { name: "one rule, RDF/XML", path: String::new(), accept: "application/rdf+xml", st2: true },
        Row { name: "catalog", path: "/serviceProviders/catalog".into(), accept: "text/turtle", st2: false },
        Row { name: "service provider", path: "/serviceProviders/1".into(), accept: "text/turtle", st2: false },
        Row { name: "shape", path: "/resourceShapes/1/changeRequests".into(), accept: "text/turtle", st2: false },
        Row { name: "vocabulary", path: "/vocab".into(), accept: "text/turtle", st2: false },
        Row {
            name: "every rule with every property (oslc.select=*)",
            path: format!("{RULES_PATH}?oslc.select=*"),
            accept: "text/turtle",
            st2: true,
        },
        Row {
            name: "a page of 100 rules with every property",
            path: format!("{RULES_PATH}?oslc.paging=true&oslc.pageSize=100&oslc.select=*"),
            accept: "text/turtle",
            st2: true,
        },
    ];
    let rows: Vec<Row> = rows
        .into_iter()
        .filter(|row| wanted.is_empty() || wanted.iter().any(|w| row.name.to_lowercase().contains(w.as_str())))
        .collect();
    let scaled = wanted.is_empty() || wanted.iter().any(|w| w == "scale");
    // The client gets one core; the server process the other.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    if !rows.is_empty() {
        runtime.block_on(measure_rows(&st2_oslc, rows, seconds));
    }
    if scaled {
        let large = std::env::var("HTTP_LOAD_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
        runtime.block_on(scale(&st2_oslc, large, seconds));
    }
}

/// The rows: each on `--demo` (and `--st2-url` where the row says), against the bare server.
async fn measure_rows(st2_oslc: &PathBuf, rows: Vec<Row>, seconds: u64) {
    let (demo, demo_addr) = Server::start(st2_oslc, &["--demo", "--listen", "127.0.0.1:0", "--api-token", TOKEN]);
    let (_fake, fake_addr) =
        Server::start(&binary("FAKE_ST2_BIN", "fake-st2"), &["--listen", "127.0.0.1:0", "--api-key", ST2_API_KEY]);
    let st2_url = format!("http://{fake_addr}");
    let (st2, st2_addr) = Server::start(
        st2_oslc,
        &["--st2-url", &st2_url, "--st2-api-key", ST2_API_KEY, "--listen", "127.0.0.1:0", "--api-token", TOKEN],
    );
    let demo_rule = create_rules(&demo_addr).await;
    let st2_rule = create_rules(&st2_addr).await;
    let (bare_server, bare) = bare_hyper(None, None);
    let cpu = bare_server.cpu();
    let (count, _) = load(&bare, "/", "text/turtle", seconds).await;
    let per_request = bare_server.cpu().saturating_sub(cpu).as_secs_f64() / count.max(1) as f64;
    let baseline = count as f64 / seconds as f64;
    println!("{CONNECTIONS} connections, {seconds} s a row, {RULES} rules created (plus the demo's own)");
    println!(
        "bare hyper (300-byte Turtle, a process of its own): {baseline:.0} req/s, {:.1} µs of server CPU a request",
        per_request * 1e6
    );
    let in_process = bare_hyper_in_process();
    let (count, _) = load(&in_process, "/", "text/turtle", seconds.min(3)).await;
    println!(
        "the same inside this bench's process (the ceiling as this bench measured it before): {:.0} req/s \
         ({:.2}× the bare process)",
        count as f64 / seconds.min(3) as f64,
        count as f64 / seconds.min(3) as f64 / baseline
    );
    // What the body's size alone costs: the bare server answering with the catalog's own bytes.
    let (_, catalog, catalog_headers) =
        request(&demo_addr, "GET", "/serviceProviders/catalog", "text/turtle", None).await;
    let size = catalog.len();
    let file = std::env::temp_dir().join(format!("http-load-catalog-{}", std::process::id()));
    std::fs::write(&file, &catalog).unwrap();
    let (bare_catalog_server, bare_catalog) = bare_hyper(Some(&file), None);
    let (count, _) = load(&bare_catalog, "/", "text/turtle", seconds).await;
    drop(bare_catalog_server);
    // And with the catalog's headers too (hyper adds `content-length` and `date` itself): all that is left between
    // the catalog row and this one is `st2-oslc`'s own work.
    let header_file = std::env::temp_dir().join(format!("http-load-catalog-headers-{}", std::process::id()));
    let own = |name: &hyper::header::HeaderName| !["content-type", "content-length", "date"].contains(&name.as_str());
    let lines: Vec<String> = catalog_headers
        .iter()
        .filter(|(name, _)| own(name))
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
        .collect();
    std::fs::write(&header_file, lines.join("\n")).unwrap();
    let (as_catalog_server, as_catalog) = bare_hyper(Some(&file), Some(&header_file));
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&header_file);
    println!(
        "bare hyper answering the catalog's {} KB: {:.0} req/s ({:.2}× the 300-byte body)",
        size / 1024,
        count as f64 / seconds as f64,
        count as f64 / seconds as f64 / baseline
    );
    println!(
        "| request | mode | req/s | × bare hyper (median of 1 s rounds) | p50 | p99 | server CPU a request | body |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let rule = |id: &str| format!("{RULES_PATH}/{id}");
    for row in rows {
        let mut modes = vec![("--demo", &demo, demo_addr.as_str(), demo_rule.as_str())];
        if row.st2 {
            modes.push(("--st2-url", &st2, st2_addr.as_str(), st2_rule.as_str()));
        }
        for (mode, server, addr, id) in modes {
            let path = if row.path.is_empty() { rule(id) } else { row.path.clone() };
            let measured = paired(&bare, server, addr, &path, row.accept, seconds).await;
            println!("| {} | {mode} | {measured}", row.name);
            if row.name == "catalog" {
                let measured = paired(&bare, &as_catalog_server, &as_catalog, "/", row.accept, seconds).await;
                println!("| catalog's bytes and headers | bare hyper | {measured}");
            }
        }
    }
}

/// GET `path` at `addr` (served by `server`) for `seconds`, in one-second rounds, each right after a second of the
/// bare server at `bare` (the machine's speed drifts over a run, by ±20% within seconds): the table's columns from
/// the requests a second on, the ratio being the median of the rounds'.
async fn paired(bare: &str, server: &Server, addr: &str, path: &str, accept: &'static str, seconds: u64) -> String {
    let body = request(addr, "GET", path, accept, None).await.1.len();
    let (mut count, mut latencies, mut cpu, mut ratios) = (0, Vec::new(), Duration::ZERO, Vec::new());
    for _ in 0..seconds {
        let (bare_count, _) = load(bare, "/", "text/turtle", 1).await;
        let before = server.cpu();
        let (round, round_latencies) = load(addr, path, accept, 1).await;
        cpu += server.cpu().saturating_sub(before);
        ratios.push(round as f64 / bare_count.max(1) as f64);
        count += round;
        latencies.extend(round_latencies);
    }
    latencies.sort_unstable();
    ratios.sort_unstable_by(f64::total_cmp);
    format!(
        "{:.0} | {:.2} | {:.2} ms | {:.2} ms | {:.0} µs | {} KB |",
        count as f64 / seconds as f64,
        ratios[ratios.len() / 2],
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 1e6 / count.max(1) as f64,
        body / 1024,
    )
}
