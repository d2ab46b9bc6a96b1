//! Following a remote TRS (feature `client`): what tools without Kafka do to learn of changes, as the original
//! ECA environment did. Each [`TrsSource::poll`] walks the change log back from the newest event to the last one
//! seen and returns the newer events in order; on the first poll, or when the log no longer reaches back to the
//! last event seen, it rebases from the Base. A [`TrsFollower`] polls it as an
//! [`EventSource`], reading each changed resource's state.
//!
//! ```no_run
//! use oslc_events::EventSource;
//! use oslc_events::trs_client::{TrsFollower, TrsSource};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let source = TrsSource::new(oslc_core::client::Client::new()?, "http://st2-oslc.example/trs");
//! let mut follower = TrsFollower::new(source);
//! // Read the Base first: every change made from here on is handed over.
//! follower.synchronize().await?;
//! println!("following");
//! let printer = oslc_events::sink::CollectingHandler::default();
//! follower.run(&printer, Box::pin(async { drop(tokio::signal::ctrl_c().await) })).await?;
//! # Ok(()) }
//! ```

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use async_trait::async_trait;

use oslc_core::client::Client;
use oslc_core::rdf;
use oslc_core::vocab::{ldp, rdf as rdf_ns, trs};
use oxrdf::{Graph, NamedNode, NamedOrBlankNodeRef, TermRef};

use crate::event::{ChangeKind, Event};
use crate::sink::EventHandler;
use crate::source::{EventSource, Shutdown};
use crate::{Error, Result};

/// What one poll learned.
#[derive(Debug, Clone, PartialEq)]
pub enum TrsUpdate {
    /// Start over from the Base: these are all the tracked resources as of `cutoff`; the changes after it follow.
    Rebase {
        /// Every member of the Base.
        members: Vec<NamedNode>,
        /// The Base's cutoff event (`None` for `rdf:nil`).
        cutoff: Option<NamedNode>,
        /// Changes after the cutoff, oldest first.
        changes: Vec<Event>,
    },
    /// Changes since the last poll, oldest first (possibly none).
    Changes(Vec<Event>),
}

/// A remote TRS as an [`EventSource`]: polls a [`TrsSource`] every interval (1 s unless told) and hands each change
/// to the handler, with the changed resource's current state read from it (TRS events carry none). A rebase hands
/// over nothing: the Base lists resources, not changes. A change whose handler fails is tried again at the next
/// poll, before any later one.
#[derive(Debug)]
pub struct TrsFollower {
    source: TrsSource,
    interval: Duration,
    pending: VecDeque<Event>,
}

impl TrsFollower {
    /// Follows `source`.
    #[must_use]
    pub fn new(source: TrsSource) -> Self {
        Self { source, interval: Duration::from_secs(1), pending: VecDeque::new() }
    }

    /// Polls every `interval`.
    #[must_use]
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Reads the Base now, if the follower has no position yet, and returns how many members it lists (`None` when
    /// it already had one). Changes made after this returns are handed over by [`EventSource::run`]; a change made
    /// before it is part of the Base, not an event. A program that announces it is following (as the bridge prints
    /// `bridge running`) calls this first, so that nothing done after the announcement can fall into the Base.
    /// Changes found after the Base's cutoff are kept and handed over first by `run`.
    ///
    /// # Errors
    /// As [`TrsSource::poll`]; the follower stays without a position and `run` rebases.
    pub async fn synchronize(&mut self) -> Result<Option<usize>> {
        if self.source.synced {
            return Ok(None);
        }
        match self.source.poll().await? {
            TrsUpdate::Rebase { members, changes, .. } => {
                tracing::info!(trs = %self.source.uri, members = members.len(), "following the TRS from its Base");
                self.pending.extend(changes);
                Ok(Some(members.len()))
            }
            TrsUpdate::Changes(changes) => {
                self.pending.extend(changes);
                Ok(None)
            }
        }
    }

    /// The newest event handed over or pending, to resume from after a restart ([`TrsSource::starting_after`]).
    #[must_use]
    pub fn last_seen(&self) -> Option<&NamedNode> {
        self.source.last_seen()
    }
}

#[async_trait]
impl EventSource for TrsFollower {
    async fn run(&mut self, handler: &dyn EventHandler, shutdown: Shutdown) -> Result<()> {
        let mut shutdown = shutdown;
        loop {
            match self.source.poll().await {
                Ok(TrsUpdate::Changes(changes)) => self.pending.extend(changes),
                Ok(TrsUpdate::Rebase { members, changes, .. }) => {
                    tracing::info!(trs = %self.source.uri, members = members.len(), "following the TRS from its Base");
                    self.pending.extend(changes);
                }
                Err(error) => tracing::warn!(trs = %self.source.uri, %error, "reading the TRS failed; will retry"),
            }
            while let Some(mut event) = self.pending.front().cloned() {
                if event.kind != ChangeKind::Deletion && event.state.is_none() {
                    match self.source.client.get(event.changed.as_str()).await {
                        Ok(fetched) => event.state = Some(fetched.resource.into_parts().1),
                        Err(error) => {
                            tracing::warn!(%error, changed = %event.changed, "could not read the changed resource");
                        }
                    }
                }
                if let Err(error) = handler.handle(&event).await {
                    tracing::warn!(%error, event_id = %event.id, "handling failed; will retry at the next poll");
                    break;
                }
                self.pending.pop_front();
            }
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = tokio::time::sleep(self.interval) => {},
            }
        }
    }
}

