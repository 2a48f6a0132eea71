//! Every kind of bad input fails `compile()` with the file, the line and a message a user
//! can act on; nothing is written to OUT_DIR.

use std::path::{Path, PathBuf};

use spawn_build::Config;

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        let p = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        p.write("spawn.toml", "spawn_folder = \"db\"\n");
        p.write("db/components/ok.sql", "SELECT 1;\n");
        p
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn migration(&self, name: &str, sql: &str) {
        self.write(&format!("db/migrations/{name}/up.sql"), sql);
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// The unlocked build, with auto-pinning off.
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

    /// Compiles with auto-pinning off unless `locked`; returns the error text.
    fn fail(&self, configure: impl FnOnce(&mut Config)) -> String {
        let mut config = self.config();
        configure(&mut config);
        let err = config.compile().expect_err("compile() should fail");
        assert!(
            !self.out().join("spawn_migrations.rs").exists(),
            "nothing is written on failure"
        );
        // Debug is what `compile().unwrap()` shows in cargo's output: it must be as readable.
        let debug = format!("{err:?}");
        assert!(debug.contains(&err.to_string()), "{debug}");
        err.to_string()
    }

    /// Compiles as a debug build does, pinning every unpinned migration.
    fn pin(&self) {
        Config::new()
            .spawn_toml(self.dir.path().join("spawn.toml"))
            .out_dir(self.out())
            .cargo_output(false)
            .locked(false)
            .compile()
            .unwrap();
    }

    fn ok(&self) -> spawn_build::Compiled {
        self.config().compile().expect("compile")
    }
}

fn assert_has(haystack: &str, needles: &[&str]) {
    for n in needles {
        assert!(haystack.contains(n), "expected {n:?} in:\n{haystack}");
    }
}

#[test]
fn template_syntax_error_names_file_and_line() {
    let p = Project::new();
    p.migration(
        "20250101000000-grid",
        "SELECT 1;\nSELECT '{{1,2},{3,4}}';\n",
    );
    let err = p.fail(|_| {});
    assert_has(
        &err,
        &[
            "migration 20250101000000-grid",
            "up.sql:2",
            "syntax error",
            "raw",
        ],
    );
}

#[test]
fn unknown_include_names_the_component() {
    let p = Project::new();
    p.migration(
        "20250101000000-inc",
        "{% include \"views/missing.sql\" %}\n",
    );
    let err = p.fail(|_| {});
    assert_has(
        &err,
        &["20250101000000-inc", "up.sql:1", "views/missing.sql"],
    );
}

#[test]
fn include_escaping_components_is_refused() {
    let p = Project::new();
    p.migration("20250101000000-esc", "{% include \"../spawn.toml\" %}\n");
    let err = p.fail(|_| {});
    assert_has(&err, &["20250101000000-esc", "up.sql:1", ".."]);
}

#[test]
fn undefined_filter_names_the_filter() {
    let p = Project::new();
    p.migration(
        "20250101000000-filter",
        "SELECT 1;\nSELECT {{ 1 | tojson }};\n",
    );
    let err = p.fail(|_| {});
    assert_has(&err, &["20250101000000-filter", "up.sql:2", "tojson"]);
}

#[test]
fn bad_variables_file_names_file_and_line() {
    let p = Project::new();
    p.write(
        "spawn.toml",
        "spawn_folder = \"db\"\nvariables = \"vars.json\"\n",
    );
    p.write("vars.json", "{\n  \"a\": 1,\n  \"b\": \n}\n");
    p.migration("20250101000000-v", "SELECT {{ variables.a }};\n");
    let err = p.fail(|_| {});
    assert_has(&err, &["vars.json", ":4"]);
}

#[test]
fn variables_file_with_unknown_extension_says_which_work() {
    let p = Project::new();
    p.write(
        "spawn.toml",
        "spawn_folder = \"db\"\nvariables = \"vars.ini\"\n",
    );
    p.write("vars.ini", "a=1\n");
    p.migration("20250101000000-v", "SELECT 1;\n");
    let err = p.fail(|_| {});
    assert_has(&err, &["vars.ini", "json"]);
}

