//! The latency of a rule change through the StackStorm adapter: from st2's write to MongoDB returning to the OSLC
//! Event committed in the durable log (redb) by the running monitor, and to Kafka acknowledging it; p50 and p99 over
//! 10,000 changes written the way st2 writes them. The figures include the MongoDB-wire server's change-stream
//! delivery, which the adapter does not control.
//!
//! Then group commit, side by side with one change per transaction: 100 rule changes written into MongoDB at once
//! (`insert_many`, so they wait in the stream), 20 rounds each, for a monitor appending up to 256 changes per
//! transaction (the default) and one appending each change on its own: changes appended per second, and the p50
//! and p99 of MongoDB's write returning → the change's event committed. `MONITOR_BENCH=burst` runs this part alone.
//!
//! Needs `MONGO_URI` and `KAFKA_BROKERS` (`bash scripts/bench.sh` starts both); under `cargo test` it only says so.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adapter_stackstorm::app::{self, AppConfig};
use adapter_stackstorm::events::EventFactory;
use adapter_stackstorm::monitor::ChangeStreamMonitor;
use adapter_stackstorm::st2::{Rule, RuleStore, SimulatedSt2};
use async_trait::async_trait;
use oslc_events::kafka::{KafkaConfig, KafkaSink};
use oslc_events::{Event, EventLog, EventSink, RedbEventLog, Relay};
use testkit::mongo::MongoBackend;

const CHANGES: usize = 10_000;

/// Records when each event's publish was acknowledged.
struct TimedSink {
    inner: KafkaSink,
    acked: Mutex<HashMap<u64, Instant>>,
}

#[async_trait]
impl EventSink for TimedSink {
    async fn publish(&self, events: &[Event]) -> oslc_events::Result<()> {
        self.inner.publish(events).await?;
        let now = Instant::now();
        let mut acked = self.acked.lock().unwrap();
        for event in events {
            acked.entry(event.order_number()).or_insert(now);
        }
        Ok(())
    }
}

const ROUNDS: usize = 20;
const WAITING: usize = 100;

