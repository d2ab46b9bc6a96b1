//! A StackStorm that runs in process: st2's rule semantics (CONTRACT.md §1.5–1.7) over a storage backend, in
//! memory for the embedded demo, or over any other [`RuleBackend`] (the workspace's `testkit` keeps rules in MongoDB
//! exactly as st2 stores them).
//!
//! ```
//! use adapter_stackstorm::st2::{Rule, RuleStore, SimulatedSt2};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let st2 = SimulatedSt2::in_memory();
//! let rule = Rule::new("ops", "notify", "core.st2.generic.notifytrigger", "core.local");
//! st2.create(&rule).await?;
//! // As st2 does: a second rule with the same pack and name is a 409.
//! assert!(st2.create(&rule).await.is_err());
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::rule::{MASKED, Rule};
use super::store::{RulePage, RuleStore, St2Error};

/// Where a simulated StackStorm keeps its rules (always with secrets in clear, as st2's database does).
#[async_trait]
pub trait RuleBackend: Send + Sync + 'static {
    /// Every rule (shared, so a backend that keeps its rules in memory hands them out without copying each).
    async fn all(&self) -> Result<Vec<Arc<Rule>>, St2Error>;
    /// The rule whose id or ref is `ref_or_id`.
    async fn find(&self, ref_or_id: &str) -> Result<Option<Rule>, St2Error>;
    /// Stores a new rule (insert); a duplicate pack and name is a [`St2Error::Conflict`].
    async fn insert(&self, rule: &Rule) -> Result<(), St2Error>;
    /// Replaces the whole stored rule with the same id.
    async fn replace(&self, rule: &Rule) -> Result<(), St2Error>;
    /// Deletes the rule `id`.
    async fn remove(&self, id: &str) -> Result<(), St2Error>;

    /// A number that changes with every write, when every write passes through this backend (see
    /// [`RuleStore::version`]); `None` by default.
    fn version(&self) -> Option<u64> {
        None
    }
}

/// Rules in a map in memory.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    /// Behind an `Arc`: a list shares the rules rather than copying them (a rule and its maps are a few KB), and a
    /// `Rule` is several hundred bytes while a B-tree's nodes have room for eleven values however many they hold.
    rules: Mutex<BTreeMap<String, Arc<Rule>>>,
    writes: std::sync::atomic::AtomicU64,
}

