//! SQL callbacks around a run (`Migrator::callbacks`): before/after migrate once, before/after
//! each inside each transactional migration's transaction, none on a run with nothing
//! pending; a failing callback fails the run naming its file and line, and leaves nothing of
//! the migration it wraps.

use std::borrow::Cow;

use spawn_runtime::{Callback, CallbackKind, Callbacks, MigrateError};
use spawn_tests::TestDb;

use crate::common::{applied_names, migrator, rows_of, split, success_count, table_exists, Mig};

/// A callback of `kind` (for `migration`, if given) with its statements split.
fn callback(kind: CallbackKind, migration: Option<&str>, sql: &str) -> Callback {
    Callback {
        migration: migration.map(|m| Cow::Owned(m.to_string())),
        ..Callback::new(kind, sql.to_string(), split(sql))
    }
}

/// Logs each event to `cb_log`, which before_migrate creates.
fn logging(names: &[&str]) -> Callbacks {
    let each = |kind, what: &str| -> Cow<'static, [Callback]> {
        names
            .iter()
            .map(|n| {
                callback(
                    kind,
                    Some(n),
                    &format!("INSERT INTO cb_log (event) VALUES ('{what} {n}');"),
                )
            })
            .collect::<Vec<_>>()
            .into()
    };
    Callbacks {
        before_migrate: Some(callback(
            CallbackKind::BeforeMigrate,
            None,
            "CREATE TABLE IF NOT EXISTS cb_log (n serial, event text);\n\
             INSERT INTO cb_log (event) VALUES ('before_migrate');",
        )),
        after_migrate: Some(callback(
            CallbackKind::AfterMigrate,
            None,
            "INSERT INTO cb_log (event) VALUES ('after_migrate');",
        )),
        before_each: each(CallbackKind::BeforeEach, "before"),
        after_each: each(CallbackKind::AfterEach, "after"),
    }
}

async fn log(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar("SELECT event FROM cb_log ORDER BY n")
        .fetch_all(&db.pool)
        .await
        .expect("cb_log")
}

#[tokio::test]
async fn callbacks_run_around_the_run_and_each_migration_and_not_when_nothing_is_pending() {
    let db = TestDb::new("callbacks_order").await;
    let a = Mig::new("20250101000000-a", "CREATE TABLE a (id int);");
    let b = Mig::no_tx("20250101000100-b", "CREATE TABLE b (id int);");
    let c = Mig::new("20250101000200-c", "CREATE TABLE c (id int);");
    let ms = vec![a.clone(), b.clone(), c.clone()];
    let callbacks = logging(&[&a.name, &b.name, &c.name]);
    let report = migrator(&ms[..1])
        .callbacks(callbacks.clone())
        .run(&db.pool)
        .await
        .expect("first run");
    assert_eq!(applied_names(&report), [a.name.as_str()]);
    let report = migrator(&ms)
        .callbacks(callbacks.clone())
        .run(&db.pool)
        .await
        .expect("second run");
    assert_eq!(applied_names(&report), [b.name.as_str(), c.name.as_str()]);
    assert_eq!(
        log(&db).await,
        [
            "before_migrate",
            "before 20250101000000-a",
            "after 20250101000000-a",
            "after_migrate",
            "before_migrate",
            "before 20250101000100-b",
            "after 20250101000100-b",
            "before 20250101000200-c",
            "after 20250101000200-c",
            "after_migrate",
        ]
    );
    // The history is that of the migrations alone: their own checksums.
    assert_eq!(
        rows_of(&db.pool, &c.name).await[0].checksum,
        c.sha256().to_vec()
    );

    // Nothing pending: still one statement, no lock, no callback.
    let again = migrator(&ms)
        .callbacks(callbacks)
        .run(&db.pool)
        .await
        .expect("no-op run");
    assert_eq!(again.round_trips, 1);
    assert_eq!(log(&db).await.len(), 10);
}

