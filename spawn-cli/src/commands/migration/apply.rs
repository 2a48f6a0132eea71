//! `spawn migration apply`: applies pending migrations with the runtime's migrator (one
//! advisory lock for the whole batch, checksum and order checks, each migration in one
//! transaction with its history row).
//!
//! Confirmation is asked on a terminal only; without one `--yes` is required. A progress bar
//! follows the runtime's progress events (`Migrator::on_progress`). Ctrl-C asks the runtime
//! to stop after the migration in flight commits (`StopHandle`; with it, migrations go one
//! per message); a second Ctrl-C drops the run, so the migration in flight is rolled back.
//! Either way nothing is half-applied, and the command exits 130 saying what was applied.

use std::path::Path;
use std::time::Duration;

use anyhow::anyhow;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use spawn_build::project::PinPolicy;
use spawn_runtime::{Callbacks, MigrateError, MigrationEvent, Migrator, Report, State, StopHandle};

use crate::commands::migration::session::{migrate_error, prepare, Prepared};
use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};
use crate::prompt;

/// The flags of `apply`.
pub struct Options<'a> {
    pub migration: Option<&'a str>,
    pub yes: bool,
    pub dry_run: bool,
    pub no_pin: bool,
    pub variables: Option<&'a Path>,
    pub allow_out_of_order: bool,
    pub ignore_missing: bool,
    /// `--lock-wait`, in seconds.
    pub lock_wait: Option<u64>,
}

pub async fn run(ctx: &CommandContext<'_>, o: &Options<'_>) -> CmdResult {
    let policy = if o.no_pin {
        PinPolicy::WorkingTreeIfUnpinned
    } else {
        PinPolicy::Require
    };
    if let Some(name) = o.migration {
        // A clear error (with suggestions) for a name that has no folder, or is a draft.
        let m = ctx.project()?.migration(name)?;
        if m.markers().draft {
            let draft = spawn_build::BuildError::Draft { migration: m.name };
            crate::fail!("{draft}; nothing was applied");
        }
    }
    let p = prepare(ctx, o.variables, policy).await?;
    // A bad tenant list is refused before the shared migrations run.
    if let Err(e) = crate::tenants::check_config(&p.target) {
        p.close().await;
        return Err(e.into());
    }
    let callbacks = match render_callbacks(ctx, &p) {
        Ok(callbacks) => callbacks,
        Err(e) => {
            p.close().await;
            return Err(e.into());
        }
    };
    let migrator = p.migrator_waiting(o.lock_wait).callbacks(callbacks);
    let mut result = apply(ctx, o, &p, migrator).await;
    // The tenant parts, once the shared migrations are in.
    if result.is_ok() && o.migration.is_none() {
        result = crate::commands::tenant::apply_tenant_parts(ctx, &p, o.dry_run).await;
    }
    p.close().await;
    result
}

/// `\nIts file: <spawn folder>/callbacks/x.sql.` when a callback failed.
fn callback_file(ctx: &CommandContext<'_>, e: &MigrateError) -> Option<String> {
    let file = match e {
        MigrateError::CallbackFailed(f) => f.file.clone(),
        e => e.failure()?.statement.as_ref()?.callback.clone()?,
    };
    let path = ctx.project().ok()?.project.layout.spawn_folder.join(file);
    Some(format!("\nIts file: {}.", path.display()))
}

/// The project's SQL callbacks (`callbacks/*.sql`), rendered through spawn-build for the
/// target's environment and variables, as `compile()` embeds them.
fn render_callbacks(ctx: &CommandContext<'_>, p: &Prepared) -> anyhow::Result<Callbacks> {
    let mut proj = ctx.project()?;
    let variables = match p.target.variables.as_deref() {
        Some(path) => Some(proj.project.variables(path).map_err(|e| anyhow!("{e}"))?),
        None => None,
    };
    let names: Vec<&str> = p.rendered.iter().map(|m| &*m.name).collect();
    proj.project
        .render_callbacks(&p.target.environment, variables.as_ref(), &names)
        .map_err(|e| anyhow!("{e}"))
}