/// A follower of the TRS at one URI.
#[derive(Debug, Clone)]
pub struct TrsSource {
    client: Client,
    uri: String,
    last_seen: Option<NamedNode>,
    /// Synchronized with the TRS: from `last_seen`, or (when that is `None`) from the start of its change log,
    /// which a Base whose cutoff is `rdf:nil` is before.
    synced: bool,
    max_segments: usize,
}

impl TrsSource {
    /// A follower of the TrackedResourceSet at `uri`, reading it with `client`; its first poll rebases. What the
    /// TRS answers is outside input, parsed within budgets: a Base page can list thousands of members, so this
    /// source allows 64 MiB and 200,000 triples a page.
    #[must_use]
    pub fn new(client: Client, uri: impl Into<String>) -> Self {
        let client = client
            .with_parse_limits(rdf::ParseLimits::default().with_max_triples(200_000).with_max_bytes(64 * 1024 * 1024));
        Self { client, uri: uri.into(), last_seen: None, synced: false, max_segments: 10_000 }
    }

    /// Resumes after event `id` (as returned by [`TrsSource::last_seen`] before a restart).
    #[must_use]
    pub fn starting_after(mut self, id: NamedNode) -> Self {
        self.last_seen = Some(id);
        self.synced = true;
        self
    }

    /// The newest event seen, to resume from.
    #[must_use]
    pub fn last_seen(&self) -> Option<&NamedNode> {
        self.last_seen.as_ref()
    }

    async fn fetch(&self, uri: &str) -> Result<Graph> {
        Ok(self.client.get_graph(uri).await?)
    }

    /// One sync step.
    ///
    /// # Errors
    /// [`Error::Remote`] when the TRS cannot be read; [`Error::InvalidEvent`] for a change log without orders.
    pub async fn poll(&mut self) -> Result<TrsUpdate> {
        if !self.synced {
            return self.rebase().await;
        }
        let last_seen = self.last_seen.clone();
        match self.changes_after(last_seen.as_ref()).await? {
            Some(changes) => {
                if let Some(newest) = changes.last() {
                    self.last_seen = Some(newest.id.clone());
                }
                Ok(TrsUpdate::Changes(changes))
            }
            None => {
                let last_seen = last_seen.map_or_else(|| "the start".to_owned(), |l| l.to_string());
                tracing::warn!(trs = %self.uri, last_seen = %last_seen, "the change log no longer reaches the last event seen; rebasing");
                self.rebase().await
            }
        }
    }