#[tokio::test]
async fn a_syntax_error_in_before_each_fails_the_run_naming_the_callback_line_and_applies_nothing()
{
    let db = TestDb::new("callbacks_syntax").await;
    let a = Mig::new("20250101000000-a", "CREATE TABLE a (id int);");
    let b = Mig::new("20250101000100-b", "CREATE TABLE b (id int);");
    let ms = vec![a.clone(), b.clone()];
    let callbacks = Callbacks {
        before_each: vec![callback(
            CallbackKind::BeforeEach,
            None,
            "SELECT 1;\nSELEC 2;\n",
        )]
        .into(),
        ..Callbacks::default()
    };
    let err = migrator(&ms)
        .callbacks(callbacks)
        .run(&db.pool)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "migration `20250101000000-a` failed in callback `callbacks/before_each.sql` at \
             statement 2 of 2 (line 2 of callbacks/before_each.sql): SELEC 2\n  ERROR 42601: \
             syntax error at or near \"SELEC\""
        ),
        "{text}"
    );
    let statement = err.failure().and_then(|f| f.statement.as_ref()).unwrap();
    assert_eq!(
        statement.callback.as_deref(),
        Some("callbacks/before_each.sql")
    );
    assert!(!table_exists(&db.pool, "a").await && !table_exists(&db.pool, "b").await);
    // Not the migration's failure: no FAILURE row either, it is simply still pending.
    assert!(rows_of(&db.pool, &a.name).await.is_empty());
    assert!(rows_of(&db.pool, &b.name).await.is_empty());
}

#[tokio::test]
async fn a_failing_after_each_rolls_its_migration_back_and_keeps_the_ones_before() {
    let db = TestDb::new("callbacks_after_each").await;
    let a = Mig::new("20250101000000-a", "CREATE TABLE a (id int);");
    let b = Mig::new(
        "20250101000100-b",
        "CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);",
    );
    let ms = vec![a.clone(), b.clone()];
    // The per-migration render for b fails at run time (not a syntax error).
    let callbacks = Callbacks {
        after_each: vec![
            callback(CallbackKind::AfterEach, Some(&a.name), "SELECT 1;"),
            callback(
                CallbackKind::AfterEach,
                Some(&b.name),
                "-- check b\nSELECT 1;\nSELECT 1 / (SELECT count(*) - 1 FROM b);",
            ),
        ]
        .into(),
        ..Callbacks::default()
    };
    let err = migrator(&ms)
        .callbacks(callbacks)
        .run(&db.pool)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "migration `20250101000100-b` failed in callback `callbacks/after_each.sql` at \
             statement 2 of 2 (line 3 of callbacks/after_each.sql): SELECT 1 / (SELECT count(*) - 1 FROM b)\n  \
             ERROR 22012: division by zero"
        ),
        "{text}"
    );
    assert!(
        text.contains("Nothing of `20250101000100-b` was applied"),
        "{text}"
    );
    assert!(table_exists(&db.pool, "a").await);
    assert!(
        !table_exists(&db.pool, "b").await,
        "b rolled back with its callback"
    );
    assert!(rows_of(&db.pool, &b.name).await.is_empty());
}

#[tokio::test]
async fn a_failing_before_migrate_applies_nothing_and_names_its_line() {
    let db = TestDb::new("callbacks_before_migrate").await;
    let a = Mig::new("20250101000000-a", "CREATE TABLE a (id int);");
    let callbacks = Callbacks {
        before_migrate: Some(callback(
            CallbackKind::BeforeMigrate,
            None,
            "CREATE TABLE cb (id int);\n\nSELECT * FROM no_such_table;",
        )),
        ..Callbacks::default()
    };
    let err = migrator(std::slice::from_ref(&a))
        .callbacks(callbacks)
        .run(&db.pool)
        .await
        .unwrap_err();
    assert!(matches!(err, MigrateError::CallbackFailed(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "callback `callbacks/before_migrate.sql` failed at statement 2 of 2 (line 3 of \
         callbacks/before_migrate.sql): SELECT * FROM no_such_table\n  ERROR 42P01: relation \
         \"no_such_table\" does not exist\nIt ran in a transaction of its own, which was rolled \
         back. Fix it and run again. No migration of this run was applied."
    );
    assert!(
        !table_exists(&db.pool, "cb").await,
        "its transaction was rolled back"
    );
    assert!(!table_exists(&db.pool, "a").await);
    assert!(rows_of(&db.pool, &a.name).await.is_empty());
}

#[tokio::test]
async fn a_failing_after_migrate_names_what_stays_applied() {
    let db = TestDb::new("callbacks_after_migrate").await;
    let a = Mig::new("20250101000000-a", "CREATE TABLE a (id int);");
    let callbacks = Callbacks {
        after_migrate: Some(callback(
            CallbackKind::AfterMigrate,
            None,
            "DO $$ BEGIN RAISE EXCEPTION 'not today'; END $$;",
        )),
        ..Callbacks::default()
    };
    let err = migrator(std::slice::from_ref(&a))
        .callbacks(callbacks)
        .run(&db.pool)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "callback `callbacks/after_migrate.sql` failed at statement 1 of 1 (line 1 of \
             callbacks/after_migrate.sql)"
        ),
        "{text}"
    );
    assert!(
        text.ends_with(
            "1 migration(s) of this run were applied and stay applied: `20250101000000-a`."
        ),
        "{text}"
    );
    assert!(table_exists(&db.pool, "a").await);
    assert_eq!(success_count(&db.pool, &a.name).await, 1);
}

