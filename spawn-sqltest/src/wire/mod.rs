//! A minimal PostgreSQL client on the simple query protocol that keeps everything psql
//! shows: result columns even of empty results, command tags, notices, errors with every
//! field, notifications and `COPY … TO STDOUT` data.
//!
//! - [`ConnectTarget`]: where and as whom to connect (built, from a URL, or from sqlx options);
//! - [`Connection`]: connect (trust, password, md5, SCRAM-SHA-256; no TLS), run queries
//!   ([`Connection::simple_query`], [`Connection::simple_query_with`],
//!   [`Connection::pipeline`]), cancel;
//! - [`QueryEvent`]: what the server answered, in order;
//! - [`WireError`]: failures of the connection itself (SQL errors are events).
//!
//! Message encoding and parsing, and the password hashing, are the `postgres-protocol`
//! crate's.

mod auth;
mod connection;
mod error;
mod fields;
mod query;
mod target;
mod transport;
mod url;

pub use connection::{CancelToken, Connection, TransactionStatus};
pub use error::WireError;
pub use query::{QueryEvent, COPY_FROM_STDIN_REFUSAL};
pub use target::{ConnectTarget, Host, DEFAULT_APPLICATION_NAME, DEFAULT_CONNECT_TIMEOUT};
