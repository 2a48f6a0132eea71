//! The pipeline of a [`Project`]: "choose the components under a pin policy → render every
//! environment → analyse", written once for [`crate::compile()`] and every `spawn` command.
//!
//! * [`Project::render_all`] renders every migration for the chosen environments under a
//!   [`PinPolicy`], and returns what rendered with every problem collected and grouped
//!   ([`Renders`], [`Problems`]), and every undefined name printed as nothing, once per file
//!   and name ([`UndefinedVariable`]);
//! * [`Project::render_sql`] renders one migration for one environment, not yet analysed
//!   (what `spawn migration build` prints);
//! * [`Project::verify_pins`] checks every migration's pinned snapshot, reading each object
//!   once; [`PinStore::verify`](crate::pin::PinStore::verify) checks the files of the store;
//! * [`Project::pin_migrations`] pins `components/` once for any number of migrations.
//!
//! A migration folder whose name breaks [`layout::check_migration_folder`] is an error in
//! [`Project::render_all`] and [`Project::pin_migrations`] (it is neither rendered, pinned
//! nor applied), with the rename to make.
//!
//! With [`Project::cache_renders_in`] (what `compile()` does, in `OUT_DIR`), a render whose
//! inputs are unchanged since the last run comes from the cache (see [`crate::cache`]).
//! The types are public as `spawn_build::project::*`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::analyze;
use crate::cache::{self, Analysed, KeyInputs, Record, RenderCache};
use crate::checksum;
use crate::error::BuildError;
use crate::layout::{self, MigrationDir};
use crate::pin::ObjectHash;
use crate::problems::Problems;
use crate::project::{origin_of, CompiledDown, CompiledMigration, CompiledRender, Project};
use crate::render::{
    self, ComponentSource, RenderError, RenderRequest, Rendered, TemplateError, UndefinedUse,
};
use spawn_model::TransactionMode;

/// What to do with migrations that have no pin (no `lock.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinPolicy {
    /// Refuse them: one "not pinned" problem names them all, with the command that pins them
    /// (locked builds, `spawn migration apply` without `--no-pin`, `build --pinned`).
    Require,
    /// Pin the current `components/` for them (writing `lock.toml` and `pinned/`) and render
    /// from the new pin (debug builds outside CI).
    AutoPin,
    /// Render them from the working tree's `components/`, pinned ones from their pin
    /// (`--no-pin`, `Config::auto_pin(false)`, `spawn check`, `spawn migration status`).
    WorkingTreeIfUnpinned,
    /// Render every migration from the working tree's `components/`, pinned or not
    /// (`spawn migration build` without `--pinned`).
    WorkingTree,
}

/// Which variables file each environment renders with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum VariablesSource {
    /// The one `spawn.toml` names for the environment
    /// ([`SpawnToml::variables_for`](crate::spawn_toml::SpawnToml::variables_for)).
    #[default]
    SpawnToml,
    /// This file for every environment; `None` renders without variables.
    File(Option<PathBuf>),
}

/// What [`Project::render_all`] renders, and how.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RenderOptions {
    pub policy: PinPolicy,
    /// The environments, in the order each migration's renders are listed.
    pub environments: Vec<String>,
    pub variables: VariablesSource,
    /// Only the migrations with these names (all when `None`).
    pub only: Option<Vec<String>>,
}

impl RenderOptions {
    /// `environments` under `policy`, with the variables files spawn.toml names.
    pub fn new<I, S>(policy: PinPolicy, environments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            policy,
            environments: environments.into_iter().map(Into::into).collect(),
            variables: VariablesSource::SpawnToml,
            only: None,
        }
    }

    /// Renders only the migrations named in `names` (the others are left out of
    /// [`Renders`] as if they did not exist; their problems are not reported).
    #[must_use]
    pub fn only<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.only = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Renders with `variables` instead.
    #[must_use]
    pub fn variables(mut self, variables: VariablesSource) -> Self {
        self.variables = variables;
        self
    }
}

/// What [`Project::render_all`] rendered, and every problem it met.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Renders {
    /// Every migration whose components could be chosen, in apply order, with the renders
    /// that succeeded.
    pub migrations: Vec<CompiledMigration>,
    /// Migrations pinned by this run ([`PinPolicy::AutoPin`]).
    pub newly_pinned: Vec<String>,
    /// Migrations rendered from the working tree because they have no pin.
    pub unpinned: Vec<String>,
    /// How many renders came from the render cache instead of being rendered again.
    pub reused: usize,
    /// Every problem, grouped: nothing above is complete unless this is empty.
    pub problems: Problems,
    /// Undefined names printed as nothing, each name of each file once, in the order found.
    pub warnings: Vec<UndefinedVariable>,
    /// Draft migrations (`-- spawn:draft`), in apply order: rendered from the working tree
    /// and checked (their problems are in `problems`), but not in `migrations`: never
    /// applied, embedded or pinned.
    pub drafts: Vec<String>,
}

