//! The adapter's one error type.

/// Why the adapter could not be built, started or served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// The OSLC server's configuration (the public URL, names) is not usable.
    #[error(transparent)]
    Build(#[from] oslc_core::server::BuildError),
    /// StackStorm could not be reached or configured (a URL that is not http(s)).
    #[error(transparent)]
    St2(#[from] crate::st2::St2Error),
    /// The OSLC layer failed (a document that does not parse).
    #[error(transparent)]
    Oslc(#[from] oslc_core::Error),
    /// The event log, the relay or Kafka's configuration failed.
    #[error(transparent)]
    Events(#[from] oslc_events::Error),
    /// The polling change source's checkpoints could not be carried over.
    #[error(transparent)]
    Poll(#[from] oslc_events::poller::PollError),
    /// The data directory or the listener.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The OpenID provider given with `--oidc-issuer` could not be used.
    #[error(transparent)]
    Oidc(#[from] oslc_core::server::auth::oidc::OidcError),
    /// The data directory had an event log that is now missing or empty.
    #[error(
        "the event log in {data_dir} is missing or empty, but this data directory had event log {previous}: restore events.redb, or start with --new-event-log to begin a new log (TRS clients will rebase)"
    )]
    EventLogMissing {
        /// The data directory.
        data_dir: String,
        /// The identity of the log it had.
        previous: String,
    },
}
