//! Progress events and the stop handle: events of a batch in order and as the commits
//! happen, stopping after k migrations, a no-transaction migration under a stop handle, and a
//! stop while waiting for the lock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use spawn_runtime::{MigrationEvent, StopHandle, ORIGINAL_LOCK_KEY};
use spawn_tests::TestDb;
use tracing::instrument::WithSubscriber;

use crate::common::{
    applied_names, hold_lock, lock_is_free, migrator, snapshot, success_count, table_exists, Mig,
};
use crate::events::{logged, LogSignal, WAITING_FOR_THE_LOCK};

/// A generous bound that turns a hang into a failure (never a timing assertion).
const HANG: Duration = Duration::from_secs(120);

fn five() -> Vec<Mig> {
    (0..5)
        .map(|i| {
            Mig::new(
                &format!("2025010100000{i}-m{i}"),
                &format!("CREATE TABLE p{i} (id int);"),
            )
        })
        .collect()
}

/// (kind, name, index, total) of each event.
fn summary(events: &[MigrationEvent]) -> Vec<(&'static str, String, usize, usize)> {
    events
        .iter()
        .map(|e| match e {
            MigrationEvent::Started { name, index, total } => {
                ("started", name.clone(), *index, *total)
            }
            MigrationEvent::Committed {
                name, index, total, ..
            } => ("committed", name.clone(), *index, *total),
            other => panic!("unexpected event {other:?}"),
        })
        .collect()
}

fn expected(ms: &[Mig]) -> Vec<(&'static str, String, usize, usize)> {
    let n = ms.len();
    ms.iter()
        .enumerate()
        .flat_map(|(i, m)| {
            [
                ("started", m.name.clone(), i, n),
                ("committed", m.name.clone(), i, n),
            ]
        })
        .collect()
}

#[tokio::test]
async fn a_batch_reports_each_migration_in_order_without_extra_round_trips() {
    let db = TestDb::new("progress_batch").await;
    let mut ms = five();
    // Bodies that return rows, with column names like the markers', change nothing.
    ms[1] = Mig::new(
        &ms[1].name,
        "CREATE TABLE p1 (id int); SELECT 1 AS spawn_committed, 2 AS spawn_applied;",
    );
    ms[2] = Mig::new(
        &ms[2].name,
        "CREATE TABLE p2 (id int); SELECT 'x' AS spawn_applied, 0.5::float8 AS secs;",
    );
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let report = migrator(&ms)
        .on_progress(move |e| sink.lock().expect("events").push(e.clone()))
        .run(&db.pool)
        .await
        .expect("run");
    assert_eq!(report.applied.len(), 5);
    let events = events.lock().expect("events").clone();
    assert_eq!(summary(&events), expected(&ms));
    for (e, a) in events
        .iter()
        .filter(|e| matches!(e, MigrationEvent::Committed { .. }))
        .zip(&report.applied)
    {
        let MigrationEvent::Committed { duration, name, .. } = e else {
            unreachable!()
        };
        assert_eq!(
            (name, duration),
            (&a.name, &a.duration),
            "events carry the recorded durations"
        );
    }
    // Same cost as without an observer: lock, history, bootstrap row... one batch, unlock.
    let db2 = TestDb::new("progress_batch_plain").await;
    let plain = migrator(&ms)
        .run(&db2.pool)
        .await
        .expect("run without observer");
    assert_eq!(report.round_trips, plain.round_trips);
}

#[tokio::test]
async fn commits_inside_a_batch_are_seen_as_they_happen() {
    let db = TestDb::new("progress_live").await;
    sqlx::raw_sql("CREATE TABLE gate (id int)")
        .execute(&db.pool)
        .await
        .expect("gate");
    let ms = vec![
        Mig::new("20250101000000-first", "CREATE TABLE live_a (id int);"),
        // Blocks on the test's lock on `gate` until the test lets it go.
        Mig::new(
            "20250101000001-gated",
            "LOCK TABLE gate IN ACCESS EXCLUSIVE MODE; CREATE TABLE live_b (id int);",
        ),
        Mig::new("20250101000002-last", "CREATE TABLE live_c (id int);"),
    ];
    let mut gate = spawn_tests::server().connection(&db.name).await;
    sqlx::raw_sql("BEGIN; LOCK TABLE gate IN ACCESS SHARE MODE")
        .execute(&mut gate)
        .await
        .expect("hold the gate");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let pool = db.pool.clone();
    let run = tokio::spawn(async move {
        let ms = ms;
        migrator(&ms)
            .on_progress(move |e| drop(tx.send(e.clone())))
            .run(&pool)
            .await
    });
    // The first migration's commit arrives while the same message is still blocked in the second.
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|e| matches!(e, MigrationEvent::Committed { index: 0, .. }))
    {
        let e = tokio::time::timeout(HANG, rx.recv())
            .await
            .expect("no event: the commit was not flushed")
            .expect("event");
        seen.push(e);
    }
    assert_eq!(
        success_count(&db.pool, "20250101000000-first").await,
        1,
        "committed and visible"
    );
    assert!(table_exists(&db.pool, "live_a").await);
    assert!(!table_exists(&db.pool, "live_b").await);
    sqlx::raw_sql("COMMIT")
        .execute(&mut gate)
        .await
        .expect("open the gate");
    let report = run.await.expect("join").expect("run");
    assert_eq!(report.applied.len(), 3);
    assert_eq!(
        report.round_trips, 7,
        "history (no tables yet), lock, probe and create the tables, history, ONE batch, unlock"
    );
}

