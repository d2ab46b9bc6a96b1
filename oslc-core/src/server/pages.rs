//! The pages of a collection and its members (see [`super::html`]).

use std::time::Instant;

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode};
use maud::{Markup, html};
use oxrdf::Graph;

use super::actions::Binding;
use super::handlers::CollectionState;
use super::html::{self, Framing, label_of, page, properties};
use crate::query::{self, Member, PAGE_TOKEN_PARAM, Query, QueryPage};
use crate::vocab::dcterms;
use crate::{Resource, Result};

/// Members a page of HTML results shows unless `oslc.pageSize` says otherwise.
const HTML_PAGE_SIZE: usize = 25;

/// The page of one member: its title, its actions as buttons, its properties, links to its RDF.
pub(super) fn member_page(state: &CollectionState, resource: &Resource) -> Response {
    let shared = &state.shared;
    let member = resource.subject().as_str();
    let container = state.container.iri().as_str();
    let title = label_of(resource);
    let offered: Vec<&super::CollectionAction> = state.actions.iter().filter(|a| a.is_available(resource)).collect();
    let body = html! {
        p.crumbs { a href=(container) { (state.title) } }
        h1 { (title) }
        p.iri { code { (member) } }
        @if !offered.is_empty() {
            div.actions aria-label="Actions" {
                @for action in &offered {
                    @match &action.binding {
                        Binding::Post(_) => {
                            form method="post" action={ (member) "/" (action.name) } {
                                button type="submit" data-action=(action.name) { (action.title) }
                            }
                        }
                        Binding::Delete => {
                            button.secondary type="button" data-oslc-delete=(member) data-oslc-then=(container) {
                                (action.title)
                            }
                        }
                        // Run elsewhere with a body of its own: described in the RDF, not a button.
                        Binding::Request(_) => {}
                    }
                }
            }
        }
        (properties(resource, resource.subject().into(), &shared.prefixes, &[], 0))
        (html::format_links(member))
    };
    let mut response = html::html_response(shared, StatusCode::OK, page(shared, &title, body), Framing::Never);
    super::preview::insert_compact_link(response.headers_mut(), member);
    response
}

/// A query of a collection evaluated for a page of people: the members of one page.
pub(super) async fn evaluate(
    state: &CollectionState,
    params: &[(String, String)],
    default_page_size: usize,
) -> Result<(Query, QueryPage)> {
    let limits = state.shared.query_limits;
    let query = Query::from_params_with_limits(
        params.iter().filter(|(k, _)| k.starts_with("oslc.")).map(|(k, v)| (k.as_str(), v.as_str())),
        &state.shared.prefixes,
        &limits,
    )?;
    let deadline = Instant::now() + limits.deadline;
    let page_size = query.page_size.unwrap_or(default_page_size).min(state.shared.paging.max_page_size);
    let page = match super::results::candidates(state, &query, page_size).await? {
        super::results::Candidates::Page(page) => page,
        candidates => {
            let evaluated = query.clone();
            super::run_cpu_bound("evaluating a query", deadline, move || {
                candidates.into_page(&evaluated, page_size, deadline)
            })
            .await?
        }
    };
    Ok((query, page))
}

/// The link to the next page of a query given as `params`.
pub(super) fn next_page_link(url: &str, params: &[(String, String)], page: &QueryPage) -> Option<String> {
    let token = page.next_page_token.as_deref()?;
    let mut kept: Vec<(&str, &str)> =
        params.iter().filter(|(k, _)| k != PAGE_TOKEN_PARAM).map(|(k, v)| (k.as_str(), v.as_str())).collect();
    kept.push((PAGE_TOKEN_PARAM, token));
    Some(html::with_query(url, &kept))
}

