//! CloudEvents 1.0 over Kafka (the Kafka protocol binding): the attributes of an event, binary and structured
//! mode, and reading either.

use oslc_core::rdf::{self, RdfFormat};

use crate::event::Event;
use crate::{Error, Result};

/// How a [`KafkaSink`](super::KafkaSink) writes CloudEvents (the Kafka protocol binding); a
/// [`KafkaConsumer`](super::KafkaConsumer) reads both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CloudEventsMode {
    /// The payload is the event in [`KafkaConfig::format`](super::KafkaConfig::format); the attributes are `ce_*` headers
    /// ([`cloudevents_headers`]).
    #[default]
    Binary,
    /// The payload is one `application/cloudevents+json` document: the attributes, and the event in `data` in its
    /// versioned JSON form ([`crate::schema`]: `datacontenttype` `application/ld+json`, `dataschema`
    /// [`SCHEMA_IRI`](crate::schema::SCHEMA_IRI)), for consumers that read JSON only.
    Structured,
}

/// The media type of a structured-mode CloudEvent.
pub const CLOUDEVENTS_JSON: &str = "application/cloudevents+json; charset=UTF-8";

/// `event` as a structured-mode CloudEvent (see [`CloudEventsMode::Structured`]).
///
/// # Errors
/// What writing the event as JSON-LD returns.
pub fn structured_cloudevent(event: &Event) -> Result<Vec<u8>> {
    let data = crate::schema::to_json(event)?;
    let mut document = serde_json::Map::new();
    for (header, value) in cloudevents_headers(event) {
        document.insert(header.trim_start_matches("ce_").to_owned(), serde_json::Value::String(value));
    }
    document.insert("datacontenttype".into(), "application/ld+json".into());
    document.insert("dataschema".into(), crate::schema::SCHEMA_IRI.into());
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
        if matches!(format, RdfFormat::JsonLd { .. })
            && let Ok(json) = serde_json::from_slice::<serde_json::Value>(payload)
            && crate::schema::is_json_form(&json)
        {
            return crate::schema::from_json(&json);
        }
        return Event::from_bytes(payload, format);
    }
    let document: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| Error::invalid(format!("a structured CloudEvent: {e}")))?;
    let data_type = document.get("datacontenttype").and_then(serde_json::Value::as_str);
    let format = rdf::content_type_format(data_type.or(Some("application/ld+json")))
        .map_err(|e| Error::invalid(format!("a CloudEvent whose data is {data_type:?}: {e}")))?;
    match (document.get("data"), document.get("data_base64").and_then(serde_json::Value::as_str)) {
        (Some(data), _) if crate::schema::is_json_form(data) => crate::schema::from_json(data),
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
