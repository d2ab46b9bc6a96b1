//! The adapter's vocabulary for StackStorm rules, at one fixed IRI: `https://w3id.org/st2-oslc/ns#` (prefix
//! `st2`). It does not depend on where an adapter runs, so data from several adapters means the same thing.
//!
//! Rules are also typed `oslc_cm:ChangeRequest` and carry `dcterms:identifier` (the st2 id), `dcterms:title` (the
//! rule's name) and `dcterms:description`; everything StackStorm-specific is here. Parameters and criteria are
//! JSON objects, given as `rdf:JSON` literals.
//!
//! ```
//! use adapter_stackstorm::oslc::vocab as st2;
//!
//! assert_eq!(st2::enabled.as_str(), format!("{}enabled", st2::NS));
//! ```
#![allow(non_upper_case_globals)]

use oslc_core::oxrdf::NamedNodeRef;

/// The namespace.
pub const NS: &str = "https://w3id.org/st2-oslc/ns#";
/// Its prefix.
pub const PREFIX: &str = "st2";

macro_rules! terms {
    ($($(#[$doc:meta])* $name:ident = $local:literal),* $(,)?) => {
        $(
            $(#[$doc])*
            pub const $name: NamedNodeRef<'static> = NamedNodeRef::new_unchecked(concat!("https://w3id.org/st2-oslc/ns#", $local));
        )*
    };
}

terms! {
    /// The class of StackStorm rules.
    Rule = "Rule",
    /// The pack a rule belongs to.
    pack = "pack",
    /// `<pack>.<name>`.
    r#ref = "ref",
    /// Whether the rule is enabled (`xsd:boolean`).
    enabled = "enabled",
    /// The trigger type ref, such as `core.st2.IntervalTimer`.
    triggerType = "triggerType",
    /// The ref of the rule's Trigger object (read-only).
    triggerRef = "triggerRef",
    /// The trigger's parameters (`rdf:JSON` object).
    triggerParameters = "triggerParameters",
    /// The rule's criteria (`rdf:JSON` object of `{"<path>": {"type": op, "pattern": value}}`).
    criteria = "criteria",
    /// The ref of the action the rule runs.
    actionRef = "actionRef",
    /// The action's parameters (`rdf:JSON` object; secret ones masked as `********`).
    actionParameters = "actionParameters",
    /// A tag (a node with [`tagName`] and [`tagValue`]).
    tag = "tag",
    /// A tag's name.
    tagName = "tagName",
    /// A tag's value.
    tagValue = "tagValue",
    /// The class of the results `POST /actions` answers with.
    ActionResult = "ActionResult",
    /// What an action did: `created`, `updated`, `enabled`, `disabled`, `deleted`.
    outcome = "outcome",
    /// The rule an action result is about.
    rule = "rule",
    /// Qualifies the OSLC Event of a rule's creation.
    RuleCreated = "RuleCreated",
    /// Qualifies the OSLC Event of a change to a rule other than enabling or disabling it.
    RuleModified = "RuleModified",
    /// Qualifies the OSLC Event of a rule being enabled.
    RuleEnabled = "RuleEnabled",
    /// Qualifies the OSLC Event of a rule being disabled.
    RuleDisabled = "RuleDisabled",
    /// Qualifies the OSLC Event of a rule's deletion.
    RuleDeleted = "RuleDeleted",
    /// The runner an action runs with.
    runnerType = "runnerType",
    /// Whether an action parameter's value is a secret.
    secret = "secret",
    /// Who ran an execution.
    user = "user",
    /// An execution's StackStorm status.
    status = "status",
    /// When an execution ended.
    endTimestamp = "endTimestamp",
    /// An execution's page in StackStorm's web UI.
    webView = "webView",
    /// An execution's result, a JSON value.
    result = "result",
    /// The qualifier of an OSLC Event of a new execution.
    ExecutionCreated = "ExecutionCreated",
    /// The qualifier of an OSLC Event of an execution's change of status.
    ExecutionChanged = "ExecutionChanged",
}
