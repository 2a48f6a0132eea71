//! Bounded connects: a server that accepts TCP connections but never answers fails the run
//! within its connect timeout, and a refused connection is reported as refused at once;
//! both name `host:port`.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use spawn_runtime::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use spawn_runtime::{ConnectError, MigrateError, Migrator};

use crate::common::Mig;

/// A listener on 127.0.0.1 that accepts connections (the kernel completes the handshake)
/// and never answers; its port.
pub fn silent_server() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    (listener, port)
}

/// A port where nothing listens: bound, then closed.
pub fn closed_port() -> u16 {
    let (listener, port) = silent_server();
    drop(listener);
    port
}

fn lazy_pool(port: u16) -> spawn_runtime::sqlx::PgPool {
    let options = PgConnectOptions::new()
        .host("127.0.0.1")
        .port(port)
        .username("app")
        .database("app");
    PgPoolOptions::new().connect_lazy_with(options)
}

fn migrator() -> Migrator {
    Migrator::new(vec![
        Mig::new("0001-a", "CREATE TABLE a (id int);").migration()
    ])
}

#[tokio::test]
async fn a_server_that_never_answers_fails_the_run_within_the_connect_timeout() {
    let (_listener, port) = silent_server();
    let timeout = Duration::from_secs(1);
    let started = Instant::now();
    let err = migrator()
        .connect_timeout(timeout)
        .run(&lazy_pool(port))
        .await
        .expect_err("nothing answers");
    assert!(
        started.elapsed() < 10 * timeout,
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            &err,
            MigrateError::Connect { source: ConnectError::TimedOut { timeout: t, .. }, .. } if *t == timeout
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(message.contains("did not answer within 1s"), "{message}");
}

#[tokio::test]
async fn a_refused_connection_is_reported_as_refused() {
    let port = closed_port();
    let err = migrator()
        .run(&lazy_pool(port))
        .await
        .expect_err("nothing listens");
    assert!(
        matches!(
            &err,
            MigrateError::Connect {
                source: ConnectError::Refused { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&format!("connection refused by 127.0.0.1:{port}")),
        "{message}"
    );
}
