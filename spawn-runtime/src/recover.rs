//! Exactly once across crashes: how each statement of a no-transaction migration is run so
//! that a rerun neither skips nor repeats it, and how a rerun finds out what became of a
//! statement that an earlier run started but did not record.
//!
//! * A statement that can run in a transaction commits together with its progress row
//!   (`BEGIN; statement; progress row; COMMIT`), so it is recorded if and only if it took
//!   effect. (With the tracking tables in another database they cannot commit together: the
//!   statement runs and then its row is written, and a crash in between runs it again.)
//! * Before a statement that cannot run in a transaction, an ATTEMPTED row records that it
//!   was *started* (progress `"started": k`). A rerun that finds that marker does what the
//!   statement's [`Recovery`] (decided at build time by spawn-build's analyzer) says
//!   ([`on_rerun`]):
//!   * [`OnRerun::RunAgain`]: running it again has the same effect as running it once
//!     (`VACUUM`, `ANALYZE`, `ALTER SYSTEM`, `CHECKPOINT`, `DISCARD ALL`, `CLUSTER`, `REINDEX`,
//!     `… IF EXISTS` drops). `REINDEX … CONCURRENTLY` is run again too: it rebuilds the
//!     same indexes; an interrupted one may leave an INVALID `…_ccnew` index behind, which
//!     PostgreSQL leaves to be dropped by hand.
//!   * [`OnRerun::Check`]: the catalog tells: an index built concurrently present and
//!     valid is done, present and INVALID (`pg_index.indisvalid`) is dropped concurrently and
//!     built again, absent is built; a dropped index or database that is absent is done; a
//!     created database that exists is done.
//!   * [`OnRerun::AskByHand`]: nothing tells (a tablespace, a subscription, a detached
//!     partition, an index without a name, a statement PostgreSQL refused to run in a
//!     transaction although it was not known to need that, …): the run stops with
//!     [`MigrateError::OutcomeUnknown`](crate::MigrateError::OutcomeUnknown), which says what
//!     to check and how to record the outcome once checked
//!     ([`Migrator::resolve_statement`](crate::Migrator::resolve_statement)).
//!
//! This module reads no SQL: it only runs the catalog checks for the kind it is given.

use sqlx::Row;

use crate::lock::Session;
use crate::tracking::quote_literal;
use crate::Recovery;

/// What a rerun does with a statement that was started but not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OnRerun<'s> {
    /// Run it again: that has the same effect as running it once.
    RunAgain,
    /// Ask the catalog whether it took effect.
    Check(Check<'s>),
    /// Nothing tells: stop and ask for a check by hand.
    AskByHand,
}

/// A catalog check of a statement that cannot run in a transaction; the names are as
/// [`Recovery`] keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Check<'s> {
    /// `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON [ONLY] table`.
    IndexBuilt { name: &'s str, table: &'s str },
    /// `DROP INDEX CONCURRENTLY name`.
    IndexDropped { name: &'s str },
    /// `CREATE DATABASE name`.
    DatabaseCreated { name: &'s str },
    /// `DROP DATABASE name`.
    DatabaseDropped { name: &'s str },
}

/// What a rerun does with a started statement whose recovery is `recovery`.
pub(crate) fn on_rerun(recovery: &Recovery) -> OnRerun<'_> {
    match recovery {
        // (A repeatable one was started only after PostgreSQL refused it in a transaction.)
        Recovery::TransactionalRepeatable | Recovery::Rerun => OnRerun::RunAgain,
        Recovery::IndexBuilt { name, table } => OnRerun::Check(Check::IndexBuilt { name, table }),
        Recovery::IndexDropped { name } => OnRerun::Check(Check::IndexDropped { name }),
        Recovery::DatabaseCreated { name } => OnRerun::Check(Check::DatabaseCreated { name }),
        Recovery::DatabaseDropped { name } => OnRerun::Check(Check::DatabaseDropped { name }),
        // Transactional (refused in a transaction all the same), Manual, and any kind this
        // runtime does not know: only a person can tell.
        _ => OnRerun::AskByHand,
    }
}

/// What the catalog says about a started statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// It took effect.
    Done,
    /// It did not: run it.
    NotDone,
    /// An index built concurrently is there but INVALID: drop it (this SQL), then build it.
    InvalidIndex { drop: String },
}

impl Check<'_> {
    /// Asks the catalog on `session` (the target).
    pub async fn run(&self, session: &mut Session) -> Result<Found, sqlx::Error> {
        match self {
            Check::IndexBuilt { name, table } => {
                let sql = format!(
                    "SELECT i.indisvalid, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) \
                     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid \
                     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relname = {} AND c.relnamespace = \
                     (SELECT t.relnamespace FROM pg_catalog.pg_class t WHERE t.oid = pg_catalog.to_regclass({}))",
                    quote_literal(name),
                    quote_literal(table)
                );
                let rows = session.fetch_all(&sql).await?;
                Ok(match rows.first() {
                    None => Found::NotDone,
                    Some(row) if row.try_get::<bool, _>(0)? => Found::Done,
                    Some(row) => Found::InvalidIndex {
                        drop: format!(
                            "DROP INDEX CONCURRENTLY IF EXISTS {}",
                            row.try_get::<String, _>(1)?
                        ),
                    },
                })
            }
            Check::IndexDropped { name } => {
                let sql = format!(
                    "SELECT 1 WHERE pg_catalog.to_regclass({}) IS NULL",
                    quote_literal(name)
                );
                Ok(done_if_row(&session.fetch_all(&sql).await?))
            }
            Check::DatabaseCreated { name } => {
                let sql = format!(
                    "SELECT 1 FROM pg_catalog.pg_database WHERE datname = {}",
                    quote_literal(name)
                );
                Ok(done_if_row(&session.fetch_all(&sql).await?))
            }
            Check::DatabaseDropped { name } => {
                let sql = format!(
                    "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = {})",
                    quote_literal(name)
                );
                Ok(done_if_row(&session.fetch_all(&sql).await?))
            }
        }
    }
}

fn done_if_row(rows: &[sqlx::postgres::PgRow]) -> Found {
    if rows.is_empty() {
        Found::NotDone
    } else {
        Found::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_recovery_maps_to_what_a_rerun_does() {
        let index = Recovery::IndexBuilt {
            name: "i".into(),
            table: "\"t\"".into(),
        };
        assert_eq!(
            on_rerun(&index),
            OnRerun::Check(Check::IndexBuilt {
                name: "i",
                table: "\"t\""
            })
        );
        let dropped = Recovery::DatabaseDropped { name: "d".into() };
        assert_eq!(
            on_rerun(&dropped),
            OnRerun::Check(Check::DatabaseDropped { name: "d" })
        );
        assert_eq!(on_rerun(&Recovery::Rerun), OnRerun::RunAgain);
        assert_eq!(
            on_rerun(&Recovery::TransactionalRepeatable),
            OnRerun::RunAgain
        );
        assert_eq!(on_rerun(&Recovery::Transactional), OnRerun::AskByHand);
        assert_eq!(on_rerun(&Recovery::Manual), OnRerun::AskByHand);
    }
}
