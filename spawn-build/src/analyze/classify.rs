//! What a statement is, as far as transactions are concerned, from its first tokens.
//!
//! Keywords are matched case-insensitively on unquoted word tokens only, so `"begin"`, a
//! `'VACUUM'` string or a comment never match.

use super::lexer::TokenKind;

/// How many significant tokens of a statement [`classify`] looks at.
pub(crate) const HEAD_LEN: usize = 32;

/// A token of a statement's head: its kind and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tok<'a> {
    pub kind: TokenKind,
    pub text: &'a str,
}

impl Tok<'_> {
    /// Whether this is the unquoted keyword `keyword` (given in upper case).
    pub(crate) fn is(&self, keyword: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(keyword)
    }
}

/// The transaction-relevant kind of a statement. Each `what` is a phrase for messages, with
/// the SQL in backticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatementKind {
    /// Anything else.
    Other,
    /// `BEGIN [WORK | TRANSACTION]` or `START TRANSACTION`; `options` when transaction modes
    /// (`ISOLATION LEVEL …`, `READ ONLY`, …) follow.
    Begin { what: &'static str, options: bool },
    /// `COMMIT` or `END`, optionally with `WORK`/`TRANSACTION` and `AND NO CHAIN`.
    Commit { what: &'static str },
    /// Any other transaction control: `ROLLBACK`, `SAVEPOINT`, `COMMIT PREPARED`, ….
    TransactionControl { what: &'static str },
    /// A statement PostgreSQL refuses to run inside a transaction block.
    NonTransactional { what: &'static str },
    /// A statement that only works inside a transaction block.
    NeedsTransaction { what: &'static str },
}

impl StatementKind {
    /// Whether the statement starts, ends or otherwise controls a transaction.
    pub(crate) fn controls_transaction(self) -> bool {
        matches!(
            self,
            Self::Begin { .. } | Self::Commit { .. } | Self::TransactionControl { .. }
        )
    }
}

/// A statement's head: its first (up to [`HEAD_LEN`]) significant tokens.
struct Head<'h, 'a>(&'h [Tok<'a>]);

impl Head<'_, '_> {
    fn is(&self, i: usize, keyword: &str) -> bool {
        self.0.get(i).is_some_and(|t| t.is(keyword))
    }

    fn is_any(&self, i: usize, keywords: &[&str]) -> bool {
        keywords.iter().any(|k| self.is(i, k))
    }

    fn is_punct(&self, i: usize, punct: &str) -> bool {
        self.0
            .get(i)
            .is_some_and(|t| t.kind == TokenKind::Punct && t.text == punct)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// Index after an optional `WORK` or `TRANSACTION` at `i`.
    fn skip_work(&self, i: usize) -> usize {
        if self.is_any(i, &["WORK", "TRANSACTION"]) {
            i + 1
        } else {
            i
        }
    }

    /// If a parenthesised option list opens at `i`, the index after its `)`, and whether it
    /// enables `CONCURRENTLY`; otherwise `(i, false)`.
    fn options(&self, i: usize) -> (usize, bool) {
        if !self.is_punct(i, "(") {
            return (i, false);
        }
        let mut concurrently = false;
        let mut depth = 0usize;
        for (j, tok) in self.0.iter().enumerate().skip(i) {
            match (tok.kind, tok.text) {
                (TokenKind::Punct, "(") => depth += 1,
                (TokenKind::Punct, ")") => {
                    depth -= 1;
                    if depth == 0 {
                        return (j + 1, concurrently);
                    }
                }
                _ if tok.is("CONCURRENTLY") => {
                    let disabled = self.0.get(j + 1).is_some_and(|v| {
                        ["FALSE", "OFF", "0"]
                            .iter()
                            .any(|f| v.text.eq_ignore_ascii_case(f))
                    });
                    concurrently |= !disabled;
                }
                _ => {}
            }
        }
        (self.len(), concurrently)
    }
}

/// Classifies a statement by its head (see [`HEAD_LEN`]).
pub(crate) fn classify(head: &[Tok<'_>]) -> StatementKind {
    use StatementKind::*;
    let h = Head(head);
    let Some(first) = head.first() else {
        return Other;
    };
    let keyword = |k: &str| first.is(k);

    if keyword("BEGIN") {
        return Begin {
            what: "`BEGIN`",
            options: h.len() > h.skip_work(1),
        };
    }
    if keyword("START") && h.is(1, "TRANSACTION") {
        return Begin {
            what: "`START TRANSACTION`",
            options: h.len() > 2,
        };
    }
    if keyword("COMMIT") || keyword("END") {
        if keyword("COMMIT") && h.is(1, "PREPARED") {
            return TransactionControl {
                what: "`COMMIT PREPARED`",
            };
        }
        let i = h.skip_work(1);
        if h.is(i, "AND") && h.is(i + 1, "CHAIN") {
            let what = if keyword("END") {
                "`END AND CHAIN`"
            } else {
                "`COMMIT AND CHAIN`"
            };
            return TransactionControl { what };
        }
        return Commit {
            what: if keyword("END") { "`END`" } else { "`COMMIT`" },
        };
    }
    if keyword("ROLLBACK") {
        let what = if h.is(1, "PREPARED") {
            "`ROLLBACK PREPARED`"
        } else if h.is(h.skip_work(1), "TO") {
            "`ROLLBACK TO SAVEPOINT`"
        } else {
            "`ROLLBACK`"
        };
        return TransactionControl { what };
    }
    if keyword("ABORT") {
        return TransactionControl { what: "`ABORT`" };
    }
    if keyword("SAVEPOINT") {
        return TransactionControl {
            what: "`SAVEPOINT`",
        };
    }
    if keyword("RELEASE") {
        return TransactionControl {
            what: "`RELEASE SAVEPOINT`",
        };
    }
    if keyword("PREPARE") && h.is(1, "TRANSACTION") {
        return TransactionControl {
            what: "`PREPARE TRANSACTION`",
        };
    }
    if keyword("LOCK") {
        return NeedsTransaction { what: "`LOCK`" };
    }
    match non_transactional(&h) {
        Some(what) => NonTransactional { what },
        None => Other,
    }
}

/// The phrase for a statement that cannot run inside a transaction block, if it is one.
fn non_transactional(h: &Head<'_, '_>) -> Option<&'static str> {
    let what = if h.is(0, "CREATE") {
        if h.is(1, "INDEX") && h.is(2, "CONCURRENTLY") {
            "`CREATE INDEX CONCURRENTLY`"
        } else if h.is(1, "UNIQUE") && h.is(2, "INDEX") && h.is(3, "CONCURRENTLY") {
            "`CREATE UNIQUE INDEX CONCURRENTLY`"
        } else if h.is(1, "DATABASE") {
            "`CREATE DATABASE`"
        } else if h.is(1, "TABLESPACE") {
            "`CREATE TABLESPACE`"
        } else if h.is(1, "SUBSCRIPTION") {
            "`CREATE SUBSCRIPTION`"
        } else {
            return None;
        }
    } else if h.is(0, "DROP") {
        if h.is(1, "INDEX") && h.is(2, "CONCURRENTLY") {
            "`DROP INDEX CONCURRENTLY`"
        } else if h.is(1, "DATABASE") {
            "`DROP DATABASE`"
        } else if h.is(1, "TABLESPACE") {
            "`DROP TABLESPACE`"
        } else if h.is(1, "SUBSCRIPTION") {
            "`DROP SUBSCRIPTION`"
        } else {
            return None;
        }
    } else if h.is(0, "ALTER") {
        if h.is(1, "SYSTEM") {
            "`ALTER SYSTEM`"
        } else if h.is(1, "TABLE") && detaches_concurrently(h) {
            "`ALTER TABLE … DETACH PARTITION … CONCURRENTLY`"
        } else if h.is(1, "DATABASE") && h.is(3, "SET") && h.is(4, "TABLESPACE") {
            "`ALTER DATABASE … SET TABLESPACE`"
        } else {
            return None;
        }
    } else if h.is(0, "REINDEX") {
        return reindex(h);
    } else if h.is(0, "VACUUM") {
        "`VACUUM`"
    } else if h.is(0, "CLUSTER") {
        let (i, _) = h.options(1);
        let i = if h.is(i, "VERBOSE") { i + 1 } else { i };
        if i < h.len() {
            return None;
        }
        "`CLUSTER` without a table name"
    } else if h.is(0, "DISCARD") && h.is(1, "ALL") {
        "`DISCARD ALL`"
    } else {
        return None;
    };
    Some(what)
}

/// `ALTER TABLE … DETACH PARTITION … CONCURRENTLY`.
fn detaches_concurrently(h: &Head<'_, '_>) -> bool {
    (2..h.len())
        .find(|&i| h.is(i, "DETACH") && h.is(i + 1, "PARTITION"))
        .is_some_and(|i| (i + 2..h.len()).any(|j| h.is(j, "CONCURRENTLY")))
}

/// `REINDEX … CONCURRENTLY` and `REINDEX SCHEMA | DATABASE | SYSTEM`.
fn reindex(h: &Head<'_, '_>) -> Option<&'static str> {
    let (target, concurrently_option) = h.options(1);
    if concurrently_option || h.is(target + 1, "CONCURRENTLY") {
        Some("`REINDEX … CONCURRENTLY`")
    } else if h.is(target, "SCHEMA") {
        Some("`REINDEX SCHEMA`")
    } else if h.is(target, "DATABASE") {
        Some("`REINDEX DATABASE`")
    } else if h.is(target, "SYSTEM") {
        Some("`REINDEX SYSTEM`")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::{classify, StatementKind, StatementKind::*, Tok};
    use crate::analyze::lexer::{Lexer, TokenKind};

    fn kind(sql: &str) -> StatementKind {
        let head: Vec<Tok<'_>> = Lexer::new(sql, 0)
            .map(|t| t.expect("lexes"))
            .filter(|t| !matches!(t.kind, TokenKind::LineComment | TokenKind::BlockComment))
            .map(|t| Tok {
                kind: t.kind,
                text: &sql[t.start..t.end],
            })
            .collect();
        classify(&head)
    }

    fn non_tx(sql: &str) -> Option<&'static str> {
        match kind(sql) {
            NonTransactional { what } => Some(what),
            _ => None,
        }
    }

    #[test]
    fn begin_forms() {
        for sql in ["BEGIN", "begin work", "Begin Transaction"] {
            assert_eq!(
                kind(sql),
                Begin {
                    what: "`BEGIN`",
                    options: false
                },
                "{sql}"
            );
        }
        assert_eq!(
            kind("START TRANSACTION"),
            Begin {
                what: "`START TRANSACTION`",
                options: false
            }
        );
        assert_eq!(
            kind("BEGIN ISOLATION LEVEL SERIALIZABLE"),
            Begin {
                what: "`BEGIN`",
                options: true
            }
        );
        assert_eq!(
            kind("BEGIN TRANSACTION READ ONLY"),
            Begin {
                what: "`BEGIN`",
                options: true
            }
        );
        assert_eq!(
            kind("start transaction isolation level repeatable read"),
            Begin {
                what: "`START TRANSACTION`",
                options: true
            }
        );
    }

    #[test]
    fn commit_forms() {
        for sql in [
            "COMMIT",
            "commit work",
            "COMMIT TRANSACTION",
            "COMMIT AND NO CHAIN",
        ] {
            assert_eq!(kind(sql), Commit { what: "`COMMIT`" }, "{sql}");
        }
        for sql in ["END", "end work", "END TRANSACTION"] {
            assert_eq!(kind(sql), Commit { what: "`END`" }, "{sql}");
        }
        assert_eq!(
            kind("COMMIT AND CHAIN"),
            TransactionControl {
                what: "`COMMIT AND CHAIN`"
            }
        );
        assert_eq!(
            kind("COMMIT PREPARED 'x'"),
            TransactionControl {
                what: "`COMMIT PREPARED`"
            }
        );
    }

    #[test]
    fn other_transaction_control() {
        let cases = [
            ("ROLLBACK", "`ROLLBACK`"),
            ("rollback work and chain", "`ROLLBACK`"),
            ("ROLLBACK TO SAVEPOINT a", "`ROLLBACK TO SAVEPOINT`"),
            ("ROLLBACK WORK TO a", "`ROLLBACK TO SAVEPOINT`"),
            ("ROLLBACK PREPARED 'x'", "`ROLLBACK PREPARED`"),
            ("ABORT", "`ABORT`"),
            ("SAVEPOINT a", "`SAVEPOINT`"),
            ("RELEASE SAVEPOINT a", "`RELEASE SAVEPOINT`"),
            ("release a", "`RELEASE SAVEPOINT`"),
            ("PREPARE TRANSACTION 'x'", "`PREPARE TRANSACTION`"),
        ];
        for (sql, what) in cases {
            assert_eq!(kind(sql), TransactionControl { what }, "{sql}");
        }
    }

    #[test]
    fn not_transaction_control() {
        for sql in [
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "PREPARE q AS SELECT 1",
            "SELECT 'BEGIN'",
            "\"begin\"",
            "DO $$ BEGIN COMMIT; END $$",
            "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1; END",
            "",
        ] {
            assert_eq!(kind(sql), Other, "{sql}");
        }
    }

    #[test]
    fn statements_that_cannot_run_in_a_transaction() {
        let cases = [
            (
                "CREATE INDEX CONCURRENTLY i ON t (a)",
                "`CREATE INDEX CONCURRENTLY`",
            ),
            (
                "create index concurrently if not exists i on t (a)",
                "`CREATE INDEX CONCURRENTLY`",
            ),
            (
                "CREATE UNIQUE INDEX CONCURRENTLY i ON t (a)",
                "`CREATE UNIQUE INDEX CONCURRENTLY`",
            ),
            (
                "DROP INDEX CONCURRENTLY IF EXISTS i",
                "`DROP INDEX CONCURRENTLY`",
            ),
            ("REINDEX INDEX CONCURRENTLY i", "`REINDEX … CONCURRENTLY`"),
            ("REINDEX TABLE CONCURRENTLY t", "`REINDEX … CONCURRENTLY`"),
            (
                "REINDEX (VERBOSE, CONCURRENTLY) TABLE t",
                "`REINDEX … CONCURRENTLY`",
            ),
            (
                "REINDEX (CONCURRENTLY true) INDEX i",
                "`REINDEX … CONCURRENTLY`",
            ),
            ("REINDEX DATABASE db", "`REINDEX DATABASE`"),
            ("REINDEX (VERBOSE) SYSTEM", "`REINDEX SYSTEM`"),
            ("REINDEX SCHEMA s", "`REINDEX SCHEMA`"),
            (
                "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY",
                "`ALTER TABLE … DETACH PARTITION … CONCURRENTLY`",
            ),
            (
                r#"ALTER TABLE IF EXISTS ONLY "s"."p" DETACH PARTITION s.p1 CONCURRENTLY"#,
                "`ALTER TABLE … DETACH PARTITION … CONCURRENTLY`",
            ),
            ("VACUUM", "`VACUUM`"),
            ("vacuum (analyze) t", "`VACUUM`"),
            ("CREATE DATABASE d", "`CREATE DATABASE`"),
            ("DROP DATABASE IF EXISTS d", "`DROP DATABASE`"),
            ("ALTER SYSTEM SET work_mem = '1MB'", "`ALTER SYSTEM`"),
            ("CREATE TABLESPACE ts LOCATION '/x'", "`CREATE TABLESPACE`"),
            ("DROP TABLESPACE ts", "`DROP TABLESPACE`"),
            (
                "ALTER DATABASE d SET TABLESPACE ts",
                "`ALTER DATABASE … SET TABLESPACE`",
            ),
            (
                "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p",
                "`CREATE SUBSCRIPTION`",
            ),
            ("DROP SUBSCRIPTION s", "`DROP SUBSCRIPTION`"),
            ("CLUSTER", "`CLUSTER` without a table name"),
            ("CLUSTER VERBOSE", "`CLUSTER` without a table name"),
            ("CLUSTER (VERBOSE)", "`CLUSTER` without a table name"),
            ("DISCARD ALL", "`DISCARD ALL`"),
        ];
        for (sql, what) in cases {
            assert_eq!(non_tx(sql), Some(what), "{sql}");
        }
    }

    #[test]
    fn statements_that_can_run_in_a_transaction() {
        for sql in [
            "CREATE INDEX i ON t (a)",
            "CREATE UNIQUE INDEX i ON t (a)",
            "DROP INDEX i",
            "REINDEX TABLE t",
            "REINDEX (CONCURRENTLY false) TABLE t",
            "REINDEX (VERBOSE) INDEX i",
            "ALTER TABLE p DETACH PARTITION p1",
            "ALTER TABLE p DETACH PARTITION p1 FINALIZE",
            "ALTER TABLE t ADD COLUMN concurrently_x int",
            "ALTER TYPE mood ADD VALUE 'meh'",
            "ALTER DATABASE d SET work_mem = '1MB'",
            "ALTER SUBSCRIPTION s DISABLE",
            "CLUSTER t",
            "CLUSTER VERBOSE t USING i",
            "CLUSTER (VERBOSE) t",
            "DISCARD PLANS",
            "REFRESH MATERIALIZED VIEW CONCURRENTLY v",
            "ANALYZE t",
            "SELECT 'VACUUM'",
            "CREATE INDEX \"concurrently\" ON t (a)",
            "CREATE TABLE database (a int)",
        ] {
            assert_eq!(kind(sql), Other, "{sql}");
        }
    }

    #[test]
    fn lock_needs_a_transaction() {
        assert_eq!(
            kind("LOCK TABLE t IN ACCESS EXCLUSIVE MODE"),
            NeedsTransaction { what: "`LOCK`" }
        );
    }
}
