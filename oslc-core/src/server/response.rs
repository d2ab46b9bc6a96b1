//! Turning graphs and errors into HTTP responses in the negotiated syntax.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, ETAG, VARY};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use oxrdf::{Graph, TripleRef};

use crate::rdf::{self, Prefixes, RdfFormat};
use crate::{ETag, Error, Resource};

/// `OSLC-Core-Version`, sent with every RDF response (OSLC Core 3.0 §4.2).
pub const OSLC_CORE_VERSION: HeaderName = HeaderName::from_static("oslc-core-version");

/// An [`Error`] as a response: its status and an `oslc:Error` body in the syntax the request accepts (Turtle when
/// it accepts none of ours, as for a 406).
#[derive(Debug)]
pub struct ErrorResponse {
    error: Error,
    accept: Option<String>,
}

impl ErrorResponse {
    /// The error, to be rendered for a request with this `Accept` header.
    #[must_use]
    pub fn new(error: Error, headers: &HeaderMap) -> Self {
        let accept = headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Self { error, accept }
    }
}

impl IntoResponse for ErrorResponse {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), error = %self.error, "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), error = %self.error, "request refused");
        }
        let format = rdf::negotiate(self.accept.as_deref()).unwrap_or(RdfFormat::Turtle);
        let mut response = rdf_response(status, &self.error.to_graph(), format, &Prefixes::new(), None);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// A response with `graph` serialized in `format` (declaring the `prefixes` it uses), `OSLC-Core-Version: 3.0`,
/// `Vary: Accept` and, if given, `ETag`: for adapters that serve RDF documents of their own.
pub fn rdf_response(
    status: StatusCode,
    graph: &Graph,
    format: RdfFormat,
    prefixes: &Prefixes,
    etag: Option<&ETag>,
) -> Response {
    let triples: Vec<TripleRef<'_>> = graph.iter().collect();
    body_response(status, rdf::serialize_triples(triples.iter().copied(), format, prefixes), format, etag)
}

/// The negotiated GET answer with `graph`: the syntax from the request's `Accept` (406 as an `oslc:Error`
/// otherwise), its [`ETag`], and 304 when the request's `If-None-Match` already names that ETag; for the documents
/// an adapter serves beside the kit's (a TRS, a report).
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use oslc_core::server::negotiated_response;
///
/// let graph = oslc_core::rdf::parse(b"<http://e.com/a> <http://purl.org/dc/terms/title> \"A\" .", oslc_core::rdf::RdfFormat::NTriples, "http://e.com/")?;
/// let mut headers = HeaderMap::new();
/// headers.insert(http::header::ACCEPT, "application/rdf+xml".parse()?);
/// let first = negotiated_response(&headers, &graph, &oslc_core::vocab::standard_prefixes());
/// assert_eq!(first.headers()["content-type"], "application/rdf+xml");
/// headers.insert(http::header::IF_NONE_MATCH, first.headers()["etag"].clone());
/// assert_eq!(negotiated_response(&headers, &graph, &oslc_core::vocab::standard_prefixes()).status(), StatusCode::NOT_MODIFIED);
/// Ok::<_, Box<dyn std::error::Error>>(())
/// ```
pub fn negotiated_response(headers: &HeaderMap, graph: &Graph, prefixes: &Prefixes) -> Response {
    let format = match rdf::negotiate(headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok())) {
        Ok(format) => format,
        Err(error) => return ErrorResponse::new(error, headers).into_response(),
    };
    let etag = ETag::of_graph(graph);
    if headers
        .get(http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| etag.matches_if_none_match(h))
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        insert_etag(response.headers_mut(), &etag);
        return response;
    }
    rdf_response(StatusCode::OK, graph, format, prefixes, Some(&etag))
}

/// [`rdf_response`] for a resource, written in its own deterministic order without building a graph.
pub fn resource_response(
    status: StatusCode,
    resource: &Resource,
    format: RdfFormat,
    prefixes: &Prefixes,
    etag: Option<&ETag>,
) -> Response {
    body_response(status, rdf::serialize_triples(resource.triples(), format, prefixes), format, etag)
}

fn body_response(status: StatusCode, body: crate::Result<Vec<u8>>, format: RdfFormat, etag: Option<&ETag>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "serialization failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
        }
    };
    serialized_response(status, body, format, etag)
}

/// A response with an already serialized RDF `body` in `format` and the headers of [`rdf_response`].
pub(super) fn serialized_response(
    status: StatusCode,
    body: Vec<u8>,
    format: RdfFormat,
    etag: Option<&ETag>,
) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(format.media_type()));
    headers.insert(OSLC_CORE_VERSION, HeaderValue::from_static("3.0"));
    headers.insert(VARY, HeaderValue::from_static("Accept"));
    if let Some(etag) = etag {
        insert_etag(headers, etag);
    }
    response
}

/// Sets the `ETag` header.
pub fn insert_etag(headers: &mut HeaderMap, etag: &ETag) {
    // An ETag's characters are checked visible ASCII when it is made, so it is always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&etag.to_string()) {
        headers.insert(ETAG, value);
    }
}
