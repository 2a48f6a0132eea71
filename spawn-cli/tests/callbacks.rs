//! `spawn migration apply` with SQL callbacks (`db/callbacks/*.sql`): rendered through
//! spawn-build like migrations (variables, `migration` in before/after each), run around the
//! run by the runtime's migrator; a callback with a syntax error fails the run naming the
//! callback file and line and leaves the database as it was; a callback that fails the
//! build's checks or an unknown file in callbacks/ is refused before anything runs.

use std::path::Path;

use predicates::prelude::*;
use spawn_tests::TestDb;

mod common;
use common::{project, spawn};

/// `spawn <args>` in `dir` against `db`.
fn run(dir: &Path, db: &TestDb, args: &[&str]) -> assert_cmd::Command {
    let mut c = spawn();
    c.current_dir(dir).env("SPAWN_TEST_URL", &db.url).args(args);
    c
}

/// Writes `db/callbacks/<name>` of the project in `dir`.
fn write_callback(dir: &Path, name: &str, sql: &str) {
    let path = dir.join("db/callbacks").join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, sql).expect("write");
}

/// Everything the database holds that a run could change: public tables, and the history.
async fn state(db: &TestDb) -> (Vec<String>, Vec<String>) {
    let tables = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .expect("tables");
    let history = sqlx::query_scalar(
        "SELECT m.name || ' ' || h.activity_id_activity || ' ' || h.status_id_status \
         FROM _spawn.migration_history h JOIN _spawn.migration m \
         ON m.migration_id = h.migration_id_migration ORDER BY h.migration_history_id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("history");
    (tables, history)
}

#[tokio::test]
async fn apply_runs_the_callbacks_rendered_for_the_target() {
    let db = TestDb::new("cli_callbacks").await;
    let p = project("app");
    let dir = p.path();
    write_callback(
        dir,
        "before_migrate.sql",
        "CREATE TABLE IF NOT EXISTS cb_log (n serial, event text);\n\
         INSERT INTO cb_log (event) VALUES ({{ 'before_migrate ' ~ env }});\n",
    );
    write_callback(
        dir,
        "after_each.sql",
        "INSERT INTO cb_log (event) VALUES ({{ 'after ' ~ migration }});\n",
    );
    write_callback(
        dir,
        "after_migrate.sql",
        "INSERT INTO cb_log (event) VALUES ({{ variables.first_person }});\n",
    );
    run(dir, &db, &["migration", "apply", "--yes", "--no-pin"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied 3 migration(s)"));
    let log = || async {
        sqlx::query_scalar::<_, String>("SELECT event FROM cb_log ORDER BY n")
            .fetch_all(&db.pool)
            .await
            .expect("cb_log")
    };
    assert_eq!(
        log().await,
        [
            "before_migrate dev",
            "after 20250101000000-create-people",
            "after 20250102000000-seed-people",
            "after 20250103000000-people-name-index",
            "Ada O'Hara",
        ]
    );
    // Nothing pending: no callback runs.
    run(dir, &db, &["migration", "apply", "--yes", "--no-pin"])
        .assert()
        .success();
    assert_eq!(log().await.len(), 5);
}

#[tokio::test]
async fn a_callback_with_a_syntax_error_fails_the_run_naming_its_line_and_changes_nothing() {
    let db = TestDb::new("cli_callbacks_syntax").await;
    let p = project("app");
    let dir = p.path();
    run(
        dir,
        &db,
        &[
            "migration",
            "apply",
            "20250101000000-create-people",
            "--yes",
            "--no-pin",
        ],
    )
    .assert()
    .success();
    let before = state(&db).await;
    write_callback(
        dir,
        "before_each.sql",
        "-- runs before each migration\nSELECT 1;\nSELEC {{ migration }};\n",
    );
    let callback = dir.join("db/callbacks/before_each.sql");
    run(dir, &db, &["migration", "apply", "--yes", "--no-pin"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(
                "migration `20250102000000-seed-people` failed in callback \
                 `callbacks/before_each.sql` at statement 2 of 2 (line 3 of \
                 callbacks/before_each.sql): SELEC '20250102000000-seed-people'",
            )
            .and(predicate::str::contains(
                "syntax error at or near \"SELEC\"",
            ))
            .and(predicate::str::contains(format!(
                "Its file: {}.",
                callback.display()
            ))),
        );
    assert_eq!(state(&db).await, before, "no migration, no history row");
    let people: i64 = sqlx::query_scalar("SELECT count(*) FROM people")
        .fetch_one(&db.pool)
        .await
        .expect("people");
    assert_eq!(people, 0, "the seed migration was not applied");
}

#[tokio::test]
async fn a_before_migrate_failing_at_run_time_applies_nothing() {
    let db = TestDb::new("cli_callbacks_before_migrate").await;
    let p = project("app");
    let dir = p.path();
    run(
        dir,
        &db,
        &[
            "migration",
            "apply",
            "20250101000000-create-people",
            "--yes",
            "--no-pin",
        ],
    )
    .assert()
    .success();
    let before = state(&db).await;
    write_callback(
        dir,
        "before_migrate.sql",
        "CREATE TABLE cb (id int);\nINSERT INTO cb VALUES (1 / 0);\n",
    );
    run(dir, &db, &["migration", "apply", "--yes", "--no-pin"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(
                "callback `callbacks/before_migrate.sql` failed at statement 2 of 2 (line 2 of \
                 callbacks/before_migrate.sql): INSERT INTO cb VALUES (1 / 0)\n  ERROR 22012: \
                 division by zero",
            )
            .and(predicate::str::contains(
                "No migration of this run was applied.",
            )),
        );
    assert_eq!(state(&db).await, before);
}

#[tokio::test]
async fn callbacks_failing_the_build_checks_are_refused_before_anything_runs() {
    let db = TestDb::new("cli_callbacks_refused").await;
    let p = project("app");
    let dir = p.path();
    write_callback(dir, "after_migrate.sql", "ANALYZE;\n\\c other\nCOMMIT;\n");
    write_callback(dir, "afterMigrate.sql", "SELECT 1;\n");
    let unknown = dir.join("db/callbacks/afterMigrate.sql");
    run(dir, &db, &["migration", "apply", "--yes", "--no-pin"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "{} is not a callback spawn runs: callbacks/ holds before_migrate.sql, \
                 after_migrate.sql, before_each.sql and after_each.sql only; rename or remove it",
            unknown.display()
        )));
    std::fs::remove_file(&unknown).expect("rm");
    let callback = dir.join("db/callbacks/after_migrate.sql");
    run(dir, &db, &["migration", "apply", "--yes", "--no-pin"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(format!(
                "callback {} (environment dev): the rendered SQL has 2 problems:\n  line 2, \
                 column 1: psql meta-command `\\c` is not SQL",
                callback.display()
            ))
            .and(predicate::str::contains("\n  line 3, column 1: ")),
        );
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname IN ('public', '_spawn')",
    )
    .fetch_one(&db.pool)
    .await
    .expect("tables");
    assert_eq!(tables, 0, "nothing ran");
}

/// `spawn check` renders and checks the callbacks for every environment, as build.rs does.
#[test]
fn check_reports_a_broken_callback() {
    let p = project("app");
    let dir = p.path();
    write_callback(dir, "before_each.sql", "SELECT {{ migration }};\n\\gexec\n");
    let callback = dir.join("db/callbacks/before_each.sql");
    spawn()
        .current_dir(dir)
        .env("SPAWN_TEST_URL", "postgres://nobody@127.0.0.1:1/none")
        .args(["check"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "callback {} (environment dev): the rendered SQL has 1 problem:\n  line 2, column 1: \
             psql meta-command `\\gexec` is not SQL",
            callback.display()
        )));
}

/// `spawn test` migrates its template with the callbacks too, and rebuilds it when a
/// callback changes.
#[tokio::test(flavor = "multi_thread")]
async fn spawn_test_runs_the_callbacks_and_rebuilds_its_template_when_they_change() {
    let db = TestDb::new("cli_callbacks_sqltest").await;
    let p = project("app");
    let dir = p.path();
    write_callback(
        dir,
        "after_migrate.sql",
        "CREATE TABLE cb_marker AS SELECT {{ 'first ' ~ env }}::text AS marker;\n",
    );
    let test = dir.join("db/tests/marker/test.sql");
    std::fs::create_dir_all(test.parent().expect("parent")).expect("mkdir");
    std::fs::write(&test, "SELECT marker FROM cb_marker;\n").expect("write");
    run(dir, &db, &["test", "expect", "marker"])
        .assert()
        .success();
    let expected = std::fs::read_to_string(dir.join("db/tests/marker/expected")).expect("expected");
    assert!(expected.contains("first dev"), "{expected}");
    run(dir, &db, &["test", "compare"]).assert().success();
    write_callback(
        dir,
        "after_migrate.sql",
        "CREATE TABLE cb_marker AS SELECT {{ 'second ' ~ env }}::text AS marker;\n",
    );
    run(dir, &db, &["test", "compare"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("+ second dev"));
}
