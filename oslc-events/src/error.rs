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
    #[cfg_attr(not(feature = "redb"), allow(dead_code))]
    pub(crate) fn storage(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Storage { message: message.into(), source: Some(source.into()) }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidEvent { message: message.into() }
    }

    /// Whether trying again cannot help: data that is no event, or an OSLC error a server answers with a 4xx other
    /// than 408 (timeout) and 429 (too many requests). Storage, delivery and remote failures are worth retrying.
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::InvalidEvent { .. } => true,
            Self::Oslc(error) => {
                let status = error.status();
                (400..500).contains(&status) && status != 408 && status != 429
            }
            Self::Storage { .. } | Self::Delivery { .. } | Self::Remote { .. } => false,
        }
    }

    /// The error's class for logs and dead-letter headers: `permanent` or `transient`.
    #[must_use]
    pub fn class(&self) -> &'static str {
        if self.is_permanent() { "permanent" } else { "transient" }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
