//! Execution events through MongoDB: a change stream on st2's `action_execution_d_b` says *which* execution changed,
//! at once; the execution is then read through st2's API (its own JSON, secrets masked) and compared with its
//! checkpoint, so an event is appended only for a status the log has not recorded, with the new checkpoint in the
//! same transaction. On every (re)start, and every [`SAFETY_POLL`] while the stream runs, the executions are listed
//! and compared too (the [`SnapshotPoller`] of [`ExecutionListing`], sharing the checkpoints): what changed while the
//! adapter was away, or while the stream was down, is reported then, so a restart loses nothing and no resume token
//! is needed. One task does both, so a change is never appended twice. Where MongoDB offers no change streams (a
//! standalone server), executions are polled every interval instead.
//!
//! ```no_run
//! # async fn run(listing: adapter_stackstorm::events::ExecutionListing, poller: oslc_events::poller::SnapshotPoller<adapter_stackstorm::events::ExecutionListing>, log: std::sync::Arc<dyn oslc_events::EventLog>) {
//! use adapter_stackstorm::execution_watch::ExecutionWatch;
//! let watch = ExecutionWatch::new("mongodb://127.0.0.1:27017/st2?replicaSet=rs0", listing, poller, log);
//! watch.run(std::future::pending()).await;
//! # }
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bson::Document;
use futures_util::StreamExt as _;
use oslc_events::backoff::Backoff;
use oslc_events::poller::{Snapshot as _, SnapshotPoller};
use oslc_events::{Checkpoint, EventLog};

use crate::events::ExecutionListing;
use crate::monitor::is_unsupported;
use crate::st2::St2Error;

/// st2's collection of executions.
pub const EXECUTIONS: &str = "action_execution_d_b";
/// How often the executions are listed and compared while the stream runs, in case a change was missed.
pub const SAFETY_POLL: Duration = Duration::from_secs(30);

/// Watches st2's executions (see the [module docs](self)).
pub struct ExecutionWatch {
    uri: String,
    listing: ExecutionListing,
    poller: SnapshotPoller<ExecutionListing>,
    log: Arc<dyn EventLog>,
}

impl std::fmt::Debug for ExecutionWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutionWatch").finish_non_exhaustive()
    }
}

impl ExecutionWatch {
    /// A watch of the st2 database at `uri` (the database it names, `st2` when none), reading executions with
    /// `listing`'s store and appending their events to `log`; `poller` (over an equal listing) resynchronizes.
    #[must_use]
    pub fn new(
        uri: impl Into<String>,
        listing: ExecutionListing,
        poller: SnapshotPoller<ExecutionListing>,
        log: Arc<dyn EventLog>,
    ) -> Self {
        Self { uri: uri.into(), listing, poller, log }
    }

    /// Reads execution `id` and appends its event if its status is not the one its checkpoint records.
    async fn check(&self, id: &str) -> Result<(), String> {
        let execution = match self.listing.store().execution(id).await {
            Ok(execution) => execution,
            // Removed (st2's garbage collector) before it could be read: nothing to report.
            Err(St2Error::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        };
        let key = format!("{}{id}", self.poller.item_prefix());
        let before = self.log.checkpoint(&key).await.map_err(|e| e.to_string())?;
        let now = self.listing.fingerprint(&execution);
        if before.as_deref() == Some(now.as_slice()) {
            return Ok(());
        }
        let source_key = format!("stream-{}", uuid::Uuid::new_v4().simple());
        let event =
            self.listing.event(id, before.as_deref(), Some(&execution), &source_key).map_err(|e| e.to_string())?;
        self.log
            .append(event.into_iter().collect(), vec![Checkpoint::new(key, now)])
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Watches until `shutdown` completes; MongoDB failures are logged and retried with backoff.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        let mut backoff = Backoff::new();
        let collection = match mongodb::Client::with_uri_str(&self.uri).await {
            Ok(client) => {
                client.database(&crate::st2::document::database_of(&self.uri)).collection::<Document>(EXECUTIONS)
            }
            Err(error) => {
                tracing::error!(%error, "invalid --mongo-uri: polling the executions instead");
                return self.poller.run(shutdown, None).await;
            }
        };
        loop {
            // The stream is opened before the executions are listed, so nothing falls between the two.
            let mut stream = match collection.watch().await {
                Ok(stream) => stream,
                Err(error) if is_unsupported(&error) => {
                    tracing::warn!(%error, "MongoDB offers no change streams: polling the executions instead");
                    return self.poller.run(shutdown, None).await;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot watch the executions yet; will retry");
                    if !backoff.sleep_unless(shutdown.as_mut()).await {
                        return;
                    }
                    continue;
                }
            };
            tracing::info!("watching st2.{EXECUTIONS} through a change stream");
            // A task of its own reads the stream: a read is never cancelled part way (the driver does not allow
            // polling a stream again after that), and this task stays free to list and to stop.
            let (sender, mut changed) = tokio::sync::mpsc::channel::<Result<Option<String>, String>>(256);
            let reader = tokio::spawn(async move {
                loop {
                    let read = match stream.next().await {
                        Some(Ok(change)) => Ok(change
                            .document_key
                            .as_ref()
                            .and_then(|k| k.get_object_id("_id").ok())
                            .map(|id| id.to_hex())),
                        Some(Err(error)) => Err(error.to_string()),
                        None => Err("the server closed the stream".to_owned()),
                    };
                    let last = read.is_err();
                    if sender.send(read).await.is_err() || last {
                        return;
                    }
                }
            });
            let mut safety = tokio::time::interval(SAFETY_POLL);
            loop {
                tokio::select! {
                    () = &mut shutdown => {
                        reader.abort();
                        return;
                    }
                    _ = safety.tick() => {
                        // The first tick is at once: the resynchronization after (re)opening the stream.
                        if let Err(error) = self.poller.poll().await {
                            tracing::warn!(%error, "listing the executions failed; will try again");
                        }
                    }
                    read = changed.recv() => match read {
                        Some(Ok(Some(id))) => {
                            if let Err(error) = self.check(&id).await {
                                // The next listing compares it again.
                                tracing::warn!(%error, execution = %id, "could not record an execution's change");
                            }
                            backoff.reset();
                        }
                        Some(Ok(None)) => {}
                        Some(Err(error)) => {
                            tracing::warn!(%error, "the executions' change stream failed; reopening it");
                            break;
                        }
                        None => break,
                    },
                }
            }
            reader.abort();
            if !backoff.sleep_unless(shutdown.as_mut()).await {
                return;
            }
        }
    }
}
