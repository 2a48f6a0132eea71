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

pub mod embedded;
pub mod migration;

pub use embedded::Migrations;
pub use migration::{LineOrigin, Migration, Statement, TransactionMode};
pub use spawn_macros::embed_migrations;
/// The sqlx version this crate is built on, re-exported so applications use the same one.
pub use sqlx;

/// Items used by the code that `embed_migrations!()` generates. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::embedded::{EmbeddedMigration, EmbeddedRender};
}
