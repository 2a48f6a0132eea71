//! Every refusal leaves the database exactly as it was, says which migration and how to
//! fix it; the flags that allow them.

use spawn_runtime::{MigrateError, Remedy};
use spawn_tests::TestDb;

use crate::common::{migrator, snapshot, success_count, table_exists, Mig};

fn abc() -> (Mig, Mig, Mig) {
    (
        Mig::new("20250101000000-a", "CREATE TABLE a (id int);\n"),
        Mig::new("20250101000100-b", "CREATE TABLE b (id int);"),
        Mig::new("20250101000200-c", "CREATE TABLE c (id int);"),
    )
}

#[tokio::test]
async fn a_changed_applied_migration_is_refused() {
    let db = TestDb::new("refuse_changed").await;
    let (a, b, c) = abc();
    migrator(&[a.clone(), b.clone()])
        .run(&db.pool)
        .await
        .unwrap();
    let before = snapshot(&db.pool).await;
    // c is pending and sorts after the changed one: it must not be applied either.
    let changed = vec![
        a.with_sql("CREATE TABLE a (id bigint);"),
        b.clone(),
        c.clone(),
    ];
    let err = migrator(&changed).run(&db.pool).await.unwrap_err();
    assert!(
        matches!(err, MigrateError::ChecksumMismatch { ref name, recorded_kind: "SHA-256", .. } if name == &a.name),
        "{err:?}"
    );
    let text = err.to_string();
    for needle in [
        "migration `20250101000000-a` was applied with checksum",
        &hex(&a.sha256()),
        "an applied migration must not change",
        "Nothing was applied",
        "Restore `20250101000000-a`",
        "new migration",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {text}");
    }
    assert_eq!(snapshot(&db.pool).await, before);
    // Line endings and a BOM do not count as a change.
    let crlf = vec![
        a.with_sql("\u{feff}CREATE TABLE a (id int);\r\n"),
        b.clone(),
    ];
    migrator(&crlf)
        .run(&db.pool)
        .await
        .expect("same SQL with a BOM");
}

#[tokio::test]
async fn a_missing_migration_is_refused_unless_ignored() {
    let db = TestDb::new("refuse_missing").await;
    let (a, b, c) = abc();
    migrator(&[a.clone(), b.clone()])
        .run(&db.pool)
        .await
        .unwrap();
    let before = snapshot(&db.pool).await;
    let set = vec![a.clone(), c.clone()];
    let err = migrator(&set).run(&db.pool).await.unwrap_err();
    assert!(
        matches!(err, MigrateError::MissingMigrations { ref names, .. } if names == std::slice::from_ref(&b.name)),
        "{err:?}"
    );
    assert_eq!(err.remedy(), Some(Remedy::IgnoreMissing));
    let text = err.to_string();
    for needle in [
        "migration is recorded as applied in schema `_spawn`",
        "`20250101000100-b`",
        "Nothing was applied",
        "ignore_missing(true)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {text}");
    }
    assert_eq!(snapshot(&db.pool).await, before);
    let report = migrator(&set)
        .ignore_missing(true)
        .run(&db.pool)
        .await
        .expect("ignore_missing");
    assert_eq!(report.applied.len(), 1);
    assert!(table_exists(&db.pool, "c").await);
    let status = migrator(&set).status(&db.pool).await.unwrap();
    assert_eq!(
        status.iter().find(|s| s.name == b.name).map(|s| s.state),
        Some(spawn_runtime::State::Missing)
    );
}

#[tokio::test]
async fn an_out_of_order_migration_is_refused_unless_allowed() {
    let db = TestDb::new("refuse_out_of_order").await;
    let (a, b, c) = abc();
    migrator(&[a.clone(), c.clone()])
        .run(&db.pool)
        .await
        .unwrap();
    let before = snapshot(&db.pool).await;
    let set = vec![a.clone(), b.clone(), c.clone()];
    let err = migrator(&set).run(&db.pool).await.unwrap_err();
    assert!(
        matches!(err, MigrateError::OutOfOrder { ref name, ref newest_applied } if name == &b.name && newest_applied == &c.name),
        "{err:?}"
    );
    assert_eq!(err.remedy(), Some(Remedy::AllowOutOfOrder));
    let text = err.to_string();
    for needle in [
        "pending migration `20250101000100-b` sorts before `20250101000200-c`",
        "Nothing was applied",
        "Rename `20250101000100-b`",
        "allow_out_of_order(true)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {text}");
    }
    assert_eq!(snapshot(&db.pool).await, before);
    // The dry run refuses the same way.
    assert!(matches!(
        migrator(&set).dry_run(true).run(&db.pool).await,
        Err(MigrateError::OutOfOrder { .. })
    ));
    let report = migrator(&set)
        .allow_out_of_order(true)
        .run(&db.pool)
        .await
        .expect("allowed");
    assert_eq!(report.applied.len(), 1);
    assert_eq!(success_count(&db.pool, &b.name).await, 1);
}

#[tokio::test]
async fn a_partly_applied_no_transaction_migration_that_changed_is_refused() {
    let db = TestDb::new("refuse_partial_changed").await;
    let nt = Mig::no_tx(
        "20250101000000-nt",
        "CREATE TABLE nt1 (id int);\nINSERT INTO nowhere VALUES (1);\nCREATE TABLE nt3 (id int);",
    );
    migrator(std::slice::from_ref(&nt))
        .run(&db.pool)
        .await
        .unwrap_err();
    let before = snapshot(&db.pool).await;
    // Statement 1, which ran, changed.
    let changed = nt.with_sql(
        "CREATE TABLE nt1 (id bigint);\nINSERT INTO nt1 VALUES (1);\nCREATE TABLE nt3 (id int);",
    );
    let later = Mig::new("20250101000100-later", "CREATE TABLE later (id int);");
    let err = migrator(&[changed, later.clone()])
        .run(&db.pool)
        .await
        .unwrap_err();
    assert!(
        matches!(err, MigrateError::PartialChanged { ref name, done: 1, of: 3, .. } if name == &nt.name),
        "{err:?}"
    );
    let text = err.to_string();
    for needle in [
        "no-transaction migration `20250101000000-nt` is partly applied (1 of 3 statements ran)",
        "the statements that ran have changed since",
        "Nothing was applied",
        "resume at statement 2",
        "adopt()",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {text}");
    }
    assert_eq!(snapshot(&db.pool).await, before);
    // Made transactional: refused too (its first statement would run again).
    let mut transactional = nt.with_sql(
        "CREATE TABLE nt1 (id int);\nINSERT INTO nt1 VALUES (1);\nCREATE TABLE nt3 (id int);",
    );
    transactional.mode = spawn_runtime::TransactionMode::Transactional;
    let err = migrator(&[transactional, later])
        .run(&db.pool)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("is now a transactional migration"),
        "{err}"
    );
    assert_eq!(snapshot(&db.pool).await, before);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
