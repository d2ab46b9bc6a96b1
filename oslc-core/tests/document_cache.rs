//! The document cache in front of the router ([`DocumentCache`] through [`serve`]), over real sockets: its answers
//! are the router's own, byte for byte and header for header; it answers repeat requests without the router; it
//! never answers what a request with credentials, conditions or another version asks, what the answer varies on,
//! or what was not a plain 200; it is bounded; its answers are counted in the metrics.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use http::{HeaderMap, HeaderValue};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use oslc_core::InMemoryProvider;
use oslc_core::server::auth::{Auth, Policy, StaticToken};
use oslc_core::server::{DocumentCache, Metrics, OslcCorsLayer, ServeConfig, Served, serve};
use tokio::net::TcpStream;

const CATALOG: &str = "/serviceProviders/catalog";

/// The test kit's router, with a layer counting the requests that reach it (and setting `X-Flavor` answers apart
/// when `vary_flavor`), and its document paths.
fn counted(vary_flavor: bool) -> (Router, Vec<String>, Arc<AtomicUsize>) {
    let built = common::built_with(Arc::new(InMemoryProvider::new()), 64 * 1024);
    let reached = Arc::new(AtomicUsize::new(0));
    let count = reached.clone();
    let router = built.router.layer(middleware::from_fn(move |request: Request, next: Next| {
        count.fetch_add(1, Ordering::SeqCst);
        let flavor = request.headers().get("x-flavor").cloned();
        async move {
            let mut response: Response = next.run(request).await;
            if vary_flavor {
                response.headers_mut().append(http::header::VARY, HeaderValue::from_static("X-Flavor"));
                if let Some(flavor) = flavor {
                    response.headers_mut().insert("x-flavor-seen", flavor);
                }
            }
            response
        }
    }));
    (router, built.documents, reached)
}

async fn start(app: impl Into<Served> + Send + 'static) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, app, ServeConfig::default(), std::future::pending()));
    addr
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    /// Status, headers other than `Date`, and body.
    fn same_as(&self, other: &Answer) -> bool {
        let mut a = self.headers.clone();
        let mut b = other.headers.clone();
        a.remove(http::header::DATE);
        b.remove(http::header::DATE);
        self.status == other.status && a == b && self.body == other.body
    }
}

async fn ask(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let mut request = http::Request::builder().method(method).uri(path).header("host", "tracker.test");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender.send_request(request.body(Empty::<Bytes>::new()).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, body }
}

/// A request: method, path and headers.
type Asked<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

/// Requests of every kind the cache must answer as the router does (or leave to it).
const REQUESTS: &[Asked<'static>] = &[
    ("GET", CATALOG, &[("accept", "text/turtle")]),
    ("GET", CATALOG, &[("accept", "application/rdf+xml")]),
    ("GET", CATALOG, &[("accept", "application/ld+json")]),
    ("GET", CATALOG, &[("accept", "text/html")]),
    ("GET", CATALOG, &[]),
    ("GET", CATALOG, &[("accept", "text/turtle"), ("origin", "https://elsewhere.test")]),
    ("GET", CATALOG, &[("accept", "text/turtle"), ("oslc-core-version", "2.0")]),
    ("GET", CATALOG, &[("accept", "application/rdf+xml"), ("oslc-core-version", "1.0")]),
    ("GET", CATALOG, &[("accept", "text/turtle"), ("if-none-match", "\"nothing\"")]),
    ("GET", CATALOG, &[("accept", "text/turtle"), ("authorization", "Bearer nope")]),
    ("GET", "/serviceProviders/catalog?format=turtle", &[("accept", "text/html")]),
    ("HEAD", CATALOG, &[("accept", "text/turtle")]),
    ("GET", "/.well-known/oslc/sp-catalog", &[("accept", "text/turtle")]),
    ("GET", "/serviceProviders/1", &[("accept", "text/turtle")]),
    ("GET", "/resourceShapes/1/changeRequests", &[("accept", "text/turtle")]),
    ("GET", "/rootservices", &[]),
    ("GET", "/static/oslc.css", &[]),
    ("GET", "/serviceProviders/1/changeRequests", &[("accept", "text/turtle")]),
];

