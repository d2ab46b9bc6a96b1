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
        Self { provider, service_provider }
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
            .with_id_from(source_key)
            .with_qualifier(change.qualifier())
            .with_service_provider(self.service_provider.clone());
        if let (Some(rule), false) = (rule, change == RuleChange::Deleted) {
            let (_, graph) = self.provider.resource(rule)?.into_parts();
            event = event.with_state(graph);
        }
        Ok(event)
    }
}

/// The checkpoint name of the polling source.
pub const POLLER_CHECKPOINT: &str = "st2-poller";

/// A change source that lists the rules every `interval` and compares them with the last list, for StackStorms
/// whose MongoDB is standalone (st2-docker's default), where change streams do not exist.
///
/// The last list is a checkpoint written with the events it produced, so after a restart (or a crash) the first
/// poll reports exactly what changed while the adapter was away. The first start reports nothing: the rules then
/// are the TRS Base.
pub struct RulePoller {
    store: Arc<dyn RuleStore>,
    log: Arc<dyn EventLog>,
    factory: EventFactory,
    interval: Duration,
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
        Self { store, log, factory, interval }
    }

    /// One poll: lists the rules, appends the events of what changed with the new list as checkpoint, returns the
    /// events appended.
    ///
    /// # Errors
    /// StackStorm or event log failures; nothing is appended then.
    pub async fn poll(&self) -> anyhow::Result<Vec<Event>> {
        let now = RuleSnapshot::of(self.store.list(None).await?.rules);
        let before = match self.log.checkpoint(POLLER_CHECKPOINT).await? {
            Some(bytes) => Some(serde_json::from_slice::<RuleSnapshot>(&bytes)?),
            None => None,
        };
        let checkpoint = Checkpoint::new(POLLER_CHECKPOINT, serde_json::to_vec(&now)?);
        let Some(before) = before else {
            tracing::info!(rules = now.rules.len(), "first poll: the current rules are the TRS Base");
            self.log.append(Vec::new(), vec![checkpoint]).await?;
            return Ok(Vec::new());
        };
        let mut events = Vec::new();
        for (id, change) in before.diff(&now) {
            let rule = now.rules.get(&id).or_else(|| before.rules.get(&id));
            let fingerprint = serde_json::to_string(&rule)?;
            let key = format!("poll:{id}:{}:{}", change.as_str(), fingerprint_hash(&fingerprint));
            events.push(self.factory.event(&id, change, rule, &key)?);
        }
        if events.is_empty() && before == now {
            return Ok(Vec::new());
        }
        let appended = self.log.append(events, vec![checkpoint]).await?;
        for event in &appended {
            tracing::info!(event_order = event.order, rule = %event.changed, kind = ?event.kind, "rule change");
        }
        Ok(appended)
    }

    /// Polls until `shutdown` completes; failures are logged and retried at the next tick. `watching` (if given)
    /// tells whether the last poll succeeded.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send,
        watching: Option<tokio::sync::watch::Sender<bool>>,
    ) {
        tokio::pin!(shutdown);
        tracing::info!(interval_ms = self.interval.as_millis() as u64, "watching StackStorm rules by polling");
        loop {
            let ok = match self.poll().await {
                Ok(_) => true,
                Err(error) => {
                    tracing::warn!(%error, "polling StackStorm failed; will retry");
                    false
                }
            };
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

/// A stable hash for event ids (FNV-1a; ids only need to tell states apart).
fn fingerprint_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
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
