//! The HTTP handlers behind the routes [`super::ServerBuilder::build`] registers.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use http::header::{ACCEPT, ALLOW, CONTENT_TYPE, IF_MATCH, IF_NONE_MATCH, LINK, LOCATION};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use oxrdf::{Graph, NamedNode, NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, TermRef, TripleRef};

use super::representations::{Kept, Kind};
use super::response::{ErrorResponse, insert_etag, rdf_response, resource_response};
use super::{Shared, StaticDocument};
use crate::provider::{Container, IfMatch, ResourceProvider};
use crate::rdf::{self, RdfFormat};
use crate::resource::rename;
use crate::{Error, Resource, Result};

const ACCEPT_POST: HeaderName = HeaderName::from_static("accept-post");
const LDP_RESOURCE: &str = "<http://www.w3.org/ns/ldp#Resource>; rel=\"type\"";
pub(super) const LDP_CONTAINER: &str =
    "<http://www.w3.org/ns/ldp#Resource>; rel=\"type\", <http://www.w3.org/ns/ldp#DirectContainer>; rel=\"type\"";

/// What the handlers of one collection share.
pub(super) struct CollectionState {
    pub(super) container: Container,
    pub(super) provider: Arc<dyn ResourceProvider>,
    pub(super) shared: Arc<Shared>,
    pub(super) actions: Vec<super::CollectionAction>,
    /// The collection's shape properties, which POST and PUT bodies are checked against.
    pub(super) properties: Vec<crate::discovery::Property>,
    /// `Link: <shape>; rel="http://www.w3.org/ns/ldp#constrainedBy"`, sent with a body the shape refuses.
    pub(super) constrained_by: HeaderValue,
    /// The collection's title.
    pub(super) title: String,
    /// The types of its resources.
    pub(super) resource_types: Vec<NamedNode>,
    /// Its shape's IRI.
    pub(super) shape: String,
    /// Its delegated dialogs.
    pub(super) dialogs: super::dialogs::DialogIris,
    /// `Link` to the dialog descriptors, sent on the container.
    pub(super) dialog_link: HeaderValue,
    /// The dialog descriptors, for `PreferDialog`.
    pub(super) dialog_descriptors: Vec<Resource>,
}

impl CollectionState {
    /// Checks a body against the shape (a create when `current` is `None`): the refusal, if it breaks it.
    fn check(&self, resource: &Resource, current: Option<&Resource>, headers: &HeaderMap) -> Option<Response> {
        crate::validate::check(&self.properties, resource, current).err().map(|violation| {
            let mut response = ErrorResponse::new(Error::from(violation), headers).into_response();
            response.headers_mut().append(LINK, self.constrained_by.clone());
            response
        })
    }
}

/// Runs a handler body, answering its error as an `oslc:Error`.
pub(super) fn respond(headers: &HeaderMap, result: Result<Response>) -> Response {
    result.unwrap_or_else(|e| ErrorResponse::new(e, headers).into_response())
}

fn header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub(super) fn response_format(headers: &HeaderMap) -> Result<RdfFormat> {
    rdf::negotiate(header(headers, &ACCEPT))
}

fn with_link(mut response: Response, link: &'static str) -> Response {
    response.headers_mut().insert(LINK, HeaderValue::from_static(link));
    response
}

/// A GET route serving a precomputed discovery document.
pub(super) fn document<S: Clone + Send + Sync + 'static>(
    doc: Arc<StaticDocument>,
    shared: Arc<Shared>,
) -> MethodRouter<S> {
    // The request itself rather than a copy of its headers: this answers most requests a server gets.
    get(move |request: axum::extract::Request| async move {
        let overridden = super::html::with_format_override(request.headers(), request.uri().query());
        let headers = overridden.as_ref().unwrap_or(request.headers());
        if super::html::prefers_html(headers) {
            let page = super::html::document_page(&shared, &doc.resource);
            return super::html::html_response(&shared, StatusCode::OK, page, super::html::Framing::Never);
        }
        respond(headers, serve_static(&doc, &shared, headers))
    })
}

