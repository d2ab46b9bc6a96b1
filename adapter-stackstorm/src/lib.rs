#![doc = include_str!("../README.md")]

pub mod app;
pub mod config;
pub mod demo;
pub mod events;
pub mod monitor;
pub mod oslc;
pub mod st2;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use app::{AppConfig, app};
pub use config::{Config, LogFormat};

/// The adapter's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Makes ring rustls's process-wide crypto provider (reqwest and the MongoDB driver both use rustls); idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Serves the adapter on `listener` until `shutdown` completes, then finishes the requests in flight and stops the
/// change source and the relay.
///
/// Rule changes go: change source (a MongoDB change stream with `--mongo-uri`, else polling the REST API) → event log (`<data-dir>/events.redb`, served at `/trs` at once) → relay →
/// Kafka (`--kafka-brokers`) or, without Kafka, an in-process bus.
///
/// # Errors
/// A StackStorm URL that is not http(s), a public URL that is not absolute, an unusable data directory, Kafka
/// settings librdkafka refuses, or a failure to serve.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    install_crypto_provider();
    let bound = listener.local_addr()?;
    let public_url = config.public_url(bound);
    let mut cache = None;
    let (store, api_token): (Arc<dyn st2::RuleStore>, Option<String>) = match (&config.st2_url, config.demo) {
        (Some(url), false) => {
            let auth = match (&config.st2_api_key, &config.st2_token) {
                (Some(key), _) => st2::St2Auth::ApiKey(key.clone()),
                (None, Some(token)) => st2::St2Auth::Token(token.clone()),
                (None, None) => st2::St2Auth::None,
            };
            tracing::info!(st2_url = %config::without_password(url), auth = ?auth, "using StackStorm's REST API");
            // Reads and queries are answered from a cache the change source keeps current, not per request.
            let cached = Arc::new(st2::RuleCache::new(Arc::new(st2::St2Client::new(url, auth)?)));
            cache = Some(cached.clone());
            (cached, config.api_token.clone())
        }
        (_, demo) => {
            if !demo {
                tracing::warn!("no --st2-url given: running the embedded demo StackStorm");
            }
            let token = config.api_token.clone().unwrap_or_else(|| {
                let token = random_token();
                // Printed, not logged: the person who started the demo needs it to write.
                println!("demo API token (Authorization: Bearer …): {token}");
                token
            });
            (Arc::new(demo::demo_store().await?), Some(token))
        }
    };
    if api_token.is_none() {
        tracing::warn!("no --api-token: every write will be refused with 401");
    }

    // Durable state: the event log. The demo without --data-dir keeps it in a temporary directory.
    let temporary;
    let data_dir = match &config.data_dir {
        Some(dir) => dir.clone(),
        None => {
            if !config.demo && config.st2_url.is_some() {
                tracing::warn!("no --data-dir: the event log is temporary and will not survive a restart");
            }
            temporary = tempfile::tempdir()?;
            temporary.path().to_owned()
        }
    };
    std::fs::create_dir_all(&data_dir)?;
    let log: Arc<dyn oslc_events::EventLog> = Arc::new(oslc_events::RedbEventLog::open(data_dir.join("events.redb"))?);
    let identity = log_identity(&data_dir, log.as_ref(), config.new_event_log).await?;
    tracing::info!(data_dir = %data_dir.display(), head = log.head().await?, log_identity = %identity, "event log open");

    let app_config = AppConfig {
        public_url: public_url.clone(),
        api_token,
        protect_reads: config.protect_reads,
        body_limit: 1024 * 1024,
    };
    let built = app::build_with_log(store.clone(), &app_config, Some((log.clone(), identity.clone())))?;
    let (watching, source_status) = tokio::sync::watch::channel(false);
    let (delivering, relay_status) = tokio::sync::watch::channel(false);
    let router = built
        .router
        .clone()
        .route("/readyz", axum::routing::get(move || readiness(source_status.clone(), relay_status.clone())));

    let sink: Arc<dyn oslc_events::EventSink> = match &config.kafka_brokers {
        Some(brokers) => {
            tracing::info!(%brokers, topic = %config.kafka_topic, "publishing OSLC Events to Kafka");
            Arc::new(oslc_events::kafka::KafkaSink::new(oslc_events::kafka::KafkaConfig::new(
                brokers,
                &config.kafka_topic,
            ))?)
        }
        None => {
            tracing::info!("no --kafka-brokers: OSLC Events go to the TRS and an in-process bus");
            Arc::new(oslc_events::MemoryBus::new())
        }
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let signal = move || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|s| *s).await;
        }
    };
    let relay =
        oslc_events::Relay::new(log.clone(), sink, format!("relay:{}", config.kafka_topic)).with_status(delivering);
    let relay = tokio::spawn(relay.run(signal()));
    let factory =
        events::EventFactory::new(built.provider.clone(), built.service_provider.clone()).with_log_identity(&identity);
    let interval = std::time::Duration::from_millis(config.poll_interval_ms.max(10));
    let listing = match &cache {
        Some(cache) => events::RuleListing::new(cache.inner().clone(), factory.clone()).with_cache(cache.clone()),
        None => events::RuleListing::new(store, factory.clone()),
    };
    let poller = listing.poller(log.clone(), interval).await?;
    // The change source starts in the background, so HTTP is served at once even while MongoDB does not answer
    // (a liveness probe must not restart the adapter for that); /readyz says 503 meanwhile.
    let source = match config.mongo_uri.clone() {
        Some(uri) => {
            let stopped = signal();
            let poll_stopped = signal();
            tokio::spawn(async move {
                let monitor = match monitor::ChangeStreamMonitor::connect(&uri, log.clone(), factory).await {
                    Ok(monitor) => match cache {
                        Some(cache) => monitor.with_status(watching).with_cache(cache),
                        None => monitor.with_status(watching),
                    },
                    Err(error) => {
                        tracing::error!(%error, "invalid --mongo-uri: polling the REST API instead");
                        return poller.run(poll_stopped, Some(watching)).await;
                    }
                };
                match monitor.check().await {
                    Err(monitor::MonitorError::ChangeStreamsUnavailable(reason)) => {
                        tracing::warn!(%reason, "MongoDB offers no change streams (a standalone server?): polling the REST API instead");
                        poller.run(poll_stopped, Some(monitor.status_sender())).await;
                    }
                    checked => {
                        if let Err(error) = checked {
                            tracing::warn!(%error, "MongoDB is not answering yet; the monitor will keep trying");
                        }
                        if let Err(error) = monitor.run(stopped).await {
                            tracing::error!(%error, "the rule change monitor stopped");
                        }
                    }
                }
            })
        }
        None => tokio::spawn(poller.run(signal(), Some(watching))),
    };

    tracing::info!(%bound, %public_url, version = VERSION, "st2-oslc serving");
    let served = oslc_core::server::serve(listener, router, config.serve_config(), shutdown).await;
    let _ = stop.send(true);
    let _ = source.await;
    match relay.await {
        Ok(Err(error)) => tracing::error!(%error, "the relay stopped"),
        Err(error) => tracing::error!(%error, "the relay task failed"),
        Ok(Ok(())) => {}
    }
    served?;
    tracing::info!("st2-oslc stopped");
    Ok(())
}

