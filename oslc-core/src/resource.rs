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

use std::fmt;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use oxrdf::dataset::{CanonicalizationAlgorithm, CanonicalizationHashAlgorithm};
use oxrdf::{Graph, NamedNode, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, Term, TermRef, Triple, TripleRef};
use sha2::{Digest, Sha256};

use crate::vocab::rdf;
use crate::{Error, Result};

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
    /// [`Error::InvalidResource`] naming the property that is missing or of the wrong kind.
    fn from_graph(subject: NamedOrBlankNodeRef<'_>, graph: &Graph) -> Result<Self>;
}

/// An OSLC resource: its IRI and the triples of its representation.
///
/// The graph may also hold triples about other subjects (nested blank nodes, inlined resources). A resource is
/// shared on clone (copy on write), so a provider can hand out resources it caches without copying them.
#[derive(Debug, Clone)]
pub struct Resource(Arc<ResourceData>);

#[derive(Debug, Clone)]
struct ResourceData {
    subject: NamedNode,
    graph: Graph,
    /// The subject's own properties: built on first use (queries read them for every member, and a graph lookup
    /// hashes each IRI), shared by clones, dropped on any change.
    properties: OnceLock<PropertyIndex>,
    /// The ETag, computed on first use (canonicalization is the costly part of serving a resource).
    etag: OnceLock<ETag>,
}

impl PartialEq for Resource {
    fn eq(&self, other: &Self) -> bool {
        self.0.subject == other.0.subject && self.0.graph == other.0.graph
    }
}

impl Eq for Resource {}

/// The subject's property values, sorted by a hash of the property IRI (then the IRI), with the hashes in an array
/// of their own: a lookup binary-searches a few cache lines of numbers instead of chasing each IRI's heap string,
/// and queries over many resources are bound by those cache misses.
#[derive(Debug, Default, Clone)]
struct PropertyIndex {
    keys: Box<[u64]>,
    /// The property IRIs, in key order, in one string, so comparing them touches memory the lookup has loaded.
    predicates: Box<str>,
    spans: Box<[(usize, usize)]>,
    objects: Box<[Term]>,
}

impl PropertyIndex {
    fn predicate(&self, i: usize) -> &str {
        let (start, end) = self.spans[i];
        &self.predicates[start..end]
    }
}

