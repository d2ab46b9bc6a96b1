//! The whole pipeline as processes over real wire protocols: OSLC client → `st2-oslc` → fake st2 (REST) →
//! MongoDB-wire server → change stream → event log → TRS and Kafka (read back by a consumer). And a crash: the
//! adapter killed with SIGKILL while changes stream in loses nothing after its restart. And executions: an OSLC
//! Automation request runs an action; the execution's events reach the TRS and their own Kafka topic, in order,
//! and a restart while an execution runs loses none of its changes (executions watched through a change stream on
//! st2's `action_execution_d_b`, which the fake st2 writes as st2 does). Needs `MONGO_URI` and `KAFKA_BROKERS` (`scripts/test.sh`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adapter_stackstorm::st2::{Rule, RuleStore, SimulatedSt2};
use async_trait::async_trait;
use oslc_events::kafka::{KafkaConfig, KafkaConsumer};
use oslc_events::{Event, EventHandler};
use serde_json::json;
use support::*;
use testkit::mongo::MongoBackend;

const TOKEN: &str = "pipeline-token";

struct Adapter {
    child: Child,
    base: String,
}

impl Drop for Adapter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// st2-oslc against the fake st2 and the test services, writing events on Kafka as `payload` says
/// (`--kafka-payload`).
fn start_adapter(st2_url: &str, mongo: &str, kafka: &str, topic: &str, data_dir: &Path, payload: &str) -> Adapter {
    start_adapter_with(st2_url, mongo, kafka, topic, data_dir, payload, &[])
}

