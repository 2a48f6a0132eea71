//! The migration lock and the dedicated connection that holds it.
//!
//! A run opens ONE connection of its own (with the pool's connect options, statement
//! logging off so multi-megabyte batches never reach the logs), and takes a SESSION-level
//! advisory lock on it for the whole run:
//!
//! * For the tracking schema `_spawn` the key is the original spawn CLI's,
//!   `-6823468568242361246` (XXH64, seed 1234, of `SPAWN_MIGRATION_LOCK`), so the two tools
//!   exclude each other.
//! * For any other schema the key is XXH64 (seed 1234) of `SPAWN_MIGRATION_LOCK:<schema>`,
//!   reinterpreted as a signed 64-bit integer ([`advisory_lock_key`]): stable across
//!   versions, machines and processes, and different per schema.
//!
//! The lock is taken by polling `pg_try_advisory_lock` with a bounded wait and backoff; the
//! waiter holds no transaction between attempts. The first attempt also probes the tracking
//! tables (`to_regclass`) and who the current role is, in the same statement. (A run with
//! nothing pending takes no lock at all: see [`crate::run`].)
//!
//! Release happens on every path: [`Session::release`] unlocks explicitly; if a [`Session`]
//! is dropped without that (error inside, panic, or the run's future dropped), its
//! connection is closed — never returned to a pool while holding the lock — and, if the lock
//! was held, the backend is terminated through the pool so that a statement still running
//! there cannot keep the lock.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_util::stream::BoxStream;
use sqlx::postgres::{PgConnectOptions, PgQueryResult, PgRow};
use sqlx::{ConnectOptions, Connection, Either, PgConnection, PgPool, Row};

use crate::error::{LockHolder, LockWaitTimeout, MigrateError};
use crate::idle::IdleConnections;
use crate::progress::StopHandle;
use crate::tracking::{quote_literal, TablesState, Tracking};

/// A boxed `Send` future.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The results of one message, streamed: each statement's completion or row.
pub(crate) type Results<'s> = BoxStream<'s, Result<Either<PgQueryResult, PgRow>, sqlx::Error>>;

/// The original spawn's advisory lock key (for the tracking schema `_spawn`).
pub const ORIGINAL_LOCK_KEY: i64 = -6823468568242361246;

/// The advisory lock key that serialises migrators of one tracking schema: the original
/// spawn's key for `_spawn`, otherwise XXH64 (seed 1234) of `SPAWN_MIGRATION_LOCK:<schema>`
/// as a signed integer.
pub fn advisory_lock_key(schema: &str) -> i64 {
    if schema == "_spawn" {
        ORIGINAL_LOCK_KEY
    } else {
        let text = format!("SPAWN_MIGRATION_LOCK:{schema}");
        xxhash_rust::xxh64::xxh64(text.as_bytes(), 1234) as i64
    }
}

/// What the first statement of a run found out.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    pub tables: TablesState,
    pub role: String,
    /// `current_database()` of the connection.
    pub database: String,
    /// Whether PL/pgSQL is installed (`DO` blocks work).
    pub has_plpgsql: bool,
}

/// The dedicated connection of one run, with a count of the statements sent on it.
pub(crate) struct Session {
    conn: Option<PgConnection>,
    pool: PgPool,
    key: i64,
    /// Whether this session (may) hold the advisory lock.
    locked: bool,
    /// Backend pid and start time, to terminate exactly this backend if needed.
    backend: Option<(i32, String)>,
    /// Query messages sent on this connection (each simple-query message counts once).
    pub sent: usize,
    /// Attempts made to take the lock.
    pub lock_attempts: u32,
    /// How long taking the lock took (zero until it is taken).
    pub lock_waited: Duration,
    /// Batches sent so far (names each batch's prepared statement).
    pub batches: usize,
    /// Where the connection goes after a clean run, when runs share connections.
    idle: Option<IdleConnections>,
}

