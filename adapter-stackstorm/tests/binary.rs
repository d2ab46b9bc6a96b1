//! The `st2-oslc` binary: its command-line contract, the embedded demo, graceful shutdown on SIGTERM.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::Running;

#[test]
fn every_flag_of_the_contract_with_its_environment_variable() {
    let help = Command::new(env!("CARGO_BIN_EXE_st2-oslc")).arg("--help").output().unwrap();
    let text = String::from_utf8(help.stdout).unwrap();
    for (flag, env) in [
        ("--listen", "ST2_OSLC_LISTEN"),
        ("--public-url", "ST2_OSLC_PUBLIC_URL"),
        ("--data-dir", "ST2_OSLC_DATA_DIR"),
        ("--st2-url", "ST2_URL"),
        ("--st2-api-key", "ST2_API_KEY"),
        ("--st2-token", "ST2_AUTH_TOKEN"),
        ("--mongo-uri", "ST2_OSLC_MONGO_URI"),
        ("--kafka-brokers", "ST2_OSLC_KAFKA_BROKERS"),
        ("--kafka-topic", "ST2_OSLC_KAFKA_TOPIC"),
        ("--api-token", "ST2_OSLC_API_TOKEN"),
        ("--demo", "ST2_OSLC_DEMO"),
        ("--oidc-issuer", "ST2_OSLC_OIDC_ISSUER"),
        ("--oidc-audience", "ST2_OSLC_OIDC_AUDIENCE"),
        ("--oidc-client-id", "ST2_OSLC_OIDC_CLIENT_ID"),
        ("--oidc-client-secret", "ST2_OSLC_OIDC_CLIENT_SECRET"),
        ("--frame-ancestor", "ST2_OSLC_FRAME_ANCESTORS"),
    ] {
        assert!(text.contains(flag), "{flag} missing from --help:\n{text}");
        assert!(text.contains(env), "{env} missing from --help:\n{text}");
    }
    assert!(text.contains("[default: st2_event]"));
}