#[test]
fn tampered_pin_names_object_and_migration() {
    let p = Project::new();
    p.migration("20250101000000-pinned", "{% include \"ok.sql\" %}\n");
    // Pin it (debug behaviour), then tamper with the blob.
    p.pin();
    let pinned = p.dir.path().join("db/pinned");
    let mut tampered = 0;
    for entry in walk(&pinned) {
        if std::fs::read(&entry).unwrap() == b"SELECT 1;\n" {
            std::fs::write(&entry, b"DROP TABLE users;\n").unwrap();
            tampered += 1;
        }
    }
    assert_eq!(tampered, 1);
    std::fs::remove_dir_all(p.out()).unwrap();
    let err = p.fail(|c| {
        c.auto_pin(true);
    });
    assert_has(&err, &["20250101000000-pinned", "pinned"]);
}

#[test]
fn lexer_problems_name_rendered_line_and_component() {
    let p = Project::new();
    p.write(
        "db/components/idx.sql",
        "CREATE INDEX CONCURRENTLY i ON t (x);\n",
    );
    p.migration(
        "20250101000000-idx",
        "CREATE TABLE t (x int);\n{% include \"idx.sql\" %}\n",
    );
    let err = p.fail(|_| {});
    assert_has(
        &err,
        &["20250101000000-idx", "line 2", "idx.sql", "no-transaction"],
    );
}

#[test]
fn psql_meta_commands_are_refused() {
    let p = Project::new();
    p.migration("20250101000000-psql", "\\c other\nSELECT 1;\n");
    let err = p.fail(|_| {});
    assert_has(&err, &["20250101000000-psql", "line 1", "\\c"]);
}

#[test]
fn unterminated_dollar_quote_is_refused() {
    let p = Project::new();
    p.migration(
        "20250101000000-dollar",
        "SELECT 1;\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1;\n",
    );
    let err = p.fail(|_| {});
    assert_has(&err, &["20250101000000-dollar", "line 2"]);
}

#[test]
fn locked_build_refuses_unpinned_migrations_with_the_command_to_run() {
    let p = Project::new();
    p.migration("20250101000000-a", "SELECT 1;\n");
    let err = p.fail(|c| {
        c.locked(true);
    });
    assert_has(
        &err,
        &["migration 20250101000000-a is not pinned; run `spawn migration pin 20250101000000-a`"],
    );
    assert!(!p
        .dir
        .path()
        .join("db/migrations/20250101000000-a/lock.toml")
        .exists());
}

#[test]
fn all_problems_are_listed_not_just_the_first() {
    let p = Project::new();
    p.migration("20250101000000-a", "SELECT {{ 1 | nope }};\n");
    p.migration("20250102000000-b", "\\i file.sql\n");
    let err = p.fail(|_| {});
    assert_has(&err, &["20250101000000-a", "20250102000000-b"]);
}

#[test]
fn folder_without_up_sql_is_named() {
    let p = Project::new();
    std::fs::create_dir_all(p.dir.path().join("db/migrations/20250101000000-empty")).unwrap();
    let err = p.fail(|_| {});
    assert_has(&err, &["20250101000000-empty has no up.sql"]);
}

#[test]
fn missing_spawn_toml_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let err = Config::new()
        .spawn_toml(dir.path().join("spawn.toml"))
        .out_dir(dir.path().join("out"))
        .cargo_output(false)
        .compile()
        .unwrap_err()
        .to_string();
    assert_has(&err, &["spawn.toml", "spawn init"]);
}