/// An undefined name that a migration's `{{ … }}` printed as nothing (as the original spawn
/// did): the render succeeds, and the SQL is probably broken (`VALUES (, 3)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndefinedVariable {
    pub migration: String,
    /// Where it is printed, and the name.
    pub at: UndefinedUse,
    /// The environments it is undefined in.
    pub environments: Vec<String>,
}

impl fmt::Display for UndefinedVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at.line {
            Some(line) => write!(f, "{}:{line}: ", self.at.file)?,
            None => write!(f, "{}: ", self.at.file)?,
        }
        write!(
            f,
            "`{}` is undefined and renders as nothing (migration {}, environment{} {}); \
             define it in the variables file, or guard it with `is defined` or `|default(…)`",
            self.at.name,
            self.migration,
            if self.environments.len() == 1 {
                ""
            } else {
                "s"
            },
            self.environments.join(", ")
        )
    }
}

impl Renders {
    /// Notes the undefined names of a render of `migration` for `environment`, merging one
    /// already noted for another environment.
    fn note_undefined(&mut self, migration: &str, environment: &str, uses: &[UndefinedUse]) {
        for used in uses {
            let same = self.warnings.iter_mut().find(|w| {
                w.migration == migration && w.at.file == used.file && w.at.name == used.name
            });
            match same {
                Some(w) if !w.environments.iter().any(|e| e == environment) => {
                    w.environments.push(environment.to_owned());
                }
                Some(_) => {}
                None => self.warnings.push(UndefinedVariable {
                    migration: migration.to_owned(),
                    at: used.clone(),
                    environments: vec![environment.to_owned()],
                }),
            }
        }
    }
}

/// One migration rendered for one environment by [`Project::render_sql`], not analysed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqlRender {
    /// The migration's pin (from its lock.toml), whether or not this render used it.
    pub pin: Option<ObjectHash>,
    /// Whether the components came from the pin (else from the working tree).
    pub from_pin: bool,
    pub rendered: Rendered,
}

/// What [`Project::verify_pins`] found.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct PinReport {
    /// How many migrations have a pin.
    pub pinned: usize,
    /// The migrations without one, in apply order.
    pub unpinned: Vec<String>,
    /// Unreadable lock files, and missing or corrupt objects (each once, with the migrations
    /// pinned to it).
    pub problems: Problems,
}

/// One migration pinned by [`Project::pin_migrations`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PinnedMigration {
    pub name: String,
    pub pin: ObjectHash,
    /// Its pin before, if it had one.
    pub previous: Option<ObjectHash>,
}

/// What [`Project::pin_migrations`] pinned, and what it refused to pin.
#[derive(Debug, Default)]
pub struct Pinning {
    /// The migrations pinned, in the order given.
    pub pinned: Vec<PinnedMigration>,
    /// The migrations left as they were because they do not render (or could not be pinned).
    pub refused: Vec<String>,
    /// Why, grouped.
    pub problems: Problems,
}

/// Where one migration's components come from, as [`Project::choose_components`] decided.
struct Choice {
    /// The pin in its lock.toml (after pinning, for a migration this run pinned).
    lock: Option<ObjectHash>,
    /// The pin to render from; `None`: the working tree.
    render_from: Option<ObjectHash>,
    newly_pinned: bool,
}

/// The variables of one environment, loaded once per run.
pub(crate) struct EnvVariables {
    pub(crate) environment: String,
    pub(crate) value: Option<minijinja::Value>,
    /// `none` or the hash of the file, for the render cache; `None` when unknown (no caching).
    pub(crate) key: Option<String>,
}

impl Project {
    /// Takes renders whose inputs are unchanged from the cache in `dir` (kept by the last
    /// run), and keeps this run's there with [`Project::save_render_cache`].
    pub fn cache_renders_in(&mut self, dir: &Path) {
        self.cache = RenderCache::open(dir, &self.config.path);
    }

    /// Writes the render cache (what this run rendered or reused), if there is one and it
    /// changed; whether it wrote it.
    pub fn save_render_cache(&mut self) -> Result<bool, BuildError> {
        match self.cache.take() {
            Some(cache) => cache.save(),
            None => Ok(false),
        }
    }

