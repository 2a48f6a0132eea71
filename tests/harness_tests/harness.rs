//! The harness gives every test its own database, and templates clone.

use spawn_tests::TestDb;

#[tokio::test]
async fn each_test_database_is_separate_and_templates_clone() {
    let a = TestDb::new("harness_a").await;
    sqlx::raw_sql("CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2)")
        .execute(&a.pool)
        .await
        .unwrap();
    a.close().await;
    let b = TestDb::from_template("harness_b", &a.name).await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(&b.pool)
        .await
        .unwrap();
    assert_eq!(n, 2);
    let c = TestDb::new("harness_c").await;
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('t') IS NOT NULL")
        .fetch_one(&c.pool)
        .await
        .unwrap();
    assert!(!exists, "a new database must not see another test's table");
}
