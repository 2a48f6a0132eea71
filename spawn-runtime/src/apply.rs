//! Applying migrations.
//!
//! Transactional migrations go in batches: ONE simple-query message carries, for each
//! migration of the batch,
//!
//! ```sql
//! BEGIN;
//! SELECT set_config('spawn.t0', clock_timestamp()::text, true);   -- start of the migration
//! SET LOCAL lock_timeout = '…'; SET LOCAL statement_timeout = '…';
//! SET LOCAL synchronous_commit = off;       -- all but the last of the batch, see below
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
//! migrations before it are then applied on their own), replays the failing migration's
//! statements one by one in a transaction that is rolled back to find the failing statement,
//! records a FAILURE row and returns [`MigrateError::Failed`].
//!
//! The message's results are streamed: each marker row reports a commit as it happens
//! (progress events), and `<token>`, random per run, keeps a migration's own result rows from
//! being taken for markers. With a stop handle, batches hold one migration each.
//!
//! No-transaction migrations run statement by statement outside a transaction; after each
//! statement an ATTEMPTED row records the progress (`{"statements_done": k, "of": n, …}`),
//! so a rerun resumes after the last statement that succeeded.
//!
//! With the tracking tables in another database, transactional migrations go one at a time
//! through [`crate::split`]; the statements run on the target connection and the history rows
//! are written on the tracking connection ([`Conns`]).

use std::ops::Range;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sqlx::postgres::{PgDatabaseError, PgErrorPosition};
use sqlx::{Either, Row};

use crate::error::{FailedStatement, MigrateError, MigrationFailure, PgMessage};
use crate::lock::Session;
use crate::plan::{prefix_sha256, statements_of, Progress, Step};
use crate::progress::Hooks;
use crate::report::AppliedMigration;
use crate::tracking::{
    quote_literal, ExecTime, History, NewRow, TablesState, Tracking, BOOTSTRAP_MIGRATION,
    DEFAULT_NAMESPACE, SPAWN_NAMESPACE,
};
use crate::{Migration, Statement, TransactionMode};

/// What applying needs besides the migrations.
#[derive(Debug, Clone)]
pub(crate) struct Ctx<'c> {
    pub tracking: &'c Tracking,
    pub created_by: &'c str,
    pub lock_timeout: &'c str,
    pub statement_timeout: &'c str,
    pub max_batch_migrations: usize,
    pub max_batch_bytes: usize,
    pub hooks: &'c Hooks,
    /// `current_database()` of the target connection.
    pub target_database: &'c str,
    /// Whether the target has PL/pgSQL (for the `DO` that flushes progress markers).
    pub has_plpgsql: bool,
}

/// The run's dedicated connections: the target's, and the tracking database's when the
/// tracking tables live elsewhere (see [`crate::split`]).
pub(crate) struct Conns {
    pub target: Session,
    pub tracking: Option<Session>,
}

impl Conns {
    /// Where the migrations run.
    pub fn t(&mut self) -> &mut Session {
        &mut self.target
    }

    /// Where the tracking tables are.
    pub fn k(&mut self) -> &mut Session {
        match &mut self.tracking {
            Some(k) => k,
            None => &mut self.target,
        }
    }

    pub fn is_split(&self) -> bool {
        self.tracking.is_some()
    }

    /// Messages sent on both connections.
    pub fn sent(&self) -> usize {
        self.target.sent + self.tracking.as_ref().map_or(0, |k| k.sent)
    }
}

impl Ctx<'_> {
    pub(crate) fn timeouts<'m>(&'m self, m: &'m Migration) -> (&'m str, &'m str) {
        (
            m.lock_timeout.as_deref().unwrap_or(self.lock_timeout),
            m.statement_timeout
                .as_deref()
                .unwrap_or(self.statement_timeout),
        )
    }
}

/// Reads the history (one query).
pub(crate) async fn read_history(
    session: &mut Session,
    tracking: &Tracking,
) -> Result<History, MigrateError> {
    let rows = session
        .fetch_all(&tracking.history_query())
        .await
        .map_err(MigrateError::db(format!(
            "reading the migration history in schema `{}`",
            tracking.schema
        )))?;
    History::from_rows(&rows).map_err(MigrateError::db(format!(
        "decoding the migration history in schema `{}`",
        tracking.schema
    )))
}

