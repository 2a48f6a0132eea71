//! How a migration runs with respect to transactions, and the statements that do not fit.
//!
//! spawn runs a transactional migration in a transaction of its own, together with its
//! history row. A migration may still wrap its whole body in one `BEGIN; … COMMIT;` (the
//! original spawn's style): the wrapper is recognised and left out of the executed body. Any
//! other transaction control is an error, and so is a statement PostgreSQL refuses to run in
//! a transaction block. A `-- spawn:no-transaction` migration runs its statements one by one,
//! each committing on its own: transaction control is an error there too, and so is a
//! statement that only works inside a transaction.

use std::ops::Range;

use super::classify::StatementKind;
use super::statements::RawStatement;
use super::{Problem, RunsIn, TransactionMode};

/// What to execute, and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Plan<'s> {
    /// The byte range of the SQL to execute.
    pub body: Range<usize>,
    /// The statements inside `body`.
    pub statements: &'s [RawStatement],
    pub problems: Vec<Problem>,
}

/// Plans the execution of `statements` (all statements of the migration, in order) in
/// `mode` (in a file that runs as `runs_in` says: what its problems suggest), where `whole`
/// is the range of the SQL after any byte-order mark. With
/// `check_control` false (the scan stopped early, so the last statement is unknown),
/// transaction control is neither recognised as a wrapper nor reported.
pub(crate) fn plan(
    statements: &[RawStatement],
    mode: TransactionMode,
    runs_in: RunsIn,
    whole: Range<usize>,
    check_control: bool,
) -> Plan<'_> {
    let mut problems = Vec::new();
    let wrapper = match mode {
        TransactionMode::Transactional if check_control => split_wrapper(statements),
        _ => None,
    };
    let wrapper = wrapper.map(|(begin, inner, commit)| {
        if let StatementKind::Begin {
            what,
            options: true,
        } = begin.kind
        {
            problems.push(Problem {
                offset: begin.start,
                message: format!(
                    "{what} with transaction options: spawn runs the migration in a transaction \
                     of its own with the default settings; remove the options (such as \
                     `ISOLATION LEVEL …` or `READ ONLY`)"
                ),
            });
        }
        let body_start = begin
            .terminator
            .map_or(begin.end, |semicolon| semicolon + 1);
        (body_start..commit.start, inner)
    });
    let (body, inner) = wrapper.unwrap_or((whole, statements));

    for statement in inner {
        let message = match (mode, statement.kind) {
            (_, kind) if kind.controls_transaction() && !check_control => continue,
            (TransactionMode::Transactional, kind) if kind.controls_transaction() => {
                transactional_control_message(kind, runs_in)
            }
            (TransactionMode::NoTransaction, kind) if kind.controls_transaction() => format!(
                "{} cannot be used in a `-- spawn:no-transaction` migration: spawn runs its \
                 statements one by one, each committing on its own, and records progress \
                 after each; remove it",
                what(kind)
            ),
            (TransactionMode::Transactional, StatementKind::NonTransactional { what }) => {
                match runs_in {
                    RunsIn::EitherMode => format!(
                        "{what} cannot run inside a transaction; put it in its own migration \
                         whose first line is `-- spawn:no-transaction`"
                    ),
                    RunsIn::OneTransaction => format!(
                        "{what} cannot run inside a transaction, and a down.sql always runs in \
                         one (with its REVERT history row); {}",
                        if what.contains("CONCURRENTLY") {
                            "undo it with statements that can (e.g. `DROP INDEX` without \
                             `CONCURRENTLY`)"
                        } else {
                            "remove it, or undo it with statements that can"
                        }
                    ),
                }
            }
            (TransactionMode::NoTransaction, StatementKind::NeedsTransaction { what }) => {
                format!(
                    "{what} only works inside a transaction, but in a `-- spawn:no-transaction` \
                     migration each statement commits on its own; move it to a transactional \
                     migration"
                )
            }
            _ => continue,
        };
        problems.push(Problem {
            offset: statement.start,
            message,
        });
    }
    Plan {
        body,
        statements: inner,
        problems,
    }
}

/// `(BEGIN, statements in between, COMMIT)` if `statements` are wrapped in one transaction.
fn split_wrapper(
    statements: &[RawStatement],
) -> Option<(&RawStatement, &[RawStatement], &RawStatement)> {
    match statements {
        [begin, inner @ .., commit]
            if matches!(begin.kind, StatementKind::Begin { .. })
                && matches!(commit.kind, StatementKind::Commit { .. }) =>
        {
            Some((begin, inner, commit))
        }
        _ => None,
    }
}

/// The message for transaction control in a transactional migration.
fn transactional_control_message(kind: StatementKind, runs_in: RunsIn) -> String {
    let wrapper_hint = if matches!(
        kind,
        StatementKind::Begin { .. } | StatementKind::Commit { .. }
    ) {
        " (a migration may wrap its whole body in one `BEGIN; … COMMIT;`, which spawn leaves \
         out, but this one is not such a wrapper)"
    } else {
        ""
    };
    let otherwise = match runs_in {
        RunsIn::EitherMode => {
            ", or, to run the migration outside a transaction, make `-- spawn:no-transaction` \
             its first line"
        }
        RunsIn::OneTransaction => "",
    };
    format!(
        "{} cannot be used here: spawn runs each migration in a transaction of its own and \
         records it in the history in the same transaction{wrapper_hint}; remove it{otherwise}",
        what(kind)
    )
}

/// The phrase describing a classified statement.
fn what(kind: StatementKind) -> &'static str {
    match kind {
        StatementKind::Begin { what, .. }
        | StatementKind::Commit { what }
        | StatementKind::TransactionControl { what }
        | StatementKind::NonTransactional { what }
        | StatementKind::NeedsTransaction { what } => what,
        StatementKind::Other => "this statement",
    }
}