    async fn rebase(&mut self) -> Result<TrsUpdate> {
        let trs_graph = self.fetch(&self.uri).await?;
        let trs_node =
            NamedNode::new(&self.uri).map_err(|e| Error::Remote { uri: self.uri.clone(), message: e.to_string() })?;
        let base = named(&trs_graph, trs_node.as_ref().into(), trs::base)
            .ok_or_else(|| Error::Remote { uri: self.uri.clone(), message: "no trs:base".into() })?;
        let mut members = Vec::new();
        let mut cutoff = None;
        let mut page = Some(base.clone());
        let mut seen_pages = HashSet::new();
        while let Some(uri) = page.take() {
            if !seen_pages.insert(uri.clone()) {
                break;
            }
            let graph = self.fetch(uri.as_str()).await?;
            if cutoff.is_none() {
                cutoff = named(&graph, base.as_ref().into(), trs::cutoffEvent).filter(|c| c.as_ref() != rdf_ns::nil);
            }
            members.extend(graph.objects_for_subject_predicate(&base, ldp::member).filter_map(|m| match m {
                TermRef::NamedNode(n) => Some(n.into_owned()),
                _ => None,
            }));
            page = named(&graph, uri.as_ref().into(), ldp::nextPage).filter(|n| n.as_ref() != rdf_ns::nil);
        }
        let changes = match &cutoff {
            Some(cutoff) => self.changes_after(Some(cutoff)).await?.unwrap_or_default(),
            None => self.changes_after(None).await?.unwrap_or_default(),
        };
        // A Base whose cutoff is rdf:nil is the state before every event of the change log: with no change seen
        // yet, what follows is the change log from its start, not another rebase.
        self.last_seen = changes.last().map(|e| e.id.clone()).or_else(|| cutoff.clone());
        self.synced = true;
        Ok(TrsUpdate::Rebase { members, cutoff, changes })
    }

    /// The events after `after`, oldest first, walking back through `trs:previous`; `None` when the walk reaches
    /// the end without meeting `after` (the sync point is gone). With `after` = `None`, every event.
    async fn changes_after(&self, after: Option<&NamedNode>) -> Result<Option<Vec<Event>>> {
        let trs_graph = self.fetch(&self.uri).await?;
        let trs_node = NamedNode::new_unchecked(&self.uri);
        let changelog: NamedOrBlankNodeRef<'_> = match trs_graph.object_for_subject_predicate(&trs_node, trs::changeLog)
        {
            Some(TermRef::NamedNode(n)) => n.into(),
            Some(TermRef::BlankNode(b)) => b.into(),
            _ => return Err(Error::Remote { uri: self.uri.clone(), message: "no trs:changeLog".into() }),
        };
        let mut collected = Vec::new();
        let mut graph = trs_graph.clone();
        let mut segment: NamedOrBlankNodeRef<'_> = changelog;
        let mut owned_segment: NamedNode;
        for _ in 0..self.max_segments {
            let mut events = events_of(&graph, segment)?;
            events.sort_by_key(|e| std::cmp::Reverse(e.order));
            for event in events {
                if after.is_some_and(|a| *a == event.id) {
                    collected.reverse();
                    return Ok(Some(collected));
                }
                collected.push(event);
            }
            match named(&graph, segment, trs::previous) {
                Some(previous) if previous.as_ref() != rdf_ns::nil => {
                    graph = self.fetch(previous.as_str()).await?;
                    owned_segment = previous;
                    segment = owned_segment.as_ref().into();
                }
                _ => break,
            }
        }
        if after.is_none() {
            collected.reverse();
            return Ok(Some(collected));
        }
        Ok(None)
    }
}

fn named(graph: &Graph, subject: NamedOrBlankNodeRef<'_>, predicate: oxrdf::NamedNodeRef<'_>) -> Option<NamedNode> {
    match graph.object_for_subject_predicate(subject, predicate) {
        Some(TermRef::NamedNode(n)) => Some(n.into_owned()),
        _ => None,
    }
}

/// The change events a change log segment lists (without resource state), each read as [`Event::from_node`]
/// reads it; a TRS change event must have its order.
fn events_of(graph: &Graph, changelog: NamedOrBlankNodeRef<'_>) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    for change in graph.objects_for_subject_predicate(changelog, trs::change) {
        let TermRef::NamedNode(id) = change else { continue };
        let event = Event::from_node(graph, id)?;
        if event.order.is_none() {
            return Err(Error::invalid(format!("{id} has no trs:order")));
        }
        events.push(event);
    }
    Ok(events)
}
