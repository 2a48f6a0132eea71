//! The fixture app of spawn-cli's tests: `tests/fixtures/app`'s migrations embedded as an
//! application embeds its own (see build.rs), so the tests can check that the `spawn` CLI and
//! an embedded migrator agree about one database.

/// The migrations of `spawn-cli/tests/fixtures/app`, compiled by build.rs.
pub static MIGRATIONS: spawn_runtime::Migrations = spawn_runtime::embed_migrations!();
