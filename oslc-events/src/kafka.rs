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

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use oslc_core::rdf::{self, RdfFormat};
use rdkafka::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use crate::backoff::Backoff;
use crate::event::Event;
use crate::sink::{EventHandler, EventSink, SeenIds};
use crate::{Error, Result};

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

/// How a [`KafkaSink`] writes CloudEvents (the Kafka protocol binding); a [`KafkaConsumer`] reads both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CloudEventsMode {
    /// The payload is the event in [`KafkaConfig::format`]; the attributes are `ce_*` headers
    /// ([`cloudevents_headers`]).
    #[default]
    Binary,
    /// The payload is one `application/cloudevents+json` document: the attributes, and the event as JSON-LD in
    /// `data` (`datacontenttype` `application/ld+json`), for consumers that read JSON only.
    Structured,
}

/// The media type of a structured-mode CloudEvent.
pub const CLOUDEVENTS_JSON: &str = "application/cloudevents+json; charset=UTF-8";

/// `event` as a structured-mode CloudEvent (see [`CloudEventsMode::Structured`]).
///
/// # Errors
/// What writing the event as JSON-LD returns.
pub fn structured_cloudevent(event: &Event) -> Result<Vec<u8>> {
    let jsonld = rdf::content_type_format(Some("application/ld+json"))?;
    let data: serde_json::Value = serde_json::from_slice(&event.to_bytes(jsonld)?)
        .map_err(|e| Error::invalid(format!("the event's JSON-LD: {e}")))?;
    let mut document = serde_json::Map::new();
    for (header, value) in cloudevents_headers(event) {
        document.insert(header.trim_start_matches("ce_").to_owned(), serde_json::Value::String(value));
    }
    document.insert("datacontenttype".into(), "application/ld+json".into());
    document.insert("data".into(), data);
    serde_json::to_vec(&document).map_err(|e| Error::invalid(e.to_string()))
}

/// The event a record's payload holds, given its `content-type`: an RDF syntax (binary mode), or a structured-mode
/// CloudEvent whose `data` is JSON-LD (an object) or a string in its `datacontenttype` (`data_base64` too).
///
/// # Errors
/// [`Error::InvalidEvent`] for a payload that holds no event; parse errors within [`rdf::ParseLimits::default`].
pub fn decode_record(payload: &[u8], content_type: Option<&str>) -> Result<Event> {
    let structured = content_type.is_some_and(|ct| {
        ct.split(';').next().is_some_and(|e| e.trim().eq_ignore_ascii_case("application/cloudevents+json"))
    });
    if !structured {
        let format = rdf::content_type_format(content_type).unwrap_or(RdfFormat::Turtle);
        return Event::from_bytes(payload, format);
    }
    let document: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| Error::invalid(format!("a structured CloudEvent: {e}")))?;
    let data_type = document.get("datacontenttype").and_then(serde_json::Value::as_str);
    let format = rdf::content_type_format(data_type.or(Some("application/ld+json")))
        .map_err(|e| Error::invalid(format!("a CloudEvent whose data is {data_type:?}: {e}")))?;
    match (document.get("data"), document.get("data_base64").and_then(serde_json::Value::as_str)) {
        (Some(serde_json::Value::String(text)), _) => Event::from_bytes(text.as_bytes(), format),
        (Some(data), _) => {
            let bytes = serde_json::to_vec(data).map_err(|e| Error::invalid(e.to_string()))?;
            Event::from_bytes(&bytes, format)
        }
        (None, Some(encoded)) => {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| Error::invalid(format!("a CloudEvent's data_base64: {e}")))?;
            Event::from_bytes(&bytes, format)
        }
        (None, None) => Err(Error::invalid("a CloudEvent without data")),
    }
}

/// The default [`KafkaConfig::max_event_bytes`]: 900 KiB, under Kafka's default `message.max.bytes` of 1 MB with
/// room for the key and headers.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 900 * 1024;

/// The header that says an event was published without the changed resource's state (value `omitted`).
pub const STATE_HEADER: &str = "oslc-event-state";

