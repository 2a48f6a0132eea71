//! Which isolation a test needs, decided from the statements it sends.
//!
//! The cheap isolation runs a test inside a transaction that is rolled back afterwards, on
//! a worker's own copy of the template; the test's own `BEGIN`/`COMMIT`/`ROLLBACK` become
//! savepoints (see [`crate::psql::session`]). That is exact for everything a rollback undoes.
//! What it cannot reproduce needs a database of its own, where the test runs in autocommit
//! exactly as psql would run it:
//!
//! * statements PostgreSQL refuses inside a transaction block (`VACUUM`, `CREATE DATABASE`,
//!   `CREATE INDEX CONCURRENTLY`, `ALTER SYSTEM`, `DISCARD`, …);
//! * transaction control a savepoint cannot stand for: modes (`BEGIN ISOLATION LEVEL …`,
//!   `SET TRANSACTION`), `AND CHAIN`, two-phase commit, and savepoint commands outside a
//!   transaction block (which fail in autocommit but not inside ours);
//! * what only happens at commit: notifications (`LISTEN`/`NOTIFY`), and deferred
//!   constraints (`DEFERRABLE`, `SET CONSTRAINTS`).
//!
//! This reads only the first keywords (after comments); anything it misses that fails
//! because of the transaction block is caught at run time by the SQLSTATE (see
//! [`restart_on`]) and the test is run again in a database of its own.

/// What a statement means for the transaction the test runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementClass {
    /// `BEGIN` / `START TRANSACTION` without modes; `tag` is what PostgreSQL answers.
    Begin { tag: &'static str },
    /// `COMMIT` / `END` without options.
    Commit,
    /// `ROLLBACK` / `ABORT` without options.
    Rollback,
    /// `SAVEPOINT`, `RELEASE`, `ROLLBACK TO`: savepoints the test manages itself.
    Savepoint,
    /// Cannot run exactly inside the test's transaction; the reason, for logs.
    NeedsOwnDatabase(&'static str),
    /// Anything else.
    Other,
}

/// Classifies one query as psql sends it (possibly several statements joined by `\;`:
/// only the first is looked at, and the run-time check covers the rest).
pub fn classify(sql: &str) -> StatementClass {
    let words = leading_words(sql, 6);
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let plain_after = |i: usize| {
        let rest = match word(i) {
            "WORK" | "TRANSACTION" => i + 1,
            _ => i,
        };
        words.len() <= rest
    };
    if contains_ignore_case(sql, "deferr") || contains_ignore_case(sql, "pg_notify") {
        return StatementClass::NeedsOwnDatabase("deferred constraints or notifications");
    }
    match word(0) {
        "BEGIN" if plain_after(1) => StatementClass::Begin { tag: "BEGIN" },
        "START" if word(1) == "TRANSACTION" && words.len() == 2 => StatementClass::Begin {
            tag: "START TRANSACTION",
        },
        "BEGIN" | "START" => StatementClass::NeedsOwnDatabase("transaction modes"),
        "COMMIT" | "END" if plain_after(1) => StatementClass::Commit,
        "ROLLBACK" | "ABORT" if plain_after(1) => StatementClass::Rollback,
        "ROLLBACK" | "ABORT" => {
            let after = if matches!(word(1), "WORK" | "TRANSACTION") {
                2
            } else {
                1
            };
            if word(after) == "TO" {
                StatementClass::Savepoint
            } else {
                StatementClass::NeedsOwnDatabase("two-phase commit or AND CHAIN")
            }
        }
        "COMMIT" | "END" | "PREPARE" if word(0) != "PREPARE" || word(1) == "TRANSACTION" => {
            StatementClass::NeedsOwnDatabase("two-phase commit or AND CHAIN")
        }
        "SAVEPOINT" | "RELEASE" => StatementClass::Savepoint,
        "SET" if matches!(word(1), "TRANSACTION" | "SESSION" | "CONSTRAINTS") => {
            StatementClass::NeedsOwnDatabase("transaction characteristics")
        }
        "LISTEN" | "NOTIFY" | "UNLISTEN" => StatementClass::NeedsOwnDatabase("notifications"),
        "VACUUM" | "DISCARD" | "CHECKPOINT" => {
            StatementClass::NeedsOwnDatabase("not allowed in a transaction block")
        }
        "CREATE" | "DROP" | "ALTER"
            if matches!(
                word(1),
                "DATABASE" | "TABLESPACE" | "SYSTEM" | "SUBSCRIPTION"
            ) =>
        {
            StatementClass::NeedsOwnDatabase("not allowed in a transaction block")
        }
        "CREATE" | "DROP" | "REINDEX" | "ALTER" if words.iter().any(|w| w == "CONCURRENTLY") => {
            StatementClass::NeedsOwnDatabase("concurrent index or partition commands")
        }
        _ => StatementClass::Other,
    }
}

/// Whether an error with `sqlstate` in the test's transaction means the test must run
/// again in a database of its own: the transaction block itself caused it.
pub fn restart_on(sqlstate: &str) -> bool {
    matches!(
        sqlstate,
        // active_sql_transaction ("cannot run inside a transaction block"),
        // no_active_sql_transaction, in_failed_sql_transaction
        "25001" | "25P01" | "25P02"
        // invalid_transaction_termination (a procedure's COMMIT), invalid transaction
        // initiation, invalid savepoint specification
        | "2D000" | "0B000" | "3B001"
    )
}

/// Up to `max` leading words of `sql`, upper-cased, skipping whitespace and comments,
/// stopping at the first character that is not part of a word or whitespace.
fn leading_words(sql: &str, max: usize) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = sql;
    while words.len() < max {
        rest = skip_space_and_comments(rest);
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if len == 0 {
            break;
        }
        words.push(rest[..len].to_ascii_uppercase());
        rest = &rest[len..];
    }
    words
}

