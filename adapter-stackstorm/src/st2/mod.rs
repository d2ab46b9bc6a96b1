//! StackStorm: rules, the rule store trait, the REST client, and a simulated StackStorm (in memory for `--demo`).
//!
//! ```
//! use adapter_stackstorm::st2::{Rule, RuleStore, SimulatedSt2};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let st2 = SimulatedSt2::in_memory();
//! let created = st2.create(&Rule::new("ops", "notify", "core.st2.generic.notifytrigger", "core.local")).await?;
//! assert_eq!(created.reference(), "ops.notify");
//! assert!(!created.enabled, "st2 creates rules disabled unless told");
//! # Ok(()) }
//! ```

pub mod cache;
pub mod client;
pub mod document;
pub mod execution;
pub mod rule;
pub mod simulated;
pub mod store;

pub use cache::RuleCache;
pub use client::{St2Auth, St2Client};
pub use execution::{Action, Execution, ExecutionStore, SimulatedExecutions, Status};
pub use rule::{ActionSpec, MASKED, Rule, RuleType, Tag, Trigger};
pub use simulated::{MemoryBackend, RuleBackend, SimulatedSt2};
pub use store::{RulePage, RuleStore, St2Error};