async fn apply(ctx: &CommandContext<'_>, o: &Options<'_>, p: &Prepared, m: Migrator) -> CmdResult {
    let out = ctx.out;
    let mut m = m
        .allow_out_of_order(o.allow_out_of_order)
        .ignore_missing(o.ignore_missing);
    if let Some(name) = o.migration {
        let name = Path::new(name.trim_end_matches('/'))
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(name);
        m = m.up_to(name);
    }
    let plan = m
        .clone()
        .dry_run(true)
        .run(&p.pool)
        .await
        .map_err(migrate_error)?;
    let where_ = p.where_();
    // Nothing to apply, but a migration found committed by an interrupted run (tracking
    // tables in spawn_database) is still recorded by the real run below.
    if (plan.planned.is_empty() && plan.recovered.is_empty()) || o.dry_run {
        for name in &plan.recovered {
            out.note(format!("{name} committed in an interrupted run: `spawn migration apply` records it as applied"));
        }
        if out.json {
            out.json_value(&report_json(&plan));
        } else if plan.planned.is_empty() {
            out.success(format!(
                "nothing to apply to {where_}: {} migration(s) already applied",
                plan.already_applied
            ));
        } else {
            out.line(format!(
                "dry run: would apply {} migration(s) to {where_}:",
                plan.planned.len()
            ));
            for name in &plan.planned {
                out.line(format!("  {name}"));
            }
        }
        return Ok(());
    }
    if !plan.planned.is_empty()
        && !o.yes
        && !prompt::confirm_list(
            &format!(
                "About to apply {} migration(s) to {where_}:",
                plan.planned.len()
            ),
            plan.planned.iter().map(String::as_str),
            "Apply them?",
            "--yes",
            "apply migrations",
        )?
    {
        out.note("nothing was applied");
        return Err(Exit::Code(exit::ERROR));
    }

    let total = plan.planned.len() as u64;
    let bar = if out.progress_allowed() {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} applied  {elapsed}  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    };

    // The bar follows the runtime's events; Ctrl-C asks the runtime to stop at the next
    // migration boundary (the second one drops the run: the migration in flight rolls back).
    let stop = StopHandle::new();
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel::<MigrationEvent>();
    let m = m.stop_handle(stop.clone()).on_progress(move |e| {
        // The receiver outlives the run; a send can only fail once the command is ending.
        let _ = events.send(e.clone());
    });
    // One SIGINT stream for the whole run (registered now, not when first polled), so a
    // second Ctrl-C arriving right after the first is never missed.
    let mut interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| anyhow!("cannot listen for Ctrl-C: {e}; nothing was applied"))?;
    let mut running = Box::pin(m.run(&p.pool));
    let outcome = loop {
        tokio::select! {
            result = &mut running => break Some(result),
            Some(event) = received.recv() => match event {
                MigrationEvent::Started { name, .. } => bar.set_message(name),
                MigrationEvent::Committed { .. } => bar.inc(1),
                _ => {}
            },
            Some(()) = interrupts.recv() => {
                if stop.is_stopped() {
                    bar.suspend(|| eprintln!("stopping now: the migration in flight is rolled back"));
                    break None;
                }
                stop.stop();
                bar.suspend(|| eprintln!("Ctrl-C: stopping after the migration in flight commits (Ctrl-C again to roll it back and stop now)"));
            }
        }
    };
    bar.finish_and_clear();
    match outcome {
        Some(Ok(report)) if report.stopped => {
            let applied: Vec<&str> = report.applied.iter().map(|a| a.name.as_str()).collect();
            interrupted(ctx, &plan.planned, &applied)
        }
        Some(Ok(mut report)) => {
            // The plan above may have waited for the lock already (it takes it when
            // something is pending): that wait is the user's too.
            report.lock_wait += plan.lock_wait;
            if out.json {
                out.json_value(&report_json(&report));
            } else {
                for name in &report.recovered {
                    out.note(format!(
                        "{name} had committed in an interrupted run: recorded as applied now"
                    ));
                }
                out.success(format!(
                    "applied {} migration(s) to {where_} in {:.1?} ({} already applied{})",
                    report.applied.len(),
                    report.total,
                    report.already_applied,
                    lock_wait_note(&report)
                ));
                for a in &report.applied {
                    out.line(format!("  {}  {:.1?}", a.name, a.duration));
                }
            }
            Ok(())
        }
        Some(Err(e)) => {
            // A failed migration or callback: name its file too (the runtime knows only its
            // name).
            let file = callback_file(ctx, &e).or_else(|| e
                .failure()
                .and_then(|f| ctx.project().ok().map(|proj| (f.name.clone(), proj.project.layout.migration(&f.name).up_sql())))
                .map(|(name, up_sql)| {
                    format!(
                        "\nIts file: {} (if it is pinned, re-pin after the fix: `spawn migration pin {name}`).",
                        up_sql.display()
                    )
                }))
                .unwrap_or_default();
            Err(Exit::Error(anyhow!(
                "{}{file}\nSee `spawn migration status`; after fixing, run `spawn migration apply` again",
                migrate_error(e)
            )))
        }
        None => {
            drop(running); // ends the migrator's sessions: the transaction in flight rolls back
            wait_for_lock_release(p).await;
            let statuses = m.status(&p.pool).await.map_err(migrate_error)?;
            let applied: Vec<&str> = plan
                .planned
                .iter()
                .filter(|n| {
                    statuses.iter().any(|s| {
                        &s.name == *n && matches!(s.state, State::Applied | State::Adopted)
                    })
                })
                .map(String::as_str)
                .collect();
            interrupted(ctx, &plan.planned, &applied)
        }
    }
}

