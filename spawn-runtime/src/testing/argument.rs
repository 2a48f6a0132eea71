//! What a `#[spawn_runtime::test]` function may take ([`TestArgument`]: a pool, a connection
//! or the connect options of its database) and return ([`TestResult`]: `()` or a `Result`).

use std::fmt::Debug;
use std::future::Future;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool};

use super::TestingError;
use crate::connect::connect;
use crate::DEFAULT_CONNECT_TIMEOUT;

/// A handle on the test's database that a test function can take.
#[diagnostic::on_unimplemented(
    message = "a #[spawn_runtime::test] function cannot take `{Self}`",
    label = "not a database handle",
    note = "take `PgPool`, `PgConnection` or `PgConnectOptions` (from `spawn_runtime::sqlx`)"
)]
pub trait TestArgument: Sized + Send + 'static {
    /// Opens the handle on the database of `options`; also returns the pool to close when
    /// the test ends, if one was made.
    fn provide(
        options: PgConnectOptions,
    ) -> impl Future<Output = Result<(Self, Option<PgPool>), TestingError>> + Send;
}

impl TestArgument for PgPool {
    async fn provide(options: PgConnectOptions) -> Result<(Self, Option<PgPool>), TestingError> {
        let database = options.get_database().unwrap_or_default().to_string();
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .connect_with(options)
            .await
            .map_err(TestingError::sql(format!(
                "connecting a pool to test database {database}"
            )))?;
        Ok((pool.clone(), Some(pool)))
    }
}

impl TestArgument for PgConnection {
    async fn provide(options: PgConnectOptions) -> Result<(Self, Option<PgPool>), TestingError> {
        Ok((connect(&options, DEFAULT_CONNECT_TIMEOUT).await?, None))
    }
}

impl TestArgument for PgConnectOptions {
    async fn provide(options: PgConnectOptions) -> Result<(Self, Option<PgPool>), TestingError> {
        Ok((options, None))
    }
}

/// What a test function returns: `()`, or a `Result` whose `Err` fails the test.
#[diagnostic::on_unimplemented(
    message = "a #[spawn_runtime::test] function cannot return `{Self}`",
    label = "return `()` or `Result<T, E>` with `E: Debug`"
)]
pub trait TestResult {
    /// `None` when the test passed, else why it failed.
    fn failure(&self) -> Option<String>;
}

impl TestResult for () {
    fn failure(&self) -> Option<String> {
        None
    }
}

impl<T, E: Debug> TestResult for Result<T, E> {
    fn failure(&self) -> Option<String> {
        self.as_ref()
            .err()
            .map(|e| format!("the test returned Err({e:?})"))
    }
}
