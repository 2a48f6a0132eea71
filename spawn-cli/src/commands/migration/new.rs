//! `spawn migration new <name> [--draft]`: `migrations/<UTC YYYYMMDDHHMMSS>-<name>/up.sql`
//! (with `--draft`, its first line is `-- spawn:draft`).

use anyhow::{anyhow, Context};
use spawn_build::layout::{check_migration_folder, validate_migration_name};

use crate::commands::CommandContext;
use crate::exit::CmdResult;

/// Refuses a name that is invalid or that a migration of `proj` has already.
pub fn check_new_name(proj: &crate::project::CliProject, name: &str) -> anyhow::Result<()> {
    validate_migration_name(name).map_err(|e| anyhow!("{e}"))?;
    let existing = proj.migrations()?;
    if let Some(dup) = existing
        .iter()
        .find(|m| m.name == name || m.name.split_once('-').is_some_and(|(_, rest)| rest == name))
    {
        anyhow::bail!(
            "a migration named `{name}` exists already ({}); choose another name",
            dup.dir.display()
        );
    }
    Ok(())
}

pub fn run(ctx: &CommandContext<'_>, name: &str, draft: bool) -> CmdResult {
    let proj = ctx.project()?;
    check_new_name(&proj, name)?;
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    let folder = format!("{stamp}-{name}");
    // The one naming rule every command applies to migration folders.
    check_migration_folder(&folder, &stamp).map_err(|e| anyhow!("{e}"))?;
    let m = proj.project.layout.migration(&folder);
    let parent = proj.project.layout.migrations_dir();
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    // create_dir (not _all): fails instead of reusing a folder that appeared meanwhile.
    std::fs::create_dir(&m.dir).map_err(|e| {
        anyhow!(
            "cannot create {}: {e}; nothing was overwritten. Wait a second and run it again",
            m.dir.display()
        )
    })?;
    let up = m.up_sql();
    // A template comment ({# … #}) renders to nothing, so the new migration is empty SQL.
    let mark = if draft {
        format!("{}\n", spawn_build::layout::DRAFT_MARKER)
    } else {
        String::new()
    };
    let text = format!(
        "{mark}{{# {folder}\n   \
         A minijinja template: {{% include \"functions/my_function.sql\" %}} pulls in a file of\n   \
         components/, {{{{ env }}}} is the environment and {{{{ variables }}}} the variables file. -#}}\n"
    );
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&up)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
        .with_context(|| format!("writing {}", up.display()))?;
    if ctx.out.json {
        ctx.out
            .json_value(&serde_json::json!({ "migration": folder, "up_sql": up }));
    } else {
        ctx.out.success(format!("Created {}", up.display()));
        if draft {
            ctx.out.line(format!(
                "It is a draft: checked, never pinned, applied or embedded. When it is done: `spawn migration ready {folder}`."
            ));
        } else {
            ctx.out.line(format!(
                "Edit it, check it with `spawn migration build {folder}`, then `spawn migration pin {folder}`."
            ));
        }
    }
    Ok(())
}
