//! The project's SQL regression tests: `<spawn_folder>/tests/<name>/test.sql`, a template
//! rendered like a migration (components and macros from the working tree's `components/`,
//! `env`, `variables`, data files), and `tests/<name>/expected`, the output it must print.
//!
//! A migration's data change has tests of its own: `migrations/<name>/test.sql` (with an
//! optional `before.sql` that seeds rows in the shape before the migration) and
//! `migrations/<name>/expected` ([`MigrationTest`]). They are rendered the same way.
//!
//! This module lists and renders them; running them is `spawn-sqltest`'s job, and the CLI's
//! `spawn test` ties the two together.
//!
//! ```no_run
//! use spawn_build::project::{Project, VariablesSource};
//!
//! let mut project = Project::open("spawn.toml".as_ref())?;
//! for test in project.sql_tests()? {
//!     let rendered = project.render_test(&test, "dev", &VariablesSource::SpawnToml)?;
//!     println!("{}: {} bytes of SQL", test.name, rendered.sql.len());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use crate::error::BuildError;
use crate::problems::Problems;
use crate::project::{Project, VariablesSource};
use crate::render::{self, ComponentSource, RenderRequest, Rendered};

/// One `tests/<name>/` folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlTest {
    /// The folder's name, which is the test's name.
    pub name: String,
    /// The folder.
    pub dir: PathBuf,
}

impl SqlTest {
    /// `tests/<name>/test.sql`, the template.
    pub fn test_sql(&self) -> PathBuf {
        self.dir.join("test.sql")
    }

    /// `tests/<name>/expected`, the golden output.
    pub fn expected(&self) -> PathBuf {
        self.dir.join("expected")
    }
}

/// The test of migration `<name>`'s data change: `migrations/<name>/test.sql`, run after
/// `before.sql` (optional) and the migration itself, in a database migrated up to just
/// before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationTest {
    /// The migration's folder name.
    pub migration: String,
    /// `migrations/<name>/`.
    pub dir: PathBuf,
}

/// What names a migration test among the others (`migration:<name>`).
pub const MIGRATION_TEST_PREFIX: &str = "migration:";

impl MigrationTest {
    /// The test's name in reports and selections: `migration:<name>`.
    pub fn name(&self) -> String {
        format!("{MIGRATION_TEST_PREFIX}{}", self.migration)
    }

    /// `migrations/<name>/test.sql`, run after the migration.
    pub fn test_sql(&self) -> PathBuf {
        self.dir.join("test.sql")
    }

    /// `migrations/<name>/before.sql`, run before the migration (optional).
    pub fn before_sql(&self) -> PathBuf {
        self.dir.join("before.sql")
    }

    /// `migrations/<name>/expected`, the golden output of `test.sql`.
    pub fn expected(&self) -> PathBuf {
        self.dir.join("expected")
    }
}

/// A migration test's rendered scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMigrationTest {
    /// `before.sql`, when there is one.
    pub before: Option<String>,
    /// `test.sql`.
    pub test: String,
}

/// Why the tests could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum SqlTestsError {
    #[error("cannot list the tests in {}: {source}", dir.display())]
    List {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("test folder {} has no test.sql: add one (`spawn test new <name>` makes both files), or remove the folder", dir.display())]
    MissingTestSql { dir: PathBuf },
    #[error("test folder name {name:?} in {} is not valid UTF-8: rename it", dir.display())]
    NonUtf8Name { dir: PathBuf, name: String },
    #[error("{} tests migration {migration}, which does not exist ({} has no up.sql): \
             `ls {}` lists the migrations; move the test to the migration it belongs to",
            dir.join("test.sql").display(), dir.display(), dir.parent().unwrap_or(dir).display())]
    MigrationMissing { migration: String, dir: PathBuf },
}

impl Project {
    /// Every `tests/<name>/` folder, sorted by name; none when `tests/` does not exist.
    pub fn sql_tests(&self) -> Result<Vec<SqlTest>, SqlTestsError> {
        list_tests(&self.layout.tests_dir())
    }

