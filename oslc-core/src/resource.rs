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

use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

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
    /// A graph view built on first use of [`Resource::graph`].
    view: OnceLock<Graph>,
    /// The ETag, computed on first use (canonicalization is the costly part of serving a resource).
    etag: OnceLock<ETag>,
}

impl PartialEq for Resource {
    fn eq(&self, other: &Self) -> bool {
        self.0.subject == other.0.subject && self.compact() == other.compact()
    }
}

impl Eq for Resource {}

/// A resource's triples: the subject's own properties with a lookup index, and the triples of other subjects.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Compact {
    /// The subject's property values, sorted by predicate (`rdf:type` first), then value.
    own: Box<[(Predicate, Term)]>,
    /// `(hash of the predicate IRI, position in own)` of each predicate's first value, sorted: a lookup
    /// binary-searches a few cache lines of numbers instead of chasing each IRI's heap string, and queries over
    /// many resources are bound by those cache misses.
    index: Box<[(u64, u32)]>,
    /// Triples about other subjects (nested blank nodes, inlined resources), sorted by subject, predicate, value.
    others: Box<[Triple]>,
}

impl Compact {
    fn new(subject: NamedNodeRef<'_>, triples: impl IntoIterator<Item = Triple>) -> Self {
        let mut own = Vec::new();
        let mut others = Vec::new();
        for t in triples {
            if matches!(&t.subject, NamedOrBlankNode::NamedNode(n) if n.as_ref() == subject) {
                own.push((Predicate::of(t.predicate.as_ref()), t.object));
            } else {
                others.push(t);
            }
        }
        own.sort_unstable_by(|a, b| {
            cmp_predicates(a.0.as_ref(), b.0.as_ref()).then_with(|| cmp_terms(a.1.as_ref(), b.1.as_ref()))
        });
        own.dedup();
        others.sort_unstable_by(|a, b| cmp_triples(a.as_ref(), b.as_ref()));
        others.dedup();
        let mut index: Vec<(u64, u32)> = Vec::new();
        for (i, (p, _)) in own.iter().enumerate() {
            if i == 0 || own[i - 1].0 != *p {
                index.push((property_key(p.as_str()), u32::try_from(i).unwrap_or(u32::MAX)));
            }
        }
        index.sort_unstable();
        Self { own: own.into_boxed_slice(), index: index.into_boxed_slice(), others: others.into_boxed_slice() }
    }

    fn of_graph(subject: NamedNodeRef<'_>, graph: &Graph) -> Self {
        Self::new(subject, graph.iter().map(TripleRef::into_owned))
    }

    fn len(&self) -> usize {
        self.own.len() + self.others.len()
    }

    fn triples<'a>(&'a self, subject: NamedNodeRef<'a>) -> impl Iterator<Item = TripleRef<'a>> + Clone + 'a {
        self.own
            .iter()
            .map(move |(p, o)| TripleRef::new(subject, p.as_ref(), o))
            .chain(self.others.iter().map(Triple::as_ref))
    }

    fn objects<'a>(&'a self, predicate: NamedNodeRef<'_>) -> impl Iterator<Item = TermRef<'a>> + 'a {
        let key = property_key(predicate.as_str());
        let start = self.index.partition_point(|(k, _)| *k < key);
        let first = self.index[start..]
            .iter()
            .take_while(|(k, _)| *k == key)
            .map(|(_, i)| *i as usize)
            .find(|i| self.own.get(*i).is_some_and(|(p, _)| p.as_ref() == predicate));
        let from = first.unwrap_or(self.own.len());
        let to = from + self.own[from..].iter().take_while(|(p, _)| p.as_ref() == predicate).count();
        self.own[from..to].iter().map(|(_, o)| o.as_ref())
    }

    fn others_of<'a>(&'a self, node: NamedOrBlankNodeRef<'_>) -> &'a [Triple] {
        let start = self.others.partition_point(|t| cmp_subjects(t.subject.as_ref(), node) == Ordering::Less);
        let len = self.others[start..].iter().take_while(|t| t.subject.as_ref() == node).count();
        &self.others[start..start + len]
    }

    fn to_graph(&self, subject: NamedNodeRef<'_>) -> Graph {
        let mut graph = Graph::new();
        for t in self.triples(subject) {
            graph.insert(t);
        }
        graph
    }
}

/// A predicate IRI shared by every resource that uses it: resources of one kind use the same few dozen
/// predicates, so each is held once (up to [`Predicate::SHARED`] distinct IRIs; others are held per resource).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Predicate(Arc<str>);

