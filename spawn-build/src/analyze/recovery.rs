//! How a statement of a no-transaction migration runs and how a rerun recognises whether it
//! took effect ([`Recovery`]), from its first tokens.
//!
//! The runtime records "started statement k" before a statement that cannot run in a
//! transaction; a rerun that finds that record does what the statement's [`Recovery`] says:
//! run it again, ask the catalog (an index built or dropped concurrently, a database created
//! or dropped), or stop for a check by hand. Deciding it here, once, keeps the runtime free
//! of SQL parsing.

use spawn_model::Recovery;

use super::classify::{Tok, HEAD_LEN};
use super::lexer::{Lexer, TokenKind};

/// How `statement` (the text of one statement, without its `;`) runs and is recovered.
#[must_use]
pub fn recovery_of(statement: &str) -> Recovery {
    let tokens = head(statement);
    let h = Head(&tokens);
    if h.is(0, "CREATE") {
        create(&h)
    } else if h.is(0, "DROP") {
        drop(&h)
    } else if h.is(0, "ALTER") {
        if h.is(1, "SYSTEM") {
            Recovery::Rerun
        } else if h.detaches_concurrently()
            || (h.is(1, "DATABASE") && h.is(3, "SET") && h.is(4, "TABLESPACE"))
        {
            Recovery::Manual
        } else {
            Recovery::Transactional
        }
    } else if h.is(0, "REINDEX") {
        let concurrently = (1..tokens.len()).any(|i| h.is(i, "CONCURRENTLY"));
        if concurrently || h.is(1, "SCHEMA") || h.is(1, "DATABASE") || h.is(1, "SYSTEM") {
            Recovery::Rerun
        } else {
            Recovery::Transactional
        }
    } else if h.is(0, "VACUUM") || h.is(0, "CLUSTER") || (h.is(0, "DISCARD") && h.is(1, "ALL")) {
        Recovery::Rerun
    } else if h.is(0, "ANALYZE") || h.is(0, "CHECKPOINT") {
        Recovery::TransactionalRepeatable
    } else {
        Recovery::Transactional
    }
}

/// `CREATE …`.
fn create(h: &Head<'_, '_>) -> Recovery {
    let i = if h.is(1, "UNIQUE") { 2 } else { 1 };
    if h.is(i, "INDEX") && h.is(i + 1, "CONCURRENTLY") {
        let at = h.after_if_exists(i + 2).0;
        match h.name(at) {
            Some((name, on)) if name.len() == 1 && h.is(on, "ON") => {
                let table_at = if h.is(on + 1, "ONLY") { on + 2 } else { on + 1 };
                match h.name(table_at) {
                    Some((table, _)) => Recovery::IndexBuilt {
                        name: name.concat().into(),
                        table: quoted(&table).into(),
                    },
                    None => Recovery::Manual,
                }
            }
            // No name: PostgreSQL picks one, which a rerun cannot tell from another.
            _ => Recovery::Manual,
        }
    } else if h.is(1, "DATABASE") {
        match h.name(2) {
            Some((name, _)) if name.len() == 1 => Recovery::DatabaseCreated {
                name: name.concat().into(),
            },
            _ => Recovery::Manual,
        }
    } else if h.is(1, "TABLESPACE") || h.is(1, "SUBSCRIPTION") {
        Recovery::Manual
    } else {
        Recovery::Transactional
    }
}

/// `DROP …`.
fn drop(h: &Head<'_, '_>) -> Recovery {
    let concurrently = h.is(1, "INDEX") && h.is(2, "CONCURRENTLY");
    let what = if concurrently {
        3
    } else if h.is(1, "DATABASE") || h.is(1, "TABLESPACE") || h.is(1, "SUBSCRIPTION") {
        2
    } else {
        return Recovery::Transactional;
    };
    let (at, if_exists) = h.after_if_exists(what);
    // One name only: a list drops several, which one check cannot tell.
    let name = h.name(at).filter(|&(_, end)| !h.is_punct(end, ","));
    match name {
        _ if if_exists => Recovery::Rerun,
        Some((name, _)) if concurrently => Recovery::IndexDropped {
            name: quoted(&name).into(),
        },
        Some((name, _)) if h.is(1, "DATABASE") && name.len() == 1 => Recovery::DatabaseDropped {
            name: name.concat().into(),
        },
        _ => Recovery::Manual,
    }
}

/// The first (up to [`HEAD_LEN`]) significant tokens of `statement`: comments skipped,
/// stopping at a token the lexer cannot read.
fn head(statement: &str) -> Vec<Tok<'_>> {
    Lexer::new(statement, 0)
        .map_while(Result::ok)
        .filter(|t| !matches!(t.kind, TokenKind::LineComment | TokenKind::BlockComment))
        .take(HEAD_LEN)
        .map(|t| Tok {
            kind: t.kind,
            text: &statement[t.start..t.end],
        })
        .collect()
}

