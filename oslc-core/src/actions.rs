//! OSLC Actions 3.0: actions a resource offers and their `http:Request` bindings (W3C HTTP Vocabulary in RDF),
//! as values written to and read from graphs.
//!
//! Actions are written under both namespaces in use: the Actions vocabulary file's `oslc_actions:action`,
//! `oslc_actions:Action`, `oslc_actions:binding`, and the specification text's `oslc:action`, `oslc:Action`,
//! `oslc:binding` (which Automation 2.1 consumers read). Reading accepts either. Bindings get IRIs
//! (`{action}-binding`), not blank nodes, so an RDF/XML round trip (GET, edit, PUT) keeps them intact.
//!
//! ```
//! use oslc_core::actions::{Action, HttpRequest};
//! use oxrdf::{Graph, NamedNode};
//!
//! let cr = NamedNode::new("http://tracker.example/crs/7")?;
//! let close = Action::new(NamedNode::new("http://tracker.example/crs/7#close")?, "Close")
//!     .with_binding(HttpRequest::new("POST", NamedNode::new("http://tracker.example/crs/7/close")?));
//! let mut graph = Graph::new();
//! close.write(cr.as_ref(), &mut graph);
//! let read = Action::read_all(&graph, cr.as_ref());
//! assert_eq!(read.len(), 1);
//! assert_eq!((&read[0].iri, read[0].title.as_str()), (&close.iri, "Close"));
//! let binding = read[0].binding().expect("a binding");
//! assert_eq!((binding.method.as_str(), binding.uri.as_str()), ("POST", "http://tracker.example/crs/7/close"));
//! // The binding was given an IRI when written, so it survives an RDF/XML round trip.
//! assert_eq!(binding.iri.as_ref().map(|b| b.as_str()), Some("http://tracker.example/crs/7#close-binding"));
//! Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use oxrdf::{Graph, Literal, NamedNode, NamedNodeRef, NamedOrBlankNodeRef, TermRef, TripleRef};

use crate::vocab::{dcterms, http, oslc, oslc_actions, rdf};

/// `oslc:action`, the Actions specification text's name for `oslc_actions:action`.
pub const OSLC_ACTION: NamedNodeRef<'static> = NamedNodeRef::new_unchecked("http://open-services.net/ns/core#action");
/// `oslc:binding`, the specification text's name for `oslc_actions:binding`.
pub const OSLC_BINDING: NamedNodeRef<'static> = NamedNodeRef::new_unchecked("http://open-services.net/ns/core#binding");
/// `oslc:finalStatusLocation`: the type of the resource whose URI the `Location` of the action's answer names.
pub const FINAL_STATUS_LOCATION: NamedNodeRef<'static> =
    NamedNodeRef::new_unchecked("http://open-services.net/ns/core#finalStatusLocation");

/// An action a resource offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// The action's IRI (conventionally `{resource}#{name}`).
    pub iri: NamedNode,
    /// `dcterms:title`.
    pub title: String,
    /// `dcterms:description`.
    pub description: Option<String>,
    /// How to run it; the first binding a client understands is the one to use.
    pub bindings: Vec<HttpRequest>,
}

/// An `http:Request` binding: the request that runs an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The binding's IRI (`{action}-binding` when written, if none is given).
    pub iri: Option<NamedNode>,
    /// `http:methodName`, such as `POST`.
    pub method: String,
    /// `http:requestURI`.
    pub uri: NamedNode,
    /// `http:headers`: fields to send, such as `Content-Type`.
    pub headers: Vec<(String, String)>,
    /// `http:body`, as text.
    pub body: Option<String>,
    /// `http:body` as a resource (its triples written beside the binding), sent as Turtle: what OSLC Actions'
    /// automation-request pattern asks for (an `oslc_auto:AutomationRequest`).
    pub body_resource: Option<crate::Resource>,
    /// `oslc:finalStatusLocation`: the type of the resource the answer's `Location` names.
    pub final_status_location: Option<NamedNode>,
}

impl HttpRequest {
    /// A request of `method` to `uri`, with no body or headers.
    #[must_use]
    pub fn new(method: impl Into<String>, uri: NamedNode) -> Self {
        Self {
            iri: None,
            method: method.into().to_ascii_uppercase(),
            uri,
            headers: Vec::new(),
            body: None,
            body_resource: None,
            final_status_location: None,
        }
    }

    /// Sets the body to a resource, linked from the binding and sent as Turtle.
    #[must_use]
    pub fn with_body_resource(mut self, body: crate::Resource) -> Self {
        self.body_resource = Some(body);
        self
    }

    /// Adds a header field.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets `oslc:finalStatusLocation`.
    #[must_use]
    pub fn with_final_status_location(mut self, resource_type: NamedNode) -> Self {
        self.final_status_location = Some(resource_type);
        self
    }