/// [`serve`] for a document that never changes: its bytes are serialized once per syntax.
fn serve_static(doc: &StaticDocument, shared: &Shared, headers: &HeaderMap) -> Result<Response> {
    let format = response_format(headers)?;
    if header(headers, &IF_NONE_MATCH).is_some_and(|h| doc.etag.matches_if_none_match(h)) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        insert_etag(response.headers_mut(), &doc.etag);
        return Ok(response);
    }
    let Some(body) = doc.body(format, &shared.prefixes) else {
        return serve(&doc.resource, &doc.etag, shared, headers);
    };
    Ok(bytes_response(body, format, &doc.etag))
}

/// 200 with a serialized resource.
fn bytes_response(body: axum::body::Bytes, format: RdfFormat, etag: &crate::ETag) -> Response {
    let mut response = Response::new(Body::from(body));
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(format.media_type()));
    h.insert(super::OSLC_CORE_VERSION, HeaderValue::from_static("3.0"));
    h.insert(http::header::VARY, HeaderValue::from_static("Accept"));
    insert_etag(h, etag);
    with_link(response, LDP_RESOURCE)
}

/// The Jazz root services document: RDF/XML unless the request asks for another syntax of ours.
pub(super) fn rootservices<S: Clone + Send + Sync + 'static>(
    doc: Arc<StaticDocument>,
    shared: Arc<Shared>,
) -> MethodRouter<S> {
    get(move |headers: HeaderMap| async move {
        let result = rdf::negotiate_among(header(&headers, &ACCEPT), &ROOTSERVICES_FORMATS)
            .map(|format| resource_response(StatusCode::OK, &doc.resource, format, &shared.prefixes, Some(&doc.etag)));
        respond(&headers, result)
    })
}

const ROOTSERVICES_FORMATS: [RdfFormat; 4] =
    [RdfFormat::RdfXml, RdfFormat::Turtle, rdf::FORMATS[1], RdfFormat::NTriples];

/// The syntax of the answer to a write: negotiated, with the request's own syntax preferred where `Accept` leaves
/// the choice open (`*/*` or no header), so a client reads the answer in the syntax it wrote.
fn write_response_format(headers: &HeaderMap) -> Result<RdfFormat> {
    let Ok(written) = rdf::content_type_format(header(headers, &CONTENT_TYPE)) else {
        return response_format(headers);
    };
    let mut offered = vec![written];
    offered.extend(rdf::FORMATS.iter().copied().filter(|f| *f != written));
    rdf::negotiate_among(header(headers, &ACCEPT), &offered)
}

/// 304 when `If-None-Match` names the current ETag, else 200 with the resource.
fn serve(resource: &Resource, etag: &crate::ETag, shared: &Shared, headers: &HeaderMap) -> Result<Response> {
    let format = response_format(headers)?;
    if header(headers, &IF_NONE_MATCH).is_some_and(|h| etag.matches_if_none_match(h)) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        insert_etag(response.headers_mut(), etag);
        return Ok(response);
    }
    Ok(with_link(resource_response(StatusCode::OK, resource, format, &shared.prefixes, Some(etag)), LDP_RESOURCE))
}

/// GET (query capability), POST (creation factory) and OPTIONS on a collection.
pub(super) fn collection_routes<S: Clone + Send + Sync + 'static>(state: Arc<CollectionState>) -> MethodRouter<S> {
    let (list_state, create_state) = (state.clone(), state.clone());
    let options_state = state.clone();
    get(move |RawQuery(raw): RawQuery, headers: HeaderMap| async move {
        let headers = super::html::with_format_override(&headers, raw.as_deref()).unwrap_or(headers);
        let params: Vec<(String, String)> = form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes())
            .into_owned()
            .filter(|(k, _)| k != "format")
            .collect();
        let result = if super::html::prefers_html(&headers) {
            super::pages::collection_page(&list_state, &params).await
        } else if super::preview::prefers_include(&headers, super::preview::PREFER_DIALOG) {
            dialogs_response(&list_state, &headers)
        } else {
            super::results::query_response(&list_state, &headers, &params, raw.as_deref()).await
        };
        let mut response = respond(&headers, result);
        response.headers_mut().append(LINK, list_state.dialog_link.clone());
        response
    })
    .post(move |headers: HeaderMap, body: Body| async move {
        let result = post(&create_state, &headers, body).await;
        respond(&headers, result)
    })
    .options(move || async move {
        let mut response = options_response("GET, HEAD, POST, OPTIONS", LDP_CONTAINER, true);
        response.headers_mut().append(LINK, options_state.dialog_link.clone());
        response
    })
}

