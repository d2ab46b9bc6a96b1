//! Health and readiness routes any adapter can serve: `/healthz` says the process answers; `/readyz` says whether
//! every named check holds (a change source watching, events being delivered…), so an orchestrator stops routing to
//! an adapter whose events stall without restarting it.
//!
//! ```
//! use oslc_core::server::Readiness;
//!
//! let (watching, watching_status) = tokio::sync::watch::channel(false);
//! let readiness = Readiness::new().with_check("the change source is not watching", watching_status);
//! let router: axum::Router = readiness.clone().routes();
//! assert_eq!(readiness.failing(), Some("the change source is not watching"));
//! watching.send_replace(true);
//! assert_eq!(readiness.failing(), None);
//! # let _ = router;
//! ```

use axum::Router;
use axum::routing::get;
use http::StatusCode;
use tokio::sync::watch;

/// Named readiness checks, each a watch of whether it holds; no check means ready.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    checks: Vec<(String, watch::Receiver<bool>)>,
}

impl Readiness {
    /// No checks yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a check: `unready` is what `/readyz` says while `status` holds `false`.
    #[must_use]
    pub fn with_check(mut self, unready: impl Into<String>, status: watch::Receiver<bool>) -> Self {
        self.checks.push((unready.into(), status));
        self
    }

    /// What the first failing check says, or `None` when all hold.
    #[must_use]
    pub fn failing(&self) -> Option<&str> {
        self.checks.iter().find(|(_, status)| !*status.borrow()).map(|(unready, _)| unready.as_str())
    }

    /// `/healthz` (200 `ok`) and `/readyz` (200 `ready`, or 503 with what is not), plain text, no auth: put them
    /// outside an auth layer.
    pub fn routes<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        Router::new().route("/healthz", get(|| async { "ok\n" })).route(
            "/readyz",
            get(move || {
                let readiness = self.clone();
                async move {
                    match readiness.failing() {
                        None => (StatusCode::OK, "ready\n".to_owned()),
                        Some(unready) => (StatusCode::SERVICE_UNAVAILABLE, format!("{unready}\n")),
                    }
                }
            }),
        )
    }
}
