//! The [`Migrator`] builder and the things it does: [`Migrator::run`],
//! [`Migrator::status`], [`Migrator::adopt`] and [`Migrator::rollback_to`] /
//! [`Migrator::rollback_steps`] (all but the status also as a dry run,
//! [`Migrator::dry_run`]).
//!
//! The builder chooses the migrations (the environment's renders of an embedded set, or
//! migrations rendered at run time) and the options; a run itself goes step by step in
//! [`crate::run`] (a rollback's own steps are in [`crate::rollback`]), the status is read in
//! [`crate::status`].

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::connect::DEFAULT_CONNECT_TIMEOUT;
use crate::embedded::{EmbeddedCallbacks, EmbeddedMigration, Migrations};
use crate::error::MigrateError;
use crate::idle::IdleConnections;
use crate::plan::Checks;
use crate::progress::{run_token, Hooks, MigrationEvent, Observer, StopHandle};
use crate::report::Report;
use crate::resolve::{self, Resolution};
use crate::rollback::RollbackTarget;
use crate::run::{Adoption, Run, Task};
use crate::session::{BatchLimits, Pools, Timeouts};
use crate::status::{self, MigrationStatus};
use crate::tracking::Tracking;
use crate::Migration;
use spawn_model::Callbacks;

/// Default wait for the migration lock.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(60);
/// Default `lock_timeout` of a migration that sets none.
pub const DEFAULT_STATEMENT_LOCK_TIMEOUT: &str = "10s";
/// Default `statement_timeout` of a migration that sets none (`0`: none).
pub const DEFAULT_STATEMENT_TIMEOUT: &str = "0";
/// Default tracking schema of a migrator built with [`Migrator::new`].
pub const DEFAULT_TRACKING_SCHEMA: &str = "_spawn";

#[derive(Debug, Clone)]
enum Source {
    Embedded {
        migrations: &'static [EmbeddedMigration],
        default_environment: &'static str,
    },
    /// In name order (sorted once, when the migrator is built); shared by its clones.
    Rendered(Arc<[Migration]>),
}

/// Applies a set of migrations to a database: a builder, then [`run`](Migrator::run),
/// [`status`](Migrator::status) or [`adopt`](Migrator::adopt).
///
/// ```no_run
/// use std::time::Duration;
/// # use spawn_runtime::{MigrateError, Migrations};
/// # static MIGRATIONS: Migrations = Migrations::__from_embedded(&[], "dev", "_spawn");
///
/// # async fn f(pool: spawn_runtime::sqlx::PgPool) -> Result<(), MigrateError> {
/// let report = MIGRATIONS
///     .migrator()
///     .up_to("20250301080100-seed")
///     .lock_wait(Duration::from_secs(10))
///     .run(&pool)
///     .await?;
/// # Ok(()) }
/// ```
///
/// A run opens one connection of its own with the pool's connect options (so the lock it
/// holds can never go back to the pool, and its large batches never reach sqlx's statement
/// log). Session settings given in the connect options (e.g. `search_path` through
/// `PgConnectOptions::options`) apply to the migrations; `after_connect` hooks of the pool do
/// not. [`status`](Migrator::status) uses a pooled connection and takes no lock.
#[derive(Debug, Clone)]
pub struct Migrator {
    source: Source,
    environment: Option<String>,
    tracking_schema: String,
    lock_wait: Duration,
    connect_timeout: Duration,
    up_to: Option<String>,
    dry_run: bool,
    allow_out_of_order: bool,
    ignore_missing: bool,
    statement_lock_timeout: String,
    statement_timeout: String,
    created_by_app: Option<String>,
    batch_limits: BatchLimits,
    observer: Option<Observer>,
    stop: Option<StopHandle>,
    tracking_pool: Option<PgPool>,
    /// The tenant whose parts this migrator applies ([`Migrator::tenant`]).
    tenant: Option<String>,
    /// Connections shared with the other tenants' runs of one `run_tenants`.
    idle: Option<IdleConnections>,
    /// Set with [`Migrator::callbacks`]; otherwise an embedded set's, for its environment.
    callbacks: Option<Arc<Callbacks>>,
    embedded_callbacks: &'static [EmbeddedCallbacks],
}

