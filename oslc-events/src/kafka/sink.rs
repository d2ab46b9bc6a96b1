//! Publishing events: the idempotent producer, oversize and refused events passed, never blocking.

use std::sync::Mutex;

use async_trait::async_trait;
use rdkafka::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use super::{
    CLOUDEVENTS_JSON, CloudEventsMode, KafkaConfig, STATE_HEADER, cloudevents_headers, delivery, structured_cloudevent,
};
use crate::event::Event;
use crate::sink::EventSink;
use crate::{Error, Result};
use oslc_core::rdf::RdfFormat;

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
    /// [`Error::Delivery`](crate::Error::Delivery) if librdkafka refuses the configuration.
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
pub(super) fn refused_for_good(error: &KafkaError) -> bool {
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

/// The payload of `event` in binary mode: the event in `format`, JSON-LD in the versioned JSON form
/// ([`crate::schema`]), so JSON consumers read fixed keys.
fn binary_payload(event: &Event, format: RdfFormat) -> Result<Vec<u8>> {
    if matches!(format, RdfFormat::JsonLd { .. }) {
        return serde_json::to_vec(&crate::schema::to_json(event)?).map_err(|e| Error::invalid(e.to_string()));
    }
    event.to_bytes(format)
}

impl KafkaSink {
    /// The payload of `event` and whether its state was left out to fit [`KafkaConfig::max_event_bytes`].
    fn payload(&self, event: &Event) -> Result<(Vec<u8>, bool)> {
        let encode = |event: &Event| match self.config.cloudevents {
            CloudEventsMode::Binary => binary_payload(event, self.config.format),
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
                if matches!(self.config.format, RdfFormat::JsonLd { .. }) {
                    headers = headers.insert(Header { key: "ce_dataschema", value: Some(crate::schema::SCHEMA_IRI) });
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

pub(super) fn report_refused(event: &Event, topic: &str, error: &KafkaError) {
    tracing::error!(event_id = %event.id, event_order = event.order_number(), %topic, %error, "Kafka refused the event for good; it stays in the event log and its TRS, and delivery goes on with the next");
}
