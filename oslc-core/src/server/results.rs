//! The query capability's answer: the query result container (OSLC Query 3.0 § Query Result Containers), with the
//! members' selected properties, the `oslc:order` and `oslc:score` pseudo-properties, and for a paged result an
//! `oslc:ResponseInfo`.

use axum::response::Response;
use std::collections::HashSet;

use http::header::LINK;
use http::{HeaderMap, HeaderValue, StatusCode};
use oxrdf::{Literal, NamedNode, NamedNodeRef, TermRef, Triple, TripleRef};

use super::handlers::{CollectionState, LDP_CONTAINER, response_format};
use super::response::serialized_response;
use std::time::Instant;

use crate::Container;
use crate::query::{self, Evaluation, PAGE_TOKEN_PARAM, Query, QueryPage};
use crate::rdf::serialize_triples;
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
    let (resources, evaluation) = candidates(state, &query).await?;
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
        let built = page_triples(&query, &page, &container, &params, request_query.as_deref(), deadline)?;
        let triples = built.in_order();
        let body = serialize_triples(triples.iter().copied(), format, &prefixes)?;
        let mut response = serialized_response(StatusCode::OK, body, format, None);
        let link = match &built.next {
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

/// The resources a query is evaluated over: those the provider filtered itself (`oslc.where` pushed down), else
/// all of them, to filter here.
pub(super) async fn candidates(state: &CollectionState, query: &Query) -> Result<(Vec<crate::Resource>, Evaluation)> {
    let pushed_down = if query.filters() { state.provider.query(&state.container, query).await? } else { None };
    Ok(match pushed_down {
        Some(members) => (members, Evaluation::AlreadyFiltered),
        None => (state.provider.list(&state.container).await?, Evaluation::Filter),
    })
}

/// A page's triples: those the container and the response info state (owned), and each member's selected ones
/// (borrowed from it) followed by its `oslc:order` and `oslc:score` (owned).
struct PageTriples<'a> {
    container: Vec<Triple>,
    members: Vec<(Vec<TripleRef<'a>>, Vec<Triple>)>,
    next: Option<NamedNode>,
}

impl PageTriples<'_> {
    /// The triples to write: the container's, then member by member, each triple once. Grouped by subject, so the
    /// Turtle reads as one block per resource.
    fn in_order(&self) -> Vec<TripleRef<'_>> {
        let count = self.container.len() + self.members.iter().map(|(s, o)| s.len() + o.len()).sum::<usize>();
        let mut seen = HashSet::with_capacity_and_hasher(count, foldhash::fast::RandomState::default());
        let mut triples = Vec::with_capacity(count);
        let own = self.container.iter().map(Triple::as_ref);
        let members = self
            .members
            .iter()
            .flat_map(|(selected, own)| selected.iter().copied().chain(own.iter().map(Triple::as_ref)));
        for triple in own.chain(members) {
            if seen.insert(triple) {
                triples.push(triple);
            }
        }
        triples
    }
}

/// The query result container's triples for `page`.
fn page_triples<'a>(
    query: &Query,
    page: &'a QueryPage,
    container: &Container,
    params: &[(String, String)],
    request_query: Option<&str>,
    deadline: Instant,
) -> Result<PageTriples<'a>> {
    let base = container.iri();
    let mut own: Vec<Triple> = Vec::with_capacity(6 + 2 * page.members.len());
    let mut add =
        |s: NamedNodeRef<'_>, p: NamedNodeRef<'_>, o: TermRef<'_>| own.push(TripleRef::new(s, p, o).into_owned());
    // An LDP Direct Container whose membership predicate is rdfs:member, as OSLC Query 3.0's example: clients that
    // read rdfs:member (Query 2.0 style) and those that read ldp:contains (LDP) both find the members.
    add(base, rdf::r#type, ldp::DirectContainer.into());
    add(base, ldp::membershipResource, base.into());
    add(base, ldp::hasMemberRelation, rdfs::member.into());
    for relation in [rdfs::member, ldp::contains] {
        for member in &page.members {
            add(base, relation, member.resource.subject().into());
        }
    }
    let mut members = Vec::with_capacity(page.members.len());
    for (i, member) in page.members.iter().enumerate() {
        if i.is_multiple_of(32) && Instant::now() > deadline {
            return Err(Error::limit("the query's time budget (members projected)", i));
        }
        let subject = member.resource.subject();
        let mut selected = Vec::new();
        if let Some(select) = &query.select {
            query::project_refs(&member.resource, select, &mut selected);
        }
        let order = Literal::new_typed_literal(member.order.to_string(), xsd::integer);
        let mut stated = vec![Triple::new(subject, oslc::order, order)];
        if let Some(score) = member.score {
            stated.push(Triple::new(subject, oslc::score, Literal::new_typed_literal(score.to_string(), xsd::decimal)));
        }
        members.push((selected, stated));
    }
    // The ResponseInfo's subject is the URI the page was requested at, byte for byte (OSLC Core 3.0 Resource
    // Paging); a page asked for by a form POST has none of its own, so it gets the equivalent GET URI.
    let this_page = match request_query.and_then(|q| NamedNode::new(format!("{}?{q}", base.as_str())).ok()) {
        Some(requested) => requested,
        None => page_url(base.as_str(), params, query.page_token.as_deref())?,
    };
    add(this_page.as_ref(), rdf::r#type, oslc::ResponseInfo.into());
    let total = Literal::new_typed_literal(page.total_count.to_string(), xsd::integer);
    add(this_page.as_ref(), oslc::totalCount, total.as_ref().into());
    let mut next = None;
    if let Some(token) = &page.next_page_token {
        let next_page = page_url(base.as_str(), params, Some(token))?;
        add(this_page.as_ref(), oslc::nextPage, next_page.as_ref().into());
        next = Some(next_page);
    }
    Ok(PageTriples { container: own, members, next })
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
