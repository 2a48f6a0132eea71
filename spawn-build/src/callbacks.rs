//! SQL callbacks: `<spawn_folder>/callbacks/before_migrate.sql`, `after_migrate.sql`,
//! `before_each.sql` and `after_each.sql`, rendered and analysed into a
//! [`Callbacks`] per environment, which `compile()` embeds beside the migrations and the CLI
//! hands to the migrator.
//!
//! They are templates like migrations: the same environment (`env`, `variables`, spawn's
//! functions and filters) and `{% include %}` of components. They are **not pinned**: a
//! callback applies to every future run (as Flyway's do), so it always renders from the
//! working tree's `components/`, and changing one never changes a migration's checksum.
//!
//! `before_each` and `after_each` also see the migration's name as `migration`. A template
//! that mentions `migration` (or whose output does) is rendered once per migration; any
//! other is rendered once and serves every migration.
//!
//! Each render is checked like a migration ([`crate::analyze`]: no transaction control, no
//! psql meta-commands, …), and more: a callback always runs inside a transaction spawn
//! opens, so `-- spawn:no-transaction`, timeout directives and a `BEGIN; … COMMIT;` wrapper
//! are refused. Any other file in `callbacks/` is an error (a misspelt callback would
//! otherwise never run silently).
//!
//! `compile()` tells cargo to watch `callbacks/` (and `components/`, which callbacks render
//! from) once the folder exists. A `callbacks/` folder created after the last build is
//! only seen when the build script runs again: touch `build.rs` (or `spawn.toml`) once after
//! creating it.
//!
//! ```no_run
//! use spawn_build::project::Project;
//!
//! # fn main() -> Result<(), spawn_build::BuildError> {
//! let mut project = Project::open("db/spawn.toml".as_ref())?;
//! let names = ["20250101000000-create-products"];
//! let callbacks = project.render_callbacks("prod", None, &names)?;
//! if let Some(c) = &callbacks.after_migrate {
//!     println!("after_migrate: {}", c.sql);
//! }
//! # Ok(()) }
//! ```

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use minijinja::Value;
use spawn_model::{Callback, CallbackKind, Callbacks, TransactionMode};

use crate::analyze::{self, AnalyzeError};
use crate::error::BuildError;
use crate::problems::Problems;
use crate::project::{origin_of, Project, VariablesSource};
use crate::render::{self, ComponentSource, RenderError, RenderRequest, Rendered};

/// The variable `before_each` and `after_each` see the migration's name as.
pub const MIGRATION_VARIABLE: &str = "migration";

/// Rendered for `migration` to find out whether a template's output depends on it.
const PROBE: &str = "\u{1}spawn-migration-name\u{1}";

/// A callback that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// A file in `callbacks/` that is not a callback spawn knows.
    #[error(
        "{} is not a callback spawn runs: callbacks/ holds before_migrate.sql, \
         after_migrate.sql, before_each.sql and after_each.sql only; rename or remove it",
        path.display()
    )]
    UnknownFile {
        /// The file.
        path: PathBuf,
    },
    /// `callbacks/` could not be listed.
    #[error("cannot list callbacks in {}: {source}", path.display())]
    List {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The template could not be rendered.
    #[error("callback {}{}: {}", path.display(), for_(environment, migration.as_deref()), render_message(source))]
    Render {
        /// The callback file.
        path: PathBuf,
        /// The environment.
        environment: String,
        /// The migration it was rendered for, when it uses `migration`.
        migration: Option<String>,
        /// What went wrong.
        #[source]
        source: RenderError,
    },
    /// The rendered SQL has problems spawn cannot run.
    #[error("{}", format_analyze(path, environment, migration.as_deref(), problems))]
    Analyze {
        /// The callback file.
        path: PathBuf,
        /// The environment.
        environment: String,
        /// The migration it was rendered for, when it uses `migration`.
        migration: Option<String>,
        /// Each problem with the component its line came from, if known.
        problems: Vec<(AnalyzeError, Option<String>)>,
    },
}

/// ` (environment e)` or ` (environment e, migration m)`.
fn for_(environment: &str, migration: Option<&str>) -> String {
    match migration {
        Some(m) => format!(" (environment {environment}, migration {m})"),
        None => format!(" (environment {environment})"),
    }
}

