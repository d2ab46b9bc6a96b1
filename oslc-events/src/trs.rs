//! TRS 2.0 (OSLC Tracked Resource Set 3.0) views of an [`EventLog`]: the TrackedResourceSet with the newest change
//! log segment inline, older segments behind `trs:previous`, and the Base with its `trs:cutoffEvent`, paged.
//!
//! Segment `n` holds the events with orders `n·S+1 ..= (n+1)·S` (`S` = [`Trs::segment_size`]), so a segment's URI
//! and, once full, its content never change, and serving any segment is one range read whatever the log's length.
//!
//! ```
//! use std::sync::Arc;
//! use oslc_events::trs::{Document, StaticBase, Trs};
//! use oslc_events::{ChangeKind, Event, EventLog, MemoryEventLog};
//! use oxrdf::NamedNode;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
//! let rule = NamedNode::new("http://tool.example/r/1")?;
//! log.append(vec![Event::new(ChangeKind::Creation, rule.clone())], vec![]).await?;
//! let trs = Trs::new("http://tool.example/trs", log, Arc::new(StaticBase(vec![rule])));
//! let (_, graph) = trs.document(Document::TrackedResourceSet).await?.expect("always there");
//! assert_eq!(graph.triples_for_predicate(oslc_core::vocab::trs::change).count(), 1);
//! # Ok(()) }
//! ```

use std::sync::Arc;

use async_trait::async_trait;
use oslc_core::vocab::{ldp, rdf, trs};
use oxrdf::{Graph, NamedNode, NamedOrBlankNodeRef, TripleRef};

use crate::Result;
use crate::event::Event;
use crate::log::EventLog;

/// The resources a TRS tracks, for its Base.
#[async_trait]
pub trait BaseProvider: Send + Sync + 'static {
    /// Every tracked resource now.
    async fn members(&self) -> Result<Vec<NamedNode>>;
}

/// A Base that is a fixed list (tests, tools that know their members up front).
#[derive(Debug, Clone, Default)]
pub struct StaticBase(pub Vec<NamedNode>);

#[async_trait]
impl BaseProvider for StaticBase {
    async fn members(&self) -> Result<Vec<NamedNode>> {
        Ok(self.0.clone())
    }
}

/// The TRS documents of one log.
#[derive(Clone)]
pub struct Trs {
    log: Arc<dyn EventLog>,
    base: Arc<dyn BaseProvider>,
    uri: String,
    segment_size: u64,
    base_page_size: usize,
    epoch: Option<String>,
}

impl std::fmt::Debug for Trs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trs").field("uri", &self.uri).field("segment_size", &self.segment_size).finish_non_exhaustive()
    }
}

/// Which document a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// The TrackedResourceSet, with the newest segment inline.
    TrackedResourceSet,
    /// A page of the Base (0 is the first).
    Base(usize),
    /// Change log segment `n`.
    Segment(u64),
}

impl Trs {
    /// The TRS at `uri` (such as `https://adapter.example/trs`) over `log`, with `base` listing the members.
    #[must_use]
    pub fn new(uri: impl Into<String>, log: Arc<dyn EventLog>, base: Arc<dyn BaseProvider>) -> Self {
        Self {
            log,
            base,
            uri: uri.into().trim_end_matches('/').to_owned(),
            segment_size: 100,
            base_page_size: 500,
            epoch: None,
        }
    }

    /// Names the log this TRS serves (a short id that changes when the log is replaced by a new, empty one): change
    /// log segments are then at `{trs}/changelog/{epoch}/{n}`, so a new log never serves different content at a
    /// URI an old one used (segments are cached as immutable), and a client that follows its last-seen segment of
    /// the old log gets 404 and rebases.
    #[must_use]
    pub fn with_epoch(mut self, epoch: impl Into<String>) -> Self {
        self.epoch = Some(epoch.into());
        self
    }

    /// Events per change log segment (default 100).
    #[must_use]
    pub fn with_segment_size(mut self, size: u64) -> Self {
        self.segment_size = size.max(1);
        self
    }

    /// Members per Base page (default 500).
    #[must_use]
    pub fn with_base_page_size(mut self, size: usize) -> Self {
        self.base_page_size = size.max(1);
        self
    }

    /// Events per segment.
    #[must_use]
    pub fn segment_size(&self) -> u64 {
        self.segment_size
    }

    /// The TrackedResourceSet's URI.
    #[must_use]
    pub fn uri(&self) -> NamedNode {
        NamedNode::new_unchecked(&self.uri)
    }

    /// The URI of Base page `page`.
    #[must_use]
    pub fn base_uri(&self, page: usize) -> NamedNode {
        if page == 0 {
            NamedNode::new_unchecked(format!("{}/base", self.uri))
        } else {
            NamedNode::new_unchecked(format!("{}/base?page={page}", self.uri))
        }
    }

