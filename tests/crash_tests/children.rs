//! What the crash and soak tests share: the migration set (transactional and no-transaction
//! migrations, with a check per statement), the migrating child process (the test binary
//! re-executed with [`CHILD_ENV`] set runs [`child_main`]), a seeded generator, and the
//! checks that a database is complete.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use spawn_runtime::MigrateError;

use crate::common::{migrator, rows_of, Mig};

/// How the child reports each database on stderr: `OUTCOME ok <url>` or
/// `OUTCOME error <kind> <url>: <error>` (kinds in [`error_kind`]).
pub const OUTCOME: &str = "spawn-child-outcome";

/// Set in the child: the URLs of the databases to migrate, space-separated.
pub const CHILD_ENV: &str = "SPAWN_CRASH_CHILD_URL";
/// The child's app name, which names its connections (`spawn-migrator (crash-child)`).
pub const CHILD_APP: &str = "crash-child";
/// A generous bound that turns a hang into a failure (never a timing assertion).
pub const HANG: Duration = Duration::from_secs(120);

/// One migration of the set, with a check per statement (`SELECT` of one boolean: whether
/// that statement's effect is there); a transactional migration has one check for all.
pub struct Case {
    pub mig: Mig,
    pub checks: Vec<&'static str>,
}

pub fn case(name: &str, no_tx: bool, sql: &str, checks: &[&'static str]) -> Case {
    let mig = if no_tx {
        Mig::no_tx(name, &format!("-- spawn:no-transaction\n{sql}"))
    } else {
        Mig::new(name, sql)
    };
    Case {
        mig,
        checks: checks.to_vec(),
    }
}

pub fn exists(rel: &str) -> &'static str {
    Box::leak(format!("SELECT to_regclass('{rel}') IS NOT NULL").into_boxed_str())
}

pub fn logged(tag: &str) -> &'static str {
    Box::leak(
        format!("SELECT EXISTS (SELECT 1 FROM crash_log WHERE tag = '{tag}')").into_boxed_str(),
    )
}

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "20250101000000-base",
            false,
            "CREATE TABLE crash_log (tag text NOT NULL);\n\
             CREATE TABLE c0 (n int);\nINSERT INTO c0 SELECT generate_series(1, 20000);",
            &[exists("c0")],
        ),
        case(
            "20250101000100-index-c0",
            true,
            "CREATE INDEX CONCURRENTLY c0_n_idx ON c0 (n);\nCREATE TABLE c1 AS SELECT n FROM c0;\n\
             INSERT INTO crash_log VALUES ('m1');",
            &[exists("c0_n_idx"), exists("c1"), logged("m1")],
        ),
        case(
            "20250101000200-tx",
            false,
            "CREATE TABLE c2 (id int);\nCREATE INDEX c2_id_idx ON c2 (id);\nINSERT INTO crash_log VALUES ('m2');",
            &[exists("c2")],
        ),
        case(
            "20250101000300-unique-c1",
            true,
            "CREATE UNIQUE INDEX CONCURRENTLY c1_n_idx ON c1 (n);\n\
             CREATE TABLE c3 AS SELECT count(*) AS k FROM c1;\nINSERT INTO crash_log VALUES ('m3');\n\
             CREATE INDEX CONCURRENTLY IF NOT EXISTS c3_k_idx ON c3 (k);",
            &[exists("c1_n_idx"), exists("c3"), logged("m3"), exists("c3_k_idx")],
        ),
        case(
            "20250101000400-tx",
            false,
            "ALTER TABLE c2 ADD COLUMN v int;\nINSERT INTO crash_log VALUES ('m4');",
            &[logged("m4")],
        ),
        case(
            "20250101000500-drop-index",
            true,
            "DROP INDEX CONCURRENTLY c2_id_idx;\nCREATE TABLE c5 AS SELECT n FROM c1 WHERE n < 100;\n\
             INSERT INTO crash_log VALUES ('m5');",
            &[
                "SELECT to_regclass('c2_id_idx') IS NULL",
                exists("c5"),
                logged("m5"),
            ],
        ),
        case(
            "20250101000600-tx",
            false,
            "CREATE TABLE c6 AS SELECT 1 AS x;\nINSERT INTO crash_log VALUES ('m6');",
            &[exists("c6")],
        ),
    ]
}

pub fn migs(cases: &[Case]) -> Vec<Mig> {
    cases.iter().map(|c| c.mig.clone()).collect()
}

