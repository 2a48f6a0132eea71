//! The errors of the compile pipeline. Each names the file (and line) and what to do.
//!
//! `Debug` prints the same text as `Display`, so `spawn_build::compile().unwrap()` in a
//! build script shows a readable message in plain `cargo build` output.

use std::fmt;
use std::path::PathBuf;

use crate::analyze::AnalyzeError;
use crate::layout::LayoutError;
use crate::pin::PinError;
use crate::render::RenderError;
use crate::spawn_toml::ConfigError;
use crate::variables::VariablesError;

/// Why compiling the migrations failed.
#[derive(thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error(transparent)]
    Variables(#[from] VariablesError),
    #[error("{source} (environment {environment})")]
    Render {
        environment: String,
        #[source]
        source: RenderError,
    },
    #[error("migration {migration}: {source}")]
    Pin {
        migration: String,
        #[source]
        source: PinError,
    },
    /// Migrations without a pin where one is required; one error for all of them (see
    /// [`crate::problems::Problems`]), with the one command that pins them.
    #[error("{}", not_pinned(migrations, hint.as_deref()))]
    NotPinned {
        /// The migrations, in apply order.
        migrations: Vec<String>,
        /// What else can be done, for the situation at hand (e.g. `--no-pin`).
        hint: Option<String>,
    },
    /// A pinned object that is missing or corrupt, with every migration pinned to it.
    #[error("{source}{}", pinned_by(migrations))]
    PinnedObject {
        /// The migrations that need the object, in the order found (none: found by a walk
        /// over the store).
        migrations: Vec<String>,
        #[source]
        source: Box<PinError>,
    },
    #[error("{}", format_analyze(migration, environment, file, problems))]
    Analyze {
        migration: String,
        environment: String,
        /// The file analysed: the migration's `up.sql`, `down.sql` or `tenant.sql`.
        file: PathBuf,
        /// Each problem with the component its line came from, if known.
        problems: Vec<(AnalyzeError, Option<String>)>,
    },
    /// A `down.sql` marked `-- spawn:no-transaction`: a rollback runs it in one transaction
    /// with its `REVERT` row.
    #[error(
        "migration {migration}: {} is marked `-- spawn:no-transaction`, but a rollback runs a \
         down.sql in one transaction with its REVERT history row; remove the directive (and \
         any statement that cannot run in a transaction, such as CREATE INDEX CONCURRENTLY)",
        down_sql.display()
    )]
    DownNoTransaction {
        migration: String,
        down_sql: PathBuf,
    },
    /// Migrations without a `down.sql` while spawn.toml has `require_down = true`; one
    /// error for all of them.
    #[error(
        "{} no down.sql, and spawn.toml requires one for every migration (require_down = \
         true): {}. Add migrations/<name>/down.sql (what `spawn migration rollback` runs to \
         undo it)",
        if migrations.len() == 1 { "1 migration has".to_owned() } else { format!("{} migrations have", migrations.len()) },
        first_names(migrations)
    )]
    MissingDown {
        /// The migrations, in apply order.
        migrations: Vec<String>,
    },
    /// A repeatable migration marked `-- spawn:no-transaction`.
    #[error(
        "migration {migration} ({}) is marked both `-- spawn:repeatable` and \
         `-- spawn:no-transaction`, but a repeatable migration runs again in one transaction \
         whenever it changes; remove one of the two",
        up_sql.display()
    )]
    RepeatableNoTransaction { migration: String, up_sql: PathBuf },
    /// A repeatable migration asked to be pinned.
    #[error(
        "migration {migration} is repeatable (`-- spawn:repeatable`): it always renders from \
         the working tree's components/ and is never pinned"
    )]
    RepeatableNotPinned { migration: String },
    /// A draft migration where only finished ones may be (pinning it).
    #[error(
        "migration {migration} is a draft (`-- spawn:draft` at the top of its up.sql): it is \
         rendered and checked, but never pinned, applied or embedded; when it is done, run \
         `spawn migration ready {migration}` (removes the mark and pins it)"
    )]
    Draft { migration: String },
    /// Draft migrations while none may exist (`spawn check --no-drafts`); one error for all.
    #[error(
        "{} a draft, and `--no-drafts` allows none: {}. Drafts are never applied or embedded; \
         finish each and run `spawn migration ready <name>`, or remove its folder",
        if migrations.len() == 1 { "1 migration is".to_owned() } else { format!("{} migrations are", migrations.len()) },
        first_names(migrations)
    )]
    Drafts {
        /// The drafts, in apply order.
        migrations: Vec<String>,
    },
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A hazard [`Config::deny_hazards`](crate::Config::deny_hazards) makes an error, in a
    /// migration still being written.
    #[error(
        "{} (denied by Config::deny_hazards in build.rs; to accept this one, put \
         `-- spawn:allow {}` on the line before the statement)",
        .0,
        .0.finding.hazard
    )]
    DeniedHazard(Box<crate::hazard_report::MigrationFinding>),
    #[error("{0}")]
    Environment(String),
    /// A SQL callback (`callbacks/*.sql`) that cannot be used.
    #[error(transparent)]
    Callback(Box<crate::callbacks::CallbackError>),
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Many(Vec<BuildError>),
}

