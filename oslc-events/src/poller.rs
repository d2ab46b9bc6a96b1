//! A change source for tools that can only be listed: a [`SnapshotPoller`] lists a [`Snapshot`] every interval,
//! compares each item with its fingerprint from the last poll, and appends an [`Event`] for each difference to an
//! [`EventLog`], with the item's new fingerprint as a checkpoint in the same transaction.
//!
//! Per-item checkpoints make a commit cost the same however many items there are, keep a few bytes per item in
//! memory between polls, and let the first poll after a restart (or a crash) report exactly what changed while the
//! adapter was away. Every observed change gets an event id of its own (the poll's sequence number is part of the
//! key handed to [`Snapshot::event`]), so an item that returns to an earlier state still makes a new event. The
//! first start reports nothing: the items then are the TRS Base.
//!
//! A listing that can tell when it may have changed ([`Snapshot::version`], such as an in-process store every write
//! passes through) is not listed again while its version stays the one the last successful poll listed at: an idle
//! poll then costs nothing however many items there are.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use oslc_events::poller::{Snapshot, SnapshotPoller, SourceError};
//! use oslc_events::{ChangeKind, Event, EventLog, MemoryEventLog};
//! use oxrdf::NamedNode;
//!
//! /// Jobs of a CI server, listed as (name, last build status).
//! struct Jobs(Mutex<Vec<(String, String)>>);
//!
//! #[async_trait::async_trait]
//! impl Snapshot for Jobs {
//!     type Item = (String, String);
//!     async fn list(&self) -> Result<Vec<Self::Item>, SourceError> {
//!         Ok(self.0.lock().unwrap().clone())
//!     }
//!     fn key(&self, job: &Self::Item) -> Option<String> {
//!         Some(job.0.clone())
//!     }
//!     fn fingerprint(&self, job: &Self::Item) -> Vec<u8> {
//!         job.1.as_bytes().to_vec()
//!     }
//!     fn event(&self, key: &str, before: Option<&[u8]>, now: Option<&Self::Item>, id: &str) -> Result<Option<Event>, SourceError> {
//!         let kind = match (before, now) {
//!             (None, _) => ChangeKind::Creation,
//!             (_, None) => ChangeKind::Deletion,
//!             _ => ChangeKind::Modification,
//!         };
//!         let changed = NamedNode::new(format!("http://ci.example/jobs/{key}"))?;
//!         Ok(Some(Event::new(kind, changed).with_id_from(id)))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let jobs = Arc::new(Jobs(Mutex::new(vec![("build".into(), "passed".into())])));
//! let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
//! let poller = SnapshotPoller::new(jobs.clone(), log.clone(), "ci-poller");
//! assert!(poller.poll().await?.is_empty(), "the first poll is the Base");
//! jobs.0.lock().unwrap()[0].1 = "failed".into();
//! jobs.0.lock().unwrap().push(("deploy".into(), "passed".into()));
//! let events = poller.poll().await?;
//! assert_eq!(events.iter().map(|e| e.kind).collect::<Vec<_>>(), [ChangeKind::Modification, ChangeKind::Creation]);
//! jobs.0.lock().unwrap()[0].1 = "passed".into();
//! jobs.0.lock().unwrap()[0].1 = "failed".into();
//! assert!(poller.poll().await?.is_empty(), "between polls nothing is seen");
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::event::Event;
use crate::log::{Checkpoint, EventLog};

/// What a [`Snapshot`] may fail with: the tool's own error, boxed.
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

/// A tool's items as a list that can be taken again and again.
#[async_trait]
pub trait Snapshot: Send + Sync + 'static {
    /// One item as the listing gives it.
    type Item: Send + Sync;

    /// Every item now.
    async fn list(&self) -> Result<Vec<Self::Item>, SourceError>;

    /// The item's stable key (an id); `None` skips the item.
    fn key(&self, item: &Self::Item) -> Option<String>;

    /// A small digest of what matters about the item: equal bytes mean unchanged. It is kept as a checkpoint (a
    /// hash and a flag or two are plenty).
    fn fingerprint(&self, item: &Self::Item) -> Vec<u8>;

    /// The event for the item `key` that had fingerprint `before` (`None`: new) and is now `now` (`None`: gone),
    /// with its id made from `id` (see [`Event::with_id_from`]); `None` when the difference is not worth an event.
    ///
    /// # Errors
    /// An item that cannot be made into its event; the poll then appends nothing.
    fn event(
        &self,
        key: &str,
        before: Option<&[u8]>,
        now: Option<&Self::Item>,
        id: &str,
    ) -> Result<Option<Event>, SourceError>;

    /// A number that changes whenever the listing may have changed, for tools that can tell (an in-process
    /// store every write passes through): while it is the one the last successful poll listed at, a poll lists
    /// nothing and costs nothing. `None` (the default) lists at every poll.
    fn version(&self) -> Option<u64> {
        None
    }
}

