//! Waiting on real events instead of polling: a line the migrator logs (a tracing event,
//! seen by a subscriber attached to the run's future) and a lock released (a blocking
//! `pg_advisory_lock` on a session of the test's own).

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgConnection;
use tokio::sync::Notify;

/// A subscriber that calls `F` with the message of every event (spans are ignored).
pub struct OnMessage<F>(pub F);

impl<F: Fn(&str) + Send + Sync + 'static> tracing::Subscriber for OnMessage<F> {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        (self.0)(&message.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// A subscriber that notifies when an event's message contains a needle. Attach it to a
/// run with [`tracing::instrument::WithSubscriber::with_subscriber`]; [`LogSignal::dispatch`]
/// also keeps a second dispatcher registered, so tracing asks this one about every callsite
/// instead of caching the answer of whichever thread (with no subscriber) hit it first.
pub struct LogSignal;

impl LogSignal {
    /// The dispatcher to attach to the run, the one to keep alive beside it, and the signal.
    pub fn dispatch(needle: &'static str) -> (tracing::Dispatch, tracing::Dispatch, Arc<Notify>) {
        let seen = Arc::new(Notify::new());
        let notify = Arc::clone(&seen);
        let signal = OnMessage(move |message: &str| {
            if message.contains(needle) {
                // A permit is stored if nobody waits yet: the signal is never lost.
                notify.notify_one();
            }
        });
        let second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        let dispatch = tracing::Dispatch::new(signal);
        tracing::callsite::rebuild_interest_cache();
        (dispatch, second, seen)
    }
}

/// What the migrator logs after an attempt at the lock that found it held.
pub const WAITING_FOR_THE_LOCK: &str = "waiting for spawn's migration lock";

/// Blocks (server-side) until the advisory lock `key` is free, takes it and lets it go;
/// bounded by a `lock_timeout`, so a lock that is never released fails the test.
pub async fn wait_for_lock_release(conn: &mut PgConnection, key: i64) {
    sqlx::raw_sql("SET lock_timeout = '60s'")
        .execute(&mut *conn)
        .await
        .expect("set lock_timeout");
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("the lock {key} was not released: {e}"));
    let released: bool = sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .fetch_one(&mut *conn)
        .await
        .expect("unlock");
    assert!(released);
}

/// A bound that turns a signal never given into a failure (a hang guard, not a timing
/// assertion).
const HANG: Duration = Duration::from_secs(120);

/// Waits until `signal` is given: what the migrator logs when `what`.
pub async fn logged(signal: &Notify, what: &str) {
    tokio::time::timeout(HANG, signal.notified())
        .await
        .unwrap_or_else(|_| panic!("the migrator never logged that {what}"));
}
