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

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};

/// The labels of a request count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// The labels of a latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
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
    pub fn layer<S: Clone + Send + Sync + 'static>(&self, router: Router<S>) -> Router<S> {
        let metrics = self.clone();
        router.layer(middleware::from_fn(move |request: Request, next: Next| {
            let metrics = metrics.clone();
            async move {
                let method = request.method().as_str().to_owned();
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
                let started = Instant::now();
                let response = next.run(request).await;
                let status = response.status().as_u16();
                metrics
                    .0
                    .requests
                    .get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status })
                    .inc();
                metrics
                    .0
                    .latency
                    .get_or_create(&RouteLabels { method, route })
                    .observe(started.elapsed().as_secs_f64());
                response
            }
        }))
    }

    /// The request count and latency histogram of `method` on `route` answered with `status`, to count requests
    /// answered outside the layer (by the [`super::DocumentCache`]) without looking them up each time.
    pub(super) fn handles(&self, method: &http::Method, route: &str, status: u16) -> (Counter, Histogram) {
        let method = method.as_str().to_owned();
        let route = route.to_owned();
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
