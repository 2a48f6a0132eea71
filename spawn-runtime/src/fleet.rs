//! Fleets: one migration set applied to many databases at once.
//!
//! [`Migrator::run_fleet`] runs the migrator on each [`FleetMember`] (a database), at most
//! [`FleetOptions::jobs`] at a time, each under its own advisory lock exactly as a single
//! [`Migrator::run`] takes it, so two fleet runs (or an application starting up) never
//! migrate one database twice at once. A failure on one database does not stop the others
//! unless [`FleetOptions::fail_fast`] is on; the [`FleetReport`] says, per database, what was
//! applied, what was already up to date, and what failed and why. A rerun after a failure
//! resumes: each database applies only what is pending there.
//!
//! Connections: each database in flight uses at most two at once (one to read its history
//! without the lock, one that holds the lock while migrating; a first short-lived one checks
//! that the database can be reached), opened when its turn comes and closed when it is done,
//! so a run never holds more than `2 × jobs`.
//!
//! ```no_run
//! use spawn_runtime::fleet::{FleetMember, FleetOptions};
//! use spawn_runtime::sqlx::postgres::PgConnectOptions;
//! # static MIGRATIONS: spawn_runtime::Migrations =
//! #     spawn_runtime::Migrations::__from_embedded(&[], "dev", "_spawn");
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let shards: Vec<FleetMember> = ["shard_1", "shard_2", "shard_3"]
//!     .into_iter()
//!     .map(|db| FleetMember::new(db, PgConnectOptions::new().host("db.internal").database(db)))
//!     .collect();
//! let report = MIGRATIONS
//!     .migrate_fleet(&shards, &FleetOptions::default().jobs(8))
//!     .await;
//! for failed in report.failed() {
//!     eprintln!("{}: {}", failed.member, failed.error().map_or(String::new(), ToString::to_string));
//! }
//! assert!(report.is_success());
//! # Ok(()) }
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use crate::connect::connect;
use crate::{MigrateError, MigrationStatus, Migrations, Migrator, Report};

/// One database of a fleet: a name for reports (never a password) and how to connect.
#[derive(Debug, Clone)]
pub struct FleetMember {
    pub name: String,
    pub options: PgConnectOptions,
}

impl FleetMember {
    /// The database `options` connects to, reported as `name`.
    pub fn new(name: impl Into<String>, options: PgConnectOptions) -> Self {
        Self {
            name: name.into(),
            options,
        }
    }
}

/// How a fleet run proceeds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FleetOptions {
    /// Databases migrated at once.
    pub jobs: usize,
    /// Start no other database after the first failure.
    pub fail_fast: bool,
}

impl Default for FleetOptions {
    /// Four databases per core (the work is mostly waiting on servers), at least 4; no
    /// fail-fast.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            jobs: (cores * 4).max(4),
            fail_fast: false,
        }
    }
}

impl FleetOptions {
    /// Databases migrated at once (at least 1).
    #[must_use]
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// Start no other database after the first failure.
    #[must_use]
    pub fn fail_fast(mut self, on: bool) -> Self {
        self.fail_fast = on;
        self
    }
}

/// What became of one database.
#[derive(Debug)]
#[non_exhaustive]
pub enum FleetOutcome {
    /// Migrations were applied (or, in a dry run, would be).
    Applied(Report),
    /// Nothing was pending.
    UpToDate(Report),
    /// The run failed (or the database could not be reached); nothing of the failed
    /// migration remains, as with [`Migrator::run`].
    Failed(MigrateError),
    /// Not started: an earlier failure stopped the run ([`FleetOptions::fail_fast`]).
    NotStarted,
}

/// One database's outcome.
#[derive(Debug)]
#[non_exhaustive]
pub struct FleetResult {
    /// [`FleetMember::name`].
    pub member: String,
    pub outcome: FleetOutcome,
    /// Wall time spent on it, connecting included.
    pub elapsed: Duration,
}

impl FleetResult {
    pub(crate) fn new(member: &str, outcome: FleetOutcome, elapsed: Duration) -> Self {
        Self {
            member: member.to_owned(),
            outcome,
            elapsed,
        }
    }

    /// The error, when it failed.
    pub fn error(&self) -> Option<&MigrateError> {
        match &self.outcome {
            FleetOutcome::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// What a fleet run did, one result per member in the members' order.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct FleetReport {
    pub results: Vec<FleetResult>,
    /// Wall time of the whole run.
    pub total: Duration,
}

impl FleetReport {
    /// The databases that failed.
    pub fn failed(&self) -> impl Iterator<Item = &FleetResult> {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, FleetOutcome::Failed(_)))
    }

