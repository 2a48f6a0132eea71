//! Tracking tables in another database (`Migrator::tracking_pool`, the original's
//! `spawn_database`): apply, status and adopt; both locks; failures; recovery of a run
//! interrupted between the target's COMMIT and its SUCCESS row; the refusals.

use spawn_runtime::{MigrateError, State, ORIGINAL_LOCK_KEY};
use spawn_tests::TestDb;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, PgPool};

use crate::common::{
    applied_names, hold_lock, lock_is_free, migrator, rows_of, snapshot, table_exists, Mig,
};

fn three() -> Vec<Mig> {
    vec![
        Mig::new(
            "20250101000000-orders",
            "CREATE TABLE orders (id int PRIMARY KEY);",
        ),
        Mig::new("20250101000001-seed", "INSERT INTO orders VALUES (1), (2);"),
        Mig::new(
            "20250101000002-index",
            "CREATE INDEX orders_id ON orders (id);",
        ),
    ]
}

/// Target and tracking databases of one test.
async fn pair(label: &str) -> (TestDb, TestDb) {
    (
        TestDb::new(&format!("{label}_target")).await,
        TestDb::new(&format!("{label}_tracking")).await,
    )
}

async fn states(ms: &[Mig], target: &TestDb, tracking: &TestDb) -> Vec<State> {
    migrator(ms)
        .tracking_pool(tracking.pool.clone())
        .status(&target.pool)
        .await
        .expect("status")
        .iter()
        .map(|s| s.state)
        .collect()
}

/// An ATTEMPTED row as a split run writes it before committing in the target.
async fn attempted_row(tracking: &PgPool, m: &Mig, xid: &str, database: &str) {
    let note = format!(r#"{{"target_xid":"{xid}","target_database":"{database}"}}"#);
    sqlx::query(
        "WITH m AS (INSERT INTO _spawn.migration (name, namespace) VALUES ($1, 'default') \
         ON CONFLICT (name, namespace) DO UPDATE SET name = EXCLUDED.name RETURNING migration_id) \
         INSERT INTO _spawn.migration_history (migration_id_migration, activity_id_activity, created_by, description, \
         status_note, status_id_status, checksum, pin_hash, execution_time) \
         SELECT migration_id, 'APPLY', 'test', '', $2, 'ATTEMPTED', $3, NULL, '0.25 seconds' FROM m",
    )
    .bind(&m.name)
    .bind(note)
    .bind(m.sha256().to_vec())
    .execute(tracking)
    .await
    .expect("ATTEMPTED row");
}

/// Runs `m`'s SQL in an open transaction of the target; returns the connection and the xid.
async fn open_transaction(target: &TestDb, m: &Mig) -> (PgConnection, String) {
    let mut conn = spawn_tests::server().connection(&target.name).await;
    sqlx::raw_sql("BEGIN")
        .execute(&mut conn)
        .await
        .expect("begin");
    sqlx::raw_sql(&m.sql)
        .execute(&mut conn)
        .await
        .expect("the migration's SQL");
    let xid: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text")
        .fetch_one(&mut conn)
        .await
        .expect("xid");
    (conn, xid)
}

#[tokio::test]
async fn split_apply_status_and_adopt() {
    let (target, tracking) = pair("split_apply").await;
    let ms = three();
    let m = || migrator(&ms).tracking_pool(tracking.pool.clone());
    assert_eq!(states(&ms, &target, &tracking).await, [State::Pending; 3]);
    let dry = m().dry_run(true).run(&target.pool).await.expect("dry run");
    assert_eq!(dry.planned.len(), 3);
    assert!(
        !table_exists(&tracking.pool, "_spawn.migration").await,
        "a dry run creates nothing"
    );

    let report = m().up_to(&ms[1].name).run(&target.pool).await.expect("run");
    assert_eq!(report.applied.len(), 2);
    let ids: Vec<i32> = sqlx::query_scalar("SELECT id FROM orders ORDER BY id")
        .fetch_all(&target.pool)
        .await
        .unwrap();
    assert_eq!(ids, [1, 2]);
    // The tracking tables are in the tracking database only.
    assert!(table_exists(&tracking.pool, "_spawn.migration_history").await);
    let in_target: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname = '_spawn'")
            .fetch_one(&target.pool)
            .await
            .unwrap();
    assert_eq!(in_target, 0, "no tracking schema in the target");
    assert!(!table_exists(&tracking.pool, "orders").await);
    // Each migration: ATTEMPTED (with the target's transaction), then SUCCESS.
    let rows = rows_of(&tracking.pool, &ms[0].name).await;
    let statuses: Vec<&str> = rows.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["ATTEMPTED", "SUCCESS"]);
    assert!(
        rows[0]
            .status_note
            .contains(&format!("\"target_database\":\"{}\"", target.name)),
        "{}",
        rows[0].status_note
    );
    assert_eq!(rows[1].checksum, ms[0].sha256().to_vec());
    assert_eq!(
        states(&ms, &target, &tracking).await,
        [State::Applied, State::Applied, State::Pending]
    );

    // Adopt the third with a description: recorded in the tracking database, not run.
    let adopted = m()
        .adopt_with_description(&target.pool, &ms[2].name, "index made by hand")
        .await
        .expect("adopt");
    assert_eq!(adopted.adopted, [ms[2].name.clone()]);
    assert!(!table_exists(&target.pool, "orders_id").await);
    let row = rows_of(&tracking.pool, &ms[2].name)
        .await
        .pop()
        .expect("adopt row");
    assert_eq!(
        (row.activity.as_str(), row.description.as_str()),
        ("ADOPT", "index made by hand")
    );
    assert_eq!(
        states(&ms, &target, &tracking).await,
        [State::Applied, State::Applied, State::Adopted]
    );

    // A rerun is a no-op: both locks, history, both unlocks.
    let again = m().run(&target.pool).await.expect("rerun");
    assert!(again.is_noop() && again.already_applied == 3);
    assert_eq!(again.round_trips, 5);
    assert!(
        lock_is_free(&target.pool, ORIGINAL_LOCK_KEY).await
            && lock_is_free(&tracking.pool, ORIGINAL_LOCK_KEY).await
    );
}

