//! Integration tests of spawn-runtime's migrator against a real PostgreSQL (one database
//! per test, see `spawn_tests::TestDb`).

mod common;

mod apply;
mod callbacks;
mod compat;
mod connect;
mod crash_recovery;
mod embedded;
mod events;
mod failures;
mod fleet;
mod lock;
mod progress;
mod refusals;
mod repeatable;
mod revert;
mod rollback;
mod split;
mod startup;
mod status;
mod tenants;
mod terminated;
