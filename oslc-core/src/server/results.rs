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

use axum::body::Bytes;

use super::representations::{Kept, Kind};
use crate::Container;
use crate::query::{self, Evaluation, PAGE_TOKEN_PARAM, Query, QueryPage, SelectTerm};
use crate::rdf::parts::PrefixTable;
use crate::rdf::{RdfFormat, serialize_triples};
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
    let paging = state.shared.paging;
    let asked = query.paging || query.page_size.is_some() || query.page_token.is_some();
    let page_size = if asked { query.page_size.unwrap_or(paging.default_page_size) } else { paging.max_page_size }
        .min(paging.max_page_size);
    let candidates = candidates(state, &query, page_size).await?;
    let params = params.to_vec();
    let request_query = request_query.filter(|q| !q.is_empty()).map(str::to_owned);
    let shared = state.shared.clone();
    // Evaluating, projecting and serializing are CPU work whose cost the client chooses: off the async workers,
    // no more at once than the cores less one, within the deadline.
    super::run_cpu_bound("evaluating a query", deadline, move || {
        let page = candidates.into_page(&query, page_size, deadline)?;
        let (info, next) = response_info(&query, &page, &container, &params, request_query.as_deref())?;
        let own = container_triples(&container, &page, &info);
        let body = match assembled(&shared, format, &query, &page, &own, deadline)? {
            Some(body) => body,
            None => {
                let members = member_triples(&query, &page, deadline)?;
                let triples = in_order(&own, &members);
                serialize_triples(triples.iter().copied(), format, &shared.prefixes)?
            }
        };
        let mut response = serialized_response(StatusCode::OK, body, format, None);
        let link = match &next {
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

/// What a query's page comes from: cut already from the provider's listing (a query that neither filters,
/// searches nor orders), or resources to evaluate it over.
pub(super) enum Candidates {
    Page(QueryPage),
    Resources(Vec<crate::Resource>, Evaluation),
}

impl Candidates {
    /// The page of `page_size` members, evaluating the query if it is not cut yet (CPU work: run it off the async
    /// workers).
    pub(super) fn into_page(self, query: &Query, page_size: usize, deadline: Instant) -> Result<QueryPage> {
        match self {
            Self::Page(page) => Ok(page),
            Self::Resources(resources, evaluation) => {
                query::evaluate_within(query, resources, evaluation, Some(page_size), Some(deadline))
            }
        }
    }
}

/// Where the page of `query` comes from: a plain page is cut from the provider's listing by binary search; a query
/// that filters is evaluated over the resources the provider filtered itself (`oslc.where` pushed down), else over
/// all of them.
pub(super) async fn candidates(state: &CollectionState, query: &Query, page_size: usize) -> Result<Candidates> {
    if !query.filters() && query.order_by.is_empty() {
        let listing = state.provider.listing(&state.container).await?;
        if let Some(page) = query::page_of(query, &listing, Some(page_size))? {
            return Ok(Candidates::Page(page));
        }
    }
    let pushed_down = if query.filters() { state.provider.query(&state.container, query).await? } else { None };
    Ok(match pushed_down {
        Some(members) => Candidates::Resources(members, Evaluation::AlreadyFiltered),
        None => Candidates::Resources(state.provider.list(&state.container).await?, Evaluation::Filter),
    })
}

/// A member's selected triples (borrowed from it) and its `oslc:order` and `oslc:score` (owned).
type MemberTriples<'a> = (Vec<TripleRef<'a>>, Vec<Triple>);

/// The triples to write: the container's, then member by member, each triple once. Grouped by subject, so the
/// Turtle reads as one block per resource.
fn in_order<'a>(container: &[TripleRef<'a>], members: &'a [MemberTriples<'a>]) -> Vec<TripleRef<'a>> {
    let count = container.len() + members.iter().map(|(s, o)| s.len() + o.len()).sum::<usize>();
    let mut seen = HashSet::with_capacity_and_hasher(count, foldhash::fast::RandomState::default());
    let mut triples = Vec::with_capacity(count);
    let own = container.iter().copied();
    let members =
        members.iter().flat_map(|(selected, own)| selected.iter().copied().chain(own.iter().map(Triple::as_ref)));
    for triple in own.chain(members) {
        if seen.insert(triple) {
            triples.push(triple);
        }
    }
    triples
}

/// A member's `oslc:order`, and its `oslc:score` when the query searched.
fn stated(member: &query::Member) -> Vec<Triple> {
    let subject = member.resource.subject();
    let order = Literal::new_typed_literal(member.order.to_string(), xsd::integer);
    let mut stated = vec![Triple::new(subject, oslc::order, order)];
    if let Some(score) = member.score {
        stated.push(Triple::new(subject, oslc::score, Literal::new_typed_literal(score.to_string(), xsd::decimal)));
    }
    stated
}

/// Fails once the query's time budget is spent (checked every 32 members).
fn within(deadline: Instant, i: usize) -> Result<()> {
    if i.is_multiple_of(32) && Instant::now() > deadline {
        return Err(Error::limit("the query's time budget (members projected)", i));
    }
    Ok(())
}

