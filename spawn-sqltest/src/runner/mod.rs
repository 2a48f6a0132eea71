//! Running many tests at once, each isolated, against copies of one migrated template.
//!
//! [`run`] makes sure the template is up to date ([`template`]) and hands out the tests to
//! workers. A worker runs a test inside a transaction it rolls back afterwards, then resets
//! what a rollback does not undo (session state with `DISCARD ALL`, sequences with
//! `setval`) in the same round trip, so the database is exactly as before for the next test.
//! The first worker does this in the template itself, so a run of a few hundred tests
//! creates no database at all (copying one costs tens to hundreds of milliseconds); larger
//! runs add a worker per [`TESTS_PER_EXTRA_WORKER`] tests (up to `jobs`), each in a copy of
//! its own, as concurrent tests in one database would share its sequences. A test that
//! needs more ([`isolation`]) runs in autocommit in a fresh copy of its own, made ahead of
//! time when that is known from its text and after the others otherwise. Every copy is
//! dropped at the end, also when the run fails or is interrupted; with
//! [`RunConfig::keep_failed`] a failed test is run again in a copy that is kept.
//!
//! Tests of a migration's data change run through their own entry point,
//! [`migration_tests::run_migration_tests`], each in a copy of a template migrated up to
//! just before its migration.

mod databases;
pub mod isolation;
pub mod migration_tests;
pub mod template;
mod worker;

use std::collections::BTreeSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use spawn_runtime::Migrator;
use sqlx::postgres::PgConnectOptions;

use crate::wire::{ConnectTarget, WireError};
pub use databases::Admin;
pub use migration_tests::{run_migration_tests, MigrationTestCase};
pub use template::TemplateState;
pub use worker::TESTS_PER_EXTRA_WORKER;

/// One test to run.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// Its name (the `tests/<name>` folder).
    pub name: String,
    /// The rendered SQL.
    pub sql: String,
    /// The expected output, when there is one to compare with.
    pub expected: Option<String>,
}

/// How a test was isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// In a transaction rolled back afterwards.
    Transaction,
    /// In a copy of the template of its own.
    OwnDatabase,
}

/// What became of one test.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// The test's name.
    pub name: String,
    /// What psql would have printed.
    pub output: String,
    /// The expected output it was compared with, if any.
    pub expected: Option<String>,
    /// Whether it matched the expected output (`None`: nothing to compare with).
    pub passed: Option<bool>,
    /// How it was isolated.
    pub isolation: Isolation,
    /// How long it ran.
    pub duration: Duration,
    /// The database kept for it ([`RunConfig::keep_failed`]).
    pub kept_database: Option<String>,
}

/// Where and how to run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// How the run connects: as given for its maintenance connection (a role that may
    /// create databases), with the database replaced for each copy.
    pub connect: ConnectTarget,
    /// The same server for sqlx, which the migrator uses to build the template (the
    /// database is replaced by the template's).
    pub migrate_with: PgConnectOptions,
    /// The template's name (stable for a project and environment, so runs reuse it).
    pub template: String,
    /// The environment the migrations are applied for (part of the fingerprint).
    pub environment: String,
    /// Parallel workers.
    pub jobs: usize,
    /// Keep the database of each failed test and name it in its outcome.
    pub keep_failed: bool,
    /// Run every test in a copy of its own, in autocommit (slower; what psql would do on a
    /// fresh database each time), instead of choosing per test.
    pub always_own_database: bool,
}

/// Why a run could not be carried out (a test failing is not an error).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{doing}: {message}{}", privilege_hint(code))]
    Server {
        doing: String,
        code: String,
        message: String,
    },
    #[error("migrating the test template {template}: {message}")]
    Migrate { template: String, message: String },
    #[error("migrating the test template {template}: {source}")]
    MigrateConnect {
        template: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("test {test}: {source}")]
    Wire {
        test: String,
        #[source]
        source: WireError,
    },
    #[error("test {test}: resetting its database failed: {message}")]
    Reset { test: String, message: String },
    #[error("{file}: line {line}: {message}")]
    Script {
        file: String,
        line: usize,
        message: String,
    },
    #[error("interrupted; the test databases were dropped")]
    Interrupted,
    #[error("{test}: there is no migration {migration} to test")]
    NoSuchMigration { test: String, migration: String },
    #[error("{test}: {file} failed, so the migration was not applied:\n{message}")]
    Before {
        test: String,
        file: String,
        message: String,
    },
    #[error("{test}: applying migration {migration} failed: {message}")]
    MigrationUnderTest {
        test: String,
        migration: String,
        message: String,
    },
}

