//! Compacted JSON-LD 1.1 output: a `@context` naming the prefixes and terms the document uses, then the nodes in
//! `@graph` with short keys (`title`, `enabled`), links as IRI strings where the term says so, `rdf:JSON` values
//! as JSON (`@json`), booleans and integers as JSON values, and blank nodes used once embedded where they are used.
//! Plain-JSON consumers read it as JSON; JSON-LD processors (and this crate's parser) read the same triples back.

use std::fmt::Write as _;

use oxrdf::{LiteralRef, NamedOrBlankNodeRef, TermRef, TripleRef};

use super::layout::Layout;
use super::{Coercion, JsonLdTerm, Prefixes};
use crate::vocab::{rdf, xsd};

/// Largest integer written as a JSON number (beyond it JavaScript loses precision).
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

struct Writer<'a, 't> {
    /// (prefix, namespace) pairs used for compact IRIs, longest namespace first.
    prefixes: Vec<(&'a str, &'a str)>,
    all: &'a Prefixes,
    /// Subjects, their sorted properties and which blank nodes nest where they are used.
    layout: Layout<'t>,
    /// Terms the output uses, by IRI.
    used_terms: std::collections::BTreeMap<&'a str, &'a JsonLdTerm>,
}

pub(super) fn write_jsonld<'t>(
    triples: impl Iterator<Item = TripleRef<'t>>,
    declared: &[(&str, &str)],
    all: &Prefixes,
) -> String {
    let mut prefixes: Vec<(&str, &str)> = declared.iter().copied().filter(|(p, _)| usable_prefix(p)).collect();
    prefixes.sort_by_key(|(_, ns)| std::cmp::Reverse(ns.len()));
    let mut writer = Writer { prefixes, all, layout: Layout::new(triples), used_terms: Default::default() };

    let mut graph = String::new();
    for i in writer.layout.top() {
        if !graph.is_empty() {
            graph.push(',');
        }
        writer.node(i, &mut graph, 0, false);
    }
    // Blank nodes in a cycle of single references were never reached from the top: write them there.
    while let Some(i) = writer.layout.next_unwritten() {
        if !graph.is_empty() {
            graph.push(',');
        }
        writer.node(i, &mut graph, 0, false);
    }

    let mut out = String::with_capacity(graph.len() + 1024);
    out.push_str("{\"@context\":");
    let terms: Vec<(&str, &JsonLdTerm)> = writer.used_terms.iter().map(|(iri, t)| (*iri, *t)).collect();
    write_context(&mut out, &writer.prefixes, terms, |iri| writer.compact(iri));
    out.push_str(",\"@graph\":[");
    out.push_str(&graph);
    out.push_str("]}");
    out
}

/// The JSON-LD context of every prefix and term of `all`, as a document (`{"@context": {…}}`).
pub(super) fn full_context(all: &Prefixes) -> String {
    let mut prefixes: Vec<(&str, &str)> = all.iter().filter(|(p, _)| usable_prefix(p)).collect();
    prefixes.sort_by_key(|(_, ns)| std::cmp::Reverse(ns.len()));
    let mut out = String::from("{\"@context\":");
    let terms: Vec<(&str, &JsonLdTerm)> = all.terms.iter().map(|(iri, t)| (iri.as_str(), t)).collect();
    write_context(&mut out, &prefixes, terms, |iri| compact_with(&prefixes, iri));
    out.push('}');
    out
}

/// `http:` would read as the IRI scheme in some processors; IRIs of such namespaces stay whole.
fn usable_prefix(prefix: &str) -> bool {
    !matches!(prefix, "http" | "https" | "urn" | "mailto")
}

/// `iri` as `prefix:local` when one of `prefixes` (longest namespace first) starts it, else whole.
fn compact_with(prefixes: &[(&str, &str)], iri: &str) -> String {
    for (prefix, ns) in prefixes {
        if let Some(local) = iri.strip_prefix(ns)
            && !local.is_empty()
            && !local.starts_with("//")
        {
            return format!("{prefix}:{local}");
        }
    }
    iri.to_owned()
}

/// Writes `{prefix: namespace…, term: {"@id": …, "@type": …}…}`, prefixes and terms each sorted by name.
fn write_context(
    out: &mut String,
    prefixes: &[(&str, &str)],
    mut terms: Vec<(&str, &JsonLdTerm)>,
    compact: impl Fn(&str) -> String,
) {
    out.push('{');
    let mut first = true;
    let mut sorted: Vec<(&str, &str)> = prefixes.to_vec();
    sorted.sort_unstable();
    for (prefix, ns) in sorted {
        if !first {
            out.push(',');
        }
        first = false;
        push_json_string(out, prefix);
        out.push(':');
        push_json_string(out, ns);
    }
    terms.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    for (iri, term) in terms {
        if !first {
            out.push(',');
        }
        first = false;
        push_json_string(out, &term.name);
        out.push_str(":{\"@id\":");
        push_json_string(out, &compact(iri));
        match &term.coercion {
            Coercion::None => {}
            Coercion::Id => out.push_str(",\"@type\":\"@id\""),
            Coercion::Json => out.push_str(",\"@type\":\"@json\""),
            Coercion::Datatype(d) => {
                out.push_str(",\"@type\":");
                push_json_string(out, &compact(d));
            }
        }
        out.push('}');
    }
    out.push('}');
}

