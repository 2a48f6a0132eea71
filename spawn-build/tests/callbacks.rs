//! `compile()` with SQL callbacks (`db/callbacks/*.sql`): rendered per environment (and per
//! migration when they use `migration`), embedded with the set; a callback that fails to
//! render or fails the SQL analysis fails the build naming its file and line, and nothing is
//! written.

use std::path::{Path, PathBuf};

use spawn_build::Config;
use spawn_runtime::CallbackKind;

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        let p = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        p.write(
            "spawn.toml",
            "spawn_folder = \"db\"\ntarget = \"local\"\n\n[targets.local]\nenvironment = \"dev\"\n\n[targets.production]\nenvironment = \"prod\"\n",
        );
        p.write("db/components/stamp.sql", "SELECT {{ env }};\n");
        p.write(
            "db/migrations/20250101000000-a/up.sql",
            "CREATE TABLE a (id int);\n",
        );
        p.write(
            "db/migrations/20250102000000-b/up.sql",
            "CREATE TABLE b (id int);\n",
        );
        p
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn config(&self) -> Config {
        let mut config = Config::new();
        config
            .spawn_toml(self.dir.path().join("spawn.toml"))
            .out_dir(self.out())
            .cargo_output(false)
            .auto_pin(false)
            .locked(false);
        config
    }

    fn fail(&self) -> String {
        let err = self.config().compile().expect_err("compile() should fail");
        assert!(
            !self.out().join("spawn_migrations.rs").exists(),
            "nothing is written on failure"
        );
        err.to_string()
    }

    fn generated(&self) -> String {
        std::fs::read_to_string(self.out().join("spawn_migrations.rs")).unwrap()
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn callbacks_are_rendered_per_environment_and_per_migration_when_they_use_it() {
    let p = Project::new();
    p.write(
        "db/callbacks/after_migrate.sql",
        "ANALYZE;\n{% include \"stamp.sql\" %}\n",
    );
    p.write(
        "db/callbacks/before_each.sql",
        "{% if migration == \"20250102000000-b\" %}SELECT 'b';{% else %}SELECT 'other';{% endif %}\n",
    );
    let compiled = p.config().compile().expect("compile");
    let envs: Vec<&str> = compiled.callbacks.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(envs, ["dev", "prod"]);
    let (_, dev) = &compiled.callbacks[0];
    let after = dev.after_migrate.as_ref().expect("after_migrate");
    assert_eq!(after.kind, CallbackKind::AfterMigrate);
    assert_eq!(after.sql, "ANALYZE;\nSELECT 'dev';");
    assert_eq!(after.statements.len(), 2);
    assert_eq!(
        after.origin_of_line(2),
        Some(Some("stamp.sql")),
        "line origins, like a migration's"
    );
    // The condition uses `migration`: one render per migration.
    assert_eq!(dev.before_each.len(), 2);
    assert_eq!(
        dev.before_each_of("20250102000000-b").unwrap().sql,
        "SELECT 'b';"
    );
    assert_eq!(
        dev.before_each_of("20250101000000-a").unwrap().sql,
        "SELECT 'other';"
    );
    assert!(dev.after_each.is_empty());
    // Embedded with the set, as one Rust expression.
    let src = p.generated();
    assert!(src.contains("__with_callbacks(&["), "{src}");
    syn::parse_str::<syn::Expr>(&src).expect("one Rust expression");
    // The callbacks and the components they read are watched.
    assert!(compiled.watched.contains(&p.path("db/callbacks")));
    assert!(compiled.watched.contains(&p.path("db/components")));
}

#[test]
fn a_callback_not_using_migration_is_rendered_once() {
    let p = Project::new();
    p.write("db/callbacks/after_each.sql", "SELECT {{ env }};\n");
    let compiled = p.config().compile().expect("compile");
    let (_, dev) = &compiled.callbacks[0];
    assert_eq!(dev.after_each.len(), 1);
    assert_eq!(dev.after_each[0].migration, None);
    assert_eq!(
        dev.after_each_of("20250101000000-a").unwrap().sql,
        "SELECT 'dev';"
    );
}

#[test]
fn a_project_without_callbacks_generates_what_it_did_before() {
    let p = Project::new();
    let compiled = p.config().compile().expect("compile");
    assert!(compiled.callbacks.is_empty());
    assert!(!p.generated().contains("__with_callbacks"));
    // Not the whole spawn folder (it may be the crate's own, target/ and all).
    assert!(
        !compiled.watched.contains(&p.path("db")),
        "{:?}",
        compiled.watched
    );
}

#[test]
fn a_callback_failing_the_analysis_fails_the_build_naming_its_file_and_line() {
    let p = Project::new();
    let file = p.write(
        "db/callbacks/before_migrate.sql",
        "SELECT 1;\n\\i other.sql\nCOMMIT;\n",
    );
    let err = p.fail();
    assert!(
        err.starts_with(&format!(
            "callback {} (environment dev): the rendered SQL has 2 problems:\n  line 2, column 1: \
             psql meta-command `\\i` is not SQL",
            display(&file)
        )),
        "{err}"
    );
    assert!(err.contains("\n  line 3, column 1: "), "{err}");
}

#[test]
fn a_callback_cannot_leave_the_transaction_spawn_runs_it_in() {
    let p = Project::new();
    let file = p.write(
        "db/callbacks/after_each.sql",
        "-- spawn:no-transaction\nVACUUM;\n",
    );
    let err = p.fail();
    assert!(
        err.starts_with(&format!(
            "callback {} (environment dev): the rendered SQL has 1 problem:\n  line 1, column 1: \
             `-- spawn:no-transaction` is not allowed in a callback",
            display(&file)
        )),
        "{err}"
    );
    let p = Project::new();
    let file = p.write(
        "db/callbacks/before_each.sql",
        "BEGIN;\nSELECT {{ migration }};\nCOMMIT;\n",
    );
    let err = p.fail();
    assert!(
        err.starts_with(&format!(
            "callback {} (environment dev): the rendered SQL has 1 problem:\n  line 3, column 1: a callback cannot wrap itself in BEGIN; … COMMIT;",
            display(&file)
        )),
        "{err}"
    );
}

#[test]
fn a_callback_template_error_names_its_file_and_line() {
    let p = Project::new();
    let file = p.write(
        "db/callbacks/after_migrate.sql",
        "SELECT 1;\n{% include \"missing.sql\" %}\n",
    );
    let err = p.fail();
    assert!(
        err.starts_with(&format!(
            "callback {} (environment dev): {}:2: ",
            display(&file),
            display(&file)
        )),
        "{err}"
    );
    assert!(err.contains("missing.sql"), "{err}");
}

#[test]
fn an_unknown_file_in_callbacks_fails_the_build() {
    let p = Project::new();
    let file = p.write("db/callbacks/beforeMigrate.sql", "SELECT 1;\n");
    assert_eq!(
        p.fail(),
        format!(
            "{} is not a callback spawn runs: callbacks/ holds before_migrate.sql, \
             after_migrate.sql, before_each.sql and after_each.sql only; rename or remove it",
            display(&file)
        )
    );
}
