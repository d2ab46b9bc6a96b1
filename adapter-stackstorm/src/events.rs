//! Rule changes as OSLC Events: classifying a change (created, modified, enabled, disabled, deleted; nothing for
//! a re-save that changed nothing), building its event, and the polling source for StackStorms whose MongoDB has
//! no change streams.
//!
//! ```
//! use adapter_stackstorm::events::{RuleChange, classify};
//! use adapter_stackstorm::st2::Rule;
//!
//! let before = Rule::new("ops", "watch_disk", "core.st2.IntervalTimer", "core.local");
//! let mut after = before.clone();
//! after.enabled = true;
//! assert_eq!(classify(Some(&before), Some(&after)), Some(RuleChange::Enabled));
//! assert_eq!(classify(Some(&before), Some(&before.clone())), None, "a re-save is no change");
//! assert_eq!(classify(Some(&after), None), Some(RuleChange::Deleted));
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use oslc_core::oxrdf::NamedNode;
use oslc_events::poller::{PollError, Snapshot, SnapshotPoller, SourceError};
use oslc_events::{ChangeKind, Checkpoint, Event, EventLog};
use serde::{Deserialize, Serialize};

use crate::oslc::{RuleProvider, vocab as st2};
use crate::st2::{Rule, RuleStore};

/// What happened to a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleChange {
    /// It was created.
    Created,
    /// It changed in some way other than its enabled flag alone.
    Modified,
    /// Only its enabled flag changed, to true.
    Enabled,
    /// Only its enabled flag changed, to false.
    Disabled,
    /// It was deleted.
    Deleted,
}

impl RuleChange {
    /// The TRS change kind.
    #[must_use]
    pub fn kind(self) -> ChangeKind {
        match self {
            Self::Created => ChangeKind::Creation,
            Self::Deleted => ChangeKind::Deletion,
            Self::Modified | Self::Enabled | Self::Disabled => ChangeKind::Modification,
        }
    }

    /// The qualifier type the event carries.
    #[must_use]
    pub fn qualifier(self) -> NamedNode {
        match self {
            Self::Created => st2::RuleCreated,
            Self::Modified => st2::RuleModified,
            Self::Enabled => st2::RuleEnabled,
            Self::Disabled => st2::RuleDisabled,
            Self::Deleted => st2::RuleDeleted,
        }
        .into_owned()
    }

    /// A short name: `created`, `modified`, `enabled`, `disabled`, `deleted`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Modified => "modified",
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
            Self::Deleted => "deleted",
        }
    }
}

/// What changed between two states of one rule (`None` before it existed, or after it was deleted); `None` for no
/// change, such as `st2ctl reload` saving a rule again as it was.
#[must_use]
pub fn classify(before: Option<&Rule>, after: Option<&Rule>) -> Option<RuleChange> {
    match (before, after) {
        (None, None) => None,
        (None, Some(_)) => Some(RuleChange::Created),
        (Some(_), None) => Some(RuleChange::Deleted),
        (Some(before), Some(after)) => {
            if same_content(before, after) {
                return None;
            }
            let mut flipped = before.clone();
            flipped.enabled = after.enabled;
            if same_content(&flipped, after) {
                Some(if after.enabled { RuleChange::Enabled } else { RuleChange::Disabled })
            } else {
                Some(RuleChange::Modified)
            }
        }
    }
}

/// Equality of what a rule is, ignoring what st2 recomputes on every save (`ref`, `uid`) and the trigger's
/// description.
fn same_content(a: &Rule, b: &Rule) -> bool {
    let normal = |r: &Rule| {
        let mut r = r.clone();
        r.reference = None;
        r.uid = None;
        r.trigger.description = None;
        r
    };
    normal(a) == normal(b)
}

/// The rules last seen, by id: what a change source compares new states with, and keeps as its checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleSnapshot {
    /// Rules by st2 id.
    pub rules: BTreeMap<String, Rule>,
}