#[tokio::test]
async fn answers_are_the_routers_own() {
    // One router served twice (blank nodes are minted when a server is built, so two builds differ).
    let (router, documents, reached) = counted(false);
    let router = router.layer(OslcCorsLayer::default());
    let without = start(router.clone()).await;
    let with = start(Served::new(router).with_document_cache(DocumentCache::new(documents))).await;
    let mut routed_with_cache = 0;
    for (method, path, headers) in REQUESTS {
        let expected = ask(without, method, path, headers).await;
        // The first answer may be stored, the second may come from the cache: both are the router's.
        for round in ["first", "repeated"] {
            let before = reached.load(Ordering::SeqCst);
            let got = ask(with, method, path, headers).await;
            routed_with_cache += reached.load(Ordering::SeqCst) - before;
            assert!(
                got.same_as(&expected),
                "{round} {method} {path} {headers:?}: {} {:?} {} vs {} {:?} {}",
                got.status,
                got.headers,
                String::from_utf8_lossy(&got.body),
                expected.status,
                expected.headers,
                String::from_utf8_lossy(&expected.body),
            );
        }
    }
    // Eleven of the requests above are ones the cache keeps the answer to (the document GETs without a
    // condition, credentials, version or query): their repeats never reached the router. The one with an `Origin`
    // is among them: the answers vary on `Origin` (CORS headers only go to CORS requests), so the Turtle answer
    // kept first, without CORS headers, was not its answer.
    assert_eq!(routed_with_cache, 2 * REQUESTS.len() - 11);
}

#[tokio::test]
async fn repeats_skip_the_router_and_nothing_else_does() {
    let (router, documents, reached) = counted(false);
    let addr = start(Served::new(router).with_document_cache(DocumentCache::new(documents))).await;
    let turtle = [("accept", "text/turtle")];
    let first = ask(addr, "GET", CATALOG, &turtle).await;
    assert_eq!(first.status, 200);
    assert_eq!(reached.load(Ordering::SeqCst), 1);
    for _ in 0..5 {
        assert!(ask(addr, "GET", CATALOG, &turtle).await.same_as(&first));
    }
    assert_eq!(reached.load(Ordering::SeqCst), 1, "repeats are answered from the cache");

    // Each of these goes to the router every time.
    let etag = first.headers.get("etag").unwrap().to_str().unwrap().to_owned();
    let passing: &[Asked<'_>] = &[
        ("HEAD", CATALOG, &[("accept", "text/turtle")]),
        ("GET", "/serviceProviders/catalog?x=1", &[("accept", "text/turtle")]),
        ("GET", CATALOG, &[("accept", "text/turtle"), ("authorization", "Bearer t")]),
        ("GET", CATALOG, &[("accept", "text/turtle"), ("cookie", "a=b")]),
        ("GET", CATALOG, &[("accept", "text/turtle"), ("if-none-match", &etag)]),
        ("GET", CATALOG, &[("accept", "text/turtle"), ("cache-control", "no-cache")]),
        ("GET", CATALOG, &[("accept", "text/turtle"), ("oslc-core-version", "2.0")]),
        ("GET", CATALOG, &[("accept", "text/turtle"), ("accept", "application/rdf+xml")]),
        ("GET", "/serviceProviders/1/changeRequests", &[("accept", "text/turtle")]),
    ];
    for (method, path, headers) in passing {
        let before = reached.load(Ordering::SeqCst);
        ask(addr, method, path, headers).await;
        ask(addr, method, path, headers).await;
        assert_eq!(reached.load(Ordering::SeqCst), before + 2, "{method} {path} {headers:?} reached the router twice");
    }
    // A conditional request gets the router's 304, not the stored 200.
    let conditional = ask(addr, "GET", CATALOG, &[("accept", "text/turtle"), ("if-none-match", &etag)]).await;
    assert_eq!(conditional.status, 304);
}