#[tokio::test]
async fn the_demo_serves_rules_and_stops_gracefully() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut child = Command::new(env!("CARGO_BIN_EXE_st2-oslc"))
        .args(["--demo", "--listen", "127.0.0.1:0", "--poll-interval-ms", "50"])
        .env("ST2_OSLC_API_TOKEN", "binary-test-token")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").expect("a listening line").to_owned();
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    // The listener is bound before the demo store is seeded: poll until rules are served.
    let deadline = Instant::now() + Duration::from_secs(20);
    let rules = loop {
        if let Ok(response) = client.get(format!("{base}/serviceProviders/1/changeRequests")).send().await
            && response.status() == 200
        {
            break response.text().await.unwrap();
        }
        assert!(Instant::now() < deadline, "the demo did not serve rules within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let graph = oslc_core::rdf::parse(rules.as_bytes(), oslc_core::rdf::RdfFormat::Turtle, &base).unwrap();
    assert_eq!(graph.triples_for_predicate(oslc_core::vocab::rdfs::member).count(), 5, "five sample rules: {rules}");

    let created = client
        .post(format!("{base}/serviceProviders/1/changeRequests"))
        .header("authorization", "Bearer binary-test-token")
        .header("content-type", "text/turtle")
        .body("@prefix st2: <https://w3id.org/st2-oslc/ns#> . <> <http://purl.org/dc/terms/title> \"from_the_test\" ; st2:triggerType \"core.st2.generic.notifytrigger\" ; st2:actionRef \"core.noop\" .")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();

    // The creation reaches the TRS change log (demo: polling source, event log in a temporary directory).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let trs = client
            .get(format!("{base}/trs"))
            .header("accept", "application/n-triples")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if trs.contains(&format!("<http://open-services.net/ns/core/trs#changed> <{location}>")) {
            assert!(trs.contains("https://w3id.org/st2-oslc/ns#RuleCreated"), "{trs}");
            break;
        }
        assert!(Instant::now() < deadline, "the creation did not reach the TRS within 20 s: {trs}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut running = running;
    Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = running.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "st2-oslc did not stop within 20 s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "graceful shutdown exits 0, not {status}");
}

fn spawn_st2_oslc(args: &[&str]) -> (Running, String) {
    support::spawn_st2_oslc(args, "binary-test-token")
}

#[tokio::test]
async fn http_is_served_at_once_while_mongodb_does_not_answer() {
    // Nothing listens on port 1; the driver would wait 60 s for a server before failing.
    let uri = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=60000&connectTimeoutMS=60000";
    let (_running, addr) = spawn_st2_oslc(&["--demo", "--listen", "127.0.0.1:0", "--mongo-uri", uri]);
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(response) = client.get(format!("http://{addr}/healthz")).send().await
            && response.status() == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "/healthz did not answer within 10 s while MongoDB is unreachable");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ready = client.get(format!("http://{addr}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert!(ready.text().await.unwrap().contains("not watching"));
    let catalog = client.get(format!("http://{addr}/serviceProviders/catalog")).send().await.unwrap();
    assert_eq!(catalog.status(), 200, "OSLC reads are served meanwhile");
}

#[tokio::test]
async fn sigterm_completes_while_a_half_open_connection_exists() {
    use tokio::io::AsyncWriteExt;
    let args = ["--demo", "--listen", "127.0.0.1:0", "--header-timeout-ms", "60000", "--shutdown-timeout-ms", "500"];
    let (mut running, addr) = spawn_st2_oslc(&args);
    let mut half = tokio::net::TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"POST /serviceProviders/1/changeRequests HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
        .await
        .unwrap();
    // The server has the request (the catalog answers on another connection).
    let catalog = reqwest::get(format!("http://{addr}/serviceProviders/catalog")).await.unwrap();
    assert_eq!(catalog.status(), 200);
    Command::new("kill").args(["-TERM", &running.0.id().to_string()]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = running.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "st2-oslc did not stop within 15 s of SIGTERM with a half-open connection");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status}");
    drop(half);
}

#[tokio::test]
async fn an_emptied_event_log_is_refused_unless_a_new_one_is_asked_for() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let trs_of = async |addr: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(r) = reqwest::get(format!("http://{addr}/trs")).await
                && r.status() == 200
            {
                return r.text().await.unwrap();
            }
            assert!(Instant::now() < deadline, "no TRS within 10 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let (first, addr) = spawn_st2_oslc(&["--demo", "--listen", "127.0.0.1:0", "--data-dir", &dir]);
    trs_of(&addr).await;
    drop(first);
    let identity = std::fs::read_to_string(data.path().join("event-log.id")).unwrap();

    // The volume comes back empty: starting on it is refused, naming the way out.
    std::fs::remove_file(data.path().join("events.redb")).unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_st2-oslc"))
        .args(["--demo", "--listen", "127.0.0.1:0", "--data-dir", &dir])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--new-event-log") && stderr.contains(identity.trim()), "{stderr}");

    // Asked for, a new log begins with a new identity.
    let (_second, addr) = spawn_st2_oslc(&["--demo", "--listen", "127.0.0.1:0", "--data-dir", &dir, "--new-event-log"]);
    trs_of(&addr).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = std::fs::read_to_string(data.path().join("event-log.id")).unwrap_or_default();
        if !now.trim().is_empty() && now != identity {
            break;
        }
        assert!(Instant::now() < deadline, "no new identity within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `text` as the Prometheus Python client's OpenMetrics parser reads it (interop/metrics_read.py, installed by
/// scripts/interop.sh): `(sample name, labels, value)` for each sample.
fn parse_openmetrics(text: &str) -> Vec<(String, std::collections::BTreeMap<String, String>, f64)> {
    use std::io::Write as _;
    let interop = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop");
    let python = interop.join(".venv/bin/python");
    assert!(python.is_file(), "{} is missing: run scripts/interop.sh", python.display());
    let mut child = std::process::Command::new(python)
        .arg(interop.join("metrics_read.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the OpenMetrics parser refused /metrics:\n{text}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let sample: serde_json::Value = serde_json::from_str(line).unwrap();
            let labels = sample["labels"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            (sample["name"].as_str().unwrap().to_owned(), labels, sample["value"].as_f64().unwrap())
        })
        .collect()
}

/// The value of the sample `name` with `labels` (all of them, exactly).
fn sample(
    samples: &[(String, std::collections::BTreeMap<String, String>, f64)],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && l.len() == labels.len()
                && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| *v)
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_follow_the_event_stream() {
    let (_running, addr) = spawn_st2_oslc(&["--demo", "--listen", "127.0.0.1:0", "--poll-interval-ms", "50"]);
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let rules = format!("{base}/serviceProviders/1/changeRequests");
    // Read as Prometheus reads it: before any change, the log is empty.
    let before = parse_openmetrics(&client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap());
    assert_eq!(sample(&before, "oslc_events_log_head", &[]), Some(0.0));
    for _ in 0..3 {
        assert_eq!(client.get(format!("{base}/serviceProviders/catalog")).send().await.unwrap().status(), 200);
    }
    let body = "<> <http://purl.org/dc/terms/title> \"metered\" ; <https://w3id.org/st2-oslc/ns#pack> \"ops\" ; \
                <https://w3id.org/st2-oslc/ns#triggerType> \"core.st2.generic.notifytrigger\" ; \
                <https://w3id.org/st2-oslc/ns#actionRef> \"core.local\" .";
    let created = client
        .post(&rules)
        .bearer_auth("binary-test-token")
        .header("content-type", "text/turtle")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let posted = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let metrics = testkit::wait::for_value("the creation's event in the metrics", 30, async || {
        let text = client.get(format!("{base}/metrics")).send().await.ok()?.text().await.ok()?;
        text.contains("oslc_events_log_head 1").then_some(text)
    })
    .await;
    assert!(
        metrics.contains(r#"http_requests_total{method="GET",route="/serviceProviders/catalog",status="200"} 3"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"http_requests_total{method="POST",route="/serviceProviders/1/changeRequests",status="201"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains("http_request_duration_seconds_bucket"), "{metrics}");
    assert!(metrics.contains("st2_oslc_change_source_watching 1"), "{metrics}");
    // When the change was seen, and how long ago: the poller saw it within its interval of the POST.
    let parsed = parse_openmetrics(&metrics);
    let value = |name: &str| sample(&parsed, name, &[]).unwrap_or_else(|| panic!("{name} in {metrics}"));
    let seen = value("oslc_events_log_last_event_timestamp_seconds");
    assert!((posted - 5.0..posted + 30.0).contains(&seen), "seen at {seen}, posted at {posted}");
    let age = value("oslc_events_log_last_event_age_seconds");
    assert!((0.0..30.0).contains(&age), "age {age}");
    // The demo's events go to an in-process bus, which takes them at once: nothing is left to deliver.
    let caught_up = testkit::wait::for_value("the relay to catch up", 30, async || {
        let text = client.get(format!("{base}/metrics")).send().await.ok()?.text().await.ok()?;
        text.contains("oslc_events_relay_lag 0").then_some(text)
    })
    .await;
    assert!(caught_up.contains("oslc_events_relay_delivered 1"), "{caught_up}");
    // The same, through the parser: the values moved with the event and the requests.
    let after = parse_openmetrics(&caught_up);
    assert_eq!(sample(&after, "oslc_events_log_head", &[]), Some(1.0));
    assert_eq!(sample(&after, "oslc_events_relay_lag", &[]), Some(0.0));
    let catalog = [("method", "GET"), ("route", "/serviceProviders/catalog"), ("status", "200")];
    assert_eq!(sample(&after, "http_requests_total", &catalog), Some(3.0));
    let timed = [("method", "GET"), ("route", "/serviceProviders/catalog")];
    let count = sample(&after, "http_request_duration_seconds_count", &timed).unwrap();
    assert!(count >= 3.0, "{count}");
}

/// A token of the OpenID provider of `scripts/services.sh` (npm oidc-provider) for `audience` with `scope`.
async fn oidc_token(issuer: &str, scope: &str, audience: &str) -> String {
    let reply = reqwest::Client::new()
        .post(format!("{issuer}/token"))
        .basic_auth("oslc-tests", Some("oslc-tests-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=client_credentials&scope={}&resource={audience}", scope.replace(' ', "%20")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    reply["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_openid_providers_tokens_are_taken_with_their_scopes() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let issuer = std::env::var("OIDC_ISSUER").expect("OIDC_ISSUER: run the tests with bash scripts/test.sh");
    let audience = "https://st2-oslc.test";
    let (_running, addr) = support::spawn_st2_oslc(
        &[
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--protect-reads",
            "--oidc-issuer",
            &issuer,
            "--oidc-audience",
            audience,
        ],
        "static-token",
    );
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let rules = format!("{base}/serviceProviders/1/changeRequests");
    let reader = oidc_token(&issuer, "oslc.read", audience).await;
    let writer = oidc_token(&issuer, "oslc.read oslc.write", audience).await;
    let enabled = format!("{rules}?oslc.where=st2:enabled=true");
    let listing =
        http.get(&enabled).bearer_auth(&reader).header("accept", "application/n-triples").send().await.unwrap();
    assert_eq!(listing.status(), 200);
    let listing = listing.text().await.unwrap();
    let member = listing.split(['<', '>']).find(|s| s.starts_with(&format!("{rules}/"))).unwrap().to_owned();

    let refused = http.post(format!("{member}/disable")).bearer_auth(&reader).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains("error=\"insufficient_scope\""), "{challenge}");
    let done = http.post(format!("{member}/disable")).bearer_auth(&writer).send().await.unwrap();
    assert_eq!(done.status(), 200, "the write scope runs actions");
    assert_eq!(http.get(&rules).bearer_auth("static-token").send().await.unwrap().status(), 200, "the API token too");

    // A token for another audience, and how a client finds the issuer (RFC 9728).
    let other = oidc_token(&issuer, "oslc.read", "https://elsewhere.test").await;
    let refused = http.get(&rules).bearer_auth(&other).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let challenge = refused
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect::<Vec<_>>()
        .join(" | ");
    assert!(challenge.contains("error=\"invalid_token\"") && challenge.contains("resource_metadata="), "{challenge}");
    let metadata: serde_json::Value = serde_json::from_str(
        &http.get(format!("{base}/.well-known/oauth-protected-resource")).send().await.unwrap().text().await.unwrap(),
    )
    .unwrap();
    assert_eq!(metadata["authorization_servers"][0], issuer.as_str());
    assert_eq!(metadata["resource"], audience);
    // The catalog and the service provider name the issuer too (OpenID Connect Discovery's issuer relation).
    for document in [format!("{base}/serviceProviders/catalog"), format!("{base}/serviceProviders/1")] {
        let triples = http.get(&document).bearer_auth(&reader).header("accept", "application/n-triples").send();
        let triples = triples.await.unwrap().text().await.unwrap();
        let named = format!("<{document}> <{}> <{issuer}> .", oslc_core::server::OPENID_ISSUER);
        assert!(triples.contains(&named), "{document} names the issuer: {triples}");
    }
}

#[test]
fn a_wrong_issuer_stops_st2_oslc_at_start_with_its_reason() {
    let output = Command::new(env!("CARGO_BIN_EXE_st2-oslc"))
        .args(["--demo", "--listen", "127.0.0.1:0", "--oidc-issuer", "http://127.0.0.1:9/nothing-here"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("OpenID discovery document"), "{said}");
}
