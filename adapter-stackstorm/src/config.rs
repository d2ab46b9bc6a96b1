//! The `st2-oslc` command line; every flag can also come from an environment variable.
//!
//! ```
//! use clap::Parser;
//! use adapter_stackstorm::Config;
//!
//! let config = Config::parse_from(["st2-oslc", "--st2-url", "https://st2.example", "--st2-api-key", "k3y"]);
//! assert_eq!(config.public_url("127.0.0.1:8080".parse()?), "http://127.0.0.1:8080");
//! assert!(!format!("{config:?}").contains("k3y"), "secrets never reach Debug or the logs");
//! assert_eq!(adapter_stackstorm::config::without_password("mongodb://st2:pw@db:27017/"), "mongodb://<redacted>@db:27017/");
//! Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use secrecy::SecretString;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// How events are written on Kafka.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
#[non_exhaustive]
pub enum KafkaPayload {
    /// The event in Turtle, CloudEvents attributes as `ce_*` headers (binary mode).
    #[default]
    Turtle,
    /// The event as plain JSON (the versioned JSON-LD form of `oslc_events::schema`, `ce_dataschema` its schema),
    /// CloudEvents attributes as headers (binary mode).
    Json,
    /// One `application/cloudevents+json` document, the event as plain JSON in its `data` (structured mode).
    Cloudevents,
}

/// The StackStorm OSLC adapter: StackStorm rules as OSLC resources, rule changes as OSLC Events.
#[derive(Clone, Parser)]
#[command(name = "st2-oslc", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "ST2_OSLC_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// URL clients reach the adapter at (resource IRIs start with it); default: `http://<listen>`.
    #[arg(long, env = "ST2_OSLC_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Directory for the adapter's durable state (the event log).
    #[arg(long, env = "ST2_OSLC_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// StackStorm's API: its public URL (`/api/v1` is appended) or a base ending in `/v1`.
    #[arg(long, env = "ST2_URL")]
    pub st2_url: Option<String>,
    /// StackStorm API key (`St2-Api-Key`).
    #[arg(long, env = "ST2_API_KEY", hide_env_values = true, conflicts_with = "st2_token", value_parser = secret)]
    pub st2_api_key: Option<SecretString>,
    /// StackStorm auth token (`X-Auth-Token`).
    #[arg(long, env = "ST2_AUTH_TOKEN", hide_env_values = true, value_parser = secret)]
    pub st2_token: Option<SecretString>,
    /// MongoDB URI of StackStorm's database (a replica set, for change streams).
    #[arg(long, env = "ST2_OSLC_MONGO_URI", hide_env_values = true)]
    pub mongo_uri: Option<String>,
    /// Kafka bootstrap servers, comma separated.
    #[arg(long, env = "ST2_OSLC_KAFKA_BROKERS")]
    pub kafka_brokers: Option<String>,
    /// Kafka topic of the OSLC Events.
    #[arg(long, env = "ST2_OSLC_KAFKA_TOPIC", default_value = "st2_event")]
    pub kafka_topic: String,
    /// Kafka topic of the OSLC Events of executions (their AutomationResults); the record key is the result's IRI.
    #[arg(long, env = "ST2_OSLC_KAFKA_EXECUTION_TOPIC", default_value = "st2_execution_event")]
    pub kafka_execution_topic: String,
    /// How events are written on Kafka: `turtle`, `json` (both CloudEvents binary mode) or `cloudevents`
    /// (structured mode, JSON).
    #[arg(long, env = "ST2_OSLC_KAFKA_PAYLOAD", value_enum, default_value = "turtle")]
    pub kafka_payload: KafkaPayload,
    /// How often the polling change source lists the rules, in milliseconds (used where MongoDB change streams
    /// are not available).
    #[arg(long, env = "ST2_OSLC_POLL_INTERVAL_MS", default_value_t = 2000)]
    pub poll_interval_ms: u64,
    /// Bearer token every write (POST, PUT, DELETE, actions) must carry.
    #[arg(long, env = "ST2_OSLC_API_TOKEN", hide_env_values = true, value_parser = secret)]
    pub api_token: Option<SecretString>,
    /// Require the API token for reads too.
    #[arg(long, env = "ST2_OSLC_PROTECT_READS")]
    pub protect_reads: bool,
    /// The OpenID provider whose access tokens (JWTs, or opaque ones by introspection) st2-oslc accepts, beside
    /// the API token: its issuer URL, where `/.well-known/openid-configuration` is.
    #[arg(long, env = "ST2_OSLC_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// The audience the provider's tokens must be for (default: the public URL).
    #[arg(long, env = "ST2_OSLC_OIDC_AUDIENCE", requires = "oidc_issuer")]
    pub oidc_audience: Option<String>,
    /// The scope of reads in the provider's tokens.
    #[arg(long, env = "ST2_OSLC_OIDC_READ_SCOPE", default_value = "oslc.read")]
    pub oidc_read_scope: String,
    /// The scope of writes and actions in the provider's tokens (it allows reads too).
    #[arg(long, env = "ST2_OSLC_OIDC_WRITE_SCOPE", default_value = "oslc.write")]
    pub oidc_write_scope: String,
    /// st2-oslc's client id at the provider, to introspect opaque tokens (with --oidc-client-secret).
    #[arg(long, env = "ST2_OSLC_OIDC_CLIENT_ID", requires = "oidc_client_secret")]
    pub oidc_client_id: Option<String>,
    /// st2-oslc's client secret at the provider.
    #[arg(long, env = "ST2_OSLC_OIDC_CLIENT_SECRET", hide_env_values = true, value_parser = secret, requires = "oidc_client_id")]
    pub oidc_client_secret: Option<SecretString>,
    /// Log people in at the OpenID provider (authorization code flow with PKCE) as the client of
    /// --oidc-client-id: a browser without a session is sent there and comes back to the page or dialog it asked
    /// for. Register `<public URL>/auth/callback` as the client's redirect URI and `<public URL>/auth/session` as
    /// its post-logout redirect URI.
    #[arg(long, env = "ST2_OSLC_OIDC_BROWSER_LOGIN", requires = "oidc_client_id")]
    pub oidc_browser_login: bool,
    /// An origin (such as `https://elm.example.com`) whose pages may show the delegated dialogs and previews in a
    /// frame; repeat the flag, or separate origins by commas in the environment variable. Without any, only
    /// st2-oslc's own pages may frame them.
    #[arg(long = "frame-ancestor", env = "ST2_OSLC_FRAME_ANCESTORS", value_delimiter = ',')]
    pub frame_ancestors: Vec<String>,
    /// Run fully embedded: a simulated StackStorm with sample rules, in memory.
    #[arg(long, env = "ST2_OSLC_DEMO")]
    pub demo: bool,
    /// Log format.
    #[arg(long, env = "ST2_OSLC_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Start a new, empty event log where the data directory had one that is now missing or empty (TRS clients
    /// rebase; Kafka consumers see new event ids). Without it, st2-oslc refuses to start in that case.
    #[arg(long, env = "ST2_OSLC_NEW_EVENT_LOG")]
    pub new_event_log: bool,
    /// Time a client has to send a request's head, and the longest an idle connection stays open, in milliseconds.
    #[arg(long, env = "ST2_OSLC_HEADER_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_timeout_ms: u64,
    /// Time one request may take, reading its body included, in milliseconds.
    #[arg(long, env = "ST2_OSLC_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,
    /// Connections served at once; more wait until one closes.
    #[arg(long, env = "ST2_OSLC_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Time requests in flight get to finish after SIGTERM, in milliseconds.
    #[arg(long, env = "ST2_OSLC_SHUTDOWN_TIMEOUT_MS", default_value_t = 10_000)]
    pub shutdown_timeout_ms: u64,
}