/// A container's answer to `Prefer: return=representation; include="…#PreferDialog"`: the container (its type
/// and title, minimal: no members) with its dialog descriptors.
fn dialogs_response(state: &CollectionState, headers: &HeaderMap) -> Result<Response> {
    use crate::vocab::{dcterms, ldp, oslc, rdf as rdf_vocab};
    let format = response_format(headers)?;
    let container = state.container.iri();
    let mut graph = Graph::new();
    graph.insert(TripleRef::new(container, rdf_vocab::r#type, ldp::DirectContainer));
    graph.insert(TripleRef::new(container, dcterms::title, &oxrdf::Literal::new_simple_literal(&state.title)));
    for (predicate, descriptor) in
        [oslc::selectionDialog, oslc::creationDialog].into_iter().zip(&state.dialog_descriptors)
    {
        graph.insert(TripleRef::new(container, predicate, descriptor.subject()));
        for triple in descriptor.triples() {
            graph.insert(triple);
        }
    }
    let mut response = rdf_response(StatusCode::OK, &graph, format, &state.shared.prefixes, None);
    let h = response.headers_mut();
    h.insert(HeaderName::from_static("preference-applied"), HeaderValue::from_static("return=representation"));
    h.insert(http::header::VARY, HeaderValue::from_static("Accept, Prefer"));
    h.insert(LINK, HeaderValue::from_static(LDP_CONTAINER));
    Ok(response)
}

/// GET, PUT, DELETE and OPTIONS on one member.
pub(super) fn member_routes<S: Clone + Send + Sync + 'static>(state: Arc<CollectionState>) -> MethodRouter<S> {
    let (get_state, put_state, delete_state) = (state.clone(), state.clone(), state);
    get(move |Path(id): Path<String>, request: axum::extract::Request| async move {
        let raw = request.uri().query();
        let overridden = super::html::with_format_override(request.headers(), raw);
        let headers = overridden.as_ref().unwrap_or(request.headers());
        let result = read(&get_state, &id, headers, raw).await;
        respond(headers, result)
    })
    .put(move |Path(id): Path<String>, RawQuery(raw): RawQuery, headers: HeaderMap, body: Body| async move {
        let result = replace(&put_state, &id, &headers, raw.as_deref(), body).await;
        respond(&headers, result)
    })
    .delete(move |Path(id): Path<String>, headers: HeaderMap| async move {
        let result = delete(&delete_state, &id, &headers).await;
        respond(&headers, result)
    })
    .options(|| async { options_response("GET, HEAD, PUT, DELETE, OPTIONS", LDP_RESOURCE, false) })
}

fn options_response(allow: &'static str, link: &'static str, accept_post: bool) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(ALLOW, HeaderValue::from_static(allow));
    headers.insert(LINK, HeaderValue::from_static(link));
    headers.insert(super::OSLC_CORE_VERSION, HeaderValue::from_static("3.0"));
    if accept_post && let Ok(value) = HeaderValue::from_str(&rdf::media_types()) {
        headers.insert(ACCEPT_POST, value);
    }
    response
}

/// POST on a collection: a form-encoded body is a query (OSLC Query 3.0 § Using a Query Capability); any other
/// body is a resource to create.
async fn post(state: &CollectionState, headers: &HeaderMap, body: Body) -> Result<Response> {
    let form = header(headers, &CONTENT_TYPE).is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    });
    if form {
        let bytes = super::read_body(body, state.shared.body_limit).await?;
        let params: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
        return super::results::query_response(state, headers, &params, None).await;
    }
    create(state, headers, body).await
}

async fn read(state: &CollectionState, id: &str, headers: &HeaderMap, raw_query: Option<&str>) -> Result<Response> {
    use super::preview::{self, Asked};
    let asked = preview::asked(raw_query);
    let html = super::html::prefers_html(headers) && super::html::format_override(raw_query).is_none();
    if asked.is_some() || html || preview::accepts_compact_xml(headers) {
        let resource = state.provider.get(&state.container, id).await?;
        return match asked {
            Some(Asked::Compact) => preview::compact_response(state, &resource, headers),
            Some(Asked::Preview(size)) => Ok(preview::preview_page(state, &resource, size)),
            None if html => Ok(super::pages::member_page(state, &resource)),
            None => preview::compact_xml_response(state, &resource),
        };
    }
    if preview::prefers_include(headers, super::PREFER_COMPACT) {
        let resource = state.provider.get(&state.container, id).await?;
        return preview::inline_compact_response(state, &resource, headers);
    }
    let mut response = read_rdf(state, id, headers, raw_query).await?;
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        preview::insert_compact_link(response.headers_mut(), state.container.member(id).as_str());
    }
    Ok(response)
}

