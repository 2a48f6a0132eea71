//! Tests of a migration's data change (`migrations/<name>/test.sql`).
//!
//! Each such test needs the database as it was just before its migration, so it has a
//! template of its own: the migrations that sort before it, applied for the run's
//! environment, cached on the server like the run's template ([`super::template`]: its
//! comment records the fingerprint of that prefix, so it is rebuilt only when one of those
//! migrations changes). Its name is the run's template's followed by a short hash of the
//! migration's name, so it is stable per migration. Then, in a copy of it:
//!
//! 1. `before.sql` (optional) runs as psql would run it, with `ON_ERROR_STOP`; its output is
//!    not compared, and an error in it fails the run naming the file and the server's
//!    message;
//! 2. the migration itself is applied by a [`Migrator`] over the prefix and the migration
//!    (the prefix is recorded as applied already, so only the migration runs);
//! 3. `test.sql` runs in autocommit and its output is compared with the expected one.
//!
//! The tests run in parallel, up to [`RunConfig::jobs`] at once. Every copy is dropped at the
//! end, also when the run fails or is interrupted; with [`RunConfig::keep_failed`] the copy
//! of a failed test is kept and named in its outcome.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use spawn_runtime::{Migration, Migrator};
use sqlx::postgres::PgPoolOptions;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use super::databases::Admin;
use super::worker::outcome_in_copy;
use super::{run_prefix, template, LiveDatabases, RunConfig, RunError, TestCase, TestOutcome};
use crate::psql::session::{run_script, Ending, ScriptRun, SessionError, TransactionEmulation};
use crate::wire::{Connection, WireError};

/// One migration test to run.
#[derive(Debug, Clone)]
pub struct MigrationTestCase {
    /// Its name in reports (`migration:<name>`).
    pub name: String,
    /// The migration whose data change it tests (its folder name).
    pub migration: String,
    /// The rendered `before.sql`, run before the migration, when there is one.
    pub before: Option<String>,
    /// The rendered `test.sql`, run after the migration.
    pub sql: String,
    /// The expected output of `sql`, when there is one to compare with.
    pub expected: Option<String>,
}

/// The name of the template holding the migrations before `migration`, derived from the
/// run's template `base` (at most 63 bytes, PostgreSQL's limit for a name).
pub fn prefix_template_name(base: &str, migration: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(migration.as_bytes()));
    let suffix = format!("_m{}", &digest[..10]);
    let mut keep = base.len().min(63 - suffix.len());
    while !base.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}{suffix}", &base[..keep])
}

/// Runs `tests` (see the module documentation) against `migrations` (every migration of
/// the project, rendered for [`RunConfig::environment`]); `configure` sets the options of
/// each [`Migrator`] (tracking schema, application name). Calls `on_outcome` as each test
/// finishes, and stops early when `stop` completes (e.g. Ctrl-C), dropping every database it
/// made. Outcomes come back in the order of `tests`.
pub async fn run_migration_tests(
    config: &RunConfig,
    migrations: &[Migration],
    configure: impl Fn(Migrator) -> Migrator + Send + Sync + 'static,
    tests: Vec<MigrationTestCase>,
    on_outcome: impl FnMut(&TestOutcome) + Send,
    stop: impl Future<Output = ()>,
) -> Result<Vec<TestOutcome>, RunError> {
    let mut sorted = migrations.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for test in &tests {
        if !sorted.iter().any(|m| m.name == test.migration) {
            return Err(RunError::NoSuchMigration {
                test: test.name.clone(),
                migration: test.migration.clone(),
            });
        }
    }
    let live = LiveDatabases::default();
    let result = tokio::select! {
        result = run_all(config, Arc::new(sorted), Arc::new(configure), tests, on_outcome, &live) => result,
        () = stop => Err(RunError::Interrupted),
    };
    // Whatever happened, drop what is left (on a connection of its own).
    let leftovers = live.take_all();
    if !leftovers.is_empty() {
        let mut cleanup = Admin::connect(&config.connect).await?;
        for name in leftovers {
            cleanup.drop_database(&name).await?;
        }
        cleanup.close().await;
    }
    result
}