/// [`start_adapter`] with more arguments.
fn start_adapter_with(
    st2_url: &str,
    mongo: &str,
    kafka: &str,
    topic: &str,
    data_dir: &Path,
    payload: &str,
    more: &[&str],
) -> Adapter {
    let mut child = Command::new(env!("CARGO_BIN_EXE_st2-oslc"))
        .args(more)
        .args(["--listen", "127.0.0.1:0", "--st2-url", st2_url, "--st2-api-key", API_KEY, "--mongo-uri", mongo])
        .args(["--kafka-brokers", kafka, "--kafka-topic", topic, "--api-token", TOKEN, "--kafka-payload", payload])
        .args(["--kafka-execution-topic", &format!("{topic}_executions"), "--poll-interval-ms", "100"])
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").expect("a listening line").to_owned();
    Adapter { child, base: format!("http://{addr}") }
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "the adapter's change source did not get ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// (changed IRI, qualifier local name) of every change the TRS lists, in order.
async fn trs_changes(client: &reqwest::Client, base: &str) -> Vec<(u64, String, String)> {
    let text =
        client.get(format!("{base}/trs")).header("accept", "text/turtle").send().await.unwrap().text().await.unwrap();
    let graph = oslc_core::rdf::parse(text.as_bytes(), oslc_core::rdf::RdfFormat::Turtle, base).unwrap();
    let mut changes: Vec<(u64, String, String)> = graph
        .triples_for_predicate(oslc_core::vocab::trs::order)
        .map(|t| {
            let order = match t.object {
                oslc_core::oxrdf::TermRef::Literal(l) => l.value().parse().unwrap(),
                _ => panic!(),
            };
            let changed =
                graph.object_for_subject_predicate(t.subject, oslc_core::vocab::trs::changed).unwrap().to_string();
            let qualifier = graph
                .objects_for_subject_predicate(t.subject, oslc_core::vocab::rdf::r#type)
                .map(|o| o.to_string())
                .find(|o| o.contains("st2-oslc/ns#"))
                .unwrap_or_default();
            (
                order,
                changed.trim_matches(['<', '>']).to_owned(),
                qualifier.trim_matches(['<', '>']).rsplit('#').next().unwrap().to_owned(),
            )
        })
        .collect();
    changes.sort();
    changes
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Event>>);

#[async_trait]
impl EventHandler for Recorder {
    async fn handle(&self, event: &Event) -> oslc_events::Result<()> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}

/// Reads `topic` from the start in a consumer group of its own until `count` events arrived.
async fn read_kafka(kafka: &str, topic: &str, count: usize) -> Vec<Event> {
    let config = KafkaConfig::new(kafka, topic)
        .with("session.timeout.ms", "6000")
        .with("heartbeat.interval.ms", "500")
        .with("fetch.wait.max.ms", "20");
    let recorder = Arc::new(Recorder::default());
    let consumer = KafkaConsumer::new(&config, topic).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn({
        let recorder = recorder.clone();
        async move {
            consumer
                .run(recorder.as_ref(), async {
                    let _ = stopped.await;
                })
                .await
                .unwrap()
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while recorder.0.lock().unwrap().len() < count {
        assert!(Instant::now() < deadline, "Kafka carried {} of {count} events", recorder.0.lock().unwrap().len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(());
    task.await.unwrap();
    recorder.0.lock().unwrap().clone()
}

fn test_services() -> Option<(String, String)> {
    let mongo = mongo_uri()?;
    let kafka = std::env::var("KAFKA_BROKERS").ok().filter(|k| !k.is_empty())?;
    Some((mongo, kafka))
}

async fn fake_st2(mongo: &str) -> (String, String, Arc<SimulatedSt2<MongoBackend>>) {
    adapter_stackstorm::install_crypto_provider();
    let uri = testkit::services::fresh_database(mongo);
    let st2 = Arc::new(SimulatedSt2::new(MongoBackend::connect(&uri).await.unwrap()));
    let addr = spawn_fake(st2.clone()).await;
    (format!("http://{addr}"), uri, st2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oslc_changes_reach_the_trs_and_kafka_in_order() {
    let Some((mongo, kafka)) = test_services() else { return };
    let (st2_url, mongo_db, _st2) = fake_st2(&mongo).await;
    let topic = format!("st2_event_{}", uuid::Uuid::new_v4().simple());
    let data = tempfile::tempdir().unwrap();
    let adapter = start_adapter(&st2_url, &mongo_db, &kafka, &topic, data.path(), "cloudevents");
    let client = reqwest::Client::new();
    wait_ready(&client, &adapter.base).await;
    let rules = format!("{}/serviceProviders/1/changeRequests", adapter.base);
    let auth = format!("Bearer {TOKEN}");

    let body = r#"@prefix st2: <https://w3id.org/st2-oslc/ns#> . <> <http://purl.org/dc/terms/title> "pipeline_rule" ; st2:pack "ops" ; st2:triggerType "core.st2.webhook" ; st2:triggerParameters "{\"url\": \"p\"}"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON> ; st2:actionRef "core.local" ; st2:enabled false ."#;
    let created = client
        .post(&rules)
        .header("authorization", &auth)
        .header("content-type", "text/turtle")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();
    let updated = body.replace("core.local", "core.remote");
    let put = client
        .put(&location)
        .header("authorization", &auth)
        .header("content-type", "text/turtle")
        .header("if-match", etag)
        .body(updated)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    for action in ["enable", "disable"] {
        let r = client.post(format!("{location}/{action}")).header("authorization", &auth).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(client.delete(&location).header("authorization", &auth).send().await.unwrap().status(), 204);

    let expected = ["RuleCreated", "RuleModified", "RuleEnabled", "RuleDisabled", "RuleDeleted"];
    let deadline = Instant::now() + Duration::from_secs(30);
    let changes = loop {
        let changes = trs_changes(&client, &adapter.base).await;
        if changes.len() >= 5 {
            break changes;
        }
        assert!(Instant::now() < deadline, "the TRS did not get five changes: {changes:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(changes.iter().map(|c| c.2.as_str()).collect::<Vec<_>>(), expected);
    assert!(changes.iter().all(|c| c.1 == location));

    let events = read_kafka(&kafka, &topic, 5).await;
    let qualifiers: Vec<String> =
        events.iter().map(|e| e.qualifiers[0].as_str().rsplit('#').next().unwrap().to_owned()).collect();
    assert_eq!(qualifiers, expected);
    assert!(events.iter().all(|e| e.changed.as_str() == location));
    // Written as structured CloudEvents (`--kafka-payload cloudevents`), read back whole: the rule's state too.
    assert!(events[..4].iter().all(|e| e.state.as_ref().is_some_and(|s| !s.is_empty())), "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_while_changes_stream_in_loses_nothing() {
    let Some((mongo, kafka)) = test_services() else { return };
    let (st2_url, mongo_db, st2) = fake_st2(&mongo).await;
    let topic = format!("st2_event_{}", uuid::Uuid::new_v4().simple());
    let data = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let adapter = start_adapter(&st2_url, &mongo_db, &kafka, &topic, data.path(), "turtle");
    wait_ready(&client, &adapter.base).await;

    // 60 rules written the way st2 writes them, while the adapter is killed a third of the way in.
    let writer = tokio::spawn({
        let st2 = st2.clone();
        async move {
            let mut ids = Vec::new();
            for i in 0..60 {
                let mut rule = Rule::new("crash", &format!("r{i}"), "core.st2.webhook", "core.local");
                rule.trigger.parameters = json!({"url": format!("c{i}")}).as_object().unwrap().clone();
                ids.push(st2.create(&rule).await.unwrap().id.unwrap());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            ids
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while trs_changes(&client, &adapter.base).await.len() < 20 {
        assert!(Instant::now() < deadline, "changes did not start arriving");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(adapter); // SIGKILL, mid-stream
    let ids = writer.await.unwrap();

    let adapter = start_adapter(&st2_url, &mongo_db, &kafka, &topic, data.path(), "turtle");
    wait_ready(&client, &adapter.base).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let changes = trs_changes(&client, &adapter.base).await;
        // The adapter listens on a new port after the restart: compare by rule id.
        let seen: HashSet<String> = changes.iter().map(|c| c.1.rsplit('/').next().unwrap().to_owned()).collect();
        if seen.len() == 60 {
            assert_eq!(changes.len(), 60, "every change once: {changes:?}");
            assert!(changes.iter().all(|c| c.2 == "RuleCreated"));
            let ids: HashSet<String> = ids.iter().cloned().collect();
            assert_eq!(seen, ids);
            break;
        }
        assert!(Instant::now() < deadline, "after the restart {} of 60 changes arrived", seen.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_while_the_adapter_was_down_reach_the_trs_and_kafka() {
    let Some((mongo, kafka)) = test_services() else { return };
    let (st2_url, mongo_db, st2) = fake_st2(&mongo).await;
    let topic = format!("st2_event_{}", uuid::Uuid::new_v4().simple());
    let data = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut adapter = start_adapter(&st2_url, &mongo_db, &kafka, &topic, data.path(), "turtle");
    wait_ready(&client, &adapter.base).await;
    // Stopped cleanly (SIGTERM), then 100 changes: 50 enabled rules created, 25 of them disabled, 25 deleted.
    Command::new("kill").args(["-TERM", &adapter.child.id().to_string()]).status().unwrap();
    adapter.child.wait().unwrap();
    let mut ids = Vec::new();
    for i in 0..50 {
        let mut rule = Rule::new("down", &format!("r{i}"), "core.st2.webhook", "core.local");
        rule.trigger.parameters = json!({"url": format!("d{i}")}).as_object().unwrap().clone();
        rule.enabled = true;
        ids.push(st2.create(&rule).await.unwrap().id.unwrap());
    }
    for id in &ids[0..25] {
        st2.set_enabled(id, false).await.unwrap();
    }
    for id in &ids[25..50] {
        st2.delete(id).await.unwrap();
    }

    let adapter = start_adapter(&st2_url, &mongo_db, &kafka, &topic, data.path(), "json");
    wait_ready(&client, &adapter.base).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let changes = loop {
        let changes = trs_changes(&client, &adapter.base).await;
        if changes.len() >= 100 {
            break changes;
        }
        assert!(Instant::now() < deadline, "after the restart {} of 100 changes reached the TRS", changes.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let count = |q: &str| changes.iter().filter(|c| c.2 == q).count();
    assert_eq!(
        (count("RuleCreated"), count("RuleDisabled"), count("RuleDeleted")),
        (50, 25, 25),
        "none lost, none invented"
    );
    assert_eq!(changes.len(), 100);

    let events = read_kafka(&kafka, &topic, 100).await;
    assert_eq!(events.iter().map(|e| e.id.as_str()).collect::<HashSet<_>>().len(), 100);
}

/// The result IRI's execution id and `st2:status` of each event, in order.
fn statuses(events: &[Event]) -> Vec<(String, String)> {
    let status = oslc_core::oxrdf::NamedNodeRef::new_unchecked("https://w3id.org/st2-oslc/ns#status");
    events
        .iter()
        .map(|e| {
            let state = e.state.as_ref().expect("an execution event carries the result");
            let value = state
                .object_for_subject_predicate(&e.changed, status)
                .map(|t| match t {
                    oslc_core::oxrdf::TermRef::Literal(l) => l.value().to_owned(),
                    other => other.to_string(),
                })
                .expect("the result's st2:status");
            (e.changed.as_str().rsplit('/').next().unwrap().to_owned(), value)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execution_events_reach_their_topic_and_a_restart_loses_none() {
    use adapter_stackstorm::st2::{ExecutionStore, St2Auth, St2Client};
    let Some((mongo, kafka)) = test_services() else { return };
    // The fake st2 keeps its executions in MongoDB as st2 does, so the adapter's change stream sees each change.
    adapter_stackstorm::install_crypto_provider();
    let mongo_db = testkit::services::fresh_database(&mongo);
    let rules = Arc::new(SimulatedSt2::new(MongoBackend::connect(&mongo_db).await.unwrap()));
    let simulated = adapter_stackstorm::st2::SimulatedExecutions::with_sample_actions("http://st2.fake");
    testkit::mongo::mirror_executions(&mongo_db, &simulated).await.unwrap();
    let credentials = testkit::fake_st2::Credentials::api_key(API_KEY).with_token(support::TOKEN);
    let st2_url = testkit::serve(testkit::fake_st2::router_with(rules, Arc::new(simulated), credentials)).await;
    let st2 = St2Client::new(&st2_url, St2Auth::ApiKey(API_KEY.into())).unwrap();
    let topic = format!("st2_event_{}", uuid::Uuid::new_v4().simple());
    let data = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    // One public URL across the restart, as a deployment has: the results' IRIs (the Kafka keys) stay the same.
    const PUBLIC: &str = "http://st2-oslc.test";
    let public = ["--public-url", PUBLIC];
    let adapter = start_adapter_with(&st2_url, &mongo_db, &kafka, &topic, data.path(), "turtle", &public);
    wait_ready(&client, &adapter.base).await;
    let run = async |base: &str, plan: &str, inputs: &str| {
        let body = format!(
            "<> a <http://open-services.net/ns/auto#AutomationRequest> ; \
             <http://open-services.net/ns/auto#executesAutomationPlan> <{PUBLIC}/serviceProviders/1/automationPlans/{plan}> {inputs} ."
        );
        let created = client
            .post(format!("{base}/serviceProviders/1/automationRequests"))
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "text/turtle")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        created.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned()
    };
    let noop = run(&adapter.base, "core.noop", "").await;
    let pause_input = "; <http://open-services.net/ns/auto#inputParameter> [ <http://open-services.net/ns/core#name> \"max_pause\" ; \
         <http://www.w3.org/1999/02/22-rdf-syntax-ns#value> 60 ]";
    let pause = run(&adapter.base, "core.pause", pause_input).await;
    // The pause is seen running before the adapter is killed.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let changes = trs_changes(&client, &adapter.base).await;
        let pause_changes = changes.iter().filter(|c| c.1.ends_with(&pause)).count();
        let noop_done = changes.iter().filter(|c| c.1.ends_with(&noop)).count();
        if pause_changes >= 1 && noop_done >= 1 && st2.execution(&pause).await.unwrap().status == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "execution events did not reach the TRS: {changes:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(adapter); // SIGKILL while the pause runs
    // While the adapter is down, the pause is cancelled in StackStorm.
    st2.cancel(&pause).await.unwrap();
    assert_eq!(st2.wait_until_done(&pause, Duration::from_secs(10)).await.unwrap().status, "canceled");

    let adapter = start_adapter_with(&st2_url, &mongo_db, &kafka, &topic, data.path(), "turtle", &public);
    wait_ready(&client, &adapter.base).await;
    let executions_topic = format!("{topic}_executions");
    let deadline = Instant::now() + Duration::from_secs(60);
    let events = loop {
        // Every event on the executions topic so far (a consumer group of its own each time).
        let trs = trs_changes(&client, &adapter.base).await;
        let canceled_in_trs = trs.iter().any(|c| c.1.ends_with(&pause) && c.2 == "ExecutionChanged");
        if canceled_in_trs {
            let count = trs.iter().filter(|c| c.2.starts_with("Execution")).count();
            break read_kafka(&kafka, &executions_topic, count).await;
        }
        assert!(Instant::now() < deadline, "the cancel made while down did not reach the TRS: {trs:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let seen = statuses(&events);
    let of = |id: &str| seen.iter().filter(|(e, _)| e == id).map(|(_, s)| s.as_str()).collect::<Vec<_>>();
    let order = ["requested", "scheduled", "running", "succeeded", "canceling", "canceled"];
    for id in [&noop, &pause] {
        let statuses = of(id);
        let ranks: Vec<usize> = statuses.iter().map(|s| order.iter().position(|o| o == s).unwrap()).collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{id}: in order, each once: {statuses:?}");
    }
    assert_eq!(of(&noop).last(), Some(&"succeeded"), "{seen:?}");
    assert_eq!(of(&pause).last(), Some(&"canceled"), "the change made while down: {seen:?}");
    assert!(of(&pause).contains(&"running"), "{seen:?}");
    // Rule events stay on the rules' topic, execution events on theirs: the key is the result's IRI.
    let results = format!("{PUBLIC}/serviceProviders/1/automationResults/");
    assert!(events.iter().all(|e| e.changed.as_str().starts_with(&results)));
}
