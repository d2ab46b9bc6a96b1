//! StackStorm rules over OSLC: vocabulary, mapping, the resource provider and the rule actions.

pub mod actions;
pub mod mapping;
pub mod provider;
pub mod vocab;

pub use mapping::{RuleUris, rule_from_graph, rule_to_resource};
pub use provider::RuleProvider;