/// A render error without the "migration …:" prefix meant for migrations.
fn render_message(err: &RenderError) -> String {
    match err {
        RenderError::Template(t) => {
            let mut out = format!("{}{}", t.location, t.message);
            for site in &t.included_from {
                out.push_str(&format!(
                    " (included from {})",
                    site.to_string().trim_end_matches(": ")
                ));
            }
            if let Some(hint) = &t.hint {
                out.push_str(&format!("; hint: {hint}"));
            }
            out
        }
        RenderError::ReadTemplate { path, source, .. } => {
            format!("could not read {}: {source}", path.display())
        }
        RenderError::NotUtf8 { path, source, .. } => {
            format!("{} is not valid UTF-8 text ({source})", path.display())
        }
        RenderError::Pinned { source, .. } => source.to_string(),
    }
}

fn format_analyze(
    path: &Path,
    environment: &str,
    migration: Option<&str>,
    problems: &[(AnalyzeError, Option<String>)],
) -> String {
    let mut out = format!(
        "callback {}{}: the rendered SQL has {} problem{}:",
        path.display(),
        for_(environment, migration),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for (e, component) in problems {
        out.push_str(&format!("\n  line {}, column {}", e.line, e.column));
        if let Some(c) = component {
            out.push_str(&format!(" (from component {c})"));
        }
        out.push_str(&format!(": {}", e.message));
    }
    out
}

impl Project {
    /// The callback files of `callbacks/`, each with its kind; an unknown file is an error.
    /// No folder: none.
    pub fn callback_files(&mut self) -> Result<Vec<(CallbackKind, PathBuf)>, BuildError> {
        let dir = self.layout.callbacks_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(CallbackError::List { path: dir, source }.into()),
        };
        let mut found = Vec::new();
        let mut problems = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| CallbackError::List {
                path: dir.clone(),
                source,
            })?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            match CallbackKind::from_file_name(&name) {
                Some(kind) if path.is_file() => found.push((kind, path)),
                _ => problems.push(CallbackError::UnknownFile { path }.into()),
            }
        }
        if let Some(err) = BuildError::from_many(problems) {
            return Err(err);
        }
        found.sort_by_key(|(kind, _)| CallbackKind::ALL.iter().position(|k| k == kind));
        self.files_read.extend(found.iter().map(|(_, p)| p.clone()));
        Ok(found)
    }

    /// Renders and analyses the project's callbacks for `environment` with `variables`
    /// (`before_each`/`after_each` for each of `migrations` when they use `migration`),
    /// from the working tree (callbacks are not pinned). Every problem is reported at once.
    pub fn render_callbacks(
        &mut self,
        environment: &str,
        variables: Option<&Value>,
        migrations: &[&str],
    ) -> Result<Callbacks, BuildError> {
        let files = self.callback_files()?;
        let components = ComponentSource::Directory(self.layout.components_dir());
        let mut callbacks = Callbacks::default();
        let mut problems = Vec::new();
        for (kind, path) in files {
            let one = |migration: Option<&str>| {
                render_one(kind, &path, &components, environment, variables, migration)
            };
            let renders = match kind {
                CallbackKind::BeforeMigrate | CallbackKind::AfterMigrate => {
                    one(None).map(|(c, _)| vec![c])
                }
                CallbackKind::BeforeEach | CallbackKind::AfterEach => match one(None) {
                    Ok((shared, false)) => Ok(vec![shared]),
                    Ok((_, true)) => migrations
                        .iter()
                        .map(|m| one(Some(m)).map(|(c, _)| c))
                        .collect(),
                    Err(e) => Err(e),
                },
            };
            let renders = match renders {
                Ok(renders) => renders,
                Err(e) => {
                    problems.push(BuildError::Callback(e));
                    continue;
                }
            };
            match kind {
                CallbackKind::BeforeMigrate => {
                    callbacks.before_migrate = renders.into_iter().next()
                }
                CallbackKind::AfterMigrate => callbacks.after_migrate = renders.into_iter().next(),
                CallbackKind::BeforeEach => callbacks.before_each = Cow::Owned(renders),
                CallbackKind::AfterEach => callbacks.after_each = Cow::Owned(renders),
            }
        }
        if callbacks.is_empty() {
            return BuildError::from_many(problems).map_or(Ok(callbacks), Err);
        }
        // Rendered from the working tree: every component edit can change them. (A path that
        // does not exist would rerun the build script every time.)
        let components_dir = self.layout.components_dir();
        if components_dir.is_dir() {
            self.files_read.insert(components_dir);
        }
        BuildError::from_many(problems).map_or(Ok(callbacks), Err)
    }
}

