//! `spawn migration generate` and `spawn drift` on real databases.
//!
//! For each case of `../shared/fixtures/diff` and the cases below: a project whose only
//! migration is `a.sql`, the desired state `b.sql` given by `--from-db` and by `--schema-dir`;
//! the generated migration must pass generate's own re-check, and applied with every other
//! migration to a fresh database must leave no difference to `b` (`spawn diff`). Every
//! function, view and trigger it creates is a component included with `{% include %}`.

use std::path::{Path, PathBuf};

use spawn_tests::TestDb;

mod common;
use common::spawn;

/// Cluster-wide setup (roles) runs one at a time.
static SETUP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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

/// Adds migration `name` whose `up.sql` is the plain SQL `sql` (no template syntax read).
fn add_migration(project: &Path, name: &str, sql: &str) {
    add_template(project, name, &format!("{{% raw %}}{sql}{{% endraw %}}\n"));
}

/// Adds migration `name` whose `up.sql` is `up_sql`, a template.
fn add_template(project: &Path, name: &str, up_sql: &str) {
    let m = project.join("db/migrations").join(name);
    std::fs::create_dir_all(&m).expect("mkdir");
    std::fs::write(m.join("up.sql"), up_sql).expect("up.sql");
}

/// Runs `spawn <args>` in `project`: (exit code, stdout, stderr).
fn run(project: &Path, args: &[&str]) -> (i32, String, String) {
    outcome(spawn().current_dir(project).args(args))
}

/// Runs `command`: (exit code, stdout, stderr).
fn outcome(command: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = command.output().expect("run spawn");
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
        assert!(
            m.join("lock.toml").is_file(),
            "{} is not pinned",
            m.display()
        );
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
        let _guard = SETUP.lock().await;
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
        &[
            "diff",
            &from.url,
            &to.url,
            "--exclude-schema",
            "_spawn",
            "--unsafe",
        ],
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
            &[
                "migration",
                "generate",
                "change",
                &format!("--{how}"),
                &source,
                "--unsafe",
            ],
        );
        assert_eq!(code, 0, "{label} ({how}): generate failed:\n{out}\n{err}");
        if generated(p.path()).is_empty() {
            assert!(out.contains("nothing to generate"), "{out}");
        }
        assert!(
            out.contains("re-checked") || out.contains("nothing to generate"),
            "{out}"
        );
        assert_components(p.path());
        // Independently: every migration applied to a fresh database leaves no difference.
        let (code, out, err) = run(p.path(), &["migration", "apply", "--yes"]);
        assert_eq!(code, 0, "{label} ({how}): apply failed:\n{out}\n{err}");
        let (code, out, err) = diff(p.path(), &target, &desired);
        assert_eq!(
            code, 0,
            "{label} ({how}): differences remain:\n{out}\n{err}"
        );
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
    check(
        &format!("gen_{label}"),
        &read("a.sql"),
        &read("b.sql"),
        Some(dir),
    )
    .await;
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

/// The workflow components exist for: generate writes a view's and a trigger's component,
/// the developer edits both in place and includes them in a migration of their own, which
/// applies over the generated one (the components replace what is there).
#[tokio::test]
async fn generated_components_can_be_edited_and_included_again() {
    let base = "CREATE TABLE t (id int PRIMARY KEY, n int, touched timestamptz);
         CREATE VIEW v AS SELECT id FROM t;
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN NEW.touched := now(); RETURN NEW; END $$;
         CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();";
    // The view's columns change order (dropped and created), the trigger fires on more events.
    let desired_sql = base
        .replace("SELECT id FROM t", "SELECT n, id FROM t")
        .replace("BEFORE UPDATE", "BEFORE INSERT OR UPDATE");
    let desired = TestDb::new("gen_own_edit_b").await;
    sqlx::raw_sql(&desired_sql)
        .execute(&desired.pool)
        .await
        .expect("desired schema");
    let target = TestDb::new("gen_own_edit_t").await;
    let p = project(&target, Some(base));
    let (code, out, err) = run(
        p.path(),
        &["migration", "generate", "change", "--from-db", &desired.url],
    );
    assert_eq!(code, 0, "generate:\n{out}\n{err}");
    let components = p.path().join("db/components");
    let view = components.join("views/public.v.sql");
    let trigger = components.join("triggers/public.t.t_touch.sql");
    for (path, head) in [
        (&view, "CREATE OR REPLACE VIEW public.v AS"),
        (
            &trigger,
            "CREATE OR REPLACE TRIGGER t_touch BEFORE INSERT OR UPDATE ON public.t",
        ),
    ] {
        let text = std::fs::read_to_string(path).expect("component");
        assert!(text.starts_with(head), "{}:\n{text}", path.display());
    }
    // Edited in place, and included by a migration written by hand.
    std::fs::write(
        &view,
        "CREATE OR REPLACE VIEW public.v AS SELECT n, id FROM t WHERE n > 0;\n",
    )
    .expect("edit view");
    let edited = std::fs::read_to_string(&trigger)
        .expect("trigger")
        .replace("BEFORE INSERT OR UPDATE", "BEFORE UPDATE");
    std::fs::write(&trigger, edited).expect("edit trigger");
    add_template(
        p.path(),
        "29990101000000-edit",
        "{% include \"views/public.v.sql\" %}\n{% include \"triggers/public.t.t_touch.sql\" %}\n",
    );
    let (code, out, err) = run(p.path(), &["migration", "pin", "--all"]);
    assert_eq!(code, 0, "pin:\n{out}\n{err}");
    let (code, out, err) = run(p.path(), &["migration", "apply", "--yes"]);
    assert_eq!(code, 0, "apply:\n{out}\n{err}");
    assert!(out.contains("applied 3 migration(s)"), "{out}");
    let (view_sql, trigger_sql): (String, String) = sqlx::query_as(
        "SELECT pg_get_viewdef('public.v'::regclass),
                (SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 't_touch')",
    )
    .fetch_one(&target.pool)
    .await
    .expect("definitions");
    assert!(view_sql.contains("WHERE (t.n > 0)"), "{view_sql}");
    assert!(
        trigger_sql.contains("BEFORE UPDATE ON public.t"),
        "{trigger_sql}"
    );
    target.close().await;
}

