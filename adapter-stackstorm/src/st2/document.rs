//! Rules as st2 stores them in MongoDB (CONTRACT.md §2): database `st2`, collection `rule_d_b`, the trigger as a
//! ref string (its type and parameters live in `trigger_d_b`), criteria keys escaped.
//!
//! ```
//! use adapter_stackstorm::st2::document::{database_of, escape_key, unescape_key};
//!
//! assert_eq!(database_of("mongodb://db:27017/?replicaSet=rs0"), "st2");
//! assert_eq!(unescape_key(&escape_key("trigger.body.level")), "trigger.body.level");
//! ```

use bson::{Bson, Document, doc, oid::ObjectId};
use serde_json::{Map, Value};

use super::rule::{ActionSpec, Rule, RuleType, Tag, Trigger};
use super::store::St2Error;

/// st2's database name.
pub const DATABASE: &str = "st2";

/// The database a MongoDB URI names in its path (`mongodb://host/st2?replicaSet=rs0`), or st2's default.
#[must_use]
pub fn database_of(uri: &str) -> String {
    mongodb::options::ConnectionString::parse(uri)
        .ok()
        .and_then(|parsed| parsed.default_database)
        .unwrap_or_else(|| DATABASE.to_owned())
}
/// The rules collection (mongoengine's name for `RuleDB`).
pub const RULES: &str = "rule_d_b";
/// The triggers collection (`TriggerDB`).
pub const TRIGGERS: &str = "trigger_d_b";

/// `.` and `$` in criteria keys are stored as full-width characters (`st2common/util/mongoescape.py`).
#[must_use]
pub fn escape_key(key: &str) -> String {
    key.replace('.', "\u{FF0E}").replace('$', "\u{FF04}")
}

/// Reverses [`escape_key`], including the legacy `\u{2024}` for `.`.
#[must_use]
pub fn unescape_key(key: &str) -> String {
    key.replace(['\u{FF0E}', '\u{2024}'], ".").replace('\u{FF04}', "$")
}

fn to_bson(value: &Value) -> Bson {
    // serde_json values always convert: every JSON value has a BSON form.
    bson::to_bson(value).unwrap_or(Bson::Null)
}

fn object_to_document(map: &Map<String, Value>, escape: bool) -> Document {
    map.iter().map(|(k, v)| (if escape { escape_key(k) } else { k.clone() }, to_bson(v))).collect()
}

fn document_to_object(document: &Document, unescape: bool) -> Map<String, Value> {
    document
        .iter()
        .map(|(k, v)| (if unescape { unescape_key(k) } else { k.clone() }, v.clone().into_relaxed_extjson()))
        .collect()
}

/// The `rule_d_b` document of a stored rule, fields in mongoengine's order (CONTRACT.md §2.3).
///
/// # Errors
/// [`St2Error::Protocol`] if the rule has no valid ObjectId.
pub fn rule_to_document(rule: &Rule) -> Result<Document, St2Error> {
    let id = rule
        .id
        .as_deref()
        .and_then(|id| ObjectId::parse_str(id).ok())
        .ok_or_else(|| St2Error::Protocol { message: format!("rule {} has no ObjectId", rule.reference()) })?;
    let mut document = doc! {
        "_id": id,
        "tags": rule.tags.iter().map(|t| Bson::Document(doc! {"name": &t.name, "value": &t.value})).collect::<Vec<_>>(),
        "uid": rule.uid.clone().unwrap_or_else(|| format!("rule:{}:{}", rule.pack, rule.name)),
        "metadata_file": rule.metadata_file.clone().unwrap_or_default(),
        "name": &rule.name,
        "ref": rule.reference(),
    };
    if let Some(description) = &rule.description {
        document.insert("description", description);
    }
    document.insert("pack", &rule.pack);
    document.insert(
        "type",
        doc! {"ref": &rule.rule_type.reference, "parameters": object_to_document(&rule.rule_type.parameters, false)},
    );
    document.insert("trigger", rule.trigger.reference.clone().unwrap_or_else(|| rule.trigger.trigger_type.clone()));
    document.insert("criteria", object_to_document(&rule.criteria, true));
    document.insert(
        "action",
        doc! {"ref": &rule.action.reference, "parameters": object_to_document(&rule.action.parameters, false)},
    );
    document.insert("context", object_to_document(&rule.context.clone().unwrap_or_default(), false));
    document.insert("enabled", rule.enabled);
    Ok(document)
}