async fn read_rdf(state: &CollectionState, id: &str, headers: &HeaderMap, raw_query: Option<&str>) -> Result<Response> {
    let format = response_format(headers)?;
    let selected = selected_properties(state, raw_query)?;
    let resource = state.provider.get(&state.container, id).await?;
    // The actions offered follow from the resource's state, so its ETag identifies the advertised representation.
    let etag = resource.etag();
    if selected.is_none() {
        if header(headers, &IF_NONE_MATCH).is_some_and(|h| etag.matches_if_none_match(h)) {
            let mut response = StatusCode::NOT_MODIFIED.into_response();
            insert_etag(response.headers_mut(), &etag);
            return Ok(response);
        }
        let cache = &state.shared.representations;
        if let Some(kept) = cache.get(resource.subject().as_str(), &etag, format, Kind::Whole) {
            return Ok(bytes_response(kept.body, format, &etag));
        }
        let subject = resource.subject().as_str().to_owned();
        let advertised = super::actions::advertise(&state.actions, resource);
        let body: axum::body::Bytes =
            rdf::serialize_triples(advertised.triples(), format, &state.shared.prefixes)?.into();
        cache.put(&subject, &etag, format, Kind::Whole, Kept { body: body.clone(), prefixes: 0 });
        return Ok(bytes_response(body, format, &etag));
    }
    let resource = super::actions::advertise(&state.actions, resource);
    let Some(select) = selected else { return serve(&resource, &etag, &state.shared, headers) };
    // Selective properties (OSLC Core 3.0): the representation holds the selected properties only, nested as asked;
    // its ETag is the resource's, so a client can update with it.
    let mut graph = Graph::new();
    crate::query::project(&resource, &select, &mut graph);
    Ok(with_link(rdf_response(StatusCode::OK, &graph, format, &state.shared.prefixes, Some(&etag)), LDP_RESOURCE))
}

/// The top-level properties `oslc.properties` names on a PUT (a partial update), or `None` for a replacement (no
/// `oslc.properties`, or `*`). Nested selections update their property as a whole.
fn updated_properties(state: &CollectionState, raw_query: Option<&str>) -> Result<Option<Vec<NamedNode>>> {
    let Some(select) = selected_properties(state, raw_query)? else { return Ok(None) };
    let mut properties = Vec::new();
    for term in select {
        match term.property {
            crate::query::Property::Wildcard => return Ok(None),
            crate::query::Property::Name(name) => properties.push(name.iri().into_owned()),
        }
    }
    Ok(Some(properties))
}

/// `current` with the values of `properties` taken from `body` (blank-node values with their own triples).
fn merge_selected(current: &Resource, body: &Resource, properties: &[NamedNode]) -> Resource {
    let subject: NamedOrBlankNodeRef<'_> = current.subject().into();
    let selected = |p: NamedNodeRef<'_>| properties.iter().any(|q| q.as_ref() == p);
    let mut graph = Graph::new();
    copy_reachable(current, subject, &|p| !selected(p), &mut graph);
    copy_reachable(body, body.subject().into(), &selected, &mut graph);
    // Other named subjects of the stored resource stay.
    for triple in current.triples() {
        if matches!(triple.subject, NamedOrBlankNodeRef::NamedNode(n) if n != current.subject()) {
            graph.insert(triple);
        }
    }
    Resource::from_graph(current.subject().into_owned(), graph)
}