    /// The URI of change log segment `n`.
    #[must_use]
    pub fn segment_uri(&self, n: u64) -> NamedNode {
        match &self.epoch {
            Some(epoch) => NamedNode::new_unchecked(format!("{}/changelog/{epoch}/{n}", self.uri)),
            None => NamedNode::new_unchecked(format!("{}/changelog/{n}", self.uri)),
        }
    }

    fn newest_segment(&self, head: u64) -> Option<u64> {
        (head > 0).then(|| (head - 1) / self.segment_size)
    }

    /// The document, or `None` where the spec has nothing (a segment past the newest, a Base page past the end).
    ///
    /// # Errors
    /// What the log or the base provider return.
    pub async fn document(&self, document: Document) -> Result<Option<(NamedNode, Graph)>> {
        match document {
            Document::TrackedResourceSet => self.tracked_resource_set().await.map(Some),
            Document::Base(page) => self.base_page(page).await,
            Document::Segment(n) => self.segment(n).await,
        }
    }

    async fn tracked_resource_set(&self) -> Result<(NamedNode, Graph)> {
        let uri = self.uri();
        let mut graph = Graph::new();
        graph.insert(TripleRef::new(&uri, rdf::r#type, trs::TrackedResourceSet));
        graph.insert(TripleRef::new(&uri, trs::base, &self.base_uri(0)));
        let changelog = NamedNode::new_unchecked(format!("{}#changeLog", self.uri));
        graph.insert(TripleRef::new(&uri, trs::changeLog, &changelog));
        graph.insert(TripleRef::new(&changelog, rdf::r#type, trs::ChangeLog));
        let head = self.log.head().await?;
        match self.newest_segment(head) {
            Some(n) => {
                let events = self
                    .log
                    .read_forward(n * self.segment_size, usize::try_from(self.segment_size).unwrap_or(usize::MAX))
                    .await?;
                self.add_changes(&mut graph, changelog.as_ref().into(), &events);
                self.add_previous(&mut graph, changelog.as_ref().into(), n);
            }
            None => {
                graph.insert(TripleRef::new(&changelog, trs::previous, rdf::nil));
            }
        }
        Ok((uri, graph))
    }

    async fn segment(&self, n: u64) -> Result<Option<(NamedNode, Graph)>> {
        let head = self.log.head().await?;
        // The newest segment lives inline in the TrackedResourceSet; older ones at their own URIs.
        if self.newest_segment(head).is_none_or(|newest| n >= newest) {
            return Ok(None);
        }
        let uri = self.segment_uri(n);
        let events = self
            .log
            .read_forward(n * self.segment_size, usize::try_from(self.segment_size).unwrap_or(usize::MAX))
            .await?;
        let mut graph = Graph::new();
        graph.insert(TripleRef::new(&uri, rdf::r#type, trs::ChangeLog));
        self.add_changes(&mut graph, uri.as_ref().into(), &events);
        self.add_previous(&mut graph, uri.as_ref().into(), n);
        Ok(Some((uri, graph)))
    }

    fn add_previous(&self, graph: &mut Graph, changelog: NamedOrBlankNodeRef<'_>, n: u64) {
        if n == 0 {
            graph.insert(TripleRef::new(changelog, trs::previous, rdf::nil));
        } else {
            graph.insert(TripleRef::new(changelog, trs::previous, &self.segment_uri(n - 1)));
        }
    }

    fn add_changes(&self, graph: &mut Graph, changelog: NamedOrBlankNodeRef<'_>, events: &[Event]) {
        for event in events {
            graph.insert(TripleRef::new(changelog, trs::change, &event.id));
            event.insert_node(graph);
        }
    }

    async fn base_page(&self, page: usize) -> Result<Option<(NamedNode, Graph)>> {
        // The head is read before the members, so the members reflect at least every event up to the cutoff.
        let cutoff = self.log.read_backward(None, 1).await?.pop();
        let mut members = self.base.members().await?;
        members.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        members.dedup();
        let start = page.saturating_mul(self.base_page_size);
        if page > 0 && start >= members.len() {
            return Ok(None);
        }
        let base = self.base_uri(0);
        let this = self.base_uri(page);
        let mut graph = Graph::new();
        graph.insert(TripleRef::new(&base, rdf::r#type, trs::Base));
        graph.insert(TripleRef::new(&base, rdf::r#type, ldp::DirectContainer));
        graph.insert(TripleRef::new(&base, ldp::hasMemberRelation, ldp::member));
        graph.insert(TripleRef::new(&base, ldp::membershipResource, &base));
        match &cutoff {
            Some(event) => graph.insert(TripleRef::new(&base, trs::cutoffEvent, &event.id)),
            None => graph.insert(TripleRef::new(&base, trs::cutoffEvent, rdf::nil)),
        };
        for member in members.iter().skip(start).take(self.base_page_size) {
            graph.insert(TripleRef::new(&base, ldp::member, member));
        }
        graph.insert(TripleRef::new(&this, rdf::r#type, ldp::Page));
        graph.insert(TripleRef::new(&this, ldp::pageOf, &base));
        if start + self.base_page_size < members.len() {
            graph.insert(TripleRef::new(&this, ldp::nextPage, &self.base_uri(page + 1)));
        } else {
            graph.insert(TripleRef::new(&this, ldp::nextPage, rdf::nil));
        }
        Ok(Some((this, graph)))
    }
}

/// The `ldp:nextPage` of a Base page, if any (`rdf:nil` at the end).
#[must_use]
pub fn next_page(graph: &Graph, page: &NamedNode) -> Option<NamedNode> {
    match graph.object_for_subject_predicate(page, ldp::nextPage) {
        Some(oxrdf::TermRef::NamedNode(n)) if n != rdf::nil => Some(n.into_owned()),
        _ => None,
    }
}

#[cfg(feature = "server")]
pub mod server {
    //! The TRS over HTTP: `GET {trs}`, `{trs}/base[?page=n]`, `{trs}/changelog/[{epoch}/]{n}`; ETags, `Link` next headers,
    //! 404 past the end.
    //!
    //! ```
    //! use std::sync::Arc;
    //! use oslc_events::trs::{StaticBase, Trs, server};
    //!
    //! let log: Arc<dyn oslc_events::EventLog> = Arc::new(oslc_events::MemoryEventLog::new());
    //! let trs = Trs::new("https://tool.example/trs", log, Arc::new(StaticBase(Vec::new())));
    //! let router: axum::Router = server::router(trs, "/trs");
    //! # let _ = router;
    //! ```

    use axum::Router;
    use axum::extract::{Path, Query, State};
    use axum::http::{HeaderMap, HeaderValue, header};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use oslc_core::server::{ErrorResponse, negotiated_response};

    use super::{Document, Trs, next_page};

    /// The routes of `trs`, at `path` (such as `/trs`) below where the router is served.
    pub fn router<S: Clone + Send + Sync + 'static>(trs: Trs, path: &str) -> Router<S> {
        let path = path.trim_end_matches('/');
        Router::new()
            .route(path, get(|State(t): State<Trs>, h: HeaderMap| async move { serve(&t, Document::TrackedResourceSet, &h).await }))
            .route(
                &format!("{path}/base"),
                get(|State(t): State<Trs>, Query(q): Query<Vec<(String, String)>>, h: HeaderMap| async move {
                    let page = q.iter().find(|(k, _)| k == "page").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
                    serve(&t, Document::Base(page), &h).await
                }),
            )
            .route(
                &format!("{path}/changelog/{{n}}"),
                get(|State(t): State<Trs>, Path(n): Path<String>, h: HeaderMap| async move {
                    match n.parse() {
                        Ok(n) if t.epoch.is_none() => serve(&t, Document::Segment(n), &h).await,
                        _ => not_found(&t, &h),
                    }
                }),
            )
            .route(
                &format!("{path}/changelog/{{epoch}}/{{n}}"),
                get(|State(t): State<Trs>, Path((epoch, n)): Path<(String, String)>, h: HeaderMap| async move {
                    match n.parse() {
                        Ok(n) if t.epoch.as_deref() == Some(epoch.as_str()) => serve(&t, Document::Segment(n), &h).await,
                        _ => not_found(&t, &h),
                    }
                }),
            )
            .with_state(trs)
    }

    fn not_found(trs: &Trs, headers: &HeaderMap) -> Response {
        ErrorResponse::new(oslc_core::Error::not_found(format!("{} (no such TRS document)", trs.uri())), headers)
            .into_response()
    }

    async fn serve(trs: &Trs, document: Document, headers: &HeaderMap) -> Response {
        let result = async {
            let Some((uri, graph)) = trs.document(document).await.map_err(|e| oslc_core::Error::backend("TRS", e))?
            else {
                return Ok(not_found(trs, headers));
            };
            let mut response = negotiated_response(headers, &graph, &crate::event::prefixes());
            if !response.status().is_success() {
                return Ok(response);
            }
            if let Document::Base(_) = document
                && let Some(next) = next_page(&graph, &uri)
                && let Ok(link) = HeaderValue::from_str(&format!("<{}>; rel=\"next\"", next.as_str()))
            {
                response.headers_mut().insert(header::LINK, link);
            }
            if let Document::Segment(_) = document {
                // Older segments never change.
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
            }
            Ok::<_, oslc_core::Error>(response)
        }
        .await;
        result.unwrap_or_else(|e| ErrorResponse::new(e, headers).into_response())
    }
}
