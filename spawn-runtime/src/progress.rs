//! Following a run and stopping it: [`MigrationEvent`]s given to the observer set with
//! [`Migrator::on_progress`](crate::Migrator::on_progress), and the [`StopHandle`] set with
//! [`Migrator::stop_handle`](crate::Migrator::stop_handle).
//!
//! Events are produced as the migrations start and commit, also inside a batch (many
//! migrations in one message): after each migration's `COMMIT` the batch carries a marker
//! `SELECT` whose column name holds a per-run random token (a migration's own statements
//! cannot produce it by accident), followed by a `DO` block that raises an `INFO` message,
//! which makes the server send what it has buffered at once. So a commit is observed when it
//! happens, without an extra round trip.
//!
//! A stop takes effect at the next migration boundary: the migration in flight finishes and
//! commits (a no-transaction migration runs to its end), the next one does not start. With a
//! stop handle the migrator therefore sends one migration per message instead of batches
//! (a batch, once sent, runs to its end): one round trip per migration, which costs little
//! against a local server but adds up with thousands of tiny migrations over a slow link.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// What a run reports as it goes. `index` is the migration's 0-based position among the
/// `total` migrations the run set out to apply ([`Report::planned`](crate::Report::planned)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationEvent {
    /// The migration is being sent to the server (within a batch: the previous one
    /// committed).
    Started {
        name: String,
        index: usize,
        total: usize,
    },
    /// The migration committed together with its history row.
    Committed {
        name: String,
        index: usize,
        total: usize,
        /// Its execution time, as recorded in the history.
        duration: Duration,
    },
}

impl MigrationEvent {
    /// The migration's name.
    pub fn name(&self) -> &str {
        match self {
            MigrationEvent::Started { name, .. } | MigrationEvent::Committed { name, .. } => name,
        }
    }
}

/// The observer given to [`Migrator::on_progress`](crate::Migrator::on_progress).
#[derive(Clone)]
pub(crate) struct Observer(pub Arc<dyn Fn(&MigrationEvent) + Send + Sync>);

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Observer(..)")
    }
}

/// Asks a run to stop at the next migration boundary: clone it, give one clone to
/// [`Migrator::stop_handle`](crate::Migrator::stop_handle), call [`stop`](StopHandle::stop)
/// on another (from a signal handler task, say). The run then returns a
/// [`Report`](crate::Report) with `stopped` set, listing what it applied; nothing is ever
/// half-applied. A stop requested while the run waits for the migration lock ends the wait.
#[derive(Debug, Clone, Default)]
pub struct StopHandle {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    stopped: AtomicBool,
    notify: Notify,
}

impl StopHandle {
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests the stop (idempotent).
    pub fn stop(&self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    /// Whether a stop was requested.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::SeqCst)
    }

    /// Sleeps for `pause`, or less if a stop is requested meanwhile; returns whether it was.
    pub(crate) async fn sleep_unless_stopped(&self, pause: Duration) -> bool {
        let notified = self.inner.notify.notified();
        tokio::pin!(notified);
        // Registered before the flag is checked, so a stop in between is not missed.
        notified.as_mut().enable();
        if self.is_stopped() {
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => self.is_stopped(),
            _ = notified => true,
        }
    }
}

/// What apply needs of the observer and the stop handle.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hooks {
    pub observer: Option<Observer>,
    pub stop: Option<StopHandle>,
    /// Per-run token in the marker columns (see the module docs).
    pub token: String,
}

impl Hooks {
    pub fn emit(&self, event: MigrationEvent) {
        if let Some(o) = &self.observer {
            (o.0)(&event);
        }
    }

    pub fn started(&self, name: &str, index: usize, total: usize) {
        if self.observer.is_some() {
            self.emit(MigrationEvent::Started {
                name: name.to_string(),
                index,
                total,
            });
        }
    }

    pub fn committed(&self, name: &str, index: usize, total: usize, duration: Duration) {
        if self.observer.is_some() {
            self.emit(MigrationEvent::Committed {
                name: name.to_string(),
                index,
                total,
                duration,
            });
        }
    }

    pub fn stop_requested(&self) -> bool {
        self.stop.as_ref().is_some_and(StopHandle::is_stopped)
    }
}

/// A token that a migration's own statements will not produce by accident: 16 hex digits
/// from the clock, the process id and a counter.
pub(crate) fn run_token() -> String {
    use std::sync::atomic::AtomicU64;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let seed = format!(
        "{nanos}:{}:{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    format!(
        "{:016x}",
        xxhash_rust::xxh64::xxh64(seed.as_bytes(), 0x5eed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ() {
        assert_ne!(run_token(), run_token());
        assert_eq!(run_token().len(), 16);
    }

    #[tokio::test]
    async fn a_stop_ends_a_sleep() {
        let h = StopHandle::new();
        let h2 = h.clone();
        let task =
            tokio::spawn(async move { h2.sleep_unless_stopped(Duration::from_secs(3600)).await });
        tokio::task::yield_now().await;
        h.stop();
        assert!(task.await.expect("join"));
        assert!(
            h.sleep_unless_stopped(Duration::from_secs(3600)).await,
            "already stopped: returns at once"
        );
    }
}
