//! A change source for tools whose writes all pass through the adapter (an in-memory tool, a tool embedded in the
//! adapter's process): [`Tracked`] wraps a [`ResourceProvider`] and appends an [`Event`] to an [`EventLog`] for each
//! create, replace and delete it performs, with the resource's state; it is also the [`BaseProvider`] of its
//! container, so a [`Trs`](crate::Trs) over the same log serves a complete TRS.
//!
//! The tool's write and the event's append are two steps: a write that succeeds whose event cannot be appended is
//! answered with an error naming the log, and the change is then missing from the log. Tools that other clients
//! change too need a change source that reads the tool (a [`poller::SnapshotPoller`](crate::poller), a change
//! stream), which sees every write.
//!
//! ```
//! use std::sync::Arc;
//! use oslc_core::{Container, InMemoryProvider, Resource, ResourceProvider};
//! use oslc_core::oxrdf::{Literal, NamedNode};
//! use oslc_events::tracked::Tracked;
//! use oslc_events::{ChangeKind, EventLog, MemoryEventLog};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let container = Container::new(NamedNode::new("http://tool.example/serviceProviders/1/bugs")?);
//! let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
//! let bugs = Tracked::new(InMemoryProvider::new(), log.clone(), container.clone());
//! let mut bug = Resource::new(container.iri().into_owned());
//! bug.insert(oslc_core::vocab::dcterms::title, &Literal::new_simple_literal("Crash on start"));
//! let created = bugs.create(&container, bug).await?;
//! let events = log.read_forward(0, 10).await?;
//! assert_eq!((events[0].kind, events[0].changed.as_str()), (ChangeKind::Creation, created.subject().as_str()));
//! assert!(events[0].state.is_some(), "with the bug as created");
//! # Ok(()) }
//! ```

use std::sync::Arc;

use async_trait::async_trait;
use oslc_core::provider::{Container, IfMatch, ResourceProvider};
use oslc_core::query::Query;
use oslc_core::{Error, Resource};
use oxrdf::NamedNode;

use crate::event::{ChangeKind, Event};
use crate::log::EventLog;
use crate::trs::BaseProvider;

/// A [`ResourceProvider`] whose writes are logged as events; see the [module](self).
pub struct Tracked<P> {
    inner: P,
    log: Arc<dyn EventLog>,
    container: Container,
    service_provider: Option<NamedNode>,
}

impl<P> std::fmt::Debug for Tracked<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracked").field("container", &self.container).finish_non_exhaustive()
    }
}

impl<P: ResourceProvider> Tracked<P> {
    /// `inner`, logging into `log`; `container` is where it is served (the members of the TRS Base).
    pub fn new(inner: P, log: Arc<dyn EventLog>, container: Container) -> Self {
        Self { inner, log, container, service_provider: None }
    }

    /// Names `service_provider` in every event.
    #[must_use]
    pub fn with_service_provider(mut self, service_provider: NamedNode) -> Self {
        self.service_provider = Some(service_provider);
        self
    }

    /// The provider it wraps.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    async fn logged(&self, kind: ChangeKind, changed: NamedNode, state: Option<&Resource>) -> oslc_core::Result<()> {
        let mut event = Event::new(kind, changed);
        if let Some(service_provider) = &self.service_provider {
            event = event.with_service_provider(service_provider.clone());
        }
        if let Some(state) = state {
            event = event.with_state(state.graph().clone());
        }
        self.log.append(vec![event], Vec::new()).await.map_err(|e| Error::backend("appending to the event log", e))?;
        Ok(())
    }
}

#[async_trait]
impl<P: ResourceProvider> ResourceProvider for Tracked<P> {
    async fn list(&self, container: &Container) -> oslc_core::Result<Vec<Resource>> {
        self.inner.list(container).await
    }

    async fn query(&self, container: &Container, query: &Query) -> oslc_core::Result<Option<Vec<Resource>>> {
        self.inner.query(container, query).await
    }

    async fn get(&self, container: &Container, id: &str) -> oslc_core::Result<Resource> {
        self.inner.get(container, id).await
    }

    async fn create(&self, container: &Container, resource: Resource) -> oslc_core::Result<Resource> {
        let created = self.inner.create(container, resource).await?;
        self.logged(ChangeKind::Creation, created.subject().into_owned(), Some(&created)).await?;
        Ok(created)
    }

    async fn replace(
        &self,
        container: &Container,
        id: &str,
        resource: Resource,
        if_match: &IfMatch,
    ) -> oslc_core::Result<Resource> {
        let stored = self.inner.replace(container, id, resource, if_match).await?;
        self.logged(ChangeKind::Modification, stored.subject().into_owned(), Some(&stored)).await?;
        Ok(stored)
    }

    async fn delete(&self, container: &Container, id: &str, if_match: Option<&IfMatch>) -> oslc_core::Result<()> {
        self.inner.delete(container, id, if_match).await?;
        self.logged(ChangeKind::Deletion, container.member(id), None).await
    }
}

#[async_trait]
impl<P: ResourceProvider> BaseProvider for Tracked<P> {
    async fn members(&self) -> crate::Result<Vec<NamedNode>> {
        let members = self.inner.list(&self.container).await?;
        Ok(members.iter().map(|m| m.subject().into_owned()).collect())
    }
}
