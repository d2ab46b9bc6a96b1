//! The event as plain JSON, versioned: a published JSON-LD context ([`CONTEXT`], identified by [`CONTEXT_IRI`]) and
//! a JSON Schema ([`SCHEMA`], identified by [`SCHEMA_IRI`], the CloudEvents `dataschema`), so a consumer that reads
//! JSON only gets fixed keys (`id`, `type`, `changed`, `order`, `created`, `serviceProvider`) and a consumer that
//! reads RDF gets the same triples as from Turtle.
//!
//! - [`to_json`] writes an event in that form: the event node compacted with the context, the resource's state
//!   after the change under `@included` as expanded JSON-LD node objects (a JSON-LD 1.1 keyword: included nodes
//!   are in the same graph, with no relation to the event).
//! - [`from_json`] reads it back (with the context known here, never fetched).
//! - Versioning: within version 1, properties are only added, as optional; anything else is version 2, with new
//!   IRIs, and both are read for as long as version 1 can be on a topic (its retention).
//! - [`router`] (feature `server`) serves both documents, so deployments resolve them from the adapter as well.
//!
//! ```
//! use oslc_events::{ChangeKind, Event, schema};
//! use oxrdf::NamedNode;
//!
//! let event = Event::new(ChangeKind::Deletion, NamedNode::new("https://tool.example/r/1")?).with_id_from("t-1");
//! let json = schema::to_json(&event)?;
//! assert_eq!(json["@context"], schema::CONTEXT_IRI);
//! assert_eq!(json["changed"], "https://tool.example/r/1");
//! assert_eq!(json["type"], serde_json::json!(["Event", "Deletion"]));
//! assert_eq!(schema::from_json(&json)?, event);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use oslc_core::rdf::{self, Prefixes, RdfFormat};
use serde_json::{Map, Value};

use crate::event::Event;
use crate::{Error, Result};

/// The version of the JSON form.
pub const VERSION: u32 = 1;

/// The IRI of the JSON-LD context of version 1 (the value of `@context` in [`to_json`]'s output).
pub const CONTEXT_IRI: &str = "https://w3id.org/st2-oslc/events/v1/context.jsonld";

/// The IRI of the JSON Schema of version 1 (CloudEvents `dataschema`).
pub const SCHEMA_IRI: &str = "https://w3id.org/st2-oslc/events/v1/schema.json";

/// The JSON-LD context of version 1.
pub const CONTEXT: &str = include_str!("schema/context-v1.jsonld");

/// The JSON Schema (2020-12) of version 1.
pub const SCHEMA: &str = include_str!("schema/event-v1.schema.json");

/// The event in the JSON form of version 1 (see the module docs).
///
/// # Errors
/// What writing the state as JSON-LD returns.
pub fn to_json(event: &Event) -> Result<Value> {
    let mut node = Map::new();
    node.insert("@context".into(), CONTEXT_IRI.into());
    node.insert("id".into(), event.id.as_str().into());
    let kind = event.kind.iri().as_str().rsplit('#').next().unwrap_or_default();
    let mut types = vec![Value::from("Event"), Value::from(kind)];
    types.extend(event.qualifiers.iter().map(|q| Value::from(q.as_str())));
    node.insert("type".into(), Value::Array(types));
    node.insert("changed".into(), event.changed.as_str().into());
    if let Some(order) = event.order {
        node.insert("order".into(), order.get().into());
    }
    node.insert("created".into(), event.created.to_string().into());
    if let Some(service_provider) = &event.service_provider {
        node.insert("serviceProvider".into(), service_provider.as_str().into());
    }
    if let Some(state) = &event.state {
        let bytes = rdf::serialize(state, jsonld()?, &Prefixes::new())?;
        let written: Value =
            serde_json::from_slice(&bytes).map_err(|e| Error::invalid(format!("the state's JSON-LD: {e}")))?;
        let nodes = match written {
            Value::Array(nodes) => nodes,
            Value::Object(mut document) => match document.remove("@graph") {
                Some(Value::Array(nodes)) => nodes,
                _ => vec![Value::Object(document)],
            },
            other => vec![other],
        };
        node.insert("@included".into(), Value::Array(nodes));
    }
    Ok(Value::Object(node))
}