/// Columns added to a table that has rows (the base migration inserts some): a NOT NULL one
/// with a default gets it in its ADD COLUMN, so the migration applies there too.
#[tokio::test]
async fn not_null_columns_with_defaults_are_added_to_a_table_with_rows() {
    check(
        "gen_own_rows",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
         INSERT INTO users VALUES (1, 'a@example.com'), (2, 'b@example.com');",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL,
             created_at timestamptz NOT NULL DEFAULT now(),
             active boolean NOT NULL DEFAULT true,
             seq bigserial);",
        None,
    )
    .await;
}

/// The scratch databases a `spawn` process (by its id) left on the server.
async fn scratch_left(pid: u32) -> Vec<String> {
    let mut admin = spawn_tests::server().admin_connection().await;
    sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE $1")
        .bind(format!("spawn\\_scratch\\_{pid}\\_%"))
        .fetch_all(&mut admin)
        .await
        .expect("list databases")
}

/// Runs `spawn <args>` in `project` and also returns its process id.
fn run_pid(project: &Path, args: &[&str]) -> (i32, String, String, u32) {
    let child = common::spawn_process()
        .current_dir(project)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start spawn");
    let pid = child.id();
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        pid,
    )
}

/// The 1-based number of the first line of `file` that contains `what`.
fn line_with(file: &Path, what: &str) -> usize {
    let text = std::fs::read_to_string(file).expect("read the file");
    1 + text
        .lines()
        .position(|l| l.contains(what))
        .unwrap_or_else(|| panic!("{what} in {}:\n{text}", file.display()))
}

/// Whether `table` (any schema) of `db` has the column `column`.
async fn has_column(db: &TestDb, table: &str, column: &str) -> bool {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT FROM information_schema.columns \
         WHERE table_name = $1 AND column_name = $2)",
    )
    .bind(table)
    .bind(column)
    .fetch_one(&db.pool)
    .await
    .expect("columns")
}

async fn tables_of(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .expect("tables")
}

