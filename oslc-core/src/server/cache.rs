//! The document cache [`serve`](super::serve) puts in front of the router.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

use super::Metrics;

const MAX_VARIANTS: usize = 8;

/// Request headers that make a request one the cache does not answer.
const UNCACHEABLE: [HeaderName; 10] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_UNMODIFIED_SINCE,
    header::IF_RANGE,
    header::RANGE,
    header::CACHE_CONTROL,
    header::PRAGMA,
];

/// A shared HTTP cache (RFC 9111), inside [`super::serve`] and in front of the router, for the documents that never
/// change: the catalog, service providers, shapes, dialog descriptors, vocabularies.
///
/// Such a document is serialized once already; what a request for it still costs is the stack of layers an adapter
/// puts around its routes (request budgets, metrics, authentication, CORS, `OSLC-Core-Version`), which axum
/// clones for every request and which costs about twice what the document's own answer does. The cache answers a
/// plain repeat request from a copy of the router's own earlier answer to the same request, which went through
/// every layer.
///
/// What is stored: the first `200` answer to a `GET` of one of the cache's paths without a query, when the answer
/// is whole (an exact length, at most [`DocumentCache::MAX_BODY_BYTES`]), sets no cookie, says neither `no-store`,
/// `private` nor `no-cache`, and does not vary on everything (`Vary: *`). What reuses it (§ 4.1): a `GET` of the same path whose
/// `Accept` and every header the answer's `Vary` names are byte for byte the stored request's. A request that
/// carries credentials (`Authorization`, `Cookie`: § 3.5), a condition (`If-…`), `Range`, `Cache-Control`,
/// `Pragma` or `OSLC-Core-Version`, or headers beyond the server's budget, always goes to the router, and so does
/// every request the cache has no answer for. At most [`DocumentCache::MAX_VARIANTS`] answers are kept per path,
/// so headers an attacker varies cannot grow it.
///
/// So an authentication layer that protects reads (its `401` is never stored), a CORS layer that answers each
/// `Origin` on its own (it says `Vary: Origin`), or a compression layer (`Vary: Accept-Encoding`) keep working
/// unchanged. Layers that make each answer unique (a request id header) must not be put around a cached path.
/// Answers from the cache are counted by [`Metrics`] like those of the router, under the path as route.
///
/// Cheap to clone.
///
/// ```
/// use std::sync::Arc;
/// use oslc_core::server::{Collection, DocumentCache, Metrics, Served, Server, ServiceProviderConfig};
/// use oslc_core::InMemoryProvider;
///
/// let built = Server::builder("http://localhost:8080")?
///     .with_service_provider(ServiceProviderConfig::new("1", "Toy project")
///         .with_collection(Collection::new("changeRequests", Arc::new(InMemoryProvider::new()))))
///     .build::<()>()?;
/// let metrics = Metrics::new();
/// // Every document the kit serves that never changes: the catalog, the service provider, the shape, …
/// let cache = DocumentCache::new(built.documents.iter().cloned()).with_metrics(&metrics);
/// assert!(cache.contains("/serviceProviders/catalog"));
/// assert!(!cache.contains("/serviceProviders/1/changeRequests"));
/// let app = Served::new(metrics.layer(built.router)).with_document_cache(cache);
/// # let _ = app;
/// Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct DocumentCache {
    paths: Arc<foldhash::HashMap<Box<str>, Path>>,
    metrics: Option<Metrics>,
}

impl std::fmt::Debug for DocumentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentCache").field("paths", &self.paths.len()).finish_non_exhaustive()
    }
}

/// One path's stored answers, filled once each.
#[derive(Default)]
struct Path {
    variants: [OnceLock<Variant>; MAX_VARIANTS],
    /// The path's request count and latency for `GET` and `200`, once metrics are resolved.
    counted: OnceLock<(Counter, Histogram)>,
}

/// A stored answer and what a request must match to reuse it.
struct Variant {
    /// The request's `Accept` and each header the answer varies on, in order.
    keys: Vec<(HeaderName, Option<HeaderValue>)>,
    headers: HeaderMap,
    body: Bytes,
}

/// What the cache makes of a request.
pub(super) enum Lookup {
    /// Answered, with the stored bytes as they are (not boxed as the router's bodies are).
    Hit(http::Response<http_body_util::Full<Bytes>>),
    /// One the cache could keep the answer to: the router's answer goes to [`DocumentCache::store`].
    Miss(Store),
    /// The router answers, and the answer is not kept.
    Pass,
}

/// Where the router's answer to a missed request may be kept.
pub(super) struct Store {
    cache: DocumentCache,
    path: Box<str>,
    accept: Option<HeaderValue>,
}

impl DocumentCache {
    /// The most answers kept for one path (one per distinct `Accept` and varied headers).
    pub const MAX_VARIANTS: usize = MAX_VARIANTS;

    /// The largest body the cache keeps.
    pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

    /// A cache of the answers at `paths` (router paths, such as [`super::Built::documents`]). Give only paths
    /// whose answer to the same request never changes.
    #[must_use]
    pub fn new(paths: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let paths = paths.into_iter().map(|p| (p.into().into_boxed_str(), Path::default())).collect();
        Self { paths: Arc::new(paths), metrics: None }
    }