enum Mode<'m> {
    Run,
    Adopt {
        up_to: &'m str,
        description: &'m str,
    },
    Rollback(RollbackTarget<'m>),
}

impl Migrator {
    /// A migrator for migrations that are already rendered (what the CLI does), in any
    /// order (they are applied in name order). Tracking schema `_spawn`.
    pub fn new(mut migrations: Vec<Migration>) -> Self {
        migrations.sort_by(|a, b| a.name.cmp(&b.name));
        Self::with_source(Source::Rendered(migrations.into()), DEFAULT_TRACKING_SCHEMA)
    }

    fn with_source(source: Source, schema: &str) -> Self {
        Migrator {
            source,
            environment: None,
            tracking_schema: schema.to_string(),
            lock_wait: DEFAULT_LOCK_WAIT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            up_to: None,
            dry_run: false,
            allow_out_of_order: false,
            ignore_missing: false,
            statement_lock_timeout: DEFAULT_STATEMENT_LOCK_TIMEOUT.to_string(),
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT.to_string(),
            created_by_app: None,
            batch_limits: BatchLimits {
                max_migrations: 200,
                max_bytes: 4 << 20,
            },
            observer: None,
            stop: None,
            tracking_pool: None,
            tenant: None,
            idle: None,
            callbacks: None,
            embedded_callbacks: &[],
        }
    }

    /// Selects the environment whose renders are applied (embedded sets only). Default:
    /// `SPAWN_ENV` if set, else the environment of the build's default target. An
    /// environment that was not compiled in is an error when the migrator runs.
    pub fn environment(mut self, environment: &str) -> Self {
        self.environment = Some(environment.to_string());
        self
    }

    /// The schema of the tracking tables (default: the build's, `_spawn` unless configured).
    pub fn tracking_schema(mut self, schema: &str) -> Self {
        self.tracking_schema = schema.to_string();
        self
    }

    /// How long to wait for the migration lock (the advisory lock that serialises
    /// migrators) while another migrator holds it (default 60 s); then the run fails with
    /// [`MigrateError::LockWaitTimeout`]. Not PostgreSQL's `lock_timeout`, which
    /// [`statement_lock_timeout`](Migrator::statement_lock_timeout) sets for the migrations.
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// How long opening the run's dedicated connection may take, up to the server's first
    /// answers (default [`DEFAULT_CONNECT_TIMEOUT`], 10 s; libpq's `connect_timeout`). A
    /// server that accepts the TCP connection but never answers then fails the run with
    /// [`MigrateError::Connect`] naming its `host:port` and the timeout, instead of hanging.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Applies pending migrations up to and including `name` only.
    pub fn up_to(mut self, name: &str) -> Self {
        self.up_to = Some(name.to_string());
        self
    }

    /// Only plans: [`run`](Migrator::run) and [`adopt`](Migrator::adopt) return what they
    /// would do ([`Report::planned`], with [`Report::dry_run`] set) and change nothing (the
    /// tracking tables are not even created).
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Allows applying a pending migration that sorts before the newest applied one.
    pub fn allow_out_of_order(mut self, allow: bool) -> Self {
        self.allow_out_of_order = allow;
        self
    }

    /// Allows migrations recorded as applied that are not in the set.
    pub fn ignore_missing(mut self, ignore: bool) -> Self {
        self.ignore_missing = ignore;
        self
    }

    /// `lock_timeout` for migrations that set none (default `10s`), set with `SET LOCAL`
    /// inside each migration's transaction.
    pub fn statement_lock_timeout(mut self, value: &str) -> Self {
        self.statement_lock_timeout = value.to_string();
        self
    }

    /// `statement_timeout` for migrations that set none (default `0`, no limit).
    pub fn statement_timeout(mut self, value: &str) -> Self {
        self.statement_timeout = value.to_string();
        self
    }

