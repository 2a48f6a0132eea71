//! Finding out where a migration failed. A transactional migration's error comes from the
//! server without saying which statement caused it (a batch's error only gives a position
//! in the message), so the failed migration is replayed statement by statement in a
//! transaction that is rolled back, to find the failing statement; the failure is then
//! recorded as a FAILURE row and returned as [`MigrateError::Failed`], naming the migration,
//! the statement (line, component) and PostgreSQL's message, detail and hint.

use std::ops::Range;
use std::time::Instant;

use sqlx::postgres::{PgDatabaseError, PgErrorPosition};

use crate::error::{FailedStatement, MigrateError, MigrationFailure, PgMessage};
use crate::lock::Session;
use crate::plan::statements_of;
use crate::record::record_failure;
use crate::session::{Connections, RunContext};
use crate::tracking::quote_literal;
use crate::{Migration, Statement};

/// A transactional migration failed and its transaction was rolled back: replays it on the
/// target to find the failing statement, records a FAILURE row in the tracking tables and
/// returns the error to report. `reported` is the server's error, used when the replay finds
/// none (the failure was then at `COMMIT`). The row's execution time runs from `started` to
/// now (0 when not known).
pub(crate) async fn transaction_failed(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    m: &Migration,
    reported: PgMessage,
    started: Option<Instant>,
) -> MigrateError {
    let (statement, replay_error) = match replay(conns.target(), ctx, m).await {
        Ok(found) => found,
        Err(e) => return e,
    };
    let remark = (statement.is_none() && replay_error.is_none()).then(failed_at_commit);
    let error = replay_error.unwrap_or(reported);
    tracing::warn!(target: crate::FAILURE_LOG, migration = &*m.name, error = %error.message, "migration failed");
    let secs = started.map_or(0.0, |t| t.elapsed().as_secs_f64());
    // A failing before_each/after_each is not the migration's failure: nothing is recorded.
    let in_callback = statement
        .as_ref()
        .is_some_and(crate::callbacks::is_callback_statement);
    if !in_callback {
        if let Err(e) = record_failure(conns.tracking(), ctx, m, &error.to_string(), secs).await {
            return e;
        }
    }
    MigrateError::Failed(Box::new(MigrationFailure {
        name: m.name.to_string(),
        statement,
        error,
        no_transaction_done: None,
        remark,
        applied_before: Vec::new(),
    }))
}

/// The remark of a failure that no statement can be blamed for.
fn failed_at_commit() -> String {
    "each of its statements succeeded when replayed: it failed at COMMIT (e.g. a deferred constraint) \
     or while its history row was recorded"
        .to_string()
}

/// Which of `parts` (character ranges of the message that was sent) an error's position
/// falls into.
pub(crate) fn part_at_error(err: &sqlx::Error, parts: &[Range<usize>]) -> Option<usize> {
    let pg = err
        .as_database_error()?
        .try_downcast_ref::<PgDatabaseError>()?;
    match pg.position()? {
        PgErrorPosition::Original(p) => {
            let at = p.checked_sub(1)?;
            parts.iter().position(|r| r.contains(&at))
        }
        PgErrorPosition::Internal { .. } => None,
    }
}

/// Runs the statements of `m` one by one in a transaction that is rolled back, to find the
/// one that fails. Returns the statement and its error, or `(None, None)` if none failed
/// (the failure was then at COMMIT, e.g. a deferred constraint).
pub(crate) async fn replay(
    session: &mut Session,
    ctx: &RunContext<'_>,
    m: &Migration,
) -> Result<(Option<FailedStatement>, Option<PgMessage>), MigrateError> {
    let context = || {
        format!(
            "replaying migration `{}` to find its failing statement",
            m.name
        )
    };
    let statements = statements_of(m);
    let timeouts = ctx.timeouts(m);
    let setup = format!(
        "BEGIN; SET LOCAL lock_timeout = {}; SET LOCAL statement_timeout = {}",
        quote_literal(timeouts.lock),
        quote_literal(timeouts.statement)
    );
    if let Err(e) = session.execute(&setup).await {
        if e.as_database_error().is_none() {
            return Err(MigrateError::Database {
                context: context(),
                source: e,
            });
        }
        let mut error = PgMessage::from_sqlx(&e);
        error.message = format!(
            "invalid timeout for this migration (lock_timeout {:?}, statement_timeout {:?}): {}",
            timeouts.lock, timeouts.statement, error.message
        );
        session
            .execute("ROLLBACK")
            .await
            .map_err(MigrateError::db(context()))?;
        return Ok((None, Some(error)));
    }
    let mut found = None;
    for (i, s) in statements.iter().enumerate() {
        match session.execute(m.statement_sql(s)).await {
            Ok(_) => {}
            Err(e) if e.as_database_error().is_some() => {
                found = Some((
                    failed_statement(m, &statements, i),
                    PgMessage::from_sqlx(&e),
                ));
                break;
            }
            Err(e) => {
                return Err(MigrateError::Database {
                    context: context(),
                    source: e,
                })
            }
        }
    }
    session
        .execute("ROLLBACK")
        .await
        .map_err(MigrateError::db(context()))?;
    Ok(match found {
        Some((statement, error)) => (Some(statement), Some(error)),
        None => (None, None),
    })
}

/// Statement `i` (0-based) of `statements`, the statements of `m`, as named in a failure.
pub(crate) fn failed_statement(
    m: &Migration,
    statements: &[Statement],
    i: usize,
) -> FailedStatement {
    let s = &statements[i];
    let text = m.statement_sql(s).trim_start();
    let mut first_line: String = text.lines().next().unwrap_or("").trim_end().to_string();
    if first_line.chars().count() > 200 {
        first_line = first_line.chars().take(200).collect::<String>() + "…";
    }
    FailedStatement {
        index: i + 1,
        of: statements.len(),
        line: s.line,
        first_line,
        component: m.origin_of_line(s.line).flatten().map(str::to_string),
        callback: None,
    }
}