impl<'a, 't> Writer<'a, 't> {
    /// `iri` as `prefix:local` when a declared namespace starts it, else whole.
    fn compact(&self, iri: &str) -> String {
        compact_with(&self.prefixes, iri)
    }

    /// Writes node `i`; `inline` when it is embedded where it is used (then a blank node needs no `@id`).
    fn node(&mut self, i: usize, out: &mut String, depth: usize, inline: bool) {
        let (subject, triples) = self.layout.nodes[i].clone();
        out.push('{');
        let mut first = true;
        match subject {
            NamedOrBlankNodeRef::NamedNode(n) => {
                out.push_str("\"@id\":");
                push_json_string(out, n.as_str());
                first = false;
            }
            NamedOrBlankNodeRef::BlankNode(_) if !inline => {
                out.push_str("\"@id\":");
                let label = self.layout.label(subject);
                push_json_string(out, &format!("_:{label}"));
                first = false;
            }
            NamedOrBlankNodeRef::BlankNode(_) => {}
        }
        // Types first, then each key with its values, in the order the triples come.
        let types: Vec<String> = triples
            .iter()
            .filter(|t| t.predicate == rdf::r#type)
            .filter_map(|t| match t.object {
                TermRef::NamedNode(n) => Some(self.compact(n.as_str())),
                _ => None,
            })
            .collect();
        if !types.is_empty() {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str("\"@type\":");
            if types.len() == 1 {
                push_json_string(out, &types[0]);
            } else {
                out.push('[');
                for (k, t) in types.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    push_json_string(out, t);
                }
                out.push(']');
            }
        }
        // The triples come sorted by predicate: each predicate's values under its term (those that fit it), the
        // rest under its compact IRI, each key written once.
        let properties: Vec<TripleRef<'t>> = triples
            .into_iter()
            .filter(|t| !(t.predicate == rdf::r#type && matches!(t.object, TermRef::NamedNode(_))))
            .collect();
        let mut start = 0;
        while start < properties.len() {
            let predicate = properties[start].predicate;
            let end = start + properties[start..].iter().take_while(|t| t.predicate == predicate).count();
            let run = &properties[start..end];
            start = end;
            let term = self.all.term(predicate.as_str());
            let fitting = |t: &&TripleRef<'t>| term.is_some_and(|term| fits(&term.coercion, t.object));
            let under_term: Vec<TripleRef<'t>> = run.iter().filter(fitting).copied().collect();
            let under_iri: Vec<TripleRef<'t>> = run.iter().filter(|t| !fitting(t)).copied().collect();
            for (values, term) in [(under_term, term), (under_iri, None)] {
                if values.is_empty() {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                match term {
                    Some(term) => {
                        self.used_terms.insert(self.all_key(predicate.as_str()), term);
                        push_json_string(out, &term.name);
                    }
                    None => push_json_string(out, &self.compact(predicate.as_str())),
                }
                out.push(':');
                let coercion = term.map_or(&Coercion::None, |t| &t.coercion);
                if values.len() > 1 {
                    out.push('[');
                }
                for (k, t) in values.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    self.value(t.object, coercion, out, depth);
                }
                if values.len() > 1 {
                    out.push(']');
                }
            }
        }
        out.push('}');
    }

    /// The IRI as stored in the term table (borrowed from it, so the used-term map can outlive this call).
    fn all_key(&self, iri: &str) -> &'a str {
        self.all.terms.get_key_value(iri).map_or("", |(k, _)| k.as_str())
    }

    fn value(&mut self, object: TermRef<'t>, coercion: &Coercion, out: &mut String, depth: usize) {
        match object {
            TermRef::NamedNode(n) => match coercion {
                Coercion::Id => push_json_string(out, n.as_str()),
                _ => {
                    out.push_str("{\"@id\":");
                    push_json_string(out, n.as_str());
                    out.push('}');
                }
            },
            TermRef::BlankNode(b) => {
                let node: NamedOrBlankNodeRef<'t> = b.into();
                // Embedded once where it is used; nesting is bounded by depth.
                if let Some(i) = (depth < super::layout::MAX_NESTING).then(|| self.layout.nest(node)).flatten() {
                    self.node(i, out, depth + 1, true);
                    return;
                }
                let id = format!("_:{}", self.layout.label(node));
                match coercion {
                    Coercion::Id => push_json_string(out, &id),
                    _ => {
                        out.push_str("{\"@id\":");
                        push_json_string(out, &id);
                        out.push('}');
                    }
                }
            }
            TermRef::Literal(l) => self.literal(l, coercion, out),
            #[allow(unreachable_patterns)]
            _ => push_json_string(out, &object.to_string()),
        }
    }

    fn literal(&self, l: LiteralRef<'_>, coercion: &Coercion, out: &mut String) {
        let datatype = l.datatype();
        if let Some(language) = l.language() {
            out.push_str("{\"@value\":");
            push_json_string(out, l.value());
            out.push_str(",\"@language\":");
            push_json_string(out, language);
            out.push('}');
            return;
        }
        match coercion {
            Coercion::Json => {
                out.push_str(l.value().trim());
                return;
            }
            Coercion::Datatype(_) => {
                push_json_string(out, l.value());
                return;
            }
            Coercion::None | Coercion::Id => {}
        }
        if datatype == xsd::string {
            push_json_string(out, l.value());
        } else if (datatype == xsd::boolean && matches!(l.value(), "true" | "false"))
            || (datatype == xsd::integer && canonical_safe_integer(l.value()))
        {
            // JSON's own true, false and numbers, which JSON-LD reads back as these literals.
            out.push_str(l.value());
        } else if datatype == rdf::JSON && is_json(l.value()) {
            out.push_str("{\"@value\":");
            out.push_str(l.value().trim());
            out.push_str(",\"@type\":\"@json\"}");
        } else {
            out.push_str("{\"@value\":");
            push_json_string(out, l.value());
            out.push_str(",\"@type\":");
            push_json_string(out, &self.compact(datatype.as_str()));
            out.push('}');
        }
    }
}

/// Whether `object` can be written under a term with `coercion` (else it goes under the compact IRI).
fn fits(coercion: &Coercion, object: TermRef<'_>) -> bool {
    match (coercion, object) {
        (Coercion::None, _) => true,
        (Coercion::Id, TermRef::NamedNode(_) | TermRef::BlankNode(_)) => true,
        (Coercion::Json, TermRef::Literal(l)) => l.datatype() == rdf::JSON && is_json(l.value()),
        (Coercion::Datatype(d), TermRef::Literal(l)) => l.language().is_none() && l.datatype().as_str() == d,
        _ => false,
    }
}

fn is_json(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok()
}

/// `-?(0|[1-9][0-9]*)` within JavaScript's safe integers: written as a JSON number, read back as the same literal.
fn canonical_safe_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0";
    canonical && text.parse::<i64>().is_ok_and(|n| n.abs() <= MAX_SAFE_INTEGER)
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use oxrdf::{Graph, Literal, NamedNode, Term, Triple};
    use proptest::prelude::*;