/// A flag's value kept as a secret: never in `Debug`, zeroed when dropped.
fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

/// A URI (MongoDB's, or a StackStorm URL) without the credentials of its user-info part.
#[must_use]
pub fn without_password(uri: &str) -> String {
    match (uri.find("://"), uri.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}<redacted>{}", &uri[..scheme + 3], &uri[at..]),
        _ => uri.to_owned(),
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("data_dir", &self.data_dir)
            .field("st2_url", &self.st2_url.as_deref().map(without_password))
            .field("st2_api_key", &self.st2_api_key)
            .field("st2_token", &self.st2_token)
            .field("mongo_uri", &self.mongo_uri.as_deref().map(without_password))
            .field("kafka_brokers", &self.kafka_brokers)
            .field("kafka_topic", &self.kafka_topic)
            .field("kafka_execution_topic", &self.kafka_execution_topic)
            .field("kafka_payload", &self.kafka_payload)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("api_token", &self.api_token)
            .field("protect_reads", &self.protect_reads)
            .field("frame_ancestors", &self.frame_ancestors)
            .field("oidc_issuer", &self.oidc_issuer)
            .field("oidc_audience", &self.oidc_audience)
            .field("oidc_client_id", &self.oidc_client_id)
            .field("oidc_client_secret", &self.oidc_client_secret)
            .field("oidc_browser_login", &self.oidc_browser_login)
            .field("demo", &self.demo)
            .field("log_format", &self.log_format)
            .field("new_event_log", &self.new_event_log)
            .field("header_timeout_ms", &self.header_timeout_ms)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("max_connections", &self.max_connections)
            .field("shutdown_timeout_ms", &self.shutdown_timeout_ms)
            .finish()
    }
}

impl Config {
    /// The HTTP serving budgets.
    #[must_use]
    pub fn serve_config(&self) -> oslc_core::server::ServeConfig {
        use std::time::Duration;
        oslc_core::server::ServeConfig::default()
            .with_header_read_timeout(Duration::from_millis(self.header_timeout_ms))
            .with_request_timeout(Duration::from_millis(self.request_timeout_ms))
            .with_max_connections(self.max_connections)
            .with_shutdown_timeout(Duration::from_millis(self.shutdown_timeout_ms))
    }

    /// The public URL, defaulting to `http://<listen>`.
    #[must_use]
    pub fn public_url(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{bound}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_every_secret() {
        let config = Config::parse_from([
            "st2-oslc",
            "--st2-api-key",
            "key-SECRET-1",
            "--api-token",
            "token-SECRET-2",
            "--mongo-uri",
            "mongodb://st2:pw-SECRET-3@mongo:27017/?replicaSet=rs0",
            "--st2-url",
            "https://admin:pw-SECRET-4@st2.example",
        ]);
        let debug = format!("{config:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(debug.contains("mongodb://<redacted>@mongo:27017"), "{debug}");
        assert!(debug.contains("https://<redacted>@st2.example"), "{debug}");
    }
}