/// The CloudEvents attributes of `event` in the Kafka protocol binding's binary mode (CloudEvents 1.0), as header
/// names and values, beside `content-type` (the payload's RDF syntax): `ce_specversion` `1.0`; `ce_id` the event
/// id; `ce_source` its service provider (else the origin of the changed resource); `ce_type` its first qualifier
/// (such as `st2:RuleDisabled`), else its change kind (`trs:Modification`), as IRIs; `ce_subject` the changed
/// resource; `ce_time` when it was seen; the `sequence` extension `ce_sequence`, the log order zero-padded to 20
/// digits (so it sorts as text); the `partitioning` extension `ce_partitionkey`, the record key.
///
/// ```
/// use oslc_events::{ChangeKind, Event};
///
/// let mut event = Event::new(ChangeKind::Deletion, oxrdf::NamedNode::new("http://tool.example/r/1")?);
/// event.order = std::num::NonZeroU64::new(42);
/// let headers = oslc_events::kafka::cloudevents_headers(&event);
/// let get = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
/// assert_eq!(get("ce_type"), Some("http://open-services.net/ns/core/trs#Deletion"));
/// assert_eq!(get("ce_source"), Some("http://tool.example"));
/// assert_eq!(get("ce_sequence"), Some("00000000000000000042"));
/// Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn cloudevents_headers(event: &Event) -> Vec<(&'static str, String)> {
    let changed = event.changed.as_str();
    let source = match &event.service_provider {
        Some(service_provider) => service_provider.as_str().to_owned(),
        None => {
            let after_scheme = changed.find("://").map_or(0, |i| i + 3);
            let end = changed[after_scheme..].find('/').map_or(changed.len(), |i| after_scheme + i);
            changed[..end].to_owned()
        }
    };
    let kind = event.qualifiers.first().map_or(event.kind.iri().as_str(), |q| q.as_str());
    vec![
        ("ce_specversion", "1.0".to_owned()),
        ("ce_id", event.id.as_str().to_owned()),
        ("ce_source", source),
        ("ce_type", kind.to_owned()),
        ("ce_subject", changed.to_owned()),
        ("ce_time", event.created.to_string()),
        ("ce_sequence", format!("{:020}", event.order_number())),
        ("ce_partitionkey", changed.to_owned()),
    ]
}

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

/// Publishes events to Kafka.
pub struct KafkaSink {
    config: KafkaConfig,
    producer: Mutex<FutureProducer>,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSink")
            .field("brokers", &self.config.brokers)
            .field("topic", &self.config.topic)
            .finish_non_exhaustive()
    }
}

impl KafkaSink {
    /// A sink; the producer is idempotent with `acks=all` (settings in `config` override the rest).
    ///
    /// # Errors
    /// [`Error::Delivery`] if librdkafka refuses the configuration.
    pub fn new(config: KafkaConfig) -> Result<Self> {
        let producer = Self::producer(&config)?;
        Ok(Self { config, producer: Mutex::new(producer) })
    }

