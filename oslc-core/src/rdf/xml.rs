//! RDF/XML as Jena's RDF/XML-ABBREV and Eclipse Lyo write it, so that clients reading it with XPath (Jazz-style
//! clients such as elmclient) find what they look for: each subject a typed node element named by its OSLC type (a
//! domain type such as `oslc_cm:ChangeRequest` before `oslc:` core types, before others), blank nodes used once
//! nested where they are used, the others by `rdf:nodeID` labelled in order of appearance (`b0`, `b1`…), and
//! sibling blank nodes ordered by their content, so the same triples always give the same bytes.

use oxrdf::{LiteralRef, NamedOrBlankNodeRef, TermRef, TripleRef};

use super::layout::Layout;

use crate::vocab::{rdf, xsd};
use crate::{Error, Result};

struct Writer<'p, 't> {
    /// namespace → prefix, for QNames.
    prefixes: Vec<(String, String)>,
    declared: &'p [(&'p str, &'p str)],
    layout: Layout<'t>,
}

pub(super) fn write_rdfxml<'t>(
    triples: impl Iterator<Item = TripleRef<'t>>,
    declared: &[(&str, &str)],
    out: &mut String,
) -> Result<()> {
    let mut writer = Writer {
        prefixes: declared.iter().map(|(p, ns)| ((*ns).to_owned(), (*p).to_owned())).collect(),
        declared,
        layout: Layout::new(triples),
    };
    let mut body = String::new();
    for i in writer.layout.top() {
        writer.node(i, &mut body, 1, false)?;
    }
    while let Some(i) = writer.layout.next_unwritten() {
        writer.node(i, &mut body, 1, false)?;
    }

    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rdf:RDF");
    let mut namespaces: Vec<(&str, &str)> = writer.prefixes.iter().map(|(ns, p)| (p.as_str(), ns.as_str())).collect();
    if !namespaces.iter().any(|(p, ns)| *p == "rdf" && *ns == rdf::NS) {
        namespaces.push(("rdf", rdf::NS));
    }
    namespaces.sort_unstable();
    namespaces.dedup_by(|a, b| a.0 == b.0);
    for (prefix, ns) in namespaces {
        out.push_str(" xmlns:");
        out.push_str(prefix);
        out.push_str("=\"");
        escape(out, ns, true);
        out.push('"');
    }
    out.push_str(">\n");
    out.push_str(&body);
    out.push_str("</rdf:RDF>\n");
    Ok(())
}

