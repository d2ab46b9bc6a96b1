//! An event-condition-action bridge: it subscribes to the OSLC Events of `st2-oslc` on Kafka and runs OSLC Actions
//! in another tool, as the rules file says. With `examples/bridge-rules.toml`: when a StackStorm rule is disabled or
//! deleted, it creates a change request "review rule …" in the toy tracker; when the rule is enabled again, it closes
//! that change request through the tracker's Close action.
//!
//! ```text
//! cargo run -p examples --bin bridge -- --rules examples/bridge-rules.toml \
//!     --kafka-brokers 127.0.0.1:9092 --kafka-topic st2_event --group review-bridge
//! ```
//!
//! Every flag also comes from the environment: `BRIDGE_RULES`, `BRIDGE_KAFKA_BROKERS`, `BRIDGE_KAFKA_TOPIC`
//! (default `st2_event`), `BRIDGE_GROUP` (default `oslc-bridge`); `--trs URL` (`BRIDGE_TRS`) follows st2-oslc's TRS
//! instead of Kafka; `--bearer URL_PREFIX=TOKEN` (`BRIDGE_BEARER`, comma separated) sends a bearer token to the
//! URLs under a prefix (such as the tracker's); `--metrics-listen ADDR` (`BRIDGE_METRICS_LISTEN`) serves `/metrics`
//! (events handled, dead letters); `--oidc-issuer URL`, `--oidc-client-id ID`, `--oidc-client-secret SECRET`,
//! `--oidc-audience AUD` (`BRIDGE_OIDC_*`) get access tokens with the client credentials grant, renewed before they
//! expire, for the URLs under `--oidc-prefix URL_PREFIX` (default the audience), scope `--oidc-scope` (default
//! `oslc.read oslc.write`). It prints `bridge running` once subscribed (following a TRS: once it has read the Base).
//! An event's offset is committed only after all its actions succeeded.

use oslc_core::client::{Client, Credential};
use oslc_core::oauth::ClientCredentials;
use oslc_events::EventSource;
use oslc_events::kafka::{KafkaConfig, KafkaConsumer};
use oslc_events::reactor::Reactor;
use oslc_events::trs_client::{TrsFollower, TrsSource};

fn flag(name: &str, env: &str) -> Option<String> {
    let mut args = std::env::args().skip_while(|a| a != name).skip(1);
    args.next().or_else(|| std::env::var(env).ok())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let rules = flag("--rules", "BRIDGE_RULES").ok_or_else(|| anyhow::anyhow!("--rules FILE is required"))?;
    let text = std::fs::read_to_string(&rules).map_err(|e| anyhow::anyhow!("reading {rules}: {e}"))?;
    // A mistake in a rule (a `where` that does not parse, an unknown placeholder) stops the bridge here, naming it.
    let mut reactor = Reactor::from_toml(Client::new()?, &text).map_err(|e| anyhow::anyhow!("{rules}: {e}"))?;
    // `--bearer URL_PREFIX=TOKEN` (or BRIDGE_BEARER, comma separated): credentials for the tools it acts in.
    for pair in flag("--bearer", "BRIDGE_BEARER").iter().flat_map(|v| v.split(',')).filter(|p| !p.trim().is_empty()) {
        let (prefix, token) =
            pair.split_once('=').ok_or_else(|| anyhow::anyhow!("--bearer takes URL_PREFIX=TOKEN, not {pair:?}"))?;
        reactor = reactor.with_bearer(prefix.trim(), token.trim());
    }
    // `--oidc-issuer …`: OAuth 2.0 client credentials for the tool it acts in (the secret never logged).
    if let Some(issuer) = flag("--oidc-issuer", "BRIDGE_OIDC_ISSUER") {
        let required =
            |name: &str, env: &str| flag(name, env).ok_or_else(|| anyhow::anyhow!("--oidc-issuer needs {name}"));
        let audience = required("--oidc-audience", "BRIDGE_OIDC_AUDIENCE")?;
        let prefix = flag("--oidc-prefix", "BRIDGE_OIDC_PREFIX").unwrap_or_else(|| audience.clone());
        let scope = flag("--oidc-scope", "BRIDGE_OIDC_SCOPE").unwrap_or_else(|| "oslc.read oslc.write".into());
        let tokens = ClientCredentials::discover(
            &issuer,
            required("--oidc-client-id", "BRIDGE_OIDC_CLIENT_ID")?,
            required("--oidc-client-secret", "BRIDGE_OIDC_CLIENT_SECRET")?,
        )
        .await?
        .with_scope(scope)
        .with_resource(&audience);
        // A refused client stops the bridge at start, with the provider's reason.
        tokens.token().await?;
        tracing::info!(%issuer, %audience, %prefix, "access tokens from the client credentials grant");
        reactor = reactor.with_credential(prefix, Credential::ClientCredentials(tokens));
    }
    // `--metrics-listen ADDR`: /metrics for Prometheus (events handled, dead letters).
    let metrics = oslc_core::server::Metrics::new();
    if let Some(listen) = flag("--metrics-listen", "BRIDGE_METRICS_LISTEN") {
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        println!("metrics on {}", listener.local_addr()?);
        let routes: axum::Router = metrics.routes();
        tokio::spawn(async move { axum::serve(listener, routes).await });
    }
    // One handler, two transports: Kafka, or (for tools without it) st2-oslc's TRS (`http://…/trs`).
    let mut source: Box<dyn EventSource> = match flag("--trs", "BRIDGE_TRS") {
        Some(trs) => {
            tracing::info!(rules = reactor.rules().len(), %trs, "bridge following a TRS");
            let mut follower = TrsFollower::new(TrsSource::new(reactor.client().clone(), trs));
            // Read the Base before saying the bridge runs: a change made after that is an event it acts on, never
            // part of the Base it starts from. A TRS not reachable yet is tried again every second.
            while let Err(error) = follower.synchronize().await {
                tracing::warn!(%error, "reading the TRS Base failed; will retry");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            Box::new(follower)
        }
        None => {
            let brokers = flag("--kafka-brokers", "BRIDGE_KAFKA_BROKERS")
                .ok_or_else(|| anyhow::anyhow!("--kafka-brokers (or --trs) is required"))?;
            let topic = flag("--kafka-topic", "BRIDGE_KAFKA_TOPIC").unwrap_or_else(|| "st2_event".into());
            let group = flag("--group", "BRIDGE_GROUP").unwrap_or_else(|| "oslc-bridge".into());
            let mut config = KafkaConfig::new(brokers, topic);
            // BRIDGE_KAFKA_SET_SESSION_TIMEOUT_MS=6000 sets librdkafka's session.timeout.ms, and so on.
            for (key, value) in std::env::vars().filter(|(_, v)| !v.is_empty()) {
                if let Some(key) = key.strip_prefix("BRIDGE_KAFKA_SET_") {
                    config = config.with(key.to_lowercase().replace('_', "."), value);
                }
            }
            tracing::info!(rules = reactor.rules().len(), %group, "bridge subscribed");
            Box::new(KafkaConsumer::new(&config, &group)?.with_metrics(&metrics))
        }
    };
    println!("bridge running");
    source
        .run(
            &reactor,
            Box::pin(async {
                let _ = tokio::signal::ctrl_c().await;
            }),
        )
        .await?;
    Ok(())
}