    /// The application named in `created_by` of history rows (`role (app)`); default: the
    /// binary's name.
    pub fn created_by_app(mut self, app: &str) -> Self {
        self.created_by_app = Some(app.to_string());
        self
    }

    /// Limits of one batch (one round trip) of transactional migrations; defaults 200
    /// migrations and 4 MiB.
    pub fn batch_limits(mut self, max_migrations: usize, max_bytes: usize) -> Self {
        self.batch_limits = BatchLimits {
            max_migrations: max_migrations.max(1),
            max_bytes: max_bytes.max(1),
        };
        self
    }

    /// Calls `observer` as each migration starts and commits (see [`MigrationEvent`]), from
    /// the task running the migrator: keep it short (update a progress bar, send to a
    /// channel). Within a batch, commits are observed as they happen: each is followed by a
    /// marker row and a `DO` block that makes the server send its results at once (no extra
    /// round trip; without PL/pgSQL in the target database, a batch's events arrive when the
    /// batch ends).
    pub fn on_progress(
        mut self,
        observer: impl Fn(&MigrationEvent) + Send + Sync + 'static,
    ) -> Self {
        self.observer = Some(Observer(Arc::new(observer)));
        self
    }

    /// Lets `handle` stop the run at the next migration boundary (see [`StopHandle`]); the
    /// report then has `stopped` set. The trade-off: with a stop handle, transactional
    /// migrations are sent one per message instead of in batches (a batch, once sent, runs
    /// to its end), one round trip each.
    pub fn stop_handle(mut self, handle: StopHandle) -> Self {
        self.stop = Some(handle);
        self
    }

    /// Keeps the tracking tables in the database of `pool` while the migrations run in the
    /// database of the pool given to [`run`](Migrator::run) (the original spawn's
    /// `spawn_database`). Applies to run, status and adopt. Each transactional
    /// migration then commits in the target first and is recorded afterwards, with an
    /// attempt row that lets the next run find out whether an interrupted migration committed
    /// (see the crate docs, "Tracking tables in another database").
    pub fn tracking_pool(mut self, pool: PgPool) -> Self {
        self.tracking_pool = Some(pool);
        self
    }

    /// The SQL callbacks run around [`run`](Migrator::run), replacing those of an embedded
    /// set (which come with [`Migrations::migrator`], rendered for the environment). See the
    /// crate docs, "Callbacks": they run only when something is pending, `before_each` and
    /// `after_each` inside each migration's transaction.
    pub fn callbacks(mut self, callbacks: Callbacks) -> Self {
        self.callbacks = Some(Arc::new(callbacks));
        self
    }

    /// The callbacks of a run in `environment` (`None`: rendered migrations).
    fn callbacks_for(&self, environment: Option<&str>) -> &Callbacks {
        if let Some(callbacks) = &self.callbacks {
            return callbacks;
        }
        environment
            .and_then(|env| {
                self.embedded_callbacks
                    .iter()
                    .find(|c| c.environment == env)
            })
            .map_or(&Callbacks::NONE, |c| &c.callbacks)
    }

    /// Applies what is pending (see the crate docs for the checks that make it refuse).
    pub async fn run(&self, pool: &PgPool) -> Result<Report, MigrateError> {
        self.execute(pool, Mode::Run).await
    }

    /// Records the pending migrations up to and including `up_to` as applied without running
    /// them (activity `ADOPT`). Unlike the original spawn, which writes an empty checksum,
    /// the row carries the migration's SHA-256, so later runs still detect a changed SQL.
    /// Failed and partly applied migrations count as pending here. The rows' `description`
    /// is empty; see [`adopt_with_description`](Migrator::adopt_with_description).
    pub async fn adopt(&self, pool: &PgPool, up_to: &str) -> Result<Report, MigrateError> {
        self.adopt_with_description(pool, up_to, "").await
    }

