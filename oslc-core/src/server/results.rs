//! The query capability's answer: the query result container (OSLC Query 3.0 § Query Result Containers), with the
//! members' selected properties, the `oslc:order` and `oslc:score` pseudo-properties, and for a paged result an
//! `oslc:ResponseInfo`.

use axum::response::Response;
use http::header::LINK;
use http::{HeaderMap, HeaderValue, StatusCode};
use oxrdf::{Graph, Literal, NamedNode, TripleRef};

use super::handlers::{CollectionState, LDP_CONTAINER, response_format};
use super::response::rdf_response;
use std::time::Instant;

use crate::Container;
use crate::query::{self, Evaluation, PAGE_TOKEN_PARAM, Query, QueryPage};
use crate::vocab::{ldp, oslc, rdf, rdfs, xsd};
use crate::{Error, Result};

/// Page sizes of the query capability.
///
/// Every query result is paged, whether or not the client asked (OSLC Core 3.0 § Resource Paging lets a server
/// page on its own): a client that asks (`oslc.paging=true`, `oslc.pageSize`) gets `oslc.pageSize` or
/// [`Paging::default_page_size`] members a page; one that does not gets [`Paging::max_page_size`]. Either way the
/// page carries `oslc:ResponseInfo` with `oslc:nextPage` when more members follow, and no page is larger than
/// [`Paging::max_page_size`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Members per page when a client asks for paging without `oslc.pageSize`.
    pub default_page_size: usize,
    /// The largest page served, whatever `oslc.pageSize` asks, and the page size of a query that does not ask.
    pub max_page_size: usize,
}

impl Default for Paging {
    fn default() -> Self {
        Self { default_page_size: 100, max_page_size: 1000 }
    }
}

/// Answers a query given as `params` (from the URL, whose query string is `request_query`, or a form-encoded POST
/// body).
pub(super) async fn query_response(
    state: &CollectionState,
    headers: &HeaderMap,
    params: &[(String, String)],
    request_query: Option<&str>,
) -> Result<Response> {
    let format = response_format(headers)?;
    let limits = state.shared.query_limits;
    let query = Query::from_params_with_limits(
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &state.shared.prefixes,
        &limits,
    )?;
    let deadline = Instant::now() + limits.deadline;
    let container = state.container.clone();
    let pushed_down = if query.filters() { state.provider.query(&container, &query).await? } else { None };
    let (resources, evaluation) = match pushed_down {
        Some(members) => (members, Evaluation::AlreadyFiltered),
        None => (state.provider.list(&container).await?, Evaluation::Filter),
    };
    let paging = state.shared.paging;
    let asked = query.paging || query.page_size.is_some() || query.page_token.is_some();
    let page_size = if asked { query.page_size.unwrap_or(paging.default_page_size) } else { paging.max_page_size }
        .min(paging.max_page_size);
    let params = params.to_vec();
    let request_query = request_query.filter(|q| !q.is_empty()).map(str::to_owned);
    let prefixes = state.shared.prefixes.clone();
    // Evaluating, projecting and serializing are CPU work whose cost the client chooses: off the async workers,
    // no more at once than the cores less one, within the deadline.
    super::run_cpu_bound("evaluating a query", deadline, move || {
        let page = query::evaluate_within(&query, resources, evaluation, Some(page_size), Some(deadline))?;
        let graph = page_graph(&query, &page, &container, &params, request_query.as_deref(), deadline)?;
        let mut response = rdf_response(StatusCode::OK, &graph.graph, format, &prefixes, None);
        let link = match &graph.next {
            Some(next) => format!("{LDP_CONTAINER}, <{}>; rel=\"next\"", next.as_str()),
            None => LDP_CONTAINER.to_owned(),
        };
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(LINK, value);
        }
        Ok(response)
    })
    .await
}

struct PageGraph {
    graph: Graph,
    next: Option<NamedNode>,
}

/// The query result container's triples for `page`.
fn page_graph(
    query: &Query,
    page: &QueryPage,
    container: &Container,
    params: &[(String, String)],
    request_query: Option<&str>,
    deadline: Instant,
) -> Result<PageGraph> {
    let mut graph = Graph::new();
    let base = container.iri();
    // An LDP Direct Container whose membership predicate is rdfs:member, as OSLC Query 3.0's example: clients that
    // read rdfs:member (Query 2.0 style) and those that read ldp:contains (LDP) both find the members.
    graph.insert(TripleRef::new(base, rdf::r#type, ldp::DirectContainer));
    graph.insert(TripleRef::new(base, ldp::membershipResource, base));
    graph.insert(TripleRef::new(base, ldp::hasMemberRelation, rdfs::member));
    for (i, member) in page.members.iter().enumerate() {
        if i.is_multiple_of(32) && Instant::now() > deadline {
            return Err(Error::limit("the query's time budget (members projected)", i));
        }
        let subject = member.resource.subject();
        graph.insert(TripleRef::new(base, rdfs::member, subject));
        graph.insert(TripleRef::new(base, ldp::contains, subject));
        if let Some(select) = &query.select {
            query::project(&member.resource, select, &mut graph);
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
    // The ResponseInfo's subject is the URI the page was requested at, byte for byte (OSLC Core 3.0 Resource
    // Paging); a page asked for by a form POST has none of its own, so it gets the equivalent GET URI.
    let this_page = match request_query.and_then(|q| NamedNode::new(format!("{}?{q}", base.as_str())).ok()) {
        Some(requested) => requested,
        None => page_url(base.as_str(), params, query.page_token.as_deref())?,
    };
    graph.insert(TripleRef::new(&this_page, rdf::r#type, oslc::ResponseInfo));
    let total = Literal::new_typed_literal(page.total_count.to_string(), xsd::integer);
    graph.insert(TripleRef::new(&this_page, oslc::totalCount, &total));
    let mut next = None;
    if let Some(token) = &page.next_page_token {
        let next_page = page_url(base.as_str(), params, Some(token))?;
        graph.insert(TripleRef::new(&this_page, oslc::nextPage, &next_page));
        next = Some(next_page);
    }
    Ok(PageGraph { graph, next })
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
