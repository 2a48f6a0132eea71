//! Errors of inspection and diffing.

/// An error while connecting to or reading a database.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// Connecting to one of the databases failed.
    #[error("cannot connect to the {which} database ({url}): {source}")]
    Connect {
        /// `FROM` or `TO`.
        which: &'static str,
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
    /// Unsafe statements were found and `allow_unsafe` is off (see [`crate::Plan::check_safe`]).
    #[error("{count} unsafe statement(s) refused (use --unsafe to allow them):\n{list}")]
    Unsafe {
        /// How many statements were refused.
        count: usize,
        /// One line per refused statement, with its reason.
        list: String,
    },
}
