//! [`compile()`] and its builder [`Config`]: the build-script entry point.
//!
//! Renders every migration for every environment named by the targets, pins unpinned ones
//! in debug builds (or refuses them when locked; never one that does not render), analyses
//! the SQL, warns (`cargo:warning`) of every undefined name a template printed as nothing
//! and of every [hazard](crate::analyze::hazards) in a migration still being written,
//! writes the compiled set to `OUT_DIR` for `embed_migrations!()`, and tells cargo exactly
//! which files to watch.
//! The pipeline is [`Project::render_all`]; renders whose inputs are unchanged since the last
//! run come from a cache in `OUT_DIR` ([`crate::cache`]), and the files a pinning run writes
//! do not make the next build rerun the script ([`crate::settle`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::analyze::hazards::Hazard;
use crate::codegen;
use crate::error::{first_names, BuildError};
use crate::hazard_report::{self, MigrationFinding, MigrationUnusedAllow};
use crate::project::{
    CompiledMigration, PinPolicy, Project, RenderOptions, Renders, UndefinedVariable,
    VariablesSource,
};
use crate::settle;

/// Options for [`Config::compile`]. `Config::new().compile()` is what [`compile()`] does.
///
/// ```no_run
/// // build.rs
/// fn main() {
///     spawn_build::Config::new()
///         .spawn_toml("db/spawn.toml")
///         .locked(true)
///         .compile()
///         .unwrap();
/// }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Config {
    spawn_toml: Option<PathBuf>,
    locked: Option<bool>,
    auto_pin: Option<bool>,
    variables: Option<PathBuf>,
    environments: Option<Vec<String>>,
    out_dir: Option<PathBuf>,
    cargo_output: Option<bool>,
    deny_hazards: Vec<Hazard>,
}

/// What [`Config::compile`] produced.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Compiled {
    pub migrations: Vec<CompiledMigration>,
    /// Migrations pinned by this run (debug builds only).
    pub newly_pinned: Vec<String>,
    /// How many renders came from the render cache of the last run in the same `OUT_DIR`
    /// (their inputs were unchanged) instead of being rendered again.
    pub reused: usize,
    /// The generated Rust file `embed_migrations!()` includes.
    pub generated: PathBuf,
    /// Every file and folder cargo was told to watch.
    pub watched: BTreeSet<PathBuf>,
    /// Undefined names printed as nothing (each also a `cargo:warning`).
    pub warnings: Vec<UndefinedVariable>,
    /// Draft migrations, checked but left out (each also a `cargo:warning`).
    pub drafts: Vec<String>,
    /// The SQL callbacks (`callbacks/*.sql`) rendered for each environment (none when the
    /// project has none).
    pub callbacks: Vec<(String, spawn_model::Callbacks)>,
    /// The hazards of the migrations still being written (not pinned before this run),
    /// allowed ones included; each one not allowed is also a `cargo:warning`.
    pub hazards: Vec<MigrationFinding>,
    /// `-- spawn:allow` names in those migrations that accept nothing (each also a
    /// `cargo:warning`).
    pub unused_allows: Vec<MigrationUnusedAllow>,
}

impl Config {
    pub fn new() -> Self {
        Self::default()
    }

    /// The project file (default: `spawn.toml` beside the crate's Cargo.toml). A relative
    /// path is relative to the crate's folder (`CARGO_MANIFEST_DIR`).
    pub fn spawn_toml(&mut self, path: impl Into<PathBuf>) -> &mut Self {
        self.spawn_toml = Some(path.into());
        self
    }

    /// Refuse unpinned migrations instead of pinning them. Default: locked when the `CI`
    /// environment variable is set or the build is not a debug build.
    pub fn locked(&mut self, locked: bool) -> &mut Self {
        self.locked = Some(locked);
        self
    }

    /// Whether an unlocked build pins unpinned migrations (default `true`). With `false` they
    /// are rendered from the working tree and nothing is written, which suits iterating on
    /// the newest migration: every edit of a component it uses rebuilds the embedded set.
    pub fn auto_pin(&mut self, auto_pin: bool) -> &mut Self {
        self.auto_pin = Some(auto_pin);
        self
    }

    /// A variables file for every environment, instead of what spawn.toml names. Relative
    /// to the crate's folder.
    pub fn variables(&mut self, path: impl Into<PathBuf>) -> &mut Self {
        self.variables = Some(path.into());
        self
    }