    /// [`adopt`](Migrator::adopt), with `description` (why the migrations are adopted, like
    /// the original's `--description`) written into every ADOPT row, in the same statement
    /// and transaction that records them.
    pub async fn adopt_with_description(
        &self,
        pool: &PgPool,
        up_to: &str,
        description: &str,
    ) -> Result<Report, MigrateError> {
        self.execute(pool, Mode::Adopt { up_to, description }).await
    }

    /// Rolls back every applied migration that sorts after `name`, newest first; `name`
    /// itself stays applied. Each migration's `down.sql` (compiled in from
    /// `migrations/<name>/down.sql`, rendered from the same pin as its `up.sql`) runs in one
    /// transaction with its `REVERT` history row, under the migration lock; a reverted
    /// migration is pending again and the next [`run`](Migrator::run) applies it.
    ///
    /// Everything is checked before anything runs: a migration to undo without a
    /// `down.sql` ([`MigrateError::NoDown`]), changed since it was applied, partly applied or
    /// missing from the set ([`MigrateError::CannotRollBack`]) stops the rollback with
    /// nothing rolled back. A failing `down.sql` leaves nothing behind and ends the rollback
    /// ([`MigrateError::DownFailed`], naming the statement); the migrations undone before it
    /// stay undone. With [`dry_run`](Migrator::dry_run), [`Report::planned`] lists what
    /// would be undone. Needs the tracking tables in the target database
    /// ([`MigrateError::RollbackNeedsOneDatabase`]).
    ///
    /// ```no_run
    /// # use spawn_runtime::{MigrateError, Migrations};
    /// # static MIGRATIONS: Migrations = Migrations::__from_embedded(&[], "dev", "_spawn");
    /// # async fn f(pool: spawn_runtime::sqlx::PgPool) -> Result<(), MigrateError> {
    /// let report = MIGRATIONS
    ///     .migrator()
    ///     .rollback_to(&pool, "20250301080000-create-orchard")
    ///     .await?;
    /// for undone in &report.reverted {
    ///     println!("rolled back {}", undone.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn rollback_to(&self, pool: &PgPool, name: &str) -> Result<Report, MigrateError> {
        self.execute(pool, Mode::Rollback(RollbackTarget::To(name)))
            .await
    }

    /// Rolls back the newest `steps` applied migrations, newest first; otherwise like
    /// [`rollback_to`](Migrator::rollback_to).
    pub async fn rollback_steps(
        &self,
        pool: &PgPool,
        steps: usize,
    ) -> Result<Report, MigrateError> {
        self.execute(pool, Mode::Rollback(RollbackTarget::Steps(steps)))
            .await
    }

    /// Records what became of statement `statement` (1-based) of the no-transaction
    /// migration `name`, which a run started without recording its outcome and which the
    /// catalog cannot tell ([`MigrateError::OutcomeUnknown`]), once it was checked by hand:
    /// `took_effect` records it as done (the next run resumes after it), otherwise as not run
    /// (the next run runs it). Takes the migration lock; refuses
    /// ([`MigrateError::NotStarted`]) unless that statement is the one recorded as started.
    pub async fn resolve_statement(
        &self,
        pool: &PgPool,
        name: &str,
        statement: usize,
        took_effect: bool,
    ) -> Result<(), MigrateError> {
        let (migrations, _) = self.resolve()?;
        validate_schema(&self.tracking_schema)?;
        let migration = &migrations[find(&migrations, name, "Migrator::resolve_statement()")?];
        let run = self.run_of(&migrations, Mode::Run)?;
        let what = Resolution {
            migration,
            statement,
            took_effect,
        };
        resolve::resolve(&run, self.pools(pool), what).await
    }

    /// The state of every migration (and of recorded ones missing from the set). Takes no
    /// lock and changes nothing.
    ///
    /// With a [`tracking_pool`](Migrator::tracking_pool), the history is read there, and an
    /// interrupted attempt is checked in the target database (`pg_xact_status`): committed
    /// shows as applied, rolled back as failed, still running as pending.
    pub async fn status(&self, pool: &PgPool) -> Result<Vec<MigrationStatus>, MigrateError> {
        let (migrations, _) = self.resolve()?;
        validate_schema(&self.tracking_schema)?;
        let tracking = self.tracking();
        status::read(self.pools(pool), &tracking, &migrations).await
    }

    /// Where this migrator's rows go: its tracking schema, in the default namespace or its
    /// tenant's.
    fn tracking(&self) -> Tracking {
        match &self.tenant {
            Some(tenant) => Tracking::with_namespace(
                &self.tracking_schema,
                &crate::tenants::tenant_namespace(tenant),
            ),
            None => Tracking::new(&self.tracking_schema),
        }
    }

    /// Makes this the migrator of `tenant`'s parts (see [`crate::tenants`]).
    pub(crate) fn set_idle_connections(&mut self, idle: IdleConnections) {
        self.idle = Some(idle);
    }

    pub(crate) fn set_tenant(&mut self, tenant: &str) {
        self.tenant = Some(tenant.to_owned());
    }

    /// The tracking schema's name.
    pub(crate) fn tracking_schema_name(&self) -> &str {
        &self.tracking_schema
    }

    /// Whether this is a dry run.
    pub(crate) fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// The migrations of the set, in name order (for a tenant, its parts with the marker
    /// replaced).
    pub(crate) fn resolved_set(&self) -> Result<Vec<Migration>, MigrateError> {
        Ok(self.resolve()?.0.into_owned())
    }

    /// The connect timeout ([`Migrator::connect_timeout`]).
    pub(crate) fn connect_timeout_value(&self) -> Duration {
        self.connect_timeout
    }

    fn pools<'p>(&'p self, target: &'p PgPool) -> Pools<'p> {
        Pools {
            target,
            tracking: self.tracking_pool.as_ref(),
        }
    }

    /// The migrations for the chosen environment, in name order.
    fn resolve(&self) -> Result<(Cow<'_, [Migration]>, Option<String>), MigrateError> {
        let (migrations, environment) = match &self.source {
            Source::Rendered(ms) => {
                if let Some(env) = &self.environment {
                    return Err(MigrateError::EnvironmentNotSelectable {
                        environment: env.clone(),
                    });
                }
                (Cow::Borrowed(&ms[..]), None)
            }
            Source::Embedded {
                migrations,
                default_environment,
            } => {
                let set = Migrations::__from_embedded(
                    migrations,
                    default_environment,
                    DEFAULT_TRACKING_SCHEMA,
                );
                let env = self
                    .environment
                    .clone()
                    .or_else(|| std::env::var("SPAWN_ENV").ok().filter(|e| !e.is_empty()))
                    .unwrap_or_else(|| default_environment.to_string());
                match set.for_environment(&env) {
                    Some(mut ms) => {
                        ms.sort_by(|a, b| a.name.cmp(&b.name));
                        (Cow::Owned(ms), Some(env))
                    }
                    None => {
                        return Err(MigrateError::UnknownEnvironment {
                            environment: env,
                            available: set.environments().into_iter().map(str::to_string).collect(),
                        })
                    }
                }
            }
        };
        if let Some(w) = migrations.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(MigrateError::DuplicateMigration {
                name: w[0].name.to_string(),
            });
        }
        let migrations = match &self.tenant {
            Some(tenant) => Cow::Owned(
                migrations
                    .iter()
                    .map(|m| crate::tenants::for_tenant(m, tenant))
                    .collect(),
            ),
            None => migrations,
        };
        Ok((migrations, environment))
    }

    fn app_name(&self) -> String {
        self.created_by_app.clone().unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .or_else(|| std::env::args().next())
                .unwrap_or_else(|| "spawn".to_string())
        })
    }

    async fn execute(&self, pool: &PgPool, mode: Mode<'_>) -> Result<Report, MigrateError> {
        let started = Instant::now();
        let (migrations, environment) = self.resolve()?;
        validate_schema(&self.tracking_schema)?;
        let rollback = matches!(mode, Mode::Rollback(_));
        if rollback && self.tracking_pool.is_some() {
            return Err(MigrateError::RollbackNeedsOneDatabase);
        }
        let mut run = self.run_of(&migrations, mode)?;
        run.callbacks = self.callbacks_for(environment.as_deref());
        let mut report = Report {
            rollback,
            dry_run: self.dry_run,
            environment,
            tracking_schema: self.tracking_schema.clone(),
            ..Report::default()
        };
        let result = run.execute(self.pools(pool), &mut report).await;
        report.total = started.elapsed();
        finish(report, result)
    }

    /// The run that `mode` asks for over `migrations` (the set, in name order).
    fn run_of<'r>(
        &'r self,
        migrations: &'r [Migration],
        mode: Mode<'r>,
    ) -> Result<Run<'r>, MigrateError> {
        let task = match mode {
            Mode::Run => Task::Apply(Checks {
                schema: &self.tracking_schema,
                allow_out_of_order: self.allow_out_of_order,
                ignore_missing: self.ignore_missing,
                last: self
                    .up_to
                    .as_deref()
                    .map(|name| find(migrations, name, "Migrator::up_to()"))
                    .transpose()?,
            }),
            Mode::Adopt { up_to, description } => Task::Adopt(Adoption {
                last: find(migrations, up_to, "adopt()")?,
                description,
            }),
            Mode::Rollback(target) => {
                if let RollbackTarget::To(name) = target {
                    find(migrations, name, "Migrator::rollback_to()")?;
                }
                Task::Rollback(target)
            }
        };
        Ok(Run {
            migrations,
            task,
            tracking: self.tracking(),
            search_path: self.tenant.as_deref(),
            idle: self.idle.as_ref(),
            app: self.app_name(),
            lock_wait: self.lock_wait,
            connect_timeout: self.connect_timeout,
            default_timeouts: Timeouts {
                lock: &self.statement_lock_timeout,
                statement: &self.statement_timeout,
            },
            batch_limits: self.batch_limits,
            hooks: Hooks {
                observer: self.observer.clone(),
                stop: self.stop.clone(),
                token: run_token(),
            },
            dry_run: self.dry_run,
            callbacks: &Callbacks::NONE,
        })
    }
}