#[tokio::test]
async fn answers_vary_on_what_they_say_and_are_bounded() {
    let (router, documents, reached) = counted(true);
    let addr = start(Served::new(router).with_document_cache(DocumentCache::new(documents))).await;
    let sweet = [("accept", "text/turtle"), ("x-flavor", "sweet")];
    let sour = [("accept", "text/turtle"), ("x-flavor", "sour")];
    assert_eq!(ask(addr, "GET", CATALOG, &sweet).await.headers.get("x-flavor-seen").unwrap(), "sweet");
    assert_eq!(ask(addr, "GET", CATALOG, &sour).await.headers.get("x-flavor-seen").unwrap(), "sour");
    assert_eq!(reached.load(Ordering::SeqCst), 2);
    // Each repeat gets its own flavor's answer, from the cache.
    assert_eq!(ask(addr, "GET", CATALOG, &sweet).await.headers.get("x-flavor-seen").unwrap(), "sweet");
    assert_eq!(ask(addr, "GET", CATALOG, &sour).await.headers.get("x-flavor-seen").unwrap(), "sour");
    assert!(ask(addr, "GET", CATALOG, &[("accept", "text/turtle")]).await.headers.get("x-flavor-seen").is_none());
    assert_eq!(reached.load(Ordering::SeqCst), 3);

    // Headers an attacker varies fill the path's slots, then go to the router each time.
    for n in 0..DocumentCache::MAX_VARIANTS {
        ask(addr, "GET", CATALOG, &[("accept", "text/turtle"), ("x-flavor", &format!("f{n}"))]).await;
    }
    let before = reached.load(Ordering::SeqCst);
    let beyond = [("accept", "text/turtle"), ("x-flavor", "beyond")];
    assert_eq!(ask(addr, "GET", CATALOG, &beyond).await.headers.get("x-flavor-seen").unwrap(), "beyond");
    ask(addr, "GET", CATALOG, &beyond).await;
    assert_eq!(reached.load(Ordering::SeqCst), before + 2);
    // What was kept first is still answered from the cache.
    assert_eq!(ask(addr, "GET", CATALOG, &sweet).await.headers.get("x-flavor-seen").unwrap(), "sweet");
    assert_eq!(reached.load(Ordering::SeqCst), before + 2);
}

#[tokio::test]
async fn protected_reads_and_uncacheable_answers_always_reach_the_router() {
    let (router, documents, reached) = counted(false);
    // Reads need the token: the 401 answers are never kept, and a good token's request is never answered
    // from the cache either.
    let auth = Auth::new(StaticToken::new("secret"), Policy::protect_all());
    let addr = start(Served::new(auth.layer(router)).with_document_cache(DocumentCache::new(documents.clone()))).await;
    let anonymous = [("accept", "text/turtle")];
    for _ in 0..3 {
        assert_eq!(ask(addr, "GET", CATALOG, &anonymous).await.status, 401);
    }
    let authorized = [("accept", "text/turtle"), ("authorization", "Bearer secret")];
    for _ in 0..3 {
        assert_eq!(ask(addr, "GET", CATALOG, &authorized).await.status, 200);
    }
    assert_eq!(ask(addr, "GET", CATALOG, &anonymous).await.status, 401);
    // Only the three authorized requests got past the auth layer, each to the router.
    assert_eq!(reached.load(Ordering::SeqCst), 3);

    // An answer that says not to store it is not stored.
    let (router, _, reached_too) = counted(false);
    let no_store = router.layer(middleware::from_fn(|request: Request, next: Next| async move {
        let mut response = next.run(request).await;
        response.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }));
    let addr = start(Served::new(no_store).with_document_cache(DocumentCache::new(documents))).await;
    for _ in 0..3 {
        assert_eq!(ask(addr, "GET", CATALOG, &anonymous).await.status, 200);
    }
    assert_eq!(reached_too.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn answers_from_the_cache_are_counted() {
    let (router, documents, _) = counted(false);
    let metrics = Metrics::new();
    let cache = DocumentCache::new(documents).with_metrics(&metrics);
    let addr = start(Served::new(metrics.layer(router)).with_document_cache(cache)).await;
    for _ in 0..5 {
        assert_eq!(ask(addr, "GET", CATALOG, &[("accept", "text/turtle")]).await.status, 200);
    }
    let text = metrics.render();
    let line = format!("http_requests_total{{method=\"GET\",route=\"{CATALOG}\",status=\"200\"}} 5");
    assert!(text.contains(&line), "{text}");
    let latency = format!("http_request_duration_seconds_count{{method=\"GET\",route=\"{CATALOG}\"}} 5");
    assert!(text.contains(&latency), "{text}");
}

#[tokio::test]
async fn http2_with_prior_knowledge_is_served_beside_http1() {
    let (router, documents, _) = counted(false);
    let addr = start(Served::new(router).with_document_cache(DocumentCache::new(documents))).await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    for _ in 0..2 {
        let request = http::Request::get(format!("http://tracker.test{CATALOG}"))
            .header("accept", "text/turtle")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), http::Version::HTTP_2);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("ServiceProviderCatalog"));
    }
    assert_eq!(ask(addr, "GET", CATALOG, &[("accept", "text/turtle")]).await.status, 200);
}
