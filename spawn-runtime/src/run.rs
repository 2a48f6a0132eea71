//! One run of the migrator ([`Migrator::run`](crate::Migrator::run) or
//! [`Migrator::adopt`](crate::Migrator::adopt)), step by step. In statements sent on its own
//! connection:
//!
//! 0. read the history without the lock (one message); with nothing pending, and every
//!    check passing, that is all: the usual start-up of a deploy is ONE statement;
//! 1. otherwise take the advisory lock, probing the tracking tables and the role in the
//!    same statement (polling with backoff while another migrator holds it);
//! 2. create the tracking tables if they are missing (first run only);
//! 3. read the history (one query), check everything, plan;
//! 4. apply: batches of transactional migrations, one message each ([`crate::batch`]);
//!    no-transaction migrations statement by statement ([`crate::no_transaction`]); with
//!    SQL callbacks, `before_migrate` first and `after_migrate` last, each one message
//!    ([`crate::callbacks`]);
//! 5. release the lock.
//!
//! Step 3 reads the history again, under the lock: another migrator may have changed it
//! since step 0. On the very first run step 0 fails (the tracking tables do not exist yet:
//! the server logs that error once) and the run goes on with step 1. With the tracking
//! tables in another database ([`Migrator::tracking_pool`](crate::Migrator::tracking_pool))
//! step 0 is skipped, there are two dedicated connections, each locked (target first), the
//! history is read on the tracking one, interrupted attempts are resolved before planning,
//! and transactional migrations go one at a time (see [`crate::split`]): 5 statements with
//! nothing pending. Which of the two ways applies transactional migrations is decided in
//! one place, [`apply_steps`].

use std::time::Duration;

use crate::error::MigrateError;
use crate::idle::IdleConnections;
use crate::lock::Probe;
use crate::plan::{self, Checks, Step};
use crate::progress::Hooks;
use crate::record::{create_tracking_tables, read_history, record_adoption, record_bootstrap};
use crate::report::Report;
use crate::rollback::{self, RollbackTarget};
use crate::session::{BatchLimits, Connections, Ledger, LockRequest, Pools, RunContext, Timeouts};
use crate::tracking::{History, TablesState, Tracking};
use crate::{batch, callbacks, no_transaction, split, Migration, TransactionMode};
use spawn_model::Callbacks;

/// What a run does once it holds the lock.
#[derive(Debug)]
pub(crate) enum Task<'t> {
    /// Applies what is pending, if the checks pass (up to `last` of the checks).
    Apply(Checks<'t>),
    /// Records pending migrations as applied without running them.
    Adopt(Adoption<'t>),
    /// Undoes applied migrations with their `down.sql` (see [`crate::rollback`]).
    Rollback(RollbackTarget<'t>),
}

/// Which migrations to adopt, and why.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Adoption<'a> {
    /// Index of the last migration to adopt (the pending ones up to it are adopted).
    pub last: usize,
    /// The rows' `description`.
    pub description: &'a str,
}

/// A run, as the [`Migrator`](crate::Migrator) set it up.
#[derive(Debug)]
pub(crate) struct Run<'r> {
    /// The migration set, in name order.
    pub migrations: &'r [Migration],
    pub task: Task<'r>,
    pub tracking: Tracking,
    /// The `search_path` of the dedicated connection (a tenant's schema), if set.
    pub search_path: Option<&'r str>,
    /// Connections shared with other runs (the tenants of one `run_tenants`), if any.
    pub idle: Option<&'r IdleConnections>,
    /// The application named in `created_by` and in the connections' `application_name`.
    pub app: String,
    /// How long to wait for the migration lock.
    pub lock_wait: Duration,
    /// How long opening each dedicated connection may take.
    pub connect_timeout: Duration,
    pub default_timeouts: Timeouts<'r>,
    pub batch_limits: BatchLimits,
    pub hooks: Hooks,
    /// Only plan: change nothing.
    pub dry_run: bool,
    /// The SQL callbacks run around what is applied.
    pub callbacks: &'r Callbacks,
}