/// The outcome of a run: its report, logged; or its error, a failed migration or a lost
/// connection naming what the run applied before it. A query of the migrator that failed
/// because the connection was lost (e.g. terminated while it waited for the lock) is
/// reported as [`MigrateError::ConnectionLost`] too.
fn finish(report: Report, result: Result<(), MigrateError>) -> Result<Report, MigrateError> {
    let result = result.map_err(|e| match e {
        MigrateError::Database { context, source } => MigrateError::db_or_lost(context)(source),
        e => e,
    });
    match result {
        Ok(()) => {
            tracing::info!(
                applied = report.applied.len(),
                adopted = report.adopted.len(),
                reverted = report.reverted.len(),
                recovered = report.recovered.len(),
                already_applied = report.already_applied,
                dry_run = report.dry_run,
                stopped = report.stopped,
                total = ?report.total,
                "spawn migrations done"
            );
            Ok(report)
        }
        Err(MigrateError::Failed(mut failure)) => {
            failure.applied_before = report.applied.into_iter().map(|a| a.name).collect();
            Err(MigrateError::Failed(failure))
        }
        Err(MigrateError::CallbackFailed(mut failure)) => {
            failure.applied_before = report.applied.into_iter().map(|a| a.name).collect();
            Err(MigrateError::CallbackFailed(failure))
        }
        Err(MigrateError::ConnectionLost(mut lost)) => {
            lost.applied_before = report.applied.into_iter().map(|a| a.name).collect();
            Err(MigrateError::ConnectionLost(lost))
        }
        Err(e) => Err(e),
    }
}

