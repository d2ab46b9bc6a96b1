//! A bound on concurrent CPU-heavy work whose cost a client chooses (query evaluation, parsing request bodies), so
//! that a few costly requests cannot take every core from the rest: health checks, cheap reads and the change
//! source keep answering while hostile queries run.
//!
//! The work runs on tokio's blocking threads, at most [`cpu_permits`] at a time in the process; a request waits
//! for a permit until its deadline, then gets [`Error::Busy`] (503 with `Retry-After`).

use std::sync::OnceLock;
use std::time::Instant;

use tokio::sync::Semaphore;

use crate::{Error, Result};

static PERMITS: OnceLock<Semaphore> = OnceLock::new();

/// How many CPU-heavy tasks run at once: the cores less one (at least one), so one core stays free for the async
/// workers; `OSLC_CPU_PERMITS` (read once) sets another number.
#[must_use]
pub fn cpu_permits() -> usize {
    semaphore_size(std::env::var("OSLC_CPU_PERMITS").ok().as_deref())
}

fn semaphore_size(setting: Option<&str>) -> usize {
    match setting.and_then(|v| v.trim().parse::<usize>().ok()) {
        Some(n) if n > 0 => n.min(Semaphore::MAX_PERMITS),
        _ => std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1)),
    }
}

fn semaphore() -> &'static Semaphore {
    PERMITS.get_or_init(|| Semaphore::new(cpu_permits()))
}

/// Runs `work` on a blocking thread once a permit is free, waiting no later than `deadline` (on a runtime with
/// tokio's time driver enabled, as `#[tokio::main]` makes).
///
/// ```
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
/// let sum = oslc_core::server::run_cpu_bound("adding", deadline, || Ok((1..=10).sum::<u32>())).await?;
/// assert_eq!(sum, 55);
/// # Ok::<_, oslc_core::Error>(()) })?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::Busy`] if no permit was free by `deadline`; what `work` returns; [`Error::Backend`] if the task could
/// not run.
pub async fn run_cpu_bound<T, F>(what: &str, deadline: Instant, work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    let permit = tokio::time::timeout_at(deadline.into(), semaphore().acquire())
        .await
        .map_err(|_| Error::Busy { what: what.to_owned() })?
        .map_err(|e| Error::backend("the CPU limiter is closed", e))?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(|e| Error::backend(format!("the {what} task failed"), e))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_core_stays_free_unless_told_otherwise() {
        assert_eq!(semaphore_size(Some("3")), 3);
        let default = semaphore_size(None);
        assert!(default >= 1);
        assert_eq!(semaphore_size(Some("0")), default);
        assert_eq!(semaphore_size(Some("many")), default);
    }

    #[tokio::test]
    async fn work_that_cannot_start_by_its_deadline_is_refused_as_busy() {
        let permits = semaphore().available_permits();
        let held = semaphore().acquire_many(u32::try_from(permits).unwrap_or(1)).await;
        let refused = run_cpu_bound("waiting", Instant::now() + std::time::Duration::from_millis(50), || Ok(())).await;
        assert!(matches!(refused, Err(Error::Busy { .. })), "{refused:?}");
        assert_eq!(refused.err().map(|e| e.status()), Some(503));
        drop(held);
        let ran = run_cpu_bound("running", Instant::now() + std::time::Duration::from_secs(5), || Ok(7)).await;
        assert_eq!(ran.ok(), Some(7));
    }
}
