//! Rolling back with `down.sql` ([`Migrator::rollback_to`], [`Migrator::rollback_steps`]):
//! up → down → up leaves the same schema (the schema diff finds no differences) and the same
//! data; a rollback stops before anything runs at a migration without `down.sql`; a
//! `down.sql` failing half-way leaves nothing of it; every refusal leaves the database as it
//! was.

use spawn_runtime::{MigrateError, Migrator, State, ORIGINAL_LOCK_KEY};
use spawn_schema::{Options, Schema};
use spawn_tests::TestDb;
use sqlx::PgPool;

use crate::common::{migrator, rows_of, snapshot, Mig};

/// A fixture with tables, data, a function, a view and an index, each migration undoable.
fn orchard() -> Vec<Mig> {
    vec![
        Mig::new(
            "20250101000000-trees",
            "CREATE TABLE tree (id int PRIMARY KEY, name text NOT NULL);\n\
             INSERT INTO tree VALUES (1, 'apple'), (2, 'pear');",
        )
        .pinned("pin-of-trees")
        .down("DROP TABLE tree;"),
        Mig::new(
            "20250101000100-harvest",
            "CREATE TABLE harvest (tree_id int REFERENCES tree, kg numeric NOT NULL);\n\
             INSERT INTO harvest VALUES (1, 12.5), (2, 3);\n\
             CREATE FUNCTION total_kg(t int) RETURNS numeric LANGUAGE sql STABLE \
             AS $$ SELECT coalesce(sum(kg), 0) FROM harvest WHERE tree_id = t $$;\n\
             CREATE VIEW yield AS SELECT t.name, total_kg(t.id) AS kg FROM tree t;",
        )
        .down("DROP VIEW yield;\nDROP FUNCTION total_kg(int);\nDROP TABLE harvest;"),
        Mig::new(
            "20250101000200-rename",
            "ALTER TABLE tree ADD COLUMN planted date;\n\
             UPDATE tree SET name = upper(name);\n\
             CREATE INDEX tree_name ON tree (name);",
        )
        .down(
            "DROP INDEX tree_name;\nUPDATE tree SET name = lower(name);\n\
             ALTER TABLE tree DROP COLUMN planted;",
        ),
    ]
}

async fn schema(pool: &PgPool) -> Schema {
    spawn_schema::inspect(pool, &Options::default())
        .await
        .expect("inspect the schema")
}

/// Asserts that the schema diff finds no differences between `a` and `b`.
fn assert_same(a: &Schema, b: &Schema, what: &str) {
    let plan = a.plan(b, &Options::default());
    assert!(
        plan.is_empty(),
        "{what}: the diff finds differences:\n{}",
        plan.to_sql()
    );
}

/// The user data, as text.
async fn data(pool: &PgPool) -> Vec<String> {
    let mut out: Vec<String> = sqlx::query_scalar("SELECT t::text FROM tree t ORDER BY 1")
        .fetch_all(pool)
        .await
        .expect("trees");
    out.extend(
        sqlx::query_scalar::<_, String>("SELECT y::text FROM yield y ORDER BY 1")
            .fetch_all(pool)
            .await
            .expect("the view"),
    );
    out
}

async fn states(m: &Migrator, pool: &PgPool) -> Vec<(String, State)> {
    m.status(pool)
        .await
        .expect("status")
        .into_iter()
        .map(|s| (s.name, s.state))
        .collect()
}

