//! Both event log backends pass the one conformance suite; the redb file keeps everything across reopening and
//! across a SIGKILL in the middle of appends.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use oslc_events::{ChangeKind, Checkpoint, Event, EventLog, MemoryEventLog, RedbEventLog, conformance};
use oxrdf::NamedNode;

#[tokio::test]
async fn memory_log_conforms() {
    conformance::run_all(|| async { Arc::new(MemoryEventLog::new()) as Arc<dyn EventLog> }).await;
}

#[tokio::test]
async fn redb_log_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let root = dir.path().to_owned();
    conformance::run_all(|| {
        let path = root.join(format!("log-{}.redb", counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst)));
        async move { Arc::new(RedbEventLog::open(path).unwrap()) as Arc<dyn EventLog> }
    })
    .await;
}

fn event(n: u64) -> Event {
    Event::new(ChangeKind::Modification, NamedNode::new_unchecked(format!("https://tool.example/r/{}", n % 5)))
        .with_id_from(&format!("reopen-{n}"))
}

#[tokio::test]
async fn a_reopened_redb_file_holds_every_committed_event_and_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.redb");
    let written = {
        let log = RedbEventLog::open(&path).unwrap();
        let mut written = Vec::new();
        for batch in 0..10u64 {
            let events = (batch * 10..batch * 10 + 10).map(event).collect();
            written.extend(log.append(events, vec![Checkpoint::new("monitor", batch.to_string())]).await.unwrap());
        }
        log.set_checkpoint(Checkpoint::new("relay", "57")).await.unwrap();
        written
    };
    let reopened = RedbEventLog::open(&path).unwrap();
    assert_eq!(reopened.head().await.unwrap(), 100);
    assert_eq!(reopened.read_forward(0, usize::MAX).await.unwrap(), written);
    assert_eq!(reopened.checkpoint("monitor").await.unwrap().as_deref(), Some(&b"9"[..]));
    assert_eq!(reopened.checkpoint("relay").await.unwrap().as_deref(), Some(&b"57"[..]));
    // Orders go on from where they were, and old ids are still known.
    let more = reopened.append(vec![event(5), event(100)], Vec::new()).await.unwrap();
    assert_eq!(more.iter().map(|e| e.order_number()).collect::<Vec<_>>(), [101]);
}

/// Run by `events_and_checkpoints_commit_together_across_a_kill` in a child process: appends batches of ten events
/// with a checkpoint naming the batch, forever, printing each committed batch.
#[tokio::test]
async fn crash_child() {
    let Ok(path) = std::env::var("OSLC_EVENTS_CRASH_CHILD") else { return };
    let log = RedbEventLog::open(&path).unwrap();
    for batch in 0u64.. {
        let events = (batch * 10..batch * 10 + 10).map(event).collect();
        log.append(events, vec![Checkpoint::new("monitor", batch.to_string())]).await.unwrap();
        println!("committed {batch}");
    }
}

#[tokio::test]
async fn events_and_checkpoints_commit_together_across_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads", "1"])
        .env("OSLC_EVENTS_CRASH_CHILD", &path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut last_reported = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(batch) = line.strip_prefix("committed ") {
            last_reported = Some(batch.trim().parse::<u64>().unwrap());
            if last_reported >= Some(30) {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL, mid-append
    child.wait().unwrap();
    let log = RedbEventLog::open(&path).unwrap();
    let checkpoint: u64 =
        String::from_utf8(log.checkpoint("monitor").await.unwrap().unwrap()).unwrap().parse().unwrap();
    let head = log.head().await.unwrap();
    assert!(checkpoint >= last_reported.unwrap(), "every append reported committed survived");
    assert_eq!(head, (checkpoint + 1) * 10, "the events present are exactly those of the checkpointed batches");
    let all = log.read_forward(0, usize::MAX).await.unwrap();
    assert!(all.windows(2).all(|w| w[1].order_number() == w[0].order_number() + 1));
}
