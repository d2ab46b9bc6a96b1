//! The fake st2 writes rules into MongoDB exactly as st2 does (CONTRACT.md §2): document by document, and as a
//! change stream sees them (insert on create, whole-document replace on update/enable/disable, delete on delete).
//! Needs the MongoDB-wire server that `scripts/test.sh` starts (`MONGO_URI`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapter_stackstorm::st2::{Rule, RuleStore, SimulatedSt2, St2Auth, St2Client, St2Error};
use bson::{Bson, Document, doc, oid::ObjectId};
use mongodb::change_stream::ChangeStream;
use mongodb::change_stream::event::{ChangeStreamEvent, OperationType};
use serde_json::json;
use support::*;
use testkit::mongo::MongoBackend;

async fn next_event_for(
    stream: &mut ChangeStream<ChangeStreamEvent<Document>>,
    id: ObjectId,
) -> ChangeStreamEvent<Document> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(event) = stream.next_if_any().await.unwrap() {
            let key = event.document_key.as_ref().and_then(|k| k.get_object_id("_id").ok());
            if key == Some(id) {
                return event;
            }
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    panic!("no change-stream event for {id} within 20 s");
}

#[tokio::test]
async fn rules_are_stored_and_streamed_as_st2_does() {
    let Some(uri) = mongo_uri() else { return };
    adapter_stackstorm::install_crypto_provider();
    let backend = MongoBackend::connect(&uri).await.unwrap();
    let collection = backend.rules_collection().clone();
    let triggers = collection.client().database("st2").collection::<Document>("trigger_d_b");
    let mut stream = collection.watch().await.unwrap();
    let addr = spawn_fake(Arc::new(SimulatedSt2::new(backend))).await;
    let client = St2Client::new(&format!("http://{addr}"), St2Auth::ApiKey(API_KEY.into())).unwrap();

    let name = unique("sample_rule_with_webhook");
    let mut rule = Rule::new("examples", &name, "core.st2.webhook", "core.local");
    rule.description = Some("Sample rule dumping webhook payload to a file.".into());
    rule.trigger.parameters = json!({"url": "sample"}).as_object().unwrap().clone();
    rule.criteria = json!({"trigger.body.name": {"pattern": "st2", "type": "equals"}}).as_object().unwrap().clone();
    rule.action.parameters = json!({"cmd": "echo \"{{trigger.body}}\""}).as_object().unwrap().clone();
    let created = client.create(&rule).await.unwrap();
    let id = ObjectId::parse_str(created.id.as_deref().unwrap()).unwrap();
    let trigger_ref = created.trigger.reference.clone().unwrap();

    // Insert, with the document st2 writes: fields in mongoengine's order, trigger as a ref, criteria escaped.
    let insert = next_event_for(&mut stream, id).await;
    assert_eq!(insert.operation_type, OperationType::Insert);
    let stored = collection.find_one(doc! {"_id": id}).await.unwrap().unwrap();
    let expected = doc! {
        "_id": id,
        "tags": [],
        "uid": format!("rule:examples:{name}"),
        "metadata_file": "",
        "name": &name,
        "ref": format!("examples.{name}"),
        "description": "Sample rule dumping webhook payload to a file.",
        "pack": "examples",
        "type": {"ref": "standard", "parameters": {}},
        "trigger": &trigger_ref,
        "criteria": {"trigger\u{FF0E}body\u{FF0E}name": {"pattern": "st2", "type": "equals"}},
        "action": {"ref": "core.local", "parameters": {"cmd": "echo \"{{trigger.body}}\""}},
        "context": {"user": "st2admin"},
        "enabled": false,
    };
    assert_eq!(stored, expected, "document as st2 stores it");
    assert_eq!(stored.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "field order");
    assert_eq!(insert.full_document.as_ref(), Some(&expected));
    let trigger =
        triggers.find_one(doc! {"ref": &trigger_ref}).await.unwrap().expect("a Trigger object in trigger_d_b");
    assert_eq!(trigger.get_str("type").unwrap(), "core.st2.webhook");
    assert_eq!(trigger.get_document("parameters").unwrap(), &doc! {"url": "sample"});

    // Enable (GET + PUT): a whole-document replace with the same _id.
    client.set_enabled(&id.to_hex(), true).await.unwrap();
    let replace = next_event_for(&mut stream, id).await;
    assert_eq!(replace.operation_type, OperationType::Replace);
    let full = replace.full_document.unwrap();
    assert!(full.get_bool("enabled").unwrap());
    assert_eq!(full.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());

    // Update through PUT: another replace, here with a new description and no pack (so pack "default").
    let mut body = created.clone();
    body.description = Some("changed".into());
    body.enabled = true;
    client.replace(&id.to_hex(), &body).await.unwrap();
    let update = next_event_for(&mut stream, id).await;
    assert_eq!(update.operation_type, OperationType::Replace);
    assert_eq!(update.full_document.unwrap().get_str("description").unwrap(), "changed");

    // A duplicate pack and name is 409 with the existing id, and writes nothing.
    match client.create(&rule).await {
        Err(St2Error::Conflict { conflict_id, .. }) => assert_eq!(conflict_id, Some(id.to_hex())),
        other => panic!("{other:?}"),
    }
    assert_eq!(collection.count_documents(doc! {"name": &name}).await.unwrap(), 1);

    // Delete: the event carries only the key.
    client.delete(&id.to_hex()).await.unwrap();
    let delete = next_event_for(&mut stream, id).await;
    assert_eq!(delete.operation_type, OperationType::Delete);
    assert!(delete.full_document.is_none());
    assert_eq!(delete.document_key.unwrap().get("_id"), Some(&Bson::ObjectId(id)));
    assert!(collection.find_one(doc! {"_id": id}).await.unwrap().is_none());
}