#[tokio::test]
async fn up_down_up_leaves_the_same_schema_and_data() {
    let db = TestDb::new("revert_up_down_up").await;
    let ms = orchard();
    let m = migrator(&ms);
    let empty = schema(&db.pool).await;
    m.run(&db.pool).await.expect("up");
    let up = schema(&db.pool).await;
    let up_data = data(&db.pool).await;
    assert_eq!(
        up_data,
        ["(1,APPLE,)", "(2,PEAR,)", "(APPLE,12.5)", "(PEAR,3)"]
    );

    let report = m.rollback_steps(&db.pool, 3).await.expect("down");
    let names: Vec<&str> = report.reverted.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "20250101000200-rename",
            "20250101000100-harvest",
            "20250101000000-trees"
        ],
        "newest first"
    );
    assert!(report.rollback && report.already_applied == 0);
    assert_eq!(
        report.to_string(),
        "rolled back 3 migration(s) (0 stay applied):\n  20250101000200-rename\n  \
         20250101000100-harvest\n  20250101000000-trees"
    );
    // The tracking tables stay: compare the user schemas only.
    let user = Options::default().exclude_schemas(["_spawn"]);
    let down = spawn_schema::inspect(&db.pool, &user)
        .await
        .expect("inspect");
    let empty_user = empty.plan(&down, &user);
    assert!(
        empty_user.is_empty(),
        "down leaves the schema as before the first up:\n{}",
        empty_user.to_sql()
    );
    for (name, state) in states(&m, &db.pool).await {
        assert_eq!(state, State::Pending, "{name} is pending again");
    }
    // One REVERT row each, with the down.sql's checksum and the migration's pin.
    let trees = rows_of(&db.pool, "20250101000000-trees").await;
    let revert = trees.last().expect("rows");
    assert_eq!(
        (revert.activity.as_str(), revert.status.as_str()),
        ("REVERT", "SUCCESS")
    );
    assert_eq!(
        revert.checksum,
        spawn_runtime::Migration::checksums_of("DROP TABLE tree;").0
    );
    assert_eq!(revert.pin_hash.as_deref(), Some("pin-of-trees"));
    assert!(
        revert.created_by.ends_with(" (runtime-tests)"),
        "{}",
        revert.created_by
    );

    // After a rollback the migrations are pending and apply normally.
    let again = m.run(&db.pool).await.expect("up again");
    assert_eq!(again.applied.len(), 3);
    assert_same(&up, &schema(&db.pool).await, "up → down → up");
    assert_eq!(data(&db.pool).await, up_data);
    for (name, state) in states(&m, &db.pool).await {
        assert_eq!(state, State::Applied, "{name} is applied again");
    }
}

