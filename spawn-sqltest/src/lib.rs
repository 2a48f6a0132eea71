//! SQL regression tests for spawn projects.
//!
//! A test is a SQL script (`tests/<name>/test.sql`, a template rendered like a migration) and
//! the output it must print (`tests/<name>/expected`). This crate runs such scripts natively and
//! prints exactly what `psql -X` prints for them, so golden files written with psql keep passing:
//!
//! - [`wire`]: a minimal PostgreSQL client on the simple query protocol that keeps everything
//!   psql shows (column types, command tags, notices, every error field);
//! - [`psql`]: the psql emulation: script scanning, variables and meta-commands, and the
//!   result and message printers, and concurrent sessions in one script (`\session`);
//! - [`runner`]: many tests at once, each isolated, against copies of a migrated template;
//! - [`report`]: diffs and the JUnit report;
//! - [`message`]: the shapes the client and the printers share.

pub mod message;
pub mod psql;
pub mod report;
pub mod runner;
pub mod wire;