    /// The migrations without a pin, in apply order.
    pub fn unpinned_migrations(&mut self) -> Result<Vec<MigrationDir>, BuildError> {
        let mut unpinned = Vec::new();
        for m in self.migrations()? {
            let markers = m.markers();
            if self.pin_of(&m)?.is_none() && !markers.draft && !markers.repeatable {
                unpinned.push(m);
            }
        }
        Ok(unpinned)
    }

    /// Pins each of `migrations` that renders from the working tree's `components/` for every
    /// environment of `options` (its policy is not used; see [`Project::pin`]). A migration
    /// that does not render is not pinned: nothing is written for it, and why is in
    /// [`Pinning::problems`] with its name in [`Pinning::refused`].
    pub fn pin_migrations(
        &mut self,
        migrations: &[MigrationDir],
        options: &RenderOptions,
    ) -> Pinning {
        let mut out = Pinning::default();
        let environments =
            self.env_variables(&options.environments, &options.variables, &mut out.problems);
        if !out.problems.is_empty() {
            // Without every environment's variables, nothing can be shown to render.
            out.refused = migrations.iter().map(|m| m.name.clone()).collect();
            return out;
        }
        let now = layout::timestamp(SystemTime::now());
        for m in migrations {
            if let Err(e) = layout::check_migration_folder(&m.name, &now) {
                out.problems.push(BuildError::Layout(e.into()));
                out.refused.push(m.name.clone());
                continue;
            }
            let markers = m.markers();
            if markers.draft {
                out.problems.push(BuildError::Draft {
                    migration: m.name.clone(),
                });
                out.refused.push(m.name.clone());
                continue;
            }
            if markers.repeatable {
                out.problems.push(BuildError::RepeatableNotPinned {
                    migration: m.name.clone(),
                });
                out.refused.push(m.name.clone());
                continue;
            }
            let problems = self.working_tree_problems(m, &environments);
            if !problems.is_empty() {
                out.problems.extend(problems);
                out.refused.push(m.name.clone());
                continue;
            }
            let pinned = self.pin_of(m).and_then(|previous| {
                Ok(PinnedMigration {
                    name: m.name.clone(),
                    pin: self.pin(m)?,
                    previous,
                })
            });
            match pinned {
                Ok(pinned) => out.pinned.push(pinned),
                Err(e) => {
                    out.problems.push(e);
                    out.refused.push(m.name.clone());
                }
            }
        }
        out
    }

    /// Checks every migration's pin: its lock.toml, and every tree and file of its snapshot.
    /// Each snapshot and each object is read once, and a broken object is one problem naming
    /// the migrations pinned to it. `Err` only when the migrations cannot be listed.
    pub fn verify_pins(&mut self) -> Result<PinReport, BuildError> {
        let mut report = PinReport::default();
        let mut by_root: Vec<(ObjectHash, Vec<String>)> = Vec::new();
        for m in self.migrations()? {
            match self.pin_of(&m) {
                Ok(Some(root)) => {
                    report.pinned += 1;
                    match by_root.iter_mut().find(|(r, _)| *r == root) {
                        Some((_, names)) => names.push(m.name),
                        None => by_root.push((root, vec![m.name])),
                    }
                }
                // Drafts and repeatable migrations are never pinned.
                Ok(None) if m.markers() != crate::layout::Markers::default() => {}
                Ok(None) => report.unpinned.push(m.name),
                Err(e) => report.problems.push(e),
            }
        }
        for (root, migrations) in by_root {
            let broken = |source| BuildError::PinnedObject {
                migrations: migrations.clone(),
                source: Box::new(source),
            };
            let snapshot = match self.load_snapshot(&root) {
                Ok(snapshot) => snapshot,
                Err(e) => {
                    report.problems.push(broken(e));
                    continue;
                }
            };
            for (_, hash) in snapshot.files() {
                if let Err(e) = self.verify_object(hash) {
                    report.problems.push(broken(e));
                }
            }
        }
        Ok(report)
    }

