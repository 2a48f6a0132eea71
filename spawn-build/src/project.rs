//! A spawn project opened from its `spawn.toml`: the pipeline that renders, pins and
//! analyses its migrations. `compile()` and the `spawn` CLI both go through here, so they
//! never disagree about what a migration renders to, whether a pin is required, or how a
//! problem is worded. The pipeline itself ([`Project::render_all`], [`Project::render_sql`],
//! [`Project::verify_pins`], [`Project::pin_migrations`] and their types) is written in
//! `pipeline.rs` and re-exported here.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use spawn_model::{component_of_line, Down, LineOrigin, Migration};

use crate::analyze::Analysis;
use crate::cache::RenderCache;
use crate::error::BuildError;
use crate::layout::{Layout, MigrationDir};
use crate::pin::{self, ObjectHash, PinError, PinStore, Snapshot};
use crate::pipeline::{analysed, EnvVariables};
use crate::spawn_toml::SpawnToml;
use crate::variables;

pub use crate::pipeline::{
    PinPolicy, PinReport, PinnedMigration, Pinning, RenderOptions, Renders, SqlRender,
    UndefinedVariable, VariablesSource,
};

/// One migration rendered for one environment and analysed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CompiledRender {
    pub environment: String,
    pub sql: String,
    pub analysis: Analysis,
    pub sha256: [u8; 32],
    pub xxh3_128: [u8; 16],
    /// Which component produced which rendered lines, in line order (may be empty).
    pub origins: Vec<LineOrigin>,
    /// The migration's `down.sql`, rendered for the same environment from the same pin, if
    /// it has one.
    pub down: Option<CompiledDown>,
    /// Whether the migration is repeatable (`-- spawn:repeatable`; rendered from the working
    /// tree, applied again whenever its checksum changes).
    pub repeatable: bool,
    /// The migration's tenant part (`tenant.sql`), rendered for the same environment from
    /// the same pin with `tenant` standing for each tenant's schema
    /// ([`spawn_model::TENANT_MARKER`]), if it has one.
    pub tenant: Option<Box<CompiledRender>>,
}

/// A migration's `down.sql` rendered for one environment and analysed (see
/// [`CompiledRender::down`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CompiledDown {
    pub sql: String,
    pub analysis: Analysis,
    pub sha256: [u8; 32],
    /// Which component produced which rendered lines, in line order (may be empty).
    pub origins: Vec<LineOrigin>,
}

impl CompiledDown {
    /// In the form the migrator runs (see [`spawn_model::Down`]).
    #[must_use]
    pub fn into_down(self) -> Down {
        Down {
            sql: Cow::Owned(self.sql),
            body: self.analysis.body,
            sha256: self.sha256,
            statements: Cow::Owned(self.analysis.statements),
            origins: Cow::Owned(self.origins),
        }
    }
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
        let down = self.down.map(CompiledDown::into_down);
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
            down,
            repeatable: self.repeatable,
        }
    }
}

/// One migration with its renders.
#[derive(Debug, Clone)]
#[non_exhaustive]
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
    /// Objects read and verified this run.
    verified: HashSet<ObjectHash>,
    /// The pin of `components/` this run made, shared by every migration it pins.
    new_pin: Option<ObjectHash>,
    pub(crate) cache: Option<RenderCache>,
    /// Every file read so far (for cargo's rerun-if-changed).
    pub files_read: BTreeSet<PathBuf>,
    /// Every file and folder written so far: lock files, pinned objects, their folders.
    pub files_written: BTreeSet<PathBuf>,
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
            verified: HashSet::new(),
            new_pin: None,
            cache: None,
            files_read,
            files_written: BTreeSet::new(),
        })
    }

    /// Every migration folder, in apply order.
    pub fn migrations(&self) -> Result<Vec<MigrationDir>, BuildError> {
        Ok(self.layout.migrations()?)
    }

    /// The migrations without a `down.sql`, in apply order.
    pub fn migrations_without_down(&self) -> Result<Vec<String>, BuildError> {
        Ok(self
            .migrations()?
            .into_iter()
            .filter(|m| !m.down_sql().is_file())
            .map(|m| m.name)
            .collect())
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
    /// `components/` is pinned once per run, however many migrations are pinned.
    pub fn pin(&mut self, migration: &MigrationDir) -> Result<ObjectHash, BuildError> {
        let wrap = |source| BuildError::Pin {
            migration: migration.name.clone(),
            source,
        };
        let root = match self.new_pin {
            Some(root) => root,
            None => {
                let root = self
                    .store
                    .pin(&self.layout.components_dir())
                    .map_err(wrap)?;
                self.note_objects_written(&root).map_err(wrap)?;
                self.new_pin = Some(root);
                root
            }
        };
        let lock = migration.lock_toml();
        pin::write_lock(&lock, &root).map_err(wrap)?;
        self.files_written.insert(lock);
        self.files_written.insert(migration.dir.clone());
        Ok(root)
    }

    /// Records the objects of the snapshot `root` and their folders as written (pinning may
    /// have written any of them).
    fn note_objects_written(&mut self, root: &ObjectHash) -> Result<(), PinError> {
        let snapshot = self.load_snapshot(root)?;
        for object in snapshot.object_paths() {
            if let Some(folder) = object.parent() {
                self.files_written.insert(folder.to_path_buf());
            }
            self.files_written.insert(object);
        }
        self.files_written.insert(self.store.dir().to_path_buf());
        self.files_written.insert(self.layout.spawn_folder.clone());
        Ok(())
    }

    /// The snapshot of `root`, verified, cached for this run.
    pub fn snapshot(
        &mut self,
        migration: &str,
        root: &ObjectHash,
    ) -> Result<Arc<Snapshot>, BuildError> {
        self.load_snapshot(root)
            .map_err(|source| BuildError::PinnedObject {
                migrations: vec![migration.to_owned()],
                source: Box::new(source),
            })
    }

    pub(crate) fn load_snapshot(&mut self, root: &ObjectHash) -> Result<Arc<Snapshot>, PinError> {
        if let Some(s) = self.snapshots.get(root) {
            return Ok(s.clone());
        }
        let snapshot = Arc::new(self.store.snapshot(root)?);
        self.files_read.extend(snapshot.object_paths());
        self.snapshots.insert(*root, snapshot.clone());
        Ok(snapshot)
    }

    /// Reads the object `hash` and checks its bytes, once per run.
    pub(crate) fn verify_object(&mut self, hash: &ObjectHash) -> Result<(), PinError> {
        if !self.verified.contains(hash) {
            self.store.read_object(hash)?;
            self.verified.insert(*hash);
        }
        Ok(())
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

    /// Renders and analyses `migration` for `environment` from `pin` (or the working tree).
    pub fn compile_render(
        &mut self,
        migration: &MigrationDir,
        pin: Option<&ObjectHash>,
        environment: &str,
        variables: Option<&minijinja::Value>,
    ) -> Result<CompiledRender, BuildError> {
        let vars = EnvVariables {
            environment: environment.to_owned(),
            value: variables.cloned(),
            key: None,
        };
        let rendered = self.render_cached(migration, pin, &vars)?;
        let mut render = analysed(migration, environment, rendered)?;
        render.down = self.render_down(migration, pin, &vars)?;
        render.tenant = self.render_tenant(migration, pin, &vars)?.map(Box::new);
        Ok(render)
    }
}

/// The component that produced rendered line `line`, if known (see
/// [`spawn_model::component_of_line`]).
pub fn origin_of(origins: &[LineOrigin], line: u32) -> Option<String> {
    component_of_line(origins, line)
        .flatten()
        .map(str::to_owned)
}