#[tokio::test]
async fn rollback_to_keeps_the_migration_named_and_a_dry_run_changes_nothing() {
    let db = TestDb::new("revert_to").await;
    let ms = orchard();
    let m = migrator(&ms);
    m.run(&db.pool).await.expect("up");
    let before = snapshot(&db.pool).await;
    let plan = m
        .clone()
        .dry_run(true)
        .rollback_to(&db.pool, "20250101000000-trees")
        .await
        .expect("dry run");
    assert_eq!(
        plan.planned,
        ["20250101000200-rename", "20250101000100-harvest"]
    );
    assert!(plan.reverted.is_empty());
    assert_eq!(
        plan.to_string(),
        "dry run: would roll back 2 migration(s) (1 stay applied):\n  20250101000200-rename\n  \
         20250101000100-harvest"
    );
    assert_eq!(
        snapshot(&db.pool).await,
        before,
        "a dry run changes nothing"
    );

    let report = m
        .rollback_to(&db.pool, "20250101000000-trees")
        .await
        .expect("rollback");
    assert_eq!(report.reverted.len(), 2);
    assert_eq!(
        states(&m, &db.pool).await,
        [
            ("20250101000000-trees".to_string(), State::Applied),
            ("20250101000100-harvest".to_string(), State::Pending),
            ("20250101000200-rename".to_string(), State::Pending),
        ]
    );
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM tree ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .expect("trees");
    assert_eq!(names, ["apple", "pear"], "the data change was undone too");

    // Nothing more to undo after the one named: a no-op that changes nothing.
    let before = snapshot(&db.pool).await;
    let report = m
        .rollback_to(&db.pool, "20250101000000-trees")
        .await
        .expect("nothing to do");
    assert!(report.reverted.is_empty() && report.is_noop());
    assert_eq!(
        report.to_string(),
        "nothing to roll back (1 applied migration(s) stay applied)"
    );
    assert_eq!(snapshot(&db.pool).await, before);

    let err = m
        .rollback_to(&db.pool, "20250101000000-tree")
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "no migration named `20250101000000-tree` in this migration set (asked for by \
             Migrator::rollback_to())"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_rollback_past_a_migration_without_down_sql_stops_before_anything_runs() {
    let db = TestDb::new("revert_no_down").await;
    let mut ms = orchard();
    ms[1].down = None;
    let m = migrator(&ms);
    m.run(&db.pool).await.expect("up");
    let before = snapshot(&db.pool).await;
    let err = m.rollback_steps(&db.pool, 3).await.unwrap_err();
    assert!(
        matches!(&err, MigrateError::NoDown { name } if name == "20250101000100-harvest"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "migration `20250101000100-harvest` has no down.sql, so the rollback cannot undo it. \
         Nothing was rolled back. Add migrations/20250101000100-harvest/down.sql (rendered from \
         the same pin as its up.sql), or roll back fewer migrations: to \
         `20250101000100-harvest` at most"
    );
    assert_eq!(
        snapshot(&db.pool).await,
        before,
        "not even the newest migration, which has a down.sql, was rolled back"
    );
    // Up to it is fine.
    let report = m
        .rollback_to(&db.pool, "20250101000100-harvest")
        .await
        .expect("rollback of the newest");
    assert_eq!(report.reverted.len(), 1);
}

#[tokio::test]
async fn a_down_sql_failing_half_way_leaves_nothing_of_it() {
    let db = TestDb::new("revert_fails").await;
    let mut ms = orchard();
    ms[1].down = Some(
        "DROP VIEW yield;\nDROP FUNCTION total_kg(int);\nDROP TABLE no_such_table;\nDROP TABLE harvest;"
            .to_string(),
    );
    let m = migrator(&ms);
    m.run(&db.pool).await.expect("up");
    let before = snapshot(&db.pool).await;

    // The newest rolls back; the next one's down.sql fails at its third statement.
    let err = m.rollback_steps(&db.pool, 3).await.unwrap_err();
    let MigrateError::DownFailed(failure) = &err else {
        panic!("a down.sql failure, got {err:?}");
    };
    assert_eq!(failure.name, "20250101000100-harvest");
    assert_eq!(failure.reverted_before, ["20250101000200-rename"]);
    assert_eq!(
        err.to_string(),
        "the down.sql of migration `20250101000100-harvest` failed at statement 3 of 4 (line 3 \
         of the rendered down.sql): DROP TABLE no_such_table\n  ERROR 42P01: table \
         \"no_such_table\" does not exist\nNothing of it remains (its transaction was rolled \
         back) and `20250101000100-harvest` stays applied. Fix its down.sql and roll back \
         again.\n1 migration(s) rolled back before it stay rolled back: \
         `20250101000200-rename`."
    );
    // The view and the function it dropped before failing are still there.
    assert_eq!(
        data(&db.pool).await,
        ["(1,apple)", "(2,pear)", "(apple,12.5)", "(pear,3)"]
    );
    assert_eq!(
        states(&m, &db.pool).await,
        [
            ("20250101000000-trees".to_string(), State::Applied),
            ("20250101000100-harvest".to_string(), State::Applied),
            ("20250101000200-rename".to_string(), State::Pending),
        ]
    );
    // Nothing was recorded for the failed down.sql.
    assert_eq!(rows_of(&db.pool, "20250101000100-harvest").await.len(), 1);

    // Its own failure changes nothing at all: roll back the newest alone first.
    m.run(&db.pool).await.expect("re-apply the newest");
    let again = snapshot(&db.pool).await;
    assert_eq!(
        again.len(),
        before.len() + 2,
        "a REVERT and an APPLY row more"
    );
    m.rollback_steps(&db.pool, 1).await.expect("the newest");
    let before = snapshot(&db.pool).await;
    let err = m.rollback_steps(&db.pool, 1).await.unwrap_err();
    assert!(matches!(err, MigrateError::DownFailed(_)), "{err:?}");
    assert_eq!(
        snapshot(&db.pool).await,
        before,
        "the database is unchanged"
    );
}

#[tokio::test]
async fn changed_or_missing_migrations_are_not_rolled_back() {
    let db = TestDb::new("revert_refusals").await;
    let ms = orchard();
    migrator(&ms).run(&db.pool).await.expect("up");
    let before = snapshot(&db.pool).await;

    let mut changed = ms.clone();
    changed[2] = changed[2].with_sql("CREATE INDEX tree_name ON tree (name);");
    let err = migrator(&changed)
        .rollback_steps(&db.pool, 1)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "migration `20250101000200-rename` was applied with other SQL than it renders to now, \
         so the rollback cannot undo it. Nothing was rolled back. Restore \
         `20250101000200-rename` exactly as it was applied (its down.sql undoes that), or roll \
         back fewer migrations"
    );
    let err = migrator(&ms[..2])
        .rollback_steps(&db.pool, 1)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "migration `20250101000200-rename` is recorded as applied but is not part of this \
         migration set, so the rollback cannot undo it. Nothing was rolled back. Restore its \
         folder (with a down.sql), or roll back fewer migrations"
    );
    let tracking = TestDb::new("revert_refusals_tracking").await;
    let err = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .rollback_steps(&db.pool, 1)
        .await
        .unwrap_err();
    assert!(
        matches!(err, MigrateError::RollbackNeedsOneDatabase),
        "{err:?}"
    );
    assert_eq!(
        snapshot(&db.pool).await,
        before,
        "the database is unchanged"
    );
}