/// Group commit: `ROUNDS` times, `WAITING` rule changes written at once and appended by a monitor grouping up to
/// `group` per transaction, after one round of warm-up.
/// Returns (changes per second, p50, p99 of write → commit).
async fn burst(mongo: &str, group: usize) -> (f64, Duration, Duration) {
    use adapter_stackstorm::st2::document::{RULES, database_of};
    let uri = testkit::services::fresh_database(mongo);
    let st2 = Arc::new(SimulatedSt2::new(MongoBackend::connect(&uri).await.unwrap()));
    // A rule written by the simulated st2 (with its trigger), copied below as st2 would store more of them.
    let template =
        st2.create(&Rule::new("bench", "template", "core.st2.generic.notifytrigger", "core.local")).await.unwrap();
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let rules = client.database(&database_of(&uri)).collection::<bson::Document>(RULES);
    let id = bson::oid::ObjectId::parse_str(template.id.as_deref().unwrap()).unwrap();
    let template = rules.find_one(bson::doc! {"_id": id}).await.unwrap().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log: Arc<dyn EventLog> = Arc::new(RedbEventLog::open(dir.path().join("events.redb")).unwrap());
    let config = AppConfig {
        public_url: "http://bench.test".into(),
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
    let (status, mut watching) = tokio::sync::watch::channel(false);
    let monitor = ChangeStreamMonitor::connect(&uri, log.clone(), factory)
        .await
        .unwrap()
        .with_status(status)
        .with_group_commit(group);
    let monitoring = tokio::spawn(monitor.run(std::future::pending()));
    watching.wait_for(|w| *w).await.unwrap();
    let mut head = log.subscribe();
    let mut expected = *head.borrow_and_update();
    let mut from_write = Vec::new();
    let mut busy = Duration::ZERO;
    // A first round warms up (the trigger and action lookups, the log's first pages) and is not counted.
    for round in 0..=ROUNDS {
        let documents: Vec<bson::Document> = (0..WAITING)
            .map(|i| {
                let mut document = template.clone();
                let name = format!("b{round}_{i}");
                document.insert("_id", bson::oid::ObjectId::new());
                document.insert("ref", format!("bench.{name}"));
                document.insert("uid", format!("rule:bench:{name}"));
                document.insert("name", name);
                document
            })
            .collect();
        rules.insert_many(documents).await.unwrap();
        let written = Instant::now();
        expected += WAITING as u64;
        let mut last = *head.borrow_and_update();
        let mut committed = Vec::with_capacity(WAITING);
        while last < expected {
            tokio::time::timeout(Duration::from_secs(60), head.changed())
                .await
                .expect("the monitor did not log the burst within a minute")
                .unwrap();
            let now = Instant::now();
            let at = *head.borrow_and_update();
            committed.extend((last..at).map(|_| now));
            last = at;
        }
        if round > 0 {
            busy += written.elapsed();
            from_write.extend(committed.iter().map(|c| *c - written));
        }
    }
    monitoring.abort();
    let (p50, p99) = percentiles(from_write);
    (((ROUNDS * WAITING) as f64 / busy.as_secs_f64()), p50, p99)
}

/// The ceiling the server sets: `ROUNDS` times, `WAITING` rule documents written at once and read off a bare change
/// stream (nothing classified or logged). Returns (changes per second, p50, p99 of write → read).
async fn raw_stream(mongo: &str) -> (f64, Duration, Duration) {
    use adapter_stackstorm::st2::document::{RULES, database_of};
    use futures_util::StreamExt as _;
    let uri = testkit::services::fresh_database(mongo);
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let rules = client.database(&database_of(&uri)).collection::<bson::Document>(RULES);
    let mut stream = rules.watch().await.unwrap();
    let (mut latencies, mut busy) = (Vec::new(), Duration::ZERO);
    for round in 0..ROUNDS {
        let documents: Vec<bson::Document> =
            (0..WAITING).map(|i| bson::doc! {"name": format!("b{round}_{i}"), "pack": "bench"}).collect();
        rules.insert_many(documents).await.unwrap();
        let written = Instant::now();
        for _ in 0..WAITING {
            tokio::time::timeout(Duration::from_secs(60), stream.next()).await.unwrap().unwrap().unwrap();
            latencies.push(written.elapsed());
        }
        busy += written.elapsed();
    }
    let (p50, p99) = percentiles(latencies);
    ((ROUNDS * WAITING) as f64 / busy.as_secs_f64(), p50, p99)
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort_unstable();
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    (at(0.5), at(0.99))
}

fn main() {
    let (Ok(mongo), Ok(kafka)) = (std::env::var("MONGO_URI"), std::env::var("KAFKA_BROKERS")) else {
        println!("monitor_latency: needs MONGO_URI and KAFKA_BROKERS; run it with `bash scripts/bench.sh`");
        return;
    };
    if !std::env::args().any(|a| a == "--bench") {
        println!("monitor_latency: run with `bash scripts/bench.sh`");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        adapter_stackstorm::install_crypto_provider();
        if std::env::var("MONITOR_BENCH").as_deref() != Ok("burst") {
            one_by_one(&mongo, &kafka).await;
        }
        let (rate, p50, p99) = raw_stream(&mongo).await;
        println!(
            "{WAITING} changes waiting, a bare change stream (the server's delivery, no monitor): {rate:.0} changes/s; write -> read p50 {p50:?}, p99 {p99:?}"
        );
        for (name, group) in [("one change per transaction", 1), ("group commit (up to 256)", 256)] {
            let (rate, p50, p99) = burst(&mongo, group).await;
            println!(
                "{WAITING} changes waiting, {name}: {rate:.0} changes/s appended; write -> commit p50 {p50:?}, p99 {p99:?}"
            );
        }
    });
}

