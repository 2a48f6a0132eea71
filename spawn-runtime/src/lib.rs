//! spawn-runtime: what an application links to apply its spawn migrations.
//!
//! `spawn_build::compile()` renders and pins the project's migration templates at build time,
//! [`embed_migrations!`] puts the result into the binary as a [`Migrations`] value, and
//! [`Migrations::run`] applies whatever is pending at start-up:
//!
//! ```no_run
//! use spawn_runtime::Migrations;
//!
//! # // `embed_migrations!()` needs spawn's build script: this test stands in an empty set.
//! # static MIGRATIONS: Migrations = Migrations::__from_embedded(&[], "dev", "_spawn");
//! # /*
//! static MIGRATIONS: Migrations = spawn_runtime::embed_migrations!();
//! # */
//!
//! async fn start(pool: spawn_runtime::sqlx::PgPool) -> Result<(), spawn_runtime::MigrateError> {
//!     let report = MIGRATIONS.run(&pool).await?;
//!     println!("{report}");
//!     Ok(())
//! }
//! ```
//!
//! This crate has no template engine in its dependency tree: everything it needs was computed
//! at compile time. [spawn-build's documentation](../spawn_build/index.html) walks through
//! setting a project up: `Cargo.toml`, `spawn.toml`, components, migrations, `build.rs`, and
//! the `lock.toml` and `pinned/` files to commit.
//!
//! # What a run does
//!
//! [`Migrator`] (built by [`Migrations::migrator`], or by [`Migrator::new`] from migrations
//! rendered at run time) applies migrations to PostgreSQL and records them in the original
//! spawn's tracking tables (`<schema>.migration`, `migration_history`, `activity`, `status`,
//! schema `_spawn` by default), so a database migrated by the spawn CLI is recognised and
//! vice versa:
//!
//! * One dedicated connection holds a session advisory lock for the whole run (the original
//!   spawn's key for `_spawn`, see [`advisory_lock_key`]); other migrators wait for it
//!   (bounded, [`Migrator::lock_wait`]).
//! * The history is read in one query, and the run refuses to start, applying nothing, when
//!   an applied migration's SQL changed, when an applied migration is missing from the set
//!   ([`Migrator::ignore_missing`]), when a pending migration sorts before the newest applied
//!   one ([`Migrator::allow_out_of_order`]), or when the statements that already ran of a
//!   partly applied no-transaction migration changed.
//! * Each transactional migration commits in one transaction with its history row; many
//!   migrations go to the server in one message. A failed migration leaves nothing behind,
//!   is recorded as FAILURE, and is retried by the next run; the error names the migration,
//!   the failing statement (line, component) and PostgreSQL's message, detail and hint.
//! * A no-transaction migration runs statement by statement and records its progress, so a
//!   rerun resumes after the last statement that succeeded. Each statement takes effect
//!   exactly once across crashes: one that can run in a transaction commits with its progress
//!   row; before one that cannot, the run records that it started it, and a rerun checks the
//!   catalog (`CREATE INDEX CONCURRENTLY`: a valid index is done, an INVALID one is dropped
//!   and built again) or stops with [`MigrateError::OutcomeUnknown`] when nothing tells.
//! * A repeatable migration ([`Migration::repeatable`], `-- spawn:repeatable`) runs after
//!   the versioned migrations of the run, in name order, whenever its checksum differs from
//!   the one last applied ([`State::Rerun`] in the status); it never counts in the order
//!   check and rollbacks pass over it.
//! * Nothing pending costs ONE statement and no lock: the history is read first, without the
//!   lock, and the lock is taken (and the history read again under it) only when something
//!   is pending.
//! * Every connection the migrator opens is bounded ([`Migrator::connect_timeout`], default
//!   10 s): a server that does not answer, or refuses, fails the run naming its `host:port`.
//!
//! [`Migrator::up_to`] stops after a given migration, and [`Migrator::dry_run`] makes
//! [`run`](Migrator::run) and [`adopt`](Migrator::adopt) only report what they would do.
//! Migrations rendered at run time (what the spawn CLI does) go through [`Migrator::new`]:
//!
//! ```no_run
//! use spawn_runtime::{Migration, Migrator, Recovery, Statement};
//!
//! # async fn f(pool: spawn_runtime::sqlx::PgPool) -> Result<(), spawn_runtime::MigrateError> {
//! // One statement spanning the whole SQL (spawn's build finds the statements of real ones,
//! // and how a rerun recovers each: `spawn_build::analyze::recovery_of`).
//! let sql = "CREATE TABLE fruit (id bigint PRIMARY KEY, name text NOT NULL)";
//! let statements = vec![Statement {
//!     start: 0,
//!     end: sql.len(),
//!     line: 1,
//!     recovery: Recovery::Transactional,
//! }];
//! let fruit = Migration::new("20250301080000-create-fruit", sql, statements);
//! let migrator = Migrator::new(vec![fruit]);
//!
//! let plan = migrator.clone().dry_run(true).run(&pool).await?;
//! println!("would apply: {:?}", plan.planned);
//! let report = migrator.up_to("20250301080000-create-fruit").run(&pool).await?;
//! println!("{report}");
//! # Ok(()) }
//! ```
//!
//! What a run returns ([`Report`], [`MigrationStatus`], the errors' [`MigrationFailure`] and
//! the like) is `#[non_exhaustive]`: read its fields, which later versions may add to.
//!
//! A migration, `down.sql` or callback that fails is also logged (a `tracing` warning with
//! target [`FAILURE_LOG`]) for the app's logs; a program that prints the returned error
//! itself can silence that target, as the `spawn` command does.
//!
//! # Rolling back
//!
//! A migration with a `migrations/<name>/down.sql` (rendered from the same pin as its
//! `up.sql` and embedded with it: [`Migration::down`]) can be rolled back:
//! [`Migrator::rollback_to`] undoes every applied migration after the one named,
//! [`Migrator::rollback_steps`] the newest `n`. Newest first, each `down.sql` runs in one
//! transaction with its `REVERT` history row, under the same advisory lock as a run; the
//! migration is pending again afterwards, and the next run applies it normally. Everything
//! is checked before anything runs: a migration to undo without a `down.sql` stops the
//! rollback, naming it ([`MigrateError::NoDown`]); a `down.sql` that fails leaves nothing of
//! itself behind ([`MigrateError::DownFailed`]).
//!
//! ```no_run
//! # static MIGRATIONS: spawn_runtime::Migrations =
//! #     spawn_runtime::Migrations::__from_embedded(&[], "dev", "_spawn");
//! # async fn f(pool: spawn_runtime::sqlx::PgPool) -> Result<(), spawn_runtime::MigrateError> {
//! let plan = MIGRATIONS.migrator().dry_run(true).rollback_steps(&pool, 2).await?;
//! println!("{plan}"); // dry run: would roll back 2 migration(s) …
//! let report = MIGRATIONS.migrator().rollback_steps(&pool, 2).await?;
//! println!("{report}");
//! # Ok(()) }
//! ```
//!
//! # Following and stopping a run
//!
//! [`Migrator::on_progress`] calls an observer with a [`MigrationEvent`] as each migration
//! starts and commits, also inside a batch (a marker row after each `COMMIT`, flushed by the
//! server at once; no extra round trip). [`Migrator::stop_handle`] takes a [`StopHandle`]:
//! [`StopHandle::stop`] makes the run stop at the next migration boundary (the migration in
//! flight commits, a no-transaction one runs to its end; a wait for the lock ends at once),
//! and the run returns a [`Report`] with `stopped` set, listing what it applied. With a stop
//! handle, migrations go one per message instead of in batches, one round trip each (the
//! price of stopping between any two of them). To stop *now*, drop the run's future: its
//! connection is closed and the migration in flight rolls back.
//!
//! ```no_run
//! use spawn_runtime::StopHandle;
//!
//! # static MIGRATIONS: spawn_runtime::Migrations =
//! #     spawn_runtime::Migrations::__from_embedded(&[], "dev", "_spawn");
//! # async fn f(pool: spawn_runtime::sqlx::PgPool) -> Result<(), spawn_runtime::MigrateError> {
//! let stop = StopHandle::new();
//! tokio::spawn({
//!     let stop = stop.clone();
//!     async move {
//!         if tokio::signal::ctrl_c().await.is_ok() {
//!             stop.stop();
//!         }
//!     }
//! });
//! let report = MIGRATIONS
//!     .migrator()
//!     .stop_handle(stop)
//!     .on_progress(|event| tracing::info!(?event, "migrating"))
//!     .run(&pool)
//!     .await?;
//! if report.stopped {
//!     println!("stopped; still pending: {:?}", report.not_applied());
//! }
//! # Ok(()) }
//! ```
//!
//! # Callbacks
//!
//! A project's `callbacks/before_migrate.sql`, `before_each.sql`, `after_each.sql` and
//! `after_migrate.sql` (see [spawn-build's `callbacks`](../spawn_build/callbacks/index.html))
//! are rendered at build time and embedded with the migrations, one [`Callbacks`] per
//! environment; [`Migrations::migrator`] picks the environment's. A run calls them only when
//! something is pending (a start-up with nothing to apply stays ONE statement without the
//! lock):
//!
//! * `before_migrate` once before the first pending migration, and `after_migrate` once after
//!   the last migration the run applied (also after a stop; not after a failure), each in a
//!   transaction of its own, sent as one message;
//! * `before_each` and `after_each` inside each transactional migration's transaction, in the
//!   same message as the migration (no extra round trip): a failing one rolls the migration
//!   back with it, and no history row is written (the migration stays pending). Around a
//!   no-transaction migration they run each in a transaction of its own, before its first and
//!   after its last statement.
//!
//! A failing callback fails the run naming the callback file, its statement and line
//! ([`FailedStatement::callback`] inside a migration, [`MigrateError::CallbackFailed`] on
//! its own). Migrations rendered at run time get theirs with [`Migrator::callbacks`]:
//!
//! ```no_run
//! use spawn_runtime::{Callback, CallbackKind, Callbacks, Migration, Migrator, Recovery, Statement};
//!
//! # async fn f(pool: spawn_runtime::sqlx::PgPool) -> Result<(), spawn_runtime::MigrateError> {
//! let one = |sql: &str| vec![Statement { start: 0, end: sql.len(), line: 1, recovery: Recovery::Transactional }];
//! let sql = "CREATE TABLE fruit (id bigint PRIMARY KEY)";
//! let analyze = "ANALYZE";
//! let callbacks = Callbacks {
//!     after_migrate: Some(Callback::new(CallbackKind::AfterMigrate, analyze, one(analyze))),
//!     ..Callbacks::default()
//! };
//! let report = Migrator::new(vec![Migration::new("20250301080000-fruit", sql, one(sql))])
//!     .callbacks(callbacks)
//!     .run(&pool)
//!     .await?;
//! println!("{report}");
//! # Ok(()) }
//! ```
//!
//! # Tracking tables in another database
//!
//! [`Migrator::tracking_pool`] keeps the tracking tables in another database than the one
//! the migrations run in (the original spawn's `spawn_database`). The run takes the lock in
//! the target database (where the original takes it) and then in the tracking database. A
//! migration and its history row cannot share a transaction there, so each transactional
//! migration runs in the target up to its `COMMIT`, an `ATTEMPTED` row records the target
//! transaction's id (`pg_current_xact_id()`) and database, the target commits, and the
//! `SUCCESS` row follows. A run interrupted between the two commits leaves the `ATTEMPTED`
//! row as the migration's newest; the next run resolves it first with `pg_xact_status()` in
//! the target: committed → recorded as applied ([`Report::recovered`]), rolled back or
//! unknown → recorded as failed and applied again, still running → refused
//! ([`MigrateError::AttemptInProgress`]). Nothing is applied half-way, and nothing is
//! recorded as applied that did not commit. [`Migrator::status`] resolves the same way
//! without writing. The price: four round trips per migration, no batches; PostgreSQL 13 or
//! later in the target.
//!
//! # Testing
//!
//! With the `testing` feature (enable it under `[dev-dependencies]`), `#[spawn_runtime::test]`
//! runs an `async fn` test against a fresh database cloned from a template migrated once with
//! the crate's embedded migrations; see the `testing` module.
//!
//! Checksums: spawn records SHA-256 (32 bytes) of the rendered SQL; rows written by the
//! original spawn carry XXH3-128 (16 bytes) and are compared with that; empty checksums
//! (the original's ADOPT rows) are not compared.