impl Session {
    /// Opens the dedicated connection, or takes one of `idle` (setting its `search_path`);
    /// `role` says which one it is in messages (`target`, `tracking`).
    pub async fn connect(
        pool: &PgPool,
        app: &str,
        key: i64,
        role: &'static str,
        timeout: Duration,
        search_path: Option<&str>,
        idle: Option<&IdleConnections>,
    ) -> Result<Session, MigrateError> {
        let session = |conn| Session {
            conn: Some(conn),
            pool: pool.clone(),
            key,
            locked: false,
            backend: None,
            sent: 0,
            lock_attempts: 0,
            lock_waited: Duration::ZERO,
            batches: 0,
            idle: idle.cloned(),
        };
        while let Some(conn) = idle.and_then(IdleConnections::take) {
            let mut reused = session(conn);
            let Some(schema) = search_path else {
                return Ok(reused);
            };
            match reused.execute(&set_search_path(schema)).await {
                Ok(_) => return Ok(reused),
                // Gone while idle (e.g. terminated): close it, try the next or connect.
                Err(e) => tracing::debug!("an idle migrator connection failed ({e}); closing it"),
            }
        }
        let base: &PgConnectOptions = &pool.connect_options();
        let mut options = base.clone().disable_statement_logging();
        if base.get_application_name().is_none() {
            options = options.application_name(&format!("spawn-migrator ({app})"));
        }
        if let Some(schema) = search_path {
            options = options.options([("search_path", search_path_value(schema))]);
        }
        let conn = crate::connect::connect(&options, timeout)
            .await
            .map_err(|source| MigrateError::Connect {
                role,
                database: base
                    .get_database()
                    .unwrap_or(base.get_username())
                    .to_string(),
                source,
            })?;
        Ok(session(conn))
    }

    fn conn(&mut self) -> Result<&mut PgConnection, sqlx::Error> {
        self.conn.as_mut().ok_or_else(|| {
            sqlx::Error::Protocol("the migrator's connection is already closed".into())
        })
    }

