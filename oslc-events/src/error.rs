//! The one error type of `oslc-events`.

/// What can go wrong keeping, serving or delivering events.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The event log's storage failed.
    #[error("event log storage failed: {message}")]
    Storage {
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Stored or received data is not an event.
    #[error("invalid event: {message}")]
    InvalidEvent {
        /// What is wrong.
        message: String,
    },
    /// An event could not be delivered (Kafka, a consumer's handler).
    #[error("delivery failed: {message}")]
    Delivery {
        /// What failed.
        message: String,
    },
    /// A remote TRS could not be read.
    #[error("remote TRS {uri}: {message}")]
    Remote {
        /// The resource that was read.
        uri: String,
        /// What failed.
        message: String,
    },
    /// RDF, HTTP-level or other OSLC errors.
    #[error(transparent)]
    Oslc(#[from] oslc_core::Error),
}

impl Error {
    pub(crate) fn storage(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Storage { message: message.into(), source: Some(source.into()) }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidEvent { message: message.into() }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
