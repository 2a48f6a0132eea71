//! spawn-model: the compiled migration, defined once.
//!
//! A spawn migration is a template; compiling it for one environment gives a [`Migration`]:
//! the rendered SQL, its checksums, how it runs ([`TransactionMode`]), where its statements
//! are ([`Statement`]), how a rerun recovers a statement of a no-transaction migration that
//! was started but not recorded ([`Recovery`]) and which component wrote which lines
//! ([`LineOrigin`]); and the SQL callbacks run around a migration run ([`Callbacks`]). The build
//! pipeline (`spawn-build`) produces these values, embeds them into an application as static
//! data, and the CLI hands them to the migrator directly; the runtime (`spawn-runtime`)
//! applies them. Because all three use this one model, they cannot disagree about what a
//! migration is, how it is checksummed or where a failing line came from.
//!
//! The crate is deliberately small: no template engine, no database driver. Its types hold
//! `Cow<'static, …>` data, so a [`Migration`] can be static (borrowed from the binary) or
//! owned (rendered at run time) without a lifetime parameter, and derive serde's traits so
//! the build pipeline can cache them.

#![warn(missing_docs)]

mod callbacks;
pub mod checksum;
mod migration;
mod origin;
mod statement;

pub use callbacks::{Callback, CallbackKind, Callbacks};
pub use migration::{Down, Migration};

/// Where a tenant part (`tenant.sql`) names its tenant: spawn-build renders `tenant` as this
/// text, and the runtime replaces it with each tenant's schema name before applying the part.
/// Plain letters and `_`, so it reads the same inside a string literal, a quoted identifier
/// and a comment.
pub const TENANT_MARKER: &str = "__spawn_tenant__";
pub use origin::{component_of_line, LineOrigin};
pub use statement::{Recovery, Statement, TransactionMode};

/// The file, below `OUT_DIR`, that `spawn_build::compile()` writes the compiled migration
/// set to and `embed_migrations!()` includes.
pub const GENERATED_FILE: &str = "spawn_migrations.rs";
