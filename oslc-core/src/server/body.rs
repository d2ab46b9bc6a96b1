//! Reading RDF request bodies: the syntax from `Content-Type` (415 for one the kit does not read), at most the body
//! limit (413), parsed within [`ParseLimits`] on the blocking pool (400 with the error's position), as functions
//! and as the axum extractor [`RdfBody`].
//!
//! ```
//! use axum::routing::post;
//! use oslc_core::server::{RdfBody, RdfBodyConfig};
//!
//! async fn count(body: RdfBody) -> String {
//!     format!("{} triples in {}\n", body.graph.len(), body.format.name())
//! }
//!
//! let app: axum::Router = axum::Router::new()
//!     .route("/count", post(count))
//!     // Relative IRIs in bodies resolve against the public URL of the request; 64 KiB at most.
//!     .layer(axum::Extension(RdfBodyConfig::new("https://tool.example").with_body_limit(64 * 1024)));
//! # let _ = app;
//! ```

use axum::extract::{FromRequest, Request};
use oxrdf::Graph;

use super::{DEFAULT_BODY_LIMIT, ErrorResponse, run_cpu_bound};
use crate::rdf::{self, ParseLimits, RdfFormat};
use crate::{Error, Result};

/// How long a request body waits for a free core before the request is refused as busy (503).
const BODY_PARSE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads a request body of at most `limit` bytes.
///
/// # Errors
/// [`Error::PayloadTooLarge`] past the limit; [`Error::BadRequest`] when the body cannot be read (the client went
/// away, a malformed chunk).
pub async fn read_body(body: axum::body::Body, limit: usize) -> Result<axum::body::Bytes> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(err) = source {
            if err.is::<http_body_util::LengthLimitError>() {
                return Error::PayloadTooLarge { limit };
            }
            source = err.source();
        }
        Error::bad_request(format!("could not read the request body: {e}"))
    })
}

/// Parses RDF on tokio's blocking pool within `limits`, so a large or hostile body never holds an async worker;
/// as CPU-bound work under [`run_cpu_bound`] (a body that cannot start within 10 s is refused as busy).
///
/// ```
/// use oslc_core::rdf::{ParseLimits, RdfFormat};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
/// let body = axum::body::Bytes::from_static(b"<> <http://purl.org/dc/terms/title> \"A\" .");
/// let graph = oslc_core::server::parse_body(body, RdfFormat::Turtle, "http://e.com/r", ParseLimits::default()).await?;
/// assert_eq!(graph.len(), 1);
/// # Ok::<_, oslc_core::Error>(()) })?;
/// Ok::<_, Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`crate::rdf::parse_with_limits`]; [`Error::Backend`] if the blocking task could not run.
pub async fn parse_body(
    body: axum::body::Bytes,
    format: crate::rdf::RdfFormat,
    base_iri: &str,
    limits: ParseLimits,
) -> Result<oxrdf::Graph> {
    let base_iri = base_iri.to_owned();
    let deadline = std::time::Instant::now() + BODY_PARSE_WAIT;
    run_cpu_bound("parsing a request body", deadline, move || {
        crate::rdf::parse_with_limits(&body, format, &base_iri, &limits)
    })
    .await
}

/// How [`RdfBody`] reads bodies: put it in the request extensions (`axum::Extension`) of the routes that take one.
/// Without it, bodies are limited to [`DEFAULT_BODY_LIMIT`] and [`ParseLimits::default`], and relative IRIs resolve
/// against `http://localhost`.
#[derive(Debug, Clone)]
pub struct RdfBodyConfig {
    base: String,
    body_limit: usize,
    parse_limits: ParseLimits,
}

impl Default for RdfBodyConfig {
    fn default() -> Self {
        Self::new("http://localhost")
    }
}

impl RdfBodyConfig {
    /// Relative IRIs resolve against `public_base_url` joined with the request's path.
    #[must_use]
    pub fn new(public_base_url: &str) -> Self {
        Self {
            base: public_base_url.trim_end_matches('/').to_owned(),
            body_limit: DEFAULT_BODY_LIMIT,
            parse_limits: ParseLimits::default(),
        }
    }

    /// At most `bytes` a body.
    #[must_use]
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Parsed within `limits`.
    #[must_use]
    pub fn with_parse_limits(mut self, limits: ParseLimits) -> Self {
        self.parse_limits = limits;
        self
    }
}

/// An RDF request body, parsed: the extractor form of [`read_body`] and [`parse_body`], configured by an
/// [`RdfBodyConfig`] extension. It is refused as an `oslc:Error` in the syntax the request accepts: 415 for a
/// `Content-Type` that is no RDF syntax the kit reads, 413 past the limit, 400 for a syntax error (with its line
/// and column) or a budget broken, 503 when no core frees up in time.
#[derive(Debug, Clone)]
pub struct RdfBody {
    /// The body's triples.
    pub graph: Graph,
    /// The syntax it came in.
    pub format: RdfFormat,
}

impl<S: Send + Sync> FromRequest<S> for RdfBody {
    type Rejection = ErrorResponse;

    async fn from_request(request: Request, _: &S) -> std::result::Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let refuse = |error: Error| ErrorResponse::new(error, &parts.headers);
        let config = parts.extensions.get::<RdfBodyConfig>().cloned().unwrap_or_default();
        let content_type = parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let format = rdf::content_type_format(content_type).map_err(refuse)?;
        let bytes = read_body(body, config.body_limit).await.map_err(refuse)?;
        let base = format!("{}{}", config.base, parts.uri.path());
        let graph = parse_body(bytes, format, &base, config.parse_limits).await.map_err(refuse)?;
        Ok(Self { graph, format })
    }
}
