//! `#[spawn_runtime::test]`: async tests against a fresh, migrated database (feature
//! `testing`).
//!
//! Enable the feature under `[dev-dependencies]` only, so the application itself gains
//! nothing (no throwaway-cluster code, no function parser):
//!
//! ```toml
//! [dependencies]
//! spawn-runtime = { path = "…/spawn-runtime" }
//! [dev-dependencies]
//! spawn-runtime = { path = "…/spawn-runtime", features = ["testing"] }
//! ```
//!
//! Then, in a test file of a crate whose `build.rs` runs `spawn_build::compile()`:
//!
//! ```no_run
//! use spawn_runtime::sqlx::postgres::PgConnectOptions;
//! use spawn_runtime::sqlx::{self, PgConnection, PgPool};
//!
//! # static MIGRATIONS: spawn_runtime::Migrations =
//! #     spawn_runtime::Migrations::__from_embedded(&[], "dev", "_spawn");
//! # /*
//! static MIGRATIONS: spawn_runtime::Migrations = spawn_runtime::embed_migrations!();
//! # */
//!
//! #[spawn_runtime::test]
//! async fn counts_orchards(pool: PgPool) {
//!     let n: i64 = sqlx::query_scalar("SELECT count(*) FROM orchard")
//!         .fetch_one(&pool)
//!         .await
//!         .unwrap();
//!     assert_eq!(n, 0);
//! }
//!
//! #[spawn_runtime::test(env = "dev", fixtures("tests/fixtures/orchards.sql"))]
//! async fn with_seed_data(mut conn: PgConnection) -> Result<(), sqlx::Error> {
//!     sqlx::query("DELETE FROM orchard").execute(&mut conn).await?;
//!     Ok(())
//! }
//!
//! #[spawn_runtime::test(migrations = false)]
//! async fn empty_database(options: PgConnectOptions) {
//!     println!("connect to {:?} yourself", options.get_database());
//! }
//! # fn main() {}
//! ```
//!
//! # What a test gets
//!
//! * **A database of its own**, named `spawn_test_<function>_<pid>_<n>`, cloned with
//!   `CREATE DATABASE … TEMPLATE` from the crate's *template* (a file copy on the server, a few
//!   milliseconds, however many migrations there are; copies for the next tests are made
//!   ahead of time, in the background, and renamed when a test takes one; those no test takes
//!   are cancelled or dropped when the process exits), then the `fixtures(…)` applied in order
//!   (SQL files relative to the crate's `Cargo.toml`; a missing one fails the test naming it,
//!   before any database is made).
//! * **The argument it asks for**: a `PgPool` (closed when the test ends), a `PgConnection` or
//!   the `PgConnectOptions` of that database. Return `()` or a `Result`; an `Err` fails the
//!   test.
//! * **Drop on pass, keep on fail**: when the body returns normally (`Ok` for a `Result`) the
//!   database is dropped, in the background while the next test runs (the process waits for
//!   those drops when it exits, see [`finish_background_work`], and keeps up to 4 finished
//!   copies of the template ready for the next test binary); when it panics or returns
//!   `Err`, it is kept and its URL printed with the test's output, to look at with psql.
//!
//! # The template
//!
//! The migrations are `crate::MIGRATIONS` (the crate root's `static MIGRATIONS`, as above;
//! another with `migrations = path::TO_THEM`, none with `migrations = false`), rendered for
//! `env = "…"`, else `SPAWN_ENV`, else the build's default target's environment. The template
//! is named from the package, its folder and the environment ([`template_name`]) and its
//! `COMMENT ON DATABASE` is the [`fingerprint`] of the migrations (each name and SHA-256
//! checksum) and environment, and of the SQL callbacks it runs, if any
//! ([`fingerprint_with_callbacks`]). [`prepare_template`] reuses it while the fingerprint matches,
//! across test binaries and runs, and rebuilds it when a migration changes; concurrent
//! binaries wait on an advisory lock and build it once; the tests of one binary share one
//! check or build.
//!
//! # The server
//!
//! `DATABASE_URL` (its role needs `CREATEDB`), else a throwaway cluster from the PostgreSQL
//! binaries on the machine (spawn-localdb), started by the first test of the binary and removed
//! when the process exits ([`server`]).
//!
//! # Without the attribute
//!
//! The attribute expands to a `#[test]` calling [`run_test`]; [`run_test_async`] does the
//! same inside a runtime you already have and returns the [`TestOutcome`] instead of failing:
//!
//! ```no_run
//! use spawn_runtime::sqlx::PgPool;
//! use spawn_runtime::testing::{run_test_async, TestConfig};
//!
//! # async fn f() -> Result<(), spawn_runtime::testing::TestingError> {
//! let config = TestConfig {
//!     test: "demo::fails_on_purpose",
//!     package: env!("CARGO_PKG_NAME"),
//!     manifest_dir: env!("CARGO_MANIFEST_DIR"),
//!     migrations: None,
//!     env: None,
//!     fixtures: &[],
//! };
//! let outcome = run_test_async(config, |_pool: PgPool| async { Err::<(), _>("on purpose") }).await?;
//! assert!(!outcome.passed() && outcome.kept());
//! println!("kept {}", outcome.database());
//! # Ok(()) }
//! ```

mod argument;
mod background;
mod database;
mod error;
mod fixtures;
mod run;
mod server;
mod template;

pub use argument::{TestArgument, TestResult};
pub use background::finish_background_work;
pub use database::{
    clone_database, drop_database, drop_template, ready_prefix, unique_database_name,
};
pub use error::TestingError;
pub use fixtures::{apply_fixtures, read_fixtures, Fixture};
pub use run::{run_test, run_test_async, TestConfig, TestOutcome};
pub use server::{server, TestServer};
pub use template::{
    advance_template, fingerprint, fingerprint_with_callbacks, prepare_template, template_name,
    TemplateAdvance, TemplateState,
};

/// Items used by the code `#[spawn_runtime::test]` generates. Not a public API.
#[doc(hidden)]
pub mod __private {
    /// Fails to compile, pointing at the argument's type, unless it is a [`TestArgument`](super::TestArgument).
    pub fn assert_argument<A: super::TestArgument>() {}
    /// Fails to compile, pointing at the return type, unless it is a [`TestResult`](super::TestResult).
    pub fn assert_result<R: super::TestResult>() {}
}
