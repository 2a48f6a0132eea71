//! Helpers of the migrator tests: migrations built by hand (spawn-build is not involved),
//! a tiny statement splitter, database snapshots and tracking-table queries.

#![allow(dead_code)]

use std::time::Duration;

use spawn_runtime::{LineOrigin, Migration, Migrator, Statement, TransactionMode};
use sqlx::{PgPool, Row};

/// The app name the tests record in `created_by`.
pub const APP: &str = "runtime-tests";

/// An owned migration, lent out as a [`Migration`].
#[derive(Debug, Clone)]
pub struct Mig {
    pub name: String,
    pub sql: String,
    pub statements: Vec<Statement>,
    pub mode: TransactionMode,
    pub pin_hash: Option<String>,
    pub origins: Vec<LineOrigin>,
    pub lock_timeout: Option<String>,
    pub statement_timeout: Option<String>,
    /// Its `down.sql`, if it has one.
    pub down: Option<String>,
    /// Whether it is repeatable.
    pub repeatable: bool,
}

impl Mig {
    /// A transactional migration; statements found by [`split`].
    pub fn new(name: &str, sql: &str) -> Self {
        Mig {
            name: name.to_string(),
            sql: sql.to_string(),
            statements: split(sql),
            mode: TransactionMode::Transactional,
            pin_hash: None,
            origins: Vec::new(),
            lock_timeout: None,
            statement_timeout: None,
            down: None,
            repeatable: false,
        }
    }

    /// The same migration, repeatable.
    pub fn repeatable(mut self) -> Self {
        self.repeatable = true;
        self
    }

    /// The same migration with `sql` as its `down.sql`.
    pub fn down(mut self, sql: &str) -> Self {
        self.down = Some(sql.to_string());
        self
    }

    /// A no-transaction migration.
    pub fn no_tx(name: &str, sql: &str) -> Self {
        Mig {
            mode: TransactionMode::NoTransaction,
            ..Mig::new(name, sql)
        }
    }

    pub fn pinned(mut self, pin: &str) -> Self {
        self.pin_hash = Some(pin.to_string());
        self
    }

    pub fn origins(mut self, origins: Vec<LineOrigin>) -> Self {
        self.origins = origins;
        self
    }

    pub fn lock_timeout(mut self, value: &str) -> Self {
        self.lock_timeout = Some(value.to_string());
        self
    }

    pub fn statement_timeout(mut self, value: &str) -> Self {
        self.statement_timeout = Some(value.to_string());
        self
    }

    /// The same migration with other SQL.
    pub fn with_sql(&self, sql: &str) -> Self {
        Mig {
            sql: sql.to_string(),
            statements: split(sql),
            ..self.clone()
        }
    }

    pub fn migration(&self) -> Migration {
        Migration {
            pin_hash: self.pin_hash.clone().map(Into::into),
            mode: self.mode,
            origins: self.origins.clone().into(),
            lock_timeout: self.lock_timeout.clone().map(Into::into),
            statement_timeout: self.statement_timeout.clone().map(Into::into),
            down: self
                .down
                .as_ref()
                .map(|d| spawn_runtime::Down::new(d.clone(), split(d))),
            repeatable: self.repeatable,
            ..Migration::new(self.name.clone(), self.sql.clone(), self.statements.clone())
        }
    }

    pub fn sha256(&self) -> [u8; 32] {
        Migration::checksums_of(&self.sql).0
    }

    pub fn xxh3(&self) -> [u8; 16] {
        Migration::checksums_of(&self.sql).1
    }
}

/// A migrator over `ms` with the tests' app name.
pub fn migrator(ms: &[Mig]) -> Migrator {
    Migrator::new(ms.iter().map(Mig::migration).collect()).created_by_app(APP)
}

/// Splits simple SQL on `;`, minding '…' strings, $$…$$ bodies and -- comments; each
/// statement's recovery is what spawn-build's analyzer decides for it.
pub fn split(sql: &str) -> Vec<Statement> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let push = |s: usize, e: usize, out: &mut Vec<Statement>| {
        let piece = &sql[s..e];
        let lead = piece.len() - piece.trim_start().len();
        let s = s + lead;
        let e = s + sql[s..e].trim_end().len();
        if s < e {
            let line = 1 + sql[..s].matches('\n').count() as u32;
            out.push(Statement {
                start: s,
                end: e,
                line,
                recovery: spawn_build::analyze::recovery_of(&sql[s..e]),
            });
        }
    };
    while i < b.len() {
        if sql[i..].starts_with("--") {
            i = sql[i..].find('\n').map(|n| i + n).unwrap_or(b.len());
            continue;
        }
        if sql[i..].starts_with("$$") {
            i = sql[i + 2..]
                .find("$$")
                .map(|n| i + 2 + n + 2)
                .unwrap_or(b.len());
            continue;
        }
        match b[i] {
            b'\'' => {
                i = sql[i + 1..]
                    .find('\'')
                    .map(|n| i + 1 + n + 1)
                    .unwrap_or(b.len());
                continue;
            }
            b';' => {
                push(start, i, &mut out);
                start = i + 1;
            }
            _ => {}
        }
        i += sql[i..].chars().next().map_or(1, char::len_utf8);
    }
    push(start, b.len(), &mut out);
    out
}