/// The event in `json`, the JSON form of a version this crate knows (see [`to_json`]).
///
/// # Errors
/// [`Error::InvalidEvent`] for JSON of another form or version, or that holds no event; parse errors within
/// [`rdf::ParseLimits::default`].
pub fn from_json(json: &Value) -> Result<Event> {
    let mut document = json.as_object().cloned().ok_or_else(|| Error::invalid("an event in JSON is an object"))?;
    match document.get("@context").and_then(Value::as_str) {
        Some(CONTEXT_IRI) => {}
        other => return Err(Error::invalid(format!("an event in JSON with @context {other:?}, not {CONTEXT_IRI}"))),
    }
    // The context's own `@context` value, parsed once.
    static CONTEXT_VALUE: std::sync::LazyLock<Option<Value>> =
        std::sync::LazyLock::new(|| serde_json::from_str::<Value>(CONTEXT).ok()?.get("@context").cloned());
    let context = CONTEXT_VALUE.clone().ok_or_else(|| Error::invalid("the version 1 context does not parse"))?;
    document.insert("@context".into(), context);
    let bytes = serde_json::to_vec(&document).map_err(|e| Error::invalid(e.to_string()))?;
    Event::from_bytes(&bytes, jsonld()?)
}

fn jsonld() -> Result<RdfFormat> {
    Ok(rdf::content_type_format(Some("application/ld+json"))?)
}

/// Whether `json` is in a JSON form this crate knows (its `@context` is [`CONTEXT_IRI`]).
#[must_use]
pub fn is_json_form(json: &Value) -> bool {
    json.get("@context").and_then(Value::as_str) == Some(CONTEXT_IRI)
}

/// Serves the documents of every version at the paths of their IRIs: `/events/v1/context.jsonld`
/// (`application/ld+json`) and `/events/v1/schema.json` (`application/schema+json`), cacheable for a day.
#[cfg(feature = "server")]
pub fn router() -> axum::Router {
    use axum::routing::get;
    let document = |body: &'static str, media_type: &'static str| {
        move || async move {
            (
                [
                    (axum::http::header::CONTENT_TYPE, media_type),
                    (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
                ],
                body,
            )
        }
    };
    axum::Router::new()
        .route("/events/v1/context.jsonld", get(document(CONTEXT, "application/ld+json")))
        .route("/events/v1/schema.json", get(document(SCHEMA, "application/schema+json")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ChangeKind;
    use oxrdf::{Graph, Literal, NamedNode, TripleRef};

    fn event_with_state() -> Event {
        let changed = NamedNode::new_unchecked("https://tool.example/r/7");
        let mut state = Graph::new();
        let title = NamedNode::new_unchecked("http://purl.org/dc/terms/title");
        state.insert(TripleRef::new(&changed, &title, &Literal::new_simple_literal("seven")));
        let mut event = Event::new(ChangeKind::Modification, changed)
            .with_id_from("t-7")
            .with_qualifier(NamedNode::new_unchecked("https://w3id.org/st2-oslc/ns#RuleDisabled"));
        event.order = std::num::NonZeroU64::new(7);
        event.service_provider = Some(NamedNode::new_unchecked("https://tool.example/sp"));
        event.state = Some(state);
        event
    }

    #[test]
    fn the_json_form_reads_back_as_the_same_event_with_its_state() -> Result<()> {
        let event = event_with_state();
        let json = to_json(&event)?;
        assert_eq!(json["order"], 7);
        assert_eq!(json["serviceProvider"], "https://tool.example/sp");
        assert_eq!(json["type"][2], "https://w3id.org/st2-oslc/ns#RuleDisabled");
        assert!(json["@included"].as_array().is_some_and(|nodes| nodes.len() == 1), "{json}");
        assert_eq!(from_json(&json)?, event);
        Ok(())
    }

    #[test]
    fn other_contexts_are_refused() -> Result<()> {
        let mut json = to_json(&event_with_state())?;
        json["@context"] = "https://example.org/other".into();
        assert!(from_json(&json).is_err());
        assert!(from_json(&Value::from("not an object")).is_err());
        Ok(())
    }
}
