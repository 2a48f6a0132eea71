//! `spawn check`: every migration renders for every environment, is pinned, and its pin is
//! intact; the SQL has no psql meta-commands and nothing a transaction cannot run (outside
//! `-- spawn:no-transaction` migrations). Lists every problem, each cause once
//! (`Project::verify_pins`, then `Project::render_all`, whose problems are grouped).
//!
//! An undefined name that a template prints as nothing (`{{ variables.nope }}`) renders, as
//! in the original spawn, but is listed as a warning, as is a component edited after the
//! newest migration that includes it was pinned (the edit is in no migration);
//! `--strict` makes them errors.
//!
//! Draft migrations (`-- spawn:draft`) are rendered and checked like the others but need no
//! pin; `--no-drafts` (for CI) makes their existence a problem.
//!
//! With `require_down = true` in spawn.toml, a migration without `down.sql` is a problem
//! too (one, naming them all).
//!
//! Exit 0 when all is well (warnings aside), 1 when something is broken (a render, a pin,
//! the SQL; with `--strict`, a warning), 2 when the only findings are migrations still to
//! pin.

use serde_json::json;
use spawn_build::component_status::{component_status, ComponentState};
use spawn_build::error::BuildError;
use spawn_build::layout::LayoutError;
use spawn_build::problems::Problems;
use spawn_build::project::{PinPolicy, RenderOptions, VariablesSource};

use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};

pub fn run(ctx: &CommandContext<'_>, strict: bool, no_drafts: bool) -> CmdResult {
    let mut proj = ctx.project()?;
    let environments: Vec<String> = match &ctx.cli.environment {
        Some(e) => vec![e.clone()],
        None => proj.project.config.environments().into_iter().collect(),
    };
    let mut problems = Problems::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut drafts = Vec::new();
    let migrations = proj.migrations().map_or(0, |m| m.len());
    match proj.project.verify_pins() {
        Ok(report) => {
            problems.extend(report.problems);
            if !report.unpinned.is_empty() {
                problems.push(BuildError::NotPinned {
                    migrations: report.unpinned,
                    hint: None,
                });
            }
            // Unpinned migrations render from the working tree: their other problems show too.
            let options = RenderOptions::new(PinPolicy::WorkingTreeIfUnpinned, &environments);
            let renders = proj.project.render_all(&options);
            let rendered = renders.problems.is_empty();
            problems.extend(renders.problems);
            // The callbacks, rendered and checked for every environment as build.rs does.
            let names: Vec<&str> = renders.migrations.iter().map(|m| m.name.as_str()).collect();
            spawn_build::callbacks::render_for_environments(
                &mut proj.project,
                &environments,
                &VariablesSource::SpawnToml,
                &names,
                &mut problems,
            );
            warnings = renders.warnings.iter().map(ToString::to_string).collect();
            drafts = renders.drafts;
            if rendered {
                warnings.extend(changed_components(&mut proj.project, &environments));
            }
        }
        Err(e) => problems.push(e),
    }
    if no_drafts && !drafts.is_empty() {
        problems.push(BuildError::Drafts {
            migrations: drafts.clone(),
        });
    }
    if proj.project.config.require_down {
        match proj.project.migrations_without_down() {
            Ok(missing) if !missing.is_empty() => problems.push(BuildError::MissingDown {
                migrations: missing,
            }),
            Ok(_) => {}
            Err(e) => problems.push(e),
        }
    }

    // Under --strict, a warning fails the check like any problem.
    let warnings_fail = strict && !warnings.is_empty();
    let broken = warnings_fail || problems.iter().any(|p| kind(p) != "unpinned");
    let out = ctx.out;
    if out.json {
        out.json_value(&json!({
            "ok": problems.is_empty() && !warnings_fail,
            "migrations": migrations,
            "environments": environments,
            "warnings": warnings,
            "drafts": drafts,
            "problems": problems.iter().map(|p| {
                let names = migrations_of(p);
                json!({
                    "migration": if names.len() == 1 { names.first() } else { None },
                    "migrations": names,
                    "kind": kind(p),
                    "message": p.to_string(),
                })
            }).collect::<Vec<_>>(),
        }));
    } else if problems.is_empty() && !warnings_fail {
        for w in &warnings {
            out.warn(w);
        }
        for d in &drafts {
            out.note(format!(
                "{d} is a draft: checked, but never pinned, applied or embedded (`spawn migration ready {d}` when it is done)"
            ));
        }
        out.success(format!(
            "ok: {migrations} migration(s) render for {} and are pinned with intact pins",
            environments.join(", ")
        ));
    } else {
        for p in problems.iter() {
            out.error(p.to_string());
        }
        for w in &warnings {
            if strict {
                out.error(w);
            } else {
                out.warn(w);
            }
        }
        let counted = problems.len() + if strict { warnings.len() } else { 0 };
        out.note(format!("{counted} problem(s) in {migrations} migration(s)"));
    }
    if broken {
        Err(Exit::Code(exit::ERROR))
    } else if !problems.is_empty() {
        Err(Exit::Code(exit::DIFFERENCES))
    } else {
        Ok(())
    }
}

/// A warning for each component edited since the newest migration that includes it was
/// pinned: the edit reaches no database until a migration includes it.
fn changed_components(
    project: &mut spawn_build::project::Project,
    environments: &[String],
) -> Vec<String> {
    let Ok(components) = component_status(project, environments) else {
        // Every migration rendered a moment ago; a failure here is reported by the renders.
        return Vec::new();
    };
    components
        .into_iter()
        .filter(|c| c.state == ComponentState::Changed)
        .map(|c| {
            format!(
                "component {} changed after {}, the newest migration that includes it, was pinned: \
                 the change is in no migration (include it in a new migration: spawn migration new <name>)",
                c.path,
                c.migration.as_deref().unwrap_or("?"),
            )
        })
        .collect()
}

/// What kind of problem `p` is: `unpinned`, `pin`, `config` or `render`.
fn kind(p: &BuildError) -> &'static str {
    match p {
        BuildError::NotPinned { .. } => "unpinned",
        BuildError::Pin { .. } | BuildError::PinnedObject { .. } => "pin",
        BuildError::Config(_) | BuildError::Layout(_) => "config",
        BuildError::MissingDown { .. } => "down",
        BuildError::Drafts { .. } | BuildError::Draft { .. } => "draft",
        _ => "render",
    }
}

/// The migrations a problem is about (none for a variables file, say).
fn migrations_of(p: &BuildError) -> Vec<String> {
    match p {
        BuildError::NotPinned { migrations, .. }
        | BuildError::PinnedObject { migrations, .. }
        | BuildError::MissingDown { migrations }
        | BuildError::Drafts { migrations } => migrations.clone(),
        BuildError::Pin { migration, .. } | BuildError::Analyze { migration, .. } => {
            vec![migration.clone()]
        }
        BuildError::Render { source, .. } => vec![source.migration().to_owned()],
        BuildError::Layout(LayoutError::Naming(e)) => vec![e.folder.clone()],
        _ => Vec::new(),
    }
}