/// Creates whatever is missing of the tracking tables, with the bootstrap row. `present` is
/// what the lock probe saw; it is checked again first (it may predate the lock).
pub(crate) async fn create_tracking_tables(
    session: &mut Session,
    ctx: &Ctx<'_>,
    present: TablesState,
) -> Result<(), MigrateError> {
    let tracking = ctx.tracking;
    let mut present = present;
    if !present.all() {
        let rows = session
            .fetch_all(&format!("SELECT {}", TablesState::probe_columns(tracking)))
            .await
            .map_err(MigrateError::db("checking the tracking tables"))?;
        if let Some(row) = rows.first() {
            present = TablesState::from_row(row)
                .map_err(MigrateError::db("checking the tracking tables"))?;
        }
    }
    if present.all() {
        return Ok(());
    }
    let row = bootstrap_row(ctx, ExecTime::SinceT0);
    let sql = format!(
        "BEGIN;\nSELECT pg_catalog.set_config('spawn.t0', pg_catalog.clock_timestamp()::text, true);\n{}{row};\nCOMMIT;",
        tracking.ddl(present)
    );
    tracing::debug!(schema = %tracking.schema, "creating the tracking tables");
    session.execute(&sql).await.map_err(MigrateError::db(format!(
        "creating the tracking tables in schema `{}` (the role needs CREATE privilege on the database \
         the first time; or create them once with a privileged role)",
        tracking.schema
    )))?;
    Ok(())
}

/// The `INSERT` of the bootstrap row (`001-base-migration-table`, namespace `spawn`), unless
/// it is recorded already; its checksum covers the full bootstrap DDL.
fn bootstrap_row(ctx: &Ctx<'_>, execution_time: ExecTime) -> String {
    let (sha256, _) = Migration::checksums_of(&ctx.tracking.full_ddl());
    ctx.tracking.insert_row(&NewRow {
        name: BOOTSTRAP_MIGRATION,
        namespace: SPAWN_NAMESPACE,
        activity: "APPLY",
        status: "SUCCESS",
        created_by: ctx.created_by,
        description: "",
        status_note: "",
        checksum: &sha256,
        pin_hash: None,
        execution_time,
        unless_succeeded: true,
    })
}

/// Records the bootstrap row when the tables exist without it (made by other means).
pub(crate) async fn record_bootstrap(
    session: &mut Session,
    ctx: &Ctx<'_>,
) -> Result<(), MigrateError> {
    let sql = bootstrap_row(ctx, ExecTime::Seconds(0.0));
    session
        .execute(&sql)
        .await
        .map_err(MigrateError::db(format!(
            "recording `{BOOTSTRAP_MIGRATION}` in schema `{}`",
            ctx.tracking.schema
        )))?;
    Ok(())
}