impl Migrations {
    /// A [`Migrator`] preloaded with the embedded set, its default environment (or
    /// `SPAWN_ENV`) and its tracking schema.
    pub fn migrator(&self) -> Migrator {
        let mut migrator = Migrator::with_source(
            Source::Embedded {
                migrations: self.embedded(),
                default_environment: self.default_environment(),
            },
            self.tracking_schema(),
        );
        migrator.embedded_callbacks = self.embedded_callbacks();
        migrator
    }

    /// Applies what is pending: `self.migrator().run(pool)`.
    pub async fn run(&self, pool: &PgPool) -> Result<Report, MigrateError> {
        self.migrator().run(pool).await
    }

    /// A [`Migrator`] over the embedded tenant parts (`tenant.sql`), for
    /// [`Migrator::run_tenants`] or [`Migrator::tenant`] (see [`crate::tenants`]); no
    /// callbacks.
    pub fn tenant_migrator(&self) -> Migrator {
        Migrator::with_source(
            Source::Embedded {
                migrations: self.embedded_tenant_parts(),
                default_environment: self.default_environment(),
            },
            self.tracking_schema(),
        )
    }

    /// The state of every migration: `self.migrator().status(pool)`.
    pub async fn status(&self, pool: &PgPool) -> Result<Vec<MigrationStatus>, MigrateError> {
        self.migrator().status(pool).await
    }

