//! A spawn project opened from its `spawn.toml`: the pipeline that renders, pins and
//! analyses its migrations. `compile()` and the `spawn` CLI both go through here, so they
//! never disagree about what a migration renders to.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use spawn_model::{component_of_line, LineOrigin, Migration};

use crate::analyze::{self, Analysis};
use crate::checksum;
use crate::config::SpawnToml;
use crate::error::BuildError;
use crate::layout::{Layout, MigrationDir};
use crate::pin::{self, ObjectHash, PinStore, Snapshot};
use crate::render::{self, ComponentSource, RenderRequest};
use crate::variables;

/// Where a render takes its components from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinMode {
    /// From the migration's pin if it has one, else from the working tree.
    PinnedIfPossible,
    /// From the working tree, even for a pinned migration.
    WorkingTree,
}

/// One migration rendered for one environment and analysed.
#[derive(Debug, Clone)]
pub struct CompiledRender {
    pub environment: String,
    pub sql: String,
    pub analysis: Analysis,
    pub sha256: [u8; 32],
    pub xxh3_128: [u8; 16],
    /// Which component produced which rendered lines, in line order (may be empty).
    pub origins: Vec<LineOrigin>,
}

impl CompiledRender {
    /// This render of migration `name` (rendered from `pin`, if pinned) in the form the
    /// migrator applies: what the CLI runs and what `embed_migrations!()` embeds.
    #[must_use]
    pub fn into_migration(self, name: &str, pin: Option<&ObjectHash>) -> Migration {
        let Analysis {
            mode,
            body,
            statements,
            lock_timeout,
            statement_timeout,
        } = self.analysis;
        Migration {
            name: Cow::Owned(name.to_owned()),
            sql: Cow::Owned(self.sql),
            body,
            sha256: self.sha256,
            xxh3_128: self.xxh3_128,
            pin_hash: pin.map(|p| Cow::Owned(p.to_string())),
            mode,
            statements: Cow::Owned(statements),
            origins: Cow::Owned(self.origins),
            lock_timeout: lock_timeout.map(Cow::Owned),
            statement_timeout: statement_timeout.map(Cow::Owned),
        }
    }
}

/// One migration with its renders.
#[derive(Debug, Clone)]
pub struct CompiledMigration {
    pub name: String,
    /// The pin it was rendered from (`None` when rendered from the working tree).
    pub pin: Option<ObjectHash>,
    pub renders: Vec<CompiledRender>,
}

/// A project: its configuration, folders and pin store, with caches for one run.
pub struct Project {
    pub config: SpawnToml,
    pub layout: Layout,
    pub store: PinStore,
    snapshots: HashMap<ObjectHash, Arc<Snapshot>>,
    variables: HashMap<PathBuf, minijinja::Value>,
    /// Every file read so far (for cargo's rerun-if-changed).
    pub files_read: BTreeSet<PathBuf>,
}

impl Project {
    /// Opens the project described by `spawn_toml`.
    pub fn open(spawn_toml: &Path) -> Result<Self, BuildError> {
        let config = SpawnToml::load(spawn_toml)?;
        let layout = Layout::new(config.spawn_folder.clone());
        let store = PinStore::new(layout.pinned_dir());
        let mut files_read = BTreeSet::new();
        files_read.insert(spawn_toml.to_path_buf());
        Ok(Self {
            config,
            layout,
            store,
            snapshots: HashMap::new(),
            variables: HashMap::new(),
            files_read,
        })
    }

    /// Every migration folder, in apply order.
    pub fn migrations(&self) -> Result<Vec<MigrationDir>, BuildError> {
        Ok(self.layout.migrations()?)
    }

    /// The pin recorded in the migration's lock.toml, if any.
    pub fn pin_of(&mut self, migration: &MigrationDir) -> Result<Option<ObjectHash>, BuildError> {
        let lock = migration.lock_toml();
        // A path that does not exist would make cargo rerun the build script every time;
        // a lock.toml appearing later is seen through the watched migrations/ folder.
        if lock.is_file() {
            self.files_read.insert(lock.clone());
        }
        pin::read_lock(&lock).map_err(|source| BuildError::Pin {
            migration: migration.name.clone(),
            source,
        })
    }

    /// Pins the current `components/` for `migration`: writes the objects and lock.toml.
    pub fn pin(&mut self, migration: &MigrationDir) -> Result<ObjectHash, BuildError> {
        let wrap = |source| BuildError::Pin {
            migration: migration.name.clone(),
            source,
        };
        let root = self
            .store
            .pin(&self.layout.components_dir())
            .map_err(wrap)?;
        pin::write_lock(&migration.lock_toml(), &root).map_err(wrap)?;
        Ok(root)
    }

    /// The snapshot of `root`, verified, cached for this run.
    pub fn snapshot(
        &mut self,
        migration: &str,
        root: &ObjectHash,
    ) -> Result<Arc<Snapshot>, BuildError> {
        if let Some(s) = self.snapshots.get(root) {
            return Ok(s.clone());
        }
        let snapshot = self
            .store
            .snapshot(root)
            .map_err(|source| BuildError::Pin {
                migration: migration.to_owned(),
                source,
            })?;
        let snapshot = Arc::new(snapshot);
        self.files_read.extend(snapshot.object_paths());
        self.snapshots.insert(*root, snapshot.clone());
        Ok(snapshot)
    }

    /// The parsed variables file, cached for this run.
    pub fn variables(&mut self, path: &Path) -> Result<minijinja::Value, BuildError> {
        if let Some(v) = self.variables.get(path) {
            return Ok(v.clone());
        }
        self.files_read.insert(path.to_path_buf());
        let value = variables::load_variables(path)?;
        self.variables.insert(path.to_path_buf(), value.clone());
        Ok(value)
    }

    /// Renders and analyses `migration` for `environment`.
    pub fn compile_render(
        &mut self,
        migration: &MigrationDir,
        pin: Option<&ObjectHash>,
        environment: &str,
        variables: Option<&minijinja::Value>,
    ) -> Result<CompiledRender, BuildError> {
        let components = match pin {
            Some(root) => ComponentSource::Pinned(self.snapshot(&migration.name, root)?),
            None => ComponentSource::Directory(self.layout.components_dir()),
        };
        let up_sql = migration.up_sql();
        let rendered = render::render(&RenderRequest {
            migration_name: &migration.name,
            up_sql_path: &up_sql,
            components: &components,
            environment,
            variables,
        })
        .map_err(|source| BuildError::Render {
            environment: environment.to_owned(),
            source,
        })?;
        self.files_read.extend(rendered.files_read.iter().cloned());
        let analysis = analyze::analyze(&rendered.sql).map_err(|errors| BuildError::Analyze {
            migration: migration.name.clone(),
            environment: environment.to_owned(),
            up_sql: up_sql.clone(),
            problems: errors
                .into_iter()
                .map(|e| {
                    let from = origin_of(&rendered.origins, e.line);
                    (e, from)
                })
                .collect(),
        })?;
        Ok(CompiledRender {
            environment: environment.to_owned(),
            sha256: checksum::sha256_normalized(&rendered.sql),
            xxh3_128: checksum::xxh3_128(&rendered.sql),
            sql: rendered.sql,
            analysis,
            origins: rendered.origins,
        })
    }
}

/// The component that produced rendered line `line`, if known (see
/// [`spawn_model::component_of_line`]).
pub fn origin_of(origins: &[LineOrigin], line: u32) -> Option<String> {
    component_of_line(origins, line)
        .flatten()
        .map(str::to_owned)
}
