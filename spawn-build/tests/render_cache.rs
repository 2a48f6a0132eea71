//! `compile()` renders again only what changed since its last run in the same `OUT_DIR`:
//! each render is cached under a hash of its inputs, and the compiled set is always the one a
//! run without the cache would produce.

use std::path::{Path, PathBuf};

use spawn_build::Config;

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// Two environments, a variables file, a component; `migrations` migrations.
    fn new(migrations: usize) -> Self {
        let p = Self {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        p.write(
            "spawn.toml",
            "spawn_folder = \"db\"\nvariables = \"vars.json\"\n\
             [targets.dev]\nenvironment = \"dev\"\n[targets.prod]\nenvironment = \"prod\"\n",
        );
        p.write("vars.json", r#"{"owner": "app"}"#);
        p.write("db/components/columns.sql", "id int\n");
        for i in 0..migrations {
            p.write(&up_sql(i), &template(i, "x"));
        }
        p
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Compiles into `out` (auto-pinning unless `auto_pin` is false).
    fn compile_into(&self, out: &Path, auto_pin: bool) -> spawn_build::Compiled {
        Config::new()
            .spawn_toml(self.dir.path().join("spawn.toml"))
            .out_dir(out)
            .cargo_output(false)
            .locked(false)
            .auto_pin(auto_pin)
            .compile()
            .expect("compile")
    }

    fn compile(&self, auto_pin: bool) -> spawn_build::Compiled {
        self.compile_into(&self.out(), auto_pin)
    }

    /// The generated file of a compile into `out`, and of one into a new folder (no cache):
    /// they must be the same.
    fn assert_same_as_uncached(&self, compiled: &spawn_build::Compiled, auto_pin: bool) {
        let fresh = tempfile::tempdir().expect("tempdir");
        let uncached = self.compile_into(fresh.path(), auto_pin);
        assert_eq!(uncached.reused, 0);
        assert_eq!(
            compiled_parts(&compiled.migrations),
            compiled_parts(&uncached.migrations),
            "the cache changed what is embedded (SQL, checksums or analysis)"
        );
    }
}

fn up_sql(i: usize) -> String {
    format!("db/migrations/2025010100{i:04}-m{i}/up.sql")
}

fn template(i: usize, comment: &str) -> String {
    format!(
        "-- {comment}\nCREATE TABLE t{i} ({{% include \"columns.sql\" %}});\n\
         ALTER TABLE t{i} OWNER TO {{{{ variables.owner | escape_identifier }}}};\n\
         {{% if env == \"dev\" %}}INSERT INTO t{i} VALUES (1);{{% endif %}}\n"
    )
}

/// Each render's name and environment, SQL, checksums and analysis.
type Parts = (
    String,
    String,
    [u8; 32],
    [u8; 16],
    spawn_build::analyze::Analysis,
);

fn compiled_parts(migrations: &[spawn_build::project::CompiledMigration]) -> Vec<Parts> {
    migrations
        .iter()
        .flat_map(|m| {
            m.renders.iter().map(|r| {
                (
                    format!("{} {}", m.name, r.environment),
                    r.sql.clone(),
                    r.sha256,
                    r.xxh3_128,
                    r.analysis.clone(),
                )
            })
        })
        .collect()
}

#[test]
fn only_what_changed_is_rendered_again() {
    let p = Project::new(5);
    let first = p.compile(true);
    assert_eq!(first.newly_pinned.len(), 5);
    assert_eq!(first.reused, 0);

    let again = p.compile(true);
    assert_eq!(
        again.reused, 10,
        "5 migrations x 2 environments, all unchanged"
    );
    p.assert_same_as_uncached(&again, true);

    p.write(&up_sql(2), &template(2, "edited"));
    let edited = p.compile(true);
    assert_eq!(edited.reused, 8, "only the edited migration renders again");
    assert!(edited.migrations[2].renders[0].sql.contains("-- edited"));
    p.assert_same_as_uncached(&edited, true);

    p.write("vars.json", r#"{"owner": "someone_else"}"#);
    let vars = p.compile(true);
    assert_eq!(vars.reused, 0, "every render reads the variables file");
    assert!(vars.migrations[0].renders[0].sql.contains("someone_else"));

    // Pinned renders ignore components/; spawn.toml is part of every key.
    p.write("db/components/columns.sql", "id bigint\n");
    assert_eq!(p.compile(true).reused, 10);
    p.write(
        "spawn.toml",
        "spawn_folder = \"db\"\nvariables = \"vars.json\"\n\
         [targets.dev]\nenvironment = \"dev\"\n[targets.prod]\nenvironment = \"prod\"\n# edited\n",
    );
    assert_eq!(p.compile(true).reused, 0);
}

#[test]
fn working_tree_renders_follow_the_components() {
    let p = Project::new(3);
    assert_eq!(p.compile(false).reused, 0);
    assert_eq!(p.compile(false).reused, 6);
    p.write("db/components/columns.sql", "id bigint\n");
    let edited = p.compile(false);
    assert_eq!(edited.reused, 0, "an unpinned render reads components/");
    assert!(edited.migrations[0].renders[0].sql.contains("id bigint"));
    p.assert_same_as_uncached(&edited, false);
    p.write("db/components/new.sql", "-- new\n");
    assert_eq!(
        p.compile(false).reused,
        0,
        "a new component may be included"
    );
}

#[test]
fn renders_with_random_uuids_are_never_reused() {
    let p = Project::new(1);
    p.write(&up_sql(1), "SELECT '{{ gen_uuid_v4() }}';\n");
    p.compile(true);
    let again = p.compile(true);
    assert_eq!(again.reused, 2, "only the migration without random UUIDs");
}

#[test]
fn a_cached_render_still_checks_the_pinned_objects_it_read() {
    let p = Project::new(2);
    p.compile(true);
    let blob = walkdir::WalkDir::new(p.dir.path().join("db/pinned"))
        .into_iter()
        .map(|e| e.expect("walk").into_path())
        .find(|f| std::fs::read(f).is_ok_and(|bytes| bytes == b"id int\n"))
        .expect("the pinned component");
    std::fs::write(&blob, "id text\n").expect("tamper");
    let err = Config::new()
        .spawn_toml(p.dir.path().join("spawn.toml"))
        .out_dir(p.out())
        .cargo_output(false)
        .locked(false)
        .compile()
        .expect_err("a corrupt pinned object fails the build, cached or not")
        .to_string();
    assert!(err.contains("is corrupt"), "{err}");
    assert_eq!(err.matches("is corrupt").count(), 1, "{err}");
    assert!(err.contains("pinned by 2 migrations"), "{err}");
}

#[test]
fn a_render_whose_analysis_fails_is_analysed_and_reported_again() {
    let p = Project::new(2);
    p.write(&up_sql(1), "SELECT 'never closed;\n");
    let compile = || {
        Config::new()
            .spawn_toml(p.dir.path().join("spawn.toml"))
            .out_dir(p.out())
            .cargo_output(false)
            .locked(false)
            .auto_pin(false)
            .compile()
            .expect_err("the unterminated string fails the build")
            .to_string()
    };
    let first = compile();
    assert!(first.contains("unterminated string"), "{first}");
    assert!(first.contains("m1"), "names the migration: {first}");
    assert_eq!(compile(), first, "the second run reports the same problem");
    p.write(&up_sql(1), "SELECT 'closed';\n");
    let fixed = p.compile(false);
    assert_eq!(fixed.reused, 2, "migration 0 in both environments");
    p.assert_same_as_uncached(&fixed, false);
}
