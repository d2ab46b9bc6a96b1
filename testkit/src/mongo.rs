//! A [`RuleBackend`] that writes rules to MongoDB exactly as st2 does: the trigger in `trigger_d_b` first, then insert
//! on create, whole-document replace (`find_one_and_replace`) on update, delete on delete (CONTRACT.md §2.4).
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use adapter_stackstorm::st2::SimulatedSt2;
//! let Some(uri) = testkit::services::mongo_uri() else { return Ok(()) };
//! let backend = testkit::mongo::MongoBackend::connect(&testkit::services::fresh_database(&uri)).await?;
//! backend.declare_action("pagerduty.create_incident", &["api_key"]).await?;
//! let st2 = SimulatedSt2::new(backend); // rules written as st2 writes them: a change stream sees st2's changes
//! # let _ = st2; Ok(()) }
//! ```

use std::collections::HashMap;

use async_trait::async_trait;
use bson::{Document, doc, oid::ObjectId};
use mongodb::options::IndexOptions;
use mongodb::{Client, Collection, IndexModel};

use adapter_stackstorm::st2::document::{self, RULES, TRIGGERS};
use adapter_stackstorm::st2::simulated::{RuleBackend, duplicate, is_object_id};
use adapter_stackstorm::st2::{Rule, St2Error};

/// st2's rule storage in MongoDB.
#[derive(Debug, Clone)]
pub struct MongoBackend {
    rules: Collection<Document>,
    triggers: Collection<Document>,
}

fn unavailable(error: mongodb::error::Error) -> St2Error {
    St2Error::Unavailable { message: format!("MongoDB: {error}") }
}

fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match &*error.kind {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == 11000,
        ErrorKind::Command(e) => e.code == 11000,
        _ => error.to_string().contains("E11000"),
    }
}

impl MongoBackend {
    /// Connects to `uri` and makes st2's unique indexes on `rule_d_b` (`uid`, and pack with name), in the database
    /// the URI names (`st2` when it names none).
    ///
    /// # Errors
    /// [`St2Error::Unavailable`] when MongoDB cannot be reached.
    pub async fn connect(uri: &str) -> Result<Self, St2Error> {
        let client = Client::with_uri_str(uri).await.map_err(unavailable)?;
        let database = client.database(&document::database_of(uri));
        let backend = Self { rules: database.collection(RULES), triggers: database.collection(TRIGGERS) };
        let unique = |keys: Document, sparse: bool| {
            IndexModel::builder()
                .keys(keys)
                .options(IndexOptions::builder().unique(true).sparse(sparse).build())
                .build()
        };
        backend.rules.create_index(unique(doc! {"uid": 1}, true)).await.map_err(unavailable)?;
        backend.rules.create_index(unique(doc! {"pack": 1, "name": 1}, false)).await.map_err(unavailable)?;
        Ok(backend)
    }

    /// The rules collection, for tests that read what was written.
    #[must_use]
    pub fn rules_collection(&self) -> &Collection<Document> {
        &self.rules
    }

    /// Records that action `reference` takes secret parameters, as st2 keeps actions in `action_d_b`.
    ///
    /// # Errors
    /// [`St2Error::Unavailable`] when MongoDB fails.
    pub async fn declare_action(&self, reference: &str, secret_parameters: &[&str]) -> Result<(), St2Error> {
        let mut parameters = Document::new();
        for name in secret_parameters {
            parameters.insert(*name, doc! {"type": "string", "secret": true});
        }
        let (pack, name) = reference.split_once('.').unwrap_or(("core", reference));
        let actions =
            self.rules.client().database(self.rules.namespace().db.as_str()).collection::<Document>("action_d_b");
        actions
            .insert_one(doc! {"name": name, "pack": pack, "ref": reference, "parameters": parameters})
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn trigger(&self, reference: &str) -> Result<Option<Document>, St2Error> {
        self.triggers.find_one(doc! {"ref": reference}).await.map_err(unavailable)
    }

    /// Creates the rule's Trigger object, or counts one more rule on it.
    async fn retain_trigger(&self, rule: &Rule) -> Result<(), St2Error> {
        let reference = rule.trigger.reference.clone().unwrap_or_else(|| rule.trigger.trigger_type.clone());
        if self.trigger(&reference).await?.is_some() {
            self.triggers
                .update_one(doc! {"ref": &reference}, doc! {"$inc": {"ref_count": 1}})
                .await
                .map_err(unavailable)?;
        } else {
            self.triggers.insert_one(document::trigger_document(rule)).await.map_err(unavailable)?;
        }
        Ok(())
    }

    async fn with_trigger(&self, rule_document: &Document) -> Result<Rule, St2Error> {
        let trigger = match rule_document.get_str("trigger") {
            Ok(reference) => self.trigger(reference).await?,
            Err(_) => None,
        };
        document::rule_from_document(rule_document, trigger.as_ref())
    }
}

#[async_trait]
impl RuleBackend for MongoBackend {
    async fn all(&self) -> Result<Vec<std::sync::Arc<Rule>>, St2Error> {
        let mut triggers = HashMap::new();
        let mut cursor = self.triggers.find(doc! {}).await.map_err(unavailable)?;
        while cursor.advance().await.map_err(unavailable)? {
            let trigger = cursor.deserialize_current().map_err(unavailable)?;
            if let Ok(reference) = trigger.get_str("ref") {
                triggers.insert(reference.to_owned(), trigger.clone());
            }
        }
        let mut rules = Vec::new();
        let mut cursor = self.rules.find(doc! {}).await.map_err(unavailable)?;
        while cursor.advance().await.map_err(unavailable)? {
            let rule = cursor.deserialize_current().map_err(unavailable)?;
            let trigger = rule.get_str("trigger").ok().and_then(|r| triggers.get(r));
            rules.push(std::sync::Arc::new(document::rule_from_document(&rule, trigger)?));
        }
        Ok(rules)
    }