/// The child's body: migrates each database named by [`CHILD_ENV`] in turn and reports each
/// outcome on stderr (see [`OUTCOME`]); exits 0 when every run succeeded, 3 otherwise. Does
/// nothing when the variable is unset (when the suite runs the child as a test).
pub fn child_main() {
    let Ok(urls) = std::env::var(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let code = rt.block_on(async {
        let set = migs(&cases());
        let mut code = 0;
        for url in urls.split_whitespace() {
            let outcome = match PgPoolOptions::new().max_connections(2).connect(url).await {
                Ok(pool) => {
                    let run = migrator(&set).created_by_app(CHILD_APP).run(&pool).await;
                    pool.close().await;
                    run.map(|_| ()).map_err(|e| (error_kind(&e), e.to_string()))
                }
                Err(e) => Err(("connect", format!("connecting the pool: {e}"))),
            };
            match outcome {
                Ok(()) => eprintln!("{OUTCOME} ok {url}"),
                Err((kind, e)) => {
                    eprintln!("{OUTCOME} error {kind} {url}: {e}");
                    code = 3;
                }
            }
        }
        code
    });
    std::process::exit(code);
}

/// How a run failed: `lost` (the connection was lost), `lock-wait` (the migration lock was
/// not free in time), `connect` (a connection could not be opened), or `other`.
pub fn error_kind(e: &MigrateError) -> &'static str {
    match e {
        MigrateError::ConnectionLost(_) => "lost",
        MigrateError::LockWaitTimeout(_) => "lock-wait",
        MigrateError::Connect { .. } => "connect",
        _ => "other",
    }
}

/// SplitMix64: a small seeded generator (the crash points only need to be reproducible).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Starts a child that migrates the databases of `urls` in that order; its stderr (one
/// [`OUTCOME`] line per database) is `stderr`.
pub fn spawn_child(urls: &[&str], stderr: Stdio) -> Child {
    let exe = std::env::current_exe().expect("test binary");
    Command::new(exe)
        .args([
            "child_migrates",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, urls.join(" "))
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn the migrating child")
}

/// Waits (bounded) for the child to exit, on a blocking thread: no polling.
pub async fn wait_child(mut child: Child) -> Child {
    let exited = tokio::task::spawn_blocking(move || {
        child.wait().expect("child status");
        child
    });
    tokio::time::timeout(HANG, exited)
        .await
        .expect("the child did not exit")
        .expect("the waiting thread")
}

/// Ends the child's leftover backends and waits (bounded, in the server) until they are gone.
/// A killed client's backend would run its statement to the end before noticing; ending it
/// instead is the other crash a server sees (the statement is cut short), which the rerun
/// must handle as well.
pub async fn wait_backends_gone(pool: &PgPool, db: &str) {
    let filter = "datname = $1 AND application_name LIKE '%crash-child%'";
    // pg_terminate_backend(pid, timeout) returns once the backend has exited (PostgreSQL 14+).
    let _: Vec<bool> = sqlx::query_scalar(&format!(
        "SELECT pg_terminate_backend(pid, {}) FROM pg_stat_activity WHERE {filter}",
        HANG.as_millis()
    ))
    .bind(db)
    .fetch_all(pool)
    .await
    .expect("end the child's backends");
    let left: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM pg_stat_activity WHERE {filter}"
    ))
    .bind(db)
    .fetch_one(pool)
    .await
    .expect("backends");
    assert_eq!(left, 0, "the child's backends did not end");
}

pub async fn check(pool: &PgPool, sql: &str) -> bool {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap_or(false)
}

/// After the rerun: everything applied exactly once.
pub async fn assert_complete(pool: &PgPool, cases: &[Case], at: &str) {
    for c in cases {
        let rows = rows_of(pool, &c.mig.name).await;
        let successes = rows.iter().filter(|r| r.status == "SUCCESS").count();
        assert_eq!(successes, 1, "{at}: `{}` SUCCESS rows", c.mig.name);
        for sql in &c.checks {
            assert!(check(pool, sql).await, "{at}: `{}`: {sql}", c.mig.name);
        }
    }
    let tags: Vec<(String, i64)> =
        sqlx::query_as("SELECT tag, count(*) FROM crash_log GROUP BY tag ORDER BY tag")
            .fetch_all(pool)
            .await
            .expect("log");
    let expected: Vec<(String, i64)> = ["m1", "m2", "m3", "m4", "m5", "m6"]
        .iter()
        .map(|t| (t.to_string(), 1))
        .collect();
    assert_eq!(tags, expected, "{at}: each insert exactly once");
    let invalid: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
        .fetch_one(pool)
        .await
        .expect("indexes");
    assert_eq!(invalid, 0, "{at}: an INVALID index is left");
}

pub async fn reset(pool: &PgPool) {
    sqlx::raw_sql(
        "DROP SCHEMA IF EXISTS _spawn CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public;",
    )
    .execute(pool)
    .await
    .expect("reset the database");
}
