//! `spawn db`: the project-local PostgreSQL from a clean checkout: start twice (idempotent),
//! use it as the default target, stop, start again with the data kept. Runs as whoever runs
//! the tests; as root (the server then runs as `postgres`) the project sits in a 0700
//! temporary folder the postgres user cannot enter, which must still work.

use assert_cmd::Command;
use predicates::prelude::*;

fn spawn() -> Command {
    let mut c = Command::cargo_bin("spawn").expect("the spawn binary");
    c.env_remove("SPAWN_TARGET")
        .env_remove("SPAWN_CONFIG")
        .env_remove("DATABASE_URL")
        .env_remove("PGHOST")
        .env("NO_COLOR", "1");
    c
}

#[test]
fn db_start_twice_use_stop_and_restart_from_a_clean_checkout() {
    if spawn_localdb::PgBinaries::find().is_err() {
        println!("skipped: no PostgreSQL binaries on this machine");
        return;
    }
    let project = tempfile::tempdir().expect("tempdir");
    let dir = project.path();
    spawn().current_dir(dir).arg("init").assert().success();
    // Not there yet: url and status say how to start it.
    spawn()
        .current_dir(dir)
        .args(["db", "url"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("spawn db start"));
    spawn()
        .current_dir(dir)
        .args(["db", "status"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("spawn db start"));
    spawn()
        .current_dir(dir)
        .args(["migration", "status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("spawn db start"));

    spawn()
        .current_dir(dir)
        .args(["db", "start"])
        .assert()
        .success()
        .stdout(predicate::str::contains("created and started"));
    let data = std::fs::canonicalize(dir.join(".spawn/db")).expect(".spawn/db");
    let result = std::panic::catch_unwind(|| {
        spawn()
            .current_dir(dir)
            .args(["db", "start"])
            .assert()
            .success()
            .stdout(predicate::str::contains("already running"));
        assert!(std::fs::read_to_string(dir.join(".spawn/.gitignore"))
            .expect(".spawn/.gitignore")
            .contains('*'));
        let url = String::from_utf8(
            spawn()
                .current_dir(dir)
                .args(["db", "url"])
                .output()
                .expect("url")
                .stdout,
        )
        .expect("utf8");
        assert!(
            url.starts_with("postgres://postgres@127.0.0.1:") && url.ends_with("/postgres\n"),
            "{url}"
        );
        spawn()
            .current_dir(dir)
            .args(["db", "status"])
            .assert()
            .success()
            .stdout(predicate::str::contains(url.trim()));
        let json = spawn()
            .current_dir(dir)
            .args(["db", "status", "--json"])
            .output()
            .expect("status");
        let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
        assert_eq!(v["running"], true);

        // The default target of `spawn init` is this database.
        spawn()
            .current_dir(dir)
            .args(["migration", "new", "first"])
            .assert()
            .success();
        let m = std::fs::read_dir(dir.join("spawn/migrations"))
            .expect("ls")
            .map(|e| e.expect("e").path())
            .find(|p| p.is_dir())
            .expect("migration");
        std::fs::write(m.join("up.sql"), "CREATE TABLE kept (id int);\n").expect("write");
        spawn()
            .current_dir(dir)
            .args(["migration", "pin", "--all"])
            .assert()
            .success();
        spawn()
            .current_dir(dir)
            .args(["migration", "apply", "--yes"])
            .assert()
            .success()
            .stdout(predicate::str::contains("applied 1"));
        spawn()
            .current_dir(dir)
            .args(["db", "psql", "--", "-c", "SELECT 'psql works'"])
            .assert()
            .success()
            .stdout(predicate::str::contains("psql works"));

        spawn()
            .current_dir(dir)
            .args(["db", "stop"])
            .assert()
            .success()
            .stdout(predicate::str::contains("stopped"));
        spawn()
            .current_dir(dir)
            .args(["db", "stop"])
            .assert()
            .success()
            .stdout(predicate::str::contains("not running"));
        spawn()
            .current_dir(dir)
            .args(["db", "status"])
            .assert()
            .code(2)
            .stdout(predicate::str::contains("stopped"));
        spawn()
            .current_dir(dir)
            .args(["db", "url"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("not running"));

        // Started again: same port, data kept.
        spawn()
            .current_dir(dir)
            .args(["db", "start"])
            .assert()
            .success()
            .stdout(predicate::str::contains("started"));
        let again = String::from_utf8(
            spawn()
                .current_dir(dir)
                .args(["db", "url"])
                .output()
                .expect("url")
                .stdout,
        )
        .expect("utf8");
        assert_eq!(again, url);
        spawn()
            .current_dir(dir)
            .args(["migration", "status", "--exit-code"])
            .assert()
            .success();
        spawn()
            .current_dir(dir)
            .args(["db", "stop"])
            .assert()
            .success();
    });
    // Never leave a server behind, even when an assertion failed.
    let _ = spawn().current_dir(dir).args(["db", "stop"]).output();
    if data != dir.join(".spawn/db") {
        let _ = std::fs::remove_dir_all(&data);
    }
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn db_start_without_postgresql_binaries_says_how_to_install_them() {
    let project = tempfile::tempdir().expect("tempdir");
    let dir = project.path();
    spawn().current_dir(dir).arg("init").assert().success();
    let empty = tempfile::tempdir().expect("tempdir");
    spawn()
        .current_dir(dir)
        .env("SPAWN_PG_BINDIR", empty.path())
        .args(["db", "start"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("SPAWN_PG_BINDIR")
                .and(predicate::str::contains(
                    "holds no PostgreSQL server binaries",
                ))
                .and(predicate::str::contains("apt-get install postgresql")),
        );
    assert!(
        !dir.join(".spawn").exists(),
        "a failed start left .spawn/ behind"
    );
}
