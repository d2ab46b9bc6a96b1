//! Delegated dialogs (OSLC Core 3.0 Delegated Dialogs) for every collection: a selection dialog (a search box,
//! results as buttons, several picked with check boxes and a confirm button) and a creation dialog (a form
//! generated from the collection's shape, validated, creating through the creation factory). Both answer
//! `window.opener`, else `window.parent`, with `oslc-response:` messages; cancel (its button or Escape) answers
//! empty results.
//!
//! Layout: the descriptor (`oslc:Dialog`) at `/dialogs/{sp}/{collection}/selection` and `/creation`, the page at
//! the descriptor's URL plus `/form`. Dialogs are advertised in the service provider, as `Link` headers on the
//! container, and through `Prefer: return=representation; include="http://open-services.net/ns/core#PreferDialog"`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::RawQuery;
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use http::{HeaderMap, HeaderValue, StatusCode};
use maud::{Markup, html};
use oxrdf::{Literal, NamedNode, NamedNodeRef, Term};

use super::handlers::CollectionState;
use super::html::{self, Framing, embedded_page, label_of};
use crate::discovery::Property;
use crate::vocab::{dcterms, oslc, rdf, xsd};
use crate::{Error, Resource, Result};

/// The IRIs of a collection's dialogs.
#[derive(Debug, Clone)]
pub(super) struct DialogIris {
    pub(super) selection: String,
    pub(super) selection_form: String,
    pub(super) creation: String,
    pub(super) creation_form: String,
}

impl DialogIris {
    pub(super) fn path(sp: &str, collection: &str, kind: &str) -> String {
        format!("/dialogs/{sp}/{collection}/{kind}")
    }

    pub(super) fn new(base: &str, sp: &str, collection: &str) -> Self {
        let selection = format!("{base}{}", Self::path(sp, collection, "selection"));
        let creation = format!("{base}{}", Self::path(sp, collection, "creation"));
        Self {
            selection_form: format!("{selection}/form"),
            creation_form: format!("{creation}/form"),
            selection,
            creation,
        }
    }

    /// The `Link` header value naming both descriptors.
    pub(super) fn link(&self) -> String {
        format!(
            "<{}>; rel=\"http://open-services.net/ns/core#creationDialog\", <{}>; rel=\"http://open-services.net/ns/core#selectionDialog\"",
            self.creation, self.selection
        )
    }
}

/// The dialog sizes advertised.
pub(super) const HINT_WIDTH: &str = "600px";
pub(super) const HINT_HEIGHT: &str = "480px";

/// Results a selection dialog lists a page.
const SELECTION_PAGE_SIZE: usize = 20;

/// `GET …/selection/form[?q=…]`.
pub(super) fn selection_route<S: Clone + Send + Sync + 'static>(state: Arc<CollectionState>) -> MethodRouter<S> {
    get(move |RawQuery(raw): RawQuery, headers: HeaderMap| async move {
        let params: Vec<(String, String)> =
            form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes()).into_owned().collect();
        super::handlers::respond(&headers, selection(&state, &params).await)
    })
}

