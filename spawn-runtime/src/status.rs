//! The state of every migration, for [`Migrator::status`](crate::Migrator::status): the
//! history read on a pooled connection, without a lock and without writing anything.
//!
//! With the tracking tables in another database, an interrupted attempt (see
//! [`crate::split`]) is checked in the target database (`pg_xact_status`): committed shows
//! as applied, rolled back as failed, still running as pending.

use std::fmt;
use std::time::Duration;

use sqlx::postgres::PgRow;
use sqlx::types::chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::error::MigrateError;
use crate::plan::{classify, counts_as_applied, ChecksumKind, Class, Progress};
use crate::session::Pools;
use crate::split::{apply_outcomes, in_doubt, read_outcomes, xact_status_query, InDoubt};
use crate::tracking::{seconds, History, HistoryRow, TablesState, Tracking};
use crate::Migration;

/// The state of one migration in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Applied, and its SQL still has the recorded checksum.
    Applied,
    /// Recorded as applied without running it (adopt).
    Adopted,
    /// Not applied yet (a run applies it).
    Pending,
    /// Applied, but its SQL changed since (a run refuses to start).
    Changed,
    /// Recorded as applied but not part of the set.
    Missing,
    /// Its last attempt failed and nothing of it stays applied (a run retries it).
    Failed,
    /// A no-transaction migration of which some statements ran (a run resumes it).
    Partial,
    /// A repeatable migration whose SQL changed since it was last applied (a run applies it
    /// again).
    Rerun,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Applied => "applied",
            State::Adopted => "adopted",
            State::Pending => "pending",
            State::Changed => "changed",
            State::Missing => "missing",
            State::Failed => "failed",
            State::Partial => "partial",
            State::Rerun => "re-run",
        })
    }
}

/// One migration's state, with what its newest history row says.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MigrationStatus {
    /// The migration's name.
    pub name: String,
    /// Its state.
    pub state: State,
    /// When the newest history row was written (for applied ones: when it was applied).
    pub applied_at: Option<DateTime<Utc>>,
    /// What the recorded checksum is (`None`: no history row).
    pub checksum_kind: Option<ChecksumKind>,
    /// Hex of the recorded checksum.
    pub checksum: Option<String>,
    /// `APPLY`, `ADOPT`, `REVERT` of the newest row.
    pub activity: Option<String>,
    /// `created_by` of the newest row (`role (app)`, or `unused` for the original spawn).
    pub created_by: Option<String>,
    /// The root hash of the pin it was rendered from, as recorded.
    pub pin_hash: Option<String>,
    /// Its execution time, as recorded.
    pub execution_time: Option<Duration>,
    /// For a partly applied no-transaction migration: `(statements done, of)`.
    pub progress: Option<(usize, usize)>,
    /// `status_note` of the newest row (the error of a failed one), when not empty.
    pub note: Option<String>,
}

impl fmt::Display for MigrationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<8} {}", self.state.to_string(), self.name)?;
        if let Some((done, of)) = self.progress {
            write!(f, " ({done} of {of} statements ran)")?;
        }
        if let Some(at) = self.applied_at {
            write!(f, "  {}", at.format("%Y-%m-%d %H:%M:%S UTC"))?;
        }
        Ok(())
    }
}

fn base(name: &str, state: State, row: Option<&HistoryRow>) -> MigrationStatus {
    MigrationStatus {
        name: name.to_string(),
        state,
        applied_at: row.and_then(|r| DateTime::<Utc>::from_timestamp_micros(r.created_us)),
        checksum_kind: row.map(|r| ChecksumKind::of(&r.checksum)),
        checksum: row.map(|r| hex::encode(&r.checksum)),
        activity: row.map(|r| r.activity.clone()),
        created_by: row.map(|r| r.created_by.clone()),
        pin_hash: row.and_then(|r| r.pin_hash.clone()),
        execution_time: row.map(|r| seconds(r.exec_secs)),
        progress: None,
        note: row.map(|r| r.status_note.clone()).filter(|n| !n.is_empty()),
    }
}