    /// The databases where migrations were applied.
    pub fn applied(&self) -> impl Iterator<Item = &FleetResult> {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, FleetOutcome::Applied(_)))
    }

    /// The databases that were already up to date.
    pub fn up_to_date(&self) -> impl Iterator<Item = &FleetResult> {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, FleetOutcome::UpToDate(_)))
    }

    /// The databases not started because of an earlier failure.
    pub fn not_started(&self) -> impl Iterator<Item = &FleetResult> {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, FleetOutcome::NotStarted))
    }

    /// Whether every database is now up to date (none failed or was left out).
    pub fn is_success(&self) -> bool {
        self.results.iter().all(|r| {
            matches!(
                r.outcome,
                FleetOutcome::Applied(_) | FleetOutcome::UpToDate(_)
            )
        })
    }
}

impl Migrator {
    /// Applies what is pending on every database of `members`, `options.jobs` at a time
    /// (see the [module docs](crate::fleet)). `on_result` is called as each database
    /// finishes, in the order they finish (for progress). Never fails as a whole: each
    /// database's error is in its result.
    pub async fn run_fleet(
        &self,
        members: &[FleetMember],
        options: &FleetOptions,
        mut on_result: impl FnMut(&FleetResult),
    ) -> FleetReport {
        let started = Instant::now();
        let stopped = AtomicBool::new(false);
        let mut results: Vec<Option<FleetResult>> = members.iter().map(|_| None).collect();
        let runs = stream::iter(members.iter().enumerate())
            .map(|(index, member)| {
                let stopped = &stopped;
                async move {
                    let began = Instant::now();
                    let outcome = if options.fail_fast && stopped.load(Ordering::Acquire) {
                        FleetOutcome::NotStarted
                    } else {
                        let outcome = self.run_member(member).await;
                        if matches!(outcome, FleetOutcome::Failed(_)) {
                            stopped.store(true, Ordering::Release);
                        }
                        outcome
                    };
                    let result = FleetResult {
                        member: member.name.clone(),
                        outcome,
                        elapsed: began.elapsed(),
                    };
                    (index, result)
                }
            })
            .buffer_unordered(options.jobs.max(1));
        futures_util::pin_mut!(runs);
        while let Some((index, result)) = runs.next().await {
            on_result(&result);
            results[index] = Some(result);
        }
        FleetReport {
            results: results.into_iter().flatten().collect(),
            total: started.elapsed(),
        }
    }

    /// The state of every migration on every database of `members`, `jobs` at a time, in
    /// the members' order. Takes no lock and changes nothing.
    pub async fn status_fleet(
        &self,
        members: &[FleetMember],
        jobs: usize,
    ) -> Vec<(String, Result<Vec<MigrationStatus>, MigrateError>)> {
        let mut results: Vec<_> = stream::iter(members.iter().enumerate())
            .map(|(index, member)| async move {
                let status = match self.member_pool(member).await {
                    Ok(pool) => {
                        let status = self.status(&pool).await;
                        pool.close().await;
                        status
                    }
                    Err(e) => Err(e),
                };
                (index, member.name.clone(), status)
            })
            .buffer_unordered(jobs.max(1))
            .collect()
            .await;
        results.sort_by_key(|(index, ..)| *index);
        results
            .into_iter()
            .map(|(_, name, status)| (name, status))
            .collect()
    }

    async fn run_member(&self, member: &FleetMember) -> FleetOutcome {
        let pool = match self.member_pool(member).await {
            Ok(pool) => pool,
            Err(e) => return FleetOutcome::Failed(e),
        };
        let result = self.run(&pool).await;
        pool.close().await;
        match result {
            Ok(report) if report.planned.is_empty() && report.recovered.is_empty() => {
                FleetOutcome::UpToDate(report)
            }
            Ok(report) => FleetOutcome::Applied(report),
            Err(e) => FleetOutcome::Failed(e),
        }
    }

    /// A pool of one connection to `member`, which is reached first by a bounded connect of
    /// its own: an unreachable database fails at once, naming its server (a pool retries
    /// until its acquire timeout and reports only that it timed out).
    async fn member_pool(&self, member: &FleetMember) -> Result<PgPool, MigrateError> {
        let timeout = self.connect_timeout_value();
        let probe =
            connect(&member.options, timeout)
                .await
                .map_err(|source| MigrateError::Connect {
                    role: "target",
                    database: member.name.clone(),
                    source,
                })?;
        // The probe proved the way; the pool connects when the migrator first asks.
        let _ = probe.close().await;
        Ok(PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .acquire_timeout(timeout)
            .connect_lazy_with(member.options.clone()))
    }
}

impl Migrations {
    /// Applies what is pending on every database of `members`:
    /// `self.migrator().run_fleet(members, options, |_| {})`.
    pub async fn migrate_fleet(
        &self,
        members: &[FleetMember],
        options: &FleetOptions,
    ) -> FleetReport {
        self.migrator().run_fleet(members, options, |_| {}).await
    }
}
