//! Exactly once across crashes: how each statement of a no-transaction migration is run so
//! that a rerun neither skips nor repeats it, and how a rerun finds out what became of a
//! statement that an earlier run started but did not record.
//!
//! * A statement that can run in a transaction commits together with its progress row
//!   (`BEGIN; statement; progress row; COMMIT`), so it is recorded if and only if it took
//!   effect. (With the tracking tables in another database they cannot commit together: the
//!   statement runs and then its row is written, and a crash in between runs it again.)
//! * Before a statement that cannot run in a transaction, an ATTEMPTED row records that it
//!   was *started* (progress `"started": k`). A rerun that finds that marker checks the
//!   statement's [`Recovery`]:
//!   * [`Recovery::Rerun`]: running it again has the same effect as running it once
//!     (`VACUUM`, `ANALYZE`, `ALTER SYSTEM`, `CHECKPOINT`, `DISCARD ALL`, `CLUSTER`, `REINDEX`,
//!     `… IF EXISTS` drops). `REINDEX … CONCURRENTLY` is run again too: it rebuilds the
//!     same indexes; an interrupted one may leave an INVALID `…_ccnew` index behind, which
//!     PostgreSQL leaves to be dropped by hand.
//!   * [`Recovery::Catalog`]: the catalog tells: an index built concurrently present and
//!     valid is done, present and INVALID (`pg_index.indisvalid`) is dropped concurrently and
//!     built again, absent is built; a dropped index or database that is absent is done; a
//!     created database that exists is done.
//!   * [`Recovery::Manual`]: nothing tells (a tablespace, a subscription, a detached
//!     partition, an index without a name, …): the run stops with
//!     [`MigrateError::OutcomeUnknown`](crate::MigrateError::OutcomeUnknown), which says what
//!     to check and how to record the outcome once checked
//!     ([`Migrator::resolve_statement`](crate::Migrator::resolve_statement)).
//!
//! Statements are recognised by their first tokens, as the build-time analyzer does.

use sqlx::Row;

use crate::lock::Session;
use crate::tracking::quote_literal;

/// How a statement of a no-transaction migration runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// It can run in a transaction: it commits with its progress row.
    Transactional,
    /// It cannot: a started marker is recorded first, and a rerun recovers it like this.
    NonTransactional(Recovery),
}

/// What a rerun does with a statement that was started but not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recovery {
    /// Run it again: that has the same effect as running it once.
    Rerun,
    /// Ask the catalog whether it took effect.
    Catalog(Check),
    /// Nothing tells: stop and ask for a check by hand.
    Manual,
}

/// A catalog check of a statement that cannot run in a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Check {
    /// `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON [ONLY] table`.
    IndexBuilt { name: String, table: String },
    /// `DROP INDEX CONCURRENTLY name`.
    IndexDropped { name: String },
    /// `CREATE DATABASE name`.
    DatabaseCreated { name: String },
    /// `DROP DATABASE name`.
    DatabaseDropped { name: String },
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

impl Check {
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

/// A token of a statement's head.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// An unquoted word, as written.
    Word(String),
    /// A quoted identifier, unescaped.
    Quoted(String),
    /// Anything else (one character; string literals and numbers included).
    Other(char),
}

impl Tok {
    fn is(&self, keyword: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(keyword))
    }
}

/// How many tokens of a statement [`kind`] looks at.
const HEAD_LEN: usize = 16;

/// The first tokens of `sql`, comments skipped.
fn head(sql: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while out.len() < HEAD_LEN {
        let Some(c) = chars.next() else { break };
        match c {
            c if c.is_whitespace() => {}
            '-' if chars.peek() == Some(&'-') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut depth = 1usize;
                let mut prev = ' ';
                for c in chars.by_ref() {
                    match (prev, c) {
                        ('*', '/') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            prev = ' ';
                            continue;
                        }
                        ('/', '*') => {
                            depth += 1;
                            prev = ' ';
                            continue;
                        }
                        _ => {}
                    }
                    prev = c;
                }
            }
            '"' => {
                let mut ident = String::new();
                while let Some(c) = chars.next() {
                    if c == '"' {
                        if chars.peek() == Some(&'"') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    ident.push(c);
                }
                out.push(Tok::Quoted(ident));
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut word = String::from(c);
                while let Some(&c) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' || c == '$' {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Tok::Word(word));
            }
            c => out.push(Tok::Other(c)),
        }
    }
    out
}

