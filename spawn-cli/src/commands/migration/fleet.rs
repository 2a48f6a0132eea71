//! `spawn migration apply --fleet` and `spawn migration status --fleet`: the target's fleet
//! of databases ([`crate::fleet`]) migrated, or read, `--jobs` at a time with the runtime's
//! [`Migrator::run_fleet`] (each database under its own lock; a failure does not stop the
//! others unless `--fail-fast`), reported as one run: which applied what, which were up to
//! date, which failed and why (text, or `--json`). Exit 2 when any database failed or was
//! not started; rerunning resumes, since each database applies only what is pending there.

use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use spawn_build::project::PinPolicy;
use spawn_runtime::fleet::{FleetMember, FleetOptions, FleetOutcome, FleetReport, FleetResult};
use spawn_runtime::{MigrationStatus, Migrator, State};

use crate::commands::migration::apply::Options;
use crate::commands::migration::session::migrate_message;
use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};
use crate::output::redact;
use crate::project::render_all;
use crate::prompt;

/// `--jobs` and `--fail-fast`.
pub struct FleetFlags {
    pub jobs: Option<usize>,
    pub fail_fast: bool,
}

/// The fleet, and the migrator over the migrations rendered for the target's environment.
async fn prepare(
    ctx: &CommandContext<'_>,
    variables: Option<&Path>,
    policy: PinPolicy,
) -> anyhow::Result<(Vec<FleetMember>, Migrator, String)> {
    let mut proj = ctx.project()?;
    let target = ctx.target(&proj, variables)?;
    let members = crate::fleet::members(&target).await?;
    let rendered = render_all(
        &mut proj,
        &target.environment,
        target.variables.as_deref(),
        policy,
    )?;
    let migrator = Migrator::new(rendered)
        .tracking_schema(&target.spawn_schema)
        .created_by_app("spawn");
    let label = format!(
        "{} database(s) of {} (environment {})",
        members.len(),
        target.label(),
        target.environment
    );
    Ok((members, migrator, label))
}

fn fleet_options(flags: &FleetFlags) -> FleetOptions {
    let options = FleetOptions::default().fail_fast(flags.fail_fast);
    match flags.jobs {
        Some(jobs) => options.jobs(jobs),
        None => options,
    }
}

pub async fn apply(ctx: &CommandContext<'_>, o: &Options<'_>, flags: &FleetFlags) -> CmdResult {
    let policy = if o.no_pin {
        PinPolicy::WorkingTreeIfUnpinned
    } else {
        PinPolicy::Require
    };
    let (members, migrator, label) = prepare(ctx, o.variables, policy).await?;
    let mut m = migrator
        .allow_out_of_order(o.allow_out_of_order)
        .ignore_missing(o.ignore_missing)
        .dry_run(o.dry_run);
    if let Some(secs) = o.lock_wait {
        m = m.lock_wait(Duration::from_secs(secs));
    }
    if let Some(name) = o.migration {
        m = m.up_to(name.trim_end_matches('/'));
    }
    let out = ctx.out;
    if !o.dry_run
        && !o.yes
        && !prompt::confirm_list(
            &format!("About to apply pending migrations to {label}:"),
            members.iter().map(|m| m.name.as_str()),
            "Apply them?",
            "--yes",
            "apply migrations",
        )?
    {
        out.note("nothing was applied");
        return Err(Exit::Code(exit::ERROR));
    }
    let bar = if out.progress_allowed() {
        let bar = ProgressBar::new(members.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} databases  {elapsed}  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    };
    let report = m
        .run_fleet(&members, &fleet_options(flags), |result| {
            bar.inc(1);
            bar.set_message(result.member.clone());
        })
        .await;
    bar.finish_and_clear();
    if out.json {
        out.json_value(&report_json(&report, o.dry_run));
    } else {
        print_report(ctx, &report, &label, o.dry_run);
    }
    if report.is_success() {
        Ok(())
    } else {
        Err(Exit::Code(exit::DIFFERENCES))
    }
}

/// What happened to one database, as reports name it.
fn state_of(result: &FleetResult) -> &'static str {
    match &result.outcome {
        FleetOutcome::Applied(_) => "applied",
        FleetOutcome::UpToDate(_) => "up_to_date",
        FleetOutcome::Failed(_) => "failed",
        _ => "not_started",
    }
}

pub(crate) fn report_json(report: &FleetReport, dry_run: bool) -> serde_json::Value {
    let databases: Vec<_> = report
        .results
        .iter()
        .map(|r| {
            let (applied, already) = match &r.outcome {
                FleetOutcome::Applied(rep) | FleetOutcome::UpToDate(rep) => (
                    if dry_run {
                        rep.planned.clone()
                    } else {
                        rep.applied.iter().map(|a| a.name.clone()).collect()
                    },
                    Some(rep.already_applied),
                ),
                _ => (Vec::new(), None),
            };
            json!({
                "database": r.member,
                "state": state_of(r),
                "applied": applied,
                "already_applied": already,
                "error": r.error().map(migrate_message),
                "seconds": r.elapsed.as_secs_f64(),
            })
        })
        .collect();
    json!({
        "dry_run": dry_run,
        "databases": databases,
        "applied": report.applied().count(),
        "up_to_date": report.up_to_date().count(),
        "failed": report.failed().count(),
        "not_started": report.not_started().count(),
        "seconds": report.total.as_secs_f64(),
    })
}

