//! Opening the project (`spawn.toml`) and rendering its migrations through
//! `spawn_build::project::Project`, the same pipeline `build.rs` uses, into the
//! `spawn_runtime::Migration`s that `spawn_runtime::Migrator` applies, as the embedded
//! migrator does.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use spawn_build::layout::MigrationDir;
use spawn_build::project::Project;
use spawn_runtime::Migration;

/// An opened project.
pub struct Proj {
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

impl Proj {
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

    /// The parsed variables file, if any.
    pub fn variables(&mut self, path: Option<&Path>) -> Result<Option<minijinja::Value>> {
        match path {
            None => Ok(None),
            Some(p) => self
                .project
                .variables(p)
                .map(Some)
                .map_err(|e| anyhow!("{e}")),
        }
    }
}

/// Whether an unpinned migration may be rendered from the working tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pins {
    /// Refuse unpinned migrations (what `apply` does without `--no-pin`).
    Required,
    /// Pinned ones from their pin, unpinned ones from the working tree.
    WorkingTreeIfUnpinned,
}

/// Renders (and analyses) every migration for `environment`. Collects every problem.
pub fn render_all(
    proj: &mut Proj,
    environment: &str,
    variables: Option<&Path>,
    pins: Pins,
) -> Result<Vec<Migration>> {
    let vars = proj.variables(variables)?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for m in proj.migrations()? {
        let pin = match proj.pin_of(&m) {
            Ok(p) => p,
            Err(e) => {
                problems.push(format!("{e}"));
                continue;
            }
        };
        if pin.is_none() && pins == Pins::Required {
            problems.push(format!(
                "migration {} is not pinned ({} is missing): run `spawn migration pin {}` and commit lock.toml and pinned/, \
                 or pass --no-pin to use the working tree",
                m.name,
                m.lock_toml().display(),
                m.name
            ));
            continue;
        }
        match proj
            .project
            .compile_render(&m, pin.as_ref(), environment, vars.as_ref())
        {
            Ok(r) => out.push(r.into_migration(&m.name, pin.as_ref())),
            Err(e) => problems.push(format!("{e}")),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        bail!("{}", problems.join("\n"))
    }
}
