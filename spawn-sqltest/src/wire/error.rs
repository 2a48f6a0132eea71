//! [`WireError`]: everything that can go wrong between the client and the server, each
//! variant naming the server it happened with.

use std::time::Duration;

use crate::message::ServerMessage;

/// A failure of the wire client. SQL errors of a query are not failures: they are
/// [`QueryEvent::Error`](super::QueryEvent::Error) events and the connection stays usable.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The connection URL could not be understood.
    #[error("invalid connection URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given (passwords included, as the caller wrote them).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The target asks for TLS, which this client does not speak.
    #[error(
        "sslmode={mode} asks for TLS: TLS is not supported by the test runner yet \
         (use sslmode=disable, allow or prefer)"
    )]
    TlsRequested {
        /// The requested `sslmode`.
        mode: String,
    },
    /// Reading from or writing to the server failed.
    #[error("{action} {endpoint}: {source}")]
    Io {
        /// What was being done (`connecting to`, `reading from`, …).
        action: &'static str,
        /// The server's address or socket path.
        endpoint: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Connecting (including authentication and startup) took longer than allowed.
    #[error("connecting to {endpoint} timed out after {}s (connect_timeout)", timeout.as_secs_f64())]
    ConnectTimeout {
        /// The server's address or socket path.
        endpoint: String,
        /// The bound that ran out.
        timeout: Duration,
    },
    /// The server rejected the credentials (or required ones that were not given).
    #[error("authentication as {user:?} at {endpoint} failed: {message}")]
    Auth {
        /// The server's address or socket path.
        endpoint: String,
        /// The user name sent.
        user: String,
        /// The server's message, or why the client could not answer the challenge.
        message: String,
        /// The server's full error, when the server sent one.
        server: Option<Box<ServerMessage>>,
    },
    /// The server refused the session for another reason (e.g. the database does not exist).
    #[error("the server at {endpoint} refused the connection: {} (SQLSTATE {})", server.message, server.code)]
    Rejected {
        /// The server's address or socket path.
        endpoint: String,
        /// The server's error.
        server: Box<ServerMessage>,
    },
    /// The server asked for an authentication method this client does not implement.
    #[error("the server at {endpoint} asks for {method} authentication, which is not supported")]
    UnsupportedAuth {
        /// The server's address or socket path.
        endpoint: String,
        /// The method's name.
        method: &'static str,
    },
    /// The server sent something the protocol does not allow at that point.
    #[error("protocol violation by the server at {endpoint}: {detail}")]
    Protocol {
        /// The server's address or socket path.
        endpoint: String,
        /// What was unexpected.
        detail: String,
    },
    /// The server closed the connection.
    #[error(
        "the server at {endpoint} closed the connection{}",
        match fatal {
            Some(fatal) => format!(": {} (SQLSTATE {})", fatal.message, fatal.code),
            None => " unexpectedly".to_string(),
        }
    )]
    Closed {
        /// The server's address or socket path.
        endpoint: String,
        /// The FATAL error the server sent before closing, if any (e.g. SQLSTATE 57P01 when
        /// an administrator terminated the session).
        fatal: Option<Box<ServerMessage>>,
    },
    /// An earlier query call on this connection did not read its whole answer (it was
    /// dropped, e.g. by a timeout, or failed), so answers would be out of step with queries.
    #[error(
        "the connection to {endpoint} is unusable: an earlier query call did not read its \
         whole answer (it was abandoned or failed)"
    )]
    OutOfStep {
        /// The server's address or socket path.
        endpoint: String,
    },
    /// A query text or startup parameter cannot be sent: it contains a NUL byte.
    #[error("the {what} cannot be sent: it contains a NUL byte")]
    NulByte {
        /// What could not be sent (`query`, `startup parameters`).
        what: &'static str,
    },
}

impl WireError {
    /// The SQLSTATE of the server's error behind this failure, if there is one.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            WireError::Auth {
                server: Some(server),
                ..
            }
            | WireError::Rejected { server, .. }
            | WireError::Closed {
                fatal: Some(server),
                ..
            } => Some(&server.code),
            _ => None,
        }
    }
}