    /// Sends one simple-query message (any number of statements).
    ///
    /// (Boxed futures here keep the callers' futures provably `Send`.)
    pub fn execute<'s>(
        &'s mut self,
        sql: &'s str,
    ) -> BoxFuture<'s, Result<PgQueryResult, sqlx::Error>> {
        self.sent += 1;
        Box::pin(async move {
            let conn = self.conn()?;
            sqlx::Executor::execute(conn, sqlx::raw_sql(sql)).await
        })
    }

    /// Sends one simple-query message and collects the rows of all its statements.
    pub fn fetch_all<'s>(
        &'s mut self,
        sql: &'s str,
    ) -> BoxFuture<'s, Result<Vec<PgRow>, sqlx::Error>> {
        self.sent += 1;
        Box::pin(async move {
            let conn = self.conn()?;
            sqlx::Executor::fetch_all(conn, sqlx::raw_sql(sql)).await
        })
    }

    /// Sends one simple-query message and streams its results as they arrive.
    pub fn stream<'s>(&'s mut self, sql: &'s str) -> Result<Results<'s>, sqlx::Error> {
        self.sent += 1;
        let conn = self.conn()?;
        Ok(sqlx::Executor::fetch_many(conn, sqlx::raw_sql(sql)))
    }

    /// Takes the advisory lock, waiting up to `wait`; returns what the tracking tables look
    /// like (probed in the same statement as the successful attempt), or `None` when `stop`
    /// was requested while waiting.
    pub async fn lock(
        &mut self,
        tracking: &Tracking,
        wait: Duration,
        stop: Option<&StopHandle>,
    ) -> Result<Option<Probe>, MigrateError> {
        let key = self.key;
        let sql = probe_sql(tracking, key);
        let started = Instant::now();
        let mut backoff = Duration::from_millis(5);
        let mut last_warn: Option<Instant> = None;
        loop {
            self.lock_attempts += 1;
            // From here on the backend may hold the lock even if this future is dropped.
            self.locked = true;
            let rows = self
                .fetch_all(&sql)
                .await
                .map_err(MigrateError::db(format!(
                    "trying to take spawn's migration lock ({key})"
                )))?;
            let row = rows.first().ok_or_else(|| MigrateError::Database {
                context: "trying to take spawn's migration lock".into(),
                source: sqlx::Error::RowNotFound,
            })?;
            let probe = read_probe(row).map_err(MigrateError::db("reading the lock probe"))?;
            if probe.got {
                self.backend = Some((probe.pid, probe.backend_start.unwrap_or_default()));
                self.lock_waited = started.elapsed();
                tracing::debug!(
                    schema = %tracking.schema,
                    key,
                    attempts = self.lock_attempts,
                    waited = ?started.elapsed(),
                    "took spawn's migration lock"
                );
                return Ok(Some(Probe {
                    tables: probe.tables,
                    role: probe.role,
                    database: probe.database,
                    has_plpgsql: probe.has_plpgsql,
                }));
            }
            self.locked = false;
            let waited = started.elapsed();
            if waited >= wait {
                return Err(MigrateError::LockWaitTimeout(Box::new(LockWaitTimeout {
                    schema: tracking.schema.clone(),
                    key,
                    waited,
                    holder: probe.holder,
                })));
            }
            if last_warn.is_none_or(|t| t.elapsed() >= Duration::from_secs(5)) {
                last_warn = Some(Instant::now());
                match &probe.holder {
                    Some(h) => tracing::warn!(
                        schema = %tracking.schema,
                        key,
                        holder_pid = h.pid,
                        holder_application = h.application_name.as_deref().unwrap_or(""),
                        holder_backend_start = h.backend_start.as_deref().unwrap_or(""),
                        "waiting for spawn's migration lock, held by {h}"
                    ),
                    None => tracing::warn!(
                        schema = %tracking.schema,
                        key,
                        "waiting for spawn's migration lock, held by a session not visible to this role"
                    ),
                }
            }
            let pause = (backoff + jitter(backoff)).min(wait.saturating_sub(waited));
            match stop {
                Some(stop) => {
                    if stop.sleep_unless_stopped(pause).await {
                        tracing::info!(schema = %tracking.schema, "stop requested while waiting for the migration lock");
                        return Ok(None);
                    }
                }
                None => tokio::time::sleep(pause).await,
            }
            backoff = (backoff * 2).min(Duration::from_millis(250));
        }
    }

    /// Whether the session is inside a transaction, open or failed (so that a ROLLBACK outside
    /// one does not make the server warn). A statement outside a transaction runs in one of its
    /// own that starts with it, so `now()` (the transaction's start) equals its start; a failed
    /// transaction refuses the statement; a broken connection answers `true`, and the ROLLBACK
    /// then reports the error.
    async fn in_transaction(&mut self) -> bool {
        match self
            .fetch_all("SELECT pg_catalog.now() = pg_catalog.statement_timestamp()")
            .await
        {
            Ok(rows) => !rows
                .first()
                .and_then(|row| sqlx::Row::try_get::<bool, _>(row, 0).ok())
                .unwrap_or(false),
            Err(_) => true,
        }
    }

    /// Rolls back the transaction a failure left open or failed, if there is one: after a
    /// parse error (nothing ran) or a failed COMMIT (the transaction is over) there is none,
    /// and a ROLLBACK would only make the server warn. One more round trip, on failures only.
    pub async fn rollback_if_open(&mut self) -> Result<(), sqlx::Error> {
        if self.in_transaction().await {
            self.execute("ROLLBACK").await?;
        }
        Ok(())
    }

    /// Ends the run cleanly: rolls back a transaction left open by a failure (when asked),
    /// releases the lock and closes the connection. If that fails, dropping the session
    /// closes the connection and terminates its backend.
    pub async fn release(&mut self, rollback_first: bool) -> Result<(), sqlx::Error> {
        if rollback_first {
            self.rollback_if_open().await?;
        } else if let Some(idle) = self.idle.clone() {
            // A clean run: reset the session (its advisory locks too) and keep the connection
            // for the next run. sqlx's cached statements go first, then the server's state.
            self.conn()?.clear_cached_statements().await?;
            self.execute("DISCARD ALL").await?;
            self.locked = false;
            if let Some(conn) = self.conn.take() {
                idle.put(conn);
            }
            return Ok(());
        }
        if self.locked {
            let unlock = format!("SELECT pg_catalog.pg_advisory_unlock({})", self.key);
            self.execute(&unlock).await?;
            self.locked = false;
            tracing::debug!(key = self.key, "released spawn's migration lock");
        }
        if let Some(conn) = self.conn.take() {
            // Graceful Terminate; the lock is already released, so errors do not matter.
            let _ = conn.close().await;
        }
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        // Closing the socket ends an idle backend and with it its session locks.
        drop(conn);
        if !self.locked {
            return;
        }
        tracing::warn!(
            key = self.key,
            "the migration run ended without releasing its lock (error, panic or dropped \
             future): its connection was closed and its backend is being terminated"
        );
        let Some((pid, backend_start)) = self.backend.clone() else {
            return;
        };
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let pool = self.pool.clone();
        handle.spawn(async move {
            // The backend may still be busy with a statement (it only notices the closed
            // socket when it next talks to the client): end it, and only if it is still the
            // same backend (pids are reused).
            let sql = format!(
                "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity \
                 WHERE pid = {pid} AND backend_start::text = {}",
                quote_literal(&backend_start)
            );
            if let Err(e) = sqlx::Executor::execute(&pool, sqlx::raw_sql(&sql)).await {
                tracing::warn!(pid, "could not terminate the migrator's backend: {e}");
            }
        });
    }
}

