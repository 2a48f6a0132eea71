//! The start-up of every deploy: with nothing pending, a run sends ONE query message and
//! takes no lock; racing starters still apply each migration once.
//!
//! How the single message is proven: the server's own statement log. The test database gets
//! `log_statement = 'all'` (`ALTER DATABASE … SET`, so only new sessions on that database log,
//! and no other test's statements reach the log), and the lines the throwaway cluster's log
//! gains during the run are counted. PostgreSQL writes a `statement:` line for each query
//! message before it executes it, from the backend itself (the cluster logs to a file through
//! `pg_ctl -l`, without a logging collector), so the run's lines are in the file when the run
//! returns. With `DATABASE_URL` (no throwaway cluster, no log file) the test is skipped.

use std::sync::Arc;

use spawn_tests::TestDb;

use crate::common::{migrator, success_count, Mig};

fn set() -> Vec<Mig> {
    vec![
        Mig::new("20250101000000-a", "CREATE TABLE a (id int);"),
        Mig::new(
            "20250101000001-b",
            "CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);",
        ),
        Mig::new("20250101000002-c", "CREATE INDEX ON b (id);"),
    ]
}

#[tokio::test]
async fn a_no_op_start_sends_one_query_message() {
    let Some(cluster) = spawn_tests::server().cluster() else {
        eprintln!("skipped: DATABASE_URL names the server, whose log is not readable here");
        return;
    };
    let db = TestDb::new("startup_one_message").await;
    let ms = set();
    migrator(&ms).run(&db.pool).await.expect("first run");
    sqlx::raw_sql(&format!(
        "ALTER DATABASE \"{}\" SET log_statement = 'all'",
        db.name
    ))
    .execute(&db.pool)
    .await
    .expect("log the database's statements");
    let log = cluster.root().join("postgres.log");
    let before = std::fs::metadata(&log).expect("the cluster's log").len() as usize;
    let report = migrator(&ms).run(&db.pool).await.expect("no-op run");
    let text = std::fs::read(&log).expect("read the log");
    let during = String::from_utf8_lossy(&text[before..]);
    let statements: Vec<&str> = during
        .lines()
        .filter(|l| l.contains("LOG:  statement: "))
        .collect();
    assert_eq!(report.already_applied, 3);
    assert!(report.planned.is_empty() && report.applied.is_empty());
    assert_eq!(report.lock_attempts, 0, "no lock taken");
    assert_eq!(report.round_trips, 1);
    assert_eq!(
        statements.len(),
        1,
        "a no-op start sends one query message; the server logged:\n{during}"
    );
    assert!(statements[0].contains("migration_history"), "{during}");
    assert!(!during.contains("pg_try_advisory_lock"), "{during}");
}

#[tokio::test]
async fn racing_starters_apply_each_migration_once() {
    let db = TestDb::new("startup_race").await;
    let ms = set();
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let mut runs = Vec::new();
    for _ in 0..2 {
        let pool = db.new_pool(2).await;
        let m = migrator(&ms);
        let barrier = barrier.clone();
        runs.push(tokio::spawn(async move {
            barrier.wait().await;
            m.run(&pool).await
        }));
    }
    let mut applied = 0;
    for run in runs {
        applied += run.await.expect("join").expect("run").applied.len();
    }
    assert_eq!(
        applied, 3,
        "each migration applied by exactly one of the two"
    );
    for m in &ms {
        assert_eq!(success_count(&db.pool, &m.name).await, 1, "{}", m.name);
    }
    // Both starting again with nothing pending: neither applies anything.
    let (ma, mb) = (migrator(&ms), migrator(&ms));
    let (a, b) = tokio::join!(ma.run(&db.pool), mb.run(&db.pool));
    let (a, b) = (a.expect("a"), b.expect("b"));
    assert!(a.applied.is_empty() && b.applied.is_empty());
    assert_eq!((a.already_applied, b.already_applied), (3, 3));
}
