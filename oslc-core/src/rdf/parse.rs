//! Parsing outside input within budgets: bytes, triples, nesting depth, no DTDs; errors with their positions.

use oxrdf::{Graph, TermRef};
use oxrdfio::RdfParser;
use oxrdfxml::RdfXmlParser;

use super::{FORMATS, RdfFormat, same_syntax};
use crate::{Error, Result};

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
pub(super) fn line_column(data: &[u8], offset: u64) -> (u64, u64) {
    let end = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
    let before = &data[..end];
    let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() as u64 + 1;
    (line, column)
}
