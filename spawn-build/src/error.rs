//! The errors of the compile pipeline. Each names the file (and line) and what to do.
//!
//! `Debug` prints the same text as `Display`, so `spawn_build::compile().unwrap()` in a
//! build script shows a readable message in plain `cargo build` output.

use std::fmt;
use std::path::PathBuf;

use crate::analyze::AnalyzeError;
use crate::config::ConfigError;
use crate::layout::LayoutError;
use crate::pin::PinError;
use crate::render::RenderError;
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
    #[error("migration {migration} is not pinned; run `spawn migration pin {migration}` and commit its lock.toml and pinned/ (unpinned migrations are pinned automatically only in debug builds outside CI)")]
    NotPinned { migration: String },
    #[error("{}", format_analyze(migration, environment, up_sql, problems))]
    Analyze {
        migration: String,
        environment: String,
        up_sql: PathBuf,
        /// Each problem with the component its line came from, if known.
        problems: Vec<(AnalyzeError, Option<String>)>,
    },
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Environment(String),
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Many(Vec<BuildError>),
}

impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\n{self}\n")
    }
}

fn format_analyze(
    migration: &str,
    environment: &str,
    up_sql: &std::path::Path,
    problems: &[(AnalyzeError, Option<String>)],
) -> String {
    let mut out = format!(
        "migration {migration} ({}, environment {environment}): the rendered SQL has {} problem{}:",
        up_sql.display(),
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
    out.push_str(&format!(
        "\n  (see the rendered SQL with `spawn migration build {migration} -e {environment}`)"
    ));
    out
}

impl BuildError {
    /// One error from several, or the single one.
    pub fn from_many(mut errors: Vec<BuildError>) -> Option<BuildError> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(BuildError::Many(errors)),
        }
    }
}
