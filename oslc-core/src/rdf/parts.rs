//! Documents assembled from parts written once: a query page is the container's statements followed by each
//! member's, and a member's statements are the same on every page it is on. The server keeps each member's part
//! by its state (ETag), syntax and selection, so a page costs copies rather than serialization.
//!
//! Only the line-based syntaxes have parts: Turtle (whose prefixes are declared once, at the top, for the union of
//! what the parts use) and N-Triples (blank node labels are the nodes' own ids, unique to each resource). A Turtle
//! part whose blank nodes need labels has none, since `_:b0` is only unique within the document that gives it.

use oxrdf::TripleRef;

use super::{Prefixes, RdfFormat, mark_namespaces, text};

/// The prefixes of one server, numbered, so a part records the ones it uses in a bit set.
#[derive(Debug)]
pub(crate) struct PrefixTable<'p> {
    /// In the order of [`Prefixes::iter`]: bit `i` of a part's set stands for `table[i]`.
    table: Vec<(&'p str, &'p str)>,
    /// The same, longest namespace first, as the Turtle writer tries them.
    longest_first: Vec<(&'p str, &'p str)>,
}

/// A written part: its text and the prefixes of its [`PrefixTable`] it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) text: Vec<u8>,
    pub(crate) prefixes: u64,
}

impl<'p> PrefixTable<'p> {
    /// The table of `prefixes`; `None` beyond 64 prefixes (pages are then written whole).
    pub(crate) fn new(prefixes: &'p Prefixes) -> Option<Self> {
        let table: Vec<(&str, &str)> = prefixes.iter().collect();
        if table.len() > 64 {
            return None;
        }
        let longest_first = text::longest_first(&table);
        Some(Self { table, longest_first })
    }

    /// Whether documents in `format` are assembled from parts.
    pub(crate) fn has_parts(format: RdfFormat) -> bool {
        matches!(format, RdfFormat::Turtle | RdfFormat::NTriples)
    }