impl Run<'_> {
    /// Takes the lock, does the task, releases the lock; fills in `report` as it goes (also
    /// when it fails: what was applied before).
    pub async fn execute(&self, pools: Pools<'_>, report: &mut Report) -> Result<(), MigrateError> {
        let lock = self.lock_request();
        let mut conns = Connections::connect(pools, &lock).await?;
        let result = self.session(&mut conns, pools, &lock, report).await;
        conns.release(result.is_err()).await;
        report.lock_attempts = conns.lock_attempts();
        report.lock_wait = conns.lock_waited();
        report.round_trips = conns.sent();
        result
    }

    /// On the open connections: the history read without the lock when that shows nothing
    /// pending; otherwise the lock, and the task under it.
    async fn session(
        &self,
        conns: &mut Connections,
        pools: Pools<'_>,
        lock: &LockRequest<'_>,
        report: &mut Report,
    ) -> Result<(), MigrateError> {
        if pools.tracking.is_none() {
            if let Some(already_applied) = self.nothing_pending(conns).await {
                tracing::debug!(already_applied, "nothing pending: the lock is not needed");
                report.already_applied = already_applied;
                return Ok(());
            }
        }
        match conns.lock(pools, lock).await? {
            Some(probe) => self.locked(conns, probe, report).await,
            None => {
                // A stop was requested while waiting for a lock: nothing was started.
                report.stopped = true;
                Ok(())
            }
        }
    }

    /// The start-up of every deploy, in one message and without the lock: the history
    /// (tracking tables in the target database), planned. `Some(already applied)` when the
    /// plan is valid and empty; `None` when there is something to do, a check fails or the
    /// history cannot be read (the tables are missing, say): then the run takes the lock
    /// and reads it again under it, where any error is reported.
    async fn nothing_pending(&self, conns: &mut Connections) -> Option<usize> {
        let Task::Apply(checks) = &self.task else {
            return None;
        };
        let history = match read_history(conns.target(), &self.tracking).await {
            Ok(history) => history,
            Err(e) => {
                tracing::debug!(
                    "reading the history without the lock failed ({e}); taking the lock"
                );
                return None;
            }
        };
        match plan::plan(self.migrations, &history, checks) {
            Ok(plan) if plan.steps.is_empty() => Some(plan.already_applied),
            _ => None,
        }
    }

    /// How this run takes the migration lock.
    pub fn lock_request(&self) -> LockRequest<'_> {
        LockRequest {
            tracking: &self.tracking,
            app: &self.app,
            wait: self.lock_wait,
            connect_timeout: self.connect_timeout,
            stop: self.hooks.stop.as_ref(),
            search_path: self.search_path,
            idle: self.idle,
        }
    }

    /// What the steps of this run share, once the lock is taken (`probe`).
    pub fn context(&self, probe: Probe) -> RunContext<'_> {
        RunContext {
            tracking: &self.tracking,
            created_by: format!("{} ({})", probe.role, self.app),
            default_timeouts: self.default_timeouts,
            batch_limits: self.batch_limits,
            hooks: &self.hooks,
            target_database: probe.database,
            has_plpgsql: probe.has_plpgsql,
            set_search_path: self.search_path.map(crate::lock::set_search_path),
        }
    }

    /// The task, under the lock.
    async fn locked(
        &self,
        conns: &mut Connections,
        probe: Probe,
        report: &mut Report,
    ) -> Result<(), MigrateError> {
        let tables = probe.tables;
        let ctx = self.context(probe);
        if let Task::Rollback(target) = self.task {
            return self.roll_back(conns, &ctx, tables, target, report).await;
        }
        let history = self.history(conns, &ctx, tables, report).await?;
        let plan = match &self.task {
            Task::Apply(checks) => plan::plan(self.migrations, &history, checks)?,
            Task::Adopt(adoption) => plan::adoption(self.migrations, &history, adoption.last),
            Task::Rollback(_) => return Ok(()),
        };
        report.already_applied = plan.already_applied;
        report.planned = plan
            .steps
            .iter()
            .map(|s| s.migration.name.to_string())
            .collect();
        tracing::debug!(
            pending = plan.steps.len(),
            already_applied = plan.already_applied,
            dry_run = self.dry_run,
            "planned the migration run"
        );
        if self.dry_run || plan.steps.is_empty() {
            return Ok(());
        }
        self.carry_out(conns, &ctx, history.bootstrap_recorded, &plan.steps, report)
            .await
    }

    /// A rollback, under the lock: the history (none when the tracking tables are missing:
    /// then nothing is applied, and nothing is created), the plan, and the `down.sql` of
    /// each migration to undo (see [`crate::rollback`]).
    async fn roll_back(
        &self,
        conns: &mut Connections,
        ctx: &RunContext<'_>,
        tables: TablesState,
        target: RollbackTarget<'_>,
        report: &mut Report,
    ) -> Result<(), MigrateError> {
        let history = if tables.all() {
            read_history(conns.tracking(), ctx.tracking).await?
        } else {
            History::default()
        };
        let plan = rollback::plan(self.migrations, &history, target)?;
        report.already_applied = plan.staying;
        report.planned = plan.steps.iter().map(|m| m.name.to_string()).collect();
        tracing::debug!(
            to_undo = plan.steps.len(),
            staying = plan.staying,
            dry_run = self.dry_run,
            "planned the rollback"
        );
        if self.dry_run || plan.steps.is_empty() {
            return Ok(());
        }
        rollback::carry_out(conns, ctx, &plan.steps, &mut report.reverted).await
    }

    /// Applies or adopts the planned `steps` (after recording the bootstrap row unless it
    /// is).
    async fn carry_out(
        &self,
        conns: &mut Connections,
        ctx: &RunContext<'_>,
        bootstrap_recorded: bool,
        steps: &[Step<'_>],
        report: &mut Report,
    ) -> Result<(), MigrateError> {
        if matches!(self.task, Task::Apply(_)) && ctx.hooks.stop_requested() {
            tracing::info!(
                pending = steps.len(),
                "stopping on request before the first migration"
            );
            report.stopped = true;
            return Ok(());
        }
        if !bootstrap_recorded {
            record_bootstrap(conns.tracking(), ctx).await?;
        }
        match &self.task {
            Task::Apply(_) => {
                let mut ledger = Ledger::new(steps.len());
                let result = callbacks::apply(conns, ctx, steps, &mut ledger, self.callbacks).await;
                report.applied = ledger.into_applied();
                report.stopped = result?;
            }
            Task::Adopt(adoption) => {
                let migrations: Vec<&Migration> = steps.iter().map(|s| s.migration).collect();
                record_adoption(conns.tracking(), ctx, &migrations, adoption.description).await?;
                report.adopted = report.planned.clone();
            }
            Task::Rollback(_) => {}
        }
        Ok(())
    }

    /// Creates the tracking tables if they are missing (not in a dry run), reads the history
    /// and resolves interrupted attempts (see [`crate::split`]).
    async fn history(
        &self,
        conns: &mut Connections,
        ctx: &RunContext<'_>,
        tables: TablesState,
        report: &mut Report,
    ) -> Result<History, MigrateError> {
        let mut readable = tables.all();
        if !readable && !self.dry_run {
            create_tracking_tables(conns.tracking(), ctx, tables).await?;
            readable = true;
        }
        let mut history = if readable {
            read_history(conns.tracking(), ctx.tracking).await?
        } else {
            History::default()
        };
        report.recovered = split::resolve(conns, ctx, &mut history, !self.dry_run).await?;
        Ok(history)
    }
}

