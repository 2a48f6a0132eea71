//! The folders of a spawn project and the migrations in them.
//!
//! ```text
//! <spawn_folder>/
//!   components/**                 templates and data files, included by migrations
//!   migrations/<name>/up.sql      a migration template
//!   migrations/<name>/lock.toml   its pin, once pinned
//!   pinned/<2 hex>/<rest>         the content-addressed pin store
//!   tests/                        tests (used by the CLI)
//! ```
//!
//! Migrations run in byte-wise order of their folder names.

use std::path::{Path, PathBuf};

/// A problem with the project's folders.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("cannot list migrations in {}: {source}. Create the folder, or check spawn_folder in spawn.toml", path.display())]
    ListMigrations {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("migration folder {} has no up.sql: add one, or remove the folder", path.display())]
    MissingUpSql { path: PathBuf },
    #[error("migration folder name {name:?} in {} is not valid UTF-8: rename it", dir.display())]
    NonUtf8Name { dir: PathBuf, name: String },
}

/// The folders of one project.
#[derive(Debug, Clone)]
pub struct Layout {
    pub spawn_folder: PathBuf,
}

/// One `migrations/<name>/` folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationDir {
    pub name: String,
    pub dir: PathBuf,
}

impl MigrationDir {
    /// `migrations/<name>/up.sql`.
    pub fn up_sql(&self) -> PathBuf {
        self.dir.join("up.sql")
    }

    /// `migrations/<name>/lock.toml`.
    pub fn lock_toml(&self) -> PathBuf {
        self.dir.join("lock.toml")
    }
}

impl Layout {
    pub fn new(spawn_folder: impl Into<PathBuf>) -> Self {
        Self {
            spawn_folder: spawn_folder.into(),
        }
    }

    pub fn components_dir(&self) -> PathBuf {
        self.spawn_folder.join("components")
    }

    pub fn migrations_dir(&self) -> PathBuf {
        self.spawn_folder.join("migrations")
    }

    pub fn pinned_dir(&self) -> PathBuf {
        self.spawn_folder.join("pinned")
    }

    pub fn tests_dir(&self) -> PathBuf {
        self.spawn_folder.join("tests")
    }

    /// The folder of migration `name` (whether or not it exists).
    pub fn migration(&self, name: &str) -> MigrationDir {
        MigrationDir {
            name: name.to_owned(),
            dir: self.migrations_dir().join(name),
        }
    }

    /// Every migration folder, in apply order (byte-wise by name). Hidden folders and plain
    /// files (a README, `.gitkeep`) are skipped; a folder without `up.sql` is an error. A
    /// missing `migrations/` folder means no migrations.
    pub fn migrations(&self) -> Result<Vec<MigrationDir>, LayoutError> {
        let dir = self.migrations_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(LayoutError::ListMigrations { path: dir, source }),
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| LayoutError::ListMigrations {
                path: dir.clone(),
                source,
            })?;
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(LayoutError::NonUtf8Name {
                    dir,
                    name: name.to_string_lossy().into_owned(),
                });
            };
            if name.starts_with('.') {
                continue;
            }
            let migration = MigrationDir {
                name: name.to_owned(),
                dir: path,
            };
            if !migration.up_sql().is_file() {
                return Err(LayoutError::MissingUpSql {
                    path: migration.dir,
                });
            }
            found.push(migration);
        }
        found.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        Ok(found)
    }
}

/// Whether `name` is usable as a migration folder name: non-empty, no path separators,
/// no whitespace or control characters, not `.`/`..`, not hidden.
pub fn validate_migration_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a migration name cannot be empty".into());
    }
    if name.starts_with('.') {
        return Err(format!("migration name {name:?} cannot start with `.`"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, '/' | '\\') || c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "migration name {name:?} cannot contain {c:?}; use letters, digits, `-` and `_`"
        ));
    }
    Ok(())
}

/// `path` relative to `base` for messages, or as it is when it is not below `base`.
pub fn display_relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_sorted_bytewise_skipping_files_and_hidden_folders() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        for name in ["b-2", "B-1", "a-3", ".hidden"] {
            std::fs::create_dir_all(layout.migrations_dir().join(name)).unwrap();
            std::fs::write(layout.migrations_dir().join(name).join("up.sql"), "").unwrap();
        }
        std::fs::write(layout.migrations_dir().join("README.md"), "").unwrap();
        let names: Vec<_> = layout
            .migrations()
            .unwrap()
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(names, ["B-1", "a-3", "b-2"]);
    }

    #[test]
    fn folder_without_up_sql_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        std::fs::create_dir_all(layout.migrations_dir().join("20250101-x")).unwrap();
        let err = layout.migrations().unwrap_err().to_string();
        assert!(err.contains("20250101-x has no up.sql"), "{err}");
    }

    #[test]
    fn missing_migrations_folder_means_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Layout::new(dir.path()).migrations().unwrap().is_empty());
    }

    #[test]
    fn names_are_validated() {
        assert!(validate_migration_name("20250101000000-add-users").is_ok());
        assert!(validate_migration_name("a/b").is_err());
        assert!(validate_migration_name("a b").is_err());
        assert!(validate_migration_name("").is_err());
        assert!(validate_migration_name("..").is_err());
    }
}
