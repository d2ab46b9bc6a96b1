//! StackStorm rules served through the OSLC server kit: a [`ResourceProvider`] over a [`RuleStore`].
//!
//! ```
//! use std::sync::Arc;
//! use adapter_stackstorm::oslc::{RuleProvider, RuleUris};
//! use oslc_core::{Container, ResourceProvider};
//! use oslc_core::oxrdf::NamedNode;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let container = Container::new(NamedNode::new("https://st2-oslc.example/serviceProviders/1/changeRequests")?);
//! let uris = RuleUris { container: container.clone(), service_provider: NamedNode::new("https://st2-oslc.example/serviceProviders/1")? };
//! let provider = RuleProvider::new(Arc::new(adapter_stackstorm::demo::demo_store().await?), uris);
//! let rules = provider.list(&container).await?;
//! assert!(rules.iter().all(|r| r.subject().as_str().starts_with(container.iri().as_str())));
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use oslc_core::query::Listing;
use oslc_core::{Container, Error, IfMatch, Resource, ResourceProvider, Result};

use super::mapping::{RuleUris, rule_from_graph, rule_to_resource, unmask};
use crate::st2::{Rule, RuleStore, simulated::is_object_id};

/// Rules as OSLC change requests, read from and written to StackStorm.
pub struct RuleProvider {
    store: Arc<dyn RuleStore>,
    uris: RuleUris,
    /// The resource made for each rule as last seen, with a digest of that rule, reused while the rule is
    /// unchanged: building a resource, its ETag and its query index costs far more than digesting a rule. The
    /// digest, not a copy of the rule, is kept, so the cache costs the resource and 24 bytes per rule. A GET
    /// while the store's version is the one the rule was read at reads nothing (see [`Seen`]).
    resources: Mutex<HashMap<Box<str>, Seen>>,
    /// The last list made, with the store's [`RuleStore::version`] it was made at: while the version is the same,
    /// a query is answered without listing and comparing every rule again.
    listed: Mutex<Option<(u64, Listing)>>,
    /// One lock per rule being written: a check of `If-Match` and the write it guards run as one step against
    /// every other write through this adapter (PUT, DELETE, the actions, `/actions`).
    writes: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A rule's resource as last built, with the digest of the rule it was built from and, when a GET read it, the
/// store's [`RuleStore::version`] read before that rule was: while the version is still that one, the rule cannot
/// have changed ("equal versions mean equal lists"), so a GET answers without reading and digesting it again.
struct Seen {
    digest: RuleDigest,
    version: Option<u64>,
    resource: Resource,
}

impl std::fmt::Debug for RuleProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleProvider").field("uris", &self.uris).finish_non_exhaustive()
    }
}

impl RuleProvider {
    /// Rules of `store`, served at `uris`.
    #[must_use]
    pub fn new(store: Arc<dyn RuleStore>, uris: RuleUris) -> Self {
        Self { store, uris, resources: Mutex::default(), listed: Mutex::default(), writes: Mutex::default() }
    }

    /// Holds rule `id` for a check-and-write: other writes to the same rule through this adapter wait until the
    /// guard is dropped. Writes made directly in StackStorm (the st2 CLI, the web UI) are not serialized with
    /// these; StackStorm's API has no conditional write, so one of those landing between the check and the write
    /// is overwritten, as it would be by any other st2 client.
    pub(crate) async fn lock(&self, id: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut writes = self.writes.lock().unwrap_or_else(PoisonError::into_inner);
            // Locks nobody holds or waits for are dropped, so the map stays as small as the writes in flight.
            writes.retain(|_, lock| Arc::strong_count(lock) > 1);
            writes.entry(id.to_owned()).or_default().clone()
        };
        lock.lock_owned().await
    }

    /// The IRI of rule `id`.
    #[must_use]
    pub fn member(&self, id: &str) -> oslc_core::oxrdf::NamedNode {
        self.uris.container.member(id)
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn RuleStore> {
        &self.store
    }

    /// The resource of a rule.
    ///
    /// # Errors
    /// What [`rule_to_resource`] returns.
    pub fn resource(&self, rule: &Rule) -> Result<Resource> {
        self.resource_read_at(rule, None)
    }

    /// The resource of `rule`, read from the store at `version` (read before the rule).
    fn resource_read_at(&self, rule: &Rule, version: Option<u64>) -> Result<Resource> {
        let id = rule.id.as_deref().unwrap_or_default();
        let digest = RuleDigest::of(rule);
        if let Some(seen) = self.resources.lock().unwrap_or_else(PoisonError::into_inner).get_mut(id)
            && seen.digest == digest
        {
            if version.is_some() {
                seen.version = version;
            }
            return Ok(seen.resource.clone());
        }
        // Built outside the lock: other rules' reads go on meanwhile.
        let resource = rule_to_resource(rule, &self.uris)?;
        // Computed once while the rule stays as it is, so query pages reuse the rule's serialized part.
        let _ = resource.etag();
        let seen = Seen { digest, version, resource: resource.clone() };
        self.resources.lock().unwrap_or_else(PoisonError::into_inner).insert(id.into(), seen);
        Ok(resource)
    }

    fn forget(&self, id: &str) {
        self.resources.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }

    /// The rule `id` as st2 shows it (masked); rule URIs use st2's ObjectId, so refs are not looked up here.
    pub(crate) async fn rule(&self, id: &str) -> Result<Rule> {
        if !is_object_id(id) {
            return Err(Error::not_found(self.uris.container.member(id).as_str()));
        }
        Ok(self.store.get(id, false).await?)
    }

    /// Enables or disables rule `id` (held against other writes through the adapter), as `st2 rule enable` does.
    pub(crate) async fn set_enabled(&self, id: &str, enabled: bool) -> Result<Rule> {
        let _write = self.lock(id).await;
        let current = self.rule(id).await?;
        let rule = self.store.set_enabled(current.id.as_deref().unwrap_or(id), enabled).await?;
        let outcome = if enabled { "enabled" } else { "disabled" };
        tracing::info!(rule_id = id, rule_ref = %rule.reference(), outcome, "rule action");
        Ok(rule)
    }

    /// Replaces rule `id` with `rule` (secrets the client saw masked keep their values) if `if_match` holds.
    pub(crate) async fn replace_rule(&self, id: &str, mut rule: Rule, if_match: Option<&IfMatch>) -> Result<Rule> {
        let _write = self.lock(id).await;
        let current = self.rule(id).await?;
        if let Some(if_match) = if_match {
            let resource = self.resource(&current)?;
            if_match.check(resource.subject(), &resource.etag())?;
        }
        let clear = self.store.get(id, true).await?;
        unmask(&mut rule, &clear);
        Ok(self.store.replace(id, &rule).await?)
    }
}