impl From<crate::callbacks::CallbackError> for BuildError {
    fn from(err: crate::callbacks::CallbackError) -> Self {
        BuildError::Callback(Box::new(err))
    }
}

impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\n{self}\n")
    }
}

/// How many names are shown before "and N more".
const NAMES_SHOWN: usize = 3;

/// `a, b, c and 997 more`.
pub(crate) fn first_names(names: &[String]) -> String {
    let shown = names[..names.len().min(NAMES_SHOWN)].join(", ");
    match names.len().saturating_sub(NAMES_SHOWN) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

/// ` (pinned by migration a)`, ` (pinned by 3 migrations: a, b, c)`, or nothing.
fn pinned_by(migrations: &[String]) -> String {
    match migrations {
        [] => String::new(),
        [one] => format!(" (pinned by migration {one})"),
        _ => format!(
            " (pinned by {} migrations: {})",
            migrations.len(),
            first_names(migrations)
        ),
    }
}

fn not_pinned(migrations: &[String], hint: Option<&str>) -> String {
    let mut out = match migrations {
        [one] => format!(
            "migration {one} is not pinned; run `spawn migration pin {one}` and commit its \
             lock.toml and pinned/"
        ),
        _ => format!(
            "{} migrations are not pinned ({}); run `spawn migration pin --all` and commit \
             their lock.toml files and pinned/",
            migrations.len(),
            first_names(migrations)
        ),
    };
    if let Some(hint) = hint {
        out.push_str(&format!(" ({hint})"));
    }
    out
}

fn format_analyze(
    migration: &str,
    environment: &str,
    file: &std::path::Path,
    problems: &[(AnalyzeError, Option<String>)],
) -> String {
    let mut out = format!(
        "migration {migration} ({}, environment {environment}): the rendered SQL has {} problem{}:",
        file.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for (e, component) in problems {
        out.push_str(&format!(
            "\n  rendered line {}, column {}",
            e.line, e.column
        ));
        if let Some(c) = component {
            out.push_str(&format!(" (from component {c})"));
        }
        out.push_str(&format!(": {}", e.message));
    }
    // `spawn migration build` prints the rendered up.sql (not down.sql or tenant.sql).
    if file.file_name().is_some_and(|name| name == "up.sql") {
        out.push_str(&format!(
            "\n  (see the rendered SQL with `spawn migration build {migration} -e {environment}`)"
        ));
    }
    out
}

impl BuildError {
    /// The error with `text` added to its "not pinned" message, saying what else can be done
    /// (e.g. `--no-pin`); other errors are returned as they are.
    #[must_use]
    pub fn hint_unpinned(self, text: &str) -> Self {
        match self {
            BuildError::NotPinned { migrations, .. } => BuildError::NotPinned {
                migrations,
                hint: Some(text.to_owned()),
            },
            BuildError::Many(errors) => {
                BuildError::Many(errors.into_iter().map(|e| e.hint_unpinned(text)).collect())
            }
            other => other,
        }
    }

    /// One error from several, or the single one.
    pub fn from_many(mut errors: Vec<BuildError>) -> Option<BuildError> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(BuildError::Many(errors)),
        }
    }
}
