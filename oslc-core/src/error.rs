//! The one error type of `oslc-core`, its HTTP status and its `oslc:Error` body.

use oxrdf::{BlankNode, Graph, Literal, TripleRef};

use crate::vocab::{oslc, rdf};

/// What can go wrong serving or consuming OSLC resources, sorted by meaning.
///
/// Each kind maps to one HTTP status ([`Error::status`]) and renders as an `oslc:Error` resource
/// ([`Error::to_graph`]), so a handler can return it as is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No resource at this IRI or id (404).
    #[error("resource not found: {resource}")]
    NotFound {
        /// The IRI or id that was asked for.
        resource: String,
    },
    /// The request conflicts with the resource's current state, such as a duplicate (409).
    #[error("conflict: {message}")]
    Conflict {
        /// What conflicts.
        message: String,
    },
    /// `If-Match` named an ETag that is no longer the resource's (412).
    #[error("precondition failed: {resource} has changed (expected ETag {expected}, current {current})")]
    PreconditionFailed {
        /// The resource IRI.
        resource: String,
        /// The ETag the client sent.
        expected: String,
        /// The resource's current ETag.
        current: String,
    },
    /// The request is missing something OSLC requires, such as `If-Match` on PUT (400, OSLC Core 3.0 §7.8).
    #[error("bad request: {message}")]
    BadRequest {
        /// What is wrong with the request.
        message: String,
    },
    /// The request body is not valid for this resource type, such as a missing mandatory property (400).
    #[error("invalid resource: {message}")]
    InvalidResource {
        /// What is invalid.
        message: String,
    },
    /// A query parameter could not be parsed (400).
    #[error("invalid {parameter} at position {position}: {message}")]
    InvalidQuery {
        /// The query parameter, such as `oslc.where`.
        parameter: String,
        /// The character position (0-based) in the parameter's value.
        position: usize,
        /// What was expected there.
        message: String,
    },
    /// The body is not well-formed in its declared RDF syntax (400).
    #[error("{format} syntax error{}: {message}", location_suffix(*.line, *.column))]
    Syntax {
        /// The syntax's name, such as `Turtle`.
        format: String,
        /// 1-based line of the error, when the parser knows it.
        line: Option<u64>,
        /// 1-based column of the error, when the parser knows it.
        column: Option<u64>,
        /// The parser's message.
        message: String,
    },
    /// The body's `Content-Type` is not an RDF syntax this server reads (415).
    #[error("unsupported media type: {media_type}")]
    UnsupportedMediaType {
        /// The media type sent, or `(none)`.
        media_type: String,
    },
    /// No representation this server produces is acceptable per `Accept` (406).
    #[error("not acceptable: {accept} (this server produces {offered})")]
    NotAcceptable {
        /// The `Accept` header sent.
        accept: String,
        /// The media types this server produces, comma separated.
        offered: String,
    },
    /// The body is larger than the configured limit (413).
    #[error("request body larger than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request is over one of the server's budgets: too many triples, too deep, a literal or a query too large,
    /// or more work than a request may take (400). Nothing was changed.
    #[error("{what} exceeds the limit of {limit}")]
    LimitExceeded {
        /// What is over budget, such as `triples in the request body`.
        what: String,
        /// The budget.
        limit: usize,
    },
    /// The client took longer than the server allows to send its request (408).
    #[error("request not received within {seconds} s")]
    RequestTimeout {
        /// The time allowed, in seconds.
        seconds: u64,
    },
    /// The request URI is longer than the server accepts (414).
    #[error("request URI longer than the limit of {limit} bytes")]
    UriTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request's header fields are larger than the server accepts (431).
    #[error("request header fields larger than the limit of {limit} bytes")]
    HeadersTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request lacks valid credentials (401).
    #[error("unauthorized: {message}")]
    Unauthorized {
        /// Why the credentials were refused (never the credentials themselves).
        message: String,
    },
    /// The credentials are valid but do not allow this request (403), such as a cookie session's write without
    /// the CSRF header.
    #[error("forbidden: {message}")]
    Forbidden {
        /// Why the request is refused.
        message: String,
    },
    /// The method is not supported on this resource (405).
    #[error("method {method} not allowed on {resource}")]
    MethodNotAllowed {
        /// The HTTP method.
        method: String,
        /// The resource IRI.
        resource: String,
    },
    /// The tool behind the adapter could not be reached or answered with an error of its own (502).
    #[error("{service} unavailable: {message}")]
    Unavailable {
        /// The tool or service, such as `StackStorm`.
        service: String,
        /// What happened.
        message: String,
    },
    /// Another OSLC server (or the way to it) failed a request this process made as a client (502).
    #[error("{uri}: {message}")]
    Remote {
        /// What was requested.
        uri: String,
        /// The HTTP status it answered with, if it answered.
        status: Option<u16>,
        /// What went wrong (its `oslc:message` when it sent an `oslc:Error`).
        message: String,
        /// Whether trying again later can help (no answer, 408, 429, 5xx), or not (4xx: the request is wrong).
        retryable: bool,
    },
    /// The server is at its limit of concurrent costly work (query evaluation, body parsing) and the request
    /// could not start within its time budget (503, with `Retry-After`); nothing was changed.
    #[error("server busy: {what}; try again shortly")]
    Busy {
        /// The work that could not start.
        what: String,
    },
    /// Any other failure of the adapter or its storage (500).
    #[error("backend error: {message}")]
    Backend {
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

fn location_suffix(line: Option<u64>, column: Option<u64>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" at line {line}, column {column}"),
        (Some(line), None) => format!(" at line {line}"),
        _ => String::new(),
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A [`Error::Backend`] from any error.
    pub fn backend(message: impl Into<String>, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Backend { message: message.into(), source: Some(source.into()) }
    }

    /// A [`Error::NotFound`] for `resource`.
    pub fn not_found(resource: impl Into<String>) -> Self {
        Self::NotFound { resource: resource.into() }
    }

    /// A [`Error::BadRequest`] with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest { message: message.into() }
    }

    /// A [`Error::LimitExceeded`]: `what` is over `limit`.
    pub fn limit(what: impl Into<String>, limit: usize) -> Self {
        Self::LimitExceeded { what: what.into(), limit }
    }

    /// The HTTP status code this error answers with.
    ///
    /// ```
    /// use oslc_core::Error;
    /// assert_eq!(Error::not_found("urn:x").status(), 404);
    /// ```
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound { .. } => 404,
            Self::Conflict { .. } => 409,
            Self::PreconditionFailed { .. } => 412,
            Self::BadRequest { .. }
            | Self::InvalidResource { .. }
            | Self::InvalidQuery { .. }
            | Self::Syntax { .. }
            | Self::LimitExceeded { .. } => 400,
            Self::UnsupportedMediaType { .. } => 415,
            Self::NotAcceptable { .. } => 406,
            Self::PayloadTooLarge { .. } => 413,
            Self::RequestTimeout { .. } => 408,
            Self::UriTooLong { .. } => 414,
            Self::HeadersTooLarge { .. } => 431,
            Self::Unauthorized { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::MethodNotAllowed { .. } => 405,
            Self::Unavailable { .. } | Self::Remote { .. } => 502,
            Self::Backend { .. } => 500,
            Self::Busy { .. } => 503,
        }
    }

    /// The `oslc:Error` resource for this error (OSLC Core 3.0 §10): a blank node with `oslc:statusCode` and
    /// `oslc:message`.
    #[must_use]
    pub fn to_graph(&self) -> Graph {
        let mut graph = Graph::new();
        let node = BlankNode::default();
        let status = Literal::new_simple_literal(self.status().to_string());
        let message = Literal::new_simple_literal(self.to_string());
        graph.insert(TripleRef::new(&node, rdf::r#type, oslc::Error));
        graph.insert(TripleRef::new(&node, oslc::statusCode, &status));
        graph.insert(TripleRef::new(&node, oslc::message, &message));
        graph
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Self::backend("i/o failure", error)
    }
}
