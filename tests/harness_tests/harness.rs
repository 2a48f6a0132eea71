//! The harness gives every test its own database, and templates clone; its connects are
//! bounded and a server it cannot use is named in the panic.

use std::net::TcpListener;

use spawn_tests::TestDb;
use sqlx::postgres::PgConnectOptions;

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

/// The panic message of `future`, run on a task of its own (which must panic).
async fn panic_of<F>(future: F) -> String
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let err = tokio::spawn(future)
        .await
        .err()
        .expect("the connect panics");
    let payload = err.into_panic();
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

fn local(port: u16) -> PgConnectOptions {
    PgConnectOptions::new()
        .host("127.0.0.1")
        .port(port)
        .username("app")
        .database("app")
}

#[tokio::test]
async fn a_refused_connect_panics_naming_the_server() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let expected = format!(
        "the test server at 127.0.0.1:{port} (database `app`, user `app`): connection refused"
    );
    let message = panic_of(async move { spawn_tests::connect::connect(&local(port)).await }).await;
    assert!(message.starts_with(&expected), "{message}");
    let message = panic_of(async move { spawn_tests::connect::pool(local(port), 1).await }).await;
    assert!(message.starts_with(&expected), "{message}");
}

#[tokio::test]
async fn a_connect_to_a_server_that_never_answers_panics_after_the_bound() {
    // Accepts connections (the kernel completes the handshake) and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let message = panic_of(async move { spawn_tests::connect::connect(&local(port)).await }).await;
    assert_eq!(
        message,
        format!(
            "the test server at 127.0.0.1:{port} (database `app`, user `app`): did not answer within {:?}",
            spawn_tests::CONNECT_TIMEOUT
        )
    );
    drop(listener);
}
