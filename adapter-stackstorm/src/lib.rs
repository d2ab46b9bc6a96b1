#![doc = include_str!("../README.md")]

pub mod app;
pub mod config;
pub mod demo;
mod error;
pub mod events;
pub mod execution_watch;
pub mod monitor;
pub mod oslc;
pub mod st2;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oslc_core::server::Readiness;
use oslc_core::server::auth::oidc::JwtVerifier;
use oslc_events::{EventLog, EventSink};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use app::{AppConfig, app};
pub use config::{Config, KafkaPayload, LogFormat};
pub use error::AdapterError;

/// The adapter's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Makes ring rustls's process-wide crypto provider (reqwest and the MongoDB driver both use rustls); idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Serves the adapter on `listener` until `shutdown` completes, then finishes the requests in flight and stops the
/// change source and the relay: [`Adapter::start`], then [`Adapter::serve`].
///
/// # Errors
/// As [`Adapter::start`], or a failure to serve.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), AdapterError> {
    let adapter = Adapter::start(&config, listener.local_addr()?).await?;
    adapter.serve(listener, config.serve_config(), shutdown).await
}

/// The running adapter: its HTTP application and the background tasks that turn rule changes into delivered
/// events.
///
/// Rule changes go: change source (a MongoDB change stream with `--mongo-uri`, else polling the REST API) → event
/// log (`<data-dir>/events.redb`, served at `/trs` at once) → relay → Kafka (`--kafka-brokers`) or, without Kafka,
/// an in-process bus. `/readyz` says 503 while the change source is not watching or events are not delivered.
///
/// ```no_run
/// use clap::Parser;
/// # #[tokio::main] async fn main() -> Result<(), adapter_stackstorm::AdapterError> {
/// let config = adapter_stackstorm::Config::parse_from(["st2-oslc", "--demo"]);
/// let listener = tokio::net::TcpListener::bind(config.listen).await?;
/// let adapter = adapter_stackstorm::Adapter::start(&config, listener.local_addr()?).await?;
/// // Mount its router elsewhere, or serve it:
/// adapter.serve(listener, config.serve_config(), adapter_stackstorm::shutdown_signal()).await
/// # }
/// ```
pub struct Adapter {
    router: axum::Router,
    documents: oslc_core::server::DocumentCache,
    public_url: String,
    stop: watch::Sender<bool>,
    source: JoinHandle<()>,
    /// The source of execution events.
    executions: Option<JoinHandle<()>>,
    relay: JoinHandle<oslc_events::Result<()>>,
    /// The demo's event log directory, removed when the adapter is dropped.
    _temporary: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Adapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adapter").field("public_url", &self.public_url).finish_non_exhaustive()
    }
}