/// `oslc.searchTerms` for what a person typed: each word a quoted term.
fn search_terms(typed: &str, most: usize) -> Option<String> {
    let terms: Vec<String> = typed
        .split_whitespace()
        .take(most)
        .map(|w| format!("\"{}\"", w.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(","))
}

async fn selection(state: &CollectionState, params: &[(String, String)]) -> Result<Response> {
    let shared = &state.shared;
    let typed = params.iter().find(|(k, _)| k == "q").map_or("", |(_, v)| v.as_str());
    let mut query: Vec<(String, String)> = Vec::new();
    if let Some(terms) = search_terms(typed, shared.query_limits.max_search_terms) {
        query.push(("oslc.searchTerms".to_owned(), terms));
    }
    query.push(("oslc.pageSize".to_owned(), SELECTION_PAGE_SIZE.to_string()));
    if let Some((k, v)) = params.iter().find(|(k, _)| k == crate::query::PAGE_TOKEN_PARAM) {
        query.push((k.clone(), v.clone()));
    }
    let (_, page) = super::pages::evaluate(state, &query, SELECTION_PAGE_SIZE).await?;
    let form = &state.dialogs.selection_form;
    let more = page
        .next_page_token
        .as_deref()
        .map(|token| html::with_query(form, &[("q", typed), (crate::query::PAGE_TOKEN_PARAM, token)]));
    let title = format!("Select {}", state.title);
    let body = html! {
        h1 { (title) }
        form.search method="get" action=(form) role="search" {
            label for="oslc-q" { "Search" }
            input #oslc-q type="search" name="q" value=(typed) autofocus
                aria-describedby="oslc-search-hint";
            button type="submit" { "Search" }
        }
        p.hint #oslc-search-hint { (page.total_count) " found. Pick one, or check several and confirm." }
        ul.results {
            @for member in &page.members {
                @let label = label_of(&member.resource);
                @let uri = member.resource.subject().as_str();
                li {
                    input.oslc-check type="checkbox" value=(uri) data-label=(label) aria-label={ "Check " (label) };
                    button.oslc-pick type="button" data-uri=(uri) data-label=(label) { (label) }
                }
            }
        }
        @if let Some(more) = more { p { a href=(more) { "More results" } } }
        div.actions {
            button #oslc-confirm type="button" { "Select checked" }
            button.secondary #oslc-cancel type="button" { "Cancel" }
        }
    };
    let page = embedded_page(shared, &title, "oslc-dialog selection", body);
    Ok(html::html_response(shared, StatusCode::OK, page, Framing::Embeddable))
}

/// `GET` and `POST …/creation/form`.
pub(super) fn creation_route<S: Clone + Send + Sync + 'static>(state: Arc<CollectionState>) -> MethodRouter<S> {
    let post_state = state.clone();
    get(move || async move { creation_form(&state, &[], None, StatusCode::OK) }).post(
        move |headers: HeaderMap, body: Body| async move {
            super::handlers::respond(&headers, create(&post_state, &headers, body).await)
        },
    )
}

/// The properties a person fills in: the shape's writable ones with a literal or IRI value.
fn fields(state: &CollectionState) -> impl Iterator<Item = &Property> {
    state.properties.iter().filter(|p| !p.is_read_only() && kind(p).is_some())
}

/// How a property is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    LongText,
    Json,
    Boolean,
    Integer,
    Decimal,
    DateTime,
    Iri,
    Choice,
}

fn kind(p: &Property) -> Option<Kind> {
    if !p.allowed_values().is_empty() {
        return Some(Kind::Choice);
    }
    let ty = p.value_type()?;
    Some(if ty == xsd::boolean {
        Kind::Boolean
    } else if ty == xsd::integer || ty == xsd::int || ty == xsd::long {
        Kind::Integer
    } else if ty == xsd::decimal || ty == xsd::double || ty == xsd::float {
        Kind::Decimal
    } else if ty == xsd::dateTime {
        Kind::DateTime
    } else if ty == rdf::JSON {
        Kind::Json
    } else if ty == oslc::Resource || ty == oslc::AnyResource {
        Kind::Iri
    } else if ty == xsd::string || ty == rdf::XMLLiteral {
        if p.definition() == dcterms::description || p.occurs().is_many() { Kind::LongText } else { Kind::Text }
    } else {
        return None;
    })
}

fn creation_form(
    state: &CollectionState,
    values: &[(String, String)],
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let shared = &state.shared;
    let value = |name: &str| values.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let title = format!("Create {}", state.title);
    let body = html! {
        h1 { (title) }
        @if let Some(error) = error { p.error role="alert" { (error) } }
        form.create method="post" action=(state.dialogs.creation_form) {
            @for p in fields(state) {
                (field(p, value(p.name())))
            }
            div.actions {
                button type="submit" { "Create" }
                button.secondary #oslc-cancel type="button" { "Cancel" }
            }
        }
    };
    let page = embedded_page(shared, &title, "oslc-dialog creation", body);
    html::html_response(shared, status, page, Framing::Embeddable)
}

