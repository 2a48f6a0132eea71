//! Compatibility with the original spawn CLI (spawn-db 0.2.2), and rendering of the
//! project's own fixture.
//!
//! The golden vectors live outside the repository, in `../shared/compat` next to the
//! checkout (override with `SPAWN_COMPAT_DIR`); when that folder is absent the vector tests
//! print "skipped: ../shared/compat not found" and pass. The fixture tests at the end use
//! `tests/fixtures/render-project/` and always run.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use spawn_build::pin::{read_lock, HashAlgorithm, ObjectHash, PinStore};
use spawn_build::render::{render, ComponentSource, RenderRequest, Rendered};
use spawn_build::variables::load_variables;

fn compat_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SPAWN_COMPAT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/compat"));
    if dir.join("vectors.tsv").is_file() {
        Some(dir)
    } else {
        println!("skipped: ../shared/compat not found");
        None
    }
}

/// One row of `vectors.tsv` or `errors.tsv`.
#[derive(Debug)]
struct Row {
    project: String,
    migration: String,
    env: String,
    variables_file: Option<String>,
    pin: String,
    /// The XXH3-128 column (vectors) or the first error line (errors).
    last: String,
}

fn read_rows(path: &Path) -> Vec<Row> {
    let text = fs::read_to_string(path).expect("read tsv");
    let mut lines = text.lines();
    lines.next().expect("header line");
    lines
        .filter(|l| !l.is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 6, "6 columns in {line:?}");
            Row {
                project: cols[0].to_owned(),
                migration: cols[1].to_owned(),
                env: cols[2].to_owned(),
                variables_file: (cols[3] != "-").then(|| cols[3].to_owned()),
                pin: cols[4].to_owned(),
                last: cols[5].to_owned(),
            }
        })
        .collect()
}

fn render_row(compat: &Path, row: &Row, components: &ComponentSource) -> Result<Rendered, String> {
    let project = compat.join("projects").join(&row.project);
    let variables = match &row.variables_file {
        Some(file) => Some(load_variables(&project.join(file)).map_err(|e| e.to_string())?),
        None => None,
    };
    let up_sql = project
        .join("migrations")
        .join(&row.migration)
        .join("up.sql");
    render(&RenderRequest {
        migration_name: &row.migration,
        up_sql_path: &up_sql,
        components,
        environment: &row.env,
        variables: variables.as_ref(),
    })
    .map_err(|e| e.to_string())
}

fn pinned_source(compat: &Path, row: &Row) -> Result<ComponentSource, String> {
    let project = compat.join("projects").join(&row.project);
    let lock_path = project
        .join("migrations")
        .join(&row.migration)
        .join("lock.toml");
    let pin = read_lock(&lock_path)
        .map_err(|e| e.to_string())?
        .ok_or("no lock.toml")?;
    let snapshot = PinStore::new(project.join("pinned"))
        .snapshot(&pin)
        .map_err(|e| e.to_string())?;
    Ok(ComponentSource::Pinned(Arc::new(snapshot)))
}

fn xxh3_hex(bytes: &[u8]) -> String {
    HashAlgorithm::Xxh3_128.hash(bytes).to_string()
}

