//! Reactor rules as written (in code or TOML): conditions on events, and the reactions they trigger.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::event::ChangeKind;
use crate::{Error, Result};

/// When a rule applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Change kinds (`creation`, `modification`, `deletion`); any when empty.
    #[serde(default)]
    pub kinds: Vec<Kind>,
    /// Qualifier types, any of which the event must have; any event when empty.
    #[serde(default)]
    pub qualifiers: Vec<String>,
    /// Types (`rdf:type`), any of which the changed resource's state must have; any when empty.
    #[serde(default)]
    pub resource_types: Vec<String>,
    /// An `oslc.where` expression the changed resource's state must satisfy (the OSLC prefixes and the rule
    /// file's `[prefixes]` known).
    #[serde(default, rename = "where")]
    pub where_clause: Option<String>,
}

/// A change kind, as written in rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `trs:Creation`
    Creation,
    /// `trs:Modification`
    Modification,
    /// `trs:Deletion`
    Deletion,
}

impl From<Kind> for ChangeKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Creation => Self::Creation,
            Kind::Modification => Self::Modification,
            Kind::Deletion => Self::Deletion,
        }
    }
}

/// Where a reaction sends its request: a URL, or the capability of a resource type found through a catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The URL itself (a creation factory or a query base).
    #[serde(default)]
    pub url: Option<String>,
    /// A service provider catalog to find the capability in (with `resource_type`).
    #[serde(default)]
    pub catalog: Option<String>,
    /// The resource type whose creation factory or query capability is wanted.
    #[serde(default)]
    pub resource_type: Option<String>,
    /// The service's `oslc:domain`, to choose among services offering the type.
    #[serde(default)]
    pub domain: Option<String>,
}

/// What a rule does. Text may use the placeholders `{changed}` (the changed resource's IRI), `{title}` (its
/// `dcterms:title`, escaped for a Turtle string), `{event}` (the event's id) and `{order}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Reaction {
    /// POSTs `body` (Turtle) to a creation factory: `url`, or found through `catalog` by `resource_type`.
    Create {
        /// The creation factory's URL.
        #[serde(default)]
        url: Option<String>,
        /// A catalog to find the factory in.
        #[serde(default)]
        catalog: Option<String>,
        /// The type of resource to create (with `catalog`).
        #[serde(default)]
        resource_type: Option<String>,
        /// The service's domain (with `catalog`), when several offer the type.
        #[serde(default)]
        domain: Option<String>,
        /// The Turtle body.
        body: String,
    },
    /// Runs the OSLC Action named `action` (its IRI's fragment, or the start of its title) on each resource that
    /// the OSLC query `where` finds, through every page, at `query_base` or the query capability found through
    /// `catalog` by `resource_type`.
    ActOn {
        /// The query capability's base.
        #[serde(default)]
        query_base: Option<String>,
        /// A catalog to find the query capability in.
        #[serde(default)]
        catalog: Option<String>,
        /// The type of resource to query (with `catalog`).
        #[serde(default)]
        resource_type: Option<String>,
        /// The service's domain (with `catalog`), when several offer the type.
        #[serde(default)]
        domain: Option<String>,
        /// The `oslc.where` expression.
        #[serde(rename = "where")]
        where_clause: String,
        /// The action's name (`close`) or the start of its `dcterms:title` (`Close`).
        action: String,
    },
    /// Runs the OSLC Action named `action` that the changed resource advertises.
    ActOnChanged {
        /// The action's name (`enable`) or the start of its `dcterms:title` (`Enable`).
        action: String,
    },
}

impl Reaction {
    /// The reaction's target: a URL, or a catalog and resource type.
    pub(super) fn target(&self) -> Option<Target> {
        let target = |url: &Option<String>, catalog: &Option<String>, ty: &Option<String>, domain: &Option<String>| {
            Target { url: url.clone(), catalog: catalog.clone(), resource_type: ty.clone(), domain: domain.clone() }
        };
        match self {
            Self::Create { url, catalog, resource_type, domain, .. } => {
                Some(target(url, catalog, resource_type, domain))
            }
            Self::ActOn { query_base, catalog, resource_type, domain, .. } => {
                Some(target(query_base, catalog, resource_type, domain))
            }
            Self::ActOnChanged { .. } => None,
        }
    }
}

/// One rule of a reactor.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactorRule {
    /// A name for logs.
    pub name: String,
    /// When it applies.
    #[serde(default, flatten)]
    pub when: Condition,
    /// What it does.
    pub then: Reaction,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleFile {
    #[serde(default)]
    pub(super) bearer: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) prefixes: BTreeMap<String, String>,
    #[serde(rename = "rule", default)]
    pub(super) rules: Vec<ReactorRule>,
}

pub(super) const PLACEHOLDERS: [&str; 4] = ["changed", "title", "event", "order"];

pub(super) fn invalid_rule(rule: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid(format!("reactor rule {rule:?}: {message}"))
}

/// Fails for a `{word}` in `text` that is not a placeholder.
pub(super) fn check_placeholders(rule: &str, field: &str, text: &str) -> Result<()> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        if let Some(close) = after.find('}') {
            let word = &after[..close];
            if !word.is_empty()
                && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !PLACEHOLDERS.contains(&word)
            {
                return Err(invalid_rule(
                    rule,
                    format!(
                        "{field} uses {{{word}}}; the placeholders are {{changed}}, {{title}}, {{event}} and {{order}}"
                    ),
                ));
            }
        }
        rest = after;
    }
    Ok(())
}
