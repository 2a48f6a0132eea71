//! Failing migrations: nothing of a failed transactional migration remains, the error says
//! where and why, reruns retry; no-transaction migrations resume; timeouts.

use spawn_runtime::{LineOrigin, MigrateError, State};
use spawn_tests::TestDb;

use crate::common::{applied_names, migrator, rows_of, success_count, table_exists, Mig};

const RAISE: &str = "DO $$ BEGIN RAISE EXCEPTION 'orchard is full' \
                     USING DETAIL = 'every row is planted', HINT = 'plant fewer trees'; END $$";

#[tokio::test]
async fn a_migration_failing_half_way_leaves_nothing_and_is_retried_after_a_fix() {
    let db = TestDb::new("fail_half_way").await;
    let a = Mig::new(
        "20250101000000-a",
        "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);",
    );
    let b_sql = format!(
        "CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\n-- from the component\n{RAISE};\nCREATE TABLE b2 (id int);\n"
    );
    let b = Mig::new("20250101000100-b", &b_sql).origins(vec![
        LineOrigin::from_up_sql(1),
        LineOrigin::from_component(3, "checks/raise.sql"),
        LineOrigin::from_up_sql(5),
    ]);
    let c = Mig::new("20250101000200-c", "CREATE TABLE c (id int);");
    let ms = vec![a.clone(), b.clone(), c.clone()];
    let err = migrator(&ms).run(&db.pool).await.unwrap_err();
    let failure = err
        .failure()
        .unwrap_or_else(|| panic!("a migration failure, got {err}"));
    assert_eq!(failure.name, b.name);
    let statement = failure
        .statement
        .as_ref()
        .expect("the failing statement is identified");
    assert_eq!((statement.index, statement.of), (3, 4));
    assert_eq!(
        statement.line, 3,
        "the statement starts at its comment line"
    );
    assert_eq!(statement.component.as_deref(), Some("checks/raise.sql"));
    assert_eq!(failure.error.code.as_deref(), Some("P0001"));
    assert_eq!(failure.error.message, "orchard is full");
    assert_eq!(
        failure.error.detail.as_deref(),
        Some("every row is planted")
    );
    assert_eq!(failure.error.hint.as_deref(), Some("plant fewer trees"));
    assert_eq!(failure.applied_before, vec![a.name.clone()]);
    let text = err.to_string();
    for needle in [
        "migration `20250101000100-b` failed at statement 3 of 4 (line 3 of the rendered SQL, from component `checks/raise.sql`)",
        "orchard is full",
        "DETAIL: every row is planted",
        "HINT: plant fewer trees",
        "Nothing of `20250101000100-b` was applied",
        "Fix it and run again",
        "`20250101000000-a`",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }

    // a committed, nothing of b remains, c was not tried.
    assert!(table_exists(&db.pool, "a").await);
    assert!(
        !table_exists(&db.pool, "b").await,
        "b's earlier statements were rolled back"
    );
    assert!(!table_exists(&db.pool, "c").await);
    assert_eq!(success_count(&db.pool, &a.name).await, 1);
    let b_rows = rows_of(&db.pool, &b.name).await;
    assert_eq!(b_rows.len(), 1);
    assert_eq!(
        (b_rows[0].activity.as_str(), b_rows[0].status.as_str()),
        ("APPLY", "FAILURE")
    );
    assert_eq!(b_rows[0].checksum, b.sha256().to_vec());
    assert!(
        b_rows[0].status_note.contains("orchard is full"),
        "{}",
        b_rows[0].status_note
    );
    assert!(rows_of(&db.pool, &c.name).await.is_empty());
    let status = migrator(&ms).status(&db.pool).await.unwrap();
    assert_eq!(
        status.iter().map(|s| s.state).collect::<Vec<_>>(),
        [State::Applied, State::Failed, State::Pending]
    );

    // Fixed: the rerun applies b and c.
    let fixed = vec![
        a.clone(),
        b.with_sql("CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);"),
        c.clone(),
    ];
    let report = migrator(&fixed)
        .run(&db.pool)
        .await
        .expect("rerun after the fix");
    assert_eq!(applied_names(&report), [b.name.as_str(), c.name.as_str()]);
    assert!(table_exists(&db.pool, "b").await && table_exists(&db.pool, "c").await);
    let b_rows = rows_of(&db.pool, &b.name).await;
    assert_eq!(
        b_rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ["FAILURE", "SUCCESS"]
    );
}