impl RuleSnapshot {
    /// The snapshot of `rules`.
    #[must_use]
    pub fn of(rules: impl IntoIterator<Item = Rule>) -> Self {
        Self { rules: rules.into_iter().filter_map(|r| r.id.clone().map(|id| (id, r))).collect() }
    }

    /// The changes from `self` to `now`, by id: creations, modifications and deletions, in id order.
    #[must_use]
    pub fn diff(&self, now: &Self) -> Vec<(String, RuleChange)> {
        let mut changes = Vec::new();
        for (id, rule) in &now.rules {
            if let Some(change) = classify(self.rules.get(id), Some(rule)) {
                changes.push((id.clone(), change));
            }
        }
        for id in self.rules.keys() {
            if !now.rules.contains_key(id) {
                changes.push((id.clone(), RuleChange::Deleted));
            }
        }
        changes
    }
}

/// Builds the OSLC Events of rule changes.
#[derive(Clone)]
pub struct EventFactory {
    provider: Arc<RuleProvider>,
    service_provider: NamedNode,
    log_identity: Option<String>,
}

impl std::fmt::Debug for EventFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventFactory").field("service_provider", &self.service_provider).finish_non_exhaustive()
    }
}

impl EventFactory {
    /// Events about the rules `provider` serves.
    #[must_use]
    pub fn new(provider: Arc<RuleProvider>, service_provider: NamedNode) -> Self {
        Self { provider, service_provider, log_identity: None }
    }

    /// Mixes the event log's identity into every event id, so a new log never reuses an id an old one served
    /// (TRS clients that look for their last-seen event then rebase instead of skipping).
    #[must_use]
    pub fn with_log_identity(mut self, identity: impl Into<String>) -> Self {
        self.log_identity = Some(identity.into());
        self
    }

    /// The event of `change` to rule `id` (whose state after the change is `rule`, for all but deletions); its id
    /// derives from `source_key`, so seeing the same change again gives the same event.
    ///
    /// # Errors
    /// What mapping the rule to a resource returns.
    pub fn event(
        &self,
        id: &str,
        change: RuleChange,
        rule: Option<&Rule>,
        source_key: &str,
    ) -> oslc_core::Result<Event> {
        let mut event = Event::new(change.kind(), self.provider.member(id))
            .with_id_from(&match &self.log_identity {
                Some(identity) => format!("{identity}/{source_key}"),
                None => source_key.to_owned(),
            })
            .with_qualifier(change.qualifier())
            .with_service_provider(self.service_provider.clone());
        if let (Some(rule), false) = (rule, change == RuleChange::Deleted) {
            let (_, graph) = self.provider.resource(rule)?.into_parts();
            event = event.with_state(graph);
        }
        Ok(event)
    }
}

/// The name of the polling source ([`SnapshotPoller`]): its checkpoints are `st2-poller:sequence` and
/// `st2-poller:item:<rule id>`.
pub const POLLER: &str = "st2-poller";
/// The checkpoint of the polling source before 0.2 (the whole rule list); read once and replaced.
pub const LEGACY_POLLER_CHECKPOINT: &str = "st2-poller";
/// The per-rule checkpoints of the 0.2 development polling source, before it became a [`SnapshotPoller`].
const LEGACY_RULE_PREFIX: &str = "st2-poller:rule:";

/// What a rule was, as far as classifying its next change needs: a hash of its content with the enabled flag
/// left out, and the flag. 17 bytes a rule, whatever its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleFingerprint {
    content: [u8; 16],
    enabled: bool,
}

impl RuleFingerprint {
    /// The fingerprint of `rule`, ignoring what st2 recomputes on every save (as [`classify`] does).
    #[must_use]
    pub fn of(rule: &Rule) -> Self {
        use sha2::Digest as _;
        let mut normal = rule.clone();
        normal.reference = None;
        normal.uid = None;
        normal.trigger.description = None;
        normal.enabled = false;
        // serde_json writes struct fields in declaration order and maps in key order: stable for equal rules.
        let bytes = serde_json::to_vec(&normal).unwrap_or_default();
        let digest = sha2::Sha256::digest(&bytes);
        let mut content = [0u8; 16];
        content.copy_from_slice(&digest[..16]);
        Self { content, enabled: rule.enabled }
    }

