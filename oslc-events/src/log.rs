//! The durable, append-only event log: strictly increasing orders, reads forwards and backwards, and named
//! checkpoints committed in the same transaction as the events they cover.
//!
//! ```
//! use oslc_events::{ChangeKind, Checkpoint, Event, EventLog, MemoryEventLog};
//! use oxrdf::NamedNode;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let log = MemoryEventLog::new();
//! let changed = NamedNode::new("http://tool.example/r/1")?;
//! let events = vec![Event::new(ChangeKind::Creation, changed.clone()), Event::new(ChangeKind::Deletion, changed)];
//! // The events and the source position they came from commit together.
//! log.append(events, vec![Checkpoint::new("source", "position-2")]).await?;
//! assert_eq!(log.head().await?, 2);
//! assert_eq!(log.read_backward(None, 1).await?[0].kind, ChangeKind::Deletion);
//! assert_eq!(log.checkpoint("source").await?.as_deref(), Some(&b"position-2"[..]));
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use tokio::sync::watch;

use crate::Result;
use crate::event::Event;

/// A named position kept with the log: a change stream's resume token, a relay's last delivered order, the last
/// known state of one watched item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Whose checkpoint, such as `monitor` or `relay:st2_event`.
    pub name: String,
    /// Opaque bytes; `None` removes the checkpoint.
    pub value: Option<Vec<u8>>,
}

impl Checkpoint {
    /// A checkpoint `name` = `value`.
    #[must_use]
    pub fn new(name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Self { name: name.into(), value: Some(value.into()) }
    }

    /// The removal of checkpoint `name`.
    #[must_use]
    pub fn removal(name: impl Into<String>) -> Self {
        Self { name: name.into(), value: None }
    }
}

/// The event log. Object safe: adapters hold it as `Arc<dyn EventLog>`.
///
/// Every backend passes the conformance suite in `oslc_events::conformance` (feature `conformance`).
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Appends `events` with orders following the last one, and writes (or removes) `checkpoints`, all in one
    /// transaction: after a crash either all of it is there or none. Events whose id is already in the log are
    /// skipped (so re-processing a change appends nothing). Returns the events appended, with their orders.
    async fn append(&self, events: Vec<Event>, checkpoints: Vec<Checkpoint>) -> Result<Vec<Event>>;

    /// Up to `limit` events with order greater than `after`, oldest first.
    async fn read_forward(&self, after: u64, limit: usize) -> Result<Vec<Event>>;

    /// Up to `limit` events with order less than `before` (all when `None`), newest first.
    async fn read_backward(&self, before: Option<u64>, limit: usize) -> Result<Vec<Event>>;

    /// The order of the newest event, or 0 for an empty log.
    async fn head(&self) -> Result<u64>;

    /// The value of checkpoint `name`.
    async fn checkpoint(&self, name: &str) -> Result<Option<Vec<u8>>>;

    /// Every checkpoint whose name starts with `prefix`, by name.
    async fn checkpoints(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>>;

    /// Writes (or removes) a checkpoint on its own (a relay recording what it delivered).
    async fn set_checkpoint(&self, checkpoint: Checkpoint) -> Result<()>;

    /// A receiver of the head order, changed after every append that added events.
    fn subscribe(&self) -> watch::Receiver<u64>;
}

/// An event log in memory (tests, embedded demos). Nothing survives the process.
#[derive(Debug)]
pub struct MemoryEventLog {
    state: Mutex<MemoryState>,
    head: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct MemoryState {
    events: BTreeMap<u64, Event>,
    ids: HashMap<String, u64>,
    checkpoints: BTreeMap<String, Vec<u8>>,
}

impl MemoryState {
    fn apply(&mut self, checkpoint: Checkpoint) {
        match checkpoint.value {
            Some(value) => self.checkpoints.insert(checkpoint.name, value),
            None => self.checkpoints.remove(&checkpoint.name),
        };
    }
}

impl Default for MemoryEventLog {
    fn default() -> Self {
        Self { state: Mutex::default(), head: watch::Sender::new(0) }
    }
}

impl MemoryEventLog {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, MemoryState> {
        // Every change is applied whole before the lock is released, so a poisoned map is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl EventLog for MemoryEventLog {
    async fn append(&self, events: Vec<Event>, checkpoints: Vec<Checkpoint>) -> Result<Vec<Event>> {
        let mut state = self.state();
        let mut next = state.events.keys().next_back().copied().unwrap_or(0);
        let mut appended = Vec::new();
        for mut event in events {
            if state.ids.contains_key(event.id.as_str()) || appended.iter().any(|e: &Event| e.id == event.id) {
                continue;
            }
            next += 1;
            event.order = std::num::NonZeroU64::new(next);
            appended.push(event);
        }
        for event in &appended {
            state.ids.insert(event.id.as_str().to_owned(), event.order_number());
            state.events.insert(event.order_number(), event.clone());
        }
        for checkpoint in checkpoints {
            state.apply(checkpoint);
        }
        drop(state);
        if let Some(last) = appended.last() {
            self.head.send_replace(last.order_number());
        }
        Ok(appended)
    }

    async fn read_forward(&self, after: u64, limit: usize) -> Result<Vec<Event>> {
        Ok(self.state().events.range(after.saturating_add(1)..).take(limit).map(|(_, e)| e.clone()).collect())
    }

    async fn read_backward(&self, before: Option<u64>, limit: usize) -> Result<Vec<Event>> {
        let state = self.state();
        let range = state.events.range(..before.unwrap_or(u64::MAX));
        Ok(range.rev().take(limit).map(|(_, e)| e.clone()).collect())
    }

    async fn head(&self) -> Result<u64> {
        Ok(self.state().events.keys().next_back().copied().unwrap_or(0))
    }

    async fn checkpoint(&self, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.state().checkpoints.get(name).cloned())
    }

    async fn checkpoints(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let state = self.state();
        Ok(state
            .checkpoints
            .range(prefix.to_owned()..)
            .take_while(|(name, _)| name.starts_with(prefix))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect())
    }

    async fn set_checkpoint(&self, checkpoint: Checkpoint) -> Result<()> {
        self.state().apply(checkpoint);
        Ok(())
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }
}
