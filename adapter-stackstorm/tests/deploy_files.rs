//! The deployment files in `deploy/` against the binaries (no Docker engine runs here, so they are checked, not
//! run): every file parses; every variable they give st2-oslc, the bridge or the tracker is one those programs read;
//! ports agree; the probe paths answer on a running st2-oslc; the image name and version are the same everywhere.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_yaml_ng::Value;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.as_str().unwrap().to_owned(),
                        match v {
                            Value::String(s) => s.clone(),
                            other => serde_yaml_ng::to_string(other).unwrap().trim().to_owned(),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn port_of(listen: &str) -> u16 {
    listen.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn deploy_files_agree_with_the_binaries() {
    let help =
        String::from_utf8(Command::new(env!("CARGO_BIN_EXE_st2-oslc")).arg("--help").output().unwrap().stdout).unwrap();
    let bridge_source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/src/bin/bridge.rs")).unwrap();
    let tracker_source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/src/bin/tracker.rs")).unwrap();
    let image = format!("st2-oslc:{}", env!("CARGO_PKG_VERSION"));
    // clap lists `[env: NAME=value]`, or `[env: NAME]` for the variables whose values it hides (the secrets).
    let adapter_var = |name: &str| {
        assert!(
            help.contains(&format!("[env: {name}=")) || help.contains(&format!("[env: {name}]")),
            "st2-oslc reads no {name}"
        )
    };

    // docker-compose.yml
    let compose = &yaml_documents(&deploy().join("docker-compose.yml"))[0];
    let services = compose["services"].as_mapping().unwrap();
    let service = |name: &str| &services[&Value::String(name.to_owned())];
    let adapter = service("st2-oslc");
    assert_eq!(adapter["image"].as_str(), Some(image.as_str()));
    let env = string_map(&adapter["environment"]);
    for name in env.keys() {
        adapter_var(name);
    }
    let listen = port_of(&env["ST2_OSLC_LISTEN"]);
    let published = adapter["ports"][0].as_str().unwrap();
    assert!(published.ends_with(&format!(":{listen}")), "compose publishes {published}, st2-oslc listens on {listen}");
    assert!(env["ST2_OSLC_MONGO_URI"].contains("replicaSet="), "change streams need the replica set");
    let healthcheck = adapter["healthcheck"]["test"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(healthcheck.contains(&format!(":{listen}/readyz")), "{healthcheck}");
    for (name, source, program) in [("bridge", &bridge_source, "bridge"), ("tracker", &tracker_source, "tracker")] {
        assert_eq!(service(name)["image"].as_str(), Some(image.as_str()));
        for var in string_map(&service(name)["environment"]).keys() {
            assert!(source.contains(&format!("\"{var}\"")), "the {program} reads no {var}");
        }
    }
    assert!(service("mongo-init").is_mapping() && service("kafka").is_mapping());
    assert!(
        !string_map(&service("kafka")["environment"]).contains_key("KAFKA_ZOOKEEPER_CONNECT"),
        "KRaft, no ZooKeeper"
    );

    // Kubernetes
    let mut probes = Vec::new();
    for entry in std::fs::read_dir(deploy().join("k8s")).unwrap() {
        let path = entry.unwrap().path();
        for document in yaml_documents(&path) {
            match document["kind"].as_str().unwrap() {
                "ConfigMap" => {
                    let data = string_map(&document["data"]);
                    for name in data.keys() {
                        adapter_var(name);
                    }
                    assert_eq!(port_of(&data["ST2_OSLC_LISTEN"]), listen);
                }
                "Secret" => {
                    for name in string_map(&document["stringData"]).keys() {
                        adapter_var(name);
                    }
                }
                "Deployment" => {
                    let container = &document["spec"]["template"]["spec"]["containers"][0];
                    assert_eq!(container["image"].as_str(), Some(image.as_str()));
                    assert_eq!(container["ports"][0]["containerPort"].as_u64(), Some(u64::from(listen)));
                    for probe in ["livenessProbe", "readinessProbe"] {
                        probes.push(container[probe]["httpGet"]["path"].as_str().unwrap().to_owned());
                    }
                }
                "Service" => assert_eq!(document["spec"]["ports"][0]["targetPort"].as_str(), Some("http")),
                "Ingress" | "PersistentVolumeClaim" => {}
                other => panic!("unexpected kind {other} in {}", path.display()),
            }
        }
    }
    assert_eq!(probes, ["/healthz", "/readyz"]);

    // Dockerfile
    let dockerfile = std::fs::read_to_string(deploy().join("Dockerfile")).unwrap();
    assert!(dockerfile.contains(&format!("EXPOSE {listen}")));
    assert!(dockerfile.contains(&format!("-t {image}")));
    assert!(dockerfile.contains("USER st2oslc"), "the runtime image runs as a non-root user");
    for line in dockerfile.lines().filter(|l| l.trim_start().starts_with("ST2_OSLC_") || l.starts_with("ENV ")) {
        let name = line.trim_start_matches("ENV ").trim().split('=').next().unwrap();
        adapter_var(name);
    }
    assert!(dockerfile.contains(&format!("http://127.0.0.1:{listen}/healthz")));

    // env.example names what the compose file asks for.
    let example = std::fs::read_to_string(deploy().join("env.example")).unwrap();
    for line in example.lines().filter(|l| !l.starts_with('#') && l.contains('=')) {
        let name = line.split('=').next().unwrap();
        adapter_var(name);
        assert!(env.contains_key(name), "env.example sets {name}, which the compose file does not pass on");
    }

    // The probe paths answer on a running st2-oslc.
    let mut child = Command::new(env!("CARGO_BIN_EXE_st2-oslc"))
        .args(["--demo", "--listen", "127.0.0.1:0", "--poll-interval-ms", "50", "--api-token", "t"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = format!("http://{}", line.trim().strip_prefix("listening on ").unwrap());
    adapter_stackstorm::install_crypto_provider();
    let client = reqwest::Client::new();
    for path in &probes {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if client.get(format!("{base}{path}")).send().await.is_ok_and(|r| r.status() == 200) {
                break;
            }
            assert!(Instant::now() < deadline, "{path} did not answer 200");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Monitoring: Prometheus scrapes the services where the compose file runs them, and every series the Grafana
    // dashboard plots is one the programs serve.
    let prometheus = &yaml_documents(&deploy().join("monitoring/prometheus.yml"))[0];
    let mut targets = BTreeMap::new();
    for job in prometheus["scrape_configs"].as_sequence().unwrap() {
        assert_eq!(job["metrics_path"].as_str(), Some("/metrics"));
        let target = job["static_configs"][0]["targets"][0].as_str().unwrap().to_owned();
        targets.insert(job["job_name"].as_str().unwrap().to_owned(), target);
    }
    assert_eq!(targets["st2-oslc"], format!("st2-oslc:{listen}"));
    assert_eq!(targets["tracker"], "tracker:8081");
    let bridge_env = string_map(&service("bridge")["environment"]);
    assert_eq!(targets["bridge"], format!("bridge:{}", port_of(&bridge_env["BRIDGE_METRICS_LISTEN"])));
    let served = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    let library =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../oslc-events/src/kafka/consumer.rs"))
            .unwrap();
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(deploy().join("monitoring/grafana-dashboard.json")).unwrap())
            .unwrap();
    let mut plotted = 0;
    for target in dashboard["panels"].as_array().unwrap().iter().flat_map(|p| p["targets"].as_array().unwrap()) {
        let expr = target["expr"].as_str().unwrap();
        let names = expr
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("http_") || w.starts_with("oslc_events_") || w.starts_with("st2_oslc_"));
        for name in names {
            plotted += 1;
            if expr.contains("job=\"bridge\"") {
                let registered = name.trim_end_matches("_total");
                assert!(library.contains(&format!("\"{registered}\"")), "the consumer registers no {name}");
            } else {
                assert!(served.contains(name), "st2-oslc serves no {name}:\n{served}");
            }
        }
    }
    assert!(plotted >= 8, "{plotted}");
    let _ = child.kill();
    let _ = child.wait();
}
