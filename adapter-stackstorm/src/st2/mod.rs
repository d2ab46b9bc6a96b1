//! StackStorm: rules, the rule store trait, the REST client, and a simulated StackStorm (in memory for `--demo`).

pub mod cache;
pub mod client;
pub mod document;
pub mod rule;
pub mod simulated;
pub mod store;

pub use cache::RuleCache;
pub use client::{St2Auth, St2Client};
pub use rule::{ActionSpec, MASKED, Rule, RuleType, Tag, Trigger};
pub use simulated::{MemoryBackend, RuleBackend, SimulatedSt2};
pub use store::{RulePage, RuleStore, St2Error};
