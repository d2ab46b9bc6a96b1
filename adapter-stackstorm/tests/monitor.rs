//! The change-stream monitor against the MongoDB-wire server (`MONGO_URI`, started by `scripts/test.sh`): rules
//! written the way st2 writes them become OSLC Events with the right kinds; changes made while the monitor was
//! away all arrive; a resume token the server cannot use leads to a resync that reports exactly the differences.
//! Each test uses a database of its own.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use adapter_stackstorm::app::{self, AppConfig};
use adapter_stackstorm::events::EventFactory;
use adapter_stackstorm::monitor::{ChangeStreamMonitor, MONITOR_CHECKPOINT};
use adapter_stackstorm::st2::{Rule, RuleStore, SimulatedSt2};
use bson::doc;
use oslc_events::{ChangeKind, Checkpoint, Event, EventLog, MemoryEventLog};
use serde_json::json;
use support::*;
use testkit::mongo::MongoBackend;

const BASE: &str = "http://st2-oslc.test";

struct Setup {
    st2: Arc<SimulatedSt2<MongoBackend>>,
    log: Arc<dyn EventLog>,
    factory: EventFactory,
    uri: String,
}

async fn setup() -> Option<Setup> {
    let base_uri = mongo_uri()?;
    adapter_stackstorm::install_crypto_provider();
    let uri = testkit::services::fresh_database(&base_uri);
    let backend = MongoBackend::connect(&uri).await.unwrap();
    backend.declare_action("pagerduty.create_incident", &["api_key"]).await.unwrap();
    let st2 = Arc::new(SimulatedSt2::new(backend));
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    let config = AppConfig {
        public_url: BASE.into(),
        api_token: None,
        protect_reads: false,
        body_limit: 4096,
        frame_ancestors: Vec::new(),
        oidc: None,
        oidc_login: None,
        automation: None,
    };
    let built = app::build(st2.clone(), &config, Some(log.clone())).unwrap();
    let factory = EventFactory::new(built.provider, built.service_provider);
    Some(Setup { st2, log, factory, uri })
}

fn rule(name: &str) -> Rule {
    let mut rule = Rule::new("ops", name, "core.st2.webhook", "pagerduty.create_incident");
    rule.trigger.parameters = json!({"url": name}).as_object().unwrap().clone();
    rule.action.parameters = json!({"api_key": "pd-SECRET", "title": "t"}).as_object().unwrap().clone();
    rule
}

/// A monitor running as `st2-oslc` runs it, in a task, until [`Watching::stop`].
struct Watching {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), adapter_stackstorm::monitor::MonitorError>>,
}

impl Watching {
    /// Connects a monitor to `s` over `log`, runs it and waits until it watches.
    async fn start(s: &Setup, log: Arc<dyn EventLog>) -> Self {
        Self::start_with(s, log, adapter_stackstorm::monitor::DEFAULT_HEARTBEAT).await
    }

    /// [`Watching::start`] with a heartbeat of `every`.
    async fn start_with(s: &Setup, log: Arc<dyn EventLog>, every: std::time::Duration) -> Self {
        Self::start_configured(s, log, every, adapter_stackstorm::monitor::DEFAULT_GROUP_COMMIT).await
    }

    /// [`Watching::start`] with a heartbeat of `every` and group commits of up to `group` changes.
    async fn start_configured(s: &Setup, log: Arc<dyn EventLog>, every: std::time::Duration, group: usize) -> Self {
        let (status, watching) = tokio::sync::watch::channel(false);
        let monitor = ChangeStreamMonitor::connect(&s.uri, log, s.factory.clone())
            .await
            .unwrap()
            .with_status(status)
            .with_heartbeat(every)
            .with_group_commit(group);
        monitor.check().await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(monitor.run(async {
            let _ = stopped.await;
        }));
        eventually("the monitor watching", 30, async || *watching.borrow()).await;
        Self { stop, task }
    }