/// The page of a collection: a query form (where, select, search terms, order, page size) and a page of results.
pub(super) async fn collection_page(state: &CollectionState, params: &[(String, String)]) -> Result<Response> {
    let shared = &state.shared;
    let container = state.container.iri().as_str();
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    let (status, results) = match evaluate(state, params, HTML_PAGE_SIZE).await {
        Ok((query, page)) => (StatusCode::OK, results(state, params, &query, &page)),
        // A query the person got wrong is shown on the form, not as an RDF error.
        Err(e) if e.status() == 400 => (StatusCode::BAD_REQUEST, html! { p.error role="alert" { (e.to_string()) } }),
        Err(e) => return Err(e),
    };
    let title = &state.title;
    let body = html! {
        h1 { (title) }
        p.iri { code { (container) } }
        p {
            a href=(state.dialogs.creation_form) { "Create…" } " · "
            a href=(state.dialogs.selection_form) { "Selection dialog" } " · "
            a href=(state.shape) { "Resource shape" }
        }
        form.query method="get" action=(container) role="search" {
            label { "Search terms" input type="search" name="oslc.searchTerms" value=(get("oslc.searchTerms")); }
            label { "Where (oslc.where)" input type="text" name="oslc.where" value=(get("oslc.where"))
                placeholder="dcterms:title=\"…\""; }
            label { "Select (oslc.select)" input type="text" name="oslc.select" value=(get("oslc.select"))
                placeholder="dcterms:title,dcterms:modified"; }
            label { "Order (oslc.orderBy)" input type="text" name="oslc.orderBy" value=(get("oslc.orderBy"))
                placeholder="-dcterms:modified"; }
            label { "Page size" input type="number" min="1" name="oslc.pageSize" value=(get("oslc.pageSize"))
                placeholder=(HTML_PAGE_SIZE); }
            button type="submit" { "Query" }
        }
        (results)
        (html::format_links(&html::with_query(container, &params.iter()
            .filter(|(k, _)| k != "format").map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>())))
    };
    Ok(html::html_response(shared, status, page(shared, title, body), Framing::Never))
}

fn results(state: &CollectionState, params: &[(String, String)], query: &Query, page: &QueryPage) -> Markup {
    let container = state.container.iri().as_str();
    html! {
        p.hint { (page.total_count) " matching" }
        table.results {
            thead { tr { th { "Title" } th { "Identifier" } @if !query.search_terms.is_empty() { th { "Score" } }
                @if query.select.is_some() { th { "Selected properties" } } } }
            tbody {
                @for member in &page.members {
                    tr {
                        td { a href=(member.resource.subject().as_str()) { (label_of(&member.resource)) } }
                        td { (text_of(&member.resource, dcterms::identifier)) }
                        @if !query.search_terms.is_empty() { td { (member.score.map_or(String::new(), |s| format!("{s:.0}"))) } }
                        @if let Some(select) = &query.select { td { (selected(state, member, select)) } }
                    }
                }
            }
        }
        @if let Some(next) = next_page_link(container, params, page) {
            nav.paging { a href=(next) rel="next" { "Next page" } }
        }
    }
}

fn selected(state: &CollectionState, member: &Member, select: &[query::SelectTerm]) -> Markup {
    let mut graph = Graph::new();
    query::project(&member.resource, select, &mut graph);
    let projected = Resource::from_graph(member.resource.subject().into_owned(), graph);
    properties(&projected, projected.subject().into(), &state.shared.prefixes, &[], 1)
}

/// The text of a resource's first literal value of `predicate`, or nothing.
pub(super) fn text_of(resource: &Resource, predicate: oxrdf::NamedNodeRef<'_>) -> String {
    match resource.object(predicate) {
        Some(oxrdf::TermRef::Literal(l)) => crate::rdf::literal_text(l).into_owned(),
        _ => String::new(),
    }
}

/// 303 to `location`: what a browser's form POST gets after it changed something.
pub(super) fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(http::header::LOCATION, value);
    }
    response
}

/// Whether a request is a browser's form submission wanting a page back.
pub(super) fn is_browser_form(headers: &HeaderMap) -> bool {
    html::is_form(headers) && html::prefers_html(headers)
}
