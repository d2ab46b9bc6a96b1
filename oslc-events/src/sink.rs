//! Where events go: the [`EventSink`] trait, an in-memory bus, and the [`Relay`] that tails a log into a sink,
//! advancing its checkpoint only after the sink acknowledged.
//!
//! ```
//! use std::sync::Arc;
//! use oslc_events::{ChangeKind, Event, EventLog, MemoryBus, MemoryEventLog, Relay};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
//! let bus = Arc::new(MemoryBus::new());
//! let mut received = bus.subscribe();
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let relay = tokio::spawn(Relay::new(log.clone(), bus, "relay:bus").run(async { drop(stopped.await) }));
//! log.append(vec![Event::new(ChangeKind::Creation, oxrdf::NamedNode::new("http://tool.example/r/1")?)], vec![]).await?;
//! assert_eq!(received.recv().await?.order_number(), 1);
//! stop.send(()).ok();
//! relay.await??;
//! # Ok(()) }
//! ```

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast;

use crate::Result;
use crate::backoff::Backoff;
use crate::event::Event;
use crate::log::{Checkpoint, EventLog};

/// Publishes events; returns only when every event is acknowledged (so the caller may then forget them).
#[async_trait]
pub trait EventSink: Send + Sync + 'static {
    /// Publishes `events` in order.
    async fn publish(&self, events: &[Event]) -> Result<()>;
}

/// A route of a [`RoutingSink`]: whether an event goes to its sink.
pub type Route = Arc<dyn Fn(&Event) -> bool + Send + Sync>;

/// Sends each event to the sink of the first route it matches, else to the default sink: for example, one Kafka
/// topic per kind of resource. Each sink gets its events in the log's order; a batch is acknowledged once every
/// sink acknowledged its part (a failure makes the relay send the whole batch again, so a sink may see an event
/// twice, as at-least-once delivery allows).
///
/// ```
/// use std::sync::Arc;
/// use oslc_events::{ChangeKind, Event, EventSink, MemoryBus};
/// use oslc_events::sink::RoutingSink;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (rules, runs) = (Arc::new(MemoryBus::new()), Arc::new(MemoryBus::new()));
/// let (mut rule_events, mut run_events) = (rules.subscribe(), runs.subscribe());
/// let sink = RoutingSink::new(rules).with_route(
///     Arc::new(|e: &Event| e.changed.as_str().starts_with("http://tool.example/runs/")),
///     runs,
/// );
/// let run = Event::new(ChangeKind::Creation, oxrdf::NamedNode::new("http://tool.example/runs/1")?);
/// let rule = Event::new(ChangeKind::Creation, oxrdf::NamedNode::new("http://tool.example/rules/1")?);
/// sink.publish(&[run, rule]).await?;
/// assert_eq!(run_events.recv().await?.changed.as_str(), "http://tool.example/runs/1");
/// assert_eq!(rule_events.recv().await?.changed.as_str(), "http://tool.example/rules/1");
/// # Ok(()) }
/// ```
pub struct RoutingSink {
    default: Arc<dyn EventSink>,
    routes: Vec<(Route, Arc<dyn EventSink>)>,
}

impl std::fmt::Debug for RoutingSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoutingSink").field("routes", &self.routes.len()).finish_non_exhaustive()
    }
}

impl RoutingSink {
    /// Every event to `default`, until routes are added.
    #[must_use]
    pub fn new(default: Arc<dyn EventSink>) -> Self {
        Self { default, routes: Vec::new() }
    }

    /// Events that `route` matches go to `sink` (routes are tried in the order added).
    #[must_use]
    pub fn with_route(mut self, route: Route, sink: Arc<dyn EventSink>) -> Self {
        self.routes.push((route, sink));
        self
    }
}

#[async_trait]
impl EventSink for RoutingSink {
    async fn publish(&self, events: &[Event]) -> Result<()> {
        let mut parts: Vec<Vec<Event>> = vec![Vec::new(); self.routes.len() + 1];
        for event in events {
            let at = self.routes.iter().position(|(route, _)| route(event)).unwrap_or(self.routes.len());
            parts[at].push(event.clone());
        }
        let sinks = self.routes.iter().map(|(_, sink)| sink).chain(std::iter::once(&self.default));
        for (sink, part) in sinks.zip(&parts) {
            if !part.is_empty() {
                sink.publish(part).await?;
            }
        }
        Ok(())
    }
}

/// Handles one event a consumer received; the consumer acknowledges the event only after this succeeds.
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Handles `event`. An error leaves the event unacknowledged, to be handled again.
    async fn handle(&self, event: &Event) -> Result<()>;
}

/// An in-process event bus: a sink whose subscribers each receive every event published after they subscribed.
#[derive(Debug, Clone)]
pub struct MemoryBus {
    sender: broadcast::Sender<Event>,
}

impl Default for MemoryBus {
    fn default() -> Self {
        Self { sender: broadcast::Sender::new(4096) }
    }
}

impl MemoryBus {
    /// A bus.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A receiver of the events published from now on.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

#[async_trait]
impl EventSink for MemoryBus {
    async fn publish(&self, events: &[Event]) -> Result<()> {
        for event in events {
            // No subscriber is not an error: the events stay in the log (and its TRS) for whoever comes later.
            let _ = self.sender.send(event.clone());
        }
        Ok(())
    }
}

/// Remembers the ids of the last events seen, so a consumer handles each event once though delivery is
/// at-least-once.
#[derive(Debug)]
pub struct SeenIds {
    capacity: usize,
    order: VecDeque<String>,
    ids: HashSet<String>,
}

impl SeenIds {
    /// Remembers up to `capacity` ids.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), order: VecDeque::new(), ids: HashSet::new() }
    }