#[tokio::test]
async fn a_syntax_error_later_in_a_batch_names_the_right_migration() {
    let db = TestDb::new("fail_syntax").await;
    let ms = vec![
        Mig::new("20250101000000-a", "CREATE TABLE a (id int);"),
        Mig::new("20250101000100-b", "CREATE TABLE b (id int);"),
        Mig::new(
            "20250101000200-c",
            "CREATE TABLE c (id int);\n\nCREAT TABLE oops (id int);",
        ),
        Mig::new("20250101000300-d", "CREATE TABLE d (id int);"),
    ];
    let err = migrator(&ms).run(&db.pool).await.unwrap_err();
    let failure = err
        .failure()
        .unwrap_or_else(|| panic!("a migration failure, got {err}"));
    assert_eq!(failure.name, "20250101000200-c");
    let statement = failure.statement.as_ref().expect("statement");
    assert_eq!((statement.index, statement.line), (2, 3));
    assert_eq!(statement.first_line, "CREAT TABLE oops (id int)");
    assert_eq!(failure.error.code.as_deref(), Some("42601"));
    assert!(
        failure.error.message.contains("syntax error"),
        "{}",
        failure.error.message
    );
    assert_eq!(
        failure.applied_before,
        ["20250101000000-a", "20250101000100-b"]
    );
    assert!(table_exists(&db.pool, "a").await && table_exists(&db.pool, "b").await);
    assert!(!table_exists(&db.pool, "c").await && !table_exists(&db.pool, "d").await);
    assert_eq!(success_count(&db.pool, "20250101000000-a").await, 1);
    assert_eq!(success_count(&db.pool, "20250101000100-b").await, 1);
    assert_eq!(
        rows_of(&db.pool, "20250101000200-c").await[0].status,
        "FAILURE"
    );
    assert!(rows_of(&db.pool, "20250101000300-d").await.is_empty());
}

