//! Resource Preview (OSLC Core 3.0): every member has a Compact resource at `{member}?compact`, linked from its
//! responses with `Link: <…?compact>; rel="http://open-services.net/ns/core#Compact"` and inlined on
//! `Prefer: return=representation; include="http://open-services.net/ns/core#PreferCompact"`. The Compact is
//! served as the spec's `application/json`, in each RDF syntax, and as OSLC 2.0's `application/x-oslc-compact+xml`;
//! its small and large previews (`{member}?preview=small`, `?preview=large`) are HTML pages sized by their hints.

use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, LINK, VARY};
use http::{HeaderMap, HeaderValue, StatusCode};
use maud::html;
use oxrdf::{BlankNode, Graph, Literal, NamedNode, NamedNodeRef, TripleRef};

use super::handlers::{CollectionState, response_format};
use super::html::{self, Framing, label_of};
use crate::rdf::{self, RdfFormat};
use crate::vocab::{dcterms, oslc, rdf as rdf_vocab};
use crate::{ETag, Resource, Result};

/// The link relation of a Compact resource.
pub const COMPACT_REL: &str = "http://open-services.net/ns/core#Compact";
/// The `Prefer` include value asking for the Compact resource inline.
pub const PREFER_COMPACT: &str = "http://open-services.net/ns/core#PreferCompact";
/// The `Prefer` include value asking a container for its dialogs.
pub const PREFER_DIALOG: &str = "http://open-services.net/ns/core#PreferDialog";
/// OSLC 2.0's media type of a Compact resource.
pub const COMPACT_XML: &str = "application/x-oslc-compact+xml";

/// The size hints of the two previews.
const SMALL: (&str, &str) = ("450px", "220px");
const LARGE: (&str, &str) = ("640px", "480px");

/// Which preview document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Size {
    Small,
    Large,
}

/// What a member GET's query string asks of the preview machinery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Asked {
    Compact,
    Preview(Size),
}

/// `compact` or `preview=small|large` in a member's query string.
pub(super) fn asked(raw_query: Option<&str>) -> Option<Asked> {
    let raw = raw_query?;
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        match (k.as_ref(), v.as_ref()) {
            ("compact", _) => return Some(Asked::Compact),
            ("preview", "small") => return Some(Asked::Preview(Size::Small)),
            ("preview", "large") => return Some(Asked::Preview(Size::Large)),
            _ => {}
        }
    }
    None
}

/// Adds `Link: <{member}?compact>; rel=…#Compact` and `Vary: Accept, Prefer`.
pub(super) fn insert_compact_link(headers: &mut HeaderMap, member: &str) {
    if let Ok(value) = HeaderValue::from_str(&format!("<{member}?compact>; rel=\"{COMPACT_REL}\"")) {
        headers.append(LINK, value);
    }
    headers.insert(VARY, HeaderValue::from_static("Accept, Prefer"));
}

/// Whether `Prefer` asks for `return=representation` including `include` (RFC 7240, LDP's include parameter).
pub(super) fn prefers_include(headers: &HeaderMap, include: &str) -> bool {
    headers.get_all("prefer").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|preference| {
        let mut parts = preference.split(';').map(str::trim);
        let representation = parts.next().is_some_and(|p| p.eq_ignore_ascii_case("return=representation"));
        representation
            && parts.any(|param| {
                param.split_once('=').is_some_and(|(name, value)| {
                    name.trim().eq_ignore_ascii_case("include")
                        && value.trim().trim_matches('"').split_whitespace().any(|iri| iri == include)
                })
            })
    })
}

/// A member's Compact resource.
struct Compact {
    iri: NamedNode,
    title: String,
    short_title: Option<String>,
    icon: String,
    small: String,
    large: String,
}

impl Compact {
    fn of(state: &CollectionState, resource: &Resource) -> Result<Self> {
        let member = resource.subject().as_str();
        let identifier = super::pages::text_of(resource, dcterms::identifier);
        Ok(Self {
            iri: NamedNode::new(format!("{member}?compact"))
                .map_err(|e| crate::Error::backend(format!("the Compact IRI of {member}"), e))?,
            title: label_of(resource),
            short_title: (!identifier.is_empty()).then_some(identifier),
            icon: format!("{}{}", state.shared.base, html::ICON_PATH),
            small: format!("{member}?preview=small"),
            large: format!("{member}?preview=large"),
        })
    }