/// Everything a refused run must leave as it was: the relations of every user schema and
/// every row of the tracking tables.
pub async fn snapshot(pool: &PgPool) -> Vec<String> {
    let mut out: Vec<String> = sqlx::query_scalar(
        "SELECT n.nspname || '.' || c.relname || ':' || c.relkind::text \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' \
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("snapshot of the catalog");
    let has_tracking: bool =
        sqlx::query_scalar("SELECT to_regclass('_spawn.migration_history') IS NOT NULL")
            .fetch_one(pool)
            .await
            .expect("tracking tables?");
    if has_tracking {
        for table in ["migration", "migration_history", "activity", "status"] {
            let rows: Vec<String> =
                sqlx::query_scalar(&format!("SELECT t::text FROM _spawn.{table} t ORDER BY 1"))
                    .fetch_all(pool)
                    .await
                    .expect("snapshot of a tracking table");
            out.extend(rows.into_iter().map(|r| format!("{table}: {r}")));
        }
    }
    let user_rows: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema', '_spawn') AND table_type = 'BASE TABLE' \
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("user tables");
    for t in user_rows {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {t}"))
            .fetch_one(pool)
            .await
            .expect("count rows");
        out.push(format!("rows of {t}: {n}"));
    }
    out
}

/// One history row, as the tests look at it.
#[derive(Debug, Clone)]
pub struct HistRow {
    pub name: String,
    pub namespace: String,
    pub activity: String,
    pub status: String,
    pub checksum: Vec<u8>,
    pub pin_hash: Option<String>,
    pub created_by: String,
    pub description: String,
    pub status_note: String,
    pub execution_secs: f64,
}

/// Every history row, oldest first.
pub async fn history(pool: &PgPool) -> Vec<HistRow> {
    let rows = sqlx::query(
        "SELECT m.name::text, m.namespace, h.activity_id_activity, h.status_id_status, h.checksum, h.pin_hash, \
         h.created_by, h.description, h.status_note, extract(epoch FROM h.execution_time)::float8 AS secs \
         FROM _spawn.migration_history h JOIN _spawn.migration m ON m.migration_id = h.migration_id_migration \
         ORDER BY h.migration_history_id",
    )
    .fetch_all(pool)
    .await
    .expect("history rows");
    rows.iter()
        .map(|r| HistRow {
            name: r.get(0),
            namespace: r.get(1),
            activity: r.get(2),
            status: r.get(3),
            checksum: r.get(4),
            pin_hash: r.get(5),
            created_by: r.get(6),
            description: r.get(7),
            status_note: r.get(8),
            execution_secs: r.get(9),
        })
        .collect()
}

/// History rows of one user migration, oldest first.
pub async fn rows_of(pool: &PgPool, name: &str) -> Vec<HistRow> {
    history(pool)
        .await
        .into_iter()
        .filter(|r| r.name == name && r.namespace == "default")
        .collect()
}

/// SUCCESS rows per user migration name.
pub async fn success_count(pool: &PgPool, name: &str) -> usize {
    rows_of(pool, name)
        .await
        .iter()
        .filter(|r| r.status == "SUCCESS")
        .count()
}

pub async fn table_exists(pool: &PgPool, name: &str) -> bool {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("to_regclass")
}

/// A pool of one connection as `role` (the test cluster trusts local connections).
pub async fn pool_as(db: &spawn_tests::TestDb, role: &str) -> PgPool {
    spawn_tests::connect::pool(spawn_tests::server().options(&db.name).username(role), 2).await
}

/// Waits until `query` returns true, polling it (at most 2000 times, 10 ms apart: a bound
/// that turns a hang into a failure, never a timing assertion).
///
/// Only for what no event tells: that a backend of the migrator *waits* for a lock the test
/// holds (`pg_locks` not granted, `wait_event_type = 'Lock'`). PostgreSQL signals nothing
/// when a session starts waiting (a NOTIFY is only delivered at commit, which the blocked
/// session never reaches) and the migrator cannot log it (the wait is inside a statement
/// it sent). Everything else waits on an event: a line the migrator logs or a blocking
/// lock (see `events`).
pub async fn wait_until(pool: &PgPool, query: &str, what: &str) {
    for _ in 0..2000 {
        let ok: bool = sqlx::query_scalar(query)
            .fetch_one(pool)
            .await
            .expect("condition query");
        if ok {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting until {what}");
}

/// The names of the migrations a run applied, in order.
pub fn applied_names(report: &spawn_runtime::Report) -> Vec<&str> {
    report.applied.iter().map(|a| a.name.as_str()).collect()
}

/// A session of its own that holds the advisory lock `key` (as the original CLI's psql
/// would), until it is dropped or unlocks.
pub async fn hold_lock(options: sqlx::postgres::PgConnectOptions, key: i64) -> sqlx::PgConnection {
    let mut conn = spawn_tests::connect::connect(&options).await;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut conn)
        .await
        .expect("lock");
    conn
}

/// Creates table `table` in `db` and returns a session of its own that holds it locked
/// (ACCESS EXCLUSIVE, in an open transaction) until it is closed or dropped.
pub async fn hold_new_table(db: &spawn_tests::TestDb, table: &str) -> sqlx::PgConnection {
    sqlx::raw_sql(&format!("CREATE TABLE {table} (id int)"))
        .execute(&db.pool)
        .await
        .expect("create the table");
    let mut holder = spawn_tests::server().connection(&db.name).await;
    sqlx::raw_sql(&format!(
        "BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
    ))
    .execute(&mut holder)
    .await
    .expect("hold the table");
    holder
}

/// Whether the advisory lock `key` is free right now (tried from a fresh connection).
pub async fn lock_is_free(pool: &PgPool, key: i64) -> bool {
    let mut conn = pool.acquire().await.expect("connection");
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut *conn)
        .await
        .expect("try");
    if got {
        let _: bool = sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await
            .expect("unlock");
    }
    got
}