/// Copies the triples of `root` whose predicate `keep` accepts, with the triples of the blank nodes they reach.
fn copy_reachable(
    resource: &Resource,
    root: NamedOrBlankNodeRef<'_>,
    keep: &dyn Fn(NamedNodeRef<'_>) -> bool,
    graph: &mut Graph,
) {
    let mut pending: Vec<oxrdf::BlankNode> = Vec::new();
    for triple in resource.triples_of(root) {
        if keep(triple.predicate) {
            graph.insert(TripleRef::new(resource.subject(), triple.predicate, triple.object));
            if let TermRef::BlankNode(b) = triple.object {
                pending.push(b.into_owned());
            }
        }
    }
    let mut seen: HashSet<oxrdf::BlankNode> = HashSet::new();
    while let Some(node) = pending.pop() {
        if !seen.insert(node.clone()) {
            continue;
        }
        for triple in resource.triples_of(node.as_ref().into()) {
            graph.insert(triple);
            if let TermRef::BlankNode(b) = triple.object {
                pending.push(b.into_owned());
            }
        }
    }
}

/// The properties `oslc.properties` (with `oslc.prefix`) selects on a resource GET, if it is given.
fn selected_properties(
    state: &CollectionState,
    raw_query: Option<&str>,
) -> Result<Option<Vec<crate::query::SelectTerm>>> {
    let Some(raw) = raw_query.filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .filter(|(name, _)| name == "oslc.properties" || name == "oslc.prefix")
        .collect();
    if !params.iter().any(|(name, _)| name == "oslc.properties") {
        return Ok(None);
    }
    let query =
        crate::query::Query::from_params_with_limits(params, &state.shared.prefixes, &state.shared.query_limits)?;
    Ok(query.select)
}

/// `POST {member}/{name}`: runs a declared action and answers with the resource after it.
pub(super) fn action_route<S: Clone + Send + Sync + 'static>(
    state: Arc<CollectionState>,
    action: super::CollectionAction,
    handler: Arc<dyn super::ActionHandler>,
) -> MethodRouter<S> {
    axum::routing::post(move |Path(id): Path<String>, headers: HeaderMap| {
        let (state, action, handler) = (state.clone(), action.clone(), handler.clone());
        async move {
            // A browser's form: only from the server's own pages (a cross-site form would carry cached Basic
            // credentials), answered by going back to the resource's page.
            let browser_form = super::pages::is_browser_form(&headers);
            if super::html::is_form(&headers) && !super::html::same_origin(&headers, &state.shared.base) {
                return super::html::cross_site_refusal(&state.shared);
            }
            let result = async {
                let format = if browser_form { RdfFormat::Turtle } else { response_format(&headers)? };
                let current = state.provider.get(&state.container, &id).await?;
                if !action.is_available(&current) {
                    return Err(Error::Conflict {
                        message: format!("action {} is not available on {}", action.name, current.subject()),
                    });
                }
                let after = handler.run(&state.container, &id, current).await?;
                if browser_form {
                    return Ok(super::pages::see_other(after.subject().as_str()));
                }
                let etag = after.etag();
                let after = super::actions::advertise(&state.actions, after);
                Ok(with_link(
                    resource_response(StatusCode::OK, &after, format, &state.shared.prefixes, Some(&etag)),
                    LDP_RESOURCE,
                ))
            }
            .await;
            respond(&headers, result)
        }
    })
}

async fn create(state: &CollectionState, headers: &HeaderMap, body: Body) -> Result<Response> {
    let format = write_response_format(headers)?;
    let container = state.container.iri();
    let resource = read_resource(state, headers, body, container, false).await?;
    if let Some(refused) = state.check(&resource, None, headers) {
        return Ok(refused);
    }
    let created = state.provider.create(&state.container, resource).await?;
    let etag = created.etag();
    let mut response = resource_response(StatusCode::CREATED, &created, format, &state.shared.prefixes, Some(&etag));
    let location = HeaderValue::from_str(created.subject().as_str())
        .map_err(|e| Error::backend(format!("created resource IRI {} is not a header value", created.subject()), e))?;
    response.headers_mut().insert(LOCATION, location);
    let mut response = with_link(response, LDP_RESOURCE);
    // Resource Preview: the new resource's Compact, anchored at it (the request URI is the container's).
    let member = created.subject().as_str();
    if let Ok(value) =
        HeaderValue::from_str(&format!("<{member}?compact>; rel=\"{}\"; anchor=\"{member}\"", super::COMPACT_REL))
    {
        response.headers_mut().append(LINK, value);
    }
    Ok(response)
}