    /// The variables of each environment. An environment whose file cannot be loaded is left
    /// out, with one problem per file.
    pub(crate) fn env_variables(
        &mut self,
        environments: &[String],
        source: &VariablesSource,
        problems: &mut Problems,
    ) -> Vec<EnvVariables> {
        let mut loaded = Vec::new();
        for environment in environments {
            let path = match source {
                VariablesSource::SpawnToml => self
                    .config
                    .variables_for(environment)
                    .map(Path::to_path_buf),
                VariablesSource::File(path) => path.clone(),
            };
            let Some(path) = path else {
                loaded.push(EnvVariables {
                    environment: environment.clone(),
                    value: None,
                    key: Some("none".to_owned()),
                });
                continue;
            };
            match self.variables(&path) {
                Ok(value) => loaded.push(EnvVariables {
                    environment: environment.clone(),
                    value: Some(value),
                    key: self.cache.as_ref().and_then(|_| cache::file_digest(&path)),
                }),
                Err(e) => problems.push(e),
            }
        }
        loaded
    }

    /// Renders and analyses every migration for every environment of `options`.
    pub fn render_all(&mut self, options: &RenderOptions) -> Renders {
        let mut out = Renders::default();
        let migrations = match self.migrations() {
            Ok(migrations) => migrations,
            Err(e) => {
                out.problems.push(e);
                return out;
            }
        };
        let environments =
            self.env_variables(&options.environments, &options.variables, &mut out.problems);
        if let (Some(cache), Some(_)) = (self.cache.as_mut(), &options.only) {
            cache.partial();
        }
        let hits = |project: &Self| project.cache.as_ref().map_or(0, RenderCache::hits);
        let hits_before = hits(self);
        let now = layout::timestamp(SystemTime::now());
        let wanted = |m: &MigrationDir| {
            options
                .only
                .as_ref()
                .is_none_or(|names| names.contains(&m.name))
        };
        // Each `up.sql` is read into the same buffer: a long history reads tens of megabytes,
        // and memory allocated afresh for each file is faulted in again each time.
        let mut up_sql = Vec::new();
        for m in migrations.iter().filter(|m| wanted(m)) {
            // A misnamed folder is neither rendered nor pinned (nor applied).
            match layout::check_migration_folder(&m.name, &now) {
                Ok(()) => {
                    let read = read_into(&mut up_sql, &m.up_sql());
                    let up_sql = read.then_some(&up_sql[..]);
                    self.render_migration(m, up_sql, options.policy, &environments, &mut out)
                }
                Err(e) => out.problems.push(BuildError::Layout(e.into())),
            }
        }
        out.reused = hits(self) - hits_before;
        out
    }

    /// Renders `m` for every environment into `out`. `up_sql`: the content of its `up.sql`,
    /// read once for its markers and every environment's cache key (rendering reads it again
    /// only when a render is not cached); `None` when it could not be read (rendering reports
    /// why).
    fn render_migration(
        &mut self,
        m: &MigrationDir,
        up_sql: Option<&[u8]>,
        policy: PinPolicy,
        environments: &[EnvVariables],
        out: &mut Renders,
    ) {
        self.files_read.insert(m.up_sql());
        // A draft is rendered from the working tree, never pinned, and not handed on; a
        // repeatable migration is rendered from the working tree and never pinned.
        let markers = m.markers_of(up_sql);
        let draft = markers.draft;
        let policy = if draft || markers.repeatable {
            PinPolicy::WorkingTree
        } else {
            policy
        };
        let choice = match self.choose_components(m, policy, environments) {
            Ok(choice) => choice,
            Err(e) => {
                out.problems.push(e);
                return;
            }
        };
        if choice.newly_pinned {
            out.newly_pinned.push(m.name.clone());
        }
        if choice.lock.is_none() && !draft && !markers.repeatable {
            out.unpinned.push(m.name.clone());
        }
        let mut renders = Vec::new();
        for vars in environments {
            let compiled = self
                .render_analysed(m, choice.render_from.as_ref(), up_sql, vars, out)
                .and_then(|mut render| {
                    render.down = self.render_down(m, choice.render_from.as_ref(), vars)?;
                    render.tenant = self
                        .render_tenant(m, choice.render_from.as_ref(), vars)?
                        .map(Box::new);
                    render.repeatable = markers.repeatable;
                    if markers.repeatable && render.analysis.mode == TransactionMode::NoTransaction
                    {
                        return Err(BuildError::RepeatableNoTransaction {
                            migration: m.name.clone(),
                            up_sql: m.up_sql(),
                        });
                    }
                    Ok(render)
                });
            match compiled {
                Ok(render) => renders.push(render),
                Err(e) => out.problems.push(e),
            }
        }
        if draft {
            out.drafts.push(m.name.clone());
            return;
        }
        out.migrations.push(CompiledMigration {
            name: m.name.clone(),
            pin: choice.render_from,
            renders,
        });
    }

