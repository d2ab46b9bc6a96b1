//! The latency the StackStorm adapter adds to a rule change: from the change-stream event reaching the monitor to
//! its OSLC Event committed in the durable log (redb), and to Kafka acknowledging it; p50 and p99 over 10,000
//! changes written the way st2 writes them. Target: p99 under 5 ms for the log commit.
//!
//! Needs `MONGO_URI` and `KAFKA_BROKERS` (`bash scripts/bench.sh` starts both); under `cargo test` it only says so.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adapter_stackstorm::app::{self, AppConfig};
use adapter_stackstorm::events::EventFactory;
use adapter_stackstorm::monitor::ChangeStreamMonitor;
use adapter_stackstorm::st2::mongo::MongoBackend;
use adapter_stackstorm::st2::{Rule, RuleStore, SimulatedSt2};
use async_trait::async_trait;
use oslc_events::kafka::{KafkaConfig, KafkaSink};
use oslc_events::{Event, EventLog, EventSink, RedbEventLog, Relay};

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
            acked.entry(event.order).or_insert(now);
        }
        Ok(())
    }
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
        let uri = mongo.replacen("/?", &format!("/st2_bench_{}?", std::process::id()), 1);
        let st2 = Arc::new(SimulatedSt2::new(MongoBackend::connect(&uri).await.unwrap()));
        let dir = tempfile::tempdir().unwrap();
        let log: Arc<dyn EventLog> = Arc::new(RedbEventLog::open(dir.path().join("events.redb")).unwrap());
        let config = AppConfig {
            public_url: "http://bench.test".into(),
            api_token: None,
            protect_reads: false,
            body_limit: 4096,
        };
        let built = app::build(st2.clone(), &config, Some(log.clone())).unwrap();
        let factory = EventFactory::new(built.provider, built.service_provider);
        let mut monitor = ChangeStreamMonitor::connect(&uri, log.clone(), factory).await.unwrap();
        monitor.drain(0, Duration::ZERO).await.unwrap();

        let topic = format!("st2_event_bench_{}", std::process::id());
        let sink = Arc::new(TimedSink {
            inner: KafkaSink::new(KafkaConfig::new(&kafka, &topic)).unwrap(),
            acked: Mutex::default(),
        });
        let relay = tokio::spawn(
            Relay::new(log.clone(), sink.clone(), "relay:bench").with_batch(200).run(std::future::pending()),
        );

        let drained =
            tokio::spawn(async move { monitor.drain_timed(CHANGES, Duration::from_secs(600)).await.unwrap() });
        let started = Instant::now();
        let mut ids = Vec::new();
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
        }
        let written = started.elapsed();
        let events = drained.await.unwrap();
        assert_eq!(events.len(), CHANGES);
        let deadline = Instant::now() + Duration::from_secs(120);
        while sink.acked.lock().unwrap().len() < CHANGES {
            assert!(Instant::now() < deadline, "Kafka did not acknowledge every event");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        relay.abort();
        let acked = sink.acked.lock().unwrap();
        let (commit_p50, commit_p99) =
            percentiles(events.iter().map(|(_, received, committed)| *committed - *received).collect());
        let (kafka_p50, kafka_p99) =
            percentiles(events.iter().map(|(e, received, _)| acked[&e.order] - *received).collect());
        println!(
            "{CHANGES} rule changes written the way st2 writes them in {written:.1?} ({:.0}/s)",
            CHANGES as f64 / written.as_secs_f64()
        );
        println!("change-stream event -> durable log commit: p50 {commit_p50:?}, p99 {commit_p99:?}");
        println!("change-stream event -> Kafka acknowledgement: p50 {kafka_p50:?}, p99 {kafka_p99:?}");
    });
}
