//! `spawn migration rollback [--to <m> | --steps N] [--yes] [--dry-run]` on the fixture app
//! given a `down.sql` per migration (templates rendered from the same pin as `up.sql`,
//! variables and all): newest first, pending again afterwards, and up → down → up leaves the
//! same schema (the schema diff finds no differences). The refusals: no terminal and no
//! `--yes`, a rollback past a migration without `down.sql`, a `down.sql` failing half-way;
//! each names the file and leaves the database unchanged.

use std::path::Path;

use predicates::prelude::*;
use spawn_tests::TestDb;

mod common;
use common::{project, spawn};

const PEOPLE: &str = "20250101000000-create-people";
const SEED: &str = "20250102000000-seed-people";
const INDEX: &str = "20250103000000-people-name-index";

/// `spawn <args>` in `dir` against `db`.
fn run(dir: &Path, db: &TestDb, args: &[&str]) -> assert_cmd::Command {
    let mut c = spawn();
    c.current_dir(dir).env("SPAWN_TEST_URL", &db.url).args(args);
    c
}

fn write_down(dir: &Path, migration: &str, sql: &str) {
    std::fs::write(dir.join(format!("db/migrations/{migration}/down.sql")), sql)
        .expect("write down.sql");
}

/// The fixture app with a `down.sql` for every migration.
fn with_downs() -> tempfile::TempDir {
    let p = project("app");
    with_downs_in(p.path());
    p
}

/// Writes a `down.sql` for every migration of the fixture app copied to `dir`.
fn with_downs_in(dir: &Path) {
    write_down(
        dir,
        PEOPLE,
        "DROP FUNCTION greet(text);\nDROP TABLE people;\n",
    );
    write_down(
        dir,
        SEED,
        "COMMENT ON TABLE people IS NULL;\n{% if env == \"dev\" %}\n\
         DELETE FROM people WHERE name = {{ variables.first_person }};\n{% endif %}\n",
    );
    write_down(dir, INDEX, "DROP INDEX people_name_idx;\n");
}

/// The schema and the tracking tables' rows: what a refused command must leave alone.
async fn state(db: &TestDb) -> (String, Vec<String>) {
    let schema = spawn_schema::inspect(&db.pool, &spawn_schema::Options::default())
        .await
        .expect("inspect");
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT h::text FROM _spawn.migration_history h ORDER BY 1")
            .fetch_all(&db.pool)
            .await
            .expect("history");
    let people: Vec<String> = sqlx::query_scalar("SELECT p::text FROM people p ORDER BY 1")
        .fetch_all(&db.pool)
        .await
        .unwrap_or_default();
    let empty = spawn_schema::Schema::default();
    let mut rows = rows;
    rows.extend(people);
    (
        empty
            .plan(&schema, &spawn_schema::Options::default())
            .to_sql(),
        rows,
    )
}

fn statuses(dir: &Path, db: &TestDb) -> Vec<String> {
    let out = run(dir, db, &["migration", "status", "--json"])
        .output()
        .expect("status");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| m["status"].as_str().expect("status").to_owned())
        .collect()
}