    fn producer(config: &KafkaConfig) -> Result<FutureProducer> {
        let mut client = ClientConfig::new();
        client
            .set("bootstrap.servers", &config.brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            // After an outage: reconnect within a second of the broker's return, and fail a stuck batch in 10 s so
            // the relay renews the producer instead of waiting on a dead connection.
            .set("reconnect.backoff.ms", "50")
            .set("reconnect.backoff.max.ms", "1000")
            .set("message.timeout.ms", "10000");
        for (k, v) in &config.settings {
            client.set(k, v);
        }
        client.create().map_err(delivery)
    }

    fn current(&self) -> FutureProducer {
        self.producer.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// After a failed publish the producer starts over: an idempotent producer whose broker restarted without its
    /// producer state (or that hit a fatal error) would otherwise keep timing out. The retried batch may then be
    /// published twice, with the same event ids, which consumers skip.
    fn renew(&self) {
        let producer = self.current();
        if let Some((code, reason)) = producer.client().fatal_error() {
            tracing::warn!(?code, %reason, "Kafka producer failed fatally");
        }
        match Self::producer(&self.config) {
            Ok(fresh) => *self.producer.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh,
            Err(error) => tracing::warn!(%error, "could not make a new Kafka producer"),
        }
    }
}

/// Whether Kafka refused a record for what it is, so sending it again can never succeed.
fn refused_for_good(error: &KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as Code;
    matches!(
        error.rdkafka_error_code(),
        Some(
            Code::MessageSizeTooLarge
                | Code::InvalidMessageSize
                | Code::InvalidMessage
                | Code::InvalidRecord
                | Code::MessageBatchTooLarge
        )
    )
}

impl KafkaSink {
    /// The payload of `event` and whether its state was left out to fit [`KafkaConfig::max_event_bytes`].
    fn payload(&self, event: &Event) -> Result<(Vec<u8>, bool)> {
        let encode = |event: &Event| match self.config.cloudevents {
            CloudEventsMode::Binary => event.to_bytes(self.config.format),
            CloudEventsMode::Structured => structured_cloudevent(event),
        };
        let payload = encode(event)?;
        if payload.len() <= self.config.max_event_bytes || event.state.is_none() {
            return Ok((payload, false));
        }
        let mut slim = event.clone();
        slim.state = None;
        tracing::warn!(event_id = %event.id, event_order = event.order_number(), bytes = payload.len(), limit = self.config.max_event_bytes, "event too large for Kafka: publishing it without the resource's state");
        Ok((encode(&slim)?, true))
    }
}

#[async_trait]
impl EventSink for KafkaSink {
    /// Publishes `events` in order. An event over [`KafkaConfig::max_event_bytes`] goes without its state; one
    /// that Kafka refuses for good (too large for the broker, invalid) is logged at ERROR with its id and order and
    /// passed, so it never holds back the events behind it. Other failures fail the call, to be retried.
    async fn publish(&self, events: &[Event]) -> Result<()> {
        let producer = self.current();
        let mut pending = Vec::with_capacity(events.len());
        for event in events {
            let (payload, omitted) = self.payload(event)?;
            let order = event.order_number().to_string();
            let content_type = match self.config.cloudevents {
                CloudEventsMode::Binary => self.config.format.media_type(),
                CloudEventsMode::Structured => CLOUDEVENTS_JSON,
            };
            let mut headers = OwnedHeaders::new()
                .insert(Header { key: "content-type", value: Some(content_type) })
                .insert(Header { key: "oslc-event-id", value: Some(event.id.as_str()) })
                .insert(Header { key: "oslc-event-order", value: Some(order.as_str()) });
            if omitted {
                headers = headers.insert(Header { key: STATE_HEADER, value: Some("omitted") });
            }
            if self.config.cloudevents == CloudEventsMode::Binary {
                for (key, value) in cloudevents_headers(event) {
                    headers = headers.insert(Header { key, value: Some(value.as_str()) });
                }
            }
            let record =
                FutureRecord::to(&self.config.topic).key(event.changed.as_str()).payload(&payload).headers(headers);
            // Queued in order; the idempotent producer keeps that order per partition, so per changed resource.
            match producer.send_result(record) {
                Ok(future) => pending.push((event, future)),
                Err((error, _)) if refused_for_good(&error) => report_refused(event, &self.config.topic, &error),
                Err((error, _)) => {
                    self.renew();
                    return Err(delivery(format!("queueing event {}: {error}", event.id)));
                }
            }
        }
        let mut failure = None;
        for (event, future) in pending {
            match future.await {
                Ok(Ok(_)) => {}
                Ok(Err((error, _))) if refused_for_good(&error) => report_refused(event, &self.config.topic, &error),
                Ok(Err((error, _))) => failure = Some(error.to_string()),
                Err(_) => failure = Some("delivery report dropped".to_owned()),
            }
        }
        match failure {
            None => Ok(()),
            Some(error) => {
                self.renew();
                Err(delivery(format!("topic {}: {error}", self.config.topic)))
            }
        }
    }
}

fn report_refused(event: &Event, topic: &str, error: &KafkaError) {
    tracing::error!(event_id = %event.id, event_order = event.order_number(), %topic, %error, "Kafka refused the event for good; it stays in the event log and its TRS, and delivery goes on with the next");
}

/// Consumes events from Kafka in a consumer group.
///
/// A message it cannot handle goes to the dead-letter topic ([`KafkaConfig::dead_letter_topic`]) as it came (key,
/// payload, headers), with headers saying why: `dlq-group`, `dlq-error-class` (`permanent`, `transient` after
/// [`KafkaConfig::max_attempts`], or `not-an-event`), `dlq-error`, `dlq-attempts`, `dlq-original-topic`,
/// `dlq-original-partition` and `dlq-original-offset`; then its offset is committed and consumption goes on. A
/// message is never dropped: while the dead letter cannot be written, the consumer retries, holding the partition.
///
/// To replay dead letters once their cause is fixed, run a consumer of the dead-letter topic with the same
/// handler (`KafkaConfig::new(brokers, "st2_event.dlq")` and a dead-letter topic of its own, or none): the
/// payloads and content types are the originals, and handlers deduplicate by event id.
pub struct KafkaConsumer {
    consumer: StreamConsumer,
    topic: String,
    group: String,
    seen: SeenIds,
    dead_letters: Option<(FutureProducer, String)>,
    max_attempts: usize,
}

impl std::fmt::Debug for KafkaConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConsumer").field("topic", &self.topic).finish_non_exhaustive()
    }
}

