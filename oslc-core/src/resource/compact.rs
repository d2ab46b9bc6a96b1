//! How a resource is held: its own properties sorted (`rdf:type` first) with their values, nested triples sorted,
//! one deterministic order that serving, queries and projection read without building a graph.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use oxrdf::{Graph, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, Term, TermRef, Triple, TripleRef};

use crate::vocab::rdf;

/// A resource's triples: the subject's own properties with a lookup index, and the triples of other subjects.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Compact {
    /// The subject's property values, sorted by predicate (`rdf:type` first), then value.
    pub(super) own: Box<[(Predicate, Term)]>,
    /// `(hash of the predicate IRI, position in own)` of each predicate's first value, sorted: a lookup
    /// binary-searches a few cache lines of numbers instead of chasing each IRI's heap string, and queries over
    /// many resources are bound by those cache misses.
    pub(super) index: Box<[(u64, u32)]>,
    /// Triples about other subjects (nested blank nodes, inlined resources, actions), grouped by subject, sorted by
    /// subject, predicate, value: each subject and predicate is held once, not once per triple.
    pub(super) others: Box<[Node]>,
    /// How many triples `others` holds.
    others_len: usize,
}

/// The properties of one subject other than the resource's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Node {
    subject: NamedOrBlankNode,
    properties: Box<[(Predicate, Term)]>,
}

impl Node {
    fn triples(&self) -> impl Iterator<Item = TripleRef<'_>> + Clone {
        let subject = self.subject.as_ref();
        self.properties.iter().map(move |(p, o)| TripleRef::new(subject, p.as_ref(), o))
    }
}

impl Compact {
    pub(super) fn new(subject: NamedNodeRef<'_>, triples: impl IntoIterator<Item = Triple>) -> Self {
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
        let others_len = others.len();
        let mut nodes: Vec<Node> = Vec::new();
        let mut properties = Vec::new();
        let mut others = others.into_iter().peekable();
        while let Some(t) = others.next() {
            properties.push((Predicate::of(t.predicate.as_ref()), t.object));
            if others.peek().is_none_or(|next| next.subject != t.subject) {
                nodes.push(Node { subject: t.subject, properties: std::mem::take(&mut properties).into_boxed_slice() });
            }
        }
        let mut index: Vec<(u64, u32)> = Vec::new();
        for (i, (p, _)) in own.iter().enumerate() {
            if i == 0 || own[i - 1].0 != *p {
                index.push((property_key(p.as_str()), u32::try_from(i).unwrap_or(u32::MAX)));
            }
        }
        index.sort_unstable();
        Self {
            own: own.into_boxed_slice(),
            index: index.into_boxed_slice(),
            others: nodes.into_boxed_slice(),
            others_len,
        }
    }

    pub(super) fn of_graph(subject: NamedNodeRef<'_>, graph: &Graph) -> Self {
        Self::new(subject, graph.iter().map(TripleRef::into_owned))
    }

    pub(super) fn len(&self) -> usize {
        self.own.len() + self.others_len
    }

    pub(super) fn triples<'a>(&'a self, subject: NamedNodeRef<'a>) -> impl Iterator<Item = TripleRef<'a>> + Clone + 'a {
        self.own
            .iter()
            .map(move |(p, o)| TripleRef::new(subject, p.as_ref(), o))
            .chain(self.others.iter().flat_map(Node::triples))
    }

    pub(super) fn objects<'a>(&'a self, predicate: NamedNodeRef<'_>) -> impl Iterator<Item = TermRef<'a>> + 'a {
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

    /// The properties of `node` (none when the resource says nothing about it).
    pub(super) fn others_of<'a>(&'a self, node: NamedOrBlankNodeRef<'_>) -> impl Iterator<Item = TripleRef<'a>> + 'a {
        let at = self.others.binary_search_by(|n| cmp_subjects(n.subject.as_ref(), node)).ok();
        at.and_then(|i| self.others.get(i)).into_iter().flat_map(Node::triples)
    }

    pub(super) fn to_graph(&self, subject: NamedNodeRef<'_>) -> Graph {
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
pub(super) struct Predicate(Arc<str>);

impl Predicate {
    /// The most predicate IRIs shared; beyond them (hostile bodies inventing predicates) each is its own copy.
    const SHARED: usize = 4096;

    pub(super) fn of(iri: NamedNodeRef<'_>) -> Self {
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

    pub(super) fn as_ref(&self) -> NamedNodeRef<'_> {
        NamedNodeRef::new_unchecked(&self.0)
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }
}

/// `rdf:type` first, then by IRI.
pub(super) fn cmp_predicates(a: NamedNodeRef<'_>, b: NamedNodeRef<'_>) -> Ordering {
    (a != rdf::r#type).cmp(&(b != rdf::r#type)).then_with(|| a.as_str().cmp(b.as_str()))
}

pub(super) fn cmp_subjects(a: NamedOrBlankNodeRef<'_>, b: NamedOrBlankNodeRef<'_>) -> Ordering {
    match (a, b) {
        (NamedOrBlankNodeRef::NamedNode(a), NamedOrBlankNodeRef::NamedNode(b)) => a.as_str().cmp(b.as_str()),
        (NamedOrBlankNodeRef::NamedNode(_), _) => Ordering::Less,
        (_, NamedOrBlankNodeRef::NamedNode(_)) => Ordering::Greater,
        (NamedOrBlankNodeRef::BlankNode(a), NamedOrBlankNodeRef::BlankNode(b)) => a.as_str().cmp(b.as_str()),
    }
}

/// IRIs, then blank nodes, then literals (by value, datatype, language).
pub(super) fn cmp_terms(a: TermRef<'_>, b: TermRef<'_>) -> Ordering {
    pub(super) fn rank(t: TermRef<'_>) -> u8 {
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

pub(super) fn cmp_triples(a: TripleRef<'_>, b: TripleRef<'_>) -> Ordering {
    cmp_subjects(a.subject, b.subject)
        .then_with(|| cmp_predicates(a.predicate, b.predicate))
        .then_with(|| cmp_terms(a.object, b.object))
}

/// FNV-1a: tiny and fast on short strings; collisions only cost an extra string comparison.
pub(super) fn property_key(iri: &str) -> u64 {
    iri.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