/// Applies the plan's steps in order; `ledger` records each as it commits. Returns `true`
/// when it stopped early because a stop was requested (at a migration boundary: nothing is
/// half-applied).
///
/// The one place where the way of applying is chosen: no-transaction migrations statement
/// by statement; transactional ones in batches when their history rows can commit with them
/// (one database), one at a time with an attempt row otherwise (tracking tables elsewhere).
pub(crate) async fn apply_steps(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    steps: &[Step<'_>],
    ledger: &mut Ledger,
    cbs: &Callbacks,
) -> Result<bool, MigrateError> {
    let mut i = 0;
    while let Some(step) = steps.get(i) {
        if ctx.hooks.stop_requested() {
            tracing::info!(
                applied = i,
                of = steps.len(),
                next = &*step.migration.name,
                "stopping on request"
            );
            return Ok(true);
        }
        i += if step.migration.mode == TransactionMode::NoTransaction {
            callbacks::around_no_transaction(conns, ctx, cbs, step.migration, true).await?;
            no_transaction::apply(conns, ctx, step, ledger).await?;
            callbacks::around_no_transaction(conns, ctx, cbs, step.migration, false).await?;
            1
        } else if conns.is_split() {
            split::apply_one(conns, ctx, step.migration, ledger).await?;
            1
        } else {
            batch::apply_next(conns, ctx, &steps[i..], ledger).await?
        };
    }
    Ok(false)
}
