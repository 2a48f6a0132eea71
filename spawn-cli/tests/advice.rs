//! The refusals of `spawn migration apply` advise the command line's own flags
//! (`--ignore-missing`, `--allow-out-of-order`, `--lock-wait <SECONDS>`), never the
//! library's builder calls (`Migrator::…`), and the flags do what they advise.

use std::process::Output;

use spawn_tests::TestDb;
use sqlx::Connection;

mod common;
use common::{project, spawn};

fn apply(dir: &std::path::Path, url: &str, extra: &[&str]) -> Output {
    spawn()
        .current_dir(dir)
        .env("SPAWN_TEST_URL", url)
        .args(["migration", "apply", "--yes"])
        .args(extra)
        .output()
        .expect("run spawn")
}

fn apply_ok(dir: &std::path::Path, url: &str, extra: &[&str]) {
    let out = apply(dir, url, extra);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_advises(out: &Output, flag: &str) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(flag), "does not advise {flag}:\n{text}");
    assert!(
        !text.contains("Migrator::"),
        "advises a library call:\n{text}"
    );
}

#[tokio::test]
async fn a_missing_migration_advises_ignore_missing() {
    let db = TestDb::new("cli_advice_missing").await;
    let p = project("app");
    apply_ok(p.path(), &db.url, &[]);
    std::fs::remove_dir_all(
        p.path()
            .join("db/migrations/20250103000000-people-name-index"),
    )
    .expect("remove a migration");
    assert_advises(&apply(p.path(), &db.url, &[]), "run with --ignore-missing");
    apply_ok(p.path(), &db.url, &["--ignore-missing"]);
}

#[tokio::test]
async fn an_out_of_order_migration_advises_allow_out_of_order() {
    let db = TestDb::new("cli_advice_order").await;
    let p = project("app");
    apply_ok(p.path(), &db.url, &[]);
    // The second migration is forgotten: pending, and before the newest applied one.
    sqlx::raw_sql(
        "DELETE FROM _spawn.migration_history WHERE migration_id_migration = \
         (SELECT migration_id FROM _spawn.migration WHERE name = '20250102000000-seed-people'); \
         TRUNCATE people",
    )
    .execute(&db.pool)
    .await
    .expect("forget a migration");
    assert_advises(
        &apply(p.path(), &db.url, &[]),
        "run with --allow-out-of-order",
    );
    apply_ok(p.path(), &db.url, &["--allow-out-of-order"]);
}

#[tokio::test]
async fn a_busy_lock_advises_lock_wait() {
    let db = TestDb::new("cli_advice_lock").await;
    let p = project("app");
    let holder = common::hold_migration_lock(&db).await;
    let out = apply(p.path(), &db.url, &["--lock-wait", "0"]);
    assert_advises(&out, "wait longer with --lock-wait <SECONDS>");
    assert!(stderr(&out).contains("gave up after"), "{}", stderr(&out));
    holder.close().await.expect("release");
    apply_ok(p.path(), &db.url, &["--lock-wait", "30"]);
}
