//! Bounded connects of the harness: every connection a test opens to the test server goes
//! through [`connect`] or [`pool`], which give up after [`CONNECT_TIMEOUT`] (the TCP connect
//! and the server's start-up answers; a pool: [`ACQUIRE_TIMEOUT`]) and panic with a message that names the server
//! (`host:port`, or the socket) and the database, telling a refused connection apart from a
//! server that does not answer.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgConnection, PgPool};

/// Bound of every connect of the harness (a connect, or the wait for a pooled connection:
/// the pools' `acquire_timeout` is a few times this, as parallel tests share the server).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `host:port` of `options` (`socket <dir>:<port>` for a Unix socket), for messages.
pub fn server_of(options: &PgConnectOptions) -> String {
    match options.get_socket() {
        Some(dir) => format!("socket {}:{}", dir.display(), options.get_port()),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    }
}

/// A refused connection, for messages.
const REFUSED: &str = "connection refused (is the server running? DATABASE_URL, if set, names it)";

/// What went wrong with a connect to `options`, naming the server and database.
fn failure(options: &PgConnectOptions, what: &str) -> String {
    format!(
        "the test server at {} (database `{}`, user `{}`): {what}",
        server_of(options),
        options.get_database().unwrap_or("(default)"),
        options.get_username()
    )
}

/// One connection with `options`, bounded by [`CONNECT_TIMEOUT`].
///
/// # Panics
/// When the server refuses, does not answer within the bound, or rejects the connection;
/// the message names the server and the database.
pub async fn connect(options: &PgConnectOptions) -> PgConnection {
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Err(_) => panic!(
            "{}",
            failure(
                options,
                &format!("did not answer within {CONNECT_TIMEOUT:?}")
            )
        ),
        Ok(Ok(conn)) => conn,
        Ok(Err(sqlx::Error::Io(e))) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            panic!("{}", failure(options, REFUSED))
        }
        Ok(Err(e)) => panic!("{}", failure(options, &format!("cannot connect: {e}"))),
    }
}

/// How long a pool waits for a connection (opening one, or one to be free): a few times
/// [`CONNECT_TIMEOUT`], as parallel tests share the server.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3 * CONNECT_TIMEOUT.as_secs());

/// A pool of up to `max_connections` with `options`: one bounded [`connect`] first, so a
/// server that refuses or does not answer is reported as such within [`CONNECT_TIMEOUT`]
/// (the pool itself retries a refused connect until its timeout), then the pool, whose
/// connects and waits for a free connection are bounded by [`ACQUIRE_TIMEOUT`]. (A pool
/// connect that finds the probe's backend still counted against a connection limit is
/// retried by sqlx: `too_many_connections` is transient while connecting.)
///
/// # Panics
/// As [`connect`], and when the pool cannot open its first connection; the message names
/// the server and the database.
pub async fn pool(options: PgConnectOptions, max_connections: u32) -> PgPool {
    use sqlx::Connection as _;
    let probe = connect(&options).await;
    // Closing politely is a courtesy: the pool below opens its own connections.
    let _ = probe.close().await;
    let result = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.clone())
        .await;
    match result {
        Ok(pool) => pool,
        Err(sqlx::Error::PoolTimedOut) => panic!(
            "{}",
            failure(
                &options,
                &format!("no connection within {ACQUIRE_TIMEOUT:?} (the server did not answer)")
            )
        ),
        Err(sqlx::Error::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            panic!("{}", failure(&options, REFUSED))
        }
        Err(e) => panic!("{}", failure(&options, &format!("cannot connect: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_named_by_host_and_port() {
        let options = PgConnectOptions::new().host("db.example").port(6543);
        assert_eq!(server_of(&options), "db.example:6543");
    }
}
