//! Pages for people: a browser (`Accept: text/html` preferred over every RDF syntax) at any URL of the kit gets a
//! server-rendered page instead of RDF: the catalog, providers and shapes as property tables, a collection as a
//! query form with its results, a resource with its properties, its OSLC Actions as buttons and links to its RDF in
//! each syntax. Every value is escaped (maud escapes all interpolation); links are made only of `http`/`https` IRIs.
//!
//! Pages carry a Content Security Policy that runs only the kit's own script and style, posts forms only to the
//! server itself, and lets no other site frame them; dialogs and previews may be framed by the origins given to
//! [`super::ServerBuilder::with_frame_ancestor`].

use std::fmt::Write as _;

use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, VARY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use http::{HeaderMap, HeaderValue, StatusCode};
use maud::{DOCTYPE, Markup, html};
use mediatype::{MediaTypeList, ReadParams as _, names};
use oxrdf::{NamedNodeRef, NamedOrBlankNodeRef, TermRef};

use super::Shared;
use crate::Resource;
use crate::rdf::{FORMATS, Prefixes, RdfFormat, literal_text};
use crate::vocab::{dcterms, oslc, rdf};

/// Where the kit serves its stylesheet, script and default icon, relative to the base URL.
pub(super) const STYLESHEET_PATH: &str = "/static/oslc.css";
pub(super) const SCRIPT_PATH: &str = "/static/oslc.js";
pub(super) const ICON_PATH: &str = "/static/resource.svg";

pub(super) const STYLESHEET: &str = include_str!("static/oslc.css");
pub(super) const SCRIPT: &str = include_str!("static/oslc.js");
pub(super) const ICON: &str = include_str!("static/resource.svg");

/// How deep nested resources (blank nodes, inlined resources) are shown before they become links.
const MAX_DEPTH: usize = 6;

/// Whether `Accept` asks for HTML ahead of every RDF syntax the kit writes: `text/html` (or XHTML) named with a
/// quality above that of each RDF syntax, so a browser's `text/html,…,application/xml;q=0.9,*/*;q=0.8` gets a
/// page and an OSLC client (which names RDF syntaxes, or `*/*` alone) never does.
pub(super) fn prefers_html(headers: &HeaderMap) -> bool {
    let html = explicit_quality(headers, &["text/html", "application/xhtml+xml"]);
    html > 0.0 && FORMATS.iter().all(|f| rdf_quality(headers, *f) < html)
}

/// The highest quality `Accept` gives one of `essences` by name (wildcards do not count), 0 when none is named.
pub(super) fn explicit_quality(headers: &HeaderMap, essences: &[&str]) -> f32 {
    let Some(accept) = headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()) else { return 0.0 };
    // A header that does not hold one of the names cannot name it: most requests are answered without parsing.
    let holds =
        |essence: &str| accept.as_bytes().windows(essence.len()).any(|w| w.eq_ignore_ascii_case(essence.as_bytes()));
    if !essences.iter().any(|e| holds(e)) {
        return 0.0;
    }
    let mut best = 0.0_f32;
    for range in MediaTypeList::new(accept).filter_map(std::result::Result::ok) {
        let essence = range.essence().to_string();
        if essences.iter().any(|e| e.eq_ignore_ascii_case(&essence)) {
            best = best.max(q_of(&range));
        }
    }
    best
}

fn q_of(range: &mediatype::MediaType<'_>) -> f32 {
    range.get_param(names::Q).and_then(|q| q.as_str().parse::<f32>().ok()).unwrap_or(1.0).clamp(0.0, 1.0)
}

/// The quality `Accept` gives `format`, 0 when it names none that matches or there is no `Accept`.
pub(super) fn rdf_quality(headers: &HeaderMap, format: RdfFormat) -> f32 {
    crate::rdf::quality(headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()), format)
}

/// The syntax a `format=` query parameter names (`turtle`, `jsonld`, `rdfxml`, `ntriples`), which the links of a
/// page use to show the RDF behind it: a browser cannot set `Accept` on a link.
pub(super) fn format_override(raw_query: Option<&str>) -> Option<RdfFormat> {
    let raw = raw_query?;
    form_urlencoded::parse(raw.as_bytes())
        .find(|(k, _)| k == "format")
        .and_then(|(_, v)| FORMAT_LINKS.iter().find(|(name, _, _)| *name == v).map(|(_, _, i)| FORMATS[*i]))
}

/// `format=` names, their labels and their index in [`FORMATS`].
const FORMAT_LINKS: [(&str, &str, usize); 4] =
    [("turtle", "Turtle", 0), ("jsonld", "JSON-LD", 1), ("rdfxml", "RDF/XML", 2), ("ntriples", "N-Triples", 3)];