/// 10,000 changes written one after the other, each timed to its commit and to Kafka's acknowledgement.
async fn one_by_one(mongo: &str, kafka: &str) {
    {
        let uri = testkit::services::fresh_database(mongo);
        let st2 = Arc::new(SimulatedSt2::new(MongoBackend::connect(&uri).await.unwrap()));
        let dir = tempfile::tempdir().unwrap();
        let log: Arc<dyn EventLog> = Arc::new(RedbEventLog::open(dir.path().join("events.redb")).unwrap());
        let config = AppConfig {
            public_url: "http://bench.test".into(),
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
        let (status, mut watching) = tokio::sync::watch::channel(false);
        let monitor = ChangeStreamMonitor::connect(&uri, log.clone(), factory).await.unwrap().with_status(status);
        let monitoring = tokio::spawn(monitor.run(std::future::pending()));
        watching.wait_for(|w| *w).await.unwrap();
        // When each order was committed: the log's head watch, read as it moves.
        let committed: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
        let mut head = log.subscribe();
        let recording = {
            let committed = committed.clone();
            tokio::spawn(async move {
                let mut last = 0;
                while head.changed().await.is_ok() {
                    let now = Instant::now();
                    let at = *head.borrow_and_update();
                    let mut committed = committed.lock().unwrap();
                    for order in last + 1..=at {
                        committed.insert(order, now);
                    }
                    last = at;
                }
            })
        };

        let topic = format!("st2_event_bench_{}", std::process::id());
        let sink = Arc::new(TimedSink {
            inner: KafkaSink::new(KafkaConfig::new(kafka, &topic)).unwrap(),
            acked: Mutex::default(),
        });
        let relay = tokio::spawn(
            Relay::new(log.clone(), sink.clone(), "relay:bench").with_batch(200).run(std::future::pending()),
        );

        let started = Instant::now();
        let mut ids = Vec::new();
        let mut written_at = Vec::with_capacity(CHANGES);
        for i in 0..CHANGES {
            if i % 2 == 0 || ids.is_empty() {
                let mut rule = Rule::new("bench", &format!("r{i}"), "core.st2.generic.notifytrigger", "core.local");
                rule.description = Some(format!("rule {i}"));
                ids.push(st2.create(&rule).await.unwrap().id.unwrap());
            } else {
                let id = &ids[i % ids.len()];
                let enabled = !st2.get(id, false).await.unwrap().enabled;
                st2.set_enabled(id, enabled).await.unwrap();
            }
            written_at.push(Instant::now());
        }
        let written = started.elapsed();
        let deadline = Instant::now() + Duration::from_secs(600);
        while committed.lock().unwrap().len() < CHANGES {
            assert!(Instant::now() < deadline, "the monitor did not log every change");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        monitoring.abort();
        recording.abort();
        let deadline = Instant::now() + Duration::from_secs(120);
        while sink.acked.lock().unwrap().len() < CHANGES {
            assert!(Instant::now() < deadline, "Kafka did not acknowledge every event");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        relay.abort();
        {
            let acked = sink.acked.lock().unwrap();
            let committed = committed.lock().unwrap();
            let (commit_p50, commit_p99) =
                percentiles((1..=CHANGES as u64).map(|o| committed[&o] - written_at[o as usize - 1]).collect());
            let (kafka_p50, kafka_p99) =
                percentiles((1..=CHANGES as u64).map(|o| acked[&o] - written_at[o as usize - 1]).collect());
            println!(
                "{CHANGES} rule changes written the way st2 writes them in {written:.1?} ({:.0}/s)",
                CHANGES as f64 / written.as_secs_f64()
            );
            println!("st2 write -> durable log commit: p50 {commit_p50:?}, p99 {commit_p99:?}");
            println!("st2 write -> Kafka acknowledgement: p50 {kafka_p50:?}, p99 {kafka_p99:?}");
        }
    }
}