    /// Stops it; it must end cleanly.
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

/// The events after order `after` once there are `count` of them.
async fn events_after(log: &dyn EventLog, after: u64, count: u64) -> Vec<Event> {
    eventually("the events", 60, async || log.head().await.unwrap() >= after + count).await;
    log.read_forward(after, 10_000).await.unwrap()
}

/// Nothing else was appended: a sentinel rule made now is the next event, at order `head + 1`.
async fn nothing_more(s: &Setup, head: u64) {
    let sentinel = s.st2.create(&rule(&unique("sentinel"))).await.unwrap();
    let next = events_after(s.log.as_ref(), head, 1).await;
    assert_eq!(next.len(), 1, "only the sentinel's event: {next:?}");
    assert!(next[0].changed.as_str().ends_with(sentinel.id.as_deref().unwrap()));
}

fn qualifier(event: &Event) -> String {
    event.qualifiers[0].as_str().rsplit('#').next().unwrap().to_owned()
}

#[tokio::test]
async fn st2_writes_become_events() {
    let Some(s) = setup().await else { return };
    s.st2.create(&rule("existing")).await.unwrap();
    let watching = Watching::start(&s, s.log.clone()).await;
    assert_eq!(s.log.head().await.unwrap(), 0, "first start: the rules are the Base");

    let created = s.st2.create(&rule("watched")).await.unwrap();
    let id = created.id.clone().unwrap();
    s.st2.set_enabled(&id, true).await.unwrap();
    s.st2.set_enabled(&id, false).await.unwrap();
    let mut changed = s.st2.get(&id, true).await.unwrap();
    changed.description = Some("now documented".into());
    s.st2.replace(&id, &changed).await.unwrap();
    // st2ctl reload: the same rule saved again (a replace with the same document).
    let same = s.st2.get(&id, true).await.unwrap();
    s.st2.replace(&id, &same).await.unwrap();
    s.st2.delete(&id).await.unwrap();

    let events = events_after(s.log.as_ref(), 0, 5).await;
    assert_eq!(
        events.iter().map(qualifier).collect::<Vec<_>>(),
        ["RuleCreated", "RuleEnabled", "RuleDisabled", "RuleModified", "RuleDeleted"]
    );
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [
            ChangeKind::Creation,
            ChangeKind::Modification,
            ChangeKind::Modification,
            ChangeKind::Modification,
            ChangeKind::Deletion
        ]
    );
    let iri = format!("{BASE}/serviceProviders/1/changeRequests/{id}");
    assert!(events.iter().all(|e| e.changed.as_str() == iri));
    assert!(events.windows(2).all(|w| w[0].order < w[1].order));
    let state = events[0].state.as_ref().unwrap();
    let text = format!("{state:?}");
    assert!(!text.contains("pd-SECRET") && text.contains("********"), "secrets are masked in events: {text}");
    // Nothing more: the re-save made no event.
    nothing_more(&s, 5).await;
    watching.stop().await;
}

#[tokio::test]
async fn changes_made_while_the_monitor_was_away_all_arrive() {
    let Some(s) = setup().await else { return };
    Watching::start(&s, s.log.clone()).await.stop().await;

    // 100 changes while no monitor runs: 40 creations, 20 enables, 20 modifications, 20 deletions.
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(s.st2.create(&rule(&format!("r{i}"))).await.unwrap().id.unwrap());
    }
    for id in &ids[0..20] {
        s.st2.set_enabled(id, true).await.unwrap();
    }
    for id in &ids[20..40] {
        let mut r = s.st2.get(id, true).await.unwrap();
        r.description = Some("changed".into());
        s.st2.replace(id, &r).await.unwrap();
    }
    for id in &ids[0..20] {
        s.st2.delete(id).await.unwrap();
    }

    let restarted = Watching::start(&s, s.log.clone()).await;
    let events = events_after(s.log.as_ref(), 0, 100).await;
    assert_eq!(events.len(), 100, "all 100 changes");
    let count = |q: &str| events.iter().filter(|e| qualifier(e) == q).count();
    assert_eq!(
        (count("RuleCreated"), count("RuleEnabled"), count("RuleModified"), count("RuleDeleted")),
        (40, 20, 20, 20)
    );
    nothing_more(&s, 100).await;
    restarted.stop().await;
}

