//! What a run did (or, for a dry run, would do).

use std::fmt;
use std::time::Duration;

/// One migration applied by a run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppliedMigration {
    /// The migration's name.
    pub name: String,
    /// Execution time of the migration itself (measured by the server for transactional
    /// migrations; as recorded in `migration_history.execution_time`).
    pub duration: Duration,
}

/// The outcome of [`Migrator::run`](crate::Migrator::run),
/// [`Migrator::adopt`](crate::Migrator::adopt) or a rollback
/// ([`Migrator::rollback_to`](crate::Migrator::rollback_to),
/// [`Migrator::rollback_steps`](crate::Migrator::rollback_steps)), or of a
/// [dry run](crate::Migrator::dry_run) of one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Migrations applied, in order.
    pub applied: Vec<AppliedMigration>,
    /// Migrations recorded as applied without running them (adopt).
    pub adopted: Vec<String>,
    /// Migrations of the set that were already applied (or adopted) before this run.
    pub already_applied: usize,
    /// Nothing was changed: `planned` is what a real run would apply (or adopt).
    pub dry_run: bool,
    /// The migrations this run set out to apply (or adopt), in order.
    pub planned: Vec<String>,
    /// Wall time of the whole run, lock wait included.
    pub total: Duration,
    /// Query messages sent to the server on the migrator's connection (a batch of
    /// migrations is one message). A run with nothing to do sends 1 (it reads the history
    /// and takes no lock); a first run sends one more for that read, which fails.
    pub round_trips: usize,
    /// How long the run waited for the migration lock (taking it when it was free: a round
    /// trip; zero when it did not need it). Part of `total`.
    pub lock_wait: Duration,
    /// Attempts needed to take the migration lock (1 when it was free; 0 when the run did not
    /// need it: nothing was pending).
    pub lock_attempts: u32,
    /// The environment the migrations were rendered for, when known.
    pub environment: Option<String>,
    /// The tracking schema.
    pub tracking_schema: String,
    /// The run stopped early because its [`StopHandle`](crate::StopHandle) asked it to:
    /// `applied` is what it applied, the rest of `planned` was not started.
    pub stopped: bool,
    /// Migrations found committed in the target database whose SUCCESS row was missing (a
    /// run with the tracking tables in another database was interrupted between the two
    /// commits); this run recorded them (and did not apply them again). In a dry run: the
    /// ones a real run would record.
    pub recovered: Vec<String>,
    /// A rollback ([`Migrator::rollback_to`](crate::Migrator::rollback_to)): `planned` are
    /// the migrations to undo, newest first, and `already_applied` those that stay applied.
    pub rollback: bool,
    /// Migrations a rollback undid (their `down.sql` committed with a `REVERT` row), newest
    /// first.
    pub reverted: Vec<AppliedMigration>,
}

impl Report {
    /// Whether the run changed nothing (nothing pending, or a dry run).
    pub fn is_noop(&self) -> bool {
        self.applied.is_empty()
            && self.adopted.is_empty()
            && self.recovered.is_empty()
            && self.reverted.is_empty()
    }

    /// The planned migrations that were not applied (after a stop).
    pub fn not_applied(&self) -> Vec<&str> {
        if self.dry_run {
            return self.planned.iter().map(String::as_str).collect();
        }
        self.planned
            .iter()
            .map(String::as_str)
            .filter(|n| {
                !self.applied.iter().any(|a| a.name == *n) && !self.adopted.iter().any(|a| a == n)
            })
            .collect()
    }
}

impl Report {
    /// The [`Display`](fmt::Display) of a rollback's report.
    fn fmt_rollback(&self, f: &mut fmt::Formatter<'_>, env: &str) -> fmt::Result {
        let (verb, names): (&str, Vec<&str>) = if self.dry_run {
            (
                "dry run: would roll back",
                self.planned.iter().map(String::as_str).collect(),
            )
        } else {
            (
                "rolled back",
                self.reverted.iter().map(|r| r.name.as_str()).collect(),
            )
        };
        if names.is_empty() {
            return write!(
                f,
                "nothing to roll back{env} ({} applied migration(s) stay applied)",
                self.already_applied
            );
        }
        write!(
            f,
            "{verb} {} migration(s){env} ({} stay applied):",
            names.len(),
            self.already_applied
        )?;
        for name in names {
            write!(f, "\n  {name}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env = self
            .environment
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        if self.rollback {
            return self.fmt_rollback(f, &env);
        }
        if self.dry_run {
            if self.planned.is_empty() {
                write!(
                    f,
                    "dry run{env}: nothing to do ({} already applied)",
                    self.already_applied
                )?;
            } else {
                write!(
                    f,
                    "dry run{env}: would apply {} migration(s) ({} already applied):",
                    self.planned.len(),
                    self.already_applied
                )?;
                for name in &self.planned {
                    write!(f, "\n  {name}")?;
                }
            }
            return Ok(());
        }
        if !self.recovered.is_empty() {
            write!(
                f,
                "recorded {} migration(s) found committed:",
                self.recovered.len()
            )?;
            for name in &self.recovered {
                write!(f, "\n  {name}")?;
            }
            if !(self.applied.is_empty() && self.adopted.is_empty() && !self.stopped) {
                writeln!(f)?;
            }
        }
        if self.stopped {
            let rest = self.not_applied();
            write!(
                f,
                "stopped on request{env} after applying {} of {} migration(s)",
                self.applied.len(),
                self.planned.len()
            )?;
            for m in &self.applied {
                write!(f, "\n  {}  {:.1?}", m.name, m.duration)?;
            }
            if !rest.is_empty() {
                write!(f, "\nnot applied: {}", rest.join(", "))?;
            }
            return Ok(());
        }
        if self.applied.is_empty() && self.adopted.is_empty() {
            if !self.recovered.is_empty() {
                return Ok(());
            }
            return write!(
                f,
                "nothing to apply{env}: {} migration(s) already applied ({:.1?})",
                self.already_applied, self.total
            );
        }
        if !self.applied.is_empty() {
            write!(
                f,
                "applied {} migration(s){env} in {:.1?} ({} already applied):",
                self.applied.len(),
                self.total,
                self.already_applied
            )?;
            for m in &self.applied {
                write!(f, "\n  {}  {:.1?}", m.name, m.duration)?;
            }
        }
        if !self.adopted.is_empty() {
            if !self.applied.is_empty() {
                writeln!(f)?;
            }
            write!(
                f,
                "adopted {} migration(s){env} without running them:",
                self.adopted.len()
            )?;
            for name in &self.adopted {
                write!(f, "\n  {name}")?;
            }
        }
        Ok(())
    }
}
