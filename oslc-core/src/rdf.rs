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

use std::collections::BTreeMap;

use mediatype::{MediaType, MediaTypeList, ReadParams, names};
use oxrdf::{Graph, NamedOrBlankNodeRef, TermRef, TripleRef};
use oxrdfio::{RdfParser, RdfSerializer};
use oxrdfxml::RdfXmlParser;

pub use oxrdfio::RdfFormat;

use crate::{Error, Result};

mod jsonld;
mod layout;
#[cfg(test)]
mod strategies;
mod text;
mod xml;

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

/// Prefix bindings used when serializing (`dcterms:` → `http://purl.org/dc/terms/`), kept sorted by prefix, and
/// the JSON-LD terms (`title` → `dcterms:title`) JSON-LD output is compacted with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefixes {
    map: BTreeMap<String, String>,
    /// property IRI → its term.
    terms: BTreeMap<String, JsonLdTerm>,
}

/// A JSON-LD term: a short name for a property IRI in the `@context` of JSON-LD output, with how its values are
/// written (OSLC shapes give it: see [`JsonLdTerm::for_value_type`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonLdTerm {
    /// The short name, such as `title`.
    pub name: String,
    /// How values are written under it.
    pub coercion: Coercion,
}

/// How the values of a JSON-LD term are written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Coercion {
    /// As they come: strings, `true`/`false`, integers as JSON numbers, other literals and links as objects.
    None,
    /// Links, as plain IRI strings (`"@type": "@id"`).
    Id,
    /// `rdf:JSON` values as JSON itself (`"@type": "@json"`, JSON-LD 1.1).
    Json,
    /// Literals of this datatype IRI, as their lexical strings.
    Datatype(String),
}

impl JsonLdTerm {
    /// The term `name` for a property whose OSLC value type is `value_type`: links for `oslc:Resource` and
    /// `oslc:AnyResource`, JSON for `rdf:JSON`, natural JSON for strings, booleans, integers, XML literals and local
    /// resources, the datatype for other XSD types.
    #[must_use]
    pub fn for_value_type(name: impl Into<String>, value_type: Option<oxrdf::NamedNodeRef<'_>>) -> Self {
        use crate::vocab::{oslc, rdf, xsd};
        let coercion = match value_type {
            Some(t) if t == oslc::Resource || t == oslc::AnyResource => Coercion::Id,
            Some(t) if t == rdf::JSON => Coercion::Json,
            Some(t)
                if t.as_str().starts_with(xsd::NS) && t != xsd::string && t != xsd::boolean && t != xsd::integer =>
            {
                Coercion::Datatype(t.as_str().to_owned())
            }
            _ => Coercion::None,
        };
        Self { name: name.into(), coercion }
    }
}

impl Prefixes {
    /// No bindings.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Binds `prefix` to the namespace `iri`, replacing an earlier binding of the same prefix.
    pub fn insert(&mut self, prefix: impl Into<String>, iri: impl Into<String>) {
        self.map.insert(prefix.into(), iri.into());
    }

    /// Names the property `iri` with `term` in JSON-LD output. The first term given for an IRI stays; a name
    /// already taken (by a term or a prefix) or not a plain name (letters, digits, `_`, `-`) is not added.
    pub fn insert_term(&mut self, iri: impl Into<String>, term: JsonLdTerm) {
        let iri = iri.into();
        let plain = !term.name.is_empty()
            && term.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !term.name.starts_with(|c: char| c.is_ascii_digit());
        if !plain
            || self.terms.contains_key(&iri)
            || self.map.contains_key(&term.name)
            || self.terms.values().any(|t| t.name == term.name)
        {
            return;
        }
        self.terms.insert(iri, term);
    }

    /// The JSON-LD context of every binding and term, as a JSON-LD document (`{"@context": {…}}`): what the
    /// server kit publishes at [`crate::server::JSONLD_CONTEXT_PATH`], and the source of the `@context` each JSON-LD
    /// document carries (that one lists only what the document uses).
    ///
    /// ```
    /// let context = oslc_core::vocab::standard_prefixes().jsonld_context();
    /// assert!(context.contains(r#""queryBase":{"@id":"oslc:queryBase","@type":"@id"}"#));
    /// ```
    #[must_use]
    pub fn jsonld_context(&self) -> String {
        jsonld::full_context(self)
    }