/// FNV-1a: tiny and fast on short strings; collisions only cost an extra string comparison.
fn property_key(iri: &str) -> u64 {
    iri.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl Resource {
    /// A resource with no triples yet.
    #[must_use]
    pub fn new(subject: NamedNode) -> Self {
        Self::from_graph(subject, Graph::new())
    }

    /// A resource whose representation is `graph`.
    #[must_use]
    pub fn from_graph(subject: NamedNode, graph: Graph) -> Self {
        Self(Arc::new(ResourceData { subject, graph, properties: OnceLock::new(), etag: OnceLock::new() }))
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
        T::from_graph(self.0.subject.as_ref().into(), &self.0.graph)
    }

    /// The resource's IRI.
    #[must_use]
    pub fn subject(&self) -> NamedNodeRef<'_> {
        self.0.subject.as_ref()
    }

    /// The triples of the representation.
    #[must_use]
    pub fn graph(&self) -> &Graph {
        &self.0.graph
    }

    /// The triples, for changing them.
    pub fn graph_mut(&mut self) -> &mut Graph {
        let data = Arc::make_mut(&mut self.0);
        data.properties = OnceLock::new();
        data.etag = OnceLock::new();
        &mut data.graph
    }

    /// The subject's own properties and their values (in no meaningful order).
    pub fn properties(&self) -> impl Iterator<Item = (NamedNodeRef<'_>, TermRef<'_>)> {
        let index = self.index();
        (0..index.objects.len()).map(|i| (NamedNodeRef::new_unchecked(index.predicate(i)), index.objects[i].as_ref()))
    }

    fn index(&self) -> &PropertyIndex {
        self.0.properties.get_or_init(|| {
            let mut properties: Vec<(u64, NamedNode, Term)> = self
                .0
                .graph
                .triples_for_subject(self.0.subject.as_ref())
                .map(|t| (property_key(t.predicate.as_str()), t.predicate.into_owned(), t.object.into_owned()))
                .collect();
            properties.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.as_str().cmp(b.1.as_str())));
            let mut predicates = String::new();
            let mut spans = Vec::with_capacity(properties.len());
            for (_, p, _) in &properties {
                spans.push((predicates.len(), predicates.len() + p.as_str().len()));
                predicates.push_str(p.as_str());
            }
            PropertyIndex {
                keys: properties.iter().map(|p| p.0).collect(),
                predicates: predicates.into_boxed_str(),
                spans: spans.into_boxed_slice(),
                objects: properties.into_iter().map(|(_, _, o)| o).collect(),
            }
        })
    }

    /// Consumes the resource, giving its subject and triples.
    #[must_use]
    pub fn into_parts(self) -> (NamedNode, Graph) {
        let data = Arc::unwrap_or_clone(self.0);
        (data.subject, data.graph)
    }

    /// Adds `subject predicate object`.
    pub fn insert<'a>(&mut self, predicate: NamedNodeRef<'_>, object: impl Into<TermRef<'a>>) {
        let subject = self.0.subject.clone();
        self.graph_mut().insert(TripleRef::new(&subject, predicate, object.into()));
    }

    /// Removes every `subject predicate *` and adds `subject predicate object`.
    pub fn set<'a>(&mut self, predicate: NamedNodeRef<'_>, object: impl Into<TermRef<'a>>) {
        self.remove_all(predicate);
        self.insert(predicate, object);
    }

    /// Removes every `subject predicate *`.
    pub fn remove_all(&mut self, predicate: NamedNodeRef<'_>) {
        let old: Vec<Triple> = self
            .0
            .graph
            .triples_for_subject(self.0.subject.as_ref())
            .filter(|t| t.predicate == predicate)
            .map(TripleRef::into_owned)
            .collect();
        let graph = self.graph_mut();
        for t in &old {
            graph.remove(t);
        }
    }

    /// Adds `rdf:type ty`.
    pub fn add_type(&mut self, ty: NamedNodeRef<'_>) {
        self.insert(rdf::r#type, ty);
    }

    /// Whether the resource has `rdf:type ty`.
    #[must_use]
    pub fn has_type(&self, ty: NamedNodeRef<'_>) -> bool {
        self.0.graph.contains(TripleRef::new(self.0.subject.as_ref(), rdf::r#type, ty))
    }

    /// The first object of `predicate`, if any (in the graph's order, which is not meaningful).
    #[must_use]
    pub fn object(&self, predicate: NamedNodeRef<'_>) -> Option<TermRef<'_>> {
        self.objects(predicate).next()
    }

    /// Every object of `predicate`.
    pub fn objects(&self, predicate: NamedNodeRef<'_>) -> impl Iterator<Item = TermRef<'_>> {
        let index = self.index();
        let key = property_key(predicate.as_str());
        let start = index.keys.partition_point(|k| *k < key);
        let end = start + index.keys[start..].partition_point(|k| *k == key);
        // Entries of one key are sorted by IRI, so those of this predicate are contiguous (usually all of them).
        let iri = predicate.as_str();
        let from = start + (start..end).take_while(|i| index.predicate(*i) < iri).count();
        let to = from + (from..end).take_while(|i| index.predicate(*i) == iri).count();
        index.objects[from..to].iter().map(Term::as_ref)
    }

    /// The lexical value of the literal object of `predicate`, if there is one.
    #[must_use]
    pub fn string(&self, predicate: NamedNodeRef<'_>) -> Option<String> {
        self.objects(predicate).find_map(|o| match o {
            TermRef::Literal(l) => Some(l.value().to_owned()),
            _ => None,
        })
    }

    /// Renames the subject (in subject and object positions), as when a creation factory mints the new IRI.
    #[must_use]
    pub fn with_subject(self, subject: NamedNode) -> Self {
        let graph = rename(&self.0.graph, self.0.subject.as_ref().into(), &subject);
        Self::from_graph(subject, graph)
    }

    /// The resource's ETag: a hash of its canonical triples (RDFC-1.0), so it does not depend on triple order,
    /// blank-node labels or the syntax the resource is served in.
    #[must_use]
    pub fn etag(&self) -> ETag {
        self.0.etag.get_or_init(|| ETag::of_graph(&self.0.graph)).clone()
    }
}

/// Copies `graph` with `from` renamed to `to`.
pub(crate) fn rename(graph: &Graph, from: NamedOrBlankNodeRef<'_>, to: &NamedNode) -> Graph {
    let mut out = Graph::new();
    for t in graph {
        let subject: NamedOrBlankNode = if t.subject == from { to.clone().into() } else { t.subject.into_owned() };
        let object: Term = match t.object {
            TermRef::NamedNode(n) if NamedOrBlankNodeRef::from(n) == from => to.clone().into(),
            TermRef::BlankNode(b) if NamedOrBlankNodeRef::from(b) == from => to.clone().into(),
            o => o.into_owned(),
        };
        out.insert(&Triple::new(subject, t.predicate.into_owned(), object));
    }
    out
}

/// A strong entity tag (RFC 9110 §8.8.3) identifying a resource's state.
///
/// It is computed from the canonical triples, not the bytes of one syntax, so the same state has the same ETag in
/// Turtle, RDF/XML and JSON-LD. That is what OSLC clients need for `If-Match` round trips whatever syntax they read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ETag(String);

impl ETag {
    /// The ETag of a graph's canonical form.
    #[must_use]
    pub fn of_graph(graph: &Graph) -> Self {
        let mut canonical = graph.clone();
        canonical
            .canonicalize(CanonicalizationAlgorithm::Rdfc10 { hash_algorithm: CanonicalizationHashAlgorithm::Sha256 });
        let mut lines: Vec<String> = canonical.iter().map(|t| t.to_string()).collect();
        lines.sort_unstable();
        let mut hasher = Sha256::new();
        for line in &lines {
            hasher.update(line.as_bytes());
            hasher.update(b"\n");
        }
        let digest = hasher.finalize();
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..18]))
    }

    /// An ETag from its opaque value (without quotes).
    ///
    /// # Errors
    /// [`Error::BadRequest`] if the value holds a character RFC 9110 forbids in an entity tag.
    pub fn new(opaque: impl Into<String>) -> Result<Self> {
        let opaque = opaque.into();
        if opaque.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)) {
            Ok(Self(opaque))
        } else {
            Err(Error::bad_request(format!("invalid entity tag {opaque:?}")))
        }
    }

    /// The opaque value, without quotes.
    #[must_use]
    pub fn opaque(&self) -> &str {
        &self.0
    }

    /// Whether an `If-Match` header value lets a request on a resource with this ETag go ahead: `*`, or a list
    /// holding this tag under the strong comparison (weak tags never match; RFC 9110 §13.1.1).
    #[must_use]
    pub fn satisfies_if_match(&self, header: &str) -> bool {
        header.trim() == "*" || entity_tags(header).any(|(weak, tag)| !weak && tag == self.0)
    }

    /// Whether an `If-None-Match` header value names this ETag (or `*`), under the weak comparison
    /// (RFC 9110 §13.1.2): a GET that matches answers 304.
    #[must_use]
    pub fn matches_if_none_match(&self, header: &str) -> bool {
        header.trim() == "*" || entity_tags(header).any(|(_, tag)| tag == self.0)
    }
}

/// The entity tags of an `If-Match` / `If-None-Match` list as (weak, opaque) pairs; malformed members are skipped.
fn entity_tags(header: &str) -> impl Iterator<Item = (bool, &str)> {
    header.split(',').filter_map(|member| {
        let member = member.trim();
        let (weak, quoted) = member.strip_prefix("W/").map_or((false, member), |rest| (true, rest));
        let tag = quoted.strip_prefix('"')?.strip_suffix('"')?;
        Some((weak, tag))
    })
}

impl fmt::Display for ETag {
    /// The header form, with quotes: `"…"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0)
    }
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
    fn rename_subject_everywhere() {
        let graph = parse(b"<a> <p> <b> . <b> <q> <a> .", RdfFormat::Turtle, "http://e.com/").unwrap_or_default();
        let resource = Resource::from_graph(NamedNode::new_unchecked("http://e.com/a"), graph)
            .with_subject(NamedNode::new_unchecked("http://e.com/z"));
        let text: Vec<String> = resource.graph().iter().map(|t| t.to_string()).collect();
        assert!(text.iter().all(|t| !t.contains("http://e.com/a>")), "{text:?}");
        assert_eq!(resource.graph().len(), 2);
    }
}
