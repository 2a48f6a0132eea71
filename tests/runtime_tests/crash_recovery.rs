//! Exactly once across crashes, deterministically: each test leaves the database as a crash
//! would (a statement run by hand, the "started" row a run writes before it inserted by
//! hand) and checks what the rerun does. The crash-injection test is `tests/crash.rs`.

use spawn_runtime::MigrateError;
use spawn_tests::TestDb;
use sqlx::PgPool;

use crate::common::{migrator, rows_of, success_count, table_exists, Mig};

/// SHA-256 of no statements (`done_sha256` of a progress with nothing done).
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn set(index_sql: &str) -> Vec<Mig> {
    vec![
        Mig::new(
            "20250101000000-table",
            "CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2);",
        ),
        Mig::no_tx(
            "20250101000100-index",
            &format!(
                "-- spawn:no-transaction\n{index_sql};\nCREATE TABLE t2 AS SELECT n FROM t;\n"
            ),
        ),
    ]
}

/// The ATTEMPTED row a run writes before statement 1 of `m` (2 statements): started, nothing done.
async fn insert_started_row(pool: &PgPool, m: &Mig) {
    let note =
        format!(r#"{{"statements_done":0,"of":2,"done_sha256":"{EMPTY_SHA256}","started":1}}"#);
    sqlx::query(
        "WITH m AS (INSERT INTO _spawn.migration (name, namespace) VALUES ($1, 'default') \
         ON CONFLICT (name, namespace) DO UPDATE SET name = EXCLUDED.name RETURNING migration_id) \
         INSERT INTO _spawn.migration_history (migration_id_migration, activity_id_activity, created_by, \
         description, status_note, status_id_status, checksum, execution_time) \
         SELECT migration_id, 'APPLY', 'crashed', '', $2, 'ATTEMPTED', $3, '0 seconds' FROM m",
    )
    .bind(&m.name)
    .bind(note)
    .bind(m.sha256().to_vec())
    .execute(pool)
    .await
    .expect("insert the started row");
}

/// Applies the first migration, then leaves the second as a crash after its first statement
/// would: `by_hand` run, the started row recorded.
async fn crashed_after(pool: &PgPool, ms: &[Mig], by_hand: &[&str]) {
    migrator(ms)
        .up_to(&ms[0].name)
        .run(pool)
        .await
        .expect("first migration");
    for sql in by_hand {
        // Errors are part of some crashes (a failed concurrent build).
        let _ = sqlx::raw_sql(sql).execute(pool).await;
    }
    insert_started_row(pool, &ms[1]).await;
}

async fn index_state(pool: &PgPool, name: &str) -> Option<bool> {
    sqlx::query_scalar("SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass($1)")
        .bind(name)
        .fetch_optional(pool)
        .await
        .expect("index state")
}

async fn rerun_completes(pool: &PgPool, ms: &[Mig]) {
    let report = migrator(ms).run(pool).await.expect("the rerun completes");
    assert_eq!(report.applied.len(), 1);
    assert!(table_exists(pool, "t2").await);
    assert_eq!(success_count(pool, &ms[1].name).await, 1);
}

#[tokio::test]
async fn a_concurrent_index_built_but_not_recorded_is_recorded_as_done() {
    let db = TestDb::new("crash_index_valid").await;
    let ms = set("CREATE INDEX CONCURRENTLY t_n_idx ON t (n)");
    crashed_after(
        &db.pool,
        &ms,
        &["CREATE INDEX CONCURRENTLY t_n_idx ON t (n)"],
    )
    .await;
    let oid_before = index_oid(&db.pool).await;
    rerun_completes(&db.pool, &ms).await;
    assert_eq!(index_state(&db.pool, "t_n_idx").await, Some(true));
    assert_eq!(
        oid_before,
        index_oid(&db.pool).await,
        "the valid index is kept, not built again"
    );
}

async fn index_oid(pool: &PgPool) -> Option<i64> {
    sqlx::query_scalar("SELECT to_regclass('t_n_idx')::oid::int8")
        .fetch_one(pool)
        .await
        .expect("oid")
}

#[tokio::test]
async fn an_invalid_concurrent_index_is_dropped_and_built_again() {
    let db = TestDb::new("crash_index_invalid").await;
    let ms = set("CREATE UNIQUE INDEX CONCURRENTLY t_n_idx ON t (n)");
    // A build that failed half-way leaves an INVALID index (as a terminated backend does).
    crashed_after(
        &db.pool,
        &ms,
        &[
            "INSERT INTO t VALUES (1)",
            "CREATE UNIQUE INDEX CONCURRENTLY t_n_idx ON t (n)",
            "DELETE FROM t WHERE ctid = (SELECT max(ctid) FROM t WHERE n = 1)",
        ],
    )
    .await;
    assert_eq!(index_state(&db.pool, "t_n_idx").await, Some(false));
    rerun_completes(&db.pool, &ms).await;
    assert_eq!(index_state(&db.pool, "t_n_idx").await, Some(true));
}

#[tokio::test]
async fn a_started_concurrent_index_that_is_absent_is_built() {
    let db = TestDb::new("crash_index_absent").await;
    let ms = set("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"T_n\" ON public.t (n)");
    crashed_after(&db.pool, &ms, &[]).await;
    rerun_completes(&db.pool, &ms).await;
    assert_eq!(index_state(&db.pool, "public.\"T_n\"").await, Some(true));
}

#[tokio::test]
async fn a_dropped_index_that_is_absent_is_recorded_as_done() {
    let db = TestDb::new("crash_drop_index").await;
    let mut ms = set("DROP INDEX CONCURRENTLY t_n_idx");
    ms[0] = Mig::new(
        &ms[0].name,
        "CREATE TABLE t (n int); INSERT INTO t VALUES (1); CREATE INDEX t_n_idx ON t (n);",
    );
    crashed_after(&db.pool, &ms, &["DROP INDEX CONCURRENTLY t_n_idx"]).await;
    rerun_completes(&db.pool, &ms).await;
}

#[tokio::test]
async fn an_unrecognisable_started_statement_stops_with_what_to_check() {
    let db = TestDb::new("crash_manual").await;
    let ms = set("CREATE INDEX CONCURRENTLY ON t (n)");
    crashed_after(&db.pool, &ms, &["CREATE INDEX CONCURRENTLY ON t (n)"]).await;
    let err = migrator(&ms).run(&db.pool).await.expect_err("stops");
    assert!(
        matches!(err, MigrateError::OutcomeUnknown { statement: 1, .. }),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("Check by hand"), "{message}");
    assert!(
        message.contains("spawn migration resolve 20250101000100-index --statement 1"),
        "{message}"
    );
    assert!(!message.contains("Fix statement"), "{message}");
    assert!(!table_exists(&db.pool, "t2").await, "nothing was run");

    // Only the started statement can be resolved.
    let err = migrator(&ms)
        .resolve_statement(&db.pool, &ms[1].name, 2, true)
        .await
        .expect_err("statement 2 was not started");
    assert!(
        matches!(err, MigrateError::NotStarted { statement: 2, .. }),
        "{err}"
    );
    // Checked by hand: the index is there. Recorded as done, the rerun resumes after it.
    migrator(&ms)
        .resolve_statement(&db.pool, &ms[1].name, 1, true)
        .await
        .expect("resolve");
    rerun_completes(&db.pool, &ms).await;
    assert_eq!(
        indexes_on_t(&db.pool).await,
        1,
        "the statement did not run again"
    );
}

#[tokio::test]
async fn a_started_statement_resolved_as_not_run_runs_on_the_rerun() {
    let db = TestDb::new("crash_resolve_not_run").await;
    let ms = set("CREATE INDEX CONCURRENTLY ON t (n)");
    crashed_after(&db.pool, &ms, &[]).await;
    migrator(&ms).run(&db.pool).await.expect_err("stops");
    migrator(&ms)
        .resolve_statement(&db.pool, &ms[1].name, 1, false)
        .await
        .expect("resolve");
    rerun_completes(&db.pool, &ms).await;
    assert_eq!(indexes_on_t(&db.pool).await, 1, "the statement ran");
}

async fn indexes_on_t(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pg_indexes WHERE tablename = 't'")
        .fetch_one(pool)
        .await
        .expect("indexes")
}

#[tokio::test]
async fn a_transactional_statement_commits_with_its_progress_row() {
    let db = TestDb::new("crash_tx_statement").await;
    let ms = vec![Mig::no_tx(
        "20250101000000-two",
        "-- spawn:no-transaction\nCREATE TABLE a AS SELECT 1 AS x;\nSELECT 1/0;\n",
    )];
    migrator(&ms)
        .run(&db.pool)
        .await
        .expect_err("statement 2 fails");
    // The table and the progress row saying statement 1 is done: one transaction.
    let same: bool = sqlx::query_scalar(
        "SELECT (SELECT xmin FROM pg_class WHERE oid = 'a'::regclass)::text = \
         (SELECT h.xmin FROM _spawn.migration_history h WHERE h.status_id_status = 'ATTEMPTED' \
          AND h.status_note LIKE '{\"statements_done\":1,%')::text",
    )
    .fetch_one(&db.pool)
    .await
    .expect("xmin");
    assert!(same, "CREATE TABLE AS commits with its progress row");
    let rows = rows_of(&db.pool, "20250101000000-two").await;
    assert!(
        rows.iter().all(|r| !r.status_note.contains("started")),
        "no started marker for statements that commit with their row: {rows:?}"
    );
}

#[tokio::test]
async fn a_created_database_that_exists_is_recorded_as_done() {
    let db = TestDb::new("crash_create_db").await;
    let name = spawn_tests::unique_name("crash_created");
    let ms = set(&format!("CREATE DATABASE {name}"));
    crashed_after(&db.pool, &ms, &[&format!("CREATE DATABASE {name}")]).await;
    let result = migrator(&ms).run(&db.pool).await;
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&db.pool)
        .await
        .expect("drop the database the test created");
    let report = result.expect("the rerun completes");
    assert_eq!(report.applied.len(), 1);
    assert_eq!(success_count(&db.pool, &ms[1].name).await, 1);
}
