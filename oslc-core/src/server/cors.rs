//! CORS that leaves plain `OPTIONS` requests to the routes.
//!
//! tower-http's `Cors` answers every `OPTIONS` request as a preflight, which would hide the `Allow`, `Accept-Post`
//! and `Link` headers LDP and OSLC clients read from `OPTIONS`. Only a request carrying
//! `Access-Control-Request-Method` is a preflight (Fetch standard §3.2.2), so only those go to `Cors`.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use futures_util::future::Either;
use http::{Method, Request, header::ACCESS_CONTROL_REQUEST_METHOD};
use tower::{Layer, Service};
use tower_http::cors::{Cors, CorsLayer, ResponseFuture};

/// CORS for a whole application, preflights only going to tower-http's `Cors`: apply it outermost (over the auth
/// layer, so 401 answers carry CORS headers too, and over routes merged beside the server kit's) and build the kit
/// with [`super::ServerBuilder::with_cors`]`(None)`.
///
/// ```
/// use axum::{Router, routing::get};
/// use oslc_core::server::OslcCorsLayer;
///
/// let app: Router = Router::new().route("/vocab", get(|| async { "…" })).layer(OslcCorsLayer::default());
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
        PreflightCors { cors: self.0.layer(inner) }
    }
}

/// The service of [`OslcCorsLayer`]: tower-http's `Cors` around the routes, passed by for plain `OPTIONS`.
#[derive(Clone)]
pub struct PreflightCors<S> {
    cors: Cors<S>,
}

impl<S> Service<Request<Body>> for PreflightCors<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<ResponseFuture<S::Future>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.cors.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let cors = request.method() != Method::OPTIONS || request.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
        if cors { Either::Left(self.cors.call(request)) } else { Either::Right(self.cors.get_mut().call(request)) }
    }
}
