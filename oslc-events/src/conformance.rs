//! The conformance suite every [`EventLog`] backend passes, as library code: a backend's tests call
//! [`run_all`] with a function that makes a fresh, empty log (the `object_store` pattern).
//!
//! The checks panic on a violation, as test code does.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // A backend's test: every check, each on a fresh log.
//! oslc_events::conformance::run_all(|| async {
//!     std::sync::Arc::new(oslc_events::MemoryEventLog::new()) as std::sync::Arc<dyn oslc_events::EventLog>
//! })
//! .await;
//! # }
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::Arc;

use oxrdf::NamedNode;

use crate::event::{ChangeKind, Event};
use crate::log::{Checkpoint, EventLog};

fn event(n: usize) -> Event {
    let changed = NamedNode::new_unchecked(format!("https://tool.example/resources/{}", n % 7));
    let kind = [ChangeKind::Creation, ChangeKind::Modification, ChangeKind::Deletion][n % 3];
    Event::new(kind, changed).with_id_from(&format!("conformance-{n}"))
}

/// Runs every check, each on a fresh log from `make`.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    orders_increase_strictly(make().await.as_ref()).await;
    duplicate_ids_are_skipped(make().await.as_ref()).await;
    reads_forward_and_backward(make().await.as_ref()).await;
    events_keep_everything(make().await.as_ref()).await;
    checkpoints_round_trip(make().await.as_ref()).await;
    subscribers_see_the_head(make().await.as_ref()).await;
    concurrent_appends_never_share_an_order(make().await).await;
}

/// Orders start at 1 and increase by one per event, across appends.
pub async fn orders_increase_strictly(log: &dyn EventLog) {
    assert_eq!(log.head().await.unwrap(), 0, "an empty log's head is 0");
    let first = log.append((0..3).map(event).collect(), Vec::new()).await.unwrap();
    assert_eq!(first.iter().map(|e| e.order_number()).collect::<Vec<_>>(), [1, 2, 3]);
    let second = log.append(vec![event(3)], Vec::new()).await.unwrap();
    assert_eq!(second[0].order_number(), 4);
    assert_eq!(log.head().await.unwrap(), 4);
    assert!(log.append(Vec::new(), Vec::new()).await.unwrap().is_empty());
    assert_eq!(log.head().await.unwrap(), 4);
}

/// An event whose id the log holds is not appended again, in the same batch or a later one.
pub async fn duplicate_ids_are_skipped(log: &dyn EventLog) {
    let appended = log.append(vec![event(1), event(1), event(2)], Vec::new()).await.unwrap();
    assert_eq!(appended.len(), 2);
    let again = log.append(vec![event(2), event(3)], Vec::new()).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, event(3).id);
    assert_eq!(log.head().await.unwrap(), 3);
}

/// Forward reads start after an order, backward reads before one; both honour the limit.
pub async fn reads_forward_and_backward(log: &dyn EventLog) {
    log.append((0..10).map(event).collect(), Vec::new()).await.unwrap();
    let forward: Vec<u64> = log.read_forward(3, 4).await.unwrap().iter().map(|e| e.order_number()).collect();
    assert_eq!(forward, [4, 5, 6, 7]);
    assert!(log.read_forward(10, 5).await.unwrap().is_empty());
    let newest: Vec<u64> = log.read_backward(None, 3).await.unwrap().iter().map(|e| e.order_number()).collect();
    assert_eq!(newest, [10, 9, 8]);
    let older: Vec<u64> = log.read_backward(Some(3), 10).await.unwrap().iter().map(|e| e.order_number()).collect();
    assert_eq!(older, [2, 1]);
    let all = log.read_forward(0, usize::MAX).await.unwrap();
    assert_eq!(all.len(), 10);
}

