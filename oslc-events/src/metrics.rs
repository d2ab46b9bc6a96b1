//! Event-stream metrics for [`oslc_core::server::Metrics`] (feature `server`): the log's head and when its newest
//! event was seen, what a relay delivered and how far behind it is, and flags such as "the change source watches"
//! or "the relay delivers".
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use std::sync::Arc;
//! use oslc_events::metrics::LogMetrics;
//! use oslc_events::{EventLog, MemoryEventLog};
//!
//! let metrics = oslc_core::server::Metrics::new();
//! let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
//! let (_delivering, status) = tokio::sync::watch::channel(true);
//! let gauges = LogMetrics::new(&metrics, log, "relay:st2_event")
//!     .with_flag("oslc_events_relay_delivering", "1 while events are delivered", status);
//! gauges.update().await;
//! assert!(metrics.render().contains("oslc_events_relay_delivering 1"));
//! # }
//! ```

use std::future::Future;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use oslc_core::server::Metrics;
use oslc_core::server::prometheus_client::metrics::gauge::Gauge;
use oxsdatatypes::DateTime;
use tokio::sync::watch;

use crate::log::EventLog;

/// Gauges of an event log and its relay, kept current by [`LogMetrics::run`].
pub struct LogMetrics {
    log: Arc<dyn EventLog>,
    relay: String,
    head: Gauge,
    last_event: FloatGauge,
    last_event_age: FloatGauge,
    delivered: Gauge,
    lag: Gauge,
    flags: Vec<(Gauge, watch::Receiver<bool>)>,
    metrics: Metrics,
}

impl std::fmt::Debug for LogMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogMetrics").field("relay", &self.relay).finish_non_exhaustive()
    }
}

type FloatGauge = Gauge<f64, std::sync::atomic::AtomicU64>;

fn float_gauge(metrics: &Metrics, name: &str, help: &str) -> FloatGauge {
    let gauge = FloatGauge::default();
    metrics.register(name, help, gauge.clone());
    gauge
}

/// Seconds from the Unix epoch to `time`.
fn unix_seconds(time: DateTime) -> Option<f64> {
    let epoch = DateTime::from_str("1970-01-01T00:00:00Z").ok()?;
    seconds(time.checked_sub(epoch)?)
}

fn seconds(duration: oxsdatatypes::DayTimeDuration) -> Option<f64> {
    Some(f64::from(oxsdatatypes::Double::from(duration.as_seconds())))
}

fn gauge(metrics: &Metrics, name: &str, help: &str) -> Gauge {
    let gauge = Gauge::default();
    metrics.register(name, help, gauge.clone());
    gauge
}

impl LogMetrics {
    /// Registers `oslc_events_log_head`, `oslc_events_log_last_event_timestamp_seconds` (when the newest event's
    /// change was seen, its `dcterms:created`, as Unix time), `oslc_events_log_last_event_age_seconds` (how long
    /// ago, as of the last update; `time() - …timestamp_seconds` gives it exactly), `oslc_events_relay_delivered`
    /// and `oslc_events_relay_lag` for `log` and the relay whose checkpoint is `relay`.
    pub fn new(metrics: &Metrics, log: Arc<dyn EventLog>, relay: impl Into<String>) -> Self {
        Self {
            log,
            relay: relay.into(),
            head: gauge(metrics, "oslc_events_log_head", "The order of the newest event in the event log"),
            last_event: float_gauge(
                metrics,
                "oslc_events_log_last_event_timestamp_seconds",
                "When the change of the newest event in the log was seen (Unix time)",
            ),
            last_event_age: float_gauge(
                metrics,
                "oslc_events_log_last_event_age_seconds",
                "How long ago the change of the newest event in the log was seen",
            ),
            delivered: gauge(
                metrics,
                "oslc_events_relay_delivered",
                "The order of the last event the sink acknowledged",
            ),
            lag: gauge(metrics, "oslc_events_relay_lag", "Events in the log the sink has not acknowledged yet"),
            flags: Vec::new(),
            metrics: metrics.clone(),
        }
    }

    /// Adds a gauge `name` that is 1 while `status` holds `true`, else 0.
    #[must_use]
    pub fn with_flag(mut self, name: &str, help: &str, status: watch::Receiver<bool>) -> Self {
        self.flags.push((gauge(&self.metrics, name, help), status));
        self
    }

    /// Reads the log and the flags once.
    pub async fn update(&self) {
        let as_gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let counts = (self.log.head().await, crate::sink::delivered_order(self.log.as_ref(), &self.relay).await);
        // The newest event is read after the head and set before it, so a scrape that shows a head shows that
        // event's time (or a later one's).
        if let Ok(newest) = self.log.read_backward(None, 1).await
            && let Some(event) = newest.first()
        {
            if let Some(at) = unix_seconds(event.created) {
                self.last_event.set(at);
            }
            if let Some(age) = DateTime::now().checked_sub(event.created).and_then(seconds) {
                self.last_event_age.set(age.max(0.0));
            }
        }
        if let (Ok(head), Ok(delivered)) = counts {
            self.head.set(as_gauge(head));
            self.delivered.set(as_gauge(delivered));
            self.lag.set(as_gauge(head.saturating_sub(delivered)));
        }
        for (gauge, status) in &self.flags {
            gauge.set(i64::from(*status.borrow()));
        }
    }

    /// Updates the gauges every 5 s and whenever an event is appended, until `shutdown` completes.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let mut appended = self.log.subscribe();
        tokio::pin!(shutdown);
        loop {
            self.update().await;
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(Duration::from_secs(5)) => {}
                changed = appended.changed() => if changed.is_err() { return },
            }
        }
    }
}
