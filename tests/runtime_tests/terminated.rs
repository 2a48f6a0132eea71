//! A migrator whose backend is terminated (`pg_terminate_backend`) while a migration runs
//! says so: terminated by the server (SQLSTATE 57P01), what this run committed, and to run
//! again; and running again finishes the job. The same for a no-transaction migration's
//! statement, which also sends no ROLLBACK outside a transaction.

use spawn_runtime::MigrateError;
use spawn_tests::TestDb;
use sqlx::Connection;

use crate::common::{hold_new_table, migrator, success_count, wait_until, Mig};
use crate::rollback::{assert_no_stray_rollback, logging_warnings};

#[tokio::test]
async fn a_terminated_backend_is_reported_as_such() {
    terminated_while_applying(None).await;
}

#[tokio::test]
async fn a_terminated_backend_is_reported_as_such_with_the_tracking_tables_elsewhere() {
    let tracking = TestDb::new("terminated_tracking").await;
    terminated_while_applying(Some(&tracking)).await;
}

/// Waits until the migrator's backend waits for a table lock, and terminates it.
async fn terminate_lock_waiter(db: &TestDb) {
    wait_until(
        &db.pool,
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() \
         AND application_name LIKE 'spawn-migrator%' AND wait_event_type = 'Lock')",
        "the migration waits for the table lock",
    )
    .await;
    let terminated: bool = sqlx::query_scalar(
        "SELECT bool_and(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name LIKE 'spawn-migrator%' \
         AND wait_event_type = 'Lock'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("terminate");
    assert!(terminated);
}

/// Terminates the migrator's backend while it waits for a table lock in the third
/// migration; with `tracking`, the tracking tables are in that database.
async fn terminated_while_applying(tracking: Option<&TestDb>) {
    let db = TestDb::new("terminated").await;
    let holder = hold_new_table(&db, "busy").await;
    let ms = vec![
        Mig::new("20250101000000-a", "CREATE TABLE a (id int);"),
        Mig::new("20250101000001-b", "CREATE TABLE b (id int);"),
        Mig::new("20250101000002-c", "ALTER TABLE busy ADD COLUMN x int;"),
    ];
    let pool = db.new_pool(2).await;
    let run = {
        let m = migrator(&ms).statement_lock_timeout("10min");
        let m = match tracking {
            Some(t) => m.tracking_pool(t.pool.clone()),
            None => m,
        };
        tokio::spawn(async move { m.run(&pool).await })
    };
    // The migrator's backend waits for the table lock: end it.
    terminate_lock_waiter(&db).await;
    let err = run.await.expect("join").expect_err("the run fails");
    let MigrateError::ConnectionLost(lost) = &err else {
        panic!("not a lost connection: {err:?}");
    };
    assert_eq!(lost.code.as_deref(), Some("57P01"), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("terminated by the server (SQLSTATE 57P01"),
        "{text}"
    );
    eprintln!("{text}");
    assert!(text.contains("Run again"), "{text}");
    assert!(!text.contains("expected to read"), "{text}");
    // What committed is named when the run saw it commit; either way it is recorded.
    for name in &lost.applied_before {
        assert!(text.contains(name.as_str()), "{text}");
    }
    let history = tracking.map_or(&db.pool, |t| &t.pool);
    assert_eq!(success_count(history, "20250101000000-a").await, 1);
    assert_eq!(success_count(history, "20250101000001-b").await, 1);
    assert_eq!(success_count(history, "20250101000002-c").await, 0);
    holder.close().await.expect("release the table");
    let again = match tracking {
        Some(t) => migrator(&ms).tracking_pool(t.pool.clone()),
        None => migrator(&ms),
    };
    let again = again.run(&db.pool).await.expect("run again");
    assert_eq!(again.applied.len(), 1, "{again:?}");
}

#[tokio::test]
async fn a_terminated_no_transaction_statement_is_a_lost_connection() {
    // A statement that can run in a transaction (committed with its progress row).
    terminated_in_no_transaction("ALTER TABLE busy ADD COLUMN x int;").await;
}

#[tokio::test]
async fn a_terminated_concurrent_index_build_is_a_lost_connection() {
    // One that cannot (recorded as started first, checked by the rerun).
    terminated_in_no_transaction("CREATE INDEX CONCURRENTLY busy_id_idx ON busy (id);").await;
}

/// Terminates the migrator's backend while the second statement (`second`, which waits for
/// the lock on table `busy` the test holds) of a no-transaction migration runs.
async fn terminated_in_no_transaction(second: &str) {
    let db = TestDb::new("terminated_no_tx").await;
    let holder = hold_new_table(&db, "busy").await;
    let ms = vec![
        Mig::new("20250101000000-a", "CREATE TABLE a (id int);"),
        Mig::no_tx(
            "20250101000001-b",
            &format!("-- spawn:no-transaction\nCREATE TABLE b (id int);\n{second}"),
        ),
    ];
    let terminate = terminate_lock_waiter(&db);
    let pool = db.new_pool(2).await;
    let m = migrator(&ms).statement_lock_timeout("10min");
    let run = m.run(&pool);
    let ((result, ()), log) = logging_warnings(async { tokio::join!(run, terminate) }).await;
    let err = result.expect_err("the run fails");
    assert_no_stray_rollback(&log, &err);
    let MigrateError::ConnectionLost(lost) = &err else {
        panic!("not a lost connection: {err:?}");
    };
    assert_eq!(lost.code.as_deref(), Some("57P01"), "{err}");
    assert_eq!(lost.no_transaction_statement, Some((2, 2)), "{err}");
    assert_eq!(lost.applied_before, ["20250101000000-a"], "{err}");
    let text = err.to_string();
    assert!(
        text.contains("terminated by the server (SQLSTATE 57P01"),
        "{text}"
    );
    assert!(text.contains("statement 2 of 2"), "{text}");
    assert!(text.contains("Run again"), "{text}");
    assert!(!text.contains("never half-applied"), "{text}");
    assert_eq!(success_count(&db.pool, "20250101000001-b").await, 0);
    holder.close().await.expect("release the table");
    let again = migrator(&ms).run(&db.pool).await.expect("run again");
    assert_eq!(again.applied.len(), 1, "{again:?}");
    assert_eq!(success_count(&db.pool, "20250101000001-b").await, 1);
    let invalid: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
        .fetch_one(&db.pool)
        .await
        .expect("indexes");
    assert_eq!(invalid, 0);
}
