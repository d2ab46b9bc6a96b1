//! Rule changes as OSLC Events: classifying a change (created, modified, enabled, disabled, deleted; nothing for
//! a re-save that changed nothing), building its event, and the polling source for StackStorms whose MongoDB has
//! no change streams.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use oslc_core::oxrdf::NamedNode;
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

/// The prefix of the polling source's per-rule checkpoints (`st2-poller:rule:<id>`): a fingerprint of each rule
/// as last seen, written with the event of its change.
pub const POLLER_RULE_PREFIX: &str = "st2-poller:rule:";
/// The polling source's sequence checkpoint: how many polls appended events (part of each event's id, so a rule
/// that returns to an earlier state still gets a new event).
pub const POLLER_SEQUENCE: &str = "st2-poller:sequence";
/// The checkpoint of the polling source before 0.2 (the whole rule list); read once and replaced.
pub const LEGACY_POLLER_CHECKPOINT: &str = "st2-poller";

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

    fn to_bytes(self) -> Vec<u8> {
        let mut bytes = self.content.to_vec();
        bytes.push(u8::from(self.enabled));
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (content, enabled) = bytes.split_at_checked(16)?;
        Some(Self { content: content.try_into().ok()?, enabled: *enabled.first()? == 1 })
    }
}

/// Why a poll failed; nothing was appended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PollError {
    /// StackStorm could not be listed.
    #[error("listing StackStorm's rules: {0}")]
    St2(#[from] crate::st2::St2Error),
    /// The event log failed.
    #[error(transparent)]
    Log(#[from] oslc_events::Error),
    /// A rule could not be made into its event, or a checkpoint could not be read.
    #[error("{0}")]
    Data(String),
}

/// A change source that lists the rules every `interval` and compares each with its fingerprint from the last
/// poll, for StackStorms whose MongoDB is standalone (st2-docker's default), where change streams do not exist.
///
/// Each rule's fingerprint is a checkpoint of its own, written with the event of its change, so a commit costs
/// the same however many rules there are, memory holds 17 bytes a rule between polls, and after a restart (or a
/// crash) the first poll reports exactly what changed while the adapter was away. Every observed change is one
/// event with an id of its own (the poll's sequence number is part of it): a rule disabled, enabled and disabled
/// again gives three events. The first start reports nothing: the rules then are the TRS Base.
pub struct RulePoller {
    store: Arc<dyn RuleStore>,
    log: Arc<dyn EventLog>,
    factory: EventFactory,
    interval: Duration,
    known: tokio::sync::Mutex<Option<Known>>,
    cache: Option<Arc<crate::st2::RuleCache>>,
}

/// The most events one poll appends in one transaction.
const POLL_BATCH: usize = 256;

/// The events and checkpoints of one batch of a poll, numbered `sequence`.
struct Batch {
    sequence: u64,
    /// Whether the events returned keep the rule states they carried.
    keep_states: bool,
    events: Vec<Event>,
    checkpoints: Vec<Checkpoint>,
    updated: Vec<(String, Option<RuleFingerprint>)>,
}

impl Batch {
    fn new(sequence: u64, keep_states: bool) -> Self {
        Self { sequence, keep_states, events: Vec::new(), checkpoints: Vec::new(), updated: Vec::new() }
    }
}

/// The fingerprints of the last poll, and the sequence number of the last batch that appended.
struct Known {
    rules: BTreeMap<String, RuleFingerprint>,
    sequence: u64,
}

impl std::fmt::Debug for RulePoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RulePoller").field("interval", &self.interval).finish_non_exhaustive()
    }
}

impl RulePoller {
    /// A poller of `store` into `log`.
    #[must_use]
    pub fn new(store: Arc<dyn RuleStore>, log: Arc<dyn EventLog>, factory: EventFactory, interval: Duration) -> Self {
        Self { store, log, factory, interval, known: tokio::sync::Mutex::new(None), cache: None }
    }