/// The statement's head, with accessors that tolerate running off its end.
struct Head(Vec<Tok>);

impl Head {
    fn is(&self, i: usize, keyword: &str) -> bool {
        self.0.get(i).is_some_and(|t| t.is(keyword))
    }

    /// The (possibly schema-qualified) name starting at `i`: its parts as PostgreSQL folds
    /// them, and the index after it.
    fn name(&self, i: usize) -> Option<(Vec<String>, usize)> {
        let mut parts = Vec::new();
        let mut j = i;
        loop {
            match self.0.get(j)? {
                Tok::Word(w) => parts.push(w.to_lowercase()),
                Tok::Quoted(q) => parts.push(q.clone()),
                Tok::Other(_) => return None,
            }
            j += 1;
            if self.0.get(j) != Some(&Tok::Other('.')) {
                return Some((parts, j));
            }
            j += 1;
        }
    }

    /// `ALTER TABLE … DETACH PARTITION … CONCURRENTLY`.
    fn detaches_concurrently(&self) -> bool {
        let has = |keyword| (2..self.0.len()).any(|i| self.is(i, keyword));
        self.is(1, "TABLE") && has("DETACH") && has("CONCURRENTLY")
    }

    /// Index after `IF NOT EXISTS` / `IF EXISTS` at `i`, and whether it was there.
    fn if_exists(&self, i: usize) -> (usize, bool) {
        if self.is(i, "IF") && self.is(i + 1, "NOT") && self.is(i + 2, "EXISTS") {
            (i + 3, true)
        } else if self.is(i, "IF") && self.is(i + 1, "EXISTS") {
            (i + 2, true)
        } else {
            (i, false)
        }
    }
}

