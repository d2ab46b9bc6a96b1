//! Serving a router on a socket with the budgets every server facing the Internet needs: a header-read (and
//! keep-alive idle) timeout, a request timeout, limits on the URI and header sizes, a connection limit, and a
//! graceful-shutdown deadline. Answers over a limit are `oslc:Error` bodies (408, 414, 431), and so are the 404
//! and 405 answers of routes that do not exist or do not take the method. In front of the router, a
//! [`DocumentCache`] may answer repeat requests for the documents that never change.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use http::{StatusCode, header};
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use super::ErrorResponse;
use super::cache::{DocumentCache, Lookup};
use crate::Error;

/// The budgets of [`serve`]. Defaults:
///
/// | budget | default |
/// |---|---|
/// | [`header_read_timeout`](Self::header_read_timeout): to send a request's head, and the longest a kept-alive connection may sit idle | 10 s |
/// | [`request_timeout`](Self::request_timeout): from the head to the end of the response's production (body upload included) | 30 s |
/// | [`max_uri_bytes`](Self::max_uri_bytes) (414 above) | 8 KiB |
/// | [`max_header_bytes`](Self::max_header_bytes) (431 above) | 16 KiB |
/// | [`max_connections`](Self::max_connections): connections served at once; more wait in the listen backlog | 1024 |
/// | [`shutdown_timeout`](Self::shutdown_timeout): for requests in flight after shutdown begins | 10 s |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeConfig {
    /// The time a client has to send a request's head; also how long an idle kept-alive connection stays open.
    pub header_read_timeout: Duration,
    /// The time one request may take, reading its body included.
    pub request_timeout: Duration,
    /// The longest request URI (path and query), in bytes.
    pub max_uri_bytes: usize,
    /// The largest total of header names and values, in bytes.
    pub max_header_bytes: usize,
    /// The most connections served at once.
    pub max_connections: usize,
    /// How long shutdown waits for requests in flight before closing their connections.
    pub shutdown_timeout: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 16 * 1024,
            max_connections: 1024,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl ServeConfig {
    /// Sets [`ServeConfig::header_read_timeout`].
    #[must_use]
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`ServeConfig::request_timeout`].
    #[must_use]
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`ServeConfig::max_uri_bytes`].
    #[must_use]
    pub fn with_max_uri_bytes(mut self, bytes: usize) -> Self {
        self.max_uri_bytes = bytes;
        self
    }

    /// Sets [`ServeConfig::max_header_bytes`].
    #[must_use]
    pub fn with_max_header_bytes(mut self, bytes: usize) -> Self {
        self.max_header_bytes = bytes;
        self
    }

    /// Sets [`ServeConfig::max_connections`] (at least 1).
    #[must_use]
    pub fn with_max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// Sets [`ServeConfig::shutdown_timeout`].
    #[must_use]
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }
}

/// Adds the request-level budgets of `config` to `router` (URI and header sizes, request timeout, `oslc:Error`
/// bodies for 404 and 405): what [`serve`] does to the router it is given, for servers that run their own accept
/// loop. Give it the whole application: routes merged into the result later are outside the budgets.
pub fn with_request_limits(router: Router, config: ServeConfig) -> Router {
    // Around the router as a whole, as `serve` puts them: a layer on each route would be one more service axum
    // clones for each request.
    Router::new().fallback_service(tower::Layer::layer(&Limits(config), router))
}

/// The request-level budgets of a [`ServeConfig`] as a layer.
#[derive(Debug, Clone, Copy)]
struct Limits(ServeConfig);

impl<S> tower::Layer<S> for Limits {
    type Service = Limited<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Limited { config: self.0, inner }
    }
}

/// The service of [`Limits`].
#[derive(Debug, Clone)]
struct Limited<S> {
    config: ServeConfig,
    inner: S,
}

impl<S> tower::Service<Request> for Limited<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<std::future::Ready<Result<Response, Infallible>>, Budgeted<S::Future>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let config = self.config;
        let uri_bytes = request.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
        if uri_bytes > config.max_uri_bytes {
            let refusal = ErrorResponse::new(Error::UriTooLong { limit: config.max_uri_bytes }, request.headers());
            return Either::Left(std::future::ready(Ok(refusal.into_response())));
        }
        let header_bytes: usize = request.headers().iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
        if header_bytes > config.max_header_bytes {
            // The negotiated syntax would come from the oversized headers themselves: answer in the default one.
            let refusal =
                ErrorResponse::new(Error::HeadersTooLarge { limit: config.max_header_bytes }, &http::HeaderMap::new());
            return Either::Left(std::future::ready(Ok(refusal.into_response())));
        }
        // Errors answered below are negotiated from `Accept` alone (see `ErrorResponse::new`): only it is kept.
        let asked = Asked {
            accept: request.headers().get(header::ACCEPT).cloned(),
            method: request.method().clone(),
            uri: request.uri().clone(),
            timeout: config.request_timeout,
        };
        Either::Right(Budgeted {
            inner: tokio::time::timeout(config.request_timeout, self.inner.call(request)),
            asked: Some(asked),
        })
    }
}

