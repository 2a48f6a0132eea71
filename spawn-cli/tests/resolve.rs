//! `spawn migration resolve <m> --statement <k> [--not-applied]` from the command line: a
//! no-transaction migration is left as a crash during its first statement leaves it (the
//! statement started, its outcome not recorded, and nothing in the catalog tells), `apply`
//! stops and names the command, `resolve` records what the check by hand found, and the next
//! `apply` completes: after the statement when it took effect, running it when it did not.
//! Resolving a migration or statement that does not exist fails and changes nothing.

use std::path::Path;

use predicates::prelude::*;
use spawn_tests::TestDb;

mod common;
use common::{project, spawn};

/// The no-transaction migration added to the fixture app: an index without a name (the
/// catalog cannot tell whether it was built) and a table made after it.
const INDEX: &str = "20250104000000-unnamed-index";
const INDEX_SQL: &str = "-- spawn:no-transaction\n\
                         CREATE INDEX CONCURRENTLY ON people (id, name);\n\
                         CREATE TABLE after_index AS SELECT 1 AS n;\n";
/// SHA-256 of no statements (`done_sha256` of a progress with nothing done).
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// `spawn <args>` in `dir` against `db`.
fn run(dir: &Path, db: &TestDb, args: &[&str]) -> assert_cmd::Command {
    let mut c = spawn();
    c.current_dir(dir).env("SPAWN_TEST_URL", &db.url).args(args);
    c
}

/// The fixture app applied, then [`INDEX`] added and left as a crash during its first
/// statement leaves it: `ran_by_hand` says whether that statement took effect. The
/// `apply` that follows stops, naming `spawn migration resolve`.
async fn crashed_during_the_index(label: &str, ran_by_hand: bool) -> (tempfile::TempDir, TestDb) {
    let db = TestDb::new(label).await;
    let p = project("app");
    run(p.path(), &db, &["migration", "apply", "--yes"])
        .assert()
        .success();
    let folder = p.path().join("db/migrations").join(INDEX);
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(folder.join("up.sql"), INDEX_SQL).expect("write up.sql");
    if ran_by_hand {
        sqlx::raw_sql("CREATE INDEX CONCURRENTLY ON people (id, name)")
            .execute(&db.pool)
            .await
            .expect("build the index by hand");
    }
    insert_started_row(&db).await;
    run(p.path(), &db, &["migration", "apply", "--yes", "--no-pin"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("Check by hand").and(predicate::str::contains(format!(
                "spawn migration resolve {INDEX} --statement 1"
            ))),
        );
    (p, db)
}

/// The ATTEMPTED row a run writes before statement 1 of [`INDEX`] (2 statements): started,
/// nothing done.
async fn insert_started_row(db: &TestDb) {
    let note =
        format!(r#"{{"statements_done":0,"of":2,"done_sha256":"{EMPTY_SHA256}","started":1}}"#);
    let (sha256, _) = spawn_runtime::Migration::checksums_of(INDEX_SQL);
    sqlx::query(
        "WITH m AS (INSERT INTO _spawn.migration (name, namespace) VALUES ($1, 'default') \
         RETURNING migration_id) \
         INSERT INTO _spawn.migration_history (migration_id_migration, activity_id_activity, created_by, \
         description, status_note, status_id_status, checksum, execution_time) \
         SELECT migration_id, 'APPLY', 'crashed', '', $2, 'ATTEMPTED', $3, '0 seconds' FROM m",
    )
    .bind(INDEX)
    .bind(note)
    .bind(sha256.to_vec())
    .execute(&db.pool)
    .await
    .expect("insert the started row");
}

/// How many indexes on people have both `id` and `name` (the one [`INDEX`] builds).
async fn unnamed_indexes(db: &TestDb) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_indexes WHERE tablename = 'people' AND indexdef LIKE '%(id, name)'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("count the indexes")
}

/// Every history row, as text: to show a refused command changed nothing.
async fn history(db: &TestDb) -> String {
    sqlx::query_scalar(
        "SELECT coalesce(string_agg(h::text, E'\\n' ORDER BY h.migration_history_id), '') \
         FROM _spawn.migration_history h",
    )
    .fetch_one(&db.pool)
    .await
    .expect("read the history")
}

async fn after_index_exists(db: &TestDb) -> bool {
    sqlx::query_scalar("SELECT to_regclass('public.after_index') IS NOT NULL")
        .fetch_one(&db.pool)
        .await
        .expect("look for after_index")
}

/// `spawn migration resolve <INDEX> --statement 1 [extra]` says `said`, and the next
/// `apply` completes the migration.
async fn resolve_then_apply(p: &Path, db: &TestDb, extra: &[&str], said: &str) {
    let mut args = vec![
        "migration",
        "resolve",
        INDEX,
        "--statement",
        "1",
        "--no-pin",
    ];
    args.extend_from_slice(extra);
    run(p, db, &args)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "recorded statement 1 of {INDEX} as {said} in"
        )));
    run(p, db, &["migration", "apply", "--yes", "--no-pin"])
        .assert()
        .success();
    assert!(after_index_exists(db).await, "the apply resumed after it");
}

#[tokio::test]
async fn a_statement_resolved_as_done_is_not_run_again() {
    let (p, db) = crashed_during_the_index("cli_resolve_done", true).await;
    resolve_then_apply(p.path(), &db, &[], "done").await;
    assert_eq!(
        unnamed_indexes(&db).await,
        1,
        "the statement did not run again"
    );
}

#[tokio::test]
async fn a_statement_resolved_as_not_applied_runs_again() {
    let (p, db) = crashed_during_the_index("cli_resolve_not_applied", false).await;
    assert_eq!(unnamed_indexes(&db).await, 0);
    resolve_then_apply(p.path(), &db, &["--not-applied"], "not run").await;
    assert_eq!(unnamed_indexes(&db).await, 1, "the statement ran");
}

#[tokio::test]
async fn resolving_what_does_not_exist_fails_and_changes_nothing() {
    let (p, db) = crashed_during_the_index("cli_resolve_bad_input", false).await;
    let before = history(&db).await;
    run(
        p.path(),
        &db,
        &[
            "migration",
            "resolve",
            "20991231000000-no-such-migration",
            "--statement",
            "1",
            "--no-pin",
        ],
    )
    .assert()
    .code(1)
    .stderr(predicate::str::contains("20991231000000-no-such-migration"));
    run(
        p.path(),
        &db,
        &[
            "migration",
            "resolve",
            INDEX,
            "--statement",
            "7",
            "--no-pin",
        ],
    )
    .assert()
    .code(1)
    .stderr(
        predicate::str::contains(format!(
            "statement 7 of migration `{INDEX}` is not recorded as started"
        ))
        .and(predicate::str::contains(
            "the statement recorded as started is statement 1",
        )),
    );
    assert_eq!(history(&db).await, before, "nothing was recorded");
    assert_eq!(unnamed_indexes(&db).await, 0);
    assert!(!after_index_exists(&db).await);
}
