//! The reactor against real HTTP peers: a tool that records what is POSTed to it and offers an OSLC Action, and a
//! TRS the reactor follows. Conditions select the events; an action that fails is retried and runs once.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use oslc_events::EventSource;
use oslc_events::reactor::Reactor;
use oslc_events::trs_client::{TrsFollower, TrsSource};
use oslc_events::{ChangeKind, Event, EventHandler, EventLog, MemoryEventLog, StaticBase, Trs};
use oxrdf::NamedNode;

#[derive(Default)]
struct Tool {
    created: Mutex<Vec<String>>,
    closed: AtomicUsize,
    fail_next: AtomicUsize,
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn tool() -> (Arc<Tool>, String) {
    let tool = Arc::new(Tool::default());
    let app = Router::new()
        .route(
            "/items",
            post(|State(tool): State<Arc<Tool>>, body: String| async move {
                if tool.fail_next.load(Ordering::SeqCst) > 0 {
                    tool.fail_next.fetch_sub(1, Ordering::SeqCst);
                    return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                let mut created = tool.created.lock().unwrap();
                created.push(body);
                let location = format!("/items/{}", created.len() + 1);
                (axum::http::StatusCode::CREATED, [("location", location)]).into_response()
            }),
        )
        .route(
            "/items/1/close",
            post(|State(tool): State<Arc<Tool>>| async move {
                tool.closed.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::NO_CONTENT
            }),
        )
        .with_state(tool.clone());
    let base = serve(app).await;
    (tool, base)
}

fn rules(base: &str) -> String {
    format!(
        r#"
[[rule]]
name = "record disabled things"
kinds = ["modification"]
qualifiers = ["urn:q:Disabled"]
where = 'dcterms:title="watched"'
then.create = {{ url = "{base}/items", body = '<> <http://purl.org/dc/terms/title> "about {{title}}" ; <http://purl.org/dc/terms/references> <{{changed}}> .' }}
"#
    )
}

fn event(id: &str, qualifier: &str, title: &str) -> Event {
    let thing = NamedNode::new_unchecked("http://tool.test/things/1");
    let mut state = oxrdf::Graph::new();
    state.insert(oxrdf::TripleRef::new(
        &thing,
        oslc_core::vocab::dcterms::title,
        &oxrdf::Literal::new_simple_literal(title),
    ));
    Event::new(ChangeKind::Modification, thing)
        .with_id_from(id)
        .with_qualifier(NamedNode::new_unchecked(qualifier))
        .with_state(state)
}

#[tokio::test]
async fn conditions_select_retries_recover_and_duplicates_run_once() {
    let (tool, base) = tool().await;
    let reactor = Reactor::from_toml(oslc_core::client::Client::new().unwrap(), &rules(&base)).unwrap();
    reactor.handle(&event("a", "urn:q:Enabled", "watched")).await.unwrap();
    reactor.handle(&event("b", "urn:q:Disabled", "other")).await.unwrap();
    assert!(tool.created.lock().unwrap().is_empty(), "neither the qualifier nor the where clause matched");

    tool.fail_next.store(1, Ordering::SeqCst);
    reactor.handle(&event("c", "urn:q:Disabled", "watched")).await.unwrap();
    reactor.handle(&event("c", "urn:q:Disabled", "watched")).await.unwrap();
    let created = tool.created.lock().unwrap().clone();
    assert_eq!(created.len(), 1, "retried after the 503, and the duplicate ran nothing: {created:?}");
    assert!(created[0].contains("about watched") && created[0].contains("<http://tool.test/things/1>"));

    // An action that keeps failing makes the event fail, so a consumer would not commit it.
    tool.fail_next.store(10, Ordering::SeqCst);
    assert!(reactor.handle(&event("d", "urn:q:Disabled", "watched")).await.is_err());
}

#[tokio::test]
async fn the_reactor_follows_a_trs_and_runs_advertised_actions() {
    let (tool, base) = tool().await;
    // The changed resource, served (relative to its own URI) with the Close action the reactor follows.
    let resource = format!(
        "<> <http://purl.org/dc/terms/title> \"item\" ; <http://open-services.net/ns/actions#action> <#close> .
         <#close> a <http://open-services.net/ns/actions#Action> ; <http://purl.org/dc/terms/title> \"Close\" ;
           <http://open-services.net/ns/actions#binding> [ a <http://www.w3.org/2011/http#Request> ;
             <http://www.w3.org/2011/http#mthd> <http://www.w3.org/2011/http-methods#POST> ;
             <http://www.w3.org/2011/http#requestURI> <{base}/items/1/close> ] ."
    );
    let items = serve(
        Router::new().route("/things/1", get(move || async move { ([("content-type", "text/turtle")], resource) })),
    )
    .await;
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    let trs_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trs_uri = format!("http://{}/trs", trs_listener.local_addr().unwrap());
    let trs = Trs::new(&trs_uri, log.clone(), Arc::new(StaticBase::default()));
    let app: Router = oslc_events::trs::server::router(trs, "/trs");
    tokio::spawn(async move { axum::serve(trs_listener, app).await });

    let reactor = Reactor::from_toml(
        oslc_core::client::Client::new().unwrap(),
        r#"
[[rule]]
name = "close enabled things"
qualifiers = ["urn:q:Enabled"]
then.act_on_changed = { action = "Close" }
"#,
    )
    .unwrap();
    // The follower resumes after an event it saw before (so the new one is a change, not part of a Base).
    let earlier = log
        .append(vec![Event::new(ChangeKind::Creation, NamedNode::new_unchecked("urn:x:earlier"))], Vec::new())
        .await
        .unwrap();
    let source =
        TrsSource::new(oslc_core::client::Client::new().unwrap(), trs_uri).starting_after(earlier[0].id.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut follower_source: Box<dyn EventSource> =
        Box::new(TrsFollower::new(source).with_interval(Duration::from_millis(50)));
    let follower = tokio::spawn(async move {
        follower_source
            .run(
                &reactor,
                Box::pin(async {
                    let _ = stopped.await;
                }),
            )
            .await
    });
    let enabled = Event::new(ChangeKind::Modification, NamedNode::new(format!("{items}/things/1")).unwrap())
        .with_qualifier(NamedNode::new_unchecked("urn:q:Enabled"));
    log.append(vec![enabled], Vec::new()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while tool.closed.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the Close action was not run");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
    follower.await.unwrap().unwrap();
    assert_eq!(tool.closed.load(Ordering::SeqCst), 1);
}

/// Closes what it is asked to, remembering which.
#[derive(Default)]
struct Closer(Mutex<std::collections::BTreeSet<String>>);

#[async_trait::async_trait]
impl oslc_core::server::ActionHandler for Closer {
    async fn run(
        &self,
        _: &oslc_core::Container,
        id: &str,
        current: oslc_core::Resource,
    ) -> oslc_core::Result<oslc_core::Resource> {
        self.0.lock().unwrap().insert(id.to_owned());
        Ok(current)
    }
}

#[tokio::test]
async fn act_on_reaches_every_member_of_a_paged_query() {
    use oslc_core::server::{Collection, CollectionAction, Paging, Server, ServiceProviderConfig};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let items = Arc::new(oslc_core::InMemoryProvider::new());
    let closer = Arc::new(Closer::default());
    let built = Server::builder(&base)
        .unwrap()
        // Pages of 100, whatever a client asks: 250 members take three pages.
        .with_paging(Paging { default_page_size: 100, max_page_size: 100 })
        .with_service_provider(ServiceProviderConfig::new("1", "items").with_collection(
            Collection::new("items", items.clone()).with_action(CollectionAction::post(
                "close",
                "Close",
                closer.clone(),
            )),
        ))
        .build::<()>()
        .unwrap();
    let container = built.collection("1", "items").unwrap().container.clone();
    for i in 0..260 {
        let mut item = oslc_core::Resource::new(container.iri().into_owned());
        let title = if i < 250 { "stale" } else { "fresh" };
        item.insert(oslc_core::vocab::dcterms::title, &oxrdf::Literal::new_simple_literal(title));
        oslc_core::ResourceProvider::create(items.as_ref(), &container, item).await.unwrap();
    }
    tokio::spawn(async move { axum::serve(listener, built.router).await });
    let rules = format!(
        r#"
[[rule]]
name = "close every stale item"
qualifiers = ["urn:q:Sweep"]
then.act_on = {{ query_base = "{}", where = 'dcterms:title="stale"', action = "Close" }}
"#,
        container.iri().as_str()
    );
    let reactor = Reactor::from_toml(oslc_core::client::Client::new().unwrap(), &rules).unwrap();
    reactor.handle(&event("sweep", "urn:q:Sweep", "anything")).await.unwrap();
    let closed = closer.0.lock().unwrap().clone();
    assert_eq!(closed.len(), 250, "every stale member, across the three pages, once");
    let all = oslc_core::ResourceProvider::list(items.as_ref(), &container).await.unwrap();
    let fresh: Vec<String> = all
        .iter()
        .filter(|r| r.string(oslc_core::vocab::dcterms::title).as_deref() == Some("fresh"))
        .map(|r| r.subject().as_str().rsplit('/').next().unwrap().to_owned())
        .collect();
    assert!(fresh.iter().all(|id| !closed.contains(id)), "none of the others");
}

/// A follower that has read the Base hands over what changes after that and nothing from before it: a program that
/// says it follows once `synchronize` returns cannot miss a change made after saying so.
#[tokio::test]
async fn a_synchronized_follower_hands_over_every_change_made_after_it_read_the_base() {
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trs_uri = format!("http://{}/trs", listener.local_addr().unwrap());
    let base = StaticBase(vec![NamedNode::new_unchecked("urn:x:before")]);
    let app: Router = oslc_events::trs::server::router(Trs::new(&trs_uri, log.clone(), Arc::new(base)), "/trs");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let before = Event::new(ChangeKind::Creation, NamedNode::new_unchecked("urn:x:before"));
    log.append(vec![before], Vec::new()).await.unwrap();

    let source = TrsSource::new(oslc_core::client::Client::new().unwrap(), trs_uri);
    let mut follower = TrsFollower::new(source).with_interval(Duration::from_millis(20));
    assert_eq!(follower.synchronize().await.unwrap(), Some(1), "the Base's one member");
    assert_eq!(follower.synchronize().await.unwrap(), None, "already following");
    let after = log
        .append(vec![Event::new(ChangeKind::Deletion, NamedNode::new_unchecked("urn:x:after"))], Vec::new())
        .await
        .unwrap();

    let collected = Arc::new(oslc_events::sink::CollectingHandler::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handler = collected.clone();
    let running = tokio::spawn(async move {
        follower
            .run(
                handler.as_ref(),
                Box::pin(async {
                    let _ = stopped.await;
                }),
            )
            .await
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while collected.events().is_empty() {
        assert!(Instant::now() < deadline, "the change after the Base was not handed over");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(());
    running.await.unwrap().unwrap();
    let ids: Vec<_> = collected.events().into_iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![after[0].id.clone()], "only the change after the Base, once");
}