    /// Every problem rendering and analysing `m` from the working tree's `components/` for
    /// each of `environments` (what pinning it now would freeze).
    fn working_tree_problems(
        &mut self,
        m: &MigrationDir,
        environments: &[EnvVariables],
    ) -> Problems {
        let mut problems = Problems::new();
        for vars in environments {
            if let Err(e) = self
                .render_cached(m, None, vars)
                .and_then(|rendered| analysed(m, &vars.environment, rendered))
            {
                problems.push(e);
            }
            if let Err(e) = self.render_down(m, None, vars) {
                problems.push(e);
            }
            if let Err(e) = self.render_tenant(m, None, vars) {
                problems.push(e);
            }
        }
        problems
    }

    /// Renders `migration` for `environment` under `policy` with `variables`; the SQL is not
    /// analysed (see [`analyze::analyze`]).
    pub fn render_sql(
        &mut self,
        migration: &MigrationDir,
        environment: &str,
        policy: PinPolicy,
        variables: &VariablesSource,
    ) -> Result<SqlRender, BuildError> {
        let mut problems = Problems::new();
        let vars = self.env_variables(&[environment.to_owned()], variables, &mut problems);
        problems.into_result()?;
        let Some(vars) = vars.first() else {
            return Err(BuildError::Environment(format!(
                "no variables for environment {environment}"
            )));
        };
        let choice = self.choose_components(migration, policy, std::slice::from_ref(vars))?;
        let rendered = self.render_cached(migration, choice.render_from.as_ref(), vars)?;
        Ok(SqlRender {
            pin: choice.lock,
            from_pin: choice.render_from.is_some(),
            rendered,
        })
    }

    /// Where `m`'s components come from under `policy` (pinning it for
    /// [`PinPolicy::AutoPin`] once it renders from `components/` for every one of
    /// `environments`), or why it cannot be rendered.
    fn choose_components(
        &mut self,
        m: &MigrationDir,
        policy: PinPolicy,
        environments: &[EnvVariables],
    ) -> Result<Choice, BuildError> {
        let lock = self.pin_of(m)?;
        let choice = |render_from: Option<ObjectHash>, newly_pinned| Choice {
            lock: render_from.or(lock),
            render_from,
            newly_pinned,
        };
        Ok(match (policy, lock) {
            (PinPolicy::WorkingTree, _) => choice(None, false),
            (_, Some(root)) => choice(Some(root), false),
            (PinPolicy::Require, None) => {
                return Err(BuildError::NotPinned {
                    migrations: vec![m.name.clone()],
                    hint: None,
                })
            }
            (PinPolicy::AutoPin, None) => {
                // Never pin what does not render: a pin that this migration cannot render
                // from would only have to be replaced (and would fail as "not found in the
                // pinned snapshot" once components/ is fixed).
                self.working_tree_problems(m, environments).into_result()?;
                choice(Some(self.pin(m)?), true)
            }
            (PinPolicy::WorkingTreeIfUnpinned, None) => choice(None, false),
        })
    }

    /// Renders `file`, a template beside `m`'s `up.sql` (`down.sql`, `tenant.sql`), from
    /// `pin` (the same pin as `up.sql`; or the working tree) with the `extra` variables.
    fn render_beside(
        &mut self,
        m: &MigrationDir,
        file: &Path,
        pin: Option<&ObjectHash>,
        vars: &EnvVariables,
        extra: &[(&str, minijinja::Value)],
    ) -> Result<Rendered, BuildError> {
        self.files_read.insert(file.to_path_buf());
        let components = match pin {
            Some(root) => ComponentSource::Pinned(self.snapshot(&m.name, root)?),
            None => ComponentSource::Directory(self.layout.components_dir()),
        };
        let rendered = render::render_with(
            &RenderRequest {
                migration_name: &m.name,
                up_sql_path: file,
                components: &components,
                environment: &vars.environment,
                variables: vars.value.as_ref(),
            },
            extra,
        )
        .map_err(|source| match source {
            RenderError::Pinned { migration, source } => BuildError::PinnedObject {
                migrations: vec![migration],
                source,
            },
            source => BuildError::Render {
                environment: vars.environment.clone(),
                source,
            },
        })?;
        self.files_read.extend(rendered.files_read.iter().cloned());
        Ok(rendered)
    }