#[async_trait]
impl<S: Snapshot> Snapshot for Arc<S> {
    type Item = S::Item;
    async fn list(&self) -> Result<Vec<Self::Item>, SourceError> {
        S::list(self).await
    }
    fn key(&self, item: &Self::Item) -> Option<String> {
        S::key(self, item)
    }
    fn fingerprint(&self, item: &Self::Item) -> Vec<u8> {
        S::fingerprint(self, item)
    }
    fn event(
        &self,
        key: &str,
        before: Option<&[u8]>,
        now: Option<&Self::Item>,
        id: &str,
    ) -> Result<Option<Event>, SourceError> {
        S::event(self, key, before, now, id)
    }
    fn version(&self) -> Option<u64> {
        S::version(self)
    }
}

/// Why a poll failed; nothing of the failed batch was appended, and the next poll sees its changes again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PollError {
    /// The tool could not be listed.
    #[error("listing the source: {0}")]
    Source(#[source] SourceError),
    /// An item could not be made into its event.
    #[error("making the event of {key}: {source}")]
    Item {
        /// The item's key.
        key: String,
        /// Why.
        #[source]
        source: SourceError,
    },
    /// The event log failed.
    #[error(transparent)]
    Log(#[from] crate::Error),
    /// A checkpoint of this poller holds something else.
    #[error("checkpoint {0} is not this poller's")]
    Checkpoint(String),
}

/// The most events one poll appends in one transaction.
const BATCH: usize = 256;

/// The fingerprints of the last poll, and the sequence number of the last batch that appended.
struct Known {
    items: BTreeMap<String, Vec<u8>>,
    sequence: u64,
    /// The source's [`Snapshot::version`] that the last successful poll listed at.
    listed_at: Option<u64>,
}

/// The events and checkpoints of one batch of a poll, numbered `sequence`.
struct Batch {
    sequence: u64,
    events: Vec<Event>,
    checkpoints: Vec<Checkpoint>,
    updated: Vec<(String, Option<Vec<u8>>)>,
}

impl Batch {
    fn new(sequence: u64) -> Self {
        Self { sequence, events: Vec::new(), checkpoints: Vec::new(), updated: Vec::new() }
    }
}

/// Lists a [`Snapshot`] every interval and logs what changed; see the [module](self).
///
/// Its checkpoints are named after it: `<name>:sequence` and `<name>:item:<key>`.
pub struct SnapshotPoller<S: Snapshot> {
    source: S,
    log: Arc<dyn EventLog>,
    name: String,
    interval: Duration,
    known: tokio::sync::Mutex<Option<Known>>,
}

impl<S: Snapshot> std::fmt::Debug for SnapshotPoller<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotPoller")
            .field("name", &self.name)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl<S: Snapshot> SnapshotPoller<S> {
    /// A poller of `source` into `log`, its checkpoints named after `name`, every 2 s.
    pub fn new(source: S, log: Arc<dyn EventLog>, name: impl Into<String>) -> Self {
        Self { source, log, name: name.into(), interval: Duration::from_secs(2), known: tokio::sync::Mutex::new(None) }
    }

    /// Polls every `interval` in [`SnapshotPoller::run`].
    #[must_use]
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// The name of the sequence checkpoint.
    pub fn sequence_checkpoint(&self) -> String {
        format!("{}:sequence", self.name)
    }

    /// The prefix of the per-item checkpoints (followed by the item's key).
    pub fn item_prefix(&self) -> String {
        format!("{}:item:", self.name)
    }

    async fn load(&self) -> Result<Option<Known>, PollError> {
        let name = self.sequence_checkpoint();
        let Some(bytes) = self.log.checkpoint(&name).await? else { return Ok(None) };
        let sequence =
            <[u8; 8]>::try_from(bytes.as_slice()).map(u64::from_be_bytes).map_err(|_| PollError::Checkpoint(name))?;
        let prefix = self.item_prefix();
        let items = self
            .log
            .checkpoints(&prefix)
            .await?
            .into_iter()
            .map(|(name, bytes)| (name[prefix.len()..].to_owned(), bytes))
            .collect();
        Ok(Some(Known { items, sequence, listed_at: None }))
    }

    /// One poll: lists the source, appends the events of what changed with the changed items' fingerprints as
    /// checkpoints (in batches of at most 256 events, each one transaction), returns the events appended.
    ///
    /// # Errors
    /// Source or event log failures; the batch that failed is not appended, and the next poll sees it again.
    pub async fn poll(&self) -> Result<Vec<Event>, PollError> {
        self.poll_collecting(true).await
    }

    async fn poll_collecting(&self, collect: bool) -> Result<Vec<Event>, PollError> {
        // Listed under the lock, so two polls never compare lists taken in the other order; the version is read
        // before the list, so a change made while listing makes the next poll list again.
        let mut known = self.known.lock().await;
        let version = self.source.version();
        if version.is_some() && known.as_ref().is_some_and(|known| known.listed_at == version) {
            return Ok(Vec::new());
        }
        let listed = self.source.list().await.map_err(PollError::Source)?;
        if known.is_none() {
            *known = self.load().await?;
        }
        let prefix = self.item_prefix();
        let Some(current) = known.as_mut() else {
            let mut checkpoints = vec![Checkpoint::new(self.sequence_checkpoint(), 0u64.to_be_bytes().to_vec())];
            let mut items = BTreeMap::new();
            for item in &listed {
                if let Some(key) = self.source.key(item) {
                    let fingerprint = self.source.fingerprint(item);
                    checkpoints.push(Checkpoint::new(format!("{prefix}{key}"), fingerprint.clone()));
                    items.insert(key, fingerprint);
                }
            }
            tracing::info!(poller = %self.name, items = items.len(), "first poll: the current items are the TRS Base");
            self.log.append(Vec::new(), checkpoints).await?;
            *known = Some(Known { items, sequence: 0, listed_at: version });
            return Ok(Vec::new());
        };
        let mut batch = Batch::new(current.sequence + 1);
        let mut appended = Vec::new();
        let mut seen = HashSet::new();
        for item in &listed {
            let Some(key) = self.source.key(item) else { continue };
            let fingerprint = self.source.fingerprint(item);
            let before = current.items.get(&key);
            if before == Some(&fingerprint) {
                seen.insert(key);
                continue;
            }
            let id = format!("poll:{}:{key}", batch.sequence);
            let event = self
                .source
                .event(&key, before.map(Vec::as_slice), Some(item), &id)
                .map_err(|source| PollError::Item { key: key.clone(), source })?;
            batch.events.extend(event);
            batch.checkpoints.push(Checkpoint::new(format!("{prefix}{key}"), fingerprint.clone()));
            batch.updated.push((key.clone(), Some(fingerprint)));
            seen.insert(key);
            if batch.events.len() >= BATCH {
                self.commit(current, &mut batch, collect, &mut appended).await?;
            }
        }
        let gone: Vec<String> = current.items.keys().filter(|key| !seen.contains(*key)).cloned().collect();
        for key in gone {
            let id = format!("poll:{}:{key}:gone", batch.sequence);
            let event = self
                .source
                .event(&key, current.items.get(&key).map(Vec::as_slice), None, &id)
                .map_err(|source| PollError::Item { key: key.clone(), source })?;
            batch.events.extend(event);
            batch.checkpoints.push(Checkpoint::removal(format!("{prefix}{key}")));
            batch.updated.push((key, None));
            if batch.events.len() >= BATCH {
                self.commit(current, &mut batch, collect, &mut appended).await?;
            }
        }
        self.commit(current, &mut batch, collect, &mut appended).await?;
        current.listed_at = version;
        Ok(appended)
    }

    /// Appends a batch with its checkpoints and the poll sequence, then records the batch's fingerprints as known
    /// and starts the next batch; an empty batch appends nothing.
    async fn commit(
        &self,
        current: &mut Known,
        batch: &mut Batch,
        collect: bool,
        appended: &mut Vec<Event>,
    ) -> Result<(), PollError> {
        if batch.checkpoints.is_empty() {
            return Ok(());
        }
        let sequence = batch.sequence;
        let full = std::mem::replace(batch, Batch::new(sequence + 1));
        let mut checkpoints = full.checkpoints;
        checkpoints.push(Checkpoint::new(self.sequence_checkpoint(), sequence.to_be_bytes().to_vec()));
        let events = match self.log.append(full.events, checkpoints).await {
            Ok(events) => events,
            Err(error) => {
                *batch = Batch::new(sequence);
                return Err(error.into());
            }
        };
        // Only what was committed is known: a failed append leaves the fingerprints as they were.
        current.sequence = sequence;
        for (key, fingerprint) in full.updated {
            match fingerprint {
                Some(fingerprint) => current.items.insert(key, fingerprint),
                None => current.items.remove(&key),
            };
        }
        for event in &events {
            tracing::info!(poller = %self.name, event_order = event.order_number(), changed = %event.changed, kind = ?event.kind, "change");
        }
        if collect {
            appended.extend(events);
        }
        Ok(())
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
        tracing::info!(poller = %self.name, interval_ms = self.interval.as_millis() as u64, "polling");
        let mut failing = false;
        loop {
            let ok = match self.poll_collecting(false).await {
                Ok(_) => {
                    if failing {
                        tracing::info!(poller = %self.name, "polling works again");
                    }
                    true
                }
                Err(error) if failing => {
                    tracing::debug!(poller = %self.name, %error, "polling still fails");
                    false
                }
                Err(error) => {
                    tracing::warn!(poller = %self.name, %error, "polling failed; will retry every interval");
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
