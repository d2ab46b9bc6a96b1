#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backoff;
#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
pub mod event;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "server")]
pub mod live;
pub mod log;
#[cfg(feature = "server")]
pub mod metrics;
pub mod poller;
#[cfg(feature = "reactor")]
pub mod reactor;
#[cfg(feature = "redb")]
mod redb_log;
pub mod schema;
pub mod sink;
pub mod source;
pub mod tracked;
pub mod trs;
#[cfg(feature = "client")]
pub mod trs_client;

pub use error::{Error, Result};
pub use event::{ChangeKind, Event};
pub use log::{Checkpoint, EventLog, MemoryEventLog};
#[cfg(feature = "redb")]
pub use redb_log::RedbEventLog;
pub use sink::{EventHandler, EventSink, MemoryBus, Relay};
pub use source::EventSource;
pub use trs::{BaseProvider, StaticBase, Trs};

/// The OSLC Events namespace used by the SmartDevOps tools (`http://open-services.net/ns/events#`).
///
/// ```
/// assert_eq!(oslc_events::vocab::Event.as_str(), "http://open-services.net/ns/events#Event");
/// ```
#[allow(non_upper_case_globals)]
pub mod vocab {
    use oxrdf::NamedNodeRef;

    /// The namespace IRI.
    pub const NS: &str = "http://open-services.net/ns/events#";
    /// The prefix conventionally bound to [`NS`].
    pub const PREFIX: &str = "oslc_events";
    /// `oslc_events:Event`, the class of every event.
    pub const Event: NamedNodeRef<'static> = NamedNodeRef::new_unchecked("http://open-services.net/ns/events#Event");
}
