//! The rule change monitor: a MongoDB change stream on `st2.rule_d_b` (CONTRACT.md §2.4), each change classified
//! and appended to the event log together with the stream's resume token, so nothing is lost and nothing is
//! reported twice across restarts and crashes.
//!
//! - insert → created; replace (its document) or update (its `updateDescription` applied to the rule as of the
//!   previous change; the looked-up document when that cannot be done) → enabled, disabled or modified, and nothing
//!   for a re-save that changed nothing; delete → deleted (the `_id → rule` cache names the rule).
//! - The checkpoints hold the resume token and each rule as of that token. On start the monitor resumes after the
//!   token; when the server no longer has that history it reads every rule, appends the differences from the
//!   checkpointed rules, and carries on. The first start reports nothing: the rules then are the TRS Base.
//! - Secret action parameters (`secret: true` in `st2.action_d_b`) are masked in the events' rule state, as the
//!   API masks them.
//! - Group commit: a task reads the stream ahead of the one classifying; changes waiting are appended, in order, in
//!   one transaction with the last checkpoint of each kind (up to [`DEFAULT_GROUP_COMMIT`], see
//!   [`ChangeStreamMonitor::with_group_commit`]), so a burst costs a few commits, not one per change. A group closes
//!   once the previous commit is written (and at least eight are staged, if that many wait), so the next group is
//!   classified while one is written, on the other core; commits land in the stream's order.
//!
//! ```no_run
//! use std::sync::Arc;
//! use adapter_stackstorm::app::{self, AppConfig};
//! use adapter_stackstorm::events::EventFactory;
//! use adapter_stackstorm::monitor::ChangeStreamMonitor;
//! use oslc_events::{EventLog, MemoryEventLog};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
//! let store = Arc::new(adapter_stackstorm::demo::demo_store().await?);
//! let config = AppConfig { public_url: "https://st2-oslc.example".into(), api_token: None, protect_reads: false, body_limit: 1 << 20, frame_ancestors: Vec::new(), oidc: None, oidc_login: None, automation: None };
//! let built = app::build(store, &config, Some(log.clone()))?;
//! let factory = EventFactory::new(built.provider, built.service_provider);
//! let monitor = ChangeStreamMonitor::connect("mongodb://st2-mongo:27017/?replicaSet=rs0", log, factory).await?;
//! monitor.check().await?; // a replica set offers change streams
//! monitor.run(async { drop(tokio::signal::ctrl_c().await) }).await?;
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bson::{Document, doc};
use mongodb::change_stream::ChangeStream;
use mongodb::change_stream::event::{ChangeStreamEvent, OperationType, ResumeToken};
use mongodb::options::FullDocumentType;
use mongodb::{Client, Collection};
use oslc_events::backoff::Backoff;
use oslc_events::{Checkpoint, Event, EventLog};

use crate::events::{EventFactory, RuleChange, RuleSnapshot, classify};
use crate::st2::document::{self, RULES, TRIGGERS};
use crate::st2::{MASKED, Rule};

/// How often the monitor checkpoints its position in a quiet stream: a minute, far inside any oplog window.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(60);

/// The most changes appended in one transaction by default.
pub const DEFAULT_GROUP_COMMIT: usize = 256;

/// The checkpoint of the monitor's position in the change stream (its resume token).
pub const MONITOR_CHECKPOINT: &str = "st2-monitor:token";
/// The prefix of the checkpoints holding each rule as of that position (`st2-monitor:rule:<id>`), each written
/// with the event of its change, so a commit costs the same however many rules there are.
pub const RULE_CHECKPOINT_PREFIX: &str = "st2-monitor:rule:";

