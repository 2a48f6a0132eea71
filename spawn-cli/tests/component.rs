//! `spawn component status` and `spawn check --strict` on component changes: a component in
//! a pinned migration is "in migration"; edited afterwards it is "changed, not in any
//! migration" (and the objects of the target that use what it defines are named) until a new
//! migration includes it; a file no migration reads is "not included by any migration".

use std::path::Path;

use predicates::prelude::*;
use spawn_tests::TestDb;

mod common;
use common::{project, spawn};

/// `spawn <args>` in `dir` against `db`.
fn run(dir: &Path, db: &TestDb, args: &[&str]) -> assert_cmd::Command {
    let mut c = spawn();
    c.current_dir(dir).env("SPAWN_TEST_URL", &db.url).args(args);
    c
}

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// The `(path, state, migration)` rows of `spawn component status --json`.
fn rows(dir: &Path, db: &TestDb, extra: &[&str]) -> Vec<(String, String, Option<String>)> {
    let mut args = vec!["component", "status", "--json"];
    args.extend(extra);
    let output = run(dir, db, &args).output().expect("run");
    assert!(output.status.success(), "{output:?}");
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    value["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| {
            (
                c["path"].as_str().expect("path").to_owned(),
                c["state"].as_str().expect("state").to_owned(),
                c["migration"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

const CREATE_PEOPLE: &str = "20250101000000-create-people";

#[tokio::test]
async fn an_edited_component_is_changed_until_a_migration_includes_it() {
    let db = TestDb::new("component_status").await;
    let p = project("app");
    let root = p.path();
    // A view using the function, in a migration of its own.
    write(
        root,
        "db/migrations/20250104000000-greetings/up.sql",
        "CREATE VIEW greetings AS SELECT greet(name) AS greeting FROM people;\n",
    );
    write(
        root,
        "db/components/views/unused.sql",
        "CREATE VIEW unused AS SELECT 1;\n",
    );
    run(root, &db, &["migration", "pin", "20250104000000-greetings"])
        .assert()
        .success();
    run(root, &db, &["migration", "apply", "--yes"])
        .assert()
        .success();
    assert_eq!(
        rows(root, &db, &[]),
        vec![
            (
                "functions/greet.sql".into(),
                "in_migration".into(),
                Some(CREATE_PEOPLE.into())
            ),
            ("views/unused.sql".into(), "not_included".into(), None),
        ]
    );
    run(root, &db, &["check", "--strict"]).assert().success();

    // Edited after its migration was pinned.
    let greet = root.join("db/components/functions/greet.sql");
    let edited = std::fs::read_to_string(&greet)
        .expect("read")
        .replace("hello, ", "hi, ");
    std::fs::write(&greet, &edited).expect("edit");
    assert_eq!(
        rows(root, &db, &[])[0],
        (
            "functions/greet.sql".into(),
            "changed".into(),
            Some(CREATE_PEOPLE.into())
        )
    );
    run(root, &db, &["component", "status", "--exit-code"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("changed, not in any migration"))
        .stdout(predicate::str::contains(
            "view public.greetings uses function public.greet(text), which you changed \
             (functions/greet.sql): re-create it in the same migration",
        ));
    let warning = format!(
        "component functions/greet.sql changed after {CREATE_PEOPLE}, the newest migration that \
         includes it, was pinned: the change is in no migration"
    );
    run(root, &db, &["check"])
        .assert()
        .success()
        .stderr(predicate::str::contains(&warning));
    run(root, &db, &["check", "--strict"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(&warning));

    // A new (unpinned) migration that includes it renders its current content.
    write(
        root,
        "db/migrations/20250105000000-regreet/up.sql",
        "{% include \"functions/greet.sql\" %}\n",
    );
    assert_eq!(
        rows(root, &db, &[])[0],
        (
            "functions/greet.sql".into(),
            "in_migration".into(),
            Some("20250105000000-regreet".into())
        )
    );
    run(root, &db, &["component", "status", "--exit-code"])
        .assert()
        .success();
}

#[tokio::test]
async fn status_without_a_reachable_target_still_reports_and_says_what_it_skipped() {
    let db = TestDb::new("component_offline").await;
    let p = project("app");
    let root = p.path();
    let greet = root.join("db/components/functions/greet.sql");
    let edited = std::fs::read_to_string(&greet)
        .expect("read")
        .replace("hello, ", "hi, ");
    std::fs::write(&greet, edited).expect("edit");
    let mut command = spawn();
    command
        .current_dir(root)
        .env(
            "SPAWN_TEST_URL",
            "postgres://nobody@127.0.0.1:1/none?connect_timeout=2",
        )
        .args(["component", "status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("changed, not in any migration"))
        .stderr(predicate::str::contains(
            "what uses the changed components was not checked",
        ));
    // --no-dependents does not try.
    run(root, &db, &["component", "status", "--no-dependents"])
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
}

#[tokio::test]
async fn a_migration_that_does_not_render_fails_the_status_naming_it() {
    let db = TestDb::new("component_broken").await;
    let p = project("app");
    let root = p.path();
    write(
        root,
        "db/migrations/20250104000000-broken/up.sql",
        "{% include \"functions/nope.sql\" %}\n",
    );
    run(root, &db, &["component", "status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("20250104000000-broken"))
        .stderr(predicate::str::contains("functions/nope.sql"));
    // Nothing was applied or recorded.
    let tracked: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('_spawn.migration')::text")
            .fetch_one(&db.pool)
            .await
            .expect("query");
    assert_eq!(tracked, None);
}
