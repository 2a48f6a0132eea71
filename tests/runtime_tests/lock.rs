//! The advisory lock: waiting, timing out naming the holder, the original's key, and
//! release after errors and after the run's future is dropped.

use std::time::Duration;

use spawn_runtime::{advisory_lock_key, MigrateError, ORIGINAL_LOCK_KEY};
use spawn_tests::TestDb;
use sqlx::PgConnection;

use tracing::instrument::WithSubscriber;

use crate::common::{
    applied_names, hold_lock, lock_is_free, migrator, snapshot, success_count, wait_until, Mig,
};
use crate::events::{logged, wait_for_lock_release, LogSignal, OnMessage, WAITING_FOR_THE_LOCK};

/// A session that holds `key`, as the original CLI's psql would.
async fn holder(db: &TestDb, app: &str, key: i64) -> (PgConnection, i32) {
    let options = spawn_tests::server()
        .options(&db.name)
        .application_name(app);
    let mut conn = hold_lock(options, key).await;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    (conn, pid)
}

fn one() -> Vec<Mig> {
    vec![Mig::new("20250101000000-a", "CREATE TABLE a (id int);")]
}

#[tokio::test]
async fn a_held_lock_times_out_with_an_error_naming_the_holder() {
    let db = TestDb::new("lock_timeout").await;
    let (_conn, pid) = holder(&db, "original-spawn-psql", ORIGINAL_LOCK_KEY).await;
    let before = snapshot(&db.pool).await;
    let ms = one();
    let err = migrator(&ms)
        .lock_wait(Duration::from_millis(200))
        .run(&db.pool)
        .await
        .unwrap_err();
    let MigrateError::LockWaitTimeout(timeout) = &err else {
        panic!("expected a lock timeout, got {err}")
    };
    assert_eq!(timeout.key, ORIGINAL_LOCK_KEY);
    assert_eq!(timeout.holder.as_ref().map(|h| h.pid), Some(pid));
    let text = err.to_string();
    for needle in [
        format!("held by pid {pid} (application_name 'original-spawn-psql'"),
        "connected since".to_string(),
        "tracking schema `_spawn`".to_string(),
        format!("pg_terminate_backend({pid})"),
        "Migrator::lock_wait()".to_string(),
        "Nothing was applied".to_string(),
    ] {
        assert!(text.contains(&needle), "missing {needle:?} in {text}");
    }
    assert_eq!(
        snapshot(&db.pool).await,
        before,
        "nothing created while waiting"
    );
    // Another tracking schema has its own key, so it is not blocked.
    let other = migrator(&ms)
        .tracking_schema("app_tracking")
        .lock_wait(Duration::ZERO)
        .run(&db.pool)
        .await;
    assert_eq!(other.expect("other schema").applied.len(), 1);
    assert!(lock_is_free(&db.pool, advisory_lock_key("app_tracking")).await);
}

#[tokio::test]
async fn a_migrator_waits_for_the_lock_and_then_proceeds() {
    let db = TestDb::new("lock_wait").await;
    let (mut conn, _) = holder(&db, "busy-holder", ORIGINAL_LOCK_KEY).await;
    let pool = db.new_pool(2).await;
    let (dispatch, _second, tried) = LogSignal::dispatch(WAITING_FOR_THE_LOCK);
    let task = tokio::spawn(
        async move {
            let ms = one();
            migrator(&ms)
                .created_by_app("waiter")
                .lock_wait(Duration::from_secs(60))
                .run(&pool)
                .await
        }
        .with_subscriber(dispatch),
    );
    // The waiter has tried at least once (and failed: the lock is held); it says so.
    logged(&tried, "it waits for the lock").await;
    assert_eq!(
        success_count_or_zero(&db).await,
        0,
        "nothing applied while waiting"
    );
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(ORIGINAL_LOCK_KEY)
        .execute(&mut conn)
        .await
        .unwrap();
    let report = task.await.unwrap().expect("proceeds once the lock is free");
    assert_eq!(report.applied.len(), 1);
    assert!(
        report.lock_attempts >= 2,
        "it waited: {} attempts",
        report.lock_attempts
    );
    assert!(
        report.lock_wait > Duration::ZERO && report.lock_wait <= report.total,
        "the report tells the wait: {:?} of {:?}",
        report.lock_wait,
        report.total
    );
}

async fn success_count_or_zero(db: &TestDb) -> usize {
    if crate::common::table_exists(&db.pool, "_spawn.migration_history").await {
        success_count(&db.pool, "20250101000000-a").await
    } else {
        0
    }
}

