//! Consuming events in a consumer group: offsets committed after the handler, duplicates skipped, dead letters.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::{KafkaConfig, decode_record, delivery};
use crate::backoff::Backoff;
use crate::sink::{EventHandler, SeenIds};
use crate::{Error, Result};

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
    consumer: Arc<StreamConsumer>,
    /// The last lag measured, by partition (see [`measure_lag`]).
    lags: Arc<Mutex<BTreeMap<i32, i64>>>,
    topic: String,
    group: String,
    seen: SeenIds,
    dead_letters: Option<(FutureProducer, String)>,
    max_attempts: usize,
    #[cfg(feature = "server")]
    counters: Option<Counters>,
}

/// How often the consumer's lag is measured.
const LAG_INTERVAL: Duration = Duration::from_secs(5);

#[cfg(feature = "server")]
type LagGauge = oslc_core::server::prometheus_client::metrics::family::Family<
    Vec<(String, String)>,
    oslc_core::server::prometheus_client::metrics::gauge::Gauge,
>;

/// The lag of `consumer`'s group on each partition assigned to it: the partition's high watermark minus the
/// group's committed offset (its low watermark while the group has committed nothing there, as the consumer starts
/// at the earliest). Blocking: librdkafka asks the brokers.
fn measure_lag(consumer: &StreamConsumer) -> Result<BTreeMap<(String, i32), i64>> {
    let timeout = Duration::from_secs(5);
    let assigned = consumer.assignment().map_err(delivery)?;
    let committed = consumer.committed_offsets(assigned, timeout).map_err(delivery)?;
    let mut lags = BTreeMap::new();
    for element in committed.elements() {
        let (low, high) = consumer.fetch_watermarks(element.topic(), element.partition(), timeout).map_err(delivery)?;
        let position = match element.offset() {
            rdkafka::Offset::Offset(offset) => offset,
            _ => low,
        };
        lags.insert((element.topic().to_owned(), element.partition()), (high - position).max(0));
    }
    Ok(lags)
}

/// The lag of a [`KafkaConsumer`]'s group by partition of its topic: how many messages are published and not yet
/// handled and committed, measured every 5 s while [`KafkaConsumer::run`] runs (apart from the handler, so a
/// held-up handler shows as a growing lag). Partitions not assigned to the consumer, or not measured yet, are absent.
#[derive(Debug, Clone)]
pub struct ConsumerLag(Arc<Mutex<BTreeMap<i32, i64>>>);

impl ConsumerLag {
    /// The last lag measured, by partition.
    #[must_use]
    pub fn by_partition(&self) -> BTreeMap<i32, i64> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The last lag measured, over every partition assigned.
    #[must_use]
    pub fn total(&self) -> i64 {
        self.by_partition().values().sum()
    }
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a consumer counts into [`oslc_core::server::Metrics`] (feature `server`).
#[cfg(feature = "server")]
#[derive(Clone)]
struct Counters {
    handled: oslc_core::server::prometheus_client::metrics::counter::Counter,
    dead: oslc_core::server::prometheus_client::metrics::family::Family<
        Vec<(String, String)>,
        oslc_core::server::prometheus_client::metrics::counter::Counter,
    >,
    lag: LagGauge,
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
    /// [`Error::Delivery`](crate::Error::Delivery) if librdkafka refuses the configuration or the subscription.
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
            consumer: Arc::new(consumer),
            lags: Arc::default(),
            topic: config.topic.clone(),
            group: group.to_owned(),
            seen: SeenIds::new(100_000),
            dead_letters,
            max_attempts: config.max_attempts.max(1),
            #[cfg(feature = "server")]
            counters: None,
        })
    }

    /// A handle on the consumer's lag, to read while [`KafkaConsumer::run`] has the consumer.
    #[must_use]
    pub fn lag(&self) -> ConsumerLag {
        ConsumerLag(self.lags.clone())
    }

    /// Counts into `metrics`: `oslc_events_consumed_total` (events handled),
    /// `oslc_events_dead_letters_total{topic,class}` and the gauge `oslc_events_consumer_lag{topic,partition}`
    /// (see [`KafkaConsumer::lag`]).
    #[cfg(feature = "server")]
    #[must_use]
    pub fn with_metrics(mut self, metrics: &oslc_core::server::Metrics) -> Self {
        let counters = Counters { handled: Default::default(), dead: Default::default(), lag: Default::default() };
        metrics.register("oslc_events_consumed", "Events a consumer handled", counters.handled.clone());
        metrics.register("oslc_events_dead_letters", "Messages moved to a dead-letter topic", counters.dead.clone());
        metrics.register(
            "oslc_events_consumer_lag",
            "Messages published and not yet handled and committed by the consumer's group, by partition",
            counters.lag.clone(),
        );
        self.counters = Some(counters);
        self
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
                #[cfg(feature = "server")]
                if let Some(counters) = &self.counters {
                    let labels = vec![("topic".to_owned(), self.topic.clone()), ("class".to_owned(), class.to_owned())];
                    counters.dead.get_or_create(&labels).inc();
                }
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
        let _measuring = AbortOnDrop(tokio::spawn(self.measure_lags()));
        self.consume(handler, shutdown).await
    }

    /// Measures the lag every [`LAG_INTERVAL`] on the blocking pool, into [`KafkaConsumer::lag`] and the gauge.
    fn measure_lags(&self) -> impl Future<Output = ()> + Send + 'static {
        let (consumer, lags) = (self.consumer.clone(), self.lags.clone());
        #[cfg(feature = "server")]
        let gauge = self.counters.as_ref().map(|c| c.lag.clone());
        async move {
            loop {
                tokio::time::sleep(LAG_INTERVAL).await;
                let consumer = consumer.clone();
                let measured = match tokio::task::spawn_blocking(move || measure_lag(&consumer)).await {
                    Ok(Ok(measured)) => measured,
                    Ok(Err(error)) => {
                        tracing::debug!(%error, "could not measure the consumer's lag");
                        continue;
                    }
                    Err(_) => continue,
                };
                *lags.lock().unwrap_or_else(PoisonError::into_inner) =
                    measured.iter().map(|((_, partition), lag)| (*partition, *lag)).collect();
                #[cfg(feature = "server")]
                if let Some(gauge) = &gauge {
                    // Partitions no longer assigned (a rebalance) leave the gauge.
                    gauge.clear();
                    for ((topic, partition), lag) in &measured {
                        let labels =
                            vec![("topic".to_owned(), topic.clone()), ("partition".to_owned(), partition.to_string())];
                        gauge.get_or_create(&labels).set(*lag);
                    }
                }
            }
        }
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
                    let mut handled = false;
                    loop {
                        attempts += 1;
                        let error = match handler.handle(&event).await {
                            Ok(()) => {
                                handled = true;
                                break;
                            }
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
                    #[cfg(feature = "server")]
                    if let (Some(counters), true) = (&self.counters, handled) {
                        counters.handled.inc();
                    }
                    #[cfg(not(feature = "server"))]
                    let _ = handled;
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