impl KafkaConsumer {
    /// A consumer of `config.topic` in `group`, committing offsets by hand (auto commit off), starting at the
    /// earliest offset when the group has none.
    ///
    /// # Errors
    /// [`Error::Delivery`] if librdkafka refuses the configuration or the subscription.
    pub fn new(config: &KafkaConfig, group: &str) -> Result<Self> {
        let mut client = config.client_config();
        client
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            // A consumer may start before anything was published: look for the topic again soon, not in 5 minutes.
            .set("topic.metadata.refresh.interval.ms", "5000");
        for (k, v) in &config.settings {
            client.set(k, v);
        }
        let consumer: StreamConsumer = client.create().map_err(delivery)?;
        consumer.subscribe(&[config.topic.as_str()]).map_err(delivery)?;
        let dead_letters = match &config.dead_letter_topic {
            Some(topic) => {
                let mut producer = config.client_config();
                producer.set("enable.idempotence", "true").set("acks", "all");
                Some((producer.create().map_err(delivery)?, topic.clone()))
            }
            None => None,
        };
        Ok(Self {
            consumer,
            topic: config.topic.clone(),
            group: group.to_owned(),
            seen: SeenIds::new(100_000),
            dead_letters,
            max_attempts: config.max_attempts.max(1),
        })
    }

    /// Writes `message` to the dead-letter topic with why; `false` when there is none (the caller retries).
    async fn dead_letter(
        &self,
        message: &rdkafka::message::BorrowedMessage<'_>,
        class: &str,
        error: &str,
        attempts: usize,
    ) -> bool {
        let Some((producer, topic)) = &self.dead_letters else { return false };
        let mut headers = OwnedHeaders::new();
        if let Some(original) = message.headers() {
            for header in original.iter() {
                headers = headers.insert(Header { key: header.key, value: header.value });
            }
        }
        let (partition, offset, attempts) =
            (message.partition().to_string(), message.offset().to_string(), attempts.to_string());
        for (key, value) in [
            ("dlq-group", self.group.as_str()),
            ("dlq-error-class", class),
            ("dlq-error", error),
            ("dlq-attempts", attempts.as_str()),
            ("dlq-original-topic", self.topic.as_str()),
            ("dlq-original-partition", partition.as_str()),
            ("dlq-original-offset", offset.as_str()),
        ] {
            headers = headers.insert(Header { key, value: Some(value) });
        }
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(headers);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        match producer.send(record, Duration::from_secs(30)).await {
            Ok(_) => {
                tracing::error!(topic = %self.topic, partition = message.partition(), offset = message.offset(), dead_letter_topic = %topic, error_class = class, %error, attempts, "message moved to the dead-letter topic");
                true
            }
            Err((kafka, _)) => {
                tracing::warn!(error = %kafka, dead_letter_topic = %topic, "cannot write a dead letter; will retry");
                false
            }
        }
    }

    /// Hands every event to `handler` until `shutdown` completes. A message's offset is committed only after the
    /// handler succeeded for it, or after it became a dead letter (a permanent failure at once, a transient one after
    /// the configured attempts, retried with backoff meanwhile); an event id already handled is committed without
    /// handling it again; a message that is not an event becomes a dead letter (without a dead-letter topic it is
    /// logged and passed).
    ///
    /// # Errors
    /// Kafka errors that end consumption.
    pub async fn run(mut self, handler: &dyn EventHandler, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        self.consume(handler, shutdown).await
    }

