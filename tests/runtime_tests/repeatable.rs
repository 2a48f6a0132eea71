//! Repeatable migrations ([`Migration::repeatable`](spawn_runtime::Migration)): applied after
//! the versioned migrations of a run, in name order, and again whenever their checksum
//! changes (every version stays in the history); never part of the order check or of a
//! rollback. One that fails leaves nothing of itself and is retried.

use spawn_runtime::{MigrateError, Migrator, State};
use spawn_tests::TestDb;
use sqlx::PgPool;

use crate::common::{applied_names, migrator, rows_of, Mig};

const VIEWS: &str = "20250109000000-views";

fn set() -> Vec<Mig> {
    vec![
        Mig::new(
            "20250101000000-a",
            "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1), (2);",
        )
        .down("DROP TABLE a;"),
        Mig::new("20250102000000-b", "CREATE TABLE b (id int);").down("DROP TABLE b;"),
        Mig::new(
            VIEWS,
            "CREATE OR REPLACE VIEW counts AS SELECT (SELECT count(*) FROM a) AS a, (SELECT count(*) FROM b) AS b;",
        )
        .repeatable(),
    ]
}

async fn states(m: &Migrator, pool: &PgPool) -> Vec<(String, State)> {
    m.status(pool)
        .await
        .expect("status")
        .into_iter()
        .map(|s| (s.name, s.state))
        .collect()
}

async fn view_sql(pool: &PgPool) -> String {
    sqlx::query_scalar("SELECT pg_get_viewdef('counts'::regclass)")
        .fetch_one(pool)
        .await
        .expect("the view")
}

#[tokio::test]
async fn a_repeatable_migration_runs_after_the_versioned_ones_and_again_when_it_changes() {
    let db = TestDb::new("repeatable").await;
    let mut ms = set();
    let report = migrator(&ms).run(&db.pool).await.expect("first run");
    assert_eq!(
        applied_names(&report),
        ["20250101000000-a", "20250102000000-b", VIEWS]
    );
    let report = migrator(&ms).run(&db.pool).await.expect("nothing to do");
    assert!(report.applied.is_empty() && report.already_applied == 3);

    // A new version: status says it will re-run; a run re-creates it, and only it.
    ms[2] = ms[2].with_sql(
        "CREATE OR REPLACE VIEW counts AS SELECT (SELECT count(*) FROM a) AS a, (SELECT count(*) FROM b) AS b, 1 AS version;",
    );
    let m = migrator(&ms);
    assert_eq!(
        states(&m, &db.pool).await,
        [
            ("20250101000000-a".to_string(), State::Applied),
            ("20250102000000-b".to_string(), State::Applied),
            (VIEWS.to_string(), State::Rerun),
        ]
    );
    assert_eq!(State::Rerun.to_string(), "re-run");
    let plan = m.clone().dry_run(true).run(&db.pool).await.expect("plan");
    assert_eq!(plan.planned, [VIEWS]);
    let report = m.run(&db.pool).await.expect("re-run");
    assert_eq!(applied_names(&report), [VIEWS]);
    assert!(view_sql(&db.pool).await.contains("version"));
    // The history keeps every version that ran.
    let rows = rows_of(&db.pool, VIEWS).await;
    let checksums: Vec<&[u8]> = rows.iter().map(|r| r.checksum.as_slice()).collect();
    assert_eq!(checksums, [&set()[2].sha256()[..], &ms[2].sha256()[..]]);

    // A versioned migration sorting before it is not out of order; the unchanged repeatable
    // one does not run again.
    ms.push(Mig::new("20250103000000-c", "CREATE TABLE c (id int);").down("DROP TABLE c;"));
    let report = migrator(&ms).run(&db.pool).await.expect("c");
    assert_eq!(applied_names(&report), ["20250103000000-c"]);

    // A rollback passes over it: the newest versioned migration is undone.
    let report = migrator(&ms)
        .rollback_steps(&db.pool, 1)
        .await
        .expect("rollback");
    let undone: Vec<&str> = report.reverted.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(undone, ["20250103000000-c"]);
    assert_eq!(
        states(&migrator(&ms), &db.pool).await[3],
        (VIEWS.to_string(), State::Applied)
    );
}

#[tokio::test]
async fn a_failing_repeatable_migration_leaves_nothing_of_itself_and_is_retried() {
    let db = TestDb::new("repeatable_fails").await;
    let mut ms = set();
    migrator(&ms).run(&db.pool).await.expect("first run");
    let before = view_sql(&db.pool).await;
    ms[2] = ms[2].with_sql(
        "CREATE OR REPLACE VIEW counts AS SELECT 1::bigint AS a, 2::bigint AS b, 3 AS three;\n\
         SELECT * FROM no_such_table;",
    );
    let err = migrator(&ms).run(&db.pool).await.unwrap_err();
    let MigrateError::Failed(failure) = &err else {
        panic!("a failure, got {err:?}");
    };
    assert_eq!(failure.name, VIEWS);
    assert!(
        err.to_string().starts_with(&format!(
            "migration `{VIEWS}` failed at statement 2 of 2 (line 2 of the rendered SQL): SELECT * FROM no_such_table\n  ERROR 42P01: relation \"no_such_table\" does not exist"
        )),
        "{err}"
    );
    assert_eq!(view_sql(&db.pool).await, before, "the view is as it was");
    assert_eq!(
        states(&migrator(&ms), &db.pool).await[2],
        (VIEWS.to_string(), State::Failed)
    );
    // Fixed, it is retried.
    ms[2] = ms[2].with_sql("CREATE OR REPLACE VIEW counts AS SELECT (SELECT count(*) FROM a) AS a, (SELECT count(*) FROM b) AS b, 2 AS version;");
    let report = migrator(&ms).run(&db.pool).await.expect("retried");
    assert_eq!(applied_names(&report), [VIEWS]);
}

#[tokio::test]
async fn a_run_up_to_a_versioned_migration_leaves_repeatable_ones_for_later() {
    let db = TestDb::new("repeatable_up_to").await;
    let ms = set();
    let report = migrator(&ms)
        .up_to("20250101000000-a")
        .run(&db.pool)
        .await
        .expect("up to a");
    assert_eq!(applied_names(&report), ["20250101000000-a"]);
    let report = migrator(&ms).run(&db.pool).await.expect("the rest");
    assert_eq!(applied_names(&report), ["20250102000000-b", VIEWS]);
}