/// Says what an interrupted run applied; exit 130.
fn interrupted(ctx: &CommandContext<'_>, planned: &[String], applied: &[&str]) -> CmdResult {
    let rest: Vec<&str> = planned
        .iter()
        .map(String::as_str)
        .filter(|n| !applied.contains(n))
        .collect();
    if ctx.out.json {
        ctx.out
            .json_value(&json!({ "interrupted": true, "applied": applied, "not_applied": rest }));
    }
    eprintln!(
        "interrupted: applied {} of {} migration(s){}{}.\nNothing is half-applied. Run `spawn migration apply` to apply the rest.",
        applied.len(),
        planned.len(),
        if applied.is_empty() { String::new() } else { format!(" ({})", applied.join(", ")) },
        if rest.is_empty() { String::new() } else { format!("; not applied: {}", rest.join(", ")) },
    );
    Err(Exit::Code(exit::INTERRUPTED))
}

/// After the run was dropped: waits until its sessions are gone (their transactions rolled
/// back), by taking the migration lock in each database and releasing it at once. The wait
/// happens in the server (`pg_advisory_lock` under a 15 s `lock_timeout`), so the status read
/// next sees the outcome.
async fn wait_for_lock_release(p: &Prepared) {
    let key = spawn_runtime::advisory_lock_key(&p.target.spawn_schema);
    let sql = format!(
        "SET lock_timeout = '15s'; SELECT pg_catalog.pg_advisory_lock({key}); \
         SELECT pg_catalog.pg_advisory_unlock({key}); RESET lock_timeout"
    );
    let pools = std::iter::once(&p.pool).chain(p.tracking.as_ref().map(|(pool, _)| pool));
    for pool in pools {
        let result = async {
            let mut conn = pool.acquire().await?;
            let done = sqlx::Executor::execute(&mut *conn, sqlx::raw_sql(&sql)).await;
            if done.is_err() {
                // Never return a connection to the pool in an unknown state.
                conn.detach();
            }
            done
        }
        .await;
        if let Err(e) = result {
            tracing::debug!("waiting for the interrupted run's sessions to end: {e}");
        }
    }
}

/// A wait for the migration lock worth mentioning (over [`NOTICEABLE_LOCK_WAIT`]), as
/// `; waited 9.9s for the migration lock`.
fn lock_wait_note(r: &Report) -> String {
    if r.lock_wait > NOTICEABLE_LOCK_WAIT {
        format!("; waited {:.1?} for the migration lock", r.lock_wait)
    } else {
        String::new()
    }
}

/// A shorter wait for the lock goes unmentioned.
const NOTICEABLE_LOCK_WAIT: Duration = Duration::from_millis(100);

fn report_json(r: &Report) -> serde_json::Value {
    json!({
        "dry_run": r.dry_run,
        "planned": r.planned,
        "applied": r.applied.iter().map(|a| json!({"name": a.name, "seconds": a.duration.as_secs_f64()})).collect::<Vec<_>>(),
        "adopted": r.adopted,
        "already_applied": r.already_applied,
        "lock_wait_seconds": r.lock_wait.as_secs_f64(),
        "environment": r.environment,
        "tracking_schema": r.tracking_schema,
        "recovered": r.recovered,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_noticeable_wait_for_the_lock_is_mentioned() {
        let mut report = Report::default();
        report.lock_wait = Duration::from_millis(9900);
        assert_eq!(
            lock_wait_note(&report),
            "; waited 9.9s for the migration lock"
        );
        report.lock_wait = Duration::from_millis(40);
        assert_eq!(lock_wait_note(&report), "");
    }
}