    /// `triples` written as a part in `format`, or `None` when that syntax has no parts or (Turtle) a blank node
    /// would need a label.
    pub(crate) fn part(&self, triples: &[TripleRef<'_>], format: RdfFormat) -> Option<Part> {
        let mut text = Vec::new();
        match format {
            RdfFormat::Turtle => {
                if !text::write_turtle_part(triples, &self.longest_first, &mut text) {
                    return None;
                }
                Some(Part { text, prefixes: self.used(triples) })
            }
            RdfFormat::NTriples => {
                text::write_ntriples(triples.iter().copied(), &mut text);
                Some(Part { text, prefixes: 0 })
            }
            _ => None,
        }
    }

    /// Writes a member of a page in `format`: its kept `part`, then `stated` (blank-free triples about the member,
    /// its `oslc:order` and `oslc:score`), in the part's first block where the syntax has blocks and the part starts
    /// with the member. The document declares the prefixes [`PrefixTable::used`] finds in `stated`.
    pub(crate) fn member(&self, format: RdfFormat, part: &[u8], stated: &[TripleRef<'_>], out: &mut Vec<u8>) {
        match format {
            RdfFormat::Turtle => {
                let Some(oxrdf::NamedOrBlankNodeRef::NamedNode(subject)) = stated.first().map(|t| t.subject) else {
                    out.extend_from_slice(part);
                    return;
                };
                text::write_turtle_member(part, subject, stated, &self.longest_first, out);
            }
            _ => {
                out.extend_from_slice(part);
                text::write_ntriples(stated.iter().copied(), out);
            }
        }
    }

    /// The prefixes whose namespace starts an IRI of `triples`.
    pub(crate) fn used(&self, triples: &[TripleRef<'_>]) -> u64 {
        let mut used = vec![false; self.table.len()];
        for triple in triples {
            mark_namespaces(*triple, &self.table, &mut used);
        }
        used.iter().enumerate().filter(|(_, u)| **u).fold(0, |set, (i, _)| set | (1 << i))
    }

    /// What goes before the parts of a document in `format` that use the prefixes in `used`: their declarations.
    pub(crate) fn head(&self, format: RdfFormat, used: u64, out: &mut Vec<u8>) {
        if format == RdfFormat::Turtle {
            let declared: Vec<(&str, &str)> =
                self.table.iter().enumerate().filter(|(i, _)| used & (1 << i) != 0).map(|(_, p)| *p).collect();
            text::write_prefixes(&declared, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use oxrdf::{BlankNode, Graph, Literal, NamedNode, Triple};

    use super::*;
    use crate::vocab::standard_prefixes;

    fn member(i: usize, nested: Option<&BlankNode>) -> Vec<Triple> {
        let subject = NamedNode::new_unchecked(format!("http://e.test/r/{i}"));
        let mut triples = vec![
            Triple::new(subject.clone(), crate::vocab::dcterms::title, Literal::new_simple_literal(format!("R {i}"))),
            Triple::new(subject.clone(), crate::vocab::dcterms::identifier, Literal::from(i as i64)),
        ];
        if let Some(blank) = nested {
            triples.push(Triple::new(subject, crate::vocab::dcterms::creator, blank.clone()));
            triples.push(Triple::new(blank.clone(), crate::vocab::foaf::name, Literal::new_simple_literal("Ann")));
        }
        triples
    }

    fn assemble(table: &PrefixTable<'_>, format: RdfFormat, members: &[Vec<Triple>]) -> Option<Vec<u8>> {
        let parts: Option<Vec<Part>> =
            members.iter().map(|m| table.part(&m.iter().map(Triple::as_ref).collect::<Vec<_>>(), format)).collect();
        let parts = parts?;
        let mut out = Vec::new();
        table.head(format, parts.iter().fold(0, |used, p| used | p.prefixes), &mut out);
        for part in parts {
            out.extend_from_slice(&part.text);
        }
        Some(out)
    }

    #[test]
    fn a_members_stated_triples_join_its_block() {
        let prefixes = standard_prefixes();
        let table = PrefixTable::new(&prefixes).unwrap_or_else(|| unreachable!());
        let triples = member(7, None);
        let refs: Vec<TripleRef<'_>> = triples.iter().map(Triple::as_ref).collect();
        let part = table.part(&refs, RdfFormat::Turtle).unwrap_or_else(|| unreachable!());
        let order = Triple::new(
            NamedNode::new_unchecked("http://e.test/r/7"),
            crate::vocab::oslc::order,
            Literal::new_typed_literal("3", crate::vocab::xsd::integer),
        );
        let mut out = Vec::new();
        table.member(RdfFormat::Turtle, &part.text, &[order.as_ref()], &mut out);
        let used = table.used(&[order.as_ref()]);
        let mut page = Vec::new();
        table.head(RdfFormat::Turtle, part.prefixes | used, &mut page);
        page.extend_from_slice(&out);
        let text = String::from_utf8(page).unwrap_or_default();
        assert!(text.contains("<http://e.test/r/7> oslc:order 3 ;\n\tdcterms:title"), "{text}");
        let read =
            crate::rdf::parse(text.as_bytes(), RdfFormat::Turtle, "http://e.test/").unwrap_or_else(|e| panic!("{e}"));
        let mut whole: Graph = triples.into_iter().collect();
        whole.insert(&order);
        assert_eq!(read, whole);
    }

    #[test]
    fn parts_put_together_mean_the_whole() {
        let prefixes = standard_prefixes();
        let table = PrefixTable::new(&prefixes).unwrap_or_else(|| unreachable!());
        let (a, b) = (BlankNode::default(), BlankNode::default());
        let members = vec![member(1, Some(&a)), member(2, None), member(3, Some(&b))];
        let whole: Graph = members.iter().flatten().cloned().collect();
        for format in [RdfFormat::Turtle, RdfFormat::NTriples] {
            let text = assemble(&table, format, &members).unwrap_or_else(|| unreachable!());
            let read = crate::rdf::parse(&text, format, "http://e.test/").unwrap_or_else(|e| panic!("{format}: {e}"));
            assert_eq!(
                crate::ETag::of_triples(read.iter()),
                crate::ETag::of_triples(whole.iter()),
                "{format}: {}",
                String::from_utf8_lossy(&text)
            );
        }
        let turtle =
            String::from_utf8(assemble(&table, RdfFormat::Turtle, &members).unwrap_or_default()).unwrap_or_default();
        assert!(turtle.starts_with("@prefix dcterms: "), "{turtle}");
        assert!(!turtle.contains("@prefix oslc:"), "only the prefixes used are declared: {turtle}");
    }

    #[test]
    fn a_turtle_part_needing_a_blank_label_is_refused() {
        let prefixes = standard_prefixes();
        let table = PrefixTable::new(&prefixes).unwrap_or_else(|| unreachable!());
        let shared = BlankNode::default();
        let mut triples = member(1, Some(&shared));
        // The same blank node as the value of a second property: it is written by label.
        triples.push(Triple::new(
            NamedNode::new_unchecked("http://e.test/r/1"),
            crate::vocab::dcterms::contributor,
            shared,
        ));
        let refs: Vec<TripleRef<'_>> = triples.iter().map(Triple::as_ref).collect();
        assert_eq!(table.part(&refs, RdfFormat::Turtle), None);
        assert!(table.part(&refs, RdfFormat::NTriples).is_some(), "N-Triples labels are the nodes' own");
        assert_eq!(table.part(&refs, RdfFormat::RdfXml), None, "RDF/XML pages are written whole");
    }
}
