//! `spawn migration apply`: applies pending migrations with the runtime's migrator (one
//! advisory lock for the whole batch, checksum and order checks, each migration in one
//! transaction with its history row).
//!
//! Confirmation is asked on a terminal only; without one `--yes` is required. A progress bar
//! follows the batch (read from the history as migrations commit). Ctrl-C stops after the
//! migration in flight commits (a second Ctrl-C stops at once: the migration in flight is
//! rolled back); either way nothing is half-applied, and the command exits 130 saying what
//! was applied.

use std::path::Path;
use std::time::Duration;

use anyhow::anyhow;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use spawn_runtime::{Migrator, Report, State};
use sqlx::PgPool;

use crate::commands::migration::session::{migrate_error, prepare, Prepared};
use crate::commands::Ctx;
use crate::exit::{self, CmdResult, Exit};
use crate::project::Pins;
use crate::{prompt, with_migrator};

/// The flags of `apply`.
pub struct Options<'a> {
    pub migration: Option<&'a str>,
    pub yes: bool,
    pub dry_run: bool,
    pub no_pin: bool,
    pub variables: Option<&'a Path>,
    pub allow_out_of_order: bool,
    pub ignore_missing: bool,
}

pub async fn run(ctx: &Ctx<'_>, o: &Options<'_>) -> CmdResult {
    let pins = if o.no_pin { Pins::WorkingTreeIfUnpinned } else { Pins::Required };
    if let Some(name) = o.migration {
        // A clear error (with suggestions) for a name that has no folder.
        ctx.project()?.migration(name)?;
    }
    let p = prepare(ctx, o.variables, pins).await?;
    let result = with_migrator!(p, |m| apply(ctx, o, &p, m).await);
    p.pool.close().await;
    result
}