    /// The JSON-LD term of the property `iri`, if it has one.
    #[must_use]
    pub fn term(&self, iri: &str) -> Option<&JsonLdTerm> {
        self.terms.get(iri)
    }

    pub(crate) fn insert_static(&mut self, prefix: &'static str, iri: &'static str) {
        self.insert(prefix, iri);
    }

    /// Adds `prefix` → `iri` and returns `self`, for chaining.
    #[must_use]
    pub fn with(mut self, prefix: impl Into<String>, iri: impl Into<String>) -> Self {
        self.insert(prefix, iri);
        self
    }

    /// The namespace bound to `prefix`.
    #[must_use]
    pub fn get(&self, prefix: &str) -> Option<&str> {
        self.map.get(prefix).map(String::as_str)
    }

    /// All bindings, sorted by prefix.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(p, i)| (p.as_str(), i.as_str()))
    }

    /// Adds every binding of `other`, which wins on a clash, and the terms of `other` this set lacks.
    pub fn extend(&mut self, other: &Self) {
        for (p, i) in other.iter() {
            self.insert(p, i);
        }
        for (iri, term) in &other.terms {
            self.insert_term(iri.clone(), term.clone());
        }
    }
}

/// Budgets for RDF read from outside the process: request bodies, events from Kafka, pages of a remote TRS.
///
/// Every parse through [`parse`] runs within [`ParseLimits::default`]; [`parse_with_limits`] takes others. Going
/// over a budget stops the parser at once (so a hostile body costs little) with [`Error::LimitExceeded`], or
/// [`Error::Syntax`] for a refused construct:
///
/// | budget | default | why |
/// |---|---|---|
/// | [`max_bytes`](Self::max_bytes) | 4 MiB | the server kit's body limit (1 MiB) is lower still |
/// | [`max_triples`](Self::max_triples) | 10,000 | an OSLC resource has tens; a 1 MiB Turtle list has 100,000s |
/// | [`max_literal_bytes`](Self::max_literal_bytes) | 1 MiB | one literal, such as a description |
/// | [`max_depth`](Self::max_depth) | 32 | nesting of JSON-LD objects and arrays, Turtle `[ ]` and `( )` |
///
/// RDF/XML with a document type declaration (`<!DOCTYPE`, `<!ENTITY`) is always refused: internal entities let a
/// 1 KB body expand to gigabytes ("billion laughs"), and no OSLC client needs them.
///
/// ```
/// use oslc_core::rdf::{self, ParseLimits, RdfFormat};
///
/// let limits = ParseLimits::default().with_max_triples(1);
/// let two = b"<a> <http://e.com/p> 1, 2 .";
/// let error = rdf::parse_with_limits(two, RdfFormat::Turtle, "http://e.com/", &limits).unwrap_err();
/// assert_eq!(error.status(), 400);
/// assert_eq!(error.to_string(), "triples exceeds the limit of 1");
/// Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseLimits {
    /// The most bytes parsed.
    pub max_bytes: usize,
    /// The most triples.
    pub max_triples: usize,
    /// The longest literal, in bytes.
    pub max_literal_bytes: usize,
    /// The deepest nesting of JSON-LD objects and arrays, and of Turtle blank node property lists and collections.
    pub max_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self { max_bytes: 4 * 1024 * 1024, max_triples: 10_000, max_literal_bytes: 1024 * 1024, max_depth: 32 }
    }
}

impl ParseLimits {
    /// No budgets but the DTD refusal: for data this process wrote itself, such as its own event log.
    #[must_use]
    pub fn unlimited() -> Self {
        Self { max_bytes: usize::MAX, max_triples: usize::MAX, max_literal_bytes: usize::MAX, max_depth: usize::MAX }
    }

    /// Sets [`ParseLimits::max_bytes`].
    #[must_use]
    pub fn with_max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// Sets [`ParseLimits::max_triples`].
    #[must_use]
    pub fn with_max_triples(mut self, triples: usize) -> Self {
        self.max_triples = triples;
        self
    }

    /// Sets [`ParseLimits::max_literal_bytes`].
    #[must_use]
    pub fn with_max_literal_bytes(mut self, bytes: usize) -> Self {
        self.max_literal_bytes = bytes;
        self
    }

