//! `spawn migration build <m>`: print the rendered SQL (the render followed by one newline,
//! as the original spawn printed it).

use std::path::Path;

use anyhow::anyhow;
use spawn_build::render::{self, ComponentSource, RenderRequest};

use crate::commands::Ctx;
use crate::exit::CmdResult;

pub fn run(ctx: &Ctx<'_>, migration: &str, pinned: bool, variables: Option<&Path>) -> CmdResult {
    let mut proj = ctx.project()?;
    let m = proj.migration(migration)?;
    let target = ctx.target(&proj, variables)?;
    let pin = proj.pin_of(&m)?;
    let components = if pinned {
        match &pin {
            Some(root) => ComponentSource::Pinned(proj.project.snapshot(&m.name, root).map_err(|e| anyhow!("{e}"))?),
            None => crate::fail!(
                "migration {} is not pinned ({} is missing), so it has no pinned build: run `spawn migration pin {}`, \
                 or build it without --pinned",
                m.name,
                m.lock_toml().display(),
                m.name
            ),
        }
    } else {
        if pin.is_some() {
            ctx.out.warn(format!(
                "migration {} is pinned, but this build uses the working tree's components/; \
                 `spawn migration build {} --pinned` shows what `apply` runs",
                m.name, m.name
            ));
        }
        ComponentSource::Directory(proj.project.layout.components_dir())
    };
    let vars = proj.variables(target.variables.as_deref())?;
    let up_sql = m.up_sql();
    let rendered = render::render(&RenderRequest {
        migration_name: &m.name,
        up_sql_path: &up_sql,
        components: &components,
        environment: &target.environment,
        variables: vars.as_ref(),
    })
    .map_err(|e| anyhow!("{e} (environment {})", target.environment))?;
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
