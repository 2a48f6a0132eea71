//! The project's SQL regression tests: `<spawn_folder>/tests/<name>/test.sql`, a template
//! rendered like a migration (components and macros from the working tree's `components/`,
//! `env`, `variables`, data files), and `tests/<name>/expected`, the output it must print.
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
}

impl Project {
    /// Every `tests/<name>/` folder, sorted by name; none when `tests/` does not exist.
    pub fn sql_tests(&self) -> Result<Vec<SqlTest>, SqlTestsError> {
        list_tests(&self.layout.tests_dir())
    }

    /// Renders `test` for `environment` with the variables of `variables`, components from
    /// the working tree (tests are never pinned: they test what the components are now).
    pub fn render_test(
        &mut self,
        test: &SqlTest,
        environment: &str,
        variables: &VariablesSource,
    ) -> Result<Rendered, BuildError> {
        let mut problems = Problems::new();
        let vars = self.env_variables(&[environment.to_owned()], variables, &mut problems);
        problems.into_result()?;
        let value = vars.first().and_then(|v| v.value.as_ref());
        let test_sql = test.test_sql();
        render::render(&RenderRequest {
            migration_name: &format!("tests/{}", test.name),
            up_sql_path: &test_sql,
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

fn list_tests(dir: &Path) -> Result<Vec<SqlTest>, SqlTestsError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(SqlTestsError::List {
                dir: dir.to_owned(),
                source,
            })
        }
    };
    let mut tests = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| SqlTestsError::List {
            dir: dir.to_owned(),
            source,
        })?;
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
        let test = SqlTest { name, dir: path };
        if !test.test_sql().is_file() {
            return Err(SqlTestsError::MissingTestSql { dir: test.dir });
        }
        tests.push(test);
    }
    tests.sort_by(|a, b| a.name.cmp(&b.name));
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
