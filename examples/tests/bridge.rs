//! The integration loop, as three processes: `st2-oslc` (in front of the fake st2 writing to the MongoDB-wire server,
//! publishing to the Kafka-protocol broker), the toy tracker, and the bridge. Disabling a StackStorm rule opens a
//! review in the tracker; enabling it again closes the review through the tracker's Close action; deleting it opens
//! another. Needs `MONGO_URI` and `KAFKA_BROKERS` (`scripts/test.sh`), and `st2-oslc` built beside this test (as
//! `cargo test --workspace` does).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::Arc;

use adapter_stackstorm::st2::SimulatedSt2;
use testkit::fake_st2::{self, Credentials};
use testkit::mongo::MongoBackend;

use testkit::process::{sibling_binary, start};

/// The tracker's change requests that reference `rule`: (IRI, closed).
async fn reviews(client: &reqwest::Client, tracker: &str, rule: &str) -> Vec<(String, bool)> {
    let url = format!("{tracker}/serviceProviders/1/changeRequests");
    let query = [("oslc.where", format!("dcterms:references=<{rule}>")), ("oslc.select", "oslc_cm:closed".to_owned())];
    let text = client
        .get(&url)
        .query(&query)
        .header("accept", "application/n-triples")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut found: Vec<(String, bool)> = text
        .lines()
        .filter(|l| l.contains("<http://open-services.net/ns/cm#closed>"))
        .map(|l| {
            let subject = l.split_whitespace().next().unwrap().trim_matches(['<', '>']).to_owned();
            (subject, l.contains("\"true\""))
        })
        .collect();
    found.sort();
    found
}

