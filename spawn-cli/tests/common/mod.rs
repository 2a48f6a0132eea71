//! Helpers shared by the spawn-cli integration tests: the `spawn` command with a clean
//! environment, copies of fixture projects, and reading the tracking tables.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

/// A session of its own on `db` that holds spawn's migration lock (the original key, of
/// tracking schema `_spawn`) until it is closed or dropped.
pub async fn hold_migration_lock(db: &spawn_tests::TestDb) -> sqlx::PgConnection {
    let mut holder = spawn_tests::server().connection(&db.name).await;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(spawn_runtime::ORIGINAL_LOCK_KEY)
        .execute(&mut holder)
        .await
        .expect("hold the lock");
    holder
}

/// Environment variables that would point `spawn` somewhere other than where a test says.
pub const AMBIENT_ENV: [&str; 10] = [
    "SPAWN_TARGET",
    "SPAWN_CONFIG",
    "DATABASE_URL",
    "SPAWN_TEST_URL",
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGCONNECT_TIMEOUT",
];

/// `spawn` (assert_cmd) without colour and without the ambient variables.
pub fn spawn() -> assert_cmd::Command {
    assert_cmd::Command::from_std(spawn_process())
}

/// `spawn` as a plain [`std::process::Command`] (for tests that set up its stdout
/// themselves), without colour and without the ambient variables.
pub fn spawn_process() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_spawn"));
    clean_env(&mut c);
    c
}

/// `command` without colour and without the ambient variables (for `spawn` run by a shell),
/// keeping its model cache under the target folder (not the user's cache folder).
pub fn clean_env(command: &mut std::process::Command) -> &mut std::process::Command {
    command.env("NO_COLOR", "1");
    command.env("SPAWN_CACHE_DIR", cache_dir());
    for v in AMBIENT_ENV {
        command.env_remove(v);
    }
    command
}

/// The model cache folder of the tests' `spawn` commands.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("spawn-model-cache")
}

/// A fixture project under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Copies the folder `from` into `to` (created as needed).
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let dest = to.join(entry.path().strip_prefix(from).expect("prefix"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

/// A copy of a fixture project in a temporary folder.
pub fn project(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture(name), dir.path());
    dir
}

/// The description of `migration`'s ADOPT row in `_spawn`.
pub async fn adopt_description(pool: &sqlx::PgPool, migration: &str) -> String {
    sqlx::query_scalar(
        "SELECT h.description FROM _spawn.migration_history h JOIN _spawn.migration m ON m.migration_id = h.migration_id_migration \
         WHERE m.name = $1 AND h.activity_id_activity = 'ADOPT'",
    )
    .bind(migration)
    .fetch_one(pool)
    .await
    .expect("the ADOPT row")
}