    use super::*;
    use crate::rdf::{FORMATS, parse};

    fn prefixes() -> Prefixes {
        let mut prefixes = Prefixes::new()
            .with("e2", "http://example.com/a/")
            .with("ex", "http://example.com/")
            .with("http", "http://www.w3.org/2011/http#")
            .with("rdf", rdf::NS)
            .with("xsd", xsd::NS);
        let term = |name: &str, coercion| JsonLdTerm { name: name.to_owned(), coercion };
        prefixes.insert_term("http://example.com/a", term("link", Coercion::Id));
        prefixes.insert_term("http://example.com/a/b", term("json", Coercion::Json));
        prefixes.insert_term("http://other.org/p", term("count", Coercion::Datatype(xsd::integer.as_str().to_owned())));
        prefixes.insert_term("http://example.com/x.y", term("plain", Coercion::None));
        prefixes.insert_term("http://www.w3.org/2011/http#m", term("ex", Coercion::None)); // taken by a prefix
        prefixes
    }

    /// The graph with every valid `rdf:JSON` literal in one canonical form (JSON-LD processors canonicalize
    /// `@json` values).
    fn normalized(graph: &Graph) -> crate::ETag {
        let triples: Vec<Triple> = graph
            .iter()
            .map(|t| {
                let object = match t.object {
                    TermRef::Literal(l) if l.datatype() == rdf::JSON => {
                        match serde_json::from_str::<serde_json::Value>(l.value()) {
                            Ok(v) => Term::from(Literal::new_typed_literal(as_doubles(v).to_string(), rdf::JSON)),
                            Err(_) => t.object.into_owned(),
                        }
                    }
                    other => other.into_owned(),
                };
                Triple::new(t.subject.into_owned(), t.predicate.into_owned(), object)
            })
            .collect();
        crate::ETag::of_triples(triples.iter().map(Triple::as_ref))
    }

