//! RDF in and out: the syntaxes OSLC servers speak, parsing with error positions, serializing with prefixes, and
//! content negotiation from `Accept` and `Content-Type`.
//!
//! Everything goes through oxigraph's `oxrdfio` (oxttl, oxrdfxml, oxjsonld).
//!
//! ```
//! use oslc_core::rdf::{self, RdfFormat};
//!
//! let graph = rdf::parse(b"<a> <http://purl.org/dc/terms/title> \"A\" .", RdfFormat::Turtle, "http://example.com/")?;
//! let format = rdf::negotiate(Some("application/rdf+xml;q=0.5, text/turtle"))?;
//! assert_eq!(format, RdfFormat::Turtle);
//! let turtle = rdf::serialize(&graph, format, &oslc_core::vocab::standard_prefixes())?;
//! assert!(String::from_utf8(turtle)?.contains("dcterms:title"));
//! Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use oxrdf::{Graph, NamedOrBlankNodeRef, TermRef, TripleRef};
use oxrdfio::RdfSerializer;

pub use oxrdfio::RdfFormat;

use crate::{Error, Result};

mod jsonld;
mod layout;
mod negotiate;
mod parse;
#[cfg(feature = "server")]
pub(crate) mod parts;
mod prefixes;
#[cfg(test)]
mod strategies;
mod text;
mod xml;

#[cfg(feature = "server")]
pub(crate) use negotiate::quality;
pub use negotiate::{accepts, content_type_format, media_types, negotiate, negotiate_among};
pub use parse::{ParseLimits, parse, parse_with_limits};
pub use prefixes::{Coercion, JsonLdTerm, Prefixes};

/// An `rdf:XMLLiteral` holding `text` (escaped), the value type the OSLC shapes give titles and descriptions.
///
/// ```
/// use oslc_core::rdf::{literal_text, xml_literal};
///
/// let title = xml_literal("Fix <b> & go");
/// assert_eq!(title.value(), "Fix &lt;b&gt; &amp; go");
/// assert_eq!(literal_text(title.as_ref()), "Fix <b> & go");
/// ```
#[must_use]
pub fn xml_literal(text: &str) -> oxrdf::Literal {
    oxrdf::Literal::new_typed_literal(quick_xml::escape::escape(text), crate::vocab::rdf::XMLLiteral)
}

/// The plain text of a literal: the text content of an `rdf:XMLLiteral` (markup dropped, references resolved),
/// else its lexical value. Clients send titles either way; both read the same.
///
/// ```
/// use oslc_core::oxrdf::Literal;
/// use oslc_core::rdf::literal_text;
/// use oslc_core::vocab::rdf;
///
/// let rich = Literal::new_typed_literal("<b>Crash</b> on &quot;start&quot;", rdf::XMLLiteral);
/// assert_eq!(literal_text(rich.as_ref()), "Crash on \"start\"");
/// assert_eq!(literal_text(Literal::new_simple_literal("a < b").as_ref()), "a < b");
/// ```
#[must_use]
pub fn literal_text(literal: oxrdf::LiteralRef<'_>) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let value = literal.value();
    if literal.datatype() != crate::vocab::rdf::XMLLiteral || !value.contains(['<', '&']) {
        return Cow::Borrowed(value);
    }
    let mut reader = quick_xml::Reader::from_str(value);
    let mut text = String::with_capacity(value.len());
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Text(t)) => match t.unescape() {
                Ok(unescaped) => text.push_str(&unescaped),
                Err(_) => return Cow::Borrowed(value),
            },
            Ok(quick_xml::events::Event::CData(t)) => text.push_str(&String::from_utf8_lossy(&t)),
            Ok(quick_xml::events::Event::Eof) => return Cow::Owned(text),
            Ok(_) => {}
            // Not well-formed XML: the lexical value is the best text there is.
            Err(_) => return Cow::Borrowed(value),
        }
    }
}

/// The syntaxes this crate reads and writes, in order of preference when a client accepts several equally.
///
/// Turtle comes first: OSLC Core 3.0 makes it the default for `*/*` or no `Accept`.
pub const FORMATS: [RdfFormat; 4] = [
    RdfFormat::Turtle,
    RdfFormat::JsonLd { profile: oxjsonld::JsonLdProfileSet::empty() },
    RdfFormat::RdfXml,
    RdfFormat::NTriples,
];