    /// Sets [`ParseLimits::max_depth`].
    #[must_use]
    pub fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Checks what can be checked before parsing: size, nesting depth, and DTDs in RDF/XML.
    fn check_input(&self, data: &[u8], format: RdfFormat) -> Result<()> {
        if data.len() > self.max_bytes {
            return Err(Error::limit("bytes of RDF", self.max_bytes));
        }
        match format {
            RdfFormat::RdfXml => refuse_dtd(data),
            RdfFormat::JsonLd { .. } => check_depth(data, self.max_depth, Nesting::Json),
            RdfFormat::Turtle | RdfFormat::TriG | RdfFormat::N3 => check_depth(data, self.max_depth, Nesting::Turtle),
            _ => Ok(()),
        }
    }

    /// Adds `triple` to `graph` within the triple and literal budgets.
    fn insert(&self, graph: &mut Graph, triple: oxrdf::TripleRef<'_>) -> Result<()> {
        if let TermRef::Literal(literal) = triple.object
            && literal.value().len() > self.max_literal_bytes
        {
            return Err(Error::limit("a literal's bytes", self.max_literal_bytes));
        }
        graph.insert(triple);
        if graph.len() > self.max_triples {
            return Err(Error::limit("triples", self.max_triples));
        }
        Ok(())
    }
}

