//! The rule store: what the adapter needs of StackStorm, as an object-safe trait with st2's own errors.
//!
//! ```
//! use adapter_stackstorm::st2::{RuleStore, St2Error};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let st2 = adapter_stackstorm::st2::SimulatedSt2::in_memory();
//! let missing = st2.get("ops.nothing", false).await;
//! assert!(matches!(missing, Err(St2Error::NotFound { .. })));
//! # }
//! ```

use std::sync::Arc;

use async_trait::async_trait;

use super::rule::Rule;

/// What StackStorm answered, or why it could not be reached. Messages are st2's `faultstring`s, kept as they are.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum St2Error {
    /// 404: no rule with that ref or id.
    #[error("{faultstring}")]
    NotFound {
        /// st2's message.
        faultstring: String,
    },
    /// 400: st2 refused the rule (validation).
    #[error("{faultstring}")]
    Invalid {
        /// st2's message.
        faultstring: String,
    },
    /// 409: a rule with that pack and name exists.
    #[error("{faultstring}")]
    Conflict {
        /// st2's message.
        faultstring: String,
        /// The id of the existing rule.
        conflict_id: Option<String>,
    },
    /// 401/403: st2 refused the adapter's credentials.
    #[error("StackStorm refused the adapter's credentials: {faultstring}")]
    Unauthorized {
        /// st2's message.
        faultstring: String,
    },
    /// st2 could not be reached, timed out, or failed (5xx).
    #[error("StackStorm unavailable: {message}")]
    Unavailable {
        /// What happened.
        message: String,
    },
    /// st2 answered something this adapter does not understand.
    #[error("unexpected answer from StackStorm: {message}")]
    Protocol {
        /// What was wrong.
        message: String,
    },
}

impl St2Error {
    /// st2's 404 for a reference or id it does not know, with st2's wording.
    pub fn not_found(ref_or_id: &str) -> Self {
        Self::NotFound { faultstring: format!("Resource with a reference or id \"{ref_or_id}\" not found") }
    }

    /// st2's 400 with `faultstring`.
    pub fn invalid(faultstring: impl Into<String>) -> Self {
        Self::Invalid { faultstring: faultstring.into() }
    }
}

impl From<St2Error> for oslc_core::Error {
    fn from(error: St2Error) -> Self {
        match error {
            St2Error::NotFound { faultstring } => Self::NotFound { resource: faultstring },
            St2Error::Invalid { faultstring } => Self::InvalidResource { message: faultstring },
            St2Error::Conflict { faultstring, .. } => Self::Conflict { message: faultstring },
            other => Self::Unavailable { service: "StackStorm".to_owned(), message: other.to_string() },
        }
    }
}

/// One page of rules and how many there are in all (`X-Total-Count`).
#[derive(Debug, Clone, PartialEq)]
pub struct RulePage {
    /// The rules, ordered by pack, then name, as st2 orders them. Shared: a store that keeps its rules in memory
    /// (the simulated StackStorm, the rule cache) lists them without copying each.
    pub rules: Vec<Arc<Rule>>,
    /// How many rules match, whatever the limit.
    pub total: usize,
}

/// Reads and writes StackStorm rules with st2's semantics. Implemented by the REST client and by the simulated
/// StackStorm used for the embedded demo and tests.
#[async_trait]
pub trait RuleStore: Send + Sync + 'static {
    /// Up to `limit` rules (all when `None`), secrets masked.
    async fn list(&self, limit: Option<usize>) -> Result<RulePage, St2Error>;

    /// One rule by ref or id; secret action parameters in clear only with `show_secrets`.
    async fn get(&self, ref_or_id: &str, show_secrets: bool) -> Result<Rule, St2Error>;

    /// Creates a rule (POST, 201); returns it as stored.
    async fn create(&self, rule: &Rule) -> Result<Rule, St2Error>;

    /// Replaces the whole rule `id` (PUT: omitted fields take their defaults); returns it as stored.
    async fn replace(&self, id: &str, rule: &Rule) -> Result<Rule, St2Error>;

    /// Deletes a rule by ref or id (204).
    async fn delete(&self, ref_or_id: &str) -> Result<(), St2Error>;

    /// A number that changes whenever a rule may have changed, for stores that know (every write passes through
    /// them); `None` when they cannot tell, as StackStorm's API cannot. Equal versions mean equal lists.
    fn version(&self) -> Option<u64> {
        None
    }

    /// Enables or disables a rule the way `st2 rule enable` does: GET with secrets, flip `enabled`, PUT it all.
    async fn set_enabled(&self, ref_or_id: &str, enabled: bool) -> Result<Rule, St2Error> {
        let mut rule = self.get(ref_or_id, true).await?;
        let id = rule.id.clone().ok_or_else(|| St2Error::Protocol { message: "rule without an id".into() })?;
        rule.enabled = enabled;
        rule.reference = None;
        self.replace(&id, &rule).await
    }
}