/// Serializes `graph` in `format`, declaring those of `prefixes` whose namespace the graph uses.
///
/// # Errors
/// [`Error::Backend`] if the serializer fails (it writes to memory, so only on invalid prefix IRIs).
pub fn serialize(graph: &Graph, format: RdfFormat, prefixes: &Prefixes) -> Result<Vec<u8>> {
    let triples: Vec<TripleRef<'_>> = graph.iter().collect();
    serialize_triples(triples.iter().copied(), format, prefixes)
}

/// Serializes `triples`, in their order, in `format`, declaring those of `prefixes` whose namespace they use (the
/// iterator is walked twice): what [`crate::Resource::triples`] gives, written without building a graph.
///
/// # Errors
/// [`Error::Backend`] if the serializer fails (it writes to memory, so only on invalid prefix IRIs).
pub fn serialize_triples<'a>(
    triples: impl Iterator<Item = TripleRef<'a>> + Clone,
    format: RdfFormat,
    prefixes: &Prefixes,
) -> Result<Vec<u8>> {
    // The prefixes some triple uses, in their table's order, found in one pass.
    let table: Vec<(&str, &str)> = prefixes.iter().collect();
    let mut used = vec![false; table.len()];
    for triple in triples.clone() {
        mark_namespaces(triple, &table, &mut used);
        if used.iter().all(|u| *u) {
            break;
        }
    }
    let declared: Vec<(&str, &str)> = table.iter().zip(&used).filter(|(_, used)| **used).map(|(p, _)| *p).collect();
    match format {
        RdfFormat::Turtle => {
            let mut out = Vec::new();
            text::write_turtle(triples, &declared, &mut out);
            return Ok(out);
        }
        RdfFormat::NTriples => {
            let mut out = Vec::new();
            text::write_ntriples(triples, &mut out);
            return Ok(out);
        }
        RdfFormat::JsonLd { .. } => {
            return Ok(jsonld::write_jsonld(triples, &declared, prefixes).into_bytes());
        }
        RdfFormat::RdfXml => {
            let mut out = String::new();
            xml::write_rdfxml(triples, &declared, &mut out)?;
            return Ok(out.into_bytes());
        }
        _ => {}
    }
    let mut serializer = RdfSerializer::from_format(format);
    for (prefix, iri) in declared {
        serializer =
            serializer.with_prefix(prefix, iri).map_err(|e| Error::backend(format!("invalid prefix IRI {iri}"), e))?;
    }
    let mut writer = serializer.for_writer(Vec::new());
    for triple in triples {
        writer.serialize_triple(triple)?;
    }
    Ok(writer.finish()?)
}

/// Marks in `used` the namespaces of `table` that start an IRI of `triple`.
fn mark_namespaces(triple: TripleRef<'_>, table: &[(&str, &str)], used: &mut [bool]) {
    let subject = match triple.subject {
        NamedOrBlankNodeRef::NamedNode(n) => Some(n.as_str()),
        NamedOrBlankNodeRef::BlankNode(_) => None,
    };
    let object = match triple.object {
        TermRef::NamedNode(n) => Some(n.as_str()),
        TermRef::Literal(l) => Some(l.datatype().as_str()),
        TermRef::BlankNode(_) => None,
    };
    for iri in [subject, Some(triple.predicate.as_str()), object].into_iter().flatten() {
        for ((_, namespace), used) in table.iter().zip(used.iter_mut()) {
            if !*used && iri.starts_with(namespace) {
                *used = true;
            }
        }
    }
}

/// Whether two formats are the same syntax (JSON-LD profiles aside).
pub(crate) fn same_syntax(a: RdfFormat, b: RdfFormat) -> bool {
    matches!((a, b), (RdfFormat::JsonLd { .. }, RdfFormat::JsonLd { .. })) || a == b
}

#[cfg(test)]
mod tests {
    use super::parse::line_column;
    use super::*;

