//! `spawn.toml`: the project file, in the original spawn CLI's format.
//!
//! ```toml
//! spawn_folder = "spawn"          # components/, migrations/, pinned/, tests/ live here
//! target = "local"                # the default target
//! variables = "vars/prod.json"    # optional, for every target without its own
//!
//! [targets.local]
//! environment = "dev"             # the template's `env` (default "prod")
//! spawn_schema = "_spawn"         # tracking schema (default "_spawn")
//! variables = "vars/dev.json"     # optional
//! ```
//!
//! Keys this crate does not use (`engine`, `command`, `project_id`, `telemetry`, …) are
//! accepted and kept. Every path is resolved relative to the folder holding `spawn.toml`,
//! never the current directory; absolute paths are used as they are.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The environment used when a target names none.
pub const DEFAULT_ENVIRONMENT: &str = "prod";
/// The tracking schema used when a target names none.
pub const DEFAULT_SPAWN_SCHEMA: &str = "_spawn";

/// A problem reading `spawn.toml`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}. Create it (`spawn init`) or point spawn_build::Config::spawn_toml at it", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{}: the default target `{name}` has no [targets.{name}] section (targets defined: {defined})", path.display())]
    UnknownTarget {
        path: PathBuf,
        name: String,
        defined: String,
    },
}

/// A parsed `spawn.toml` with every path resolved.
#[derive(Debug, Clone)]
pub struct SpawnToml {
    /// The `spawn.toml` file itself.
    pub path: PathBuf,
    /// The folder holding components/, migrations/, pinned/ and tests/.
    pub spawn_folder: PathBuf,
    /// The target used when none is chosen.
    pub default_target: Option<String>,
    /// The project-wide variables file, if any.
    pub variables: Option<PathBuf>,
    /// Every `[targets.<name>]`, by name.
    pub targets: BTreeMap<String, Target>,
    /// `require_down = true`: `spawn check` fails while a migration has no `down.sql`.
    pub require_down: bool,
}

/// One `[targets.<name>]` section.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    /// The template variable `env` for this target.
    pub environment: String,
    /// The schema holding the tracking tables.
    pub spawn_schema: String,
    /// The database holding the tracking tables (original spawn's meaning), if set.
    pub spawn_database: Option<String>,
    /// This target's variables file, if any (else the project-wide one).
    pub variables: Option<PathBuf>,
    /// A postgres URL, with `${VAR}` not yet expanded.
    pub url: Option<String>,
    /// Every other key of the section (`engine`, `command`, …), as written.
    pub other: toml::Table,
}

#[derive(Deserialize)]
struct RawFile {
    spawn_folder: Option<String>,
    target: Option<String>,
    variables: Option<String>,
    #[serde(default)]
    targets: BTreeMap<String, RawTarget>,
    #[serde(default)]
    require_down: bool,
}

#[derive(Deserialize)]
struct RawTarget {
    environment: Option<String>,
    spawn_schema: Option<String>,
    spawn_database: Option<String>,
    variables: Option<String>,
    url: Option<String>,
    #[serde(flatten)]
    other: toml::Table,
}

impl SpawnToml {
    /// Reads and resolves `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parses `text` as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: toml_error_message(text, &e),
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base
        };
        let resolve = |p: &str| resolve_path(&base, p);
        let spawn_folder = resolve(raw.spawn_folder.as_deref().unwrap_or("."));
        let targets = raw
            .targets
            .into_iter()
            .map(|(name, t)| {
                let target = Target {
                    name: name.clone(),
                    environment: t
                        .environment
                        .unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_owned()),
                    spawn_schema: t
                        .spawn_schema
                        .unwrap_or_else(|| DEFAULT_SPAWN_SCHEMA.to_owned()),
                    spawn_database: t.spawn_database,
                    variables: t.variables.as_deref().map(resolve),
                    url: t.url,
                    other: t.other,
                };
                (name, target)
            })
            .collect::<BTreeMap<_, _>>();
        let config = SpawnToml {
            path: path.to_path_buf(),
            spawn_folder,
            default_target: raw.target,
            variables: raw.variables.as_deref().map(resolve),
            targets,
            require_down: raw.require_down,
        };
        if let Some(name) = &config.default_target {
            if !config.targets.contains_key(name) {
                return Err(ConfigError::UnknownTarget {
                    path: path.to_path_buf(),
                    name: name.clone(),
                    defined: config.target_names(),
                });
            }
        }
        Ok(config)
    }

    fn target_names(&self) -> String {
        if self.targets.is_empty() {
            "none".to_owned()
        } else {
            self.targets.keys().cloned().collect::<Vec<_>>().join(", ")
        }
    }

    /// The default target: `target = "…"`, else the only target, else none.
    pub fn default_target(&self) -> Option<&Target> {
        match &self.default_target {
            Some(name) => self.targets.get(name),
            None if self.targets.len() == 1 => self.targets.values().next(),
            None => None,
        }
    }

    /// The environment of the default target (`prod` without one).
    pub fn default_environment(&self) -> &str {
        self.default_target()
            .map(|t| t.environment.as_str())
            .unwrap_or(DEFAULT_ENVIRONMENT)
    }

    /// The tracking schema of the default target (`_spawn` without one).
    pub fn default_spawn_schema(&self) -> &str {
        self.default_target()
            .map(|t| t.spawn_schema.as_str())
            .unwrap_or(DEFAULT_SPAWN_SCHEMA)
    }

    /// Every environment named by the targets (just `prod` without targets).
    pub fn environments(&self) -> BTreeSet<String> {
        let mut envs: BTreeSet<String> = self
            .targets
            .values()
            .map(|t| t.environment.clone())
            .collect();
        if envs.is_empty() {
            envs.insert(DEFAULT_ENVIRONMENT.to_owned());
        }
        envs
    }

    /// The variables file for `environment`: that of the default target if it has this
    /// environment, else of the first target (by name) with it, else the project-wide one.
    pub fn variables_for(&self, environment: &str) -> Option<&Path> {
        let default = self
            .default_target()
            .filter(|t| t.environment == environment);
        default
            .into_iter()
            .chain(
                self.targets
                    .values()
                    .filter(|t| t.environment == environment),
            )
            .find_map(|t| t.variables.as_deref())
            .or(self.variables.as_deref())
    }
}

