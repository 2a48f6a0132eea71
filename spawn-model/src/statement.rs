//! How a migration runs ([`TransactionMode`]), where its statements are ([`Statement`]) and
//! how a rerun recognises what became of a started statement ([`Recovery`]), as the
//! build-time SQL analysis found them.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// How a migration is executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TransactionMode {
    /// The whole migration and its history row run in one transaction.
    Transactional,
    /// Opted out with `-- spawn:no-transaction` on the first line: statements run one by one,
    /// each committing on its own, progress is recorded after each, and a rerun resumes after
    /// the last one that succeeded.
    NoTransaction,
}

/// One statement of a rendered migration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Statement {
    /// Byte offset of the statement's first token in the rendered SQL (leading whitespace
    /// and comments are not part of the statement).
    pub start: usize,
    /// Byte offset one past the statement's last token, before its terminating `;` (trailing
    /// whitespace and comments are not part of the statement).
    pub end: usize,
    /// 1-based line of `start` in the rendered SQL.
    pub line: u32,
    /// In a no-transaction migration: how the statement runs, and how a rerun finds out
    /// whether it took effect when an earlier run started it without recording the outcome.
    /// In a transactional migration (which runs whole) always [`Recovery::Transactional`].
    #[serde(default)]
    pub recovery: Recovery,
}

/// How a statement of a no-transaction migration runs, and how a rerun recognises whether it
/// took effect after an earlier run started it but could not record the outcome (a crash, a
/// lost connection). Decided at build time from the statement's first tokens.
///
/// The names a catalog check needs are kept as PostgreSQL reads them: a bare name folded to
/// lower case, a quoted one unquoted; a qualified name (`table`, a dropped index) as SQL with
/// every part quoted, ready for `to_regclass`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Recovery {
    /// It can run in a transaction, so it commits together with its progress record. Should
    /// PostgreSQL refuse it there anyway, a rerun asks for a check by hand.
    #[default]
    Transactional,
    /// Like [`Recovery::Transactional`], and running it twice does no harm (`ANALYZE`,
    /// `CHECKPOINT`): should PostgreSQL refuse it in a transaction, a rerun runs it again.
    TransactionalRepeatable,
    /// It cannot run in a transaction, and running it again has the same effect as running
    /// it once (`VACUUM`, `CLUSTER`, `ALTER SYSTEM`, `REINDEX … CONCURRENTLY`, `DROP … IF
    /// EXISTS`, …): a rerun runs it again.
    Rerun,
    /// It cannot run in a transaction, and nothing tells whether it took effect (a
    /// tablespace, a subscription, a detached partition, an index without a name, …): a rerun
    /// stops and asks for a check by hand.
    Manual,
    /// `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON [ONLY] table`: the index
    /// `name` in the schema of `table`. Valid there: done; INVALID: dropped and built again.
    IndexBuilt {
        /// The index's name (unqualified: it is created in the table's schema).
        name: Cow<'static, str>,
        /// The table, as quoted SQL.
        table: Cow<'static, str>,
    },
    /// `DROP INDEX CONCURRENTLY name`: done when `name` is gone.
    IndexDropped {
        /// The index, as quoted SQL.
        name: Cow<'static, str>,
    },
    /// `CREATE DATABASE name`: done when `name` exists.
    DatabaseCreated {
        /// The database's name.
        name: Cow<'static, str>,
    },
    /// `DROP DATABASE name`: done when `name` is gone.
    DatabaseDropped {
        /// The database's name.
        name: Cow<'static, str>,
    },
}

impl Recovery {
    /// Whether the statement can run in a transaction (and so commits with its progress).
    #[must_use]
    pub fn runs_in_transaction(&self) -> bool {
        matches!(self, Self::Transactional | Self::TransactionalRepeatable)
    }
}

impl Statement {
    /// The statement's text in `sql`, the SQL it was found in; `""` for a span outside it.
    #[must_use]
    pub fn text<'s>(&self, sql: &'s str) -> &'s str {
        sql.get(self.start..self.end).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_the_span_or_nothing() {
        let sql = "SELECT 1;\nSELECT 2;";
        let second = Statement {
            start: 10,
            end: 18,
            line: 2,
            recovery: Recovery::Transactional,
        };
        assert_eq!(second.text(sql), "SELECT 2");
        let outside = Statement {
            start: 10,
            end: 99,
            line: 2,
            recovery: Recovery::Transactional,
        };
        assert_eq!(outside.text(sql), "");
    }

    #[test]
    fn only_the_transactional_kinds_run_in_a_transaction() {
        assert!(Recovery::Transactional.runs_in_transaction());
        assert!(Recovery::TransactionalRepeatable.runs_in_transaction());
        assert!(!Recovery::Rerun.runs_in_transaction());
        assert!(!Recovery::Manual.runs_in_transaction());
        assert!(!Recovery::DatabaseCreated { name: "d".into() }.runs_in_transaction());
    }

    #[test]
    fn statements_serialised_before_recovery_existed_read_as_transactional() {
        let statement: Statement =
            serde_json::from_str(r#"{"start":0,"end":8,"line":1}"#).expect("a statement");
        assert_eq!(statement.recovery, Recovery::Transactional);
    }
}