/// Applies the plan's steps in order; what was applied is pushed to `applied` as it commits.
/// Returns `true` when it stopped early because a stop was requested (at a migration
/// boundary: nothing is half-applied).
pub(crate) async fn apply(
    c: &mut Conns,
    ctx: &Ctx<'_>,
    steps: &[Step<'_>],
    applied: &mut Vec<AppliedMigration>,
) -> Result<bool, MigrateError> {
    let total = steps.len();
    // With a stop handle, one migration per message so that a stop takes effect at the next
    // migration; with the tracking tables elsewhere, one at a time anyway.
    let max_migrations = if ctx.hooks.stop.is_some() {
        1
    } else {
        ctx.max_batch_migrations.max(1)
    };
    let mut i = 0;
    while i < steps.len() {
        if ctx.hooks.stop_requested() {
            tracing::info!(
                applied = i,
                of = total,
                next = &*steps[i].migration.name,
                "stopping on request"
            );
            return Ok(true);
        }
        if steps[i].migration.mode == TransactionMode::NoTransaction {
            apply_no_transaction(c, ctx, &steps[i], i, total, applied).await?;
            i += 1;
            continue;
        }
        if c.is_split() {
            crate::split::apply_one(c, ctx, steps[i].migration, i, total, applied).await?;
            i += 1;
            continue;
        }
        let mut j = i;
        let mut bytes = 0;
        while j < steps.len()
            && steps[j].migration.mode == TransactionMode::Transactional
            && j - i < max_migrations
        {
            let len = steps[j].migration.body.len() + 1024;
            if j > i && bytes + len > ctx.max_batch_bytes {
                break;
            }
            bytes += len;
            j += 1;
        }
        let batch: Vec<&Migration> = steps[i..j].iter().map(|s| s.migration).collect();
        apply_transactional(c.t(), ctx, &batch, i, total, applied).await?;
        i = j;
    }
    Ok(false)
}

/// One batch of transactional migrations, sent as one message.
struct Batch {
    sql: String,
    /// Character range (PostgreSQL error positions count characters) of each migration's
    /// part of `sql`.
    chars: Vec<Range<usize>>,
    /// Column name of the rows returned by the history rows (name, execution time).
    applied_column: String,
    /// Column name of the marker row after each COMMIT (the migration's index in the batch).
    committed_column: String,
}

fn build_batch(ctx: &Ctx<'_>, ms: &[&Migration], id: usize) -> Batch {
    let capacity = ms.iter().map(|m| m.body.len() + 640).sum::<usize>() + 1024;
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
            .prepare_success_row(&statement, ctx.created_by, token),
    );
    sql.push_str(";\n");
    let mut at = sql.chars().count();
    let mut chars = Vec::with_capacity(ms.len());
    for (k, m) in ms.iter().enumerate() {
        let start = sql.len();
        let (lock_timeout, statement_timeout) = ctx.timeouts(m);
        sql.push_str(
            "BEGIN;\nSELECT pg_catalog.set_config('spawn.t0', pg_catalog.clock_timestamp()::text, true) AS spawn_t0;\n",
        );
        sql.push_str(&format!(
            "SET LOCAL lock_timeout = {};\nSET LOCAL statement_timeout = {};\n",
            quote_literal(lock_timeout),
            quote_literal(statement_timeout)
        ));
        if k + 1 < ms.len() {
            sql.push_str("SET LOCAL synchronous_commit = off;\n");
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
        if flush && k + 1 < ms.len() {
            sql.push_str("DO $spawn$BEGIN RAISE INFO 'spawn: migration committed'; END$spawn$;\n");
        }
        let part = &sql[start..];
        let n = if part.is_ascii() {
            part.len()
        } else {
            part.chars().count()
        };
        chars.push(at..at + n);
        at += n;
    }
    sql.push_str(&format!("DEALLOCATE {statement};"));
    Batch {
        sql,
        chars,
        applied_column: format!("spawn_applied_{token}"),
        committed_column: format!("spawn_committed_{token}"),
    }
}

/// Applies `ms` (transactional, in order; `first` is the index of `ms[0]` among the `total`
/// of the run) as one batch, following its commits as they stream in; on failure diagnoses
/// it.
async fn apply_transactional(
    session: &mut Session,
    ctx: &Ctx<'_>,
    ms: &[&Migration],
    first: usize,
    total: usize,
    applied: &mut Vec<AppliedMigration>,
) -> Result<(), MigrateError> {
    if ms.is_empty() {
        return Ok(());
    }
    session.batches += 1;
    let batch = build_batch(ctx, ms, session.batches);
    tracing::debug!(
        migrations = ms.len(),
        bytes = batch.sql.len(),
        first = &*ms[0].name,
        "sending a batch of migrations"
    );
    let mut done = 0;
    let mut secs: Option<f64> = None;
    let commit = |done: &mut usize, secs: Option<f64>, applied: &mut Vec<AppliedMigration>| {
        let m = ms[*done];
        let duration = secs.map(seconds).unwrap_or_default();
        tracing::info!(migration = &*m.name, ?duration, "applied migration");
        applied.push(AppliedMigration {
            name: m.name.to_string(),
            duration,
        });
        ctx.hooks.committed(&m.name, first + *done, total, duration);
        *done += 1;
        if let Some(next) = ms.get(*done) {
            ctx.hooks.started(&next.name, first + *done, total);
        }
    };
    ctx.hooks.started(&ms[0].name, first, total);
    let outcome: Result<(), sqlx::Error> = async {
        let mut stream = session.stream(&batch.sql)?;
        while let Some(item) = stream.next().await {
            let Either::Right(row) = item? else { continue };
            let column = row.columns().first().map(sqlx::Column::name);
            if column == Some(batch.applied_column.as_str()) {
                secs = row.try_get::<f64, _>(1).ok();
            } else if column == Some(batch.committed_column.as_str()) && done < ms.len() {
                commit(&mut done, secs.take(), applied);
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
                commit(&mut done, None, applied);
            }
            Ok(())
        }
        Err(err) => diagnose(session, ctx, ms, &batch, err, done, first, total, applied).await,
    }
}

/// Finds out what a failed batch did and which migration and statement failed; always
/// returns an error. `done` migrations of the batch were seen committing already.
#[allow(clippy::too_many_arguments)]
async fn diagnose(
    session: &mut Session,
    ctx: &Ctx<'_>,
    ms: &[&Migration],
    batch: &Batch,
    err: sqlx::Error,
    done: usize,
    first_index: usize,
    total: usize,
    applied: &mut Vec<AppliedMigration>,
) -> Result<(), MigrateError> {
    let range = format!("`{}`..`{}`", ms[0].name, ms[ms.len() - 1].name);
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
    session
        .execute("ROLLBACK")
        .await
        .map_err(MigrateError::db(format!(
            "rolling back after a failure in migrations {range}"
        )))?;
    let history = read_history(session, ctx.tracking).await?;
    let mut first = None;
    for (k, m) in ms.iter().enumerate().skip(done) {
        match history.rows.get(&*m.name) {
            Some(r) if r.status == "SUCCESS" && r.activity == "APPLY" && r.checksum == m.sha256 => {
                let duration = seconds(r.exec_secs);
                tracing::info!(migration = &*m.name, ?duration, "applied migration");
                applied.push(AppliedMigration {
                    name: m.name.to_string(),
                    duration,
                });
                ctx.hooks
                    .committed(&m.name, first_index + k, total, duration);
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
    if let Some(x) = error_migration(&err, &batch.chars) {
        if x > first {
            // A parse error in migration x failed the whole message before anything ran:
            // the migrations before it are fine, apply them on their own.
            Box::pin(apply_transactional(
                session,
                ctx,
                &ms[first..x],
                first_index + first,
                total,
                applied,
            ))
            .await?;
            culprit = x;
        }
    }
    let m = ms[culprit];
    let (statement, replay_error) = replay(session, ctx, m).await?;
    let remark = (statement.is_none() && replay_error.is_none()).then(failed_at_commit);
    let error = replay_error.unwrap_or(batch_error);
    tracing::warn!(migration = &*m.name, error = %error.message, "migration failed");
    record_failure(session, ctx, m, &error.to_string(), 0.0).await?;
    Err(MigrateError::Failed(Box::new(MigrationFailure {
        name: m.name.to_string(),
        statement,
        error,
        no_transaction_done: None,
        remark,
        applied_before: Vec::new(),
    })))
}

/// The remark of a failure that no statement can be blamed for.
pub(crate) fn failed_at_commit() -> String {
    "each of its statements succeeded when replayed: it failed at COMMIT (e.g. a deferred constraint) \
     or while its history row was recorded"
        .to_string()
}

/// Which part of the batch an error's position falls into.
fn error_migration(err: &sqlx::Error, chars: &[Range<usize>]) -> Option<usize> {
    let pg = err
        .as_database_error()?
        .try_downcast_ref::<PgDatabaseError>()?;
    match pg.position()? {
        PgErrorPosition::Original(p) => {
            let at = p.checked_sub(1)?;
            chars.iter().position(|r| r.contains(&at))
        }
        PgErrorPosition::Internal { .. } => None,
    }
}

/// Runs the statements of `m` one by one in a transaction that is rolled back, to find the
/// one that fails. Returns the statement and its error, or `(None, None)` if none failed
/// (the failure was then at COMMIT, e.g. a deferred constraint).
pub(crate) async fn replay(
    session: &mut Session,
    ctx: &Ctx<'_>,
    m: &Migration,
) -> Result<(Option<FailedStatement>, Option<PgMessage>), MigrateError> {
    let context = || {
        format!(
            "replaying migration `{}` to find its failing statement",
            m.name
        )
    };
    let statements = statements_of(m);
    let (lock_timeout, statement_timeout) = ctx.timeouts(m);
    let setup = format!(
        "BEGIN; SET LOCAL lock_timeout = {}; SET LOCAL statement_timeout = {}",
        quote_literal(lock_timeout),
        quote_literal(statement_timeout)
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
            "invalid timeout for this migration (lock_timeout {lock_timeout:?}, statement_timeout \
             {statement_timeout:?}): {}",
            error.message
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

fn failed_statement(m: &Migration, statements: &[Statement], i: usize) -> FailedStatement {
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
    }
}

/// Records a FAILURE row in its own short transaction.
pub(crate) async fn record_failure(
    session: &mut Session,
    ctx: &Ctx<'_>,
    m: &Migration,
    note: &str,
    secs: f64,
) -> Result<(), MigrateError> {
    let sql = ctx.tracking.insert_row(&NewRow {
        name: &m.name,
        namespace: DEFAULT_NAMESPACE,
        activity: "APPLY",
        status: "FAILURE",
        created_by: ctx.created_by,
        description: "",
        status_note: note,
        checksum: &m.sha256,
        pin_hash: m.pin_hash.as_deref(),
        execution_time: ExecTime::Seconds(secs),
        unless_succeeded: false,
    });
    session
        .execute(&sql)
        .await
        .map_err(MigrateError::db(format!(
            "recording the failure of migration `{}`",
            m.name
        )))?;
    Ok(())
}

/// A no-transaction migration: statement by statement, progress recorded after each.
async fn apply_no_transaction(
    c: &mut Conns,
    ctx: &Ctx<'_>,
    step: &Step<'_>,
    index: usize,
    total: usize,
    applied: &mut Vec<AppliedMigration>,
) -> Result<(), MigrateError> {
    let m = step.migration;
    ctx.hooks.started(&m.name, index, total);
    let statements = statements_of(m);
    let n = statements.len();
    let (lock_timeout, statement_timeout) = ctx.timeouts(m);
    let db =
        |what: &str| MigrateError::db(format!("{what} of no-transaction migration `{}`", m.name));
    c.t()
        .execute(&format!(
            "SET lock_timeout = {}; SET statement_timeout = {}",
            quote_literal(lock_timeout),
            quote_literal(statement_timeout)
        ))
        .await
        .map_err(db("setting the timeouts"))?;
    if step.resume_at > 0 {
        tracing::info!(
            migration = &*m.name,
            resume_at = step.resume_at + 1,
            of = n,
            "resuming no-transaction migration"
        );
    }
    let started = Instant::now();
    let row = |status: &'static str, note: &str, secs: f64| {
        ctx.tracking.insert_row(&NewRow {
            name: &m.name,
            namespace: DEFAULT_NAMESPACE,
            activity: "APPLY",
            status,
            created_by: ctx.created_by,
            description: "",
            status_note: note,
            checksum: &m.sha256,
            pin_hash: m.pin_hash.as_deref(),
            execution_time: ExecTime::Seconds(secs),
            unless_succeeded: false,
        })
    };
    for i in step.resume_at..n {
        let s = &statements[i];
        tracing::debug!(
            migration = &*m.name,
            statement = i + 1,
            of = n,
            line = s.line,
            "running statement"
        );
        match c.t().execute(m.statement_sql(s)).await {
            Ok(_) => {
                if i + 1 < n {
                    let progress = Progress {
                        statements_done: i + 1,
                        of: n,
                        done_sha256: prefix_sha256(m, &statements, i + 1),
                        error: None,
                    };
                    let secs = started.elapsed().as_secs_f64();
                    c.k()
                        .execute(&row("ATTEMPTED", &progress.to_note(), secs))
                        .await
                        .map_err(db("recording the progress"))?;
                }
            }
            Err(e) if e.as_database_error().is_some() => {
                let error = PgMessage::from_sqlx(&e);
                let progress = Progress {
                    statements_done: i,
                    of: n,
                    done_sha256: prefix_sha256(m, &statements, i),
                    error: Some(error.to_string()),
                };
                let secs = started.elapsed().as_secs_f64();
                reset_and_record(c, &row("FAILURE", &progress.to_note(), secs))
                    .await
                    .map_err(db("recording the failure"))?;
                tracing::warn!(migration = &*m.name, statement = i + 1, error = %error.message, "migration failed");
                return Err(MigrateError::Failed(Box::new(MigrationFailure {
                    name: m.name.to_string(),
                    statement: Some(failed_statement(m, &statements, i)),
                    error,
                    no_transaction_done: Some(i),
                    remark: None,
                    applied_before: Vec::new(),
                })));
            }
            Err(e) => {
                return Err(MigrateError::Database {
                    context: format!(
                        "running statement {} of no-transaction migration `{}`: the connection failed; run again \
                         to resume after the last recorded statement",
                        i + 1,
                        m.name
                    ),
                    source: e,
                })
            }
        }
    }
    let duration = started.elapsed();
    reset_and_record(c, &row("SUCCESS", "", duration.as_secs_f64()))
        .await
        .map_err(db("recording the success"))?;
    tracing::info!(
        migration = &*m.name,
        ?duration,
        "applied migration (no transaction)"
    );
    applied.push(AppliedMigration {
        name: m.name.to_string(),
        duration,
    });
    ctx.hooks.committed(&m.name, index, total, duration);
    Ok(())
}

/// Resets the session timeouts of a no-transaction migration and records a history row: one
/// message in a single database, one on each connection otherwise.
async fn reset_and_record(c: &mut Conns, row: &str) -> Result<(), sqlx::Error> {
    const RESET: &str = "RESET lock_timeout; RESET statement_timeout";
    if c.is_split() {
        c.t().execute(RESET).await?;
        c.k().execute(row).await?;
    } else {
        c.t().execute(&format!("{RESET}; {row}")).await?;
    }
    Ok(())
}

/// Records migrations as applied without running them (activity ADOPT, `description` in
/// every row), in one transaction.
pub(crate) async fn adopt(
    session: &mut Session,
    ctx: &Ctx<'_>,
    ms: &[&Migration],
    description: &str,
) -> Result<(), MigrateError> {
    if ms.is_empty() {
        return Ok(());
    }
    let mut sql = String::from("BEGIN;\n");
    for m in ms {
        sql.push_str(&ctx.tracking.insert_row(&NewRow {
            name: &m.name,
            namespace: DEFAULT_NAMESPACE,
            activity: "ADOPT",
            status: "SUCCESS",
            created_by: ctx.created_by,
            description,
            status_note: "",
            checksum: &m.sha256,
            pin_hash: m.pin_hash.as_deref(),
            execution_time: ExecTime::Seconds(0.0),
            unless_succeeded: false,
        }));
        sql.push_str(";\n");
    }
    sql.push_str("COMMIT;");
    session
        .execute(&sql)
        .await
        .map_err(MigrateError::db(format!(
            "recording migrations `{}`..`{}` as adopted",
            ms[0].name,
            ms[ms.len() - 1].name
        )))?;
    for m in ms {
        tracing::info!(
            migration = &*m.name,
            "adopted migration (recorded as applied without running it)"
        );
    }
    Ok(())
}

fn seconds(s: f64) -> Duration {
    if s.is_finite() && s >= 0.0 {
        Duration::from_secs_f64(s)
    } else {
        Duration::ZERO
    }
}
