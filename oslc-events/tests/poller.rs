//! The polling change source over a listing that tells its version: it lists only when the version moved.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use oslc_events::poller::{Snapshot, SnapshotPoller, SourceError};
use oslc_events::{ChangeKind, Event, EventLog, MemoryEventLog};
use oxrdf::NamedNode;

/// Jobs (name, status) in process: every write bumps the version; lists are counted; a list can be made to fail.
#[derive(Default)]
struct Jobs {
    jobs: Mutex<Vec<(String, String)>>,
    version: AtomicU64,
    lists: AtomicUsize,
    fail: AtomicBool,
}

impl Jobs {
    fn set(&self, name: &str, status: &str) {
        let mut jobs = self.jobs.lock().unwrap();
        match jobs.iter_mut().find(|(n, _)| n == name) {
            Some(job) => job.1 = status.to_owned(),
            None => jobs.push((name.to_owned(), status.to_owned())),
        }
        self.version.fetch_add(1, Ordering::SeqCst);
    }

    fn lists(&self) -> usize {
        self.lists.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl Snapshot for Jobs {
    type Item = (String, String);

    async fn list(&self) -> Result<Vec<Self::Item>, SourceError> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        if self.fail.swap(false, Ordering::SeqCst) {
            return Err("the tool is down".into());
        }
        Ok(self.jobs.lock().unwrap().clone())
    }

    fn key(&self, job: &Self::Item) -> Option<String> {
        Some(job.0.clone())
    }

    fn fingerprint(&self, job: &Self::Item) -> Vec<u8> {
        job.1.as_bytes().to_vec()
    }

    fn event(
        &self,
        key: &str,
        before: Option<&[u8]>,
        now: Option<&Self::Item>,
        id: &str,
    ) -> Result<Option<Event>, SourceError> {
        let kind = match (before, now) {
            (None, _) => ChangeKind::Creation,
            (_, None) => ChangeKind::Deletion,
            _ => ChangeKind::Modification,
        };
        Ok(Some(Event::new(kind, NamedNode::new(format!("http://ci.example/jobs/{key}"))?).with_id_from(id)))
    }

    fn version(&self) -> Option<u64> {
        Some(self.version.load(Ordering::SeqCst))
    }
}

#[tokio::test]
async fn a_listing_whose_version_did_not_move_is_not_listed_again() {
    let jobs = Arc::new(Jobs::default());
    jobs.set("build", "passed");
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    let poller = SnapshotPoller::new(jobs.clone(), log.clone(), "ci-poller");

    assert!(poller.poll().await.unwrap().is_empty(), "the first poll is the Base");
    assert_eq!(jobs.lists(), 1);
    for _ in 0..3 {
        assert!(poller.poll().await.unwrap().is_empty());
    }
    assert_eq!(jobs.lists(), 1, "nothing was written, so nothing was listed");

    jobs.set("build", "failed");
    jobs.set("deploy", "passed");
    let kinds: Vec<ChangeKind> = poller.poll().await.unwrap().iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [ChangeKind::Modification, ChangeKind::Creation]);
    assert_eq!(jobs.lists(), 2);
    assert!(poller.poll().await.unwrap().is_empty());
    assert_eq!(jobs.lists(), 2);

    // A poll that failed lists again at the next one, though the version stayed where the failure saw it.
    jobs.set("build", "passed");
    jobs.fail.store(true, Ordering::SeqCst);
    assert!(poller.poll().await.is_err());
    let events = poller.poll().await.unwrap();
    assert_eq!(events.len(), 1, "the change the failed poll missed is reported by the next");
    assert_eq!(events[0].changed.as_str(), "http://ci.example/jobs/build");
    assert_eq!(jobs.lists(), 4);

    // A poller started afresh on the same log (a restart) lists once, and sees that nothing changed meanwhile.
    let restarted = SnapshotPoller::new(jobs.clone(), log, "ci-poller");
    assert!(restarted.poll().await.unwrap().is_empty());
    assert!(restarted.poll().await.unwrap().is_empty());
    assert_eq!(jobs.lists(), 5);
}