    /// The environments to render (default: every environment named by spawn.toml's targets,
    /// or just `prod`).
    pub fn environments<I, S>(&mut self, environments: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.environments = Some(environments.into_iter().map(Into::into).collect());
        self
    }

    /// Where to write the compiled set (default: `OUT_DIR`).
    pub fn out_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Whether to print `cargo:` instructions (default: when run by cargo as a build script).
    pub fn cargo_output(&mut self, enabled: bool) -> &mut Self {
        self.cargo_output = Some(enabled);
        self
    }

    /// Makes these [hazards](crate::analyze::hazards) build errors, naming file and line,
    /// in migrations still being written (not pinned before this run), unless a
    /// `-- spawn:allow <hazard>` comment accepts them. Other hazards stay warnings. A debug
    /// build does not pin a migration with a denied hazard, so the next build checks it again.
    ///
    /// ```no_run
    /// // build.rs
    /// use spawn_build::Hazard;
    ///
    /// fn main() {
    ///     spawn_build::Config::new()
    ///         .deny_hazards([Hazard::TableRewrite, Hazard::DataLoss])
    ///         .compile()
    ///         .unwrap();
    /// }
    /// ```
    pub fn deny_hazards(&mut self, hazards: impl IntoIterator<Item = Hazard>) -> &mut Self {
        self.deny_hazards = hazards.into_iter().collect();
        self
    }

    /// Compiles the migrations. See the module documentation.
    pub fn compile(&self) -> Result<Compiled, BuildError> {
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
        let relative_to_crate = |p: &Path| match &manifest_dir {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.to_path_buf(),
        };
        let spawn_toml = relative_to_crate(
            self.spawn_toml
                .as_deref()
                .unwrap_or(Path::new("spawn.toml")),
        );
        let out_dir = match (&self.out_dir, std::env::var_os("OUT_DIR")) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => PathBuf::from(dir),
            (None, None) => {
                return Err(BuildError::Environment(
                    "OUT_DIR is not set: call spawn_build::compile() from build.rs, or set Config::out_dir".into(),
                ))
            }
        };
        let cargo_output = self
            .cargo_output
            .unwrap_or_else(|| std::env::var_os("CARGO").is_some() && self.out_dir.is_none());
        let locked = self.locked.unwrap_or_else(default_locked);

        let mut project = Project::open(&spawn_toml)?;
        let environments: Vec<String> = match &self.environments {
            Some(envs) => envs.clone(),
            None => project.config.environments().into_iter().collect(),
        };
        let variables = match &self.variables {
            Some(path) => VariablesSource::File(Some(relative_to_crate(path))),
            None => VariablesSource::SpawnToml,
        };
        let policy = if locked {
            PinPolicy::Require
        } else if self.auto_pin.unwrap_or(true) {
            PinPolicy::AutoPin
        } else {
            PinPolicy::WorkingTreeIfUnpinned
        };
        project.cache_renders_in(&out_dir);
        let Renders {
            migrations,
            mut newly_pinned,
            reused,
            mut problems,
            warnings,
            drafts,
            ..
        } = project.render_all(
            &RenderOptions::new(policy, environments.clone()).variables(variables.clone()),
        );
        let names: Vec<&str> = migrations.iter().map(|m| m.name.as_str()).collect();
        let callbacks = crate::callbacks::render_for_environments(
            &mut project,
            &environments,
            &variables,
            &names,
            &mut problems,
        );
        if let Some(start) = settle::script_start(&out_dir) {
            settle::backdate(project.files_written.iter().map(PathBuf::as_path), start);
        }