    /// Whether `id` was seen.
    #[must_use]
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Records `id`; returns false if it was seen already.
    pub fn insert(&mut self, id: &str) -> bool {
        if !self.ids.insert(id.to_owned()) {
            return false;
        }
        self.order.push_back(id.to_owned());
        if self.order.len() > self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.ids.remove(&old);
        }
        true
    }
}

/// Tails an [`EventLog`] into an [`EventSink`] from its checkpoint: it publishes a batch, waits for the sink's
/// acknowledgement, then records the batch's last order. While the sink fails it retries with backoff, so an
/// outage delays events but loses none; after a restart it resumes from the checkpoint (so a batch in flight at a
/// crash may be published twice, with the same event ids).
///
/// Neither a failing sink nor a failing log stops it: both are retried with backoff (the sink's from 100 ms up to
/// 2 s, so delivery resumes within seconds of a broker's return). While it cannot deliver, the status given to
/// [`Relay::with_status`] says `false`, for the adapter's readiness.
pub struct Relay {
    log: Arc<dyn EventLog>,
    sink: Arc<dyn EventSink>,
    checkpoint: String,
    batch: usize,
    status: Option<tokio::sync::watch::Sender<bool>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("checkpoint", &self.checkpoint)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// A relay from `log` to `sink` recording its progress as checkpoint `name` (such as `relay:st2_event`).
    #[must_use]
    pub fn new(log: Arc<dyn EventLog>, sink: Arc<dyn EventSink>, name: impl Into<String>) -> Self {
        Self { log, sink, checkpoint: name.into(), batch: 100, status: None }
    }

    /// Reports on `status` whether the relay is delivering: `true` once it is caught up or a publish succeeded,
    /// `false` while publishing or reading the log fails.
    #[must_use]
    pub fn with_status(mut self, status: tokio::sync::watch::Sender<bool>) -> Self {
        self.status = Some(status);
        self
    }

    fn report(&self, delivering: bool) {
        if let Some(status) = &self.status {
            status.send_if_modified(|s| std::mem::replace(s, delivering) != delivering);
        }
    }

    /// Events per publish (default 100: a batch holds its events' resource states in memory).
    #[must_use]
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// The last order this relay delivered (0 before the first).
    ///
    /// # Errors
    /// What the log returns, or a checkpoint that is not an order.
    pub async fn delivered(&self) -> Result<u64> {
        delivered_order(self.log.as_ref(), &self.checkpoint).await
    }

    /// Relays until `shutdown` completes (finishing the batch in flight first).
    ///
    /// # Errors
    /// None so far: the log's errors and the sink's are retried; the `Result` leaves room for configuration errors.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        tokio::pin!(shutdown);
        let mut head = self.log.subscribe();
        let mut backoff = Backoff::new().with_max(Duration::from_secs(2));
        loop {
            let step = async {
                let from = self.delivered().await?;
                let events = self.log.read_forward(from, self.batch).await?;
                Ok::<_, crate::Error>((from, events))
            };
            let (from, events) = match step.await {
                Ok(read) => read,
                Err(error) => {
                    self.report(false);
                    let wait = backoff.next_wait();
                    tracing::error!(%error, retry_in_ms = wait.as_millis() as u64, "the relay cannot read the event log; will retry");
                    tokio::select! {
                        () = &mut shutdown => return Ok(()),
                        () = tokio::time::sleep(wait) => {},
                    }
                    continue;
                }
            };
            if events.is_empty() {
                self.report(true);
                tokio::select! {
                    () = &mut shutdown => return Ok(()),
                    changed = head.changed() => if changed.is_err() { return Ok(()) },
                }
                continue;
            }
            let last = events.last().map_or(from, |e| e.order_number());
            let published = match self.sink.publish(&events).await {
                Ok(()) => self.log.set_checkpoint(Checkpoint::new(&self.checkpoint, last.to_be_bytes().to_vec())).await,
                Err(error) => Err(error),
            };
            match published {
                Ok(()) => {
                    tracing::debug!(event_order = last, events = events.len(), "relayed");
                    self.report(true);
                    backoff.reset();
                }
                Err(error) => {
                    self.report(false);
                    let wait = backoff.next_wait();
                    tracing::warn!(%error, first_order = from + 1, retry_in_ms = wait.as_millis() as u64, "publishing failed; will retry");
                    tokio::select! {
                        () = &mut shutdown => return Ok(()),
                        () = tokio::time::sleep(wait) => {},
                    }
                }
            }
        }
    }
}

/// The last order a relay recorded as delivered under checkpoint `name` (0 before the first).
///
/// # Errors
/// What the log returns, or a checkpoint that is not an order.
pub async fn delivered_order(log: &dyn EventLog, name: &str) -> Result<u64> {
    match log.checkpoint(name).await? {
        None => Ok(0),
        Some(bytes) => <[u8; 8]>::try_from(bytes.as_slice())
            .map(u64::from_be_bytes)
            .map_err(|_| crate::Error::invalid(format!("checkpoint {name} is not an order"))),
    }
}

/// Collects what it is given, for tests and examples.
#[derive(Debug, Default)]
pub struct CollectingHandler {
    events: Mutex<Vec<Event>>,
}

impl CollectingHandler {
    /// The events handled so far.
    #[must_use]
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[async_trait]
impl EventHandler for CollectingHandler {
    async fn handle(&self, event: &Event) -> Result<()> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner).push(event.clone());
        Ok(())
    }
}
