//! The embedded, durable event log: one redb file (feature `redb`, the default).

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use tokio::sync::watch;

use crate::event::{Event, StoredEvent};
use crate::log::{Checkpoint, EventLog};
use crate::{Error, Result};

const EVENTS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("events");
const IDS: TableDefinition<'_, &str, u64> = TableDefinition::new("event_ids");
const CHECKPOINTS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("checkpoints");

/// An event log in one redb file. Every append is one durable transaction (fsync'd before it returns), so a crash
/// loses nothing that `append` reported, and an event and its checkpoint are there together or not at all.
///
/// redb's calls block, so they run on tokio's blocking pool.
///
/// After an I/O error (a full disk, say) redb refuses every later transaction; this log then closes the file and
/// opens it again at the next call, so writing resumes as soon as the cause is gone, without a restart. What
/// failed was not committed, and the caller retries it.
///
/// redb's page cache is bounded to [`RedbEventLog::DEFAULT_CACHE_BYTES`] (redb's own default is 1 GiB, which keeps
/// every page written in memory); [`RedbEventLog::open_with_cache`] sets another bound.
#[derive(Debug, Clone)]
pub struct RedbEventLog {
    path: Arc<PathBuf>,
    cache_bytes: usize,
    db: Arc<RwLock<Option<Database>>>,
    head: Arc<watch::Sender<u64>>,
}

fn storage(what: &'static str) -> impl Fn(redb::Error) -> Error {
    move |e| Error::storage(what, e)
}

impl RedbEventLog {
    /// The default bound of redb's page cache: 4 MiB, which holds the B-tree's interior pages and the recent
    /// events that relays and TRS readers ask for.
    pub const DEFAULT_CACHE_BYTES: usize = 4 * 1024 * 1024;

    /// Opens (or creates) the log at `path`.
    ///
    /// # Errors
    /// [`Error::Storage`] if the file cannot be opened or is not a redb database.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with_cache(path, Self::DEFAULT_CACHE_BYTES)
    }

    /// Opens (or creates) the log at `path` with at most `cache_bytes` of page cache.
    ///
    /// # Errors
    /// As [`RedbEventLog::open`].
    pub fn open_with_cache(path: impl AsRef<Path>, cache_bytes: usize) -> Result<Self> {
        let db = create(path.as_ref(), cache_bytes)
            .map_err(|e| Error::storage(format!("open {}", path.as_ref().display()), e))?;
        let txn = db.begin_write().map_err(|e| storage("begin")(e.into()))?;
        {
            txn.open_table(EVENTS).map_err(|e| storage("create tables")(e.into()))?;
            txn.open_table(IDS).map_err(|e| storage("create tables")(e.into()))?;
            txn.open_table(CHECKPOINTS).map_err(|e| storage("create tables")(e.into()))?;
        }
        txn.commit().map_err(|e| storage("commit")(e.into()))?;
        let head = head_of(&db)?;
        Ok(Self {
            path: Arc::new(path.as_ref().to_owned()),
            cache_bytes,
            db: Arc::new(RwLock::new(Some(db))),
            head: Arc::new(watch::Sender::new(head)),
        })
    }

    fn with_db<T>(&self, f: impl FnOnce(&Database) -> Result<T>) -> Result<T> {
        let result = {
            let guard = self.db.read().unwrap_or_else(PoisonError::into_inner);
            match guard.as_ref() {
                Some(db) => f(db),
                None => Err(Error::Storage {
                    message: format!("{} is closed after an I/O error; reopening it", self.path.display()),
                    source: None,
                }),
            }
        };
        if result.as_ref().err().is_some_and(needs_reopen) {
            self.reopen();
        }
        result
    }

    /// Closes the database and opens it again (redb refuses every transaction after an I/O error).
    fn reopen(&self) {
        let mut guard = self.db.write().unwrap_or_else(PoisonError::into_inner);
        *guard = None;
        match create(self.path.as_ref(), self.cache_bytes) {
            Ok(db) => {
                tracing::warn!(path = %self.path.display(), "event log reopened after an I/O error");
                *guard = Some(db);
            }
            Err(error) => {
                tracing::error!(path = %self.path.display(), %error, "cannot reopen the event log; will try again")
            }
        }
    }

    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce(&Database) -> Result<T> + Send + 'static) -> Result<T> {
        let log = self.clone();
        tokio::task::spawn_blocking(move || log.with_db(f)).await.map_err(|e| Error::storage("blocking task", e))?
    }
}

fn create(path: &Path, cache_bytes: usize) -> Result<Database, redb::DatabaseError> {
    Database::builder().set_cache_size(cache_bytes).create(path)
}

fn head_of(db: &Database) -> Result<u64> {
    let txn = db.begin_read().map_err(|e| storage("read")(e.into()))?;
    let table = txn.open_table(EVENTS).map_err(|e| storage("read")(e.into()))?;
    let last = table.last().map_err(|e| storage("read")(e.into()))?;
    Ok(last.map_or(0, |(k, _)| k.value()))
}

/// Whether `error` leaves redb unusable until the file is opened again.
fn needs_reopen(error: &Error) -> bool {
    match error {
        Error::Storage { source: None, .. } => true,
        Error::Storage { source: Some(source), .. } => source
            .downcast_ref::<redb::Error>()
            .is_some_and(|e| matches!(e, redb::Error::Io(_) | redb::Error::PreviousIo)),
        _ => false,
    }
}

