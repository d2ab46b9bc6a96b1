//! CORS that leaves plain `OPTIONS` requests to the routes, and answers requests that are not CORS requests
//! without CORS headers.
//!
//! tower-http's `Cors` answers every `OPTIONS` request as a preflight, which would hide the `Allow`, `Accept-Post`
//! and `Link` headers LDP and OSLC clients read from `OPTIONS`. Only a request carrying
//! `Access-Control-Request-Method` is a preflight (Fetch standard §3.2.2), so only those go to `Cors` as such; a
//! plain `OPTIONS` with `Origin` (a browser's actual `OPTIONS` request, after its preflight) is the route's, with
//! the CORS headers `Cors` gives an actual request, so the page can read `Allow` and `Accept-Post`.
//!
//! A request without `Origin` is not a CORS request (Fetch standard §3.2.2): OSLC clients on servers, curl, and
//! browsers navigating or reading same-origin never send it, and CORS response headers mean nothing to them. Such a
//! request gets none, so its answer carries three header lines fewer, which every client would parse (a bare hyper
//! server answering the service provider's 7.5 KB served about 7% more requests a second without them). Every answer
//! then says `Vary: Origin`, as the Fetch standard asks of a server whose CORS headers depend on `Origin` ("CORS
//! protocol and HTTP caches"), so a cache never hands a browser's cross-origin request an answer stored without
//! them.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use futures_util::future::Either;
use http::header::{ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY};
use http::{HeaderMap, HeaderValue, Method, Request};
use tower::{Layer, Service};
use tower_http::cors::{Cors, CorsLayer, ResponseFuture};

/// CORS for a whole application, preflights only going to tower-http's `Cors`: apply it outermost (over the auth
/// layer, so 401 answers carry CORS headers too, and over routes merged beside the server kit's) and build the kit
/// with [`super::ServerBuilder::with_cors`]`(None)`.
///
/// A request with `Origin` gets tower-http's CORS headers, a plain `OPTIONS` too (on the route's own answer); a
/// preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered by tower-http; a request without `Origin`
/// gets no CORS headers. Every answer but a preflight's varies on `Origin`.
///
/// ```
/// use axum::{Router, routing::get};
/// use oslc_core::server::OslcCorsLayer;
///
/// let app: Router = Router::new().route("/vocab", get(|| async { "…" })).layer(OslcCorsLayer::default());
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use tower::ServiceExt as _;
/// let get = |origin: Option<&str>| {
///     let request = http::Request::get("/vocab");
///     let request = match origin { Some(origin) => request.header("origin", origin), None => request };
///     app.clone().oneshot(request.body(axum::body::Body::empty()).unwrap())
/// };
/// let cross = get(Some("https://other-tool.example")).await.unwrap();
/// assert_eq!(cross.headers()["access-control-allow-origin"], "*");
/// let plain = get(None).await.unwrap();
/// assert!(plain.headers().get("access-control-allow-origin").is_none());
/// assert_eq!(plain.headers()["vary"], "Origin");
/// # });
/// ```
#[derive(Clone)]
pub struct OslcCorsLayer(Arc<CorsLayer>);

impl OslcCorsLayer {
    /// The layer with tower-http's `cors` settings for preflights and responses.
    #[must_use]
    pub fn new(cors: CorsLayer) -> Self {
        Self(Arc::new(cors))
    }
}

impl Default for OslcCorsLayer {
    /// [`super::default_cors`].
    fn default() -> Self {
        Self::new(super::default_cors())
    }
}

impl std::fmt::Debug for OslcCorsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("OslcCorsLayer").finish_non_exhaustive()
    }
}

impl<S> Layer<S> for OslcCorsLayer {
    type Service = PreflightCors<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PreflightCors { cors: self.0.layer(inner), layer: self.0.clone() }
    }
}

/// The service of [`OslcCorsLayer`]: tower-http's `Cors` around the routes for CORS requests and preflights, passed
/// by for requests without `Origin`; a plain `OPTIONS` with `Origin` is the route's, with the CORS headers of an
/// actual request.
#[derive(Clone)]
pub struct PreflightCors<S> {
    cors: Cors<S>,
    layer: Arc<CorsLayer>,
}

/// The answer of tower-http's `Cors` around a service that answers nothing: the CORS headers of a request.
type Probe = Pin<Box<ResponseFuture<std::future::Ready<Result<Response, Infallible>>>>>;