#[tokio::test]
async fn split_failures_record_failure_and_leave_the_target_unchanged() {
    let (target, tracking) = pair("split_fail").await;
    let ms = vec![
        Mig::new("20250101000000-ok", "CREATE TABLE ok (id int);"),
        Mig::new(
            "20250101000001-broken",
            "CREATE TABLE half (id int);\nINSERT INTO missing VALUES (1);",
        ),
    ];
    let err = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .unwrap_err();
    let failure = err.failure().expect("a migration failure");
    assert_eq!(failure.name, ms[1].name);
    assert_eq!(failure.statement.as_ref().map(|s| s.index), Some(2));
    assert_eq!(failure.applied_before, [ms[0].name.clone()]);
    let text = err.to_string();
    assert!(
        text.contains("relation \"missing\" does not exist")
            && text.contains("Nothing of `20250101000001-broken`"),
        "{text}"
    );
    assert!(table_exists(&target.pool, "ok").await);
    assert!(!table_exists(&target.pool, "half").await, "rolled back");
    assert_eq!(
        rows_of(&tracking.pool, &ms[1].name)
            .await
            .last()
            .map(|r| r.status.clone()),
        Some("FAILURE".into())
    );

    // Failing at COMMIT (a deferred constraint): the attempt is followed by FAILURE.
    let deferred = vec![
        ms[0].clone(),
        Mig::new(
            "20250101000001-broken",
            "CREATE TABLE p (id int PRIMARY KEY);\n\
             CREATE TABLE c (p int REFERENCES p DEFERRABLE INITIALLY DEFERRED);\n\
             INSERT INTO c VALUES (42);",
        ),
    ];
    let before = snapshot(&target.pool).await;
    let err = migrator(&deferred)
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("failed at COMMIT"), "{err}");
    assert_eq!(
        snapshot(&target.pool).await,
        before,
        "the target is unchanged"
    );
    let statuses: Vec<String> = rows_of(&tracking.pool, &ms[1].name)
        .await
        .into_iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, ["FAILURE", "ATTEMPTED", "FAILURE"]);
    assert_eq!(
        states(&deferred, &target, &tracking).await,
        [State::Applied, State::Failed]
    );
}