async fn run_all<C>(
    config: &RunConfig,
    migrations: Arc<Vec<Migration>>,
    configure: Arc<C>,
    tests: Vec<MigrationTestCase>,
    mut on_outcome: impl FnMut(&TestOutcome) + Send,
    live: &LiveDatabases,
) -> Result<Vec<TestOutcome>, RunError>
where
    C: Fn(Migrator) -> Migrator + Send + Sync + 'static,
{
    let order: Vec<String> = tests.iter().map(|t| t.name.clone()).collect();
    let prefix = run_prefix();
    let permits = Arc::new(Semaphore::new(config.jobs.max(1)));
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let mut set = JoinSet::new();
    for (i, test) in tests.into_iter().enumerate() {
        let job = Job {
            config: config.clone(),
            migrations: Arc::clone(&migrations),
            configure: Arc::clone(&configure),
            copy: format!("{prefix}_m{i}"),
            live: live.clone(),
        };
        let permits = Arc::clone(&permits);
        let sender = sender.clone();
        set.spawn(async move {
            // The semaphore is never closed.
            let _permit = permits.acquire_owned().await.ok();
            let (name, expected) = (test.name.clone(), test.expected.clone());
            let started = Instant::now();
            let outcome =
                match job.run(test).await {
                    Ok(outcome) => outcome,
                    // When comparing, a test whose setup fails is one failed test among the
                    // others, its message as its output; otherwise it ends the run.
                    Err(
                        error @ (RunError::Before { .. } | RunError::MigrationUnderTest { .. }),
                    ) if expected.is_some() => TestOutcome {
                        name,
                        output: format!("{error}\n"),
                        expected,
                        passed: Some(false),
                        isolation: super::Isolation::OwnDatabase,
                        duration: started.elapsed(),
                        kept_database: None,
                    },
                    Err(error) => return Err(error),
                };
            // The receiver only goes away when the run is being abandoned.
            let _ = sender.send(outcome);
            Ok::<(), RunError>(())
        });
    }
    drop(sender);
    let mut outcomes = Vec::with_capacity(order.len());
    let mut failure = None;
    loop {
        tokio::select! {
            Some(outcome) = receiver.recv() => {
                on_outcome(&outcome);
                outcomes.push(outcome);
            }
            joined = set.join_next() => match joined {
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(error))) => {
                    // The first error ends the run; the other tests are abandoned.
                    failure = Some(error);
                    set.abort_all();
                    break;
                }
                Some(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Some(Err(_)) => {}
                None => break,
            },
        }
    }
    if let Some(error) = failure {
        while set.join_next().await.is_some() {}
        return Err(error);
    }
    while let Some(outcome) = receiver.recv().await {
        on_outcome(&outcome);
        outcomes.push(outcome);
    }
    let position = |name: &str| order.iter().position(|n| n == name);
    outcomes.sort_by_key(|o| position(&o.name));
    Ok(outcomes)
}

/// What one test's task needs.
struct Job<C> {
    config: RunConfig,
    migrations: Arc<Vec<Migration>>,
    configure: Arc<C>,
    /// The name of the test's copy.
    copy: String,
    live: LiveDatabases,
}

impl<C: Fn(Migrator) -> Migrator> Job<C> {
    async fn run(self, test: MigrationTestCase) -> Result<TestOutcome, RunError> {
        let started = Instant::now();
        let position = self
            .migrations
            .iter()
            .position(|m| m.name == test.migration)
            .ok_or_else(|| RunError::NoSuchMigration {
                test: test.name.clone(),
                migration: test.migration.clone(),
            })?;
        let before_it = &self.migrations[..position];
        self.make_copy(before_it, &test).await?;

        if let Some(before) = &test.before {
            let run = self.script(&test, before, "before.sql").await?;
            if run.ending == Ending::Stopped {
                return Err(RunError::Before {
                    test: test.name.clone(),
                    file: format!("migrations/{}/before.sql", test.migration),
                    message: last_error(&run.output),
                });
            }
        }
        self.apply(&self.migrations[..=position], &test).await?;
        let run = self.script(&test, &test.sql, "test.sql").await?;

        outcome_in_copy(
            &self.config,
            &self.live,
            TestCase {
                name: test.name,
                sql: test.sql,
                expected: test.expected,
            },
            self.copy.clone(),
            run.output,
            started,
        )
        .await
    }