/// What an answer of [`Limited`] is made from when the route does not answer in time, or answers without a body.
struct Asked {
    accept: Option<http::HeaderValue>,
    method: http::Method,
    uri: http::Uri,
    timeout: Duration,
}

impl Asked {
    fn headers(&self) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        if let Some(accept) = &self.accept {
            headers.insert(header::ACCEPT, accept.clone());
        }
        headers
    }

    /// The route's answer, or the `oslc:Error` OSLC clients expect where axum answers an unknown route or method
    /// with an empty body.
    fn finish(self, answered: Result<Response, tokio::time::error::Elapsed>) -> Response {
        let response = match answered {
            Ok(response) => response,
            Err(_) => {
                let seconds = self.timeout.as_secs();
                return ErrorResponse::new(Error::RequestTimeout { seconds }, &self.headers()).into_response();
            }
        };
        let bare = !response.headers().contains_key(header::CONTENT_TYPE);
        match response.status() {
            StatusCode::NOT_FOUND if bare => {
                ErrorResponse::new(Error::not_found(self.uri.path()), &self.headers()).into_response()
            }
            StatusCode::METHOD_NOT_ALLOWED if bare => {
                let allow = response.headers().get(header::ALLOW).cloned();
                let error =
                    Error::MethodNotAllowed { method: self.method.to_string(), resource: self.uri.path().to_owned() };
                let mut answer = ErrorResponse::new(error, &self.headers()).into_response();
                if let Some(allow) = allow {
                    answer.headers_mut().insert(header::ALLOW, allow);
                }
                answer
            }
            _ => response,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Limited`].
    struct Budgeted<F> {
        #[pin]
        inner: tokio::time::Timeout<F>,
        asked: Option<Asked>,
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for Budgeted<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        let this = self.project();
        let std::task::Poll::Ready(answered) = this.inner.poll(cx) else {
            return std::task::Poll::Pending;
        };
        let answered = answered.map(|Ok(response)| response);
        match this.asked.take() {
            Some(asked) => std::task::Poll::Ready(Ok(asked.finish(answered))),
            // Polled again after it answered: a contract violation; answer nothing rather than panic.
            None => std::task::Poll::Ready(Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response())),
        }
    }
}

/// What [`serve`] serves: a router, and optionally a [`DocumentCache`] in front of it. A [`Router`] converts into
/// one without a cache.
#[derive(Debug, Clone)]
pub struct Served {
    router: Router,
    cache: Option<DocumentCache>,
}

impl Served {
    /// `router`, with no cache.
    #[must_use]
    pub fn new(router: Router) -> Self {
        Self { router, cache: None }
    }

    /// Answers repeat requests for `cache`'s paths from the router's earlier answers (see [`DocumentCache`]).
    #[must_use]
    pub fn with_document_cache(mut self, cache: DocumentCache) -> Self {
        self.cache = Some(cache);
        self
    }
}

impl From<Router> for Served {
    fn from(router: Router) -> Self {
        Self::new(router)
    }
}

/// One connection's service: the cache, then the router within the request budgets.
#[derive(Clone)]
struct Connection<A> {
    app: A,
    cache: Option<DocumentCache>,
    max_header_bytes: usize,
}

/// What a connection sends: a stored answer's bytes, or the router's answer.
type Answer = http::Response<http_body_util::Either<http_body_util::Full<axum::body::Bytes>, Body>>;

type Stored = Pin<Box<dyn Future<Output = Result<Answer, Infallible>> + Send>>;

type Routed<A> = futures_util::future::MapOk<tower::util::Oneshot<A, Request>, fn(Response) -> Answer>;

fn from_router(response: Response) -> Answer {
    response.map(http_body_util::Either::Right)
}

impl<A> hyper::service::Service<Request<hyper::body::Incoming>> for Connection<A>
where
    A: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    A::Future: Send + 'static,
{
    type Response = Answer;
    type Error = Infallible;
    type Future = Either<std::future::Ready<Result<Answer, Infallible>>, Either<Routed<A>, Stored>>;

    fn call(&self, request: Request<hyper::body::Incoming>) -> Self::Future {
        let lookup = self.cache.as_ref().map_or(Lookup::Pass, |cache| cache.lookup(&request, self.max_header_bytes));
        let store = match lookup {
            Lookup::Hit(response) => {
                return Either::Left(std::future::ready(Ok(response.map(http_body_util::Either::Left))));
            }
            Lookup::Pass => None,
            Lookup::Miss(store) => Some(store),
        };
        // Boxed only for the router: a hit never reads the request's body.
        let request = request.map(Body::new);
        match store {
            None => Either::Right(Either::Left(futures_util::TryFutureExt::map_ok(
                self.app.clone().oneshot(request),
                from_router as fn(Response) -> Answer,
            ))),
            Some(store) => {
                let headers = request.headers().clone();
                let routed = self.app.clone().oneshot(request);
                Either::Right(Either::Right(Box::pin(async move {
                    let Ok(response) = routed.await;
                    Ok(from_router(DocumentCache::store(store, &headers, response).await))
                })))
            }
        }
    }
}

/// Serves `router` on `listener` within `config` until `shutdown` completes, then stops accepting, lets the
/// requests in flight finish for up to [`ServeConfig::shutdown_timeout`], and closes what is left.
///
/// HTTP/1.1 and HTTP/2 (prior knowledge) are served. A client that does not send a request head within
/// [`ServeConfig::header_read_timeout`] (a slow or idle connection) is disconnected; beyond
/// [`ServeConfig::max_connections`] new connections wait in the listen backlog until one closes. `router` is a
/// [`Router`], or a [`Served`] to put a [`DocumentCache`] in front of it.
///
/// ```no_run
/// use oslc_core::server::{ServeConfig, serve};
///
/// # async fn run(router: axum::Router) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// serve(listener, router, ServeConfig::default(), async {
///     let _ = tokio::signal::ctrl_c().await;
/// })
/// .await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// None once listening: failures to accept (such as running out of file descriptors) are retried.
pub async fn serve(
    listener: TcpListener,
    router: impl Into<Served>,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let Served { router, cache } = router.into();
    // Around the whole router rather than each route (as `with_request_limits` puts it): axum clones a route's
    // stack of layers for every request, and this one has no need to be in it.
    let app = tower::Layer::layer(&Limits(config), router);
    let connections = Arc::new(Semaphore::new(config.max_connections));
    let graceful = GracefulShutdown::new();
    // The version is told from the connection's first bytes here rather than by hyper-util's `auto` builder,
    // which reads every HTTP/1 request through its own rewinding buffer.
    let mut http1 = http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        // hyper's own limit (it answers 431 itself beyond it) sits above ours, which answers with an oslc:Error.
        .max_buf_size((config.max_header_bytes + config.max_uri_bytes).saturating_mul(2).max(8192));
    let mut http2 = http2::Builder::new(TokioExecutor::new());
    http2
        .timer(TokioTimer::new())
        .keep_alive_interval(config.header_read_timeout)
        .keep_alive_timeout(config.header_read_timeout)
        .max_header_list_size(u32::try_from(config.max_header_bytes.saturating_mul(2)).unwrap_or(u32::MAX));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // EMFILE and the like: give closing connections a moment rather than spin.
                    tracing::debug!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = Connection { app: app.clone(), cache: cache.clone(), max_header_bytes: config.max_header_bytes };
        let (http1, http2) = (http1.clone(), http2.clone());
        let watcher = graceful.watcher();
        let first_bytes = config.header_read_timeout;
        tokio::spawn(async move {
            // hyper's header timeout starts once it reads a request; a connection that sends nothing at all (or
            // not enough to tell its version) is cut here.
            let served = match tokio::time::timeout(first_bytes, version(&stream)).await {
                Ok(Ok(Some(Version::Http1))) => {
                    watcher.watch(http1.serve_connection(TokioIo::new(stream), service)).await
                }
                Ok(Ok(Some(Version::Http2))) => {
                    watcher.watch(http2.serve_connection(TokioIo::new(stream), service)).await
                }
                _ => Ok(()),
            };
            if let Err(error) = served {
                tracing::debug!(%error, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(config.shutdown_timeout) => {
            tracing::warn!(timeout_s = config.shutdown_timeout.as_secs(), "requests still in flight at the shutdown deadline; closing their connections");
        }
    }
    Ok(())
}

/// The protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    Http1,
    /// HTTP/2 with prior knowledge: the connection starts with the client preface (RFC 9113 § 3.4).
    Http2,
}

/// What the client preface of HTTP/2 starts with.
const HTTP2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The version `stream` speaks, from its first bytes (left unread), or `None` when it closes before saying.
async fn version(stream: &tokio::net::TcpStream) -> std::io::Result<Option<Version>> {
    let mut first = [0u8; HTTP2_PREFACE.len()];
    loop {
        let read = stream.peek(&mut first).await?;
        if read == 0 {
            return Ok(None);
        }
        if first[..read] != HTTP2_PREFACE[..read] {
            return Ok(Some(Version::Http1));
        }
        if read == HTTP2_PREFACE.len() {
            return Ok(Some(Version::Http2));
        }
        // A part of the preface: `peek` would answer at once with the same bytes, so wait a little for the rest
        // (the caller's deadline bounds how long).
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