pub(crate) fn print_report(
    ctx: &CommandContext<'_>,
    report: &FleetReport,
    label: &str,
    dry_run: bool,
) {
    let out = ctx.out;
    let verb = if dry_run { "would apply" } else { "applied" };
    for r in report.applied() {
        if let FleetOutcome::Applied(rep) = &r.outcome {
            let names: Vec<&str> = if dry_run {
                rep.planned.iter().map(String::as_str).collect()
            } else {
                rep.applied.iter().map(|a| a.name.as_str()).collect()
            };
            out.line(format!("{}: {verb} {}", r.member, names.join(", ")));
        }
    }
    for r in report.failed() {
        if let Some(e) = r.error() {
            out.error(format!("{}: {}", r.member, migrate_message(e)));
        }
    }
    for r in report.not_started() {
        out.warn(format!(
            "{}: not started (--fail-fast after a failure)",
            r.member
        ));
    }
    let summary = format!(
        "{label}: {} {verb}, {} up to date, {} failed, {} not started in {:.1?}",
        report.applied().count(),
        report.up_to_date().count(),
        report.failed().count(),
        report.not_started().count(),
        report.total
    );
    if report.is_success() {
        out.success(summary);
    } else {
        out.error(format!(
            "{summary}; after fixing, run the same command again: each database applies only what is pending there"
        ));
    }
}

pub async fn status(
    ctx: &CommandContext<'_>,
    exit_code: bool,
    variables: Option<&Path>,
    jobs: Option<usize>,
) -> CmdResult {
    let (members, migrator, label) =
        prepare(ctx, variables, PinPolicy::WorkingTreeIfUnpinned).await?;
    let jobs = jobs.unwrap_or(FleetOptions::default().jobs);
    let statuses = migrator.status_fleet(&members, jobs).await;
    print_statuses(ctx, &label, "Database", &statuses, exit_code)
}

/// The status table of a fleet's databases or a target's tenants (`what`): one row each,
/// grouped by state, failing first; `--json` for scripts; exit 2 with `exit_code` when any
/// is not up to date.
pub(crate) fn print_statuses(
    ctx: &CommandContext<'_>,
    label: &str,
    what: &str,
    statuses: &[(
        String,
        Result<Vec<MigrationStatus>, spawn_runtime::MigrateError>,
    )],
    exit_code: bool,
) -> CmdResult {
    let out = ctx.out;
    // (group order, name, state, detail)
    let mut rows: Vec<(u8, String, String, String)> = statuses
        .iter()
        .map(|(name, status)| {
            let (order, state, detail) = summarize(status);
            (order, name.clone(), state, detail)
        })
        .collect();
    rows.sort();
    if out.json {
        out.json_value(&json!({
            "fleet": label,
            "rows": rows.iter().map(|(_, name, state, detail)| json!({
                "name": name,
                "state": state,
                "detail": detail,
            })).collect::<Vec<_>>(),
        }));
    } else {
        out.note(label);
        let mut table = out.table(&[what, "State", "Detail"]);
        for (_, name, state, detail) in &rows {
            table.add_row(vec![name.clone(), state.clone(), detail.clone()]);
        }
        out.print_table(&table);
    }
    let all_up_to_date = rows.iter().all(|(order, ..)| *order == UP_TO_DATE);
    if exit_code && !all_up_to_date {
        Err(Exit::Code(exit::DIFFERENCES))
    } else {
        Ok(())
    }
}

const UP_TO_DATE: u8 = 3;

/// A database's state for the status table: its group (failing first), name and detail.
fn summarize(
    status: &Result<Vec<MigrationStatus>, spawn_runtime::MigrateError>,
) -> (u8, String, String) {
    let statuses = match status {
        Ok(statuses) => statuses,
        Err(e) => return (0, "unreachable".to_owned(), redact(&e.to_string())),
    };
    let failed: Vec<&str> = statuses
        .iter()
        .filter(|s| matches!(s.state, State::Failed | State::Partial))
        .map(|s| s.name.as_str())
        .collect();
    if !failed.is_empty() {
        return (1, "failed".to_owned(), failed.join(", "));
    }
    let pending = statuses
        .iter()
        .filter(|s| !matches!(s.state, State::Applied | State::Adopted))
        .count();
    if pending > 0 {
        return (
            2,
            "pending".to_owned(),
            format!("{pending} migration(s) to apply"),
        );
    }
    (
        UP_TO_DATE,
        "up to date".to_owned(),
        format!("{} applied", statuses.len()),
    )
}