/// `p` relative to `base` unless absolute; a trailing slash changes nothing.
pub fn resolve_path(base: &Path, p: &str) -> PathBuf {
    let trimmed = p.trim_end_matches('/');
    let trimmed = if trimmed.is_empty() && p.starts_with('/') {
        "/"
    } else {
        trimmed
    };
    let path = Path::new(trimmed);
    if path.is_absolute() {
        path.to_path_buf()
    } else if trimmed.is_empty() || trimmed == "." {
        base.to_path_buf()
    } else {
        base.join(path)
    }
}

/// A TOML error as `line L, column C: message`.
fn toml_error_message(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().to_owned();
    match e.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_targets() {
        let c = SpawnToml::parse(Path::new("/p/spawn.toml"), "").unwrap();
        assert_eq!(c.spawn_folder, Path::new("/p"));
        assert_eq!(c.default_environment(), "prod");
        assert_eq!(c.default_spawn_schema(), "_spawn");
        assert_eq!(c.environments().into_iter().collect::<Vec<_>>(), ["prod"]);
    }

    #[test]
    fn original_format_with_unknown_keys_is_accepted() {
        let text = r#"
spawn_folder = "db/"
target = "compat"
project_id = "abc"
telemetry = false
[targets.compat]
engine = "postgres-psql"
spawn_database = "postgres"
spawn_schema = "_spawn"
environment = "prod"
command = { kind = "direct", direct = ["psql", "-h", "127.0.0.1"] }
[targets.dev]
environment = "dev"
variables = "vars/dev.json"
"#;
        let c = SpawnToml::parse(Path::new("/p/spawn.toml"), text).unwrap();
        assert_eq!(
            c.spawn_folder,
            Path::new("/p/db"),
            "a trailing slash changes nothing"
        );
        assert_eq!(c.default_target().unwrap().name, "compat");
        assert!(c.targets["compat"].other.contains_key("command"));
        assert_eq!(
            c.environments().into_iter().collect::<Vec<_>>(),
            ["dev", "prod"]
        );
        assert_eq!(c.variables_for("dev"), Some(Path::new("/p/vars/dev.json")));
        assert_eq!(c.variables_for("prod"), None);
    }

    #[test]
    fn absolute_paths_stay_absolute() {
        let c = SpawnToml::parse(
            Path::new("rel/spawn.toml"),
            "spawn_folder = \"/abs/x\"\nvariables = \"v.yaml\"",
        )
        .unwrap();
        assert_eq!(c.spawn_folder, Path::new("/abs/x"));
        assert_eq!(c.variables.as_deref(), Some(Path::new("rel/v.yaml")));
    }

    #[test]
    fn syntax_error_names_file_and_line() {
        let err = SpawnToml::parse(Path::new("/p/spawn.toml"), "a = 1\nspawn_folder = = 2\n")
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("/p/spawn.toml: line 2,"), "{msg}");
    }

    #[test]
    fn unknown_default_target_is_an_error() {
        let err = SpawnToml::parse(
            Path::new("/p/spawn.toml"),
            "target = \"nope\"\n[targets.a]\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("`nope` has no [targets.nope] section (targets defined: a)"),
            "{err}"
        );
    }
}
