//! `spawn migration apply` tells how long it waited for the migration lock held by another
//! migrator (in its JSON report: `lock_wait_seconds`; in its text when over 100 ms).

use spawn_tests::TestDb;
use sqlx::Connection;

mod common;
use common::spawn_process;

#[tokio::test]
async fn apply_reports_its_wait_for_the_lock() {
    let db = TestDb::new("cli_lock_wait").await;
    let p = common::project("app");
    let holder = common::hold_migration_lock(&db).await;
    let child = spawn_process()
        .current_dir(p.path())
        .env("SPAWN_TEST_URL", &db.url)
        .args(["--json", "migration", "apply", "--yes"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start spawn");
    // Bounded poll until spawn's migrator has tried the lock (and found it held).
    let mut seen = false;
    for _ in 0..3000 {
        seen = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name = 'spawn-migrator (spawn)' \
             AND query LIKE '%pg_try_advisory_lock%' AND state = 'idle')",
        )
        .fetch_one(&db.pool)
        .await
        .expect("poll");
        if seen {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(seen, "spawn never tried the lock");
    holder.close().await.expect("release the lock");
    let out = child.wait_with_output().expect("spawn ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let waited = report["lock_wait_seconds"]
        .as_f64()
        .expect("lock_wait_seconds");
    assert!(waited > 0.0, "{report}");
    assert_eq!(
        report["applied"].as_array().map(Vec::len),
        Some(3),
        "{report}"
    );
}
