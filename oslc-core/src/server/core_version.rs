//! `OSLC-Core-Version` on requests (OSLC Core 3.0 § Version Compatibility): `1.0` is refused with 400; `2.0` gets
//! what OSLC 2.0 clients read (the header answered `2.0`, RDF/XML whenever the request's `Accept` allows it); none
//! or `3.0` gets 3.0.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use http::header::ACCEPT;

use super::OSLC_CORE_VERSION;
use super::response::ErrorResponse;
use crate::Error;
use crate::rdf::{RdfFormat, accepts};

/// The middleware: checks the requested version and adapts request and response to it.
pub(super) async fn check(mut request: Request, next: Next) -> Response {
    let version = request.headers().get(&OSLC_CORE_VERSION).and_then(|v| v.to_str().ok()).map(str::trim);
    match version {
        Some("1.0") => ErrorResponse::new(
            Error::bad_request("OSLC-Core-Version 1.0 is not supported: this server speaks OSLC 3.0 (and 2.0)"),
            request.headers(),
        )
        .into_response(),
        Some("2.0") => {
            let accept = request.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
            if accepts(accept, RdfFormat::RdfXml) {
                request.headers_mut().insert(ACCEPT, HeaderValue::from_static("application/rdf+xml"));
            }
            let mut response = next.run(request).await;
            if response.headers().contains_key(&OSLC_CORE_VERSION) {
                response.headers_mut().insert(OSLC_CORE_VERSION, HeaderValue::from_static("2.0"));
            }
            response
        }
        _ => next.run(request).await,
    }
}