#[tokio::test]
async fn a_stop_after_k_migrations_leaves_exactly_k_applied() {
    let db = TestDb::new("progress_stop_k").await;
    let ms = five();
    let stop = StopHandle::new();
    let trigger = stop.clone();
    let report = migrator(&ms)
        .stop_handle(stop)
        .on_progress(move |e| {
            if let MigrationEvent::Committed { index: 1, .. } = e {
                trigger.stop();
            }
        })
        .run(&db.pool)
        .await
        .expect("a stopped run is not an error");
    assert!(report.stopped);
    let applied: Vec<&str> = report.applied.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(applied, [ms[0].name.as_str(), ms[1].name.as_str()]);
    assert_eq!(report.planned.len(), 5);
    assert_eq!(
        report.not_applied(),
        ms[2..].iter().map(|m| m.name.as_str()).collect::<Vec<_>>()
    );
    let text = report.to_string();
    assert!(
        text.contains("stopped on request after applying 2 of 5") && text.contains(&ms[4].name),
        "{text}"
    );
    for (i, m) in ms.iter().enumerate() {
        assert_eq!(
            table_exists(&db.pool, &format!("p{i}")).await,
            i < 2,
            "{}",
            m.name
        );
        assert_eq!(
            success_count(&db.pool, &m.name).await,
            usize::from(i < 2),
            "{}",
            m.name
        );
    }
    let states: Vec<_> = migrator(&ms)
        .status(&db.pool)
        .await
        .expect("status")
        .into_iter()
        .map(|s| s.state)
        .collect();
    use spawn_runtime::State::{Applied, Pending};
    assert_eq!(states, [Applied, Applied, Pending, Pending, Pending]);
    assert!(lock_is_free(&db.pool, ORIGINAL_LOCK_KEY).await);
    // The rest applies on the next run.
    let rest = migrator(&ms).run(&db.pool).await.expect("rest");
    assert_eq!(rest.applied.len(), 3);
    assert!(!rest.stopped);
}

#[tokio::test]
async fn a_stop_before_the_run_applies_nothing_but_plans() {
    let db = TestDb::new("progress_stop_first").await;
    let ms = five();
    let stop = StopHandle::new();
    stop.stop();
    let report = migrator(&ms)
        .stop_handle(stop)
        .run(&db.pool)
        .await
        .expect("run");
    assert!(report.stopped && report.applied.is_empty());
    assert_eq!(report.planned.len(), 5);
    assert!(!table_exists(&db.pool, "p0").await);
    // Only the (idempotent) tracking tables were created; no migration row.
    assert_eq!(success_count(&db.pool, &ms[0].name).await, 0);
}

#[tokio::test]
async fn a_no_transaction_migration_runs_to_its_end_before_a_stop() {
    let db = TestDb::new("progress_stop_notx").await;
    let ms = vec![
        Mig::new("20250101000000-a", "CREATE TABLE nt_a (id int);"),
        Mig::no_tx(
            "20250101000001-concurrently",
            "CREATE TABLE nt_b (id int);\nCREATE INDEX CONCURRENTLY nt_b_id ON nt_b (id);\nCREATE INDEX CONCURRENTLY nt_b_id2 ON nt_b (id);",
        ),
        Mig::new("20250101000002-c", "CREATE TABLE nt_c (id int);"),
    ];
    let stop = StopHandle::new();
    let trigger = stop.clone();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let report = migrator(&ms)
        .stop_handle(stop)
        .on_progress(move |e| {
            // Asked while the no-transaction migration starts: it still runs to its end.
            if let MigrationEvent::Started { index: 1, .. } = e {
                trigger.stop();
            }
            sink.lock().expect("events").push(e.clone());
        })
        .run(&db.pool)
        .await
        .expect("run");
    assert!(report.stopped);
    assert_eq!(
        applied_names(&report),
        [ms[0].name.as_str(), ms[1].name.as_str()]
    );
    assert!(
        table_exists(&db.pool, "nt_b_id2").await,
        "every statement of the no-transaction migration ran"
    );
    assert!(!table_exists(&db.pool, "nt_c").await);
    let rows = crate::common::rows_of(&db.pool, &ms[1].name).await;
    assert_eq!(
        rows.last().map(|r| r.status.as_str()),
        Some("SUCCESS"),
        "{rows:#?}"
    );
    assert_eq!(
        summary(&events.lock().expect("events")),
        expected(&ms[..2])
            .into_iter()
            .map(|(k, n, i, _)| (k, n, i, 3))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_stop_ends_the_wait_for_the_lock() {
    let db = TestDb::new("progress_stop_lock").await;
    let _holder = hold_lock(spawn_tests::server().options(&db.name), ORIGINAL_LOCK_KEY).await;
    let before = snapshot(&db.pool).await;
    let stop = StopHandle::new();
    let pool = db.pool.clone();
    let handle = stop.clone();
    let (dispatch, _second, tried) = LogSignal::dispatch(WAITING_FOR_THE_LOCK);
    let task = tokio::spawn(
        async move {
            let ms = five();
            migrator(&ms)
                .created_by_app("stopped-waiter")
                .stop_handle(handle)
                .lock_wait(HANG)
                .run(&pool)
                .await
        }
        .with_subscriber(dispatch),
    );
    // The migrator has tried the lock (and found it held); it says so.
    logged(&tried, "it waits for the lock").await;
    stop.stop();
    let report = tokio::time::timeout(HANG, task)
        .await
        .expect("the stop ended the wait")
        .expect("join")
        .expect("run");
    assert!(
        report.stopped && report.applied.is_empty() && report.planned.is_empty(),
        "{report:?}"
    );
    assert_eq!(snapshot(&db.pool).await, before, "nothing changed");
}
