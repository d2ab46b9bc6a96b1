//! OSLC Events: a change to a resource, as a TRS change event with an id, an order, a time and optionally the
//! resource's state after the change (DESIGN.md §5).
//!
//! ```
//! use oslc_events::{ChangeKind, Event};
//! use oxrdf::NamedNode;
//!
//! let rule = NamedNode::new("https://st2-oslc.example/serviceProviders/1/changeRequests/58eddb87")?;
//! let event = Event::new(ChangeKind::Creation, rule).with_id_from("resume-token-1");
//! assert_eq!(event.order, None, "an event gets its order when it is logged");
//! let turtle = event.to_bytes(oslc_core::rdf::RdfFormat::Turtle)?;
//! assert_eq!(Event::from_bytes(&turtle, oslc_core::rdf::RdfFormat::Turtle)?, event);
//! Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use std::num::NonZeroU64;
use std::str::FromStr;

use oslc_core::rdf::{self, Prefixes, RdfFormat};
use oslc_core::vocab::{dcterms, oslc, rdf as rdf_ns, trs, xsd};
use oxrdf::{Graph, Literal, NamedNode, NamedNodeRef, NamedOrBlankNodeRef, TermRef, Triple, TripleRef};
pub use oxsdatatypes::DateTime;
use serde::{Deserialize, Serialize};

use crate::vocab;
use crate::{Error, Result};

/// What happened to the changed resource (the TRS change event types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChangeKind {
    /// `trs:Creation`
    Creation,
    /// `trs:Modification`
    Modification,
    /// `trs:Deletion`
    Deletion,
}

impl ChangeKind {
    /// The TRS type.
    #[must_use]
    pub fn iri(self) -> oxrdf::NamedNodeRef<'static> {
        match self {
            Self::Creation => trs::Creation,
            Self::Modification => trs::Modification,
            Self::Deletion => trs::Deletion,
        }
    }

    fn from_iri(iri: &str) -> Option<Self> {
        [Self::Creation, Self::Modification, Self::Deletion].into_iter().find(|k| k.iri().as_str() == iri)
    }
}

/// The namespace of ids derived from source keys (a UUID v5 namespace of this crate's own).
const ID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6f5c_1e3a_9b7d_4c21_8e0f_5a4b_3c2d_1e0f);

/// An OSLC Event: a change to one resource.
///
/// ```
/// use oslc_events::{ChangeKind, Event};
/// use oxrdf::NamedNode;
///
/// let rule = NamedNode::new("https://st2-oslc.example/serviceProviders/1/changeRequests/58eddb871878c12be65c9fdd")?;
/// let event = Event::new(ChangeKind::Modification, rule).with_id_from("resume-token-42");
/// // Re-processing the same change gives the same id, so consumers can deduplicate.
/// assert_eq!(event.id, Event::new(ChangeKind::Modification, event.changed.clone()).with_id_from("resume-token-42").id);
/// let turtle = String::from_utf8(event.to_bytes(oslc_core::rdf::RdfFormat::Turtle)?)?;
/// assert!(turtle.contains("trs:Modification"));
/// Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `urn:uuid:…`
    pub id: NamedNode,
    /// Creation, modification or deletion.
    pub kind: ChangeKind,
    /// More types an adapter gives the event, such as `st2:RuleDisabled`.
    pub qualifiers: Vec<NamedNode>,
    /// The changed resource (`trs:changed`).
    pub changed: NamedNode,
    /// Its place in the log (`trs:order`), strictly increasing from 1; `None` until [`crate::EventLog::append`]
    /// gives it one.
    pub order: Option<NonZeroU64>,
    /// When the change was seen (`dcterms:created`).
    pub created: DateTime,
    /// The service provider of the changed resource.
    pub service_provider: Option<NamedNode>,
    /// The resource's triples after the change (for creations and modifications).
    pub state: Option<Graph>,
}

/// The current time, in UTC.
#[must_use]
pub fn now() -> DateTime {
    DateTime::now()
}

impl Event {
    /// A change of `kind` to `changed`, now, with a random id.
    #[must_use]
    pub fn new(kind: ChangeKind, changed: NamedNode) -> Self {
        Self {
            id: NamedNode::new_unchecked(format!("urn:uuid:{}", uuid::Uuid::new_v4())),
            kind,
            qualifiers: Vec::new(),
            changed,
            order: None,
            created: now(),
            service_provider: None,
            state: None,
        }
    }