/// A statement's head, with accessors that tolerate running off its end.
struct Head<'h, 'a>(&'h [Tok<'a>]);

impl Head<'_, '_> {
    fn is(&self, i: usize, keyword: &str) -> bool {
        self.0.get(i).is_some_and(|t| t.is(keyword))
    }

    fn is_punct(&self, i: usize, punct: &str) -> bool {
        self.0
            .get(i)
            .is_some_and(|t| t.kind == TokenKind::Punct && t.text == punct)
    }

    /// The (possibly schema-qualified) name starting at `i`: its parts as PostgreSQL reads
    /// them (a bare word folded to lower case, a quoted identifier unquoted), and the index
    /// after it.
    fn name(&self, i: usize) -> Option<(Vec<String>, usize)> {
        let mut parts = Vec::new();
        let mut j = i;
        loop {
            let tok = self.0.get(j)?;
            parts.push(match tok.kind {
                TokenKind::Word => tok.text.to_lowercase(),
                TokenKind::QuotedIdent => unquote(tok.text)?,
                _ => return None,
            });
            j += 1;
            if !self.is_punct(j, ".") {
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

    /// The index after an `IF NOT EXISTS` or `IF EXISTS` at `i`, and whether one was there.
    fn after_if_exists(&self, i: usize) -> (usize, bool) {
        if self.is(i, "IF") && self.is(i + 1, "NOT") && self.is(i + 2, "EXISTS") {
            (i + 3, true)
        } else if self.is(i, "IF") && self.is(i + 1, "EXISTS") {
            (i + 2, true)
        } else {
            (i, false)
        }
    }
}

/// The identifier a `"…"` token stands for; `None` for the `U&"…"` form, whose escapes a
/// catalog check does not decode.
fn unquote(token: &str) -> Option<String> {
    let inner = token.strip_prefix('"')?.strip_suffix('"')?;
    Some(inner.replace("\"\"", "\""))
}

/// A name's parts as SQL, each part quoted: what `to_regclass` reads back unchanged.
fn quoted(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| format!("\"{}\"", p.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(name: &str, table: &str) -> Recovery {
        Recovery::IndexBuilt {
            name: name.to_owned().into(),
            table: table.to_owned().into(),
        }
    }

    #[test]
    fn indexes_built_concurrently_are_checked_in_the_catalog() {
        assert_eq!(
            recovery_of("CREATE INDEX CONCURRENTLY t23_n_idx ON t23 (n)"),
            index("t23_n_idx", "\"t23\"")
        );
        assert_eq!(
            recovery_of(
                "-- c\ncreate unique index concurrently if not exists \"Big\" on only app.\"T\" (n)"
            ),
            index("Big", "\"app\".\"T\"")
        );
        assert_eq!(
            recovery_of("CREATE INDEX CONCURRENTLY ON t (n)"),
            Recovery::Manual
        );
        assert_eq!(
            recovery_of("DROP INDEX CONCURRENTLY app.i"),
            Recovery::IndexDropped {
                name: "\"app\".\"i\"".into()
            }
        );
        assert_eq!(
            recovery_of("DROP INDEX CONCURRENTLY IF EXISTS i"),
            Recovery::Rerun
        );
        assert_eq!(
            recovery_of("DROP INDEX CONCURRENTLY a, b"),
            Recovery::Manual
        );
    }

    #[test]
    fn other_statements() {
        assert_eq!(
            recovery_of("CREATE DATABASE Other"),
            Recovery::DatabaseCreated {
                name: "other".into()
            }
        );
        assert_eq!(
            recovery_of("DROP DATABASE \"Other\""),
            Recovery::DatabaseDropped {
                name: "Other".into()
            }
        );
        assert_eq!(recovery_of("VACUUM (ANALYZE) t"), Recovery::Rerun);
        assert_eq!(recovery_of("ALTER SYSTEM SET x = 1"), Recovery::Rerun);
        assert_eq!(recovery_of("REINDEX TABLE CONCURRENTLY t"), Recovery::Rerun);
        assert_eq!(
            recovery_of("CREATE TABLESPACE s LOCATION '/x'"),
            Recovery::Manual
        );
        assert_eq!(
            recovery_of("ALTER TABLE p DETACH PARTITION c CONCURRENTLY"),
            Recovery::Manual
        );
        for transactional in [
            "CREATE TABLE t AS SELECT 1",
            "ALTER TYPE e ADD VALUE 'x'",
            "CREATE INDEX i ON t (n)",
            "/* VACUUM */ SELECT 1",
            "SELECT 1",
        ] {
            assert_eq!(
                recovery_of(transactional),
                Recovery::Transactional,
                "{transactional}"
            );
        }
        // Run in a transaction; should PostgreSQL refuse that, a rerun runs them again.
        assert_eq!(recovery_of("CHECKPOINT"), Recovery::TransactionalRepeatable);
        assert_eq!(recovery_of("analyze t"), Recovery::TransactionalRepeatable);
    }
}
