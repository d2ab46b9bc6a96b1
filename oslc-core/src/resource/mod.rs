//! OSLC resources: a subject IRI with its triples, typed conversion, and ETags computed from the canonical triples.
//!
//! ```
//! use oslc_core::{Resource, vocab::{dcterms, oslc_cm}};
//! use oxrdf::{Literal, NamedNode};
//!
//! let mut cr = Resource::new(NamedNode::new("http://example.com/crs/1")?);
//! cr.add_type(oslc_cm::ChangeRequest);
//! cr.insert(dcterms::title, &Literal::new_simple_literal("Crash on start"));
//! let before = cr.etag();
//! cr.insert(dcterms::identifier, &Literal::new_simple_literal("1"));
//! assert_ne!(before, cr.etag());
//! assert_eq!(cr.string(dcterms::title).as_deref(), Some("Crash on start"));
//! Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use std::sync::{Arc, OnceLock};

use oxrdf::{Graph, NamedNode, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, Term, TermRef, Triple, TripleRef};

use crate::Result;
use crate::vocab::rdf;

mod compact;
mod etag;

use compact::Compact;
pub use etag::ETag;

/// Writes a typed value as triples about a subject.
///
/// Implement it for the structs of your tool's resources; discovery types in this crate implement it too.
pub trait ToGraph {
    /// Adds the triples describing `subject` (and any nested nodes) to `graph`.
    fn add_to_graph(&self, subject: NamedOrBlankNodeRef<'_>, graph: &mut Graph);
}

/// Reads a typed value from the triples about a subject.
pub trait FromGraph: Sized {
    /// Reads the value described by `subject` in `graph`.
    ///
    /// # Errors
    /// [`Error::InvalidResource`](crate::Error::InvalidResource) naming the property that is missing or of the wrong kind.
    fn from_graph(subject: NamedOrBlankNodeRef<'_>, graph: &Graph) -> Result<Self>;
}

/// An OSLC resource: its IRI and the triples of its representation.
///
/// The triples may also describe other subjects (nested blank nodes, inlined resources). A resource is shared on
/// clone (copy on write), so a provider can hand out resources it caches without copying them.
///
/// Triples are held compactly, in one deterministic order: the subject's own properties sorted by predicate
/// (`rdf:type` first) and value, then the other subjects' triples sorted the same way. That order is the order
/// [`Resource::triples`] gives and the serializers write, so a resource's representation does not change between
/// runs. An [`oxrdf::Graph`] of the triples is built only when [`Resource::graph`] asks for one (it takes several
/// times the memory); reading a resource through [`Resource::objects`], [`Resource::triples`] and
/// [`Resource::triples_of`] never builds it.
#[derive(Debug, Clone)]
pub struct Resource(Arc<ResourceData>);

#[derive(Debug, Clone)]
struct ResourceData {
    subject: NamedNode,
    /// The triples, compactly; built from `editing` when that changed them.
    compact: OnceLock<Compact>,
    /// The graph handed out by [`Resource::graph_mut`], authoritative while it exists.
    editing: Option<Box<Graph>>,
    /// A graph view built on first use of [`Resource::graph`] (boxed: an empty `Graph` alone is a few hundred
    /// bytes, and most resources never need one).
    view: OnceLock<Box<Graph>>,
    /// The ETag, computed on first use (canonicalization is the costly part of serving a resource).
    etag: OnceLock<ETag>,
}

impl PartialEq for Resource {
    fn eq(&self, other: &Self) -> bool {
        self.0.subject == other.0.subject && self.compact() == other.compact()
    }
}

impl Eq for Resource {}

impl Resource {
    /// A resource with no triples yet.
    #[must_use]
    pub fn new(subject: NamedNode) -> Self {
        Self::from_triples(subject, [])
    }

    /// A resource whose representation is `graph`.
    #[must_use]
    pub fn from_graph(subject: NamedNode, graph: Graph) -> Self {
        let compact = Compact::of_graph(subject.as_ref(), &graph);
        Self::from_compact(subject, compact)
    }

    /// A resource whose representation is `triples` (duplicates count once).
    #[must_use]
    pub fn from_triples(subject: NamedNode, triples: impl IntoIterator<Item = Triple>) -> Self {
        let compact = Compact::new(subject.as_ref(), triples);
        Self::from_compact(subject, compact)
    }

    fn from_compact(subject: NamedNode, compact: Compact) -> Self {
        Self(Arc::new(ResourceData {
            subject,
            compact: OnceLock::from(compact),
            editing: None,
            view: OnceLock::new(),
            etag: OnceLock::new(),
        }))
    }

