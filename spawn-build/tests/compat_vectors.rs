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
use spawn_model::LineOrigin;

fn compat_dir() -> Option<PathBuf> {
    match std::env::var_os("SPAWN_COMPAT_DIR") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => spawn_tests::shared_dir("compat"),
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
            .rev()
            .find_map(|m| read_lock(&m.join("lock.toml")).expect("lock"));
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
    let mut without_origins = Vec::new();
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
        if rendered.origins.is_empty() {
            without_origins.push(id.clone());
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
    // Origins are best effort, but every vector here is simple enough to get them.
    assert!(
        without_origins.is_empty(),
        "no line origins for: {without_origins:?}"
    );
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

/// The project's own fixture (`tests/fixtures/render-project/`): includes, macros, extends,
/// env branches, variables, data files and escaping, rendered for `dev` and `prod`, from the
/// working tree and from a fresh SHA-256 pin. Run with `SPAWN_BLESS=1` to rewrite
/// `expected/` after an intended change (and review the diff).
mod fixture {
    use super::*;
    use minijinja::Value;

    const ENVS: [&str; 2] = ["dev", "prod"];

    fn project() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/render-project")
    }

    fn variables(project: &Path, env: &str) -> Value {
        let file = if env == "dev" {
            "vars/dev.json"
        } else {
            "vars/prod.yaml"
        };
        load_variables(&project.join(file)).expect("fixture variables")
    }

    fn render_in(
        project: &Path,
        migration: &str,
        env: &str,
        components: &ComponentSource,
    ) -> Result<Rendered, String> {
        let vars = variables(project, env);
        let up_sql = project.join("migrations").join(migration).join("up.sql");
        render(&RenderRequest {
            migration_name: migration,
            up_sql_path: &up_sql,
            components,
            environment: env,
            variables: Some(&vars),
        })
        .map_err(|e| e.to_string())
    }

    fn pin(components: &Path, store: &Path) -> ComponentSource {
        let store = PinStore::new(store);
        let root = store.pin(components).expect("pin fixture");
        ComponentSource::Pinned(Arc::new(store.snapshot(&root).expect("snapshot")))
    }

    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).expect("mkdir");
        for entry in fs::read_dir(from).expect("list") {
            let entry = entry.expect("entry");
            let target = to.join(entry.file_name());
            if entry.file_type().expect("type").is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                fs::copy(entry.path(), target).expect("copy");
            }
        }
    }

    #[test]
    fn fixture_renders_match_expected_unpinned_and_pinned() {
        let project = project();
        let store = tempfile::tempdir().expect("tempdir");
        let pinned = pin(&project.join("components"), store.path());
        let unpinned = ComponentSource::Directory(project.join("components"));
        let bless = std::env::var_os("SPAWN_BLESS").is_some();
        let mut count = 0;
        for migration in sorted_dirs(&project.join("migrations")) {
            let migration = migration
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            for env in ENVS {
                let from_tree =
                    render_in(&project, &migration, env, &unpinned).expect("unpinned render");
                let from_pin =
                    render_in(&project, &migration, env, &pinned).expect("pinned render");
                assert_eq!(
                    from_tree.sql, from_pin.sql,
                    "{migration} [{env}]: pinned and unpinned differ"
                );
                let expected_path = project
                    .join("expected")
                    .join(format!("{migration}.{env}.sql"));
                if bless {
                    fs::write(&expected_path, &from_tree.sql).expect("bless");
                }
                let expected = fs::read_to_string(&expected_path).expect("expected file");
                assert_eq!(
                    from_tree.sql,
                    expected,
                    "{migration} [{env}] differs from {}",
                    expected_path.display()
                );
                count += 1;
            }
        }
        assert_eq!(count, 16);
    }

    #[test]
    fn pinned_render_ignores_later_edits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let project = dir.path();
        copy_dir(
            &project_root_subdir("components"),
            &project.join("components"),
        );
        copy_dir(
            &project_root_subdir("migrations"),
            &project.join("migrations"),
        );
        copy_dir(&project_root_subdir("vars"), &project.join("vars"));
        let pinned = pin(&project.join("components"), &project.join("pinned"));
        fs::write(
            project.join("components/seed/prod.sql"),
            "-- edited after pinning\n",
        )
        .expect("edit");
        fs::write(
            project.join("components/schema/tables/not-written-yet.sql"),
            "-- now it exists\n",
        )
        .expect("add");

        let unpinned = ComponentSource::Directory(project.join("components"));
        let old = render_in(project, "20250101000000-includes", "prod", &pinned).expect("pinned");
        let new =
            render_in(project, "20250101000000-includes", "prod", &unpinned).expect("unpinned");
        assert!(
            old.sql.contains("-- no seed data in production"),
            "{}",
            old.sql
        );
        assert!(!old.sql.contains("now it exists"), "{}", old.sql);
        assert!(new.sql.contains("-- edited after pinning"), "{}", new.sql);
        assert!(new.sql.contains("-- now it exists"), "{}", new.sql);
    }

    fn project_root_subdir(name: &str) -> PathBuf {
        project().join(name)
    }

    #[test]
    fn origins_and_files_read() {
        let project = project();
        let components = project.join("components");
        let unpinned = ComponentSource::Directory(components.clone());
        let r = render_in(&project, "20250101000000-includes", "dev", &unpinned).expect("render");
        assert_eq!(origin_in(&r, "BEGIN;"), None);
        assert_eq!(
            origin_in(&r, "CREATE TABLE item (").as_deref(),
            Some("schema/tables/items.sql")
        );
        assert_eq!(
            origin_in(&r, "GENERATED ALWAYS").as_deref(),
            Some("schema/tables/common_columns.sql")
        );
        assert_eq!(
            origin_in(&r, "name text NOT NULL").as_deref(),
            Some("schema/tables/items.sql")
        );
        assert_eq!(
            origin_in(&r, "CREATE INDEX").as_deref(),
            Some("schema/tables/item-tags.sql")
        );
        assert_eq!(
            origin_in(&r, "dev sample 1").as_deref(),
            Some("seed/dev.sql")
        );
        assert_eq!(origin_in(&r, "COMMIT;"), None);
        let expected_files: std::collections::BTreeSet<PathBuf> = [
            project.join("migrations/20250101000000-includes/up.sql"),
            components.join("schema/tables/items.sql"),
            components.join("schema/tables/common_columns.sql"),
            components.join("schema/tables/item-tags.sql"),
            components.join("seed/dev.sql"),
        ]
        .into_iter()
        .collect();
        assert_eq!(r.files_read, expected_files);

        // Blocks are credited to the template that wrote them, macro output to the macro's file.
        let r = render_in(&project, "20250101000200-extends", "prod", &unpinned).expect("render");
        let origin_at = |needle: &str| origin_in(&r, needle);
        assert_eq!(
            origin_at("-- layout for").as_deref(),
            Some("layouts/base.sql")
        );
        assert_eq!(
            origin_at("lock_timeout").as_deref(),
            Some("layouts/base.sql")
        );
        assert_eq!(origin_at("CREATE TABLE \"event_prod\""), None);
        assert_eq!(origin_at("-- footer override"), None);
        assert_eq!(origin_at("COMMIT;").as_deref(), Some("layouts/base.sql"));
        let r = render_in(&project, "20250101000100-macros", "dev", &unpinned).expect("render");
        assert_eq!(
            origin_in(&r, "CREATE TABLE").as_deref(),
            Some("macros/ddl.sql")
        );
        assert_eq!(
            origin_in(&r, "\"note\" text").as_deref(),
            Some("macros/ddl.sql")
        );

        // Pinned: only up.sql comes from the working tree.
        let store = tempfile::tempdir().expect("tempdir");
        let pinned = pin(&components, store.path());
        let r = render_in(&project, "20250101000500-data-files", "prod", &pinned).expect("render");
        assert_eq!(r.files_read.len(), 1);

        // Random UUIDs do not defeat origins (the marker pass replays them).
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join("components")).expect("mkdir");
        fs::write(
            dir.path().join("components/ids.sql"),
            "SELECT {{ gen_uuid_v4() }}, {{ gen_uuid_v7() }};\n",
        )
        .expect("write");
        let up = dir.path().join("up.sql");
        fs::write(&up, "-- ids\n{% include \"ids.sql\" %}\n").expect("write");
        let r = render(&RenderRequest {
            migration_name: "ids",
            up_sql_path: &up,
            components: &ComponentSource::Directory(dir.path().join("components")),
            environment: "dev",
            variables: None,
        })
        .expect("render");
        assert_eq!(
            r.origins,
            vec![
                LineOrigin::from_up_sql(1),
                LineOrigin::from_component(2, "ids.sql")
            ]
        );
    }

    /// The origin of the first rendered line containing `needle`.
    fn origin_in(r: &Rendered, needle: &str) -> Option<String> {
        let line = r
            .sql
            .lines()
            .position(|l| l.contains(needle))
            .map(|i| i as u32 + 1)
            .unwrap_or_else(|| panic!("{needle:?} not rendered"));
        spawn_build::project::origin_of(&r.origins, line)
    }

    /// Renders `up_sql` in a scratch project whose components are `files`.
    fn render_scratch(up_sql: &str, files: &[(&str, &[u8])]) -> Result<Rendered, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let components = dir.path().join("components");
        fs::create_dir_all(&components).expect("mkdir");
        for (name, bytes) in files {
            let path = components.join(name);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(path, bytes).expect("write");
        }
        let up = dir.path().join("migrations/20250101000000-scratch/up.sql");
        fs::create_dir_all(up.parent().expect("parent")).expect("mkdir");
        fs::write(&up, up_sql).expect("write");
        let unpinned = render(&RenderRequest {
            migration_name: "20250101000000-scratch",
            up_sql_path: &up,
            components: &ComponentSource::Directory(components.clone()),
            environment: "dev",
            variables: None,
        })
        .map_err(|e| e.to_string());
        let pinned = render(&RenderRequest {
            migration_name: "20250101000000-scratch",
            up_sql_path: &up,
            components: &pin(&components, &dir.path().join("pinned")),
            environment: "dev",
            variables: None,
        })
        .map_err(|e| e.to_string());
        // Pinned and unpinned agree, in success and in failure.
        match (&unpinned, &pinned) {
            (Ok(a), Ok(b)) => assert_eq!(a.sql, b.sql, "pinned and unpinned renders differ"),
            (Err(_), Err(_)) => {}
            _ => panic!("pinned and unpinned disagree: {unpinned:?} vs {pinned:?}"),
        }
        unpinned
    }

    #[test]
    fn errors_name_migration_file_line_and_hint() {
        let err = render_scratch("SELECT 1;\nSELECT '{{1,2}}'::int[];\n", &[]).expect_err("syntax");
        assert!(
            err.starts_with("migration 20250101000000-scratch: "),
            "{err}"
        );
        assert!(
            err.contains("up.sql:2: syntax error: unexpected `,`"),
            "{err}"
        );
        assert!(err.contains("{% raw %}"), "{err}");

        let err = render_scratch(
            "-- a\n{% include \"lib/b.sql\" %}\n",
            &[("lib/b.sql", b"ok\n{% if %}\n")],
        )
        .expect_err("component syntax");
        assert!(err.contains("lib/b.sql:2: syntax error"), "{err}");

        let err = render_scratch(
            "-- a\n\n{% include \"lib/c.sql\" %}\n",
            &[("lib/c.sql", b"-- c\nSELECT {{ missing.attr.deeper }};\n")],
        )
        .expect_err("runtime error in a component");
        assert!(
            err.contains("lib/c.sql:2: undefined value (included from "),
            "{err}"
        );
        assert!(err.contains("up.sql:3;"), "{err}");

        let err = render_scratch("{% include \"nope.sql\" %}", &[]).expect_err("missing include");
        assert!(err.contains("up.sql:1: template not found"), "{err}");
        assert!(err.contains("components"), "{err}");

        let err =
            render_scratch("{% include \"../up.sql\" ignore missing %}", &[]).expect_err("escape");
        assert!(err.contains("outside components/"), "{err}");

        let err =
            render_scratch("{{ 'data/none.bin'|read_file }}", &[]).expect_err("missing data file");
        assert!(
            err.contains("file not found in components: data/none.bin"),
            "{err}"
        );

        let err = render_scratch("{% include \"bin.sql\" %}", &[("bin.sql", &[0xff, 0xfe])])
            .expect_err("binary template");
        assert!(err.contains("not valid UTF-8"), "{err}");

        let err = render_scratch("{{ x.y.z }}", &[]).expect_err("undefined");
        assert!(err.contains("up.sql:1: undefined value"), "{err}");

        let ok = render_scratch(
            "{% include \"./a.sql\" ignore missing %}{% include \"A.sql\" ignore missing %}{% include \"a.sql\" %}",
            &[("a.sql", b"exact keys only\n")],
        )
        .expect("render");
        assert_eq!(ok.sql, "exact keys only");
    }

    /// The tail of a scratch render error, after the (temporary) `…/up.sql` path.
    fn after_up_sql(err: &str) -> &str {
        assert!(
            err.starts_with("migration 20250101000000-scratch: "),
            "{err}"
        );
        err.split_once("/up.sql:").map_or(err, |(_, tail)| tail)
    }

    #[test]
    fn csv_errors_name_file_line_and_column() {
        let seed =
            "-- seed\n{% for r in 'data/varieties.csv'|read_csv %}{{ r.name }}{% endfor %}\n";
        let err = render_scratch(
            seed,
            &[(
                "data/varieties.csv",
                b"name,kind,origin\nFuji,dessert,Japan\nBramley,cooking\n",
            )],
        )
        .expect_err("short row");
        assert_eq!(
            after_up_sql(&err),
            "2: invalid operation: read_csv: data/varieties.csv: line 3, column 3: the row has 2 \
             fields but the header row has 3 (no value for \"origin\"); give every row one field \
             per column (an empty value is an empty field, as in `a,,c`) and quote values that \
             contain `,`, quotes or line breaks"
        );

        // The line is where the row starts, even after a quoted line break.
        let err = render_scratch(
            "{{ 'd.csv'|read_csv(header=false, delimiter=';') }}",
            &[("d.csv", b"a;\"b\nc\"\nd;e;f\n")],
        )
        .expect_err("long row");
        assert_eq!(
            after_up_sql(&err),
            "1: invalid operation: read_csv: d.csv: line 3, column 3: the row has 3 fields but \
             the first row has 2 (extra value \"f\"); give every row one field per column (an \
             empty value is an empty field, as in `a;;c`) and quote values that contain `;`, \
             quotes or line breaks"
        );

        let err = render_scratch("{{ 'data/none.csv'|read_csv }}", &[]).expect_err("missing");
        assert!(
            after_up_sql(&err).starts_with(
                "1: invalid operation: file not found in components: data/none.csv (looked in "
            ),
            "{err}"
        );

        let err = render_scratch("{{ '../x.csv'|read_csv }}", &[]).expect_err("escapes");
        assert!(err.contains("outside components/"), "{err}");

        let cases: [(&str, &str); 6] = [
            (
                "{{ 'a'|parse_csv(delimiter=';;') }}",
                "parse_csv: delimiter=\";;\" is not allowed: delimiter must be one ASCII \
                 character other than a line break",
            ),
            (
                "{{ 'a'|parse_csv(delimiter='\u{a7}') }}",
                "parse_csv: delimiter=\"\u{a7}\" is not allowed: delimiter must be one ASCII \
                 character other than a line break",
            ),
            (
                "{{ 'a'|parse_csv(quote='') }}",
                "parse_csv: quote=\"\" is not allowed: quote must be one ASCII character other \
                 than a line break, or none (no quoting)",
            ),
            (
                "{{ 'a'|parse_csv(header='no') }}",
                "parse_csv: header=\"no\" is not allowed: header must be true or false",
            ),
            (
                "{{ 'x.csv'|read_csv(delimiter='|', quote='|') }}",
                "read_csv: delimiter and quote are both '|'; they must be different characters",
            ),
            (
                "{{ 'a'|parse_csv(separator=';') }}",
                "parse_csv: unknown keyword argument 'separator'; the options are header, \
                 delimiter and quote",
            ),
        ];
        for (template, message) in cases {
            let err = render_scratch(template, &[("x.csv", b"a\n")]).expect_err(template);
            assert_eq!(
                after_up_sql(&err),
                format!("1: invalid operation: {message}"),
                "{template}"
            );
        }

        let err = render_scratch(
            "{{ 'latin1.csv'|read_csv }}",
            &[("latin1.csv", b"name,city\nJos\xe9,Z\xfcrich\n")],
        )
        .expect_err("not UTF-8");
        assert_eq!(
            after_up_sql(&err),
            "1: invalid operation: read_csv: latin1.csv: line 2, column 1: not valid UTF-8 \
             (byte 0xe9 after \"Jos\"); CSV values are text: save the file as UTF-8 \
             (read_file reads bytes)"
        );

        let err = render_scratch("{{ 'id,id\n1,2'|parse_csv }}", &[]).expect_err("duplicate");
        assert!(
            after_up_sql(&err).ends_with(
                "parse_csv: line 1: the header names \"id\" twice (columns 1 and 2); header \
                 names must be unique, or read the file with header=false"
            ),
            "{err}"
        );
    }

    #[test]
    fn csv_seed_loop_escapes_values() {
        let r = render_scratch(
            "{% for v in 'data/v.csv'|read_csv %}\
             INSERT INTO variety (name, note) VALUES ({{ v.name }}, {{ v.note }});\n\
             {% endfor %}",
            &[(
                "data/v.csv",
                b"name,note\nBramley's,\"a \"\"b\"\"; c\"\nx\\y,'); DROP TABLE variety; --\n",
            )],
        )
        .expect("render");
        assert_eq!(
            r.sql,
            "INSERT INTO variety (name, note) VALUES ('Bramley''s', 'a \"b\"; c');\n\
             INSERT INTO variety (name, note) VALUES ( E'x\\\\y', '''); DROP TABLE variety; --');\n"
        );
        assert_eq!(
            r.components_read,
            std::collections::BTreeSet::from(["data/v.csv".to_owned()])
        );
    }

    #[test]
    fn pinned_csv_ignores_later_edits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let project = dir.path();
        let components = project.join("components");
        copy_dir(&project_root_subdir("components"), &components);
        copy_dir(
            &project_root_subdir("migrations"),
            &project.join("migrations"),
        );
        copy_dir(&project_root_subdir("vars"), &project.join("vars"));
        let migration = "20250101000700-csv-data";
        let pinned = pin(&components, &project.join("pinned"));
        fs::write(
            components.join("data/varieties.csv"),
            "code,name,note\ngala,Gala,edited after pinning\n",
        )
        .expect("edit");

        let old = render_in(project, migration, "prod", &pinned).expect("pinned");
        let expected = fs::read_to_string(
            project_root_subdir("expected").join(format!("{migration}.prod.sql")),
        )
        .expect("expected file");
        assert_eq!(old.sql, expected);
        assert_eq!(old.files_read.len(), 1, "pinned: only up.sql is read");

        let unpinned = ComponentSource::Directory(components.clone());
        let new = render_in(project, migration, "prod", &unpinned).expect("unpinned");
        assert!(new.sql.contains("'edited after pinning'"), "{}", new.sql);
        assert!(!new.sql.contains("'Fuji'"), "{}", new.sql);
        // Unpinned, the CSV is a rerun-if-changed input like any other data file.
        assert!(
            new.files_read
                .contains(&components.join("data/varieties.csv")),
            "{:?}",
            new.files_read
        );
        assert!(new.components_read.contains("data/prices.csv"));
    }
}