/// `headers` with `Accept` set to the media type of the syntax `format=` names, if the query names one.
pub(super) fn with_format_override(headers: &HeaderMap, raw_query: Option<&str>) -> Option<HeaderMap> {
    let format = format_override(raw_query)?;
    let mut headers = headers.clone();
    headers.insert(http::header::ACCEPT, HeaderValue::from_static(format.media_type()));
    Some(headers)
}

/// Whether a page may be framed, and by whom.
#[derive(Debug, Clone, Copy)]
pub(super) enum Framing {
    /// Ordinary pages: by no one.
    Never,
    /// Dialogs and previews: by the server itself and the configured origins.
    Embeddable,
}

/// 200 (or `status`) with a page and its security headers.
pub(super) fn html_response(shared: &Shared, status: StatusCode, page: Markup, framing: Framing) -> Response {
    let mut response = (status, page.into_string()).into_response();
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(VARY, HeaderValue::from_static("Accept"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let ancestors = match framing {
        Framing::Never => {
            h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            "'none'".to_owned()
        }
        Framing::Embeddable => shared.frame_ancestors.clone(),
    };
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; \
         form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        h.insert(CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// The head every page has: its title, the kit's stylesheet and script.
fn head(shared: &Shared, title: &str) -> Markup {
    let base = &shared.base;
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) }
            link rel="stylesheet" href={ (base) (STYLESHEET_PATH) };
            script src={ (base) (SCRIPT_PATH) } defer {}
        }
    }
}

/// A whole page: the head, a navigation bar, and `main`.
pub(super) fn page(shared: &Shared, title: &str, body: Markup) -> Markup {
    let base = &shared.base;
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(shared, title))
            body {
                header {
                    nav aria-label="Site" {
                        a href={ (base) (super::built::Layout::catalog_path()) } { "Service provider catalog" }
                        @for (label, url) in &shared.page_links { " · " a href=(url) { (label) } }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A bare page for dialogs and previews, which are shown inside another tool's page.
pub(super) fn embedded_page(shared: &Shared, title: &str, class: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(shared, title))
            body class=(class) { main { (body) } }
        }
    }
}

/// The label people read for a resource: its title, short title or identifier, else its IRI.
pub(super) fn label_of(resource: &Resource) -> String {
    [dcterms::title, oslc::shortTitle, dcterms::identifier]
        .into_iter()
        .find_map(|p| match resource.object(p) {
            Some(TermRef::Literal(l)) => Some(literal_text(l).into_owned()),
            _ => None,
        })
        .unwrap_or_else(|| resource.subject().as_str().to_owned())
}

/// `iri` as `prefix:local` with the longest namespace of `prefixes` it starts with, else whole.
pub(super) fn curie(iri: &str, prefixes: &Prefixes) -> String {
    prefixes
        .iter()
        .filter(|(_, ns)| iri.len() > ns.len() && iri.starts_with(ns))
        .max_by_key(|(_, ns)| ns.len())
        .map_or_else(|| iri.to_owned(), |(p, ns)| format!("{p}:{}", &iri[ns.len()..]))
}

