//! `spawn migration generate` and `spawn drift` on real databases.
//!
//! For each case of `../shared/fixtures/diff` and the cases below: a project whose only
//! migration is `a.sql`, the desired state `b.sql` given by `--from-db` and by `--schema-dir`;
//! the generated migration must pass generate's own re-check, and applied with every other
//! migration to a fresh database must leave no difference to `b` (`spawn diff`). Every
//! function, view and trigger it creates is a component included with `{% include %}`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use spawn_tests::TestDb;

mod common;
use common::spawn;

/// Cluster-wide setup (roles) runs one at a time.
static SETUP: Mutex<()> = Mutex::new(());

/// A project (in a temporary folder) whose target is `target` and whose only migration is
/// `a` (nothing when `None`).
fn project(target: &TestDb, a: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("spawn.toml"),
        format!(
            "spawn_folder = \"db\"\ntarget = \"t\"\n\n[targets.t]\nenvironment = \"dev\"\nurl = \"{}\"\n",
            target.url
        ),
    )
    .expect("spawn.toml");
    std::fs::create_dir_all(dir.path().join("db/components")).expect("components");
    std::fs::create_dir_all(dir.path().join("db/migrations")).expect("migrations");
    if let Some(a) = a {
        add_migration(dir.path(), "20250101000000-base", a);
        let (code, out, err) = run(dir.path(), &["migration", "pin", "--all"]);
        assert_eq!(code, 0, "pin: {out}\n{err}");
    }
    dir
}

fn add_migration(project: &Path, name: &str, sql: &str) {
    let m = project.join("db/migrations").join(name);
    std::fs::create_dir_all(&m).expect("mkdir");
    std::fs::write(m.join("up.sql"), format!("{{% raw %}}{sql}{{% endraw %}}\n")).expect("up.sql");
}