#[tokio::test]
async fn an_unusable_resume_token_leads_to_a_resync_of_exactly_the_differences() {
    let Some(s) = setup().await else { return };
    let kept = s.st2.create(&rule("kept")).await.unwrap();
    let to_disable = s.st2.create(&rule("to_disable")).await.unwrap();
    let to_delete = s.st2.create(&rule("to_delete")).await.unwrap();
    Watching::start(&s, s.log.clone()).await.stop().await;
    let checkpoint = s.log.checkpoint(MONITOR_CHECKPOINT).await.unwrap().unwrap();

    // Changes, then a checkpoint whose resume token the server has never issued.
    s.st2.set_enabled(to_disable.id.as_deref().unwrap(), true).await.unwrap();
    s.st2.set_enabled(to_disable.id.as_deref().unwrap(), false).await.unwrap();
    s.st2.delete(to_delete.id.as_deref().unwrap()).await.unwrap();
    let added = s.st2.create(&rule("added")).await.unwrap();
    let mut bogus = bson::Document::from_reader(checkpoint.as_slice()).unwrap();
    bogus.insert("token", doc! {"_data": "8200000000000000002B0229296E04"});
    let mut bytes = Vec::new();
    bogus.to_writer(&mut bytes).unwrap();
    s.log.set_checkpoint(Checkpoint::new(MONITOR_CHECKPOINT, bytes)).await.unwrap();

    // The resync happens before the monitor reports that it watches.
    let restarted = Watching::start(&s, s.log.clone()).await;
    let events = s.log.read_forward(0, 100).await.unwrap();
    let mut got: Vec<(String, String)> =
        events.iter().map(|e| (e.changed.as_str().rsplit('/').next().unwrap().to_owned(), qualifier(e))).collect();
    got.sort();
    // enabled-then-disabled is no difference; the deletion and the creation are.
    let mut expected =
        vec![(to_delete.id.unwrap(), "RuleDeleted".to_owned()), (added.id.unwrap(), "RuleCreated".to_owned())];
    expected.sort();
    assert_eq!(got, expected);
    assert!(!got.iter().any(|(id, _)| Some(id) == kept.id.as_ref()));
    // And it carries on from the new position.
    s.st2.set_enabled(kept.id.as_deref().unwrap(), true).await.unwrap();
    let next = events_after(s.log.as_ref(), 2, 1).await;
    assert_eq!(next.iter().map(qualifier).collect::<Vec<_>>(), ["RuleEnabled"]);
    restarted.stop().await;
}

#[tokio::test]
async fn change_streams_are_found_on_a_replica_set() {
    let Some(s) = setup().await else { return };
    let monitor = ChangeStreamMonitor::connect(&s.uri, s.log.clone(), s.factory.clone()).await.unwrap();
    monitor.check().await.unwrap();
}