#[tokio::test]
async fn statements_that_lose_data_are_refused_with_the_rename_flag_to_use() {
    let target = TestDb::new("gen_refuse_t").await;
    let desired = TestDb::new("gen_refuse_b").await;
    sqlx::raw_sql("CREATE TABLE people (id int PRIMARY KEY, name text)")
        .execute(&desired.pool)
        .await
        .expect("b");
    let p = project(
        &target,
        Some("CREATE TABLE users (id int PRIMARY KEY, name text);"),
    );
    let (code, out, err, pid) = run_pid(
        p.path(),
        &["migration", "generate", "rename", "--from-db", &desired.url],
    );
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(
        err.contains("may lose data and were refused (run with --unsafe")
            && err.contains("DROP TABLE public.users")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert!(err.contains("--rename table:public.users=people"), "{err}");
    assert_eq!(migrations(p.path()).len(), 1, "nothing is written");
    assert!(
        tables_of(&target).await.is_empty(),
        "the target is untouched"
    );
    assert_eq!(scratch_left(pid).await, Vec::<String>::new());

    // With the suggested flag the data is kept.
    let (code, out, err) = run(p.path(), &["migration", "apply", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");
    sqlx::raw_sql("INSERT INTO users VALUES (1, 'ada')")
        .execute(&target.pool)
        .await
        .expect("insert");
    let (code, out, err) = run(
        p.path(),
        &[
            "migration",
            "generate",
            "rename",
            "--from-db",
            &desired.url,
            "--rename",
            "table:public.users=people",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let (_, text) = generated(p.path()).pop().expect("a migration");
    assert!(
        text.contains("ALTER TABLE \"public\".\"users\" RENAME TO \"people\";"),
        "{text}"
    );
    assert!(!text.contains("DROP TABLE"), "{text}");
    let (code, out, err) = run(p.path(), &["migration", "apply", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let name: String = sqlx::query_scalar("SELECT name FROM people WHERE id = 1")
        .fetch_one(&target.pool)
        .await
        .expect("the row is kept");
    assert_eq!(name, "ada");
}

#[tokio::test]
async fn bad_rename_hints_are_named_and_nothing_is_written() {
    let target = TestDb::new("gen_badrename_t").await;
    let desired = TestDb::new("gen_badrename_b").await;
    let p = project(&target, Some("CREATE TABLE users (id int);"));
    let (code, _, err) = run(
        p.path(),
        &[
            "migration",
            "generate",
            "x",
            "--from-db",
            &desired.url,
            "--rename",
            "users=people",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--rename users=people: no `KIND:` in front"),
        "{err}"
    );
    let (code, _, err, pid) = run_pid(
        p.path(),
        &[
            "migration",
            "generate",
            "x",
            "--from-db",
            &desired.url,
            "--unsafe",
            "--rename",
            "table:nope=people",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--rename table:nope=people: relation \"nope\" does not exist")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(migrations(p.path()).len(), 1);
    assert_eq!(scratch_left(pid).await, Vec::<String>::new());
    assert!(tables_of(&target).await.is_empty());
}

#[tokio::test]
async fn generate_prints_the_hazards_of_what_it_wrote() {
    let a = "CREATE TABLE t (id int PRIMARY KEY, n int);";
    let b = "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL);
             CREATE INDEX t_n ON t (n);";
    let target = TestDb::new("gen_hazards_t").await;
    let desired = TestDb::new("gen_hazards_b").await;
    sqlx::raw_sql(b).execute(&desired.pool).await.expect("b");
    let p = project(&target, Some(a));
    let (code, out, err) = run(
        p.path(),
        &["migration", "generate", "index", "--from-db", &desired.url],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let up = &generated(p.path())[0].0;
    let line_of = |what: &str| line_with(&up.join("up.sql"), what);
    assert!(
        out.contains(&format!(
            "{}:{}: blocking-index-build:",
            up.join("up.sql").display(),
            line_of("CREATE INDEX")
        )),
        "{out}"
    );
    assert!(out.contains("validation-scan"), "{out}");
}

#[tokio::test]
async fn online_builds_no_blocking_index_on_an_existing_table() {
    let a = "CREATE TABLE p (id int PRIMARY KEY);
             CREATE TABLE t (id int PRIMARY KEY, n int, parent int, m int);
             CREATE INDEX t_m ON t (m);";
    let b = "CREATE TABLE p (id int PRIMARY KEY);
             CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL, parent int REFERENCES p, m int,
                             CONSTRAINT n_positive CHECK (n > 0));
             CREATE INDEX t_m ON t (m, n);
             CREATE INDEX t_n ON t (n);
             CREATE TABLE fresh (id int PRIMARY KEY, x int);
             CREATE INDEX fresh_x ON fresh (x);";
    let target = TestDb::new("gen_online_t").await;
    let desired = TestDb::new("gen_online_b").await;
    sqlx::raw_sql(b).execute(&desired.pool).await.expect("b");
    let p = project(&target, Some(a));
    let (code, out, err) = run(
        p.path(),
        &[
            "migration",
            "generate",
            "tune",
            "--from-db",
            &desired.url,
            "--online",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    // The hazards it prints: no index build that blocks writes.
    assert!(out.contains("hazards ("), "{out}");
    assert!(!out.contains("blocking-index-build"), "{out}");
    let files = generated(p.path());
    assert_eq!(files.len(), 2, "{files:?}");
    let (first, second) = (&files[0].1, &files[1].1);
    assert!(files[1]
        .0
        .display()
        .to_string()
        .ends_with("-tune-concurrently"));
    // In the transaction: no index build on t, constraints NOT VALID, the new table's index.
    for line in first.lines() {
        assert!(
            !(line.contains("INDEX") && line.contains(" ON public.t ")),
            "a blocking index build on an existing table: {line}"
        );
    }
    assert!(
        first.contains("FOREIGN KEY (parent) REFERENCES public.p(id) NOT VALID"),
        "{first}"
    );
    assert!(first.contains("CHECK ((n > 0)) NOT VALID"), "{first}");
    assert!(
        first.contains("CHECK (\"n\" IS NOT NULL) NOT VALID")
            || first.contains("CHECK (n IS NOT NULL) NOT VALID"),
        "{first}"
    );
    assert!(
        first.contains("CREATE INDEX fresh_x ON public.fresh"),
        "{first}"
    );
    assert!(!first.contains("SET NOT NULL"), "{first}");
    assert!(first.starts_with("-- spawn:lock-timeout 5s\n"), "{first}");
    // Outside: concurrent builds, the swap of t_m, validations, then SET NOT NULL. No lock
    // timeout there: a concurrent build waits for the transactions that run.
    assert!(second.starts_with("-- spawn:no-transaction\n"), "{second}");
    assert!(!second.contains("lock-timeout"), "{second}");
    assert!(
        second.contains("CREATE INDEX CONCURRENTLY t_n ON public.t"),
        "{second}"
    );
    assert!(
        second.contains("CREATE INDEX CONCURRENTLY t_m_spawn_new ON public.t"),
        "{second}"
    );
    assert!(
        second.contains("DROP INDEX CONCURRENTLY public.t_m"),
        "{second}"
    );
    assert!(
        second.contains("ALTER INDEX public.t_m_spawn_new RENAME TO t_m"),
        "{second}"
    );
    assert!(
        second.contains("VALIDATE CONSTRAINT t_parent_fkey"),
        "{second}"
    );
    assert!(second.contains("SET NOT NULL"), "{second}");
    let at = |what: &str| second.find(what).expect(what);
    assert!(
        at("CREATE INDEX CONCURRENTLY t_m_spawn_new") < at("DROP INDEX CONCURRENTLY public.t_m")
    );
    // Applied for real, it reaches b.
    let (code, out, err) = run(p.path(), &["migration", "apply", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = diff(p.path(), &target, &desired);
    assert_eq!(code, 0, "{out}\n{err}");
}

/// The generated migration sets a lock timeout (`--lock-timeout`, 5s unless told): on a table
/// another session holds, its ALTER gives up and the migration is rolled back, instead of
/// queueing every query of the table behind it. `off` writes none.
#[tokio::test]
async fn a_generated_migration_gives_up_on_a_held_lock() {
    let (target, desired, p) = a_and_b(
        "gen_lock_timeout",
        "CREATE TABLE t (id int PRIMARY KEY);",
        "CREATE TABLE t (id int PRIMARY KEY, n int);",
    )
    .await;
    let generate = |name: &str, timeout: &str| {
        let args = [
            "migration",
            "generate",
            name,
            "--from-db",
            &desired.url,
            "--lock-timeout",
            timeout,
        ];
        let (code, out, err) = run(p.path(), &args);
        assert_eq!(code, 0, "{out}\n{err}");
        let (folder, text) = generated(p.path()).pop().expect("generated");
        std::fs::remove_dir_all(&folder).expect("remove it again");
        text
    };
    assert!(
        !generate("without", "off").contains("lock-timeout"),
        "`off` writes no lock timeout"
    );
    let text = generate("add_n", "100ms");
    assert!(text.starts_with("-- spawn:lock-timeout 100ms\n"), "{text}");
    // The base applied, then the generated migration written again (removed above).
    let (code, out, err) = run(p.path(), &["migration", "apply", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");
    add_template(p.path(), "29990101000000-add_n", &text);
    let (code, out, err) = run(p.path(), &["migration", "pin", "--all"]);
    assert_eq!(code, 0, "{out}\n{err}");

    // A session reading t holds a lock the ALTER TABLE must wait for.
    let mut reader = target.pool.acquire().await.expect("connection");
    sqlx::raw_sql("BEGIN; SELECT * FROM t;")
        .execute(&mut *reader)
        .await
        .expect("hold a lock on t");
    let (code, out, err) = run(p.path(), &["migration", "apply", "--yes"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("29990101000000-add_n") && err.contains("lock timeout"),
        "{err}"
    );
    assert!(
        !has_column(&target, "t", "n").await,
        "the migration was rolled back"
    );
    sqlx::raw_sql("COMMIT")
        .execute(&mut *reader)
        .await
        .expect("release");
    drop(reader);
    let (code, out, err) = run(p.path(), &["migration", "apply", "--yes"]);
    assert_eq!(code, 0, "once the lock is free it applies:\n{out}\n{err}");
}

/// A generated migration that creates a function turns off `check_function_bodies` for
/// its own transaction only: a later migration of the same run still has its function
/// bodies checked, and a broken one fails there (not later, when the function is called).
#[tokio::test]
async fn a_later_migration_in_the_same_run_still_has_its_function_bodies_checked() {
    let (target, desired, p) = a_and_b(
        "gen_local_setting",
        "CREATE TABLE t (id int);",
        "CREATE TABLE t (id int);
         CREATE FUNCTION t_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM t $$;",
    )
    .await;
    let (code, out, err) = run(
        p.path(),
        &["migration", "generate", "count", "--from-db", &desired.url],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let (_, text) = generated(p.path()).pop().expect("generated");
    assert!(
        text.contains("SET LOCAL check_function_bodies = false;"),
        "{text}"
    );
    add_migration(
        p.path(),
        "29990101000000-broken",
        "CREATE FUNCTION broken() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM missing $$;",
    );
    let (code, out, err) = run(p.path(), &["migration", "pin", "--all"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = run(p.path(), &["migration", "apply", "--yes"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("29990101000000-broken")
            && err.contains("relation \"missing\" does not exist"),
        "{err}"
    );
    let created: bool = sqlx::query_scalar("SELECT to_regproc('public.t_count') IS NOT NULL")
        .fetch_one(&target.pool)
        .await
        .expect("query");
    assert!(created, "the generated migration was applied before");
}

#[tokio::test]
async fn schema_dir_files_load_in_dependency_order_or_are_named() {
    let target = TestDb::new("gen_dir_t").await;
    let p = project(&target, Some("CREATE TABLE t (id int);"));
    let dir = tempfile::tempdir().expect("tempdir");
    // Path order puts the view first: it needs the table of the next file.
    std::fs::write(
        dir.path().join("a_view.sql"),
        "CREATE VIEW v AS SELECT id, label FROM t;",
    )
    .expect("w");
    std::fs::write(
        dir.path().join("b_table.sql"),
        "CREATE TABLE t (id int, label text);",
    )
    .expect("w");
    let dir_arg = dir.path().display().to_string();
    let (code, out, err) = run(
        p.path(),
        &["migration", "generate", "label", "--schema-dir", &dir_arg],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_components(p.path());
    assert!(p.path().join("db/components/views/public.v.sql").is_file());

    // A file that fails in every order is named with its line; nothing is written.
    std::fs::write(
        dir.path().join("c_broken.sql"),
        "CREATE TABLE ok (id int);\nCREATE TABLE bad (id int REFERENCES missing);\n",
    )
    .expect("w");
    let before = migrations(p.path()).len();
    let (code, out, err, pid) = run_pid(
        p.path(),
        &["migration", "generate", "more", "--schema-dir", &dir_arg],
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("1 file(s) still fail")
            && err.contains("c_broken.sql:2: relation \"missing\" does not exist")
            && err.contains("nothing was generated"),
        "{err}"
    );
    assert_eq!(migrations(p.path()).len(), before);
    assert_eq!(scratch_left(pid).await, Vec::<String>::new());
    assert!(tables_of(&target).await.is_empty());

    let (code, _, err) = run(
        p.path(),
        &[
            "migration",
            "generate",
            "more",
            "--schema-dir",
            "/nonexistent/schema",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--schema-dir /nonexistent/schema: no such folder"),
        "{err}"
    );
}

#[tokio::test]
async fn no_difference_writes_nothing() {
    let target = TestDb::new("gen_same_t").await;
    let desired = TestDb::new("gen_same_b").await;
    sqlx::raw_sql("CREATE TABLE t (id int)")
        .execute(&desired.pool)
        .await
        .expect("b");
    let p = project(&target, Some("CREATE TABLE t (id int);"));
    let (code, out, err) = run(
        p.path(),
        &["migration", "generate", "noop", "--from-db", &desired.url],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("nothing to generate"), "{out}");
    assert_eq!(migrations(p.path()).len(), 1);
}

#[tokio::test]
async fn drift_reports_a_change_by_hand_until_it_is_reverted() {
    let target = TestDb::new("gen_drift_t").await;
    let p = project(
        &target,
        Some("CREATE TABLE t (id int PRIMARY KEY, name text);"),
    );
    let (code, out, err) = run(p.path(), &["migration", "apply", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err, pid) = run_pid(p.path(), &["drift"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("no drift"), "{out}");
    assert_eq!(scratch_left(pid).await, Vec::<String>::new());

    sqlx::raw_sql("ALTER TABLE t ADD COLUMN extra int")
        .execute(&target.pool)
        .await
        .expect("change by hand");
    let (code, out, err) = run(p.path(), &["drift"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        out.contains("+ column public.t.extra: only on the target"),
        "{out}"
    );
    assert!(
        out.contains("ALTER TABLE public.t DROP COLUMN extra;"),
        "{out}"
    );
    assert!(out.contains("printed, not applied"), "{out}");
    assert!(
        has_column(&target, "t", "extra").await,
        "drift never applies anything"
    );
    let (code, out, err) = run(p.path(), &["drift", "--json"]);
    assert_eq!(code, 2, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["drift"], true);
    assert!(
        json["sql"]
            .as_str()
            .unwrap_or_default()
            .contains("DROP COLUMN extra"),
        "{json}"
    );

    sqlx::raw_sql("ALTER TABLE t DROP COLUMN extra")
        .execute(&target.pool)
        .await
        .expect("revert");
    let (code, out, err) = run(p.path(), &["drift"]);
    assert_eq!(code, 0, "{out}\n{err}");

    // The other way round: a column the migrations make, dropped by hand.
    sqlx::raw_sql("ALTER TABLE t DROP COLUMN name")
        .execute(&target.pool)
        .await
        .expect("drop by hand");
    let (code, out, err) = run(p.path(), &["drift"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        out.contains("- column public.t.name: missing on the target")
            && out.contains("ALTER TABLE public.t ADD COLUMN name text;"),
        "{out}"
    );
    sqlx::raw_sql("ALTER TABLE t ADD COLUMN name text")
        .execute(&target.pool)
        .await
        .expect("revert");
    let (code, out, err) = run(p.path(), &["drift"]);
    assert_eq!(code, 0, "{out}\n{err}");
}

#[tokio::test]
async fn drift_uses_only_the_migrations_applied_there() {
    let target = TestDb::new("gen_drift_partial_t").await;
    let p = project(&target, Some("CREATE TABLE t (id int);"));
    let (code, out, err) = run(p.path(), &["migration", "apply", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");
    // A pending migration is not expected on the target yet.
    add_migration(p.path(), "20250102000000-more", "CREATE TABLE u (id int);");
    let (code, out, err) = run(p.path(), &["migration", "pin", "--all"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = run(p.path(), &["drift"]);
    assert_eq!(code, 0, "{out}\n{err}");
}

#[tokio::test]
async fn ctrl_c_drops_the_scratch_databases_and_writes_nothing() {
    let target = TestDb::new("gen_ctrlc_t").await;
    let p = project(&target, Some("CREATE TABLE t (id int);"));
    let role = spawn_tests::unique_name("gen_ctrlc_role");
    let mut admin = spawn_tests::server().admin_connection().await;
    sqlx::raw_sql(&format!("CREATE ROLE {role}"))
        .execute(&mut admin)
        .await
        .expect("role");
    // The schema file updates the role, which a transaction of ours holds: it waits there,
    // with both scratch databases created.
    let mut holder = spawn_tests::server().admin_connection().await;
    sqlx::raw_sql(&format!("BEGIN; ALTER ROLE {role} VALID UNTIL 'infinity'"))
        .execute(&mut holder)
        .await
        .expect("hold the role");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("schema.sql"),
        format!("ALTER ROLE {role} VALID UNTIL 'infinity';\nCREATE TABLE t (id int, x int);\n"),
    )
    .expect("w");
    let child = common::spawn_process()
        .current_dir(p.path())
        .args(["migration", "generate", "x", "--schema-dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start spawn");
    let pid = child.id();
    // Wait (on the server's word, not a clock) until the load is blocked on our lock.
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE $1 AND wait_event_type = 'Lock'",
        )
        .bind(format!("spawn\\_scratch\\_{pid}\\_%"))
        .fetch_one(&mut admin)
        .await
        .expect("pg_stat_activity");
        if waiting > 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(
        !scratch_left(pid).await.is_empty(),
        "a scratch database exists"
    );
    // SAFETY: kill only sends a signal to our own child.
    unsafe {
        libc::kill(pid as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted: dropping the scratch databases; nothing was written"),
        "{err}"
    );
    assert_eq!(scratch_left(pid).await, Vec::<String>::new());
    assert_eq!(migrations(p.path()).len(), 1);
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .expect("rollback");
    let _ = sqlx::raw_sql(&format!("DROP ROLE {role}"))
        .execute(&mut admin)
        .await;
}

#[tokio::test]
async fn a_role_without_createdb_is_told_what_to_do() {
    let target = TestDb::new("gen_nocreatedb_t").await;
    let desired = TestDb::new("gen_nocreatedb_b").await;
    let role = spawn_tests::unique_name("gen_nocreatedb");
    let mut admin = spawn_tests::server().admin_connection().await;
    sqlx::raw_sql(&format!("CREATE ROLE {role} LOGIN NOCREATEDB"))
        .execute(&mut admin)
        .await
        .expect("role");
    let as_role = |db: &TestDb| {
        use sqlx::ConnectOptions as _;
        let options = spawn_tests::server().options(&db.name).username(&role);
        options.to_url_lossy().to_string()
    };
    let p = project(&target, Some("CREATE TABLE t (id int);"));
    let toml = std::fs::read_to_string(p.path().join("spawn.toml")).expect("read");
    std::fs::write(
        p.path().join("spawn.toml"),
        toml.replace(&target.url, &as_role(&target)),
    )
    .expect("write");
    let (code, out, err) = run(
        p.path(),
        &[
            "migration",
            "generate",
            "x",
            "--from-db",
            &as_role(&desired),
        ],
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("permission denied to create database")
            && err.contains("needs CREATEDB")
            && err.contains("ALTER ROLE … CREATEDB"),
        "{err}"
    );
    assert_eq!(migrations(p.path()).len(), 1);
    assert!(tables_of(&target).await.is_empty());
    let _ = sqlx::raw_sql(&format!("DROP ROLE {role}"))
        .execute(&mut admin)
        .await;
}

#[tokio::test]
async fn the_component_that_defines_a_changed_function_is_updated_in_place() {
    let target = TestDb::new("gen_inplace_t").await;
    let desired = TestDb::new("gen_inplace_b").await;
    let p = project(&target, None);
    std::fs::create_dir_all(p.path().join("db/components/fns")).expect("mkdir");
    let component = p.path().join("db/components/fns/greet.sql");
    std::fs::write(
        &component,
        "CREATE OR REPLACE FUNCTION greet(who text) RETURNS text LANGUAGE sql AS $$ SELECT 'hello ' || who $$;\n",
    )
    .expect("component");
    let m = p.path().join("db/migrations/20250101000000-base");
    std::fs::create_dir_all(&m).expect("mkdir");
    std::fs::write(m.join("up.sql"), "{% include \"fns/greet.sql\" %}\n").expect("up.sql");
    let (code, out, err) = run(p.path(), &["migration", "pin", "--all"]);
    assert_eq!(code, 0, "{out}\n{err}");
    sqlx::raw_sql(
        "CREATE FUNCTION greet(who text) RETURNS text LANGUAGE sql AS $$ SELECT 'hi ' || who $$",
    )
    .execute(&desired.pool)
    .await
    .expect("b");
    let (code, out, err) = run(
        p.path(),
        &[
            "migration",
            "generate",
            "friendlier",
            "--from-db",
            &desired.url,
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("updated") && out.contains("greet.sql"),
        "{out}"
    );
    let (_, text) = generated(p.path()).pop().expect("a migration");
    assert!(text.contains("{% include \"fns/greet.sql\" %}"), "{text}");
    let now = std::fs::read_to_string(&component).expect("component");
    assert!(now.contains("'hi '") && !now.contains("'hello '"), "{now}");
    assert!(!p.path().join("db/components/functions").exists());
    // The base migration keeps its pinned text: both apply, and the result is b.
    let (code, out, err) = run(p.path(), &["migration", "apply", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = diff(p.path(), &target, &desired);
    assert_eq!(code, 0, "{out}\n{err}");
}

/// Runs `spawn -v <args>` in `project` with its model cache in `cache`: (exit code, stdout,
/// stderr with the phases).
fn run_cached(project: &Path, cache: &Path, args: &[&str]) -> (i32, String, String) {
    outcome(
        spawn()
            .current_dir(project)
            .env("SPAWN_CACHE_DIR", cache)
            .arg("-v")
            .args(args),
    )
}

/// Runs `spawn -v migration generate <name> --from-db <from_db>` in `project` with its model
/// cache in `cache`, which must succeed: (stdout, stderr with the phases).
fn generate_cached(project: &Path, cache: &Path, name: &str, from_db: &str) -> (String, String) {
    let (code, out, err) = run_cached(
        project,
        cache,
        &["migration", "generate", name, "--from-db", from_db],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    (out, err)
}

/// The files of the model cache folder `cache`, by name (not its folders: the render
/// cache's is there too).
fn cache_files(cache: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cache)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry"))
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn the_model_cache_stands_for_the_template_and_another_state_is_never_read() {
    let target = TestDb::new("gen_cache_t").await;
    let b = TestDb::new("gen_cache_b").await;
    let c = TestDb::new("gen_cache_c").await;
    let base = "CREATE TABLE t (id int PRIMARY KEY);";
    sqlx::raw_sql(&format!("{base} CREATE TABLE u (id int);"))
        .execute(&b.pool)
        .await
        .expect("b");
    sqlx::raw_sql(&format!(
        "{base} CREATE TABLE u (id int); CREATE TABLE v (id int);"
    ))
    .execute(&c.pool)
    .await
    .expect("c");
    let p = project(&target, Some(base));
    let cache = tempfile::tempdir().expect("cache folder");

    // First run: nothing cached, the template is inspected; afterwards the cache holds the
    // template's new state (with the generated migration), and nothing half-written.
    let (_, err) = generate_cached(p.path(), cache.path(), "add_u", &b.url);
    assert!(err.contains("FROM: inspect"), "{err}");
    let files = cache_files(cache.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].starts_with("schema-") && files[0].ends_with(".bin"),
        "{files:?}"
    );
    let after_first = std::fs::read(cache.path().join(&files[0])).expect("cache file");

    // Second run: FROM is the cached model, which must already have `u` (else the new
    // migration would create it again and the re-check would fail).
    let (_, err) = generate_cached(p.path(), cache.path(), "add_v", &c.url);
    assert!(err.contains("FROM: read the cached model"), "{err}");
    assert!(!err.contains("FROM: inspect"), "{err}");
    let (_, newest) = generated(p.path()).pop().expect("add_v");
    assert!(newest.contains("CREATE TABLE public.v"), "{newest}");
    assert!(!newest.contains("CREATE TABLE public.u"), "{newest}");
    assert_eq!(cache_files(cache.path()), files, "replaced, not added");

    // A file holding an earlier state of the template is not read: the template is
    // inspected, and the migration is still right (nothing to generate towards c).
    std::fs::write(cache.path().join(&files[0]), &after_first).expect("older state");
    let (out, err) = generate_cached(p.path(), cache.path(), "again", &c.url);
    assert!(err.contains("FROM: inspect"), "{err}");
    assert!(out.contains("nothing to generate"), "{out}");

    // A damaged file is not read either.
    std::fs::write(cache.path().join(&files[0]), b"damaged").expect("damage");
    let (out, err) = generate_cached(p.path(), cache.path(), "again", &c.url);
    assert!(err.contains("FROM: inspect"), "{err}");
    assert!(out.contains("nothing to generate"), "{out}");
    // ... and the inspected model replaced it: the next run reads it.
    let (out, err) = generate_cached(p.path(), cache.path(), "again", &c.url);
    assert!(err.contains("FROM: read the cached model"), "{err}");
    assert!(out.contains("nothing to generate"), "{out}");
    assert_eq!(migrations(p.path()).len(), 3);
}

/// A target, a project on it whose migration is `a`, and a database `b` loaded with
/// `b_sql` (databases named `<prefix>_t` and `<prefix>_b`).
async fn a_and_b(prefix: &str, a: &str, b_sql: &str) -> (TestDb, TestDb, tempfile::TempDir) {
    let target = TestDb::new(&format!("{prefix}_t")).await;
    let b = TestDb::new(&format!("{prefix}_b")).await;
    sqlx::raw_sql(b_sql).execute(&b.pool).await.expect("b");
    let p = project(&target, Some(a));
    (target, b, p)
}

/// [`a_and_b`] with `a` creating table `t`, and `b` holding `t` and `u`.
async fn t_then_u(prefix: &str) -> (TestDb, TestDb, tempfile::TempDir) {
    a_and_b(
        prefix,
        "CREATE TABLE t (id int);",
        "CREATE TABLE t (id int); CREATE TABLE u (id int);",
    )
    .await
}

#[tokio::test]
async fn the_next_command_takes_the_generated_migration_from_the_render_cache() {
    let (_target, b, p) = t_then_u("gen_rcache").await;
    let cache = tempfile::tempdir().expect("cache folder");
    generate_cached(p.path(), cache.path(), "add_u", &b.url);
    // Rendered from its pin beside the re-check, into the cache: nothing to render again.
    let (code, out, err) = run_cached(p.path(), cache.path(), &["migration", "status"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("migrations=2 reused=2"), "{err}");
    assert!(out.contains("add_u"), "{out}");
}

/// Runs `generate add_u` towards `b` with `cache` as the cache folder, which is not fit for a
/// model cache: the migration is generated and re-checked all the same.
fn generate_add_u_without_model_cache(project: &Path, cache: &Path, b: &str) {
    let (out, err) = generate_cached(project, cache, "add_u", b);
    assert!(out.contains("re-checked"), "{out}");
    assert!(
        err.contains("no model cache: not a folder of this user's"),
        "{err}"
    );
}

#[tokio::test]
async fn a_cache_folder_that_cannot_be_written_changes_nothing() {
    let (_target, b, p) = t_then_u("gen_nocache").await;
    // A file where the folder should be.
    let blocker = tempfile::NamedTempFile::new().expect("file");
    generate_add_u_without_model_cache(p.path(), blocker.path(), &b.url);
    let (code, out, err) = run_cached(p.path(), blocker.path(), &["drift"]);
    assert_eq!(code, 0, "{out}\n{err}");
}

/// A cached model decides what `generate` writes: a cache folder others can write to is not
/// used (nothing read, nothing written); in the user's own folder, a model file that cannot be
/// replaced is left as it is, and the command still does its work.
#[cfg(unix)]
#[tokio::test]
async fn a_cache_folder_others_can_write_to_is_not_used() {
    use std::os::unix::fs::PermissionsExt as _;
    let (_target, b, p) = t_then_u("gen_opencache").await;
    let cache = tempfile::tempdir().expect("cache folder");
    let chmod = |mode: u32| {
        std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(mode))
            .expect("chmod")
    };
    chmod(0o777);
    generate_add_u_without_model_cache(p.path(), cache.path(), &b.url);
    assert_eq!(cache_files(cache.path()), Vec::<String>::new());

    // The user's own folder: the model is cached.
    chmod(0o700);
    let (out, _) = generate_cached(p.path(), cache.path(), "again", &b.url);
    assert!(out.contains("nothing to generate"), "{out}");
    let files = cache_files(cache.path());
    assert_eq!(files.len(), 1, "{files:?}");

    // A folder where the model file should be: not read, not replaced, nothing fails.
    let model = cache.path().join(&files[0]);
    std::fs::remove_file(&model).expect("remove the model");
    std::fs::create_dir_all(model.join("in the way")).expect("a folder in its place");
    let (out, err) = generate_cached(p.path(), cache.path(), "again", &b.url);
    assert!(out.contains("nothing to generate"), "{out}");
    assert!(err.contains("FROM: inspect"), "{err}");
    assert!(err.contains("model cache not written"), "{err}");
    assert!(model.join("in the way").is_dir());
}

#[tokio::test]
async fn drift_reads_the_expected_schema_from_the_model_cache() {
    let target = TestDb::new("gen_drift_cache_t").await;
    let p = project(&target, Some("CREATE TABLE t (id int PRIMARY KEY);"));
    let cache = tempfile::tempdir().expect("cache folder");
    let (code, out, err) = run(p.path(), &["migration", "apply", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = run_cached(p.path(), cache.path(), &["drift"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains("from the model cache"), "{err}");
    assert_eq!(cache_files(cache.path()).len(), 1);
    sqlx::raw_sql("ALTER TABLE t ADD COLUMN extra int")
        .execute(&target.pool)
        .await
        .expect("change by hand");
    let (code, out, err) = run_cached(p.path(), cache.path(), &["drift"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("from the model cache"), "{err}");
    assert!(out.contains("DROP COLUMN extra"), "{out}");
}

#[tokio::test]
async fn a_role_the_template_names_changes_the_cache_key_other_roles_do_not() {
    let target = TestDb::new("gen_cache_role_t").await;
    let b = TestDb::new("gen_cache_role_b").await;
    let reader = spawn_tests::unique_name("gen_cache_reader");
    let other = spawn_tests::unique_name("gen_cache_other");
    let mut admin = spawn_tests::server().admin_connection().await;
    sqlx::raw_sql(&format!("CREATE ROLE {reader}"))
        .execute(&mut admin)
        .await
        .expect("role");
    let base = format!("CREATE TABLE t (id int); GRANT SELECT ON t TO {reader};");
    sqlx::raw_sql(&base).execute(&b.pool).await.expect("b");
    let p = project(&target, Some(&base));
    let cache = tempfile::tempdir().expect("cache folder");
    let generate = |name: &str| {
        run_cached(
            p.path(),
            cache.path(),
            &["migration", "generate", name, "--from-db", &b.url],
        )
    };
    let (code, out, err) = generate("first");
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("nothing to generate"), "{out}");

    // A role the template does not name: the cached model still stands.
    sqlx::raw_sql(&format!("CREATE ROLE {other}"))
        .execute(&mut admin)
        .await
        .expect("other role");
    let (code, out, err) = generate("second");
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("FROM: read the cached model"), "{err}");

    // A role it grants to, renamed: the model would print the old name, so it is not read.
    let renamed = format!("{reader}_renamed");
    sqlx::raw_sql(&format!("ALTER ROLE {reader} RENAME TO {renamed}"))
        .execute(&mut admin)
        .await
        .expect("rename");
    let (code, out, err) = generate("third");
    sqlx::raw_sql(&format!("DROP ROLE {other}"))
        .execute(&mut admin)
        .await
        .expect("drop other");
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("FROM: inspect"), "{err}");
}

/// An event trigger that refuses a table named `forbidden`: the generated migration that
/// creates one fails where the re-check applies it.
const NO_FORBIDDEN: &str = "CREATE FUNCTION public.no_forbidden() RETURNS event_trigger \
LANGUAGE plpgsql AS $$ BEGIN IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() \
WHERE object_identity = 'public.forbidden') THEN RAISE EXCEPTION 'no table may be called \
forbidden'; END IF; END $$;\nCREATE EVENT TRIGGER no_forbidden ON ddl_command_end \
EXECUTE FUNCTION public.no_forbidden();";

#[tokio::test]
async fn a_migration_that_fails_in_the_recheck_is_named_with_the_servers_error() {
    let (target, desired, p) = a_and_b(
        "gen_recheck_fail",
        NO_FORBIDDEN,
        &format!("CREATE TABLE public.forbidden (id int);\n{NO_FORBIDDEN}"),
    )
    .await;
    let (code, out, err) = run(
        p.path(),
        &["migration", "generate", "forbid", "--from-db", &desired.url],
    );
    assert_eq!(code, 1, "{out}\n{err}");
    let new = migrations(p.path())
        .into_iter()
        .find(|m| m.to_string_lossy().ends_with("-forbid"))
        .expect("the new migration is left for the user to fix");
    let up = new.join("up.sql");
    let line = line_with(&up, "CREATE TABLE public.forbidden");
    assert!(
        err.contains("re-check: the generated migration fails on the migrations' schema")
            && err.contains(&format!(
                "{}:{line}: CREATE TABLE public.forbidden",
                up.display()
            ))
            && err.contains("no table may be called forbidden")
            && err.contains(&format!("{} is written and pinned", up.display())),
        "{err}"
    );
    assert_eq!(
        tables_of(&target).await,
        Vec::<String>::new(),
        "target untouched"
    );
    // The next run starts from the migrations again (the template is rebuilt), and fails
    // the same way: nothing of the failed apply was kept.
    std::fs::remove_dir_all(&new).expect("delete the migration");
    let (code, _, err) = run(
        p.path(),
        &["migration", "generate", "forbid", "--from-db", &desired.url],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no table may be called forbidden"), "{err}");
}

/// The statement that fails in the re-check comes from a component (the event trigger refuses
/// a view named `forbidden`): the error names the component file and the migration that
/// includes it.
#[tokio::test]
async fn a_component_that_fails_in_the_recheck_is_named_by_its_file() {
    let (_target, desired, p) = a_and_b(
        "gen_recheck_component",
        NO_FORBIDDEN,
        &format!("CREATE VIEW public.forbidden AS SELECT 1 AS one;\n{NO_FORBIDDEN}"),
    )
    .await;
    let (code, out, err) = run(
        p.path(),
        &["migration", "generate", "forbid", "--from-db", &desired.url],
    );
    assert_eq!(code, 1, "{out}\n{err}");
    let (new, _) = generated(p.path()).pop().expect("left for the user to fix");
    let component = p.path().join("db/components/views/public.forbidden.sql");
    assert!(component.is_file(), "{}", component.display());
    assert!(
        err.contains(&format!(
            "{} (included by {}): CREATE OR REPLACE VIEW public.forbidden",
            component.display(),
            new.join("up.sql").display()
        )) && err.contains("no table may be called forbidden"),
        "{err}"
    );
}

/// `--online` on a column that becomes NOT NULL while the base migration's rows hold NULLs:
/// the check is validated in the second (no-transaction) migration, and the rows refuse it
/// there. The error names that file and line, not the scratch database's resumable run.
#[tokio::test]
async fn a_statement_the_migrations_rows_refuse_is_named_by_file_and_line() {
    let (target, desired, p) = a_and_b(
        "gen_recheck_rows",
        "CREATE TABLE orders (id int PRIMARY KEY, note text);
         INSERT INTO orders VALUES (1, NULL), (2, 'ok');",
        "CREATE TABLE orders (id int PRIMARY KEY, note text NOT NULL);",
    )
    .await;
    let (code, out, err) = run(
        p.path(),
        &[
            "migration",
            "generate",
            "note_required",
            "--online",
            "--from-db",
            &desired.url,
        ],
    );
    assert_eq!(code, 1, "{out}\n{err}");
    let written: Vec<PathBuf> = generated(p.path())
        .into_iter()
        .map(|(m, _)| m.join("up.sql"))
        .collect();
    let [first, second] = written.as_slice() else {
        panic!("two migrations are left for the user to fix: {written:?}\n{err}");
    };
    let line = line_with(second, "VALIDATE CONSTRAINT");
    assert!(
        err.contains("re-check: a generated migration fails on the migrations' schema")
            && err.contains(&format!("{}:{line}: ALTER TABLE ", second.display()))
            && err.contains("ERROR 23514")
            && err.contains(&format!(
                "{} and {} are written and pinned",
                first.display(),
                second.display()
            )),
        "{err}"
    );
    assert!(
        !err.contains("run again"),
        "advice about the scratch database:\n{err}"
    );
    assert_eq!(
        tables_of(&target).await,
        Vec::<String>::new(),
        "target untouched"
    );
}

/// An event trigger that creates `public.side_effect` after any DDL: the re-check finds a
/// table the desired database does not have.
const SIDE_EFFECT: &str = "CREATE FUNCTION public.side_effect() RETURNS event_trigger \
LANGUAGE plpgsql AS $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = \
'side_effect' AND relnamespace = 'public'::regnamespace) THEN CREATE TABLE \
public.side_effect (id int); END IF; END $$;\nCREATE EVENT TRIGGER side_effect ON \
ddl_command_end EXECUTE FUNCTION public.side_effect();";

#[tokio::test]
async fn what_the_recheck_still_finds_is_shown_with_exit_2() {
    let (target, desired, p) = a_and_b(
        "gen_recheck_diff",
        SIDE_EFFECT,
        &format!("CREATE TABLE public.wanted (id int);\n{SIDE_EFFECT}"),
    )
    .await;
    let (code, out, err) = run(
        p.path(),
        &["migration", "generate", "wanted", "--from-db", &desired.url],
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains("re-check: the migrations, the new one included, still leave differences")
            && err.contains("DROP TABLE public.side_effect"),
        "{err}"
    );
    assert_eq!(
        tables_of(&target).await,
        Vec::<String>::new(),
        "target untouched"
    );
}