struct ProbeRow {
    got: bool,
    holder: Option<LockHolder>,
    tables: TablesState,
    role: String,
    pid: i32,
    backend_start: Option<String>,
    database: String,
    has_plpgsql: bool,
}

/// One statement: try the lock; if busy, who holds it; the tracking tables; the role.
fn probe_sql(tracking: &Tracking, key: i64) -> String {
    let classid = ((key as u64) >> 32) as u32;
    let objid = (key as u64 & 0xffff_ffff) as u32;
    format!(
        "SELECT s.got, h.pid AS holder_pid, h.application_name AS holder_app, h.usename AS holder_user, \
         h.client_addr AS holder_addr, h.backend_start AS holder_start, h.state AS holder_state, \
         {tables}, current_user::text AS role, pg_catalog.pg_backend_pid() AS own_pid, \
         pg_catalog.current_database()::text AS own_db, \
         EXISTS (SELECT 1 FROM pg_catalog.pg_language WHERE lanname = 'plpgsql') AS has_plpgsql, \
         (SELECT a.backend_start::text FROM pg_catalog.pg_stat_activity a \
          WHERE a.pid = pg_catalog.pg_backend_pid()) AS own_start \
         FROM (SELECT pg_catalog.pg_try_advisory_lock({key}) AS got OFFSET 0) s \
         LEFT JOIN LATERAL (SELECT a.pid, a.application_name::text, a.usename::text, \
           a.client_addr::text, a.backend_start::text, a.state::text \
           FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid \
           WHERE NOT s.got AND l.locktype = 'advisory' AND l.granted \
           AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) \
           AND l.classid = {classid}::oid AND l.objid = {objid}::oid AND l.objsubid = 1 \
           AND l.pid <> pg_catalog.pg_backend_pid() LIMIT 1) h ON true",
        tables = TablesState::probe_columns(tracking),
    )
}

fn read_probe(row: &PgRow) -> Result<ProbeRow, sqlx::Error> {
    let holder = match row.try_get::<Option<i32>, _>("holder_pid")? {
        Some(pid) => Some(LockHolder {
            pid,
            application_name: row.try_get("holder_app")?,
            user: row.try_get("holder_user")?,
            client_addr: row.try_get("holder_addr")?,
            backend_start: row.try_get("holder_start")?,
            state: row.try_get("holder_state")?,
        }),
        None => None,
    };
    Ok(ProbeRow {
        got: row.try_get("got")?,
        holder,
        tables: TablesState::from_row(row)?,
        role: row.try_get("role")?,
        pid: row.try_get("own_pid")?,
        backend_start: row.try_get("own_start")?,
        database: row.try_get("own_db")?,
        has_plpgsql: row.try_get("has_plpgsql")?,
    })
}

/// Up to half of `base`, from the clock's nanoseconds (spreads out concurrent waiters).
fn jitter(base: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0) as u64;
    let half = (base.as_nanos() as u64 / 2).max(1);
    Duration::from_nanos(nanos % half)
}

/// The `search_path` of a tenant's connection: its schema, then `public`.
fn search_path_value(schema: &str) -> String {
    format!("{},public", crate::tracking::quote_ident(schema))
}

/// The statement that sets the session's `search_path` to `schema`, then `public`.
pub(crate) fn set_search_path(schema: &str) -> String {
    format!(
        "SELECT pg_catalog.set_config('search_path', {}, false)",
        quote_literal(&search_path_value(schema))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_key_is_xxh64_of_the_lock_name() {
        let key = xxhash_rust::xxh64::xxh64(b"SPAWN_MIGRATION_LOCK", 1234);
        assert_eq!(key, 11623275505467190370);
        assert_eq!(key as i64, ORIGINAL_LOCK_KEY);
        assert_eq!(advisory_lock_key("_spawn"), ORIGINAL_LOCK_KEY);
        assert_ne!(advisory_lock_key("other"), ORIGINAL_LOCK_KEY);
        assert_eq!(advisory_lock_key("other"), advisory_lock_key("other"));
    }
}