async fn apply(ctx: &Ctx<'_>, o: &Options<'_>, p: &Prepared, m: Migrator<'_>) -> CmdResult {
    let out = ctx.out;
    let mut m = m.allow_out_of_order(o.allow_out_of_order).ignore_missing(o.ignore_missing);
    if let Some(name) = o.migration {
        let name = Path::new(name.trim_end_matches('/')).file_name().and_then(|n| n.to_str()).unwrap_or(name);
        m = m.target(name);
    }
    let plan = m.plan(&p.pool).await.map_err(migrate_error)?;
    let where_ = format!("{} ({}, environment {})", p.conn.display, p.target.label(), p.target.environment);
    if plan.planned.is_empty() || o.dry_run {
        if out.json {
            out.json_value(&report_json(&plan));
        } else if plan.planned.is_empty() {
            out.success(format!("nothing to apply to {where_}: {} migration(s) already applied", plan.already_applied));
        } else {
            out.line(format!("dry run: would apply {} migration(s) to {where_}:", plan.planned.len()));
            for name in &plan.planned {
                out.line(format!("  {name}"));
            }
        }
        return Ok(());
    }
    if !o.yes && !prompt::interactive() {
        crate::fail!("refusing to apply migrations without confirmation: stdin is not a terminal. Pass --yes to confirm");
    }
    if !o.yes {
        eprintln!("{}", crate::output::redact(&format!("About to apply {} migration(s) to {where_}:", plan.planned.len())));
        for name in &plan.planned {
            eprintln!("  {name}");
        }
        if !prompt::confirm("Apply them?", "--yes", "apply migrations")? {
            out.note("nothing was applied");
            return Err(Exit::Code(exit::ERROR));
        }
    }

    let total = plan.planned.len() as u64;
    let bar = if out.progress_allowed() {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} applied  {elapsed}  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    };

    let mut running = Box::pin(m.run(&p.pool));
    let mut ctrl_c = Box::pin(tokio::signal::ctrl_c());
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut stop_after: Option<usize> = None;
    let outcome = loop {
        tokio::select! {
            result = &mut running => break Some(result),
            _ = &mut ctrl_c => {
                if stop_after.is_some() {
                    bar.suspend(|| eprintln!("stopping now: the migration in flight is rolled back"));
                    break None;
                }
                let done = applied_count(&m, &p.pool, &plan.planned).await;
                stop_after = Some(done);
                bar.suspend(|| eprintln!("Ctrl-C: stopping after the migration in flight commits (Ctrl-C again to roll it back and stop now)"));
                ctrl_c = Box::pin(tokio::signal::ctrl_c());
            }
            _ = tick.tick() => {
                if bar.is_hidden() && stop_after.is_none() {
                    continue;
                }
                let done = applied_count(&m, &p.pool, &plan.planned).await;
                bar.set_position(done as u64);
                if stop_after.is_some_and(|k| done > k) {
                    break None;
                }
            }
        }
    };
    bar.finish_and_clear();
    match outcome {
        Some(Ok(report)) => {
            if out.json {
                out.json_value(&report_json(&report));
            } else {
                out.success(format!(
                    "applied {} migration(s) to {where_} in {:.1?} ({} already applied)",
                    report.applied.len(),
                    report.total,
                    report.already_applied
                ));
                for a in &report.applied {
                    out.line(format!("  {}  {:.1?}", a.name, a.duration));
                }
            }
            Ok(())
        }
        Some(Err(e)) => Err(Exit::Error(anyhow!(
            "{}\nSee `spawn migration status`; after fixing, run `spawn migration apply` again",
            migrate_error(e)
        ))),
        None => {
            drop(running); // ends the migrator's session: the transaction in flight rolls back
            wait_for_lock_release(&p.pool, &p.target.spawn_schema).await;
            let statuses = m.status(&p.pool).await.map_err(migrate_error)?;
            let applied: Vec<&str> = plan
                .planned
                .iter()
                .filter(|n| statuses.iter().any(|s| &s.name == *n && matches!(s.state, State::Applied | State::Adopted)))
                .map(String::as_str)
                .collect();
            let rest: Vec<&str> = plan.planned.iter().map(String::as_str).filter(|n| !applied.contains(n)).collect();
            if out.json {
                out.json_value(&json!({ "interrupted": true, "applied": applied, "not_applied": rest }));
            }
            eprintln!(
                "interrupted: applied {} of {} migration(s){}{}.\nNothing is half-applied. Run `spawn migration apply` to apply the rest.",
                applied.len(),
                plan.planned.len(),
                if applied.is_empty() { String::new() } else { format!(" ({})", applied.join(", ")) },
                if rest.is_empty() { String::new() } else { format!("; not applied: {}", rest.join(", ")) },
            );
            Err(Exit::Code(exit::INTERRUPTED))
        }
    }
}

/// How many of `planned` the history shows as applied now.
async fn applied_count(m: &Migrator<'_>, pool: &PgPool, planned: &[String]) -> usize {
    match m.status(pool).await {
        Ok(statuses) => statuses
            .iter()
            .filter(|s| planned.contains(&s.name) && matches!(s.state, State::Applied | State::Adopted))
            .count(),
        Err(e) => {
            tracing::debug!("reading progress failed: {e}");
            0
        }
    }
}

/// Waits (up to 15 s) until no session holds the migration lock of `schema`, i.e. until the
/// dropped run's backend is gone and its open transaction rolled back.
async fn wait_for_lock_release(pool: &PgPool, schema: &str) {
    let key = spawn_runtime::advisory_lock_key(schema);
    let (classid, objid) = (((key as u64) >> 32) as u32, (key as u64 & 0xffff_ffff) as u32);
    let sql = format!(
        "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND classid = {classid} \
         AND objid = {objid} AND objsubid = 1 AND granted"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while tokio::time::Instant::now() < deadline {
        match sqlx::query_scalar::<_, i64>(&sql).fetch_one(pool).await {
            Ok(0) => return,
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => {
                tracing::debug!("checking the migration lock: {e}");
                return;
            }
        }
    }
}

fn report_json(r: &Report) -> serde_json::Value {
    json!({
        "dry_run": r.dry_run,
        "planned": r.planned,
        "applied": r.applied.iter().map(|a| json!({"name": a.name, "seconds": a.duration.as_secs_f64()})).collect::<Vec<_>>(),
        "adopted": r.adopted,
        "already_applied": r.already_applied,
        "environment": r.environment,
        "tracking_schema": r.tracking_schema,
    })
}