/// PUT on a member: a replacement, or with `oslc.properties` a partial update (OSLC Core 3.0 Selective Properties,
/// CM 3.0): the named properties take the body's values (none if the body has none), the others keep theirs.
async fn replace(
    state: &CollectionState,
    id: &str,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    body: Body,
) -> Result<Response> {
    // OSLC Core 3.0 §7.8: an update without If-Match is refused with 400.
    let if_match = header(headers, &IF_MATCH)
        .map(IfMatch::new)
        .ok_or_else(|| Error::bad_request("PUT requires an If-Match header with the resource's current ETag"))?;
    let format = write_response_format(headers)?;
    let selected = updated_properties(state, raw_query)?;
    let member = state.container.member(id);
    let mut resource = read_resource(state, headers, body, member.as_ref(), true).await?;
    // Read-only properties are compared with the stored resource, which a partial update merges into; the provider
    // still checks If-Match atomically.
    let current = if selected.is_some() || state.properties.iter().any(crate::discovery::Property::is_read_only) {
        Some(state.provider.get(&state.container, id).await?)
    } else {
        None
    };
    if let (Some(selected), Some(current)) = (&selected, &current) {
        resource = merge_selected(current, &resource, selected);
    }
    let check = match &current {
        Some(current) => state.check(&resource, Some(current), headers),
        None => state.check(&resource, Some(&Resource::new(member.clone())), headers),
    };
    if let Some(refused) = check {
        return Ok(refused);
    }
    let stored = state.provider.replace(&state.container, id, resource, &if_match).await?;
    let etag = stored.etag();
    Ok(with_link(resource_response(StatusCode::OK, &stored, format, &state.shared.prefixes, Some(&etag)), LDP_RESOURCE))
}

async fn delete(state: &CollectionState, id: &str, headers: &HeaderMap) -> Result<Response> {
    let if_match = header(headers, &IF_MATCH).map(IfMatch::new);
    state.provider.delete(&state.container, id, if_match.as_ref()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Reads and parses a request body, resolving relative IRIs against `subject`, and names its root `subject`; with
/// `same_subject` (a PUT), a body about another named resource is refused (400) instead of renamed.
async fn read_resource(
    state: &CollectionState,
    headers: &HeaderMap,
    body: Body,
    subject: NamedNodeRef<'_>,
    same_subject: bool,
) -> Result<Resource> {
    let format = rdf::content_type_format(header(headers, &CONTENT_TYPE))?;
    let bytes = super::read_body(body, state.shared.body_limit).await?;
    let graph = super::parse_body(bytes, format, subject.as_str(), state.shared.parse_limits).await?;
    let root = root_subject(&graph, subject)?;
    if same_subject
        && let NamedOrBlankNode::NamedNode(other) = &root
        && other.as_ref() != subject
    {
        return Err(Error::bad_request(format!("the body is about {other}, not {subject}, the resource it is PUT to")));
    }
    let subject = subject.into_owned();
    let graph = if root.as_ref() == NamedOrBlankNodeRef::from(subject.as_ref()) {
        graph
    } else {
        rename(&graph, root.as_ref(), &subject)
    };
    Ok(Resource::from_graph(subject, graph))
}

/// The resource a request body describes: `expected` if the body describes it (as `<>` does), else the one subject
/// that no other triple points to.
fn root_subject(graph: &Graph, expected: NamedNodeRef<'_>) -> Result<NamedOrBlankNode> {
    if graph.is_empty() {
        return Err(Error::InvalidResource { message: "the body holds no triples".to_owned() });
    }
    if graph.triples_for_subject(expected).next().is_some() {
        return Ok(NamedNode::from(expected).into());
    }
    let objects: HashSet<NamedOrBlankNodeRef<'_>> = graph
        .iter()
        .filter_map(|t| match t.object {
            TermRef::NamedNode(n) => Some(n.into()),
            TermRef::BlankNode(b) => Some(b.into()),
            _ => None,
        })
        .collect();
    let roots: HashSet<NamedOrBlankNodeRef<'_>> =
        graph.iter().map(|t| t.subject).filter(|s| !objects.contains(s)).collect();
    let mut roots = roots.into_iter();
    match (roots.next(), roots.next()) {
        (Some(root), None) => Ok(root.into_owned()),
        _ => Err(Error::InvalidResource {
            message: format!("the body must describe one resource: use <{expected}> (or <>) as its subject"),
        }),
    }
}