fn skip_space_and_comments(mut text: &str) -> &str {
    loop {
        let trimmed = text.trim_start();
        if let Some(line) = trimmed.strip_prefix("--") {
            text = line.find('\n').map_or("", |end| &line[end..]);
        } else if trimmed.starts_with("/*") {
            text = after_block_comment(trimmed);
        } else {
            return trimmed;
        }
    }
}

/// The text after the (nested) block comment `text` starts with.
fn after_block_comment(text: &str) -> &str {
    let mut depth = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return &text[i..];
                }
            }
            _ => i += 1,
        }
    }
    ""
}

fn contains_ignore_case(haystack: &str, lower_needle: &str) -> bool {
    haystack.to_ascii_lowercase().contains(lower_needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_transaction_control_maps_to_savepoints() {
        assert_eq!(classify("BEGIN;"), StatementClass::Begin { tag: "BEGIN" });
        assert_eq!(
            classify("begin work"),
            StatementClass::Begin { tag: "BEGIN" }
        );
        assert_eq!(
            classify("/* c */ start transaction;"),
            StatementClass::Begin {
                tag: "START TRANSACTION"
            }
        );
        assert_eq!(classify("commit;"), StatementClass::Commit);
        assert_eq!(classify("END TRANSACTION;"), StatementClass::Commit);
        assert_eq!(classify("rollback;"), StatementClass::Rollback);
        assert_eq!(classify("abort"), StatementClass::Rollback);
        assert_eq!(classify("rollback to s1;"), StatementClass::Savepoint);
        assert_eq!(
            classify("ROLLBACK WORK TO SAVEPOINT s1;"),
            StatementClass::Savepoint
        );
        assert_eq!(classify("savepoint s1;"), StatementClass::Savepoint);
        assert_eq!(classify("RELEASE s1"), StatementClass::Savepoint);
    }

    #[test]
    fn what_a_rolled_back_transaction_cannot_reproduce_needs_its_own_database() {
        for sql in [
            "BEGIN ISOLATION LEVEL SERIALIZABLE;",
            "begin read only;",
            "START TRANSACTION READ WRITE;",
            "COMMIT AND CHAIN;",
            "ROLLBACK PREPARED 'x';",
            "PREPARE TRANSACTION 'x';",
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;",
            "set constraints all deferred;",
            "VACUUM t;",
            "CREATE DATABASE x;",
            "ALTER SYSTEM SET work_mem = '1MB';",
            "CREATE INDEX CONCURRENTLY i ON t (a);",
            "DROP INDEX CONCURRENTLY i;",
            "REINDEX INDEX CONCURRENTLY i;",
            "LISTEN x;",
            "NOTIFY x;",
            "select pg_notify('x', 'y');",
            "DISCARD ALL;",
            "CREATE TABLE t (a int REFERENCES u DEFERRABLE INITIALLY DEFERRED);",
        ] {
            assert!(
                matches!(classify(sql), StatementClass::NeedsOwnDatabase(_)),
                "{sql}"
            );
        }
    }

    #[test]
    fn everything_else_runs_in_the_transaction() {
        for sql in [
            "select 1;",
            "PREPARE q AS SELECT 1;",
            "CREATE INDEX i ON t (a);",
            "-- comment\nINSERT INTO t VALUES (1);",
            "set search_path = x;",
            "begin_x();",
        ] {
            assert_eq!(classify(sql), StatementClass::Other, "{sql}");
        }
        assert!(restart_on("25001"));
        assert!(!restart_on("22012"));
    }
}