/// The state of every migration of `migrations` (in name order) and of the recorded ones
/// missing from it. Takes no lock and changes nothing.
pub(crate) async fn read(
    pools: Pools<'_>,
    tracking: &Tracking,
    migrations: &[Migration],
) -> Result<Vec<MigrationStatus>, MigrateError> {
    let context = || {
        format!(
            "reading the migration status from schema `{}`",
            tracking.schema
        )
    };
    let mut conn = pools
        .tracking
        .unwrap_or(pools.target)
        .acquire()
        .await
        .map_err(MigrateError::db(context()))?;
    let history = read_history(&mut conn, tracking)
        .await
        .map_err(MigrateError::db(context()))?;
    drop(conn);
    let mut history = history;
    let attempts = in_doubt(&history);
    if !attempts.is_empty() {
        resolve_attempts(pools.target, &mut history, attempts)
            .await
            .map_err(MigrateError::db(
                "checking interrupted migrations in the target database",
            ))?;
    }
    Ok(statuses(migrations, &history))
}

/// The history, or none when the tracking tables are missing.
async fn read_history(
    conn: &mut PgConnection,
    tracking: &Tracking,
) -> Result<History, sqlx::Error> {
    let probe = format!("SELECT {}", TablesState::probe_columns(tracking));
    let rows = fetch_all(conn, &probe).await?;
    let tables = match rows.first() {
        Some(row) => TablesState::from_row(row)?,
        None => TablesState::default(),
    };
    if !tables.all() {
        return Ok(History::default());
    }
    let rows = fetch_all(conn, &tracking.history_query()).await?;
    History::from_rows(&rows, &tracking.namespace)
}

/// Updates `history` with what became of the interrupted `attempts` made in the target
/// database; attempts made against another database cannot be checked from here and are
/// left as they are.
async fn resolve_attempts(
    target: &PgPool,
    history: &mut History,
    attempts: Vec<InDoubt>,
) -> Result<(), sqlx::Error> {
    let mut conn = target.acquire().await?;
    let database: String = sqlx::query_scalar("SELECT pg_catalog.current_database()::text")
        .fetch_one(&mut *conn)
        .await?;
    let here: Vec<InDoubt> = attempts
        .into_iter()
        .filter(|a| a.database == database)
        .collect();
    if !here.is_empty() {
        let rows = fetch_all(&mut conn, &xact_status_query(&here)).await?;
        let outcomes = read_outcomes(&rows)?;
        apply_outcomes(history, &here, &outcomes);
    }
    Ok(())
}

async fn fetch_all(conn: &mut PgConnection, sql: &str) -> Result<Vec<PgRow>, sqlx::Error> {
    sqlx::Executor::fetch_all(conn, sqlx::raw_sql(sql)).await
}

/// The state of every migration of the set, then of the recorded ones that are missing
/// from it, all in name order.
pub(crate) fn statuses(migrations: &[Migration], history: &History) -> Vec<MigrationStatus> {
    let mut out: Vec<MigrationStatus> = migrations
        .iter()
        .map(|m| {
            let row = history.rows.get(&*m.name);
            let class = classify(m, row);
            let state = match &class {
                Class::Pending => State::Pending,
                Class::Applied { adopted: true } => State::Adopted,
                Class::Applied { adopted: false } => State::Applied,
                Class::Changed { .. } if m.repeatable => State::Rerun,
                Class::Changed { .. } => State::Changed,
                Class::Failed => State::Failed,
                Class::Partial { .. } => State::Partial,
            };
            let mut status = base(&m.name, state, row);
            if let Class::Partial { done, of, .. } = class {
                status.progress = Some((done, of));
            }
            status
        })
        .collect();
    let names: std::collections::HashSet<&str> = migrations.iter().map(|m| &*m.name).collect();
    for row in history.rows.values() {
        if !names.contains(row.name.as_str()) && counts_as_applied(row) {
            let mut status = base(&row.name, State::Missing, Some(row));
            status.progress = Progress::parse(&row.status_note).map(|p| (p.statements_done, p.of));
            out.push(status);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}