/// Refuses a document type declaration anywhere in an XML document: it is where entities are declared.
fn refuse_dtd(data: &[u8]) -> Result<()> {
    for marker in [&b"<!DOCTYPE"[..], b"<!ENTITY"] {
        if let Some(at) = data.windows(marker.len()).position(|w| w.eq_ignore_ascii_case(marker)) {
            let (line, column) = line_column(data, at as u64);
            return Err(Error::Syntax {
                format: RdfFormat::RdfXml.name().to_owned(),
                line: Some(line),
                column: Some(column),
                message: "document type declarations (DTDs and entities) are not accepted".to_owned(),
            });
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Nesting {
    Json,
    Turtle,
}

/// Refuses nesting deeper than `max` before a recursive parser sees it. Strings, IRIs and comments are skipped;
/// anything the scan misreads is the parser's to report, since the scan only counts brackets.
fn check_depth(data: &[u8], max: usize, syntax: Nesting) -> Result<()> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        match b {
            b'"' => {
                i = skip_string(data, i, syntax);
                continue;
            }
            b'\'' if syntax == Nesting::Turtle => {
                i = skip_string(data, i, syntax);
                continue;
            }
            b'<' if syntax == Nesting::Turtle => {
                i += data[i..].iter().position(|c| *c == b'>' || *c == b'\n').unwrap_or(data.len() - i);
            }
            b'#' if syntax == Nesting::Turtle => {
                i += data[i..].iter().position(|c| *c == b'\n').unwrap_or(data.len() - i);
            }
            b'{' | b'[' if syntax == Nesting::Json => depth += 1,
            b'[' | b'(' if syntax == Nesting::Turtle => depth += 1,
            b'}' | b']' if syntax == Nesting::Json => depth = depth.saturating_sub(1),
            b']' | b')' if syntax == Nesting::Turtle => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > max {
            let (line, column) = line_column(data, i as u64);
            return Err(Error::LimitExceeded {
                what: format!("nesting depth (at line {line}, column {column})"),
                limit: max,
            });
        }
        i += 1;
    }
    Ok(())
}

/// The index after the string that starts at `start` (a quote), long Turtle strings included.
fn skip_string(data: &[u8], start: usize, syntax: Nesting) -> usize {
    let quote = data[start];
    let long = syntax == Nesting::Turtle && data.get(start..start + 3) == Some(&[quote, quote, quote][..]);
    let mut i = start + if long { 3 } else { 1 };
    while i < data.len() {
        match data[i] {
            b'\\' => i += 2,
            c if c == quote => {
                if !long {
                    return i + 1;
                }
                if data.get(i..i + 3) == Some(&[quote, quote, quote][..]) {
                    return i + 3;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    data.len()
}

/// Parses `data` in `format` into a graph, resolving relative IRIs against `base_iri`, within
/// [`ParseLimits::default`].
///
/// # Errors
/// [`Error::Syntax`] naming the 1-based line and column where the parser stopped; [`Error::LimitExceeded`] when
/// the data is over a budget; [`Error::BadRequest`] if `base_iri` is not an absolute IRI;
/// [`Error::UnsupportedMediaType`] for a syntax outside [`FORMATS`].
pub fn parse(data: &[u8], format: RdfFormat, base_iri: &str) -> Result<Graph> {
    parse_with_limits(data, format, base_iri, &ParseLimits::default())
}

/// [`parse`] within `limits`.
///
/// # Errors
/// As [`parse`].
pub fn parse_with_limits(data: &[u8], format: RdfFormat, base_iri: &str, limits: &ParseLimits) -> Result<Graph> {
    if !FORMATS.iter().any(|f| same_syntax(*f, format)) {
        return Err(Error::UnsupportedMediaType { media_type: format.media_type().to_owned() });
    }
    limits.check_input(data, format)?;
    let bad_base = |e: oxrdf::IriParseError| Error::bad_request(format!("invalid base IRI {base_iri}: {e}"));
    let mut graph = Graph::new();
    if format == RdfFormat::RdfXml {
        // oxrdfio drops RDF/XML error positions; oxrdfxml's parser tells the byte it had reached.
        let mut parser = RdfXmlParser::new().with_base_iri(base_iri).map_err(bad_base)?.for_slice(data);
        while let Some(triple) = parser.next() {
            match triple {
                Ok(triple) => limits.insert(&mut graph, triple.as_ref())?,
                Err(e) => {
                    let (line, column) = line_column(data, parser.buffer_position());
                    return Err(Error::Syntax {
                        format: format.name().to_owned(),
                        line: Some(line),
                        column: Some(column),
                        message: e.to_string(),
                    });
                }
            }
        }
        return Ok(graph);
    }
    let parser = RdfParser::from_format(format).with_base_iri(base_iri).map_err(bad_base)?.without_named_graphs();
    for quad in parser.for_slice(data) {
        match quad {
            Ok(quad) => limits.insert(&mut graph, oxrdf::TripleRef::from(quad.as_ref()))?,
            Err(e) => {
                let start = e.location().map(|l| l.start);
                return Err(Error::Syntax {
                    format: format.name().to_owned(),
                    line: start.map(|p| p.line + 1),
                    column: start.map(|p| p.column + 1),
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(graph)
}

/// 1-based line and column (in characters) of byte `offset` in `data`.
fn line_column(data: &[u8], offset: u64) -> (u64, u64) {
    let end = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
    let before = &data[..end];
    let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() as u64 + 1;
    (line, column)
}

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
fn same_syntax(a: RdfFormat, b: RdfFormat) -> bool {
    matches!((a, b), (RdfFormat::JsonLd { .. }, RdfFormat::JsonLd { .. })) || a == b
}

/// The media types of [`FORMATS`], comma separated, as for `Accept-Post`.
#[must_use]
pub fn media_types() -> String {
    FORMATS.iter().map(|f| f.media_type()).collect::<Vec<_>>().join(", ")
}

/// Chooses the syntax of a response from an `Accept` header among [`FORMATS`].
///
/// Follows RFC 9110 §12.5.1: q-values, `type/*` and `*/*` wildcards, the most specific range deciding a type's
/// quality, `q=0` excluding. Ties go to the earlier entry of [`FORMATS`], so `*/*` and a missing or empty header give
/// Turtle. Malformed ranges in the header are skipped.
///
/// # Errors
/// [`Error::NotAcceptable`] when no offered syntax is acceptable.
pub fn negotiate(accept: Option<&str>) -> Result<RdfFormat> {
    negotiate_among(accept, &FORMATS)
}

/// [`negotiate`] among the given syntaxes, preferring earlier ones on a tie.
///
/// # Errors
/// [`Error::NotAcceptable`] when no offered syntax is acceptable.
pub fn negotiate_among(accept: Option<&str>, offered: &[RdfFormat]) -> Result<RdfFormat> {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return offered.first().copied().ok_or_else(|| not_acceptable("", offered));
    };
    let ranges: Vec<(MediaType<'_>, f32)> = MediaTypeList::new(accept)
        .filter_map(std::result::Result::ok)
        .map(|range| {
            let q = range.get_param(names::Q).and_then(|q| q.as_str().parse::<f32>().ok()).unwrap_or(1.0);
            (range, q.clamp(0.0, 1.0))
        })
        .collect();
    let mut best: Option<(RdfFormat, f32)> = None;
    for format in offered {
        // The most specific matching range decides this format's quality (RFC 9110 §12.5.1).
        let quality = ranges
            .iter()
            .filter_map(|(range, q)| range_specificity(range, *format).map(|s| (s, *q)))
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.total_cmp(&b.1)))
            .map(|(_, q)| q);
        if let Some(q) = quality.filter(|q| *q > 0.0)
            && best.is_none_or(|(_, best_q)| q > best_q)
        {
            best = Some((*format, q));
        }
    }
    if let Some((format, _)) = best {
        return Ok(format);
    }
    // Core 3.0: a client that asks only for RDF syntaxes the server lacks gets RDF in one it has (406 is for
    // clients that want no RDF at all).
    let wants_rdf = ranges.iter().any(|(range, q)| *q > 0.0 && is_rdf_media_type(&range.essence().to_string()));
    match offered.first() {
        Some(first) if wants_rdf => Ok(*first),
        _ => Err(not_acceptable(accept, offered)),
    }
}

/// Whether an `Accept` header lets `format` be answered: no header, or one whose most specific range matching
/// `format` has a quality above 0.
///
/// ```
/// use oslc_core::rdf::{RdfFormat, accepts};
/// assert!(accepts(Some("text/turtle, application/*;q=0.5"), RdfFormat::RdfXml));
/// assert!(!accepts(Some("text/turtle"), RdfFormat::RdfXml));
/// assert!(!accepts(Some("*/*, application/rdf+xml;q=0"), RdfFormat::RdfXml));
/// ```
#[must_use]
pub fn accepts(accept: Option<&str>, format: RdfFormat) -> bool {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return true;
    };
    MediaTypeList::new(accept)
        .filter_map(std::result::Result::ok)
        .filter_map(|range| {
            let q = range.get_param(names::Q).and_then(|q| q.as_str().parse::<f32>().ok()).unwrap_or(1.0);
            range_specificity(&range, format).map(|s| (s, q))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.total_cmp(&b.1)))
        .is_some_and(|(_, q)| q > 0.0)
}

/// Whether `essence` names an RDF syntax, ours or not (TriG, N-Quads, N3, RDF/JSON, older Turtle names).
fn is_rdf_media_type(essence: &str) -> bool {
    const OTHERS: [&str; 9] = [
        "application/trig",
        "application/n-quads",
        "text/n3",
        "text/rdf+n3",
        "application/n3",
        "application/rdf+json",
        "application/x-turtle",
        "text/x-nquads",
        "application/x-trig",
    ];
    RdfFormat::from_media_type(essence).is_some() || OTHERS.iter().any(|t| t.eq_ignore_ascii_case(essence))
}

/// How specifically `range` names `format`: 4 for its own media type, 3 for another name of the syntax (such as
/// `application/xml` for RDF/XML), 2 for `type/*`, 1 for `*/*`, `None` for no match. So
/// `application/rdf+xml, text/turtle;q=0.9, application/xml;q=0.6` gives RDF/XML quality 1, not 0.6.
fn range_specificity(range: &MediaType<'_>, format: RdfFormat) -> Option<u8> {
    let (ty, subty) = (range.ty.as_str(), range.subty.as_str());
    let format_ty = format.media_type().split('/').next().unwrap_or_default();
    if ty == "*" && subty == "*" {
        return Some(1);
    }
    if subty == "*" {
        return ty.eq_ignore_ascii_case(format_ty).then_some(2);
    }
    let essence = range.essence().to_string();
    if essence.eq_ignore_ascii_case(format.media_type()) {
        return Some(4);
    }
    let named = RdfFormat::from_media_type(&essence)?;
    same_syntax(named, format).then_some(3)
}

fn not_acceptable(accept: &str, offered: &[RdfFormat]) -> Error {
    Error::NotAcceptable {
        accept: accept.to_owned(),
        offered: offered.iter().map(|f| f.media_type()).collect::<Vec<_>>().join(", "),
    }
}

/// The syntax of a request body from its `Content-Type`.
///
/// # Errors
/// [`Error::UnsupportedMediaType`] when the header is missing or names no syntax of [`FORMATS`].
pub fn content_type_format(content_type: Option<&str>) -> Result<RdfFormat> {
    let unsupported = || Error::UnsupportedMediaType { media_type: content_type.unwrap_or("(none)").to_owned() };
    let media_type = MediaType::parse(content_type.ok_or_else(unsupported)?.trim()).map_err(|_| unsupported())?;
    let format = RdfFormat::from_media_type(&media_type.essence().to_string()).ok_or_else(unsupported)?;
    FORMATS.iter().copied().find(|f| same_syntax(*f, format)).ok_or_else(unsupported)
}

#[cfg(test)]
mod tests {
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