    /// Renders and analyses `m`'s `down.sql`, if it has one, from `pin` (the same pin as its
    /// `up.sql`; or the working tree). Not cached: a `down.sql` is small and rarely rendered
    /// in bulk. A `down.sql` runs in one transaction with its `REVERT` row, so one marked
    /// `-- spawn:no-transaction` is refused.
    pub(crate) fn render_down(
        &mut self,
        m: &MigrationDir,
        pin: Option<&ObjectHash>,
        vars: &EnvVariables,
    ) -> Result<Option<CompiledDown>, BuildError> {
        let down_sql = m.down_sql();
        if !down_sql.is_file() {
            return Ok(None);
        }
        let rendered = self.render_beside(m, &down_sql, pin, vars, &[])?;
        let analysis = analyze_file(
            m,
            &vars.environment,
            (&down_sql, analyze::RunsIn::OneTransaction),
            &rendered,
        )?;
        if analysis.mode == TransactionMode::NoTransaction {
            return Err(BuildError::DownNoTransaction {
                migration: m.name.clone(),
                down_sql,
            });
        }
        Ok(Some(CompiledDown {
            sha256: checksum::sha256_normalized(&rendered.sql),
            sql: rendered.sql,
            analysis,
            origins: rendered.origins,
        }))
    }

    /// Renders and analyses `m`'s `tenant.sql`, if it has one, from `pin` (the same pin as
    /// its `up.sql`; or the working tree), with the template variable `tenant` standing for
    /// each tenant's schema name ([`spawn_model::TENANT_MARKER`], replaced by the runtime for
    /// each tenant, so `{{ tenant }}` and `{{ tenant | escape_identifier }}` both work). Not
    /// cached, like `down.sql`.
    pub(crate) fn render_tenant(
        &mut self,
        m: &MigrationDir,
        pin: Option<&ObjectHash>,
        vars: &EnvVariables,
    ) -> Result<Option<CompiledRender>, BuildError> {
        let tenant_sql = m.tenant_sql();
        if !tenant_sql.is_file() {
            return Ok(None);
        }
        let marker = [("tenant", minijinja::Value::from(spawn_model::TENANT_MARKER))];
        let rendered = self.render_beside(m, &tenant_sql, pin, vars, &marker)?;
        Ok(Some(analysed_file(
            m,
            &vars.environment,
            &tenant_sql,
            rendered,
        )?))
    }

    /// Renders `m` from `pin` (or the working tree), from the render cache when its inputs
    /// are unchanged.
    pub(crate) fn render_cached(
        &mut self,
        m: &MigrationDir,
        pin: Option<&ObjectHash>,
        vars: &EnvVariables,
    ) -> Result<Rendered, BuildError> {
        let key = self.cache_key(m, pin, None, vars);
        Ok(self.render_keyed(m, pin, vars, key)?.0)
    }

    /// [`Project::render_cached`] and [`analysed`]: the analysis and checksums of a render
    /// taken from the cache come with it when they were kept; those of a render just made
    /// (or of a record kept without them) are kept with it. `up_sql`: the content of its
    /// `up.sql`, when read already.
    fn render_analysed(
        &mut self,
        m: &MigrationDir,
        pin: Option<&ObjectHash>,
        up_sql: Option<&[u8]>,
        vars: &EnvVariables,
        out: &mut Renders,
    ) -> Result<CompiledRender, BuildError> {
        let key = self.cache_key(m, pin, up_sql, vars);
        let (rendered, known) = self.render_keyed(m, pin, vars, key.clone())?;
        out.note_undefined(&m.name, &vars.environment, &rendered.undefined);
        if let Some(known) = known {
            return Ok(compiled_render(&vars.environment, rendered, known));
        }
        let (Some(key), Some(cache)) = (key, self.cache.as_mut()) else {
            return analysed(m, &vars.environment, rendered);
        };
        let compiled = analysed(m, &vars.environment, rendered)?;
        cache.keep_analysed(
            &key,
            Analysed {
                analysis: compiled.analysis.clone(),
                sha256: compiled.sha256,
                xxh3_128: compiled.xxh3_128,
            },
        );
        Ok(compiled)
    }