/// Runs `spawn <args>` in `project`: (exit code, stdout, stderr).
fn run(project: &Path, args: &[&str]) -> (i32, String, String) {
    let out = spawn()
        .current_dir(project)
        .args(args)
        .output()
        .expect("run spawn");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The migration folders of a project, in order.
fn migrations(project: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(project.join("db/migrations"))
        .expect("read migrations")
        .map(|e| e.expect("entry").path())
        .collect();
    v.sort();
    v
}

/// The generated migrations (all but the first).
fn generated(project: &Path) -> Vec<(PathBuf, String)> {
    migrations(project)
        .into_iter()
        .skip(1)
        .map(|m| {
            let text = std::fs::read_to_string(m.join("up.sql")).expect("up.sql");
            (m, text)
        })
        .collect()
}

/// Every function, view and trigger the migration creates is included from a component
/// that exists; every generated migration is pinned.
fn assert_components(project: &Path) {
    for (m, text) in generated(project) {
        assert!(m.join("lock.toml").is_file(), "{} is not pinned", m.display());
        for line in text.lines() {
            let upper = line.trim_start().to_ascii_uppercase();
            for kind in [
                "FUNCTION ",
                "PROCEDURE ",
                "VIEW ",
                "MATERIALIZED VIEW ",
                "TRIGGER ",
            ] {
                assert!(
                    !upper.starts_with(&format!("CREATE {kind}"))
                        && !upper.starts_with(&format!("CREATE OR REPLACE {kind}")),
                    "inline definition instead of a component in {}: {line}",
                    m.display()
                );
            }
            if let Some(rest) = line.strip_prefix("{% include \"") {
                let include = rest.split('"').next().expect("include path");
                assert!(
                    project.join("db/components").join(include).is_file(),
                    "{include} is included but missing"
                );
            }
        }
    }
}

async fn setup(case: &Path) {
    let setup = case.join("setup.sql");
    if let Ok(sql) = std::fs::read_to_string(setup) {
        let _guard = SETUP.lock().unwrap_or_else(|e| e.into_inner());
        let mut admin = spawn_tests::server().admin_connection().await;
        // Another test binary may create the same role at the same moment: once more then.
        if sqlx::raw_sql(&sql).execute(&mut admin).await.is_err() {
            sqlx::raw_sql(&sql)
                .execute(&mut admin)
                .await
                .unwrap_or_else(|e| panic!("{}: setup.sql fails: {e}", case.display()));
        }
    }
}

/// `spawn diff from to` (without the tracking schema): exit code and output.
fn diff(project: &Path, from: &TestDb, to: &TestDb) -> (i32, String, String) {
    run(
        project,
        &["diff", &from.url, &to.url, "--exclude-schema", "_spawn", "--unsafe"],
    )
}

/// The oracle for one case: `a` migrated, `b` desired, by `--from-db` and `--schema-dir`.
async fn check(label: &str, a: &str, b: &str, setup_dir: Option<&Path>) {
    if let Some(dir) = setup_dir {
        setup(dir).await;
    }
    let desired = TestDb::new(&format!("{label}_b")).await;
    sqlx::raw_sql(b)
        .execute(&desired.pool)
        .await
        .unwrap_or_else(|e| panic!("{label}: b.sql does not load: {e}"));
    for how in ["from-db", "schema-dir"] {
        let target = TestDb::new(&format!("{label}_t")).await;
        let p = project(&target, Some(a));
        let schema_dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(schema_dir.path().join("b.sql"), b).expect("b.sql");
        let source = match how {
            "from-db" => desired.url.clone(),
            _ => schema_dir.path().display().to_string(),
        };
        let (code, out, err) = run(
            p.path(),
            &["migration", "generate", "change", &format!("--{how}"), &source, "--unsafe"],
        );
        assert_eq!(code, 0, "{label} ({how}): generate failed:\n{out}\n{err}");
        if generated(p.path()).is_empty() {
            assert!(out.contains("nothing to generate"), "{out}");
        }
        assert!(out.contains("re-checked") || out.contains("nothing to generate"), "{out}");
        assert_components(p.path());
        // Independently: every migration applied to a fresh database leaves no difference.
        let (code, out, err) = run(p.path(), &["migration", "apply", "--yes"]);
        assert_eq!(code, 0, "{label} ({how}): apply failed:\n{out}\n{err}");
        let (code, out, err) = diff(p.path(), &target, &desired);
        assert_eq!(code, 0, "{label} ({how}): differences remain:\n{out}\n{err}");
        target.close().await;
    }
}

async fn check_case(dir: &Path) {
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    let label = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("case")
        .replace('-', "_");
    check(&format!("gen_{label}"), &read("a.sql"), &read("b.sql"), Some(dir)).await;
}

macro_rules! shared_cases {
    ($($test:ident => $case:literal),* $(,)?) => {$(
        #[tokio::test]
        async fn $test() {
            let Some(dir) = spawn_tests::shared_dir("fixtures/diff") else {
                return;
            };
            check_case(&dir.join($case)).await;
        }
    )*};
}

shared_cases! {
    shared_migra_collations => "migra-collations",
    shared_migra_constraints => "migra-constraints",
    shared_migra_dependencies => "migra-dependencies",
    shared_migra_dependencies2 => "migra-dependencies2",
    shared_migra_dependencies4 => "migra-dependencies4",
    shared_migra_enumdefaults => "migra-enumdefaults",
    shared_migra_everything => "migra-everything",
    shared_migra_extversions => "migra-extversions",
    shared_migra_generated => "migra-generated",
    shared_migra_identitycols => "migra-identitycols",
    shared_migra_inherit => "migra-inherit",
    shared_migra_partitioning => "migra-partitioning",
    shared_migra_privileges => "migra-privileges",
    shared_migra_rls => "migra-rls",
    shared_migra_singleschema => "migra-singleschema",
    shared_migra_triggers => "migra-triggers",
    shared_migra_triggers2 => "migra-triggers2",
    shared_probe_aggregate => "probe-aggregate",
    shared_probe_col_default_func => "probe-col_default_func",
    shared_probe_comment => "probe-comment",
    shared_probe_domain => "probe-domain",
    shared_probe_domain_change => "probe-domain_change",
    shared_probe_enum_add => "probe-enum_add",
    shared_probe_force_rls => "probe-force_rls",
    shared_probe_func_config => "probe-func_config",
    shared_probe_func_grant => "probe-func_grant",
    shared_probe_func_sig => "probe-func_sig",
    shared_probe_owner => "probe-owner",
    shared_probe_rename_col => "probe-rename_col",
    shared_probe_seq_params => "probe-seq_params",
    shared_probe_stats => "probe-stats",
    shared_probe_storage => "probe-storage",
    shared_probe_view_on_mv => "probe-view_on_mv",
}

/// Our own case: a changed function, a view on it and a trigger using it.
#[tokio::test]
async fn functions_views_and_triggers_become_components() {
    check(
        "gen_own_components",
        "CREATE TABLE t (id int PRIMARY KEY, n int);
         CREATE FUNCTION double(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x * 2 $$;
         CREATE VIEW v AS SELECT id, double(n) AS d FROM t;",
        "CREATE TABLE t (id int PRIMARY KEY, n int, touched timestamptz);
         CREATE FUNCTION double(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + x $$;
         CREATE VIEW v AS SELECT id, double(n) AS d, touched FROM t;
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched := now(); RETURN NEW; END $$;
         CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();",
        None,
    )
    .await;
}