impl MemoryBackend {
    fn rules(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<Rule>>> {
        self.rules.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn wrote(&self) {
        self.writes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl RuleBackend for MemoryBackend {
    async fn all(&self) -> Result<Vec<Arc<Rule>>, St2Error> {
        Ok(self.rules().values().cloned().collect())
    }

    async fn find(&self, ref_or_id: &str) -> Result<Option<Rule>, St2Error> {
        let rules = self.rules();
        Ok(rules
            .get(ref_or_id)
            .or_else(|| rules.values().find(|r| r.reference() == ref_or_id))
            .map(|rule| Rule::clone(rule)))
    }

    async fn insert(&self, rule: &Rule) -> Result<(), St2Error> {
        let mut rules = self.rules();
        if let Some(existing) = rules.values().find(|r| r.pack == rule.pack && r.name == rule.name) {
            return Err(duplicate(rule, existing.id.clone()));
        }
        rules.insert(rule.id.clone().unwrap_or_default(), Arc::new(rule.clone()));
        self.wrote();
        Ok(())
    }

    async fn replace(&self, rule: &Rule) -> Result<(), St2Error> {
        let mut rules = self.rules();
        let id = rule.id.clone().unwrap_or_default();
        if let Some(existing) = rules.values().find(|r| r.pack == rule.pack && r.name == rule.name && r.id != rule.id) {
            return Err(duplicate(rule, existing.id.clone()));
        }
        rules.insert(id, Arc::new(rule.clone()));
        self.wrote();
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<(), St2Error> {
        self.rules().remove(id);
        self.wrote();
        Ok(())
    }

    fn version(&self) -> Option<u64> {
        Some(self.writes.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// st2's 409 for a rule whose pack and name are taken (CONTRACT.md §1.7), for [`RuleBackend`]s to answer with.
pub fn duplicate(rule: &Rule, conflict_id: Option<String>) -> St2Error {
    St2Error::Conflict {
        faultstring: format!(
            "Tried to save duplicate unique keys (E11000 duplicate key error collection: st2.rule_d_b index: uid_1 dup key: {{ : \"rule:{}:{}\" }})",
            rule.pack, rule.name
        ),
        conflict_id,
    }
}

/// The criteria operators st2 accepts (`st2common/operators.py`).
pub const OPERATORS: [&str; 33] = [
    "equals",
    "eq",
    "nequals",
    "neq",
    "iequals",
    "ieq",
    "contains",
    "icontains",
    "ncontains",
    "incontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "lessthan",
    "lt",
    "greaterthan",
    "gt",
    "timediff_lt",
    "td_lt",
    "timediff_gt",
    "td_gt",
    "exists",
    "nexists",
    "inside",
    "in",
    "ninside",
    "nin",
    "matchwildcard",
    "matchregex",
    "regex",
    "iregex",
    "search",
];

/// Trigger types known to take no parameters; a rule naming an unknown type without parameters is refused, as st2
/// refuses a trigger that does not exist (CONTRACT.md §1.5).
const PARAMETERLESS_TRIGGERS: [&str; 8] = [
    "core.st2.generic.notifytrigger",
    "core.st2.generic.actiontrigger",
    "core.st2.generic.inquiry",
    "core.st2.action.file_written",
    "core.st2.key_value_pair.create",
    "core.st2.key_value_pair.update",
    "core.st2.key_value_pair.value_change",
    "core.st2.key_value_pair.delete",
];

/// StackStorm's rule API semantics over a [`RuleBackend`].
#[derive(Debug)]
pub struct SimulatedSt2<B> {
    backend: B,
    user: String,
    secrets: BTreeMap<String, BTreeSet<String>>,
}

impl SimulatedSt2<MemoryBackend> {
    /// A StackStorm keeping its rules in memory.
    #[must_use]
    pub fn in_memory() -> Self {
        Self::new(MemoryBackend::default())
    }
}

impl<B: RuleBackend> SimulatedSt2<B> {
    /// A StackStorm over `backend`, acting for user `st2admin`.
    #[must_use]
    pub fn new(backend: B) -> Self {
        Self { backend, user: "st2admin".to_owned(), secrets: BTreeMap::new() }
    }

    /// Declares parameter `parameter` of action `action_ref` secret (`secret: true` in the action's metadata):
    /// it is shown as `********` unless `show_secrets` is asked.
    #[must_use]
    pub fn with_secret(mut self, action_ref: &str, parameter: &str) -> Self {
        self.secrets.entry(action_ref.to_owned()).or_default().insert(parameter.to_owned());
        self
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// `rule` with its secrets masked: the same one when it has none to mask.
    fn mask_shared(&self, rule: Arc<Rule>) -> Arc<Rule> {
        match self.secrets.get(&rule.action.reference) {
            Some(secret) if rule.action.parameters.keys().any(|name| secret.contains(name)) => {
                Arc::new(self.mask(Rule::clone(&rule)))
            }
            _ => rule,
        }
    }

    fn mask(&self, mut rule: Rule) -> Rule {
        if let Some(secret) = self.secrets.get(&rule.action.reference) {
            for (name, value) in &mut rule.action.parameters {
                if secret.contains(name) {
                    *value = Value::String(MASKED.to_owned());
                }
            }
        }
        rule
    }

    /// What st2 stores for a rule body: validated, with ref, uid, trigger ref, context and metadata file set.
    fn to_stored(&self, body: &Rule, id: String, previous: Option<&Rule>) -> Result<Rule, St2Error> {
        validate(body)?;
        let mut rule = body.clone();
        rule.id = Some(id);
        rule.reference = Some(format!("{}.{}", rule.pack, rule.name));
        rule.uid = Some(format!("rule:{}:{}", rule.pack, rule.name));
        rule.context = Some(Map::from_iter([("user".to_owned(), Value::String(self.user.clone()))]));
        rule.metadata_file = Some(body.metadata_file.clone().unwrap_or_default());
        rule.trigger.description = None;
        rule.trigger.reference = Some(match previous {
            // The same trigger type and parameters find the existing Trigger object.
            Some(p)
                if p.trigger.trigger_type == rule.trigger.trigger_type
                    && p.trigger.parameters == rule.trigger.parameters =>
            {
                p.trigger.reference.clone().unwrap_or_else(|| trigger_ref(&rule))
            }
            _ => trigger_ref(&rule),
        });
        Ok(rule)
    }
}

/// The ref of the Trigger object st2 creates: the type's ref for parameterless types, else `<pack>.<uuid4>`.
fn trigger_ref(rule: &Rule) -> String {
    if rule.trigger.parameters.is_empty() {
        rule.trigger.trigger_type.clone()
    } else {
        let pack = rule.trigger.trigger_type.split('.').next().unwrap_or("core");
        format!("{pack}.{}", uuid::Uuid::new_v4())
    }
}

/// st2's server-side checks (`validators/api/reactor.py`).
fn validate(rule: &Rule) -> Result<(), St2Error> {
    if rule.trigger.trigger_type.is_empty() {
        return Err(St2Error::invalid("'type' is a required property"));
    }
    if rule.action.reference.is_empty() {
        return Err(St2Error::invalid("'ref' is a required property"));
    }
    for (field, criterion) in &rule.criteria {
        let operator = criterion.get("type").and_then(Value::as_str);
        match operator {
            Some(op) if OPERATORS.contains(&op) => {}
            other => {
                return Err(St2Error::invalid(format!(
                    "For field: {field}, operator {} not in list of allowed operators: {:?}",
                    other.unwrap_or("None"),
                    OPERATORS
                )));
            }
        }
        if criterion.get("pattern").is_none() && !matches!(operator, Some("exists" | "nexists")) {
            return Err(St2Error::invalid(format!("For field: {field}, a pattern is required")));
        }
    }
    if rule.trigger.parameters.is_empty()
        && !PARAMETERLESS_TRIGGERS.contains(&rule.trigger.trigger_type.as_str())
        && !rule.trigger.trigger_type.starts_with("examples.")
    {
        return Err(St2Error::invalid(format!(
            "Trigger \"{}\" defined in the rule does not exist in system or it's missing required \"parameters\" attribute",
            rule.trigger.trigger_type
        )));
    }
    Ok(())
}

/// Whether `id` is a 24-hex-digit ObjectId.
pub fn is_object_id(id: &str) -> bool {
    id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[async_trait]
impl<B: RuleBackend> RuleStore for SimulatedSt2<B> {
    fn version(&self) -> Option<u64> {
        self.backend.version()
    }

    async fn list(&self, limit: Option<usize>) -> Result<RulePage, St2Error> {
        let mut rules = self.backend.all().await?;
        rules.sort_by(|a, b| (&a.pack, &a.name).cmp(&(&b.pack, &b.name)));
        let total = rules.len();
        if let Some(limit) = limit {
            rules.truncate(limit);
        }
        Ok(RulePage { rules: rules.into_iter().map(|r| self.mask_shared(r)).collect(), total })
    }

    async fn get(&self, ref_or_id: &str, show_secrets: bool) -> Result<Rule, St2Error> {
        let rule = self.backend.find(ref_or_id).await?.ok_or_else(|| St2Error::not_found(ref_or_id))?;
        Ok(if show_secrets { rule } else { self.mask(rule) })
    }

    async fn create(&self, rule: &Rule) -> Result<Rule, St2Error> {
        let stored = self.to_stored(rule, bson::oid::ObjectId::new().to_hex(), None)?;
        self.backend.insert(&stored).await?;
        Ok(self.mask(stored))
    }

    async fn replace(&self, id: &str, rule: &Rule) -> Result<Rule, St2Error> {
        let existing = self.backend.find(id).await?.ok_or_else(|| St2Error::not_found(id))?;
        if !is_object_id(id) {
            // st2#6305: a ref passes the lookup, then saving with it as the ObjectId fails.
            return Err(St2Error::invalid("ValidationError (RuleDB:pack.name) (Invalid ObjectID: ['id'])"));
        }
        let stored = self.to_stored(rule, id.to_owned(), Some(&existing))?;
        self.backend.replace(&stored).await?;
        Ok(self.mask(stored))
    }

    async fn delete(&self, ref_or_id: &str) -> Result<(), St2Error> {
        let rule = self.backend.find(ref_or_id).await?.ok_or_else(|| St2Error::not_found(ref_or_id))?;
        self.backend.remove(rule.id.as_deref().unwrap_or_default()).await
    }
}

/// Checks a JSON body against `RuleAPI.schema` the way st2's router does, then reads it as a [`Rule`]
/// (CONTRACT.md §1.5, §1.7).
///
/// # Errors
/// [`St2Error::Invalid`] with st2's message for unknown keys, missing required properties or wrong types.
pub fn rule_from_json(body: Value) -> Result<Rule, St2Error> {
    const TOP: [&str; 14] = [
        "id",
        "ref",
        "uid",
        "name",
        "pack",
        "description",
        "type",
        "trigger",
        "criteria",
        "action",
        "enabled",
        "context",
        "tags",
        "metadata_file",
    ];
    let Value::Object(object) = &body else {
        return Err(St2Error::invalid(format!("{body} is not of type 'object'")));
    };
    additional(object, &TOP)?;
    for required in ["name", "trigger", "action"] {
        if !object.contains_key(required) {
            return Err(St2Error::invalid(format!("'{required}' is a required property")));
        }
    }
    if let Some(enabled) = object.get("enabled")
        && !enabled.is_boolean()
    {
        return Err(St2Error::invalid(format!("{enabled} is not of type 'boolean'")));
    }
    match object.get("trigger") {
        Some(Value::Object(trigger)) if !trigger.contains_key("type") => {
            return Err(St2Error::invalid("'type' is a required property"));
        }
        Some(Value::Object(_)) => {}
        Some(other) => return Err(St2Error::invalid(format!("{other} is not of type 'object'"))),
        None => {}
    }
    match object.get("action") {
        Some(Value::Object(action)) => {
            additional(action, &["ref", "parameters", "description"])?;
            if !action.contains_key("ref") {
                return Err(St2Error::invalid("'ref' is a required property"));
            }
        }
        Some(other) => return Err(St2Error::invalid(format!("{other} is not of type 'object'"))),
        None => {}
    }
    serde_json::from_value(body).map_err(|e| St2Error::invalid(e.to_string()))
}

fn additional(object: &Map<String, Value>, allowed: &[&str]) -> Result<(), St2Error> {
    let unexpected: Vec<String> =
        object.keys().filter(|k| !allowed.contains(&k.as_str())).map(|k| format!("'{k}'")).collect();
    match unexpected.len() {
        0 => Ok(()),
        1 => {
            Err(St2Error::invalid(format!("Additional properties are not allowed ({} was unexpected)", unexpected[0])))
        }
        _ => Err(St2Error::invalid(format!(
            "Additional properties are not allowed ({} were unexpected)",
            unexpected.join(", ")
        ))),
    }
}