    /// The resource written from a typed value.
    #[must_use]
    pub fn from_value<T: ToGraph + ?Sized>(subject: NamedNode, value: &T) -> Self {
        let mut graph = Graph::new();
        value.add_to_graph(subject.as_ref().into(), &mut graph);
        Self::from_graph(subject, graph)
    }

    /// Reads a typed value from this resource.
    ///
    /// # Errors
    /// What `T::from_graph` returns.
    pub fn to_value<T: FromGraph>(&self) -> Result<T> {
        T::from_graph(self.0.subject.as_ref().into(), self.graph())
    }

    /// The resource's IRI.
    #[must_use]
    pub fn subject(&self) -> NamedNodeRef<'_> {
        self.0.subject.as_ref()
    }

    fn compact(&self) -> &Compact {
        self.0.compact.get_or_init(|| match &self.0.editing {
            Some(graph) => Compact::of_graph(self.0.subject.as_ref(), graph),
            None => Compact::default(),
        })
    }

    /// Every triple, in the resource's deterministic order (see [`Resource`]).
    pub fn triples(&self) -> impl Iterator<Item = TripleRef<'_>> + Clone {
        self.compact().triples(self.0.subject.as_ref())
    }

    /// The triples whose subject is `node`: the resource's own properties, or those of a nested node.
    pub fn triples_of<'a>(&'a self, node: NamedOrBlankNodeRef<'a>) -> Box<dyn Iterator<Item = TripleRef<'a>> + 'a> {
        let compact = self.compact();
        if node == self.0.subject.as_ref().into() {
            Box::new(compact.own.iter().map(move |(p, o)| TripleRef::new(node, p.as_ref(), o.as_ref())))
        } else {
            Box::new(compact.others_of(node))
        }
    }

    /// The objects of `node predicate *`, for the resource's subject or a nested node.
    pub fn objects_of<'a>(
        &'a self,
        node: NamedOrBlankNodeRef<'a>,
        predicate: NamedNodeRef<'a>,
    ) -> Box<dyn Iterator<Item = TermRef<'a>> + 'a> {
        if node == self.0.subject.as_ref().into() {
            Box::new(self.objects(predicate))
        } else {
            Box::new(self.compact().others_of(node).filter(move |t| t.predicate == predicate).map(|t| t.object))
        }
    }

    /// How many triples the representation has.
    #[must_use]
    pub fn len(&self) -> usize {
        self.compact().len()
    }

    /// Whether the representation has no triples.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The triples as a graph, built on first use and kept with the resource.
    ///
    /// Prefer [`Resource::triples`], [`Resource::triples_of`] and [`Resource::objects`] on resources you keep:
    /// an `oxrdf::Graph` takes several times the memory of the resource's own form.
    #[must_use]
    pub fn graph(&self) -> &Graph {
        match &self.0.editing {
            Some(graph) => graph,
            None => self.0.view.get_or_init(|| Box::new(self.compact().to_graph(self.0.subject.as_ref()))),
        }
    }

    /// The triples, for changing them.
    pub fn graph_mut(&mut self) -> &mut Graph {
        let data = Arc::make_mut(&mut self.0);
        data.etag = OnceLock::new();
        let view = data.view.take();
        let compact = data.compact.take();
        let subject = data.subject.as_ref();
        data.editing.get_or_insert_with(|| {
            view.unwrap_or_else(|| Box::new(compact.map(|c| c.to_graph(subject)).unwrap_or_default()))
        })
    }

    /// Rebuilds the triples with `edit` applied.
    fn edit(&mut self, edit: impl FnOnce(&mut Vec<Triple>)) {
        let mut triples: Vec<Triple> = self.triples().map(TripleRef::into_owned).collect();
        edit(&mut triples);
        let compact = Compact::new(self.0.subject.as_ref(), triples);
        let data = Arc::make_mut(&mut self.0);
        data.editing = None;
        data.view = OnceLock::new();
        data.etag = OnceLock::new();
        data.compact = OnceLock::from(compact);
    }

    /// The subject's own properties and their values, in the resource's order.
    pub fn properties(&self) -> impl Iterator<Item = (NamedNodeRef<'_>, TermRef<'_>)> {
        self.compact().own.iter().map(|(p, o)| (p.as_ref(), o.as_ref()))
    }

    /// Consumes the resource, giving its subject and triples.
    #[must_use]
    pub fn into_parts(self) -> (NamedNode, Graph) {
        let data = Arc::unwrap_or_clone(self.0);
        let graph = match (data.editing, data.view.into_inner(), data.compact.into_inner()) {
            (Some(graph), _, _) => *graph,
            (None, Some(graph), _) => *graph,
            (None, None, Some(compact)) => compact.to_graph(data.subject.as_ref()),
            (None, None, None) => Graph::new(),
        };
        (data.subject, graph)
    }

    /// Adds `subject predicate object`.
    pub fn insert<'a>(&mut self, predicate: NamedNodeRef<'_>, object: impl Into<TermRef<'a>>) {
        let triple = TripleRef::new(self.0.subject.as_ref(), predicate, object.into()).into_owned();
        self.edit(|triples| triples.push(triple));
    }

    /// Removes every `subject predicate *` and adds `subject predicate object`.
    pub fn set<'a>(&mut self, predicate: NamedNodeRef<'_>, object: impl Into<TermRef<'a>>) {
        let subject = self.0.subject.clone();
        let triple = TripleRef::new(subject.as_ref(), predicate, object.into()).into_owned();
        self.edit(|triples| {
            triples.retain(|t| !(t.predicate.as_ref() == predicate && t.subject.as_ref() == subject.as_ref().into()));
            triples.push(triple);
        });
    }

    /// Removes every `subject predicate *`.
    pub fn remove_all(&mut self, predicate: NamedNodeRef<'_>) {
        let subject = self.0.subject.clone();
        self.edit(|triples| {
            triples.retain(|t| !(t.predicate.as_ref() == predicate && t.subject.as_ref() == subject.as_ref().into()));
        });
    }

    /// Adds `rdf:type ty`.
    pub fn add_type(&mut self, ty: NamedNodeRef<'_>) {
        self.insert(rdf::r#type, ty);
    }

    /// Whether the resource has `rdf:type ty`.
    #[must_use]
    pub fn has_type(&self, ty: NamedNodeRef<'_>) -> bool {
        self.objects(rdf::r#type).any(|t| t == ty.into())
    }

    /// The first object of `predicate`, if any (in the resource's order).
    #[must_use]
    pub fn object(&self, predicate: NamedNodeRef<'_>) -> Option<TermRef<'_>> {
        self.objects(predicate).next()
    }

    /// Every object of `predicate`.
    pub fn objects(&self, predicate: NamedNodeRef<'_>) -> impl Iterator<Item = TermRef<'_>> {
        self.compact().objects(predicate)
    }

    /// The text of the literal object of `predicate`, if there is one: its lexical value, or the text content of
    /// an `rdf:XMLLiteral` ([`crate::rdf::literal_text`]).
    #[must_use]
    pub fn string(&self, predicate: NamedNodeRef<'_>) -> Option<String> {
        self.objects(predicate).find_map(|o| match o {
            TermRef::Literal(l) => Some(crate::rdf::literal_text(l).into_owned()),
            _ => None,
        })
    }

    /// Renames the subject (in subject and object positions), as when a creation factory mints the new IRI.
    #[must_use]
    pub fn with_subject(self, subject: NamedNode) -> Self {
        let from: NamedOrBlankNodeRef<'_> = self.0.subject.as_ref().into();
        let triples: Vec<Triple> = self.triples().map(|t| rename_triple(t, from, &subject)).collect();
        Self::from_triples(subject, triples)
    }

    /// The resource's ETag: a hash of its canonical triples (RDFC-1.0), so it does not depend on triple order,
    /// blank-node labels or the syntax the resource is served in.
    #[must_use]
    pub fn etag(&self) -> ETag {
        self.0.etag.get_or_init(|| ETag::of_triples(self.triples())).clone()
    }

    /// The ETag if [`Resource::etag`] computed it already (on this resource or a clone of it).
    #[cfg(feature = "server")]
    pub(crate) fn computed_etag(&self) -> Option<&ETag> {
        self.0.etag.get()
    }
}

fn rename_triple(t: TripleRef<'_>, from: NamedOrBlankNodeRef<'_>, to: &NamedNode) -> Triple {
    let subject: NamedOrBlankNode = if t.subject == from { to.clone().into() } else { t.subject.into_owned() };
    let object: Term = match t.object {
        TermRef::NamedNode(n) if NamedOrBlankNodeRef::from(n) == from => to.clone().into(),
        TermRef::BlankNode(b) if NamedOrBlankNodeRef::from(b) == from => to.clone().into(),
        o => o.into_owned(),
    };
    Triple::new(subject, t.predicate.into_owned(), object)
}

/// Copies `graph` with `from` renamed to `to`.
#[cfg(feature = "server")]
pub(crate) fn rename(graph: &Graph, from: NamedOrBlankNodeRef<'_>, to: &NamedNode) -> Graph {
    let mut out = Graph::new();
    for t in graph {
        out.insert(&rename_triple(t, from, to));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdf::{RdfFormat, parse};

    fn etag_of(turtle: &str) -> ETag {
        #[allow(clippy::unwrap_used)]
        ETag::of_graph(&parse(turtle.as_bytes(), RdfFormat::Turtle, "http://example.com/").unwrap())
    }

    #[test]
    fn etag_ignores_order_labels_and_syntax() {
        let a = etag_of("<r> <p> _:x . _:x <q> \"1\" . <r> <t> \"v\" .");
        let b = etag_of("<r> <t> \"v\" ; <p> [ <q> \"1\" ] .");
        assert_eq!(a, b);
        assert_ne!(a, etag_of("<r> <t> \"v\" ; <p> [ <q> \"2\" ] ."));
        assert_ne!(a, etag_of("<r> <t> \"v\" ; <p> [ <q> \"1\" ] ; <p> [ <q> \"1\" ] ."));
    }

    #[test]
    fn if_match_is_strong_and_if_none_match_weak() {
        let tag = etag_of("<r> <p> <o> .");
        let quoted = tag.to_string();
        assert!(tag.satisfies_if_match(&quoted));
        assert!(tag.satisfies_if_match(&format!("\"other\", {quoted}")));
        assert!(tag.satisfies_if_match("*"));
        assert!(!tag.satisfies_if_match(&format!("W/{quoted}")));
        assert!(!tag.satisfies_if_match("\"other\""));
        assert!(!tag.satisfies_if_match(tag.opaque()));
        assert!(tag.matches_if_none_match(&format!("W/{quoted}")));
        assert!(!tag.matches_if_none_match("\"other\""));
    }

    #[test]
    fn triples_come_in_one_order_whatever_order_they_were_read_in() {
        let base = "http://e.com/";
        let subject = NamedNode::new_unchecked("http://e.com/r");
        let a = parse(b"<r> <z> \"2\", \"1\" ; <a> _:n ; a <T> . _:n <q> \"x\" .", RdfFormat::Turtle, base)
            .unwrap_or_default();
        let b = parse(b"_:m <q> \"x\" . <r> a <T> ; <a> _:m ; <z> \"1\", \"2\" .", RdfFormat::Turtle, base)
            .unwrap_or_default();
        let (a, b) = (Resource::from_graph(subject.clone(), a), Resource::from_graph(subject.clone(), b));
        let predicates = |r: &Resource| r.triples().map(|t| t.predicate.as_str().to_owned()).collect::<Vec<_>>();
        assert_eq!(predicates(&a), predicates(&b));
        assert_eq!(predicates(&a)[0], rdf::r#type.as_str(), "rdf:type comes first");
        let values: Vec<String> =
            a.objects(NamedNodeRef::new_unchecked("http://e.com/z")).map(|o| o.to_string()).collect();
        assert_eq!(values, ["\"1\"", "\"2\""]);
        assert_eq!(a.etag(), b.etag());
        let nested = a.object(NamedNodeRef::new_unchecked("http://e.com/a"));
        let Some(TermRef::BlankNode(n)) = nested else { panic!("no nested node: {nested:?}") };
        assert_eq!(a.objects_of(n.into(), NamedNodeRef::new_unchecked("http://e.com/q")).count(), 1);
        assert_eq!(a.len(), 5);
        assert_eq!(a.graph().len(), 5);
    }

    #[test]
    fn edits_through_the_graph_and_the_helpers_agree() {
        let p = NamedNodeRef::new_unchecked("http://e.com/p");
        let mut r = Resource::new(NamedNode::new_unchecked("http://e.com/r"));
        r.insert(p, &oxrdf::Literal::new_simple_literal("a"));
        let first = r.etag();
        let shared = r.clone();
        r.graph_mut().insert(TripleRef::new(
            NamedNodeRef::new_unchecked("http://e.com/r"),
            p,
            &oxrdf::Literal::new_simple_literal("b"),
        ));
        assert_eq!(r.objects(p).count(), 2, "reads see what graph_mut added");
        assert_ne!(r.etag(), first);
        assert_eq!(shared.objects(p).count(), 1, "clones are not changed");
        r.set(p, &oxrdf::Literal::new_simple_literal("c"));
        assert_eq!(r.string(p).as_deref(), Some("c"));
        assert_eq!(r.graph().len(), 1);
        r.remove_all(p);
        assert!(r.is_empty());
    }

    #[test]
    fn rename_subject_everywhere() {
        let graph = parse(b"<a> <p> <b> . <b> <q> <a> .", RdfFormat::Turtle, "http://e.com/").unwrap_or_default();
        let resource = Resource::from_graph(NamedNode::new_unchecked("http://e.com/a"), graph)
            .with_subject(NamedNode::new_unchecked("http://e.com/z"));
        let text: Vec<String> = resource.graph().iter().map(|t| t.to_string()).collect();
        assert!(text.iter().all(|t| !t.contains("http://e.com/a>")), "{text:?}");
        assert_eq!(resource.graph().len(), 2);
    }
}