/// Each member's selected triples and stated ones.
fn member_triples<'a>(query: &Query, page: &'a QueryPage, deadline: Instant) -> Result<Vec<MemberTriples<'a>>> {
    let mut members = Vec::with_capacity(page.members.len());
    for (i, member) in page.members.iter().enumerate() {
        within(deadline, i)?;
        let mut selected = Vec::new();
        if let Some(select) = &query.select {
            query::project_refs(&member.resource, select, &mut selected);
        }
        members.push((selected, stated(member)));
    }
    Ok(members)
}

/// The page put together from parts (Turtle, N-Triples): the container's statements, then each member's selected
/// triples as kept from earlier pages (written and kept now if not), followed by its `oslc:order`. `None` where the
/// syntax, the prefixes or a member's blank nodes allow no parts; the page is then written whole.
///
/// Only members whose ETag is known are kept (a provider that hands out the same resources while they do not
/// change has them computed once): computing one here would cost more than writing the member.
fn assembled(
    shared: &super::Shared,
    format: RdfFormat,
    query: &Query,
    page: &QueryPage,
    own: &[TripleRef<'_>],
    deadline: Instant,
) -> Result<Option<Vec<u8>>> {
    let Some(select) = &query.select else { return Ok(None) };
    if !PrefixTable::has_parts(format) {
        return Ok(None);
    }
    let Some(table) = PrefixTable::new(&shared.prefixes) else { return Ok(None) };
    let selection = SelectionKey(select).to_string();
    let Some(head) = table.part(own, format) else { return Ok(None) };
    let mut used = head.prefixes;
    let mut parts = Vec::with_capacity(2 * page.members.len());
    let mut selected = Vec::new();
    for (i, member) in page.members.iter().enumerate() {
        within(deadline, i)?;
        let (resource, kind) = (&member.resource, Kind::Part(&selection));
        let subject = resource.subject().as_str();
        let kept = resource.computed_etag().and_then(|etag| shared.representations.get(subject, etag, format, kind));
        let body = match kept {
            Some(kept) => {
                used |= kept.prefixes;
                kept.body
            }
            None => {
                selected.clear();
                query::project_refs(resource, select, &mut selected);
                let Some(part) = table.part(&selected, format) else { return Ok(None) };
                used |= part.prefixes;
                let body = Bytes::from(part.text);
                if let Some(etag) = resource.computed_etag() {
                    let kept = Kept { body: body.clone(), prefixes: part.prefixes };
                    shared.representations.put(subject, etag, format, kind, kept);
                }
                body
            }
        };
        let stated = stated(member);
        used |= table.used(&stated.iter().map(Triple::as_ref).collect::<Vec<_>>());
        parts.push((body, stated));
    }
    let mut out =
        Vec::with_capacity(head.text.len() + 1024 + parts.iter().map(|(body, _)| body.len() + 64).sum::<usize>());
    table.head(format, used, &mut out);
    out.extend_from_slice(&head.text);
    for (body, stated) in &parts {
        table.member(format, body, &stated.iter().map(Triple::as_ref).collect::<Vec<_>>(), &mut out);
    }
    Ok(Some(out))
}

/// A selection's text with full IRIs: the key of its parts (the same selection may be written with other
/// prefixes).
struct SelectionKey<'a>(&'a [SelectTerm]);

impl std::fmt::Display for SelectionKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, term) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match &term.property {
                query::Property::Wildcard => f.write_str("*")?,
                query::Property::Name(name) => write!(f, "<{}>", name.iri().as_str())?,
            }
            if let Some(nested) = &term.nested {
                write!(f, "{{{}}}", SelectionKey(nested))?;
            }
        }
        Ok(())
    }
}

/// The query result container's triples for `page`, borrowed from the members and from `info` (which follow).
fn container_triples<'a>(container: &'a Container, page: &'a QueryPage, info: &'a [Triple]) -> Vec<TripleRef<'a>> {
    let base = container.iri();
    let mut own = Vec::with_capacity(3 + 2 * page.members.len() + info.len());
    // An LDP Direct Container whose membership predicate is rdfs:member, as OSLC Query 3.0's example: clients that
    // read rdfs:member (Query 2.0 style) and those that read ldp:contains (LDP) both find the members.
    own.push(TripleRef::new(base, rdf::r#type, ldp::DirectContainer));
    own.push(TripleRef::new(base, ldp::membershipResource, base));
    own.push(TripleRef::new(base, ldp::hasMemberRelation, rdfs::member));
    for relation in [rdfs::member, ldp::contains] {
        for member in &page.members {
            own.push(TripleRef::new(base, relation, member.resource.subject()));
        }
    }
    own.extend(info.iter().map(Triple::as_ref));
    own
}

/// The page's `oslc:ResponseInfo`, and the next page's URL.
fn response_info(
    query: &Query,
    page: &QueryPage,
    container: &Container,
    params: &[(String, String)],
    request_query: Option<&str>,
) -> Result<(Vec<Triple>, Option<NamedNode>)> {
    let base = container.iri();
    let mut info: Vec<Triple> = Vec::with_capacity(3);
    let mut add =
        |s: NamedNodeRef<'_>, p: NamedNodeRef<'_>, o: TermRef<'_>| info.push(TripleRef::new(s, p, o).into_owned());
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
    Ok((info, next))
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
