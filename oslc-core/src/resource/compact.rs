//! How a resource is held: its own properties sorted (`rdf:type` first) with their values, nested triples sorted,
//! one deterministic order that serving, queries and projection read without building a graph.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use oxrdf::{
    BlankNode, Graph, LiteralRef, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, Term, TermRef, Triple, TripleRef,
};

use crate::vocab::rdf;
use oxrdf::vocab::xsd;

/// A resource's triples: the subject's own properties with a lookup index, and the triples of other subjects.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Compact {
    /// The subject's property values, sorted by predicate (`rdf:type` first), then value.
    pub(super) own: Box<[(Predicate, Object)]>,
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
    properties: Box<[(Predicate, Object)]>,
}

impl Node {
    fn triples(&self) -> impl Iterator<Item = TripleRef<'_>> + Clone {
        let subject = self.subject.as_ref();
        self.properties.iter().map(move |(p, o)| TripleRef::new(subject, p.as_ref(), o.as_ref()))
    }
}

impl Compact {
    pub(super) fn new(subject: NamedNodeRef<'_>, triples: impl IntoIterator<Item = Triple>) -> Self {
        let mut own = Vec::new();
        let mut others = Vec::new();
        for t in triples {
            if matches!(&t.subject, NamedOrBlankNode::NamedNode(n) if n.as_ref() == subject) {
                own.push((Predicate::of(t.predicate.as_ref()), Object::of(t.object)));
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
            properties.push((Predicate::of(t.predicate.as_ref()), Object::of(t.object)));
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
            .map(move |(p, o)| TripleRef::new(subject, p.as_ref(), o.as_ref()))
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

/// An object held compactly: IRIs and datatypes shared (see [`shared_value`]), values as boxed strings, blank
/// nodes boxed; 40 bytes where an `oxrdf::Term` takes 64, and no copy of a datatype IRI per literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Object {
    Iri(Arc<str>),
    Blank(Box<BlankNode>),
    Simple(Box<str>),
    Typed(Box<str>, Arc<str>),
    Lang(Box<str>, Box<str>),
    /// Any term the forms above would not give back exactly (RDF 1.2 triple terms and directional literals).
    Other(Box<Term>),
}

impl Object {
    pub(super) fn of(term: Term) -> Self {
        let object = match &term {
            Term::NamedNode(n) => Some(Self::Iri(shared_value(n.as_str()))),
            Term::BlankNode(b) => Some(Self::Blank(Box::new(b.clone()))),
            Term::Literal(l) => Some(match l.language() {
                Some(language) => Self::Lang(l.value().into(), language.into()),
                None if l.datatype() == xsd::STRING => Self::Simple(l.value().into()),
                None => Self::Typed(l.value().into(), shared_value(l.datatype().as_str())),
            }),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        match object {
            // A form that would not give the term back exactly (a directional literal) keeps the term itself.
            Some(object) if object.as_ref() == term.as_ref() => object,
            _ => Self::Other(Box::new(term)),
        }
    }

    pub(super) fn as_ref(&self) -> TermRef<'_> {
        match self {
            Self::Iri(iri) => NamedNodeRef::new_unchecked(iri).into(),
            Self::Blank(b) => b.as_ref().into(),
            Self::Simple(value) => LiteralRef::new_simple_literal(value).into(),
            Self::Typed(value, datatype) => {
                LiteralRef::new_typed_literal(value, NamedNodeRef::new_unchecked(datatype)).into()
            }
            Self::Lang(value, language) => LiteralRef::new_language_tagged_literal_unchecked(value, language).into(),
            Self::Other(term) => Term::as_ref(term),
        }
    }
}

/// A predicate IRI shared by every resource that uses it: resources of one kind use the same few dozen
/// predicates, so each is held once (up to [`SHARED`] distinct IRIs of at most [`SHARED_LEN`] bytes; others are held
/// per resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Predicate(Arc<str>);

/// The most IRIs a table of shared IRIs holds; beyond them (hostile bodies inventing IRIs) each is its own copy.
const SHARED: usize = 4096;

/// The longest IRI a table shares: a table is never freed, so it holds at most `SHARED` × this many bytes.
const SHARED_LEN: usize = 256;

/// `iri` from `table` (added while the table has room, if it is not too long to be kept for good).
fn shared(table: &'static OnceLock<Mutex<HashSet<Arc<str>>>>, iri: &str) -> Arc<str> {
    if iri.len() > SHARED_LEN {
        return Arc::from(iri);
    }
    let mut shared = table.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = shared.get(iri) {
        return known.clone();
    }
    let new: Arc<str> = Arc::from(iri);
    if shared.len() < SHARED {
        shared.insert(new.clone());
    }
    new
}

/// A datatype or object IRI, shared as predicates are but in a table of its own: resources of one kind repeat the
/// same types, datatypes and links to their container or service provider.
fn shared_value(iri: &str) -> Arc<str> {
    static VALUES: OnceLock<Mutex<HashSet<Arc<str>>>> = OnceLock::new();
    shared(&VALUES, iri)
}

impl Predicate {
    pub(super) fn of(iri: NamedNodeRef<'_>) -> Self {
        static PREDICATES: OnceLock<Mutex<HashSet<Arc<str>>>> = OnceLock::new();
        Self(shared(&PREDICATES, iri.as_str()))
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

#[cfg(test)]
mod tests {
    use oxrdf::{BlankNode, Literal, NamedNode, Term};

    use super::Object;

    #[test]
    fn an_object_gives_back_the_term_it_was_made_of_in_less_room() {
        let terms: Vec<Term> = vec![
            NamedNode::new_unchecked("http://example.com/a").into(),
            BlankNode::new_unchecked("b1").into(),
            BlankNode::default().into(),
            Literal::new_simple_literal("plain").into(),
            Literal::new_typed_literal("true", oxrdf::vocab::xsd::BOOLEAN).into(),
            Literal::new_typed_literal("text", oxrdf::vocab::xsd::STRING).into(),
            Literal::new_language_tagged_literal_unchecked("chat", "fr").into(),
        ];
        for term in terms {
            let object = Object::of(term.clone());
            assert!(!matches!(object, Object::Other(_)), "{term} has a compact form");
            assert_eq!(object.as_ref(), term.as_ref());
        }
        assert!(size_of::<Object>() < size_of::<Term>(), "{} bytes", size_of::<Object>());
    }

    #[test]
    fn literals_of_one_datatype_share_its_iri() {
        let a = Object::of(Literal::new_typed_literal("1", oxrdf::vocab::xsd::INTEGER).into());
        let b = Object::of(Literal::new_typed_literal("2", oxrdf::vocab::xsd::INTEGER).into());
        let (Object::Typed(_, a), Object::Typed(_, b)) = (a, b) else { panic!("typed literals") };
        assert!(std::sync::Arc::ptr_eq(&a, &b));
    }

    #[test]
    fn a_long_iri_is_not_kept_for_good() {
        let long = format!("http://example.com/{}", "x".repeat(super::SHARED_LEN));
        let Object::Iri(held) = Object::of(NamedNode::new_unchecked(&long).into()) else { panic!("an IRI") };
        assert_eq!(std::sync::Arc::strong_count(&held), 1, "no table holds it");
        let Object::Iri(held) = Object::of(NamedNode::new_unchecked("http://example.com/short").into()) else {
            panic!("an IRI")
        };
        assert_eq!(std::sync::Arc::strong_count(&held), 2, "the table holds it too");
    }
}
