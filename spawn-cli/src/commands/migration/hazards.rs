//! `spawn migration hazards [<m>]`: what each statement of a migration does to a live
//! database (`spawn_build::analyze::hazards`), one line per finding with file and line.
//!
//! Which migrations: the one named, else every migration still being written (not pinned),
//! or with `--all` every migration. Migrations are rendered as `apply --no-pin` would (pinned
//! ones from their pin) for the target's environment, and read in apply order, so what
//! earlier ones established (column types, validated `NOT NULL` checks) is known.
//!
//! Exit 0 whatever is found (findings are advice); with `--deny <hazard>`, exit 2 when a
//! finding of a denied hazard is not accepted by a `-- spawn:allow` comment.

use std::path::Path;

use anyhow::anyhow;
use serde_json::json;
use spawn_build::hazard_report::{denied, project_hazards, ProjectHazards};
use spawn_build::layout::Layout;
use spawn_build::project::{CompiledMigration, PinPolicy, RenderOptions, VariablesSource};
use spawn_build::Hazard;

use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};
use crate::output::Paint;

/// What to list, from the command line.
pub struct Options<'a> {
    pub migration: Option<&'a str>,
    pub all: bool,
    pub deny: &'a [Hazard],
    pub variables: Option<&'a Path>,
}

pub fn run(ctx: &CommandContext<'_>, options: &Options<'_>) -> CmdResult {
    let mut proj = ctx.project()?;
    let only = options
        .migration
        .map(|m| proj.migration(m))
        .transpose()?
        .map(|m| m.name);
    let target = ctx.target(&proj, options.variables)?;
    let render = RenderOptions::new(PinPolicy::WorkingTreeIfUnpinned, [&target.environment])
        .variables(VariablesSource::File(target.variables.clone()));
    let renders = crate::project::render_all_cached(&mut proj, &render);
    renders
        .problems
        .into_result()
        .map_err(|e| anyhow!("{e}\n(`spawn check` lists every problem)"))?;
    let chosen = |name: &str, pinned: bool| match &only {
        Some(only) => only == name,
        None => options.all || !pinned,
    };
    let ProjectHazards {
        findings,
        unused_allows,
    } = project_hazards(&proj.project.layout, &renders.migrations, |m| {
        chosen(&m.name, m.pin.is_some())
    });
    let checked: Vec<&str> = renders
        .migrations
        .iter()
        .filter(|m| chosen(&m.name, m.pin.is_some()))
        .map(|m| m.name.as_str())
        .collect();
    let denied_count = denied(&findings, options.deny).count();

    let out = ctx.out;
    if out.json {
        out.json_value(&json!({
            "environment": target.environment,
            "migrations": checked,
            "hazards": findings,
            "unused_allows": unused_allows,
            "denied": denied_count,
        }));
    } else if findings.is_empty() {
        out.success(format!(
            "no hazards in {} (environment {})",
            describe(&checked),
            target.environment
        ));
    } else {
        for finding in &findings {
            let accepted = if finding.finding.allowed {
                out.paint(" (allowed)", Paint::Dim)
            } else {
                String::new()
            };
            out.data(format!("{finding}{accepted}\n"));
        }
        let allowed = findings.iter().filter(|f| f.finding.allowed).count();
        out.note(format!(
            "{} hazard{} ({allowed} allowed) in {} (environment {}); accept one with \
             `-- spawn:allow <hazard>` on the line before its statement",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            describe(&checked),
            target.environment
        ));
    }
    if !out.json {
        for unused in &unused_allows {
            out.warn(unused.to_string());
        }
    }
    if denied_count > 0 {
        if !out.json {
            let names: Vec<&str> = options.deny.iter().map(|h| h.name()).collect();
            out.warn(format!(
                "{denied_count} finding{} of denied hazards ({}) not accepted by \
                 `-- spawn:allow`",
                if denied_count == 1 { "" } else { "s" },
                names.join(", ")
            ));
        }
        return Err(Exit::Code(exit::DIFFERENCES));
    }
    Ok(())
}

/// The hazards of the migrations `names` (just written by `spawn migration generate`) among
/// `migrations`, every migration rendered for one environment (so what earlier migrations
/// established is known): one `file:line: hazard: message` line each.
pub fn hazards_in(
    layout: &Layout,
    migrations: &[CompiledMigration],
    names: &[String],
) -> Vec<String> {
    let ProjectHazards { findings, .. } =
        project_hazards(layout, migrations, |m| names.contains(&m.name));
    findings.iter().map(ToString::to_string).collect()
}

/// `migration X`, `3 migrations`, `no unpinned migrations`.
fn describe(names: &[&str]) -> String {
    match names {
        [] => "no migrations (every migration is pinned; pass --all or a migration)".to_owned(),
        [one] => format!("migration {one}"),
        many => format!("{} migrations", many.len()),
    }
}