impl Adapter {
    /// Builds the adapter from `config` (listening at `bound`): the rule store, the event log and its identity,
    /// the HTTP application with health and readiness, and starts the relay and the change source in the
    /// background (HTTP is served at once even while MongoDB does not answer: a liveness probe must not restart
    /// the adapter for that).
    ///
    /// # Errors
    /// A StackStorm URL that is not http(s), a public URL that is not absolute, an unusable data directory or
    /// event log (one that went missing, see [`AdapterError::EventLogMissing`]), Kafka settings librdkafka refuses.
    pub async fn start(config: &Config, bound: SocketAddr) -> Result<Self, AdapterError> {
        install_crypto_provider();
        let public_url = config.public_url(bound);
        let (store, cache, executions, api_token) = rule_store(config).await?;
        let (data_dir, temporary) = data_dir(config)?;
        let log: Arc<dyn EventLog> = Arc::new(oslc_events::RedbEventLog::open(data_dir.join("events.redb"))?);
        let identity = log_identity(&data_dir, log.as_ref(), config.new_event_log).await?;
        tracing::info!(data_dir = %data_dir.display(), head = log.head().await?, log_identity = %identity, "event log open");

        let (watching, source_status) = watch::channel(false);
        let (delivering, relay_status) = watch::channel(false);
        let delivering_status = relay_status.clone();
        let readiness = Readiness::new()
            .with_check("the rule change source is not watching", source_status)
            .with_check("events are not being delivered", relay_status);
        let mut app_config = AppConfig {
            public_url: public_url.clone(),
            api_token,
            protect_reads: config.protect_reads,
            body_limit: 1024 * 1024,
            frame_ancestors: config.frame_ancestors.clone(),
            oidc: oidc_verifier(config, &public_url).await?,
            oidc_login: None,
            automation: Some(executions.clone()),
        };
        app_config.oidc_login = browser_login(config, &app_config)?;
        let built = app::build_with_log(store.clone(), &app_config, Some((log.clone(), identity.clone())), readiness)?;

        let (stop, stopped) = watch::channel(false);
        let relay = oslc_events::Relay::new(
            log.clone(),
            event_sink(config, built.automation.as_ref())?,
            format!("relay:{}", config.kafka_topic),
        )
        .with_status(delivering);
        let relay = tokio::spawn(relay.run(stop_signal(&stopped)));
        let factory = events::EventFactory::new(built.provider.clone(), built.service_provider.clone())
            .with_log_identity(&identity);
        let interval = std::time::Duration::from_millis(config.poll_interval_ms.max(10));
        let listing = match &cache {
            Some(cache) => events::RuleListing::new(cache.inner().clone(), factory.clone()).with_cache(cache.clone()),
            None => events::RuleListing::new(store, factory.clone()),
        };
        let poller = listing.poller(log.clone(), interval).await?;
        let metrics = built.metrics.clone();
        let gauges =
            oslc_events::metrics::LogMetrics::new(&metrics, log.clone(), format!("relay:{}", config.kafka_topic))
                .with_flag(
                    "oslc_events_relay_delivering",
                    "1 while events are delivered, 0 while delivery fails",
                    delivering_status,
                )
                .with_flag(
                    "st2_oslc_change_source_watching",
                    "1 while rule changes are watched, 0 otherwise",
                    watching.subscribe(),
                );
        tokio::spawn(gauges.run(stop_signal(&stopped)));
        // Each new execution and each change of its status is an event of its AutomationResult: with --mongo-uri a
        // change stream on st2's executions says at once which one changed; otherwise they are polled.
        let executions = built.automation.clone().map(|uris| {
            let listing = events::ExecutionListing::new(executions.clone(), uris).with_log_identity(&identity);
            let poller = listing.clone().poller(log.clone(), interval);
            match &config.mongo_uri {
                Some(uri) => tokio::spawn(
                    execution_watch::ExecutionWatch::new(uri.clone(), listing, poller, log.clone())
                        .run(stop_signal(&stopped)),
                ),
                None => tokio::spawn(poller.run(stop_signal(&stopped), None)),
            }
        });
        let source = match config.mongo_uri.clone() {
            Some(uri) => tokio::spawn(watch_rules(uri, log, factory, cache, poller, watching, stopped)),
            None => tokio::spawn(poller.run(stop_signal(&stopped), Some(watching))),
        };
        // Every request is counted and timed by route (the app's layers); /metrics is served beside them.
        let router = built.router;
        // Discovery documents never change: repeat requests for them are answered before the stack of layers.
        let documents = oslc_core::server::DocumentCache::new(built.documents).with_metrics(&metrics);
        Ok(Self { router, documents, public_url, stop, source, executions, relay, _temporary: temporary })
    }

    /// Every route: OSLC discovery and rules, actions, the vocabulary, the TRS, `/healthz`, `/readyz`.
    pub fn router(&self) -> axum::Router {
        self.router.clone()
    }

    /// The URL resource IRIs start with.
    #[must_use]
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Serves the router on `listener` until `shutdown` completes, then [`Adapter::stop`]s.
    ///
    /// # Errors
    /// A failure to serve.
    pub async fn serve(
        self,
        listener: TcpListener,
        serving: oslc_core::server::ServeConfig,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AdapterError> {
        tracing::info!(bound = %listener.local_addr()?, public_url = %self.public_url, version = VERSION, "st2-oslc serving");
        let app = oslc_core::server::Served::new(self.router()).with_document_cache(self.documents.clone());
        let served = oslc_core::server::serve(listener, app, serving, shutdown).await;
        self.stop().await;
        served?;
        tracing::info!("st2-oslc stopped");
        Ok(())
    }

    /// Stops the change source and the relay and waits for them (what was logged stays for the next start).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.source.await;
        if let Some(executions) = self.executions {
            let _ = executions.await;
        }
        match self.relay.await {
            Ok(Err(error)) => tracing::error!(%error, "the relay stopped"),
            Err(error) => tracing::error!(%error, "the relay task failed"),
            Ok(Ok(())) => {}
        }
    }
}

/// Completes once `stopped` turns true.
fn stop_signal(stopped: &watch::Receiver<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut stopped = stopped.clone();
    async move {
        let _ = stopped.wait_for(|s| *s).await;
    }
}

/// The rules, their cache (with `--st2-url`), StackStorm's actions and executions, and the API token.
type Stores =
    (Arc<dyn st2::RuleStore>, Option<Arc<st2::RuleCache>>, Arc<dyn st2::ExecutionStore>, Option<SecretString>);

