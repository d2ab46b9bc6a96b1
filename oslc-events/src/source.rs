//! Where a tool learns of other tools' changes: an [`EventSource`] hands each event to an [`EventHandler`] until
//! told to stop. Kafka ([`KafkaConsumer`](crate::kafka::KafkaConsumer), feature `kafka`) and a remote TRS
//! ([`TrsFollower`](crate::trs_client::TrsFollower), feature `client`) have this one shape, so a consumer (the
//! reactor, a bridge) is written once and pointed at either.
//!
//! ```
//! use oslc_events::source::{EventSource, Shutdown};
//! use oslc_events::{Event, EventHandler, Result};
//!
//! /// Replays a fixed list of events: a source for tests.
//! struct Replay(Vec<Event>);
//!
//! #[async_trait::async_trait]
//! impl EventSource for Replay {
//!     async fn run(&mut self, handler: &dyn EventHandler, _shutdown: Shutdown) -> Result<()> {
//!         for event in self.0.drain(..) {
//!             handler.handle(&event).await?;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
//! let changed = oxrdf::NamedNode::new("http://tool.example/r/1").unwrap();
//! let mut source: Box<dyn EventSource> =
//!     Box::new(Replay(vec![Event::new(oslc_events::ChangeKind::Creation, changed)]));
//! let seen = oslc_events::sink::CollectingHandler::default();
//! source.run(&seen, Box::pin(std::future::pending())).await?;
//! assert_eq!(seen.events().len(), 1);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;

use crate::Result;
use crate::sink::EventHandler;

/// Completes when a source should stop (a signal, a test's end).
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A stream of events from elsewhere, delivered at least once and in order per changed resource.
#[async_trait]
pub trait EventSource: Send {
    /// Hands every event to `handler` until `shutdown` completes. An event whose handler fails is not skipped: it
    /// is retried (with backoff) before any later one; what cannot be read as an event is logged and passed over.
    ///
    /// # Errors
    /// What ends the source for good (a configuration its transport refuses); passing failures are retried.
    async fn run(&mut self, handler: &dyn EventHandler, shutdown: Shutdown) -> Result<()>;
}
