//! Component change tracking: for each file under `components/`, the newest migration that
//! includes it, and whether that migration has the file's current content.
//!
//! A pinned migration includes a component as it was when pinned (its blob in the pin); an
//! unpinned one renders from the working tree, so it includes the current content. So a
//! component edited after the newest migration including it was pinned is *changed, not in
//! any migration*: the edit reaches no database until a new migration includes it.
//! "Includes" means the render read the file (`{% include %}`, `{% import %}`, `read_file`,
//! `read_csv`) for any of the environments asked for.
//!
//! ```no_run
//! use spawn_build::component_status::{component_status, ComponentState};
//! use spawn_build::project::Project;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut project = Project::open("spawn.toml".as_ref())?;
//! let environments = vec!["dev".to_owned()];
//! for component in component_status(&mut project, &environments)? {
//!     if component.state == ComponentState::Changed {
//!         println!("{} changed since {:?}", component.path, component.migration);
//!     }
//! }
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use crate::analyze::{defined_objects, Defined};
use crate::error::BuildError;
use crate::pin::ObjectHash;
use crate::problems::Problems;
use crate::project::Project;
use crate::project::{PinPolicy, VariablesSource};

/// Where a component stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentState {
    /// The newest migration that includes it has its current content.
    InMigration,
    /// Edited since the newest migration that includes it was pinned.
    Changed,
    /// No migration includes it.
    NotIncluded,
}

impl ComponentState {
    /// How reports name the state.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::InMigration => "in migration",
            Self::Changed => "changed, not in any migration",
            Self::NotIncluded => "not included by any migration",
        }
    }
}

/// One component's status.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ComponentStatus {
    /// Relative to `components/`, with `/` separators.
    pub path: String,
    pub state: ComponentState,
    /// The newest migration that includes it.
    pub migration: Option<String>,
    /// The functions, views and triggers the file creates (see [`defined_objects`]).
    pub defines: Vec<Defined>,
}

/// The status of every file under `components/`, sorted by path. Every migration is
/// rendered for each of `environments` (pinned ones from their pin); when any cannot be,
/// the error lists every such problem and there is no report.
pub fn component_status(
    project: &mut Project,
    environments: &[String],
) -> Result<Vec<ComponentStatus>, BuildError> {
    let mut problems = Problems::new();
    let components_dir = project.layout.components_dir();
    let current = current_components(project, &components_dir)?;
    let migrations = project.migrations()?;
    // path → (newest migration including it, whether it had the current content)
    let mut newest: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for migration in &migrations {
        let mut read = std::collections::BTreeSet::new();
        let mut pin = None;
        for environment in environments {
            match project.render_sql(
                migration,
                environment,
                PinPolicy::WorkingTreeIfUnpinned,
                &VariablesSource::SpawnToml,
            ) {
                Ok(render) => {
                    pin = render.pin.filter(|_| render.from_pin);
                    read.extend(render.rendered.components_read);
                }
                Err(e) => problems.push(e),
            }
        }
        let snapshot = match pin {
            Some(root) => match project.snapshot(&migration.name, &root) {
                Ok(snapshot) => Some(snapshot),
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            },
            None => None,
        };
        for path in read {
            let has_current = match &snapshot {
                Some(snapshot) => snapshot.hash_of(&path) == current.get(&path).map(|(h, _)| h),
                None => true,
            };
            newest.insert(path, (migration.name.clone(), has_current));
        }
    }
    problems.into_result()?;
    Ok(current
        .into_iter()
        .map(|(path, (_, defines))| {
            let (state, migration) = match newest.remove(&path) {
                Some((migration, true)) => (ComponentState::InMigration, Some(migration)),
                Some((migration, false)) => (ComponentState::Changed, Some(migration)),
                None => (ComponentState::NotIncluded, None),
            };
            ComponentStatus {
                path,
                state,
                migration,
                defines,
            }
        })
        .collect())
}

/// Every file under `components/` (none when the folder does not exist): its blob hash as
/// the pin store computes it, and what it defines.
fn current_components(
    project: &Project,
    dir: &Path,
) -> Result<BTreeMap<String, (ObjectHash, Vec<Defined>)>, BuildError> {
    let mut files = BTreeMap::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    let io = |path: &Path, source: std::io::Error| BuildError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    };
    for entry in walkdir::WalkDir::new(dir).follow_links(true) {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            io(&path, e.into())
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let bytes = std::fs::read(entry.path()).map_err(|e| io(entry.path(), e))?;
        let Ok(relative) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let path = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let defines = std::str::from_utf8(&bytes)
            .map(defined_objects)
            .unwrap_or_default();
        files.insert(path, (project.store.algorithm().hash(&bytes), defines));
    }
    Ok(files)
}