fn field(p: &Property, value: Option<&str>) -> Markup {
    let id = format!("oslc-field-{}", p.name());
    let required = p.occurs().is_required();
    let default = p.default_value().map(|d| d.value().to_owned());
    let value = value.map(str::to_owned).or(default).unwrap_or_default();
    let Some(kind) = kind(p) else { return html! {} };
    let hint = p.description().map(str::to_owned).or_else(|| match kind {
        Kind::Json => Some("A JSON value".to_owned()),
        Kind::LongText if p.occurs().is_many() => Some("One value a line".to_owned()),
        _ => None,
    });
    html! {
        label for=(id) {
            (p.name()) @if required { " *" }
            @match kind {
                Kind::Text => input #(id) type="text" name=(p.name()) value=(value) required[required];
                Kind::LongText | Kind::Json => textarea #(id) name=(p.name()) required[required] { (value) }
                Kind::Integer => input #(id) type="number" step="1" name=(p.name()) value=(value) required[required];
                Kind::Decimal => input #(id) type="number" step="any" name=(p.name()) value=(value) required[required];
                Kind::DateTime => input #(id) type="text" name=(p.name()) value=(value) required[required]
                    placeholder="2026-01-31T12:00:00Z";
                Kind::Iri => input #(id) type="url" name=(p.name()) value=(value) required[required];
                Kind::Boolean => select #(id) name=(p.name()) required[required] {
                    @if !required { option value="" { "" } }
                    option value="true" selected[value == "true"] { "true" }
                    option value="false" selected[value == "false"] { "false" }
                }
                Kind::Choice => select #(id) name=(p.name()) required[required] {
                    @if !required { option value="" { "" } }
                    @for allowed in p.allowed_values() {
                        option value=(allowed.value()) selected[value == allowed.value()] { (allowed.value()) }
                    }
                }
            }
            @if let Some(hint) = hint { small { (hint) } }
        }
    }
}

/// The RDF value of what a person entered for `p`, or why it is not one.
fn value_of(p: &Property, kind: Kind, text: &str) -> std::result::Result<Term, String> {
    let typed = |ty: NamedNodeRef<'_>| Ok(Literal::new_typed_literal(text, ty).into());
    match kind {
        Kind::Boolean if text == "true" || text == "false" => typed(xsd::boolean),
        Kind::Boolean => Err(format!("{} is true or false", p.name())),
        Kind::Integer => {
            text.parse::<i64>().map_err(|_| format!("{} is a whole number", p.name())).and_then(|_| typed(xsd::integer))
        }
        Kind::Decimal => text
            .parse::<f64>()
            .map_err(|_| format!("{} is a number", p.name()))
            .and_then(|_| typed(p.value_type().unwrap_or(xsd::decimal))),
        Kind::DateTime => text
            .parse::<oxsdatatypes::DateTime>()
            .map_err(|_| format!("{} is a date and time such as 2026-01-31T12:00:00Z", p.name()))
            .and_then(|_| typed(xsd::dateTime)),
        Kind::Json => serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| format!("{} is not JSON: {e}", p.name()))
            .and_then(|_| typed(rdf::JSON)),
        Kind::Iri if html::linkable(text) => {
            NamedNode::new(text).map(Into::into).map_err(|e| format!("{} is not an IRI: {e}", p.name()))
        }
        Kind::Iri => Err(format!("{} is an http or https URL", p.name())),
        Kind::Choice => p
            .allowed_values()
            .iter()
            .find(|a| a.value() == text)
            .map(|a| a.clone().into())
            .ok_or_else(|| format!("{} is one of the listed values", p.name())),
        Kind::Text | Kind::LongText => match p.value_type() {
            Some(ty) if ty == rdf::XMLLiteral => Ok(crate::rdf::xml_literal(text).into()),
            _ => Ok(Literal::new_simple_literal(text).into()),
        },
    }
}

