//! spawn-build: the compile pipeline of spawn.
//!
//! Called from an application's `build.rs`, [`compile()`] reads `spawn.toml`, renders every
//! migration template for every environment (pinned migrations from their content-addressed
//! snapshot under `pinned/`), analyses the SQL, and writes the compiled set to `OUT_DIR` for
//! `spawn_runtime::embed_migrations!()`.
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     spawn_build::compile().unwrap()
//! }
//! ```
//!
//! The modules are usable on their own, which is how the `spawn` CLI renders and pins:
//! [`project::Project`] is the pipeline for one project (render all migrations or one under a
//! [`project::PinPolicy`], verify pins), and [`problems::Problems`] groups what went wrong.

// The examples are build scripts, where `fn main` is the point.
#![allow(clippy::needless_doctest_main)]

pub mod analyze;
mod cache;
mod codegen;
mod compile;
pub mod error;
pub mod layout;
pub mod pin;
mod pipeline;
pub mod problems;
pub mod project;
pub mod render;
mod settle;
pub mod spawn_toml;
pub mod variables;

pub use compile::{compile, Compiled, Config};
pub use error::BuildError;
/// Checksums of rendered migrations (the model's, re-exported).
pub use spawn_model::checksum;
