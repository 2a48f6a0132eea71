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
    // Spawn says on stderr that it is waiting for the lock (held by `holder`): an event, not
    // a poll. Read up to that line, release the lock, then read the rest.
    let mut child = child;
    let mut stderr_lines = std::io::BufRead::lines(std::io::BufReader::new(
        child.stderr.take().expect("stderr"),
    ));
    let mut before = Vec::new();
    for line in stderr_lines.by_ref() {
        let line = line.expect("spawn's stderr");
        let waiting = line.contains("waiting for spawn's migration lock");
        before.push(line);
        if waiting {
            break;
        }
    }
    assert!(
        before
            .iter()
            .any(|l| l.contains("waiting for spawn's migration lock")),
        "spawn never said it waits for the lock:\n{}",
        before.join("\n")
    );
    holder.close().await.expect("release the lock");
    let rest: Vec<String> = stderr_lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("spawn ends");
    let stderr = format!("{}\n{}", before.join("\n"), rest.join("\n"));
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