#[test]
fn environments_come_from_the_targets_and_render_their_branches() {
    let p = Project::new();
    p.write(
        "spawn.toml",
        "spawn_folder = \"db\"\ntarget = \"local\"\n[targets.local]\nenvironment = \"dev\"\n[targets.prod]\n",
    );
    p.migration(
        "20250101000000-seed",
        "{% if env == \"dev\" %}INSERT INTO t VALUES (1);{% endif %}SELECT 1;\n",
    );
    let compiled = p.ok();
    let m = &compiled.migrations[0];
    let envs: Vec<_> = m.renders.iter().map(|r| r.environment.as_str()).collect();
    assert_eq!(envs, ["dev", "prod"]);
    assert!(m.renders[0].sql.contains("INSERT"));
    assert!(!m.renders[1].sql.contains("INSERT"));
    let generated = std::fs::read_to_string(&compiled.generated).unwrap();
    assert!(
        generated.contains("\"dev\", \"_spawn\")"),
        "default environment is the default target's"
    );
}

#[test]
fn wrapped_migrations_run_without_their_wrapper() {
    let p = Project::new();
    p.migration(
        "20250101000000-wrapped",
        "BEGIN;\nCREATE TABLE t (x int);\nCOMMIT;\n",
    );
    let compiled = p.ok();
    let r = &compiled.migrations[0].renders[0];
    let body = &r.sql[r.analysis.body.clone()];
    assert!(
        body.contains("CREATE TABLE") && !body.contains("BEGIN") && !body.contains("COMMIT"),
        "{body:?}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_thousand_unpinned_migrations_are_one_message_with_the_one_command() {
    let p = Project::new();
    for i in 0..1000 {
        p.migration(&format!("2025010100{i:04}-m"), "SELECT 1;\n");
    }
    let err = p.fail(|c| {
        c.locked(true);
    });
    assert_eq!(err.matches("not pinned").count(), 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_has(
        &err,
        &[
            "1000 migrations are not pinned (20250101000000-m, 20250101000001-m, \
             20250101000002-m and 997 more); run `spawn migration pin --all`",
            "pinned automatically only in debug builds outside CI",
        ],
    );
}

/// Three migrations, two environments: what is wrong with a file they all read is said once.
fn three_migrations_two_environments(p: &Project) {
    p.write(
        "spawn.toml",
        "spawn_folder = \"db\"\nvariables = \"vars.json\"\n\
         [targets.dev]\nenvironment = \"dev\"\n[targets.prod]\nenvironment = \"prod\"\n",
    );
    p.write("vars.json", r#"{"a": 1}"#);
    for name in ["20250101000000-a", "20250102000000-b", "20250103000000-c"] {
        p.migration(
            name,
            "{% include \"ok.sql\" %}\nSELECT {{ variables.a }};\n",
        );
    }
}

#[test]
fn a_bad_variables_file_is_reported_once() {
    let p = Project::new();
    three_migrations_two_environments(&p);
    p.write("vars.json", "{\n  \"a\": \n}\n");
    let err = p.fail(|_| {});
    assert_eq!(err.matches("vars.json").count(), 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_has(&err, &["vars.json:3", "invalid JSON"]);
}

#[test]
fn a_missing_pinned_object_is_reported_once_with_its_migrations() {
    let p = Project::new();
    three_migrations_two_environments(&p);
    p.pin();
    let blob = walk(&p.dir.path().join("db/pinned"))
        .into_iter()
        .find(|f| std::fs::read(f).unwrap() == b"SELECT 1;\n")
        .unwrap();
    std::fs::remove_file(&blob).unwrap();
    // Once with the renders cached in OUT_DIR by the first build, once rendering afresh.
    std::fs::remove_file(p.out().join("spawn_migrations.rs")).unwrap();
    let cached = p.fail(|c| {
        c.locked(true);
    });
    std::fs::remove_dir_all(p.out()).unwrap();
    let rendered = p.fail(|c| {
        c.locked(true);
    });
    assert_eq!(cached, rendered);
    assert_eq!(rendered.matches("is missing").count(), 1, "{rendered}");
    assert_eq!(rendered.lines().count(), 1, "{rendered}");
    assert_has(
        &rendered,
        &[
            &blob.display().to_string(),
            "restore the pinned/ folder",
            "pinned by 3 migrations: 20250101000000-a, 20250102000000-b, 20250103000000-c",
        ],
    );
}

#[test]
fn a_debug_build_never_pins_a_migration_that_does_not_render() {
    let p = Project::new();
    let m = "20250101000000-uses-missing";
    p.migration(m, "{% include \"later.sql\" %}\n");
    let err = p.fail(|c| {
        c.auto_pin(true);
    });
    assert!(err.contains("later.sql") && err.contains(m), "{err}");
    let lock = p.dir.path().join(format!("db/migrations/{m}/lock.toml"));
    assert!(
        !lock.exists(),
        "a migration that does not render is not pinned"
    );
    assert!(
        !p.dir.path().join("db/pinned").exists(),
        "nothing is pinned"
    );
    // Once the component exists, the build pins the migration and renders from the pin.
    p.write("db/components/later.sql", "SELECT 2;\n");
    p.pin();
    assert!(lock.is_file());
}

#[test]
fn a_pin_without_a_component_the_working_tree_has_says_to_re_pin() {
    let p = Project::new();
    let m = "20250101000000-grows";
    p.migration(m, "SELECT 1;\n");
    p.pin();
    std::fs::remove_dir_all(p.out()).unwrap();
    p.write("db/components/new.sql", "SELECT 2;\n");
    p.migration(m, "{% include \"new.sql\" %}\n");
    let err = p.fail(|_| {});
    assert!(err.contains("looked up in the pinned snapshot"), "{err}");
    assert!(
        err.contains(&format!("re-pin it with `spawn migration pin {m}`")),
        "{err}"
    );
    // A component missing everywhere is no reason to re-pin.
    p.migration(m, "{% include \"nowhere.sql\" %}\n");
    let err = p.fail(|_| {});
    assert!(!err.contains("re-pin"), "{err}");
}

#[test]
fn misnamed_migration_folders_fail_the_build_with_the_rename_to_make() {
    let p = Project::new();
    p.migration("create-foo", "SELECT 1;\n");
    p.migration("20250101000000-has space", "SELECT 1;\n");
    let err = p.fail(|c| {
        c.auto_pin(true);
    });
    assert!(
        err.contains(
            "rename `migrations/20250101000000-has space` to `migrations/20250101000000-has-space`"
        ),
        "{err}"
    );
    assert!(
        err.contains("rename `migrations/create-foo` to `migrations/"),
        "{err}"
    );
    assert!(err.contains("-create-foo`"), "{err}");
    assert!(
        !p.dir
            .path()
            .join("db/migrations/create-foo/lock.toml")
            .exists(),
        "a misnamed migration is not pinned"
    );
}

#[test]
fn undefined_variables_render_as_nothing_and_are_warned_of_once_per_file() {
    let p = Project::new();
    let vars = p.write("vars.json", "{\"n\": 3}\n");
    let m = "20250101000000-uses-nope";
    p.migration(
        m,
        "SELECT 1;\nINSERT INTO t VALUES ({{ variables.nope }}, {{ variables.n }});\n",
    );
    let compile = || {
        p.config()
            .variables(&vars)
            .environments(["dev", "prod"])
            .compile()
    };
    let compiled = compile().expect("an undefined name renders, as in the original spawn");
    // Byte-identical to the original spawn: the undefined value prints as nothing.
    let renders = &compiled.migrations[0].renders;
    assert_eq!(renders.len(), 2);
    for render in renders {
        assert_eq!(render.sql, "SELECT 1;\nINSERT INTO t VALUES (, 3);");
    }
    assert_eq!(compiled.warnings.len(), 1, "{:?}", compiled.warnings);
    let warning = &compiled.warnings[0];
    assert_eq!(warning.at.name, "variables.nope");
    assert_eq!(warning.environments, ["dev", "prod"]);
    let text = warning.to_string();
    let up_sql = format!("{m}/up.sql:2: ");
    assert!(text.contains(&up_sql), "{text}");
    assert!(text.contains("`variables.nope` is undefined"), "{text}");
    // A render with an undefined name is not cached: the next build warns again.
    let again = compile().expect("compile");
    assert_eq!(again.warnings, compiled.warnings);
}
