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
mod lock;
mod progress;
mod refusals;
mod rollback;
mod split;
mod startup;
mod status;
mod terminated;