    /// The spec's JSON form.
    fn to_json(&self) -> serde_json::Value {
        let preview = |document: &str, (w, h): (&str, &str)| serde_json::json!({ "document": document, "hintWidth": w, "hintHeight": h });
        let mut json = serde_json::json!({
            "title": self.title,
            "icon": self.icon,
            "smallPreview": preview(&self.small, SMALL),
            "largePreview": preview(&self.large, LARGE),
        });
        if let (Some(short), Some(object)) = (&self.short_title, json.as_object_mut()) {
            object.insert("shortTitle".to_owned(), short.clone().into());
        }
        json
    }

    /// Its triples.
    fn add_to(&self, graph: &mut Graph) {
        let s = self.iri.as_ref();
        graph.insert(TripleRef::new(s, rdf_vocab::r#type, oslc::Compact));
        graph.insert(TripleRef::new(s, dcterms::title, &Literal::new_simple_literal(&self.title)));
        if let Some(short) = &self.short_title {
            graph.insert(TripleRef::new(s, oslc::shortTitle, &Literal::new_simple_literal(short)));
        }
        if let Ok(icon) = NamedNode::new(&self.icon) {
            graph.insert(TripleRef::new(s, oslc::icon, &icon));
        }
        for (predicate, document, (w, h)) in
            [(oslc::smallPreview, &self.small, SMALL), (oslc::largePreview, &self.large, LARGE)]
        {
            let Ok(document) = NamedNode::new(document) else { continue };
            let node = BlankNode::default();
            graph.insert(TripleRef::new(s, predicate, &node));
            graph.insert(TripleRef::new(&node, rdf_vocab::r#type, oslc::Preview));
            graph.insert(TripleRef::new(&node, oslc::document, &document));
            graph.insert(TripleRef::new(&node, oslc::hintWidth, &Literal::new_simple_literal(w)));
            graph.insert(TripleRef::new(&node, oslc::hintHeight, &Literal::new_simple_literal(h)));
        }
    }
}

/// The syntax of a Compact answer.
enum Syntax {
    Json,
    Oslc2Xml,
    Rdf(RdfFormat),
}

fn syntax(headers: &HeaderMap) -> Result<Syntax> {
    let json = html::explicit_quality(headers, &["application/json"]);
    let xml = html::explicit_quality(headers, &[COMPACT_XML]);
    let rdf = rdf::FORMATS.iter().map(|f| html::rdf_quality(headers, *f)).fold(0.0_f32, f32::max);
    if xml > 0.0 && xml >= json && xml >= rdf {
        return Ok(Syntax::Oslc2Xml);
    }
    if json > 0.0 && json >= rdf {
        return Ok(Syntax::Json);
    }
    response_format(headers).map(Syntax::Rdf)
}

/// Whether `Accept` asks for OSLC 2.0's compact XML ahead of every RDF syntax (Resource Preview's deprecated way).
pub(super) fn accepts_compact_xml(headers: &HeaderMap) -> bool {
    let xml = html::explicit_quality(headers, &[COMPACT_XML]);
    xml > 0.0 && rdf::FORMATS.iter().all(|f| html::rdf_quality(headers, *f) < xml)
}

fn json_response(value: &serde_json::Value, etag: &ETag) -> Response {
    let mut response = (StatusCode::OK, value.to_string()).into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    super::insert_etag(response.headers_mut(), etag);
    response
}

fn rdf_body(graph: &Graph, format: RdfFormat, state: &CollectionState, media_type: &'static str) -> Result<Response> {
    let body = rdf::serialize(graph, format, &state.shared.prefixes)?;
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(media_type));
    response.headers_mut().insert(super::OSLC_CORE_VERSION, HeaderValue::from_static("3.0"));
    Ok(response)
}

/// `GET {member}?compact`: the Compact resource.
pub(super) fn compact_response(state: &CollectionState, resource: &Resource, headers: &HeaderMap) -> Result<Response> {
    let compact = Compact::of(state, resource)?;
    let etag = resource.etag();
    let mut response = match syntax(headers)? {
        Syntax::Json => json_response(&compact.to_json(), &etag),
        Syntax::Oslc2Xml => compact_xml(state, &compact)?,
        Syntax::Rdf(format) => {
            let mut graph = Graph::new();
            compact.add_to(&mut graph);
            rdf_body(&graph, format, state, format.media_type())?
        }
    };
    super::insert_etag(response.headers_mut(), &etag);
    response.headers_mut().insert(VARY, HeaderValue::from_static("Accept"));
    Ok(response)
}

/// The OSLC 2.0 Compact document (RDF/XML under its own media type).
fn compact_xml(state: &CollectionState, compact: &Compact) -> Result<Response> {
    let mut graph = Graph::new();
    compact.add_to(&mut graph);
    rdf_body(&graph, RdfFormat::RdfXml, state, COMPACT_XML)
}

/// `GET {member}` with `Accept: application/x-oslc-compact+xml`.
pub(super) fn compact_xml_response(state: &CollectionState, resource: &Resource) -> Result<Response> {
    let compact = Compact::of(state, resource)?;
    let mut response = compact_xml(state, &compact)?;
    insert_compact_link(response.headers_mut(), resource.subject().as_str());
    super::insert_etag(response.headers_mut(), &resource.etag());
    Ok(response)
}

/// `GET {member}` with `Prefer: …include="…#PreferCompact"`: a minimal representation of the resource (its types
/// and title) with the Compact inline; in `application/json`, `{"compact": {…}}` as the spec shapes it.
pub(super) fn inline_compact_response(
    state: &CollectionState,
    resource: &Resource,
    headers: &HeaderMap,
) -> Result<Response> {
    let compact = Compact::of(state, resource)?;
    let etag = resource.etag();
    let mut response = match syntax(headers)? {
        Syntax::Json => {
            let mut json = serde_json::json!({ "compact": compact.to_json() });
            if let Some(object) = json.as_object_mut() {
                object.insert("@id".to_owned(), resource.subject().as_str().into());
            }
            json_response(&json, &etag)
        }
        Syntax::Oslc2Xml => compact_xml(state, &compact)?,
        Syntax::Rdf(format) => {
            let mut graph = Graph::new();
            let subject = resource.subject();
            for ty in resource.objects(rdf_vocab::r#type) {
                graph.insert(TripleRef::new(subject, rdf_vocab::r#type, ty));
            }
            if let Some(title) = resource.object(dcterms::title) {
                graph.insert(TripleRef::new(subject, dcterms::title, title));
            }
            compact.add_to(&mut graph);
            rdf_body(&graph, format, state, format.media_type())?
        }
    };
    let h = response.headers_mut();
    h.insert("preference-applied", HeaderValue::from_static("return=representation"));
    super::insert_etag(h, &etag);
    insert_compact_link(h, resource.subject().as_str());
    Ok(response)
}

/// `GET {member}?preview=small|large`: the preview document, a page sized to its hints, embeddable by the
/// configured origins.
pub(super) fn preview_page(state: &CollectionState, resource: &Resource, size: Size) -> Response {
    let shared = &state.shared;
    let title = label_of(resource);
    let subject = resource.subject();
    let body = match size {
        Size::Small => {
            // The first few properties of the shape that have a value: a glance, not the whole resource.
            let shown: Vec<NamedNodeRef<'_>> = state
                .properties
                .iter()
                .map(crate::discovery::Property::definition)
                .filter(|p| *p != dcterms::title && resource.object(*p).is_some())
                .take(6)
                .collect();
            let mut graph = Graph::new();
            for p in &shown {
                for t in resource.triples_of(subject.into()).filter(|t| t.predicate == *p) {
                    graph.insert(t);
                }
            }
            let glance = Resource::from_graph(subject.into_owned(), graph);
            html! {
                h1 { a href=(subject.as_str()) target="_blank" rel="noopener" { (title) } }
                (html::properties(&glance, subject.into(), &shared.prefixes, &[], 1))
            }
        }
        Size::Large => html! {
            h1 { a href=(subject.as_str()) target="_blank" rel="noopener" { (title) } }
            (html::properties(resource, subject.into(), &shared.prefixes, &[], 1))
        },
    };
    let class = match size {
        Size::Small => "oslc-preview small",
        Size::Large => "oslc-preview large",
    };
    let page = html::embedded_page(shared, &title, class, body);
    html::html_response(shared, StatusCode::OK, page, Framing::Embeddable)
}
