//! What every step of a run shares: its dedicated connections ([`Connections`]: where the
//! migrations run and where they are recorded), what it was told and found out when it took
//! the lock ([`RunContext`]), and what it applied so far ([`Ledger`]).
//!
//! With the tracking tables in the target database (the usual case) one connection plays
//! both roles. With [`Migrator::tracking_pool`](crate::Migrator::tracking_pool) there are two
//! dedicated connections, each holding the advisory lock, taken target first (see
//! [`crate::split`]).

use std::time::Duration;

use sqlx::PgPool;

use crate::error::{ConnectionLost, MigrateError};
use crate::idle::IdleConnections;
use crate::lock::{Probe, Session};
use crate::progress::{Hooks, StopHandle};
use crate::report::AppliedMigration;
use crate::tracking::Tracking;
use crate::{Migration, TransactionMode};

/// The pools a run connects with: the target's, and the tracking database's when the
/// tracking tables live elsewhere.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pools<'p> {
    pub target: &'p PgPool,
    pub tracking: Option<&'p PgPool>,
}

/// How to take the migration lock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LockRequest<'l> {
    pub tracking: &'l Tracking,
    /// Names the application in the connections' `application_name`.
    pub app: &'l str,
    /// How long to wait for a lock held by another migrator.
    pub wait: Duration,
    /// How long opening a dedicated connection may take.
    pub connect_timeout: Duration,
    /// Ends the wait when a stop is requested.
    pub stop: Option<&'l StopHandle>,
    /// The target connection's `search_path` (a tenant's schema, then `public`), if set.
    pub search_path: Option<&'l str>,
    /// Where the target connection comes from and goes back to, when runs share them
    /// (the tenants of one `run_tenants`).
    pub idle: Option<&'l IdleConnections>,
}

/// The run's dedicated connections: the target's, and the tracking database's when the
/// tracking tables live elsewhere (see [`crate::split`]).
pub(crate) struct Connections {
    target: Session,
    tracking: Option<Session>,
}

impl Connections {
    /// Connects to the target (without taking the lock: see [`Connections::lock`]).
    pub async fn connect(
        pools: Pools<'_>,
        lock: &LockRequest<'_>,
    ) -> Result<Connections, MigrateError> {
        let key = lock.tracking.lock_key();
        Ok(Connections {
            target: Session::connect(
                pools.target,
                lock.app,
                key,
                "target",
                lock.connect_timeout,
                lock.search_path,
                lock.idle,
            )
            .await?,
            tracking: None,
        })
    }

    /// Takes the lock on the target (where the original spawn takes it), then, with a
    /// tracking pool, connects to the tracking database and takes it there too: every
    /// migrator takes them in this order. `None` when a stop was requested while waiting.
    /// On an error the caller [releases](Connections::release) the connections.
    pub async fn lock(
        &mut self,
        pools: Pools<'_>,
        lock: &LockRequest<'_>,
    ) -> Result<Option<Probe>, MigrateError> {
        let Some(mut probe) = self
            .target
            .lock(lock.tracking, lock.wait, lock.stop)
            .await?
        else {
            return Ok(None);
        };
        let Some(tracking_pool) = pools.tracking else {
            return Ok(Some(probe));
        };
        let key = lock.tracking.lock_key();
        let session = Session::connect(
            tracking_pool,
            lock.app,
            key,
            "tracking",
            lock.connect_timeout,
            None,
            None,
        )
        .await?;
        let session = self.tracking.insert(session);
        Ok(session
            .lock(lock.tracking, lock.wait, lock.stop)
            .await?
            .map(|tracking| {
                // The tracking tables are the tracking database's; the rest is the target's.
                probe.tables = tracking.tables;
                probe
            }))
    }

    /// Where the migrations run.
    pub fn target(&mut self) -> &mut Session {
        &mut self.target
    }

    /// Where the tracking tables are (the target's connection in a single database).
    pub fn tracking(&mut self) -> &mut Session {
        match &mut self.tracking {
            Some(tracking) => tracking,
            None => &mut self.target,
        }
    }

    /// Whether the tracking tables are in another database than the migrations.
    pub fn is_split(&self) -> bool {
        self.tracking.is_some()
    }

    /// Sends `on_target` to the target and then `on_tracking` to the tracking tables' database:
    /// one message when they are one connection, one on each otherwise.
    pub async fn execute_on_each(
        &mut self,
        on_target: &str,
        on_tracking: &str,
    ) -> Result<(), sqlx::Error> {
        match &mut self.tracking {
            Some(tracking) => {
                self.target.execute(on_target).await?;
                tracking.execute(on_tracking).await?;
            }
            None => {
                self.target
                    .execute(&format!("{on_target}; {on_tracking}"))
                    .await?;
            }
        }
        Ok(())
    }