async fn wait_for<T>(what: &str, check: impl AsyncFnMut() -> Option<T>) -> T {
    testkit::wait::for_value(what, 60, check).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_a_rule_opens_a_review_and_enabling_it_closes_it() {
    let (Some(mongo), Some(kafka)) = (testkit::services::mongo_uri(), testkit::services::kafka_brokers()) else {
        return;
    };
    adapter_stackstorm::install_crypto_provider();
    let mongo_db = testkit::services::fresh_database(&mongo);
    let st2 = Arc::new(SimulatedSt2::new(MongoBackend::connect(&mongo_db).await.unwrap()));
    let st2_url = fake_st2::spawn(st2, Credentials::api_key("bridge-key")).await;
    let topic = format!("st2_event_{}", uuid::Uuid::new_v4().simple());
    let data = tempfile_dir();

    let mut adapter = Command::new(sibling_binary("st2-oslc"));
    adapter
        .args([
            "--listen",
            "127.0.0.1:0",
            "--st2-url",
            &st2_url,
            "--st2-api-key",
            "bridge-key",
            "--mongo-uri",
            &mongo_db,
        ])
        .args(["--kafka-brokers", &kafka, "--kafka-topic", &topic, "--api-token", "loop-token", "--data-dir", &data])
        .env("RUST_LOG", "warn");
    let (_adapter, adapter_addr) = start(adapter, "listening on");
    let adapter = format!("http://{adapter_addr}");

    // With the OpenID provider of scripts/services.sh, the tracker also takes its tokens, and the bridge gets them
    // with the client credentials grant instead of holding the tracker's API token.
    let issuer = std::env::var("OIDC_ISSUER").ok();
    let mut tracker = Command::new(env!("CARGO_BIN_EXE_tracker"));
    tracker.args(["--listen", "127.0.0.1:0", "--api-token", "tracker-token"]);
    if let Some(issuer) = &issuer {
        tracker.args(["--oidc-issuer", issuer]);
    }
    let (_tracker, tracker_addr) = start(tracker, "listening on");
    let tracker = format!("http://{tracker_addr}");

    let client = reqwest::Client::new();
    wait_for("the adapter to watch rules", async || {
        let ready = client.get(format!("{adapter}/readyz")).send().await.ok()?;
        (ready.status() == 200).then_some(())
    })
    .await;
    let rules = format!("{adapter}/serviceProviders/1/changeRequests");
    let body = r#"@prefix st2: <https://w3id.org/st2-oslc/ns#> . <> <http://purl.org/dc/terms/title> "page_on_call" ; st2:pack "ops" ; st2:enabled true ; st2:triggerType "core.st2.webhook" ; st2:triggerParameters "{\"url\": \"oncall\"}"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON> ; st2:actionRef "core.local" ."#;
    let created = client
        .post(&rules)
        .bearer_auth("loop-token")
        .header("content-type", "text/turtle")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let rule = created.headers()["location"].to_str().unwrap().to_owned();

    // The bridge subscribes once the topic exists (the creation's event made it); it reads from the start.
    wait_for("the creation to reach the TRS", async || {
        let trs = client
            .get(format!("{adapter}/trs"))
            .header("accept", "application/n-triples")
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        trs.contains(&rule).then_some(())
    })
    .await;
    let rules_file = format!("{data}/bridge-rules.toml");
    std::fs::write(&rules_file, include_str!("../bridge-rules.toml").replace("TRACKER", &tracker)).unwrap();
    let mut bridge = Command::new(env!("CARGO_BIN_EXE_bridge"));
    bridge
        .args(["--rules", &rules_file, "--kafka-brokers", &kafka, "--kafka-topic", &topic, "--group", &topic])
        .env("BRIDGE_KAFKA_SET_SESSION_TIMEOUT_MS", "6000")
        .env("BRIDGE_KAFKA_SET_HEARTBEAT_INTERVAL_MS", "500")
        .env("BRIDGE_KAFKA_SET_FETCH_WAIT_MAX_MS", "20")
        .env("BRIDGE_KAFKA_SET_TOPIC_METADATA_REFRESH_INTERVAL_MS", "500")
        .env("RUST_LOG", std::env::var("BRIDGE_LOG").unwrap_or_else(|_| "warn".into()));
    match &issuer {
        // The tracker's audience is its public URL.
        Some(issuer) => bridge
            .env("BRIDGE_OIDC_ISSUER", issuer)
            .env("BRIDGE_OIDC_CLIENT_ID", "oslc-tests")
            .env("BRIDGE_OIDC_CLIENT_SECRET", "oslc-tests-secret")
            .env("BRIDGE_OIDC_AUDIENCE", &tracker),
        // The bridge writes to the tracker with its token.
        None => bridge.env("BRIDGE_BEARER", format!("{tracker}=tracker-token")),
    };
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    bridge.args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")]);
    let (_bridge, _) = start(bridge, "bridge running");

    // Disable: a review opens in the tracker, referencing the rule.
    assert_eq!(client.post(format!("{rule}/disable")).bearer_auth("loop-token").send().await.unwrap().status(), 200);
    let opened = wait_for("a review to open", async || {
        let found = reviews(&client, &tracker, &rule).await;
        (found.len() == 1).then_some(found)
    })
    .await;
    assert!(!opened[0].1, "the review is open");
    let review =
        client.get(&opened[0].0).header("accept", "application/n-triples").send().await.unwrap().text().await.unwrap();
    assert!(review.contains("review rule page_on_call"), "{review}");

    // Enable again: the bridge runs the tracker's Close action on that review.
    assert_eq!(client.post(format!("{rule}/enable")).bearer_auth("loop-token").send().await.unwrap().status(), 200);
    wait_for("the review to close", async || {
        let found = reviews(&client, &tracker, &rule).await;
        (found.len() == 1 && found[0].1).then_some(())
    })
    .await;

    // Delete: another review.
    assert_eq!(client.delete(&rule).bearer_auth("loop-token").send().await.unwrap().status(), 204);
    let after = wait_for("a second review", async || {
        let found = reviews(&client, &tracker, &rule).await;
        (found.len() == 2).then_some(found)
    })
    .await;
    assert_eq!(after.iter().filter(|(_, closed)| !closed).count(), 1);
    // What the bridge counted: every event it handled, and no dead letter.
    let metrics = client.get(format!("http://127.0.0.1:{metrics_port}/metrics")).send().await.unwrap().text().await;
    let metrics = metrics.unwrap();
    let handled = metrics
        .lines()
        .find_map(|l| l.strip_prefix("oslc_events_consumed_total "))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or_default();
    assert!(handled >= 3, "disable, enable and delete at least: {metrics}");
    assert!(!metrics.contains("oslc_events_dead_letters_total{"), "{metrics}");
}

fn tempfile_dir() -> String {
    let dir = std::env::temp_dir().join(format!("bridge-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.display().to_string()
}

/// A mistake in the rules file stops the bridge at start, naming the rule and what is wrong, before it subscribes.
#[test]
fn a_bad_rule_stops_the_bridge_at_start() {
    let data = tempfile_dir();
    let rules_file = format!("{data}/bad-rules.toml");
    let bad = include_str!("../bridge-rules.toml")
        .replace("TRACKER", "http://127.0.0.1:9")
        .replace("oslc_cm:closed=false", "oslc_cm:closed=");
    std::fs::write(&rules_file, bad).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(["--rules", &rules_file, "--kafka-brokers", "127.0.0.1:9"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("bridge running"));
    assert!(stderr.contains("close the review when the rule is enabled again") && stderr.contains("where"), "{stderr}");
}

/// The other direction of the loop, as three processes: a change request created in the toy tracker asks for a
/// StackStorm action; the bridge, following the tracker's TRS, creates an OSLC Automation request in `st2-oslc`
/// (found through its catalog), which runs the action; its result reaches complete + passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_request_asking_for_it_runs_a_stackstorm_action() {
    adapter_stackstorm::install_crypto_provider();
    let mut adapter = Command::new(sibling_binary("st2-oslc"));
    adapter.args(["--demo", "--listen", "127.0.0.1:0", "--api-token", "loop-token"]).env("RUST_LOG", "warn");
    let (_adapter, adapter_addr) = start(adapter, "listening on");
    let adapter = format!("http://{adapter_addr}");
    let mut tracker = Command::new(env!("CARGO_BIN_EXE_tracker"));
    tracker.args(["--listen", "127.0.0.1:0", "--api-token", "tracker-token"]);
    let (_tracker, tracker_addr) = start(tracker, "listening on");
    let tracker = format!("http://{tracker_addr}");

    let data = tempfile_dir();
    let rules_file = format!("{data}/automation-rules.toml");
    std::fs::write(&rules_file, include_str!("../automation-rules.toml").replace("ST2OSLC", &adapter)).unwrap();
    let mut bridge = Command::new(env!("CARGO_BIN_EXE_bridge"));
    bridge
        .args(["--rules", &rules_file, "--trs", &format!("{tracker}/trs")])
        .env("BRIDGE_BEARER", format!("{adapter}=loop-token"))
        .env("RUST_LOG", std::env::var("BRIDGE_LOG").unwrap_or_else(|_| "warn".into()));
    let (_bridge, _) = start(bridge, "bridge running");

    let client = reqwest::Client::new();
    let requests = format!("{tracker}/serviceProviders/1/changeRequests");
    for (title, description) in [("uptime report", "run core.local"), ("unrelated", "nothing to run")] {
        let body = format!(
            "<> <http://purl.org/dc/terms/title> \"{title}\" ; <http://purl.org/dc/terms/description> \"{description}\" ."
        );
        let created = client
            .post(&requests)
            .bearer_auth("tracker-token")
            .header("content-type", "text/turtle")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    // st2-oslc ran core.local with the command made from the change request's title, to complete + passed.
    let results = format!("{adapter}/serviceProviders/1/automationResults");
    let ran = wait_for("the action to run and complete", async || {
        let text = client
            .get(&results)
            .query(&[("oslc.select", "*")])
            .header("accept", "application/n-triples")
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let done = text.contains("\"echo uptime report\"")
            && text.contains("<http://open-services.net/ns/auto#passed>")
            && text.contains("<http://open-services.net/ns/auto#complete>");
        done.then_some(text)
    })
    .await;
    assert!(!ran.contains("echo unrelated"), "only the change request asking for it ran an action");
    let executions = ran.lines().filter(|l| l.contains("<http://open-services.net/ns/auto#reportsOnAutomationPlan>"));
    assert_eq!(executions.count(), 1, "one execution: {ran}");
}
