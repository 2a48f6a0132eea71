//! Bounded connects: every connection spawn opens itself (the migrator's dedicated
//! connection, the CLI's, the test harness's) goes through [`connect`], which gives up after
//! a connect timeout (default [`DEFAULT_CONNECT_TIMEOUT`], libpq's `connect_timeout`) that
//! covers the TCP connect and the server's first answers (TLS, start-up, authentication),
//! and tells a refused connection apart from a server that does not answer.

use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgConnection};

/// How long a connect may take, up to the server's first `ReadyForQuery`, unless configured
/// (`connect_timeout` in a URL, [`Migrator::connect_timeout`](crate::Migrator::connect_timeout)).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a connection could not be opened; each names the server (`host:port`, or the socket).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The server did not complete the connection within the connect timeout.
    #[error("{server} did not answer within {timeout:?} (connect_timeout)")]
    TimedOut { server: String, timeout: Duration },
    /// Nothing listens there.
    #[error("connection refused by {server} (nothing listens there)")]
    Refused { server: String },
    /// Any other failure (authentication, unknown database, TLS, …).
    #[error("cannot connect to {server}: {source}")]
    Failed {
        server: String,
        #[source]
        source: sqlx::Error,
    },
}

impl ConnectError {
    /// The server it names (`host:port`, or `socket <path>`).
    pub fn server(&self) -> &str {
        match self {
            ConnectError::TimedOut { server, .. }
            | ConnectError::Refused { server }
            | ConnectError::Failed { server, .. } => server,
        }
    }

    /// The underlying sqlx error, for failures the server reported.
    pub fn sqlx_error(&self) -> Option<&sqlx::Error> {
        match self {
            ConnectError::Failed { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// `host:port` of `options` (`socket <path>` for a Unix socket), for messages.
pub fn server_of(options: &PgConnectOptions) -> String {
    match options.get_socket() {
        Some(socket) => format!(
            "socket {}/.s.PGSQL.{}",
            socket.display(),
            options.get_port()
        ),
        None if options.get_host().starts_with('/') => {
            format!(
                "socket {}/.s.PGSQL.{}",
                options.get_host(),
                options.get_port()
            )
        }
        None => format!("{}:{}", options.get_host(), options.get_port()),
    }
}

/// Opens one connection with `options`, giving up after `timeout` (TCP connect, start-up
/// and authentication included).
pub async fn connect(
    options: &PgConnectOptions,
    timeout: Duration,
) -> Result<PgConnection, ConnectError> {
    let server = server_of(options);
    match tokio::time::timeout(timeout, options.connect()).await {
        Err(_) => Err(ConnectError::TimedOut { server, timeout }),
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(sqlx::Error::Io(e))) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(ConnectError::Refused { server })
        }
        Ok(Err(source)) => Err(ConnectError::Failed { server, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_named_by_host_and_port() {
        let o = PgConnectOptions::new().host("db.example").port(6543);
        assert_eq!(server_of(&o), "db.example:6543");
        let o = PgConnectOptions::new().host("/run/postgresql").port(5432);
        assert_eq!(server_of(&o), "socket /run/postgresql/.s.PGSQL.5432");
    }
}