        // Tell cargo what to watch even when failing, so fixing a file reruns the script.
        let mut watched = project.files_read.clone();
        // callbacks/ when it exists. Not the spawn folder otherwise: it may be the crate's
        // own folder (`spawn_folder = "."`), whose target/ would rerun the script every build;
        // a callbacks/ folder created later is seen once the script reruns (see
        // `crate::callbacks`).
        let callbacks_dir = project.layout.callbacks_dir();
        if callbacks_dir.is_dir() {
            watched.insert(callbacks_dir);
        }
        let migrations_dir = project.layout.migrations_dir();
        watched.insert(if migrations_dir.is_dir() {
            migrations_dir
        } else {
            project.layout.spawn_folder.clone()
        });
        if migrations.iter().any(|m| m.pin.is_none()) {
            let components = project.layout.components_dir();
            watched.insert(if components.is_dir() {
                components
            } else {
                project.layout.spawn_folder.clone()
            });
        }
        // Hazards of the migrations still being written: not pinned before this run.
        let hazard_report::ProjectHazards {
            findings: hazards,
            unused_allows,
        } = hazard_report::project_hazards(&project.layout, &migrations, |m| {
            m.pin.is_none() || newly_pinned.contains(&m.name)
        });
        for finding in hazard_report::denied(&hazards, &self.deny_hazards) {
            problems.push(BuildError::DeniedHazard(Box::new(finding.clone())));
            // A migration is not pinned with a denied hazard in it: pinned, it would be
            // settled, and the next build would let the hazard through.
            if let Some(i) = newly_pinned.iter().position(|n| *n == finding.migration) {
                let lock = project.layout.migration(&finding.migration).lock_toml();
                if let Err(source) = std::fs::remove_file(&lock) {
                    problems.push(BuildError::Io {
                        action: "removing the new pin",
                        path: lock,
                        source,
                    });
                }
                newly_pinned.remove(i);
            }
        }
        if cargo_output {
            for finding in hazards.iter().filter(|f| !f.finding.allowed) {
                if !self.deny_hazards.contains(&finding.finding.hazard) {
                    println!("cargo:warning={}", finding.warning());
                }
            }
            for unused in &unused_allows {
                println!("cargo:warning={unused}");
            }
            for path in &watched {
                println!("cargo:rerun-if-changed={}", path.display());
            }
            println!("cargo:rerun-if-env-changed=CI");
            if let Some(warning) = pinned_warning(&project, &newly_pinned) {
                println!("cargo:warning={warning}");
            }
            for warning in &warnings {
                println!("cargo:warning={warning}");
            }
            for draft in &drafts {
                println!("cargo:warning={}", draft_warning(draft));
            }
        }
        // What rendered is kept even when something else failed: fixing that renders only it.
        let saved = project.save_render_cache();
        if locked {
            problems.hint_unpinned(
                "unpinned migrations are pinned automatically only in debug builds outside CI",
            );
        }
        problems.into_result()?;
        saved?;

        let generated = codegen::write_with_callbacks(
            &out_dir,
            &migrations,
            project.config.default_environment(),
            project.config.default_spawn_schema(),
            &callbacks,
        )?;
        Ok(Compiled {
            migrations,
            newly_pinned,
            reused,
            generated,
            watched,
            warnings,
            drafts,
            callbacks,
            hazards,
            unused_allows,
        })
    }
}

/// The warning of a draft left out of the build.
pub(crate) fn draft_warning(draft: &str) -> String {
    format!(
        "spawn left out draft migration {draft} (`-- spawn:draft`): it is checked but not \
         embedded; run `spawn migration ready {draft}` when it is done"
    )
}

/// What to commit after this run pinned `newly_pinned`: one line, however many there are.
fn pinned_warning(project: &Project, newly_pinned: &[String]) -> Option<String> {
    let pinned = project.layout.pinned_dir();
    match newly_pinned {
        [] => None,
        [name] => Some(format!(
            "spawn pinned migration {name}: commit {} and the new files in {}",
            project.layout.migration(name).lock_toml().display(),
            pinned.display()
        )),
        names => Some(format!(
            "spawn pinned {} migrations ({}): commit their lock.toml files in {} and the new \
             files in {}",
            names.len(),
            first_names(names),
            project.layout.migrations_dir().display(),
            pinned.display()
        )),
    }
}

/// Locked unless this is a debug build outside CI.
fn default_locked() -> bool {
    let ci = std::env::var("CI")
        .map(|v| !v.is_empty() && v != "0" && v != "false")
        .unwrap_or(false);
    let debug = std::env::var("PROFILE")
        .map(|p| p == "debug")
        .unwrap_or(true);
    ci || !debug
}

/// Compiles the migrations of the `spawn.toml` beside the crate's Cargo.toml into `OUT_DIR`.
/// Call it from `build.rs`; see [`Config`] for options.
pub fn compile() -> Result<(), BuildError> {
    Config::new().compile().map(|_| ())
}
