//! Prefixes for writing, and the JSON-LD terms and coercions of a server's properties.

use std::collections::BTreeMap;

use super::jsonld;

/// Prefix bindings used when serializing (`dcterms:` → `http://purl.org/dc/terms/`), kept sorted by prefix, and
/// the JSON-LD terms (`title` → `dcterms:title`) JSON-LD output is compacted with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefixes {
    map: BTreeMap<String, String>,
    /// property IRI → its term.
    pub(super) terms: BTreeMap<String, JsonLdTerm>,
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