/// Whether an IRI may be a link target: only `http` and `https` (never `javascript:` or `data:`).
pub(super) fn linkable(iri: &str) -> bool {
    let lower = iri.get(..8).unwrap_or(iri).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// A link to an IRI, or the IRI as text when it may not be a link.
fn iri_link(iri: NamedNodeRef<'_>, text: &str) -> Markup {
    html! {
        @if linkable(iri.as_str()) { a href=(iri.as_str()) { (text) } } @else { code { (text) } }
    }
}

/// A table of `subject`'s properties in `resource`, nested resources shown inside up to [`MAX_DEPTH`]; `skip`
/// leaves predicates out.
pub(super) fn properties(
    resource: &Resource,
    subject: NamedOrBlankNodeRef<'_>,
    prefixes: &Prefixes,
    skip: &[NamedNodeRef<'_>],
    depth: usize,
) -> Markup {
    let mut rows: Vec<(NamedNodeRef<'_>, Vec<TermRef<'_>>)> = Vec::new();
    for triple in resource.triples_of(subject) {
        if skip.contains(&triple.predicate) {
            continue;
        }
        match rows.iter_mut().find(|(p, _)| *p == triple.predicate) {
            Some((_, values)) => values.push(triple.object),
            None => rows.push((triple.predicate, vec![triple.object])),
        }
    }
    html! {
        table.properties {
            tbody {
                @for (predicate, values) in &rows {
                    tr {
                        th scope="row" title=(predicate.as_str()) { (curie(predicate.as_str(), prefixes)) }
                        td {
                            @for value in values {
                                div.value { (term(resource, *value, prefixes, depth)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One value: a link, a nested table, or text.
fn term(resource: &Resource, value: TermRef<'_>, prefixes: &Prefixes, depth: usize) -> Markup {
    match value {
        TermRef::NamedNode(n) => {
            let nested = n != resource.subject() && resource.triples_of(n.into()).next().is_some();
            let text = curie(n.as_str(), prefixes);
            if nested && depth < MAX_DEPTH {
                html! {
                    div.nested {
                        (iri_link(n, &text))
                        (properties(resource, n.into(), prefixes, &[], depth + 1))
                    }
                }
            } else {
                iri_link(n, &text)
            }
        }
        TermRef::BlankNode(b) if depth < MAX_DEPTH => properties(resource, b.into(), prefixes, &[], depth + 1),
        TermRef::BlankNode(_) => html! { "…" },
        TermRef::Literal(l) => {
            let text = literal_text(l);
            if l.datatype() == rdf::JSON || text.contains('\n') {
                html! { pre { (text) } }
            } else {
                html! { span title=(curie(l.datatype().as_str(), prefixes)) { (text) } }
            }
        }
    }
}

/// Links to `iri` in each RDF syntax.
pub(super) fn format_links(iri: &str) -> Markup {
    let separator = if iri.contains('?') { '&' } else { '?' };
    html! {
        p.formats {
            "This resource as RDF: "
            @for (i, (name, label, _)) in FORMAT_LINKS.iter().enumerate() {
                @if i > 0 { " · " }
                a href={ (iri) (separator) "format=" (name) } { (label) }
            }
        }
    }
}

/// A page showing one RDF document: its title and its properties.
pub(super) fn document_page(shared: &Shared, resource: &Resource) -> Markup {
    let title = label_of(resource);
    page(
        shared,
        &title,
        html! {
            h1 { (title) }
            p.iri { code { (resource.subject().as_str()) } }
            (properties(resource, resource.subject().into(), &shared.prefixes, &[], 0))
            (format_links(resource.subject().as_str()))
        },
    )
}

/// A URL with `params` as its query.
pub(super) fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let mut url = base.to_owned();
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    if !query.is_empty() {
        let _ = write!(url, "{}{query}", if base.contains('?') { '&' } else { '?' });
    }
    url
}

/// Whether a form POST comes from one of the server's own pages: a browser says so with `Sec-Fetch-Site` or,
/// failing that, with an `Origin` equal to the server's. A cross-site form carrying cached HTTP Basic credentials is
/// thereby refused (CSRF).
pub(super) fn same_origin(headers: &HeaderMap, base: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    match headers.get(http::header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => origin_of(base).is_some_and(|own| own.eq_ignore_ascii_case(origin)),
        // Not a browser (browsers send Origin on every POST).
        None => true,
    }
}

/// `scheme://host[:port]` of a URL.
pub(super) fn origin_of(url: &str) -> Option<&str> {
    let rest = url.find("://")?;
    let end = url[rest + 3..].find('/').map_or(url.len(), |i| rest + 3 + i);
    Some(&url[..end])
}

/// Whether a request body is an HTML form.
pub(super) fn is_form(headers: &HeaderMap) -> bool {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
        ct.split(';').next().is_some_and(|essence| {
            let essence = essence.trim();
            essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
                || essence.eq_ignore_ascii_case("multipart/form-data")
                || essence.eq_ignore_ascii_case("text/plain")
        })
    })
}

/// 403 for a form posted from another site.
pub(super) fn cross_site_refusal(shared: &Shared) -> Response {
    html_response(
        shared,
        StatusCode::FORBIDDEN,
        page(
            shared,
            "Refused",
            html! { h1 { "Refused" } p { "A form from another site may not change this server." } },
        ),
        Framing::Never,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::ACCEPT, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn browsers_get_html_and_oslc_clients_never_do() {
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
        assert!(prefers_html(&accept(chromium)));
        assert!(prefers_html(&accept("text/html")));
        for client in ["text/turtle", "*/*", "application/rdf+xml", "text/html;q=0.5, text/turtle", "text/html, */*"] {
            assert!(!prefers_html(&accept(client)), "{client}");
        }
        assert!(!prefers_html(&HeaderMap::new()));
    }

    #[test]
    fn only_web_iris_become_links() {
        assert!(linkable("https://example.com/a"));
        assert!(linkable("HTTP://example.com/a"));
        assert!(!linkable("javascript:alert(1)"));
        assert!(!linkable("data:text/html,<script>"));
    }

    #[test]
    fn same_origin_reads_fetch_metadata_then_origin() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h, "http://a.example/oslc"));
        h.insert("origin", HeaderValue::from_static("http://evil.example"));
        assert!(!same_origin(&h, "http://a.example/oslc"));
        h.insert("origin", HeaderValue::from_static("http://a.example"));
        assert!(same_origin(&h, "http://a.example/oslc"));
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h, "http://a.example/oslc"));
    }
}
