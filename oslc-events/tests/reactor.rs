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