impl<'t> Writer<'_, 't> {
    /// `iri` as a QName, declaring a namespace for it when no prefix has one.
    fn qname(&mut self, iri: &str) -> Result<String> {
        let mut best: Option<(&str, &str)> = None;
        for (prefix, ns) in self.declared {
            if let Some(local) = iri.strip_prefix(ns)
                && is_ncname(local)
                && best.is_none_or(|(_, b)| ns.len() > b.len())
            {
                best = Some((prefix, ns));
            }
        }
        if let Some((prefix, ns)) = best {
            return Ok(format!("{prefix}:{}", &iri[ns.len()..]));
        }
        // The longest NCName at the end of the IRI is the local name; the rest its namespace.
        let start = iri
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_name_char(*c))
            .last()
            .map(|(i, _)| i)
            .and_then(|i| iri[i..].char_indices().find(|(_, c)| is_name_start_char(*c)).map(|(j, _)| i + j))
            .ok_or_else(|| Error::NotAcceptable {
                accept: "application/rdf+xml".to_owned(),
                offered: format!("other syntaxes: the property {iri} has no XML name"),
            })?;
        let (ns, local) = iri.split_at(start);
        let prefix = match self.prefixes.iter().find(|(n, _)| n == ns) {
            Some((_, p)) => p.clone(),
            None => {
                let prefix = format!("j.{}", self.prefixes.len());
                self.prefixes.push((ns.to_owned(), prefix.clone()));
                prefix
            }
        };
        Ok(format!("{prefix}:{local}"))
    }

    fn node(&mut self, i: usize, out: &mut String, depth: usize, nested: bool) -> Result<()> {
        let (subject, triples) = self.layout.nodes[i].clone();
        // The element: the preferred type that has a QName, else rdf:Description.
        let typed = triples
            .iter()
            .filter(|t| t.predicate == rdf::r#type)
            .filter_map(|t| match t.object {
                TermRef::NamedNode(n) => Some(n),
                _ => None,
            })
            .min_by_key(|n| type_rank(n.as_str()));
        let element = match typed.map(|n| self.qname(n.as_str())) {
            Some(Ok(name)) => name,
            _ => "rdf:Description".to_owned(),
        };
        let element_type = typed.filter(|_| element != "rdf:Description");
        indent(out, depth);
        out.push('<');
        out.push_str(&element);
        match subject {
            NamedOrBlankNodeRef::NamedNode(n) => {
                out.push_str(" rdf:about=\"");
                escape(out, n.as_str(), true);
                out.push('"');
            }
            NamedOrBlankNodeRef::BlankNode(_) if !nested => {
                let label = self.layout.label(subject);
                out.push_str(" rdf:nodeID=\"");
                out.push_str(&label);
                out.push('"');
            }
            NamedOrBlankNodeRef::BlankNode(_) => {}
        }
        let properties: Vec<TripleRef<'t>> = triples
            .iter()
            .copied()
            .filter(|t| !(t.predicate == rdf::r#type && element_type.is_some_and(|e| TermRef::from(e) == t.object)))
            .collect();
        if properties.is_empty() {
            out.push_str("/>\n");
            return Ok(());
        }
        out.push_str(">\n");
        for t in properties {
            let name = self.qname(t.predicate.as_str())?;
            indent(out, depth + 1);
            out.push('<');
            out.push_str(&name);
            match t.object {
                TermRef::NamedNode(n) => {
                    out.push_str(" rdf:resource=\"");
                    escape(out, n.as_str(), true);
                    out.push_str("\"/>\n");
                }
                TermRef::BlankNode(b) => {
                    let node: NamedOrBlankNodeRef<'t> = b.into();
                    if let Some(j) = (depth / 2 < super::layout::MAX_NESTING).then(|| self.layout.nest(node)).flatten()
                    {
                        out.push_str(">\n");
                        self.node(j, out, depth + 2, true)?;
                        indent(out, depth + 1);
                        out.push_str("</");
                        out.push_str(&name);
                        out.push_str(">\n");
                    } else {
                        let label = self.layout.label(node);
                        out.push_str(" rdf:nodeID=\"");
                        out.push_str(&label);
                        out.push_str("\"/>\n");
                    }
                }
                TermRef::Literal(l) => {
                    literal(out, l)?;
                    out.push_str("</");
                    out.push_str(&name);
                    out.push_str(">\n");
                }
                #[allow(unreachable_patterns)]
                _ => {
                    return Err(Error::NotAcceptable {
                        accept: "application/rdf+xml".to_owned(),
                        offered: "other syntaxes: RDF/XML cannot write this term".to_owned(),
                    });
                }
            }
        }
        indent(out, depth);
        out.push_str("</");
        out.push_str(&element);
        out.push_str(">\n");
        Ok(())
    }
}

/// Domain types (`http://open-services.net/ns/cm#…`) name elements before OSLC Core's, before any other.
fn type_rank(iri: &str) -> (u8, &str) {
    let rank = if iri.starts_with("http://open-services.net/ns/core#") {
        1
    } else if iri.starts_with("http://open-services.net/ns/") {
        0
    } else {
        2
    };
    (rank, iri)
}

/// The attributes and text of a literal property element (after its name, before its end tag).
fn literal(out: &mut String, l: LiteralRef<'_>) -> Result<()> {
    if let Some(language) = l.language() {
        out.push_str(" xml:lang=\"");
        escape(out, language, true);
        out.push('"');
    } else if l.datatype() != xsd::string {
        out.push_str(" rdf:datatype=\"");
        escape(out, l.datatype().as_str(), true);
        out.push('"');
    }
    out.push('>');
    if let Some(c) = l.value().chars().find(|c| !is_xml_char(*c)) {
        return Err(Error::NotAcceptable {
            accept: "application/rdf+xml".to_owned(),
            offered: format!("other syntaxes: a value holds U+{:04X}, which XML 1.0 cannot carry", u32::from(c)),
        });
    }
    escape(out, l.value(), false);
    Ok(())
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push('\t');
    }
}

/// Escapes text content (`attribute` false) or an attribute value; carriage returns (and in attributes tabs and
/// line feeds) as character references, so an XML parser's normalization gives them back.
fn escape(out: &mut String, text: &str, attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn is_name_start_char(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(is_name_start_char) && chars.all(is_name_char)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use oxrdf::{BlankNode, Graph, Literal, NamedNode, NamedOrBlankNode, Term, Triple};
    use proptest::prelude::*;

    use super::*;
    use crate::rdf::{Prefixes, RdfFormat, parse, serialize_triples};

    fn prefixes() -> Prefixes {
        Prefixes::new()
            .with("e2", "http://example.com/a/")
            .with("ex", "http://example.com/")
            .with("rdf", rdf::NS)
            .with("xsd", xsd::NS)
            .with("oslc", "http://open-services.net/ns/core#")
            .with("oslc_cm", "http://open-services.net/ns/cm#")
    }

    fn write(triples: &[Triple]) -> String {
        String::from_utf8(
            serialize_triples(triples.iter().map(Triple::as_ref), RdfFormat::RdfXml, &prefixes()).unwrap(),
        )
        .unwrap()
    }

    const NODES: &[&str] = &[
        "http://example.com/a",
        "http://example.com/a/b",
        "http://example.com/x.y",
        "http://example.com/%41?q=1#f",
        "http://example.com/é·ü",
        "http://other.org/p",
        "http://other.org/ns#p-1",
        "http://open-services.net/ns/cm#ChangeRequest",
        "http://open-services.net/ns/core#Service",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
    ];
    const VOCABULARY: crate::rdf::strategies::Vocabulary = crate::rdf::strategies::Vocabulary {
        nodes: NODES,
        predicates: &[
            "http://example.com/a",
            "http://example.com/a/b",
            "http://example.com/x.y",
            "http://other.org/p",
            "http://other.org/ns#p-1",
            "http://open-services.net/ns/core#service",
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
        ],
        lexicals: &[
            "",
            "1",
            "true",
            "a\"b\\c <&> ]]>",
            "line\nbreak\ttab\r\n",
            "  spaced  ",
            "héllo ✓",
            "{\"json\": [1]}",
            "<b>x</b>",
        ],
        datatypes: &[
            "http://www.w3.org/2001/XMLSchema#string",
            "http://www.w3.org/2001/XMLSchema#integer",
            "http://www.w3.org/2001/XMLSchema#boolean",
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON",
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#XMLLiteral",
            "http://example.com/type?a=1&b=2",
        ],
        blanks: &["b0", "b1", "b2", "x"],
    };

    fn triple() -> impl Strategy<Value = Triple> {
        crate::rdf::strategies::triple(&VOCABULARY)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn rdf_xml_reads_back_as_the_same_triples(triples in prop::collection::vec(triple(), 0..14)) {
            let out = write(&triples);
            let parsed = parse(out.as_bytes(), RdfFormat::RdfXml, "http://example.com/base")
                .unwrap_or_else(|e| panic!("{e}: {out}"));
            let original: Graph = triples.iter().map(Triple::as_ref).collect();
            prop_assert_eq!(crate::ETag::of_graph(&parsed), crate::ETag::of_graph(&original), "{}", out);
        }

        #[test]
        fn the_same_triples_give_the_same_bytes_whatever_their_blank_node_ids(
            triples in prop::collection::vec(triple(), 0..14)
        ) {
            // Relabel the blank nodes as another run's random ids would be.
            let relabel = |t: &Triple| {
                let map = |b: &BlankNode| {
                    let reversed = match b.as_str() { "b0" => "q3", "b1" => "q2", "b2" => "q1", _ => "q0" };
                    BlankNode::new(reversed).unwrap()
                };
                let s = match &t.subject { NamedOrBlankNode::BlankNode(b) => map(b).into(), s => s.clone() };
                let o = match &t.object { Term::BlankNode(b) => map(b).into(), o => o.clone() };
                Triple::new(s, t.predicate.clone(), o)
            };
            // Only when the blank nodes can be told apart by content is the order fully determined.
            // Sorted by subject as a resource holds them, so the blank nodes come in another order too.
            let sorted = |mut v: Vec<Triple>| {
                v.sort_by_key(|t| (t.subject.to_string(), t.predicate.to_string(), t.object.to_string()));
                v
            };
            let relabelled = sorted(triples.iter().map(relabel).collect());
            let (a, b) = (write(&sorted(triples.clone())), write(&relabelled));
            if !a.contains("rdf:nodeID") {
                prop_assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn typed_node_elements_are_named_by_the_domain_type_and_blank_nodes_nest() {
        let sp = NamedNode::new("http://example.com/sp").unwrap();
        let service = BlankNode::new("random-1").unwrap();
        let triples = vec![
            Triple::new(
                sp.clone(),
                rdf::r#type,
                NamedNode::new("http://open-services.net/ns/core#ServiceProvider").unwrap(),
            ),
            Triple::new(
                sp.clone(),
                NamedNode::new("http://open-services.net/ns/core#service").unwrap(),
                service.clone(),
            ),
            Triple::new(
                service.clone(),
                rdf::r#type,
                NamedNode::new("http://open-services.net/ns/core#Service").unwrap(),
            ),
            Triple::new(service, NamedNode::new("http://example.com/x.y").unwrap(), Literal::new_simple_literal("a")),
            Triple::new(
                NamedNode::new("http://example.com/cr").unwrap(),
                rdf::r#type,
                NamedNode::new("http://example.com/Z").unwrap(),
            ),
            Triple::new(
                NamedNode::new("http://example.com/cr").unwrap(),
                rdf::r#type,
                NamedNode::new("http://open-services.net/ns/cm#ChangeRequest").unwrap(),
            ),
        ];
        let out = write(&triples);
        assert!(
            out.contains(
                "<oslc:ServiceProvider rdf:about=\"http://example.com/sp\">\n\t\t<oslc:service>\n\t\t\t<oslc:Service>\n"
            ),
            "{out}"
        );
        assert!(out.contains("<oslc_cm:ChangeRequest rdf:about=\"http://example.com/cr\">\n\t\t<rdf:type rdf:resource=\"http://example.com/Z\"/>"), "{out}");
        assert!(!out.contains("random-1"), "{out}");
        let bad =
            [Triple::new(sp, NamedNode::new("http://example.com/x.y").unwrap(), Literal::new_simple_literal("\u{1}"))];
        assert!(serialize_triples(bad.iter().map(Triple::as_ref), RdfFormat::RdfXml, &prefixes()).is_err());
    }
}
