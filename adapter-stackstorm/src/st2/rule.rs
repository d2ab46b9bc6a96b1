//! A StackStorm rule as the REST API shows it (CONTRACT.md §1.5, §1.9).
//!
//! ```
//! use adapter_stackstorm::st2::Rule;
//!
//! let rule = Rule::new("ops", "watch_disk", "core.st2.IntervalTimer", "core.local");
//! assert_eq!(rule.reference(), "ops.watch_disk");
//! let json = serde_json::to_value(&rule)?;
//! assert_eq!(json["trigger"]["type"], "core.st2.IntervalTimer");
//! Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// A StackStorm rule, as `GET /api/v1/rules/{id}` returns it and `POST`/`PUT` take it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The MongoDB ObjectId, 24 hex digits (output; ignored on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The rule's name, unique within its pack.
    pub name: String,
    /// The pack (default `default`).
    #[serde(default = "default_pack")]
    pub pack: String,
    /// `<pack>.<name>` (output; recomputed by st2).
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// `rule:<pack>:<name>` (output; recomputed by st2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the rule fires (the API's default is `false`).
    #[serde(default)]
    pub enabled: bool,
    /// What fires the rule.
    #[serde(deserialize_with = "trigger_or_ref")]
    pub trigger: Trigger,
    /// `{"<trigger path>": {"type": <operator>, "pattern": <value>}}`.
    #[serde(default)]
    pub criteria: Map<String, Value>,
    /// What the rule runs.
    pub action: ActionSpec,
    /// The rule type (`standard` or `backstop`).
    #[serde(default, rename = "type")]
    pub rule_type: RuleType,
    /// Name/value tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// st2's context (`{"user": …}` for rules created through the API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Map<String, Value>>,
    /// The pack file the rule came from (`""` for API-created rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_file: Option<String>,
}

fn default_pack() -> String {
    "default".to_owned()
}

impl Rule {
    /// `<pack>.<name>`, whether or not st2 sent it.
    #[must_use]
    pub fn reference(&self) -> String {
        self.reference.clone().unwrap_or_else(|| format!("{}.{}", self.pack, self.name))
    }

    /// A rule as a client would POST it: name, pack, trigger type and parameters, action ref and parameters.
    #[must_use]
    pub fn new(pack: &str, name: &str, trigger_type: &str, action_ref: &str) -> Self {
        Self {
            id: None,
            name: name.to_owned(),
            pack: pack.to_owned(),
            reference: None,
            uid: None,
            description: None,
            enabled: false,
            trigger: Trigger { trigger_type: trigger_type.to_owned(), ..Trigger::default() },
            criteria: Map::new(),
            action: ActionSpec { reference: action_ref.to_owned(), parameters: Map::new(), description: None },
            rule_type: RuleType::default(),
            tags: Vec::new(),
            context: None,
            metadata_file: None,
        }
    }
}

/// The trigger of a rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// The trigger type ref, such as `core.st2.IntervalTimer`.
    #[serde(rename = "type", default)]
    pub trigger_type: String,
    /// Parameters of the trigger type.
    #[serde(default)]
    pub parameters: Map<String, Value>,
    /// The Trigger object's ref (output only).
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// GET answers with the trigger's ref as a plain string when the Trigger object is missing (CONTRACT.md §1.9).
fn trigger_or_ref<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Trigger, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Object(Trigger),
        Ref(String),
    }
    Ok(match Either::deserialize(deserializer)? {
        Either::Object(trigger) => trigger,
        Either::Ref(reference) => Trigger { reference: Some(reference), ..Trigger::default() },
    })
}

/// The action a rule runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionSpec {
    /// The action ref, such as `core.local`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Parameters of the action (secret ones come back as `********` unless `show_secrets=true`).
    #[serde(default)]
    pub parameters: Map<String, Value>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A rule type reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleType {
    /// `standard` or `backstop`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Parameters of the rule type.
    #[serde(default)]
    pub parameters: Map<String, Value>,
}

impl Default for RuleType {
    fn default() -> Self {
        Self { reference: "standard".to_owned(), parameters: Map::new() }
    }
}

/// A name/value tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// The tag's name.
    pub name: String,
    /// The tag's value.
    #[serde(default)]
    pub value: String,
}

/// The value st2 shows instead of a secret parameter.
pub const MASKED: &str = "********";
