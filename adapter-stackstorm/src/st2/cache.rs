//! A rule cache in front of StackStorm's API, kept current by the change source, so reads and queries do not call
//! StackStorm per request.
//!
//! - Reads (`list`, and `get` without secrets) are answered from memory once the cache is filled; a rule the cache
//!   does not know is fetched from StackStorm (and kept).
//! - Writes go to StackStorm and the cache takes what StackStorm answered before the write returns, so a client
//!   reads its own writes and the ETags it is given stay exact.
//! - The change source calls [`RuleCache::refresh`] for each rule it saw change (the rule is read again through
//!   the API, so the cache always holds the API's representation) or [`RuleCache::replace_all`] with a full list.
//!   A rule changed directly in StackStorm (CLI, web UI) is therefore served as it was for at most the change
//!   source's delay: the change stream's latency, or one polling interval.
//!
//! ```
//! use std::sync::Arc;
//! use adapter_stackstorm::st2::{RuleCache, RuleStore};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let st2 = Arc::new(adapter_stackstorm::demo::demo_store().await?);
//! let cache = RuleCache::new(st2.clone());
//! // The change source fills it with a full list; reads are then answered from memory.
//! let generation = cache.generation();
//! cache.replace_all(st2.list(None).await?.rules, generation);
//! assert_eq!(cache.len(), cache.list(None).await?.rules.len());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;

use super::{Rule, RulePage, RuleStore, St2Error};

/// The cached rules: by id, complete or not.
#[derive(Default)]
struct Cached {
    /// Shared with the lists taken from the cache, and boxed that way: a `Rule` is several hundred bytes, and a
    /// B-tree's nodes have room for eleven values however many they hold.
    rules: BTreeMap<String, Arc<Rule>>,
    /// Whether `rules` holds every rule (a full list was taken and nothing was dropped since).
    complete: bool,
    /// Counts the writes through the cache: a list or a read started before a write must not overwrite it.
    generation: u64,
    /// Counts every change of `rules` (writes, refreshes, full lists): the cache's [`RuleStore::version`].
    changes: u64,
}

/// A [`RuleStore`] that answers reads from memory; see the module docs.
pub struct RuleCache {
    inner: Arc<dyn RuleStore>,
    cached: RwLock<Cached>,
}

impl std::fmt::Debug for RuleCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cached = self.cached.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("RuleCache").field("rules", &cached.rules.len()).field("complete", &cached.complete).finish()
    }
}

impl RuleCache {
    /// A cache in front of `inner`, empty until the first list.
    #[must_use]
    pub fn new(inner: Arc<dyn RuleStore>) -> Self {
        Self { inner, cached: RwLock::new(Cached::default()) }
    }

    /// The store behind the cache (what a change source must list, so it sees StackStorm, not the cache).
    #[must_use]
    pub fn inner(&self) -> &Arc<dyn RuleStore> {
        &self.inner
    }

    /// How many rules are cached.
    #[must_use]
    pub fn len(&self) -> usize {
        self.cached.read().unwrap_or_else(PoisonError::into_inner).rules.len()
    }

    /// Whether no rule is cached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Cached> {
        self.cached.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps what a write through the cache stored.
    fn written(&self, rule: &Rule) {
        let mut cached = self.write();
        cached.generation += 1;
        if let Some(id) = &rule.id {
            cached.rules.insert(id.clone(), Arc::new(rule.clone()));
            cached.changes += 1;
        }
    }

    /// Keeps a rule read at `generation`, unless a write came in since.
    fn read_at(&self, rule: &Rule, generation: u64) {
        let mut cached = self.write();
        if cached.generation == generation
            && let Some(id) = &rule.id
        {
            cached.rules.insert(id.clone(), Arc::new(rule.clone()));
            cached.changes += 1;
        }
    }