/// Why the monitor could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// MongoDB refused change streams (a standalone server): use the polling source.
    #[error("change streams are unavailable: {0}")]
    ChangeStreamsUnavailable(String),
    /// MongoDB failed.
    #[error("MongoDB: {0}")]
    Mongo(#[from] mongodb::error::Error),
    /// The event log failed.
    #[error(transparent)]
    Log(#[from] oslc_events::Error),
    /// A rule document or the checkpoint could not be read.
    #[error("{0}")]
    Data(String),
}

/// What the monitor keeps: where in the stream it is, and the rules as of there.
struct State {
    token: Option<ResumeToken>,
    rules: RuleSnapshot,
}

/// What the stream's reader hands the monitor, in the stream's order.
enum Read {
    Change(Box<ChangeStreamEvent<Document>>),
    /// An empty batch: every change before it was handed over, and this is the server's position after it.
    Quiet(Option<ResumeToken>),
    Failed(mongodb::error::Error),
    /// The server closed the stream (for example, the collection was dropped).
    Ended,
}

/// Reads `stream` into `reads` until the monitor stops listening or the stream fails or ends. One `getMore` at a
/// time (`next_if_any`), so after an empty batch the stream's position is the server's post-batch resume token,
/// safe to checkpoint once every change read before it was handled. The read is never cancelled part way (the
/// driver does not allow polling a stream again after that); the task ends with its stream.
async fn read_stream(mut stream: ChangeStream<ChangeStreamEvent<Document>>, reads: tokio::sync::mpsc::Sender<Read>) {
    loop {
        let asked = std::time::Instant::now();
        let read = match stream.next_if_any().await {
            Ok(Some(change)) => Read::Change(Box::new(change)),
            Ok(None) if stream.is_alive() => Read::Quiet(stream.resume_token()),
            Ok(None) => Read::Ended,
            Err(error) => Read::Failed(error),
        };
        let last = matches!(read, Read::Ended | Read::Failed(_));
        let quiet = matches!(read, Read::Quiet(_));
        if reads.send(read).await.is_err() || last {
            return;
        }
        // A server that answers an empty batch at once is not asked again at once.
        if quiet && asked.elapsed() < Duration::from_millis(50) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Appends what was staged in one transaction (checkpoints apply in order, so the last change's win), then
/// refreshes the cache with the rules it changed. Returns how many changes it held.
async fn commit(
    log: Arc<dyn EventLog>,
    cache: Option<Arc<crate::st2::RuleCache>>,
    staged: Staged,
) -> Result<usize, MonitorError> {
    if staged.changes == 0 {
        return Ok(0);
    }
    let appended = log.append(staged.events, last_of_each(staged.checkpoints)).await?;
    for event in &appended {
        tracing::info!(event_order = event.order_number(), rule = %event.changed, qualifier = %event.qualifiers[0], "rule change");
    }
    if staged.changes > 1 {
        tracing::debug!(changes = staged.changes, events = appended.len(), "changes appended in one transaction");
    }
    if let Some(cache) = &cache {
        for id in &staged.changed {
            cache.refresh(id).await;
        }
    }
    Ok(staged.changes)
}

/// Aborts the reader when the monitor leaves its loop (the reader then drops its stream).
struct Reader(tokio::task::JoinHandle<()>);

impl Drop for Reader {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Changes handled and waiting to be appended together.
#[derive(Default)]
struct Staged {
    events: Vec<Event>,
    checkpoints: Vec<Checkpoint>,
    /// Rules to re-read into the cache once appended.
    changed: Vec<String>,
    changes: usize,
}

/// Changes waiting that are staged together even when no commit is being written: a commit's fixed cost (the
/// sync to disk) is shared by at least this many when that many wait.
const MIN_GROUP: usize = 8;

/// The last checkpoint of each name, in their order: what writing them all in order leaves.
fn last_of_each(checkpoints: Vec<Checkpoint>) -> Vec<Checkpoint> {
    let mut seen = std::collections::HashSet::new();
    let mut last: Vec<Checkpoint> = checkpoints.into_iter().rev().filter(|c| seen.insert(c.name.clone())).collect();
    last.reverse();
    last
}

fn data(error: impl std::fmt::Display) -> MonitorError {
    MonitorError::Data(error.to_string())
}

fn token_checkpoint(token: Option<&ResumeToken>) -> Result<Checkpoint, MonitorError> {
    let mut document = Document::new();
    if let Some(token) = token {
        document.insert("token", bson::to_bson(token).map_err(data)?);
    }
    let mut bytes = Vec::new();
    document.to_writer(&mut bytes).map_err(data)?;
    Ok(Checkpoint::new(MONITOR_CHECKPOINT, bytes))
}

fn decode_token(bytes: &[u8]) -> Result<Option<ResumeToken>, MonitorError> {
    let document = Document::from_reader(bytes).map_err(|e| data(format!("monitor checkpoint: {e}")))?;
    match document.get("token") {
        Some(token) => Ok(Some(bson::from_bson(token.clone()).map_err(data)?)),
        None => Ok(None),
    }
}

fn rule_checkpoint(id: &str, rule: Option<&Rule>) -> Result<Checkpoint, MonitorError> {
    let name = format!("{RULE_CHECKPOINT_PREFIX}{id}");
    Ok(match rule {
        Some(rule) => Checkpoint::new(name, serde_json::to_vec(rule).map_err(data)?),
        None => Checkpoint::removal(name),
    })
}

/// Applies a change event's `updateDescription` to `document`; false when it cannot be applied exactly (truncated
/// arrays, a path through a value that is not a document), so the caller uses the looked-up document instead.
fn apply_update(document: &mut Document, update: &mongodb::change_stream::event::UpdateDescription) -> bool {
    if update.truncated_arrays.as_ref().is_some_and(|t| !t.is_empty()) {
        return false;
    }
    for (path, value) in &update.updated_fields {
        if !set_path(document, path, Some(value.clone())) {
            return false;
        }
    }
    update.removed_fields.iter().all(|path| set_path(document, path, None))
}

/// Sets (or, with `None`, removes) the value at a dotted path, creating documents on the way; array elements are
/// addressed by their index.
fn set_path(document: &mut Document, path: &str, value: Option<bson::Bson>) -> bool {
    let mut parts = path.split('.').peekable();
    let mut current = document;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            match value {
                Some(value) => current.insert(part, value),
                None => current.remove(part),
            };
            return true;
        }
        let next = current.entry(part.to_owned()).or_insert_with(|| bson::Bson::Document(Document::new()));
        current = match next {
            bson::Bson::Document(d) => d,
            bson::Bson::Array(items) => {
                // `tags.0.value`: the element's document (arrays of scalars are replaced whole by MongoDB).
                let Some(index) = parts.next().and_then(|i| i.parse::<usize>().ok()) else { return false };
                let Some(item) = items.get_mut(index) else { return false };
                if parts.peek().is_none() {
                    match value {
                        Some(value) => *item = value,
                        None => *item = bson::Bson::Null,
                    }
                    return true;
                }
                match item {
                    bson::Bson::Document(d) => d,
                    _ => return false,
                }
            }
            _ => return false,
        };
    }
    true
}

/// Watches `st2.rule_d_b` and appends the OSLC Events of rule changes to a log.
pub struct ChangeStreamMonitor {
    rules: Collection<Document>,
    triggers: Collection<Document>,
    actions: Collection<Document>,
    log: Arc<dyn EventLog>,
    factory: EventFactory,
    trigger_cache: HashMap<String, Document>,
    /// Secret parameters by action, and when they were read (an action registered later is read again).
    secret_cache: HashMap<String, (BTreeSet<String>, std::time::Instant)>,
    watching: Option<tokio::sync::watch::Sender<bool>>,
    cache: Option<Arc<crate::st2::RuleCache>>,
    heartbeat: Duration,
    group_commit: usize,
}

impl std::fmt::Debug for ChangeStreamMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeStreamMonitor").finish_non_exhaustive()
    }
}

fn is_lost_history(error: &mongodb::error::Error) -> bool {
    use mongodb::error::ErrorKind;
    // ChangeStreamHistoryLost (286), ChangeStreamFatalError (280), InvalidResumeToken (260), or a token the server
    // cannot read at all.
    match &*error.kind {
        ErrorKind::Command(e) => matches!(e.code, 260 | 280 | 286) || e.message.to_lowercase().contains("resume"),
        _ => error.to_string().to_lowercase().contains("resume"),
    }
}

/// Whether MongoDB refused a change stream because it offers none (a standalone server).
pub(crate) fn is_unsupported(error: &mongodb::error::Error) -> bool {
    use mongodb::error::ErrorKind;
    match &*error.kind {
        // 40573: "The $changeStream stage is only supported on replica sets".
        ErrorKind::Command(e) => e.code == 40573 || e.message.contains("replica set"),
        _ => false,
    }
}

impl ChangeStreamMonitor {
    /// A monitor of the st2 database at `uri` (the database the URI names, `st2` when it names none).
    ///
    /// # Errors
    /// [`MonitorError::Mongo`] when the URI is invalid.
    pub async fn connect(uri: &str, log: Arc<dyn EventLog>, factory: EventFactory) -> Result<Self, MonitorError> {
        crate::install_crypto_provider();
        let client = Client::with_uri_str(uri).await?;
        let database = client.database(&document::database_of(uri));
        Ok(Self {
            rules: database.collection(RULES),
            triggers: database.collection(TRIGGERS),
            actions: database.collection("action_d_b"),
            log,
            factory,
            trigger_cache: HashMap::new(),
            secret_cache: HashMap::new(),
            watching: None,
            cache: None,
            heartbeat: DEFAULT_HEARTBEAT,
            group_commit: DEFAULT_GROUP_COMMIT,
        })
    }

    /// How often the stream's position is checkpointed while no rule changes (default [`DEFAULT_HEARTBEAT`]).
    #[must_use]
    pub fn with_heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every.max(Duration::from_millis(10));
        self
    }

    /// The most changes appended in one transaction (default [`DEFAULT_GROUP_COMMIT`]; 1 appends each change on
    /// its own, as the benchmark compares). Only changes already read from the stream are grouped: the monitor
    /// never waits for more.
    #[must_use]
    pub fn with_group_commit(mut self, max_changes: usize) -> Self {
        self.group_commit = max_changes.max(1);
        self
    }

    /// Checkpoints the stream's position when it moved past what was checkpointed without a rule changing (the
    /// server's post-batch resume token advances with the whole oplog), so after a quiet period longer than the
    /// oplog window the monitor still resumes instead of resynchronizing. Every change the stream returned was
    /// handled before this runs, so the position never skips one.
    async fn heartbeat(&self, state: &mut State, token: Option<ResumeToken>) -> Result<(), MonitorError> {
        if token.is_some() && token != state.token {
            self.log.set_checkpoint(token_checkpoint(token.as_ref())?).await?;
            tracing::debug!("change stream position checkpointed (no rule changed)");
            state.token = token;
        }
        Ok(())
    }

    /// Keeps `cache` current: each rule seen changing is read again through the API once its event is kept.
    #[must_use]
    pub fn with_cache(mut self, cache: Arc<crate::st2::RuleCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Reports on `watching` whether the stream is open (for the adapter's readiness).
    #[must_use]
    pub fn with_status(mut self, watching: tokio::sync::watch::Sender<bool>) -> Self {
        self.watching = Some(watching);
        self
    }

    /// Gives up the status sender (to the polling source that replaces a monitor without change streams).
    #[must_use]
    pub fn status_sender(self) -> tokio::sync::watch::Sender<bool> {
        self.watching.unwrap_or_else(|| tokio::sync::watch::Sender::new(false))
    }

    fn report(&self, watching: bool) {
        if let Some(status) = &self.watching {
            status.send_replace(watching);
        }
    }

    async fn open(
        &self,
        token: Option<ResumeToken>,
    ) -> Result<ChangeStream<ChangeStreamEvent<Document>>, mongodb::error::Error> {
        self.rules
            .watch()
            .full_document(FullDocumentType::UpdateLookup)
            .resume_after(token)
            .max_await_time(Duration::from_millis(500))
            .await
    }

    /// Opens a change stream now, to learn whether the server offers them.
    ///
    /// # Errors
    /// [`MonitorError::ChangeStreamsUnavailable`] for a standalone server; [`MonitorError::Mongo`] otherwise.
    pub async fn check(&self) -> Result<(), MonitorError> {
        match self.open(None).await {
            Ok(_) => Ok(()),
            Err(e) if is_unsupported(&e) => Err(MonitorError::ChangeStreamsUnavailable(e.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// The rule a `rule_d_b` document stores, with its trigger (cached by ref: a Trigger's type and parameters
    /// never change) and its secret parameters masked.
    async fn rule_of(&mut self, document: &Document) -> Result<Rule, MonitorError> {
        let trigger = match document.get_str("trigger") {
            Ok(reference) => match self.trigger_cache.get(reference) {
                Some(trigger) => Some(trigger.clone()),
                None => {
                    let found = self.triggers.find_one(doc! {"ref": reference}).await?;
                    if let Some(found) = &found {
                        self.trigger_cache.insert(reference.to_owned(), found.clone());
                    }
                    found
                }
            },
            Err(_) => None,
        };
        let mut rule =
            document::rule_from_document(document, trigger.as_ref()).map_err(|e| MonitorError::Data(e.to_string()))?;
        let secrets = self.secrets(&rule.action.reference).await?;
        for (name, value) in &mut rule.action.parameters {
            if secrets.contains(name) {
                *value = serde_json::Value::String(MASKED.to_owned());
            }
        }
        Ok(rule)
    }

    /// The parameters action `reference` marks secret.
    async fn secrets(&mut self, reference: &str) -> Result<BTreeSet<String>, MonitorError> {
        if let Some((secrets, read)) = self.secret_cache.get(reference)
            && read.elapsed() < Duration::from_secs(60)
        {
            return Ok(secrets.clone());
        }
        let action = self.actions.find_one(doc! {"ref": reference}).await?;
        let secrets: BTreeSet<String> = action
            .as_ref()
            .and_then(|a| a.get_document("parameters").ok())
            .map(|parameters| {
                parameters
                    .iter()
                    .filter(|(_, spec)| spec.as_document().and_then(|s| s.get_bool("secret").ok()).unwrap_or(false))
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default();
        self.secret_cache.insert(reference.to_owned(), (secrets.clone(), std::time::Instant::now()));
        Ok(secrets)
    }

    async fn read_all(&mut self) -> Result<RuleSnapshot, MonitorError> {
        let mut documents = Vec::new();
        let mut cursor = self.rules.find(doc! {}).await?;
        while cursor.advance().await? {
            documents.push(cursor.deserialize_current()?);
        }
        let mut rules = BTreeMap::new();
        for document in &documents {
            let rule = self.rule_of(document).await?;
            if let Some(id) = rule.id.clone() {
                rules.insert(id, rule);
            }
        }
        Ok(RuleSnapshot { rules })
    }

    /// Reads every rule and appends what changed since `before` (all of it, on a first start, is the Base, so no
    /// events), with a checkpoint at the stream's current position.
    async fn resync(
        &mut self,
        before: Option<RuleSnapshot>,
    ) -> Result<(State, ChangeStream<ChangeStreamEvent<Document>>), MonitorError> {
        // The stream opens first, so a change made while the rules are read is seen by the stream too (at worst
        // twice, which classification turns into nothing).
        let stream = self.open(None).await?;
        let now = self.read_all().await?;
        let token = stream.resume_token();
        let mut events = Vec::new();
        if let Some(before) = &before {
            let token_key = token.as_ref().map(|t| format!("{t:?}")).unwrap_or_default();
            for (id, change) in before.diff(&now) {
                let rule = now.rules.get(&id).or_else(|| before.rules.get(&id));
                let key = format!("resync:{token_key}:{id}:{}", change.as_str());
                events
                    .push(self.factory.event(&id, change, rule, &key).map_err(|e| MonitorError::Data(e.to_string()))?);
            }
            tracing::info!(changes = events.len(), "resynchronized from the rules themselves");
        } else {
            tracing::info!(rules = now.rules.len(), "first start: the current rules are the TRS Base");
        }
        let mut checkpoints = vec![token_checkpoint(token.as_ref())?];
        for (id, rule) in &now.rules {
            checkpoints.push(rule_checkpoint(id, Some(rule))?);
        }
        if let Some(before) = &before {
            for id in before.rules.keys().filter(|id| !now.rules.contains_key(*id)) {
                checkpoints.push(rule_checkpoint(id, None)?);
            }
        }
        self.log.append(events, checkpoints).await?;
        Ok((State { token, rules: now }, stream))
    }

    /// Where to start: resume after the checkpointed token, or resynchronize.
    async fn start(&mut self) -> Result<(State, ChangeStream<ChangeStreamEvent<Document>>), MonitorError> {
        let Some(token) = self.log.checkpoint(MONITOR_CHECKPOINT).await? else {
            return self.resync(None).await;
        };
        let mut rules = RuleSnapshot::default();
        for (name, bytes) in self.log.checkpoints(RULE_CHECKPOINT_PREFIX).await? {
            let id = name.trim_start_matches(RULE_CHECKPOINT_PREFIX).to_owned();
            rules.rules.insert(id, serde_json::from_slice(&bytes).map_err(data)?);
        }
        match decode_token(&token)? {
            None => self.resync(Some(rules)).await,
            Some(token) => match self.open(Some(token.clone())).await {
                Ok(stream) => {
                    tracing::info!("resuming the change stream after the last event processed");
                    Ok((State { token: Some(token), rules }, stream))
                }
                Err(e) if is_lost_history(&e) => {
                    tracing::warn!(error = %e, "the change stream cannot resume from the checkpoint; resynchronizing");
                    self.resync(Some(rules)).await
                }
                Err(e) => Err(e.into()),
            },
        }
    }

    /// Handles one change-stream event: the rule's new state, its classification and its OSLC Event, staged with
    /// the new checkpoints for the next append.
    async fn stage(
        &mut self,
        state: &mut State,
        change: ChangeStreamEvent<Document>,
        staged: &mut Staged,
    ) -> Result<(), MonitorError> {
        let id = change.document_key.as_ref().and_then(|k| k.get_object_id("_id").ok()).map(|id| id.to_hex());
        let token_key = format!("{:?}", change.id);
        let mut checkpoints = Vec::new();
        let is_update = change.operation_type == OperationType::Update;
        let id_for_cache = id.clone();
        let outcome = match (id, change.operation_type) {
            (Some(id), OperationType::Insert | OperationType::Replace | OperationType::Update) => {
                // An update is applied to the rule as of the previous change: the looked-up full document is the
                // rule as it is *now*, which after a restart or a burst of `$set`s is several changes later.
                let updated = match (&change.update_description, state.rules.rules.get(&id)) {
                    (Some(update), Some(before)) if is_update => document::rule_to_document(before)
                        .ok()
                        .and_then(|mut d| apply_update(&mut d, update).then_some(d)),
                    _ => None,
                };
                match updated.as_ref().or(change.full_document.as_ref()) {
                    Some(document) => {
                        let rule = self.rule_of(document).await?;
                        let kind = classify(state.rules.rules.get(&id), Some(&rule));
                        checkpoints.push(rule_checkpoint(&id, Some(&rule))?);
                        state.rules.rules.insert(id.clone(), rule.clone());
                        kind.map(|k| (id, k, Some(rule)))
                    }
                    // Updated, then deleted before the lookup: the delete event follows.
                    None => None,
                }
            }
            (Some(id), OperationType::Delete) => {
                let before = state.rules.rules.remove(&id);
                checkpoints.push(rule_checkpoint(&id, None)?);
                Some((id, RuleChange::Deleted, before))
            }
            _ => None,
        };
        state.token = Some(change.id.clone());
        checkpoints.push(token_checkpoint(state.token.as_ref())?);
        let event = match outcome {
            Some((id, kind, rule)) => Some(
                self.factory
                    .event(&id, kind, rule.as_ref(), &format!("stream:{token_key}"))
                    .map_err(|e| MonitorError::Data(e.to_string()))?,
            ),
            None => None,
        };
        staged.events.extend(event);
        staged.checkpoints.extend(checkpoints);
        staged.changed.extend(id_for_cache);
        staged.changes += 1;
        Ok(())
    }

    /// Takes the outcome of a commit: whether watching goes on (`false`: restart from the checkpoint).
    fn settled(
        &self,
        outcome: Result<Result<usize, MonitorError>, tokio::task::JoinError>,
        backoff: &mut Backoff,
        checkpointed: &mut std::time::Instant,
        log_failing: &mut bool,
    ) -> bool {
        match outcome {
            Ok(Ok(changes)) => {
                if changes > 0 {
                    backoff.reset();
                    *checkpointed = std::time::Instant::now();
                    if *log_failing {
                        tracing::info!("the event log takes changes again");
                        *log_failing = false;
                        self.report(true);
                    }
                }
                true
            }
            // The checkpoint still points before these changes, so they are seen again after the restart.
            Ok(Err(MonitorError::Log(error))) => {
                if !*log_failing {
                    tracing::error!(%error, "cannot append to the event log; will retry the change");
                }
                *log_failing = true;
                self.report(false);
                false
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "could not process a rule change; restarting the stream");
                false
            }
            Err(error) => {
                tracing::error!(%error, "the commit of rule changes failed; restarting the stream");
                false
            }
        }
    }

    /// Watches until `shutdown` completes. MongoDB failures and event-log failures alike are logged and retried
    /// with backoff (100 ms doubling to 10 s) from the last checkpoint, so the monitor never stops on them: what
    /// could not be appended is seen again after the checkpoint. The status of [`ChangeStreamMonitor::with_status`]
    /// says `false` from the moment the stream cannot be (re)opened until it is watching again; a stream that
    /// breaks and reopens at once does not flip it.
    ///
    /// # Errors
    /// None so far; the `Result` leaves room for unrecoverable configuration errors.
    pub async fn run(mut self, shutdown: impl Future<Output = ()> + Send) -> Result<(), MonitorError> {
        tokio::pin!(shutdown);
        let mut backoff = Backoff::new();
        let mut failing = false;
        let mut log_failing = false;
        loop {
            let (mut state, stream) = match self.start().await {
                Ok(started) => started,
                Err(error) => {
                    self.report(false);
                    if failing {
                        tracing::debug!(%error, "still cannot watch the rules");
                    } else {
                        tracing::error!(%error, "cannot watch the rules (MongoDB or the event log); will retry");
                        failing = true;
                    }
                    if !backoff.sleep_unless(shutdown.as_mut()).await {
                        return Ok(());
                    }
                    continue;
                }
            };
            if failing {
                tracing::info!("watching the rules again");
                failing = false;
            }
            tracing::info!("watching st2.rule_d_b through a change stream");
            // After an event-log failure, ready only once a change was appended again.
            if !log_failing {
                self.report(true);
            }
            let (sender, mut reads) = tokio::sync::mpsc::channel(self.group_commit.saturating_mul(2).max(16));
            let _reader = Reader(tokio::spawn(read_stream(stream, sender)));
            let mut checkpointed = std::time::Instant::now();
            // The commit in flight: the next changes are staged while it is written (a pipeline of two), and it
            // is awaited before the next one starts, so the log's order is the stream's.
            let mut in_flight: Option<tokio::task::JoinHandle<Result<usize, MonitorError>>> = None;
            'watching: loop {
                let first = tokio::select! {
                    () = &mut shutdown => return Ok(()),
                    read = reads.recv() => read,
                };
                let Some(first) = first else {
                    tracing::warn!("the change stream's reader stopped; restarting the stream");
                    break;
                };
                // The change taken and those already waiting behind it, up to the group-commit bound.
                let mut staged = Staged::default();
                let mut after = None;
                let mut next = Some(first);
                while let Some(read) = next.take() {
                    let Read::Change(change) = read else {
                        after = Some(read);
                        break;
                    };
                    if let Err(error) = self.stage(&mut state, *change, &mut staged).await {
                        // Nothing staged here was appended: the checkpoint still points before it all.
                        tracing::warn!(%error, "could not process a rule change; restarting the stream");
                        break 'watching;
                    }
                    // Changes waiting join the group while the previous commit is being written, and until a few are
                    // staged; then the group is committed at once, and the next is staged while it is written.
                    let writing = in_flight.as_ref().is_some_and(|c| !c.is_finished());
                    if staged.changes < self.group_commit && (writing || staged.changes < MIN_GROUP) {
                        next = reads.try_recv().ok();
                    }
                }
                if let Some(previous) = in_flight.take()
                    && !self.settled(previous.await, &mut backoff, &mut checkpointed, &mut log_failing)
                {
                    break;
                }
                if staged.changes > 0 {
                    in_flight = Some(tokio::spawn(commit(self.log.clone(), self.cache.clone(), staged)));
                    // Let the commit start now: a task spawned from a worker waits in that worker's LIFO slot,
                    // which no other worker takes, until this task yields; staging the next changes does not.
                    tokio::task::yield_now().await;
                }
                if after.is_none() {
                    continue;
                }
                // A quiet stream or its end: everything read before is appended first.
                if let Some(current) = in_flight.take()
                    && !self.settled(current.await, &mut backoff, &mut checkpointed, &mut log_failing)
                {
                    break;
                }
                match after {
                    Some(Read::Quiet(token)) => {
                        if checkpointed.elapsed() >= self.heartbeat {
                            if let Err(error) = self.heartbeat(&mut state, token).await {
                                tracing::warn!(%error, "could not checkpoint the change stream's position; will try again");
                            }
                            checkpointed = std::time::Instant::now();
                        }
                    }
                    Some(Read::Failed(error)) => {
                        tracing::warn!(%error, "the change stream failed; restarting it");
                        break;
                    }
                    Some(Read::Ended) => break,
                    Some(Read::Change(_)) | None => {}
                }
            }
            // A restart reads the checkpoints: the commit in flight lands first.
            if let Some(current) = in_flight.take() {
                self.settled(current.await, &mut backoff, &mut checkpointed, &mut log_failing);
            }
            if !backoff.sleep_unless(shutdown.as_mut()).await {
                return Ok(());
            }
        }
    }
}
