//! Metrics in the Prometheus text exposition (OpenMetrics) at `/metrics`: HTTP requests by method, route and
//! status with latency histograms, from the layer [`Metrics::layer`], and whatever the adapter registers beside them
//! (event log head, relay lag, change source state).
//!
//! ```
//! use oslc_core::server::Metrics;
//! use prometheus_client::metrics::gauge::Gauge;
//!
//! let metrics = Metrics::new();
//! let head = Gauge::<i64>::default();
//! metrics.register("oslc_events_log_head", "The order of the newest event in the log", head.clone());
//! head.set(42);
//! let text = metrics.render();
//! assert!(text.contains("oslc_events_log_head 42"));
//! let app: axum::Router = metrics.layer(axum::Router::new()).merge(metrics.routes());
//! # let _ = app;
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::Method;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};

/// A label value, made without copying text for the usual methods and routes (requests are counted on every
/// request).
#[derive(Debug, Clone)]
enum Label {
    Static(&'static str),
    /// The route template axum matched (an `Arc<str>` inside).
    Route(MatchedPath),
    Owned(Arc<str>),
}

impl Label {
    fn as_str(&self) -> &str {
        match self {
            Self::Static(s) => s,
            Self::Route(route) => route.as_str(),
            Self::Owned(s) => s,
        }
    }

    fn method(method: &Method) -> Self {
        const KNOWN: [(Method, &str); 7] = [
            (Method::GET, "GET"),
            (Method::HEAD, "HEAD"),
            (Method::POST, "POST"),
            (Method::PUT, "PUT"),
            (Method::DELETE, "DELETE"),
            (Method::OPTIONS, "OPTIONS"),
            (Method::PATCH, "PATCH"),
        ];
        KNOWN
            .iter()
            .find(|(known, _)| known == method)
            .map_or_else(|| Self::Owned(Arc::from(method.as_str())), |(_, name)| Self::Static(name))
    }
}

impl PartialEq for Label {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Label {}

impl std::hash::Hash for Label {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Label {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        self.as_str().encode(encoder)
    }
}

/// The labels of a request count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: Label,
    route: Label,
    status: u16,
}

/// The labels of a latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: Label,
    route: Label,
}

struct Inner {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
}

/// A registry of metrics, shared by the HTTP layer and the adapter's own; cheap to clone.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with the HTTP metrics `http_requests_total{method,route,status}` and
    /// `http_request_duration_seconds{method,route}` (0.25 ms to ~8 s).
    #[must_use]
    pub fn new() -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
        });
        let mut registry = Registry::default();
        registry.register("http_requests", "HTTP requests answered, by route and status", requests.clone());
        registry.register("http_request_duration_seconds", "Time to answer an HTTP request", latency.clone());
        Self(Arc::new(Inner { registry: Mutex::new(registry), requests, latency }))
    }

    /// Registers `metric` as `name` (counters get `_total` appended, as OpenMetrics names them).
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.0.registry.lock().unwrap_or_else(PoisonError::into_inner).register(name, help, metric);
    }

    /// Every metric in the text exposition.
    #[must_use]
    pub fn render(&self) -> String {
        let mut text = String::new();
        let registry = self.0.registry.lock().unwrap_or_else(PoisonError::into_inner);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
        text
    }

    /// Counts and times every request to `router`'s routes (by their route template, so ids do not make series).
    /// The same as `router.layer(metrics.clone())`: `Metrics` is a [`tower::Layer`].
    pub fn layer<S: Clone + Send + Sync + 'static>(&self, router: Router<S>) -> Router<S> {
        router.layer(self.clone())
    }

    fn record(&self, method: Label, route: Label, status: u16, started: Instant) {
        let requests = RequestLabels { method: method.clone(), route: route.clone(), status };
        self.0.requests.get_or_create(&requests).inc();
        self.0.latency.get_or_create(&RouteLabels { method, route }).observe(started.elapsed().as_secs_f64());
    }

    /// The request count and latency histogram of `method` on `route` answered with `status`, to count requests
    /// answered outside the layer (by the [`super::DocumentCache`]) without looking them up each time.
    pub(super) fn handles(&self, method: &Method, route: &str, status: u16) -> (Counter, Histogram) {
        let (method, route) = (Label::method(method), Label::Owned(Arc::from(route)));
        let count = self.0.requests.get_or_create_owned(&RequestLabels {
            method: method.clone(),
            route: route.clone(),
            status,
        });
        let latency = self.0.latency.get_or_create_owned(&RouteLabels { method, route });
        (count, latency)
    }

    /// `GET /metrics`, unauthenticated like `/healthz` (put it outside an auth layer, or inside one to protect it).
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let metrics = self.clone();
        Router::new().route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
                        metrics.render(),
                    )
                        .into_response()
                }
            }),
        )
    }
}

impl<S> tower::Layer<S> for Metrics {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService { metrics: self.clone(), inner }
    }
}

/// The service of the [`Metrics`] layer: counts and times each request by method, route template and status.
#[derive(Debug, Clone)]
pub struct MetricsService<S> {
    metrics: Metrics,
    inner: S,
}

impl<S> tower::Service<Request> for MetricsService<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = MetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let method = Label::method(request.method());
        let route = request.extensions().get::<MatchedPath>().cloned().map_or(Label::Static("unmatched"), Label::Route);
        let started = Instant::now();
        MetricsFuture { inner: self.inner.call(request), counted: Some((self.metrics.clone(), method, route)), started }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`MetricsService`].
    pub struct MetricsFuture<F> {
        #[pin]
        inner: F,
        counted: Option<(Metrics, Label, Label)>,
        started: Instant,
    }
}

impl<F> std::fmt::Debug for MetricsFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsFuture").finish_non_exhaustive()
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for MetricsFuture<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Poll::Ready(answered) = this.inner.poll(cx) else {
            return Poll::Pending;
        };
        let Ok(response) = answered;
        if let Some((metrics, method, route)) = this.counted.take() {
            metrics.record(method, route, response.status().as_u16(), *this.started);
        }
        Poll::Ready(Ok(response))
    }
}