impl Predicate {
    /// The most predicate IRIs shared; beyond them (hostile bodies inventing predicates) each is its own copy.
    const SHARED: usize = 4096;

    fn of(iri: NamedNodeRef<'_>) -> Self {
        static SHARED: OnceLock<Mutex<HashSet<Arc<str>>>> = OnceLock::new();
        let mut shared = SHARED.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = shared.get(iri.as_str()) {
            return Self(known.clone());
        }
        let new: Arc<str> = Arc::from(iri.as_str());
        if shared.len() < Self::SHARED {
            shared.insert(new.clone());
        }
        Self(new)
    }

    fn as_ref(&self) -> NamedNodeRef<'_> {
        NamedNodeRef::new_unchecked(&self.0)
    }

    fn as_str(&self) -> &str {
        &self.0
    }
}

/// `rdf:type` first, then by IRI.
fn cmp_predicates(a: NamedNodeRef<'_>, b: NamedNodeRef<'_>) -> Ordering {
    (a != rdf::r#type).cmp(&(b != rdf::r#type)).then_with(|| a.as_str().cmp(b.as_str()))
}

fn cmp_subjects(a: NamedOrBlankNodeRef<'_>, b: NamedOrBlankNodeRef<'_>) -> Ordering {
    match (a, b) {
        (NamedOrBlankNodeRef::NamedNode(a), NamedOrBlankNodeRef::NamedNode(b)) => a.as_str().cmp(b.as_str()),
        (NamedOrBlankNodeRef::NamedNode(_), _) => Ordering::Less,
        (_, NamedOrBlankNodeRef::NamedNode(_)) => Ordering::Greater,
        (NamedOrBlankNodeRef::BlankNode(a), NamedOrBlankNodeRef::BlankNode(b)) => a.as_str().cmp(b.as_str()),
    }
}

/// IRIs, then blank nodes, then literals (by value, datatype, language).
fn cmp_terms(a: TermRef<'_>, b: TermRef<'_>) -> Ordering {
    fn rank(t: TermRef<'_>) -> u8 {
        match t {
            TermRef::NamedNode(_) => 0,
            TermRef::BlankNode(_) => 1,
            TermRef::Literal(_) => 2,
            #[allow(unreachable_patterns)]
            _ => 3,
        }
    }
    match (a, b) {
        (TermRef::NamedNode(a), TermRef::NamedNode(b)) => a.as_str().cmp(b.as_str()),
        (TermRef::BlankNode(a), TermRef::BlankNode(b)) => a.as_str().cmp(b.as_str()),
        (TermRef::Literal(a), TermRef::Literal(b)) => a
            .value()
            .cmp(b.value())
            .then_with(|| a.datatype().as_str().cmp(b.datatype().as_str()))
            .then_with(|| a.language().cmp(&b.language())),
        _ => rank(a).cmp(&rank(b)).then_with(|| a.to_string().cmp(&b.to_string())),
    }
}

fn cmp_triples(a: TripleRef<'_>, b: TripleRef<'_>) -> Ordering {
    cmp_subjects(a.subject, b.subject)
        .then_with(|| cmp_predicates(a.predicate, b.predicate))
        .then_with(|| cmp_terms(a.object, b.object))
}

/// FNV-1a: tiny and fast on short strings; collisions only cost an extra string comparison.
fn property_key(iri: &str) -> u64 {
    iri.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

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
            Box::new(compact.own.iter().map(move |(p, o)| TripleRef::new(node, p.as_ref(), o)))
        } else {
            Box::new(compact.others_of(node).iter().map(Triple::as_ref))
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
            Box::new(
                self.compact()
                    .others_of(node)
                    .iter()
                    .filter(move |t| t.predicate.as_ref() == predicate)
                    .map(|t| t.object.as_ref()),
            )
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
            None => self.0.view.get_or_init(|| self.compact().to_graph(self.0.subject.as_ref())),
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
            Box::new(view.unwrap_or_else(|| compact.map(|c| c.to_graph(subject)).unwrap_or_default()))
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
            (None, Some(graph), _) => graph,
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
        Self::of_triples(graph.iter())
    }

    /// The ETag of a set of triples' canonical form.
    pub fn of_triples<'a>(triples: impl IntoIterator<Item = TripleRef<'a>>) -> Self {
        let mut canonical = Graph::new();
        for t in triples {
            canonical.insert(t);
        }
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