#[tokio::test]
async fn an_interruption_after_the_target_commit_is_recovered() {
    let (target, tracking) = pair("split_recover").await;
    let ms = three();
    migrator(&ms[..1])
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .expect("first migration");
    // The second migration: attempt recorded, target committed, then the run "died".
    let (mut conn, xid) = open_transaction(&target, &ms[1]).await;
    attempted_row(&tracking.pool, &ms[1], &xid, &target.name).await;
    sqlx::raw_sql("COMMIT")
        .execute(&mut conn)
        .await
        .expect("commit");

    // Status already knows it is applied; nothing is written by status.
    let before = snapshot(&tracking.pool).await;
    let status = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .status(&target.pool)
        .await
        .expect("status");
    assert_eq!(
        status.iter().map(|s| s.state).collect::<Vec<_>>(),
        [State::Applied, State::Applied, State::Pending]
    );
    assert!(
        status[1]
            .note
            .as_deref()
            .is_some_and(|n| n.contains("committed")),
        "{:?}",
        status[1].note
    );
    assert_eq!(snapshot(&tracking.pool).await, before);

    // The next run records it without running it again (the INSERT would duplicate rows), then goes on.
    let report = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .expect("run");
    assert_eq!(report.recovered, [ms[1].name.clone()]);
    assert_eq!(applied_names(&report), [ms[2].name.as_str()]);
    assert!(
        report
            .to_string()
            .contains("recorded 1 migration(s) found committed"),
        "{report}"
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&target.pool)
        .await
        .unwrap();
    assert_eq!(n, 2, "the recovered migration did not run twice");
    let rows = rows_of(&tracking.pool, &ms[1].name).await;
    assert_eq!(
        rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ["ATTEMPTED", "SUCCESS"]
    );
    assert!(
        rows[1].status_note.starts_with("recovered:") && rows[1].status_note.contains(&xid),
        "{}",
        rows[1].status_note
    );
    assert_eq!(rows[1].execution_secs, 0.25, "the attempt's execution time");
    assert_eq!(states(&ms, &target, &tracking).await, [State::Applied; 3]);
}

#[tokio::test]
async fn an_interrupted_attempt_that_rolled_back_is_applied_again() {
    let (target, tracking) = pair("split_rolled_back").await;
    let ms = three();
    migrator(&ms[..1])
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .expect("first migration");
    let (mut conn, xid) = open_transaction(&target, &ms[1]).await;
    attempted_row(&tracking.pool, &ms[1], &xid, &target.name).await;
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut conn)
        .await
        .expect("rollback");
    assert_eq!(
        states(&ms, &target, &tracking).await,
        [State::Applied, State::Failed, State::Pending]
    );

    let report = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .expect("run");
    assert!(report.recovered.is_empty());
    assert_eq!(report.applied.len(), 2);
    let statuses: Vec<String> = rows_of(&tracking.pool, &ms[1].name)
        .await
        .into_iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, ["ATTEMPTED", "FAILURE", "ATTEMPTED", "SUCCESS"]);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&target.pool)
        .await
        .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn an_attempt_still_in_progress_is_refused() {
    let (target, tracking) = pair("split_in_progress").await;
    let ms = three();
    migrator(&ms[..1])
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .expect("first migration");
    let (mut conn, xid) = open_transaction(&target, &ms[1]).await;
    attempted_row(&tracking.pool, &ms[1], &xid, &target.name).await;
    let (t_before, k_before) = (snapshot(&target.pool).await, snapshot(&tracking.pool).await);

    // Status shows it pending (not known yet), a run refuses and changes nothing.
    let status = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .status(&target.pool)
        .await
        .expect("status");
    assert_eq!(status[1].state, State::Pending);
    assert!(
        status[1]
            .note
            .as_deref()
            .is_some_and(|n| n.contains("in progress")),
        "{:?}",
        status[1].note
    );
    let err = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .unwrap_err();
    assert!(
        matches!(err, MigrateError::AttemptInProgress { .. }),
        "{err}"
    );
    let text = err.to_string();
    for needle in [
        ms[1].name.as_str(),
        xid.as_str(),
        target.name.as_str(),
        "still in progress",
        "Nothing was applied",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {text}");
    }
    assert_eq!(
        (snapshot(&target.pool).await, snapshot(&tracking.pool).await),
        (t_before, k_before)
    );
    // Once it commits, the next run records it.
    sqlx::raw_sql("COMMIT")
        .execute(&mut conn)
        .await
        .expect("commit");
    let report = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .expect("run");
    assert_eq!(report.recovered, [ms[1].name.clone()]);
}

