//! `spawn migration pin <m>|--all`: freeze the current components/ for a migration.

use anyhow::anyhow;

use crate::commands::Ctx;
use crate::exit::CmdResult;

pub fn run(ctx: &Ctx<'_>, migration: Option<&str>, all: bool) -> CmdResult {
    let mut proj = ctx.project()?;
    let targets = if all {
        let mut unpinned = Vec::new();
        for m in proj.migrations()? {
            if proj.pin_of(&m)?.is_none() {
                unpinned.push(m);
            }
        }
        unpinned
    } else {
        let name = migration.ok_or_else(|| anyhow!("name a migration, or pass --all"))?;
        vec![proj.migration(name)?]
    };
    let mut pinned = Vec::new();
    for m in &targets {
        let before = proj.pin_of(m)?;
        let root = proj.project.pin(m).map_err(|e| anyhow!("{e}"))?;
        match before {
            Some(old) if old != root => ctx.out.warn(format!(
                "re-pinned {} (was {old}): if it is applied anywhere already, its SQL may have changed there",
                m.name
            )),
            _ => {}
        }
        ctx.out.success(format!("pinned {} to {root}", m.name));
        pinned.push(serde_json::json!({ "migration": m.name, "pin": root.to_string() }));
    }
    if ctx.out.json {
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