/// A name's parts as SQL (each part quoted), for `to_regclass`.
fn qualified(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| format!("\"{}\"", p.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

/// How `sql` (one statement) runs and, if it cannot run in a transaction, how a rerun
/// recovers it.
pub(crate) fn kind(sql: &str) -> Kind {
    use Recovery::*;
    let h = Head(head(sql));
    let recovery = if h.is(0, "CREATE") {
        let i = if h.is(1, "UNIQUE") { 2 } else { 1 };
        if h.is(i, "INDEX") && h.is(i + 1, "CONCURRENTLY") {
            let (at, _) = h.if_exists(i + 2);
            match h.name(at) {
                Some((name, on)) if name.len() == 1 && h.is(on, "ON") => {
                    let t = if h.is(on + 1, "ONLY") { on + 2 } else { on + 1 };
                    match h.name(t) {
                        Some((table, _)) => Catalog(Check::IndexBuilt {
                            name: name.concat(),
                            table: qualified(&table),
                        }),
                        None => Manual,
                    }
                }
                // No name: PostgreSQL picks one, which a rerun cannot tell from another.
                _ => Manual,
            }
        } else if h.is(1, "DATABASE") {
            match h.name(2) {
                Some((name, _)) if name.len() == 1 => Catalog(Check::DatabaseCreated {
                    name: name.concat(),
                }),
                _ => Manual,
            }
        } else if h.is(1, "TABLESPACE") || h.is(1, "SUBSCRIPTION") {
            Manual
        } else {
            return Kind::Transactional;
        }
    } else if h.is(0, "DROP") {
        let what = if h.is(1, "INDEX") && h.is(2, "CONCURRENTLY") {
            3
        } else if h.is(1, "DATABASE") || h.is(1, "TABLESPACE") || h.is(1, "SUBSCRIPTION") {
            2
        } else {
            return Kind::Transactional;
        };
        let (at, if_exists) = h.if_exists(what);
        let name = h
            .name(at)
            .filter(|(_, end)| h.0.get(*end) != Some(&Tok::Other(',')));
        match name {
            _ if if_exists => Rerun,
            Some((name, _)) if what == 3 => Catalog(Check::IndexDropped {
                name: qualified(&name),
            }),
            Some((name, _)) if h.is(1, "DATABASE") && name.len() == 1 => {
                Catalog(Check::DatabaseDropped {
                    name: name.concat(),
                })
            }
            _ => Manual,
        }
    } else if h.is(0, "ALTER") {
        if h.is(1, "SYSTEM") {
            Rerun
        } else if h.detaches_concurrently()
            || (h.is(1, "DATABASE") && h.is(3, "SET") && h.is(4, "TABLESPACE"))
        {
            Manual
        } else {
            return Kind::Transactional;
        }
    } else if h.is(0, "REINDEX") {
        let concurrently = (1..h.0.len()).any(|i| h.is(i, "CONCURRENTLY"));
        if concurrently || h.is(1, "SCHEMA") || h.is(1, "DATABASE") || h.is(1, "SYSTEM") {
            Rerun
        } else {
            return Kind::Transactional;
        }
    } else if h.is(0, "VACUUM") || h.is(0, "CLUSTER") || (h.is(0, "DISCARD") && h.is(1, "ALL")) {
        Rerun
    } else {
        return Kind::Transactional;
    };
    Kind::NonTransactional(recovery)
}

/// What a statement started with an unknown outcome stands for, once PostgreSQL refused to
/// run it in a transaction although [`kind`] did not know it: idempotent statements that
/// [`kind`] leaves to the transaction are rerun too, anything else needs a check by hand.
pub(crate) fn refused_in_transaction(sql: &str) -> Recovery {
    let h = Head(head(sql));
    if h.is(0, "ANALYZE") || h.is(0, "CHECKPOINT") || h.is(0, "VACUUM") {
        Recovery::Rerun
    } else {
        Recovery::Manual
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(name: &str, table: &str) -> Kind {
        Kind::NonTransactional(Recovery::Catalog(Check::IndexBuilt {
            name: name.into(),
            table: table.into(),
        }))
    }

    #[test]
    fn indexes_built_concurrently_are_checked_in_the_catalog() {
        assert_eq!(
            kind("CREATE INDEX CONCURRENTLY t23_n_idx ON t23 (n)"),
            index("t23_n_idx", "\"t23\"")
        );
        assert_eq!(
            kind("-- c\ncreate unique index concurrently if not exists \"Big\" on only app.\"T\" (n)"),
            index("Big", "\"app\".\"T\"")
        );
        assert_eq!(
            kind("CREATE INDEX CONCURRENTLY ON t (n)"),
            Kind::NonTransactional(Recovery::Manual)
        );
        assert_eq!(
            kind("DROP INDEX CONCURRENTLY app.i"),
            Kind::NonTransactional(Recovery::Catalog(Check::IndexDropped {
                name: "\"app\".\"i\"".into()
            }))
        );
        assert_eq!(
            kind("DROP INDEX CONCURRENTLY IF EXISTS i"),
            Kind::NonTransactional(Recovery::Rerun)
        );
        assert_eq!(
            kind("DROP INDEX CONCURRENTLY a, b"),
            Kind::NonTransactional(Recovery::Manual)
        );
    }

    #[test]
    fn other_statements() {
        use Kind::*;
        assert_eq!(
            kind("CREATE DATABASE Other"),
            NonTransactional(Recovery::Catalog(Check::DatabaseCreated {
                name: "other".into()
            }))
        );
        assert_eq!(
            kind("VACUUM (ANALYZE) t"),
            NonTransactional(Recovery::Rerun)
        );
        assert_eq!(
            kind("ALTER SYSTEM SET x = 1"),
            NonTransactional(Recovery::Rerun)
        );
        assert_eq!(
            kind("REINDEX TABLE CONCURRENTLY t"),
            NonTransactional(Recovery::Rerun)
        );
        assert_eq!(
            kind("CREATE TABLESPACE s LOCATION '/x'"),
            NonTransactional(Recovery::Manual)
        );
        assert_eq!(
            kind("ALTER TABLE p DETACH PARTITION c CONCURRENTLY"),
            NonTransactional(Recovery::Manual)
        );
        assert_eq!(kind("CREATE TABLE t AS SELECT 1"), Transactional);
        assert_eq!(kind("ALTER TYPE e ADD VALUE 'x'"), Transactional);
        assert_eq!(kind("CREATE INDEX i ON t (n)"), Transactional);
        assert_eq!(kind("/* VACUUM */ SELECT 1"), Transactional);
        assert_eq!(refused_in_transaction("CHECKPOINT"), Recovery::Rerun);
        assert_eq!(refused_in_transaction("SELECT 1"), Recovery::Manual);
    }
}
