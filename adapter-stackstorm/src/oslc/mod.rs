//! StackStorm rules over OSLC: vocabulary, mapping, the resource provider and the rule actions.
//!
//! ```
//! use adapter_stackstorm::oslc::vocab as st2;
//!
//! assert_eq!(st2::Rule.as_str(), "https://w3id.org/st2-oslc/ns#Rule");
//! assert_eq!(st2::PREFIX, "st2");
//! ```

pub(crate) mod actions;
pub mod automation;
pub mod mapping;
pub mod provider;
pub mod vocab;

pub use mapping::{RuleUris, rule_from_graph, rule_to_resource};
pub use provider::RuleProvider;
