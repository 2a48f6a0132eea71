//! The embedded set follows the files: a real cargo project with spawn's build.rs is built
//! again after each kind of change, and the embedded migrations (names and checksums) must
//! change exactly when they should. A no-op build must not rerun the build script.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

struct Fixture {
    dir: tempfile::TempDir,
    target: PathBuf,
    /// The package (and binary) name: distinct per test, as they share a target dir.
    name: String,
}

#[derive(Debug)]
struct Build {
    script_ran: bool,
    embedded: String,
}

impl Fixture {
    fn new(name: &str, auto_pin: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace();
        let root = dir.path();
        std::fs::write(
            root.join("Cargo.toml"),
            format!(
                r#"[package]
name = {name:?}
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
spawn-runtime = {{ path = {runtime:?} }}

[build-dependencies]
spawn-build = {{ path = {build:?} }}

[workspace]
"#,
                name = name,
                runtime = ws.join("spawn-runtime"),
                build = ws.join("spawn-build"),
            ),
        )
        .unwrap();
        std::fs::write(
            root.join("build.rs"),
            format!("fn main() {{ spawn_build::Config::new().auto_pin({auto_pin}).compile().unwrap(); }}\n"),
        )
        .unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(
            root.join("src/main.rs"),
            r#"static MIGRATIONS: spawn_runtime::Migrations = spawn_runtime::embed_migrations!();
fn main() {
    for m in MIGRATIONS.embedded() {
        for r in m.renders {
            let hex: String = r.migration.sha256.iter().map(|b| format!("{b:02x}")).collect();
            println!("{} {} {}", m.name, r.environment, hex);
        }
    }
}
"#,
        )
        .unwrap();
        std::fs::write(
            root.join("spawn.toml"),
            "spawn_folder = \"db\"\nvariables = \"vars.json\"\n",
        )
        .unwrap();
        std::fs::write(root.join("vars.json"), r#"{"greeting": "hello"}"#).unwrap();
        write(
            root,
            "db/components/f.sql",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n",
        );
        write(
            root,
            "db/migrations/20250101000000-one/up.sql",
            "{% include \"f.sql\" %}\nSELECT {{ variables.greeting }};\n",
        );
        // A shared target dir for all fixtures of all runs: dependencies build once.
        let target = workspace().join("target").join("rebuild-fixture");
        Self {
            dir,
            target,
            name: name.to_owned(),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn build(&self) -> Build {
        let out = Command::new(env!("CARGO"))
            .args(["build", "-v"])
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("CI")
            .current_dir(self.root())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "cargo build failed:\n{stderr}");
        let script_ran = stderr.lines().any(|l| {
            l.contains("Running")
                && l.contains(self.name.as_str())
                && l.contains("build-script-build")
        });
        let bin = self.target.join("debug").join(&self.name);
        let run = Command::new(bin).output().unwrap();
        assert!(run.status.success());
        Build {
            script_ran,
            embedded: String::from_utf8_lossy(&run.stdout).into_owned(),
        }
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Builds, applies `change`, builds again; returns (before, after).
fn around(fixture: &Fixture, change: impl FnOnce(&Path)) -> (Build, Build) {
    let before = fixture.build();
    change(fixture.root());
    let after = fixture.build();
    (before, after)
}

#[test]
fn embedded_set_follows_every_kind_of_change() {
    // Iterating on unpinned migrations: everything a migration reads is watched.
    let fx = Fixture::new("rebuild-fixture-unpinned", false);
    let first = fx.build();
    assert!(
        first.embedded.contains("20250101000000-one prod"),
        "{first:?}"
    );

    let noop = fx.build();
    assert!(!noop.script_ran, "a no-op build reran the build script");
    assert_eq!(noop.embedded, first.embedded);

    let (before, after) = around(&fx, |r| {
        write(r, "db/migrations/20250102000000-two/up.sql", "SELECT 2;\n")
    });
    assert!(
        after.embedded.contains("20250102000000-two"),
        "adding a migration: {before:?} -> {after:?}"
    );

    let (before, after) = around(&fx, |r| {
        write(r, "db/migrations/20250102000000-two/up.sql", "SELECT 22;\n")
    });
    assert_ne!(before.embedded, after.embedded, "editing a migration");

    let (_, after) = around(&fx, |r| {
        std::fs::rename(
            r.join("db/migrations/20250102000000-two"),
            r.join("db/migrations/20250103000000-three"),
        )
        .unwrap()
    });
    assert!(
        after.embedded.contains("20250103000000-three")
            && !after.embedded.contains("20250102000000-two"),
        "renaming a migration: {after:?}"
    );

    let (_, after) = around(&fx, |r| {
        std::fs::remove_dir_all(r.join("db/migrations/20250103000000-three")).unwrap()
    });
    assert!(
        !after.embedded.contains("20250103000000-three"),
        "removing a migration: {after:?}"
    );

    let (before, after) = around(&fx, |r| {
        write(
            r,
            "db/components/f.sql",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;\n",
        )
    });
    assert_ne!(
        before.embedded, after.embedded,
        "editing a component the migration uses"
    );

    let (before, after) = around(&fx, |r| write(r, "vars.json", r#"{"greeting": "bonjour"}"#));
    assert_ne!(
        before.embedded, after.embedded,
        "editing the variables file"
    );

    let noop = fx.build();
    assert!(
        !noop.script_ran,
        "a no-op build after the changes reran the build script"
    );
}

#[test]
fn pinned_migrations_ignore_component_edits_and_debug_builds_pin() {
    let fx = Fixture::new("rebuild-fixture-pinned", true);
    let first = fx.build();
    let lock = fx.root().join("db/migrations/20250101000000-one/lock.toml");
    let pin = std::fs::read_to_string(&lock).expect("a debug build pins an unpinned migration");
    assert!(pin.starts_with("pin = \""), "{pin}");
    // Editing the component does not change the pinned migration's render.
    let (_, after) = around(&fx, |r| write(r, "db/components/f.sql", "-- edited\n"));
    assert_eq!(first.embedded, after.embedded);
    // Settle: a no-op build after pinning does not rerun the script.
    fx.build();
    assert!(
        !fx.build().script_ran,
        "a no-op build of a pinned project reran the build script"
    );
}