    /// What changed from `before` to `self`; `None` for nothing.
    #[must_use]
    pub fn change_from(&self, before: Option<&Self>) -> Option<RuleChange> {
        match before {
            None => Some(RuleChange::Created),
            Some(before) if before.content != self.content => Some(RuleChange::Modified),
            Some(before) if before.enabled != self.enabled => {
                Some(if self.enabled { RuleChange::Enabled } else { RuleChange::Disabled })
            }
            Some(_) => None,
        }
    }

    /// The 17 bytes kept as the rule's checkpoint.
    #[must_use]
    pub fn to_bytes(self) -> Vec<u8> {
        let mut bytes = self.content.to_vec();
        bytes.push(u8::from(self.enabled));
        bytes
    }

    /// A fingerprint read back from [`RuleFingerprint::to_bytes`].
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (content, enabled) = bytes.split_at_checked(16)?;
        Some(Self { content: content.try_into().ok()?, enabled: *enabled.first()? == 1 })
    }
}

/// StackStorm's rules as a [`Snapshot`]: the polling change source is a [`SnapshotPoller`] over it, for StackStorms
/// whose MongoDB is standalone (st2-docker's default), where change streams do not exist. Each rule is kept as its
/// [`RuleFingerprint`] (17 bytes); a rule disabled, enabled and disabled again between polls gives three events.
pub struct RuleListing {
    store: Arc<dyn RuleStore>,
    factory: EventFactory,
    cache: Option<Arc<crate::st2::RuleCache>>,
}

impl std::fmt::Debug for RuleListing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleListing").field("cached", &self.cache.is_some()).finish_non_exhaustive()
    }
}

impl RuleListing {
    /// The rules of `store`, made into events by `factory`.
    #[must_use]
    pub fn new(store: Arc<dyn RuleStore>, factory: EventFactory) -> Self {
        Self { store, factory, cache: None }
    }

    /// Keeps `cache` current with every list taken (give the listing the store behind the cache).
    #[must_use]
    pub fn with_cache(mut self, cache: Arc<crate::st2::RuleCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The poller of this listing into `log`, polling every `interval`, after carrying over the checkpoints of
    /// earlier versions of the poller.
    ///
    /// # Errors
    /// The log's, or a legacy checkpoint that cannot be read.
    pub async fn poller(self, log: Arc<dyn EventLog>, interval: Duration) -> Result<SnapshotPoller<Self>, PollError> {
        let poller = SnapshotPoller::new(self, log.clone(), POLLER).with_interval(interval);
        migrate_legacy(log.as_ref(), &poller.sequence_checkpoint(), &poller.item_prefix()).await?;
        Ok(poller)
    }
}

/// Rewrites the poller checkpoints of earlier versions (one whole-snapshot checkpoint; per-rule checkpoints under
/// another prefix) as a [`SnapshotPoller`]'s, in one transaction.
async fn migrate_legacy(log: &dyn EventLog, sequence: &str, prefix: &str) -> Result<(), PollError> {
    let whole = log.checkpoint(LEGACY_POLLER_CHECKPOINT).await?;
    let rules = log.checkpoints(LEGACY_RULE_PREFIX).await?;
    if whole.is_none() && rules.is_empty() {
        return Ok(());
    }
    let mut checkpoints = Vec::new();
    for (name, bytes) in rules {
        checkpoints.push(Checkpoint::new(format!("{prefix}{}", &name[LEGACY_RULE_PREFIX.len()..]), bytes));
        checkpoints.push(Checkpoint::removal(name));
    }
    if let Some(bytes) = whole {
        let legacy: RuleSnapshot =
            serde_json::from_slice(&bytes).map_err(|_| PollError::Checkpoint(LEGACY_POLLER_CHECKPOINT.to_owned()))?;
        for (id, rule) in &legacy.rules {
            checkpoints.push(Checkpoint::new(format!("{prefix}{id}"), RuleFingerprint::of(rule).to_bytes()));
        }
        checkpoints.push(Checkpoint::removal(LEGACY_POLLER_CHECKPOINT));
    }
    if log.checkpoint(sequence).await?.is_none() {
        checkpoints.push(Checkpoint::new(sequence, 0u64.to_be_bytes().to_vec()));
    }
    tracing::info!("carried the polling source's checkpoints over from an earlier version");
    log.append(Vec::new(), checkpoints).await?;
    Ok(())
}

#[async_trait]
impl Snapshot for RuleListing {
    type Item = Arc<Rule>;