fn write_checkpoint(table: &mut redb::Table<'_, &str, &[u8]>, checkpoint: &Checkpoint) -> Result<()> {
    match &checkpoint.value {
        Some(value) => table.insert(checkpoint.name.as_str(), value.as_slice()).map(|_| ()),
        None => table.remove(checkpoint.name.as_str()).map(|_| ()),
    }
    .map_err(|e| storage("write checkpoint")(e.into()))
}

#[async_trait]
impl EventLog for RedbEventLog {
    async fn append(&self, events: Vec<Event>, checkpoints: Vec<Checkpoint>) -> Result<Vec<Event>> {
        let appended = self
            .blocking(move |db| {
                let txn = db.begin_write().map_err(|e| storage("begin append")(e.into()))?;
                let mut appended = Vec::new();
                {
                    let mut table = txn.open_table(EVENTS).map_err(|e| storage("append")(e.into()))?;
                    let mut ids = txn.open_table(IDS).map_err(|e| storage("append")(e.into()))?;
                    let mut next = table.last().map_err(|e| storage("append")(e.into()))?.map_or(0, |(k, _)| k.value());
                    for mut event in events {
                        if ids.get(event.id.as_str()).map_err(|e| storage("append")(e.into()))?.is_some() {
                            continue;
                        }
                        next += 1;
                        event.order = std::num::NonZeroU64::new(next);
                        let bytes = StoredEvent::encode(&event)?;
                        table.insert(next, bytes.as_slice()).map_err(|e| storage("append")(e.into()))?;
                        ids.insert(event.id.as_str(), next).map_err(|e| storage("append")(e.into()))?;
                        appended.push(event);
                    }
                    if !checkpoints.is_empty() {
                        let mut table = txn.open_table(CHECKPOINTS).map_err(|e| storage("append")(e.into()))?;
                        for checkpoint in &checkpoints {
                            write_checkpoint(&mut table, checkpoint)?;
                        }
                    }
                }
                txn.commit().map_err(|e| storage("commit append")(e.into()))?;
                Ok(appended)
            })
            .await?;
        if let Some(last) = appended.last() {
            self.head.send_replace(last.order_number());
        }
        Ok(appended)
    }

    async fn read_forward(&self, after: u64, limit: usize) -> Result<Vec<Event>> {
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(|e| storage("read")(e.into()))?;
            let table = txn.open_table(EVENTS).map_err(|e| storage("read")(e.into()))?;
            let mut out = Vec::new();
            for entry in table.range(after.saturating_add(1)..).map_err(|e| storage("read")(e.into()))?.take(limit) {
                let (_, value) = entry.map_err(|e| storage("read")(e.into()))?;
                out.push(StoredEvent::decode(value.value())?);
            }
            Ok(out)
        })
        .await
    }

    async fn read_backward(&self, before: Option<u64>, limit: usize) -> Result<Vec<Event>> {
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(|e| storage("read")(e.into()))?;
            let table = txn.open_table(EVENTS).map_err(|e| storage("read")(e.into()))?;
            let mut out = Vec::new();
            for entry in
                table.range(..before.unwrap_or(u64::MAX)).map_err(|e| storage("read")(e.into()))?.rev().take(limit)
            {
                let (_, value) = entry.map_err(|e| storage("read")(e.into()))?;
                out.push(StoredEvent::decode(value.value())?);
            }
            Ok(out)
        })
        .await
    }

    async fn head(&self) -> Result<u64> {
        self.blocking(head_of).await
    }

    async fn checkpoint(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let name = name.to_owned();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(|e| storage("read checkpoint")(e.into()))?;
            let table = txn.open_table(CHECKPOINTS).map_err(|e| storage("read checkpoint")(e.into()))?;
            let value = table.get(name.as_str()).map_err(|e| storage("read checkpoint")(e.into()))?;
            Ok(value.map(|v| v.value().to_vec()))
        })
        .await
    }

    async fn checkpoints(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let prefix = prefix.to_owned();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(|e| storage("read checkpoints")(e.into()))?;
            let table = txn.open_table(CHECKPOINTS).map_err(|e| storage("read checkpoints")(e.into()))?;
            let mut out = Vec::new();
            for entry in table.range(prefix.as_str()..).map_err(|e| storage("read checkpoints")(e.into()))? {
                let (name, value) = entry.map_err(|e| storage("read checkpoints")(e.into()))?;
                if !name.value().starts_with(prefix.as_str()) {
                    break;
                }
                out.push((name.value().to_owned(), value.value().to_vec()));
            }
            Ok(out)
        })
        .await
    }

    async fn set_checkpoint(&self, checkpoint: Checkpoint) -> Result<()> {
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(|e| storage("write checkpoint")(e.into()))?;
            {
                let mut table = txn.open_table(CHECKPOINTS).map_err(|e| storage("write checkpoint")(e.into()))?;
                write_checkpoint(&mut table, &checkpoint)?;
            }
            txn.commit().map_err(|e| storage("commit checkpoint")(e.into()))
        })
        .await
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }
}
