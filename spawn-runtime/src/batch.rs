//! Transactional migrations with the tracking tables in the same database, in batches: ONE
//! simple-query message carries, for each migration of the batch,
//!
//! ```sql
//! BEGIN;
//! SELECT set_config('spawn.t0', clock_timestamp()::text, true);   -- start of the migration
//! SET LOCAL lock_timeout = '…'; SET LOCAL statement_timeout = '…';
//! SET LOCAL synchronous_commit = off;       -- all but the last of the batch, see below
//! SELECT set_config('search_path', …);      -- a tenant's run: its schema, whatever came before
//! <migration body>
//! ;
//! EXECUTE <history row: SUCCESS, execution_time = clock_timestamp() - spawn.t0>;
//! COMMIT;
//! SELECT <k> AS spawn_committed_<token>;  -- marker: migration k of the batch committed
//! DO $spawn$BEGIN RAISE INFO '…'; END$spawn$;  -- with an observer: flush (see crate::progress)
//! ```
//!
//! (the history row's INSERT is prepared once at the start of the batch's message)
//!
//! so a migration and its history row commit together or not at all, and a batch of
//! migrations costs one round trip. `synchronous_commit = off` on all but the batch's last
//! transaction saves one WAL flush per migration without weakening anything: the last
//! commit of the batch is synchronous, and flushing it flushes every earlier commit; a crash
//! in between loses whole migrations together with their history rows, never one without
//! the other.
//!
//! When a batch fails, PostgreSQL has committed the migrations before the failing one and
//! skipped the rest of the message. The migrator rolls back, reads the history once to see
//! what committed, finds the failing migration (a syntax error anywhere fails the whole
//! message before anything runs; its position tells which migration it is in, and the
//! migrations before it are then applied on their own), and has [`crate::diagnose`] find
//! the failing statement and record the failure.
//!
//! The message's results are streamed: each marker row reports a commit as it happens
//! (progress events), and `<token>`, random per run, keeps a migration's own result rows from
//! being taken for markers. With a stop handle, batches hold one migration each.

use std::ops::Range;

use futures_util::StreamExt;
use sqlx::{Either, Row};

use crate::diagnose::{part_at_error, transaction_failed};
use crate::error::{ConnectionLost, MigrateError, PgMessage};
use crate::plan::Step;
use crate::record::read_history;
use crate::session::{Connections, Ledger, RunContext};
use crate::tracking::{quote_literal, seconds, Tracking};
use crate::{Migration, TransactionMode};

/// Applies, as one batch, the transactional migrations at the start of `steps` that fit in
/// one (at least the first; one only with a stop handle, so that a stop takes effect at the
/// next migration). Returns how many it applied.
pub(crate) async fn apply_next(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    steps: &[Step<'_>],
    ledger: &mut Ledger,
) -> Result<usize, MigrateError> {
    let max_migrations = if ctx.hooks.stop.is_some() {
        1
    } else {
        ctx.batch_limits.max_migrations.max(1)
    };
    let mut len = 0;
    let mut bytes = 0;
    for step in steps.iter().take(max_migrations) {
        if step.migration.mode != TransactionMode::Transactional {
            break;
        }
        let size = step.migration.body.len() + 1024;
        if len > 0 && bytes + size > ctx.batch_limits.max_bytes {
            break;
        }
        bytes += size;
        len += 1;
    }
    let migrations: Vec<&Migration> = steps[..len].iter().map(|s| s.migration).collect();
    send(conns, ctx, &migrations, ledger).await?;
    Ok(len)
}

/// One batch of transactional migrations, as one message.
struct Batch<'b> {
    /// The migrations, in order.
    migrations: &'b [&'b Migration],
    sql: String,
    /// Character range (PostgreSQL error positions count characters) of each migration's
    /// part of `sql`.
    parts: Vec<Range<usize>>,
    /// Column name of the rows returned by the history rows (name, execution time).
    applied_column: String,
    /// Column name of the marker row after each COMMIT (the migration's index in the batch).
    committed_column: String,
}