async fn create(state: &CollectionState, headers: &HeaderMap, body: Body) -> Result<Response> {
    let shared = &state.shared;
    if !html::same_origin(headers, &shared.base) {
        return Ok(html::cross_site_refusal(shared));
    }
    if !html::is_form(headers) {
        return Err(Error::UnsupportedMediaType {
            media_type: headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("(none)")
                .to_owned(),
        });
    }
    let bytes = super::read_body(body, shared.body_limit).await?;
    let values: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
    let mut resource = Resource::new(state.container.iri().into_owned());
    for ty in &state.resource_types {
        resource.insert(rdf::r#type, ty);
    }
    let mut problems = Vec::new();
    for p in fields(state) {
        let Some(kind) = kind(p) else { continue };
        let entered = values.iter().filter(|(k, _)| k == p.name()).map(|(_, v)| v.as_str());
        let texts: Vec<&str> = if kind == Kind::LongText && p.occurs().is_many() {
            entered.flat_map(str::lines).map(str::trim).filter(|t| !t.is_empty()).collect()
        } else {
            entered.map(str::trim).filter(|t| !t.is_empty()).collect()
        };
        for text in texts {
            match value_of(p, kind, text) {
                Ok(value) => resource.insert(p.definition(), value.as_ref()),
                Err(problem) => problems.push(problem),
            }
        }
    }
    if problems.is_empty()
        && let Err(violation) = crate::validate::check(&state.properties, &resource, None)
    {
        problems.push(violation.to_string());
    }
    if !problems.is_empty() {
        return Ok(creation_form(state, &values, Some(&problems.join("; ")), StatusCode::BAD_REQUEST));
    }
    let created = match state.provider.create(&state.container, resource).await {
        Ok(created) => created,
        Err(e) if (400..500).contains(&e.status()) => {
            return Ok(creation_form(
                state,
                &values,
                Some(&e.to_string()),
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
            ));
        }
        Err(e) => return Err(e),
    };
    let label = label_of(&created);
    let uri = created.subject().as_str();
    let title = format!("Created {label}");
    let body = html! {
        h1 { "Created" }
        p #oslc-created data-uri=(uri) data-label=(label) { a href=(uri) target="_blank" rel="noopener" { (label) } }
    };
    let page = embedded_page(shared, &title, "oslc-dialog created", body);
    let mut response = html::html_response(shared, StatusCode::CREATED, page, Framing::Embeddable);
    if let Ok(location) = HeaderValue::from_str(uri) {
        response.headers_mut().insert(http::header::LOCATION, location);
    }
    super::preview::insert_compact_link(response.headers_mut(), uri);
    Ok(response)
}

/// A collection's dialog descriptor.
pub(super) fn descriptor(
    iri: &str,
    form: &str,
    title: &str,
    label: &str,
    resource_types: &[NamedNode],
) -> std::result::Result<(crate::discovery::Dialog, Resource), oxrdf::IriParseError> {
    use crate::resource::ToGraph as _;
    let mut dialog = crate::discovery::Dialog::new(title, NamedNode::new(form)?)
        .with_hints(HINT_WIDTH, HINT_HEIGHT)
        .with_label(label);
    for ty in resource_types {
        dialog = dialog.with_resource_type(ty.clone());
    }
    let subject = NamedNode::new(iri)?;
    let mut graph = oxrdf::Graph::new();
    dialog.add_to_graph(subject.as_ref().into(), &mut graph);
    Ok((dialog, Resource::from_graph(subject, graph)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::Occurs;

    #[test]
    fn typed_words_become_quoted_search_terms() {
        assert_eq!(search_terms("  disk  full ", 16).as_deref(), Some("\"disk\",\"full\""));
        assert_eq!(search_terms("say \"hi\"", 16).as_deref(), Some("\"say\",\"\\\"hi\\\"\""));
        assert_eq!(search_terms("a b c", 2).as_deref(), Some("\"a\",\"b\""));
        assert_eq!(search_terms("   ", 16), None);
    }

    #[test]
    fn entered_values_are_typed_by_the_shape() {
        let flag = Property::new("flag", xsd::boolean.into_owned(), Occurs::ExactlyOne)
            .with_value_type(xsd::boolean.into_owned());
        assert_eq!(value_of(&flag, Kind::Boolean, "true"), Ok(Literal::new_typed_literal("true", xsd::boolean).into()));
        assert!(value_of(&flag, Kind::Boolean, "yes").is_err());
        let json = Property::new("criteria", rdf::JSON.into_owned(), Occurs::ZeroOrOne)
            .with_value_type(rdf::JSON.into_owned());
        assert!(value_of(&json, Kind::Json, "{\"a\":1}").is_ok());
        assert!(value_of(&json, Kind::Json, "{").is_err());
        let link = Property::new("link", oslc::Resource.into_owned(), Occurs::ZeroOrOne);
        assert!(value_of(&link, Kind::Iri, "javascript:alert(1)").is_err());
    }
}