#[tokio::test]
async fn a_runtime_error_reports_postgres_detail() {
    let db = TestDb::new("fail_detail").await;
    let ms = vec![
        Mig::new("20250101000000-a", "CREATE TABLE a (id int PRIMARY KEY);"),
        Mig::new(
            "20250101000100-b",
            "INSERT INTO a VALUES (1);\nINSERT INTO a VALUES (1);",
        ),
    ];
    let err = migrator(&ms).run(&db.pool).await.unwrap_err();
    let failure = err.failure().expect("failure");
    assert_eq!(failure.name, "20250101000100-b");
    assert_eq!(
        failure.statement.as_ref().map(|s| (s.index, s.line)),
        Some((2, 2))
    );
    assert_eq!(failure.error.code.as_deref(), Some("23505"));
    assert_eq!(
        failure.error.detail.as_deref(),
        Some("Key (id)=(1) already exists.")
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM a")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "the first insert of b was rolled back");
}

#[tokio::test]
async fn a_no_transaction_migration_resumes_after_the_last_statement_that_succeeded() {
    let db = TestDb::new("fail_no_tx_resume").await;
    let before = Mig::new("20250101000000-before", "CREATE TABLE before_t (id int);");
    // Statement 1 is not idempotent: running it again would fail.
    let nt = Mig::no_tx(
        "20250101000100-concurrently",
        "CREATE TABLE nt (id int);\nINSERT INTO missing_table VALUES (1);\nCREATE INDEX CONCURRENTLY nt_id ON nt (id);",
    );
    let after = Mig::new("20250101000200-after", "CREATE TABLE after_t (id int);");
    let ms = vec![before.clone(), nt.clone(), after.clone()];
    let err = migrator(&ms).run(&db.pool).await.unwrap_err();
    let failure = err
        .failure()
        .unwrap_or_else(|| panic!("failure, got {err}"));
    assert_eq!(failure.name, nt.name);
    assert_eq!(failure.no_transaction_done, Some(1));
    assert_eq!(
        failure.statement.as_ref().map(|s| (s.index, s.of, s.line)),
        Some((2, 3, 2))
    );
    assert_eq!(failure.error.code.as_deref(), Some("42P01"));
    let text = err.to_string();
    assert!(
        text.contains("its first 1 statement(s) ran and stay applied"),
        "{text}"
    );
    assert!(text.contains("Fix statement 2 and run again"), "{text}");
    assert!(table_exists(&db.pool, "before_t").await);
    assert!(
        table_exists(&db.pool, "nt").await,
        "statement 1 ran outside a transaction and stays"
    );
    assert!(!table_exists(&db.pool, "after_t").await);
    let rows = rows_of(&db.pool, &nt.name).await;
    assert_eq!(
        rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ["ATTEMPTED", "FAILURE"]
    );
    let note: serde_json::Value =
        serde_json::from_str(&rows[1].status_note).expect("JSON progress");
    assert_eq!(note["statements_done"], 1);
    assert_eq!(note["of"], 3);
    let status = migrator(&ms).status(&db.pool).await.unwrap();
    assert_eq!(status[1].state, State::Partial);
    assert_eq!(status[1].progress, Some((1, 3)));

    // Fix statement 2: the rerun starts at statement 2 (statement 1 would fail if rerun).
    let fixed_nt = nt.with_sql(
        "CREATE TABLE nt (id int);\nINSERT INTO nt VALUES (1);\nCREATE INDEX CONCURRENTLY nt_id ON nt (id);",
    );
    let fixed = vec![before.clone(), fixed_nt, after.clone()];
    let report = migrator(&fixed).run(&db.pool).await.expect("resume");
    assert_eq!(
        applied_names(&report),
        [nt.name.as_str(), after.name.as_str()]
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM nt")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert!(
        table_exists(&db.pool, "nt_id").await,
        "the concurrent index exists"
    );
    let rows = rows_of(&db.pool, &nt.name).await;
    assert_eq!(
        rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ["ATTEMPTED", "FAILURE", "ATTEMPTED", "ATTEMPTED", "SUCCESS"]
    );
    let note: serde_json::Value = serde_json::from_str(&rows[2].status_note).unwrap();
    assert_eq!(note["statements_done"], 2);
    // Statement 3 cannot commit with a row: it is recorded as started before it runs.
    let note: serde_json::Value = serde_json::from_str(&rows[3].status_note).unwrap();
    assert_eq!(
        (&note["statements_done"], &note["started"]),
        (&2.into(), &3.into())
    );
    assert_eq!(
        migrator(&fixed).status(&db.pool).await.unwrap()[1].state,
        State::Applied
    );
}

#[tokio::test]
async fn a_no_transaction_migration_records_progress_after_each_statement() {
    let db = TestDb::new("fail_no_tx_progress").await;
    let nt = Mig::no_tx(
        "20250101000000-nt",
        "CREATE TABLE p1 (id int);\nCREATE TABLE p2 (id int);\nCREATE TABLE p3 (id int)",
    );
    migrator(std::slice::from_ref(&nt))
        .run(&db.pool)
        .await
        .expect("run");
    let rows = rows_of(&db.pool, &nt.name).await;
    assert_eq!(
        rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ["ATTEMPTED", "ATTEMPTED", "SUCCESS"]
    );
    let done: Vec<i64> = rows[..2]
        .iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(&r.status_note).unwrap()["statements_done"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(done, [1, 2]);
    assert_eq!(rows[2].checksum, nt.sha256().to_vec());
}

#[tokio::test]
async fn per_migration_timeouts_are_applied() {
    let db = TestDb::new("fail_timeouts").await;
    migrator(&[Mig::new("20250101000000-t", "CREATE TABLE t (id int);")])
        .run(&db.pool)
        .await
        .unwrap();
    // Another session holds a lock on t.
    let mut blocker = db.pool.acquire().await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let ms = vec![
        Mig::new("20250101000000-t", "CREATE TABLE t (id int);"),
        Mig::new("20250101000100-alter", "ALTER TABLE t ADD COLUMN x int;").lock_timeout("50ms"),
    ];
    let err = migrator(&ms).run(&db.pool).await.unwrap_err();
    let failure = err
        .failure()
        .unwrap_or_else(|| panic!("failure, got {err}"));
    assert_eq!(failure.name, "20250101000100-alter");
    assert_eq!(
        failure.error.code.as_deref(),
        Some("55P03"),
        "lock_timeout: {}",
        failure.error
    );
    // The migrator-wide default applies when the migration sets none.
    let ms2 = vec![
        ms[0].clone(),
        Mig::new("20250101000100-alter", "ALTER TABLE t ADD COLUMN x int;"),
    ];
    let err = migrator(&ms2)
        .statement_lock_timeout("50ms")
        .run(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(
        err.failure().and_then(|f| f.error.code.as_deref()),
        Some("55P03"),
        "{err}"
    );
    // A statement that waits (here for the same lock, with no lock_timeout) is cancelled by
    // statement_timeout.
    let slow = vec![
        ms[0].clone(),
        Mig::new("20250101000200-slow", "ALTER TABLE t ADD COLUMN y int;")
            .statement_timeout("50ms"),
    ];
    let err = migrator(&slow).run(&db.pool).await.unwrap_err();
    assert_eq!(
        err.failure().and_then(|f| f.error.code.as_deref()),
        Some("57014"),
        "{err}"
    );
    let slow_nt = vec![
        ms[0].clone(),
        Mig::no_tx("20250101000200-slow", "ALTER TABLE t ADD COLUMN y int;"),
    ];
    let err = migrator(&slow_nt)
        .statement_timeout("50ms")
        .run(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(
        err.failure().and_then(|f| f.error.code.as_deref()),
        Some("57014"),
        "{err}"
    );
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut *blocker)
        .await
        .unwrap();
    drop(blocker);
    // A bad setting is reported, naming the migration.
    let bad = vec![
        ms[0].clone(),
        Mig::new("20250101000300-bad", "SELECT 1;").lock_timeout("soon"),
    ];
    let err = migrator(&bad).run(&db.pool).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("20250101000300-bad") && text.contains("invalid timeout"),
        "{text}"
    );
    assert!(matches!(err, MigrateError::Failed(_)));
}

#[tokio::test]
async fn a_failure_at_commit_is_reported_without_a_statement() {
    let db = TestDb::new("fail_at_commit").await;
    let ms = vec![
        Mig::new("20250101000000-a", "CREATE TABLE a (id int);"),
        Mig::new(
            "20250101000100-deferred",
            "CREATE TABLE p (id int PRIMARY KEY);\n\
             CREATE TABLE c (p int REFERENCES p DEFERRABLE INITIALLY DEFERRED);\n\
             INSERT INTO c VALUES (1);",
        ),
    ];
    let err = migrator(&ms).run(&db.pool).await.unwrap_err();
    let failure = err
        .failure()
        .unwrap_or_else(|| panic!("failure, got {err}"));
    assert_eq!(failure.name, "20250101000100-deferred");
    assert!(failure.statement.is_none());
    assert_eq!(failure.error.code.as_deref(), Some("23503"));
    assert!(err.to_string().contains("it failed at COMMIT"), "{err}");
    assert!(table_exists(&db.pool, "a").await);
    assert!(!table_exists(&db.pool, "p").await && !table_exists(&db.pool, "c").await);
    assert_eq!(
        rows_of(&db.pool, "20250101000100-deferred").await[0].status,
        "FAILURE"
    );
}
