//! A live feed of the event log for people and scripts (feature `server`): a Server-Sent Events stream of the OSLC
//! Events appended to an [`EventLog`], each in the JSON form of [`crate::schema`] with its `trs:order` as the SSE
//! `id`, so a client that reconnects with `Last-Event-ID` resumes after the last event it saw and misses none (the
//! browser's `EventSource` does so by itself); and a page that shows them as they come.
//!
//! | path | what |
//! |---|---|
//! | `{path}` | the page (`text/html`) |
//! | `{path}/stream` | the SSE stream (`text/event-stream`); `Last-Event-ID` or `?after=N` resumes after order N, otherwise the last [`BACKLOG`] events come first |
//! | `{path}/live.js` | the page's script |
//!
//! At most [`MAX_STREAMS`] streams are open at once (503 beyond); an idle stream gets a comment every 15 s so that
//! proxies keep it open.
//!
//! ```
//! use std::sync::Arc;
//! let log: Arc<dyn oslc_events::EventLog> = Arc::new(oslc_events::MemoryEventLog::new());
//! let router: axum::Router = oslc_events::live::router(log, "/events/live");
//! # let _ = router;
//! ```

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::stream::{self, Stream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::EventLog;

/// How many of the latest events a new stream (without `Last-Event-ID`) starts with.
pub const BACKLOG: u64 = 20;
/// The most streams open at once.
pub const MAX_STREAMS: usize = 64;
/// Events read from the log at a time.
const BATCH: usize = 100;

const SCRIPT: &str = include_str!("live/live.js");

#[derive(Clone)]
struct Live {
    log: Arc<dyn EventLog>,
    streams: Arc<Semaphore>,
}

/// The routes of the feed over `log`, at `path` (such as `/events/live`).
pub fn router<S: Clone + Send + Sync + 'static>(log: Arc<dyn EventLog>, path: &str) -> Router<S> {
    let path = path.trim_end_matches('/').to_owned();
    let page = page(&path);
    Router::new()
        .route(&path, get(move || async move { page_response(page) }))
        .route(&format!("{path}/stream"), get(stream_route))
        .route(
            &format!("{path}/live.js"),
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    SCRIPT,
                )
            }),
        )
        .with_state(Live { log, streams: Arc::new(Semaphore::new(MAX_STREAMS)) })
}

fn page(path: &str) -> String {
    // `path` is the application's own constant; its characters are escaped anyway.
    let path: String = path
        .chars()
        .map(|c| match c {
            '"' => "&quot;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Live OSLC Events</title>\
         <script src=\"{path}/live.js\" defer></script></head><body><main><h1>Live OSLC Events</h1>\
         <p id=\"oslc-live-state\" role=\"status\">Connecting…</p><table><thead><tr><th>Order</th><th>Change</th>\
         <th>Resource</th><th>Time</th></tr></thead><tbody id=\"oslc-live\" data-stream=\"{path}/stream\"></tbody>\
         </table></main></body></html>"
    )
}

fn page_response(page: String) -> Response {
    let mut response = page.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Where a stream starts: after `Last-Event-ID` or `?after=`, else [`BACKLOG`] events before the head.
async fn start_after(log: &dyn EventLog, headers: &HeaderMap, query: &[(String, String)]) -> crate::Result<u64> {
    let asked = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query.iter().find(|(k, _)| k == "after").map(|(_, v)| v.clone()));
    if let Some(order) = asked.and_then(|v| v.trim().parse::<u64>().ok()) {
        return Ok(order);
    }
    Ok(log.head().await?.saturating_sub(BACKLOG))
}

async fn stream_route(
    State(live): State<Live>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let Ok(permit) = live.streams.clone().try_acquire_owned() else {
        return (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5")], "too many live streams")
            .into_response();
    };
    let after = match start_after(live.log.as_ref(), &headers, &query).await {
        Ok(after) => after,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    };
    let mut response = Sse::new(events(live.log, after, permit))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The events after `after`, then each one appended, for as long as the client listens.
fn events(
    log: Arc<dyn EventLog>,
    after: u64,
    permit: OwnedSemaphorePermit,
) -> impl Stream<Item = Result<SseEvent, std::convert::Infallible>> {
    struct Cursor {
        log: Arc<dyn EventLog>,
        head: tokio::sync::watch::Receiver<u64>,
        after: u64,
        pending: std::collections::VecDeque<SseEvent>,
        _permit: OwnedSemaphorePermit,
    }
    let head = log.subscribe();
    let cursor = Cursor { log, head, after, pending: std::collections::VecDeque::new(), _permit: permit };
    stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(next) = c.pending.pop_front() {
                return Some((Ok(next), c));
            }
            // Marked seen before reading, so an append during the read wakes the next wait.
            c.head.borrow_and_update();
            match c.log.read_forward(c.after, BATCH).await {
                Ok(batch) if !batch.is_empty() => {
                    for event in batch {
                        c.after = event.order_number();
                        let data = crate::schema::to_json(&event).map(|j| j.to_string());
                        let sse = match data {
                            Ok(data) => SseEvent::default().id(c.after.to_string()).event("oslc-event").data(data),
                            // An event the JSON form cannot hold is still announced, by order, never skipped silently.
                            Err(e) => SseEvent::default()
                                .id(c.after.to_string())
                                .event("oslc-event-error")
                                .data(e.to_string().replace(['\r', '\n'], " ")),
                        };
                        c.pending.push_back(sse);
                    }
                }
                Ok(_) => {
                    if c.head.changed().await.is_err() {
                        return None;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the live event stream could not read the log");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    })
}
