//! What can keep a `#[spawn_runtime::test]` from running its body: the server, the template,
//! the test's database or a fixture.

use std::path::PathBuf;

use crate::{ConnectError, MigrateError};

/// Why a test's database could not be prepared (or removed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestingError {
    /// No server for the tests: `DATABASE_URL` is invalid, or unset and no throwaway
    /// cluster could be started (the message says which).
    #[error("{0}")]
    Server(String),
    /// A connection could not be opened.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// A statement of the test support failed (`what` says which).
    #[error("{what}: {source}")]
    Sql {
        what: String,
        #[source]
        source: sqlx::Error,
    },
    /// The migrations were not rendered for the environment asked for.
    #[error(
        "the migrations were not compiled for environment `{environment}` (compiled: {compiled}); \
         add a target with `environment = \"{environment}\"` to spawn.toml"
    )]
    UnknownEnvironment {
        environment: String,
        compiled: String,
    },
    /// Migrating the template failed.
    #[error("migrating the template database {template} failed: {source}")]
    Migrate {
        template: String,
        #[source]
        source: Box<MigrateError>,
    },
    /// A fixture file could not be read.
    #[error("fixture {fixture} ({}) cannot be read: {source}", .path.display())]
    FixtureRead {
        /// As written in `fixtures(…)`.
        fixture: String,
        /// Where it was looked for.
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A fixture file failed in the database.
    #[error("fixture {fixture} failed in database {database}: {source}")]
    FixtureFailed {
        fixture: String,
        database: String,
        #[source]
        source: sqlx::Error,
    },
}

impl TestingError {
    pub(crate) fn sql(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Self {
        let what = what.into();
        move |source| TestingError::Sql { what, source }
    }
}
