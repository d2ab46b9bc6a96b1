//! Rule changes made through the OSLC API become OSLC Events in the log and the TRS, classified as created,
//! modified, enabled, disabled and deleted, through the polling change source (which also reports what changed
//! while it was not running, and nothing for a re-save).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use adapter_stackstorm::app::{self, AppConfig};
use adapter_stackstorm::events::{EventFactory, RuleListing};
use adapter_stackstorm::oslc::vocab as st2;
use adapter_stackstorm::st2::{RuleStore, SimulatedSt2};
use axum::body::Body;
use http_body_util::BodyExt;
use oslc_core::vocab::trs;
use oslc_events::{ChangeKind, Event, EventLog, MemoryEventLog};
use tower::ServiceExt;

const BASE: &str = "http://st2-oslc.test";
const AUTH: &str = "Bearer t";

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, http::HeaderMap, String) {
    let mut request = http::Request::builder()
        .method(method)
        .uri(path.strip_prefix(BASE).unwrap_or(path))
        .header("authorization", AUTH);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app.clone().oneshot(request.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
}

fn one(events: &[Event], change: ChangeKind, qualifier: oslc_core::oxrdf::NamedNodeRef<'_>) -> Event {
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].kind, change);
    assert!(events[0].has_qualifier(qualifier), "{:?}", events[0].qualifiers);
    events[0].clone()
}

const RULE: &str = r#"@prefix st2: <https://w3id.org/st2-oslc/ns#> . @prefix dcterms: <http://purl.org/dc/terms/> .
<> dcterms:title "watch_disk" ; st2:pack "ops" ; st2:triggerType "core.st2.IntervalTimer" ;
   st2:triggerParameters "{\"unit\": \"minutes\", \"delta\": 5}"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON> ;
   st2:actionRef "core.local" ; st2:actionParameters "{\"cmd\": \"df -h\"}"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON> ."#;

