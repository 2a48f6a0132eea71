//! Opening the project (`spawn.toml`) and rendering its migrations through
//! `spawn_build::project::Project`, the same pipeline `build.rs` uses, into the
//! `spawn_runtime::Migration`s that `spawn_runtime::Migrator` applies, as the embedded
//! migrator does.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use spawn_build::layout::MigrationDir;
use spawn_build::project::{
    CompiledMigration, PinPolicy, Project, RenderOptions, Renders, VariablesSource,
};
use spawn_runtime::Migration;

/// An opened project.
pub struct CliProject {
    pub project: Project,
}

/// The spawn.toml to use: `-c FILE`, else the nearest one from the current folder up.
pub fn find_spawn_toml(explicit: Option<&Path>) -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("reading the current folder")?;
    if let Some(p) = explicit {
        let p = cwd.join(p);
        if !p.is_file() {
            bail!(
                "{} does not exist; create it with `spawn init`, or pass the right file with -c",
                p.display()
            );
        }
        return Ok(p);
    }
    for dir in cwd.ancestors() {
        let candidate = dir.join("spawn.toml");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "no spawn.toml in {} or any folder above it; create a project with `spawn init`, or pass -c <FILE>",
        cwd.display()
    )
}

impl CliProject {
    pub fn open(explicit: Option<&Path>) -> Result<Self> {
        let path = find_spawn_toml(explicit)?;
        let project = Project::open(&path).map_err(|e| anyhow!("{e}"))?;
        tracing::debug!(spawn_toml = %path.display(), spawn_folder = %project.layout.spawn_folder.display(), "opened the project");
        Ok(Self { project })
    }

    /// Every migration folder, in apply order.
    pub fn migrations(&self) -> Result<Vec<MigrationDir>> {
        self.project.migrations().map_err(|e| anyhow!("{e}"))
    }

    /// The folder of migration `name`; an error naming close matches if there is none.
    pub fn migration(&self, name: &str) -> Result<MigrationDir> {
        let name = name.trim_end_matches('/');
        // Accept a path to the folder (tab completion gives `migrations/<name>/`).
        let name = Path::new(name)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(name);
        let all = self.migrations()?;
        if let Some(m) = all.iter().find(|m| m.name == name) {
            return Ok(m.clone());
        }
        let close: Vec<&str> = all
            .iter()
            .filter(|m| m.name.contains(name) || name.contains(m.name.as_str()))
            .map(|m| m.name.as_str())
            .take(5)
            .collect();
        let hint = if close.is_empty() {
            format!(
                "`spawn migration status` lists the {} migration(s)",
                all.len()
            )
        } else {
            format!(
                "did you mean {}?",
                close
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        bail!(
            "there is no migration folder {}; {hint} (create one with `spawn migration new <name>`)",
            self.project.layout.migration(name).dir.display()
        )
    }

    /// The pin of `m`, if pinned.
    pub fn pin_of(&mut self, m: &MigrationDir) -> Result<Option<spawn_build::pin::ObjectHash>> {
        self.project.pin_of(m).map_err(|e| anyhow!("{e}"))
    }
}

/// Renders (and analyses) every migration for `environment` with the `variables` file, under
/// `policy` (through `Project::render_all`). Fails listing every problem.
pub fn render_all(
    proj: &mut CliProject,
    environment: &str,
    variables: Option<&Path>,
    policy: PinPolicy,
) -> Result<Vec<Migration>> {
    Ok(render_with_tenant_parts(proj, environment, variables, policy)?.0)
}

/// [`render_all`], and the migrations' tenant parts (`tenant.sql`) rendered the same way.
pub fn render_with_tenant_parts(
    proj: &mut CliProject,
    environment: &str,
    variables: Option<&Path>,
    policy: PinPolicy,
) -> Result<(Vec<Migration>, Vec<Migration>)> {
    Ok(into_migrations(render_compiled(
        proj,
        environment,
        variables,
        policy,
    )?))
}

/// [`render_all`] as the renders and analyses of spawn-build (for [`into_migrations`] and
/// the hazards report alike). Unchanged renders come from the project's render cache
/// ([`crate::render_cache`]), which keeps this run's for the next.
pub fn render_compiled(
    proj: &mut CliProject,
    environment: &str,
    variables: Option<&Path>,
    policy: PinPolicy,
) -> Result<Vec<CompiledMigration>> {
    let options = RenderOptions::new(policy, [environment])
        .variables(VariablesSource::File(variables.map(Path::to_path_buf)));
    let mut renders = render_all_cached(proj, &options);
    renders
        .problems
        .hint_unpinned("or pass --no-pin to render them from the working tree");
    renders.problems.into_result().map_err(|e| anyhow!("{e}"))?;
    Ok(renders.migrations)
}

/// `Project::render_all`, with unchanged renders taken from the project's render cache
/// ([`crate::render_cache`]), which keeps this run's for the next.
pub fn render_all_cached(proj: &mut CliProject, options: &RenderOptions) -> Renders {
    let begun = std::time::Instant::now();
    crate::render_cache::open(proj);
    let renders = proj.project.render_all(options);
    crate::render_cache::save(proj);
    tracing::debug!(
        migrations = renders.migrations.len(),
        reused = renders.reused,
        ms = begun.elapsed().as_millis(),
        "rendered, with the render cache read and kept"
    );
    renders
}

/// [`render_compiled`] of only the migrations named `names`.
pub fn render_compiled_only(
    proj: &mut CliProject,
    environment: &str,
    variables: Option<&Path>,
    names: &[String],
) -> Result<Vec<CompiledMigration>> {
    let options = RenderOptions::new(PinPolicy::WorkingTreeIfUnpinned, [environment])
        .variables(VariablesSource::File(variables.map(Path::to_path_buf)))
        .only(names.iter().cloned());
    let renders = proj.project.render_all(&options);
    renders.problems.into_result().map_err(|e| anyhow!("{e}"))?;
    Ok(renders.migrations)
}

/// The migrations of [`render_compiled`] (their first render) as the migrator applies them,
/// and their tenant parts.
pub fn into_migrations(compiled: Vec<CompiledMigration>) -> (Vec<Migration>, Vec<Migration>) {
    let mut migrations = Vec::with_capacity(compiled.len());
    let mut tenant_parts = Vec::new();
    for m in compiled {
        let Some(mut render) = m.renders.into_iter().next() else {
            continue;
        };
        if let Some(tenant) = render.tenant.take() {
            tenant_parts.push(tenant.into_migration(&m.name, m.pin.as_ref()));
        }
        migrations.push(render.into_migration(&m.name, m.pin.as_ref()));
    }
    (migrations, tenant_parts)
}