    /// Records pending migrations up to `up_to` as applied without running them:
    /// `self.migrator().adopt(pool, up_to)`.
    pub async fn adopt(&self, pool: &PgPool, up_to: &str) -> Result<Report, MigrateError> {
        self.migrator().adopt(pool, up_to).await
    }
}

fn find(
    migrations: &[Migration],
    name: &str,
    context: &'static str,
) -> Result<usize, MigrateError> {
    migrations
        .iter()
        .position(|m| m.name == name)
        .ok_or_else(|| {
            // Suggest names sharing the longest prefix with the one asked for.
            let common = |m: &&Migration| {
                m.name
                    .chars()
                    .zip(name.chars())
                    .take_while(|(a, b)| a == b)
                    .count()
            };
            let best = migrations.iter().map(|m| common(&m)).max().unwrap_or(0);
            let known: Vec<String> = migrations
                .iter()
                .filter(|m| common(m) == best)
                .take(3)
                .map(|m| m.name.to_string())
                .collect();
            MigrateError::UnknownMigration {
                name: name.to_string(),
                context,
                count: migrations.len(),
                known,
            }
        })
}

fn validate_schema(schema: &str) -> Result<(), MigrateError> {
    let reason = if schema.is_empty() {
        "it is empty"
    } else if schema.contains('\0') {
        "it contains a NUL character"
    } else if schema.len() > 63 {
        "it is longer than 63 bytes"
    } else {
        return Ok(());
    };
    Err(MigrateError::InvalidSchema {
        schema: schema.to_string(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// Compiled, never called: the futures of the public API are `Send`.
    #[allow(dead_code)]
    fn the_futures_are_send(migrator: &Migrator, set: &Migrations, pool: &PgPool) {
        assert_send(&migrator.run(pool));
        let dry_run = migrator.clone().dry_run(true);
        assert_send(&dry_run.run(pool));
        assert_send(&dry_run.adopt(pool, "x"));
        assert_send(&migrator.status(pool));
        assert_send(&migrator.adopt(pool, "x"));
        assert_send(&migrator.adopt_with_description(pool, "x", "y"));
        assert_send(&migrator.rollback_to(pool, "x"));
        assert_send(&migrator.rollback_steps(pool, 1));
        let hooked = migrator
            .clone()
            .on_progress(|_| {})
            .stop_handle(StopHandle::new())
            .tracking_pool(pool.clone());
        assert_send(&hooked.run(pool));
        assert_send(&hooked.status(pool));
        assert_send(&set.run(pool));
        assert_send(&set.status(pool));
        assert_send(&set.adopt(pool, "x"));
    }

    #[test]
    fn schema_names_are_validated() {
        assert!(validate_schema("_spawn").is_ok());
        assert!(validate_schema("").is_err());
        assert!(validate_schema(&"x".repeat(64)).is_err());
    }
}