    /// Counts the answers given from the cache in `metrics` (`http_requests_total` and
    /// `http_request_duration_seconds`, the path as route), as [`Metrics::layer`] counts the router's.
    #[must_use]
    pub fn with_metrics(mut self, metrics: &Metrics) -> Self {
        self.metrics = Some(metrics.clone());
        self
    }

    /// Whether `path` is one of the cache's.
    #[must_use]
    pub fn contains(&self, path: &str) -> bool {
        self.paths.contains_key(path)
    }

    /// The stored answer to `request`, or whether the router's answer may be stored; `max_header_bytes` is the
    /// server's header budget (a request over it goes to the router, which refuses it).
    pub(super) fn lookup<B>(&self, request: &Request<B>, max_header_bytes: usize) -> Lookup {
        if request.method() != Method::GET || request.uri().query().is_some() {
            return Lookup::Pass;
        }
        let Some((path, entry)) = self.paths.get_key_value(request.uri().path()) else {
            return Lookup::Pass;
        };
        // Only once the request is one of the cache's: the others pay for no clock read.
        let started = Instant::now();
        let headers = request.headers();
        let mut bytes = 0;
        for (name, value) in headers {
            if UNCACHEABLE.contains(name) || name == super::OSLC_CORE_VERSION {
                return Lookup::Pass;
            }
            bytes += name.as_str().len() + value.len();
        }
        if bytes > max_header_bytes {
            return Lookup::Pass;
        }
        let accept = single(headers, &header::ACCEPT);
        if accept.is_err() {
            return Lookup::Pass;
        }
        let found = entry.variants.iter().map_while(OnceLock::get).find(|variant| {
            variant.keys.iter().all(|(name, value)| single(headers, name).is_ok_and(|v| v == value.as_ref()))
        });
        match found {
            Some(variant) => {
                let mut response = http::Response::new(http_body_util::Full::new(variant.body.clone()));
                *response.headers_mut() = variant.headers.clone();
                if let Some((count, latency)) = self.counted(path, entry) {
                    count.inc();
                    latency.observe(started.elapsed().as_secs_f64());
                }
                Lookup::Hit(response)
            }
            None if entry.variants.iter().all(|v| v.get().is_some()) => Lookup::Pass,
            None => {
                Lookup::Miss(Store { cache: self.clone(), path: path.clone(), accept: accept.ok().flatten().cloned() })
            }
        }
    }

    fn counted<'a>(&self, path: &str, entry: &'a Path) -> Option<&'a (Counter, Histogram)> {
        let metrics = self.metrics.as_ref()?;
        Some(entry.counted.get_or_init(|| metrics.handles(&Method::GET, path, StatusCode::OK.as_u16())))
    }

    /// Keeps `response` (the router's answer to the request `store` came from) if it may be kept, and gives it
    /// back to be sent either way.
    pub(super) async fn store(store: Store, request: &HeaderMap, response: Response) -> Response {
        let Some(keys) = storable(&store, request, &response) else {
            return response;
        };
        let (parts, body) = response.into_parts();
        // A whole body of a known length (checked by `storable`): collecting it reads what is already there.
        let body = match http_body_util::BodyExt::collect(body).await {
            Ok(collected) => collected.to_bytes(),
            Err(error) => {
                tracing::debug!(%error, "a cacheable answer's body failed");
                return Response::from_parts(parts, Body::empty());
            }
        };
        if let Some(entry) = store.cache.paths.get(&store.path)
            && let Some(slot) = entry.variants.iter().find(|slot| slot.get().is_none())
        {
            // A slot another request filled meanwhile is skipped: the answer is still sent.
            let _ = slot.set(Variant { keys, headers: parts.headers.clone(), body: body.clone() });
        }
        Response::from_parts(parts, Body::from(body))
    }
}

/// What a request must match to reuse `response` (`Accept` and each header named by `Vary`), or `None` when
/// `response` may not be kept.
fn storable(store: &Store, request: &HeaderMap, response: &Response) -> Option<Vec<(HeaderName, Option<HeaderValue>)>> {
    use axum::body::HttpBody as _;
    if response.status() != StatusCode::OK || response.headers().contains_key(header::SET_COOKIE) {
        return None;
    }
    let exact = response.body().size_hint().exact()?;
    if usize::try_from(exact).map_or(true, |n| n > DocumentCache::MAX_BODY_BYTES) {
        return None;
    }
    let directives = response.headers().get_all(header::CACHE_CONTROL).iter().filter_map(|v| v.to_str().ok());
    if directives.flat_map(|v| v.split(',')).any(|d| {
        let d = d.trim();
        ["no-store", "private", "no-cache"].iter().any(|n| d.eq_ignore_ascii_case(n) || d.starts_with(&format!("{n}=")))
    }) {
        return None;
    }
    let mut keys = vec![(header::ACCEPT, store.accept.clone())];
    for vary in response.headers().get_all(header::VARY) {
        for name in vary.to_str().ok()?.split(',') {
            let name = name.trim();
            if name == "*" {
                return None;
            }
            let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
            if !keys.iter().any(|(n, _)| *n == name) {
                keys.push((name.clone(), single(request, &name).ok()?.cloned()));
            }
        }
    }
    Some(keys)
}

/// The one value of `name` in `headers` (`Ok(None)` when absent), or `Err` when it appears more than once.
fn single<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Result<Option<&'a HeaderValue>, ()> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() { Err(()) } else { Ok(first) }
}