    async fn find(&self, ref_or_id: &str) -> Result<Option<Rule>, St2Error> {
        let filter = match ObjectId::parse_str(ref_or_id) {
            Ok(id) if is_object_id(ref_or_id) => doc! {"_id": id},
            _ => doc! {"ref": ref_or_id},
        };
        match self.rules.find_one(filter).await.map_err(unavailable)? {
            Some(found) => Ok(Some(self.with_trigger(&found).await?)),
            None => Ok(None),
        }
    }

    async fn insert(&self, rule: &Rule) -> Result<(), St2Error> {
        let document = document::rule_to_document(rule)?;
        // st2 makes the Trigger before it saves the rule (`RuleAPI.to_model`), so a change stream reader finds it.
        self.retain_trigger(rule).await?;
        match self.rules.insert_one(document).await {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => {
                let existing = self.find(&format!("{}.{}", rule.pack, rule.name)).await?;
                Err(duplicate(rule, existing.and_then(|r| r.id)))
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn replace(&self, rule: &Rule) -> Result<(), St2Error> {
        let document = document::rule_to_document(rule)?;
        let id = document.get_object_id("_id").map_err(|e| St2Error::Protocol { message: e.to_string() })?;
        self.retain_trigger(rule).await?;
        match self.rules.find_one_and_replace(doc! {"_id": id}, document.clone()).await {
            // mongoengine falls back to an insert when the replace matched nothing (a race with a delete).
            Ok(None) => self.rules.insert_one(document).await.map(|_| ()).map_err(unavailable)?,
            Ok(Some(_)) => {}
            Err(e) if is_duplicate_key(&e) => {
                let existing = self.find(&format!("{}.{}", rule.pack, rule.name)).await?;
                return Err(duplicate(rule, existing.and_then(|r| r.id)));
            }
            Err(e) => return Err(unavailable(e)),
        }
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<(), St2Error> {
        let oid = ObjectId::parse_str(id).map_err(|_| St2Error::not_found(id))?;
        self.rules.delete_many(doc! {"_id": oid}).await.map_err(unavailable)?;
        Ok(())
    }
}

/// Keeps the executions of `st2` in MongoDB's `action_execution_d_b` of `uri` as they change, one write after the
/// other in the order they happen (upserts by id), so a change stream on the collection sees each change, as it sees
/// st2's own writes.
///
/// # Errors
/// [`St2Error::Unavailable`] when MongoDB cannot be reached.
pub async fn mirror_executions(uri: &str, st2: &adapter_stackstorm::st2::SimulatedExecutions) -> Result<(), St2Error> {
    let client = Client::with_uri_str(uri).await.map_err(unavailable)?;
    let collection: Collection<Document> =
        client.database(&document::database_of(uri)).collection(adapter_stackstorm::execution_watch::EXECUTIONS);
    let (sender, mut writes) = tokio::sync::mpsc::unbounded_channel::<adapter_stackstorm::st2::Execution>();
    tokio::spawn(async move {
        while let Some(execution) = writes.recv().await {
            let Ok(id) = ObjectId::parse_str(&execution.id) else { continue };
            let Ok(mut stored) = bson::to_document(&execution) else { continue };
            stored.insert("_id", id);
            stored.remove("id");
            if let Err(error) = collection.replace_one(doc! {"_id": id}, stored).upsert(true).await {
                eprintln!("could not mirror an execution into MongoDB: {error}");
            }
        }
    });
    st2.observe(std::sync::Arc::new(move |execution| {
        let _ = sender.send(execution.clone());
    }));
    Ok(())
}
