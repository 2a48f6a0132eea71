//! `spawn migration pin <m>|--all`: freeze the current components/ for a migration
//! (`Project::pin_migrations`: components/ is pinned once, however many migrations). A
//! migration that does not render from components/ for every environment is not pinned
//! (exit 1, naming it).

use anyhow::anyhow;
use spawn_build::project::{PinPolicy, Pinning, RenderOptions};

use crate::commands::CommandContext;
use crate::exit::CmdResult;

pub fn run(ctx: &CommandContext<'_>, migration: Option<&str>, all: bool) -> CmdResult {
    let mut proj = ctx.project()?;
    let targets = if all {
        proj.project
            .unpinned_migrations()
            .map_err(|e| anyhow!("{e}"))?
    } else {
        let name = migration.ok_or_else(|| anyhow!("name a migration, or pass --all"))?;
        vec![proj.migration(name)?]
    };
    // Pinning freezes components/ for every environment: each must render first.
    let environments: Vec<String> = match &ctx.cli.environment {
        Some(e) => vec![e.clone()],
        None => proj.project.config.environments().into_iter().collect(),
    };
    let Pinning {
        pinned,
        refused,
        problems,
    } = proj.project.pin_migrations(
        &targets,
        &RenderOptions::new(PinPolicy::WorkingTree, environments),
    );
    for p in &pinned {
        if let Some(old) = p.previous.filter(|old| *old != p.pin) {
            ctx.out.warn(format!(
                "re-pinned {} (was {old}): if it is applied anywhere already, its SQL may have changed there",
                p.name
            ));
        }
        ctx.out.success(format!("pinned {} to {}", p.name, p.pin));
    }
    for p in problems.iter() {
        ctx.out.error(p.to_string());
    }
    if ctx.out.json {
        let pinned: Vec<_> = pinned
            .iter()
            .map(|p| serde_json::json!({ "migration": p.name, "pin": p.pin.to_string() }))
            .collect();
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        ctx.out.json_value(
            &serde_json::json!({ "pinned": pinned, "refused": refused, "problems": problems }),
        );
    } else if targets.is_empty() {
        ctx.out.line("every migration is pinned already");
    } else if !pinned.is_empty() {
        ctx.out.line(format!(
            "commit the lock.toml file(s) and {} with the migration",
            proj.project.layout.pinned_dir().display()
        ));
    }
    if refused.is_empty() {
        Ok(())
    } else {
        crate::fail!(
            "not pinned (nothing was written for them): {}; fix what is reported above and \
             pin again",
            refused.join(", ")
        )
    }
}
