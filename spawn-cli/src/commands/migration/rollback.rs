//! `spawn migration rollback [--to <m> | --steps N] [--yes] [--dry-run]`: undoes applied
//! migrations with their `down.sql`, newest first, through the runtime's
//! `Migrator::rollback_to` / `rollback_steps` (the same code an embedding app calls): under
//! the migration lock, each `down.sql` in one transaction with its `REVERT` history row.
//!
//! Without `--to` or `--steps` the newest applied migration is rolled back. Everything is
//! checked first (a migration without `down.sql` stops the rollback before anything runs,
//! naming it). Confirmation is asked on a terminal only; without one `--yes` is required.

use std::path::Path;

use anyhow::anyhow;
use serde_json::json;
use spawn_build::project::PinPolicy;
use spawn_runtime::{MigrateError, Migrator, Report};

use crate::commands::migration::session::{migrate_error, prepare, Prepared};
use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};
use crate::prompt;

/// The flags of `rollback`.
pub struct Options<'a> {
    pub to: Option<&'a str>,
    pub steps: Option<usize>,
    pub yes: bool,
    pub dry_run: bool,
    pub no_pin: bool,
    pub variables: Option<&'a Path>,
    /// `--lock-wait`, in seconds.
    pub lock_wait: Option<u64>,
}

pub async fn run(ctx: &CommandContext<'_>, o: &Options<'_>) -> CmdResult {
    let policy = if o.no_pin {
        PinPolicy::WorkingTreeIfUnpinned
    } else {
        PinPolicy::Require
    };
    // A clear error (with suggestions) for a name that has no folder; the folder's name.
    let to = match o.to {
        Some(name) => Some(ctx.project()?.migration(name)?.name),
        None => None,
    };
    let p = prepare(ctx, o.variables, policy).await?;
    let result = roll_back(ctx, o, to.as_deref(), &p, p.migrator_waiting(o.lock_wait)).await;
    p.close().await;
    result
}

/// The rollback that `to` / `--steps` ask for.
async fn rollback(
    m: &Migrator,
    pool: &sqlx::PgPool,
    to: Option<&str>,
    steps: Option<usize>,
) -> Result<Report, MigrateError> {
    match to {
        Some(name) => m.rollback_to(pool, name).await,
        None => m.rollback_steps(pool, steps.unwrap_or(1)).await,
    }
}

async fn roll_back(
    ctx: &CommandContext<'_>,
    o: &Options<'_>,
    to: Option<&str>,
    p: &Prepared,
    m: Migrator,
) -> CmdResult {
    let out = ctx.out;
    let plan = rollback(&m.clone().dry_run(true), &p.pool, to, o.steps)
        .await
        .map_err(|e| failed(ctx, e))?;
    let where_ = p.where_();
    if plan.planned.is_empty() || o.dry_run {
        if out.json {
            out.json_value(&report_json(&plan));
        } else if plan.planned.is_empty() {
            out.success(format!(
                "nothing to roll back in {where_}: {} applied migration(s) stay applied",
                plan.already_applied
            ));
        } else {
            out.line(format!(
                "dry run: would roll back {} migration(s) in {where_}, newest first:",
                plan.planned.len()
            ));
            for name in &plan.planned {
                out.line(format!("  {name}"));
            }
        }
        return Ok(());
    }
    if !o.yes
        && !prompt::confirm_list(
            &format!(
                "About to roll back {} migration(s) in {where_}, newest first (running their down.sql):",
                plan.planned.len()
            ),
            plan.planned.iter().map(String::as_str),
            "Roll them back?",
            "--yes",
            "roll back migrations",
        )?
    {
        out.note("nothing was rolled back");
        return Err(Exit::Code(exit::ERROR));
    }
    let report = rollback(&m, &p.pool, to, o.steps)
        .await
        .map_err(|e| failed(ctx, e))?;
    if out.json {
        out.json_value(&report_json(&report));
    } else {
        out.success(format!(
            "rolled back {} migration(s) in {where_} in {:.1?} ({} stay applied); they are pending again",
            report.reverted.len(),
            report.total,
            report.already_applied,
        ));
        for r in &report.reverted {
            out.line(format!("  {}  {:.1?}", r.name, r.duration));
        }
    }
    Ok(())
}

/// The runtime's error, naming the file to fix when a `down.sql` is the cause.
fn failed(ctx: &CommandContext<'_>, e: MigrateError) -> Exit {
    let name = match &e {
        MigrateError::DownFailed(f) => Some(f.name.clone()),
        MigrateError::NoDown { name } => Some(name.clone()),
        _ => None,
    };
    let file = name
        .and_then(|name| {
            let proj = ctx.project().ok()?;
            Some(proj.project.layout.migration(&name).down_sql())
        })
        .map(|down| format!("\nIts file: {}", down.display()))
        .unwrap_or_default();
    Exit::Error(anyhow!(
        "{}{file}\nSee `spawn migration status`",
        migrate_error(e)
    ))
}

fn report_json(r: &Report) -> serde_json::Value {
    json!({
        "dry_run": r.dry_run,
        "planned": r.planned,
        "reverted": r.reverted.iter().map(|a| json!({"name": a.name, "seconds": a.duration.as_secs_f64()})).collect::<Vec<_>>(),
        "stay_applied": r.already_applied,
        "lock_wait_seconds": r.lock_wait.as_secs_f64(),
        "environment": r.environment,
        "tracking_schema": r.tracking_schema,
    })
}