    /// The write counter now: pass it to [`RuleCache::replace_all`] with a list taken after this call.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.cached.read().unwrap_or_else(PoisonError::into_inner).generation
    }

    /// Replaces the cache with a full list of rules (as the API lists them, secrets masked) taken after
    /// [`RuleCache::generation`] returned `generation`; if a write went through the cache since, the list may be
    /// older than it and is not used.
    pub fn replace_all(&self, rules: Vec<Arc<Rule>>, generation: u64) {
        let mut cached = self.write();
        if cached.generation != generation {
            return;
        }
        cached.rules = rules.into_iter().filter_map(|r| r.id.clone().map(|id| (id, r))).collect();
        cached.changes += 1;
        cached.complete = true;
    }

    /// Reads rule `id` again from StackStorm after the change source saw it change; a rule that is gone leaves.
    /// When StackStorm cannot be read, the rule leaves the cache and the next list is taken from StackStorm.
    pub async fn refresh(&self, id: &str) {
        let generation = self.generation();
        match self.inner.get(id, false).await {
            Ok(rule) => self.read_at(&rule, generation),
            Err(St2Error::NotFound { .. }) => {
                let mut cached = self.write();
                if cached.generation == generation {
                    cached.rules.remove(id);
                    cached.changes += 1;
                }
            }
            Err(error) => {
                tracing::debug!(rule_id = id, %error, "cannot refresh a cached rule; it will be read again");
                let mut cached = self.write();
                cached.rules.remove(id);
                cached.complete = false;
                cached.changes += 1;
            }
        }
    }

    fn lookup(&self, ref_or_id: &str) -> Option<Rule> {
        let cached = self.cached.read().unwrap_or_else(PoisonError::into_inner);
        cached
            .rules
            .get(ref_or_id)
            .or_else(|| cached.rules.values().find(|r| r.id.is_some() && r.reference() == ref_or_id))
            .map(|rule| Rule::clone(rule))
    }
}

#[async_trait]
impl RuleStore for RuleCache {
    async fn list(&self, limit: Option<usize>) -> Result<RulePage, St2Error> {
        {
            let cached = self.cached.read().unwrap_or_else(PoisonError::into_inner);
            if cached.complete {
                let mut rules: Vec<Arc<Rule>> = cached.rules.values().cloned().collect();
                rules.sort_by(|a, b| (&a.pack, &a.name).cmp(&(&b.pack, &b.name)));
                let total = rules.len();
                if let Some(limit) = limit {
                    rules.truncate(limit);
                }
                return Ok(RulePage { rules, total });
            }
        }
        let generation = self.generation();
        let page = self.inner.list(None).await?;
        self.replace_all(page.rules.clone(), generation);
        let mut page = page;
        if let Some(limit) = limit {
            page.rules.truncate(limit);
        }
        Ok(page)
    }

    fn version(&self) -> Option<u64> {
        let cached = self.cached.read().unwrap_or_else(PoisonError::into_inner);
        cached.complete.then_some(cached.changes)
    }

    async fn get(&self, ref_or_id: &str, show_secrets: bool) -> Result<Rule, St2Error> {
        if !show_secrets && let Some(rule) = self.lookup(ref_or_id) {
            return Ok(rule);
        }
        let generation = self.generation();
        let rule = self.inner.get(ref_or_id, show_secrets).await?;
        if !show_secrets {
            self.read_at(&rule, generation);
        }
        Ok(rule)
    }

    async fn create(&self, rule: &Rule) -> Result<Rule, St2Error> {
        let created = self.inner.create(rule).await?;
        self.written(&created);
        Ok(created)
    }

    async fn replace(&self, id: &str, rule: &Rule) -> Result<Rule, St2Error> {
        let stored = self.inner.replace(id, rule).await?;
        self.written(&stored);
        Ok(stored)
    }

    async fn delete(&self, ref_or_id: &str) -> Result<(), St2Error> {
        let known = self.lookup(ref_or_id).and_then(|r| r.id);
        self.inner.delete(ref_or_id).await?;
        let mut cached = self.write();
        cached.generation += 1;
        match known {
            Some(id) => {
                cached.rules.remove(&id);
                cached.changes += 1;
            }
            None => {
                cached.rules.remove(ref_or_id);
                cached.changes += 1;
                cached.rules.retain(|_, r| r.reference() != ref_or_id);
            }
        }
        Ok(())
    }

    async fn set_enabled(&self, ref_or_id: &str, enabled: bool) -> Result<Rule, St2Error> {
        let stored = self.inner.set_enabled(ref_or_id, enabled).await?;
        self.written(&stored);
        Ok(stored)
    }
}
