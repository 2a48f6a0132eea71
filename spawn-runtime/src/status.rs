//! The state of every migration, for `status()`.

use std::fmt;
use std::time::Duration;

use sqlx::types::chrono::{DateTime, Utc};

use crate::plan::{classify, counts_as_applied, ChecksumKind, Class, Progress};
use crate::tracking::{History, HistoryRow};
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
        })
    }
}

/// One migration's state, with what its newest history row says.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationStatus {
    pub name: String,
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
    pub pin_hash: Option<String>,
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
        execution_time: row
            .map(|r| {
                if r.exec_secs.is_finite() && r.exec_secs >= 0.0 {
                    r.exec_secs
                } else {
                    0.0
                }
            })
            .map(Duration::from_secs_f64),
        progress: None,
        note: row.map(|r| r.status_note.clone()).filter(|n| !n.is_empty()),
    }
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