    /// Brings the template of the migrations before the test's up to date and copies it.
    async fn make_copy(
        &self,
        before_it: &[Migration],
        test: &MigrationTestCase,
    ) -> Result<(), RunError> {
        let template_name = prefix_template_name(&self.config.template, &test.migration);
        let fingerprint = template::fingerprint(before_it, &self.config.environment);
        let migrator = (self.configure)(Migrator::new(before_it.to_vec()));
        let mut admin = Admin::connect(&self.config.connect).await?;
        // Held until this connection closes: one run at a time builds and copies it.
        admin.lock_template(&template_name).await?;
        let (state, _) = template::prepare(
            &mut admin,
            &template_name,
            &fingerprint,
            &migrator,
            &self.config.connect,
            &self.config.migrate_with,
        )
        .await?;
        if state == template::TemplateState::Built {
            tracing::info!(template = %template_name, test = %test.name, "built the template before the migration");
        }
        self.live.add(&self.copy);
        let made = admin.create_database(&self.copy, &template_name).await;
        admin.close().await;
        made
    }

    /// Applies the test's migration to the copy, where the ones before it are applied.
    async fn apply(
        &self,
        up_to_it: &[Migration],
        test: &MigrationTestCase,
    ) -> Result<(), RunError> {
        let migrator = (self.configure)(Migrator::new(up_to_it.to_vec()));
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(self.config.migrate_with.clone().database(&self.copy))
            .await
            .map_err(|source| RunError::MigrateConnect {
                template: self.copy.clone(),
                source,
            })?;
        let applied = migrator.run(&pool).await;
        pool.close().await;
        applied
            .map(drop)
            .map_err(|error| RunError::MigrationUnderTest {
                test: test.name.clone(),
                migration: test.migration.clone(),
                message: error.to_string(),
            })
    }

    /// Runs `script` (`file` of the test) in the copy, in autocommit.
    async fn script(
        &self,
        test: &MigrationTestCase,
        script: &str,
        file: &str,
    ) -> Result<ScriptRun, RunError> {
        let mut conn = Connection::connect(&self.config.connect.clone().database(&self.copy))
            .await
            .map_err(|source| wire_error(test, source))?;
        let run = run_script(&mut conn, script, TransactionEmulation::Off).await;
        let _ = conn.close().await;
        run.map_err(|e| match e {
            SessionError::Script { line, message } => RunError::Script {
                file: format!("migrations/{}/{file}", test.migration),
                line,
                message,
            },
            SessionError::Wire(source) => wire_error(test, source),
        })
    }
}

fn wire_error(test: &MigrationTestCase, source: WireError) -> RunError {
    RunError::Wire {
        test: test.name.clone(),
        source,
    }
}

/// The error that stopped a script: its output from the last line with `ERROR:` on.
fn last_error(output: &str) -> String {
    let start = output
        .rfind("ERROR:")
        .map_or(0, |at| output[..at].rfind('\n').map_or(0, |nl| nl + 1));
    output[start..].trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_templates_are_named_per_migration_within_the_limit() {
        let a = prefix_template_name("spawn_test_template_0123456789abcdef", "1-a");
        let b = prefix_template_name("spawn_test_template_0123456789abcdef", "2-b");
        assert!(
            a.starts_with("spawn_test_template_0123456789abcdef_m"),
            "{a}"
        );
        assert_ne!(a, b);
        assert_eq!(
            a,
            prefix_template_name("spawn_test_template_0123456789abcdef", "1-a")
        );
        let long = prefix_template_name(&"é".repeat(60), "1-a");
        assert!(long.len() <= 63, "{long}");
    }

    #[test]
    fn the_last_error_is_what_stopped_the_script() {
        let output =
            " n \n---\n 1\n(1 row)\n\npsql:<stdin>:3: ERROR:  boom\nLINE 1: x\n        ^\n";
        assert_eq!(
            last_error(output),
            "psql:<stdin>:3: ERROR:  boom\nLINE 1: x\n        ^"
        );
        assert_eq!(last_error("no error\n"), "no error");
    }
}