#[tokio::test]
async fn every_kind_of_change_becomes_its_event() {
    let st2 = Arc::new(SimulatedSt2::in_memory());
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    let config = AppConfig {
        public_url: BASE.into(),
        api_token: Some("t".into()),
        protect_reads: false,
        body_limit: 65536,
        frame_ancestors: Vec::new(),
        oidc: None,
        oidc_login: None,
        automation: None,
    };
    let built = app::build(st2.clone(), &config, Some(log.clone())).unwrap();
    let factory = EventFactory::new(built.provider.clone(), built.service_provider.clone());
    let poller =
        RuleListing::new(st2.clone(), factory.clone()).poller(log.clone(), Duration::from_secs(1)).await.unwrap();
    let app = built.router;
    assert!(poller.poll().await.unwrap().is_empty(), "the first poll invents no creations");

    let (status, headers, _) =
        call(&app, "POST", "/serviceProviders/1/changeRequests", &[("content-type", "text/turtle")], RULE).await;
    assert_eq!(status, 201);
    let location = headers["location"].to_str().unwrap().to_owned();
    let created = one(&poller.poll().await.unwrap(), ChangeKind::Creation, st2::RuleCreated);
    assert_eq!(created.changed.as_str(), location);
    assert!(created.state.as_ref().unwrap().len() > 10, "creations carry the rule's state");
    assert_eq!(created.service_provider.as_ref().unwrap().as_str(), format!("{BASE}/serviceProviders/1"));

    assert_eq!(call(&app, "POST", &format!("{location}/enable"), &[], "").await.0, 200);
    one(&poller.poll().await.unwrap(), ChangeKind::Modification, st2::RuleEnabled);
    assert_eq!(call(&app, "POST", &format!("{location}/disable"), &[], "").await.0, 200);
    one(&poller.poll().await.unwrap(), ChangeKind::Modification, st2::RuleDisabled);

    let (_, headers, body) = call(&app, "GET", &location, &[("accept", "text/turtle")], "").await;
    let changed = body.replace("df -h", "df -h /");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(
        call(&app, "PUT", &location, &[("content-type", "text/turtle"), ("if-match", &etag)], &changed).await.0,
        200
    );
    one(&poller.poll().await.unwrap(), ChangeKind::Modification, st2::RuleModified);

    // st2ctl reload saves the rule again as it is: no event.
    let id = location.rsplit('/').next().unwrap();
    let same = st2.get(id, true).await.unwrap();
    st2.replace(id, &same).await.unwrap();
    assert!(poller.poll().await.unwrap().is_empty());

    assert_eq!(call(&app, "DELETE", &location, &[], "").await.0, 204);
    let deleted = one(&poller.poll().await.unwrap(), ChangeKind::Deletion, st2::RuleDeleted);
    assert!(deleted.state.is_none());

    // The log holds the five events in order, and the TRS serves them.
    let all = log.read_forward(0, 100).await.unwrap();
    let qualifiers: Vec<_> =
        all.iter().map(|e| e.qualifiers[0].as_str().rsplit('#').next().unwrap().to_owned()).collect();
    assert_eq!(qualifiers, ["RuleCreated", "RuleEnabled", "RuleDisabled", "RuleModified", "RuleDeleted"]);
    let (status, _, trs_body) = call(&app, "GET", "/trs", &[("accept", "text/turtle")], "").await;
    assert_eq!(status, 200);
    let graph = oslc_core::rdf::parse(trs_body.as_bytes(), oslc_core::rdf::RdfFormat::Turtle, BASE).unwrap();
    assert_eq!(graph.triples_for_predicate(trs::change).count(), 5);
    let (status, _, base) = call(&app, "GET", "/trs/base", &[("accept", "text/turtle")], "").await;
    assert_eq!(status, 200);
    assert!(base.contains("cutoffEvent"));

    // Changes made while no poller ran are all reported by the next one, once.
    for name in ["a", "b", "c"] {
        let rule = RULE.replace("watch_disk", name);
        assert_eq!(
            call(&app, "POST", "/serviceProviders/1/changeRequests", &[("content-type", "text/turtle")], &rule).await.0,
            201
        );
    }
    let restarted = RuleListing::new(st2.clone(), factory).poller(log.clone(), Duration::from_secs(1)).await.unwrap();
    let events = restarted.poll().await.unwrap();
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e.kind == ChangeKind::Creation));
    assert!(restarted.poll().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_rule_returning_to_an_earlier_state_gets_a_new_event_each_time() {
    let st2 = Arc::new(SimulatedSt2::in_memory());
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    let config = AppConfig {
        public_url: BASE.into(),
        api_token: Some("t".into()),
        protect_reads: false,
        body_limit: 65536,
        frame_ancestors: Vec::new(),
        oidc: None,
        oidc_login: None,
        automation: None,
    };
    let built = app::build(st2.clone(), &config, Some(log.clone())).unwrap();
    let factory = EventFactory::new(built.provider.clone(), built.service_provider.clone());
    let poller =
        RuleListing::new(st2.clone(), factory.clone()).poller(log.clone(), Duration::from_secs(1)).await.unwrap();
    let app = built.router;
    let (status, headers, _) =
        call(&app, "POST", "/serviceProviders/1/changeRequests", &[("content-type", "text/turtle")], RULE).await;
    assert_eq!(status, 201);
    let location = headers["location"].to_str().unwrap().to_owned();
    poller.poll().await.unwrap();
    let mut ids = std::collections::HashSet::new();
    for round in 0..3 {
        // The rule is created disabled (st2's default).
        for action in ["enable", "disable"] {
            assert_eq!(call(&app, "POST", &format!("{location}/{action}"), &[], "").await.0, 200);
            let qualifier = if action == "disable" { st2::RuleDisabled } else { st2::RuleEnabled };
            let event = one(&poller.poll().await.unwrap(), ChangeKind::Modification, qualifier);
            assert!(ids.insert(event.id.clone()), "round {round}: {action} reused event id {}", event.id);
        }
    }
    // A poller started afresh on the same log (a restart) keeps counting: the next change is new again.
    let restarted = RuleListing::new(st2.clone(), factory).poller(log.clone(), Duration::from_secs(1)).await.unwrap();
    assert!(restarted.poll().await.unwrap().is_empty(), "nothing changed while it was away");
    assert_eq!(call(&app, "POST", &format!("{location}/enable"), &[], "").await.0, 200);
    let event = one(&restarted.poll().await.unwrap(), ChangeKind::Modification, st2::RuleEnabled);
    assert!(ids.insert(event.id.clone()));
    assert_eq!(
        log.read_forward(0, 100).await.unwrap().len(),
        6 + 1,
        "six toggles, one more (the creation is the Base)"
    );
    // Per-rule checkpoints: one fingerprint for the one rule, not the whole rule list.
    let checkpoints = log.checkpoints(&restarted.item_prefix()).await.unwrap();
    assert_eq!(checkpoints.len(), 1);
    assert_eq!(checkpoints[0].1.len(), 17);
}

#[tokio::test]
async fn checkpoints_of_the_earlier_pollers_are_carried_over() {
    let store = Arc::new(SimulatedSt2::in_memory());
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    let config = AppConfig {
        public_url: BASE.into(),
        api_token: None,
        protect_reads: false,
        body_limit: 65536,
        frame_ancestors: Vec::new(),
        oidc: None,
        oidc_login: None,
        automation: None,
    };
    let built = app::build(store.clone(), &config, Some(log.clone())).unwrap();
    let factory = EventFactory::new(built.provider.clone(), built.service_provider.clone());
    let kept = store
        .create(&adapter_stackstorm::st2::Rule::new("ops", "kept", "core.st2.generic.notifytrigger", "core.local"))
        .await
        .unwrap();
    let changed = store
        .create(&adapter_stackstorm::st2::Rule::new("ops", "changed", "core.st2.generic.notifytrigger", "core.local"))
        .await
        .unwrap();
    // As 0.1 left it: the whole rule list in one checkpoint.
    let whole =
        serde_json::to_vec(&adapter_stackstorm::events::RuleSnapshot::of([kept.clone(), changed.clone()])).unwrap();
    log.append(vec![], vec![oslc_events::Checkpoint::new(adapter_stackstorm::events::LEGACY_POLLER_CHECKPOINT, whole)])
        .await
        .unwrap();
    store.set_enabled(changed.id.as_deref().unwrap(), true).await.unwrap();
    let poller = RuleListing::new(store.clone(), factory).poller(log.clone(), Duration::from_secs(1)).await.unwrap();
    let events = poller.poll().await.unwrap();
    let event = one(&events, ChangeKind::Modification, st2::RuleEnabled);
    assert!(event.changed.as_str().ends_with(changed.id.as_deref().unwrap()), "only the rule that changed");
    assert!(log.checkpoint(adapter_stackstorm::events::LEGACY_POLLER_CHECKPOINT).await.unwrap().is_none());
    assert_eq!(log.checkpoints(&poller.item_prefix()).await.unwrap().len(), 2);
}

/// Counts the rule lists StackStorm is asked for.
struct CountingStore {
    inner: Arc<SimulatedSt2<adapter_stackstorm::st2::MemoryBackend>>,
    lists: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl RuleStore for CountingStore {
    async fn list(
        &self,
        limit: Option<usize>,
    ) -> Result<adapter_stackstorm::st2::RulePage, adapter_stackstorm::st2::St2Error> {
        self.lists.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.list(limit).await
    }
    async fn get(&self, r: &str, s: bool) -> Result<adapter_stackstorm::st2::Rule, adapter_stackstorm::st2::St2Error> {
        self.inner.get(r, s).await
    }
    async fn create(
        &self,
        r: &adapter_stackstorm::st2::Rule,
    ) -> Result<adapter_stackstorm::st2::Rule, adapter_stackstorm::st2::St2Error> {
        self.inner.create(r).await
    }
    async fn replace(
        &self,
        id: &str,
        r: &adapter_stackstorm::st2::Rule,
    ) -> Result<adapter_stackstorm::st2::Rule, adapter_stackstorm::st2::St2Error> {
        self.inner.replace(id, r).await
    }
    async fn delete(&self, r: &str) -> Result<(), adapter_stackstorm::st2::St2Error> {
        self.inner.delete(r).await
    }
}

#[tokio::test]
async fn queries_and_the_trs_base_are_served_from_the_rule_cache() {
    let store = Arc::new(adapter_stackstorm::demo::demo_store().await.unwrap());
    let counting = Arc::new(CountingStore { inner: store.clone(), lists: Default::default() });
    let cache = Arc::new(adapter_stackstorm::st2::RuleCache::new(counting.clone()));
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    let config = AppConfig {
        public_url: BASE.into(),
        api_token: Some("t".into()),
        protect_reads: false,
        body_limit: 65536,
        frame_ancestors: Vec::new(),
        oidc: None,
        oidc_login: None,
        automation: None,
    };
    let built = app::build(cache.clone(), &config, Some(log.clone())).unwrap();
    let factory = EventFactory::new(built.provider.clone(), built.service_provider.clone());
    let poller = RuleListing::new(counting.clone(), factory)
        .with_cache(cache.clone())
        .poller(log.clone(), Duration::from_secs(1))
        .await
        .unwrap();
    let app = built.router;
    poller.poll().await.unwrap();
    let lists = || counting.lists.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(lists(), 1, "the poller's list fills the cache");
    for _ in 0..20 {
        let (status, _, _) =
            call(&app, "GET", "/serviceProviders/1/changeRequests?oslc.where=st2:enabled=true", &[], "").await;
        assert_eq!(status, 200);
        assert_eq!(call(&app, "GET", "/trs/base", &[("accept", "text/turtle")], "").await.0, 200);
    }
    assert_eq!(lists(), 1, "no query and no TRS Base page listed StackStorm's rules");

    // A write through the adapter is read back at once, with the ETag the write answered.
    let (status, headers, _) =
        call(&app, "POST", "/serviceProviders/1/changeRequests", &[("content-type", "text/turtle")], RULE).await;
    assert_eq!(status, 201);
    let location = headers["location"].to_str().unwrap().to_owned();
    let created_etag = headers["etag"].to_str().unwrap().to_owned();
    let (status, headers, _) = call(&app, "GET", &location, &[("accept", "text/turtle")], "").await;
    assert_eq!(status, 200);
    assert_eq!(headers["etag"].to_str().unwrap(), created_etag);
    let (_, _, listed) =
        call(&app, "GET", "/serviceProviders/1/changeRequests", &[("accept", "text/turtle")], "").await;
    assert!(listed.contains(&location), "the new rule is in the query results");

    // A change made directly in StackStorm shows once the change source has seen it.
    let id = location.rsplit('/').next().unwrap();
    store.set_enabled(id, true).await.unwrap();
    let (_, headers, _) = call(&app, "GET", &location, &[("accept", "text/turtle")], "").await;
    assert_eq!(headers["etag"].to_str().unwrap(), created_etag, "served from the cache until the change is seen");
    poller.poll().await.unwrap();
    let (_, headers, body) = call(&app, "GET", &location, &[("accept", "text/turtle")], "").await;
    assert_ne!(headers["etag"].to_str().unwrap(), created_etag);
    assert!(body.contains("st2:enabled true"), "{body}");
}