/// StackStorm: its REST API (rules behind a cache the change source keeps current) with `--st2-url`, or the
/// embedded demo (actions run in simulation); and the API token writes need (the demo makes one up when none is
/// given).
async fn rule_store(config: &Config) -> Result<Stores, AdapterError> {
    if let (Some(url), false) = (&config.st2_url, config.demo) {
        let auth = match (&config.st2_api_key, &config.st2_token) {
            (Some(key), _) => st2::St2Auth::ApiKey(key.clone()),
            (None, Some(token)) => st2::St2Auth::Token(token.clone()),
            (None, None) => st2::St2Auth::None,
        };
        tracing::info!(st2_url = %config::without_password(url), auth = ?auth, "using StackStorm's REST API");
        // Reads and queries are answered from a cache the change source keeps current, not per request.
        let client = Arc::new(st2::St2Client::new(url, auth)?);
        let cached = Arc::new(st2::RuleCache::new(client.clone()));
        if config.api_token.is_none() {
            tracing::warn!("no --api-token: every write will be refused with 401");
        }
        return Ok((cached.clone(), Some(cached), client, config.api_token.clone()));
    }
    if !config.demo {
        tracing::warn!("no --st2-url given: running the embedded demo StackStorm");
    }
    let token = config.api_token.clone().unwrap_or_else(|| {
        let token = random_token();
        // Printed, not logged: the person who started the demo needs it to write.
        println!("demo API token (Authorization: Bearer …): {token}");
        token.into()
    });
    // Actions run in simulation (st2::execution): nothing is executed on this machine.
    let executions = Arc::new(st2::SimulatedExecutions::with_sample_actions(""));
    Ok((Arc::new(demo::demo_store().await?), None, executions, Some(token)))
}

/// The data directory (created if needed); the demo without `--data-dir` keeps its log in a temporary one.
fn data_dir(config: &Config) -> Result<(PathBuf, Option<tempfile::TempDir>), AdapterError> {
    let (dir, temporary) = match &config.data_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            if !config.demo && config.st2_url.is_some() {
                tracing::warn!("no --data-dir: the event log is temporary and will not survive a restart");
            }
            let temporary = tempfile::tempdir()?;
            (temporary.path().to_owned(), Some(temporary))
        }
    };
    std::fs::create_dir_all(&dir)?;
    Ok((dir, temporary))
}

/// Kafka (`--kafka-brokers`), or an in-process bus.
fn event_sink(
    config: &Config,
    automation: Option<&oslc::automation::AutomationUris>,
) -> Result<Arc<dyn EventSink>, AdapterError> {
    Ok(match &config.kafka_brokers {
        Some(brokers) => {
            tracing::info!(%brokers, topic = %config.kafka_topic, execution_topic = %config.kafka_execution_topic, payload = ?config.kafka_payload, "publishing OSLC Events to Kafka");
            let sink = |topic: &str| -> Result<Arc<dyn EventSink>, AdapterError> {
                let mut kafka = oslc_events::kafka::KafkaConfig::new(brokers, topic);
                match config.kafka_payload {
                    crate::config::KafkaPayload::Turtle => {}
                    crate::config::KafkaPayload::Json => {
                        kafka.format = oslc_core::rdf::content_type_format(Some("application/ld+json"))?;
                    }
                    crate::config::KafkaPayload::Cloudevents => {
                        kafka = kafka.with_cloudevents(oslc_events::kafka::CloudEventsMode::Structured);
                    }
                }
                Ok(Arc::new(oslc_events::kafka::KafkaSink::new(kafka)?))
            };
            let rules = sink(&config.kafka_topic)?;
            match automation {
                // Execution events on their own topic: those whose changed resource is an AutomationResult.
                Some(uris) => {
                    let results = format!("{}/", uris.results.iri().as_str());
                    let route: oslc_events::sink::Route =
                        Arc::new(move |event: &oslc_events::Event| event.changed.as_str().starts_with(&results));
                    Arc::new(
                        oslc_events::sink::RoutingSink::new(rules)
                            .with_route(route, sink(&config.kafka_execution_topic)?),
                    )
                }
                None => rules,
            }
        }
        None => {
            tracing::info!("no --kafka-brokers: OSLC Events go to the TRS and an in-process bus");
            Arc::new(oslc_events::MemoryBus::new())
        }
    })
}