/// The pin of the last migration of each project (in name order) that has a lock file.
fn last_pins(compat: &Path) -> BTreeMap<String, String> {
    let mut pins = BTreeMap::new();
    for project in sorted_dirs(&compat.join("projects")) {
        let name = project
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let last = sorted_dirs(&project.join("migrations"))
            .into_iter()
            .filter_map(|m| read_lock(&m.join("lock.toml")).expect("lock"))
            .last();
        if let Some(pin) = last {
            pins.insert(name, pin.to_string());
        }
    }
    pins
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn vectors_render_byte_exact_when_pinned() {
    let Some(compat) = compat_dir() else { return };
    let rows = read_rows(&compat.join("vectors.tsv"));
    assert!(!rows.is_empty());
    let mut failures = Vec::new();
    for row in &rows {
        let id = format!("{}/{} [{}]", row.project, row.migration, row.env);
        let lock_path = compat
            .join("projects")
            .join(&row.project)
            .join("migrations")
            .join(&row.migration)
            .join("lock.toml");
        let lock_bytes = fs::read_to_string(&lock_path).expect("lock.toml");
        if lock_bytes != format!("pin = \"{}\"\n", row.pin) {
            failures.push(format!("{id}: lock.toml is {lock_bytes:?}"));
        }
        let rendered =
            pinned_source(&compat, row).and_then(|source| render_row(&compat, row, &source));
        let rendered = match rendered {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{id}: render failed: {e}"));
                continue;
            }
        };
        let expected_path = compat
            .join("expected")
            .join(&row.project)
            .join(format!("{}.{}.sql", row.migration, row.env));
        let expected = fs::read(&expected_path).expect("expected sql");
        if rendered.sql.as_bytes() != expected {
            failures.push(format!(
                "{id}: rendered SQL differs from {}\n--- expected\n{}\n--- got\n{}",
                expected_path.display(),
                String::from_utf8_lossy(&expected),
                rendered.sql
            ));
        }
        if xxh3_hex(rendered.sql.as_bytes()) != row.last {
            failures.push(format!(
                "{id}: XXH3-128 {} != {}",
                xxh3_hex(rendered.sql.as_bytes()),
                row.last
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    println!("{} vectors rendered byte-exact", rows.len());
}

#[test]
fn vectors_render_the_same_unpinned_when_components_are_unchanged() {
    let Some(compat) = compat_dir() else { return };
    let current = last_pins(&compat);
    let mut checked = 0;
    let mut failures = Vec::new();
    for row in read_rows(&compat.join("vectors.tsv")) {
        if current.get(&row.project) != Some(&row.pin) {
            continue; // pinned before the components were edited (s11's first migration)
        }
        let components = ComponentSource::Directory(
            compat
                .join("projects")
                .join(&row.project)
                .join("components"),
        );
        let expected = fs::read(
            compat
                .join("expected")
                .join(&row.project)
                .join(format!("{}.{}.sql", row.migration, row.env)),
        )
        .expect("expected sql");
        match render_row(&compat, &row, &components) {
            Ok(r) if r.sql.as_bytes() == expected => {}
            Ok(_) => failures.push(format!(
                "{}/{} [{}]: differs",
                row.project, row.migration, row.env
            )),
            Err(e) => failures.push(format!(
                "{}/{} [{}]: {e}",
                row.project, row.migration, row.env
            )),
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 0);
    println!("{checked} vectors rendered byte-exact from the working tree");
}

#[test]
fn error_rows_fail_to_render() {
    let Some(compat) = compat_dir() else { return };
    let rows = read_rows(&compat.join("errors.tsv"));
    assert!(!rows.is_empty());
    for row in &rows {
        let source = pinned_source(&compat, row).expect("pinned snapshot");
        match render_row(&compat, row, &source) {
            Ok(r) => panic!(
                "{}/{} rendered but the original failed ({}):\n{}",
                row.project, row.migration, row.last, r.sql
            ),
            Err(e) => {
                assert!(
                    e.starts_with(&format!("migration {}: ", row.migration)),
                    "{e}"
                );
                println!(
                    "{}/{}: {e}\n    original: {}",
                    row.project, row.migration, row.last
                );
            }
        }
    }
    println!("{} error rows fail as in the original", rows.len());
}

#[test]
fn every_pinned_object_hashes_to_its_path() {
    let Some(compat) = compat_dir() else { return };
    let mut count = 0;
    for project in sorted_dirs(&compat.join("projects")) {
        let pinned = project.join("pinned");
        for prefix in sorted_dirs(&pinned) {
            for entry in fs::read_dir(&prefix).expect("list") {
                let path = entry.expect("entry").path();
                let hex = format!(
                    "{}{}",
                    prefix.file_name().expect("name").to_string_lossy(),
                    path.file_name().expect("name").to_string_lossy()
                );
                let hash: ObjectHash = hex
                    .parse()
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert_eq!(hash.algorithm(), HashAlgorithm::Xxh3_128);
                assert!(
                    hash.matches(&fs::read(&path).expect("read")),
                    "{} does not hash to its path",
                    path.display()
                );
                count += 1;
            }
        }
    }
    assert!(count > 0);
    println!("{count} pinned objects hash to their paths");
}

#[test]
fn repinning_current_components_with_xxh3_gives_the_last_pin() {
    let Some(compat) = compat_dir() else { return };
    let pins = last_pins(&compat);
    assert!(!pins.is_empty());
    for (project, expected) in &pins {
        let project_dir = compat.join("projects").join(project);
        let store_dir = tempfile::tempdir().expect("tempdir");
        let store = PinStore::with_algorithm(store_dir.path(), HashAlgorithm::Xxh3_128);
        let root = store.pin(&project_dir.join("components")).expect("pin");
        assert_eq!(&root.to_string(), expected, "{project}");
        // Every object written is byte-identical to the one in the committed store.
        for (path, hash) in store.snapshot(&root).expect("snapshot").files() {
            let committed = fs::read(project_dir.join("pinned").join(hash.relative_path()))
                .unwrap_or_else(|e| panic!("{project}: {path} ({hash}) not in pinned/: {e}"));
            assert!(hash.matches(&committed));
        }
    }
    println!(
        "{} projects re-pin to their last migration's pin",
        pins.len()
    );
}
