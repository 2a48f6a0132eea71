//! SQL regression tests for spawn projects.
//!
//! A test is a SQL script (`tests/<name>/test.sql`, a template rendered like a migration) and
//! the output it must print (`tests/<name>/expected`). This crate runs such scripts natively and
//! prints exactly what `psql -X` prints for them, so golden files written with psql keep passing:
//!
//! - [`wire`]: a minimal PostgreSQL client on the simple query protocol that keeps everything
//!   psql shows (column types, command tags, notices, every error field);
//! - [`psql`]: the psql emulation: script scanning, variables and meta-commands, and the
//!   result and message printers;
//! - [`message`]: the shapes both share.

pub mod message;
pub mod psql;
pub mod wire;