    async fn consume(&mut self, handler: &dyn EventHandler, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        tokio::pin!(shutdown);
        let mut receiving = Backoff::starting_at(Duration::from_millis(200)).with_max(Duration::from_secs(5));
        loop {
            let message = tokio::select! {
                () = &mut shutdown => return Ok(()),
                message = self.consumer.recv() => message,
            };
            let message = match message {
                Ok(message) => {
                    receiving.reset();
                    message
                }
                Err(error) => {
                    tracing::warn!(%error, topic = %self.topic, "Kafka receive failed; retrying");
                    if !receiving.sleep_unless(shutdown.as_mut()).await {
                        return Ok(());
                    }
                    continue;
                }
            };
            let content_type = message
                .headers()
                .and_then(|h| h.iter().find(|h| h.key == "content-type").and_then(|h| h.value))
                .and_then(|v| std::str::from_utf8(v).ok())
                .map(str::to_owned);
            let payload = message.payload().unwrap_or_default();
            // Parsing is bounded (rdf::ParseLimits), but a large payload still goes to the blocking pool.
            let parsed = if payload.len() > 16 * 1024 {
                let owned = payload.to_vec();
                tokio::task::spawn_blocking(move || decode_record(&owned, content_type.as_deref()))
                    .await
                    .unwrap_or_else(|e| Err(Error::invalid(format!("the event parser task failed: {e}"))))
            } else {
                decode_record(payload, content_type.as_deref())
            };
            match parsed {
                Ok(event) if self.seen.contains(event.id.as_str()) => {
                    tracing::debug!(event_id = %event.id, "duplicate event skipped");
                }
                Ok(event) => {
                    let mut backoff = Backoff::new();
                    let mut attempts = 0;
                    loop {
                        attempts += 1;
                        let error = match handler.handle(&event).await {
                            Ok(()) => break,
                            Err(error) => error,
                        };
                        let wait = backoff.next_wait();
                        if (error.is_permanent() || attempts >= self.max_attempts)
                            && self.dead_letter(&message, error.class(), &error.to_string(), attempts).await
                        {
                            break;
                        }
                        tracing::warn!(%error, event_id = %event.id, attempts, retry_in_ms = wait.as_millis() as u64, "handler failed; will retry");
                        tokio::select! {
                            () = &mut shutdown => return Ok(()),
                            () = tokio::time::sleep(wait) => {},
                        }
                    }
                    self.seen.insert(event.id.as_str());
                }
                Err(error) => {
                    // Not an event: a dead letter where there is a topic for them, else logged and passed.
                    let mut backoff = Backoff::new();
                    while self.dead_letters.is_some()
                        && !self.dead_letter(&message, "not-an-event", &error.to_string(), 1).await
                    {
                        if !backoff.sleep_unless(shutdown.as_mut()).await {
                            return Ok(());
                        }
                    }
                    if self.dead_letters.is_none() {
                        tracing::error!(%error, topic = %self.topic, partition = message.partition(), offset = message.offset(), "not an OSLC event; skipped");
                    }
                }
            }
            self.consumer.commit_message(&message, CommitMode::Sync).map_err(delivery)?;
        }
    }
}

#[async_trait]
impl crate::source::EventSource for KafkaConsumer {
    async fn run(&mut self, handler: &dyn EventHandler, shutdown: crate::source::Shutdown) -> Result<()> {
        self.consume(handler, shutdown).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ChangeKind;

    fn event() -> Event {
        let rule = oxrdf::NamedNode::new_unchecked("https://st2-oslc.example/serviceProviders/1/changeRequests/1");
        let mut state = oxrdf::Graph::new();
        state.insert(oxrdf::TripleRef::new(
            &rule,
            oslc_core::vocab::dcterms::title,
            &oxrdf::Literal::new_simple_literal("r"),
        ));
        let mut event = Event::new(ChangeKind::Creation, rule).with_state(state);
        event.order = std::num::NonZeroU64::new(7);
        event
    }

    #[test]
    fn structured_cloudevents_are_json_with_the_event_as_json_ld() {
        let event = event();
        let bytes = structured_cloudevent(&event).unwrap_or_default();
        let document: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert_eq!(document["specversion"], "1.0");
        assert_eq!(document["id"], event.id.as_str());
        assert_eq!(document["sequence"], "00000000000000000007");
        assert_eq!(document["datacontenttype"], "application/ld+json");
        assert!(document["data"].is_object());
        assert_eq!(decode_record(&bytes, Some(CLOUDEVENTS_JSON)).ok(), Some(event.clone()));
        // Binary mode and other producers' structured forms read the same.
        let turtle = event.to_bytes(RdfFormat::Turtle).unwrap_or_default();
        assert_eq!(decode_record(&turtle, Some("text/turtle")).ok(), Some(event.clone()));
        let text = String::from_utf8(turtle.clone()).unwrap_or_default();
        let as_string = serde_json::json!({"specversion": "1.0", "datacontenttype": "text/turtle", "data": text});
        let bytes = serde_json::to_vec(&as_string).unwrap_or_default();
        assert_eq!(decode_record(&bytes, Some("application/cloudevents+json")).ok(), Some(event.clone()));
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&turtle);
        let as_base64 =
            serde_json::json!({"specversion": "1.0", "datacontenttype": "text/turtle", "data_base64": encoded});
        let bytes = serde_json::to_vec(&as_base64).unwrap_or_default();
        assert_eq!(decode_record(&bytes, Some("application/cloudevents+json")).ok(), Some(event));
        assert!(decode_record(b"{\"specversion\":\"1.0\"}", Some("application/cloudevents+json")).is_err());
    }
}