/// The privilege to ask for when the server refused one.
fn privilege_hint(code: &str) -> &'static str {
    match code {
        "42501" => {
            " (spawn test needs a role with CREATEDB: `ALTER ROLE <you> CREATEDB`, or run against the project-local server with `spawn db start`)"
        }
        _ => "",
    }
}

/// The databases a run has created and not dropped yet.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiveDatabases(Arc<Mutex<BTreeSet<String>>>);

impl LiveDatabases {
    pub(crate) fn add(&self, name: &str) {
        self.lock().insert(name.to_owned());
    }

    pub(crate) fn remove(&self, name: &str) {
        self.lock().remove(name);
    }

    fn take_all(&self) -> Vec<String> {
        std::mem::take(&mut *self.lock()).into_iter().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A run's unique prefix for the databases it creates.
fn run_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("spawn_test_{}_{nanos:08x}", std::process::id())
}

/// Runs `tests` (see the module documentation), calling `on_outcome` as each finishes, and
/// stops early when `stop` completes (e.g. Ctrl-C), dropping every database it made.
pub async fn run(
    config: &RunConfig,
    migrator: &Migrator,
    fingerprint: &str,
    tests: Vec<TestCase>,
    on_outcome: impl FnMut(&TestOutcome) + Send,
    stop: impl Future<Output = ()>,
) -> Result<(Vec<TestOutcome>, TemplateState), RunError> {
    let live = LiveDatabases::default();
    let mut admin = Admin::connect(&config.connect).await?;
    // Held until this connection closes: one run at a time builds, uses and copies it.
    admin.lock_template(&config.template).await?;
    let result = tokio::select! {
        result = run_all(config, &mut admin, migrator, fingerprint, tests, on_outcome, &live) => result,
        () = stop => Err(RunError::Interrupted),
    };
    // Whatever happened, drop what is left and close the template again (on a connection
    // of its own: the first may have been interrupted mid-statement).
    let mut cleanup = Admin::connect(&config.connect).await?;
    for name in live.take_all() {
        cleanup.drop_database(&name).await?;
    }
    if cleanup.database_comment(&config.template).await?.is_some() {
        cleanup.allow_connections(&config.template, false).await?;
    }
    cleanup.close().await;
    admin.close().await;
    result
}

async fn run_all(
    config: &RunConfig,
    admin: &mut Admin,
    migrator: &Migrator,
    fingerprint: &str,
    tests: Vec<TestCase>,
    on_outcome: impl FnMut(&TestOutcome) + Send,
    live: &LiveDatabases,
) -> Result<(Vec<TestOutcome>, TemplateState), RunError> {
    let (state, info) = template::prepare(
        admin,
        &config.template,
        fingerprint,
        migrator,
        &config.connect,
        &config.migrate_with,
    )
    .await?;
    let plan = worker::Plan::new(config, &tests);
    let outcomes = plan
        .run(config, admin, &info, &run_prefix(), tests, on_outcome, live)
        .await?;
    Ok((outcomes, state))
}

/// The default database name of a project's template for `environment`: stable, so runs
/// reuse it, and distinct per project folder and environment.
pub fn template_name(project_dir: &std::path::Path, environment: &str) -> String {
    use sha2::{Digest, Sha256};
    let dir: PathBuf = project_dir
        .canonicalize()
        .unwrap_or_else(|_| project_dir.to_owned());
    let mut hash = Sha256::new();
    hash.update(dir.to_string_lossy().as_bytes());
    hash.update([0]);
    hash.update(environment.as_bytes());
    let digest = hex::encode(hash.finalize());
    format!("spawn_test_template_{}", &digest[..16])
}