    async fn list(&self) -> Result<Vec<Arc<Rule>>, SourceError> {
        let generation = self.cache.as_ref().map(|c| c.generation());
        let listed = self.store.list(None).await?.rules;
        if let (Some(cache), Some(generation)) = (&self.cache, generation) {
            cache.replace_all(listed.clone(), generation);
        }
        Ok(listed)
    }

    fn key(&self, rule: &Arc<Rule>) -> Option<String> {
        rule.id.clone()
    }

    fn fingerprint(&self, rule: &Arc<Rule>) -> Vec<u8> {
        RuleFingerprint::of(rule).to_bytes()
    }

    fn event(
        &self,
        id: &str,
        before: Option<&[u8]>,
        now: Option<&Arc<Rule>>,
        key: &str,
    ) -> Result<Option<Event>, SourceError> {
        let now = now.map(|rule| &**rule);
        let before = match before {
            Some(bytes) => Some(RuleFingerprint::from_bytes(bytes).ok_or("not a rule fingerprint")?),
            None => None,
        };
        let change = match now {
            None => RuleChange::Deleted,
            Some(rule) => match RuleFingerprint::of(rule).change_from(before.as_ref()) {
                Some(change) => change,
                None => return Ok(None),
            },
        };
        Ok(Some(self.factory.event(id, change, now, &format!("{key}:{}", change.as_str()))?))
    }

    /// The store's [`RuleStore::version`]: an in-process store every write passes through (the demo's) is not
    /// listed again while nothing was written; StackStorm's API has none, and is listed at every poll.
    fn version(&self) -> Option<u64> {
        self.store.version()
    }
}

/// The name of the polling source of execution events ([`ExecutionListing`]): its checkpoints are
/// `st2-executions:sequence` and `st2-executions:item:<execution id>`.
pub const EXECUTION_POLLER: &str = "st2-executions";

/// StackStorm's latest executions ([`crate::oslc::automation::LISTED_EXECUTIONS`]), listed by the polling change
/// source of execution events: a new execution is a creation of its `oslc_auto:AutomationResult`, each change of its
/// status a modification, with the result as the event's state. An execution that leaves the listing (older ones,
/// or removed by st2's garbage collector) makes no event: it was not deleted by anyone.
#[derive(Clone)]
pub struct ExecutionListing {
    store: Arc<dyn crate::st2::ExecutionStore>,
    uris: crate::oslc::automation::AutomationUris,
    log_identity: Option<String>,
}

impl std::fmt::Debug for ExecutionListing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutionListing").field("uris", &self.uris).finish_non_exhaustive()
    }
}

impl ExecutionListing {
    /// The executions of `store`, their results at `uris`.
    #[must_use]
    pub fn new(store: Arc<dyn crate::st2::ExecutionStore>, uris: crate::oslc::automation::AutomationUris) -> Self {
        Self { store, uris, log_identity: None }
    }

