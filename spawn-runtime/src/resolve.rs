//! Recording by hand what became of a started statement: [`Migrator::resolve_statement`]
//! (`spawn migration resolve <migration> --statement <k> [--not-applied]`), for the
//! statements whose outcome a rerun cannot tell from the catalog
//! ([`MigrateError::OutcomeUnknown`], see [`crate::recover`]). Under the migration lock, it
//! checks that the statement is the one recorded as started, then writes one history row:
//! the statement done (the next run resumes after it; the SUCCESS row when it was the last),
//! or not run (the next run runs it).
//!
//! [`Migrator::resolve_statement`]: crate::Migrator::resolve_statement

use crate::error::MigrateError;
use crate::plan::{prefix_sha256, statements_of, Progress};
use crate::record::{apply_row, read_history};
use crate::run::Run;
use crate::session::{Connections, Pools, RunContext};
use crate::Migration;

/// What to record for one started statement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolution<'r> {
    pub migration: &'r Migration,
    /// The statement (1-based).
    pub statement: usize,
    /// Whether it took effect.
    pub took_effect: bool,
}

/// Takes the lock as `run` would and records `what`.
pub(crate) async fn resolve(
    run: &Run<'_>,
    pools: Pools<'_>,
    what: Resolution<'_>,
) -> Result<(), MigrateError> {
    let lock = run.lock_request();
    let mut conns = Connections::connect(pools, &lock).await?;
    let result = match conns.lock(pools, &lock).await {
        Ok(Some(probe)) => record(&mut conns, &run.context(probe), what).await,
        // A stop was requested while waiting for the lock: nothing was recorded.
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    conns.release(result.is_err()).await;
    result
}

/// Under the lock: checks that `what.statement` is recorded as started, and records it.
async fn record(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    what: Resolution<'_>,
) -> Result<(), MigrateError> {
    let m = what.migration;
    let k = what.statement;
    let history = read_history(conns.tracking(), ctx.tracking).await?;
    let statements = statements_of(m);
    let not_started = |reason: String| MigrateError::NotStarted {
        name: m.name.to_string(),
        statement: k,
        reason,
    };
    let row = history
        .rows
        .get(&*m.name)
        .ok_or_else(|| not_started("it has no history".into()))?;
    let progress = Progress::parse(&row.status_note)
        .filter(|_| row.status != "SUCCESS" && row.activity == "APPLY")
        .ok_or_else(|| {
            not_started(format!(
                "its newest history row is {} {}",
                row.activity, row.status
            ))
        })?;
    if progress.started != Some(k) || k == 0 || k > statements.len() {
        return Err(not_started(match progress.started {
            Some(s) => format!("the statement recorded as started is statement {s}"),
            None => format!(
                "no statement is recorded as started ({} of {} done)",
                progress.statements_done, progress.of
            ),
        }));
    }
    if prefix_sha256(m, &statements, k - 1) != progress.done_sha256 {
        return Err(not_started(
            "the statements that ran before it have changed since".into(),
        ));
    }
    let done = if what.took_effect { k } else { k - 1 };
    let sql = if done == statements.len() {
        apply_row(ctx, m, "SUCCESS", "", 0.0)
    } else {
        let progress = Progress {
            statements_done: done,
            of: statements.len(),
            done_sha256: prefix_sha256(m, &statements, done),
            error: None,
            started: None,
        };
        apply_row(ctx, m, "ATTEMPTED", &progress.to_note(), 0.0)
    };
    conns
        .tracking()
        .execute(&sql)
        .await
        .map_err(MigrateError::db(format!(
            "recording statement {k} of migration `{}` as resolved",
            m.name
        )))?;
    tracing::info!(
        migration = &*m.name,
        statement = k,
        took_effect = what.took_effect,
        "recorded the outcome of a started statement"
    );
    Ok(())
}
