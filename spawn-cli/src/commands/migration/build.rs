//! `spawn migration build <m>`: print the rendered SQL (the render followed by one newline,
//! as the original spawn printed it), from the pin with `--pinned`, else from the working
//! tree (`Project::render_sql`).

use std::path::Path;

use anyhow::anyhow;
use spawn_build::project::{PinPolicy, VariablesSource};

use crate::commands::CommandContext;
use crate::exit::CmdResult;

pub fn run(
    ctx: &CommandContext<'_>,
    migration: &str,
    pinned: bool,
    variables: Option<&Path>,
) -> CmdResult {
    let mut proj = ctx.project()?;
    let m = proj.migration(migration)?;
    let target = ctx.target(&proj, variables)?;
    let policy = if pinned {
        PinPolicy::Require
    } else {
        PinPolicy::WorkingTree
    };
    let render = proj
        .project
        .render_sql(
            &m,
            &target.environment,
            policy,
            &VariablesSource::File(target.variables.clone()),
        )
        .map_err(|e| {
            anyhow!(
                "{}",
                e.hint_unpinned("or build it without --pinned to render it from the working tree")
            )
        })?;
    if !pinned && render.pin.is_some() {
        ctx.out.warn(format!(
            "migration {} is pinned, but this build uses the working tree's components/; \
             `spawn migration build {} --pinned` shows what `apply` runs",
            m.name, m.name
        ));
    }
    let rendered = render.rendered;
    ctx.out.data(format!("{}\n", rendered.sql));
    if let Err(problems) = spawn_build::analyze::analyze(&rendered.sql) {
        for p in problems {
            let from = spawn_build::project::origin_of(&rendered.origins, p.line)
                .map(|c| format!(" (from component {c})"))
                .unwrap_or_default();
            ctx.out.warn(format!(
                "migration {}: rendered {p}{from}; `spawn check` lists every problem",
                m.name
            ));
        }
    }
    Ok(())
}