#[tokio::test]
async fn an_attempt_made_in_another_database_is_refused() {
    let (target, tracking) = pair("split_elsewhere").await;
    let ms = three();
    migrator(&ms[..1])
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .expect("first migration");
    attempted_row(&tracking.pool, &ms[1], "1234", "some_other_db").await;
    let (t_before, k_before) = (snapshot(&target.pool).await, snapshot(&tracking.pool).await);
    let err = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .unwrap_err();
    assert!(
        matches!(err, MigrateError::AttemptElsewhere { .. }),
        "{err}"
    );
    let text = err.to_string();
    for needle in [
        "some_other_db",
        target.name.as_str(),
        ms[1].name.as_str(),
        "Nothing was applied",
        "delete that ATTEMPTED row",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {text}");
    }
    assert_eq!(
        (snapshot(&target.pool).await, snapshot(&tracking.pool).await),
        (t_before, k_before)
    );
    // Status still works and leaves it as it is recorded.
    assert_eq!(states(&ms, &target, &tracking).await[0], State::Applied);
}

#[tokio::test]
async fn a_tracking_database_that_does_not_exist_is_an_error_and_changes_nothing() {
    let target = TestDb::new("split_no_tracking_db").await;
    let before = snapshot(&target.pool).await;
    let missing = PgPoolOptions::new()
        .connect_lazy_with(spawn_tests::server().options("spawn_no_such_database"));
    let ms = three();
    let err = migrator(&ms)
        .tracking_pool(missing)
        .run(&target.pool)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("tracking database `spawn_no_such_database`")
            && text.contains("does not exist"),
        "{text}"
    );
    assert_eq!(snapshot(&target.pool).await, before);
    assert!(
        lock_is_free(&target.pool, ORIGINAL_LOCK_KEY).await,
        "the target's lock was released"
    );
    assert!(!table_exists(&target.pool, "_spawn.migration").await);
}

#[tokio::test]
async fn both_databases_are_locked_during_a_split_run() {
    let (target, tracking) = pair("split_locks").await;
    let ms = three();
    // The original spawn (psql on the target) holds the lock: the split run waits on the target.
    let mut holder = hold_lock(
        spawn_tests::server().options(&target.name),
        ORIGINAL_LOCK_KEY,
    )
    .await;
    let err = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .lock_wait(std::time::Duration::ZERO)
        .run(&target.pool)
        .await
        .unwrap_err();
    assert!(matches!(err, MigrateError::LockWaitTimeout(_)), "{err}");
    assert!(
        !table_exists(&tracking.pool, "_spawn.migration").await,
        "nothing written while waiting"
    );
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(ORIGINAL_LOCK_KEY)
        .execute(&mut holder)
        .await
        .expect("unlock");
    // Another migrator of the same tracking tables holds the tracking database's lock.
    let mut other = hold_lock(
        spawn_tests::server().options(&tracking.name),
        ORIGINAL_LOCK_KEY,
    )
    .await;
    let err = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .lock_wait(std::time::Duration::ZERO)
        .run(&target.pool)
        .await
        .unwrap_err();
    assert!(matches!(err, MigrateError::LockWaitTimeout(_)), "{err}");
    assert!(
        lock_is_free(&target.pool, ORIGINAL_LOCK_KEY).await,
        "the target's lock was released"
    );
    assert!(!table_exists(&target.pool, "orders").await);
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(ORIGINAL_LOCK_KEY)
        .execute(&mut other)
        .await
        .expect("unlock");
    let report = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .expect("run");
    assert_eq!(report.applied.len(), 3);
}