    /// Derives the id from a key of the change at its source (such as a change stream's resume token), so that
    /// processing the same change again gives the same id.
    #[must_use]
    pub fn with_id_from(mut self, source_key: &str) -> Self {
        self.id =
            NamedNode::new_unchecked(format!("urn:uuid:{}", uuid::Uuid::new_v5(&ID_NAMESPACE, source_key.as_bytes())));
        self
    }

    /// Adds a qualifier type.
    #[must_use]
    pub fn with_qualifier(mut self, qualifier: NamedNode) -> Self {
        self.qualifiers.push(qualifier);
        self
    }

    /// Sets the service provider.
    #[must_use]
    pub fn with_service_provider(mut self, service_provider: NamedNode) -> Self {
        self.service_provider = Some(service_provider);
        self
    }

    /// Sets the resource's state after the change.
    #[must_use]
    pub fn with_state(mut self, state: Graph) -> Self {
        self.state = Some(state);
        self
    }

    /// The event without the resource's state (for keeping its identity and order after the state was delivered).
    #[must_use]
    pub fn without_state(mut self) -> Self {
        self.state = None;
        self
    }

    /// Sets when the change happened.
    #[must_use]
    pub fn with_created(mut self, created: DateTime) -> Self {
        self.created = created;
        self
    }

    /// Its order as a number: 0 for an event not yet logged (which sorts before every logged one).
    #[must_use]
    pub fn order_number(&self) -> u64 {
        self.order.map_or(0, NonZeroU64::get)
    }

    /// Whether the event has `qualifier` among its types.
    #[must_use]
    pub fn has_qualifier(&self, qualifier: oxrdf::NamedNodeRef<'_>) -> bool {
        self.qualifiers.iter().any(|q| q.as_ref() == qualifier)
    }