#[tokio::test]
async fn rollback_newest_first_then_apply_again_leaves_the_same_schema() {
    let db = TestDb::new("cli_rollback").await;
    let p = with_downs();
    let dir = p.path();
    run(dir, &db, &["migration", "apply", "--yes"])
        .assert()
        .success();
    let up = spawn_schema::inspect(&db.pool, &spawn_schema::Options::default())
        .await
        .expect("inspect");
    let applied = state(&db).await;

    // No terminal, no --yes: refused, nothing rolled back.
    run(dir, &db, &["migration", "rollback"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "refusing to roll back migrations without confirmation: stdin is not a terminal. \
             Pass --yes to confirm",
        ));
    // A dry run lists, newest first, and changes nothing.
    run(
        dir,
        &db,
        &["migration", "rollback", "--steps", "2", "--dry-run"],
    )
    .assert()
    .success()
    .stdout(
        predicate::str::contains("dry run: would roll back 2 migration(s)").and(
            predicate::str::contains(format!("newest first:\n  {INDEX}\n  {SEED}\n")),
        ),
    );
    assert_eq!(state(&db).await, applied);
    run(
        dir,
        &db,
        &["migration", "rollback", "--to", "nope", "--yes"],
    )
    .assert()
    .code(1)
    .stderr(predicate::str::contains("no migration folder"));

    // The newest by default.
    run(dir, &db, &["migration", "rollback", "--yes"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("rolled back 1 migration(s)")
                .and(predicate::str::contains(
                    "(2 stay applied); they are pending again",
                ))
                .and(predicate::str::contains(INDEX)),
        );
    assert_eq!(statuses(dir, &db), ["Applied", "Applied", "Pending"]);
    let out = run(dir, &db, &["migration", "status", "--json"])
        .output()
        .expect("status");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let database = v["migrations"][2]["database"].as_str().expect("database");
    assert!(database.starts_with("rolled back "), "{database}");
    // Down to a migration, which stays applied; the down.sql rendered with the variables.
    run(
        dir,
        &db,
        &["migration", "rollback", "--to", PEOPLE, "--yes"],
    )
    .assert()
    .success()
    .stdout(predicate::str::contains(SEED));
    assert_eq!(statuses(dir, &db), ["Applied", "Pending", "Pending"]);
    let people: i64 = sqlx::query_scalar("SELECT count(*) FROM people")
        .fetch_one(&db.pool)
        .await
        .expect("people");
    assert_eq!(people, 0, "the seed's down.sql deleted its row");
    run(
        dir,
        &db,
        &["migration", "rollback", "--to", PEOPLE, "--yes"],
    )
    .assert()
    .success()
    .stdout(predicate::str::contains("nothing to roll back"));

    // Pending again: they apply normally, and the schema is what it was.
    run(dir, &db, &["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied 2 migration(s)"));
    let again = spawn_schema::inspect(&db.pool, &spawn_schema::Options::default())
        .await
        .expect("inspect");
    let diff = up.plan(&again, &spawn_schema::Options::default());
    assert!(
        diff.is_empty(),
        "up → down → up differs:\n{}",
        diff.to_sql()
    );
    assert_eq!(statuses(dir, &db), ["Applied", "Applied", "Applied"]);

    // `spawn diff` against a database that was only migrated up: no differences (exit 0,
    // no SQL).
    let fresh = TestDb::new("cli_rollback_fresh").await;
    run(dir, &fresh, &["migration", "apply", "--yes"])
        .assert()
        .success();
    let elsewhere = tempfile::tempdir().expect("tempdir");
    spawn()
        .current_dir(elsewhere.path())
        .args(["diff", &fresh.url, &db.url])
        .assert()
        .code(0)
        .stdout("");
}

#[tokio::test]
async fn a_rollback_past_a_migration_without_down_sql_names_it_and_changes_nothing() {
    let db = TestDb::new("cli_rollback_no_down").await;
    let p = with_downs();
    let dir = p.path();
    std::fs::remove_file(dir.join(format!("db/migrations/{SEED}/down.sql"))).expect("rm");
    run(dir, &db, &["migration", "apply", "--yes"])
        .assert()
        .success();
    let before = state(&db).await;
    run(
        dir,
        &db,
        &["migration", "rollback", "--steps", "3", "--yes"],
    )
    .assert()
    .code(1)
    .stderr(
        predicate::str::contains(format!(
            "migration `{SEED}` has no down.sql, so the rollback cannot undo it. Nothing \
                 was rolled back. Add migrations/{SEED}/down.sql (rendered from the same pin as \
                 its up.sql), or roll back fewer migrations: to `{SEED}` at most"
        ))
        .and(predicate::str::contains(format!(
            "Its file: {}",
            dir.join(format!("db/migrations/{SEED}/down.sql")).display()
        ))),
    );
    assert_eq!(
        state(&db).await,
        before,
        "not even the newest was rolled back"
    );
}

#[tokio::test]
async fn a_down_sql_failing_half_way_leaves_nothing_of_it() {
    let db = TestDb::new("cli_rollback_fails").await;
    let p = with_downs();
    let dir = p.path();
    write_down(
        dir,
        INDEX,
        "DROP INDEX people_name_idx;\nALTER TABLE people RENAME TO persons;\nDROP TABLE nope;\n",
    );
    run(dir, &db, &["migration", "apply", "--yes"])
        .assert()
        .success();
    let before = state(&db).await;
    run(dir, &db, &["migration", "rollback", "--yes"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(format!(
                "the down.sql of migration `{INDEX}` failed at statement 3 of 3 (line 3 of the \
                 rendered down.sql): DROP TABLE nope\n  ERROR 42P01: table \"nope\" does not \
                 exist\nNothing of it remains (its transaction was rolled back) and `{INDEX}` \
                 stays applied. Fix its down.sql and roll back again."
            ))
            .and(predicate::str::contains(format!(
                "Its file: {}",
                dir.join(format!("db/migrations/{INDEX}/down.sql"))
                    .display()
            ))),
        );
    assert_eq!(state(&db).await, before, "the database is unchanged");
    assert_eq!(statuses(dir, &db), ["Applied", "Applied", "Applied"]);
}

#[test]
fn check_renders_every_down_sql_and_can_require_one() {
    let p = project("app");
    let dir = p.path();
    let check = || {
        let mut c = spawn();
        c.current_dir(dir).args(["check"]);
        c
    };
    check().assert().success();
    let toml = dir.join("spawn.toml");
    let text = std::fs::read_to_string(&toml).expect("spawn.toml");
    std::fs::write(&toml, format!("require_down = true\n{text}")).expect("write");
    check()
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "3 migrations have no down.sql, and spawn.toml requires one for every migration \
         (require_down = true): {PEOPLE}, {SEED}, {INDEX}. Add migrations/<name>/down.sql (what \
         `spawn migration rollback` runs to undo it)"
        )));
    with_downs_in(dir);
    check().assert().success();

    // A down.sql is rendered and checked like an up.sql, naming its file.
    write_down(
        dir,
        SEED,
        "DELETE FROM people;\n{% include \"nope.sql\" %}\n",
    );
    check()
        .assert()
        .code(1)
        .stderr(predicate::str::contains("down.sql").and(predicate::str::contains("nope.sql")));
    write_down(dir, SEED, "-- spawn:no-transaction\nDELETE FROM people;\n");
    check()
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "migration {SEED}: {} is marked `-- spawn:no-transaction`, but a rollback runs a \
         down.sql in one transaction with its REVERT history row; remove the directive",
            dir.join(format!("db/migrations/{SEED}/down.sql")).display()
        )));
}
