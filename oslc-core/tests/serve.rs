//! The serving helper over real sockets (issue "Hostile input and faults", point 5): slow and idle connections
//! are closed, a connection limit keeps the server reachable, over-long URIs and headers get `oslc:Error` answers,
//! and shutdown completes while a half-open connection exists. Timeouts are short here so the test is quick.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use oslc_core::server::{ServeConfig, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

struct Running {
    addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(config: ServeConfig) -> Running {
    let (app, _) = common::app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app, config, async {
        let _ = stopped.await;
    }));
    Running { addr, stop: Some(stop), task }
}

fn quick() -> ServeConfig {
    ServeConfig::default()
        .with_header_read_timeout(Duration::from_millis(300))
        .with_max_connections(4)
        .with_shutdown_timeout(Duration::from_millis(500))
        .with_max_uri_bytes(1024)
        .with_max_header_bytes(2048)
}

/// Reads until the peer closes; fails after `seconds`.
async fn closed_within(stream: &mut TcpStream, seconds: u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "the server kept the connection open for {seconds} s");
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(_)) => {}
            Err(_) => panic!("the server kept the connection open for {seconds} s"),
        }
    }
}

/// Sends one request on a new connection and returns the whole answer (`Connection: close`).
async fn exchange(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn slow_and_idle_connections_are_closed() {
    let server = start(quick()).await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /serviceProviders/catalog HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    closed_within(&mut slow, 5).await;

    // The start of HTTP/2's preface and no more: the version is never told, and the connection is cut.
    let mut partial = TcpStream::connect(server.addr).await.unwrap();
    partial.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    closed_within(&mut partial, 5).await;

    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /serviceProviders/catalog HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut first = vec![0u8; 16];
    idle.read_exact(&mut first).await.unwrap();
    assert!(first.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&first));
    closed_within(&mut idle, 5).await;
}

#[tokio::test]
async fn held_connections_do_not_make_the_server_unreachable() {
    let server = start(quick()).await;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let answer =
        exchange(server.addr, "GET /serviceProviders/catalog HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(held);
}

#[tokio::test]
async fn over_long_uris_and_headers_and_wrong_methods_get_oslc_errors() {
    let server = start(quick()).await;
    let long = format!("/serviceProviders/catalog?x={}", "a".repeat(2000));
    let answer = exchange(server.addr, &format!("GET {long} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).await;
    assert!(answer.starts_with("HTTP/1.1 414"), "{answer}");
    assert!(
        answer.contains("ns/core#Error") && answer.contains("request URI longer than the limit of 1024 bytes"),
        "{answer}"
    );

    let big = format!("X-Big: {}\r\n", "b".repeat(3000));
    let answer = exchange(
        server.addr,
        &format!("GET /serviceProviders/catalog HTTP/1.1\r\nHost: x\r\n{big}Connection: close\r\n\r\n"),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert!(answer.contains("ns/core#Error"), "{answer}");

    let answer = exchange(
        server.addr,
        "PATCH /serviceProviders/catalog HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("allow:"), "{answer}");
    assert!(answer.contains("ns/core#Error") && answer.contains("method PATCH not allowed"), "{answer}");

    let answer = exchange(server.addr, "GET /nothing/here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 404") && answer.contains("ns/core#Error"), "{answer}");
}

#[tokio::test]
async fn shutdown_completes_with_a_half_open_connection() {
    let mut server = start(quick().with_header_read_timeout(Duration::from_secs(60))).await;
    let mut half = TcpStream::connect(server.addr).await.unwrap();
    half.write_all(b"POST /serviceProviders/1/changeRequests HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        .await
        .unwrap();
    // The request is in flight (its body never completes) when shutdown begins.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = server.stop.take().unwrap().send(());
    let served = tokio::time::timeout(Duration::from_secs(10), &mut server.task).await;
    assert!(matches!(served, Ok(Ok(Ok(())))), "serve did not return within 10 s of shutdown: {served:?}");
}
