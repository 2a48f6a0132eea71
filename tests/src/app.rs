//! A throwaway cargo application that embeds a spawn project with `embed_migrations!()`:
//! the fixture of the rebuild tests (`build_tests/rebuild.rs`) and of the rebuild benchmark
//! (`benches/rebuild.rs`).
//!
//! The app's `main` prints one line per embedded render (`<migration> <environment>
//! <sha256>`), so a test sees exactly what was embedded. Every app builds into one shared
//! target dir (`target/rebuild-fixture` of this workspace), so dependencies build once; give
//! each app its own package name.

use std::path::{Path, PathBuf};
use std::process::Command;

/// This workspace's root folder.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// A cargo application in a temporary folder.
pub struct App {
    dir: tempfile::TempDir,
    target: PathBuf,
    /// The package (and binary) name: distinct per app, as they share a target dir.
    name: String,
}

/// What one `cargo build` of an [`App`] did.
#[derive(Debug)]
pub struct Build {
    /// cargo ran the app's build script.
    pub script_ran: bool,
    /// cargo compiled the app's crate (it was not Fresh).
    pub compiled: bool,
    /// What the built app printed: one `<migration> <environment> <sha256>` line per render.
    pub embedded: String,
}

impl App {
    /// An app named `name` whose `build.rs` runs `compile` (a Rust expression, e.g.
    /// `spawn_build::compile().unwrap()`). Add the project (`spawn.toml` and its folders)
    /// with [`App::write`].
    pub fn new(name: &str, compile: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder for the app");
        let ws = workspace();
        let app = Self {
            dir,
            target: ws.join("target").join("rebuild-fixture"),
            name: name.to_owned(),
        };
        app.write(
            "Cargo.toml",
            &format!(
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
                runtime = ws.join("spawn-runtime"),
                build = ws.join("spawn-build"),
            ),
        );
        app.write("build.rs", &format!("fn main() {{ {compile}; }}\n"));
        app.write(
            "src/main.rs",
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
        );
        app
    }

    /// The app's folder.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `rel` (relative to the app's folder), creating folders.
    pub fn write(&self, rel: &str, text: &str) {
        write(self.root(), rel, text);
    }

    /// `cargo build -v` of the app (outside CI, so debug builds pin); panics if it fails.
    /// Returns cargo's stderr.
    pub fn cargo_build(&self) -> String {
        let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["build", "-v"])
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("CI")
            .current_dir(self.root())
            .output()
            .expect("run cargo build");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "cargo build failed:\n{stderr}");
        stderr
    }

    /// Builds the app and runs it.
    pub fn build(&self) -> Build {
        let stderr = self.cargo_build();
        let ran = |what: &str| {
            stderr.lines().any(|l| {
                l.contains("Running") && l.contains(self.name.as_str()) && l.contains(what)
            })
        };
        let compiled = stderr.lines().any(|l| {
            l.contains("Running")
                && l.contains("rustc")
                && l.contains(&format!("--crate-name {}", self.name.replace('-', "_")))
                && l.contains("src/main.rs")
        });
        let bin = self.target.join("debug").join(&self.name);
        let run = Command::new(&bin).output().expect("run the built app");
        assert!(run.status.success(), "{} failed", bin.display());
        Build {
            script_ran: ran("build-script-build"),
            compiled,
            embedded: String::from_utf8_lossy(&run.stdout).into_owned(),
        }
    }
}

/// Writes `text` to `root/rel`, creating folders.
pub fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create the folder");
    }
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}
