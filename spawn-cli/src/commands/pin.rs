//! `spawn pin …`: the pin store as a whole: verify every object, collect garbage, diff two
//! migrations' component trees, check a snapshot out into a folder.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use serde_json::json;
use spawn_build::error::BuildError;
use spawn_build::pin::Snapshot;

use crate::cli::PinCommand;
use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};
use crate::project::CliProject;

pub fn run(ctx: &CommandContext<'_>, cmd: &PinCommand) -> CmdResult {
    match cmd {
        PinCommand::Verify => verify(ctx),
        PinCommand::Gc { dry_run } => gc(ctx, *dry_run),
        PinCommand::Diff { from, to } => diff(ctx, from, to),
        PinCommand::Checkout { migration, dir } => checkout(ctx, migration, dir),
    }
}

/// The snapshot a migration is pinned to; an error telling how to pin it when it is not.
fn pinned_snapshot(proj: &mut CliProject, name: &str) -> Result<Arc<Snapshot>> {
    let m = proj.migration(name)?;
    let root = proj.pin_of(&m)?.ok_or_else(|| {
        anyhow!(
            "{}",
            BuildError::NotPinned {
                migrations: vec![m.name.clone()],
                hint: None,
            }
        )
    })?;
    proj.project
        .snapshot(&m.name, &root)
        .map_err(|e| anyhow!("{e}"))
}

/// Every pin intact (`Project::verify_pins`) and every file of pinned/ an intact object
/// (`PinStore::verify`); an object both find broken is reported once.
fn verify(ctx: &CommandContext<'_>) -> CmdResult {
    let mut proj = ctx.project()?;
    let report = proj.project.verify_pins().map_err(|e| anyhow!("{e}"))?;
    let store = proj.project.store.verify().map_err(|e| anyhow!("{e}"))?;
    let mut problems = report.problems;
    for source in store.problems {
        problems.push(BuildError::PinnedObject {
            migrations: Vec::new(),
            source: Box::new(source),
        });
    }
    let pins = report.pinned;
    let out = ctx.out;
    let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
    if out.json {
        out.json_value(&json!({ "ok": messages.is_empty(), "pins": pins, "objects": store.files.len(), "problems": messages }));
    } else if messages.is_empty() {
        out.success(format!(
            "ok: {pins} pin(s) and {} object(s) in {} are intact",
            store.files.len(),
            proj.project.store.dir().display()
        ));
    } else {
        for p in &messages {
            out.error(p);
        }
    }
    if messages.is_empty() {
        Ok(())
    } else {
        Err(Exit::Code(exit::ERROR))
    }
}

fn gc(ctx: &CommandContext<'_>, dry_run: bool) -> CmdResult {
    let mut proj = ctx.project()?;
    let mut keep: BTreeSet<PathBuf> = BTreeSet::new();
    for m in proj.migrations()? {
        let Some(root) = proj.pin_of(&m)? else {
            continue;
        };
        let snapshot = proj.project.snapshot(&m.name, &root).map_err(|e| {
            anyhow!("{e}\nNothing was deleted: gc only runs when every pin is intact (see `spawn pin verify`)")
        })?;
        keep.extend(snapshot.object_paths());
    }
    let mut removed = Vec::new();
    let mut bytes = 0u64;
    let files = proj.project.store.files().map_err(|e| anyhow!("{e}"))?;
    for file in files {
        if keep.contains(&file) {
            continue;
        }
        bytes += std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        if !dry_run {
            std::fs::remove_file(&file).with_context(|| format!("deleting {}", file.display()))?;
            if let Some(parent) = file.parent() {
                let _ = std::fs::remove_dir(parent); // only succeeds when empty
            }
        }
        removed.push(file);
    }
    let out = ctx.out;
    if out.json {
        out.json_value(
            &json!({ "dry_run": dry_run, "removed": removed, "bytes": bytes, "kept": keep.len() }),
        );
    } else {
        for f in &removed {
            out.line(format!(
                "{} {}",
                if dry_run { "would delete" } else { "deleted" },
                f.display()
            ));
        }
        out.success(format!(
            "{} {} unreferenced object(s) ({bytes} bytes); {} object(s) are in use",
            if dry_run { "would delete" } else { "deleted" },
            removed.len(),
            keep.len()
        ));
    }
    Ok(())
}

fn diff(ctx: &CommandContext<'_>, from: &str, to: &str) -> CmdResult {
    let mut proj = ctx.project()?;
    let a = pinned_snapshot(&mut proj, from)?;
    let b = pinned_snapshot(&mut proj, to)?;
    let paths: BTreeSet<&str> = a
        .files()
        .map(|(p, _)| p)
        .chain(b.files().map(|(p, _)| p))
        .collect();
    let mut text = String::new();
    for path in paths {
        if a.hash_of(path) == b.hash_of(path) {
            continue;
        }
        let old = a.get(path).map_err(|e| anyhow!("{e}"))?;
        let new = b.get(path).map_err(|e| anyhow!("{e}"))?;
        let old_name = if old.is_some() {
            format!("a/{path}")
        } else {
            "/dev/null".to_owned()
        };
        let new_name = if new.is_some() {
            format!("b/{path}")
        } else {
            "/dev/null".to_owned()
        };
        let old = old.unwrap_or_default();
        let new = new.unwrap_or_default();
        match (std::str::from_utf8(&old), std::str::from_utf8(&new)) {
            (Ok(o), Ok(n)) => {
                text.push_str(&format!("diff a/{path} b/{path}\n"));
                let d = similar::TextDiff::from_lines(o, n);
                text.push_str(
                    &d.unified_diff()
                        .context_radius(3)
                        .header(&old_name, &new_name)
                        .to_string(),
                );
                if !text.ends_with('\n') {
                    text.push_str("\n\\ No newline at end of file\n");
                }
            }
            _ => text.push_str(&format!("Binary files {old_name} and {new_name} differ\n")),
        }
    }
    if ctx.out.json {
        ctx.out.json_value(
            &json!({ "from": from, "to": to, "identical": text.is_empty(), "diff": text }),
        );
    } else if text.is_empty() {
        ctx.out.note(format!(
            "{from} and {to} are pinned to identical components"
        ));
    } else {
        ctx.out.data(text);
    }
    Ok(())
}

fn checkout(ctx: &CommandContext<'_>, migration: &str, dir: &Path) -> CmdResult {
    let mut proj = ctx.project()?;
    let snapshot = pinned_snapshot(&mut proj, migration)?;
    let dir = std::env::current_dir()
        .context("reading the current folder")?
        .join(dir);
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
        if entries.next().is_some() {
            crate::fail!(
                "{} is not empty: choose a new folder (checkout never overwrites files)",
                dir.display()
            );
        }
    }
    let mut n = 0;
    for (path, _) in snapshot.files() {
        let bytes = snapshot
            .get(path)
            .map_err(|e| anyhow!("{e}"))?
            .unwrap_or_default();
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&target, bytes).with_context(|| format!("writing {}", target.display()))?;
        n += 1;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    ctx.out.success(format!(
        "wrote the {n} component file(s) {migration} is pinned to ({}) into {}",
        snapshot.root(),
        dir.display()
    ));
    Ok(())
}