/// Fails the INSERT of history rows of `name` with status `status` in the tracking database
/// (a stand-in for a crash at that point of the run).
async fn fail_rows(tracking: &PgPool, status: &str) {
    sqlx::raw_sql(&format!(
        "CREATE FUNCTION public.refuse_row() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN \
         IF NEW.status_id_status = '{status}' THEN RAISE EXCEPTION 'simulated failure writing a {status} row'; END IF; \
         RETURN NEW; END$$; \
         CREATE TRIGGER refuse_row BEFORE INSERT ON _spawn.migration_history FOR EACH ROW EXECUTE FUNCTION public.refuse_row();"
    ))
    .execute(tracking)
    .await
    .expect("trigger");
}

async fn stop_failing(tracking: &PgPool) {
    sqlx::raw_sql(
        "DROP TRIGGER refuse_row ON _spawn.migration_history; DROP FUNCTION public.refuse_row()",
    )
    .execute(tracking)
    .await
    .expect("drop trigger");
}

#[tokio::test]
async fn a_failure_after_the_target_commit_is_recovered_by_the_next_run() {
    let (target, tracking) = pair("split_success_fails").await;
    let ms = three();
    migrator(&ms[..1])
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .expect("first migration");
    fail_rows(&tracking.pool, "SUCCESS").await;
    let err = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .unwrap_err();
    let text = err.to_string();
    for needle in [
        "migration `20250101000001-seed` committed in database",
        "recording its success in schema `_spawn` failed",
        "the next run records it",
        "simulated failure writing a SUCCESS row",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {text}");
    }
    // It did commit in the target; the history has only its attempt; the third did not start.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&target.pool)
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        rows_of(&tracking.pool, &ms[1].name)
            .await
            .iter()
            .map(|r| r.status.as_str())
            .collect::<Vec<_>>(),
        ["ATTEMPTED"]
    );
    assert!(!table_exists(&target.pool, "orders_id").await);
    assert_eq!(
        states(&ms, &target, &tracking).await,
        [State::Applied, State::Applied, State::Pending]
    );

    stop_failing(&tracking.pool).await;
    let report = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .expect("next run");
    assert_eq!(report.recovered, [ms[1].name.clone()]);
    assert_eq!(applied_names(&report), [ms[2].name.as_str()]);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&target.pool)
        .await
        .unwrap();
    assert_eq!(n, 2, "not applied twice");
}

#[tokio::test]
async fn a_failure_recording_the_attempt_rolls_the_migration_back() {
    let (target, tracking) = pair("split_attempt_fails").await;
    let ms = three();
    migrator(&ms[..1])
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .expect("first migration");
    fail_rows(&tracking.pool, "ATTEMPTED").await;
    let (t_before, k_before) = (snapshot(&target.pool).await, snapshot(&tracking.pool).await);
    let err = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .unwrap_err();
    let text = err.to_string();
    for needle in [
        "recording the attempt of migration `20250101000001-seed`",
        "the migration was rolled back, nothing of it was applied",
        "simulated failure writing a ATTEMPTED row",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {text}");
    }
    assert_eq!(
        (snapshot(&target.pool).await, snapshot(&tracking.pool).await),
        (t_before, k_before)
    );
    stop_failing(&tracking.pool).await;
    let report = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .run(&target.pool)
        .await
        .expect("next run");
    assert_eq!(report.applied.len(), 2);
}

#[tokio::test]
async fn a_split_run_stops_at_a_migration_boundary() {
    let (target, tracking) = pair("split_stop").await;
    let ms = three();
    let stop = spawn_runtime::StopHandle::new();
    let trigger = stop.clone();
    let report = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .stop_handle(stop)
        .on_progress(move |e| {
            if let spawn_runtime::MigrationEvent::Committed { index: 0, .. } = e {
                trigger.stop();
            }
        })
        .run(&target.pool)
        .await
        .expect("run");
    assert!(report.stopped);
    assert_eq!(report.applied.len(), 1);
    assert_eq!(
        states(&ms, &target, &tracking).await,
        [State::Applied, State::Pending, State::Pending]
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&target.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}