    /// Numbers as JSON-LD's JSON canonicalization (JCS) reads them: IEEE doubles, `-0` as `0`.
    fn as_doubles(value: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::Number(n) => {
                let f = n.as_f64().unwrap_or(0.0);
                serde_json::Number::from_f64(if f == 0.0 { 0.0 } else { f }).map_or(Value::Null, Value::Number)
            }
            Value::Array(a) => Value::Array(a.into_iter().map(as_doubles).collect()),
            Value::Object(o) => {
                // Sorted keys whatever serde_json's map keeps (`preserve_order` may be on in the workspace).
                let mut entries: Vec<(String, Value)> = o.into_iter().map(|(k, v)| (k, as_doubles(v))).collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Object(entries.into_iter().collect())
            }
            other => other,
        }
    }

    fn round_trip(triples: &[Triple]) -> (String, Graph) {
        let prefixes = prefixes();
        let out = String::from_utf8(
            crate::rdf::serialize_triples(triples.iter().map(Triple::as_ref), FORMATS[1], &prefixes).unwrap(),
        )
        .unwrap();
        let graph =
            parse(out.as_bytes(), FORMATS[1], "http://example.com/base").unwrap_or_else(|e| panic!("{e}: {out}"));
        (out, graph)
    }

    const NODES: &[&str] = &[
        "http://example.com/a",
        "http://example.com/a/b",
        "http://example.com/x.y",
        "http://example.com/%41?q=1#f",
        "http://example.com/é·ü",
        "http://other.org/p",
        "http://www.w3.org/2011/http#m",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
    ];
    const VOCABULARY: crate::rdf::strategies::Vocabulary = crate::rdf::strategies::Vocabulary {
        nodes: NODES,
        predicates: NODES,
        lexicals: &[
            "",
            "0",
            "1",
            "-01",
            "-0",
            "007",
            "9007199254740993",
            "1.5",
            "true",
            "false",
            "TRUE",
            "a\"b\\c",
            "line\nbreak\ttab\u{1}",
            "héllo ✓",
            "{\"json\":[1,2]}",
            "[1, {\"b\": 2, \"a\": 1}]",
            "{not json",
            "\"s\"",
            "<b>x</b>",
        ],
        datatypes: &[
            "http://www.w3.org/2001/XMLSchema#string",
            "http://www.w3.org/2001/XMLSchema#integer",
            "http://www.w3.org/2001/XMLSchema#boolean",
            "http://www.w3.org/2001/XMLSchema#dateTime",
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON",
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#XMLLiteral",
            "http://example.com/type",
        ],
        blanks: &["b0", "b1", "b2"],
    };

    fn triple() -> impl Strategy<Value = Triple> {
        crate::rdf::strategies::triple(&VOCABULARY)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn compacted_json_ld_reads_back_as_the_same_triples(triples in prop::collection::vec(triple(), 0..12)) {
            let (out, parsed) = round_trip(&triples);
            let original: Graph = triples.iter().map(Triple::as_ref).collect();
            prop_assert_eq!(normalized(&parsed), normalized(&original), "{}", out);
        }
    }

    #[test]
    fn plain_json_consumers_read_short_keys_json_values_and_native_booleans() {
        let s = NamedNode::new("http://example.com/r").unwrap();
        let triples = vec![
            Triple::new(
                s.clone(),
                NamedNode::new("http://example.com/a").unwrap(),
                NamedNode::new("http://x.org/").unwrap(),
            ),
            Triple::new(
                s.clone(),
                NamedNode::new("http://example.com/a/b").unwrap(),
                Literal::new_typed_literal("{\"k\":[1]}", rdf::JSON),
            ),
            Triple::new(
                s.clone(),
                NamedNode::new("http://example.com/x.y").unwrap(),
                Literal::new_typed_literal("true", xsd::boolean),
            ),
            Triple::new(
                s,
                NamedNode::new("http://other.org/p").unwrap(),
                Literal::new_typed_literal("12", xsd::integer),
            ),
        ];
        let (out, _) = round_trip(&triples);
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        let node = &json["@graph"][0];
        assert_eq!(node["link"], "http://x.org/", "{out}");
        assert_eq!(node["json"]["k"][0], 1, "{out}");
        assert_eq!(node["plain"], true, "{out}");
        assert_eq!(node["count"], "12", "{out}");
        assert_eq!(json["@context"]["json"]["@type"], "@json", "{out}");
        assert!(json["@context"].get("http").is_none(), "http: is never a prefix in JSON-LD: {out}");
    }
}