    fn write(&self, action: &NamedNode, graph: &mut Graph) -> NamedNode {
        let iri = self.iri.clone().unwrap_or_else(|| NamedNode::new_unchecked(format!("{}-binding", action.as_str())));
        let text = |s: &str| Literal::new_simple_literal(s);
        graph.insert(TripleRef::new(&iri, rdf::r#type, http::Request));
        graph.insert(TripleRef::new(&iri, http::methodName, &text(&self.method)));
        let method = NamedNode::new_unchecked(format!("http://www.w3.org/2011/http-methods#{}", self.method));
        graph.insert(TripleRef::new(&iri, http::mthd, &method));
        graph.insert(TripleRef::new(&iri, http::requestURI, &self.uri));
        graph.insert(TripleRef::new(&iri, http::httpVersion, &text("1.1")));
        for (i, (name, value)) in self.headers.iter().enumerate() {
            let header = NamedNode::new_unchecked(format!("{}-header-{i}", iri.as_str()));
            graph.insert(TripleRef::new(&iri, http::headers, &header));
            graph.insert(TripleRef::new(&header, rdf::r#type, http::RequestHeader));
            graph.insert(TripleRef::new(&header, http::fieldName, &text(name)));
            graph.insert(TripleRef::new(&header, http::fieldValue, &text(value)));
        }
        if let Some(body) = &self.body {
            graph.insert(TripleRef::new(&iri, http::body, &text(body)));
        } else if let Some(resource) = &self.body_resource {
            graph.insert(TripleRef::new(&iri, http::body, resource.subject()));
            for triple in resource.triples() {
                graph.insert(triple);
            }
        }
        if let Some(location) = &self.final_status_location {
            graph.insert(TripleRef::new(&iri, FINAL_STATUS_LOCATION, location));
        }
        iri
    }

    fn read(graph: &Graph, node: NamedOrBlankNodeRef<'_>) -> Option<Self> {
        let text = |p: NamedNodeRef<'_>| match graph.object_for_subject_predicate(node, p) {
            Some(TermRef::Literal(l)) => Some(l.value().to_owned()),
            _ => None,
        };
        let uri = match graph.object_for_subject_predicate(node, http::requestURI)? {
            TermRef::NamedNode(n) => n.into_owned(),
            TermRef::Literal(l) => NamedNode::new(l.value()).ok()?,
            TermRef::BlankNode(_) => return None,
        };
        let method = text(http::methodName).or_else(|| match graph.object_for_subject_predicate(node, http::mthd) {
            Some(TermRef::NamedNode(m)) => m.as_str().rsplit('#').next().map(str::to_owned),
            _ => None,
        })?;
        let headers = graph
            .objects_for_subject_predicate(node, http::headers)
            .filter_map(|h| {
                let h: NamedOrBlankNodeRef<'_> = match h {
                    TermRef::NamedNode(n) => n.into(),
                    TermRef::BlankNode(b) => b.into(),
                    TermRef::Literal(_) => return None,
                };
                let field = |p| match graph.object_for_subject_predicate(h, p) {
                    Some(TermRef::Literal(l)) => Some(l.value().to_owned()),
                    _ => None,
                };
                Some((field(http::fieldName)?, field(http::fieldValue)?))
            })
            .collect();
        let final_status_location = match graph.object_for_subject_predicate(node, FINAL_STATUS_LOCATION) {
            Some(TermRef::NamedNode(n)) => Some(n.into_owned()),
            _ => None,
        };
        Some(Self {
            iri: match node {
                NamedOrBlankNodeRef::NamedNode(n) => Some(n.into_owned()),
                NamedOrBlankNodeRef::BlankNode(_) => None,
            },
            method: method.to_ascii_uppercase(),
            uri,
            headers,
            body: text(http::body),
            body_resource: match graph.object_for_subject_predicate(node, http::body) {
                Some(TermRef::NamedNode(body)) => Some(crate::Resource::from_triples(
                    body.into_owned(),
                    graph.triples_for_subject(body).map(TripleRef::into_owned),
                )),
                _ => None,
            },
            final_status_location,
        })
    }
}

impl Action {
    /// An action with no binding yet.
    #[must_use]
    pub fn new(iri: NamedNode, title: impl Into<String>) -> Self {
        Self { iri, title: title.into(), description: None, bindings: Vec::new() }
    }

    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Adds a binding.
    #[must_use]
    pub fn with_binding(mut self, binding: HttpRequest) -> Self {
        self.bindings.push(binding);
        self
    }

    /// The first binding.
    #[must_use]
    pub fn binding(&self) -> Option<&HttpRequest> {
        self.bindings.first()
    }

    /// The last segment of the action's IRI: its fragment, such as `close` in `…/7#close`.
    #[must_use]
    pub fn name(&self) -> &str {
        self.iri.as_str().rsplit(['#', '/']).next().unwrap_or_default()
    }

    /// Writes the action as offered by `resource`, under both namespaces (see the module docs).
    pub fn write(&self, resource: NamedNodeRef<'_>, graph: &mut Graph) {
        let iri = &self.iri;
        for (action, class, binding) in [
            (oslc_actions::action, oslc_actions::Action, oslc_actions::binding),
            (OSLC_ACTION, oslc::Action, OSLC_BINDING),
        ] {
            graph.insert(TripleRef::new(resource, action, iri));
            graph.insert(TripleRef::new(iri, rdf::r#type, class));
            for request in &self.bindings {
                let written = request.write(iri, graph);
                graph.insert(TripleRef::new(iri, binding, &written));
            }
        }
        graph.insert(TripleRef::new(iri, dcterms::title, &Literal::new_simple_literal(&self.title)));
        if let Some(description) = &self.description {
            graph.insert(TripleRef::new(iri, dcterms::description, &Literal::new_simple_literal(description)));
        }
    }

    /// The actions `resource` offers in `graph`, under either namespace, each once, in IRI order.
    #[must_use]
    pub fn read_all(graph: &Graph, resource: NamedNodeRef<'_>) -> Vec<Self> {
        let mut iris: Vec<NamedNode> = [oslc_actions::action, OSLC_ACTION]
            .into_iter()
            .flat_map(|p| graph.objects_for_subject_predicate(resource, p))
            .filter_map(|t| match t {
                TermRef::NamedNode(n) => Some(n.into_owned()),
                _ => None,
            })
            .collect();
        iris.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        iris.dedup();
        iris.into_iter().map(|iri| Self::read(graph, iri)).collect()
    }

    /// The action `iri` as described in `graph`.
    #[must_use]
    pub fn read(graph: &Graph, iri: NamedNode) -> Self {
        let text = |p| match graph.object_for_subject_predicate(iri.as_ref(), p) {
            Some(TermRef::Literal(l)) => Some(l.value().to_owned()),
            _ => None,
        };
        let mut nodes: Vec<NamedOrBlankNodeRef<'_>> = [oslc_actions::binding, OSLC_BINDING]
            .into_iter()
            .flat_map(|p| graph.objects_for_subject_predicate(iri.as_ref(), p))
            .filter_map(|t| match t {
                TermRef::NamedNode(n) => Some(n.into()),
                TermRef::BlankNode(b) => Some(b.into()),
                TermRef::Literal(_) => None,
            })
            .collect();
        nodes.dedup();
        let mut bindings: Vec<HttpRequest> = Vec::new();
        for node in nodes {
            if let Some(request) = HttpRequest::read(graph, node)
                && !bindings.contains(&request)
            {
                bindings.push(request);
            }
        }
        Self { title: text(dcterms::title).unwrap_or_default(), description: text(dcterms::description), bindings, iri }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_namespaces_are_written_and_either_is_read() {
        let resource = NamedNode::new_unchecked("http://e.com/r");
        let action = Action::new(NamedNode::new_unchecked("http://e.com/r#run"), "Run")
            .with_description("Runs it")
            .with_binding(
                HttpRequest::new("post", NamedNode::new_unchecked("http://e.com/r/run"))
                    .with_header("Content-Type", "text/turtle")
                    .with_body("<> a <http://e.com/Run> .")
                    .with_final_status_location(NamedNode::new_unchecked("http://e.com/Result")),
            );
        let mut graph = Graph::new();
        action.write(resource.as_ref(), &mut graph);
        assert!(graph.contains(TripleRef::new(&resource, oslc_actions::action, &action.iri)));
        assert!(graph.contains(TripleRef::new(&resource, OSLC_ACTION, &action.iri)));
        assert_eq!(graph.triples_for_predicate(rdf::r#type).filter(|t| t.object == http::Request.into()).count(), 1);
        let read = Action::read_all(&graph, resource.as_ref());
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].bindings.len(), 1);
        assert_eq!(read[0].bindings[0].method, "POST");
        assert_eq!(read[0].bindings[0].headers, [("Content-Type".to_owned(), "text/turtle".to_owned())]);
        // Only the spec text's namespace, with a blank-node binding, as other servers write it.
        let mut other = Graph::new();
        let binding = oxrdf::BlankNode::default();
        other.insert(TripleRef::new(&resource, OSLC_ACTION, &action.iri));
        other.insert(TripleRef::new(&action.iri, OSLC_BINDING, &binding));
        other.insert(TripleRef::new(&binding, http::methodName, &Literal::new_simple_literal("DELETE")));
        other.insert(TripleRef::new(&binding, http::requestURI, &resource));
        let read = Action::read_all(&other, resource.as_ref());
        assert_eq!(read[0].binding().map(|b| (b.method.as_str(), b.uri.as_str())), Some(("DELETE", "http://e.com/r")));
    }
}