/// The rule actions `enable` and `disable`, declared on the collection through the server kit.
pub(crate) struct SetEnabled {
    pub(crate) provider: Arc<RuleProvider>,
    pub(crate) enabled: bool,
}

#[async_trait]
impl oslc_core::server::ActionHandler for SetEnabled {
    async fn run(&self, _container: &Container, id: &str, _current: Resource) -> Result<Resource> {
        let rule = self.provider.set_enabled(id, self.enabled).await?;
        self.provider.resource(&rule)
    }
}

/// The first 16 bytes of the SHA-256 of a rule's JSON (serde_json writes fields in declaration order and maps in key
/// order, so equal rules give equal digests), streamed into the hash without copying the rule.
#[derive(Clone, Copy, PartialEq, Eq)]
struct RuleDigest([u8; 16]);

impl RuleDigest {
    fn of(rule: &Rule) -> Self {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        // Writing into a hasher cannot fail, and a rule always serializes (string keys, no non-finite floats).
        let _ = serde_json::to_writer(&mut hasher, rule);
        let mut digest = [0u8; 16];
        digest.copy_from_slice(&hasher.finalize()[..16]);
        Self(digest)
    }
}

/// Whether the resource of a rule says it is enabled.
pub(crate) fn is_enabled(resource: &Resource) -> bool {
    matches!(resource.object(super::vocab::enabled), Some(oslc_core::oxrdf::TermRef::Literal(l)) if l.value() == "true")
}

#[async_trait]
impl ResourceProvider for RuleProvider {
    async fn list(&self, container: &Container) -> Result<Vec<Resource>> {
        Ok(self.listing(container).await?.resources().to_vec())
    }

    async fn listing(&self, _container: &Container) -> Result<Listing> {
        // The version is read before the list, so a change made while listing makes the next call list again.
        let version = self.store.version();
        if let Some(version) = version
            && let Some((at, listing)) = &*self.listed.lock().unwrap_or_else(PoisonError::into_inner)
            && *at == version
        {
            return Ok(listing.clone());
        }
        let page = self.store.list(None).await?;
        let resources = page.rules.iter().map(|rule| self.resource(rule)).collect::<Result<Vec<_>>>()?;
        // Kept in the order of queries without `oslc.orderBy`: plain pages are cut from it, others need no sort.
        let listing = Listing::new(resources);
        // Rules deleted behind the adapter's back leave the cache.
        if let Ok(mut cache) = self.resources.lock()
            && cache.len() > page.rules.len()
        {
            let live: std::collections::HashSet<&str> = page.rules.iter().filter_map(|r| r.id.as_deref()).collect();
            cache.retain(|id, _| live.contains(&**id));
        }
        if let Some(version) = version {
            *self.listed.lock().unwrap_or_else(PoisonError::into_inner) = Some((version, listing.clone()));
        }
        Ok(listing)
    }

    async fn get(&self, _container: &Container, id: &str) -> Result<Resource> {
        let version = self.store.version();
        if let Some(version) = version
            && let Some(seen) = self.resources.lock().unwrap_or_else(PoisonError::into_inner).get(id)
            && seen.version == Some(version)
        {
            return Ok(seen.resource.clone());
        }
        let rule = self.rule(id).await?;
        self.resource_read_at(&rule, version)
    }

    async fn create(&self, _container: &Container, resource: Resource) -> Result<Resource> {
        let rule = rule_from_graph(resource.graph(), resource.subject().into())?;
        // Two creations of one ref: st2 refuses the second (409) by its unique index.
        let created = self.store.create(&rule).await?;
        tracing::info!(rule_id = created.id.as_deref().unwrap_or_default(), rule_ref = %created.reference(), "rule created");
        self.resource(&created)
    }

    async fn replace(
        &self,
        _container: &Container,
        id: &str,
        resource: Resource,
        if_match: &IfMatch,
    ) -> Result<Resource> {
        let rule = rule_from_graph(resource.graph(), resource.subject().into())?;
        let updated = self.replace_rule(id, rule, Some(if_match)).await?;
        tracing::info!(rule_id = id, rule_ref = %updated.reference(), "rule replaced");
        self.resource(&updated)
    }

    async fn delete(&self, _container: &Container, id: &str, if_match: Option<&IfMatch>) -> Result<()> {
        let _write = self.lock(id).await;
        let current = self.rule(id).await?;
        if let Some(if_match) = if_match {
            let resource = self.resource(&current)?;
            if_match.check(resource.subject(), &resource.etag())?;
        }
        self.store.delete(id).await?;
        self.forget(id);
        tracing::info!(rule_id = id, rule_ref = %current.reference(), "rule deleted");
        Ok(())
    }
}