#[tokio::test]
async fn the_lock_is_released_after_errors() {
    let db = TestDb::new("lock_after_errors").await;
    let bad = vec![Mig::new(
        "20250101000000-a",
        "CREATE TABLE a (id int);\nSELECT 1/0;",
    )];
    migrator(&bad).run(&db.pool).await.unwrap_err();
    assert!(
        lock_is_free(&db.pool, ORIGINAL_LOCK_KEY).await,
        "after a failed migration"
    );
    let bad_nt = vec![Mig::no_tx("20250101000000-a", "SELECT 1/0;")];
    migrator(&bad_nt).run(&db.pool).await.unwrap_err();
    assert!(
        lock_is_free(&db.pool, ORIGINAL_LOCK_KEY).await,
        "after a failed no-transaction migration"
    );
    let good = vec![Mig::new("20250101000000-a", "CREATE TABLE a (id int);")];
    migrator(&good).run(&db.pool).await.unwrap();
    let changed = vec![good[0].with_sql("CREATE TABLE a (id bigint);")];
    migrator(&changed).run(&db.pool).await.unwrap_err();
    assert!(
        lock_is_free(&db.pool, ORIGINAL_LOCK_KEY).await,
        "after a refusal"
    );
    // A second migrator (with something to apply, so that it takes the lock) takes it at
    // its first attempt.
    let mut more = good.clone();
    more.push(Mig::new("20250101000001-b", "CREATE TABLE b (id int);"));
    let report = migrator(&more)
        .lock_wait(Duration::ZERO)
        .run(&db.pool)
        .await
        .expect("lock is free");
    assert_eq!(report.lock_attempts, 1);
}

#[tokio::test]
async fn the_lock_is_released_when_the_run_is_dropped() {
    let db = TestDb::new("lock_dropped_future").await;
    // The migration blocks on a lock that the test holds, so the run is mid-batch (holding
    // spawn's lock) when its future is dropped.
    let (_blocker, _) = holder(&db, "blocker", 4242).await;
    let blocking = vec![
        Mig::new("20250101000000-a", "CREATE TABLE a (id int);"),
        Mig::new(
            "20250101000100-b",
            "SELECT pg_advisory_xact_lock(4242);\nCREATE TABLE b (id int);",
        ),
    ];
    let pool = db.new_pool(2).await;
    let m = migrator(&blocking);
    let run = m.run(&pool);
    let blocked = wait_until(
        &db.pool,
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = 4242)",
        "the migration is blocked",
    );
    tokio::select! {
        result = run => panic!("the run cannot finish while blocked: {result:?}"),
        () = blocked => {}
    }
    // The future is dropped: its connection must not keep spawn's lock (the blocked statement
    // would otherwise keep running, and holding it, until the test let it go).
    let mut waiter = spawn_tests::server().connection(&db.name).await;
    wait_for_lock_release(&mut waiter, ORIGINAL_LOCK_KEY).await;
    let other_pool = db.new_pool(2).await;
    let unblocked = vec![
        blocking[0].clone(),
        blocking[1].with_sql("CREATE TABLE b (id int);"),
    ];
    let report = migrator(&unblocked)
        .lock_wait(Duration::ZERO)
        .run(&other_pool)
        .await
        .expect("a second migrator takes the lock at once");
    // a committed before the drop; b was rolled back with the terminated backend.
    assert_eq!(applied_names(&report), ["20250101000100-b"]);
    assert_eq!(success_count(&db.pool, "20250101000000-a").await, 1);
    assert_eq!(success_count(&db.pool, "20250101000100-b").await, 1);
}

/// A subscriber that panics when the migrator is about to send a batch: a panic inside the
/// run while it holds the lock.
fn panic_on_batch() -> OnMessage<impl Fn(&str) + Send + Sync + 'static> {
    OnMessage(|message: &str| {
        if message.contains("sending a batch of migrations") {
            panic!("injected panic while holding the migration lock");
        }
    })
}

#[tokio::test(flavor = "current_thread")]
async fn the_lock_is_released_after_a_panic() {
    let db = TestDb::new("lock_after_panic").await;
    let ms = one();
    let pool = db.new_pool(2).await;
    let task = {
        // The subscriber is this thread's, and the task runs on this thread.
        // With a single registered dispatcher, tracing computes a callsite's interest from
        // the default of whichever thread hits it first (another test's: none). A second
        // registered dispatcher makes it ask every registered one.
        let _second = tracing::Dispatch::new(panic_on_batch());
        let _guard = tracing::subscriber::set_default(panic_on_batch());
        tracing::callsite::rebuild_interest_cache();
        let task = tokio::spawn(async move {
            let ms = one();
            migrator(&ms).run(&pool).await
        });
        let result = task.await;
        drop(_guard);
        result
    };
    assert!(task.expect_err("the run panicked").is_panic());
    let mut waiter = spawn_tests::server().connection(&db.name).await;
    wait_for_lock_release(&mut waiter, ORIGINAL_LOCK_KEY).await;
    let report = migrator(&ms)
        .lock_wait(Duration::ZERO)
        .run(&db.pool)
        .await
        .expect("lock is free");
    assert_eq!(report.applied.len(), 1);
}
