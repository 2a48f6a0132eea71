//! A repeatable migration (`-- spawn:repeatable`) from the command line: rendered from the
//! working tree's components (never pinned), applied after the versioned migrations, shown
//! as "Changed, will re-run" once a component it includes changes, and applied again by the
//! next `apply`. One that fails leaves the database as it was.

use std::path::Path;

use predicates::prelude::*;
use spawn_tests::TestDb;

mod common;
use common::{project, spawn};

const VIEWS: &str = "20250109000000-views";

fn run(dir: &Path, db: &TestDb, args: &[&str]) -> assert_cmd::Command {
    let mut c = spawn();
    c.current_dir(dir).env("SPAWN_TEST_URL", &db.url).args(args);
    c
}

fn statuses(dir: &Path, db: &TestDb) -> Vec<String> {
    let out = run(dir, db, &["migration", "status", "--json"])
        .output()
        .expect("status");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| m["status"].as_str().expect("status").to_owned())
        .collect()
}

async fn greeting(db: &TestDb) -> String {
    sqlx::query_scalar("SELECT greeting FROM greetings")
        .fetch_one(&db.pool)
        .await
        .expect("the view")
}

#[tokio::test]
async fn a_repeatable_migration_runs_again_when_its_components_change() {
    let db = TestDb::new("cli_repeatable").await;
    let p = project("app");
    let dir = p.path();
    let component = dir.join("db/components/views/greetings.sql");
    std::fs::create_dir_all(component.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &component,
        "CREATE OR REPLACE VIEW greetings AS SELECT greet('world') AS greeting;\n",
    )
    .expect("write");
    let folder = dir.join(format!("db/migrations/{VIEWS}"));
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(
        folder.join("up.sql"),
        "-- spawn:repeatable\n{% include \"views/greetings.sql\" %}\n",
    )
    .expect("write");
    // Never pinned, and no pin is required to apply it.
    run(dir, &db, &["migration", "pin", "--all"])
        .assert()
        .success();
    assert!(!folder.join("lock.toml").exists());
    run(dir, &db, &["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied 4 migration(s)"));
    assert_eq!(greeting(&db).await, "hello, world");
    assert_eq!(
        statuses(dir, &db),
        ["Applied", "Applied", "Applied", "Applied"]
    );

    // The component changes: status says it will re-run, and apply re-runs it alone.
    std::fs::write(
        &component,
        "CREATE OR REPLACE VIEW greetings AS SELECT greet('orchard') AS greeting;\n",
    )
    .expect("write");
    assert_eq!(
        statuses(dir, &db),
        ["Applied", "Applied", "Applied", "Changed, will re-run"]
    );
    run(dir, &db, &["migration", "status", "--exit-code"])
        .assert()
        .code(2);
    run(dir, &db, &["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("applied 1 migration(s)").and(predicate::str::contains(VIEWS)),
        );
    assert_eq!(greeting(&db).await, "hello, orchard");

    // A version that fails leaves the view as it was.
    std::fs::write(
        &component,
        "CREATE OR REPLACE VIEW greetings AS SELECT greet('x') AS greeting;\nSELECT nope();\n",
    )
    .expect("write");
    run(dir, &db, &["migration", "apply", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "migration `{VIEWS}` failed at statement 2 of 2 (line 3 of the rendered SQL, from \
             component `views/greetings.sql`): SELECT nope()"
        )));
    assert_eq!(greeting(&db).await, "hello, orchard");
    assert_eq!(statuses(dir, &db)[3], "Failed");
}
