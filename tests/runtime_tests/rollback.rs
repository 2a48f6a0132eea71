//! A failed run never sends a ROLLBACK outside a transaction (PostgreSQL answers that with
//! `WARNING: there is no transaction in progress`, which sqlx logs): for every kind of
//! failure. The warnings are captured with a subscriber of this test's thread (the tests
//! run on a current-thread runtime, so the migrator logs there).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use spawn_runtime::{MigrateError, ORIGINAL_LOCK_KEY};
use spawn_tests::TestDb;
use sqlx::Connection;
use tracing_subscriber::fmt::MakeWriter;

use crate::common::{hold_lock, hold_new_table, migrator, Mig};

/// What the subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("capture")).into_owned()
    }
}

/// Awaits `run`, capturing what is logged at WARN and above meanwhile (on this thread).
pub(crate) async fn logging_warnings<T>(run: impl std::future::Future<Output = T>) -> (T, String) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let out = run.await;
    drop(guard);
    (out, captured.text())
}

/// Asserts that `log` has no warning of a ROLLBACK sent outside a transaction.
pub(crate) fn assert_no_stray_rollback(log: &str, err: &MigrateError) {
    assert!(
        !log.contains("no transaction in progress"),
        "a ROLLBACK outside a transaction after: {err}\n{log}"
    );
}

/// Runs `ms` on `db` (with `tune` applied to the migrator) expecting an error, capturing
/// what is logged at WARN and above; asserts no stray-ROLLBACK warning.
async fn fails_without_a_stray_rollback(
    db: &TestDb,
    ms: &[Mig],
    tune: impl FnOnce(spawn_runtime::Migrator) -> spawn_runtime::Migrator,
) -> MigrateError {
    let (result, log) = logging_warnings(tune(migrator(ms)).run(&db.pool)).await;
    let err = result.expect_err("the run fails");
    assert_no_stray_rollback(&log, &err);
    err
}

/// The run failed in migration `c`, the third.
fn assert_c_failed(err: &MigrateError) {
    assert!(
        err.failure().is_some_and(|f| f.name == "20250101000002-c"),
        "{err}"
    );
}

fn three(third: &str) -> Vec<Mig> {
    vec![
        Mig::new("20250101000000-a", "CREATE TABLE a (id int);"),
        Mig::new("20250101000001-b", "CREATE TABLE b (id int);"),
        Mig::new("20250101000002-c", third),
    ]
}

#[tokio::test]
async fn a_parse_error_in_a_batch() {
    let db = TestDb::new("rollback_parse").await;
    let err = fails_without_a_stray_rollback(&db, &three("CREATE TABLE c (id int"), |m| m).await;
    assert_c_failed(&err);
}

#[tokio::test]
async fn a_runtime_error_mid_batch() {
    let db = TestDb::new("rollback_runtime").await;
    let err = fails_without_a_stray_rollback(&db, &three("SELECT 1/0;"), |m| m).await;
    assert_c_failed(&err);
}

#[tokio::test]
async fn a_failure_at_commit() {
    let db = TestDb::new("rollback_commit").await;
    let err = fails_without_a_stray_rollback(
        &db,
        &three(
            "CREATE TABLE p (id int PRIMARY KEY);\n\
             CREATE TABLE c (p int REFERENCES p DEFERRABLE INITIALLY DEFERRED);\n\
             INSERT INTO c VALUES (1);",
        ),
        |m| m,
    )
    .await;
    assert_c_failed(&err);
}

#[tokio::test]
async fn a_lock_timeout_in_a_migration() {
    let db = TestDb::new("rollback_lock_timeout").await;
    let holder = hold_new_table(&db, "busy").await;
    let ms = three("ALTER TABLE busy ADD COLUMN x int;");
    let err = fails_without_a_stray_rollback(&db, &ms, |m| m.statement_lock_timeout("200ms")).await;
    assert!(err.to_string().contains("55P03"), "{err}");
    holder.close().await.expect("release");
}

#[tokio::test]
async fn a_statement_timeout_in_a_migration() {
    let db = TestDb::new("rollback_statement_timeout").await;
    let ms = three("SELECT pg_catalog.pg_sleep(30);");
    let err = fails_without_a_stray_rollback(&db, &ms, |m| m.statement_timeout("200ms")).await;
    assert!(err.to_string().contains("57014"), "{err}");
}

#[tokio::test]
async fn a_lock_wait_timeout() {
    let db = TestDb::new("rollback_lock_wait").await;
    let _holder = hold_lock(spawn_tests::server().options(&db.name), ORIGINAL_LOCK_KEY).await;
    let err =
        fails_without_a_stray_rollback(&db, &three("SELECT 1;"), |m| m.lock_wait(Duration::ZERO))
            .await;
    assert!(matches!(err, MigrateError::LockWaitTimeout(_)), "{err}");
}