    #[test]
    fn negotiation_table() {
        let jsonld = FORMATS[1];
        let cases: &[(Option<&str>, Option<RdfFormat>)] = &[
            (None, Some(RdfFormat::Turtle)),
            (Some(""), Some(RdfFormat::Turtle)),
            (Some("*/*"), Some(RdfFormat::Turtle)),
            (Some("text/turtle"), Some(RdfFormat::Turtle)),
            (Some("application/rdf+xml"), Some(RdfFormat::RdfXml)),
            (Some("application/ld+json"), Some(jsonld)),
            (Some("application/json"), Some(jsonld)),
            (Some("application/n-triples"), Some(RdfFormat::NTriples)),
            (Some("text/turtle;q=0.5, application/rdf+xml"), Some(RdfFormat::RdfXml)),
            (Some("text/turtle;q=0.9, application/rdf+xml;q=0.9"), Some(RdfFormat::Turtle)),
            (Some("application/*"), Some(jsonld)),
            (Some("text/html, */*;q=0.1"), Some(RdfFormat::Turtle)),
            (Some("*/*;q=0.8, text/turtle;q=0"), Some(jsonld)),
            (Some("application/ld+json; profile=\"http://www.w3.org/ns/json-ld#compacted\""), Some(jsonld)),
            // oslc-client's default: the exact type sets RDF/XML's quality, not its aliases further down.
            (
                Some(
                    "application/rdf+xml, text/turtle;q=0.9, application/ld+json;q=0.8, application/json;q=0.7, \
                     application/xml;q=0.6, text/xml;q=0.5",
                ),
                Some(RdfFormat::RdfXml),
            ),
            (Some("application/json;q=0.9, application/ld+json;q=0.1, text/turtle;q=0.5"), Some(RdfFormat::Turtle)),
            (Some("application/trig"), Some(RdfFormat::Turtle)),
            (Some("application/n-quads, text/n3;q=0.5"), Some(RdfFormat::Turtle)),
            (Some("text/html"), None),
            (Some("text/turtle;q=0"), None),
            (Some("image/png, text/*;q=0"), None),
        ];
        for (accept, expected) in cases {
            assert_eq!(negotiate(*accept).ok(), *expected, "Accept: {accept:?}");
        }
        assert!(matches!(negotiate(Some("text/html")), Err(Error::NotAcceptable { .. })));
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type_format(Some("text/turtle; charset=utf-8")).ok(), Some(RdfFormat::Turtle));
        assert_eq!(content_type_format(Some("application/rdf+xml")).ok(), Some(RdfFormat::RdfXml));
        assert!(matches!(content_type_format(None), Err(Error::UnsupportedMediaType { .. })));
        assert!(matches!(content_type_format(Some("text/plain-ish")), Err(Error::UnsupportedMediaType { .. })));
        assert!(matches!(content_type_format(Some("application/trig")), Err(Error::UnsupportedMediaType { .. })));
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column(b"ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é\nx".as_bytes(), 2), (1, 2));
        assert_eq!(line_column(b"", 99), (1, 1));
    }

    #[test]
    fn a_blank_node_chain_deeper_than_nesting_goes_reads_back_whole_in_every_syntax() {
        #![allow(clippy::unwrap_used)]
        use oxrdf::{BlankNode, NamedNode, Triple};
        let p = NamedNode::new("http://example.com/p").unwrap();
        let root = NamedNode::new("http://example.com/root").unwrap();
        let chain: Vec<BlankNode> = (0..50).map(|_| BlankNode::default()).collect();
        let mut triples = vec![Triple::new(root, p.clone(), chain[0].clone())];
        for pair in chain.windows(2) {
            triples.push(Triple::new(pair[0].clone(), p.clone(), pair[1].clone()));
        }
        triples.push(Triple::new(chain[49].clone(), p.clone(), oxrdf::Literal::new_simple_literal("end")));
        let original: Graph = triples.iter().map(Triple::as_ref).collect();
        let prefixes = Prefixes::new().with("ex", "http://example.com/");
        for format in FORMATS {
            let out = serialize_triples(triples.iter().map(Triple::as_ref), format, &prefixes).unwrap();
            let parsed = parse(&out, format, "http://example.com/").unwrap();
            assert_eq!(parsed.len(), triples.len(), "{}", format.name());
            assert_eq!(crate::ETag::of_graph(&parsed), crate::ETag::of_graph(&original), "{}", format.name());
        }
    }
}