    /// [`Project::render_cached`] with the cache key of its inputs (`None`: not cached), and
    /// the render's analysis when the cache holds it.
    fn render_keyed(
        &mut self,
        m: &MigrationDir,
        pin: Option<&ObjectHash>,
        vars: &EnvVariables,
        key: Option<String>,
    ) -> Result<(Rendered, Option<Analysed>), BuildError> {
        let components = match pin {
            Some(root) => ComponentSource::Pinned(self.snapshot(&m.name, root)?),
            None => ComponentSource::Directory(self.layout.components_dir()),
        };
        if let Some(key) = &key {
            if let Some(hit) = self.cached(m, key, &components)? {
                return Ok(hit);
            }
        }
        let up_sql = m.up_sql();
        let rendered = render::render(&RenderRequest {
            migration_name: &m.name,
            up_sql_path: &up_sql,
            components: &components,
            environment: &vars.environment,
            variables: vars.value.as_ref(),
        })
        .map_err(|source| match source {
            RenderError::Pinned { migration, source } => BuildError::PinnedObject {
                migrations: vec![migration],
                source,
            },
            source => BuildError::Render {
                environment: vars.environment.clone(),
                source: match (pin, source) {
                    (Some(root), RenderError::Template(err)) => {
                        RenderError::Template(self.hint_repin(m, root, vars, err))
                    }
                    (_, source) => source,
                },
            },
        })?;
        self.files_read.extend(rendered.files_read.iter().cloned());
        if let (Some(key), Some(cache)) = (key, self.cache.as_mut()) {
            // Random UUIDs make a render that the same inputs do not give again; undefined
            // names are not kept, so a render with some is rendered (and reported) again.
            if !rendered.random && rendered.undefined.is_empty() {
                cache.keep(key, Record::of(&rendered));
            }
        }
        Ok((rendered, None))
    }

    /// `err`, from rendering `m` from its pin `root`, with a hint to re-pin when the pin is
    /// the cause: the working tree's `components/` render `m` (e.g. they have a component
    /// the snapshot lacks).
    fn hint_repin(
        &self,
        m: &MigrationDir,
        root: &ObjectHash,
        vars: &EnvVariables,
        mut err: Box<TemplateError>,
    ) -> Box<TemplateError> {
        let up_sql = m.up_sql();
        let working_tree = render::render(&RenderRequest {
            migration_name: &m.name,
            up_sql_path: &up_sql,
            components: &ComponentSource::Directory(self.layout.components_dir()),
            environment: &vars.environment,
            variables: vars.value.as_ref(),
        });
        if working_tree.is_ok() {
            let repin = format!(
                "components/ renders it, but {} is pinned to the snapshot {root}, which differs: \
                 re-pin it with `spawn migration pin {}` (if it is applied anywhere already, \
                 its SQL may change there)",
                m.name, m.name
            );
            err.hint = Some(match err.hint.take() {
                Some(hint) => format!("{hint}; {repin}"),
                None => repin,
            });
        }
        err
    }

    /// The render cache's key for `m` (`None`: not cacheable, or no cache), with the content
    /// of its `up.sql` when read already (else it is read here).
    fn cache_key(
        &mut self,
        m: &MigrationDir,
        pin: Option<&ObjectHash>,
        up_sql: Option<&[u8]>,
        vars: &EnvVariables,
    ) -> Option<String> {
        let variables = vars.key.as_deref()?;
        let components_dir = self.layout.components_dir();
        let cache = self.cache.as_mut()?;
        let components = match pin {
            Some(root) => format!("pin:{root}"),
            None => cache.components_key(&components_dir)?,
        };
        let read;
        let up_sql = match up_sql {
            Some(bytes) => bytes,
            None => {
                read = std::fs::read(m.up_sql()).ok()?;
                &read[..]
            }
        };
        Some(cache.key(&KeyInputs {
            migration: &m.name,
            up_sql,
            environment: &vars.environment,
            variables,
            components: &components,
        }))
    }

    /// The cached render of `key` and its analysis (when the cache holds one), once the
    /// pinned objects it read are verified.
    fn cached(
        &mut self,
        m: &MigrationDir,
        key: &str,
        components: &ComponentSource,
    ) -> Result<Option<(Rendered, Option<Analysed>)>, BuildError> {
        let Some(record) = self.cache.as_ref().and_then(|c| c.get(key)) else {
            return Ok(None);
        };
        if let ComponentSource::Pinned(snapshot) = components {
            for name in record.components_read() {
                let Some(hash) = snapshot.hash_of(name) else {
                    return Ok(None);
                };
                self.verify_object(hash)
                    .map_err(|source| BuildError::PinnedObject {
                        migrations: vec![m.name.clone()],
                        source: Box::new(source),
                    })?;
            }
        }
        if let Some(cache) = self.cache.as_mut() {
            cache.keep_reused(key, &record);
        }
        let (rendered, analysed) = record.into_rendered();
        self.files_read.extend(rendered.files_read.iter().cloned());
        Ok(Some((rendered, analysed)))
    }
}

