//! Errors of inspection and diffing.

use std::fmt;

/// One of the two databases of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The database as it is: the plan starts from its schema (`from` of [`crate::diff_urls`]).
    Source,
    /// The database as it should be: the plan ends at its schema (`to` of
    /// [`crate::diff_urls`]).
    Target,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Source => "source",
            Side::Target => "target",
        })
    }
}

/// An error while connecting to or reading a database.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// Connecting to one of the databases failed.
    #[error("cannot connect to the {side} database ({url}): {source}")]
    Connect {
        /// Which of the two databases.
        side: Side,
        /// The URL, without its password.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A catalog query failed.
    #[error("inspecting {what}: {source}")]
    Query {
        /// The object kind whose query failed.
        what: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The server is older than PostgreSQL 13.
    #[error("PostgreSQL {0} is not supported (13 or later is needed)")]
    UnsupportedVersion(i32),
    /// An inspection task panicked or was cancelled.
    #[error("inspection task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
    /// Diffing failed.
    #[error(transparent)]
    Diff(#[from] DiffError),
}

/// An error while computing a plan.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// Unsafe statements were found and [`crate::Options::allow_unsafe`] is off (see
    /// [`crate::Plan::check_safe`]).
    #[error("{count} statement(s) may lose data and were refused (allow_unsafe is off):\n{list}")]
    Unsafe {
        /// How many statements were refused.
        count: usize,
        /// One line per refused statement, with its reason.
        list: String,
    },
}