impl<S> Service<Request<Body>> for PreflightCors<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = CorsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.cors.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let headers = request.headers();
        let cross_origin = headers.contains_key(ORIGIN);
        if request.method() != Method::OPTIONS {
            let inner = if cross_origin {
                Either::Left(self.cors.call(request))
            } else {
                Either::Right(self.cors.get_mut().call(request))
            };
            return CorsFuture { inner, vary: true, probe: None, probed: None };
        }
        // A preflight is answered by `Cors`, with its own `Vary`.
        if headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD) {
            return CorsFuture { inner: Either::Left(self.cors.call(request)), vary: false, probe: None, probed: None };
        }
        // A plain `OPTIONS` is the route's: `Cors` would take it for a preflight, so the CORS headers of an actual
        // request with the same headers are asked of it apart, around a service that answers nothing.
        let probe = cross_origin.then(|| {
            let mut asked = Request::new(Body::empty());
            *asked.headers_mut() = request.headers().clone();
            let mut nothing = self
                .layer
                .layer(tower::service_fn(|_: Request<Body>| std::future::ready(Ok(Response::new(Body::empty())))));
            Box::pin(nothing.call(asked))
        });
        CorsFuture { inner: Either::Right(self.cors.get_mut().call(request)), vary: true, probe, probed: None }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`PreflightCors`].
    pub struct CorsFuture<F> {
        #[pin]
        inner: Either<ResponseFuture<F>, F>,
        vary: bool,
        probe: Option<Probe>,
        probed: Option<HeaderMap>,
    }
}

impl<F> Future for CorsFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some(probe) = this.probe {
            let Poll::Ready(Ok(answer)) = probe.as_mut().poll(cx) else {
                return Poll::Pending;
            };
            *this.probed = Some(answer.into_parts().0.headers);
            *this.probe = None;
        }
        let Poll::Ready(Ok(mut response)) = this.inner.poll(cx) else {
            return Poll::Pending;
        };
        if let Some(probed) = this.probed.take() {
            let headers = response.headers_mut();
            for name in probed.keys() {
                if *name != VARY {
                    headers.remove(name);
                }
                for value in probed.get_all(name) {
                    headers.append(name.clone(), value.clone());
                }
            }
        }
        if *this.vary {
            vary_on_origin(response.headers_mut());
        }
        Poll::Ready(Ok(response))
    }
}

/// Adds `Origin` to the answer's `Vary`, folding its `Vary` lines into one (the kit's answers say `Vary: Accept`;
/// tower-http's CORS adds a line of its own), unless it varies on `Origin` or on everything already.
fn vary_on_origin(headers: &mut HeaderMap) {
    let covers_origin = |value: &HeaderValue| {
        value
            .to_str()
            .map_or(true, |v| v.split(',').any(|n| n.trim() == "*" || n.trim().eq_ignore_ascii_case("origin")))
    };
    if headers.get_all(VARY).iter().any(covers_origin) {
        return;
    }
    let mut values = headers.get_all(VARY).iter();
    let merged = match (values.next(), values.next()) {
        (None, _) => HeaderValue::from_static("Origin"),
        (Some(one), None) if one.as_bytes() == b"Accept" => HeaderValue::from_static("Accept, Origin"),
        (Some(one), None) if one.as_bytes() == b"Accept, Prefer" => HeaderValue::from_static("Accept, Prefer, Origin"),
        _ => {
            // Field lines of one name combine into one, separated by commas (RFC 9110 §5.3).
            let mut bytes = Vec::new();
            for value in headers.get_all(VARY) {
                bytes.extend_from_slice(value.as_bytes());
                bytes.extend_from_slice(b", ");
            }
            bytes.extend_from_slice(b"Origin");
            HeaderValue::from_bytes(&bytes).unwrap_or_else(|_| HeaderValue::from_static("Origin"))
        }
    };
    headers.insert(VARY, merged);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varied(values: &[&'static str]) -> Vec<String> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(VARY, HeaderValue::from_static(value));
        }
        vary_on_origin(&mut headers);
        headers.get_all(VARY).iter().map(|v| v.to_str().unwrap_or_default().to_owned()).collect()
    }

    #[test]
    fn origin_joins_the_one_vary_line_or_is_added_once() {
        assert_eq!(varied(&[]), ["Origin"]);
        assert_eq!(varied(&["Accept"]), ["Accept, Origin"]);
        assert_eq!(varied(&["Accept, Prefer"]), ["Accept, Prefer, Origin"]);
        assert_eq!(varied(&["Accept-Encoding"]), ["Accept-Encoding, Origin"]);
        assert_eq!(
            varied(&["Accept", "access-control-request-headers"]),
            ["Accept, access-control-request-headers, Origin"]
        );
        // Already varying on it, or on everything: unchanged.
        assert_eq!(varied(&["accept, ORIGIN"]), ["accept, ORIGIN"]);
        assert_eq!(varied(&["Accept", "origin"]), ["Accept", "origin"]);
        assert_eq!(varied(&["*"]), ["*"]);
    }
}