    /// Keeps `cache` current with every list taken (give the poller the store behind the cache).
    #[must_use]
    pub fn with_cache(mut self, cache: Arc<crate::st2::RuleCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The checkpointed fingerprints, or `None` on a first start.
    async fn load(&self) -> Result<Option<Known>, PollError> {
        let sequence = match self.log.checkpoint(POLLER_SEQUENCE).await? {
            Some(bytes) => <[u8; 8]>::try_from(bytes.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| PollError::Data(format!("checkpoint {POLLER_SEQUENCE} is not a number")))?,
            None if self.log.checkpoint(LEGACY_POLLER_CHECKPOINT).await?.is_some() => 0,
            None => return Ok(None),
        };
        let mut rules = BTreeMap::new();
        for (name, bytes) in self.log.checkpoints(POLLER_RULE_PREFIX).await? {
            let fingerprint = RuleFingerprint::from_bytes(&bytes)
                .ok_or_else(|| PollError::Data(format!("checkpoint {name} is not a rule fingerprint")))?;
            rules.insert(name.trim_start_matches(POLLER_RULE_PREFIX).to_owned(), fingerprint);
        }
        if let Some(bytes) = self.log.checkpoint(LEGACY_POLLER_CHECKPOINT).await? {
            let legacy: RuleSnapshot = serde_json::from_slice(&bytes).map_err(|e| PollError::Data(e.to_string()))?;
            rules.extend(legacy.rules.iter().map(|(id, rule)| (id.clone(), RuleFingerprint::of(rule))));
        }
        Ok(Some(Known { rules, sequence }))
    }

    /// One poll: lists the rules, appends the events of what changed with the changed rules' fingerprints as
    /// checkpoints, returns the events appended.
    ///
    /// # Errors
    /// StackStorm or event log failures; nothing is appended then, and the next poll sees the same changes.
    pub async fn poll(&self) -> Result<Vec<Event>, PollError> {
        self.poll_keeping(true).await
    }

    async fn poll_keeping(&self, keep_states: bool) -> Result<Vec<Event>, PollError> {
        let generation = self.cache.as_ref().map(|c| c.generation());
        let listed = self.store.list(None).await?.rules;
        if let (Some(cache), Some(generation)) = (&self.cache, generation) {
            cache.replace_all(listed.clone(), generation);
        }
        let mut known = self.known.lock().await;
        if known.is_none() {
            *known = self.load().await?;
        }
        let Some(current) = known.as_mut() else {
            let mut checkpoints = vec![Checkpoint::new(POLLER_SEQUENCE, 0u64.to_be_bytes().to_vec())];
            let mut rules = BTreeMap::new();
            for rule in &listed {
                if let Some(id) = &rule.id {
                    let fingerprint = RuleFingerprint::of(rule);
                    checkpoints.push(Checkpoint::new(format!("{POLLER_RULE_PREFIX}{id}"), fingerprint.to_bytes()));
                    rules.insert(id.clone(), fingerprint);
                }
            }
            tracing::info!(rules = rules.len(), "first poll: the current rules are the TRS Base");
            self.log.append(Vec::new(), checkpoints).await?;
            *known = Some(Known { rules, sequence: 0 });
            return Ok(Vec::new());
        };
        // Changes are appended in batches of at most POLL_BATCH events, each batch one transaction with the
        // checkpoints of its rules and a sequence number of its own: a poll that finds thousands of changes (a
        // first start after a bulk import) holds one batch of rule states in memory, not all of them.
        let mut batch = Batch::new(current.sequence + 1, keep_states);
        let mut appended = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for rule in &listed {
            let Some(id) = rule.id.as_deref() else { continue };
            seen.insert(id.to_owned());
            let fingerprint = RuleFingerprint::of(rule);
            let before = current.rules.get(id);
            if before == Some(&fingerprint) {
                continue;
            }
            if let Some(change) = fingerprint.change_from(before) {
                let key = format!("poll:{}:{id}:{}", batch.sequence, change.as_str());
                batch.events.push(
                    self.factory.event(id, change, Some(rule), &key).map_err(|e| PollError::Data(e.to_string()))?,
                );
            }
            batch.checkpoints.push(Checkpoint::new(format!("{POLLER_RULE_PREFIX}{id}"), fingerprint.to_bytes()));
            batch.updated.push((id.to_owned(), Some(fingerprint)));
            if batch.events.len() >= POLL_BATCH {
                appended.extend(self.commit(current, &mut batch).await?);
            }
        }
        let gone: Vec<String> = current.rules.keys().filter(|id| !seen.contains(id.as_str())).cloned().collect();
        for id in gone {
            let key = format!("poll:{}:{id}:deleted", batch.sequence);
            batch.events.push(
                self.factory.event(&id, RuleChange::Deleted, None, &key).map_err(|e| PollError::Data(e.to_string()))?,
            );
            batch.checkpoints.push(Checkpoint::removal(format!("{POLLER_RULE_PREFIX}{id}")));
            batch.updated.push((id, None));
            if batch.events.len() >= POLL_BATCH {
                appended.extend(self.commit(current, &mut batch).await?);
            }
        }
        appended.extend(self.commit(current, &mut batch).await?);
        Ok(appended)
    }

    /// Appends a batch with its checkpoints and the poll sequence, then records the batch's fingerprints as known
    /// and starts the next batch; an empty batch appends nothing.
    async fn commit(&self, current: &mut Known, batch: &mut Batch) -> Result<Vec<Event>, PollError> {
        if batch.checkpoints.is_empty() {
            return Ok(Vec::new());
        }
        let sequence = batch.sequence;
        let full_keep = batch.keep_states;
        let full = std::mem::replace(batch, Batch::new(sequence + 1, batch.keep_states));
        let mut checkpoints = full.checkpoints;
        checkpoints.push(Checkpoint::new(POLLER_SEQUENCE, sequence.to_be_bytes().to_vec()));
        checkpoints.push(Checkpoint::removal(LEGACY_POLLER_CHECKPOINT));
        let appended = match self.log.append(full.events, checkpoints).await {
            Ok(appended) => appended,
            Err(e) => {
                // Nothing of this batch is known; the next poll sees its changes again (with new ids).
                *batch = Batch::new(sequence, full_keep);
                return Err(e.into());
            }
        };
        // Only what was committed is known: a failed append leaves the fingerprints as they were.
        current.sequence = sequence;
        for (id, fingerprint) in full.updated {
            match fingerprint {
                Some(fingerprint) => current.rules.insert(id, fingerprint),
                None => current.rules.remove(&id),
            };
        }
        for event in &appended {
            tracing::info!(event_order = event.order, rule = %event.changed, qualifier = %event.qualifiers[0], "rule change");
        }
        if !batch.keep_states {
            // The caller needs the events' order and ids, not the rule states they carried.
            return Ok(appended.into_iter().map(|e| e.without_state()).collect());
        }
        Ok(appended)
    }

    /// Polls until `shutdown` completes; failures are retried at the next tick (logged once at WARN while they
    /// last, and once at INFO when polling works again). `watching` (if given) tells whether the last poll
    /// succeeded.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send,
        watching: Option<tokio::sync::watch::Sender<bool>>,
    ) {
        tokio::pin!(shutdown);
        tracing::info!(interval_ms = self.interval.as_millis() as u64, "watching StackStorm rules by polling");
        let mut failing = false;
        loop {
            let ok = match self.poll_keeping(false).await {
                Ok(_) => {
                    if failing {
                        tracing::info!("polling StackStorm works again");
                    }
                    true
                }
                Err(error) if failing => {
                    tracing::debug!(%error, "polling StackStorm still fails");
                    false
                }
                Err(error) => {
                    tracing::warn!(%error, "polling StackStorm failed; will retry every interval");
                    false
                }
            };
            failing = !ok;
            if let Some(status) = &watching {
                status.send_replace(ok);
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.interval) => {},
            }
        }
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