pub mod embedded;

mod batch;
mod callbacks;
pub mod connect;
mod diagnose;
mod error;
pub mod fleet;
mod idle;
mod lock;
mod migrator;
mod no_transaction;
mod plan;
mod progress;
mod record;
mod recover;
mod report;
mod resolve;
mod rollback;
mod run;
mod session;
mod split;
mod status;
pub mod tenants;
#[cfg(feature = "testing")]
pub mod testing;
mod tracking;

pub use callbacks::CallbackFailure;
pub use connect::{ConnectError, DEFAULT_CONNECT_TIMEOUT};
pub use embedded::Migrations;
pub use error::{
    ConnectionLost, DownFailure, FailedStatement, LockHolder, LockWaitTimeout, MigrateError,
    MigrationFailure, PgMessage, Remedy,
};
pub use lock::{advisory_lock_key, ORIGINAL_LOCK_KEY};
pub use migrator::{
    Migrator, DEFAULT_LOCK_WAIT, DEFAULT_STATEMENT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT,
    DEFAULT_TRACKING_SCHEMA,
};
pub use plan::ChecksumKind;
pub use progress::{MigrationEvent, StopHandle};
pub use report::{AppliedMigration, Report};
pub use spawn_macros::embed_migrations;
/// `#[spawn_runtime::test]`: an async test given a fresh database cloned from the crate's
/// migrated template; see [`testing`].
#[cfg(feature = "testing")]
pub use spawn_macros::test;
pub use spawn_model::{
    Callback, CallbackKind, Callbacks, Down, LineOrigin, Migration, Recovery, Statement,
    TransactionMode,
};
/// The sqlx version this crate is built on, re-exported so applications use the same one.
pub use sqlx;
pub use status::{MigrationStatus, State};
pub use tracking::{BOOTSTRAP_MIGRATION, DEFAULT_NAMESPACE, SPAWN_NAMESPACE};

/// The `tracing` target of the warning logged when a migration, a `down.sql` or a callback
/// fails (the same failure the run returns as an error).
pub const FAILURE_LOG: &str = "spawn_runtime::failure";

/// Items used by the code that `embed_migrations!()` generates. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::embedded::{EmbeddedCallbacks, EmbeddedMigration, EmbeddedRender};
    pub use std::borrow::Cow;
}
