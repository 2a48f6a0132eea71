//! `spawn migration adopt`: record pending migrations as applied without running them (they
//! were applied by hand). Asks for a description and a confirmation only on a terminal;
//! never opens an editor. The description is written with the ADOPT rows, in the same
//! statement (`Migrator::adopt_with_description`).

use std::path::Path;

use serde_json::json;
use spawn_build::project::PinPolicy;
use spawn_runtime::Migrator;

use crate::commands::migration::session::{migrate_error, prepare, Prepared};
use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};
use crate::prompt;

pub async fn run(
    ctx: &CommandContext<'_>,
    migration: Option<&str>,
    description: Option<&str>,
    yes: bool,
    no_pin: bool,
    variables: Option<&Path>,
    lock_wait: Option<u64>,
) -> CmdResult {
    if let Some(name) = migration {
        ctx.project()?.migration(name)?;
    }
    let description = match description {
        Some(d) => d.to_owned(),
        None => prompt::ask_line(
            "a description of why the migrations are adopted",
            "--description TEXT",
        )?,
    };
    if description.trim().is_empty() {
        crate::fail!("the adoption needs a description: pass --description TEXT");
    }
    let policy = if no_pin {
        PinPolicy::WorkingTreeIfUnpinned
    } else {
        PinPolicy::Require
    };
    let p = prepare(ctx, variables, policy).await?;
    let result = adopt(
        ctx,
        migration,
        &description,
        yes,
        &p,
        p.migrator_waiting(lock_wait),
    )
    .await;
    p.close().await;
    result
}

async fn adopt(
    ctx: &CommandContext<'_>,
    migration: Option<&str>,
    description: &str,
    yes: bool,
    p: &Prepared,
    m: Migrator,
) -> CmdResult {
    let out = ctx.out;
    let up_to = match migration {
        Some(name) => Path::new(name.trim_end_matches('/'))
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(name)
            .to_owned(),
        None => match p.rendered.last() {
            Some(r) => r.name.to_string(),
            None => crate::fail!(
                "there are no migrations to adopt; create one with `spawn migration new <name>`"
            ),
        },
    };
    let plan = m
        .clone()
        .dry_run(true)
        .adopt(&p.pool, &up_to)
        .await
        .map_err(migrate_error)?;
    let where_ = p.where_();
    if plan.planned.is_empty() {
        if out.json {
            out.json_value(&json!({ "adopted": [], "already_applied": plan.already_applied }));
        } else {
            out.success(format!(
                "nothing to adopt in {where_}: no pending migration up to {up_to}"
            ));
        }
        return Ok(());
    }
    if !yes && !prompt::interactive() {
        crate::fail!("refusing to adopt migrations without confirmation: stdin is not a terminal. Pass --yes to confirm");
    }
    if !yes {
        eprintln!(
            "{}",
            crate::output::redact(&format!(
                "About to record {} migration(s) as applied in {where_} WITHOUT running them:",
                plan.planned.len()
            ))
        );
        for name in &plan.planned {
            eprintln!("  {name}");
        }
        if !prompt::confirm("Adopt them?", "--yes", "adopt migrations")? {
            out.note("nothing was adopted");
            return Err(Exit::Code(exit::ERROR));
        }
    }
    let report = m
        .adopt_with_description(&p.pool, &up_to, description)
        .await
        .map_err(migrate_error)?;
    if out.json {
        out.json_value(&json!({ "adopted": report.adopted, "already_applied": report.already_applied, "description": description }));
    } else {
        out.success(format!(
            "adopted {} migration(s) in {where_} without running them:",
            report.adopted.len()
        ));
        for name in &report.adopted {
            out.line(format!("  {name}"));
        }
    }
    Ok(())
}
