//! Entity tags computed from a resource's canonical triples, and `If-Match` / `If-None-Match` lists.

use std::fmt;

use base64::Engine as _;
use oxrdf::dataset::{CanonicalizationAlgorithm, CanonicalizationHashAlgorithm};
use oxrdf::{Graph, TripleRef};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

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
