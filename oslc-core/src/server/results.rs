//! The query capability's answer: the query result container (OSLC Query 3.0 § Query Result Containers), with the
//! members' selected properties, the `oslc:order` and `oslc:score` pseudo-properties, and for a paged result an
//! `oslc:ResponseInfo`.

use axum::response::Response;
use http::header::LINK;
use http::{HeaderMap, HeaderValue, StatusCode};
use oxrdf::{Graph, Literal, NamedNode, TripleRef};

use super::handlers::{CollectionState, LDP_CONTAINER, response_format};
use super::response::rdf_response;
use crate::query::{self, Evaluation, PAGE_TOKEN_PARAM, Query};
use crate::vocab::{oslc, rdf, rdfs, xsd};
use crate::{Error, Result};

/// Page sizes of the query capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Members per page when a client asks for paging without `oslc.pageSize`.
    pub default_page_size: usize,
    /// The largest page served, whatever `oslc.pageSize` asks.
    pub max_page_size: usize,
}

impl Default for Paging {
    fn default() -> Self {
        Self { default_page_size: 100, max_page_size: 1000 }
    }
}

/// Answers a query given as `params` (from the URL, or a form-encoded POST body).
pub(super) async fn query_response(
    state: &CollectionState,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> Result<Response> {
    let format = response_format(headers)?;
    let query = Query::from_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), &state.shared.prefixes)?;
    let container = &state.container;
    let pushed_down = if query.filters() { state.provider.query(container, &query).await? } else { None };
    let (resources, evaluation) = match pushed_down {
        Some(members) => (members, Evaluation::AlreadyFiltered),
        None => (state.provider.list(container).await?, Evaluation::Filter),
    };
    let paging = state.shared.paging;
    let page_size = (query.paging || query.page_size.is_some() || query.page_token.is_some())
        .then(|| query.page_size.unwrap_or(paging.default_page_size).min(paging.max_page_size));
    let page = query::evaluate(&query, resources, evaluation, page_size)?;

    let mut graph = Graph::new();
    let base = container.iri();
    for member in &page.members {
        let subject = member.resource.subject();
        graph.insert(TripleRef::new(base, rdfs::member, subject));
        if let Some(select) = &query.select {
            query::project(member.resource.graph(), subject.into(), select, &mut graph);
        }
        let order = Literal::new_typed_literal(member.order.to_string(), xsd::integer);
        graph.insert(TripleRef::new(subject, oslc::order, &order));
        if let Some(score) = member.score {
            graph.insert(TripleRef::new(
                subject,
                oslc::score,
                &Literal::new_typed_literal(score.to_string(), xsd::decimal),
            ));
        }
    }
    let mut next_link = None;
    if page_size.is_some() {
        let this_page = page_url(base.as_str(), params, query.page_token.as_deref())?;
        graph.insert(TripleRef::new(&this_page, rdf::r#type, oslc::ResponseInfo));
        let total = Literal::new_typed_literal(page.total_count.to_string(), xsd::integer);
        graph.insert(TripleRef::new(&this_page, oslc::totalCount, &total));
        if let Some(token) = &page.next_page_token {
            let next = page_url(base.as_str(), params, Some(token))?;
            graph.insert(TripleRef::new(&this_page, oslc::nextPage, &next));
            next_link = Some(next);
        }
    }
    let mut response = rdf_response(StatusCode::OK, &graph, format, &state.shared.prefixes, None);
    let link = match &next_link {
        Some(next) => format!("{LDP_CONTAINER}, <{}>; rel=\"next\"", next.as_str()),
        None => LDP_CONTAINER.to_owned(),
    };
    if let Ok(value) = HeaderValue::from_str(&link) {
        response.headers_mut().insert(LINK, value);
    }
    Ok(response)
}

/// The query base with the request's parameters, the page token replaced by `token`.
fn page_url(base: &str, params: &[(String, String)], token: Option<&str>) -> Result<NamedNode> {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params.iter().filter(|(name, _)| name != PAGE_TOKEN_PARAM) {
        serializer.append_pair(name, value);
    }
    if let Some(token) = token {
        serializer.append_pair(PAGE_TOKEN_PARAM, token);
    }
    let query = serializer.finish();
    let url = if query.is_empty() { base.to_owned() } else { format!("{base}?{query}") };
    NamedNode::new(&url).map_err(|e| Error::backend(format!("page URL {url} is not an IRI"), e))
}