/// The checkpoint holding the event log's identity.
pub const LOG_IDENTITY_CHECKPOINT: &str = "log:identity";
/// The file beside the event log that remembers which log the data directory had.
pub const LOG_IDENTITY_FILE: &str = "event-log.id";

/// The identity of the event log in `data_dir`: the log's own (written into it when it was created), remembered in
/// a file beside it, so a log that went missing or was emptied (a lost volume, a wrong mount) is noticed rather
/// than silently replaced by a new one whose orders and segment URIs repeat the old ones.
async fn log_identity(
    data_dir: &std::path::Path,
    log: &dyn oslc_events::EventLog,
    new_log: bool,
) -> anyhow::Result<String> {
    let marker = data_dir.join(LOG_IDENTITY_FILE);
    let remembered = std::fs::read_to_string(&marker).ok().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let stored = log.checkpoint(LOG_IDENTITY_CHECKPOINT).await?.and_then(|b| String::from_utf8(b).ok());
    let identity = match stored {
        Some(identity) => identity,
        None => {
            if let Some(previous) = &remembered
                && log.head().await? == 0
                && !new_log
            {
                anyhow::bail!(
                    "the event log in {} is missing or empty, but this data directory had event log {previous}:                      restore events.redb, or start with --new-event-log to begin a new log (TRS clients will rebase)",
                    data_dir.display()
                );
            }
            let identity = uuid::Uuid::new_v4().simple().to_string();
            log.set_checkpoint(oslc_events::Checkpoint::new(LOG_IDENTITY_CHECKPOINT, identity.clone().into_bytes()))
                .await?;
            if remembered.is_some() {
                tracing::warn!(log_identity = %identity, "a new event log begins (--new-event-log)");
            }
            identity
        }
    };
    if remembered.as_deref() != Some(identity.as_str()) {
        std::fs::write(&marker, format!("{identity}\n"))?;
    }
    Ok(identity)
}

/// `/readyz`: 200 while rule changes become events (the change source is watching) and events are delivered (the
/// relay is caught up or publishing); 503 naming what is not, so an orchestrator stops routing to an adapter whose
/// events stall. `/healthz` stays about the process alone.
async fn readiness(
    source: tokio::sync::watch::Receiver<bool>,
    relay: tokio::sync::watch::Receiver<bool>,
) -> (axum::http::StatusCode, &'static str) {
    match (*source.borrow(), *relay.borrow()) {
        (true, true) => (axum::http::StatusCode::OK, "ready\n"),
        (false, _) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, "the rule change source is not watching\n"),
        (true, false) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, "events are not being delivered\n"),
    }
}

fn random_token() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..32).map(|_| char::from(b"abcdefghijkmnpqrstuvwxyz23456789"[rng.random_range(0..32)])).collect()
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
