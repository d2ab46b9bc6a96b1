//! Kafka delivery (feature `kafka`, rdkafka): a sink with an idempotent producer (`acks=all`, key = the changed
//! resource's IRI, headers `content-type`, `oslc-event-id`, `oslc-event-order`, and the CloudEvents attributes in
//! the Kafka binding's binary mode, [`cloudevents_headers`]) and a consumer that commits an offset only after its
//! handler succeeded and handles each event id once.
//!
//! ```no_run
//! use std::sync::Arc;
//! use oslc_events::kafka::{KafkaConfig, KafkaSink};
//! use oslc_events::{EventLog, MemoryEventLog, Relay};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
//! let sink = Arc::new(KafkaSink::new(KafkaConfig::new("127.0.0.1:9092", "st2_event"))?);
//! // Everything appended to the log reaches the topic, in order per resource, at least once.
//! Relay::new(log, sink, "relay:st2_event").run(std::future::pending()).await?;
//! # Ok(()) }
//! ```

use oslc_core::rdf::RdfFormat;
use rdkafka::ClientConfig;

use crate::Error;

mod cloudevents;
mod consumer;
mod sink;

pub use cloudevents::{CLOUDEVENTS_JSON, CloudEventsMode, cloudevents_headers, decode_record, structured_cloudevent};
pub use consumer::{ConsumerLag, KafkaConsumer};
pub use sink::KafkaSink;

/// Where and how events travel on Kafka.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// The topic (`st2_event` for the StackStorm adapter).
    pub topic: String,
    /// The syntax events are serialized in (Turtle by default); named in the `content-type` header.
    pub format: RdfFormat,
    /// Further librdkafka settings, passed through as they are (`security.protocol`, `sasl.*`, timeouts…).
    pub settings: Vec<(String, String)>,
    /// The largest payload published with the resource's state (default [`DEFAULT_MAX_EVENT_BYTES`]); a larger
    /// event is published without its state, with header `oslc-event-state: omitted`, and consumers read the
    /// resource from its IRI (or the TRS).
    pub max_event_bytes: usize,
    /// Where a [`KafkaConsumer`] puts the messages it cannot handle (default `<topic>.dlq`; `None` retries them
    /// for ever, holding their partition back).
    pub dead_letter_topic: Option<String>,
    /// How many times a consumer tries a handler that fails with a transient error before the message becomes a
    /// dead letter (default 5); a permanent error makes it one at once.
    pub max_attempts: usize,
    /// How records carry CloudEvents (default [`CloudEventsMode::Binary`]).
    pub cloudevents: CloudEventsMode,
}

/// The default [`KafkaConfig::max_event_bytes`]: 900 KiB, under Kafka's default `message.max.bytes` of 1 MB with
/// room for the key and headers.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 900 * 1024;

/// The header that says an event was published without the changed resource's state (value `omitted`).
pub const STATE_HEADER: &str = "oslc-event-state";

impl KafkaConfig {
    /// Brokers and topic, Turtle, librdkafka's defaults otherwise.
    #[must_use]
    pub fn new(brokers: impl Into<String>, topic: impl Into<String>) -> Self {
        let topic = topic.into();
        Self {
            brokers: brokers.into(),
            dead_letter_topic: Some(format!("{topic}.dlq")),
            topic,
            format: RdfFormat::Turtle,
            settings: Vec::new(),
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            max_attempts: 5,
            cloudevents: CloudEventsMode::Binary,
        }
    }

    /// Sets [`KafkaConfig::cloudevents`].
    #[must_use]
    pub fn with_cloudevents(mut self, mode: CloudEventsMode) -> Self {
        self.cloudevents = mode;
        self
    }

    /// Sets [`KafkaConfig::dead_letter_topic`].
    #[must_use]
    pub fn with_dead_letter_topic(mut self, topic: Option<String>) -> Self {
        self.dead_letter_topic = topic;
        self
    }

    /// Sets [`KafkaConfig::max_attempts`] (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: usize) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets [`KafkaConfig::max_event_bytes`].
    #[must_use]
    pub fn with_max_event_bytes(mut self, bytes: usize) -> Self {
        self.max_event_bytes = bytes;
        self
    }

    /// Adds a librdkafka setting.
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((key.into(), value.into()));
        self
    }

    fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        for (k, v) in &self.settings {
            config.set(k, v);
        }
        config
    }
}

fn delivery(message: impl std::fmt::Display) -> Error {
    Error::Delivery { message: message.to_string() }
}
