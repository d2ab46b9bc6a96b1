//! An in-memory [`ResourceProvider`], for tests, examples and embedded demos.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use oxrdf::{Literal, NamedNode};

use crate::provider::{Container, IfMatch, ResourceProvider};
use crate::query::Listing;
use crate::vocab::dcterms;
use crate::{Error, Resource, Result};

/// Keeps resources in a map from id to representation; ids are minted as increasing numbers.
///
/// ```
/// use oslc_core::{Container, InMemoryProvider, Resource, ResourceProvider};
/// use oslc_core::vocab::oslc_cm;
/// use oxrdf::NamedNode;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let provider = InMemoryProvider::new().with_resource_type(oslc_cm::ChangeRequest.into_owned());
/// let crs = Container::new(NamedNode::new("http://example.com/crs")?);
/// let created = provider.create(&crs, Resource::new(crs.iri().into_owned())).await?;
/// assert_eq!(created.subject().as_str(), "http://example.com/crs/1");
/// assert!(created.has_type(oslc_cm::ChangeRequest));
/// assert_eq!(provider.list(&crs).await?.len(), 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct InMemoryProvider {
    state: Mutex<State>,
    resource_type: Option<NamedNode>,
}

#[derive(Debug, Default)]
struct State {
    // Keyed by the numeric order of creation so listing is stable and in creation order.
    resources: BTreeMap<u64, (String, Resource)>,
    next_id: u64,
    /// The resources in natural order as last listed, until one changes.
    listing: Option<Listing>,
}

impl State {
    fn find(&self, id: &str) -> Option<u64> {
        self.resources.iter().find(|(_, (rid, _))| rid == id).map(|(k, _)| *k)
    }
}

impl InMemoryProvider {
    /// An empty provider.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives every created resource this `rdf:type` (clients may leave it out).
    #[must_use]
    pub fn with_resource_type(mut self, resource_type: NamedNode) -> Self {
        self.resource_type = Some(resource_type);
        self
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves a map that is still consistent: every change is one insert or remove.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `resource` under `id` as is (for seeding), replacing any resource with that id.
    pub fn insert(&self, id: impl Into<String>, resource: Resource) {
        let id = id.into();
        let mut state = self.state();
        let key = state.find(&id).unwrap_or_else(|| {
            state.next_id += 1;
            state.next_id
        });
        // The ETag is computed once per stored state: query pages then reuse the resource's serialized part.
        let _ = resource.etag();
        state.resources.insert(key, (id, resource));
        state.listing = None;
    }

    /// How many resources are stored.
    #[must_use]
    pub fn len(&self) -> usize {
        self.state().resources.len()
    }

    /// Whether no resource is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl ResourceProvider for InMemoryProvider {
    async fn list(&self, _container: &Container) -> Result<Vec<Resource>> {
        Ok(self.state().resources.values().map(|(_, r)| r.clone()).collect())
    }

    async fn listing(&self, _container: &Container) -> Result<Listing> {
        let mut state = self.state();
        if let Some(listing) = &state.listing {
            return Ok(listing.clone());
        }
        let listing = Listing::new(state.resources.values().map(|(_, r)| r.clone()).collect());
        state.listing = Some(listing.clone());
        Ok(listing)
    }

    async fn get(&self, container: &Container, id: &str) -> Result<Resource> {
        let state = self.state();
        let key = state.find(id).ok_or_else(|| Error::not_found(container.member(id).as_str()))?;
        Ok(state.resources[&key].1.clone())
    }

    async fn create(&self, container: &Container, resource: Resource) -> Result<Resource> {
        let mut state = self.state();
        state.next_id += 1;
        let key = state.next_id;
        let id = key.to_string();
        let mut resource = resource.with_subject(container.member(&id));
        if let Some(ty) = &self.resource_type {
            resource.add_type(ty.as_ref());
        }
        resource.set(dcterms::identifier, &Literal::new_simple_literal(&id));
        state.resources.insert(key, (id, resource.clone()));
        state.listing = None;
        Ok(resource)
    }

    async fn replace(
        &self,
        container: &Container,
        id: &str,
        resource: Resource,
        if_match: &IfMatch,
    ) -> Result<Resource> {
        let mut state = self.state();
        let key = state.find(id).ok_or_else(|| Error::not_found(container.member(id).as_str()))?;
        let current = &state.resources[&key].1;
        if_match.check(current.subject(), &current.etag())?;
        let mut resource = resource;
        if let Some(ty) = &self.resource_type {
            resource.add_type(ty.as_ref());
        }
        resource.set(dcterms::identifier, &Literal::new_simple_literal(id));
        state.resources.insert(key, (id.to_owned(), resource.clone()));
        state.listing = None;
        Ok(resource)
    }

    async fn delete(&self, container: &Container, id: &str, if_match: Option<&IfMatch>) -> Result<()> {
        let mut state = self.state();
        let key = state.find(id).ok_or_else(|| Error::not_found(container.member(id).as_str()))?;
        if let Some(if_match) = if_match {
            let current = &state.resources[&key].1;
            if_match.check(current.subject(), &current.etag())?;
        }
        state.resources.remove(&key);
        state.listing = None;
        Ok(())
    }
}