    /// Every `migrations/<name>/` folder with a `test.sql`, sorted by name; a folder with a
    /// `test.sql` but no `up.sql` tests a migration that does not exist, an error.
    pub fn migration_tests(&self) -> Result<Vec<MigrationTest>, SqlTestsError> {
        list_migration_tests(&self.layout.migrations_dir())
    }

    /// Renders `test` for `environment` with the variables of `variables`, components from
    /// the working tree (tests are never pinned: they test what the components are now).
    pub fn render_test(
        &mut self,
        test: &SqlTest,
        environment: &str,
        variables: &VariablesSource,
    ) -> Result<Rendered, BuildError> {
        let label = format!("tests/{}", test.name);
        self.render_script(&label, &test.test_sql(), environment, variables)
    }

    /// Renders `test`'s `test.sql` and `before.sql` (when there is one) like
    /// [`render_test`](Project::render_test).
    pub fn render_migration_test(
        &mut self,
        test: &MigrationTest,
        environment: &str,
        variables: &VariablesSource,
    ) -> Result<RenderedMigrationTest, BuildError> {
        let label = format!("migrations/{}", test.migration);
        let before_sql = test.before_sql();
        let before = if before_sql.is_file() {
            Some(
                self.render_script(&label, &before_sql, environment, variables)?
                    .sql,
            )
        } else {
            None
        };
        let test = self
            .render_script(&label, &test.test_sql(), environment, variables)?
            .sql;
        Ok(RenderedMigrationTest { before, test })
    }

    fn render_script(
        &mut self,
        label: &str,
        path: &Path,
        environment: &str,
        variables: &VariablesSource,
    ) -> Result<Rendered, BuildError> {
        let mut problems = Problems::new();
        let vars = self.env_variables(&[environment.to_owned()], variables, &mut problems);
        problems.into_result()?;
        let value = vars.first().and_then(|v| v.value.as_ref());
        render::render(&RenderRequest {
            migration_name: label,
            up_sql_path: path,
            components: &ComponentSource::Directory(self.layout.components_dir()),
            environment,
            variables: value,
        })
        .map_err(|source| BuildError::Render {
            environment: environment.to_owned(),
            source,
        })
    }
}

/// The subfolders of `dir` (none when it does not exist), with their UTF-8 names, sorted
/// byte-wise by name.
fn subfolders(dir: &Path) -> Result<Vec<(String, PathBuf)>, SqlTestsError> {
    let list_error = |source| SqlTestsError::List {
        dir: dir.to_owned(),
        source,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(list_error(source)),
    };
    let mut folders = Vec::new();
    for entry in entries {
        let entry = entry.map_err(list_error)?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let name = entry
            .file_name()
            .into_string()
            .map_err(|name| SqlTestsError::NonUtf8Name {
                dir: dir.to_owned(),
                name: name.to_string_lossy().into_owned(),
            })?;
        folders.push((name, path));
    }
    folders.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(folders)
}

fn list_migration_tests(dir: &Path) -> Result<Vec<MigrationTest>, SqlTestsError> {
    let mut tests = Vec::new();
    for (migration, path) in subfolders(dir)? {
        if migration.starts_with('.') || !path.join("test.sql").is_file() {
            continue;
        }
        if !path.join("up.sql").is_file() {
            return Err(SqlTestsError::MigrationMissing {
                migration,
                dir: path,
            });
        }
        tests.push(MigrationTest {
            migration,
            dir: path,
        });
    }
    Ok(tests)
}