    /// The store executions are read from.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn crate::st2::ExecutionStore> {
        &self.store
    }

    /// Event ids are made under the event log's identity (as [`EventFactory::with_log_identity`]).
    #[must_use]
    pub fn with_log_identity(mut self, identity: impl Into<String>) -> Self {
        self.log_identity = Some(identity.into());
        self
    }

    /// The polling source of execution events, polling every `interval`.
    #[must_use]
    pub fn poller(self, log: Arc<dyn EventLog>, interval: Duration) -> SnapshotPoller<Self> {
        SnapshotPoller::new(self, log, EXECUTION_POLLER).with_interval(interval)
    }
}

#[async_trait]
impl Snapshot for ExecutionListing {
    type Item = crate::st2::Execution;

    async fn list(&self) -> Result<Vec<Self::Item>, SourceError> {
        Ok(self.store.executions(crate::oslc::automation::LISTED_EXECUTIONS).await?)
    }

    fn key(&self, execution: &Self::Item) -> Option<String> {
        Some(execution.id.clone())
    }

    fn fingerprint(&self, execution: &Self::Item) -> Vec<u8> {
        execution.status.as_bytes().to_vec()
    }

    fn event(
        &self,
        id: &str,
        before: Option<&[u8]>,
        now: Option<&Self::Item>,
        key: &str,
    ) -> Result<Option<Event>, SourceError> {
        let Some(execution) = now else { return Ok(None) };
        let (kind, qualifier) = match before {
            None => (ChangeKind::Creation, st2::ExecutionCreated),
            Some(_) => (ChangeKind::Modification, st2::ExecutionChanged),
        };
        let result = crate::oslc::automation::result_resource(execution, &self.uris);
        let (changed, state) = result.into_parts();
        let source_key = format!("{key}:{id}:{}", execution.status);
        let event = Event::new(kind, changed)
            .with_id_from(&match &self.log_identity {
                Some(identity) => format!("{identity}/{source_key}"),
                None => source_key,
            })
            .with_qualifier(qualifier.into_owned())
            .with_service_provider(self.uris.service_provider.clone())
            .with_state(state);
        Ok(Some(event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(enabled: bool, cmd: &str) -> Rule {
        let mut rule = Rule::new("p", "r", "core.st2.webhook", "core.local");
        rule.id = Some("58e43d58c4da5f35c286a81f".into());
        rule.enabled = enabled;
        rule.action.parameters.insert("cmd".into(), cmd.into());
        rule
    }

    #[test]
    fn classification() {
        let (on, off) = (rule(true, "a"), rule(false, "a"));
        assert_eq!(classify(None, Some(&on)), Some(RuleChange::Created));
        assert_eq!(classify(Some(&on), None), Some(RuleChange::Deleted));
        assert_eq!(classify(Some(&on), Some(&on.clone())), None, "a re-save of the same rule");
        assert_eq!(classify(Some(&off), Some(&on)), Some(RuleChange::Enabled));
        assert_eq!(classify(Some(&on), Some(&off)), Some(RuleChange::Disabled));
        assert_eq!(classify(Some(&on), Some(&rule(true, "b"))), Some(RuleChange::Modified));
        assert_eq!(classify(Some(&on), Some(&rule(false, "b"))), Some(RuleChange::Modified), "enabled and more");
        let mut recomputed = on.clone();
        recomputed.uid = Some("rule:p:r".into());
        assert_eq!(classify(Some(&on), Some(&recomputed)), None);
    }

    #[test]
    fn snapshots_diff() {
        let a = RuleSnapshot::of([rule(true, "a")]);
        let b = RuleSnapshot::of([rule(false, "a")]);
        assert_eq!(a.diff(&b), [("58e43d58c4da5f35c286a81f".to_owned(), RuleChange::Disabled)]);
        assert_eq!(a.diff(&RuleSnapshot::default()), [("58e43d58c4da5f35c286a81f".to_owned(), RuleChange::Deleted)]);
        assert!(a.diff(&a).is_empty());
    }
}
