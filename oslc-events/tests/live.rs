//! The live feed of the event log: Server-Sent Events over a real socket, resumable with `Last-Event-ID`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use oslc_events::{ChangeKind, Event, EventLog, MemoryEventLog};
use oxrdf::NamedNode;

fn event(n: u32) -> Event {
    Event::new(ChangeKind::Modification, NamedNode::new(format!("https://tool.example/r/{n}")).unwrap())
        .with_id_from(&format!("e-{n}"))
}

async fn serve(log: Arc<dyn EventLog>) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app: axum::Router = oslc_events::live::router(log, "/events/live");
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/events/live")
}

/// Reads SSE frames until `count` events came, within 10 s: (id, event name, data).
async fn read_events(response: &mut reqwest::Response, count: usize) -> Vec<(String, String, String)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while events.len() < count {
        let chunk =
            tokio::time::timeout_at(deadline, response.chunk()).await.expect("events in time").unwrap().unwrap();
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                frame.lines().find_map(|l| l.strip_prefix(&format!("{name}:"))).map(|v| v.trim_start().to_owned())
            };
            if let (Some(id), Some(data)) = (field("id"), field("data")) {
                events.push((id, field("event").unwrap_or_default(), data));
            }
        }
    }
    events
}

#[tokio::test]
async fn the_stream_resumes_after_the_last_event_id_and_follows_appends() {
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    log.append((1..=3).map(event).collect(), Vec::new()).await.unwrap();
    let url = serve(log.clone()).await;
    let http = reqwest::Client::new();

    let mut resumed = http.get(format!("{url}/stream")).header("last-event-id", "1").send().await.unwrap();
    assert_eq!(resumed.headers()["content-type"], "text/event-stream");
    let first = read_events(&mut resumed, 2).await;
    assert_eq!(first.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["2", "3"], "after order 1, in order");
    assert!(first.iter().all(|e| e.1 == "oslc-event"));
    let json: serde_json::Value = serde_json::from_str(&first[0].2).unwrap();
    assert_eq!(json["changed"], "https://tool.example/r/2");
    assert_eq!(oslc_events::schema::from_json(&json).unwrap().order_number(), 2);

    log.append(vec![event(4)], Vec::new()).await.unwrap();
    let next = read_events(&mut resumed, 1).await;
    assert_eq!(next[0].0, "4", "an append reaches an open stream");

    // Without Last-Event-ID: the latest events (all four here), then new ones.
    let mut fresh = http.get(format!("{url}/stream")).send().await.unwrap();
    assert_eq!(read_events(&mut fresh, 4).await.last().unwrap().0, "4");

    let page = http.get(&url).send().await.unwrap();
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert!(page.text().await.unwrap().contains("data-stream=\"/events/live/stream\""));
}

#[tokio::test]
async fn streams_are_bounded() {
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    let url = serve(log).await;
    let http = reqwest::Client::new();
    let mut open = Vec::new();
    for _ in 0..oslc_events::live::MAX_STREAMS {
        let r = http.get(format!("{url}/stream")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        open.push(r);
    }
    let refused = http.get(format!("{url}/stream")).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    open.pop();
    // A closed stream frees its place (the server notices the close when it next writes or polls).
    let mut admitted = false;
    for _ in 0..250 {
        if http.get(format!("{url}/stream")).send().await.unwrap().status() == 200 {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(admitted, "a place freed by a closed stream is given to the next one");
}