/// The callbacks rendered for each of `environments` (with the variables of `source`,
/// before_each/after_each for each of `migrations`), as `compile()` embeds them and
/// `spawn check` checks them; every problem goes to `problems`. Empty when the project has
/// no callbacks.
pub fn render_for_environments(
    project: &mut Project,
    environments: &[String],
    source: &VariablesSource,
    migrations: &[&str],
    problems: &mut Problems,
) -> Vec<(String, Callbacks)> {
    match project.callback_files() {
        Ok(files) if files.is_empty() => return Vec::new(),
        Ok(_) => {}
        Err(e) => {
            problems.push(e);
            return Vec::new();
        }
    }
    // Variables files that cannot be loaded are reported by the migrations' render already.
    let mut ignored = Problems::new();
    let loaded = project.env_variables(environments, source, &mut ignored);
    let mut out = Vec::new();
    for vars in loaded {
        match project.render_callbacks(&vars.environment, vars.value.as_ref(), migrations) {
            Ok(callbacks) => out.push((vars.environment, callbacks)),
            Err(e) => problems.push(e),
        }
    }
    out
}

/// Renders and checks one callback (for `migration`, if given; else with the probe name).
/// Returns it and whether its output depends on `migration`.
fn render_one(
    kind: CallbackKind,
    path: &Path,
    components: &ComponentSource,
    environment: &str,
    variables: Option<&Value>,
    migration: Option<&str>,
) -> Result<(Callback, bool), Box<CallbackError>> {
    let name = migration.unwrap_or(PROBE);
    let req = RenderRequest {
        migration_name: kind.file(),
        up_sql_path: path,
        components,
        environment,
        variables,
    };
    let each = matches!(kind, CallbackKind::BeforeEach | CallbackKind::AfterEach);
    let extra = if each {
        vec![(MIGRATION_VARIABLE, Value::from(name))]
    } else {
        Vec::new()
    };
    let fail = Box::new;
    let rendered: Rendered = render::render_with(&req, &extra).map_err(|source| {
        fail(CallbackError::Render {
            path: path.to_path_buf(),
            environment: environment.to_owned(),
            migration: migration.map(str::to_owned),
            source,
        })
    })?;
    let uses_migration =
        each && migration.is_none() && (rendered.sql.contains(PROBE) || mentions_migration(path));
    let sql = rendered
        .sql
        .strip_prefix('\u{feff}')
        .unwrap_or(&rendered.sql)
        .to_owned();
    let analyze_error = |problems| {
        fail(CallbackError::Analyze {
            path: path.to_path_buf(),
            environment: environment.to_owned(),
            migration: migration.map(str::to_owned),
            problems,
        })
    };
    let analysis = analyze::analyze(&sql).map_err(|errors| {
        analyze_error(
            errors
                .into_iter()
                .map(|e| {
                    let from = origin_of(&rendered.origins, e.line);
                    (e, from)
                })
                .collect(),
        )
    })?;
    let refuse = |line: u32, message: &str| {
        analyze_error(vec![(
            AnalyzeError {
                line,
                column: 1,
                message: message.to_owned(),
            },
            None,
        )])
    };
    if analysis.mode == TransactionMode::NoTransaction {
        return Err(refuse(
            1,
            "`-- spawn:no-transaction` is not allowed in a callback: callbacks always run in a \
             transaction; remove the directive",
        ));
    }
    if analysis.lock_timeout.is_some() || analysis.statement_timeout.is_some() {
        return Err(refuse(
            1,
            "timeout directives are not allowed in a callback: it runs with the run's default \
             timeouts (or inside the migration's transaction, with the migration's); remove \
             the directive, or use SET LOCAL",
        ));
    }
    if analysis.body.end != sql.len() {
        let line = 1 + sql[..analysis.body.end].matches('\n').count();
        return Err(refuse(
            u32::try_from(line).unwrap_or(u32::MAX),
            "a callback cannot wrap itself in BEGIN; … COMMIT;: it runs inside a transaction \
             spawn opens; remove the BEGIN and COMMIT",
        ));
    }
    let callback = Callback {
        kind,
        migration: migration.map(|m| Cow::Owned(m.to_owned())),
        sql: Cow::Owned(sql),
        statements: Cow::Owned(analysis.statements),
        origins: Cow::Owned(rendered.origins),
    };
    Ok((callback, uses_migration))
}

/// Whether the template at `path` names the variable `migration` (in a condition, say, not
/// only in what it prints).
fn mentions_migration(path: &Path) -> bool {
    let Ok(source) = std::fs::read_to_string(path) else {
        return true;
    };
    let env = minijinja::Environment::new();
    match env.template_from_str(&source) {
        Ok(template) => template
            .undeclared_variables(true)
            .iter()
            .any(|v| v == MIGRATION_VARIABLE || v.starts_with("migration.")),
        Err(_) => true,
    }
}