/// Watches the rules through a MongoDB change stream, or polls StackStorm's API where the server offers none.
async fn watch_rules(
    uri: String,
    log: Arc<dyn EventLog>,
    factory: events::EventFactory,
    cache: Option<Arc<st2::RuleCache>>,
    poller: oslc_events::poller::SnapshotPoller<events::RuleListing>,
    watching: watch::Sender<bool>,
    stopped: watch::Receiver<bool>,
) {
    let monitor = match monitor::ChangeStreamMonitor::connect(&uri, log, factory).await {
        Ok(monitor) => match cache {
            Some(cache) => monitor.with_status(watching).with_cache(cache),
            None => monitor.with_status(watching),
        },
        Err(error) => {
            tracing::error!(%error, "invalid --mongo-uri: polling the REST API instead");
            return poller.run(stop_signal(&stopped), Some(watching)).await;
        }
    };
    match monitor.check().await {
        Err(monitor::MonitorError::ChangeStreamsUnavailable(reason)) => {
            tracing::warn!(%reason, "MongoDB offers no change streams (a standalone server?): polling the REST API instead");
            poller.run(stop_signal(&stopped), Some(monitor.status_sender())).await;
        }
        checked => {
            if let Err(error) = checked {
                tracing::warn!(%error, "MongoDB is not answering yet; the monitor will keep trying");
            }
            if let Err(error) = monitor.run(stop_signal(&stopped)).await {
                tracing::error!(%error, "the rule change monitor stopped");
            }
        }
    }
}

/// The verifier of `--oidc-issuer`'s tokens, if one is given: the provider's discovery document and keys are
/// read now, so a wrong issuer stops st2-oslc at start with its reason.
async fn oidc_verifier(config: &Config, public_url: &str) -> Result<Option<JwtVerifier>, AdapterError> {
    use oslc_core::server::auth::oidc::{IntrospectionClient, OidcOptions};
    use secrecy::ExposeSecret as _;
    let Some(issuer) = &config.oidc_issuer else { return Ok(None) };
    let audience = config.oidc_audience.clone().unwrap_or_else(|| public_url.to_owned());
    let mut options = OidcOptions::new(issuer, audience)
        .with_realm("st2-oslc")
        .with_scopes(&config.oidc_read_scope, &config.oidc_write_scope, &config.oidc_write_scope)
        .with_resource_metadata(format!(
            "{}{}",
            public_url.trim_end_matches('/'),
            oslc_core::server::auth::oidc::PROTECTED_RESOURCE_METADATA_PATH
        ));
    if let (Some(id), Some(secret)) = (&config.oidc_client_id, &config.oidc_client_secret) {
        options = options.with_introspection(IntrospectionClient {
            client_id: id.clone(),
            client_secret: secret.expose_secret().to_owned(),
        });
    }
    let verifier = JwtVerifier::discover(options).await?;
    tracing::info!(issuer = %issuer, audience = %verifier.options().audience, "accepting the OpenID provider's access tokens");
    Ok(Some(verifier))
}

/// People's logins at `--oidc-issuer` with `--oidc-browser-login`, as the client `--oidc-client-id`.
fn browser_login(
    config: &Config,
    app: &AppConfig,
) -> Result<Option<oslc_core::server::auth::login::BrowserLogin>, AdapterError> {
    use oslc_core::server::auth::login::{BrowserLogin, LoginOptions};
    use secrecy::ExposeSecret as _;
    let (Some(jwt), true, Some(id), Some(secret)) =
        (&app.oidc, config.oidc_browser_login, &config.oidc_client_id, &config.oidc_client_secret)
    else {
        return Ok(None);
    };
    let options = LoginOptions::new(id, secret.expose_secret(), &app.public_url)
        .with_home(oslc_core::server::Layout::catalog_path());
    let login = BrowserLogin::new(jwt, options, app::app_sessions(app))?;
    tracing::info!(redirect_uri = %login.redirect_uri(), "people log in at the OpenID provider");
    Ok(Some(login))
}

/// The checkpoint holding the event log's identity.
pub const LOG_IDENTITY_CHECKPOINT: &str = "log:identity";
/// The file beside the event log that remembers which log the data directory had.
pub const LOG_IDENTITY_FILE: &str = "event-log.id";

/// The identity of the event log in `data_dir`: the log's own (written into it when it was created), remembered in
/// a file beside it, so a log that went missing or was emptied (a lost volume, a wrong mount) is noticed rather
/// than silently replaced by a new one whose orders and segment URIs repeat the old ones.
async fn log_identity(data_dir: &Path, log: &dyn EventLog, new_log: bool) -> Result<String, AdapterError> {
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
                return Err(AdapterError::EventLogMissing {
                    data_dir: data_dir.display().to_string(),
                    previous: previous.clone(),
                });
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
