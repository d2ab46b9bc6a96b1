//! How the abbreviated writers (RDF/XML, Turtle) lay out a set of triples: subjects in order of appearance, each
//! with its properties sorted (types first, then by predicate, blank-node values of one predicate by what they
//! hold), blank nodes used once nested where they are used, the others labelled `b0`, `b1`… in order of use. The
//! same triples thus give the same text whatever random ids their blank nodes had.

use foldhash::HashMap;

use oxrdf::{NamedOrBlankNodeRef, TermRef, TripleRef};

use crate::vocab::rdf;

/// How deep blank nodes nest before the writers label them instead: OSLC documents nest three or four levels
/// (provider → service → capability → …), and the output must stay within the nesting budget of parsers (this
/// crate's own [`super::ParseLimits`] included).
pub(super) const MAX_NESTING: usize = 8;

pub(super) struct Layout<'t> {
    /// Subjects in order of appearance, with their sorted triples.
    pub(super) nodes: Vec<(NamedOrBlankNodeRef<'t>, Vec<TripleRef<'t>>)>,
    index: HashMap<NamedOrBlankNodeRef<'t>, usize>,
    /// How many triples have each blank node as object.
    references: HashMap<NamedOrBlankNodeRef<'t>, usize>,
    /// Blank nodes nested where they are used (objects of one triple, with triples of their own); `true` once
    /// written.
    nested: HashMap<NamedOrBlankNodeRef<'t>, bool>,
    labels: HashMap<NamedOrBlankNodeRef<'t>, String>,
}

impl<'t> Layout<'t> {
    pub(super) fn new(triples: impl Iterator<Item = TripleRef<'t>>) -> Self {
        let mut layout = Self {
            nodes: Vec::new(),
            index: HashMap::default(),
            references: HashMap::default(),
            nested: HashMap::default(),
            labels: HashMap::default(),
        };
        let mut last: Option<(NamedOrBlankNodeRef<'t>, usize)> = None;
        for t in triples {
            // Triples mostly come grouped by subject: look the subject up only when it changes.
            let at = match last {
                Some((subject, at)) if subject == t.subject => at,
                _ => {
                    let next = layout.nodes.len();
                    let at = *layout.index.entry(t.subject).or_insert(next);
                    if at == next {
                        layout.nodes.push((t.subject, Vec::new()));
                    }
                    last = Some((t.subject, at));
                    at
                }
            };
            layout.nodes[at].1.push(t);
            if let TermRef::BlankNode(b) = t.object {
                *layout.references.entry(b.into()).or_default() += 1;
            }
        }
        for (subject, _) in &layout.nodes {
            if matches!(subject, NamedOrBlankNodeRef::BlankNode(_)) && layout.references.get(subject) == Some(&1) {
                layout.nested.insert(*subject, false);
            }
        }
        for i in 0..layout.nodes.len() {
            let mut triples = std::mem::take(&mut layout.nodes[i].1);
            triples.sort_by(|a, b| {
                (a.predicate != rdf::r#type)
                    .cmp(&(b.predicate != rdf::r#type))
                    .then_with(|| a.predicate.as_str().cmp(b.predicate.as_str()))
            });
            // Blank-node values of one predicate are ordered by content; the keys are built only where a
            // predicate has several (the sort is stable, so everything else keeps its order).
            let mut start = 0;
            while start < triples.len() {
                let predicate = triples[start].predicate;
                let end = start + triples[start..].iter().take_while(|t| t.predicate == predicate).count();
                let blanks = triples[start..end].iter().filter(|t| matches!(t.object, TermRef::BlankNode(_))).count();
                if blanks > 1 {
                    triples[start..end].sort_by_cached_key(|t| match t.object {
                        TermRef::BlankNode(b) => (1, layout.content_key(b.into(), 0)),
                        _ => (0, String::new()),
                    });
                }
                start = end;
            }
            layout.nodes[i].1 = triples;
        }
        layout
    }

    /// The subjects written at the top level: the named ones in order of appearance, then the blank nodes not
    /// nested, by content. (Blank nodes in a cycle of single references come after, from
    /// [`Layout::next_unwritten`].)
    pub(super) fn top(&self) -> Vec<usize> {
        let top = (0..self.nodes.len()).filter(|i| !self.nested.contains_key(&self.nodes[*i].0));
        let (mut named, mut blank): (Vec<usize>, Vec<usize>) =
            top.partition(|i| matches!(self.nodes[*i].0, NamedOrBlankNodeRef::NamedNode(_)));
        blank.sort_by_cached_key(|i| self.content_key(self.nodes[*i].0, 0));
        named.append(&mut blank);
        named
    }

    /// A nested blank node not written yet (after the top level is done, only those in cycles), marked written.
    pub(super) fn next_unwritten(&mut self) -> Option<usize> {
        let i = (0..self.nodes.len()).find(|i| self.nested.get(&self.nodes[*i].0) == Some(&false))?;
        self.nested.insert(self.nodes[i].0, true);
        Some(i)
    }

    /// The node of `object` to nest where it is used, if it is one not written yet (it is then marked written).
    pub(super) fn nest(&mut self, object: NamedOrBlankNodeRef<'t>) -> Option<usize> {
        if self.nested.get(&object) != Some(&false) {
            return None;
        }
        self.nested.insert(object, true);
        self.index.get(&object).copied()
    }

    /// Whether a blank node is used as an object anywhere (one that is not needs no label in Turtle).
    pub(super) fn is_referenced(&self, node: NamedOrBlankNodeRef<'t>) -> bool {
        self.references.contains_key(&node)
    }

    /// The label of a blank node written by reference.
    pub(super) fn label(&mut self, node: NamedOrBlankNodeRef<'t>) -> String {
        let next = self.labels.len();
        self.labels.entry(node).or_insert_with(|| format!("b{next}")).clone()
    }

    /// Whether some blank node was given a label.
    pub(super) fn labelled(&self) -> bool {
        !self.labels.is_empty()
    }

    /// A key that orders blank nodes by what they hold (their properties and values, nested blank nodes alike).
    fn content_key(&self, node: NamedOrBlankNodeRef<'t>, depth: usize) -> String {
        let Some(i) = self.index.get(&node) else { return String::new() };
        let mut parts: Vec<String> = self.nodes[*i]
            .1
            .iter()
            .map(|t| match t.object {
                TermRef::BlankNode(b) if depth < 4 => {
                    format!("{} [{}]", t.predicate, self.content_key(b.into(), depth + 1))
                }
                TermRef::BlankNode(_) => format!("{} []", t.predicate),
                other => format!("{} {other}", t.predicate),
            })
            .collect();
        parts.sort_unstable();
        parts.join(";")
    }
}
