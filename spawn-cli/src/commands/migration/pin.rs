//! `spawn migration pin <m>|--all`: freeze the current components/ for a migration
//! (`Project::pin_migrations`: components/ is pinned once, however many migrations).

use anyhow::anyhow;

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
    let pinned = proj
        .project
        .pin_migrations(&targets)
        .map_err(|e| anyhow!("{e}"))?;
    for p in &pinned {
        if let Some(old) = p.previous.filter(|old| *old != p.pin) {
            ctx.out.warn(format!(
                "re-pinned {} (was {old}): if it is applied anywhere already, its SQL may have changed there",
                p.name
            ));
        }
        ctx.out.success(format!("pinned {} to {}", p.name, p.pin));
    }
    if ctx.out.json {
        let pinned: Vec<_> = pinned
            .iter()
            .map(|p| serde_json::json!({ "migration": p.name, "pin": p.pin.to_string() }))
            .collect();
        ctx.out.json_value(&serde_json::json!({ "pinned": pinned }));
    } else if targets.is_empty() {
        ctx.out.line("every migration is pinned already");
    } else {
        ctx.out.line(format!(
            "commit the lock.toml file(s) and {} with the migration",
            proj.project.layout.pinned_dir().display()
        ));
    }
    Ok(())
}
