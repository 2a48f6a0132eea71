//! The `spawn` command against a throwaway PostgreSQL (or DATABASE_URL's server): every
//! command's success path and its refusals, password hiding, Ctrl-C, original-style psql
//! targets, and agreement with an app that embeds the same migrations.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use spawn_tests::TestDb;

/// The fixture app: `tests/fixtures/app`, compiled like an application's (by the build script
/// of the `spawn-cli-fixture-app` test crate).
use spawn_cli_fixture_app::MIGRATIONS as APP_MIGRATIONS;

fn spawn() -> Command {
    let mut c = Command::cargo_bin("spawn").expect("the spawn binary");
    c.env_remove("SPAWN_TARGET")
        .env_remove("SPAWN_CONFIG")
        .env_remove("DATABASE_URL")
        .env_remove("SPAWN_TEST_URL")
        .env("NO_COLOR", "1");
    for v in ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"] {
        c.env_remove(v);
    }
    c
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let rel = entry.path().strip_prefix(from).expect("prefix");
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

/// A copy of a fixture project in a temporary folder.
fn project(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture(name), dir.path());
    dir
}

/// Writes `db/migrations/<name>/up.sql` of the project in `dir`; returns its path.
fn write_migration(dir: &Path, name: &str, sql: &str) -> PathBuf {
    let up = dir.join(format!("db/migrations/{name}/up.sql"));
    std::fs::create_dir_all(up.parent().expect("parent")).expect("mkdir");
    std::fs::write(&up, sql).expect("write");
    up
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run spawn");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn status_json(dir: &Path, url: &str) -> serde_json::Value {
    let out = spawn()
        .current_dir(dir)
        .env("SPAWN_TEST_URL", url)
        .args(["migration", "status", "--json"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("status --json is JSON")
}

fn states(v: &serde_json::Value) -> Vec<String> {
    v["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| m["status"].as_str().expect("status").to_owned())
        .collect()
}

// ---------------------------------------------------------------- offline commands

#[test]
fn init_creates_the_project_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    spawn()
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .success()
        .stdout(predicate::str::contains("spawn db start"));
    let toml = std::fs::read_to_string(dir.path().join("spawn.toml")).expect("spawn.toml");
    assert!(toml.contains("local = true"), "{toml}");
    for sub in ["components", "migrations", "tests", "pinned"] {
        assert!(dir.path().join("spawn").join(sub).is_dir(), "{sub}/");
    }
    assert!(std::fs::read_to_string(dir.path().join(".gitignore"))
        .expect("gitignore")
        .contains(".spawn/"));
    std::fs::write(dir.path().join("spawn.toml"), "# mine\n").expect("write");
    spawn()
        .current_dir(dir.path())
        .args(["init", "--local"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("spawn.toml")).expect("read"),
        "# mine\n"
    );

    // With a server configured, the default target points at it (no password written).
    let dir = tempfile::tempdir().expect("tempdir");
    spawn()
        .current_dir(dir.path())
        .env("DATABASE_URL", "postgres://u:pw@h/db")
        .arg("init")
        .assert()
        .success();
    let toml = std::fs::read_to_string(dir.path().join("spawn.toml")).expect("spawn.toml");
    assert!(
        toml.contains("url = \"${DATABASE_URL}\"") && !toml.contains("pw"),
        "{toml}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    spawn()
        .current_dir(dir.path())
        .env("DATABASE_URL", "postgres://u@h/db")
        .args(["init", "--local"])
        .assert()
        .success();
    assert!(std::fs::read_to_string(dir.path().join("spawn.toml"))
        .expect("toml")
        .contains("local = true"));
}

#[test]
fn commands_outside_a_project_say_how_to_create_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    spawn()
        .current_dir(dir.path())
        .arg("check")
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("no spawn.toml").and(predicate::str::contains("spawn init")),
        );
}

#[test]
fn migration_new_validates_names_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    spawn()
        .current_dir(dir.path())
        .args(["init", "--local"])
        .assert()
        .success();
    let out = stdout_of(
        spawn()
            .current_dir(dir.path())
            .args(["migration", "new", "add-users"]),
    );
    assert!(out.contains("-add-users/up.sql"), "{out}");
    let migrations = dir.path().join("spawn/migrations");
    let made: Vec<String> = std::fs::read_dir(&migrations)
        .expect("ls")
        .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(made.len(), 1);
    let (stamp, name) = made[0].split_once('-').expect("<stamp>-<name>");
    assert_eq!((stamp.len(), name), (14, "add-users"));
    assert!(stamp.chars().all(|c| c.is_ascii_digit()));
    // The new migration renders to nothing but whitespace and passes `build`.
    let sql = stdout_of(
        spawn()
            .current_dir(dir.path())
            .args(["migration", "build", &made[0]]),
    );
    assert!(sql.trim().is_empty(), "{sql:?}");
    for bad in ["a/b", "with space", "", ".hidden"] {
        spawn()
            .current_dir(dir.path())
            .args(["migration", "new", bad])
            .assert()
            .code(1);
    }
    spawn()
        .current_dir(dir.path())
        .args(["migration", "new", "add-users"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("exists already"));
}

/// `generate --lock-timeout` takes `off` or what `-- spawn:lock-timeout` takes; anything else
/// is refused before any work, naming the flag.
#[test]
fn generate_refuses_a_lock_timeout_the_directive_would_not_take() {
    let p = project("app");
    for bad in ["5sec", "1.5s", "s", "five"] {
        spawn()
            .current_dir(p.path())
            .args([
                "migration",
                "generate",
                "x",
                "--from-db",
                "postgres://nowhere/db",
            ])
            .args(["--lock-timeout", bad])
            .assert()
            .code(1)
            .stderr(
                predicate::str::contains(format!("invalid value '{bad}' for '--lock-timeout"))
                    .and(predicate::str::contains("expected `off` or a duration")),
            );
    }
    assert!(
        !p.path().join("db/migrations").exists()
            || std::fs::read_dir(p.path().join("db/migrations"))
                .expect("migrations")
                .all(|e| !e
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .ends_with("-x")),
        "nothing was written"
    );
}

#[test]
fn build_pin_and_check() {
    let p = project("app");
    let dir = p.path();
    let m1 = "20250101000000-create-people";
    // Pinned build from a subfolder: paths are relative to spawn.toml.
    let sql =
        stdout_of(
            spawn()
                .current_dir(dir.join("db"))
                .args(["migration", "build", m1, "--pinned"]),
        );
    assert!(
        sql.contains("CREATE OR REPLACE FUNCTION greet") && sql.ends_with("$$;\n"),
        "{sql}"
    );
    // Edit the component: the pinned build is unchanged, the unpinned one shows the edit and warns.
    std::fs::write(
        dir.join("db/components/functions/greet.sql"),
        "SELECT 'edited';\n",
    )
    .expect("write");
    assert_eq!(
        stdout_of(
            spawn()
                .current_dir(dir)
                .args(["migration", "build", m1, "--pinned"])
        ),
        sql
    );
    spawn()
        .current_dir(dir)
        .args(["migration", "build", m1])
        .assert()
        .success()
        .stdout(predicate::str::contains("edited"))
        .stderr(predicate::str::contains("is pinned").and(predicate::str::contains("--pinned")));
    // -e and --variables.
    let seed = "20250102000000-seed-people";
    let prod = stdout_of(spawn().current_dir(dir).args([
        "migration",
        "build",
        seed,
        "-e",
        "prod",
        "--pinned",
    ]));
    assert!(
        !prod.contains("INSERT") && prod.contains("'people of the prod environment'"),
        "{prod}"
    );
    std::fs::write(dir.join("other.json"), r#"{"first_person": "Grace"}"#).expect("write");
    let dev = stdout_of(spawn().current_dir(dir).args([
        "migration",
        "build",
        seed,
        "--variables",
        "other.json",
    ]));
    assert!(dev.contains("VALUES ('Grace')"), "{dev}");

    // Refusals: unknown migration (build and pin), --pinned build of an unpinned migration.
    spawn()
        .current_dir(dir)
        .args(["migration", "build", "nope"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("no migration folder")
                .and(predicate::str::contains("migrations/nope")),
        );
    spawn()
        .current_dir(dir)
        .args(["migration", "pin", "20250101000000"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(m1));
    spawn()
        .current_dir(dir)
        .args(["migration", "pin"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--all")); // usage error
    spawn().current_dir(dir).arg("check").assert().success();

    // A new, unpinned migration: check exits 2 (work pending), pin --all pins only it.
    let m4 = dir.join("db/migrations/20250104000000-more");
    std::fs::create_dir_all(&m4).expect("mkdir");
    std::fs::write(m4.join("up.sql"), "{% include \"functions/greet.sql\" %}\n").expect("write");
    spawn()
        .current_dir(dir)
        .args(["migration", "build", "20250104000000-more", "--pinned"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not pinned"));
    spawn()
        .current_dir(dir)
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "spawn migration pin 20250104000000-more",
        ));
    let lock_before =
        std::fs::read_to_string(dir.join(format!("db/migrations/{m1}/lock.toml"))).expect("lock");
    spawn()
        .current_dir(dir)
        .args(["migration", "pin", "--all"])
        .assert()
        .success()
        .stdout(predicate::str::contains("20250104000000-more"));
    assert_eq!(
        std::fs::read_to_string(dir.join(format!("db/migrations/{m1}/lock.toml"))).expect("lock"),
        lock_before
    );
    spawn().current_dir(dir).arg("check").assert().success();

    // psql meta-commands and statements that cannot run in a transaction are errors (exit 1),
    // every problem listed.
    std::fs::write(
        m4.join("up.sql"),
        "\\c other\nCREATE INDEX CONCURRENTLY i ON people (id);\n",
    )
    .expect("write");
    spawn()
        .current_dir(dir)
        .arg("check")
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("\\c")
                .and(predicate::str::contains("CONCURRENTLY"))
                .and(predicate::str::contains("20250104000000-more")),
        );
}

#[test]
fn broken_pins_are_found_by_check_and_pin_verify() {
    let p = project("app");
    let dir = p.path();
    let object = walkdir::WalkDir::new(dir.join("db/pinned"))
        .into_iter()
        .map(|e| e.expect("walk"))
        .find(|e| e.file_type().is_file())
        .expect("an object")
        .into_path();
    std::fs::write(&object, "tampered").expect("write");
    spawn()
        .current_dir(dir)
        .args(["pin", "verify"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("corrupt"));
    spawn()
        .current_dir(dir)
        .arg("check")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("corrupt"));
    std::fs::remove_file(&object).expect("rm");
    spawn()
        .current_dir(dir)
        .arg("check")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("missing"));
    spawn()
        .current_dir(dir)
        .args(["pin", "gc"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Nothing was deleted"));
}

#[test]
fn check_and_pin_verify_report_each_cause_once() {
    let p = project("app");
    let dir = p.path();
    let stderr_of = |args: &[&str], code: i32| {
        let out = spawn().current_dir(dir).args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };

    // One missing object that all three migrations are pinned to: one message naming them.
    let greet = walkdir::WalkDir::new(dir.join("db/pinned"))
        .into_iter()
        .map(|e| e.expect("walk").into_path())
        .find(|f| std::fs::read_to_string(f).is_ok_and(|t| t.contains("RETURN 'hello")))
        .expect("the pinned greet.sql");
    let bytes = std::fs::read(&greet).expect("read");
    std::fs::remove_file(&greet).expect("rm");
    for args in [&["check"][..], &["pin", "verify"]] {
        let stderr = stderr_of(args, 1);
        assert_eq!(
            stderr.matches("is missing").count(),
            1,
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("pinned by 3 migrations: 20250101000000-create-people"),
            "{args:?}: {stderr}"
        );
    }
    std::fs::write(&greet, bytes).expect("restore");

    // A bad variables file, read for every migration: named once.
    std::fs::write(dir.join("db/vars/dev.json"), "{ \"first_person\": ").expect("write");
    let stderr = stderr_of(&["check"], 1);
    assert_eq!(stderr.matches("dev.json").count(), 1, "{stderr}");
    assert!(
        stderr.contains("1 problem(s) in 3 migration(s)"),
        "{stderr}"
    );
    std::fs::write(dir.join("db/vars/dev.json"), r#"{ "first_person": "Ada" }"#).expect("write");

    // Twenty-three unpinned migrations: one message with the count and the one command.
    for m in std::fs::read_dir(dir.join("db/migrations")).expect("ls") {
        std::fs::remove_file(m.expect("m").path().join("lock.toml")).expect("rm lock");
    }
    for i in 0..20 {
        let m = dir.join(format!("db/migrations/2025020100{i:04}-more"));
        std::fs::create_dir_all(&m).expect("mkdir");
        std::fs::write(m.join("up.sql"), "SELECT 1;\n").expect("write");
    }
    let stderr = stderr_of(&["check"], 2);
    assert_eq!(stderr.matches("not pinned").count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            "23 migrations are not pinned (20250101000000-create-people, \
             20250102000000-seed-people, 20250103000000-people-name-index and 20 more); \
             run `spawn migration pin --all`"
        ),
        "{stderr}"
    );
}

#[test]
fn pin_refuses_a_migration_that_does_not_render() {
    let p = project("app");
    let dir = p.path();
    let broken = "20250104000000-broken";
    let up = write_migration(dir, broken, "{% include \"tables/later.sql\" %}\n");
    let objects = |dir: &Path| {
        walkdir::WalkDir::new(dir.join("db/pinned"))
            .into_iter()
            .count()
    };
    let before = objects(dir);
    spawn()
        .current_dir(dir)
        .args(["migration", "pin", "--all"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("tables/later.sql").and(predicate::str::contains(format!(
                "not pinned (nothing was written for them): {broken}"
            ))),
        );
    assert!(!up.with_file_name("lock.toml").exists());
    assert_eq!(objects(dir), before, "nothing is written to pinned/");
    spawn()
        .current_dir(dir)
        .args(["migration", "pin", broken])
        .assert()
        .code(1);
    assert!(!up.with_file_name("lock.toml").exists());
}

#[test]
fn misnamed_migration_folders_are_refused_with_the_rename_to_make() {
    let p = project("app");
    let dir = p.path();
    for folder in ["create-foo", "20250105000000-has space"] {
        write_migration(dir, folder, "SELECT 1;\n");
    }
    let renames =
        || {
            predicate::str::contains(
        "rename `migrations/20250105000000-has space` to `migrations/20250105000000-has-space`",
    )
    .and(predicate::str::contains("rename `migrations/create-foo` to `migrations/"))
        .and(predicate::str::is_match("to `migrations/[0-9]{14}-create-foo`").expect("regex"))
        };
    spawn()
        .current_dir(dir)
        .arg("check")
        .assert()
        .code(1)
        .stderr(renames());
    spawn()
        .current_dir(dir)
        .args(["migration", "pin", "--all"])
        .assert()
        .code(1)
        .stderr(renames());
    assert!(!dir.join("db/migrations/create-foo/lock.toml").exists());
    // apply refuses before connecting (nothing listens on port 1).
    spawn()
        .current_dir(dir)
        .env("SPAWN_TEST_URL", "postgres://127.0.0.1:1/none")
        .args(["migration", "apply", "-y", "--no-pin"])
        .assert()
        .code(1)
        .stderr(renames());
}

#[test]
fn check_warns_of_undefined_variables_and_fails_on_them_when_strict() {
    let p = project("app");
    let dir = p.path();
    let m = "20250104000000-uses-nope";
    write_migration(dir, m, "SELECT {{ variables.nope }} AS x;\n");
    // It renders (as nothing, as in the original spawn), so it can be pinned.
    spawn()
        .current_dir(dir)
        .args(["migration", "pin", m])
        .assert()
        .success();
    let out = spawn().current_dir(dir).arg("check").output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr.matches("`variables.nope` is undefined").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{m}/up.sql:1: ")), "{stderr}");
    spawn()
        .current_dir(dir)
        .args(["check", "--strict"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("`variables.nope` is undefined"));
}

#[test]
fn pin_gc_diff_and_checkout() {
    let p = project("app");
    let dir = p.path();
    spawn()
        .current_dir(dir)
        .args(["pin", "verify"])
        .assert()
        .success();
    // Pin the last migration again after editing the component: two different pins.
    std::fs::write(
        dir.join("db/components/functions/greet.sql"),
        "SELECT 'v2';\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("db/components/functions/new.sql"),
        "SELECT 'new';\n",
    )
    .expect("write");
    let last = "20250103000000-people-name-index";
    spawn()
        .current_dir(dir)
        .args(["migration", "pin", last])
        .assert()
        .success()
        .stderr(predicate::str::contains("re-pinned"));
    let diff = stdout_of(spawn().current_dir(dir).args([
        "pin",
        "diff",
        "20250101000000-create-people",
        last,
    ]));
    assert!(
        diff.contains("--- a/functions/greet.sql") && diff.contains("+++ b/functions/greet.sql"),
        "{diff}"
    );
    assert!(
        diff.contains("+SELECT 'v2';") && diff.contains("-  RETURN 'hello, ' || who;"),
        "{diff}"
    );
    assert!(
        diff.contains("--- /dev/null") && diff.contains("+++ b/functions/new.sql"),
        "{diff}"
    );
    spawn()
        .current_dir(dir)
        .args(["pin", "diff", "20250101000000-create-people", "nope"])
        .assert()
        .code(1);
    // An unpinned migration has no snapshot to diff or check out: the error says how to pin it.
    let unpinned = "20250104000000-unpinned";
    std::fs::create_dir_all(dir.join("db/migrations").join(unpinned)).expect("mkdir");
    std::fs::write(
        dir.join("db/migrations").join(unpinned).join("up.sql"),
        "SELECT 1;\n",
    )
    .expect("write");
    for args in [
        ["pin", "diff", last, unpinned],
        ["pin", "checkout", unpinned, "unpinned-out"],
    ] {
        spawn().current_dir(dir).args(args).assert().code(1).stderr(
            predicate::str::contains("not pinned").and(predicate::str::contains(format!(
                "spawn migration pin {unpinned}"
            ))),
        );
    }
    assert!(!dir.join("unpinned-out").exists());
    std::fs::remove_dir_all(dir.join("db/migrations").join(unpinned)).expect("rm");

    // checkout materialises the old snapshot; refuses a non-empty folder.
    let out = dir.join("old");
    spawn()
        .current_dir(dir)
        .args(["pin", "checkout", "20250101000000-create-people", "old"])
        .assert()
        .success();
    assert!(std::fs::read_to_string(out.join("functions/greet.sql"))
        .expect("file")
        .contains("hello, "));
    spawn()
        .current_dir(dir)
        .args(["pin", "checkout", last, "old"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not empty"));

    // gc: nothing to delete while all three old pins are used; after re-pinning all, the
    // old objects go (dry run first).
    let count = || {
        walkdir::WalkDir::new(dir.join("db/pinned"))
            .into_iter()
            .filter(|e| e.as_ref().is_ok_and(|e| e.file_type().is_file()))
            .count()
    };
    let before = count();
    spawn()
        .current_dir(dir)
        .args(["pin", "gc"])
        .assert()
        .success()
        .stdout(predicate::str::contains("0 unreferenced"));
    for m in ["20250101000000-create-people", "20250102000000-seed-people"] {
        spawn()
            .current_dir(dir)
            .args(["migration", "pin", m])
            .assert()
            .success();
    }
    spawn()
        .current_dir(dir)
        .args(["pin", "gc", "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("would delete 3"));
    assert_eq!(count(), before);
    spawn()
        .current_dir(dir)
        .args(["pin", "gc"])
        .assert()
        .success()
        .stdout(predicate::str::contains("deleted 3"));
    assert_eq!(count(), before - 3);
    spawn()
        .current_dir(dir)
        .args(["pin", "verify"])
        .assert()
        .success();
    spawn().current_dir(dir).arg("check").assert().success();
}

#[test]
fn unknown_target_is_refused_with_the_defined_ones() {
    let p = project("app");
    spawn()
        .current_dir(p.path())
        .args(["--target", "nope", "migration", "status"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("no [targets.nope]")
                .and(predicate::str::contains("app, prod")),
        );
    spawn()
        .current_dir(p.path())
        .env("SPAWN_TARGET", "nope")
        .args(["migration", "status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no [targets.nope]"));
    // ${VAR} unset: the error names the variable and the file.
    spawn()
        .current_dir(p.path())
        .args(["migration", "status"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("SPAWN_TEST_URL").and(predicate::str::contains("spawn.toml")),
        );
}

#[test]
fn help_documents_the_exit_codes() {
    spawn().arg("--help").assert().success().stdout(
        predicate::str::contains("Exit codes")
            .and(predicate::str::contains("130"))
            .and(predicate::str::contains("  2 ")),
    );
    spawn().arg("--version").assert().success();
    // A wrong command line is an error (1), never 2 ("work pending" to a script).
    spawn()
        .args(["migration", "status", "--exit-code", "--bogus"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--bogus"));
    spawn()
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Usage"));
}

#[test]
fn target_spawn_target_and_quiet() {
    let p = project("app");
    let dir = p.path();
    let seed = "20250102000000-seed-people";
    // The default target `app` renders `dev`; --target and SPAWN_TARGET pick `prod`.
    let dev = stdout_of(
        spawn()
            .current_dir(dir)
            .args(["migration", "build", seed, "--pinned"]),
    );
    assert!(dev.contains("INSERT"), "{dev}");
    let prod = stdout_of(spawn().current_dir(dir).args([
        "--target",
        "prod",
        "migration",
        "build",
        seed,
        "--pinned",
    ]));
    assert!(
        !prod.contains("INSERT") && prod.contains("'people of the prod environment'"),
        "{prod}"
    );
    let via_env = stdout_of(spawn().current_dir(dir).env("SPAWN_TARGET", "prod").args([
        "migration",
        "build",
        seed,
        "--pinned",
    ]));
    assert_eq!(via_env, prod);
    // --quiet: nothing but what the command exists to print.
    spawn()
        .current_dir(dir)
        .args(["-q", "check"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    spawn()
        .current_dir(dir)
        .args(["--quiet", "migration", "pin", "--all"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    assert_eq!(
        stdout_of(
            spawn()
                .current_dir(dir)
                .args(["-q", "migration", "build", seed, "--pinned"])
        ),
        dev
    );
}

// ---------------------------------------------------------------- against PostgreSQL

/// `spawn -v migration status --json` in `dir` against `url`, with its caches in `cache`
/// (empty: no cache): the status, and the log on stderr.
fn logged_status(dir: &Path, url: &str, cache: &Path) -> (serde_json::Value, String) {
    let out = spawn()
        .current_dir(dir)
        .env("SPAWN_TEST_URL", url)
        .env("SPAWN_CACHE_DIR", cache)
        .args(["-v", "migration", "status", "--json"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    let status = serde_json::from_slice(&out.stdout).expect("status --json is JSON");
    (status, err)
}

#[tokio::test]
async fn renders_are_kept_between_commands_and_a_changed_input_is_rendered_again() {
    let db = TestDb::new("cli_render_cache").await;
    let p = project("app");
    let dir = p.path();
    let cache = tempfile::tempdir().expect("cache folder");
    let (first, err) = logged_status(dir, &db.url, cache.path());
    assert!(err.contains("reused=0"), "{err}");
    let (again, err) = logged_status(dir, &db.url, cache.path());
    assert!(err.contains("migrations=3 reused=3"), "{err}");
    assert_eq!(again, first);
    // One folder for the project, holding the cache file.
    let folders: Vec<PathBuf> = std::fs::read_dir(cache.path().join("renders"))
        .expect("renders folder")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    let file = folders[0].join("spawn_render_cache.bin");
    assert!(file.is_file(), "{file:?}");

    // An applied migration edited: rendered again, and reported as changed, exactly as
    // without the cache.
    spawn()
        .current_dir(dir)
        .env("SPAWN_TEST_URL", &db.url)
        .env("SPAWN_CACHE_DIR", cache.path())
        .args(["migration", "apply", "--yes"])
        .assert()
        .success();
    let up = dir.join("db/migrations/20250101000000-create-people/up.sql");
    let text = std::fs::read_to_string(&up).expect("up.sql");
    std::fs::write(&up, format!("{text}\n-- edited after it was applied\n")).expect("edit");
    let (edited, err) = logged_status(dir, &db.url, cache.path());
    assert!(err.contains("migrations=3 reused=2"), "{err}");
    let (uncached, err) = logged_status(dir, &db.url, Path::new(""));
    assert!(err.contains("reused=0"), "{err}");
    assert_eq!(edited, uncached);
    assert_ne!(edited["migrations"][0], again["migrations"][0], "{edited}");

    // A damaged cache file is an empty cache: the same status.
    std::fs::write(&file, b"damaged").expect("damage");
    let (damaged, err) = logged_status(dir, &db.url, cache.path());
    assert!(err.contains("reused=0"), "{err}");
    assert_eq!(damaged, uncached);
    let (_, err) = logged_status(dir, &db.url, cache.path());
    assert!(err.contains("reused=3"), "{err}");

    // A folder others can write to is not used (its SQL would be applied).
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&folders[0], std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let (shared, err) = logged_status(dir, &db.url, cache.path());
    assert!(err.contains("not this user's alone"), "{err}");
    assert!(err.contains("reused=0"), "{err}");
    assert_eq!(shared, uncached);
}

#[tokio::test]
async fn apply_status_and_their_refusals() {
    let db = TestDb::new("cli_apply").await;
    let p = project("app");
    let dir = p.path();
    let run = |args: &[&str]| {
        let mut c = spawn();
        c.current_dir(dir).env("SPAWN_TEST_URL", &db.url).args(args);
        c
    };
    // Everything pending: status exits 0, or 2 with --exit-code.
    let v = status_json(dir, &db.url);
    assert_eq!(states(&v), ["Pending", "Pending", "Pending"]);
    run(&["migration", "status"]).assert().success().stdout(
        predicate::str::contains("| Migration")
            .and(predicate::str::contains("Filesystem"))
            .and(predicate::str::contains("Checksum")),
    );
    run(&["migration", "status", "--exit-code"])
        .assert()
        .code(2);
    // No terminal, no --yes: refused, nothing applied.
    run(&["migration", "apply"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--yes"));
    // Dry run: lists, changes nothing (not even the tracking tables).
    run(&["migration", "apply", "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("would apply 3"));
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname = '_spawn'")
            .fetch_one(&db.pool)
            .await
            .expect("q");
    assert_eq!(tables, 0);
    // Up to a migration, then the rest.
    run(&[
        "migration",
        "apply",
        "--yes",
        "20250101000000-create-people",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("applied 1"));
    assert_eq!(
        states(&status_json(dir, &db.url)),
        ["Applied", "Pending", "Pending"]
    );
    run(&["migration", "apply", "nope", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no migration folder"));
    run(&["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied 2"));
    let v = status_json(dir, &db.url);
    assert_eq!(states(&v), ["Applied", "Applied", "Applied"]);
    assert_eq!(v["up_to_date"], true);
    run(&["migration", "status", "--exit-code"])
        .assert()
        .success();
    run(&["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to apply"));
    let name: String = sqlx::query_scalar("SELECT name FROM people")
        .fetch_one(&db.pool)
        .await
        .expect("seeded");
    assert_eq!(name, "Ada O'Hara");

    // An applied migration changes: status says Changed (exit 2), apply refuses.
    let up = dir.join("db/migrations/20250102000000-seed-people/up.sql");
    std::fs::write(
        &up,
        format!(
            "{}\nSELECT 1;\n",
            std::fs::read_to_string(&up).expect("read")
        ),
    )
    .expect("write");
    let v = status_json(dir, &db.url);
    assert_eq!(states(&v)[1], "Changed");
    assert_eq!(v["migrations"][1]["checksum"], "changed");
    run(&["migration", "status", "--exit-code"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("changed since it was applied"));
    run(&["migration", "apply", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("20250102000000-seed-people"));

    // A migration deleted from disk: Missing.
    std::fs::write(
        &up,
        std::fs::read_to_string(
            fixture("app").join("db/migrations/20250102000000-seed-people/up.sql"),
        )
        .expect("r"),
    )
    .expect("w");
    std::fs::remove_dir_all(dir.join("db/migrations/20250103000000-people-name-index"))
        .expect("rm");
    let v = status_json(dir, &db.url);
    assert_eq!(states(&v), ["Applied", "Applied", "Missing"]);
    assert_eq!(v["migrations"][2]["filesystem"], false);
}

#[tokio::test]
async fn unpinned_migrations_need_no_pin_to_apply() {
    let db = TestDb::new("cli_nopin").await;
    let p = project("app");
    let dir = p.path();
    for m in std::fs::read_dir(dir.join("db/migrations")).expect("ls") {
        std::fs::remove_file(m.expect("m").path().join("lock.toml")).expect("rm lock");
    }
    spawn()
        .current_dir(dir)
        .env("SPAWN_TEST_URL", &db.url)
        .args(["migration", "apply", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not pinned").and(predicate::str::contains("--no-pin")));
    spawn()
        .current_dir(dir)
        .env("SPAWN_TEST_URL", &db.url)
        .args(["migration", "apply", "--yes", "--no-pin"])
        .assert()
        .success();
    let v = status_json(dir, &db.url);
    assert_eq!(v["migrations"][0]["pinned"], false);
    assert_eq!(states(&v), ["Applied", "Applied", "Applied"]);
}

#[tokio::test]
async fn adopt_records_without_running_and_never_prompts_without_a_terminal() {
    let db = TestDb::new("cli_adopt").await;
    let p = project("app");
    let dir = p.path();
    let run = |args: &[&str]| {
        let mut c = spawn();
        c.current_dir(dir).env("SPAWN_TEST_URL", &db.url).args(args);
        c
    };
    run(&["migration", "adopt", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--description"));
    run(&["migration", "adopt", "--description", "by hand"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--yes"));
    run(&[
        "migration",
        "adopt",
        "20250101000000-create-people",
        "--description",
        "created by hand",
        "--yes",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("adopted 1"));
    let v = status_json(dir, &db.url);
    assert_eq!(states(&v), ["Adopted", "Pending", "Pending"]);
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('public.people') IS NOT NULL")
        .fetch_one(&db.pool)
        .await
        .expect("q");
    assert!(!exists, "adopt must not run the migration");
    let description: String = sqlx::query_scalar(
        "SELECT h.description FROM _spawn.migration_history h JOIN _spawn.migration m ON m.migration_id = h.migration_id_migration \
         WHERE m.name = '20250101000000-create-people' AND h.activity_id_activity = 'ADOPT'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("adopt row");
    assert_eq!(description, "created by hand");
}

#[tokio::test]
async fn resolve_refuses_a_statement_that_was_not_started() {
    let db = TestDb::new("cli_resolve").await;
    let p = project("app");
    let dir = p.path();
    let run = |args: &[&str]| {
        let mut c = spawn();
        c.current_dir(dir).env("SPAWN_TEST_URL", &db.url).args(args);
        c
    };
    run(&["migration", "apply", "--yes"]).assert().success();
    run(&[
        "migration",
        "resolve",
        "20250101000000-create-people",
        "--statement",
        "1",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains("is not recorded as started"));
    assert_eq!(
        states(&status_json(dir, &db.url)),
        ["Applied", "Applied", "Applied"]
    );
}

#[tokio::test]
async fn a_password_never_appears_in_any_output() {
    let db = TestDb::new("cli_password").await;
    let secret = "Sup3r-s3cret_pw";
    let p = project("app");
    let dir = p.path();
    // Trust authentication ignores the password: the commands succeed, with -vv logging.
    let url = db.url.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{secret}@"),
        1,
    );
    assert!(
        url.contains(secret),
        "the test server URL has an unexpected form: {}",
        db.url
    );
    for args in [
        vec!["-vv", "migration", "status"],
        vec!["-vv", "migration", "apply", "--yes"],
        vec!["migration", "status", "--json"],
        vec!["migration", "apply", "--dry-run"],
    ] {
        let out = spawn()
            .current_dir(dir)
            .env("SPAWN_TEST_URL", &url)
            .args(&args)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for text in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(text);
            assert!(
                !text.contains(secret),
                "{args:?} printed the password:\n{text}"
            );
        }
    }
    // A server that is not there: the error names the URL without the password.
    let closed = format!("postgres://app:{secret}@127.0.0.1:1/app");
    let out = spawn()
        .current_dir(dir)
        .env("SPAWN_TEST_URL", &closed)
        .args(["-vv", "migration", "status"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("postgres://app@127.0.0.1:1/app") && !stderr.contains(secret),
        "{stderr}"
    );
    // Percent-encoded and in a malformed URL.
    let encoded = "p%40ss%2Fw0rd";
    let bad = format!("postgres://app:{encoded}@127.0.0.1:1/app?sslmode=bogus");
    let out = spawn()
        .current_dir(dir)
        .env("SPAWN_TEST_URL", &bad)
        .args(["migration", "status"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains(encoded) && !stderr.contains("p@ss/w0rd"),
        "{stderr}"
    );
    // A URL too malformed to parse (a bad port): the error quotes it, without the password.
    let malformed = format!("postgres://app:{secret}@127.0.0.1:notaport/app");
    for args in [
        vec!["migration", "status"],
        vec!["diff", &malformed, &malformed],
    ] {
        let out = spawn()
            .current_dir(dir)
            .env("SPAWN_TEST_URL", &malformed)
            .args(&args)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("not a valid postgres URL") && !stderr.contains(secret),
            "{args:?}: {stderr}"
        );
    }
}

/// A migration that fails: apply exits 1 naming the migration, its file and what to run
/// next; status shows it Failed (exit 2 with --exit-code); the one before it stays applied.
#[tokio::test]
async fn a_failing_migration_names_its_file_and_shows_as_failed() {
    let db = TestDb::new("cli_failed").await;
    let p = project("app");
    let dir = p.path();
    let bad = "20250104000000-divide-by-zero";
    let up = dir.join("db/migrations").join(bad).join("up.sql");
    std::fs::create_dir_all(up.parent().expect("folder")).expect("mkdir");
    std::fs::write(&up, "CREATE TABLE never_created (id int);\nSELECT 1/0;\n").expect("write");
    let run = |args: &[&str]| {
        let mut c = spawn();
        c.current_dir(dir).env("SPAWN_TEST_URL", &db.url).args(args);
        c
    };
    run(&["migration", "apply", "--yes", "--no-pin"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(format!("migration `{bad}` failed"))
                .and(predicate::str::contains("division by zero"))
                .and(predicate::str::contains(format!("{bad}/up.sql")))
                .and(predicate::str::contains("spawn migration apply"))
                // The failed transaction is rolled back once: no second ROLLBACK for the server to
                // warn about.
                .and(predicate::str::contains("no transaction in progress").not())
                // Said once, as the error: the migrator's log of it needs -v.
                .and(predicate::str::contains("WARN").not()),
        );
    run(&["-v", "migration", "apply", "--yes", "--no-pin"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("WARN").and(predicate::str::contains("migration failed")));
    let v = status_json(dir, &db.url);
    assert_eq!(states(&v), ["Applied", "Applied", "Applied", "Failed"]);
    run(&["migration", "status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Failed"));
    run(&["migration", "status", "--exit-code"])
        .assert()
        .code(2);
    let created: bool =
        sqlx::query_scalar("SELECT to_regclass('public.never_created') IS NOT NULL")
            .fetch_one(&db.pool)
            .await
            .expect("q");
    assert!(!created, "the failed migration must leave nothing behind");
    // Fixed: the failed migration is retried and applies.
    std::fs::write(&up, "CREATE TABLE created_now (id int);\n").expect("write");
    run(&["migration", "apply", "--yes", "--no-pin"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied 1"));
    assert_eq!(
        states(&status_json(dir, &db.url)),
        ["Applied", "Applied", "Applied", "Applied"]
    );
}

/// Libpq variables when the target has no url; original psql-command targets.
#[tokio::test]
async fn libpq_variables_and_original_psql_command_targets() {
    let db = TestDb::new("cli_libpq").await;
    let options = spawn_tests::server().options(&db.name);
    let (host, port, user) = (
        options.get_host().to_owned(),
        options.get_port().to_string(),
        options.get_username().to_owned(),
    );

    // The app fixture with a url-less target: PGHOST & co.
    let p = project("app");
    let toml = std::fs::read_to_string(p.path().join("spawn.toml"))
        .expect("read")
        .replace("url = \"${SPAWN_TEST_URL}\"\n", "");
    std::fs::write(p.path().join("spawn.toml"), toml).expect("write");
    spawn()
        .current_dir(p.path())
        .envs([
            ("PGHOST", &host),
            ("PGPORT", &port),
            ("PGUSER", &user),
            ("PGDATABASE", &db.name),
        ])
        .args(["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied 3"));

    // An original-style project: host, port, user and database from the psql arguments.
    let db2 = TestDb::new("cli_psql").await;
    let p = project("original");
    let toml = std::fs::read_to_string(p.path().join("spawn.toml")).expect("read");
    let toml = toml
        .replace(
            r#"["docker", "exec", "-i", "postgres-db", "psql", "-U", "postgres", "postgres"]"#,
            &format!(
                r#"["psql", "-h", "{host}", "-p", "{port}", "-U", "{user}", "{}"]"#,
                db2.name
            ),
        )
        .replace(
            "spawn_database = \"postgres\"",
            &format!("spawn_database = \"{}\"", db2.name),
        );
    std::fs::write(p.path().join("spawn.toml"), &toml).expect("write");
    spawn()
        .current_dir(p.path())
        .args(["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied 3"));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM variety")
        .fetch_one(&db2.pool)
        .await
        .expect("seeded");
    assert_eq!(count, 3);
    spawn()
        .current_dir(p.path())
        .args(["migration", "status", "--exit-code"])
        .assert()
        .success();
    // A spawn_database other than the connection's database holds the tracking tables; one
    // that does not exist is explained.
    std::fs::write(
        p.path().join("spawn.toml"),
        toml.replace(
            &format!("spawn_database = \"{}\"", db2.name),
            "spawn_database = \"elsewhere\"",
        ),
    )
    .expect("w");
    spawn()
        .current_dir(p.path())
        .args(["migration", "status"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("spawn_database = \"elsewhere\"")
                .and(predicate::str::contains("no database `elsewhere`")),
        );
}

/// A database migrated by the CLI is up to date for an app embedding the same migrations,
/// and the other way round.
#[tokio::test]
async fn the_cli_and_an_embedded_app_agree() {
    let p = project("app");
    let dir = p.path();

    let by_cli = TestDb::new("cli_then_app").await;
    spawn()
        .current_dir(dir)
        .env("SPAWN_TEST_URL", &by_cli.url)
        .args(["migration", "apply", "--yes"])
        .assert()
        .success();
    let statuses = APP_MIGRATIONS
        .status(&by_cli.pool)
        .await
        .expect("app status");
    assert!(
        statuses
            .iter()
            .all(|s| s.state == spawn_runtime::State::Applied),
        "{statuses:?}"
    );
    let report = APP_MIGRATIONS.run(&by_cli.pool).await.expect("app run");
    assert!(report.is_noop() && report.already_applied == 3, "{report}");

    let by_app = TestDb::new("app_then_cli").await;
    let report = APP_MIGRATIONS.run(&by_app.pool).await.expect("app run");
    assert_eq!(report.applied.len(), 3);
    spawn()
        .current_dir(dir)
        .env("SPAWN_TEST_URL", &by_app.url)
        .args(["migration", "status", "--exit-code"])
        .assert()
        .success();
    let v = status_json(dir, &by_app.url);
    assert_eq!(states(&v), ["Applied", "Applied", "Applied"]);
    assert!(v["migrations"]
        .as_array()
        .expect("a")
        .iter()
        .all(|m| m["checksum"] == "ok"));
    spawn()
        .current_dir(dir)
        .env("SPAWN_TEST_URL", &by_app.url)
        .args(["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to apply"));
}

/// Ctrl-C: the migration in flight commits, the next one does not start (or is rolled
/// back), exit 130 with what was applied.
#[tokio::test]
async fn ctrl_c_stops_after_the_migration_in_flight() {
    let db = TestDb::new("cli_ctrl_c").await;
    let (dir, mut gate) = gated_project(&db).await;
    let mut child = apply_in_background(dir.path(), &db.url);
    wait_at_the_gate(&db, &mut child).await;
    let pid = child.id() as i32;
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let stderr = child.stderr.take().expect("stderr");
    let (seen, rest) = tokio::task::spawn_blocking(move || read_until_stopping(stderr))
        .await
        .expect("join");
    // The run has taken the Ctrl-C: let the migration in flight finish.
    sqlx::raw_sql("COMMIT")
        .execute(&mut *gate)
        .await
        .expect("open the gate");
    let (status, text) = tokio::task::spawn_blocking(move || {
        let text = seen + &rest();
        (child.wait().expect("wait"), text)
    })
    .await
    .expect("join");
    assert_eq!(status.code(), Some(130), "{text}");
    assert!(
        text.contains("interrupted: applied 2 of 3")
            && text.contains("not applied: 20250103000000-last"),
        "{text}"
    );
    let v = status_json(dir.path(), &db.url);
    assert_eq!(states(&v), ["Applied", "Applied", "Pending"]);
    let t3: bool = sqlx::query_scalar("SELECT to_regclass('public.t3') IS NOT NULL")
        .fetch_one(&db.pool)
        .await
        .expect("q");
    assert!(!t3, "the migration after the interrupt must not start");
    // The rest applies.
    spawn()
        .current_dir(dir.path())
        .env("SPAWN_TEST_URL", &db.url)
        .args(["migration", "apply", "--yes", "--no-pin"])
        .assert()
        .success();
}

/// A project of three migrations whose second waits for the table `gate`, which the
/// returned connection holds locked until the test commits it: the test decides when the
/// migration in flight can finish, without timing.
async fn gated_project(
    db: &TestDb,
) -> (
    tempfile::TempDir,
    sqlx::pool::PoolConnection<sqlx::Postgres>,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("spawn.toml"),
        "[targets.t]\nurl = \"${SPAWN_TEST_URL}\"\n",
    )
    .expect("toml");
    for (name, sql) in [
        ("20250101000000-quick", "CREATE TABLE t1 (id int);\n"),
        (
            "20250102000000-gated",
            "CREATE TABLE t2 (id int);\nLOCK TABLE gate IN ACCESS EXCLUSIVE MODE;\n",
        ),
        ("20250103000000-last", "CREATE TABLE t3 (id int);\n"),
    ] {
        let m = dir.path().join("migrations").join(name);
        std::fs::create_dir_all(&m).expect("mkdir");
        std::fs::write(m.join("up.sql"), sql).expect("write");
    }
    sqlx::raw_sql("CREATE TABLE gate (id int)")
        .execute(&db.pool)
        .await
        .expect("gate");
    let mut gate = db.pool.acquire().await.expect("conn");
    sqlx::raw_sql("BEGIN; LOCK TABLE gate IN ACCESS SHARE MODE")
        .execute(&mut *gate)
        .await
        .expect("hold the gate");
    (dir, gate)
}

/// `spawn migration apply` of the project in `dir`, with its stderr piped.
fn apply_in_background(dir: &Path, url: &str) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("spawn"))
        .current_dir(dir)
        .env("SPAWN_TEST_URL", url)
        .env("NO_COLOR", "1")
        .args(["migration", "apply", "--yes", "--no-pin"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// Waits until the gated migration waits for the gate (so the first one committed), by
/// asking the server; fails if spawn ends first or nothing happens within a minute.
async fn wait_at_the_gate(db: &TestDb, child: &mut std::process::Child) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let waiting: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%LOCK TABLE gate%')",
        )
        .fetch_one(&db.pool)
        .await
        .expect("q");
        if waiting {
            return;
        }
        assert!(
            child.try_wait().expect("try_wait").is_none(),
            "spawn ended early"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the gated migration never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads spawn's stderr up to the line saying the first Ctrl-C was taken. Returns what was
/// read, and a reader of the rest (to call once the run can end).
fn read_until_stopping(stderr: std::process::ChildStderr) -> (String, impl FnOnce() -> String) {
    use std::io::BufRead;
    let mut text = String::new();
    let mut lines = std::io::BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        let line = line.expect("read");
        text.push_str(&line);
        text.push('\n');
        if line.contains("Ctrl-C: stopping after the migration in flight commits") {
            break;
        }
    }
    let rest = move || {
        let mut rest = String::new();
        for line in lines {
            rest.push_str(&line.expect("read"));
            rest.push('\n');
        }
        rest
    };
    (text, rest)
}

/// `spawn diff` (spawn-schema) between two databases, by URL and by target name.
#[tokio::test]
async fn diff_between_two_databases() {
    let empty = TestDb::new("cli_diff_a").await;
    let migrated = TestDb::new("cli_diff_b").await;
    APP_MIGRATIONS.run(&migrated.pool).await.expect("migrate");
    let p = project("app");
    let out = spawn()
        .current_dir(p.path())
        .env("SPAWN_TEST_URL", &migrated.url)
        .args(["diff", &empty.url, "app"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sql = String::from_utf8_lossy(&out.stdout);
    assert!(sql.contains("people"), "{sql}");
    spawn()
        .current_dir(p.path())
        .args(["diff", &migrated.url, &migrated.url])
        .assert()
        .success();
}

// ---------------------------------------------------------------- spawn_database

/// The app fixture with `spawn_database` set in its default target.
fn project_with_spawn_database(spawn_database: &str) -> tempfile::TempDir {
    let p = project("app");
    let path = p.path().join("spawn.toml");
    let toml = std::fs::read_to_string(&path).expect("read");
    let toml = toml.replacen(
        "url = \"${SPAWN_TEST_URL}\"\n",
        &format!("url = \"${{SPAWN_TEST_URL}}\"\nspawn_database = \"{spawn_database}\"\n"),
        1,
    );
    std::fs::write(&path, toml).expect("write");
    p
}

async fn has_schema(pool: &sqlx::PgPool, schema: &str) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
        .bind(schema)
        .fetch_one(pool)
        .await
        .expect("q")
}

/// `spawn_database` naming another database: the migrations run in the target, the tracking
/// tables live in spawn_database; apply, status and adopt all work there.
#[tokio::test]
async fn spawn_database_keeps_the_tracking_tables_in_another_database() {
    let target = TestDb::new("cli_split_target").await;
    let tracking = TestDb::new("cli_split_tracking").await;
    let p = project_with_spawn_database(&tracking.name);
    let dir = p.path();
    let run = |args: &[&str]| {
        let mut c = spawn();
        c.current_dir(dir)
            .env("SPAWN_TEST_URL", &target.url)
            .args(args);
        c
    };
    let v = status_json(dir, &target.url);
    assert_eq!(states(&v), ["Pending", "Pending", "Pending"]);
    assert_eq!(v["tracking_database"], tracking.name.as_str());
    run(&[
        "migration",
        "apply",
        "--yes",
        "20250101000000-create-people",
    ])
    .assert()
    .success()
    .stdout(
        predicate::str::contains("applied 1").and(predicate::str::contains(format!(
            "tracking tables in database `{}`",
            tracking.name
        ))),
    );
    run(&[
        "migration",
        "adopt",
        "20250102000000-seed-people",
        "--description",
        "seeded by hand",
        "--yes",
    ])
    .assert()
    .success();
    run(&["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied 1"));
    assert_eq!(
        states(&status_json(dir, &target.url)),
        ["Applied", "Adopted", "Applied"]
    );
    run(&["migration", "status"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "tracking tables in database {}",
            tracking.name
        )));
    run(&["migration", "status", "--exit-code"])
        .assert()
        .success();
    // Where everything is: the schema in the target (no seed: adopted), the history in spawn_database only.
    let people: i64 = sqlx::query_scalar("SELECT count(*) FROM people")
        .fetch_one(&target.pool)
        .await
        .expect("people");
    assert_eq!(people, 0, "adopt did not run the seed");
    assert!(has_schema(&tracking.pool, "_spawn").await);
    assert!(
        !has_schema(&target.pool, "_spawn").await,
        "no tracking tables in the target"
    );
    let description: String = sqlx::query_scalar(
        "SELECT h.description FROM _spawn.migration_history h JOIN _spawn.migration m ON m.migration_id = h.migration_id_migration \
         WHERE m.name = '20250102000000-seed-people'",
    )
    .fetch_one(&tracking.pool)
    .await
    .expect("adopt row");
    assert_eq!(description, "seeded by hand");
    run(&["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to apply"));
}

/// A run interrupted between the target's COMMIT and its SUCCESS row (simulated by hand): the
/// status already shows it applied, and the next apply records it without running it again.
#[tokio::test]
async fn spawn_database_an_interrupted_commit_is_recovered() {
    let target = TestDb::new("cli_split_recover_target").await;
    let tracking = TestDb::new("cli_split_recover_tracking").await;
    let p = project_with_spawn_database(&tracking.name);
    let dir = p.path();
    spawn()
        .current_dir(dir)
        .env("SPAWN_TEST_URL", &target.url)
        .args([
            "migration",
            "apply",
            "--yes",
            "20250101000000-create-people",
        ])
        .assert()
        .success();
    // The seed, exactly as the CLI renders it (the embedded app agrees with the CLI).
    let ms = APP_MIGRATIONS.for_environment("dev").expect("dev renders");
    let seed = &ms[1];
    assert_eq!(seed.name, "20250102000000-seed-people");
    let mut conn = target.pool.acquire().await.expect("conn");
    sqlx::raw_sql("BEGIN")
        .execute(&mut *conn)
        .await
        .expect("begin");
    sqlx::raw_sql(seed.body_sql())
        .execute(&mut *conn)
        .await
        .expect("the seed");
    let xid: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text")
        .fetch_one(&mut *conn)
        .await
        .expect("xid");
    sqlx::query(
        "WITH m AS (INSERT INTO _spawn.migration (name, namespace) VALUES ($1, 'default') \
         ON CONFLICT (name, namespace) DO UPDATE SET name = EXCLUDED.name RETURNING migration_id) \
         INSERT INTO _spawn.migration_history (migration_id_migration, activity_id_activity, created_by, description, \
         status_note, status_id_status, checksum, execution_time) \
         SELECT migration_id, 'APPLY', 'test', '', $2, 'ATTEMPTED', $3, '0 seconds' FROM m",
    )
    .bind(&*seed.name)
    .bind(format!(r#"{{"target_xid":"{xid}","target_database":"{}"}}"#, target.name))
    .bind(seed.sha256.to_vec())
    .execute(&tracking.pool)
    .await
    .expect("ATTEMPTED row");
    sqlx::raw_sql("COMMIT")
        .execute(&mut *conn)
        .await
        .expect("commit");
    drop(conn);

    assert_eq!(
        states(&status_json(dir, &target.url)),
        ["Applied", "Applied", "Pending"]
    );
    let apply = |args: &[&str]| {
        let mut c = spawn();
        c.current_dir(dir)
            .env("SPAWN_TEST_URL", &target.url)
            .args(["migration", "apply"])
            .args(args);
        c
    };
    apply(&["--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("would apply 1"))
        .stderr(predicate::str::contains(
            "20250102000000-seed-people committed in an interrupted run",
        ));
    // Up to the seed there is nothing to apply, yet the run records the seed.
    apply(&["--yes", "20250102000000-seed-people"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied 0"))
        .stderr(predicate::str::contains(
            "20250102000000-seed-people had committed in an interrupted run",
        ));
    let statuses: Vec<String> = sqlx::query_scalar(
        "SELECT h.status_id_status FROM _spawn.migration_history h JOIN _spawn.migration m ON m.migration_id = h.migration_id_migration \
         WHERE m.name = '20250102000000-seed-people' ORDER BY h.migration_history_id",
    )
    .fetch_all(&tracking.pool)
    .await
    .expect("rows");
    assert_eq!(statuses, ["ATTEMPTED", "SUCCESS"]);
    apply(&["--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied 1"));
    let people: i64 = sqlx::query_scalar("SELECT count(*) FROM people")
        .fetch_one(&target.pool)
        .await
        .expect("people");
    assert_eq!(people, 1, "the seed ran once");
    let v = status_json(dir, &target.url);
    assert_eq!(states(&v), ["Applied", "Applied", "Applied"]);
    assert_eq!(v["migrations"][1]["checksum"], "ok");
}

/// A spawn_database that does not exist: a clear error naming spawn.toml, the target and the
/// fix; nothing is applied or created anywhere.
#[tokio::test]
async fn spawn_database_that_does_not_exist_is_explained() {
    let target = TestDb::new("cli_split_missing").await;
    let p = project_with_spawn_database("spawn_tracking_nowhere");
    for args in [
        vec!["migration", "apply", "--yes"],
        vec!["migration", "status"],
        vec!["migration", "adopt", "--description", "x", "--yes"],
    ] {
        let out = spawn()
            .current_dir(p.path())
            .env("SPAWN_TEST_URL", &target.url)
            .args(&args)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for needle in [
            "spawn.toml",
            "[targets.app]",
            "spawn_database = \"spawn_tracking_nowhere\"",
            "no database `spawn_tracking_nowhere`",
            &format!("the migrations run in `{}`", target.name),
            "Nothing was applied",
            "CREATE DATABASE \"spawn_tracking_nowhere\"",
            "remove spawn_database",
        ] {
            assert!(
                stderr.contains(needle),
                "{args:?}: missing {needle:?} in {stderr}"
            );
        }
    }
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
    )
    .fetch_one(&target.pool)
    .await
    .expect("q");
    assert_eq!(tables, 0, "nothing was created in the target");
}

/// A second Ctrl-C drops the run: the migration in flight (blocked here on a lock the test
/// holds) rolls back; exit 130 with what was applied; the next run applies the rest.
#[tokio::test]
async fn a_second_ctrl_c_rolls_back_the_migration_in_flight() {
    let db = TestDb::new("cli_ctrl_c_twice").await;
    let (dir, mut gate) = gated_project(&db).await;
    let mut child = apply_in_background(dir.path(), &db.url);
    wait_at_the_gate(&db, &mut child).await;
    let pid = child.id() as i32;
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let stderr = child.stderr.take().expect("stderr");
    let (status, text) = tokio::task::spawn_blocking(move || {
        let (seen, rest) = read_until_stopping(stderr);
        // The first Ctrl-C was taken (the run is stopping at the next boundary): the second.
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGINT) };
        let text = seen + &rest();
        (child.wait().expect("wait"), text)
    })
    .await
    .expect("join");
    assert_eq!(status.code(), Some(130), "{text}");
    assert!(
        text.contains("stopping now: the migration in flight is rolled back"),
        "{text}"
    );
    assert!(
        text.contains("interrupted: applied 1 of 3")
            && text.contains("not applied: 20250102000000-gated, 20250103000000-last"),
        "{text}"
    );
    assert_eq!(
        states(&status_json(dir.path(), &db.url)),
        ["Applied", "Pending", "Pending"]
    );
    let t2: bool = sqlx::query_scalar("SELECT to_regclass('public.t2') IS NOT NULL")
        .fetch_one(&db.pool)
        .await
        .expect("q");
    assert!(!t2, "the migration in flight was rolled back");
    sqlx::raw_sql("COMMIT")
        .execute(&mut *gate)
        .await
        .expect("open the gate");
    spawn()
        .current_dir(dir.path())
        .env("SPAWN_TEST_URL", &db.url)
        .args(["migration", "apply", "--yes", "--no-pin"])
        .assert()
        .success();
    assert_eq!(
        states(&status_json(dir.path(), &db.url)),
        ["Applied", "Applied", "Applied"]
    );
}
