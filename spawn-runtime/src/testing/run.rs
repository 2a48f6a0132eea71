//! One test: its database cloned from the template (built first if needed), fixtures
//! applied, the body run with panics caught, then the database dropped when the test
//! passed or kept, with its name printed, when it failed.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use futures_util::FutureExt;

use super::argument::{TestArgument, TestResult};
use super::background::{drop_later, take_clone};
use super::database::{drop_database, unique_database_name};
use super::fixtures::{apply_fixtures, read_fixtures};
use super::server::{server, TestServer};
use super::template::{fingerprint_with_callbacks, prepare_template, template_name};
use super::TestingError;
use crate::Migrations;

/// What `#[spawn_runtime::test]` passes to [`run_test`]; write one by hand to run a test
/// body without the attribute.
#[derive(Debug, Clone, Copy)]
pub struct TestConfig {
    /// The test's path (`module::name`), for the database's name and messages.
    pub test: &'static str,
    /// The crate's package name (`CARGO_PKG_NAME`): with `manifest_dir` and the environment,
    /// it names the template.
    pub package: &'static str,
    /// The crate's folder (`CARGO_MANIFEST_DIR`): fixtures are relative to it.
    pub manifest_dir: &'static str,
    /// The migrations of the template; `None` for an empty database.
    pub migrations: Option<&'static Migrations>,
    /// The environment whose renders are applied: `None` for `SPAWN_ENV`, else the build's
    /// default target's.
    pub env: Option<&'static str>,
    /// SQL files applied after the migrations, relative to `manifest_dir`.
    pub fixtures: &'static [&'static str],
}

/// How a test ended, and what became of its database.
#[must_use]
pub struct TestOutcome {
    database: String,
    url: String,
    kept: bool,
    failure: Option<Failure>,
}

enum Failure {
    Panicked(Box<dyn Any + Send>),
    Returned(String),
}

impl std::fmt::Debug for TestOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestOutcome")
            .field("database", &self.database)
            .field("kept", &self.kept)
            .field("failure", &self.failure_message())
            .finish()
    }
}

impl TestOutcome {
    /// Whether the body returned normally (and `Ok`, for a `Result`).
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }

    /// The test's database name.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The database's URL (without a password).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the database was kept (the test failed) rather than dropped.
    pub fn kept(&self) -> bool {
        self.kept
    }

    /// The panic message or returned error of a failed test.
    pub fn failure_message(&self) -> Option<String> {
        match &self.failure {
            None => None,
            Some(Failure::Returned(message)) => Some(message.clone()),
            Some(Failure::Panicked(payload)) => Some(
                payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "the test panicked".to_string()),
            ),
        }
    }

    /// Returns for a passed test; fails like the test did otherwise (resuming its panic).
    pub fn finish(self) {
        match self.failure {
            None => {}
            Some(Failure::Panicked(payload)) => std::panic::resume_unwind(payload),
            Some(Failure::Returned(message)) => panic!("{message}"),
        }
    }
}

/// Runs a test body on a runtime of its own (what `#[spawn_runtime::test]` expands to):
/// [`run_test_async`], then [`TestOutcome::finish`]. Panics, naming the test, when its
/// database cannot be prepared or dropped.
pub fn run_test<A, F, Fut>(config: TestConfig, body: F)
where
    A: TestArgument,
    F: FnOnce(A) -> Fut,
    Fut: Future,
    Fut::Output: TestResult,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{}: cannot start a tokio runtime: {e}", config.test));
    match runtime.block_on(run_test_async(config, body)) {
        Ok(outcome) => outcome.finish(),
        Err(e) => panic!("{}: {e}", config.test),
    }
}

/// Prepares the test's database, runs `body` on it catching panics, and drops the database
/// if the test passed (in the background: [`finish_background_work`](super::finish_background_work)
/// waits for it) or keeps it (printing its name) if not. `Err` when the database could not
/// be prepared (nothing is left behind then).
pub async fn run_test_async<A, F, Fut>(
    config: TestConfig,
    body: F,
) -> Result<TestOutcome, TestingError>
where
    A: TestArgument,
    F: FnOnce(A) -> Fut,
    Fut: Future,
    Fut::Output: TestResult,
{
    let server = server()?;
    let fixtures = read_fixtures(config.manifest_dir, config.fixtures)?;
    let source = match config.migrations {
        Some(migrations) => ensure_template(server, &config, migrations).await?,
        None => "template0".to_string(),
    };
    let database = unique_database_name(config.test);
    let admin = server.admin_options();
    take_clone(admin, &source, &database).await?;
    let options = server.options(&database);
    let prepared = async {
        apply_fixtures(&options, &database, &fixtures).await?;
        A::provide(options.clone()).await
    }
    .await;
    let (argument, pool) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            drop_database(admin, &database).await?;
            return Err(e);
        }
    };

    let result = AssertUnwindSafe(body(argument)).catch_unwind().await;
    if let Some(pool) = pool {
        pool.close().await;
    }
    let failure = match result {
        Err(payload) => Some(Failure::Panicked(payload)),
        Ok(output) => output.failure().map(Failure::Returned),
    };
    let url = server.display_url(&database);
    let kept = failure.is_some();
    if kept {
        eprintln!(
            "{}: failed; its database is kept for inspection: {url} (drop it with \
             `DROP DATABASE \"{database}\"`)",
            config.test
        );
    } else {
        drop_later(admin, &database).await?;
    }
    Ok(TestOutcome {
        database,
        url,
        kept,
        failure,
    })
}

/// The template of `config`'s crate and environment, built (or found up to date) once per
/// process: concurrent tests of the binary wait for the one build.
async fn ensure_template(
    server: &TestServer,
    config: &TestConfig,
    migrations: &'static Migrations,
) -> Result<String, TestingError> {
    let env_var = std::env::var("SPAWN_ENV").ok().filter(|e| !e.is_empty());
    let environment = config
        .env
        .map(str::to_string)
        .or(env_var)
        .unwrap_or_else(|| migrations.default_environment().to_string());
    let rendered = migrations.for_environment(&environment).ok_or_else(|| {
        TestingError::UnknownEnvironment {
            environment: environment.clone(),
            compiled: migrations.environments().join(", "),
        }
    })?;
    let name = template_name(config.package, config.manifest_dir, &environment);
    let callbacks = migrations
        .callbacks(&environment)
        .unwrap_or(&crate::Callbacks::NONE);
    let fingerprint = fingerprint_with_callbacks(&rendered, callbacks, &environment);

    type Cells = Mutex<HashMap<String, Arc<tokio::sync::OnceCell<()>>>>;
    static BUILT: OnceLock<Cells> = OnceLock::new();
    let cell = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(format!("{name}:{fingerprint}"))
        .or_default()
        .clone();
    cell.get_or_try_init(|| async {
        let migrator = migrations.migrator().environment(&environment);
        prepare_template(server.admin_options(), &name, &fingerprint, &migrator)
            .await
            .map(drop)
    })
    .await?;
    Ok(name)
}