impl<'b> Batch<'b> {
    /// The message of batch number `id` of the run.
    fn new(ctx: &RunContext<'_>, migrations: &'b [&'b Migration], id: usize) -> Self {
        let capacity = migrations.iter().map(|m| m.body.len() + 640).sum::<usize>() + 1024;
        let mut sql = String::with_capacity(capacity);
        let token = &ctx.hooks.token;
        // Flush each commit's results at once (an INFO message makes the server send what it
        // has buffered) when someone follows the progress; the last one is flushed anyway.
        let flush = ctx.hooks.observer.is_some() && ctx.has_plpgsql;
        // The history row's INSERT is planned once per batch. The statement lives on the
        // migrator's own connection only (closed after the run), under a name unique per batch.
        let statement = format!("spawn_history_row_{id}");
        sql.push_str(
            &ctx.tracking
                .prepare_success_row(&statement, &ctx.created_by, token),
        );
        sql.push_str(";\n");
        let mut at = sql.chars().count();
        let mut parts = Vec::with_capacity(migrations.len());
        for (k, m) in migrations.iter().enumerate() {
            let start = sql.len();
            let timeouts = ctx.timeouts(m);
            sql.push_str(
                "BEGIN;\nSELECT pg_catalog.set_config('spawn.t0', pg_catalog.clock_timestamp()::text, true) AS spawn_t0;\n",
            );
            sql.push_str(&format!(
                "SET LOCAL lock_timeout = {};\nSET LOCAL statement_timeout = {};\n",
                quote_literal(timeouts.lock),
                quote_literal(timeouts.statement)
            ));
            if k + 1 < migrations.len() {
                sql.push_str("SET LOCAL synchronous_commit = off;\n");
            }
            if let Some(set) = &ctx.set_search_path {
                sql.push_str(set);
                sql.push_str(";\n");
            }
            sql.push_str(m.body_sql());
            // A trailing `--` comment or a missing `;` cannot swallow the history row.
            sql.push_str("\n;\n");
            sql.push_str(&Tracking::execute_success_row(
                &statement,
                &m.name,
                &m.sha256,
                m.pin_hash.as_deref(),
            ));
            sql.push_str(&format!(
                ";\nCOMMIT;\nSELECT {k} AS spawn_committed_{token};\n"
            ));
            if flush && k + 1 < migrations.len() {
                sql.push_str(
                    "DO $spawn$BEGIN RAISE INFO 'spawn: migration committed'; END$spawn$;\n",
                );
            }
            let part = &sql[start..];
            let n = if part.is_ascii() {
                part.len()
            } else {
                part.chars().count()
            };
            parts.push(at..at + n);
            at += n;
        }
        sql.push_str(&format!("DEALLOCATE {statement};"));
        Batch {
            migrations,
            sql,
            parts,
            applied_column: format!("spawn_applied_{token}"),
            committed_column: format!("spawn_committed_{token}"),
        }
    }

    /// `` `first`..`last` `` of the batch, for messages.
    fn range(&self) -> String {
        match (self.migrations.first(), self.migrations.last()) {
            (Some(first), Some(last)) => format!("`{}`..`{}`", first.name, last.name),
            _ => String::new(),
        }
    }
}

/// Applies `ms` (transactional, in order, the next ones of the run) as one batch, following
/// its commits as they stream in; on failure finds out what happened.
async fn send(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    ms: &[&Migration],
    ledger: &mut Ledger,
) -> Result<(), MigrateError> {
    let Some(first) = ms.first() else {
        return Ok(());
    };
    let session = conns.target();
    session.batches += 1;
    let batch = Batch::new(ctx, ms, session.batches);
    tracing::debug!(
        migrations = ms.len(),
        bytes = batch.sql.len(),
        first = &*first.name,
        "sending a batch of migrations"
    );
    let mut done = 0;
    let mut secs: Option<f64> = None;
    let commit = |done: &mut usize, secs: Option<f64>, ledger: &mut Ledger| {
        ledger.committed(ctx, ms[*done], secs.map(seconds).unwrap_or_default());
        *done += 1;
        if let Some(next) = ms.get(*done) {
            ledger.started(ctx, next);
        }
    };
    ledger.started(ctx, first);
    let outcome: Result<(), sqlx::Error> = async {
        let mut stream = session.stream(&batch.sql)?;
        while let Some(item) = stream.next().await {
            let Either::Right(row) = item? else { continue };
            let column = row.columns().first().map(sqlx::Column::name);
            if column == Some(batch.applied_column.as_str()) {
                secs = row.try_get::<f64, _>(1).ok();
            } else if column == Some(batch.committed_column.as_str()) && done < ms.len() {
                commit(&mut done, secs.take(), ledger);
            }
        }
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => {
            // The whole message succeeded, so every migration committed (the markers say so
            // too; this only guards against a marker that was not seen).
            while done < ms.len() {
                commit(&mut done, None, ledger);
            }
            Ok(())
        }
        Err(err) => recover(conns, ctx, &batch, err, done, ledger).await,
    }
}

/// Finds out what a failed batch did and which migration failed, and has it diagnosed;
/// always returns an error. `done` migrations of the batch were seen committing already.
async fn recover(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    batch: &Batch<'_>,
    err: sqlx::Error,
    done: usize,
    ledger: &mut Ledger,
) -> Result<(), MigrateError> {
    let range = batch.range();
    if ConnectionLost::is_loss(&err) {
        return Err(MigrateError::ConnectionLost(Box::new(ConnectionLost::new(
            format!("applying migrations {range}"),
            err,
        ))));
    }
    if err.as_database_error().is_none() {
        return Err(MigrateError::Database {
            context: format!(
                "applying migrations {range}: the connection failed; each migration commits with its history \
                 row, so run again to continue where it stopped"
            ),
            source: err,
        });
    }
    let batch_error = PgMessage::from_sqlx(&err);
    conns
        .target()
        .rollback_if_open()
        .await
        .map_err(MigrateError::db_or_lost(format!(
            "rolling back after a failure in migrations {range}"
        )))?;
    let history = read_history(conns.tracking(), ctx.tracking).await?;
    let ms = batch.migrations;
    let mut first = None;
    for (k, m) in ms.iter().enumerate().skip(done) {
        match history.rows.get(&*m.name) {
            Some(r) if r.status == "SUCCESS" && r.activity == "APPLY" && r.checksum == m.sha256 => {
                ledger.committed(ctx, m, seconds(r.exec_secs));
            }
            _ => {
                first = Some(k);
                break;
            }
        }
    }
    let Some(first) = first else {
        return Err(MigrateError::Database {
            context: format!("applying migrations {range}: every migration committed, yet the batch reported an error"),
            source: err,
        });
    };
    let mut culprit = first;
    if let Some(x) = part_at_error(&err, &batch.parts) {
        if x > first {
            // A parse error in migration x failed the whole message before anything ran:
            // the migrations before it are fine, apply them on their own.
            Box::pin(send(conns, ctx, &ms[first..x], ledger)).await?;
            culprit = x;
        }
    }
    Err(transaction_failed(conns, ctx, ms[culprit], batch_error, None).await)
}