/// The `trigger_d_b` document st2 keeps for a rule's trigger.
#[must_use]
pub fn trigger_document(rule: &Rule) -> Document {
    let reference = rule.trigger.reference.clone().unwrap_or_else(|| rule.trigger.trigger_type.clone());
    let (pack, name) = reference.split_once('.').unwrap_or(("core", reference.as_str()));
    doc! {
        "name": name,
        "pack": pack,
        "ref": &reference,
        "type": &rule.trigger.trigger_type,
        "parameters": object_to_document(&rule.trigger.parameters, false),
        "ref_count": 1,
    }
}

/// A trigger's type and parameters from its `trigger_d_b` document.
#[must_use]
pub fn trigger_from_document(document: &Document) -> Trigger {
    Trigger {
        trigger_type: document.get_str("type").unwrap_or_default().to_owned(),
        parameters: document.get_document("parameters").map(|d| document_to_object(d, false)).unwrap_or_default(),
        reference: document.get_str("ref").ok().map(str::to_owned),
        description: None,
    }
}

/// The rule a `rule_d_b` document stores, with its trigger's type and parameters from `trigger` (its
/// `trigger_d_b` document) when known, as the API rebuilds it.
///
/// # Errors
/// [`St2Error::Protocol`] for a document without `_id`, `name` or `action.ref`.
pub fn rule_from_document(document: &Document, trigger: Option<&Document>) -> Result<Rule, St2Error> {
    let bad = |what: &str| St2Error::Protocol { message: format!("rule document without {what}: {document}") };
    let id = document.get_object_id("_id").map_err(|_| bad("_id"))?;
    let action = document.get_document("action").map_err(|_| bad("action"))?;
    let trigger_ref = document.get_str("trigger").ok().map(str::to_owned);
    let mut trigger = trigger.map(trigger_from_document).unwrap_or_default();
    if trigger.reference.is_none() {
        trigger.reference.clone_from(&trigger_ref);
    }
    let rule_type = document.get_document("type").ok();
    Ok(Rule {
        id: Some(id.to_hex()),
        name: document.get_str("name").map_err(|_| bad("name"))?.to_owned(),
        pack: document.get_str("pack").unwrap_or("default").to_owned(),
        reference: document.get_str("ref").ok().map(str::to_owned),
        uid: document.get_str("uid").ok().map(str::to_owned),
        description: document.get_str("description").ok().map(str::to_owned),
        enabled: document.get_bool("enabled").unwrap_or(true),
        trigger,
        criteria: document.get_document("criteria").map(|d| document_to_object(d, true)).unwrap_or_default(),
        action: ActionSpec {
            reference: action.get_str("ref").map_err(|_| bad("action.ref"))?.to_owned(),
            parameters: action.get_document("parameters").map(|d| document_to_object(d, false)).unwrap_or_default(),
            description: None,
        },
        rule_type: RuleType {
            reference: rule_type.and_then(|t| t.get_str("ref").ok()).unwrap_or("standard").to_owned(),
            parameters: rule_type
                .and_then(|t| t.get_document("parameters").ok())
                .map(|d| document_to_object(d, false))
                .unwrap_or_default(),
        },
        tags: document
            .get_array("tags")
            .map(|tags| {
                tags.iter()
                    .filter_map(Bson::as_document)
                    .map(|t| Tag {
                        name: t.get_str("name").unwrap_or_default().to_owned(),
                        value: t.get_str("value").unwrap_or_default().to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        context: document.get_document("context").ok().map(|d| document_to_object(d, false)),
        metadata_file: document.get_str("metadata_file").ok().map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_from_the_uri() {
        assert_eq!(database_of("mongodb://mongo:27017/?replicaSet=rs0"), "st2");
        assert_eq!(database_of("mongodb://u:p@mongo:27017/st2_test?directConnection=true"), "st2_test");
        assert_eq!(database_of("mongodb://mongo"), "st2");
    }

    #[test]
    fn criteria_keys_are_escaped_and_back() {
        assert_eq!(escape_key("trigger.body.$name"), "trigger\u{FF0E}body\u{FF0E}\u{FF04}name");
        assert_eq!(unescape_key("trigger\u{FF0E}body\u{2024}name"), "trigger.body.name");
    }
}