    /// The event as RDF: the event node, then the resource's state (DESIGN.md §5).
    #[must_use]
    pub fn to_graph(&self) -> Graph {
        let mut graph = self.state.clone().unwrap_or_default();
        self.insert_node(&mut graph);
        graph.insert(TripleRef::new(&self.id, rdf_ns::r#type, vocab::Event));
        graph
    }

    /// Writes the event node alone (its change type and qualifiers, `trs:changed`, `trs:order` once logged,
    /// `dcterms:created`, `oslc:serviceProvider`) into `graph`: the one place the event's RDF form is written, for
    /// messages and for TRS change logs alike.
    pub fn insert_node(&self, graph: &mut Graph) {
        for triple in self.node_triples() {
            graph.insert(&triple);
        }
    }

    /// The triples of the event node (what [`Event::insert_node`] writes).
    fn node_triples(&self) -> Vec<Triple> {
        let s = &self.id;
        let mut triples = Vec::with_capacity(6 + self.qualifiers.len());
        triples.push(Triple::new(s.clone(), rdf_ns::r#type, self.kind.iri().into_owned()));
        for qualifier in &self.qualifiers {
            triples.push(Triple::new(s.clone(), rdf_ns::r#type, qualifier.clone()));
        }
        triples.push(Triple::new(s.clone(), trs::changed, self.changed.clone()));
        if let Some(order) = self.order {
            triples.push(Triple::new(
                s.clone(),
                trs::order,
                Literal::new_typed_literal(order.to_string(), xsd::integer),
            ));
        }
        triples.push(Triple::new(
            s.clone(),
            dcterms::created,
            Literal::new_typed_literal(self.created.to_string(), xsd::dateTime),
        ));
        if let Some(sp) = &self.service_provider {
            triples.push(Triple::new(s.clone(), oslc::serviceProvider, sp.clone()));
        }
        triples
    }

    /// Reads the event node `id` of `graph` (what [`Event::insert_node`] writes), without any state: the one
    /// place the event's RDF form is read. A missing `dcterms:created` reads as now.
    ///
    /// # Errors
    /// [`Error::InvalidEvent`] naming what is missing or malformed.
    pub fn from_node(graph: &Graph, id: NamedNodeRef<'_>) -> Result<Self> {
        let mut kind = None;
        let mut qualifiers = Vec::new();
        for ty in graph.objects_for_subject_predicate(id, rdf_ns::r#type) {
            if let TermRef::NamedNode(ty) = ty {
                match ChangeKind::from_iri(ty.as_str()) {
                    Some(k) => kind = Some(k),
                    None if ty == vocab::Event => {}
                    None => qualifiers.push(ty.into_owned()),
                }
            }
        }
        qualifiers.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        let named = |p| match graph.object_for_subject_predicate(id, p) {
            Some(TermRef::NamedNode(n)) => Some(n.into_owned()),
            _ => None,
        };
        let literal = |p| match graph.object_for_subject_predicate(id, p) {
            Some(TermRef::Literal(l)) => Some(l.value().to_owned()),
            _ => None,
        };
        let order = match literal(trs::order) {
            None => None,
            Some(o) => Some(o.parse().map_err(|_| Error::invalid(format!("{id} has trs:order {o:?}, not 1 or more")))?),
        };
        let created = match literal(dcterms::created) {
            None => now(),
            Some(c) => DateTime::from_str(&c)
                .map_err(|e| Error::invalid(format!("{id} has dcterms:created {c:?}, not an xsd:dateTime: {e}")))?,
        };
        Ok(Self {
            id: id.into_owned(),
            kind: kind.ok_or_else(|| {
                Error::invalid(format!("{id} has no trs:Creation, trs:Modification or trs:Deletion type"))
            })?,
            qualifiers,
            changed: named(trs::changed).ok_or_else(|| Error::invalid(format!("{id} has no trs:changed")))?,
            order,
            created,
            service_provider: named(oslc::serviceProvider),
            state: None,
        })
    }

    /// The event in `graph`: the node typed `oslc_events:Event` (or, failing that, the one with `trs:changed`).
    ///
    /// # Errors
    /// [`Error::InvalidEvent`] naming what is missing.
    pub fn from_graph(graph: &Graph) -> Result<Self> {
        let node = graph
            .subject_for_predicate_object(rdf_ns::r#type, vocab::Event)
            .or_else(|| graph.triples_for_predicate(trs::changed).next().map(|t| t.subject))
            .ok_or_else(|| Error::invalid("no node typed oslc_events:Event or with trs:changed"))?;
        let NamedOrBlankNodeRef::NamedNode(id) = node else {
            return Err(Error::invalid("the event node has no IRI"));
        };
        let mut event = Self::from_node(graph, id)?;
        let state: Graph = graph
            .iter()
            .filter(|t| t.subject != node)
            .map(TripleRef::into_owned)
            .collect::<Vec<Triple>>()
            .iter()
            .collect();
        event.state = (!state.is_empty()).then_some(state);
        Ok(event)
    }

    /// The event serialized in `format` (Turtle is what Kafka carries by default).
    ///
    /// # Errors
    /// What the serializer returns.
    pub fn to_bytes(&self, format: RdfFormat) -> Result<Vec<u8>> {
        // Written straight from the state's triples and the node's, without building the graph of `to_graph`.
        static PREFIXES: std::sync::LazyLock<Prefixes> = std::sync::LazyLock::new(prefixes);
        let mut node = self.node_triples();
        node.push(Triple::new(self.id.clone(), rdf_ns::r#type, vocab::Event));
        let state: Vec<TripleRef<'_>> = self.state.iter().flat_map(Graph::iter).collect();
        Ok(rdf::serialize_triples(state.iter().copied().chain(node.iter().map(Triple::as_ref)), format, &PREFIXES)?)
    }

    /// The event read from bytes in `format`, within [`rdf::ParseLimits::default`] (bytes from Kafka or a remote
    /// TRS are outside input).
    ///
    /// # Errors
    /// [`Error::Oslc`] for a syntax error or bytes over a budget; [`Error::InvalidEvent`] for RDF that is no event.
    pub fn from_bytes(bytes: &[u8], format: RdfFormat) -> Result<Self> {
        let graph = rdf::parse(bytes, format, "urn:oslc-events:")?;
        Self::from_graph(&graph)
    }
}

/// The prefixes events are written with: OSLC's and `oslc_events`.
#[must_use]
pub fn prefixes() -> Prefixes {
    let mut prefixes = oslc_core::vocab::standard_prefixes();
    prefixes.insert(vocab::PREFIX, vocab::NS);
    prefixes
}

/// How the log backends store events: the event's own RDF form ([`Event::to_graph`]) as N-Triples, read back with
/// [`Event::from_graph`], the one codec of messages, TRS change logs and storage. Logs written before 0.2 hold
/// compact JSON (the state as N-Triples), still read.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(not(feature = "redb"), allow(dead_code))]
pub(crate) struct StoredEvent {
    id: String,
    kind: ChangeKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    qualifiers: Vec<String>,
    changed: String,
    order: Option<NonZeroU64>,
    created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service_provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state: Option<String>,
}

#[cfg_attr(not(feature = "redb"), allow(dead_code))]
impl StoredEvent {
    pub(crate) fn encode(event: &Event) -> Result<Vec<u8>> {
        event.to_bytes(RdfFormat::NTriples)
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Event> {
        if bytes.first() != Some(&b'{') {
            // The log's own bytes, written by this process: no budgets but the DTD refusal.
            let graph =
                rdf::parse_with_limits(bytes, RdfFormat::NTriples, "urn:oslc-events:", &rdf::ParseLimits::unlimited())?;
            return Event::from_graph(&graph);
        }
        let stored: Self = serde_json::from_slice(bytes).map_err(|e| Error::invalid(format!("stored event: {e}")))?;
        let iri = |s: String| NamedNode::new(s).map_err(|e| Error::invalid(format!("stored event IRI: {e}")));
        Ok(Event {
            id: iri(stored.id)?,
            kind: stored.kind,
            qualifiers: stored.qualifiers.into_iter().map(iri).collect::<Result<_>>()?,
            changed: iri(stored.changed)?,
            order: stored.order,
            created: DateTime::from_str(&stored.created)
                .map_err(|e| Error::invalid(format!("stored event time {:?}: {e}", stored.created)))?,
            service_provider: stored.service_provider.map(iri).transpose()?,
            state: match stored.state {
                // The log's own bytes, written by this process: no budgets but the DTD refusal.
                Some(nt) => Some(rdf::parse_with_limits(
                    nt.as_bytes(),
                    RdfFormat::NTriples,
                    "urn:oslc-events:",
                    &rdf::ParseLimits::unlimited(),
                )?),
                None => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        let rule = NamedNode::new_unchecked(
            "https://st2-oslc.example/serviceProviders/1/changeRequests/58eddb871878c12be65c9fdd",
        );
        let mut state = Graph::new();
        state.insert(TripleRef::new(&rule, dcterms::title, &Literal::new_simple_literal("sample_rule")));
        let mut event = Event::new(ChangeKind::Modification, rule)
            .with_qualifier(NamedNode::new_unchecked("https://w3id.org/st2-oslc/ns#RuleDisabled"))
            .with_service_provider(NamedNode::new_unchecked("https://st2-oslc.example/serviceProviders/1"))
            .with_state(state);
        event.order = NonZeroU64::new(42);
        event
    }

    #[test]
    fn every_format_round_trips() {
        let event = sample();
        for format in oslc_core::rdf::FORMATS {
            let bytes = event.to_bytes(format).unwrap_or_default();
            assert_eq!(Event::from_bytes(&bytes, format).ok().as_ref(), Some(&event), "{}", format.name());
        }
        let stored = StoredEvent::encode(&event).unwrap_or_default();
        assert_eq!(StoredEvent::decode(&stored).ok(), Some(event));
    }

    #[test]
    fn records_of_earlier_logs_are_still_read() {
        let event = sample();
        let state = String::from_utf8(
            rdf::serialize(event.state.as_ref().unwrap_or(&Graph::new()), RdfFormat::NTriples, &Prefixes::new())
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        let legacy = serde_json::json!({
            "id": event.id.as_str(),
            "kind": "Modification",
            "qualifiers": ["https://w3id.org/st2-oslc/ns#RuleDisabled"],
            "changed": event.changed.as_str(),
            "order": 42,
            "created": event.created.to_string(),
            "service_provider": "https://st2-oslc.example/serviceProviders/1",
            "state": state,
        });
        let bytes = serde_json::to_vec(&legacy).unwrap_or_default();
        assert_eq!(StoredEvent::decode(&bytes).ok(), Some(event.clone()));
        assert!(StoredEvent::encode(&event).unwrap_or_default().starts_with(b"<"), "new records are N-Triples");
    }

    #[test]
    fn same_source_key_same_id() {
        let a = sample().with_id_from("token-1");
        let b = sample().with_id_from("token-1");
        let c = sample().with_id_from("token-2");
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert!(a.id.as_str().starts_with("urn:uuid:"));
    }
}