#[tokio::test]
async fn the_monitor_survives_an_event_log_that_cannot_be_written() {
    let Some(s) = setup().await else { return };
    let log = Arc::new(FailingLog::new());
    let (status, watching) = tokio::sync::watch::channel(false);
    let monitor =
        ChangeStreamMonitor::connect(&s.uri, log.clone(), s.factory.clone()).await.unwrap().with_status(status);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(monitor.run(async {
        let _ = stopped.await;
    }));
    eventually("the monitor watching", 30, async || *watching.borrow()).await;
    // The disk fills up: the next change cannot be kept, and the monitor says it is not watching.
    log.fail(true);
    let created = s.st2.create(&rule("while_full")).await.unwrap();
    eventually("readiness to drop", 30, async || !*watching.borrow()).await;
    assert_eq!(log.head().await.unwrap(), 0, "nothing was appended");
    assert!(!running.is_finished(), "the monitor keeps trying");
    // Space is freed: the change that could not be kept arrives, without a restart.
    log.fail(false);
    eventually("the change to arrive", 30, async || log.head().await.unwrap() == 1).await;
    eventually("the monitor watching again", 30, async || *watching.borrow()).await;
    let events = log.read_forward(0, 10).await.unwrap();
    assert_eq!(qualifier(&events[0]), "RuleCreated");
    assert!(events[0].changed.as_str().ends_with(created.id.as_deref().unwrap()));
    let _ = stop.send(());
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn set_style_updates_are_classified_from_their_update_description_on_replay() {
    let Some(s) = setup().await else { return };
    let created = s.st2.create(&rule("toggled")).await.unwrap();
    let id = bson::oid::ObjectId::parse_str(created.id.as_deref().unwrap()).unwrap();
    Watching::start(&s, s.log.clone()).await.stop().await;
    assert_eq!(s.log.head().await.unwrap(), 0);
    // Another writer flips the flag with $set, ten times each way, while the monitor is not running.
    let client = mongodb::Client::with_uri_str(&s.uri).await.unwrap();
    let rules = client
        .database(&adapter_stackstorm::st2::document::database_of(&s.uri))
        .collection::<bson::Document>("rule_d_b");
    for _ in 0..10 {
        for enabled in [true, false] {
            rules.update_one(doc! {"_id": id}, doc! {"$set": {"enabled": enabled}}).await.unwrap();
        }
    }
    // On replay every change is looked up as the document is now (disabled), yet each is classified as it was.
    let restarted = Watching::start(&s, s.log.clone()).await;
    let events = events_after(s.log.as_ref(), 0, 20).await;
    let kinds: Vec<String> = events.iter().map(qualifier).collect();
    let expected: Vec<&str> = (0..10).flat_map(|_| ["RuleEnabled", "RuleDisabled"]).collect();
    assert_eq!(kinds, expected);
    restarted.stop().await;
}

#[tokio::test]
async fn changes_waiting_in_the_stream_are_appended_together_in_order() {
    let Some(s) = setup().await else { return };
    let first = s.st2.create(&rule("burst")).await.unwrap();
    let id = first.id.clone().unwrap();
    let log = Arc::new(FailingLog::new());
    Watching::start(&s, log.clone()).await.stop().await;
    // While the monitor is away, 60 changes pile up: 20 new rules and 40 flips of the first.
    let mut created = Vec::new();
    for i in 0..20 {
        created.push(s.st2.create(&rule(&format!("burst_{i}"))).await.unwrap().id.unwrap());
        s.st2.set_enabled(&id, true).await.unwrap();
        s.st2.set_enabled(&id, false).await.unwrap();
    }
    let appends_before = log.appends();
    let restarted = Watching::start(&s, log.clone()).await;
    let events = events_after(log.as_ref(), 0, 60).await;
    restarted.stop().await;
    // Every change, once, in the order st2 made them...
    let kinds: Vec<String> = events.iter().map(qualifier).collect();
    let expected: Vec<&str> = (0..20).flat_map(|_| ["RuleCreated", "RuleEnabled", "RuleDisabled"]).collect();
    assert_eq!(kinds, expected);
    let changed: Vec<&str> = events.iter().step_by(3).map(|e| e.changed.as_str().rsplit('/').next().unwrap()).collect();
    assert_eq!(changed, created);
    // ...in far fewer transactions than changes (the stream hands them over in batches).
    let appends = log.appends() - appends_before;
    assert!(appends < 30, "60 waiting changes took {appends} appends");
    // With group commit off, the same pile-up takes one transaction per change.
    let heartbeat = adapter_stackstorm::monitor::DEFAULT_HEARTBEAT;
    let log = Arc::new(FailingLog::new());
    Watching::start_configured(&s, log.clone(), heartbeat, 1).await.stop().await;
    for rule in &created[..10] {
        s.st2.set_enabled(rule, true).await.unwrap();
    }
    let before = log.appends();
    let restarted = Watching::start_configured(&s, log.clone(), heartbeat, 1).await;
    let events = events_after(log.as_ref(), 0, 10).await;
    restarted.stop().await;
    assert_eq!(events.iter().map(qualifier).collect::<Vec<_>>(), ["RuleEnabled"; 10]);
    assert_eq!(log.appends() - before, 10);
}

#[tokio::test]
async fn a_quiet_stream_keeps_its_checkpointed_position_moving() {
    let Some(s) = setup().await else { return };
    s.st2.create(&rule("quiet")).await.unwrap();
    let watching = Watching::start_with(&s, s.log.clone(), std::time::Duration::from_millis(100)).await;
    let first = s.log.checkpoint(MONITOR_CHECKPOINT).await.unwrap().unwrap();
    // No rule changes; other collections of the database do (as st2's executions and traces do all the time).
    let client = mongodb::Client::with_uri_str(&s.uri).await.unwrap();
    let other = client
        .database(&adapter_stackstorm::st2::document::database_of(&s.uri))
        .collection::<bson::Document>("execution_d_b");
    let mut n = 0;
    eventually("the checkpointed position to move without a rule change", 30, async || {
        n += 1;
        other.insert_one(doc! {"n": n}).await.unwrap();
        s.log.checkpoint(MONITOR_CHECKPOINT).await.unwrap().unwrap() != first
    })
    .await;
    assert_eq!(s.log.head().await.unwrap(), 0, "no event was made up");
    watching.stop().await;
    // And the monitor resumes from there: a rule change after the restart is seen, once.
    let restarted = Watching::start(&s, s.log.clone()).await;
    s.st2.create(&rule("after")).await.unwrap();
    let events = events_after(s.log.as_ref(), 0, 1).await;
    assert_eq!(events.iter().map(qualifier).collect::<Vec<_>>(), ["RuleCreated"]);
    restarted.stop().await;
}