    /// Messages sent on both connections.
    pub fn sent(&self) -> usize {
        self.target.sent + self.tracking.as_ref().map_or(0, |t| t.sent)
    }

    /// Attempts needed to take the lock (the larger count of the two connections).
    pub fn lock_attempts(&self) -> u32 {
        self.target
            .lock_attempts
            .max(self.tracking.as_ref().map_or(0, |t| t.lock_attempts))
    }

    /// How long taking the lock took (on both connections).
    pub fn lock_waited(&self) -> Duration {
        self.target.lock_waited
            + self
                .tracking
                .as_ref()
                .map_or(Duration::ZERO, |t| t.lock_waited)
    }

    /// Releases both sessions (rolling back first after an error); a failure only closes
    /// the connection, whose backend is then terminated.
    pub async fn release(&mut self, rollback_first: bool) {
        match self.target.release(rollback_first).await {
            Ok(()) => {}
            // The run's error tells already (and dropping the session ends the backend if
            // it is still there).
            Err(e) if ConnectionLost::is_loss(&e) => {
                tracing::debug!("the migrator's connection is gone: {e}");
            }
            Err(e) => tracing::warn!(
                "releasing the migration lock failed ({e}); its connection is closed instead"
            ),
        }
        if let Some(tracking) = &mut self.tracking {
            if let Err(e) = tracking.release(rollback_first).await {
                tracing::warn!(
                    "releasing the migration lock in the tracking database failed ({e}); its connection is closed instead"
                );
            }
        }
    }
}

/// `lock_timeout` and `statement_timeout` of migrations that set none.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts<'t> {
    pub lock: &'t str,
    pub statement: &'t str,
}

/// Limits of one batch (one message) of transactional migrations.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchLimits {
    pub max_migrations: usize,
    pub max_bytes: usize,
}

/// What applying needs besides the migrations and the connections.
#[derive(Debug, Clone)]
pub(crate) struct RunContext<'r> {
    pub tracking: &'r Tracking,
    /// `created_by` of the history rows: `role (app)`.
    pub created_by: String,
    pub default_timeouts: Timeouts<'r>,
    pub batch_limits: BatchLimits,
    pub hooks: &'r Hooks,
    /// `current_database()` of the target connection.
    pub target_database: String,
    /// Whether the target has PL/pgSQL (for the `DO` that flushes progress markers).
    pub has_plpgsql: bool,
    /// For a tenant's run, the statement that sets its `search_path` again at the start of
    /// each migration (so a part that changed it does not move the next one elsewhere).
    pub set_search_path: Option<String>,
}

impl RunContext<'_> {
    /// The timeouts `m` runs with: its own, or the defaults.
    pub fn timeouts<'m>(&'m self, m: &'m Migration) -> Timeouts<'m> {
        Timeouts {
            lock: m
                .lock_timeout
                .as_deref()
                .unwrap_or(self.default_timeouts.lock),
            statement: m
                .statement_timeout
                .as_deref()
                .unwrap_or(self.default_timeouts.statement),
        }
    }
}

/// The migrations a run applied, in order, out of the `total` it set out to apply. The
/// migration being applied is always the next one, at index [`Ledger::next_index`]: each one
/// either commits (and is entered here) or ends the run.
#[derive(Debug)]
pub(crate) struct Ledger {
    applied: Vec<AppliedMigration>,
    total: usize,
}

impl Ledger {
    pub fn new(total: usize) -> Self {
        Ledger {
            applied: Vec::new(),
            total,
        }
    }

    /// The index, among the run's migrations, of the next one to apply.
    pub fn next_index(&self) -> usize {
        self.applied.len()
    }

    /// `m`, the next migration, is being sent.
    pub fn started(&self, ctx: &RunContext<'_>, m: &Migration) {
        ctx.hooks.started(&m.name, self.next_index(), self.total);
    }

    /// `m`, the next migration, committed with its history row.
    pub fn committed(&mut self, ctx: &RunContext<'_>, m: &Migration, duration: Duration) {
        if m.mode == TransactionMode::NoTransaction {
            tracing::info!(
                migration = &*m.name,
                ?duration,
                "applied migration (no transaction)"
            );
        } else {
            tracing::info!(migration = &*m.name, ?duration, "applied migration");
        }
        let index = self.next_index();
        self.applied.push(AppliedMigration {
            name: m.name.to_string(),
            duration,
        });
        ctx.hooks.committed(&m.name, index, self.total, duration);
    }

    pub fn into_applied(self) -> Vec<AppliedMigration> {
        self.applied
    }
}
