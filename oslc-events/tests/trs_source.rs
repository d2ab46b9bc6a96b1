//! Following a remote TRS over HTTP: rebase from the Base, then the changes in order, across segments; a rebase
//! again when the change log no longer reaches the last event seen.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use oslc_events::trs_client::{TrsSource, TrsUpdate};
use oslc_events::{ChangeKind, Event, EventLog, MemoryEventLog, StaticBase, Trs};
use oxrdf::NamedNode;

async fn serve(log: Arc<dyn EventLog>, members: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let uri = format!("http://{addr}/trs");
    let base = (0..members).map(|i| NamedNode::new_unchecked(format!("http://tool.test/r/{i}"))).collect();
    let trs = Trs::new(&uri, log, Arc::new(StaticBase(base))).with_segment_size(50).with_base_page_size(40);
    let app: axum::Router = oslc_events::trs::server::router(trs, "/trs");
    tokio::spawn(async move { axum::serve(listener, app).await });
    uri
}

fn events(range: std::ops::Range<usize>) -> Vec<Event> {
    range
        .map(|n| {
            Event::new(ChangeKind::Modification, NamedNode::new_unchecked(format!("http://tool.test/r/{}", n % 7)))
        })
        .collect()
}

#[tokio::test]
async fn rebase_then_follow_the_change_log() {
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    log.append(events(0..30), Vec::new()).await.unwrap();
    let uri = serve(log.clone(), 100).await;
    let mut source = TrsSource::new(oslc_core::client::Client::new().unwrap(), &uri);

    let TrsUpdate::Rebase { members, cutoff, changes } = source.poll().await.unwrap() else {
        panic!("first poll rebases")
    };
    assert_eq!(members.len(), 100, "every Base page read");
    let newest = log.read_backward(None, 1).await.unwrap().pop().unwrap();
    assert_eq!(cutoff, Some(newest.id.clone()));
    assert!(changes.is_empty());

    assert_eq!(source.poll().await.unwrap(), TrsUpdate::Changes(Vec::new()));
    // 130 new events span three segments of 50; the walk goes back through them to the sync point.
    let appended = log.append(events(30..160), Vec::new()).await.unwrap();
    let TrsUpdate::Changes(changes) = source.poll().await.unwrap() else { panic!() };
    assert_eq!(
        changes.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        appended.iter().map(|e| e.id.clone()).collect::<Vec<_>>()
    );
    assert!(changes.windows(2).all(|w| w[0].order < w[1].order));
    assert_eq!(source.last_seen(), Some(&appended.last().unwrap().id));
    assert_eq!(source.poll().await.unwrap(), TrsUpdate::Changes(Vec::new()));

    // A source that last saw an event this TRS never had (its history was reset) rebases.
    let mut lost = TrsSource::new(oslc_core::client::Client::new().unwrap(), &uri)
        .starting_after(NamedNode::new_unchecked("urn:uuid:00000000-0000-0000-0000-000000000000"));
    assert!(matches!(lost.poll().await.unwrap(), TrsUpdate::Rebase { .. }));
}

#[tokio::test]
async fn an_unreachable_trs_is_an_error_not_a_rebase() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut source = TrsSource::new(oslc_core::client::Client::new().unwrap(), format!("http://127.0.0.1:{port}/trs"));
    assert!(matches!(
        source.poll().await,
        Err(oslc_events::Error::Oslc(oslc_core::Error::Remote { retryable: true, .. }))
    ));
}

/// A TRS whose change log is empty has a Base with cutoff `rdf:nil` (the state before every event): the events
/// that come later are changes to follow, not a reason to rebase again (the tracker's TRS, right after it starts).
#[tokio::test]
async fn an_empty_change_log_is_followed_from_its_start() {
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    let uri = serve(log.clone(), 3).await;
    let mut source = TrsSource::new(oslc_core::client::Client::new().unwrap(), &uri);
    let TrsUpdate::Rebase { cutoff, changes, .. } = source.poll().await.unwrap() else { panic!("first poll rebases") };
    assert_eq!(cutoff, None);
    assert!(changes.is_empty());
    assert_eq!(source.poll().await.unwrap(), TrsUpdate::Changes(Vec::new()), "still nothing, and no rebase");
    let appended = log.append(events(0..5), Vec::new()).await.unwrap();
    let TrsUpdate::Changes(changes) = source.poll().await.unwrap() else { panic!("the new events, not a rebase") };
    assert_eq!(changes.iter().map(|e| &e.id).collect::<Vec<_>>(), appended.iter().map(|e| &e.id).collect::<Vec<_>>());
    assert_eq!(source.last_seen(), Some(&appended[4].id));
}