/// With the tracking tables in another database, each migration goes on its own with an
/// attempt row: before_each/after_each still run in its transaction in the target, and a
/// failing one leaves neither the migration nor a history row.
#[tokio::test]
async fn each_callbacks_run_in_the_target_transaction_with_the_tracking_tables_elsewhere() {
    let target = TestDb::new("callbacks_split_target").await;
    let tracking = TestDb::new("callbacks_split_tracking").await;
    let a = Mig::new("20250101000000-a", "CREATE TABLE a (id int);");
    let b = Mig::new("20250101000100-b", "CREATE TABLE b (id int);");
    let ms = vec![a.clone(), b.clone()];
    let setup = "CREATE TABLE cb_log (n serial, event text);";
    sqlx::raw_sql(setup)
        .execute(&target.pool)
        .await
        .expect("cb_log");
    let callbacks = Callbacks {
        after_each: vec![
            callback(
                CallbackKind::AfterEach,
                Some(&a.name),
                "INSERT INTO cb_log (event) VALUES ('after a');",
            ),
            callback(
                CallbackKind::AfterEach,
                Some(&b.name),
                "SELECT 1;\nSELECT * FROM nothing_here;",
            ),
        ]
        .into(),
        ..Callbacks::default()
    };
    let err = migrator(&ms)
        .tracking_pool(tracking.pool.clone())
        .callbacks(callbacks)
        .run(&target.pool)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "migration `20250101000100-b` failed in callback `callbacks/after_each.sql` at \
             statement 2 of 2 (line 2 of callbacks/after_each.sql)"
        ),
        "{text}"
    );
    assert_eq!(log(&target).await, ["after a"]);
    assert!(table_exists(&target.pool, "a").await && !table_exists(&target.pool, "b").await);
    assert_eq!(success_count(&tracking.pool, &a.name).await, 1);
    assert!(
        rows_of(&tracking.pool, &b.name).await.is_empty(),
        "no attempt, no failure"
    );
}

/// Around a no-transaction migration, before_each runs in a transaction of its own before its
/// first statement: failing, it fails the run before the migration starts.
#[tokio::test]
async fn a_failing_before_each_of_a_no_transaction_migration_runs_none_of_it() {
    let db = TestDb::new("callbacks_no_tx").await;
    let a = Mig::new("20250101000000-a", "CREATE TABLE a (id int);");
    let b = Mig::no_tx(
        "20250101000100-b",
        "CREATE TABLE b (id int);\nCREATE INDEX CONCURRENTLY b_id ON b (id);",
    );
    let ms = vec![a.clone(), b.clone()];
    let callbacks = Callbacks {
        before_each: vec![
            callback(CallbackKind::BeforeEach, Some(&a.name), "SELECT 1;"),
            callback(
                CallbackKind::BeforeEach,
                Some(&b.name),
                "SELECT 1;\nSELECT 1 / 0;",
            ),
        ]
        .into(),
        ..Callbacks::default()
    };
    let err = migrator(&ms)
        .callbacks(callbacks)
        .run(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "callback `callbacks/before_each.sql` of migration `20250101000100-b` failed at \
         statement 2 of 2 (line 2 of callbacks/before_each.sql): SELECT 1 / 0\n  ERROR 22012: \
         division by zero\nIt ran in a transaction of its own, which was rolled back. Fix it and \
         run again. 1 migration(s) of this run were applied and stay applied: \
         `20250101000000-a`."
    );
    assert!(table_exists(&db.pool, "a").await);
    assert!(!table_exists(&db.pool, "b").await);
    assert!(rows_of(&db.pool, &b.name).await.is_empty());
}