#[tokio::test]
async fn a_rollback_of_a_database_never_migrated_creates_nothing() {
    let db = TestDb::new("revert_fresh").await;
    let before = snapshot(&db.pool).await;
    let report = migrator(&orchard())
        .rollback_steps(&db.pool, 1)
        .await
        .expect("nothing to do");
    assert!(report.is_noop() && report.planned.is_empty());
    assert_eq!(
        snapshot(&db.pool).await,
        before,
        "no tracking tables either"
    );
}

#[tokio::test]
async fn a_rollback_takes_the_migration_lock() {
    let db = TestDb::new("revert_lock").await;
    let ms = orchard();
    migrator(&ms).run(&db.pool).await.expect("up");
    let before = snapshot(&db.pool).await;
    let holder =
        crate::common::hold_lock(spawn_tests::server().options(&db.name), ORIGINAL_LOCK_KEY).await;
    let err = migrator(&ms)
        .lock_wait(std::time::Duration::from_millis(200))
        .rollback_steps(&db.pool, 1)
        .await
        .unwrap_err();
    assert!(matches!(err, MigrateError::LockWaitTimeout(_)), "{err:?}");
    assert_eq!(snapshot(&db.pool).await, before, "nothing was rolled back");
    drop(holder);
    let report = migrator(&ms)
        .rollback_steps(&db.pool, 1)
        .await
        .expect("free again");
    assert_eq!(report.reverted.len(), 1);
}

/// `name` rendered for `dev` and `prod`, each `(environment, up, down)`.
fn embedded(
    name: &'static str,
    renders: [(&'static str, &str, &str); 2],
) -> spawn_runtime::embedded::EmbeddedMigration {
    let renders = renders.map(
        |(environment, up, down)| spawn_runtime::embedded::EmbeddedRender {
            environment,
            migration: spawn_runtime::Migration {
                down: Some(spawn_runtime::Down::new(
                    down.to_owned(),
                    crate::common::split(down),
                )),
                ..spawn_runtime::Migration::new(name, up.to_owned(), crate::common::split(up))
            },
        },
    );
    spawn_runtime::embedded::EmbeddedMigration {
        name,
        renders: Box::leak(Box::new(renders)),
    }
}

#[tokio::test]
async fn an_embedded_set_rolls_back_with_the_environments_down_sql() {
    let db = TestDb::new("revert_embedded").await;
    let set: &'static spawn_runtime::Migrations =
        Box::leak(Box::new(spawn_runtime::Migrations::__from_embedded(
            Box::leak(
                vec![
                    embedded(
                        "20250101000000-t",
                        [
                            ("dev", "CREATE TABLE t (env text);", "DROP TABLE t;"),
                            ("prod", "CREATE TABLE t (env text);", "DROP TABLE t;"),
                        ],
                    ),
                    embedded(
                        "20250101000100-rows",
                        [
                            (
                                "dev",
                                "INSERT INTO t VALUES ('dev'), ('sample');",
                                "DELETE FROM t WHERE env IN ('dev', 'sample');",
                            ),
                            (
                                "prod",
                                "INSERT INTO t VALUES ('prod');",
                                "DELETE FROM t WHERE env = 'prod';",
                            ),
                        ],
                    ),
                ]
                .into_boxed_slice(),
            ),
            "prod",
            "app_tracking",
        )));
    let dev = || {
        set.migrator()
            .environment("dev")
            .created_by_app("revert-tests")
    };
    dev().run(&db.pool).await.expect("up");
    let report = dev()
        .rollback_to(&db.pool, "20250101000000-t")
        .await
        .expect("rollback");
    assert_eq!(report.environment.as_deref(), Some("dev"));
    assert_eq!(report.tracking_schema, "app_tracking");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(&db.pool)
        .await
        .expect("rows");
    assert_eq!(rows, 0, "dev's down.sql deleted dev's rows");
    let activity: String = sqlx::query_scalar(
        "SELECT h.activity_id_activity FROM app_tracking.migration_history h \
         JOIN app_tracking.migration m ON m.migration_id = h.migration_id_migration \
         WHERE m.name = '20250101000100-rows' ORDER BY h.migration_history_id DESC LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .expect("history");
    assert_eq!(activity, "REVERT");
    dev().run(&db.pool).await.expect("up again");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(&db.pool)
        .await
        .expect("rows");
    assert_eq!(rows, 2);
}