fn list_tests(dir: &Path) -> Result<Vec<SqlTest>, SqlTestsError> {
    let mut tests = Vec::new();
    for (name, dir) in subfolders(dir)? {
        let test = SqlTest { name, dir };
        if !test.test_sql().is_file() {
            return Err(SqlTestsError::MissingTestSql { dir: test.dir });
        }
        tests.push(test);
    }
    Ok(tests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_test_folders_sorted_and_reports_one_without_test_sql() {
        let root = tempfile::tempdir().unwrap();
        let tests = root.path().join("tests");
        assert!(
            list_tests(&tests).unwrap().is_empty(),
            "no tests/ is no tests"
        );
        for name in ["b", "a"] {
            std::fs::create_dir_all(tests.join(name)).unwrap();
            std::fs::write(tests.join(name).join("test.sql"), "select 1;").unwrap();
        }
        std::fs::write(tests.join("README"), "not a test").unwrap();
        let names: Vec<String> = list_tests(&tests)
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["a", "b"]);

        std::fs::create_dir_all(tests.join("c")).unwrap();
        let err = list_tests(&tests).unwrap_err().to_string();
        assert!(err.contains("has no test.sql"), "{err}");
        assert!(err.contains("tests/c"), "{err}");
    }

    #[test]
    fn lists_migration_tests_and_refuses_one_without_its_migration() {
        let root = tempfile::tempdir().unwrap();
        let migrations = root.path().join("migrations");
        assert!(list_migration_tests(&migrations).unwrap().is_empty());
        for (name, test) in [("2-split", true), ("1-create", false), ("3-more", true)] {
            let dir = migrations.join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("up.sql"), "select 1;").unwrap();
            if test {
                std::fs::write(dir.join("test.sql"), "select 2;").unwrap();
            }
        }
        let found = list_migration_tests(&migrations).unwrap();
        let names: Vec<String> = found.iter().map(MigrationTest::name).collect();
        assert_eq!(names, ["migration:2-split", "migration:3-more"]);
        assert_eq!(found[0].expected(), migrations.join("2-split/expected"));

        let orphan = migrations.join("4-gone");
        std::fs::create_dir_all(&orphan).unwrap();
        std::fs::write(orphan.join("test.sql"), "select 3;").unwrap();
        let err = list_migration_tests(&migrations).unwrap_err().to_string();
        assert!(
            err.contains("tests migration 4-gone, which does not exist"),
            "{err}"
        );
        assert!(err.contains("has no up.sql"), "{err}");
    }

    #[test]
    fn migration_tests_render_before_and_test() -> Result<(), Box<dyn std::error::Error>> {
        let root = tempfile::tempdir()?;
        let db = root.path().join("db");
        let dir = db.join("migrations/20250101000000-split");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(root.path().join("spawn.toml"), "spawn_folder = \"db\"\n")?;
        std::fs::write(dir.join("up.sql"), "select 1;")?;
        std::fs::write(dir.join("test.sql"), "SELECT {{ env }};")?;
        let mut project = Project::open(&root.path().join("spawn.toml"))?;
        let test = project.migration_tests()?.remove(0);
        let rendered = project.render_migration_test(&test, "dev", &VariablesSource::SpawnToml)?;
        assert_eq!(rendered.before, None);
        assert_eq!(rendered.test, "SELECT 'dev';");
        std::fs::write(dir.join("before.sql"), "INSERT INTO t VALUES ({{ env }});")?;
        let rendered = project.render_migration_test(&test, "dev", &VariablesSource::SpawnToml)?;
        assert_eq!(
            rendered.before.as_deref(),
            Some("INSERT INTO t VALUES ('dev');")
        );
        Ok(())
    }

    #[test]
    fn tests_read_csv_data_files_from_components() -> Result<(), Box<dyn std::error::Error>> {
        let root = tempfile::tempdir()?;
        let db = root.path().join("db");
        std::fs::create_dir_all(db.join("components/data"))?;
        std::fs::create_dir_all(db.join("tests/prices"))?;
        std::fs::write(root.path().join("spawn.toml"), "spawn_folder = \"db\"\n")?;
        std::fs::write(
            db.join("components/data/prices.csv"),
            "name;price\nFuji;1,20\n",
        )?;
        std::fs::write(
            db.join("tests/prices/test.sql"),
            "{% for r in 'data/prices.csv'|read_csv(delimiter=';') %}\
             SELECT {{ r.name }}, {{ r.price }};{% endfor %}\n",
        )?;
        let mut project = Project::open(&root.path().join("spawn.toml"))?;
        let test = project.sql_tests()?.remove(0);
        let rendered = project.render_test(&test, "dev", &VariablesSource::SpawnToml)?;
        assert_eq!(rendered.sql, "SELECT 'Fuji', '1,20';");
        Ok(())
    }
}
