//! SQL analysis of a rendered migration.
//!
//! [`analyze()`] reads a migration's SQL once, at build time, and tells the runtime how to
//! execute it: in a transaction or not ([`TransactionMode`]), which part of it (a
//! `BEGIN; … COMMIT;` wrapper is left out), where each statement is, and the timeouts set by
//! `-- spawn:` directives, and for each statement how a no-transaction migration runs it
//! and how a rerun recognises whether it took effect ([`Recovery`], see [`recovery_of`]).
//! It reports every problem it finds at once, each with its line and
//! column, so that a migration that could not run fails the build instead of the deployment:
//!
//! * unterminated quotes and comments;
//! * transaction control (`COMMIT`, `ROLLBACK`, `SAVEPOINT`, …) other than a whole-body
//!   wrapper, and a wrapper `BEGIN` with options;
//! * in a transactional migration, statements PostgreSQL refuses to run in a transaction
//!   block (`CREATE INDEX CONCURRENTLY`, `VACUUM`, …); in a `-- spawn:no-transaction` one,
//!   `LOCK`, which only works inside one;
//! * psql meta-commands (`\c`, `\i`, `\gexec`, …), which are not SQL;
//! * unknown, misplaced, repeated or malformed `-- spawn:` directives (an unknown hazard in
//!   `-- spawn:allow` included).
//!
//! [`hazards`] classifies what each statement does to a live database (locks, rewrites,
//! scans, data loss, …).
//!
//! There is no SQL parser behind this: a lexer that knows PostgreSQL's quoting rules
//! (`lexer`) feeds a statement splitter (`statements`) that classifies statements by their
//! first keywords (`classify`). It is one pass, linear in the size of the input.
//!
//! ```
//! use spawn_build::analyze::{analyze, TransactionMode};
//!
//! let sql = "-- spawn:lock-timeout 5s\nBEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n";
//! let analysis = analyze(sql).unwrap();
//! assert_eq!(analysis.mode, TransactionMode::Transactional);
//! assert_eq!(&sql[analysis.body.clone()], "\nCREATE TABLE t (id int);\n");
//! assert_eq!(analysis.statements[0].text(sql), "CREATE TABLE t (id int)");
//! assert_eq!(analysis.statements[0].line, 3);
//! assert_eq!(analysis.lock_timeout.as_deref(), Some("5s"));
//! ```

mod classify;
mod defines;
mod directives;
pub mod hazards;
mod lexer;
mod position;
mod recovery;
mod statements;
mod transaction;

#[cfg(test)]
mod tests;

pub use defines::{defined_objects, Defined, DefinedKind};
pub use directives::is_duration;
use position::LineIndex;
pub use recovery::recovery_of;
pub use spawn_model::{Recovery, Statement, TransactionMode};

/// What the runtime needs to know to execute a migration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Analysis {
    pub mode: TransactionMode,
    /// Byte range of the part to execute: the whole SQL (after a byte-order mark, if any),
    /// or, for a migration that wraps its whole body in one `BEGIN; … COMMIT;`, the text
    /// between the end of the `BEGIN` statement's `;` and the start of the `COMMIT` statement.
    pub body: std::ops::Range<usize>,
    /// The statements inside `body`, in order (a wrapper's `BEGIN` and `COMMIT` excluded).
    pub statements: Vec<Statement>,
    /// From a `-- spawn:lock-timeout 5s` directive: the value, as written.
    pub lock_timeout: Option<String>,
    /// From a `-- spawn:statement-timeout 10min` directive: the value, as written.
    pub statement_timeout: Option<String>,
}

/// A problem in a migration's SQL, at a 1-based line and column (counted in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct AnalyzeError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// A problem at a byte offset, before it is given a line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub offset: usize,
    pub message: String,
}

/// Analyses a rendered migration; see the [module documentation](self).
///
/// # Errors
///
/// Every problem found, ordered by position.
pub fn analyze(sql: &str) -> Result<Analysis, Vec<AnalyzeError>> {
    analyze_file(sql, RunsIn::EitherMode)
}

/// How the file being analysed may run, which decides what its problems suggest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunsIn {
    /// A migration (`up.sql`, `tenant.sql`): in a transaction, or outside one when its first
    /// line is `-- spawn:no-transaction`.
    EitherMode,
    /// A `down.sql`: always in one transaction with its history row, so a problem never
    /// suggests `-- spawn:no-transaction`.
    OneTransaction,
}

/// [`analyze`] of a file that runs as `runs_in` says.
///
/// # Errors
///
/// Every problem found, ordered by position.
pub fn analyze_file(sql: &str, runs_in: RunsIn) -> Result<Analysis, Vec<AnalyzeError>> {
    let content_start = if sql.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let scan = statements::scan(sql, content_start);

    let (directives, mut problems) = directives::parse(scan.directives.iter().copied());
    problems.extend(scan.lex_error.clone());
    if let Some(offset) = scan.unclosed_atomic {
        problems.push(Problem {
            offset,
            message: "`BEGIN ATOMIC` is never closed by a matching `END`".to_owned(),
        });
    }
    problems.extend(scan.meta_commands.iter().map(|command| Problem {
        offset: command.start,
        message: meta_command_message(&sql[command.start..command.end]),
    }));

    let mode = if directives.no_transaction {
        TransactionMode::NoTransaction
    } else {
        TransactionMode::Transactional
    };
    let plan = transaction::plan(
        &scan.statements,
        mode,
        runs_in,
        content_start..sql.len(),
        scan.lex_error.is_none(),
    );
    problems.extend(plan.problems);

    let lines = LineIndex::new(sql, content_start);
    if !problems.is_empty() {
        problems.sort_by_key(|problem| problem.offset);
        return Err(problems
            .into_iter()
            .map(|problem| {
                let (line, column) = lines.line_column(problem.offset);
                AnalyzeError {
                    line,
                    column,
                    message: problem.message,
                }
            })
            .collect());
    }
    Ok(Analysis {
        mode,
        body: plan.body,
        statements: plan
            .statements
            .iter()
            .map(|s| Statement {
                start: s.start,
                end: s.end,
                line: lines.line(s.start),
                // Only a no-transaction migration runs statements one by one.
                recovery: match mode {
                    TransactionMode::NoTransaction => recovery_of(&sql[s.start..s.end]),
                    TransactionMode::Transactional => Recovery::Transactional,
                },
            })
            .collect(),
        lock_timeout: directives.lock_timeout,
        statement_timeout: directives.statement_timeout,
    })
}

/// The message for the psql meta-command `command` (its whole line, backslash included).
fn meta_command_message(command: &str) -> String {
    let rest = &command[1..];
    let name_len = if rest.starts_with('\\') {
        1
    } else {
        rest.find(|c: char| c.is_whitespace() || c == '\\')
            .unwrap_or(rest.len())
    };
    let name = &command[..1 + name_len];
    let advice = match name {
        "\\i" | "\\ir" | "\\include" | "\\include_relative" => {
            "include other SQL with the template engine instead"
        }
        "\\c" | "\\connect" => "a migration runs on the database it is applied to",
        "\\set" => "use template variables instead",
        _ => "remove it",
    };
    format!(
        "psql meta-command `{name}` is not SQL; spawn sends migrations to the server directly, \
         not through psql, so it cannot run; {advice}"
    )
}
