//! `OSLC-Core-Version` on requests (OSLC Core 3.0 § Version Compatibility): `1.0` is refused with 400; `2.0` gets
//! what OSLC 2.0 clients read (the header answered `2.0`, RDF/XML whenever the request's `Accept` allows it); none
//! or `3.0` gets 3.0.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use http::HeaderValue;
use http::header::ACCEPT;

use super::OSLC_CORE_VERSION;
use super::response::ErrorResponse;
use crate::Error;
use crate::rdf::{RdfFormat, accepts};

/// The layer: checks the requested version and adapts request and response to it. It is part of the kit's
/// [`KitLayer`](super::KitLayer).
#[derive(Debug, Clone, Copy, Default)]
pub struct CoreVersionLayer;

impl<S> tower::Layer<S> for CoreVersionLayer {
    type Service = CoreVersion<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CoreVersion { inner }
    }
}

/// The service of [`CoreVersionLayer`]: a request without the header (or with `3.0`) goes straight on.
#[derive(Debug, Clone)]
pub struct CoreVersion<S> {
    inner: S,
}

impl<S> tower::Service<Request> for CoreVersion<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<std::future::Ready<Result<Response, Infallible>>, Versioned<S::Future>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let version = request.headers().get(&OSLC_CORE_VERSION).and_then(|v| v.to_str().ok()).map(str::trim);
        let oslc2 = match version {
            Some("1.0") => {
                let refusal = ErrorResponse::new(
                    Error::bad_request("OSLC-Core-Version 1.0 is not supported: this server speaks OSLC 3.0 (and 2.0)"),
                    request.headers(),
                );
                return Either::Left(std::future::ready(Ok(refusal.into_response())));
            }
            Some("2.0") => {
                let accept = request.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
                if accepts(accept, RdfFormat::RdfXml) {
                    request.headers_mut().insert(ACCEPT, HeaderValue::from_static("application/rdf+xml"));
                }
                true
            }
            _ => false,
        };
        Either::Right(Versioned { inner: self.inner.call(request), oslc2 })
    }
}

pin_project_lite::pin_project! {
    /// The answer of the route, with `OSLC-Core-Version: 2.0` for a 2.0 client (the future of [`CoreVersion`]).
    pub struct Versioned<F> {
        #[pin]
        inner: F,
        oslc2: bool,
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for Versioned<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Poll::Ready(answered) = this.inner.poll(cx) else {
            return Poll::Pending;
        };
        let Ok(mut response) = answered;
        if *this.oslc2 && response.headers().contains_key(&OSLC_CORE_VERSION) {
            response.headers_mut().insert(OSLC_CORE_VERSION, HeaderValue::from_static("2.0"));
        }
        Poll::Ready(Ok(response))
    }
}