/// What is read back is what was appended (with its order): id, kind, qualifiers, time, provider, state.
pub async fn events_keep_everything(log: &dyn EventLog) {
    let mut state = oxrdf::Graph::new();
    let changed = NamedNode::new_unchecked("https://tool.example/resources/1");
    state.insert(oxrdf::TripleRef::new(
        &changed,
        oslc_core::vocab::dcterms::title,
        &oxrdf::Literal::new_simple_literal("\"quoted\"\nand multi-line"),
    ));
    let original = Event::new(ChangeKind::Modification, changed)
        .with_qualifier(NamedNode::new_unchecked("https://tool.example/ns#Disabled"))
        .with_service_provider(NamedNode::new_unchecked("https://tool.example/sp/1"))
        .with_state(state);
    let appended = log.append(vec![original.clone()], Vec::new()).await.unwrap();
    let read = log.read_forward(0, 1).await.unwrap();
    assert_eq!(read, appended);
    assert_eq!(Event { order: None, ..read[0].clone() }, original);
}

/// Checkpoints are absent until written, written with events or alone, and overwritten.
pub async fn checkpoints_round_trip(log: &dyn EventLog) {
    assert_eq!(log.checkpoint("monitor").await.unwrap(), None);
    log.append(vec![event(0)], vec![Checkpoint::new("monitor", b"token-1".to_vec())]).await.unwrap();
    assert_eq!(log.checkpoint("monitor").await.unwrap().as_deref(), Some(&b"token-1"[..]));
    log.set_checkpoint(Checkpoint::new("relay", 1u64.to_be_bytes().to_vec())).await.unwrap();
    log.append(Vec::new(), vec![Checkpoint::new("monitor", b"token-2".to_vec())]).await.unwrap();
    assert_eq!(log.checkpoint("monitor").await.unwrap().as_deref(), Some(&b"token-2"[..]));
    assert_eq!(log.checkpoint("relay").await.unwrap(), Some(1u64.to_be_bytes().to_vec()));
    assert_eq!(log.head().await.unwrap(), 1, "a checkpoint alone appends no event");

    // Several checkpoints in one append, found by prefix, and removed.
    let items = vec![
        Checkpoint::new("item:b", b"2".to_vec()),
        Checkpoint::new("item:a", b"1".to_vec()),
        Checkpoint::new("other", b"x".to_vec()),
    ];
    log.append(vec![event(1)], items).await.unwrap();
    let found = log.checkpoints("item:").await.unwrap();
    assert_eq!(found, [("item:a".to_owned(), b"1".to_vec()), ("item:b".to_owned(), b"2".to_vec())]);
    log.append(Vec::new(), vec![Checkpoint::removal("item:a")]).await.unwrap();
    assert_eq!(log.checkpoints("item:").await.unwrap().len(), 1);
    assert_eq!(log.checkpoint("item:a").await.unwrap(), None);
    log.set_checkpoint(Checkpoint::removal("item:b")).await.unwrap();
    assert!(log.checkpoints("item:").await.unwrap().is_empty());
    assert!(log.checkpoints("").await.unwrap().len() >= 3, "the empty prefix lists every checkpoint");
}

/// A subscriber learns the new head after each append that added events.
pub async fn subscribers_see_the_head(log: &dyn EventLog) {
    let mut head = log.subscribe();
    log.append(vec![event(0), event(1)], Vec::new()).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), head.wait_for(|h| *h == 2)).await.unwrap().unwrap();
}

/// Appends racing from several tasks get distinct orders and lose nothing.
pub async fn concurrent_appends_never_share_an_order(log: Arc<dyn EventLog>) {
    let mut tasks = Vec::new();
    for t in 0..4 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            for b in 0..10 {
                let batch = (0..5).map(|i| event(t * 1000 + b * 10 + i)).collect();
                log.append(batch, Vec::new()).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let all = log.read_forward(0, usize::MAX).await.unwrap();
    assert_eq!(all.len(), 200);
    assert!(all.windows(2).all(|w| w[1].order_number() == w[0].order_number() + 1), "orders are 1..=200 without gaps");
}