/// Reads the file at `path` into `buffer` (emptied first, its memory kept); whether it was
/// read whole.
fn read_into(buffer: &mut Vec<u8>, path: &Path) -> bool {
    use std::io::Read as _;
    buffer.clear();
    std::fs::File::open(path)
        .and_then(|mut file| file.read_to_end(buffer))
        .is_ok()
}

/// Analyses `rendered`, the render of `file` (a file of migration `m`) for `environment`: its
/// problems name the file, and the component each line came from.
fn analyze_file(
    m: &MigrationDir,
    environment: &str,
    (file, runs_in): (&Path, analyze::RunsIn),
    rendered: &Rendered,
) -> Result<analyze::Analysis, BuildError> {
    analyze::analyze_file(&rendered.sql, runs_in).map_err(|errors| BuildError::Analyze {
        migration: m.name.clone(),
        environment: environment.to_owned(),
        file: file.to_path_buf(),
        problems: errors
            .into_iter()
            .map(|e| {
                let from = origin_of(&rendered.origins, e.line);
                (e, from)
            })
            .collect(),
    })
}

/// Analyses a render of `m`'s `up.sql` for `environment`.
pub(crate) fn analysed(
    m: &MigrationDir,
    environment: &str,
    rendered: Rendered,
) -> Result<CompiledRender, BuildError> {
    analysed_file(m, environment, &m.up_sql(), rendered)
}

/// [`analysed`] for `file` of migration `m` (its `up.sql`, or its `tenant.sql`).
fn analysed_file(
    m: &MigrationDir,
    environment: &str,
    file: &Path,
    rendered: Rendered,
) -> Result<CompiledRender, BuildError> {
    let analysis = analyze_file(
        m,
        environment,
        (file, analyze::RunsIn::EitherMode),
        &rendered,
    )?;
    let analysed = Analysed {
        sha256: checksum::sha256_normalized(&rendered.sql),
        xxh3_128: checksum::xxh3_128(&rendered.sql),
        analysis,
    };
    Ok(compiled_render(environment, rendered, analysed))
}

/// `rendered` for `environment` with its analysis and checksums (no down part, tenant part or
/// repeatable mark yet).
fn compiled_render(environment: &str, rendered: Rendered, analysed: Analysed) -> CompiledRender {
    CompiledRender {
        environment: environment.to_owned(),
        sha256: analysed.sha256,
        xxh3_128: analysed.xxh3_128,
        sql: rendered.sql,
        analysis: analysed.analysis,
        origins: rendered.origins,
        down: None,
        repeatable: false,
        tenant: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spawn_model::LineOrigin;

    #[test]
    fn only_renders_the_named_migrations_and_origins_follow_components(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let root = tempfile::tempdir()?;
        let db = root.path().join("db");
        std::fs::create_dir_all(db.join("components"))?;
        std::fs::write(root.path().join("spawn.toml"), "spawn_folder = \"db\"\n")?;
        std::fs::write(db.join("components/f.sql"), "SELECT 'f';\n")?;
        let migration = |name: &str, up: &str| -> std::io::Result<()> {
            let dir = db.join("migrations").join(name);
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("up.sql"), up)
        };
        migration("20250101000000-plain", "SELECT 1;\nSELECT 2;\n")?;
        migration("20250102000000-broken", "{% include \"missing.sql\" %}\n")?;
        migration(
            "20250103000000-included",
            "SELECT 0;\n{% include \"f.sql\" %}\nSELECT 3;\n",
        )?;
        let mut project = Project::open(&root.path().join("spawn.toml"))?;
        let options = RenderOptions::new(PinPolicy::WorkingTree, ["dev"]);

        let everything = project.render_all(&options);
        assert!(
            !everything.problems.is_empty(),
            "the broken one is rendered"
        );

        let some = project.render_all(
            &options
                .clone()
                .only(["20250101000000-plain", "20250103000000-included"]),
        );
        assert!(some.problems.is_empty(), "{:?}", some.problems);
        let names: Vec<&str> = some.migrations.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["20250101000000-plain", "20250103000000-included"]);
        // No component read: every line is up.sql's, without the marked pass.
        assert_eq!(
            some.migrations[0].renders[0].origins,
            [LineOrigin::from_up_sql(1)]
        );
        // A component included: its line is attributed to it.
        assert_eq!(
            some.migrations[1].renders[0].origins,
            [
                LineOrigin::from_up_sql(1),
                LineOrigin::from_component(2, "f.sql"),
                LineOrigin::from_up_sql(3),
            ]
        );
        Ok(())
    }
}
