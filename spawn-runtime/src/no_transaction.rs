//! No-transaction migrations (`-- spawn:no-transaction`): statement by statement outside a
//! transaction, on the target connection. After each statement an ATTEMPTED row records the
//! progress (`{"statements_done": k, "of": n, …}`, see [`crate::plan::Progress`]), so a rerun
//! resumes after the last statement that succeeded; a failing statement records a FAILURE
//! row with the same progress and the error.
//!
//! With the tracking tables in another database the progress rows go there; a crash between
//! a statement and its progress row means that statement runs again on the next run, the
//! same as in a single database, where the progress row is also written after the statement.

use std::time::Instant;

use crate::diagnose::failed_statement;
use crate::error::{MigrateError, MigrationFailure, PgMessage};
use crate::plan::{prefix_sha256, statements_of, Progress, Step};
use crate::record::apply_row;
use crate::session::{Connections, Ledger, RunContext};
use crate::tracking::quote_literal;
use crate::{Migration, Statement};

/// Resets the session timeouts that a no-transaction migration set.
const RESET_TIMEOUTS: &str = "RESET lock_timeout; RESET statement_timeout";

/// Applies the no-transaction migration of `step` (the next one of the run), from the
/// statement where it stopped last time.
pub(crate) async fn apply(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    step: &Step<'_>,
    ledger: &mut Ledger,
) -> Result<(), MigrateError> {
    let m = step.migration;
    ledger.started(ctx, m);
    let statements = statements_of(m);
    let n = statements.len();
    let timeouts = ctx.timeouts(m);
    conns
        .target()
        .execute(&format!(
            "SET lock_timeout = {}; SET statement_timeout = {}",
            quote_literal(timeouts.lock),
            quote_literal(timeouts.statement)
        ))
        .await
        .map_err(db_error("setting the timeouts", m))?;
    if step.resume_at > 0 {
        tracing::info!(
            migration = &*m.name,
            resume_at = step.resume_at + 1,
            of = n,
            "resuming no-transaction migration"
        );
    }
    let run = Statements {
        ctx,
        step,
        statements: &statements,
        started: Instant::now(),
    };
    for i in step.resume_at..n {
        run.execute(conns, i).await?;
    }
    let duration = run.started.elapsed();
    let row = apply_row(ctx, m, "SUCCESS", "", duration.as_secs_f64());
    conns
        .execute_on_each(RESET_TIMEOUTS, &row)
        .await
        .map_err(db_error("recording the success", m))?;
    ledger.committed(ctx, m, duration);
    Ok(())
}

/// The statements of one no-transaction migration being applied.
struct Statements<'s> {
    ctx: &'s RunContext<'s>,
    step: &'s Step<'s>,
    statements: &'s [Statement],
    started: Instant,
}

impl Statements<'_> {
    /// Runs statement `i` (0-based) and records the progress after it (but after the last,
    /// which the SUCCESS row records); on failure records it and returns the error.
    async fn execute(&self, conns: &mut Connections, i: usize) -> Result<(), MigrateError> {
        let m = self.step.migration;
        let n = self.statements.len();
        let s = &self.statements[i];
        tracing::debug!(
            migration = &*m.name,
            statement = i + 1,
            of = n,
            line = s.line,
            "running statement"
        );
        match conns.target().execute(m.statement_sql(s)).await {
            Ok(_) => {
                if i + 1 < n {
                    let row = self.row("ATTEMPTED", i + 1, None);
                    conns
                        .tracking()
                        .execute(&row)
                        .await
                        .map_err(db_error("recording the progress", m))?;
                }
                Ok(())
            }
            Err(e) if e.as_database_error().is_some() => {
                let error = PgMessage::from_sqlx(&e);
                let row = self.row("FAILURE", i, Some(error.to_string()));
                conns
                    .execute_on_each(RESET_TIMEOUTS, &row)
                    .await
                    .map_err(db_error("recording the failure", m))?;
                tracing::warn!(migration = &*m.name, statement = i + 1, error = %error.message, "migration failed");
                Err(MigrateError::Failed(Box::new(MigrationFailure {
                    name: m.name.to_string(),
                    statement: Some(failed_statement(m, self.statements, i)),
                    error,
                    no_transaction_done: Some(i),
                    remark: None,
                    applied_before: Vec::new(),
                })))
            }
            Err(e) => Err(MigrateError::Database {
                context: format!(
                    "running statement {} of no-transaction migration `{}`: the connection failed; run again \
                     to resume after the last recorded statement",
                    i + 1,
                    m.name
                ),
                source: e,
            }),
        }
    }

    /// The history row with `status` saying that `done` statements ran (and what stopped it).
    fn row(&self, status: &'static str, done: usize, error: Option<String>) -> String {
        let m = self.step.migration;
        let progress = Progress {
            statements_done: done,
            of: self.statements.len(),
            done_sha256: prefix_sha256(m, self.statements, done),
            error,
        };
        let secs = self.started.elapsed().as_secs_f64();
        apply_row(self.ctx, m, status, &progress.to_note(), secs)
    }
}

/// The error of a query of the migrator that failed while doing `what` for `m`.
fn db_error(what: &str, m: &Migration) -> impl FnOnce(sqlx::Error) -> MigrateError {
    MigrateError::db(format!("{what} of no-transaction migration `{}`", m.name))
}
