//! The one backoff every retry loop of the workspace uses: 100 ms doubling up to 10 s by default.
//!
//! ```
//! use std::time::Duration;
//! use oslc_events::backoff::Backoff;
//!
//! let mut backoff = Backoff::new().with_max(Duration::from_millis(300));
//! let waits: Vec<u128> = (0..4).map(|_| backoff.next_wait().as_millis()).collect();
//! assert_eq!(waits, [100, 200, 300, 300]);
//! backoff.reset();
//! assert_eq!(backoff.next_wait(), Duration::from_millis(100));
//! ```

use std::time::Duration;

/// Waits between failed attempts, doubling from the first to the maximum; [`Backoff::reset`] after a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    next: Duration,
    max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Backoff {
    /// 100 ms doubling up to 10 s.
    pub fn new() -> Self {
        Self::starting_at(Duration::from_millis(100))
    }

    /// `first` doubling up to 10 s.
    pub fn starting_at(first: Duration) -> Self {
        Self { first, next: first, max: Duration::from_secs(10).max(first) }
    }

    /// With `max` as the longest wait.
    #[must_use]
    pub fn with_max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// The wait before the next attempt (and doubles the one after it).
    pub fn next_wait(&mut self) -> Duration {
        let current = self.next.min(self.max);
        self.next = (self.next * 2).min(self.max);
        current
    }

    /// Back to the first wait, after a success.
    pub fn reset(&mut self) {
        self.next = self.first;
    }

    /// Sleeps for [`Backoff::next_wait`], or returns `false` at once when `shutdown` completes first.
    pub async fn sleep_unless<F: std::future::Future<Output = ()>>(&mut self, shutdown: std::pin::Pin<&mut F>) -> bool {
        let wait = self.next_wait();
        tokio::select! {
            () = shutdown => false,
            () = tokio::time::sleep(wait) => true,
        }
    }
}
