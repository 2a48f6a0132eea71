//! No-transaction migrations (`-- spawn:no-transaction`): statement by statement outside a
//! transaction, on the target connection. Each statement's progress is recorded in an
//! ATTEMPTED row (`{"statements_done": k, "of": n, …}`, see [`crate::plan::Progress`]), the
//! last one's in the SUCCESS row, so a rerun resumes after the last statement that took
//! effect; a failing statement records a FAILURE row with the same progress and the error.
//!
//! Every statement takes effect exactly once across crashes (see [`crate::recover`]): one
//! that can run in a transaction commits together with its progress row; before one that
//! cannot, a row records that it was started, and a rerun that finds that row checks whether
//! it took effect before it runs it again.
//!
//! A lost connection (the backend terminated, the socket broken) is reported as
//! [`MigrateError::ConnectionLost`] naming the statement that ran; a failed statement's
//! transaction is rolled back only when one is open (no ROLLBACK warning after a failed
//! COMMIT).
//!
//! With the tracking tables in another database a statement cannot commit together with its
//! row: it runs, then its row is written, and a crash in between means that statement runs
//! again on the next run (as before this crate recorded started statements). Statements that
//! cannot run in a transaction get their started row there too.

use std::time::Instant;

use crate::diagnose::failed_statement;
use crate::error::{ConnectionLost, MigrateError, MigrationFailure, PgMessage};
use crate::plan::{prefix_sha256, statements_of, Progress, Step};
use crate::record::apply_row;
use crate::recover::{on_rerun, Found, OnRerun};
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
    let set_search_path = ctx
        .set_search_path
        .as_deref()
        .map(|set| format!("; {set}"))
        .unwrap_or_default();
    conns
        .target()
        .execute(&format!(
            "SET lock_timeout = {}; SET statement_timeout = {}{set_search_path}",
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
    if step.resume_at >= n {
        // Every statement is recorded (the SUCCESS row was not): record it.
        conns
            .tracking()
            .execute(&run.done_row(n))
            .await
            .map_err(db_error("recording the success", m))?;
    }
    for i in step.resume_at..n {
        if i == step.resume_at && step.started && run.recovered(conns, i).await? {
            continue;
        }
        run.execute(conns, i).await?;
    }
    conns
        .target()
        .execute(RESET_TIMEOUTS)
        .await
        .map_err(db_error("resetting the timeouts", m))?;
    ledger.committed(ctx, m, run.started.elapsed());
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
    /// Statement `i` (0-based) was started by an earlier run that did not record its
    /// outcome: finds out whether it took effect. `true` when it did (it is then recorded as
    /// done), `false` when it is to run (again); an error when that cannot be told.
    async fn recovered(&self, conns: &mut Connections, i: usize) -> Result<bool, MigrateError> {
        let m = self.step.migration;
        let check = match on_rerun(&self.statements[i].recovery) {
            OnRerun::RunAgain => return Ok(false),
            OnRerun::Check(check) => check,
            OnRerun::AskByHand => {
                let s = failed_statement(m, self.statements, i);
                return Err(MigrateError::OutcomeUnknown {
                    name: m.name.to_string(),
                    statement: s.index,
                    of: s.of,
                    line: s.line,
                    first_line: s.first_line,
                });
            }
        };
        let found = check
            .run(conns.target())
            .await
            .map_err(db_error("checking the catalog for a started statement", m))?;
        tracing::info!(
            migration = &*m.name,
            statement = i + 1,
            ?found,
            "checked a statement that an earlier run started without recording its outcome"
        );
        match found {
            Found::Done => {
                conns
                    .tracking()
                    .execute(&self.done_row(i + 1))
                    .await
                    .map_err(db_error("recording the progress", m))?;
                Ok(true)
            }
            Found::NotDone => Ok(false),
            Found::InvalidIndex { drop } => {
                conns.target().execute(&drop).await.map_err(db_error(
                    "dropping the INVALID index a started statement left",
                    m,
                ))?;
                Ok(false)
            }
        }
    }

    /// Runs statement `i` (0-based) and records the progress after it (the SUCCESS row after
    /// the last); on failure records it and returns the error.
    async fn execute(&self, conns: &mut Connections, i: usize) -> Result<(), MigrateError> {
        let m = self.step.migration;
        let n = self.statements.len();
        let s = &self.statements[i];
        let sql = m.statement_sql(s);
        tracing::debug!(
            migration = &*m.name,
            statement = i + 1,
            of = n,
            line = s.line,
            "running statement"
        );
        let transactional = s.recovery.runs_in_transaction();
        if transactional && !conns.is_split() {
            // One message: the statement commits with its progress row, or neither does.
            let tx = format!("BEGIN;\n{sql}\n;\n{};\nCOMMIT", self.done_row(i + 1));
            match conns.target().execute(&tx).await {
                Ok(_) => return Ok(()),
                Err(e) if ConnectionLost::is_loss(&e) => return Err(self.lost(i, e)),
                Err(e) if e.as_database_error().is_some() => {
                    // Open unless the failure was at COMMIT (then a ROLLBACK only warns).
                    conns
                        .target()
                        .rollback_if_open()
                        .await
                        .map_err(db_error("rolling back a failed statement", m))?;
                    let refused = e
                        .as_database_error()
                        .and_then(|d| d.code())
                        .is_some_and(|c| c == "25001");
                    if !refused {
                        return Err(self.failed(conns, i, &e, false).await);
                    }
                    // PostgreSQL refuses to run it in a transaction: as below.
                }
                Err(e) => return Err(self.lost(i, e)),
            }
        }
        let catalog = matches!(on_rerun(&s.recovery), OnRerun::Check(_));
        if !transactional || !conns.is_split() {
            let row = self.row("ATTEMPTED", i, None, Some(i + 1));
            conns
                .tracking()
                .execute(&row)
                .await
                .map_err(db_error("recording the statement as started", m))?;
        }
        match conns.target().execute(sql).await {
            Ok(_) => {
                conns
                    .tracking()
                    .execute(&self.done_row(i + 1))
                    .await
                    .map_err(db_error("recording the progress", m))?;
                Ok(())
            }
            Err(e) if ConnectionLost::is_loss(&e) => Err(self.lost(i, e)),
            Err(e) if e.as_database_error().is_some() => {
                Err(self.failed(conns, i, &e, catalog).await)
            }
            Err(e) => Err(self.lost(i, e)),
        }
    }

    /// Statement `i` failed with `e`: records the FAILURE row (still marked started when a
    /// rerun is to check the catalog, e.g. for the INVALID index a failed `CREATE INDEX
    /// CONCURRENTLY` leaves) and returns the error.
    async fn failed(
        &self,
        conns: &mut Connections,
        i: usize,
        e: &sqlx::Error,
        still_started: bool,
    ) -> MigrateError {
        let m = self.step.migration;
        let error = PgMessage::from_sqlx(e);
        let row = self.row(
            "FAILURE",
            i,
            Some(error.to_string()),
            still_started.then_some(i + 1),
        );
        if let Err(e) = conns.execute_on_each(RESET_TIMEOUTS, &row).await {
            return db_error("recording the failure", m)(e);
        }
        tracing::warn!(target: crate::FAILURE_LOG, migration = &*m.name, statement = i + 1, error = %error.message, "migration failed");
        MigrateError::Failed(Box::new(MigrationFailure {
            name: m.name.to_string(),
            statement: Some(failed_statement(m, self.statements, i)),
            error,
            no_transaction_done: Some(i),
            remark: None,
            applied_before: Vec::new(),
        }))
    }

    /// The connection failed (`e`) while statement `i` (0-based) ran: nothing can be
    /// recorded, a rerun resumes after the last recorded statement (checking statement `i`
    /// first when it was recorded as started).
    fn lost(&self, i: usize, e: sqlx::Error) -> MigrateError {
        let m = self.step.migration;
        let n = self.statements.len();
        let doing = format!(
            "running statement {} of {n} of no-transaction migration `{}`",
            i + 1,
            m.name
        );
        if ConnectionLost::is_loss(&e) {
            MigrateError::ConnectionLost(Box::new(
                ConnectionLost::new(doing, e).in_statement(i + 1, n),
            ))
        } else {
            MigrateError::Database {
                context: format!(
                    "{doing}: the connection failed; run again to resume after the last \
                     recorded statement"
                ),
                source: e,
            }
        }
    }

    /// The row recording that the first `done` statements took effect: an ATTEMPTED row with
    /// the progress, or the SUCCESS row once all did.
    fn done_row(&self, done: usize) -> String {
        if done < self.statements.len() {
            self.row("ATTEMPTED", done, None, None)
        } else {
            let secs = self.started.elapsed().as_secs_f64();
            apply_row(self.ctx, self.step.migration, "SUCCESS", "", secs)
        }
    }

    /// The history row with `status` saying that `done` statements ran (and what stopped it,
    /// or which one was `started`).
    fn row(
        &self,
        status: &'static str,
        done: usize,
        error: Option<String>,
        started: Option<usize>,
    ) -> String {
        let m = self.step.migration;
        let progress = Progress {
            statements_done: done,
            of: self.statements.len(),
            done_sha256: prefix_sha256(m, self.statements, done),
            error,
            started,
        };
        let secs = self.started.elapsed().as_secs_f64();
        apply_row(self.ctx, m, status, &progress.to_note(), secs)
    }
}

/// The error of a query of the migrator that failed while doing `what` for `m` (a lost
/// connection named as such).
fn db_error(what: &str, m: &Migration) -> impl FnOnce(sqlx::Error) -> MigrateError {
    MigrateError::db_or_lost(format!("{what} of no-transaction migration `{}`", m.name))
}
