//! spawn-runtime: what an application links to apply its spawn migrations.
//!
//! `spawn_build::compile()` renders and pins the project's migration templates at build time,
//! [`embed_migrations!`] puts the result into the binary as a [`Migrations`] value, and
//! [`Migrations::run`] applies whatever is pending at start-up:
//!
//! ```ignore
//! static MIGRATIONS: spawn_runtime::Migrations = spawn_runtime::embed_migrations!();
//! let report = MIGRATIONS.run(&pool).await?;
//! ```
//!
//! This crate has no template engine in its dependency tree: everything it needs was computed
//! at compile time.
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
//!   (bounded, [`Migrator::lock_timeout`]).
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
//!   rerun resumes after the last statement that succeeded.
//! * Nothing pending costs 3 statements.
//!
//! Checksums: spawn records SHA-256 (32 bytes) of the rendered SQL; rows written by the
//! original spawn carry XXH3-128 (16 bytes) and are compared with that; empty checksums
//! (the original's ADOPT rows) are not compared.

pub mod embedded;
pub mod migration;

mod apply;
mod error;
mod lock;
mod migrator;
mod plan;
mod report;
mod status;
mod tracking;

pub use embedded::Migrations;
pub use error::{FailedStatement, LockHolder, LockTimeout, MigrateError, MigrationFailure, PgMessage};
pub use lock::{advisory_lock_key, ORIGINAL_LOCK_KEY};
pub use migration::{LineOrigin, Migration, Statement, TransactionMode};
pub use migrator::{
    Migrator, DEFAULT_LOCK_WAIT, DEFAULT_STATEMENT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT, DEFAULT_TRACKING_SCHEMA,
};
pub use plan::ChecksumKind;
pub use report::{AppliedMigration, Report};
pub use status::{MigrationStatus, State};
pub use tracking::{BOOTSTRAP_MIGRATION, DEFAULT_NAMESPACE, SPAWN_NAMESPACE};
pub use spawn_macros::embed_migrations;
/// The sqlx version this crate is built on, re-exported so applications use the same one.
pub use sqlx;

/// Items used by the code that `embed_migrations!()` generates. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::embedded::{EmbeddedMigration, EmbeddedRender};
}
